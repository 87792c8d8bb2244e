/* k_nn.h: prototypes and parameter layouts of the nn kernels (included by onnxcc_rt.h). */
#ifndef ONNXCC_K_NN_H
#define ONNXCC_K_NN_H

#include <stdint.h>

/* ---- the shared float32 GEMM (k_gemm.c) ----
 * C = alpha * op(A) * op(B) + beta * C, row-major with leading dimensions
 * lda/ldb/ldc; op(X) is X^T when trans_x. beta == 0 never reads C. */
void rt_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
              int64_t ldc);
/* The same plus bias[i] on every element of row i (bias NULL: none), then
 * each element clamped to [lo, hi] (-HUGE_VALF, HUGE_VALF: no clamp). */
void rt_sgemm_bias(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                   const float *bias, float lo, float hi, float *c, int64_t ldc);

/* Writes rows [k0, k0+kc) x columns [j0, j0+nc) of a virtual K x N matrix B to
 * dst as ceil(nc/nr) panels, each kc x nr row-major, zero-padded past nc
 * (nr <= 32). */
typedef void (*RtPackB)(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr,
                        float *dst);
/* rt_sgemm_bias whose B is produced by pack_b(b_src, ...): Conv's implicit im2col. */
void rt_sgemm_pack(int trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                   int64_t lda, RtPackB pack_b, const void *b_src, float beta,
                   const float *bias, float lo, float hi, float *c, int64_t ldc);

/* ---- MatMul, Gemm (k_matmul.c) ---- */
/* MatMul: no parameters; NumPy matmul (1-D operands, broadcast batch dims)
 * follows from the descriptors. */
int rt_matmul(const RtCall *c, const void *const *in, void *const *out);
/* Gemm: Y = alpha * op(A) * op(B) + beta * C; C (input 2) optional and
 * unidirectionally broadcast to Y.
 * ints [trans_a, trans_b]; floats [alpha, beta]. */
int rt_gemm(const RtCall *c, const void *const *in, void *const *out);

/* ---- Conv, ConvTranspose (k_conv.c) ----
 * X [N, C, s1..s_nsp], optional bias B [M], nsp = 1..3.
 * ints [group, nsp, strides[nsp], dilations[nsp], pads_begin[nsp]]; kernel and
 * output extents come from the descriptors. Optionally one more int, 1, and
 * floats [lo, hi] clamp the output (a fused Relu: [0, FLT_MAX]; Clip).
 * Conv: W [M, C/group, k...]. ConvTranspose: W [C, M/group, k...], output
 * extents already include output_padding/output_shape; pads_begin may be
 * negative (an output_shape larger than the natural one). */
int rt_conv(const RtCall *c, const void *const *in, void *const *out);
int rt_conv_transpose(const RtCall *c, const void *const *in, void *const *out);

/* ---- pooling (k_pool.c) ---- */
enum { RT_POOL_MAX = 0, RT_POOL_AVG = 1 };
/* MaxPool, AveragePool: X [N, C, s1..s_nsp], nsp = 1..3; output 1 (MaxPool's
 * int64 Indices) optional.
 * ints [mode, nsp, count_include_pad, storage_order, kernel[nsp], strides[nsp],
 *       dilations[nsp], pads_begin[nsp], pads_end[nsp]]. */
int rt_pool(const RtCall *c, const void *const *in, void *const *out);
/* GlobalAveragePool, GlobalMaxPool: ints [mode]. */
int rt_global_pool(const RtCall *c, const void *const *in, void *const *out);

/* ---- normalization and softmax (k_norm.c) ---- */
/* BatchNormalization: X [N, C, ...], scale, B, mean, var [C].
 * ints [training_mode]; floats [epsilon, momentum]. In training mode Y uses the
 * batch statistics and optional outputs 1, 2 get the updated running mean/var. */
int rt_batchnorm(const RtCall *c, const void *const *in, void *const *out);
/* LayerNormalization: X, Scale, optional B (broadcast to X.shape[axis:]);
 * optional outputs Mean and InvStdDev of shape X.shape[:axis] + [1]...
 * ints [axis (non-negative)]; floats [epsilon]. Statistics are float32 or wider. */
int rt_layernorm(const RtCall *c, const void *const *in, void *const *out);
enum { RT_SOFTMAX = 0, RT_LOG_SOFTMAX = 1, RT_HARDMAX = 2 };
/* Softmax, LogSoftmax, Hardmax: ints [kind, axis (non-negative), legacy].
 * legacy (opset < 13) treats X as 2-D [prod(dims[:axis]), prod(dims[axis:])]. */
int rt_softmax(const RtCall *c, const void *const *in, void *const *out);
/* InstanceNormalization: X [N, C, ...], scale, B [C]; floats [epsilon]. */
int rt_instancenorm(const RtCall *c, const void *const *in, void *const *out);
/* LRN: X [N, C, ...]; ints [size]; floats [alpha, beta, bias]. */
int rt_lrn(const RtCall *c, const void *const *in, void *const *out);
/* LpNormalization: ints [axis (non-negative), p (1 or 2)]. */
int rt_lpnorm(const RtCall *c, const void *const *in, void *const *out);

/* ---- reductions (k_reduce.c) ---- */
enum {
    RT_REDUCE_SUM, RT_REDUCE_MEAN, RT_REDUCE_MAX, RT_REDUCE_MIN, RT_REDUCE_PROD,
    RT_REDUCE_L1, RT_REDUCE_L2, RT_REDUCE_LOG_SUM, RT_REDUCE_LOG_SUM_EXP,
    RT_REDUCE_SUM_SQUARE
};
/* Reduce*: ints [op, mask]; bit i of mask set reduces input axis i (keepdims
 * only changes the output descriptor). mask 0 reduces over no axes (each
 * element alone: a copy, |x| for L2, ...). Empty reductions give the op's
 * identity (sum 0, prod 1, max -inf, ...). */
int rt_reduce(const RtCall *c, const void *const *in, void *const *out);
/* ArgMax, ArgMin: int64 output; ints [is_min, axis (non-negative), select_last_index]. */
int rt_argmax(const RtCall *c, const void *const *in, void *const *out);

#endif
