/* depthwise_bench.c: times depthwise Conv on its float32 paths (GEMM, old direct, conv_dw). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

enum { RUNS = 50 };

typedef struct Shape {
    const char *name;            /* where the layer comes from */
    int c, h, w, k, s;           /* channels, input map, square window, stride */
} Shape;

/* Layers of MobileNetV2/V3, EfficientNet-B0 and ConvNeXt-T, batch 1, "same" padding. */
static const Shape shapes[] = {
    {"MobileNetV2 / EffNet-B0 stage 1", 32, 112, 112, 3, 1},
    {"MobileNetV2 block 2", 96, 112, 112, 3, 2},
    {"5x5 s1 wide map", 96, 112, 112, 5, 1},
    {"EffNet-B0 stage 5 / MNv3-L", 672, 14, 14, 5, 1},
    {"EffNet-B0 stage 3 entry", 144, 56, 56, 5, 2},
    {"ConvNeXt-T stage 1", 96, 56, 56, 7, 1},
    {"MNv3-S stages 9-11", 576, 7, 7, 5, 1},
    {"MNv3-S stages 5-6", 240, 14, 14, 5, 1},
    {"MNv3-S stage 4 entry", 96, 28, 28, 5, 2},
    {"EffNet-B0 stage 6", 1152, 7, 7, 5, 1},
    {"MobileNetV2 14x14", 384, 14, 14, 3, 1},
    {"MobileNetV2 28x28", 192, 28, 28, 3, 1},
    {"MobileNetV2 56x56", 144, 56, 56, 3, 1},
    {"MobileNetV2 7x7", 960, 7, 7, 3, 1},
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_ms(const RtCall *c, const void *const *in, void *const *out, int path)
{
    double t[RUNS];
    rt_conv_path(c, in, out, path); /* warm the caches and the page tables */
    for (int i = 0; i < RUNS; i++) {
        double t0 = rt_now_ms();
        rt_conv_path(c, in, out, path);
        t[i] = rt_now_ms() - t0;
    }
    qsort(t, RUNS, sizeof t[0], cmp_double);
    return (t[RUNS / 2 - 1] + t[RUNS / 2]) / 2;
}

int main(void)
{
    char cpu[512], built[512];
    rt_cpu_describe(cpu, sizeof cpu, 0);
    rt_cpu_describe(built, sizeof built, 1);
    printf("CPU: %s\nruntime built for: %s\nmedian of %d runs, batch 1, float32, fused Relu6\n\n",
           cpu, built, RUNS);
    printf("| layer | shape (C, HxW, k, s) | GEMM ms | old direct ms | new ms | new GFLOP/s |"
           " vs GEMM | vs old direct | max diff | plane ms | plane vs new | plane diff |\n");
    printf("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const Shape *sh = &shapes[i];
        int p = (sh->k - 1) / 2;
        int oh = (sh->h + 2 * p - sh->k) / sh->s + 1, ow = (sh->w + 2 * p - sh->k) / sh->s + 1;
        RtTensorDesc din[3], dy;
        memset(din, 0, sizeof din);
        memset(&dy, 0, sizeof dy);
        int64_t xd[4] = {1, sh->c, sh->h, sh->w}, wd[4] = {sh->c, 1, sh->k, sh->k};
        int64_t yd[4] = {1, sh->c, oh, ow};
        for (int a = 0; a < 4; a++) {
            din[0].dims[a] = xd[a];
            din[1].dims[a] = wd[a];
            dy.dims[a] = yd[a];
        }
        din[0].dtype = din[1].dtype = din[2].dtype = dy.dtype = RT_F32;
        din[0].rank = din[1].rank = dy.rank = 4;
        din[2].rank = 1;
        din[2].dims[0] = sh->c;
        int64_t ints[] = {sh->c, 2, sh->s, sh->s, 1, 1, p, p, 1};
        float fl[2] = {0, 6};
        RtCall c = {3, 1, din, &dy, 9, 2, ints, fl};
        size_t nx = (size_t)sh->c * sh->h * sh->w, nw = (size_t)sh->c * sh->k * sh->k;
        size_t ny = (size_t)sh->c * oh * ow;
        float *x = malloc(nx * sizeof(float)), *w = malloc(nw * sizeof(float));
        float *b = malloc((size_t)sh->c * sizeof(float));
        float *y0 = malloc(ny * sizeof(float)), *y1 = malloc(ny * sizeof(float));
        if (!x || !w || !b || !y0 || !y1)
            return 1;
        for (size_t j = 0; j < nx; j++)
            x[j] = (float)((j * 7919) % 1000) / 500.0f - 1.0f;
        for (size_t j = 0; j < nw; j++)
            w[j] = (float)((j * 104729) % 1000) / 1000.0f - 0.5f;
        for (int j = 0; j < sh->c; j++)
            b[j] = 0.01f * (float)j;
        const void *in[3] = {x, w, b};
        void *out0[1] = {y0}, *out1[1] = {y1};
        double t_gemm = median_ms(&c, in, out0, RT_CONV_PATH_GEMM);
        double t_old = median_ms(&c, in, out0, RT_CONV_PATH_OLD);
        double t_new = median_ms(&c, in, out1, RT_CONV_PATH_DW);
        double diff = 0, pdiff = 0;
        for (size_t j = 0; j < ny; j++)
            diff = fmax(diff, fabs(y0[j] - y1[j]));
        double t_plane = median_ms(&c, in, out1, RT_CONV_PATH_PLANE);
        for (size_t j = 0; j < ny; j++)
            pdiff = fmax(pdiff, fabs(y0[j] - y1[j]));
        double gflop = 2.0 * (double)ny * sh->k * sh->k * 1e-9;
        printf("| %s | %d, %dx%d, %dx%d, %d | %.3f | %.3f | %.3f | %.2f | %.1fx | %.2fx | %.1e |"
               " %.3f | %.2fx | %.1e |\n",
               sh->name, sh->c, sh->h, sh->w, sh->k, sh->k, sh->s, t_gemm, t_old, t_new,
               gflop / (t_new * 1e-3), t_gemm / t_new, t_old / t_new, diff, t_plane,
               t_new / t_plane, pdiff);
        free(x);
        free(w);
        free(b);
        free(y0);
        free(y1);
    }
    return 0;
}
