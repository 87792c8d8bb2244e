/* k_groupnorm.c: GroupNormalization: statistics per (batch, group of channels). */
#include <math.h>

#include "rt_internal.h"

typedef struct GnJob {
    int dt, sdt, per_channel;
    int64_t groups, cpg, sp;     /* channels per group, elements per channel */
    double eps;
    const void *x, *scale, *bias;
    void *y;
} GnJob;

/* (batch, group) pairs [lo, hi): each owns cpg * sp contiguous elements of X
 * and Y. Two passes in double over the group for its mean and population
 * variance (ONNX's reference: np.var), then one affine pass per channel. */
static void gn_range(void *ctx, int64_t lo, int64_t hi)
{
    const GnJob *j = ctx;
    int64_t len = j->cpg * j->sp;
    for (int64_t bg = lo; bg < hi; bg++) {
        int64_t off = bg * len, g = bg % j->groups;
        double m = 0, v = 0;
        if (j->dt == RT_F32) {
            const float *x = (const float *)j->x + off;
            for (int64_t i = 0; i < len; i++)
                m += x[i];
            m = len ? m / (double)len : 0;
            for (int64_t i = 0; i < len; i++)
                v += (x[i] - m) * (x[i] - m);
        } else {
            for (int64_t i = 0; i < len; i++)
                m += rt_load_f64(j->x, j->dt, off + i);
            m = len ? m / (double)len : 0;
            for (int64_t i = 0; i < len; i++) {
                double t = rt_load_f64(j->x, j->dt, off + i) - m;
                v += t * t;
            }
        }
        double inv = 1 / sqrt((len ? v / (double)len : 0) + j->eps);
        for (int64_t k = 0; k < j->cpg; k++) {
            int64_t p = j->per_channel ? g * j->cpg + k : g;
            double a = rt_load_f64(j->scale, j->sdt, p) * inv;
            double b = rt_load_f64(j->bias, j->sdt, p) - m * a;
            int64_t o = off + k * j->sp;
            if (j->dt == RT_F32) {
                const float *x = (const float *)j->x + o;
                float *y = (float *)j->y + o, fa = (float)a, fb = (float)b;
                for (int64_t i = 0; i < j->sp; i++)
                    y[i] = x[i] * fa + fb;
            } else {
                for (int64_t i = o; i < o + j->sp; i++)
                    rt_store_f64(j->y, j->dt, i, rt_load_f64(j->x, j->dt, i) * a + b);
            }
        }
    }
}

int rt_groupnorm(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (!rt_is_float(dt) || !rt_is_float(c->in[1].dtype) || c->in[2].dtype != c->in[1].dtype)
        return RT_EDTYPE;
    if (c->n_in < 3 || x->rank < 2 || c->n_ints < RT_GROUPNORM_NINTS ||
        c->n_floats < RT_GROUPNORM_NFLOATS)
        return RT_EINVAL;
    int64_t groups = c->ints[RT_GROUPNORM_GROUPS], ch = x->dims[1];
    int per_channel = c->ints[RT_GROUPNORM_PER_CHANNEL] != 0;
    if (groups < 1 || ch % groups || rt_numel(&c->in[1]) != (per_channel ? ch : groups) ||
        rt_numel(&c->in[2]) != rt_numel(&c->in[1]))
        return RT_EINVAL;
    GnJob j = {.dt = dt, .sdt = c->in[1].dtype, .per_channel = per_channel, .groups = groups,
               .cpg = ch / groups, .sp = rt_prod(x->dims, 2, x->rank),
               .eps = c->floats[RT_GROUPNORM_F_EPSILON], .x = in[0], .scale = in[1],
               .bias = in[2], .y = out[0]};
    int64_t len = j.cpg * j.sp;
    rt_parallel_for(x->dims[0] * groups, len >= 16384 ? 1 : 16384 / (len ? len : 1), gn_range,
                    &j);
    return RT_OK;
}
