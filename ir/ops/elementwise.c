/* elementwise.c: dtypes, broadcast shapes and kernel parameters of the elementwise ops. */
#include <float.h>
#include <string.h>

#include "ir.h"

/* Dtype kinds an op accepts. */
enum { K_FLOAT = 1, K_INT = 2, K_BOOL = 4, K_NUM = K_FLOAT | K_INT };

static int kind_of(int dtype)
{
    switch (dtype) {
    case RT_F32: case RT_F64: case RT_F16: case RT_BF16:
        return K_FLOAT;
    case RT_I8: case RT_I16: case RT_I32: case RT_I64:
    case RT_U8: case RT_U16: case RT_U32: case RT_U64:
        return K_INT;
    case RT_BOOL:
        return K_BOOL;
    default:
        return 0;
    }
}

static const char *kinds_name(int kinds)
{
    switch (kinds) {
    case K_FLOAT: return "a float type";
    case K_INT: return "an integer type";
    case K_BOOL: return "bool";
    case K_NUM: return "a numeric type";
    case K_FLOAT | K_INT | K_BOOL: return "a numeric or bool type";
    default: return "another type";
    }
}

static void shape_str(const Value *v, char *buf, size_t cap)
{
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < v->rank && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? "," : "", (long long)v->dims[i]);
    if (k < cap)
        snprintf(buf + k, cap - k, "]");
}

/* Input i must be present and of one of the kinds. */
static int need_input(Diag *d, const Node *n, int i, int kinds)
{
    const Value *v = i < n->n_in ? n->in[i] : NULL;
    if (!v)
        return ir_node_error(d, n, "input %d is missing", i);
    if (!(kind_of(v->dtype) & kinds))
        return ir_node_error(d, n, "input %d ('%s') is %s; %s takes %s", i, v->name,
                             rt_dtype_name(v->dtype), n->op_type, kinds_name(kinds));
    return 0;
}

static int need_same_dtype(Diag *d, const Node *n, int i, int j)
{
    if (n->in[i]->dtype == n->in[j]->dtype)
        return 0;
    return ir_node_error(d, n, "inputs %d and %d have different dtypes (%s and %s)", i, j,
                         rt_dtype_name(n->in[i]->dtype), rt_dtype_name(n->in[j]->dtype));
}

/* Broadcasts the running shape (r, dims) with v's (input i, maybe reshaped),
 * or reports both shapes. */
static int broadcast_value(Diag *d, const Node *n, int i, const Value *v, int *r,
                           int64_t *dims)
{
    int64_t prev[IR_MAX_RANK];
    memcpy(prev, dims, sizeof prev);
    if (ir_broadcast(*r, prev, v->rank, v->dims, r, dims) == 0)
        return 0;
    char a[128], b[128];
    Value tmp = {.rank = *r};
    memcpy(tmp.dims, prev, sizeof prev);
    shape_str(&tmp, a, sizeof a);
    shape_str(v, b, sizeof b);
    return ir_node_error(d, n, "input %d ('%s') of shape %s does not broadcast with shape %s", i,
                         v->name, b, a);
}

static int broadcast_with(Diag *d, const Node *n, int i, int *r, int64_t *dims)
{
    return broadcast_value(d, n, i, n->in[i], r, dims);
}

