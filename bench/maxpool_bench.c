/* maxpool_bench.c: times float32 MaxPool (rt_pool) on the pools of CNN stems and squeezenet (not a test). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rt_internal.h"

enum { RUNS = 200 };

typedef struct Shape {
    const char *name;
    int64_t c, h, k, s, pad, ceil_extra; /* square map and window; extra end padding of ceil mode */
} Shape;

static const Shape shapes[] = {
    {"resnet18 / mobilenet stem", 64, 112, 3, 2, 1, 0},
    {"squeezenet1_1 features.2", 64, 111, 3, 2, 0, 1},
    {"squeezenet1_1 features.5", 128, 55, 3, 2, 0, 1},
    {"squeezenet1_1 features.8", 256, 27, 3, 2, 0, 1},
    {"3x3 stride 1 (an SPP block)", 256, 20, 3, 1, 1, 0},
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    char cpu[1024];
    rt_cpu_describe(cpu, sizeof cpu, 0);
    printf("cpu: %s\n", cpu);
    printf("| pool | input | output | fastest ms | median ms | GB/s (fastest) |\n|---|---|---|--:|--:|--:|\n");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const Shape *p = &shapes[i];
        int64_t pe = p->pad + p->ceil_extra;
        int64_t oh = (p->h + p->pad + pe - p->k) / p->s + 1;
        float *x = malloc(sizeof(float) * (size_t)(p->c * p->h * p->h));
        float *y = malloc(sizeof(float) * (size_t)(p->c * oh * oh));
        if (!x || !y)
            return 1;
        for (int64_t j = 0; j < p->c * p->h * p->h; j++)
            x[j] = (float)rand() / (float)RAND_MAX - 0.5f;
        int64_t ints[4 + 10] = {RT_POOL_MAX, 2, 0, 0, p->k, p->k, p->s, p->s, 1, 1,
                                p->pad, p->pad, pe, pe};
        RtTensorDesc in = {RT_F32, 4, {1, p->c, p->h, p->h}};
        RtTensorDesc out = {RT_F32, 4, {1, p->c, oh, oh}};
        RtCall c = {1, 1, &in, &out, RT_POOL_NINTS(2), 0, ints, NULL};
        const void *ins[1] = {x};
        void *outs[1] = {y};
        double t[RUNS];
        for (int r = 0; r < RUNS; r++) {
            double t0 = now_ms();
            if (rt_pool(&c, ins, outs) != RT_OK)
                return 1;
            t[r] = now_ms() - t0;
        }
        qsort(t, RUNS, sizeof t[0], cmp_double);
        double bytes = 4.0 * (double)(p->c * (p->h * p->h + oh * oh));
        printf("| %s | %lldx%lldx%lld | %lldx%lldx%lld | %.3f | %.3f | %.1f |\n", p->name,
               (long long)p->c, (long long)p->h, (long long)p->h, (long long)p->c,
               (long long)oh, (long long)oh, t[0], t[RUNS / 2], bytes / t[0] * 1e-6);
        free(x);
        free(y);
    }
    return 0;
}
