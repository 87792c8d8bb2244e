/* interp.c: the interpreter: runs IR nodes with the runtime's kernels (folding, `onnxcc run`). */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* A run-time Loop's markers have no row in the op table's kernel column,
 * so that no pass evaluates them at compile time. */
static RtKernel kernel_of(const Node *n)
{
    if (n->op == OP_LOOP_BEGIN)
        return rt_loop_begin;
    if (n->op == OP_LOOP_END)
        return rt_loop_end;
    return ir_ops[n->op].kernel;
}

/* rt: per value id, the actual extents of values with run-time dims (NULL:
 * the graph has none). */
static int call_kernel(Node *n, const void **in, void **out, int64_t (*rt)[IR_MAX_RANK], Diag *d)
{
    RtTensorDesc din[n->n_in + 1], dout[n->n_out + 1];
    for (int i = 0; i < n->n_in; i++)
        ir_desc(n->in[i], &din[i]);
    for (int i = 0; i < n->n_out; i++)
        ir_desc(n->out[i], &dout[i]);
    RtCall c = {n->n_in, n->n_out, din, dout, n->n_ints, n->n_floats, n->ints, n->floats};
    RtKernel k = kernel_of(n);
    IR_ASSERT(k);
    int rc;
    if (rt && ir_node_has_rt(n)) {
        const char *name;
        RtShapeFn fn = ir_rt_shape_fn(n, &name);
        IR_ASSERT(fn);
        const int64_t *id[n->n_in + 1];
        int64_t *od[n->n_out + 1];
        for (int i = 0; i < n->n_in; i++)
            id[i] = n->in[i] && n->in[i]->rt_mask ? rt[n->in[i]->id] : NULL;
        int64_t cap[n->n_out + 1];
        for (int i = 0; i < n->n_out; i++) {
            od[i] = n->out[i] && n->out[i]->rt_mask ? rt[n->out[i]->id] : NULL;
            cap[i] = n->out[i] ? n->out[i]->rt_cap : 0;
        }
        rc = rt_dyn_call(&c, fn, k, id, od, cap, in, out);
        if (rc == RT_EBOUND && ir_rt_grows(n))
            return ir_node_error(d, n, "output '%s' needs more than %lld elements (or an "
                                 "extent past it), the bound of a tensor grown by values read "
                                 "at run time (--max-elements N raises it)", n->out[0]->name,
                                 (long long)n->out[0]->rt_cap);
        if (rc == RT_EBOUND || rc == RT_ESHAPE)
            return ir_node_error(d, n, "%s", rc == RT_EBOUND
                                 ? "an output extent is past the bound the model was compiled for"
                                 : "its inputs' run-time extents (or the values that decide "
                                   "its output's) do not fit together");
    } else {
        rc = k(&c, in, out);
    }
    if (rc == RT_EBOUND && (n->op == OP_LOOP_BEGIN || n->op == OP_LOOP_END))
        return ir_node_error(d, n, "the loop needs more than %lld iterations, its bound "
                             "(--loop-max N raises it)", (long long)n->ints[RT_LOOP_BOUND]);
    if (rc == RT_EUNSUPPORTED && n->op == OP_DROPOUT)
        return ir_node_error(d, n, "training_mode is true with a ratio above 0, which is not "
                             "supported: onnxcc compiles inference only");
    if (rc == RT_EDTYPE)
        return ir_node_error(d, n, "no kernel path for dtype %s",
                             rt_dtype_name(n->in[0] ? n->in[0]->dtype : RT_UNDEF));
    if (rc)
        return ir_node_error(d, n, "kernel %s failed with status %d", ir_ops[n->op].kernel_name,
                             rc);
    return 0;
}

