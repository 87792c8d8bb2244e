/* k_wq_gemv.c: MatMulWQ at one row of X: int4, int8, int2, ternary and MXFP4 matrix-vector. */
#include <string.h>

#include "k_wq.h"
#include "k_wq_internal.h"
#include "rt_internal.h"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

/* Why a kernel of its own for M = 1: with one row of X every weight is
 * used once, so the time is the decode's instruction count per byte of W.
 * The decoders of k_wq_matmul.c fold the scale into each weight (s*q - s*z:
 * a table built per group, per row of W); here a group is summed with
 * integer-valued weights q - z, exact in float, and scaled once:
 *     y += s_g * sum_k x_k (q_k - z_g),
 * the table of q - z for each zero point a constant that the permutes read
 * from memory, so a group of 32 int4 weights costs a widening, a shift, two
 * permutes, two FMAs and the scaling FMA, and the loads, on their own ports.
 * Rows of W go WQ_GV_ROWS at a time (independent chains, x read once into
 * registers for all of them), each stream prefetched WQ_GV_AHEAD bytes on. */
#ifndef WQ_GV_ROWS
#define WQ_GV_ROWS 4
#endif
#ifndef WQ_GV_AHEAD
#define WQ_GV_AHEAD 768
#endif

#if defined(__AVX512F__)
/* zsub[z][i] = i - z: the 16 values (code - zero) of an int4 group with
 * zero point z (a uint8: the packing takes any), one 64-byte row each. */
#define ZS(z) {0 - (float)(z), 1 - (float)(z), 2 - (float)(z), 3 - (float)(z),               \
               4 - (float)(z), 5 - (float)(z), 6 - (float)(z), 7 - (float)(z),               \
               8 - (float)(z), 9 - (float)(z), 10 - (float)(z), 11 - (float)(z),             \
               12 - (float)(z), 13 - (float)(z), 14 - (float)(z), 15 - (float)(z)}
#define ZS4(z) ZS(z), ZS((z) + 1), ZS((z) + 2), ZS((z) + 3)
#define ZS16(z) ZS4(z), ZS4((z) + 4), ZS4((z) + 8), ZS4((z) + 12)
#define ZS64(z) ZS16(z), ZS16((z) + 16), ZS16((z) + 32), ZS16((z) + 48)
static const float zsub[256][16] __attribute__((aligned(64))) = {ZS64(0), ZS64(64), ZS64(128),
                                                                  ZS64(192)};
#undef ZS
#undef ZS4
#undef ZS16
#undef ZS64

/* E2M1's 16 values (k_wq.h: MXFP4's codes), a permute's table. */
static const float e2m1_tab[16] __attribute__((aligned(64))) = {
    0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};

/* E8M0's 256 scales 2^(e - 127) as float32's bits (e = 0 is 2^-127, a
 * subnormal, as the reference decodes it): a broadcast from memory. */
#define E8(e) ((e) ? (uint32_t)(e) << 23 : 0x00400000u)
#define E8x4(e) E8(e), E8((e) + 1), E8((e) + 2), E8((e) + 3)
#define E8x16(e) E8x4(e), E8x4((e) + 4), E8x4((e) + 8), E8x4((e) + 12)
#define E8x64(e) E8x16(e), E8x16((e) + 16), E8x16((e) + 32), E8x16((e) + 48)
static const union {
    uint32_t bits[256];
    float f[256];
} e8m0 = {{E8x64(0), E8x64(64), E8x64(128), E8x64(192)}};
#undef E8
#undef E8x4
#undef E8x16
#undef E8x64

/* A block's scale: float32, or E8M0. */
static inline float gv_scale(int fmt, const uint8_t *b)
{
    float s;
    if (fmt == RT_WQ_MXFP4)
        return e8m0.f[b[0]];
    memcpy(&s, b, 4);
    return s;
}

/* One block b of a row against the group's x: sum_k x_k w_k before the
 * scale. INT4 and MXFP4: a group is gp/2 bytes, byte c holding elements c
 * (low nibble) and c + gp/2 (high): 16 bytes widened to 16 lanes give 32
 * weights by two permutes (vpermps reads an index's low four bits: the
 * high nibble needs a shift, the low one no mask); one FMA chain for a
 * group of 32, two (the low and the high runs) for longer ones. INT8: 16
 * codes widened and converted, the zero point subtracted. */
