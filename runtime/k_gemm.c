/* k_gemm.c: the shared float32 GEMM behind MatMul, Gemm, Conv and ConvTranspose. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"

/* Goto/BLIS-style blocking: C is computed in MR x NR register tiles from a
 * KC x NR panel of B (kept in L1) and MR rows of A. B is packed in KC x NC
 * blocks into a stack buffer (64 KiB, so the kernel never allocates), exactly
 * once per call: that is the expensive side for Conv (im2col). A is read in
 * place: its rows are walked by broadcast loads either way, and skipping the
 * copy pays off where N is small (the 7x7 maps of late conv layers).
 *
 * The register tile is 6 rows x 2 vectors: 12 accumulators, 2 B vectors and
 * one broadcast A value fit the 16 registers of SSE/AVX2 (and leave room on
 * AVX-512 and NEON). The vector width follows the ISA the compiler targets. */
#define VL RT_VEC_FLOATS
#define MR 6
#define NR (2 * VL)
#ifndef KC
#define KC 256
#endif
#ifndef NC
#define NC 64
#endif

#if defined(__GNUC__) && !defined(RT_PLAIN_C)
#define ALIGNED __attribute__((aligned(64)))
/* GNU vector extensions (gcc, clang) rather than plain loops: gcc's
 * auto-vectorizer keeps a 6x16 accumulator tile in registers only for some
 * tile shapes and optimization levels, and falls to 2 GFLOPS otherwise. The
 * extension is portable across ISAs, unlike intrinsics. */
typedef float VecF __attribute__((vector_size(VL * 4)));
#define HAVE_VEC 1
#else
#define ALIGNED
#define HAVE_VEC 0
#endif

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* What one block of the K loop adds to C: C = alpha * acc + beta * C + bias[i]
 * on the first block, C += alpha * acc on the others (beta 1, bias NULL), and
 * on the last block a clamp to [lo, hi] (a fused Relu or Clip).
 * beta == 0 never reads C, so C may hold garbage (BLAS semantics). */
typedef struct Epi {
    float alpha, beta;
    const float *bias;           /* per row of C, or NULL */
    int clamp;                   /* apply [lo, hi] (last K block only) */
    float lo, hi;
} Epi;

/* NaN stays NaN: both comparisons are false. */
static void store_tile(const float *acc, float *c, int64_t ldc, int m, int n, const Epi *e)
{
    for (int i = 0; i < m; i++) {
        const float *t = acc + i * NR;
        float *ci = c + i * ldc;
        float b = e->bias ? e->bias[i] : 0;
        if (e->beta == 0) {
            for (int j = 0; j < n; j++)
                ci[j] = e->alpha * t[j] + b;
        } else {
            for (int j = 0; j < n; j++)
                ci[j] = e->alpha * t[j] + e->beta * ci[j] + b;
        }
        for (int j = 0; e->clamp && j < n; j++)
            ci[j] = clampf(ci[j], e->lo, e->hi);
    }
}

/* The register-blocked kernel: C[m x n] from A(i, p) = a0[i * sa + p * sp],
 * read in place, and b, kc x NR packed row by row and zero-padded past n.
 * A partial tile computes a full one and clips the store. */
HOT static void micro(int64_t kc, const float *restrict a0, int64_t sa, int64_t sp,
                      const float *restrict b, float *c, int64_t ldc, int m, int n,
                      const Epi *e)
{
    /* rows past m repeat the last one: computed, never stored */
    const float *ar[MR];
    for (int i = 0; i < MR; i++)
        ar[i] = a0 + (i < m ? i : m - 1) * sa;
#if HAVE_VEC
    VecF acc[MR][2];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        acc[i][0] = (VecF){0};
        acc[i][1] = (VecF){0};
    }
    if (n <= VL) {
        /* a narrow last panel (e.g. the 49 columns of a 7x7 feature map):
         * only the first vector of each row carries columns */
        for (int64_t p = 0; p < kc; p++) {
            VecF b0;
            memcpy(&b0, b + p * NR, sizeof b0);
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++)
                acc[i][0] += b0 * ar[i][p * sp];
        }
        ALIGNED float t[MR * NR];
        memcpy(t, acc, sizeof t);
        store_tile(t, c, ldc, m, n, e);
        return;
    }
    for (int64_t p = 0; p < kc; p++) {
        VecF b0, b1;
        memcpy(&b0, b + p * NR, sizeof b0);
        memcpy(&b1, b + p * NR + VL, sizeof b1);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            const float ai = ar[i][p * sp];
            acc[i][0] += b0 * ai;
            acc[i][1] += b1 * ai;
        }
    }
    if (m == MR && n == NR && (e->beta == 0 || e->beta == 1)) {
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            VecF c0 = acc[i][0] * e->alpha, c1 = acc[i][1] * e->alpha;
            if (e->bias) {
                c0 += e->bias[i];
                c1 += e->bias[i];
            }
            if (e->beta == 1) {
                VecF o0, o1;
                memcpy(&o0, c + i * ldc, sizeof o0);
                memcpy(&o1, c + i * ldc + VL, sizeof o1);
                c0 += o0;
                c1 += o1;
            }
            memcpy(c + i * ldc, &c0, sizeof c0);
            memcpy(c + i * ldc + VL, &c1, sizeof c1);
            /* (C has no vector ?:, so the clamp goes through the stored row) */
            for (int j = 0; e->clamp && j < NR; j++)
                c[i * ldc + j] = clampf(c[i * ldc + j], e->lo, e->hi);
        }
        return;
    }
    ALIGNED float t[MR * NR];
    memcpy(t, acc, sizeof t);
    store_tile(t, c, ldc, m, n, e);
