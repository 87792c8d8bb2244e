/* rt_dtype.c: element types: sizes, names, half-precision conversions, generic access. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"

size_t rt_dtype_size(int dtype)
{
    switch (dtype) {
    case RT_F32: case RT_I32: case RT_U32: return 4;
    case RT_F64: case RT_I64: case RT_U64: return 8;
    case RT_F16: case RT_BF16: case RT_I16: case RT_U16: return 2;
    case RT_I8: case RT_U8: case RT_BOOL: return 1;
    case RT_F8E4M3FN: case RT_F8E4M3FNUZ: case RT_F8E5M2: case RT_F8E5M2FNUZ:
    case RT_F8E8M0: return 1;
    /* a string element is a pointer to NUL-terminated UTF-8 (see k_string.h) */
    case RT_STRING: return sizeof(const char *);
    default: return 0;
    }
}

int rt_dtype_bits(int dtype)
{
    switch (dtype) {
    case RT_U4: case RT_I4: case RT_F4E2M1: return 4;
    case RT_U2: case RT_I2: return 2;
    default: return 8 * (int)rt_dtype_size(dtype);
    }
}

size_t rt_dtype_bytes(int dtype, int64_t n)
{
    int bits = rt_dtype_bits(dtype);
    if (bits >= 8)
        return (size_t)n * (size_t)(bits / 8);
    return (size_t)((n * bits + 7) / 8);
}

void rt_type_str(char *s, size_t n, int dtype, int rank, const int64_t *dims)
{
    size_t k = (size_t)snprintf(s, n, "%s[", rt_dtype_name(dtype));
    for (int i = 0; i < rank && k < n; i++)
        k += (size_t)snprintf(s + k, n - k, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (k < n)
        snprintf(s + k, n - k, "]");
}

const char *rt_dtype_name(int dtype)
{
    switch (dtype) {
    case RT_F32: return "float32";
    case RT_F64: return "float64";
    case RT_F16: return "float16";
    case RT_BF16: return "bfloat16";
    case RT_I8: return "int8";
    case RT_I16: return "int16";
    case RT_I32: return "int32";
    case RT_I64: return "int64";
    case RT_U8: return "uint8";
    case RT_U16: return "uint16";
    case RT_U32: return "uint32";
    case RT_U64: return "uint64";
    case RT_BOOL: return "bool";
    case RT_STRING: return "string";
    case RT_F8E4M3FN: return "float8e4m3fn";
    case RT_F8E4M3FNUZ: return "float8e4m3fnuz";
    case RT_F8E5M2: return "float8e5m2";
    case RT_F8E5M2FNUZ: return "float8e5m2fnuz";
    case RT_U4: return "uint4";
    case RT_I4: return "int4";
    case RT_F4E2M1: return "float4e2m1";
    case RT_F8E8M0: return "float8e8m0";
    case RT_U2: return "uint2";
    case RT_I2: return "int2";
    default: return "undefined";
    }
}

int64_t rt_numel(const RtTensorDesc *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

void rt_strides(const RtTensorDesc *t, int64_t *strides)
{
    int64_t s = 1;
    for (int i = t->rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= t->dims[i];
    }
}

int rt_broadcast_strides(const RtTensorDesc *in, const RtTensorDesc *out, int64_t *strides)
{
    int64_t own[RT_MAX_RANK];
    int off = out->rank - in->rank;
    if (off < 0)
        return -1;
    rt_strides(in, own);
    for (int i = 0; i < out->rank; i++) {
        if (i < off) {
            strides[i] = 0;
            continue;
        }
        int64_t d = in->dims[i - off];
        if (d == out->dims[i])
            strides[i] = d == 1 ? 0 : own[i - off];
        else if (d == 1)
            strides[i] = 0;
        else
            return -1;
    }
    return 0;
}

/* IEEE 754 binary16 <-> binary32, bit-exact, round to nearest even. */
float rt_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: renormalize */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) {
                man <<= 1;
                exp--;
            }
            man &= 0x3ff;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t rt_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t exp = (x >> 23) & 0xff;
    uint32_t man = x & 0x7fffff;
    if (exp == 0xff) /* inf or nan (keep nan quiet) */
        return sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0);
    int e = (int)exp - 127 + 15;
    if (e >= 0x1f)
        return sign | 0x7c00;
    if (e <= 0) {
        if (e < -10)
            return sign;
        man |= 0x800000;
        int shift = 14 - e;
        uint32_t half = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return sign | (uint16_t)half;
    }
    uint32_t half = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
        half++; /* may carry into the exponent, which is still correct */
    return sign | (uint16_t)half;
}

float rt_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t rt_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000)
        return (uint16_t)((x >> 16) | 0x40);
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

