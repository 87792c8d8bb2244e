/* conv.c: shapes and parameters of Conv, ConvTranspose, DeformConv, the pools and Col2Im. */
#include <float.h>
#include <string.h>

#include "ir.h"

#define MAX_SP 3 /* spatial axes the kernels handle */

enum { PAD_NOTSET, PAD_SAME_UPPER, PAD_SAME_LOWER, PAD_VALID };

/* The window attributes Conv, ConvTranspose and the pools share. */
typedef struct Window {
    int nsp;                     /* spatial axes */
    int auto_pad;                /* PAD_* */
    int64_t k[MAX_SP], st[MAX_SP], dil[MAX_SP], pb[MAX_SP], pe[MAX_SP];
} Window;

/* Kernel sizes, strides, dilations and pads beyond this are no real model's,
 * and bounding them keeps every extent product below (the tensor-elems
 * limit of 2^32) * 2^24, far from int64 overflow. */
#define MAX_WINDOW_ATTR ((int64_t)1 << 24)

/* Reads an INTS attribute of exactly len values into out, or fills def. */
static int ints_attr(Diag *d, const Node *n, const char *name, int len, int64_t def,
                     int64_t min, int64_t *out)
{
    int64_t v[2 * MAX_SP];
    int k = ir_attr_ints(n, name, v, 2 * MAX_SP);
    if (k < 0) {
        for (int i = 0; i < len; i++)
            out[i] = def;
        return 0;
    }
    if (k != len)
        return ir_node_error(d, n, "attribute '%s' has %d values, expected %d", name, k, len);
    for (int i = 0; i < len; i++) {
        if (v[i] < min)
            return ir_node_error(d, n, "attribute '%s' has value %lld (must be >= %lld)", name,
                                 (long long)v[i], (long long)min);
        if (v[i] > MAX_WINDOW_ATTR)
            return ir_node_error(d, n, "attribute '%s' has value %lld (must be <= %lld)", name,
                                 (long long)v[i], (long long)MAX_WINDOW_ATTR);
        out[i] = v[i];
    }
    return 0;
}

/* Reads kernel_shape (or takes wk, the weight's spatial extent), strides,
 * dilations, pads and auto_pad for an input of rank nsp + 2. */
static int read_window(Diag *d, const Node *n, int nsp, const int64_t *wk, Window *w)
{
    if (nsp < 1 || nsp > MAX_SP)
        return ir_node_error(d, n, "%d spatial axes are not supported (1 to %d)", nsp, MAX_SP);
    w->nsp = nsp;
    int64_t ks[MAX_SP] = {0};
    int has_k = ir_attr(n, "kernel_shape") != NULL;
    if (has_k && ints_attr(d, n, "kernel_shape", nsp, 1, 1, ks))
        return -1;
    if (!has_k && !wk)
        return ir_node_error(d, n, "attribute 'kernel_shape' is required");
    for (int i = 0; i < nsp; i++) {
        if (has_k && wk && ks[i] != wk[i])
            return ir_node_error(d, n, "kernel_shape[%d] = %lld but the weight has %lld", i,
                                 (long long)ks[i], (long long)wk[i]);
        w->k[i] = has_k ? ks[i] : wk[i];
        if (w->k[i] < 1)
            return ir_node_error(d, n, "kernel extent %d is %lld", i, (long long)w->k[i]);
    }
    int64_t pads[2 * MAX_SP];
    if (ints_attr(d, n, "strides", nsp, 1, 1, w->st) ||
        ints_attr(d, n, "dilations", nsp, 1, 1, w->dil) ||
        ints_attr(d, n, "pads", 2 * nsp, 0, 0, pads))
        return -1;
    for (int i = 0; i < nsp; i++) {
        w->pb[i] = pads[i];
        w->pe[i] = pads[nsp + i];
    }
    const char *ap = ir_attr_str(n, "auto_pad", "NOTSET");
    if (!strcmp(ap, "NOTSET") || !ap[0])
        w->auto_pad = PAD_NOTSET;
    else if (!strcmp(ap, "SAME_UPPER"))
        w->auto_pad = PAD_SAME_UPPER;
    else if (!strcmp(ap, "SAME_LOWER"))
        w->auto_pad = PAD_SAME_LOWER;
    else if (!strcmp(ap, "VALID"))
        w->auto_pad = PAD_VALID;
    else
        return ir_node_error(d, n, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, "
                             "VALID", ap);
    if (w->auto_pad == PAD_VALID)
        for (int i = 0; i < nsp; i++)
            w->pb[i] = w->pe[i] = 0;
    return 0;
}

