/* graph.c: the LLVM backend's code: NAME_graph (one kernel call per node) and the NAME_run entry point. */
#include <stdio.h>
#include <stdlib.h>

#include "codegen/llvm/cgl.h"

typedef struct Fn {
    Cgl *m;
    LLVMBuilderRef b;
    LLVMValueRef fn;
    LLVMValueRef A;              /* the arena in use */
    LLVMValueRef *in, *out;      /* the graph's input and output pointers, loaded once */
    LLVMValueRef iv, ov;         /* the i_[] and o_[] arrays a kernel call takes */
    LLVMValueRef out_arr;        /* the out[] parameter, for the dynamic extents */
    LLVMBasicBlockRef *top, *end; /* per `go` flag's value id: a run-time Loop's region */
} Fn;

static int runs(const Node *n)
{
    return !n->dead && !ir_node_is_constant(n);
}

static LLVMValueRef idx(Cgl *m, long long k)
{
    return LLVMConstInt(m->t.i64, (unsigned long long)k, 1);
}

/* Element k of an array of pointers. */
static LLVMValueRef slot(Fn *f, LLVMValueRef arr, int k)
{
    LLVMValueRef i = idx(f->m, k);
    return LLVMBuildInBoundsGEP2(f->b, f->m->t.ptr, arr, &i, 1, "");
}

/* Where value v lives at run time: the same choice as emit_c.c's value_ptr. */
static LLVMValueRef value_ptr(Fn *f, const Value *v)
{
    Cgl *m = f->m;
    int k;
    if (!v)
        return LLVMConstPointerNull(m->t.ptr);
    if ((k = cg_input_index(m->g, v)) >= 0)
        return f->in[k];
    if ((k = cg_output_index(m->g, v)) >= 0 && !v->data)
        return f->out[k];
    if (v->data) {
        IR_ASSERT(m->weight[v->id]);
        return m->weight[v->id];
    }
    LLVMValueRef off = idx(m, (long long)v->offset);
    return LLVMBuildInBoundsGEP2(f->b, m->t.i8, f->A, &off, 1, "");
}

static LLVMValueRef kernel(Cgl *m, const char *name)
{
    LLVMValueRef fn = LLVMGetNamedFunction(m->mod, name);
    return fn ? fn : LLVMAddFunction(m->mod, name, m->t.kernel);
}

/* `if (rc != 0) return rc;` and go on in a new block. */
static void check_rc(Fn *f, LLVMValueRef rc)
{
    LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(f->m->ctx, f->fn, "fail");
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(f->m->ctx, f->fn, "ok");
    LLVMValueRef bad = LLVMBuildICmp(f->b, LLVMIntNE, rc, LLVMConstInt(f->m->t.i32, 0, 0), "");
    LLVMBuildCondBr(f->b, bad, fail, ok);
    LLVMPositionBuilderAtEnd(f->b, fail);
    LLVMBuildRet(f->b, rc);
    LLVMPositionBuilderAtEnd(f->b, ok);
}

/* A guarded node (a branch of a run-time If) runs only when every
 * condition byte is as its guard says; returns the block after it. */
static LLVMBasicBlockRef guard_begin(Fn *f, const IrGuard *gd)
{
    if (!gd->n)
        return NULL;
    Cgl *m = f->m;
    LLVMValueRef all = NULL;
    for (int j = 0; j < gd->n; j++) {
        LLVMValueRef byte = LLVMBuildLoad2(f->b, m->t.i8, value_ptr(f, gd->cond[j]), "");
        LLVMValueRef on = LLVMBuildICmp(f->b, gd->when[j] ? LLVMIntNE : LLVMIntEQ, byte,
                                        LLVMConstInt(m->t.i8, 0, 0), "");
        all = all ? LLVMBuildAnd(f->b, all, on, "") : on;
    }
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(m->ctx, f->fn, "guarded");
    LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(m->ctx, f->fn, "next");
    LLVMBuildCondBr(f->b, all, body, next);
    LLVMPositionBuilderAtEnd(f->b, body);
    return next;
}

