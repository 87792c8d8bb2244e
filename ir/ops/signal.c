/* signal.c: shapes and kernel parameters of the signal-processing ops: windows, DFT, STFT, mel. */
#include "ir.h"
#include "shape_util.h"

/* Input i as one integer known at compile time (it decides a shape): 0, or
 * -1 after reporting. */
static int const_int(Diag *d, const Node *n, int i, const char *what, int64_t *out)
{
    const Value *v = ir_input(n, i);
    if (!v)
        return ir_node_error(d, n, "input %d (%s) is missing", i, what);
    if (!v->data)
        return ir_err_not_const(d, n, i);
    if (!mv_is_int(v->dtype) || ir_numel(v) != 1 || ir_const_ints(v, out, 1) != 1)
        return ir_node_error(d, n, "input %d (%s) must be a single integer", i, what);
    return 0;
}

/* Reports unless input i is present and holds one value (its dtype is checked
 * by the caller). */
static int need_scalar(Diag *d, const Node *n, int i, const char *what)
{
    if (mv_need_input(d, n, i))
        return -1;
    if (ir_numel(n->in[i]) != 1)
        return ir_node_error(d, n, "input %d (%s) must be a scalar", i, what);
    return 0;
}

/* output_datatype of the generator ops: a real numeric dtype, float by default. */
static int out_dtype(Diag *d, const Node *n, int *dt)
{
    int64_t t = ir_attr_int(n, "output_datatype", RT_F32);
    if (t == RT_F32 || t == RT_F64 || t == RT_F16 || t == RT_BF16 || mv_is_int((int)t)) {
        *dt = (int)t;
        return 0;
    }
    return ir_node_error(d, n, "output_datatype %lld is not a numeric tensor type", (long long)t);
}

/* HannWindow, HammingWindow, BlackmanWindow (opset 17): [size]. */
int ir_infer_window(Graph *g, Node *n, Diag *d)
{
    int64_t size;
    int dt = RT_F32, rt = ir_rt_value_inputs(n) != 0; /* size read when it runs */
    if (rt && ir_numel(n->in[0]) != 1)
        return ir_node_error(d, n, "input 0 (size) must hold one value");
    size = rt ? g->limits.v[LIM_RT_ELEMS] : 0;
    if ((!rt && const_int(d, n, 0, "size", &size)) || out_dtype(d, n, &dt))
        return -1;
    if (size < 0)
        return ir_node_error(d, n, "size %lld is negative", (long long)size);
    int kind = n->op == OP_HANN_WINDOW      ? RT_WINDOW_HANN
               : n->op == OP_HAMMING_WINDOW ? RT_WINDOW_HAMMING
                                            : RT_WINDOW_BLACKMAN;
    ir_param_int(n, RT_WINDOW_KIND, kind);
    ir_param_int(n, RT_WINDOW_PERIODIC, ir_attr_int(n, "periodic", 1) != 0);
    return ir_set_out(n, 0, dt, 1, &size);
}

/* Input of DFT and STFT: float, with a last axis of 1 (real) or 2 (re, im). */
static int need_signal(Diag *d, const Node *n, int min_rank)
{
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (!rt_is_float(x->dtype))
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(x->dtype));
    if (x->rank < min_rank || (x->dims[x->rank - 1] != 1 && x->dims[x->rank - 1] != 2))
        return ir_node_error(d, n, "input must have rank >= %d and a last axis of 1 (real) or "
                             "2 (complex)", min_rank);
    return 0;
}

/* DFT: axis is an attribute (default 1) in opset 17 and an optional scalar
 * input 2 from opset 20 (default -2, counted on the input's axes); the
 * optional dft_length input pads or truncates each lane. One-sided forward
 * output keeps bins 0..n/2, as ONNX's reference also does for complex input.
 * An inverse one-sided transform is numpy's irfft: the input holds n/2 + 1
 * bins (n defaults to 2 (bins - 1)) and the output is n real samples with a
 * last axis of 1, which is what ONNX 1.23's tests expect of both opsets. */
