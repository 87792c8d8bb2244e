/* rt_time.c: the runtime's monotonic clock, for benchmarks. */
#define _POSIX_C_SOURCE 199309L
#include <time.h>

#include "onnxcc_rt.h"

double rt_now_ms(void)
{
    struct timespec ts;
    /* monotonic: a benchmark must not see NTP or the user moving the wall clock */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}
