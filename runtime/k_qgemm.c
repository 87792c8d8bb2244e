/* k_qgemm.c: the int8 GEMM (uint8 x int8 -> int32): packing, the ISA's inner loop, the requantizing store. */
#include <math.h>
#include <string.h>

#include "onnxcc_rt.h"
#include "k_qgemm.h"
#include "k_quant.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
#define QG_AVX512VNNI 1
#elif defined(__AVXVNNI__)
#define QG_AVXVNNI 1
#elif defined(__AVX2__)
#define QG_AVX2 1
#endif

/* Rows of W one inner-loop call covers: as many accumulator rows as the
 * ISA's registers hold next to the column vectors (32 columns: 2 zmm, 4 ymm). */
#if defined(QG_AVX512VNNI)
#define QG_MR 8
#else
#define QG_MR 4
#endif

const char *rt_qgemm_path(void)
{
#if defined(QG_AVX512VNNI)
    return "avx512vnni";
#elif defined(QG_AVXVNNI)
    return "avxvnni";
#elif defined(QG_AVX2)
    return "avx2";
#else
    return "c";
#endif
}

int rt_qgemm_pack_w(int64_t rows, int64_t k, const void *w, int wdt, int64_t rs, int64_t cs,
                    int8_t *dst, int32_t *wsum)
{
    int64_t kp = rt_qgemm_kpad(k);
    int shift = wdt == RT_U8 ? 128 : 0;
    for (int64_t r = 0; r < rows; r++) {
        int32_t s = 0;
        int8_t *d = dst + r * kp;
        for (int64_t i = 0; i < k; i++) {
            int64_t at = r * rs + i * cs;
            int v = wdt == RT_U8 ? (int)((const uint8_t *)w)[at] - 128
                                 : (int)((const int8_t *)w)[at];
            d[i] = (int8_t)v;
            s += v;
        }
        for (int64_t i = k; i < kp; i++)
            d[i] = 0;
        wsum[r] = s;
    }
    return shift;
}

void rt_qgemm_put_quad(const uint8_t *const rows[4], uint8_t *xq)
{
#if defined(__SSE2__)
    /* bytes of rows 0/1 and 2/3 paired, then the pairs paired: 16 columns a round */
    for (int c = 0; c < RT_QG_COLS; c += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(rows[0] + c));
        __m128i b = _mm_loadu_si128((const __m128i *)(rows[1] + c));
        __m128i e = _mm_loadu_si128((const __m128i *)(rows[2] + c));
        __m128i f = _mm_loadu_si128((const __m128i *)(rows[3] + c));
        __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
        __m128i ef0 = _mm_unpacklo_epi8(e, f), ef1 = _mm_unpackhi_epi8(e, f);
        _mm_storeu_si128((__m128i *)(xq + 4 * c), _mm_unpacklo_epi16(ab0, ef0));
        _mm_storeu_si128((__m128i *)(xq + 4 * c + 16), _mm_unpackhi_epi16(ab0, ef0));
        _mm_storeu_si128((__m128i *)(xq + 4 * c + 32), _mm_unpacklo_epi16(ab1, ef1));
        _mm_storeu_si128((__m128i *)(xq + 4 * c + 48), _mm_unpackhi_epi16(ab1, ef1));
    }
#else
    for (int c = 0; c < RT_QG_COLS; c++) {
        xq[4 * c] = rows[0][c];
        xq[4 * c + 1] = rows[1][c];
        xq[4 * c + 2] = rows[2][c];
        xq[4 * c + 3] = rows[3][c];
    }
#endif
}

void rt_qgemm_col_sums(const uint8_t *xb, int64_t kp, int32_t *xsum)
{
    for (int c = 0; c < RT_QG_COLS; c++)
        xsum[c] = 0;
    for (int64_t q = 0; q < kp / 4; q++) {
        const uint8_t *s = xb + q * 4 * RT_QG_COLS;
        for (int c = 0; c < RT_QG_COLS; c++)
            xsum[c] += s[4 * c] + s[4 * c + 1] + s[4 * c + 2] + s[4 * c + 3];
    }
}

