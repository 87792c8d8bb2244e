/* pool_bench.c: what one rt_parallel_for hand-off costs, by thread count, gap between calls and size (not a test). */
#include <stdio.h>
#include <stdlib.h>

#include "runtime/rt_internal.h"

/* usage: pool_bench THREADS GAP_US N
 * Times 2000 calls of rt_parallel_for(N, 1024, ...) over a float array,
 * each after GAP_US microseconds of busy serial work (the kernels between
 * two split loops), and prints the median and 90th percentile per call.
 * ONNXCC_SPIN_US sets how long idle threads poll; compare THREADS 1 for the
 * serial cost of the same work. Chooses grains: a range should take well
 * over the hand-off's cost. */

static float buf[1 << 20];

static void work(void *ctx, int64_t lo, int64_t hi)
{
    (void)ctx;
    for (int64_t i = lo; i < hi; i++)
        buf[i] = buf[i] * 0.5f + 1.0f;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    enum { R = 2000 };
    static double t[R];
    if (argc != 4) {
        fprintf(stderr, "usage: pool_bench THREADS GAP_US N (N <= %d)\n", 1 << 20);
        return 2;
    }
    int threads = atoi(argv[1]);
    double gap_us = atof(argv[2]);
    int64_t n = atoll(argv[3]);
    if (n < 0 || n > (1 << 20) || rt_set_threads(threads) != RT_OK) {
        fprintf(stderr, "pool_bench: bad N or cannot start %d threads\n", threads);
        return 1;
    }
    for (int r = 0; r < R; r++) {
        double g0 = rt_now_ms();
        while (rt_now_ms() - g0 < gap_us / 1e3)
            ;
        double t0 = rt_now_ms();
        rt_parallel_for(n, 1024, work, NULL);
        t[r] = (rt_now_ms() - t0) * 1e3;
    }
    qsort(t, R, sizeof *t, cmp);
    const char *spin = getenv("ONNXCC_SPIN_US");
    printf("threads %d, gap %.0f us, n %lld, spin %s us: median %.2f us, p90 %.2f us per call\n",
           rt_threads(), gap_us, (long long)n, spin ? spin : "default", t[R / 2], t[R * 9 / 10]);
    rt_set_threads(1);
    return 0;
}
