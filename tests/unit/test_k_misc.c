/* test_k_misc.c: unit tests of the "more tensor ops" kernels on small hand-checked cases. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

static void test_topk(void)
{
    /* Ties at 3 keep index order; k = 3 of [1, 3, 2, 3, 0]. */
    float x[5] = {1, 3, 2, 3, 0}, y[3];
    int64_t yi[3], xd[1] = {5}, yd[1] = {3};
    RtTensorDesc in[2] = {desc(RT_F32, 1, xd), desc(RT_I64, 1, xd)};
    RtTensorDesc out[2] = {desc(RT_F32, 1, yd), desc(RT_I64, 1, yd)};
    int64_t ints[3] = {0, 3, 1};
    RtCall c = {2, 2, in, out, 3, 0, ints, NULL};
    const void *ip[2] = {x, NULL};
    void *op[2] = {y, yi};
    CHECK(RT_OK, rt_topk(&c, ip, op));
    CHECK(1, yi[0]);
    CHECK(3, yi[1]);
    CHECK(2, yi[2]);
    CHECK_NEAR(2.0, y[2], 0);
    ints[2] = 0;
    CHECK(RT_OK, rt_topk(&c, ip, op));
    CHECK(4, yi[0]);
    CHECK(0, yi[1]);
    CHECK(2, yi[2]);
}

static void test_det_einsum(void)
{
    double a[4] = {1, 2, 3, 4}, r;
    int64_t ad[2] = {2, 2};
    RtTensorDesc in = desc(RT_F64, 2, ad), out = desc(RT_F64, 0, NULL);
    RtCall c = {1, 1, &in, &out, 0, 0, NULL, NULL};
    const void *ip[1] = {a};
    void *op[1] = {&r};
    CHECK(RT_OK, rt_det(&c, ip, op));
    CHECK_NEAR(-2.0, r, 1e-12);

    /* "ii->" (trace) of [[1,2],[3,4]]: one label of size 2, stride 3. */
    float f[4] = {1, 2, 3, 4}, tr;
    RtTensorDesc fin = desc(RT_F32, 2, ad), fout = desc(RT_F32, 0, NULL);
    int64_t ints[4] = {1, 2, 3, 0};
    RtCall e = {1, 1, &fin, &fout, 4, 0, ints, NULL};
    const void *fp[1] = {f};
    void *fo[1] = {&tr};
    CHECK(RT_OK, rt_einsum(&e, fp, fo));
    CHECK_NEAR(5.0, tr, 1e-6);
}

static void test_mvn(void)
{
    float x[4] = {1, 3, 5, 9}, y[4];
    int64_t d2[2] = {2, 2};
    RtTensorDesc t = desc(RT_F32, 2, d2);
    int64_t mask = 2;
    RtCall c = {1, 1, &t, &t, 1, 0, &mask, NULL};
    const void *ip[1] = {x};
    void *op[1] = {y};
    CHECK(RT_OK, rt_mvn(&c, ip, op));
    CHECK_NEAR(-1.0, y[0], 1e-6);
    CHECK_NEAR(1.0, y[1], 1e-6);
    CHECK_NEAR(-1.0, y[2], 1e-6);
}

static void test_gridsample_unpool_roi(void)
{
    /* Bilinear, align_corners=1: the grid point (0, 0) is the centre of a
     * 2x2 image, the mean of its four pixels; (-1, -1) is pixel [0][0]. */
    float x[4] = {1, 2, 3, 4}, grid[4] = {0, 0, -1, -1}, y[2];
    int64_t xd[4] = {1, 1, 2, 2}, gd[4] = {1, 1, 2, 2}, yd[4] = {1, 1, 1, 2};
    RtTensorDesc in[2] = {desc(RT_F32, 4, xd), desc(RT_F32, 4, gd)};
    RtTensorDesc out = desc(RT_F32, 4, yd);
    int64_t gs[3] = {0, 0, 1};
    RtCall c = {2, 1, in, &out, 3, 0, gs, NULL};
    const void *ip[2] = {x, grid};
    void *op[1] = {y};
    CHECK(RT_OK, rt_gridsample(&c, ip, op));
    CHECK_NEAR(2.5, y[0], 1e-6);
    CHECK_NEAR(1.0, y[1], 1e-6);

    /* MaxUnpool: index 3 of the default [1,1,2,2] lands at (1,1) of [1,1,3,3]. */
    float v[1] = {7}, u[9];
    int64_t ix[1] = {3}, vd[4] = {1, 1, 1, 1}, ud[4] = {1, 1, 3, 3}, def[4] = {1, 1, 2, 2};
    RtTensorDesc uin[2] = {desc(RT_F32, 4, vd), desc(RT_I64, 4, vd)};
    RtTensorDesc uout = desc(RT_F32, 4, ud);
    RtCall cu = {2, 1, uin, &uout, 4, 0, def, NULL};
    const void *uip[2] = {v, ix};
    void *uop[1] = {u};
    CHECK(RT_OK, rt_maxunpool(&cu, uip, uop));
    CHECK_NEAR(7.0, u[4], 0);
    CHECK_NEAR(0.0, u[3], 0);

    /* RoiAlign avg, half_pixel, one 1x1 bin with 2x2 samples over the whole
     * 2x2 image: samples at 0.0 and 1.0 (after the -0.5 shift) average to 2.5. */
    float roi[4] = {0, 0, 2, 2}, r;
    int64_t bi[1] = {0}, rd[2] = {1, 4}, bd[1] = {1}, od[4] = {1, 1, 1, 1};
    RtTensorDesc rin[3] = {desc(RT_F32, 4, xd), desc(RT_F32, 2, rd), desc(RT_I64, 1, bd)};
    RtTensorDesc rout = desc(RT_F32, 4, od);
    int64_t ri[3] = {0, 1, 0};
    float rf[1] = {1};
    RtCall cr = {3, 1, rin, &rout, 3, 1, ri, rf};
    const void *rip[3] = {x, roi, bi};
    void *rop[1] = {&r};
    CHECK(RT_OK, rt_roialign(&cr, rip, rop));
    CHECK_NEAR(2.5, r, 1e-6);
}

int main(void)
{
    test_topk();
    test_det_einsum();
    test_mvn();
    test_gridsample_unpool_roi();
    return CHECK_DONE();
}
