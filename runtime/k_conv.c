/* k_conv.c: Conv (implicit-im2col GEMM, 1x1 GEMM, direct depthwise) and ConvTranspose. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"

/* The spatial geometry of one call, padded to 3 axes (d, h, w): 1-D and 2-D
 * convolutions are 3-D ones with leading unit axes. */
typedef struct Geom {
    int64_t n, groups;
    int64_t cin, cout;           /* channels per group */
    int64_t in[3], k[3], out[3];
    int64_t st[3], dil[3], pad[3];
    int clamp;                   /* a fused activation clamps the output to [lo, hi] */
    float lo, hi;
    int act;                     /* the fused activation, RT_EPI_* */
    float p0, p1;                /* its parameters */
    int64_t pack;                /* W packed for a GEMM tile this large, or 0 */
    int pack_t;                  /* ... as B of the transposed product (tile columns) */
    int wino;                    /* W holds Winograd F(wino x wino, 3x3) filters, or 0 */
} Geom;

static int64_t prod3(const int64_t *v)
{
    return v[0] * v[1] * v[2];
}

/* The convolutions k_conv_wino.c computes: 2-D, 3x3, stride 1, undilated, one group. */
static int wino_shape(const Geom *g)
{
    return g->groups == 1 && g->in[0] == 1 && g->k[0] == 1 && g->k[1] == 3 && g->k[2] == 3 &&
           g->st[1] == 1 && g->st[2] == 1 && g->dil[1] == 1 && g->dil[2] == 1;
}

/* x/y are the convolution's input/output as seen by Conv: for ConvTranspose
 * x is the (larger) output and y the input, so one geometry serves both. */
static int read_geom(const RtCall *c, int transpose, Geom *g)
{
    const RtTensorDesc *x = &c->in[0], *w = &c->in[1], *y = &c->out[0];
    if (c->n_ints < RT_CONV_STRIDES)
        return RT_EINVAL;
    int64_t groups = c->ints[RT_CONV_GROUP];
    int nsp = (int)c->ints[RT_CONV_NSP];
    if (nsp < 1 || nsp > 3 || c->n_ints < RT_CONV_CLAMP(nsp) || groups < 1 || x->rank != nsp + 2 ||
        w->rank != nsp + 2 || y->rank != nsp + 2)
        return RT_EINVAL;
    g->n = x->dims[0];
    g->groups = groups;
    if (transpose) {
        g->cin = y->dims[1] / groups;
        g->cout = x->dims[1] / groups;
    } else {
        g->cin = x->dims[1] / groups;
        g->cout = y->dims[1] / groups;
    }
    for (int i = 0; i < 3; i++) {
        int s = i - (3 - nsp); /* spatial axis, or negative for a padding axis */
        g->in[i] = s < 0 ? 1 : (transpose ? y : x)->dims[2 + s];
        g->out[i] = s < 0 ? 1 : (transpose ? x : y)->dims[2 + s];
        g->k[i] = s < 0 ? 1 : w->dims[2 + s];
        g->st[i] = s < 0 ? 1 : c->ints[RT_CONV_STRIDES + s];
        g->dil[i] = s < 0 ? 1 : c->ints[RT_CONV_DIL(nsp) + s];
        g->pad[i] = s < 0 ? 0 : c->ints[RT_CONV_PADS(nsp) + s];
        if (g->st[i] < 1 || g->dil[i] < 1)
            return RT_EINVAL;
    }
    int64_t act = c->n_ints > RT_CONV_CLAMP(nsp) ? c->ints[RT_CONV_CLAMP(nsp)] : RT_EPI_NONE;
    if (act < RT_EPI_NONE || act > RT_EPI_SWISH)
        return RT_EINVAL;
    if (act != RT_EPI_NONE && act != RT_EPI_HARD_SWISH && act != RT_EPI_SWISH &&
        c->n_floats < RT_CONV_NFLOATS)
        return RT_EINVAL;
    g->act = (int)act;
    g->p0 = c->n_floats > RT_CONV_F_LO ? c->floats[RT_CONV_F_LO] : 0;
    g->p1 = c->n_floats > RT_CONV_F_HI ? c->floats[RT_CONV_F_HI] : 0;
    g->clamp = act == RT_EPI_CLAMP;
    g->lo = g->clamp ? g->p0 : -HUGE_VALF;
    g->hi = g->clamp ? g->p1 : HUGE_VALF;
    g->pack = c->n_ints > RT_CONV_PACK(nsp) ? c->ints[RT_CONV_PACK(nsp)] : 0;
    g->pack_t = c->n_ints > RT_CONV_PACK_T(nsp) && c->ints[RT_CONV_PACK_T(nsp)];
    if (g->pack < 0 || (g->pack && transpose))
        return RT_EINVAL;
    g->wino = c->n_ints > RT_CONV_WINO(nsp) ? (int)c->ints[RT_CONV_WINO(nsp)] : 0;
    if (g->wino && (g->wino != RT_WINO_M || !wino_shape(g) || !g->pack || g->pack_t))
        return RT_EINVAL;
    return RT_OK;
}

/* ---- implicit im2col: B[k][j] with k = (ci, kd, kh, kw) and j = (od, oh, ow) ---- */

typedef struct Im2col {
    const Geom *g;
    const float *x;              /* the group's first input channel */
} Im2col;

/* Smallest q >= 0 with 0 <= i0 + q*s, and one past the largest with i0 + q*s < lim. */
static void clip_range(int64_t i0, int64_t s, int64_t lim, int64_t len, int64_t *lo,
                       int64_t *hi)
{
    int64_t a = i0 < 0 ? (-i0 + s - 1) / s : 0;
    int64_t b = i0 >= lim ? 0 : (lim - 1 - i0) / s + 1;
    if (b > len)
        b = len;
    if (a > b)
        a = b;
    *lo = a;
    *hi = b;
}

/* Copies one panel row of nr floats; fixed sizes for the panel widths
 * k_gemm.c uses, so the compiler inlines them. */
static inline __attribute__((always_inline)) void copy_panel_row(float *d, const float *t, int nr)
{
    switch (nr) {
    case 8: memcpy(d, t, 8 * sizeof(float)); break;
    case 16: memcpy(d, t, 16 * sizeof(float)); break;
    case 32: memcpy(d, t, 32 * sizeof(float)); break;
    default: memcpy(d, t, (size_t)nr * sizeof(float)); break;
    }
}

/* Packs im2col rows [k0, k0+kc) x columns [j0, j0+nc). Each row of the
 * block is first assembled in a small buffer from runs of columns that lie
 * in one output row (contiguous input when the stride is 1), then split into
 * the nr-wide panels; per-run bounds are computed once per block, so the
 * per-row work has no divisions. */
#if defined(__GNUC__) && !defined(__clang__)
/* The short row copies below as inline vector loops: gcc otherwise turns
 * each into a memcpy call, which costs more than the copy for 7..56 floats. */
