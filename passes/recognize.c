/* recognize.c: finds LayerNormalization and Gelu (erf and tanh forms) in the decomposed forms exporters write for older opsets, and puts the single op in their place. */
#include <math.h>
#include <string.h>

#include "passes.h"

/* The node that produces v when it is a live op of kind `op`, else NULL. */
static Node *made_by(const Value *v, int op)
{
    Node *p = v ? v->producer : NULL;
    return p && !p->dead && p->op == op ? p : NULL;
}

/* v is only read by the pattern: no other node and no graph output needs it. */
static int private_to(const Value *v, int uses)
{
    return v && !v->is_output && v->n_uses == uses;
}

/* The one reader of v, when it has exactly one and it is of kind op. */
static Node *sole_reader(const Value *v, int op)
{
    if (!private_to(v, 1))
        return NULL;
    Node *n = v->uses->node;
    return !n->dead && n->op == op ? n : NULL;
}

static int is_f32(const Value *v)
{
    return v && v->dtype == RT_F32 && v->kind == VK_TENSOR && ir_shape_known(v) && !v->dyn;
}

/* A float scalar constant (any shape of one element) close to want. */
static int const_near(const Value *v, double want, double tol)
{
    double c;
    return v && ir_const_scalar(v, &c) == 0 && fabs(c - want) <= tol;
}

/* For a binary node with input `known` on one side: the other input. */
static Value *other_input(const Node *n, const Value *known)
{
    if (n->n_in != 2)
        return NULL;
    return n->in[0] == known ? n->in[1] : n->in[1] == known ? n->in[0] : NULL;
}

/* A ReduceMean of x over its last axis only, keeping dims. */
static int mean_last_axis(const Node *r, const Value *x)
{
    if (!r || r->in[0] != x || ir_attr_int(r, "keepdims", 1) != 1 || x->rank < 1)
        return 0;
    int64_t axes[IR_MAX_RANK];
    int n = r->n_in > 1 && r->in[1] ? ir_const_ints(r->in[1], axes, IR_MAX_RANK)
                                    : ir_attr_ints(r, "axes", axes, IR_MAX_RANK);
    return n == 1 && ir_axis(axes[0], x->rank) == x->rank - 1;
}

/* A per-feature parameter of LayerNormalization: float32, one value or D
 * values along the last axis only. */
static int feature_param(const Value *p, int64_t d)
{
    if (!is_f32(p) || !p->data)
        return 0;
    int64_t n = ir_numel(p);
    if (n == 1)
        return 1;
    return n == d && p->rank >= 1 && p->dims[p->rank - 1] == d;
}

static void add_float_attr(Graph *g, Node *n, const char *name, float v)
{
    Attr *a = ir_alloc(g, sizeof *a * (size_t)(n->n_attrs + 1));
    IR_ASSERT(a);
    if (n->n_attrs)
        memcpy(a, n->attrs, sizeof *a * (size_t)n->n_attrs);
    a[n->n_attrs] = (Attr){.name = ir_strdup(g, name), .type = AT_FLOAT, .f = v};
    n->attrs = a;
    n->n_attrs++;
}

/* Replaces the pattern nodes pat[0..count) (the last one produces out) by
 * one node of op_type reading in[0..n_in), placed where the last one was. */
static Node *replace(Graph *g, Node *const *pat, int count, const char *op_type, int64_t opset,
                     Value *const *in, int n_in, Value *out)
{
    int mark = g->n_nodes;
    Node *last = pat[count - 1];
    Node *n = ir_add_node(g, op_type, opset, last->name, n_in, in, out);
    ir_place_after(g, last, mark);
    for (int i = 0; i < count; i++) {
        /* the new node takes the last one's name; the rest are what it absorbed */
        if (pat[i] != last)
            ir_node_absorb(g, n, pat[i]);
        ir_node_kill(pat[i]);
        if (pat[i]->out[0] != out)
            pat[i]->out[0]->producer = NULL;
    }
    return n;
}

/* mean = ReduceMean(x); d = x - mean; var = ReduceMean(d^2 or d*d);
 * y = d / Sqrt(var + eps) [* gamma] [+ beta], over the last axis: torch's
 * LayerNorm exported below opset 17. Matched from the Sub. */
