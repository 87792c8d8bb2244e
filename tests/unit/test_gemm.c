/* test_gemm.c: the GEMM core, epilogues, packed-weight Conv and MatMul/Gemm against float64. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fill.h"
#include "desc.h"
#include "runtime/rt_internal.h"

/* Built once per runtime variant (tests/CMakeLists.txt), compiled with its
 * -march, so the ISA macros here are the runtime's. */

/* The activations as ONNX defines them, in double. */
static double act_ref(double v, int act, double p0, double p1)
{
    switch (act) {
    case RT_EPI_CLAMP: return v < p0 ? p0 : v > p1 ? p1 : v;
    case RT_EPI_LEAKY: return v < 0 ? v * p0 : v;
    case RT_EPI_HARD_SIGMOID: return fmax(0, fmin(1, p0 * v + p1));
    case RT_EPI_HARD_SWISH: return v * fmax(0, fmin(1, v / 6 + 0.5));
    case RT_EPI_SWISH: return v / (1 + exp(-v));
    default: return v;
    }
}

/* Tolerance: float32 accumulation over k products of values in [-1, 1). */
static double tol_for(int64_t k)
{
    return 1e-5 * (double)(k + 8);
}

/* A by callback: the rows of A as "columns" of the virtual K x M matrix A^T. */
typedef struct Src {
    const float *a;
    int64_t ld;
} Src;

static void pack_rows(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr,
                      float *dst)
{
    const Src *s = src;
    rt_gemm_pack_b(kc, nc, s->a + j0 * s->ld + k0, s->ld, 1, nr, dst);
}

static void pack_cols(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr,
                      float *dst)
{
    const Src *s = src;
    rt_gemm_pack_b(kc, nc, s->a + k0 * s->ld + j0, s->ld, 0, nr, dst);
}

/* amode: 0 plain, 1 plain transposed, 2 packed, 3 callback; bmode: 0 callback, 1 packed. */
static void gemm_case(int64_t m, int64_t n, int64_t k, int amode, int bmode, float beta, int act,
                      int with_bias, int with_z, int trans_c)
{
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    float *a = malloc(sizeof(float) * (size_t)(m * k + 1));
    float *at = malloc(sizeof(float) * (size_t)(m * k + 1));
    float *b = malloc(sizeof(float) * (size_t)(k * n + 1));
    float *ap = malloc(sizeof(float) * (size_t)rt_gemm_packed_size(m, k, mr) + 4);
    float *bp = malloc(sizeof(float) * (size_t)rt_gemm_packed_size(n, k, nr) + 4);
    float *c = malloc(sizeof(float) * (size_t)(m * n + 1));
    float *z = malloc(sizeof(float) * (size_t)(m * n + 1));
    float *bias = malloc(sizeof(float) * (size_t)(m + n + 1));
    double *ref = malloc(sizeof(double) * (size_t)(m * n + 1));
    fill(a, m * k, 1);
    fill(b, k * n, 2);
    fill(c, m * n, 3);
    fill(z, m * n, 4);
    fill(bias, m + n, 5);
    for (int64_t i = 0; i < m; i++)
        for (int64_t p = 0; p < k; p++)
            at[p * m + i] = a[i * k + p];
    rt_gemm_pack_a(m, k, a, k, 0, mr, ap);
    rt_gemm_pack_b(k, n, b, n, 0, nr, bp);
    float p0 = act == RT_EPI_CLAMP ? -0.5f : act == RT_EPI_HARD_SIGMOID ? 0.2f : 0.1f;
    float p1 = act == RT_EPI_CLAMP ? 0.75f : 0.5f;
    /* C (m x n) is stored as c[i * n + j], or c[j * m + i] with trans_c */
    int64_t ldc = trans_c ? m : n;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++)
                s += (double)a[i * k + p] * b[p * n + j];
            int64_t o = trans_c ? j * ldc + i : i * ldc + j;
            s = 0.5 * s + (beta == 0 ? 0 : beta * c[o]);
            if (with_bias)
                s += bias[trans_c ? j : i];
            if (with_z)
                s += z[o];
            ref[o] = act_ref(s, act, p0, p1);
        }
    if (beta == 0) /* beta 0 must not read C */
        for (int64_t i = 0; i < m * n; i++)
            c[i] = NAN;
    Src sa = {a, k}, sb = {b, n};
    RtGemmA A = {amode == 1 ? at : a, amode == 1 ? m : k, amode == 1, amode == 2 ? ap : NULL,
                 amode == 3 ? pack_rows : NULL, &sa};
    RtGemmB B = {pack_cols, &sb, bmode ? bp : NULL};
    RtGemmEpi e = {with_bias ? bias : NULL, with_z ? z : NULL, ldc, act, p0, p1, trans_c};
    rt_sgemm_ex(m, n, k, 0.5f, &A, &B, beta, &e, c, ldc);
    double worst = 0;
    for (int64_t i = 0; i < m * n; i++) {
        double d = fabs(c[i] - ref[i]);
        worst = d > worst || isnan(d) ? d : worst;
    }
    CHECK_TRUE(worst <= tol_for(k));
    if (!(worst <= tol_for(k)))
        fprintf(stderr, "  gemm %lldx%lldx%lld a%d b%d beta %g act %d bias %d z %d tc %d: %g\n",
                (long long)m, (long long)n, (long long)k, amode, bmode, beta, act, with_bias,
                with_z, trans_c, worst);
    free(a), free(at), free(b), free(ap), free(bp), free(c), free(z), free(bias), free(ref);
}