#define INLINE_COPIES __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define INLINE_COPIES
#endif
HOT INLINE_COPIES static void pack_im2col(const void *src, int64_t k0, int64_t kc, int64_t j0,
                                          int64_t nc, int nr, float *dst)
{
    const Im2col *ic = src;
    const Geom *g = ic->g;
    enum { CH = 128, MAXSEG = CH + 2, MAXKW = 16 };
    int64_t seg_pos[MAXSEG], seg_len[MAXSEG], seg_d[MAXSEG], seg_h[MAXSEG], seg_w[MAXSEG];
    int16_t seg_lo[MAXSEG][MAXKW], seg_hi[MAXSEG][MAXKW];
    float t[CH + 32];
    int64_t sw = g->st[2], plane = g->in[0] * g->in[1] * g->in[2];
    int cached = g->k[2] <= MAXKW;
    int64_t ch = nr <= 32 ? CH / nr * nr : nr; /* columns per chunk, whole panels */
    for (int64_t c0 = 0; c0 < nc; c0 += ch) {
        int64_t cn = nc - c0 < ch ? nc - c0 : ch;
        int64_t cw = (cn + nr - 1) / nr * nr;
        int ns = 0;
        for (int64_t done = 0, j = j0 + c0; done < cn && ns < MAXSEG; ns++) {
            int64_t ow = j % g->out[2], q = j / g->out[2];
            int64_t len = g->out[2] - ow < cn - done ? g->out[2] - ow : cn - done;
            seg_pos[ns] = done;
            seg_len[ns] = len;
            seg_w[ns] = ow * sw - g->pad[2];
            seg_h[ns] = (q % g->out[1]) * g->st[1] - g->pad[1];
            seg_d[ns] = (q / g->out[1]) * g->st[0] - g->pad[0];
            for (int64_t kw = 0; cached && kw < g->k[2]; kw++) {
                int64_t lo, hi;
                clip_range(seg_w[ns] + kw * g->dil[2], sw, g->in[2], len, &lo, &hi);
                seg_lo[ns][kw] = (int16_t)lo;
                seg_hi[ns][kw] = (int16_t)hi;
            }
            done += len;
            j += len;
        }
        for (int64_t q = cn; q < cw; q++)
            t[q] = 0;
        int64_t kw = k0 % g->k[2], r = k0 / g->k[2];
        int64_t kh = r % g->k[1];
        r /= g->k[1];
        int64_t kd = r % g->k[0], ci = r / g->k[0];
        float *d = dst + c0 * kc;
        for (int64_t p = 0; p < kc; p++) {
            const float *xc = ic->x + ci * plane;
            for (int s = 0; s < ns; s++) {
                float *ts = t + seg_pos[s];
                int64_t len = seg_len[s];
                int64_t id = seg_d[s] + kd * g->dil[0], ih = seg_h[s] + kh * g->dil[1];
                int64_t iw0 = seg_w[s] + kw * g->dil[2], lo = 0, hi = 0;
                if (id >= 0 && id < g->in[0] && ih >= 0 && ih < g->in[1]) {
                    if (cached) {
                        lo = seg_lo[s][kw];
                        hi = seg_hi[s][kw];
                    } else {
                        clip_range(iw0, sw, g->in[2], len, &lo, &hi);
                    }
                }
                const float *xr = xc + (id * g->in[1] + ih) * g->in[2];
                for (int64_t q = 0; q < lo; q++)
                    ts[q] = 0;
                if (sw == 1)
                    for (int64_t q = lo; q < hi; q++)
                        ts[q] = xr[iw0 + q];
                else if (sw == 2) /* a constant stride vectorizes (two loads, a permute) */
                    for (int64_t q = lo; q < hi; q++)
                        ts[q] = xr[iw0 + 2 * q];
                else
                    for (int64_t q = lo; q < hi; q++)
                        ts[q] = xr[iw0 + q * sw];
                for (int64_t q = hi; q < len; q++)
                    ts[q] = 0;
            }
            for (int64_t q = 0; q < cw; q += nr)
                copy_panel_row(d + q * kc + p * nr, t + q, nr);
            if (++kw == g->k[2]) {
                kw = 0;
                if (++kh == g->k[1]) {
                    kh = 0;
                    if (++kd == g->k[0]) {
                        kd = 0;
                        ci++;
                    }
                }
            }
        }
    }
}

/* The common depthwise case: 2-D, 3x3, undilated along the row. */
static int dw3_ok(const Geom *g)
{
    return g->in[0] == 1 && g->k[0] == 1 && g->k[1] == 3 && g->k[2] == 3 && g->dil[2] == 1;
}

/* Capacity (floats) of one padded input row of conv_dw3; wider rows take the
 * generic depthwise path. */
#define DW_ROW 1024

/* Nine multiply-adds per output over three zero-padded input rows, vectorized
 * along the row: for stride 2 each row is stored as its even columns then its
 * odd columns (half apart), so all reads stay contiguous. */
HOT static void dw3_row(float *restrict y, int64_t n, const float *r0, const float *r1,
                        const float *r2, const float *w, float b, int64_t s, int64_t half,
                        float lo, float hi)
{
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    const float w6 = w[6], w7 = w[7], w8 = w[8];
    if (s == 1) {
        for (int64_t q = 0; q < n; q++)
            y[q] = clampf(b + w0 * r0[q] + w1 * r0[q + 1] + w2 * r0[q + 2] + w3 * r1[q] +
                          w4 * r1[q + 1] + w5 * r1[q + 2] + w6 * r2[q] + w7 * r2[q + 1] +
                          w8 * r2[q + 2], lo, hi);
    } else if (s == 2) {
        const float *o0 = r0 + half, *o1 = r1 + half, *o2 = r2 + half;
        for (int64_t q = 0; q < n; q++)
            y[q] = clampf(b + w0 * r0[q] + w1 * o0[q] + w2 * r0[q + 1] + w3 * r1[q] +
                          w4 * o1[q] + w5 * r1[q + 1] + w6 * r2[q] + w7 * o2[q] +
                          w8 * r2[q + 1], lo, hi);
    } else {
        for (int64_t q = 0; q < n; q++) {
            int64_t i = q * s;
            y[q] = clampf(b + w0 * r0[i] + w1 * r0[i + 1] + w2 * r0[i + 2] + w3 * r1[i] +
                          w4 * r1[i + 1] + w5 * r1[i + 2] + w6 * r2[i] + w7 * r2[i + 1] +
                          w8 * r2[i + 2], lo, hi);
        }
    }
}

/* Input row xr (W columns) with pl zeros before it and zeros after, pw long;
 * for stride 2 split into even columns [0, half) and odd ones [half, 2 half). */
HOT static void dw3_pad_row(const float *xr, int64_t W, int64_t pl, int64_t pw, int64_t s,
                            int64_t half, float *tmp, float *dst)
{
    float *p = s == 2 ? tmp : dst;
    int64_t a = pl < pw ? pl : pw, e = pl + W < pw ? pl + W : pw;
    for (int64_t j = 0; j < a; j++)
        p[j] = 0;
    for (int64_t j = a; j < e; j++)
        p[j] = xr[j - pl];
    for (int64_t j = e > a ? e : a; j < pw; j++)
        p[j] = 0;
    if (s == 2)
        for (int64_t j = 0; j < half; j++) {
            dst[j] = p[2 * j];
            dst[half + j] = p[2 * j + 1];
        }
}

/* One output channel. Padded input rows are kept in a ring of three (the
 * window's height), so each is built once even when output rows share it. */
HOT static void dw3_channel(const Geom *g, const float *x, const float *wm, float b,
                            float *ym, int64_t pw, int64_t half, float (*ring)[DW_ROW],
                            const float *zero, float *tmp)
{
    int64_t W = g->in[2], OW = g->out[2], s = g->st[2];
    int64_t tag[3] = {INT64_MIN, INT64_MIN, INT64_MIN}; /* input row held by each slot */
    for (int64_t oh = 0; oh < g->out[1]; oh++) {
        const float *rows[3];
        int64_t need[3];
        for (int kh = 0; kh < 3; kh++)
            need[kh] = oh * g->st[1] - g->pad[1] + kh * g->dil[1];
        for (int kh = 0; kh < 3; kh++) {
            int64_t ih = need[kh];
            rows[kh] = zero;
            if (ih < 0 || ih >= g->in[1])
                continue;
            int slot = -1;
            for (int r = 0; r < 3; r++)
                if (tag[r] == ih)
                    slot = r;
            for (int r = 0; r < 3 && slot < 0; r++)
                if (tag[r] != need[0] && tag[r] != need[1] && tag[r] != need[2]) {
                    slot = r;
                    tag[r] = ih;
                    dw3_pad_row(x + ih * W, W, g->pad[2], pw, s, half, tmp, ring[r]);
                }
            rows[kh] = ring[slot];
        }
        dw3_row(ym + oh * OW, OW, rows[0], rows[1], rows[2], wm, b, s, half, g->lo, g->hi);
    }
}

