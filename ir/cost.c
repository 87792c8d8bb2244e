/* cost.c: what one node costs, in floating-point operations and bytes moved, for --profile. */
#include "ir/ir.h"

/* Counts are doubles: 2*M*N*K of a legal model can pass 2^63, and a
 * profile needs three significant digits, not an exact integer. */
static double numel(const Value *v)
{
    int64_t n = v ? ir_numel(v) : 0;
    return n > 0 ? (double)n : 0.0;
}

/* The product of dims[from..rank) of v: a kernel's window or a row length. */
static double dims_from(const Value *v, int from)
{
    double p = 1.0;
    if (!v)
        return 0.0;
    for (int i = from; i < v->rank; i++)
        p *= (double)(v->dims[i] > 0 ? v->dims[i] : 0);
    return p;
}

/* MatMul-like: every output element is a K-long dot product (numpy matmul
 * semantics: A's last axis, or its only one). */
static double matmul_flops(const Value *a, const Value *y)
{
    if (!a || !y || a->rank < 1)
        return 0.0;
    return 2.0 * numel(y) * (double)a->dims[a->rank - 1];
}

/* Conv with weights W [M, C/group, k...]: each output element is a
 * (C/group * prod k)-long dot product. ConvTranspose scatters each input
 * element through W [C, M/group, k...] instead. */
static double conv_flops(const Value *w, const Value *x, const Value *y, int transpose)
{
    if (!w || w->rank < 2)
        return 0.0;
    if (transpose)
        return 2.0 * numel(x) * dims_from(w, 1);
    return 2.0 * numel(y) * dims_from(w, 1);
}

/* Floating-point operations one execution of n performs, as a profiler's
 * roofline wants them: a multiply-add counts 2; an elementwise op, an
 * activation or a comparison 1 per output element (a transcendental too:
 * the table is for seeing where time goes, not a cycle model); pure data
 * movement (Reshape, Transpose, Gather, Concat, Cast...) 0. */
