/* k_deform.c: DeformConv (2-D): convolution whose taps sample X bilinearly at learned offsets. */
#include <math.h>

#include "rt_internal.h"

typedef struct DeformJob {
    int dt;
    int64_t c, h, w, m, kh, kw, oh, ow, group, og;
    const int64_t *st, *dil, *pb;
    const void *x, *wt, *off, *bias, *mask;
    void *y;
} DeformJob;

/* X[plane] at the real point (py, px): bilinear over the four pixels around
 * it, each pixel outside the image counting as zero (GridSample with zeros
 * padding and align_corners, which ONNX's reference calls). */
static double sample(const DeformJob *j, int64_t plane, double py, double px)
{
    double y0 = floor(py), x0 = floor(px), ty = py - y0, tx = px - x0, v = 0;
    const float *xf = j->dt == RT_F32 ? (const float *)j->x + plane * j->h * j->w : NULL;
    for (int r = 0; r < 2; r++)
        for (int q = 0; q < 2; q++) {
            int64_t iy = (int64_t)y0 + r, ix = (int64_t)x0 + q;
            if (iy < 0 || iy >= j->h || ix < 0 || ix >= j->w)
                continue;
            double wgt = (r ? ty : 1 - ty) * (q ? tx : 1 - tx);
            v += wgt * (xf ? xf[iy * j->w + ix]
                           : rt_load_f64(j->x, j->dt, (plane * j->h + iy) * j->w + ix));
        }
    return v;
}

/* Samples and output channels handled per pass over one output point: the
 * samples of up to DC_S (channel, tap) pairs are taken once and shared by
 * up to DC_M output channels of their group, on the stack. */
enum { DC_S = 256, DC_M = 64 };

/* Output points (n, y, x) [lo, hi): each writes y[n, :, y, x] only. Per
 * point and group: bias + sum over the group's input channels and taps of
 * W * (mask * X sampled at the tap's place plus its offset). */
static void deform_range(void *ctx, int64_t lo, int64_t hi)
{
    const DeformJob *j = ctx;
    int64_t cpg = j->c / j->group, mpg = j->m / j->group, cpo = j->c / j->og;
    int64_t taps = j->kh * j->kw, pts = j->oh * j->ow, red = cpg * taps;
    double s[DC_S], acc[DC_M];
    for (int64_t u = lo; u < hi; u++) {
        int64_t n = u / pts, p = u % pts, oy = p / j->ow, ox = p % j->ow;
        for (int64_t g = 0; g < j->group; g++)
            for (int64_t m0 = g * mpg; m0 < (g + 1) * mpg; m0 += DC_M) {
                int64_t nm = (g + 1) * mpg - m0 < DC_M ? (g + 1) * mpg - m0 : DC_M;
                for (int64_t i = 0; i < nm; i++)
                    acc[i] = j->bias ? rt_load_f64(j->bias, j->dt, m0 + i) : 0;
                for (int64_t r0 = 0; r0 < red; r0 += DC_S) {
                    int64_t nr = red - r0 < DC_S ? red - r0 : DC_S;
                    for (int64_t e = 0; e < nr; e++) {
                        int64_t ci = (r0 + e) / taps, k = (r0 + e) % taps;
                        int64_t c = g * cpg + ci, o = c / cpo;
                        int64_t oc = ((n * j->og + o) * taps + k) * 2;
                        double dy = rt_load_f64(j->off, j->dt, oc * pts + p);
                        double dx = rt_load_f64(j->off, j->dt, (oc + 1) * pts + p);
                        double mk = j->mask ? rt_load_f64(j->mask, j->dt,
                                                          ((n * j->og + o) * taps + k) * pts + p)
                                            : 1;
                        double py = (double)(oy * j->st[0] - j->pb[0] + k / j->kw * j->dil[0]);
                        double px = (double)(ox * j->st[1] - j->pb[1] + k % j->kw * j->dil[1]);
                        s[e] = mk * sample(j, n * j->c + c, py + dy, px + dx);
                    }
                    /* W [M, C/group, kH, kW]: row m's (ci, k) pairs are contiguous */
                    for (int64_t i = 0; i < nm; i++) {
                        int64_t wo = (m0 + i) * red + r0;
                        double a = 0;
                        if (j->dt == RT_F32) {
                            const float *wf = (const float *)j->wt + wo;
                            for (int64_t e = 0; e < nr; e++)
                                a += wf[e] * s[e];
                        } else {
                            for (int64_t e = 0; e < nr; e++)
                                a += rt_load_f64(j->wt, j->dt, wo + e) * s[e];
                        }
                        acc[i] += a;
                    }
                }
                for (int64_t i = 0; i < nm; i++)
                    rt_store_f64(j->y, j->dt, (n * j->m + m0 + i) * pts + p, acc[i]);
            }
    }
}

int rt_deform_conv(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *w = &c->in[1], *off = &c->in[2], *y = &c->out[0];
    int dt = x->dtype;
    if (!rt_is_float(dt) || w->dtype != dt || off->dtype != dt || y->dtype != dt)
        return RT_EDTYPE;
    if (c->n_in < 3 || c->n_ints < RT_DEFORM_NINTS || x->rank != 4 || w->rank != 4 ||
        off->rank != 4 || y->rank != 4)
        return RT_EINVAL;
    DeformJob j = {.dt = dt, .c = x->dims[1], .h = x->dims[2], .w = x->dims[3],
                   .m = w->dims[0], .kh = w->dims[2], .kw = w->dims[3], .oh = y->dims[2],
                   .ow = y->dims[3], .group = c->ints[RT_DEFORM_GROUP],
                   .og = c->ints[RT_DEFORM_OFFSET_GROUP], .st = c->ints + RT_DEFORM_STRIDES,
                   .dil = c->ints + RT_DEFORM_DIL, .pb = c->ints + RT_DEFORM_PADS,
                   .x = in[0], .wt = in[1], .off = in[2],
                   .bias = c->n_in > 3 && c->in[3].dtype ? in[3] : NULL,
                   .mask = c->n_in > 4 && c->in[4].dtype ? in[4] : NULL, .y = out[0]};
    if (j.group < 1 || j.og < 1 || j.c % j.group || j.c % j.og || j.m % j.group ||
        w->dims[1] != j.c / j.group || off->dims[1] != j.og * j.kh * j.kw * 2 ||
        off->dims[2] != j.oh || off->dims[3] != j.ow || y->dims[1] != j.m)
        return RT_EINVAL;
    if ((j.bias && c->in[3].dtype != dt) || (j.mask && c->in[4].dtype != dt))
        return RT_EDTYPE;
    int64_t work = j.m * (j.c / j.group) * j.kh * j.kw; /* per output point */
    rt_parallel_for(x->dims[0] * j.oh * j.ow, work >= 4096 ? 1 : 4096 / (work ? work : 1),
                    deform_range, &j);
    return RT_OK;
}
