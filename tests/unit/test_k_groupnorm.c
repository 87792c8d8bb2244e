/* test_k_groupnorm.c: the GroupNormalization kernel against its definition. */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

enum { N = 2, C = 6, H = 3, W = 5, SP = H * W };

/* y = scale * (x - mean) / sqrt(var + eps) + bias, mean and population
 * variance over one batch's group of C / groups channels, in double. */
static void reference(const double *x, int groups, int per_channel, const double *scale,
                      const double *bias, double eps, double *y)
{
    int cpg = C / groups;
    for (int b = 0; b < N; b++)
        for (int g = 0; g < groups; g++) {
            const double *xg = x + (b * C + g * cpg) * SP;
            double m = 0, v = 0;
            for (int i = 0; i < cpg * SP; i++)
                m += xg[i];
            m /= cpg * SP;
            for (int i = 0; i < cpg * SP; i++)
                v += (xg[i] - m) * (xg[i] - m);
            v /= cpg * SP;
            for (int i = 0; i < cpg * SP; i++) {
                int p = per_channel ? g * cpg + i / SP : g;
                y[(b * C + g * cpg) * SP + i] = scale[p] * (xg[i] - m) / sqrt(v + eps) + bias[p];
            }
        }
}

/* float32 X to a relative 1e-5, float64 X to 1e-12. */
static void run_case(int groups, int per_channel, int dt)
{
    double xd[N * C * SP], yref[N * C * SP], sd[C], bd[C];
    float xf[N * C * SP], yf[N * C * SP], sf[C], bf[C];
    double yd[N * C * SP];
    for (int i = 0; i < N * C * SP; i++) {
        xd[i] = sin(i * 0.7) * 3 + (i % 7) * 0.25;
        xf[i] = (float)xd[i];
        if (dt == RT_F32)
            xd[i] = xf[i];
    }
    int ns = per_channel ? C : groups;
    for (int i = 0; i < ns; i++) {
        sf[i] = (float)(0.5 + 0.25 * i);
        bf[i] = (float)(i - 1.5);
        sd[i] = sf[i];
        bd[i] = bf[i];
    }
    reference(xd, groups, per_channel, sd, bd, 1e-5, yref);
    RtTensorDesc in[3] = {desc(dt, 4, DIMS(N, C, H, W)), desc1(dt, ns), desc1(dt, ns)};
    RtTensorDesc out = in[0];
    int64_t ints[2] = {groups, per_channel};
    float eps = 1e-5f;
    RtCall c = call(3, in, 1, &out, 2, ints, 1, &eps);
    const void *ip[3] = {dt == RT_F32 ? (const void *)xf : xd,
                         dt == RT_F32 ? (const void *)sf : sd,
                         dt == RT_F32 ? (const void *)bf : bd};
    void *op[1] = {dt == RT_F32 ? (void *)yf : yd};
    CHECK(RT_OK, rt_groupnorm(&c, ip, op));
    int bad = 0;
    for (int i = 0; i < N * C * SP; i++) {
        double got = dt == RT_F32 ? yf[i] : yd[i];
        if (fabs(got - yref[i]) > (dt == RT_F32 ? 1e-5 : 1e-12) * (1 + fabs(yref[i])))
            bad++;
    }
    CHECK(0, bad);
}

int main(void)
{
    run_case(2, 1, RT_F32);
    run_case(3, 1, RT_F32);
    run_case(3, 0, RT_F32);
    run_case(6, 1, RT_F64);
    run_case(1, 0, RT_F64);
    /* a group count that does not divide C, or scale of the wrong length */
    float x[12] = {0}, s[4] = {1, 1, 1, 1}, y[12];
    RtTensorDesc in[3] = {desc(RT_F32, 3, DIMS(1, 4, 3)), desc1(RT_F32, 4), desc1(RT_F32, 4)};
    int64_t ints[2] = {3, 1};
    float eps = 1e-5f;
    RtCall c = call(3, in, 1, in, 2, ints, 1, &eps);
    const void *ip[3] = {x, s, s};
    void *op[1] = {y};
    CHECK(RT_EINVAL, rt_groupnorm(&c, ip, op));
    ints[0] = 2;
    ints[1] = 0;
    CHECK(RT_EINVAL, rt_groupnorm(&c, ip, op));
    ints[1] = 1;
    CHECK(RT_OK, rt_groupnorm(&c, ip, op));
    CHECK_NEAR(1.0, y[5], 1e-6); /* constant X: 0 normalized, plus the bias */
    return CHECK_DONE();
}
