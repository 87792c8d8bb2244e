/* k_center_crop.c: CenterCropPad: a copy at fixed per-axis offsets, zeros outside. */
#include <string.h>

#include "rt_internal.h"

int rt_center_crop_pad(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    size_t es = rt_dtype_size(x->dtype);
    int r = x->rank;
    if (!es || y->dtype != x->dtype)
        return RT_EDTYPE;
    if (y->rank != r || c->n_ints < RT_CENTER_CROP_OFFSET + r)
        return RT_EINVAL;
    const int64_t *off = c->ints + RT_CENTER_CROP_OFFSET;
    int64_t ny = rt_numel(y);
    if (!ny)
        return RT_OK;
    if (r == 0) {
        memcpy(out[0], in[0], es);
        return RT_OK;
    }
    /* one output row (last axis) at a time: the part inside the input is one
     * memcpy, the rest zeros */
    int64_t w = y->dims[r - 1], xw = x->dims[r - 1], o = off[r - 1];
    int64_t lo = o < 0 ? -o : 0, hi = xw - o < w ? xw - o : w;
    if (hi < lo)
        hi = lo;
    const char *xs = in[0];
    char *ys = out[0];
    int64_t idx[RT_MAX_RANK] = {0};
    for (int64_t row = 0; row < ny / w; row++) {
        int64_t xo = 0, inside = 1;
        for (int a = 0; a < r - 1; a++) {
            int64_t i = idx[a] + off[a];
            inside &= i >= 0 && i < x->dims[a];
            xo = xo * x->dims[a] + i;
        }
        char *yr = ys + (size_t)(row * w) * es;
        if (!inside) {
            memset(yr, 0, (size_t)w * es);
        } else {
            memset(yr, 0, (size_t)lo * es);
            memcpy(yr + (size_t)lo * es, xs + (size_t)(xo * xw + lo + o) * es,
                   (size_t)(hi - lo) * es);
            memset(yr + (size_t)hi * es, 0, (size_t)(w - hi) * es);
        }
        for (int a = r - 2; a >= 0; a--) {
            if (++idx[a] < y->dims[a])
                break;
            idx[a] = 0;
        }
    }
    return RT_OK;
}
