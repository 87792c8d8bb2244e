/* test_k_rnn.c: unit tests of the recurrent kernels (RNN, GRU, LSTM). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "runtime/onnxcc_rt.h"

static float sigm(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* Runs rt_rnn with X [seq=2, batch=1, input=1], hidden 1, one direction. */
static int run(int kind, int reverse, const float *w, const float *r, const float *b,
               float *y, float *yh, float *yc)
{
    int ng = kind == RT_RNN_LSTM ? 4 : (kind == RT_RNN_GRU ? 3 : 1);
    int n_act = kind == RT_RNN_LSTM ? 3 : (kind == RT_RNN_GRU ? 2 : 1);
    static const float x[2] = {0.5f, -1.0f};
    RtTensorDesc din[4], dout[3];
    memset(din, 0, sizeof din);
    memset(dout, 0, sizeof dout);
    din[0] = (RtTensorDesc){RT_F32, 3, {2, 1, 1}};
    din[1] = (RtTensorDesc){RT_F32, 3, {1, ng, 1}};
    din[2] = (RtTensorDesc){RT_F32, 3, {1, ng, 1}};
    din[3] = (RtTensorDesc){RT_F32, 2, {1, 2 * ng}};
    dout[0] = (RtTensorDesc){RT_F32, 4, {2, 1, 1, 1}};
    dout[1] = (RtTensorDesc){RT_F32, 3, {1, 1, 1}};
    dout[2] = dout[1];
    int64_t ints[11] = {kind, 0, 1, reverse, 1, 0, 0, n_act, RT_ACT_TANH, RT_ACT_TANH,
                        RT_ACT_TANH};
    if (kind != RT_RNN_SIMPLE)
        ints[8] = RT_ACT_SIGMOID;
    float floats[7] = {0};
    const void *in[4] = {x, w, r, b};
    void *out[3] = {y, yh, yc};
    RtCall c = {4, kind == RT_RNN_LSTM ? 3 : 2, din, dout, 8 + n_act, 1 + 2 * n_act, ints,
                floats};
    return rt_rnn(&c, in, out);
}

int main(void)
{
    float y[2], yh[1], yc[1];
    /* RNN: h_t = tanh(w x_t + r h_{t-1} + wb + rb). */
    {
        const float w[1] = {0.8f}, r[1] = {-0.3f}, b[2] = {0.1f, 0.05f};
        CHECK(RT_OK, run(RT_RNN_SIMPLE, 0, w, r, b, y, yh, NULL));
        float h1 = tanhf(0.8f * 0.5f + 0.15f), h2 = tanhf(0.8f * -1.0f - 0.3f * h1 + 0.15f);
        CHECK_NEAR(h1, y[0], 1e-6);
        CHECK_NEAR(h2, y[1], 1e-6);
        CHECK_NEAR(h2, yh[0], 1e-6);
        /* reverse: the sequence runs backwards, Y stays indexed by time */
        CHECK(RT_OK, run(RT_RNN_SIMPLE, 1, w, r, b, y, yh, NULL));
        float g1 = tanhf(0.8f * -1.0f + 0.15f), g2 = tanhf(0.8f * 0.5f - 0.3f * g1 + 0.15f);
        CHECK_NEAR(g1, y[1], 1e-6);
        CHECK_NEAR(g2, y[0], 1e-6);
        CHECK_NEAR(g2, yh[0], 1e-6);
    }
    /* GRU (linear_before_reset 0), gates z, r, h. */
    {
        const float w[3] = {0.5f, -0.4f, 0.9f}, r[3] = {0.2f, 0.3f, -0.6f};
        const float b[6] = {0.1f, 0.0f, -0.1f, 0.0f, 0.2f, 0.05f};
        CHECK(RT_OK, run(RT_RNN_GRU, 0, w, r, b, y, yh, NULL));
        float h = 0.0f;
        for (int t = 0; t < 2; t++) {
            float xt = t ? -1.0f : 0.5f;
            float z = sigm(0.5f * xt + 0.2f * h + 0.1f);
            float rr = sigm(-0.4f * xt + 0.3f * h + 0.2f);
            float hc = tanhf(0.9f * xt - 0.1f + (-0.6f) * (rr * h) + 0.05f);
            h = (1.0f - z) * hc + z * h;
            CHECK_NEAR(h, y[t], 1e-6);
        }
        CHECK_NEAR(h, yh[0], 1e-6);
    }
    /* LSTM, gates i, o, f, c. */
    {
        const float w[4] = {0.5f, -0.4f, 0.9f, 0.3f}, r[4] = {0.2f, 0.3f, -0.6f, 0.7f};
        const float b[8] = {0.1f, 0.0f, -0.1f, 0.0f, 0.2f, 0.05f, 0.0f, 0.1f};
        CHECK(RT_OK, run(RT_RNN_LSTM, 0, w, r, b, y, yh, yc));
        float h = 0.0f, cs = 0.0f;
        for (int t = 0; t < 2; t++) {
            float xt = t ? -1.0f : 0.5f;
            float i = sigm(0.5f * xt + 0.2f * h + 0.3f);
            float o = sigm(-0.4f * xt + 0.3f * h + 0.05f);
            float f = sigm(0.9f * xt - 0.6f * h - 0.1f);
            float g = tanhf(0.3f * xt + 0.7f * h + 0.1f);
            cs = f * cs + i * g;
            h = o * tanhf(cs);
            CHECK_NEAR(h, y[t], 1e-6);
        }
        CHECK_NEAR(h, yh[0], 1e-6);
        CHECK_NEAR(cs, yc[0], 1e-6);
    }
    return CHECK_DONE();
}
