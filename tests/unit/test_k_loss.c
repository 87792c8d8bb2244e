/* test_k_loss.c: unit tests of NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss kernels. */
#include <string.h>

#include "check.h"
#include "desc.h"
#include "runtime/onnxcc_rt.h"

/* Scores [2, 3], labels {2, 0}, weights {0.2, 1, 3}; expected values from numpy. */
static void test_sce(void)
{
    const float x[6] = {1, 2, 3, 0.5f, -1, 2};
    const int64_t t[2] = {2, 0};
    const float w[3] = {0.2f, 1, 3};
    float loss[2], lp[6];
    RtTensorDesc din[3] = {desc(RT_F32, 2, DIMS(2, 3)), desc(RT_I64, 1, DIMS(2)),
                           desc(RT_F32, 1, DIMS(3))};
    RtTensorDesc dout[2] = {desc(RT_F32, 1, DIMS(2)), desc(RT_F32, 2, DIMS(2, 3))};
    const void *in[3] = {x, t, w};
    void *out[2] = {loss, lp};

    int64_t none[3] = {RT_LOSS_NONE, 0, 0};
    RtCall c = {3, 2, din, dout, 3, 0, none, NULL};
    CHECK(RT_OK, rt_sce_loss(&c, in, out));
    CHECK_NEAR(1.22281789, loss[0], 1e-5);
    CHECK_NEAR(0.34826226, loss[1], 1e-5);
    CHECK_NEAR(-2.40760596, lp[0], 1e-5);
    CHECK_NEAR(-0.2413113, lp[5], 1e-5);

    /* mean with weights divides by the sum of the applied weights */
    int64_t mean[3] = {RT_LOSS_MEAN, 0, 0};
    dout[0].rank = 0;
    c.ints = mean;
    c.n_out = 1;
    CHECK(RT_OK, rt_sce_loss(&c, in, out));
    CHECK_NEAR(0.4909625477, loss[0], 1e-5);

    int64_t sum[3] = {RT_LOSS_SUM, 0, 0};
    c.ints = sum;
    CHECK(RT_OK, rt_sce_loss(&c, in, out));
    CHECK_NEAR(1.5710801527, loss[0], 1e-5);

    /* ignore_index 0 drops the second row, from the sum and the divisor */
    int64_t ign[3] = {RT_LOSS_MEAN, 1, 0};
    c.ints = ign;
    c.n_in = 2;
    CHECK(RT_OK, rt_sce_loss(&c, in, out));
    CHECK_NEAR(0.40760596, loss[0], 1e-5);

    /* a label out of range that is not ignored is an error */
    const int64_t bad[2] = {3, 0};
    const void *in_bad[2] = {x, bad};
    CHECK(RT_EINVAL, rt_sce_loss(&c, in_bad, out));
}

/* Log-probabilities [1, 2, 2] (N, C, d1), int32 labels [1, 2], double. */
static void test_nll(void)
{
    const double x[4] = {-0.1, -2.0, -3.0, -0.2};
    const int32_t t[2] = {1, 0};
    double loss[2];
    RtTensorDesc din[2] = {desc(RT_F64, 3, DIMS(1, 2, 2)), desc(RT_I32, 2, DIMS(1, 2))};
    RtTensorDesc dout[1] = {desc(RT_F64, 2, DIMS(1, 2))};
    const void *in[2] = {x, t};
    void *out[1] = {loss};
    int64_t none[3] = {RT_LOSS_NONE, 0, 0};
    RtCall c = {2, 1, din, dout, 3, 0, none, NULL};
    CHECK(RT_OK, rt_nll_loss(&c, in, out));
    CHECK_NEAR(3.0, loss[0], 1e-12);
    CHECK_NEAR(2.0, loss[1], 1e-12);

    int64_t mean[3] = {RT_LOSS_MEAN, 1, 1};
    dout[0].rank = 0;
    c.ints = mean;
    CHECK(RT_OK, rt_nll_loss(&c, in, out));
    CHECK_NEAR(2.0, loss[0], 1e-12);
}

int main(void)
{
    test_sce();
    test_nll();
    return CHECK_DONE();
}
