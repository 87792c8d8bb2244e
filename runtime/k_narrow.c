/* k_narrow.c: kernels' paths for the narrow types: Cast to and from them, and BitCast. */
#include <string.h>

#include "onnxcc_rt.h"
#include "rt_internal.h"

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
    if (rt_is_packed(dd)) /* the pad bits of the last byte are written as 0 */
        memset(out[0], 0, rt_dtype_bytes(dd, n));
    int mask = (1 << rt_dtype_bits(dd)) - 1;
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
