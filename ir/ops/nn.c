/* nn.c: shapes and kernel parameters of MatMul, Gemm, Softmax and the normalization ops. */
#include <string.h>

#include "ir.h"

/* Reports unless input i is present with a dtype the op accepts. */
static int need(Diag *d, const Node *n, int i, int floats_only)
{
    const Value *v = ir_input(n, i);
    if (!v)
        return ir_node_error(d, n, "input %d is missing", i);
    int ok = rt_is_float(v->dtype);
    if (!floats_only)
        ok |= v->dtype == RT_I32 || v->dtype == RT_I64 || v->dtype == RT_U32 ||
              v->dtype == RT_U64 || v->dtype == RT_I8 || v->dtype == RT_U8 ||
              v->dtype == RT_I16 || v->dtype == RT_U16;
    if (!ok)
        return ir_node_error(d, n, "input %d ('%s') has dtype %s, which %s does not take", i,
                             v->name, rt_dtype_name(v->dtype), n->op_type);
    return 0;
}

static int same_dtype(Diag *d, const Node *n, int i, int j)
{
    if (n->in[i]->dtype != n->in[j]->dtype)
        return ir_node_error(d, n, "inputs %d and %d have different dtypes (%s, %s)", i, j,
                             rt_dtype_name(n->in[i]->dtype), rt_dtype_name(n->in[j]->dtype));
    return 0;
}

/* ---- MatMul (NumPy matmul: 1-D operands get a unit axis that is then dropped) ---- */

int ir_infer_matmul(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0, 0) || need(d, n, 1, 0) || same_dtype(d, n, 0, 1))
        return -1;
    const Value *a = n->in[0], *b = n->in[1];
    if (a->rank < 1 || b->rank < 1)
        return ir_node_error(d, n, "MatMul needs operands of rank >= 1 (got %d and %d)", a->rank,
                             b->rank);
    int ra = a->rank, rb = b->rank;
    int64_t k = a->dims[ra - 1], kb = rb >= 2 ? b->dims[rb - 2] : b->dims[0];
    if (k != kb)
        return ir_node_error(d, n, "inner dimensions differ: A has %lld, B has %lld",
                             (long long)k, (long long)kb);
    int64_t dims[IR_MAX_RANK];
    int r;
    if (ir_broadcast(ra > 2 ? ra - 2 : 0, a->dims, rb > 2 ? rb - 2 : 0, b->dims, &r, dims))
        return ir_node_error(d, n, "batch dimensions of A and B do not broadcast");
    if (ra >= 2)
        dims[r++] = a->dims[ra - 2];
    if (rb >= 2) {
        if (r >= IR_MAX_RANK)
            return ir_node_error(d, n, "output rank exceeds %d", IR_MAX_RANK);
        dims[r++] = b->dims[rb - 1];
    }
    return ir_set_out(n, 0, a->dtype, r, dims);
}

/* ---- Gemm ---- */

int ir_infer_gemm(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0, 0) || need(d, n, 1, 0) || same_dtype(d, n, 0, 1))
        return -1;
    const Value *a = n->in[0], *b = n->in[1], *c = ir_input(n, 2);
    if (a->rank != 2 || b->rank != 2)
        return ir_node_error(d, n, "A and B must be 2-D (got rank %d and %d)", a->rank, b->rank);
    int64_t ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
    int64_t m = ta ? a->dims[1] : a->dims[0], k = ta ? a->dims[0] : a->dims[1];
    int64_t kb = tb ? b->dims[1] : b->dims[0], nn = tb ? b->dims[0] : b->dims[1];
    if (k != kb)
        return ir_node_error(d, n, "inner dimensions differ: op(A) is %lldx%lld, op(B) is "
                             "%lldx%lld", (long long)m, (long long)k, (long long)kb,
                             (long long)nn);
    int64_t dims[2] = {m, nn};
    if (c) {
        if (c->dtype != a->dtype)
            return ir_node_error(d, n, "C has dtype %s, A has %s", rt_dtype_name(c->dtype),
                                 rt_dtype_name(a->dtype));
        int64_t bd[IR_MAX_RANK];
        int r;
        if (c->rank > 2 || ir_broadcast(2, dims, c->rank, c->dims, &r, bd) || bd[0] != m ||
            bd[1] != nn)
            return ir_node_error(d, n, "C (rank %d) does not broadcast to %lldx%lld", c->rank,
                                 (long long)m, (long long)nn);
    }
    ir_param_int(n, RT_GEMM_TRANS_A, ta);
    ir_param_int(n, RT_GEMM_TRANS_B, tb);
    ir_param_float(n, RT_GEMM_F_ALPHA, ir_attr_float(n, "alpha", 1.0f));
    ir_param_float(n, RT_GEMM_F_BETA, ir_attr_float(n, "beta", 1.0f));
    return ir_set_out(n, 0, a->dtype, 2, dims);
}

