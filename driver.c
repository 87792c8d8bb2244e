/* driver.c: load, bind and optimize a model the way every command needs it. */
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "frontend/frontend.h"
#include "lua/lx.h"

/* Gives each sample its graph input: named ones by name, the rest in order. */
static int assign_samples(const Graph *g, Sample *s, int ns, Diag *d)
{
    char *taken = calloc((size_t)g->n_inputs + 1, 1);
    IR_ASSERT(taken);
    int rc = 0;
    for (int k = 0; k < ns && rc == 0; k++) {
        s[k].input_index = -1;
        if (!s[k].name)
            continue;
        for (int i = 0; i < g->n_inputs; i++)
            if (!strcmp(g->inputs[i]->name, s[k].name))
                s[k].input_index = i;
        if (s[k].input_index < 0)
            rc = ir_error(d, "%s: the model has no input named '%s'", s[k].file, s[k].name);
        else if (taken[s[k].input_index]++)
            rc = ir_error(d, "input '%s' is given twice", s[k].name);
    }
    int next = 0;
    for (int k = 0; k < ns && rc == 0; k++) {
        if (s[k].name)
            continue;
        while (next < g->n_inputs && taken[next])
            next++;
        if (next >= g->n_inputs)
            rc = ir_error(d, "%s: the model has only %d inputs", s[k].file, g->n_inputs);
        else
            taken[next] = 1, s[k].input_index = next;
    }
    free(taken);
    return rc;
}

/* A sequence/optional input's sample decides its length and element types. */
static int expand_structure(Graph *g, const char *name, const char *file, Diag *d)
{
    Value *v = NULL;
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i]->name, name))
            v = g->inputs[i];
    if (!v || v->kind == VK_TENSOR)
        return 0;
    enum { MAX_TENSORS = 4096 };
    RtTensor *ts = calloc(MAX_TENSORS, sizeof *ts);
    IR_ASSERT(ts);
    char err[600], layout[8192];
    int count = 0, rc;
    if (rt_struct_read(file, v->nest, ts, MAX_TENSORS, &count, layout, sizeof layout, err,
                       sizeof err))
        rc = ir_error(d, "input '%s': %s", name, err);
    else
        rc = ir_expand_input(g, name, layout, ts, count, d);
    for (int i = 0; i < count; i++) {
        if (rc == 0 && v->dtype != RT_UNDEF && ts[i].desc.dtype != v->dtype)
            rc = ir_error(d, "input '%s' (%s): holds %s, the model declares %s", name, file,
                          rt_dtype_name(ts[i].desc.dtype), rt_dtype_name(v->dtype));
        rt_tensor_free(&ts[i]);
    }
    free(ts);
    return rc;
}

static Graph *attempt(const char *path, const Binding *b, int nb, Sample *s, int ns,
                      int opt_level, PassCtx *ctx)
{
    Diag *d = ctx->d;
    Binding *sb = NULL;
    char (*names)[128] = NULL;
    Graph *g = onnx_load_limits(path, ctx->limits, d);
    if (!g)
        return NULL;
    g->max_string_bytes = ctx->max_string_bytes;
    if (assign_samples(g, s, ns, d) < 0)
        goto fail;
    sb = calloc((size_t)ns + 1, sizeof *sb);
    names = calloc((size_t)ns + 1, sizeof *names);
    int nsb = 0;
    IR_ASSERT(sb && names);
    for (int k = 0; k < ns; k++) {
        snprintf(names[k], sizeof names[k], "%s", g->inputs[s[k].input_index]->name);
        Binding *x = &sb[nsb++];
        memset(x, 0, sizeof *x);
        x->name = names[k];
        x->file = s[k].file;
        if (s[k].compiled_in) {
            x->kind = BIND_CONST;
            continue;
        }
        const Value *v = g->inputs[s[k].input_index];
        if (v->kind != VK_TENSOR) {
            /* a sequence or optional: expanded into its tensors after binding */
            nsb--;
            continue;
        }
        RtTensor t;
        char err[512];
        if (rt_tensor_read(s[k].file, &t, err, sizeof err)) {
            ir_error(d, "%s", err);
            goto fail;
        }
        int bad = v->dtype != RT_UNDEF && v->dtype != t.desc.dtype;
        if (bad)
            ir_error(d, "input '%s' (%s): expected %s, got %s", v->name, s[k].file,
                     rt_dtype_name(v->dtype), rt_dtype_name(t.desc.dtype));
        x->kind = BIND_SHAPE;
        x->rank = t.desc.rank;
        memcpy(x->dims, t.desc.dims, sizeof x->dims);
        rt_tensor_free(&t);
        if (bad)
            goto fail;
    }
    if (ir_bind(g, b, nb, d) < 0 || ir_bind(g, sb, nsb, d) < 0)
        goto fail;
    for (int k = 0; k < ns; k++)
        if (!s[k].compiled_in && expand_structure(g, names[k], s[k].file, d) < 0)
            goto fail;
    /* constants moved out of g->inputs, structures expanded: re-map the
     * samples to the input groups */
    for (int k = 0; k < ns; k++) {
        s[k].input_index = -1;
        for (int i = 0; i < ir_n_groups(g, 0); i++)
            if (!strcmp(ir_io_group(g, 0, i).name, names[k]))
                s[k].input_index = i;
    }
    /* an input with a sample whose value decides a shape is compiled in
     * from it rather than read when the model runs (pass_shape asks) */
    int rc;
    {
        const char *sampled[ns + 1];
        int n_sampled = 0;
        for (int k = 0; k < ns && ctx->sample_values; k++)
            if (!s[k].compiled_in)
                sampled[n_sampled++] = names[k];
        ctx->sampled = sampled;
        ctx->n_sampled = n_sampled;
        /* a Lua recipe (--pipeline) chooses the passes instead of the -O list */
        rc = ctx->pipeline ? lx_run_pipeline(g, opt_level, ctx)
                           : ir_run_pipeline(g, opt_level, ctx);
        ctx->sampled = NULL;
        ctx->n_sampled = 0;
    }
    if (rc < 0)
        goto fail;
    free(sb);
    free(names);
    return g;
fail:
    free(sb);
    free(names);
    ir_graph_free(g);
    return NULL;
}

Graph *drv_prepare(const char *path, const Binding *b, int nb, Sample *s, int ns, int opt_level,
                   PassCtx *ctx)
{
    Diag *d = ctx->d;
    for (int tries = 0; tries <= ns; tries++) {
        d->need_const[0] = 0;
        Diag keep = *d;
        Graph *g = attempt(path, b, nb, s, ns, opt_level, ctx);
        if (g || !d->need_const[0])
            return g;
        /* an input decides a shape: if the user gave a sample of it, compile
         * the sample's value in and try again */
        int k;
        for (k = 0; k < ns; k++)
            if (!s[k].compiled_in && s[k].name && !strcmp(s[k].name, d->need_const))
                break;
        if (k == ns) {
            for (k = 0; k < ns; k++) {
                if (s[k].compiled_in || s[k].name)
                    continue;
                /* positional: find it by position in a fresh load */
                Diag tmp = {0};
                Graph *probe = onnx_load_limits(path, ctx->limits, &tmp);
                int hit = probe && assign_samples(probe, s, ns, &tmp) == 0 &&
                          !strcmp(probe->inputs[s[k].input_index]->name, d->need_const);
                ir_graph_free(probe);
                if (hit)
                    break;
            }
        }
        if (k == ns)
            return NULL;
        s[k].compiled_in = 1;
        *d = keep;
    }
    return NULL;
}
