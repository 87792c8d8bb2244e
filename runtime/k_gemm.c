/* k_gemm.c: the shared float32 GEMM behind MatMul, Gemm, Conv and ConvTranspose. */
#include <string.h>

#include "rt_internal.h"

/* Goto/BLIS blocking: C is computed in MR x NR register tiles from a KC x NR
 * panel of B (kept in L1) and an MR x KC sliver of A. An MC x KC block of A
 * (L2) stays packed while KC x NC blocks of B stream past it, so for M <= MC
 * (the output channels of most convolutions, a transformer's tokens) both
 * operands are packed exactly once; B (the expensive im2col side) is packed
 * again only per further MC rows. The buffers live on the stack, so the
 * kernel never allocates and its frame stays under 224 KiB.
 *
 * The register tile is 6 rows x 2 vectors: 12 accumulators, 2 B vectors and
 * one broadcast A value fit the 16 registers of SSE/AVX2 (and leave room on
 * AVX-512 and NEON). The vector width follows the ISA the compiler targets. */
#if defined(__AVX512F__)
#define VL 16
#elif defined(__AVX__)
#define VL 8
#else
#define VL 4
#endif
#define MR 6
#define NR (2 * VL)
#ifndef KC
#define KC 256
#endif
#ifndef MC
#define MC 144
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

/* gcc does not fuse a*b+c into FMA under -std=c99 (fp-contract=off) and
 * ignores #pragma STDC FP_CONTRACT; the kernel opts in, as BLAS libraries do.
 * clang contracts within an expression by default. */
#if defined(__GNUC__) && !defined(__clang__)
#define CONTRACT __attribute__((optimize("fp-contract=fast")))
#else
#define CONTRACT
#endif

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* C[m x n] = alpha * acc + beta * C, for the top-left m x n of a tile. beta == 0
 * never reads C, so C may hold garbage (BLAS semantics). */
static void store_tile(const float *acc, float *c, int64_t ldc, int m, int n, float alpha,
                       float beta)
{
    for (int i = 0; i < m; i++) {
        const float *t = acc + i * NR;
        float *ci = c + i * ldc;
        if (beta == 0) {
            for (int j = 0; j < n; j++)
                ci[j] = alpha * t[j];
        } else if (beta == 1) {
            for (int j = 0; j < n; j++)
                ci[j] += alpha * t[j];
        } else {
            for (int j = 0; j < n; j++)
                ci[j] = alpha * t[j] + beta * ci[j];
        }
    }
}

/* The register-blocked kernel: a is kc x MR (packed column by column), b is
 * kc x NR (packed row by row); both are zero-padded, so partial tiles compute
 * garbage-free and only the store is clipped. */
CONTRACT static void micro(int64_t kc, const float *restrict a, const float *restrict b, float *c,
                  int64_t ldc, int m, int n, float alpha, float beta)
{
#if HAVE_VEC
    VecF acc[MR][2];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        acc[i][0] = (VecF){0};
        acc[i][1] = (VecF){0};
    }
    for (int64_t p = 0; p < kc; p++) {
        VecF b0, b1;
        memcpy(&b0, b + p * NR, sizeof b0);
        memcpy(&b1, b + p * NR + VL, sizeof b1);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            const float ai = a[p * MR + i];
            acc[i][0] += b0 * ai;
            acc[i][1] += b1 * ai;
        }
    }
    if (m == MR && n == NR && (beta == 0 || beta == 1)) {
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            VecF c0 = acc[i][0] * alpha, c1 = acc[i][1] * alpha;
            if (beta == 1) {
                VecF o0, o1;
                memcpy(&o0, c + i * ldc, sizeof o0);
                memcpy(&o1, c + i * ldc + VL, sizeof o1);
                c0 += o0;
                c1 += o1;
            }
            memcpy(c + i * ldc, &c0, sizeof c0);
            memcpy(c + i * ldc + VL, &c1, sizeof c1);
        }
        return;
    }
    ALIGNED float t[MR * NR];
    memcpy(t, acc, sizeof t);
    store_tile(t, c, ldc, m, n, alpha, beta);
#else
    float acc[MR * NR];
    for (int i = 0; i < MR * NR; i++)
        acc[i] = 0;
    for (int64_t p = 0; p < kc; p++)
        for (int i = 0; i < MR; i++) {
            const float ai = a[p * MR + i];
            for (int j = 0; j < NR; j++)
                acc[i * NR + j] += ai * b[p * NR + j];
        }
    store_tile(acc, c, ldc, m, n, alpha, beta);
#endif
}

/* Packs A[i0 .. i0+mc) x [p0 .. p0+kc) (A^T when trans) into MR-row slivers. */
static void pack_a(int trans, const float *a, int64_t lda, int64_t i0, int64_t mc, int64_t p0,
                   int64_t kc, float *dst)
{
    for (int64_t ir = 0; ir < mc; ir += MR) {
        int mr = (int)min64(MR, mc - ir);
        if (trans) {
            for (int64_t p = 0; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + ir;
                float *d = dst + p * MR;
                int i = 0;
                for (; i < mr; i++)
                    d[i] = src[i];
                for (; i < MR; i++)
                    d[i] = 0;
            }
        } else {
            int i = 0;
            for (; i < mr; i++) {
                const float *src = a + (i0 + ir + i) * lda + p0;
                for (int64_t p = 0; p < kc; p++)
                    dst[p * MR + i] = src[p];
            }
            for (; i < MR; i++)
                for (int64_t p = 0; p < kc; p++)
                    dst[p * MR + i] = 0;
        }
        dst += MR * kc;
    }
}

