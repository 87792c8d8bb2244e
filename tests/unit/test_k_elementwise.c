/* test_k_elementwise.c: unit tests of the elementwise kernels on small hand-computed cases. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

static int run(RtKernel k, const RtTensorDesc *din, int n_in, const void *const *in,
               RtTensorDesc dout, void *out, const int64_t *ints, int n_ints,
               const float *floats, int n_floats)
{
    RtCall c = {n_in, 1, din, &dout, n_ints, n_floats, ints, floats};
    void *outs[1] = {out};
    return k(&c, in, outs);
}

static int bin(int op, RtTensorDesc a, const void *pa, RtTensorDesc b, const void *pb,
               RtTensorDesc o, void *po)
{
    RtTensorDesc din[2] = {a, b};
    const void *in[2] = {pa, pb};
    int64_t ints[1] = {op};
    return run(rt_binary, din, 2, in, o, po, ints, 1, NULL, 0);
}

static int un(int op, RtTensorDesc a, const void *pa, RtTensorDesc o, void *po,
              const float *f, int nf)
{
    const void *in[1] = {pa};
    int64_t ints[3] = {op, 1, 1};
    return run(rt_unary, &a, 1, in, o, po, ints, 3, f, nf);
}

static void test_binary_f32(void)
{
    float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30}, o[24];
    RtTensorDesc d23 = desc(RT_F32, 2, DIMS(2, 3)), d3 = desc(RT_F32, 1, DIMS(3));
    CHECK(RT_OK, bin(RT_BIN_ADD, d23, a, d3, b, d23, o));
    CHECK_NEAR(11, o[0], 0);
    CHECK_NEAR(36, o[5], 0);
    CHECK(RT_OK, bin(RT_BIN_SUB, d3, b, d23, a, d23, o));
    CHECK_NEAR(9, o[0], 0);
    CHECK_NEAR(24, o[5], 0);
    float s = 2;
    RtTensorDesc ds = desc(RT_F32, 0, NULL);
    CHECK(RT_OK, bin(RT_BIN_DIV, ds, &s, d23, a, d23, o));
    CHECK_NEAR(0.5, o[3], 1e-7);
    CHECK(RT_OK, bin(RT_BIN_POW, d23, a, ds, &s, d23, o));
    CHECK_NEAR(36, o[5], 0);
    float h = 0.5f;
    CHECK(RT_OK, bin(RT_BIN_POW, d23, a, ds, &h, d23, o));
    CHECK_NEAR(sqrt(5.0), o[4], 1e-6);
    /* [2,1,3] * [4,1] -> [2,4,3]: no axis merges, so the general strided row */
    float c[4] = {1, 10, 100, 1000};
    RtTensorDesc d213 = desc(RT_F32, 3, DIMS(2, 1, 3)), d41 = desc(RT_F32, 2, DIMS(4, 1));
    RtTensorDesc d243 = desc(RT_F32, 3, DIMS(2, 4, 3));
    CHECK(RT_OK, bin(RT_BIN_MUL, d213, a, d41, c, d243, o));
    CHECK_NEAR(1, o[0], 0);
    CHECK_NEAR(3000, o[11], 0);
    CHECK_NEAR(4, o[12], 0);
    CHECK_NEAR(6000, o[23], 0);
    /* comparisons write bool */
    uint8_t q[6];
    RtTensorDesc q23 = desc(RT_BOOL, 2, DIMS(2, 3));
    float t = 3;
    CHECK(RT_OK, bin(RT_BIN_GE, d23, a, ds, &t, q23, q));
    CHECK(0, q[1]);
    CHECK(1, q[2]);
    CHECK(RT_OK, bin(RT_BIN_LT, d23, a, ds, &t, q23, q));
    CHECK(1, q[1]);
    CHECK(0, q[2]);
    /* fmod keeps the dividend's sign; Max lets NaN through */
    float m[2] = {-4.3f, 7.2f}, dv[2] = {2.1f, -3.4f};
    RtTensorDesc d2 = desc(RT_F32, 1, DIMS(2));
    CHECK(RT_OK, bin(RT_BIN_FMOD, d2, m, d2, dv, d2, o));
    CHECK_NEAR(fmodf(-4.3f, 2.1f), o[0], 0);
    CHECK_NEAR(fmodf(7.2f, -3.4f), o[1], 0);
    float nan2[2] = {NAN, 1};
    CHECK(RT_OK, bin(RT_BIN_MAX, d2, m, d2, nan2, d2, o));
    CHECK_TRUE(isnan(o[0]));
    CHECK_NEAR(7.2f, o[1], 0);
    float sl[3] = {0.5f, 1, 2}, x[6] = {-2, -2, -2, 3, 3, 3};
    CHECK(RT_OK, bin(RT_BIN_PRELU, d23, x, d3, sl, d23, o));
    CHECK_NEAR(-1, o[0], 0);
    CHECK_NEAR(-4, o[2], 0);
    CHECK_NEAR(3, o[5], 0);
}