/* Output extents of a forward window (Conv, pools) over in[0..nsp); resolves
 * SAME padding into w->pb/pe. ceil_mode applies to explicit padding only. */
static int forward_extents(Diag *d, const Node *n, Window *w, const int64_t *in, int ceil_mode,
                           int64_t *out)
{
    for (int i = 0; i < w->nsp; i++) {
        int64_t ext = (w->k[i] - 1) * w->dil[i] + 1;
        if (w->auto_pad == PAD_SAME_UPPER || w->auto_pad == PAD_SAME_LOWER) {
            out[i] = (in[i] + w->st[i] - 1) / w->st[i];
            int64_t total = (out[i] - 1) * w->st[i] + ext - in[i];
            if (total < 0)
                total = 0;
            w->pb[i] = w->auto_pad == PAD_SAME_UPPER ? total / 2 : total - total / 2;
            w->pe[i] = total - w->pb[i];
        } else {
            int64_t span = in[i] + w->pb[i] + w->pe[i] - ext;
            if (span < 0)
                return ir_node_error(d, n, "the window (extent %lld) is larger than the padded "
                                     "input (%lld) on spatial axis %d", (long long)ext,
                                     (long long)(in[i] + w->pb[i] + w->pe[i]), i);
            out[i] = (ceil_mode ? (span + w->st[i] - 1) / w->st[i] : span / w->st[i]) + 1;
            /* the last window must start inside the input or its begin padding */
            if (ceil_mode && (out[i] - 1) * w->st[i] >= in[i] + w->pb[i])
                out[i]--;
        }
    }
    return 0;
}

/* The window's runs at the slots given; a slot of -1 leaves that run out. */
static void param_window(Node *n, const Window *w, int k, int st, int dil, int pb, int pe)
{
    if (k >= 0)
        ir_param_ints(n, k, w->k, w->nsp);
    ir_param_ints(n, st, w->st, w->nsp);
    ir_param_ints(n, dil, w->dil, w->nsp);
    ir_param_ints(n, pb, w->pb, w->nsp);
    if (pe >= 0)
        ir_param_ints(n, pe, w->pe, w->nsp);
}

/* X, W (same float dtype, same rank >= 3) and optional bias of extent nb. */
static int check_xwb(Diag *d, const Node *n, int64_t nb)
{
    const Value *x = ir_input(n, 0), *w = ir_input(n, 1), *b = ir_input(n, 2);
    if (!x || !w)
        return ir_node_error(d, n, "input %d is missing", x ? 1 : 0);
    if (!rt_is_float(x->dtype))
        return ir_node_error(d, n, "dtype %s is not supported (float types only)",
                             rt_dtype_name(x->dtype));
    if (w->dtype != x->dtype)
        return ir_node_error(d, n, "W has dtype %s, X has %s", rt_dtype_name(w->dtype),
                             rt_dtype_name(x->dtype));
    if (x->rank < 3 || w->rank != x->rank)
        return ir_node_error(d, n, "X (rank %d) and W (rank %d) must have the same rank >= 3",
                             x->rank, w->rank);
    if (b && (b->dtype != x->dtype || b->rank != 1 || b->dims[0] != nb))
        return ir_node_error(d, n, "bias must be a 1-D %s tensor of %lld values",
                             rt_dtype_name(x->dtype), (long long)nb);
    return 0;
}

/* ---- Conv ---- */

