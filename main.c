/* main.c: the onnxcc command line: compile, build, run, inspect, cost, stats. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codegen/codegen.h"
#include "driver.h"
#include "inspect/inspect.h"
#include "ir/ir.h"
#include "passes/quant.h"

#define MAX_ITEMS 256

typedef struct Opts {
    const char *cmd;
    const char *model;
    const char *output;          /* -o */
    const char *name;            /* --name */
    const char *out_dir;         /* run --out */
    const char *dump_after;
    const char *pipeline;        /* --pipeline FILE: a Lua recipe instead of -O's list */
    const char *cc, *cflags;
    int npy, keep, verbose, verify, no_main;
    int profile;                 /* --profile */
    const char *format;          /* inspect --format: text, json, dot or html */
    int diff;                    /* inspect --diff */
    int threads;                 /* --threads: the binary's default thread count */
    int target;                  /* --target: a CgTarget */
    const char *cpu, *features;  /* --cpu, --features: the LLVM backend's CPU and its features */
    int backend;                 /* --backend: CG_BACKEND_* */
    int emit;                    /* --emit: CG_EMIT_*; -1 if not given */
    int opt_level;
    int weights;
    int64_t max_string_bytes;    /* --max-string-bytes; 0: the default */
    IrLimits limits;             /* --limit NAME=N */
    Binding bind[MAX_ITEMS];
    int n_bind;
    Sample samples[MAX_ITEMS];
    int n_samples;
    QuantOpts quant;             /* --quantize, --quantize-weights and kin */
    int quant_asked;             /* any of them given */
} Opts;

