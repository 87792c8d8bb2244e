/* test_wq_methods.c: the weight quantizers (passes/wq_methods.c) against each format's rules and straightforward references. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "passes/wq_methods.h"

static uint64_t rng = 88172645463325252ull;

static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
    double u = urand() + 1e-300, v = urand();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static float *randw(int64_t n, int64_t k, double sd)
{
    float *w = malloc(sizeof(float) * (size_t)(n * k));
    for (int64_t i = 0; i < n * k; i++)
        w[i] = (float)(sd * gauss());
    return w;
}

static int64_t gsz(const RtWqCodes *c, int64_t r, int64_t i)
{
    return r * ((c->k + c->group - 1) / c->group) + i / c->group;
}

/* The element values of the floating-point formats, decoded by the test
 * itself: E2M1 and E4M3 (OCP MX v1.0, section 5.3). */
static double e2m1(int code)
{
    static const double v[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
    return code & 8 ? -v[code & 7] : v[code & 7];
}

static double e4m3(int code)
{
    int e = (code >> 3) & 15, m = code & 7;
    double a = e ? ldexp(1 + m / 8.0, e - 7) : ldexp(m / 8.0, -6);
    return code & 0x80 ? -a : a;
}

/* INT8..INT2 round-to-nearest: codes and zero points in range, every
 * weight within half a step (the range holds min(w, 0)..max(w, 0)), and
 * wq_dequant the contract's formula. k = 100 leaves a short last group. */
static void test_rtn_int(void)
{
    int64_t n = 6, k = 100;
    float *w = randw(n, k, 1), *wd = malloc(sizeof(float) * (size_t)(n * k));
    for (int fmt = RT_WQ_INT8; fmt <= RT_WQ_INT2; fmt++) {
        int qmax = (1 << (fmt == RT_WQ_INT8 ? 8 : fmt == RT_WQ_INT4 ? 4 : fmt == RT_WQ_INT3 ? 3 : 2)) - 1;
        RtWqCodes c;
        Diag d = {0};
        CHECK(0, wq_quantize(w, n, k, fmt, 32, QM_RTN, NULL, &c, &d));
        CHECK(32, c.group);
        wq_dequant(&c, wd);
        int bad_range = 0, bad_err = 0, bad_formula = 0;
        for (int64_t r = 0; r < n; r++)
            for (int64_t i = 0; i < k; i++) {
                int64_t g = gsz(&c, r, i);
                int q = c.code[r * k + i];
                bad_range += q < 0 || q > qmax || c.zero[g] > qmax;
                bad_err += fabsf(w[r * k + i] - wd[r * k + i]) > c.scale[g] * 0.5f * 1.0001f;
                bad_formula += wd[r * k + i] != c.scale[g] * (float)(q - c.zero[g]);
            }
        CHECK(0, bad_range);
        CHECK(0, bad_err);
        CHECK(0, bad_formula);
        wq_codes_free(&c);
    }
    free(w);
    free(wd);
}

/* Ternary (BitNet b1.58): s is the group's mean |w|, code clamp(round(w/s), -1, 1). */
static void test_rtn_ternary(void)
{
    int64_t n = 4, k = 96;
    float *w = randw(n, k, 0.5);
    for (int fmt = RT_WQ_TERNARY; fmt <= RT_WQ_TERNARY5; fmt++) {
        RtWqCodes c;
        Diag d = {0};
        CHECK(0, wq_quantize(w, n, k, fmt, 32, QM_RTN, NULL, &c, &d));
        CHECK_TRUE(c.zero == NULL);
        int bad_scale = 0, bad_code = 0;
        for (int64_t r = 0; r < n; r++)
            for (int64_t g = 0; g < k / 32; g++) {
                double sum = 0;
                for (int64_t i = g * 32; i < g * 32 + 32; i++)
                    sum += fabs(w[r * k + i]);
                float s = c.scale[r * (k / 32) + g];
                bad_scale += fabs(s - sum / 32) > 1e-6 * sum / 32;
                for (int64_t i = g * 32; i < g * 32 + 32; i++) {
                    double t = w[r * k + i] / s;
                    int want = t > 0.5 ? 1 : t < -0.5 ? -1 : 0;
                    bad_code += c.code[r * k + i] != want && fabs(fabs(t) - 0.5) > 1e-6;
                }
            }
        CHECK(0, bad_scale);
        CHECK(0, bad_code);
        wq_codes_free(&c);
    }
    free(w);
}

/* Sherry 3:4: exactly one zero in every 4 consecutive weights, at the
 * smallest |w|, the sign elsewhere; the scale is the mean kept |w| and a
 * scale 1% off either way reconstructs worse. */
static void test_rtn_sherry(void)
{
    int64_t n = 5, k = 130; /* a last block of 2 */
    float *w = randw(n, k, 1), *wd = malloc(sizeof(float) * (size_t)(n * k));
    RtWqCodes c;
    Diag d = {0};
    CHECK(0, wq_quantize(w, n, k, RT_WQ_SHERRY, 32, QM_RTN, NULL, &c, &d));
    wq_dequant(&c, wd);
    int bad_zeros = 0, bad_sign = 0, bad_min = 0;
    for (int64_t r = 0; r < n; r++)
        for (int64_t b = 0; b < k; b += 4) {
            int zeros = 0;
            int64_t e = b + 4 < k ? b + 4 : k;
            for (int64_t i = b; i < e; i++) {
                int q = c.code[r * k + i];
                if (q == 0) {
                    zeros++;
                    for (int64_t j = b; j < e; j++)
                        bad_min += fabsf(w[r * k + j]) < fabsf(w[r * k + i]);
                } else {
                    bad_sign += q != (w[r * k + i] < 0 ? -1 : 1);
                }
            }
            bad_zeros += zeros != 1;
        }
    CHECK(0, bad_zeros);
    CHECK(0, bad_sign);
    CHECK(0, bad_min);
    int64_t ng = (k + 31) / 32;
    int not_least = 0;
    for (int64_t r = 0; r < n; r++)
        for (int64_t g = 0; g < ng; g++) {
            float s = c.scale[r * ng + g];
            double e0 = 0, lo = 0, hi = 0;
            for (int64_t i = g * 32; i < k && i < g * 32 + 32; i++) {
                double x = w[r * k + i], q = c.code[r * k + i];
                e0 += (x - s * q) * (x - s * q);
                lo += (x - 0.99 * s * q) * (x - 0.99 * s * q);
                hi += (x - 1.01 * s * q) * (x - 1.01 * s * q);
            }
            not_least += !(e0 < lo && e0 < hi);
        }
    CHECK(0, not_least);
    wq_codes_free(&c);
    free(w);
    free(wd);
}

/* |w - ŵ| no larger than to the nearest value of any code (brute force over
 * every code of the element format at the chosen scale). */
static double nearest_gap(double x, double s, int fmt)
{
    double best = INFINITY;
    int ncode = fmt == RT_WQ_MXFP8 ? 256 : 16;
    for (int q = 0; q < ncode; q++) {
        if (fmt == RT_WQ_MXFP8 && (q & 0x7f) == 0x7f)
            continue; /* NaN */
        double v = fmt == RT_WQ_MXFP8 ? e4m3(q) : e2m1(q);
        best = fmin(best, fabs(x - s * v));
    }
    return best;
}

/* MX formats: blocks of 32, scale 2^(floor(log2 amax) - emax) (a power of
 * two), elements the nearest representable (saturating). Some blocks hold
 * values spanning many binades and an all-zero block. */
static void test_mx(void)
{
    int64_t n = 3, k = 128;
    float *w = randw(n, k, 1), *wd = malloc(sizeof(float) * (size_t)(n * k));
    for (int64_t i = 0; i < 32; i++)
        w[32 + i] = (float)(ldexp(1, (int)(i % 20) - 12) * (i & 1 ? -1.3 : 1.7));
    memset(w + 64, 0, 32 * sizeof(float));
    int emax[3] = {0, 8, 2};
    for (int fmt = RT_WQ_MXINT8; fmt <= RT_WQ_MXFP4; fmt++) {
        RtWqCodes c;
        Diag d = {0};
        CHECK(0, wq_quantize(w, n, k, fmt, 0, QM_RTN, NULL, &c, &d));
        CHECK(32, c.group);
        wq_dequant(&c, wd);
        int bad_pow2 = 0, bad_scale = 0, bad_code = 0, bad_near = 0, bad_deq = 0;
        for (int64_t r = 0; r < n; r++)
            for (int64_t g = 0; g < k / 32; g++) {
                float s = c.scale[r * 4 + g];
                int e;
                bad_pow2 += frexpf(s, &e) != 0.5f;
                double amax = 0;
                for (int64_t i = g * 32; i < g * 32 + 32; i++)
                    amax = fmax(amax, fabs(w[r * k + i]));
                if (amax > 0)
                    bad_scale += s != ldexp(1, (int)floor(log2(amax)) - emax[fmt - RT_WQ_MXINT8]);
                for (int64_t i = g * 32; i < g * 32 + 32; i++) {
                    int q = c.code[r * k + i];
                    double x = w[r * k + i], v;
                    if (fmt == RT_WQ_MXINT8) {
                        bad_code += q < -128 || q > 127;
                        v = q / 64.0;
                        /* half a step, or saturated at 127/64 */
                        bad_near += fabs(x - s * v) > s / 128 * 1.0001 && q != 127;
                    } else {
                        bad_code += fmt == RT_WQ_MXFP4 ? q < 0 || q > 15 : q < 0 || q > 255 ||
                                                                          (q & 0x7f) == 0x7f;
                        v = fmt == RT_WQ_MXFP8 ? e4m3(q) : e2m1(q);
                        bad_near += fabs(x - s * v) > nearest_gap(x, s, fmt) * 1.000001 + 1e-30;
                    }
                    bad_deq += fabs(wd[r * k + i] - s * v) > 1e-7 * fabs(s * v);
                }
            }
        CHECK(0, bad_pow2);
        CHECK(0, bad_scale);
        CHECK(0, bad_code);
        CHECK(0, bad_near);
        CHECK(0, bad_deq);
        wq_codes_free(&c);
    }
    free(w);
    free(wd);
}

/* NVFP4: tensor scale amax / (6 * 448), block scales of 16 E4M3 numbers
 * near amax_block / 6 / ts, E2M1 elements the nearest at that scale. */
static void test_nvfp4(void)
{
    int64_t n = 4, k = 64;
    float *w = randw(n, k, 2), *wd = malloc(sizeof(float) * (size_t)(n * k));
    w[5] = 40; /* one outlier sets the tensor scale */
    RtWqCodes c;
    Diag d = {0};
    CHECK(0, wq_quantize(w, n, k, RT_WQ_NVFP4, 0, QM_RTN, NULL, &c, &d));
    CHECK(16, c.group);
    CHECK_NEAR(40.0 / (6 * 448), c.tensor_scale, 1e-9);
    wq_dequant(&c, wd);
    int bad_e4m3 = 0, bad_scale = 0, bad_code = 0, bad_near = 0;
    for (int64_t r = 0; r < n; r++)
        for (int64_t g = 0; g < k / 16; g++) {
            float s = c.scale[r * 4 + g];
            int is_e4m3 = 0;
            for (int q = 0; q < 0x7f; q++)
                is_e4m3 |= e4m3(q) == s;
            bad_e4m3 += !is_e4m3;
            double amax = 0;
            for (int64_t i = g * 16; i < g * 16 + 16; i++)
                amax = fmax(amax, fabs(w[r * k + i]));
            double want = amax / 6 / c.tensor_scale; /* E4M3 has 3 mantissa bits */
            bad_scale += fabs(s - want) > want / 16 * 1.0001;
            double st = (double)s * c.tensor_scale;
            for (int64_t i = g * 16; i < g * 16 + 16; i++) {
                int q = c.code[r * k + i];
                bad_code += q < 0 || q > 15;
                double x = w[r * k + i];
                bad_near += fabs(x - st * e2m1(q)) > nearest_gap(x, st, RT_WQ_NVFP4) * 1.000001 + 1e-30;
                bad_near += fabs(wd[r * k + i] - st * e2m1(q)) > 1e-6 * fabs(st * e2m1(q));
            }
        }
    CHECK(0, bad_e4m3);
    CHECK(0, bad_scale);
    CHECK(0, bad_code);
    CHECK(0, bad_near);
    wq_codes_free(&c);
    free(w);
    free(wd);
}

/* H from wq_hessian_add against the plain sum of x xᵀ: 3 rows then 4 (the
 * rank-one path), then 300 (the GEMM path, more rows than one batch). */
static void test_hessian(void)
{
    int64_t k = 9, rows = 307;
    float *x = randw(rows, k, 1);
    WqHessian *h = wq_hessian_new(k);
    wq_hessian_add(h, x, 3);
    wq_hessian_add(h, x + 3 * k, 4);
    wq_hessian_add(h, x + 7 * k, rows - 7);
    CHECK(rows, h->rows);
    double worst = 0;
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++) {
            double s = 0;
            for (int64_t r = 0; r < rows; r++)
                s += (double)x[r * k + i] * x[r * k + j];
            worst = fmax(worst, fabs(s - h->h[i * k + j]) / (1 + fabs(s)));
        }
    CHECK_NEAR(0, worst, 1e-5); /* the GEMM sums batches in float */
    wq_hessian_free(h);
    free(x);
}

