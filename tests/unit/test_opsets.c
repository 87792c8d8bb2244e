/* test_opsets.c: opsets 21-28: first opsets of the ops ONNX 1.23 adds, and the forms onnxcc refuses by name. */
#include "check.h"
#include "driver.h"
#include "ir/ir.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif

/* Prepares case `name` of the vendored 1.23 suite and checks that it fails
 * at an op node with want in the message. */
static void check_refused(const char *name, const char *op, const char *want)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/onnx-1.23/node/%s/model.onnx", ONNXCC_SOURCE_DIR, name);
    Diag d = {0};
    PassCtx ctx = {.d = &d, .opt_level = 2, .verify = 1};
    Graph *g = drv_prepare(path, NULL, 0, NULL, 0, 2, &ctx);
    CHECK_TRUE(g == NULL);
    CHECK_STR_CONTAINS(d.msg, op);
    CHECK_STR_CONTAINS(d.msg, want);
    ir_graph_free(g);
}

/* The since table is bsearch'ed: every op must be found, at its opset. */
static void test_since(void)
{
    static const struct {
        const char *op;
        int since;
    } ops[] = {
        {"Add", 1}, {"AffineGrid", 20}, {"Attention", 23}, {"BitCast", 26},
        {"CausalConvWithState", 27}, {"CenterCropPad", 18}, {"Col2Im", 18}, {"CumProd", 26},
        {"CumSum", 11}, {"DFT", 17}, {"DeformConv", 19}, {"Gelu", 20},
        {"GroupNormalization", 18}, {"ImageDecoder", 20}, {"LinearAttention", 27},
        {"Mish", 18}, {"RMSNormalization", 23}, {"RegexFullMatch", 20},
        {"RotaryEmbedding", 23}, {"StringConcat", 20}, {"StringSplit", 20}, {"SwiGLU", 28},
        {"Swish", 24}, {"TensorScatter", 24}, {"Where", 9},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        CHECK(ops[i].since, ir_op_since("", ops[i].op));
    CHECK(24, ir_op_since("ai.onnx", "Swish"));
    CHECK(5, ir_op_since("ai.onnx.ml", "TreeEnsemble"));
    CHECK(1, ir_op_since("ai.onnx.ml", "LabelEncoder"));
    CHECK(1, ir_op_since("com.microsoft", "Swish"));
    CHECK(28, ir_opset_max(""));
    CHECK(5, ir_opset_max("ai.onnx.ml"));
}

int main(void)
{
    test_since();
    /* ImageDecoder says why it is out of scope */
    check_refused("test_image_decoder_decode_png_rgb", "(ImageDecoder)",
                  "needs image codecs, out of scope");
    /* ai.onnx.ml opset 5 is read; TreeEnsemble itself is not implemented */
    check_refused("test_ai_onnx_ml_tree_ensemble_single_tree", "(TreeEnsemble",
                  "not supported");
    return CHECK_DONE();
}