static void emit_node(Fn *f, const Node *n, int k, const IrGuard *gd)
{
    Cgl *m = f->m;
    const Graph *g = m->g;
    LLVMBasicBlockRef next = guard_begin(f, gd);
    for (int i = 0; i < n->n_in; i++)
        LLVMBuildStore(f->b, value_ptr(f, n->in[i]), slot(f, f->iv, i));
    for (int i = 0; i < n->n_out; i++)
        LLVMBuildStore(f->b, value_ptr(f, n->out[i]), slot(f, f->ov, i));
    LLVMValueRef args[] = {m->call[k], f->iv, f->ov};
    LLVMValueRef rc = LLVMBuildCall2(f->b, m->t.kernel, kernel(m, cgc_kernel_name(n)),
                                     args, 3, "rc");
    check_rc(f, rc);
    /* each data-dependent graph output's extent goes to the caller now,
     * before a later node reuses the arena bytes it lives in */
    for (int j = 0; j < g->n_outputs; j++) {
        const Value *v = g->outputs[j];
        int s = cg_dyn_slot(g, j);
        if (s < 0 || v->producer != n)
            continue;
        LLVMValueRef p = LLVMBuildLoad2(f->b, m->t.ptr, slot(f, f->out_arr, g->n_outputs + s), "");
        LLVMBasicBlockRef set = LLVMAppendBasicBlockInContext(m->ctx, f->fn, "len");
        LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(m->ctx, f->fn, "len_done");
        LLVMBuildCondBr(f->b, LLVMBuildIsNotNull(f->b, p, ""), set, done);
        LLVMPositionBuilderAtEnd(f->b, set);
        LLVMValueRef len = LLVMBuildLoad2(f->b, m->t.i64, value_ptr(f, v->dyn_len), "");
        LLVMBuildStore(f->b, len, p);
        LLVMBuildBr(f->b, done);
        LLVMPositionBuilderAtEnd(f->b, done);
    }
    if (next) {
        LLVMBuildBr(f->b, next);
        LLVMPositionBuilderAtEnd(f->b, next);
    }
}

static LLVMValueRef go_set(Fn *f, const Value *go)
{
    LLVMValueRef byte = LLVMBuildLoad2(f->b, f->m->t.i8, value_ptr(f, go), "go");
    return LLVMBuildICmp(f->b, LLVMIntNE, byte, LLVMConstInt(f->m->t.i8, 0, 0), "");
}

static LLVMBasicBlockRef block(Fn *f, LLVMBasicBlockRef *b, const char *name)
{
    if (!*b)
        *b = LLVMAppendBasicBlockInContext(f->m->ctx, f->fn, name);
    return *b;
}

/* A run-time Loop's control flow around its region (runtime/k_loop.h), as
 * emit_loop.c writes it in C: the `go` byte in the arena decides whether
 * the region (again) runs.
 * Before LoopBegin: a LoopBegin a run-time If skips must not leave an
 * earlier run's `go` behind; before LoopEnd: where a loop that runs zero
 * times lands. */
static void loop_before(Fn *f, const Node *n)
{
    const Value *go = cgc_loop_go_flag(n);
    if (go && n->op == OP_LOOP_BEGIN) {
        LLVMBuildStore(f->b, LLVMConstInt(f->m->t.i8, 0, 0), value_ptr(f, go));
    } else if (go) {
        LLVMBasicBlockRef end = block(f, &f->end[go->id], "loop_end");
        LLVMBuildBr(f->b, end);
        LLVMPositionBuilderAtEnd(f->b, end);
    }
}

/* After LoopBegin: skip the region when the loop runs zero times; after
 * LoopEnd: run the region again while `go` is set. */
