/* fuse_chain.c: merges small DAGs of float32 elementwise ops whose intermediate values have no other reader into one EwChain node, one pass over memory. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "passes.h"

/* One fusable node as the kernel sees it (RT_CHAIN_* in k_elementwise.h). */
typedef struct ChainOp {
    int kind, code, n_data; /* n_data: inputs 0..n_data-1 are elementwise operands */
    float p0, p1;
} ChainOp;

static int is_f32(const Value *v)
{
    return v && v->dtype == RT_F32 && v->kind == VK_TENSOR && !v->dyn && ir_shape_known(v);
}

/* 1 if n runs at run time and the chain kernel can compute it exactly as
 * its own kernel would: float32 in and out, one output. */
static int chain_op(const Node *n, ChainOp *c)
{
    if (n->dead || n->op < 0 || n->n_out != 1 || !is_f32(n->out[0]) || ir_node_is_constant(n))
        return 0;
    RtKernel k = ir_ops[n->op].kernel;
    memset(c, 0, sizeof *c);
    if (k == rt_unary && n->n_in == 1 && is_f32(n->in[0]) && n->n_ints > RT_UNARY_OP) {
        c->kind = RT_CHAIN_UN;
        c->code = (int)n->ints[RT_UNARY_OP];
        c->p0 = n->n_floats > RT_UNARY_F_P0 ? n->floats[RT_UNARY_F_P0] : 0;
        c->p1 = n->n_floats > RT_UNARY_F_P1 ? n->floats[RT_UNARY_F_P1] : 0;
        c->n_data = 1;
        return c->code != RT_UN_ISNAN && c->code != RT_UN_ISINF;
    }
    if (k == rt_binary && n->n_in == 2 && is_f32(n->in[0]) && is_f32(n->in[1]) &&
        n->n_ints > RT_BINARY_OP) {
        if (n->n_ints > RT_BINARY_EXTRA_DIMS && n->ints[RT_BINARY_EXTRA_DIMS])
            return 0;
        c->kind = RT_CHAIN_BIN;
        c->code = (int)n->ints[RT_BINARY_OP];
        c->n_data = 2;
        switch (c->code) {
        case RT_BIN_ADD: case RT_BIN_SUB: case RT_BIN_MUL: case RT_BIN_DIV:
        case RT_BIN_POW: case RT_BIN_PRELU:
            return 1;
        default:
            return 0;
        }
    }
    if (n->op == OP_CLIP && n->n_in >= 1 && is_f32(n->in[0])) {
        c->kind = RT_CHAIN_CLIP;
        c->n_data = 1;
        return ir_clip_bounds(n, &c->p0, &c->p1) == 0;
    }
    return 0;
}

typedef struct Set {
    Node *n[RT_CHAIN_MAX_OPS];
    ChainOp op[RT_CHAIN_MAX_OPS];
    int count;
    Value *ext[RT_CHAIN_MAX_OPS * 2]; /* values read from outside the set */
    int n_ext;
} Set;

static int in_set(const Set *s, const Node *n)
{
    for (int i = 0; i < s->count; i++)
        if (s->n[i] == n)
            return 1;
    return 0;
}

/* The values the set reads from outside it, in the set's order. */
static void collect_ext(Set *s)
{
    s->n_ext = 0;
    for (int i = 0; i < s->count; i++)
        for (int j = 0; j < s->op[i].n_data; j++) {
            Value *v = s->n[i]->in[j];
            int seen = in_set(s, v->producer);
            for (int e = 0; e < s->n_ext && !seen; e++)
                seen = s->ext[e] == v;
            if (!seen)
                s->ext[s->n_ext++] = v;
        }
}

/* The extent of v along out's axis `axis` when v is right-aligned to out. */
static int64_t dim_at(const Value *v, const Value *out, int axis)
{
    int i = axis - (out->rank - v->rank);
    return i >= 0 ? v->dims[i] : 1;
}

/* v may be computed inside the chain when every reader is in the set and
 * computing it per output element costs no more than before: it has the
 * output's size, or it is one value per row of the kernel (constant along
 * the output's last axis of extent > 1, like a squeeze-excite gate). */
static int absorbable(const Set *s, const Value *v, const Value *out)
{
    if (v->is_output || v->is_input || v->data || !v->producer || v->n_uses < 1)
        return 0;
    for (const Use *u = v->uses; u; u = u->next)
        if (!in_set(s, u->node))
            return 0;
    if (ir_numel(v) == ir_numel(out))
        return 1;
    int last = out->rank - 1;
    while (last >= 0 && out->dims[last] == 1)
        last--;
    return last >= 0 && dim_at(v, out, last) == 1;
}

