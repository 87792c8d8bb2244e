/* conformance.c: runs ONNX's conformance cases through the interpreter and the compiled binary. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "driver.h"
#include "ir/ir.h"
#include "op_family.h"

/* A case is a folder with model.onnx and test_data_set_N/{input,output}_K.pb,
 * the layout of ONNX's own backend test data (and of tests/models). */

#define MAX_CASES 4096
#define MAX_IO 64
#define CASE_TIMEOUT_S 300

enum { ST_PASS, ST_FAIL, ST_UNSUPPORTED };
static const char *const st_name[] = {"pass", "FAIL", "unsupported"};

typedef struct Case {
    char dir[1024];              /* the case folder */
    char id[256];                /* "suite/case" */
    int status;
    char reason[512];
    int family;                  /* index into op_families */
    char op[64];                 /* its main op ("" for whole networks) */
} Case;

typedef struct Config {
    int jobs;
    int binary;                  /* also build and run the binary */
    int interp;                  /* also run the interpreter */
    int target;                  /* CgTarget the binaries are built for */
    int backend;                 /* CG_BACKEND_*: what writes the binaries' model code */
    int no_samples;              /* build without seeing an input, as a runtime does */
    double rtol, atol;
    const char *workdir;
} Config;

/* snprintf that may truncate by design (paths and one-line reasons). */
static void fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, len, f, ap);
    va_end(ap);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int file_exists(const char *p)
{
    return access(p, R_OK) == 0;
}

/* Files named PREFIX_K.pb in dir, K = 0, 1, ... while they exist. */
static int count_files(const char *dir, const char *prefix)
{
    char p[1400];
    int k = 0;
    for (;; k++) {
        fmt(p, sizeof p, "%s/%s_%d.pb", dir, prefix, k);
        if (!file_exists(p))
            return k;
    }
}

/* ONNX 1.12's test data stores bfloat16 tensors as uint16 (NumPy has no
 * bfloat16): the bits are the same, only the label differs. */
static int bf16_as_u16(int want, int got)
{
    return want == RT_U16 && got == RT_BF16;
}

