/* test_k_movement.c: unit tests of the movement and resize kernels on small hand-checked cases. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "onnxcc_rt.h"

static RtTensorDesc desc(int dtype, int rank, const int64_t *dims)
{
    RtTensorDesc t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.rank = rank;
    for (int i = 0; i < rank; i++)
        t.dims[i] = dims[i];
    return t;
}

static RtCall call(int n_in, const RtTensorDesc *in, int n_out, const RtTensorDesc *out,
                   int n_ints, const int64_t *ints, int n_floats, const float *floats)
{
    RtCall c = {n_in, n_out, in, out, n_ints, n_floats, ints, floats};
    return c;
}

static int same_f32(const float *a, const float *b, int n, float tol)
{
    for (int i = 0; i < n; i++)
        if (!(a[i] - b[i] <= tol && b[i] - a[i] <= tol)) {
            fprintf(stderr, "  element %d: expected %g, got %g\n", i, b[i], a[i]);
            return 0;
        }
    return 1;
}

static void test_transpose(void)
{
    /* 2x3 -> 3x2 */
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6];
    int64_t xd[2] = {2, 3}, yd[2] = {3, 2}, perm[2] = {1, 0};
    RtTensorDesc i0 = desc(RT_F32, 2, xd), o0 = desc(RT_F32, 2, yd);
    RtCall c = call(1, &i0, 1, &o0, 2, perm, 0, NULL);
    const void *in[1] = {x};
    void *out[1] = {y};
    CHECK(RT_OK, rt_transpose(&c, in, out));
    float e[6] = {1, 4, 2, 5, 3, 6};
    CHECK_TRUE(same_f32(y, e, 6, 0));

    /* a 4-D permutation large enough for the tiled path, for 1-, 4- and
     * 8-byte elements, against the index formula */
    enum { A = 3, B = 17, C = 2, D = 21 };
    static int64_t src[A * B * C * D], dst[A * B * C * D];
    static int32_t s32[A * B * C * D], d32[A * B * C * D];
    static int8_t s8[A * B * C * D], d8[A * B * C * D];
    for (int i = 0; i < A * B * C * D; i++) {
        src[i] = i;
        s32[i] = i;
        s8[i] = (int8_t)i;
    }
    int64_t xd4[4] = {A, B, C, D}, p4[4] = {3, 0, 2, 1}, yd4[4] = {D, A, C, B};
    int dts[3] = {RT_I64, RT_I32, RT_I8};
    const void *srcs[3] = {src, s32, s8};
    void *dsts[3] = {dst, d32, d8};
    for (int t = 0; t < 3; t++) {
        RtTensorDesc a = desc(dts[t], 4, xd4), b = desc(dts[t], 4, yd4);
        RtCall c4 = call(1, &a, 1, &b, 4, p4, 0, NULL);
        const void *in4[1] = {srcs[t]};
        void *out4[1] = {dsts[t]};
        CHECK(RT_OK, rt_transpose(&c4, in4, out4));
        int bad = 0;
        for (int l = 0; l < D; l++)
            for (int i = 0; i < A; i++)
                for (int k = 0; k < C; k++)
                    for (int j = 0; j < B; j++) {
                        int64_t o = ((l * A + i) * C + k) * B + j;
                        int64_t s = ((i * B + j) * C + k) * D + l;
                        int64_t got = t == 0 ? dst[o] : t == 1 ? d32[o] : d8[o];
                        int64_t want = t == 2 ? (int8_t)s : s;
                        bad += got != want;
                    }
        CHECK(0, bad);
    }
}

static void test_concat_split(void)
{
    float a[4] = {1, 2, 3, 4}, b[2] = {5, 6}, y[6];
    int64_t ad[2] = {2, 2}, bd[2] = {2, 1}, yd[2] = {2, 3}, axis = 1;
    RtTensorDesc ins[2] = {desc(RT_F32, 2, ad), desc(RT_F32, 2, bd)};
    RtTensorDesc o = desc(RT_F32, 2, yd);
    RtCall c = call(2, ins, 1, &o, 1, &axis, 0, NULL);
    const void *in[2] = {a, b};
    void *out[1] = {y};
    CHECK(RT_OK, rt_concat(&c, in, out));
    float e[6] = {1, 2, 5, 3, 4, 6};
    CHECK_TRUE(same_f32(y, e, 6, 0));

    float p[4], q[2];
    RtCall s = call(1, &o, 2, ins, 1, &axis, 0, NULL);
    const void *sin[1] = {y};
    void *sout[2] = {p, q};
    CHECK(RT_OK, rt_split(&s, sin, sout));
    CHECK_TRUE(same_f32(p, a, 4, 0));
    CHECK_TRUE(same_f32(q, b, 2, 0));
}

