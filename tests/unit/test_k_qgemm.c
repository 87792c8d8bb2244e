/* test_k_qgemm.c: the int8 GEMM of the runtime build it links, bit for bit against a plain int64 reference. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "k_qgemm.h"
#include "onnxcc_rt.h"

#if defined(QG_NEED_AVXVNNI)
#include <cpuid.h>
#endif

static uint32_t seed = 12345;
static int rnd(int lo, int hi)
{
    seed = seed * 1103515245u + 12345u;
    return lo + (int)((seed >> 8) % (uint32_t)(hi - lo + 1));
}

/* The requantizing store as k_qgemm.h states it, from the exact int64 sum. */
static void ref_store(int64_t acc, float m, const RtQgemmEpi *e, void *y, int64_t o)
{
    int32_t a = (int32_t)acc;
    if (e->out == RT_I32) {
        ((int32_t *)y)[o] = a;
        return;
    }
    float v = (float)a * m;
    if (e->out == RT_F32) {
        ((float *)y)[o] = fminf(fmaxf(v, e->lo), e->hi);
        return;
    }
    v = fminf(fmaxf(rintf(v) + e->yz, e->lo), e->hi);
    if (e->out == RT_U8)
        ((uint8_t *)y)[o] = (uint8_t)(int)v;
    else
        ((int8_t *)y)[o] = (int8_t)(int)v;
}

static int elem(const void *p, int dt, int64_t i)
{
    return dt == RT_U8 ? ((const uint8_t *)p)[i] : ((const int8_t *)p)[i];
}

/* One product: rows x k weights (wdt), n columns of activations (xdt, each
 * a row of k bytes), through the packers and rt_qgemm_block, compared with
 * the reference for every output type. Returns the number of mismatches. */
