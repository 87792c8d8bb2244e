/* k_wq_gemv8.c: MatMulWQ with int8 activations (act_bits 8): int8, int4 and int2 weights against X quantized per group, summed in int32. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "k_wq.h"
#include "k_wq_internal.h"
#include "rt_internal.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define A8_SIMD 1
#else
#define A8_SIMD 0
#endif

/* Why: at one row of X the float kernels (k_wq_gemv.c) are bound by the
 * decode, not by memory: each weight becomes a float and meets an FMA. With
 * X's row quantized once per call to int8, a scale s_x per weight group
 * (llama.cpp's Q8 activations, ONNX Runtime's MatMulNBits accuracy_level 4),
 * a group is one integer dot product of the raw codes q (unsigned) with the
 * int8 x (signed) - VPDPBUSD, four products per int32 lane - and
 *     y += s_w * s_x * (sum_k q_k x_k - z * sum_k x_k),
 * the zero-point term one VPDPWSSD of z (in every word) against the group's
 * -sum x spread over the low 8 words. With VNNI an int4 group of 32 is one
 * broadcast of its 16 bytes to both halves of a vector and one and with
 * 0x0f (low half) / 0xf0 (high half): no shift, the high nibbles' lanes
 * come out 16 times too large and their scale is s_x / 16 (exact: a power
 * of two). So a group of 32 int4 weights is a broadcast load, an and, two
 * dot products and the convert-scale-accumulate. (vpmaddubsw's int16 pair
 * sums would overflow on 0xf0 * 127 * 2: AVX2 shifts.) The integers are exact:
 * every path (AVX-512 VNNI, AVX-VNNI, AVX2 with vpmaddubsw/vpmaddwd, the
 * portable C) forms the same int32 per group; the floats differ by the
 * order of the additions only. */

/* Quantized X on the stack (no allocation on the inference path): rows
 * times K padded to whole groups, and per group its scale and sums. Larger
 * products keep float activations (the caller's path). */
#define A8_MAX_BYTES 32768
#define A8_MAX_BLOCKS 1024
#define A8_MAX_M 8
/* Rows of W per pass over the rows of X: with M > 1 the rows are read from
 * memory for the first row of X and from L1/L2 for the others. */
#define A8_CHUNK 16
/* Rows of W per kernel pass (independent chains, x's chunk loaded once for
 * all): 8 where AVX-512's 32 vector registers hold their sums (5% over 4
 * at K = N = 4096), 4 in AVX2's 16. */
#if defined(__AVX512F__)
#define A8_ROWS 8
#else
#define A8_ROWS 4
#endif
#ifndef A8_AHEAD
#define A8_AHEAD 256
#endif

typedef struct A8Job {
    const WqJob *j;
    int chunked;                 /* xq in the vector kernels' order (wq_a8_elem) */
    int64_t kp;                  /* K padded to whole groups */
    const int8_t *xq;            /* m rows of kp */
    const float *sx;             /* m * ng scales of X */
    const int32_t *sum;          /* m * ng sums of xq over a group */
    const int16_t *ns;           /* m * ng * 16: -sum spread over 16 words */
} A8Job;

int wq_a8_takes(int fmt, int64_t m, int64_t k, int group)
{
    if (fmt != RT_WQ_INT8 && fmt != RT_WQ_INT4 && fmt != RT_WQ_INT2)
        return 0;
    if (m < 1 || m > A8_MAX_M || k < 1 || group < 1)
        return 0;
    int64_t ng = (k + group - 1) / group;
    return m * ng * group <= A8_MAX_BYTES && m * ng <= A8_MAX_BLOCKS;
}

const char *wq_a8_isa(void)
{
#if A8_SIMD && defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return "avx512vnni";
#elif A8_SIMD && defined(__AVXVNNI__)
    return "avxvnni";
#elif A8_SIMD
    return "avx2";
#else
    return "c";
#endif
}

/* Whether the vector kernels take the group: whole 32-code chunks, and the
 * group's -sum (at most group * 127) spread over 8 int16 words. */
static int chunked_group(int group)
{
    return group % 32 == 0 && group <= 2048;
}

