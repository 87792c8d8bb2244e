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

/* ---- the GEMM core with packed operands and epilogues (k_gemm.c) ----
 * The micro-kernel computes MR x NR tiles of C from A in panels of MR rows
 * (kc x MR, the rows interleaved) and B in panels of NR columns (kc x NR).
 * A packed operand holds ceil(rows / tile) such panels over the whole K,
 * zero-padded: what rt_gemm_pack_a/_b write, at compile time for constants. */
void rt_gemm_tile(int *mr, int *nr); /* the tile of this runtime variant */
/* The same tile as macros, for the compile-time check in generated code
 * whose weights were packed for one tile (k_gemm.c asserts they agree). */
#if !defined(RT_PLAIN_C) && defined(__GNUC__) && defined(__AVX512F__)
#define RT_GEMM_MR 14
#define RT_GEMM_NR 32
#elif !defined(RT_PLAIN_C) && defined(__GNUC__) && defined(__AVX2__) && defined(__FMA__)
#define RT_GEMM_MR 6
#define RT_GEMM_NR 16
#elif defined(__AVX512F__)
#define RT_GEMM_MR 6
#define RT_GEMM_NR 32
#elif defined(__AVX__)
#define RT_GEMM_MR 6
#define RT_GEMM_NR 16
#else
#define RT_GEMM_MR 6
#define RT_GEMM_NR 8
#endif
/* The tile of a runtime compiled for an ISA (what the compiler packs for):
 * AVX-512 14 x 32, AVX2+FMA 6 x 16, else 6 x 2 vectors (AVX 16, SSE 8). */
static inline void rt_gemm_tile_for(int avx512f, int avx2_fma, int avx, int *mr, int *nr)
{
    *mr = avx512f ? 14 : 6;
    *nr = avx512f ? 32 : avx2_fma || avx ? 16 : 8;
}
void rt_gemm_pack_a(int64_t m, int64_t k, const float *a, int64_t lda, int trans, int mr,
                    float *dst);
void rt_gemm_pack_b(int64_t k, int64_t n, const float *b, int64_t ldb, int trans, int nr,
                    float *dst);
/* Floats of a packed operand of `rows` rows (columns for B) by k. */
static inline int64_t rt_gemm_packed_size(int64_t rows, int64_t k, int tile)
{
    return (rows + tile - 1) / tile * tile * k;
}
/* Activations a GEMM or Conv applies as it stores C. */
enum {
    RT_EPI_NONE, RT_EPI_CLAMP /* p0 lo, p1 hi (Relu: 0, inf) */, RT_EPI_LEAKY /* p0 alpha */,
    RT_EPI_HARD_SIGMOID /* p0 alpha, p1 beta */, RT_EPI_HARD_SWISH, RT_EPI_SWISH /* x*sigmoid(x) */
};
typedef struct RtGemmA {
    const float *a;              /* plain: A(i, p) = a[i * lda + p], or a[p * lda + i] if trans */
    int64_t lda;
    int trans;
    const float *packed;         /* or packed panels (then a is unused) */
    RtPackB pack;                /* or A^T's blocks packed per call, panels of MR */
    const void *src;
} RtGemmA;
typedef struct RtGemmB {
    RtPackB pack;                /* packs blocks of B per call */
    const void *src;
    const float *packed;         /* or packed panels (then pack is unused) */
} RtGemmB;
typedef struct RtGemmEpi {
    const float *bias;           /* per row of C, or NULL */
    const float *z;              /* added to C before the activation (ldz), or NULL */
    int64_t ldz;
    int act;                     /* RT_EPI_* */
    float p0, p1;
    int trans_c;                 /* store C^T: C(i, j) to c[j * ldc + i]; then bias is per
                                  * column and z transposed as well */
} RtGemmEpi;
/* Whether C = A * B (m x n) is better computed as C^T = B^T * A^T, with the
 * tile's vectors along m: when m fills NR-wide vectors far better than n
 * (maps of a few pixels against many channels). The transposed store is
 * scalar and repeated per K block: on the AVX-512 Xeon a 7x7 map (49 of 64
 * lanes) against 512 channels measured 3-5% slower transposed, so only a
 * gain above 1.5x in lane use switches. */
