/* onnx_save.c: writes the IR graph as an ONNX ModelProto, internal forms as standard ops. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend.h"

/* protobuf refuses messages of 2 GiB and more; larger models need external data */
#define MAX_MODEL_BYTES ((size_t)INT32_MAX)

/* Every message and array of the ModelProto comes from one list of blocks,
 * freed at once when the file is written. */
typedef struct Block {
    struct Block *next;
    int64_t align;               /* keeps what follows 8-byte aligned */
} Block;

typedef struct Saver {
    Diag *d;
    Block *mem;
    const Value **keys;          /* Value -> its name in the file (open addressing) */
    const char **names;
    size_t cap, n;
    const char **used;           /* names taken in the file */
    size_t ucap, un;
    const char *domains[16];     /* domains nodes use beyond the graph's imports */
    int n_domains;
    int64_t opset;               /* the default domain's version written (>= the graph's) */
} Saver;

static void *sa(Saver *s, size_t n)
{
    Block *b = calloc(1, sizeof *b + n);
    IR_ASSERT(b);
    b->next = s->mem;
    s->mem = b;
    return b + 1;
}

static char *sdup(Saver *s, const char *str)
{
    size_t n = strlen(str);
    char *p = sa(s, n + 1);
    memcpy(p, str, n);
    return p;
}

static uint64_t hash(const void *p, size_t n)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211u;
    return h;
}

/* ---- names: every value keeps its own unless another took it first ---- */

static int name_used(const Saver *s, const char *name)
{
    if (!s->ucap)
        return 0;
    for (size_t i = hash(name, strlen(name)) & (s->ucap - 1);; i = (i + 1) & (s->ucap - 1)) {
        if (!s->used[i])
            return 0;
        if (!strcmp(s->used[i], name))
            return 1;
    }
}

static void use_name(Saver *s, const char *name)
{
    if (2 * (s->un + 1) > s->ucap) {
        size_t cap = s->ucap ? 2 * s->ucap : 256;
        const char **t = calloc(cap, sizeof *t);
        IR_ASSERT(t);
        for (size_t i = 0; i < s->ucap; i++) {
            if (!s->used[i])
                continue;
            size_t j = hash(s->used[i], strlen(s->used[i])) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = s->used[i];
        }
        free(s->used);
        s->used = t;
        s->ucap = cap;
    }
    size_t j = hash(name, strlen(name)) & (s->ucap - 1);
    while (s->used[j])
        j = (j + 1) & (s->ucap - 1);
    s->used[j] = name;
    s->un++;
}

/* base, or base_2, base_3... whichever is free; taken. */
static const char *fresh(Saver *s, const char *base)
{
    char buf[600];
    snprintf(buf, sizeof buf, "%.560s", base);
    for (int k = 2; name_used(s, buf); k++)
        snprintf(buf, sizeof buf, "%.560s_%d", base, k);
    const char *n = sdup(s, buf);
    use_name(s, n);
    return n;
}

static size_t key_slot(const Saver *s, const Value *v)
{
    size_t i = hash(&v, sizeof v) & (s->cap - 1);
    while (s->keys[i] && s->keys[i] != v)
        i = (i + 1) & (s->cap - 1);
    return i;
}

/* The name v has in the file: given on first sight (a value's definition
 * comes before its reads), so graph inputs and outputs, named first, keep
 * theirs. */
static const char *name_of(Saver *s, const Value *v)
{
    if (!v)
        return "";
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256, old = s->cap;
        const Value **keys = s->keys;
        const char **names = s->names;
        s->keys = calloc(cap, sizeof *s->keys);
        s->names = calloc(cap, sizeof *s->names);
        IR_ASSERT(s->keys && s->names);
        s->cap = cap;
        for (size_t i = 0; i < old; i++)
            if (keys[i]) {
                size_t j = key_slot(s, keys[i]);
                s->keys[j] = keys[i];
                s->names[j] = names[i];
            }
        free(keys);
        free(names);
    }
    size_t i = key_slot(s, v);
    if (!s->keys[i]) {
        s->keys[i] = v;
        s->names[i] = fresh(s, v->name && v->name[0] ? v->name : "_value");
        s->n++;
    }
    return s->names[i];
}

/* ---- tensors and types ---- */

static Onnx__TensorProto *tensor(Saver *s, const char *name, int dtype, int rank,
                                 const int64_t *dims, const void *data, size_t nbytes)
{
    Onnx__TensorProto *t = sa(s, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)rank;
    t->dims = sa(s, sizeof *t->dims * (size_t)(rank + 1));
    if (rank) /* a scalar has no dims array */
        memcpy(t->dims, dims, sizeof *t->dims * (size_t)rank);
    if (dtype == RT_STRING) {
        size_t n = nbytes / sizeof(char *);
        const char *const *str = data;
        t->n_string_data = n;
        t->string_data = sa(s, sizeof *t->string_data * (n + 1));
        for (size_t i = 0; i < n; i++) {
            t->string_data[i].data = (uint8_t *)str[i];
            t->string_data[i].len = str[i] ? strlen(str[i]) : 0;
        }
        return t;
    }
    /* raw_data is little-endian: the IR's own layout on the hosts onnxcc runs on,
     * the 4- and 2-bit types packed as ONNX packs them */
    t->has_raw_data = 1;
    t->raw_data.len = nbytes;
    t->raw_data.data = (uint8_t *)data;
    return t;
}

