/* narrow.c: the narrow element types in the IR: the ops that take them, Cast, BitCast. */
#include <string.h>

#include "ir.h"

/* Ops that move narrow tensors without arithmetic, or convert them. The
 * rest refuse them by name (ir_check_narrow) rather than compute on bytes
 * they would misread. `packed`: the op also handles the 4- and 2-bit types,
 * whose elements share bytes; float8 is one byte per element, so every
 * byte-moving kernel handles it. If and Loop pass values through: what they
 * are lowered to (the taken branch, a Where select, the unrolled body) is
 * checked in turn. */
static int takes_narrow(int op, int packed)
{
    switch (op) {
    case OP_CAST: case OP_CAST_LIKE: case OP_BIT_CAST:
    case OP_IDENTITY: case OP_RESHAPE: case OP_FLATTEN: case OP_SQUEEZE: case OP_UNSQUEEZE:
    case OP_SHAPE: case OP_SIZE: case OP_CONSTANT:
    case OP_TRANSPOSE: case OP_CONCAT: case OP_GATHER: case OP_SLICE:
    case OP_QUANTIZE_LINEAR: case OP_DEQUANTIZE_LINEAR:
    case OP_IF: case OP_LOOP:
        return 1;
    case OP_CONSTANT_OF_SHAPE:
        return !packed;
    default:
        return 0;
    }
}

int ir_check_narrow(const Node *n, int outputs, Diag *d)
{
    int cnt = outputs ? n->n_out : n->n_in;
    for (int i = 0; i < cnt; i++) {
        const Value *v = outputs ? n->out[i] : n->in[i];
        if (!v || v->kind != VK_TENSOR || !rt_is_narrow(v->dtype))
            continue;
        if (!takes_narrow(n->op, rt_is_packed(v->dtype)))
            return ir_node_error(d, n, "%s %d ('%s') is %s, a type onnxcc supports only in "
                                 "Cast, QuantizeLinear/DequantizeLinear and data movement, "
                                 "not in %s", outputs ? "output" : "input", i, v->name,
                                 rt_dtype_name(v->dtype), n->op_type);
    }
    return 0;
}

static int is_castable(int dt)
{
    return rt_is_narrow(dt) || rt_is_float(dt) || dt == RT_BOOL ||
           (rt_dtype_size(dt) && dt != RT_STRING);
}

int ir_infer_cast_narrow(Graph *g, Node *n, int to, Diag *d)
{
    (void)g;
    const Value *x = n->in[0];
    if (!is_castable(x->dtype) || to <= 0 || to >= RT_DTYPE_END || !is_castable(to))
        return ir_node_error(d, n, "casts from %s to %s are not supported",
                             rt_dtype_name(x->dtype), rt_dtype_name(to));
    /* saturate: Cast/CastLike 19 on; round_mode: 25 on, float8e8m0 only */
    int64_t sat = n->opset >= 19 ? ir_attr_int(n, "saturate", 1) : 1;
    const char *rm = n->opset >= 25 ? ir_attr_str(n, "round_mode", "up") : "up";
    int mode;
    if (!strcmp(rm, "up"))
        mode = RT_E8M0_UP;
    else if (!strcmp(rm, "down"))
        mode = RT_E8M0_DOWN;
    else if (!strcmp(rm, "nearest"))
        mode = RT_E8M0_NEAREST;
    else
        return ir_node_error(d, n, "round_mode '%s' is not one of up, down, nearest", rm);
    ir_param_int(n, RT_CAST_SATURATE, sat != 0);
    ir_param_int(n, RT_CAST_ROUND_MODE, mode);
    return ir_set_out(n, 0, to, x->rank, x->dims);
}

/* BitCast (opset 26): the same bits read as `to`, which must have the
 * input's element width (ONNX's schema); the shape is unchanged. */
int ir_infer_bitcast(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (n->n_in != 1 || !n->in[0])
        return ir_node_error(d, n, "expects 1 input");
    if (!ir_attr(n, "to"))
        return ir_node_error(d, n, "attribute 'to' is missing");
    const Value *x = n->in[0];
    int64_t to = ir_attr_int(n, "to", RT_UNDEF);
    int xb = rt_dtype_bits(x->dtype);
    if (to <= 0 || to >= RT_DTYPE_END || !rt_dtype_bits((int)to) || to == RT_STRING ||
        x->dtype == RT_STRING || !xb)
        return ir_node_error(d, n, "bit casts from %s to dtype %lld are not supported",
                             rt_dtype_name(x->dtype), (long long)to);
    if (rt_dtype_bits((int)to) != xb)
        return ir_node_error(d, n, "'to' (%s, %d bits) differs in width from the input (%s, "
                             "%d bits)", rt_dtype_name((int)to), rt_dtype_bits((int)to),
                             rt_dtype_name(x->dtype), xb);
    return ir_set_out(n, 0, (int)to, x->rank, x->dims);
}
