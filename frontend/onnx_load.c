/* onnx_load.c: the ONNX frontend: reads a ModelProto and builds the IR graph (with subgraphs). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend.h"

#define MAX_NESTING 100               /* message depth: ~30 levels of subgraphs */
#define MAX_NODE_ARITY 65535
#define MAX_NODE_ATTRS 1024           /* duplicate names are checked pairwise */

/* ---- names → values: one open-addressing table per graph scope ----
 * A subgraph's scope chains to its enclosing one, so a name from an outer
 * graph resolves to the outer Value itself (onnx/IR.md, "Names Within a Graph"). */
typedef struct Scope Scope;
struct Scope {
    Scope *parent;
    Value **slot;                /* cap entries, NULL when free */
    size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static Value *scope_local(const Scope *sc, const char *name)
{
    if (!sc->cap)
        return NULL;
    for (size_t i = hash_str(name) & (sc->cap - 1);; i = (i + 1) & (sc->cap - 1)) {
        Value *v = sc->slot[i];
        if (!v || !strcmp(v->name, name))
            return v;
    }
}

static Value *scope_find(const Scope *sc, const char *name)
{
    for (; sc; sc = sc->parent) {
        Value *v = scope_local(sc, name);
        if (v)
            return v;
    }
    return NULL;
}

static void put(Value **slot, size_t cap, Value *v)
{
    size_t i = hash_str(v->name) & (cap - 1);
    while (slot[i])
        i = (i + 1) & (cap - 1);
    slot[i] = v;
}

/* Adds v (whose name is not yet in sc); -1 when out of memory. */
static int scope_add(Scope *sc, Value *v)
{
    if (2 * (sc->n + 1) > sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 64;
        Value **slot = calloc(cap, sizeof *slot);
        if (!slot)
            return -1;
        for (size_t i = 0; i < sc->cap; i++)
            if (sc->slot[i])
                put(slot, cap, sc->slot[i]);
        free(sc->slot);
        sc->slot = slot;
        sc->cap = cap;
    }
    put(sc->slot, sc->cap, v);
    sc->n++;
    return 0;
}

/* ---- loading ---- */
typedef struct Ctx {
    Diag *d;
    const char *path;            /* arena copy of the model path, or NULL */
    char *dir;                   /* the model's folder for external data (malloc'ed) */
    const Onnx__ModelProto *mp;  /* for its local functions */
    int call_depth;              /* local functions being inlined, nested */
    size_t n_calls;              /* calls inlined so far: each one's names are unique */
} Ctx;

static const char *str(const char *s)
{
    return s ? s : "";
}

static int oom(Ctx *c)
{
    return ir_error(c->d, "out of memory while loading the model");
}

/* Applies a TypeProto to v. strict: a graph input or output, whose type must be one
 * onnxcc can hold; otherwise (value_info) a type onnxcc cannot use is just ignored. */
static int apply_type(Ctx *c, Graph *g, Value *v, const Onnx__TypeProto *tp, const char *role,
                      int strict)
{
    if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET)
        return 0;
    const char *kind = NULL;
    char nest[16];
    int depth = 0;
    /* sequences and optionals of tensors, nested: their structure is
     * resolved at compile time (from a sample for a graph input) */
    while (!kind && tp && depth < (int)sizeof nest - 1) {
        if (tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE && tp->sequence_type) {
            nest[depth++] = 'S';
            tp = tp->sequence_type->elem_type;
        } else if (tp->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE &&
                   tp->optional_type) {
            nest[depth++] = 'O';
            tp = tp->optional_type->elem_type;
        } else {
            break;
        }
    }
    nest[depth] = 0;
    if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) {
        kind = "unknown";
    } else {
        switch (tp->value_case) {
        case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: kind = "deeply nested"; break;
        case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: kind = "deeply nested"; break;
        case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: kind = "map"; break;
        case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: kind = "sparse tensor"; break;
        case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE: break;
        default: kind = "unknown"; break;
        }
    }
    if (kind)
        return strict ? ir_error(c->d, "%s '%s': %s types are not supported", role, v->name,
                                 kind) : 0;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    int dt = tt->has_elem_type ? tt->elem_type : RT_UNDEF;
    if (dt != RT_UNDEF && !rt_dtype_bits(dt))
        return strict ? ir_error(c->d, "%s '%s': dtype %s (%d) is not supported", role,
                                 v->name, onnx_dtype_name(dt), dt) : 0;
    const Onnx__TensorShapeProto *sh = tt->shape;
    if (sh && (int64_t)sh->n_dim > g->limits.v[LIM_RANK])
        return strict ? ir_error(c->d, "%s '%s': rank %zu is above the limit of %lld", role,
                                 v->name, sh->n_dim, (long long)g->limits.v[LIM_RANK]) : 0;
    v->dtype = dt;
    if (depth) {
        /* the element's shape is the sample's business */
        v->kind = nest[0] == 'S' ? VK_SEQUENCE : VK_OPTIONAL;
        v->n_elems = -1;
        v->nest = ir_strdup(g, nest);
        return 0;
    }
    v->rank = sh ? (int32_t)sh->n_dim : -1;
    for (int i = 0; i < v->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *dim = sh->dim[i];
        v->dims[i] = -1;
        v->dim_param[i] = NULL;
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
            dim->dim_value >= 0)
            v->dims[i] = dim->dim_value;
        else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                 dim->dim_param && dim->dim_param[0])
            v->dim_param[i] = ir_strdup(g, dim->dim_param);
    }
    return 0;
}

