/* io_groups.c: sequence and optional graph inputs and outputs, flattened
 * into tensors. A caller still passes one file (or one structure) per ONNX
 * input; the generated code sees only the tensors, and IoGroup records how
 * they nest (the layout string, e.g. "S[TT]"). */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Flat {
    Value **v;
    int n, cap;
    char *lay;
    size_t len, lay_cap;
} Flat;

static void put(Flat *f, const char *s)
{
    size_t k = strlen(s);
    if (f->len + k + 1 > f->lay_cap) {
        f->lay_cap = (f->len + k + 1) * 2;
        f->lay = realloc(f->lay, f->lay_cap);
        IR_ASSERT(f->lay);
    }
    memcpy(f->lay + f->len, s, k + 1);
    f->len += k;
}

static void flatten(Flat *f, Value *v)
{
    if (v->kind == VK_TENSOR) {
        if (f->n == f->cap) {
            f->cap = f->cap ? 2 * f->cap : 16;
            f->v = realloc(f->v, sizeof *f->v * (size_t)f->cap);
            IR_ASSERT(f->v);
        }
        f->v[f->n++] = v;
        put(f, "T");
        return;
    }
    put(f, v->kind == VK_SEQUENCE ? "S[" : "O[");
    for (int i = 0; i < v->n_elems; i++)
        flatten(f, v->elems[i]);
    put(f, "]");
}

int ir_n_groups(const Graph *g, int is_out)
{
    if (is_out)
        return g->out_groups ? g->n_out_groups : g->n_outputs;
    return g->in_groups ? g->n_in_groups : g->n_inputs;
}

IoGroup ir_io_group(const Graph *g, int is_out, int k)
{
    const IoGroup *gr = is_out ? g->out_groups : g->in_groups;
    IR_ASSERT(k >= 0 && k < ir_n_groups(g, is_out));
    if (gr)
        return gr[k];
    const Value *v = is_out ? g->outputs[k] : g->inputs[k];
    return (IoGroup){v->name, "T", k, 1, v->dtype};
}

/* Groups for g's current inputs or outputs, one tensor each. */
static IoGroup *default_groups(Graph *g, int is_out)
{
    int n = is_out ? g->n_outputs : g->n_inputs;
    IoGroup *gr = ir_alloc(g, sizeof *gr * (size_t)(n + 1));
    IR_ASSERT(gr);
    for (int i = 0; i < n; i++)
        gr[i] = ir_io_group(g, is_out, i);
    return gr;
}

int ir_flatten_outputs(Graph *g, Diag *d)
{
    (void)d;
    int structured = 0;
    for (int i = 0; i < g->n_outputs; i++)
        structured |= g->outputs[i]->kind != VK_TENSOR;
    if (!structured)
        return 0;
    Flat f = {0};
    IoGroup *gr = ir_alloc(g, sizeof *gr * (size_t)(g->n_outputs + 1));
    IR_ASSERT(gr);
    for (int i = 0; i < g->n_outputs; i++) {
        Value *v = g->outputs[i];
        f.len = 0;
        int first = f.n;
        flatten(&f, v);
        gr[i] = (IoGroup){v->name, ir_strdup(g, f.lay), first, f.n - first, v->dtype};
    }
    free(g->outputs);
    g->outputs = calloc((size_t)f.n + 1, sizeof *g->outputs);
    IR_ASSERT(g->outputs);
    for (int i = 0; i < f.n; i++) {
        g->outputs[i] = f.v[i];
        f.v[i]->is_output = 1;
    }
    g->out_groups = gr;
    g->n_out_groups = g->n_outputs;
    g->n_outputs = f.n;
    free(f.v);
    free(f.lay);
    return 0;
}

/* Builds the structure spelled at *lay from tensors ts[*k...], adding each
 * tensor as a graph input of g. */