static int one_case(int rows, int k, int n, int wdt, int xdt, int wz_on, int ldc_rows, int gemv)
{
    int64_t kp = rt_qgemm_kpad(k);
    uint8_t *w = malloc((size_t)rows * k), *x = malloc((size_t)RT_QG_COLS * k);
    int8_t *wp = malloc((size_t)(rows * kp));
    uint8_t *xb = malloc((size_t)(kp * RT_QG_COLS));
    int32_t *wsum = malloc(sizeof(int32_t) * rows), *rowc = malloc(sizeof(int32_t) * rows);
    int32_t *wz = malloc(sizeof(int32_t) * rows), *wzp = malloc(sizeof(int32_t) * rows);
    int32_t *bias = malloc(sizeof(int32_t) * rows), xsum[RT_QG_COLS];
    float *mult = malloc(sizeof(float) * rows);
    int64_t ny = (int64_t)rows * RT_QG_COLS;
    int32_t *y = malloc(sizeof(int32_t) * ny), *yr = malloc(sizeof(int32_t) * ny);
    for (int i = 0; i < rows * k; i++)
        w[i] = (uint8_t)rnd(0, 255);
    for (int i = 0; i < RT_QG_COLS * k; i++)
        x[i] = (uint8_t)rnd(0, 255);
    int xz = xdt == RT_U8 ? rnd(0, 255) : rnd(-128, 127);
    int shift = rt_qgemm_pack_w(rows, k, w, wdt, k, 1, wp, wsum);
    CHECK(wdt == RT_U8 ? 128 : 0, shift);
    int xzp = xdt == RT_U8 ? xz : xz + 128;
    for (int r = 0; r < rows; r++) {
        wz[r] = !wz_on ? 0 : wdt == RT_U8 ? rnd(0, 255) : rnd(-128, 127);
        wzp[r] = wz[r] - shift;
        bias[r] = rnd(-20000, 20000);
        mult[r] = (float)rnd(1, 1000) / 400000.0f;
        rowc[r] = rt_qgemm_rowc(kp, xzp, wzp[r], wsum[r], bias[r]);
    }
    /* uint8 weights keep a packed zero point of wz - 128 even when wz is 0 */
    int need_wz = wz_on || shift;
    rt_qgemm_pack_x_rows(x, xdt, k, k, n, (uint8_t)xzp, xb, need_wz ? xsum : NULL);
    int bad = 0;
    static const int outs[4] = {RT_U8, RT_I8, RT_F32, RT_I32};
    for (int t = 0; t < 4; t++) {
        RtQgemmEpi e = {rowc, need_wz ? wzp : NULL, mult, 0, 0, 0, outs[t]};
        if (outs[t] == RT_U8) {
            e.yz = 7;
            e.lo = 7; /* a fused Relu: nothing below the zero point */
            e.hi = 255;
        } else if (outs[t] == RT_I8) {
            e.yz = -3;
            e.lo = -128;
            e.hi = 127;
        } else {
            e.lo = -INFINITY;
            e.hi = INFINITY;
        }
        /* y as [rows][n] (a conv's channels x pixels) or [n][rows] (a MatMul's) */
        int64_t ldr = ldc_rows ? 1 : n, ldc = ldc_rows ? rows : 1;
        memset(y, 0x5a, sizeof(int32_t) * ny);
        memset(yr, 0x5a, sizeof(int32_t) * ny);
        if (gemv) { /* one column, contiguous: x's first row re-coded, padded with xz */
            uint8_t *xv = malloc((size_t)kp);
            int32_t s = 0;
            for (int64_t i = 0; i < kp; i++) {
                xv[i] = i < k ? (uint8_t)(x[i] ^ (xdt == RT_I8 ? 0x80 : 0)) : (uint8_t)xzp;
                s += xv[i];
            }
            rt_qgemm_gemv(wp, kp, 0, rows, xv, s, &e, y, ldr, ldc);
            free(xv);
        } else {
            rt_qgemm_block(wp, kp, 0, rows, xb, xsum, n, &e, y, ldr, ldc);
        }
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < n; c++) {
                int64_t acc = bias[r];
                for (int i = 0; i < k; i++)
                    acc += (int64_t)(elem(x, xdt, (int64_t)c * k + i) - xz) *
                           (elem(w, wdt, (int64_t)r * k + i) - wz[r]);
                ref_store(acc, mult[r], &e, yr, r * ldr + c * ldc);
            }
        size_t bytes = (size_t)(outs[t] == RT_U8 || outs[t] == RT_I8 ? 1 : 4) * (size_t)ny;
        if (memcmp(y, yr, bytes)) {
            bad++;
            fprintf(stderr, "rows %d k %d n %d w %d x %d wz %d out %d: differs\n", rows, k, n,
                    wdt, xdt, wz_on, outs[t]);
        }
    }
    free(w), free(x), free(wp), free(xb), free(wsum), free(rowc), free(wz), free(wzp);
    free(bias), free(mult), free(y), free(yr);
    return bad;
}

/* The reference is not vacuous: a hand-checked product. */
static void test_small(void)
{
    int8_t w[2] = {3, -2}, wp[8];
    uint8_t x[2] = {10, 20}, xb[4 * RT_QG_COLS];
    int32_t wsum[1], rowc[1], y[1];
    float mult[1] = {1};
    rt_qgemm_pack_w(1, 2, w, RT_I8, 2, 1, wp, wsum);
    CHECK(1, wsum[0]);
    rt_qgemm_pack_x_rows(x, RT_U8, 2, 2, 1, 5, xb, NULL);
    rowc[0] = rt_qgemm_rowc(4, 5, 0, wsum[0], 100);
    RtQgemmEpi e = {rowc, NULL, mult, 0, 0, 0, RT_I32};
    rt_qgemm_block(wp, 4, 0, 1, xb, NULL, 1, &e, y, 1, 1);
    CHECK((10 - 5) * 3 + (20 - 5) * -2 + 100, y[0]);
}

/* ---- rt_qconv (im2col into the GEMM) against a direct convolution ---- */
/* (not in the AVX-VNNI build, which compiles k_qgemm.c alone) */
#if !defined(QG_NEED_AVXVNNI)

typedef struct QcCase {
    int64_t n, c, m, h, w, kh, kw, stride, pad, dil, group;
    int xdt, korder, wz_on;
} QcCase;

/* Packs ONNX-ordered int8 weights [m][cg * kh * kw] into the row order
 * korder names (RT_QCONV_K_C4: k = (c / 4, tap, c % 4)). */
