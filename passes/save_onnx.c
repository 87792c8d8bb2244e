/* save_onnx.c: --save-onnx FILE writes the graph the quantization passes left, as ONNX. */
#include "passes.h"

int pass_save_onnx(Graph *g, PassCtx *ctx)
{
    (void)g;
    if (!ctx->quant || !ctx->quant->save_onnx)
        return 0;
    return ir_error(ctx->d, "--save-onnx is not implemented yet");
}
