/* k_pool.c: MaxPool, AveragePool, LpPool, GlobalMaxPool and GlobalAveragePool kernels. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

/* Spatial geometry padded to 3 axes (d, h, w), as in k_conv.c. */
typedef struct PoolGeom {
    int mode, include_pad, col_major;
    int64_t planes;              /* N * C */
    int64_t in[3], out[3], k[3], st[3], dil[3], pb[3], pe[3];
} PoolGeom;

static int read_geom(const RtCall *c, PoolGeom *g)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    if (c->n_ints < RT_POOL_KERNEL)
        return RT_EINVAL;
    int nsp = (int)c->ints[RT_POOL_NSP];
    if (nsp < 1 || nsp > 3 || c->n_ints < RT_POOL_NINTS(nsp) || x->rank != nsp + 2 ||
        y->rank != nsp + 2)
        return RT_EINVAL;
    g->mode = (int)c->ints[RT_POOL_MODE];
    g->include_pad = (int)c->ints[RT_POOL_INCLUDE_PAD];
    g->col_major = (int)c->ints[RT_POOL_STORAGE];
    g->planes = x->dims[0] * x->dims[1];
    const int64_t *p = c->ints;
    for (int i = 0; i < 3; i++) {
        int s = i - (3 - nsp);
        g->in[i] = s < 0 ? 1 : x->dims[2 + s];
        g->out[i] = s < 0 ? 1 : y->dims[2 + s];
        g->k[i] = s < 0 ? 1 : p[RT_POOL_KERNEL + s];
        g->st[i] = s < 0 ? 1 : p[RT_POOL_STRIDES(nsp) + s];
        g->dil[i] = s < 0 ? 1 : p[RT_POOL_DIL(nsp) + s];
        g->pb[i] = s < 0 ? 0 : p[RT_POOL_PADS_BEGIN(nsp) + s];
        g->pe[i] = s < 0 ? 0 : p[RT_POOL_PADS_END(nsp) + s];
        if (g->k[i] < 1 || g->st[i] < 1 || g->dil[i] < 1)
            return RT_EINVAL;
    }
    return RT_OK;
}

/* The kernel taps [lo, hi) of a window starting at s that land inside [0, lim). */
HOT static void taps(int64_t s, int64_t dil, int64_t k, int64_t lim, int64_t *lo, int64_t *hi)
{
    int64_t a = s < 0 ? (-s + dil - 1) / dil : 0;
    int64_t b = s >= lim ? 0 : (lim - 1 - s) / dil + 1;
    if (b > k)
        b = k;
    *lo = a;
    *hi = a > b ? a : b;
}

/* The outputs q in [lo, hi) (of n) whose tap at i0 + q*s lands inside [0, lim). */
HOT static void taps_out(int64_t i0, int64_t s, int64_t lim, int64_t n, int64_t *lo, int64_t *hi)
{
    int64_t a = i0 < 0 ? (-i0 + s - 1) / s : 0;
    int64_t b = i0 >= lim ? 0 : (lim - 1 - i0) / s + 1;
    if (b > n)
        b = n;
    *lo = a;
    *hi = a > b ? a : b;
}

/* Window positions counted by count_include_pad: those inside the padded
 * extent [-pb, lim + pe), as ONNX Runtime and PyTorch count them. */
HOT static int64_t padded_taps(int64_t s, int64_t dil, int64_t k, int64_t lim, int64_t pb,
                               int64_t pe)
{
    int64_t lo, hi;
    taps(s + pb, dil, k, lim + pb + pe, &lo, &hi);
    return hi - lo;
}

/* One call's arguments, for the plane ranges rt_parallel_for hands out:
 * every (n, c) plane is pooled on its own, so a range owns its planes'
 * outputs and indices. */
typedef struct PoolJob {
    const PoolGeom *g;
    int dt, mode;
    const void *x;
    void *y;
    int64_t *ind;
    int64_t sz;                  /* global pooling: elements per plane */
} PoolJob;

/* Input elements a range should cover at least before it is worth a
 * thread: a hand-off costs ~5-10 us (build/pool_bench), 64K elements a few
 * times that. */
#define POOL_GRAIN_ELEMS 65536