static void test_gemm(void)
{
    static const int64_t shapes[][3] = {
        {1, 1, 1},    {3, 5, 7},     {14, 32, 16},  {15, 33, 300}, {29, 49, 64},
        {6, 16, 513}, {64, 100, 40}, {100, 7, 260}, {13, 200, 3},  {90, 97, 600},
    };
    int count = 0;
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int amode = 0; amode < 4; amode++)
            for (int bmode = 0; bmode < 2; bmode++, count++) {
                float beta = count % 3 == 0 ? 0 : count % 3 == 1 ? 1 : 0.5f;
                int act = count % 6; /* RT_EPI_NONE .. RT_EPI_SWISH */
                gemm_case(shapes[s][0], shapes[s][1], shapes[s][2], amode, bmode, beta, act,
                          count & 1, (count >> 1) & 1, (count >> 2) & 1);
            }
    /* K == 0: the epilogue alone */
    gemm_case(5, 9, 0, 0, 0, 0.5f, RT_EPI_CLAMP, 1, 1, 0);
    gemm_case(5, 9, 0, 0, 0, 0, RT_EPI_LEAKY, 1, 1, 1);
}

/* The tile the compiler packs for is this runtime's. */
static void test_tile(void)
{
    int mr, nr, emr, enr;
    rt_gemm_tile(&mr, &nr);
#if defined(__AVX512F__)
    int avx512 = 1;
#else
    int avx512 = 0;
#endif
#if defined(__AVX2__) && defined(__FMA__)
    int avx2 = 1;
#else
    int avx2 = 0;
#endif
#if defined(__AVX__)
    int avx = 1;
#else
    int avx = 0;
#endif
    rt_gemm_tile_for(avx512, avx2, avx, &emr, &enr);
    CHECK(emr, mr);
    CHECK(enr, nr);
}

/* ---- Conv with packed weights, fused activations and the sum input ---- */

typedef struct ConvCase {
    int c, m, groups, h, w, k, s, pad;
    int act, with_z;
} ConvCase;

static void conv_ref(const ConvCase *cc, int oh, int ow, const float *x, const float *w,
                     const float *bias, const float *z, float p0, float p1, double *y)
{
    int cin = cc->c / cc->groups, cout = cc->m / cc->groups;
    for (int g = 0; g < cc->groups; g++)
        for (int mo = 0; mo < cout; mo++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    int m = g * cout + mo;
                    double s = bias[m];
                    for (int ci = 0; ci < cin; ci++)
                        for (int u = 0; u < cc->k; u++)
                            for (int v = 0; v < cc->k; v++) {
                                int ih = i * cc->s - cc->pad + u, iw = j * cc->s - cc->pad + v;
                                if (ih < 0 || ih >= cc->h || iw < 0 || iw >= cc->w)
                                    continue;
                                s += (double)x[((g * cin + ci) * cc->h + ih) * cc->w + iw] *
                                     w[((m * cin + ci) * cc->k + u) * cc->k + v];
                            }
                    int64_t o = ((int64_t)m * oh + i) * ow + j;
                    if (z)
                        s += z[o];
                    y[o] = act_ref(s, cc->act, p0, p1);
                }
}