/* 3x3 depthwise over zero-padded rows, so no output column needs bounds
 * checks; returns 0 (nothing done) for rows wider than DW_ROW. */
HOT static int conv_dw3(const Geom *g, const float *x, const float *w, const float *bias,
                        float *y)
{
    int64_t OW = g->out[2], s = g->st[2];
    int64_t pw = (OW - 1) * s + 3, half = s == 2 ? (pw + 1) / 2 : 0;
    if (pw + 1 > DW_ROW || 2 * half > DW_ROW)
        return 0;
    float ring[3][DW_ROW], zero[DW_ROW], tmp[DW_ROW];
    for (int64_t j = 0; j < pw + 1; j++)
        zero[j] = 0;
    for (int64_t m = 0; m < g->cout; m++)
        dw3_channel(g, x, w + 9 * m, bias ? bias[m] : 0, y + m * OW * g->out[1], pw, half,
                    ring, zero, tmp);
    return 1;
}

/* ---- depthwise 2-D, any window, stride, dilation and padding ----
 * NCHW puts one channel's output row in contiguous memory, so the kernel
 * vectorizes along the row: each tap (kh, kw) is one broadcast weight times
 * VL consecutive outputs. Reading input column ow*s + kw*d - pad then needs
 * two things the interior loop must not test for: the padding, and the
 * stride. Both are solved once per input row: the row is copied with its
 * zero padding and split into s phases (phase p holds padded columns
 * p, p+s, p+2s, ...), so every tap reads phase (kw*d) % s from offset
 * ow + (kw*d) / s: contiguous, in bounds, branch-free. Out-of-range input
 * rows (top and bottom padding) point at a zero row. A copied row serves
 * every output row and every output channel (multiplier > 1) that needs it. */
#if defined(__GNUC__) && !defined(RT_PLAIN_C)
#if defined(__AVX512F__)
#define DW_VL 16
#elif defined(__AVX__)
#define DW_VL 8
#else
#define DW_VL 4
#endif
/* GNU vector extensions, as in k_gemm.c: portable across ISAs */
typedef float DwVec __attribute__((vector_size(DW_VL * 4)));
typedef int32_t DwMask __attribute__((vector_size(DW_VL * 4)));
#define DW_INLINE static inline __attribute__((always_inline))
#define DW_SET1(f) ((DwVec){0} + (f))
/* NaN stays NaN, as in clampf: both comparisons are false */
#define DW_CLAMP(v, lo, hi)                                                        \
    do {                                                                           \
        DwMask m_ = (v) < (lo);                                                    \
        (v) = (DwVec)(((DwMask)(v) & ~m_) | ((DwMask)(lo) & m_));                  \
        m_ = (v) > (hi);                                                           \
        (v) = (DwVec)(((DwMask)(v) & ~m_) | ((DwMask)(hi) & m_));                  \
    } while (0)
#else
#define DW_VL 1
typedef float DwVec;
#define DW_INLINE static inline
#define DW_SET1(f) (f)
#define DW_CLAMP(v, lo, hi) ((v) = clampf((v), (lo), (hi)))
#endif
#define DW_NB 4    /* vectors per block: independent accumulators hide FMA latency */
#define DW_KMAX 16 /* widest window (taps per row) and tallest span of input rows */
#define DW_ROW 1024 /* floats per copied input row, all phases; wider rows use the fallback */

/* One output row of n: y[ow] = clamp(b + sum w[kh][kw] * rows[kh][off(kw) + ow]).
 * Constant kh_n, kw_n, s, d (the instances below) unroll the taps and fold
 * the offsets. The loads may run up to NB * VL - 1 past n: the rows are that long. */
DW_INLINE HOT void dw_row(float *restrict y, int64_t n, const float *const *rows, int64_t hl,
                          const float *w, float b, float lo, float hi, int kh_n, int kw_n, int s,
                          int d)
{
    int64_t off[DW_KMAX];
    for (int kw = 0; kw < kw_n; kw++)
        off[kw] = (kw * d % s) * hl + kw * d / s;
    const DwVec vb = DW_SET1(b), vlo = DW_SET1(lo), vhi = DW_SET1(hi);
    /* the last block is computed whole too (one accumulator alone would wait
     * on FMA latency) and stored clipped to n */
    for (int64_t j = 0; j < n; j += DW_NB * DW_VL) {
        DwVec acc[DW_NB];
        for (int v = 0; v < DW_NB; v++)
            acc[v] = vb;
        for (int kh = 0; kh < kh_n; kh++) {
            const float *r = rows[kh] + j;
#pragma GCC unroll 8
            for (int kw = 0; kw < kw_n; kw++) {
                const DwVec wv = DW_SET1(w[kh * kw_n + kw]);
                const float *q = r + off[kw];
#pragma GCC unroll 4
                for (int v = 0; v < DW_NB; v++) {
                    DwVec xv;
                    memcpy(&xv, q + v * DW_VL, sizeof xv);
                    acc[v] += wv * xv;
                }
            }
        }
        for (int v = 0; v < DW_NB; v++)
            DW_CLAMP(acc[v], vlo, vhi);
        if (j + DW_NB * DW_VL <= n) {
            memcpy(y + j, acc, sizeof acc);
        } else {
            float t[DW_NB * DW_VL];
            memcpy(t, acc, sizeof acc);
            memcpy(y + j, t, (size_t)(n - j) * sizeof(float));
        }
    }
}

typedef void (*DwRowFn)(float *restrict y, int64_t n, const float *const *rows, int64_t hl,
                        const float *w, float b, float lo, float hi, int kh_n, int kw_n, int s,
                        int d);

/* The shapes of MobileNet, EfficientNet and ConvNeXt get constant windows;
 * the generic instance takes any (kh_n, kw_n, s, d). */
#define DW_INSTANCE(name, KH, KW, S, D)                                                   \
    HOT static void name(float *restrict y, int64_t n, const float *const *rows, int64_t hl, \
                         const float *w, float b, float lo, float hi, int kh_n, int kw_n,   \
                         int s, int d)                                                    \
    {                                                                                     \
        (void)kh_n, (void)kw_n, (void)s, (void)d;                                         \
        dw_row(y, n, rows, hl, w, b, lo, hi, KH, KW, S, D);                               \
    }
DW_INSTANCE(dw_3x3s1, 3, 3, 1, 1)
DW_INSTANCE(dw_3x3s2, 3, 3, 2, 1)
DW_INSTANCE(dw_5x5s1, 5, 5, 1, 1)
DW_INSTANCE(dw_5x5s2, 5, 5, 2, 1)
DW_INSTANCE(dw_7x7s1, 7, 7, 1, 1)

HOT static void dw_any(float *restrict y, int64_t n, const float *const *rows, int64_t hl,
                       const float *w, float b, float lo, float hi, int kh_n, int kw_n, int s,
                       int d)
{
    dw_row(y, n, rows, hl, w, b, lo, hi, kh_n, kw_n, s, d);
}

static DwRowFn dw_pick(int64_t kh, int64_t kw, int64_t s, int64_t d)
{
    static const struct { int kh, kw, s; DwRowFn fn; } tab[] = {
        {3, 3, 1, dw_3x3s1}, {3, 3, 2, dw_3x3s2}, {5, 5, 1, dw_5x5s1},
        {5, 5, 2, dw_5x5s2}, {7, 7, 1, dw_7x7s1},
    };
    for (unsigned i = 0; d == 1 && i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].kh == kh && tab[i].kw == kw && tab[i].s == s)
            return tab[i].fn;
    return dw_any;
}

