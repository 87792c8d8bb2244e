/* rt_grow.c: run-time shapes of the ops whose output grows with a value read when they run (Tile's repeats, ConstantOfShape's shape, Range's three scalars, Pad's pads, OneHot's depth, a window's size). */
#include <math.h>

#include "onnxcc_rt.h"

/* Extent a * b, or -1 past what any buffer could hold: rt_dyn_call then
 * fails the run with RT_EBOUND instead of seeing a wrapped product. */
static int64_t grow_mul(int64_t a, int64_t b)
{
    return a && b > INT64_MAX / a ? -1 : a * b;
}

int rt_shape_tile(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                  RtTensorDesc *out)
{
    if (p->n_in < 2 || !d[1] || in[1].rank != 1 || in[1].dims[0] != in[0].rank ||
        out[0].rank != in[0].rank)
        return RT_ESHAPE;
    for (int k = 0; k < in[0].rank; k++) {
        int64_t rep = rt_load_i64(d[1], in[1].dtype, k);
        if (rep < 0)
            return RT_ESHAPE;
        out[0].dims[k] = grow_mul(in[0].dims[k], rep);
    }
    return RT_OK;
}

int rt_shape_fill(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                  RtTensorDesc *out)
{
    if (p->n_in < 1 || !d[0] || in[0].rank != 1 || in[0].dims[0] != out[0].rank)
        return RT_ESHAPE;
    for (int k = 0; k < out[0].rank; k++)
        if ((out[0].dims[k] = rt_load_i64(d[0], in[0].dtype, k)) < 0)
            return RT_ESHAPE;
    return RT_OK;
}

int64_t rt_range_count(int dtype, const void *start, const void *limit, const void *delta)
{
    if (rt_is_float(dtype)) {
        double s = rt_load_f64(start, dtype, 0), l = rt_load_f64(limit, dtype, 0);
        double dl = rt_load_f64(delta, dtype, 0);
        if (dl == 0 || s != s || l != l || dl != dl)
            return -1;
        double c = ceil((l - s) / dl);
        return c <= 0 ? 0 : c < 9e18 ? (int64_t)c : INT64_MAX;
    }
    int64_t s = rt_load_i64(start, dtype, 0), l = rt_load_i64(limit, dtype, 0);
    int64_t dl = rt_load_i64(delta, dtype, 0);
    if (dl == 0)
        return -1;
    /* the ceiling of (l - s) / dl in exact integers; a difference past
     * int64 is an extent past any bound */
    if ((l > 0 && s < INT64_MIN + l) || (l < 0 && s > INT64_MAX + l))
        return INT64_MAX;
    int64_t diff = l - s, q = diff / dl;
    if (q * dl != diff && (diff > 0) == (dl > 0))
        q++;
    return q > 0 ? q : 0;
}

int rt_shape_range(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                   RtTensorDesc *out)
{
    if (p->n_in < 3 || !d[0] || !d[1] || !d[2] || out[0].rank != 1)
        return RT_ESHAPE;
    for (int i = 0; i < 3; i++)
        if (rt_numel(&in[i]) != 1 || in[i].dtype != out[0].dtype)
            return RT_ESHAPE;
    int64_t n = rt_range_count(out[0].dtype, d[0], d[1], d[2]);
    if (n < 0)
        return RT_ESHAPE;
    out[0].dims[0] = n == INT64_MAX ? -1 : n;
    return RT_OK;
}