/* ---- the methods that use H ---- */

/* Inputs with a few strong directions: x = 0.2 z + sum_d a_d u_d, z and a
 * Gaussian, u_d fixed random directions of scale 3; some inputs dead. */
static float *correlated_x(int64_t rows, int64_t k, int ndir, int64_t dead)
{
    float *u = randw(ndir, k, 1), *x = malloc(sizeof(float) * (size_t)(rows * k));
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < k; i++)
            x[r * k + i] = (float)(0.2 * gauss());
        for (int dd = 0; dd < ndir; dd++) {
            double a = 3 * gauss();
            for (int64_t i = 0; i < k; i++)
                x[r * k + i] += (float)(a * u[dd * k + i]);
        }
        for (int64_t i = 0; i < dead; i++)
            x[r * k + i * 7] = 0;
    }
    free(u);
    return x;
}

/* ||(W - Ŵ) Xᵀ||², directly from the calibration rows. */
static double out_error(const float *w, const float *wq, int64_t n, int64_t k, const float *x,
                        int64_t rows)
{
    double e = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t o = 0; o < n; o++) {
            double s = 0;
            for (int64_t i = 0; i < k; i++)
                s += ((double)w[o * k + i] - wq[o * k + i]) * x[r * k + i];
            e += s * s;
        }
    return e;
}

