/* k_ml.h: prototypes and parameter layouts of the ai.onnx.ml kernels (k_ml.c). */
#ifndef ONNXCC_K_ML_H
#define ONNXCC_K_ML_H

#include <stdint.h>

/* The order LabelEncoder's keys are sorted in and searched by: element i of
 * a against element j of b, both of dtype dt (string: strcmp; integers by
 * value; floats by value with every NaN equal to every NaN and above all
 * numbers, so a NaN key matches a NaN input). <0, 0, >0. */
int rt_ml_key_cmp(int dt, const void *a, int64_t i, const void *b, int64_t j);

/* LabelEncoder (ai.onnx.ml 2 and 4): out[0][k] = values[m] where keys[m] ==
 * in[0][k], else the default. in[1]: the keys (in[0]'s dtype, [K], sorted by
 * rt_ml_key_cmp without duplicates); in[2]: the values ([K], out[0]'s dtype);
 * in[3]: the default (one element of out[0]'s dtype). Built by the compiler
 * from the attributes; a string output points at the values' strings. */
int rt_label_encoder(const RtCall *c, const void *const *in, void *const *out);

#endif