/* Grows the set from its root (a consumer) towards producers. */
static void grow(Set *s)
{
    const Value *out = s->n[0]->out[0];
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < s->count && s->count < RT_CHAIN_MAX_OPS; i++)
            for (int j = 0; j < s->op[i].n_data && s->count < RT_CHAIN_MAX_OPS; j++) {
                Value *v = s->n[i]->in[j];
                Node *p = v->producer;
                ChainOp op;
                if (!p || in_set(s, p) || !absorbable(s, v, out) || !chain_op(p, &op))
                    continue;
                s->n[s->count] = p;
                s->op[s->count++] = op;
                collect_ext(s);
                if (s->n_ext > RT_CHAIN_MAX_IN) {
                    s->count--;
                    collect_ext(s);
                    continue;
                }
                changed = 1;
            }
    }
}

/* Puts the set in graph order (producers first); the root stays last. */
static void sort_set(Set *s, Graph *g, int root_index)
{
    Set t = *s;
    int c = t.count;
    for (int k = root_index; k >= 0 && c > 0; k--)
        for (int i = 0; i < t.count; i++)
            if (t.n[i] == g->nodes[k]) {
                c--;
                s->n[c] = t.n[i];
                s->op[c] = t.op[i];
            }
}

static Attr *new_attrs(Graph *g, const Set *s)
{
    Attr *a = ir_alloc(g, sizeof *a * 2);
    int64_t *prog = ir_alloc(g, sizeof(int64_t) * (size_t)(s->count * RT_CHAIN_OP_INTS));
    IR_ASSERT(a && prog);
    for (int i = 0; i < s->count; i++) {
        int64_t *p = prog + i * RT_CHAIN_OP_INTS;
        const ChainOp *op = &s->op[i];
        p[RT_CHAIN_KIND] = op->kind;
        p[RT_CHAIN_CODE] = op->code;
        for (int j = 0; j < 2; j++) {
            int r = 0;
            if (j < op->n_data) {
                const Value *v = s->n[i]->in[j];
                for (int e = 0; e < s->n_ext; e++)
                    if (s->ext[e] == v)
                        r = e;
                for (int q = 0; q < i; q++)
                    if (s->n[q]->out[0] == v)
                        r = s->n_ext + q;
            }
            p[RT_CHAIN_A + j] = r;
        }
        uint32_t b0, b1;
        memcpy(&b0, &op->p0, 4);
        memcpy(&b1, &op->p1, 4);
        p[RT_CHAIN_P0] = b0;
        p[RT_CHAIN_P1] = b1;
    }
    a[0].name = "program";
    a[0].type = AT_INTS;
    a[0].n = s->count * RT_CHAIN_OP_INTS;
    a[0].ints = prog;
    /* "Sigmoid 'a', Mul 'b'": what inspect shows the chain was made of */
    size_t len = 1;
    for (int i = 0; i < s->count; i++)
        len += strlen(s->n[i]->op_type) + strlen(s->n[i]->name) + 6;
    char *from = ir_alloc(g, len);
    IR_ASSERT(from);
    size_t at = 0;
    for (int i = 0; i < s->count; i++)
        at += (size_t)snprintf(from + at, len - at, "%s%s '%s'", i ? ", " : "",
                               s->n[i]->op_type, s->n[i]->name);
    a[1].name = "fused_from";
    a[1].type = AT_STRING;
    a[1].s = from;
    a[1].s_len = at;
    return a;
}

/* pass_fuse_chain: requires pass_shape; keeps the graph valid. Walks the
 * graph from its end, so each chain is grown from its last op. The last op
 * becomes the EwChain and keeps its output; the others die. */
int pass_fuse_chain(Graph *g, PassCtx *ctx)
{
    int changes = 0;
    for (int k = g->n_nodes - 1; k >= 0; k--) {
        Set s;
        s.count = 1;
        s.n[0] = g->nodes[k];
        if (!chain_op(s.n[0], &s.op[0]))
            continue;
        collect_ext(&s);
        if (s.n_ext > RT_CHAIN_MAX_IN)
            continue;
        grow(&s);
        if (s.count < 2)
            continue;
        Node *root = s.n[0];
        sort_set(&s, g, k);
        collect_ext(&s);
        Attr *attrs = new_attrs(g, &s);
        for (int i = 0; i < s.count - 1; i++) {
            ir_node_absorb(g, root, s.n[i]);
            ir_node_kill(s.n[i]);
            s.n[i]->out[0]->producer = NULL;
        }
        ir_set_n_in(g, root, s.n_ext);
        for (int i = 0; i < s.n_ext; i++)
            ir_set_input(g, root, i, s.ext[i]);
        root->attrs = attrs;
        root->n_attrs = 2;
        root->op = OP_EW_CHAIN;
        root->op_type = "EwChain";
        root->domain = "onnxcc";
        root->n_ints = root->n_floats = 0;
        if (ir_ops[root->op].infer(g, root, ctx->d) < 0)
            return -1;
        changes++;
    }
    return changes;
}
