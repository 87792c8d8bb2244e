/* k_reduce.c: Reduce{Sum,Mean,Max,Min,Prod,L1,L2,LogSum,LogSumExp,SumSquare}, ArgMax, ArgMin. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"

/* The accumulator's start, which is also what an empty reduction yields after
 * post() (ONNX opset 18: -inf for max and the log ops, +inf for min, ...). */
HOT static double identity(int op)
{
    switch (op) {
    case RT_REDUCE_MAX: return -HUGE_VAL;
    case RT_REDUCE_MIN: return HUGE_VAL;
    case RT_REDUCE_PROD: return 1;
    default: return 0;
    }
}

/* What an empty ReduceMax (ReduceMin) of an integer dtype yields: the dtype's
 * minimum (maximum), as the ONNX reference's np.iinfo does. A clamped double
 * store would not do: it saturates to the int64 range, and narrowing INT64_MIN
 * to int32 keeps its low bits, 0. */
static int64_t int_extreme(int dt, int want_max)
{
    if (dt == RT_BOOL)
        return want_max;
    int bits = 8 * (int)rt_dtype_size(dt);
    /* UINT64_MAX goes through rt_store_i64 as its int64 bit pattern, -1 */
    if (dt == RT_U8 || dt == RT_U16 || dt == RT_U32 || dt == RT_U64)
        return !want_max ? 0 : bits == 64 ? -1 : (int64_t)((UINT64_C(1) << bits) - 1);
    if (bits == 64)
        return want_max ? INT64_MAX : INT64_MIN;
    int64_t half = (int64_t)1 << (bits - 1);
    return want_max ? half - 1 : -half;
}

/* What one element contributes before accumulation. */
static double pre(int op, double v)
{
    switch (op) {
    case RT_REDUCE_L1: return fabs(v);
    case RT_REDUCE_L2: case RT_REDUCE_SUM_SQUARE: return v * v;
    case RT_REDUCE_LOG_SUM_EXP: return exp(v);
    default: return v;
    }
}

HOT static double post(int op, double acc, int64_t count)
{
    switch (op) {
    case RT_REDUCE_MEAN: return acc / (double)count;
    case RT_REDUCE_L2: return sqrt(acc);
    case RT_REDUCE_LOG_SUM: case RT_REDUCE_LOG_SUM_EXP: return log(acc);
    default: return acc;
    }
}

/* ---- float32: segments of merged axes, the innermost one vectorized ---- */

HOT static float pre_f(int op, float v)
{
    switch (op) {
    case RT_REDUCE_L1: return fabsf(v);
    case RT_REDUCE_L2: case RT_REDUCE_SUM_SQUARE: return v * v;
    case RT_REDUCE_LOG_SUM_EXP: return expf(v);
    default: return v;
    }
}

/* Reduces one contiguous row into *acc. */
HOT static void row_f32(int op, const float *x, int64_t n, float *acc)
{
    float a[8];
    int64_t i = 0;
    float id = (float)identity(op);
    for (int t = 0; t < 8; t++)
        a[t] = id;
    switch (op) {
    case RT_REDUCE_MAX:
        for (; i + 8 <= n; i += 8)
            for (int t = 0; t < 8; t++)
                a[t] = x[i + t] > a[t] ? x[i + t] : a[t];
        break;
    case RT_REDUCE_MIN:
        for (; i + 8 <= n; i += 8)
            for (int t = 0; t < 8; t++)
                a[t] = x[i + t] < a[t] ? x[i + t] : a[t];
        break;
    case RT_REDUCE_PROD:
        for (; i + 8 <= n; i += 8)
            for (int t = 0; t < 8; t++)
                a[t] *= x[i + t];
        break;
    case RT_REDUCE_SUM: case RT_REDUCE_MEAN: case RT_REDUCE_LOG_SUM:
        for (; i + 8 <= n; i += 8)
            for (int t = 0; t < 8; t++)
                a[t] += x[i + t];
        break;
    case RT_REDUCE_L2: case RT_REDUCE_SUM_SQUARE:
        for (; i + 8 <= n; i += 8)
            for (int t = 0; t < 8; t++)
                a[t] += x[i + t] * x[i + t];
        break;
    default:
        break;
    }
    for (; i < n; i++) {
        float v = pre_f(op, x[i]);
        switch (op) {
        case RT_REDUCE_MAX: a[0] = v > a[0] ? v : a[0]; break;
        case RT_REDUCE_MIN: a[0] = v < a[0] ? v : a[0]; break;
        case RT_REDUCE_PROD: a[0] *= v; break;
        default: a[0] += v; break;
        }
    }
    float r = *acc;
    for (int t = 0; t < 8; t++) {
        switch (op) {
        case RT_REDUCE_MAX: r = a[t] > r ? a[t] : r; break;
        case RT_REDUCE_MIN: r = a[t] < r ? a[t] : r; break;
        case RT_REDUCE_PROD: r *= a[t]; break;
        default: r += a[t]; break;
        }
    }
    *acc = r;
}