static Onnx__TypeProto *type_of(Saver *s, const Value *v)
{
    Onnx__TypeProto *tp = sa(s, sizeof *tp);
    onnx__type_proto__init(tp);
    if (v->dtype == RT_UNDEF)
        return tp;
    Onnx__TypeProto__Tensor *tt = sa(s, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = v->dtype;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    if (v->rank < 0)
        return tp;
    Onnx__TensorShapeProto *sh = sa(s, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)v->rank;
    sh->dim = sa(s, sizeof *sh->dim * (size_t)(v->rank + 1));
    for (int i = 0; i < v->rank; i++) {
        Onnx__TensorShapeProto__Dimension *dm = sa(s, sizeof *dm);
        onnx__tensor_shape_proto__dimension__init(dm);
        if (v->dyn && i == v->dyn_axis) {
            /* known only at run time: dims[i] is its bound */
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dm->dim_param = sdup(s, "dynamic");
        } else if (v->dims[i] >= 0) {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dm->dim_value = v->dims[i];
        } else if (v->dim_param[i]) {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dm->dim_param = (char *)v->dim_param[i];
        }
        sh->dim[i] = dm;
    }
    tt->shape = sh;
    return tp;
}

static Onnx__ValueInfoProto *value_info(Saver *s, const Value *v)
{
    Onnx__ValueInfoProto *vi = sa(s, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = (char *)name_of(s, v);
    vi->type = type_of(s, v);
    return vi;
}

/* ---- nodes ---- */

/* The graph being written: its NodeProtos and initializers, sized up front. */
typedef struct Out {
    Onnx__GraphProto *gp;
    size_t cap_nodes, cap_inits;
    int64_t opset;               /* the default domain's version (the root graph's import) */
} Out;

static Onnx__NodeProto *node(Saver *s, Out *o, const char *op_type, const char *domain,
                             const char *name, int n_in, int n_out)
{
    IR_ASSERT(o->gp->n_node < o->cap_nodes);
    Onnx__NodeProto *np = sa(s, sizeof *np);
    onnx__node_proto__init(np);
    np->op_type = (char *)op_type;
    np->domain = (char *)domain;
    np->name = (char *)name;
    np->n_input = (size_t)n_in;
    np->input = sa(s, sizeof *np->input * (size_t)(n_in + 1));
    np->n_output = (size_t)n_out;
    np->output = sa(s, sizeof *np->output * (size_t)(n_out + 1));
    o->gp->node[o->gp->n_node++] = np;
    return np;
}

static Onnx__AttributeProto *attr(Saver *s, Onnx__NodeProto *np, const char *name, int type)
{
    Onnx__AttributeProto **grown = sa(s, sizeof *grown * (np->n_attribute + 2));
    if (np->n_attribute)
        memcpy(grown, np->attribute, sizeof *grown * np->n_attribute);
    Onnx__AttributeProto *a = sa(s, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = (Onnx__AttributeProto__AttributeType)type;
    grown[np->n_attribute++] = a;
    np->attribute = grown;
    return a;
}

static void attr_float(Saver *s, Onnx__NodeProto *np, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(s, np, name, AT_FLOAT);
    a->has_f = 1;
    a->f = v;
}

static void add_init(Saver *s, Out *o, Onnx__TensorProto *t)
{
    (void)s;
    IR_ASSERT(o->gp->n_initializer < o->cap_inits);
    o->gp->initializer[o->gp->n_initializer++] = t;
}

static Onnx__GraphProto *encode_graph(Saver *s, const Graph *g, int64_t opset);

/* The IR's attributes as written; onnxcc's own (named "onnxcc.*") stay behind. */
static int copy_attrs(Saver *s, Onnx__NodeProto *np, const Node *n, int64_t opset,
                      const char *const *skip)
{
    for (int k = 0; k < n->n_attrs; k++) {
        const Attr *a = &n->attrs[k];
        int skipped = !strncmp(a->name, "onnxcc.", 7) || a->type == AT_TYPE_PROTO ||
                      a->type == AT_TYPE_PROTOS;
        for (int j = 0; skip && skip[j]; j++)
            skipped |= !strcmp(a->name, skip[j]);
        if (skipped)
            continue;
        Onnx__AttributeProto *ap = attr(s, np, a->name, a->type);
        switch (a->type) {
        case AT_FLOAT: ap->has_f = 1; ap->f = a->f; break;
        case AT_INT: ap->has_i = 1; ap->i = a->i; break;
        case AT_STRING:
            ap->has_s = 1;
            ap->s.data = (uint8_t *)a->s;
            ap->s.len = a->s_len;
            break;
        case AT_FLOATS: ap->n_floats = (size_t)a->n; ap->floats = a->floats; break;
        case AT_INTS: ap->n_ints = (size_t)a->n; ap->ints = a->ints; break;
        case AT_STRINGS:
            ap->n_strings = (size_t)a->n;
            ap->strings = sa(s, sizeof *ap->strings * (size_t)(a->n + 1));
            for (int i = 0; i < a->n; i++) {
                ap->strings[i].data = (uint8_t *)a->strings[i];
                ap->strings[i].len = strlen(a->strings[i]);
            }
            break;
        case AT_TENSOR:
            ap->t = tensor(s, NULL, a->t->dtype, a->t->rank, a->t->dims, a->t->data,
                           a->t->nbytes);
            break;
        case AT_TENSORS:
            ap->n_tensors = (size_t)a->n;
            ap->tensors = sa(s, sizeof *ap->tensors * (size_t)(a->n + 1));
            for (int i = 0; i < a->n; i++)
                ap->tensors[i] = tensor(s, NULL, a->t[i].dtype, a->t[i].rank, a->t[i].dims,
                                        a->t[i].data, a->t[i].nbytes);
            break;
        case AT_GRAPH:
            if (!(ap->g = encode_graph(s, a->g, opset)))
                return -1;
            break;
        case AT_GRAPHS:
            ap->n_graphs = (size_t)a->n;
            ap->graphs = sa(s, sizeof *ap->graphs * (size_t)(a->n + 1));
            for (int i = 0; i < a->n; i++)
                if (!(ap->graphs[i] = encode_graph(s, a->gs[i], opset)))
                    return -1;
            break;
        default:
            return ir_node_error(s->d, n, "--save-onnx: attribute '%s' of type %s cannot be "
                                 "written", a->name, ir_attr_type_name(a->type));
        }
    }
    return 0;
}

/* A scalar float32 initializer, for Clip's bounds. */
static const char *scalar(Saver *s, Out *o, const char *base, float v)
{
    float *p = sa(s, sizeof *p);
    *p = v;
    const char *name = fresh(s, base);
    add_init(s, o, tensor(s, name, RT_F32, 0, NULL, p, sizeof *p));
    return name;
}

/* FusedConv's activation as standard nodes reading x and writing y. */
static void emit_activation(Saver *s, Out *o, const Node *n, const char *act, const char *x,
                            const char *y)
{
    float p[2] = {0, 0};
    int np_ = ir_attr_floats(n, "activation_params", p, 2);
    char base[600];
    snprintf(base, sizeof base, "%.500s/%.32s", n->name, act);
    const char *name = fresh(s, base);
    Onnx__NodeProto *a;
    if (!strcmp(act, "Swish")) {
        /* x * Sigmoid(x), the form pass_fuse recognized */
        snprintf(base, sizeof base, "%.500s_sigmoid", y);
        const char *sig = fresh(s, base);
        a = node(s, o, "Sigmoid", "", name, 1, 1);
        a->input[0] = (char *)x;
        a->output[0] = (char *)sig;
        snprintf(base, sizeof base, "%.500s/Mul", n->name);
        a = node(s, o, "Mul", "", fresh(s, base), 2, 1);
        a->input[0] = (char *)x;
        a->input[1] = (char *)sig;
        a->output[0] = (char *)y;
        return;
    }
    if (!strcmp(act, "HardSwish") && o->opset < 14) {
        /* HardSwish(x) = x * HardSigmoid(x; 1/6, 1/2) (Operators.md, HardSwish-14) */
        snprintf(base, sizeof base, "%.500s_hardsigmoid", y);
        const char *hs = fresh(s, base);
        a = node(s, o, "HardSigmoid", "", name, 1, 1);
        a->input[0] = (char *)x;
        a->output[0] = (char *)hs;
        attr_float(s, a, "alpha", 1.0f / 6);
        attr_float(s, a, "beta", 0.5f);
        snprintf(base, sizeof base, "%.500s/Mul", n->name);
        a = node(s, o, "Mul", "", fresh(s, base), 2, 1);
        a->input[0] = (char *)x;
        a->input[1] = (char *)hs;
        a->output[0] = (char *)y;
        return;
    }
    int clip_inputs = !strcmp(act, "Clip") && o->opset >= 11;
    a = node(s, o, act, "", name, clip_inputs ? 3 : 1, 1);
    a->input[0] = (char *)x;
    a->output[0] = (char *)y;
    if (!strcmp(act, "Clip") && clip_inputs) {
        snprintf(base, sizeof base, "%.500s_min", y);
        a->input[1] = (char *)scalar(s, o, base, p[0]);
        snprintf(base, sizeof base, "%.500s_max", y);
        a->input[2] = (char *)scalar(s, o, base, p[1]);
    } else if (!strcmp(act, "Clip")) {
        attr_float(s, a, "min", p[0]);
        attr_float(s, a, "max", p[1]);
    } else if (!strcmp(act, "LeakyRelu")) {
        attr_float(s, a, "alpha", np_ >= 1 ? p[0] : 0.01f);
    } else if (!strcmp(act, "HardSigmoid")) {
        attr_float(s, a, "alpha", np_ == 2 ? p[0] : 0.2f);
        attr_float(s, a, "beta", np_ == 2 ? p[1] : 0.5f);
    }
}

/* FusedConv (and pass_fuse's epilogue): Conv, then Add of the residual
 * input Z, then the activation, each a standard node. With w, a ConvWQ's:
 * Conv's W is the value w names (emit_conv_wq). */
static int emit_conv_as(Saver *s, Out *o, const Node *n, const char *w)
{
    const char *act = ir_attr_str(n, "activation", NULL);
    const Value *z = ir_input(n, 3);
    const char *y = name_of(s, n->out[0]), *cur = y;
    char base[600];
    if (act || z) {
        snprintf(base, sizeof base, "%.500s_conv", y);
        cur = fresh(s, base);
    }
    int n_in = n->n_in < 3 ? n->n_in : 3;
    Onnx__NodeProto *c = node(s, o, "Conv", "", n->name, n_in, 1);
    for (int i = 0; i < n_in; i++)
        c->input[i] = (char *)(i == 1 && w ? w : n->in[i] ? name_of(s, n->in[i]) : "");
    c->output[0] = (char *)cur;
    static const char *const skip[] = {"activation", "activation_params", "format", "N", "K",
                                       "block_size", "tensor_scale", NULL};
    if (copy_attrs(s, c, n, o->opset, skip) < 0)
        return -1;
    if (z) {
        const char *sum = y;
        if (act) {
            snprintf(base, sizeof base, "%.500s_sum", y);
            sum = fresh(s, base);
        }
        snprintf(base, sizeof base, "%.500s/Add", n->name);
        Onnx__NodeProto *a = node(s, o, "Add", "", fresh(s, base), 2, 1);
        a->input[0] = (char *)cur;
        a->input[1] = (char *)name_of(s, z);
        a->output[0] = (char *)sum;
        cur = sum;
    }
    if (act) {
        if (strcmp(act, "Relu") && strcmp(act, "Clip") && strcmp(act, "LeakyRelu") &&
            strcmp(act, "HardSigmoid") && strcmp(act, "HardSwish") && strcmp(act, "Swish"))
            return ir_node_error(s->d, n, "--save-onnx: fused activation '%s' has no ONNX "
                                 "form here", act);
        emit_activation(s, o, n, act, cur, y);
    }
    return 0;
}

static int emit_fused_conv(Saver *s, Out *o, const Node *n)
{
    return emit_conv_as(s, o, n, NULL);
}

/* One node of an expansion: op(a[, b]) -> a fresh value (or y when last). */
static const char *step(Saver *s, Out *o, const Node *n, const char *op, const char *a,
                        const char *b, const char *y)
{
    char base[600];
    snprintf(base, sizeof base, "%.500s/%.40s", n->name, op);
    Onnx__NodeProto *np = node(s, o, op, "", fresh(s, base), b ? 2 : 1, 1);
    np->input[0] = (char *)a;
    if (b)
        np->input[1] = (char *)b;
    np->output[0] = (char *)(y ? y : fresh(s, base));
    return np->output[0];
}

/* Gelu (opset 20), which pass_recognize makes from the forms exporters
 * write below it, written back as those forms (Operators.md, Gelu):
 * 0.5 x (1 + erf(x / sqrt 2)), or with approximate=tanh
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
static void emit_gelu(Saver *s, Out *o, const Node *n)
{
    const char *x = name_of(s, n->in[0]), *y = name_of(s, n->out[0]), *t;
    char base[600];
    snprintf(base, sizeof base, "%.500s/c", n->name);
    if (!strcmp(ir_attr_str(n, "approximate", "none"), "tanh")) {
        const char *x3 = step(s, o, n, "Mul", step(s, o, n, "Mul", x, x, NULL), x, NULL);
        t = step(s, o, n, "Mul", x3, scalar(s, o, base, 0.044715f), NULL);
        t = step(s, o, n, "Add", x, t, NULL);
        t = step(s, o, n, "Mul", t, scalar(s, o, base, 0.7978845608028654f), NULL);
        t = step(s, o, n, "Tanh", t, NULL, NULL);
    } else {
        t = step(s, o, n, "Div", x, scalar(s, o, base, 1.4142135623730951f), NULL);
        t = step(s, o, n, "Erf", t, NULL, NULL);
    }
    t = step(s, o, n, "Add", t, scalar(s, o, base, 1.0f), NULL);
    t = step(s, o, n, "Mul", x, t, NULL);
    step(s, o, n, "Mul", t, scalar(s, o, base, 0.5f), y);
}

/* LayerNormalization (opset 17) below it, as torch exports it there:
 * d = x - mean(x), y = d / sqrt(mean(d * d) + eps) * scale + bias over the
 * axes from `axis` on (ReduceMean with an axes attribute: opset < 18). */
static int emit_layernorm(Saver *s, Out *o, const Node *n)
{
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i] && n->out[i]->n_uses)
            return ir_node_error(s->d, n, "--save-onnx: LayerNormalization's Mean and "
                                 "InvStdDev outputs have no form before opset 17");
    const Value *xv = n->in[0];
    int rank = xv->rank, axis = ir_axis(ir_attr_int(n, "axis", -1), rank);
    if (axis < 0)
        return ir_node_error(s->d, n, "--save-onnx: axis out of range");
    const char *x = name_of(s, xv), *y = name_of(s, n->out[0]);
    char base[600];
    snprintf(base, sizeof base, "%.500s/c", n->name);
    Onnx__NodeProto *np[2];
    const char *mean = step(s, o, n, "ReduceMean", x, NULL, NULL);
    np[0] = o->gp->node[o->gp->n_node - 1];
    const char *d = step(s, o, n, "Sub", x, mean, NULL);
    const char *var = step(s, o, n, "ReduceMean", step(s, o, n, "Mul", d, d, NULL), NULL, NULL);
    np[1] = o->gp->node[o->gp->n_node - 1];
    for (int k = 0; k < 2; k++) {
        Onnx__AttributeProto *a = attr(s, np[k], "axes", AT_INTS);
        a->n_ints = (size_t)(rank - axis);
        a->ints = sa(s, sizeof *a->ints * (size_t)(rank - axis));
        for (int i = axis; i < rank; i++)
            a->ints[i - axis] = i;
    }
    const char *t = step(s, o, n, "Add", var,
                         scalar(s, o, base, ir_attr_float(n, "epsilon", 1e-5f)), NULL);
    t = step(s, o, n, "Div", d, step(s, o, n, "Sqrt", t, NULL, NULL), NULL);
    const Value *b = ir_input(n, 2);
    t = step(s, o, n, "Mul", t, name_of(s, n->in[1]), b ? NULL : y);
    if (b)
        step(s, o, n, "Add", t, name_of(s, b), y);
    return 0;
}

static void need_domain(Saver *s, const Graph *root, const char *domain)
{
    if (ir_opset(root, domain) > 0)
        return;
    for (int i = 0; i < s->n_domains; i++)
        if (!strcmp(s->domains[i], domain))
            return;
    IR_ASSERT(s->n_domains < (int)(sizeof s->domains / sizeof s->domains[0]));
    s->domains[s->n_domains++] = domain;
}

static const Graph *root_of(const Graph *g)
{
    while (g->parent)
        g = g->parent;
    return g;
}

/* Ops to which onnxcc adds inputs of its own (tables it decoded from the
 * attributes, NUL-free copies of string constants): how many are ONNX's. */
static int onnx_inputs(const Node *n)
{
    switch (n->op) {
    case OP_TFIDF_VECTORIZER: case OP_LABEL_ENCODER: case OP_STRING_NORMALIZER:
    case OP_STRING_SPLIT: case OP_REGEX_FULL_MATCH:
        return 1;
    default:
        return n->n_in;
    }
}

/* Passes build some nodes at a newer opset than the model imports (the
 * lowering of control flow writes Squeeze and Unsqueeze at 13, with axes
 * as an input; SplitToSequence becomes a Split of 13). Written in the
 * model's opset, those take their constant axes or sizes as an attribute
 * again; any other op whose form may differ is refused. */
static int downgrade(Saver *s, const Node *n, int64_t have, Onnx__NodeProto *np)
{
    int axes_in = n->op == OP_SQUEEZE || n->op == OP_UNSQUEEZE || n->op == OP_SPLIT;
    if (n->opset <= have || (n->op == OP_RESHAPE && have >= 5) ||
        (axes_in && have >= 13) || n->op == OP_CONCAT || n->op == OP_GATHER ||
        n->op == OP_WHERE || n->op == OP_IDENTITY)
        return 0;
    const Value *axes = ir_input(n, 1);
    if (n->op == OP_SPLIT && !axes)
        return 0;
    if (axes_in && axes && axes->data && axes->dtype == RT_I64 && axes->rank == 1) {
        /* Split's sizes were its attribute 'split' before opset 13 */
        Onnx__AttributeProto *a = attr(s, np, n->op == OP_SPLIT ? "split" : "axes", AT_INTS);
        a->n_ints = (size_t)axes->dims[0];
        a->ints = axes->data;
        np->n_input = 1;
        return 0;
    }
    return ir_node_error(s->d, n, "--save-onnx: a pass wrote this %s in opset %lld and the "
                         "model imports %lld, where its form may differ (re-export the model "
                         "at opset %lld or later)", n->op_type, (long long)n->opset,
                         (long long)have, (long long)n->opset);
}

static int emit_matmul_wq(Saver *s, Out *o, const Node *n);
static int emit_conv_wq(Saver *s, Out *o, const Node *n);
static const char *emit_wq_dequant(Saver *s, Out *o, const Node *n, int nk);

static int emit_node(Saver *s, Out *o, const Graph *g, const Node *n)
{
    if (n->op == OP_FUSED_CONV)
        return emit_fused_conv(s, o, n);
    if (n->op == OP_MATMUL_WQ)
        return emit_matmul_wq(s, o, n);
    if (n->op == OP_CONV_WQ)
        return emit_conv_wq(s, o, n);
    /* a node a pass turned into another op (a SequenceAt resolved to an
     * Identity) is written as what it now is */
    const char *op_type = n->op >= 0 ? ir_ops[n->op].name : n->op_type;
    const char *domain = n->op >= 0 ? ir_ops[n->op].domain : n->domain;
    if (!strcmp(domain, "onnxcc"))
        return ir_node_error(s->d, n, "--save-onnx: %s is onnxcc's own op (domain 'onnxcc') "
                             "and has no ONNX form", op_type);
    int since = ir_op_since(domain, op_type);
    int64_t have = domain[0] ? ir_opset(root_of(g), domain) : s->opset;
    if (n->op == OP_GELU && have > 0 && have < 20) {
        emit_gelu(s, o, n);
        return 0;
    }
    if (n->op == OP_LAYER_NORMALIZATION && have > 0 && have < 17)
        return emit_layernorm(s, o, n);
    if (have > 0 && since > have)
        return ir_node_error(s->d, n, "--save-onnx: %s needs opset %d and the model imports %lld "
                             "(a pass made it; -O1 leaves the model's own ops)", op_type,
                             since, (long long)have);
    need_domain(s, root_of(g), domain);
    int n_out = n->n_out, n_in = onnx_inputs(n);
    /* the extent of a data-dependent output, the byte pool of string outputs:
     * onnxcc's additions */
    while (n_out > 0 && n->out[n_out - 1] &&
           (n->out[n_out - 1]->is_extent || n->out[n_out - 1]->is_pool))
        n_out--;
    while (n_in > 0 && !n->in[n_in - 1])
        n_in--;
    Onnx__NodeProto *np = node(s, o, op_type, domain, n->name, n_in, n_out);
    for (int i = 0; i < n_in; i++)
        np->input[i] = (char *)name_of(s, n->in[i]);
    for (int i = 0; i < n_out; i++)
        np->output[i] = (char *)name_of(s, n->out[i]);
    if (have > 0 && downgrade(s, n, have, np) < 0)
        return -1;
    return copy_attrs(s, np, n, o->opset, NULL);
}

/* ---- graphs ---- */

static int emitted(const Node *n)
{
    return !n->dead && !ir_node_is_constant(n);
}

/* ---- MatMulWQ as standard ONNX: DequantizeLinear + MatMul ---- */

/* The ONNX type a format's codes are written in (Operators.md,
 * DequantizeLinear-21/23/25): the integer formats unsigned beside a zero
 * point of the same type, ternary signed without one, MX and NVFP4 as their
 * own element types. No 3-bit type exists: INT3 takes uint4 (values exact,
 * storage not). The 2-bit types need opset 25: below it INT2 and the ternary
 * formats take the 4-bit ones, so that the file stays loadable by tools that
 * stop at opset 23 rather than raising the model's opset further. */
static int wq_code_type(int fmt, int64_t opset)
{
    switch (fmt) {
    case RT_WQ_INT8: return RT_U8;
    case RT_WQ_INT4: case RT_WQ_INT3: return RT_U4;
    case RT_WQ_INT2: return opset >= 25 ? RT_U2 : RT_U4;
    case RT_WQ_TERNARY: case RT_WQ_TERNARY5: case RT_WQ_SHERRY:
        return opset >= 25 ? RT_I2 : RT_I4;
    case RT_WQ_MXINT8: return RT_I8;
    case RT_WQ_MXFP8: return RT_F8E4M3FN;
    default: return RT_F4E2M1;
    }
}

/* The opset a format's DequantizeLinear needs: blocked (21), float4e2m1 (23). */
static int64_t wq_opset(int fmt)
{
    return fmt == RT_WQ_MXFP4 || fmt == RT_WQ_NVFP4 ? 23 : 21;
}

static int type_bits(int dtype)
{
    return dtype == RT_U4 || dtype == RT_I4 || dtype == RT_F4E2M1 ? 4
         : dtype == RT_U2 || dtype == RT_I2                    ? 2 : 8;
}

/* Element i of a tensor in ONNX's packing of the narrow types: element 0 in
 * the low bits of byte 0. */
static void put_elem(uint8_t *p, int bits, int64_t i, int v)
{
    int per = 8 / bits;
    p[i / per] |= (uint8_t)(((unsigned)v & ((1u << bits) - 1)) << (i % per * bits));
}

/* MatMulWQ (X, W packed, bias) as DequantizeLinear(codes [K, N], scale
 * [ceil(K / group), N], zero) blocked along axis 0, then MatMul(X, W) (+ bias):
 * [K, N] is MatMul's B as it is, and the blocks run along K, the axis the
 * block_size rule takes. The scale folds what the codes stand for beyond
 * their value (MXINT8's 1/64, NVFP4's tensor_scale), in the order the
 * kernel multiplies, so the float weights are the kernel's own. */
static int emit_matmul_wq(Saver *s, Out *o, const Node *n)
{
    int fmt = (int)ir_attr_int(n, "format", 0);
    float ts = ir_attr_float(n, "tensor_scale", 1.0f);
    const Value *bias = ir_input(n, 2);
    const char *x = name_of(s, n->in[0]), *y = name_of(s, n->out[0]);
    const char *wdq = emit_wq_dequant(s, o, n, 0);
    if (!wdq)
        return -1;
    char base[600];
    /* only NVFP4 has a tensor_scale of its own (folded above); another one
     * is a Mul after the MatMul */
    int mul = fmt != RT_WQ_NVFP4 && ts != 1.0f;
    const char *t = step(s, o, n, "MatMul", x, wdq, mul || bias ? NULL : y);
    if (mul) {
        snprintf(base, sizeof base, "%.500s/tensor_scale", n->name);
        t = step(s, o, n, "Mul", t, scalar(s, o, base, ts), bias ? NULL : y);
    }
    if (bias)
        step(s, o, n, "Add", t, name_of(s, bias), y);
    return 0;
}

/* ConvWQ (X, W packed, bias, Z) as DequantizeLinear(codes [N, K], scale
 * [N, ceil(K / group)], zero) blocked along axis 1, K being im2col's
 * (c, kh, kw) flattened: the groups run along it, which no axis of the
 * 4-D W holds; a Reshape to [N, C/group, k...] then gives Conv its W, and
 * the rest is written as FusedConv's. ConvWQ's tensor_scale is NVFP4's
 * only (folded into the scale). */
static int emit_conv_wq(Saver *s, Out *o, const Node *n)
{
    const char *wdq = emit_wq_dequant(s, o, n, 1);
    if (!wdq)
        return -1;
    int64_t ks[3];
    int nsp = ir_attr_ints(n, "kernel_shape", ks, 3), win = 1;
    IR_ASSERT(nsp >= 1 && nsp <= 3);
    int64_t *shape = sa(s, sizeof *shape * (size_t)(nsp + 2)), rank = nsp + 2;
    for (int i = 0; i < nsp; i++) {
        shape[2 + i] = ks[i];
        win *= (int)ks[i];
    }
    shape[0] = ir_attr_int(n, "N", 0);
    shape[1] = ir_attr_int(n, "K", 0) / win;
    char base[600];
    snprintf(base, sizeof base, "%.500s/W_shape", n->name);
    const char *sh = fresh(s, base);
    add_init(s, o, tensor(s, sh, RT_I64, 1, &rank, shape, sizeof *shape * (size_t)rank));
    return emit_conv_as(s, o, n, step(s, o, n, "Reshape", wdq, sh, NULL));
}

/* The packed weights of MatMulWQ or ConvWQ n written as codes, scale and
 * zero initializers and a blocked DequantizeLinear: [K, N] blocked along
 * axis 0 (nk 0: MatMul's B), or [N, K] along axis 1 (nk 1: Conv's rows).
 * Returns the dequantized value's name, or NULL with a diagnostic. */
static const char *emit_wq_dequant(Saver *s, Out *o, const Node *n, int nk)
{
    int fmt = (int)ir_attr_int(n, "format", 0);
    int group = (int)ir_attr_int(n, nk ? "block_size" : "group", 0);
    int64_t nn = ir_attr_int(n, "N", 0), k = ir_attr_int(n, "K", 0);
    float ts = ir_attr_float(n, "tensor_scale", 1.0f);
    const Value *w = n->in[1];
    if (!w->data) {
        ir_node_error(s->d, n, "--save-onnx: the packed weights are not known at compile time");
        return NULL;
    }
    IR_ASSERT(s->opset >= wq_opset(fmt) && rt_wq_row_bytes(fmt, k, group));
    int64_t ng = (k + group - 1) / group;
    int has_zero = fmt <= RT_WQ_INT2, dt = wq_code_type(fmt, s->opset);
    int16_t *code = malloc(sizeof *code * (size_t)(k * nn));
    float *scale = sa(s, sizeof *scale * (size_t)(ng * nn));
    uint8_t *zero = malloc((size_t)(ng * nn));
    int16_t *rc = malloc(sizeof *rc * (size_t)k);
    float *rs = malloc(sizeof *rs * (size_t)ng);
    uint8_t *rz = malloc((size_t)ng), zmax = 0;
    IR_ASSERT(code && zero && rc && rs && rz);
    for (int64_t r = 0; r < nn; r++) {
        rt_wq_unpack_row(fmt, nn, k, group, w->data, r, rc, rs, rz);
        for (int64_t i = 0; i < k; i++)
            code[nk ? r * k + i : i * nn + r] = rc[i];
        for (int64_t g = 0; g < ng; g++) {
            /* the kernel's tensor_scale * s * elem(code), elem = code / 64 for MXINT8 */
            float sc = fmt == RT_WQ_NVFP4 ? ts * rs[g] : rs[g];
            int64_t at = nk ? r * ng + g : g * nn + r;
            scale[at] = fmt == RT_WQ_MXINT8 ? sc / 64.0f : sc;
            zero[at] = rz[g];
            zmax = rz[g] > zmax ? rz[g] : zmax;
        }
    }
    free(rc), free(rs), free(rz);
    /* a zero point beyond the codes' type (a quantizer's choice the packing
     * keeps) widens both to uint8 */
    if (has_zero && zmax >> type_bits(dt))
        dt = RT_U8;
    int bits = type_bits(dt);
    size_t cbytes = (size_t)((k * nn * bits + 7) / 8), zbytes = (size_t)((ng * nn * bits + 7) / 8);
    uint8_t *cbuf = sa(s, cbytes), *zbuf = has_zero ? sa(s, zbytes) : NULL;
    for (int64_t i = 0; i < k * nn; i++)
        put_elem(cbuf, bits, i, code[i]);
    for (int64_t i = 0; has_zero && i < ng * nn; i++)
        put_elem(zbuf, bits, i, zero[i]);
    free(code), free(zero);

    const char *wn = w->name && w->name[0] ? w->name : n->name;
    char base[600];
    int64_t cdims[2] = {k, nn}, sdims[2] = {ng, nn};
    if (nk) {
        cdims[0] = sdims[0] = nn;
        cdims[1] = k;
        sdims[1] = ng;
    }
    snprintf(base, sizeof base, "%.500s_codes", wn);
    const char *cname = fresh(s, base);
    add_init(s, o, tensor(s, cname, dt, 2, cdims, cbuf, cbytes));
    snprintf(base, sizeof base, "%.500s_scale", wn);
    const char *sname = fresh(s, base);
    add_init(s, o, tensor(s, sname, RT_F32, 2, sdims, scale, sizeof *scale * (size_t)(ng * nn)));
    const char *zname = NULL;
    if (has_zero) {
        snprintf(base, sizeof base, "%.500s_zero", wn);
        zname = fresh(s, base);
        add_init(s, o, tensor(s, zname, dt, 2, sdims, zbuf, zbytes));
    }
    snprintf(base, sizeof base, "%.500s/DequantizeLinear", n->name);
    Onnx__NodeProto *dq = node(s, o, "DequantizeLinear", "", fresh(s, base), has_zero ? 3 : 2, 1);
    dq->input[0] = (char *)cname;
    dq->input[1] = (char *)sname;
    if (has_zero)
        dq->input[2] = (char *)zname;
    snprintf(base, sizeof base, "%.500s_dequantized", wn);
    dq->output[0] = (char *)fresh(s, base);
    Onnx__AttributeProto *a = attr(s, dq, "axis", AT_INT);
    a->has_i = 1;
    a->i = nk;
    a = attr(s, dq, "block_size", AT_INT);
    a->has_i = 1;
    a->i = group;
    return dq->output[0];
}

/* The default domain's opset the file needs: the graph's, raised to what
 * the MatMulWQ nodes' DequantizeLinear types need (subgraphs' too). */
static int64_t wq_needed_opset(const Graph *g, int64_t have)
{
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (!emitted(n))
            continue;
        if (n->op == OP_MATMUL_WQ || n->op == OP_CONV_WQ) {
            int64_t need = wq_opset((int)ir_attr_int(n, "format", 0));
            have = need > have ? need : have;
        }
        for (int i = 0; i < n->n_attrs; i++) {
            const Attr *a = &n->attrs[i];
            if (a->type == AT_GRAPH)
                have = wq_needed_opset(a->g, have);
            for (int j = 0; a->type == AT_GRAPHS && j < a->n; j++)
                have = wq_needed_opset(a->gs[j], have);
        }
    }
    return have;
}