/* Input row xr (W columns) as it appears padded by pl zeros on the left (and
 * zeros on the right), split into s phases of hl floats each. */
HOT static void dw_copy_row(const float *xr, int64_t W, int64_t pl, int64_t s, int64_t hl,
                            float *dst)
{
    for (int64_t p = 0; p < s; p++, dst += hl) {
        int64_t a, e;
        clip_range(p - pl, s, W, hl, &a, &e);
        const float *src = xr + p - pl;
        for (int64_t j = 0; j < a; j++)
            dst[j] = 0;
        if (s == 1)
            memcpy(dst + a, src + a, (size_t)(e - a) * sizeof(float));
        else if (s == 2) /* a constant stride: the compiler vectorizes it with permutes */
            for (int64_t j = a; j < e; j++)
                dst[j] = src[2 * j];
        else
            for (int64_t j = a; j < e; j++)
                dst[j] = src[j * s];
        for (int64_t j = e; j < hl; j++)
            dst[j] = 0;
    }
}

/* All output channels of one input channel (the multiplier), 2-D. Returns 0
 * (nothing done) for shapes past the fixed buffers: 3-D, windows wider than
 * DW_KMAX, rows longer than DW_ROW. */
HOT static int conv_dw(const Geom *g, const float *x, const float *w, const float *bias,
                       float *y)
{
    int64_t kh_n = g->k[1], kw_n = g->k[2], s = g->st[2], d = g->dil[2];
    int64_t W = g->in[2], OW = g->out[2], OH = g->out[1], so = OH * OW;
    int64_t span = (kh_n - 1) * g->dil[1] + 1; /* input rows one output row reads */
    int64_t hl = OW + DW_NB * DW_VL + (kw_n - 1) * d / s; /* phase length, with over-read */
    if (g->in[0] != 1 || g->k[0] != 1 || g->out[0] != 1 || kw_n > DW_KMAX ||
        span > DW_KMAX || s * hl > DW_ROW)
        return 0;
    /* a direct-mapped ring: input row ih lives in slot ih % span, and the
     * rows of one output window are span-consecutive, so they never collide */
    float ring[DW_KMAX][DW_ROW], zero[DW_ROW];
    int64_t tag[DW_KMAX];
    const float *rows[DW_KMAX];
    DwRowFn fn = dw_pick(kh_n, kw_n, s, d);
    for (int64_t j = 0; j < s * hl; j++)
        zero[j] = 0;
    for (int64_t r = 0; r < span; r++)
        tag[r] = -1;
    for (int64_t oh = 0; oh < OH; oh++) {
        for (int64_t kh = 0; kh < kh_n; kh++) {
            int64_t ih = oh * g->st[1] - g->pad[1] + kh * g->dil[1];
            rows[kh] = zero;
            if (ih < 0 || ih >= g->in[1])
                continue;
            int64_t slot = ih % span;
            if (tag[slot] != ih) {
                dw_copy_row(x + ih * W, W, g->pad[2], s, hl, ring[slot]);
                tag[slot] = ih;
            }
            rows[kh] = ring[slot];
        }
        for (int64_t m = 0; m < g->cout; m++)
            fn(y + m * so + oh * OW, OW, rows, hl, w + m * kh_n * kw_n, bias ? bias[m] : 0, g->lo,
               g->hi, (int)kh_n, (int)kw_n, (int)s, (int)d);
    }
    return 1;
}

/* ---- depthwise 2-D on small maps: the whole channel as one flat vector ----
 * conv_dw vectorizes along one output row in blocks of DW_NB * DW_VL (64
 * floats on AVX-512), so a 7x7 or 14x14 map computes mostly padding lanes
 * (7 of 64 useful). Here the zero-padded input channel is copied once into
 * sh x sw phase planes of one common width wp (phase (a, b) holds padded
 * rows a, a+sh, ... and columns b, b+sw, ...), and the output is computed
 * flat with that same width: output (oh, ow) sits at q = oh * wp + ow and tap
 * (kh, kw) reads its phase plane at q + (kh*dh / sh) * wp + kw*dw / sw, one
 * contiguous stream per tap across all the output rows. The wp - OW columns
 * past each row are computed and dropped (they read the next phase row or
 * the zeroed margin, in bounds). */
#define DW_PLANE 16384 /* floats: one channel's phase planes plus its flat output */
#define DW_PLANE_OW3 32 /* widest output row a 3x3 window takes here rather than conv_dw3 */
#define DW_TAPS (DW_KMAX * DW_KMAX)

/* y[q] = clamp(b + sum_t w[t] * tp[t][q]) for q in [j0, j0 + nb * DW_VL):
 * nb independent accumulators (constant in each instance below). */
DW_INLINE HOT void dw_flat_blk(float *restrict y, int64_t j0, const float *const *tp, int taps,
                               const float *w, DwVec vb, DwVec vlo, DwVec vhi, int nb)
{
    DwVec acc[DW_NB];
    for (int v = 0; v < nb; v++)
        acc[v] = vb;
    for (int t = 0; t < taps; t++) {
        const DwVec wv = DW_SET1(w[t]);
        const float *q = tp[t] + j0;
#pragma GCC unroll 4
        for (int v = 0; v < nb; v++) {
            DwVec xv;
            memcpy(&xv, q + v * DW_VL, sizeof xv);
            acc[v] += wv * xv;
        }
    }
    for (int v = 0; v < nb; v++)
        DW_CLAMP(acc[v], vlo, vhi);
    memcpy(y + j0, acc, (size_t)nb * sizeof acc[0]);
}

/* The whole flat output of n in blocks of DW_NB vectors, the tail in the
 * fewest vectors that cover it (a 7x7 map's 77 flat outputs: 5 vectors, not
 * 8); y and the taps' planes have DW_NB * DW_VL floats of margin past n. */
HOT static void dw_flat(float *restrict y, int64_t n, const float *const *tp, int taps,
                        const float *w, float b, float lo, float hi)
{
    const DwVec vb = DW_SET1(b), vlo = DW_SET1(lo), vhi = DW_SET1(hi);
    int64_t j = 0;
    for (; j + (DW_NB - 1) * DW_VL < n; j += DW_NB * DW_VL)
        dw_flat_blk(y, j, tp, taps, w, vb, vlo, vhi, DW_NB);
    switch ((n - j + DW_VL - 1) / DW_VL) { /* 0 .. DW_NB - 1 vectors left */
    case 1: dw_flat_blk(y, j, tp, taps, w, vb, vlo, vhi, 1); break;
    case 2: dw_flat_blk(y, j, tp, taps, w, vb, vlo, vhi, 2); break;
    case 3: dw_flat_blk(y, j, tp, taps, w, vb, vlo, vhi, 3); break;
    default: break;
    }
}

/* The phase planes' geometry: width wp, height hp per plane. */
static void dw_plane_dims(const Geom *g, int64_t *wp, int64_t *hp)
{
    int64_t sh = g->st[1], sw = g->st[2];
    int64_t pw = (g->out[2] - 1) * sw + (g->k[2] - 1) * g->dil[2] + 1;
    int64_t ph = (g->out[1] - 1) * sh + (g->k[1] - 1) * g->dil[1] + 1;
    *wp = (pw + sw - 1) / sw;
    *hp = (ph + sh - 1) / sh;
}

