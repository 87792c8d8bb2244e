/* graph.c: the graph's arena, values, nodes, attribute getters and shape helpers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* One graph (with its subgraphs) allocates from a chain of blocks freed at once.
 * The total is capped so a hostile model cannot make the compiler allocate
 * without bound. */
#define BLOCK_SIZE (1u << 20)
#define ARENA_CAP ((size_t)16 << 30)

struct ArenaBlock {
    ArenaBlock *next;
    size_t used, size;
    size_t total;                /* bytes in this block and all before it */
    _Alignas(16) unsigned char data[];
};

static Graph *root_of(Graph *g)
{
    while (g->parent)
        g = g->parent;
    return g;
}

void *ir_alloc(Graph *g, size_t n)
{
    g = root_of(g);
    if (n > ARENA_CAP)
        return NULL; /* before rounding, which would wrap SIZE_MAX to 0 */
    n = (n + 15) & ~(size_t)15;
    ArenaBlock *b = g->mem;
    if (!b || b->size - b->used < n) {
        size_t total = b ? b->total : 0;
        size_t size = n > BLOCK_SIZE / 4 ? n : BLOCK_SIZE;
        if (n > ARENA_CAP || total + size > ARENA_CAP)
            return NULL;
        ArenaBlock *nb = malloc(sizeof *nb + size);
        if (!nb)
            return NULL;
        nb->size = size;
        nb->used = 0;
        nb->total = total + size;
        if (n > BLOCK_SIZE / 4 && b) {
            /* a large block goes behind the current one, which keeps its free space */
            nb->next = b->next;
            b->next = nb;
            b->total += size;
            nb->used = n;
            memset(nb->data, 0, n);
            return nb->data;
        }
        nb->next = b;
        g->mem = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *ir_strdup(Graph *g, const char *s)
{
    size_t n = strlen(s);
    char *p = ir_alloc(g, n + 1);
    IR_ASSERT(p);
    memcpy(p, s, n + 1);
    return p;
}

Graph *ir_graph_new(Graph *parent)
{
    Graph *g = calloc(1, sizeof *g);
    IR_ASSERT(g);
    g->parent = parent;
    g->name = "";
    if (parent) {
        g->limits = parent->limits;
        g->depth = parent->depth + 1;
    } else {
        ir_limits_default(&g->limits);
    }
    return g;
}

void ir_graph_free(Graph *g)
{
    if (!g)
        return;
    /* subgraphs own their arrays but allocate from the root's arena: free them
     * while the nodes that hold them are still readable */
    for (int i = 0; i < g->n_nodes; i++) {
        Node *n = g->nodes[i];
        for (int j = 0; j < n->n_attrs; j++) {
            Attr *a = &n->attrs[j];
            if (a->type == AT_GRAPH)
                ir_graph_free(a->g);
            else if (a->type == AT_GRAPHS)
                for (int k = 0; k < a->n; k++)
                    ir_graph_free(a->gs[k]);
        }
    }
    free(g->nodes);
    free(g->values);
    free(g->inputs);
    free(g->outputs);
    ArenaBlock *b = g->mem;
    while (b) {
        ArenaBlock *next = b->next;
        free(b);
        b = next;
    }
    free(g);
}

static void *grow(void *arr, int *cap, size_t elem)
{
    int nc = *cap ? *cap * 2 : 64;
    void *p = realloc(arr, (size_t)nc * elem);
    IR_ASSERT(p);
    *cap = nc;
    return p;
}

Value *ir_value_new(Graph *g, const char *name)
{
    Value *v = ir_alloc(g, sizeof *v);
    IR_ASSERT(v);
    if (g->n_values == g->cap_values)
        g->values = grow(g->values, &g->cap_values, sizeof *g->values);
    v->id = g->n_values;
    g->values[g->n_values++] = v;
    if (name) {
        v->name = ir_strdup(g, name);
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "_t%d", v->id);
        v->name = ir_strdup(g, buf);
    }
    v->rank = -1;
    v->offset = -1;
    v->live_first = v->live_last = -1;
    return v;
}

Node *ir_node_new(Graph *g, const char *op_type, const char *domain, const char *name,
                  int n_in, int n_out)
{
    Node *n = ir_alloc(g, sizeof *n);
    IR_ASSERT(n);
    n->op_type = ir_strdup(g, op_type);
    n->domain = ir_strdup(g, domain ? domain : "");
    if (name && name[0]) {
        n->name = ir_strdup(g, name);
    } else {
        char buf[96];
        snprintf(buf, sizeof buf, "%.64s_%d", op_type, g->n_nodes);
        n->name = ir_strdup(g, buf);
    }
    n->op = ir_op_lookup(n->domain, op_type);
    n->opset = ir_opset(g, n->domain);
    n->n_in = n_in;
    n->n_out = n_out;
    n->in = ir_alloc(g, sizeof(Value *) * (size_t)(n_in + 1));
    n->slots = ir_alloc(g, sizeof(Use) * (size_t)(n_in + 1));
    n->out = ir_alloc(g, sizeof(Value *) * (size_t)(n_out + 1));
    IR_ASSERT(n->in && n->slots && n->out);
    if (g->n_nodes == g->cap_nodes)
        g->nodes = grow(g->nodes, &g->cap_nodes, sizeof *g->nodes);
    g->nodes[g->n_nodes++] = n;
    return n;
}

Value *ir_value_find(Graph *g, const char *name)
{
    for (int i = g->n_values - 1; i >= 0; i--)
        if (!strcmp(g->values[i]->name, name))
            return g->values[i];
    return NULL;
}

int ir_value_owned(const Graph *g, const Value *v)
{
    return v->id >= 0 && v->id < g->n_values && g->values[v->id] == v;
}

static void unlink_use(Use *u)
{
    Value *v = u->val;
    if (!v)
        return;
    if (u->prev)
        u->prev->next = u->next;
    else
        v->uses = u->next;
    if (u->next)
        u->next->prev = u->prev;
    v->n_uses--;
    u->val = NULL;
    u->prev = u->next = NULL;
}

void ir_set_input(Graph *g, Node *n, int i, Value *v)
{
    IR_ASSERT(i >= 0 && i < n->n_in);
    Use *u = &n->slots[i];
    unlink_use(u);
    n->in[i] = v;
    if (!v || n->dead || !ir_value_owned(g, v))
        return;
    u->node = n;
    u->idx = i;
    u->val = v;
    u->next = v->uses;
    if (v->uses)
        v->uses->prev = u;
    v->uses = u;
    v->n_uses++;
}

void ir_set_n_in(Graph *g, Node *n, int count)
{
    int old = n->n_in;
    for (int i = count; i < old; i++)
        ir_set_input(g, n, i, NULL);
    if (count <= old) {
        n->n_in = count;
        return;
    }
    /* the slots move, and the lists point at them: relink each input */
    Value **in = ir_alloc(g, sizeof *in * (size_t)(count + 1));
    Use *slots = ir_alloc(g, sizeof *slots * (size_t)(count + 1));
    IR_ASSERT(in && slots);
    for (int i = 0; i < old; i++) {
        in[i] = n->in[i];
        ir_set_input(g, n, i, NULL);
    }
    n->in = in;
    n->slots = slots;
    n->n_in = count;
    for (int i = 0; i < old; i++) {
        Value *v = in[i];
        in[i] = NULL;
        ir_set_input(g, n, i, v);
    }
}

void ir_replace_uses(Graph *g, Value *from, Value *to)
{
    IR_ASSERT(from != to);
    while (from->uses)
        ir_set_input(g, from->uses->node, from->uses->idx, to);
}

void ir_node_kill(Node *n)
{
    n->dead = 1;
    for (int i = 0; i < n->n_in; i++)
        unlink_use(&n->slots[i]);
}

int64_t ir_opset(const Graph *g, const char *domain)
{
    while (g->parent && g->n_opsets == 0)
        g = g->parent;
    int dflt = !domain || !domain[0] || !strcmp(domain, "ai.onnx");
    for (int i = 0; i < g->n_opsets; i++) {
        const char *od = g->opsets[i].domain;
        int odflt = !od || !od[0] || !strcmp(od, "ai.onnx");
        if (dflt ? odflt : (od && !strcmp(od, domain)))
            return g->opsets[i].version;
    }
    return 0;
}

int ir_shape_known(const Value *v)
{
    if (v && v->kind != VK_TENSOR)
        return v->n_elems >= 0;
    if (!v || v->rank < 0 || v->dtype == RT_UNDEF)
        return 0;
    for (int i = 0; i < v->rank; i++)
        if (v->dims[i] < 0)
            return 0;
    return 1;
}

int ir_node_is_constant(const Node *n)
{
    for (int i = 0; i < n->n_out; i++)
        if (n->out[i] && !n->out[i]->data)
            return 0;
    return 1;
}

int64_t ir_numel(const Value *v)
{
    if (!ir_shape_known(v) || v->kind != VK_TENSOR)
        return -1;
    int64_t n;
    return ir_numel_checked(v->rank, v->dims, &n) ? INT64_MAX : n;
}

int64_t ir_max_numel(const Value *v)
{
    int64_t n = ir_numel(v);
    return v && v->rt_mask && v->rt_cap > 0 && v->rt_cap < n ? v->rt_cap : n;
}

size_t ir_nbytes(const Value *v)
{
    int64_t n = ir_max_numel(v), b;
    if (n < 0)
        return 0;
    if (ir_dtype_bytes_checked(v->dtype, n, &b) || (uint64_t)b > SIZE_MAX)
        return SIZE_MAX;
    return (size_t)b;
}

void ir_desc(const Value *v, RtTensorDesc *t)
{
    memset(t, 0, sizeof *t);
    if (!v)
        return;
    t->dtype = v->dtype;
    t->rank = v->rank < 0 ? 0 : v->rank;
    for (int i = 0; i < t->rank; i++)
        t->dims[i] = v->dims[i];
}

void *ir_value_alloc_data(Graph *g, Value *v)
{
    size_t n = ir_nbytes(v);
    v->data = ir_alloc(g, n ? n : 1);
    return v->data;
}

int ir_set_out(Node *n, int i, int dtype, int rank, const int64_t *dims)
{
    IR_ASSERT(i < n->n_out && rank >= 0 && rank <= IR_MAX_RANK);
    Value *v = n->out[i];
    if (!v)
        return 0;
    v->dtype = dtype;
    v->rank = rank;
    for (int k = 0; k < rank; k++)
        v->dims[k] = dims[k];
    return 0;
}

Value *ir_node_add_output(Graph *g, Node *n, const char *name)
{
    Value **out = ir_alloc(g, sizeof(Value *) * (size_t)(n->n_out + 2));
    IR_ASSERT(out);
    memcpy(out, n->out, sizeof(Value *) * (size_t)n->n_out);
    Value *v = ir_value_new(g, name);
    v->producer = n;
    out[n->n_out++] = v;
    n->out = out;
    return v;
}

/* The extent output of n, once created: always its last output. */
static Value *extent_of(const Node *n)
{
    Value *v = n->n_out ? n->out[n->n_out - 1] : NULL;
    return v && v->is_extent ? v : NULL;
}

int ir_set_out_dyn(Graph *g, Node *n, int i, int dtype, int rank, const int64_t *dims, int axis)
{
    IR_ASSERT(axis >= 0 && axis < rank);
    Value *len = extent_of(n);
    if (!len) {
        char buf[160];
        snprintf(buf, sizeof buf, "%.140s_extent", n->name);
        len = ir_node_add_output(g, n, buf);
        len->dtype = RT_I64;
        len->rank = 0;
        len->is_extent = 1;
    }
    Value *v = n->out[i];
    IR_ASSERT(v != len);
    ir_set_out(n, i, dtype, rank, dims);
    if (!v)
        return 0;
    v->dyn = 1;
    v->dyn_axis = axis;
    v->dyn_len = len;
    return 0;
}

/* Slots are filled in order, so a slot name that disagrees with the order
 * of the writes (a gap, a repeat) stops at once instead of shifting every
 * later parameter. */
void ir_param_int(Node *n, int slot, int64_t v)
{
    IR_ASSERT(slot == n->n_ints && slot < IR_MAX_INTS);
    n->ints[n->n_ints++] = v;
}

void ir_param_ints(Node *n, int slot, const int64_t *v, int count)
{
    for (int i = 0; i < count; i++)
        ir_param_int(n, slot + i, v[i]);
}

void ir_param_float(Node *n, int slot, float v)
{
    IR_ASSERT(slot == n->n_floats && slot < IR_MAX_FLOATS);
    n->floats[n->n_floats++] = v;
}

int ir_broadcast(int ra, const int64_t *a, int rb, const int64_t *b, int *r, int64_t *out)
{
    int rr = ra > rb ? ra : rb;
    for (int i = 0; i < rr; i++) {
        int ia = i - (rr - ra), ib = i - (rr - rb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da == db || db == 1)
            out[i] = da;
        else if (da == 1)
            out[i] = db;
        else
            return -1;
    }
    *r = rr;
    return 0;
}

int ir_const_ints(const Value *v, int64_t *out, int max)
{
    if (!v || !v->data || !ir_shape_known(v))
        return -1;
    int64_t n = ir_numel(v);
    if (n > max)
        return -1;
    switch (v->dtype) {
    case RT_I8: case RT_I16: case RT_I32: case RT_I64:
    case RT_U8: case RT_U16: case RT_U32: case RT_U64: case RT_BOOL:
        break;
    default:
        return -1;
    }
    for (int64_t i = 0; i < n; i++)
        out[i] = rt_load_i64(v->data, v->dtype, i);
    return (int)n;
}

/* The first graph input (without a value) that v is computed from; *budget
 * bounds the walk, since a DAG can have exponentially many paths. */
static const Value *input_ancestor(const Value *v, int *budget)
{
    if (!v || v->data || --*budget < 0)
        return NULL;
    if (v->is_input)
        return v;
    const Node *p = v->producer;
    for (int i = 0; p && i < p->n_in; i++) {
        const Value *a = input_ancestor(p->in[i], budget);
        if (a)
            return a;
    }
    return NULL;
}

int ir_need_input(Diag *d, const Value *v)
{
    int budget = 1000;
    const Value *src = input_ancestor(v, &budget);
    if (src)
        snprintf(d->need_const, sizeof d->need_const, "%s", src->name);
    return src != NULL;
}

int ir_err_not_const(Diag *d, const Node *n, int i)
{
    const Value *v = n->in[i];
    int budget = 1000;
    const Value *src = input_ancestor(v, &budget);
    if (!src)
        return ir_node_error(d, n, "input %d ('%s') decides an output shape but is not a "
                             "compile-time constant", i, v ? v->name : "");
    snprintf(d->need_const, sizeof d->need_const, "%s", src->name);
    if (src == v)
        return ir_node_error(d, n, "input %d ('%s') decides an output shape, so it must be known "
                             "at compile time: bind it with --const %s=FILE", i, v->name, v->name);
    return ir_node_error(d, n, "input %d ('%s') decides an output shape and is computed from "
                         "graph input '%s': bind it with --const %s=FILE", i, v->name, src->name,
                         src->name);
}

int ir_const_scalar(const Value *v, double *out)
{
    if (!v || !v->data || ir_numel(v) != 1)
        return -1;
    *out = rt_load_f64(v->data, v->dtype, 0);
    return 0;
}

int ir_clip_bounds(const Node *n, float *lo, float *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (n->opset < 11) {
        *lo = ir_attr_float(n, "min", -INFINITY);
        *hi = ir_attr_float(n, "max", INFINITY);
        return 0;
    }
    double v;
    if (n->n_in > 1 && n->in[1]) {
        if (ir_const_scalar(n->in[1], &v) < 0)
            return -1;
        *lo = (float)v;
    }
    if (n->n_in > 2 && n->in[2]) {
        if (ir_const_scalar(n->in[2], &v) < 0)
            return -1;
        *hi = (float)v;
    }
    return 0;
}

const Attr *ir_attr(const Node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name))
            return &n->attrs[i];
    return NULL;
}

