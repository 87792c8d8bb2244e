/* k_wq.c: weight-only quantized formats: element values, packing and the matrix kernels. */
#include "k_wq.h"

float rt_wq_elem(int fmt, int code)
{
    switch (fmt) {
    case RT_WQ_INT8: case RT_WQ_INT4: case RT_WQ_INT3: case RT_WQ_INT2:
    case RT_WQ_TERNARY: case RT_WQ_TERNARY5: case RT_WQ_SHERRY:
        return (float)code;
    case RT_WQ_MXINT8:
        return (float)code / 64.0f;
    default:
        return 0.0f; /* the floating-point element formats come with their packing */
    }
}
