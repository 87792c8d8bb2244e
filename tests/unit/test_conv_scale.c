/* test_conv_scale.c: a pointwise Conv's channel scale S and shift T (FusedConv's 5th and 6th inputs, k_conv.c) against a float64 reference and the unfused Mul. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fill.h"
#include "desc.h"
#include "runtime/rt_internal.h"

typedef struct SCase {
    int n, c, m, h, w;
    int bias, sum, act;          /* act: RT_EPI_* */
    int shift;                   /* T too: X is max(S X + T, 0) (a folded BN + Relu) */
} SCase;

static double act_ref(double v, int act)
{
    switch (act) {
    case RT_EPI_CLAMP: return v < 0 ? 0 : v > 6 ? 6 : v; /* Relu6 */
    case RT_EPI_HARD_SWISH: return v * fmin(fmax(v / 6 + 0.5, 0), 1);
    default: return v;
    }
}

/* rt_conv on x (N, C, H, W) with W (M, C, 1, 1), s given or NULL, sh (the
 * shift) given or NULL. */
static int conv(const SCase *t, const float *x, const float *w, const float *b, const float *z,
                const float *s, const float *sh, float *y)
{
    RtTensorDesc in[6] = {
        desc(RT_F32, 4, DIMS(t->n, t->c, t->h, t->w)), desc(RT_F32, 4, DIMS(t->m, t->c, 1, 1)),
        t->bias ? desc1(RT_F32, t->m) : desc(RT_UNDEF, 0, NULL),
        t->sum ? desc(RT_F32, 4, DIMS(t->n, t->m, t->h, t->w)) : desc(RT_UNDEF, 0, NULL),
        desc(RT_F32, 4, DIMS(t->n, t->c, 1, 1)), desc(RT_F32, 4, DIMS(t->n, t->c, 1, 1))};
    RtTensorDesc out = desc(RT_F32, 4, DIMS(t->n, t->m, t->h, t->w));
    int64_t ints[] = {1, 2, 1, 1, 1, 1, 0, 0, t->act};
    float fl[2] = {0, 6};
    RtCall c = call(sh ? 6 : s ? 5 : 4, in, 1, &out, 9, ints, 2, fl);
    const void *ins[6] = {x, w, t->bias ? b : NULL, t->sum ? z : NULL, s, sh};
    void *outs[1] = {y};
    return rt_conv(&c, ins, outs);
}

/* Returns the number of outputs off the reference (relative to the sum of
 * |terms|, tol 1e-5: float32 sums of at most 300 products reordered) plus
 * the number that differ from the unfused Mul-then-Conv at all (with a
 * shift: from the unfused BN, Relu, Conv by more than the tolerance, as
 * S X + T may round once, fused, where the BN rounds twice). */
static int64_t run_case(const SCase *t)
{
    int64_t hw = (int64_t)t->h * t->w, nx = t->n * t->c * hw, ny = t->n * t->m * hw;
    float *x = malloc(sizeof(float) * (size_t)nx), *xs = malloc(sizeof(float) * (size_t)nx);
    float *w = malloc(sizeof(float) * (size_t)(t->m * t->c)), *b = malloc(sizeof(float) * t->m);
    float *z = malloc(sizeof(float) * (size_t)ny), *s = malloc(sizeof(float) * (size_t)(t->n * t->c));
    float *y = malloc(sizeof(float) * (size_t)ny), *y0 = malloc(sizeof(float) * (size_t)ny);
    float *sh = malloc(sizeof(float) * (size_t)(t->n * t->c));
    fill(x, nx, 41);
    fill(w, t->m * t->c, 42);
    fill(b, t->m, 43);
    fill(z, ny, 44);
    fill(s, t->n * t->c, 45);
    fill(sh, t->n * t->c, 46);
    for (int64_t i = 0; i < nx; i++) { /* the Mul the fold replaces, rounded as it was */
        xs[i] = s[i / hw] * x[i];
        if (t->shift) { /* and the BN's shift, the Relu */
            xs[i] += sh[i / hw];
            xs[i] = xs[i] < 0 ? 0 : xs[i];
        }
    }
    for (int64_t i = 0; i < ny; i++)
        y[i] = y0[i] = NAN;
    int64_t bad = 0;
    CHECK(RT_OK, conv(t, x, w, b, z, s, t->shift ? sh : NULL, y));
    CHECK(RT_OK, conv(t, xs, w, b, z, NULL, NULL, y0));
    for (int n = 0; n < t->n; n++)
        for (int m = 0; m < t->m; m++)
            for (int64_t p = 0; p < hw; p++) {
                double acc = t->bias ? b[m] : 0, mag = fabs(acc);
                for (int c = 0; c < t->c; c++) {
                    int64_t i = (n * t->c + c) * hw + p;
                    double xv = t->shift ? fmax((double)s[i / hw] * x[i] + sh[i / hw], 0) : xs[i];
                    double v = (double)w[m * t->c + c] * xv;
                    acc += v;
                    mag += fabs(v);
                }
                int64_t o = (n * t->m + m) * hw + p;
                if (t->sum) {
                    acc += z[o];
                    mag += fabs(z[o]);
                }
                double ref = act_ref(acc, t->act);
                bad += !(fabs(y[o] - ref) <= 1e-5 * (mag + 1e-30) + 1e-6);
                if (t->shift)
                    bad += !(fabs(y[o] - y0[o]) <= 1e-5 * (mag + 1e-30) + 1e-6);
                else
                    bad += memcmp(&y[o], &y0[o], sizeof(float)) != 0;
            }
    free(x), free(xs), free(w), free(b), free(z), free(s), free(y), free(y0), free(sh);
    return bad;
}

