/* k_scan.h: prototypes and parameter layouts of the Trilu and CumSum kernels (k_scan.c). */
#ifndef ONNXCC_K_SCAN_H
#define ONNXCC_K_SCAN_H

/* Trilu on the last two axes of in[0]; in[1] (k) is read when present. */
enum { RT_TRILU_UPPER, RT_TRILU_NINTS };
int rt_trilu(const RtCall *c, const void *const *in, void *const *out);

/* CumSum, or CumProd (opset 26) when PROD is 1, along the axis given by in[1]
 * (read at run time; PROD may be left out). Exclusive starts from the identity (0, or 1). Floats
 * accumulate in double, integers in wrapping 64-bit arithmetic. */
enum { RT_CUMSUM_EXCLUSIVE, RT_CUMSUM_REVERSE, RT_CUMSUM_PROD, RT_CUMSUM_NINTS };
int rt_cumsum(const RtCall *c, const void *const *in, void *const *out);

#endif
