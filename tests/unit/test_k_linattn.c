/* test_k_linattn.c: the LinearAttention recurrences (linear, gated, delta, gated-delta; GQA, per-head and per-key decay, scalar beta, erase gate, past state, float16, threads) against a double reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "runtime/onnxcc_rt_kernels.h"

typedef struct Case {
    int b, t, hq, hkv, dk, dv;
    int gating, delta;
    int decay_per_key, beta_w;   /* decay's last axis dk*hkv or hkv; beta's hkv or 1 */
    int past, erase, dtype;
} Case;

/* Keys are kept to |k|^2 <= 1 (as gated delta nets L2-normalize them): the
 * delta rule's S (I - beta k k^T) is then contractive, and float32 can
 * follow double; with larger keys it amplifies rounding step after step. */
static double val(int which, int64_t i)
{
    double v = sin(0.37 * (double)i + 1.1 * which);
    return which == 4 ? 0.3 * v - 0.2 : which == 1 ? 0.25 * v : v;
}

/* Fills input `which` (n elements) with val; beta and erase gates in (0, 1). */
static void *make(int which, int64_t n, int dt)
{
    void *p = calloc((size_t)n + 1, rt_dtype_size(dt));
    for (int64_t i = 0; i < n; i++) {
        double v = val(which, i);
        if (which == 5 || which == 6)
            v = 0.5 + 0.4 * v;
        rt_store_f64(p, dt, i, v);
    }
    return p;
}

static double run(const Case *k, float *keep)
{
    int dt = k->dtype, b = k->b, t = k->t, hq = k->hq, hkv = k->hkv, dk = k->dk, dv = k->dv;
    int grp = hq / hkv, dw = k->decay_per_key ? hkv * dk : hkv;
    int64_t nq = (int64_t)b * t * hq * dk, nk = (int64_t)b * t * hkv * dk;
    int64_t nv = (int64_t)b * t * hkv * dv, ns = (int64_t)b * hkv * dk * dv;
    void *in[7] = {make(0, nq, dt), make(1, nk, dt), make(2, nv, dt),
                   k->past ? make(3, ns, dt) : NULL,
                   k->gating ? make(4, (int64_t)b * t * dw, dt) : NULL,
                   k->delta ? make(5, (int64_t)b * t * k->beta_w, dt) : NULL,
                   k->erase ? make(6, nk, dt) : NULL};
    int64_t ny = (int64_t)b * t * hq * dv;
    void *y = calloc((size_t)ny, rt_dtype_size(dt)), *st = calloc((size_t)ns, rt_dtype_size(dt));
    RtTensorDesc din[7], dout[2];
    memset(din, 0, sizeof din);
    din[0] = desc(dt, 3, DIMS(b, t, hq * dk));
    din[1] = desc(dt, 3, DIMS(b, t, hkv * dk));
    din[2] = desc(dt, 3, DIMS(b, t, hkv * dv));
    if (k->past)
        din[3] = desc(dt, 4, DIMS(b, hkv, dk, dv));
    if (k->gating)
        din[4] = desc(dt, 3, DIMS(b, t, dw));
    if (k->delta)
        din[5] = desc(dt, 3, DIMS(b, t, k->beta_w));
    if (k->erase)
        din[6] = din[1];
    dout[0] = desc(dt, 3, DIMS(b, t, hq * dv));
    dout[1] = desc(dt, 4, DIMS(b, hkv, dk, dv));
    double scale = 1 / sqrt((double)dk);
    int64_t ints[RT_LINATTN_NINTS] = {hq, hkv, k->gating, k->delta};
    float fl[RT_LINATTN_NFLOATS] = {(float)scale};
    void *out[2] = {y, st};
    RtCall c = call(7, din, 2, dout, RT_LINATTN_NINTS, ints, RT_LINATTN_NFLOATS, fl);
    CHECK(RT_OK, rt_linear_attention(&c, (const void *const *)in, out));

    /* the reference, in double, straight from the recurrence */
    double worst = 0, *s = malloc(sizeof(double) * (size_t)(dk * dv)), *vv = malloc(sizeof(double) * (size_t)dv);
#define LD(i, off) rt_load_f64(in[i], dt, off)
    for (int bb = 0; bb < b; bb++)
        for (int g = 0; g < hkv; g++) {
            for (int e = 0; e < dk * dv; e++)
                s[e] = k->past ? LD(3, ((int64_t)bb * hkv + g) * dk * dv + e) : 0;
            for (int tt = 0; tt < t; tt++) {
                int64_t bt = (int64_t)bb * t + tt;
                for (int d = 0; d < dk && k->gating; d++) {
                    double f = exp(LD(4, bt * dw + (k->decay_per_key ? g * dk + d : g)));
                    for (int m = 0; m < dv; m++)
                        s[d * dv + m] *= f;
                }
                for (int m = 0; m < dv; m++)
                    vv[m] = LD(2, bt * hkv * dv + g * dv + m);
                if (k->delta) {
                    double beta = LD(5, bt * k->beta_w + (k->beta_w == 1 ? 0 : g));
                    for (int m = 0; m < dv; m++) {
                        double r = 0;
                        for (int d = 0; d < dk; d++) {
                            double kd = LD(1, bt * hkv * dk + g * dk + d);
                            if (k->erase)
                                kd *= LD(6, bt * hkv * dk + g * dk + d);
                            r += s[d * dv + m] * kd;
                        }
                        vv[m] = beta * (vv[m] - r);
                    }
                }
                for (int d = 0; d < dk; d++)
                    for (int m = 0; m < dv; m++)
                        s[d * dv + m] += LD(1, bt * hkv * dk + g * dk + d) * vv[m];
                for (int h = g * grp; h < (g + 1) * grp; h++)
                    for (int m = 0; m < dv; m++) {
                        double o = 0;
                        for (int d = 0; d < dk; d++)
                            o += LD(0, bt * hq * dk + h * dk + d) * s[d * dv + m];
                        double got = rt_load_f64(y, dt, bt * hq * dv + h * dv + m);
                        worst = fmax(worst, fabs(got - scale * o) / fmax(1, fabs(scale * o)));
                    }
            }
            for (int e = 0; e < dk * dv; e++) {
                double got = rt_load_f64(st, dt, ((int64_t)bb * hkv + g) * dk * dv + e);
                worst = fmax(worst, fabs(got - s[e]) / fmax(1, fabs(s[e])));
            }
        }
#undef LD
    if (keep)
        for (int64_t i = 0; i < ny; i++)
            keep[i] = (float)rt_load_f64(y, dt, i);
    for (int i = 0; i < 7; i++)
        free(in[i]);
    free(y), free(st), free(s), free(vv);
    return worst;
}

