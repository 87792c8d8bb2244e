/* rt_threads.c: rt_parallel_for; one thread until a pool is started. */
#include "rt_internal.h"

static int n_threads = 1;

int rt_threads(void)
{
    return n_threads;
}

void rt_parallel_for(int64_t n, int64_t grain, RtRangeFn fn, void *ctx)
{
    (void)grain;
    if (n > 0)
        fn(ctx, 0, n);
}
