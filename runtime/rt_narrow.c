/* rt_narrow.c: the narrow element types (float8, float4, e8m0, int4, int2): packing, conversions. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"

/* One small float format: sign, ebits exponent bits, mbits mantissa bits.
 * The ONNX IR spec (docs/IR.md, "float8") and the OCP MX spec fix these. */
typedef struct MiniFloat {
    int bits, mbits, bias;
    unsigned maxcode;            /* largest finite magnitude */
    unsigned nan;                /* NaN's code without the sign (0x80: fnuz's only NaN) */
    unsigned inf;                /* infinity's code, 0 when the format has none */
    int unsigned_zero;           /* fnuz: no negative zero, 0x80 is NaN */
    int has_nan;                 /* float4e2m1 has no NaN */
} MiniFloat;

static const MiniFloat *fmt_of(int dtype)
{
    static const MiniFloat e4m3fn = {8, 3, 7, 0x7e, 0x7f, 0, 0, 1};
    static const MiniFloat e4m3fnuz = {8, 3, 8, 0x7f, 0x80, 0, 1, 1};
    static const MiniFloat e5m2 = {8, 2, 15, 0x7b, 0x7e, 0x7c, 0, 1};
    static const MiniFloat e5m2fnuz = {8, 2, 16, 0x7f, 0x80, 0, 1, 1};
    static const MiniFloat e2m1 = {4, 1, 1, 0x7, 0x8, 0, 0, 0};
    switch (dtype) {
    case RT_F8E4M3FN: return &e4m3fn;
    case RT_F8E4M3FNUZ: return &e4m3fnuz;
    case RT_F8E5M2: return &e5m2;
    case RT_F8E5M2FNUZ: return &e5m2fnuz;
    case RT_F4E2M1: return &e2m1;
    default: return NULL;
    }
}

unsigned rt_narrow_get(const void *p, int dtype, int64_t i)
{
    const uint8_t *b = p;
    switch (rt_dtype_bits(dtype)) {
    case 4: return (unsigned)(b[i >> 1] >> ((i & 1) * 4)) & 0xf;
    case 2: return (unsigned)(b[i >> 2] >> ((i & 3) * 2)) & 0x3;
    default: return b[i];
    }
}

/* Read-modify-write of one byte: callers that split a packed output over
 * threads must give each thread whole bytes. */
void rt_narrow_set(void *p, int dtype, int64_t i, unsigned code)
{
    uint8_t *b = p;
    int sh;
    switch (rt_dtype_bits(dtype)) {
    case 4:
        sh = (int)(i & 1) * 4;
        b[i >> 1] = (uint8_t)((b[i >> 1] & ~(0xf << sh)) | (code & 0xf) << sh);
        break;
    case 2:
        sh = (int)(i & 3) * 2;
        b[i >> 2] = (uint8_t)((b[i >> 2] & ~(0x3 << sh)) | (code & 0x3) << sh);
        break;
    default: b[i] = (uint8_t)code; break;
    }
}

int rt_narrow_int(int dtype, unsigned code)
{
    switch (dtype) {
    case RT_I4: return (int)(code & 0xf) - (code & 0x8 ? 16 : 0);
    case RT_I2: return (int)(code & 0x3) - (code & 0x2 ? 4 : 0);
    default: return (int)code;
    }
}

float rt_narrow_to_f32(int dtype, unsigned code)
{
    if (dtype == RT_F8E8M0)
        return code == 0xff ? NAN : ldexpf(1.0f, (int)code - 127);
    const MiniFloat *f = fmt_of(dtype);
    if (!f)
        return (float)rt_narrow_int(dtype, code);
    unsigned sbit = 1u << (f->bits - 1), mag = code & (sbit - 1);
    if (f->unsigned_zero && code == sbit)
        return NAN;
    if (!f->unsigned_zero && f->has_nan && (mag == f->nan || (f->inf && mag > f->inf)))
        return NAN;
    if (f->inf && mag == f->inf)
        return code & sbit ? -INFINITY : INFINITY;
    unsigned e = mag >> f->mbits, m = mag & ((1u << f->mbits) - 1);
    uint32_t bits;
    float v;
    if (e) { /* a normal number: float32's fields, rebiased */
        bits = (uint32_t)(e - f->bias + 127) << 23 | (uint32_t)m << (23 - f->mbits);
        memcpy(&v, &bits, 4);
    } else {
        v = ldexpf((float)m, 1 - f->bias - f->mbits);
    }
    return code & sbit ? -v : v;
}

/* float8e8m0 takes the exponent of float32, rounded by round_mode (ONNX
 * Cast-25): up adds one for any mantissa, nearest from 1.5 up (ties away),
 * down truncates. Its sign is dropped: the type holds scales. */
static unsigned to_e8m0(float x, int saturate, int round_mode)
{
    if (isnan(x))
        return 0xff;
    if (isinf(x))
        return saturate ? 0xfe : 0xff;
    uint32_t b;
    x = fabsf(x);
    memcpy(&b, &x, 4);
    uint32_t e = b >> 23, m = b & 0x7fffff;
    if (e == 0) /* 2^-127 is code 0; a float32 subnormal is m * 2^-149 */
        return round_mode == RT_E8M0_UP ? m > 0x400000
             : round_mode == RT_E8M0_NEAREST ? m >= 0x600000 : 0;
    if ((round_mode == RT_E8M0_UP && m) || (round_mode == RT_E8M0_NEAREST && (m & 0x400000)))
        e++;
    if (e > 0xfe)
        return saturate ? 0xfe : 0xff;
    return e;
}

