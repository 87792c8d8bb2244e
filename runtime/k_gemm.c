/* k_gemm.c: the shared float32 GEMM behind MatMul, Gemm, Conv and ConvTranspose. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"
#include "rt_vmath.h"

/* Goto/BLIS-style blocking: C is computed in MR x NR register tiles, each
 * from a kc x MR panel of A (MR rows interleaved, so the kernel's broadcasts
 * walk one contiguous stream) and a kc x NR panel of B (one or two vector
 * loads per k). B is packed in KC x NC blocks and A in MC x KC blocks into
 * stack buffers, so the kernel never allocates; an operand packed at compile
 * time (constant Conv weights, a constant MatMul/Gemm B) is read in place
 * with the same layout, panels of the whole K.
 *
 * The register tile follows the ISA the runtime variant is compiled for:
 * AVX-512 has 32 zmm registers, room for 14 x 2 accumulators, the two B
 * vectors and a broadcast (14 x 32 measured faster than 12 x 32 and 8 x 48
 * on the resnet18 convs: 28 FMAs per 16 loads); AVX2+FMA 6 x 16 (12 of the
 * 16 ymm); everything else 6 x 2 vectors of GNU vector extensions (or plain
 * loops). rt_gemm_tile_for in k_nn.h states the same mapping for the
 * compiler, which packs constants for its target. */
#if !defined(RT_PLAIN_C) && defined(__GNUC__) && defined(__AVX512F__)
#include <immintrin.h>
#define GEMM_ISA 3
#ifndef PF_A
#define PF_A (MR * 32)
#endif
#define VL 16
#define MR 14
#elif !defined(RT_PLAIN_C) && defined(__GNUC__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GEMM_ISA 2
#define VL 8
#define MR 6
#elif !defined(RT_PLAIN_C) && defined(__GNUC__)
#define GEMM_ISA 1
#define VL RT_VEC_FLOATS
#define MR 6
typedef float VecF __attribute__((vector_size(VL * 4)));
#else
#define GEMM_ISA 0
#define VL RT_VEC_FLOATS
#define MR 6
#endif
#define NR (2 * VL)
#if MR != RT_GEMM_MR || NR != RT_GEMM_NR
#error "k_nn.h's RT_GEMM_MR/RT_GEMM_NR must state this tile"
#endif

/* KC x NR of B (32 KiB on AVX-512) stays in L1 while the A block streams
 * from L2; NC and MC bound the stack buffers (96 + 84 KiB on AVX-512). */
#define KC 256
#define NC (3 * NR)
#define MC (6 * MR)

#if defined(__GNUC__)
#define ALIGNED __attribute__((aligned(64)))
#define INLINE static inline __attribute__((always_inline))
#else
#define ALIGNED
#define INLINE static inline
#endif

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

void rt_gemm_tile(int *mr, int *nr)
{
    *mr = MR;
    *nr = NR;
}

/* What one block of the K loop adds to C: C = alpha * acc + beta * C + bias[i]
 * on the first block, C += alpha * acc on the others (beta 1, bias NULL), and
 * on the last block the sum input z and the activation.
 * beta == 0 never reads C, so C may hold garbage (BLAS semantics). */
typedef struct Epi {
    float alpha, beta;
    const float *bias;           /* per row of C, or NULL */
    const float *z;              /* added before the activation (last block), or NULL */
    int64_t ldz;
    int act;                     /* RT_EPI_* (last block only), else RT_EPI_NONE */
    float p0, p1;
    int tc;                      /* C transposed: C(i, j) at c[j * ldc + i], bias[j],
                                  * z[j * ldz + i] */
} Epi;

/* x * sigmoid(x) over n values, by whole vectors (rt_vmath.h's v16_swish,
 * v8_swish: the ISA's reciprocal estimate and one Newton step in place of a
 * divide), the last partial vector masked on AVX-512; the portable v_swish
 * otherwise. A quarter of efficientnet_b0's time was this loop when it
 * divided, and still 27% with v_recip's three Newton steps. */
