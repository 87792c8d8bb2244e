/* test_k_nn.c: unit tests of the nn kernels (GEMM, MatMul, Gemm, Conv, pools, norms, reduce). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fill.h"
#include "desc.h"
#include "runtime/onnxcc_rt.h"

/* Runs kernel k on one call block. */
static int run(RtKernel k, int n_in, const RtTensorDesc *din, int n_out, const RtTensorDesc *dout,
               int n_ints, const int64_t *ints, int n_floats, const float *floats,
               const void *const *in, void *const *out)
{
    RtCall c = call(n_in, din, n_out, dout, n_ints, ints, n_floats, floats);
    return k(&c, in, out);
}

static double max_err(const float *a, const float *b, int64_t n)
{
    double e = 0;
    for (int64_t i = 0; i < n; i++)
        e = fabs(a[i] - b[i]) > e ? fabs(a[i] - b[i]) : e;
    return e;
}

/* ---- rt_sgemm against a naive triple loop ---- */

static void naive_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++)
                s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) *
                     (tb ? b[j * ldb + p] : b[p * ldb + j]);
            c[i * ldc + j] = (float)(alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]));
        }
}

static void test_sgemm_case(int ta, int tb, int m, int n, int k, float alpha, float beta)
{
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
    float *a = malloc(sizeof(float) * (size_t)(ta ? k : m) * (size_t)lda);
    float *b = malloc(sizeof(float) * (size_t)(tb ? n : k) * (size_t)ldb);
    float *c1 = malloc(sizeof(float) * (size_t)m * (size_t)ldc);
    float *c2 = malloc(sizeof(float) * (size_t)m * (size_t)ldc);
    fill(a, (ta ? k : m) * lda, 1);
    fill(b, (tb ? n : k) * ldb, 2);
    fill(c1, m * ldc, 3);
    memcpy(c2, c1, sizeof(float) * (size_t)m * (size_t)ldc);
    if (beta == 0) /* beta 0 must not read C: poison it */
        for (int i = 0; i < m * ldc; i++)
            c1[i] = NAN;
    /* odd-numbered cases add a per-row bias and a clamp through rt_sgemm_bias */
    static int count;
    float *bias = NULL;
    if (count++ & 1) {
        bias = malloc(sizeof(float) * (size_t)m);
        fill(bias, m, 4);
        rt_sgemm_bias(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, bias, -0.5f, 0.75f, c1,
                      ldc);
    } else {
        rt_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c1, ldc);
    }
    naive_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c2, ldc);
    for (int i = 0; bias && i < m; i++)
        for (int j = 0; j < n; j++) {
            float v = c2[i * ldc + j] + bias[i];
            c2[i * ldc + j] = v < -0.5f ? -0.5f : v > 0.75f ? 0.75f : v;
        }
    free(bias);
    double e = 0;
    for (int i = 0; i < m; i++)
        e = fmax(e, max_err(c1 + i * ldc, c2 + i * ldc, n));
    if (e > 1e-4 * (k + 1))
        fprintf(stderr, "sgemm ta=%d tb=%d %dx%dx%d alpha=%g beta=%g: error %g\n", ta, tb, m, n,
                k, alpha, beta, e);
    CHECK_TRUE(e <= 1e-4 * (k + 1));
    free(a);
    free(b);
    free(c1);
    free(c2);
}

static void test_sgemm(void)
{
    static const int sizes[][3] = {{17, 33, 65}, {1, 40, 19}, {23, 1, 31}, {6, 16, 256},
                                   {100, 200, 300}, {7, 9, 1}, {3, 4, 5}, {97, 95, 257},
                                   {160, 70, 20}, {5, 300, 600}, {1, 1, 7}, {4, 3, 0},
                                   {300, 40, 50}};
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                test_sgemm_case(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 1, 0);
                test_sgemm_case(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 0.5f, 1);
                test_sgemm_case(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], -2, 0.25f);
            }
}

/* ---- MatMul, Gemm ---- */

