/* wq.c: shapes and parameters of the weight-only quantized ops (MatMulWQ, ConvWQ, MatMulNBits). */
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
 * group, act_bits (optional: 8 for int8 activations) (ints) and
 * tensor_scale (float), as runtime/k_wq.h lays W out. */
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
    ir_param_int(n, RT_WQ_ACT_BITS, ir_attr_int(n, "act_bits", 0));
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

/* ConvWQ, made by passes/quantize_weights.c from a Conv or FusedConv: inputs
 * X, W (the packed matrix, uint8 [N, row bytes]), bias and Z (optional, as
 * FusedConv's); Conv's attributes (kernel_shape required: W no longer
 * carries it) plus format, N, K, block_size (the quantization group) and
 * tensor_scale. The window, output and activation are Conv's own, resolved
 * by ir_infer_conv against W as the float [N, K / window, k...] it stands
 * for; ConvWQ's slots follow (runtime/k_wq.h). */
int ir_infer_conv_wq(Graph *g, Node *n, Diag *d)
{
    if (need(d, n, 0) || need(d, n, 1))
        return -1;
    int64_t fmt = ir_attr_int(n, "format", 0), nn = ir_attr_int(n, "N", 0);
    int64_t k = ir_attr_int(n, "K", 0), group = ir_attr_int(n, "block_size", 0);
    int64_t ks[3], win = 1;
    const Value *x = n->in[0];
    Value *w = n->in[1];
    int nsp = ir_attr_ints(n, "kernel_shape", ks, 3);
    if (nsp < 1 || x->rank != nsp + 2)
        return ir_node_error(d, n, "kernel_shape must give one extent per spatial axis of X");
    for (int i = 0; i < nsp; i++)
        win *= ks[i] >= 1 && ks[i] <= 1 << 16 ? ks[i] : 0;
    size_t rb = group > 0 && group <= 1 << 30 ? rt_wq_row_bytes((int)fmt, k, (int)group) : 0;
    if (!rb || nn < 1 || !win || k % win)
        return ir_node_error(d, n, "format %lld with K %lld, block_size %lld and a window of "
                             "%lld is not a weight format", (long long)fmt, (long long)k,
                             (long long)group, (long long)win);
    if (w->dtype != RT_U8 || w->rank != 2 || w->dims[0] != nn || w->dims[1] != (int64_t)rb)
        return ir_node_error(d, n, "the packed weights must be uint8 [%lld, %zu]", (long long)nn,
                             rb);
    if (x->dtype != RT_F32)
        return ir_node_error(d, n, "input type %s is not supported (float32)",
                             rt_dtype_name(x->dtype));
    Value fw = *w; /* what ir_infer_conv reads of W: its type and shape */
    fw.dtype = RT_F32;
    fw.rank = nsp + 2;
    fw.dims[0] = nn;
    fw.dims[1] = k / win;
    for (int i = 0; i < nsp; i++)
        fw.dims[2 + i] = ks[i];
    fw.data = NULL;
    n->in[1] = &fw;
    int rc = ir_infer_conv(g, n, d);
    n->in[1] = w;
    if (rc < 0)
        return -1;
    if (n->n_ints == RT_CONV_CLAMP(nsp))
        ir_param_int(n, RT_CONV_CLAMP(nsp), RT_EPI_NONE);
    ir_param_int(n, RT_CONV_PACK(nsp), 0);
    ir_param_int(n, RT_CONV_PACK_T(nsp), 0);
    ir_param_int(n, RT_CONV_WINO(nsp), 0);
    ir_param_int(n, RT_CONVWQ(nsp) + RT_CONVWQ_FORMAT, fmt);
    ir_param_int(n, RT_CONVWQ(nsp) + RT_CONVWQ_N, nn);
    ir_param_int(n, RT_CONVWQ(nsp) + RT_CONVWQ_K, k);
    ir_param_int(n, RT_CONVWQ(nsp) + RT_CONVWQ_GROUP, group);
    ir_param_ints(n, RT_CONVWQ(nsp) + RT_CONVWQ_KERNEL, ks, nsp);
    for (int i = n->n_floats; i < RT_CONV_NFLOATS; i++)
        ir_param_float(n, i, 0.0f);
    ir_param_float(n, RT_CONVWQ_F_TSCALE, ir_attr_float(n, "tensor_scale", 1.0f));
    return 0;
}
