/* k_binary.c: broadcasting binary kernels (arithmetic, compare, logic, bits), Max/Min/Sum/Mean. */
#include <math.h>
#include <string.h>

#include "k_ew.h"

/* A row in its four shapes: both operands contiguous, either one a broadcast
 * scalar, or general strides. The first three are plain loops the compiler
 * vectorizes; EXPR sees the operands as x and y. */
#define ROW2(TA, TO, EXPR)                                                     \
    do {                                                                       \
        const TA *a_ = a, *b_ = b;                                             \
        TO *o_ = o;                                                            \
        if (sa == 1 && sb == 1) {                                              \
            for (int64_t i = 0; i < n; i++) {                                  \
                TA x = a_[i], y = b_[i];                                       \
                (void)x, (void)y;                                              \
                o_[i] = (TO)(EXPR);                                            \
            }                                                                  \
        } else if (sa == 0 && sb == 1) {                                       \
            TA x = a_[0];                                                      \
            for (int64_t i = 0; i < n; i++) {                                  \
                TA y = b_[i];                                                  \
                (void)x, (void)y;                                              \
                o_[i] = (TO)(EXPR);                                            \
            }                                                                  \
        } else if (sa == 1 && sb == 0) {                                       \
            TA y = b_[0];                                                      \
            for (int64_t i = 0; i < n; i++) {                                  \
                TA x = a_[i];                                                  \
                (void)x, (void)y;                                              \
                o_[i] = (TO)(EXPR);                                            \
            }                                                                  \
        } else {                                                               \
            for (int64_t i = 0; i < n; i++) {                                  \
                TA x = a_[i * sa], y = b_[i * sb];                             \
                (void)x, (void)y;                                              \
                o_[i] = (TO)(EXPR);                                            \
            }                                                                  \
        }                                                                      \
    } while (0)

/* A row in one general loop: for the dtypes and ops where speed matters less
 * than the size and compile time of four specialized copies. */
#define ROWS(TA, TO, EXPR)                                                     \
    do {                                                                       \
        const TA *a_ = a, *b_ = b;                                             \
        TO *o_ = o;                                                            \
        for (int64_t i = 0; i < n; i++) {                                      \
            TA x = a_[i * sa], y = b_[i * sb];                                 \
            (void)x, (void)y;                                                  \
            o_[i] = (TO)(EXPR);                                                \
        }                                                                      \
    } while (0)

/* The comparisons every class shares; T is the class's C type. */
#define COMMON_CASES(T)                                                        \
    case RT_BIN_EQ: ROWS(T, uint8_t, x == y); break;                           \
    case RT_BIN_LT: ROWS(T, uint8_t, x < y); break;                            \
    case RT_BIN_GT: ROWS(T, uint8_t, x > y); break;                            \
    case RT_BIN_LE: ROWS(T, uint8_t, x <= y); break;                           \
    case RT_BIN_GE: ROWS(T, uint8_t, x >= y); break

/* numpy.mod for floats: the result takes the divisor's sign. */
#define FLOAT_CASES(T, FMOD, POW, ROW, SEL)                                       \
    case RT_BIN_ADD: ROW(T, T, x + y); break;                                  \
    case RT_BIN_SUB: ROW(T, T, x - y); break;                                  \
    case RT_BIN_MUL: ROW(T, T, x * y); break;                                  \
    case RT_BIN_DIV: ROW(T, T, x / y); break;                                  \
    case RT_BIN_FMOD: ROWS(T, T, FMOD(x, y)); break;                           \
    case RT_BIN_MOD: {                                                         \
        ROWS(T, T, FMOD(x, y));                                                \
        for (int64_t i = 0; i < n; i++) {                                      \
            T r = ((T *)o)[i], y = ((const T *)b)[i * sb];                     \
            if (r != 0 && (r < 0) != (y < 0))                                  \
                ((T *)o)[i] = r + y;                                           \
        }                                                                      \
        break;                                                                 \
    }                                                                          \
    case RT_BIN_PRELU: ROW(T, T, x * SEL(x < 0, y, 1)); break;                   \
    case RT_BIN_MAX: ROW(T, T, x >= y || x != x ? x : y); break;               \
    case RT_BIN_MIN: ROW(T, T, x <= y || x != x ? x : y); break;               \
    case RT_BIN_POW:                                                           \
        if (sb == 0 && ((const T *)b)[0] == 2) {                               \
            ROWS(T, T, x * x);                                                 \
        } else if (sb == 0 && ((const T *)b)[0] == 3) {                        \
            ROWS(T, T, x * x * x);                                             \
        } else if (sb == 0 && ((const T *)b)[0] == 1) {                        \
            ROWS(T, T, x);                                                     \
        } else {                                                               \
            ROWS(T, T, POW(x, y));                                             \
        }                                                                      \
        break;                                                                 \
        COMMON_CASES(T)