static void loop_after(Fn *f, const Node *n)
{
    const Value *go = cgc_loop_go_flag(n);
    if (!go)
        return;
    IR_ASSERT(go->offset >= 0);
    LLVMValueRef on = go_set(f, go);
    LLVMBasicBlockRef top = block(f, &f->top[go->id], "loop_top");
    if (n->op == OP_LOOP_BEGIN) {
        LLVMBuildCondBr(f->b, on, top, block(f, &f->end[go->id], "loop_end"));
        LLVMPositionBuilderAtEnd(f->b, top);
    } else {
        LLVMBasicBlockRef after = LLVMAppendBasicBlockInContext(f->m->ctx, f->fn, "loop_done");
        LLVMBuildCondBr(f->b, on, top, after);
        LLVMPositionBuilderAtEnd(f->b, after);
    }
}

/* Graph outputs no node writes: constants, inputs, an output listed twice. */
static void output_copies(Fn *f)
{
    const Graph *g = f->m->g;
    for (int k = 0; k < g->n_outputs; k++) {
        const Value *v = g->outputs[k];
        int first = cg_output_index(g, v);
        if (!v->data && cg_input_index(g, v) < 0 && first == k)
            continue;
        LLVMValueRef src = first != k && !v->data ? f->out[first] : value_ptr(f, v);
        LLVMBuildMemCpy(f->b, f->out[k], 1, src, 1,
                        LLVMConstInt(f->m->t.size, (unsigned long long)ir_nbytes(v), 0));
    }
}

static LLVMValueRef ptr_array(Cgl *m, LLVMBuilderRef b, int n, const char *name)
{
    return LLVMBuildAlloca(b, LLVMArrayType2(m->t.ptr, (uint64_t)(n > 0 ? n : 1)), name);
}