static const char usage[] =
    "usage: onnxcc COMMAND MODEL.onnx [SAMPLE_INPUT...] [options]\n"
    "\n"
    "commands:\n"
    "  compile MODEL -o DIR     write DIR/NAME.c, NAME.h, main.c, runtime/ and a Makefile\n"
    "  build   MODEL -o BIN     compile and link a standalone executable\n"
    "  run     MODEL INPUT...   run the model in the interpreter (for checking)\n"
    "  inspect MODEL            print the IR after the passes (see docs/inspect.md)\n"
    "  cost    MODEL            FLOPs and bytes one run costs, per op type and in total\n"
    "  stats   MODEL            parameters, bytes per weight format, FLOPs, arena and a\n"
    "                           roofline time estimate for this machine\n"
    "\n"
    "Inputs are tensor files (.pb ONNX TensorProto or .npy), in graph-input order\n"
    "or as NAME=FILE. For compile/build/inspect, sample inputs bind the inputs'\n"
    "shapes; an input that decides an output shape has its value compiled in.\n"
    "A sequence or optional input is one ONNX SequenceProto or OptionalProto .pb\n"
    "file; its sample fixes the structure the model is compiled for.\n"
    "\n"
    "options:\n"
    "  -o PATH                  output folder (compile), executable (build) or file (inspect)\n"
    "  --name NAME              C prefix of generated symbols and files\n"
    "                           (default: the model file's name, e.g. digits)\n"
    "  --shape NAME=1x3x224x224 bind an input's shape; a dim may be a name (Nx3x224x224)\n"
    "                           that --dim binds\n"
    "  --dim NAME=VALUE         bind a symbolic dimension, e.g. --dim batch=1\n"
    "  --dim NAME=LO..HI        make it a run-time dimension within LO..HI, e.g.\n"
    "                           --dim seq=1..512 (buffers are planned for HI)\n"
    "  --const NAME=FILE        compile an input's value in as a constant\n"
    "  --weights c|obj|file     weights as C arrays, a linked blob, or NAME.bin\n"
    "                           loaded at start-up (default: c below 1 MiB, else obj)\n"
    "  -O0 .. -O3               optimization level (default -O2; -O0: shape inference only)\n"
    "  --pipeline RECIPE.lua    a Lua script chooses the passes, their options and\n"
    "                           per-node choices, and may add passes (docs/lua.md)\n"
    "  --out DIR, --npy         run: write output_K.pb (or .npy) into DIR\n"
    "  --dump-after PASS        print the IR after the named pass\n"
    "  --format text|json|dot|html  inspect: the IR as text (default), a JSON document, a\n"
    "                           Graphviz graph or one self-contained HTML page\n"
    "  --diff                   inspect: also what each pass changed (nodes removed, added,\n"
    "                           fused, rewritten)\n"
    "  --list-passes            list the passes and exit\n"
    "  --verify                 check the IR after every pass\n"
    "  --max-string-bytes N     longest string an op may make at run time (default 256);\n"
    "                           a longer one makes the run fail with RT_ENOMEM\n"
    "  --target LEVEL           the CPU the code is for: native (default, this machine's\n"
    "                           vector units), generic (portable), x86-64-v2, x86-64-v3\n"
    "                           or x86-64-v4; the binary refuses a CPU below it; or a\n"
    "                           cross target: aarch64-linux-gnu, riscv64-linux-gnu,\n"
    "                           thumbv7em-none-eabihf (Cortex-M4F, compile only)\n"
    "  --cpu NAME, --features +a,-b  --backend llvm: LLVM's CPU and features for --target\n"
    "  --backend c|llvm         compile, build: C source (default) or native code through\n"
    "                           LLVM (static models; see README)\n"
    "  --emit obj|asm|llvm-ir   compile --backend llvm: write NAME.o (default), NAME.s or\n"
    "                           NAME.ll in place of NAME.c\n"
    "  --cc CC, --cflags FLAGS  build: the C compiler and extra flags\n"
    "  --keep, -v               build: keep the generated sources; print the cc command\n"
    "  --no-main                compile: no main.c\n"
    "  --threads N              compile, build: the binary's default thread count (default 1;\n"
    "                           0: every usable CPU); its own --threads N overrides it\n"
    "  --profile                compile, build: time every node; the binary prints a table\n"
    "                           per node (and --profile-json FILE writes it as JSON)\n"
    "  --loop-max N             a Loop whose trip count or condition is known only at run\n"
    "                           time runs at most N iterations (default 4096; its scan\n"
    "                           outputs are sized for N); one that needs more fails the\n"
    "                           run with RT_EBOUND (the same as --limit loop-iters=N)\n"
    "  --max-elements N         the most elements of a tensor whose extents come from values\n"
    "                           read at run time (Expand's shape, Tile's repeats, Range...;\n"
    "                           default 65536; its buffer is planned for N); a run that needs\n"
    "                           more fails with RT_EBOUND (the same as --limit max-elements=N)\n"
    "  --limit NAME=N           raise (or lower) one of the limits below\n"
    "\n"
    "quantization (see docs/quantization.md):\n"
    "  --quantize int8          static int8: per-channel weights, per-tensor activations\n"
    "                           calibrated on --calibrate's samples\n"
    "  --quantize-weights FMT   weight-only MatMul/Gemm/Conv weights: int8, int4, int3, int2,\n"
    "                           ternary (2 bits), ternary5 (1.6 bits), sherry (1.25 bits),\n"
    "                           mxint8, mxfp8, mxfp4 (blocks of 32), nvfp4 (blocks of 16)\n"
    "  --method rtn|gptq|decoupleq  how weight codes are chosen (default rtn; gptq and\n"
    "                           decoupleq need --calibrate; decoupleq: int8..int2 only)\n"
    "  --group N                weights per scale for int8..int2 and the ternary formats\n"
    "                           (ternary, ternary5, sherry; default 32)\n"
    "  --calibrate DIR          sample inputs: folders of input_K.pb, or one file per sample\n"
    "  --calib-samples N        use at most N samples (default all)\n"
    "  --calib-method minmax|percentile|entropy  activation ranges (default minmax)\n"
    "  --percentile P           percentile: the share of values kept (default 99.99)\n"
    "  --keep-float PATTERN     leave the nodes whose name matches (fnmatch) in float\n"
    "  --repquant ln|log2|ln,log2  transformers (with --quantize int8): fold LayerNorm\n"
    "                           outputs' per-channel ranges into gamma/beta and the next\n"
    "                           weights; quantize Softmax outputs to powers of two (4 bits)\n"
    "  --quant-report           print each quantized layer's error against float\n"
    "  --save-onnx FILE         write the quantized graph as ONNX (QDQ form)\n"
    "  --lowrank R              add a float rank-R correction A*B to each weight-only layer,\n"
    "                           fitted to its quantization residual (HGF; R up to 1024)\n"
    "  --rotate hadamard        rotate MatMul/Gemm inputs and weights by a blockwise Hadamard\n"
    "                           before quantizing (outliers spread out; the output unchanged)\n"
    "  --rotate-block N         its block, a power of two 2..4096 (default: the group)\n"
    "  --wq-act int8|float      activations of weight-only MatMul (int8, int4, int2 weights,\n"
    "                           up to 8 rows): int8 per weight group, integer dot products\n"
    "                           (faster; default float, int8 for a MatMulNBits with\n"
    "                           accuracy_level 4 as in ONNX Runtime)\n"
    "  --help, --version\n"
    "\n"
    "limits (a model that needs more is refused with one line naming the limit):\n";

