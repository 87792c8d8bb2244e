/* k_ml.c: kernels of the ai.onnx.ml ops: LabelEncoder. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"

int rt_ml_key_cmp(int dt, const void *a, int64_t i, const void *b, int64_t j)
{
    if (dt == RT_STRING)
        return strcmp(((const char *const *)a)[i], ((const char *const *)b)[j]);
    if (rt_is_float(dt)) {
        double x = rt_load_f64(a, dt, i), y = rt_load_f64(b, dt, j);
        if (isnan(x) || isnan(y))
            return isnan(x) - isnan(y);
        return (x > y) - (x < y);
    }
    int64_t x = rt_load_i64(a, dt, i), y = rt_load_i64(b, dt, j);
    if (dt == RT_U64)
        return ((uint64_t)x > (uint64_t)y) - ((uint64_t)x < (uint64_t)y);
    return (x > y) - (x < y);
}

int rt_label_encoder(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 4 || !in[1] || !in[2] || !in[3])
        return RT_EINVAL;
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    int kdt = x->dtype, vdt = y->dtype;
    size_t vsz = rt_dtype_size(vdt);
    int64_t nk = rt_numel(&c->in[1]), n = rt_numel(x);
    if (!vsz || !rt_dtype_size(kdt) || c->in[1].dtype != kdt || c->in[2].dtype != vdt ||
        c->in[3].dtype != vdt || rt_numel(&c->in[2]) != nk || rt_numel(&c->in[3]) != 1 ||
        rt_numel(y) != n)
        return RT_EDTYPE;
    for (int64_t k = 0; k < n; k++) {
        const void *src = in[3];
        int64_t lo = 0, hi = nk;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            int r = rt_ml_key_cmp(kdt, in[1], mid, in[0], k);
            if (r == 0) {
                src = (const char *)in[2] + (size_t)mid * vsz;
                break;
            }
            if (r < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        memcpy((char *)out[0] + (size_t)k * vsz, src, vsz);
    }
    return RT_OK;
}
