/* k_quant.h: prototypes and parameter layouts of the quantization kernels. */
#ifndef ONNXCC_K_QUANT_H
#define ONNXCC_K_QUANT_H

/* Quantized tensors are uint8 or int8 (int32 also for DequantizeLinear's
 * input and for bias); (De)QuantizeLinear also take int16/uint16, the
 * packed int4/uint4/int2/uint2, float8 and float4e2m1. Rounding is half to
 * even and integer results saturate to the output type's range, as the ONNX
 * spec says. A zero point or scale with one element applies to the whole
 * tensor; otherwise it holds one value per index of the axis the layout
 * names, or (block > 0) one per block of that many indices along it, having
 * x's rank. Scales and zero points are read at run time, so they need not be
 * constants. */

/* QuantizeLinear: out = saturate(rint(in[0] / in[1]) + in[2]); in[2] may be
 * omitted (zero point 0, the output type the descriptor says). A float8 or
 * float4 output is in[0] / in[1] (+ its zero point, 0) rounded once, with
 * saturate (default 1) for float8's overflow. precision: 0 (float32), or the
 * dtype the division is done in (opset 23). The axis (non-negative) is used
 * when the scale has more than one element. */
enum { RT_QUANT_AXIS, RT_QUANT_BLOCK, RT_QUANT_SATURATE, RT_QUANT_PRECISION, RT_QUANT_NINTS };
int rt_quantize_linear(const RtCall *c, const void *const *in, void *const *out);

/* DequantizeLinear: out = (in[0] - in[2]) * in[1], float output; float8 and
 * float4 inputs are decoded and scaled (their zero point is 0). The axis and
 * block as QuantizeLinear's. */
int rt_dequantize_linear(const RtCall *c, const void *const *in, void *const *out);

/* DynamicQuantizeLinear: float32 in[0] to uint8 out[0], with the scale
 * (float32 scalar) in out[1] and the zero point (uint8 scalar) in out[2],
 * chosen so that the range [min(0, min x), max(0, max x)] maps onto 0..255. */
int rt_dynamic_quantize_linear(const RtCall *c, const void *const *in, void *const *out);

/* MatMulInteger: int32 out = (A - a_zp) x (B - b_zp) with MatMul's batch
 * broadcasting. in: A, B, a_zp (scalar or [M], optional), b_zp (scalar or
 * [N], optional). QLinearMatMul uses the same layout with in: a, a_scale,
 * a_zp, b, b_scale, b_zp, y_scale, y_zp and out = saturate(rint(acc *
 * a_scale * b_scale / y_scale) + y_zp).
 * The ints hold M, K, N and nb, the batch axes of the output, then runs of
 * nb batch extents and, per batch axis, the element strides of A's and B's
 * M x K / K x N matrices (0 where the operand is broadcast). */
enum { RT_MATMUL_INT_M, RT_MATMUL_INT_K, RT_MATMUL_INT_N, RT_MATMUL_INT_NB,
       RT_MATMUL_INT_BDIMS };
#define RT_MATMUL_INT_ASTR(nb) (RT_MATMUL_INT_BDIMS + (nb))
#define RT_MATMUL_INT_BSTR(nb) (RT_MATMUL_INT_BDIMS + 2 * (nb))
int rt_matmul_integer(const RtCall *c, const void *const *in, void *const *out);
int rt_qlinear_matmul(const RtCall *c, const void *const *in, void *const *out);

/* ConvInteger (in: x, w, x_zp, w_zp; int32 out) and QLinearConv (in: x,
 * x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B (int32, optional)),
 * 2-D, NCHW input, MCkHkW weights; w_zp and w_scale may be per output channel. */
enum { RT_CONV_INT_GROUP, RT_CONV_INT_PAD_TOP, RT_CONV_INT_PAD_LEFT, RT_CONV_INT_STRIDE_H,
       RT_CONV_INT_STRIDE_W, RT_CONV_INT_DIL_H, RT_CONV_INT_DIL_W, RT_CONV_INT_NINTS };
