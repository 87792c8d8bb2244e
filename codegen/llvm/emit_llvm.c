/* emit_llvm.c: `--backend llvm`: the planned graph as an LLVM module, NAME.h and a folder around NAME.o. */
#include <stdlib.h>
#include <string.h>

#include "codegen/llvm/cgl.h"

#define USE_C "use --backend c"

/* What this backend does not cover yet, as one line naming it; 0 if the
 * graph is within its reach. Its reach: static models, as the C path. */
static int refuse(const Graph *g, const CgOptions *o, const WeightsLayout *w, Diag *d)
{
    if (o->profile)
        return ir_error(d, "--profile is not supported by --backend llvm yet; " USE_C);
    if (o->weights == WEIGHTS_FILE)
        return ir_error(d, "--weights file is not supported by --backend llvm yet (its weights "
                           "are always in the object); " USE_C);
    for (int i = 0; i < g->n_values; i++) {
        const Value *v = g->values[i];
        if (v->rt_mask)
            return ir_error(d, "value '%s': run-time dimensions (--dim NAME=LO..HI) are not "
                               "supported by --backend llvm yet; " USE_C, v->name);
        if (w->offset[i] >= 0 && !rt_dtype_bits(v->dtype))
            return ir_error(d, "constant '%s' has dtype %s, which generated code cannot hold",
                            v->name, rt_dtype_name(v->dtype));
    }
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n))
            continue;
        if (ir_node_has_rt(n))
            return ir_error(d, "node '%s' (%s): run-time extents are not supported by "
                               "--backend llvm yet; " USE_C, n->name, n->op_type);
        if (!cgc_kernel_name(n))
            return ir_error(d, "node '%s' (%s): no runtime kernel to call", n->name, n->op_type);
    }
    return 0;
}

static int build_module(Cgl *m, Diag *d)
{
    char why[256];
    /* the structs the module builds must be the runtime's, byte for byte; the
     * offsets this C compiler knows are the host's, which a target with other
     * pointers (Cortex-M's 32 bits) does not share: there natural alignment
     * alone places the fields, as that target's C ABI does */
    if (LLVMPointerSize(m->td) == sizeof(void *) && cgl_layout_check(m->td, why, sizeof why))
        return ir_error(d, "the LLVM backend's runtime types differ from the C compiler's (%s)",
                        why);
    cgl_types(&m->t, m->ctx, m->td);
    char *triple = LLVMGetTargetMachineTriple(m->tm);
    LLVMSetTarget(m->mod, triple);
    LLVMDisposeMessage(triple);
    LLVMSetModuleDataLayout(m->mod, m->td);
    cgl_weights(m);
    cgl_calls(m);
    char sym[96];
    snprintf(sym, sizeof sym, "%s_arena", m->name);
    long long bytes = m->g->arena_bytes ? (long long)m->g->arena_bytes : 1;
    LLVMTypeRef at = LLVMArrayType2(m->t.i8, (uint64_t)bytes);
    m->arena = LLVMAddGlobal(m->mod, at, sym);
    LLVMSetInitializer(m->arena, LLVMConstNull(at));
    LLVMSetLinkage(m->arena, LLVMInternalLinkage);
    LLVMSetAlignment(m->arena, 64);
    LLVMValueRef graph = cgl_graph(m);
    LLVMValueRef init = cgl_entry(m, graph);
    cgl_model(m, init, graph);
    return 0;
}

int cgl_emit(Graph *g, const CgOptions *o, Diag *d)
{
    WeightsLayout w;
    cg_weights_layout(g, &w);
    int rc = refuse(g, o, &w, d);
    Cgl m = {0};
    m.g = g;
    m.o = o;
    m.w = &w;
    cg_ident(m.name, sizeof m.name, o->name ? o->name : "model");
    if (rc == 0) {
        m.tm = cgl_machine(o->target, o->cpu, o->features, d);
        rc = m.tm ? 0 : -1;
    }
    if (rc == 0) {
        m.td = LLVMCreateTargetDataLayout(m.tm);
        m.ctx = LLVMContextCreate();
        m.mod = LLVMModuleCreateWithNameInContext(m.name, m.ctx);
        m.weight = calloc((size_t)g->n_values + 1, sizeof *m.weight);
        m.call = calloc((size_t)g->n_nodes + 1, sizeof *m.call);
        IR_ASSERT(m.weight && m.call);
        rc = build_module(&m, d);
    }
    int n_slots;
    int *slot = cg_rt_slots(g, &n_slots);
    if (rc == 0)
        rc = cg_emit_header(g, o, w.total, slot, d);
    free(slot);
    if (rc == 0) {
        char file[96];
        cg_model_file(file, sizeof file, o);
        rc = cgl_write(&m, o->out_dir, file, d);
    }
    if (rc == 0)
        rc = cgc_emit_project(g, o, WEIGHTS_C, d);
    if (m.mod)
        LLVMDisposeModule(m.mod);
    if (m.ctx)
        LLVMContextDispose(m.ctx);
    if (m.td)
        LLVMDisposeTargetData(m.td);
    if (m.tm)
        LLVMDisposeTargetMachine(m.tm);
    free(m.weight);
    free(m.call);
    cg_weights_free(&w);
    return rc;
}
