/* rewrite.c: graph surgery for lowering: placing new nodes, constants, inlining subgraphs. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

void ir_place_after(Graph *g, const Node *after, int mark)
{
    int at = -1;
    for (int k = 0; k < mark; k++)
        if (g->nodes[k] == after)
            at = k;
    IR_ASSERT(at >= 0);
    int n_new = g->n_nodes - mark, n_tail = mark - at - 1;
    if (n_new == 0 || n_tail == 0)
        return;
    Node **tmp = malloc(sizeof *tmp * (size_t)n_new);
    IR_ASSERT(tmp);
    memcpy(tmp, g->nodes + mark, sizeof *tmp * (size_t)n_new);
    memmove(g->nodes + at + 1 + n_new, g->nodes + at + 1, sizeof *tmp * (size_t)n_tail);
    memcpy(g->nodes + at + 1, tmp, sizeof *tmp * (size_t)n_new);
    free(tmp);
}

Node *ir_add_node(Graph *g, const char *op_type, int64_t opset, const char *name, int n_in,
                  Value *const *in, Value *out)
{
    Node *n = ir_node_new(g, op_type, "", name, n_in, 1);
    if (opset)
        n->opset = opset;
    for (int i = 0; i < n_in; i++)
        ir_set_input(g, n, i, in[i]);
    if (!out) {
        char buf[160];
        snprintf(buf, sizeof buf, "%s:0", n->name);
        out = ir_value_new(g, buf);
    }
    n->out[0] = out;
    out->producer = n;
    return n;
}

Value *ir_const_i64(Graph *g, const int64_t *vals, int rank, const int64_t *dims)
{
    Value *v = ir_value_new(g, NULL);
    v->dtype = RT_I64;
    v->rank = rank;
    for (int i = 0; i < rank; i++)
        v->dims[i] = dims[i];
    int64_t *p = ir_value_alloc_data(g, v);
    IR_ASSERT(p);
    if (ir_nbytes(v))
        memcpy(p, vals, ir_nbytes(v));
    return v;
}

Value *ir_const_bool(Graph *g, int v)
{
    Value *c = ir_value_new(g, NULL);
    c->dtype = RT_BOOL;
    c->rank = 0;
    unsigned char *p = ir_value_alloc_data(g, c);
    IR_ASSERT(p);
    *p = (unsigned char)(v != 0);
    return c;
}

/* ---- inlining ----
 * A map from the values of one subgraph (by id) to what stands for them in
 * g; a nested subgraph's map chains to its enclosing one, so outer-scope
 * references resolve at any depth. */
typedef struct Map {
    const Graph *from;
    Value **to;
    const struct Map *up;
} Map;

static Value *map_value(const Map *m, Value *v)
{
    if (!v)
        return NULL;
    for (; m; m = m->up)
        if (v->id < m->from->n_values && m->from->values[v->id] == v)
            return m->to[v->id] ? m->to[v->id] : v;
    return v;
}

static int clone_nodes(Graph *g, Graph *dst, const Graph *sub, const Map *m, const char *prefix,
                       Diag *d);

/* A copy of nested subgraph sub, owned by a node of g, reading g's values.
 * Its names stay as they are: inlining it later prefixes them once. */
static Graph *clone_subgraph(Graph *g, const Graph *sub, const Map *up, Diag *d)
{
    Graph *c = ir_graph_new(g);
    c->name = sub->name;
    c->path = sub->path;
    c->n_opsets = sub->n_opsets;
    memcpy(c->opsets, sub->opsets, sizeof c->opsets);
    Value **to = calloc((size_t)sub->n_values + 1, sizeof *to);
    IR_ASSERT(to);
    Map m = {sub, to, up};
    int rc = 0;
    c->inputs = calloc((size_t)sub->n_inputs + 1, sizeof *c->inputs);
    c->outputs = calloc((size_t)sub->n_outputs + 1, sizeof *c->outputs);
    IR_ASSERT(c->inputs && c->outputs);
    for (int i = 0; i < sub->n_values; i++) {
        const Value *v = sub->values[i];
        if (v->producer)
            continue;
        Value *nv = to[i] = ir_value_new(c, v->name);
        Value keep = *nv;
        *nv = *v;
        nv->id = keep.id;
        nv->name = keep.name;
        nv->uses = NULL;
        nv->n_uses = 0;
    }
    for (int i = 0; i < sub->n_inputs; i++)
        c->inputs[c->n_inputs++] = to[sub->inputs[i]->id];
    rc = clone_nodes(c, c, sub, &m, NULL, d);
    for (int i = 0; rc == 0 && i < sub->n_outputs; i++)
        c->outputs[c->n_outputs++] = map_value(&m, sub->outputs[i]);
    free(to);
    return c;
}

/* Copies sub's nodes into dst (a graph allocating from g's arena), their
 * names and their outputs' names under prefix/ (as they are: NULL). */