HOT static void swish_row(float *y, int64_t n)
{
    int64_t j = 0;
#if defined(RT_VMATH_V16)
    for (; j + 16 <= n; j += 16)
        _mm512_storeu_ps(y + j, v16_swish(_mm512_loadu_ps(y + j)));
    if (j < n) {
        __mmask16 k = (__mmask16)((1u << (n - j)) - 1);
        _mm512_mask_storeu_ps(y + j, k, v16_swish(_mm512_maskz_loadu_ps(k, y + j)));
        return;
    }
#elif defined(RT_VMATH_V8)
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(y + j, v8_swish(_mm256_loadu_ps(y + j)));
#endif
    for (; j < n; j++)
        y[j] = v_swish(y[j]);
}

/* The activations of RtGemmEpi over n values, one loop per activation so
 * each vectorizes (swish through rt_vmath.h's exp, not libm's). NaN stays
 * NaN in the clamp. */
HOT static void act_row(float *y, int64_t n, int act, float p0, float p1)
{
    switch (act) {
    case RT_EPI_CLAMP:
        for (int64_t j = 0; j < n; j++)
            y[j] = clampf(y[j], p0, p1);
        break;
    case RT_EPI_LEAKY:
        for (int64_t j = 0; j < n; j++)
            y[j] = y[j] < 0 ? y[j] * p0 : y[j];
        break;
    case RT_EPI_HARD_SIGMOID:
        for (int64_t j = 0; j < n; j++)
            y[j] = clampf(p0 * y[j] + p1, 0, 1);
        break;
    case RT_EPI_HARD_SWISH:
        for (int64_t j = 0; j < n; j++)
            y[j] = y[j] * clampf(y[j] * (1.0f / 6) + 0.5f, 0, 1);
        break;
    case RT_EPI_SWISH:
        swish_row(y, n);
        break;
    default:
        break;
    }
}

void rt_epi_apply(float *y, const float *z, int64_t n, int act, float p0, float p1)
{
    for (int64_t i = 0; z && i < n; i++)
        y[i] += z[i];
    act_row(y, n, act, p0, p1);
}

/* The epilogue of one tile row of n values (t: the accumulators). */
HOT static void store_row(const float *t, float *ci, const float *zi, float b, int n, const Epi *e)
{
    if (e->beta == 0) {
        for (int j = 0; j < n; j++)
            ci[j] = e->alpha * t[j] + b;
    } else {
        for (int j = 0; j < n; j++)
            ci[j] = e->alpha * t[j] + e->beta * ci[j] + b;
    }
    for (int j = 0; zi && j < n; j++)
        ci[j] += zi[j];
    act_row(ci, n, e->act, e->p0, e->p1);
}

/* A tile held as MR rows of NR floats, stored transposed (C^T = B^T A^T:
 * a conv's output channels along the vectors). Scalar: each element is
 * stored once per K multiply-adds. */
HOT static void store_tile_t(const float *acc, float *c, int64_t ldc, int m, int n, const Epi *e)
{
    /* the tile's values gathered channel by channel into r (n rows of m),
     * so the activation runs once over n * m contiguous values rather than
     * n times over m <= MR (a partial vector each) */
    ALIGNED float r[MR * NR];
    for (int j = 0; j < n; j++) {
        float *cj = c + j * ldc, *rj = r + j * m;
        float b = e->bias ? e->bias[j] : 0;
        for (int i = 0; i < m; i++)
            rj[i] = e->alpha * acc[i * NR + j] + b;
        if (e->beta == 1)
            for (int i = 0; i < m; i++)
                rj[i] += cj[i];
        else if (e->beta != 0)
            for (int i = 0; i < m; i++)
                rj[i] += e->beta * cj[i];
        if (e->z) {
            const float *zj = e->z + j * e->ldz;
            for (int i = 0; i < m; i++)
                rj[i] += zj[i];
        }
    }
    act_row(r, (int64_t)n * m, e->act, e->p0, e->p1);
    for (int j = 0; j < n; j++)
        memcpy(c + j * ldc, r + j * m, (size_t)m * sizeof(float));
}

