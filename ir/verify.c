/* verify.c: the IR verifier: checks the invariants every pass must keep. */
#include <stdlib.h>

#include "ir.h"

/* The use lists hold exactly the inputs of g's live nodes that read g's
 * values: each slot that should be on a list is on its input's list, no
 * other slot is on any, and the lists hold no more entries than that (so
 * none holds a slot twice or a slot of another graph). */
static int verify_uses(const Graph *g, Diag *d)
{
    int64_t want = 0, have = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        for (int i = 0; i < n->n_in; i++) {
            const Value *v = n->in[i];
            const Use *u = &n->slots[i];
            int listed = !n->dead && v && ir_value_owned(g, v);
            want += listed;
            if (listed && (u->val != v || u->node != n || u->idx != i))
                return ir_node_error(d, n, "IR verify: input %d ('%s') is not on its use list",
                                     i, v->name);
            if (!listed && u->val)
                return ir_node_error(d, n, "IR verify: a stale use of '%s' (input %d)",
                                     u->val->name, i);
        }
    }
    for (int i = 0; i < g->n_values; i++) {
        const Value *v = g->values[i];
        int64_t count = 0;
        for (const Use *u = v->uses; u && count <= want; u = u->next, count++)
            if (u->val != v || (u->next && u->next->prev != u) || (!u->prev) != (u == v->uses))
                return ir_error(d, "IR verify: the use list of '%s' is broken", v->name);
        if (count != v->n_uses)
            return ir_error(d, "IR verify: '%s' counts %d uses, its list holds %lld", v->name,
                            v->n_uses, (long long)count);
        have += count;
    }
    if (have != want)
        return ir_error(d, "IR verify: the use lists hold %lld uses, the nodes make %lld",
                        (long long)have, (long long)want);
    return 0;
}

/* Every live node reads only values defined before it (graph inputs,
 * constants, outer-scope values, or outputs of earlier live nodes); every
 * value has one producer; graph outputs are defined; the use lists match
 * the nodes' inputs. */
int ir_verify(const Graph *g, Diag *d)
{
    if (verify_uses(g, d) < 0)
        return -1;
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
            if (v && ir_value_owned(g, v) && !defined[v->id])
                rc = ir_node_error(d, n, "IR verify: input '%s' is used before it is defined",
                                   v->name);
        }
        for (int i = 0; i < n->n_out && rc == 0; i++) {
            const Value *v = n->out[i];
            if (!v)
                continue;
            if (!ir_value_owned(g, v))
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
        if (ir_value_owned(g, v) && !defined[v->id])
            rc = ir_error(d, "IR verify: graph output '%s' is never defined", v->name);
    }
    free(defined);
    return rc;
}
