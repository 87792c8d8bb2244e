/* k_ew.h: helpers shared by the elementwise kernels (k_elementwise.c, k_binary.c, k_unary.c). */
#ifndef ONNXCC_K_EW_H
#define ONNXCC_K_EW_H

#include <string.h>

#include "rt_internal.h"

/* Every dtype computes in one of four C types (its class). float16 and bfloat16
 * compute in float and round back, as ONNX Runtime does; integers narrower than
 * 64 bits compute in int64 and wrap when stored; uint64 needs its own class
 * because division, comparison and conversion to float differ from int64's. */
enum { EW_NONE = -1, EW_F32, EW_F64, EW_I64, EW_U64 };

int ew_class(int dtype);       /* EW_NONE for string and unknown dtypes */
int ew_class_dtype(int cls);   /* the dtype a class computes in natively */

/* Non-native operands go through stack buffers of this many elements: small,
 * so a kernel needs about 3 KiB of stack at most, even on small targets. */
#define EW_CHUNK 64
#define EW_MAX_IN 3

/* Iterates an output in rows under NumPy broadcasting. Axes of extent 1 are
 * dropped and neighbouring axes merged when every input is contiguous across
 * them, so same-shape operands become one row and scalar operands a stride 0:
 * the row loops then see the simple cases they are specialized for. */
typedef struct EwIter {
    int rank;                            /* collapsed rank, >= 1 */
    int n_in;
    int64_t n;                           /* elements per row (innermost extent) */
    int64_t rows;                        /* rows in the output; 0 if it is empty */
    int64_t dims[RT_MAX_RANK];
    int64_t st[EW_MAX_IN][RT_MAX_RANK];  /* per-input element strides, 0 when broadcast */
    int64_t idx[RT_MAX_RANK];            /* position over the outer axes */
    int64_t off[EW_MAX_IN];              /* element offset of the current row, per input */
} EwIter;

/* -1 if some input does not broadcast to out. */
int ew_iter_init(EwIter *it, const RtTensorDesc *out, const RtTensorDesc *const *in, int n_in);

static inline int64_t ew_iter_stride(const EwIter *it, int k)
{
    return it->st[k][it->rank - 1];
}

static inline void ew_iter_next(EwIter *it)
{
    for (int d = it->rank - 2; d >= 0; d--) {
        for (int k = 0; k < it->n_in; k++)
            it->off[k] += it->st[k][d];
        if (++it->idx[d] < it->dims[d])
            return;
        for (int k = 0; k < it->n_in; k++)
            it->off[k] -= it->st[k][d] * it->dims[d];
        it->idx[d] = 0;
    }
}

/* c ? a : b for values already computed, as bit operations. Written as a
 * conditional expression, the compiler may move a's or b's arithmetic into a
 * branch, and then it will not vectorize the loop: floating-point arithmetic
 * can trap, so it is never speculated. */
static inline float ew_self(int c, float a, float b)
{
    int32_t m = -(int32_t)(c != 0), ia, ib;
    float f;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    ia = (ia & m) | (ib & ~m);
    memcpy(&f, &ia, 4);
    return f;
}

static inline double ew_seld(int c, double a, double b)
{
    int64_t m = -(int64_t)(c != 0), ia, ib;
    double f;
    memcpy(&ia, &a, 8);
    memcpy(&ib, &b, 8);
    ia = (ia & m) | (ib & ~m);
    memcpy(&f, &ia, 8);
    return f;
}

/* Converts n elements of src (of dtype, starting at element off, stride st)
 * into dst, an array of the class's C type. */
void ew_load(int cls, void *dst, const void *src, int dtype, int64_t off, int64_t st,
             int64_t n);
/* Converts n elements of the class's C type into dst (of dtype) from element off. */
void ew_store(int cls, void *dst, int dtype, int64_t off, const void *src, int64_t n);

/* One float32 row of a float-valued RtUnOp (not IsNaN/IsInf) with its
 * parameters P0, P1 (k_unary.c); EwChain runs its unary ops through it. */
void ew_unary_f32(int op, float *o, const float *a, int64_t n, float p0, float p1);

#endif
