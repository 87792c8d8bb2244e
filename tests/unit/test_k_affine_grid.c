/* test_k_affine_grid.c: AffineGrid by its formula; 3-D GridSample on what it must reproduce. */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

/* The normalized coordinate of index i of n, from the definition. */
static double coord(int i, int n, int align)
{
    if (align)
        return n == 1 ? -1 : -1 + 2.0 * i / (n - 1);
    return (2.0 * i + 1) / n - 1;
}

/* AffineGrid 2-D and 3-D, both align_corners, against theta * (x, y[, z], 1)
 * evaluated here per point in double; float32 to 1e-6. */
static void test_affine_grid(int nsp, int align)
{
    enum { D = 3, H = 4, W = 5 };
    float theta[2 * 12], grid[2 * D * H * W * 3];
    for (int i = 0; i < 2 * nsp * (nsp + 1); i++)
        theta[i] = (float)(0.3 * i - 1.1);
    int64_t yd[5] = {2, nsp == 3 ? D : H, nsp == 3 ? H : W, nsp == 3 ? W : nsp, 3};
    RtTensorDesc in = desc(RT_F32, 3, DIMS(2, nsp, nsp + 1)), out = desc(RT_F32, nsp + 2, yd);
    int64_t ints[1] = {align};
    RtCall c = call(1, &in, 1, &out, 1, ints, 0, NULL);
    const void *ip[1] = {theta};
    void *op[1] = {grid};
    CHECK(RT_OK, rt_affine_grid(&c, ip, op));
    int bad = 0, o = 0, nd = nsp == 3 ? D : 1;
    for (int b = 0; b < 2; b++)
        for (int z = 0; z < nd; z++)
            for (int yy = 0; yy < H; yy++)
                for (int x = 0; x < W; x++) {
                    double p[4] = {coord(x, W, align), coord(yy, H, align),
                                   nsp == 3 ? coord(z, D, align) : 1, 1};
                    for (int k = 0; k < nsp; k++) {
                        double s = 0;
                        for (int j = 0; j <= nsp; j++)
                            s += theta[(b * nsp + k) * (nsp + 1) + j] * p[j];
                        bad += fabs(grid[o++] - s) > 1e-6 * (1 + fabs(s));
                    }
                }
    CHECK(0, bad);
}

/* 3-D GridSample through an identity AffineGrid returns X (both alignments,
 * linear and nearest), and linear sampling of a volume that is an affine
 * function of the voxel coordinates reproduces that function at any inner
 * point; outside, zeros padding gives 0 and border the clamped value. */
static void test_gridsample_3d(void)
{
    enum { D = 3, H = 4, W = 5, V = D * H * W };
    float x[V], y[V], grid[V * 3];
    for (int i = 0; i < V; i++)
        x[i] = (float)(2.0 * (i / (H * W)) - 0.5 * (i / W % H) + 0.25 * (i % W) + 1);
    float theta[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
    RtTensorDesc th = desc(RT_F32, 3, DIMS(1, 3, 4)), gd = desc(RT_F32, 5, DIMS(1, D, H, W, 3));
    RtTensorDesc xs = desc(RT_F32, 5, DIMS(1, 1, D, H, W));
    for (int align = 0; align < 2; align++)
        for (int mode = 0; mode < 2; mode++) {
            int64_t ai[1] = {align}, gi[3] = {mode, 0, align};
            RtCall ca = call(1, &th, 1, &gd, 1, ai, 0, NULL);
            const void *tp[1] = {theta};
            void *gp[1] = {grid};
            CHECK(RT_OK, rt_affine_grid(&ca, tp, gp));
            RtTensorDesc gin[2] = {xs, gd};
            RtCall cg = call(2, gin, 1, &xs, 3, gi, 0, NULL);
            const void *ip[2] = {x, grid};
            void *op[1] = {y};
            CHECK(RT_OK, rt_gridsample(&cg, ip, op));
            int bad = 0;
            for (int i = 0; i < V; i++)
                bad += fabs(y[i] - x[i]) > 1e-5;
            CHECK(0, bad);
        }
    /* points between voxels (align_corners: index = (g + 1) / 2 * (n - 1)) */
    float pts[4 * 3] = {0.1f, -0.3f, 0.7f, -0.9f, 0.55f, -0.2f, /* inside */
                        1.5f, 0.f, 0.f, 0.f, 0.f, -3.f};          /* outside: x, z */
    float out4[4];
    RtTensorDesc pg = desc(RT_F32, 5, DIMS(1, 1, 1, 4, 3));
    RtTensorDesc po = desc(RT_F32, 5, DIMS(1, 1, 1, 1, 4));
    for (int pad = 0; pad < 2; pad++) {
        int64_t gi[3] = {0, pad, 1};
        RtTensorDesc gin[2] = {xs, pg};
        RtCall cg = call(2, gin, 1, &po, 3, gi, 0, NULL);
        const void *ip[2] = {x, pts};
        void *op[1] = {out4};
        CHECK(RT_OK, rt_gridsample(&cg, ip, op));
        for (int p = 0; p < 4; p++) {
            double fx = (pts[3 * p] + 1) / 2 * (W - 1), fy = (pts[3 * p + 1] + 1) / 2 * (H - 1);
            double fz = (pts[3 * p + 2] + 1) / 2 * (D - 1);
            int outside = fx > W - 1 || fz < 0;
            if (pad == 1) { /* border: the clamped coordinate */
                fx = fx > W - 1 ? W - 1 : fx;
                fz = fz < 0 ? 0 : fz;
            }
            double want = outside && pad == 0 ? 0 : 2 * fz - 0.5 * fy + 0.25 * fx + 1;
            CHECK_NEAR(want, out4[p], 1e-5);
        }
    }
}

int main(void)
{
    for (int align = 0; align < 2; align++) {
        test_affine_grid(2, align);
        test_affine_grid(3, align);
    }
    test_gridsample_3d();
    return CHECK_DONE();
}