static void test_matmul(void)
{
    /* [2,3] x [3,2], values checked by hand */
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {7, 8, 9, 10, 11, 12}, y[4];
    RtTensorDesc di[2] = {desc(RT_F32, 2, DIMS(2, 3)), desc(RT_F32, 2, DIMS(3, 2))};
    RtTensorDesc dy = desc(RT_F32, 2, DIMS(2, 2));
    const void *in[2] = {a, b};
    void *out[1] = {y};
    CHECK(RT_OK, run(rt_matmul, 2, di, 1, &dy, 0, NULL, 0, NULL, in, out));
    CHECK_NEAR(58, y[0], 1e-5);
    CHECK_NEAR(64, y[1], 1e-5);
    CHECK_NEAR(139, y[2], 1e-5);
    CHECK_NEAR(154, y[3], 1e-5);

    /* 1-D times 2-D: [3] x [3,2] -> [2] */
    RtTensorDesc d1[2] = {desc(RT_F32, 1, DIMS(3)), desc(RT_F32, 2, DIMS(3, 2))},
                 dy1 = desc(RT_F32, 1, DIMS(2));
    CHECK(RT_OK, run(rt_matmul, 2, d1, 1, &dy1, 0, NULL, 0, NULL, in, out));
    CHECK_NEAR(58, y[0], 1e-5);
    CHECK_NEAR(64, y[1], 1e-5);

    /* broadcast batch: [2,1,2,3] x [3,3,2] -> [2,3,2,2]; int64 path */
    int64_t ia[12], ib[18], iy[24];
    for (int i = 0; i < 12; i++)
        ia[i] = i;
    for (int i = 0; i < 18; i++)
        ib[i] = i - 5;
    RtTensorDesc d2[2] = {desc(RT_I64, 4, DIMS(2, 1, 2, 3)), desc(RT_I64, 3, DIMS(3, 3, 2))};
    RtTensorDesc dy2 = desc(RT_I64, 4, DIMS(2, 3, 2, 2));
    const void *in2[2] = {ia, ib};
    void *out2[1] = {iy};
    CHECK(RT_OK, run(rt_matmul, 2, d2, 1, &dy2, 0, NULL, 0, NULL, in2, out2));
    int bad = 0;
    for (int b0 = 0; b0 < 2; b0++)
        for (int b1 = 0; b1 < 3; b1++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) {
                    int64_t s = 0;
                    for (int p = 0; p < 3; p++)
                        s += ia[b0 * 6 + i * 3 + p] * ib[b1 * 6 + p * 2 + j];
                    bad += iy[((b0 * 3 + b1) * 2 + i) * 2 + j] != s;
                }
    CHECK(0, bad);

    /* batched float32 against per-batch sgemm: [3,17,33] x [3,33,9] */
    float *fa = malloc(sizeof(float) * 3 * 17 * 33), *fb = malloc(sizeof(float) * 3 * 33 * 9);
    float *fy = malloc(sizeof(float) * 3 * 17 * 9), *fr = malloc(sizeof(float) * 3 * 17 * 9);
    fill(fa, 3 * 17 * 33, 5);
    fill(fb, 3 * 33 * 9, 6);
    RtTensorDesc d3[2] = {desc(RT_F32, 3, DIMS(3, 17, 33)), desc(RT_F32, 3, DIMS(3, 33, 9))};
    RtTensorDesc dy3 = desc(RT_F32, 3, DIMS(3, 17, 9));
    const void *in3[2] = {fa, fb};
    void *out3[1] = {fy};
    CHECK(RT_OK, run(rt_matmul, 2, d3, 1, &dy3, 0, NULL, 0, NULL, in3, out3));
    for (int bb = 0; bb < 3; bb++)
        naive_gemm(0, 0, 17, 9, 33, 1, fa + bb * 17 * 33, 33, fb + bb * 33 * 9, 9, 0,
                   fr + bb * 17 * 9, 9);
    CHECK_TRUE(max_err(fy, fr, 3 * 17 * 9) < 1e-4);
    free(fa);
    free(fb);
    free(fy);
    free(fr);
}

static void test_gemm(void)
{
    /* Y = 0.5 * A^T B + 2 * C, A stored [3,2], B [3,2], C [2] broadcast over rows */
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1}, cc[2] = {10, 20}, y[4];
    RtTensorDesc di[3] = {desc(RT_F32, 2, DIMS(3, 2)), desc(RT_F32, 2, DIMS(3, 2)),
                          desc(RT_F32, 1, DIMS(2))};
    RtTensorDesc dy = desc(RT_F32, 2, DIMS(2, 2));
    int64_t ints[2] = {1, 0};
    float fl[2] = {0.5f, 2};
    const void *in[3] = {a, b, cc};
    void *out[1] = {y};
    CHECK(RT_OK, run(rt_gemm, 3, di, 1, &dy, 2, ints, 2, fl, in, out));
    /* A^T = [[1,3,5],[2,4,6]]; A^T B = [[6,8],[8,10]] */
    CHECK_NEAR(23, y[0], 1e-5);
    CHECK_NEAR(44, y[1], 1e-5);
    CHECK_NEAR(24, y[2], 1e-5);
    CHECK_NEAR(45, y[3], 1e-5);
    /* the same in float64 through the generic path, without C */
    double da[6] = {1, 2, 3, 4, 5, 6}, db[6] = {1, 0, 0, 1, 1, 1}, dyv[4];
    RtTensorDesc dd[3] = {desc(RT_F64, 2, DIMS(3, 2)), desc(RT_F64, 2, DIMS(3, 2)),
                          desc(RT_UNDEF, 0, NULL)};
    RtTensorDesc ddy = desc(RT_F64, 2, DIMS(2, 2));
    const void *in2[3] = {da, db, NULL};
    void *out2[1] = {dyv};
    CHECK(RT_OK, run(rt_gemm, 3, dd, 1, &ddy, 2, ints, 2, fl, in2, out2));
    CHECK_NEAR(3, dyv[0], 1e-12);
    CHECK_NEAR(5, dyv[3], 1e-12);
}