int ir_infer_dft(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need_signal(d, n, 2))
        return -1;
    const Value *x = n->in[0];
    int r = x->rank;
    int64_t a = ir_attr_int(n, "axis", 1);
    if (n->opset >= 20) {
        if (ir_attr(n, "axis"))
            return ir_node_error(d, n, "DFT of opset %lld takes axis as input 2, not as an "
                                 "attribute", (long long)n->opset);
        a = -2;
        if (ir_input(n, 2) && const_int(d, n, 2, "axis", &a))
            return -1;
    }
    int axis = ir_axis(a, r);
    if (axis < 0 || axis > r - 2)
        return ir_node_error(d, n, "axis %lld is out of range: the last of the %d axes holds "
                             "the (re, im) pairs", (long long)a, r);
    int inverse = ir_attr_int(n, "inverse", 0) != 0;
    int onesided = ir_attr_int(n, "onesided", 0) != 0;
    int irfft = inverse && onesided;
    int64_t len = irfft ? 2 * (x->dims[axis] - 1) : x->dims[axis];
    if (ir_input(n, 1) && const_int(d, n, 1, "dft_length", &len))
        return -1;
    if (len < 1)
        return ir_node_error(d, n, "the transform length %lld is not positive", (long long)len);
    int64_t dims[IR_MAX_RANK];
    for (int i = 0; i < r; i++)
        dims[i] = x->dims[i];
    dims[axis] = irfft ? len : onesided ? len / 2 + 1 : len;
    dims[r - 1] = irfft ? 1 : 2;
    ir_param_int(n, RT_DFT_AXIS, axis);
    ir_param_int(n, RT_DFT_N, len);
    ir_param_int(n, RT_DFT_INVERSE, inverse);
    return ir_set_out(n, 0, x->dtype, r, dims);
}

/* STFT (opset 17): [batch, len, 1|2] -> [batch, frames, bins, 2] with
 * frames = 1 + (len - frame_length) / frame_step. frame_length comes from
 * its input, else the window's length, else the whole signal. */
int ir_infer_stft(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need_signal(d, n, 3))
        return -1;
    const Value *x = n->in[0], *win = ir_input(n, 2);
    if (x->rank != 3)
        return ir_node_error(d, n, "signal must be [batch, length, 1 or 2]");
    int64_t hop, len = x->dims[1], fl = len;
    if (const_int(d, n, 1, "frame_step", &hop))
        return -1;
    if (hop < 1)
        return ir_node_error(d, n, "frame_step %lld is not positive", (long long)hop);
    if (win) {
        if (mv_need_input(d, n, 2))
            return -1;
        if (win->rank != 1 || win->dtype != x->dtype)
            return ir_node_error(d, n, "window must be 1-D with the signal's dtype");
        fl = win->dims[0];
    }
    if (ir_input(n, 3)) {
        if (const_int(d, n, 3, "frame_length", &fl))
            return -1;
        if (win && win->dims[0] != fl)
            return ir_node_error(d, n, "window of %lld samples for frame_length %lld",
                                 (long long)win->dims[0], (long long)fl);
    }
    if (fl < 1 || fl > len)
        return ir_node_error(d, n, "frame_length %lld does not fit a signal of %lld samples",
                             (long long)fl, (long long)len);
    int onesided = ir_attr_int(n, "onesided", 1) != 0;
    int64_t dims[4] = {x->dims[0], 1 + (len - fl) / hop, onesided ? fl / 2 + 1 : fl, 2};
    ir_param_int(n, RT_STFT_FRAME_STEP, hop);
    ir_param_int(n, RT_STFT_FRAME_LENGTH, fl);
    return ir_set_out(n, 0, x->dtype, 4, dims);
}

/* MelWeightMatrix (opset 17): [dft_length / 2 + 1, num_mel_bins]. Only those
 * two inputs decide the shape; the kernel reads the sample rate and the edges,
 * so they may be run-time inputs. */
int ir_infer_mel_weight_matrix(Graph *g, Node *n, Diag *d)
{
    (void)g;
    int64_t nmel, dft_len;
    int dt = RT_F32;
    if (const_int(d, n, 0, "num_mel_bins", &nmel) || const_int(d, n, 1, "dft_length", &dft_len) ||
        out_dtype(d, n, &dt))
        return -1;
    if (nmel < 0 || dft_len < 1)
        return ir_node_error(d, n, "num_mel_bins must be >= 0 and dft_length >= 1");
    if (need_scalar(d, n, 2, "sample_rate") || need_scalar(d, n, 3, "lower_edge_hertz") ||
        need_scalar(d, n, 4, "upper_edge_hertz"))
        return -1;
    if (!mv_is_int(n->in[2]->dtype) || !rt_is_float(n->in[3]->dtype) ||
        !rt_is_float(n->in[4]->dtype))
        return ir_node_error(d, n, "sample_rate must be an integer and the edges floats");
    int64_t dims[2] = {dft_len / 2 + 1, nmel};
    ir_param_int(n, RT_MEL_DFT_LENGTH, dft_len);
    return ir_set_out(n, 0, dt, 2, dims);
}