static int fail(const char *fmt, const char *a)
{
    fprintf(stderr, "onnxcc: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    return 2;
}

/* "NAME=1x3x224x224" */
static int parse_shape(const char *arg, Binding *b)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg)
        return -1;
    b->name = strndup(arg, (size_t)(eq - arg));
    b->kind = BIND_SHAPE;
    b->rank = 0;
    const char *p = eq + 1;
    if (!strcmp(p, "scalar"))
        return 0;
    while (*p) {
        char *end;
        errno = 0;
        if (b->rank == IR_MAX_RANK)
            return -1;
        b->dim_name[b->rank] = NULL;
        if (isalpha((unsigned char)*p) || *p == '_') {
            /* a named dim, bound by --dim NAME=...; an 'x' before a digit
             * ends it (Nx3x32x32), ',' always does (1,max_len,80) */
            end = (char *)p;
            while ((isalnum((unsigned char)*end) || *end == '_') &&
                   !(*end == 'x' && end > p && isdigit((unsigned char)end[1])))
                end++;
            b->dim_name[b->rank] = strndup(p, (size_t)(end - p));
            b->dims[b->rank++] = -1;
        } else {
            long long v = strtoll(p, &end, 10);
            if (end == p || v < 0 || errno)
                return -1;
            b->dims[b->rank++] = v;
        }
        if (*end == 'x' || *end == ',')
            end++;
        else if (*end)
            return -1;
        p = end;
    }
    return b->rank ? 0 : -1;
}

static int parse_kv(const char *arg, Binding *b, int kind)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return -1;
    b->name = strndup(arg, (size_t)(eq - arg));
    b->kind = kind;
    if (kind == BIND_CONST) {
        b->file = eq + 1;
        return 0;
    }
    char *end;
    errno = 0;
    b->value = b->lo = strtoll(eq + 1, &end, 10);
    if (!errno && end[0] == '.' && end[1] == '.') {
        /* LO..HI: a run-time dim */
        const char *hi = end + 2;
        b->value = strtoll(hi, &end, 10);
        if (end == hi)
            return -1;
    }
    return *end || errno || b->lo < 0 || b->value < b->lo ? -1 : 0;
}

static int pick(const char *arg, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (names[i] && !strcmp(arg, names[i]))
            return i;
    return -1;
}

/* One quantization option; 0, or 2 with the message printed. */
static int parse_quant(const char *a, const char *v, QuantOpts *q)
{
    static const char *const wfmt[] = {NULL,      "int8",    "int4",   "int3",
                                       "int2",    "ternary", "ternary5", "sherry",
                                       "mxint8",  "mxfp8",   "mxfp4",  "nvfp4"};
    static const char *const methods[] = {"rtn", "gptq", "decoupleq"};
    static const char *const cms[] = {"minmax", "percentile", "entropy"};
    char *end;
    if (!strcmp(a, "--quant-report")) {
        q->report = 1;
    } else if (!strcmp(a, "--quantize")) {
        if (strcmp(v, "int8"))
            return fail("bad --quantize '%s' (expected int8; weight-only formats are "
                        "--quantize-weights)", v);
        q->act = QA_INT8;
    } else if (!strcmp(a, "--quantize-weights")) {
        int k = pick(v, wfmt, (int)(sizeof wfmt / sizeof *wfmt));
        if (k < 0)
            return fail("bad --quantize-weights '%s' (expected int8, int4, int3, int2, ternary, "
                        "ternary5, sherry, mxint8, mxfp8, mxfp4 or nvfp4)", v);
        q->weights = (QuantWeights)k;
    } else if (!strcmp(a, "--method")) {
        int k = pick(v, methods, 3);
        if (k < 0)
            return fail("bad --method '%s' (expected rtn, gptq or decoupleq)", v);
        q->method = (QuantMethod)k;
    } else if (!strcmp(a, "--calib-method")) {
        int k = pick(v, cms, 3);
        if (k < 0)
            return fail("bad --calib-method '%s' (expected minmax, percentile or entropy)", v);
        q->calib_method = (CalibMethod)k;
    } else if (!strcmp(a, "--group")) {
        long g = strtol(v, &end, 10);
        if (*end || !*v || (g != 16 && g != 32 && g != 64 && g != 128 && g != 256))
            return fail("bad --group '%s' (expected 16, 32, 64, 128 or 256)", v);
        q->group = (int)g;
    } else if (!strcmp(a, "--percentile")) {
        double p = strtod(v, &end);
        if (*end || !*v || !(p > 50.0 && p <= 100.0))
            return fail("bad --percentile '%s' (expected a share above 50 and at most 100)", v);
        q->percentile = p;
    } else if (!strcmp(a, "--calib-samples")) {
        long n = strtol(v, &end, 10);
        if (*end || !*v || n < 1 || n > 1000000)
            return fail("bad --calib-samples '%s' (expected 1 .. 1000000)", v);
        q->max_samples = (int)n;
    } else if (!strcmp(a, "--calibrate")) {
        q->calib_dir = v;
    } else if (!strcmp(a, "--keep-float")) {
        if (q->n_keep_float == QUANT_MAX_PATTERNS)
            return fail("too many --keep-float patterns at '%s'", v);
        q->keep_float[q->n_keep_float++] = v;
    } else if (!strcmp(a, "--wq-act")) {
        if (strcmp(v, "int8") && strcmp(v, "float"))
            return fail("bad --wq-act '%s' (expected int8 or float)", v);
        q->wq_act = strcmp(v, "int8") ? WQA_FLOAT : WQA_INT8;
    } else if (!strcmp(a, "--save-onnx")) {
        q->save_onnx = v;
    } else if (!strcmp(a, "--lowrank")) {
        long r = strtol(v, &end, 10);
        if (*end || !*v || r < 1 || r > 1024)
            return fail("bad --lowrank '%s' (expected a rank 1 .. 1024)", v);
        q->lowrank = (int)r;
    } else if (!strcmp(a, "--rotate")) {
        if (strcmp(v, "hadamard"))
            return fail("bad --rotate '%s' (expected hadamard)", v);
        q->rotate = 1;
    } else if (!strcmp(a, "--rotate-block")) {
        long b = strtol(v, &end, 10);
        if (*end || !*v || b < 2 || b > 4096 || (b & (b - 1)))
            return fail("bad --rotate-block '%s' (expected a power of two 2 .. 4096)", v);
        q->rotate_block = (int)b;
    } else if (!strcmp(a, "--repquant")) {
        static const char *const parts[] = {"ln", "log2", "ln,log2", "log2,ln"};
        static const int bits[] = {RQ_LN, RQ_LOG2, RQ_LN | RQ_LOG2, RQ_LN | RQ_LOG2};
        int k = pick(v, parts, 4);
        if (k < 0)
            return fail("bad --repquant '%s' (expected ln, log2 or ln,log2)", v);
        q->repquant = bits[k];
    } else {
        return fail("unknown option '%s' (see onnxcc --help)", a);
    }
    return 0;
}

