/* wq_matmul_bench.c: MatMulWQ per format and batch rows M against the float32 GEMM on the same shape. */
/* Build against a runtime variant's static library (not a CMake target):
 *   cc -O2 -Iruntime -I. bench/wq_matmul_bench.c build/libonnxcc_rt_native.a -lm -lpthread \
 *      -o build/wq_matmul_bench
 *   build/wq_matmul_bench [K N] [threads]
 * Prints ms per call (median of RUNS) for M = 1, 4, 8, 16, 64, 256 and each format
 * (group 32, NVFP4 16), and the float32 GEMM with B packed once (as the
 * compiler packs a constant Gemm weight) as the yardstick.
 *   build/wq_matmul_bench gemv [K N] [threads]
 * The matrix-vector roofline instead (default K = N = 4096): M = 1 for each
 * format and group 32, 64, 128 (MX 32, NVFP4 16), with float activations
 * and (int8, int4, int2) int8 ones (act_bits 8), GB/s of packed weights
 * (codes, scales, zeros) read per call at the median and the fastest call,
 * the median's % of the read bandwidth of one core as --profile measures it
 * (rt_peak_measure). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_internal.h"
#include "k_wq.h"

enum { RUNS = 31 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static unsigned seed = 7;
static unsigned rnd(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
}

typedef struct Run {
    int fmt;                     /* 0: the float GEMM */
    int64_t m, n, k;
    int group;
    const float *x, *wt_packed;
    const uint8_t *w;
    float *y;
    int act_bits;                /* 8: int8 activations (rt_wq_matmul_act) */
} Run;

static void once(const Run *r)
{
    if (r->fmt) {
        rt_wq_matmul_act(r->fmt, r->m, r->n, r->k, r->group, 1.0f, r->x, r->w, NULL, r->y,
                         r->act_bits);
        return;
    }
    RtGemmA A = {r->x, r->k, 0, NULL, NULL, NULL};
    RtGemmB B = {NULL, NULL, r->wt_packed};
    rt_sgemm_ex(r->m, r->n, r->k, 1.0f, &A, &B, 0.0f, NULL, r->y, r->n);
}

/* The median of RUNS calls (and their minimum, if min is not NULL: on a
 * shared machine the least disturbed run). */
static double time_ms(const Run *r, double *min)
{
    double t[RUNS];
    once(r);
    for (int i = 0; i < RUNS; i++) {
        double t0 = now();
        once(r);
        t[i] = (now() - t0) * 1e3;
    }
    qsort(t, RUNS, sizeof t[0], cmp);
    if (min)
        *min = t[0];
    return t[RUNS / 2];
}

static double median_ms(const Run *r)
{
    return time_ms(r, NULL);
}

/* Random codes, scales kept finite and moderate (each block's header rewritten). */
static uint8_t *random_packed(int fmt, int64_t n, int64_t k, int group)
{
    size_t bytes = rt_wq_packed_bytes(fmt, n, k, group);
    uint8_t *w = malloc(bytes);
    for (size_t i = 0; i < bytes; i++)
        w[i] = (uint8_t)rnd();
    size_t bb = rt_wq_block_bytes(fmt, group);
    for (size_t b = 0; b + bb <= bytes; b += bb) {
        if (fmt <= RT_WQ_SHERRY) {
            float s = 0.01f;
            memcpy(w + b, &s, 4);
        } else {
            w[b] = fmt == RT_WQ_NVFP4 ? 0x30 : 120;
        }
    }
    return w;
}

