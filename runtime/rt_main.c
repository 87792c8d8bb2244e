/* rt_main.c: the standalone binary's driver: argv, input files, one run, outputs or a summary. */
#define _POSIX_C_SOURCE 200112L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#ifdef _WIN32
#include <direct.h>
#define make_dir(p) _mkdir(p)
#else
#define make_dir(p) mkdir((p), 0777)
#endif

#include "rt_internal.h"

/* Kernels may assume cache-line alignment of every buffer they get. */
#define ALIGN 64
/* Values shown per output in the summary. */
#define SHOW 8

/* One 64-byte aligned block; raw is what free() takes. C99 has no
 * aligned_alloc, and this is the driver, not the inference path. */
typedef struct Block {
    void *raw;
    void *p;
    int64_t dims[RT_MAX_RANK];   /* actual extents of a tensor with run-time dims */
} Block;

typedef struct Driver {
    const RtModel *m;
    const char *prog;            /* program name for messages */
    const char *out_dir;         /* --out, NULL to print a summary */
    const char *weights;         /* --weights, NULL for the model's default */
    int npy;                     /* --npy */
    long bench;                  /* --bench N, 0 without */
    int threads;                 /* --threads N, else rt_main_threads's default */
    int threads_given;           /* --threads was on the command line */
    const char **files;          /* per input group, NULL until given */
    Block *in, *out;             /* per graph input / output */
    int64_t *extent;             /* per dynamic output (in order): its actual extent */
    Block arena;
    double *samples;             /* bench latencies */
    double lat[3];               /* bench min, median, mean */
    const RtProfHooks *prof;     /* built with --profile, else NULL */
    const char *prof_json;       /* --profile-json FILE */
} Driver;

