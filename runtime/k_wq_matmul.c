/* k_wq_matmul.c: MatMulWQ, a float matrix times packed weight-only quantized weights, decoded in registers. */
#include <math.h>
#include <string.h>

#include "k_wq.h"
#include "k_nn.h"
#include "k_wq_internal.h"
#include "rt_internal.h"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

/* Rows of X the matrix-vector path takes at once: each decoded weight
 * vector is used by every one of them while it is in registers. */
#define WQ_MV_ROWS 4
/* Decoded weights per chunk of the portable path (1 KB, inside L1). */
#define WQ_CHUNK 256
/* Rows of X above which the product goes through the shared GEMM with W
 * decoded into its packed panels (wq_pack_panels); at or below, the matrix-vector
 * paths read W once per WQ_MV_ROWS rows. The formats with a vector decoder
 * stay on it up to WQ_GEMM_M_VEC rows (K = N = 256, int4, AVX-512: M = 8
 * 0.03 ms there against 0.056 through the GEMM, even at M = 16); the
 * portable decoder goes to the GEMM as soon as X has more rows than one pass. */
#define WQ_GEMM_M WQ_MV_ROWS
/* Rows of W per call of the matrix-vector kernel at M = 1 (sums on the stack). */
#define WQ_GV_CHUNK 64
#define WQ_GEMM_M_VEC 8

static const float e2m1_val[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6,
                                   -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};

/* E4M3 (OCP FN: no infinity, S.1111.111 NaN) to float by its fields,
 * built as float32's bits (no libm call in the decoding loops). */
static inline float e4m3_val(unsigned c)
{
    unsigned e = c >> 3 & 15, m = c & 7;
    uint32_t bits = (c & 0x80u) << 24;
    float v;
    if ((c & 0x7f) == 0x7f)
        return NAN;
    if (e) {
        bits |= (e + 120u) << 23 | m << 20;
        memcpy(&v, &bits, 4);
        return v;
    }
    v = (float)m * 0x1p-9f;
    return c & 0x80 ? -v : v;
}

/* A TERNARY5 byte's five values (base-3 digits of code + 1, element 5j
 * least significant), a constant table (5 KB, in L1 while a matrix is
 * decoded): one copy per byte instead of five divisions. Bytes past 242
 * never come from the packing; they decode as the digit loop would. */
#define T5(b) {(float)((b) % 3) - 1, (float)((b) / 3 % 3) - 1, (float)((b) / 9 % 3) - 1,          \
               (float)((b) / 27 % 3) - 1, (float)((b) / 81 % 3) - 1}
#define T5x4(b) T5(b), T5((b) + 1), T5((b) + 2), T5((b) + 3)
#define T5x16(b) T5x4(b), T5x4((b) + 4), T5x4((b) + 8), T5x4((b) + 12)
#define T5x64(b) T5x16(b), T5x16((b) + 16), T5x16((b) + 32), T5x16((b) + 48)
static const float tern5_tab[256][5] = {T5x64(0), T5x64(64), T5x64(128), T5x64(192)};
#undef T5
#undef T5x4
#undef T5x16
#undef T5x64

/* The four values of a Sherry quad's 5-bit code (k_wq.h's layout). */
static const float sherry_tab[32][4] = {
    {0, 1, 1, 1}, {1, 0, 1, 1}, {1, 1, 0, 1}, {1, 1, 1, 0},
    {0, -1, 1, 1}, {-1, 0, 1, 1}, {-1, 1, 0, 1}, {-1, 1, 1, 0},
    {0, 1, -1, 1}, {1, 0, -1, 1}, {1, -1, 0, 1}, {1, -1, 1, 0},
    {0, -1, -1, 1}, {-1, 0, -1, 1}, {-1, -1, 0, 1}, {-1, -1, 1, 0},
    {0, 1, 1, -1}, {1, 0, 1, -1}, {1, 1, 0, -1}, {1, 1, -1, 0},
    {0, -1, 1, -1}, {-1, 0, 1, -1}, {-1, 1, 0, -1}, {-1, 1, -1, 0},
    {0, 1, -1, -1}, {1, 0, -1, -1}, {1, -1, 0, -1}, {1, -1, -1, 0},
    {0, -1, -1, -1}, {-1, 0, -1, -1}, {-1, -1, 0, -1}, {-1, -1, -1, 0},
};

/* A block's scale: float32, E8M0 (as float32's exponent field; 0 is
 * 2^-127, a subnormal) or E4M3. */