int wq_a8_elem(int fmt, int group, int e)
{
    int c = e / 32, t = e % 32;
    switch (fmt) {
    case RT_WQ_INT4: /* 16 bytes: elements 16c.. (low nibbles), group/2 + 16c.. (high) */
        return t < 16 ? 16 * c + t : group / 2 + 16 * c + t - 16;
    case RT_WQ_INT2: /* 8 bytes: elements 8c + i * group/4 .. in bits 2i, 2i+1 */
        return 8 * c + t / 8 * (group / 4) + t % 8;
    default:
        return e;
    }
}

int wq_a8_quantize_row(int fmt, int group, int chunked, const float *x, int64_t k, int8_t *xq,
                       float *sx, int32_t *sum, int16_t *ns)
{
    int64_t ng = (k + group - 1) / group;
    int8_t tmp[2048]; /* a chunked group in k order (chunked_group: <= 2048) */
    for (int64_t g = 0; g < ng; g++) {
        const float *xg = x + g * group;
        int len = (int)(k - g * group < group ? k - g * group : group);
        /* max |x| on the bit patterns (ordered as the magnitudes; NaN and
         * infinity above FLT_MAX's): an integer max the compiler vectorizes,
         * where a float one is a serial chain of maxss */
        uint32_t mbits = 0;
        for (int i = 0; i < len; i++) {
            uint32_t u;
            memcpy(&u, xg + i, 4);
            u &= 0x7fffffffu;
            mbits = u > mbits ? u : mbits;
        }
        if (mbits > 0x7f7fffffu)
            return -1; /* NaN or infinity */
        float amax;
        memcpy(&amax, &mbits, 4);
        float s = amax / 127.0f;
        int8_t *q = xq + g * group, *o = chunked && fmt != RT_WQ_INT8 ? tmp : q;
        int32_t total = 0;
        if (s > 0.0f) {
            for (int i = 0; i < len; i++) {
                float r = rintf(xg[i] / s);
                r = r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r;
                o[i] = (int8_t)(int)r;
            }
        } else {
            memset(o, 0, (size_t)len);
        }
        memset(o + len, 0, (size_t)(group - len));
        for (int i = 0; i < len; i++)
            total += o[i];
        if (o == tmp) /* the vector kernels' order (wq_a8_elem) */
            for (int c = 0; c < group / 32; c++) {
                if (fmt == RT_WQ_INT4) {
                    memcpy(q + 32 * c, tmp + 16 * c, 16);
                    memcpy(q + 32 * c + 16, tmp + group / 2 + 16 * c, 16);
                } else {
                    for (int i = 0; i < 4; i++)
                        memcpy(q + 32 * c + 8 * i, tmp + 8 * c + i * (group / 4), 8);
                }
            }
        sx[g] = s;
        sum[g] = total;
        if (ns) { /* -total over the low 8 words (the vector's low half: scale s_x
                     on every path), each within int16 for group <= 2048 */
            int32_t neg = -total, part = neg / 8;
            for (int w = 0; w < 16; w++)
                ns[g * 16 + w] = (int16_t)(w < 8 ? part : 0);
            ns[g * 16] = (int16_t)(neg - 7 * part);
        }
    }
    return 0;
}

/* The portable kernel: rows [0, nr) of W at w (row stride rb) against one
 * quantized row of X; the same integers as the vector kernels. */
static void a8_rows_c(const A8Job *a, const uint8_t *w, size_t rb, int nr, int mi, float *out)
{
    const WqJob *j = a->j;
    const int8_t *xq = a->xq + mi * a->kp;
    const float *sx = a->sx + mi * j->ng;
    const int32_t *sum = a->sum + mi * j->ng;
    for (int r = 0; r < nr; r++) {
        float acc = 0.0f;
        for (int64_t g = 0; g < j->ng; g++) {
            const uint8_t *b = w + (size_t)r * rb + (size_t)g * j->bb;
            const int8_t *xg = xq + g * j->group;
            int32_t dot = 0;
            for (int e = 0; e < j->group; e++) {
                int i = a->chunked ? wq_a8_elem(j->fmt, j->group, e) : e;
                dot += wq_code_at(j->fmt, j->group, b + j->hdr, i) * xg[e];
            }
            dot -= (int32_t)b[4] * sum[g];
            float s;
            memcpy(&s, b, 4);
            acc += (float)dot * (s * sx[g]);
        }
        out[r] = acc;
    }
}

