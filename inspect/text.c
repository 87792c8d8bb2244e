/* text.c: inspect --format text: the IR as ir_print writes it, then a cost line per node and the pass diff. */
#include "inspect.h"

void ins_text(const Inspect *in, FILE *f)
{
    ir_print(in->g, f);
    fprintf(f, "# per node: step, MFLOP, MB moved, weights (format, bytes), fused from\n");
    for (int i = 0; i < in->n_nodes; i++) {
        const InsNode *x = &in->nodes[i];
        if (x->step < 0)
            continue;
        fprintf(f, "#  %4d %-32s %-14s %10.3f %9.3f", x->step, x->n->name, x->n->op_type,
                x->flops / 1e6, x->bytes / 1e6);
        if (x->weight_bytes)
            fprintf(f, "  w %s %lld", x->wformat, (long long)x->weight_bytes);
        if (x->n->fused_from)
            fprintf(f, "  <- %s", x->n->fused_from);
        fputc('\n', f);
    }
    fprintf(f, "# total: %d nodes (%d run), %.6f GFLOP, %.3f MB moved, %lld parameters\n",
            in->n_nodes, in->n_run, in->flops / 1e9, in->bytes / 1e6, (long long)in->params);
    if (in->diff)
        ins_diff_print(in->diff, f);
}
