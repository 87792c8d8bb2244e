/* rtdims.c: run-time dims: the ops that take them, and which dims of every value vary, found by probing the ops' shape functions. */
#include <string.h>

#include "ir.h"

RtShapeFn ir_rt_shape_fn(const Node *n, const char **name)
{
#define FN(f) (*name = #f, f)
    RtKernel k = n->op >= 0 ? ir_ops[n->op].kernel : NULL;
    switch (n->op) {
    case OP_SHAPE:
        return FN(rt_shape_static);
    case OP_EXPAND:
        return FN(rt_shape_expand);
    case OP_RESHAPE:
        return n->n_in >= 2 ? FN(rt_shape_reshape) : NULL;
    case OP_FLATTEN:
        return FN(rt_shape_flatten);
    case OP_SQUEEZE:
    case OP_UNSQUEEZE:
        return ir_rt_value_inputs(n) ? FN(rt_shape_axes) : FN(rt_shape_axismap);
    case OP_IDENTITY:
        return FN(rt_shape_same);
    case OP_CONV_TRANSPOSE:
        return NULL;
    case OP_TILE:
        return ir_rt_value_inputs(n) ? FN(rt_shape_tile) : NULL;
    case OP_CONSTANT_OF_SHAPE:
        return ir_rt_value_inputs(n) ? FN(rt_shape_fill) : NULL;
    case OP_RANGE:
        return ir_rt_value_inputs(n) ? FN(rt_shape_range) : NULL;
    case OP_PAD:
        return ir_rt_value_inputs(n) ? FN(rt_shape_pad) : NULL;
    case OP_ONE_HOT:
        return ir_rt_value_inputs(n) ? FN(rt_shape_onehot) : NULL;
    case OP_RESIZE:
    case OP_UPSAMPLE:
        return ir_rt_value_inputs(n) ? FN(rt_shape_resize) : NULL;
    case OP_HANN_WINDOW:
    case OP_HAMMING_WINDOW:
    case OP_BLACKMAN_WINDOW:
        return ir_rt_value_inputs(n) ? FN(rt_shape_window) : NULL;
    default:
        break;
    }
    if (k == rt_unary || k == rt_cast || k == rt_softmax || k == rt_layernorm ||
        k == rt_batchnorm || k == rt_dropout)
        return FN(rt_shape_same);
    if (k == rt_binary || k == rt_variadic || k == rt_where || k == rt_ew_chain)
        return FN(rt_shape_broadcast);
    if (k == rt_conv || k == rt_pool || k == rt_global_pool)
        return FN(rt_shape_batch);
    if (k == rt_matmul)
        return FN(rt_shape_matmul);
    if (k == rt_gemm)
        return FN(rt_shape_gemm);
    if (k == rt_transpose)
        return FN(rt_shape_transpose);
    if (k == rt_concat)
        return FN(rt_shape_concat);
    if (k == rt_gather)
        return FN(rt_shape_gather);
    if (k == rt_slice)
        return ir_rt_value_inputs(n) ? FN(rt_shape_slice_values) : FN(rt_shape_slice);
    /* these take run-time extents only from the value that decides them */
    if (k == rt_reduce && ir_rt_value_inputs(n))
        return FN(rt_shape_reduce_axes);
    if (k == rt_split && ir_rt_value_inputs(n))
        return FN(rt_shape_split_values);
    if (k == rt_topk && ir_rt_value_inputs(n))
        return FN(rt_shape_topk_k);
    if (k == rt_compress && ir_rt_value_inputs(n))
        return FN(rt_shape_compress);
#undef FN
    *name = NULL;
    return NULL;
}