#else
    float acc[MR * NR];
    for (int i = 0; i < MR * NR; i++)
        acc[i] = 0;
    for (int64_t p = 0; p < kc; p++)
        for (int i = 0; i < MR; i++) {
            const float ai = ar[i][p * sp];
            for (int j = 0; j < NR; j++)
                acc[i * NR + j] += ai * b[p * NR + j];
        }
    store_tile(acc, c, ldc, m, n, e);
#endif
}

/* A plain (possibly transposed) B operand. */
typedef struct PlainB {
    const float *b;
    int64_t ldb;
    int trans;
} PlainB;

HOT static void pack_plain_b(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                             int nr, float *dst)
{
    const PlainB *pb = src;
    for (int64_t jr = 0; jr < nc; jr += nr) {
        int n = (int)min64(nr, nc - jr);
        if (pb->trans) {
            int j = 0;
            for (; j < n; j++) {
                const float *s = pb->b + (j0 + jr + j) * pb->ldb + k0;
                for (int64_t p = 0; p < kc; p++)
                    dst[p * nr + j] = s[p];
            }
            for (; j < nr; j++)
                for (int64_t p = 0; p < kc; p++)
                    dst[p * nr + j] = 0;
        } else {
            for (int64_t p = 0; p < kc; p++) {
                const float *s = pb->b + (k0 + p) * pb->ldb + j0 + jr;
                float *d = dst + p * nr;
                if (n == nr && nr == NR) {
                    memcpy(d, s, sizeof(float) * NR);
                } else {
                    int j = 0;
                    for (; j < n; j++)
                        d[j] = s[j];
                    for (; j < nr; j++)
                        d[j] = 0;
                }
            }
        }
        dst += (int64_t)nr * kc;
    }
}

/* K == 0: the product is empty, C = clamp(beta * C + bias). */
static void no_product(int64_t m, int64_t n, float beta, const float *bias, float lo, float hi,
                       float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            c[i * ldc + j] = clampf((beta == 0 ? 0 : beta * c[i * ldc + j]) +
                                    (bias ? bias[i] : 0), lo, hi);
}

/* All m rows of A (A(i, p) = a[i * sa + p * sp], offset to the block's first
 * column) times one packed KC x NC block of B. */
static void macro(int64_t kc, int64_t m, int64_t nc, const float *a, int64_t sa, int64_t sp,
                  const float *bp, float *c, int64_t ldc, const Epi *e)
{
    for (int64_t jr = 0; jr < nc; jr += NR)
        for (int64_t ir = 0; ir < m; ir += MR) {
            Epi ei = *e;
            ei.bias = e->bias ? e->bias + ir : NULL;
            micro(kc, a + ir * sa, sa, sp, bp + jr * kc, c + ir * ldc + jr, ldc,
                  (int)min64(MR, m - ir), (int)min64(NR, nc - jr), &ei);
        }
}

void rt_sgemm_pack(int trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                   int64_t lda, RtPackB pack_b, const void *b_src, float beta,
                   const float *bias, float lo, float hi, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        no_product(m, n, beta, bias, lo, hi, c, ldc);
        return;
    }
    ALIGNED float bp[KC * NC];
    int64_t sa = trans_a ? 1 : lda, sp = trans_a ? lda : 1;
    int clamp = lo > -HUGE_VALF || hi < HUGE_VALF;
    for (int64_t jc = 0; jc < n; jc += NC) {
        int64_t nc = min64(NC, n - jc);
        for (int64_t pc = 0; pc < k; pc += KC) {
            int64_t kc = min64(KC, k - pc);
            Epi e = {alpha, pc ? 1 : beta, pc ? NULL : bias, clamp && pc + kc >= k, lo, hi};
            pack_b(b_src, pc, kc, jc, nc, NR, bp);
            macro(kc, m, nc, a + pc * sp, sa, sp, bp, c + jc, ldc, &e);
        }
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
        no_product(m, n, beta, bias, lo, hi, c, ldc);
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
    rt_sgemm_pack(trans_a, m, n, k, alpha, a, lda, pack_plain_b, &pb, beta, bias, lo, hi, c,
                  ldc);
}

void rt_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
              int64_t ldc)
{
    rt_sgemm_bias(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, NULL, -HUGE_VALF,
                  HUGE_VALF, c, ldc);
}