/* The opset from which on an op's inputs and attributes keep one form up to
 * opset 25 (Operators.md's changelog): a node imported at or after it reads
 * the same at a raised opset. 0 for an op not listed: raising refuses it. */
static int stable_since(const Node *n)
{
    switch (n->op) {
    case OP_MATMUL: case OP_IDENTITY: case OP_TRANSPOSE: case OP_FLATTEN: case OP_CONV:
    case OP_GATHER: case OP_MAX_POOL: case OP_AVERAGE_POOL: case OP_GLOBAL_AVERAGE_POOL:
    case OP_GLOBAL_MAX_POOL: case OP_MATMUL_WQ: case OP_CONV_WQ: case OP_FUSED_CONV:
    case OP_DEQUANTIZE_LINEAR:
    case OP_QUANTIZE_LINEAR:
        return 1;
    case OP_CONCAT: return 4;
    case OP_RESHAPE: return 5;
    case OP_RELU: case OP_SIGMOID: case OP_TANH: case OP_LEAKY_RELU: case OP_SQRT: case OP_EXP:
        return 6;
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_GEMM: case OP_POW:
        return 7;
    case OP_ERF: return 9;
    case OP_CLIP: return 11;
    case OP_SOFTMAX: case OP_LOG_SOFTMAX: case OP_SQUEEZE: case OP_UNSQUEEZE: return 13;
    case OP_GELU: case OP_LAYER_NORMALIZATION: return 1; /* written as themselves at >= 20 */
    default: return 0;
    }
}