static inline int rt_gemm_prefer_t(int64_t m, int64_t n, int nr)
{
    int64_t wm = (m + nr - 1) / nr * nr, wn = (n + nr - 1) / nr * nr;
    return m * wn * 2 > n * wm * 3;
}
/* y[i] = act(y[i] + z[i]) (z NULL: act(y[i])), for kernels without an epilogue. */
void rt_epi_apply(float *y, const float *z, int64_t n, int act, float p0, float p1);
/* C = act(alpha * A * B + beta * C + bias + z); ep NULL: none. */
void rt_sgemm_ex(int64_t m, int64_t n, int64_t k, float alpha, const RtGemmA *A,
                 const RtGemmB *B, float beta, const RtGemmEpi *ep, float *c, int64_t ldc);

/* ---- MatMul, Gemm (k_matmul.c) ---- */
/* MatMul: NumPy matmul (1-D operands, broadcast batch dims) follows from the
 * descriptors. Optional int RT_MATMUL_PACK: a constant 2-D float32 B was
 * packed at compile time in panels of `pack` columns over the whole K (what
 * rt_gemm_pack_b writes); its descriptor is then [K, N rounded up to the
 * panel] and N comes from Y. The kernel refuses a panel not its own. */
enum { RT_MATMUL_PACK };
int rt_matmul(const RtCall *c, const void *const *in, void *const *out);
/* Gemm: Y = alpha * op(A) * op(B) + beta * C; C (input 2) optional and
 * unidirectionally broadcast to Y. Optional int RT_GEMM_PACK: B packed as
 * for MatMul (transB then 0, B's descriptor [K, N rounded up]). */
enum { RT_GEMM_TRANS_A, RT_GEMM_TRANS_B, RT_GEMM_NINTS, RT_GEMM_PACK = RT_GEMM_NINTS };
enum { RT_GEMM_F_ALPHA, RT_GEMM_F_BETA, RT_GEMM_NFLOATS };
int rt_gemm(const RtCall *c, const void *const *in, void *const *out);

/* ---- Conv, ConvTranspose (k_conv.c) ----
 * X [N, C, s1..s_nsp], optional bias B [M], nsp = 1..3. The ints hold
 * group and nsp, then runs of nsp strides, dilations and pads_begin; kernel
 * and output extents come from the descriptors. An optional int then names
 * a fused activation (RT_EPI_*: 1 clamps the output to the floats [lo, hi],
 * a fused Relu [0, FLT_MAX] or Clip; LeakyRelu, HardSigmoid take their
 * parameters from the same two floats). An optional 4th input Z (FusedConv's
 * sum input, Y's shape) is added before the activation. An optional 5th
 * input S (float32, N x C values, e.g. [N, C, 1, 1]; pointwise float32
 * convs only, else RT_EINVAL) scales X's channels first: pass_fuse folds a
 * squeeze-excite block's Mul into the Conv that reads it. An optional 6th
 * input T of S's size (only with S) makes X max(S X + T, 0): a
 * BatchNormalization and Relu before the Conv, folded in.
 * Optional ints RT_CONV_PACK(nsp), RT_CONV_PACK_T(nsp): W was packed at
 * compile time for a GEMM tile of `pack` rows (pack_t 0: W is A, the panels
 * rt_gemm_pack_a writes) or `pack` columns (pack_t 1: the product is
 * computed transposed, W^T is B, the panels rt_gemm_pack_b writes). W is
 * then [groups * ceil(M/groups/pack) * pack, C/group, k...], per group; a
 * runtime compiled for another tile refuses it with RT_EINVAL.
 * Conv: W [M, C/group, k...]. ConvTranspose: W [C, M/group, k...], output
 * extents already include output_padding/output_shape; pads_begin may be
 * negative (an output_shape larger than the natural one). */
