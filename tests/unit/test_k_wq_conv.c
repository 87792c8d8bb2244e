/* test_k_wq_conv.c: ConvWQ against a double Conv on reference-decoded weights, every format. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "wq_codes.h"
#include "runtime/onnxcc_rt_kernels.h"

/* Built for the generic runtime and, with their -march, the native and
 * x86-64-v3 ones (tests/CMakeLists.txt), like test_k_wq_matmul: the
 * AVX-512, AVX2 and portable decoders each meet the same reference. */

typedef struct Case {
    int64_t n, cin, cout, h, w;  /* images, channels (all groups), input map */
    int64_t kh, kw, st, pad, dil, groups;
    int act;                     /* RT_EPI_NONE or RT_EPI_CLAMP (a fused Relu) */
    int bias, z;                 /* bias input, FusedConv's sum input */
} Case;

/* Tolerance: as test_k_wq_matmul's. The kernel forms each weight as
 * s*q - s*z (one rounding each) and sums in float32 in the GEMM's order,
 * so the error is a few ulps of sum |x| * (|w| + |s*z|) over K: 1e-5 of it,
 * relative, leaves ~10x margin at K = 600. */
static int check_case(int fmt, const Case *t, int group, int threads)
{
    int64_t cg = t->cin / t->groups, k = cg * t->kh * t->kw, n = t->cout;
    int64_t oh = (t->h + 2 * t->pad - t->dil * (t->kh - 1) - 1) / t->st + 1;
    int64_t ow = (t->w + 2 * t->pad - t->dil * (t->kw - 1) - 1) / t->st + 1;
    int64_t ng = (k + group - 1) / group, ysz = t->n * n * oh * ow;
    int16_t *code = malloc(sizeof *code * (size_t)(n * k));
    float *scale = malloc(sizeof *scale * (size_t)(n * ng));
    uint8_t *zero = fmt <= RT_WQ_INT2 ? malloc((size_t)(n * ng)) : NULL;
    float ts;
    make_codes(fmt, n, k, group, code, scale, zero, &ts);
    RtWqCodes c = {fmt, n, k, group, code, scale, zero, ts};
    size_t rb = rt_wq_row_bytes(fmt, k, group);
    uint8_t *w = malloc(rt_wq_packed_bytes(fmt, n, k, group));
    rt_wq_pack(&c, w);
    int64_t xsz = t->n * t->cin * t->h * t->w;
    float *x = malloc(sizeof *x * (size_t)xsz), *bias = malloc(sizeof *bias * (size_t)n);
    float *z = malloc(sizeof *z * (size_t)ysz), *y = malloc(sizeof *y * (size_t)ysz);
    float *y1 = malloc(sizeof *y1 * (size_t)ysz), *wf = malloc(sizeof *wf * (size_t)(n * k));
    for (int64_t i = 0; i < xsz; i++)
        x[i] = (float)rnd(-1000, 1000) / 1000.0f;
    for (int64_t i = 0; i < n; i++)
        bias[i] = (float)rnd(-100, 100) / 50.0f;
    for (int64_t i = 0; i < ysz; i++)
        z[i] = (float)rnd(-100, 100) / 25.0f;
    for (int64_t r = 0; r < n; r++)
        rt_wq_dequant_row(fmt, n, k, group, ts, w, r, wf + r * k);

    /* Conv's ints (2-D: group, nsp, strides, dilations, pads begin, act,
     * pack, pack_t, wino), then ConvWQ's */
    int64_t ints[] = {t->groups, 2, t->st, t->st, t->dil, t->dil, t->pad, t->pad,
                      t->act, 0, 0, 0, fmt, n, k, group, t->kh, t->kw};
    _Static_assert(sizeof ints / sizeof ints[0] == RT_CONVWQ(2) + RT_CONVWQ_KERNEL + 2,
                   "the ints as k_wq.h lays them out");
    float fl[RT_CONVWQ_NFLOATS] = {0.0f, INFINITY, ts};
    RtTensorDesc d[4] = {desc(RT_F32, 4, DIMS(t->n, t->cin, t->h, t->w)),
                         desc(RT_U8, 2, DIMS(n, (int64_t)rb)), desc1(RT_F32, n),
                         desc(RT_F32, 4, DIMS(t->n, n, oh, ow))};
    if (!t->bias)
        d[2].dtype = RT_UNDEF;
    RtTensorDesc od = desc(RT_F32, 4, DIMS(t->n, n, oh, ow));
    RtCall cl = call(t->z ? 4 : t->bias ? 3 : 2, d, 1, &od, (int)(sizeof ints / sizeof ints[0]),
                     ints, RT_CONVWQ_NFLOATS, fl);
    const void *in[4] = {x, w, t->bias ? bias : NULL, z};
    void *out[1] = {y1};
    rt_set_threads(1);
    int bad = 0;
    CHECK(RT_OK, rt_conv_wq(&cl, in, out));
    rt_set_threads(threads);
    out[0] = y;
    CHECK(RT_OK, rt_conv_wq(&cl, in, out));
    rt_set_threads(1);
    int64_t cog = n / t->groups;
    for (int64_t b = 0; b < t->n && !bad; b++)
        for (int64_t m = 0; m < n && !bad; m++)
            for (int64_t p = 0; p < oh * ow && !bad; p++) {
                int64_t gr = m / cog, py = p / ow, px = p % ow;
                double ref = t->bias ? bias[m] : 0, mag = 0;
                for (int64_t ci = 0, kk = 0; ci < cg; ci++)
                    for (int64_t ky = 0; ky < t->kh; ky++)
                        for (int64_t kx = 0; kx < t->kw; kx++, kk++) {
                            int64_t iy = py * t->st - t->pad + ky * t->dil;
                            int64_t ix = px * t->st - t->pad + kx * t->dil;
                            if (iy < 0 || iy >= t->h || ix < 0 || ix >= t->w)
                                continue;
                            double xv = x[((b * t->cin + gr * cg + ci) * t->h + iy) * t->w + ix];
                            int64_t gi = m * ng + kk / group;
                            double sz = zero ? ts * scale[gi] * zero[gi] : 0;
                            ref += xv * wf[m * k + kk];
                            mag += fabs(xv) * (fabs(wf[m * k + kk]) + fabs(sz));
                        }
                int64_t yi = (b * n + m) * oh * ow + p;
                if (t->z)
                    ref += z[yi];
                if (t->act == RT_EPI_CLAMP && ref < 0)
                    ref = 0;
                if (!(fabs(y[yi] - ref) <= 1e-5 * mag + 1e-6)) {
                    fprintf(stderr, "%s group %d, %lldx%lld stride %lld pad %lld groups %lld: "
                            "y[%lld, %lld, %lld] = %g, expected %g\n", rt_wq_name(fmt), group,
                            (long long)t->kh, (long long)t->kw, (long long)t->st,
                            (long long)t->pad, (long long)t->groups, (long long)b, (long long)m,
                            (long long)p, y[yi], ref);
                    bad = 1;
                }
            }
    /* outputs do not depend on the thread count */
    if (!bad && memcmp(y, y1, sizeof *y * (size_t)ysz)) {
        fprintf(stderr, "%s: threads change the result\n", rt_wq_name(fmt));
        bad = 1;
    }
    free(code), free(scale), free(zero), free(w), free(x), free(bias), free(z);
    free(y), free(y1), free(wf);
    return bad;
}

