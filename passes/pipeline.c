/* pipeline.c: the pass registry and the -O0..-O3 pipelines, with verification and IR dumps between passes. */
#include <string.h>

#include "passes.h"

const PassInfo ir_passes[] = {
    {"shape", pass_shape, "infer static dtypes and shapes; compute shape subgraphs"},
    {"wq_import", pass_wq_import, "MatMul/Gemm of DequantizeLinear(weight codes) becomes "
                                  "MatMulWQ"},
    {"fold", pass_fold, "evaluate nodes whose inputs are all constant"},
    {"noop", pass_noop, "remove Identity, same-type Cast, same-shape Reshape and kin"},
    {"recognize", pass_recognize, "LayerNormalization and Gelu from their decomposed forms"},
    {"fuse", pass_fuse, "fold BatchNormalization into Conv; fuse a residual Add and activation"},
    {"repquant", pass_repquant, "LayerNorm ranges folded into per-tensor int8 (--repquant ln)"},
    {"quantize", pass_quantize, "static int8 quantization from calibration (--quantize int8)"},
    {"wq_rotate", pass_wq_rotate, "Hadamard-rotate MatMul/Gemm inputs and weights (--rotate)"},
    {"quantize_weights", pass_quantize_weights, "weight-only low-bit formats (--quantize-weights)"},
    {"save_onnx", pass_save_onnx, "write the quantized graph as ONNX (--save-onnx FILE)"},
    {"qdq", pass_qdq, "QuantizeLinear/DequantizeLinear around float ops become integer kernels"},
    {"fuse_chain", pass_fuse_chain, "merge float32 elementwise chains into one EwChain pass"},
    {"pack", pass_pack, "lay constant Conv, MatMul and Gemm weights out for the target's GEMM"},
    {"dce", pass_dce, "remove nodes no graph output depends on"},
    {"plan", pass_plan, "assign arena offsets by liveness (reuse and in-place)"},
};
const int ir_n_passes = (int)(sizeof ir_passes / sizeof ir_passes[0]);

/* Each pipeline is a list of pass names; "plan" always ends it because the
 * emitters need offsets. -O0 keeps only what code generation requires. The
 * second fold evaluates the DequantizeLinear of the weights and biases that
 * quantize wrote (after save_onnx has written them as such), so qdq finds
 * them as it finds an imported QDQ model's. wq_import runs before the first
 * fold, while a weight-only model's DequantizeLinear still shows its codes. */
static const char *const pipelines[4][20] = {
    {"shape", "plan", NULL},
    {"shape", "wq_import", "fold", "repquant", "quantize", "wq_rotate", "quantize_weights",
     "save_onnx", "fold", "qdq", "dce", "plan", NULL},
    {"shape", "wq_import", "fold", "noop", "recognize", "fuse", "repquant", "quantize",
     "wq_rotate", "quantize_weights", "save_onnx", "fold", "qdq", "fuse_chain", "pack", "dce",
     "plan", NULL},
    {"shape", "wq_import", "fold", "noop", "recognize", "fuse", "repquant", "quantize",
     "wq_rotate", "quantize_weights", "save_onnx", "fold", "qdq", "fuse_chain", "pack", "dce",
     "plan", NULL},
};

int ir_run_pass(Graph *g, const char *name, PassCtx *ctx)
{
    for (int i = 0; i < ir_n_passes; i++) {
        if (strcmp(ir_passes[i].name, name))
            continue;
        int rc = ir_passes[i].fn(g, ctx);
        if (rc < 0)
            return rc;
        if (ctx->verify && ir_verify(g, ctx->d) < 0)
            return -1;
        if (ctx->dump_after && !strcmp(ctx->dump_after, name)) {
            fprintf(ctx->dump, "# IR after pass '%s' (%d changes)\n", name, rc);
            ir_print(g, ctx->dump);
        }
        if (ctx->after_pass)
            ctx->after_pass(ctx->after_pass_arg, g, name, rc);
        return rc;
    }
    return ir_error(ctx->d, "unknown pass '%s'", name);
}

const char *const *ir_pipeline_passes(int level)
{
    return pipelines[level < 0 ? 0 : level > 3 ? 3 : level];
}

int ir_run_pipeline(Graph *g, int opt_level, PassCtx *ctx)
{
    if (opt_level < 0)
        opt_level = 0;
    if (opt_level > 3)
        opt_level = 3;
    ctx->opt_level = opt_level;
    if (ctx->after_pass)
        ctx->after_pass(ctx->after_pass_arg, g, NULL, 0);
    for (const char *const *p = pipelines[opt_level]; *p; p++)
        if (ir_run_pass(g, *p, ctx) < 0)
            return -1;
    return 0;
}