enum { RT_CONV_GROUP, RT_CONV_NSP, RT_CONV_STRIDES };
#define RT_CONV_DIL(nsp) (RT_CONV_STRIDES + (nsp))
#define RT_CONV_PADS(nsp) (RT_CONV_STRIDES + 2 * (nsp))
#define RT_CONV_CLAMP(nsp) (RT_CONV_STRIDES + 3 * (nsp))   /* optional: RT_EPI_* */
#define RT_CONV_PACK(nsp) (RT_CONV_STRIDES + 3 * (nsp) + 1)   /* optional: packed for this tile */
#define RT_CONV_PACK_T(nsp) (RT_CONV_STRIDES + 3 * (nsp) + 2) /* optional: 1, W^T as B */
#define RT_CONV_WINO(nsp) (RT_CONV_STRIDES + 3 * (nsp) + 3)   /* optional: RT_WINO_M, W holds
                                                               * Winograd-transformed filters */
enum { RT_CONV_F_LO, RT_CONV_F_HI, RT_CONV_NFLOATS };
/* Optional int RT_CONV_WINO(2) = RT_WINO_M (after the pack slots, pack_t 0):
 * a 2-D 3x3 stride-1 undilated group-1 Conv whose W was transformed at
 * compile time for Winograd F(4x4, 3x3) (k_conv_wino.c): the 36 components
 * of G g G^T, each an A operand of Cout x Cin in panels of `pack` rows
 * (rt_wino_pack). W's descriptor is then [4 * Cout rounded up to pack, Cin,
 * 3, 3], the same number of floats (36 = 4 * 9), so the window and the
 * direct-conv FLOPs still read from it. The kernel refuses the slot on any
 * other shape, tile or value. */
#define RT_WINO_M 4              /* output tile (m x m) */
#define RT_WINO_T 6              /* input tile, m + 2 */
#define RT_WINO_VCAP 8192        /* input channels x GEMM columns of the transformed
                                  * input the kernel holds at once (its stack buffer) */
#define RT_WINO_COLS 288         /* GEMM columns of one block at most */
/* GEMM columns (whole panels of nr) of one block with Cin input channels. */
static inline int64_t rt_wino_cols(int64_t cin, int nr)
{
    int64_t c = cin >= 1 ? RT_WINO_VCAP / cin / nr * nr : 0;
    return c < RT_WINO_COLS ? c : RT_WINO_COLS;
}
/* Whether the kernel takes Cin input channels and an output ow wide with a
 * GEMM of nr columns: a block holds at least one whole row of 4x4 tiles. */
static inline int rt_wino_fits(int64_t cin, int64_t ow, int nr)
{
    return ow >= 1 && (ow + 3) / 4 <= rt_wino_cols(cin, nr);
}
/* W [cout, cin, 3, 3] transformed into dst (36 * ceil(cout/mr)*mr * cin floats). */
void rt_wino_pack(int64_t cout, int64_t cin, const float *w, int mr, float *dst);
int rt_conv(const RtCall *c, const void *const *in, void *const *out);
int rt_conv_transpose(const RtCall *c, const void *const *in, void *const *out);

/* ---- DeformConv (k_deform.c) ----
 * 2-D: X [N, C, H, W], W [M, C/group, kH, kW], offset [N, og*kH*kW*2, oH, oW]
 * ((dy, dx) per offset group and tap), optional B [M] and mask
 * [N, og*kH*kW, oH, oW] (omitted: descriptor dtype RT_UNDEF). Tap (i, j) of
 * output (y, x) reads X bilinearly at (y*s0 - p0 + i*d0 + dy, x*s1 - p1 +
 * j*d1 + dx), zero outside; channel c uses offset group c / (C / og). All
 * float of one dtype; sums in double. Each sample serves every output
 * channel of its group. The ints hold group, offset_group, then pairs of
 * strides, dilations and pads_begin. */
enum { RT_DEFORM_GROUP, RT_DEFORM_OFFSET_GROUP, RT_DEFORM_STRIDES, RT_DEFORM_DIL = 4,
       RT_DEFORM_PADS = 6, RT_DEFORM_NINTS = 8 };
