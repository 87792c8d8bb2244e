/* wq.c: shapes and parameters of the weight-only quantized matmuls (onnxcc.MatMulWQ, com.microsoft MatMulNBits). */
#include <string.h>

#include "ir.h"

static int need(Diag *d, const Node *n, int i)
{
    if (i >= n->n_in || !n->in[i])
        return ir_node_error(d, n, "input %d is required", i);
    return 0;
}

/* Y: X's shape with its last axis (K) replaced by N. */
static int mm_out(Diag *d, Node *n, const Value *x, int64_t k, int64_t nn)
{
    if (x->dtype != RT_F32)
        return ir_node_error(d, n, "input type %s is not supported (float32)",
                             rt_dtype_name(x->dtype));
    if (x->rank < 1 || x->dims[x->rank - 1] != k)
        return ir_node_error(d, n, "the input's last axis must be K = %lld", (long long)k);
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[x->rank - 1] = nn;
    return ir_set_out(n, 0, RT_F32, x->rank, dims);
}

static int check_bias(Diag *d, const Node *n, const Value *b, int64_t nn)
{
    if (b && (b->dtype != RT_F32 || ir_numel(b) != nn))
        return ir_node_error(d, n, "bias must be float32 with N = %lld elements", (long long)nn);
    return 0;
}

/* MatMulWQ, made by passes/quantize_weights.c: inputs X, W (the packed
 * matrix, uint8 [N, row bytes]), bias (optional); attributes format, N, K,
 * group (ints) and tensor_scale (float), as runtime/k_wq.h lays W out. */
int ir_infer_matmul_wq(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0) || need(d, n, 1))
        return -1;
    int64_t fmt = ir_attr_int(n, "format", 0), nn = ir_attr_int(n, "N", 0);
    int64_t k = ir_attr_int(n, "K", 0), group = ir_attr_int(n, "group", 0);
    size_t rb = group > 0 && group <= 1 << 30 ? rt_wq_row_bytes((int)fmt, k, (int)group) : 0;
    const Value *w = n->in[1];
    if (!rb || nn < 1)
        return ir_node_error(d, n, "format %lld with K %lld, group %lld is not a weight format",
                             (long long)fmt, (long long)k, (long long)group);
    if (w->dtype != RT_U8 || w->rank != 2 || w->dims[0] != nn || w->dims[1] != (int64_t)rb)
        return ir_node_error(d, n, "the packed weights must be uint8 [%lld, %zu]", (long long)nn,
                             rb);
    if (check_bias(d, n, ir_input(n, 2), nn) || mm_out(d, n, n->in[0], k, nn))
        return -1;
    ir_param_int(n, RT_WQ_FORMAT, fmt);
    ir_param_int(n, RT_WQ_N, nn);
    ir_param_int(n, RT_WQ_K, k);
    ir_param_int(n, RT_WQ_GROUP, group);
    ir_param_float(n, RT_WQ_F_TSCALE, ir_attr_float(n, "tensor_scale", 1.0f));
    return 0;
}

/* ONNX Runtime's contrib MatMulNBits: A [..., K] times B dequantized, B
 * uint8 [N, n_blocks, block_size * bits / 8], scales [N * n_blocks],
 * zero_points (uint8 packed bits-wise per row, or float [N * n_blocks]),
 * g_idx (refused), bias [N]. */
int ir_infer_matmul_nbits(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0) || need(d, n, 1) || need(d, n, 2))
        return -1;
    int64_t k = ir_attr_int(n, "K", 0), nn = ir_attr_int(n, "N", 0);
    int64_t bits = ir_attr_int(n, "bits", 4), block = ir_attr_int(n, "block_size", 0);
    if (k < 1 || nn < 1)
        return ir_node_error(d, n, "attributes K and N must be positive");
    if ((bits != 2 && bits != 4 && bits != 8) || block < 16 || block > 1 << 20 ||
        (block & (block - 1)))
        return ir_node_error(d, n, "bits %lld and block_size %lld are not supported (bits 2, 4 "
                             "or 8 as ONNX Runtime's, block_size a power of two >= 16)",
                             (long long)bits, (long long)block);
    int64_t nb = (k + block - 1) / block, blob = block * bits / 8;
    const Value *b = n->in[1], *s = n->in[2], *z = ir_input(n, 3);
    if (b->dtype != RT_U8 || ir_numel(b) != nn * nb * blob)
        return ir_node_error(d, n, "B must be uint8 [%lld, %lld, %lld]", (long long)nn,
                             (long long)nb, (long long)blob);
    if (s->dtype != RT_F32 || ir_numel(s) != nn * nb)
        return ir_node_error(d, n, "scales must be float32 with N * n_blocks = %lld elements",
                             (long long)(nn * nb));
    if (z && !((z->dtype == RT_U8 && ir_numel(z) == nn * ((nb * bits + 7) / 8)) ||
               (z->dtype == RT_F32 && ir_numel(z) == nn * nb)))
        return ir_node_error(d, n, "zero_points must be uint8 packed [%lld] or float32 [%lld]",
                             (long long)(nn * ((nb * bits + 7) / 8)), (long long)(nn * nb));
    if (ir_input(n, 4))
        return ir_node_error(d, n, "g_idx (act-order) is not supported");
    if (check_bias(d, n, ir_input(n, 5), nn) || mm_out(d, n, n->in[0], k, nn))
        return -1;
    ir_param_int(n, RT_NBITS_K, k);
    ir_param_int(n, RT_NBITS_N, nn);
    ir_param_int(n, RT_NBITS_BITS, bits);
    ir_param_int(n, RT_NBITS_BLOCK, block);
    return 0;
}
