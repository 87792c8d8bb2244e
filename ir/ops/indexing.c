/* indexing.c: shapes and parameters of index-driven ops: GatherElements, Scatter*, OneHot... */
#include <string.h>

#include "ir.h"
#include "shape_util.h"

/* ONNX types indices as int32 or int64; onnxcc takes any integer type. */
static int check_indices(Diag *d, const Node *n, int i)
{
    const Value *ix = n->in[i];
    if (!mv_is_int(ix->dtype))
        return ir_node_error(d, n, "indices must be an integer tensor, not %s",
                             rt_dtype_name(ix->dtype));
    return 0;
}

static int get_axis(Diag *d, const Node *n, int r, int64_t def, int *axis)
{
    int64_t a = ir_attr_int(n, "axis", def);
    *axis = ir_axis(a, r);
    if (r == 0 || *axis < 0)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d", (long long)a, r);
    return 0;
}

int ir_infer_gather_elements(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0) || mv_need_input(d, n, 1) || check_indices(d, n, 1))
        return -1;
    const Value *x = n->in[0], *ix = n->in[1];
    int axis;
    if (get_axis(d, n, x->rank, 0, &axis))
        return -1;
    if (ix->rank != x->rank)
        return ir_node_error(d, n, "indices have rank %d, data rank %d", ix->rank, x->rank);
    ir_param_int(n, RT_GATHER_ELEMENTS_AXIS, axis);
    return ir_set_out(n, 0, x->dtype, ix->rank, ix->dims);
}

static int reduction(Diag *d, const Node *n, int *red)
{
    const char *s = ir_attr_str(n, "reduction", "none");
    if (!strcmp(s, "none"))
        *red = RT_SCATTER_NONE;
    else if (!strcmp(s, "add"))
        *red = RT_SCATTER_ADD;
    else if (!strcmp(s, "mul"))
        *red = RT_SCATTER_MUL;
    else if (!strcmp(s, "max"))
        *red = RT_SCATTER_MAX;
    else if (!strcmp(s, "min"))
        *red = RT_SCATTER_MIN;
    else
        return ir_node_error(d, n, "reduction '%s' is not supported", s);
    return 0;
}

/* ScatterElements and the deprecated Scatter (opset 9-10) share the kernel. */
int ir_infer_scatter_elements(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 3; i++)
        if (mv_need_input(d, n, i))
            return -1;
    if (check_indices(d, n, 1))
        return -1;
    const Value *x = n->in[0], *ix = n->in[1], *u = n->in[2];
    int axis, red;
    if (get_axis(d, n, x->rank, 0, &axis) || reduction(d, n, &red))
        return -1;
    if (ix->rank != x->rank || u->rank != ix->rank || memcmp(u->dims, ix->dims,
                                                             sizeof(int64_t) * (size_t)ix->rank))
        return ir_node_error(d, n, "indices and updates must have the same shape and the "
                             "data's rank");
    if (u->dtype != x->dtype)
        return ir_node_error(d, n, "updates are %s but data is %s", rt_dtype_name(u->dtype),
                             rt_dtype_name(x->dtype));
    ir_param_int(n, RT_SCATTER_ELEMENTS_AXIS, axis);
    ir_param_int(n, RT_SCATTER_ELEMENTS_REDUCTION, red);
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