static void test_prelu_channel(void)
{
    /* PRelu-6: slope [C] over X [N, C, H]: the kernel appends one 1-dim */
    float x[4] = {-1, -1, -1, -1}, sl[2] = {2, 3}, o[4];
    RtTensorDesc din[2] = {desc(RT_F32, 3, DIMS(1, 2, 2)), desc(RT_F32, 1, DIMS(2))};
    const void *in[2] = {x, sl};
    int64_t ints[2] = {RT_BIN_PRELU, 1};
    CHECK(RT_OK, run(rt_binary, din, 2, in, din[0], o, ints, 2, NULL, 0));
    CHECK_NEAR(-2, o[1], 0);
    CHECK_NEAR(-3, o[2], 0);
}

static void test_binary_int(void)
{
    int32_t a[6] = {7, -7, 7, -7, INT32_MIN, 5}, b[6] = {2, 2, -2, -2, -1, 0}, o[6];
    RtTensorDesc d6 = desc(RT_I32, 1, DIMS(6));
    CHECK(RT_OK, bin(RT_BIN_DIV, d6, a, d6, b, d6, o));
    CHECK(3, o[0]);
    CHECK(-3, o[1]);
    CHECK(-3, o[2]);
    CHECK(3, o[3]);
    CHECK(INT32_MIN, o[4]);
    CHECK(0, o[5]);
    CHECK(RT_OK, bin(RT_BIN_MOD, d6, a, d6, b, d6, o));
    CHECK(1, o[0]);
    CHECK(1, o[1]);
    CHECK(-1, o[2]);
    CHECK(-1, o[3]);
    CHECK(0, o[5]);
    CHECK(RT_OK, bin(RT_BIN_FMOD, d6, a, d6, b, d6, o));
    CHECK(1, o[0]);
    CHECK(-1, o[1]);
    CHECK(1, o[2]);
    CHECK(-1, o[3]);
    CHECK(RT_OK, bin(RT_BIN_ADD, d6, a, d6, b, d6, o));
    CHECK(INT32_MAX, o[4]);
    uint8_t u[3] = {200, 100, 3}, v[3] = {100, 200, 2}, w[3];
    RtTensorDesc u3 = desc(RT_U8, 1, DIMS(3));
    CHECK(RT_OK, bin(RT_BIN_ADD, u3, u, u3, v, u3, w));
    CHECK(44, w[0]);
    CHECK(RT_OK, bin(RT_BIN_SUB, u3, u, u3, v, u3, w));
    CHECK(156, w[1]);
    CHECK(RT_OK, bin(RT_BIN_SHL, u3, u, u3, v, u3, w));
    CHECK(0, w[0]);
    CHECK(12, w[2]);
    uint64_t p[2] = {UINT64_MAX, 16}, s[2] = {1, 65}, r[2];
    RtTensorDesc u2 = desc(RT_U64, 1, DIMS(2));
    CHECK(RT_OK, bin(RT_BIN_SHR, u2, p, u2, s, u2, r));
    CHECK_TRUE(r[0] == UINT64_MAX >> 1);
    CHECK_TRUE(r[1] == 0);
    CHECK(RT_OK, bin(RT_BIN_GT, u2, p, u2, s, desc(RT_BOOL, 1, DIMS(2)), w));
    CHECK(1, w[0]);
    CHECK(0, w[1]);
    /* int64 stays exact beyond 2^53 */
    int64_t big[2] = {(1LL << 60) + 1, 3}, one[2] = {1, -2}, bo[2];
    RtTensorDesc i2 = desc(RT_I64, 1, DIMS(2));
    CHECK(RT_OK, bin(RT_BIN_ADD, i2, big, i2, one, i2, bo));
    CHECK_TRUE(bo[0] == (1LL << 60) + 2);
    int64_t three[2] = {3, 3};
    CHECK(RT_OK, bin(RT_BIN_POW, i2, three, i2, one, i2, bo));
    CHECK(3, bo[0]);
    CHECK(0, bo[1]);
    uint8_t t[4] = {1, 1, 0, 0}, f[4] = {1, 0, 1, 0}, z[4];
    RtTensorDesc b4 = desc(RT_BOOL, 1, DIMS(4));
    CHECK(RT_OK, bin(RT_BIN_BITXOR, b4, t, b4, f, b4, z));
    CHECK(0, z[0]);
    CHECK(1, z[1]);
    CHECK(RT_OK, bin(RT_BIN_EQ, b4, t, b4, f, b4, z));
    CHECK(1, z[0]);
    CHECK(1, z[3]);
}

