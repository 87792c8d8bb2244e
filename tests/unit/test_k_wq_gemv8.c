/* test_k_wq_gemv8.c: MatMulWQ with int8 activations against a plain C reference of the same quantization, and against float activations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "wq_codes.h"
#include "runtime/onnxcc_rt_kernels.h"
#include "runtime/k_wq_internal.h"

#if defined(A8_NEED_AVXVNNI)
#include <cpuid.h>
#endif

/* Built for the generic runtime (portable C), native (AVX-512 VNNI here),
 * x86-64-v3 and -v4 (AVX2's vpmaddubsw; -v4 has AVX-512 but no VNNI) and
 * with -mavxvnni (AVX-VNNI; skipped on CPUs without it): A8_EXPECT names
 * the kernel each must carry (tests/CMakeLists.txt).
 *
 * The reference quantizes X as k_wq_internal.h states it, in k order, and
 * sums each group's (q - z) * x_q in int64, then y = ts * sum_g s_w s_x dot
 * + bias in double. Tolerances:
 *   against it, 1e-5 of sum_g |s_w s_x dot| (float32 sums in another order);
 *   with power-of-two scales (2^-2..1, ts 1/2) and X on a grid of 1/16
 *   (one +-127 step per group, the others within +-3), every partial sum
 *   is exact in float32 (below 2^24 units of 2^-7 for these shapes), so
 *   every path must give the reference exactly: the int32 dot products
 *   are the same;
 *   against float activations (double), sum_k |w_k| s_x(g) / 2 per output
 *   (x rounds to its nearest step) plus the float rounding above. */

static int exact_mode; /* power-of-two scales, X on its grid */

/* The reference with int8 activations, and the float one, for row r. */
static void reference(const RtWqCodes *c, const float *x, int64_t r, const float *bias,
                      double *y8, double *mag8, double *yf, double *bound)
{
    int64_t k = c->k, ng = (k + c->group - 1) / c->group;
    *y8 = *yf = bias ? bias[r] : 0.0;
    *mag8 = *bound = 0;
    for (int64_t g = 0; g < ng; g++) {
        int64_t k0 = g * c->group, k1 = k0 + c->group < k ? k0 + c->group : k;
        float amax = 0;
        for (int64_t i = k0; i < k1; i++)
            amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
        float sx = amax / 127.0f, sw = c->scale[r * ng + g];
        int z = c->zero[r * ng + g];
        int64_t dot = 0;
        double wabs = 0;
        for (int64_t i = k0; i < k1; i++) {
            int q = 0;
            if (sx > 0) {
                float v = rintf(x[i] / sx);
                q = v > 127 ? 127 : v < -127 ? -127 : (int)v;
            }
            int wc = c->code[r * k + i] - z;
            dot += (int64_t)wc * q;
            *yf += (double)c->tensor_scale * sw * wc * x[i];
            wabs += fabs((double)c->tensor_scale * sw * wc);
        }
        double t = (double)c->tensor_scale * ((double)sw * sx) * (double)dot;
        *y8 += t;
        *mag8 += fabs(t);
        *bound += wabs * sx / 2;
    }
}

