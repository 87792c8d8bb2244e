/* test_global_pool.c: float32 GlobalAveragePool and GlobalMaxPool (k_pool.c) against float64 references. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "desc.h"
#include "runtime/rt_internal.h"

/* Values in [-1, 1) plus an offset, so a mean is not near 0 by luck. */
static void fill(float *p, int64_t n, unsigned seed)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = 0.25f + (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static int pool(int mode, int64_t n, int64_t c, int64_t h, int64_t w, const float *x, float *y)
{
    RtTensorDesc in = desc(RT_F32, 4, DIMS(n, c, h, w)), out = desc(RT_F32, 4, DIMS(n, c, 1, 1));
    int64_t ints[] = {mode};
    RtCall k = call(1, &in, 1, &out, 1, ints, 0, NULL);
    const void *ins[1] = {x};
    void *outs[1] = {y};
    return rt_global_pool(&k, ins, outs);
}

/* Planes off the reference: the mean within 1e-6 of the mean of |x| (float32
 * sums of up to 3136 values in 64 running sums, about 1e-7 measured), the
 * maximum exactly. */
static int64_t run_case(int64_t n, int64_t c, int64_t h, int64_t w)
{
    int64_t sz = h * w, planes = n * c;
    float *x = malloc(sizeof(float) * (size_t)(planes * sz));
    float *ya = malloc(sizeof(float) * (size_t)planes), *ym = malloc(sizeof(float) * (size_t)planes);
    fill(x, planes * sz, (unsigned)(sz * 7 + c));
    for (int64_t p = 0; p < planes; p++)
        ya[p] = ym[p] = NAN;
    CHECK(RT_OK, pool(RT_POOL_AVG, n, c, h, w, x, ya));
    CHECK(RT_OK, pool(RT_POOL_MAX, n, c, h, w, x, ym));
    int64_t bad = 0;
    for (int64_t p = 0; p < planes; p++) {
        double s = 0, a = 0, m = -INFINITY;
        for (int64_t i = 0; i < sz; i++) {
            double v = x[p * sz + i];
            s += v;
            a += fabs(v);
            m = v > m ? v : m;
        }
        bad += !(fabs(ya[p] - s / (double)sz) <= 1e-6 * a / (double)sz);
        bad += ym[p] != (float)m;
    }
    free(x), free(ya), free(ym);
    return bad;
}

int main(void)
{
    /* plane sizes around the 64-wide and 8-wide loops' edges, and the
     * squeeze-excite pools of MobileNetV3 and EfficientNet */
    static const int64_t hw[][2] = {{1, 1}, {1, 7}, {2, 4}, {3, 3}, {7, 7}, {1, 63}, {8, 8},
                                    {5, 13}, {14, 14}, {1, 200}, {56, 56}};
    for (unsigned i = 0; i < sizeof hw / sizeof hw[0]; i++)
        CHECK(0, run_case(2, 5, hw[i][0], hw[i][1]));
    CHECK(0, run_case(1, 96, 14, 14));
    rt_set_threads(2); /* planes split between threads: the same per plane */
    CHECK(0, run_case(1, 576, 7, 7));
    rt_set_threads(1);
    /* NaN inputs: the mean is NaN; the maximum skips them, as it always has */
    {
        float x[9] = {1, NAN, 3, -2, 0, 2, NAN, 0.5f, -1}, y = 0;
        CHECK(RT_OK, pool(RT_POOL_AVG, 1, 1, 3, 3, x, &y));
        CHECK_TRUE(isnan(y));
        CHECK(RT_OK, pool(RT_POOL_MAX, 1, 1, 3, 3, x, &y));
        CHECK_TRUE(y == 3);
    }
    return CHECK_DONE();
}
