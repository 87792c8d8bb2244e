/* test_k_maxpool.c: MaxPool (8-bit and float32) and QGlobalAveragePool against direct references, exactly. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "desc.h"
#include "onnxcc_rt.h"

static uint32_t seed = 777;
static int rnd(int lo, int hi)
{
    seed = seed * 1103515245u + 12345u;
    return lo + (int)((seed >> 8) % (uint32_t)(hi - lo + 1));
}

static double load(const void *x, int dt, int64_t i)
{
    if (dt == RT_F32)
        return ((const float *)x)[i];
    return dt == RT_U8 ? ((const uint8_t *)x)[i] : ((const int8_t *)x)[i];
}

/* The max over the window's taps inside the input (the padding takes no
 * part, nor does a NaN); the type's minimum (-inf) when there is none. */
static double reference(const void *x, int dt, int nsp, const int64_t *in, const int64_t *k,
                        const int64_t *st, const int64_t *dil, const int64_t *pb,
                        const int64_t *o)
{
    int64_t kn = 1;
    for (int a = 0; a < nsp; a++)
        kn *= k[a];
    double m = dt == RT_F32 ? -HUGE_VAL : dt == RT_U8 ? 0 : -128;
    for (int64_t t = 0; t < kn; t++) {
        int64_t r = t, off = 0, inside = 1, ki[3];
        for (int a = nsp - 1; a >= 0; a--) {
            ki[a] = r % k[a];
            r /= k[a];
        }
        for (int a = 0; a < nsp; a++) {
            int64_t i = o[a] * st[a] - pb[a] + ki[a] * dil[a];
            inside &= i >= 0 && i < in[a];
            off = off * in[a] + i;
        }
        if (inside) {
            double v = load(x, dt, off);
            m = v > m ? v : m;
        }
    }
    return m;
}

/* One plane (N = C = 1) of nsp axes through rt_pool in max mode; returns
 * the count of outputs that differ from the reference. */
static int run_case(int dt, int nsp, const int64_t *in, const int64_t *k, const int64_t *st,
                    const int64_t *dil, const int64_t *pb, const int64_t *pe)
{
    int64_t xd[5] = {1, 1}, yd[5] = {1, 1}, nx = 1, ny = 1;
    int64_t ints[4 + 15] = {RT_POOL_MAX, nsp, 0, 0};
    for (int a = 0; a < nsp; a++) {
        xd[2 + a] = in[a];
        yd[2 + a] = (in[a] + pb[a] + pe[a] - ((k[a] - 1) * dil[a] + 1)) / st[a] + 1;
        nx *= xd[2 + a];
        ny *= yd[2 + a];
        ints[RT_POOL_KERNEL + a] = k[a];
        ints[RT_POOL_STRIDES(nsp) + a] = st[a];
        ints[RT_POOL_DIL(nsp) + a] = dil[a];
        ints[RT_POOL_PADS_BEGIN(nsp) + a] = pb[a];
        ints[RT_POOL_PADS_END(nsp) + a] = pe[a];
    }
    size_t esz = dt == RT_F32 ? 4 : 1;
    uint8_t *x = malloc((size_t)nx * esz), *y = malloc((size_t)ny * esz);
    for (int64_t i = 0; i < nx; i++)
        if (dt != RT_F32)
            x[i] = (uint8_t)rnd(0, 255);
        else /* a NaN now and then: it never wins */
            ((float *)x)[i] = rnd(0, 50) ? (float)(rnd(0, 20000) - 10000) / 7.0f : NAN;
    RtTensorDesc xdesc = desc(dt, nsp + 2, xd), ydesc = desc(dt, nsp + 2, yd);
    RtCall c = call(1, &xdesc, 1, &ydesc, RT_POOL_NINTS(nsp), ints, 0, NULL);
    const void *ins[1] = {x};
    void *outs[1] = {y};
    CHECK(RT_OK, rt_pool(&c, ins, outs));
    int bad = 0;
    for (int64_t i = 0; i < ny; i++) {
        int64_t o[3], r = i;
        for (int a = nsp - 1; a >= 0; a--) {
            o[a] = r % yd[2 + a];
            r /= yd[2 + a];
        }
        double want = reference(x, dt, nsp, in, k, st, dil, pb, o), got = load(y, dt, i);
        if (got != want) {
            if (!bad)
                fprintf(stderr, "dtype %d nsp %d output %lld: %g, want %g\n", dt, nsp,
                        (long long)i, got, want);
            bad++;
        }
    }
    free(x), free(y);
    return bad;
}

/* A hand-checked case: the reference is not vacuous (1-D, k 2, stride 2). */
static void test_small(void)
{
    int8_t x[5] = {-5, -9, 3, -128, 100}, y[3];
    int64_t ints[4 + 5] = {RT_POOL_MAX, 1, 0, 0, 2, 2, 1, 0, 1};
    RtTensorDesc xdesc = desc(RT_I8, 3, DIMS(1, 1, 5)), ydesc = desc(RT_I8, 3, DIMS(1, 1, 3));
    RtCall c = call(1, &xdesc, 1, &ydesc, RT_POOL_NINTS(1), ints, 0, NULL);
    const void *ins[1] = {x};
    void *outs[1] = {y};
    CHECK(RT_OK, rt_pool(&c, ins, outs));
    CHECK(-5, y[0]);
    CHECK(3, y[1]);
    CHECK(100, y[2]);
}

