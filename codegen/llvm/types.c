/* types.c: the runtime's structs (onnxcc_rt.h) as LLVM types, and the check that both agree on their layout. */
#include <stddef.h>
#include <stdio.h>

#include "codegen/llvm/cgl.h"

static LLVMTypeRef st(LLVMContextRef ctx, const char *name, LLVMTypeRef *f, unsigned n)
{
    LLVMTypeRef s = LLVMStructCreateNamed(ctx, name);
    LLVMStructSetBody(s, f, n, 0);
    return s;
}

void cgl_types(CglTypes *t, LLVMContextRef ctx, LLVMTargetDataRef td)
{
    t->i1 = LLVMInt1TypeInContext(ctx);
    t->i8 = LLVMInt8TypeInContext(ctx);
    t->i32 = LLVMInt32TypeInContext(ctx);
    t->i64 = LLVMInt64TypeInContext(ctx);
    t->f32 = LLVMFloatTypeInContext(ctx);
    t->ptr = LLVMPointerTypeInContext(ctx, 0);
    t->size = LLVMIntPtrTypeInContext(ctx, td);
    LLVMTypeRef dims = LLVMArrayType2(t->i64, RT_MAX_RANK);
    /* field for field as in onnxcc_rt.h; natural alignment does the padding */
    LLVMTypeRef desc[] = {t->i32, t->i32, dims};
    t->desc = st(ctx, "RtTensorDesc", desc, 3);
    LLVMTypeRef call[] = {t->i32, t->i32, t->ptr, t->ptr, t->i32, t->i32, t->ptr, t->ptr};
    t->call = st(ctx, "RtCall", call, 8);
    LLVMTypeRef io[] = {t->ptr, t->i32, t->i32, dims, t->i32, t->i32, t->i32, dims, t->i64};
    t->io = st(ctx, "RtIO", io, 9);
    LLVMTypeRef group[] = {t->ptr, t->ptr, t->i32, t->i32};
    t->group = st(ctx, "RtGroup", group, 4);
    LLVMTypeRef model[] = {t->ptr, t->i32, t->i32, t->ptr, t->ptr, t->size, t->ptr,
                           t->ptr, t->i32, t->i32, t->ptr, t->ptr, t->ptr};
    t->model = st(ctx, "RtModel", model, 13);
    LLVMTypeRef three[] = {t->ptr, t->ptr, t->ptr};
    t->kernel = LLVMFunctionType(t->i32, three, 3, 0);
    t->graph = t->kernel;
    t->init = LLVMFunctionType(t->i32, &t->ptr, 1, 0);
}

typedef struct Layout {
    const char *name;
    size_t size;
    int n;
    size_t off[16];
} Layout;

#define F(T, f) offsetof(T, f)
static const Layout layouts[] = {
    {"RtTensorDesc", sizeof(RtTensorDesc), 3,
     {F(RtTensorDesc, dtype), F(RtTensorDesc, rank), F(RtTensorDesc, dims)}},
    {"RtCall", sizeof(RtCall), 8,
     {F(RtCall, n_in), F(RtCall, n_out), F(RtCall, in), F(RtCall, out), F(RtCall, n_ints),
      F(RtCall, n_floats), F(RtCall, ints), F(RtCall, floats)}},
    {"RtIO", sizeof(RtIO), 9,
     {F(RtIO, name), F(RtIO, dtype), F(RtIO, rank), F(RtIO, dims), F(RtIO, dyn),
      F(RtIO, dyn_axis), F(RtIO, rt_mask), F(RtIO, lo), F(RtIO, cap)}},
    {"RtGroup", sizeof(RtGroup), 4,
     {F(RtGroup, name), F(RtGroup, layout), F(RtGroup, first), F(RtGroup, count)}},
    {"RtModel", sizeof(RtModel), 13,
     {F(RtModel, name), F(RtModel, n_in), F(RtModel, n_out), F(RtModel, in), F(RtModel, out),
      F(RtModel, arena_bytes), F(RtModel, init), F(RtModel, run), F(RtModel, n_in_groups),
      F(RtModel, n_out_groups), F(RtModel, in_groups), F(RtModel, out_groups),
      F(RtModel, run_dims)}},
};
#undef F

int cgl_layout_check(LLVMTargetDataRef td, char *why, size_t len)
{
    LLVMContextRef ctx = LLVMContextCreate();
    CglTypes t;
    cgl_types(&t, ctx, td);
    LLVMTypeRef types[] = {t.desc, t.call, t.io, t.group, t.model};
    int rc = 0;
    for (size_t k = 0; k < sizeof layouts / sizeof *layouts && !rc; k++) {
        const Layout *l = &layouts[k];
        unsigned long long size = LLVMABISizeOfType(td, types[k]);
        if (LLVMCountStructElementTypes(types[k]) != (unsigned)l->n || size != l->size) {
            snprintf(why, len, "%s: %llu bytes in LLVM, %zu in C", l->name, size, l->size);
            rc = -1;
        }
        for (int f = 0; f < l->n && !rc; f++) {
            unsigned long long off = LLVMOffsetOfElement(td, types[k], (unsigned)f);
            if (off != l->off[f]) {
                snprintf(why, len, "%s field %d: offset %llu in LLVM, %zu in C", l->name, f,
                         off, l->off[f]);
                rc = -1;
            }
        }
    }
    LLVMContextDispose(ctx);
    return rc;
}