static int match_layernorm(Graph *g, Node *sub, PassCtx *ctx)
{
    Value *x = sub->in[0], *dv = sub->out[0];
    if (sub->n_in != 2 || !is_f32(x) || !is_f32(dv) || x->rank < 1)
        return 0;
    Node *m1 = made_by(sub->in[1], OP_REDUCE_MEAN);
    if (!mean_last_axis(m1, x) || !private_to(m1->out[0], 1))
        return 0;
    /* d is read by the square (once or twice) and the Div */
    Node *sq = NULL, *div = NULL;
    for (const Use *u = dv->uses; u; u = u->next) {
        Node *r = u->node;
        if (r->op == OP_POW && r->in[0] == dv && const_near(r->in[1], 2, 0))
            sq = r;
        else if (r->op == OP_MUL && r->in[0] == dv && r->in[1] == dv)
            sq = r;
        else if (r->op == OP_DIV && r->in[0] == dv)
            div = r;
        else
            return 0;
    }
    if (!sq || !div || dv->is_output || dv->n_uses != 1 + (sq->op == OP_MUL ? 2 : 1))
        return 0;
    Node *m2 = sole_reader(sq->out[0], OP_REDUCE_MEAN);
    if (!m2 || !mean_last_axis(m2, sq->out[0]))
        return 0;
    Node *add = sole_reader(m2->out[0], OP_ADD);
    double eps;
    if (!add || ir_const_scalar(other_input(add, m2->out[0]), &eps) < 0)
        return 0;
    Node *sqrt_n = sole_reader(add->out[0], OP_SQRT);
    if (!sqrt_n || div->in[1] != sqrt_n->out[0] || !private_to(sqrt_n->out[0], 1))
        return 0;
    Node *pat[9] = {m1, sub, sq, m2, add, sqrt_n, div};
    int count = 7;
    int64_t d = x->dims[x->rank - 1];
    Value *y = div->out[0], *gamma = NULL, *beta = NULL;
    Node *mul = sole_reader(y, OP_MUL);
    if (mul && feature_param(other_input(mul, y), d)) {
        gamma = other_input(mul, y);
        pat[count++] = mul;
        y = mul->out[0];
        Node *badd = sole_reader(y, OP_ADD);
        if (badd && feature_param(other_input(badd, y), d)) {
            beta = other_input(badd, y);
            pat[count++] = badd;
            y = badd->out[0];
        }
    }
    if (!is_f32(y) || y->rank != x->rank || ir_numel(y) != ir_numel(x))
        return 0;
    if (!gamma) {
        /* Scale is required: ones */
        gamma = ir_value_new(g, NULL);
        gamma->dtype = RT_F32;
        gamma->rank = 1;
        gamma->dims[0] = d;
        float *one = ir_value_alloc_data(g, gamma);
        IR_ASSERT(one);
        for (int64_t i = 0; i < d; i++)
            one[i] = 1;
    }
    Value *in[3] = {x, gamma, beta};
    Node *ln = replace(g, pat, count, "LayerNormalization", 17, in, beta ? 3 : 2, y);
    ir_set_attr_int(g, ln, "axis", -1);
    add_float_attr(g, ln, "epsilon", (float)eps);
    return ir_ops[ln->op].infer(g, ln, ctx->d) < 0 ? -1 : 1;
}

/* The tail both Gelu forms share, after the Erf or Tanh node f:
 * (1 + f) * x * 0.5 in either nesting, (x * (1 + f)) * 0.5 or
 * (x * 0.5) * (1 + f). Appends its nodes to pat (the last one makes y);
 * returns y, or NULL. */
static Value *gelu_tail(Node *f, Value *x, Node **pat, int *count)
{
    Node *add1 = sole_reader(f->out[0], OP_ADD);
    if (!add1 || !const_near(other_input(add1, f->out[0]), 1, 0))
        return NULL;
    Node *mul_a = sole_reader(add1->out[0], OP_MUL);
    if (!mul_a)
        return NULL;
    Value *partner = other_input(mul_a, add1->out[0]);
    pat[(*count)++] = add1;
    if (partner == x) {
        /* (x * (1 + f)) * 0.5 */
        Node *half = sole_reader(mul_a->out[0], OP_MUL);
        if (!half || !const_near(other_input(half, mul_a->out[0]), 0.5, 0))
            return NULL;
        pat[(*count)++] = mul_a;
        pat[(*count)++] = half;
        return half->out[0];
    }
    /* (x * 0.5) * (1 + f) */
    Node *half = made_by(partner, OP_MUL);
    if (!half || !private_to(partner, 1) || !other_input(half, x) ||
        !const_near(other_input(half, x), 0.5, 0))
        return NULL;
    pat[(*count)++] = half;
    pat[(*count)++] = mul_a;
    return mul_a->out[0];
}

