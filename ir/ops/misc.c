/* misc.c: shapes and parameters of TopK, MVN, Det, Einsum, the grid ops, MaxUnpool, RoiAlign. */
#include <string.h>

#include "ir.h"
#include "shape_util.h"

/* TopK: k is an attribute in opset 1 and a constant 1-element input from 10. */
int ir_infer_topk(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (x->rank < 1)
        return ir_node_error(d, n, "input must have rank >= 1");
    if (!rt_is_float(x->dtype) && !mv_is_int(x->dtype))
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(x->dtype));
    int axis = ir_axis(ir_attr_int(n, "axis", -1), x->rank);
    if (axis < 0)
        return ir_node_error(d, n, "axis is out of range for rank %d", x->rank);
    int64_t k;
    if (n->opset < 10) {
        k = ir_attr_int(n, "k", -1);
    } else {
        const Value *kv = ir_input(n, 1);
        if (!kv)
            return ir_node_error(d, n, "input K is missing");
        if (ir_rt_value_inputs(n)) {
            /* k read when it runs, at most the axis extent (RT_EBOUND past it) */
            if (ir_numel(kv) != 1 || !mv_is_int(kv->dtype))
                return ir_node_error(d, n, "K must hold one integer");
            ir_param_int(n, RT_TOPK_AXIS, axis);
            ir_param_int(n, RT_TOPK_K, -1);
            ir_param_int(n, RT_TOPK_LARGEST, ir_attr_int(n, "largest", 1) != 0);
            ir_set_out(n, 0, x->dtype, x->rank, x->dims);
            return ir_set_out(n, 1, RT_I64, x->rank, x->dims);
        }
        if (ir_const_ints(kv, &k, 1) != 1)
            return ir_err_not_const(d, n, 1);
    }
    if (k < 0 || k > x->dims[axis])
        return ir_node_error(d, n, "k = %lld is out of range for axis of size %lld",
                             (long long)k, (long long)x->dims[axis]);
    int64_t largest = ir_attr_int(n, "largest", 1);
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = k;
    ir_param_int(n, RT_TOPK_AXIS, axis);
    ir_param_int(n, RT_TOPK_K, k);
    ir_param_int(n, RT_TOPK_LARGEST, largest != 0);
    ir_set_out(n, 0, x->dtype, x->rank, dims);
    return ir_set_out(n, 1, RT_I64, x->rank, dims);
}

/* MeanVarianceNormalization: axes default to [0, 2, 3] (per channel of NCHW). */
int ir_infer_mvn(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (!rt_is_float(x->dtype))
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(x->dtype));
    int64_t axes[IR_MAX_RANK] = {0, 2, 3};
    int na = ir_attr_ints(n, "axes", axes, IR_MAX_RANK);
    if (na < 0)
        na = 3;
    if (na > IR_MAX_RANK)
        return ir_node_error(d, n, "too many axes");
    int64_t mask = 0;
    for (int i = 0; i < na; i++) {
        int a = ir_axis(axes[i], x->rank);
        if (a < 0)
            return ir_node_error(d, n, "axis %lld is out of range for rank %d",
                                 (long long)axes[i], x->rank);
        mask |= (int64_t)1 << a;
    }
    ir_param_int(n, RT_MVN_MASK, mask);
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* Det: [*, M, M] -> [*]; the kernel's LU works in a fixed 64x64 buffer. */
int ir_infer_det(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (!rt_is_float(x->dtype))
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(x->dtype));
    if (x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2])
        return ir_node_error(d, n, "input must be [*, M, M]");
    if (x->dims[x->rank - 1] > 64)
        return ir_node_error(d, n, "matrices larger than 64x64 are not supported");
    return ir_set_out(n, 0, x->dtype, x->rank - 2, x->dims);
}

#define EIN_MAX_IN 8
#define EIN_MAX_L 26

/* One operand's subscripts: label ids, with ellipsis dims given ids from
 * 52 up (one per broadcast position, counted from the right). */