static inline float scale_of(int fmt, const uint8_t *b)
{
    float s;
    if (fmt <= RT_WQ_SHERRY) {
        memcpy(&s, b, 4);
        return s;
    }
    if (fmt == RT_WQ_NVFP4)
        return e4m3_val(b[0]);
    uint32_t bits = b[0] ? (uint32_t)b[0] << 23 : 0x00400000u;
    memcpy(&s, &bits, 4);
    return s;
}

/* buf[i] = elem(code i) - z for a whole group (i < gp, the padded length,
 * so buf holds at least gp floats): the layouts' planes in straight loops. */
static inline __attribute__((always_inline)) void decode_codes(int fmt, int group,
                                                              const uint8_t *restrict p, float z,
                                                              float *restrict o)
{
    int gp = wq_group_padded(fmt, group);
    switch (fmt) {
    case RT_WQ_INT8:
        for (int i = 0; i < gp; i++)
            o[i] = (float)p[i] - z;
        return;
    case RT_WQ_MXINT8:
        for (int i = 0; i < gp; i++)
            o[i] = (float)(int8_t)p[i] * (1.0f / 64.0f);
        return;
    case RT_WQ_MXFP8:
        for (int i = 0; i < gp; i++)
            o[i] = e4m3_val(p[i]);
        return;
    case RT_WQ_INT4: {
        int h = gp / 2;
        for (int i = 0; i < h; i++) {
            o[i] = (float)(p[i] & 15) - z;
            o[i + h] = (float)(p[i] >> 4) - z;
        }
        return;
    }
    case RT_WQ_MXFP4: case RT_WQ_NVFP4: {
        int h = gp / 2;
        for (int i = 0; i < h; i++) {
            o[i] = e2m1_val[p[i] & 15];
            o[i + h] = e2m1_val[p[i] >> 4];
        }
        return;
    }
    case RT_WQ_INT2: case RT_WQ_TERNARY: case RT_WQ_INT3: {
        int q = gp / 4;
        float off = fmt == RT_WQ_TERNARY ? 1.0f : z;
        for (int i = 0; i < q; i++) {
            o[i] = (float)(p[i] & 3) - off;
            o[i + q] = (float)(p[i] >> 2 & 3) - off;
            o[i + 2 * q] = (float)(p[i] >> 4 & 3) - off;
            o[i + 3 * q] = (float)(p[i] >> 6) - off;
        }
        if (fmt == RT_WQ_INT3) { /* the high bits' plane adds 4 */
            int e = gp / 8;
            for (int t = 0; t < 8; t++)
                for (int i = 0; i < e; i++)
                    o[i + t * e] += (float)((p[q + i] >> t & 1) * 4);
        }
        return;
    }
    case RT_WQ_TERNARY5:
        for (int j = 0; j * 5 < gp; j++)
            memcpy(o + j * 5, tern5_tab[p[j]], sizeof tern5_tab[0]);
        return;
    case RT_WQ_SHERRY: {
        int q = 0;
        /* eight quads per step: 40 bits, 5 whole bytes, gathered into one
         * word, so no quad's code needs a test for straddling a byte */
        for (; (q + 8) * 4 <= gp; q += 8) {
            const uint8_t *b = p + q / 8 * 5;
            uint64_t v = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
                         (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32;
            for (int t = 0; t < 8; t++)
                memcpy(o + (q + t) * 4, sherry_tab[v >> (5 * t) & 31], sizeof sherry_tab[0]);
        }
        for (; q * 4 < gp; q++) {
            int bit = q * 5;
            unsigned c = p[bit >> 3] | (unsigned)((bit & 7) > 3 ? p[(bit >> 3) + 1] << 8 : 0);
            memcpy(o + q * 4, sherry_tab[c >> (bit & 7) & 31], sizeof sherry_tab[0]);
        }
        return;
    }
    }
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
            const float *v = sherry_tab[c >> (bit & 7) & 31];
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
static HOT float dot(const float *restrict x, const float *restrict w, int n)
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

/* decode_codes as a call, for any group */
static HOT void decode_any(int fmt, int group, const uint8_t *p, float z, float *o)
{
    decode_codes(fmt, group, p, z, o);
}

/* A whole group scaled: buf[i] = s * (elem(code i) - z), i < gp. The
 * default groups are decoded with their length a constant: the planes of a
 * group of 32 are 8 or 16 bytes, too short for a loop the vectorizer takes
 * unless it knows the count. */
static HOT void decode_group(int fmt, int group, const uint8_t *p, float z, float s, float *o)
{
    if (group == 32)
        decode_codes(fmt, 32, p, z, o);
    else if (group == 16)
        decode_codes(fmt, 16, p, z, o);
    else
        decode_codes(fmt, group, p, z, o);
    int gp = wq_group_padded(fmt, group);
    for (int i = 0; i < gp; i++)
        o[i] *= s;
}

static inline float block_zero(int fmt, const uint8_t *b)
{
    return fmt <= RT_WQ_INT2 ? (float)b[4] : 0.0f;
}

/* Rows x[0..m) of X (x at column 0) against row r of W from
 * group g0 on: acc[mi] += x . w. Groups that tile K without padding are
 * decoded (scaled) WQ_CHUNK floats at a time and met with one dot product
 * per row of X; others one group at a time, in pieces if long. */
static void mv_generic(const WqJob *j, int64_t r, int64_t g0, const float *x, int64_t m,
                       float *acc)
{
    float buf[WQ_CHUNK + 8];
    const uint8_t *row = j->w + (size_t)r * j->bb * (size_t)j->ng;
    int per = j->gp == j->group && j->group <= WQ_CHUNK ? WQ_CHUNK / j->group : 0;
    for (int64_t g = g0; g < j->ng;) {
        const uint8_t *b = row + (size_t)g * j->bb;
        int64_t k0 = g * j->group;
        const float *xg = x + k0;
        if (per) {
            int64_t ge = g + per < j->ng ? g + per : j->ng;
            for (int64_t q = g; q < ge; q++) {
                const uint8_t *bq = row + (size_t)q * j->bb;
                decode_group(j->fmt, j->group, bq + j->hdr, block_zero(j->fmt, bq),
                             scale_of(j->fmt, bq), buf + (q - g) * j->group);
            }
            int len = (int)((ge * j->group < j->k ? ge * j->group : j->k) - k0);
            for (int64_t mi = 0; mi < m; mi++)
                acc[mi] += dot(xg + mi * j->k, buf, len);
            g = ge;
            continue;
        }
        float s = scale_of(j->fmt, b), z = block_zero(j->fmt, b);
        int len = (int)(j->k - k0 < j->group ? j->k - k0 : j->group);
        for (int i0 = 0; i0 < len; i0 += WQ_CHUNK) {
            int i1 = len - i0 < WQ_CHUNK ? len : i0 + WQ_CHUNK;
            if (j->gp <= WQ_CHUNK)
                decode_any(j->fmt, j->group, b + j->hdr, z, buf);
            else
                decode_range(j->fmt, j->group, b + j->hdr, i0, i1, z, buf);
            for (int64_t mi = 0; mi < m; mi++)
                acc[mi] += s * dot(xg + mi * j->k + i0, buf, i1 - i0);
        }
        g++;
    }
}

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#if defined(__AVX512F__)
typedef __m512 vf;
#define VL 16
#define VZERO() _mm512_setzero_ps()
#define VSET1(v) _mm512_set1_ps(v)
#define VLOAD(p) _mm512_loadu_ps(p)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VADD(a, b) _mm512_add_ps(a, b)
static inline float vhsum(vf v)
{
    return _mm512_reduce_add_ps(v);
}
static inline vf dec8(const uint8_t *p, vf vs, vf vo)
{
    __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
    return VFMA(_mm512_cvtepi32_ps(q), vs, vo);
}
/* The 16 values an int4 code of the group stands for, s*q - s*z for q =
 * 0..15: one register, so the codes decode by vpermps (which reads only an
 * index's low four bits: no mask, no conversion). */
#define WQ_INT4_TABLE 1
static inline vf tab4(vf vs, vf vo)
{
    return VFMA(_mm512_set_ps(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), vs, vo);
}
static inline void dec4t(const uint8_t *p, vf tab, vf *lo, vf *hi)
{
    __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
    *lo = _mm512_permutexvar_ps(q, tab);
    *hi = _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), tab);
}
#else
typedef __m256 vf;
#define VL 8
#define VZERO() _mm256_setzero_ps()
#define VSET1(v) _mm256_set1_ps(v)
#define VLOAD(p) _mm256_loadu_ps(p)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VADD(a, b) _mm256_add_ps(a, b)
static inline float vhsum(vf v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline void dec4(const uint8_t *p, vf vs, vf vo, vf *lo, vf *hi)
{
    __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
    *lo = VFMA(_mm256_cvtepi32_ps(_mm256_and_si256(q, _mm256_set1_epi32(15))), vs, vo);
    *hi = VFMA(_mm256_cvtepi32_ps(_mm256_srli_epi32(q, 4)), vs, vo);
}
static inline vf dec8(const uint8_t *p, vf vs, vf vo)
{
    return VFMA(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p))),
                vs, vo);
}
#endif