int ir_infer_binary(Graph *g, Node *n, Diag *d)
{
    (void)g;
    int code, kinds = K_NUM, to_bool = 0;
    switch (n->op) {
    case OP_ADD: code = RT_BIN_ADD; break;
    case OP_SUB: code = RT_BIN_SUB; break;
    case OP_MUL: code = RT_BIN_MUL; break;
    case OP_DIV: code = RT_BIN_DIV; break;
    case OP_POW: code = RT_BIN_POW; break;
    case OP_PRELU: code = RT_BIN_PRELU; break;
    case OP_MOD: code = ir_attr_int(n, "fmod", 0) ? RT_BIN_FMOD : RT_BIN_MOD; break;
    case OP_EQUAL: code = RT_BIN_EQ; kinds = K_NUM | K_BOOL; to_bool = 1; break;
    case OP_LESS: code = RT_BIN_LT; to_bool = 1; break;
    case OP_GREATER: code = RT_BIN_GT; to_bool = 1; break;
    case OP_LESS_OR_EQUAL: code = RT_BIN_LE; to_bool = 1; break;
    case OP_GREATER_OR_EQUAL: code = RT_BIN_GE; to_bool = 1; break;
    case OP_AND: code = RT_BIN_BITAND; kinds = K_BOOL; break;
    case OP_OR: code = RT_BIN_BITOR; kinds = K_BOOL; break;
    case OP_XOR: code = RT_BIN_BITXOR; kinds = K_BOOL; break;
    case OP_BITWISE_AND: code = RT_BIN_BITAND; kinds = K_INT; break;
    case OP_BITWISE_OR: code = RT_BIN_BITOR; kinds = K_INT; break;
    case OP_BITWISE_XOR: code = RT_BIN_BITXOR; kinds = K_INT; break;
    case OP_BIT_SHIFT: {
        const char *dir = ir_attr_str(n, "direction", "");
        if (strcmp(dir, "LEFT") && strcmp(dir, "RIGHT"))
            return ir_node_error(d, n, "attribute direction is '%s'; expected LEFT or RIGHT",
                                 dir);
        code = strcmp(dir, "LEFT") ? RT_BIN_SHR : RT_BIN_SHL;
        kinds = K_INT;
        break;
    }
    default:
        IR_ASSERT(!"ir_infer_binary: not a binary op");
        return -1;
    }
    if (n->n_in != 2)
        return ir_node_error(d, n, "expects 2 inputs, got %d", n->n_in);
    if (need_input(d, n, 0, kinds) || need_input(d, n, 1, kinds))
        return -1;
    /* Pow-12 and later take an exponent of any numeric type. */
    if (n->op != OP_POW && need_same_dtype(d, n, 0, 1))
        return -1;
    const Value *a = n->in[0], *b = n->in[1];
    if (n->op == OP_MOD && code == RT_BIN_MOD && kind_of(a->dtype) == K_FLOAT)
        return ir_node_error(d, n, "fmod must be 1 for %s inputs (ONNX Mod)",
                             rt_dtype_name(a->dtype));
    /* Before opset 7, B could be aligned at an axis of A (broadcast=1, axis=k)
     * and PRelu's slope of shape [C] applied along axis 1 of X [N, C, ...]:
     * both append 1-dims to B's shape, as the kernel does (ints[1]). */
    int extra = 0;
    const Attr *ax = ir_attr(n, "axis");
    if (n->opset < 7 && n->op == OP_PRELU && b->rank == 1 && a->rank >= 3 &&
        b->dims[0] == a->dims[1] && b->dims[0] != 1) {
        extra = a->rank - 2;
    } else if (n->opset < 7 && ax && ax->type == AT_INT && ir_attr_int(n, "broadcast", 0)) {
        int axis = ir_axis(ax->i, a->rank);
        if (axis < 0 || axis + b->rank > a->rank)
            return ir_node_error(d, n, "axis %lld does not place B (rank %d) inside A (rank %d)",
                                 (long long)ax->i, b->rank, a->rank);
        extra = a->rank - axis - b->rank;
    }
    Value bx = *b;
    for (int k = 0; k < extra; k++)
        bx.dims[bx.rank++] = 1;
    int r = a->rank;
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, a->dims, sizeof dims);
    if (broadcast_value(d, n, 1, &bx, &r, dims))
        return -1;
    if (n->op == OP_PRELU && (r != a->rank || memcmp(dims, a->dims, sizeof(int64_t) * r))) {
        char sa[128], sb[128];
        shape_str(a, sa, sizeof sa);
        shape_str(b, sb, sizeof sb);
        return ir_node_error(d, n, "slope of shape %s does not broadcast to X's shape %s", sb,
                             sa);
    }
    ir_param_int(n, code);
    if (extra)
        ir_param_int(n, extra);
    return ir_set_out(n, 0, to_bool ? RT_BOOL : a->dtype, r, dims);
}