static void test_slice(void)
{
    /* x[3x4] = 0..11; x[2:0:-1, 1:4:2] = [[9, 11], [5, 7]] */
    float x[12], y[4];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    int64_t xd[2] = {3, 4}, yd[2] = {2, 2}, p[4] = {2, -1, 1, 2};
    RtTensorDesc i0 = desc(RT_F32, 2, xd), o0 = desc(RT_F32, 2, yd);
    RtCall c = call(1, &i0, 1, &o0, 4, p, 0, NULL);
    const void *in[1] = {x};
    void *out[1] = {y};
    CHECK(RT_OK, rt_slice(&c, in, out));
    float e[4] = {9, 11, 5, 7};
    CHECK_TRUE(same_f32(y, e, 4, 0));
}

static void test_gather(void)
{
    /* axis 1 of [2x3] with int32 indices [[2, -3]] -> [2x1x2] */
    float x[6] = {1, 2, 3, 4, 5, 6}, y[4];
    int32_t ix[2] = {2, -3};
    int64_t xd[2] = {2, 3}, id[2] = {1, 2}, yd[3] = {2, 1, 2}, axis = 1;
    RtTensorDesc ins[2] = {desc(RT_F32, 2, xd), desc(RT_I32, 2, id)};
    RtTensorDesc o = desc(RT_F32, 3, yd);
    RtCall c = call(2, ins, 1, &o, 1, &axis, 0, NULL);
    const void *in[2] = {x, ix};
    void *out[1] = {y};
    CHECK(RT_OK, rt_gather(&c, in, out));
    float e[4] = {3, 1, 6, 4};
    CHECK_TRUE(same_f32(y, e, 4, 0));
    ix[0] = 3;
    CHECK(RT_EINVAL, rt_gather(&c, in, out));
}

static void test_fill_expand_tile(void)
{
    int32_t y[6];
    int64_t yd[2] = {2, 3}, seven = 7;
    RtTensorDesc o = desc(RT_I32, 2, yd);
    RtCall c = call(0, NULL, 1, &o, 1, &seven, 0, NULL);
    void *out[1] = {y};
    CHECK(RT_OK, rt_fill(&c, NULL, out));
    CHECK(7, y[0]);
    CHECK(7, y[5]);

    double half = 2.5;
    int64_t bits;
    memcpy(&bits, &half, sizeof bits);
    float f[6];
    RtTensorDesc of = desc(RT_F32, 2, yd);
    RtCall cf = call(0, NULL, 1, &of, 1, &bits, 0, NULL);
    void *outf[1] = {f};
    CHECK(RT_OK, rt_fill(&cf, NULL, outf));
    CHECK_NEAR(2.5, f[3], 0);

    /* Expand [3,1] -> [2,3,2] */
    float x[3] = {1, 2, 3}, e[12];
    int64_t xd[2] = {3, 1}, ed[3] = {2, 3, 2};
    RtTensorDesc ix = desc(RT_F32, 2, xd), oe = desc(RT_F32, 3, ed);
    RtCall ce = call(1, &ix, 1, &oe, 0, NULL, 0, NULL);
    const void *in[1] = {x};
    void *oute[1] = {e};
    CHECK(RT_OK, rt_expand(&ce, in, oute));
    float want[12] = {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3};
    CHECK_TRUE(same_f32(e, want, 12, 0));

    /* Tile [2,2] by [2,1] -> [4,2]... and by [1,2] -> [2,4] */
    float t[4] = {1, 2, 3, 4}, ty[8];
    int64_t td[2] = {2, 2}, tyd[2] = {2, 4};
    RtTensorDesc it = desc(RT_F32, 2, td), ot = desc(RT_F32, 2, tyd);
    RtCall ct = call(1, &it, 1, &ot, 0, NULL, 0, NULL);
    const void *tin[1] = {t};
    void *tout[1] = {ty};
    CHECK(RT_OK, rt_tile(&ct, tin, tout));
    float tw[8] = {1, 2, 1, 2, 3, 4, 3, 4};
    CHECK_TRUE(same_f32(ty, tw, 8, 0));
}