/* int4 / int8 rows, whole groups of a multiple of 32 codes: the weights
 * s*q - s*z formed in registers and used by all M rows of X at once. Each
 * row of X keeps two accumulator chains (the low and high runs of a group,
 * or even and odd vectors); with one row, odd groups take two more, so
 * four FMA chains hide the FMA latency. M is a constant in each caller, so
 * the accumulators stay in registers. */
static inline __attribute__((always_inline)) void mv_vec(const WqJob *j, int64_t r,
                                                         const float *x, float *acc, const int M)
{
    vf a[WQ_MV_ROWS][2], e0 = VZERO(), e1 = VZERO();
    for (int mi = 0; mi < M; mi++)
        a[mi][0] = a[mi][1] = VZERO();
    const uint8_t *row = j->w + (size_t)r * j->bb * (size_t)j->ng;
    int64_t full = j->k / j->group, k = j->k;
    int half = j->group / 2, int4 = j->fmt != RT_WQ_INT8; /* int4 or (AVX-512) MXFP4 */
    for (int64_t g = 0; g < full; g++) {
        const uint8_t *b = row + (size_t)g * j->bb, *p = b + j->hdr;
        float s = scale_of(j->fmt, b);
        const vf vs = VSET1(s), vo = VSET1(-s * block_zero(j->fmt, b));
#ifdef WQ_INT4_TABLE
        const vf tab = j->fmt == RT_WQ_MXFP4 ? _mm512_mul_ps(_mm512_loadu_ps(e2m1_val), vs)
                                             : tab4(vs, vo);
#endif
        const float *xg = x + g * j->group;
        int odd = M == 1 && (g & 1);
        for (int c = 0; c < (int4 ? half : j->group); c += (int4 ? VL : 2 * VL)) {
            vf w0, w1;
            int c1 = int4 ? c + half : c + VL;
            if (int4) {
#ifdef WQ_INT4_TABLE
                dec4t(p + c, tab, &w0, &w1);
#else
                dec4(p + c, vs, vo, &w0, &w1);
#endif
            } else {
                w0 = dec8(p + c, vs, vo);
                w1 = dec8(p + c + VL, vs, vo);
            }
            if (odd) {
                e0 = VFMA(VLOAD(xg + c), w0, e0);
                e1 = VFMA(VLOAD(xg + c1), w1, e1);
                continue;
            }
            for (int mi = 0; mi < M; mi++) {
                a[mi][0] = VFMA(VLOAD(xg + mi * k + c), w0, a[mi][0]);
                a[mi][1] = VFMA(VLOAD(xg + mi * k + c1), w1, a[mi][1]);
            }
        }
    }
    a[0][0] = VADD(a[0][0], e0);
    a[0][1] = VADD(a[0][1], e1);
    for (int mi = 0; mi < M; mi++)
        acc[mi] += vhsum(VADD(a[mi][0], a[mi][1]));
}
#endif