/* Raising the default domain's opset from the graph's to `to` keeps every
 * other node's meaning only if each reads the same there; otherwise the
 * file cannot be written (nodes of subgraphs are not examined: refused). */
static int can_raise(Saver *s, const Graph *g, int64_t from, int64_t to)
{
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (!emitted(n))
            continue;
        const char *domain = n->op >= 0 ? ir_ops[n->op].domain : n->domain;
        if (strcmp(domain, "") && strcmp(domain, "onnxcc"))
            continue; /* versioned by its own domain's import */
        int since = n->op >= 0 ? stable_since(n) : 0;
        int64_t at = n->opset > from ? n->opset : from;
        for (int i = 0; i < n->n_attrs; i++)
            if (n->attrs[i].type == AT_GRAPH || n->attrs[i].type == AT_GRAPHS)
                since = 0;
        if (!since || at < since)
            return ir_node_error(s->d, n, "--save-onnx: the quantized weights need opset %lld "
                                 "(DequantizeLinear's types) and the model imports %lld; "
                                 "this %s may read differently at %lld (re-export the model "
                                 "at opset %lld or later)", (long long)to, (long long)from,
                                 n->op >= 0 ? ir_ops[n->op].name : n->op_type, (long long)to,
                                 (long long)to);
    }
    return 0;
}