int rt_deform_conv(const RtCall *c, const void *const *in, void *const *out);

/* ---- Col2Im (k_col2im.c) ----
 * in[0] [N, C * prod(block), L] into out[0] [N, C, image...], nsp = 1..
 * RT_MAX_RANK - 2: column (c * prod(block) + b, l) is tap b of the block at
 * position l of the window's grid (row-major), added to the image element
 * it covers; taps in the padding are dropped. Float dtypes. The ints hold
 * nsp, then runs of nsp block extents, strides, dilations, pads_begin and
 * grid extents (block positions per axis; their product is L). */
enum { RT_COL2IM_NSP, RT_COL2IM_BLOCK };
#define RT_COL2IM_STRIDES(nsp) (RT_COL2IM_BLOCK + (nsp))
#define RT_COL2IM_DIL(nsp) (RT_COL2IM_BLOCK + 2 * (nsp))
#define RT_COL2IM_PADS(nsp) (RT_COL2IM_BLOCK + 3 * (nsp))
#define RT_COL2IM_GRID(nsp) (RT_COL2IM_BLOCK + 4 * (nsp))
#define RT_COL2IM_NINTS(nsp) (RT_COL2IM_BLOCK + 5 * (nsp))
int rt_col2im(const RtCall *c, const void *const *in, void *const *out);

/* ---- pooling (k_pool.c) ---- */
enum { RT_POOL_MAX = 0, RT_POOL_AVG = 1, RT_POOL_LP = 2 };
/* MaxPool, AveragePool: X [N, C, s1..s_nsp], nsp = 1..3; output 1 (MaxPool's
 * int64 Indices) optional. The ints hold mode (RT_POOL_*), nsp,
 * count_include_pad and storage_order, then runs of nsp kernel extents,
 * strides, dilations, pads_begin and pads_end. */
enum { RT_POOL_MODE, RT_POOL_NSP, RT_POOL_INCLUDE_PAD, RT_POOL_STORAGE, RT_POOL_KERNEL };
#define RT_POOL_STRIDES(nsp) (RT_POOL_KERNEL + (nsp))
#define RT_POOL_DIL(nsp) (RT_POOL_KERNEL + 2 * (nsp))
#define RT_POOL_PADS_BEGIN(nsp) (RT_POOL_KERNEL + 3 * (nsp))
#define RT_POOL_PADS_END(nsp) (RT_POOL_KERNEL + 4 * (nsp))
#define RT_POOL_NINTS(nsp) (RT_POOL_KERNEL + 5 * (nsp))
int rt_pool(const RtCall *c, const void *const *in, void *const *out);
/* LpPool: the same ints (mode RT_POOL_LP) and the float p >= 1; each output
 * is (sum |x|^p)^(1/p) over the window's taps inside X (padding adds 0). */
enum { RT_POOL_F_P, RT_POOL_NFLOATS };
int rt_lppool(const RtCall *c, const void *const *in, void *const *out);
/* GlobalAveragePool, GlobalMaxPool. */
enum { RT_GLOBAL_POOL_MODE, RT_GLOBAL_POOL_NINTS };
int rt_global_pool(const RtCall *c, const void *const *in, void *const *out);

/* ---- normalization and softmax (k_norm.c) ---- */
/* BatchNormalization: X [N, C, ...], scale, B, mean, var [C]. In training
 * mode (optional int) Y uses the batch statistics and optional outputs 1, 2
 * get the updated running mean/var. */
enum { RT_BATCHNORM_TRAINING };
enum { RT_BATCHNORM_F_EPSILON, RT_BATCHNORM_F_MOMENTUM, RT_BATCHNORM_NFLOATS };
int rt_batchnorm(const RtCall *c, const void *const *in, void *const *out);
/* LayerNormalization: X, Scale, optional B (broadcast to X.shape[axis:]);
 * optional outputs Mean and InvStdDev of shape X.shape[:axis] + [1]...
 * Statistics are float32 or wider. The axis is non-negative. */
