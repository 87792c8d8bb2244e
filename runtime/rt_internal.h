/* rt_internal.h: helpers shared by the runtime's kernels; not part of the public API. */
#ifndef ONNXCC_RT_INTERNAL_H
#define ONNXCC_RT_INTERNAL_H

#include "onnxcc_rt.h"

/* Row-major strides (in elements) of t. */
void rt_strides(const RtTensorDesc *t, int64_t *strides);

/* Strides (in elements) for reading `in` while iterating over `out` under NumPy
 * broadcasting: in is right-aligned to out's rank, broadcast axes get 0.
 * Returns -1 if in does not broadcast to out. */
int rt_broadcast_strides(const RtTensorDesc *in, const RtTensorDesc *out, int64_t *strides);

/* Generic element access through double, for dtype-generic slow paths. */
double rt_load_f64(const void *p, int dtype, int64_t i);
void rt_store_f64(void *p, int dtype, int64_t i, double v);
/* Exact integer access for integer and bool dtypes. */
int64_t rt_load_i64(const void *p, int dtype, int64_t i);
void rt_store_i64(void *p, int dtype, int64_t i, int64_t v);

/* Advances the row-major multi-index idx[0..rank) over dims by one step
 * (the last axis fastest), wrapping to all zeros after the last element. */
static inline void rt_index_next(int64_t *idx, const int64_t *dims, int rank)
{
    for (int k = rank - 1; k >= 0; k--) {
        if (++idx[k] < dims[k])
            return;
        idx[k] = 0;
    }
}

static inline int rt_is_float(int dtype)
{
    return dtype == RT_F32 || dtype == RT_F64 || dtype == RT_F16 || dtype == RT_BF16;
}

/* io_pb.c, io_npy.c: tensor files. The parser takes *buf (the whole file,
 * malloc'ed) and may keep it as t->data, setting *buf to NULL. */
int rt_npy_parse(const char *path, unsigned char **buf, size_t len, RtTensor *t, char *err,
                 size_t err_len);
/* Writes head then body to path.tmp and renames it over path; body holds
 * esize-byte elements stored little-endian in the file. Returns RT_EIO on failure. */
int rt_io_write_atomic(const char *path, const void *head, size_t head_len, const void *body,
                       size_t body_len, size_t esize);
/* Byte-swaps n esize-byte elements in place on a big-endian host; no-op otherwise. */
void rt_io_le(void *data, size_t n, size_t esize);

#endif