int rt_conv_integer(const RtCall *c, const void *const *in, void *const *out);
int rt_qlinear_conv(const RtCall *c, const void *const *in, void *const *out);

/* onnxcc.QConv and onnxcc.QMatMul (made by passes/qdq.c from QLinearConv,
 * ConvInteger, QLinearMatMul, MatMulInteger or a Conv/MatMul between
 * DequantizeLinear and QuantizeLinear, with constant weights): the int8 GEMM
 * of k_qgemm.h. in: x (uint8 or int8), the packed weights (int8, [rows, kp]),
 * rowc (int32 [rows]), mult (float32 [rows]), wz (int32 [rows], optional:
 * all 0 when omitted), in the packed domain k_qgemm.h describes. The output
 * (uint8, int8, float32 or int32) is stored as RtQgemmEpi says.
 * QConv: 2-D NCHW; the ints as ConvInteger's, then the window and x's packed
 * zero point. QMatMul: x [..., M, K] times the packed K x N matrix. */
enum { RT_QCONV_KH = RT_CONV_INT_NINTS, RT_QCONV_KW, RT_QCONV_XZ, RT_QCONV_KORDER,
       RT_QCONV_NINTS };
/* QConv's order of k along a packed weight row (RT_QCONV_KORDER): ONNX's
 * (channel, ky, kx), or, for group 1, (channel / 4, ky, kx, channel % 4)
 * over the channels rounded up to 4 (the added ones read x's zero point):
 * each 4-byte group of the GEMM is then 4 channels of one input pixel,
 * which the kernel keeps adjacent in its padded copy of x, so that im2col
 * is whole 128-byte copies with no interleaving. */
enum { RT_QCONV_K_CHW, RT_QCONV_K_C4 };
enum { RT_QMM_XZ, RT_QMM_NINTS };
/* floats of both: the output's zero point and its clamp */
enum { RT_QG_F_YZ, RT_QG_F_LO, RT_QG_F_HI, RT_QG_NFLOATS };
/* The deepest reduction (kp bytes) they take: the packed block of 32
 * columns lives on the stack. */
#define RT_QG_MAX_KP 8192
int rt_qconv(const RtCall *c, const void *const *in, void *const *out);
int rt_qmatmul(const RtCall *c, const void *const *in, void *const *out);

/* onnxcc.QAdd (passes/qdq.c: Add [+ Relu] between DequantizeLinear and
 * QuantizeLinear, a residual connection): a, b 8-bit of one shape, y of
 * their shape: y = clamp(rint((a - za) * ma + (b - zb) * mb) + zy, lo, hi)
 * in float32, ma = sa / sy, mb = sb / sy. */
enum { RT_QADD_F_MA, RT_QADD_F_ZA, RT_QADD_F_MB, RT_QADD_F_ZB, RT_QADD_F_ZY, RT_QADD_F_LO,
       RT_QADD_F_HI, RT_QADD_NFLOATS };
int rt_qadd(const RtCall *c, const void *const *in, void *const *out);

/* onnxcc.QGlobalAveragePool (passes/qdq.c: GlobalAveragePool between
 * DequantizeLinear and QuantizeLinear; com.microsoft's
 * QLinearGlobalAveragePool in NCHW): x 8-bit [N, C, ...], y [N, C, 1, ...]
 * 8-bit, per plane of n elements, in float32:
 *   y = clamp(rint((float)(sum x - n * xz) * m) + yz, lo, hi),
 * m = xs / (ys * n), the integer sum exact. */
enum { RT_QGAP_F_M, RT_QGAP_F_XZ, RT_QGAP_F_YZ, RT_QGAP_F_LO, RT_QGAP_F_HI, RT_QGAP_NFLOATS };
int rt_qglobal_avgpool(const RtCall *c, const void *const *in, void *const *out);

#endif