static double method_error(const float *w, int64_t n, int64_t k, int fmt, int method,
                           const WqHessian *h, const float *x, int64_t rows, RtWqCodes *keep)
{
    RtWqCodes c;
    Diag d = {0};
    if (wq_quantize(w, n, k, fmt, 32, method, h, &c, &d)) {
        fprintf(stderr, "wq_quantize: %s\n", d.msg);
        return INFINITY;
    }
    float *wq = malloc(sizeof(float) * (size_t)(n * k));
    wq_dequant(&c, wq);
    double e = out_error(w, wq, n, k, x, rows);
    free(wq);
    if (keep)
        *keep = c;
    else
        wq_codes_free(&c);
    return e;
}

/* With uncorrelated inputs (H diagonal) there is no error to spread:
 * GPTQ's codes are round-to-nearest's. */
static void test_gptq_diagonal(void)
{
    int64_t n = 6, k = 64;
    float *w = randw(n, k, 1);
    WqHessian *h = wq_hessian_new(k);
    for (int64_t i = 0; i < k; i++)
        h->h[i * k + i] = 1 + (double)i / k;
    int fmts[3] = {RT_WQ_INT4, RT_WQ_INT2, RT_WQ_TERNARY};
    for (int f = 0; f < 3; f++) {
        RtWqCodes a, b;
        Diag d = {0};
        CHECK(0, wq_quantize(w, n, k, fmts[f], 32, QM_RTN, NULL, &a, &d));
        CHECK(0, wq_quantize(w, n, k, fmts[f], 32, QM_GPTQ, h, &b, &d));
        int diff = 0;
        for (int64_t i = 0; i < n * k; i++)
            diff += a.code[i] != b.code[i];
        for (int64_t i = 0; i < n * 2; i++)
            diff += a.scale[i] != b.scale[i];
        CHECK(0, diff);
        wq_codes_free(&a);
        wq_codes_free(&b);
    }
    wq_hessian_free(h);
    free(w);
}

