/* test_k_lppool.c: the LpPool kernel against a direct sum over the zero-padded input. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

/* (sum |x|^p)^(1/p) over each window of the input padded with zeros, taken
 * element by element in double: the definition, with no tap clipping. */
static double reference(const float *x, int nsp, const int64_t *in, const int64_t *k,
                        const int64_t *st, const int64_t *dil, const int64_t *pb,
                        const int64_t *o, double p)
{
    int64_t ki[3] = {0, 0, 0}, kn = 1;
    for (int a = 0; a < nsp; a++)
        kn *= k[a];
    double acc = 0;
    for (int64_t t = 0; t < kn; t++) {
        int64_t r = t, off = 0, inside = 1;
        for (int a = nsp - 1; a >= 0; a--) {
            ki[a] = r % k[a];
            r /= k[a];
        }
        for (int a = 0; a < nsp; a++) {
            int64_t i = o[a] * st[a] - pb[a] + ki[a] * dil[a];
            inside &= i >= 0 && i < in[a];
            off = off * in[a] + i;
        }
        if (inside)
            acc += pow(fabs(x[off]), p);
    }
    return pow(acc, 1 / p);
}

/* One plane (N = C = 1) of nsp axes through rt_lppool; every output checked
 * to a relative 1e-5 (float32 input and output, double sums). */
static void run_case(int nsp, const int64_t *in, const int64_t *k, const int64_t *st,
                     const int64_t *dil, const int64_t *pb, const int64_t *pe, double p)
{
    int64_t xd[5] = {1, 2}, yd[5] = {1, 2}, nx = 2, ny = 2;
    int64_t ints[4 + 15] = {RT_POOL_LP, nsp, 0, 0};
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
    float *x = malloc(sizeof *x * (size_t)nx), *y = malloc(sizeof *y * (size_t)ny);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (float)((i * 37 % 23) - 11) / 7.0f;
    RtTensorDesc xdesc = desc(RT_F32, nsp + 2, xd), ydesc = desc(RT_F32, nsp + 2, yd);
    float fp = (float)p;
    RtCall c = call(1, &xdesc, 1, &ydesc, RT_POOL_NINTS(nsp), ints, 1, &fp);
    const void *ip[1] = {x};
    void *op[1] = {y};
    CHECK(RT_OK, rt_lppool(&c, ip, op));
    int64_t plane_x = nx / 2, plane_y = ny / 2, bad = 0;
    for (int64_t pl = 0; pl < 2; pl++)
        for (int64_t q = 0; q < plane_y; q++) {
            int64_t o[3], r = q;
            for (int a = nsp - 1; a >= 0; a--) {
                o[a] = r % yd[2 + a];
                r /= yd[2 + a];
            }
            double e = reference(x + pl * plane_x, nsp, in, k, st, dil, pb, o, p);
            if (fabs(y[pl * plane_y + q] - e) > 1e-5 * (1 + fabs(e)))
                bad++;
        }
    CHECK(0, bad);
    free(x);
    free(y);
}

int main(void)
{
    /* 1-D, p = 3, stride 1 */
    run_case(1, DIMS(9), DIMS(2), DIMS(1), DIMS(1), DIMS(0), DIMS(0), 3);
    /* 2-D with pads, strides and dilations, p = 2 and p = 4 */
    run_case(2, DIMS(7, 8), DIMS(3, 3), DIMS(2, 1), DIMS(1, 2), DIMS(2, 1), DIMS(1, 2), 2);
    run_case(2, DIMS(6, 5), DIMS(2, 2), DIMS(1, 1), DIMS(2, 2), DIMS(0, 0), DIMS(0, 0), 4);
    /* 3-D, p = 1 (sum of magnitudes) and a non-integer p from opset 1 */
    run_case(3, DIMS(4, 5, 3), DIMS(2, 2, 2), DIMS(1, 2, 1), DIMS(1, 1, 1), DIMS(1, 0, 1),
             DIMS(0, 1, 1), 1);
    run_case(3, DIMS(3, 3, 3), DIMS(2, 2, 2), DIMS(1, 1, 1), DIMS(1, 1, 1), DIMS(0, 0, 0),
             DIMS(0, 0, 0), 2.5);

    /* a mode other than LP, or p below 1, is refused */
    float x[4] = {1, 2, 3, 4}, y[1], p = 0.5f;
    int64_t all[4 + 10] = {RT_POOL_LP, 2, 0, 0, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0};
    RtTensorDesc xd = desc(RT_F32, 4, DIMS(1, 1, 2, 2)), yd = desc(RT_F32, 4, DIMS(1, 1, 1, 1));
    RtCall c = call(1, &xd, 1, &yd, RT_POOL_NINTS(2), all, 1, &p);
    const void *ip[1] = {x};
    void *op[1] = {y};
    CHECK(RT_EINVAL, rt_lppool(&c, ip, op));
    p = 2;
    CHECK(RT_OK, rt_lppool(&c, ip, op));
    CHECK_NEAR(sqrt(30.0), y[0], 1e-5);
    all[RT_POOL_MODE] = RT_POOL_AVG;
    CHECK(RT_EINVAL, rt_lppool(&c, ip, op));
    return CHECK_DONE();
}