static void pack_conv_w(const QcCase *t, const int8_t *w, int8_t *wp, int32_t *wsum)
{
    int64_t cg = t->c / t->group, win = t->kh * t->kw, k = cg * win, kr = k;
    if (t->korder == RT_QCONV_K_C4) /* channels rounded up to 4, weights 0 */
        k = (cg + 3) / 4 * 4 * win;
    int8_t *wr = calloc((size_t)(t->m * k), 1);
    for (int64_t r = 0; r < t->m; r++)
        for (int64_t ci = 0; ci < cg; ci++)
            for (int64_t tap = 0; tap < win; tap++) {
                int64_t at = t->korder == RT_QCONV_K_C4 ? ((ci / 4) * win + tap) * 4 + ci % 4
                                                        : ci * win + tap;
                wr[r * k + at] = w[r * kr + ci * win + tap];
            }
    rt_qgemm_pack_w(t->m, k, wr, RT_I8, k, 1, wp, wsum);
    free(wr);
}

/* One convolution through rt_qconv for uint8 and float32 outputs; returns
 * the count of outputs that differ from the reference's bits. */
static int qconv_case(const QcCase *t)
{
    int64_t cg = t->c / t->group, mg = t->m / t->group, k = cg * t->kh * t->kw;
    int64_t kp = t->korder == RT_QCONV_K_C4 ? (cg + 3) / 4 * 4 * t->kh * t->kw
                                            : rt_qgemm_kpad(k);
    int64_t oh = (t->h + 2 * t->pad - (t->kh - 1) * t->dil - 1) / t->stride + 1;
    int64_t ow = (t->w + 2 * t->pad - (t->kw - 1) * t->dil - 1) / t->stride + 1;
    int64_t nx = t->n * t->c * t->h * t->w, ny = t->n * t->m * oh * ow;
    uint8_t *x = malloc((size_t)nx);
    int8_t *w = malloc((size_t)(t->m * k)), *wp = malloc((size_t)(t->m * kp));
    int32_t *wsum = malloc(sizeof(int32_t) * (size_t)t->m);
    int32_t *rowc = malloc(sizeof(int32_t) * (size_t)t->m);
    int32_t *wz = malloc(sizeof(int32_t) * (size_t)t->m);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)t->m);
    float *mult = malloc(sizeof(float) * (size_t)t->m);
    int32_t *y = malloc(sizeof(int32_t) * (size_t)ny), *yr = malloc(sizeof(int32_t) * (size_t)ny);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (uint8_t)rnd(0, 255);
    for (int64_t i = 0; i < t->m * k; i++)
        w[i] = (int8_t)rnd(-128, 127);
    pack_conv_w(t, w, wp, wsum);
    int xz = t->xdt == RT_U8 ? rnd(0, 255) : rnd(-128, 127);
    int xzp = t->xdt == RT_U8 ? xz : xz + 128;
    for (int64_t r = 0; r < t->m; r++) {
        wz[r] = t->wz_on ? rnd(-128, 127) : 0;
        bias[r] = rnd(-20000, 20000);
        mult[r] = (float)rnd(1, 1000) / 400000.0f;
        rowc[r] = rt_qgemm_rowc(kp, xzp, wz[r], wsum[r], bias[r]);
    }
    int64_t ints[RT_QCONV_NINTS] = {0};
    ints[RT_CONV_INT_GROUP] = t->group;
    ints[RT_CONV_INT_PAD_TOP] = ints[RT_CONV_INT_PAD_LEFT] = t->pad;
    ints[RT_CONV_INT_STRIDE_H] = ints[RT_CONV_INT_STRIDE_W] = t->stride;
    ints[RT_CONV_INT_DIL_H] = ints[RT_CONV_INT_DIL_W] = t->dil;
    ints[RT_QCONV_KH] = t->kh;
    ints[RT_QCONV_KW] = t->kw;
    ints[RT_QCONV_XZ] = xzp;
    ints[RT_QCONV_KORDER] = t->korder;
    int bad = 0;
    static const int outs[2] = {RT_U8, RT_F32};
    for (int o = 0; o < 2; o++) {
        float fl[RT_QG_NFLOATS] = {5, 5, 255}; /* uint8: zero point 5 and a fused Relu */
        if (outs[o] == RT_F32)
            fl[0] = 0, fl[1] = -INFINITY, fl[2] = INFINITY;
        RtQgemmEpi e = {rowc, t->wz_on ? wz : NULL, mult, fl[0], fl[1], fl[2], outs[o]};
        RtTensorDesc in[5] = {desc(t->xdt, 4, DIMS(t->n, t->c, t->h, t->w)),
                              desc(RT_I8, 2, DIMS(t->m, kp)), desc1(RT_I32, t->m),
                              desc1(RT_F32, t->m), desc1(RT_I32, t->m)};
        RtTensorDesc od = desc(outs[o], 4, DIMS(t->n, t->m, oh, ow));
        RtCall c = call(t->wz_on ? 5 : 4, in, 1, &od, RT_QCONV_NINTS, ints, RT_QG_NFLOATS, fl);
        const void *ip[5] = {x, wp, rowc, mult, wz};
        void *op[1] = {y};
        CHECK(RT_OK, rt_qconv(&c, ip, op));
        for (int64_t b = 0; b < t->n; b++)
            for (int64_t oc = 0; oc < t->m; oc++)
                for (int64_t py = 0; py < oh; py++)
                    for (int64_t px = 0; px < ow; px++) {
                        int64_t acc = bias[oc], g = oc / mg;
                        for (int64_t ci = 0; ci < cg; ci++)
                            for (int64_t ky = 0; ky < t->kh; ky++)
                                for (int64_t kx = 0; kx < t->kw; kx++) {
                                    int64_t iy = py * t->stride - t->pad + ky * t->dil;
                                    int64_t ix = px * t->stride - t->pad + kx * t->dil;
                                    if (iy < 0 || iy >= t->h || ix < 0 || ix >= t->w)
                                        continue;
                                    int64_t xi = ((b * t->c + g * cg + ci) * t->h + iy) * t->w + ix;
                                    int64_t wv =
                                        w[((oc * cg + ci) * t->kh + ky) * t->kw + kx];
                                    acc += (elem(x, t->xdt, xi) - xz) * (wv - wz[oc]);
                                }
                        ref_store(acc, mult[oc], &e, yr, ((b * t->m + oc) * oh + py) * ow + px);
                    }
        size_t bytes = (size_t)(outs[o] == RT_U8 ? 1 : 4) * (size_t)ny;
        if (memcmp(y, yr, bytes)) {
            bad++;
            fprintf(stderr,
                    "qconv c %lld m %lld %lldx%lld k %lldx%lld s %lld p %lld d %lld g %lld "
                    "x %d order %d out %d: differs\n",
                    (long long)t->c, (long long)t->m, (long long)t->h, (long long)t->w,
                    (long long)t->kh, (long long)t->kw, (long long)t->stride, (long long)t->pad,
                    (long long)t->dil, (long long)t->group, t->xdt, t->korder, outs[o]);
        }
    }
    free(x), free(w), free(wp), free(wsum), free(rowc), free(wz), free(bias), free(mult);
    free(y), free(yr);
    return bad;
}

