/* desc.h: a tensor descriptor in one expression, for the kernel tests. */
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

/* The dims of a desc() call written in line: desc(RT_F32, 2, DIMS(3, 4)). */
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

#endif
