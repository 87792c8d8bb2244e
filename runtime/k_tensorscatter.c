/* k_tensorscatter.c: TensorScatter (opset 24): writes a sequence of updates into a KV cache at per-batch positions, linearly or circularly. */
#include <string.h>

#include "rt_internal.h"

int rt_tensor_scatter(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 2 || c->n_ints < RT_TSCATTER_NINTS)
        return RT_EINVAL;
    const RtTensorDesc *pc = &c->in[0], *up = &c->in[1];
    int axis = rt_param_axis(c, RT_TSCATTER_AXIS, pc->rank);
    if (axis < 1 || up->rank != pc->rank || up->dtype != pc->dtype)
        return RT_EINVAL;
    size_t esz = rt_dtype_size(pc->dtype);
    if (!esz)
        return RT_EDTYPE;
    int circular = c->ints[RT_TSCATTER_CIRCULAR] != 0;
    const int64_t *wi = c->n_in > 2 && c->in[2].dtype == RT_I64 ? in[2] : NULL;
    int64_t outer = rt_prod(pc->dims, 0, axis), inner = rt_prod(pc->dims, axis + 1, pc->rank);
    int64_t max_len = pc->dims[axis], len = up->dims[axis];
    int64_t per_batch = rt_prod(pc->dims, 1, axis); /* outer rows of one batch entry */
    size_t row = (size_t)inner * esz;
    /* every index is checked before anything moves, so a bad one leaves no
     * half-written cache behind it */
    for (int64_t b = 0; wi && b < pc->dims[0]; b++)
        if (wi[b] < 0 || (!circular && wi[b] + len > max_len) || (circular && wi[b] >= max_len))
            return RT_EINVAL;
    if (out[0] != in[0])
        memcpy(out[0], in[0], (size_t)(outer * max_len) * row);
    if (max_len == 0)
        return RT_OK;
    for (int64_t o = 0; o < outer; o++) {
        int64_t start = wi ? wi[o / per_batch] : 0;
        for (int64_t s = 0; s < len; s++) {
            int64_t dst = start + s;
            if (circular)
                dst %= max_len;
            memcpy((char *)out[0] + (size_t)(o * max_len + dst) * row,
                   (const char *)in[1] + (size_t)(o * len + s) * row, row);
        }
    }
    return RT_OK;
}