static int decode_graph(Ctx *c, const Onnx__GraphProto *gp, Graph *g, Scope *outer);

/* Attribute kind from the field that is set, for exporters that leave `type` UNDEFINED. */
static int guess_attr_type(const Onnx__AttributeProto *ap)
{
    if (ap->t) return AT_TENSOR;
    if (ap->g) return AT_GRAPH;
    if (ap->sparse_tensor) return AT_SPARSE_TENSOR;
    if (ap->tp) return AT_TYPE_PROTO;
    if (ap->has_s) return AT_STRING;
    if (ap->has_i) return AT_INT;
    if (ap->has_f) return AT_FLOAT;
    if (ap->n_floats) return AT_FLOATS;
    if (ap->n_ints) return AT_INTS;
    if (ap->n_strings) return AT_STRINGS;
    if (ap->n_tensors) return AT_TENSORS;
    if (ap->n_graphs) return AT_GRAPHS;
    if (ap->n_sparse_tensors) return AT_SPARSE_TENSORS;
    if (ap->n_type_protos) return AT_TYPE_PROTOS;
    return AT_UNDEF;
}

static char *copy_bytes(Graph *g, const ProtobufCBinaryData *b)
{
    char *s = ir_alloc(g, b->len + 1);
    if (s && b->len)
        memcpy(s, b->data, b->len);
    return s;
}

/* An array of n elements of size sz from the arena; NULL (after reporting) if too big. */
static void *alloc_array(Ctx *c, Graph *g, size_t n, size_t sz)
{
    void *p = n <= SIZE_MAX / sz / 2 ? ir_alloc(g, n * sz + 1) : NULL;
    if (!p)
        oom(c);
    return p;
}

static int decode_subgraph(Ctx *c, Scope *sc, Graph *g, const Onnx__GraphProto *gp,
                           Graph **slot)
{
    if (g->depth + 1 > g->limits.v[LIM_DEPTH])
        return ir_error(c->d, "subgraph '%s' is nested %d deep, above the limit of %lld "
                        "(--limit depth=N raises it)", str(gp->name), g->depth + 1,
                        (long long)g->limits.v[LIM_DEPTH]);
    /* the slot is filled first so ir_graph_free finds a half-decoded subgraph */
    *slot = ir_graph_new(g);
    return decode_graph(c, gp, *slot, sc);
}

