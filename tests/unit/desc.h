/* desc.h: tensor descriptors and kernel call blocks in one expression, for the kernel tests. */
#ifndef ONNXCC_TEST_DESC_H
#define ONNXCC_TEST_DESC_H

#include <string.h>

#include "onnxcc_rt.h"

static inline RtTensorDesc desc(int dtype, int rank, const int64_t *dims)
{
    RtTensorDesc t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.rank = rank;
    for (int i = 0; i < rank; i++)
        t.dims[i] = dims[i];
    return t;
}

/* A kernel's call block in one expression. */
static inline RtCall call(int n_in, const RtTensorDesc *in, int n_out, const RtTensorDesc *out,
                          int n_ints, const int64_t *ints, int n_floats, const float *floats)
{
    RtCall c = {n_in, n_out, in, out, n_ints, n_floats, ints, floats};
    return c;
}

/* A 1-D descriptor of n elements. */
static inline RtTensorDesc desc1(int dtype, int64_t n)
{
    return desc(dtype, 1, &n);
}

/* The dims of a desc() call written in line: desc(RT_F32, 2, DIMS(3, 4)). */
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

#endif
