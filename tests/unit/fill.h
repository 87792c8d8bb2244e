/* fill.h: the deterministic test data the kernel and pass tests share. */
#ifndef ONNXCC_TEST_FILL_H
#define ONNXCC_TEST_FILL_H

#include <stdint.h>

/* Values in [-1, 1) from a linear congruential sequence: the same on every
 * machine, so a failure reproduces. */
static inline void fill(float *p, int64_t n, unsigned seed)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

#endif
