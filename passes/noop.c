/* noop.c: removes nodes that copy their input unchanged (Identity, same-type Cast, same-shape Reshape...). */
#include <string.h>

#include "passes.h"

static int same_type(const Value *a, const Value *b)
{
    if (a->dtype != b->dtype || a->rank != b->rank)
        return 0;
    return !memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank);
}

/* A Dropout whose training_mode (or, in training, ratio) is read when it
 * runs must run: its kernel refuses training with a ratio above 0. */
static int dropout_reads_values(const Node *n)
{
    const Value *r = ir_input(n, 1), *t = ir_input(n, 2);
    double train;
    if (n->op != OP_DROPOUT || n->opset < 12 || !t)
        return 0;
    return ir_const_scalar(t, &train) || (train != 0 && r && !r->data);
}

static int is_noop(const Node *n)
{
    switch (n->op) {
    case OP_IDENTITY: case OP_DROPOUT: case OP_CAST: case OP_RESHAPE: case OP_FLATTEN:
    case OP_SQUEEZE: case OP_UNSQUEEZE: case OP_EXPAND:
        break;
    default:
        return 0;
    }
    if (!n->in[0] || !n->out[0] || !same_type(n->in[0], n->out[0]) || dropout_reads_values(n))
        return 0;
    /* equal bounds do not make equal extents: [b, s] reshaped to [s, b]
     * keeps [8, 8] when both run to 8 */
    if (ir_node_has_rt(n) && n->op != OP_IDENTITY && n->op != OP_DROPOUT && n->op != OP_CAST)
        return 0;
    return 1;
}

/* pass_noop: requires pass_shape; keeps the graph valid and graph output
 * names unchanged. A no-op feeding a graph output is removed only when its
 * input can take over the output's name (a plain intermediate). */
int pass_noop(Graph *g, PassCtx *ctx)
{
    (void)ctx;
    int changes = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n) || !is_noop(n))
            continue;
        Value *in = n->in[0], *out = n->out[0];
        int extra_used = 0;
        for (int i = 1; i < n->n_out; i++)
            if (n->out[i] && (n->out[i]->is_output || n->out[i]->n_uses))
                extra_used = 1;
        if (extra_used)
            continue;
        if (out->is_output) {
            if (in->is_input || in->is_output || in->data || !in->producer)
                continue;
            for (int i = 0; i < g->n_outputs; i++)
                if (g->outputs[i] == out)
                    g->outputs[i] = in;
            in->is_output = 1;
            in->name = out->name;
            out->is_output = 0;
        }
        ir_replace_uses(g, out, in);
        ir_node_kill(n);
        changes++;
    }
    return changes;
}
