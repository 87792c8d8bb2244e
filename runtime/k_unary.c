/* k_unary.c: one-input elementwise kernels (activations, math, rounding, logic) and Clip. */
#include <math.h>
#include <string.h>

#include "k_ew.h"

/* EXPR sees the element as x; the loop is plain so the compiler can vectorize it. */
#define ROW1(T, TO, EXPR)                                                          \
    do {                                                                           \
        const T *a_ = a;                                                           \
        TO *o_ = o;                                                                \
        for (int64_t i = 0; i < n; i++) {                                          \
            T x = a_[i];                                                           \
            o_[i] = (TO)(EXPR);                                                    \
        }                                                                          \
    } while (0)

/* ---- float32 math the compiler can vectorize ----
 * libm's expf, tanhf and erff are calls, and a call stops the vectorizer.
 * These use arithmetic, compares and selects only. The polynomials were
 * fitted for onnxcc (least squares on Chebyshev nodes, in double, then rounded
 * to float); the error quoted is the maximum relative error of the rounded
 * polynomial against double libm on its interval. */

static inline float f_from_bits(int32_t i)
{
    float f;
    memcpy(&f, &i, 4);
    return f;
}

/* e^x = 2^k e^r, k = round(x log2 e), r = x - k ln2 with ln2 split in two
 * (Cody-Waite) so k ln2_hi is exact; e^r by a degree-6 polynomial on
 * |r| <= ln2/2 (error 1.9e-8). 2^k is applied in two halves, so k = 128 still
 * overflows to inf and k < -126 reaches the subnormals. */
static inline float v_exp(float x)
{
    float c = ew_self(x > -104.0f, x, -104.0f); /* NaN too: it must not reach the int conversion */
    c = ew_self(c < 89.0f, c, 89.0f);
    float k = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to int */
    float r = c - k * 0.693145751953125f - k * 1.42860676533018704e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666415f + r * (0.041666217f +
              r * (0.0083751353f + r * 0.0013948590f)))));
    int32_t ki = (int32_t)k, k1 = ki / 2, k2 = ki - k1;
    float y = p * f_from_bits((k1 + 127) << 23) * f_from_bits((k2 + 127) << 23);
    return ew_self(x != x, x, y);
}

/* e^x - 1 without cancellation near 0: x + x^2 P(x) on |x| <= ln2/2 (error 1.6e-9). */
static inline float v_expm1(float x)
{
    float p = x + x * x * (0.5f + x * (0.16666667f + x * (0.041666467f + x * (0.0083332984f +
              x * (0.0013933651f + x * 0.00019899286f)))));
    float e = v_exp(x) - 1.0f;
    return ew_self((x > -0.3466f) & (x < 0.3466f), p, e);
}

/* log(1 + t) for t in [0, 1], as 2 atanh(s) with s = t / (2 + t) <= 1/3:
 * s P(s^2) (error 5.8e-9); no cancellation for small t. */
static inline float v_log1p_unit(float t)
{
    float s = t / (2.0f + t), s2 = s * s;
    return s * (2.0f + s2 * (0.66666389f + s2 * (0.40022188f + s2 * (0.27995959f +
           s2 * 0.28029457f))));
}

/* log x = e ln2 + log m with x = m 2^e, m in [sqrt(1/2), sqrt(2)); log m as
 * above with s = (m - 1) / (m + 1). Subnormals are scaled up by 2^23 first. */
static inline float v_log(float x)
{
    int tiny = x < 1.17549435e-38f;
    float xs = ew_self(tiny, x * 8388608.0f, x);
    int32_t i;
    memcpy(&i, &xs, 4);
    int32_t e = ((i >> 23) & 0xff) - 127 - 23 * tiny;
    float m = f_from_bits((i & 0x7fffff) | 0x3f800000);
    int big = m > 1.41421356f;
    m = ew_self(big, 0.5f * m, m);
    float fe = (float)(e + big);
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float lm = s * (2.0f + s2 * (0.66666389f + s2 * (0.40022188f + s2 * (0.27995959f +
               s2 * 0.28029457f))));
    float r = fe * 0.693145751953125f + (lm + fe * 1.42860676533018704e-6f);
    float special = ew_self(x == 0, -INFINITY, ew_self(x < 0, NAN, x)); /* x = inf, NaN */
    return ew_self((x > 0) & (x < INFINITY), r, special);
}