int ir_infer_gather_nd(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0) || mv_need_input(d, n, 1) || check_indices(d, n, 1))
        return -1;
    const Value *x = n->in[0], *ix = n->in[1];
    int64_t bd = ir_attr_int(n, "batch_dims", 0);
    if (ix->rank < 1)
        return ir_node_error(d, n, "indices must have rank >= 1");
    int64_t q = ix->dims[ix->rank - 1];
    if (bd < 0 || bd >= ix->rank || bd >= x->rank || q < 1 || bd + q > x->rank)
        return ir_node_error(d, n, "indices of last dim %lld and batch_dims %lld do not fit "
                             "data of rank %d", (long long)q, (long long)bd, x->rank);
    for (int k = 0; k < bd; k++)
        if (ix->dims[k] != x->dims[k])
            return ir_node_error(d, n, "batch dim %d differs between data and indices", k);
    int64_t dims[2 * IR_MAX_RANK];
    int r = 0;
    for (int k = 0; k < ix->rank - 1; k++)
        dims[r++] = ix->dims[k];
    for (int k = (int)(bd + q); k < x->rank; k++)
        dims[r++] = x->dims[k];
    if (r > IR_MAX_RANK)
        return ir_node_error(d, n, "output rank %d exceeds onnxcc's limit of %d", r,
                             IR_MAX_RANK);
    ir_param_int(n, RT_GATHER_ND_BATCH_DIMS, bd);
    return ir_set_out(n, 0, x->dtype, r, dims);
}

int ir_infer_scatter_nd(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 3; i++)
        if (mv_need_input(d, n, i))
            return -1;
    if (check_indices(d, n, 1))
        return -1;
    const Value *x = n->in[0], *ix = n->in[1], *u = n->in[2];
    int red;
    if (reduction(d, n, &red))
        return -1;
    if (ix->rank < 1)
        return ir_node_error(d, n, "indices must have rank >= 1");
    int64_t q = ix->dims[ix->rank - 1];
    int ur = ix->rank - 1 + x->rank - (int)q;
    if (q < 1 || q > x->rank || u->rank != ur)
        return ir_node_error(d, n, "updates of rank %d do not fit indices and data", u->rank);
    for (int k = 0; k < ix->rank - 1; k++)
        if (u->dims[k] != ix->dims[k])
            return ir_node_error(d, n, "updates dim %d differs from the indices'", k);
    for (int k = ix->rank - 1; k < ur; k++)
        if (u->dims[k] != x->dims[k - (ix->rank - 1) + q])
            return ir_node_error(d, n, "updates dim %d differs from the data's", k);
    if (u->dtype != x->dtype)
        return ir_node_error(d, n, "updates are %s but data is %s", rt_dtype_name(u->dtype),
                             rt_dtype_name(x->dtype));
    ir_param_int(n, RT_SCATTER_ND_REDUCTION, red);
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

int ir_infer_trilu(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0], *k = ir_input(n, 1);
    if (x->rank < 2)
        return ir_node_error(d, n, "input must have rank >= 2, not %d", x->rank);
    if (k && (!mv_is_int(k->dtype) || (ir_shape_known(k) && ir_numel(k) != 1)))
        return ir_node_error(d, n, "k must be one integer");
    ir_param_int(n, RT_TRILU_UPPER, ir_attr_int(n, "upper", 1) != 0);
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* CumSum, and CumProd (opset 26) with the same inputs and attributes. */
int ir_infer_cumsum(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0], *a = ir_input(n, 1);
    if (!a || !mv_is_int(a->dtype))
        return ir_node_error(d, n, "axis must be an integer tensor");
    if (x->rank == 0)
        return ir_node_error(d, n, "input must have rank >= 1");
    if (x->dtype == RT_BOOL)
        return ir_node_error(d, n, "dtype bool is not supported");
    double v;
    if (!ir_const_scalar(a, &v) && ir_axis((int64_t)v, x->rank) < 0)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d", (long long)v,
                             x->rank);
    ir_param_int(n, RT_CUMSUM_EXCLUSIVE, ir_attr_int(n, "exclusive", 0) != 0);
    ir_param_int(n, RT_CUMSUM_REVERSE, ir_attr_int(n, "reverse", 0) != 0);
    ir_param_int(n, RT_CUMSUM_PROD, n->op == OP_CUMPROD);
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* OneHot: depth decides the output shape: a constant, or read when it runs
 * (that axis bounded by --max-elements). */