#if GEMM_ISA != 3
/* A tile held as MR rows of NR floats. */
static void store_tile(const float *acc, float *c, int64_t ldc, int m, int n, const Epi *e)
{
    if (e->tc) {
        store_tile_t(acc, c, ldc, m, n, e);
        return;
    }
    for (int i = 0; i < m; i++)
        store_row(acc + i * NR, c + i * ldc, e->z ? e->z + i * e->ldz : NULL,
                  e->bias ? e->bias[i] : 0, n, e);
}
#endif

/* ---- the micro-kernels: C[m x n] (m <= MR, n <= NR) from a (kc x MR) and
 * b (kc x NR), both packed and zero-padded. Each is instantiated for every
 * m (and one or two vectors), so a partial tile costs only what it computes. */

#if GEMM_ISA == 3
/* One vector of a tile row through the epilogue, masked to the columns of C. */
INLINE void store_vec(__m512 v, float *ci, const float *zi, __mmask16 k, float b, const Epi *e)
{
    if (e->alpha != 1)
        v = _mm512_mul_ps(v, _mm512_set1_ps(e->alpha));
    if (e->beta == 1)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, ci));
    else if (e->beta != 0)
        v = _mm512_fmadd_ps(_mm512_set1_ps(e->beta), _mm512_maskz_loadu_ps(k, ci), v);
    if (b != 0)
        v = _mm512_add_ps(v, _mm512_set1_ps(b));
    if (zi)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, zi));
    /* the activation in the register, not in a pass over C afterwards;
     * (lo, v) order in min/max: NaN in v stays NaN */
    switch (e->act) {
    case RT_EPI_CLAMP:
        v = _mm512_min_ps(_mm512_set1_ps(e->p1), _mm512_max_ps(_mm512_set1_ps(e->p0), v));
        break;
    case RT_EPI_LEAKY:
        v = _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), v,
                               _mm512_set1_ps(e->p0));
        break;
    case RT_EPI_HARD_SIGMOID:
        v = _mm512_fmadd_ps(_mm512_set1_ps(e->p0), v, _mm512_set1_ps(e->p1));
        v = _mm512_min_ps(_mm512_set1_ps(1.0f), _mm512_max_ps(_mm512_setzero_ps(), v));
        break;
    case RT_EPI_HARD_SWISH: {
        __m512 h = _mm512_fmadd_ps(v, _mm512_set1_ps(1.0f / 6), _mm512_set1_ps(0.5f));
        h = _mm512_min_ps(_mm512_set1_ps(1.0f), _mm512_max_ps(_mm512_setzero_ps(), h));
        v = _mm512_mul_ps(v, h);
        break;
    }
    case RT_EPI_SWISH:
        v = v16_swish(v);
        break;
    default:
        break;
    }
    _mm512_mask_storeu_ps(ci, k, v);
}

__attribute__((noinline)) static void store_tile(const float *t, float *c, int64_t ldc, int m,
                                                 int n, const Epi *e)
{
    if (e->tc) {
        store_tile_t(t, c, ldc, m, n, e);
        return;
    }
    __mmask16 k0 = n >= VL ? 0xffff : (__mmask16)((1u << n) - 1);
    __mmask16 k1 = n >= NR ? 0xffff : n > VL ? (__mmask16)((1u << (n - VL)) - 1) : 0;
    for (int i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        const float *zi = e->z ? e->z + i * e->ldz : NULL;
        float bi = e->bias ? e->bias[i] : 0;
        store_vec(_mm512_load_ps(t + i * NR), ci, zi, k0, bi, e);
        if (n > VL)
            store_vec(_mm512_load_ps(t + i * NR + VL), ci + VL, zi ? zi + VL : NULL, k1, bi, e);
    }
}

