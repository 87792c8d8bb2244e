/* fuse.c: fuses Conv followed by Relu or Clip into one FusedConv, so the activation costs no pass over memory. */
#include <math.h>
#include <string.h>

#include "passes.h"

/* The clamp bounds of a Clip node, when they are known at compile time. */
static int clip_bounds(const Node *n, float *lo, float *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (n->opset < 11) {
        *lo = ir_attr_float(n, "min", -INFINITY);
        *hi = ir_attr_float(n, "max", INFINITY);
        return 0;
    }
    double v;
    if (n->n_in > 1 && n->in[1]) {
        if (ir_const_scalar(n->in[1], &v) < 0)
            return -1;
        *lo = (float)v;
    }
    if (n->n_in > 2 && n->in[2]) {
        if (ir_const_scalar(n->in[2], &v) < 0)
            return -1;
        *hi = (float)v;
    }
    return 0;
}

static void add_attrs(Graph *g, Node *n, const char *act, const float *params, int n_params)
{
    Attr *a = ir_alloc(g, sizeof *a * (size_t)(n->n_attrs + 2));
    IR_ASSERT(a);
    memcpy(a, n->attrs, sizeof *a * (size_t)n->n_attrs);
    Attr *x = &a[n->n_attrs++];
    x->name = "activation";
    x->type = AT_STRING;
    x->s = act;
    x->s_len = strlen(act);
    if (n_params) {
        x = &a[n->n_attrs++];
        x->name = "activation_params";
        x->type = AT_FLOATS;
        x->n = n_params;
        x->floats = ir_alloc(g, sizeof(float) * (size_t)n_params);
        IR_ASSERT(x->floats);
        memcpy(x->floats, params, sizeof(float) * (size_t)n_params);
    }
    n->attrs = a;
}

/* pass_fuse: requires pass_shape; keeps the graph valid. A float Conv whose
 * only consumer is a Relu, or a Clip with constant bounds, becomes a
 * FusedConv (the form ONNX Runtime's own fusion produces) writing the
 * activation's output directly. */
int pass_fuse(Graph *g, PassCtx *ctx)
{
    int changes = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *conv = g->nodes[k];
        if (conv->dead || conv->op != OP_CONV || ir_node_is_constant(conv))
            continue;
        Value *mid = conv->out[0];
        if (mid->is_output || mid->dtype != RT_F32 || mid->n_uses != 1)
            continue;
        Node *act = mid->uses->node;
        if (act->op != OP_RELU && act->op != OP_CLIP)
            continue;
        if (act->in[0] != mid || !act->out[0])
            continue;
        float p[2];
        if (act->op == OP_CLIP && clip_bounds(act, &p[0], &p[1]) < 0)
            continue;
        if (act->op == OP_RELU)
            add_attrs(g, conv, "Relu", NULL, 0);
        else
            add_attrs(g, conv, "Clip", p, 2);
        conv->op = OP_FUSED_CONV;
        conv->op_type = "FusedConv";
        conv->domain = "com.microsoft";
        conv->out[0] = act->out[0];
        act->out[0]->producer = conv;
        ir_node_kill(act);
        mid->producer = NULL;
        conv->n_ints = conv->n_floats = 0;
        if (ir_ops[conv->op].infer(g, conv, ctx->d) < 0)
            return -1;
        changes++;
    }
    return changes;
}
