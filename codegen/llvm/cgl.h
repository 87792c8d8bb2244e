/* cgl.h: the LLVM backend's internal header: the module being built and the runtime's structs in LLVM. */
#ifndef ONNXCC_CGL_H
#define ONNXCC_CGL_H

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "codegen/codegen.h"

/* The runtime's types (runtime/onnxcc_rt.h) as LLVM sees them; types.c
 * builds them field for field and checks the layout against the C compiler's. */
typedef struct CglTypes {
    LLVMTypeRef i1, i8, i32, i64, f32, ptr;
    LLVMTypeRef size;            /* size_t: the target's pointer-sized integer */
    LLVMTypeRef desc;            /* RtTensorDesc */
    LLVMTypeRef call;            /* RtCall */
    LLVMTypeRef io;              /* RtIO */
    LLVMTypeRef group;           /* RtGroup */
    LLVMTypeRef model;           /* RtModel */
    LLVMTypeRef kernel;          /* RtKernel: i32 (ptr call, ptr in, ptr out) */
    LLVMTypeRef graph;           /* RtModel.run: i32 (ptr arena, ptr in, ptr out) */
    LLVMTypeRef init;            /* RtModel.init: i32 (ptr path) */
} CglTypes;

/* One model being lowered into one LLVM module. */
typedef struct Cgl {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMTargetMachineRef tm;
    LLVMTargetDataRef td;        /* owned: the target machine's layout */
    CglTypes t;
    const Graph *g;
    const CgOptions *o;
    const WeightsLayout *w;
    char name[64];               /* C prefix of every symbol */
    LLVMValueRef *weight;        /* per value id: its constant global, or NULL */
    LLVMValueRef *call;          /* per node index: its RtCall global, or NULL */
    LLVMValueRef arena;          /* the static arena, NAME_arena */
} Cgl;

/* codegen/llvm/types.c */
void cgl_types(CglTypes *t, LLVMContextRef ctx, LLVMTargetDataRef td);
/* Every field offset and struct size of the runtime's types under td
 * against this C compiler's offsetof and sizeof: 0 if all agree, else -1
 * with the first difference in why. */
int cgl_layout_check(LLVMTargetDataRef td, char *why, size_t len);

/* codegen/llvm/machine.c */
/* The target machine for --target (native: this CPU's name and features),
 * --cpu and --features (NULL: the target's). */
LLVMTargetMachineRef cgl_machine(int target, const char *cpu, const char *features, Diag *d);
/* Verifies, optimizes ("default<O2>") and writes the module as o->emit says. */
int cgl_write(Cgl *m, const char *dir, const char *file, Diag *d);

/* codegen/llvm/consts.c: the constant data */
LLVMValueRef cgl_cstring(Cgl *m, const char *s, const char *sym);
void cgl_weights(Cgl *m);
void cgl_calls(Cgl *m);
/* NAME_model: the RtModel (and its RtIO and RtGroup tables) for host code. */
void cgl_model(Cgl *m, LLVMValueRef init, LLVMValueRef graph);

/* codegen/llvm/graph.c: the code */
/* NAME_graph: every node's kernel in schedule order, returning the first
 * non-zero status, exactly as the C backend's NAME_graph. */
LLVMValueRef cgl_graph(Cgl *m);
/* NAME_run (the header's ABI), NAME_init and NAME_weights_path; returns NAME_init. */
LLVMValueRef cgl_entry(Cgl *m, LLVMValueRef graph);

#endif
