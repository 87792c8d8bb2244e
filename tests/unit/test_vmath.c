/* test_vmath.c: rt_vmath.h's float32 exp, log, tanh, sigmoid, erf, gelu against double libm over dense sweeps and edge values. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "runtime/rt_vmath.h"

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Distance in float32 ulps between f and the exact value r (in double). */
static double ulps(float f, double r)
{
    if (r == 0)
        return f == 0 ? 0 : INFINITY;
    int e;
    frexp(r, &e);
    double ulp = ldexp(1.0, (e - 24 > -149 ? e - 24 : -149)); /* subnormals: 2^-149 */
    return fabs(f - r) / ulp;
}

/* Every 389th float in [lo, hi], both signs: over 20k points per binade. */
#define SWEEP(lo, hi, BODY)                                                          \
    for (int sgn = 0; sgn < 2; sgn++)                                                \
        for (uint32_t u = 0; u < 0x7f800000u; u += 389) {                             \
            float x = from_bits(u | (uint32_t)sgn << 31);                            \
            if (x < (lo) || x > (hi))                                                \
                continue;                                                            \
            BODY;                                                                    \
        }

static void test_exp(void)
{
    /* the whole range where e^x is a nonzero finite float, subnormal results included */
    double worst = 0;
    SWEEP(-87.0f, 88.7f, {
        double e = ulps(v_exp(x), exp((double)x));
        worst = e > worst ? e : worst;
    });
    fprintf(stderr, "exp: %.2f ulp\n", worst);
    CHECK_TRUE(worst <= 2.0);
    /* subnormal results: absolute error below one subnormal step times 2 */
    double wsub = 0;
    SWEEP(-103.0f, -87.5f, {
        double e = fabs(v_exp(x) - exp((double)x)) / ldexp(1.0, -149);
        wsub = e > wsub ? e : wsub;
    });
    fprintf(stderr, "exp, subnormal results: %.2f steps\n", wsub);
    CHECK_TRUE(wsub <= 2.0);
    CHECK_TRUE(v_exp(INFINITY) == INFINITY && v_exp(-INFINITY) == 0 && isnan(v_exp(NAN)));
    CHECK_TRUE(v_exp(89.0f) == INFINITY && v_exp(-104.0f) == 0 && v_exp(0) == 1);
    CHECK_TRUE(v_exp(88.72f) < INFINITY); /* just below FLT_MAX's log */
    /* the clamped variant tanh uses, on its range */
    worst = 0;
    SWEEP(-87.0f, 88.0f, {
        double e = ulps(v_exp_mid(x), exp((double)x));
        worst = e > worst ? e : worst;
    });
    fprintf(stderr, "exp_mid: %.2f ulp\n", worst);
    CHECK_TRUE(worst <= 2.0);
    CHECK_TRUE(isnan(v_exp_mid(NAN)));
}

static void test_recip(void)
{
    double worst = 0;
    SWEEP(1.2e-38f, 8e37f, {
        if (x > 0) {
            double e = ulps(v_recip(x), 1.0 / x);
            worst = e > worst ? e : worst;
        }
    });
    fprintf(stderr, "recip: %.2f ulp\n", worst);
    CHECK_TRUE(worst <= 2.0);
}

/* Relative error where |f| > 1e-3, absolute below: how the bounds of the tests below are stated. */
static double relabs(float f, double r)
{
    return fabs(f - r) / (fabs(r) > 1e-3 ? fabs(r) : 1e-3) * (fabs(r) > 1e-3 ? 1 : 1e-3);
}

static void test_functions(void)
{
    double wt = 0, ws = 0, we = 0, wg = 0, wl = 0;
    SWEEP(-30.0f, 30.0f, {
        double t = relabs(v_tanh(x), tanh((double)x));
        double s = relabs(v_sigmoid(x), 1 / (1 + exp(-(double)x)));
        double e = relabs(v_erf(x), erf((double)x));
        double gx = (double)x;
        double g = relabs(v_gelu(x), 0.5 * gx * erfc(-gx / sqrt(2.0)));
        wt = t > wt ? t : wt;
        ws = s > ws ? s : ws;
        we = e > we ? e : we;
        wg = g > wg ? g : wg;
    });
    SWEEP(1e-38f, 3e38f, {
        if (x > 0) {
            double l = fabs(v_log(x) - log((double)x)) /
                       (fabs(log((double)x)) > 1 ? fabs(log((double)x)) : 1);
            wl = l > wl ? l : wl;
        }
    });
    fprintf(stderr, "tanh %.3g sigmoid %.3g erf %.3g gelu %.3g log %.3g\n", wt, ws, we, wg, wl);
    CHECK_NEAR(0, wt, 1e-6);
    CHECK_NEAR(0, ws, 1e-6);
    CHECK_NEAR(0, we, 1e-6);
    CHECK_NEAR(0, wg, 2e-6); /* erfc's tail through e^-a^2 Q(1/a) */
    CHECK_NEAR(0, wl, 1e-6);
    /* edges: signed zeros, infinities, NaN, tiny values */
    CHECK_TRUE(v_tanh(INFINITY) == 1 && v_tanh(-INFINITY) == -1 && isnan(v_tanh(NAN)));
    CHECK_TRUE(v_tanh(0.0f) == 0 && signbit(v_tanh(-0.0f)) && v_tanh(1e-30f) == 1e-30f);
    CHECK_TRUE(v_sigmoid(INFINITY) == 1 && v_sigmoid(-INFINITY) == 0 && isnan(v_sigmoid(NAN)));
    CHECK_TRUE(v_erf(INFINITY) == 1 && v_erf(-INFINITY) == -1 && isnan(v_erf(NAN)));
    CHECK_TRUE(v_log(0) == -INFINITY && isnan(v_log(-1)) && v_log(INFINITY) == INFINITY);
}

int main(void)
{
    test_exp();
    test_recip();
    test_functions();
    return CHECK_DONE();
}