int main(void)
{
    /* float32 state over <= 24 steps of unit-sized updates: 1e-5 relative */
    const double tol = 1e-5;
    Case lin = {2, 9, 4, 4, 8, 6, 0, 0, 0, 0, 0, 0, RT_F32};
    CHECK_NEAR(0, run(&lin, NULL), tol);
    Case gated = {2, 9, 4, 2, 8, 6, 1, 0, 0, 0, 1, 0, RT_F32};
    CHECK_NEAR(0, run(&gated, NULL), tol);
    gated.decay_per_key = 1;
    CHECK_NEAR(0, run(&gated, NULL), tol);
    Case delta = {2, 9, 4, 4, 8, 6, 0, 1, 0, 4, 0, 0, RT_F32};
    CHECK_NEAR(0, run(&delta, NULL), tol);
    Case gd = {3, 24, 8, 2, 16, 12, 1, 1, 1, 1, 1, 1, RT_F32};
    CHECK_NEAR(0, run(&gd, NULL), tol);
    gd.beta_w = 2;
    gd.erase = 0;
    gd.decay_per_key = 0;
    CHECK_NEAR(0, run(&gd, NULL), tol);
    /* float16 in and out, float32 inside: half-precision rounding, 3e-3 */
    Case h = {1, 5, 4, 2, 8, 8, 1, 1, 1, 2, 0, 0, RT_F16};
    CHECK_NEAR(0, run(&h, NULL), 3e-3);
    /* KV heads split across threads give the same bits */
    static float y1[3 * 24 * 8 * 12], y2[3 * 24 * 8 * 12];
    run(&gd, y1);
    if (rt_set_threads(2) == RT_OK) {
        run(&gd, y2);
        CHECK(0, memcmp(y1, y2, sizeof y1));
        rt_set_threads(1);
    } else {
        fprintf(stderr, "no thread pool: the 2-thread comparison is not run\n");
    }
    return CHECK_DONE();
}