/* Floats conv_dw_plane needs for g, or -1 for a shape it does not take. */
static int64_t dw_plane_size(const Geom *g)
{
    if (g->in[0] != 1 || g->k[0] != 1 || g->out[0] != 1 || g->k[1] * g->k[2] > DW_TAPS ||
        g->st[2] > DW_KMAX)
        return -1;
    int64_t wp, hp, blk = DW_NB * DW_VL;
    dw_plane_dims(g, &wp, &hp);
    int64_t flat = (g->out[1] * wp + blk - 1) / blk * blk;
    return g->st[1] * g->st[2] * hp * wp + wp + 2 * blk + flat + blk;
}

/* Groups [lo, hi) (image * groups + group, one input channel each), all
 * their output channels; the caller checked dw_plane_size against DW_PLANE.
 * An activation act other than the clamp (RT_EPI_NONE: none) is applied to
 * each channel's flat output while it is in L1, not in a pass of its own
 * over the whole output afterwards.
 * The tap offsets and the zeroed margin are set up once per range: per
 * channel they cost more than a 7x7 map's arithmetic. Not inlined: its
 * buffer and conv_dw's ring would share one frame. */
__attribute__((noinline)) HOT INLINE_COPIES static void conv_dw_plane(const Geom *g,
                                                                      const float *x,
                                                                      const float *w,
                                                                      const float *bias,
                                                                      float *y, int64_t lo,
                                                                      int64_t hi, int act,
                                                                      float p0, float p1)
{
    float buf[DW_PLANE];
    int64_t sh = g->st[1], sw = g->st[2], wp, hp, blk = DW_NB * DW_VL;
    int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
    dw_plane_dims(g, &wp, &hp);
    int64_t psz = hp * wp, planes = sh * sw * psz, flat_n = OH * wp;
    float *flat = buf + planes + wp + 2 * blk;
    /* the padding is at the same places for every channel: zeroed once here
     * with the margin the dropped columns of the last rows read, and only
     * the input's own rows and columns are copied per channel */
    for (int64_t j = 0; j < planes + wp + 2 * blk; j++)
        buf[j] = 0;
    const float *tp[DW_TAPS];
    int taps = (int)(g->k[1] * g->k[2]);
    for (int64_t kh = 0; kh < g->k[1]; kh++)
        for (int64_t kw = 0; kw < g->k[2]; kw++) {
            int64_t r = kh * g->dil[1], c = kw * g->dil[2];
            tp[kh * g->k[2] + kw] = buf + (r % sh * sw + c % sw) * psz + r / sh * wp + c / sw;
        }
    int64_t clo[DW_KMAX], chi[DW_KMAX]; /* per column phase: the columns inside the input */
    for (int64_t b = 0; b < sw; b++)
        clip_range(b - g->pad[2], sw, W, wp, &clo[b], &chi[b]);
    int64_t so = OH * OW;
    for (int64_t q = lo; q < hi; q++) {
        int64_t gr = q % g->groups;
        const float *xq = x + q * H * W;
        for (int64_t a = 0; a < sh; a++)
            for (int64_t b = 0; b < sw; b++) {
                float *pl = buf + (a * sw + b) * psz;
                int64_t l = clo[b], e = chi[b];
                int64_t i0, i1; /* the phase rows inside the input */
                clip_range(a - g->pad[1], sh, H, hp, &i0, &i1);
                for (int64_t i = i0; i < i1; i++) {
                    float *d = pl + i * wp;
                    const float *src = xq + (i * sh + a - g->pad[1]) * W + b - g->pad[2];
                    if (sw == 1)
                        for (int64_t j = l; j < e; j++)
                            d[j] = src[j];
                    else if (sw == 2)
                        for (int64_t j = l; j < e; j++)
                            d[j] = src[2 * j];
                    else
                        for (int64_t j = l; j < e; j++)
                            d[j] = src[j * sw];
                }
            }
        for (int64_t m = 0; m < g->cout; m++) {
            int64_t mo = gr * g->cout + m;
            dw_flat(flat, flat_n, tp, taps, w + mo * taps, bias ? bias[mo] : 0, g->lo, g->hi);
            if (act != RT_EPI_NONE)
                rt_epi_apply(flat, NULL, flat_n, act, p0, p1);
            float *ym = y + (q * g->cout + m) * so;
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++)
                    ym[oh * OW + ow] = flat[oh * wp + ow];
        }
    }
}

static void fill_bias(float *y, const float *bias, int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++) {
        float b = bias ? bias[r] : 0;
        for (int64_t j = 0; j < cols; j++)
            y[r * cols + j] = b;
    }
}

/* The fused activation as a pass of its own, for the paths without an epilogue. */
HOT static void clamp_all(const Geom *g, float *y, int64_t n)
{
    for (int64_t i = 0; g->clamp && i < n; i++)
        y[i] = clampf(y[i], g->lo, g->hi);
}

/* Depthwise-style groups (one input channel each) that conv_dw3 and conv_dw
 * leave: 3-D, very wide rows or windows. Direct loops over output rows, as
 * strided axpys over the clipped valid range. */
HOT static void conv_depthwise(const Geom *g, const float *x, const float *w,
                               const float *bias, float *y)
{
    enum { MAXK = 32 };
    int64_t kk = prod3(g->k), so = prod3(g->out), sw = g->st[2];
    int64_t lo[MAXK], hi[MAXK];
    int cached = g->k[2] <= MAXK;
    for (int64_t kw = 0; cached && kw < g->k[2]; kw++)
        clip_range(kw * g->dil[2] - g->pad[2], sw, g->in[2], g->out[2], &lo[kw], &hi[kw]);
    for (int64_t m = 0; m < g->cout; m++) {
        const float *wm = w + m * kk;
        float *ym = y + m * so;
        float bm = bias ? bias[m] : 0;
        for (int64_t q = 0; q < so; q++)
            ym[q] = bm;
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                float *yr = ym + (od * g->out[1] + oh) * g->out[2];
                for (int64_t kd = 0; kd < g->k[0]; kd++) {
                    int64_t id = od * g->st[0] - g->pad[0] + kd * g->dil[0];
                    if (id < 0 || id >= g->in[0])
                        continue;
                    for (int64_t kh = 0; kh < g->k[1]; kh++) {
                        int64_t ih = oh * g->st[1] - g->pad[1] + kh * g->dil[1];
                        if (ih < 0 || ih >= g->in[1])
                            continue;
                        const float *xr = x + (id * g->in[1] + ih) * g->in[2];
                        for (int64_t kw = 0; kw < g->k[2]; kw++) {
                            float wv = wm[(kd * g->k[1] + kh) * g->k[2] + kw];
                            int64_t iw0 = kw * g->dil[2] - g->pad[2], a, b;
                            if (cached) {
                                a = lo[kw];
                                b = hi[kw];
                            } else {
                                clip_range(iw0, sw, g->in[2], g->out[2], &a, &b);
                            }
                            if (sw == 1) {
                                for (int64_t q = a; q < b; q++)
                                    yr[q] += wv * xr[iw0 + q];
                            } else {
                                for (int64_t q = a; q < b; q++)
                                    yr[q] += wv * xr[iw0 + q * sw];
                            }
                        }
                    }
                }
            }
        clamp_all(g, ym, so);
    }
}

/* A 1x1 convolution's B is the input itself, packed per call. */
typedef struct Plain {
    const float *x;
    int64_t ld;
    const float *s;              /* per input channel (row of B): the scale, or NULL */
    const float *t;              /* and the shift, then a Relu (pack_preact), or NULL */
} Plain;

HOT static void pack_plain(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr,
                           float *dst)
{
    const Plain *pl = src;
    rt_gemm_pack_b(kc, nc, pl->x + k0 * pl->ld + j0, pl->ld, 0, nr, dst);
}

/* pack_plain for an input scaled per channel (a squeeze-excite block's
 * Mul, folded in by pass_fuse): row p of every panel times s[k0 + p], as
 * it is copied. The product s * x rounds as the Mul's output did, so the
 * result is the unfused one bit for bit. As A of the transposed product
 * (panels of pixels, rows still channels) the same layout holds. */