#if defined(__AVX512F__)
/* The other formats with AVX-512, 16 consecutive weights [c, c+16) of a
 * group per vector, decoded by the layout's shifts and a table in one
 * register where the codes are few (vpermps reads an index's low four bits,
 * so a table repeated every 4 or 8 entries needs no mask of the neighbour
 * code's bits):
 *   INT2, TERNARY  s*q - s*z (TERNARY: z = 1) for q = i & 3; group 32 has
 *                  planes of 8 bytes, so one 8-byte load, duplicated, gives
 *                  two planes (lanes 8-15 shifted 2 further); groups of a
 *                  multiple of 64 have planes of whole vectors;
 *   INT3 (group 32) the same low bits, the high bit from the 4-byte plane by
 *                  a per-lane shift (element e: byte e & 3, bit e >> 2);
 *   MXINT8         int8 widened, times s/64;
 *   MXFP8          E4M3's magnitude bits placed in float32's exponent and
 *                  mantissa fields (<< 20, the exponent rebiased by 120),
 *                  subnormals (exponent 0) as m * 2^-9 under a mask (no
 *                  float32 subnormal is ever formed: those take microcode
 *                  assists); the sign or-ed in, NaN (S.1111.111) by a compare;
 *   NVFP4          E2M1 times the E4M3 block scale, a table like MXFP4's;
 *                  group 16 is two nibble runs of 8 (one 8-byte load). */
static inline __m512i bytes8x2(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return _mm512_cvtepu8_epi32(_mm_set1_epi64x((long long)v));
}