/* Combines one contiguous row into n accumulators elementwise. */
HOT static void cols_f32(int op, const float *x, int64_t n, float *acc)
{
    switch (op) {
    case RT_REDUCE_MAX:
        for (int64_t i = 0; i < n; i++)
            acc[i] = x[i] > acc[i] ? x[i] : acc[i];
        break;
    case RT_REDUCE_MIN:
        for (int64_t i = 0; i < n; i++)
            acc[i] = x[i] < acc[i] ? x[i] : acc[i];
        break;
    case RT_REDUCE_PROD:
        for (int64_t i = 0; i < n; i++)
            acc[i] *= x[i];
        break;
    case RT_REDUCE_SUM: case RT_REDUCE_MEAN: case RT_REDUCE_LOG_SUM:
        for (int64_t i = 0; i < n; i++)
            acc[i] += x[i];
        break;
    default:
        for (int64_t i = 0; i < n; i++)
            acc[i] += pre_f(op, x[i]);
        break;
    }
}

HOT static void reduce_f32(int op, const RtTensorDesc *x, int64_t mask, const float *in,
                           float *out)
{
    /* merge neighbouring axes of equal kind; unit axes vanish */
    int64_t len[RT_MAX_RANK];
    int red[RT_MAX_RANK], ns = 0;
    int64_t ocount = 1, rcount = 1;
    for (int d = 0; d < x->rank; d++) {
        int r = (int)(mask >> d & 1);
        int64_t n = x->dims[d];
        if (r)
            rcount *= n;
        else
            ocount *= n;
        if (n == 1)
            continue;
        if (ns && red[ns - 1] == r) {
            len[ns - 1] *= n;
        } else {
            len[ns] = n;
            red[ns++] = r;
        }
    }
    float id = (float)identity(op);
    for (int64_t o = 0; o < ocount; o++)
        out[o] = id;
    if (rcount == 0 || ocount == 0)
        goto finish;
    if (ns == 0) { /* every axis has extent 1 */
        len[0] = 1;
        red[0] = 1;
        ns = 1;
    }
    int64_t last = len[ns - 1], outer = 1;
    for (int s = 0; s < ns - 1; s++)
        outer *= len[s];
    int64_t idx[RT_MAX_RANK] = {0};
    int64_t oo = 0;  /* output offset of the current outer tuple */
    for (int64_t t = 0; t < outer; t++) {
        const float *row = in + t * last;
        if (red[ns - 1])
            row_f32(op, row, last, out + oo);
        else
            cols_f32(op, row, last, out + oo * last);
        /* advance the odometer over segments 0..ns-2 and recompute oo */
        for (int s = ns - 2; s >= 0; s--) {
            if (++idx[s] < len[s])
                break;
            idx[s] = 0;
        }
        oo = 0;
        for (int s = 0; s < ns - 1; s++)
            if (!red[s])
                oo = oo * len[s] + idx[s];
    }
finish:
    for (int64_t o = 0; o < ocount; o++)
        out[o] = (float)post(op, out[o], rcount);
}

/* ---- any dtype: one output at a time, double or 64-bit integer accumulators ---- */