int ir_infer_onehot(Graph *g, Node *n, Diag *d)
{
    for (int i = 0; i < 3; i++)
        if (mv_need_input(d, n, i))
            return -1;
    const Value *ix = n->in[0], *vals = n->in[2];
    double depth;
    int rt = ir_rt_value_inputs(n) != 0; /* depth read when it runs */
    if (rt && ir_numel(n->in[1]) != 1)
        return ir_node_error(d, n, "input 1 (depth) must hold one value");
    depth = rt ? (double)g->limits.v[LIM_RT_ELEMS] : 0;
    if (!rt && ir_const_scalar(n->in[1], &depth))
        return ir_err_not_const(d, n, 1);
    if (!(depth >= 1 && depth < 1e9))
        return ir_node_error(d, n, "depth %g is out of range", depth);
    if (ir_numel(vals) != 2)
        return ir_node_error(d, n, "values must hold [off_value, on_value]");
    int r = ix->rank + 1;
    if (r > IR_MAX_RANK)
        return ir_node_error(d, n, "output rank %d exceeds onnxcc's limit of %d", r,
                             IR_MAX_RANK);
    int axis;
    if (get_axis(d, n, r, -1, &axis))
        return -1;
    int64_t dims[IR_MAX_RANK];
    for (int k = 0, i = 0; k < r; k++)
        dims[k] = k == axis ? (int64_t)depth : ix->dims[i++];
    int64_t total;
    if (mv_numel(d, n, r, dims, &total))
        return -1;
    ir_param_int(n, RT_ONEHOT_AXIS, axis);
    return ir_set_out(n, 0, vals->dtype, r, dims);
}

/* Compress: the output extent counts the condition's true values, so the
 * condition must be a constant. Without an axis the input is flattened. */
int ir_infer_compress(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0) || mv_need_input(d, n, 1))
        return -1;
    const Value *x = n->in[0], *cd = n->in[1];
    if (cd->rank != 1 || (!mv_is_int(cd->dtype) && cd->dtype != RT_BOOL))
        return ir_node_error(d, n, "condition must be a 1-D bool tensor");
    if (!cd->data && !ir_rt_value_inputs(n))
        return ir_err_not_const(d, n, 1);
    const Attr *at = ir_attr(n, "axis");
    int axis = -1;
    int64_t dim = ir_numel(x);
    if (at && get_axis(d, n, x->rank, 0, &axis))
        return -1;
    if (axis >= 0)
        dim = x->dims[axis];
    /* a condition read when it runs keeps at most all of its len slices */
    int64_t len = cd->dims[0], kept = cd->data ? 0 : len;
    if (len > dim)
        return ir_node_error(d, n, "condition has %lld values for %lld slices",
                             (long long)len, (long long)dim);
    for (int64_t j = 0; cd->data && j < len; j++)
        kept += rt_load_i64(cd->data, cd->dtype, j) != 0;
    ir_param_int(n, RT_COMPRESS_AXIS, axis);
    if (axis < 0)
        return ir_set_out(n, 0, x->dtype, 1, &kept);
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = kept;
    return ir_set_out(n, 0, x->dtype, x->rank, dims);
}

int ir_infer_reverse_sequence(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0) || mv_need_input(d, n, 1))
        return -1;
    const Value *x = n->in[0], *sl = n->in[1];
    int r = x->rank;
    if (r < 2)
        return ir_node_error(d, n, "input must have rank >= 2, not %d", r);
    int ba = ir_axis(ir_attr_int(n, "batch_axis", 1), r);
    int ta = ir_axis(ir_attr_int(n, "time_axis", 0), r);
    if (ba < 0 || ta < 0 || ba == ta)
        return ir_node_error(d, n, "batch_axis and time_axis must be two different axes");
    if (!mv_is_int(sl->dtype) || sl->rank != 1 || sl->dims[0] != x->dims[ba])
        return ir_node_error(d, n, "sequence_lens must hold one integer per batch entry");
    ir_param_int(n, RT_REVERSE_SEQUENCE_BATCH_AXIS, ba);
    ir_param_int(n, RT_REVERSE_SEQUENCE_TIME_AXIS, ta);
    return ir_set_out(n, 0, x->dtype, r, x->dims);
}
