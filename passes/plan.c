/* plan.c: the memory planner: one arena, an offset per intermediate, reuse by liveness. */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

#define ALIGN 64

/* A buffer: one or more values sharing storage (a reshape-like copy shares
 * its input's buffer), live from the first write to the last read. */
typedef struct Buf {
    int64_t size;                /* bytes, rounded up to ALIGN */
    int first, last;             /* node steps, inclusive */
    int64_t offset;
    int placed;
} Buf;

static int in_arena(const Value *v)
{
    return v && !v->data && !v->is_input && !v->is_output;
}

/* Reshape-like ops copy bytes unchanged, so their output can be the same
 * memory as their input (rt_copy skips the copy when the pointers match). */
static int aliases_input(const Node *n)
{
    return n->op >= 0 && ir_ops[n->op].kernel == rt_copy && n->n_in >= 1 &&
           in_arena(n->in[0]) && in_arena(n->out[0]) &&
           ir_nbytes(n->in[0]) == ir_nbytes(n->out[0]);
}

static int by_size_desc(const void *a, const void *b)
{
    const Buf *x = *(Buf *const *)a, *y = *(Buf *const *)b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return x->first - y->first;
}

static int overlap(const Buf *a, const Buf *b)
{
    return a->first <= b->last && b->first <= a->last;
}

/* Lowest offset where b fits beside every placed buffer alive at the same time. */
static int64_t place(Buf *b, Buf **placed, int n_placed)
{
    int64_t off = 0;
    for (;;) {
        int moved = 0;
        for (int i = 0; i < n_placed; i++) {
            Buf *p = placed[i];
            if (!overlap(b, p))
                continue;
            if (off < p->offset + p->size && p->offset < off + b->size) {
                off = p->offset + p->size;
                moved = 1;
            }
        }
        if (!moved)
            return off;
    }
}

/* A run-time Loop's region runs its steps again: plan_loop.c says how far
 * the buffers it shares across iterations must live. */
static void widen_loops(const Graph *g, const int *buf_of, Buf *bufs, int nb)
{
    int *lo = malloc(sizeof(int) * (size_t)(2 * nb + 1));
    IR_ASSERT(lo);
    for (int i = 0; i < nb; i++)
        lo[i] = bufs[i].first, lo[nb + i] = bufs[i].last;
    plan_loop_ranges(g, buf_of, lo, lo + nb);
    for (int i = 0; i < nb; i++)
        bufs[i].first = lo[i], bufs[i].last = lo[nb + i];
    free(lo);
}

/* The constants the generated code reads, each counted once, against
 * LIM_WEIGHT_BYTES: folding can make them larger than the model's own. */
static int check_weights(const Graph *g, Diag *d)
{
    char *seen = calloc((size_t)g->n_values + 1, 1);
    IR_ASSERT(seen);
    int64_t total = 0, cap = g->limits.v[LIM_WEIGHT_BYTES];
    for (int k = 0; k < g->n_nodes + 1 && total <= cap; k++) {
        const Node *n = k < g->n_nodes ? g->nodes[k] : NULL;
        if (n && (n->dead || ir_node_is_constant(n)))
            continue;
        int cnt = n ? n->n_in : g->n_outputs;
        for (int i = 0; i < cnt; i++) {
            const Value *v = n ? n->in[i] : g->outputs[i];
            if (!v || !v->data || v->kind != VK_TENSOR || v->id >= g->n_values ||
                g->values[v->id] != v || seen[v->id]++)
                continue;
            total += (int64_t)ir_nbytes(v); /* each at most the tensor limit, 2^46 */
            if (total > cap)
                break;
        }
    }
    free(seen);
    if (total > cap)
        return ir_error(d, "the model's constants take at least %lld bytes, above the limit "
                        "of %lld (--limit weight-bytes=N raises it)", (long long)total,
                        (long long)cap);
    return 0;
}

/* A Concat whose slices can be planned in place: along an axis with only
 * extents of 1 before it (channels at batch 1), so each input is one run of
 * bytes in the output, with static extents (run-time ones move the slices)
 * and its output in the arena. */