/* FusedConv (com.microsoft, what ONNX Runtime's fusions produce and pass_fuse
 * targets): Conv, plus the optional sum input Z (Y's shape), plus an
 * activation, all applied as the kernel stores Y. Activations: ONNX
 * Runtime's Relu, Clip, LeakyRelu, HardSigmoid, and onnxcc's HardSwish and
 * Swish (x * Sigmoid(x)); all but Relu and Clip need float32. */
static int fused_activation(Diag *d, Node *n, const Value *x, int rank, const int64_t *dims)
{
    const char *act = ir_attr_str(n, "activation", NULL);
    const Value *z = ir_input(n, 3);
    if (z) {
        int ok = z->dtype == x->dtype && z->rank == rank;
        for (int i = 0; ok && i < rank; i++)
            ok = z->dims[i] == dims[i];
        if (!ok)
            return ir_node_error(d, n, "the sum input Z must have Y's dtype and shape");
        if (x->dtype != RT_F32)
            return ir_node_error(d, n, "the sum input Z is supported for float32 only");
    }
    if (!act && !z)
        return 0;
    int kind = RT_EPI_NONE;
    float p[2] = {0, 0};
    int np = act ? ir_attr_floats(n, "activation_params", p, 2) : -1;
    if (!act) {
        kind = RT_EPI_NONE;
    } else if (!strcmp(act, "Relu")) {
        kind = RT_EPI_CLAMP;
        p[0] = 0;
        p[1] = FLT_MAX;
    } else if (!strcmp(act, "Clip") && np == 2) {
        kind = RT_EPI_CLAMP;
    } else if (!strcmp(act, "LeakyRelu") && np <= 1) {
        kind = RT_EPI_LEAKY;
        p[0] = np == 1 ? p[0] : 0.01f;
    } else if (!strcmp(act, "HardSigmoid") && (np == 2 || np < 0)) {
        kind = RT_EPI_HARD_SIGMOID;
        if (np < 0) {
            p[0] = 0.2f;
            p[1] = 0.5f;
        }
    } else if (!strcmp(act, "HardSwish")) {
        kind = RT_EPI_HARD_SWISH;
    } else if (!strcmp(act, "Swish")) {
        kind = RT_EPI_SWISH;
    } else {
        return ir_node_error(d, n, "fused activation '%s' is not supported (Relu, Clip, "
                             "LeakyRelu, HardSigmoid, HardSwish, Swish)", act);
    }
    if (kind > RT_EPI_CLAMP && x->dtype != RT_F32)
        return ir_node_error(d, n, "fused activation '%s' is supported for float32 only", act);
    ir_param_int(n, RT_CONV_CLAMP(n->ints[RT_CONV_NSP]), kind);
    ir_param_float(n, RT_CONV_F_LO, p[0]);
    ir_param_float(n, RT_CONV_F_HI, p[1]);
    return 0;
}

/* FusedConv's optional 5th input S (onnxcc's, from pass_fuse): X's channels
 * scaled by S [N, C, 1, ...] before a pointwise (1x1, stride 1, unpadded)
 * float32 convolution, the Mul of a squeeze-excite block folded in. With a
 * 6th input T of S's shape, X becomes max(S X + T, 0): a BatchNormalization
 * and Relu before the Conv folded in. */
static int channel_scale(Diag *d, const Node *n, const Value *x, const Window *win)
{
    const Value *s = ir_input(n, 4), *t = ir_input(n, 5);
    if (!s && !t)
        return 0;
    int ok = s && n->op == OP_FUSED_CONV && x->dtype == RT_F32 && s->dtype == RT_F32 &&
             s->rank == x->rank && s->dims[0] == x->dims[0] && s->dims[1] == x->dims[1];
    for (int i = 2; ok && i < s->rank; i++)
        ok = s->dims[i] == 1;
    for (int i = 0; ok && i < win->nsp; i++)
        ok = win->k[i] == 1 && win->st[i] == 1 && win->pb[i] == 0 && win->pe[i] == 0;
    if (ok && t) {
        ok = t->dtype == RT_F32 && t->rank == s->rank;
        for (int i = 0; ok && i < s->rank; i++)
            ok = t->dims[i] == s->dims[i];
    }
    if (!ok)
        return ir_node_error(d, n, "the channel scale S (and shift T) must be float32 "
                             "[N, C, 1...] of a pointwise float32 FusedConv");
    return 0;
}