static int decode_attr(Ctx *c, Scope *sc, Graph *g, Node *n, int idx,
                       const Onnx__AttributeProto *ap)
{
    Attr *a = &n->attrs[idx];
    const char *name = str(ap->name);
    if (!name[0])
        return ir_node_error(c->d, n, "attribute %d has no name", idx);
    for (int k = 0; k < idx; k++)
        if (!strcmp(n->attrs[k].name, name))
            return ir_node_error(c->d, n, "attribute '%s' appears twice", name);
    a->name = ir_strdup(g, name);
    /* an OR is at least the largest count */
    size_t most = ap->n_floats | ap->n_ints | ap->n_strings | ap->n_tensors | ap->n_graphs;
    if (most > INT32_MAX / 2)
        return ir_node_error(c->d, n, "attribute '%s' has too many elements", name);
    if (ap->ref_attr_name && ap->ref_attr_name[0])
        return ir_node_error(c->d, n, "attribute '%s' refers to '%s', which only a function "
                             "body may do", name, ap->ref_attr_name);
    int type = ap->has_type ? (int)ap->type : AT_UNDEF, held = guess_attr_type(ap);
    if (type == AT_UNDEF)
        type = held;
    /* a scalar declared as one type but carried in another's field would
     * otherwise read as 0 */
    int scalar_set = type == AT_INT ? ap->has_i : type == AT_FLOAT ? ap->has_f
                     : type == AT_STRING ? ap->has_s : 1;
    if (!scalar_set && held != AT_UNDEF)
        return ir_node_error(c->d, n, "attribute '%s' is declared %s but holds %s", name,
                             ir_attr_type_name(type), ir_attr_type_name(held));
    char what[160];
    snprintf(what, sizeof what, "attribute '%.128s'", name);
    TensorSrc ts = {g, c->d, n, what, c->dir};
    switch (type) {
    case AT_FLOAT:
        a->f = ap->f;
        break;
    case AT_INT:
        a->i = ap->i;
        break;
    case AT_STRING:
        if (!(a->s = copy_bytes(g, &ap->s)))
            return oom(c);
        a->s_len = ap->s.len;
        break;
    case AT_TENSOR:
        if (!ap->t)
            return ir_node_error(c->d, n, "attribute '%s' is a tensor but holds none", name);
        if (!(a->t = alloc_array(c, g, 1, sizeof *a->t)))
            return -1;
        if (onnx_tensor_decode(&ts, ap->t, a->t))
            return -1;
        break;
    case AT_GRAPH:
        if (!ap->g)
            return ir_node_error(c->d, n, "attribute '%s' is a graph but holds none", name);
        a->type = AT_GRAPH;
        if (decode_subgraph(c, sc, g, ap->g, &a->g))
            return -1;
        break;
    case AT_FLOATS:
        if (!(a->floats = alloc_array(c, g, ap->n_floats, sizeof *a->floats)))
            return -1;
        if (ap->n_floats)
            memcpy(a->floats, ap->floats, ap->n_floats * sizeof *a->floats);
        a->n = (int)ap->n_floats;
        break;
    case AT_INTS:
        if (!(a->ints = alloc_array(c, g, ap->n_ints, sizeof *a->ints)))
            return -1;
        if (ap->n_ints)
            memcpy(a->ints, ap->ints, ap->n_ints * sizeof *a->ints);
        a->n = (int)ap->n_ints;
        break;
    case AT_STRINGS:
        if (!(a->strings = alloc_array(c, g, ap->n_strings, sizeof *a->strings)))
            return -1;
        for (size_t k = 0; k < ap->n_strings; k++)
            if (!(a->strings[k] = copy_bytes(g, &ap->strings[k])))
                return oom(c);
        a->n = (int)ap->n_strings;
        break;
    case AT_TENSORS:
        if (!(a->t = alloc_array(c, g, ap->n_tensors, sizeof *a->t)))
            return -1;
        for (size_t k = 0; k < ap->n_tensors; k++)
            if (onnx_tensor_decode(&ts, ap->tensors[k], &a->t[k]))
                return -1;
        a->n = (int)ap->n_tensors;
        break;
    case AT_GRAPHS:
        if (!(a->gs = alloc_array(c, g, ap->n_graphs, sizeof *a->gs)))
            return -1;
        a->n = (int)ap->n_graphs;
        a->type = AT_GRAPHS;
        for (size_t k = 0; k < ap->n_graphs; k++)
            if (decode_subgraph(c, sc, g, ap->graphs[k], &a->gs[k]))
                return -1;
        break;
    case AT_SPARSE_TENSOR: case AT_SPARSE_TENSORS:
        return ir_node_error(c->d, n, "attribute '%s': sparse tensor attributes are not "
                             "supported", name);
    case AT_TYPE_PROTO: case AT_TYPE_PROTOS:
        /* only Optional has one, the type of an empty optional, which
         * onnxcc does not need: its consumers are resolved at compile time */
        break;
    case AT_UNDEF:
        return ir_node_error(c->d, n, "attribute '%s' has no value", name);
    default:
        return ir_node_error(c->d, n, "attribute '%s' has unknown type %d", name, type);
    }
    a->type = (AttrType)type;
    return 0;
}

