/* k_resize.c: Resize and Upsample: nearest, linear and cubic resampling of N-D tensors. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"

typedef unsigned char byte;

typedef struct Axis {
    int64_t in, out;             /* input and output extents */
    double scale;                /* output/input as ONNX defines it for the axis */
    double len;                  /* "length_resized": scale * in, or the requested size */
    double roi0, roi1;           /* crop box of tf_crop_and_resize, in [0, 1] */
} Axis;

typedef struct Params {
    int mode, coord, nearest, exclude;
    double a;                    /* cubic_coeff_a */
} Params;

/* The input samples one output coordinate draws on along one axis. */
typedef struct Taps {
    int n;                       /* 0: outside the crop box (extrapolation value) */
    int64_t idx[4];
    double w[4];
} Taps;

/* Output coordinates whose taps are computed at once along the last axis;
 * bounds the stack the kernel uses (under 20 KB in all). */
#define CHUNK 256
/* Products of taps of the outer resampled axes; the compiler rejects models
 * that would need more (cubic on more than four axes). */
#define MAXPAIRS 64

static double bits_f64(int64_t v)
{
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* x_original for output coordinate x (ONNX Resize,
 * coordinate_transformation_mode). Returns 1 if x falls outside the crop box
 * of tf_crop_and_resize. The operation order follows the ONNX reference so
 * results agree to the last bit where they can. */
static int map_coord(const Params *p, const Axis *a, int64_t xi, double *xo)
{
    double x = (double)xi, s = a->scale, L = a->len, in = (double)a->in;
    switch (p->coord) {
    case RT_COORD_PYTORCH_HALF_PIXEL:
        *xo = L > 1 ? (x + 0.5) / s - 0.5 : 0.0;
        break;
    case RT_COORD_ALIGN_CORNERS:
        *xo = L == 1 ? 0.0 : x * (in - 1) / (L - 1);
        break;
    case RT_COORD_ASYMMETRIC:
        *xo = x / s;
        break;
    case RT_COORD_TF_HALF_PIXEL_FOR_NN:
        *xo = (x + 0.5) / s;
        break;
    case RT_COORD_TF_CROP_AND_RESIZE:
        if (L == 1)
            *xo = (a->roi1 - a->roi0) * (in - 1) / 2;
        else
            *xo = x * (a->roi1 - a->roi0) * (in - 1) / (L - 1);
        *xo += a->roi0 * (in - 1);
        return *xo < 0 || *xo > in - 1;
    case RT_COORD_HALF_PIXEL_SYMMETRIC: {
        double adj = (double)a->out / L, center = in / 2;
        *xo = center * (1 - adj) + (x + 0.5) / s - 0.5;
        break;
    }
    default:
        *xo = (x + 0.5) / s - 0.5;
    }
    return 0;
}

/* Keys' cubic convolution kernel with parameter A (ONNX cubic_coeff_a). */
static double cubic(double d, double A)
{
    d = fabs(d);
    if (d <= 1)
        return ((A + 2) * d - (A + 3)) * d * d + 1;
    if (d < 2)
        return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
    return 0;
}

static int64_t clampi(int64_t i, int64_t n)
{
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Neighbours outside the input take the edge value (the reference pads in
 * edge mode), unless exclude_outside drops them and renormalizes. */
static void taps(const Params *p, const Axis *a, int64_t x, Taps *t)
{
    double xo;
    if (map_coord(p, a, x, &xo)) {
        t->n = 0;
        return;
    }
    int64_t L = a->in;
    double f = floor(xo), r = xo - f;
    int64_t i0 = (int64_t)f;
    if (p->mode == RT_RESIZE_NEAREST) {
        int64_t i = i0;
        if (r > 0) {
            switch (p->nearest) {
            case RT_NEAREST_ROUND_PREFER_CEIL: i += r >= 0.5; break;
            case RT_NEAREST_FLOOR: break;
            case RT_NEAREST_CEIL: i++; break;
            case RT_NEAREST_SIMPLE: i += a->scale < 1; break;
            default: i += r > 0.5; break;
            }
        }
        t->n = 1;
        t->idx[0] = clampi(i, L);
        t->w[0] = 1;
        return;
    }
    double w[4];
    int64_t base;
    int n;
    if (p->mode == RT_RESIZE_LINEAR) {
        n = 2;
        base = i0;
        w[0] = 1 - r;
        w[1] = r;
    } else {
        n = 4;
        base = i0 - 1;
        w[0] = cubic(r + 1, p->a);
        w[1] = cubic(r, p->a);
        w[2] = cubic(1 - r, p->a);
        w[3] = cubic(2 - r, p->a);
    }
    if (p->exclude) {
        double sum = 0;
        for (int k = 0; k < n; k++) {
            if (base + k < 0 || base + k >= L)
                w[k] = 0;
            sum += w[k];
        }
        if (sum != 0)
            for (int k = 0; k < n; k++)
                w[k] /= sum;
    }
    int m = 0;
    for (int k = 0; k < n; k++) {
        if (w[k] == 0)
            continue;
        t->idx[m] = clampi(base + k, L);
        t->w[m] = w[k];
        m++;
    }
    if (m == 0) {
        t->idx[0] = clampi(i0, L);
        t->w[0] = 0;
        m = 1;
    }
    t->n = m;
}

/* An axis every resampling mode maps onto itself; leading ones are folded
 * into one batch loop. */
static int axis_identity(const Params *p, const Axis *a)
{
    if (a->in != a->out || p->coord == RT_COORD_TF_CROP_AND_RESIZE)
        return 0;
    if (a->in == 1)
        return 1;
    return a->scale == 1.0 && a->len == (double)a->in && p->coord != RT_COORD_TF_HALF_PIXEL_FOR_NN;
}

typedef struct Pair {
    int64_t off;                 /* element offset of a row of the source block */
    double w;
} Pair;

/* The taps of CHUNK consecutive output coordinates of the last axis, laid
 * out so the row loops below vectorize: every coordinate gets T taps, the
 * unused ones with weight 0 on a valid index. */
typedef struct Chunk {
    int T;                       /* taps per coordinate, 1..4 */
    int any_outside;             /* some coordinate takes the extrapolation value */
    unsigned char outside[CHUNK];
    int32_t idx[4][CHUNK];       /* the compiler keeps resampled extents below 2^31 */
    float wf[4][CHUNK];
} Chunk;

static void build_chunk(const Params *p, const Axis *a, int64_t x0, int64_t nx, Chunk *ch)
{
    ch->T = 1;
    ch->any_outside = 0;
    for (int64_t j = 0; j < nx; j++) {
        Taps t;
        taps(p, a, x0 + j, &t);
        ch->outside[j] = !t.n;
        ch->any_outside |= !t.n;
        if (t.n > ch->T)
            ch->T = t.n;
        for (int b = 0; b < 4; b++) {
            ch->idx[b][j] = (int32_t)(b < t.n ? t.idx[b] : t.n ? t.idx[0] : 0);
            ch->wf[b][j] = b < t.n ? (float)t.w[b] : 0;
        }
    }
}

static void row_nearest(byte *dst, const byte *src, size_t esz, const Chunk *ch, int64_t nx,
                        const byte *extrap)
{
    const int32_t *ix = ch->idx[0];
#define NEAREST(E)                                                             \
    for (int64_t j = 0; j < nx; j++)                                           \
        memcpy(dst + j * (E), src + ix[j] * (E), (E));                         \
    break
    switch (esz) {
    case 1: NEAREST(1);
    case 2: NEAREST(2);
    case 4: NEAREST(4);
    case 8: NEAREST(8);
    default:
        for (int64_t j = 0; j < nx; j++)
            memcpy(dst + j * (int64_t)esz, src + ix[j] * (int64_t)esz, esz);
    }
#undef NEAREST
    if (ch->any_outside)
        for (int64_t j = 0; j < nx; j++)
            if (ch->outside[j])
                memcpy(dst + j * (int64_t)esz, extrap, esz);
}

/* Source rows already resampled along the last axis, for the chunk being
 * written: consecutive output rows mostly share their source rows. */
typedef struct RowCache {
    int next;                    /* slot to replace next (round robin) */
    int valid[4];
    int64_t off[4];
    float h[4][CHUNK];
} RowCache;

static void hrow_f32(float *restrict h, const float *restrict s, const Chunk *ch, int64_t nx)
{
    const int32_t *i0 = ch->idx[0], *i1 = ch->idx[1], *i2 = ch->idx[2], *i3 = ch->idx[3];
    const float *w0 = ch->wf[0], *w1 = ch->wf[1], *w2 = ch->wf[2], *w3 = ch->wf[3];
    switch (ch->T) {
    case 1:
        for (int64_t j = 0; j < nx; j++)
            h[j] = w0[j] * s[i0[j]];
        break;
    case 2:
        for (int64_t j = 0; j < nx; j++)
            h[j] = w0[j] * s[i0[j]] + w1[j] * s[i1[j]];
        break;
    default:
        for (int64_t j = 0; j < nx; j++)
            h[j] = w0[j] * s[i0[j]] + w1[j] * s[i1[j]] + w2[j] * s[i2[j]] + w3[j] * s[i3[j]];
    }
}

/* The resampled source row at off; *pinned marks the slots the current
 * output row uses, which must not be replaced while it is written. */
static const float *hrow_cached(RowCache *rc, const float *src, int64_t off, const Chunk *ch,
                                int64_t nx, int *pinned)
{
    for (int k = 0; k < 4; k++)
        if (rc->valid[k] && rc->off[k] == off) {
            *pinned |= 1 << k;
            return rc->h[k];
        }
    int k = rc->next;
    while (*pinned & (1 << k))
        k = (k + 1) & 3;
    rc->next = (k + 1) & 3;
    rc->valid[k] = 1;
    rc->off[k] = off;
    *pinned |= 1 << k;
    hrow_f32(rc->h[k], src + off, ch, nx);
    return rc->h[k];
}

/* dst[j] = sum over source rows a of w_a * (row a resampled along the last
 * axis)[j]: separable, so each source row is resampled once per chunk. */
static void row_f32(float *restrict dst, const float *src, const Pair *pr, int np,
                    const Chunk *ch, int64_t nx, float extrap, RowCache *rc)
{
    int pin = 0;
    if (np == 1) {
        const float *h = hrow_cached(rc, src, pr[0].off, ch, nx, &pin);
        float wa = (float)pr[0].w;
        for (int64_t j = 0; j < nx; j++)
            dst[j] = wa * h[j];
    } else if (np == 2) {
        const float *h0 = hrow_cached(rc, src, pr[0].off, ch, nx, &pin);
        const float *h1 = hrow_cached(rc, src, pr[1].off, ch, nx, &pin);
        float wa = (float)pr[0].w, wb = (float)pr[1].w;
        for (int64_t j = 0; j < nx; j++)
            dst[j] = wa * h0[j] + wb * h1[j];
    } else if (np <= 4) {
        const float *h[4];
        float w[4] = {0, 0, 0, 0};
        for (int a = 0; a < 4; a++) {
            /* taps are never more than 4, so these rows fit the cache together */
            h[a] = a < np ? hrow_cached(rc, src, pr[a].off, ch, nx, &pin) : NULL;
            w[a] = a < np ? (float)pr[a].w : 0;
        }
        if (np == 3)
            for (int64_t j = 0; j < nx; j++)
                dst[j] = w[0] * h[0][j] + w[1] * h[1][j] + w[2] * h[2][j];
        else
            for (int64_t j = 0; j < nx; j++)
                dst[j] = w[0] * h[0][j] + w[1] * h[1][j] + w[2] * h[2][j] + w[3] * h[3][j];
    } else {
        float acc[CHUNK], hb[CHUNK];
        memset(acc, 0, sizeof acc);
        for (int a = 0; a < np; a++) {
            hrow_f32(hb, src + pr[a].off, ch, nx);
            float wa = (float)pr[a].w;
            for (int64_t j = 0; j < nx; j++)
                acc[j] += wa * hb[j];
        }
        memcpy(dst, acc, (size_t)nx * sizeof *dst);
    }
    if (ch->any_outside)
        for (int64_t j = 0; j < nx; j++)
            if (ch->outside[j])
                dst[j] = extrap;
}

/* float16, bfloat16 and float64 go through double. */
static void row_generic(byte *dst, const byte *src, int dt, const Pair *pr, int np,
                        const Chunk *ch, int64_t nx, double extrap)
{
    for (int64_t j = 0; j < nx; j++) {
        double acc = 0;
        if (ch->outside[j]) {
            acc = extrap;
        } else {
            for (int a = 0; a < np; a++) {
                double v = 0;
                for (int b = 0; b < ch->T; b++)
                    v += ch->wf[b][j] * rt_load_f64(src, dt, pr[a].off + ch->idx[b][j]);
                acc += pr[a].w * v;
            }
        }
        rt_store_f64(dst, dt, j, acc);
    }
}

/* The source rows (offsets within the block) and weights one output row
 * mixes: the product of the taps of the resampled axes before the last.
 * Returns their count, 0 if the row lies outside the crop box, -1 if there
 * are more than MAXPAIRS. */
static int row_pairs(const Params *p, const Axis *ax, int a0, int r, const int64_t *idx,
                     const int64_t *xs, Pair *pr)
{
    int np = 1;
    pr[0].off = 0;
    pr[0].w = 1;
    for (int k = a0; k < r - 1; k++) {
        Taps t;
        taps(p, &ax[k], idx[k], &t);
        if (!t.n)
            return 0;
        if (np * t.n > MAXPAIRS)
            return -1;
        for (int a = np - 1; a >= 0; a--)
            for (int b = t.n - 1; b >= 0; b--) {
                Pair q = {pr[a].off + t.idx[b] * xs[k], pr[a].w * t.w[b]};
                pr[a * t.n + b] = q;
            }
        np *= t.n;
    }
    return np;
}

/* ---- antialias (Resize-18): the filter of ONNX's reference ---- */

/* The taps of one output coordinate along one antialiased axis. */
typedef struct AaTaps {
    int n;                       /* 0: outside the crop box */
    int64_t idx[RT_RESIZE_AA_MAXTAPS];
    double w[RT_RESIZE_AA_MAXTAPS];
} AaTaps;

/* The first tap's offset from the sample left of x (ONNX's reference: the
 * filter's support, 1 for linear and 2 for cubic, widened by 1 / scale when
 * the axis shrinks). The taps are start .. 1 - start. */
static int64_t aa_start(int mode, double scale)
{
    double s = scale < 1 ? scale : 1, support = mode == RT_RESIZE_CUBIC ? 2 : 1;
    return (int64_t)floor(-support / s) + 1;
}

/* Tap i sits at x - ratio + i with ratio in (0, 1] (an integer x has ratio 1,
 * as in the reference), weighs the kernel at (i - ratio) * scale, and the
 * weights are normalized to sum 1. Outside the input: the edge value, or
 * dropped and renormalized under exclude_outside. */
static void aa_taps(const Params *p, const Axis *a, int64_t x, AaTaps *t)
{
    double xo;
    if (map_coord(p, a, x, &xo)) {
        t->n = 0;
        return;
    }
    double s = a->scale < 1 ? a->scale : 1, f = floor(xo), ratio = xo == f ? 1 : xo - f;
    int64_t start = aa_start(p->mode, a->scale), count = 2 - 2 * start;
    int64_t base = (int64_t)(xo - ratio);
    if (count > RT_RESIZE_AA_MAXTAPS)
        count = RT_RESIZE_AA_MAXTAPS; /* the compiler refuses such scales */
    double sum = 0;
    for (int64_t k = 0; k < count; k++) {
        double arg = fabs(((double)(start + k) - ratio) * s);
        double w = p->mode == RT_RESIZE_CUBIC ? cubic(arg, p->a) : arg < 1 ? 1 - arg : 0;
        t->idx[k] = base + start + k;
        t->w[k] = w;
        sum += w;
    }
    for (int64_t k = 0; k < count; k++)
        t->w[k] = sum != 0 ? t->w[k] / sum : 0;
    if (p->exclude) {
        sum = 0;
        for (int64_t k = 0; k < count; k++) {
            if (t->idx[k] < 0 || t->idx[k] >= a->in)
                t->w[k] = 0;
            sum += t->w[k];
        }
        for (int64_t k = 0; k < count; k++)
            t->w[k] = sum != 0 ? t->w[k] / sum : 0;
    }
    for (int64_t k = 0; k < count; k++)
        t->idx[k] = clampi(t->idx[k], a->in);
    t->n = (int)count;
}

/* Every output element as the sum, over the product of its axes' taps, of
 * weight products times input values, in double: direct rather than fast,
 * as antialiasing is rare in inference graphs. */
static int resize_aa(const Params *p, const Axis *ax, int r, int dt, const void *in, void *out,
                     const RtTensorDesc *x, const RtTensorDesc *y, double extrap)
{
    int64_t xs[RT_MAX_RANK], idx[RT_MAX_RANK] = {0}, n = rt_numel(y);
    rt_strides(x, xs);
    AaTaps t[RT_MAX_RANK];
    for (int64_t o = 0; o < n; o++) {
        int outside = 0;
        for (int k = 0; k < r; k++) {
            aa_taps(p, &ax[k], idx[k], &t[k]);
            outside |= t[k].n == 0;
        }
        double acc = 0;
        if (!outside) {
            int j[RT_MAX_RANK] = {0};
            for (;;) {
                double w = 1;
                int64_t off = 0;
                for (int k = 0; k < r; k++) {
                    w *= t[k].w[j[k]];
                    off += t[k].idx[j[k]] * xs[k];
                }
                if (w != 0)
                    acc += w * rt_load_f64(in, dt, off);
                int k = r - 1;
                while (k >= 0 && ++j[k] == t[k].n)
                    j[k--] = 0;
                if (k < 0)
                    break;
            }
        }
        rt_store_f64(out, dt, o, outside ? extrap : acc);
        for (int k = r - 1; k >= 0; k--) {
            if (++idx[k] < y->dims[k])
                break;
            idx[k] = 0;
        }
    }
    return RT_OK;
}

int rt_resize(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    int r = x->rank, dt = x->dtype;
    size_t esz = rt_dtype_size(dt);
    if (!esz || esz > 8)
        return RT_EDTYPE;
    /* scales or sizes read now: the same parameters the compiler makes */
    int64_t params[RT_RESIZE_AXIS(RT_MAX_RANK)], dims[RT_MAX_RANK];
    RtCall resolved;
    if (c->n_ints > RT_RESIZE_MODE && (c->ints[RT_RESIZE_MODE] & RT_RESIZE_VALUES)) {
        if (y->rank != r || rt_resize_resolve(c, c->in, in, params, dims))
            return RT_ESHAPE;
        for (int k = 0; k < r; k++)
            if (dims[k] != y->dims[k])
                return RT_ESHAPE;
        resolved = *c;
        resolved.ints = params;
        resolved.n_ints = RT_RESIZE_AXIS(r);
        c = &resolved;
    }
    if (y->rank != r || c->n_ints != RT_RESIZE_AXIS(r) || c->n_floats < RT_RESIZE_NFLOATS)
        return RT_EINVAL;
    Params p = {(int)c->ints[RT_RESIZE_MODE], (int)c->ints[RT_RESIZE_COORD],
                (int)c->ints[RT_RESIZE_NEAREST_MODE], (int)c->ints[RT_RESIZE_EXCLUDE_OUTSIDE],
                c->floats[RT_RESIZE_F_CUBIC_A]};
    int aa = p.mode & RT_RESIZE_ANTIALIAS;
    p.mode &= ~RT_RESIZE_ANTIALIAS;
    if (p.mode != RT_RESIZE_NEAREST && !rt_is_float(dt))
        return RT_EDTYPE;
    if (aa && p.mode == RT_RESIZE_NEAREST)
        return RT_EINVAL;
    Axis ax[RT_MAX_RANK];
    for (int k = 0; k < r; k++) {
        const int64_t *q = c->ints + RT_RESIZE_AXIS(k);
        ax[k].in = x->dims[k];
        ax[k].out = y->dims[k];
        ax[k].scale = bits_f64(q[RT_RESIZE_SCALE]);
        ax[k].len = bits_f64(q[RT_RESIZE_LEN]);
        ax[k].roi0 = bits_f64(q[RT_RESIZE_ROI_START]);
        ax[k].roi1 = bits_f64(q[RT_RESIZE_ROI_END]);
    }
    if (rt_numel(y) == 0)
        return RT_OK;
    if (rt_numel(x) == 0)
        return RT_EINVAL;
    if (r == 0) {
        memcpy(out[0], in[0], esz);
        return RT_OK;
    }
    if (aa)
        return resize_aa(&p, ax, r, dt, in[0], out[0], x, y, c->floats[RT_RESIZE_F_EXTRAPOLATION]);
    byte extrap[8];
    rt_store_f64(extrap, dt, 0, c->floats[RT_RESIZE_F_EXTRAPOLATION]);

    int a0 = 0;
    while (a0 < r - 1 && axis_identity(&p, &ax[a0]))
        a0++;
    int64_t batch = 1, xblock = 1, yblock = 1, xs[RT_MAX_RANK];
    for (int k = 0; k < r; k++) {
        if (k < a0)
            batch *= x->dims[k];
        else {
            xblock *= x->dims[k];
            yblock *= y->dims[k];
        }
    }
    rt_strides(x, xs);
    int64_t W = y->dims[r - 1], rows = yblock / W;
    Chunk ch;
    RowCache rc;
    Pair pr[MAXPAIRS], prev[MAXPAIRS];
    /* equal chunks, so none is left with a few columns and all the per-row work */
    int64_t nchunks = (W + CHUNK - 1) / CHUNK, csize = (W + nchunks - 1) / nchunks;
    for (int64_t x0 = 0; x0 < W; x0 += csize) {
        int64_t nx = W - x0 < csize ? W - x0 : csize;
        build_chunk(&p, &ax[r - 1], x0, nx, &ch);
        for (int64_t b = 0; b < batch; b++) {
            const byte *src = (const byte *)in[0] + b * xblock * (int64_t)esz;
            byte *base = (byte *)out[0] + (b * yblock + x0) * (int64_t)esz, *last = NULL;
            int64_t idx[RT_MAX_RANK] = {0};
            int nprev = 0;
            rc.next = 0;
            rc.valid[0] = rc.valid[1] = rc.valid[2] = rc.valid[3] = 0;
            for (int64_t row = 0; row < rows; row++) {
                byte *dst = base + row * W * (int64_t)esz;
                int np = row_pairs(&p, ax, a0, r, idx, xs, pr);
                if (np < 0)
                    return RT_EINVAL;
                if (np == 0) {
                    for (int64_t j = 0; j < nx; j++)
                        memcpy(dst + j * (int64_t)esz, extrap, esz);
                } else if (last && np == nprev && !memcmp(pr, prev, sizeof *pr * (size_t)np)) {
                    /* e.g. nearest upsampling repeats source rows */
                    memcpy(dst, last, (size_t)nx * esz);
                } else if (p.mode == RT_RESIZE_NEAREST) {
                    row_nearest(dst, src + pr[0].off * (int64_t)esz, esz, &ch, nx, extrap);
                } else if (dt == RT_F32) {
                    row_f32((float *)dst, (const float *)src, pr, np, &ch, nx,
                            c->floats[RT_RESIZE_F_EXTRAPOLATION], &rc);
                } else {
                    row_generic(dst, src, dt, pr, np, &ch, nx,
                                c->floats[RT_RESIZE_F_EXTRAPOLATION]);
                }
                if (np) {
                    memcpy(prev, pr, sizeof *pr * (size_t)np);
                    nprev = np;
                    last = dst;
                }
                for (int k = r - 2; k >= a0; k--) {
                    if (++idx[k] < y->dims[k])
                        break;
                    idx[k] = 0;
                }
            }
        }
    }
    return RT_OK;
}
