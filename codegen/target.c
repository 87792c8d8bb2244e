/* target.c: --target, the CPU level generated code and its runtime are compiled for. */
#include <string.h>

#include "codegen/codegen.h"

/* The x86-64 levels are the psABI's (gcc and clang name them the same):
 * v2 adds SSE4.2 and POPCNT, v3 AVX2, FMA and BMI2, v4 AVX-512 F/BW/CD/DQ/VL. */
static const struct {
    const char *name;
    const char *march;           /* the C compiler's flag; NULL for portable code */
} targets[CG_TARGET_COUNT] = {
    [CG_TARGET_NATIVE] = {"native", "-march=native"},
    [CG_TARGET_GENERIC] = {"generic", NULL},
    [CG_TARGET_X86_64_V2] = {"x86-64-v2", "-march=x86-64-v2"},
    [CG_TARGET_X86_64_V3] = {"x86-64-v3", "-march=x86-64-v3"},
    [CG_TARGET_X86_64_V4] = {"x86-64-v4", "-march=x86-64-v4"},
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
