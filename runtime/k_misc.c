/* k_misc.c: assorted kernels: TopK, MVN, Det, Einsum, GridSample, MaxUnpool, RoiAlign. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"

static int is_int_dtype(int dt)
{
    return dt == RT_I8 || dt == RT_I16 || dt == RT_I32 || dt == RT_I64 || dt == RT_U8 ||
           dt == RT_U16 || dt == RT_U32 || dt == RT_U64;
}

/* Does element j beat element i (j > i by index)? Ties never do: the earlier
 * index stays first, the order ONNX's reference (a stable sort) gives. */
static int topk_beats(const void *x, int dt, int64_t j, int64_t i, int largest)
{
    if (dt == RT_F32) {
        float a = ((const float *)x)[j], b = ((const float *)x)[i];
        return largest ? a > b : a < b;
    }
    if (is_int_dtype(dt) && dt != RT_U64) {
        int64_t a = rt_load_i64(x, dt, j), b = rt_load_i64(x, dt, i);
        return largest ? a > b : a < b;
    }
    double a = rt_load_f64(x, dt, j), b = rt_load_f64(x, dt, i);
    return largest ? a > b : a < b;
}

/* Keeps the k best of each lane sorted in the index output by insertion, so
 * no scratch memory is needed; values are gathered at the end. */
int rt_topk(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (c->n_ints < RT_TOPK_NINTS || c->out[1].dtype != RT_I64)
        return RT_EINVAL;
    if (!rt_is_float(dt) && !is_int_dtype(dt))
        return RT_EDTYPE;
    int axis = (int)c->ints[RT_TOPK_AXIS];
    if (axis < 0 || axis >= x->rank)
        return RT_EINVAL;
    /* k < 0: k was read when the node ran, and the outputs' extent is it */
    int64_t k = c->ints[RT_TOPK_K] < 0 ? c->out[0].dims[axis] : c->ints[RT_TOPK_K];
    int largest = (int)c->ints[RT_TOPK_LARGEST];
    int64_t outer = 1, inner = 1, n = x->dims[axis];
    if (k > n)
        return RT_EBOUND;
    for (int a = 0; a < axis; a++)
        outer *= x->dims[a];
    for (int a = axis + 1; a < x->rank; a++)
        inner *= x->dims[a];
    int64_t *idx = out[1];
    size_t esz = rt_dtype_size(dt);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t xbase = o * n * inner + i, ybase = o * k * inner + i;
            int64_t *lane = idx + ybase;
            int64_t m = 0;
            for (int64_t j = 0; j < n; j++) {
                int64_t p = m;
                while (p > 0 && topk_beats(in[0], dt, xbase + j * inner,
                                           xbase + lane[(p - 1) * inner] * inner, largest))
                    p--;
                if (p >= k)
                    continue;
                int64_t last = m < k ? m : k - 1;
                for (int64_t q = last; q > p; q--)
                    lane[q * inner] = lane[(q - 1) * inner];
                lane[p * inner] = j;
                if (m < k)
                    m++;
            }
            for (int64_t q = 0; q < k; q++)
                memcpy((char *)out[0] + (size_t)(ybase + q * inner) * esz,
                       (const char *)in[0] + (size_t)(xbase + lane[q * inner] * inner) * esz,
                       esz);
        }
    return RT_OK;
}

/* Splits x's axes into kept and reduced ones by mask, with their strides. */
static void split_axes(const RtTensorDesc *x, int64_t mask, int *nk, int64_t *kd, int64_t *ks,
                       int *nr, int64_t *rd, int64_t *rs)
{
    int64_t st[RT_MAX_RANK];
    rt_strides(x, st);
    *nk = *nr = 0;
    for (int a = 0; a < x->rank; a++) {
        if (mask >> a & 1) {
            rd[*nr] = x->dims[a];
            rs[(*nr)++] = st[a];
        } else {
            kd[*nk] = x->dims[a];
            ks[(*nk)++] = st[a];
        }
    }
}

/* Advances a multi-index counter over dims d (n axes) and the offset it
 * addresses; returns 0 once it wraps around. */
static int step(int n, const int64_t *d, const int64_t *s, int64_t *ix, int64_t *off)
{
    for (int a = n - 1; a >= 0; a--) {
        ix[a]++;
        *off += s[a];
        if (ix[a] < d[a])
            return 1;
        *off -= ix[a] * s[a];
        ix[a] = 0;
    }
    return 0;
}

