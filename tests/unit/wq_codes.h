/* wq_codes.h: random valid codes, scales and zero points of every weight-only format, for the tests. */
#ifndef ONNXCC_TEST_WQ_CODES_H
#define ONNXCC_TEST_WQ_CODES_H

#include <math.h>
#include <stdint.h>

#include "runtime/k_wq.h"

static unsigned rng = 12345u;
static inline unsigned next(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}
static inline int rnd(int lo, int hi) /* [lo, hi] */
{
    return lo + (int)(next() % (unsigned)(hi - lo + 1));
}

/* Random valid codes, scales and zero points of format fmt. */
static inline void make_codes(int fmt, int64_t n, int64_t k, int group, int16_t *code,
                              float *scale, uint8_t *zero, float *ts)
{
    int64_t ng = (k + group - 1) / group;
    int bits = fmt == RT_WQ_INT8 ? 8 : fmt == RT_WQ_INT4 ? 4 : fmt == RT_WQ_INT3 ? 3 : 2;
    *ts = fmt == RT_WQ_NVFP4 ? 0.37f : 1.0f;
    for (int64_t i = 0; i < n * ng; i++) {
        if (fmt >= RT_WQ_MXINT8 && fmt <= RT_WQ_MXFP4)
            scale[i] = ldexpf(1.0f, rnd(-12, 12));
        else if (fmt == RT_WQ_NVFP4)
            scale[i] = rt_narrow_to_f32(RT_F8E4M3FN, (unsigned)rnd(0x08, 0x7e));
        else
            scale[i] = (float)rnd(1, 1000) / 997.0f;
        if (zero)
            zero[i] = (uint8_t)rnd(0, (1 << bits) - 1);
    }
    for (int64_t r = 0; r < n; r++)
        for (int64_t i = 0; i < k; i++) {
            int16_t *c = &code[r * k + i];
            switch (fmt) {
            case RT_WQ_INT8: case RT_WQ_INT4: case RT_WQ_INT3: case RT_WQ_INT2:
                *c = (int16_t)rnd(0, (1 << bits) - 1);
                break;
            case RT_WQ_TERNARY: case RT_WQ_TERNARY5: *c = (int16_t)rnd(-1, 1); break;
            case RT_WQ_SHERRY:
                if (i % 4 == 0) { /* one zero per quad, at most one in a partial one */
                    int zpos = rnd(0, 3);
                    for (int j = 0; j < 4 && i + j < k; j++)
                        c[j] = (int16_t)(j == zpos ? 0 : rnd(0, 1) ? 1 : -1);
                }
                break;
            case RT_WQ_MXINT8: *c = (int16_t)rnd(-128, 127); break;
            case RT_WQ_MXFP8: {
                int v;
                do
                    v = rnd(0, 255);
                while ((v & 0x7f) == 0x7f);
                *c = (int16_t)v;
                break;
            }
            default: *c = (int16_t)rnd(0, 15); break;
            }
        }
}

#endif
