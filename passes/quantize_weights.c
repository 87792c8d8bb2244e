/* quantize_weights.c: weight-only low-bit formats for MatMul, Gemm and Conv weights. */
#include "passes.h"

int pass_quantize_weights(Graph *g, PassCtx *ctx)
{
    (void)g;
    if (!ctx->quant || ctx->quant->weights == QW_NONE)
        return 0;
    return ir_error(ctx->d, "--quantize-weights is not implemented yet");
}