static void test_qconv(void)
{
    enum { U = RT_U8, S = RT_I8, O = RT_QCONV_K_CHW, F = RT_QCONV_K_C4 };
    static const QcCase cases[] = {
        /* n, c, m, h, w, kh, kw, stride, pad, dil, group, x, order, wz */
        {2, 8, 16, 10, 10, 3, 3, 1, 1, 1, 1, U, F, 0},   /* resnet's 3x3 */
        {2, 8, 16, 10, 10, 3, 3, 1, 1, 1, 1, U, O, 0},
        {1, 16, 8, 11, 13, 3, 3, 2, 1, 1, 1, S, F, 0},   /* stride 2 */
        {1, 16, 8, 11, 13, 3, 3, 2, 1, 1, 1, S, O, 1},
        {1, 8, 12, 9, 9, 1, 1, 2, 0, 1, 1, U, F, 1},     /* the 1x1 downsample */
        {1, 12, 12, 35, 7, 1, 1, 1, 0, 1, 1, U, F, 0},   /* 1x1 stride 1, runs across rows */
        {1, 32, 16, 7, 7, 3, 3, 1, 1, 1, 1, U, F, 0},    /* layer4's 7x7: 32 + 16 + a dot */
        {1, 16, 24, 14, 14, 3, 3, 1, 1, 1, 1, S, F, 0},  /* layer3's 14x14: 6 blocks + 4 dots */
        {1, 4, 6, 13, 12, 3, 3, 3, 2, 2, 1, S, F, 0},    /* stride 3, dilation 2 */
        {1, 3, 8, 20, 20, 7, 7, 2, 3, 1, 1, U, O, 0},    /* the stem */
        {2, 3, 8, 20, 21, 7, 7, 2, 3, 1, 1, U, F, 1},    /* the stem, RGB padded to 4 */
        {1, 6, 5, 9, 40, 3, 3, 2, 1, 1, 1, S, F, 0},     /* 6 channels padded to 8 */
        {1, 8, 6, 9, 10, 3, 3, 1, 1, 1, 2, U, O, 0},     /* groups */
        {1, 6, 6, 9, 10, 3, 3, 1, 1, 1, 6, S, O, 1},     /* depthwise */
        /* inputs above the padded copy's 1 MB: the bounds-checked im2col */
        {1, 64, 4, 130, 130, 3, 3, 1, 1, 1, 1, U, F, 0},
        {1, 64, 4, 130, 130, 3, 3, 2, 1, 1, 1, S, O, 0},
        {1, 63, 4, 130, 130, 3, 3, 2, 1, 1, 1, U, F, 1},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        bad += qconv_case(&cases[i]);
    CHECK(0, bad);
}
#endif

int main(void)
{
    printf("int8 GEMM path: %s\n", rt_qgemm_path());
#if defined(QG_NEED_AVXVNNI)
    /* CPUID.(7,1):EAX bit 4; without it the path cannot run: skipped (77), not passed */
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a & (1u << 4))) {
        printf("this CPU has no AVX-VNNI\n");
        return 77;
    }
