/* test_legacy_opsets.c: old-opset variants onnxcc refuses are reported naming node and cause. */
#include "check.h"
#include "driver.h"
#include "ir/ir.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif

/* Prepares model (from tests/data) and checks that it fails at an op node
 * with want in the message. */
static void check_refused(const char *model, const char *op, const char *want)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/%s", ONNXCC_SOURCE_DIR, model);
    Diag d = {0};
    PassCtx ctx = {.d = &d, .opt_level = 2, .verify = 1};
    Graph *g = drv_prepare(path, NULL, 0, NULL, 0, 2, &ctx);
    CHECK_TRUE(g == NULL);
    CHECK_STR_CONTAINS(d.msg, op);
    CHECK_STR_CONTAINS(d.msg, want);
    ir_graph_free(g);
}

int main(void)
{
    /* BatchNormalization-7 with spatial=0: per-activation statistics, whose
     * [C, H, W] scale must not be reported as a wrong shape */
    check_refused("batchnorm_spatial0_opset7.onnx", "(BatchNormalization)", "spatial=0");
    return CHECK_DONE();
}
