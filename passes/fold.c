/* fold.c: constant folding: nodes whose inputs are all known run once, at compile time. */
#include "passes.h"

/* Bigger results stay as runtime work rather than bloating the weights. */
#define FOLD_LIMIT_BYTES ((size_t)256 << 20)

/* pass_fold: requires pass_shape; marks dead every node whose outputs are
 * compile-time constants (computing them first where needed). Their outputs
 * keep their data and become weights of the generated code. */
int pass_fold(Graph *g, PassCtx *ctx)
{
    int changes = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (n->dead)
            continue;
        if (!ir_node_is_constant(n)) {
            if (!ir_ops[n->op].kernel)
                continue;
            int all_const = 1;
            size_t bytes = 0;
            for (int i = 0; i < n->n_in; i++)
                if (n->in[i] && !n->in[i]->data)
                    all_const = 0;
            for (int i = 0; i < n->n_out; i++)
                if (n->out[i])
                    bytes += ir_nbytes(n->out[i]);
            if (!all_const || bytes > FOLD_LIMIT_BYTES)
                continue;
            if (ir_eval_node(g, n, ctx->d) < 0)
                return -1;
        }
        ir_node_kill(n);
        changes++;
    }
    return changes;
}