void rt_qgemm_pack_x_rows(const void *a, int adt, int64_t lda, int64_t k, int n, uint8_t pad,
                          uint8_t *xb, int32_t *xsum)
{
    int64_t kp = rt_qgemm_kpad(k);
    uint8_t flip = adt == RT_I8 ? 0x80 : 0; /* int8 x + 128 is its byte with the top bit flipped */
    for (int c = 0; c < RT_QG_COLS; c++) {
        const uint8_t *s = (const uint8_t *)a + (int64_t)c * lda;
        for (int64_t i = 0; i < kp; i++) {
            uint8_t v = c < n && i < k ? (uint8_t)(s[i] ^ flip) : pad;
            xb[(i >> 2) * 4 * RT_QG_COLS + 4 * c + (i & 3)] = v;
        }
    }
    if (xsum)
        rt_qgemm_col_sums(xb, kp, xsum);
}

static void store_row(const int32_t *acc, int n, int64_t r, const int32_t *xsum,
                      const RtQgemmEpi *e, void *y, int64_t ldr, int64_t ldc);

/* ---- the inner loops: acc[i][c] = sum over k of w[i][k] * x[k][c] for QG_MR rows ---- */

#if defined(QG_AVX512VNNI) || defined(QG_AVXVNNI) || defined(QG_AVX2)
/* Loads 4 weight bytes as one 32-bit lane (memcpy: the rows are byte arrays). */
static inline int32_t quad(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}
#endif

#if defined(QG_AVX512VNNI)
static void inner(const int8_t *const *w, int64_t kq, const uint8_t *xb,
                  int32_t acc[QG_MR][RT_QG_COLS])
{
    __m512i c0[QG_MR], c1[QG_MR];
    for (int i = 0; i < QG_MR; i++)
        c0[i] = c1[i] = _mm512_setzero_si512();
    for (int64_t q = 0; q < kq; q++) {
        __m512i x0 = _mm512_loadu_si512(xb + q * 128), x1 = _mm512_loadu_si512(xb + q * 128 + 64);
        for (int i = 0; i < QG_MR; i++) {
            __m512i b = _mm512_set1_epi32(quad(w[i] + 4 * q));
            c0[i] = _mm512_dpbusd_epi32(c0[i], x0, b);
            c1[i] = _mm512_dpbusd_epi32(c1[i], x1, b);
        }
    }
    for (int i = 0; i < QG_MR; i++) {
        _mm512_storeu_si512(acc[i], c0[i]);
        _mm512_storeu_si512(acc[i] + 16, c1[i]);
    }
}

/* requantized 8-bit values of 16 accumulators (store_row's arithmetic) */
static inline __m512i requant16(__m512i a, __m512i rc, __m512 m, __m512 yz, __m512 lo, __m512 hi)
{
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(a, rc)), m);
    v = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), yz);
    return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, lo), hi));
}

/* How far ahead (bytes) the fused kernel prefetches each weight row: 256
 * measured best on resnet18's layer3/4 (128 and 512 close behind, 1024
 * slower than none). Only for deep rows (QG_PREFETCH_KQ groups of 4 and
 * more: layer3's 2304 bytes, layer4's 4608): shallower weights stay in L1
 * or L2, where the prefetches would be instructions for nothing. */
#define QG_PREFETCH 256
#define QG_PREFETCH_KQ 512

/* inner() for rows r.. (mr of them) on nv (1 or 2) vectors of 16 columns,
 * with the common store (uint8/int8, contiguous columns, no weight zero
 * point) of the first n columns made from the accumulators in registers:
 * the same operations as store_row, so the same bits. One vector computes
 * a block's tail of 16 or fewer columns at half the cost of two. */