uint32_t ir_rt_value_inputs(const Node *n)
{
    switch (n->op) {
    case OP_RESHAPE:
    case OP_EXPAND:
        return n->n_in >= 2 ? 1u << 1 : 0;
    case OP_SQUEEZE:
    case OP_UNSQUEEZE:
        /* axes probed from run-time dims keep their compile-time map */
        return n->n_in >= 2 && ir_rt_unknown(n->in[1]) ? 1u << 1 : 0;
    case OP_TILE:
        return n->n_in >= 2 && ir_rt_unknown(n->in[1]) ? 1u << 1 : 0;
    case OP_CONSTANT_OF_SHAPE:
        return n->n_in >= 1 && ir_rt_unknown(n->in[0]) ? 1u : 0;
    case OP_RANGE:
        for (int i = 0; i < n->n_in && i < 3; i++)
            if (ir_rt_unknown(n->in[i]))
                return 0x7u & ((1u << n->n_in) - 1);
        return 0;
    case OP_ONE_HOT:
        return n->n_in >= 2 && ir_rt_unknown(n->in[1]) ? 1u << 1 : 0;
    case OP_RESIZE:
    case OP_UPSAMPLE:
        /* roi, scales, sizes (Upsample-9, Resize-10: scales as input 1) */
        for (int i = 1; (n->op == OP_RESIZE || n->opset >= 9) && i < n->n_in && i < 4; i++)
            if (ir_rt_unknown(n->in[i]))
                return 0xeu & ((1u << n->n_in) - 1);
        return 0;
    case OP_HANN_WINDOW:
    case OP_HAMMING_WINDOW:
    case OP_BLACKMAN_WINDOW:
        return n->n_in >= 1 && ir_rt_unknown(n->in[0]) ? 1u : 0;
    case OP_PAD:
        /* pads and axes (inputs 1, 3) read when it runs if one is unknown */
        if (n->opset >= 11 && (ir_rt_unknown(ir_input(n, 1)) || ir_rt_unknown(ir_input(n, 3))))
            return 0xau & ((1u << n->n_in) - 1);
        return 0;
    case OP_SLICE:
        /* read when it runs if one of starts, ends, axes, steps is unknown */
        for (int i = 1; n->opset >= 10 && i < n->n_in && i < 5; i++)
            if (ir_rt_unknown(n->in[i]))
                return 0x1eu & ((1u << n->n_in) - 1);
        return 0;
    case OP_REDUCE_SUM:
    case OP_REDUCE_MEAN: case OP_REDUCE_MAX: case OP_REDUCE_MIN: case OP_REDUCE_PROD:
    case OP_REDUCE_L1: case OP_REDUCE_L2: case OP_REDUCE_LOG_SUM: case OP_REDUCE_LOG_SUM_EXP:
    case OP_REDUCE_SUM_SQUARE:
        /* axes as an input (ReduceSum 13+, the others 18+); empty ones are
         * static (all axes, or none with noop_with_empty_axes) */
        return n->opset >= (n->op == OP_REDUCE_SUM ? 13 : 18) && n->n_in >= 2 &&
               ir_rt_unknown(n->in[1]) && ir_numel(n->in[1]) > 0 ? 1u << 1 : 0;
    case OP_SPLIT:
        return n->opset >= 13 && n->n_in >= 2 && ir_rt_unknown(n->in[1]) ? 1u << 1 : 0;
    case OP_TOPK:
        return n->opset >= 10 && n->n_in >= 2 && ir_rt_unknown(n->in[1]) ? 1u << 1 : 0;
    case OP_COMPRESS:
        return n->n_in >= 2 && ir_rt_unknown(n->in[1]) ? 1u << 1 : 0;
    default:
        return 0;
    }
}

int ir_rt_unknown(const Value *v)
{
    return v && v->kind == VK_TENSOR && !v->data && !v->rt_data[0];
}

int ir_node_has_rt(const Node *n)
{
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] && n->in[i]->rt_mask)
            return 1;
    uint32_t vi = ir_rt_value_inputs(n);
    for (int i = 0; i < n->n_in; i++)
        if ((vi >> i & 1) && n->in[i] && (n->in[i]->rt_data[0] || ir_rt_unknown(n->in[i])))
            return 1;
    return 0;
}

int ir_graph_has_rt(const Graph *g)
{
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i]->rt_mask)
            return 1;
    return 0;
}

