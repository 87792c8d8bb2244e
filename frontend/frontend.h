/* frontend.h: the ONNX frontend: the model loader and what onnx_load.c and onnx_tensor.c share. */
#ifndef ONNXCC_FRONTEND_H
#define ONNXCC_FRONTEND_H

#include "ir.h"
#include "onnx/onnx.pb-c.h"

/* onnx_load.c */
/* Reads an ONNX model into a new graph; NULL with a diagnostic on bad input. */
Graph *onnx_load(const char *path, Diag *d);
/* The same under the given limits (NULL: the defaults); the model's size is
 * checked before it is read. */
Graph *onnx_load_limits(const char *path, const IrLimits *limits, Diag *d);
/* The same from a model already in memory; path names it in messages and
 * locates external data (NULL: none). */
Graph *onnx_load_buffer(const void *buf, size_t len, const char *path, Diag *d);

/* onnx_save.c */
/* Writes g as an ONNX model at path (through a temporary file renamed over
 * it) in the model's own opsets: initializers as raw_data, typed graph
 * inputs and outputs, FusedConv as Conv, Add and its activation, Gelu and
 * LayerNormalization older than their opsets decomposed again. 0, or -1
 * with a diagnostic naming what has no ONNX form. */
int onnx_save(const Graph *g, const char *path, Diag *d);

/* Where a TensorProto sits in the model, so its errors name it. */
typedef struct TensorSrc {
    Graph *g;                    /* allocates the decoded data */
    Diag *d;
    const Node *node;            /* the node of an attribute tensor, else NULL */
    const char *what;            /* "initializer 'W'" or "attribute 'value'" */
    const char *dir;             /* the model's folder for external data; NULL if unknown */
} TensorSrc;

/* onnx_tensor.c */
/* Decodes tp into t (dense, row-major, little-endian host order, data in
 * src->g's arena). Every storage form ONNX allows; 0, or -1 with a diagnostic. */
int onnx_tensor_decode(const TensorSrc *src, const Onnx__TensorProto *tp, Tensor *t);
/* "float32[2,2]"; "float32" for a scalar. */
const char *onnx_type_str(int dtype, int rank, const int64_t *dims, char *buf, size_t n);
/* The ONNX name of a dtype onnxcc cannot hold ("string", "complex64"), for messages. */
const char *onnx_dtype_name(int dtype);

#endif