#if A8_SIMD
/* d + the u8 x s8 products of u and s, four to an int32 lane. Without VNNI
 * vpmaddubsw's int16 pair sums hold int4 and int2 codes (2 * 15 * 127)
 * but not int8's: those are widened to int16 first (dot_u8s8_wide). */
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define dot_u8s8(d, u, s) _mm256_dpbusd_epi32(d, u, s)
#define dot_i16(d, a, b) _mm256_dpwssd_epi32(d, a, b)
#define A8_VNNI 1
#elif defined(__AVXVNNI__)
#define dot_u8s8(d, u, s) _mm256_dpbusd_avx_epi32(d, u, s)
#define dot_i16(d, a, b) _mm256_dpwssd_avx_epi32(d, a, b)
#define A8_VNNI 1
#else
#define dot_u8s8(d, u, s)                                                                         \
    _mm256_add_epi32(d, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)))
#define dot_i16(d, a, b) _mm256_add_epi32(d, _mm256_madd_epi16(a, b))
#define A8_VNNI 0
#endif

/* ztab[z] = z in both words of an int32: a zero point broadcast from memory
 * (a load, no shuffle) for the VPDPWSSD against the group's -sum. */
#define Z1(z) ((int32_t)((z) * 0x10001u))
#define Z4(z) Z1(z), Z1((z) + 1), Z1((z) + 2), Z1((z) + 3)
#define Z16(z) Z4(z), Z4((z) + 4), Z4((z) + 8), Z4((z) + 12)
#define Z64(z) Z16(z), Z16((z) + 16), Z16((z) + 32), Z16((z) + 48)
static const int32_t ztab[256] = {Z64(0), Z64(64), Z64(128), Z64(192)};
#undef Z1
#undef Z4
#undef Z16
#undef Z64

#if !A8_VNNI /* only the plain AVX2 path widens int8 codes */
static inline __m256i dot_u8s8_wide(__m256i d, __m256i u, __m256i s)
{
    __m256i u0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(u));
    __m256i u1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(u, 1));
    __m256i s0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(s));
    __m256i s1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(s, 1));
    return _mm256_add_epi32(d, _mm256_add_epi32(_mm256_madd_epi16(u0, s0),
                                                _mm256_madd_epi16(u1, s1)));
}
#endif

/* v held in a register from here (the compiler would fold its load into
 * every instruction that reads it). */
#define A8_REG(v) __asm__("" : "+x"(v))

/* Rows [0, R) of W against one quantized row over all ng groups (group a
 * multiple of 32): out[i] = sum over groups s_w s_x (q . x - z sum x). */