INLINE void micro_t(int64_t kc, const float *restrict a, const float *restrict b, float *c,
                    int64_t ldc, int m, int nv, int n, const Epi *e)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        c0[i] = _mm512_setzero_ps();
        c1[i] = _mm512_setzero_ps();
    }
    for (int64_t p = 0; p < kc; p++) {
        /* A streams from L2, or from memory (a conv's weights are read once
         * per call): 32 k steps ahead keeps the broadcasts fed (resnet18
         * 37.5 -> 35 ms; 16 and 64 steps measured the same within noise) */
        _mm_prefetch((const char *)(a + PF_A), _MM_HINT_T0);
        __m512 b0 = _mm512_loadu_ps(b);
        __m512 b1 = nv > 1 ? _mm512_loadu_ps(b + VL) : b0;
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            if (i < m) {
                __m512 ai = _mm512_set1_ps(a[i]);
                c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
                if (nv > 1)
                    c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
            }
        }
        a += MR;
        b += NR;
    }
    /* the epilogue works from memory, in a function of its own: with it
     * inlined here gcc kept the accumulators to zmm0-15 and spilled */
    ALIGNED float t[MR * NR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        if (i < m) {
            _mm512_store_ps(t + i * NR, c0[i]);
            if (nv > 1)
                _mm512_store_ps(t + i * NR + VL, c1[i]);
        }
    }
    store_tile(t, c, ldc, m, n, e);
}
#elif GEMM_ISA == 2
INLINE void micro_t(int64_t kc, const float *restrict a, const float *restrict b, float *c,
                    int64_t ldc, int m, int nv, int n, const Epi *e)
{
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        c0[i] = _mm256_setzero_ps();
        c1[i] = _mm256_setzero_ps();
    }
    for (int64_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b);
        __m256 b1 = nv > 1 ? _mm256_loadu_ps(b + VL) : b0;
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            if (i < m) {
                __m256 ai = _mm256_broadcast_ss(a + i);
                c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
                if (nv > 1)
                    c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
            }
        }
        a += MR;
        b += NR;
    }
    ALIGNED float t[MR * NR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        _mm256_store_ps(t + i * NR, c0[i]);
        _mm256_store_ps(t + i * NR + VL, c1[i]);
    }
    store_tile(t, c, ldc, m, n, e);
}
#elif GEMM_ISA == 1
INLINE void micro_t(int64_t kc, const float *restrict a, const float *restrict b, float *c,
                    int64_t ldc, int m, int nv, int n, const Epi *e)
{
    VecF c0[MR], c1[MR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        c0[i] = (VecF){0};
        c1[i] = (VecF){0};
    }
    for (int64_t p = 0; p < kc; p++) {
        VecF b0, b1;
        memcpy(&b0, b, sizeof b0);
        memcpy(&b1, b + VL, sizeof b1);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            if (i < m) {
                c0[i] += b0 * a[i];
                if (nv > 1)
                    c1[i] += b1 * a[i];
            }
        }
        a += MR;
        b += NR;
    }
    ALIGNED float t[MR * NR];
    for (int i = 0; i < MR; i++) {
        memcpy(t + i * NR, &c0[i], sizeof c0[i]);
        memcpy(t + i * NR + VL, &c1[i], sizeof c1[i]);
    }
    store_tile(t, c, ldc, m, n, e);
}
#else
static void micro_t(int64_t kc, const float *restrict a, const float *restrict b, float *c,
                    int64_t ldc, int m, int nv, int n, const Epi *e)
{
    (void)nv;
    float t[MR * NR];
    for (int i = 0; i < MR * NR; i++)
        t[i] = 0;
    for (int64_t p = 0; p < kc; p++, a += MR, b += NR)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < NR; j++)
                t[i * NR + j] += a[i] * b[j];
    store_tile(t, c, ldc, m, n, e);
}
#endif

typedef void (*MicroFn)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int n,
                        const Epi *e);
#define MICRO(M, V)                                                                              \
    HOT static void micro_##M##_##V(int64_t kc, const float *a, const float *b, float *c,       \
                                    int64_t ldc, int n, const Epi *e)                            \
    {                                                                                            \
        micro_t(kc, a, b, c, ldc, M, V, n, e);                                                   \
    }