typedef struct EinTerm {
    int n;                       /* number of subscripts (= rank once expanded) */
    int lab[IR_MAX_RANK];        /* 0..51 letters, 52+ ellipsis positions */
} EinTerm;

static int ein_letter(char ch)
{
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a';
    if (ch >= 'A' && ch <= 'Z')
        return 26 + ch - 'A';
    return -1;
}

/* Parses the subscripts in s[0..len) for an operand of the given rank (-1 for
 * the output, whose ellipsis width is ell). Returns -1 on a syntax error. */
static int ein_term(const char *s, int len, int rank, int *ell, EinTerm *t)
{
    int letters = 0, has_ell = 0;
    for (int i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (has_ell || i + 2 >= len + 0 || s[i + 1] != '.' || s[i + 2] != '.')
                return -1;
            has_ell = 1;
            i += 2;
        } else if (ein_letter(s[i]) >= 0) {
            letters++;
        } else if (s[i] != ' ') {
            return -1;
        }
    }
    int w = 0;
    if (has_ell) {
        w = rank >= 0 ? rank - letters : *ell;
        if (w < 0)
            return -1;
        if (rank >= 0 && w > *ell)
            *ell = w;
    } else if (rank >= 0 && letters != rank) {
        return -1;
    }
    if (letters + w > IR_MAX_RANK)
        return -1;
    t->n = 0;
    for (int i = 0; i < len; i++) {
        if (s[i] == '.') {
            for (int e = w; e > 0; e--)
                t->lab[t->n++] = 52 + e - 1;
            i += 2;
        } else if (ein_letter(s[i]) >= 0) {
            t->lab[t->n++] = ein_letter(s[i]);
        }
    }
    return 0;
}

/* Einsum: the equation becomes one loop over every distinct label; each
 * operand (and the output) reads a label through a stride, summed when a
 * label repeats in one operand (a diagonal) and 0 where it is absent or has
 * extent 1 (broadcast, as numpy.einsum allows). */
