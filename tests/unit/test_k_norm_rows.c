/* test_k_norm_rows.c: the row-parallel float32 LayerNormalization and Softmax paths against double references. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "runtime/onnxcc_rt.h"
#include "runtime/onnxcc_rt_kernels.h"

#define DIMS(...) (int64_t[]){__VA_ARGS__}

static RtTensorDesc desc(int rank, const int64_t *dims)
{
    RtTensorDesc d;
    memset(&d, 0, sizeof d);
    d.dtype = RT_F32;
    d.rank = rank;
    memcpy(d.dims, dims, sizeof(int64_t) * (size_t)rank);
    return d;
}

enum { ROWS = 300, D = 77 }; /* enough rows for several pieces of work */
static float x[ROWS * D], y[ROWS * D], scale[D], bias[D];

static void fill(void)
{
    for (int i = 0; i < ROWS * D; i++)
        x[i] = sinf((float)i * 0.731f) * 4 + (float)(i / D % 7);
    for (int i = 0; i < D; i++) {
        scale[i] = 0.5f + 0.01f * (float)i;
        bias[i] = cosf((float)i);
    }
}

/* LayerNormalization over the last axis, with and without B, against double
 * arithmetic; float32 moments leave about 1e-6 relative. */
static void test_layernorm(void)
{
    RtTensorDesc din[3] = {desc(2, DIMS(ROWS, D)), desc(1, DIMS(D)), desc(1, DIMS(D))};
    int64_t axis = 1;
    float eps = 1e-5f;
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        const void *in[3] = {x, scale, bias};
        void *out[1] = {y};
        RtCall c = {2 + with_bias, 1, din, din, 1, 1, &axis, &eps};
        CHECK(RT_OK, rt_layernorm(&c, in, out));
        double worst = 0;
        for (int r = 0; r < ROWS; r++) {
            double m = 0, v = 0;
            for (int i = 0; i < D; i++)
                m += x[r * D + i];
            m /= D;
            for (int i = 0; i < D; i++)
                v += (x[r * D + i] - m) * (x[r * D + i] - m);
            v /= D;
            for (int i = 0; i < D; i++) {
                double ref = (x[r * D + i] - m) / sqrt(v + eps) * scale[i] +
                             (with_bias ? bias[i] : 0);
                double e = fabs(y[r * D + i] - ref);
                worst = e > worst ? e : worst;
            }
        }
        CHECK_NEAR(0, worst, 1e-5);
    }
}

/* Softmax and LogSoftmax over the last axis of many rows. */
static void test_softmax(void)
{
    RtTensorDesc dx = desc(2, DIMS(ROWS, D));
    for (int kind = RT_SOFTMAX; kind <= RT_LOG_SOFTMAX; kind++) {
        int64_t ints[3] = {kind, 1, 0};
        const void *in[1] = {x};
        void *out[1] = {y};
        RtCall c = {1, 1, &dx, &dx, 3, 0, ints, NULL};
        CHECK(RT_OK, rt_softmax(&c, in, out));
        double worst = 0;
        for (int r = 0; r < ROWS; r++) {
            double mx = -INFINITY, s = 0;
            for (int i = 0; i < D; i++)
                mx = x[r * D + i] > mx ? x[r * D + i] : mx;
            for (int i = 0; i < D; i++)
                s += exp(x[r * D + i] - mx);
            for (int i = 0; i < D; i++) {
                double ref = kind == RT_SOFTMAX ? exp(x[r * D + i] - mx) / s
                                                : x[r * D + i] - mx - log(s);
                double e = fabs(y[r * D + i] - ref) / (fabs(ref) > 1 ? fabs(ref) : 1);
                worst = e > worst ? e : worst;
            }
        }
        CHECK_NEAR(0, worst, 1e-6);
    }
}

int main(void)
{
    fill();
    test_layernorm();
    test_softmax();
    return CHECK_DONE();
}
