/* dce.c: dead-node elimination: drops nodes no graph output depends on. */
#include <stdlib.h>

#include "passes.h"

/* pass_dce: keeps valid any graph; marks dead every node none of whose
 * outputs reaches a graph output. */
int pass_dce(Graph *g, PassCtx *ctx)
{
    (void)ctx;
    char *needed = calloc((size_t)g->n_values + 1, 1);
    IR_ASSERT(needed);
    for (int i = 0; i < g->n_outputs; i++)
        needed[g->outputs[i]->id] = 1;
    int changes = 0;
    for (int k = g->n_nodes - 1; k >= 0; k--) {
        Node *n = g->nodes[k];
        if (n->dead)
            continue;
        int live = 0;
        for (int i = 0; i < n->n_out; i++)
            if (n->out[i] && needed[n->out[i]->id])
                live = 1;
        if (!live) {
            ir_node_kill(n);
            changes++;
            continue;
        }
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i] && n->in[i]->id < g->n_values && g->values[n->in[i]->id] == n->in[i])
                needed[n->in[i]->id] = 1;
    }
    free(needed);
    return changes;
}