HOT static void pack_scaled(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                            int nr, float *dst)
{
    const Plain *pl = src;
    const float *x = pl->x + k0 * pl->ld + j0, *s = pl->s + k0;
    for (int64_t c0 = 0; c0 < nc; c0 += nr, dst += kc * nr) {
        int64_t w = nc - c0 < nr ? nc - c0 : nr;
        for (int64_t p = 0; p < kc; p++) {
            const float *xr = x + p * pl->ld + c0;
            float *d = dst + p * nr, f = s[p];
            int64_t j = 0;
            for (; j < w; j++)
                d[j] = f * xr[j];
            for (; j < nr; j++)
                d[j] = 0;
        }
    }
}

/* pack_scaled for a BatchNormalization + Relu folded in by pass_fuse
 * (fold_preact): row p of every panel is max(s[p] x + t[p], 0) as it is
 * copied; the (lo, v) order keeps a NaN. */
HOT static void pack_preact(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                            int nr, float *dst)
{
    const Plain *pl = src;
    const float *x = pl->x + k0 * pl->ld + j0, *s = pl->s + k0, *t = pl->t + k0;
    for (int64_t c0 = 0; c0 < nc; c0 += nr, dst += kc * nr) {
        int64_t w = nc - c0 < nr ? nc - c0 : nr;
        for (int64_t p = 0; p < kc; p++) {
            const float *xr = x + p * pl->ld + c0;
            float *d = dst + p * nr, f = s[p], b = t[p];
            int64_t j = 0;
            for (; j < w; j++) {
                float v = f * xr[j] + b;
                d[j] = v < 0 ? 0 : v;
            }
            for (; j < nr; j++)
                d[j] = 0;
        }
    }
}

/* Unpacked weights as B of the transposed product: B(p, j) = W[j][p]. */
HOT static void pack_plain_t(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                             int nr, float *dst)
{
    const Plain *pl = src;
    rt_gemm_pack_b(kc, nc, pl->x + j0 * pl->ld + k0, pl->ld, 1, nr, dst);
}

/* The paths without an epilogue of their own (depthwise, ConvTranspose) leave
 * a sum input and the activations other than a clamp to this pass. */
static int post_needed(const Geom *g, const void *z)
{
    return z || (g->act != RT_EPI_NONE && g->act != RT_EPI_CLAMP);
}

/* One float32 Conv call, split by (image, group) for the depthwise paths. */
typedef struct ConvJob {
    const Geom *g0, *g;          /* as called; and with the clamp off when post */
    const float *x, *w, *bias, *z;
    const float *cs;             /* input channel scale (pointwise only), or NULL */
    const float *ct;             /* and shift, then a Relu, or NULL */
    float *y;
    int path, post, tr, pointwise;
    int plane;                   /* depthwise through conv_dw_plane */
    int64_t mp;                  /* packed weight rows per group */
    RtPackB wpack;               /* or W packed per call (then w is unused) */
    const void *wsrc;
    float alpha;                 /* scales the product (1 for float W) */
    int nr;                      /* the GEMM tile's columns */
} ConvJob;

/* W given per call (rt_conv_wpacked): a group's rows of it as GEMM panels. */
typedef struct WRows {
    RtPackB pack;                /* W[row][p] as panel column row - j0 */
    const void *src;
    int64_t row0;                /* the group's first output channel */
} WRows;

static void pack_wrows(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr,
                       float *dst)
{
    const WRows *r = src;
    r->pack(r->src, k0, kc, r->row0 + j0, nc, nr, dst);
}

/* Floats of the stack buffer W is decoded into, a block of rows by a
 * block of K at a time: 256 KB of the calling thread's stack, beside the
 * GEMM's own 180 KB of panel buffers (the pool's workers have 8 MB). */
#define WP_FLOATS (64 * 1024)
#define WP_K 512 /* K per block: every row block then has >= 9 tiles of rows */
/* Output pixels (in GEMM panels of nr) above which W is decoded by blocks
 * (gemm_wpacked): the GEMM packs its A once per 3 panels of columns
 * (k_gemm.c's NC), so up to 2 such blocks W decoded as the GEMM asks costs
 * less than the blocks' extra passes (resnet18's 3x3 shapes, AVX-512, int4,
 * CPU time: at 7x7, 4.3 ms against 5.3 by blocks; about even at 14x14; at
 * 56x56, 3.2 ms against 2.1). */
#define WP_MIN_PANELS 6

/* Panels [lo, hi) of one block: rows r0 + p * mr.., K from k0, kc long. */
typedef struct WBlock {
    const WRows *wr;
    int64_t r0, rows, k0, kc;
    int mr;
    float *buf;
} WBlock;

static void decode_panels(void *ctx, int64_t lo, int64_t hi)
{
    const WBlock *b = ctx;
    for (int64_t p = lo; p < hi; p++) {
        int64_t r = p * b->mr, n = b->rows - r < b->mr ? b->rows - r : b->mr;
        b->wr->pack(b->wr->src, b->k0, b->kc, b->wr->row0 + b->r0 + r, n, b->mr,
                    b->buf + p * b->kc * b->mr);
    }
}

/* The input side of a K block: the packer asked from k0 on. */
typedef struct KShift {
    RtPackB pack;
    const void *src;
    int64_t k0;
} KShift;

static void pack_kshift(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr,
                        float *dst)
{
    const KShift *s = src;
    s->pack(s->src, s->k0 + k0, kc, j0, nc, nr, dst);
}

/* One group's C = act(alpha * W X + bias + z) with W decoded per call. The
 * GEMM would ask for W's panels once per NC columns of X (a 56x56 map: 33
 * times each): instead each block of rows x WP_K of K is decoded once, in
 * parallel by panel, into a buffer the GEMM reads as a packed A, and the
 * blocks along K accumulate into C (beta 1), the bias on the first, Z and
 * the activation on the last. The input side is repacked once per block
 * of rows, which costs far less than decoding W per column block. */
static void gemm_wpacked(const ConvJob *j, const WRows *wr, RtPackB pack, const void *src,
                         int64_t kdim, int64_t so, const float *bg, const float *zg, float *yg)
{
    const Geom *g0 = j->g0;
    float buf[WP_FLOATS] __attribute__((aligned(64)));
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    int64_t kb = kdim < WP_K ? kdim : WP_K, mb = WP_FLOATS / kb / mr * mr;
    for (int64_t r0 = 0; r0 < j->g->cout; r0 += mb) {
        int64_t rows = j->g->cout - r0 < mb ? j->g->cout - r0 : mb;
        for (int64_t k0 = 0; k0 < kdim; k0 += kb) {
            int64_t kc = kdim - k0 < kb ? kdim - k0 : kb;
            WBlock b = {wr, r0, rows, k0, kc, mr, buf};
            rt_parallel_for((rows + mr - 1) / mr, 1, decode_panels, &b);
            KShift ks = {pack, src, k0};
            int first = k0 == 0, last = k0 + kc >= kdim;
            RtGemmA A = {NULL, 0, 0, buf, NULL, NULL};
            RtGemmB B = {pack_kshift, &ks, NULL};
            RtGemmEpi e = {first && bg ? bg + r0 : NULL, last && zg ? zg + r0 * so : NULL, so,
                           last ? g0->act : RT_EPI_NONE, g0->p0, g0->p1, 0};
            rt_sgemm_ex(rows, so, kc, j->alpha, &A, &B, first ? 0.0f : 1.0f, &e, yg + r0 * so,
                        so);
        }
    }
}

