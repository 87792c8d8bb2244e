/* k_hadamard.h: the fast Walsh-Hadamard transform of consecutive blocks along a tensor's last axis. */
#ifndef ONNXCC_K_HADAMARD_H
#define ONNXCC_K_HADAMARD_H

#include <stdint.h>

#include "onnxcc_rt.h"

/* onnxcc.Hadamard: Y = X H along the last axis, H block-diagonal with
 * blocks of the orthonormal Sylvester-Hadamard matrix of order `block` (a
 * power of two >= 2 dividing the last axis): entry (i, j) of a block is
 * (-1)^popcount(i & j) / sqrt(block). H is its own inverse, so a weight-only
 * quantized MatMul may store W H (passes/wq_rotate.c) and read X H: the
 * product is unchanged while outliers of a row are spread over its block.
 * in: X (float); out: Y (X's shape, may alias X). */
enum { RT_HADAMARD_BLOCK, RT_HADAMARD_NINTS };
int rt_hadamard(const RtCall *c, const void *const *in, void *const *out);
/* The same on raw pointers: n floats (a multiple of block) as n / block
 * consecutive blocks; y may be x. One thread (the compiler's rotation). */
void rt_fwht(const float *x, float *y, int64_t n, int block);
/* The path this runtime build takes: "avx512", "avx2" or "c" (tests). */
const char *rt_fwht_isa(void);
/* The portable path alone, for tests of the vector paths. */
void rt_fwht_portable(const float *x, float *y, int64_t n, int block);

#endif