/* ---- Conv, ConvTranspose: float32 fast paths against the float64 reference ---- */

typedef struct ConvCase {
    int transpose, nsp, n, cin, cout, group, bias, clamp;
    int in[3], k[3], st[3], dil[3], pad[3], out[3];
} ConvCase;

static void test_conv_case(const ConvCase *t)
{
    int nsp = t->nsp;
    RtTensorDesc dx = desc(RT_F32, 0, NULL), dw = desc(RT_F32, 0, NULL),
                 db = desc(RT_F32, 1, DIMS(0));
    RtTensorDesc dy = desc(RT_F32, 0, NULL);
    int cy = t->cout; /* output channels, for Conv and ConvTranspose alike */
    dx.rank = dw.rank = dy.rank = nsp + 2;
    dx.dims[0] = dy.dims[0] = t->n;
    dx.dims[1] = t->cin;
    dy.dims[1] = cy;
    if (t->transpose) {
        dw.dims[0] = t->cin;
        dw.dims[1] = t->cout / t->group;
    } else {
        dw.dims[0] = t->cout;
        dw.dims[1] = t->cin / t->group;
    }
    db.dims[0] = cy;
    int64_t ints[2 + 9 + 1];
    float fl[2] = {-0.3f, 0.4f}; /* a fused Clip, on the cases that ask */
    ints[0] = t->group;
    ints[1] = nsp;
    for (int i = 0; i < nsp; i++) {
        dx.dims[2 + i] = t->in[i];
        dw.dims[2 + i] = t->k[i];
        dy.dims[2 + i] = t->out[i];
        ints[2 + i] = t->st[i];
        ints[2 + nsp + i] = t->dil[i];
        ints[2 + 2 * nsp + i] = t->pad[i];
    }
    int ni = 2 + 3 * nsp;
    if (t->clamp)
        ints[ni++] = 1;
    int64_t nx = rt_numel(&dx), nw = rt_numel(&dw), ny = rt_numel(&dy);
    float *x = malloc(sizeof(float) * (size_t)nx), *w = malloc(sizeof(float) * (size_t)nw);
    float *b = malloc(sizeof(float) * (size_t)cy), *y = malloc(sizeof(float) * (size_t)ny);
    double *x2 = malloc(sizeof(double) * (size_t)nx), *w2 = malloc(sizeof(double) * (size_t)nw);
    double *b2 = malloc(sizeof(double) * (size_t)cy), *y2 = malloc(sizeof(double) * (size_t)ny);
    fill(x, nx, 11);
    fill(w, nw, 12);
    fill(b, cy, 13);
    for (int64_t i = 0; i < nx; i++)
        x2[i] = x[i];
    for (int64_t i = 0; i < nw; i++)
        w2[i] = w[i];
    for (int64_t i = 0; i < cy; i++)
        b2[i] = b[i];
    RtTensorDesc din[3] = {dx, dw, db};
    RtKernel k = t->transpose ? rt_conv_transpose : rt_conv;
    int nin = t->bias ? 3 : 2;
    const void *in[3] = {x, w, b};
    void *out[1] = {y};
    CHECK(RT_OK, run(k, nin, din, 1, &dy, ni, ints, 2, fl, in, out));
    din[0].dtype = din[1].dtype = din[2].dtype = RT_F64;
    RtTensorDesc dy2 = dy;
    dy2.dtype = RT_F64;
    const void *in2[3] = {x2, w2, b2};
    void *out2[1] = {y2};
    CHECK(RT_OK, run(k, nin, din, 1, &dy2, ni, ints, 2, fl, in2, out2));
    double e = 0;
    for (int64_t i = 0; i < ny; i++)
        e = fmax(e, fabs(y[i] - y2[i]));
    if (e > 1e-4)
        fprintf(stderr, "conv case (transpose %d, nsp %d, group %d): error %g\n", t->transpose,
                nsp, t->group, e);
    CHECK_TRUE(e <= 1e-4);
    free(x);
    free(w);
    free(b);
    free(y);
    free(x2);
    free(w2);
    free(b2);
    free(y2);
}