/* What the quantization options ask only makes sense together. */
static int check_quant(const Opts *o)
{
    const QuantOpts *q = &o->quant;
    int mx = q->weights >= QW_MXINT8;
    if (!o->quant_asked)
        return 0;
    if (o->opt_level == 0)
        return fail("%s: quantization needs -O1 or more", o->cmd);
    if (q->act == QA_INT8 && !q->calib_dir)
        return fail("%s: --quantize int8 needs --calibrate DIR (sample inputs)", o->cmd);
    if (q->method != QM_RTN && q->weights == QW_NONE)
        return fail("%s: --method chooses weight codes: give --quantize-weights too", o->cmd);
    if (q->method != QM_RTN && !q->calib_dir)
        return fail("%s: --method gptq and decoupleq need --calibrate DIR", o->cmd);
    if (q->method == QM_DECOUPLEQ && q->weights > QW_INT2)
        return fail("%s: --method decoupleq applies to int8, int4, int3 and int2 weights",
                    o->cmd);
    if (q->group && mx)
        return fail("%s: --group does not apply to the MX and NVFP4 formats (their blocks are "
                    "32 and 16 values)", o->cmd);
    if ((q->calib_method != CM_MINMAX || q->percentile) && q->act == QA_NONE)
        return fail("%s: --calib-method and --percentile choose activation ranges for "
                    "--quantize int8", o->cmd);
    if (q->percentile && q->calib_method != CM_PERCENTILE)
        return fail("%s: --percentile needs --calib-method percentile", o->cmd);
    if (q->lowrank && q->weights == QW_NONE)
        return fail("%s: --lowrank corrects weight-only layers: give --quantize-weights too",
                    o->cmd);
    if (q->rotate_block && !q->rotate)
        return fail("%s: --rotate-block needs --rotate hadamard", o->cmd);
    if (q->repquant && q->act == QA_NONE)
        return fail("%s: --repquant reshapes int8 activation quantizers: give --quantize int8",
                    o->cmd);
    return 0;
}