static void test_pad(void)
{
    /* 1-D [1 2 3], pads (2, 3), numpy.pad results */
    float x[3] = {1, 2, 3}, y[8];
    int64_t xd[1] = {3}, yd[1] = {8};
    RtTensorDesc i0 = desc(RT_F32, 1, xd), o0 = desc(RT_F32, 1, yd);
    const void *in[1] = {x};
    void *out[1] = {y};
    static const float want[4][8] = {
        {9, 9, 1, 2, 3, 9, 9, 9},   /* constant 9 */
        {3, 2, 1, 2, 3, 2, 1, 2},   /* reflect */
        {1, 1, 1, 2, 3, 3, 3, 3},   /* edge */
        {2, 3, 1, 2, 3, 1, 2, 3},   /* wrap */
    };
    float nine = 9;
    for (int m = 0; m < 4; m++) {
        int64_t p[2] = {m, 2};
        RtCall c = call(1, &i0, 1, &o0, 2, p, 1, &nine);
        CHECK(RT_OK, rt_pad(&c, in, out));
        CHECK_TRUE(same_f32(y, want[m], 8, 0));
    }

    /* 2-D int64 [[1 2] [3 4]] edge pads (1, 0) before, (0, 1) after, and
     * a negative pad that crops: begin (0, -1), end (1, 0) */
    int64_t a[4] = {1, 2, 3, 4}, b[9];
    int64_t ad[2] = {2, 2}, bd[2] = {3, 3}, p2[3] = {RT_PAD_EDGE, 1, 0};
    RtTensorDesc ia = desc(RT_I64, 2, ad), ob = desc(RT_I64, 2, bd);
    RtCall c2 = call(1, &ia, 1, &ob, 3, p2, 0, NULL);
    const void *ina[1] = {a};
    void *outb[1] = {b};
    CHECK(RT_OK, rt_pad(&c2, ina, outb));
    int64_t wb[9] = {1, 2, 2, 1, 2, 2, 3, 4, 4};
    int bad = 0;
    for (int i = 0; i < 9; i++)
        bad += b[i] != wb[i];
    CHECK(0, bad);

    int64_t cd[2] = {3, 1}, p3[3] = {RT_PAD_REFLECT, 0, -1};
    RtTensorDesc oc = desc(RT_I64, 2, cd);
    RtCall c3 = call(1, &ia, 1, &oc, 3, p3, 0, NULL);
    CHECK(RT_OK, rt_pad(&c3, ina, outb));
    /* crop column 0 -> [[2] [4]], then reflect one row after: that column
     * has two rows, so row 2 mirrors row 0 */
    CHECK(2, b[0]);
    CHECK(4, b[1]);
    CHECK(2, b[2]);
}

/* Per-axis parameter block of rt_resize. */
static void resize_axis(int64_t *q, double scale, double len)
{
    double v[4] = {scale, len, 0, 1};
    memcpy(q, v, sizeof v);
}