/* log(1 + e^x) = max(x, 0) + log(1 + e^-|x|). */
static inline float v_softplus(float x)
{
    return ew_self(x > 0, x, 0.0f) + v_log1p_unit(v_exp(-fabsf(x)));
}

/* tanh x = 1 - 2 / (e^2|x| + 1) with the sign of x; below 0.5625, where that
 * cancels, x + x^3 P(x^2) (error 3.2e-9). tanh(10) rounds to 1. */
static inline float v_tanh(float x)
{
    float a = fabsf(x);
    a = ew_self(a > 10.0f, 10.0f, a);
    float a2 = a * a;
    float small = a + a * a2 * (-0.33333334f + a2 * (0.13333325f + a2 * (-0.053964630f +
                  a2 * (0.021816427f + a2 * (-0.0085145338f + a2 * 0.0025060426f)))));
    float big = 1.0f - 2.0f / (v_exp(2.0f * a) + 1.0f);
    return ew_self(x != x, x, copysignf(ew_self(a < 0.5625f, small, big), x));
}

/* erf and erfc of a >= 0, each without cancellation: below 1, erf = a P(a^2)
 * (error 9.4e-8); from 1 to 4, erfc = e^-a^2 Q(1/a) (error 1.4e-7); beyond
 * 4, erfc(4) = 1.5e-8 is below float's resolution of erf, and erfc is taken as 0. */
typedef struct ErfPair {
    float erf, erfc;
} ErfPair;

static inline ErfPair v_erf_pair(float a)
{
    float a2 = a * a;
    float lo = a * (1.1283791f + a2 * (-0.37612414f + a2 * (0.11280789f + a2 * (-0.026726987f +
               a2 * (0.0049345167f + a2 * -0.00056967058f)))));
    float b = ew_self(a < 1.0f, 1.0f, a);
    b = ew_self(b > 4.0f, 4.0f, b);
    float t = 1.0f / b;
    float q = 0.00027494677f + t * (0.55895972f + t * (0.042608209f + t * (-0.47395203f +
              t * (0.50219697f + t * (-0.24920481f + t * (0.029908312f + t * (0.025662770f +
              t * -0.0088705700f)))))));
    float hi = v_exp(-b * b) * q;
    ErfPair r;
    r.erf = ew_self(a < 1.0f, lo, ew_self(a < 4.0f, 1.0f - hi, 1.0f));
    r.erfc = ew_self(a < 1.0f, 1.0f - lo, ew_self(a < 4.0f, hi, 0.0f));
    return r;
}

static inline float v_erf(float x)
{
    ErfPair e = v_erf_pair(fabsf(x));
    return ew_self(x != x, x, copysignf(e.erf, x));
}

/* 0.5 x (1 + erf(x / sqrt 2)); for x < 0, 1 + erf is erfc of |x| / sqrt 2. */
static inline float v_gelu(float x)
{
    float z = x * 0.70710678118654752f;
    ErfPair e = v_erf_pair(fabsf(z));
    return 0.5f * x * ew_self(z < 0, e.erfc, 1.0f + e.erf);
}

/* 0.5 x (1 + tanh u) = x / (1 + e^-2u): the same value, with no cancellation. */
static inline float v_gelu_tanh(float x)
{
    float u = 0.79788456080286535588f * (x + 0.044715f * x * x * x);
    return x / (1.0f + v_exp(-2.0f * u));
}

static inline float v_sigmoid(float x)
{
    return 1.0f / (1.0f + v_exp(-x));
}

/* tanh(log(1 + e^x)) = n / (n + 2) with n = e^x (e^x + 2); e^20 already gives 1. */
static inline float v_mish(float x)
{
    float e = v_exp(ew_self(x < 20.0f, x, 20.0f));
    float n = e * (e + 2.0f);
    return x * (n / (n + 2.0f));
}

static inline float v_elu(float x, float alpha)
{
    float e = alpha * v_expm1(ew_self(x < 0, x, 0.0f));
    return ew_self(x < 0, e, x);
}

