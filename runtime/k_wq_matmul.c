/* k_wq_matmul.c: MatMulWQ, a float matrix times packed weight-only quantized weights, decoded in registers. */
#include <math.h>
#include <string.h>

#include "k_wq.h"
#include "k_wq_internal.h"
#include "rt_internal.h"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

/* Rows of X the matrix-vector path takes at once: each decoded weight
 * vector is used by every one of them while it is in registers. */
#define WQ_MV_ROWS 4
/* Decoded weights per chunk of the portable path and of the tile of M > 4
 * (WQ_TILE_N rows of WQ_CHUNK floats: 4 KB, well inside L1). */
#define WQ_CHUNK 256
#define WQ_TILE_N 4

static const float e2m1_val[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6,
                                   -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};

/* E4M3 (OCP FN: no infinity, S.1111.111 NaN) to float by its fields. */
static inline float e4m3_val(unsigned c)
{
    unsigned e = c >> 3 & 15, m = c & 7;
    float v;
    if ((c & 0x7f) == 0x7f)
        v = NAN;
    else if (e)
        v = ldexpf((float)(8 + m), (int)e - 10);
    else
        v = ldexpf((float)m, -9);
    return c & 0x80 ? -v : v;
}

/* buf[i - i0] = elem(code i) - z for the codes i0 <= i < i1 of one group
 * (codes: the block's code bytes). */
static void decode_range(int fmt, int group, const uint8_t *p, int i0, int i1, float z, float *buf)
{
    int gp = wq_group_padded(fmt, group);
    float *o = buf - i0;
    switch (fmt) {
    case RT_WQ_INT8:
        for (int i = i0; i < i1; i++)
            o[i] = (float)p[i] - z;
        return;
    case RT_WQ_MXINT8:
        for (int i = i0; i < i1; i++)
            o[i] = (float)(int8_t)p[i] / 64.0f;
        return;
    case RT_WQ_MXFP8:
        for (int i = i0; i < i1; i++)
            o[i] = e4m3_val(p[i]);
        return;
    case RT_WQ_INT4: case RT_WQ_MXFP4: case RT_WQ_NVFP4: {
        int h = gp / 2;
        for (int i = i0; i < i1; i++) {
            unsigned q = (unsigned)(i < h ? p[i] & 15 : p[i - h] >> 4);
            o[i] = fmt == RT_WQ_INT4 ? (float)q - z : e2m1_val[q];
        }
        return;
    }
    case RT_WQ_INT2: case RT_WQ_TERNARY: {
        int q4 = gp / 4;
        float off = fmt == RT_WQ_TERNARY ? 1.0f : z;
        for (int i = i0; i < i1; i++)
            o[i] = (float)(p[i % q4] >> (i / q4 * 2) & 3) - off;
        return;
    }
    case RT_WQ_INT3: {
        int q4 = gp / 4, q8 = gp / 8;
        for (int i = i0; i < i1; i++)
            o[i] = (float)((p[i % q4] >> (i / q4 * 2) & 3) |
                           (p[q4 + i % q8] >> (i / q8) & 1) << 2) - z;
        return;
    }
    case RT_WQ_TERNARY5:
        for (int i = i0; i < i1;) {
            unsigned b = p[i / 5];
            for (int t = 0; t < i % 5; t++)
                b /= 3;
            for (int t = i % 5; t < 5 && i < i1; t++, i++, b /= 3)
                o[i] = (float)(b % 3) - 1.0f;
        }
        return;
    case RT_WQ_SHERRY:
        for (int i = i0; i < i1;) {
            int q = i / 4;
            int64_t bit = (int64_t)q * 5;
            unsigned c = (unsigned)(p[bit >> 3] | (bit + 5 > ((bit >> 3) + 1) * 8 ?
                                                   p[(bit >> 3) + 1] << 8 : 0));
            float v[4];
            wq_sherry_decode(c >> (bit & 7) & 31, v);
            for (; i < i1 && i / 4 == q; i++)
                o[i] = v[i % 4];
        }
        return;
    default:
        for (int i = i0; i < i1; i++)
            o[i] = 0.0f;
    }
}