static inline __attribute__((always_inline)) void
inner_store_nv(const int8_t *const *w, int64_t kq, const uint8_t *xb, int mr, int n, int64_t r,
               const RtQgemmEpi *e, void *y, int64_t ldr, int nv)
{
    __m512i c0[QG_MR], c1[QG_MR];
    for (int i = 0; i < QG_MR; i++)
        c0[i] = c1[i] = _mm512_setzero_si512();
    for (int64_t q = 0; q < kq; q++) {
        /* the weight rows a cache line ahead: 8 streams 4 bytes a step, from
         * L3 for a deep layer's weights, which the hardware fetches late */
        if (kq >= QG_PREFETCH_KQ && !(q & 15)) /* (an address, maybe past W: no pointer) */
            for (int i = 0; i < QG_MR; i++)
                _mm_prefetch((const char *)((uintptr_t)(w[i] + 4 * q) + QG_PREFETCH),
                             _MM_HINT_T0);
        __m512i x0 = _mm512_loadu_si512(xb + q * 128);
        __m512i x1 = nv > 1 ? _mm512_loadu_si512(xb + q * 128 + 64) : x0;
        for (int i = 0; i < QG_MR; i++) {
            __m512i b = _mm512_set1_epi32(quad(w[i] + 4 * q));
            c0[i] = _mm512_dpbusd_epi32(c0[i], x0, b);
            if (nv > 1)
                c1[i] = _mm512_dpbusd_epi32(c1[i], x1, b);
        }
    }
    __mmask16 k0 = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
    __mmask16 k1 = n >= 32 ? (__mmask16)0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
    __m512 yz = _mm512_set1_ps(e->yz), lo = _mm512_set1_ps(e->lo), hi = _mm512_set1_ps(e->hi);
    for (int i = 0; i < QG_MR; i++) {
        if (i >= mr)
            break;
        __m512i rc = _mm512_set1_epi32(e->rowc[r + i]);
        __m512 m = _mm512_set1_ps(e->mult[r + i]);
        char *d = (char *)y + (r + i) * ldr;
        _mm512_mask_cvtepi32_storeu_epi8(d, k0, requant16(c0[i], rc, m, yz, lo, hi));
        if (nv > 1)
            _mm512_mask_cvtepi32_storeu_epi8(d + 16, k1, requant16(c1[i], rc, m, yz, lo, hi));
    }
}

static void inner_store(const int8_t *const *w, int64_t kq, const uint8_t *xb, int mr, int n,
                        int64_t r, const RtQgemmEpi *e, void *y, int64_t ldr)
{
    inner_store_nv(w, kq, xb, mr, n, r, e, y, ldr, 2);
}

static void inner_store16(const int8_t *const *w, int64_t kq, const uint8_t *xb, int mr, int n,
                          int64_t r, const RtQgemmEpi *e, void *y, int64_t ldr)
{
    inner_store_nv(w, kq, xb, mr, n, r, e, y, ldr, 1);
}

/* Columns a block has past its last whole vector of 16 that are cheaper
 * as dot products of contiguous rows than as a mostly empty vector: a 7x7
 * map's 49 = 32 + 16 + 1 pixels, a 14x14's last block of 4. Each such
 * column costs kp / 64 vpdpbusd per row against kp / 4 for a vector. */
#define QG_DOT_COLS 4

/* Column c of a packed block as kp contiguous bytes (dot_col's operand). */
static void column_of(const uint8_t *xb, int64_t kq, int c, uint8_t *d)
{
    for (int64_t q = 0; q < kq; q++)
        memcpy(d + 4 * q, xb + q * 128 + 4 * c, 4);
}

/* Rows r.. (mr of them) times one contiguous column xc (kp bytes), stored
 * as column c through store_row: 64 k a step for QG_MR rows at once, so
 * the rows' sums are independent chains. */
