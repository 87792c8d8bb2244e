/* test_wino.c: Winograd F(4x4, 3x3) Conv (k_conv_wino.c) against a float64 direct convolution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fill.h"
#include "desc.h"
#include "runtime/rt_internal.h"

typedef struct WCase {
    int n, cin, cout, h, w;
    int pt, pl, pb, pr;          /* pads */
    int bias, act, sum;          /* RT_EPI_* activation; sum: a residual input Z */
} WCase;

static double act_ref(double v, int act)
{
    switch (act) {
    case RT_EPI_CLAMP: return v < 0 ? 0 : v > 6 ? 6 : v; /* Relu6 */
    case RT_EPI_LEAKY: return v < 0 ? 0.1 * v : v;
    default: return v;
    }
}

/* Winograd's rounding error grows with the transform's constants (up to 8
 * in A^T, 5 in B^T); relative to the sum of |terms| of each output,
 * F(4x4, 3x3) in float32 measured at most 4e-6 on these cases (the direct
 * GEMM conv: about 1e-7). The bound 2e-5 leaves 5x room and stays far below
 * what one wrong or missing term costs (about 1 / (9 Cin) of the sum). */
static const double tol = 2e-5;

static uint64_t last_hash; /* FNV-1a of the last case's output bits */

/* Returns the number of outputs off the reference by more than tol. */
static int64_t run_case(const WCase *t)
{
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    int oh = t->h + t->pt + t->pb - 2, ow = t->w + t->pl + t->pr - 2;
    int64_t nx = (int64_t)t->n * t->cin * t->h * t->w, nw = (int64_t)t->cout * t->cin * 9;
    int64_t ny = (int64_t)t->n * t->cout * oh * ow, mp = (t->cout + mr - 1) / mr * mr;
    float *x = malloc(sizeof(float) * (size_t)nx), *w = malloc(sizeof(float) * (size_t)nw);
    float *u = malloc(sizeof(float) * (size_t)(36 * mp * t->cin));
    float *b = malloc(sizeof(float) * (size_t)t->cout), *y = malloc(sizeof(float) * (size_t)ny);
    float *z = malloc(sizeof(float) * (size_t)ny);
    fill(x, nx, 31);
    fill(w, nw, 32);
    fill(b, t->cout, 33);
    fill(z, ny, 34);
    for (int64_t i = 0; i < ny; i++)
        y[i] = NAN; /* every output must be written */
    rt_wino_pack(t->cout, t->cin, w, mr, u);
    RtTensorDesc din[4] = {desc(RT_F32, 4, DIMS(t->n, t->cin, t->h, t->w)),
                           desc(RT_F32, 4, DIMS(4 * mp, t->cin, 3, 3)),
                           desc(RT_F32, 1, DIMS(t->cout)),
                           desc(RT_F32, 4, DIMS(t->n, t->cout, oh, ow))};
    if (!t->bias)
        din[2].dtype = RT_UNDEF;
    RtTensorDesc dy = din[3];
    int64_t ints[] = {1, 2, 1, 1, 1, 1, t->pt, t->pl, t->act, mr, 0, RT_WINO_M};
    float fl[2] = {t->act == RT_EPI_LEAKY ? 0.1f : 0.0f, 6.0f};
    const void *in[4] = {x, u, b, z};
    void *out[1] = {y};
    RtCall c = call(t->sum ? 4 : 3, din, 1, &dy, 12, ints, 2, fl);
    CHECK(RT_OK, rt_conv(&c, in, out));
    int64_t bad = 0;
    double worst = 0;
    for (int n = 0; n < t->n; n++)
        for (int m = 0; m < t->cout; m++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    double s = t->bias ? b[m] : 0, a = fabs(s);
                    for (int ci = 0; ci < t->cin; ci++)
                        for (int kh = 0; kh < 3; kh++)
                            for (int kw = 0; kw < 3; kw++) {
                                int ih = i - t->pt + kh, iw = j - t->pl + kw;
                                if (ih < 0 || ih >= t->h || iw < 0 || iw >= t->w)
                                    continue;
                                double v = (double)w[((m * t->cin + ci) * 3 + kh) * 3 + kw] *
                                           x[(((int64_t)n * t->cin + ci) * t->h + ih) * t->w + iw];
                                s += v;
                                a += fabs(v);
                            }
                    int64_t o = (((int64_t)n * t->cout + m) * oh + i) * ow + j;
                    if (t->sum) {
                        s += z[o];
                        a += fabs(z[o]);
                    }
                    double e = act_ref(s, t->act);
                    double r = fabs(y[o] - e) / (a + 1e-3);
                    worst = r > worst ? r : worst;
                    if (!(r <= tol))
                        bad++;
                }
    printf("%dx%dx%dx%d -> %d: worst error %.2g of the sum of |terms|\n", t->n, t->cin, t->h,
           t->w, t->cout, worst);
    last_hash = 1469598103934665603u;
    for (int64_t i = 0; i < ny * 4; i++)
        last_hash = (last_hash ^ ((const unsigned char *)y)[i]) * 1099511628211u;
    /* the wrong tile size, a transposed pack or a stride the kernel lacks: refused */
    int64_t bad_ints[3][12];
    for (int k = 0; k < 3; k++)
        memcpy(bad_ints[k], ints, sizeof ints);
    bad_ints[0][11] = 6;
    bad_ints[1][10] = 1;
    bad_ints[2][2] = 2;
    for (int k = 0; k < 3; k++) {
        RtCall cb = call(3, din, 1, &dy, 12, bad_ints[k], 2, fl);
        CHECK(RT_EINVAL, rt_conv(&cb, in, out));
    }
    free(x), free(w), free(u), free(b), free(y), free(z);
    return bad;
}