static inline __attribute__((always_inline)) void a8_rows256(int fmt, int group,
                                                            const uint8_t *w, size_t rb,
                                                            size_t bb, int64_t ng,
                                                            const int8_t *xq, const float *sx,
                                                            const int16_t *ns, float *out,
                                                            const int R)
{
    __m256 acc[A8_ROWS];
    for (int i = 0; i < R; i++)
        acc[i] = _mm256_setzero_ps();
    const __m256i m0f = _mm256_set1_epi8(0x0f), m03 = _mm256_set1_epi8(3);
    const __m256i sh4 = _mm256_setr_epi64x(0, 0, 4, 4), sh2 = _mm256_setr_epi64x(0, 2, 4, 6);
#if A8_VNNI
    /* int4: the low half's nibbles as they are, the high half's in place */
    const int64_t lo4 = 0x0f0f0f0f0f0f0f0f, hi4 = (int64_t)0xf0f0f0f0f0f0f0f0;
    const __m256i mlh = _mm256_setr_epi64x(lo4, lo4, hi4, hi4);
    const __m256 half = fmt == RT_WQ_INT4 ? _mm256_setr_ps(1, 1, 1, 1, 0.0625f, 0.0625f, 0.0625f,
                                                           0.0625f)
                                          : _mm256_set1_ps(1.0f);
#else
    const __m256 half = _mm256_set1_ps(1.0f);
#endif
    (void)sh4, (void)m0f;
#pragma GCC unroll 2
    for (int64_t g = 0; g < ng; g++) {
        const int8_t *xg = xq + g * group;
        __m256i nsv = _mm256_loadu_si256((const __m256i *)(ns + g * 16));
        const __m256 sxg = _mm256_mul_ps(_mm256_set1_ps(sx[g]), half);
        const uint8_t *b0 = w + (size_t)g * bb;
        __m256i d[A8_ROWS];
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) {
            d[i] = _mm256_setzero_si256();
            if (!(g & 1) || bb > 32) /* blocks of 21 bytes: every other one meets a new line */
                _mm_prefetch((const char *)b0 + (size_t)i * rb + A8_AHEAD, _MM_HINT_T0);
        }
        /* x's chunk and the sums in registers for all the rows (one load
         * each, not a memory operand per row: the loads are what bound) */
        A8_REG(nsv);
#pragma GCC unroll 8
        for (int c = 0; c < group / 32; c++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xg + 32 * c));
            A8_REG(xv);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) {
                const uint8_t *p = b0 + (size_t)i * rb + 5;
                if (fmt == RT_WQ_INT4) {
                    __m256i u = _mm256_broadcastsi128_si256(
                        _mm_loadu_si128((const __m128i *)(p + 16 * c)));
#if A8_VNNI
                    d[i] = dot_u8s8(d[i], _mm256_and_si256(u, mlh), xv);
#else
                    d[i] = dot_u8s8(d[i], _mm256_and_si256(_mm256_srlv_epi64(u, sh4), m0f), xv);
#endif
                } else if (fmt == RT_WQ_INT2) {
                    int64_t v;
                    memcpy(&v, p + 8 * c, 8);
                    __m256i u = _mm256_set1_epi64x(v);
                    d[i] = dot_u8s8(d[i], _mm256_and_si256(_mm256_srlv_epi64(u, sh2), m03), xv);
                } else {
                    __m256i u = _mm256_loadu_si256((const __m256i *)(p + 32 * c));
#if A8_VNNI
                    d[i] = dot_u8s8(d[i], u, xv);
#else
                    d[i] = dot_u8s8_wide(d[i], u, xv);
#endif
                }
            }
        }
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) {
            const uint8_t *b = b0 + (size_t)i * rb;
            __m256i di = dot_i16(d[i], _mm256_set1_epi32(ztab[b[4]]), nsv);
            float s;
            memcpy(&s, b, 4);
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(di), _mm256_mul_ps(_mm256_set1_ps(s), sxg),
                                     acc[i]);
        }
    }
    for (int i = 0; i < R; i++) {
        __m128 v = _mm_add_ps(_mm256_castps256_ps128(acc[i]), _mm256_extractf128_ps(acc[i], 1));
        v = _mm_add_ps(v, _mm_movehl_ps(v, v));
        out[i] = _mm_cvtss_f32(_mm_add_ss(v, _mm_movehdup_ps(v)));
    }
}

/* The kernel per format and row count, the usual groups as constants. */
#if A8_ROWS == 8
#define A8_R8(fmt_, g_)                                                                           \
    case 8: a8_rows256(fmt_, g_, w, rb, bb, ng, xq, sx, ns, out, 8); break;                       \
    case 7: a8_rows256(fmt_, g_, w, rb, bb, ng, xq, sx, ns, out, 7); break;                       \
    case 6: a8_rows256(fmt_, g_, w, rb, bb, ng, xq, sx, ns, out, 6); break;                       \
    case 5: a8_rows256(fmt_, g_, w, rb, bb, ng, xq, sx, ns, out, 5); break;
