/* loss.c: shapes and kernel parameters of NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss. */
#include <string.h>

#include "ir.h"

/* Both ops (opset 12/13) share inputs [N, C, d1..dk], targets [N, d1..dk],
 * optional weights [C], and the attributes reduction and ignore_index. SCE
 * has a second optional output, log_prob, shaped like the scores. */
static int infer_loss(Node *n, Diag *d, int has_log_prob)
{
    const Value *x = n->n_in > 0 ? n->in[0] : NULL;
    const Value *t = n->n_in > 1 ? n->in[1] : NULL;
    const Value *w = n->n_in > 2 ? n->in[2] : NULL;
    if (!x || !t)
        return ir_node_error(d, n, "needs two inputs (scores and labels)");
    if (x->dtype != RT_F32 && x->dtype != RT_F64 && x->dtype != RT_F16 && x->dtype != RT_BF16)
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(x->dtype));
    if (t->dtype != RT_I64 && t->dtype != RT_I32)
        return ir_node_error(d, n, "labels must be int32 or int64, not %s",
                             rt_dtype_name(t->dtype));
    if (x->rank < 2)
        return ir_node_error(d, n, "input has rank %d, needs [N, C, d1..dk]", x->rank);
    if (t->rank != x->rank - 1)
        return ir_node_error(d, n, "labels have rank %d, need %d", t->rank, x->rank - 1);
    for (int i = 0; i < t->rank; i++) {
        int64_t xd = x->dims[i == 0 ? 0 : i + 1];
        if (t->dims[i] >= 0 && xd >= 0 && t->dims[i] != xd)
            return ir_node_error(d, n, "labels dim %d is %lld, input has %lld", i,
                                 (long long)t->dims[i], (long long)xd);
    }
    if (w) {
        if (w->dtype != x->dtype)
            return ir_node_error(d, n, "weights are %s, input is %s", rt_dtype_name(w->dtype),
                                 rt_dtype_name(x->dtype));
        if (w->rank != 1 || (w->dims[0] >= 0 && x->dims[1] >= 0 && w->dims[0] != x->dims[1]))
            return ir_node_error(d, n, "weights must have shape [C]");
    }
    const char *r = ir_attr_str(n, "reduction", "mean");
    int red;
    if (!strcmp(r, "none"))
        red = RT_LOSS_NONE;
    else if (!strcmp(r, "sum"))
        red = RT_LOSS_SUM;
    else if (!strcmp(r, "mean"))
        red = RT_LOSS_MEAN;
    else
        return ir_node_error(d, n, "reduction '%s' is not none, sum or mean", r);
    const Attr *ii = ir_attr(n, "ignore_index");
    ir_param_int(n, RT_LOSS_REDUCTION, red);
    ir_param_int(n, RT_LOSS_HAS_IGNORE, ii != NULL);
    ir_param_int(n, RT_LOSS_IGNORE_INDEX, ii ? ii->i : 0);
    ir_set_out(n, 0, x->dtype, red == RT_LOSS_NONE ? t->rank : 0, t->dims);
    if (n->n_out > 1) {
        if (!has_log_prob)
            return ir_node_error(d, n, "has %d outputs, expects 1", n->n_out);
        ir_set_out(n, 1, x->dtype, x->rank, x->dims);
    }
    return 0;
}

int ir_infer_nll_loss(Graph *g, Node *n, Diag *d)
{
    (void)g;
    return infer_loss(n, d, 0);
}

int ir_infer_sce_loss(Graph *g, Node *n, Diag *d)
{
    (void)g;
    return infer_loss(n, d, 1);
}