static inline __attribute__((always_inline)) __m512 block512(int fmt, int group,
                                                            const uint8_t *b, const float *xg)
{
    int half = group / 2;
    const uint8_t *p = b + (fmt == RT_WQ_MXFP4 ? 1 : 5);
    __m512 t = _mm512_setzero_ps(), t1 = _mm512_setzero_ps();
    if (fmt == RT_WQ_INT8) {
        __m512 z = _mm512_set1_ps(zsub[b[4]][0]); /* -z */
#pragma GCC unroll 8
        for (int c = 0; c < group; c += 16) {
            __m512 q = _mm512_cvtepi32_ps(
                _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + c))));
            t = _mm512_fmadd_ps(_mm512_loadu_ps(xg + c), _mm512_add_ps(q, z), t);
        }
        return t;
    }
    if (fmt == RT_WQ_INT2 || fmt == RT_WQ_TERNARY) {
        /* byte j holds elements j + i*gp/4 in bits 2i..2i+1; the table
         * (q & 3) - z repeats every four entries, so the permutes need no
         * mask of the next code's bits */
        const __m512 tab = _mm512_add_ps(
            _mm512_set_ps(3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0),
            _mm512_set1_ps(fmt == RT_WQ_TERNARY ? -1.0f : zsub[b[4]][0]));
        p = b + (fmt == RT_WQ_TERNARY ? 4 : 5);
        if (group == 32) { /* planes of 8 bytes: one load, twice over */
            __m512i q = _mm512_cvtepu8_epi32(
                _mm_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)p)));
            __m512 w0 = _mm512_permutexvar_ps(
                _mm512_srlv_epi32(q, _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0,
                                                      0, 0)), tab);
            __m512 w1 = _mm512_permutexvar_ps(
                _mm512_srlv_epi32(q, _mm512_set_epi32(6, 6, 6, 6, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4,
                                                      4, 4)), tab);
            return _mm512_fmadd_ps(_mm512_loadu_ps(xg + 16), w1,
                                   _mm512_mul_ps(_mm512_loadu_ps(xg), w0));
        }
        int q4 = group / 4; /* a multiple of 16 */
#pragma GCC unroll 8
        for (int c = 0; c < q4; c += 16) {
            __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + c)));
            for (int i = 0; i < 4; i++) {
                __m512 wv = _mm512_permutexvar_ps(_mm512_srli_epi32(q, 2 * i), tab);
                __m512 xv = _mm512_loadu_ps(xg + i * q4 + c);
                if (i & 1)
                    t1 = _mm512_fmadd_ps(xv, wv, t1);
                else
                    t = _mm512_fmadd_ps(xv, wv, t);
            }
        }
        return _mm512_add_ps(t, t1);
    }
    const float *tab = fmt == RT_WQ_MXFP4 ? e2m1_tab : zsub[b[4]];
#pragma GCC unroll 8
    for (int c = 0; c < half; c += 16) {
        __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + c)));
        __m512 lo = _mm512_permutexvar_ps(q, _mm512_load_ps(tab));
        __m512 hi = _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), _mm512_load_ps(tab));
        __m512 xl = _mm512_loadu_ps(xg + c), xh = _mm512_loadu_ps(xg + c + half);
        if (half == 16) {
            t = _mm512_fmadd_ps(xh, hi, _mm512_mul_ps(xl, lo));
        } else if (!c) {
            t = _mm512_mul_ps(xl, lo);
            t1 = _mm512_mul_ps(xh, hi);
        } else {
            t = _mm512_fmadd_ps(xl, lo, t);
            t1 = _mm512_fmadd_ps(xh, hi, t1);
        }
    }
    return half > 16 ? _mm512_add_ps(t, t1) : t;
}

/* Rows [0, R) of W from w (row stride rb, block stride bb) over `full`
 * whole groups: out[i] = sum over groups s_g * block512. Two groups a step,
 * into two accumulators per row, so the scaling FMAs' chain is not what
 * bounds one row. */