static void dot_col(const int8_t *const *w, int64_t kp, const uint8_t *xc, int mr, int64_t r,
                    const RtQgemmEpi *e, void *y, int64_t ldr, int c)
{
    __m512i a[QG_MR];
    for (int i = 0; i < QG_MR; i++)
        a[i] = _mm512_setzero_si512();
    int64_t k = 0;
    for (; k + 64 <= kp; k += 64) {
        __m512i x = _mm512_loadu_si512(xc + k);
        for (int i = 0; i < QG_MR; i++)
            a[i] = _mm512_dpbusd_epi32(a[i], x, _mm512_loadu_si512(w[i] + k));
    }
    if (k < kp) { /* the last 4..60 bytes, masked */
        __mmask64 m = ((__mmask64)1 << (kp - k)) - 1;
        __m512i x = _mm512_maskz_loadu_epi8(m, xc + k);
        for (int i = 0; i < QG_MR; i++)
            a[i] = _mm512_dpbusd_epi32(a[i], x, _mm512_maskz_loadu_epi8(m, w[i] + k));
    }
    for (int i = 0; i < mr; i++) {
        int32_t s = _mm512_reduce_add_epi32(a[i]);
        store_row(&s, 1, r + i, NULL, e, (char *)y + c, ldr, 1);
    }
}
#elif defined(QG_AVXVNNI)
static void inner(const int8_t *const *w, int64_t kq, const uint8_t *xb,
                  int32_t acc[QG_MR][RT_QG_COLS])
{
    /* 4 rows x 16 columns at a time: 8 accumulators, 2 column vectors */
    for (int h = 0; h < 2; h++) {
        __m256i c0[QG_MR], c1[QG_MR];
        for (int i = 0; i < QG_MR; i++)
            c0[i] = c1[i] = _mm256_setzero_si256();
        const uint8_t *xh = xb + 64 * h;
        for (int64_t q = 0; q < kq; q++) {
            __m256i x0 = _mm256_loadu_si256((const __m256i *)(xh + q * 128));
            __m256i x1 = _mm256_loadu_si256((const __m256i *)(xh + q * 128 + 32));
            for (int i = 0; i < QG_MR; i++) {
                __m256i b = _mm256_set1_epi32(quad(w[i] + 4 * q));
                c0[i] = _mm256_dpbusd_avx_epi32(c0[i], x0, b);
                c1[i] = _mm256_dpbusd_avx_epi32(c1[i], x1, b);
            }
        }
        for (int i = 0; i < QG_MR; i++) {
            _mm256_storeu_si256((__m256i *)(acc[i] + 16 * h), c0[i]);
            _mm256_storeu_si256((__m256i *)(acc[i] + 16 * h + 8), c1[i]);
        }
    }
}
#elif defined(QG_AVX2)
/* Without VNNI: 16 bytes (4 columns x 4 k) widened to int16 and multiplied
 * by the row's 4 weights (int16, repeated) with vpmaddwd, which sums pairs
 * exactly; each int32 lane holds half of one column's 4 products, the
 * halves added at the end. */
static void inner(const int8_t *const *w, int64_t kq, const uint8_t *xb,
                  int32_t acc[QG_MR][RT_QG_COLS])
{
    for (int h = 0; h < 4; h++) { /* 8 columns at a time: 2 vectors of 4 */
        __m256i c0[QG_MR], c1[QG_MR];
        for (int i = 0; i < QG_MR; i++)
            c0[i] = c1[i] = _mm256_setzero_si256();
        const uint8_t *xh = xb + 32 * h;
        for (int64_t q = 0; q < kq; q++) {
            __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(xh + q * 128)));
            __m256i x1 =
                _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(xh + q * 128 + 16)));
            for (int i = 0; i < QG_MR; i++) {
                __m128i w8 = _mm_cvtsi32_si128(quad(w[i] + 4 * q));
                __m256i b = _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(w8));
                c0[i] = _mm256_add_epi32(c0[i], _mm256_madd_epi16(x0, b));
                c1[i] = _mm256_add_epi32(c1[i], _mm256_madd_epi16(x1, b));
            }
        }
        for (int i = 0; i < QG_MR; i++) {
            int32_t t[16];
            _mm256_storeu_si256((__m256i *)t, c0[i]);
            _mm256_storeu_si256((__m256i *)(t + 8), c1[i]);
            for (int c = 0; c < 8; c++)
                acc[i][8 * h + c] = t[2 * c] + t[2 * c + 1];
        }
    }
}
#else
static void inner(const int8_t *const *w, int64_t kq, const uint8_t *xb,
                  int32_t acc[QG_MR][RT_QG_COLS])
{
    for (int i = 0; i < QG_MR; i++) {
        int32_t a[RT_QG_COLS] = {0};
        for (int64_t q = 0; q < kq; q++) {
            const uint8_t *x = xb + q * 4 * RT_QG_COLS;
            const int8_t *wq = w[i] + 4 * q;
            int32_t w0 = wq[0], w1 = wq[1], w2 = wq[2], w3 = wq[3];
            for (int c = 0; c < RT_QG_COLS; c++)
                a[c] += x[4 * c] * w0 + x[4 * c + 1] * w1 + x[4 * c + 2] * w2 + x[4 * c + 3] * w3;
        }
        memcpy(acc[i], a, sizeof a);
    }
}
#endif