static void row_f32(int op, void *o, const void *a, int64_t sa, const void *b, int64_t sb,
                    int64_t n)
{
    switch (op) {
    FLOAT_CASES(float, fmodf, powf, ROW2, ew_self);
    default: break;
    }
}

static void row_f64(int op, void *o, const void *a, int64_t sa, const void *b, int64_t sb,
                    int64_t n)
{
    switch (op) {
    FLOAT_CASES(double, fmod, pow, ROWS, ew_seld);
    default: break;
    }
}

/* Integer arithmetic is exact and defined for every input: it wraps modulo
 * 2^64 (then 2^bits on store) and division or modulo by zero gives 0, where C
 * would trap; INT64_MIN / -1 wraps to INT64_MIN. */
static int64_t wrap_add(int64_t x, int64_t y) { return (int64_t)((uint64_t)x + (uint64_t)y); }
static int64_t wrap_sub(int64_t x, int64_t y) { return (int64_t)((uint64_t)x - (uint64_t)y); }
static int64_t wrap_mul(int64_t x, int64_t y) { return (int64_t)((uint64_t)x * (uint64_t)y); }

static int64_t idiv(int64_t x, int64_t y)
{
    if (y == 0)
        return 0;
    return y == -1 ? wrap_sub(0, x) : x / y;
}

static int64_t ifmod(int64_t x, int64_t y)
{
    return y == 0 || y == -1 ? 0 : x % y;
}

static int64_t imod(int64_t x, int64_t y)
{
    int64_t r = ifmod(x, y);
    return r != 0 && (r < 0) != (y < 0) ? r + y : r;
}

/* Exponentiation by squaring, wrapping like repeated multiplication; a negative
 * exponent gives the truncated 1 / x^-y (0 unless |x| is 1; 0 for x = 0). */
static uint64_t upow(uint64_t x, uint64_t y)
{
    uint64_t r = 1;
    while (y) {
        if (y & 1)
            r *= x;
        x *= x;
        y >>= 1;
    }
    return r;
}

static int64_t ipow(int64_t x, int64_t y)
{
    if (y < 0)
        return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0;
    return (int64_t)upow((uint64_t)x, (uint64_t)y);
}

static void row_i64(int op, void *o, const void *a, int64_t sa, const void *b, int64_t sb,
                    int64_t n)
{
    switch (op) {
    case RT_BIN_ADD: ROWS(int64_t, int64_t, wrap_add(x, y)); break;
    case RT_BIN_SUB: ROWS(int64_t, int64_t, wrap_sub(x, y)); break;
    case RT_BIN_MUL: ROWS(int64_t, int64_t, wrap_mul(x, y)); break;
    case RT_BIN_DIV: ROWS(int64_t, int64_t, idiv(x, y)); break;
    case RT_BIN_POW: ROWS(int64_t, int64_t, ipow(x, y)); break;
    case RT_BIN_MOD: ROWS(int64_t, int64_t, imod(x, y)); break;
    case RT_BIN_FMOD: ROWS(int64_t, int64_t, ifmod(x, y)); break;
    case RT_BIN_PRELU: ROWS(int64_t, int64_t, x < 0 ? wrap_mul(x, y) : x); break;
    case RT_BIN_MAX: ROWS(int64_t, int64_t, x >= y ? x : y); break;
    case RT_BIN_MIN: ROWS(int64_t, int64_t, x <= y ? x : y); break;
    case RT_BIN_SHL:
        ROWS(int64_t, int64_t, y < 0 || y > 63 ? 0 : (int64_t)((uint64_t)x << y));
        break;
    case RT_BIN_SHR: ROWS(int64_t, int64_t, y < 0 || y > 63 ? (x < 0 ? -1 : 0) : x >> y); break;
    case RT_BIN_BITAND: ROWS(int64_t, int64_t, x & y); break;
    case RT_BIN_BITOR: ROWS(int64_t, int64_t, x | y); break;
    case RT_BIN_BITXOR: ROWS(int64_t, int64_t, x ^ y); break;
    COMMON_CASES(int64_t);
    default: break;
    }
}