/* sum x[i] * w[i] in eight interleaved partial sums, which the vectorizer
 * maps onto one register without reassociating anything itself. */
static HOT float dot(const float *x, const float *w, int n)
{
    float p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            p[l] += x[i + l] * w[i + l];
    for (; i < n; i++)
        p[0] += x[i] * w[i];
    return ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]));
}

typedef struct WqJob {
    int fmt, group;
    int64_t m, k, ng;
    size_t bb;                   /* bytes per block */
    float ts;
    const float *x;
    const uint8_t *w;
    const float *bias;
    float *y;
    int64_t ldy;                 /* N */
} WqJob;

static inline float block_zero(int fmt, const uint8_t *b)
{
    return fmt <= RT_WQ_INT2 ? (float)b[4] : 0.0f;
}

/* The portable matrix-vector rows: per group, decode a chunk, then one dot
 * product per row of X scaled by the group's scale. */
static void mv_generic(const WqJob *j, int64_t r, float *acc)
{
    float buf[WQ_CHUNK];
    int hdr = wq_block_header(j->fmt);
    const uint8_t *row = j->w + (size_t)r * j->bb * (size_t)j->ng;
    for (int64_t g = 0; g < j->ng; g++) {
        const uint8_t *b = row + (size_t)g * j->bb;
        float s = wq_block_scale(j->fmt, b), z = block_zero(j->fmt, b);
        int64_t k0 = g * j->group;
        int len = (int)(j->k - k0 < j->group ? j->k - k0 : j->group);
        for (int i0 = 0; i0 < len; i0 += WQ_CHUNK) {
            int i1 = len - i0 < WQ_CHUNK ? len : i0 + WQ_CHUNK;
            decode_range(j->fmt, j->group, b + hdr, i0, i1, z, buf);
            for (int64_t mi = 0; mi < j->m; mi++)
                acc[mi] += s * dot(j->x + mi * j->k + k0 + i0, buf, i1 - i0);
        }
    }
}

#if defined(__AVX512F__)
/* int4 / int8, whole groups of a multiple of 32: 16 codes per vector, the
 * weights s*q - s*z formed in registers and used by all rows of X. */
static void mv_int_avx512(const WqJob *j, int64_t r, float *acc)
{
    __m512 va[WQ_MV_ROWS] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                             _mm512_setzero_ps()};
    const uint8_t *row = j->w + (size_t)r * j->bb * (size_t)j->ng;
    int64_t m = j->m, full = j->k / j->group;
    int half = j->group / 2;
    const __m512i lo4 = _mm512_set1_epi32(15);
    for (int64_t g = 0; g < full; g++) {
        const uint8_t *b = row + (size_t)g * j->bb;
        float s, z = (float)b[4];
        memcpy(&s, b, 4);
        const __m512 vs = _mm512_set1_ps(s), vo = _mm512_set1_ps(-s * z);
        const uint8_t *p = b + 5;
        const float *x = j->x + g * j->group;
        if (j->fmt == RT_WQ_INT4) {
            for (int c = 0; c < half; c += 16) {
                __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + c)));
                __m512 w0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(q, lo4)), vs, vo);
                __m512 w1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(q, 4)), vs, vo);
                for (int64_t mi = 0; mi < m; mi++) {
                    const float *xm = x + mi * j->k + c;
                    va[mi] = _mm512_fmadd_ps(_mm512_loadu_ps(xm), w0, va[mi]);
                    va[mi] = _mm512_fmadd_ps(_mm512_loadu_ps(xm + half), w1, va[mi]);
                }
            }
        } else {
            for (int c = 0; c < j->group; c += 16) {
                __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + c)));
                __m512 w0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q), vs, vo);
                for (int64_t mi = 0; mi < m; mi++)
                    va[mi] = _mm512_fmadd_ps(_mm512_loadu_ps(x + mi * j->k + c), w0, va[mi]);
            }
        }
    }
    for (int64_t mi = 0; mi < m; mi++)
        acc[mi] += _mm512_reduce_add_ps(va[mi]);
}
#elif defined(__AVX2__) && defined(__FMA__)
static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* int4 / int8 as above, 8 codes per vector. */
static void mv_int_avx2(const WqJob *j, int64_t r, float *acc)
{
    __m256 va[WQ_MV_ROWS] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                             _mm256_setzero_ps()};
    const uint8_t *row = j->w + (size_t)r * j->bb * (size_t)j->ng;
    int64_t m = j->m, full = j->k / j->group;
    int half = j->group / 2;
    const __m256i lo4 = _mm256_set1_epi32(15);
    for (int64_t g = 0; g < full; g++) {
        const uint8_t *b = row + (size_t)g * j->bb;
        float s, z = (float)b[4];
        memcpy(&s, b, 4);
        const __m256 vs = _mm256_set1_ps(s), vo = _mm256_set1_ps(-s * z);
        const uint8_t *p = b + 5;
        const float *x = j->x + g * j->group;
        if (j->fmt == RT_WQ_INT4) {
            for (int c = 0; c < half; c += 8) {
                __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + c)));
                __m256 w0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(q, lo4)), vs, vo);
                __m256 w1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(q, 4)), vs, vo);
                for (int64_t mi = 0; mi < m; mi++) {
                    const float *xm = x + mi * j->k + c;
                    va[mi] = _mm256_fmadd_ps(_mm256_loadu_ps(xm), w0, va[mi]);
                    va[mi] = _mm256_fmadd_ps(_mm256_loadu_ps(xm + half), w1, va[mi]);
                }
            }
        } else {
            for (int c = 0; c < j->group; c += 8) {
                __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + c)));
                __m256 w0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), vs, vo);
                for (int64_t mi = 0; mi < m; mi++)
                    va[mi] = _mm256_fmadd_ps(_mm256_loadu_ps(x + mi * j->k + c), w0, va[mi]);
            }
        }
    }
    for (int64_t mi = 0; mi < m; mi++)
        acc[mi] += hsum256(va[mi]);
}
#endif