/* Marks the constants of g that a node of g (or of a subgraph inside it) reads. */
static void mark_reads(const Graph *g, const Graph *sub, char *need)
{
    for (int k = 0; k < sub->n_nodes; k++) {
        const Node *n = sub->nodes[k];
        if (!emitted(n))
            continue;
        for (int i = 0; i < n->n_in; i++) {
            const Value *v = n->in[i];
            /* MatMulWQ's and ConvWQ's packed matrix is written as codes and scales */
            if ((n->op == OP_MATMUL_WQ || n->op == OP_CONV_WQ) && i == 1)
                continue;
            if (v && v->data && ir_value_owned(g, v))
                need[v->id] = 1;
        }
        for (int i = 0; i < n->n_attrs; i++) {
            const Attr *a = &n->attrs[i];
            if (a->type == AT_GRAPH)
                mark_reads(g, a->g, need);
            for (int j = 0; a->type == AT_GRAPHS && j < a->n; j++)
                mark_reads(g, a->gs[j], need);
        }
    }
}

/* 1 if every ONNX-level input and output of g is one tensor. */
static int plain_io(Saver *s, const Graph *g)
{
    for (int io = 0; io < 2; io++)
        for (int k = 0; k < ir_n_groups(g, io); k++) {
            IoGroup grp = ir_io_group(g, io, k);
            if (grp.layout && strcmp(grp.layout, "T"))
                return ir_error(s->d, "--save-onnx: %s '%s' is a sequence or optional (%s), "
                                "which onnxcc has taken apart into tensors; it cannot be "
                                "written back", io ? "output" : "input", grp.name,
                                grp.layout) == 0;
        }
    return 1;
}

