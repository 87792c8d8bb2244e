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

/* Concat in place: a Concat along an axis with only extents of 1 before
 * it (channels at batch 1) whose input is written by a node of its own and
 * read by this Concat alone can have its producer write straight into its
 * slice of the output; rt_concat then skips that copy (source and
 * destination are the same bytes). For each such input v, parent[v->id] is
 * the output's id and sub[v->id] the slice's byte offset; the planner gives
 * v the output's buffer, alive from the first slice's producer on. Slices
 * keep ALIGN alignment (kernels may assume it); an input produced by
 * another Concat or by a copy sharing its input's buffer keeps its own, and
 * so does a Concat with run-time extents. */
static void concat_slices(const Graph *g, int *parent, int64_t *sub)
{
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (n->dead || n->op != OP_CONCAT || ir_ops[n->op].kernel != rt_concat ||
            ir_node_is_constant(n) || n->n_out != 1 || n->n_ints < 1)
            continue;
        const Value *y = n->out[0];
        /* run-time extents move the slices: the offsets hold only at the bounds */
        if (!in_arena(y) || y->kind != VK_TENSOR || y->dyn || y->rt_mask || ir_node_has_rt(n) ||
            !ir_shape_known(y) || !rt_dtype_size(y->dtype))
            continue;
        int64_t axis = n->ints[0], off = 0, outer = 1;
        for (int64_t a = 0; a < axis && a < y->rank; a++)
            outer *= y->dims[a];
        if (outer != 1)
            continue;
        for (int i = 0; i < n->n_in; i++) {
            const Value *v = n->in[i];
            if (!v)
                break;
            const Node *p = v->producer;
            if (in_arena(v) && v->kind == VK_TENSOR && !v->dyn && !v->is_pool && v != y &&
                v->n_uses == 1 && v->uses->node == n && off % ALIGN == 0 && p && !p->dead &&
                !ir_node_is_constant(p) && p->op != OP_CONCAT && !aliases_input(p) &&
                v->id < g->n_values && g->values[v->id] == v) {
                parent[v->id] = y->id;
                sub[v->id] = off;
            }
            off += (int64_t)ir_nbytes(v);
        }
    }
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
