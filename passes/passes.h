/* passes.h: the optimization passes over the IR, their registry and the -O pipelines. */
#ifndef ONNXCC_PASSES_H
#define ONNXCC_PASSES_H

#include "ir.h"
#include "quant.h"

typedef struct PassCtx {
    Diag *d;
    int opt_level;               /* 0..3; -O0 keeps every buffer apart */
    int verify;                  /* run ir_verify after every pass */
    const char *dump_after;      /* print the IR after this pass, or NULL */
    FILE *dump;
    int64_t max_string_bytes;    /* --max-string-bytes; 0: IR_MAX_STRING_BYTES */
    const IrLimits *limits;      /* --limit; NULL: the defaults (the loaded graph keeps them) */
    /* The GEMM tile (rows, columns) of the runtime the emitted code links,
     * when compiling for a target: pass_pack lays constant operands out for
     * it. 0 (onnxcc run, the interpreter: the portable runtime): no packing. */
    int gemm_mr, gemm_nr;
    const QuantOpts *quant;      /* --quantize and kin; NULL: no quantization asked for */
    /* Called with pass NULL before the pipeline's first pass and after each
     * pass with its name and change count: what `onnxcc inspect --diff`
     * snapshots. NULL: no call. */
    void (*after_pass)(void *arg, const Graph *g, const char *pass, int changes);
    void *after_pass_arg;
    const char *pipeline;        /* --pipeline FILE: a Lua recipe chooses the passes */
    int target;                  /* --target (a CgTarget); a recipe may change it, and
                                    gemm_mr/gemm_nr with it when they are set */
    /* The backend reads no tensor value when the model runs (--backend
     * llvm): an input that decides a shape (Reshape's shape, Slice's
     * starts) is asked for at compile time, so a sample of it is compiled in,
     * instead of being read when the model runs. */
    int static_values;
    /* Graph inputs the user gave a sample of (drv_prepare fills them in when
     * sample_values is set: compile, build, inspect, not run, whose inputs
     * are the run's own): a value read at run time that comes from one of
     * them is compiled in from the sample instead, the code specialized for
     * the model as the user runs it. */
    int sample_values;
    const char *const *sampled;
    int n_sampled;
    int backend;                 /* --backend (a CgBackend); a recipe may change it before
                                    'shape', and static_values with it */
} PassCtx;

typedef int (*PassFn)(Graph *g, PassCtx *ctx);
typedef struct PassInfo {
    const char *name;
    PassFn fn;
    const char *what;            /* one line for --list-passes */
} PassInfo;

/* passes/pipeline.c */
extern const PassInfo ir_passes[];
extern const int ir_n_passes;
int ir_run_pipeline(Graph *g, int opt_level, PassCtx *ctx);
int ir_run_pass(Graph *g, const char *name, PassCtx *ctx);
/* The pass names of -O<level>, NULL-terminated. */
const char *const *ir_pipeline_passes(int level);

/* passes/shape.c */
int pass_shape(Graph *g, PassCtx *ctx);
/* passes/fold.c */
int pass_fold(Graph *g, PassCtx *ctx);
/* passes/dce.c */
int pass_dce(Graph *g, PassCtx *ctx);
/* passes/noop.c */
int pass_noop(Graph *g, PassCtx *ctx);
/* passes/fuse.c */
int pass_fuse(Graph *g, PassCtx *ctx);
/* passes/recognize.c */
int pass_recognize(Graph *g, PassCtx *ctx);
/* passes/fuse_chain.c */
int pass_fuse_chain(Graph *g, PassCtx *ctx);
/* passes/pack.c */
int pass_pack(Graph *g, PassCtx *ctx);
/* passes/repquant.c: RepQuant's LayerNorm reparameterization (--repquant ln) */
int pass_repquant(Graph *g, PassCtx *ctx);
/* passes/ptq.c: static int8 post-training quantization (--quantize int8): the
 * calibrated graph in QDQ form */
int pass_quantize(Graph *g, PassCtx *ctx);
/* passes/wq_rotate.c: a blockwise Hadamard rotation of weight-only layers
 * inputs and weights before they are quantized (--rotate hadamard) */
int pass_wq_rotate(Graph *g, PassCtx *ctx);
/* passes/quantize_weights.c: weight-only low-bit formats (--quantize-weights) */
int pass_quantize_weights(Graph *g, PassCtx *ctx);
/* passes/wq_import.c: a DequantizeLinear of constant low-bit codes feeding
 * MatMul or Gemm becomes MatMulWQ on the codes (weight-only QDQ models) */
int pass_wq_import(Graph *g, PassCtx *ctx);
/* passes/save_onnx.c: --save-onnx FILE, the graph as the quantization passes left it */
int pass_save_onnx(Graph *g, PassCtx *ctx);
/* passes/qdq.c: QuantizeLinear/DequantizeLinear around float ops become integer kernels */
int pass_qdq(Graph *g, PassCtx *ctx);
/* passes/plan.c */
int pass_plan(Graph *g, PassCtx *ctx);
/* passes/plan_loop.c: widens the live ranges (first[b], last[b]: steps of
 * buffer b; buf_of: each value's buffer or -1) that run-time Loop regions
 * need, for pass_plan. */
void plan_loop_ranges(const Graph *g, const int *buf_of, int *first, int *last);

#endif