/* a was asked for as `want`: remember it for ir_attr_check. n->attrs points
 * to mutable memory even through a const Node. */
static void mismatch(const Node *n, const Attr *a, AttrType want)
{
    if (a)
        n->attrs[a - n->attrs].wanted = want;
}

int64_t ir_attr_int(const Node *n, const char *name, int64_t def)
{
    const Attr *a = ir_attr(n, name);
    if (a && a->type == AT_INT)
        return a->i;
    mismatch(n, a, AT_INT);
    return def;
}

float ir_attr_float(const Node *n, const char *name, float def)
{
    const Attr *a = ir_attr(n, name);
    if (a && a->type == AT_FLOAT)
        return a->f;
    if (a && a->type == AT_INT)
        return (float)a->i;
    mismatch(n, a, AT_FLOAT);
    return def;
}

const char *ir_attr_str(const Node *n, const char *name, const char *def)
{
    const Attr *a = ir_attr(n, name);
    if (a && a->type == AT_STRING)
        return a->s;
    mismatch(n, a, AT_STRING);
    return def;
}

int ir_attr_ints(const Node *n, const char *name, int64_t *out, int max)
{
    const Attr *a = ir_attr(n, name);
    if (!a || (a->type != AT_INTS && a->type != AT_INT)) {
        mismatch(n, a, AT_INTS);
        return -1;
    }
    if (a->type == AT_INT) {
        if (max >= 1)
            out[0] = a->i;
        return 1;
    }
    int k = a->n < max ? a->n : max;
    for (int i = 0; i < k; i++)
        out[i] = a->ints[i];
    return a->n;
}

int ir_attr_floats(const Node *n, const char *name, float *out, int max)
{
    const Attr *a = ir_attr(n, name);
    if (!a || a->type != AT_FLOATS) {
        mismatch(n, a, AT_FLOATS);
        return -1;
    }
    int k = a->n < max ? a->n : max;
    for (int i = 0; i < k; i++)
        out[i] = a->floats[i];
    return a->n;
}

const char *ir_attr_type_name(int type)
{
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
        "STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS", "TYPE_PROTO",
        "TYPE_PROTOS"};
    return type >= 0 && type < (int)(sizeof names / sizeof names[0]) ? names[type] : "unknown";
}

int ir_attr_check(const Node *n, Diag *d)
{
    for (int i = 0; i < n->n_attrs; i++) {
        const Attr *a = &n->attrs[i];
        if (a->wanted)
            return ir_node_error(d, n, "attribute '%s' is %s, expected %s", a->name,
                                 ir_attr_type_name(a->type), ir_attr_type_name(a->wanted));
    }
    return 0;
}

int ir_axis(int64_t a, int r)
{
    if (a < -r || a >= (r > 0 ? r : 1))
        return -1;
    return (int)(a < 0 ? a + r : a);
}
