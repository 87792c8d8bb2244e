/* k_loss.h: prototypes and parameter layouts of the loss kernels (included by onnxcc_rt.h). */
#ifndef ONNXCC_K_LOSS_H
#define ONNXCC_K_LOSS_H

#include <stdint.h>

/* Values of RT_LOSS_REDUCTION (ONNX's "reduction" attribute). */
enum { RT_LOSS_NONE = 0, RT_LOSS_SUM = 1, RT_LOSS_MEAN = 2 };

/* NegativeLogLikelihoodLoss: in[0] log-probabilities [N, C, d1..dk] (float),
 * in[1] targets [N, d1..dk] (int32/int64), in[2] optional weights [C].
 * out[0] is [N, d1..dk]
 * for RT_LOSS_NONE, else a scalar; mean divides by the sum of the weights
 * applied (the count of targets not ignored when there are no weights). */
enum { RT_LOSS_REDUCTION, RT_LOSS_HAS_IGNORE, RT_LOSS_IGNORE_INDEX, RT_LOSS_NINTS };
int rt_nll_loss(const RtCall *c, const void *const *in, void *const *out);

/* SoftmaxCrossEntropyLoss: in[0] scores [N, C, d1..dk], else as above; out[1]
 * (optional) receives log_softmax(scores) along axis 1. Same RT_LOSS_* slots. */
int rt_sce_loss(const RtCall *c, const void *const *in, void *const *out);

#endif
