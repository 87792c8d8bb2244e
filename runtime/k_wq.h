/* k_wq.h: weight-only quantized formats: their codes, packed storage and the kernels that read them. */
#ifndef ONNXCC_K_WQ_H
#define ONNXCC_K_WQ_H

#include <stddef.h>
#include <stdint.h>

#include "onnxcc_rt.h"

/* The formats, numbered as the compiler's QuantWeights (passes/quant.h). A
 * weight matrix is N output channels by K reduction elements; the weight at
 * (n, k) is  tensor_scale * scale[n][k / group] * (elem(code) - zero[n][k / group]):
 *   INT8..INT2  code 0 .. 2^b-1, a float scale and a uint8 zero point per group;
 *   TERNARY, TERNARY5  code -1, 0, +1, a float scale per group (zero 0);
 *   SHERRY      code -1, 0, +1 with exactly one 0 in every 4 consecutive k
 *               (the quads k = 4j .. 4j+3; the group is a multiple of 4);
 *   MXINT8      code -128..127 standing for code / 64, a power-of-two scale
 *               (E8M0) per 32;
 *   MXFP8       code an E4M3 bit pattern, a power-of-two scale per 32;
 *   MXFP4       code an E2M1 bit pattern (0..15), a power-of-two scale per 32;
 *   NVFP4       code an E2M1 bit pattern, an E4M3 scale per 16 and one float
 *               tensor_scale.
 *
 * Packed storage (rt_wq_pack). Row n of the matrix is ceil(K / group) blocks
 * one after the other, rows one after the other, so a kernel streams a row
 * front to back. A block is its scale, its zero point (INT8..INT2 only), then
 * the codes of one whole group (the last group padded):
 *   scale  float32 (4 bytes) for INT*, TERNARY*, SHERRY: exactly the
 *          quantizer's float, so the packed matrix is the one it chose;
 *          one E8M0 byte for MX*; one E4M3 byte for NVFP4 (tensor_scale is
 *          the op's float parameter, not stored);
 *   codes  INT8, MXINT8, MXFP8: one byte each (MXINT8 two's complement);
 *          INT4, MXFP4, NVFP4: the group padded to even length gp, byte j
 *            holding element j (low nibble) and element j + gp/2 (high), so
 *            one vector load gives two runs of consecutive elements;
 *          INT2, TERNARY (code + 1): gp a multiple of 4, byte j holding
 *            elements j, j+gp/4, j+gp/2, j+3gp/4 in bits 0-1, 2-3, 4-5, 6-7;
 *          INT3: gp a multiple of 8: the low two bits as INT2 (gp/4 bytes),
 *            then the high bit, byte j holding elements j + i*gp/8 in bit i
 *            (gp/8 bytes): 3 bits per code, decoded by shifts alone;
 *          TERNARY5: byte j holds elements 5j..5j+4 as base-3 digits of
 *            code + 1, element 5j least significant (3^5 = 243 <= 256);
 *          SHERRY: per quad 5 bits, LSB first in a dense bit stream: the zero's
 *            position (2 bits), then the signs of the other three in order
 *            (1 = negative).
 * Bits per weight with the default groups, scales included:
 *   INT8 9.25  INT4 5.25  INT3 4.25  INT2 3.25  (group 32; 4 + 40/g in general)
 *   TERNARY 3.0  TERNARY5 2.75  SHERRY 2.25     (group 32)
 *   MXINT8 8.25  MXFP8 8.25  MXFP4 4.25          (group 32)
 *   NVFP4 4.5                                     (group 16, + one float) */
typedef enum RtWqFormat {
    RT_WQ_INT8 = 1, RT_WQ_INT4, RT_WQ_INT3, RT_WQ_INT2,
    RT_WQ_TERNARY, RT_WQ_TERNARY5, RT_WQ_SHERRY,
    RT_WQ_MXINT8, RT_WQ_MXFP8, RT_WQ_MXFP4, RT_WQ_NVFP4,
    RT_WQ_NFORMATS
} RtWqFormat;

/* The codes of one matrix as quantizers produce them (unpacked). */
typedef struct RtWqCodes {
    int fmt;                     /* RtWqFormat */
    int64_t n, k;                /* output channels, reduction length */
    int group;                   /* k elements per scale (32 for MX, 16 for NVFP4) */
    const int16_t *code;         /* n * k, row n contiguous */
    const float *scale;          /* n * ceil(k / group) */
    const uint8_t *zero;         /* n * ceil(k / group), INT8..INT2 only; NULL otherwise */
    float tensor_scale;          /* NVFP4; 1 otherwise */
} RtWqCodes;

/* The value a code stands for before scaling (elem above). */
float rt_wq_elem(int fmt, int code);
/* The format's name ("int4", "mxfp4"...), "?" for none. */
const char *rt_wq_name(int fmt);
/* Bytes of one packed block (scale, zero, a group's codes) and of one row;
 * 0 for a format or group the packing does not take (SHERRY needs group % 4 == 0). */