int ir_infer_conv(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Value *x = ir_input(n, 0), *w = ir_input(n, 1);
    if (check_xwb(d, n, w ? w->dims[0] : 0))
        return -1;
    int64_t group = ir_attr_int(n, "group", 1);
    if (group < 1 || x->dims[1] != w->dims[1] * group || w->dims[0] % group)
        return ir_node_error(d, n, "channels do not match: X has %lld, W is %lldx%lld, group "
                             "%lld", (long long)x->dims[1], (long long)w->dims[0],
                             (long long)w->dims[1], (long long)group);
    Window win;
    int64_t dims[IR_MAX_RANK];
    if (read_window(d, n, x->rank - 2, w->dims + 2, &win) ||
        forward_extents(d, n, &win, x->dims + 2, 0, dims + 2))
        return -1;
    dims[0] = x->dims[0];
    dims[1] = w->dims[0];
    ir_param_int(n, RT_CONV_GROUP, group);
    ir_param_int(n, RT_CONV_NSP, win.nsp);
    param_window(n, &win, -1, RT_CONV_STRIDES, RT_CONV_DIL(win.nsp), RT_CONV_PADS(win.nsp), -1);
    if (fused_activation(d, n, x, x->rank, dims) < 0 || channel_scale(d, n, x, &win) < 0)
        return -1;
    return ir_set_out(n, 0, x->dtype, x->rank, dims);
}

/* ---- ConvTranspose ---- */

int ir_infer_conv_transpose(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Value *x = ir_input(n, 0), *w = ir_input(n, 1);
    int64_t group = ir_attr_int(n, "group", 1);
    if (check_xwb(d, n, w ? w->dims[1] * group : 0))
        return -1;
    if (group < 1 || x->dims[1] != w->dims[0] || w->dims[0] % group)
        return ir_node_error(d, n, "channels do not match: X has %lld, W has %lld, group %lld",
                             (long long)x->dims[1], (long long)w->dims[0], (long long)group);
    Window win;
    int nsp = x->rank - 2;
    if (read_window(d, n, nsp, w->dims + 2, &win))
        return -1;
    int64_t opad[MAX_SP], oshape[MAX_SP + 2], dims[IR_MAX_RANK];
    if (ints_attr(d, n, "output_padding", nsp, 0, 0, opad))
        return -1;
    int nos = ir_attr_ints(n, "output_shape", oshape, MAX_SP + 2);
    if (nos >= 0 && nos != nsp && nos != nsp + 2)
        return ir_node_error(d, n, "output_shape has %d values, expected %d", nos, nsp);
    const int64_t *os = nos == nsp + 2 ? oshape + 2 : oshape;
    for (int i = 0; i < nos && i < nsp; i++)
        if (os[i] < 1 || os[i] > MAX_WINDOW_ATTR * MAX_WINDOW_ATTR)
            return ir_node_error(d, n, "output_shape[%d] is %lld", i, (long long)os[i]);
    for (int i = 0; i < nsp; i++) {
        int64_t in = x->dims[2 + i], ext = (win.k[i] - 1) * win.dil[i] + 1;
        int64_t full = win.st[i] * (in - 1) + opad[i] + ext;
        int64_t o;
        if (nos >= 0 || win.auto_pad == PAD_SAME_UPPER || win.auto_pad == PAD_SAME_LOWER) {
            o = nos >= 0 ? os[i] : in * win.st[i];
            /* ONNX Operators.md ConvTranspose: total padding split with the
             * extra unit at the end for SAME_UPPER, at the start otherwise.
             * A negative total (the target exceeds the natural extent): an
             * output_shape is reached by zeros at the end, SAME keeps the
             * natural extent, both as ONNX Runtime does. */
            int64_t total = full - o;
            if (total < 0) {
                win.pb[i] = 0;
                win.pe[i] = nos >= 0 ? total : 0;
                o = full - win.pe[i];
            } else if (win.auto_pad == PAD_SAME_UPPER) {
                win.pb[i] = total / 2;
                win.pe[i] = total - win.pb[i];
            } else {
                win.pe[i] = total / 2;
                win.pb[i] = total - win.pe[i];
            }
        } else {
            o = full - win.pb[i] - win.pe[i];
        }
        if (o < 1)
            return ir_node_error(d, n, "output extent %lld on spatial axis %d", (long long)o, i);
        dims[2 + i] = o;
    }
    dims[0] = x->dims[0];
    dims[1] = w->dims[1] * group;
    ir_param_int(n, RT_CONV_GROUP, group);
    ir_param_int(n, RT_CONV_NSP, nsp);
    param_window(n, &win, -1, RT_CONV_STRIDES, RT_CONV_DIL(nsp), RT_CONV_PADS(nsp), -1);
    return ir_set_out(n, 0, x->dtype, x->rank, dims);
}

