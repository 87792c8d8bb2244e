/* k_generate.c: kernels that build a tensor from a few values: OneHot, EyeLike, Range. */
#include <string.h>

#include "rt_internal.h"

typedef unsigned char byte;

int rt_onehot(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *ix = &c->in[0], *y = &c->out[0];
    size_t esz = rt_dtype_size(y->dtype);
    if (!esz)
        return RT_EDTYPE;
    int axis = rt_param_axis(c, RT_ONEHOT_AXIS, y->rank);
    if (axis < 0 || c->n_in < 3)
        return RT_EINVAL;
    int64_t depth = y->dims[axis];
    int64_t outer = rt_prod(y->dims, 0, axis), inner = rt_prod(y->dims, axis + 1, y->rank);
    const byte *vals = in[2];
    byte *d = out[0];
    rt_fill_elems(d, vals, esz, rt_numel(y));
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t e = o * inner + i;
            /* indices may be float; ONNX casts them to integers */
            int64_t v = rt_is_float(ix->dtype) ? (int64_t)rt_load_f64(in[0], ix->dtype, e)
                                               : rt_load_i64(in[0], ix->dtype, e);
            if (v < 0)
                v += depth;
            if (v < 0 || v >= depth)
                continue;   /* out of range: the whole row stays off_value */
            memcpy(d + ((o * depth + v) * inner + i) * (int64_t)esz, vals + esz, esz);
        }
    }
    return RT_OK;
}

int rt_eyelike(const RtCall *c, const void *const *in, void *const *out)
{
    (void)in;
    const RtTensorDesc *y = &c->out[0];
    size_t esz = rt_dtype_size(y->dtype);
    if (!esz)
        return RT_EDTYPE;
    if (y->rank != 2)
        return RT_EINVAL;
    int64_t k = rt_param_int(c, RT_EYELIKE_K, 0), R = y->dims[0], C = y->dims[1];
    memset(out[0], 0, (size_t)(R * C) * esz);
    byte one[8];
    rt_store_f64(one, y->dtype, 0, 1.0);
    for (int64_t i = 0; i < R; i++) {
        int64_t j = i + k;
        if (j >= 0 && j < C)
            memcpy((byte *)out[0] + (i * C + j) * (int64_t)esz, one, esz);
    }
    return RT_OK;
}

int rt_range(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *y = &c->out[0];
    int dt = y->dtype;
    if (!rt_dtype_size(dt) || c->n_in < 3)
        return RT_EDTYPE;
    int64_t n = rt_numel(y);
    if (rt_is_float(dt)) {
        double s = rt_load_f64(in[0], dt, 0), delta = rt_load_f64(in[2], dt, 0);
        for (int64_t i = 0; i < n; i++)
            rt_store_f64(out[0], dt, i, s + (double)i * delta);
    } else {
        int64_t s = rt_load_i64(in[0], dt, 0), delta = rt_load_i64(in[2], dt, 0);
        for (int64_t i = 0; i < n; i++)
            rt_store_i64(out[0], dt, i, s + i * delta);
    }
    return RT_OK;
}