/* A plain (possibly transposed) B operand for rt_sgemm. */
typedef struct PlainB {
    const float *b;
    int64_t ldb;
    int trans;
} PlainB;

static void pack_plain_b(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
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
                if (n == nr) {
                    memcpy(d, s, sizeof(float) * (size_t)nr);
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

static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
}

/* One packed MC x KC block of A times one packed KC x NC block of B. */
static void macro(int64_t kc, int64_t mc, int64_t nc, const float *ap, const float *bp, float *c,
                  int64_t ldc, float alpha, float beta)
{
    for (int64_t jr = 0; jr < nc; jr += NR)
        for (int64_t ir = 0; ir < mc; ir += MR)
            micro(kc, ap + ir * kc, bp + jr * kc, c + ir * ldc + jr, ldc,
                  (int)min64(MR, mc - ir), (int)min64(NR, nc - jr), alpha, beta);
}

void rt_sgemm_pack(int trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                   int64_t lda, RtPackB pack_b, const void *b_src, float beta, float *c,
                   int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    ALIGNED float ap[MC * KC];
    ALIGNED float bp[KC * NC];
    /* Pack each operand once where possible: keep A's block while B streams
     * (B repacked per MC rows) or B's block while A streams (A repacked per
     * NC columns), whichever copies less; B counts double, as im2col packing
     * costs more than A's plain copy. */
    int64_t cost_a_stays = m * k + (m + MC - 1) / MC * 2 * k * n;
    int64_t cost_b_stays = 2 * k * n + (n + NC - 1) / NC * m * k;
    if (cost_a_stays <= cost_b_stays) {
        for (int64_t pc = 0; pc < k; pc += KC) {
            int64_t kc = min64(KC, k - pc);
            for (int64_t ic = 0; ic < m; ic += MC) {
                int64_t mc = min64(MC, m - ic);
                pack_a(trans_a, a, lda, ic, mc, pc, kc, ap);
                for (int64_t jc = 0; jc < n; jc += NC) {
                    int64_t nc = min64(NC, n - jc);
                    pack_b(b_src, pc, kc, jc, nc, NR, bp);
                    macro(kc, mc, nc, ap, bp, c + ic * ldc + jc, ldc, alpha, pc ? 1 : beta);
                }
            }
        }
    } else {
        for (int64_t jc = 0; jc < n; jc += NC) {
            int64_t nc = min64(NC, n - jc);
            for (int64_t pc = 0; pc < k; pc += KC) {
                int64_t kc = min64(KC, k - pc);
                pack_b(b_src, pc, kc, jc, nc, NR, bp);
                for (int64_t ic = 0; ic < m; ic += MC) {
                    int64_t mc = min64(MC, m - ic);
                    pack_a(trans_a, a, lda, ic, mc, pc, kc, ap);
                    macro(kc, mc, nc, ap, bp, c + ic * ldc + jc, ldc, alpha, pc ? 1 : beta);
                }
            }
        }
    }
}

/* Dot product with 16 independent partial sums, which vectorizes without
 * reassociating a single float sum. */
static float dot(const float *x, const float *y, int64_t n)
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

/* y[0..n) = alpha * sum_k x[k * incx] * B[k * ldb + j] + beta * y, in column
 * chunks so the accumulators stay in a small local array. */
static void gemv_rows(int64_t n, int64_t k, float alpha, const float *x, int64_t incx,
                      const float *b, int64_t ldb, float beta, float *y, int64_t incy)
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
            *yj = beta == 0 ? alpha * acc[j] : alpha * acc[j] + beta * *yj;
        }
    }
}

void rt_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
              int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    /* Matrix-vector shapes gain nothing from packing (each element is used once). */
    if (m == 1 && !trans_b) {
        gemv_rows(n, k, alpha, a, trans_a ? lda : 1, b, ldb, beta, c, 1);
        return;
    }
    if (n == 1 && trans_a) {
        gemv_rows(m, k, alpha, b, trans_b ? 1 : ldb, a, lda, beta, c, ldc);
        return;
    }
    if (m == 1 && trans_b && (!trans_a || lda == 1)) {
        for (int64_t j = 0; j < n; j++) {
            float s = alpha * dot(a, b + j * ldb, k);
            c[j] = beta == 0 ? s : s + beta * c[j];
        }
        return;
    }
    if (n == 1 && !trans_a && (trans_b || ldb == 1)) {
        for (int64_t i = 0; i < m; i++) {
            float s = alpha * dot(a + i * lda, b, k);
            c[i * ldc] = beta == 0 ? s : s + beta * c[i * ldc];
        }
        return;
    }
    PlainB pb = {b, ldb, trans_b};
    rt_sgemm_pack(trans_a, m, n, k, alpha, a, lda, pack_plain_b, &pb, beta, c, ldc);
}