/* ---- the store ---- */

/* Row r's n results to y + r * ldr (+ c * ldc). The arithmetic is the one
 * k_qgemm.h states, in float32 as every path computes it. */
static void store_row(const int32_t *acc, int n, int64_t r, const int32_t *xsum,
                      const RtQgemmEpi *e, void *y, int64_t ldr, int64_t ldc)
{
    int32_t a[RT_QG_COLS];
    int32_t rc = e->rowc[r], wz = e->wz ? e->wz[r] : 0;
    for (int c = 0; c < n; c++)
        a[c] = (int32_t)((uint32_t)acc[c] + (uint32_t)rc);
    if (wz)
        for (int c = 0; c < n; c++)
            a[c] = (int32_t)((uint32_t)a[c] - (uint32_t)wz * (uint32_t)xsum[c]);
    int64_t o = r * ldr;
    if (e->out == RT_I32) {
        for (int c = 0; c < n; c++)
            ((int32_t *)y)[o + c * ldc] = a[c];
        return;
    }
    float m = e->mult[r], lo = e->lo, hi = e->hi;
    if (e->out == RT_F32) {
        for (int c = 0; c < n; c++) {
            float v = (float)a[c] * m;
            ((float *)y)[o + c * ldc] = v < lo ? lo : v > hi ? hi : v;
        }
        return;
    }
    int32_t q[RT_QG_COLS];
    for (int c = 0; c < n; c++) {
        float v = rintf((float)a[c] * m) + e->yz;
        q[c] = (int32_t)(v < lo ? lo : v > hi ? hi : v);
    }
    if (e->out == RT_U8) {
        uint8_t *d = (uint8_t *)y + o;
        if (ldc == 1)
            for (int c = 0; c < n; c++)
                d[c] = (uint8_t)q[c];
        else
            for (int c = 0; c < n; c++)
                d[c * ldc] = (uint8_t)q[c];
    } else {
        int8_t *d = (int8_t *)y + o;
        for (int c = 0; c < n; c++)
            d[c * ldc] = (int8_t)q[c];
    }
}

#if defined(QG_AVX512VNNI)
/* The common store (uint8/int8, contiguous columns, no weight zero point)
 * in vectors; the same float32 operations as store_row, so the same bits. */
static int store_row_vec(const int32_t *acc, int n, int64_t r, const RtQgemmEpi *e, void *y,
                         int64_t ldr, int64_t ldc)
{
    if (ldc != 1 || e->wz || (e->out != RT_U8 && e->out != RT_I8))
        return 0;
    __m512i rc = _mm512_set1_epi32(e->rowc[r]);
    __m512 m = _mm512_set1_ps(e->mult[r]), yz = _mm512_set1_ps(e->yz);
    __m512 lo = _mm512_set1_ps(e->lo), hi = _mm512_set1_ps(e->hi);
    for (int c = 0; c < n; c += 16) {
        __mmask16 k = n - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - c)) - 1);
        __m512i a = _mm512_add_epi32(_mm512_loadu_si512(acc + c), rc);
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(a), m);
        v = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                          yz);
        v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        __m512i q = _mm512_cvtps_epi32(v);
        _mm512_mask_cvtepi32_storeu_epi8((char *)y + r * ldr + c, k, q);
    }
    return 1;
}
#endif

void rt_qgemm_store(const int32_t *acc, int n, int64_t r, const int32_t *xsum,
                    const RtQgemmEpi *e, void *y, int64_t ldr, int64_t ldc)
{
#if defined(QG_AVX512VNNI)
    if (store_row_vec(acc, n, r, e, y, ldr, ldc))
        return;
#endif
    store_row(acc, n, r, xsum, e, y, ldr, ldc);
}