#define MICRO_M(M) MICRO(M, 1) MICRO(M, 2)
MICRO_M(1) MICRO_M(2) MICRO_M(3) MICRO_M(4) MICRO_M(5) MICRO_M(6)
#if MR > 6
MICRO_M(7) MICRO_M(8) MICRO_M(9) MICRO_M(10) MICRO_M(11) MICRO_M(12) MICRO_M(13) MICRO_M(14)
#endif
#define ENTRY(M) {micro_##M##_1, micro_##M##_2}
static const MicroFn micro_tab[MR][2] = {
    ENTRY(1), ENTRY(2), ENTRY(3), ENTRY(4), ENTRY(5), ENTRY(6),
#if MR > 6
    ENTRY(7), ENTRY(8), ENTRY(9), ENTRY(10), ENTRY(11), ENTRY(12), ENTRY(13), ENTRY(14),
#endif
};

/* ---- packing ---- */

void rt_gemm_pack_a(int64_t m, int64_t k, const float *a, int64_t lda, int trans, int mr,
                    float *dst)
{
    int64_t sa = trans ? 1 : lda, sp = trans ? lda : 1;
    for (int64_t i0 = 0; i0 < m; i0 += mr) {
        int64_t h = min64(mr, m - i0);
        for (int64_t p = 0; p < k; p++) {
            float *d = dst + p * mr;
            int64_t i = 0;
            for (; i < h; i++)
                d[i] = a[(i0 + i) * sa + p * sp];
            for (; i < mr; i++)
                d[i] = 0;
        }
        dst += k * mr;
    }
}

void rt_gemm_pack_b(int64_t k, int64_t n, const float *b, int64_t ldb, int trans, int nr,
                    float *dst)
{
    for (int64_t j0 = 0; j0 < n; j0 += nr) {
        int64_t w = min64(nr, n - j0);
        for (int64_t p = 0; p < k; p++) {
            float *d = dst + p * nr;
            int64_t j = 0;
            if (trans)
                for (; j < w; j++)
                    d[j] = b[(j0 + j) * ldb + p];
            else
                for (; j < w; j++)
                    d[j] = b[p * ldb + j0 + j];
            for (; j < nr; j++)
                d[j] = 0;
        }
        dst += k * nr;
    }
}

/* A plain (possibly transposed) B operand packed per call. */
typedef struct PlainB {
    const float *b;
    int64_t ldb;
    int trans;
} PlainB;

HOT static void pack_plain_b(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                             int nr, float *dst)
{
    const PlainB *pb = src;
    const float *b = pb->trans ? pb->b + j0 * pb->ldb + k0 : pb->b + k0 * pb->ldb + j0;
    rt_gemm_pack_b(kc, nc, b, pb->ldb, pb->trans, nr, dst);
}

/* K == 0: the product is empty, C = act(beta * C + bias + z). */
static void no_product(int64_t m, int64_t n, float beta, const RtGemmEpi *ep, float *c,
                       int64_t ldc)
{
    Epi e = {0, beta, NULL, NULL, 0, ep->act, ep->p0, ep->p1, 0};
    float zero[NR] = {0};
    if (ep->trans_c) { /* (rare: K == 0) element by element */
        e.tc = 1;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                Epi ej = e;
                ej.bias = ep->bias ? ep->bias + j : NULL;
                ej.z = ep->z ? ep->z + j * ep->ldz + i : NULL;
                store_tile_t(zero, c + j * ldc + i, ldc, 1, 1, &ej);
            }
        return;
    }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j += NR)
            store_row(zero, c + i * ldc + j, ep->z ? ep->z + i * ep->ldz + j : NULL,
                      ep->bias ? ep->bias[i] : 0, (int)min64(NR, n - j), &e);
}

/* ---- the blocked product ---- */

typedef struct Job {
    int64_t m, n, k;
    float alpha, beta;
    const RtGemmA *A;
    const RtGemmB *B;
    const RtGemmEpi *ep;
    float *c;
    int64_t ldc;
} Job;

/* Floats of A's one row a matrix-vector product copies to the stack. */
#define GEMV_KMAX 8192

/* t[0..NR) = sum_p x[p] * b[p * NR + j]: one packed panel of B, read once
 * from memory. Four k steps at a time into separate sums, so the loop waits
 * on loads, not on the latency of one chain of adds (the m = 1 micro-kernel
 * adds into two vectors, four cycles per k step). */
