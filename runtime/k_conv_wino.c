/* k_conv_wino.c: Winograd F(4x4, 3x3) for float32 3x3 stride-1 convolutions. */
#include <string.h>

#include "rt_internal.h"

/* Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (2016),
 * F(4x4, 3x3) with the points 0, +-1, +-2 and infinity:
 *     Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * for each 6x6 input tile d (tiles overlap by 2) and 3x3 filter g. Summed
 * over input channels, each of the 36 elementwise products is one GEMM
 * U[xi] (Cout x Cin) * V[xi] (Cin x tiles): 36 multiply-adds per 16 outputs
 * and channel pair instead of 144. The filters U are transformed at compile
 * time (rt_wino_pack, passes/pack.c) into the GEMM's A panels; the input
 * transform writes V straight into B panels; the output transform applies
 * the conv's epilogue (bias, sum input, activation). The transforms'
 * constants grow with the tile (4, 5, 8 here), and so does the error:
 * F(6x6, 3x3) needs points like +-1/2 and loses another digit. */

/* B^T (6x6) rows on six values s0..s5 (d[j] = sum_r B^T[j][r] s[r]). */
#define BT0(s) (4 * (s)[0] - 5 * (s)[2] + (s)[4])
#define BT1(s) (-4 * ((s)[1] + (s)[2]) + (s)[3] + (s)[4])
#define BT2(s) (4 * ((s)[1] - (s)[2]) - (s)[3] + (s)[4])
#define BT3(s) (2 * ((s)[3] - (s)[1]) - (s)[2] + (s)[4])
#define BT4(s) (2 * ((s)[1] - (s)[3]) - (s)[2] + (s)[4])
#define BT5(s) (4 * (s)[1] - 5 * (s)[3] + (s)[5])
/* A^T (4x6) rows. */
#define AT0(s) ((s)[0] + (s)[1] + (s)[2] + (s)[3] + (s)[4])
#define AT1(s) ((s)[1] - (s)[2] + 2 * ((s)[3] - (s)[4]))
#define AT2(s) ((s)[1] + (s)[2] + 4 * ((s)[3] + (s)[4]))
#define AT3(s) ((s)[1] - (s)[2] + 8 * ((s)[3] - (s)[4]) + (s)[5])

/* G (6x3), in double: the compile-time transform rounds once, to float. */
static const double wino_g[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

void rt_wino_pack(int64_t cout, int64_t cin, const float *w, int mr, float *dst)
{
    int64_t mp = (cout + mr - 1) / mr * mr;
    memset(dst, 0, sizeof(float) * (size_t)(RT_WINO_T * RT_WINO_T * mp * cin));
    for (int64_t co = 0; co < cout; co++)
        for (int64_t ci = 0; ci < cin; ci++) {
            const float *g = w + (co * cin + ci) * 9;
            double t[6][3]; /* G g */
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 3; j++)
                    t[i][j] = wino_g[i][0] * g[j] + wino_g[i][1] * g[3 + j] +
                              wino_g[i][2] * g[6 + j];
            /* element (i, j) of G g G^T is xi = 6i + j's A operand, panel co / mr */
            float *d = dst + co / mr * cin * mr + ci * mr + co % mr;
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++)
                    d[(i * 6 + j) * mp * cin] = (float)(t[i][0] * wino_g[j][0] +
                                                        t[i][1] * wino_g[j][1] +
                                                        t[i][2] * wino_g[j][2]);
        }
}

enum {
    XI = RT_WINO_T * RT_WINO_T, /* 36 transformed components */
    WCAP = 64,                  /* tiles of one tile row transformed at once */
    MCAP = 4096,                /* output channels x tiles of one block's GEMM outputs */
};

typedef struct Wino {
    const RtWinoConv *p;
    int64_t tw, th, tiles;       /* tile grid of one image */
    int64_t tb, blocks;          /* tiles per block (a multiple of NR unless the last);
                                  * blocks per image */
    int64_t mp;                  /* output channels rounded up to MR */
    int mr, nr;
} Wino;

/* One tile row's input channel: tiles [a, a + n) of row ty into out[xi][0..n).
 * The 6 input rows are copied zero-padded and split into 4 column phases
 * (phase q holds columns 4t + q), so both passes read contiguous runs: the
 * vertical pass per phase, the horizontal one at offsets t and t + 1. */
