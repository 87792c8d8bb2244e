/* dot.c: inspect --format dot: the graph for Graphviz, one box per node, an edge per tensor read. */
#include <string.h>

#include "inspect.h"

/* A DOT string body: quotes and backslashes escaped; newlines are the
 * caller's "\n" escapes. */
static void esc(const char *s, FILE *f)
{
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
}

void ins_dot(const Inspect *in, FILE *f)
{
    const Graph *g = in->g;
    char type[256];
    fputs("digraph onnxcc {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", "
          "fillcolor=\"#eef3fb\", fontname=\"Helvetica\", fontsize=10];\n"
          "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#667788\"];\n", f);
    for (int i = 0; i < g->n_inputs; i++) {
        ins_type(g->inputs[i], type, sizeof type);
        fprintf(f, "  in%d [shape=ellipse, fillcolor=\"#e4f4e4\", label=\"", i);
        esc(g->inputs[i]->name, f);
        fputs("\\n", f);
        esc(type, f);
        fputs("\"];\n", f);
    }
    for (int i = 0; i < in->n_nodes; i++) {
        const InsNode *x = &in->nodes[i];
        /* fused nodes stand out; constant ones (folded away at run time) are grey */
        const char *fill = x->step < 0 ? "#eeeeee" : x->n->fused_from ? "#fbeed8" : "#eef3fb";
        fprintf(f, "  n%d [fillcolor=\"%s\", label=\"", i, fill);
        esc(x->n->op_type, f);
        fputs("\\n", f);
        esc(x->n->name, f);
        if (x->n->n_out && x->n->out[0]) {
            ins_type(x->n->out[0], type, sizeof type);
            fputs("\\n", f);
            esc(type, f);
        }
        if (x->flops > 0)
            fprintf(f, "\\n%.3g MFLOP", x->flops / 1e6);
        if (x->weight_bytes)
            fprintf(f, "\\nweights %s %.3g kB", x->wformat, (double)x->weight_bytes / 1e3);
        if (x->n->fused_from) {
            fputs("\\nfused: ", f);
            esc(x->n->fused_from, f);
        }
        fputs("\"];\n", f);
    }
    for (int i = 0; i < in->n_nodes; i++) {
        const Node *n = in->nodes[i].n;
        for (int k = 0; k < n->n_in; k++) {
            const Value *v = n->in[k];
            int from = in->nodes[i].from[k];
            if (!v || (from < 0 && !v->is_input))
                continue;
            ins_type(v, type, sizeof type);
            if (from >= 0) {
                fprintf(f, "  n%d -> n%d [label=\"", from, i);
            } else {
                int j = 0;
                while (j < g->n_inputs && g->inputs[j] != v)
                    j++;
                if (j == g->n_inputs)
                    continue;
                fprintf(f, "  in%d -> n%d [label=\"", j, i);
            }
            esc(type, f);
            fputs("\"];\n", f);
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const Value *v = g->outputs[i];
        fprintf(f, "  out%d [shape=ellipse, fillcolor=\"#f4e4e4\", label=\"", i);
        esc(v->name, f);
        fputs("\"];\n", f);
        for (int k = 0; k < in->n_nodes; k++)
            for (int j = 0; j < in->nodes[k].n->n_out; j++)
                if (in->nodes[k].n->out[j] == v)
                    fprintf(f, "  n%d -> out%d;\n", k, i);
    }
    fputs("}\n", f);
}
