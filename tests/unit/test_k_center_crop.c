/* test_k_center_crop.c: the CenterCropPad kernel against per-element index arithmetic. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

/* Every output element of a [A, B, C] int32 crop/pad compared with the input
 * element j + off on each axis (or 0 outside): exact. */
static void run_case(const int64_t *xd, const int64_t *yd, const int64_t *off)
{
    int64_t nx = xd[0] * xd[1] * xd[2], ny = yd[0] * yd[1] * yd[2];
    int32_t *x = malloc(sizeof *x * (size_t)nx), *y = malloc(sizeof *y * (size_t)(ny + 1));
    for (int64_t i = 0; i < nx; i++)
        x[i] = (int32_t)(i + 1);
    RtTensorDesc in = desc(RT_I32, 3, xd), out = desc(RT_I32, 3, yd);
    RtCall c = call(1, &in, 1, &out, 3, off, 0, NULL);
    const void *ip[1] = {x};
    void *op[1] = {y};
    CHECK(RT_OK, rt_center_crop_pad(&c, ip, op));
    int64_t bad = 0;
    for (int64_t i = 0; i < yd[0]; i++)
        for (int64_t j = 0; j < yd[1]; j++)
            for (int64_t k = 0; k < yd[2]; k++) {
                int64_t a = i + off[0], b = j + off[1], e = k + off[2];
                int32_t want = a >= 0 && a < xd[0] && b >= 0 && b < xd[1] && e >= 0 && e < xd[2]
                                   ? x[(a * xd[1] + b) * xd[2] + e] : 0;
                bad += y[(i * yd[1] + j) * yd[2] + k] != want;
            }
    CHECK(0, bad);
    free(x);
    free(y);
}

int main(void)
{
    /* crop all axes (odd differences drop the extra unit at the end) */
    run_case(DIMS(6, 5, 4), DIMS(3, 4, 4), DIMS(1, 0, 0));
    /* pad all axes */
    run_case(DIMS(2, 3, 2), DIMS(5, 4, 6), DIMS(-1, 0, -2));
    /* crop one axis, pad the others, including the last (row) axis */
    run_case(DIMS(7, 2, 3), DIMS(4, 5, 8), DIMS(1, -1, -2));
    /* an output axis wider than the input on both sides of a cropped row */
    run_case(DIMS(3, 3, 9), DIMS(3, 1, 2), DIMS(0, 1, 3));
    /* mismatched dtypes are refused */
    float f[1];
    int32_t i32[1] = {1};
    RtTensorDesc in = desc(RT_I32, 1, DIMS(1)), out = desc(RT_F32, 1, DIMS(1));
    RtCall c = call(1, &in, 1, &out, 1, DIMS(0), 0, NULL);
    const void *ip[1] = {i32};
    void *op[1] = {f};
    CHECK(RT_EDTYPE, rt_center_crop_pad(&c, ip, op));
    return CHECK_DONE();
}