double rt_load_f64(const void *p, int dtype, int64_t i)
{
    switch (dtype) {
    case RT_F32: return ((const float *)p)[i];
    case RT_F64: return ((const double *)p)[i];
    case RT_F16: return rt_f16_to_f32(((const uint16_t *)p)[i]);
    case RT_BF16: return rt_bf16_to_f32(((const uint16_t *)p)[i]);
    case RT_U64: return (double)((const uint64_t *)p)[i];
    default:
        if (rt_is_narrow_float(dtype))
            return rt_narrow_to_f32(dtype, rt_narrow_get(p, dtype, i));
        return (double)rt_load_i64(p, dtype, i);
    }
}

void rt_store_f64(void *p, int dtype, int64_t i, double v)
{
    switch (dtype) {
    case RT_F32: ((float *)p)[i] = (float)v; break;
    case RT_F64: ((double *)p)[i] = v; break;
    case RT_F16: ((uint16_t *)p)[i] = rt_f32_to_f16((float)v); break;
    case RT_BF16: ((uint16_t *)p)[i] = rt_f32_to_bf16((float)v); break;
    case RT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default:
        if (rt_is_narrow(dtype)) { /* Cast's defaults: saturate, e8m0 rounds up */
            rt_narrow_set(p, dtype, i, rt_f64_to_narrow(dtype, v, 1, RT_E8M0_UP));
            break;
        }
        /* float -> int conversion truncates toward zero, as C and ONNX Cast do;
         * out-of-range values are clamped instead of being undefined. */
        if (isnan(v))
            v = 0;
        if (dtype == RT_U64 && v >= 9.2233720368547758e18)
            ((uint64_t *)p)[i] = v >= 1.8446744073709552e19 ? UINT64_MAX : (uint64_t)v;
        else if (v >= 9.2233720368547758e18)
            rt_store_i64(p, dtype, i, INT64_MAX);
        else if (v <= -9.2233720368547758e18)
            rt_store_i64(p, dtype, i, INT64_MIN);
        else
            rt_store_i64(p, dtype, i, (int64_t)v);
    }
}

int64_t rt_load_i64(const void *p, int dtype, int64_t i)
{
    switch (dtype) {
    case RT_I8: return ((const int8_t *)p)[i];
    case RT_I16: return ((const int16_t *)p)[i];
    case RT_I32: return ((const int32_t *)p)[i];
    case RT_I64: return ((const int64_t *)p)[i];
    case RT_U8: case RT_BOOL: return ((const uint8_t *)p)[i];
    case RT_U16: return ((const uint16_t *)p)[i];
    case RT_U32: return ((const uint32_t *)p)[i];
    case RT_U64: return (int64_t)((const uint64_t *)p)[i];
    case RT_F32: return (int64_t)((const float *)p)[i];
    case RT_F64: return (int64_t)((const double *)p)[i];
    case RT_F16: return (int64_t)rt_f16_to_f32(((const uint16_t *)p)[i]);
    case RT_BF16: return (int64_t)rt_bf16_to_f32(((const uint16_t *)p)[i]);
    default:
        if (rt_is_narrow_float(dtype)) { /* as the float cases: truncation, NaN 0 */
            float f = rt_narrow_to_f32(dtype, rt_narrow_get(p, dtype, i));
            return f == f && fabsf(f) < 9.2e18f ? (int64_t)f : 0;
        }
        if (rt_is_narrow(dtype))
            return rt_narrow_int(dtype, rt_narrow_get(p, dtype, i));
        return 0;
    }
}

/* Integer stores wrap modulo 2^bits, as C conversions to unsigned types do. */
void rt_store_i64(void *p, int dtype, int64_t i, int64_t v)
{
    switch (dtype) {
    case RT_I8: ((int8_t *)p)[i] = (int8_t)(uint8_t)v; break;
    case RT_I16: ((int16_t *)p)[i] = (int16_t)(uint16_t)v; break;
    case RT_I32: ((int32_t *)p)[i] = (int32_t)(uint32_t)v; break;
    case RT_I64: ((int64_t *)p)[i] = v; break;
    case RT_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case RT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case RT_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case RT_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case RT_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    case RT_F32: case RT_F64: case RT_F16: case RT_BF16:
        rt_store_f64(p, dtype, i, (double)v);
        break;
    case RT_U4: case RT_I4: case RT_U2: case RT_I2:
        rt_narrow_set(p, dtype, i, (unsigned)((uint64_t)v & ((1u << rt_dtype_bits(dtype)) - 1)));
        break;
    default:
        if (rt_is_narrow(dtype))
            rt_store_f64(p, dtype, i, (double)v);
        break; /* no number is a string: never recurse into rt_store_f64 */
    }
}