HOT static void gemv_panel(int64_t k, const float *restrict x, const float *restrict b, float *t)
{
    ALIGNED float s0[NR], s1[NR], s2[NR], s3[NR];
    for (int j = 0; j < NR; j++)
        s0[j] = s1[j] = s2[j] = s3[j] = 0;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4, b += 4 * NR) {
        for (int j = 0; j < NR; j++) {
            s0[j] += x[p] * b[j];
            s1[j] += x[p + 1] * b[NR + j];
            s2[j] += x[p + 2] * b[2 * NR + j];
            s3[j] += x[p + 3] * b[3 * NR + j];
        }
    }
    for (; p < k; p++, b += NR)
        for (int j = 0; j < NR; j++)
            s0[j] += x[p] * b[j];
    for (int j = 0; j < NR; j++)
        t[j] = (s0[j] + s1[j]) + (s2[j] + s3[j]);
}

/* One row i of C against a packed B (columns [j_lo, j_hi)), the whole K at
 * once: the Linear layers of a batch-1 classifier, squeeze-excite's 1x1
 * convs (computed transposed, the map's one pixel as the row). The weights
 * are read once, so the panels stream at memory bandwidth. Returns 0 when
 * the row does not fit the stack copy. */
HOT static int gemv_block(const Job *jb, int64_t i, int64_t j_lo, int64_t j_hi)
{
    const RtGemmA *A = jb->A;
    int64_t k = jb->k;
    if (k > GEMV_KMAX)
        return 0;
    float xb[GEMV_KMAX];
    const float *x = xb;
    if (A->pack)
        A->pack(A->src, 0, k, i, 1, 1, xb); /* one panel, one column wide: the row */
    else if (A->trans)
        for (int64_t p = 0; p < k; p++)
            xb[p] = A->a[p * A->lda + i];
    else
        x = A->a + i * A->lda;
    const RtGemmEpi *ep = jb->ep;
    int tc = ep->trans_c;
    for (int64_t j = j_lo; j < j_hi; j += NR) {
        ALIGNED float t[MR * NR];
        gemv_panel(k, x, jb->B->packed + j / NR * k * NR, t);
        Epi e = {jb->alpha, jb->beta, NULL, NULL, ep->ldz, ep->act, ep->p0, ep->p1, tc};
        if (ep->bias)
            e.bias = ep->bias + (tc ? j : i);
        if (ep->z)
            e.z = ep->z + (tc ? j * ep->ldz + i : i * ep->ldz + j);
        float *ct = tc ? jb->c + j * jb->ldc + i : jb->c + i * jb->ldc + j;
        store_tile(t, ct, jb->ldc, 1, (int)min64(NR, j_hi - j), &e);
    }
    return 1;
}

/* Rows [i_lo, i_hi) x columns [j_lo, j_hi) of C; both lows are multiples of
 * the tile, so packed panels line up. */