/* gamma (alpha e^x - alpha), as expm1 so that small negative x keeps its digits. */
static inline float v_selu(float x, float alpha, float gamma)
{
    float e = gamma * alpha * v_expm1(ew_self(x < 0, x, 0.0f));
    return ew_self(x <= 0, e, gamma * x);
}

static inline float v_celu(float x, float alpha)
{
    float e = alpha * v_expm1(ew_self(x < 0, x, 0.0f) / alpha);
    return ew_self(x <= 0, e, x);
}

static inline float v_shrink(float x, float lambd, float bias)
{
    return ew_self(x < -lambd, x + bias, ew_self(x > lambd, x - bias, 0.0f));
}

static inline float v_clamp01(float v)
{
    return ew_self(v < 0, 0.0f, ew_self(v > 1, 1.0f, v));
}

static void un_f32(int op, void *o, const void *a, int64_t n, const RtCall *c)
{
    float p0 = rt_param_float(c, RT_UNARY_F_P0, 0), p1 = rt_param_float(c, RT_UNARY_F_P1, 0);
    int dpos = (int)rt_param_int(c, RT_UNARY_DETECT_POS, 1);
    int dneg = (int)rt_param_int(c, RT_UNARY_DETECT_NEG, 1);
    switch (op) {
    case RT_UN_SQRT: ROW1(float, float, sqrtf(x)); break;
    case RT_UN_EXP: ROW1(float, float, v_exp(x)); break;
    case RT_UN_LOG: ROW1(float, float, v_log(x)); break;
    case RT_UN_ABS: ROW1(float, float, fabsf(x)); break;
    case RT_UN_NEG: ROW1(float, float, -x); break;
    case RT_UN_RECIPROCAL: ROW1(float, float, 1 / x); break;
    case RT_UN_RELU: ROW1(float, float, x < 0 ? 0 : x); break;
    case RT_UN_LEAKY_RELU: ROW1(float, float, ew_self(x < 0, p0, 1.0f) * x); break;
    case RT_UN_SIGMOID: ROW1(float, float, v_sigmoid(x)); break;
    case RT_UN_TANH: ROW1(float, float, v_tanh(x)); break;
    case RT_UN_ERF: ROW1(float, float, v_erf(x)); break;
    case RT_UN_HARD_SIGMOID: ROW1(float, float, v_clamp01(p0 * x + p1)); break;
    case RT_UN_HARD_SWISH: ROW1(float, float, x * v_clamp01(x / 6 + 0.5f)); break;
    case RT_UN_GELU: ROW1(float, float, v_gelu(x)); break;
    case RT_UN_GELU_TANH: ROW1(float, float, v_gelu_tanh(x)); break;
    case RT_UN_ELU: ROW1(float, float, v_elu(x, p0)); break;
    case RT_UN_SELU: ROW1(float, float, v_selu(x, p0, p1)); break;
    case RT_UN_CELU: ROW1(float, float, v_celu(x, p0)); break;
    case RT_UN_SOFTPLUS: ROW1(float, float, v_softplus(x)); break;
    case RT_UN_SOFTSIGN: ROW1(float, float, x / (1 + fabsf(x))); break;
    case RT_UN_THRESHOLDED_RELU: ROW1(float, float, x > p0 ? x : 0); break;
    case RT_UN_SIN: ROW1(float, float, sinf(x)); break;
    case RT_UN_COS: ROW1(float, float, cosf(x)); break;
    case RT_UN_TAN: ROW1(float, float, tanf(x)); break;
    case RT_UN_ASIN: ROW1(float, float, asinf(x)); break;
    case RT_UN_ACOS: ROW1(float, float, acosf(x)); break;
    case RT_UN_ATAN: ROW1(float, float, atanf(x)); break;
    case RT_UN_SINH: ROW1(float, float, sinhf(x)); break;
    case RT_UN_COSH: ROW1(float, float, coshf(x)); break;
    case RT_UN_ASINH: ROW1(float, float, asinhf(x)); break;
    case RT_UN_ACOSH: ROW1(float, float, acoshf(x)); break;
    case RT_UN_ATANH: ROW1(float, float, atanhf(x)); break;
    case RT_UN_FLOOR: ROW1(float, float, floorf(x)); break;
    case RT_UN_CEIL: ROW1(float, float, ceilf(x)); break;
    case RT_UN_ROUND: ROW1(float, float, rintf(x)); break;
    case RT_UN_SIGN: ROW1(float, float, x > 0 ? 1 : x < 0 ? -1 : x); break;
    case RT_UN_ISNAN: ROW1(float, uint8_t, x != x); break;
    case RT_UN_ISINF:
        ROW1(float, uint8_t, (dpos && x == INFINITY) || (dneg && x == -INFINITY));
        break;
    case RT_UN_SHRINK: ROW1(float, float, v_shrink(x, p0, p1)); break;
    case RT_UN_MISH: ROW1(float, float, v_mish(x)); break;
    default: break;
    }
}