static inline __m512i bytes16(const uint8_t *p)
{
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
}

/* The table of the format for one group (unused by MXINT8/MXFP8). */
static inline vf tab16(int fmt, vf vs, vf vo)
{
    if (fmt == RT_WQ_NVFP4)
        return _mm512_mul_ps(_mm512_loadu_ps(e2m1_val), vs);
    __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    iota = _mm512_and_si512(iota, _mm512_set1_epi32(fmt == RT_WQ_INT3 ? 7 : 3));
    return VFMA(_mm512_cvtepi32_ps(iota), vs, vo);
}

static inline __attribute__((always_inline)) vf dec16(int fmt, int group, const uint8_t *p, int c,
                                                     vf vs, vf tab)
{
    switch (fmt) {
    case RT_WQ_MXINT8:
        return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                                 _mm_loadu_si128((const __m128i *)(p + c)))),
                             _mm512_mul_ps(vs, VSET1(1.0f / 64.0f)));
    case RT_WQ_MXFP8: {
        __m512i q = bytes16(p + c), m7 = _mm512_and_si512(q, _mm512_set1_epi32(0x7f));
        __m512 v = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_slli_epi32(m7, 20),
                                                        _mm512_set1_epi32(120 << 23)));
        v = _mm512_mask_mul_ps(v, _mm512_cmplt_epi32_mask(m7, _mm512_set1_epi32(8)),
                               _mm512_cvtepi32_ps(m7), VSET1(0x1p-9f));
        v = _mm512_castsi512_ps(_mm512_or_si512(
            _mm512_castps_si512(v), _mm512_slli_epi32(_mm512_and_si512(q, _mm512_set1_epi32(0x80)), 24)));
        v = _mm512_mask_mov_ps(v, _mm512_cmpeq_epi32_mask(m7, _mm512_set1_epi32(0x7f)), VSET1(NAN));
        return _mm512_mul_ps(v, vs);
    }
    case RT_WQ_NVFP4: {
        if (group == 16)
            return _mm512_permutexvar_ps(
                _mm512_srlv_epi32(bytes8x2(p), _mm512_set_epi32(4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0,
                                                                0, 0, 0, 0, 0)), tab);
        int h = group / 2;
        return c < h ? _mm512_permutexvar_ps(bytes16(p + c), tab)
                     : _mm512_permutexvar_ps(_mm512_srli_epi32(bytes16(p + c - h), 4), tab);
    }
    default: { /* INT2, TERNARY, INT3 */
        __m512i lo;
        if (group == 32) {
            int t = c ? 4 : 0;
            lo = _mm512_srlv_epi32(bytes8x2(p), _mm512_set_epi32(t + 2, t + 2, t + 2, t + 2, t + 2,
                                                                t + 2, t + 2, t + 2, t, t, t, t, t,
                                                                t, t, t));
        } else {
            int q4 = group / 4;
            lo = _mm512_srlv_epi32(bytes16(p + c % q4), _mm512_set1_epi32(2 * (c / q4)));
        }
        if (fmt == RT_WQ_INT3) { /* group 32: the high bits' 4 bytes after the 8 */
            uint32_t hw;
            memcpy(&hw, p + 8, 4);
            int t = c ? 4 : 0; /* element e = c + l: bit 8 * (e & 3) + (e >> 2) */
            __m512i sh = _mm512_set_epi32(27 + t, 19 + t, 11 + t, 3 + t, 26 + t, 18 + t, 10 + t,
                                          2 + t, 25 + t, 17 + t, 9 + t, 1 + t, 24 + t, 16 + t,
                                          8 + t, 0 + t);
            __m512i hb = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32((int)hw), sh),
                                          _mm512_set1_epi32(1));
            lo = _mm512_or_si512(_mm512_and_si512(lo, _mm512_set1_epi32(3)),
                                 _mm512_slli_epi32(hb, 2));
        }
        return _mm512_permutexvar_ps(lo, tab);
    }
    }
}

/* Rows of X against row r of W in the formats dec16 takes, whole groups
 * (G: the group, a constant where it is a usual one), two groups a step
 * into two accumulators per row of X, each chosen by a constant: an index
 * known only at run time puts the accumulators in memory, and the chain
 * through a store and a reload then bounds the loop. */
