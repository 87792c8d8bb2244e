/* machine.c: the LLVM target machine for --target, the optimization pipeline, and the file written. */
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "codegen/llvm/cgl.h"

/* --target: native is this CPU with its features, as -march=native is for
 * the C backend; the x86-64 levels are LLVM CPU names on the host's triple;
 * a cross target is its triple with the CPU, features and ABI its Debian
 * gcc assumes, which --cpu and --features override. */
LLVMTargetMachineRef cgl_machine(int target, const char *cpu_opt, const char *feat_opt,
                                 Diag *d)
{
    LLVMInitializeAllTargetInfos();
    LLVMInitializeAllTargets();
    LLVMInitializeAllTargetMCs();
    LLVMInitializeAllAsmPrinters();
    char *host = LLVMGetDefaultTargetTriple();
    /* "thumbv7em-none-eabihf" read by position has "eabihf" as its OS and no
     * environment, so no hard-float ABI: LLVM wants the normalized
     * "thumbv7em-none-unknown-eabihf" */
    char *cross = cg_target_triple(target) ? LLVMNormalizeTargetTriple(cg_target_triple(target))
                                           : NULL;
    const char *triple = cross ? cross : host;
    char *err = NULL;
    LLVMTargetRef t;
    if (LLVMGetTargetFromTriple(triple, &t, &err)) {
        ir_error(d, "LLVM has no target for '%s': %s", triple, err ? err : "");
        LLVMDisposeMessage(err);
        LLVMDisposeMessage(host);
        LLVMDisposeMessage(cross);
        return NULL;
    }
    char *cpu = NULL, *features = NULL;
    const char *cpu_name = cg_target_name(target), *feat = "";
    int x86 = !strncmp(triple, "x86_64", 6);
    if (cg_target_triple(target)) {
        cpu_name = cg_target_cpu(target);
        feat = cg_target_features(target);
    } else if (target == CG_TARGET_NATIVE) {
        cpu = LLVMGetHostCPUName();
        features = LLVMGetHostCPUFeatures();
        cpu_name = cpu;
        feat = features;
    } else if (target == CG_TARGET_GENERIC) {
        cpu_name = x86 ? "x86-64" : "generic";
    } else if (!x86) {
        ir_error(d, "--target %s is an x86-64 level; this machine is %s", cpu_name, triple);
        LLVMDisposeMessage(host);
        LLVMDisposeMessage(cross);
        return NULL;
    }
    if (cpu_opt) {
        cpu_name = cpu_opt;
        feat = "";               /* the CPU's own features, unless --features adds some */
    }
    if (feat_opt)
        feat = feat_opt;
    LLVMTargetMachineOptionsRef mo = LLVMCreateTargetMachineOptions();
    LLVMTargetMachineOptionsSetCPU(mo, cpu_name);
    LLVMTargetMachineOptionsSetFeatures(mo, feat);
    if (cg_target_abi(target))
        LLVMTargetMachineOptionsSetABI(mo, cg_target_abi(target));
    /* PIC: the object links into the usual position-independent executables;
     * bare metal has no loader to relocate it, so its code is static */
    LLVMTargetMachineOptionsSetRelocMode(mo, cg_target_bare(target) ? LLVMRelocStatic
                                                                    : LLVMRelocPIC);
    LLVMTargetMachineRef tm = LLVMCreateTargetMachineWithOptions(t, triple, mo);
    LLVMDisposeTargetMachineOptions(mo);
    if (!tm)
        ir_error(d, "LLVM cannot make a target machine for --target %s", cg_target_name(target));
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    LLVMDisposeMessage(host);
    LLVMDisposeMessage(cross);
    return tm;
}

/* The first line of an LLVM message, into d. */
static int llvm_error(Diag *d, const char *what, char *msg)
{
    if (msg)
        msg[strcspn(msg, "\n")] = 0;
    int rc = ir_error(d, "%s: %s", what, msg ? msg : "");
    return rc;
}

int cgl_write(Cgl *m, const char *dir, const char *file, Diag *d)
{
    char *msg = NULL;
    if (LLVMVerifyModule(m->mod, LLVMReturnStatusAction, &msg)) {
        int rc = llvm_error(d, "the LLVM backend built an invalid module (a bug in onnxcc)", msg);
        LLVMDisposeMessage(msg);
        return rc;
    }
    LLVMDisposeMessage(msg);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMErrorRef err = LLVMRunPasses(m->mod, "default<O2>", m->tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (err) {
        msg = LLVMGetErrorMessage(err);
        int rc = llvm_error(d, "LLVM's optimizer failed", msg);
        LLVMDisposeErrorMessage(msg);
        return rc;
    }
    Emitter e;
    if (cg_open(&e, dir, file, d) < 0)
        return -1;
    if (m->o->emit == CG_EMIT_IR) {
        char *text = LLVMPrintModuleToString(m->mod);
        cg_write_bytes(&e, text, strlen(text));
        LLVMDisposeMessage(text);
        return cg_close(&e, d);
    }
    LLVMMemoryBufferRef buf = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(m->tm, m->mod,
                                            m->o->emit == CG_EMIT_ASM ? LLVMAssemblyFile
                                                                      : LLVMObjectFile,
                                            &msg, &buf)) {
        cg_abort(&e);
        int rc = llvm_error(d, "LLVM could not write the code", msg);
        LLVMDisposeMessage(msg);
        return rc;
    }
    cg_write_bytes(&e, LLVMGetBufferStart(buf), LLVMGetBufferSize(buf));
    LLVMDisposeMemoryBuffer(buf);
    return cg_close(&e, d);
}
