/* op_family.h: which op family a conformance case exercises, for the runner's per-family table. */
#ifndef ONNXCC_OP_FAMILY_H
#define ONNXCC_OP_FAMILY_H

#include <stddef.h>

/* The families in report order; the last is "models" (whole networks). */
extern const char *const op_families[];
extern const int n_op_families;

/* The family of an ONNX op type ("Conv" -> "pooling/conv"); "other" if unlisted. */
int op_family(const char *op_type);

/* Writes the case's main op into buf: its model's first node that is not a
 * Constant (the first node if all are). 0, or -1 if the model cannot be read. */
int case_main_op(const char *model_path, char *buf, size_t len);

#endif