int rt_mvn(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (!rt_is_float(dt))
        return RT_EDTYPE;
    if (c->n_ints < RT_MVN_NINTS)
        return RT_EINVAL;
    int nk, nr;
    int64_t kd[RT_MAX_RANK], ks[RT_MAX_RANK], rd[RT_MAX_RANK], rs[RT_MAX_RANK];
    split_axes(x, c->ints[RT_MVN_MASK], &nk, kd, ks, &nr, rd, rs);
    if (rt_numel(x) == 0)
        return RT_OK;
    int64_t cnt = 1;
    for (int a = 0; a < nr; a++)
        cnt *= rd[a];
    int64_t ki[RT_MAX_RANK] = {0}, koff = 0;
    do {
        int64_t ri[RT_MAX_RANK] = {0}, roff = 0;
        double sum = 0, sq = 0;
        do
            sum += rt_load_f64(in[0], dt, koff + roff);
        while (step(nr, rd, rs, ri, &roff));
        double mean = sum / (double)cnt;
        do {
            double v = rt_load_f64(in[0], dt, koff + roff) - mean;
            sq += v * v;
        } while (step(nr, rd, rs, ri, &roff));
        /* ONNX's function body adds epsilon 1e-9 to the standard deviation. */
        double den = sqrt(sq / (double)cnt) + 1e-9;
        do
            rt_store_f64(out[0], dt, koff + roff,
                         (rt_load_f64(in[0], dt, koff + roff) - mean) / den);
        while (step(nr, rd, rs, ri, &roff));
    } while (step(nk, kd, ks, ki, &koff));
    return RT_OK;
}

#define DET_MAX 64

int rt_det(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (!rt_is_float(dt))
        return RT_EDTYPE;
    if (x->rank < 2)
        return RT_EINVAL;
    int64_t m = x->dims[x->rank - 1];
    if (m != x->dims[x->rank - 2] || m > DET_MAX)
        return RT_EINVAL;
    int64_t batch = rt_numel(&c->out[0]);
    double a[DET_MAX * DET_MAX];
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t i = 0; i < m * m; i++)
            a[i] = rt_load_f64(in[0], dt, b * m * m + i);
        double det = 1;
        for (int64_t col = 0; col < m && det != 0; col++) {
            int64_t piv = col;
            for (int64_t r = col + 1; r < m; r++)
                if (fabs(a[r * m + col]) > fabs(a[piv * m + col]))
                    piv = r;
            if (a[piv * m + col] == 0) {
                det = 0;
                break;
            }
            if (piv != col) {
                for (int64_t j = 0; j < m; j++) {
                    double t = a[col * m + j];
                    a[col * m + j] = a[piv * m + j];
                    a[piv * m + j] = t;
                }
                det = -det;
            }
            double p = a[col * m + col];
            det *= p;
            for (int64_t r = col + 1; r < m; r++) {
                double f = a[r * m + col] / p;
                for (int64_t j = col; j < m; j++)
                    a[r * m + j] -= f * a[col * m + j];
            }
        }
        rt_store_f64(out[0], dt, b, det);
    }
    return RT_OK;
}

#define EINSUM_MAX_IN 8
#define EINSUM_MAX_L 26

