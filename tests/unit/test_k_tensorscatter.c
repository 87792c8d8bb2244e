/* test_k_tensorscatter.c: the TensorScatter kernel (linear and circular, default indices, in place, refused indices) against a direct reference. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "runtime/onnxcc_rt_kernels.h"

enum { B = 3, H = 2, L = 7, D = 5, U = 3 };

/* Runs a [B, H, L, D] cache with a [B, H, U, D] update along axis 2;
 * returns the number of elements that differ from the reference. */
static int run(int circular, const int64_t *wi, int in_place)
{
    static float cache[B * H * L * D], upd[B * H * U * D], y[B * H * L * D], ref[B * H * L * D];
    for (int i = 0; i < B * H * L * D; i++)
        cache[i] = ref[i] = (float)i;
    for (int i = 0; i < B * H * U * D; i++)
        upd[i] = -1.0f - (float)i;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int s = 0; s < U; s++) {
                int p = (int)(wi ? wi[b] : 0) + s;
                p = circular ? p % L : p;
                memcpy(ref + ((b * H + h) * L + p) * D, upd + ((b * H + h) * U + s) * D,
                       sizeof(float) * D);
            }
    RtTensorDesc din[3] = {desc(RT_F32, 4, DIMS(B, H, L, D)), desc(RT_F32, 4, DIMS(B, H, U, D)),
                           wi ? desc1(RT_I64, B) : desc(RT_UNDEF, 0, NULL)};
    int64_t ints[RT_TSCATTER_NINTS] = {2, circular};
    const void *in[3] = {cache, upd, wi};
    void *out[1] = {in_place ? cache : y};
    RtCall c = call(3, din, 1, din, RT_TSCATTER_NINTS, ints, 0, NULL);
    CHECK(RT_OK, rt_tensor_scatter(&c, in, out));
    int bad = 0;
    for (int i = 0; i < B * H * L * D; i++)
        bad += (in_place ? cache : y)[i] != ref[i];
    return bad;
}

int main(void)
{
    int64_t lin[B] = {0, 4, 2}, circ[B] = {5, 6, 1};
    CHECK(0, run(0, lin, 0));
    CHECK(0, run(0, NULL, 0));
    CHECK(0, run(1, circ, 0));
    CHECK(0, run(1, circ, 1));
    /* a linear write past the end is refused before anything moves */
    static float cache[B * H * L * D], upd[B * H * U * D], y[B * H * L * D];
    int64_t bad[B] = {0, 5, 0};
    RtTensorDesc din[3] = {desc(RT_F32, 4, DIMS(B, H, L, D)), desc(RT_F32, 4, DIMS(B, H, U, D)),
                           desc1(RT_I64, B)};
    int64_t ints[RT_TSCATTER_NINTS] = {2, 0};
    const void *in[3] = {cache, upd, bad};
    void *out[1] = {y};
    RtCall c = call(3, din, 1, din, RT_TSCATTER_NINTS, ints, 0, NULL);
    CHECK(RT_EINVAL, rt_tensor_scatter(&c, in, out));
    return CHECK_DONE();
}