static int parse_args(int argc, char **argv, Opts *o)
{
    o->opt_level = 2;
    o->weights = WEIGHTS_AUTO;
    o->emit = -1;
    o->threads = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_ARG()                                                            \
    do {                                                                      \
        if (!next)                                                            \
            return fail("%s needs a value", a);                               \
        i++;                                                                  \
    } while (0)
        if (!strcmp(a, "-o")) {
            NEED_ARG();
            o->output = next;
        } else if (!strcmp(a, "--name")) {
            NEED_ARG();
            o->name = next;
        } else if (!strcmp(a, "--out")) {
            NEED_ARG();
            o->out_dir = next;
        } else if (!strcmp(a, "--shape") || !strcmp(a, "--dim") || !strcmp(a, "--const")) {
            NEED_ARG();
            if (o->n_bind == MAX_ITEMS)
                return fail("too many bindings at '%s'", next);
            Binding *b = &o->bind[o->n_bind++];
            int bad = a[2] == 's' ? parse_shape(next, b)
                      : a[2] == 'd' ? parse_kv(next, b, BIND_DIM)
                                    : parse_kv(next, b, BIND_CONST);
            if (bad)
                return fail(a[2] == 's' ? "bad --shape '%s' (expected NAME=1x3x224x224)"
                            : a[2] == 'd' ? "bad --dim '%s' (expected NAME=VALUE or NAME=LO..HI)"
                                          : "bad --const '%s' (expected NAME=FILE)", next);
        } else if (!strcmp(a, "--weights")) {
            NEED_ARG();
            if (!strcmp(next, "c"))
                o->weights = WEIGHTS_C;
            else if (!strcmp(next, "obj"))
                o->weights = WEIGHTS_OBJ;
            else if (!strcmp(next, "file"))
                o->weights = WEIGHTS_FILE;
            else
                return fail("bad --weights '%s' (expected c, obj or file)", next);
        } else if (!strcmp(a, "--target")) {
            NEED_ARG();
            o->target = cg_target_parse(next);
            if (o->target < 0)
                return fail("bad --target '%s' (expected native, generic, x86-64-v2, "
                            "x86-64-v3, x86-64-v4, aarch64-linux-gnu, riscv64-linux-gnu or "
                            "thumbv7em-none-eabihf)", next);
        } else if (!strcmp(a, "--cpu")) {
            NEED_ARG();
            o->cpu = next;
        } else if (!strcmp(a, "--features")) {
            NEED_ARG();
            o->features = next;
        } else if (!strcmp(a, "--backend")) {
            NEED_ARG();
            if (!strcmp(next, "c") || !strcmp(next, "llvm"))
                o->backend = next[0] == 'c' ? CG_BACKEND_C : CG_BACKEND_LLVM;
            else
                return fail("bad --backend '%s' (expected c or llvm)", next);
        } else if (!strcmp(a, "--emit")) {
            NEED_ARG();
            if (!strcmp(next, "obj") || !strcmp(next, "asm") || !strcmp(next, "llvm-ir"))
                o->emit = next[0] == 'o' ? CG_EMIT_OBJ : next[0] == 'a' ? CG_EMIT_ASM : CG_EMIT_IR;
            else
                return fail("bad --emit '%s' (expected obj, asm or llvm-ir)", next);
        } else if (!strcmp(a, "--max-string-bytes")) {
            NEED_ARG();
            char *end;
            errno = 0;
            o->max_string_bytes = strtoll(next, &end, 10);
            if (*end || errno || o->max_string_bytes < 1 || o->max_string_bytes > (1 << 30))
                return fail("bad --max-string-bytes '%s' (expected 1 .. 1073741824)", next);
        } else if (!strcmp(a, "--limit") || !strcmp(a, "--loop-max") ||
                   !strcmp(a, "--max-elements")) {
            NEED_ARG();
            char err[256], arg[320];
            /* --loop-max N and --max-elements N are limits under the names
             * their bounds go by */
            const char *lim = !strcmp(a, "--loop-max") ? "loop-iters=" :
                              !strcmp(a, "--max-elements") ? "max-elements=" : "";
            snprintf(arg, sizeof arg, "%s%s", lim, next);
            if (ir_limit_parse(&o->limits, arg, err, sizeof err))
                return !*lim ? fail("%s", err)
                       : !strcmp(a, "--loop-max")
                           ? fail("bad --loop-max '%s' (expected 1 .. 4294967296)", next)
                           : fail("bad --max-elements '%s' (expected 1 .. 1099511627776)", next);
        } else if (!strcmp(a, "--threads")) {
            NEED_ARG();
            char *end;
            errno = 0;
            long t = strtol(next, &end, 10);
            if (*end || !*next || errno || t < 0 || t > RT_MAX_THREADS)
                return fail("bad --threads '%s' (expected 0 .. 256; 0: every CPU)", next);
            o->threads = (int)t;
        } else if (!strcmp(a, "--format")) {
            NEED_ARG();
            if (strcmp(next, "text") && strcmp(next, "json") && strcmp(next, "dot") &&
                strcmp(next, "html"))
                return fail("bad --format '%s' (expected text, json, dot or html)", next);
            o->format = next;
        } else if (!strcmp(a, "--diff")) {
            o->diff = 1;
        } else if (!strcmp(a, "--pipeline")) {
            NEED_ARG();
            o->pipeline = next;
        } else if (!strcmp(a, "--dump-after")) {
            NEED_ARG();
            o->dump_after = next;
        } else if (!strcmp(a, "--cc")) {
            NEED_ARG();
            o->cc = next;
        } else if (!strcmp(a, "--cflags")) {
            NEED_ARG();
            o->cflags = next;
        } else if (!strcmp(a, "--npy")) {
            o->npy = 1;
        } else if (!strcmp(a, "--keep")) {
            o->keep = 1;
        } else if (!strcmp(a, "-v")) {
            o->verbose = 1;
        } else if (!strcmp(a, "--verify")) {
            o->verify = 1;
        } else if (!strcmp(a, "--no-main")) {
            o->no_main = 1;
        } else if (!strcmp(a, "--profile")) {
            o->profile = 1;
        } else if (!strncmp(a, "--quant", 7) || !strncmp(a, "--calib", 7) ||
                   !strcmp(a, "--method") || !strcmp(a, "--group") ||
                   !strcmp(a, "--percentile") || !strcmp(a, "--keep-float") ||
                   !strcmp(a, "--save-onnx") || !strcmp(a, "--lowrank") ||
                   !strncmp(a, "--rotate", 8) || !strcmp(a, "--repquant") ||
                   !strcmp(a, "--wq-act")) {
            int takes = strcmp(a, "--quant-report") != 0;
            if (takes)
                NEED_ARG();
            int bad = parse_quant(a, takes ? next : NULL, &o->quant);
            if (bad)
                return bad;
            o->quant_asked = 1;
        } else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) {
            o->opt_level = a[2] - '0';
        } else if (a[0] == '-' && a[1]) {
            return fail("unknown option '%s' (see onnxcc --help)", a);
        } else if (!o->model) {
            o->model = a;
        } else {
            if (o->n_samples == MAX_ITEMS)
                return fail("too many inputs at '%s'", a);
            Sample *s = &o->samples[o->n_samples++];
            const char *eq = strchr(a, '=');
            /* NAME=FILE, unless the whole argument is an existing file */
            struct stat st;
            if (eq && stat(a, &st) != 0) {
                s->name = strndup(a, (size_t)(eq - a));
                s->file = eq + 1;
            } else {
                s->file = a;
            }
        }