int rt_einsum(const RtCall *c, const void *const *in, void *const *out)
{
    int dt = c->out[0].dtype;
    int nin = c->n_in;
    if (nin > EINSUM_MAX_IN || c->n_ints <= RT_EINSUM_L)
        return RT_EINVAL;
    int L = (int)c->ints[RT_EINSUM_L];
    if (L > EINSUM_MAX_L || c->n_ints != RT_EINSUM_NINTS(L, nin))
        return RT_EINVAL;
    if (!rt_is_float(dt) && !is_int_dtype(dt))
        return RT_EDTYPE;
    const int64_t *size = c->ints + RT_EINSUM_SIZES;
    const int64_t *st = c->ints + RT_EINSUM_STRIDES(L, 0); /* the output's run is k = nin */
    int64_t on = rt_numel(&c->out[0]);
    size_t esz = rt_dtype_size(dt);
    memset(out[0], 0, (size_t)on * esz);
    for (int l = 0; l < L; l++)
        if (size[l] == 0)
            return RT_OK;
    int64_t ix[EINSUM_MAX_L] = {0}, off[EINSUM_MAX_IN + 1] = {0};
    int fast = dt == RT_F32;
    int isint = is_int_dtype(dt);
    for (;;) {
        if (fast) {
            float p = 1;
            for (int k = 0; k < nin; k++)
                p *= ((const float *)in[k])[off[k]];
            ((float *)out[0])[off[nin]] += p;
        } else if (isint) {
            int64_t p = 1;
            for (int k = 0; k < nin; k++)
                p *= rt_load_i64(in[k], dt, off[k]);
            rt_store_i64(out[0], dt, off[nin], rt_load_i64(out[0], dt, off[nin]) + p);
        } else {
            double p = 1;
            for (int k = 0; k < nin; k++)
                p *= rt_load_f64(in[k], dt, off[k]);
            rt_store_f64(out[0], dt, off[nin], rt_load_f64(out[0], dt, off[nin]) + p);
        }
        int l = L - 1;
        for (; l >= 0; l--) {
            ix[l]++;
            for (int k = 0; k <= nin; k++)
                off[k] += st[L * k + l];
            if (ix[l] < size[l])
                break;
            for (int k = 0; k <= nin; k++)
                off[k] -= ix[l] * st[L * k + l];
            ix[l] = 0;
        }
        if (l < 0)
            break;
    }
    return RT_OK;
}

/* GridSample's reflection: folds x back into [lo, hi] by the nearer border
 * until it lands inside (ONNX reference, after PyTorch's GridSampler.h). */
static double gs_reflect(double x, double lo, double hi)
{
    double rng = hi - lo;
    if (rng <= 0)
        return lo;
    if (x < lo) {
        double dx = lo - x;
        int64_t k = (int64_t)(dx / rng);
        double r = dx - (double)k * rng;
        return k % 2 == 0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double dx = x - hi;
        int64_t k = (int64_t)(dx / rng);
        double r = dx - (double)k * rng;
        return k % 2 == 0 ? hi - r : lo + r;
    }
    return x;
}

typedef struct GsPlane {
    const void *x;               /* the input tensor */
    int dt;                      /* its dtype */
    int64_t base, h, w;          /* offset of the (n, c) plane and its extent */
    int pad;                     /* 0 zeros, 1 border, 2 reflection */
    double lo_x, hi_x, lo_y, hi_y; /* reflection borders */
} GsPlane;

static int64_t gs_index(int64_t i, int64_t d, int pad, double lo, double hi)
{
    if (pad == 1)
        return i < 0 ? 0 : i >= d ? d - 1 : i;
    if (pad == 2) {
        i = (int64_t)gs_reflect((double)i, lo, hi);
        return i < 0 ? 0 : i >= d ? d - 1 : i;
    }
    return i;
}

static double gs_pixel(const GsPlane *p, int64_t ix, int64_t iy)
{
    ix = gs_index(ix, p->w, p->pad, p->lo_x, p->hi_x);
    iy = gs_index(iy, p->h, p->pad, p->lo_y, p->hi_y);
    if (ix < 0 || ix >= p->w || iy < 0 || iy >= p->h)
        return 0;
    return rt_load_f64(p->x, p->dt, p->base + iy * p->w + ix);
}

