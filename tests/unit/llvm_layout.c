/* llvm_layout.c: the LLVM backend's runtime structs have the C compiler's layout, field for field. */
#include "codegen/llvm/cgl.h"
#include "check.h"

/* For each --target the backend makes a machine for (the cross triples
 * too): offsets and sizes of RtTensorDesc, RtCall, RtIO, RtGroup and RtModel
 * under LLVM's DataLayout equal this compiler's offsetof and sizeof. */
static void check_target(int target)
{
    Diag d = {0};
    LLVMTargetMachineRef tm = cgl_machine(target, NULL, NULL, &d);
    CHECK_TRUE(tm != NULL);
    if (!tm) {
        fprintf(stderr, "%s\n", d.msg);
        return;
    }
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
    char why[256] = "";
    /* this compiler's offsets are a 64-bit host's: an ILP32 target (Cortex-M)
     * cannot be compared with them (emit_llvm.c does not either) */
    if (LLVMPointerSize(td) == sizeof(void *))
        CHECK(0, cgl_layout_check(td, why, sizeof why));
    else
        CHECK(-1, cgl_layout_check(td, why, sizeof why));
    if (why[0])
        fprintf(stderr, "%s: %s\n", cg_target_name(target), why);
    LLVMDisposeTargetData(td);
    LLVMDisposeTargetMachine(tm);
}

int main(void)
{
    for (int t = 0; t < CG_TARGET_COUNT; t++)
        check_target(t);
    /* the check sees a difference: 32-bit pointers move every field after one */
    LLVMTargetDataRef ilp32 = LLVMCreateTargetData("e-p:32:32-i64:64");
    char why[256] = "";
    CHECK(-1, cgl_layout_check(ilp32, why, sizeof why));
    CHECK_STR_CONTAINS(why, "RtCall");
    LLVMDisposeTargetData(ilp32);
    return CHECK_DONE();
}