/* A malformed call is refused, not run. */
static void check_refusals(void)
{
    int64_t ints[] = {1, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, RT_WQ_INT4, 4, 18, 32, 3, 3};
    float fl[RT_CONVWQ_NFLOATS] = {0, 0, 1};
    float x[2 * 5 * 5] = {0}, y[4 * 3 * 3];
    uint8_t w[4 * 32] = {0}; /* 4 rows of one int4 block (21 bytes) */
    size_t rb = rt_wq_row_bytes(RT_WQ_INT4, 18, 32);
    CHECK_TRUE(4 * rb <= sizeof w);
    RtTensorDesc d[2] = {desc(RT_F32, 4, DIMS(1, 2, 5, 5)),
                         desc(RT_U8, 2, DIMS(4, (int64_t)rb))};
    RtTensorDesc od = desc(RT_F32, 4, DIMS(1, 4, 3, 3));
    const void *in[2] = {x, w};
    void *out[1] = {y};
    RtCall cl = call(2, d, 1, &od, 18, ints, RT_CONVWQ_NFLOATS, fl);
    CHECK(RT_OK, rt_conv_wq(&cl, in, out));
    ints[RT_CONVWQ(2) + RT_CONVWQ_K] = 17; /* not a multiple of the window */
    CHECK(RT_EINVAL, rt_conv_wq(&cl, in, out));
    ints[RT_CONVWQ(2) + RT_CONVWQ_K] = 18;
    d[1].dims[1] = (int64_t)rb + 1; /* not the packed row */
    CHECK(RT_EINVAL, rt_conv_wq(&cl, in, out));
    d[1].dims[1] = (int64_t)rb;
    cl.n_ints = RT_CONVWQ(2) + 3; /* ConvWQ's slots cut short */
    CHECK(RT_EINVAL, rt_conv_wq(&cl, in, out));
}