static void test_resize(void)
{
    /* ONNX test_resize_upsample_scales_linear: 2x2 -> 4x4, half_pixel */
    float x[4] = {1, 2, 3, 4}, y[16];
    int64_t xd[4] = {1, 1, 2, 2}, yd[4] = {1, 1, 4, 4};
    int64_t p[4 + 16] = {RT_RESIZE_LINEAR, RT_COORD_HALF_PIXEL, 0, 0};
    resize_axis(p + 4, 1, 1);
    resize_axis(p + 8, 1, 1);
    resize_axis(p + 12, 2, 4);
    resize_axis(p + 16, 2, 4);
    float fl[2] = {-0.75f, 0};
    RtTensorDesc i0 = desc(RT_F32, 4, xd), o0 = desc(RT_F32, 4, yd);
    RtCall c = call(1, &i0, 1, &o0, 20, p, 2, fl);
    const void *in[1] = {x};
    void *out[1] = {y};
    CHECK(RT_OK, rt_resize(&c, in, out));
    float want[16] = {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f,
                      2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4};
    CHECK_TRUE(same_f32(y, want, 16, 1e-6f));

    /* nearest, asymmetric, 2x2 -> 2x3 (scale 1.5 on the last axis) on int8 */
    int8_t xi[4] = {1, 2, 3, 4}, yi[6];
    int64_t yd2[4] = {1, 1, 2, 3};
    p[0] = RT_RESIZE_NEAREST;
    p[1] = RT_COORD_ASYMMETRIC;
    p[2] = RT_NEAREST_ROUND_PREFER_FLOOR;
    resize_axis(p + 12, 1, 2);
    resize_axis(p + 16, 1.5, 3);
    RtTensorDesc i1 = desc(RT_I8, 4, xd), o1 = desc(RT_I8, 4, yd2);
    RtCall c1 = call(1, &i1, 1, &o1, 20, p, 2, fl);
    const void *in1[1] = {xi};
    void *out1[1] = {yi};
    CHECK(RT_OK, rt_resize(&c1, in1, out1));
    /* x = 0, 0.667, 1.333 -> 0, 1, 1 */
    int8_t wi[6] = {1, 2, 2, 3, 4, 4};
    CHECK(0, memcmp(yi, wi, 6));

    /* ONNX test_resize_downsample_scales_linear_align_corners:
     * [[1 2 3 4] [5 6 7 8]] scales 0.6 -> [[1, 3.142857]] */
    float xa[8] = {1, 2, 3, 4, 5, 6, 7, 8}, ya[2];
    int64_t xad[4] = {1, 1, 2, 4}, yad[4] = {1, 1, 1, 2};
    p[0] = RT_RESIZE_LINEAR;
    p[1] = RT_COORD_ALIGN_CORNERS;
    resize_axis(p + 12, 0.6f, 0.6f * 2.0);
    resize_axis(p + 16, 0.6f, 0.6f * 4.0);
    RtTensorDesc i2 = desc(RT_F32, 4, xad), o2 = desc(RT_F32, 4, yad);
    RtCall c2 = call(1, &i2, 1, &o2, 20, p, 2, fl);
    const void *in2[1] = {xa};
    void *out2[1] = {ya};
    CHECK(RT_OK, rt_resize(&c2, in2, out2));
    CHECK_NEAR(1.0, ya[0], 1e-5);
    CHECK_NEAR(3.142857, ya[1], 1e-5);
}

static void test_depth_to_space(void)
{
    /* against the index formulas of the ONNX spec, both modes */
    enum { N = 1, C = 8, H = 2, W = 3, B = 2 };
    float x[N * C * H * W], y[N * C * H * W];
    for (int i = 0; i < N * C * H * W; i++)
        x[i] = (float)i;
    int64_t xd[4] = {N, C, H, W}, yd[4] = {N, C / 4, H * B, W * B};
    RtTensorDesc i0 = desc(RT_F32, 4, xd), o0 = desc(RT_F32, 4, yd);
    const void *in[1] = {x};
    void *out[1] = {y};
    for (int crd = 0; crd < 2; crd++) {
        int64_t p[2] = {B, crd};
        RtCall c = call(1, &i0, 1, &o0, 2, p, 0, NULL);
        CHECK(RT_OK, rt_depth_to_space(&c, in, out));
        int bad = 0;
        for (int co = 0; co < C / 4; co++)
            for (int h = 0; h < H * B; h++)
                for (int w = 0; w < W * B; w++) {
                    int bi = h % B, bj = w % B;
                    int ci = crd ? co * B * B + bi * B + bj : (bi * B + bj) * (C / 4) + co;
                    float want = x[(ci * H + h / B) * W + w / B];
                    bad += y[(co * H * B + h) * W * B + w] != want;
                }
        CHECK(0, bad);
    }
    /* SpaceToDepth undoes DCR DepthToSpace */
    float z[N * C * H * W];
    int64_t p[1] = {B};
    RtCall c = call(1, &o0, 1, &i0, 1, p, 0, NULL);
    const void *zin[1] = {y};
    void *zout[1] = {z};
    int64_t pd[2] = {B, 0};
    RtCall cd = call(1, &i0, 1, &o0, 2, pd, 0, NULL);
    CHECK(RT_OK, rt_depth_to_space(&cd, in, out));
    CHECK(RT_OK, rt_space_to_depth(&c, zin, zout));
    CHECK_TRUE(same_f32(z, x, N * C * H * W, 0));
}

int main(void)
{
    test_transpose();
    test_concat_split();
    test_slice();
    test_gather();
    test_fill_expand_tile();
    test_pad();
    test_resize();
    test_depth_to_space();
    return CHECK_DONE();
}
