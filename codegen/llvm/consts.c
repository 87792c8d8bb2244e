/* consts.c: the LLVM module's constant data: weights, each node's RtCall, and the RtModel descriptor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/llvm/cgl.h"

/* Private and unnamed_addr: nothing outside the object sees it, so LLVM may
 * merge equal constants and place them as it likes. */
static LLVMValueRef add_const(Cgl *m, LLVMValueRef init, const char *sym, unsigned align)
{
    LLVMValueRef gv = LLVMAddGlobal(m->mod, LLVMTypeOf(init), sym);
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
    if (align)
        LLVMSetAlignment(gv, align);
    return gv;
}

LLVMValueRef cgl_cstring(Cgl *m, const char *s, const char *sym)
{
    return add_const(m, LLVMConstStringInContext2(m->ctx, s, strlen(s), 0), sym, 1);
}

static LLVMValueRef i32c(Cgl *m, long long v)
{
    return LLVMConstInt(m->t.i32, (unsigned long long)v, 1);
}

static LLVMValueRef i64c(Cgl *m, long long v)
{
    return LLVMConstInt(m->t.i64, (unsigned long long)v, 1);
}

/* A string constant: an array of pointers to NUL-terminated literals, as
 * the kernels read string tensors (the blob holds no pointers). */
static LLVMValueRef string_array(Cgl *m, const Value *v, const char *sym)
{
    const char *const *s = v->data;
    int64_t n = ir_numel(v);
    LLVMValueRef *p = malloc(sizeof *p * (size_t)(n + 1));
    IR_ASSERT(p);
    for (int64_t k = 0; k < n; k++) {
        char lit[128];
        snprintf(lit, sizeof lit, "%s.%lld", sym, (long long)k);
        p[k] = cgl_cstring(m, s[k], lit);
    }
    if (!n)
        p[n++] = LLVMConstPointerNull(m->t.ptr);
    LLVMValueRef gv = add_const(m, LLVMConstArray2(m->t.ptr, p, (uint64_t)n), sym, 0);
    free(p);
    return gv;
}

/* Each constant the code reads is its own global, 64-byte aligned like the
 * C backend's blob offsets: the kernels' vector loads and packed panels
 * expect that alignment. */
void cgl_weights(Cgl *m)
{
    const Graph *g = m->g;
    for (int i = 0; i < g->n_values; i++) {
        const Value *v = g->values[i];
        char sym[96];
        snprintf(sym, sizeof sym, "%s_w%d", m->name, v->id);
        if (m->w->is_string[i]) {
            m->weight[v->id] = string_array(m, v, sym);
            continue;
        }
        if (m->w->offset[i] < 0)
            continue;
        LLVMValueRef init =
            LLVMConstStringInContext2(m->ctx, (const char *)v->data, ir_nbytes(v), 1);
        m->weight[v->id] = add_const(m, init, sym, 64);
    }
}

static LLVMValueRef dims_array(Cgl *m, const int64_t *dims, int rank)
{
    LLVMValueRef d[RT_MAX_RANK];
    for (int i = 0; i < RT_MAX_RANK; i++)
        d[i] = i64c(m, i < rank ? (long long)dims[i] : 0);
    return LLVMConstArray2(m->t.i64, d, RT_MAX_RANK);
}

static LLVMValueRef desc(Cgl *m, const Value *v)
{
    RtTensorDesc t;
    ir_desc(v, &t);
    LLVMValueRef f[] = {i32c(m, t.dtype), i32c(m, t.rank), dims_array(m, t.dims, t.rank)};
    return LLVMConstNamedStruct(m->t.desc, f, 3);
}

/* An array of descriptors; an empty one is one zero entry, as in the C backend. */
static LLVMValueRef desc_array(Cgl *m, Value *const *vs, int n, const char *sym)
{
    LLVMValueRef *d = malloc(sizeof *d * ((size_t)n + 1));
    IR_ASSERT(d);
    for (int i = 0; i < n; i++)
        d[i] = desc(m, vs[i]);
    if (!n)
        d[n++] = desc(m, NULL);
    LLVMValueRef gv = add_const(m, LLVMConstArray2(m->t.desc, d, (uint64_t)n), sym, 0);
    free(d);
    return gv;
}

static int runs(const Node *n)
{
    return !n->dead && !ir_node_is_constant(n);
}

void cgl_calls(Cgl *m)
{
    const Graph *g = m->g;
    LLVMValueRef null = LLVMConstPointerNull(m->t.ptr);
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (!runs(n))
            continue;
        char sym[64];
        snprintf(sym, sizeof sym, "n%d_in", k);
        LLVMValueRef in = desc_array(m, n->in, n->n_in, sym);
        snprintf(sym, sizeof sym, "n%d_out", k);
        LLVMValueRef out = desc_array(m, n->out, n->n_out, sym);
        LLVMValueRef ints = null, floats = null;
        if (n->n_ints) {
            LLVMValueRef v[IR_MAX_INTS];
            for (int i = 0; i < n->n_ints; i++)
                v[i] = i64c(m, (long long)n->ints[i]);
            snprintf(sym, sizeof sym, "n%d_i", k);
            ints = add_const(m, LLVMConstArray2(m->t.i64, v, (uint64_t)n->n_ints), sym, 0);
        }
        if (n->n_floats) {
            LLVMValueRef v[IR_MAX_FLOATS];
            for (int i = 0; i < n->n_floats; i++)
                v[i] = LLVMConstReal(m->t.f32, n->floats[i]); /* exact: a float widened */
            snprintf(sym, sizeof sym, "n%d_f", k);
            floats = add_const(m, LLVMConstArray2(m->t.f32, v, (uint64_t)n->n_floats), sym, 0);
        }
        LLVMValueRef f[] = {i32c(m, n->n_in), i32c(m, n->n_out), in, out, i32c(m, n->n_ints),
                            i32c(m, n->n_floats), ints, floats};
        snprintf(sym, sizeof sym, "n%d", k);
        m->call[k] = add_const(m, LLVMConstNamedStruct(m->t.call, f, 8), sym, 0);
    }
}

