/* codegen.h: the internal header of onnxcc's code generators: options, emitter, weights layout. */
#ifndef ONNXCC_CODEGEN_H
#define ONNXCC_CODEGEN_H

#include "ir/ir.h"

enum { WEIGHTS_AUTO, WEIGHTS_C, WEIGHTS_OBJ, WEIGHTS_FILE };

/* --backend: C source for any C99 compiler (the default), or native code
 * through the LLVM C API (codegen/llvm/). */
enum { CG_BACKEND_C, CG_BACKEND_LLVM };
/* --emit: the LLVM backend's model file: NAME.o, NAME.s or NAME.ll. */
enum { CG_EMIT_OBJ, CG_EMIT_ASM, CG_EMIT_IR };

/* --target: the CPU level the generated code and its runtime are compiled
 * for; the binary refuses at start-up a CPU that lacks a feature of it. */
typedef enum CgTarget {
    CG_TARGET_NATIVE,            /* the build machine's (-march=native); the default */
    CG_TARGET_GENERIC,           /* portable code, no -march */
    CG_TARGET_X86_64_V2,
    CG_TARGET_X86_64_V3,
    CG_TARGET_X86_64_V4,
    CG_TARGET_AARCH64,           /* cross targets, by triple: aarch64-linux-gnu */
    CG_TARGET_RISCV64,           /* riscv64-linux-gnu */
    CG_TARGET_THUMBV7EM,         /* thumbv7em-none-eabihf: Cortex-M4F, bare metal */
    CG_TARGET_COUNT
} CgTarget;

/* codegen/target.c */
int cg_target_parse(const char *s);  /* a CgTarget, or -1 for an unknown name */
const char *cg_target_name(int t);   /* "native", "x86-64-v3", "aarch64-linux-gnu" ... */
const char *cg_target_march(int t);  /* the C compiler's flags, NULL for its default */
const char *cg_target_triple(int t); /* LLVM's triple of a cross target, NULL: the host's */
const char *cg_target_cc(int t);     /* a cross target's gcc, NULL: the host's cc */
const char *cg_target_package(int t); /* the Debian package of that gcc */
const char *cg_target_cpu(int t);    /* LLVM's CPU for a cross target without --cpu */
const char *cg_target_features(int t); /* ... and its features without --features */
const char *cg_target_abi(int t);    /* LLVM's ABI name (the cross gcc's default), or NULL */
int cg_target_bare(int t);           /* bare metal: a library, no file I/O, no threads */
/* The GEMM register tile of the target's runtime variant (native: this CPU's). */
void cg_target_gemm_tile(int t, int *mr, int *nr);

/* Below this many bytes of weights, WEIGHTS_AUTO picks C arrays. */
#define WEIGHTS_C_AUTO_LIMIT ((size_t)1 << 20)

typedef struct CgOptions {
    const char *name;            /* C prefix of every generated symbol, e.g. "model" */
    const char *out_dir;         /* folder to write into (created if missing) */
    int weights;                 /* WEIGHTS_* */
    int with_main;               /* write main.c (the standalone binary) */
    int with_runtime;            /* copy the runtime's sources and a Makefile */
    const char *model_path;      /* the .onnx file, named in comments */
    int target;                  /* CgTarget: the -march the Makefile uses */
    int profile;                 /* --profile: time every node into NAME_profile */
    int threads;                 /* --threads: main.c's default count (0: every CPU) */
    int backend;                 /* CG_BACKEND_*: who writes the model's code */
    int emit;                    /* CG_EMIT_*: what the LLVM backend writes (compile) */
    const char *cpu;             /* --cpu: LLVM's CPU name (NULL: the target's) */
    const char *features;        /* --features: LLVM's "+a,-b" (NULL: the CPU's) */
} CgOptions;

/* One output file being written: text goes to path.tmp, renamed on success. */
typedef struct Emitter {
    FILE *f;
    char path[4096];
    char tmp[4200];
    int failed;                  /* errno of the first failed write, 0 if none */
} Emitter;