int ir_infer_unary(Graph *g, Node *n, Diag *d)
{
    (void)g;
    int code, kinds = K_FLOAT, to_bool = 0, nf = 0;
    float p[2] = {0, 0};
    switch (n->op) {
    case OP_SQRT: code = RT_UN_SQRT; break;
    case OP_EXP: code = RT_UN_EXP; break;
    case OP_LOG: code = RT_UN_LOG; break;
    case OP_ABS: code = RT_UN_ABS; kinds = K_NUM; break;
    case OP_NEG: code = RT_UN_NEG; kinds = K_NUM; break;
    case OP_RECIPROCAL: code = RT_UN_RECIPROCAL; break;
    case OP_RELU: code = RT_UN_RELU; kinds = K_NUM; break;
    case OP_LEAKY_RELU:
        code = RT_UN_LEAKY_RELU;
        p[nf++] = ir_attr_float(n, "alpha", 0.01f);
        break;
    case OP_SIGMOID: code = RT_UN_SIGMOID; break;
    case OP_TANH: code = RT_UN_TANH; break;
    case OP_ERF: code = RT_UN_ERF; kinds = K_NUM; break;
    case OP_HARD_SIGMOID:
        code = RT_UN_HARD_SIGMOID;
        p[nf++] = ir_attr_float(n, "alpha", 0.2f);
        p[nf++] = ir_attr_float(n, "beta", 0.5f);
        break;
    case OP_HARD_SWISH: code = RT_UN_HARD_SWISH; break;
    case OP_GELU: {
        const char *ap = ir_attr_str(n, "approximate", "none");
        if (strcmp(ap, "none") && strcmp(ap, "tanh"))
            return ir_node_error(d, n, "attribute approximate is '%s'; expected none or tanh",
                                 ap);
        code = strcmp(ap, "tanh") ? RT_UN_GELU : RT_UN_GELU_TANH;
        break;
    }
    case OP_ELU:
        code = RT_UN_ELU;
        p[nf++] = ir_attr_float(n, "alpha", 1.0f);
        break;
    case OP_SELU:
        code = RT_UN_SELU;
        p[nf++] = ir_attr_float(n, "alpha", 1.67326319217681884765625f);
        p[nf++] = ir_attr_float(n, "gamma", 1.05070102214813232421875f);
        break;
    case OP_CELU:
        code = RT_UN_CELU;
        p[nf++] = ir_attr_float(n, "alpha", 1.0f);
        if (p[0] == 0)
            return ir_node_error(d, n, "attribute alpha must not be 0 (Celu divides by it)");
        break;
    case OP_SOFTPLUS: code = RT_UN_SOFTPLUS; break;
    case OP_SOFTSIGN: code = RT_UN_SOFTSIGN; break;
    case OP_THRESHOLDED_RELU:
        code = RT_UN_THRESHOLDED_RELU;
        p[nf++] = ir_attr_float(n, "alpha", 1.0f);
        break;
    case OP_SIN: code = RT_UN_SIN; break;
    case OP_COS: code = RT_UN_COS; break;
    case OP_TAN: code = RT_UN_TAN; break;
    case OP_ASIN: code = RT_UN_ASIN; break;
    case OP_ACOS: code = RT_UN_ACOS; break;
    case OP_ATAN: code = RT_UN_ATAN; break;
    case OP_SINH: code = RT_UN_SINH; break;
    case OP_COSH: code = RT_UN_COSH; break;
    case OP_ASINH: code = RT_UN_ASINH; break;
    case OP_ACOSH: code = RT_UN_ACOSH; break;
    case OP_ATANH: code = RT_UN_ATANH; break;
    case OP_FLOOR: code = RT_UN_FLOOR; break;
    case OP_CEIL: code = RT_UN_CEIL; break;
    case OP_ROUND: code = RT_UN_ROUND; break;
    case OP_SIGN: code = RT_UN_SIGN; kinds = K_NUM; break;
    case OP_NOT: code = RT_UN_NOT; kinds = K_BOOL; break;
    case OP_BITWISE_NOT: code = RT_UN_BITNOT; kinds = K_INT; break;
    case OP_IS_NAN: code = RT_UN_ISNAN; to_bool = 1; break;
    case OP_IS_INF: code = RT_UN_ISINF; to_bool = 1; break;
    case OP_SHRINK:
        code = RT_UN_SHRINK;
        kinds = K_NUM;
        p[nf++] = ir_attr_float(n, "lambd", 0.5f);
        p[nf++] = ir_attr_float(n, "bias", 0.0f);
        break;
    case OP_MISH: code = RT_UN_MISH; break;
    default:
        IR_ASSERT(!"ir_infer_unary: not a unary op");
        return -1;
    }
    if (n->n_in != 1)
        return ir_node_error(d, n, "expects 1 input, got %d", n->n_in);
    if (need_input(d, n, 0, kinds))
        return -1;
    const Value *x = n->in[0];
    ir_param_int(n, code);
    if (n->op == OP_IS_INF) {
        ir_param_int(n, ir_attr_int(n, "detect_positive", 1) != 0);
        ir_param_int(n, ir_attr_int(n, "detect_negative", 1) != 0);
    }
    for (int i = 0; i < nf; i++)
        ir_param_float(n, p[i]);
    return ir_set_out(n, 0, to_bool ? RT_BOOL : x->dtype, x->rank, x->dims);
}