/* The first run-time dim of n's inputs, for messages: its name (named 1),
 * else the value's. */
static const char *rt_dim_name(const Node *n, int64_t *bound, int *named)
{
    for (int i = 0; i < n->n_in; i++) {
        const Value *v = n->in[i];
        for (int k = 0; v && k < v->rank; k++)
            if (v->rt_mask >> k & 1) {
                *bound = v->dims[k];
                *named = v->dim_param[k] != NULL;
                return v->dim_param[k] ? v->dim_param[k] : v->name;
            }
    }
    *bound = 0;
    *named = 0;
    return "?";
}

/* What an input holds under probe p: a run-time value's probe, else its
 * constant data (NULL for a tensor known only when the model runs). */
static const void *probe_data(const Value *v, int p)
{
    return !v ? NULL : v->rt_data[0] ? v->rt_data[p] : v->data;
}

/* Output extents of n with its inputs' extents taken from probe p (0: the
 * bounds, 1: the low probe, 2: the midpoint). */
static int probe(const Node *n, RtShapeFn fn, int p, RtTensorDesc *out)
{
    RtTensorDesc pin[n->n_in + 1], din[n->n_in + 1], pout[n->n_out + 1];
    const void *data[n->n_in + 1];
    for (int i = 0; i < n->n_in; i++) {
        ir_desc(n->in[i], &pin[i]);
        din[i] = pin[i];
        data[i] = probe_data(n->in[i], p);
        for (int k = 0; n->in[i] && n->in[i]->rt_mask && p && k < n->in[i]->rank; k++)
            din[i].dims[k] = p == 1 ? n->in[i]->rt_lo[k] : n->in[i]->rt_mid[k];
    }
    for (int j = 0; j < n->n_out; j++)
        ir_desc(n->out[j], &pout[j]);
    memcpy(out, pout, sizeof *out * (size_t)n->n_out);
    RtCall c = {n->n_in, n->n_out, pin, pout, n->n_ints, n->n_floats, n->ints, n->floats};
    return fn(&c, din, data, out);
}

static void clear(Value *v)
{
    v->rt_mask = 0;
    v->rt_cap = 0;
    v->rt_opaque = 0;
    for (int k = 0; k < v->rank && k < IR_MAX_RANK; k++)
        v->rt_lo[k] = v->rt_mid[k] = v->dims[k];
}

/* An output dim that varies exactly as a named input dim takes its name
 * (for messages and the generated header). */
static void name_dim(const Node *n, Value *v, int k)
{
    for (int i = 0; i < n->n_in; i++) {
        const Value *x = n->in[i];
        for (int a = 0; x && a < x->rank; a++)
            if ((x->rt_mask >> a & 1) && x->dim_param[a] && x->dims[a] == v->dims[k] &&
                x->rt_lo[a] == v->rt_lo[k] && x->rt_mid[a] == v->rt_mid[k]) {
                v->dim_param[k] = x->dim_param[a];
                return;
            }
    }
}

/* Shape of a value with run-time dims: the extents become a run-time value
 * (no longer a constant), known at each probe. */
static int shape_values(Graph *g, Node *n, Diag *d)
{
    const Value *x = n->in[0];
    Value *y = n->out[0];
    int64_t start = n->ints[RT_SHAPE_START], len = y->dims[0];
    if (x->rt_opaque) { /* extents known only when it runs: so are their values */
        y->data = NULL;
        return 0;
    }
    if (!((x->rt_mask >> start) & ((1ull << len) - 1)))
        return 0;
    y->data = NULL;
    y->rt_taint = (x->rt_mask >> start) & ((1ull << len) - 1);
    for (int p = 0; p < 3; p++) {
        int64_t *q = ir_alloc(g, sizeof *q * (size_t)(len ? len : 1));
        if (!q)
            return ir_node_error(d, n, "out of memory");
        for (int64_t k = 0; k < len; k++)
            q[k] = p == 0 ? x->dims[start + k] : p == 1 ? x->rt_lo[start + k] : x->rt_mid[start + k];
        y->rt_data[p] = q;
    }
    return 0;
}