static int concat_in_place(const Node *n)
{
    if (n->dead || n->op != OP_CONCAT || ir_ops[n->op].kernel != rt_concat ||
        ir_node_is_constant(n) || n->n_out != 1 || n->n_ints < 1 || ir_node_has_rt(n))
        return 0;
    const Value *y = n->out[0];
    if (!in_arena(y) || y->kind != VK_TENSOR || y->dyn || y->rt_mask || !ir_shape_known(y) ||
        !rt_dtype_size(y->dtype))
        return 0;
    int64_t outer = 1;
    for (int64_t a = 0; a < n->ints[0] && a < y->rank; a++)
        outer *= y->dims[a];
    for (int i = 0; i < n->n_in; i++)
        if (!n->in[i])
            return 0;
    return outer == 1;
}

/* a's inputs are the first inputs of b, along the same axis */
static int concat_prefix(const Node *a, const Node *b)
{
    if (a->n_in > b->n_in || a->ints[0] != b->ints[0] || a->out[0]->dtype != b->out[0]->dtype)
        return 0;
    for (int i = 0; i < a->n_in; i++)
        if (a->in[i] != b->in[i])
            return 0;
    return 1;
}

/* Concat in place. Concats in place whose input lists are prefixes of one
 * longest list (a root) form a family: DenseNet's blocks concatenate x0..xk
 * for every k. The family shares the root's output buffer: every member's
 * output is its first bytes, and each input that can be is written by its
 * producer straight into its slice, so rt_concat finds it there and moves
 * nothing (source and destination are the same bytes). An input stays out
 * (and is copied) when it is a graph input or constant, made by another
 * Concat or by a copy sharing its input's buffer, read by a Concat outside
 * the family, or when its slice would break ALIGN alignment (kernels may
 * assume it). For each value placed, parent[v->id] is the root's output id
 * and sub[v->id] its byte offset in it; the planner gives it the root's
 * buffer, alive from the first slice's producer to the last reader of any
 * of them. Every write into that buffer is a slice's producer or a member
 * Concat rewriting the same bytes, so readers of any slice stay correct. */
static void concat_slices(const Graph *g, int *parent, int64_t *sub)
{
    int nn = g->n_nodes, nr = 0;
    const Node **cand = malloc(sizeof *cand * (size_t)(nn + 1));
    int *root = malloc(sizeof(int) * (size_t)(nn + 1));
    IR_ASSERT(cand && root);
    for (int k = 0; k < nn; k++)
        if (concat_in_place(g->nodes[k]))
            cand[nr++] = g->nodes[k];
    /* roots first: the longest lists, each taking the shorter ones it extends */
    for (int i = 0; i < nr; i++)
        root[i] = -1;
    for (int pass = 0; pass < nr; pass++) {
        int r = -1;
        for (int i = 0; i < nr; i++)
            if (root[i] < 0 && (r < 0 || cand[i]->n_in > cand[r]->n_in))
                r = i;
        if (r < 0)
            break;
        for (int i = 0; i < nr; i++)
            if (root[i] < 0 && (i == r || concat_prefix(cand[i], cand[r])))
                root[i] = r;
    }
    for (int r = 0; r < nr; r++) {
        if (root[r] != r)
            continue;
        const Node *n = cand[r];
        const Value *y = n->out[0];
        for (int i = 0; i < nr; i++)
            if (i != r && root[i] == r) {
                parent[cand[i]->out[0]->id] = y->id;
                sub[cand[i]->out[0]->id] = 0;
            }
        int64_t off = 0;
        for (int i = 0; i < n->n_in; i++) {
            const Value *v = n->in[i];
            const Node *p = v->producer;
            int ok = in_arena(v) && v->kind == VK_TENSOR && !v->dyn && !v->is_pool && v != y &&
                     off % ALIGN == 0 && p && !p->dead && !ir_node_is_constant(p) &&
                     p->op != OP_CONCAT && !aliases_input(p) && v->id < g->n_values &&
                     g->values[v->id] == v && parent[v->id] < 0;
            for (const Use *u = v->uses; ok && u; u = u->next) {
                if (u->node->op != OP_CONCAT)
                    continue;
                int member = 0;
                for (int j = 0; j < nr && !member; j++)
                    member = cand[j] == u->node && root[j] == r && u->idx == i;
                ok = member;
            }
            if (ok) {
                parent[v->id] = y->id;
                sub[v->id] = off;
            }
            off += (int64_t)ir_nbytes(v);
        }
    }
    free(cand);
    free(root);
}

