/* guard.c: which nodes an If's run-time condition lets a run skip.
 *
 * An If whose condition is known only at run time is lowered with both
 * branches inlined and a Where (IR_ATTR_IF_SELECT) picking each output.
 * A node is worth running only when some reader of its outputs is: its
 * guard is what every reader's guard has in common, and a Where picking an
 * If's output adds "cond is true" to its then-input's readers and "cond is
 * false" to its else-input's. The analysis runs on the final graph, after
 * every fusion, so no pass has to carry guards: a node that fusion merged
 * with unconditional work simply has no guard.
 *
 * Guards are conjunctions of literals in order of nesting, outer first.
 * Intersecting keeps that order, and a list holding an inner If's literal
 * holds every literal of that If's own guard before it, so evaluating a
 * guard left to right with && only reads a condition whose producer ran.
 * The one reader of a skipped value is the Where, which reads the branch
 * not taken and discards it; every other reader is skipped with it.
 *
 * A branch may return a value computed before the If's condition (an
 * exporter's short-circuit `a and b` makes b's If return a value computed
 * ahead of it): a node scheduled before a condition's producer cannot be
 * guarded by it (the condition is not computed yet, or in a run-time loop
 * is still the previous iteration's), so its guard stops before that
 * literal. Dropping the tail keeps the order above. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Pending {
    int set;                     /* a reader has spoken */
    IrGuard g;
} Pending;

/* a := the literals of a that b also has, in a's order */
static void intersect(IrGuard *a, const IrGuard *b)
{
    int n = 0;
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++)
            if (a->cond[i] == b->cond[j] && a->when[i] == b->when[j]) {
                a->cond[n] = a->cond[i];
                a->when[n++] = a->when[i];
                break;
            }
    a->n = n;
}

static void hand_to(Pending *p, const IrGuard *g)
{
    if (!p->set) {
        p->set = 1;
        p->g = *g;
    } else {
        intersect(&p->g, g);
    }
}

static int is_if_select(const Node *n)
{
    return n->op == OP_WHERE && n->n_in == 3 && ir_attr_int(n, IR_ATTR_IF_SELECT, 0) &&
           n->in[0] && !n->in[0]->data && ir_numel(n->in[0]) == 1 &&
           n->in[0]->dtype == RT_BOOL && n->in[1] != n->in[2];
}

IrGuard *ir_guards(const Graph *g)
{
    IrGuard *out = calloc((size_t)g->n_nodes + 1, sizeof *out);
    Pending *val = calloc((size_t)g->n_values + 1, sizeof *val);
    int *made_at = calloc((size_t)g->n_values + 1, sizeof *made_at); /* producer's k + 1 */
    IR_ASSERT(out && val && made_at);
    for (int k = 0; k < g->n_nodes; k++)
        for (int i = 0; !g->nodes[k]->dead && i < g->nodes[k]->n_out; i++)
            if (g->nodes[k]->out[i] && g->nodes[k]->out[i]->id < g->n_values)
                made_at[g->nodes[k]->out[i]->id] = k + 1;
    for (int i = 0; i < g->n_outputs; i++)
        val[g->outputs[i]->id].set = 1; /* the caller reads it: always */
    for (int k = g->n_nodes - 1; k >= 0; k--) {
        const Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n))
            continue;
        /* the node runs when any output is wanted: keep what all agree on
         * (an output nobody reads wants nothing, so it does not narrow) */
        IrGuard mine = {0};
        int first = 1, any = 0;
        for (int i = 0; i < n->n_out; i++) {
            const Value *v = n->out[i];
            if (!v || !val[v->id].set)
                continue;
            any = 1;
            if (first)
                mine = val[v->id].g, first = 0;
            else
                intersect(&mine, &val[v->id].g);
        }
        if (!any)
            mine.n = 0;
        for (int j = 0; j < mine.n; j++)
            if (mine.cond[j]->id < g->n_values && made_at[mine.cond[j]->id] > k) {
                mine.n = j;
                break;
            }
        out[k] = mine;
        int select = is_if_select(n);
        for (int i = 0; i < n->n_in; i++) {
            const Value *v = n->in[i];
            if (!v)
                continue;
            IrGuard use = mine;
            if (select && i > 0 && use.n < IR_MAX_GUARD) {
                use.cond[use.n] = n->in[0];
                use.when[use.n++] = i == 1;
            }
            hand_to(&val[v->id], &use);
        }
    }
    free(val);
    free(made_at);
    return out;
}