/* Which output elements vary with the run-time dims: moved with the
 * inputs' through a data-movement kernel, any for arithmetic. An output
 * none of whose elements varies is a constant after all (Shape(x)[-1] of
 * an x whose last axis is static). */
static int taint(Graph *g, Node *n, const RtCall *c, Diag *d)
{
    RtKernel k = ir_ops[n->op].kernel;
    int moves = k == rt_gather || k == rt_concat || k == rt_copy || k == rt_slice ||
                k == rt_cast || k == rt_transpose;
    uint64_t any = 0;
    const void *in[n->n_in + 1];
    void *out[n->n_out + 1];
    for (int i = 0; i < n->n_in; i++) {
        const Value *v = n->in[i];
        in[i] = v ? v->data : NULL;
        if (!v || !v->rt_data[0])
            continue;
        any |= v->rt_taint;
        void *t = ir_alloc(g, ir_nbytes(v) + 1);
        if (!t)
            return ir_node_error(d, n, "out of memory");
        for (int64_t e = 0; e < ir_numel(v); e++)
            rt_store_f64(t, v->dtype, e, (double)(v->rt_taint >> e & 1));
        in[i] = t;
    }
    for (int j = 0; j < n->n_out; j++) {
        out[j] = NULL;
        if (n->out[j] && !(out[j] = ir_alloc(g, ir_nbytes(n->out[j]) + 1)))
            return ir_node_error(d, n, "out of memory");
    }
    if (moves && k(c, in, out))
        moves = 0;
    for (int j = 0; j < n->n_out; j++) {
        Value *v = n->out[j];
        if (!v)
            continue;
        int64_t cnt = ir_numel(v);
        uint64_t all = cnt >= 64 ? ~0ull : (1ull << cnt) - 1;
        v->rt_taint = !any ? 0 : !moves ? all : 0;
        for (int64_t e = 0; moves && any && e < cnt; e++)
            v->rt_taint |= (uint64_t)(rt_load_f64(out[j], v->dtype, e) != 0) << e;
        if (!v->rt_taint) {
            v->data = v->rt_data[0];
            v->rt_data[0] = v->rt_data[1] = v->rt_data[2] = NULL;
        }
    }
    return 0;
}

/* Outputs of at most this many elements are evaluated under each probe. */
#define RT_VALUE_MAX 64

int ir_rt_values(Graph *g, Node *n, Diag *d)
{
    int any = 0;
    for (int i = 0; i < n->n_in; i++) {
        const Value *v = n->in[i];
        if (v && v->rt_mask)
            return 0;
        if (v && !v->data && !v->rt_data[0])
            return 0;
        any |= v && v->rt_data[0];
    }
    if (!any || !ir_ops[n->op].kernel || n->op == OP_SHAPE)
        return 0;
    for (int j = 0; j < n->n_out; j++)
        if (n->out[j] && (n->out[j]->kind != VK_TENSOR || ir_numel(n->out[j]) > RT_VALUE_MAX ||
                          n->out[j]->rt_mask))
            return 0;
    RtTensorDesc din[n->n_in + 1], dout[n->n_out + 1];
    for (int i = 0; i < n->n_in; i++)
        ir_desc(n->in[i], &din[i]);
    for (int j = 0; j < n->n_out; j++)
        ir_desc(n->out[j], &dout[j]);
    RtCall c = {n->n_in, n->n_out, din, dout, n->n_ints, n->n_floats, n->ints, n->floats};
    for (int p = 0; p < 3; p++) {
        const void *in[n->n_in + 1];
        void *out[n->n_out + 1];
        for (int i = 0; i < n->n_in; i++)
            in[i] = probe_data(n->in[i], p);
        for (int j = 0; j < n->n_out; j++) {
            out[j] = NULL;
            if (n->out[j] && !(out[j] = ir_alloc(g, ir_nbytes(n->out[j]) + 1)))
                return ir_node_error(d, n, "out of memory");
        }
        if (ir_ops[n->op].kernel(&c, in, out))
            return ir_node_error(d, n, "cannot evaluate it over the run-time dims' probes");
        for (int j = 0; j < n->n_out; j++)
            if (n->out[j])
                n->out[j]->rt_data[p] = out[j];
    }
    return taint(g, n, &c, d);
}