/* Whether the vector path takes this matrix: int4 or int8 with groups of a
 * multiple of 32 codes (so a group is whole vectors); a partial last group
 * goes through the portable path. */
static int vector_int(const WqJob *j)
{
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
    return (j->fmt == RT_WQ_INT4 || j->fmt == RT_WQ_INT8) && j->group % 32 == 0 &&
           j->k >= j->group;
#else
    (void)j;
    return 0;
#endif
}

/* The tail group of a matrix the vector path takes: the portable path on a
 * job narrowed to it. */
static void mv_tail(const WqJob *j, int64_t r, float *acc)
{
    int64_t full = j->k / j->group;
    if (full == j->ng)
        return;
    float buf[WQ_CHUNK];
    const uint8_t *b = j->w + (size_t)r * j->bb * (size_t)j->ng + (size_t)full * j->bb;
    float s = wq_block_scale(j->fmt, b), z = block_zero(j->fmt, b);
    int64_t k0 = full * j->group;
    int len = (int)(j->k - k0);
    for (int i0 = 0; i0 < len; i0 += WQ_CHUNK) {
        int i1 = len - i0 < WQ_CHUNK ? len : i0 + WQ_CHUNK;
        decode_range(j->fmt, j->group, b + wq_block_header(j->fmt), i0, i1, z, buf);
        for (int64_t mi = 0; mi < j->m; mi++)
            acc[mi] += s * dot(j->x + mi * j->k + k0 + i0, buf, i1 - i0);
    }
}

/* M <= 4: every row of W is read once, for all rows of X. */
static void mv_rows(void *ctx, int64_t lo, int64_t hi)
{
    const WqJob *j = ctx;
    int vec = vector_int(j);
    for (int64_t r = lo; r < hi; r++) {
        float acc[WQ_MV_ROWS] = {0, 0, 0, 0};
        if (vec) {
#if defined(__AVX512F__)
            mv_int_avx512(j, r, acc);
#elif defined(__AVX2__) && defined(__FMA__)
            mv_int_avx2(j, r, acc);
#endif
            mv_tail(j, r, acc);
        } else {
            mv_generic(j, r, acc);
        }
        for (int64_t mi = 0; mi < j->m; mi++)
            j->y[mi * j->ldy + r] = j->ts * acc[mi] + (j->bias ? j->bias[r] : 0.0f);
    }
}