#undef NEED_ARG
    }
    if (!o->model)
        return fail("%s: no model given (see onnxcc --help)", o->cmd);
    if (check_quant(o))
        return 2;
    if (o->quant.calib_method == CM_PERCENTILE && !o->quant.percentile)
        o->quant.percentile = 99.99;
    /* The default thread count lives in the generated main.c; a library has
     * none, and dropping the flag silently would leave the user at 1 thread. */
    if (o->no_main && o->threads != 1) {
        fprintf(stderr, "onnxcc: --threads %d needs the generated main; with --no-main, call "
                        "rt_set_threads(%d) before NAME_run\n", o->threads, o->threads);
        return 2;
    }
    return 0;
}

static void free_opts(Opts *o)
{
    for (int i = 0; i < o->n_bind; i++)
        free((char *)o->bind[i].name);
    for (int i = 0; i < o->n_samples; i++)
        free((char *)o->samples[i].name);
}

static void print_output(const RtTensor *t)
{
    int64_t n = rt_numel(&t->desc);
    printf("%s: %s[", t->name, rt_dtype_name(t->desc.dtype));
    for (int i = 0; i < t->desc.rank; i++)
        printf("%s%lld", i ? "," : "", (long long)t->desc.dims[i]);
    printf("] = {");
    for (int64_t i = 0; i < n && i < 10; i++) {
        if (t->desc.dtype == RT_STRING)
            printf("%s\"%s\"", i ? ", " : "", ((const char *const *)t->data)[i]);
        else if (t->desc.dtype == RT_F32 || t->desc.dtype == RT_F64 || t->desc.dtype == RT_F16 ||
            t->desc.dtype == RT_BF16)
            printf("%s%g", i ? ", " : "", rt_load_f64(t->data, t->desc.dtype, i));
        else
            printf("%s%lld", i ? ", " : "", (long long)rt_load_i64(t->data, t->desc.dtype, i));
    }
    printf("%s}\n", n > 10 ? ", ..." : "");
}

static int cmd_run(Graph *g, Opts *o, Diag *d)
{
    RtTensor *in = calloc((size_t)g->n_inputs + 1, sizeof *in);
    RtTensor *out = calloc((size_t)g->n_outputs + 1, sizeof *out);
    int rc = 0, n_in = ir_n_groups(g, 0), n_out = ir_n_groups(g, 1);
    for (int i = 0; i < n_in && rc == 0; i++) {
        int k;
        for (k = 0; k < o->n_samples; k++)
            if (o->samples[k].input_index == i)
                break;
        if (k == o->n_samples)
            rc = ir_error(d, "missing input '%s'", ir_io_group(g, 0, i).name);
        else
            rc = ir_read_group(g, 0, i, o->samples[k].file, in, d);
    }
    if (rc == 0)
        rc = ir_run(g, in, out, d);
    if (rc == 0 && o->out_dir && mkdir(o->out_dir, 0777) && errno != EEXIST)
        rc = ir_error(d, "cannot create '%s': %s", o->out_dir, strerror(errno));
    for (int i = 0; i < g->n_outputs && rc == 0 && !o->out_dir; i++)
        print_output(&out[i]);
    for (int i = 0; i < n_out && rc == 0 && o->out_dir; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/output_%d.%s", o->out_dir, i, o->npy ? "npy" : "pb");
        rc = ir_write_group(g, i, out, path, o->npy, d);
    }
    for (int i = 0; i < g->n_inputs; i++)
        rt_tensor_free(&in[i]);
    for (int i = 0; i < g->n_outputs; i++)
        rt_tensor_free(&out[i]);
    free(in);
    free(out);
    return rc;
}

