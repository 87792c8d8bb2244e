/* opset.c: the opset versions onnxcc knows, and the first opset of each default-domain op. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* The first opset of the default domain in which each op exists, for the ops
 * that are not in opset 1 (ONNX 1.12's schemas, plus Mish and the bitwise ops
 * of opset 18 and Gelu of 20). Kept apart from ops.def, which says what onnxcc
 * implements, not what ONNX defined when; sorted by name for bsearch. */
static const struct Since {
    const char *op;
    int since;
} since[] = {
    {"Acos", 7},
    {"Acosh", 9},
    {"Asin", 7},
    {"Asinh", 9},
    {"Atan", 7},
    {"Atanh", 9},
    {"BitCast", 26},
    {"BitShift", 11},
    {"BitwiseAnd", 18},
    {"BitwiseNot", 18},
    {"BitwiseOr", 18},
    {"BitwiseXor", 18},
    {"BlackmanWindow", 17},
    {"CastLike", 15},
    {"Celu", 12},
    {"Compress", 9},
    {"ConcatFromSequence", 11},
    {"ConstantOfShape", 9},
    {"ConvInteger", 10},
    {"Cos", 7},
    {"Cosh", 9},
    {"CumSum", 11},
    {"DFT", 17},
    {"DequantizeLinear", 10},
    {"Det", 11},
    {"DynamicQuantizeLinear", 11},
    {"Einsum", 12},
    {"Erf", 9},
    {"Expand", 8},
    {"EyeLike", 9},
    {"GatherElements", 11},
    {"GatherND", 11},
    {"Gelu", 20},
    {"GreaterOrEqual", 12},
    {"GridSample", 16},
    {"HammingWindow", 17},
    {"HannWindow", 17},
    {"HardSwish", 14},
    {"IsInf", 10},
    {"IsNaN", 9},
    {"LayerNormalization", 17},
    {"LessOrEqual", 12},
    {"MatMulInteger", 10},
    {"MaxUnpool", 9},
    {"MeanVarianceNormalization", 9},
    {"MelWeightMatrix", 17},
    {"Mish", 18},
    {"Mod", 10},
    {"NegativeLogLikelihoodLoss", 12},
    {"NonMaxSuppression", 10},
    {"NonZero", 9},
    {"OneHot", 9},
    {"Optional", 15},
    {"OptionalGetElement", 15},
    {"OptionalHasElement", 15},
    {"QLinearConv", 10},
    {"QLinearMatMul", 10},
    {"QuantizeLinear", 10},
    {"Range", 11},
    {"Resize", 10},
    {"ReverseSequence", 10},
    {"RoiAlign", 10},
    {"Round", 11},
    {"STFT", 17},
    {"Scan", 8},
    {"Scatter", 9},
    {"ScatterElements", 11},
    {"ScatterND", 11},
    {"SequenceAt", 11},
    {"SequenceConstruct", 11},
    {"SequenceEmpty", 11},
    {"SequenceErase", 11},
    {"SequenceInsert", 11},
    {"SequenceLength", 11},
    {"SequenceMap", 17},
    {"Shrink", 9},
    {"Sign", 9},
    {"Sin", 7},
    {"Sinh", 9},
    {"SoftmaxCrossEntropyLoss", 12},
    {"SplitToSequence", 11},
    {"StringNormalizer", 10},
    {"Tan", 7},
    {"TfIdfVectorizer", 9},
    {"ThresholdedRelu", 10},
    {"Trilu", 14},
    {"Unique", 11},
    {"Where", 9},
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct Since *)a)->op, ((const struct Since *)b)->op);
}

int ir_op_since(const char *domain, const char *op_type)
{
    if (domain[0])
        return 1;
    struct Since key = {op_type, 0};
    const struct Since *s =
        bsearch(&key, since, sizeof since / sizeof since[0], sizeof since[0], by_name);
    return s ? s->since : 1;
}

int ir_opset_max(const char *domain)
{
    static const struct {
        const char *domain;
        int max;
    } known[] = {
        {"", IR_OPSET_MAX},
        {"ai.onnx", IR_OPSET_MAX},
        {"ai.onnx.ml", 3},
        {"ai.onnx.preview.training", 1},
        {"com.microsoft", 1},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(known[i].domain, domain))
            return known[i].max;
    return -1;
}
