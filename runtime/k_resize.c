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
 * bounds the stack the kernel uses. */
#define CHUNK 128
/* Products of taps of the outer resized axes; the compiler rejects models
 * that would need more (cubic on more than five axes). */
#define MAXPAIRS 256

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

static void row_nearest(byte *dst, const byte *src, size_t esz, const Taps *tx, int64_t nx,
                        const byte *extrap)
{
#define NEAREST(E)                                                             \
    for (int64_t j = 0; j < nx; j++)                                           \
        memcpy(dst + j * (E), tx[j].n ? src + tx[j].idx[0] * (E) : extrap, (E)); \
    break
    switch (esz) {
    case 1: NEAREST(1);
    case 2: NEAREST(2);
    case 4: NEAREST(4);
    case 8: NEAREST(8);
    default:
        for (int64_t j = 0; j < nx; j++)
            memcpy(dst + j * (int64_t)esz,
                   tx[j].n ? src + tx[j].idx[0] * (int64_t)esz : extrap, esz);
    }
#undef NEAREST
}

static void row_f32(float *dst, const float *src, const Pair *pr, int np, const Taps *tx,
                    int64_t nx, float extrap)
{
    for (int64_t j = 0; j < nx; j++) {
        const Taps *t = &tx[j];
        if (!t->n) {
            dst[j] = extrap;
            continue;
        }
        float acc = 0;
        for (int a = 0; a < np; a++) {
            const float *s = src + pr[a].off;
            float v = 0;
            for (int b = 0; b < t->n; b++)
                v += (float)t->w[b] * s[t->idx[b]];
            acc += (float)pr[a].w * v;
        }
        dst[j] = acc;
    }
}

/* float16, bfloat16 and float64 go through double. */
static void row_generic(byte *dst, const byte *src, int dt, const Pair *pr, int np,
                        const Taps *tx, int64_t nx, double extrap)
{
    for (int64_t j = 0; j < nx; j++) {
        const Taps *t = &tx[j];
        double acc = 0;
        if (!t->n) {
            acc = extrap;
        } else {
            for (int a = 0; a < np; a++) {
                double v = 0;
                for (int b = 0; b < t->n; b++)
                    v += t->w[b] * rt_load_f64(src, dt, pr[a].off + t->idx[b]);
                acc += pr[a].w * v;
            }
        }
        rt_store_f64(dst, dt, j, acc);
    }
}

int rt_resize(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    int r = x->rank, dt = x->dtype;
    size_t esz = rt_dtype_size(dt);
    if (!esz || esz > 8)
        return RT_EDTYPE;
    if (y->rank != r || c->n_ints != RT_RESIZE_HEAD + RT_RESIZE_PER_AXIS * r || c->n_floats < 2)
        return RT_EINVAL;
    Params p = {(int)c->ints[0], (int)c->ints[1], (int)c->ints[2], (int)c->ints[3],
                c->floats[0]};
    if (p.mode != RT_RESIZE_NEAREST && !rt_is_float(dt))
        return RT_EDTYPE;
    Axis ax[RT_MAX_RANK];
    for (int k = 0; k < r; k++) {
        const int64_t *q = c->ints + RT_RESIZE_HEAD + RT_RESIZE_PER_AXIS * k;
        ax[k].in = x->dims[k];
        ax[k].out = y->dims[k];
        ax[k].scale = bits_f64(q[0]);
        ax[k].len = bits_f64(q[1]);
        ax[k].roi0 = bits_f64(q[2]);
        ax[k].roi1 = bits_f64(q[3]);
    }
    if (rt_numel(y) == 0)
        return RT_OK;
    if (rt_numel(x) == 0)
        return RT_EINVAL;
    if (r == 0) {
        memcpy(out[0], in[0], esz);
        return RT_OK;
    }
    byte extrap[8];
    rt_store_f64(extrap, dt, 0, c->floats[1]);

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
    Taps tx[CHUNK];
    Pair pr[MAXPAIRS];
    for (int64_t x0 = 0; x0 < W; x0 += CHUNK) {
        int64_t nx = W - x0 < CHUNK ? W - x0 : CHUNK;
        for (int64_t j = 0; j < nx; j++)
            taps(&p, &ax[r - 1], x0 + j, &tx[j]);
        int64_t idx[RT_MAX_RANK] = {0};
        for (int64_t row = 0; row < rows; row++) {
            /* the source rows this output row mixes, with their weights */
            int np = 1, outside = 0;
            pr[0].off = 0;
            pr[0].w = 1;
            for (int k = a0; k < r - 1 && !outside; k++) {
                Taps t;
                taps(&p, &ax[k], idx[k], &t);
                if (!t.n) {
                    outside = 1;
                    break;
                }
                if (np * t.n > MAXPAIRS)
                    return RT_EINVAL;
                for (int a = np - 1; a >= 0; a--)
                    for (int b = t.n - 1; b >= 0; b--) {
                        Pair q = {pr[a].off + t.idx[b] * xs[k], pr[a].w * t.w[b]};
                        pr[a * t.n + b] = q;
                    }
                np *= t.n;
            }
            for (int64_t b = 0; b < batch; b++) {
                const byte *src = (const byte *)in[0] + b * xblock * (int64_t)esz;
                byte *dst = (byte *)out[0] + (b * yblock + row * W + x0) * (int64_t)esz;
                if (outside) {
                    for (int64_t j = 0; j < nx; j++)
                        memcpy(dst + j * (int64_t)esz, extrap, esz);
                } else if (p.mode == RT_RESIZE_NEAREST) {
                    row_nearest(dst, src + pr[0].off * (int64_t)esz, esz, tx, nx, extrap);
                } else if (dt == RT_F32) {
                    row_f32((float *)dst, (const float *)src, pr, np, tx, nx, c->floats[1]);
                } else {
                    row_generic(dst, src, dt, pr, np, tx, nx, c->floats[1]);
                }
            }
            for (int k = r - 2; k >= a0; k--) {
                if (++idx[k] < y->dims[k])
                    break;
                idx[k] = 0;
            }
        }
    }
    return RT_OK;
}