static int64_t plane_grain(int64_t plane_elems)
{
    return plane_elems >= POOL_GRAIN_ELEMS ? 1 : POOL_GRAIN_ELEMS / (plane_elems ? plane_elems : 1);
}

/* Output point o (flat over the spatial axes): the window's first input
 * coordinate s per axis (it may lie in the padding) and the range of taps
 * [lo, hi) that fall inside X. */
static void window(const PoolGeom *g, int64_t o, int64_t s[3], int64_t lo[3], int64_t hi[3])
{
    int64_t op[3] = {o / (g->out[1] * g->out[2]), o / g->out[2] % g->out[1], o % g->out[2]};
    for (int a = 0; a < 3; a++) {
        s[a] = op[a] * g->st[a] - g->pb[a];
        taps(s[a], g->dil[a], g->k[a], g->in[a], &lo[a], &hi[a]);
    }
}

static void pool(const PoolGeom *g, int dt, const void *x, void *y, int64_t *ind,
                 int64_t pl0, int64_t pl1)
{
    const float *xf = dt == RT_F32 ? x : NULL;
    float *yf = dt == RT_F32 ? y : NULL;
    int64_t si = g->in[0] * g->in[1] * g->in[2], so = g->out[0] * g->out[1] * g->out[2];
    for (int64_t pl = pl0; pl < pl1; pl++)
        for (int64_t o = 0; o < so; o++) {
            int64_t s[3], lo[3], hi[3];
            window(g, o, s, lo, hi);
            double acc = g->mode == RT_POOL_MAX ? -HUGE_VAL : 0;
            int64_t best = -1, count = 0;
            for (int64_t kd = lo[0]; kd < hi[0]; kd++)
                for (int64_t kh = lo[1]; kh < hi[1]; kh++) {
                    int64_t id = s[0] + kd * g->dil[0], ih = s[1] + kh * g->dil[1];
                    int64_t row = pl * si + (id * g->in[1] + ih) * g->in[2];
                    for (int64_t kw = lo[2]; kw < hi[2]; kw++) {
                        int64_t i = row + s[2] + kw * g->dil[2];
                        double v = xf ? xf[i] : rt_load_f64(x, dt, i);
                        if (g->mode == RT_POOL_AVG) {
                            acc += v;
                        } else if (v > acc || best < 0) {
                            acc = v;
                            best = i;
                        }
                        count++;
                    }
                }
            if (g->mode == RT_POOL_AVG) {
                if (g->include_pad) {
                    count = 1;
                    for (int a = 0; a < 3; a++)
                        count *= padded_taps(s[a], g->dil[a], g->k[a], g->in[a], g->pb[a],
                                             g->pe[a]);
                }
                acc = count ? acc / (double)count : 0;
            }
            if (yf)
                yf[pl * so + o] = (float)acc;
            else
                rt_store_f64(y, dt, pl * so + o, acc);
            if (ind) {
                int64_t r = best < 0 ? 0 : best - pl * si;
                if (g->col_major) {
                    /* the first spatial axis fastest; padding axes have extent 1 */
                    int64_t w = r % g->in[2], h = r / g->in[2] % g->in[1];
                    int64_t d = r / (g->in[1] * g->in[2]);
                    r = d + g->in[0] * (h + g->in[1] * w);
                }
                ind[pl * so + o] = pl * si + r;
            }
        }
}

/* Output row (od, oh) of a plane: its window's first input depth and row
 * (sd, sh; they may lie in the padding) and the taps inside X along those
 * axes, [d0, d1) and [h0, h1). */
static void row_window(const PoolGeom *g, int64_t od, int64_t oh, int64_t *sd, int64_t *sh,
                       int64_t *d0, int64_t *d1, int64_t *h0, int64_t *h1)
{
    *sd = od * g->st[0] - g->pb[0];
    *sh = oh * g->st[1] - g->pb[1];
    taps(*sd, g->dil[0], g->k[0], g->in[0], d0, d1);
    taps(*sh, g->dil[1], g->k[1], g->in[1], h0, h1);
}

