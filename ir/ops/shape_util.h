/* shape_util.h: input, list, axis and size checks shared by the infer functions of ir/ops. */
#ifndef ONNXCC_OPS_SHAPE_UTIL_H
#define ONNXCC_OPS_SHAPE_UTIL_H

#include "ir.h"

/* Reports unless the node has lo..hi inputs (counting omitted ones). */
int mv_need_n_in(Diag *d, const Node *n, int lo, int hi);
/* Reports unless input i is present with a static shape and a movable dtype. */
int mv_need_input(Diag *d, const Node *n, int i);
int mv_is_int(int dtype);
/* A constant integer list given as input i: its length, -1 if the input is
 * omitted, -2 after reporting (not constant, not integer, longer than max). */
int mv_const_list(Diag *d, const Node *n, int i, int64_t *out, int max);
/* The same for an INTS attribute: -1 if absent, -2 after reporting. */
int mv_attr_list(Diag *d, const Node *n, const char *name, int64_t *out, int max);
/* The element count of dims, reporting negative dims and int64 overflow. */
int mv_numel(Diag *d, const Node *n, int r, const int64_t *dims, int64_t *out);
/* Normalizes k axes against rank r into mark[0..r) (1 = listed), reporting
 * out-of-range and repeated axes. */
int mv_axes(Diag *d, const Node *n, const int64_t *axes, int k, int r, int *mark);

#endif