/* ---- Softmax, LogSoftmax, Hardmax ---- */

/* Before opset 13 these flatten the input to 2-D at axis (default 1); from 13
 * they work along one axis (default -1). */
int ir_infer_softmax(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0, 1))
        return -1;
    const Value *x = n->in[0];
    int legacy = n->opset > 0 && n->opset < 13;
    int64_t a = ir_attr_int(n, "axis", legacy ? 1 : -1);
    int axis = ir_axis(a, x->rank);
    if (axis < 0 || x->rank == 0)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d", (long long)a,
                             x->rank);
    int kind = n->op == OP_LOG_SOFTMAX ? RT_LOG_SOFTMAX
               : n->op == OP_HARDMAX   ? RT_HARDMAX
                                       : RT_SOFTMAX;
    ir_param_int(n, RT_SOFTMAX_KIND, kind);
    ir_param_int(n, RT_SOFTMAX_AXIS, axis);
    ir_param_int(n, RT_SOFTMAX_LEGACY, legacy);
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* ---- BatchNormalization (inference, and training statistics from opset 14) ---- */

int ir_infer_batchnorm(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 5; i++)
        if (need(d, n, i, 1))
            return -1;
    const Value *x = n->in[0];
    if (x->rank < 2)
        return ir_node_error(d, n, "X must have rank >= 2 (N, C, ...), got %d", x->rank);
    /* opsets 1-8 have 'spatial'; spatial=0 gives scale..var the shape of X[1:] */
    if (n->opset < 9 && ir_attr_int(n, "spatial", 1) != 1)
        return ir_node_error(d, n, "spatial=0 (per-activation statistics) is not supported");
    int64_t c = x->dims[1];
    for (int i = 1; i < 5; i++)
        if (n->in[i]->rank != 1 || n->in[i]->dims[0] != c)
            return ir_node_error(d, n, "input %d ('%s') must have shape [%lld]", i,
                                 n->in[i]->name, (long long)c);
    int training = n->opset >= 14 && ir_attr_int(n, "training_mode", 0) != 0;
    for (int i = 1; i < n->n_out; i++) {
        if (!n->out[i])
            continue;
        if (!training || i > 2)
            return ir_node_error(d, n, "output %d (training statistics) is only supported with "
                                 "training_mode=1 (opset >= 14)", i);
        ir_set_out(n, i, n->in[i + 2]->dtype, 1, &c);
    }
    ir_param_int(n, RT_BATCHNORM_TRAINING, training);
    ir_param_float(n, RT_BATCHNORM_F_EPSILON, ir_attr_float(n, "epsilon", 1e-5f));
    ir_param_float(n, RT_BATCHNORM_F_MOMENTUM, ir_attr_float(n, "momentum", 0.9f));
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* Reports unless scale/bias input i broadcasts to X.shape[axis:] (inner). */
static int broadcasts_to(Diag *d, const Node *n, int i, int r, const int64_t *inner)
{
    const Value *v = n->in[i];
    int64_t out[IR_MAX_RANK];
    int ro;
    if (v->rank > r || ir_broadcast(r, inner, v->rank, v->dims, &ro, out) ||
        memcmp(out, inner, sizeof(int64_t) * (size_t)r))
        return ir_node_error(d, n, "input %d ('%s') does not broadcast to the normalized shape",
                             i, v->name);
    return 0;
}

/* ---- LayerNormalization (opset 17) ---- */

