/* mutator.c: a structure-aware libFuzzer mutator for ONNX models (fuzz_prepare_struct). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx.pb-c.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* Byte flips rarely get past protobuf's framing to the fields the passes
 * read; this edits the parsed ModelProto (dims, dtypes, attributes, wiring,
 * opsets, nesting, external data) and packs it again. */

enum { CAP = 512 };
typedef struct Parts {
    Onnx__GraphProto *graphs[CAP];
    Onnx__NodeProto *nodes[CAP];
    Onnx__TensorProto *tensors[CAP];
    Onnx__ValueInfoProto *infos[CAP];
    Onnx__AttributeProto *attrs[CAP];
    const char *names[CAP];      /* every value name seen, for rewiring */
    int n_graphs, n_nodes, n_tensors, n_infos, n_attrs, n_names;
} Parts;

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static size_t pick(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

#define PUSH(arr, n, x) do { if ((n) < CAP) (arr)[(n)++] = (x); } while (0)

static void walk_graph(Parts *p, Onnx__GraphProto *g);

static void walk_tensor(Parts *p, Onnx__TensorProto *t)
{
    if (t)
        PUSH(p->tensors, p->n_tensors, t);
}

static void walk_node(Parts *p, Onnx__NodeProto *n)
{
    PUSH(p->nodes, p->n_nodes, n);
    for (size_t i = 0; i < n->n_output; i++)
        PUSH(p->names, p->n_names, n->output[i]);
    for (size_t i = 0; i < n->n_attribute; i++) {
        Onnx__AttributeProto *a = n->attribute[i];
        PUSH(p->attrs, p->n_attrs, a);
        walk_tensor(p, a->t);
        for (size_t k = 0; k < a->n_tensors; k++)
            walk_tensor(p, a->tensors[k]);
        if (a->g)
            walk_graph(p, a->g);
        for (size_t k = 0; k < a->n_graphs; k++)
            walk_graph(p, a->graphs[k]);
    }
}

static void walk_graph(Parts *p, Onnx__GraphProto *g)
{
    PUSH(p->graphs, p->n_graphs, g);
    for (size_t i = 0; i < g->n_initializer; i++) {
        walk_tensor(p, g->initializer[i]);
        PUSH(p->names, p->n_names, g->initializer[i]->name);
    }
    for (size_t i = 0; i < g->n_input; i++) {
        PUSH(p->infos, p->n_infos, g->input[i]);
        PUSH(p->names, p->n_names, g->input[i]->name);
    }
    for (size_t i = 0; i < g->n_output; i++)
        PUSH(p->infos, p->n_infos, g->output[i]);
    for (size_t i = 0; i < g->n_value_info; i++)
        PUSH(p->infos, p->n_infos, g->value_info[i]);
    for (size_t i = 0; i < g->n_node; i++)
        walk_node(p, g->node[i]);
}

static int64_t odd_int(void)
{
    static const int64_t v[] = {0, 1, -1, 2, 3, -2, 7, 255, 65536, (int64_t)1 << 31,
                                (int64_t)1 << 40, INT64_MAX, INT64_MIN, INT32_MIN};
    return rnd() & 1 ? v[pick(sizeof v / sizeof *v)] : (int64_t)pick(9) - 2;
}

static float odd_float(void)
{
    static const float v[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1e30f, -1e30f, 1e-40f};
    switch (pick(4)) {
    case 0: return __builtin_nanf("");
    case 1: return rnd() & 1 ? __builtin_inff() : -__builtin_inff();
    default: return v[pick(sizeof v / sizeof *v)];
    }
}

static char *dup_str(const char *s)
{
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

/* Strings dropped from the model: Parts.names may still point at them, so
 * they are freed only after the last edit. */
static char *dropped[64];
static int n_dropped;

static void drop(char *s)
{
    if (n_dropped < (int)(sizeof dropped / sizeof *dropped))
        dropped[n_dropped++] = s;
    else
        abort();                 /* more edits than LLVMFuzzerCustomMutator makes */
}

/* protobuf-c's default allocator is malloc, so fields may be swapped for
 * malloc'ed ones and free_unpacked still frees them */
static void set_str(char **field, const char *s)
{
    drop(*field);
    *field = dup_str(s);
}

static void grow(void **arr, size_t n, size_t elem)
{
    void *p = realloc(*arr, (n + 1) * elem);
    if (!p)
        abort();
    *arr = p;
}

static void mutate_dims(Parts *p)
{
    if (p->n_tensors && rnd() & 1) {
        Onnx__TensorProto *t = p->tensors[pick(p->n_tensors)];
        if (t->n_dims && rnd() % 4) {
            t->dims[pick(t->n_dims)] = odd_int();
        } else if (rnd() & 1 && t->n_dims) {
            t->n_dims--;             /* rank off by one against the data */
        } else {
            grow((void **)&t->dims, t->n_dims, sizeof *t->dims);
            t->dims[t->n_dims++] = odd_int();
        }
        return;
    }
    if (!p->n_infos)
        return;
    Onnx__ValueInfoProto *v = p->infos[pick(p->n_infos)];
    if (!v->type || v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !v->type->tensor_type->shape)
        return;
    Onnx__TensorShapeProto *s = v->type->tensor_type->shape;
    if (!s->n_dim)
        return;
    Onnx__TensorShapeProto__Dimension *d = s->dim[pick(s->n_dim)];
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
        free(d->dim_param);
    if (rnd() % 4) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = odd_int();
    } else {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        d->dim_param = dup_str(rnd() & 1 ? "N" : "");
    }
}

static void mutate_dtype(Parts *p)
{
    int dt = (int)pick(26) - 1;
    if (p->n_tensors && rnd() & 1) {
        Onnx__TensorProto *t = p->tensors[pick(p->n_tensors)];
        t->data_type = dt;
        t->has_data_type = 1;
    } else if (p->n_infos) {
        Onnx__ValueInfoProto *v = p->infos[pick(p->n_infos)];
        if (v->type && v->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
            v->type->tensor_type->elem_type = dt;
            v->type->tensor_type->has_elem_type = 1;
        }
    }
}

static void mutate_attr(Parts *p)
{
    if (!p->n_attrs)
        return;
    Onnx__AttributeProto *a = p->attrs[pick(p->n_attrs)];
    switch (pick(5)) {
    case 0:                      /* the declared type no longer matches the field set */
        a->type = (Onnx__AttributeProto__AttributeType)pick(15);
        a->has_type = 1;
        break;
    case 1:
        a->i = odd_int();
        a->has_i = 1;
        break;
    case 2:
        a->f = odd_float();
        a->has_f = 1;
        break;
    case 3:
        if (a->n_ints)
            a->ints[pick(a->n_ints)] = odd_int();
        else if (a->n_floats)
            a->floats[pick(a->n_floats)] = odd_float();
        break;
    default:
        if (a->n_ints && rnd() & 1) {
            a->n_ints = pick(a->n_ints);
        } else {
            grow((void **)&a->ints, a->n_ints, sizeof *a->ints);
            a->ints[a->n_ints++] = odd_int();
        }
        break;
    }
}

static void mutate_wiring(Parts *p)
{
    if (!p->n_nodes)
        return;
    Onnx__NodeProto *n = p->nodes[pick(p->n_nodes)];
    char ***list = rnd() % 4 ? &n->input : &n->output;
    size_t *count = list == &n->input ? &n->n_input : &n->n_output;
    int op = (int)pick(6);
    if (op == 0 || !*count) {    /* one more input (or output) */
        grow((void **)list, *count, sizeof **list);
        (*list)[(*count)++] = dup_str(p->n_names ? p->names[pick(p->n_names)] : "x");
        return;
    }
    if (op == 1) {               /* one fewer */
        drop((*list)[--*count]);
        return;
    }
    const char *to = op == 2 ? "no_such_value" : op == 3 ? ""
                   : p->n_names ? p->names[pick(p->n_names)] : "x";
    set_str(&(*list)[pick(*count)], to);
}

static void mutate_opset(Onnx__ModelProto *m)
{
    if (!m->n_opset_import || rnd() % 8 == 0) {
        grow((void **)&m->opset_import, m->n_opset_import, sizeof *m->opset_import);
        Onnx__OperatorSetIdProto *o = malloc(sizeof *o);
        if (!o)
            abort();
        onnx__operator_set_id_proto__init(o);
        o->domain = dup_str(rnd() & 1 ? "" : "ai.onnx.ml");
        m->opset_import[m->n_opset_import++] = o;
    }
    Onnx__OperatorSetIdProto *o = m->opset_import[pick(m->n_opset_import)];
    static const int64_t v[] = {0, -1, 1, 6, 7, 9, 10, 11, 12, 13, 17, 18, 21, 22, 23, 1000};
    o->version = v[pick(sizeof v / sizeof *v)];
    o->has_version = 1;
}

/* A deep copy through the wire format, so nothing is shared and
 * free_unpacked frees each part once. */
static Onnx__GraphProto *copy_graph(const Onnx__GraphProto *g)
{
    size_t n = onnx__graph_proto__get_packed_size(g);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        abort();
    onnx__graph_proto__pack(g, buf);
    Onnx__GraphProto *r = onnx__graph_proto__unpack(NULL, n, buf);
    free(buf);
    return r;
}

static void mutate_nesting(Parts *p)
{
    if (!p->n_nodes || !p->n_graphs)
        return;
    Onnx__NodeProto *n = p->nodes[pick(p->n_nodes)];
    Onnx__GraphProto *sub = copy_graph(p->graphs[pick(p->n_graphs)]);
    if (!sub)
        return;
    for (size_t i = 0; i < n->n_attribute; i++) {
        Onnx__AttributeProto *a = n->attribute[i];
        if (a->g) {              /* replace a body with another graph of the model */
            onnx__graph_proto__free_unpacked(a->g, NULL);
            a->g = sub;
            return;
        }
    }
    Onnx__AttributeProto *a = malloc(sizeof *a);
    if (!a)
        abort();
    onnx__attribute_proto__init(a);
    static const char *const names[] = {"body", "then_branch", "else_branch", "g"};
    a->name = dup_str(names[pick(4)]);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    a->has_type = 1;
    a->g = sub;
    grow((void **)&n->attribute, n->n_attribute, sizeof *n->attribute);
    n->attribute[n->n_attribute++] = a;
}

static void mutate_external(Parts *p)
{
    if (!p->n_tensors)
        return;
    Onnx__TensorProto *t = p->tensors[pick(p->n_tensors)];
    t->data_location = rnd() % 4 ? ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
                                 : (Onnx__TensorProto__DataLocation)pick(3);
    t->has_data_location = 1;
    static const char *const keys[] = {"location", "offset", "length", "checksum", ""};
    static const char *const vals[] = {"model.onnx", "missing.bin", "../model.onnx", "/dev/zero",
                                       ".", "0", "1", "-1", "18446744073709551615",
                                       "9223372036854775807", "4", "abc", ""};
    grow((void **)&t->external_data, t->n_external_data, sizeof *t->external_data);
    Onnx__StringStringEntryProto *e = malloc(sizeof *e);
    if (!e)
        abort();
    onnx__string_string_entry_proto__init(e);
    e->key = dup_str(keys[pick(5)]);
    e->value = dup_str(vals[pick(sizeof vals / sizeof *vals)]);
    t->external_data[t->n_external_data++] = e;
}

static void mutate_raw(Parts *p, size_t max)
{
    if (!p->n_tensors)
        return;
    Onnx__TensorProto *t = p->tensors[pick(p->n_tensors)];
    if (t->raw_data.len >= max)
        return;
    size_t cap = t->raw_data.len + 16 < max ? t->raw_data.len + 16 : max;
    uint8_t *d = realloc(t->raw_data.data, cap ? cap : 1);
    if (!d)
        abort();
    t->raw_data.data = d;
    t->raw_data.len = LLVMFuzzerMutate(d, t->raw_data.len, cap);
    t->has_raw_data = 1;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    Onnx__ModelProto *m = size ? onnx__model_proto__unpack(NULL, size, data) : NULL;
    if (!m || !m->graph) {
        if (m)
            onnx__model_proto__free_unpacked(m, NULL);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    static Parts p;
    memset(&p, 0, sizeof p);
    walk_graph(&p, m->graph);
    for (int k = 1 + (int)pick(3); k > 0; k--) {
        switch (pick(9)) {
        case 0: mutate_dims(&p); break;
        case 1: mutate_dtype(&p); break;
        case 2: mutate_attr(&p); break;
        case 3: mutate_wiring(&p); break;
        case 4: mutate_opset(m); break;
        case 5: mutate_nesting(&p); k = 0; break; /* the part lists are stale now */
        case 6: mutate_external(&p); break;
        case 7: mutate_raw(&p, max_size / 2); break;
        default: mutate_attr(&p); mutate_dims(&p); break;
        }
    }
    size_t n = onnx__model_proto__get_packed_size(m);
    if (n <= max_size)
        onnx__model_proto__pack(m, data);
    onnx__model_proto__free_unpacked(m, NULL);
    while (n_dropped)
        free(dropped[--n_dropped]);
    return n <= max_size ? n : LLVMFuzzerMutate(data, size, max_size);
}