static int check_case(int fmt, int64_t m, int64_t n, int64_t k, int group, int threads)
{
    int64_t ng = (k + group - 1) / group;
    int16_t *code = malloc(sizeof *code * (size_t)(n * k));
    float *scale = malloc(sizeof *scale * (size_t)(n * ng));
    uint8_t *zero = malloc((size_t)(n * ng));
    float ts;
    make_codes(fmt, n, k, group, code, scale, zero, &ts);
    ts = exact_mode ? 0.5f : 1.25f;
    for (int64_t i = 0; i < n * ng; i++) {
        zero[i] = (uint8_t)(i % 5 ? zero[i] : rnd(0, 255)); /* the packing takes any */
        if (exact_mode)
            scale[i] = ldexpf(1.0f, rnd(-2, 0));
    }
    RtWqCodes c = {fmt, n, k, group, code, scale, zero, ts};
    uint8_t *w = malloc(rt_wq_packed_bytes(fmt, n, k, group));
    rt_wq_pack(&c, w);
    float *x = malloc(sizeof *x * (size_t)(m * k)), *bias = malloc(sizeof *bias * (size_t)n);
    float *y = malloc(sizeof *y * (size_t)(m * n)), *y1 = malloc(sizeof *y * (size_t)(m * n));
    for (int64_t i = 0; i < m * k; i++) {
        if (exact_mode) /* steps of 1/16, each group holding a +-127 step, the rest small */
            x[i] = ldexpf((float)((i % k) % group ? rnd(-3, 3) : i % 2 ? 127 : -127), -4);
        else
            x[i] = (float)rnd(-1000, 1000) / 1000.0f * (i % 37 ? 1.0f : 30.0f);
    }
    if (!exact_mode && k > 40) /* a group of zeros: s_x 0 */
        for (int64_t i = 0; i < group && i < k; i++)
            x[i] = 0.0f;
    for (int64_t i = 0; i < n; i++)
        bias[i] = (float)rnd(-100, 100) / 64.0f;
    int use_bias = (n + k) % 2;
    rt_set_threads(1);
    rt_wq_matmul_act(fmt, m, n, k, group, ts, x, w, use_bias ? bias : NULL, y1, 8);
    rt_set_threads(threads);
    /* through the RtCall entry with act_bits 8, X as [m, 1, k] */
    RtTensorDesc d[3] = {desc(RT_F32, 3, DIMS(m, 1, k)),
                         desc(RT_U8, 2, DIMS(n, (int64_t)rt_wq_row_bytes(fmt, k, group))),
                         desc1(RT_F32, n)};
    RtTensorDesc od = desc(RT_F32, 3, DIMS(m, 1, n));
    int64_t ints[RT_WQ_NINTS] = {fmt, n, k, group, 8};
    RtCall cl = call(use_bias ? 3 : 2, d, 1, &od, RT_WQ_NINTS, ints, RT_WQ_NFLOATS, &ts);
    const void *in[3] = {x, w, bias};
    void *out[1] = {y};
    CHECK(RT_OK, rt_matmul_wq(&cl, in, out));
    rt_set_threads(1);
    int bad = 0;
    for (int64_t r = 0; r < n && !bad; r++)
        for (int64_t mi = 0; mi < m; mi++) {
            double y8, mag, yf, bound;
            reference(&c, x + mi * k, r, use_bias ? bias : NULL, &y8, &mag, &yf, &bound);
            double got = y[mi * n + r], tol = exact_mode ? 0 : 1e-5 * mag + 1e-6;
            if (!(fabs(got - y8) <= tol) || !(fabs(got - yf) <= bound + tol + 1e-6)) {
                fprintf(stderr, "%s m=%lld n=%lld k=%lld group=%d threads=%d exact=%d: "
                        "y[%lld,%lld] = %.9g, int8 reference %.9g, float %.9g (bound %g)\n",
                        rt_wq_name(fmt), (long long)m, (long long)n, (long long)k, group,
                        threads, exact_mode, (long long)mi, (long long)r, got, y8, yf, bound);
                bad = 1;
                break;
            }
        }
    if (!bad && memcmp(y, y1, sizeof *y * (size_t)(m * n))) {
        fprintf(stderr, "%s m=%lld n=%lld k=%lld: threads change the result\n", rt_wq_name(fmt),
                (long long)m, (long long)n, (long long)k);
        bad = 1;
    }
    free(code), free(scale), free(zero), free(w), free(x), free(bias), free(y), free(y1);
    return bad;
}

/* Where the path does not apply, MatMulWQ is the float one, bit for bit:
 * more than 8 rows, a format without an integer kernel, act_bits 0 or an
 * RtCall without the slot, and an X with a NaN (which must come out). */