int main(void)
{
    /* 1x1 (the input itself as the GEMM operand); 3x3 pad 1 with K ragged
     * against the groups (5 * 9 = 45); 3x3 stride 2, two images; grouped
     * with the bias, a sum input and a fused Relu; dilated; a 7x7 map of
     * many channels */
    static const Case cases[] = {
        {1, 48, 20, 6, 7, 1, 1, 1, 0, 1, 1, RT_EPI_NONE, 1, 0},
        {1, 5, 9, 8, 8, 3, 3, 1, 1, 1, 1, RT_EPI_NONE, 0, 0},
        {2, 16, 12, 9, 10, 3, 3, 2, 1, 1, 1, RT_EPI_CLAMP, 1, 0},
        {1, 12, 10, 7, 6, 3, 3, 1, 1, 1, 2, RT_EPI_CLAMP, 1, 1},
        {1, 8, 6, 9, 9, 3, 3, 1, 2, 2, 1, RT_EPI_NONE, 1, 1},
        {1, 64, 70, 7, 7, 3, 3, 1, 1, 1, 1, RT_EPI_NONE, 1, 0},
        /* maps of more than 6 GEMM panels: W decoded by blocks of rows and
         * of K (k_conv.c's gemm_wpacked), here 2 of each (K = 576, 130
         * rows), the epilogue split across them; and grouped */
        {1, 64, 130, 14, 14, 3, 3, 1, 1, 1, 1, RT_EPI_CLAMP, 1, 1},
        {1, 32, 20, 15, 15, 3, 3, 1, 1, 1, 2, RT_EPI_NONE, 1, 0},
    };
    int done = 0;
    for (int fmt = RT_WQ_INT8; fmt < RT_WQ_NFORMATS; fmt++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            int g = fmt == RT_WQ_NVFP4 ? 16 : fmt >= RT_WQ_MXINT8 ? 32 : i % 2 ? 32 : 16;
            CHECK(0, check_case(fmt, &cases[i], g, 1 + (int)(i % 2)));
            done++;
        }
    /* a group longer than the GEMM's K block and not a power of two */
    CHECK(0, check_case(RT_WQ_INT4, &cases[5], 96, 2));
    CHECK(0, check_case(RT_WQ_INT8, &cases[5], 576, 2));
    CHECK(11 * 8, done);
    check_refusals();
    return CHECK_DONE();
}
