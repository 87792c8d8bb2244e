/* test_k_causalconv.c: the CausalConvWithState kernel (state or zeros, bias, SiLU, kernel wider than the input, float16, threads) against a double reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "runtime/onnxcc_rt_kernels.h"

/* Runs [b, ch, len] with kernel width k; returns the worst error of the
 * output and the present state. */
static double run(int b, int ch, int len, int k, int bias, int past, int silu, int dt,
                  float *keep)
{
    int64_t nx = (int64_t)b * ch * len, ns = (int64_t)b * ch * (k - 1);
    size_t esz = rt_dtype_size(dt);
    void *x = malloc((size_t)nx * esz), *w = malloc((size_t)(ch * k) * esz);
    void *bi = malloc((size_t)ch * esz), *ps = malloc((size_t)(ns + 1) * esz);
    void *y = malloc((size_t)nx * esz), *st = malloc((size_t)(ns + 1) * esz);
    for (int64_t i = 0; i < nx; i++)
        rt_store_f64(x, dt, i, sin(0.7 * (double)i));
    for (int64_t i = 0; i < ch * k; i++)
        rt_store_f64(w, dt, i, cos(0.3 * (double)i) * 0.5);
    for (int i = 0; i < ch; i++)
        rt_store_f64(bi, dt, i, 0.1 * i - 0.2);
    for (int64_t i = 0; i < ns; i++)
        rt_store_f64(ps, dt, i, sin(1.3 * (double)i + 0.5));
    RtTensorDesc din[4], dout[2];
    memset(din, 0, sizeof din);
    din[0] = desc(dt, 3, DIMS(b, ch, len));
    din[1] = desc(dt, 3, DIMS(ch, 1, k));
    if (bias)
        din[2] = desc(dt, 1, DIMS(ch));
    if (past)
        din[3] = desc(dt, 3, DIMS(b, ch, k - 1));
    dout[0] = din[0];
    dout[1] = desc(dt, 3, DIMS(b, ch, k - 1));
    int64_t ints[RT_CCS_NINTS] = {silu};
    const void *in[4] = {x, w, bias ? bi : NULL, past ? ps : NULL};
    void *out[2] = {y, st};
    RtCall c = call(4, din, 2, dout, RT_CCS_NINTS, ints, 0, NULL);
    CHECK(RT_OK, rt_causal_conv_with_state(&c, in, out));
    double worst = 0;
    for (int bb = 0; bb < b; bb++)
        for (int cc = 0; cc < ch; cc++) {
            int64_t r = (int64_t)bb * ch + cc;
#define PAD(j) ((j) < k - 1 ? (past ? rt_load_f64(ps, dt, r * (k - 1) + (j)) : 0) \
                            : rt_load_f64(x, dt, r * len + (j) - (k - 1)))
            for (int t = 0; t < len; t++) {
                double acc = bias ? rt_load_f64(bi, dt, cc) : 0;
                for (int i = 0; i < k; i++)
                    acc += rt_load_f64(w, dt, (int64_t)cc * k + i) * PAD(t + i);
                if (silu)
                    acc = acc / (1 + exp(-acc));
                worst = fmax(worst, fabs(rt_load_f64(y, dt, r * len + t) - acc));
            }
            for (int j = 0; j < k - 1; j++)
                worst = fmax(worst, fabs(rt_load_f64(st, dt, r * (k - 1) + j) - PAD(len + j)));
#undef PAD
        }
    if (keep)
        for (int64_t i = 0; i < nx; i++)
            keep[i] = (float)rt_load_f64(y, dt, i);
    free(x), free(w), free(bi), free(ps), free(y), free(st);
    return worst;
}

int main(void)
{
    /* float32 sums of <= 9 unit-sized products: 1e-5 */
    CHECK_NEAR(0, run(2, 5, 40, 4, 0, 0, 0, RT_F32, NULL), 1e-5);
    CHECK_NEAR(0, run(2, 5, 40, 4, 1, 1, 1, RT_F32, NULL), 1e-5);
    CHECK_NEAR(0, run(3, 2, 1, 4, 1, 1, 0, RT_F32, NULL), 1e-5);  /* a decode step */
    CHECK_NEAR(0, run(1, 3, 2, 9, 0, 0, 1, RT_F32, NULL), 1e-5);  /* kernel wider than input */
    CHECK_NEAR(0, run(2, 3, 7, 1, 1, 0, 0, RT_F32, NULL), 1e-5);  /* no state at all */
    /* float16: half-precision rounding of values up to ~3, 5e-3 */
    CHECK_NEAR(0, run(2, 4, 12, 4, 1, 1, 1, RT_F16, NULL), 5e-3);
    static float y1[4 * 64 * 300], y2[4 * 64 * 300];
    run(4, 64, 300, 4, 1, 1, 1, RT_F32, y1);
    if (rt_set_threads(2) == RT_OK) {
        run(4, 64, 300, 4, 1, 1, 1, RT_F32, y2);
        CHECK(0, memcmp(y1, y2, sizeof y1));
        rt_set_threads(1);
    } else {
        fprintf(stderr, "no thread pool: the 2-thread comparison is not run\n");
    }
    return CHECK_DONE();
}