LLVMValueRef cgl_graph(Cgl *m)
{
    const Graph *g = m->g;
    char sym[96];
    snprintf(sym, sizeof sym, "%s_graph", m->name);
    Fn f = {m, LLVMCreateBuilderInContext(m->ctx), LLVMAddFunction(m->mod, sym, m->t.graph),
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    LLVMSetLinkage(f.fn, LLVMInternalLinkage);
    LLVMPositionBuilderAtEnd(f.b, LLVMAppendBasicBlockInContext(m->ctx, f.fn, "entry"));
    LLVMValueRef arena = LLVMGetParam(f.fn, 0), in = LLVMGetParam(f.fn, 1);
    f.out_arr = LLVMGetParam(f.fn, 2);
    f.A = LLVMBuildSelect(f.b, LLVMBuildIsNull(f.b, arena, ""), m->arena, arena, "A");
    int max_in = 1, max_out = 1;
    for (int k = 0; k < g->n_nodes; k++)
        if (runs(g->nodes[k])) {
            max_in = g->nodes[k]->n_in > max_in ? g->nodes[k]->n_in : max_in;
            max_out = g->nodes[k]->n_out > max_out ? g->nodes[k]->n_out : max_out;
        }
    f.iv = ptr_array(m, f.b, max_in, "i_");
    f.ov = ptr_array(m, f.b, max_out, "o_");
    f.in = calloc((size_t)g->n_inputs + 1, sizeof *f.in);
    f.out = calloc((size_t)g->n_outputs + 1, sizeof *f.out);
    IR_ASSERT(f.in && f.out);
    for (int i = 0; i < g->n_inputs; i++)
        f.in[i] = LLVMBuildLoad2(f.b, m->t.ptr, slot(&f, in, i), "in");
    for (int i = 0; i < g->n_outputs; i++)
        f.out[i] = LLVMBuildLoad2(f.b, m->t.ptr, slot(&f, f.out_arr, i), "out");
    f.top = calloc((size_t)g->n_values + 1, sizeof *f.top);
    f.end = calloc((size_t)g->n_values + 1, sizeof *f.end);
    IR_ASSERT(f.top && f.end);
    IrGuard *guards = ir_guards(g);
    for (int k = 0; k < g->n_nodes; k++)
        if (runs(g->nodes[k])) {
            loop_before(&f, g->nodes[k]);
            emit_node(&f, g->nodes[k], k, &guards[k]);
            loop_after(&f, g->nodes[k]);
        }
    free(guards);
    free(f.top);
    free(f.end);
    output_copies(&f);
    LLVMBuildRet(f.b, LLVMConstInt(m->t.i32, 0, 0));
    free(f.in);
    free(f.out);
    LLVMDisposeBuilder(f.b);
    return f.fn;
}

LLVMValueRef cgl_entry(Cgl *m, LLVMValueRef graph)
{
    const Graph *g = m->g;
    char sym[96];
    /* NAME_init and NAME_weights_path: the weights are in the object */
    snprintf(sym, sizeof sym, "%s_weights_path", m->name);
    LLVMValueRef path = LLVMAddGlobal(m->mod, m->t.ptr, sym);
    LLVMSetInitializer(path, LLVMConstPointerNull(m->t.ptr));
    snprintf(sym, sizeof sym, "%s_init", m->name);
    LLVMValueRef init = LLVMAddFunction(m->mod, sym, m->t.init);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(m->ctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(m->ctx, init, "entry"));
    LLVMBuildRet(b, LLVMConstInt(m->t.i32, 0, 0));

    /* int NAME_run(NAME_ctx *ctx, inputs..., outputs..., dynamic extents...) */
    int n_dyn = 0;
    for (int i = 0; i < g->n_outputs; i++)
        n_dyn += g->outputs[i]->dyn;
    int n_par = 1 + g->n_inputs + g->n_outputs + n_dyn;
    LLVMTypeRef *par = malloc(sizeof *par * (size_t)n_par);
    IR_ASSERT(par);
    for (int i = 0; i < n_par; i++)
        par[i] = m->t.ptr;
    snprintf(sym, sizeof sym, "%s_run", m->name);
    LLVMTypeRef run_type = LLVMFunctionType(m->t.i32, par, (unsigned)n_par, 0);
    LLVMValueRef run = LLVMAddFunction(m->mod, sym, run_type);
    free(par);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(m->ctx, run, "entry"));
    LLVMValueRef in = ptr_array(m, b, g->n_inputs, "in");
    LLVMValueRef out = ptr_array(m, b, g->n_outputs + n_dyn, "out");
    Fn f = {m, b, run, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    for (int i = 0; i < g->n_inputs; i++)
        LLVMBuildStore(b, LLVMGetParam(run, (unsigned)(1 + i)), slot(&f, in, i));
    for (int i = 0; i < g->n_outputs + n_dyn; i++)
        LLVMBuildStore(b, LLVMGetParam(run, (unsigned)(1 + g->n_inputs + i)), slot(&f, out, i));
    /* ctx NULL: the static arena; else ctx->arena (NAME_ctx's one field) */
    LLVMValueRef ctx = LLVMGetParam(run, 0);
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(b);
    LLVMBasicBlockRef has = LLVMAppendBasicBlockInContext(m->ctx, run, "ctx");
    LLVMBasicBlockRef go = LLVMAppendBasicBlockInContext(m->ctx, run, "go");
    LLVMBuildCondBr(b, LLVMBuildIsNull(b, ctx, ""), go, has);
    LLVMPositionBuilderAtEnd(b, has);
    LLVMValueRef own = LLVMBuildLoad2(b, m->t.ptr, ctx, "arena");
    LLVMBuildBr(b, go);
    LLVMPositionBuilderAtEnd(b, go);
    LLVMValueRef arena = LLVMBuildPhi(b, m->t.ptr, "arena");
    LLVMValueRef inc[] = {LLVMConstPointerNull(m->t.ptr), own};
    LLVMBasicBlockRef from[] = {entry, has};
    LLVMAddIncoming(arena, inc, from, 2);
    LLVMValueRef args[] = {arena, in, out};
    LLVMBuildRet(b, LLVMBuildCall2(b, m->t.graph, graph, args, 3, "rc"));
    LLVMDisposeBuilder(b);
    return init;
}
