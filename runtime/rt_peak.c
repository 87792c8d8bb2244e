/* rt_peak.c: this core's measured fp32 FMA throughput and read bandwidth, the yardstick of --profile. */
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* The vector width k_gemm.c uses, so the peak is the one the kernels can
 * reach with the ISA this runtime was compiled for. */
#define VL RT_VEC_FLOATS

#if defined(__GNUC__)
typedef float VecF __attribute__((vector_size(VL * 4)));
#define HAVE_VEC 1
#else
#define HAVE_VEC 0
#endif

/* Independent chains: an FMA has 4-5 cycles of latency and 2 units issue
 * one each per cycle, so 12 chains keep both busy (and 12 accumulators plus
 * the two constants fit the 16 vector registers of AVX2). */
#define CHAINS 12
#define FMA_ITERS 100000
#define FMA_MS 50.0
#define BW_BYTES ((size_t)64 << 20)
#define BW_MS 100.0

static volatile float sink;

#if HAVE_VEC
/* iters x CHAINS vector FMAs; returns the flop count. acc * m + c stays
 * finite for any iteration count (m < 1), and the compiler cannot fold a
 * floating-point recurrence away. */
static HOT double fma_block(long iters)
{
    VecF acc[CHAINS];
    VecF m, c;
    for (int v = 0; v < VL; v++) {
        m[v] = 0.9999f;
        c[v] = 1e-4f;
    }
    for (int j = 0; j < CHAINS; j++)
        for (int v = 0; v < VL; v++)
            acc[j][v] = (float)(j + v);
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < CHAINS; j++)
            acc[j] = acc[j] * m + c;
    float s = 0.0f;
    for (int j = 0; j < CHAINS; j++)
        for (int v = 0; v < VL; v++)
            s += acc[j][v];
    sink = s;
    return 2.0 * VL * CHAINS * (double)iters;
}
#else
static HOT double fma_block(long iters)
{
    float acc[CHAINS];
    for (int j = 0; j < CHAINS; j++)
        acc[j] = (float)j;
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < CHAINS; j++)
            acc[j] = acc[j] * 0.9999f + 1e-4f;
    float s = 0.0f;
    for (int j = 0; j < CHAINS; j++)
        s += acc[j];
    sink = s;
    return 2.0 * CHAINS * (double)iters;
}
#endif

/* The best of many short blocks: the first ones run while the clock ramps
 * up, and any block an interrupt lands in is slower, never faster. */
static double measure_fma(void)
{
    double best = 0.0, start = rt_now_ms();
    do {
        double t0 = rt_now_ms();
        double flops = fma_block(FMA_ITERS);
        double ms = rt_now_ms() - t0;
        if (ms > 0.0 && flops / (ms * 1e6) > best)
            best = flops / (ms * 1e6);
    } while (rt_now_ms() - start < FMA_MS);
    return best;
}

/* One pass summing the buffer with four independent vector accumulators. */
static HOT void read_pass(const float *p, size_t n)
{
#if HAVE_VEC
    VecF a0, a1, a2, a3;
    memset(&a0, 0, sizeof a0);
    a1 = a2 = a3 = a0;
    const VecF *v = (const VecF *)p;
    size_t nv = n / VL;
    for (size_t i = 0; i + 4 <= nv; i += 4) {
        a0 += v[i];
        a1 += v[i + 1];
        a2 += v[i + 2];
        a3 += v[i + 3];
    }
    a0 += a1 + a2 + a3;
    float s = 0.0f;
    for (int k = 0; k < VL; k++)
        s += a0[k];
#else
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    float s = s0 + s1 + s2 + s3;
#endif
    sink = s;
}

/* 64 MiB is past every last-level cache of a single socket it is likely to
 * run on, yet modest enough for a profiling run; 0 if out of memory. */
static double measure_read(void)
{
    void *raw = malloc(BW_BYTES + 64);
    if (!raw)
        return 0.0;
    float *p = (float *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    /* touch every page first, so the timing sees no page faults */
    memset(p, 0, BW_BYTES);
    size_t n = BW_BYTES / sizeof(float);
    double best = 0.0, start = rt_now_ms();
    do {
        double t0 = rt_now_ms();
        read_pass(p, n);
        double ms = rt_now_ms() - t0;
        if (ms > 0.0 && (double)BW_BYTES / (ms * 1e6) > best)
            best = (double)BW_BYTES / (ms * 1e6);
    } while (rt_now_ms() - start < BW_MS);
    free(raw);
    return best;
}

void rt_peak_measure(RtPeak *peak)
{
    peak->gflops = measure_fma();
    peak->gbs = measure_read();
}
