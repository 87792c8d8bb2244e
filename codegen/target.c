/* target.c: --target, the CPU (and for a cross target, the triple) generated code and its runtime are compiled for. */
#include <string.h>

#include "codegen/codegen.h"

/* The x86-64 levels are the psABI's (gcc and clang name them the same):
 * v2 adds SSE4.2 and POPCNT, v3 AVX2, FMA and BMI2, v4 AVX-512 F/BW/CD/DQ/VL.
 * A cross target is named by its triple; its C compiler is Debian's cross
 * gcc of that name, and its LLVM triple is the same but for Cortex-M, whose
 * gcc is the bare-metal arm-none-eabi one. */
static const struct {
    const char *name;
    const char *march;           /* the C compiler's flags; NULL for its default */
    const char *triple;          /* LLVM's triple; NULL: the host's */
    const char *cc;              /* the cross C compiler; NULL: the host's cc */
    const char *package;         /* the Debian package that provides cc */
    const char *cpu;             /* LLVM's CPU when --cpu is not given */
    const char *features;        /* LLVM's features when --features is not given */
    const char *abi;             /* LLVM's ABI name, as the cross gcc's default; NULL: LLVM's */
    int bare;                    /* no OS: a library without file I/O driver or threads */
} targets[CG_TARGET_COUNT] = {
    [CG_TARGET_NATIVE] = {.name = "native", .march = "-march=native"},
    [CG_TARGET_GENERIC] = {.name = "generic"},
    [CG_TARGET_X86_64_V2] = {.name = "x86-64-v2", .march = "-march=x86-64-v2"},
    [CG_TARGET_X86_64_V3] = {.name = "x86-64-v3", .march = "-march=x86-64-v3"},
    [CG_TARGET_X86_64_V4] = {.name = "x86-64-v4", .march = "-march=x86-64-v4"},
    [CG_TARGET_AARCH64] = {.name = "aarch64-linux-gnu", .triple = "aarch64-linux-gnu",
                           .cc = "aarch64-linux-gnu-gcc", .package = "gcc-aarch64-linux-gnu",
                           .cpu = "generic", .features = "+neon"},
    /* Debian's riscv64 is RV64GC with doubles passed in FP registers (lp64d);
     * an object for another ABI would not link with its C library */
    [CG_TARGET_RISCV64] = {.name = "riscv64-linux-gnu", .triple = "riscv64-linux-gnu",
                           .cc = "riscv64-linux-gnu-gcc", .package = "gcc-riscv64-linux-gnu",
                           .cpu = "generic-rv64", .features = "+m,+a,+f,+d,+c",
                           .abi = "lp64d"},
    /* Cortex-M4F: Thumb-2, single-precision FPU, floats passed in its
     * registers (the "hf" of the triple); gcc must agree for the objects to link */
    [CG_TARGET_THUMBV7EM] = {.name = "thumbv7em-none-eabihf",
                             .march = "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard "
                                      "-mfpu=fpv4-sp-d16",
                             .triple = "thumbv7em-none-eabihf", .cc = "arm-none-eabi-gcc",
                             .package = "gcc-arm-none-eabi libnewlib-arm-none-eabi",
                             .cpu = "cortex-m4", .features = "", .bare = 1},
};

int cg_target_parse(const char *s)
{
    for (int t = 0; t < CG_TARGET_COUNT; t++)
        if (!strcmp(s, targets[t].name))
            return t;
    return -1;
}

const char *cg_target_name(int t)
{
    IR_ASSERT(t >= 0 && t < CG_TARGET_COUNT);
    return targets[t].name;
}

const char *cg_target_march(int t)
{
    IR_ASSERT(t >= 0 && t < CG_TARGET_COUNT);
    return targets[t].march;
}

const char *cg_target_triple(int t)
{
    IR_ASSERT(t >= 0 && t < CG_TARGET_COUNT);
    return targets[t].triple;
}

const char *cg_target_cc(int t)
{
    IR_ASSERT(t >= 0 && t < CG_TARGET_COUNT);
    return targets[t].cc;
}

const char *cg_target_package(int t)
{
    IR_ASSERT(t >= 0 && t < CG_TARGET_COUNT);
    return targets[t].package;
}

const char *cg_target_cpu(int t)
{
    IR_ASSERT(t >= 0 && t < CG_TARGET_COUNT);
    return targets[t].cpu;
}

const char *cg_target_features(int t)
{
    IR_ASSERT(t >= 0 && t < CG_TARGET_COUNT);
    return targets[t].features;
}

const char *cg_target_abi(int t)
{
    IR_ASSERT(t >= 0 && t < CG_TARGET_COUNT);
    return targets[t].abi;
}

int cg_target_bare(int t)
{
    IR_ASSERT(t >= 0 && t < CG_TARGET_COUNT);
    return targets[t].bare;
}

/* A cross target's runtime is built from the same C without x86 vector
 * code (every SIMD path is guarded by the compiler's __AVX*__ macros), so
 * its tile is the portable one: 6 x 2 vectors of 4 floats (NEON's width;
 * RISC-V and Cortex-M run the same GNU vector code as scalars). */
void cg_target_gemm_tile(int t, int *mr, int *nr)
{
    IR_ASSERT(t >= 0 && t < CG_TARGET_COUNT);
    int avx512 = t == CG_TARGET_X86_64_V4, avx2 = t == CG_TARGET_X86_64_V3 || avx512, avx = avx2;
    if (t == CG_TARGET_NATIVE) {
        avx512 = rt_cpu_has("avx512f");
        avx2 = rt_cpu_has("avx2") && rt_cpu_has("fma");
        avx = rt_cpu_has("avx");
    }
    rt_gemm_tile_for(avx512, avx2, avx, mr, nr);
}