/* Keys' cubic convolution weights with A = -0.75, as ONNX and PyTorch use. */
static void gs_cubic(double t, double *w)
{
    const double a = -0.75;
    double t1 = t + 1, u = 1 - t, u1 = 2 - t;
    w[0] = ((a * t1 - 5 * a) * t1 + 8 * a) * t1 - 4 * a;
    w[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
    w[2] = ((a + 2) * u - (a + 3)) * u * u + 1;
    w[3] = ((a * u1 - 5 * a) * u1 + 8 * a) * u1 - 4 * a;
}

/* One axis of a 3-D sample: grid value v in input coordinates of an axis of
 * extent n, rounded (nearest) and padded in the 2-D path's order. */
static double gs_coord(double v, int64_t n, int align, int mode, int pad)
{
    double f = align ? (v + 1) / 2 * (double)(n - 1) : ((v + 1) * (double)n - 1) / 2;
    double lo = align ? 0 : -0.5, hi = align ? (double)n - 1 : (double)n - 0.5;
    if (mode == 1)
        f = nearbyint(f);
    if (pad == 1 && (f < lo || f > hi))
        f = f < 0 ? 0 : f > (double)n - 1 ? (double)n - 1 : f;
    else if (pad == 2)
        f = gs_reflect(f, lo, hi);
    return f;
}

/* Voxel (iz, iy, ix) of the (n, c) volume at base, padded as gs_pixel does. */
static double gs_voxel(const void *x, int dt, int64_t base, const int64_t *ext, int pad,
                       int align, const int64_t *i3)
{
    int64_t off = 0;
    for (int a = 0; a < 3; a++) {
        double lo = align ? 0 : -0.5, hi = align ? (double)ext[a] - 1 : (double)ext[a] - 0.5;
        int64_t i = gs_index(i3[a], ext[a], pad, lo, hi);
        if (i < 0 || i >= ext[a])
            return 0;
        off = off * ext[a] + i;
    }
    return rt_load_f64(x, dt, base + off);
}

/* 3-D GridSample: trilinear over the 8 voxels around each point, or the
 * nearest one. The grid's last axis is (x, y, z) for (W, H, D). */
static int gridsample_3d(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *g = &c->in[1], *y = &c->out[0];
    if (g->rank != 5 || y->rank != 5 || g->dims[4] != 3 || c->n_ints < RT_GRIDSAMPLE_NINTS)
        return RT_EINVAL;
    int mode = (int)c->ints[RT_GRIDSAMPLE_MODE], pad = (int)c->ints[RT_GRIDSAMPLE_PADDING];
    int align = (int)c->ints[RT_GRIDSAMPLE_ALIGN_CORNERS];
    if (mode != 0 && mode != 1)
        return RT_EINVAL;
    int64_t nb = x->dims[0], ch = x->dims[1], ext[3] = {x->dims[2], x->dims[3], x->dims[4]};
    int64_t vol = ext[0] * ext[1] * ext[2], pts = y->dims[2] * y->dims[3] * y->dims[4];
    for (int64_t n = 0; n < nb; n++)
        for (int64_t k = 0; k < ch; k++) {
            int64_t base = (n * ch + k) * vol;
            for (int64_t i = 0; i < pts; i++) {
                int64_t go = (n * pts + i) * 3;
                double f[3]; /* (z, y, x) */
                for (int a = 0; a < 3; a++)
                    f[a] = gs_coord(rt_load_f64(in[1], g->dtype, go + 2 - a), ext[a], align,
                                    mode, pad);
                double v = 0;
                if (mode == 1) {
                    int64_t i3[3] = {(int64_t)f[0], (int64_t)f[1], (int64_t)f[2]};
                    v = gs_voxel(in[0], x->dtype, base, ext, pad, align, i3);
                } else {
                    double f0[3], t[3];
                    for (int a = 0; a < 3; a++) {
                        f0[a] = floor(f[a]);
                        t[a] = f[a] - f0[a];
                    }
                    for (int corner = 0; corner < 8; corner++) {
                        double w = 1;
                        int64_t i3[3];
                        for (int a = 0; a < 3; a++) {
                            int up = corner >> (2 - a) & 1;
                            i3[a] = (int64_t)f0[a] + up;
                            w *= up ? t[a] : 1 - t[a];
                        }
                        v += w * gs_voxel(in[0], x->dtype, base, ext, pad, align, i3);
                    }
                }
                rt_store_f64(out[0], y->dtype, (n * ch + k) * pts + i, v);
            }
        }
    return RT_OK;
}

int rt_gridsample(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *g = &c->in[1], *y = &c->out[0];
    if (!rt_is_float(x->dtype) || !rt_is_float(g->dtype))
        return RT_EDTYPE;
    if (x->rank == 5)
        return gridsample_3d(c, in, out);
    if (x->rank != 4 || g->rank != 4 || y->rank != 4 || c->n_ints < RT_GRIDSAMPLE_NINTS)
        return RT_EINVAL;
    int mode = (int)c->ints[RT_GRIDSAMPLE_MODE], align = (int)c->ints[RT_GRIDSAMPLE_ALIGN_CORNERS];
    int64_t nb = x->dims[0], ch = x->dims[1], oh = y->dims[2], ow = y->dims[3];
    GsPlane p;
    p.x = in[0];
    p.dt = x->dtype;
    p.h = x->dims[2];
    p.w = x->dims[3];
    p.pad = (int)c->ints[RT_GRIDSAMPLE_PADDING];
    p.lo_x = align ? 0 : -0.5;
    p.lo_y = p.lo_x;
    p.hi_x = align ? (double)p.w - 1 : (double)p.w - 0.5;
    p.hi_y = align ? (double)p.h - 1 : (double)p.h - 0.5;
    for (int64_t n = 0; n < nb; n++)
        for (int64_t k = 0; k < ch; k++) {
            p.base = (n * ch + k) * p.h * p.w;
            for (int64_t i = 0; i < oh * ow; i++) {
                int64_t go = (n * oh * ow + i) * 2;
                double gx = rt_load_f64(in[1], g->dtype, go);
                double gy = rt_load_f64(in[1], g->dtype, go + 1);
                double fx = align ? (gx + 1) / 2 * (double)(p.w - 1)
                                  : ((gx + 1) * (double)p.w - 1) / 2;
                double fy = align ? (gy + 1) / 2 * (double)(p.h - 1)
                                  : ((gy + 1) * (double)p.h - 1) / 2;
                if (mode == 1) {
                    /* PyTorch's 2-D nearest rounds half to even (nearbyint). */
                    fx = nearbyint(fx);
                    fy = nearbyint(fy);
                }
                if (p.pad == 1) {
                    if (fx < p.lo_x || fx > p.hi_x)
                        fx = fx < 0 ? 0 : fx > (double)p.w - 1 ? (double)p.w - 1 : fx;
                    if (fy < p.lo_y || fy > p.hi_y)
                        fy = fy < 0 ? 0 : fy > (double)p.h - 1 ? (double)p.h - 1 : fy;
                } else if (p.pad == 2) {
                    fx = gs_reflect(fx, p.lo_x, p.hi_x);
                    fy = gs_reflect(fy, p.lo_y, p.hi_y);
                }
                double v;
                if (mode == 1) {
                    v = gs_pixel(&p, (int64_t)fx, (int64_t)fy);
                } else {
                    double x0 = floor(fx), y0 = floor(fy), tx = fx - x0, ty = fy - y0;
                    int64_t ix = (int64_t)x0, iy = (int64_t)y0;
                    if (mode == 0) {
                        v = (1 - ty) * ((1 - tx) * gs_pixel(&p, ix, iy) +
                                        tx * gs_pixel(&p, ix + 1, iy)) +
                            ty * ((1 - tx) * gs_pixel(&p, ix, iy + 1) +
                                  tx * gs_pixel(&p, ix + 1, iy + 1));
                    } else {
                        double wx[4], wy[4];
                        gs_cubic(tx, wx);
                        gs_cubic(ty, wy);
                        v = 0;
                        for (int r = 0; r < 4; r++) {
                            double row = 0;
                            for (int q = 0; q < 4; q++)
                                row += wx[q] * gs_pixel(&p, ix - 1 + q, iy - 1 + r);
                            v += wy[r] * row;
                        }
                    }
                }
                rt_store_f64(out[0], y->dtype, (n * ch + k) * oh * ow + i, v);
            }
        }
    return RT_OK;
}

int rt_maxunpool(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    int64_t n = rt_numel(x), on = rt_numel(y), dn = 1;
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz || !rt_dtype_size(c->in[1].dtype))
        return RT_EDTYPE;
    if (c->n_ints != RT_MAXUNPOOL_DIMS + y->rank)
        return RT_EINVAL;
    const int64_t *dflt = c->ints + RT_MAXUNPOOL_DIMS;
    for (int a = 0; a < y->rank; a++)
        dn *= dflt[a];
    memset(out[0], 0, (size_t)on * esz);
    for (int64_t i = 0; i < n; i++) {
        int64_t j = rt_load_i64(in[1], c->in[1].dtype, i);
        if (j < 0 || j >= dn)
            return RT_EINVAL;
        /* j is flat in the default shape; re-flatten it in y's. */
        int64_t o = 0, scale = 1;
        for (int a = y->rank - 1; a >= 0; a--) {
            o += j % dflt[a] * scale;
            j /= dflt[a];
            scale *= y->dims[a];
        }
        memcpy((char *)out[0] + (size_t)o * esz, (const char *)in[0] + (size_t)i * esz, esz);
    }
    return RT_OK;
}

