/* wq_conv_bench.c: ConvWQ on resnet18's Conv shapes against the float Conv, in CPU time. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "onnxcc_rt.h"

/* Build (against the runtime variant to measure):
 *   cc -O2 -Iruntime bench/wq_conv_bench.c build/libonnxcc_rt_native.a -lm -lpthread
 * Run: a.out [FORMAT...] (RtWqFormat numbers; default 2 = int4, 1 = int8).
 * One thread; each figure the least CPU time of the calling thread over 15
 * calls, so that the other processes of a shared machine do not count. The
 * float Conv runs twice: W as given (packed per call) and W packed at
 * compile time for this runtime's tile (what onnxcc emits); the ratio is
 * ConvWQ's over the latter. Weights are random codes, group 32. */

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static RtTensorDesc desc(int dt, int rank, int64_t a, int64_t b, int64_t c, int64_t d)
{
    RtTensorDesc t;
    memset(&t, 0, sizeof t);
    t.dtype = dt;
    t.rank = rank;
    t.dims[0] = a;
    t.dims[1] = b;
    t.dims[2] = c;
    t.dims[3] = d;
    return t;
}

static float frand(int scale)
{
    return (float)(rand() % 200 - 100) / (float)scale;
}

static void one(int fmt, int64_t ci, int64_t co, int64_t h, int64_t k, int64_t s)
{
    int64_t p = k / 2, oh = (h + 2 * p - k) / s + 1, kk = ci * k * k;
    int group = fmt == RT_WQ_NVFP4 ? 16 : 32;
    int64_t ng = (kk + group - 1) / group;
    float *x = malloc(sizeof *x * (size_t)(ci * h * h));
    float *w = malloc(sizeof *w * (size_t)(co * kk));
    float *y = malloc(sizeof *y * (size_t)(co * oh * oh)), *b = malloc(sizeof *b * (size_t)co);
    int16_t *code = malloc(sizeof *code * (size_t)(co * kk));
    float *sc = malloc(sizeof *sc * (size_t)(co * ng));
    uint8_t *z = malloc((size_t)(co * ng));
    for (int64_t i = 0; i < ci * h * h; i++)
        x[i] = frand(100);
    for (int64_t i = 0; i < co * kk; i++) {
        w[i] = frand(1000);
        code[i] = (int16_t)(fmt <= RT_WQ_INT2 ? rand() % 4 : fmt == RT_WQ_MXINT8 ? rand() % 64
                                                                                  : rand() % 8);
    }
    for (int64_t i = 0; i < co; i++)
        b[i] = 0.1f;
    for (int64_t i = 0; i < co * ng; i++) {
        sc[i] = fmt >= RT_WQ_MXINT8 ? 0.015625f : 0.01f;
        z[i] = 1;
    }
    RtWqCodes cc = {fmt, co, kk, group, code, sc, fmt <= RT_WQ_INT2 ? z : NULL, 1.0f};
    uint8_t *pw = malloc(rt_wq_packed_bytes(fmt, co, kk, group));
    rt_wq_pack(&cc, pw);
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    int64_t mp = (co + mr - 1) / mr * mr;
    float *wpk = calloc((size_t)(mp * kk), sizeof *wpk);
    rt_gemm_pack_a(co, kk, w, kk, 0, mr, wpk);
    /* Conv's ints (group, nsp, strides, dilations, pads, act, pack, pack_t,
     * wino), then ConvWQ's (k_wq.h) */
    int64_t ints[18] = {1, 2, s, s, 1, 1, p, p, 1, 0, 0, 0, fmt, co, kk, group, k, k};
    int64_t intp[12];
    memcpy(intp, ints, sizeof intp);
    intp[RT_CONV_PACK(2)] = mr;
    float fl[3] = {0, 1e30f, 1};
    RtTensorDesc od = desc(RT_F32, 4, 1, co, oh, oh);
    RtTensorDesc df[3] = {desc(RT_F32, 4, 1, ci, h, h), desc(RT_F32, 4, co, ci, k, k),
                          desc(RT_F32, 1, co, 0, 0, 0)};
    RtTensorDesc dp[3] = {df[0], desc(RT_F32, 4, mp, ci, k, k), df[2]};
    int64_t rb = (int64_t)rt_wq_row_bytes(fmt, kk, group);
    RtTensorDesc dq[3] = {df[0], desc(RT_U8, 2, co, rb, 0, 0), df[2]};
    RtCall cf = {3, 1, df, &od, 9, 2, ints, fl}, cp = {3, 1, dp, &od, 12, 2, intp, fl};
    RtCall cq = {3, 1, dq, &od, 18, 3, ints, fl};
    const void *inf[3] = {x, w, b}, *inp[3] = {x, wpk, b}, *inq[3] = {x, pw, b};
    void *out[1] = {y};
    double best[3] = {1e9, 1e9, 1e9};
    for (int r = 0; r < 15; r++) {
        double t0 = cpu_now();
        rt_conv(&cf, inf, out);
        double t1 = cpu_now();
        rt_conv(&cp, inp, out);
        double t2 = cpu_now();
        rt_conv_wq(&cq, inq, out);
        double t3 = cpu_now();
        best[0] = t1 - t0 < best[0] ? t1 - t0 : best[0];
        best[1] = t2 - t1 < best[1] ? t2 - t1 : best[1];
        best[2] = t3 - t2 < best[2] ? t3 - t2 : best[2];
    }
    double gf = 2.0 * (double)(co * oh * oh * kk) * 1e-9;
    printf("| %lld -> %lld, %lldx%lld, %lldx%lld s%lld | %.3f | %.3f (%.0f) | %s %.3f (%.0f) | "
           "%.2f |\n", (long long)ci, (long long)co, (long long)h, (long long)h, (long long)k,
           (long long)k, (long long)s, best[0] * 1e3, best[1] * 1e3, gf / best[1],
           rt_wq_name(fmt), best[2] * 1e3, gf / best[2], best[2] / best[1]);
    free(x), free(w), free(y), free(b), free(code), free(sc), free(z), free(pw), free(wpk);
}

int main(int argc, char **argv)
{
    static const int64_t shapes[][5] = {{64, 64, 56, 3, 1},   {64, 128, 56, 3, 2},
                                        {128, 128, 28, 3, 1}, {256, 256, 14, 3, 1},
                                        {512, 512, 7, 3, 1},  {256, 512, 14, 1, 2},
                                        {128, 256, 28, 1, 2}};
    printf("| Conv (in -> out, map, window, stride) | float, W per call ms | float, W packed ms "
           "(GFLOP/s) | ConvWQ ms (GFLOP/s) | ConvWQ / packed |\n|---|---|---|---|---|\n");
    for (int a = 1; a < (argc > 1 ? argc : 3); a++) {
        int fmt = argc > 1 ? atoi(argv[a]) : a == 1 ? RT_WQ_INT4 : RT_WQ_INT8;
        if (fmt < RT_WQ_INT8 || fmt >= RT_WQ_NFORMATS)
            return fprintf(stderr, "wq_conv_bench: format %d is not 1..%d\n", fmt,
                           RT_WQ_NFORMATS - 1), 2;
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            one(fmt, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], shapes[i][4]);
    }
    return 0;
}
