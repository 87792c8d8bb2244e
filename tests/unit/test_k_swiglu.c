/* test_k_swiglu.c: the SwiGLU kernel (vector float32 path, alpha, float16, threads) against a double reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "runtime/onnxcc_rt_kernels.h"

enum { N = 100003 }; /* several parallel ranges and a ragged tail */

static double run(int dt, float alpha, float *keep)
{
    size_t esz = rt_dtype_size(dt);
    void *a = malloc(N * esz), *b = malloc(N * esz), *y = malloc(N * esz);
    for (int i = 0; i < N; i++) {
        rt_store_f64(a, dt, i, 12 * sin(0.013 * i));  /* sigmoid's saturated ends too */
        rt_store_f64(b, dt, i, cos(0.7 * i));
    }
    RtTensorDesc d[2] = {desc1(dt, N), desc1(dt, N)};
    const void *in[2] = {a, b};
    void *out[1] = {y};
    RtCall c = call(2, d, 1, d, 0, NULL, RT_SWIGLU_NFLOATS, &alpha);
    CHECK(RT_OK, rt_swiglu(&c, in, out));
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double av = rt_load_f64(a, dt, i), ref = av / (1 + exp(-alpha * av)) * rt_load_f64(b, dt, i);
        worst = fmax(worst, fabs(rt_load_f64(y, dt, i) - ref) / fmax(1, fabs(ref)));
    }
    if (keep)
        for (int i = 0; i < N; i++)
            keep[i] = (float)rt_load_f64(y, dt, i);
    free(a), free(b), free(y);
    return worst;
}

int main(void)
{
    /* float32 with the vector exp and reciprocal: 1e-6 relative */
    CHECK_NEAR(0, run(RT_F32, 1.0f, NULL), 1e-6);
    CHECK_NEAR(0, run(RT_F32, 0.5f, NULL), 1e-6);
    /* float16 output rounding: 2e-3 relative */
    CHECK_NEAR(0, run(RT_F16, 1.702f, NULL), 2e-3);
    static float y1[N], y2[N];
    run(RT_F32, 1.0f, y1);
    if (rt_set_threads(2) == RT_OK) {
        run(RT_F32, 1.0f, y2);
        CHECK(0, memcmp(y1, y2, sizeof y1));
        rt_set_threads(1);
    } else {
        fprintf(stderr, "no thread pool: the 2-thread comparison is not run\n");
    }
    return CHECK_DONE();
}