/* "[2,0,3]"; "[]" for a scalar. */
static const char *shape_str(const RtTensorDesc *t, char *buf, size_t len)
{
    size_t k = 0;
    buf[k++] = '[';
    for (int i = 0; i < t->rank && k + 24 < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    snprintf(buf + k, len - k, "]");
    return buf;
}

static int close_enough(const RtTensor *want, const RtTensor *got, double rtol, double atol,
                        char *why, size_t len)
{
    if (want->desc.dtype != got->desc.dtype && !bf16_as_u16(want->desc.dtype, got->desc.dtype)) {
        fmt(why, len, "dtype %s, expected %s", rt_dtype_name(got->desc.dtype),
                 rt_dtype_name(want->desc.dtype));
        return 0;
    }
    int same = want->desc.rank == got->desc.rank;
    for (int i = 0; same && i < want->desc.rank; i++)
        same = want->desc.dims[i] == got->desc.dims[i];
    if (!same) {
        char gs[200], ws[200];
        fmt(why, len, "shape %s, expected %s", shape_str(&got->desc, gs, sizeof gs),
            shape_str(&want->desc, ws, sizeof ws));
        return 0;
    }
    int64_t n = rt_numel(&want->desc);
    int wdt = got->desc.dtype; /* equal to want's, or its bfloat16 reading */
    int fl = rt_is_float(wdt);
    for (int64_t i = 0; i < n; i++) {
        if (wdt == RT_STRING) { /* text is compared exactly */
            const char *a = ((const char *const *)got->data)[i];
            const char *b = ((const char *const *)want->data)[i];
            if (strcmp(a, b)) {
                fmt(why, len, "element %lld: got \"%.60s\", expected \"%.60s\"", (long long)i,
                    a, b);
                return 0;
            }
            continue;
        }
        if (rt_is_narrow(wdt)) {
            /* a narrow result is one rounding of an exact value: its code must
             * match, any NaN matching any NaN */
            unsigned a = rt_narrow_get(got->data, wdt, i), b = rt_narrow_get(want->data, wdt, i);
            int nan = rt_is_narrow_float(wdt) && isnan(rt_narrow_to_f32(wdt, a)) &&
                      isnan(rt_narrow_to_f32(wdt, b));
            if (a == b || nan)
                continue;
            fmt(why, len, "element %lld: got %s code 0x%02x (%.9g), expected 0x%02x (%.9g)",
                (long long)i, rt_dtype_name(wdt), a, rt_load_f64(got->data, wdt, i), b,
                rt_load_f64(want->data, wdt, i));
            return 0;
        }
        if (fl) {
            double a = rt_load_f64(got->data, got->desc.dtype, i);
            double b = rt_load_f64(want->data, wdt, i);
            if (isnan(a) && isnan(b))
                continue;
            if (isinf(a) || isinf(b) ? a == b : fabs(a - b) <= atol + rtol * fabs(b))
                continue;
            fmt(why, len, "element %lld: got %.9g, expected %.9g", (long long)i, a, b);
            return 0;
        }
        int64_t a = rt_load_i64(got->data, got->desc.dtype, i);
        int64_t b = rt_load_i64(want->data, wdt, i);
        if (a != b) {
            fmt(why, len, "element %lld: got %lld, expected %lld", (long long)i,
                     (long long)a, (long long)b);
            return 0;
        }
    }
    return 1;
}

static int classify(const char *msg)
{
    return strstr(msg, "not supported") ? ST_UNSUPPORTED : ST_FAIL;
}

/* Per-case tolerance override: a file "tolerance" holding "rtol R atol A". */
static void case_tolerance(const char *dir, double *rtol, double *atol)
{
    char p[1200];
    fmt(p, sizeof p, "%s/tolerance", dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return;
    double r, a;
    if (fscanf(f, "rtol %lf atol %lf", &r, &a) == 2)
        *rtol = r, *atol = a;
    fclose(f);
}

static int spawn_wait(char **argv)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *null = fopen("/dev/null", "w");
        if (null)
            dup2(fileno(null), 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* Runs one data set through the interpreter (and the binary): 0 if all
 * outputs match, else fills reason. */
static int run_set(Graph *g, Sample *s, int ns, const char *set, int interp, const char *bin,
                   const char *outdir, double rtol, double atol, char *reason, size_t len)
{
    int n_out = count_files(set, "output"), n_groups = ir_n_groups(g, 1);
    if (n_out != n_groups) {
        fmt(reason, len, "%d reference outputs, the model has %d", n_out, n_groups);
        return -1;
    }
    RtTensor *in = calloc((size_t)g->n_inputs + 1, sizeof *in);
    RtTensor *want = calloc((size_t)g->n_outputs + 1, sizeof *want);
    RtTensor *got = calloc((size_t)g->n_outputs + 1, sizeof *got);
    IR_ASSERT(in && want && got);
    char err[600], path[1400];
    char files[MAX_IO][1400]; /* what the binary reads: the set's files, or relabeled copies */
    int rc = 0;
    Diag d = {0};
    for (int k = 0; k < ns; k++)
        fmt(files[k], sizeof files[k], "%s/input_%d.pb", set, k);
    for (int k = 0; k < ns && rc == 0; k++) {
        if (s[k].compiled_in)
            continue;
        fmt(path, sizeof path, "%s/input_%d.pb", set, k);
        IoGroup gr = ir_io_group(g, 0, s[k].input_index);
        RtTensor *t = &in[gr.first];
        if (ir_read_group(g, 0, s[k].input_index, path, in, &d) < 0) {
            rc = -1, fmt(reason, len, "%s", d.msg);
        } else if (!strcmp(gr.layout, "T") &&
                   bf16_as_u16(t->desc.dtype, g->inputs[gr.first]->dtype)) {
            t->desc.dtype = RT_BF16;
            fmt(files[k], sizeof files[k], "%s/input_%d.pb", outdir, k);
            if (rt_tensor_write_pb(files[k], t))
                rc = -1, fmt(reason, len, "cannot write %s", files[k]);
        }
    }
    for (int k = 0; k < n_out && rc == 0; k++) {
        fmt(path, sizeof path, "%s/output_%d.pb", set, k);
        if (ir_read_group(g, 1, k, path, want, &d) < 0)
            rc = -1, fmt(reason, len, "%s", d.msg);
    }
    if (rc == 0 && interp && ir_run(g, in, got, &d) < 0)
        rc = -1, fmt(reason, len, "interpreter: %s", d.msg);
    for (int k = 0; k < g->n_outputs && rc == 0 && interp; k++)
        if (!close_enough(&want[k], &got[k], rtol, atol, err, sizeof err))
            rc = -1, fmt(reason, len, "interpreter output %d: %s", k, err);
    for (int k = 0; k < g->n_outputs; k++)
        rt_tensor_free(&got[k]);
    if (rc == 0 && bin) {
        char *argv[MAX_IO + 8];
        int na = 0;
        argv[na++] = (char *)bin;
        for (int k = 0; k < ns; k++)
            if (!s[k].compiled_in)
                argv[na++] = files[k];
        argv[na++] = "--out";
        argv[na++] = (char *)outdir;
        argv[na] = NULL;
        int st = spawn_wait(argv);
        if (st)
            rc = -1, fmt(reason, len, "binary exited with status %d", st);
        for (int k = 0; k < n_out && rc == 0; k++) {
            fmt(path, sizeof path, "%s/output_%d.pb", outdir, k);
            if (ir_read_group(g, 1, k, path, got, &d) < 0)
                rc = -1, fmt(reason, len, "binary: %s", d.msg);
        }
        for (int k = 0; k < g->n_outputs && rc == 0; k++)
            if (!close_enough(&want[k], &got[k], rtol, atol, err, sizeof err))
                rc = -1, fmt(reason, len, "binary output %d: %s", k, err);
        for (int k = 0; k < g->n_outputs; k++)
            rt_tensor_free(&got[k]);
    }
    for (int k = 0; k < g->n_inputs; k++)
        rt_tensor_free(&in[k]);
    for (int k = 0; k < g->n_outputs; k++)
        rt_tensor_free(&want[k]);
    free(in);
    free(want);
    free(got);
    return rc;
}

/* Rewrites the uint16 sample inputs of a bfloat16 model as bfloat16 files. */
static int relabel_bf16(Sample *s, int ns, char files[][1300], const char *workdir, int idx)
{
    char dir[1100];
    fmt(dir, sizeof dir, "%s/%d", workdir, idx);
    mkdir(dir, 0777);
    for (int k = 0; k < ns; k++) {
        RtTensor t;
        char err[600];
        if (rt_tensor_read(s[k].file, &t, err, sizeof err))
            return -1;
        int rc = 0;
        if (t.desc.dtype == RT_U16) {
            t.desc.dtype = RT_BF16;
            fmt(files[k], sizeof files[k], "%s/input_%d.pb", dir, k);
            rc = rt_tensor_write_pb(files[k], &t);
            s[k].file = files[k];
        }
        rt_tensor_free(&t);
        if (rc)
            return -1;
    }
    return 0;
}

static void run_case(Case *c, const Config *cfg, int idx)
{
    char set0[1200], model[1200];
    fmt(set0, sizeof set0, "%s/test_data_set_0", c->dir);
    fmt(model, sizeof model, "%s/model.onnx", c->dir);
    int ns = count_files(set0, "input");
    if (ns > MAX_IO) {
        c->status = ST_UNSUPPORTED;
        fmt(c->reason, sizeof c->reason, "more than %d inputs", MAX_IO);
        return;
    }
    Sample s[MAX_IO];
    char files[MAX_IO][1300];
    memset(s, 0, sizeof s);
    for (int k = 0; k < ns; k++) {
        fmt(files[k], sizeof files[k], "%s/input_%d.pb", set0, k);
        s[k].file = files[k];
    }
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1, .static_values = cfg->backend == CG_BACKEND_LLVM,
                   .sample_values = 1};
    /* binaries only (--no-interp): constants are packed for the target's
     * GEMM tile, as onnxcc build does; the interpreter needs them unpacked */
    if (cfg->binary && !cfg->interp)
        cg_target_gemm_tile(cfg->target, &ctx.gemm_mr, &ctx.gemm_nr);
    /* without samples, no input's shape or value is known when building:
     * the test data's inputs are the graph's inputs in order */
    Graph *g = drv_prepare(model, NULL, 0, s, cfg->no_samples ? 0 : ns, 2, &ctx);
    if (g && cfg->no_samples) {
        for (int k = 0; k < ns; k++)
            s[k].input_index = k;
        if (ir_n_groups(g, 0) != ns) {
            c->status = ST_FAIL;
            fmt(c->reason, sizeof c->reason, "%d inputs in the test data, the model takes %d",
                ns, ir_n_groups(g, 0));
            ir_graph_free(g);
            return;
        }
    }
    if (!g && !cfg->no_samples && strstr(d.msg, "expected bfloat16, got uint16") &&
        relabel_bf16(s, ns, files, cfg->workdir, idx) == 0) {
        memset(&d, 0, sizeof d);
        g = drv_prepare(model, NULL, 0, s, ns, 2, &ctx);
    }
    if (!g) {
        c->status = classify(d.msg);
        fmt(c->reason, sizeof c->reason, "%s", d.msg);
        return;
    }
    double rtol = cfg->rtol, atol = cfg->atol;
    case_tolerance(c->dir, &rtol, &atol);
    char work[1024], bin[1100], outdir[1100];
    fmt(work, sizeof work, "%s/%d", cfg->workdir, idx);
    fmt(bin, sizeof bin, "%s/model_bin", work);
    fmt(outdir, sizeof outdir, "%s/out", work);
    mkdir(work, 0777);
    mkdir(outdir, 0777);
    c->status = ST_PASS;
    if (cfg->binary) {
        CgOptions o = {.name = "model", .weights = WEIGHTS_AUTO, .with_main = 1,
                       .model_path = model, .backend = cfg->backend};
        BuildOptions b = {.output = bin, .target = cfg->target};
        if (cg_build(g, &o, &b, &d) < 0) {
            c->status = classify(d.msg);
            fmt(c->reason, sizeof c->reason, "build: %s", d.msg);
        }
    }
    for (int set = 0; c->status == ST_PASS; set++) {
        char dir[1300];
        fmt(dir, sizeof dir, "%s/test_data_set_%d", c->dir, set);
        if (!is_dir(dir))
            break;
        /* a run refused for what onnxcc does not compute (Dropout training
         * on a value read when it runs) counts as when refused at build time */
        if (run_set(g, s, ns, dir, cfg->interp, cfg->binary ? bin : NULL, outdir, rtol, atol, c->reason,
                    sizeof c->reason) < 0)
            c->status = classify(c->reason);
    }
    ir_graph_free(g);
}

static int collect(const char *root, const char *suite, Case *cases, int n)
{
    DIR *dp = opendir(root);
    if (!dp)
        return n;
    char *names[MAX_CASES];
    int k = 0;
    struct dirent *de;
    while ((de = readdir(dp)) && k < MAX_CASES)
        if (de->d_name[0] != '.')
            names[k++] = strdup(de->d_name);
    closedir(dp);
    qsort(names, (size_t)k, sizeof *names, cmp_str);
    for (int i = 0; i < k; i++) {
        char p[1200];
        fmt(p, sizeof p, "%s/%s/model.onnx", root, names[i]);
        if (n < MAX_CASES && file_exists(p)) {
            Case *c = &cases[n++];
            memset(c, 0, sizeof *c);
            fmt(c->dir, sizeof c->dir, "%s/%s", root, names[i]);
            fmt(c->id, sizeof c->id, "%s/%s", suite, names[i]);
        }
        free(names[i]);
    }
    return n;
}

/* Whole networks count as the family "models"; every other case counts
 * under the family of its main op (op_family.c). */
static int is_model_suite(const char *id)
{
    size_t n = strcspn(id, "/");
    return (n == 6 && !strncmp(id, "simple", n)) || (n == 6 && !strncmp(id, "models", n)) ||
           !strncmp(id, "pytorch-", 8);
}

static void assign_families(Case *cases, int n)
{
    for (int i = 0; i < n; i++) {
        char model[1200];
        char *op = cases[i].op;
        fmt(model, sizeof model, "%s/model.onnx", cases[i].dir);
        op[0] = 0;
        if (is_model_suite(cases[i].id))
            cases[i].family = n_op_families - 1;
        else
            cases[i].family = case_main_op(model, op, sizeof cases[i].op) == 0
                                  ? op_family(op)
                                  : n_op_families - 2; /* unreadable: "other" */
    }
}

/* Keeps the first per_op cases of each suite's op (every whole network),
 * in id order: a second backend or target meets every op without
 * repeating the suite's attribute variations. Returns the count kept; the
 * ids left out go to *dropped, for --expect to pass over. */
static int keep_per_op(Case *cases, int n, int per_op, char (**dropped)[256], int *n_dropped)
{
    int m = 0;
    *n_dropped = 0;
    *dropped = malloc(sizeof **dropped * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        int seen = 0;
        size_t sl = strcspn(cases[i].id, "/");
        for (int j = 0; j < m && cases[i].op[0]; j++)
            seen += !strcmp(cases[j].op, cases[i].op) && !strncmp(cases[j].id, cases[i].id, sl + 1);
        if (seen < per_op || !cases[i].op[0]) {
            if (m != i)
                cases[m] = cases[i];
            m++;
        } else if (*dropped) {
            memcpy((*dropped)[(*n_dropped)++], cases[i].id, 256);
        }
    }
    return m;
}

/* Each case runs in its own child process, so a crash or a hang in one is
 * reported as that case's failure instead of ending the run. */
static void run_all(Case *cases, int n, const Config *cfg)
{
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    int next = 0, running = 0, done = 0;
    while (done < n) {
        while (running < cfg->jobs && next < n) {
            pid_t pid = fork();
            if (pid == 0) {
                alarm(CASE_TIMEOUT_S);
                run_case(&cases[next], cfg, next);
                char p[1100];
                fmt(p, sizeof p, "%s/%d.result", cfg->workdir, next);
                FILE *f = fopen(p, "w");
                if (!f) {
                    fprintf(stderr, "onnxcc_conformance: cannot write %s: %s\n", p,
                            strerror(errno));
                    _exit(3);
                }
                fprintf(f, "%d\n%s\n", cases[next].status, cases[next].reason);
                _exit(fclose(f) ? 3 : 0);
            }
            pids[next++] = pid;
            running++;
        }
        int status;
        pid_t pid = wait(&status);
        if (pid < 0)
            break;
        running--;
        done++;
        int i;
        for (i = 0; i < next && pids[i] != pid; i++)
            ;
        if (i == next)
            continue;
        /* a finished case's pid may come back for a later case (a long run
         * on a busy machine wraps pid_max): forget it, or that later case's
         * end would be read as this one's, from a result already removed */
        pids[i] = 0;
        Case *c = &cases[i];
        char p[1100];
        fmt(p, sizeof p, "%s/%d.result", cfg->workdir, i);
        FILE *f = fopen(p, "r");
        if (WIFSIGNALED(status)) {
            c->status = ST_FAIL;
            fmt(c->reason, sizeof c->reason, "%s (signal %d)",
                WTERMSIG(status) == SIGALRM ? "timed out" : "crashed", WTERMSIG(status));
        } else if (!f) {
            /* the case's process ended without its result: the harness's
             * failure (its own exit status says which), not the case's */
            c->status = ST_FAIL;
            fmt(c->reason, sizeof c->reason, "no result: the case's process exited with "
                "status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        } else {
            if (fscanf(f, "%d\n", &c->status) != 1)
                c->status = ST_FAIL;
            if (!fgets(c->reason, sizeof c->reason, f))
                c->reason[0] = 0;
            c->reason[strcspn(c->reason, "\n")] = 0;
        }
        if (f)
            fclose(f);
        char cmd[1200];
        fmt(cmd, sizeof cmd, "%s/%d", cfg->workdir, i);
        fmt(p, sizeof p, "%s/out", cmd);
        DIR *dp = opendir(p);
        if (dp) {
            struct dirent *de;
            while ((de = readdir(dp))) {
                char q[1400];
                fmt(q, sizeof q, "%s/%s", p, de->d_name);
                if (de->d_name[0] != '.')
                    unlink(q);
            }
            closedir(dp);
        }
        rmdir(p);
        fmt(p, sizeof p, "%s/model_bin", cmd);
        unlink(p);
        fmt(p, sizeof p, "%s/model_bin.bin", cmd);
        unlink(p);
        rmdir(cmd);
        fmt(p, sizeof p, "%s/%d.result", cfg->workdir, i);
        unlink(p);
    }
    free(pids);
}

static const char usage[] =
    "usage: onnxcc_conformance [options] [LABEL=]SUITE_DIR...\n"
    "  a case's id is LABEL/case; LABEL defaults to SUITE_DIR's last component\n"
    "  --expect FILE   cases that must pass; exit 1 if any of them does not\n"
    "  --write FILE    write the cases that passed (to refresh the expect list)\n"
    "  --report FILE   write markdown: passed per suite and per op family, and every\n"
    "                  case that did not pass with its reason\n"
    "  --filter TEXT   only cases whose id contains TEXT\n"
    "  --per-op N      only the first N cases of each op (in id order), whole\n"
    "                  networks all: a slice of the suite that reaches every op\n"
    "  --jobs N        parallel cases (default 2)\n"
    "  --no-binary     interpreter only\n"
    "  --no-interp     binary only\n"
    "  --target LEVEL  build the binaries for native (default), generic, x86-64-v2..v4\n"
    "  --backend c|llvm  the code generator of the binaries (default c); a case the LLVM\n"
    "                  backend refuses counts as unsupported\n"
    "  --no-samples    build each model without its sample inputs (no shape or value\n"
    "                  taken from them), the way a runtime meets a model\n"
    "  -v              print every case\n";

int main(int argc, char **argv)
{
    Config cfg = {.jobs = 2, .binary = 1, .interp = 1, .rtol = 1e-3, .atol = 1e-5};
    const char *expect = NULL, *write = NULL, *report = NULL, *filter = NULL;
    int verbose = 0, per_op = 0;
    static Case cases[MAX_CASES];
    int n = 0;
    const char *suites[64], *labels[64]; /* folders, and the ids' first part */
    int n_suites = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--expect") && i + 1 < argc)
            expect = argv[++i];
        else if (!strcmp(a, "--write") && i + 1 < argc)
            write = argv[++i];
        else if (!strcmp(a, "--report") && i + 1 < argc)
            report = argv[++i];
        else if (!strcmp(a, "--filter") && i + 1 < argc)
            filter = argv[++i];
        else if (!strcmp(a, "--per-op") && i + 1 < argc)
            per_op = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
        else if (!strcmp(a, "--jobs") && i + 1 < argc)
            cfg.jobs = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
        else if (!strcmp(a, "--no-binary"))
            cfg.binary = 0;
        else if (!strcmp(a, "--no-interp"))
            cfg.interp = 0;
        else if (!strcmp(a, "--no-samples"))
            cfg.no_samples = 1;
        else if (!strcmp(a, "--target") && i + 1 < argc) {
            cfg.target = cg_target_parse(argv[++i]);
            if (cfg.target < 0) {
                fprintf(stderr, "onnxcc_conformance: unknown --target '%s'\n", argv[i]);
                return 2;
            }
        }
        else if (!strcmp(a, "--backend") && i + 1 < argc) {
            const char *b = argv[++i];
            if (strcmp(b, "c") && strcmp(b, "llvm")) {
                fprintf(stderr, "onnxcc_conformance: unknown --backend '%s'\n", b);
                return 2;
            }
            cfg.backend = b[0] == 'l' ? CG_BACKEND_LLVM : CG_BACKEND_C;
        }
        else if (!strcmp(a, "-v"))
            verbose = 1;
        else if (a[0] == '-') {
            fputs(usage, stderr);
            return 2;
        } else if (n_suites < 64) {
            /* LABEL=DIR names a suite whose folder name is taken (two "node"s) */
            const char *eq = strchr(a, '='), *sl = strchr(a, '/');
            if (eq && (!sl || eq < sl) && eq > a) {
                labels[n_suites] = strndup(a, (size_t)(eq - a));
                suites[n_suites++] = eq + 1;
            } else {
                const char *b = strrchr(a, '/');
                labels[n_suites] = b && b[1] ? b + 1 : a;
                suites[n_suites++] = a;
            }
        }
    }
    if (!n_suites) {
        fputs(usage, stderr);
        return 2;
    }
    for (int i = 0; i < n_suites; i++) {
        if (!is_dir(suites[i])) {
            fprintf(stderr, "onnxcc_conformance: no such suite folder '%s'\n", suites[i]);
            return 2;
        }
        n = collect(suites[i], labels[i], cases, n);
    }
    if (filter) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (strstr(cases[i].id, filter))
                cases[m++] = cases[i];
        n = m;
    }
    char work[] = "/tmp/onnxcc-conf-XXXXXX";
    if (!mkdtemp(work)) {
        perror("mkdtemp");
        return 2;
    }
    cfg.workdir = work;
    assign_families(cases, n);
    char (*dropped)[256] = NULL;
    int n_dropped = 0;
    if (per_op)
        n = keep_per_op(cases, n, per_op, &dropped, &n_dropped);
    run_all(cases, n, &cfg);
    rmdir(work);

    /* summary per suite */
    int total[3] = {0};
    struct {
        char name[64];
        int cnt[3];
    } per[64];
    int n_per = 0;
    for (int i = 0; i < n;) {
        size_t sl = strcspn(cases[i].id, "/");
        int cnt[3] = {0};
        int j = i;
        for (; j < n && !strncmp(cases[j].id, cases[i].id, sl) && cases[j].id[sl] == '/'; j++) {
            cnt[cases[j].status]++;
            if (verbose || cases[j].status == ST_FAIL)
                printf("%-11s %s%s%s\n", st_name[cases[j].status], cases[j].id,
                       cases[j].reason[0] ? ": " : "", cases[j].reason);
        }
        printf("suite %.*s: %d passed, %d failed, %d unsupported\n", (int)sl, cases[i].id,
               cnt[0], cnt[1], cnt[2]);
        if (n_per < 64) {
            fmt(per[n_per].name, sizeof per[n_per].name, "%.*s", (int)sl, cases[i].id);
            memcpy(per[n_per++].cnt, cnt, sizeof cnt);
        }
        for (int k = 0; k < 3; k++)
            total[k] += cnt[k];
        i = j;
    }
    int regressions = 0;
    if (expect) {
        FILE *f = fopen(expect, "r");
        if (!f) {
            fprintf(stderr, "onnxcc_conformance: cannot read '%s'\n", expect);
            return 2;
        }
        char line[512];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            if (!line[0] || line[0] == '#')
                continue;
            if (filter && !strstr(line, filter))
                continue;
            int in_run = 0; /* only the suites given on this command line */
            for (int i = 0; i < n_suites; i++) {
                size_t bl = strlen(labels[i]);
                in_run |= !strncmp(line, labels[i], bl) && line[bl] == '/';
            }
            if (!in_run)
                continue;
            int found = 0;
            for (int i = 0; i < n_dropped && !found; i++)
                found = !strcmp(dropped[i], line); /* left out by --per-op */
            for (int i = 0; i < n && !found; i++)
                if (!strcmp(cases[i].id, line)) {
                    found = 1;
                    if (cases[i].status != ST_PASS) {
                        regressions++;
                        printf("REGRESSION  %s: %s\n", line, cases[i].reason);
                    }
                }
            if (!found) {
                regressions++;
                printf("REGRESSION  %s: case not found\n", line);
            }
        }
        fclose(f);
    }
    if (write) {
        FILE *f = fopen(write, "w");
        for (int i = 0; f && i < n; i++)
            if (cases[i].status == ST_PASS)
                fprintf(f, "%s\n", cases[i].id);
        if (f)
            fclose(f);
    }
    if (report) {
        FILE *f = fopen(report, "w");
        if (f) {
            fprintf(f, "# Conformance: what onnxcc does not pass\n\n"
                       "Generated by `onnxcc_conformance --report` (`tools/conformance-report.sh`);"
                       " do not edit.\nEach case is compiled to a binary and interpreted; both"
                       " must match ONNX's outputs\n(rtol %g, atol %g).%s\n\n"
                       "| suite | passed | failed | unsupported |\n|---|--:|--:|--:|\n",
                    cfg.rtol, cfg.atol,
                    cfg.no_samples ? " Built without sample inputs: every input stays an"
                                     " input and no shape\nor value is taken from the test data"
                                     " when compiling." : "");
            for (int i = 0; i < n_per; i++)
                fprintf(f, "| %s | %d | %d | %d |\n", per[i].name, per[i].cnt[0], per[i].cnt[1],
                        per[i].cnt[2]);
            /* the same cases again, by the op family they exercise */
            fprintf(f, "\n| op family | passed | total |\n|---|--:|--:|\n");
            for (int k = 0; k < n_op_families; k++) {
                int pass = 0, all = 0;
                for (int i = 0; i < n; i++)
                    if (cases[i].family == k) {
                        all++;
                        pass += cases[i].status == ST_PASS;
                    }
                if (all)
                    fprintf(f, "| %s | %d | %d |\n", op_families[k], pass, all);
            }
            fprintf(f, "\n| case | status | reason |\n|---|---|---|\n");
            for (int i = 0; i < n; i++) {
                if (cases[i].status == ST_PASS)
                    continue;
                /* the model's path says nothing the case name does not */
                const char *r = strstr(cases[i].reason, "model.onnx: ");
                r = r ? r + strlen("model.onnx: ") : cases[i].reason;
                fprintf(f, "| %s | %s | ", cases[i].id, st_name[cases[i].status]);
                for (const char *p = r; *p; p++)
                    fputs(*p == '|' ? "\\|" : (char[2]){*p, 0}, f);
                fprintf(f, " |\n");
            }
            fclose(f);
        }
    }
    printf("conformance: %d passed, %d failed, %d unsupported, %d regressions\n", total[0],
           total[1], total[2], regressions);
    free(dropped);
    return regressions ? 1 : 0;
}
