/* resize.c: shape and kernel parameters of Resize (opsets 10-19) and Upsample (7-9). */
#include <math.h>
#include <string.h>

#include "ir.h"
#include "shape_util.h"

/* A constant tensor of any numeric dtype as doubles: its length, -1 if
 * absent or empty, -2 if present but not constant, -3 if longer than max. */
static int const_f64s(const Value *v, double *out, int max)
{
    if (!v || (ir_shape_known(v) && ir_numel(v) == 0))
        return -1;
    if (!v->data || !ir_shape_known(v))
        return -2;
    int64_t k = ir_numel(v);
    if (k > max)
        return -3;
    for (int64_t i = 0; i < k; i++)
        out[i] = rt_load_f64(v->data, v->dtype, i);
    return (int)k;
}

static int64_t f64_bits(double v)
{
    int64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

/* Indexed by RT_COORD_* and RT_NEAREST_*. */
static const char *const coord_names[] = {
    "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
    "tf_half_pixel_for_nn", "tf_crop_and_resize", "half_pixel_symmetric"};
static const char *const nearest_names[] = {
    "round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

/* Scales, sizes or roi read when the node runs: the parameters say where
 * they are and how to read them (rt_resize_resolve), every axis is bounded
 * by --max-elements. */
static int resize_at_run_time(Graph *g, Node *n, int mode, int coord, int nearest,
                              const char *policy, const int64_t *axes, int na, Diag *d)
{
    const Value *x = n->in[0];
    int legacy = n->op != OP_RESIZE || n->opset < 11;
    for (int i = 1; i < n->n_in && i < 4; i++) {
        const Value *v = n->in[i];
        int want_int = i == 3;
        if (v && (v->rank != 1 || (want_int ? !mv_is_int(v->dtype) : !rt_is_float(v->dtype))))
            return ir_node_error(d, n, "input %d ('%s') must be a 1-D %s tensor", i, v->name,
                                 want_int ? "integer" : "float");
    }
    ir_param_int(n, RT_RESIZE_MODE, mode | RT_RESIZE_VALUES);
    ir_param_int(n, RT_RESIZE_COORD, coord);
    ir_param_int(n, RT_RESIZE_NEAREST_MODE, nearest);
    ir_param_int(n, RT_RESIZE_EXCLUDE_OUTSIDE, ir_attr_int(n, "exclude_outside", 0) != 0);
    ir_param_int(n, RT_RESIZE_RT_SCALES, legacy ? 1 : 2);
    int pol = !strcmp(policy, "not_larger")    ? RT_RESIZE_POLICY_NOT_LARGER
              : !strcmp(policy, "not_smaller") ? RT_RESIZE_POLICY_NOT_SMALLER
                                               : RT_RESIZE_POLICY_STRETCH;
    ir_param_int(n, RT_RESIZE_RT_POLICY, pol);
    ir_param_int(n, RT_RESIZE_RT_NAXES, na);
    for (int i = 0; i < na; i++)
        ir_param_int(n, RT_RESIZE_RT_AXES + i, ir_axis(axes[i], x->rank));
    ir_param_float(n, RT_RESIZE_F_CUBIC_A, ir_attr_float(n, "cubic_coeff_a", -0.75f));
    ir_param_float(n, RT_RESIZE_F_EXTRAPOLATION, ir_attr_float(n, "extrapolation_value", 0.0f));
    return ir_rt_grown_out(g, n, 0, x->dtype, x->rank, d);
}

/* Inputs by version: Upsample-7 X (scales attribute); Upsample-9 and
 * Resize-10 X, scales; Resize-11+ X, roi, scales, sizes. Resize-10 and
 * Upsample resample asymmetrically; Resize-11 added the other modes. */
int ir_infer_resize(Graph *g, Node *n, Diag *d)
{
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int r = x->rank;
    if (r == 0)
        return ir_node_error(d, n, "cannot resize a scalar");
    int legacy = n->op != OP_RESIZE || n->opset < 11;

    const char *ms = ir_attr_str(n, "mode", "nearest");
    int mode;
    if (!strcmp(ms, "nearest"))
        mode = RT_RESIZE_NEAREST;
    else if (!strcmp(ms, "linear") || !strcmp(ms, "bilinear"))
        mode = RT_RESIZE_LINEAR;
    else if (!strcmp(ms, "cubic") && !legacy)
        mode = RT_RESIZE_CUBIC;
    else
        return ir_node_error(d, n, "mode '%s' is not supported", ms);
    if (mode != RT_RESIZE_NEAREST && !rt_is_float(x->dtype))
        return ir_node_error(d, n, "mode '%s' needs a float input, not %s", ms,
                             rt_dtype_name(x->dtype));

    int coord = RT_COORD_ASYMMETRIC, nearest = RT_NEAREST_SIMPLE;
    if (!legacy) {
        const char *cs = ir_attr_str(n, "coordinate_transformation_mode", "half_pixel");
        const char *ns = ir_attr_str(n, "nearest_mode", "round_prefer_floor");
        coord = lookup(cs, coord_names, 7);
        nearest = lookup(ns, nearest_names, 4);
        if (coord < 0)
            return ir_node_error(d, n, "coordinate_transformation_mode '%s' is not supported",
                                 cs);
        if (nearest < 0)
            return ir_node_error(d, n, "nearest_mode '%s' is not supported", ns);
    }
    /* antialias (opset 18) only changes linear and cubic */
    int aa = !legacy && ir_attr_int(n, "antialias", 0) && mode != RT_RESIZE_NEAREST;
    if (aa && coord == RT_COORD_TF_CROP_AND_RESIZE)
        return ir_node_error(d, n, "antialias with tf_crop_and_resize is not supported");
    const char *policy = ir_attr_str(n, "keep_aspect_ratio_policy", "stretch");
    if (strcmp(policy, "stretch") && strcmp(policy, "not_larger") && strcmp(policy, "not_smaller"))
        return ir_node_error(d, n, "keep_aspect_ratio_policy '%s' is not supported", policy);

    /* the axes scales/sizes/roi list, in order */
    int64_t axes[IR_MAX_RANK];
    int na = n->opset >= 18 ? mv_attr_list(d, n, "axes", axes, IR_MAX_RANK) : -1;
    int mark[IR_MAX_RANK];
    if (na == -2)
        return -1;
    if (na < 0) {
        na = r;
        for (int k = 0; k < r; k++)
            axes[k] = k;
    }
    if (mv_axes(d, n, axes, na, r, mark))
        return -1;

    if (ir_rt_value_inputs(n))
        return resize_at_run_time(g, n, aa ? mode | RT_RESIZE_ANTIALIAS : mode, coord, nearest,
                                  policy, axes, na, d);

    double scales[IR_MAX_RANK], roi[2 * IR_MAX_RANK];
    int64_t sizes[IR_MAX_RANK];
    int nsc = -1, nsz = -1, nroi = -1;
    if (n->op == OP_UPSAMPLE && n->opset < 9) {
        float f[IR_MAX_RANK];
        nsc = ir_attr_floats(n, "scales", f, IR_MAX_RANK);
        for (int i = 0; i < nsc && i < IR_MAX_RANK; i++)
            scales[i] = f[i];
    } else {
        int si = legacy ? 1 : 2;
        nsc = const_f64s(ir_input(n, si), scales, IR_MAX_RANK);
        if (nsc == -2)
            return ir_err_not_const(d, n, si);
        if (!legacy) {
            const Value *sv = ir_input(n, 3);
            if (sv && !(ir_shape_known(sv) && ir_numel(sv) == 0)) {
                nsz = mv_const_list(d, n, 3, sizes, IR_MAX_RANK);
                if (nsz == -2)
                    return -1;
            }
            if (coord == RT_COORD_TF_CROP_AND_RESIZE) {
                nroi = const_f64s(ir_input(n, 1), roi, 2 * IR_MAX_RANK);
                if (nroi == -2)
                    return ir_err_not_const(d, n, 1);
                if (nroi != 2 * na)
                    return ir_node_error(d, n, "tf_crop_and_resize needs a roi of %d values",
                                         2 * na);
            }
        }
    }
    if (nsc == -3)
        return ir_node_error(d, n, "scales has more values than the input has axes");
    if ((nsc >= 0) == (nsz >= 0))
        return ir_node_error(d, n, "exactly one of scales and sizes must be given");
    if ((nsc >= 0 ? nsc : nsz) != na)
        return ir_node_error(d, n, "%s has %d values for %d axes", nsc >= 0 ? "scales" : "sizes",
                             nsc >= 0 ? nsc : nsz, na);

    double s[IR_MAX_RANK], len[IR_MAX_RANK], r0[IR_MAX_RANK], r1[IR_MAX_RANK];
    int64_t dims[IR_MAX_RANK];
    for (int k = 0; k < r; k++) {
        s[k] = 1;
        len[k] = (double)x->dims[k];
        dims[k] = x->dims[k];
        r0[k] = 0;
        r1[k] = 1;
    }
    double common = 0;
    for (int i = 0; i < na; i++) {
        int k = ir_axis(axes[i], r);
        double in = (double)x->dims[k];
        if (x->dims[k] > INT32_MAX)
            return ir_node_error(d, n, "axis %d is too long to resample", k);
        if (nroi >= 0) {
            r0[k] = roi[i];
            r1[k] = roi[na + i];
        }
        if (nsc >= 0) {
            if (!(scales[i] > 0) || scales[i] * in > 1e12)
                return ir_node_error(d, n, "scale %g of axis %d is out of range", scales[i], k);
            s[k] = scales[i];
            len[k] = scales[i] * in;
            dims[k] = (int64_t)floor(len[k]);
        } else {
            if (sizes[i] < 0)
                return ir_node_error(d, n, "size %lld of axis %d is negative",
                                     (long long)sizes[i], k);
            if (x->dims[k] == 0)
                return ir_node_error(d, n, "cannot resize axis %d, which is empty", k);
            s[k] = (double)sizes[i] / in;
            len[k] = (double)sizes[i];
            dims[k] = sizes[i];
            if (i == 0 || (!strcmp(policy, "not_larger") ? s[k] < common : s[k] > common))
                common = s[k];
        }
    }
    /* keep_aspect_ratio_policy (opset 18): one scale for every listed axis,
     * the output rounded half up as the ONNX reference does */
    if (nsz >= 0 && strcmp(policy, "stretch")) {
        for (int i = 0; i < na; i++) {
            int k = ir_axis(axes[i], r);
            s[k] = common;
            len[k] = common * (double)x->dims[k];
            dims[k] = (int64_t)(len[k] + 0.5);
        }
    }
    int64_t total;
    if (mv_numel(d, n, r, dims, &total))
        return -1;

    /* the kernel mixes up to taps^m source rows for an output row (m = axes
     * resampled before the last); keep that within its fixed buffer */
    int taps = mode == RT_RESIZE_CUBIC ? 4 : mode == RT_RESIZE_LINEAR ? 2 : 1, pairs = 1;
    for (int k = 0; k < r - 1; k++) {
        int same = dims[k] == x->dims[k] && s[k] == 1 && len[k] == (double)x->dims[k] &&
                   coord != RT_COORD_TF_CROP_AND_RESIZE && coord != RT_COORD_TF_HALF_PIXEL_FOR_NN;
        if (!same)
            pairs *= taps;
        if (pairs > 64)
            return ir_node_error(d, n, "resampling this many axes in mode '%s' is not "
                                 "supported", ms);
    }

    for (int k = 0; aa && k < r; k++) {
        double sk = s[k] < 1 ? s[k] : 1, support = mode == RT_RESIZE_CUBIC ? 2 : 1;
        if (2 * (-(floor(-support / sk) + 1) + 1) > RT_RESIZE_AA_MAXTAPS)
            return ir_node_error(d, n, "antialias: axis %d shrinks by %g, which needs more than "
                                 "%d taps (not supported)", k, 1 / s[k], RT_RESIZE_AA_MAXTAPS);
    }
    ir_param_int(n, RT_RESIZE_MODE, aa ? mode | RT_RESIZE_ANTIALIAS : mode);
    ir_param_int(n, RT_RESIZE_COORD, coord);
    ir_param_int(n, RT_RESIZE_NEAREST_MODE, nearest);
    ir_param_int(n, RT_RESIZE_EXCLUDE_OUTSIDE, ir_attr_int(n, "exclude_outside", 0) != 0);
    for (int k = 0; k < r; k++) {
        ir_param_int(n, RT_RESIZE_AXIS(k) + RT_RESIZE_SCALE, f64_bits(s[k]));
        ir_param_int(n, RT_RESIZE_AXIS(k) + RT_RESIZE_LEN, f64_bits(len[k]));
        ir_param_int(n, RT_RESIZE_AXIS(k) + RT_RESIZE_ROI_START, f64_bits(r0[k]));
        ir_param_int(n, RT_RESIZE_AXIS(k) + RT_RESIZE_ROI_END, f64_bits(r1[k]));
    }
    ir_param_float(n, RT_RESIZE_F_CUBIC_A, ir_attr_float(n, "cubic_coeff_a", -0.75f));
    ir_param_float(n, RT_RESIZE_F_EXTRAPOLATION, ir_attr_float(n, "extrapolation_value", 0.0f));
    return ir_set_out(n, 0, x->dtype, r, dims);
}