static inline __attribute__((always_inline)) void mv_vec16_g(const WqJob *j, int64_t r,
                                                             const float *x, float *acc,
                                                             const int M, const int G)
{
    vf a[WQ_MV_ROWS][2];
    for (int mi = 0; mi < M; mi++)
        a[mi][0] = a[mi][1] = VZERO();
    const uint8_t *row = j->w + (size_t)r * j->bb * (size_t)j->ng;
    int64_t full = j->k / G, k = j->k;
    int fmt = j->fmt;
    for (int64_t g0 = 0; g0 < full; g0 += 2)
        for (int u = 0; u < 2; u++) {
            int64_t g = g0 + u;
            if (g == full)
                break;
            const uint8_t *b = row + (size_t)g * j->bb, *p = b + j->hdr;
            float s = scale_of(fmt, b);
            float z = fmt == RT_WQ_TERNARY ? 1.0f : block_zero(fmt, b);
            const vf vs = VSET1(s), tab = tab16(fmt, vs, VSET1(-s * z));
            const float *xg = x + g * G;
            for (int c = 0; c < G; c += VL) {
                vf w = dec16(fmt, G, p, c, vs, tab);
                for (int mi = 0; mi < M; mi++)
                    a[mi][u] = VFMA(VLOAD(xg + mi * k + c), w, a[mi][u]);
            }
        }
    for (int mi = 0; mi < M; mi++)
        acc[mi] += vhsum(VADD(a[mi][0], a[mi][1]));
}

static inline __attribute__((always_inline)) void mv_vec16(const WqJob *j, int64_t r,
                                                           const float *x, float *acc, const int M)
{
    switch (j->group) {
    case 16: mv_vec16_g(j, r, x, acc, M, 16); break;
    case 32: mv_vec16_g(j, r, x, acc, M, 32); break;
    case 64: mv_vec16_g(j, r, x, acc, M, 64); break;
    default: mv_vec16_g(j, r, x, acc, M, j->group); break;
    }
}
#endif

/* Whether dec16 takes this matrix (AVX-512): the groups whose layout it
 * knows; a partial last group goes through the portable path. */
static int vector16(const WqJob *j)
{
#if defined(__AVX512F__)
    int g = j->group, ok;
    switch (j->fmt) {
    case RT_WQ_INT2: case RT_WQ_TERNARY: ok = g == 32 || g % 64 == 0; break;
    case RT_WQ_INT3: ok = g == 32; break;
    case RT_WQ_MXINT8: case RT_WQ_MXFP8: ok = g % 16 == 0; break;
    case RT_WQ_NVFP4: ok = g == 16 || g % 32 == 0; break;
    default: ok = 0;
    }
    return ok && j->k >= g;
#else
    (void)j;
    return 0;
#endif
}

/* Whether the vector path takes this matrix: int4, int8 (and MXFP4 with
 * AVX-512) with groups of a multiple of 32 codes (so a group is whole vectors); a partial last group
 * goes through the portable path. */
static int vector_int(const WqJob *j)
{
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
    int fmt_ok = j->fmt == RT_WQ_INT4 || j->fmt == RT_WQ_INT8;
#ifdef WQ_INT4_TABLE
    fmt_ok |= j->fmt == RT_WQ_MXFP4; /* E2M1 times the scale is a table like int4's */
#endif
    return fmt_ok && j->group % 32 == 0 && j->k >= j->group;
#else
    (void)j;
    return 0;
#endif
}

/* One row of W against up to WQ_MV_ROWS rows of X. */
static void mv_row(const WqJob *j, int vec, int64_t r, const float *x, int64_t m, float *acc)
{
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
    if (vec == 1) {
        switch (m) {
        case 1: mv_vec(j, r, x, acc, 1); break;
        case 2: mv_vec(j, r, x, acc, 2); break;
        case 3: mv_vec(j, r, x, acc, 3); break;
        default: mv_vec(j, r, x, acc, 4); break;
        }
        mv_generic(j, r, j->k / j->group, x, m, acc); /* the partial last group, if any */
        return;
    }
#endif
#if defined(__AVX512F__)
    if (vec == 2) {
        switch (m) {
        case 1: mv_vec16(j, r, x, acc, 1); break;
        case 2: mv_vec16(j, r, x, acc, 2); break;
        case 3: mv_vec16(j, r, x, acc, 3); break;
        default: mv_vec16(j, r, x, acc, 4); break;
        }
        mv_generic(j, r, j->k / j->group, x, m, acc);
        return;
    }
#endif
    (void)vec;
    mv_generic(j, r, 0, x, m, acc);
}

/* Rows [lo, hi) of W: each read once per WQ_MV_ROWS rows of X; with one
 * row of X, the matrix-vector kernels (k_wq_gemv.c) where the target has one. */