int ir_infer_einsum(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const char *eq = ir_attr_str(n, "equation", NULL);
    if (!eq)
        return ir_node_error(d, n, "attribute 'equation' is missing");
    int nin = n->n_in;
    if (nin < 1 || nin > EIN_MAX_IN)
        return ir_node_error(d, n, "%d operands; 1 to %d are supported", nin, EIN_MAX_IN);
    for (int i = 0; i < nin; i++)
        if (mv_need_input(d, n, i))
            return -1;
    int dt = n->in[0]->dtype;
    if (!rt_is_float(dt) && !mv_is_int(dt))
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(dt));
    EinTerm t[EIN_MAX_IN + 1];
    const char *arrow = strstr(eq, "->");
    int lhs_len = arrow ? (int)(arrow - eq) : (int)strlen(eq);
    int ell = 0, k = 0;
    const char *p = eq;
    while (1) {
        const char *comma = memchr(p, ',', (size_t)(eq + lhs_len - p));
        int len = comma ? (int)(comma - p) : (int)(eq + lhs_len - p);
        if (k >= nin)
            return ir_node_error(d, n, "equation '%s' has more operands than inputs", eq);
        if (ein_term(p, len, n->in[k]->rank, &ell, &t[k]))
            return ir_node_error(d, n, "equation '%s' does not match input %d of rank %d", eq,
                                 k, n->in[k]->rank);
        k++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (k != nin)
        return ir_node_error(d, n, "equation '%s' names %d operands for %d inputs", eq, k,
                             nin);
    int count[64] = {0};
    for (k = 0; k < nin; k++)
        for (int i = 0; i < t[k].n; i++)
            count[t[k].lab[i]]++;
    EinTerm *o = &t[nin];
    if (arrow) {
        if (ein_term(arrow + 2, (int)strlen(arrow + 2), -1, &ell, o))
            return ir_node_error(d, n, "bad output subscripts in '%s'", eq);
        for (int i = 0; i < o->n; i++)
            if (!count[o->lab[i]])
                return ir_node_error(d, n, "output label not found in inputs: '%s'", eq);
    } else {
        /* Implicit output: the ellipsis dims, then labels seen once, sorted. */
        o->n = 0;
        for (int e = ell; e > 0; e--)
            o->lab[o->n++] = 52 + e - 1;
        for (int l = 0; l < 52; l++)
            if (count[l] == 1) {
                if (o->n >= IR_MAX_RANK)
                    return ir_node_error(d, n, "output rank too large");
                o->lab[o->n++] = l;
            }
    }
    /* Number the labels densely, in order of first use, and find sizes. */
    int id[64], L = 0;
    int64_t size[EIN_MAX_L];
    for (int l = 0; l < 64; l++)
        id[l] = -1;
    for (k = 0; k <= nin; k++)
        for (int i = 0; i < t[k].n; i++) {
            int l = t[k].lab[i];
            if (id[l] < 0) {
                if (L >= EIN_MAX_L)
                    return ir_node_error(d, n, "more than %d labels", EIN_MAX_L);
                size[L] = 1;
                id[l] = L++;
            }
            if (k < nin) {
                int64_t e = n->in[k]->dims[i];
                int64_t *s = &size[id[l]];
                if (e != 1 && *s != 1 && e != *s)
                    return ir_node_error(d, n, "label sizes %lld and %lld disagree",
                                         (long long)e, (long long)*s);
                if (e != 1)
                    *s = e;
            }
        }
    if (RT_EINSUM_NINTS(L, nin) > IR_MAX_INTS)
        return ir_node_error(d, n, "equation too large for onnxcc's parameter limit");
    ir_param_int(n, RT_EINSUM_L, L);
    ir_param_ints(n, RT_EINSUM_SIZES, size, L);
    int64_t odims[IR_MAX_RANK];
    for (int i = 0; i < o->n; i++)
        odims[i] = size[id[o->lab[i]]];
    for (k = 0; k <= nin; k++) {
        int64_t st[EIN_MAX_L] = {0}, s = 1;
        for (int i = t[k].n - 1; i >= 0; i--) {
            int64_t e = k < nin ? n->in[k]->dims[i] : odims[i];
            if (e != 1)
                st[id[t[k].lab[i]]] += s;
            /* labels from different inputs multiply: the output can hold
             * more elements than any input */
            if (__builtin_mul_overflow(s, e, &s))
                return ir_node_error(d, n, "more elements than a 64-bit count holds");
        }
        ir_param_ints(n, RT_EINSUM_STRIDES(L, k), st, L);
    }
    return ir_set_out(n, 0, dt, o->n, odims);
}

/* GridSample: 2-D ([N, C, H, W] and a [N, Ho, Wo, 2] grid) and, from opset
 * 20, 3-D ([N, C, D, H, W] and a [N, Do, Ho, Wo, 3] grid, linear or nearest);
 * opset 16 names the modes bilinear/bicubic, opset 20 linear/cubic. */
