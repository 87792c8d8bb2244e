/* backend.c: which code generator writes the model (--backend c|llvm) and the file it writes. */
#include <stdio.h>

#include "codegen/codegen.h"

void cg_model_file(char *buf, size_t len, const CgOptions *o)
{
    static const char *const ext[] = {[CG_EMIT_OBJ] = "o", [CG_EMIT_ASM] = "s",
                                      [CG_EMIT_IR] = "ll"};
    char name[64];
    cg_ident(name, sizeof name, o->name ? o->name : "model");
    snprintf(buf, len, "%s.%s", name, o->backend == CG_BACKEND_LLVM ? ext[o->emit] : "c");
}

int cg_emit_model(Graph *g, const CgOptions *o, Diag *d)
{
    if (o->backend == CG_BACKEND_LLVM)
        return cgl_emit(g, o, d);
    return cgc_emit(g, o, d);
}

#ifndef ONNXCC_HAVE_LLVM
/* This onnxcc was configured with -DONNXCC_LLVM=OFF. */
int cgl_emit(Graph *g, const CgOptions *o, Diag *d)
{
    (void)g;
    (void)o;
    return ir_error(d, "--backend llvm is not built into this onnxcc: install llvm-19-dev "
                       "(Debian) and configure with -DONNXCC_LLVM=ON, or use --backend c");
}
#endif