/* float32 without Indices: whole output rows at a time. For each input row
 * and kernel column the clipped range of outputs is one (strided) vectorizable
 * loop; the average's divisor is counted the same way, per output column. */
HOT static void pool_f32(const PoolGeom *g, const float *x, float *y, int64_t pl0, int64_t pl1)
{
    enum { CH = 256 };
    float acc[CH], cnt[CH];
    int is_max = g->mode == RT_POOL_MAX;
    int64_t si = g->in[0] * g->in[1] * g->in[2], W = g->in[2], OW = g->out[2];
    int64_t sw = g->st[2], dw = g->dil[2];
    for (int64_t pl = pl0; pl < pl1; pl++)
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                int64_t sd, sh, d0, d1, h0, h1;
                row_window(g, od, oh, &sd, &sh, &d0, &d1, &h0, &h1);
                double rows = (double)(d1 - d0) * (double)(h1 - h0);
                if (g->include_pad)
                    rows = (double)padded_taps(sd, g->dil[0], g->k[0], g->in[0], g->pb[0],
                                               g->pe[0]) *
                           (double)padded_taps(sh, g->dil[1], g->k[1], g->in[1], g->pb[1],
                                               g->pe[1]);
                float *yr = y + ((pl * g->out[0] + od) * g->out[1] + oh) * OW;
                for (int64_t q0 = 0; q0 < OW; q0 += CH) {
                    int64_t nq = OW - q0 < CH ? OW - q0 : CH;
                    for (int64_t q = 0; q < nq; q++) {
                        acc[q] = is_max ? -HUGE_VALF : 0;
                        cnt[q] = 0;
                    }
                    for (int64_t kw = 0; kw < g->k[2]; kw++) {
                        /* outputs q0 + [lo, hi) whose tap kw lands in the row */
                        int64_t i0 = (q0 * sw - g->pb[2]) + kw * dw, lo, hi;
                        taps_out(i0, sw, W, nq, &lo, &hi);
                        for (int64_t kd = d0; kd < d1; kd++)
                            for (int64_t kh = h0; kh < h1; kh++) {
                                const float *xr = x + pl * si +
                                                  ((sd + kd * g->dil[0]) * g->in[1] + sh +
                                                   kh * g->dil[1]) * W;
                                if (is_max)
                                    for (int64_t q = lo; q < hi; q++) {
                                        float v = xr[i0 + q * sw];
                                        acc[q] = v > acc[q] ? v : acc[q];
                                    }
                                else
                                    for (int64_t q = lo; q < hi; q++)
                                        acc[q] += xr[i0 + q * sw];
                            }
                        if (!is_max) {
                            if (g->include_pad)
                                taps_out(i0 + g->pb[2], sw, W + g->pb[2] + g->pe[2], nq, &lo,
                                         &hi);
                            for (int64_t q = lo; q < hi; q++)
                                cnt[q] += 1;
                        }
                    }
                    if (is_max)
                        for (int64_t q = 0; q < nq; q++)
                            yr[q0 + q] = acc[q];
                    else
                        for (int64_t q = 0; q < nq; q++)
                            yr[q0 + q] = cnt[q] * rows > 0 ? acc[q] / (float)(cnt[q] * rows) : 0;
                }
            }
}

/* The widest padded row the float MaxPool by rows keeps (two such rows of
 * floats are on the stack); wider rows take pool_f32. */
#define POOLF_MAX_W 2048

/* float32 MaxPool by rows. pool_f32 reads the input with the stride, one
 * column of taps at a time, which stride 2 (every CNN stem) keeps from
 * vectorizing. Here the maximum over the window's rows is one contiguous
 * pass per input row into a padded row of maxima (vm, -inf in the padding),
 * the maximum over its columns another contiguous pass (hm), and the stride
 * only picks every s-th of those. The comparison is pool_f32's (a NaN never
 * replaces the running maximum), so only the order of equal values can
 * differ (+0 against -0). Returns 0 when the padded row is too wide. */