static int inline_call(Ctx *c, Scope *sc, Graph *g, const Onnx__NodeProto *call,
                       const Onnx__FunctionProto *f, size_t idx);

static const Onnx__FunctionProto *local_function(const Ctx *c, const char *domain,
                                                 const char *op_type)
{
    for (size_t i = 0; c->mp && i < c->mp->n_functions; i++) {
        const Onnx__FunctionProto *f = c->mp->functions[i];
        if (!strcmp(str(f->name), op_type) && !strcmp(str(f->domain), domain))
            return f;
    }
    return NULL;
}

static int decode_node(Ctx *c, Scope *sc, Graph *g, const Onnx__NodeProto *np, size_t idx)
{
    const char *op_type = str(np->op_type);
    if (!op_type[0])
        return ir_error(c->d, "node %zu ('%s') has no op_type", idx, str(np->name));
    const Onnx__FunctionProto *f = local_function(c, str(np->domain), op_type);
    if (f)
        return inline_call(c, sc, g, np, f, idx);
    if (np->n_input > MAX_NODE_ARITY || np->n_output > MAX_NODE_ARITY ||
        np->n_attribute > MAX_NODE_ATTRS)
        return ir_error(c->d, "node '%s' (%s): too many inputs, outputs or attributes",
                        str(np->name), op_type);
    Node *n = ir_node_new(g, op_type, str(np->domain), np->name, (int)np->n_input,
                          (int)np->n_output);
    for (size_t i = 0; i < np->n_input; i++) {
        const char *name = str(np->input[i]);
        if (!name[0])
            continue;
        Value *v = scope_find(sc, name);
        if (!v)
            return ir_node_error(c->d, n, "input '%s' is not produced by any earlier node or "
                                 "graph input", name);
        ir_set_input(g, n, (int)i, v);
    }
    /* attributes before outputs: a subgraph sees what is defined before its node */
    if (np->n_attribute) {
        if (!(n->attrs = alloc_array(c, g, np->n_attribute, sizeof *n->attrs)))
            return -1;
        n->n_attrs = (int)np->n_attribute;
        for (size_t i = 0; i < np->n_attribute; i++)
            if (decode_attr(c, sc, g, n, (int)i, np->attribute[i]))
                return -1;
    }
    for (size_t i = 0; i < np->n_output; i++) {
        const char *name = str(np->output[i]);
        if (!name[0])
            continue;
        if (scope_local(sc, name))
            return ir_node_error(c->d, n, "output '%s' is already defined by an earlier node, "
                                 "input or initializer", name);
        Value *v = ir_value_new(g, name);
        v->producer = n;
        n->out[i] = v;
        if (scope_add(sc, v))
            return oom(c);
    }
    return 0;
}

/* ---- model-local functions (ModelProto.functions) ----
 * A call is replaced by the function's body: formal inputs and outputs take
 * the call's names, every other name is prefixed with the call's name, and
 * an attribute that refers to the call's (ref_attr_name) takes its value. */
#define MAX_CALL_DEPTH 16

typedef struct Rename {
    const Onnx__FunctionProto *f;
    const Onnx__NodeProto *call;
    const char *prefix;
} Rename;