static void test_pow_mixed(void)
{
    float fb[3] = {1.5f, 2, -3};
    int64_t ie[3] = {2, 3, 3};
    float fo[3];
    RtTensorDesc f3 = desc(RT_F32, 1, DIMS(3)), i3 = desc(RT_I64, 1, DIMS(3));
    CHECK(RT_OK, bin(RT_BIN_POW, f3, fb, i3, ie, f3, fo));
    CHECK_NEAR(2.25, fo[0], 0);
    CHECK_NEAR(-27, fo[2], 0);
    int32_t ib[3] = {2, 3, 10}, io[3];
    float fe[3] = {5, 0.5f, -1};
    RtTensorDesc j3 = desc(RT_I32, 1, DIMS(3));
    CHECK(RT_OK, bin(RT_BIN_POW, j3, ib, f3, fe, j3, io));
    CHECK(32, io[0]);
    CHECK(1, io[1]);
    CHECK(0, io[2]);
}

static void test_half(void)
{
    uint16_t a[3], b[3], o[3];
    float av[3] = {1.5f, -2, 100}, bv[3] = {0.25f, 7, -100};
    for (int i = 0; i < 3; i++) {
        a[i] = rt_f32_to_f16(av[i]);
        b[i] = rt_f32_to_f16(bv[i]);
    }
    RtTensorDesc h3 = desc(RT_F16, 1, DIMS(3));
    CHECK(RT_OK, bin(RT_BIN_MUL, h3, a, h3, b, h3, o));
    CHECK_NEAR(0.375, rt_f16_to_f32(o[0]), 0);
    CHECK_NEAR(-10000, rt_f16_to_f32(o[2]), 0);
    RtTensorDesc din[3] = {h3, h3, h3};
    const void *in[3] = {a, b, a};
    int64_t ints[2] = {RT_BIN_ADD, 1};
    CHECK(RT_OK, run(rt_variadic, din, 3, in, h3, o, ints, 2, NULL, 0));
    CHECK_NEAR((1.5 + 0.25 + 1.5) / 3, rt_f16_to_f32(o[0]), 1e-3);
    CHECK_NEAR(100.0 / 3, rt_f16_to_f32(o[2]), 2e-2);
    /* general strides through the conversion buffers: [2,1,3] * [4,1] */
    uint16_t g[6], s[4], go[24];
    float sv[4] = {1, 10, 100, 1000};
    for (int i = 0; i < 6; i++)
        g[i] = rt_f32_to_f16((float)(i + 1));
    for (int i = 0; i < 4; i++)
        s[i] = rt_f32_to_f16(sv[i]);
    CHECK(RT_OK, bin(RT_BIN_MUL, desc(RT_F16, 3, DIMS(2, 1, 3)), g, desc(RT_F16, 2, DIMS(4, 1)),
                     s, desc(RT_F16, 3, DIMS(2, 4, 3)), go));
    CHECK_NEAR(3000, rt_f16_to_f32(go[11]), 0);
    CHECK_NEAR(4, rt_f16_to_f32(go[12]), 0);
    CHECK_NEAR(6000, rt_f16_to_f32(go[23]), 0);
    uint16_t e = rt_f32_to_bf16(-1.0f), r;
    float alpha = 2;
    CHECK(RT_OK, un(RT_UN_ELU, desc(RT_BF16, 0, NULL), &e, desc(RT_BF16, 0, NULL), &r, &alpha,
                    1));
    CHECK_NEAR(2 * (exp(-1.0) - 1), rt_bf16_to_f32(r), 1e-2);
}

static void test_variadic(void)
{
    float a[3] = {3, 2, 1}, b[2 * 3] = {1, 3, 4, 0, 0, 9}, c = 2.5f, o[6];
    RtTensorDesc din[3] = {desc(RT_F32, 1, DIMS(3)), desc(RT_F32, 2, DIMS(2, 3)),
                           desc(RT_F32, 0, NULL)};
    const void *in[3] = {a, b, &c};
    RtTensorDesc d23 = desc(RT_F32, 2, DIMS(2, 3));
    int64_t ints[2] = {RT_BIN_MAX, 0};
    CHECK(RT_OK, run(rt_variadic, din, 3, in, d23, o, ints, 2, NULL, 0));
    CHECK_NEAR(3, o[0], 0);
    CHECK_NEAR(4, o[2], 0);
    CHECK_NEAR(2.5, o[4], 0);
    ints[0] = RT_BIN_ADD;
    CHECK(RT_OK, run(rt_variadic, din, 3, in, d23, o, ints, 2, NULL, 0));
    CHECK_NEAR(6.5, o[0], 0);
    CHECK_NEAR(12.5, o[5], 0);
    ints[1] = 1;
    CHECK(RT_OK, run(rt_variadic, din, 1, in, din[0], o, ints, 2, NULL, 0));
    CHECK_NEAR(2, o[1], 0);
    uint64_t u[2] = {UINT64_MAX, 1}, v[2] = {1, 2}, w[2];
    RtTensorDesc u2[2] = {desc(RT_U64, 1, DIMS(2)), desc(RT_U64, 1, DIMS(2))};
    const void *uin[2] = {u, v};
    ints[0] = RT_BIN_MIN;
    ints[1] = 0;
    CHECK(RT_OK, run(rt_variadic, u2, 2, uin, u2[0], w, ints, 2, NULL, 0));
    CHECK_TRUE(w[0] == 1 && w[1] == 1);
}

