/* k_elementwise.c: elementwise machinery (classes, broadcast rows, conversions), Cast, Where. */
#include <math.h>
#include <string.h>

#include "k_ew.h"

int ew_class(int dtype)
{
    switch (dtype) {
    case RT_F32: case RT_F16: case RT_BF16: return EW_F32;
    case RT_F64: return EW_F64;
    case RT_I8: case RT_I16: case RT_I32: case RT_I64:
    case RT_U8: case RT_U16: case RT_U32: case RT_BOOL: return EW_I64;
    case RT_U64: return EW_U64;
    default: return EW_NONE;
    }
}

int ew_class_dtype(int cls)
{
    static const int dt[] = {RT_F32, RT_F64, RT_I64, RT_U64};
    return cls >= 0 && cls < 4 ? dt[cls] : RT_UNDEF;
}

int ew_iter_init(EwIter *it, const RtTensorDesc *out, const RtTensorDesc *const *in, int n_in)
{
    int64_t full[EW_MAX_IN][RT_MAX_RANK];
    memset(it, 0, sizeof *it);
    it->n_in = n_in;
    for (int k = 0; k < n_in; k++)
        if (rt_broadcast_strides(in[k], out, full[k]))
            return -1;
    int r = 0;
    for (int d = 0; d < out->rank; d++) {
        if (out->dims[d] == 1)
            continue;
        int merge = r > 0;
        for (int k = 0; k < n_in && merge; k++)
            merge = it->st[k][r - 1] == full[k][d] * out->dims[d];
        if (merge) {
            it->dims[r - 1] *= out->dims[d];
            for (int k = 0; k < n_in; k++)
                it->st[k][r - 1] = full[k][d];
            continue;
        }
        it->dims[r] = out->dims[d];
        for (int k = 0; k < n_in; k++)
            it->st[k][r] = full[k][d];
        r++;
    }
    if (r == 0)
        it->dims[r++] = 1;
    it->rank = r;
    it->n = it->dims[r - 1];
    it->rows = 1;
    for (int d = 0; d < r - 1; d++)
        it->rows *= it->dims[d];
    if (rt_numel(out) == 0)
        it->rows = 0;
    return 0;
}

/* ---- conversions ---- */

/* double -> float rounding to odd: the result keeps a sticky bit, so rounding it
 * again to float16 or bfloat16 (far fewer bits) equals rounding d once. */
static float f32_odd(double d)
{
    float f = (float)d;
    if ((double)f != d && d == d) {
        uint32_t u;
        memcpy(&u, &f, 4);
        if (!(u & 1)) {
            u += fabs((double)f) > fabs(d) ? (uint32_t)-1 : 1u;
            memcpy(&f, &u, 4);
        }
    }
    return f;
}

/* Float to integer: truncate, saturate at the range, NaN -> 0. */
static double sat(double v, double lo, double hi)
{
    return v != v ? 0 : v < lo ? lo : v > hi ? hi : v;
}