HOT static int maxpool_rows_f32(const PoolGeom *g, const float *x, float *y, int64_t pl0,
                                int64_t pl1)
{
    int64_t W = g->in[2], OW = g->out[2], sw = g->st[2], dw = g->dil[2];
    if (OW <= 0)
        return 1;
    int64_t span = (OW - 1) * sw + 1; /* hm columns an output reads */
    int64_t pw = span + (g->k[2] - 1) * dw; /* vm columns: padding included */
    if (pw > POOLF_MAX_W)
        return 0;
    float vm[POOLF_MAX_W], hm[POOLF_MAX_W];
    int64_t si = g->in[0] * g->in[1] * g->in[2], pb = g->pb[2];
    /* the input's columns in vm: [ja, jb) */
    int64_t ja = pb < pw ? pb : pw, jb = pb + W < pw ? pb + W : pw;
    for (int64_t pl = pl0; pl < pl1; pl++)
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                int64_t sd, sh, d0, d1, h0, h1;
                row_window(g, od, oh, &sd, &sh, &d0, &d1, &h0, &h1);
                for (int64_t j = 0; j < pw; j++)
                    vm[j] = -HUGE_VALF;
                for (int64_t kd = d0; kd < d1; kd++)
                    for (int64_t kh = h0; kh < h1; kh++) {
                        const float *xr = x + pl * si +
                                          ((sd + kd * g->dil[0]) * g->in[1] + sh +
                                           kh * g->dil[1]) * W;
                        for (int64_t j = ja; j < jb; j++) {
                            float v = xr[j - pb];
                            vm[j] = v > vm[j] ? v : vm[j];
                        }
                    }
                float *yr = y + ((pl * g->out[0] + od) * g->out[1] + oh) * OW;
                float *h = sw == 1 ? yr : hm;
                for (int64_t j = 0; j < span; j++)
                    h[j] = vm[j];
                for (int64_t kw = 1; kw < g->k[2]; kw++) {
                    const float *v = vm + kw * dw;
                    for (int64_t j = 0; j < span; j++)
                        h[j] = v[j] > h[j] ? v[j] : h[j];
                }
                if (sw != 1)
                    for (int64_t q = 0; q < OW; q++)
                        yr[q] = hm[q * sw];
            }
    return 1;
}

/* The widest input row the 8-bit MaxPool takes (its row of maxima is on
 * the stack); wider rows take the general loop. */
#define POOL8_MAX_W 4096

/* y[q] = hm[2 q - pw] ^ flip for q from qa while a whole vector of them
 * fits before qb and inside hm (n bytes); returns the first q not done.
 * The even bytes of a vector are the low bytes of its 16-bit lanes. */
static int64_t take_even8(uint8_t *y, const uint8_t *hm, int64_t qa, int64_t qb, int64_t pw,
                          int64_t n, uint8_t flip)
{
    int64_t q = qa;
#if defined(__AVX512BW__)
    __m256i f = _mm256_set1_epi8((char)flip);
    for (; q + 32 <= qb && 2 * q - pw + 64 <= n; q += 32) {
        __m512i v = _mm512_loadu_si512(hm + 2 * q - pw);
        _mm256_storeu_si256((__m256i *)(y + q), _mm256_xor_si256(_mm512_cvtepi16_epi8(v), f));
    }
    if (q < qb && 2 * q - pw + 64 <= n) { /* the last few, masked */
        __m512i v = _mm512_loadu_si512(hm + 2 * q - pw);
        __mmask32 k = (__mmask32)((1ull << (qb - q)) - 1);
        _mm256_mask_storeu_epi8(y + q, k, _mm256_xor_si256(_mm512_cvtepi16_epi8(v), f));
        q = qb;
    }
#elif defined(__AVX2__)
    __m256i f = _mm256_set1_epi8((char)flip), lo = _mm256_set1_epi16(0xff);
    for (; q + 32 <= qb && 2 * q - pw + 64 <= n; q += 32) {
        __m256i a = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(hm + 2 * q - pw)), lo);
        __m256i b =
            _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(hm + 2 * q - pw + 32)), lo);
        /* packus works per 128-bit lane: a0 b0 a1 b1, then the quadwords in order */
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xd8);
        _mm256_storeu_si256((__m256i *)(y + q), _mm256_xor_si256(p, f));
    }