static void conv_groups(void *ctx, int64_t lo, int64_t hi)
{
    const ConvJob *j = ctx;
    const Geom *g = j->g, *g0 = j->g0;
    int64_t si = prod3(g->in), so = prod3(g->out), kdim = g->cin * prod3(g->k);
    if (g->cin == 1 && j->path != RT_CONV_PATH_GEMM && j->plane) {
        /* without a sum input the activation goes in the channel loop */
        int inner = j->post && !j->z;
        conv_dw_plane(g, j->x, j->w, j->bias, j->y, lo, hi, inner ? g0->act : RT_EPI_NONE, g0->p0,
                      g0->p1);
        for (int64_t q = lo; j->post && !inner && q < hi; q++)
            rt_epi_apply(j->y + q * g->cout * so, j->z ? j->z + q * g->cout * so : NULL,
                         g->cout * so, g0->act, g0->p0, g0->p1);
        return;
    }
    for (int64_t q = lo; q < hi; q++) {
        int64_t gr = q % g->groups;
        const float *xg = j->x + q * g->cin * si;
        const float *wg = j->w + gr * g->cout * kdim;
        const float *bg = j->bias ? j->bias + gr * g->cout : NULL;
        float *yg = j->y + q * g->cout * so;
        const float *zg = j->z ? j->z + q * g->cout * so : NULL;
        const float *wp = g->pack ? j->w + gr * j->mp * kdim : NULL;
        RtGemmA A = {wg, kdim, 0, wp, NULL, NULL};
        RtGemmEpi e = {bg, zg, so, g0->act, g0->p0, g0->p1, j->tr};
        Plain wt = {wg, kdim, NULL, NULL};
        /* transposed: C^T (pixels x channels) = im2col^T W^T, the input as A */
        RtGemmB BT = {pack_plain_t, &wt, wp};
        if (g->cin == 1 && j->path != RT_CONV_PATH_GEMM) {
            /* 3x3 keeps conv_dw3: its rows are padded without conv_dw's
             * over-read margin and measure faster (bench/RESULTS.md) */
            int done = j->path != RT_CONV_PATH_DW && j->path != RT_CONV_PATH_PLANE &&
                       dw3_ok(g) && conv_dw3(g, xg, wg, bg, yg);
            if (!done && j->path != RT_CONV_PATH_OLD)
                done = conv_dw(g, xg, wg, bg, yg);
            if (!done)
                conv_depthwise(g, xg, wg, bg, yg);
            if (j->post)
                rt_epi_apply(yg, zg, g->cout * so, g0->act, g0->p0, g0->p1);
        } else {
            /* the input side is the plain input (1x1) or its implicit im2col */
            Plain pl = {xg, si, j->cs ? j->cs + q * g->cin : NULL,
                        j->ct ? j->ct + q * g->cin : NULL};
            Im2col ic = {g, xg};
            RtPackB pack = !j->pointwise ? pack_im2col
                           : j->ct       ? pack_preact
                           : j->cs       ? pack_scaled
                                         : pack_plain;
            const void *src = j->pointwise ? (const void *)&pl : (const void *)&ic;
            RtGemmB B = {pack, src, NULL};
            RtGemmA AT = {NULL, 0, 0, NULL, pack, src};
            WRows wr = {j->wpack, j->wsrc, gr * g->cout};
            if (j->wpack && so > WP_MIN_PANELS * j->nr) {
                gemm_wpacked(j, &wr, pack, src, kdim, so, bg, zg, yg);
                continue;
            }
            if (j->wpack) { /* W's rows decoded into either side's panels */
                RtGemmA WA = {NULL, 0, 0, NULL, pack_wrows, &wr};
                RtGemmB WB = {pack_wrows, &wr, NULL};
                A = WA;
                BT = WB;
            }
            if (j->tr)
                rt_sgemm_ex(so, g->cout, kdim, j->alpha, &AT, &BT, 0, &e, yg, so);
            else
                rt_sgemm_ex(g->cout, so, kdim, j->alpha, &A, &B, 0, &e, yg, so);
        }
    }
}

static int conv_f32(const Geom *g0, const float *x, const float *w, const float *bias,
                    const float *z, const float *cs, const float *ct, float *y, int path,
                    RtPackB wpack, const void *wsrc, float alpha)
{
    Geom gl = *g0, *g = &gl;
    int post = post_needed(g, z);
    if (post) { /* the direct paths then compute the plain convolution */
        gl.clamp = 0;
        gl.lo = -HUGE_VALF;
        gl.hi = HUGE_VALF;
    }
    int64_t so = prod3(g->out);
    int pointwise = prod3(g->k) == 1;
    for (int i = 0; i < 3; i++)
        pointwise &= g->st[i] == 1 && g->pad[i] == 0 && g->in[i] == g->out[i];
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    int tr = g->pack ? g->pack_t : rt_gemm_prefer_t(g->cout, so, nr);
    int64_t tile = tr ? nr : mr, mp = (g->cout + tile - 1) / tile * tile;
    int direct = g->cin == 1 && path != RT_CONV_PATH_GEMM;
    if ((g->pack && (g->pack != tile || direct)) || (cs && (!pointwise || direct)))
        return RT_EINVAL;
    /* small maps take conv_dw_plane when it fits; 3x3 windows on wider rows
     * keep conv_dw3 (bench/RESULTS.md) */
    int64_t pn = dw_plane_size(g);
    int plane = direct && pn >= 0 && pn <= DW_PLANE &&
                (path == RT_CONV_PATH_PLANE ||
                 (path == RT_CONV_PATH_AUTO && (!dw3_ok(g) || g->out[2] <= DW_PLANE_OW3)));
    ConvJob j = {g0, g, x, w, bias, z, cs, ct, y, path, post, tr, pointwise, plane, mp, wpack,
                 wsrc, alpha, nr};
    int64_t groups = g->n * g->groups;
    if (direct) { /* the GEMM splits its own work; the direct kernels split channels */
        int64_t work = g->cout * so * prod3(g->k) + 1;
        rt_parallel_for(groups, (1 << 16) / work + 1, conv_groups, &j);
    } else {
        conv_groups(&j, 0, groups);
    }
    return RT_OK;
}

/* ConvTranspose: col = W_g^T * X_g in bounded tiles, each scattered (col2im)
 * into the output, which starts as the bias. */
HOT static int conv_transpose_f32(const Geom *g, const float *x, const float *w,
                                  const float *bias, float *y)
{
    enum { CAP = 4096, SC = 256 };
    float col[CAP];
    /* here g->in is the transposed conv's output and g->out its input */
    int64_t sy = prod3(g->in), sx = prod3(g->out), kk = prod3(g->k);
    int64_t rows = g->cin * kk; /* output channels of a group times kernel size */
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t gr = 0; gr < g->groups; gr++) {
            const float *xg = x + (n * g->groups + gr) * g->cout * sx;
            const float *wg = w + gr * g->cout * rows;
            float *yg = y + (n * g->groups + gr) * g->cin * sy;
            fill_bias(yg, bias ? bias + gr * g->cin : NULL, g->cin, sy);
            int64_t sc = sx < SC ? sx : SC, rc = CAP / sc < rows ? CAP / sc : rows;
            for (int64_t s0 = 0; s0 < sx; s0 += sc) {
                int64_t ns = sx - s0 < sc ? sx - s0 : sc;
                for (int64_t r0 = 0; r0 < rows; r0 += rc) {
                    int64_t nrow = rows - r0 < rc ? rows - r0 : rc;
                    rt_sgemm(1, 0, nrow, ns, g->cout, 1, wg + r0, rows, xg + s0, sx, 0, col, ns);
                    for (int64_t r = 0; r < nrow; r++) {
                        int64_t rr = r0 + r, kw = rr % g->k[2], t = rr / g->k[2];
                        int64_t kh = t % g->k[1];
                        t /= g->k[1];
                        int64_t kd = t % g->k[0], m = t / g->k[0];
                        float *ym = yg + m * sy;
                        const float *cr = col + r * ns;
                        for (int64_t s = 0; s < ns; s++) {
                            int64_t ss = s0 + s, iw = ss % g->out[2], u = ss / g->out[2];
                            int64_t ih = u % g->out[1], id = u / g->out[1];
                            int64_t od = id * g->st[0] - g->pad[0] + kd * g->dil[0];
                            int64_t oh = ih * g->st[1] - g->pad[1] + kh * g->dil[1];
                            int64_t ow = iw * g->st[2] - g->pad[2] + kw * g->dil[2];
                            if (od < 0 || od >= g->in[0] || oh < 0 || oh >= g->in[1] || ow < 0 ||
                                ow >= g->in[2])
                                continue;
                            ym[(od * g->in[1] + oh) * g->in[2] + ow] += cr[s];
                        }
                    }
                }
            }
            clamp_all(g, yg, g->cin * sy);
        }
    return RT_OK;
}