/* onnxcc.QGlobalAveragePool (k_quant.c) against its stated formula, the
 * sum taken in int64: uint8 and int8, a plane of 49 (resnet's 7x7) and a
 * hand-checked one. */
static void test_qgap(void)
{
    for (int t = 0; t < 2; t++) {
        int xdt = t ? RT_I8 : RT_U8, ydt = t ? RT_U8 : RT_I8;
        enum { N = 2, C = 5, H = 7, W = 7 };
        uint8_t x[N * C * H * W], y[N * C];
        for (int i = 0; i < N * C * H * W; i++)
            x[i] = (uint8_t)rnd(0, 255);
        float xz = t ? -3.0f : 120.0f, m = 0.37f / (H * W);
        float fl[RT_QGAP_NFLOATS] = {m, xz, t ? 9.0f : -2.0f, t ? 9.0f : -128.0f,
                                     t ? 255.0f : 127.0f};
        RtTensorDesc xd = desc(xdt, 4, DIMS(N, C, H, W)), yd = desc(ydt, 4, DIMS(N, C, 1, 1));
        RtCall c = call(1, &xd, 1, &yd, 0, NULL, RT_QGAP_NFLOATS, fl);
        const void *ins[1] = {x};
        void *outs[1] = {y};
        CHECK(RT_OK, rt_qglobal_avgpool(&c, ins, outs));
        int bad = 0;
        for (int p = 0; p < N * C; p++) {
            int64_t s = 0;
            for (int i = 0; i < H * W; i++)
                s += t ? (int8_t)x[p * H * W + i] : x[p * H * W + i];
            float v = rintf((float)(s - (int64_t)xz * H * W) * m) + fl[RT_QGAP_F_YZ];
            v = fminf(fmaxf(v, fl[RT_QGAP_F_LO]), fl[RT_QGAP_F_HI]);
            bad += (t ? (int)y[p] : (int)(int8_t)y[p]) != (int)v;
        }
        CHECK(0, bad);
    }
    /* (10 + 20 + 30 + 40 - 4 * 5) * 0.25 / 4 = 5, + zero point 1 */
    uint8_t x[4] = {10, 20, 30, 40}, y[1];
    float fl[RT_QGAP_NFLOATS] = {0.25f / 4, 5, 1, 0, 255};
    RtTensorDesc xd = desc(RT_U8, 4, DIMS(1, 1, 2, 2)), yd = desc(RT_U8, 4, DIMS(1, 1, 1, 1));
    RtCall c = call(1, &xd, 1, &yd, 0, NULL, RT_QGAP_NFLOATS, fl);
    const void *ins[1] = {x};
    void *outs[1] = {y};
    CHECK(RT_OK, rt_qglobal_avgpool(&c, ins, outs));
    CHECK(6, y[0]);
}

int main(void)
{
    test_small();
    test_qgap();
    int bad = 0;
    /* nsp, then per axis: input, kernel, stride, dilation, pads begin, pads end */
    static const int64_t cases[][1 + 6 * 3] = {
        /* resnet's stem pool: 3x3 stride 2 pad 1 */
        {2, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
        {2, 9, 13, 2, 3, 1, 2, 1, 1, 0, 1, 1, 2},
        /* stride 2 along rows wide enough for several vectors of outputs
         * (the even-byte take of each SIMD path) and a scalar tail */
        {2, 5, 301, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
        {2, 4, 200, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0},
        /* squeezenet's pools: 3x3 stride 2, ceil mode (one more window at the end) */
        {2, 111, 111, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1},
        /* stride 1 (written straight into the output row), and a row wider
         * than the float path's buffer (its fallback) */
        {2, 6, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        {2, 3, 2500, 2, 3, 1, 2, 1, 1, 0, 1, 0, 1},
        /* dilation, windows past the end (a ceil-mode extent), stride 3 */
        {2, 11, 10, 3, 2, 3, 3, 2, 3, 2, 2, 3, 4},
        /* padding as wide as the kernel: some windows lie wholly outside */
        {2, 4, 5, 2, 2, 1, 1, 1, 1, 1, 1, 2, 3},
        {1, 37, 4, 3, 1, 2, 2},
        {3, 5, 6, 7, 2, 3, 2, 2, 1, 2, 1, 1, 2, 1, 1, 0, 0, 1, 1},
    };
    for (int t = 0; t < 3; t++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const int64_t *c = cases[i] + 1;
            int nsp = (int)cases[i][0];
            bad += run_case(t == 2 ? RT_F32 : t ? RT_I8 : RT_U8, nsp, c, c + nsp, c + 2 * nsp,
                            c + 3 * nsp, c + 4 * nsp, c + 5 * nsp);
        }
    CHECK(0, bad);
    return CHECK_DONE();
}
