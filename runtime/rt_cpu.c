/* rt_cpu.c: which CPU features the runtime was compiled to use, which the running CPU has. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxcc_rt.h"

/* Every function here runs before the program may use the vector units it
 * was built for, so on x86-64 each is compiled for the baseline ISA whatever
 * -march the rest of the build uses (-march=native would let the compiler
 * put AVX-512 stores even into this code). */
#if defined(__x86_64__) && defined(__GNUC__)
#define RT_X86 1
#define BASELINE __attribute__((target("arch=x86-64")))
#include <cpuid.h>
#else
#define BASELINE
#endif

#ifdef RT_X86
/* One feature: where CPUID reports it, and whether this translation unit was
 * compiled to use it. Only features a compiler emits from plain C (by
 * auto-vectorization or -march) are listed: AMX, for one, is never
 * generated without intrinsics, so a native build on an AMX machine still
 * runs where AMX is missing. */
typedef struct Feature {
    const char *name;            /* as in gcc's -mNAME */
    unsigned leaf, subleaf;      /* CPUID leaf */
    char reg;                    /* 'b', 'c' or 'd' for EBX/ECX/EDX, 'a' for EAX */
    unsigned char bit;
    unsigned char state;         /* register state the OS must save: 0, S_AVX, S_AVX512 */
    unsigned char built;         /* compiled in: the rest of the runtime may use it */
} Feature;

enum { S_AVX = 1, S_AVX512 = 2 };

/* 1 when the compiler defines the feature macro m (as 1), else 0: the Linux
 * kernel's IS_ENABLED trick, so each feature is one line of the table. */
#define ARG2(a, b, ...) b
#define SECOND(x) ARG2(x, 0, 0)
#define PROBE_1 ~, 1
#define BUILT(m) BUILT_(m)
#define BUILT_(v) SECOND(PROBE_##v)

/* In the order a message should name them: the most basic missing one first. */
static const Feature features[] = {
    {"sse3", 1, 0, 'c', 0, 0, BUILT(__SSE3__)},
    {"ssse3", 1, 0, 'c', 9, 0, BUILT(__SSSE3__)},
    {"sse4.1", 1, 0, 'c', 19, 0, BUILT(__SSE4_1__)},
    {"sse4.2", 1, 0, 'c', 20, 0, BUILT(__SSE4_2__)},
    {"popcnt", 1, 0, 'c', 23, 0, BUILT(__POPCNT__)},
    {"movbe", 1, 0, 'c', 22, 0, BUILT(__MOVBE__)},
    {"avx", 1, 0, 'c', 28, S_AVX, BUILT(__AVX__)},
    {"f16c", 1, 0, 'c', 29, S_AVX, BUILT(__F16C__)},
    {"fma", 1, 0, 'c', 12, S_AVX, BUILT(__FMA__)},
    {"avx2", 7, 0, 'b', 5, S_AVX, BUILT(__AVX2__)},
    {"bmi", 7, 0, 'b', 3, 0, BUILT(__BMI__)},
    {"bmi2", 7, 0, 'b', 8, 0, BUILT(__BMI2__)},
    {"lzcnt", 0x80000001u, 0, 'c', 5, 0, BUILT(__LZCNT__)},
    {"adx", 7, 0, 'b', 19, 0, BUILT(__ADX__)},
    {"avxvnni", 7, 1, 'a', 4, S_AVX, BUILT(__AVXVNNI__)},
    {"gfni", 7, 0, 'c', 8, 0, BUILT(__GFNI__)},
    {"vaes", 7, 0, 'c', 9, S_AVX, BUILT(__VAES__)},
    {"vpclmulqdq", 7, 0, 'c', 10, S_AVX, BUILT(__VPCLMULQDQ__)},
    {"avx512f", 7, 0, 'b', 16, S_AVX512, BUILT(__AVX512F__)},
    {"avx512cd", 7, 0, 'b', 28, S_AVX512, BUILT(__AVX512CD__)},
    {"avx512bw", 7, 0, 'b', 30, S_AVX512, BUILT(__AVX512BW__)},
    {"avx512dq", 7, 0, 'b', 17, S_AVX512, BUILT(__AVX512DQ__)},
    {"avx512vl", 7, 0, 'b', 31, S_AVX512, BUILT(__AVX512VL__)},
    {"avx512ifma", 7, 0, 'b', 21, S_AVX512, BUILT(__AVX512IFMA__)},
    {"avx512vbmi", 7, 0, 'c', 1, S_AVX512, BUILT(__AVX512VBMI__)},
    {"avx512vbmi2", 7, 0, 'c', 6, S_AVX512, BUILT(__AVX512VBMI2__)},
    {"avx512vnni", 7, 0, 'c', 11, S_AVX512, BUILT(__AVX512VNNI__)},
    {"avx512bitalg", 7, 0, 'c', 12, S_AVX512, BUILT(__AVX512BITALG__)},
    {"avx512vpopcntdq", 7, 0, 'c', 14, S_AVX512, BUILT(__AVX512VPOPCNTDQ__)},
    {"avx512bf16", 7, 1, 'a', 5, S_AVX512, BUILT(__AVX512BF16__)},
    {"avx512fp16", 7, 0, 'd', 23, S_AVX512, BUILT(__AVX512FP16__)},
};
enum { N_FEATURES = (int)(sizeof features / sizeof features[0]) };

