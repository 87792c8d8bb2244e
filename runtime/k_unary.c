/* k_unary.c: one-input elementwise kernels (activations, math, rounding, logic) and Clip. */
#include <math.h>
#include <string.h>

#include "k_ew.h"
#include "rt_vmath.h"

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

static void un_f32_p(int op, void *o, const void *a, int64_t n, float p0, float p1, int dpos,
                     int dneg)
{
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
    case RT_UN_HARD_SWISH: ROW1(float, float, x * v_clamp01(x * (1.0f / 6) + 0.5f)); break;
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
    case RT_UN_SWISH: ROW1(float, float, x * v_sigmoid(p0 * x)); break;
    default: break;
    }
}

static void un_f32(int op, void *o, const void *a, int64_t n, const RtCall *c)
{
    un_f32_p(op, o, a, n, rt_param_float(c, RT_UNARY_F_P0, 0),
             rt_param_float(c, RT_UNARY_F_P1, 0), (int)rt_param_int(c, RT_UNARY_DETECT_POS, 1),
             (int)rt_param_int(c, RT_UNARY_DETECT_NEG, 1));
}

void ew_unary_f32(int op, float *o, const float *a, int64_t n, float p0, float p1)
{
    un_f32_p(op, o, a, n, p0, p1, 1, 1);
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
    case RT_UN_SWISH: ROW1(double, double, x / (1 + exp(-p0 * x))); break;
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
