/* test_k_rotary.c: the RotaryEmbedding kernel (half-split and interleaved, partial rotary dim, position ids or per-row caches, 3-D and 4-D, threads) against a double reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "runtime/onnxcc_rt_kernels.h"

enum { B = 2, H = 3, S = 37, D = 40, MAXPOS = 64 };

/* Runs one configuration and returns the worst absolute error; the output
 * (float32) is copied to keep (if not NULL). */
static double run(int rank, int interleaved, int rd, int with_pos, int dt, float *keep)
{
    int half = rd / 2;
    size_t esz = rt_dtype_size(dt);
    int64_t n = (int64_t)B * H * S * D, ncache = with_pos ? MAXPOS * half : B * S * half;
    void *x = malloc((size_t)n * esz), *y = malloc((size_t)n * esz);
    void *cs = malloc((size_t)ncache * esz), *sn = malloc((size_t)ncache * esz);
    int64_t pos[B * S];
    for (int64_t i = 0; i < n; i++)
        rt_store_f64(x, dt, i, sin(0.37 * (double)i) + 0.1);
    for (int64_t i = 0; i < ncache; i++) {
        rt_store_f64(cs, dt, i, cos(0.05 * (double)i));
        rt_store_f64(sn, dt, i, sin(0.05 * (double)i));
    }
    for (int i = 0; i < B * S; i++)
        pos[i] = (i * 13 + 5) % MAXPOS;
    RtTensorDesc din[4], dout;
    din[0] = rank == 4 ? desc(dt, 4, DIMS(B, H, S, D)) : desc(dt, 3, DIMS(B, S, H * D));
    din[1] = with_pos ? desc(dt, 2, DIMS(MAXPOS, half)) : desc(dt, 3, DIMS(B, S, half));
    din[2] = din[1];
    din[3] = with_pos ? desc(RT_I64, 2, DIMS(B, S)) : desc(RT_UNDEF, 0, NULL);
    dout = din[0];
    int64_t ints[RT_ROPE_NINTS] = {H, rd, interleaved};
    const void *in[4] = {x, cs, sn, with_pos ? pos : NULL};
    void *out[1] = {y};
    RtCall c = call(4, din, 1, &dout, RT_ROPE_NINTS, ints, 0, NULL);
    CHECK(RT_OK, rt_rotary_embedding(&c, in, out));
    double worst = 0;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int s = 0; s < S; s++) {
                int64_t o = rank == 4 ? (((int64_t)b * H + h) * S + s) * D
                                      : ((int64_t)b * S + s) * H * D + (int64_t)h * D;
                int64_t cb = with_pos ? pos[b * S + s] * half : ((int64_t)b * S + s) * half;
                for (int d = 0; d < D; d++) {
                    double ref;
                    if (d >= rd) {
                        ref = rt_load_f64(x, dt, o + d);
                    } else {
                        int i = interleaved ? d / 2 : d % half;
                        int first = interleaved ? d % 2 == 0 : d < half;
                        int i1 = interleaved ? 2 * i : i, i2 = interleaved ? 2 * i + 1 : i + half;
                        double cv = rt_load_f64(cs, dt, cb + i), sv = rt_load_f64(sn, dt, cb + i);
                        double a = rt_load_f64(x, dt, o + i1), bb = rt_load_f64(x, dt, o + i2);
                        ref = first ? cv * a - sv * bb : sv * a + cv * bb;
                    }
                    worst = fmax(worst, fabs(rt_load_f64(y, dt, o + d) - ref));
                }
            }
    if (keep)
        for (int64_t i = 0; i < n; i++)
            keep[i] = (float)rt_load_f64(y, dt, i);
    free(x), free(y), free(cs), free(sn);
    return worst;
}

int main(void)
{
    /* float32 products of unit-sized values: 1e-6 */
    for (int rank = 3; rank <= 4; rank++)
        for (int il = 0; il <= 1; il++)
            for (int wp = 0; wp <= 1; wp++) {
                CHECK_NEAR(0, run(rank, il, D, wp, RT_F32, NULL), 1e-6);
                CHECK_NEAR(0, run(rank, il, 24, wp, RT_F32, NULL), 1e-6);
            }
    /* float16 takes the scalar path: one half-precision rounding, 2e-3 */
    CHECK_NEAR(0, run(4, 1, 24, 1, RT_F16, NULL), 2e-3);
    /* rows split across threads give the same bits */
    static float y1[B * H * S * D], y2[B * H * S * D];
    run(4, 0, 24, 1, RT_F32, y1);
    if (rt_set_threads(2) == RT_OK) {
        run(4, 0, 24, 1, RT_F32, y2);
        CHECK(0, memcmp(y1, y2, sizeof y1));
        rt_set_threads(1);
    } else {
        fprintf(stderr, "no thread pool: the 2-thread comparison is not run\n");
    }
    /* a position outside the cache is refused, not read */
    float x[4 * 2] = {0}, yy[8], cc[2] = {1, 1}, ss[2] = {0, 0};
    int64_t bad[2] = {0, 2};
    RtTensorDesc din[4] = {desc(RT_F32, 4, DIMS(1, 1, 2, 4)), desc(RT_F32, 2, DIMS(1, 2)),
                           desc(RT_F32, 2, DIMS(1, 2)), desc(RT_I64, 2, DIMS(1, 2))};
    int64_t ints[RT_ROPE_NINTS] = {1, 4, 0};
    const void *in[4] = {x, cc, ss, bad};
    void *out[1] = {yy};
    RtCall c = call(4, din, 1, din, RT_ROPE_NINTS, ints, 0, NULL);
    CHECK(RT_EINVAL, rt_rotary_embedding(&c, in, out));
    return CHECK_DONE();
}