static int replace_gelu(Graph *g, Node **pat, int count, Value *x, Value *y, const char *approx,
                        PassCtx *ctx)
{
    if (!y || !is_f32(y) || ir_numel(y) != ir_numel(x) || y->rank != x->rank)
        return 0;
    Node *ge = replace(g, pat, count, "Gelu", 20, &x, 1, y);
    if (approx) {
        Attr *a = ir_alloc(g, sizeof *a);
        IR_ASSERT(a);
        a[0] = (Attr){.name = "approximate", .type = AT_STRING, .s = approx, .s_len = strlen(approx)};
        ge->attrs = a;
        ge->n_attrs = 1;
    }
    return ir_ops[ge->op].infer(g, ge, ctx->d) < 0 ? -1 : 1;
}

/* 0.5 x (1 + Erf(x / sqrt 2)) in the orders torch writes it: Erf(x / c)
 * or Erf(x * 1/c), then the shared tail. Matched from the Erf. */
static int match_gelu(Graph *g, Node *erf, PassCtx *ctx)
{
    Node *scale = erf->in[0] ? erf->in[0]->producer : NULL;
    if (!scale || scale->dead || !private_to(erf->in[0], 1) || !is_f32(erf->out[0]))
        return 0;
    Value *x = scale->in[0];
    if (scale->op == OP_DIV) {
        if (!const_near(scale->in[1], sqrt(2.0), 1e-5))
            return 0;
    } else if (scale->op == OP_MUL) {
        x = NULL;
        for (int i = 0; i < 2 && !x; i++)
            if (const_near(scale->in[1 - i], sqrt(0.5), 1e-6))
                x = scale->in[i];
    } else {
        return 0;
    }
    if (!is_f32(x))
        return 0;
    Node *pat[8] = {scale, erf};
    int count = 2;
    Value *y = gelu_tail(erf, x, pat, &count);
    return replace_gelu(g, pat, count, x, y, NULL, ctx);
}

/* The operand of binary node n that is not the constant near c, or NULL. */
static Value *times_const(const Node *n, double c, double tol)
{
    if (!n || n->n_in != 2)
        return NULL;
    for (int i = 0; i < 2; i++)
        if (const_near(n->in[i], c, tol))
            return n->in[1 - i];
    return NULL;
}

/* x^3 as Pow(x, 3), x * (x * x) or (x * x) * x; appends its nodes to pat. */
static int cube_of(const Value *v, const Value *x, Node **pat, int *count)
{
    Node *c = v->producer;
    if (!c || c->dead || !private_to(v, 1))
        return 0;
    if (c->op == OP_POW && c->in[0] == x && const_near(c->in[1], 3, 0)) {
        pat[(*count)++] = c;
        return 1;
    }
    Value *sq = other_input(c, x);
    Node *s = made_by(sq, OP_MUL);
    if (c->op != OP_MUL || !s || !private_to(sq, 1) || s->in[0] != x || s->in[1] != x)
        return 0;
    pat[(*count)++] = s;
    pat[(*count)++] = c;
    return 1;
}

/* 0.5 x (1 + Tanh(sqrt(2/pi) (x + 0.044715 x^3))), Gelu approximate=tanh
 * as torch writes it below opset 20. Matched from the Tanh. */
static int match_gelu_tanh(Graph *g, Node *th, PassCtx *ctx)
{
    Node *sc = th->in[0] ? th->in[0]->producer : NULL;
    if (!sc || sc->dead || sc->op != OP_MUL || !private_to(th->in[0], 1) || !is_f32(th->out[0]))
        return 0;
    Value *u = times_const(sc, 0.7978845608028654, 1e-6);
    Node *add = made_by(u, OP_ADD);
    if (!add || !private_to(u, 1))
        return 0;
    for (int i = 0; i < 2; i++) {
        Value *x = add->in[i], *m = add->in[1 - i];
        Node *mc = made_by(m, OP_MUL);
        Value *cube = times_const(mc, 0.044715, 1e-7);
        Node *pat[12];
        int count = 0;
        if (!is_f32(x) || !cube || !private_to(m, 1) || !cube_of(cube, x, pat, &count))
            continue;
        pat[count++] = mc;
        pat[count++] = add;
        pat[count++] = sc;
        pat[count++] = th;
        Value *y = gelu_tail(th, x, pat, &count);
        return replace_gelu(g, pat, count, x, y, "tanh", ctx);
    }
    return 0;
}

/* pass_recognize: requires pass_shape (and fold, so the constants are
 * known); keeps the graph valid. Float32 only. */
int pass_recognize(Graph *g, PassCtx *ctx)
{
    int changes = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n))
            continue;
        int rc = 0;
        if (n->op == OP_SUB)
            rc = match_layernorm(g, n, ctx);
        else if (n->op == OP_ERF)
            rc = match_gelu(g, n, ctx);
        else if (n->op == OP_TANH)
            rc = match_gelu_tanh(g, n, ctx);
        if (rc < 0)
            return -1;
        changes += rc;
    }
    return changes;
}
