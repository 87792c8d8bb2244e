/* verify.c: the IR verifier: checks the invariants every pass must keep. */
#include <stdlib.h>

#include "ir.h"

static int owns(const Graph *g, const Value *v)
{
    return v->id >= 0 && v->id < g->n_values && g->values[v->id] == v;
}

/* Every live node reads only values defined before it (graph inputs,
 * constants, outer-scope values, or outputs of earlier live nodes); every
 * value has one producer; graph outputs are defined. */
int ir_verify(const Graph *g, Diag *d)
{
    char *defined = calloc((size_t)g->n_values + 1, 1);
    IR_ASSERT(defined);
    int rc = 0;
    for (int i = 0; i < g->n_values; i++) {
        const Value *v = g->values[i];
        if (v->is_input || v->data || (!v->producer && !v->is_output))
            defined[i] = 1;
    }
    for (int k = 0; k < g->n_nodes && rc == 0; k++) {
        const Node *n = g->nodes[k];
        if (n->dead)
            continue;
        for (int i = 0; i < n->n_in && rc == 0; i++) {
            const Value *v = n->in[i];
            if (v && owns(g, v) && !defined[v->id])
                rc = ir_node_error(d, n, "IR verify: input '%s' is used before it is defined",
                                   v->name);
        }
        for (int i = 0; i < n->n_out && rc == 0; i++) {
            const Value *v = n->out[i];
            if (!v)
                continue;
            if (!owns(g, v))
                rc = ir_node_error(d, n, "IR verify: output '%s' belongs to another graph",
                                   v->name);
            else if (v->producer != n)
                rc = ir_node_error(d, n, "IR verify: output '%s' has another producer",
                                   v->name);
            else
                defined[v->id] = 1;
        }
    }
    for (int i = 0; i < g->n_outputs && rc == 0; i++) {
        const Value *v = g->outputs[i];
        if (owns(g, v) && !defined[v->id])
            rc = ir_error(d, "IR verify: graph output '%s' is never defined", v->name);
    }
    free(defined);
    return rc;
}