static void mv_rows(void *ctx, int64_t lo, int64_t hi)
{
    const WqJob *j = ctx;
    if (j->m == 1) {
        float acc[WQ_GV_CHUNK];
        int64_t r0 = lo;
        for (; r0 < hi; r0 += WQ_GV_CHUNK) {
            int64_t r1 = hi - r0 < WQ_GV_CHUNK ? hi : r0 + WQ_GV_CHUNK;
            if (!wq_gemv_full(j->fmt, j->group, j->k, j->w, r0, r1, j->x, acc))
                break;
            for (int64_t r = r0; r < r1; r++) {
                if (j->k % j->group) /* the partial last group */
                    mv_generic(j, r, j->k / j->group, j->x, 1, &acc[r - r0]);
                j->y[r] = j->ts * acc[r - r0] + (j->bias ? j->bias[r] : 0.0f);
            }
        }
        lo = r0;
    }
    int vec = vector_int(j) ? 1 : vector16(j) ? 2 : 0;
    for (int64_t r = lo; r < hi; r++)
        for (int64_t m0 = 0; m0 < j->m; m0 += WQ_MV_ROWS) {
            int64_t m = j->m - m0 < WQ_MV_ROWS ? j->m - m0 : WQ_MV_ROWS;
            float acc[WQ_MV_ROWS] = {0, 0, 0, 0};
            mv_row(j, vec, r, j->x + m0 * j->k, m, acc);
            for (int64_t mi = 0; mi < m; mi++)
                j->y[(m0 + mi) * j->ldy + r] = j->ts * acc[mi] + (j->bias ? j->bias[r] : 0.0f);
        }
}

/* Whether whole groups of this matrix decode through the vector decoders
 * (group_vec), and the decoding: buf[i] = s * (elem(code i) - z), i < group. */
static int group_vec_ok(const WqJob *j)
{
#if defined(__AVX512F__)
    if ((j->fmt == RT_WQ_INT4 || j->fmt == RT_WQ_MXFP4) && j->group % 32 == 0)
        return 1;
    if (j->fmt == RT_WQ_INT8 && j->group % 16 == 0)
        return 1;
    return vector16(j);
#else
    (void)j;
    return 0;
#endif
}

#if defined(__AVX512F__)
static HOT void group_vec(const WqJob *j, const uint8_t *b, float *o)
{
    int fmt = j->fmt, group = j->group;
    const uint8_t *p = b + j->hdr;
    float s = scale_of(fmt, b), z = fmt == RT_WQ_TERNARY ? 1.0f : block_zero(fmt, b);
    const vf vs = VSET1(s), vo = VSET1(-s * z);
    if (fmt == RT_WQ_INT4 || fmt == RT_WQ_MXFP4) {
        const vf tab = fmt == RT_WQ_MXFP4 ? _mm512_mul_ps(_mm512_loadu_ps(e2m1_val), vs)
                                          : tab4(vs, vo);
        int h = group / 2;
        for (int c = 0; c < h; c += VL) {
            vf lo, hi;
            dec4t(p + c, tab, &lo, &hi);
            _mm512_storeu_ps(o + c, lo);
            _mm512_storeu_ps(o + c + h, hi);
        }
        return;
    }
    if (fmt == RT_WQ_INT8) {
        for (int c = 0; c < group; c += VL)
            _mm512_storeu_ps(o + c, dec8(p + c, vs, vo));
        return;
    }
    const vf tab = tab16(fmt, vs, vo);
    for (int c = 0; c < group; c += VL)
        _mm512_storeu_ps(o + c, dec16(fmt, group, p, c, vs, tab));
}
#endif

/* M > WQ_GEMM_M: W^T as the B operand of the shared GEMM (k_gemm.c), each
 * KC x NC block decoded (scaled) into the micro-kernel's packed panels as
 * the GEMM asks for it, so a weight is decoded once per call and then read
 * by the register-tiled micro-kernel for every row of X: the decode is
 * amortized over M, and the product runs at float GEMM speed. Row j0 + c of
 * W is column c of the block: each is decoded a group at a time into a
 * small buffer, then scattered down its panel column (the panel, kc x nr
 * floats, stays in L1 while it is written). */