HOT static void gemm_block(const Job *jb, int64_t i_lo, int64_t i_hi, int64_t j_lo, int64_t j_hi)
{
    if (i_hi - i_lo == 1 && jb->B->packed && !jb->A->packed && gemv_block(jb, i_lo, j_lo, j_hi))
        return;
    ALIGNED float bp[KC * NC];
    ALIGNED float ap[MC * KC];
    const RtGemmA *A = jb->A;
    const RtGemmB *B = jb->B;
    /* a packed operand needs no buffer: its block spans the whole range, so
     * the other operand is packed only once per K block */
    int64_t k = jb->k, mc_max = A->packed ? i_hi - i_lo : MC;
    int64_t nc_max = B->packed && !A->packed ? j_hi - j_lo : NC;
    int tc = jb->ep->trans_c;
    for (int64_t jc = j_lo; jc < j_hi; jc += nc_max) {
        int64_t nc = min64(nc_max, j_hi - jc);
        for (int64_t pc = 0; pc < k; pc += KC) {
            int64_t kc = min64(KC, k - pc), bps;
            const float *bb;
            if (B->packed) {
                bb = B->packed + jc / NR * k * NR + pc * NR;
                bps = k * NR;
            } else {
                B->pack(B->src, pc, kc, jc, nc, NR, bp);
                bb = bp;
                bps = kc * NR;
            }
            int last = pc + kc >= k;
            for (int64_t ic = i_lo; ic < i_hi; ic += mc_max) {
                int64_t mc = min64(mc_max, i_hi - ic), aps;
                const float *aa;
                if (A->packed) {
                    aa = A->packed + ic / MR * k * MR + pc * MR;
                    aps = k * MR;
                } else if (A->pack) {
                    A->pack(A->src, pc, kc, ic, mc, MR, ap);
                    aa = ap;
                    aps = kc * MR;
                } else {
                    const float *a0 = A->trans ? A->a + pc * A->lda + ic : A->a + ic * A->lda + pc;
                    rt_gemm_pack_a(mc, kc, a0, A->lda, A->trans, MR, ap);
                    aa = ap;
                    aps = kc * MR;
                }
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int n = (int)min64(NR, nc - jr);
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int m = (int)min64(MR, mc - ir);
                        int64_t i = ic + ir, j = jc + jr;
                        Epi e = {jb->alpha, pc ? 1 : jb->beta, NULL, NULL, 0, RT_EPI_NONE, 0, 0,
                                 tc};
                        if (!pc && jb->ep->bias)
                            e.bias = jb->ep->bias + (tc ? j : i);
                        if (last) {
                            if (jb->ep->z) {
                                e.z = jb->ep->z + (tc ? j * jb->ep->ldz + i : i * jb->ep->ldz + j);
                                e.ldz = jb->ep->ldz;
                            }
                            e.act = jb->ep->act;
                            e.p0 = jb->ep->p0;
                            e.p1 = jb->ep->p1;
                        }
                        float *ct = tc ? jb->c + j * jb->ldc + i : jb->c + i * jb->ldc + j;
                        micro_tab[m - 1][n > VL](kc, aa + ir / MR * aps, bb + jr / NR * bps, ct,
                                                 jb->ldc, n, &e);
                    }
                }
            }
        }
    }
}

/* Threads split C into row blocks (few columns: the 7x7 maps) or column blocks. */
static void rows_range(void *ctx, int64_t lo, int64_t hi)
{
    const Job *jb = ctx;
    gemm_block(jb, lo * MR, min64(hi * MR, jb->m), 0, jb->n);
}

static void cols_range(void *ctx, int64_t lo, int64_t hi)
{
    const Job *jb = ctx;
    gemm_block(jb, 0, jb->m, lo * NR, min64(hi * NR, jb->n));
}

void rt_sgemm_ex(int64_t m, int64_t n, int64_t k, float alpha, const RtGemmA *A,
                 const RtGemmB *B, float beta, const RtGemmEpi *ep, float *c, int64_t ldc)
{
    static const RtGemmEpi none = {NULL, NULL, 0, RT_EPI_NONE, 0, 0, 0};
    if (!ep)
        ep = &none;
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        no_product(m, n, beta, ep, c, ldc);
        return;
    }
    Job jb = {m, n, k, alpha, beta, A, B, ep, c, ldc};
    int64_t mp = (m + MR - 1) / MR, np = (n + NR - 1) / NR;
    /* A hand-off to the pool costs microseconds: a range must carry about a
     * million multiply-adds (tens of microseconds) to be worth one, so the
     * small products of a tiny model stay on the calling thread. */
    enum { MIN_MACS = 1 << 20 };
    double macs = (double)m * (double)n * (double)k;
    int t = rt_threads();
    if (t <= 1 || macs < 2.0 * MIN_MACS) {
        gemm_block(&jb, 0, m, 0, n);
    } else if (np >= 2 * t || np >= mp) {
        int64_t grain = (int64_t)(MIN_MACS / (macs / (double)np)) + 1;
        rt_parallel_for(np, grain, cols_range, &jb);
    } else {
        int64_t grain = (int64_t)(MIN_MACS / (macs / (double)mp)) + 1;
        rt_parallel_for(mp, grain, rows_range, &jb);
    }
}

