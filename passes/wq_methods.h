/* wq_methods.h: how weight-only codes are chosen: round-to-nearest, GPTQ-style, decoupleQ, ternary, MX. */
#ifndef ONNXCC_WQ_METHODS_H
#define ONNXCC_WQ_METHODS_H

#include "../runtime/k_wq.h"
#include "quant.h"

/* A layer's input statistics from calibration: H = sum over samples x of
 * x xᵀ (k x k, double), the matrix GPTQ and decoupleQ minimize against. */
typedef struct WqHessian {
    int64_t k;
    int64_t rows;                /* how many input vectors were added */
    double *h;                   /* k * k */
} WqHessian;

WqHessian *wq_hessian_new(int64_t k);
/* Adds rows vectors of length k (row-major) to H. */
void wq_hessian_add(WqHessian *h, const float *x, int64_t rows);
void wq_hessian_free(WqHessian *h);

/* Codes for the n x k matrix w (row n: output channel n, contiguous in k) in
 * format fmt (RtWqFormat) with group elements per scale (0: the format's own),
 * chosen by method (QuantMethod). h is needed by GPTQ and decoupleQ, else may
 * be NULL. The arrays of out are malloc'ed (wq_codes_free). 0, or -1 with a
 * diagnostic. GPTQ takes every format (Sherry with a group a multiple of 4);
 * decoupleQ the integer ones, INT8..INT2. */
int wq_quantize(const float *w, int64_t n, int64_t k, int fmt, int group, int method,
                const WqHessian *h, RtWqCodes *out, Diag *d);
void wq_codes_free(RtWqCodes *c);
/* The matrix the codes stand for (n * k floats), for error reports and tests. */
void wq_dequant(const RtWqCodes *c, float *w);

#endif