/* pass_plan: requires pass_shape (and runs last: it reads which nodes are
 * live); gives every intermediate value an arena offset such that no two
 * values alive at the same step overlap, and sets g->arena_bytes. Graph
 * inputs, outputs and constants live outside the arena. At -O0 every
 * buffer gets its own space. */
int pass_plan(Graph *g, PassCtx *ctx)
{
    /* passes made new values: their run-time dims are known only now */
    if (ir_rt_propagate(g, ctx->d) < 0)
        return -1;
    int nv = g->n_values;
    int *buf_of = malloc(sizeof(int) * (size_t)(nv + 1));
    Buf *bufs = calloc((size_t)nv + 1, sizeof *bufs);
    Buf **order = calloc((size_t)nv + 1, sizeof *order);
    IR_ASSERT(buf_of && bufs && order);
    int *parent = malloc(sizeof(int) * (size_t)(nv + 1));
    int64_t *sub = calloc((size_t)nv + 1, sizeof *sub);
    IR_ASSERT(parent && sub);
    int nb = 0, step = 0;
    for (int i = 0; i < nv; i++) {
        buf_of[i] = -1;
        parent[i] = -1;
        g->values[i]->offset = -1;
    }
    if (ctx->opt_level > 0)
        concat_slices(g, parent, sub);
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n))
            continue;
        for (int i = 0; i < n->n_in; i++) {
            Value *v = n->in[i];
            if (v && v->id < nv && g->values[v->id] == v && buf_of[v->id] >= 0)
                bufs[buf_of[v->id]].last = step;
        }
        for (int i = 0; i < n->n_out; i++) {
            Value *v = n->out[i];
            if (!in_arena(v))
                continue;
            if (i == 0 && ctx->opt_level > 0 && aliases_input(n)) {
                buf_of[v->id] = buf_of[n->in[0]->id];
                bufs[buf_of[v->id]].last = step;
                continue;
            }
            /* a Concat's slice: the Concat's output buffer starts here */
            int at = parent[v->id] >= 0 ? parent[v->id] : v->id;
            if (buf_of[at] >= 0) {
                buf_of[v->id] = buf_of[at];
                bufs[buf_of[at]].last = step;
                continue;
            }
            v = g->values[at];
            Buf *b = &bufs[nb];
            b->size = ((int64_t)ir_nbytes(v) + ALIGN - 1) / ALIGN * ALIGN;
            b->first = b->last = step;
            buf_of[v->id] = nb++;
            if (at != n->out[i]->id)
                buf_of[n->out[i]->id] = buf_of[at];
        }
        step++;
    }
    /* strings made by a node point into its pool, and string values are moved by
     * pointer copies that the schedule cannot follow: a pool lives to the end */
    for (int i = 0; i < nv; i++)
        if (buf_of[i] >= 0 && g->values[i]->is_pool)
            bufs[buf_of[i]].last = step;
    widen_loops(g, buf_of, bufs, nb);
    for (int i = 0; i < nb; i++)
        order[i] = &bufs[i];
    qsort(order, (size_t)nb, sizeof *order, by_size_desc);
    /* offsets stay below the limit (at most 2^46) and sizes below the
     * tensor limit, so no sum here can overflow */
    int64_t total = 0, cap = g->limits.v[LIM_ARENA_BYTES];
    int rc = 0;
    for (int i = 0; i < nb && rc == 0; i++) {
        Buf *b = order[i];
        b->offset = ctx->opt_level > 0 ? place(b, order, i) : total;
        b->placed = 1;
        if (b->offset + b->size > total)
            total = b->offset + b->size;
        if (total > cap)
            rc = ir_error(ctx->d, "the memory plan needs an arena of at least %lld bytes, "
                          "above the limit of %lld (--limit arena-bytes=N raises it)",
                          (long long)total, (long long)cap);
    }
    if (rc == 0)
        rc = check_weights(g, ctx->d);
    for (int i = 0; i < nv; i++) {
        Value *v = g->values[i];
        v->live_first = v->live_last = -1;
        if (buf_of[i] < 0)
            continue;
        v->offset = bufs[buf_of[i]].offset + sub[i];
        v->live_first = bufs[buf_of[i]].first;
        v->live_last = bufs[buf_of[i]].last;
    }
    g->arena_bytes = total;
    free(parent);
    free(sub);
    free(buf_of);
    free(bufs);
    free(order);
    return rc;
}