static Onnx__GraphProto *encode_graph(Saver *s, const Graph *g, int64_t opset)
{
    if (!plain_io(s, g))
        return NULL;
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i]->kind != VK_TENSOR) {
            ir_error(s->d, "--save-onnx: input '%s' is a sequence or optional, which onnxcc "
                     "cannot write back", g->inputs[i]->name);
            return NULL;
        }
    Onnx__GraphProto *gp = sa(s, sizeof *gp);
    onnx__graph_proto__init(gp);
    gp->name = (char *)(g->name && g->name[0] ? g->name : "onnxcc");
    /* an expansion makes at most 12 nodes and 4 constants of one */
    Out o = {gp, 12 * (size_t)g->n_nodes + 1, (size_t)g->n_values + 4 * (size_t)g->n_nodes + 1,
             opset};
    gp->node = sa(s, sizeof *gp->node * o.cap_nodes);
    gp->initializer = sa(s, sizeof *gp->initializer * o.cap_inits);
    gp->n_input = (size_t)g->n_inputs;
    gp->input = sa(s, sizeof *gp->input * (size_t)(g->n_inputs + 1));
    gp->n_output = (size_t)g->n_outputs;
    gp->output = sa(s, sizeof *gp->output * (size_t)(g->n_outputs + 1));
    /* the caller-visible names first, so nothing else takes them */
    for (int i = 0; i < g->n_inputs; i++)
        gp->input[i] = value_info(s, g->inputs[i]);
    for (int i = 0; i < g->n_outputs; i++)
        gp->output[i] = value_info(s, g->outputs[i]);
    char *need = calloc((size_t)g->n_values + 1, 1);
    IR_ASSERT(need);
    mark_reads(g, g, need);
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i]->data && !g->outputs[i]->is_input)
            need[g->outputs[i]->id] = 1;
    int rc = 0;
    for (int i = 0; i < g->n_values && rc == 0; i++) {
        const Value *v = g->values[i];
        if (!need[i] || v->is_input || (v->producer && emitted(v->producer)))
            continue;
        if (v->kind != VK_TENSOR)
            rc = ir_error(s->d, "--save-onnx: '%s' is a sequence or optional known at compile "
                          "time, which has no initializer form", v->name);
        else
            add_init(s, &o, tensor(s, name_of(s, v), v->dtype, v->rank, v->dims, v->data,
                                   ir_nbytes(v)));
    }
    free(need);
    for (int k = 0; k < g->n_nodes && rc == 0; k++)
        if (emitted(g->nodes[k]))
            rc = emit_node(s, &o, g, g->nodes[k]);
    return rc ? NULL : gp;
}

