/* shape_util.c: input, list, axis and size checks shared by the infer functions of ir/ops. */
#include <stdint.h>

#include "ir.h"
#include "shape_util.h"

/* Ops that only move elements: a string element is a pointer, so they move
 * strings too (their data input; every input of Concat). Any other op would
 * read a pointer as a number or fill in a null one. */
static int moves_strings(const Node *n, int i)
{
    switch (n->op) {
    case OP_CONCAT:
        return 1;
    case OP_RESHAPE: case OP_FLATTEN: case OP_SQUEEZE: case OP_UNSQUEEZE: case OP_IDENTITY:
    case OP_TRANSPOSE: case OP_SPLIT: case OP_SLICE: case OP_GATHER: case OP_EXPAND:
    case OP_TILE: case OP_GATHER_ELEMENTS: case OP_GATHER_ND: case OP_COMPRESS:
    case OP_REVERSE_SEQUENCE:
        return i == 0;
    default:
        return 0;
    }
}

int mv_need_n_in(Diag *d, const Node *n, int lo, int hi)
{
    if (n->n_in >= lo && n->n_in <= hi)
        return 0;
    if (lo == hi)
        return ir_node_error(d, n, "expects %d input%s, got %d", lo, lo == 1 ? "" : "s",
                             n->n_in);
    return ir_node_error(d, n, "expects %d to %d inputs, got %d", lo, hi, n->n_in);
}

int mv_need_input(Diag *d, const Node *n, int i)
{
    const Value *v = ir_input(n, i);
    if (!v)
        return ir_node_error(d, n, "input %d is missing", i);
    if (!ir_shape_known(v))
        return ir_node_error(d, n, "input %d ('%s') has no static shape", i, v->name);
    /* narrow types: ir_check_narrow already refused the ops that cannot take them */
    if (!rt_dtype_bits(v->dtype))
        return ir_node_error(d, n, "input %d ('%s') has dtype %s, which onnxcc does not support",
                             i, v->name, rt_dtype_name(v->dtype));
    if (v->dtype == RT_STRING && !moves_strings(n, i))
        return ir_node_error(d, n, "input %d ('%s') is a string tensor: not supported for %s", i,
                             v->name, n->op_type);
    return 0;
}

int mv_is_int(int dtype)
{
    switch (dtype) {
    case RT_I8: case RT_I16: case RT_I32: case RT_I64:
    case RT_U8: case RT_U16: case RT_U32: case RT_U64:
        return 1;
    default:
        return 0;
    }
}

int mv_const_list(Diag *d, const Node *n, int i, int64_t *out, int max)
{
    const Value *v = ir_input(n, i);
    if (!v)
        return -1;
    if (v->dtype != RT_UNDEF && !mv_is_int(v->dtype)) {
        ir_node_error(d, n, "input %d ('%s') must be an integer tensor, not %s", i, v->name,
                      rt_dtype_name(v->dtype));
        return -2;
    }
    if (ir_shape_known(v) && ir_numel(v) > max) {
        ir_node_error(d, n, "input %d ('%s') has %lld values; at most %d are supported", i,
                      v->name, (long long)ir_numel(v), max);
        return -2;
    }
    int k = ir_const_ints(v, out, max);
    if (k < 0) {
        ir_err_not_const(d, n, i);
        return -2;
    }
    return k;
}

int mv_attr_list(Diag *d, const Node *n, const char *name, int64_t *out, int max)
{
    int k = ir_attr_ints(n, name, out, max);
    if (k > max) {
        ir_node_error(d, n, "attribute '%s' has %d values; at most %d are supported", name, k,
                      max);
        return -2;
    }
    return k;
}

int mv_numel(Diag *d, const Node *n, int r, const int64_t *dims, int64_t *out)
{
    int64_t p = 1;
    for (int k = 0; k < r; k++) {
        if (dims[k] < 0)
            return ir_node_error(d, n, "output dim %d is negative (%lld)", k,
                                 (long long)dims[k]);
        if (dims[k] && p > INT64_MAX / dims[k])
            return ir_node_error(d, n, "output has more elements than fit in 64 bits");
        p *= dims[k];
    }
    *out = p;
    return 0;
}

int mv_axes(Diag *d, const Node *n, const int64_t *axes, int k, int r, int *mark)
{
    for (int a = 0; a < r; a++)
        mark[a] = 0;
    for (int i = 0; i < k; i++) {
        int a = ir_axis(axes[i], r);
        if (a < 0 || r == 0)
            return ir_node_error(d, n, "axis %lld is out of range for rank %d",
                                 (long long)axes[i], r);
        if (mark[a])
            return ir_node_error(d, n, "axis %lld is given twice", (long long)axes[i]);
        mark[a] = 1;
    }
    return 0;
}
