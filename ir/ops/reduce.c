/* reduce.c: shapes and kernel parameters of the Reduce* ops, ArgMax and ArgMin. */
#include "ir.h"

static int is_numeric(int dt)
{
    switch (dt) {
    case RT_F32: case RT_F64: case RT_F16: case RT_BF16:
    case RT_I8: case RT_I16: case RT_I32: case RT_I64:
    case RT_U8: case RT_U16: case RT_U32: case RT_U64:
        return 1;
    default:
        return 0;
    }
}

static int reduce_kind(int op)
{
    switch (op) {
    case OP_REDUCE_MEAN: return RT_REDUCE_MEAN;
    case OP_REDUCE_MAX: return RT_REDUCE_MAX;
    case OP_REDUCE_MIN: return RT_REDUCE_MIN;
    case OP_REDUCE_PROD: return RT_REDUCE_PROD;
    case OP_REDUCE_L1: return RT_REDUCE_L1;
    case OP_REDUCE_L2: return RT_REDUCE_L2;
    case OP_REDUCE_LOG_SUM: return RT_REDUCE_LOG_SUM;
    case OP_REDUCE_LOG_SUM_EXP: return RT_REDUCE_LOG_SUM_EXP;
    case OP_REDUCE_SUM_SQUARE: return RT_REDUCE_SUM_SQUARE;
    default: return RT_REDUCE_SUM;
    }
}

/* Axes known only when the node runs: the output rank follows from their
 * count (static), each extent is bounded by the input axes it may be, and
 * the kernel reads the axes too (RT_REDUCE_AXES_INPUT). */
static int reduce_at_run_time(Node *n, const Value *x, const Value *a, int keep, Diag *d)
{
    int64_t na = ir_numel(a), dims[IR_MAX_RANK];
    if (a->rank != 1)
        return ir_node_error(d, n, "axes must be 1-D, not rank %d", a->rank);
    if (na > x->rank)
        return ir_node_error(d, n, "axes has %lld values for an input of rank %d",
                             (long long)na, x->rank);
    int r = keep ? x->rank : x->rank - (int)na;
    for (int k = 0; k < r; k++) {
        /* kept: input axis k or a 1; else one of input axes k..k+na */
        dims[k] = keep && x->dims[k] < 1 ? 1 : x->dims[k];
        for (int j = k + 1; !keep && j <= k + na; j++)
            dims[k] = x->dims[j] > dims[k] ? x->dims[j] : dims[k];
    }
    ir_param_int(n, RT_REDUCE_OP, reduce_kind(n->op));
    ir_param_int(n, RT_REDUCE_MASK, RT_REDUCE_AXES_INPUT);
    ir_param_int(n, RT_REDUCE_KEEPDIMS, keep);
    return ir_set_out(n, 0, x->dtype, r, dims);
}

/* ReduceSum takes axes as an input from opset 13, the other Reduce* ops from
 * opset 18; before that axes is an attribute. Absent or empty axes reduce
 * everything unless noop_with_empty_axes makes the op an identity. */
int ir_infer_reduce(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Value *x = n->n_in > 0 ? n->in[0] : NULL;
    if (!x)
        return ir_node_error(d, n, "input 0 is missing");
    /* ReduceMax and ReduceMin-20 also take bool (any, all); the kernel's
     * integer path holds bools as 0 and 1 */
    int bool_ok = (n->op == OP_REDUCE_MAX || n->op == OP_REDUCE_MIN) && n->opset >= 20;
    if (!is_numeric(x->dtype) && !(x->dtype == RT_BOOL && bool_ok))
        return ir_node_error(d, n, "dtype %s is not supported%s", rt_dtype_name(x->dtype),
                             x->dtype == RT_BOOL && (n->op == OP_REDUCE_MAX ||
                                                     n->op == OP_REDUCE_MIN)
                                 ? " before opset 20"
                                 : "");
    int axes_input = n->opset >= (n->op == OP_REDUCE_SUM ? 13 : 18);
    int64_t axes[IR_MAX_RANK];
    int na;
    if (axes_input) {
        if (ir_attr(n, "axes"))
            return ir_node_error(d, n, "opset %lld takes axes as an input, not an attribute",
                                 (long long)n->opset);
        const Value *a = n->n_in > 1 ? n->in[1] : NULL;
        na = 0;
        if (a) {
            if (a->dtype != RT_I64 && a->dtype != RT_I32)
                return ir_node_error(d, n, "axes must be int64, not %s", rt_dtype_name(a->dtype));
            if (ir_numel(a) > IR_MAX_RANK)
                return ir_node_error(d, n, "axes has %lld values", (long long)ir_numel(a));
            if (ir_rt_value_inputs(n))
                return reduce_at_run_time(n, x, a, ir_attr_int(n, "keepdims", 1) != 0, d);
            na = ir_numel(a) == 0 ? 0 : ir_const_ints(a, axes, IR_MAX_RANK);
            if (na < 0)
                return ir_err_not_const(d, n, 1);
        }
    } else {
        na = ir_attr_ints(n, "axes", axes, IR_MAX_RANK);
        if (na > IR_MAX_RANK)
            return ir_node_error(d, n, "attribute 'axes' has %d values", na);
        if (na < 0)
            na = 0;
    }
    int keep = ir_attr_int(n, "keepdims", 1) != 0;
    int noop = axes_input && ir_attr_int(n, "noop_with_empty_axes", 0) != 0;
    int64_t mask = 0;
    for (int i = 0; i < na; i++) {
        int a = ir_axis(axes[i], x->rank);
        if (a < 0 || x->rank == 0)
            return ir_node_error(d, n, "axis %lld is out of range for rank %d",
                                 (long long)axes[i], x->rank);
        if (mask >> a & 1)
            return ir_node_error(d, n, "axis %lld is given twice", (long long)axes[i]);
        mask |= (int64_t)1 << a;
    }
    if (na == 0 && !noop)
        mask = x->rank ? ((int64_t)1 << x->rank) - 1 : 1; /* a scalar reduces its one element */
    int64_t dims[IR_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++) {
        if (!(mask >> i & 1))
            dims[r++] = x->dims[i];
        else if (keep)
            dims[r++] = 1;
    }
    ir_param_int(n, RT_REDUCE_OP, reduce_kind(n->op));
    ir_param_int(n, RT_REDUCE_MASK, mask);
    return ir_set_out(n, 0, x->dtype, r, dims);
}

int ir_infer_argmax(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Value *x = n->n_in > 0 ? n->in[0] : NULL;
    if (!x)
        return ir_node_error(d, n, "input 0 is missing");
    if (!is_numeric(x->dtype))
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(x->dtype));
    int64_t a = ir_attr_int(n, "axis", 0);
    int axis = ir_axis(a, x->rank);
    if (axis < 0 || x->rank == 0)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d", (long long)a,
                             x->rank);
    if (x->dims[axis] == 0)
        return ir_node_error(d, n, "axis %d has extent 0", axis);
    int keep = ir_attr_int(n, "keepdims", 1) != 0;
    int64_t dims[IR_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++) {
        if (i != axis)
            dims[r++] = x->dims[i];
        else if (keep)
            dims[r++] = 1;
    }
    ir_param_int(n, RT_ARGMAX_IS_MIN, n->op == OP_ARG_MIN);
    ir_param_int(n, RT_ARGMAX_AXIS, axis);
    ir_param_int(n, RT_ARGMAX_SELECT_LAST, ir_attr_int(n, "select_last_index", 0) != 0);
    return ir_set_out(n, 0, RT_I64, r, dims);
}