static int64_t sat_i64(double v)
{
    if (v != v)
        return 0;
    if (v >= 9223372036854775808.0)
        return INT64_MAX;
    if (v < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

static uint64_t sat_u64(double v)
{
    if (v != v || v < 0)
        return 0;
    if (v >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)v;
}

#define CV_SAME(x) (x)
#define CV_F16(x) rt_f16_to_f32(x)
#define CV_BF16(x) rt_bf16_to_f32(x)
#define CV_TO_D(x) ((double)(x))
#define CV_TO_I(x) ((int64_t)(x))

/* One case of a conversion switch: n contiguous elements of C type TS at s,
 * converted by CV, into C type TD at d. */
#define CONV_CASE(DT, TD, TS, CV)                                                  \
    case DT: {                                                                     \
        TD *d_ = (TD *)d;                                                          \
        const TS *s_ = (const TS *)s;                                              \
        for (int64_t i = 0; i < n; i++)                                            \
            d_[i] = (TD)CV(s_[i]);                                                 \
        break;                                                                     \
    }

/* The general load: every dtype to double, exactly (int64 beyond 2^53 rounds). */
static void load_f64(double *d, const void *s, int dtype, int64_t n)
{
    switch (dtype) {
    CONV_CASE(RT_F32, double, float, CV_TO_D)
    CONV_CASE(RT_F16, double, uint16_t, CV_F16)
    CONV_CASE(RT_BF16, double, uint16_t, CV_BF16)
    CONV_CASE(RT_F64, double, double, CV_SAME)
    CONV_CASE(RT_I8, double, int8_t, CV_TO_D)
    CONV_CASE(RT_I16, double, int16_t, CV_TO_D)
    CONV_CASE(RT_I32, double, int32_t, CV_TO_D)
    CONV_CASE(RT_I64, double, int64_t, CV_TO_D)
    CONV_CASE(RT_U8, double, uint8_t, CV_TO_D)
    CONV_CASE(RT_BOOL, double, uint8_t, CV_TO_D)
    CONV_CASE(RT_U16, double, uint16_t, CV_TO_D)
    CONV_CASE(RT_U32, double, uint32_t, CV_TO_D)
    CONV_CASE(RT_U64, double, uint64_t, CV_TO_D)
    default: break;
    }
}

/* Integers to int64 exactly (uint64 keeps its bits). */
static int load_ints(int64_t *d, const void *s, int dtype, int64_t n)
{
    switch (dtype) {
    CONV_CASE(RT_I8, int64_t, int8_t, CV_TO_I)
    CONV_CASE(RT_I16, int64_t, int16_t, CV_TO_I)
    CONV_CASE(RT_I32, int64_t, int32_t, CV_TO_I)
    CONV_CASE(RT_I64, int64_t, int64_t, CV_TO_I)
    CONV_CASE(RT_U8, int64_t, uint8_t, CV_TO_I)
    CONV_CASE(RT_BOOL, int64_t, uint8_t, CV_TO_I)
    CONV_CASE(RT_U16, int64_t, uint16_t, CV_TO_I)
    CONV_CASE(RT_U32, int64_t, uint32_t, CV_TO_I)
    CONV_CASE(RT_U64, int64_t, uint64_t, CV_TO_I)
    default: return 0;
    }
    return 1;
}

void ew_load(int cls, void *dst, const void *src, int dtype, int64_t off, int64_t st,
             int64_t n)
{
    const char *s = (const char *)src + off * (int64_t)rt_dtype_size(dtype);
    double tmp[EW_CHUNK];
    if (st != 1 && n > 1) {
        /* rare (a broadcast operand of a non-native dtype): element by element
         * keeps the loops below contiguous, which halves this file's compile time */
        size_t es = cls == EW_F32 ? 4 : 8;
        for (int64_t i = 0; i < n; i++)
            ew_load(cls, (char *)dst + i * es, src, dtype, off + i * st, 1, 1);
        return;
    }
    /* float16 and bfloat16 are the hot non-native loads; the rest go via double */
    if (cls == EW_F32 && (dtype == RT_F16 || dtype == RT_BF16)) {
        float *d = dst;
        switch (dtype) {
        CONV_CASE(RT_F16, float, uint16_t, CV_F16)
        CONV_CASE(RT_BF16, float, uint16_t, CV_BF16)
        }
        return;
    }
    if (cls >= EW_I64 && load_ints(dst, s, dtype, n))
        return;
    for (int64_t k = 0; k < n; k += EW_CHUNK) {
        int64_t m = n - k < EW_CHUNK ? n - k : EW_CHUNK;
        double *d = cls == EW_F64 ? (double *)dst + k : tmp;
        load_f64(d, s + k * (int64_t)rt_dtype_size(dtype), dtype, m);
        for (int64_t i = 0; i < m && cls != EW_F64; i++) {
            if (cls == EW_F32)
                ((float *)dst)[k + i] = (float)d[i];
            else if (cls == EW_I64)
                ((int64_t *)dst)[k + i] = sat_i64(d[i]);
            else
                ((uint64_t *)dst)[k + i] = sat_u64(d[i]);
        }
    }
}

#define CV_D_TO_F16(x) rt_f32_to_f16(f32_odd(x))
#define CV_D_TO_BF16(x) rt_f32_to_bf16(f32_odd(x))
#define CV_F_TO_F16(x) rt_f32_to_f16(x)
#define CV_F_TO_BF16(x) rt_f32_to_bf16(x)
#define CV_BOOL(x) ((x) != 0)
#define SAT_I8(x) sat(x, -128.0, 127.0)
#define SAT_I16(x) sat(x, -32768.0, 32767.0)
#define SAT_I32(x) sat(x, -2147483648.0, 2147483647.0)
#define SAT_U8(x) sat(x, 0.0, 255.0)
#define SAT_U16(x) sat(x, 0.0, 65535.0)
#define SAT_U32(x) sat(x, 0.0, 4294967295.0)
/* Integer stores from int64 wrap modulo 2^bits, like C conversions. */
#define CV_WRAP8(x) (uint8_t)(x)
#define CV_WRAP16(x) (uint16_t)(x)
#define CV_WRAP32(x) (uint32_t)(x)

/* The general store: double to every dtype, rounding once. */
static void store_f64(void *d, int dtype, const double *s, int64_t n)
{
    switch (dtype) {
    CONV_CASE(RT_F32, float, double, CV_SAME)
    CONV_CASE(RT_F64, double, double, CV_SAME)
    CONV_CASE(RT_F16, uint16_t, double, CV_D_TO_F16)
    CONV_CASE(RT_BF16, uint16_t, double, CV_D_TO_BF16)
    CONV_CASE(RT_BOOL, uint8_t, double, CV_BOOL)
    CONV_CASE(RT_I8, int8_t, double, SAT_I8)
    CONV_CASE(RT_I16, int16_t, double, SAT_I16)
    CONV_CASE(RT_I32, int32_t, double, SAT_I32)
    CONV_CASE(RT_I64, int64_t, double, sat_i64)
    CONV_CASE(RT_U8, uint8_t, double, SAT_U8)
    CONV_CASE(RT_U16, uint16_t, double, SAT_U16)
    CONV_CASE(RT_U32, uint32_t, double, SAT_U32)
    CONV_CASE(RT_U64, uint64_t, double, sat_u64)
    default: break;
    }
}

/* int64 (or uint64 bits) to integer dtypes, wrapping. */
static int store_ints(void *d, int dtype, const int64_t *s, int64_t n)
{
    switch (dtype) {
    CONV_CASE(RT_BOOL, uint8_t, int64_t, CV_BOOL)
    CONV_CASE(RT_I8, int8_t, int64_t, CV_WRAP8)
    CONV_CASE(RT_I16, int16_t, int64_t, CV_WRAP16)
    CONV_CASE(RT_I32, int32_t, int64_t, CV_WRAP32)
    CONV_CASE(RT_I64, int64_t, int64_t, CV_SAME)
    CONV_CASE(RT_U8, uint8_t, int64_t, CV_SAME)
    CONV_CASE(RT_U16, uint16_t, int64_t, CV_SAME)
    CONV_CASE(RT_U32, uint32_t, int64_t, CV_SAME)
    CONV_CASE(RT_U64, uint64_t, int64_t, CV_SAME)
    default: return 0;
    }
    return 1;
}

void ew_store(int cls, void *dst, int dtype, int64_t off, const void *src, int64_t n)
{
    char *d = (char *)dst + off * (int64_t)rt_dtype_size(dtype);
    if (cls == EW_F32) {
        const float *s = src;
        switch (dtype) {
        CONV_CASE(RT_F32, float, float, CV_SAME)
        CONV_CASE(RT_F16, uint16_t, float, CV_F_TO_F16)
        CONV_CASE(RT_BF16, uint16_t, float, CV_F_TO_BF16)
        default: goto via_double;
        }
        return;
    }
    if (cls >= EW_I64 && store_ints(d, dtype, src, n))
        return;
    if (cls == EW_F64) {
        store_f64(d, dtype, src, n);
        return;
    }
via_double:;
    double tmp[EW_CHUNK];
    for (int64_t k = 0; k < n; k += EW_CHUNK) {
        int64_t m = n - k < EW_CHUNK ? n - k : EW_CHUNK;
        for (int64_t i = 0; i < m; i++) {
            if (cls == EW_F32)
                tmp[i] = ((const float *)src)[k + i];
            else if (cls == EW_I64)
                tmp[i] = (double)((const int64_t *)src)[k + i];
            else
                tmp[i] = (double)((const uint64_t *)src)[k + i];
        }
        store_f64(d + k * (int64_t)rt_dtype_size(dtype), dtype, tmp, m);
    }
}

/* ---- Cast ---- */

int rt_cast(const RtCall *c, const void *const *in, void *const *out)
{
    int sd = c->in[0].dtype, dd = c->out[0].dtype;
    if (sd == RT_STRING || dd == RT_STRING)
        return rt_cast_string(c, in, out); /* k_string.c: parsing and formatting */
    if (rt_is_narrow(sd) || rt_is_narrow(dd))
        return rt_cast_narrow(c, in, out); /* k_narrow.c: float8, float4, 4-/2-bit ints */
    int cls = ew_class(sd);
    int64_t n = rt_numel(&c->out[0]);
    if (cls == EW_NONE || ew_class(dd) == EW_NONE)
        return RT_EDTYPE;
    if (n == 0)
        return RT_OK;
    if (sd == dd) {
        memcpy(out[0], in[0], (size_t)n * rt_dtype_size(dd));
        return RT_OK;
    }
    if (sd == ew_class_dtype(cls)) {
        ew_store(cls, out[0], dd, 0, in[0], n);
        return RT_OK;
    }
    union {
        float f[EW_CHUNK];
        double d[EW_CHUNK];
        int64_t i[EW_CHUNK];
    } buf;
    for (int64_t k = 0; k < n; k += EW_CHUNK) {
        int64_t m = n - k < EW_CHUNK ? n - k : EW_CHUNK;
        ew_load(cls, &buf, in[0], sd, k, 1, m);
        ew_store(cls, out[0], dd, k, &buf, m);
    }
    return RT_OK;
}

/* ---- Where ---- */

/* The rows of Where for elements of C type T: a select needs no arithmetic, so
 * only the element size matters. */
#define WHERE_ROWS(T)                                                              \
    do {                                                                           \
        const uint8_t *cd = in[0];                                                 \
        const T *xd = in[1], *yd = in[2];                                          \
        T *o = out[0];                                                             \
        for (int64_t r = 0; r < it.rows; r++, o += n) {                            \
            const uint8_t *cr = cd + it.off[0];                                    \
            const T *xr = xd + it.off[1], *yr = yd + it.off[2];                    \
            if (sc == 1 && sx == 1 && sy == 1) {                                   \
                for (int64_t i = 0; i < n; i++)                                    \
                    o[i] = cr[i] ? xr[i] : yr[i];                                  \
            } else {                                                               \
                for (int64_t i = 0; i < n; i++)                                    \
                    o[i] = cr[i * sc] ? xr[i * sx] : yr[i * sy];                   \
            }                                                                      \
            ew_iter_next(&it);                                                     \
        }                                                                          \
    } while (0)

int rt_where(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *ins[3] = {&c->in[0], &c->in[1], &c->in[2]};
    EwIter it;
    if (c->n_in != 3 || ew_iter_init(&it, &c->out[0], ins, 3))
        return RT_EINVAL;
    if (c->in[0].dtype != RT_BOOL)
        return RT_EDTYPE;
    int64_t n = it.n, sc = ew_iter_stride(&it, 0), sx = ew_iter_stride(&it, 1);
    int64_t sy = ew_iter_stride(&it, 2);
    switch (rt_dtype_size(c->out[0].dtype)) {
    case 1: WHERE_ROWS(uint8_t); break;
    case 2: WHERE_ROWS(uint16_t); break;
    case 4: WHERE_ROWS(uint32_t); break;
    case 8: WHERE_ROWS(uint64_t); break;
    default: return RT_EDTYPE;
    }
    return RT_OK;
}