/* n's output extents are decided by a value known only when it runs,
 * directly or through an input whose extents are. */
static int opaque_inputs(const Node *n)
{
    uint32_t vi = ir_rt_value_inputs(n);
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] && (n->in[i]->rt_opaque || ((vi >> i & 1) && ir_rt_unknown(n->in[i]))))
            return 1;
    return 0;
}

/* Ops whose outputs never hold more elements than input 0 does. */
static int keeps_count(RtShapeFn fn)
{
    return fn == rt_shape_same || fn == rt_shape_reshape || fn == rt_shape_flatten ||
           fn == rt_shape_axismap || fn == rt_shape_axes || fn == rt_shape_transpose ||
           fn == rt_shape_slice || fn == rt_shape_slice_values || fn == rt_shape_split_values ||
           fn == rt_shape_topk_k || fn == rt_shape_compress;
}

int ir_rt_grows(const Node *n)
{
    uint32_t vi = ir_rt_value_inputs(n);
    switch (n->op) {
    case OP_EXPAND: case OP_TILE: case OP_CONSTANT_OF_SHAPE: case OP_RANGE: case OP_PAD:
    case OP_ONE_HOT: case OP_HANN_WINDOW: case OP_HAMMING_WINDOW: case OP_BLACKMAN_WINDOW:
    case OP_RESIZE: case OP_UPSAMPLE:
        break;
    default:
        return 0;
    }
    for (int i = 0; i < n->n_in; i++)
        if ((vi >> i & 1) && ir_rt_unknown(n->in[i]))
            return 1;
    return 0;
}

int ir_rt_grown_out(const Graph *g, Node *n, int j, int dtype, int rank, Diag *d)
{
    if (rank < 0 || rank > IR_MAX_RANK)
        return ir_node_error(d, n, "output '%s' would have rank %d, outside 0..%d",
                             n->out[j] ? n->out[j]->name : "?", rank, IR_MAX_RANK);
    int64_t dims[IR_MAX_RANK];
    for (int k = 0; k < rank; k++)
        dims[k] = g->limits.v[LIM_RT_ELEMS];
    return ir_set_out(n, j, dtype, rank, dims);
}

static int64_t sat_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
    return a && b > INT64_MAX / a ? INT64_MAX : a * b;
}

/* Sets output v's rt_cap from its inputs' counts, where the op bounds it
 * below the product of v's bounds: the buffer is planned for that count. A
 * count past the tensor limits is an error naming what to bind. */
static int cap(Graph *g, const Node *n, RtShapeFn fn, Value *v, Diag *d)
{
    int64_t c = INT64_MAX;
    if (ir_rt_grows(n)) {
        /* nothing bounds it but what the user states */
        c = g->limits.v[LIM_RT_ELEMS];
    } else if (keeps_count(fn) && n->in[0]) {
        c = ir_max_numel(n->in[0]);
    } else if (fn == rt_shape_broadcast) {
        /* each output extent is one input's, so the count is at most the
         * product of the inputs' counts */
        c = 1;
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i])
                c = sat_mul(c, ir_max_numel(n->in[i]));
    } else if (fn == rt_shape_reduce_axes && n->in[0]) {
        /* the axes kept are some of input 0's; a reduced empty axis leaves
         * a 1, so count every extent as at least 1 */
        const Value *x = n->in[0];
        c = ir_max_numel(x);
        if (c == 0) {
            c = 1;
            for (int k = 0; k < x->rank; k++)
                c = sat_mul(c, x->dims[k] > 1 ? x->dims[k] : 1);
        }
    } else if (fn == rt_shape_concat) {
        c = 0;
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i])
                c = sat_add(c, ir_max_numel(n->in[i]));
    }
    int64_t bound = ir_numel(v);
    v->rt_cap = c < bound ? c : 0;
    char why[256];
    int64_t most = ir_max_numel(v);
    if (most != INT64_MAX && !ir_check_tensor(&g->limits, v->dtype, 1, &most, why, sizeof why))
        return 0;
    if (most == INT64_MAX)
        snprintf(why, sizeof why, "would hold more elements than fit in 64 bits");
    return ir_node_error(d, n, "output '%s' has extents decided when the model runs, and "
                         "planned for their bounds it %s: bind the values that decide them "
                         "(--const NAME=FILE) or narrow the run-time dims (--dim NAME=LO..HI)",
                         v->name, why);
}

