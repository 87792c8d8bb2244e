/* k_quant.h: prototypes and parameter layouts of the quantization kernels. */
#ifndef ONNXCC_K_QUANT_H
#define ONNXCC_K_QUANT_H

/* Quantized tensors are uint8 or int8 (int32 also for DequantizeLinear's
 * input and for bias). Rounding is half to even and results saturate to the
 * output type's range, as the ONNX spec says. A zero point or scale with one
 * element applies to the whole tensor; otherwise it holds one value per
 * index of the axis the layout names. Scales and zero points are read at
 * run time, so they need not be constants. */

/* QuantizeLinear: out = saturate(rint(in[0] / in[1]) + in[2]); in[2] may be
 * omitted (zero point 0, output uint8 unless the descriptor says int8).
 * ints: [axis (non-negative; used when the scale has more than one element)]. */
int rt_quantize_linear(const RtCall *c, const void *const *in, void *const *out);

/* DequantizeLinear: out = (in[0] - in[2]) * in[1], float32 output.
 * ints: [axis (as QuantizeLinear)]. */
int rt_dequantize_linear(const RtCall *c, const void *const *in, void *const *out);

/* DynamicQuantizeLinear: float32 in[0] to uint8 out[0], with the scale
 * (float32 scalar) in out[1] and the zero point (uint8 scalar) in out[2],
 * chosen so that the range [min(0, min x), max(0, max x)] maps onto 0..255.
 * ints: none. */
int rt_dynamic_quantize_linear(const RtCall *c, const void *const *in, void *const *out);

/* MatMulInteger: int32 out = (A - a_zp) x (B - b_zp) with MatMul's batch
 * broadcasting. in: A, B, a_zp (scalar or [M], optional), b_zp (scalar or
 * [N], optional). QLinearMatMul uses the same layout with in: a, a_scale,
 * a_zp, b, b_scale, b_zp, y_scale, y_zp and out = saturate(rint(acc *
 * a_scale * b_scale / y_scale) + y_zp).
 * ints: [M, K, N, nb, bdim_0 .. bdim_{nb-1}, astr_0 .. astr_{nb-1},
 *        bstr_0 .. bstr_{nb-1}]: nb batch axes of the output, and per batch
 *        axis the element stride of A's and B's M x K / K x N matrices
 *        (0 where the operand is broadcast). */
int rt_matmul_integer(const RtCall *c, const void *const *in, void *const *out);
int rt_qlinear_matmul(const RtCall *c, const void *const *in, void *const *out);

/* ConvInteger (in: x, w, x_zp, w_zp; int32 out) and QLinearConv (in: x,
 * x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B (int32, optional)),
 * 2-D, NCHW input, MCkHkW weights; w_zp and w_scale may be per output channel.
 * ints: [group, pad_top, pad_left, stride_h, stride_w, dilation_h, dilation_w]. */
int rt_conv_integer(const RtCall *c, const void *const *in, void *const *out);
int rt_qlinear_conv(const RtCall *c, const void *const *in, void *const *out);

#endif