/* Any float dtype, through double: the reference both fast paths agree with. */
static int conv_generic(const Geom *g, int transpose, int dt, const void *x, const void *w,
                        const void *bias, void *y)
{
    if (!rt_is_float(dt))
        return RT_EDTYPE;
    int64_t si = prod3(g->in), so = prod3(g->out), kk = prod3(g->k);
    /* accumulate in the output as doubles would need scratch; instead loop over
     * outputs of Conv, and for ConvTranspose over outputs with a gather */
    int64_t ny = transpose ? si : so, cy = transpose ? g->cin : g->cout;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t gr = 0; gr < g->groups; gr++)
            for (int64_t m = 0; m < cy; m++)
                for (int64_t o = 0; o < ny; o++) {
                    int64_t p[3] = {o / (g->out[1] * g->out[2]), o / g->out[2] % g->out[1],
                                    o % g->out[2]};
                    if (transpose) {
                        p[0] = o / (g->in[1] * g->in[2]);
                        p[1] = o / g->in[2] % g->in[1];
                        p[2] = o % g->in[2];
                    }
                    double s = bias ? rt_load_f64(bias, dt, gr * cy + m) : 0;
                    int64_t cx = transpose ? g->cout : g->cin;
                    for (int64_t ci = 0; ci < cx; ci++)
                        for (int64_t kq = 0; kq < kk; kq++) {
                            int64_t kv[3] = {kq / (g->k[1] * g->k[2]), kq / g->k[2] % g->k[1],
                                             kq % g->k[2]};
                            int64_t ip[3], ok = 1;
                            for (int a = 0; a < 3 && ok; a++) {
                                if (!transpose) {
                                    ip[a] = p[a] * g->st[a] - g->pad[a] + kv[a] * g->dil[a];
                                    ok = ip[a] >= 0 && ip[a] < g->in[a];
                                } else {
                                    int64_t num = p[a] + g->pad[a] - kv[a] * g->dil[a];
                                    ok = num >= 0 && num % g->st[a] == 0 &&
                                         num / g->st[a] < g->out[a];
                                    ip[a] = ok ? num / g->st[a] : 0;
                                }
                            }
                            if (!ok)
                                continue;
                            int64_t xi, wi;
                            if (!transpose) {
                                xi = ((n * g->groups + gr) * g->cin + ci) * si +
                                     (ip[0] * g->in[1] + ip[1]) * g->in[2] + ip[2];
                                wi = ((gr * g->cout + m) * g->cin + ci) * kk + kq;
                            } else {
                                xi = ((n * g->groups + gr) * g->cout + ci) * so +
                                     (ip[0] * g->out[1] + ip[1]) * g->out[2] + ip[2];
                                wi = ((gr * g->cout + ci) * g->cin + m) * kk + kq;
                            }
                            s += rt_load_f64(x, dt, xi) * rt_load_f64(w, dt, wi);
                        }
                    if (g->clamp)
                        s = s < g->lo ? g->lo : s > g->hi ? g->hi : s;
                    rt_store_f64(y, dt, ((n * g->groups + gr) * cy + m) * ny + o, s);
                }
    return RT_OK;
}

static int run(const RtCall *c, const void *const *in, void *const *out, int transpose,
               int path, RtPackB wpack, const void *wsrc, float alpha)
{
    Geom g;
    int rc = read_geom(c, transpose, &g);
    if (rc)
        return rc;
    int dt = c->in[0].dtype;
    const void *bias = c->n_in > 2 && c->in[2].dtype != RT_UNDEF ? in[2] : NULL;
    const void *z = c->n_in > 3 && c->in[3].dtype != RT_UNDEF ? in[3] : NULL;
    if (z && (c->in[3].dtype != dt || rt_numel(&c->in[3]) != rt_numel(&c->out[0])))
        return RT_EINVAL;
    const float *cs = c->n_in > 4 && c->in[4].dtype != RT_UNDEF ? in[4] : NULL;
    if (cs && (dt != RT_F32 || transpose || g.wino || c->in[4].dtype != RT_F32 ||
               rt_numel(&c->in[4]) != g.n * g.groups * g.cin))
        return RT_EINVAL;
    /* the 6th input, a shift then a Relu, only with the scale */
    const float *ct = c->n_in > 5 && c->in[5].dtype != RT_UNDEF ? in[5] : NULL;
    if (ct && (!cs || c->in[5].dtype != RT_F32 || rt_numel(&c->in[5]) != rt_numel(&c->in[4])))
        return RT_EINVAL;
    if ((g.pack || post_needed(&g, z)) && (dt != RT_F32 || transpose))
        return RT_EINVAL; /* (the compiler fuses and packs float32 Conv only) */
    int64_t mp = (g.cout + (g.pack ? g.pack : 1) - 1) / (g.pack ? g.pack : 1) * g.pack;
    if (g.pack && c->in[1].dims[0] != g.groups * (g.wino ? 4 : 1) * mp)
        return RT_EINVAL;
    if (wpack && (dt != RT_F32 || transpose || g.pack || cs || path != RT_CONV_PATH_GEMM))
        return RT_EINVAL;
    if (g.wino) {
        int mr, nr;
        rt_gemm_tile(&mr, &nr);
        if (g.pack != mr || transpose)
            return RT_EINVAL;
        RtWinoConv wc = {g.n, g.cin, g.cout, g.in[1], g.in[2], g.out[1], g.out[2], g.pad[1],
                         g.pad[2], in[0], in[1], bias, z, out[0], g.act, g.p0, g.p1};
        return rt_conv_wino(&wc);
    }
    if (dt == RT_F32)
        return transpose ? conv_transpose_f32(&g, in[0], in[1], bias, out[0])
                         : conv_f32(&g, in[0], in[1], bias, z, cs, ct, out[0], path, wpack, wsrc,
                                    alpha);
    return conv_generic(&g, transpose, dt, in[0], in[1], bias, out[0]);
}

int rt_conv(const RtCall *c, const void *const *in, void *const *out)
{
    return run(c, in, out, 0, RT_CONV_PATH_AUTO, NULL, NULL, 1.0f);
}

int rt_conv_path(const RtCall *c, const void *const *in, void *const *out, int path)
{
    return run(c, in, out, 0, path, NULL, NULL, 1.0f);
}

int rt_conv_wpacked(const RtCall *c, const void *const *in, void *const *out, RtPackB wpack,
                    const void *wsrc, float alpha)
{
    return run(c, in, out, 0, RT_CONV_PATH_GEMM, wpack, wsrc, alpha);
}

int rt_conv_transpose(const RtCall *c, const void *const *in, void *const *out)
{
    return run(c, in, out, 1, RT_CONV_PATH_AUTO, NULL, NULL, 1.0f);
}