static void row_u64(int op, void *o, const void *a, int64_t sa, const void *b, int64_t sb,
                    int64_t n)
{
    switch (op) {
    case RT_BIN_ADD: ROWS(uint64_t, uint64_t, x + y); break;
    case RT_BIN_SUB: ROWS(uint64_t, uint64_t, x - y); break;
    case RT_BIN_MUL: ROWS(uint64_t, uint64_t, x * y); break;
    case RT_BIN_DIV: ROWS(uint64_t, uint64_t, y ? x / y : 0); break;
    case RT_BIN_POW: ROWS(uint64_t, uint64_t, upow(x, y)); break;
    case RT_BIN_MOD: case RT_BIN_FMOD: ROWS(uint64_t, uint64_t, y ? x % y : 0); break;
    case RT_BIN_PRELU: ROWS(uint64_t, uint64_t, x); break;
    case RT_BIN_MAX: ROWS(uint64_t, uint64_t, x >= y ? x : y); break;
    case RT_BIN_MIN: ROWS(uint64_t, uint64_t, x <= y ? x : y); break;
    case RT_BIN_SHL: ROWS(uint64_t, uint64_t, y > 63 ? 0 : x << y); break;
    case RT_BIN_SHR: ROWS(uint64_t, uint64_t, y > 63 ? 0 : x >> y); break;
    case RT_BIN_BITAND: ROWS(uint64_t, uint64_t, x & y); break;
    case RT_BIN_BITOR: ROWS(uint64_t, uint64_t, x | y); break;
    case RT_BIN_BITXOR: ROWS(uint64_t, uint64_t, x ^ y); break;
    COMMON_CASES(uint64_t);
    default: break;
    }
}

static void row(int cls, int op, void *o, const void *a, int64_t sa, const void *b, int64_t sb,
                int64_t n)
{
    switch (cls) {
    case EW_F32: row_f32(op, o, a, sa, b, sb, n); break;
    case EW_F64: row_f64(op, o, a, sa, b, sb, n); break;
    case EW_I64: row_i64(op, o, a, sa, b, sb, n); break;
    case EW_U64: row_u64(op, o, a, sa, b, sb, n); break;
    default: break;
    }
}

/* The class an op computes in, or EW_NONE if it has no path for the dtypes.
 * Pow alone mixes dtypes (opset 12+): an integer base with a float exponent
 * computes in double and truncates back to the base's type. */
static int binary_class(int op, int da, int db)
{
    int ca = ew_class(da), cb = ew_class(db);
    if (ca == EW_NONE || cb == EW_NONE || op < 0 || op >= RT_BIN_COUNT)
        return EW_NONE;
    if (op == RT_BIN_POW)
        return ca >= EW_I64 && cb <= EW_F64 ? EW_F64 : ca;
    if (da != db)
        return EW_NONE;
    if (ca <= EW_F64 && op >= RT_BIN_SHL && op <= RT_BIN_BITXOR)
        return EW_NONE;
    return ca;
}

typedef union EwBuf {
    float f[EW_CHUNK];
    double d[EW_CHUNK];
    int64_t i[EW_CHUNK];
    uint64_t u[EW_CHUNK];
} EwBuf;

/* out = a OP b. out may be a itself (the running result of Max/Min/Sum). */
static int binary(int op, const RtTensorDesc *da, const void *a, const RtTensorDesc *db,
                  const void *b, const RtTensorDesc *dout, void *o)
{
    const RtTensorDesc *ins[2] = {da, db};
    int cls = binary_class(op, da->dtype, db->dtype);
    EwIter it;
    if (cls == EW_NONE)
        return RT_EDTYPE;
    if (ew_iter_init(&it, dout, ins, 2))
        return RT_EINVAL;
    int nat = ew_class_dtype(cls);
    int na = da->dtype == nat, nb = db->dtype == nat;
    int no = dout->dtype == (op >= RT_BIN_EQ ? RT_BOOL : nat);
    size_t ea = rt_dtype_size(da->dtype), eb = rt_dtype_size(db->dtype);
    size_t eo = rt_dtype_size(dout->dtype);
    int64_t n = it.n, sa = ew_iter_stride(&it, 0), sb = ew_iter_stride(&it, 1);
    EwBuf ba, bb, bo;
    for (int64_t r = 0; r < it.rows; r++) {
        int64_t oa = it.off[0], ob = it.off[1], oo = r * n;
        if (na && nb && no) {
            row(cls, op, (char *)o + oo * eo, (const char *)a + oa * ea, sa,
                (const char *)b + ob * eb, sb, n);
            ew_iter_next(&it);
            continue;
        }
        for (int64_t k = 0; k < n; k += EW_CHUNK) {
            int64_t m = n - k < EW_CHUNK ? n - k : EW_CHUNK;
            const void *pa = (const char *)a + (oa + k * sa) * ea;
            const void *pb = (const char *)b + (ob + k * sb) * eb;
            void *po = no ? (char *)o + (oo + k) * eo : (void *)&bo;
            int64_t ta = sa, tb = sb;
            if (!na) {
                ew_load(cls, &ba, a, da->dtype, oa + k * sa, sa, sa ? m : 1);
                pa = &ba;
                ta = sa != 0;
            }
            if (!nb) {
                ew_load(cls, &bb, b, db->dtype, ob + k * sb, sb, sb ? m : 1);
                pb = &bb;
                tb = sb != 0;
            }
            row(cls, op, po, pa, ta, pb, tb, m);
            if (!no)
                ew_store(cls, o, dout->dtype, oo + k, &bo, m);
        }
        ew_iter_next(&it);
    }
    return RT_OK;
}