static int fail(const Driver *dr, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", dr->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static int block_alloc(Block *b, size_t n)
{
    /* never size 0, so every buffer the model sees is a real pointer */
    if (n > SIZE_MAX - ALIGN)
        return -1;
    b->raw = malloc(n + ALIGN);
    if (!b->raw)
        return -1;
    b->p = (void *)(((uintptr_t)b->raw + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
    memset(b->p, 0, n ? n : 1);
    return 0;
}

/* Bytes of one graph input/output; 0 with *ok = 0 if its type is unusable. */
static size_t io_bytes(const RtIO *io, int *ok)
{
    size_t n = 1;
    *ok = rt_dtype_bits(io->dtype) && io->rank >= 0 && io->rank <= RT_MAX_RANK;
    for (int i = 0; *ok && i < io->rank; i++) {
        if (io->dims[i] < 0 || (io->dims[i] && n > SIZE_MAX / 8 / (uint64_t)io->dims[i]))
            *ok = 0;
        else
            n *= (size_t)io->dims[i];
    }
    if (io->rt_mask && io->cap > 0) { /* N^rank bounds, N elements at most */
        *ok = 1;
        n = (size_t)io->cap;
    }
    return *ok ? rt_dtype_bytes(io->dtype, (int64_t)n) : 0; /* packed types: ceil(n*bits/8) */
}

/* Input or output group k: a model without groups has one tensor each. */
static int n_groups(const RtModel *m, int is_out)
{
    int ng = is_out ? m->n_out_groups : m->n_in_groups;
    return ng ? ng : is_out ? m->n_out : m->n_in;
}

static RtGroup group_of(const RtModel *m, int is_out, int k)
{
    const RtGroup *gr = is_out ? m->out_groups : m->in_groups;
    if ((is_out ? m->n_out_groups : m->n_in_groups) && gr)
        return gr[k];
    RtGroup g = {(is_out ? m->out : m->in)[k].name, "T", k, 1};
    return g;
}

/* One line per tensor of a group; a structured group first says what it is. */
static void usage_group(const RtModel *m, int is_out, int k)
{
    RtGroup gr = group_of(m, is_out, k);
    const RtIO *io = is_out ? m->out : m->in;
    char ts[256];
    int structured = strcmp(gr.layout, "T") != 0;
    if (structured)
        printf("  %d  %s  %s %s (an ONNX %s file), holding:\n", k, gr.name,
               gr.layout[0] == 'S' ? "a sequence" : "an optional", gr.layout,
               gr.layout[0] == 'S' ? "SequenceProto" : "OptionalProto");
    for (int i = gr.first; i < gr.first + gr.count; i++) {
        rt_type_str(ts, sizeof ts, io[i].dtype, io[i].rank, io[i].dims);
        if (structured)
            printf("       %s  %s", io[i].name, ts);
        else
            printf("  %d  %s  %s", k, io[i].name, ts);
        if (io[i].dyn)
            printf("  (axis %d: data-dependent, at most %lld)", io[i].dyn_axis,
                   (long long)io[i].dims[io[i].dyn_axis]);
        for (int a = 0; a < io[i].rank; a++)
            if (io[i].rt_mask >> a & 1)
                printf("  (axis %d: %lld..%lld)", a, (long long)io[i].lo[a],
                       (long long)io[i].dims[a]);
        printf("\n");
    }
}

/* The thread count without --threads: 1, or what onnxcc --threads baked
 * into the generated main.c. */
static int default_threads = 1;

void rt_main_threads(int n)
{
    default_threads = n;
}

static void usage(const Driver *dr)
{
    const RtModel *m = dr->m;
    printf("usage: %s [--out DIR] [--npy] [--bench N] [--threads N] [--weights FILE] INPUT...\n"
           "Runs the model '%s' once on the given inputs.\n\n"
           "  INPUT           a .pb (ONNX TensorProto) or .npy file, in input order,\n"
           "                  or NAME=FILE; a sequence or optional input is one ONNX\n"
           "                  SequenceProto or OptionalProto .pb file\n"
           "  --out DIR       write each output to DIR/output_K.pb (DIR is created);\n"
           "                  without it, print a summary of each output\n"
           "  --npy           write .npy files instead of .pb (with --out)\n"
           "  --bench N       after one warm-up run, time N runs and print the latency\n"
           "  --threads N     threads the kernels share the work among (default %d,\n"
           "                  set by onnxcc --threads; 0: every usable CPU)\n"
           "  --weights FILE  load the weights from FILE instead of the default\n",
           dr->prog, m->name ? m->name : "", default_threads);
    if (dr->prof)
        printf("  --profile-json FILE  also write the per-node profile to FILE as JSON\n");
    printf("  --help          show this help\n\ninputs:\n");
    for (int k = 0; k < n_groups(m, 0); k++)
        usage_group(m, 0, k);
    printf("outputs:\n");
    for (int k = 0; k < n_groups(m, 1); k++)
        usage_group(m, 1, k);
    char built[512];
    rt_cpu_describe(built, sizeof built, 1);
    printf("\nbuilt for CPUs with: %s\n", built);
}

/* "--flag VALUE" or "--flag=VALUE"; returns 1 and the value if arg is flag. */
static int opt_value(const Driver *dr, int argc, char **argv, int *i, const char *flag,
                     const char **val, int *err)
{
    size_t n = strlen(flag);
    const char *a = argv[*i];
    if (strncmp(a, flag, n) != 0 || (a[n] != 0 && a[n] != '='))
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
    } else if (*i + 1 < argc) {
        *val = argv[++*i];
    } else {
        *err = fail(dr, "%s needs a value (see --help)", flag);
        return 1;
    }
    if (!**val)
        *err = fail(dr, "%s needs a non-empty value", flag);
    return 1;
}

static int input_index(const RtModel *m, const char *name, size_t len)
{
    for (int i = 0; i < n_groups(m, 0); i++) {
        const char *gn = group_of(m, 0, i).name;
        if (gn && strlen(gn) == len && !strncmp(gn, name, len))
            return i;
    }
    return -1;
}

/* Parses argv. Returns 0 to go on, 1 on error, 2 after --help. */
static int parse_args(Driver *dr, int argc, char **argv)
{
    const RtModel *m = dr->m;
    int npos = 0, opts = 1, err = 0;
    const char **pos = malloc(sizeof *pos * (size_t)(argc > 0 ? argc : 1));
    if (!pos)
        return fail(dr, "out of memory");
    for (int i = 1; i < argc && !err; i++) {
        const char *a = argv[i], *v = NULL, *eq;
        if (opts && a[0] == '-' && a[1]) {
            if (!strcmp(a, "--")) {
                opts = 0;
            } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
                free(pos);
                usage(dr);
                return 2;
            } else if (!strcmp(a, "--npy")) {
                dr->npy = 1;
            } else if (opt_value(dr, argc, argv, &i, "--out", &v, &err)) {
                dr->out_dir = v;
            } else if (opt_value(dr, argc, argv, &i, "--weights", &v, &err)) {
                dr->weights = v;
            } else if (opt_value(dr, argc, argv, &i, "--profile-json", &v, &err)) {
                dr->prof_json = v;
                if (!err && !dr->prof)
                    err = fail(dr, "--profile-json: this binary was built without --profile");
            } else if (opt_value(dr, argc, argv, &i, "--threads", &v, &err)) {
                char *end;
                long t;
                if (err)
                    break;
                errno = 0;
                t = strtol(v, &end, 10);
                if (*end || errno || t < 0 || t > RT_MAX_THREADS)
                    err = fail(dr, "--threads needs 0 .. %d, got '%s'", RT_MAX_THREADS, v);
                dr->threads = (int)t;
                dr->threads_given = 1;
            } else if (opt_value(dr, argc, argv, &i, "--bench", &v, &err)) {
                char *end;
                if (err)
                    break;
                errno = 0;
                dr->bench = strtol(v, &end, 10);
                if (*end || errno || dr->bench < 1 || dr->bench > 1000000000L)
                    err = fail(dr, "--bench needs a positive number of runs, got '%s'", v);
            } else {
                err = fail(dr, "unknown option '%s' (see --help)", a);
            }
            continue;
        }
        /* NAME=FILE when NAME is an input; otherwise a positional file */
        eq = strchr(a, '=');
        if (eq) {
            int k = input_index(m, a, (size_t)(eq - a));
            FILE *f;
            if (k >= 0) {
                if (dr->files[k])
                    err = fail(dr, "input '%s' given twice", group_of(m, 0, k).name);
                dr->files[k] = eq + 1;
                continue;
            }
            /* a file whose name holds '=' is still a file; otherwise a typo'd name */
            f = fopen(a, "rb");
            if (!f) {
                err = fail(dr, "'%s': the model has no input named '%.*s'", a,
                           (int)(eq - a), a);
                continue;
            }
            fclose(f);
        }
        pos[npos++] = a;
    }
    int ng = n_groups(m, 0);
    for (int i = 0, k = 0; i < npos && !err; i++) {
        while (k < ng && dr->files[k])
            k++;
        if (k == ng) {
            err = fail(dr, "too many inputs: '%s' is one more than the model's %d", pos[i], ng);
            break;
        }
        dr->files[k] = pos[i];
    }
    free(pos);
    for (int k = 0; k < ng && !err; k++) {
        RtGroup gr = group_of(m, 0, k);
        if (dr->files[k])
            continue;
        if (strcmp(gr.layout, "T")) {
            err = fail(dr, "missing input '%s' (expected a structure %s)", gr.name, gr.layout);
        } else {
            char ts[256];
            const RtIO *io = &m->in[gr.first];
            rt_type_str(ts, sizeof ts, io->dtype, io->rank, io->dims);
            err = fail(dr, "missing input '%s' (expected %s)", gr.name, ts);
        }
    }
    if (!err && dr->npy && !dr->out_dir)
        err = fail(dr, "--npy needs --out DIR");
    return err;
}

/* Checks tensor t against graph input k and copies it into its aligned buffer. */
static int take_input(Driver *dr, int k, RtTensor *t, const char *file)
{
    const RtIO *io = &dr->m->in[k];
    char want[256], got[256];
    int ok, same;
    size_t n = io_bytes(io, &ok);
    if (!ok)
        return fail(dr, "input '%s' has an unusable type in the model", io->name);
    same = t->desc.dtype == io->dtype && t->desc.rank == io->rank;
    if (same && io->rt_mask) /* lo is dims on the static axes */
        same = rt_dims_check(io->rank, t->desc.dims, io->lo, io->dims, dr->in[k].dims) == RT_OK;
    for (int i = 0; same && !io->rt_mask && i < io->rank; i++)
        same = t->desc.dims[i] == io->dims[i];
    if (!same) {
        rt_type_str(want, sizeof want, io->dtype, io->rank, io->dims);
        rt_type_str(got, sizeof got, t->desc.dtype, t->desc.rank, t->desc.dims);
        if (io->rt_mask && t->desc.dtype == io->dtype && t->desc.rank == io->rank)
            return fail(dr, "input '%s' (%s): %s is outside the bounds the model was compiled "
                        "for (up to %s; see --help for each axis' range)", io->name, file, got,
                        want);
        return fail(dr, "input '%s' (%s): expected %s, got %s", io->name, file, want, got);
    }
    memcpy(dr->in[k].dims, t->desc.dims, sizeof t->desc.dims);
    if (io->rt_mask)
        n = t->nbytes; /* the buffer holds the actual extents */
    if (io->dtype == RT_STRING) {
        /* the pointers point into the same block: take it whole (one free) */
        dr->in[k].raw = dr->in[k].p = t->data ? t->data : malloc(1);
        t->data = NULL;
        t->nbytes = 0;
        return dr->in[k].raw ? 0 : fail(dr, "out of memory for input '%s'", io->name);
    }
    if (block_alloc(&dr->in[k], n))
        return fail(dr, "out of memory for input '%s'", io->name);
    if (n)
        memcpy(dr->in[k].p, t->data, n);
    return 0;
}

/* Reads every input group: a tensor file, or a sequence/optional file whose
 * structure must be the one the model was compiled for. */
static int load_inputs(Driver *dr)
{
    const RtModel *m = dr->m;
    char err[512];
    for (int g = 0; g < n_groups(m, 0); g++) {
        RtGroup gr = group_of(m, 0, g);
        const char *file = dr->files[g];
        if (!strcmp(gr.layout, "T")) {
            RtTensor t;
            /* a file of this input holds its elements (at most 11 bytes each,
             * as varints in a .pb's typed fields) and a header well under
             * 64 KiB; strings have no such bound */
            const RtIO *io = &m->in[gr.first];
            size_t max = 11;
            for (int k = 0; k < io->rank; k++)
                max *= (size_t)io->dims[k];
            if (io->dtype == RT_STRING)
                max = (size_t)-1 - 65536;
            if (rt_tensor_read_max(file, max + 65536, &t, err, sizeof err))
                return fail(dr, "input '%s': %s", gr.name, err);
            int rc = take_input(dr, gr.first, &t, file);
            rt_tensor_free(&t);
            if (rc)
                return rc;
            continue;
        }
        RtTensor *ts = calloc((size_t)gr.count + 1, sizeof *ts);
        char nest[32], layout[256];
        int count = 0, rc = 0;
        if (!ts)
            return fail(dr, "out of memory");
        rt_layout_nest(gr.layout, nest, sizeof nest);
        if (rt_struct_read(file, nest, ts, gr.count + 1, &count, layout, sizeof layout, err,
                           sizeof err))
            rc = fail(dr, "input '%s': %s", gr.name, err);
        else if (strcmp(layout, gr.layout))
            rc = fail(dr, "input '%s' (%s): the model was compiled for the structure %s, the "
                      "file holds %s", gr.name, file, gr.layout, layout);
        for (int i = 0; i < count && !rc; i++)
            rc = take_input(dr, gr.first + i, &ts[i], file);
        for (int i = 0; i < count; i++)
            rt_tensor_free(&ts[i]);
        free(ts);
        if (rc)
            return rc;
    }
    return 0;
}

static const char *status_str(int rc)
{
    switch (rc) {
    case RT_EINVAL: return "invalid parameters";
    case RT_EDTYPE: return "unsupported dtype";
    case RT_EIO: return "I/O error";
    case RT_EFORMAT: return "malformed data";
    case RT_ENOMEM: return "buffer too small";
    case RT_ECPU: return "this CPU lacks an instruction set the code was built for";
    case RT_ETHREAD: return "threads could not be started";
    case RT_EBOUND: return "an extent or a loop's trip count is past the bound the model was "
                           "compiled for (--dim, --loop-max, --max-elements)";
    case RT_ESHAPE: return "the inputs' extents do not fit together";
    case RT_EUNSUPPORTED: return "an input value asks for what onnxcc does not compute "
                                 "(Dropout in training mode with a ratio above 0)";
    default: return "error";
    }
}

/* The one line for a failed run: a tensor past --max-elements by name. */
static int run_failed(const Driver *dr, int rc)
{
    int64_t cap;
    const char *grown = rc == RT_EBOUND ? rt_grow_failed(&cap) : NULL;
    if (grown)
        return fail(dr, "inference failed: '%s' needs more than %lld elements (or an extent "
                    "past it), the bound of a tensor grown by values read at run time "
                    "(--max-elements N raises it) (code %d)", grown, (long long)cap, rc);
    return fail(dr, "inference failed: %s (code %d)", status_str(rc), rc);
}

/* mkdir -p: creates each missing component of dir. */
static int make_dirs(const char *dir)
{
    size_t n = strlen(dir);
    struct stat st;
    char *p = malloc(n + 1);
    if (!p)
        return -1;
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0)
            continue;
        p[i] = 0;
        if (make_dir(p) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        p[i] = i < n ? '/' : 0;
    }
    free(p);
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static char *out_path(const Driver *dr, int k)
{
    size_t n = strlen(dr->out_dir) + 32;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/output_%d.%s", dr->out_dir, k, dr->npy ? "npy" : "pb");
    return p;
}

static int n_dynamic(const RtModel *m)
{
    int n = 0;
    for (int k = 0; k < m->n_out; k++)
        n += m->out[k].dyn != 0;
    return n;
}

/* Output k's type after a run: a dynamic output takes its reported extent. */
static void out_desc(const Driver *dr, int k, RtTensorDesc *d)
{
    const RtIO *io = &dr->m->out[k];
    d->dtype = io->dtype;
    d->rank = io->rank;
    memcpy(d->dims, io->rt_mask ? dr->out[k].dims : io->dims, sizeof d->dims);
    if (io->dyn) {
        int j = 0;
        for (int i = 0; i < k; i++)
            j += dr->m->out[i].dyn != 0;
        d->dims[io->dyn_axis] = dr->extent[j];
    }
}

/* A run must report every extent within its output's bound. */
static int check_extents(const Driver *dr)
{
    const RtModel *m = dr->m;
    for (int k = 0, j = 0; k < m->n_out; k++) {
        const RtIO *io = &m->out[k];
        if (!io->dyn)
            continue;
        if (io->dyn_axis < 0 || io->dyn_axis >= io->rank || dr->extent[j] < 0 ||
            dr->extent[j] > io->dims[io->dyn_axis])
            return fail(dr, "output '%s': extent %lld is outside its bound", io->name,
                        (long long)dr->extent[j]);
        j++;
    }
    return 0;
}

/* Output k as a tensor over its buffer, with its actual dims. */
static void output_tensor(const Driver *dr, int k, RtTensor *t)
{
    const RtIO *io = &dr->m->out[k];
    memset(t, 0, sizeof *t);
    out_desc(dr, k, &t->desc);
    if (io->name)
        snprintf(t->name, sizeof t->name, "%s", io->name);
    t->nbytes = rt_dtype_bytes(io->dtype, rt_numel(&t->desc)); /* checked by drive */
    t->data = dr->out[k].p;
}

/* Writes output group k: a tensor file, or a SequenceProto/OptionalProto. */
static int write_group(const Driver *dr, int k, const char *path)
{
    RtGroup gr = group_of(dr->m, 1, k);
    if (!strcmp(gr.layout, "T")) {
        RtTensor t;
        output_tensor(dr, gr.first, &t);
        return dr->npy ? rt_tensor_write_npy(path, &t) : rt_tensor_write_pb(path, &t);
    }
    if (dr->npy)
        return RT_EDTYPE;
    RtTensor *ts = calloc((size_t)gr.count + 1, sizeof *ts);
    if (!ts)
        return RT_ENOMEM;
    for (int i = 0; i < gr.count; i++)
        output_tensor(dr, gr.first + i, &ts[i]);
    int rc = rt_struct_write_pb(path, gr.layout, ts, gr.count);
    free(ts);
    return rc;
}

/* Writes every output file; on a failure removes those already written, so
 * a directory never holds a partial set that looks complete. */
static int write_outputs(const Driver *dr)
{
    const RtModel *m = dr->m;
    if (make_dirs(dr->out_dir))
        return fail(dr, "cannot create '%s': %s", dr->out_dir, strerror(errno));
    for (int k = 0; k < n_groups(m, 1); k++) {
        RtGroup gr = group_of(m, 1, k);
        const RtIO *io = &m->out[gr.first < m->n_out ? gr.first : 0];
        int rc;
        char *path = out_path(dr, k);
        if (!path)
            return fail(dr, "out of memory");
        errno = 0;
        rc = write_group(dr, k, path);
        if (rc) {
            int e = errno;
            for (int j = 0; j < k; j++) {
                char *q = out_path(dr, j);
                if (q)
                    remove(q);
                free(q);
            }
            if (rc == RT_EDTYPE && strcmp(gr.layout, "T"))
                fail(dr, "cannot write the structured output '%s' as .npy; use .pb", gr.name);
            else if (rc == RT_EDTYPE)
                fail(dr, "cannot write %s output '%s' as %s; use .pb", rt_dtype_name(io->dtype),
                     io->name, dr->npy ? ".npy" : ".pb");
            else
                fail(dr, "cannot write '%s': %s", path, e ? strerror(e) : status_str(rc));
            free(path);
            return 1;
        }
        free(path);
    }
    return 0;
}

static void print_value(const void *p, int dtype, int64_t i)
{
    if (dtype == RT_STRING)
        printf("\"%s\"", ((const char *const *)p)[i]);
    else if (rt_is_float(dtype))
        printf("%.6g", rt_load_f64(p, dtype, i));
    else if (dtype == RT_U64)
        printf("%llu", (unsigned long long)((const uint64_t *)p)[i]);
    else
        printf("%lld", (long long)rt_load_i64(p, dtype, i));
}

/* What a user wants to see without --out: the type, the first values, and
 * for a vector of scores (1-D or [1,C]) the winning class. */
static void print_summary(const Driver *dr)
{
    const RtModel *m = dr->m;
    char ts[256];
    for (int k = 0; k < m->n_out; k++) {
        const RtIO *io = &m->out[k];
        const void *p = dr->out[k].p;
        RtTensorDesc d;
        int64_t n, best = -1;
        double bv = 0;
        out_desc(dr, k, &d);
        n = rt_numel(&d);
        rt_type_str(ts, sizeof ts, d.dtype, d.rank, d.dims);
        printf("%s: %s = [", io->name, ts);
        for (int64_t i = 0; i < n && i < SHOW; i++) {
            fputs(i ? ", " : "", stdout);
            print_value(p, io->dtype, i);
        }
        fputs(n > SHOW ? ", ...]\n" : "]\n", stdout);
        if (io->dtype == RT_BOOL || io->dtype == RT_STRING || n < 1 ||
            !(io->rank == 1 || (io->rank == 2 && io->dims[0] == 1)))
            continue;
        for (int64_t i = 0; i < n; i++) {
            double v = rt_load_f64(p, io->dtype, i);
            if (v == v && (best < 0 || v > bv)) { /* NaN never wins */
                best = i;
                bv = v;
            }
        }
        if (best >= 0) {
            printf("  argmax: %lld (", (long long)best);
            print_value(p, io->dtype, best);
            printf(")\n");
        }
    }
}

/* One inference: a model with run-time dims takes the inputs' actual
 * extents and reports its outputs'. */
static int run_model(Driver *dr, const void *const *in, void *const *out)
{
    const RtModel *m = dr->m;
    if (!m->run_dims)
        return m->run(dr->arena.p, in, out);
    const int64_t *in_dims[m->n_in + 1];
    int64_t *out_dims[m->n_out + 1];
    for (int k = 0; k < m->n_in; k++)
        in_dims[k] = dr->in[k].dims;
    for (int k = 0; k < m->n_out; k++)
        out_dims[k] = dr->out[k].dims;
    return m->run_dims(dr->arena.p, in_dims, out_dims, in, out);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench(Driver *dr, const void *const *in, void *const *out)
{
    long n = dr->bench;
    double sum = 0, med;
    dr->samples = malloc(sizeof *dr->samples * (size_t)n);
    if (!dr->samples)
        return fail(dr, "out of memory");
    for (long i = 0; i < n; i++) {
        double t0 = rt_now_ms();
        int rc = run_model(dr, in, out);
        dr->samples[i] = rt_now_ms() - t0;
        if (rc)
            return fail(dr, "inference failed in timed run %ld: %s (code %d)", i + 1,
                        status_str(rc), rc);
        sum += dr->samples[i];
    }
    qsort(dr->samples, (size_t)n, sizeof *dr->samples, cmp_double);
    med = n % 2 ? dr->samples[n / 2] : (dr->samples[n / 2 - 1] + dr->samples[n / 2]) / 2;
    dr->lat[0] = dr->samples[0];
    dr->lat[1] = med;
    dr->lat[2] = sum / (double)n;
    return 0;
}

static int report_profile(const Driver *dr)
{
    if (dr->bench)
        printf("\n");
    if (dr->prof->report(dr->prof->p, dr->prof_json) != 0)
        return fail(dr, "cannot write the profile to '%s'", dr->prof_json);
    return 0;
}

static int drive(Driver *dr, int argc, char **argv)
{
    const RtModel *m = dr->m;
    const void **in;
    void **out;
    int rc = parse_args(dr, argc, argv);
    if (rc)
        return rc == 2 ? 0 : 1;
    if (load_inputs(dr))
        return 1;
    for (int k = 0; k < m->n_out; k++) {
        int ok;
        size_t n = io_bytes(&m->out[k], &ok);
        if (!ok)
            return fail(dr, "output '%s' has an unusable type in the model", m->out[k].name);
        if (block_alloc(&dr->out[k], n))
            return fail(dr, "out of memory for output '%s'", m->out[k].name);
    }
    if (block_alloc(&dr->arena, m->arena_bytes))
        return fail(dr, "out of memory for the %zu-byte arena", m->arena_bytes);
    in = malloc(sizeof *in * (size_t)(m->n_in + 1));
    /* after the output buffers, one extent slot per dynamic output */
    out = malloc(sizeof *out * (size_t)(m->n_out + n_dynamic(m) + 1));
    dr->extent = calloc((size_t)n_dynamic(m) + 1, sizeof *dr->extent);
    if (!in || !out || !dr->extent) {
        free((void *)in);
        free(out);
        return fail(dr, "out of memory");
    }
    for (int k = 0; k < m->n_in; k++)
        in[k] = dr->in[k].p;
    for (int k = 0; k < m->n_out; k++)
        out[k] = dr->out[k].p;
    for (int j = 0; j < n_dynamic(m); j++)
        out[m->n_out + j] = &dr->extent[j];
    /* the pool starts once, before the first run: never per node or per run */
    if ((rc = rt_set_threads(dr->threads)) != 0) {
        if (dr->threads_given) {
            free((void *)in);
            free(out);
            return fail(dr, "--threads %d: %s (code %d)", dr->threads, status_str(rc), rc);
        }
        /* the default baked in by onnxcc --threads, on a runtime built
         * without threads (-DONNXCC_NO_THREADS): say so and run serially */
        fprintf(stderr, "%s: note: %s; running on 1 thread, not %d\n", dr->prog,
                status_str(rc), dr->threads);
        rc = 0;
    }
    if (m->init && (rc = m->init(dr->weights)) != 0)
        rc = fail(dr, "cannot load the weights%s%s: %s (code %d)", dr->weights ? " from " : "",
                  dr->weights ? dr->weights : "", status_str(rc), rc);
    else if (!m->init && dr->weights)
        rc = fail(dr, "--weights: this model embeds its weights");
    /* the first run doubles as the benchmark's warm-up */
    if (!rc && (rc = run_model(dr, in, out)) != 0)
        rc = run_failed(dr, rc);
    if (!rc)
        rc = check_extents(dr);
    /* the profile covers the timed runs only: the warm-up pays for page
     * faults and cold caches */
    if (!rc && dr->bench && dr->prof)
        dr->prof->reset(dr->prof->p);
    if (!rc && dr->bench)
        rc = bench(dr, in, out);
    if (!rc && dr->out_dir)
        rc = write_outputs(dr);
    else if (!rc)
        print_summary(dr);
    if (!rc && dr->bench) {
        /* a figure means little without the machine that produced it */
        char cpu[512], built[512];
        rt_cpu_describe(cpu, sizeof cpu, 0);
        rt_cpu_describe(built, sizeof built, 1);
        printf("cpu: %s\nbuilt for: %s\nthreads: %d\n", cpu, built, rt_threads());
    }
    if (!rc && dr->bench)
        printf("latency: min %.3f ms, median %.3f ms, mean %.3f ms over %ld runs\n", dr->lat[0],
               dr->lat[1], dr->lat[2], dr->bench);
    if (!rc && dr->prof)
        rc = report_profile(dr);
    free((void *)in);
    free(out);
    return rc;
}

int rt_main(int argc, char **argv, const RtModel *m)
{
    return rt_main_hooked(argc, argv, m, NULL);
}

int rt_main_hooked(int argc, char **argv, const RtModel *m, const RtProfHooks *p)
{
    Driver dr;
    int rc;
    memset(&dr, 0, sizeof dr);
    dr.m = m;
    dr.prof = p;
    dr.threads = default_threads;
    dr.prog = "model_bin";
    if (argc > 0 && argv[0] && argv[0][0]) {
        const char *s = strrchr(argv[0], '/');
        dr.prog = s ? s + 1 : argv[0];
    }
    if (rt_cpu_refuse(dr.prog))
        return 1;
    dr.files = calloc((size_t)n_groups(m, 0) + 1, sizeof *dr.files);
    dr.in = calloc((size_t)m->n_in + 1, sizeof *dr.in);
    dr.out = calloc((size_t)m->n_out + 1, sizeof *dr.out);
    if (!dr.files || !dr.in || !dr.out)
        rc = fail(&dr, "out of memory");
    else
        rc = drive(&dr, argc, argv);
    for (int k = 0; dr.in && k < m->n_in; k++)
        free(dr.in[k].raw);
    for (int k = 0; dr.out && k < m->n_out; k++)
        free(dr.out[k].raw);
    free(dr.arena.raw);
    free(dr.samples);
    free(dr.extent);
    free((void *)dr.files);
    free(dr.in);
    free(dr.out);
    rt_set_threads(1);           /* joins the workers: exit with none running */
    fflush(stdout);
    return rc;
}