/* out = floor((in + 2 * pad - dil * (k - 1) - 1) / st) + 1 */
static int conv_out(int in, int k, int st, int dil, int pad)
{
    return (in + 2 * pad - dil * (k - 1) - 1) / st + 1;
}

static int convt_out(int in, int k, int st, int dil, int pad)
{
    return st * (in - 1) + dil * (k - 1) + 1 - 2 * pad;
}

static void test_conv(void)
{
    /* hand-computed: 1x1x3x3 input 1..9, 2x2 kernel of ones, no padding */
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1}, y[4];
    RtTensorDesc din[2] = {desc(RT_F32, 4, DIMS(1, 1, 3, 3)), desc(RT_F32, 4, DIMS(1, 1, 2, 2))};
    RtTensorDesc dy = desc(RT_F32, 4, DIMS(1, 1, 2, 2));
    int64_t ints[8] = {1, 2, 1, 1, 1, 1, 0, 0};
    const void *in[2] = {x, w};
    void *out[1] = {y};
    CHECK(RT_OK, run(rt_conv, 2, din, 1, &dy, 8, ints, 0, NULL, in, out));
    CHECK_NEAR(12, y[0], 1e-5);
    CHECK_NEAR(16, y[1], 1e-5);
    CHECK_NEAR(24, y[2], 1e-5);
    CHECK_NEAR(28, y[3], 1e-5);

    static const struct {
        int nsp, n, cin, cout, group, bias, in[3], k[3], st[3], dil[3], pad[3];
    } cs[] = {
        {2, 1, 3, 17, 1, 1, {13, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1}},   /* im2col */
        {2, 2, 8, 24, 1, 0, {9, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1}},    /* strided */
        {2, 1, 5, 7, 1, 1, {12, 12}, {3, 2}, {1, 2}, {2, 1}, {2, 0}},    /* dilated */
        {2, 1, 33, 65, 1, 1, {17, 9}, {1, 1}, {1, 1}, {1, 1}, {0, 0}},   /* 1x1 GEMM */
        {2, 1, 16, 8, 1, 1, {8, 8}, {1, 1}, {2, 2}, {1, 1}, {0, 0}},     /* strided 1x1 */
        {2, 2, 8, 12, 4, 1, {7, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}},     /* grouped */
        {2, 1, 6, 6, 6, 1, {11, 13}, {3, 3}, {1, 1}, {1, 1}, {1, 1}},    /* depthwise */
        {2, 1, 4, 8, 4, 0, {10, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1}},    /* depthwise x2 */
        {2, 1, 64, 40, 1, 1, {20, 19}, {3, 3}, {1, 1}, {1, 1}, {1, 1}},  /* K > KC */
        {1, 2, 4, 5, 1, 1, {10}, {3}, {1}, {1}, {1}},                    /* 1-D */
        {3, 1, 3, 4, 1, 1, {5, 6, 7}, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, {1, 0, 1}}, /* 3-D */
    };
    for (unsigned i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        ConvCase t = {0, cs[i].nsp, cs[i].n, cs[i].cin, cs[i].cout, cs[i].group, cs[i].bias,
                      (int)(i & 1), {0}, {0}, {0}, {0}, {0}, {0}};
        for (int a = 0; a < t.nsp; a++) {
            t.in[a] = cs[i].in[a];
            t.k[a] = cs[i].k[a];
            t.st[a] = cs[i].st[a];
            t.dil[a] = cs[i].dil[a];
            t.pad[a] = cs[i].pad[a];
            t.out[a] = conv_out(t.in[a], t.k[a], t.st[a], t.dil[a], t.pad[a]);
        }
        test_conv_case(&t);
        /* the transposed convolution of the same geometry */
        t.transpose = 1;
        for (int a = 0; a < t.nsp; a++)
            t.out[a] = convt_out(t.in[a], t.k[a], t.st[a], t.dil[a], t.pad[a]);
        if (t.out[0] > 0 && t.out[t.nsp - 1] > 0)
            test_conv_case(&t);
    }
}

/* ---- pools ---- */