static inline __attribute__((always_inline)) void rows512(int fmt, int group, const uint8_t *w,
                                                         size_t rb, size_t bb, int64_t full,
                                                         const float *x, float *out, const int R)
{
    __m512 acc[WQ_GV_ROWS][2];
    for (int i = 0; i < R; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t g = 0; g < full; g += 2) {
#pragma GCC unroll 2
        for (int u = 0; u < 2; u++) {
            if (u && g + 1 == full)
                break;
            const float *xg = x + (g + u) * group;
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) {
                const uint8_t *b = w + (size_t)i * rb + (size_t)(g + u) * bb;
                _mm_prefetch((const char *)b + WQ_GV_AHEAD, _MM_HINT_T0);
                acc[i][u] = _mm512_fmadd_ps(block512(fmt, group, b, xg),
                                            _mm512_set1_ps(gv_scale(fmt, b)), acc[i][u]);
            }
        }
    }
    for (int i = 0; i < R; i++)
        out[i] = _mm512_reduce_add_ps(_mm512_add_ps(acc[i][0], acc[i][1]));
}
#define GV_KERNEL rows512

#elif defined(__AVX2__) && defined(__FMA__)
/* negz[z] = -z, a zero point as a float by a broadcast from memory. */
#define NZ(z) -(float)(z)
#define NZ4(z) NZ(z), NZ((z) + 1), NZ((z) + 2), NZ((z) + 3)
#define NZ16(z) NZ4(z), NZ4((z) + 4), NZ4((z) + 8), NZ4((z) + 12)
#define NZ64(z) NZ16(z), NZ16((z) + 16), NZ16((z) + 32), NZ16((z) + 48)
static const float negz[256] = {NZ64(0), NZ64(64), NZ64(128), NZ64(192)};
#undef NZ
#undef NZ4
#undef NZ16
#undef NZ64

/* rows512's work with AVX2 (the AMD and older Intel machines): eight
 * weights per vector; vpermps reads three index bits, too few for int4's
 * sixteen codes, so the codes are masked and converted, and the zero point
 * comes in once per group as -z * (the group's x summed lane-wise), that
 * sum formed once for all the rows. */
static inline __attribute__((always_inline)) void rows256(int fmt, int group, const uint8_t *w,
                                                         size_t rb, size_t bb, int64_t full,
                                                         const float *x, float *out, const int R)
{
    __m256 acc[WQ_GV_ROWS];
    for (int i = 0; i < R; i++)
        acc[i] = _mm256_setzero_ps();
    const __m256i m15 = _mm256_set1_epi32(15);
    int half = group / 2;
    for (int64_t g = 0; g < full; g++) {
        const float *xg = x + g * group;
        __m256 xs = _mm256_loadu_ps(xg);
#pragma GCC unroll 16
        for (int c = 8; c < group; c += 8)
            xs = _mm256_add_ps(xs, _mm256_loadu_ps(xg + c));
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) {
            const uint8_t *b = w + (size_t)i * rb + (size_t)g * bb;
            const uint8_t *p = b + (fmt == RT_WQ_TERNARY ? 4 : 5);
            _mm_prefetch((const char *)b + WQ_GV_AHEAD, _MM_HINT_T0);
            const float *nz = &negz[fmt == RT_WQ_TERNARY ? 1 : b[4]];
            __m256 t = _mm256_mul_ps(xs, _mm256_broadcast_ss(nz));
            __m256 t1 = _mm256_setzero_ps();
            if (fmt == RT_WQ_INT2 || fmt == RT_WQ_TERNARY) {
                /* byte j holds elements j + i*gp/4 in bits 2i..2i+1 */
                int q4 = group / 4; /* a multiple of 8 */
#pragma GCC unroll 4
                for (int c = 0; c < q4; c += 8) {
                    __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + c)));
                    for (int e = 0; e < 4; e++) {
                        __m256 wv = _mm256_cvtepi32_ps(
                            _mm256_and_si256(_mm256_srli_epi32(q, 2 * e), _mm256_set1_epi32(3)));
                        __m256 xv = _mm256_loadu_ps(xg + e * q4 + c);
                        if (e & 1)
                            t1 = _mm256_fmadd_ps(xv, wv, t1);
                        else
                            t = _mm256_fmadd_ps(xv, wv, t);
                    }
                }
            } else if (fmt == RT_WQ_INT8) {
#pragma GCC unroll 16
                for (int c = 0; c < group; c += 8) {
                    __m256 q = _mm256_cvtepi32_ps(
                        _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + c))));
                    if (c & 8)
                        t1 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + c), q, t1);
                    else
                        t = _mm256_fmadd_ps(_mm256_loadu_ps(xg + c), q, t);
                }
            } else {
#pragma GCC unroll 8
                for (int c = 0; c < half; c += 8) {
                    __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + c)));
                    __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(q, m15));
                    __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(q, 4));
                    t = _mm256_fmadd_ps(_mm256_loadu_ps(xg + c), lo, t);
                    t1 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + c + half), hi, t1);
                }
            }
            float s;
            memcpy(&s, b, 4);
            acc[i] = _mm256_fmadd_ps(_mm256_add_ps(t, t1), _mm256_set1_ps(s), acc[i]);
        }
    }
    for (int i = 0; i < R; i++) {
        __m128 v = _mm_add_ps(_mm256_castps256_ps128(acc[i]), _mm256_extractf128_ps(acc[i], 1));
        v = _mm_add_ps(v, _mm_movehl_ps(v, v));
        out[i] = _mm_cvtss_f32(_mm_add_ss(v, _mm_movehdup_ps(v)));
    }
}
#define GV_KERNEL rows256
#endif

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
/* The kernel with the format, the row count and the usual groups
 * constants, so each inner loop is straight code. */