/* `onnxcc cost`: what one run of the compiled graph costs by ir/cost.c's
 * counts (the FLOPs --profile reports per node), per op type; the last line,
 * "total: N nodes, F GFLOP, B MB", is what bench/run.sh reads. */
static void cmd_cost(const Graph *g)
{
    enum { MAX_OPS = 256 };
    typedef struct OpCost {
        const char *op;          /* ONNX op_type */
        int nodes;               /* nodes of it that run */
        double flops, bytes;     /* their sums */
    } OpCost;
    OpCost row[MAX_OPS];
    int n_rows = 0, nodes = 0;
    double flops = 0, bytes = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n))
            continue;
        double f = ir_node_flops(n), b = ir_node_bytes(n);
        int r = 0;
        while (r < n_rows && strcmp(row[r].op, n->op_type))
            r++;
        if (r == n_rows && n_rows < MAX_OPS)
            row[n_rows++] = (OpCost){n->op_type, 0, 0, 0};
        if (r < n_rows) {
            row[r].nodes++;
            row[r].flops += f;
            row[r].bytes += b;
        }
        nodes++;
        flops += f;
        bytes += b;
    }
    printf("%-24s %6s %12s %7s %12s\n", "op", "nodes", "MFLOP", "share", "MB");
    for (int r = 0; r < n_rows; r++)
        printf("%-24s %6d %12.3f %6.1f%% %12.3f\n", row[r].op, row[r].nodes, row[r].flops / 1e6,
               flops > 0 ? 100.0 * row[r].flops / flops : 0.0, row[r].bytes / 1e6);
    printf("total: %d nodes, %.6f GFLOP, %.3f MB\n", nodes, flops / 1e9, bytes / 1e6);
}

/* `onnxcc inspect` in the format asked for, and `onnxcc stats`, to -o FILE
 * or stdout. */
static int cmd_inspect(const Graph *g, const Opts *o, const InsDiff *diff, Diag *d)
{
    FILE *f = o->output ? fopen(o->output, "w") : stdout;
    if (!f)
        return ir_error(d, "cannot write '%s': %s", o->output, strerror(errno));
    Inspect in;
    ins_walk(g, o->model, diff, &in);
    const char *fmt = o->format ? o->format : "text";
    if (!strcmp(o->cmd, "stats"))
        ins_stats(&in, f);
    else if (!strcmp(fmt, "json"))
        ins_json(&in, f);
    else if (!strcmp(fmt, "dot"))
        ins_dot(&in, f);
    else if (!strcmp(fmt, "html"))
        ins_html(&in, f);
    else
        ins_text(&in, f);
    ins_free(&in);
    int bad = ferror(f);
    if (f != stdout && fclose(f))
        bad = 1;
    return bad ? ir_error(d, "cannot write '%s'", o->output ? o->output : "stdout") : 0;
}

/* The default C prefix: the model file's name without folder and extension. */
static void model_stem(const char *path, char *out, size_t len)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, len, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = 0;
    if (!out[0])
        snprintf(out, len, "model");
}

static void note_compiled_in(const Opts *o)
{
    for (int k = 0; k < o->n_samples; k++)
        if (o->samples[k].compiled_in)
            fprintf(stderr, "onnxcc: note: the value of %s decides a shape; it is compiled in "
                    "and the input is no longer taken\n", o->samples[k].file);
}