static void test_pool(void)
{
    /* 4x4 input 0..15, 2x2 windows, stride 2 */
    float x[16], y[4];
    int64_t ind[4];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i;
    RtTensorDesc dx = desc(RT_F32, 4, DIMS(1, 1, 4, 4));
    RtTensorDesc dy[2] = {desc(RT_F32, 4, DIMS(1, 1, 2, 2)), desc(RT_I64, 4, DIMS(1, 1, 2, 2))};
    int64_t ints[14] = {RT_POOL_MAX, 2, 0, 0, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0};
    const void *in[1] = {x};
    void *out[2] = {y, ind};
    CHECK(RT_OK, run(rt_pool, 1, &dx, 2, dy, 14, ints, 0, NULL, in, out));
    CHECK_NEAR(5, y[0], 0);
    CHECK_NEAR(7, y[1], 0);
    CHECK_NEAR(13, y[2], 0);
    CHECK_NEAR(15, y[3], 0);
    CHECK(5, ind[0]);
    CHECK(15, ind[3]);
    ints[3] = 1; /* column-major indices: h + w * H */
    CHECK(RT_OK, run(rt_pool, 1, &dx, 2, dy, 14, ints, 0, NULL, in, out));
    CHECK(1 + 1 * 4, ind[0]);
    CHECK(1 + 3 * 4, ind[1]);

    /* average, 3x3 window, pad 1: a corner averages 4 values, or 9 with padding counted */
    float ya[16];
    RtTensorDesc dya = desc(RT_F32, 4, DIMS(1, 1, 4, 4));
    int64_t ia[14] = {RT_POOL_AVG, 2, 0, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
    void *outa[1] = {ya};
    CHECK(RT_OK, run(rt_pool, 1, &dx, 1, &dya, 14, ia, 0, NULL, in, outa));
    CHECK_NEAR((0 + 1 + 4 + 5) / 4.0, ya[0], 1e-6);
    CHECK_NEAR((0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10) / 9.0, ya[5], 1e-6);
    ia[2] = 1;
    CHECK(RT_OK, run(rt_pool, 1, &dx, 1, &dya, 14, ia, 0, NULL, in, outa));
    CHECK_NEAR((0 + 1 + 4 + 5) / 9.0, ya[0], 1e-6);

    /* global average and max over 2 planes of 8 */
    float gx[16], gy[2];
    for (int i = 0; i < 16; i++)
        gx[i] = (float)(i % 8) + (i >= 8 ? 10 : 0);
    RtTensorDesc dg = desc(RT_F32, 3, DIMS(1, 2, 8)), dgy = desc(RT_F32, 3, DIMS(1, 2, 1));
    int64_t mode = RT_POOL_AVG;
    const void *gin[1] = {gx};
    void *gout[1] = {gy};
    CHECK(RT_OK, run(rt_global_pool, 1, &dg, 1, &dgy, 1, &mode, 0, NULL, gin, gout));
    CHECK_NEAR(3.5, gy[0], 1e-6);
    CHECK_NEAR(13.5, gy[1], 1e-6);
    mode = RT_POOL_MAX;
    CHECK(RT_OK, run(rt_global_pool, 1, &dg, 1, &dgy, 1, &mode, 0, NULL, gin, gout));
    CHECK_NEAR(17, gy[1], 0);
}

/* ---- softmax family, normalizations ---- */

static void test_softmax(void)
{
    float x[6] = {1, 2, 3, 1, 1, 1}, y[6];
    RtTensorDesc dx = desc(RT_F32, 2, DIMS(2, 3));
    int64_t ints[3] = {RT_SOFTMAX, 1, 0};
    const void *in[1] = {x};
    void *out[1] = {y};
    CHECK(RT_OK, run(rt_softmax, 1, &dx, 1, &dx, 3, ints, 0, NULL, in, out));
    double s = exp(1) + exp(2) + exp(3);
    CHECK_NEAR(exp(1) / s, y[0], 1e-6);
    CHECK_NEAR(exp(3) / s, y[2], 1e-6);
    CHECK_NEAR(1 / 3.0, y[4], 1e-6);
    ints[0] = RT_LOG_SOFTMAX;
    CHECK(RT_OK, run(rt_softmax, 1, &dx, 1, &dx, 3, ints, 0, NULL, in, out));
    CHECK_NEAR(2 - log(s), y[1], 1e-5);
    /* along axis 0 (strided), opset 13 semantics */
    ints[0] = RT_SOFTMAX;
    ints[1] = 0;
    CHECK(RT_OK, run(rt_softmax, 1, &dx, 1, &dx, 3, ints, 0, NULL, in, out));
    CHECK_NEAR(exp(3) / (exp(3) + exp(1)), y[2], 1e-6);
    CHECK_NEAR(0.5, y[0], 1e-6);
    /* legacy axis 0 flattens everything into one row */
    ints[2] = 1;
    CHECK(RT_OK, run(rt_softmax, 1, &dx, 1, &dx, 3, ints, 0, NULL, in, out));
    CHECK_NEAR(exp(3) / (s + 3 * exp(1)), y[2], 1e-6);
    ints[0] = RT_HARDMAX;
    ints[1] = 1;
    ints[2] = 0;
    CHECK(RT_OK, run(rt_softmax, 1, &dx, 1, &dx, 3, ints, 0, NULL, in, out));
    CHECK_NEAR(1, y[2], 0);
    CHECK_NEAR(0, y[1], 0);
    CHECK_NEAR(1, y[3], 0); /* ties: the first one */
    CHECK_NEAR(0, y[4], 0);
}

static void test_norms(void)
{
    /* LayerNormalization over the last axis of [2,4] */
    float x[8] = {1, 2, 3, 4, 2, 2, 2, 2}, sc[4] = {1, 1, 2, 2}, b[4] = {0, 0, 0, 1}, y[8];
    float mean[2], inv[2];
    RtTensorDesc din[3] = {desc(RT_F32, 2, DIMS(2, 4)), desc(RT_F32, 1, DIMS(4)),
                           desc(RT_F32, 1, DIMS(4))};
    RtTensorDesc dout[3] = {desc(RT_F32, 2, DIMS(2, 4)), desc(RT_F32, 2, DIMS(2, 1)),
                            desc(RT_F32, 2, DIMS(2, 1))};
    int64_t axis = 1;
    float eps = 0;
    const void *in[3] = {x, sc, b};
    void *out[3] = {y, mean, inv};
    CHECK(RT_OK, run(rt_layernorm, 3, din, 3, dout, 1, &axis, 1, &eps, in, out));
    double sd = sqrt(1.25);
    CHECK_NEAR(2.5, mean[0], 1e-6);
    CHECK_NEAR(1 / sd, inv[0], 1e-5);
    CHECK_NEAR(-1.5 / sd, y[0], 1e-5);
    CHECK_NEAR(2 * 1.5 / sd + 1, y[3], 1e-5);

    /* BatchNormalization, inference: per channel (x - mean) / sqrt(var + eps) * s + b */
    float bx[8] = {1, 2, 3, 4, 5, 6, 7, 8}, s2[2] = {1, 2}, b2[2] = {0, 1}, m2[2] = {1, 2};
    float v2[2] = {4, 1}, by[8], fl[2] = {0, 0.9f};
    RtTensorDesc bd[5] = {desc(RT_F32, 3, DIMS(2, 2, 2)), desc(RT_F32, 1, DIMS(2)),
                          desc(RT_F32, 1, DIMS(2)),
                          desc(RT_F32, 1, DIMS(2)), desc(RT_F32, 1, DIMS(2))};
    int64_t training = 0;
    const void *bin[5] = {bx, s2, b2, m2, v2};
    void *bout[1] = {by};
    CHECK(RT_OK, run(rt_batchnorm, 5, bd, 1, bd, 1, &training, 2, fl, bin, bout));
    CHECK_NEAR(0, by[0], 1e-6);    /* n0 c0: (1 - 1) / 2 */
    CHECK_NEAR(3, by[2], 1e-6);    /* n0 c1: (3 - 2) * 2 + 1 */
    CHECK_NEAR(2, by[4], 1e-6);    /* n1 c0: (5 - 1) / 2 */

    /* InstanceNormalization of one plane [1, 2, 3, 4] */
    RtTensorDesc id[3] = {desc(RT_F32, 3, DIMS(1, 1, 4)), desc(RT_F32, 1, DIMS(1)),
                          desc(RT_F32, 1, DIMS(1))};
    float one = 1, zero = 0, iy[4];
    const void *iin[3] = {x, &one, &zero};
    void *iout[1] = {iy};
    CHECK(RT_OK, run(rt_instancenorm, 3, id, 1, id, 0, NULL, 1, &eps, iin, iout));
    CHECK_NEAR(1.5 / sd, iy[3], 1e-5);
}

/* ---- reductions ---- */

static void test_reduce(void)
{
    float x[24], y[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)(i + 1);
    RtTensorDesc dx = desc(RT_F32, 3, DIMS(2, 3, 4));
    const void *in[1] = {x};
    void *out[1] = {y};
    /* sum over axis 1: y[a][c] = sum_b x[a][b][c] */
    int64_t ints[2] = {RT_REDUCE_SUM, 2};
    RtTensorDesc dy = desc(RT_F32, 2, DIMS(2, 4));
    CHECK(RT_OK, run(rt_reduce, 1, &dx, 1, &dy, 2, ints, 0, NULL, in, out));
    CHECK_NEAR(1 + 5 + 9, y[0], 1e-5);
    CHECK_NEAR(16 + 20 + 24, y[7], 1e-5);
    /* mean over the last axis */
    ints[0] = RT_REDUCE_MEAN;
    ints[1] = 4;
    CHECK(RT_OK, run(rt_reduce, 1, &dx, 1, &dy, 2, ints, 0, NULL, in, out));
    CHECK_NEAR(2.5, y[0], 1e-6);
    CHECK_NEAR(22.5, y[5], 1e-6);
    /* max over axes 0 and 2 */
    ints[0] = RT_REDUCE_MAX;
    ints[1] = 5;
    CHECK(RT_OK, run(rt_reduce, 1, &dx, 1, &dy, 2, ints, 0, NULL, in, out));
    CHECK_NEAR(16, y[0], 0);
    CHECK_NEAR(24, y[2], 0);
    /* L2 over everything */
    ints[0] = RT_REDUCE_L2;
    ints[1] = 7;
    CHECK(RT_OK, run(rt_reduce, 1, &dx, 1, &dy, 2, ints, 0, NULL, in, out));
    CHECK_NEAR(sqrt(24.0 * 25 * 49 / 6), y[0], 1e-3);
    /* an empty reduction gives the identity */
    RtTensorDesc de = desc(RT_F32, 2, DIMS(0, 3)), dye = desc(RT_F32, 1, DIMS(3));
    ints[0] = RT_REDUCE_PROD;
    ints[1] = 1;
    CHECK(RT_OK, run(rt_reduce, 1, &de, 1, &dye, 2, ints, 0, NULL, in, out));
    CHECK_NEAR(1, y[2], 0);
    ints[0] = RT_REDUCE_MAX;
    CHECK(RT_OK, run(rt_reduce, 1, &de, 1, &dye, 2, ints, 0, NULL, in, out));
    CHECK_TRUE(isinf(y[0]) && y[0] < 0);
    /* int32 sum and min, generic path */
    int32_t ix[6] = {3, -1, 4, 1, -5, 9}, iy[3];
    RtTensorDesc dix = desc(RT_I32, 2, DIMS(2, 3)), diy = desc(RT_I32, 1, DIMS(3));
    const void *iin[1] = {ix};
    void *iout[1] = {iy};
    ints[0] = RT_REDUCE_SUM;
    ints[1] = 1;
    CHECK(RT_OK, run(rt_reduce, 1, &dix, 1, &diy, 2, ints, 0, NULL, iin, iout));
    CHECK(4, iy[0]);
    CHECK(-6, iy[1]);
    CHECK(13, iy[2]);
    ints[0] = RT_REDUCE_MIN;
    ints[1] = 2;
    RtTensorDesc diy2 = desc(RT_I32, 1, DIMS(2));
    CHECK(RT_OK, run(rt_reduce, 1, &dix, 1, &diy2, 2, ints, 0, NULL, iin, iout));
    CHECK(-1, iy[0]);
    CHECK(-5, iy[1]);
    /* empty integer Max/Min: the dtype's extremes, not the int64 ones narrowed */
    RtTensorDesc die = desc(RT_I32, 2, DIMS(0, 3));
    ints[0] = RT_REDUCE_MAX;
    ints[1] = 1;
    CHECK(RT_OK, run(rt_reduce, 1, &die, 1, &diy, 2, ints, 0, NULL, iin, iout));
    CHECK(INT32_MIN, iy[0]);
    ints[0] = RT_REDUCE_MIN;
    CHECK(RT_OK, run(rt_reduce, 1, &die, 1, &diy, 2, ints, 0, NULL, iin, iout));
    CHECK(INT32_MAX, iy[2]);
    int8_t i8y[3];
    uint16_t u16y[3];
    RtTensorDesc d8e = desc(RT_I8, 2, DIMS(0, 3)), d8y = desc(RT_I8, 1, DIMS(3));
    RtTensorDesc d16e = desc(RT_U16, 2, DIMS(0, 3)), d16y = desc(RT_U16, 1, DIMS(3));
    void *o8[1] = {i8y}, *o16[1] = {u16y};
    ints[0] = RT_REDUCE_MAX;
    CHECK(RT_OK, run(rt_reduce, 1, &d8e, 1, &d8y, 2, ints, 0, NULL, iin, o8));
    CHECK(-128, i8y[1]);
    CHECK(RT_OK, run(rt_reduce, 1, &d16e, 1, &d16y, 2, ints, 0, NULL, iin, o16));
    CHECK(0, u16y[1]);
    ints[0] = RT_REDUCE_MIN;
    CHECK(RT_OK, run(rt_reduce, 1, &d16e, 1, &d16y, 2, ints, 0, NULL, iin, o16));
    CHECK(65535, u16y[1]);
    /* ArgMax along axis 1 with ties, first and last index */
    float ax[6] = {1, 3, 3, 2, 0, 2};
    int64_t ay[2], ai[3] = {0, 1, 0};
    RtTensorDesc dax = desc(RT_F32, 2, DIMS(2, 3)), day = desc(RT_I64, 1, DIMS(2));
    const void *ain[1] = {ax};
    void *aout[1] = {ay};
    CHECK(RT_OK, run(rt_argmax, 1, &dax, 1, &day, 3, ai, 0, NULL, ain, aout));
    CHECK(1, ay[0]);
    CHECK(0, ay[1]);
    ai[2] = 1;
    CHECK(RT_OK, run(rt_argmax, 1, &dax, 1, &day, 3, ai, 0, NULL, ain, aout));
    CHECK(2, ay[0]);
    CHECK(2, ay[1]);
}

/* rt_lpnorm against x / ||x||_p per lane, and an all-zero lane, whose norm
 * is 0, gives zeros (ONNX's reference), not 0/0 = NaN. Tolerance 1e-6. */
static void test_lpnorm(void)
{
    /* [3, 2] along axis 0: lane 0 is (3, 0, 4), lane 1 all zeros */
    float x[6] = {3, 0, 0, 0, 4, 0}, y[6];
    int64_t dims[2] = {3, 2};
    RtTensorDesc d = desc(RT_F32, 2, dims);
    for (int p = 1; p <= 2; p++) {
        int64_t ints[RT_LPNORM_NINTS] = {0, p};
        const void *in[1] = {x};
        void *out[1] = {y};
        CHECK(RT_OK, run(rt_lpnorm, 1, &d, 1, &d, RT_LPNORM_NINTS, ints, 0, NULL, in, out));
        double norm = p == 1 ? 7.0 : 5.0;
        CHECK_NEAR(3 / norm, y[0], 1e-6);
        CHECK_NEAR(0, y[2], 1e-6);
        CHECK_NEAR(4 / norm, y[4], 1e-6);
        for (int i = 1; i < 6; i += 2) {
            CHECK_TRUE(!isnan(y[i]));
            CHECK_NEAR(0, y[i], 0);
        }
    }
}

/* ReduceMax/ReduceMin of bool (opset 20) against any/all per lane, and the
 * empty reduction's identity (max false, min true). Exact. */
static void test_reduce_bool(void)
{
    /* [3, 4] over axis 0: columns (1,1,1) (0,0,0) (1,0,1) (0,1,0) */
    uint8_t x[12] = {1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0}, y[4];
    int64_t dims[2] = {3, 4}, ydims[1] = {4};
    RtTensorDesc dx = desc(RT_BOOL, 2, dims), dy = desc(RT_BOOL, 1, ydims);
    const void *in[1] = {x};
    void *out[1] = {y};
    for (int k = 0; k < 2; k++) {
        int op = k ? RT_REDUCE_MIN : RT_REDUCE_MAX;
        int64_t ints[2] = {op, 1};
        CHECK(RT_OK, run(rt_reduce, 1, &dx, 1, &dy, 2, ints, 0, NULL, in, out));
        for (int j = 0; j < 4; j++) {
            int any = x[j] | x[4 + j] | x[8 + j], all = x[j] & x[4 + j] & x[8 + j];
            CHECK(op == RT_REDUCE_MAX ? any : all, y[j]);
        }
    }
    /* [0, 4] over axis 0 */
    int64_t edims[2] = {0, 4};
    RtTensorDesc de = desc(RT_BOOL, 2, edims);
    int64_t imax[2] = {RT_REDUCE_MAX, 1}, imin[2] = {RT_REDUCE_MIN, 1};
    CHECK(RT_OK, run(rt_reduce, 1, &de, 1, &dy, 2, imax, 0, NULL, in, out));
    CHECK(0, y[0]);
    CHECK(RT_OK, run(rt_reduce, 1, &de, 1, &dy, 2, imin, 0, NULL, in, out));
    CHECK(1, y[3]);
}

int main(void)
{
    test_sgemm();
    test_matmul();
    test_gemm();
    test_conv();
    test_pool();
    test_softmax();
    test_norms();
    test_lpnorm();
    test_reduce();
    test_reduce_bool();
    return CHECK_DONE();
}
