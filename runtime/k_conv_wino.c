/* k_conv_wino.c: Winograd F(4x4, 3x3) for float32 3x3 stride-1 convolutions. */
#include <string.h>

#include "rt_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
/* short row copies as inline vector loops, not memcpy calls (as in k_conv.c) */
#define INLINE_COPIES __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define INLINE_COPIES
#endif

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
    MCAP = 4096,                /* output channels x columns of one block's GEMM outputs */
};

/* A block is a run of whole tile rows, its GEMM columns the tiles, row by
 * row: tile (i, t) of the block is column i * tw + t, so every pass after
 * the copy of the input rows runs flat over the whole block (a 28x28 map's
 * rows of 7 tiles still fill 16-lane vectors). */
typedef struct Wino {
    const RtWinoConv *p;
    int64_t tw, th;              /* tile grid of one image */
    int64_t rb, blocks;          /* tile rows per block; blocks per image */
    int64_t mp;                  /* output channels rounded up to MR */
    int mr, nr;
} Wino;

/* Lanes of the fixed-length loops below: blocks of 16 columns that the
 * compiler turns into whole vectors with no scalar remainder (a 28x28 map
 * has rows of 7 tiles; a loop of 7 ran in scalar code). */
#define WB 16
/* Floats of one padded input row: 4 per tile for whole blocks of WB tiles,
 * plus the 2 the last tile overlaps, rounded up to a block (the vertical
 * pass runs over whole blocks too). */
#define WROW (4 * (RT_WINO_COLS + WB) + WB)

/* Tile row ty of one input channel, tw tiles: the 6 input rows are copied
 * zero-padded into contiguous rows, the vertical pass B^T d runs along them
 * (whole vectors over 4 tw + 2 columns: 6 results per column where a pass
 * over the tiles' phases computes 36 per tile over only tw lanes), and each
 * of the 6 results is split into 6 column phases (phase c holds column
 * 4t + c of tile t) at vt[j][c][f0 + t]. The split writes whole blocks of
 * WB tiles; the columns past tw it writes are garbage that the next tile
 * row overwrites, or that lie past the block's columns and are never read
 * (vt has WB columns of margin). */
/* Phases 0..5 of WB tiles from the row a (tile t's columns at 4t .. 4t+5)
 * to v[c][t] = a[4t + c]: a stride-4 de-interleave, as two rounds of
 * even/odd shuffles of whole vectors where the compiler has them (scalar
 * loads and stores otherwise: perf measured the plain loop so). */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define WINO_SHUFFLE 1
#endif
#endif
#ifdef WINO_SHUFFLE
typedef float WVec __attribute__((vector_size(WB * 4)));
#define W_EVEN 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define W_ODD 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31

/* p[c][t] = a[4t + c] for c < 4 and t < WB. */
static inline __attribute__((always_inline)) void deint4(const float *a, WVec p[4])
{
    WVec a0, a1, a2, a3;
    memcpy(&a0, a, sizeof a0);
    memcpy(&a1, a + WB, sizeof a1);
    memcpy(&a2, a + 2 * WB, sizeof a2);
    memcpy(&a3, a + 3 * WB, sizeof a3);
    WVec e01 = __builtin_shufflevector(a0, a1, W_EVEN);
    WVec o01 = __builtin_shufflevector(a0, a1, W_ODD);
    WVec e23 = __builtin_shufflevector(a2, a3, W_EVEN);
    WVec o23 = __builtin_shufflevector(a2, a3, W_ODD);
    p[0] = __builtin_shufflevector(e01, e23, W_EVEN);
    p[1] = __builtin_shufflevector(o01, o23, W_EVEN);
    p[2] = __builtin_shufflevector(e01, e23, W_ODD);
    p[3] = __builtin_shufflevector(o01, o23, W_ODD);
}

HOT static inline void split_block(const float *a, float *const v[6])
{
    WVec p[4], q[4];
    deint4(a, p);
    deint4(a + 4, q); /* phases 4 and 5 are phases 0 and 1 one tile on */
    for (int c = 0; c < 4; c++)
        memcpy(v[c], &p[c], sizeof p[c]);
    memcpy(v[4], &q[0], sizeof q[0]);
    memcpy(v[5], &q[1], sizeof q[1]);
}
#else
HOT static inline void split_block(const float *a, float *const v[6])
{
    for (int c = 0; c < 6; c++)
        for (int t = 0; t < WB; t++)
            v[c][t] = a[4 * t + c];
}
#endif