/* ---- MaxPool, AveragePool, LpPool ---- */

/* LpPool's p: an int from opset 2, a float in opset 1; the kernel takes a float. */
static int lp_exponent(Diag *d, const Node *n, float *p)
{
    const Attr *a = ir_attr(n, "p");
    if (!a)
        *p = 2;
    else if (a->type == AT_INT && a->i >= 1 && a->i <= 1024)
        *p = (float)a->i;
    else if (a->type == AT_FLOAT && n->opset < 2 && a->f >= 1 && a->f <= 1024)
        *p = a->f;
    else
        return ir_node_error(d, n, "attribute 'p' must be an integer from 1 to 1024%s",
                             n->opset < 2 ? " (a float in opset 1)" : "");
    return 0;
}

int ir_infer_pool(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Value *x = ir_input(n, 0);
    if (!x)
        return ir_node_error(d, n, "input 0 is missing");
    int is_max = n->op == OP_MAX_POOL, is_lp = n->op == OP_LP_POOL;
    int ok = rt_is_float(x->dtype) || (is_max && (x->dtype == RT_I8 || x->dtype == RT_U8));
    if (!ok)
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(x->dtype));
    if (x->rank < 3)
        return ir_node_error(d, n, "X must have rank >= 3 (N, C, D1, ...), got %d", x->rank);
    Window win;
    int64_t dims[IR_MAX_RANK];
    int ceil_mode = ir_attr_int(n, "ceil_mode", 0) != 0;
    if (read_window(d, n, x->rank - 2, NULL, &win) ||
        forward_extents(d, n, &win, x->dims + 2, ceil_mode, dims + 2))
        return -1;
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    int64_t storage = ir_attr_int(n, "storage_order", 0);
    if (storage != 0 && storage != 1)
        return ir_node_error(d, n, "storage_order must be 0 or 1");
    if (n->n_out > 1 && n->out[1]) {
        if (!is_max || n->n_out > 2)
            return ir_node_error(d, n, "has %d outputs", n->n_out);
        ir_set_out(n, 1, RT_I64, x->rank, dims);
    }
    if (is_lp) {
        float p = 2;
        if (lp_exponent(d, n, &p))
            return -1;
        ir_param_float(n, RT_POOL_F_P, p);
    }
    ir_param_int(n, RT_POOL_MODE, is_max ? RT_POOL_MAX : is_lp ? RT_POOL_LP : RT_POOL_AVG);
    ir_param_int(n, RT_POOL_NSP, win.nsp);
    ir_param_int(n, RT_POOL_INCLUDE_PAD, ir_attr_int(n, "count_include_pad", 0) != 0);
    ir_param_int(n, RT_POOL_STORAGE, storage);
    param_window(n, &win, RT_POOL_KERNEL, RT_POOL_STRIDES(win.nsp), RT_POOL_DIL(win.nsp),
                 RT_POOL_PADS_BEGIN(win.nsp), RT_POOL_PADS_END(win.nsp));
    return ir_set_out(n, 0, x->dtype, x->rank, dims);
}

/* ---- GlobalAveragePool, GlobalMaxPool ---- */