int ir_eval_node(Graph *g, Node *n, Diag *d)
{
    IR_ASSERT(n->op >= 0 && ir_ops[n->op].kernel);
    const void *in[n->n_in + 1];
    void *out[n->n_out + 1];
    for (int i = 0; i < n->n_in; i++) {
        in[i] = n->in[i] ? n->in[i]->data : NULL;
        IR_ASSERT(!n->in[i] || in[i]);
    }
    for (int i = 0; i < n->n_out; i++) {
        out[i] = NULL;
        if (n->out[i]) {
            out[i] = ir_value_alloc_data(g, n->out[i]);
            if (!out[i])
                return ir_node_error(d, n, "out of memory folding output '%s'",
                                     n->out[i]->name);
        }
    }
    if (call_kernel(n, in, out, NULL, d) < 0) {
        for (int i = 0; i < n->n_out; i++)
            if (n->out[i])
                n->out[i]->data = NULL;
        return -1;
    }
    /* a data-dependent extent is now known: the outputs take their exact
     * shape (the kernel wrote them contiguously with that extent) */
    for (int i = 0; i < n->n_out; i++) {
        Value *v = n->out[i];
        if (!v || !v->dyn)
            continue;
        int64_t len = *(const int64_t *)v->dyn_len->data;
        if (len < 0 || len > v->dims[v->dyn_axis])
            return ir_node_error(d, n, "kernel %s reported extent %lld for '%s', bound %lld",
                                 ir_ops[n->op].kernel_name, (long long)len, v->name,
                                 (long long)v->dims[v->dyn_axis]);
        v->dims[v->dyn_axis] = len;
        v->dyn = 0;
        v->dyn_len = NULL;
    }
    return 0;
}

/* Where the run goes after node k: a LoopEnd whose loop runs again (its
 * last input, `go`, is set) goes back to just after its LoopBegin. Each
 * node keeps its buffers from one iteration to the next. */
static int loop_next(const Graph *g, int k, const void *const *in)
{
    const Node *n = g->nodes[k];
    if (n->op != OP_LOOP_END || !*(const unsigned char *)in[n->n_in - 1])
        return k;
    const Node *begin = n->in[n->n_in - 1]->producer;
    int kb = k;
    while (kb >= 0 && g->nodes[kb] != begin)
        kb--;
    IR_ASSERT(kb >= 0);
    return kb;
}

/* Buffers of one interpreter run: constants point at their data, everything
 * else is malloc'ed here (once, however often a loop runs the node) and
 * freed at the end. */