typedef float VtRows[6][RT_WINO_COLS + WB]; /* 6 phases of one row of B^T d, WB of margin */

HOT INLINE_COPIES static void input_row(const RtWinoConv *p, const float *xc, int64_t ty,
                                        int64_t tw, VtRows *vt, int64_t f0)
{
    float d[6][WROW], u[6][WROW];
    int64_t x0 = -p->pl, tb = (tw + WB - 1) / WB * WB;
    int64_t len = (4 * tw + 2 + WB - 1) / WB * WB;
    /* the input columns inside [x0, x0 + 4 tw + 2); the rest is padding */
    int64_t lo = x0 < 0 ? -x0 : 0, hi = p->w - x0 < 4 * tw + 2 ? p->w - x0 : 4 * tw + 2;
    hi = hi > lo ? hi : lo;
    for (int r = 0; r < 6; r++) {
        int64_t iy = 4 * ty - p->pt + r;
        float *dr = d[r];
        if (iy < 0 || iy >= p->h) {
            for (int64_t c = 0; c < len; c++)
                dr[c] = 0;
            continue;
        }
        const float *row = xc + iy * p->w + x0;
        for (int64_t c = 0; c < lo; c++)
            dr[c] = 0;
        for (int64_t c = lo; c < hi; c++)
            dr[c] = row[c];
        for (int64_t c = hi; c < len; c++)
            dr[c] = 0;
    }
    for (int64_t c = 0; c < len; c++) {
        float s[6] = {d[0][c], d[1][c], d[2][c], d[3][c], d[4][c], d[5][c]};
        u[0][c] = BT0(s);
        u[1][c] = BT1(s);
        u[2][c] = BT2(s);
        u[3][c] = BT3(s);
        u[4][c] = BT4(s);
        u[5][c] = BT5(s);
    }
    /* the split's last block reads up to column 4 tb + 3 */
    for (int j = 0; j < 6; j++)
        for (int64_t c = len; c < 4 * tb + 4; c++)
            u[j][c] = 0;
    for (int j = 0; j < 6; j++)
        for (int64_t t0 = 0; t0 < tb; t0 += WB) {
            float *v[6];
            for (int c = 0; c < 6; c++)
                v[c] = vt[j][c] + f0 + t0;
            split_block(u[j] + 4 * t0, v);
        }
}

/* The horizontal pass (d B) of columns [c, c + run) of vt: component
 * xi = 6j + k of column c + t to d[xi * vs + t]. In whole vectors where
 * there are any (a plain loop here stayed scalar: 36 output streams). */
HOT static void input_cols(VtRows *vt, int64_t c, int64_t run, float *d, int64_t vs)
{
    for (int j = 0; j < 6; j++) {
        const float *v0 = vt[j][0] + c, *v1 = vt[j][1] + c, *v2 = vt[j][2] + c;
        const float *v3 = vt[j][3] + c, *v4 = vt[j][4] + c, *v5 = vt[j][5] + c;
        float *o = d + 6 * j * vs;
        int64_t t = 0;
#ifdef WINO_SHUFFLE
        for (; t + WB <= run; t += WB) {
            WVec s[6], r[6];
            memcpy(&s[0], v0 + t, sizeof s[0]);
            memcpy(&s[1], v1 + t, sizeof s[1]);
            memcpy(&s[2], v2 + t, sizeof s[2]);
            memcpy(&s[3], v3 + t, sizeof s[3]);
            memcpy(&s[4], v4 + t, sizeof s[4]);
            memcpy(&s[5], v5 + t, sizeof s[5]);
            r[0] = BT0(s);
            r[1] = BT1(s);
            r[2] = BT2(s);
            r[3] = BT3(s);
            r[4] = BT4(s);
            r[5] = BT5(s);
            for (int k = 0; k < 6; k++)
                memcpy(o + k * vs + t, &r[k], sizeof r[k]);
        }
#endif
        for (; t < run; t++) {
            float s[6] = {v0[t], v1[t], v2[t], v3[t], v4[t], v5[t]};
            o[t] = BT0(s);
            o[vs + t] = BT1(s);
            o[2 * vs + t] = BT2(s);
            o[3 * vs + t] = BT3(s);
            o[4 * vs + t] = BT4(s);
            o[5 * vs + t] = BT5(s);
        }
    }
}