static char *rename_value(const Rename *r, const char *name)
{
    const char *to = NULL;
    if (!name[0])
        to = "";
    for (size_t i = 0; !to && i < r->f->n_input; i++)
        if (!strcmp(str(r->f->input[i]), name))
            to = i < r->call->n_input ? str(r->call->input[i]) : "";
    for (size_t i = 0; !to && i < r->f->n_output; i++)
        if (!strcmp(str(r->f->output[i]), name))
            to = i < r->call->n_output ? str(r->call->output[i]) : "";
    if (to)
        return strdup(to);
    size_t n = strlen(r->prefix) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", r->prefix, name);
    return p;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static int inline_call(Ctx *c, Scope *sc, Graph *g, const Onnx__NodeProto *call,
                       const Onnx__FunctionProto *f, size_t idx)
{
    const char *cname = call->name && call->name[0] ? call->name : str(call->op_type);
    if (c->call_depth >= MAX_CALL_DEPTH)
        return ir_error(c->d, "node '%s' (%s): local functions nested deeper than %d", cname,
                        str(call->op_type), MAX_CALL_DEPTH);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s#%zu", cname, c->n_calls++);
    Rename r = {f, call, prefix};
    int rc = 0;
    c->call_depth++;
    for (size_t k = 0; k < f->n_node && rc == 0; k++) {
        const Onnx__NodeProto *bn = f->node[k];
        Onnx__NodeProto tmp = *bn;
        char name[512];
        snprintf(name, sizeof name, "%s/%s", prefix, str(bn->name));
        tmp.name = name;
        tmp.input = calloc(bn->n_input + 1, sizeof *tmp.input);
        tmp.output = calloc(bn->n_output + 1, sizeof *tmp.output);
        tmp.attribute = calloc(bn->n_attribute + 1, sizeof *tmp.attribute);
        Onnx__AttributeProto *copies = calloc(bn->n_attribute + 1, sizeof *copies);
        rc = tmp.input && tmp.output && tmp.attribute && copies ? 0 : oom(c);
        for (size_t i = 0; i < bn->n_input && rc == 0; i++)
            if (!(tmp.input[i] = rename_value(&r, str(bn->input[i]))))
                rc = oom(c);
        for (size_t i = 0; i < bn->n_output && rc == 0; i++)
            if (!(tmp.output[i] = rename_value(&r, str(bn->output[i]))))
                rc = oom(c);
        tmp.n_attribute = 0;
        for (size_t i = 0; i < bn->n_attribute && rc == 0; i++) {
            const Onnx__AttributeProto *a = bn->attribute[i];
            if (a->g || a->n_graphs) {
                rc = ir_error(c->d, "node '%s' (%s): graph attributes inside local function "
                              "'%s' are not supported", name, str(bn->op_type), str(f->name));
                break;
            }
            if (!a->ref_attr_name || !a->ref_attr_name[0]) {
                tmp.attribute[tmp.n_attribute++] = (Onnx__AttributeProto *)a;
                continue;
            }
            /* the call's attribute of that name, renamed; absent: the op's default */
            for (size_t j = 0; j < call->n_attribute; j++) {
                if (strcmp(str(call->attribute[j]->name), a->ref_attr_name))
                    continue;
                copies[i] = *call->attribute[j];
                copies[i].name = a->name;
                tmp.attribute[tmp.n_attribute++] = &copies[i];
            }
        }
        if (rc == 0)
            rc = decode_node(c, sc, g, &tmp, idx);
        /* the function's own opset of a domain governs its body */
        for (size_t i = 0; rc == 0 && i < f->n_opset_import; i++) {
            const Onnx__OperatorSetIdProto *os = f->opset_import[i];
            Node *n = g->n_nodes ? g->nodes[g->n_nodes - 1] : NULL;
            if (n && os->has_version && !strcmp(str(os->domain), n->domain) &&
                !local_function(c, str(bn->domain), str(bn->op_type)))
                n->opset = os->version;
        }
        free_strs(tmp.input, bn->n_input);
        free_strs(tmp.output, bn->n_output);
        free(tmp.attribute);
        free(copies);
    }
    c->call_depth--;
    return rc;
}

static int decode_initializers(Ctx *c, Scope *sc, Graph *g, const Onnx__GraphProto *gp)
{
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        const char *name = str(tp->name);
        if (!name[0])
            return ir_error(c->d, "initializer %zu has no name", i);
        if (scope_local(sc, name))
            return ir_error(c->d, "initializer '%s' is defined twice", name);
        char what[160];
        snprintf(what, sizeof what, "initializer '%.128s'", name);
        TensorSrc ts = {g, c->d, NULL, what, c->dir};
        Tensor t;
        if (onnx_tensor_decode(&ts, tp, &t))
            return -1;
        Value *v = ir_value_new(g, name);
        v->dtype = t.dtype;
        v->rank = t.rank;
        memcpy(v->dims, t.dims, sizeof v->dims);
        v->data = t.data;
        v->is_initializer = 1;
        if (scope_add(sc, v))
            return oom(c);
    }
    if (gp->n_sparse_initializer)
        return ir_error(c->d, "sparse initializer '%s' is not supported",
                        gp->sparse_initializer[0]->values
                            ? str(gp->sparse_initializer[0]->values->name) : "");
    return 0;
}