int ir_infer_global_pool(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Value *x = ir_input(n, 0);
    if (!x)
        return ir_node_error(d, n, "input 0 is missing");
    if (!rt_is_float(x->dtype))
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(x->dtype));
    if (x->rank < 2)
        return ir_node_error(d, n, "X must have rank >= 2 (N, C, ...), got %d", x->rank);
    int64_t dims[IR_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        dims[i] = i < 2 ? x->dims[i] : 1;
    ir_param_int(n, RT_GLOBAL_POOL_MODE, n->op == OP_GLOBAL_MAX_POOL ? RT_POOL_MAX : RT_POOL_AVG);
    return ir_set_out(n, 0, x->dtype, x->rank, dims);
}

/* ---- Col2Im (opset 18) ---- */

/* input [N, C * prod(block), L], image_shape and block_shape constant [nsp];
 * L must be the count of block positions the window slides over. */
int ir_infer_col2im(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Value *x = ir_input(n, 0);
    if (!x || !ir_input(n, 1) || !ir_input(n, 2))
        return ir_node_error(d, n, "needs 3 inputs (input, image_shape, block_shape)");
    if (!rt_is_float(x->dtype))
        return ir_node_error(d, n, "dtype %s is not supported (float types only)",
                             rt_dtype_name(x->dtype));
    if (x->rank != 3)
        return ir_node_error(d, n, "input must have rank 3 [N, C*prod(block_shape), L], got %d",
                             x->rank);
    int64_t img[MAX_SP + 1], blk[MAX_SP + 1];
    int nsp = ir_const_ints(n->in[1], img, MAX_SP + 1);
    if (nsp < 0)
        return ir_err_not_const(d, n, 1);
    int nb = ir_const_ints(n->in[2], blk, MAX_SP + 1);
    if (nb < 0)
        return ir_err_not_const(d, n, 2);
    if (nsp < 1 || nsp > MAX_SP || nb != nsp)
        return ir_node_error(d, n, "image_shape (%d values) and block_shape (%d) must have the "
                             "same length, 1 to %d", nsp, nb, MAX_SP);
    Window w = {.nsp = nsp};
    int64_t pads[2 * MAX_SP];
    if (ints_attr(d, n, "strides", nsp, 1, 1, w.st) ||
        ints_attr(d, n, "dilations", nsp, 1, 1, w.dil) ||
        ints_attr(d, n, "pads", 2 * nsp, 0, 0, pads))
        return -1;
    int64_t blocks = 1, positions = 1, grid[MAX_SP], dims[2 + MAX_SP];
    for (int i = 0; i < nsp; i++) {
        if (img[i] < 1 || img[i] > MAX_WINDOW_ATTR || blk[i] < 1 || blk[i] > MAX_WINDOW_ATTR)
            return ir_node_error(d, n, "image_shape[%d] = %lld and block_shape[%d] = %lld must "
                                 "be positive", i, (long long)img[i], i, (long long)blk[i]);
        w.k[i] = blk[i];
        w.pb[i] = pads[i];
        w.pe[i] = pads[nsp + i];
        int64_t span = img[i] + w.pb[i] + w.pe[i] - ((blk[i] - 1) * w.dil[i] + 1);
        if (span < 0)
            return ir_node_error(d, n, "the block (extent %lld) is larger than the padded image "
                                 "(%lld) on axis %d", (long long)((blk[i] - 1) * w.dil[i] + 1),
                                 (long long)(img[i] + w.pb[i] + w.pe[i]), i);
        grid[i] = span / w.st[i] + 1;
        blocks *= blk[i];
        positions *= grid[i];
        dims[2 + i] = img[i];
    }
    if (x->dims[1] % blocks || x->dims[2] != positions)
        return ir_node_error(d, n, "input is [%lld, %lld, %lld]: dimension 1 must be a multiple "
                             "of prod(block_shape) = %lld and dimension 2 the %lld block "
                             "positions", (long long)x->dims[0], (long long)x->dims[1],
                             (long long)x->dims[2], (long long)blocks, (long long)positions);
    dims[0] = x->dims[0];
    dims[1] = x->dims[1] / blocks;
    ir_param_int(n, RT_COL2IM_NSP, nsp);
    ir_param_ints(n, RT_COL2IM_BLOCK, w.k, nsp);
    ir_param_ints(n, RT_COL2IM_STRIDES(nsp), w.st, nsp);
    ir_param_ints(n, RT_COL2IM_DIL(nsp), w.dil, nsp);
    ir_param_ints(n, RT_COL2IM_PADS(nsp), w.pb, nsp);
    ir_param_ints(n, RT_COL2IM_GRID(nsp), grid, nsp);
    return ir_set_out(n, 0, x->dtype, 2 + nsp, dims);
}