int rt_pad_resolve(const RtTensorDesc *x, int n_in, const RtTensorDesc *desc,
                   const void *const *d, int64_t *begin, int64_t *dims)
{
    int r = x->rank, has_axes = n_in > 3 && d[3];
    int na = has_axes ? (int)rt_numel(&desc[3]) : r;
    if (n_in < 2 || !d[1] || na < 0 || na > r || rt_numel(&desc[1]) != 2 * (int64_t)na)
        return RT_ESHAPE;
    int64_t end[RT_MAX_RANK];
    int seen[RT_MAX_RANK] = {0};
    for (int k = 0; k < r; k++)
        begin[k] = end[k] = 0;
    for (int i = 0; i < na; i++) {
        int64_t a = has_axes ? rt_load_i64(d[3], desc[3].dtype, i) : i;
        a += a < 0 ? r : 0;
        if (a < 0 || a >= r || seen[a])
            return RT_ESHAPE;
        seen[a] = 1;
        begin[a] = rt_load_i64(d[1], desc[1].dtype, i);
        end[a] = rt_load_i64(d[1], desc[1].dtype, na + i);
    }
    for (int k = 0; k < r; k++) {
        int64_t b = begin[k], e = end[k];
        /* a pad past int32 is past any buffer (and keeps the sums exact) */
        if (b > INT32_MAX || e > INT32_MAX || b < -x->dims[k] || e < -x->dims[k])
            return b > INT32_MAX || e > INT32_MAX ? RT_EBOUND : RT_ESHAPE;
        int64_t kept = x->dims[k] - (b < 0 ? -b : 0) - (e < 0 ? -e : 0);
        if (kept < 0)
            return RT_ESHAPE;
        dims[k] = kept + (b > 0 ? b : 0) + (e > 0 ? e : 0);
    }
    return RT_OK;
}

int rt_shape_pad(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                 RtTensorDesc *out)
{
    int64_t begin[RT_MAX_RANK];
    if (in[0].rank != out[0].rank)
        return RT_ESHAPE;
    return rt_pad_resolve(&in[0], p->n_in, in, d, begin, out[0].dims);
}

/* A scalar deciding an extent, cast to an integer as ONNX casts OneHot's
 * depth and the windows' size. */
static int64_t scalar_extent(const RtTensorDesc *t, const void *d)
{
    if (rt_numel(t) != 1)
        return -2;
    if (!rt_is_float(t->dtype))
        return rt_load_i64(d, t->dtype, 0);
    double v = rt_load_f64(d, t->dtype, 0);
    return v >= 0 && v < 9e18 ? (int64_t)v : v >= 9e18 ? -1 : -2;
}

/* OneHot: indices' extents around axis ints[RT_ONEHOT_AXIS], depth there. */
int rt_shape_onehot(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out)
{
    int r = out[0].rank, axis = p->n_ints > RT_ONEHOT_AXIS ? (int)p->ints[RT_ONEHOT_AXIS] : -1;
    if (p->n_in < 2 || !d[1] || in[0].rank + 1 != r || axis < 0 || axis >= r)
        return RT_ESHAPE;
    int64_t depth = scalar_extent(&in[1], d[1]);
    if (depth < -1 || depth == 0)
        return RT_ESHAPE;
    for (int k = 0, i = 0; k < r; k++)
        out[0].dims[k] = k == axis ? depth : in[0].dims[i++];
    return RT_OK;
}

/* HannWindow, HammingWindow, BlackmanWindow: [size]. */
int rt_shape_window(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out)
{
    if (p->n_in < 1 || !d[0] || out[0].rank != 1)
        return RT_ESHAPE;
    int64_t size = scalar_extent(&in[0], d[0]);
    if (size < -1)
        return RT_ESHAPE;
    out[0].dims[0] = size;
    return RT_OK;
}

/* The last tensor past its --max-elements: one pointer to a string
 * constant of the generated code, written only on the failing path, so a
 * message can name it (see rt_grow_note). */
static const char *grow_failed;
static int64_t grow_failed_cap;

int rt_grow_note(int rc, const char *value, int64_t cap)
{
    if (rc == RT_EBOUND) {
        grow_failed = value;
        grow_failed_cap = cap;
    }
    return rc;
}

const char *rt_grow_failed(int64_t *cap)
{
    *cap = grow_failed_cap;
    return grow_failed;
}