static int reduce_generic(int op, const RtTensorDesc *x, int64_t mask, int dt, const void *in,
                          void *out)
{
    int64_t st[RT_MAX_RANK], kdim[RT_MAX_RANK], kst[RT_MAX_RANK], rdim[RT_MAX_RANK],
        rst[RT_MAX_RANK];
    int nk = 0, nr = 0;
    int64_t ocount = 1, rcount = 1;
    rt_strides(x, st);
    for (int d = 0; d < x->rank; d++) {
        if (mask >> d & 1) {
            rdim[nr] = x->dims[d];
            rst[nr++] = st[d];
            rcount *= x->dims[d];
        } else {
            kdim[nk] = x->dims[d];
            kst[nk++] = st[d];
            ocount *= x->dims[d];
        }
    }
    int is_int = !rt_is_float(dt);
    int exact = is_int && (op == RT_REDUCE_SUM || op == RT_REDUCE_PROD ||
                           op == RT_REDUCE_MAX || op == RT_REDUCE_MIN ||
                           op == RT_REDUCE_L1 || op == RT_REDUCE_SUM_SQUARE ||
                           op == RT_REDUCE_MEAN);
    for (int64_t o = 0; o < ocount; o++) {
        int64_t base = 0, q = o;
        for (int d = nk - 1; d >= 0; d--) {
            base += (q % kdim[d]) * kst[d];
            q /= kdim[d];
        }
        double acc = identity(op);
        uint64_t iacc = op == RT_REDUCE_PROD ? 1 : 0;
        int64_t imax = 0;
        int first = 1;
        for (int64_t r = 0; r < rcount; r++) {
            int64_t off = base;
            q = r;
            for (int d = nr - 1; d >= 0; d--) {
                off += (q % rdim[d]) * rst[d];
                q /= rdim[d];
            }
            if (exact) {
                int64_t v = rt_load_i64(in, dt, off);
                int less = dt == RT_U64 ? (uint64_t)v < (uint64_t)imax : v < imax;
                switch (op) {
                case RT_REDUCE_MAX: if (first || !less) imax = v; break;
                case RT_REDUCE_MIN: if (first || less) imax = v; break;
                case RT_REDUCE_PROD: iacc *= (uint64_t)v; break;
                case RT_REDUCE_L1: iacc += (uint64_t)(v < 0 ? -v : v); break;
                case RT_REDUCE_SUM_SQUARE: iacc += (uint64_t)v * (uint64_t)v; break;
                default: iacc += (uint64_t)v; break;
                }
                first = 0;
                continue;
            }
            double v = pre(op, rt_load_f64(in, dt, off));
            switch (op) {
            case RT_REDUCE_MAX: acc = v > acc ? v : acc; break;
            case RT_REDUCE_MIN: acc = v < acc ? v : acc; break;
            case RT_REDUCE_PROD: acc *= v; break;
            default: acc += v; break;
            }
        }
        if (!exact) {
            rt_store_f64(out, dt, o, post(op, acc, rcount));
        } else if (op == RT_REDUCE_MAX || op == RT_REDUCE_MIN) {
            if (first) /* empty */
                rt_store_i64(out, dt, o, int_extreme(dt, op == RT_REDUCE_MIN));
            else
                rt_store_i64(out, dt, o, imax);
        } else if (op == RT_REDUCE_MEAN) {
            rt_store_i64(out, dt, o, rcount ? (int64_t)iacc / rcount : 0);
        } else {
            rt_store_i64(out, dt, o, (int64_t)iacc);
        }
    }
    return RT_OK;
}

int rt_reduce(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    if (c->n_ints < RT_REDUCE_NINTS)
        return RT_EINVAL;
    int op = (int)c->ints[RT_REDUCE_OP], dt = x->dtype;
    int64_t mask = c->ints[RT_REDUCE_MASK];
    if (!rt_dtype_size(dt))
        return RT_EDTYPE;
    if (mask == RT_REDUCE_AXES_INPUT) { /* the same axes the shape function read */
        RtTensorDesc y = c->out[0];
        if (c->n_ints < RT_REDUCE_NINTS_AXES || c->n_in < 2 ||
            rt_reduce_resolve(x, &c->in[1], in[1], c->ints[RT_REDUCE_KEEPDIMS] != 0, &mask, &y))
            return RT_ESHAPE;
        if (memcmp(y.dims, c->out[0].dims, sizeof *y.dims * (size_t)y.rank))
            return RT_ESHAPE;
    }
    /* noop_with_empty_axes: a reduction over no axes, which the ONNX reference
     * still maps elementwise (ReduceL2 gives |x|, ReduceSumSquare x^2) */
    if (mask == 0 && (op == RT_REDUCE_SUM || op == RT_REDUCE_MEAN || op == RT_REDUCE_MAX ||
                      op == RT_REDUCE_MIN || op == RT_REDUCE_PROD)) {
        memcpy(out[0], in[0], rt_dtype_size(dt) * (size_t)rt_numel(x));
        return RT_OK;
    }
    if (dt == RT_F32) {
        reduce_f32(op, x, mask, in[0], out[0]);
        return RT_OK;
    }
    return reduce_generic(op, x, mask, dt, in[0], out[0]);
}

int rt_argmax(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    if (c->n_ints < RT_ARGMAX_NINTS || c->ints[RT_ARGMAX_AXIS] < 0 ||
        c->ints[RT_ARGMAX_AXIS] >= (x->rank ? x->rank : 1))
        return RT_EINVAL;
    int is_min = (int)c->ints[RT_ARGMAX_IS_MIN], axis = (int)c->ints[RT_ARGMAX_AXIS];
    int last = (int)c->ints[RT_ARGMAX_SELECT_LAST];
    int dt = x->dtype;
    if (!rt_dtype_size(dt) || dt == RT_STRING)
        return RT_EDTYPE;
    int64_t outer = 1, inner = 1, n = x->rank ? x->dims[axis] : 1;
    for (int d = 0; d < axis; d++)
        outer *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++)
        inner *= x->dims[d];
    int64_t *y = out[0];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            int64_t base = o * n * inner + j, arg = 0;
            double best = rt_load_f64(in[0], dt, base);
            for (int64_t i = 1; i < n; i++) {
                double v = rt_load_f64(in[0], dt, base + i * inner);
                int better = is_min ? (v < best || (last && v == best))
                                    : (v > best || (last && v == best));
                if (better) {
                    best = v;
                    arg = i;
                }
            }
            y[o * inner + j] = arg;
        }
    return RT_OK;
}