size_t rt_wq_block_bytes(int fmt, int group);
size_t rt_wq_row_bytes(int fmt, int64_t k, int group);
/* Bytes of the packed form, and the packing itself (dst holds that many). */
size_t rt_wq_packed_bytes(int fmt, int64_t n, int64_t k, int group);
void rt_wq_pack(const RtWqCodes *c, uint8_t *dst);
/* The reference decoder: row n of the matrix in float, from the packed form. */
void rt_wq_dequant_row(int fmt, int64_t n_rows, int64_t k, int group, float tensor_scale,
                       const uint8_t *packed, int64_t n, float *row);

/* Row n of the packed form taken apart again: its k codes (the numbering of
 * RtWqCodes: TERNARY's -1..1, MXINT8's signed byte, an E4M3 or E2M1 bit
 * pattern), and per group the scale as a float (E8M0 and E4M3 decoded;
 * NVFP4's tensor_scale not applied) and the zero point (0 for the formats
 * without one; zero may be NULL). For writers of other formats (--save-onnx). */
void rt_wq_unpack_row(int fmt, int64_t n_rows, int64_t k, int group, const uint8_t *packed,
                      int64_t n, int16_t *code, float *scale, uint8_t *zero);

/* MatMulWQ: Y[M, N] = X[M, K] W^T (+ bias[N]), W packed as above, decoded in
 * registers (one row of X: k_wq_gemv.c's matrix-vector kernels, each group
 * summed with integer-valued weights and scaled once; few rows: one pass
 * over W per 4 rows of X; more: W decoded block by block into the shared
 * GEMM's packed panels, the decode amortized over all rows). in: X (float, any
 * rank, last axis K), W (uint8, [N, row bytes]), bias (float [N], optional);
 * out: Y (X's shape with the last axis N). */
enum { RT_WQ_FORMAT, RT_WQ_N, RT_WQ_K, RT_WQ_GROUP, RT_WQ_ACT_BITS, RT_WQ_NINTS };
enum { RT_WQ_F_TSCALE, RT_WQ_NFLOATS };
int rt_matmul_wq(const RtCall *c, const void *const *in, void *const *out);
/* The same on raw pointers (tests, benchmarks, the kernel above). */
void rt_wq_matmul(int fmt, int64_t m, int64_t n, int64_t k, int group, float tensor_scale,
                  const float *x, const uint8_t *w, const float *bias, float *y);
/* With the activations' precision: act_bits 0 float X (rt_wq_matmul); 8
 * X quantized to int8 per weight group and each group an integer dot
 * product (k_wq_gemv8.c: int8, int4 and int2 weights at M <= 8; other
 * products keep float X). The RT_WQ_ACT_BITS slot (optional, 0 if absent)
 * chooses for rt_matmul_wq. */
void rt_wq_matmul_act(int fmt, int64_t m, int64_t n, int64_t k, int group, float tensor_scale,
                      const float *x, const uint8_t *w, const float *bias, float *y,
                      int act_bits);

/* ConvWQ: Conv (or FusedConv: bias, sum input Z, activation) with W packed
 * as above, N = M output channels by K = C/group * kernel in im2col order
 * (c, kd, kh, kw): Conv's W [M, C/group, k...] with its trailing axes
 * flattened. in: X, W (uint8 [M, row bytes]), bias (optional), Z (optional);
 * out: Y as Conv's. The ints are Conv's (k_nn.h) through its optional
 * activation, packing and Winograd slots (the last three 0), then at
 * RT_CONVWQ(nsp) the format, N, K, group and the nsp kernel extents; the
 * floats Conv's lo, hi, then tensor_scale. Always the im2col (or 1x1) GEMM
 * with W decoded block by block into its panels (k_wq_conv.c). */
#define RT_CONVWQ(nsp) (2 + 3 * (nsp) + 4) /* after RT_CONV_WINO(nsp) */
enum { RT_CONVWQ_FORMAT, RT_CONVWQ_N, RT_CONVWQ_K, RT_CONVWQ_GROUP, RT_CONVWQ_KERNEL };
enum { RT_CONVWQ_F_TSCALE = 2, RT_CONVWQ_NFLOATS }; /* after Conv's lo, hi */
int rt_conv_wq(const RtCall *c, const void *const *in, void *const *out);

/* com.microsoft MatMulNBits on ORT's own layout: in: A (float [..., K]), B
 * (uint8 [N, n_blocks, blob], bits 2, 4 or 8), scales (float [N * n_blocks]), zero_points
 * (optional: uint8 packed bits-wise like B, or float), g_idx (unsupported),
 * bias (float [N], optional). Element i of a block sits at bit i*bits of its
 * blob, LSB first; the default zero point is 2^(bits-1). The portable
 * reference, for the interpreter and a B not known at compile time; a
 * constant B is repacked into MatMulWQ (passes/quantize_weights.c). */
enum { RT_NBITS_K, RT_NBITS_N, RT_NBITS_BITS, RT_NBITS_BLOCK, RT_NBITS_NINTS };
int rt_matmul_nbits(const RtCall *c, const void *const *in, void *const *out);

#endif