/* V[xi] for tile rows [ty0, ty0 + rows) of image x: Cin x cols as B panels
 * of nr columns over the whole Cin (what rt_gemm_pack_b writes), the last
 * panel's columns past cols zeroed. */
static void input_block(const Wino *wn, const float *x, int64_t ty0, int64_t rows, float *v)
{
    const RtWinoConv *p = wn->p;
    int64_t nr = wn->nr, cin = p->cin, cols = rows * wn->tw;
    int64_t npan = (cols + nr - 1) / nr, vs = npan * nr * cin;
    VtRows vt[6];
    if (cols % nr)
        for (int xi = 0; xi < XI; xi++)
            for (int64_t ci = 0; ci < cin; ci++)
                memset(v + xi * vs + (npan - 1) * cin * nr + ci * nr + cols % nr, 0,
                       sizeof(float) * (size_t)(nr - cols % nr));
    for (int64_t ci = 0; ci < cin; ci++) {
        const float *xc = x + ci * p->h * p->w;
        for (int64_t i = 0; i < rows; i++)
            input_row(p, xc, ty0 + i, wn->tw, vt, i * wn->tw);
        for (int64_t c = 0; c < cols; c += nr)
            input_cols(vt, c, cols - c < nr ? cols - c : nr, v + c * cin + ci * nr, vs);
    }
}

/* Output channel co of tile rows [ty0, ty0 + rows) from m[xi * ldm + f]:
 * A^T m A plus the bias, flat over the block's columns, then each output row
 * interleaved (tile t's 4 values at 4t) and stored inside the output's
 * bounds, with the sum input and the activation applied there. */
HOT INLINE_COPIES static void output_block(const Wino *wn, const RtWinoConv *p, const float *m,
                                           int64_t ldm, int64_t co, int64_t ty0, int64_t rows,
                                           float bias)
{
    float s[4][6][RT_WINO_COLS], o[4][4][RT_WINO_COLS], row[4 * RT_WINO_COLS];
    int64_t cols = rows * wn->tw;
    for (int k = 0; k < 6; k++) {
        const float *m0 = m + k * ldm, *m1 = m + (6 + k) * ldm, *m2 = m + (12 + k) * ldm;
        const float *m3 = m + (18 + k) * ldm, *m4 = m + (24 + k) * ldm;
        const float *m5 = m + (30 + k) * ldm;
        for (int64_t f = 0; f < cols; f++) {
            float c[6] = {m0[f], m1[f], m2[f], m3[f], m4[f], m5[f]};
            s[0][k][f] = AT0(c);
            s[1][k][f] = AT1(c);
            s[2][k][f] = AT2(c);
            s[3][k][f] = AT3(c);
        }
    }
    for (int i = 0; i < 4; i++)
        for (int64_t f = 0; f < cols; f++) {
            float c[6] = {s[i][0][f], s[i][1][f], s[i][2][f], s[i][3][f], s[i][4][f], s[i][5][f]};
            o[i][0][f] = AT0(c) + bias;
            o[i][1][f] = AT1(c) + bias;
            o[i][2][f] = AT2(c) + bias;
            o[i][3][f] = AT3(c) + bias;
        }
    int post = p->z || p->act != RT_EPI_NONE;
    for (int64_t r = 0; r < rows; r++)
        for (int i = 0; i < 4; i++) {
            int64_t oy = 4 * (ty0 + r) + i, f0 = r * wn->tw;
            if (oy >= p->oh)
                break;
            const float *o0 = o[i][0] + f0, *o1 = o[i][1] + f0, *o2 = o[i][2] + f0;
            const float *o3 = o[i][3] + f0;
            for (int64_t t = 0; t < wn->tw; t++) {
                row[4 * t] = o0[t];
                row[4 * t + 1] = o1[t];
                row[4 * t + 2] = o2[t];
                row[4 * t + 3] = o3[t];
            }
            float *yr = p->y + (co * p->oh + oy) * p->ow;
            memcpy(yr, row, sizeof(float) * (size_t)p->ow);
            if (post)
                rt_epi_apply(yr, p->z ? p->z + (yr - p->y) : NULL, p->ow, p->act, p->p0, p->p1);
        }
}