/* Register state the OS saves on a context switch (XCR0): without it a
 * feature the CPU has still faults. */
BASELINE static unsigned os_state(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) /* OSXSAVE */
        return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    unsigned s = 0;
    if ((lo & 0x6) == 0x6)                  /* XMM, YMM */
        s |= S_AVX;
    if ((s & S_AVX) && (lo & 0xe0) == 0xe0) /* opmask, ZMM0-15 upper, ZMM16-31 */
        s |= S_AVX512;
    return s;
}

/* A feature named in $ONNXCC_CPU_DISABLE (comma- or space-separated) is
 * taken as missing, so the refusal can be tried on any machine. */
BASELINE static int disabled(const char *name)
{
    const char *env = getenv("ONNXCC_CPU_DISABLE");
    size_t n = strlen(name);
    while (env && *env) {
        while (*env == ',' || *env == ' ')
            env++;
        size_t k = strcspn(env, ", ");
        if (k == n && !strncmp(env, name, n))
            return 1;
        env += k;
    }
    return 0;
}

BASELINE static int has(const Feature *f, unsigned state)
{
    unsigned r[4] = {0, 0, 0, 0};
    if (!__get_cpuid_count(f->leaf, f->subleaf, &r[0], &r[1], &r[2], &r[3]))
        return 0;
    unsigned v = f->reg == 'a' ? r[0] : f->reg == 'b' ? r[1] : f->reg == 'c' ? r[2] : r[3];
    if (!((v >> f->bit) & 1))
        return 0;
    if ((f->state & S_AVX) && !(state & S_AVX))
        return 0;
    if ((f->state & S_AVX512) && !(state & S_AVX512))
        return 0;
    return !disabled(f->name);
}

BASELINE static void cpu_name(char *buf, size_t len)
{
    unsigned r[12], a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000004u) {
        snprintf(buf, len, "x86-64");
        return;
    }
    for (unsigned i = 0; i < 3; i++)
        __get_cpuid(0x80000002u + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
    char s[49];
    memcpy(s, r, 48);
    s[48] = 0;
    const char *p = s;
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    while (n && p[n - 1] == ' ')
        n--;
    snprintf(buf, len, "%.*s", (int)n, p);
}
#endif

BASELINE int rt_cpu_check(char *msg, size_t len)
{
#ifdef RT_X86
    unsigned state = os_state();
    for (int i = 0; i < N_FEATURES; i++) {
        if (!features[i].built || has(&features[i], state))
            continue;
        if (msg && len) {
            char name[64];
            cpu_name(name, sizeof name);
            snprintf(msg, len, "this program was built for CPUs with %s, which this CPU "
                     "(%s) lacks; rebuild it with --target generic or a lower --target level",
                     features[i].name, name);
        }
        return RT_ECPU;
    }
#else
    (void)len;
#endif
    if (msg && len)
        msg[0] = 0;
    return RT_OK;
}

BASELINE void rt_cpu_describe(char *buf, size_t len, int built)
{
    if (!buf || !len)
        return;
#ifdef RT_X86
    size_t k = 0;
    if (!built) {
        cpu_name(buf, len);
        k = strlen(buf);
    }
    unsigned state = os_state();
    const char *sep = built ? "" : ":";
    int any = 0;
    for (int i = 0; i < N_FEATURES && k < len; i++) {
        if (built ? !features[i].built : !has(&features[i], state))
            continue;
        k += (size_t)snprintf(buf + k, len - k, "%s %s", sep, features[i].name);
        sep = "";
        any = 1;
    }
    if (!any && k < len)
        snprintf(buf + k, len - k, built ? "x86-64 baseline (sse2)" : ": sse2");
    if (built && buf[0] == ' ')
        memmove(buf, buf + 1, strlen(buf));
#else
    snprintf(buf, len, built ? "portable C" : "a CPU onnxcc does not probe");
#endif
}

BASELINE int rt_cpu_has(const char *name)
{
#ifdef RT_X86
    unsigned state = os_state();
    for (int i = 0; i < N_FEATURES; i++) {
        const Feature *f = &features[i];
        if (strcmp(f->name, name))
            continue;
        unsigned r[4] = {0, 0, 0, 0};
        if (!__get_cpuid_count(f->leaf, f->subleaf, &r[0], &r[1], &r[2], &r[3]))
            return 0;
        unsigned v = f->reg == 'a' ? r[0] : f->reg == 'b' ? r[1] : f->reg == 'c' ? r[2] : r[3];
        return ((v >> f->bit) & 1) && (!(f->state & S_AVX) || (state & S_AVX)) &&
               (!(f->state & S_AVX512) || (state & S_AVX512));
    }
#else
    (void)name;
#endif
    return 0;
}

BASELINE int rt_cpu_refuse(const char *prog)
{
    char msg[512];
    if (rt_cpu_check(msg, sizeof msg) == RT_OK)
        return 0;
    const char *base = prog && *prog ? strrchr(prog, '/') : NULL;
    fprintf(stderr, "%s: %s\n", base ? base + 1 : prog && *prog ? prog : "onnxcc", msg);
    return 1;
}
