/* elementwise.c: dtypes, broadcast shapes and kernel parameters of the elementwise ops. */
#include <float.h>
#include <string.h>

#include "ir.h"
#include "shape_util.h"

/* Dtype kinds an op accepts. */
enum { K_FLOAT = 1, K_INT = 2, K_BOOL = 4, K_NUM = K_FLOAT | K_INT, K_NUM_BOOL = K_NUM | K_BOOL };

/* The runtime op code and accepted kinds of each elementwise op, from ops.def;
 * kinds 0 marks the ops that are not in it. */
typedef struct EwOp {
    int code;   /* RtBinOp or RtUnOp */
    int kinds;  /* K_* */
} EwOp;

#define OP(id, domain, name, infer, kernel)
#define OP_BIN(id, name, code, kinds) [OP_##id] = {code, K_##kinds},
#define OP_UN(id, name, code, kinds) [OP_##id] = {code, K_##kinds},
#define OP_VAR(id, name, code) [OP_##id] = {code, K_NUM},
static const EwOp ew_ops[OP_COUNT] = {
#include "ops.def"
};
#undef OP

/* Every code in range, and every code reached by some op or by an attribute
 * that picks a sibling code (the runtime's enums only grow, so a new code
 * must come with the op that uses it). */
#define OP(id, domain, name, infer, kernel)
#define OP_BIN(id, name, code, kinds) _Static_assert(code >= 0 && code < RT_BIN_COUNT, name);
#define OP_UN(id, name, code, kinds) _Static_assert(code >= 0 && code < RT_UN_COUNT, name);
#define OP_VAR(id, name, code) _Static_assert(code >= 0 && code < RT_BIN_COUNT, name);
#include "ops.def"
#define OP_BIN(id, name, code, kinds) | 1ULL << (code)
#define OP_UN(id, name, code, kinds)
#define OP_VAR(id, name, code) | 1ULL << (code)
_Static_assert(RT_BIN_COUNT <= 64 && (0
#include "ops.def"
               | 1ULL << RT_BIN_FMOD | 1ULL << RT_BIN_SHR) == (1ULL << RT_BIN_COUNT) - 1,
               "every RtBinOp is reached from ops.def");
#define OP_BIN(id, name, code, kinds)
#define OP_UN(id, name, code, kinds) | 1ULL << (code)
#define OP_VAR(id, name, code)
_Static_assert(RT_UN_COUNT <= 64 && (0
#include "ops.def"
               | 1ULL << RT_UN_GELU_TANH) == (1ULL << RT_UN_COUNT) - 1,
               "every RtUnOp is reached from ops.def");
#undef OP

static const EwOp *ew_op(const Node *n)
{
    IR_ASSERT(n->op >= 0 && n->op < OP_COUNT && ew_ops[n->op].kinds);
    return &ew_ops[n->op];
}

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
    const EwOp *op = ew_op(n);
    int code = op->code, kinds = op->kinds;
    int to_bool = code >= RT_BIN_EQ && code <= RT_BIN_GE; /* fixed values, contiguous */
    if (n->op == OP_MOD && ir_attr_int(n, "fmod", 0))
        code = RT_BIN_FMOD;
    if (n->op == OP_BIT_SHIFT) {
        const char *dir = ir_attr_str(n, "direction", "");
        if (strcmp(dir, "LEFT") && strcmp(dir, "RIGHT"))
            return ir_node_error(d, n, "attribute direction is '%s'; expected LEFT or RIGHT",
                                 dir);
        if (!strcmp(dir, "RIGHT"))
            code = RT_BIN_SHR;
    }
    if (mv_need_n_in(d, n, 2, 2))
        return -1;
    /* Equal-19 also compares strings */
    int strings = n->op == OP_EQUAL && n->in[0] && n->in[0]->dtype == RT_STRING;
    if (strings && n->opset < 19)
        return ir_node_error(d, n, "string inputs need opset 19 (the model imports %lld)",
                             (long long)n->opset);
    if (!strings && (need_input(d, n, 0, kinds) || need_input(d, n, 1, kinds)))
        return -1;
    if (strings && !n->in[1])
        return ir_node_error(d, n, "input 1 is missing");
    /* Pow-12 and later take an exponent of any numeric type. */
    if (n->op != OP_POW && need_same_dtype(d, n, 0, 1))
        return -1;
    const Value *a = n->in[0], *b = n->in[1];
    if (n->op == OP_MOD && code == RT_BIN_MOD && kind_of(a->dtype) == K_FLOAT)
        return ir_node_error(d, n, "fmod must be 1 for %s inputs (ONNX Mod)",
                             rt_dtype_name(a->dtype));
    /* Before opset 7, B could be aligned at an axis of A (broadcast=1, axis=k)
     * and PRelu's slope of shape [C] applied along axis 1 of X [N, C, ...]:
     * both append 1-dims to B's shape, as the kernel does (RT_BINARY_EXTRA_DIMS). */
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
    ir_param_int(n, RT_BINARY_OP, code);
    if (extra)
        ir_param_int(n, RT_BINARY_EXTRA_DIMS, extra);
    return ir_set_out(n, 0, to_bool ? RT_BOOL : a->dtype, r, dims);
}