#elif defined(__SSE2__)
    __m128i f = _mm_set1_epi8((char)flip), lo = _mm_set1_epi16(0xff);
    for (; q + 16 <= qb && 2 * q - pw + 32 <= n; q += 16) {
        __m128i a = _mm_and_si128(_mm_loadu_si128((const __m128i *)(hm + 2 * q - pw)), lo);
        __m128i b = _mm_and_si128(_mm_loadu_si128((const __m128i *)(hm + 2 * q - pw + 16)), lo);
        _mm_storeu_si128((__m128i *)(y + q), _mm_xor_si128(_mm_packus_epi16(a, b), f));
    }
#else
    (void)y, (void)hm, (void)qb, (void)pw, (void)n, (void)flip;
#endif
    return q;
}

/* MaxPool of uint8 or int8 without Indices (passes/qdq.c runs a quantized
 * MaxPool on its 8-bit tensor): the max is exact in the stored type. int8
 * is compared as its byte with the top bit flipped (flip 0x80), which
 * orders it as uint8. Per output row, the max over the window's input rows
 * comes first (whole rows, vectorized), then over the taps along the row;
 * a window with no tap inside the input gives the type's minimum. */
HOT static void pool_max8(const PoolGeom *g, const uint8_t *x, uint8_t *y, uint8_t flip,
                          int64_t pl0, int64_t pl1)
{
    uint8_t row[POOL8_MAX_W], hm[POOL8_MAX_W];
    int64_t si = g->in[0] * g->in[1] * g->in[2], W = g->in[2], OW = g->out[2];
    int64_t sw = g->st[2], dw = g->dil[2], kw = g->k[2], pw = g->pb[2];
    /* outputs [qa, qb) have every tap of their row inside it */
    int64_t qa = (pw + sw - 1) / sw, qb = W - 1 - (kw - 1) * dw + pw;
    qb = qb < 0 ? 0 : qb / sw + 1;
    qb = qb < OW ? qb : OW;
    qa = qa < qb ? qa : qb;
    int64_t nh = W - (kw - 1) * dw;
    nh = nh > 0 ? nh : 0;
    for (int64_t pl = pl0; pl < pl1; pl++)
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                int64_t sd, sh, d0, d1, h0, h1;
                row_window(g, od, oh, &sd, &sh, &d0, &d1, &h0, &h1);
                memset(row, 0, (size_t)W);
                for (int64_t kd = d0; kd < d1; kd++)
                    for (int64_t kh = h0; kh < h1; kh++) {
                        const uint8_t *xr = x + pl * si +
                                            ((sd + kd * g->dil[0]) * g->in[1] + sh +
                                             kh * g->dil[1]) * W;
                        for (int64_t i = 0; i < W; i++) {
                            uint8_t v = xr[i] ^ flip;
                            row[i] = v > row[i] ? v : row[i];
                        }
                    }
                /* hm[i]: the max of the kw taps from i, at every i (contiguous,
                 * vectorized, though a stride reads only every sw-th) */
                for (int64_t i = 0; i < nh; i++)
                    hm[i] = row[i];
                for (int64_t t = 1; t < kw; t++)
                    for (int64_t i = 0; i < nh; i++) {
                        uint8_t v = row[i + t * dw];
                        hm[i] = v > hm[i] ? v : hm[i];
                    }
                uint8_t *yr = y + ((pl * g->out[0] + od) * g->out[1] + oh) * OW;
                int64_t qv = sw == 2 ? take_even8(yr, hm, qa, qb, pw, POOL8_MAX_W, flip) : qa;
                for (int64_t q = qv; q < qb; q++)
                    yr[q] = hm[q * sw - pw] ^ flip;
                /* the outputs before qa and from qb on, tap by tap */
                for (int64_t q = 0; q < OW; q++) {
                    if (q == qa)
                        q = qb;
                    if (q >= OW)
                        break;
                    int64_t i0 = q * sw - pw, lo, hi;
                    taps(i0, dw, kw, W, &lo, &hi);
                    uint8_t m = 0;
                    for (int64_t t = lo; t < hi; t++) {
                        uint8_t v = row[i0 + t * dw];
                        m = v > m ? v : m;
                    }
                    yr[q] = m ^ flip;
                }
            }
}