int ir_run_observe(Graph *g, const RtTensor *inputs, RtTensor *outputs, Diag *d,
                   IrObserver obs, void *obs_ctx)
{
    int rc = -1;
    IrGuard *guards = NULL;
    int64_t (*rt)[IR_MAX_RANK] = NULL;
    memset(outputs, 0, sizeof *outputs * (size_t)g->n_outputs);
    void **buf = calloc((size_t)g->n_values + 1, sizeof *buf);
    char *owned = calloc((size_t)g->n_values + 1, 1);
    if (!buf || !owned) {
        ir_error(d, "out of memory");
        goto done;
    }
    if (ir_graph_has_rt(g) && !(rt = calloc((size_t)g->n_values + 1, sizeof *rt))) {
        ir_error(d, "out of memory");
        goto done;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const Value *v = g->inputs[i];
        if (v->rt_mask) {
            /* run-time dims: the tensor's own extents, within the bounds */
            const RtTensorDesc *t = &inputs[i].desc;
            int ok = t->rank == v->rank &&
                     rt_dims_check(v->rank, t->dims, v->rt_lo, v->dims, rt[v->id]) == RT_OK;
            if (!ok || inputs[i].nbytes != rt_dims_bytes(v->dtype, v->rank, t->dims)) {
                ir_error(d, "input '%s': its extents are outside the bounds it was compiled for",
                         v->name);
                goto done;
            }
            /* kernels may read up to the bound: the buffer is the bound's size */
            void *p = calloc(1, ir_nbytes(v) ? ir_nbytes(v) : 1);
            if (!p) {
                ir_error(d, "out of memory");
                goto done;
            }
            if (inputs[i].nbytes)
                memcpy(p, inputs[i].data, inputs[i].nbytes);
            buf[v->id] = p;
            owned[v->id] = 1;
            continue;
        }
        if (inputs[i].nbytes != ir_nbytes(v)) {
            ir_error(d, "input '%s': expected %zu bytes, got %zu", v->name, ir_nbytes(v),
                     inputs[i].nbytes);
            goto done;
        }
        buf[v->id] = inputs[i].data;
    }
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i]->data)
            buf[i] = g->values[i]->data;
    guards = ir_guards(g);
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n))
            continue;
        int skip = 0; /* a branch of an If not taken: outputs zeroed, never read */
        for (int j = 0; j < guards[k].n && !skip; j++)
            skip = (*(const unsigned char *)buf[guards[k].cond[j]->id] != 0) != guards[k].when[j];
        const void *in[n->n_in + 1];
        void *out[n->n_out + 1];
        for (int i = 0; i < n->n_in; i++) {
            in[i] = n->in[i] ? buf[n->in[i]->id] : NULL;
            IR_ASSERT(!n->in[i] || in[i] || ir_nbytes(n->in[i]) == 0);
        }
        for (int i = 0; i < n->n_out; i++) {
            out[i] = NULL;
            Value *v = n->out[i];
            if (!v)
                continue;
            if (!owned[v->id]) {
                buf[v->id] = calloc(1, ir_nbytes(v) ? ir_nbytes(v) : 1);
                owned[v->id] = 1;
            }
            out[i] = buf[v->id];
            if (!out[i]) {
                ir_error(d, "out of memory");
                goto done;
            }
        }
        if (skip && n->op == OP_LOOP_BEGIN)
            *(unsigned char *)out[n->n_out - 1] = 0; /* not started: `go` clear */
        if (skip)
            continue;
        if (call_kernel(n, in, out, rt, d) < 0)
            goto done;
        for (int i = 0; obs && i < n->n_out; i++)
            if (n->out[i] && !n->out[i]->dyn)
                obs(obs_ctx, n->out[i], out[i]);
        k = loop_next(g, k, in);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const Value *v = g->outputs[i];
        RtTensor *t = &outputs[i];
        memset(t, 0, sizeof *t);
        ir_desc(v, &t->desc);
        snprintf(t->name, sizeof t->name, "%s", v->name);
        if (rt && v->rt_mask)
            memcpy(t->desc.dims, rt[v->id], sizeof *t->desc.dims * (size_t)v->rank);
        if (v->dyn) {
            int64_t len = *(const int64_t *)buf[v->dyn_len->id];
            if (len < 0 || len > v->dims[v->dyn_axis]) {
                ir_error(d, "output '%s': extent %lld is past its bound %lld", v->name,
                         (long long)len, (long long)v->dims[v->dyn_axis]);
                goto done;
            }
            t->desc.dims[v->dyn_axis] = len;
        }
        t->nbytes = rt_dtype_bytes(v->dtype, rt_numel(&t->desc));
        /* strings point into buffers freed below: the caller gets its own copy */
        if (v->dtype == RT_STRING)
            t->data = rt_strings_pack(buf[v->id], (size_t)rt_numel(&t->desc));
        else
            t->data = malloc(t->nbytes ? t->nbytes : 1);
        if (!t->data) {
            ir_error(d, "out of memory");
            goto done;
        }
        if (t->nbytes && v->dtype != RT_STRING)
            memcpy(t->data, buf[v->id], t->nbytes);
    }
    rc = 0;
done:
    free(guards);
    free(rt);
    if (buf && owned)
        for (int i = 0; i < g->n_values; i++)
            if (owned[i])
                free(buf[i]);
    free(buf);
    free(owned);
    return rc;
}

int ir_run(Graph *g, const RtTensor *inputs, RtTensor *outputs, Diag *d)
{
    return ir_run_observe(g, inputs, outputs, d, NULL, NULL);
}
