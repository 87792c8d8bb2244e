/* rt_vmath.h: float32 exp, log, tanh, erf, sigmoid, gelu and kin as inline arithmetic the compiler vectorizes. */
#ifndef ONNXCC_RT_VMATH_H
#define ONNXCC_RT_VMATH_H

#include <math.h>
#include <string.h>

#include "k_ew.h"

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

/* 1 / d for d in [2^-126, 8e37] without a division: a divide
 * unit takes about as long per vector as all of an exp, while this is one
 * integer subtraction (a first guess within 12%) and three Newton steps
 * r += r (1 - d r), each squaring the error: 12% -> 1.5% -> 2e-4 -> 1 ulp. */
static inline float v_recip(float d)
{
    int32_t i;
    memcpy(&i, &d, 4);
    float r = f_from_bits(0x7EF311C3 - i);
    r = r + r * (1.0f - d * r);
    r = r + r * (1.0f - d * r);
    r = r + r * (1.0f - d * r);
    return r;
}

/* e^x for x in [-87, 88] (or NaN), which the caller guarantees: then 2^k
 * is one normal float, and neither overflow nor subnormals need handling:
 * about half the operations of v_exp. Same reduction and polynomial. k is
 * rounded by adding 1.5 * 2^23, which leaves k + 0x4B400000 in the sum's
 * bits: adding 127 and shifting by 23 builds 2^k without converting a float
 * to an integer (NaN flows through as NaN). */
static inline float v_exp_mid(float x)
{
    float kf = x * 1.44269504088896341f + 12582912.0f;
    float k = kf - 12582912.0f;
    float r = x - k * 0.693145751953125f - k * 1.42860676533018704e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666415f + r * (0.041666217f +
              r * (0.0083751353f + r * 0.0013948590f)))));
    uint32_t b;
    memcpy(&b, &kf, 4);
    b = (b + 127u) << 23;
    float s;
    memcpy(&s, &b, 4);
    return p * s;
}

/* x * sigmoid(x) = x / (1 + e^-x), a vector at a time, for the GEMM and
 * depthwise epilogues (Swish after efficientnet's convs: 6 M values a run).
 * A divide, or the three Newton steps of v_recip, cost as much as the exp:
 * the ISA's reciprocal estimate (vrcp14ps: 2^-14; vrcpps: 1.5 * 2^-12)
 * and one Newton step (error squared: 2^-28 and 2^-23) replace them.
 * e^t, t = -x clamped to [-100, 87], as v_exp_mid: k = round(t log2 e),
 * r = t - k ln2 in two parts, the degree-6 polynomial; 2^k by vscalefps on
 * AVX-512 (no clamp needed below), by the exponent bits on AVX2 (t >= -87
 * keeps 2^k normal). 1 + e^87 = 6.1e37 stays inside the estimate's range.
 * Error against double: AVX-512 3 ulp, AVX2 5 ulp (test_vmath). Below
 * x = -87, x * 0 (|x e^x| < 1.4e-36; -inf gives NaN, as x * sigmoid(x)
 * does); NaN stays NaN; +inf gives +inf. */
#if !defined(RT_PLAIN_C) && defined(__GNUC__) && (defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__)))
#include <immintrin.h>
#endif

#if !defined(RT_PLAIN_C) && defined(__GNUC__) && defined(__AVX512F__)
#define RT_VMATH_V16 1
static inline __m512 v16_exp_poly(__m512 r)
{
    __m512 p = _mm512_set1_ps(0.0013948590f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.0083751353f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.041666217f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.16666415f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
}

static inline __m512 v16_swish(__m512 x)
{
    /* min(t, 87): a NaN t takes 87 (minps returns its second operand), the
     * final x * ... keeps the NaN */
    __m512 t = _mm512_min_ps(_mm512_sub_ps(_mm512_setzero_ps(), x), _mm512_set1_ps(87.0f));
    t = _mm512_max_ps(t, _mm512_set1_ps(-100.0f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), t);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860676533018704e-6f), r);
    __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_scalef_ps(v16_exp_poly(r), k));
    __m512 y = _mm512_rcp14_ps(d);
    y = _mm512_fmadd_ps(y, _mm512_fnmadd_ps(d, y, _mm512_set1_ps(1.0f)), y);
    __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_LT_OQ);
    return _mm512_mul_ps(x, _mm512_mask_blend_ps(tiny, y, _mm512_setzero_ps()));
}
#endif

#if !defined(RT_PLAIN_C) && defined(__GNUC__) && defined(__AVX2__) && defined(__FMA__)
#define RT_VMATH_V8 1
static inline __m256 v8_swish(__m256 x)
{
    __m256 t = _mm256_min_ps(_mm256_sub_ps(_mm256_setzero_ps(), x), _mm256_set1_ps(87.0f));
    t = _mm256_max_ps(t, _mm256_set1_ps(-87.0f));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693145751953125f), t);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(1.42860676533018704e-6f), r);
    __m256 p = _mm256_set1_ps(0.0013948590f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.0083751353f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.041666217f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.16666415f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    __m256 d = _mm256_fmadd_ps(p, _mm256_castsi256_ps(e), _mm256_set1_ps(1.0f));
    __m256 y = _mm256_rcp_ps(d);
    y = _mm256_fmadd_ps(y, _mm256_fnmadd_ps(d, y, _mm256_set1_ps(1.0f)), y);
    __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ);
    return _mm256_mul_ps(x, _mm256_andnot_ps(tiny, y));
}
#endif

/* The portable x * sigmoid(x): v_exp_mid and v_recip (three Newton steps),
 * a few ulp, the same edge behaviour as v16_swish. */
static inline float v_swish(float x)
{
    float t = -x;
    t = ew_self(t > 87.0f, 87.0f, t);
    t = ew_self(t < -87.0f, -87.0f, t);
    return ew_self(x < -87.0f, x * 0.0f, x * v_recip(1.0f + v_exp_mid(t)));
}

/* tanh x = (1 - e) / (1 + e) with e = e^-2|x| in (0, 1] and the sign of x
 * (no division, no overflow); below 0.5625, where 1 - e cancels,
 * x + x^3 P(x^2) (error 3.2e-9). tanh(10) rounds to 1. */
static inline float v_tanh(float x)
{
    float a = fabsf(x);
    a = ew_self(a > 10.0f, 10.0f, a);
    float a2 = a * a;
    float small = a + a * a2 * (-0.33333334f + a2 * (0.13333325f + a2 * (-0.053964630f +
                  a2 * (0.021816427f + a2 * (-0.0085145338f + a2 * 0.0025060426f)))));
    float e = v_exp_mid(-2.0f * a);
    float big = (1.0f - e) * v_recip(1.0f + e);
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

#endif
