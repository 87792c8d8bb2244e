/* repquant.h: RepQuant's log2 Softmax quantizer, written by pass_quantize for a uniform pair. */
#ifndef ONNXCC_REPQUANT_H
#define ONNXCC_REPQUANT_H

#include "../ir/ir.h"

/* The largest log2 code: p^ = 2^-k with k in 0..15, 4 bits. */
#define RQ_LOG2_KMAX 15

/* Nodes of g (appended; the caller places them) computing out = 2^-k,
 * k = clamp(round(-log2 x), 0, RQ_LOG2_KMAX): x's log2 codes, simulated in
 * float. 0, or -1 with a diagnostic (the model's opset is older than 11). */
int repquant_log2_pair(Graph *g, Value *x, Value *out, Diag *d);

#endif
