/* ptq.c: static int8 post-training quantization: calibrated ranges, the graph in QDQ form. */
#include "passes.h"

int pass_quantize(Graph *g, PassCtx *ctx)
{
    (void)g;
    if (!ctx->quant || ctx->quant->act == QA_NONE)
        return 0;
    return ir_error(ctx->d, "--quantize int8 is not implemented yet");
}