/* A table of cnt rows of type (one null row when empty, as C needs an array of
 * at least one) as the constant sym; frees rows, allocated with room for it. */
static LLVMValueRef table_const(Cgl *m, LLVMTypeRef type, LLVMValueRef *rows, int cnt,
                                const char *sym)
{
    if (!cnt)
        rows[cnt++] = LLVMConstNull(type);
    LLVMValueRef t = add_const(m, LLVMConstArray2(type, rows, (uint64_t)cnt), sym, 0);
    free(rows);
    return t;
}

static LLVMValueRef io_table(Cgl *m, int is_out)
{
    const Graph *g = m->g;
    int cnt = is_out ? g->n_outputs : g->n_inputs;
    LLVMValueRef *rows = calloc((size_t)cnt + 1, sizeof *rows);
    IR_ASSERT(rows);
    for (int i = 0; i < cnt; i++) {
        const Value *v = is_out ? g->outputs[i] : g->inputs[i];
        RtTensorDesc td;
        ir_desc(v, &td);
        char sym[96];
        snprintf(sym, sizeof sym, "%s_%s%d_name", m->name, is_out ? "out" : "in", i);
        int64_t lo[RT_MAX_RANK];
        for (int k = 0; k < td.rank; k++)
            lo[k] = v->rt_mask ? v->rt_lo[k] : td.dims[k];
        LLVMValueRef f[] = {cgl_cstring(m, v->name, sym), i32c(m, td.dtype), i32c(m, td.rank),
                            dims_array(m, td.dims, td.rank), i32c(m, v->dyn),
                            i32c(m, v->dyn ? v->dyn_axis : 0), i32c(m, (long long)v->rt_mask),
                            dims_array(m, lo, td.rank),
                            i64c(m, (long long)(v->rt_mask ? v->rt_cap : 0))};
        rows[i] = LLVMConstNamedStruct(m->t.io, f, 9);
    }
    char sym[96];
    snprintf(sym, sizeof sym, "%s_%s", m->name, is_out ? "outputs" : "inputs");
    return table_const(m, m->t.io, rows, cnt, sym);
}

/* The ONNX-level inputs or outputs (sequences, optionals); NULL when each
 * graph input is one tensor. */
static LLVMValueRef group_table(Cgl *m, int is_out)
{
    const Graph *g = m->g;
    if (!(is_out ? g->out_groups : g->in_groups))
        return LLVMConstPointerNull(m->t.ptr);
    int cnt = ir_n_groups(g, is_out);
    LLVMValueRef *rows = calloc((size_t)cnt + 1, sizeof *rows);
    IR_ASSERT(rows);
    for (int i = 0; i < cnt; i++) {
        IoGroup gr = ir_io_group(g, is_out, i);
        char s1[96], s2[96];
        snprintf(s1, sizeof s1, "%s_%sg%d_name", m->name, is_out ? "out" : "in", i);
        snprintf(s2, sizeof s2, "%s_%sg%d_layout", m->name, is_out ? "out" : "in", i);
        LLVMValueRef f[] = {cgl_cstring(m, gr.name, s1), cgl_cstring(m, gr.layout, s2),
                            i32c(m, gr.first), i32c(m, gr.count)};
        rows[i] = LLVMConstNamedStruct(m->t.group, f, 4);
    }
    char sym[96];
    snprintf(sym, sizeof sym, "%s_%s_groups", m->name, is_out ? "output" : "input");
    return table_const(m, m->t.group, rows, cnt, sym);
}

void cgl_model(Cgl *m, LLVMValueRef init, LLVMValueRef graph)
{
    const Graph *g = m->g;
    char sym[96];
    snprintf(sym, sizeof sym, "%s_model_name", m->name);
    LLVMValueRef f[] = {
        cgl_cstring(m, m->name, sym), i32c(m, g->n_inputs), i32c(m, g->n_outputs),
        io_table(m, 0), io_table(m, 1),
        LLVMConstInt(m->t.size, (unsigned long long)g->arena_bytes, 0), init, graph,
        i32c(m, g->in_groups ? g->n_in_groups : 0), i32c(m, g->out_groups ? g->n_out_groups : 0),
        group_table(m, 0), group_table(m, 1), LLVMConstPointerNull(m->t.ptr)};
    snprintf(sym, sizeof sym, "%s_model", m->name);
    LLVMValueRef gv = LLVMAddGlobal(m->mod, m->t.model, sym);
    LLVMSetInitializer(gv, LLVMConstNamedStruct(m->t.model, f, 13));
    LLVMSetGlobalConstant(gv, 1);
}
