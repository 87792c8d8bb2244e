/* k_narrow.c: kernels' paths for the narrow types: Cast, BitCast, and moving packed elements. */
#include <string.h>

#include "onnxcc_rt.h"
#include "rt_internal.h"
#include "k_movement.h"

/* Integer-valued dtypes, whose values a narrow int takes exactly (wrapping). */
static int is_int(int dt)
{
    return !rt_is_float(dt) && !rt_is_narrow_float(dt) && dt != RT_STRING && rt_dtype_bits(dt);
}

/* One element at a time: the narrow types have no vector path worth having
 * at Cast's sizes, and element access hides the packing. */
int rt_cast_narrow(const RtCall *c, const void *const *in, void *const *out)
{
    int sd = c->in[0].dtype, dd = c->out[0].dtype;
    int64_t n = rt_numel(&c->out[0]);
    int sat = c->n_ints > RT_CAST_SATURATE ? (int)c->ints[RT_CAST_SATURATE] : 1;
    int mode = c->n_ints > RT_CAST_ROUND_MODE ? (int)c->ints[RT_CAST_ROUND_MODE] : RT_E8M0_UP;
    if (!rt_dtype_bits(sd) || !rt_dtype_bits(dd) || sd == RT_STRING || dd == RT_STRING)
        return RT_EDTYPE;
    if (n == 0)
        return RT_OK;
    if (sd == dd) {
        memcpy(out[0], in[0], rt_dtype_bytes(dd, n));
        return RT_OK;
    }
    /* the common float32 <-> float8 pairs without the generic element access */
    if (sd == RT_F32 && rt_is_narrow_float(dd) && !rt_is_packed(dd)) {
        const float *x = in[0];
        uint8_t *y = out[0];
        for (int64_t i = 0; i < n; i++)
            y[i] = (uint8_t)rt_f32_to_narrow(dd, x[i], sat, mode);
        return RT_OK;
    }
    if (dd == RT_F32 && rt_is_narrow_float(sd) && !rt_is_packed(sd)) {
        const uint8_t *x = in[0];
        float *y = out[0];
        for (int64_t i = 0; i < n; i++)
            y[i] = rt_narrow_to_f32(sd, x[i]);
        return RT_OK;
    }
    if (rt_is_packed(dd)) /* the pad bits of the last byte are written as 0 */
        memset(out[0], 0, rt_dtype_bytes(dd, n));
    unsigned mask = rt_is_narrow(dd) ? (1u << rt_dtype_bits(dd)) - 1 : 0xff; /* narrow ints only */
    for (int64_t i = 0; i < n; i++) {
        if (rt_is_narrow(dd)) {
            unsigned code;
            if (is_int(sd) && !rt_is_narrow_float(dd))
                code = (unsigned)((uint64_t)rt_load_i64(in[0], sd, i) & (uint64_t)mask);
            else
                code = rt_f64_to_narrow(dd, rt_load_f64(in[0], sd, i), sat, mode);
            rt_narrow_set(out[0], dd, i, code);
        } else if (!rt_is_narrow_float(sd)) { /* a narrow int to a wider type */
            rt_store_i64(out[0], dd, i, rt_narrow_int(sd, rt_narrow_get(in[0], sd, i)));
        } else {
            rt_store_f64(out[0], dd, i, rt_narrow_to_f32(sd, rt_narrow_get(in[0], sd, i)));
        }
    }
    return RT_OK;
}

int rt_bitcast(const RtCall *c, const void *const *in, void *const *out)
{
    int sd = c->in[0].dtype, dd = c->out[0].dtype;
    if (!rt_dtype_bits(sd) || rt_dtype_bits(sd) != rt_dtype_bits(dd))
        return RT_EDTYPE;
    size_t n = rt_dtype_bytes(dd, rt_numel(&c->out[0]));
    if (n && in[0] != out[0])
        memcpy(out[0], in[0], n);
    return RT_OK;
}

/* ---- data movement of the packed types (4- and 2-bit elements share
 * bytes, so they move element by element; float8 takes the byte paths) ---- */

void rt_packed_strided(void *dst, const void *src, int dtype, int64_t base, int rank,
                       const int64_t *dims, const int64_t *st)
{
    int64_t n = 1, idx[RT_MAX_RANK] = {0};
    for (int k = 0; k < rank; k++)
        n *= dims[k];
    memset(dst, 0, rt_dtype_bytes(dtype, n));
    int64_t at = base;
    for (int64_t j = 0; j < n; j++) {
        rt_narrow_set(dst, dtype, j, rt_narrow_get(src, dtype, at));
        /* odometer over the output index; at follows it through st */
        for (int k = rank - 1; k >= 0; k--) {
            at += st[k];
            if (++idx[k] < dims[k])
                break;
            at -= st[k] * dims[k];
            idx[k] = 0;
        }
    }
}

int rt_concat_packed(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *y = &c->out[0];
    int axis = rt_param_axis(c, RT_CONCAT_AXIS, y->rank);
    if (axis < 0)
        return RT_EINVAL;
    int64_t outer = rt_prod(y->dims, 0, axis), inner = rt_prod(y->dims, axis + 1, y->rank);
    int64_t row = y->dims[axis] * inner, off = 0;
    memset(out[0], 0, rt_dtype_bytes(y->dtype, rt_numel(y)));
    for (int i = 0; i < c->n_in; i++) {
        int64_t part = c->in[i].dims[axis] * inner;
        if (c->in[i].dtype != y->dtype || off + part > row || (part && outer && !in[i]))
            return RT_EINVAL;
        for (int64_t o = 0; part && o < outer; o++)
            rt_elem_copy(out[0], o * row + off, in[i], o * part, y->dtype, part);
        off += part;
    }
    return off == row ? RT_OK : RT_EINVAL;
}

int rt_gather_packed(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *ix = &c->in[1];
    int axis = rt_param_axis(c, RT_GATHER_AXIS, x->rank);
    if (axis < 0)
        return RT_EINVAL;
    int64_t outer = rt_prod(x->dims, 0, axis), inner = rt_prod(x->dims, axis + 1, x->rank);
    int64_t dim = x->dims[axis], n = rt_numel(ix), at = 0;
    memset(out[0], 0, rt_dtype_bytes(x->dtype, rt_numel(&c->out[0])));
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n; j++, at += inner) {
            int64_t i = rt_load_i64(in[1], ix->dtype, j);
            if (i < 0)
                i += dim;
            if (i < 0 || i >= dim)
                return RT_EINVAL;
            rt_elem_copy(out[0], at, in[0], (o * dim + i) * inner, x->dtype, inner);
        }
    return RT_OK;
}
