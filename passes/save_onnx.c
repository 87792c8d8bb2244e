/* save_onnx.c: --save-onnx FILE writes the graph the quantization passes left, as ONNX. */
#include "passes.h"
#include "../frontend/frontend.h"

/* pass_save_onnx: requires pass_shape; changes nothing. Writes the graph as
 * it stands after quantize and quantize_weights (QDQ form, before pass_qdq
 * turns it into integer kernels) to q->save_onnx, with onnxcc's internal
 * forms written back as standard ops (frontend/onnx_save.c). */
int pass_save_onnx(Graph *g, PassCtx *ctx)
{
    if (!ctx->quant || !ctx->quant->save_onnx)
        return 0;
    return onnx_save(g, ctx->quant->save_onnx, ctx->d) < 0 ? -1 : 0;
}