/* M > 4: WQ_TILE_N rows of W decoded and scaled, WQ_CHUNK of K at a time,
 * into a stack tile; every row of X then takes its dot products with the
 * tile, reading each x once for the tile's rows. */
static HOT void tile_rows(void *ctx, int64_t lo, int64_t hi)
{
    const WqJob *j = ctx;
    float tile[WQ_TILE_N][WQ_CHUNK];
    int hdr = wq_block_header(j->fmt);
    for (int64_t r0 = lo; r0 < hi; r0 += WQ_TILE_N) {
        int nt = (int)(hi - r0 < WQ_TILE_N ? hi - r0 : WQ_TILE_N);
        for (int64_t mi = 0; mi < j->m; mi++)
            for (int t = 0; t < nt; t++)
                j->y[mi * j->ldy + r0 + t] = 0.0f;
        for (int64_t k0 = 0; k0 < j->k; k0 += WQ_CHUNK) {
            int kc = (int)(j->k - k0 < WQ_CHUNK ? j->k - k0 : WQ_CHUNK);
            for (int t = 0; t < nt; t++) {
                const uint8_t *row = j->w + (size_t)(r0 + t) * j->bb * (size_t)j->ng;
                for (int i = 0; i < kc;) { /* the groups the chunk spans */
                    int64_t kk = k0 + i, g = kk / j->group;
                    int gi = (int)(kk - g * j->group);
                    int glen = (int)(j->k - g * j->group < j->group ? j->k - g * j->group
                                                                    : j->group);
                    int take = glen - gi < kc - i ? glen - gi : kc - i;
                    const uint8_t *b = row + (size_t)g * j->bb;
                    float s = wq_block_scale(j->fmt, b);
                    decode_range(j->fmt, j->group, b + hdr, gi, gi + take, block_zero(j->fmt, b),
                                 tile[t] + i);
                    for (int q = i; q < i + take; q++)
                        tile[t][q] *= s;
                    i += take;
                }
            }
            for (int64_t mi = 0; mi < j->m; mi++) {
                const float *x = j->x + mi * j->k + k0;
                float d[WQ_TILE_N] = {0, 0, 0, 0};
                for (int i = 0; i < kc; i++)
                    for (int t = 0; t < WQ_TILE_N; t++)
                        d[t] += x[i] * tile[t][i];
                for (int t = 0; t < nt; t++)
                    j->y[mi * j->ldy + r0 + t] += d[t];
            }
        }
        for (int64_t mi = 0; mi < j->m; mi++)
            for (int t = 0; t < nt; t++) {
                float *yp = &j->y[mi * j->ldy + r0 + t];
                *yp = j->ts * *yp + (j->bias ? j->bias[r0 + t] : 0.0f);
            }
    }
}

void rt_wq_matmul(int fmt, int64_t m, int64_t n, int64_t k, int group, float tensor_scale,
                  const float *x, const uint8_t *w, const float *bias, float *y)
{
    WqJob j = {fmt, group, 0, k, (k + group - 1) / group, rt_wq_block_bytes(fmt, group),
               tensor_scale, x, w, bias, y, n};
    if (!j.bb || m < 1 || n < 1)
        return;
    if (m > WQ_MV_ROWS) {
        j.m = m;
        rt_parallel_for(n, 16, tile_rows, &j);
        return;
    }
    j.m = m;
    rt_parallel_for(n, 64, mv_rows, &j);
}

int rt_matmul_wq(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_ints < RT_WQ_NINTS)
        return RT_EINVAL;
    int fmt = (int)c->ints[RT_WQ_FORMAT], group = (int)c->ints[RT_WQ_GROUP];
    int64_t n = c->ints[RT_WQ_N], k = c->ints[RT_WQ_K];
    if (k < 1 || rt_numel(&c->in[0]) % k)
        return RT_EINVAL;
    int64_t m = rt_numel(&c->in[0]) / k;
    const float *bias = c->n_in > 2 && in[2] ? in[2] : NULL;
    rt_wq_matmul(fmt, m, n, k, group, rt_param_float(c, RT_WQ_F_TSCALE, 1.0f), in[0], in[1],
                 bias, out[0]);
    return 0;
}
