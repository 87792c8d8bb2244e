/* test_k_qgemm.c: the int8 GEMM of the runtime build it links, bit for bit against a plain int64 reference. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
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
static int one_case(int rows, int k, int n, int wdt, int xdt, int wz_on, int ldc_rows)
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
        rt_qgemm_block(wp, kp, 0, rows, xb, xsum, n, &e, y, ldr, ldc);
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
                                    {17, 100, 19}, {64, 576, 32}, {9, 4, 31}, {33, 259, 16}};
    int bad = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int wdt = 0; wdt < 2; wdt++)
            for (int xdt = 0; xdt < 2; xdt++)
                for (int wz_on = 0; wz_on < 2; wz_on++)
                    bad += one_case(shapes[s][0], shapes[s][1], shapes[s][2],
                                    wdt ? RT_U8 : RT_I8, xdt ? RT_I8 : RT_U8, wz_on,
                                    (int)(s & 1));
    CHECK(0, bad);
    return CHECK_DONE();
}