double ir_node_flops(const Node *n)
{
    const Value *x = ir_input(n, 0), *y = n->n_out ? n->out[0] : NULL;
    if (n->op < 0 || n->dead)
        return 0.0;
    RtKernel k = ir_ops[n->op].kernel;
    if (k == rt_binary || k == rt_unary)
        return numel(y);
    if (k == rt_variadic)
        return numel(y) * (n->n_in > 1 ? n->n_in - 1 : 1);
    switch (n->op) {
    case OP_MATMUL:
    case OP_MATMUL_INTEGER:
    case OP_MATMUL_WQ:      /* the decoding is not counted: it is what the */
    case OP_MATMUL_NBITS:   /* packed weights' bytes (ir_node_bytes) pay for */
        return matmul_flops(x, y);
    case OP_QLINEAR_MATMUL:
        return matmul_flops(x, y);
    case OP_GEMM: {
        /* A is [M, K], or [K, M] with transA */
        if (!x || x->rank != 2 || n->n_ints <= RT_GEMM_TRANS_A)
            return 0.0;
        double kk = (double)x->dims[n->ints[RT_GEMM_TRANS_A] ? 0 : 1];
        return 2.0 * numel(y) * kk;
    }
    case OP_CONV:
    case OP_FUSED_CONV:
    case OP_CONV_INTEGER:
        return conv_flops(ir_input(n, 1), x, y, 0);
    case OP_QLINEAR_CONV:
        return conv_flops(ir_input(n, 3), x, y, 0);
    case OP_CONV_WQ: /* W is packed: K is an attribute (decoding not counted) */
        return 2.0 * numel(y) * (double)ir_attr_int(n, "K", 0);
    case OP_CONV_TRANSPOSE:
        return conv_flops(ir_input(n, 1), x, y, 1);
    case OP_DEFORM_CONV:
        /* the convolution's multiply-adds, plus a bilinear sample (about 8)
         * and the mask's multiply per tap */
        return conv_flops(ir_input(n, 1), x, y, 0) * 5.5;
    case OP_COL2IM:
        return numel(x);
    case OP_MAX_POOL:
    case OP_AVERAGE_POOL:
    case OP_LP_POOL: {
        /* one compare or add per window element (LpPool: a power too) */
        int nsp = n->n_ints > RT_POOL_NSP ? (int)n->ints[RT_POOL_NSP] : 0;
        double win = 1.0;
        for (int i = 0; i < nsp && RT_POOL_KERNEL + i < n->n_ints; i++)
            win *= (double)n->ints[RT_POOL_KERNEL + i];
        return numel(y) * win;
    }
    case OP_GLOBAL_AVERAGE_POOL:
    case OP_GLOBAL_MAX_POOL:
    case OP_REDUCE_MEAN:
    case OP_REDUCE_SUM:
    case OP_REDUCE_MAX:
    case OP_REDUCE_MIN:
    case OP_REDUCE_PROD:
    case OP_REDUCE_L1:
    case OP_REDUCE_LOG_SUM:
    case OP_REDUCE_LOG_SUM_EXP:
    case OP_ARG_MAX:
    case OP_ARG_MIN:
    case OP_CUMSUM:
        return numel(x);
    case OP_REDUCE_L2:
    case OP_REDUCE_SUM_SQUARE:
        return 2.0 * numel(x);
    case OP_BATCH_NORMALIZATION:
        /* (x - mean) * scale / sqrt(var + eps) + b folds to one multiply-add */
        return 2.0 * numel(x);
    case OP_LAYER_NORMALIZATION:
    case OP_INSTANCE_NORMALIZATION:
    case OP_MVN:
    case OP_LP_NORMALIZATION:
    case OP_GROUP_NORMALIZATION:
        /* mean, variance, then subtract, scale and shift */
        return 5.0 * numel(x);
    case OP_LRN: {
        int64_t size = n->n_ints > RT_LRN_SIZE ? n->ints[RT_LRN_SIZE] : 1;
        return numel(x) * (2.0 * (double)size + 3.0);
    }
    case OP_SOFTMAX:
    case OP_LOG_SOFTMAX:
    case OP_HARDMAX:
        /* max, subtract and exp, sum, divide */
        return 4.0 * numel(x);
    case OP_EW_CHAIN:
        /* one flop per fused op and element (an exp counts as one) */
        return numel(y) * (double)(n->n_ints > RT_CHAIN_NOPS ? n->ints[RT_CHAIN_NOPS] : 0);
    case OP_CLIP:
    case OP_WHERE:
    case OP_QUANTIZE_LINEAR:
    case OP_DEQUANTIZE_LINEAR:
    case OP_DYNAMIC_QUANTIZE_LINEAR:
        return numel(y);
    case OP_RNN:
    case OP_GRU:
    case OP_LSTM: {
        /* X [T, B, I], W [dirs, gates*H, I], R [dirs, gates*H, H]: per step
         * and direction, gates*H dot products of length I + H */
        const Value *w = ir_input(n, 1), *r = ir_input(n, 2);
        if (!x || x->rank != 3 || !w || w->rank != 3 || !r || r->rank != 3)
            return 0.0;
        double steps = (double)x->dims[0] * (double)x->dims[1];
        return 2.0 * steps * (double)w->dims[0] * (double)w->dims[1] *
               (double)(w->dims[2] + r->dims[2]);
    }
    default:
        return 0.0;
    }
}

/* Bytes one execution reads and writes at least once: every input
 * (weights included) and every output. A Reshape that shares its input's
 * buffer still counts, as the table is for spotting memory-bound nodes. */
double ir_node_bytes(const Node *n)
{
    double b = 0.0;
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i])
            b += (double)ir_nbytes(n->in[i]);
    for (int i = 0; i < n->n_out; i++)
        if (n->out[i])
            b += (double)ir_nbytes(n->out[i]);
    return b;
}