int cg_open(Emitter *e, const char *dir, const char *file, Diag *d);
void emitf(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cg_write_bytes(Emitter *e, const void *p, size_t n);
int cg_close(Emitter *e, Diag *d);  /* renames into place; removes the temp on failure */
void cg_abort(Emitter *e);          /* drops a file being written */

/* codegen/stage.c */
/* Creates path.tmp-XXXXXX exclusively (never through a planted symlink) with
 * the umask's mode (executable if exec); tmp receives its name. */
FILE *cg_create_temp(const char *path, char *tmp, size_t len, int exec);
/* `onnxcc compile`: emits into a folder beside o->out_dir and moves it into
 * place only when every file is complete, so a failure leaves nothing. */
int cg_emit_folder(Graph *g, const CgOptions *o, Diag *d);
void cg_remove_tree(const char *dir);

/* Where the constants live in the weights blob (64-byte aligned offsets). */
typedef struct WeightsLayout {
    int64_t *offset;             /* per value id; -1 for non-constants or unused ones */
    size_t total;                /* bytes */
    uint64_t checksum;           /* FNV-1a of the blob, checked when loaded from a file */
    int count;                   /* number of constants */
    char *is_string;             /* per value id: a string constant needed by the code; it
                                  * is a C array in every mode (the blob holds no pointers) */
} WeightsLayout;

/* codegen/weights.c */
int cg_weights_layout(const Graph *g, WeightsLayout *w);
void cg_weights_free(WeightsLayout *w);
/* Writes the blob (WEIGHTS_OBJ, WEIGHTS_FILE) or the C arrays (WEIGHTS_C). */
int cg_write_weights_bin(const Graph *g, const WeightsLayout *w, const char *dir,
                         const char *file, Diag *d);
void cg_emit_weights_c(Emitter *e, const Graph *g, const WeightsLayout *w, const char *name);
/* The string constants as `static const char *const NAME_wID[]`, in every mode. */
void cg_emit_string_consts(Emitter *e, const Graph *g, const WeightsLayout *w, const char *name);

/* codegen/names.c */
/* A C identifier from any string: [A-Za-z0-9_], no leading digit, no keyword. */
void cg_ident(char *out, size_t len, const char *s);
void cg_upper(char *out, size_t len, const char *s);
const char *cg_ctype(int dtype);     /* element type in generated C: "float", "int64_t" ... */
const char *cg_dtype_enum(int dtype); /* "RT_F32", ... */
/* Model text made safe inside a C comment / a C string literal (returns buf). */
const char *cg_comment(char *buf, size_t len, const char *s);
const char *cg_cstr(char *buf, size_t len, const char *s);
#define CG_TEXT 2048 /* buffer size for cg_comment and cg_cstr */
/* A C literal that round-trips the float exactly ("1.5f", "-INFINITY", "NAN"). */
void cg_float_literal(char *buf, size_t len, double v, int is_double);
/* Position of v among the graph's inputs / outputs, -1 if it is not one. */
int cg_input_index(const Graph *g, const Value *v);
int cg_output_index(const Graph *g, const Value *v);

/* codegen/header.c: NAME.h, the same for both backends */
int cg_emit_header(const Graph *g, const CgOptions *o, size_t weights_bytes, const int *slot,
                   Diag *d);
/* Per value id, the offset of its run-time extents in S[] (-1: static);
 * *n_slots gets the int64 entries S needs. Free with free(). */
int *cg_rt_slots(const Graph *g, int *n_slots);
void cg_emit_prototype(Emitter *e, const Graph *g, const char *name, const int *slot);
/* The C parameter names of the API: input/output k, an extra parameter of
 * it ("_dims", "_len"), and the index of output k among the dynamic ones. */
void cg_param_name(char *buf, size_t len, const Graph *g, int is_out, int k);
void cg_extra_name(char *buf, size_t len, const Graph *g, int is_out, int k, const char *suffix);
void cg_len_name(char *buf, size_t len, const Graph *g, int k);
int cg_dyn_slot(const Graph *g, int k);
const char *cg_base_name(char *buf, size_t len, const char *path);

/* codegen/backend.c: the backend CgOptions.backend names writes the model */
int cg_emit_model(Graph *g, const CgOptions *o, Diag *d);
/* The model file cg_emit_model writes: "NAME.c", "NAME.o", "NAME.s", "NAME.ll". */
void cg_model_file(char *buf, size_t len, const CgOptions *o);

/* codegen/llvm/emit_llvm.c: NAME.h and NAME.o (.s, .ll) through the LLVM C
 * API; a build without it (ONNXCC_LLVM=OFF) says how to get it */
int cgl_emit(Graph *g, const CgOptions *o, Diag *d);

/* codegen/c/emit_c.c: model.c and model.h */
int cgc_emit(Graph *g, const CgOptions *o, Diag *d);

/* codegen/c/emit_loop.c: a run-time Loop's control flow around emit_c.c's
 * calls: the kernel a node calls, what goes before and after its call, and
 * the bound the header states. */
const char *cgc_kernel_name(const Node *n);
void cgc_loop_before(Emitter *e, const Node *n);
void cgc_loop_after(Emitter *e, const Node *n);
void cgc_loop_header(Emitter *e, const Graph *g, const char *NAME);
/* The `go` flag of a run-time Loop node (LoopBegin's last output, LoopEnd's
 * last input): a byte in the arena that decides whether the region (again)
 * runs; NULL for other nodes. The LLVM backend branches on the same byte. */
const Value *cgc_loop_go_flag(const Node *n);

/* codegen/c/project.c: main.c, Makefile, runtime sources */
int cgc_emit_project(const Graph *g, const CgOptions *o, int weights_mode, Diag *d);

/* codegen/build.c: `onnxcc build`: emit into a temporary folder and run cc */
typedef struct BuildOptions {
    const char *output;          /* the executable to write */
    const char *cc;              /* compiler command; NULL: $ONNXCC_CC or "cc" */
    const char *cflags;          /* extra flags; NULL: $ONNXCC_CFLAGS */
    int target;                  /* CgTarget: -march for the model and the runtime */
    int keep;                    /* keep the temporary folder (printed) */
    int verbose;                 /* print the cc command */
} BuildOptions;
int cg_build(Graph *g, const CgOptions *o, const BuildOptions *b, Diag *d);

#endif