static void test_unary(void)
{
    float x[8] = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 0, 1e30f}, o[8];
    RtTensorDesc d8 = desc(RT_F32, 1, DIMS(8));
    CHECK(RT_OK, un(RT_UN_ROUND, d8, x, d8, o, NULL, 0));
    CHECK_NEAR(-2, o[0], 0);
    CHECK_NEAR(-2, o[1], 0);
    CHECK_NEAR(0, o[2], 0);
    CHECK_NEAR(2, o[4], 0);
    CHECK_NEAR(2, o[5], 0);
    CHECK(RT_OK, un(RT_UN_SIGMOID, d8, x, d8, o, NULL, 0));
    CHECK_NEAR(1 / (1 + exp(2.5)), o[0], 1e-7);
    CHECK_NEAR(1, o[7], 0);
    CHECK(RT_OK, un(RT_UN_SOFTPLUS, d8, x, d8, o, NULL, 0));
    CHECK_NEAR(log1p(exp(-2.5)), o[0], 1e-7);
    CHECK_NEAR(1e30, o[7], 1e24);
    CHECK(RT_OK, un(RT_UN_GELU, d8, x, d8, o, NULL, 0));
    CHECK_NEAR(0.5 * 1.5 * (1 + erf(1.5 / sqrt(2.0))), o[4], 1e-6);
    CHECK(RT_OK, un(RT_UN_GELU_TANH, d8, x, d8, o, NULL, 0));
    double u = 0.79788456080286535588 * (1.5 + 0.044715 * 3.375);
    CHECK_NEAR(0.5 * 1.5 * (1 + tanh(u)), o[4], 1e-6);
    CHECK(RT_OK, un(RT_UN_HARD_SWISH, d8, x, d8, o, NULL, 0));
    CHECK_NEAR(1.5 * (1.5 / 6 + 0.5), o[4], 1e-7);
    CHECK_NEAR(-2.5 * (-2.5 / 6 + 0.5), o[0], 1e-7);
    CHECK(RT_OK, un(RT_UN_SIGN, d8, x, d8, o, NULL, 0));
    CHECK_NEAR(-1, o[0], 0);
    CHECK_NEAR(0, o[6], 0);
    float ap[2] = {1.67326319217681884765625f, 1.05070102214813232421875f};
    CHECK(RT_OK, un(RT_UN_SELU, d8, x, d8, o, ap, 2));
    CHECK_NEAR(ap[1] * ap[0] * (exp(-0.5) - 1), o[2], 1e-6);
    CHECK_NEAR(ap[1] * 0.5, o[3], 1e-7);
    float sp[2] = {1.5f, 0.5f};
    CHECK(RT_OK, un(RT_UN_SHRINK, d8, x, d8, o, sp, 2));
    CHECK_NEAR(-2, o[0], 0);
    CHECK_NEAR(0, o[1], 0);
    CHECK_NEAR(2, o[5], 0);
    double xd[2] = {-1.5, 2}, od[2];
    RtTensorDesc d2 = desc(RT_F64, 1, DIMS(2));
    CHECK(RT_OK, un(RT_UN_GELU, d2, xd, d2, od, NULL, 0));
    CHECK_NEAR(0.5 * -1.5 * (1 + erf(-1.5 / sqrt(2.0))), od[0], 1e-15);
    CHECK(RT_OK, un(RT_UN_GELU_TANH, d2, xd, d2, od, NULL, 0));
    CHECK_NEAR(0.5 * 2 * (1 + tanh(0.79788456080286535588 * (2 + 0.044715 * 8))), od[1], 1e-15);
    float special[4] = {INFINITY, -INFINITY, NAN, 1};
    uint8_t q[4];
    RtTensorDesc d4 = desc(RT_F32, 1, DIMS(4)), q4 = desc(RT_BOOL, 1, DIMS(4));
    CHECK(RT_OK, un(RT_UN_ISNAN, d4, special, q4, q, NULL, 0));
    CHECK(0, q[0]);
    CHECK(1, q[2]);
    const void *in[1] = {special};
    int64_t ii[3] = {RT_UN_ISINF, 0, 1};
    CHECK(RT_OK, run(rt_unary, &d4, 1, in, q4, q, ii, 3, NULL, 0));
    CHECK(0, q[0]);
    CHECK(1, q[1]);
    CHECK(0, q[2]);
    int8_t ia[3] = {-128, -5, 7}, io[3];
    RtTensorDesc i3 = desc(RT_I8, 1, DIMS(3));
    CHECK(RT_OK, un(RT_UN_ABS, i3, ia, i3, io, NULL, 0));
    CHECK(-128, io[0]);
    CHECK(5, io[1]);
    CHECK(RT_OK, un(RT_UN_RELU, i3, ia, i3, io, NULL, 0));
    CHECK(0, io[1]);
    CHECK(7, io[2]);
    uint8_t bz[2] = {0, 1}, bn[2];
    RtTensorDesc b2 = desc(RT_BOOL, 1, DIMS(2));
    CHECK(RT_OK, un(RT_UN_NOT, b2, bz, b2, bn, NULL, 0));
    CHECK(1, bn[0]);
    CHECK(0, bn[1]);
    CHECK(RT_EDTYPE, un(RT_UN_BITNOT, d4, special, d4, o, NULL, 0));
}