int ir_infer_gridsample(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 2; i++)
        if (mv_need_input(d, n, i))
            return -1;
    const Value *x = n->in[0], *gr = n->in[1];
    if (!rt_is_float(x->dtype) || !rt_is_float(gr->dtype))
        return ir_node_error(d, n, "only float inputs are supported");
    int nsp = x->rank - 2;
    if ((nsp != 2 && nsp != 3) || gr->rank != x->rank || gr->dims[x->rank - 1] != nsp ||
        gr->dims[0] != x->dims[0])
        return ir_node_error(d, n, "only 2-D and 3-D sampling ([N,C,H,W] with a [N,Ho,Wo,2] "
                                   "grid, [N,C,D,H,W] with a [N,Do,Ho,Wo,3] grid) is supported");
    const char *mode = ir_attr_str(n, "mode", n->opset >= 20 ? "linear" : "bilinear");
    const char *pad = ir_attr_str(n, "padding_mode", "zeros");
    int m, p;
    if (!strcmp(mode, "bilinear") || !strcmp(mode, "linear"))
        m = 0;
    else if (!strcmp(mode, "nearest"))
        m = 1;
    else if (!strcmp(mode, "bicubic") || !strcmp(mode, "cubic"))
        m = 2;
    else
        return ir_node_error(d, n, "unknown mode '%s'", mode);
    if (m == 2 && nsp == 3)
        return ir_node_error(d, n, "mode '%s' is supported for 2-D sampling only", mode);
    if (!strcmp(pad, "zeros"))
        p = 0;
    else if (!strcmp(pad, "border"))
        p = 1;
    else if (!strcmp(pad, "reflection"))
        p = 2;
    else
        return ir_node_error(d, n, "unknown padding_mode '%s'", pad);
    ir_param_int(n, RT_GRIDSAMPLE_MODE, m);
    ir_param_int(n, RT_GRIDSAMPLE_PADDING, p);
    ir_param_int(n, RT_GRIDSAMPLE_ALIGN_CORNERS, ir_attr_int(n, "align_corners", 0) != 0);
    int64_t dims[5] = {x->dims[0], x->dims[1], gr->dims[1], gr->dims[2], gr->dims[3]};
    return ir_set_out(n, 0, x->dtype, x->rank, dims);
}

/* MaxUnpool: the output shape is output_shape (a constant input) when
 * given, else (in - 1) * stride + kernel - pads per spatial axis. */
int ir_infer_maxunpool(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 2; i++)
        if (mv_need_input(d, n, i))
            return -1;
    const Value *x = n->in[0], *ix = n->in[1];
    if (!mv_is_int(ix->dtype))
        return ir_node_error(d, n, "indices must be an integer tensor");
    if (x->rank < 3)
        return ir_node_error(d, n, "input must have rank >= 3");
    int ns = x->rank - 2;
    int64_t dims[IR_MAX_RANK], ks[IR_MAX_RANK], st[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
    if (ir_attr_ints(n, "kernel_shape", ks, IR_MAX_RANK) != ns)
        return ir_node_error(d, n, "kernel_shape must have %d values", ns);
    for (int i = 0; i < ns; i++) {
        st[i] = 1;
        pads[i] = pads[i + ns] = 0;
    }
    int k = ir_attr_ints(n, "strides", st, IR_MAX_RANK);
    if (k >= 0 && k != ns)
        return ir_node_error(d, n, "strides must have %d values", ns);
    k = ir_attr_ints(n, "pads", pads, 2 * IR_MAX_RANK);
    if (k >= 0 && k != 2 * ns)
        return ir_node_error(d, n, "pads must have %d values", 2 * ns);
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int i = 0; i < ns; i++) {
        dims[2 + i] = (x->dims[2 + i] - 1) * st[i] + ks[i] - pads[i] - pads[i + ns];
        if (dims[2 + i] < 1)
            return ir_node_error(d, n, "spatial axis %d would have no elements", i);
    }
    /* The indices address the default shape even when output_shape asks for
     * a larger one (ONNX's test_maxunpool_export_with_output_shape), so the
     * kernel gets the default shape to remap them. */
    ir_param_ints(n, RT_MAXUNPOOL_DIMS, dims, x->rank);
    const Value *os = ir_input(n, 2);
    if (os) {
        int64_t want[IR_MAX_RANK];
        k = ir_const_ints(os, want, IR_MAX_RANK);
        if (k < 0)
            return ir_err_not_const(d, n, 2);
        if (k != x->rank)
            return ir_node_error(d, n, "output_shape must have %d values", x->rank);
        for (int i = 0; i < x->rank; i++)
            if (want[i] < dims[i])
                return ir_node_error(d, n, "output_shape is smaller than the unpooled shape");
        return ir_set_out(n, 0, x->dtype, x->rank, want);
    }
    return ir_set_out(n, 0, x->dtype, x->rank, dims);
}

/* RoiAlign: opset 10 always works as output_half_pixel; opset 16 adds
 * coordinate_transformation_mode, defaulting to half_pixel. */