static void pool_range(void *ctx, int64_t lo, int64_t hi)
{
    const PoolJob *j = ctx;
    if ((j->dt == RT_U8 || j->dt == RT_I8) && !j->ind && j->g->mode == RT_POOL_MAX &&
        j->g->in[2] <= POOL8_MAX_W)
        pool_max8(j->g, j->x, j->y, j->dt == RT_I8 ? 0x80 : 0, lo, hi);
    else if (j->dt == RT_F32 && !j->ind) {
        if (j->g->mode != RT_POOL_MAX || !maxpool_rows_f32(j->g, j->x, j->y, lo, hi))
            pool_f32(j->g, j->x, j->y, lo, hi);
    } else
        pool(j->g, j->dt, j->x, j->y, j->ind, lo, hi);
}

int rt_pool(const RtCall *c, const void *const *in, void *const *out)
{
    PoolGeom g;
    int rc = read_geom(c, &g);
    if (rc)
        return rc;
    int dt = c->in[0].dtype;
    if (!rt_is_float(dt) && dt != RT_I8 && dt != RT_U8 && dt != RT_I32 && dt != RT_I64)
        return RT_EDTYPE;
    int64_t *ind = c->n_out > 1 && c->out[1].dtype == RT_I64 ? out[1] : NULL;
    PoolJob j = {.g = &g, .dt = dt, .x = in[0], .y = out[0], .ind = ind};
    rt_parallel_for(g.planes, plane_grain(g.in[0] * g.in[1] * g.in[2]), pool_range, &j);
    return RT_OK;
}

/* The sum and the maximum of one plane of n floats: GAW independent
 * accumulators (four vectors of 16 on AVX-512, eight of 8 on AVX2), then 8,
 * then one. With a single vector of 8 the loop waited on the add's latency:
 * a squeeze-excite pool read its input at a fraction of L2's bandwidth. */
enum { GAW = 64 };

HOT static float plane_sum(const float *x, int64_t n)
{
    float acc[GAW] = {0}, a8[8] = {0};
    int64_t i = 0;
    for (; i + GAW <= n; i += GAW)
        for (int t = 0; t < GAW; t++)
            acc[t] += x[i + t];
    for (; i + 8 <= n; i += 8)
        for (int t = 0; t < 8; t++)
            a8[t] += x[i + t];
    for (int t = 0; i < n; i++, t++)
        a8[t] += x[i];
    for (int t = 0; t < GAW; t++)
        a8[t % 8] += acc[t];
    float s = 0;
    for (int t = 0; t < 8; t++)
        s += a8[t];
    return s;
}

/* (v > m ? v : m: NaN inputs are skipped, as they always were here) */
HOT static float plane_max(const float *x, int64_t n)
{
    float acc[GAW], a8[8];
    for (int t = 0; t < GAW; t++)
        acc[t] = -HUGE_VALF;
    for (int t = 0; t < 8; t++)
        a8[t] = -HUGE_VALF;
    int64_t i = 0;
    for (; i + GAW <= n; i += GAW)
        for (int t = 0; t < GAW; t++)
            acc[t] = x[i + t] > acc[t] ? x[i + t] : acc[t];
    for (; i + 8 <= n; i += 8)
        for (int t = 0; t < 8; t++)
            a8[t] = x[i + t] > a8[t] ? x[i + t] : a8[t];
    for (int t = 0; i < n; i++, t++)
        a8[t] = x[i] > a8[t] ? x[i] : a8[t];
    for (int t = 0; t < GAW; t++)
        a8[t % 8] = acc[t] > a8[t % 8] ? acc[t] : a8[t % 8];
    float m = a8[0];
    for (int t = 1; t < 8; t++)
        m = a8[t] > m ? a8[t] : m;
    return m;
}

