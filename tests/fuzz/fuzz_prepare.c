/* fuzz_prepare.c: libFuzzer target for load + bind + the -O2 pipeline (drv_prepare). */
#include "driver.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_file(data, size, "model.onnx");
    Diag d = {0};
    d.file = path;
    /* verify after every pass: a pass that breaks the IR is a bug even when
     * it does not crash. Strings made at fold time stay small. */
    PassCtx ctx = {.d = &d, .opt_level = 2, .verify = 1, .max_string_bytes = 64};
    /* a few thousand nodes are enough to reach every pass; unrolling a Loop
     * to the default million nodes is slow under the sanitizers, not wrong,
     * and would read as a timeout */
    static IrLimits lim;
    ir_limits_default(&lim);
    lim.v[LIM_NODES] = 1024;
    ctx.limits = &lim;
    Graph *g = drv_prepare(path, NULL, 0, NULL, 0, 2, &ctx);
    ir_graph_free(g);
    return 0;
}
