/* k_wq.h: weight-only quantized formats: their codes, packed storage and the kernels that read them. */
#ifndef ONNXCC_K_WQ_H
#define ONNXCC_K_WQ_H

#include <stddef.h>
#include <stdint.h>

/* The formats, numbered as the compiler's QuantWeights (passes/quant.h). A
 * weight matrix is N output channels by K reduction elements; the weight at
 * (n, k) is  tensor_scale * scale[n][k / group] * (elem(code) - zero[n][k / group]):
 *   INT8..INT2  code 0 .. 2^b-1, a float scale and a uint8 zero point per group;
 *   TERNARY, TERNARY5  code -1, 0, +1, a float scale per group (zero 0);
 *   SHERRY      code -1, 0, +1 with exactly one 0 in every 4 consecutive k;
 *   MXINT8      code -128..127 standing for code / 64, a power-of-two scale
 *               (E8M0) per 32;
 *   MXFP8       code an E4M3 bit pattern, a power-of-two scale per 32;
 *   MXFP4       code an E2M1 bit pattern (0..15), a power-of-two scale per 32;
 *   NVFP4       code an E2M1 bit pattern, an E4M3 scale per 16 and one float
 *               tensor_scale.
 * The packed storage of each (bits per weight including scales) is defined
 * by runtime/k_wq.c. */
typedef enum RtWqFormat {
    RT_WQ_INT8 = 1, RT_WQ_INT4, RT_WQ_INT3, RT_WQ_INT2,
    RT_WQ_TERNARY, RT_WQ_TERNARY5, RT_WQ_SHERRY,
    RT_WQ_MXINT8, RT_WQ_MXFP8, RT_WQ_MXFP4, RT_WQ_NVFP4,
    RT_WQ_NFORMATS
} RtWqFormat;

/* The codes of one matrix as quantizers produce them (unpacked). */
typedef struct RtWqCodes {
    int fmt;                     /* RtWqFormat */
    int64_t n, k;                /* output channels, reduction length */
    int group;                   /* k elements per scale (32 for MX, 16 for NVFP4) */
    const int16_t *code;         /* n * k, row n contiguous */
    const float *scale;          /* n * ceil(k / group) */
    const uint8_t *zero;         /* n * ceil(k / group), INT8..INT2 only; NULL otherwise */
    float tensor_scale;          /* NVFP4; 1 otherwise */
} RtWqCodes;

/* The value a code stands for before scaling (elem above). */
float rt_wq_elem(int fmt, int code);
/* Bytes of the packed form, and the packing itself (dst holds that many). */
size_t rt_wq_packed_bytes(int fmt, int64_t n, int64_t k, int group);
void rt_wq_pack(const RtWqCodes *c, uint8_t *dst);
/* The reference decoder: row n of the matrix in float, from the packed form. */
void rt_wq_dequant_row(int fmt, int64_t n_rows, int64_t k, int group, float tensor_scale,
                       const uint8_t *packed, int64_t n, float *row);

#endif