/* pack: 0 none, 1 as A (tile rows), 2 as B of the transposed product. */
static void conv_case(const ConvCase *cc, int pack)
{
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    int oh = (cc->h + 2 * cc->pad - cc->k) / cc->s + 1;
    int ow = (cc->w + 2 * cc->pad - cc->k) / cc->s + 1;
    int cin = cc->c / cc->groups, cout = cc->m / cc->groups;
    int64_t kdim = (int64_t)cin * cc->k * cc->k, ny = (int64_t)cc->m * oh * ow;
    int tile = pack == 2 ? nr : mr;
    int64_t rows = (cout + tile - 1) / tile * tile;
    float *x = malloc(sizeof(float) * (size_t)cc->c * cc->h * cc->w);
    float *w = malloc(sizeof(float) * (size_t)(cc->m * kdim));
    float *wp = calloc((size_t)(cc->groups * rows * kdim), sizeof(float));
    float *bias = malloc(sizeof(float) * (size_t)cc->m);
    float *z = malloc(sizeof(float) * (size_t)ny);
    float *y = malloc(sizeof(float) * (size_t)ny);
    double *ref = malloc(sizeof(double) * (size_t)ny);
    fill(x, (int64_t)cc->c * cc->h * cc->w, 11);
    fill(w, cc->m * kdim, 12);
    fill(bias, cc->m, 13);
    fill(z, ny, 14);
    for (int g = 0; g < cc->groups; g++) {
        if (pack == 1)
            rt_gemm_pack_a(cout, kdim, w + g * cout * kdim, kdim, 0, mr, wp + g * rows * kdim);
        else if (pack == 2)
            rt_gemm_pack_b(kdim, cout, w + g * cout * kdim, kdim, 1, nr, wp + g * rows * kdim);
    }
    float p0 = cc->act == RT_EPI_CLAMP ? 0 : 0.2f, p1 = cc->act == RT_EPI_CLAMP ? 6 : 0.5f;
    conv_ref(cc, oh, ow, x, w, bias, cc->with_z ? z : NULL, p0, p1, ref);
    RtTensorDesc in[4] = {
        desc(RT_F32, 4, DIMS(1, cc->c, cc->h, cc->w)),
        desc(RT_F32, 4, DIMS(pack ? cc->groups * rows : cc->m, cin, cc->k, cc->k)),
        desc1(RT_F32, cc->m), desc(RT_F32, 4, DIMS(1, cc->m, oh, ow))};
    RtTensorDesc out = desc(RT_F32, 4, DIMS(1, cc->m, oh, ow));
    int64_t ints[] = {cc->groups, 2, cc->s, cc->s, 1, 1, cc->pad, cc->pad, cc->act,
                      pack ? tile : 0, pack == 2};
    float floats[] = {p0, p1};
    RtCall c = call(cc->with_z ? 4 : 3, in, 1, &out, 11, ints, 2, floats);
    const void *ins[4] = {x, pack ? wp : w, bias, z};
    void *outs[1] = {y};
    CHECK(RT_OK, rt_conv(&c, ins, outs));
    double worst = 0;
    for (int64_t i = 0; i < ny; i++) {
        double d = fabs(y[i] - ref[i]);
        worst = d > worst || isnan(d) ? d : worst;
    }
    CHECK_TRUE(worst <= tol_for(kdim));
    if (!(worst <= tol_for(kdim)))
        fprintf(stderr, "  conv %d->%d g%d %dx%d k%d s%d pack %d act %d z %d: err %g\n", cc->c,
                cc->m, cc->groups, cc->h, cc->w, cc->k, cc->s, pack, cc->act, cc->with_z, worst);
    if (pack) {
        /* weights packed for another tile are refused, never misread */
        ints[9] = tile + 1;
        CHECK(RT_EINVAL, rt_conv(&c, ins, outs));
    }
    free(x), free(w), free(wp), free(bias), free(z), free(y), free(ref);
}

static void test_conv(void)
{
    static const ConvCase cases[] = {
        {16, 64, 1, 9, 9, 3, 1, 1, RT_EPI_CLAMP, 1},  {8, 40, 1, 7, 7, 3, 1, 1, RT_EPI_NONE, 0},
        {32, 96, 1, 7, 7, 3, 1, 1, RT_EPI_LEAKY, 1},
        {12, 30, 2, 10, 8, 3, 2, 1, RT_EPI_HARD_SWISH, 1},
        {24, 48, 1, 6, 6, 1, 1, 0, RT_EPI_SWISH, 0},
        {24, 64, 1, 5, 5, 1, 1, 0, RT_EPI_HARD_SIGMOID, 1},
        {6, 20, 1, 20, 20, 5, 2, 2, RT_EPI_CLAMP, 0}, {4, 8, 4, 6, 6, 3, 1, 1, RT_EPI_LEAKY, 1},
        {16, 64, 1, 3, 3, 3, 1, 1, RT_EPI_SWISH, 1}, /* 9 pixels: computed transposed */
        {8, 8, 8, 9, 9, 3, 2, 1, RT_EPI_HARD_SWISH, 1}, {8, 16, 4, 6, 6, 3, 1, 1, RT_EPI_CLAMP, 1},
        /* one pixel (squeeze-excite): packed, a matrix-vector product */
        {72, 40, 1, 1, 1, 1, 1, 0, RT_EPI_HARD_SIGMOID, 1},
        {16, 48, 1, 1, 1, 3, 1, 1, RT_EPI_CLAMP, 0},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int pack = 0; pack < 3; pack++)
            if (cases[i].c > cases[i].groups || !pack) /* depthwise: direct kernels, unpacked */
                conv_case(&cases[i], pack);
}

