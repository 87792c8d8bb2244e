/* build.c: `onnxcc build`: emit C (or an LLVM object) into a temporary folder, run the C compiler, place the binary. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "codegen/embedded.h"

#ifndef ONNXCC_BUILD_CFLAGS
#define ONNXCC_BUILD_CFLAGS ""
#endif

extern char **environ;

#define MAX_ARGS 512

typedef struct Args {
    char *v[MAX_ARGS + 1];
    int n;
    char *owned[MAX_ARGS];
    int n_owned;
} Args;

static void add(Args *a, const char *s)
{
    IR_ASSERT(a->n < MAX_ARGS);
    a->v[a->n++] = (char *)s;
    a->v[a->n] = NULL;
}

static void addf(Args *a, const char *fmt, const char *s1, const char *s2)
{
    char buf[8400];
    if (snprintf(buf, sizeof buf, fmt, s1, s2) >= (int)sizeof buf)
        buf[0] = 0;
    char *p = strdup(buf);
    IR_ASSERT(p && a->n_owned < MAX_ARGS);
    a->owned[a->n_owned++] = p;
    add(a, p);
}

/* Splits a flags string on spaces (no quoting: flags with spaces are rare). */
static void add_split(Args *a, const char *s)
{
    while (s && *s) {
        while (*s == ' ')
            s++;
        const char *e = s;
        while (*e && *e != ' ')
            e++;
        if (e > s) {
            char *p = strndup(s, (size_t)(e - s));
            IR_ASSERT(p && a->n_owned < MAX_ARGS);
            a->owned[a->n_owned++] = p;
            add(a, p);
        }
        s = e;
    }
}

static void args_free(Args *a)
{
    for (int i = 0; i < a->n_owned; i++)
        free(a->owned[i]);
}

/* The prebuilt runtime library for the target: $ONNXCC_RT_LIB (a host
 * target's), else next to the compiler, else in the build folder the compiler
 * came from. Reusing it keeps a build to one small compile. */
static int find_runtime_lib(char *out, size_t len, int target)
{
    char lib[64];
    snprintf(lib, sizeof lib, "libonnxcc_rt_%s.a", cg_target_name(target));
    const char *env = getenv("ONNXCC_RT_LIB");
    if (env && *env && !cg_target_triple(target)) {
        if (snprintf(out, len, "%s", env) >= (int)len)
            return -1;
        return access(out, R_OK) == 0 ? 0 : -1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            if (snprintf(out, len, "%s/%s", exe, lib) < (int)len && access(out, R_OK) == 0)
                return 0;
        }
    }
#ifdef ONNXCC_BUILD_DIR
    if (snprintf(out, len, "%s/%s", ONNXCC_BUILD_DIR, lib) < (int)len && access(out, R_OK) == 0)
        return 0;
#endif
    return -1;
}

static int exists(const char *dir, const char *name, const char *suffix)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/%s%s", dir, name, suffix) >= (int)sizeof p)
        return 0;
    return access(p, F_OK) == 0;
}

