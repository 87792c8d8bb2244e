/* test_depthwise.c: depthwise Conv (conv_dw, conv_dw_plane) against a float64 reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fill.h"
#include "desc.h"
#include "runtime/rt_internal.h"

typedef struct DwCase {
    int n, c, mult, bias, clamp;  /* batch, input channels, outputs per channel; clamp: the
                                   * fused activation, RT_EPI_* (1 the clamp below) */
    int h, w, kh, kw, sh, sw, dh, dw;
    int pt, pl, pb, pr;           /* pads: top, left, bottom, right */
} DwCase;

static const float lo_clip = -1.0f, hi_clip = 1.5f;
static const float alpha = 0.2f, beta = 0.5f; /* LeakyRelu's and HardSigmoid's parameters */

static int out_size(int in, int k, int s, int d, int pa, int pb)
{
    int span = d * (k - 1) + 1;
    return in + pa + pb < span ? 0 : (in + pa + pb - span) / s + 1;
}

/* Output (n, m, oh, ow) in double, and the sum of |terms| it came from, the
 * scale a float32 sum's rounding error is relative to. */
static double ref(const DwCase *t, const float *x, const float *w, const float *b, int n, int m,
                  int oh, int ow, double *scale)
{
    int ci = m / t->mult;
    double s = t->bias ? b[m] : 0, a = fabs(s);
    for (int kh = 0; kh < t->kh; kh++)
        for (int kw = 0; kw < t->kw; kw++) {
            int ih = oh * t->sh - t->pt + kh * t->dh, iw = ow * t->sw - t->pl + kw * t->dw;
            if (ih < 0 || ih >= t->h || iw < 0 || iw >= t->w)
                continue;
            double v = (double)w[(m * t->kh + kh) * t->kw + kw] *
                       x[((n * t->c + ci) * t->h + ih) * t->w + iw];
            s += v;
            a += fabs(v);
        }
    *scale = a;
    switch (t->clamp) {
    case RT_EPI_CLAMP: return s < lo_clip ? lo_clip : s > hi_clip ? hi_clip : s;
    case RT_EPI_LEAKY: return s < 0 ? alpha * s : s;
    case RT_EPI_HARD_SIGMOID: return fmin(fmax(alpha * s + beta, 0), 1);
    case RT_EPI_HARD_SWISH: return s * fmin(fmax(s / 6 + 0.5, 0), 1);
    case RT_EPI_SWISH: return s / (1 + exp(-s));
    default: return s;
    }
}

/* Returns 1 when every output of Conv on the given path (rt_internal.h) is
 * within 1e-5 relative of the reference. */
static int run_path(const DwCase *t, int path)
{
    int oh_n = out_size(t->h, t->kh, t->sh, t->dh, t->pt, t->pb);
    int ow_n = out_size(t->w, t->kw, t->sw, t->dw, t->pl, t->pr);
    if (oh_n < 1 || ow_n < 1)
        return 1;
    int m_n = t->c * t->mult;
    RtTensorDesc din[3] = {desc(RT_F32, 4, DIMS(t->n, t->c, t->h, t->w)),
                           desc(RT_F32, 4, DIMS(m_n, 1, t->kh, t->kw)),
                           desc(RT_F32, 1, DIMS(m_n))};
    RtTensorDesc dy = desc(RT_F32, 4, DIMS(t->n, m_n, oh_n, ow_n));
    int64_t ints[] = {t->c, 2, t->sh, t->sw, t->dh, t->dw, t->pt, t->pl, t->clamp};
    float fl[2] = {lo_clip, hi_clip};
    if (t->clamp > RT_EPI_CLAMP) {
        fl[0] = alpha;
        fl[1] = beta;
    }
    int64_t nx = rt_numel(&din[0]), nw = rt_numel(&din[1]), ny = rt_numel(&dy);
    float *x = malloc(sizeof(float) * (size_t)nx), *w = malloc(sizeof(float) * (size_t)nw);
    float *b = malloc(sizeof(float) * (size_t)m_n), *y = malloc(sizeof(float) * (size_t)ny);
    fill(x, nx, 21);
    fill(w, nw, 22);
    fill(b, m_n, 23);
    for (int64_t i = 0; i < ny; i++)
        y[i] = NAN; /* every output must be written */
    const void *in[3] = {x, w, b};
    void *out[1] = {y};
    RtCall c = {t->bias ? 3 : 2, 1, din, &dy, 9, 2, ints, fl};
    int ok = rt_conv_path(&c, in, out, path) == RT_OK;
    for (int n = 0; ok && n < t->n; n++)
        for (int m = 0; ok && m < m_n; m++)
            for (int oh = 0; ok && oh < oh_n; oh++)
                for (int ow = 0; ok && ow < ow_n; ow++) {
                    double scale, r = ref(t, x, w, b, n, m, oh, ow, &scale);
                    float v = y[((n * m_n + m) * oh_n + oh) * ow_n + ow];
                    /* (plus a few ulp of the activations' own arithmetic) */
                    if (fabs(v - r) <= 1e-5 * (scale + 1e-30) + 1e-6 * fabs(r))
                        continue;
                    fprintf(stderr,
                            "path %d: n%d c%d x%d %dx%d k%dx%d s%d,%d d%d,%d pads %d %d %d %d: "
                            "y[%d,%d,%d,%d] = %.9g, expected %.9g\n",
                            path, t->n, t->c, t->mult, t->h, t->w, t->kh, t->kw, t->sh, t->sw,
                            t->dh, t->dw, t->pt, t->pl, t->pb, t->pr, n, m, oh, ow, v, r);
                    ok = 0;
                }
    free(x);
    free(w);
    free(b);
    free(y);
    return ok;
}