/* ---- MatMul and Gemm with B packed at compile time (RT_MATMUL_PACK, RT_GEMM_PACK) ---- */

/* MatMul [batch, m, k] x packed [k, n]; K past one KC block (256), n not a
 * multiple of the panel, m = 1 (the GEMV shape). */
static void matmul_case(int batch, int m, int k, int n)
{
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    int64_t rows = (int64_t)batch * m, np = (n + nr - 1) / nr * nr;
    float *a = malloc(sizeof(float) * (size_t)(rows * k));
    float *b = malloc(sizeof(float) * (size_t)(k * n));
    float *bp = malloc(sizeof(float) * (size_t)(k * np));
    float *y = malloc(sizeof(float) * (size_t)(rows * n));
    fill(a, rows * k, 41);
    fill(b, (int64_t)k * n, 42);
    rt_gemm_pack_b(k, n, b, n, 0, nr, bp);
    for (int64_t i = 0; i < rows * n; i++)
        y[i] = NAN; /* every output must be written */
    RtTensorDesc in[2] = {desc(RT_F32, 3, DIMS(batch, m, k)), desc(RT_F32, 2, DIMS(k, np))};
    RtTensorDesc out = desc(RT_F32, 3, DIMS(batch, m, n));
    int64_t ints[1] = {nr};
    RtCall c = call(2, in, 1, &out, 1, ints, 0, NULL);
    const void *ins[2] = {a, bp};
    void *outs[1] = {y};
    CHECK(RT_OK, rt_matmul(&c, ins, outs));
    double worst = 0;
    for (int64_t i = 0; i < rows; i++)
        for (int j = 0; j < n; j++) {
            double r = 0;
            for (int p = 0; p < k; p++)
                r += (double)a[i * k + p] * b[p * n + j];
            double d = fabs(y[i * n + j] - r);
            worst = d > worst || isnan(d) ? d : worst;
        }
    CHECK_NEAR(0, worst, tol_for(k));
    /* packed for another panel width, or a descriptor of the wrong width: refused */
    ints[0] = nr * 2;
    CHECK(RT_EINVAL, rt_matmul(&c, ins, outs));
    ints[0] = nr;
    in[1].dims[1] = np + nr;
    CHECK(RT_EINVAL, rt_matmul(&c, ins, outs));
    free(a);
    free(b);
    free(bp);
    free(y);
}

/* Gemm m x k (transA: stored k x m) times packed B, alpha, and C as none, a
 * row vector (the epilogue's sum input), a full matrix or a column, beta. */
static void op_gemm_case(int m, int k, int n, int trans_a, int cmode, float alpha, float beta)
{
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    int64_t np = (n + nr - 1) / nr * nr;
    float *a = malloc(sizeof(float) * (size_t)(m * k));
    float *b = malloc(sizeof(float) * (size_t)(k * n));
    float *bp = malloc(sizeof(float) * (size_t)(k * np));
    float *y = malloc(sizeof(float) * (size_t)(m * n));
    float *cc = malloc(sizeof(float) * (size_t)(m * n));
    fill(a, (int64_t)m * k, 51);
    fill(b, (int64_t)k * n, 52);
    fill(cc, (int64_t)m * n, 53);
    rt_gemm_pack_b(k, n, b, n, 0, nr, bp);
    for (int64_t i = 0; i < (int64_t)m * n; i++)
        y[i] = NAN;
    RtTensorDesc in[3] = {desc(RT_F32, 2, trans_a ? DIMS(k, m) : DIMS(m, k)),
                          desc(RT_F32, 2, DIMS(k, np)),
                          cmode == 1 ? desc(RT_F32, 1, DIMS(n))
                          : cmode == 2 ? desc(RT_F32, 2, DIMS(m, n))
                                       : desc(RT_F32, 2, DIMS(m, 1))};
    RtTensorDesc out = desc(RT_F32, 2, DIMS(m, n));
    int64_t ints[3] = {trans_a, 0, nr};
    float fl[2] = {alpha, beta};
    RtCall c = call(cmode ? 3 : 2, in, 1, &out, 3, ints, 2, fl);
    const void *ins[3] = {a, bp, cc};
    void *outs[1] = {y};
    CHECK(RT_OK, rt_gemm(&c, ins, outs));
    double worst = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double r = 0;
            for (int p = 0; p < k; p++)
                r += (double)(trans_a ? a[p * m + i] : a[i * k + p]) * b[p * n + j];
            r *= alpha;
            if (cmode)
                r += beta * (double)cc[cmode == 1 ? j : cmode == 2 ? i * n + j : i];
            double d = fabs(y[i * n + j] - r);
            worst = d > worst || isnan(d) ? d : worst;
        }
    if (worst > tol_for(k))
        fprintf(stderr, "  gemm %dx%dx%d transA %d C %d alpha %g beta %g: err %g\n", m, k, n,
                trans_a, cmode, alpha, beta, worst);
    CHECK_NEAR(0, worst, tol_for(k));
    ints[1] = 1; /* a packed B has no transposed form */
    CHECK(RT_EINVAL, rt_gemm(&c, ins, outs));
    free(a);
    free(b);
    free(bp);
    free(y);
    free(cc);
}