int ir_rt_node(Graph *g, Node *n, Diag *d)
{
    for (int j = 0; j < n->n_out; j++)
        if (n->out[j])
            clear(n->out[j]);
    if (!ir_node_has_rt(n))
        return 0;
    const char *fname;
    int64_t bound;
    RtShapeFn fn = ir_rt_shape_fn(n, &fname);
    int named;
    const char *dim = rt_dim_name(n, &bound, &named);
    if (!fn && named)
        return ir_node_error(d, n, "has the run-time dim '%s' (up to %lld) in its inputs, and "
                             "%s takes no run-time extents yet: fix the dim with --dim %s=N",
                             dim, (long long)bound, n->op_type, dim);
    if (!fn)
        return ir_node_error(d, n, "input '%s' has extents that vary with the run-time dims "
                             "(up to %lld), and %s takes no run-time extents yet: fix the "
                             "dims with --dim NAME=N", dim, (long long)bound, n->op_type);
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] && n->in[i]->dyn)
            return ir_node_error(d, n, "mixes a data-dependent extent with run-time dims");
    if (opaque_inputs(n)) {
        for (int j = 0; j < n->n_out; j++) {
            Value *v = n->out[j];
            if (!v || v->kind != VK_TENSOR)
                continue;
            /* every axis may vary within its bound; nothing to probe */
            v->rt_mask = v->rank ? (uint32_t)((1ull << v->rank) - 1) : 0;
            v->rt_opaque = v->rt_mask != 0;
            for (int k = 0; k < v->rank; k++)
                v->rt_lo[k] = 0;
            if (cap(g, n, fn, v, d) < 0)
                return -1;
        }
        return n->op == OP_SHAPE ? shape_values(g, n, d) : 0;
    }
    RtTensorDesc at[3][n->n_out + 1];
    for (int p = 0; p < 3; p++)
        if (probe(n, fn, p, at[p]))
            return ir_node_error(d, n, "its input extents do not fit together with the "
                                 "run-time dim '%s' at its %s", dim,
                                 p == 0 ? "upper bound" : p == 1 ? "low bound" : "midpoint");
    for (int j = 0; j < n->n_out; j++) {
        Value *v = n->out[j];
        if (!v || v->kind != VK_TENSOR)
            continue;
        for (int k = 0; k < v->rank; k++) {
            if (at[0][j].dims[k] != v->dims[k])
                return ir_node_error(d, n, "output '%s': the run-time shape function gives "
                                     "%lld along axis %d where inference gave %lld", v->name,
                                     (long long)at[0][j].dims[k], k, (long long)v->dims[k]);
            v->rt_lo[k] = at[1][j].dims[k];
            v->rt_mid[k] = at[2][j].dims[k];
            if (v->rt_lo[k] != v->dims[k] || v->rt_mid[k] != v->dims[k]) {
                v->rt_mask |= 1u << k;
                name_dim(n, v, k);
            }
        }
        if (v->rt_mask && cap(g, n, fn, v, d) < 0)
            return -1;
    }
    return n->op == OP_SHAPE ? shape_values(g, n, d) : 0;
}

int ir_rt_propagate(Graph *g, Diag *d)
{
    if (!ir_graph_has_rt(g))
        return 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (!n->dead && ir_rt_node(g, n, d) < 0)
            return -1;
    }
    return 0;
}