#else
#define A8_R8(fmt_, g_)
#endif
#define A8_R(fmt_, g_)                                                                            \
    switch (r) {                                                                                  \
    A8_R8(fmt_, g_)                                                                               \
    case 4: a8_rows256(fmt_, g_, w, rb, bb, ng, xq, sx, ns, out, 4); break;                       \
    case 3: a8_rows256(fmt_, g_, w, rb, bb, ng, xq, sx, ns, out, 3); break;                       \
    case 2: a8_rows256(fmt_, g_, w, rb, bb, ng, xq, sx, ns, out, 2); break;                       \
    default: a8_rows256(fmt_, g_, w, rb, bb, ng, xq, sx, ns, out, 1); break;                      \
    }
#define A8_FMT(name, fmt_)                                                                        \
    static void name(int group, const uint8_t *w, size_t rb, size_t bb, int64_t ng,               \
                     const int8_t *xq, const float *sx, const int16_t *ns, float *out, int r)     \
    {                                                                                             \
        if (group == 32)                                                                          \
            A8_R(fmt_, 32)                                                                        \
        else if (group == 64)                                                                     \
            A8_R(fmt_, 64)                                                                        \
        else if (group == 128)                                                                    \
            A8_R(fmt_, 128)                                                                       \
        else                                                                                      \
            A8_R(fmt_, group)                                                                     \
    }
A8_FMT(a8_int4, RT_WQ_INT4)
A8_FMT(a8_int8, RT_WQ_INT8)
A8_FMT(a8_int2, RT_WQ_INT2)
#undef A8_R
#undef A8_R8
#undef A8_FMT
#endif

/* Rows [lo, hi) of W: A8_CHUNK at a time, each against every row of X. */
static void a8_range(void *ctx, int64_t lo, int64_t hi)
{
    const A8Job *a = ctx;
    const WqJob *j = a->j;
    size_t rb = j->bb * (size_t)j->ng;
    float acc[A8_ROWS];
    for (int64_t r0 = lo; r0 < hi; r0 += A8_CHUNK) {
        int64_t r1 = hi - r0 < A8_CHUNK ? hi : r0 + A8_CHUNK;
        for (int64_t mi = 0; mi < j->m; mi++)
            for (int64_t r = r0; r < r1; r += A8_ROWS) {
                int nr = (int)(r1 - r < A8_ROWS ? r1 - r : A8_ROWS);
                const uint8_t *w = j->w + (size_t)r * rb;
#if A8_SIMD
                if (a->chunked) {
                    void (*k)(int, const uint8_t *, size_t, size_t, int64_t, const int8_t *,
                              const float *, const int16_t *, float *, int) =
                        j->fmt == RT_WQ_INT4 ? a8_int4 : j->fmt == RT_WQ_INT8 ? a8_int8 : a8_int2;
                    k(j->group, w, rb, j->bb, j->ng, a->xq + mi * a->kp, a->sx + mi * j->ng,
                      a->ns + mi * j->ng * 16, acc, nr);
                } else {
                    a8_rows_c(a, w, rb, nr, (int)mi, acc);
                }
#else
                a8_rows_c(a, w, rb, nr, (int)mi, acc);
#endif
                for (int i = 0; i < nr; i++)
                    j->y[mi * j->ldy + r + i] =
                        j->ts * acc[i] + (j->bias ? j->bias[r + i] : 0.0f);
            }
    }
}

int wq_matmul_a8(const WqJob *j)
{
    if (!wq_a8_takes(j->fmt, j->m, j->k, j->group))
        return 0;
    _Alignas(32) int8_t xq[A8_MAX_BYTES];
    _Alignas(32) int16_t ns[A8_MAX_BLOCKS * 16];
    float sx[A8_MAX_BLOCKS];
    int32_t sum[A8_MAX_BLOCKS];
    A8Job a = {j, chunked_group(j->group), j->ng * j->group, xq, sx, sum, ns};
    for (int64_t mi = 0; mi < j->m; mi++)
        if (wq_a8_quantize_row(j->fmt, j->group, a.chunked, j->x + mi * j->k, j->k,
                               xq + mi * a.kp, sx + mi * j->ng, sum + mi * j->ng,
                               ns + mi * j->ng * 16) < 0)
            return 0; /* X not finite: the float path gives its NaN or infinity */
    rt_parallel_for(j->ldy, 64, a8_range, &a);
    return 1;
}
