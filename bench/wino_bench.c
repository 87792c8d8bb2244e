/* wino_bench.c: times 3x3 stride-1 Conv layers direct (packed implicit-im2col GEMM) against Winograd F(4x4, 3x3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_internal.h"

enum { RUNS = 30 };

typedef struct Shape {
    const char *name;            /* where the layer comes from */
    int cin, cout, hw;           /* channels, square map ("same" padding 1) */
} Shape;

/* The 3x3 stride-1 layers of resnet18, densenet121 and squeezenet1_1 (batch 1, 224x224). */
static const Shape shapes[] = {
    {"resnet18 layer1", 64, 64, 56},      {"resnet18 layer2", 128, 128, 28},
    {"resnet18 layer3", 256, 256, 14},    {"densenet121 block1", 128, 32, 56},
    {"densenet121 block2", 128, 32, 28},  {"densenet121 block3", 128, 32, 14},
    {"densenet121 block4", 128, 32, 7},   {"squeezenet1_1 fire2-3", 16, 64, 55},
    {"squeezenet1_1 fire4-5", 32, 128, 27}, {"squeezenet1_1 fire6-7", 48, 192, 13},
    {"squeezenet1_1 fire8-9", 64, 256, 13},
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fill(float *p, int64_t n, unsigned seed)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static RtTensorDesc desc4(int64_t a, int64_t b, int64_t c, int64_t d)
{
    RtTensorDesc t;
    memset(&t, 0, sizeof t);
    t.dtype = RT_F32;
    t.rank = 4;
    t.dims[0] = a, t.dims[1] = b, t.dims[2] = c, t.dims[3] = d;
    return t;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rt_set_threads(atoi(argv[1]));
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    printf("threads %d, GEMM tile %d x %d; fastest of %d interleaved runs (the machine is shared), "
           "GFLOP/s of the direct conv's FLOPs\n",
           rt_threads(), mr, nr, RUNS);
    printf("%-24s %5s %5s %4s %10s %10s %8s %8s %7s\n", "layer", "Cin", "Cout", "map",
           "direct ms", "wino ms", "direct", "wino", "speedup");
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const Shape *sh = &shapes[s];
        int64_t cin = sh->cin, cout = sh->cout, hw = sh->hw, so = hw * hw;
        int64_t mp = (cout + mr - 1) / mr * mr, np = (cout + nr - 1) / nr * nr;
        float *x = malloc(sizeof(float) * (size_t)(cin * so));
        float *w = malloc(sizeof(float) * (size_t)(cout * cin * 9));
        float *wd = calloc((size_t)(np > mp ? np : mp) * (size_t)cin * 9, sizeof(float));
        float *u = malloc(sizeof(float) * (size_t)(36 * mp * cin));
        float *b = malloc(sizeof(float) * (size_t)cout), *y = malloc(sizeof(float) * (size_t)(cout * so));
        fill(x, cin * so, 1);
        fill(w, cout * cin * 9, 2);
        fill(b, cout, 3);
        /* the direct conv's weights as pass_pack lays them out */
        int tr = rt_gemm_prefer_t(cout, so, nr), tile = tr ? nr : mr;
        if (tr)
            rt_gemm_pack_b(cin * 9, cout, w, cin * 9, 1, nr, wd);
        else
            rt_gemm_pack_a(cout, cin * 9, w, cin * 9, 0, mr, wd);
        rt_wino_pack(cout, cin, w, mr, u);
        int64_t wdim = (cout + tile - 1) / tile * tile;
        RtTensorDesc dd[3] = {desc4(1, cin, hw, hw), desc4(wdim, cin, 3, 3), {0}};
        RtTensorDesc dw[3] = {desc4(1, cin, hw, hw), desc4(4 * mp, cin, 3, 3), {0}};
        dd[2].dtype = dw[2].dtype = RT_F32;
        dd[2].rank = dw[2].rank = 1;
        dd[2].dims[0] = dw[2].dims[0] = cout;
        RtTensorDesc dy = desc4(1, cout, hw, hw);
        int64_t id[] = {1, 2, 1, 1, 1, 1, 1, 1, RT_EPI_NONE, tile, tr};
        int64_t iw[] = {1, 2, 1, 1, 1, 1, 1, 1, RT_EPI_NONE, mr, 0, RT_WINO_M};
        RtCall cd = {3, 1, dd, &dy, 11, 0, id, NULL};
        RtCall cw = {3, 1, dw, &dy, 12, 0, iw, NULL};
        const void *ind[3] = {x, wd, b}, *inw[3] = {x, u, b};
        void *out[1] = {y};
        double td[RUNS], tw[RUNS];
        if (rt_conv(&cd, ind, out) || rt_conv(&cw, inw, out)) {
            printf("%s: refused\n", sh->name);
            continue;
        }
        for (int r = 0; r < RUNS; r++) {
            double t0 = now();
            rt_conv(&cd, ind, out);
            double t1 = now();
            rt_conv(&cw, inw, out);
            double t2 = now();
            td[r] = t1 - t0;
            tw[r] = t2 - t1;
        }
        qsort(td, RUNS, sizeof td[0], cmp);
        qsort(tw, RUNS, sizeof tw[0], cmp);
        double fl = 2.0 * (double)(cout * so * cin * 9), md = td[0], mw = tw[0];
        printf("%-24s %5lld %5lld %4lld %10.3f %10.3f %8.1f %8.1f %7.2f\n", sh->name,
               (long long)cin, (long long)cout, (long long)hw, md * 1e3, mw * 1e3, fl / md * 1e-9,
               fl / mw * 1e-9, md / mw);
        free(x), free(w), free(wd), free(u), free(b), free(y);
    }
    return 0;
}