/* Dot product with 16 independent partial sums, which vectorizes without
 * reassociating a single float sum. */
HOT static float dot(const float *x, const float *y, int64_t n)
{
    float s[16] = {0};
    int64_t k = 0;
    for (; k + 16 <= n; k += 16)
        for (int t = 0; t < 16; t++)
            s[t] += x[k + t] * y[k + t];
    float r = 0;
    for (int t = 0; t < 16; t++)
        r += s[t];
    for (; k < n; k++)
        r += x[k] * y[k];
    return r;
}

/* y[j * incy] = clamp(alpha * sum_k x[k * incx] * B[k * ldb + j] + beta * y +
 * bias[j * incb]) for j < n, in column chunks so the accumulators stay in a
 * small local array. */
HOT static void gemv_rows(int64_t n, int64_t k, float alpha, const float *x, int64_t incx,
                          const float *b, int64_t ldb, float beta, const float *bias,
                          int64_t incb, float lo, float hi, float *y, int64_t incy)
{
    enum { CH = 256 };
    float acc[CH];
    for (int64_t j0 = 0; j0 < n; j0 += CH) {
        int64_t nc = min64(CH, n - j0);
        for (int64_t j = 0; j < nc; j++)
            acc[j] = 0;
        for (int64_t p = 0; p < k; p++) {
            const float xp = x[p * incx];
            const float *bp = b + p * ldb + j0;
            for (int64_t j = 0; j < nc; j++)
                acc[j] += xp * bp[j];
        }
        for (int64_t j = 0; j < nc; j++) {
            float *yj = y + (j0 + j) * incy;
            float v = alpha * acc[j] + (bias ? bias[(j0 + j) * incb] : 0);
            *yj = clampf(beta == 0 ? v : v + beta * *yj, lo, hi);
        }
    }
}

void rt_sgemm_bias(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                   const float *bias, float lo, float hi, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        RtGemmEpi e = {bias, NULL, 0, RT_EPI_CLAMP, lo, hi, 0};
        no_product(m, n, beta, &e, c, ldc);
        return;
    }
    /* Matrix-vector shapes gain nothing from packing (each element is used once). */
    if (m == 1 && !trans_b) {
        gemv_rows(n, k, alpha, a, trans_a ? lda : 1, b, ldb, beta, bias, 0, lo, hi, c, 1);
        return;
    }
    if (n == 1 && trans_a) {
        gemv_rows(m, k, alpha, b, trans_b ? 1 : ldb, a, lda, beta, bias, 1, lo, hi, c, ldc);
        return;
    }
    if (m == 1 && trans_b && (!trans_a || lda == 1)) {
        for (int64_t j = 0; j < n; j++) {
            float s = alpha * dot(a, b + j * ldb, k) + (bias ? bias[0] : 0);
            c[j] = clampf(beta == 0 ? s : s + beta * c[j], lo, hi);
        }
        return;
    }
    if (n == 1 && !trans_a && (trans_b || ldb == 1)) {
        for (int64_t i = 0; i < m; i++) {
            float s = alpha * dot(a + i * lda, b, k) + (bias ? bias[i] : 0);
            c[i * ldc] = clampf(beta == 0 ? s : s + beta * c[i * ldc], lo, hi);
        }
        return;
    }
    PlainB pb = {b, ldb, trans_b};
    RtGemmA A = {a, lda, trans_a, NULL, NULL, NULL};
    RtGemmB B = {pack_plain_b, &pb, NULL};
    RtGemmEpi e = {bias, NULL, 0, RT_EPI_NONE, lo, hi, 0};
    if (lo > -HUGE_VALF || hi < HUGE_VALF)
        e.act = RT_EPI_CLAMP;
    rt_sgemm_ex(m, n, k, alpha, &A, &B, beta, &e, c, ldc);
}

void rt_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
              int64_t ldc)
{
    rt_sgemm_bias(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, NULL, -HUGE_VALF,
                  HUGE_VALF, c, ldc);
}
