/* op_family.c: ONNX op type -> op family, and the main op of a conformance case. */
#include "op_family.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx.pb-c.h"

/* Every ONNX op (ai.onnx up to opset 28, ai.onnx.ml, the training ops and
 * the com.microsoft ops onnxcc writes), by family. Kept here rather than drawn
 * from ir/ops.def because the table must also place the ops onnxcc does not
 * know yet (If, StringNormalizer, DFT...): those are what the report is for. */
static const struct {
    const char *family;
    const char *ops;             /* space-separated op types */
} table[] = {
    {"elementwise",
     "Abs Acos Acosh Add And Asin Asinh Atan Atanh BitShift BitwiseAnd BitwiseNot BitwiseOr "
     "BitwiseXor Cast CastLike Ceil Celu Clip Cos Cosh Div Elu Equal Erf Exp Floor Gelu Greater "
     "GreaterOrEqual HardSigmoid HardSwish IsInf IsNaN LeakyRelu Less LessOrEqual Log Max Mean "
     "Min Mish Mod Mul Neg Not Or PRelu Pow Reciprocal Relu Round Selu Shrink Sigmoid Sign Sin "
     "Sinh Softplus Softsign Sqrt Sub Sum Swish SwiGLU Tan Tanh ThresholdedRelu Where Xor BitCast"},
    {"linear algebra", "MatMul Gemm Einsum Det"},
    {"reduction",
     "ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd "
     "ReduceSum ReduceSumSquare ArgMax ArgMin CumSum CumProd"},
    {"normalization",
     "BatchNormalization InstanceNormalization LayerNormalization GroupNormalization LRN "
     "LpNormalization MeanVarianceNormalization RMSNormalization Softmax LogSoftmax Hardmax"},
    {"pooling/conv",
     "Conv ConvTranspose FusedConv DeformConv Col2Im AveragePool MaxPool LpPool GlobalAveragePool "
     "GlobalMaxPool GlobalLpPool MaxRoiPool MaxUnpool RoiAlign"},
    {"movement/shape",
     "Reshape Flatten Squeeze Unsqueeze Identity Transpose Concat Split Slice Pad CenterCropPad "
     "Expand Tile Shape Size Constant ConstantOfShape DepthToSpace SpaceToDepth Range EyeLike "
     "Trilu ReverseSequence BitCast"},
    {"indexing",
     "Gather GatherElements GatherND Scatter ScatterElements ScatterND OneHot Compress NonZero "
     "Unique TopK NonMaxSuppression"},
    {"resize", "Resize Upsample GridSample AffineGrid ImageDecoder"},
    {"rnn", "RNN GRU LSTM"},
    {"attention",
     "Attention FlexAttention LinearAttention RotaryEmbedding CausalConvWithState TensorScatter"},
    {"quantization",
     "QuantizeLinear DequantizeLinear DynamicQuantizeLinear MatMulInteger QLinearMatMul "
     "ConvInteger QLinearConv MatMulNBits"},
    {"loss", "NegativeLogLikelihoodLoss SoftmaxCrossEntropyLoss"},
    {"control flow", "If Loop Scan"},
    {"sequence/optional",
     "SequenceAt SequenceConstruct SequenceEmpty SequenceErase SequenceInsert SequenceLength "
     "SequenceMap SplitToSequence ConcatFromSequence Optional OptionalGetElement "
     "OptionalHasElement"},
    {"string/text", "StringNormalizer TfIdfVectorizer RegexFullMatch StringConcat StringSplit"},
    {"signal", "DFT STFT HannWindow HammingWindow BlackmanWindow MelWeightMatrix"},
    {"random",
     "Bernoulli RandomNormal RandomNormalLike RandomUniform RandomUniformLike Multinomial "
     "Dropout"},
    {"training", "Gradient Momentum Adagrad Adam"},
    {"ai.onnx.ml",
     "LabelEncoder TreeEnsemble TreeEnsembleClassifier TreeEnsembleRegressor "
     "ArrayFeatureExtractor Binarizer CastMap CategoryMapper DictVectorizer FeatureVectorizer "
     "Imputer LinearClassifier LinearRegressor Normalizer OneHotEncoder SVMClassifier "
     "SVMRegressor Scaler ZipMap"},
};

#define N_TABLE ((int)(sizeof table / sizeof table[0]))

const char *const op_families[] = {
    "elementwise", "linear algebra", "reduction", "normalization", "pooling/conv",
    "movement/shape", "indexing", "resize", "rnn", "attention", "quantization", "loss",
    "control flow", "sequence/optional", "string/text", "signal", "random", "training",
    "ai.onnx.ml", "other", "models",
};
const int n_op_families = (int)(sizeof op_families / sizeof op_families[0]);

_Static_assert(sizeof op_families / sizeof op_families[0] == N_TABLE + 2,
               "op_families is the table's families, then other and models");

/* Whole words only: "Max" must not match "MaxPool". */
static int has_word(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return 1;
    return 0;
}

int op_family(const char *op_type)
{
    for (int i = 0; i < N_TABLE; i++)
        if (has_word(table[i].ops, op_type))
            return i;
    return N_TABLE; /* "other" */
}

int case_main_op(const char *model_path, char *buf, size_t len)
{
    FILE *f = fopen(model_path, "rb");
    if (!f)
        return -1;
    uint8_t *data = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            uint8_t *p = realloc(data, cap = cap ? 2 * cap : 1 << 16);
            if (!p)
                break;
            data = p;
        }
        size_t got = fread(data + n, 1, cap - n, f);
        if (!got)
            break;
        n += got;
    }
    fclose(f);
    Onnx__ModelProto *mp = data ? onnx__model_proto__unpack(NULL, n, data) : NULL;
    free(data);
    if (!mp)
        return -1;
    const Onnx__GraphProto *g = mp->graph;
    const char *op = NULL;
    for (size_t i = 0; g && i < g->n_node && !op; i++)
        if (strcmp(g->node[i]->op_type, "Constant"))
            op = g->node[i]->op_type;
    if (!op && g && g->n_node)
        op = g->node[0]->op_type;
    snprintf(buf, len, "%s", op ? op : "");
    onnx__model_proto__free_unpacked(mp, NULL);
    return op ? 0 : -1;
}