/* The textbook GPTQ (Frantar et al. 2022, algorithm 1 without lazy
 * batches): U = chol(H^-1) upper through an explicit inverse, columns in
 * order, W[:, j:] -= (w_j - q_j) / U_jj * U[j, j:], a group's scale and zero
 * from the updated weights when it starts. INT formats, H damped by 1%. */
static void gptq_reference(const float *w0, int64_t n, int64_t k, int bits, int group,
                           const WqHessian *hs, float *wq)
{
    double *h = malloc(sizeof(double) * (size_t)(k * k)), *inv = calloc((size_t)(k * k), sizeof(double));
    double *w = malloc(sizeof(double) * (size_t)(n * k)), mean = 0;
    memcpy(h, hs->h, sizeof(double) * (size_t)(k * k));
    for (int64_t i = 0; i < k; i++)
        mean += h[i * k + i] / k;
    for (int64_t i = 0; i < k; i++) {
        h[i * k + i] += 0.01 * mean;
        inv[i * k + i] = 1;
    }
    for (int64_t c = 0; c < k; c++) { /* Gauss-Jordan, H is positive definite */
        double p = h[c * k + c];
        for (int64_t j = 0; j < k; j++) {
            h[c * k + j] /= p;
            inv[c * k + j] /= p;
        }
        for (int64_t r = 0; r < k; r++)
            if (r != c) {
                double f = h[r * k + c];
                for (int64_t j = 0; j < k; j++) {
                    h[r * k + j] -= f * h[c * k + j];
                    inv[r * k + j] -= f * inv[c * k + j];
                }
            }
    }
    /* upper Cholesky inv = Uᵀ U, kept in h */
    memset(h, 0, sizeof(double) * (size_t)(k * k));
    for (int64_t i = 0; i < k; i++) {
        double s = inv[i * k + i];
        for (int64_t p = 0; p < i; p++)
            s -= h[p * k + i] * h[p * k + i];
        h[i * k + i] = sqrt(s);
        for (int64_t j = i + 1; j < k; j++) {
            double t = inv[i * k + j];
            for (int64_t p = 0; p < i; p++)
                t -= h[p * k + i] * h[p * k + j];
            h[i * k + j] = t / h[i * k + i];
        }
    }
    for (int64_t i = 0; i < n * k; i++)
        w[i] = w0[i];
    int qmax = (1 << bits) - 1;
    for (int64_t r = 0; r < n; r++) {
        double s = 1, z = 0;
        for (int64_t j = 0; j < k; j++) {
            double *wr = w + r * k;
            if (j % group == 0) {
                double lo = 0, hi = 0;
                for (int64_t i = j; i < j + group && i < k; i++) {
                    lo = fmin(lo, (float)wr[i]);
                    hi = fmax(hi, (float)wr[i]);
                }
                s = (float)((float)hi - (float)lo) / qmax;
                z = rint(-lo / s);
                z = z < 0 ? 0 : z > qmax ? qmax : z;
            }
            double q = rint(wr[j] / s) + z;
            q = q < 0 ? 0 : q > qmax ? qmax : q;
            wq[r * k + j] = (float)(s * (q - z));
            double e = (wr[j] - s * (q - z)) / h[j * k + j];
            for (int64_t m = j; m < k; m++)
                wr[m] -= e * h[j * k + m];
        }
    }
    free(h);
    free(inv);
    free(w);
}