static int decode_inputs(Ctx *c, Scope *sc, Graph *g, const Onnx__GraphProto *gp)
{
    if (!(g->inputs = calloc(gp->n_input + 1, sizeof *g->inputs)))
        return oom(c);
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *name = str(vi->name);
        if (!name[0])
            return ir_error(c->d, "graph input %zu has no name", i);
        Value *v = scope_local(sc, name);
        /* IR version < 4 lists initializers among the inputs: a constant with a
         * default the caller could override; onnxcc keeps it constant. */
        if (v && v->is_initializer)
            continue;
        if (v)
            return ir_error(c->d, "graph input '%s' is listed twice", name);
        v = ir_value_new(g, name);
        v->is_input = 1;
        if (apply_type(c, g, v, vi->type, "input", 1))
            return -1;
        g->inputs[g->n_inputs++] = v;
        if (scope_add(sc, v))
            return oom(c);
    }
    return 0;
}

static int decode_outputs(Ctx *c, Scope *sc, Graph *g, const Onnx__GraphProto *gp)
{
    if (!(g->outputs = calloc(gp->n_output + 1, sizeof *g->outputs)))
        return oom(c);
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        const char *name = str(vi->name);
        if (!name[0])
            return ir_error(c->d, "graph output %zu has no name", i);
        Value *v = scope_local(sc, name);
        if (!v && scope_find(sc, name)) {
            /* A subgraph may return a value of an enclosing graph; an Identity keeps
             * every graph's outputs its own values. */
            Node *n = ir_node_new(g, "Identity", "", NULL, 1, 1);
            ir_set_input(g, n, 0, scope_find(sc, name));
            v = n->out[0] = ir_value_new(g, name);
            v->producer = n;
            if (scope_add(sc, v))
                return oom(c);
        }
        if (!v)
            return ir_error(c->d, "graph output '%s' is not produced by any node, input or "
                            "initializer", name);
        Value tmp = *v;
        if (apply_type(c, g, &tmp, vi->type, "output", 1))
            return -1;
        /* the declared type is a hint for computed values; inference overwrites it */
        if (v->producer && v->dtype == RT_UNDEF)
            *v = tmp;
        v->is_output = 1;
        g->outputs[g->n_outputs++] = v;
    }
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = gp->value_info[i];
        Value *v = scope_local(sc, str(vi->name));
        if (v && v->producer && v->dtype == RT_UNDEF && v->rank < 0)
            apply_type(c, g, v, vi->type, "value_info", 0);
    }
    return 0;
}

/* Builds g from gp; outer is the enclosing graph's scope for a subgraph. */
static int decode_graph(Ctx *c, const Onnx__GraphProto *gp, Graph *g, Scope *outer)
{
    Scope sc = {outer, NULL, 0, 0};
    g->name = ir_strdup(g, str(gp->name));
    g->path = c->path;
    if ((int64_t)gp->n_node > g->limits.v[LIM_NODES])
        return ir_error(c->d, "graph '%s' has %zu nodes, above the limit of %lld (--limit "
                        "nodes=N raises it)", g->name, gp->n_node,
                        (long long)g->limits.v[LIM_NODES]);
    int rc = -1;
    if (decode_initializers(c, &sc, g, gp) || decode_inputs(c, &sc, g, gp))
        goto out;
    for (size_t i = 0; i < gp->n_node; i++)
        if (decode_node(c, &sc, g, gp->node[i], i))
            goto out;
    rc = decode_outputs(c, &sc, g, gp);
out:
    free(sc.slot);
    return rc;
}