int ir_infer_roialign(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 3; i++)
        if (mv_need_input(d, n, i))
            return -1;
    const Value *x = n->in[0], *r = n->in[1], *b = n->in[2];
    if (!rt_is_float(x->dtype) || !rt_is_float(r->dtype))
        return ir_node_error(d, n, "only float inputs are supported");
    if (!mv_is_int(b->dtype))
        return ir_node_error(d, n, "batch_indices must be an integer tensor");
    if (x->rank != 4 || r->rank != 2 || r->dims[1] != 4 || b->rank != 1 ||
        b->dims[0] != r->dims[0])
        return ir_node_error(d, n, "expects X [N,C,H,W], rois [R,4], batch_indices [R]");
    const char *mode = ir_attr_str(n, "mode", "avg");
    if (strcmp(mode, "avg") && strcmp(mode, "max"))
        return ir_node_error(d, n, "unknown mode '%s'", mode);
    const char *ctm = ir_attr_str(n, "coordinate_transformation_mode",
                                  n->opset >= 16 ? "half_pixel" : "output_half_pixel");
    int half;
    if (!strcmp(ctm, "half_pixel"))
        half = 1;
    else if (!strcmp(ctm, "output_half_pixel"))
        half = 0;
    else
        return ir_node_error(d, n, "unknown coordinate_transformation_mode '%s'", ctm);
    int64_t oh = ir_attr_int(n, "output_height", 1), ow = ir_attr_int(n, "output_width", 1);
    int64_t sr = ir_attr_int(n, "sampling_ratio", 0);
    if (oh < 1 || ow < 1 || sr < 0)
        return ir_node_error(d, n, "output_height, output_width must be >= 1 and "
                                   "sampling_ratio >= 0");
    ir_param_int(n, RT_ROIALIGN_MAX, !strcmp(mode, "max"));
    ir_param_int(n, RT_ROIALIGN_HALF_PIXEL, half);
    ir_param_int(n, RT_ROIALIGN_SAMPLING_RATIO, sr);
    ir_param_float(n, RT_ROIALIGN_F_SPATIAL_SCALE, ir_attr_float(n, "spatial_scale", 1.0f));
    int64_t dims[4] = {r->dims[0], x->dims[1], oh, ow};
    return ir_set_out(n, 0, x->dtype, 4, dims);
}

/* AffineGrid (opset 20): theta [N, 2, 3] with size (constant) [N, C, H, W],
 * or theta [N, 3, 4] with size [N, C, D, H, W]; the grid GridSample reads. */
int ir_infer_affine_grid(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 2; i++)
        if (mv_need_input(d, n, i))
            return -1;
    const Value *th = n->in[0];
    if (!rt_is_float(th->dtype))
        return ir_node_error(d, n, "theta has dtype %s (float types only)",
                             rt_dtype_name(th->dtype));
    int64_t size[6];
    int ns = ir_const_ints(n->in[1], size, 6);
    if (ns < 0)
        return ir_err_not_const(d, n, 1);
    if (ns != 4 && ns != 5)
        return ir_node_error(d, n, "size has %d values: [N, C, H, W] or [N, C, D, H, W]", ns);
    int nsp = ns - 2;
    if (th->rank != 3 || th->dims[0] != size[0] || th->dims[1] != nsp || th->dims[2] != nsp + 1)
        return ir_node_error(d, n, "theta must be [%lld, %d, %d] for a size of %d values",
                             (long long)size[0], nsp, nsp + 1, ns);
    int64_t dims[5];
    dims[0] = size[0];
    for (int i = 0; i < nsp; i++) {
        if (size[2 + i] < 1)
            return ir_node_error(d, n, "size[%d] = %lld is not positive", 2 + i,
                                 (long long)size[2 + i]);
        dims[1 + i] = size[2 + i];
    }
    dims[1 + nsp] = nsp;
    ir_param_int(n, RT_AFFINE_GRID_ALIGN_CORNERS, ir_attr_int(n, "align_corners", 0) != 0);
    return ir_set_out(n, 0, th->dtype, nsp + 2, dims);
}