#endif
#if defined(QG_EXPECT)
    CHECK_TRUE(!strcmp(rt_qgemm_path(), QG_EXPECT));
#endif
    test_small();
    static const int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {8, 64, 32}, {13, 37, 32},
                                    {17, 100, 19}, {64, 576, 32}, {9, 4, 31}, {33, 259, 16},
                                    /* AVX-512's split of a block: one vector (n <= 16), a
                                     * vector and 1..4 columns as dot products (17..20),
                                     * dots alone (n <= 4), two vectors (21..32) */
                                    {24, 700, 17}, {11, 130, 20}, {8, 4608, 17}, {16, 68, 4},
                                    {5, 260, 1}, {9, 36, 21}, {19, 1000, 12}, {8, 64, 2}};
    int bad = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int wdt = 0; wdt < 2; wdt++)
            for (int xdt = 0; xdt < 2; xdt++)
                for (int wz_on = 0; wz_on < 2; wz_on++)
                    bad += one_case(shapes[s][0], shapes[s][1], shapes[s][2],
                                    wdt ? RT_U8 : RT_I8, xdt ? RT_I8 : RT_U8, wz_on,
                                    (int)(s & 1), 0);
    /* the matrix-vector product: every tail of the 64-byte (16-byte) steps */
    static const int gv[][2] = {{1, 1}, {7, 60}, {9, 64}, {5, 68}, {33, 129}, {10, 576},
                                {3, 1000}};
    for (size_t s = 0; s < sizeof gv / sizeof gv[0]; s++)
        for (int wdt = 0; wdt < 2; wdt++)
            for (int xdt = 0; xdt < 2; xdt++)
                for (int wz_on = 0; wz_on < 2; wz_on++)
                    bad += one_case(gv[s][0], gv[s][1], 1, wdt ? RT_U8 : RT_I8,
                                    xdt ? RT_I8 : RT_U8, wz_on, (int)(s & 1), 1);
    CHECK(0, bad);
#if !defined(QG_NEED_AVXVNNI)
    test_qconv();
#endif
    return CHECK_DONE();
}