static double ref_unary(int op, double x)
{
    switch (op) {
    case RT_UN_EXP: return exp(x);
    case RT_UN_LOG: return log(x);
    case RT_UN_SIGMOID: return 1 / (1 + exp(-x));
    case RT_UN_TANH: return tanh(x);
    case RT_UN_ERF: return erf(x);
    case RT_UN_GELU:
        return x < 0 ? 0.5 * x * erfc(-x / sqrt(2.0)) : 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case RT_UN_SOFTPLUS: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    case RT_UN_MISH: return x * tanh(x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)));
    case RT_UN_ELU: return x < 0 ? expm1(x) : x;
    default: return 0;
    }
}

/* The float32 paths use their own polynomial math (vectorizable, unlike
 * libm's calls): compare them with double libm across the useful range. */
static void test_float_math(void)
{
    enum { N = 4001 };
    static float x[N], o[N];
    for (int i = 0; i < N; i++)
        x[i] = (float)(-20.0 + 40.0 * i / (N - 1));
    int ops[] = {RT_UN_EXP, RT_UN_SIGMOID, RT_UN_TANH, RT_UN_ERF, RT_UN_GELU,
                 RT_UN_SOFTPLUS, RT_UN_MISH, RT_UN_ELU, RT_UN_LOG};
    float alpha = 1;
    RtTensorDesc d = desc(RT_F32, 1, DIMS(N));
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        if (ops[k] == RT_UN_LOG)
            for (int i = 0; i < N; i++)
                x[i] = ldexpf(1.0f + (float)i / N, i % 300 - 150);
        CHECK(RT_OK, un(ops[k], d, x, d, o, &alpha, 1));
        double worst = 0;
        for (int i = 0; i < N; i++) {
            double r = ref_unary(ops[k], x[i]);
            /* relative error, absolute below 0.1 (Gelu's far tail is 0) */
            double err = fabs(o[i] - r) / (fabs(r) > 0.1 ? fabs(r) : 0.1);
            if (err > worst)
                worst = err;
        }
        CHECK_NEAR(0, worst, 1e-6);
    }
    float sp[6] = {INFINITY, -INFINITY, NAN, 0, -1, 1e-40f}, so[6];
    RtTensorDesc d6 = desc(RT_F32, 1, DIMS(6));
    CHECK(RT_OK, un(RT_UN_EXP, d6, sp, d6, so, NULL, 0));
    CHECK_TRUE(so[0] == INFINITY && so[1] == 0 && isnan(so[2]) && so[3] == 1);
    CHECK(RT_OK, un(RT_UN_LOG, d6, sp, d6, so, NULL, 0));
    CHECK_TRUE(so[0] == INFINITY && isnan(so[1]) && isnan(so[2]) && so[3] == -INFINITY);
    CHECK_TRUE(isnan(so[4]));
    CHECK_NEAR(log(1e-40), so[5], 1e-5);
    CHECK(RT_OK, un(RT_UN_TANH, d6, sp, d6, so, NULL, 0));
    CHECK_TRUE(so[0] == 1 && so[1] == -1 && isnan(so[2]) && so[3] == 0);
    CHECK(RT_OK, un(RT_UN_SIGMOID, d6, sp, d6, so, NULL, 0));
    CHECK_TRUE(so[0] == 1 && so[1] == 0 && isnan(so[2]) && so[3] == 0.5f);
    CHECK(RT_OK, un(RT_UN_ERF, d6, sp, d6, so, NULL, 0));
    CHECK_TRUE(so[0] == 1 && so[1] == -1 && isnan(so[2]) && so[3] == 0);
    CHECK(RT_OK, un(RT_UN_SOFTPLUS, d6, sp, d6, so, NULL, 0));
    CHECK_TRUE(so[0] == INFINITY && so[1] == 0 && isnan(so[2]));
    CHECK_NEAR(log(2.0), so[3], 1e-7);
}

