/* test_k_wq_matmul.c: MatMulWQ's kernels against the reference decoder and a double matmul, every format. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "wq_codes.h"
#include "runtime/onnxcc_rt_kernels.h"

/* Built for the generic runtime and, with their -march, the native and
 * x86-64-v3 ones (tests/CMakeLists.txt): the AVX-512, AVX2 and portable
 * paths each meet the same reference. */

/* Tolerance: the kernel forms w as s*q - s*z (one rounding each) and sums
 * in float32 in another order than the reference, so the error is bounded
 * by a few ulps of sum |x| * (|w| + |s*z|) over K: 1e-5 of it, relative,
 * leaves a margin of ~10x over K = 600. */
/* Stretch the codes' side values past what the quantizers write, as the
 * packing allows: zero points anywhere in 0..255, MX scales 2^-127..2^100
 * (E8M0 byte 0 included). */
static int wide_params;

static int check_case(int fmt, int64_t m, int64_t n, int64_t k, int group, int threads)
{
    int64_t ng = (k + group - 1) / group;
    int16_t *code = malloc(sizeof *code * (size_t)(n * k));
    float *scale = malloc(sizeof *scale * (size_t)(n * ng));
    uint8_t *zero = fmt <= RT_WQ_INT2 ? malloc((size_t)(n * ng)) : NULL;
    float ts;
    make_codes(fmt, n, k, group, code, scale, zero, &ts);
    for (int64_t i = 0; wide_params && i < n * ng; i++) {
        if (zero)
            zero[i] = (uint8_t)rnd(0, 255);
        if (fmt >= RT_WQ_MXINT8 && fmt <= RT_WQ_MXFP4)
            scale[i] = ldexpf(1.0f, i % 7 ? rnd(-127, 100) : -127);
    }
    RtWqCodes c = {fmt, n, k, group, code, scale, zero, ts};
    uint8_t *w = malloc(rt_wq_packed_bytes(fmt, n, k, group));
    rt_wq_pack(&c, w);
    float *x = malloc(sizeof *x * (size_t)(m * k)), *bias = malloc(sizeof *bias * (size_t)n);
    float *y = malloc(sizeof *y * (size_t)(m * n)), *y1 = malloc(sizeof *y * (size_t)(m * n));
    float *row = malloc(sizeof *row * (size_t)k);
    for (int64_t i = 0; i < m * k; i++)
        x[i] = (float)rnd(-1000, 1000) / 1000.0f;
    for (int64_t i = 0; i < n; i++)
        bias[i] = (float)rnd(-100, 100) / 50.0f;
    int use_bias = (n + k) % 2;
    rt_set_threads(1);
    rt_wq_matmul(fmt, m, n, k, group, ts, x, w, use_bias ? bias : NULL, y1);
    rt_set_threads(threads);
    /* through the RtCall entry, X as [m, 1, k] */
    RtTensorDesc d[3] = {desc(RT_F32, 3, DIMS(m, 1, k)),
                         desc(RT_U8, 2, DIMS(n, (int64_t)rt_wq_row_bytes(fmt, k, group))),
                         desc1(RT_F32, n)};
    RtTensorDesc od = desc(RT_F32, 3, DIMS(m, 1, n));
    int64_t ints[RT_WQ_NINTS] = {fmt, n, k, group};
    RtCall cl = call(use_bias ? 3 : 2, d, 1, &od, RT_WQ_NINTS, ints, RT_WQ_NFLOATS, &ts);
    const void *in[3] = {x, w, bias};
    void *out[1] = {y};
    CHECK(RT_OK, rt_matmul_wq(&cl, in, out));
    rt_set_threads(1);
    int bad = 0;
    for (int64_t r = 0; r < n && !bad; r++) {
        rt_wq_dequant_row(fmt, n, k, group, ts, w, r, row);
        for (int64_t mi = 0; mi < m; mi++) {
            double ref = use_bias ? bias[r] : 0, mag = 0;
            for (int64_t i = 0; i < k; i++) {
                float sz = zero ? ts * scale[r * ng + i / group] * zero[r * ng + i / group] : 0;
                ref += (double)x[mi * k + i] * row[i];
                mag += fabs(x[mi * k + i]) * (fabs(row[i]) + fabs(sz));
            }
            double got = y[mi * n + r];
            if (!(fabs(got - ref) <= 1e-5 * mag + 1e-6)) {
                fprintf(stderr, "%s m=%lld n=%lld k=%lld group=%d threads=%d: y[%lld,%lld] = %g, "
                        "expected %g\n", rt_wq_name(fmt), (long long)m, (long long)n,
                        (long long)k, group, threads, (long long)mi, (long long)r, got, ref);
                bad = 1;
                break;
            }
        }
    }
    /* outputs do not depend on the thread count */
    if (!bad && memcmp(y, y1, sizeof *y * (size_t)(m * n))) {
        fprintf(stderr, "%s m=%lld n=%lld k=%lld: threads change the result\n", rt_wq_name(fmt),
                (long long)m, (long long)n, (long long)k);
        bad = 1;
    }
    free(code), free(scale), free(zero), free(w), free(x), free(bias);
    free(y), free(y1), free(row);
    return bad;
}