/* ---- the file ---- */

/* Writes buf to a new file beside path, then renames it over path: a
 * failure leaves no partial model behind. */
static int write_file(const char *path, const uint8_t *buf, size_t len, Diag *d)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    IR_ASSERT(tmp);
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        ir_error(d, "--save-onnx: cannot create a file beside '%s': %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    mode_t mask = umask(0);
    umask(mask);
    int rc = fchmod(fd, 0666 & ~mask);
    for (size_t done = 0; rc == 0 && done < len;) {
        ssize_t k = write(fd, buf + done, len - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            rc = -1;
        else
            done += (size_t)k;
    }
    int err = errno;
    if (close(fd) && rc == 0) {
        rc = -1;
        err = errno;
    }
    if (rc == 0 && rename(tmp, path)) {
        rc = -1;
        err = errno;
    }
    if (rc) {
        unlink(tmp);
        ir_error(d, "--save-onnx: cannot write '%s': %s", path, strerror(err));
    }
    free(tmp);
    return rc;
}

/* The IR version that brought an opset's types (onnx/helper.py's table):
 * uint4/int4 with 21, float4e2m1 with 23, uint2/int2 with 25. */
static int64_t ir_for_opset(int64_t opset)
{
    return opset >= 25 ? 13 : opset >= 24 ? 12 : opset >= 23 ? 11 : opset >= 21 ? 10 : 4;
}

int onnx_save(const Graph *g, const char *path, Diag *d)
{
    Saver s = {.d = d};
    int64_t opset = ir_opset(g, ""), need = wq_needed_opset(g, opset);
    if (need > opset && can_raise(&s, g, opset, need))
        return -1;
    s.opset = need;
    Onnx__ModelProto *mp = sa(&s, sizeof *mp);
    onnx__model_proto__init(mp);
    mp->has_ir_version = 1;
    /* before IR version 4 every initializer had to be a graph input too */
    mp->ir_version = g->ir_version >= 4 ? g->ir_version : 4;
    if (need > opset && mp->ir_version < ir_for_opset(need))
        mp->ir_version = ir_for_opset(need); /* the types the raised opset brought */
    mp->producer_name = "onnxcc";
    mp->producer_version = ONNXCC_VERSION;
    mp->graph = encode_graph(&s, g, s.opset);
    int rc = mp->graph ? 0 : -1;
    if (rc == 0) {
        int n = g->n_opsets + s.n_domains;
        mp->n_opset_import = (size_t)n;
        mp->opset_import = sa(&s, sizeof *mp->opset_import * (size_t)(n + 1));
        for (int i = 0; i < n; i++) {
            Onnx__OperatorSetIdProto *os = sa(&s, sizeof *os);
            onnx__operator_set_id_proto__init(os);
            os->domain = (char *)(i < g->n_opsets ? g->opsets[i].domain
                                                  : s.domains[i - g->n_opsets]);
            os->has_version = 1;
            os->version = i < g->n_opsets ? g->opsets[i].version : 1;
            const char *dom = os->domain;
            if (i < g->n_opsets && (!dom[0] || !strcmp(dom, "ai.onnx")))
                os->version = s.opset;
            mp->opset_import[i] = os;
        }
    }
    if (rc == 0) {
        size_t len = onnx__model_proto__get_packed_size(mp);
        uint8_t *buf = len < MAX_MODEL_BYTES ? malloc(len ? len : 1) : NULL;
        if (!buf)
            rc = ir_error(d, "--save-onnx: the model would take %zu bytes; protobuf's limit is "
                          "2 GiB", len);
        else if (onnx__model_proto__pack(mp, buf) != len)
            rc = ir_error(d, "--save-onnx: protobuf packing failed");
        if (rc == 0)
            rc = write_file(path, buf, len, d);
        free(buf);
    }
    while (s.mem) {
        Block *b = s.mem;
        s.mem = b->next;
        free(b);
    }
    free(s.keys);
    free(s.names);
    free(s.used);
    return rc;
}