static void test_clip(void)
{
    float x[4] = {-3, 0.5f, 3, NAN}, o[4], lo = -1, hi = 1;
    RtTensorDesc d4 = desc(RT_F32, 1, DIMS(4)), ds = desc(RT_F32, 0, NULL);
    RtTensorDesc din[3] = {d4, ds, ds};
    const void *in[3] = {x, &lo, &hi};
    int64_t ints[1] = {0};
    CHECK(RT_OK, run(rt_clip, din, 3, in, d4, o, ints, 1, NULL, 0));
    CHECK_NEAR(-1, o[0], 0);
    CHECK_NEAR(0.5, o[1], 0);
    CHECK_NEAR(1, o[2], 0);
    CHECK_TRUE(isnan(o[3]));
    /* omitted min */
    din[1].dtype = RT_UNDEF;
    in[1] = NULL;
    CHECK(RT_OK, run(rt_clip, din, 3, in, d4, o, ints, 1, NULL, 0));
    CHECK_NEAR(-3, o[0], 0);
    CHECK_NEAR(1, o[2], 0);
    /* attribute bounds (Clip-6), lo > hi gives hi */
    float f[2] = {2, 0};
    ints[0] = 1;
    CHECK(RT_OK, run(rt_clip, din, 1, in, d4, o, ints, 1, f, 2));
    CHECK_NEAR(0, o[0], 0);
    CHECK_NEAR(0, o[2], 0);
    int8_t ix[3] = {-128, 5, 127}, io[3], imax = 10;
    RtTensorDesc i3 = desc(RT_I8, 1, DIMS(3));
    RtTensorDesc idin[3] = {i3, desc(RT_UNDEF, 0, NULL), desc(RT_I8, 0, NULL)};
    const void *iin[3] = {ix, NULL, &imax};
    ints[0] = 0;
    CHECK(RT_OK, run(rt_clip, idin, 3, iin, i3, io, ints, 1, NULL, 0));
    CHECK(-128, io[0]);
    CHECK(5, io[1]);
    CHECK(10, io[2]);
}

static void test_where(void)
{
    uint8_t c[2] = {1, 0};
    int64_t x[3] = {1, 2, 3}, y = -1, o[6];
    RtTensorDesc din[3] = {desc(RT_BOOL, 2, DIMS(2, 1)), desc(RT_I64, 1, DIMS(3)),
                           desc(RT_I64, 0, NULL)};
    const void *in[3] = {c, x, &y};
    CHECK(RT_OK, run(rt_where, din, 3, in, desc(RT_I64, 2, DIMS(2, 3)), o, NULL, 0, NULL, 0));
    CHECK(1, o[0]);
    CHECK(3, o[2]);
    CHECK(-1, o[3]);
    CHECK(-1, o[5]);
}

static int cast(RtTensorDesc a, const void *pa, RtTensorDesc o, void *po)
{
    const void *in[1] = {pa};
    return run(rt_cast, &a, 1, in, o, po, NULL, 0, NULL, 0);
}

static void test_cast(void)
{
    float f[6] = {2.7f, -2.7f, 1e10f, -1e10f, NAN, 300.5f};
    int32_t i[6];
    uint8_t u[6];
    RtTensorDesc f6 = desc(RT_F32, 1, DIMS(6));
    CHECK(RT_OK, cast(f6, f, desc(RT_I32, 1, DIMS(6)), i));
    CHECK(2, i[0]);
    CHECK(-2, i[1]);
    CHECK(INT32_MAX, i[2]);
    CHECK(INT32_MIN, i[3]);
    CHECK(0, i[4]);
    CHECK(RT_OK, cast(f6, f, desc(RT_U8, 1, DIMS(6)), u));
    CHECK(0, u[1]);
    CHECK(255, u[5]);
    CHECK(RT_OK, cast(f6, f, desc(RT_BOOL, 1, DIMS(6)), u));
    CHECK(1, u[4]);
    /* float64 -> float16 rounds once: 1 + 2^-11 + 2^-40 is above the halfway point */
    double d = 1 + ldexp(1, -11) + ldexp(1, -40);
    uint16_t h;
    CHECK(RT_OK, cast(desc(RT_F64, 0, NULL), &d, desc(RT_F16, 0, NULL), &h));
    CHECK(0x3C01, h);
    float t[2];
    uint32_t bits[2] = {0x3F808000u, 0x3F818000u};
    memcpy(t, bits, sizeof t);
    uint16_t bf[2];
    CHECK(RT_OK, cast(desc(RT_F32, 1, DIMS(2)), t, desc(RT_BF16, 1, DIMS(2)), bf));
    CHECK(0x3F80, bf[0]);
    CHECK(0x3F82, bf[1]);
    uint64_t big = UINT64_MAX;
    float fb;
    CHECK(RT_OK, cast(desc(RT_U64, 0, NULL), &big, desc(RT_F32, 0, NULL), &fb));
    CHECK_NEAR(18446744073709551616.0, fb, 0);
    int64_t w[2] = {257, -1};
    CHECK(RT_OK, cast(desc(RT_I64, 1, DIMS(2)), w, desc(RT_U8, 1, DIMS(2)), u));
    CHECK(1, u[0]);
    CHECK(255, u[1]);
    uint64_t w64[2];
    CHECK(RT_OK, cast(desc(RT_I64, 1, DIMS(2)), w, desc(RT_U64, 1, DIMS(2)), w64));
    CHECK_TRUE(w64[0] == 257 && w64[1] == UINT64_MAX);
    uint16_t hh[2] = {0x3C00, 0xC000};
    double dd[2];
    CHECK(RT_OK, cast(desc(RT_F16, 1, DIMS(2)), hh, desc(RT_F64, 1, DIMS(2)), dd));
    CHECK_NEAR(1, dd[0], 0);
    CHECK_NEAR(-2, dd[1], 0);
    CHECK(RT_EDTYPE, cast(desc(14 /* complex64 */, 0, NULL), f, desc(RT_F32, 0, NULL), &fb));
}


