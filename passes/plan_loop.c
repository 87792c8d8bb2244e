/* plan_loop.c: the live ranges a run-time Loop's region needs, widened before pass_plan places buffers.
 *
 * pass_plan reads the schedule as straight-line code: a value is live from
 * the step that writes it to the last step that reads it. Between LoopBegin
 * and LoopEnd the steps run again, so (steps of LoopBegin = b, LoopEnd = e):
 * - a value written before the region (or its state, written at b) and read
 *   inside it is read again by the next iteration: it lives to e;
 * - a scan output is written at e by every iteration and must keep the rows
 *   of the earlier ones: it lives from b.
 * A value both written and read inside one iteration keeps its range: the
 * body's buffers are reused within and across iterations like any others. */
#include <stdlib.h>

#include "passes.h"

static int runs(const Node *n)
{
    return !n->dead && !ir_node_is_constant(n);
}

static int buf_id(const Graph *g, const int *buf_of, const Value *v)
{
    if (!v || v->id >= g->n_values || g->values[v->id] != v)
        return -1;
    return buf_of[v->id];
}

void plan_loop_ranges(const Graph *g, const int *buf_of, int *first, int *last)
{
    int *step = malloc(sizeof(int) * (size_t)(g->n_nodes + 1));
    IR_ASSERT(step);
    for (int k = 0, s = 0; k < g->n_nodes; k++)
        step[k] = runs(g->nodes[k]) ? s++ : -1;
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *e = g->nodes[k];
        if (e->op != OP_LOOP_END || step[k] < 0)
            continue;
        const Node *begin = e->in[e->n_in - 1]->producer;
        int kb = k;
        while (kb >= 0 && g->nodes[kb] != begin)
            kb--;
        IR_ASSERT(kb >= 0 && step[kb] >= 0);
        int sb = step[kb], se = step[k];
        for (int j = kb + 1; j <= k; j++) {
            const Node *n = g->nodes[j];
            if (step[j] < 0)
                continue;
            for (int i = 0; i < n->n_in; i++) {
                int b = buf_id(g, buf_of, n->in[i]);
                if (b >= 0 && first[b] <= sb && last[b] < se)
                    last[b] = se;
            }
        }
        int n_carried = (int)e->ints[RT_LOOP_N_CARRIED], n_scan = (int)e->ints[RT_LOOP_N_SCAN];
        for (int s = 0; s < n_scan; s++) {
            int b = buf_id(g, buf_of, e->out[n_carried + s]);
            if (b >= 0 && first[b] > sb)
                first[b] = sb;
        }
    }
    free(step);
}