int ir_infer_layernorm(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0, 1) || need(d, n, 1, 1) || (ir_input(n, 2) && need(d, n, 2, 1)))
        return -1;
    const Value *x = n->in[0];
    int64_t a = ir_attr_int(n, "axis", -1);
    int axis = ir_axis(a, x->rank);
    if (axis < 0 || x->rank == 0)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d", (long long)a,
                             x->rank);
    if (ir_attr_int(n, "stash_type", 1) != 1)
        return ir_node_error(d, n, "stash_type %lld is not supported (only 1, float32)",
                             (long long)ir_attr_int(n, "stash_type", 1));
    int ri = x->rank - axis;
    if (broadcasts_to(d, n, 1, ri, x->dims + axis) ||
        (ir_input(n, 2) && broadcasts_to(d, n, 2, ri, x->dims + axis)))
        return -1;
    int64_t sd[IR_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        sd[i] = i < axis ? x->dims[i] : 1;
    /* Mean and InvStdDev have the stash type (float32) whatever X's type */
    for (int i = 1; i < n->n_out && i < 3; i++)
        ir_set_out(n, i, RT_F32, x->rank, sd);
    if (n->n_out > 3)
        return ir_node_error(d, n, "has %d outputs; at most 3", n->n_out);
    ir_param_int(n, RT_LAYERNORM_AXIS, axis);
    ir_param_float(n, RT_LAYERNORM_F_EPSILON, ir_attr_float(n, "epsilon", 1e-5f));
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* ---- InstanceNormalization ---- */

int ir_infer_instancenorm(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 3; i++)
        if (need(d, n, i, 1))
            return -1;
    const Value *x = n->in[0];
    if (x->rank < 3)
        return ir_node_error(d, n, "X must have rank >= 3 (N, C, D1, ...), got %d", x->rank);
    for (int i = 1; i < 3; i++)
        if (n->in[i]->rank != 1 || n->in[i]->dims[0] != x->dims[1])
            return ir_node_error(d, n, "input %d ('%s') must have shape [%lld]", i,
                                 n->in[i]->name, (long long)x->dims[1]);
    ir_param_float(n, RT_INSTANCENORM_F_EPSILON, ir_attr_float(n, "epsilon", 1e-5f));
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* ---- LRN ---- */

int ir_infer_lrn(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0, 1))
        return -1;
    const Value *x = n->in[0];
    if (x->rank < 3)
        return ir_node_error(d, n, "X must have rank >= 3 (N, C, D1, ...), got %d", x->rank);
    int64_t size = ir_attr_int(n, "size", 0);
    if (size < 1)
        return ir_node_error(d, n, "attribute 'size' must be a positive integer");
    ir_param_int(n, RT_LRN_SIZE, size);
    ir_param_float(n, RT_LRN_F_ALPHA, ir_attr_float(n, "alpha", 1e-4f));
    ir_param_float(n, RT_LRN_F_BETA, ir_attr_float(n, "beta", 0.75f));
    ir_param_float(n, RT_LRN_F_BIAS, ir_attr_float(n, "bias", 1.0f));
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* ---- LpNormalization ---- */

int ir_infer_lpnorm(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0, 1))
        return -1;
    const Value *x = n->in[0];
    int64_t a = ir_attr_int(n, "axis", -1), p = ir_attr_int(n, "p", 2);
    int axis = ir_axis(a, x->rank);
    if (axis < 0 || x->rank == 0)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d", (long long)a,
                             x->rank);
    if (p != 1 && p != 2)
        return ir_node_error(d, n, "p must be 1 or 2, got %lld", (long long)p);
    ir_param_int(n, RT_LPNORM_AXIS, axis);
    ir_param_int(n, RT_LPNORM_P, p);
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* ---- GroupNormalization (opset 18; 21 made scale and bias per channel) ---- */

int ir_infer_groupnorm(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 3; i++)
        if (need(d, n, i, 1))
            return -1;
    const Value *x = n->in[0];
    if (x->rank < 2)
        return ir_node_error(d, n, "X must have rank >= 2 (N, C, ...), got %d", x->rank);
    const Attr *ng = ir_attr(n, "num_groups");
    if (!ng || ng->type != AT_INT)
        return ir_node_error(d, n, "attribute 'num_groups' is required");
    int64_t groups = ng->i, ch = x->dims[1];
    if (groups < 1 || ch % groups)
        return ir_node_error(d, n, "num_groups %lld does not divide the %lld channels",
                             (long long)groups, (long long)ch);
    int64_t st = ir_attr_int(n, "stash_type", 1);
    if (st != 1)
        return ir_node_error(d, n, "stash_type %lld is not supported (only 1, float32)",
                             (long long)st);
    int per_channel = n->opset >= 21;
    int64_t want = per_channel ? ch : groups;
    for (int i = 1; i < 3; i++) {
        const Value *v = n->in[i];
        if (v->rank != 1 || v->dims[0] != want || v->dtype != n->in[1]->dtype)
            return ir_node_error(d, n, "input %d ('%s') must be a 1-D %s tensor of %lld values "
                                 "(one per %s in opset %lld)", i, v->name,
                                 rt_dtype_name(n->in[1]->dtype), (long long)want,
                                 per_channel ? "channel" : "group", (long long)n->opset);
    }
    ir_param_int(n, RT_GROUPNORM_GROUPS, groups);
    ir_param_int(n, RT_GROUPNORM_PER_CHANNEL, per_channel);
    ir_param_float(n, RT_GROUPNORM_F_EPSILON, ir_attr_float(n, "epsilon", 1e-5f));
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}