/* ---- shape inference and kernel parameters (ir/ops/elementwise.c) ---- */

static Value *val(Graph *g, int dtype, int rank, const int64_t *dims)
{
    Value *v = ir_value_new(g, NULL);
    v->dtype = dtype;
    v->rank = rank;
    for (int i = 0; i < rank; i++)
        v->dims[i] = dims[i];
    return v;
}

static Node *node(Graph *g, const char *op, int64_t opset, Value *a, Value *b, Value *c)
{
    Value *ins[3] = {a, b, c};
    int k = c ? 3 : b ? 2 : 1;
    Node *n = ir_node_new(g, op, "", NULL, k, 1);
    for (int i = 0; i < k; i++)
        n->in[i] = ins[i];
    n->out[0] = ir_value_new(g, NULL);
    n->opset = opset;
    return n;
}

static void set_attr(Graph *g, Node *n, const char *name, int type, int64_t i, const char *str)
{
    Attr *a = ir_alloc(g, sizeof *a * (size_t)(n->n_attrs + 1));
    if (n->n_attrs)
        memcpy(a, n->attrs, sizeof *a * (size_t)n->n_attrs);
    Attr *t = &a[n->n_attrs];
    t->name = name;
    t->type = type;
    t->i = i;
    t->f = (float)i;
    t->s = str;
    n->attrs = a;
    n->n_attrs++;
}

static int infer(Graph *g, Node *n, Diag *d)
{
    memset(d, 0, sizeof *d);
    n->n_ints = n->n_floats = 0;
    return ir_ops[n->op].infer(g, n, d);
}

static void test_infer(void)
{
    Graph *g = ir_graph_new(NULL);
    Diag d;
    Value *f23 = val(g, RT_F32, 2, DIMS(2, 3)), *f3 = val(g, RT_F32, 1, DIMS(3));
    Node *n = node(g, "Add", 14, f23, f3, NULL);
    CHECK(0, infer(g, n, &d));
    CHECK(2, n->out[0]->rank);
    CHECK(3, n->out[0]->dims[1]);
    CHECK(RT_BIN_ADD, n->ints[0]);
    n = node(g, "Add", 14, f23, val(g, RT_F32, 1, DIMS(4)), NULL);
    CHECK(-1, infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "does not broadcast");
    n = node(g, "Add", 14, f23, val(g, RT_I64, 1, DIMS(3)), NULL);
    CHECK(-1, infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "different dtypes");
    n = node(g, "Less", 13, f23, f3, NULL);
    CHECK(0, infer(g, n, &d));
    CHECK(RT_BOOL, n->out[0]->dtype);
    n = node(g, "Mod", 13, f3, f3, NULL);
    CHECK(-1, infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "fmod must be 1");
    set_attr(g, n, "fmod", AT_INT, 1, NULL);
    CHECK(0, infer(g, n, &d));
    CHECK(RT_BIN_FMOD, n->ints[0]);
    n = node(g, "Pow", 15, val(g, RT_I32, 1, DIMS(3)), f3, NULL);
    CHECK(0, infer(g, n, &d));
    CHECK(RT_I32, n->out[0]->dtype);
    n = node(g, "And", 7, f3, f3, NULL);
    CHECK(-1, infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "takes bool");
    /* PRelu-6 with a per-channel slope */
    n = node(g, "PRelu", 6, val(g, RT_F32, 4, DIMS(1, 2, 4, 4)), val(g, RT_F32, 1, DIMS(2)),
             NULL);
    CHECK(0, infer(g, n, &d));
    CHECK(2, n->n_ints);
    CHECK(2, n->ints[1]);
    /* Add-6 with broadcast=1, axis=1 aligns B [3,4] at axis 1 of A [2,3,4,5] */
    n = node(g, "Add", 6, val(g, RT_F32, 4, DIMS(2, 3, 4, 5)), val(g, RT_F32, 2, DIMS(3, 4)),
             NULL);
    set_attr(g, n, "broadcast", AT_INT, 1, NULL);
    set_attr(g, n, "axis", AT_INT, 1, NULL);
    CHECK(0, infer(g, n, &d));
    CHECK(4, n->out[0]->rank);
    CHECK(1, n->ints[1]);
    n = node(g, "PRelu", 16, f3, f23, NULL);
    CHECK(-1, infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "slope");
    n = node(g, "Gelu", 20, f3, NULL, NULL);
    set_attr(g, n, "approximate", AT_STRING, 0, "fast");
    CHECK(-1, infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "approximate");
    n = node(g, "IsInf", 10, f3, NULL, NULL);
    set_attr(g, n, "detect_negative", AT_INT, 0, NULL);
    CHECK(0, infer(g, n, &d));
    CHECK(RT_BOOL, n->out[0]->dtype);
    CHECK(1, n->ints[1]);
    CHECK(0, n->ints[2]);
    n = node(g, "Sqrt", 13, val(g, RT_I32, 1, DIMS(3)), NULL, NULL);
    CHECK(-1, infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "float type");
    /* Clip-6 bounds are attributes */
    n = node(g, "Clip", 6, f3, NULL, NULL);
    set_attr(g, n, "max", AT_FLOAT, 6, NULL);
    CHECK(0, infer(g, n, &d));
    CHECK(1, n->ints[0]);
    CHECK_NEAR(6, n->floats[1], 0);
    CHECK_TRUE(n->floats[0] < -1e38);
    n = node(g, "Clip", 13, f3, NULL, f3);
    CHECK(-1, infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "scalar");
    n = node(g, "Where", 16, val(g, RT_BOOL, 2, DIMS(2, 1)), f3, val(g, RT_F32, 0, NULL));
    CHECK(0, infer(g, n, &d));
    CHECK(2, n->out[0]->rank);
    CHECK(3, n->out[0]->dims[1]);
    n = node(g, "Cast", 13, f3, NULL, NULL);
    set_attr(g, n, "to", AT_INT, RT_STRING, NULL);
    CHECK(0, infer(g, n, &d)); /* the text goes to a hidden pool output (k_string.h) */
    CHECK(2, n->n_out);
    CHECK(RT_U8, n->out[1]->dtype);
    CHECK(ir_numel(f3) * RT_NUM_STR_BYTES, ir_numel(n->out[1]));
    n = node(g, "CastLike", 15, f3, val(g, RT_F16, 0, NULL), NULL);
    CHECK(0, infer(g, n, &d));
    CHECK(RT_F16, n->out[0]->dtype);
    n = node(g, "Mean", 13, f3, f23, val(g, RT_F32, 3, DIMS(4, 1, 1)));
    CHECK(0, infer(g, n, &d));
    CHECK(3, n->out[0]->rank);
    CHECK(4, n->out[0]->dims[0]);
    CHECK(RT_BIN_ADD, n->ints[0]);
    CHECK(1, n->ints[1]);
    ir_graph_free(g);
}