int ir_infer_clip(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (n->n_in < 1 || n->n_in > 3)
        return ir_node_error(d, n, "expects 1 to 3 inputs, got %d", n->n_in);
    if (need_input(d, n, 0, K_NUM))
        return -1;
    const Value *x = n->in[0];
    if (n->opset < 11) {
        /* Clip-6: the bounds are attributes defaulting to the float range. */
        ir_param_int(n, 1);
        ir_param_float(n, ir_attr_float(n, "min", -FLT_MAX));
        ir_param_float(n, ir_attr_float(n, "max", FLT_MAX));
    } else {
        ir_param_int(n, 0);
        for (int i = 1; i < n->n_in; i++) {
            const Value *v = n->in[i];
            if (!v)
                continue;
            if (need_same_dtype(d, n, 0, i))
                return -1;
            if (ir_numel(v) != 1)
                return ir_node_error(d, n, "input %d ('%s') must be a scalar, not %lld values",
                                     i, v->name, (long long)ir_numel(v));
        }
    }
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

int ir_infer_where(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (n->n_in != 3)
        return ir_node_error(d, n, "expects 3 inputs, got %d", n->n_in);
    int all = K_FLOAT | K_INT | K_BOOL;
    if (need_input(d, n, 0, K_BOOL) || need_input(d, n, 1, all) || need_input(d, n, 2, all) ||
        need_same_dtype(d, n, 1, 2))
        return -1;
    if (ir_attr_int(n, IR_ATTR_IF_SELECT, 0)) {
        /* an If's branches: different shapes make the output's shape depend
         * on the condition, which must then be known at compile time */
        const Value *a = n->in[1], *b = n->in[2];
        int same = a->rank == b->rank;
        for (int i = 0; same && i < a->rank; i++)
            same = a->dims[i] == b->dims[i];
        if (!same)
            return ir_err_not_const(d, n, 0);
    }
    int r = n->in[0]->rank;
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, n->in[0]->dims, sizeof dims);
    if (broadcast_with(d, n, 1, &r, dims) || broadcast_with(d, n, 2, &r, dims))
        return -1;
    return ir_set_out(n, 0, n->in[1]->dtype, r, dims);
}

int ir_infer_cast(Graph *g, Node *n, Diag *d)
{
    (void)g;
    int want = n->op == OP_CAST_LIKE ? 2 : 1;
    if (n->n_in != want)
        return ir_node_error(d, n, "expects %d input%s, got %d", want, want > 1 ? "s" : "",
                             n->n_in);
    for (int i = 0; i < want; i++)
        if (!n->in[i])
            return ir_node_error(d, n, "input %d is missing", i);
    const Value *x = n->in[0];
    int64_t to;
    if (n->op == OP_CAST_LIKE) {
        to = n->in[1]->dtype;
    } else {
        if (!ir_attr(n, "to"))
            return ir_node_error(d, n, "attribute 'to' is missing");
        to = ir_attr_int(n, "to", RT_UNDEF);
    }
    if (x->dtype == RT_STRING || to == RT_STRING)
        return ir_infer_cast_string(g, n, (int)to, d);
    if (!kind_of(x->dtype))
        return ir_node_error(d, n, "casts from %s are not supported", rt_dtype_name(x->dtype));
    if (to < 0 || to >= RT_DTYPE_END || !kind_of((int)to))
        return ir_node_error(d, n, "casts to dtype %lld (%s) are not supported", (long long)to,
                             rt_dtype_name((int)to));
    return ir_set_out(n, 0, (int)to, x->rank, x->dims);
}

int ir_infer_variadic(Graph *g, Node *n, Diag *d)
{
    (void)g;
    int code = RT_BIN_ADD;
    if (n->op == OP_MAX)
        code = RT_BIN_MAX;
    else if (n->op == OP_MIN)
        code = RT_BIN_MIN;
    if (n->n_in < 1)
        return ir_node_error(d, n, "expects at least 1 input");
    for (int i = 0; i < n->n_in; i++)
        if (need_input(d, n, i, K_NUM) || need_same_dtype(d, n, 0, i))
            return -1;
    int r = n->in[0]->rank;
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, n->in[0]->dims, sizeof dims);
    for (int i = 1; i < n->n_in; i++)
        if (broadcast_with(d, n, i, &r, dims))
            return -1;
    ir_param_int(n, code);
    ir_param_int(n, n->op == OP_MEAN);
    return ir_set_out(n, 0, n->in[0]->dtype, r, dims);
}