HOT static void input_row(const RtWinoConv *p, const float *xc, int64_t ty, int64_t a, int64_t n,
                          float (*out)[WCAP])
{
    float ph[6][4][WCAP + 1], vt[6][4][WCAP + 1];
    int64_t x0 = 4 * a - p->pl;
    for (int r = 0; r < 6; r++) {
        int64_t iy = 4 * ty - p->pt + r;
        for (int q = 0; q < 4; q++) {
            float *d = ph[r][q];
            if (iy < 0 || iy >= p->h) {
                for (int64_t t = 0; t <= n; t++)
                    d[t] = 0;
                continue;
            }
            const float *row = xc + iy * p->w;
            for (int64_t t = 0; t <= n; t++) {
                int64_t ix = x0 + 4 * t + q;
                d[t] = ix >= 0 && ix < p->w ? row[ix] : 0;
            }
        }
    }
    for (int q = 0; q < 4; q++)
        for (int64_t t = 0; t <= n; t++) {
            float s[6] = {ph[0][q][t], ph[1][q][t], ph[2][q][t],
                          ph[3][q][t], ph[4][q][t], ph[5][q][t]};
            vt[0][q][t] = BT0(s);
            vt[1][q][t] = BT1(s);
            vt[2][q][t] = BT2(s);
            vt[3][q][t] = BT3(s);
            vt[4][q][t] = BT4(s);
            vt[5][q][t] = BT5(s);
        }
    for (int j = 0; j < 6; j++) {
        float(*o)[WCAP] = out + 6 * j;
        for (int64_t t = 0; t < n; t++) {
            float s[6] = {vt[j][0][t], vt[j][1][t], vt[j][2][t],
                          vt[j][3][t], vt[j][0][t + 1], vt[j][1][t + 1]};
            o[0][t] = BT0(s);
            o[1][t] = BT1(s);
            o[2][t] = BT2(s);
            o[3][t] = BT3(s);
            o[4][t] = BT4(s);
            o[5][t] = BT5(s);
        }
    }
}

/* V[xi] for tiles [t0, t0 + nb) of image xn: Cin x nb as B panels of nr
 * columns over the whole Cin (what rt_gemm_pack_b writes), the last panel's
 * columns past nb zeroed. */
static void input_block(const Wino *wn, const float *x, int64_t t0, int64_t nb, float *v)
{
    const RtWinoConv *p = wn->p;
    int64_t nr = wn->nr, cin = p->cin, npan = (nb + nr - 1) / nr, vs = npan * nr * cin;
    float out[XI][WCAP];
    if (nb % nr)
        for (int xi = 0; xi < XI; xi++)
            for (int64_t ci = 0; ci < cin; ci++)
                memset(v + xi * vs + (npan - 1) * cin * nr + ci * nr + nb % nr, 0,
                       sizeof(float) * (size_t)(nr - nb % nr));
    for (int64_t ci = 0; ci < cin; ci++) {
        const float *xc = x + ci * p->h * p->w;
        for (int64_t t = t0; t < t0 + nb;) {
            int64_t ty = t / wn->tw, a = t % wn->tw;
            int64_t n = wn->tw - a < t0 + nb - t ? wn->tw - a : t0 + nb - t;
            n = n < WCAP ? n : WCAP;
            input_row(p, xc, ty, a, n, out);
            /* copy runs of columns that stay inside one panel */
            for (int64_t c = 0; c < n;) {
                int64_t u = t - t0 + c, lane = u % nr, run = nr - lane < n - c ? nr - lane : n - c;
                float *d = v + u / nr * cin * nr + ci * nr + lane;
                for (int xi = 0; xi < XI; xi++)
                    memcpy(d + xi * vs, out[xi] + c, sizeof(float) * (size_t)run);
                c += run;
            }
            t += n;
        }
    }
}

/* Output channel co's tiles [a, a + n) of row ty from m[xi][0..n) (stride
 * ldm): A^T m A plus the bias, stored inside the output's bounds, then the
 * sum input and the activation over the stored rows. */
HOT static void output_row(const RtWinoConv *p, const float *m, int64_t ldm, int64_t co,
                           int64_t ty, int64_t a, int64_t n, float bias)
{
    float s[4][6][WCAP], row[4 * WCAP];
    for (int k = 0; k < 6; k++)
        for (int64_t t = 0; t < n; t++) {
            float c[6];
            for (int r = 0; r < 6; r++)
                c[r] = m[(r * 6 + k) * ldm + t];
            s[0][k][t] = AT0(c);
            s[1][k][t] = AT1(c);
            s[2][k][t] = AT2(c);
            s[3][k][t] = AT3(c);
        }
    int64_t ox = 4 * a, len = 4 * n < p->ow - ox ? 4 * n : p->ow - ox;
    int post = p->z || p->act != RT_EPI_NONE;
    for (int i = 0; i < 4; i++) {
        int64_t oy = 4 * ty + i;
        if (oy >= p->oh)
            break;
        for (int64_t t = 0; t < n; t++) {
            float c[6] = {s[i][0][t], s[i][1][t], s[i][2][t], s[i][3][t], s[i][4][t], s[i][5][t]};
            row[4 * t] = AT0(c) + bias;
            row[4 * t + 1] = AT1(c) + bias;
            row[4 * t + 2] = AT2(c) + bias;
            row[4 * t + 3] = AT3(c) + bias;
        }
        int64_t off = (co * p->oh + oy) * p->ow + ox;
        memcpy(p->y + off, row, sizeof(float) * (size_t)len);
        if (post)
            rt_epi_apply(p->y + off, p->z ? p->z + off : NULL, len, p->act, p->p0, p->p1);
    }
}