/* Equal on strings (opset 19): byte-wise equality of the NUL-terminated
 * strings (ONNX compares the values, so "a" from two sources is equal). */
static int string_equal(const RtTensorDesc *da, const void *a, const RtTensorDesc *db,
                        const void *b, const RtTensorDesc *dout, void *o)
{
    const RtTensorDesc *ins[2] = {da, db};
    EwIter it;
    if (db->dtype != RT_STRING || dout->dtype != RT_BOOL)
        return RT_EDTYPE;
    if (ew_iter_init(&it, dout, ins, 2))
        return RT_EINVAL;
    const char *const *sa = a, *const *sb = b;
    uint8_t *y = o;
    int64_t n = it.n, ta = ew_iter_stride(&it, 0), tb = ew_iter_stride(&it, 1);
    for (int64_t r = 0; r < it.rows; r++) {
        for (int64_t k = 0; k < n; k++)
            y[r * n + k] = strcmp(sa[it.off[0] + k * ta], sb[it.off[1] + k * tb]) == 0;
        ew_iter_next(&it);
    }
    return RT_OK;
}

int rt_binary(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in != 2 || c->n_ints <= RT_BINARY_OP)
        return RT_EINVAL;
    RtTensorDesc db = c->in[1];
    int64_t extra = rt_param_int(c, RT_BINARY_EXTRA_DIMS, 0);
    if (extra > 0) {
        if (db.rank + extra > RT_MAX_RANK)
            return RT_EINVAL;
        for (int64_t k = 0; k < extra; k++)
            db.dims[db.rank++] = 1;
    }
    if (c->in[0].dtype == RT_STRING)
        return c->ints[RT_BINARY_OP] == RT_BIN_EQ
                   ? string_equal(&c->in[0], in[0], &db, in[1], &c->out[0], out[0])
                   : RT_EDTYPE;
    return binary((int)c->ints[RT_BINARY_OP], &c->in[0], in[0], &db, in[1], &c->out[0], out[0]);
}

int rt_variadic(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *dout = &c->out[0];
    if (c->n_in < 1 || c->n_ints <= RT_VARIADIC_OP)
        return RT_EINVAL;
    int op = (int)c->ints[RT_VARIADIC_OP];
    int mean = rt_param_int(c, RT_VARIADIC_MEAN, 0) != 0;
    int64_t n = rt_numel(dout);
    if (n == 0)
        return RT_OK;
    if (c->n_in == 1) {
        if (rt_numel(&c->in[0]) != n || c->in[0].dtype != dout->dtype)
            return RT_EINVAL;
        memcpy(out[0], in[0], (size_t)n * rt_dtype_size(dout->dtype));
        return RT_OK;
    }
    int rc = binary(op, &c->in[0], in[0], &c->in[1], in[1], dout, out[0]);
    for (int k = 2; k < c->n_in && rc == RT_OK; k++)
        rc = binary(op, dout, out[0], &c->in[k], in[k], dout, out[0]);
    if (rc == RT_OK && mean) {
        /* Divides the sum in the output's own type, as Mean's reference does. */
        RtTensorDesc ds = {dout->dtype, 0, {0}};
        uint64_t scalar = 0;
        double count = c->n_in;
        ew_store(EW_F64, &scalar, dout->dtype, 0, &count, 1);
        rc = binary(RT_BIN_DIV, dout, out[0], &ds, &scalar, dout, out[0]);
    }
    return rc;
}