/* Equal on strings (opset 19) against strcmp, broadcasting [2, 3] with [3];
 * the strings are separate copies, so only their bytes can make them equal.
 * Exact: the output is bool. Any other op on strings is a dtype error. */
static void test_equal_string(void)
{
    char s0[] = "a", s1[] = "bc", s2[] = "", t0[] = "a", t1[] = "bd", t2[] = "";
    const char *x[6] = {s0, s1, s2, t1, s1, "a"}, *y[3] = {t0, "bc", t2};
    uint8_t o[6];
    CHECK(RT_OK, bin(RT_BIN_EQ, desc(RT_STRING, 2, DIMS(2, 3)), x, desc(RT_STRING, 1, DIMS(3)),
                     y, desc(RT_BOOL, 2, DIMS(2, 3)), o));
    for (int i = 0; i < 6; i++)
        CHECK(strcmp(x[i], y[i % 3]) == 0, o[i]);
    CHECK(RT_EDTYPE, bin(RT_BIN_LT, desc(RT_STRING, 2, DIMS(2, 3)), x,
                         desc(RT_STRING, 1, DIMS(3)), y, desc(RT_BOOL, 2, DIMS(2, 3)), o));
}

/* Swish (opset 24) against x / (1 + exp(-alpha x)) in double, for alpha 1
 * and 0.5, float32 (tolerance 2e-6 relative to max(1, |x|): v_sigmoid's
 * error) and float64 (1e-14). */
static void test_swish(void)
{
    float x[9] = {-20, -4, -1.5f, -0.25f, 0, 0.25f, 1.5f, 4, 20}, y[9];
    double xd[9], yd[9];
    for (int k = 0; k < 2; k++) {
        float alpha[1] = {k ? 0.5f : 1.0f};
        CHECK(RT_OK, un(RT_UN_SWISH, desc1(RT_F32, 9), x, desc1(RT_F32, 9), y, alpha, 1));
        for (int i = 0; i < 9; i++) {
            double want = x[i] / (1 + exp(-(double)alpha[0] * x[i]));
            CHECK_NEAR(want, y[i], 2e-6 * (fabs(x[i]) > 1 ? fabs(x[i]) : 1));
            xd[i] = x[i];
        }
        CHECK(RT_OK, un(RT_UN_SWISH, desc1(RT_F64, 9), xd, desc1(RT_F64, 9), yd, alpha, 1));
        for (int i = 0; i < 9; i++)
            CHECK_NEAR(xd[i] / (1 + exp(-(double)alpha[0] * xd[i])), yd[i], 1e-14);
    }
}

int main(void)
{
    test_binary_f32();
    test_equal_string();
    test_prelu_channel();
    test_binary_int();
    test_pow_mixed();
    test_half();
    test_variadic();
    test_unary();
    test_swish();
    test_float_math();
    test_clip();
    test_where();
    test_cast();
    test_infer();
    return CHECK_DONE();
}