/* Blocks [lo, hi) of (image, tile block): the input transform, then per
 * block of output channels the 36 GEMMs and the output transform. Both
 * buffers are on the stack (V 1.2 MB, M 0.6 MB at most): the kernel's
 * scratch, sized by RT_WINO_VCAP and MCAP. */
static void wino_blocks(void *ctx, int64_t lo, int64_t hi)
{
    const Wino *wn = ctx;
    const RtWinoConv *p = wn->p;
    float v[XI * RT_WINO_VCAP], mbuf[XI * MCAP];
    int64_t nr = wn->nr, mr = wn->mr;
    for (int64_t b = lo; b < hi; b++) {
        int64_t xn = b / wn->blocks, t0 = b % wn->blocks * wn->tb;
        int64_t nb = wn->tiles - t0 < wn->tb ? wn->tiles - t0 : wn->tb;
        int64_t npan = (nb + nr - 1) / nr, vs = npan * nr * p->cin;
        const float *x = p->x + xn * p->cin * p->h * p->w;
        input_block(wn, x, t0, nb, v);
        /* output channels per GEMM: as many MR panels as MCAP holds */
        int64_t cob = MCAP / nb / mr * mr;
        cob = cob < wn->mp ? cob : wn->mp;
        RtWinoConv pi = *p;
        pi.y = p->y + xn * p->cout * p->oh * p->ow;
        pi.z = p->z ? p->z + xn * p->cout * p->oh * p->ow : NULL;
        for (int64_t co0 = 0; co0 < p->cout; co0 += cob) {
            int64_t mc = p->cout - co0 < cob ? p->cout - co0 : cob;
            for (int xi = 0; xi < XI; xi++) {
                RtGemmA A = {NULL, p->cin, 0, p->u + (xi * wn->mp + co0) * p->cin, NULL, NULL};
                RtGemmB B = {NULL, NULL, v + xi * vs};
                rt_sgemm_ex(mc, nb, p->cin, 1, &A, &B, 0, NULL, mbuf + xi * mc * nb, nb);
            }
            for (int64_t c = 0; c < mc; c++) {
                const float *m = mbuf + c * nb;
                float bias = p->bias ? p->bias[co0 + c] : 0;
                for (int64_t t = t0; t < t0 + nb;) {
                    int64_t ty = t / wn->tw, a = t % wn->tw;
                    int64_t n = wn->tw - a < t0 + nb - t ? wn->tw - a : t0 + nb - t;
                    n = n < WCAP ? n : WCAP;
                    output_row(&pi, m + (t - t0), mc * nb, co0 + c, ty, a, n, bias);
                    t += n;
                }
            }
        }
    }
}

int rt_conv_wino(const RtWinoConv *p)
{
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    if (!rt_wino_fits(p->cin, nr) || p->oh < 1 || p->ow < 1 || p->cout < 1)
        return RT_EINVAL;
    Wino wn = {p, 0, 0, 0, 0, 0, 0, mr, nr};
    wn.tw = (p->ow + 3) / 4;
    wn.th = (p->oh + 3) / 4;
    wn.tiles = wn.tw * wn.th;
    wn.mp = (p->cout + mr - 1) / mr * mr;
    /* as many whole panels as V holds; with threads, enough blocks for each
     * (a tile's arithmetic does not depend on its block, so neither does Y) */
    int64_t tb = RT_WINO_VCAP / p->cin / nr * nr, all = (wn.tiles + nr - 1) / nr * nr;
    tb = tb < all ? tb : all;
    int t = rt_threads();
    if (t > 1 && p->n * ((wn.tiles + tb - 1) / tb) < t) {
        int64_t per = (wn.tiles + t - 1) / t;
        int64_t tt = (per + nr - 1) / nr * nr;
        tb = tt < tb ? tt : tb;
    }
    /* MCAP must hold MR output channels of a block */
    while (tb > nr && tb * mr > MCAP)
        tb -= nr;
    wn.tb = tb < wn.tiles ? tb : wn.tiles;
    if (wn.tb * mr > MCAP)
        return RT_EINVAL;
    wn.blocks = (wn.tiles + wn.tb - 1) / wn.tb;
    rt_parallel_for(p->n * wn.blocks, 1, wino_blocks, &wn);
    return RT_OK;
}
