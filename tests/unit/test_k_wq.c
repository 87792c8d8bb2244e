/* test_k_wq.c: weight-only packing: decode gives wq_dequant's matrix bit for bit, unpack the codes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wq_codes.h"
#include "passes/wq_methods.h"

/* pack + rt_wq_dequant_row == wq_dequant, bit for bit; returns mismatching rows. */
static int roundtrip(int fmt, int64_t n, int64_t k, int group)
{
    int64_t ng = (k + group - 1) / group;
    int16_t *code = malloc(sizeof *code * (size_t)(n * k));
    float *scale = malloc(sizeof *scale * (size_t)(n * ng));
    uint8_t *zero = fmt <= RT_WQ_INT2 ? malloc((size_t)(n * ng)) : NULL;
    float ts, *ref = malloc(sizeof *ref * (size_t)(n * k)), *row = malloc(sizeof *row * (size_t)k);
    make_codes(fmt, n, k, group, code, scale, zero, &ts);
    RtWqCodes c = {fmt, n, k, group, code, scale, zero, ts};
    wq_dequant(&c, ref);
    size_t bytes = rt_wq_packed_bytes(fmt, n, k, group);
    uint8_t *packed = malloc(bytes + 1);
    packed[bytes] = 0xa5; /* the packer writes no further */
    rt_wq_pack(&c, packed);
    int bad = packed[bytes] != 0xa5;
    for (int64_t r = 0; r < n; r++) {
        rt_wq_dequant_row(fmt, n, k, group, ts, packed, r, row);
        if (memcmp(row, ref + r * k, sizeof *row * (size_t)k)) {
            if (!bad)
                fprintf(stderr, "%s n=%lld k=%lld group=%d: row %lld differs\n",
                        rt_wq_name(fmt), (long long)n, (long long)k, group, (long long)r);
            bad++;
        }
    }
    /* rt_wq_unpack_row gives back the very codes, scales and zero points */
    int16_t *uc = malloc(sizeof *uc * (size_t)k);
    float *us = malloc(sizeof *us * (size_t)ng);
    uint8_t *uz = malloc((size_t)ng);
    for (int64_t r = 0; r < n; r++) {
        rt_wq_unpack_row(fmt, n, k, group, packed, r, uc, us, uz);
        int diff = memcmp(uc, code + r * k, sizeof *uc * (size_t)k) != 0;
        for (int64_t g = 0; g < ng; g++)
            diff |= us[g] != scale[r * ng + g] || uz[g] != (zero ? zero[r * ng + g] : 0);
        if (diff) {
            if (!bad)
                fprintf(stderr, "%s n=%lld k=%lld group=%d: row %lld unpacks differently\n",
                        rt_wq_name(fmt), (long long)n, (long long)k, group, (long long)r);
            bad++;
        }
    }
    free(uc), free(us), free(uz);
    free(code), free(scale), free(zero), free(ref), free(row), free(packed);
    return bad;
}

static void test_elem(void)
{
    static const float e2m1[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
    for (int i = 0; i < 8; i++) {
        CHECK_NEAR(e2m1[i], rt_wq_elem(RT_WQ_MXFP4, i), 0);
        CHECK_NEAR(-e2m1[i], rt_wq_elem(RT_WQ_NVFP4, i | 8), 0);
    }
    CHECK_NEAR(448, rt_wq_elem(RT_WQ_MXFP8, 0x7e), 0);     /* E4M3's largest */
    CHECK_NEAR(-0x1p-9, rt_wq_elem(RT_WQ_MXFP8, 0x81), 0); /* its smallest subnormal */
    CHECK_NEAR(1.0, rt_wq_elem(RT_WQ_MXFP8, 0x38), 0);
    CHECK_NEAR(-2.0, rt_wq_elem(RT_WQ_MXINT8, -128), 0);
    CHECK_NEAR(-1.0, rt_wq_elem(RT_WQ_TERNARY5, -1), 0);
}

/* Bits per weight of k_wq.h's table, scales included. */
static void test_sizes(void)
{
    static const struct { int fmt, group; double bits; } t[] = {
        {RT_WQ_INT8, 32, 9.25}, {RT_WQ_INT4, 32, 5.25}, {RT_WQ_INT3, 32, 4.25},
        {RT_WQ_INT2, 32, 3.25}, {RT_WQ_TERNARY, 32, 3.0}, {RT_WQ_TERNARY5, 32, 2.75},
        {RT_WQ_SHERRY, 32, 2.25}, {RT_WQ_MXINT8, 32, 8.25}, {RT_WQ_MXFP8, 32, 8.25},
        {RT_WQ_MXFP4, 32, 4.25}, {RT_WQ_NVFP4, 16, 4.5},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_NEAR(t[i].bits, rt_wq_packed_bytes(t[i].fmt, 4, 4096, t[i].group) * 8.0 / (4 * 4096),
                   0);
    CHECK(0, rt_wq_packed_bytes(RT_WQ_SHERRY, 4, 64, 6)); /* quads would straddle groups */
    CHECK(0, rt_wq_packed_bytes(0, 4, 64, 32));
}

int main(void)
{
    test_elem();
    test_sizes();
    static const int64_t ks[] = {1, 3, 5, 31, 32, 33, 67, 100};
    static const int groups[] = {4, 7, 8, 16, 32, 12, 128};
    for (int fmt = RT_WQ_INT8; fmt < RT_WQ_NFORMATS; fmt++)
        for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; gi++) {
            if (fmt == RT_WQ_SHERRY && groups[gi] % 4)
                continue; /* not a valid packing (test_sizes checks it is refused) */
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
                for (int64_t n = 1; n <= 17; n += 4)
                    CHECK(0, roundtrip(fmt, n, ks[ki], groups[gi]));
        }
    return CHECK_DONE();
}