/* GPTQ against the textbook version: the same reconstruction but for rare
 * rounding ties (a code that differs by one changes the rest of its row),
 * and the same output error within 2%. Groups of 16 in 80 inputs, and of
 * 32 in 100 (a short last group, blocks of 128 not full). */
static void gptq_vs_textbook(int64_t k, int fmt, int bits, int group)
{
    int64_t n = 8, rows = 200;
    float *w = randw(n, k, 1), *x = correlated_x(rows, k, 3, 0);
    WqHessian *h = wq_hessian_new(k);
    wq_hessian_add(h, x, rows);
    float *ref = malloc(sizeof(float) * (size_t)(n * k)), *got = malloc(sizeof(float) * (size_t)(n * k));
    gptq_reference(w, n, k, bits, group, h, ref);
    RtWqCodes c;
    Diag d = {0};
    CHECK(0, wq_quantize(w, n, k, fmt, group, QM_GPTQ, h, &c, &d));
    wq_dequant(&c, got);
    int same_rows = 0;
    for (int64_t r = 0; r < n; r++) {
        int same = 1;
        for (int64_t i = 0; i < k; i++)
            same &= fabsf(ref[r * k + i] - got[r * k + i]) <= 1e-4f * (1 + fabsf(ref[r * k + i]));
        same_rows += same;
    }
    double er = out_error(w, ref, n, k, x, rows), eg = out_error(w, got, n, k, x, rows);
    printf("gptq vs textbook (k=%lld, %d bits, group %d): %d of %lld rows identical, "
           "output error %.4g vs %.4g\n", (long long)k, bits, group, same_rows, (long long)n, eg, er);
    CHECK_TRUE(same_rows >= n - 1);
    CHECK_TRUE(eg <= er * 1.02 && er <= eg * 1.02);
    wq_codes_free(&c);
    wq_hessian_free(h);
    free(w);
    free(x);
    free(ref);
    free(got);
}