static void print_usage(FILE *f)
{
    fputs(usage, f);
    ir_limits_help(f);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        /* the machine too: bench and test logs quote this line */
        char cpu[512];
        rt_cpu_describe(cpu, sizeof cpu, 0);
        printf("onnxcc %s\ncpu: %s\n", ONNXCC_VERSION, cpu);
        return 0;
    }
    if (!strcmp(argv[1], "--list-passes")) {
        for (int i = 0; i < ir_n_passes; i++)
            printf("%-17s %s\n", ir_passes[i].name, ir_passes[i].what);
        return 0;
    }
    Opts o;
    memset(&o, 0, sizeof o);
    o.cmd = argv[1];
    ir_limits_default(&o.limits);
    int known = !strcmp(o.cmd, "compile") || !strcmp(o.cmd, "build") || !strcmp(o.cmd, "run") ||
                !strcmp(o.cmd, "inspect") || !strcmp(o.cmd, "cost") || !strcmp(o.cmd, "stats");
    if (!known)
        return fail("unknown command '%s' (see onnxcc --help)", o.cmd);
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_usage(stdout);
            return 0;
        }
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        free_opts(&o);
        return rc;
    }
    if ((!strcmp(o.cmd, "compile") || !strcmp(o.cmd, "build")) && !o.output) {
        free_opts(&o);
        return fail("%s needs -o", o.cmd);
    }
    if ((o.format || o.diff) && strcmp(o.cmd, "inspect")) {
        free_opts(&o);
        return fail("%s: --format and --diff are options of inspect", o.cmd);
    }
    if (o.emit >= 0 && (strcmp(o.cmd, "compile") || o.backend != CG_BACKEND_LLVM)) {
        free_opts(&o);
        return fail("%s", "--emit is for compile --backend llvm (build always links an object)");
    }
    if ((o.cpu || o.features) && o.backend != CG_BACKEND_LLVM) {
        free_opts(&o);
        return fail("%s", "--cpu and --features are for --backend llvm (the C backend takes "
                          "the compiler's flags: --cflags, or ARCH in the folder's Makefile)");
    }
    if (cg_target_bare(o.target) && (!strcmp(o.cmd, "build") || o.threads != 1 || o.profile)) {
        free_opts(&o);
        return fail("--target %s is bare metal (no file I/O driver or clock, one thread): "
                    "onnxcc compile writes a folder whose Makefile builds the library; "
                    "build, --threads and --profile are not for it", cg_target_name(o.target));
    }
    Diag d = {0};
    d.file = o.model;
    PassCtx ctx = {.d = &d, .verify = o.verify, .dump_after = o.dump_after, .dump = stdout,
                   .max_string_bytes = o.max_string_bytes, .limits = &o.limits,
                   .quant = o.quant_asked ? &o.quant : NULL, .pipeline = o.pipeline,
                   .target = o.target, .static_values = o.backend == CG_BACKEND_LLVM,
                   .backend = o.backend, .sample_values = strcmp(o.cmd, "run") != 0};
    InsDiff diff = {0};
    if (o.diff) {
        ctx.after_pass = ins_diff_after_pass;
        ctx.after_pass_arg = &diff;
    }
    if (!strcmp(o.cmd, "compile") || !strcmp(o.cmd, "build")) /* not run: the interpreter */
        cg_target_gemm_tile(o.target, &ctx.gemm_mr, &ctx.gemm_nr);
    Graph *g = drv_prepare(o.model, o.bind, o.n_bind, o.samples, o.n_samples, o.opt_level, &ctx);
    rc = g ? 0 : -1;
    o.target = ctx.target; /* a recipe may have chosen these */
    o.backend = ctx.backend;
    if (g && strcmp(o.cmd, "run"))
        note_compiled_in(&o);
    char stem[128];
    model_stem(o.model, stem, sizeof stem);
    CgOptions cg = {.name = o.name ? o.name : stem, .out_dir = o.output, .weights = o.weights,
                    .with_main = !o.no_main, .with_runtime = 1, .model_path = o.model,
                    .target = o.target, .profile = o.profile, .threads = o.threads,
                    .backend = o.backend, .emit = o.emit < 0 ? CG_EMIT_OBJ : o.emit,
                    .cpu = o.cpu, .features = o.features};
    if (cg_target_bare(o.target))
        cg.with_main = 0;        /* no file I/O driver on bare metal: a library for firmware */
    if (rc == 0 && !strcmp(o.cmd, "run")) {
        rc = cmd_run(g, &o, &d);
    } else if (rc == 0 && (!strcmp(o.cmd, "inspect") || !strcmp(o.cmd, "stats"))) {
        rc = cmd_inspect(g, &o, o.diff ? &diff : NULL, &d);
    } else if (rc == 0 && !strcmp(o.cmd, "cost")) {
        cmd_cost(g);
    } else if (rc == 0 && !strcmp(o.cmd, "compile")) {
        rc = cg_emit_folder(g, &cg, &d);
    } else if (rc == 0 && !strcmp(o.cmd, "build")) {
        BuildOptions b = {.output = o.output, .cc = o.cc, .cflags = o.cflags,
                          .target = o.target, .keep = o.keep, .verbose = o.verbose};
        rc = cg_build(g, &cg, &b, &d);
    }
    if (rc)
        fprintf(stderr, "onnxcc: %s\n", d.msg[0] ? d.msg : "failed");
    ir_graph_free(g);
    ins_diff_free(&diff);
    free_opts(&o);
    return rc ? 1 : 0;
}
