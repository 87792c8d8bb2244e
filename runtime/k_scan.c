/* k_scan.c: kernels that keep or sum elements by their position: Trilu, CumSum. */
#include <string.h>

#include "rt_internal.h"

typedef unsigned char byte;

int rt_trilu(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz)
        return RT_EDTYPE;
    if (x->rank < 2 || c->n_ints < RT_TRILU_NINTS)
        return RT_EINVAL;
    int upper = (int)c->ints[RT_TRILU_UPPER];
    int64_t k = 0;
    if (c->n_in > 1 && in[1] && c->in[1].dtype != RT_UNDEF)
        k = rt_load_i64(in[1], c->in[1].dtype, 0);
    int64_t R = x->dims[x->rank - 2], C = x->dims[x->rank - 1];
    int64_t mats = rt_prod(x->dims, 0, x->rank - 2);
    const byte *s = in[0];
    byte *d = out[0];
    for (int64_t m = 0; m < mats; m++) {
        for (int64_t i = 0; i < R; i++) {
            for (int64_t j = 0; j < C; j++) {
                /* upper keeps j - i >= k, lower keeps j - i <= k */
                int keep = upper ? j - i >= k : j - i <= k;
                if (keep)
                    memcpy(d, s, esz);
                else
                    memset(d, 0, esz);
                d += esz;
                s += esz;
            }
        }
    }
    return RT_OK;
}

int rt_cumsum(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz)
        return RT_EDTYPE;
    if (c->n_ints < RT_CUMSUM_PROD || c->n_in < 2 || !in[1])
        return RT_EINVAL;
    int r = x->rank;
    int64_t a = rt_load_i64(in[1], c->in[1].dtype, 0);
    if (a < 0)
        a += r;
    if (a < 0 || a >= r)
        return RT_EINVAL;
    int axis = (int)a;
    int excl = (int)c->ints[RT_CUMSUM_EXCLUSIVE], rev = (int)c->ints[RT_CUMSUM_REVERSE];
    int prod = rt_param_int(c, RT_CUMSUM_PROD, 0) != 0;
    int64_t outer = rt_prod(x->dims, 0, axis), inner = rt_prod(x->dims, axis + 1, r);
    int64_t n = x->dims[axis];
    int fl = rt_is_float(x->dtype);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            double accf = prod;
            uint64_t acci = (uint64_t)prod;
            for (int64_t t = 0; t < n; t++) {
                int64_t j = rev ? n - 1 - t : t;
                int64_t e = (o * n + j) * inner + i;
                if (fl) {
                    double v = rt_load_f64(in[0], x->dtype, e);
                    double next = prod ? accf * v : accf + v;
                    rt_store_f64(out[0], x->dtype, e, excl ? accf : next);
                    accf = next;
                } else {
                    uint64_t v = (uint64_t)rt_load_i64(in[0], x->dtype, e);
                    uint64_t next = prod ? acci * v : acci + v;
                    rt_store_i64(out[0], x->dtype, e, (int64_t)(excl ? acci : next));
                    acci = next;
                }
            }
        }
    }
    return RT_OK;
}