static inline double clamp01d(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* log(1 + e^x) without overflow for large x. */
static inline double softplus_d(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* float64 (and the integer inputs of float ops) use libm directly. */
static void un_f64(int op, void *o, const void *a, int64_t n, const RtCall *c)
{
    double p0 = rt_param_float(c, RT_UNARY_F_P0, 0), p1 = rt_param_float(c, RT_UNARY_F_P1, 0);
    int dpos = (int)rt_param_int(c, RT_UNARY_DETECT_POS, 1);
    int dneg = (int)rt_param_int(c, RT_UNARY_DETECT_NEG, 1);
    switch (op) {
    case RT_UN_SQRT: ROW1(double, double, sqrt(x)); break;
    case RT_UN_EXP: ROW1(double, double, exp(x)); break;
    case RT_UN_LOG: ROW1(double, double, log(x)); break;
    case RT_UN_ABS: ROW1(double, double, fabs(x)); break;
    case RT_UN_NEG: ROW1(double, double, -x); break;
    case RT_UN_RECIPROCAL: ROW1(double, double, 1 / x); break;
    case RT_UN_RELU: ROW1(double, double, x < 0 ? 0 : x); break;
    case RT_UN_LEAKY_RELU: ROW1(double, double, x < 0 ? p0 * x : x); break;
    case RT_UN_SIGMOID: ROW1(double, double, 1 / (1 + exp(-x))); break;
    case RT_UN_TANH: ROW1(double, double, tanh(x)); break;
    case RT_UN_ERF: ROW1(double, double, erf(x)); break;
    case RT_UN_HARD_SIGMOID: ROW1(double, double, clamp01d(p0 * x + p1)); break;
    case RT_UN_HARD_SWISH: ROW1(double, double, x * clamp01d(x / 6 + 0.5)); break;
    case RT_UN_GELU: ROW1(double, double, 0.5 * x * erfc(-x * 0.70710678118654752440)); break;
    case RT_UN_GELU_TANH:
        ROW1(double, double, x / (1 + exp(-1.5957691216057307118 * (x + 0.044715 * x * x * x))));
        break;
    case RT_UN_ELU: ROW1(double, double, x < 0 ? p0 * expm1(x) : x); break;
    case RT_UN_SELU: ROW1(double, double, x > 0 ? p1 * x : p1 * (p0 * exp(x) - p0)); break;
    case RT_UN_CELU: ROW1(double, double, x > 0 ? x : p0 * expm1(x / p0)); break;
    case RT_UN_SOFTPLUS: ROW1(double, double, softplus_d(x)); break;
    case RT_UN_SOFTSIGN: ROW1(double, double, x / (1 + fabs(x))); break;
    case RT_UN_THRESHOLDED_RELU: ROW1(double, double, x > p0 ? x : 0); break;
    case RT_UN_SIN: ROW1(double, double, sin(x)); break;
    case RT_UN_COS: ROW1(double, double, cos(x)); break;
    case RT_UN_TAN: ROW1(double, double, tan(x)); break;
    case RT_UN_ASIN: ROW1(double, double, asin(x)); break;
    case RT_UN_ACOS: ROW1(double, double, acos(x)); break;
    case RT_UN_ATAN: ROW1(double, double, atan(x)); break;
    case RT_UN_SINH: ROW1(double, double, sinh(x)); break;
    case RT_UN_COSH: ROW1(double, double, cosh(x)); break;
    case RT_UN_ASINH: ROW1(double, double, asinh(x)); break;
    case RT_UN_ACOSH: ROW1(double, double, acosh(x)); break;
    case RT_UN_ATANH: ROW1(double, double, atanh(x)); break;
    case RT_UN_FLOOR: ROW1(double, double, floor(x)); break;
    case RT_UN_CEIL: ROW1(double, double, ceil(x)); break;
    case RT_UN_ROUND: ROW1(double, double, rint(x)); break;
    case RT_UN_SIGN: ROW1(double, double, x > 0 ? 1 : x < 0 ? -1 : x); break;
    case RT_UN_ISNAN: ROW1(double, uint8_t, x != x); break;
    case RT_UN_ISINF:
        ROW1(double, uint8_t, (dpos && x == INFINITY) || (dneg && x == -INFINITY));
        break;
    case RT_UN_SHRINK: ROW1(double, double, x < -p0 ? x + p1 : x > p0 ? x - p1 : 0); break;
    case RT_UN_MISH: ROW1(double, double, x * tanh(softplus_d(x))); break;
    default: break;
    }
}

/* Integers wrap, so Abs and Neg of the most negative value give itself. */
static void un_i64(int op, void *o, const void *a, int64_t n)
{
    switch (op) {
    case RT_UN_ABS: ROW1(int64_t, int64_t, x < 0 ? (int64_t)(0 - (uint64_t)x) : x); break;
    case RT_UN_NEG: ROW1(int64_t, int64_t, (int64_t)(0 - (uint64_t)x)); break;
    case RT_UN_SIGN: ROW1(int64_t, int64_t, (x > 0) - (x < 0)); break;
    case RT_UN_RELU: ROW1(int64_t, int64_t, x < 0 ? 0 : x); break;
    case RT_UN_NOT: ROW1(int64_t, int64_t, x == 0); break;
    case RT_UN_BITNOT: ROW1(int64_t, int64_t, ~x); break;
    default: break;
    }
}

static void un_u64(int op, void *o, const void *a, int64_t n)
{
    switch (op) {
    case RT_UN_ABS: case RT_UN_RELU: ROW1(uint64_t, uint64_t, x); break;
    case RT_UN_NEG: ROW1(uint64_t, uint64_t, 0 - x); break;
    case RT_UN_SIGN: ROW1(uint64_t, uint64_t, x > 0); break;
    case RT_UN_NOT: ROW1(uint64_t, uint64_t, x == 0); break;
    case RT_UN_BITNOT: ROW1(uint64_t, uint64_t, ~x); break;
    default: break;
    }
}

static int is_int_op(int op)
{
    return op == RT_UN_ABS || op == RT_UN_NEG || op == RT_UN_SIGN || op == RT_UN_RELU ||
           op == RT_UN_NOT || op == RT_UN_BITNOT;
}

/* Integer inputs of float-only ops (Shrink, Erf) compute in double. */
static int unary_class(int op, int dtype)
{
    int cls = ew_class(dtype);
    if (cls == EW_NONE || op < 0 || op >= RT_UN_COUNT)
        return EW_NONE;
    if (op == RT_UN_BITNOT)
        return cls >= EW_I64 ? cls : EW_NONE;
    if (cls >= EW_I64 && !is_int_op(op))
        return EW_F64;
    return cls;
}

static void un_row(int cls, int op, void *o, const void *a, int64_t n, const RtCall *c)
{
    switch (cls) {
    case EW_F32: un_f32(op, o, a, n, c); break;
    case EW_F64: un_f64(op, o, a, n, c); break;
    case EW_I64: un_i64(op, o, a, n); break;
    case EW_U64: un_u64(op, o, a, n); break;
    default: break;
    }
}

typedef union EwBuf {
    float f[EW_CHUNK];
    double d[EW_CHUNK];
    int64_t i[EW_CHUNK];
} EwBuf;

int rt_unary(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 1 || c->n_ints <= RT_UNARY_OP)
        return RT_EINVAL;
    int op = (int)c->ints[RT_UNARY_OP], di = c->in[0].dtype, dout = c->out[0].dtype;
    int cls = unary_class(op, di);
    int64_t n = rt_numel(&c->out[0]);
    if (cls == EW_NONE)
        return RT_EDTYPE;
    int nat = ew_class_dtype(cls);
    int to_bool = op == RT_UN_ISNAN || op == RT_UN_ISINF;
    int ni = di == nat, no = dout == (to_bool ? RT_BOOL : nat);
    if (ni && no) {
        un_row(cls, op, out[0], in[0], n, c);
        return RT_OK;
    }
    EwBuf bi, bo;
    size_t eo = rt_dtype_size(dout);
    for (int64_t k = 0; k < n; k += EW_CHUNK) {
        int64_t m = n - k < EW_CHUNK ? n - k : EW_CHUNK;
        const void *pi = (const char *)in[0] + k * rt_dtype_size(di);
        if (!ni) {
            ew_load(cls, &bi, in[0], di, k, 1, m);
            pi = &bi;
        }
        un_row(cls, op, no ? (char *)out[0] + k * eo : (void *)&bo, pi, m, c);
        if (!no)
            ew_store(cls, out[0], dout, k, &bo, m);
    }
    return RT_OK;
}

/* ---- Clip ---- */

/* min(max(x, lo), hi), so NaN stays NaN and lo > hi gives hi. */
#define CLIP_ROW(T) ROW1(T, T, (x < lo ? lo : x) > hi ? hi : (x < lo ? lo : x))

/* lo, hi of class cls into the buffers, from attributes or inputs 1 and 2. */
static void clip_bounds(const RtCall *c, const void *const *in, int cls, EwBuf *lo, EwBuf *hi)
{
    switch (cls) {
    case EW_F32: lo->f[0] = -INFINITY; hi->f[0] = INFINITY; break;
    case EW_F64: lo->d[0] = -INFINITY; hi->d[0] = INFINITY; break;
    case EW_I64: lo->i[0] = INT64_MIN; hi->i[0] = INT64_MAX; break;
    default: lo->i[0] = 0; hi->i[0] = -1; break; /* uint64 0 and UINT64_MAX */
    }
    if (rt_param_int(c, RT_CLIP_ATTRS, 0)) {
        ew_load(cls, lo, c->floats, RT_F32, RT_CLIP_F_LO, 0, 1);
        ew_load(cls, hi, c->floats, RT_F32, RT_CLIP_F_HI, 0, 1);
        return;
    }
    if (c->n_in > 1 && in[1] && c->in[1].dtype != RT_UNDEF)
        ew_load(cls, lo, in[1], c->in[1].dtype, 0, 0, 1);
    if (c->n_in > 2 && in[2] && c->in[2].dtype != RT_UNDEF)
        ew_load(cls, hi, in[2], c->in[2].dtype, 0, 0, 1);
}

static void clip_row(int cls, void *o, const void *a, int64_t n, const EwBuf *l, const EwBuf *h)
{
    switch (cls) {
    case EW_F32: { float lo = l->f[0], hi = h->f[0]; CLIP_ROW(float); break; }
    case EW_F64: { double lo = l->d[0], hi = h->d[0]; CLIP_ROW(double); break; }
    case EW_I64: { int64_t lo = l->i[0], hi = h->i[0]; CLIP_ROW(int64_t); break; }
    case EW_U64: {
        uint64_t lo = (uint64_t)l->i[0], hi = (uint64_t)h->i[0];
        CLIP_ROW(uint64_t);
        break;
    }
    default: break;
    }
}

int rt_clip(const RtCall *c, const void *const *in, void *const *out)
{
    int dt = c->in[0].dtype, cls = ew_class(dt);
    int64_t n = rt_numel(&c->out[0]);
    EwBuf lo, hi, buf;
    if (cls == EW_NONE || dt == RT_BOOL)
        return RT_EDTYPE;
    clip_bounds(c, in, cls, &lo, &hi);
    if (dt == ew_class_dtype(cls)) {
        clip_row(cls, out[0], in[0], n, &lo, &hi);
        return RT_OK;
    }
    for (int64_t k = 0; k < n; k += EW_CHUNK) {
        int64_t m = n - k < EW_CHUNK ? n - k : EW_CHUNK;
        ew_load(cls, &buf, in[0], dt, k, 1, m);
        clip_row(cls, &buf, &buf, m, &lo, &hi);
        ew_store(cls, out[0], dt, k, &buf, m);
    }
    return RT_OK;
}