/* Global pooling of planes [p0, p1). */
HOT static void global_range(void *ctx, int64_t p0, int64_t p1)
{
    const PoolJob *j = ctx;
    int mode = j->mode, dt = j->dt;
    int64_t sz = j->sz;
    if (dt == RT_F32) {
        const float *xf = j->x;
        float *yf = j->y;
        for (int64_t p = p0; p < p1; p++)
            yf[p] = mode == RT_POOL_MAX ? plane_max(xf + p * sz, sz)
                                        : plane_sum(xf + p * sz, sz) / (float)sz;
        return;
    }
    for (int64_t p = p0; p < p1; p++) {
        double acc = mode == RT_POOL_MAX ? -HUGE_VAL : 0;
        for (int64_t i = 0; i < sz; i++) {
            double v = rt_load_f64(j->x, dt, p * sz + i);
            acc = mode == RT_POOL_MAX ? (v > acc ? v : acc) : acc + v;
        }
        rt_store_f64(j->y, dt, p, mode == RT_POOL_MAX ? acc : acc / (double)sz);
    }
}

int rt_global_pool(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    if (c->n_ints < RT_GLOBAL_POOL_NINTS || x->rank < 2)
        return RT_EINVAL;
    int mode = (int)c->ints[RT_GLOBAL_POOL_MODE], dt = x->dtype;
    int64_t planes = x->dims[0] * x->dims[1], sz = rt_numel(x) / (planes ? planes : 1);
    if (!rt_is_float(dt))
        return RT_EDTYPE;
    PoolJob j = {.dt = dt, .mode = mode, .x = in[0], .y = out[0], .sz = sz};
    rt_parallel_for(planes, plane_grain(sz), global_range, &j);
    return RT_OK;
}

/* ---- LpPool ---- */

typedef struct LpJob {
    const PoolGeom *g;
    int dt;
    double p;
    const void *x;
    void *y;
} LpJob;

/* |v|^p without pow() for the exponents models use. */
static double lp_pow(double v, double p)
{
    v = fabs(v);
    return p == 1 ? v : p == 2 ? v * v : p == 3 ? v * v * v : pow(v, p);
}

/* Planes [pl0, pl1): each output is (sum over the window's taps inside X of
 * |x|^p)^(1/p), summed in double; taps in the padding are zeros and add
 * nothing (ONNX's LpPool test data computes it on the zero-padded input). */
static void lppool_range(void *ctx, int64_t pl0, int64_t pl1)
{
    const LpJob *j = ctx;
    const PoolGeom *g = j->g;
    int64_t si = g->in[0] * g->in[1] * g->in[2], so = g->out[0] * g->out[1] * g->out[2];
    for (int64_t pl = pl0; pl < pl1; pl++)
        for (int64_t o = 0; o < so; o++) {
            int64_t s[3], lo[3], hi[3];
            window(g, o, s, lo, hi);
            double acc = 0;
            for (int64_t kd = lo[0]; kd < hi[0]; kd++)
                for (int64_t kh = lo[1]; kh < hi[1]; kh++) {
                    int64_t id = s[0] + kd * g->dil[0], ih = s[1] + kh * g->dil[1];
                    int64_t row = pl * si + (id * g->in[1] + ih) * g->in[2];
                    for (int64_t kw = lo[2]; kw < hi[2]; kw++) {
                        int64_t i = row + s[2] + kw * g->dil[2];
                        acc += lp_pow(j->dt == RT_F32 ? ((const float *)j->x)[i]
                                                      : rt_load_f64(j->x, j->dt, i), j->p);
                    }
                }
            double r = j->p == 1 ? acc : j->p == 2 ? sqrt(acc) : pow(acc, 1 / j->p);
            rt_store_f64(j->y, j->dt, pl * so + o, r);
        }
}

int rt_lppool(const RtCall *c, const void *const *in, void *const *out)
{
    PoolGeom g;
    int rc = read_geom(c, &g);
    if (rc)
        return rc;
    int dt = c->in[0].dtype;
    if (!rt_is_float(dt))
        return RT_EDTYPE;
    if (g.mode != RT_POOL_LP || c->n_floats < RT_POOL_NFLOATS || !(c->floats[RT_POOL_F_P] >= 1))
        return RT_EINVAL;
    LpJob j = {.g = &g, .dt = dt, .p = c->floats[RT_POOL_F_P], .x = in[0], .y = out[0]};
    rt_parallel_for(g.planes, plane_grain(g.in[0] * g.in[1] * g.in[2]), lppool_range, &j);
    return RT_OK;
}