/* The swish epilogue (division-free) against x / (1 + e^-x) in double over
 * [-100, 100], both tails and the special values: 4e-7 relative (a few ulp),
 * plus 2e-36 absolute: below x = -87 (|x| e^x < 1.4e-36) it returns -0. */
static void test_swish(void)
{
    enum { N = 4003 };
    static float y[N + 3];
    for (int i = 0; i < N; i++)
        y[i] = -100.0f + 200.0f * (float)i / (N - 1);
    y[N] = NAN;
    y[N + 1] = INFINITY;
    y[N + 2] = -INFINITY;
    float x[N + 3];
    memcpy(x, y, sizeof x);
    rt_epi_apply(y, NULL, N + 3, RT_EPI_SWISH, 0, 0);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double r = x[i] / (1.0 + exp(-(double)x[i]));
        double d = fmax(fabs(y[i] - r) - 2e-36, 0) / (fabs(r) + 1e-300);
        worst = d > worst || isnan(d) ? d : worst;
    }
    CHECK_NEAR(0, worst, 4e-7);
    CHECK_TRUE(isnan(y[N]));
    CHECK_TRUE(isinf(y[N + 1]) && y[N + 1] > 0);
    CHECK_TRUE(isnan(y[N + 2])); /* -inf * sigmoid(-inf) = -inf * 0 */
    /* every length up to three vectors: the whole-vector loop, the masked
     * (AVX-512) or scalar tail, each lane against the value libm's expf
     * gives in double; 4e-7 relative is under 4 ulp (rt_vmath.h states 3
     * on AVX-512, 5 on AVX2 near 1 ulp of 2^-24 each) */
    double worst_len = 0;
    for (int n = 1; n <= 49; n++) {
        float v[49], u[49];
        for (int i = 0; i < n; i++)
            v[i] = u[i] = -20.0f + 0.83f * (float)i + 0.01f * (float)n;
        rt_epi_apply(v, NULL, n, RT_EPI_SWISH, 0, 0);
        for (int i = 0; i < n; i++) {
            double r = u[i] / (1.0 + (double)expf(-u[i]));
            double d = fabs(v[i] - r) / (fabs(r) + 1e-300);
            worst_len = d > worst_len || isnan(d) ? d : worst_len;
        }
    }
    fprintf(stderr, "swish: worst relative error %.3g over lengths 1..49\n", worst_len);
    CHECK_NEAR(0, worst_len, 4e-7);
}

static void test_packed_mm(void)
{
    matmul_case(1, 1, 300, 70);
    matmul_case(3, 5, 64, 33);
    matmul_case(1, 50, 520, 96);
    matmul_case(2, 17, 8, 8);
    for (int cmode = 0; cmode < 4; cmode++)
        for (int ta = 0; ta < 2; ta++) {
            op_gemm_case(1, 300, 100, ta, cmode, 1, 1);
            op_gemm_case(23, 40, 45, ta, cmode, 0.5f, cmode == 1 ? 1 : 2);
        }
    op_gemm_case(9, 270, 64, 0, 1, 1, 0.25f); /* a row C, beta != 1: copied, not the epilogue */
}

int main(void)
{
    test_tile();
    test_gemm();
    test_conv();
    test_packed_mm();
    test_swish();
    return CHECK_DONE();
}