#define GV_R(fmt_, g_)                                                                            \
    switch (r) {                                                                                  \
    case 4: GV_KERNEL(fmt_, g_, w, rb, bb, full, x, out, 4); break;                               \
    case 3: GV_KERNEL(fmt_, g_, w, rb, bb, full, x, out, 3); break;                               \
    case 2: GV_KERNEL(fmt_, g_, w, rb, bb, full, x, out, 2); break;                               \
    default: GV_KERNEL(fmt_, g_, w, rb, bb, full, x, out, 1); break;                              \
    }
#define GV_ROWS(name, fmt_)                                                                       \
    static HOT void name(int group, const uint8_t *w, size_t rb, size_t bb, int64_t full,         \
                         const float *x, float *out, int r)                                       \
    {                                                                                             \
        if (group == 32)                                                                          \
            GV_R(fmt_, 32)                                                                        \
        else if (group == 64)                                                                     \
            GV_R(fmt_, 64)                                                                        \
        else if (group == 128)                                                                    \
            GV_R(fmt_, 128)                                                                       \
        else                                                                                      \
            GV_R(fmt_, group)                                                                     \
    }
GV_ROWS(rows_int4, RT_WQ_INT4)
GV_ROWS(rows_int8, RT_WQ_INT8)
GV_ROWS(rows_int2, RT_WQ_INT2)
GV_ROWS(rows_ternary, RT_WQ_TERNARY)
#if defined(__AVX512F__)
GV_ROWS(rows_mxfp4, RT_WQ_MXFP4)
#endif
#undef GV_R
#undef GV_ROWS
#undef GV_KERNEL
#endif

int wq_gemv_full(int fmt, int group, int64_t k, const uint8_t *w, int64_t r0, int64_t r1,
                 const float *x, float *acc)
{
    int64_t full = k / group;
    if (full < 1)
        return 0;
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
    void (*rows)(int, const uint8_t *, size_t, size_t, int64_t, const float *, float *, int);
#if defined(__AVX512F__)
    if ((fmt == RT_WQ_INT4 || fmt == RT_WQ_MXFP4) && group % 32 == 0)
        rows = fmt == RT_WQ_INT4 ? rows_int4 : rows_mxfp4;
    else if (fmt == RT_WQ_INT8 && group % 16 == 0)
        rows = rows_int8;
    else if ((fmt == RT_WQ_INT2 || fmt == RT_WQ_TERNARY) && (group == 32 || group % 64 == 0))
        rows = fmt == RT_WQ_INT2 ? rows_int2 : rows_ternary;
#else
    if (fmt == RT_WQ_INT4 && group % 16 == 0)
        rows = rows_int4;
    else if (fmt == RT_WQ_INT8 && group % 8 == 0)
        rows = rows_int8;
    else if ((fmt == RT_WQ_INT2 || fmt == RT_WQ_TERNARY) && group % 32 == 0)
        rows = fmt == RT_WQ_INT2 ? rows_int2 : rows_ternary;
#endif
    else
        return 0;
    size_t bb = rt_wq_block_bytes(fmt, group), rb = bb * (size_t)((k + group - 1) / group);
    for (int64_t r = r0; r < r1; r += WQ_GV_ROWS) {
        int n = (int)(r1 - r < WQ_GV_ROWS ? r1 - r : WQ_GV_ROWS);
        rows(group, w + (size_t)r * rb, rb, bb, full, x, acc + (r - r0), n);
    }
    return 1;
#else
    (void)fmt, (void)w, (void)r0, (void)r1, (void)x, (void)acc;
    return 0;
#endif
}