static void test_gptq_reference(void)
{
    gptq_vs_textbook(80, RT_WQ_INT3, 3, 16);
    gptq_vs_textbook(100, RT_WQ_INT4, 4, 32);
    gptq_vs_textbook(300, RT_WQ_INT2, 2, 256); /* a group wider than a block */
}

/* The headline comparison on a layer whose inputs have a few strong
 * directions (and some dead inputs): ||(W - Ŵ) Xᵀ||² must order as
 * 2-bit decoupleQ < GPTQ < RTN and 4-bit GPTQ < RTN, each by a margin. */
static void test_method_order(void)
{
    int64_t n = 128, k = 256, rows = 512;
    float *w = randw(n, k, 1), *x = correlated_x(rows, k, 6, 5);
    WqHessian *h = wq_hessian_new(k);
    wq_hessian_add(h, x, rows);
    double r2 = method_error(w, n, k, RT_WQ_INT2, QM_RTN, NULL, x, rows, NULL);
    double g2 = method_error(w, n, k, RT_WQ_INT2, QM_GPTQ, h, x, rows, NULL);
    RtWqCodes dc;
    double d2 = method_error(w, n, k, RT_WQ_INT2, QM_DECOUPLEQ, h, x, rows, &dc);
    double r4 = method_error(w, n, k, RT_WQ_INT4, QM_RTN, NULL, x, rows, NULL);
    double g4 = method_error(w, n, k, RT_WQ_INT4, QM_GPTQ, h, x, rows, NULL);
    double d4 = method_error(w, n, k, RT_WQ_INT4, QM_DECOUPLEQ, h, x, rows, NULL);
    double rt = method_error(w, n, k, RT_WQ_TERNARY, QM_RTN, NULL, x, rows, NULL);
    double gt = method_error(w, n, k, RT_WQ_TERNARY, QM_GPTQ, h, x, rows, NULL);
    printf("||(W - Ŵ)X||², n=%lld k=%lld, %lld rows:\n"
           "  int2: rtn %.4g  gptq %.4g  decoupleq %.4g\n"
           "  int4: rtn %.4g  gptq %.4g  decoupleq %.4g\n"
           "  ternary: rtn %.4g  gptq %.4g\n",
           (long long)n, (long long)k, (long long)rows, r2, g2, d2, r4, g4, d4, rt, gt);
    CHECK_TRUE(d2 < 0.9 * g2);
    CHECK_TRUE(g2 < 0.5 * r2);
    CHECK_TRUE(g4 < 0.5 * r4);
    CHECK_TRUE(d4 <= g4 * 1.001);
    CHECK_TRUE(gt < 0.7 * rt);
    int bad = 0;
    for (int64_t i = 0; i < n * k; i++)
        bad += dc.code[i] < 0 || dc.code[i] > 3;
    for (int64_t i = 0; i < n * (k / 32); i++)
        bad += dc.zero[i] > 3;
    CHECK(0, bad);
    wq_codes_free(&dc);
    wq_hessian_free(h);
    free(w);
    free(x);
}

