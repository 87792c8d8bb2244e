/* print.c: the IR as readable text (onnxcc inspect, --dump-after). */
#include <string.h>

#include "ir.h"

static void print_type(const Value *v, FILE *f)
{
    fprintf(f, "%s[", rt_dtype_name(v->dtype));
    for (int i = 0; i < v->rank; i++) {
        if (i)
            fputc(',', f);
        if (v->rt_mask >> i & 1)
            fprintf(f, "%lld..%lld", (long long)v->rt_lo[i], (long long)v->dims[i]);
        else if (v->dims[i] >= 0)
            fprintf(f, "%s%lld", v->dyn && i == v->dyn_axis ? "<=" : "",
                    (long long)v->dims[i]);
        else
            fprintf(f, "%s", v->dim_param[i] ? v->dim_param[i] : "?");
    }
    fputc(']', f);
}

/* A constant shows its first few elements: enough to recognize a shape
 * tensor or an epsilon, short enough for a weight. */
static void print_data(const Value *v, FILE *f)
{
    int64_t n = ir_numel(v);
    int show = n < 8 ? (int)n : 8;
    fputs(" = {", f);
    for (int i = 0; i < show; i++) {
        if (i)
            fputs(", ", f);
        if (v->dtype == RT_STRING)
            fprintf(f, "\"%.40s\"", ((const char *const *)v->data)[i]);
        else if (v->dtype == RT_F32 || v->dtype == RT_F64 || v->dtype == RT_F16 ||
                 v->dtype == RT_BF16)
            fprintf(f, "%g", rt_load_f64(v->data, v->dtype, i));
        else if (v->dtype == RT_U64)
            fprintf(f, "%llu", (unsigned long long)((const uint64_t *)v->data)[i]);
        else
            fprintf(f, "%lld", (long long)rt_load_i64(v->data, v->dtype, i));
    }
    if (n > show)
        fprintf(f, ", ... (%lld elements)", (long long)n);
    fputc('}', f);
}

static void print_attr(const Attr *a, FILE *f)
{
    fprintf(f, "%s=", a->name);
    switch (a->type) {
    case AT_INT: fprintf(f, "%lld", (long long)a->i); break;
    case AT_FLOAT: fprintf(f, "%g", a->f); break;
    case AT_STRING: fprintf(f, "\"%s\"", a->s); break;
    case AT_INTS:
        fputc('[', f);
        for (int i = 0; i < a->n; i++)
            fprintf(f, "%s%lld", i ? "," : "", (long long)a->ints[i]);
        fputc(']', f);
        break;
    case AT_FLOATS:
        fputc('[', f);
        for (int i = 0; i < a->n; i++)
            fprintf(f, "%s%g", i ? "," : "", a->floats[i]);
        fputc(']', f);
        break;
    case AT_STRINGS: fprintf(f, "<%d strings>", a->n); break;
    case AT_TENSOR: fprintf(f, "<tensor %s>", rt_dtype_name(a->t->dtype)); break;
    case AT_GRAPH: fprintf(f, "<graph, %d nodes>", a->g ? a->g->n_nodes : 0); break;
    default: fprintf(f, "<attr type %d>", a->type); break;
    }
}

static void print_graph(const Graph *g, FILE *f, int indent)
{
    const char *pad = indent ? "    " : "";
    for (int i = 0; i < g->n_inputs; i++) {
        fprintf(f, "%s  input  %%%s: ", pad, g->inputs[i]->name);
        print_type(g->inputs[i], f);
        fputc('\n', f);
    }
    for (int i = 0; i < g->n_values; i++) {
        const Value *v = g->values[i];
        if (!v->data || (!v->n_uses && !v->is_output))
            continue;
        fprintf(f, "%s  const  %%%s: ", pad, v->name);
        print_type(v, f);
        print_data(v, f);
        fputc('\n', f);
    }
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (n->dead)
            continue;
        fprintf(f, "%s  ", pad);
        for (int i = 0; i < n->n_out; i++) {
            if (i)
                fputs(", ", f);
            if (!n->out[i]) {
                fputs("_", f);
                continue;
            }
            fprintf(f, "%%%s: ", n->out[i]->name);
            print_type(n->out[i], f);
        }
        fprintf(f, " = %s%s%s(", n->domain[0] ? n->domain : "", n->domain[0] ? "." : "",
                n->op_type);
        for (int i = 0; i < n->n_in; i++)
            fprintf(f, "%s%s%s", i ? ", " : "", n->in[i] ? "%" : "_",
                    n->in[i] ? n->in[i]->name : "");
        fputc(')', f);
        if (n->n_attrs) {
            fputs(" {", f);
            for (int i = 0; i < n->n_attrs; i++) {
                if (i)
                    fputs(", ", f);
                print_attr(&n->attrs[i], f);
            }
            fputc('}', f);
        }
        fprintf(f, "  # '%s'", n->name);
        if (n->out[0] && n->out[0]->offset >= 0)
            fprintf(f, " @arena+%lld", (long long)n->out[0]->offset);
        fputc('\n', f);
        for (int i = 0; i < n->n_attrs; i++)
            if (n->attrs[i].type == AT_GRAPH && n->attrs[i].g) {
                fprintf(f, "%s    subgraph %s:\n", pad, n->attrs[i].name);
                print_graph(n->attrs[i].g, f, 1);
            }
    }
    for (int i = 0; i < g->n_outputs; i++)
        fprintf(f, "%s  output %%%s\n", pad, g->outputs[i]->name);
}

void ir_print(const Graph *g, FILE *f)
{
    fprintf(f, "graph '%s'", g->name ? g->name : "");
    for (int i = 0; i < g->n_opsets; i++)
        fprintf(f, "%s%s %lld", i ? ", " : " (opset ",
                g->opsets[i].domain && g->opsets[i].domain[0] ? g->opsets[i].domain : "ai.onnx",
                (long long)g->opsets[i].version);
    fputs(g->n_opsets ? ")\n" : "\n", f);
    print_graph(g, f, 0);
    int live = 0;
    for (int k = 0; k < g->n_nodes; k++)
        live += !g->nodes[k]->dead;
    fprintf(f, "# %d nodes, arena %lld bytes\n", live, (long long)g->arena_bytes);
}
