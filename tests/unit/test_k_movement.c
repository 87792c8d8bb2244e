/* test_k_movement.c: unit tests of the movement and resize kernels on small hand-checked cases. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

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

    /* [0,2] ++ [0,3] -> [0,5] along axis 1: nothing to copy, but the parts'
     * extents must still add up, and empty tensors may have no buffer */
    int64_t ed0[2] = {0, 2}, ed1[2] = {0, 3}, eyd[2] = {0, 5};
    RtTensorDesc eins[2] = {desc(RT_F32, 2, ed0), desc(RT_F32, 2, ed1)};
    RtTensorDesc eo = desc(RT_F32, 2, eyd);
    RtCall ec = call(2, eins, 1, &eo, 1, &axis, 0, NULL);
    const void *ein[2] = {NULL, NULL};
    void *eout[1] = {NULL};
    CHECK(RT_OK, rt_concat(&ec, ein, eout));
    RtCall es = call(1, &eo, 2, eins, 1, &axis, 0, NULL);
    void *esout[2] = {NULL, NULL};
    CHECK(RT_OK, rt_split(&es, (const void *const *)eout, esout));
    /* a wrong extent is still refused */
    eyd[1] = 6;
    eo = desc(RT_F32, 2, eyd);
    CHECK(RT_EINVAL, rt_concat(&ec, ein, eout));
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

/* Resize antialias (opset 18): downsampling by 2 with half_pixel is the
 * triangle filter [1, 3, 3, 1] / 8 over the input, edges repeated; the axis
 * of scale 1 is left as it is; nearest takes no antialias. float64,
 * tolerance 1e-12. */