/* ---- protobuf nesting guard ----
 * protobuf-c unpacks nested messages recursively with no depth limit, so a small
 * hostile file of nested subgraphs could exhaust the stack. This walks the wire
 * format with the generated descriptors first and refuses deep nesting. */
static int read_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *i < len; shift += 7) {
        uint8_t b = p[(*i)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

/* 1 if nesting stays within MAX_NESTING; malformed input is left to protobuf-c. */
static int nesting_ok(const uint8_t *p, size_t len, const ProtobufCMessageDescriptor *desc,
                      int depth)
{
    if (depth > MAX_NESTING)
        return 0;
    size_t i = 0;
    while (i < len) {
        uint64_t tag, l;
        if (!read_varint(p, len, &i, &tag))
            return 1;
        switch (tag & 7) {
        case 0:
            if (!read_varint(p, len, &i, &l))
                return 1;
            break;
        case 1:
            i += 8;
            break;
        case 5:
            i += 4;
            break;
        case 2: {
            if (!read_varint(p, len, &i, &l) || l > len - i)
                return 1;
            const ProtobufCFieldDescriptor *f =
                tag >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3))
                    : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !nesting_ok(p + i, (size_t)l, f->descriptor, depth + 1))
                return 0;
            i += (size_t)l;
            break;
        }
        default:
            return 1;
        }
    }
    return 1;
}

/* ---- entry points ---- */

static char *dir_of(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!slash)
        return path ? strdup(".") : NULL;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = 0;
    }
    return d;
}

/* Every default-domain op must exist in the opset its node imports (the
 * function bodies' own imports included, hence after decoding). */
static int check_since(Diag *d, const Graph *g)
{
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        int since = ir_op_since(n->domain, n->op_type);
        if (n->opset < since)
            return ir_node_error(d, n, "%s first appears in opset %d; the model imports opset "
                                 "%lld", n->op_type, since, (long long)n->opset);
        for (int i = 0; i < n->n_attrs; i++) {
            const Attr *a = &n->attrs[i];
            if (a->type == AT_GRAPH && check_since(d, a->g))
                return -1;
            for (int j = 0; a->type == AT_GRAPHS && j < a->n; j++)
                if (check_since(d, a->gs[j]))
                    return -1;
        }
    }
    return 0;
}

static int load_model(Ctx *c, const Onnx__ModelProto *mp, Graph *g)
{
    Diag *d = c->d;
    if (!mp->has_ir_version)
        return ir_error(d, "not a valid ONNX model (no ir_version)");
    if (!mp->graph)
        return ir_error(d, "not a valid ONNX model (no graph)");
    g->ir_version = mp->ir_version;
    g->producer_name = ir_strdup(g, str(mp->producer_name));
    if (mp->n_opset_import > sizeof g->opsets / sizeof g->opsets[0])
        return ir_error(d, "the model imports %zu opsets; onnxcc handles at most %zu",
                        mp->n_opset_import, sizeof g->opsets / sizeof g->opsets[0]);
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
        const char *dom = str(os->domain);
        if (!os->has_version)
            return ir_error(d, "opset_import of domain '%s' has no version", dom);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(str(mp->opset_import[j]->domain), dom))
                return ir_error(d, "opset_import lists the domain '%s' twice", dom);
        int max = ir_opset_max(dom);
        if (max > 0 && (os->version < 1 || os->version > max))
            return ir_error(d, "the model imports opset %lld of %s%s%s; onnxcc knows opsets 1 "
                            "to %d", (long long)os->version, dom[0] ? "domain '" : "the default "
                            "domain", dom, dom[0] ? "'" : "", max);
        g->opsets[g->n_opsets].domain = ir_strdup(g, str(os->domain));
        g->opsets[g->n_opsets++].version = os->version;
    }
    /* IR versions 1-2 predate opset_import; their ops are opset 1 */
    if (!g->n_opsets && mp->ir_version >= 3)
        return ir_error(d, "the model imports no opset (opset_import is empty)");
    if (!g->n_opsets) {
        g->opsets[0].domain = "";
        g->opsets[0].version = 1;
        g->n_opsets = 1;
    }
    c->mp = mp;
    if (decode_graph(c, mp->graph, g, NULL))
        return -1;
    return check_since(d, g);
}