void rt_qgemm_block(const int8_t *w, int64_t kp, int64_t r0, int64_t r1, const uint8_t *xb,
                    const int32_t *xsum, int n, const RtQgemmEpi *e, void *y, int64_t ldr,
                    int64_t ldc)
{
    int32_t acc[QG_MR][RT_QG_COLS];
    const int8_t *rows[QG_MR];
#if defined(QG_AVX512VNNI)
    int fused = ldc == 1 && !e->wz && (e->out == RT_U8 || e->out == RT_I8);
    /* the fused store's split of the n columns: nv vectors of 16 for the
     * first nvc, then ndot columns as dot products */
    int nv = 2, nvc = n, ndot = 0;
    uint8_t xc[QG_DOT_COLS][RT_QG_MAX_KP] __attribute__((aligned(64)));
    if (fused && kp <= RT_QG_MAX_KP) {
        nv = (n + 15) / 16;
        if (n % 16 && n % 16 <= QG_DOT_COLS) {
            nv = n / 16;
            nvc = 16 * nv;
            ndot = n - nvc;
            for (int j = 0; j < ndot; j++)
                column_of(xb, kp / 4, nvc + j, xc[j]);
        }
    }
#endif
    for (int64_t r = r0; r < r1; r += QG_MR) {
        int mr = r1 - r < QG_MR ? (int)(r1 - r) : QG_MR;
        /* a short last tile repeats its last row rather than reading past W */
        for (int i = 0; i < QG_MR; i++)
            rows[i] = w + (r + (i < mr ? i : mr - 1)) * kp;
#if defined(QG_AVX512VNNI)
        if (fused) {
            if (nv == 2)
                inner_store(rows, kp / 4, xb, mr, nvc, r, e, y, ldr);
            else if (nv == 1)
                inner_store16(rows, kp / 4, xb, mr, nvc, r, e, y, ldr);
            for (int j = 0; j < ndot; j++)
                dot_col(rows, kp, xc[j], mr, r, e, y, ldr, nvc + j);
            continue;
        }
#endif
        inner(rows, kp / 4, xb, acc);
        for (int i = 0; i < mr; i++)
            rt_qgemm_store(acc[i], n, r + i, xsum, e, y, ldr, ldc);
    }
}

/* ---- one column: the dot of each row with xv ---- */

/* sum over k < kp of w[k] * x[k] (kp a multiple of 4) */
static int32_t dot_row(const int8_t *w, const uint8_t *x, int64_t kp)
{
    int64_t k = 0;
    int32_t s = 0;
#if defined(QG_AVX512VNNI)
    __m512i a = _mm512_setzero_si512();
    for (; k + 64 <= kp; k += 64)
        a = _mm512_dpbusd_epi32(a, _mm512_loadu_si512(x + k), _mm512_loadu_si512(w + k));
    if (k < kp) { /* the last 4..60 bytes, masked */
        __mmask64 m = ((__mmask64)1 << (kp - k)) - 1;
        a = _mm512_dpbusd_epi32(a, _mm512_maskz_loadu_epi8(m, x + k),
                                _mm512_maskz_loadu_epi8(m, w + k));
        k = kp;
    }
    s = _mm512_reduce_add_epi32(a);
#elif defined(QG_AVXVNNI) || defined(QG_AVX2)
    /* both widened to int16, vpmaddwd: exact (vpmaddubsw would saturate) */
    __m256i a = _mm256_setzero_si256();
    for (; k + 16 <= kp; k += 16) {
        __m256i xv = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + k)));
        __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + k)));
        a = _mm256_add_epi32(a, _mm256_madd_epi16(xv, wv));
    }
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    s = _mm_cvtsi128_si32(h);
#endif
    for (; k < kp; k++)
        s += (int32_t)x[k] * w[k];
    return s;
}

void rt_qgemm_gemv(const int8_t *w, int64_t kp, int64_t r0, int64_t r1, const uint8_t *xv,
                   int32_t xsum, const RtQgemmEpi *e, void *y, int64_t ldr, int64_t ldc)
{
    for (int64_t r = r0; r < r1; r++) {
        int32_t acc = dot_row(w + r * kp, xv, kp);
        store_row(&acc, 1, r, &xsum, e, y, ldr, ldc);
    }
}