static void test_resize_antialias(void)
{
    double x[16], y[8];
    for (int i = 0; i < 16; i++)
        x[i] = (double)((i * 7) % 5) - 1.5;
    int64_t xd[2] = {2, 8}, yd[2] = {2, 4};
    int64_t p[4 + 8] = {RT_RESIZE_LINEAR | RT_RESIZE_ANTIALIAS, RT_COORD_HALF_PIXEL, 0, 0};
    resize_axis(p + 4, 1, 2);
    resize_axis(p + 8, 0.5, 4);
    float fl[2] = {-0.75f, 0};
    RtTensorDesc i0 = desc(RT_F64, 2, xd), o0 = desc(RT_F64, 2, yd);
    RtCall c = call(1, &i0, 1, &o0, 12, p, 2, fl);
    const void *in[1] = {x};
    void *out[1] = {y};
    CHECK(RT_OK, rt_resize(&c, in, out));
    static const double f[4] = {1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8};
    for (int r = 0; r < 2; r++)
        for (int j = 0; j < 4; j++) {
            double want = 0;
            for (int k = 0; k < 4; k++) {
                int i = 2 * j - 1 + k;
                i = i < 0 ? 0 : i > 7 ? 7 : i;
                want += f[k] * x[r * 8 + i];
            }
            CHECK_NEAR(want, y[r * 4 + j], 1e-12);
        }
    p[0] = RT_RESIZE_NEAREST | RT_RESIZE_ANTIALIAS;
    CHECK(RT_EINVAL, rt_resize(&c, in, out));
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

static void test_indexing(void)
{
    /* GatherElements axis 1 (ONNX example) */
    float x[4] = {1, 2, 3, 4}, y[6];
    int64_t ix[6] = {0, 0, 1, 0}, d22[2] = {2, 2}, one = 1;
    RtTensorDesc ge[2] = {desc(RT_F32, 2, d22), desc(RT_I64, 2, d22)}, go = desc(RT_F32, 2, d22);
    RtCall c = call(2, ge, 1, &go, 1, &one, 0, NULL);
    const void *in[3] = {x, ix, NULL};
    void *out[1] = {y};
    CHECK(RT_OK, rt_gather_elements(&c, in, out));
    float e1[4] = {1, 1, 4, 3};
    CHECK_TRUE(same_f32(y, e1, 4, 0));

    /* ScatterElements axis 1, reduction add with a repeated index */
    float data[5] = {1, 2, 3, 4, 5}, upd[2] = {1.1f, 2.1f}, so[5];
    int64_t si[2] = {1, 1}, d15[2] = {1, 5}, d12[2] = {1, 2}, sp[2] = {1, RT_SCATTER_ADD};
    RtTensorDesc se[3] = {desc(RT_F32, 2, d15), desc(RT_I64, 2, d12), desc(RT_F32, 2, d12)};
    RtTensorDesc seo = desc(RT_F32, 2, d15);
    RtCall cs = call(3, se, 1, &seo, 2, sp, 0, NULL);
    const void *sin[3] = {data, si, upd};
    void *sout[1] = {so};
    CHECK(RT_OK, rt_scatter_elements(&cs, sin, sout));
    float e2[5] = {1, 5.2f, 3, 4, 5};
    CHECK_TRUE(same_f32(so, e2, 5, 1e-6f));

    /* GatherND with batch_dims 1 */
    float nd[8] = {0, 1, 2, 3, 4, 5, 6, 7}, ndo[4];
    int64_t ndi[2] = {1, 0}, d222[3] = {2, 2, 2}, d21[2] = {2, 1};
    RtTensorDesc gn[2] = {desc(RT_F32, 3, d222), desc(RT_I64, 2, d21)}, gno = desc(RT_F32, 2, d22);
    RtCall cg = call(2, gn, 1, &gno, 1, &one, 0, NULL);
    const void *gin[2] = {nd, ndi};
    void *gout[1] = {ndo};
    CHECK(RT_OK, rt_gather_nd(&cg, gin, gout));
    float e3[4] = {2, 3, 4, 5};
    CHECK_TRUE(same_f32(ndo, e3, 4, 0));

    /* ScatterND (ONNX example 1) */
    float sd[8] = {1, 2, 3, 4, 5, 6, 7, 8}, su[4] = {9, 10, 11, 12}, sdo[8];
    int64_t sdi[4] = {4, 3, 1, 7}, d8[1] = {8}, d41[2] = {4, 1}, d4[1] = {4}, none = 0;
    RtTensorDesc sn[3] = {desc(RT_F32, 1, d8), desc(RT_I64, 2, d41), desc(RT_F32, 1, d4)};
    RtTensorDesc sno = desc(RT_F32, 1, d8);
    RtCall csn = call(3, sn, 1, &sno, 1, &none, 0, NULL);
    const void *snin[3] = {sd, sdi, su};
    void *snout[1] = {sdo};
    CHECK(RT_OK, rt_scatter_nd(&csn, snin, snout));
    float e4[8] = {1, 11, 3, 10, 9, 6, 7, 12};
    CHECK_TRUE(same_f32(sdo, e4, 8, 0));
}

static void test_misc(void)
{
    /* Trilu: upper with k = 0, lower with k = -1 */
    float m[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, t[9];
    int64_t d33[2] = {3, 3}, d1[1] = {1}, upper = 1, lower = 0, km1 = -1;
    RtTensorDesc ti[2] = {desc(RT_F32, 2, d33), desc(RT_I64, 0, d1)}, to = desc(RT_F32, 2, d33);
    const void *in[2] = {m, NULL};
    void *out[1] = {t};
    RtCall c = call(1, ti, 1, &to, 1, &upper, 0, NULL);
    CHECK(RT_OK, rt_trilu(&c, in, out));
    float e1[9] = {1, 2, 3, 0, 5, 6, 0, 0, 9};
    CHECK_TRUE(same_f32(t, e1, 9, 0));
    in[1] = &km1;
    RtCall c2 = call(2, ti, 1, &to, 1, &lower, 0, NULL);
    CHECK(RT_OK, rt_trilu(&c2, in, out));
    float e2[9] = {0, 0, 0, 4, 0, 0, 7, 8, 0};
    CHECK_TRUE(same_f32(t, e2, 9, 0));

    /* CumSum exclusive and reverse on int32 */
    int32_t v[5] = {1, 2, 3, 4, 5}, cs[5];
    int64_t d5[1] = {5}, axis0 = 0, flags[2] = {1, 1};
    RtTensorDesc ci[2] = {desc(RT_I32, 1, d5), desc(RT_I64, 0, d1)}, co = desc(RT_I32, 1, d5);
    const void *cin[2] = {v, &axis0};
    void *cout[1] = {cs};
    RtCall cc = call(2, ci, 1, &co, 2, flags, 0, NULL);
    CHECK(RT_OK, rt_cumsum(&cc, cin, cout));
    CHECK(14, cs[0]);
    CHECK(9, cs[2]);
    CHECK(0, cs[4]);

    /* CumProd (opset 26) against a running product, every exclusive/reverse
     * combination, on int32 and float32 [2, 3] along axis 1; exact (small
     * integers) */
    int32_t pv[6] = {2, -3, 4, 1, 5, -1}, pi[6];
    float pf_in[6] = {2, -3, 4, 1, 5, -1}, pf[6];
    int64_t d23c[2] = {2, 3}, axis1 = 1;
    for (int fl = 0; fl < 2; fl++)
        for (int ex = 0; ex < 2; ex++)
            for (int rv = 0; rv < 2; rv++) {
                int dt = fl ? RT_F32 : RT_I32;
                RtTensorDesc pin[2] = {desc(dt, 2, d23c), desc(RT_I64, 0, d1)};
                RtTensorDesc pout = desc(dt, 2, d23c);
                const void *pinp[2] = {fl ? (const void *)pf_in : pv, &axis1};
                void *poutp[1] = {fl ? (void *)pf : pi};
                int64_t pflags[3] = {ex, rv, 1};
                RtCall pc = call(2, pin, 1, &pout, 3, pflags, 0, NULL);
                CHECK(RT_OK, rt_cumsum(&pc, pinp, poutp));
                for (int r = 0; r < 2; r++) {
                    int64_t acc = 1;
                    for (int step = 0; step < 3; step++) {
                        int j = rv ? 2 - step : step;
                        int64_t next = acc * pv[r * 3 + j];
                        int64_t want = ex ? acc : next;
                        CHECK(want, fl ? (int64_t)pf[r * 3 + j] : pi[r * 3 + j]);
                        acc = next;
                    }
                }
            }

    /* OneHot: indices [1, -1], depth 3, values [0, 5] */
    int64_t oi[2] = {1, -1}, d2[1] = {2}, d23[2] = {2, 3}, last = 1;
    float depth = 3, vals[2] = {0, 5}, oh[6];
    RtTensorDesc oin[3] = {desc(RT_I64, 1, d2), desc(RT_F32, 0, d1), desc(RT_F32, 1, d2)};
    RtTensorDesc oo = desc(RT_F32, 2, d23);
    const void *ohin[3] = {oi, &depth, vals};
    void *ohout[1] = {oh};
    RtCall co2 = call(3, oin, 1, &oo, 1, &last, 0, NULL);
    CHECK(RT_OK, rt_onehot(&co2, ohin, ohout));
    float e3[6] = {0, 5, 0, 0, 0, 5};
    CHECK_TRUE(same_f32(oh, e3, 6, 0));

    /* EyeLike 2x3, k = 1 */
    RtCall ce = call(1, &oo, 1, &oo, 1, &upper, 0, NULL);
    CHECK(RT_OK, rt_eyelike(&ce, NULL, ohout));
    float e4[6] = {0, 1, 0, 0, 0, 1};
    CHECK_TRUE(same_f32(oh, e4, 6, 0));

    /* Range int32 10, 7, 4 */
    int32_t start = 10, limit = 2, delta = -3, rg[3];
    int64_t d3[1] = {3};
    RtTensorDesc ri[3] = {desc(RT_I32, 0, d1), desc(RT_I32, 0, d1), desc(RT_I32, 0, d1)};
    RtTensorDesc ro = desc(RT_I32, 1, d3);
    const void *rin[3] = {&start, &limit, &delta};
    void *rout[1] = {rg};
    RtCall cr = call(3, ri, 1, &ro, 0, NULL, 0, NULL);
    CHECK(RT_OK, rt_range(&cr, rin, rout));
    CHECK(4, rg[2]);

    /* Compress axis 0 with condition [0 1 1] */
    float cx[6] = {1, 2, 3, 4, 5, 6}, cy[4];
    uint8_t cond[3] = {0, 1, 1};
    int64_t d32[2] = {3, 2}, d22[2] = {2, 2};
    RtTensorDesc cpi[2] = {desc(RT_F32, 2, d32), desc(RT_BOOL, 1, d3)}, cpo = desc(RT_F32, 2, d22);
    const void *cpin[2] = {cx, cond};
    void *cpout[1] = {cy};
    RtCall ccp = call(2, cpi, 1, &cpo, 1, &axis0, 0, NULL);
    CHECK(RT_OK, rt_compress(&ccp, cpin, cpout));
    float e5[4] = {3, 4, 5, 6};
    CHECK_TRUE(same_f32(cy, e5, 4, 0));
    cond[0] = 1;
    CHECK(RT_EINVAL, rt_compress(&ccp, cpin, cpout));

    /* ReverseSequence (ONNX example, time_axis 0, batch_axis 1) */
    float rx[16], ry[16];
    for (int i = 0; i < 16; i++)
        rx[i] = (float)((i % 4) * 4 + i / 4);
    int64_t lens[4] = {4, 3, 2, 1}, d44[2] = {4, 4}, d4[1] = {4}, axes[2] = {1, 0};
    RtTensorDesc rsi[2] = {desc(RT_F32, 2, d44), desc(RT_I64, 1, d4)}, rso = desc(RT_F32, 2, d44);
    const void *rsin[2] = {rx, lens};
    void *rsout[1] = {ry};
    RtCall crs = call(2, rsi, 1, &rso, 2, axes, 0, NULL);
    CHECK(RT_OK, rt_reverse_sequence(&crs, rsin, rsout));
    float e6[16] = {3, 6, 9, 12, 2, 5, 8, 13, 1, 4, 10, 14, 0, 7, 11, 15};
    CHECK_TRUE(same_f32(ry, e6, 16, 0));
}

/* ---- shape inference of the family, through the op table ---- */

static Value *val(Graph *g, const char *name, int dtype, int rank, const int64_t *dims)
{
    Value *v = ir_value_new(g, name);
    v->dtype = dtype;
    v->rank = rank;
    for (int i = 0; i < rank; i++)
        v->dims[i] = dims[i];
    return v;
}

static Value *const_i64(Graph *g, const char *name, int n, const int64_t *data)
{
    int64_t len = n;
    Value *v = val(g, name, RT_I64, 1, &len);
    int64_t *p = ir_value_alloc_data(g, v);
    memcpy(p, data, sizeof *p * (size_t)n);
    return v;
}

static Node *node(Graph *g, const char *op, int n_in, Value **in, int n_out)
{
    Node *n = ir_node_new(g, op, "", NULL, n_in, n_out);
    for (int i = 0; i < n_in; i++)
        n->in[i] = in[i];
    for (int i = 0; i < n_out; i++)
        n->out[i] = ir_value_new(g, NULL);
    return n;
}

static int infer(Graph *g, Node *n, Diag *d)
{
    n->n_ints = n->n_floats = 0;
    return ir_ops[n->op].infer(g, n, d);
}

static void set_attr_ints(Graph *g, Node *n, const char *name, int k, const int64_t *v)
{
    n->attrs = ir_alloc(g, sizeof *n->attrs);
    n->n_attrs = 1;
    n->attrs[0].name = name;
    n->attrs[0].type = AT_INTS;
    n->attrs[0].n = k;
    n->attrs[0].ints = ir_alloc(g, sizeof(int64_t) * (size_t)k);
    memcpy(n->attrs[0].ints, v, sizeof(int64_t) * (size_t)k);
}

static void test_infer(void)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0].domain = "";
    g->opsets[0].version = 13;
    g->n_opsets = 1;
    Diag d = {0};

    /* Reshape [2,3,4] by [0, -1]: 0 copies, -1 takes the rest */
    int64_t xd[3] = {2, 3, 4}, sh[2] = {0, -1};
    Value *x = val(g, "x", RT_F32, 3, xd);
    Value *in[5] = {x, const_i64(g, "s", 2, sh)};
    Node *n = node(g, "Reshape", 2, in, 1);
    CHECK(0, infer(g, n, &d));
    CHECK(2, n->out[0]->rank);
    CHECK(12, n->out[0]->dims[1]);
    int64_t bad[2] = {5, -1};
    in[1] = const_i64(g, "s2", 2, bad);
    n = node(g, "Reshape", 2, in, 1);
    CHECK(-1, infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "cannot reshape 24 elements");

    /* Slice with clamped starts/ends and a negative step: x[-1:-100:-2] on
     * axis 2 (extent 4) -> indices 3, 1 */
    int64_t st[1] = {-1}, en[1] = {-100}, ax[1] = {2}, sp[1] = {-2};
    Value *sin[5] = {x, const_i64(g, "st", 1, st), const_i64(g, "en", 1, en),
                     const_i64(g, "ax", 1, ax), const_i64(g, "sp", 1, sp)};
    n = node(g, "Slice", 5, sin, 1);
    CHECK(0, infer(g, n, &d));
    CHECK(2, n->out[0]->dims[2]);
    CHECK(6, n->n_ints);
    CHECK(3, n->ints[4]);
    CHECK(-2, n->ints[5]);

    /* a non-constant shape input: Expand reads it when the model runs (its
     * rank from the value's length, here x's 3 or more); CenterCropPad asks
     * for --const */
    Value *dyn = val(g, "dyn", RT_I64, 1, (int64_t[]){2});
    dyn->is_input = 1;
    Value *din[2] = {x, dyn};
    n = node(g, "Expand", 2, din, 1);
    Diag d2 = {0};
    CHECK(0, infer(g, n, &d2));
    CHECK(3, n->out[0]->rank);
    n = node(g, "CenterCropPad", 2, din, 1);
    n->opset = 18;
    d2 = (Diag){0};
    CHECK(-1, infer(g, n, &d2));
    CHECK_STR_CONTAINS(d2.msg, "--const dyn=FILE");

    /* Transpose rejects a perm that is not a permutation */
    Node *t = node(g, "Transpose", 1, in, 1);
    set_attr_ints(g, t, "perm", 3, (int64_t[]){0, 0, 1});
    Diag d3 = {0};
    CHECK(-1, infer(g, t, &d3));
    CHECK_STR_CONTAINS(d3.msg, "not a permutation");

    /* Pad opset 13: begin (0, 1, -1), end (1, 0, 2) */
    int64_t pads[6] = {0, 1, -1, 1, 0, 2};
    Value *pin[2] = {x, const_i64(g, "p", 6, pads)};
    n = node(g, "Pad", 2, pin, 1);
    CHECK(0, infer(g, n, &d));
    CHECK(3, n->out[0]->dims[0]);
    CHECK(4, n->out[0]->dims[1]);
    CHECK(5, n->out[0]->dims[2]);

    /* Shape with start/end is folded to data at opset 15 */
    g->opsets[0].version = 15;
    n = node(g, "Shape", 1, in, 1);
    n->attrs = ir_alloc(g, sizeof *n->attrs);
    n->n_attrs = 1;
    n->attrs[0].name = "start";
    n->attrs[0].type = AT_INT;
    n->attrs[0].i = -2;
    CHECK(0, infer(g, n, &d));
    CHECK(2, n->out[0]->dims[0]);
    CHECK(3, ((int64_t *)n->out[0]->data)[0]);
    CHECK(4, ((int64_t *)n->out[0]->data)[1]);

    /* Resize with sizes: [1,1,2,4] -> sizes [1,1,3,6] */
    int64_t rd[4] = {1, 1, 2, 4}, sz[4] = {1, 1, 3, 6};
    Value *rin[4] = {val(g, "r", RT_F32, 4, rd), NULL, NULL, const_i64(g, "sz", 4, sz)};
    n = node(g, "Resize", 4, rin, 1);
    CHECK(0, infer(g, n, &d));
    CHECK(3, n->out[0]->dims[2]);
    CHECK(6, n->out[0]->dims[3]);
    CHECK(RT_RESIZE_HEAD + 4 * RT_RESIZE_PER_AXIS, n->n_ints);
    ir_graph_free(g);
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
    test_resize_antialias();
    test_depth_to_space();
    test_indexing();
    test_misc();
    test_infer();
    return CHECK_DONE();
}