int main(void)
{
    static const WCase cases[] = {
        /* n cin cout  h   w  pt pl pb pr bias act sum */
        {1, 32, 32, 16, 16, 1, 1, 1, 1, 1, RT_EPI_NONE, 0},
        {1, 8, 5, 7, 9, 0, 0, 0, 0, 0, RT_EPI_NONE, 0},      /* output 5x7: partial tiles */
        {2, 17, 30, 13, 11, 1, 1, 1, 1, 1, RT_EPI_CLAMP, 0}, /* two images, odd channels */
        {1, 64, 64, 28, 28, 1, 1, 1, 1, 1, RT_EPI_CLAMP, 1}, /* resnet block: sum, Relu */
        {1, 40, 29, 6, 30, 1, 0, 0, 1, 1, RT_EPI_LEAKY, 1},  /* asymmetric pads */
        {1, 3, 16, 70, 300, 1, 1, 1, 1, 1, RT_EPI_NONE, 0},  /* 75 tiles a row */
        {1, 256, 33, 10, 10, 1, 1, 1, 1, 0, RT_EPI_NONE, 0}, /* Cin at the stack's limit */
        {1, 1, 1, 3, 3, 0, 0, 0, 0, 1, RT_EPI_NONE, 0},      /* one output */
    };
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const WCase *t = &cases[i];
        if (!rt_wino_fits(t->cin, t->w + t->pl + t->pr - 2, nr)) {
            fprintf(stderr, "case %u: Cin %d does not fit a %d-column tile\n", i, cases[i].cin,
                    nr);
            CHECK(1, 0);
            continue;
        }
        CHECK(0, run_case(&cases[i]));
    }
    /* with threads the result is the same (tile blocks split differently) */
    for (int k = 3; k <= 5; k += 2) {
        CHECK(0, run_case(&cases[k]));
        uint64_t one = last_hash;
        rt_set_threads(2);
        CHECK(0, run_case(&cases[k]));
        CHECK_TRUE(one == last_hash);
        rt_set_threads(1);
    }
    return CHECK_DONE();
}
