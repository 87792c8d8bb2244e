/* rt_resize_values.c: Resize's and Upsample's per-axis parameters from scales, sizes and roi read when the node runs. */
#include <math.h>
#include <string.h>

#include "onnxcc_rt.h"

static int64_t f64_bits(double v)
{
    int64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* Present and not empty: an empty tensor stands for an absent input. */
static int given(int n_in, const RtTensorDesc *desc, const void *const *d, int i)
{
    return i < n_in && d[i] && desc[i].dtype != RT_UNDEF && rt_numel(&desc[i]) > 0;
}

/* The same arithmetic as the compiler's Resize inference (ir/ops/resize.c)
 * on the values it could not read: scale and resized length per axis, the
 * roi, keep_aspect_ratio_policy's one scale, and the output extents. */
int rt_resize_resolve(const RtCall *c, const RtTensorDesc *desc, const void *const *d,
                      int64_t *params, int64_t *dims)
{
    const RtTensorDesc *x = &desc[0];
    int r = x->rank;
    if (c->n_ints < RT_RESIZE_RT_AXES || c->n_ints != RT_RESIZE_RT_AXES +
        c->ints[RT_RESIZE_RT_NAXES] || c->ints[RT_RESIZE_RT_NAXES] > r)
        return RT_EINVAL;
    int si = (int)c->ints[RT_RESIZE_RT_SCALES], na = (int)c->ints[RT_RESIZE_RT_NAXES];
    int policy = (int)c->ints[RT_RESIZE_RT_POLICY], coord = (int)c->ints[RT_RESIZE_COORD];
    const int64_t *axes = c->ints + RT_RESIZE_RT_AXES;
    int has_sc = given(c->n_in, desc, d, si), has_sz = si == 2 && given(c->n_in, desc, d, 3);
    if (has_sc == has_sz || rt_numel(&desc[has_sc ? si : 3]) != na)
        return RT_ESHAPE;
    int has_roi = coord == RT_COORD_TF_CROP_AND_RESIZE;
    if (has_roi && (!given(c->n_in, desc, d, 1) || rt_numel(&desc[1]) != 2 * (int64_t)na))
        return RT_ESHAPE;
    double s[RT_MAX_RANK], len[RT_MAX_RANK], r0[RT_MAX_RANK], r1[RT_MAX_RANK], common = 0;
    for (int k = 0; k < r; k++) {
        s[k] = 1;
        len[k] = (double)x->dims[k];
        dims[k] = x->dims[k];
        r0[k] = 0;
        r1[k] = 1;
    }
    for (int i = 0; i < na; i++) {
        int k = (int)axes[i];
        double in = (double)x->dims[k];
        if (k < 0 || k >= r)
            return RT_EINVAL;
        if (has_roi) {
            r0[k] = rt_load_f64(d[1], desc[1].dtype, i);
            r1[k] = rt_load_f64(d[1], desc[1].dtype, na + i);
        }
        if (has_sc) {
            double sc = rt_load_f64(d[si], desc[si].dtype, i);
            if (!(sc > 0))
                return RT_ESHAPE;
            if (sc * in > 1e12) /* past any bound */
                return RT_EBOUND;
            s[k] = sc;
            len[k] = sc * in;
            dims[k] = (int64_t)floor(len[k]);
        } else {
            int64_t sz = rt_load_i64(d[3], desc[3].dtype, i);
            if (sz < 0 || x->dims[k] == 0)
                return RT_ESHAPE;
            s[k] = (double)sz / in;
            len[k] = (double)sz;
            dims[k] = sz;
            if (i == 0 || (policy == RT_RESIZE_POLICY_NOT_LARGER ? s[k] < common
                                                                 : s[k] > common))
                common = s[k];
        }
    }
    for (int i = 0; has_sz && policy != RT_RESIZE_POLICY_STRETCH && i < na; i++) {
        int k = (int)axes[i];
        s[k] = common;
        len[k] = common * (double)x->dims[k];
        if (len[k] > 1e12)
            return RT_EBOUND;
        dims[k] = (int64_t)(len[k] + 0.5);
    }
    /* the kernel's limits, which the compiler checks for constant scales */
    int mode = (int)c->ints[RT_RESIZE_MODE] & ~RT_RESIZE_VALUES;
    int base = mode & ~RT_RESIZE_ANTIALIAS, pairs = 1;
    int taps = base == RT_RESIZE_CUBIC ? 4 : base == RT_RESIZE_LINEAR ? 2 : 1;
    for (int k = 0; k < r - 1; k++) {
        int same = dims[k] == x->dims[k] && s[k] == 1 && len[k] == (double)x->dims[k] &&
                   coord != RT_COORD_TF_CROP_AND_RESIZE && coord != RT_COORD_TF_HALF_PIXEL_FOR_NN;
        if (!same && (pairs *= taps) > 64)
            return RT_ESHAPE;
    }
    for (int k = 0; (mode & RT_RESIZE_ANTIALIAS) && k < r; k++) {
        double sk = s[k] < 1 ? s[k] : 1, support = base == RT_RESIZE_CUBIC ? 2 : 1;
        if (2 * (-(floor(-support / sk) + 1) + 1) > RT_RESIZE_AA_MAXTAPS)
            return RT_ESHAPE;
    }
    memcpy(params, c->ints, sizeof *params * RT_RESIZE_HEAD);
    params[RT_RESIZE_MODE] = mode;
    for (int k = 0; k < r; k++) {
        int64_t *q = params + RT_RESIZE_AXIS(k);
        q[RT_RESIZE_SCALE] = f64_bits(s[k]);
        q[RT_RESIZE_LEN] = f64_bits(len[k]);
        q[RT_RESIZE_ROI_START] = f64_bits(r0[k]);
        q[RT_RESIZE_ROI_END] = f64_bits(r1[k]);
    }
    return RT_OK;
}

int rt_shape_resize(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out)
{
    int64_t params[RT_RESIZE_AXIS(RT_MAX_RANK)];
    if (in[0].rank != out[0].rank)
        return RT_ESHAPE;
    return rt_resize_resolve(p, in, d, params, out[0].dims);
}