/* Rounds v to the format, nearest even, in double: a float, float16 or
 * double input is rounded once. */
static unsigned to_minifloat(const MiniFloat *f, double v, int saturate)
{
    unsigned sbit = 1u << (f->bits - 1);
    unsigned nan = f->unsigned_zero ? f->nan : f->nan | (signbit(v) ? sbit : 0);
    if (isnan(v))
        return f->has_nan ? nan : sbit; /* float4e2m1 has no NaN: ONNX gives -0 */
    unsigned sign = signbit(v) ? sbit : 0;
    /* float4e2m1 has neither infinity nor NaN: it always saturates */
    int sat = saturate || !f->has_nan;
    unsigned over = sat ? sign | f->maxcode : f->inf ? sign | f->inf : nan;
    double a = fabs(v);
    if (isinf(a))
        return over;
    int emin = 1 - f->bias, e;
    frexp(a, &e);
    e = a == 0 ? emin : e - 1 < emin ? emin : e - 1;
    double r = rint(ldexp(a, f->mbits - e));
    if (r == 0)
        return f->unsigned_zero ? 0 : sign;
    if (r >= ldexp(1, f->mbits + 1)) {
        r /= 2;
        e++;
    }
    unsigned m = (unsigned)r, code;
    if (m < 1u << f->mbits)
        code = m; /* subnormal: e is emin */
    else
        code = (unsigned)(e + f->bias) << f->mbits | (m - (1u << f->mbits));
    if (code > f->maxcode)
        return over;
    return sign | code;
}

/* The same rounding on float32's bits, for the common float and float16
 * inputs: the 24-bit significand shifted right to the format's quantum at
 * the value's exponent (emin and below: the subnormal quantum), nearest even. */
static unsigned to_minifloat_f32(const MiniFloat *f, float x, int saturate)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    unsigned sbit = 1u << (f->bits - 1), sign = u >> 31 ? sbit : 0;
    uint32_t a = u & 0x7fffffff;
    if (a >= 0x7f800000 || a < 0x00800000) /* infinities, NaNs, float32 subnormals and 0 */
        return to_minifloat(f, x, saturate);
    int emin = 1 - f->bias, e = (int)(a >> 23) - 127, ee = e < emin ? emin : e;
    int shift = 23 - f->mbits + (ee - e);
    uint32_t s = (a & 0x7fffff) | 0x800000, q = 0;
    if (shift < 32) {
        uint32_t rem = s & ((1u << shift) - 1), half = 1u << (shift - 1);
        q = s >> shift;
        q += rem > half || (rem == half && (q & 1));
    }
    if (q == 0)
        return f->unsigned_zero ? 0 : sign;
    if (q >= 2u << f->mbits) { /* rounded up into the next binade */
        q >>= 1;
        ee++;
    }
    unsigned code = q < 1u << f->mbits ? q
                  : (unsigned)(ee + f->bias) << f->mbits | (q - (1u << f->mbits));
    if (code > f->maxcode)
        return to_minifloat(f, x, saturate); /* overflow: its rules live there */
    return sign | code;
}

unsigned rt_f64_to_narrow(int dtype, double v, int saturate, int round_mode)
{
    const MiniFloat *mf = fmt_of(dtype);
    if (mf && (double)(float)v == v)
        return to_minifloat_f32(mf, (float)v, saturate);
    if (dtype == RT_F8E8M0)
        return to_e8m0((float)v, saturate, round_mode);
    const MiniFloat *f = fmt_of(dtype);
    if (f)
        return to_minifloat(f, v, saturate);
    /* the packed integers wrap, as ONNX's Cast does (float truncates first) */
    int64_t k = isnan(v) ? 0 : v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? INT64_MIN : (int64_t)v;
    return (unsigned)((uint64_t)k & ((1u << rt_dtype_bits(dtype)) - 1));
}

unsigned rt_f32_to_narrow(int dtype, float f, int saturate, int round_mode)
{
    return rt_f64_to_narrow(dtype, f, saturate, round_mode);
}

void rt_elem_copy(void *dst, int64_t di, const void *src, int64_t si, int dtype, int64_t n)
{
    int bits = rt_dtype_bits(dtype);
    if (bits >= 8) {
        size_t es = (size_t)bits / 8;
        memcpy((char *)dst + di * (int64_t)es, (const char *)src + si * (int64_t)es,
               (size_t)n * es);
        return;
    }
    int per = 8 / bits;
    if (di % per == 0 && si % per == 0) {
        /* both start on a byte: whole bytes at once, the tail element-wise */
        int64_t whole = n / per;
        memcpy((char *)dst + di / per, (const char *)src + si / per, (size_t)whole);
        di += whole * per;
        si += whole * per;
        n -= whole * per;
    }
    for (int64_t k = 0; k < n; k++)
        rt_narrow_set(dst, dtype, di + k, rt_narrow_get(src, dtype, si + k));
}