static void model_too_big(Diag *d, long long len, const IrLimits *lim);

/* Loads from buf; owned (if not NULL) is freed as soon as protobuf-c has copied
 * what it needs, so a large model is not held twice. */
static Graph *load_bytes(const void *buf, size_t len, const char *path, const IrLimits *lim,
                         Diag *d, void *owned)
{
    Onnx__ModelProto *mp = NULL;
    if ((uint64_t)len > (uint64_t)lim->v[LIM_MODEL_BYTES])
        model_too_big(d, (long long)len, lim);
    else if (len == 0)
        ir_error(d, "not a valid ONNX model (the file is empty)");
    else if (!nesting_ok(buf, len, &onnx__model_proto__descriptor, 0))
        ir_error(d, "not a valid ONNX model (messages nested deeper than %d levels)",
                 MAX_NESTING);
    else if (!(mp = onnx__model_proto__unpack(NULL, len, buf)))
        ir_error(d, "not a valid ONNX model (protobuf parse failed)");
    free(owned);
    if (!mp)
        return NULL;
    Graph *g = ir_graph_new(NULL);
    g->limits = *lim;
    Ctx c = {.d = d, .path = path ? ir_strdup(g, path) : NULL, .dir = dir_of(path)};
    int rc = path && !c.dir ? oom(&c) : load_model(&c, mp, g);
    free(c.dir);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (rc) {
        ir_graph_free(g);
        return NULL;
    }
    return g;
}

static void model_too_big(Diag *d, long long len, const IrLimits *lim)
{
    ir_error(d, "the model is %lld bytes, above the limit of %lld (--limit model-bytes=N "
             "raises it; store large weights as external data)", len,
             (long long)lim->v[LIM_MODEL_BYTES]);
}

Graph *onnx_load_buffer(const void *buf, size_t len, const char *path, Diag *d)
{
    IrLimits lim;
    ir_limits_default(&lim);
    if (!d->file)
        d->file = path;
    return load_bytes(buf, len, path, &lim, d, NULL);
}

Graph *onnx_load(const char *path, Diag *d)
{
    return onnx_load_limits(path, NULL, d);
}

/* The size is checked before anything is read, and the read is a bounded
 * loop: a file that grows (or a device posing as one) cannot make onnxcc
 * read past the limit. */
Graph *onnx_load_limits(const char *path, const IrLimits *limits, Diag *d)
{
    IrLimits lim;
    if (limits)
        lim = *limits;
    else
        ir_limits_default(&lim);
    if (!d->file)
        d->file = path;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st)) {
        ir_error(d, "cannot open: %s", strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        ir_error(d, "not a regular file");
        return NULL;
    }
    if ((uint64_t)st.st_size > (uint64_t)lim.v[LIM_MODEL_BYTES] ||
        (uint64_t)st.st_size >= SIZE_MAX) {
        fclose(f);
        model_too_big(d, (long long)st.st_size, &lim);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    unsigned char *buf = malloc(len + 1);
    if (!buf) {
        fclose(f);
        ir_error(d, "out of memory reading %zu bytes", len);
        return NULL;
    }
    /* one byte more than stat said tells a file that grew since */
    size_t got = 0, k;
    while (got < len + 1 && (k = fread(buf + got, 1, len + 1 - got, f)) > 0)
        got += k;
    int err = ferror(f);
    fclose(f);
    if (err || got != len) {
        free(buf);
        ir_error(d, err ? "read error (got %zu of %zu bytes)"
                        : "the file changed while it was read (got %zu bytes, expected %zu)",
                 got, len);
        return NULL;
    }
    return load_bytes(buf, len, path, &lim, d, buf);
}
