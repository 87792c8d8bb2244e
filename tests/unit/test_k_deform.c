/* test_k_deform.c: DeformConv against a plain convolution and a zero-bordered sampler. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

enum { N = 2, C = 4, H = 5, W = 6, M = 4, G = 2, OG = 2, KH = 2, KW = 3, MARGIN = 8 };
enum { CPG = C / G, TAPS = KH * KW };

static const int64_t st[2] = {1, 2}, dil[2] = {2, 1}, pb[2] = {1, 0}, pe[2] = {1, 1};

static int64_t out_extent(int a, int64_t in, int64_t k)
{
    return (in + pb[a] + pe[a] - ((k - 1) * dil[a] + 1)) / st[a] + 1;
}

/* X copied into the middle of a plane MARGIN wider on each side, zeros
 * around it: bilinear reads need no bounds checks as long as every
 * sampling point stays MARGIN - 1 inside. */
static double big[N * C][H + 2 * MARGIN][W + 2 * MARGIN];

static double bilinear(int plane, double py, double px)
{
    py += MARGIN;
    px += MARGIN;
    int y0 = (int)floor(py), x0 = (int)floor(px);
    double ty = py - y0, tx = px - x0;
    return (1 - ty) * ((1 - tx) * big[plane][y0][x0] + tx * big[plane][y0][x0 + 1]) +
           ty * ((1 - tx) * big[plane][y0 + 1][x0] + tx * big[plane][y0 + 1][x0 + 1]);
}

int main(void)
{
    enum { OH = 5, OW = 3 }; /* (5 + 2 - 3) / 1 + 1 and (6 + 1 - 3) / 2 + 1 */
    CHECK(OH, out_extent(0, H, KH));
    CHECK(OW, out_extent(1, W, KW));
    static float x[N * C * H * W], w[M * CPG * TAPS], b[M];
    static float off[N * OG * TAPS * 2 * OH * OW], mask[N * OG * TAPS * OH * OW];
    static float y[N * M * OH * OW];
    for (int i = 0; i < N * C * H * W; i++)
        x[i] = (float)sin(i * 0.37);
    for (int i = 0; i < M * CPG * TAPS; i++)
        w[i] = (float)cos(i * 0.21);
    for (int i = 0; i < M; i++)
        b[i] = (float)(0.5 * i - 1);
    for (int i = 0; i < N * OG * TAPS * 2 * OH * OW; i++)
        off[i] = (float)(1.7 * sin(i * 1.3));
    for (int i = 0; i < N * OG * TAPS * OH * OW; i++)
        mask[i] = (float)(0.5 + 0.5 * cos(i * 0.7));
    memset(big, 0, sizeof big);
    for (int p = 0; p < N * C; p++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                big[p][i + MARGIN][j + MARGIN] = x[(p * H + i) * W + j];

    int64_t ints[RT_DEFORM_NINTS] = {G, OG, st[0], st[1], dil[0], dil[1], pb[0], pb[1]};
    RtTensorDesc in[5] = {desc(RT_F32, 4, DIMS(N, C, H, W)), desc(RT_F32, 4, DIMS(M, CPG, KH, KW)),
                          desc(RT_F32, 4, DIMS(N, OG * TAPS * 2, OH, OW)), desc1(RT_F32, M),
                          desc(RT_F32, 4, DIMS(N, OG * TAPS, OH, OW))};
    RtTensorDesc out = desc(RT_F32, 4, DIMS(N, M, OH, OW));
    for (int variant = 0; variant < 2; variant++) {
        /* variant 0: zero offsets, no mask, no bias = a grouped dilated
         * convolution; variant 1: offsets, mask and bias */
        static float zero[N * OG * TAPS * 2 * OH * OW];
        RtTensorDesc ins[5];
        memcpy(ins, in, sizeof ins);
        if (!variant)
            ins[3].dtype = ins[4].dtype = RT_UNDEF;
        RtCall c = call(5, ins, 1, &out, RT_DEFORM_NINTS, ints, 0, NULL);
        const void *ip[5] = {x, w, variant ? off : zero, variant ? b : NULL,
                             variant ? mask : NULL};
        void *op[1] = {y};
        CHECK(RT_OK, rt_deform_conv(&c, ip, op));
        int bad = 0;
        for (int n = 0; n < N; n++)
            for (int m = 0; m < M; m++)
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox++) {
                        double acc = variant ? b[m] : 0;
                        int g = m / (M / G);
                        for (int ci = 0; ci < CPG; ci++) {
                            int ch = g * CPG + ci, o = ch / (C / OG);
                            for (int i = 0; i < KH; i++)
                                for (int j = 0; j < KW; j++) {
                                    int k = i * KW + j;
                                    double wv = w[((m * CPG + ci) * KH + i) * KW + j];
                                    int iy = oy * (int)st[0] - (int)pb[0] + i * (int)dil[0];
                                    int ix = ox * (int)st[1] - (int)pb[1] + j * (int)dil[1];
                                    if (!variant) {
                                        /* the plain convolution's tap */
                                        if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                            acc += wv * x[((n * C + ch) * H + iy) * W + ix];
                                        continue;
                                    }
                                    int base = ((n * OG + o) * TAPS + k);
                                    double dy = off[(base * 2) * OH * OW + oy * OW + ox];
                                    double dx = off[(base * 2 + 1) * OH * OW + oy * OW + ox];
                                    double mk = mask[base * OH * OW + oy * OW + ox];
                                    acc += wv * mk * bilinear(n * C + ch, iy + dy, ix + dx);
                                }
                        }
                        double got = y[((n * M + m) * OH + oy) * OW + ox];
                        bad += fabs(got - acc) > 1e-5 * (1 + fabs(acc));
                    }
        CHECK(0, bad);
    }
    /* an offset tensor of the wrong channel count is refused */
    in[2].dims[1] = 7;
    RtCall c = call(5, in, 1, &out, RT_DEFORM_NINTS, ints, 0, NULL);
    const void *ip[5] = {x, w, off, b, mask};
    void *op[1] = {y};
    CHECK(RT_EINVAL, rt_deform_conv(&c, ip, op));
    return CHECK_DONE();
}
