/* k_swiglu.c: SwiGLU (opset 28): y = a * sigmoid(alpha * a) * b, elementwise, vectorized float32 in parallel ranges. */
#include "rt_internal.h"
#include "rt_vmath.h"

typedef struct Glu {
    const void *a, *b;
    void *y;
    int dt;
    float alpha;
} Glu;

HOT static void glu_range(void *ctx, int64_t lo, int64_t hi)
{
    const Glu *g = ctx;
    if (g->dt == RT_F32) {
        const float *a = (const float *)g->a, *b = (const float *)g->b;
        float *y = (float *)g->y;
        for (int64_t i = lo; i < hi; i++)
            y[i] = a[i] * v_recip(1.0f + v_exp(-g->alpha * a[i])) * b[i];
        return;
    }
    for (int64_t i = lo; i < hi; i++) {
        float a = (float)rt_load_f64(g->a, g->dt, i), b = (float)rt_load_f64(g->b, g->dt, i);
        rt_store_f64(g->y, g->dt, i, a / (1.0f + v_exp(-g->alpha * a)) * b);
    }
}

int rt_swiglu(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 2 || c->n_floats < RT_SWIGLU_NFLOATS)
        return RT_EINVAL;
    int dt = c->in[0].dtype;
    if (!rt_is_float(dt) || c->in[1].dtype != dt)
        return RT_EDTYPE;
    int64_t n = rt_numel(&c->in[0]);
    if (rt_numel(&c->in[1]) != n)
        return RT_EINVAL;
    Glu g = {in[0], in[1], out[0], dt, c->floats[RT_SWIGLU_F_ALPHA]};
    rt_parallel_for(n, 32768, glu_range, &g);
    return RT_OK;
}