static Value *build(Graph *g, const char *base, const char **lay, const RtTensor *ts, int count,
                    int *k, int dtype, Value *root)
{
    char name[256];
    char c = **lay;
    (*lay)++;
    if (c == 'T') {
        if (*k >= count)
            return NULL;
        const RtTensor *t = &ts[*k];
        snprintf(name, sizeof name, "%s[%d]", base, *k);
        Value *v = ir_value_new(g, name);
        v->is_input = 1;
        v->dtype = t->desc.dtype;
        v->rank = t->desc.rank;
        memcpy(v->dims, t->desc.dims, sizeof t->desc.dims);
        g->inputs[g->n_inputs++] = v;
        (*k)++;
        return v;
    }
    if ((c != 'S' && c != 'O') || **lay != '[')
        return NULL;
    (*lay)++;
    Value *v = root ? root : ir_value_new(g, NULL);
    v->kind = c == 'S' ? VK_SEQUENCE : VK_OPTIONAL;
    v->dtype = dtype;
    v->n_elems = 0;
    v->elems = ir_alloc(g, sizeof *v->elems * (size_t)(count + 1));
    IR_ASSERT(v->elems);
    while (**lay && **lay != ']') {
        Value *e = build(g, base, lay, ts, count, k, dtype, NULL);
        if (!e)
            return NULL;
        v->elems[v->n_elems++] = e;
    }
    if (**lay != ']')
        return NULL;
    (*lay)++;
    return v;
}

int ir_expand_input(Graph *g, const char *name, const char *layout, const RtTensor *ts,
                    int count, Diag *d)
{
    int idx = -1;
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i]->name, name))
            idx = i;
    IR_ASSERT(idx >= 0);
    if (!g->in_groups) {
        g->in_groups = default_groups(g, 0);
        g->n_in_groups = g->n_inputs;
    }
    Value *root = g->inputs[idx];
    /* the structure's tensors replace it in the inputs, in order */
    Value **old = g->inputs;
    int n_old = g->n_inputs;
    g->inputs = calloc((size_t)(n_old + count) + 1, sizeof *g->inputs);
    IR_ASSERT(g->inputs);
    g->n_inputs = 0;
    for (int i = 0; i < idx; i++)
        g->inputs[g->n_inputs++] = old[i];
    int gi = -1;
    for (int i = 0; i < g->n_in_groups; i++)
        if (g->in_groups[i].first == idx && !strcmp(g->in_groups[i].name, name))
            gi = i;
    IR_ASSERT(gi >= 0);
    const char *lay = layout;
    int k = 0;
    root->is_input = 0;
    Value *v = build(g, name, &lay, ts, count, &k, root->dtype, root);
    int rc = 0;
    if (!v || *lay || k != count || (v->kind == VK_SEQUENCE) != (root->nest[0] == 'S'))
        rc = ir_error(d, "input '%s': the sample's structure %s does not match the model's "
                      "type", name, layout);
    for (int i = idx + 1; i < n_old; i++)
        g->inputs[g->n_inputs++] = old[i];
    free(old);
    g->in_groups[gi].layout = ir_strdup(g, layout);
    g->in_groups[gi].count = count;
    for (int i = gi + 1; i < g->n_in_groups; i++)
        g->in_groups[i].first += count - 1;
    return rc;
}

int ir_read_group(const Graph *g, int is_out, int gi, const char *file, RtTensor *flat, Diag *d)
{
    IoGroup x = ir_io_group(g, is_out, gi);
    char err[600];
    if (!strcmp(x.layout, "T")) {
        if (rt_tensor_read(file, &flat[x.first], err, sizeof err))
            return ir_error(d, "%s", err);
        return 0;
    }
    char nest[32], layout[512];
    int count = 0;
    rt_layout_nest(x.layout, nest, sizeof nest);
    RtTensor *ts = calloc((size_t)x.count + 1, sizeof *ts);
    IR_ASSERT(ts);
    int rc = 0;
    if (rt_struct_read(file, nest, ts, x.count + 1, &count, layout, sizeof layout, err,
                       sizeof err))
        rc = ir_error(d, "%s", err);
    else if (strcmp(layout, x.layout))
        rc = ir_error(d, "%s: '%s' was compiled for the structure %s, the file holds %s", file,
                      x.name, x.layout, layout);
    for (int i = 0; i < count; i++) {
        if (rc == 0)
            flat[x.first + i] = ts[i];
        else
            rt_tensor_free(&ts[i]);
    }
    free(ts);
    return rc;
}

int ir_write_group(const Graph *g, int gi, const RtTensor *flat, const char *path, int npy,
                   Diag *d)
{
    IoGroup x = ir_io_group(g, 1, gi);
    int rc;
    if (!strcmp(x.layout, "T"))
        rc = (npy ? rt_tensor_write_npy : rt_tensor_write_pb)(path, &flat[x.first]);
    else if (npy)
        return ir_error(d, "cannot write the structured output '%s' as .npy; use .pb", x.name);
    else
        rc = rt_struct_write_pb(path, x.layout, flat + x.first, x.count);
    return rc ? ir_error(d, "cannot write '%s'", path) : 0;
}