/* ---- DeformConv (opset 19) ---- */

/* X [N, C, H, W], W [M, C/group, kH, kW], offset [N, og*2*kH*kW, oH, oW],
 * optional B [M] and mask [N, og*kH*kW, oH, oW]. 2-D only, as ONNX's
 * reference. */
int ir_infer_deform_conv(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Value *x = ir_input(n, 0), *w = ir_input(n, 1), *off = ir_input(n, 2);
    const Value *b = ir_input(n, 3), *mask = ir_input(n, 4);
    if (!x || !w || !off)
        return ir_node_error(d, n, "input %d is missing", !x ? 0 : !w ? 1 : 2);
    if (!rt_is_float(x->dtype) || w->dtype != x->dtype)
        return ir_node_error(d, n, "X (%s) and W (%s) must have one float dtype",
                             rt_dtype_name(x->dtype), rt_dtype_name(w->dtype));
    if (x->rank != 4 || w->rank != 4)
        return ir_node_error(d, n, "only 2-D deformable convolution is supported (X and W of "
                             "rank 4, got %d and %d)", x->rank, w->rank);
    if (b && (b->dtype != x->dtype || b->rank != 1 || b->dims[0] != w->dims[0]))
        return ir_node_error(d, n, "B must be a 1-D %s tensor of %lld values",
                             rt_dtype_name(x->dtype), (long long)w->dims[0]);
    int64_t group = ir_attr_int(n, "group", 1), og = ir_attr_int(n, "offset_group", 1);
    if (group < 1 || x->dims[1] != w->dims[1] * group || w->dims[0] % group)
        return ir_node_error(d, n, "channels do not match: X has %lld, W is %lldx%lld, group "
                             "%lld", (long long)x->dims[1], (long long)w->dims[0],
                             (long long)w->dims[1], (long long)group);
    if (og < 1 || x->dims[1] % og)
        return ir_node_error(d, n, "offset_group %lld does not divide the %lld channels",
                             (long long)og, (long long)x->dims[1]);
    Window win;
    int64_t dims[4];
    if (read_window(d, n, 2, w->dims + 2, &win) ||
        forward_extents(d, n, &win, x->dims + 2, 0, dims + 2))
        return -1;
    dims[0] = x->dims[0];
    dims[1] = w->dims[0];
    int64_t taps = win.k[0] * win.k[1];
    const Value *v[2] = {off, mask};
    for (int i = 0; i < 2; i++) {
        if (!v[i])
            continue;
        int64_t want = og * taps * (i ? 1 : 2);
        if (v[i]->dtype != x->dtype || v[i]->rank != 4 || v[i]->dims[0] != dims[0] ||
            v[i]->dims[1] != want || v[i]->dims[2] != dims[2] || v[i]->dims[3] != dims[3])
            return ir_node_error(d, n, "%s must be a %s tensor [%lld, %lld, %lld, %lld]",
                                 i ? "mask" : "offset", rt_dtype_name(x->dtype),
                                 (long long)dims[0], (long long)want, (long long)dims[2],
                                 (long long)dims[3]);
    }
    ir_param_int(n, RT_DEFORM_GROUP, group);
    ir_param_int(n, RT_DEFORM_OFFSET_GROUP, og);
    param_window(n, &win, -1, RT_DEFORM_STRIDES, RT_DEFORM_DIL, RT_DEFORM_PADS, -1);
    return ir_set_out(n, 0, x->dtype, 4, dims);
}
