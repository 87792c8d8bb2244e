/* test_k_rmsnorm.c: the RMSNormalization kernel (row-parallel float32 path, broadcast scale, float16) against a double reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "runtime/onnxcc_rt_kernels.h"

enum { A0 = 6, A1 = 50, A2 = 33 };

/* X [A0, A1, A2] normalized over axes [axis, 3) with a scale of shape
 * sdims (srank axes, right-aligned); returns the worst relative error. */
static double run(int axis, int srank, const int64_t *sdims, int dt, float *keep)
{
    int64_t n = A0 * A1 * A2, dims[3] = {A0, A1, A2};
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < 3; i++)
        *(i < axis ? &outer : &inner) *= dims[i];
    int64_t ns = 1;
    for (int i = 0; i < srank; i++)
        ns *= sdims[i];
    size_t esz = rt_dtype_size(dt);
    void *x = malloc((size_t)n * esz), *y = malloc((size_t)n * esz), *s = malloc((size_t)ns * esz);
    for (int64_t i = 0; i < n; i++)
        rt_store_f64(x, dt, i, sin(0.731 * (double)i) * 3 + (double)(i % 5) - 2);
    for (int64_t i = 0; i < ns; i++)
        rt_store_f64(s, dt, i, 0.5 + 0.01 * (double)i);
    RtTensorDesc din[2] = {desc(dt, 3, dims), desc(dt, srank, sdims)};
    int64_t ints[1] = {axis};
    float eps = 1e-5f;
    const void *in[2] = {x, s};
    void *out[1] = {y};
    RtCall c = call(2, din, 1, din, 1, ints, 1, &eps);
    CHECK(RT_OK, rt_rmsnorm(&c, in, out));
    double worst = 0;
    for (int64_t o = 0; o < outer; o++) {
        double q = 0;
        for (int64_t i = 0; i < inner; i++) {
            double v = rt_load_f64(x, dt, o * inner + i);
            q += v * v;
        }
        double inv = 1 / sqrt(q / (double)inner + 1e-5);
        for (int64_t i = 0; i < inner; i++) {
            /* the scale's element for inner index i, right-aligned broadcast */
            int64_t si = 0, rem = i, mul = 1;
            for (int k = 2; k >= 3 - srank; k--) {
                int64_t idx = rem % dims[k], sd = sdims[k - (3 - srank)];
                rem /= dims[k];
                si += (sd == 1 ? 0 : idx) * mul;
                mul *= sd;
            }
            double ref = rt_load_f64(x, dt, o * inner + i) * inv * rt_load_f64(s, dt, si);
            double e = fabs(rt_load_f64(y, dt, o * inner + i) - ref) / fmax(1, fabs(ref));
            worst = fmax(worst, e);
        }
    }
    if (keep)
        for (int64_t i = 0; i < n; i++)
            keep[i] = (float)rt_load_f64(y, dt, i);
    free(x), free(y), free(s);
    return worst;
}

int main(void)
{
    /* float32 sums of squares over <= 1650 elements: 1e-5 relative */
    CHECK_NEAR(0, run(2, 1, DIMS(A2), RT_F32, NULL), 1e-5);
    CHECK_NEAR(0, run(1, 2, DIMS(A1, A2), RT_F32, NULL), 1e-5);
    CHECK_NEAR(0, run(0, 3, DIMS(A0, A1, A2), RT_F32, NULL), 1e-5);
    /* a broadcast scale takes the general path */
    CHECK_NEAR(0, run(1, 2, DIMS(1, A2), RT_F32, NULL), 1e-5);
    CHECK_NEAR(0, run(1, 1, DIMS(1), RT_F32, NULL), 1e-5);
    /* float16: one half-precision rounding of values up to ~10, 4e-3 relative */
    CHECK_NEAR(0, run(2, 1, DIMS(A2), RT_F16, NULL), 4e-3);
    static float y1[A0 * A1 * A2], y2[A0 * A1 * A2];
    run(2, 1, DIMS(A2), RT_F32, y1);
    if (rt_set_threads(2) == RT_OK) {
        run(2, 1, DIMS(A2), RT_F32, y2);
        CHECK(0, memcmp(y1, y2, sizeof y1));
        rt_set_threads(1);
    } else {
        fprintf(stderr, "no thread pool: the 2-thread comparison is not run\n");
    }
    return CHECK_DONE();
}