int main(void)
{
    static const SCase cases[] = {
        /* n   c   m   h   w bias sum act shift */
        {1, 20, 8, 7, 9, 1, 0, RT_EPI_NONE, 0},          /* C x pixels as the product */
        {1, 96, 40, 14, 14, 1, 1, RT_EPI_NONE, 0},       /* MobileNetV3's projection, residual */
        {2, 33, 17, 5, 11, 0, 0, RT_EPI_CLAMP, 0},       /* two images: each its own scale */
        {1, 72, 200, 3, 3, 1, 0, RT_EPI_HARD_SWISH, 0},  /* many channels, few pixels: transposed */
        {2, 300, 64, 2, 2, 1, 1, RT_EPI_NONE, 0},        /* K past one block, transposed */
        /* with the shift and Relu: densenet's BN + Relu before its 1x1 convs */
        {1, 96, 128, 14, 14, 1, 0, RT_EPI_CLAMP, 1},  /* C x pixels */
        {2, 33, 17, 5, 11, 0, 1, RT_EPI_NONE, 1},     /* two images, residual */
        {1, 72, 200, 3, 3, 1, 0, RT_EPI_HARD_SWISH, 1}, /* transposed */
        {1, 300, 40, 1, 1, 1, 0, RT_EPI_NONE, 1},     /* a 1x1 map: one row */
    };
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    /* both of the kernel's products are covered */
    CHECK_TRUE(!rt_gemm_prefer_t(cases[1].m, 14 * 14, nr) && rt_gemm_prefer_t(cases[3].m, 9, nr));
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(0, run_case(&cases[i]));
    rt_set_threads(2); /* the GEMM splits its own work: same result */
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(0, run_case(&cases[i]));
    rt_set_threads(1);
    /* refused where the fold never puts it: a 3x3 window */
    {
        float x[2 * 3 * 3] = {0}, w[2 * 2 * 9] = {0}, s[2] = {1, 1}, y[2 * 3 * 3];
        RtTensorDesc in[5] = {desc(RT_F32, 4, DIMS(1, 2, 3, 3)), desc(RT_F32, 4, DIMS(2, 2, 3, 3)),
                              desc(RT_UNDEF, 0, NULL), desc(RT_UNDEF, 0, NULL),
                              desc(RT_F32, 4, DIMS(1, 2, 1, 1))};
        RtTensorDesc out = desc(RT_F32, 4, DIMS(1, 2, 3, 3));
        int64_t ints[] = {1, 2, 1, 1, 1, 1, 1, 1};
        RtCall c = call(5, in, 1, &out, 8, ints, 0, NULL);
        const void *ins[5] = {x, w, NULL, NULL, s};
        void *outs[1] = {y};
        CHECK(RT_EINVAL, rt_conv(&c, ins, outs));
    }
    /* a shift without the scale is refused */
    {
        float x[2 * 3 * 3] = {0}, w[2 * 2] = {0}, t[2] = {1, 1}, y[2 * 3 * 3];
        RtTensorDesc in[6] = {desc(RT_F32, 4, DIMS(1, 2, 3, 3)), desc(RT_F32, 4, DIMS(2, 2, 1, 1)),
                              desc(RT_UNDEF, 0, NULL), desc(RT_UNDEF, 0, NULL),
                              desc(RT_UNDEF, 0, NULL), desc(RT_F32, 4, DIMS(1, 2, 1, 1))};
        RtTensorDesc out = desc(RT_F32, 4, DIMS(1, 2, 3, 3));
        int64_t ints[] = {1, 2, 1, 1, 0, 0};
        RtCall c = call(6, in, 1, &out, 6, ints, 0, NULL);
        const void *ins[6] = {x, w, NULL, NULL, NULL, t};
        void *outs[1] = {y};
        CHECK(RT_EINVAL, rt_conv(&c, ins, outs));
    }
    return CHECK_DONE();
}