int main(void)
{
    static const int64_t ms[] = {1, 2, 4, 5, 9};
    static const int64_t ns[] = {1, 7, 17, 150};
    static const int64_t ks[] = {5, 32, 100, 293, 600};
    static const int groups[] = {16, 32, 64, 12, 512};
    int cases = 0;
    for (int fmt = RT_WQ_INT8; fmt < RT_WQ_NFORMATS; fmt++)
        for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; gi++)
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
                for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++) {
                    /* every shape once, the N list in turn, so the run stays short */
                    int64_t n = ns[(gi + ki + mi) % 4];
                    CHECK(0, check_case(fmt, ms[mi], n, ks[ki], groups[gi], 1 + (int)(mi % 2)));
                    cases++;
                }
    /* many rows (the GEMM path, W decoded into its packed panels): K blocks
     * of the GEMM that end inside a group (48 does not divide 256), partial
     * panels of N, both thread counts */
    for (int fmt = RT_WQ_INT8; fmt < RT_WQ_NFORMATS; fmt++) {
        int g = fmt == RT_WQ_NVFP4 ? 16 : fmt >= RT_WQ_MXINT8 ? 32 : 48;
        CHECK(0, check_case(fmt, 40, 70, 600, g, 2));
        CHECK(0, check_case(fmt, 64, 33, 300, fmt >= RT_WQ_MXINT8 ? g : 32, 1));
    }
    /* one row of X (k_wq_gemv.c where the target has a kernel): the groups
     * it specializes (32, 64, 128) and others, K a whole number of groups
     * or not, N not a multiple of the rows taken at once and past the 64
     * rows of one call, both thread counts, then the side values widened */
    static const int gv_groups[] = {32, 64, 128, 96, 16};
    for (int wide = 0; wide < 2; wide++) {
        wide_params = wide;
        for (int fmt = RT_WQ_INT8; fmt < RT_WQ_NFORMATS; fmt++)
            for (int gi = 0; gi < 5; gi++) {
                int g = gv_groups[gi];
                if (fmt == RT_WQ_SHERRY && g % 4)
                    continue;
                CHECK(0, check_case(fmt, 1, 1 + gi + 4 * wide, 3 * g, g, 1));
                CHECK(0, check_case(fmt, 1, 70 + gi, 2 * g + 7 + gi, g, 2));
                cases += 2;
            }
    }
    wide_params = 0;
    /* the 4096-wide matrix-vector shape of the benchmark, int4 group 32 */
    CHECK(0, check_case(RT_WQ_INT4, 1, 64, 4096, 32, 2));
    CHECK(0, check_case(RT_WQ_INT8, 3, 64, 4096, 128, 2));
    CHECK(11 * 5 * 5 * 5 + 2 * 11 * 5 * 2, cases);
    return CHECK_DONE();
}