static int gemv_main(int argc, char **argv)
{
    int64_t k = argc > 3 ? atoll(argv[2]) : 4096, n = argc > 3 ? atoll(argv[3]) : 4096;
    int threads = argc > 4 ? atoi(argv[4]) : argc == 3 ? atoi(argv[2]) : 1;
    rt_set_threads(threads);
    RtPeak peak;
    rt_peak_measure(&peak);
    float *x = malloc(sizeof *x * (size_t)k), *y = malloc(sizeof *y * (size_t)n);
    for (int64_t i = 0; i < k; i++)
        x[i] = (float)(rnd() % 2001) / 1000.0f - 1.0f;
    printf("M=1 K=%lld N=%lld threads=%d, median of %d; read bandwidth %.1f GB/s (one core)\n",
           (long long)k, (long long)n, threads, RUNS, peak.gbs);
    printf("%-9s %5s %4s %10s %10s %8s %8s %7s\n", "format", "group", "act", "median ms",
           "min ms", "GB/s", "at min", "% peak");
    for (int fmt = RT_WQ_INT8; fmt < RT_WQ_NFORMATS; fmt++) {
        static const int groups[] = {32, 64, 128};
        for (int gi = 0; gi < 3; gi++) {
            int group = fmt == RT_WQ_NVFP4 ? 16 : groups[gi];
            if (gi && fmt >= RT_WQ_MXINT8)
                break;
            uint8_t *w = random_packed(fmt, n, k, group);
            /* float activations, then int8 ones for the formats that have them */
            for (int act = 0; act <= 8; act += 8) {
                if (act && fmt != RT_WQ_INT8 && fmt != RT_WQ_INT4 && fmt != RT_WQ_INT2)
                    break;
                Run r = {fmt, 1, n, k, group, x, NULL, w, y, act};
                double mn, ms = time_ms(&r, &mn);
                double bytes = (double)rt_wq_packed_bytes(fmt, n, k, group);
                printf("%-9s %5d %4s %10.4f %10.4f %8.1f %8.1f %7.0f\n", rt_wq_name(fmt), group,
                       act ? "int8" : "f32", ms, mn, bytes / (ms * 1e6), bytes / (mn * 1e6),
                       100.0 * bytes / (ms * 1e6) / peak.gbs);
            }
            free(w);
        }
    }
    free(x), free(y);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "gemv"))
        return gemv_main(argc, argv);
    int64_t k = argc > 2 ? atoll(argv[1]) : 256, n = argc > 2 ? atoll(argv[2]) : 256;
    int threads = argc > 3 ? atoi(argv[3]) : argc == 2 ? atoi(argv[1]) : 1;
    static const int64_t ms[] = {1, 4, 8, 16, 64, 256};
    enum { NM = sizeof ms / sizeof ms[0] };
    rt_set_threads(threads);
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    float *x = malloc(sizeof *x * (size_t)(256 * k)), *y = malloc(sizeof *y * (size_t)(256 * n));
    float *wf = malloc(sizeof *wf * (size_t)(n * k));
    float *wp = malloc(sizeof *wp * (size_t)(k * ((n + nr - 1) / nr * nr)));
    for (int64_t i = 0; i < 256 * k; i++)
        x[i] = (float)(rnd() % 2001) / 1000.0f - 1.0f;
    for (int64_t i = 0; i < n * k; i++)
        wf[i] = (float)(rnd() % 2001) / 1000.0f - 1.0f;
    rt_gemm_pack_b(k, n, wf, k, 1, nr, wp);
    printf("K=%lld N=%lld threads=%d, ms per call (median of %d)\n", (long long)k, (long long)n,
           threads, RUNS);
    printf("%-9s", "format");
    for (int i = 0; i < NM; i++)
        printf(" %9s%-3lld", "M=", (long long)ms[i]);
    printf("   x float at M=64, 256\n");
    double fl[NM];
    for (int fmt = 0; fmt < RT_WQ_NFORMATS; fmt++) {
        int group = fmt == RT_WQ_NVFP4 ? 16 : 32;
        uint8_t *w = fmt ? random_packed(fmt, n, k, group) : NULL;
        printf("%-9s", fmt ? rt_wq_name(fmt) : "float32");
        double t[NM];
        for (int i = 0; i < NM; i++) {
            Run r = {fmt, ms[i], n, k, group, x, wp, w, y, 0};
            t[i] = median_ms(&r);
            if (!fmt)
                fl[i] = t[i];
            printf(" %12.4f", t[i]);
        }
        printf("   %5.2f %5.2f\n", t[NM - 2] / fl[NM - 2], t[NM - 1] / fl[NM - 1]);
        free(w);
    }
    free(x), free(y), free(wf), free(wp);
    return 0;
}