static int clone_nodes(Graph *g, Graph *dst, const Graph *sub, const Map *m, const char *prefix,
                       Diag *d)
{
    for (int k = 0; k < sub->n_nodes; k++) {
        const Node *s = sub->nodes[k];
        if (s->dead)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", s->name);
        Node *n = ir_node_new(dst, s->op_type, s->domain, name, s->n_in, s->n_out);
        n->opset = s->opset;
        for (int i = 0; i < s->n_in; i++)
            ir_set_input(dst, n, i, map_value(m, s->in[i]));
        n->n_attrs = s->n_attrs;
        n->attrs = ir_alloc(dst, sizeof *n->attrs * (size_t)(s->n_attrs + 1));
        IR_ASSERT(n->attrs);
        for (int j = 0; j < s->n_attrs; j++) {
            Attr *a = &n->attrs[j];
            *a = s->attrs[j];
            if (a->type == AT_GRAPH) {
                a->g = clone_subgraph(dst, s->attrs[j].g, m, d);
            } else if (a->type == AT_GRAPHS) {
                a->gs = ir_alloc(dst, sizeof *a->gs * (size_t)(a->n + 1));
                IR_ASSERT(a->gs);
                for (int q = 0; q < a->n; q++)
                    a->gs[q] = clone_subgraph(dst, s->attrs[j].gs[q], m, d);
            }
        }
        for (int i = 0; i < s->n_out; i++) {
            Value *v = s->out[i];
            if (!v)
                continue;
            char vn[384];
            snprintf(vn, sizeof vn, "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", v->name);
            Value *nv = ir_value_new(dst, vn);
            nv->producer = n;
            n->out[i] = nv;
            m->to[v->id] = nv;
        }
    }
    (void)g;
    return 0;
}

/* Nodes a graph may grow to by inlining: nested loops multiply. */
#define INLINE_NODE_CAP (1 << 20)

int ir_inline_graph(Graph *g, const Graph *sub, Value *const *in_map, Value **out_map,
                    const char *prefix, Diag *d)
{
    if (g->n_nodes + sub->n_nodes > INLINE_NODE_CAP)
        return ir_error(d, "%s: unrolling would grow the graph past %d nodes, which is not "
                        "supported", prefix, INLINE_NODE_CAP);
    Value **to = calloc((size_t)sub->n_values + 1, sizeof *to);
    IR_ASSERT(to);
    Map m = {sub, to, NULL};
    for (int i = 0; i < sub->n_inputs; i++)
        to[sub->inputs[i]->id] = in_map[i];
    /* the subgraph's own initializers become constants of g */
    for (int i = 0; i < sub->n_values; i++) {
        Value *v = sub->values[i];
        if (to[i] || v->producer || v->is_input || !v->data)
            continue;
        char vn[384];
        snprintf(vn, sizeof vn, "%s/%s", prefix, v->name);
        Value *nv = to[i] = ir_value_new(g, vn);
        nv->dtype = v->dtype;
        nv->rank = v->rank;
        memcpy(nv->dims, v->dims, sizeof nv->dims);
        nv->data = v->data;
        nv->is_initializer = 1;
    }
    int rc = clone_nodes(g, g, sub, &m, prefix, d);
    for (int i = 0; rc == 0 && i < sub->n_outputs; i++)
        out_map[i] = map_value(&m, sub->outputs[i]);
    free(to);
    return rc;
}

void ir_add_attr(Graph *g, Node *n, Attr a)
{
    Attr *arr = ir_alloc(g, sizeof *arr * (size_t)(n->n_attrs + 1));
    IR_ASSERT(arr);
    if (n->n_attrs)
        memcpy(arr, n->attrs, sizeof *arr * (size_t)n->n_attrs);
    a.name = ir_strdup(g, a.name);
    arr[n->n_attrs] = a;
    n->attrs = arr;
    n->n_attrs++;
}

void ir_set_attr_int(Graph *g, Node *n, const char *name, int64_t v)
{
    ir_add_attr(g, n, (Attr){.name = name, .type = AT_INT, .i = v});
}

void ir_set_attr_float(Graph *g, Node *n, const char *name, float v)
{
    ir_add_attr(g, n, (Attr){.name = name, .type = AT_FLOAT, .f = v});
}

void ir_place_before(Graph *g, const Node *before, int mark)
{
    int at = -1;
    for (int k = 0; k < mark; k++)
        if (g->nodes[k] == before)
            at = k;
    IR_ASSERT(at >= 0);
    int n_new = g->n_nodes - mark, n_tail = mark - at;
    if (n_new == 0)
        return;
    Node **tmp = malloc(sizeof *tmp * (size_t)n_new);
    IR_ASSERT(tmp);
    memcpy(tmp, g->nodes + mark, sizeof *tmp * (size_t)n_new);
    memmove(g->nodes + at + n_new, g->nodes + at, sizeof *tmp * (size_t)n_tail);
    memcpy(g->nodes + at, tmp, sizeof *tmp * (size_t)n_new);
    free(tmp);
}

void ir_node_absorb(Graph *g, Node *into, const Node *gone)
{
    const char *had = into->fused_from, *more = gone->fused_from;
    size_t len = (had ? strlen(had) + 1 : 0) + strlen(gone->name) + (more ? strlen(more) + 1 : 0);
    char *s = ir_alloc(g, len + 1);
    IR_ASSERT(s);
    /* what gone had absorbed came before gone itself */
    snprintf(s, len + 1, "%s%s%s%s%s", had ? had : "", had ? "," : "", more ? more : "",
             more ? "," : "", gone->name);
    into->fused_from = s;
}