HOT void wq_pack_panels(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                        int nr, float *dst)
{
    const WqJob *j = src;
    float buf[WQ_CHUNK + 8];
    int whole = j->gp <= WQ_CHUNK, vec = whole && group_vec_ok(j);
    int64_t full = j->k / j->group;
    for (int64_t c0 = 0; c0 < nc; c0 += nr) {
        int w = (int)(nc - c0 < nr ? nc - c0 : nr);
        float *panel = dst + c0 / nr * kc * nr;
        for (int t = 0; t < w; t++) {
            const uint8_t *row = j->w + (size_t)(j0 + c0 + t) * j->bb * (size_t)j->ng;
            float *col = panel + t;
            for (int64_t i = 0; i < kc;) { /* the groups the block spans */
                int64_t g = (k0 + i) / j->group;
                int gi = (int)(k0 + i - g * j->group);
                int64_t glen = j->k - g * j->group < j->group ? j->k - g * j->group : j->group;
                int take = (int)(glen - gi < kc - i ? glen - gi : kc - i);
                const uint8_t *b = row + (size_t)g * j->bb;
                float s = scale_of(j->fmt, b), z = block_zero(j->fmt, b);
                for (int q0 = 0; q0 < take; q0 += WQ_CHUNK) {
                    int q1 = take - q0 < WQ_CHUNK ? take : q0 + WQ_CHUNK;
                    const float *v = buf;
                    if (vec && g < full) {
#if defined(__AVX512F__)
                        group_vec(j, b, buf);
#endif
                        v = buf + gi;
                    } else if (whole) {
                        decode_group(j->fmt, j->group, b + j->hdr, z, s, buf);
                        v = buf + gi;
                    } else {
                        decode_range(j->fmt, j->group, b + j->hdr, gi + q0, gi + q1, z, buf);
                        for (int q = 0; q < q1 - q0; q++)
                            buf[q] *= s;
                    }
                    for (int q = 0; q < q1 - q0; q++)
                        col[(i + q0 + q) * nr] = v[q];
                }
                i += take;
            }
        }
        for (int64_t p = 0; p < kc; p++) /* the padding columns of a partial panel */
            for (int t = w; t < nr; t++)
                panel[p * nr + t] = 0.0f;
    }
}

void rt_wq_matmul(int fmt, int64_t m, int64_t n, int64_t k, int group, float tensor_scale,
                  const float *x, const uint8_t *w, const float *bias, float *y)
{
    rt_wq_matmul_act(fmt, m, n, k, group, tensor_scale, x, w, bias, y, 0);
}

void rt_wq_matmul_act(int fmt, int64_t m, int64_t n, int64_t k, int group, float tensor_scale,
                      const float *x, const uint8_t *w, const float *bias, float *y,
                      int act_bits)
{
    WqJob j = {fmt, group, 0, 0, 0, k, (k + group - 1) / group, rt_wq_block_bytes(fmt, group),
               tensor_scale, x, w, bias, y, n};
    if (!j.bb || m < 1 || n < 1)
        return;
    j.gp = wq_group_padded(fmt, group);
    j.hdr = wq_block_header(fmt);
    j.m = m;
    if (act_bits == 8 && wq_matmul_a8(&j))
        return;
    int vec = vector_int(&j) || vector16(&j);
    if (m > (vec ? WQ_GEMM_M_VEC : WQ_GEMM_M)) {
        /* Y = ts * X W^T + bias: the bias as the epilogue's sum input with
         * row stride 0 (the same row added to every row of Y) */
        RtGemmA A = {x, k, 0, NULL, NULL, NULL};
        RtGemmB B = {wq_pack_panels, &j, NULL};
        RtGemmEpi e = {NULL, bias, 0, RT_EPI_NONE, 0, 0, 0};
        rt_sgemm_ex(m, n, k, tensor_scale, &A, &B, 0.0f, &e, y, n);
    } else {
        rt_parallel_for(n, 64, mv_rows, &j);
    }
}

int rt_matmul_wq(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_ints < RT_WQ_ACT_BITS)
        return RT_EINVAL;
    int fmt = (int)c->ints[RT_WQ_FORMAT], group = (int)c->ints[RT_WQ_GROUP];
    int64_t n = c->ints[RT_WQ_N], k = c->ints[RT_WQ_K];
    if (k < 1 || rt_numel(&c->in[0]) % k)
        return RT_EINVAL;
    int64_t m = rt_numel(&c->in[0]) / k;
    const float *bias = c->n_in > 2 && in[2] ? in[2] : NULL;
    int act_bits = c->n_ints > RT_WQ_ACT_BITS ? (int)c->ints[RT_WQ_ACT_BITS] : 0;
    rt_wq_matmul_act(fmt, m, n, k, group, rt_param_float(c, RT_WQ_F_TSCALE, 1.0f), in[0], in[1],
                     bias, out[0], act_bits);
    return 0;
}