int ir_infer_unary(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const EwOp *op = ew_op(n);
    int code = op->code, kinds = op->kinds, nf = 0;
    int to_bool = code == RT_UN_ISNAN || code == RT_UN_ISINF;
    float p[2] = {0, 0};
    switch (n->op) {
    case OP_LEAKY_RELU:
        p[nf++] = ir_attr_float(n, "alpha", 0.01f);
        break;
    case OP_HARD_SIGMOID:
        p[nf++] = ir_attr_float(n, "alpha", 0.2f);
        p[nf++] = ir_attr_float(n, "beta", 0.5f);
        break;
    case OP_GELU: {
        const char *ap = ir_attr_str(n, "approximate", "none");
        if (strcmp(ap, "none") && strcmp(ap, "tanh"))
            return ir_node_error(d, n, "attribute approximate is '%s'; expected none or tanh",
                                 ap);
        if (!strcmp(ap, "tanh"))
            code = RT_UN_GELU_TANH;
        break;
    }
    case OP_SWISH:
    case OP_ELU:
    case OP_CELU:
    case OP_THRESHOLDED_RELU:
        p[nf++] = ir_attr_float(n, "alpha", 1.0f);
        break;
    case OP_SELU:
        p[nf++] = ir_attr_float(n, "alpha", 1.67326319217681884765625f);
        p[nf++] = ir_attr_float(n, "gamma", 1.05070102214813232421875f);
        break;
    case OP_SHRINK:
        p[nf++] = ir_attr_float(n, "lambd", 0.5f);
        p[nf++] = ir_attr_float(n, "bias", 0.0f);
        break;
    default:
        break;
    }
    if (n->op == OP_CELU && p[0] == 0)
        return ir_node_error(d, n, "attribute alpha must not be 0 (Celu divides by it)");
    if (mv_need_n_in(d, n, 1, 1) || need_input(d, n, 0, kinds))
        return -1;
    const Value *x = n->in[0];
    ir_param_int(n, RT_UNARY_OP, code);
    if (n->op == OP_IS_INF) {
        ir_param_int(n, RT_UNARY_DETECT_POS, ir_attr_int(n, "detect_positive", 1) != 0);
        ir_param_int(n, RT_UNARY_DETECT_NEG, ir_attr_int(n, "detect_negative", 1) != 0);
    }
    for (int i = 0; i < nf; i++)
        ir_param_float(n, RT_UNARY_F_P0 + i, p[i]);
    return ir_set_out(n, 0, to_bool ? RT_BOOL : x->dtype, x->rank, x->dims);
}

int ir_infer_clip(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_n_in(d, n, 1, 3) || need_input(d, n, 0, K_NUM))
        return -1;
    const Value *x = n->in[0];
    if (n->opset < 11) {
        /* Clip-6: the bounds are attributes defaulting to the float range. */
        ir_param_int(n, RT_CLIP_ATTRS, 1);
        ir_param_float(n, RT_CLIP_F_LO, ir_attr_float(n, "min", -FLT_MAX));
        ir_param_float(n, RT_CLIP_F_HI, ir_attr_float(n, "max", FLT_MAX));
    } else {
        ir_param_int(n, RT_CLIP_ATTRS, 0);
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
    if (mv_need_n_in(d, n, 3, 3))
        return -1;
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
    if (mv_need_n_in(d, n, want, want))
        return -1;
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
    if (rt_is_narrow(x->dtype) || (to > 0 && to < RT_DTYPE_END && rt_is_narrow((int)to)))
        return ir_infer_cast_narrow(g, n, (int)to, d);
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
    int code = ew_op(n)->code;
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
    ir_param_int(n, RT_VARIADIC_OP, code);
    ir_param_int(n, RT_VARIADIC_MEAN, n->op == OP_MEAN);
    return ir_set_out(n, 0, n->in[0]->dtype, r, dims);
}

/* EwChain (made by pass fuse_chain): attribute "program" is the kernel's op
 * list (RT_CHAIN_OP_INTS ints per op, see k_elementwise.h), "fused_from" the
 * op types it replaced, for inspect. Output: float32 of the inputs'
 * broadcast shape. */
int ir_infer_ew_chain(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Attr *prog = ir_attr(n, "program");
    if (!prog || prog->type != AT_INTS || prog->n < RT_CHAIN_OP_INTS ||
        prog->n % RT_CHAIN_OP_INTS || prog->n / RT_CHAIN_OP_INTS > RT_CHAIN_MAX_OPS)
        return ir_node_error(d, n, "attribute program is missing or malformed");
    if (n->n_in < 1 || n->n_in > RT_CHAIN_MAX_IN)
        return ir_node_error(d, n, "has %d inputs; expected 1 to %d", n->n_in, RT_CHAIN_MAX_IN);
    int rank = 0;
    int64_t dims[IR_MAX_RANK], acc[IR_MAX_RANK];
    for (int i = 0; i < n->n_in; i++) {
        const Value *v = n->in[i];
        if (!v || v->dtype != RT_F32)
            return ir_node_error(d, n, "input %d is not float32", i);
        memcpy(acc, dims, sizeof(int64_t) * (size_t)rank);
        if (ir_broadcast(rank, acc, v->rank, v->dims, &rank, dims) < 0)
            return ir_node_error(d, n, "inputs do not broadcast together");
    }
    ir_param_int(n, RT_CHAIN_NOPS, prog->n / RT_CHAIN_OP_INTS);
    ir_param_ints(n, RT_CHAIN_OPS, prog->ints, prog->n);
    return ir_set_out(n, 0, RT_F32, rank, dims);
}