enum { RT_LAYERNORM_AXIS, RT_LAYERNORM_NINTS };
enum { RT_LAYERNORM_F_EPSILON, RT_LAYERNORM_NFLOATS };
int rt_layernorm(const RtCall *c, const void *const *in, void *const *out);
enum { RT_SOFTMAX = 0, RT_LOG_SOFTMAX = 1, RT_HARDMAX = 2 };
/* Softmax, LogSoftmax, Hardmax along a non-negative axis. legacy (opset < 13)
 * treats X as 2-D [prod(dims[:axis]), prod(dims[axis:])]. */
enum { RT_SOFTMAX_KIND, RT_SOFTMAX_AXIS, RT_SOFTMAX_LEGACY, RT_SOFTMAX_NINTS };
int rt_softmax(const RtCall *c, const void *const *in, void *const *out);
/* InstanceNormalization: X [N, C, ...], scale, B [C]. */
enum { RT_INSTANCENORM_F_EPSILON, RT_INSTANCENORM_NFLOATS };
int rt_instancenorm(const RtCall *c, const void *const *in, void *const *out);
/* LRN: X [N, C, ...]. */
enum { RT_LRN_SIZE, RT_LRN_NINTS };
enum { RT_LRN_F_ALPHA, RT_LRN_F_BETA, RT_LRN_F_BIAS, RT_LRN_NFLOATS };
int rt_lrn(const RtCall *c, const void *const *in, void *const *out);
/* LpNormalization along a non-negative axis, p 1 or 2. */
enum { RT_LPNORM_AXIS, RT_LPNORM_P, RT_LPNORM_NINTS };
int rt_lpnorm(const RtCall *c, const void *const *in, void *const *out);
/* GroupNormalization (k_groupnorm.c): X [N, C, ...] in `groups` groups of
 * C / groups channels, each normalized by its own mean and variance, then
 * scaled and shifted by scale, bias: per channel ([C], opset 21) or, with
 * per_channel 0, per group ([groups], opset 18). Statistics in double. */
enum { RT_GROUPNORM_GROUPS, RT_GROUPNORM_PER_CHANNEL, RT_GROUPNORM_NINTS };
enum { RT_GROUPNORM_F_EPSILON, RT_GROUPNORM_NFLOATS };
int rt_groupnorm(const RtCall *c, const void *const *in, void *const *out);

/* ---- reductions (k_reduce.c) ---- */
enum {
    RT_REDUCE_SUM, RT_REDUCE_MEAN, RT_REDUCE_MAX, RT_REDUCE_MIN, RT_REDUCE_PROD,
    RT_REDUCE_L1, RT_REDUCE_L2, RT_REDUCE_LOG_SUM, RT_REDUCE_LOG_SUM_EXP,
    RT_REDUCE_SUM_SQUARE
};
/* Reduce*: bit i of mask set reduces input axis i (keepdims only changes the
 * output descriptor). mask 0 reduces over no axes (each
 * element alone: a copy, |x| for L2, ...). Empty reductions give the op's
 * identity (sum 0, prod 1, max -inf, ...). */
enum { RT_REDUCE_OP, RT_REDUCE_MASK, RT_REDUCE_NINTS };
/* mask RT_REDUCE_AXES_INPUT: the axes are input 1, read when the node runs
 * (rt_reduce_resolve), and one more slot holds keepdims. */
#define RT_REDUCE_AXES_INPUT (-1)
enum { RT_REDUCE_KEEPDIMS = RT_REDUCE_NINTS, RT_REDUCE_NINTS_AXES };
int rt_reduce(const RtCall *c, const void *const *in, void *const *out);
/* ArgMax, ArgMin along a non-negative axis: int64 output. */
enum { RT_ARGMAX_IS_MIN, RT_ARGMAX_AXIS, RT_ARGMAX_SELECT_LAST, RT_ARGMAX_NINTS };
int rt_argmax(const RtCall *c, const void *const *in, void *const *out);

#endif