static void test_fallbacks(void)
{
    CHECK(0, wq_a8_takes(RT_WQ_INT4, 9, 64, 32));
    CHECK(0, wq_a8_takes(RT_WQ_MXFP4, 1, 64, 32));
    CHECK(0, wq_a8_takes(RT_WQ_INT4, 1, 1 << 20, 32));
    CHECK(1, wq_a8_takes(RT_WQ_INT4, 8, 4096, 32));
    CHECK(1, wq_a8_takes(RT_WQ_INT2, 1, 100, 12));
    enum { N = 6, K = 96, G = 32 };
    int16_t code[N * K];
    float scale[N * 3], ts, x[10 * K], y[10 * N], yf[10 * N];
    uint8_t zero[N * 3], w[N * 3 * 21];
    make_codes(RT_WQ_INT4, N, K, G, code, scale, zero, &ts);
    RtWqCodes c = {RT_WQ_INT4, N, K, G, code, scale, zero, ts};
    rt_wq_pack(&c, w);
    for (int i = 0; i < 10 * K; i++)
        x[i] = (float)rnd(-500, 500) / 250.0f;
    rt_wq_matmul(RT_WQ_INT4, 9, N, K, G, ts, x, w, NULL, yf);
    rt_wq_matmul_act(RT_WQ_INT4, 9, N, K, G, ts, x, w, NULL, y, 8);
    CHECK(0, memcmp(y, yf, sizeof y[0] * 9 * N));
    rt_wq_matmul(RT_WQ_INT4, 1, N, K, G, ts, x, w, NULL, yf);
    RtTensorDesc d[2] = {desc(RT_F32, 2, DIMS(1, K)), desc(RT_U8, 2, DIMS(N, 3 * 21))};
    RtTensorDesc od = desc(RT_F32, 2, DIMS(1, N));
    int64_t ints[RT_WQ_NINTS] = {RT_WQ_INT4, N, K, G, 0};
    const void *in[2] = {x, w};
    void *out[1] = {y};
    for (int nints = RT_WQ_ACT_BITS; nints <= RT_WQ_NINTS; nints++) {
        RtCall cl = call(2, d, 1, &od, nints, ints, RT_WQ_NFLOATS, &ts);
        memset(y, 0, sizeof y);
        CHECK(RT_OK, rt_matmul_wq(&cl, in, out));
        CHECK(0, memcmp(y, yf, sizeof y[0] * N));
    }
    x[5] = NAN;
    rt_wq_matmul_act(RT_WQ_INT4, 1, N, K, G, ts, x, w, NULL, y, 8);
    for (int i = 0; i < N; i++)
        CHECK_TRUE(isnan(y[i]));
    /* the vector order: element e of the buffer is a distinct element of the group */
    static const int fmts[] = {RT_WQ_INT8, RT_WQ_INT4, RT_WQ_INT2};
    for (int f = 0; f < 3; f++)
        for (int g = 32; g <= 256; g *= 2) {
            unsigned char seen[256] = {0};
            int ok = 1;
            for (int e = 0; e < g; e++) {
                int i = wq_a8_elem(fmts[f], g, e);
                ok &= i >= 0 && i < g && !seen[i];
                seen[i < 0 || i >= g ? 0 : i] = 1;
            }
            CHECK(1, ok);
        }
}

int main(void)
{
#if defined(A8_NEED_AVXVNNI)
    /* CPUID.(7,1):EAX bit 4; without it the path cannot run: skipped (77), not passed */
    unsigned a = 0, b = 0, cc = 0, dd = 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &cc, &dd) || !(a & (1u << 4))) {
        printf("this CPU has no AVX-VNNI\n");
        return 77;
    }
#endif
#if defined(A8_EXPECT)
    CHECK_STR_CONTAINS(wq_a8_isa(), A8_EXPECT);
    CHECK(strlen(A8_EXPECT), strlen(wq_a8_isa()));
#endif
    test_fallbacks();
    static const int fmts[] = {RT_WQ_INT8, RT_WQ_INT4, RT_WQ_INT2};
    static const int groups[] = {32, 64, 128, 96, 256, 16, 48, 12};
    static const int64_t ms[] = {1, 2, 3, 8};
    int cases = 0;
    for (exact_mode = 0; exact_mode < 2; exact_mode++)
        for (int f = 0; f < 3; f++)
            for (int gi = 0; gi < 8; gi++) {
                int g = groups[gi];
                int64_t m = ms[(gi + f) % 4];
                /* K whole groups or a partial last one, N past one call's rows */
                CHECK(0, check_case(fmts[f], m, 5 + gi, 3 * g, g, 1));
                CHECK(0, check_case(fmts[f], 1, 70 + gi, 2 * g + 7 + gi, g, 2));
                CHECK(0, check_case(fmts[f], m, 131, 4 * g + 1, g, 2));
                cases += 3;
            }
    exact_mode = 0;
    /* the benchmark's shape */
    CHECK(0, check_case(RT_WQ_INT4, 1, 64, 4096, 32, 2));
    CHECK(0, check_case(RT_WQ_INT4, 4, 33, 4096, 128, 1));
    CHECK(2 * 3 * 8 * 3, cases);
    return CHECK_DONE();
}