/* Whether a command is a file or found on $PATH, as posix_spawnp would. */
static int on_path(const char *cmd)
{
    if (strchr(cmd, '/'))
        return access(cmd, X_OK) == 0;
    const char *path = getenv("PATH");
    while (path && *path) {
        size_t n = strcspn(path, ":");
        char p[PATH_MAX];
        if (n && snprintf(p, sizeof p, "%.*s/%s", (int)n, path, cmd) < (int)sizeof p &&
            access(p, X_OK) == 0)
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

/* The C compiler: --cc, else a cross target's gcc (never $ONNXCC_CC, which
 * names a compiler for this machine), else $ONNXCC_CC or cc. */
static const char *choose_cc(const BuildOptions *b)
{
    const char *env = getenv("ONNXCC_CC");
    if (b->cc)
        return b->cc;
    if (cg_target_cc(b->target))
        return cg_target_cc(b->target);
    return env && *env ? env : "cc";
}

static int run(Args *a, int verbose, Diag *d)
{
    if (verbose) {
        for (int i = 0; i < a->n; i++)
            fprintf(stderr, "%s%s", i ? " " : "", a->v[i]);
        fputc('\n', stderr);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, a->v[0], NULL, NULL, a->v, environ);
    if (rc)
        return ir_error(d, "cannot run the C compiler '%s': %s", a->v[0], strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return ir_error(d, "waiting for '%s' failed", a->v[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return ir_error(d, "the C compiler '%s' failed on the generated code (exit %d); "
                        "rerun with --keep -v to see the sources and command",
                        a->v[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}

/* Copies into place through a unique temp in the destination's folder, so a
 * reader never sees half a file and a planted symlink is never followed. */
static int copy_file(const char *from, const char *to, int exec, Diag *d)
{
    char tmp[PATH_MAX + 16];
    FILE *in = fopen(from, "rb");
    if (!in)
        return ir_error(d, "cannot read '%s': %s", from, strerror(errno));
    FILE *out = cg_create_temp(to, tmp, sizeof tmp, exec);
    if (!out) {
        int e = errno;
        fclose(in);
        return ir_error(d, "cannot write '%s': %s", to, strerror(e));
    }
    int ok = 1;
    char buf[1 << 16];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in);
    fclose(in);
    ok = (fclose(out) == 0) && ok;
    if (!ok || rename(tmp, to)) {
        remove(tmp);
        return ir_error(d, "cannot write '%s'", to);
    }
    return 0;
}

int cg_build(Graph *g, const CgOptions *opts, const BuildOptions *b, Diag *d)
{
    if (cg_target_bare(b->target)) /* a Lua recipe may choose it after main.c's check */
        return ir_error(d, "--target %s is bare metal: onnxcc compile writes a folder whose "
                        "Makefile builds the library", cg_target_name(b->target));
    const char *cc = choose_cc(b);
    if (!b->cc && cg_target_cc(b->target) && !on_path(cc))
        return ir_error(d, "--target %s needs the cross compiler %s: apt-get install %s "
                        "(or name one with --cc)", cg_target_name(b->target), cc,
                        cg_target_package(b->target));
    const char *tdir = getenv("TMPDIR");
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/onnxcc-XXXXXX", tdir && *tdir ? tdir : "/tmp");
    if (!mkdtemp(tmp))
        return ir_error(d, "cannot create a temporary folder: %s", strerror(errno));
    char lib[PATH_MAX];
    int have_lib = find_runtime_lib(lib, sizeof lib, b->target) == 0;
    CgOptions o = *opts;
    o.out_dir = tmp;
    o.with_main = 1;
    o.with_runtime = !have_lib;
    char name[64];
    cg_ident(name, sizeof name, o.name ? o.name : "model");

    o.emit = CG_EMIT_OBJ;        /* the LLVM backend's object links as it is */
    char model[96];
    cg_model_file(model, sizeof model, &o);
    int rc = cg_emit_model(g, &o, d);
    Args a = {0};
    /* cc writes inside the private temporary folder; copy_file places it */
    char out_tmp[PATH_MAX + 8];
    if (snprintf(out_tmp, sizeof out_tmp, "%s/%s_bin", tmp, name) >= (int)sizeof out_tmp)
        rc = ir_error(d, "path too long: '%s'", tmp);
    if (rc == 0) {
        add(&a, cc);
        add(&a, "-std=c99");
        add(&a, "-O3");
        add(&a, "-fno-math-errno");
        add_split(&a, cg_target_march(b->target));
        if (!cg_target_triple(b->target)) /* this build's sanitizers have no cross runtime */
            add_split(&a, ONNXCC_BUILD_CFLAGS);
        add_split(&a, b->cflags ? b->cflags : getenv("ONNXCC_CFLAGS"));
        addf(&a, "-I%s%s", tmp, "");
        addf(&a, "-I%s%s", tmp, "/runtime");
        addf(&a, "%s/%s", tmp, model);
        addf(&a, "%s/%s", tmp, "main.c");
        if (exists(tmp, name, "_weights.S")) {
            addf(&a, "%s/%s_weights.S", tmp, name);
            addf(&a, "-Wa,-I%s%s", tmp, "");
        }
        if (have_lib) {
            add(&a, lib);
        } else {
            for (const EmbeddedFile *f = cg_runtime_files; f->name; f++) {
                size_t n = strlen(f->name);
                if (n > 2 && !strcmp(f->name + n - 2, ".c"))
                    addf(&a, "%s/runtime/%s", tmp, f->name);
            }
        }
        add(&a, "-lm");
        add(&a, "-pthread");     /* the runtime's thread pool (--threads) */
        add(&a, "-o");
        add(&a, out_tmp);
        rc = run(&a, b->verbose, d);
    }
    /* the weights file first, then the binary that needs it; a failure
     * between the two takes the weights file back out */
    char to_bin[PATH_MAX] = "";
    if (rc == 0 && exists(tmp, name, ".bin") && !exists(tmp, name, "_weights.S")) {
        char from[PATH_MAX];
        if (snprintf(from, sizeof from, "%s/%s.bin", tmp, name) >= (int)sizeof from ||
            snprintf(to_bin, sizeof to_bin, "%s.bin", b->output) >= (int)sizeof to_bin)
            rc = ir_error(d, "path too long: '%s'", b->output);
        else
            rc = copy_file(from, to_bin, 0, d);
        if (rc)
            to_bin[0] = 0;
    }
    if (rc == 0)
        rc = copy_file(out_tmp, b->output, 1, d);
    if (rc && to_bin[0])
        remove(to_bin);
    args_free(&a);
    if (b->keep)
        fprintf(stderr, "onnxcc: generated sources kept in %s\n", tmp);
    else
        cg_remove_tree(tmp);
    return rc;
}