/* rt_conv as compiled models call it, conv_dw even where conv_dw3 wins, and
 * conv_dw_plane wherever its buffer fits (wide rows included). */
static int run_case(const DwCase *t)
{
    return run_path(t, RT_CONV_PATH_AUTO) & run_path(t, RT_CONV_PATH_DW) &
           run_path(t, RT_CONV_PATH_PLANE);
}

/* Every square window 1..7, stride 1..3 and dilation 1..2 over odd, even and
 * tiny maps, with asymmetric pads, bias and clamp on alternating cases. */
static void test_sweep(void)
{
    static const int sizes[][2] = {{1, 1}, {2, 3}, {7, 8}, {13, 12}, {20, 37}, {5, 70}};
    static const int chans[] = {1, 3, 17, 32};
    int count = 0;
    for (int k = 1; k <= 7; k++)
        for (int s = 1; s <= 3; s++)
            for (int d = 1; d <= 2; d++)
                for (unsigned z = 0; z < sizeof sizes / sizeof sizes[0]; z++, count++) {
                    int p = (k - 1) * d / 2;
                    DwCase t = {1 + (count % 5 == 0), chans[count % 4], 1, count & 1,
                                (count >> 1) & 1, sizes[z][0], sizes[z][1], k, k, s, s, d, d,
                                p, p + (count % 3 == 1), p + (count % 3 == 2), p};
                    CHECK_TRUE(run_case(&t));
                }
}

/* The shapes around the sweep: rectangular windows and strides, a channel
 * multiplier, no padding and more than the window's worth, rows too wide
 * for the copied-row buffer (the fallback loops). */
static void test_shapes(void)
{
    static const DwCase cs[] = {
        {1, 4, 2, 1, 1, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  /* multiplier 2 */
        {2, 3, 3, 1, 0, 10, 10, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2}, /* multiplier 3, stride 2 */
        {1, 5, 1, 1, 1, 12, 15, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3}, /* 1x7 */
        {1, 5, 1, 0, 1, 15, 12, 7, 1, 1, 1, 1, 1, 3, 0, 3, 0}, /* 7x1 */
        {1, 3, 1, 1, 0, 11, 14, 3, 5, 2, 1, 2, 1, 1, 0, 3, 4}, /* mixed everything */
        {1, 2, 1, 1, 1, 9, 9, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0},   /* valid padding */
        {1, 2, 1, 1, 1, 6, 6, 3, 3, 1, 1, 1, 1, 5, 4, 6, 7},   /* pads past the window */
        {1, 2, 1, 1, 1, 4, 1500, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, /* row past DW_ROW */
        {1, 2, 1, 1, 0, 6, 600, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2},  /* phases past DW_ROW */
        {1, 2, 1, 1, 0, 20, 20, 9, 9, 1, 1, 2, 2, 8, 8, 8, 8},  /* span 17 > DW_KMAX */
        {1, 32, 1, 1, 1, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, /* MobileNet block */
        {1, 8, 1, 1, 1, 28, 28, 5, 5, 2, 2, 1, 1, 1, 2, 2, 1},  /* EfficientNet-like s2 */
        {1, 4, 1, 1, 0, 14, 14, 7, 7, 1, 1, 1, 1, 3, 3, 3, 3},  /* ConvNeXt */
        {1, 6, 1, 1, 1, 7, 7, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2},    /* MobileNetV3 7x7 map */
        {1, 5, 1, 1, 0, 14, 14, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1},  /* s2, pads only after */
        {1, 3, 2, 1, 1, 9, 13, 5, 3, 3, 2, 2, 1, 4, 1, 3, 2},   /* plane: mixed phases */
        {1, 2, 1, 1, 0, 120, 120, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, /* past DW_PLANE */
    };
    for (unsigned i = 0; i < sizeof cs / sizeof cs[0]; i++)
        CHECK_TRUE(run_case(&cs[i]));
}

/* The activations other than the clamp, which the plane path applies per
 * channel and the others after each channel (MobileNetV3's HardSwish,
 * EfficientNet's Swish), on plane-sized maps and on a wide one. */
static void test_acts(void)
{
    static const DwCase cs[] = {
        {1, 6, 1, 1, 0, 7, 7, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2},
        {2, 5, 1, 1, 0, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 8, 1, 0, 0, 28, 28, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2},
        {1, 3, 2, 1, 0, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    };
    for (int act = RT_EPI_LEAKY; act <= RT_EPI_SWISH; act++)
        for (unsigned i = 0; i < sizeof cs / sizeof cs[0]; i++) {
            DwCase t = cs[i];
            t.clamp = act;
            CHECK_TRUE(run_case(&t));
        }
}

int main(void)
{
    test_sweep();
    test_shapes();
    test_acts();
    return CHECK_DONE();
}