/* GPTQ in every format but the plain ternary (test_method_order has it)
 * lowers the output error below round-to-nearest's on correlated inputs,
 * and keeps the format's rules (MX scales powers of two, NVFP4's block
 * scales E4M3 numbers, one zero in every 4 for Sherry). */
static void test_gptq_formats(void)
{
    int64_t n = 32, k = 128, rows = 256;
    float *w = randw(n, k, 1), *x = correlated_x(rows, k, 4, 0);
    WqHessian *h = wq_hessian_new(k);
    wq_hessian_add(h, x, rows);
    int fmts[8] = {RT_WQ_INT8, RT_WQ_INT3, RT_WQ_TERNARY5, RT_WQ_SHERRY, RT_WQ_MXINT8,
                   RT_WQ_MXFP8, RT_WQ_MXFP4, RT_WQ_NVFP4};
    for (int f = 0; f < 8; f++) {
        RtWqCodes c;
        double r = method_error(w, n, k, fmts[f], QM_RTN, NULL, x, rows, NULL);
        double g = method_error(w, n, k, fmts[f], QM_GPTQ, h, x, rows, &c);
        printf("format %d: rtn %.4g gptq %.4g\n", fmts[f], r, g);
        CHECK_TRUE(g < 0.8 * r);
        int bad = 0;
        for (int64_t i = 0; i < n * ((k + c.group - 1) / c.group); i++) {
            int e;
            if (fmts[f] >= RT_WQ_MXINT8 && fmts[f] <= RT_WQ_MXFP4)
                bad += frexpf(c.scale[i], &e) != 0.5f;
            if (fmts[f] == RT_WQ_NVFP4) {
                int ok = 0;
                for (int q = 0; q < 0x7f; q++)
                    ok |= e4m3(q) == c.scale[i];
                bad += !ok;
            }
        }
        for (int64_t b = 0; fmts[f] == RT_WQ_SHERRY && b < n * k; b += 4)
            bad += !c.code[b] + !c.code[b + 1] + !c.code[b + 2] + !c.code[b + 3] != 1;
        CHECK(0, bad);
        wq_codes_free(&c);
    }
    wq_hessian_free(h);
    free(w);
    free(x);
}

/* What the methods refuse, with a diagnostic. */
static void test_refusals(void)
{
    float w[64] = {0};
    RtWqCodes c;
    Diag d = {0};
    CHECK(-1, wq_quantize(w, 2, 32, RT_WQ_INT4, 32, QM_GPTQ, NULL, &c, &d));
    CHECK_STR_CONTAINS(d.msg, "calibration");
    WqHessian *h = wq_hessian_new(32);
    Diag d2 = {0};
    CHECK(-1, wq_quantize(w, 2, 32, RT_WQ_SHERRY, 30, QM_GPTQ, h, &c, &d2));
    CHECK_STR_CONTAINS(d2.msg, "Sherry");
    Diag d3 = {0};
    CHECK(-1, wq_quantize(w, 2, 32, RT_WQ_MXFP4, 32, QM_DECOUPLEQ, h, &c, &d3));
    CHECK_STR_CONTAINS(d3.msg, "decoupleQ");
    wq_hessian_free(h);
}

int main(void)
{
    test_rtn_int();
    test_rtn_ternary();
    test_rtn_sherry();
    test_mx();
    test_nvfp4();
    test_hessian();
    test_gptq_diagonal();
    test_gptq_reference();
    test_method_order();
    test_gptq_formats();
    test_refusals();
    return CHECK_DONE();
}