/* Blocks [lo, hi) of (image, run of tile rows): the input transform, then
 * per block of output channels the 36 GEMMs and the output transform. V
 * and M are on the stack (1.2 MB and 0.6 MB at most), the kernel's
 * scratch, sized by RT_WINO_VCAP and MCAP. */
static void wino_blocks(void *ctx, int64_t lo, int64_t hi)
{
    const Wino *wn = ctx;
    const RtWinoConv *p = wn->p;
    float v[XI * RT_WINO_VCAP], mbuf[XI * MCAP];
    int64_t nr = wn->nr, mr = wn->mr;
    for (int64_t b = lo; b < hi; b++) {
        int64_t xn = b / wn->blocks, ty0 = b % wn->blocks * wn->rb;
        int64_t rows = wn->th - ty0 < wn->rb ? wn->th - ty0 : wn->rb, cols = rows * wn->tw;
        int64_t vs = (cols + nr - 1) / nr * nr * p->cin;
        input_block(wn, p->x + xn * p->cin * p->h * p->w, ty0, rows, v);
        /* output channels per GEMM: as many MR panels as MCAP holds */
        int64_t cob = MCAP / cols / mr * mr;
        cob = cob < wn->mp ? cob : wn->mp;
        RtWinoConv pi = *p;
        pi.y = p->y + xn * p->cout * p->oh * p->ow;
        pi.z = p->z ? p->z + xn * p->cout * p->oh * p->ow : NULL;
        for (int64_t co0 = 0; co0 < p->cout; co0 += cob) {
            int64_t mc = p->cout - co0 < cob ? p->cout - co0 : cob;
            for (int xi = 0; xi < XI; xi++) {
                RtGemmA A = {NULL, p->cin, 0, p->u + (xi * wn->mp + co0) * p->cin, NULL, NULL};
                RtGemmB B = {NULL, NULL, v + xi * vs};
                rt_sgemm_ex(mc, cols, p->cin, 1, &A, &B, 0, NULL, mbuf + xi * mc * cols, cols);
            }
            for (int64_t c = 0; c < mc; c++)
                output_block(wn, &pi, mbuf + c * cols, mc * cols, co0 + c, ty0, rows,
                             p->bias ? p->bias[co0 + c] : 0);
        }
    }
}

int rt_conv_wino(const RtWinoConv *p)
{
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    if (!rt_wino_fits(p->cin, p->ow, nr) || p->oh < 1 || p->ow < 1 || p->cout < 1)
        return RT_EINVAL;
    Wino wn = {p, 0, 0, 0, 0, 0, mr, nr};
    wn.tw = (p->ow + 3) / 4;
    wn.th = (p->oh + 3) / 4;
    wn.mp = (p->cout + mr - 1) / mr * mr;
    /* as many tile rows as V, M and the column buffers hold; with threads,
     * enough blocks for each (a tile's arithmetic does not depend on its
     * block, so neither does Y) */
    int64_t cmax = rt_wino_cols(p->cin, nr);
    cmax = cmax < MCAP / mr ? cmax : MCAP / mr;
    wn.rb = cmax / wn.tw;
    if (wn.rb < 1)
        return RT_EINVAL;
    wn.rb = wn.rb < wn.th ? wn.rb : wn.th;
    int64_t t = rt_threads(), nb = (wn.th + wn.rb - 1) / wn.rb;
    if (t > 1 && p->n % t) { /* a multiple of the threads, balanced */
        nb = (nb + t - 1) / t * t;
        nb = nb < wn.th ? nb : wn.th;
        wn.rb = (wn.th + nb - 1) / nb;
    }
    wn.blocks = (wn.th + wn.rb - 1) / wn.rb;
    rt_parallel_for(p->n * wn.blocks, 1, wino_blocks, &wn);
    return RT_OK;
}