/* One bilinear sample of a [h, w] plane at (y, x), following ONNX's
 * reference (after Detectron's RoIAlign): samples beyond one pixel outside
 * are 0, coordinates are clamped to the plane. In max mode the result is the
 * largest weighted corner instead of their sum. */
static double roi_sample(const void *x, int dt, int64_t base, int64_t h, int64_t w, double y,
                         double xx, int is_max)
{
    if (y < -1.0 || y > (double)h || xx < -1.0 || xx > (double)w)
        return 0;
    if (y <= 0)
        y = 0;
    if (xx <= 0)
        xx = 0;
    int64_t y0 = (int64_t)y, x0 = (int64_t)xx, y1, x1;
    if (y0 >= h - 1) {
        y0 = y1 = h - 1;
        y = (double)y0;
    } else {
        y1 = y0 + 1;
    }
    if (x0 >= w - 1) {
        x0 = x1 = w - 1;
        xx = (double)x0;
    } else {
        x1 = x0 + 1;
    }
    double ly = y - (double)y0, lx = xx - (double)x0, hy = 1 - ly, hx = 1 - lx;
    double v[4] = {hy * hx * rt_load_f64(x, dt, base + y0 * w + x0),
                   hy * lx * rt_load_f64(x, dt, base + y0 * w + x1),
                   ly * hx * rt_load_f64(x, dt, base + y1 * w + x0),
                   ly * lx * rt_load_f64(x, dt, base + y1 * w + x1)};
    if (!is_max)
        return v[0] + v[1] + v[2] + v[3];
    double m = v[0];
    for (int i = 1; i < 4; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

int rt_roialign(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *r = &c->in[1], *y = &c->out[0];
    if (!rt_is_float(x->dtype) || !rt_is_float(r->dtype))
        return RT_EDTYPE;
    if (c->n_ints < RT_ROIALIGN_NINTS || c->n_floats < RT_ROIALIGN_NFLOATS || x->rank != 4 ||
        y->rank != 4)
        return RT_EINVAL;
    int is_max = (int)c->ints[RT_ROIALIGN_MAX], half = (int)c->ints[RT_ROIALIGN_HALF_PIXEL];
    int64_t sr = c->ints[RT_ROIALIGN_SAMPLING_RATIO];
    double scale = c->floats[RT_ROIALIGN_F_SPATIAL_SCALE], off = half ? 0.5 : 0;
    int64_t nb = x->dims[0], ch = x->dims[1], h = x->dims[2], w = x->dims[3];
    int64_t nr = y->dims[0], oh = y->dims[2], ow = y->dims[3];
    for (int64_t k = 0; k < nr; k++) {
        int64_t b = rt_load_i64(in[2], c->in[2].dtype, k);
        if (b < 0 || b >= nb)
            return RT_EINVAL;
        double x1 = rt_load_f64(in[1], r->dtype, 4 * k) * scale - off;
        double y1 = rt_load_f64(in[1], r->dtype, 4 * k + 1) * scale - off;
        double x2 = rt_load_f64(in[1], r->dtype, 4 * k + 2) * scale - off;
        double y2 = rt_load_f64(in[1], r->dtype, 4 * k + 3) * scale - off;
        double rw = x2 - x1, rh = y2 - y1;
        if (!half) {
            /* output_half_pixel (opset 10's only behaviour) forces rois >= 1. */
            rw = rw > 1 ? rw : 1;
            rh = rh > 1 ? rh : 1;
        }
        double bw = rw / (double)ow, bh = rh / (double)oh;
        int64_t gh = sr > 0 ? sr : (int64_t)ceil(rh / (double)oh);
        int64_t gw = sr > 0 ? sr : (int64_t)ceil(rw / (double)ow);
        double cnt = gh * gw > 1 ? (double)(gh * gw) : 1;
        for (int64_t q = 0; q < ch; q++) {
            int64_t base = (b * ch + q) * h * w;
            for (int64_t ph = 0; ph < oh; ph++)
                for (int64_t pw = 0; pw < ow; pw++) {
                    double acc = 0;
                    int first = 1;
                    for (int64_t iy = 0; iy < gh; iy++) {
                        double sy = y1 + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh;
                        for (int64_t ix = 0; ix < gw; ix++) {
                            double sx =
                                x1 + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw;
                            double v = roi_sample(in[0], x->dtype, base, h, w, sy, sx, is_max);
                            if (!is_max)
                                acc += v;
                            else if (first || v > acc)
                                acc = v;
                            first = 0;
                        }
                    }
                    rt_store_f64(out[0], y->dtype, ((k * ch + q) * oh + ph) * ow + pw,
                                 is_max ? acc : acc / cnt);
                }
        }
    }
    return RT_OK;
}
