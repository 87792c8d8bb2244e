/* test_k_col2im.c: the Col2Im kernel against accumulation into an explicitly padded image. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

/* Adds every column element into an image grown by the pads on both sides,
 * then crops the pads away: no clipping logic, unlike the kernel. */
static void reference(const double *x, int nsp, const int64_t *img, const int64_t *blk,
                      const int64_t *st, const int64_t *dil, const int64_t *pb,
                      const int64_t *pe, const int64_t *grid, int64_t ch, double *y)
{
    int64_t big[3], nbig = 1, nblk = 1, npos = 1, nimg = 1;
    for (int a = 0; a < nsp; a++) {
        big[a] = img[a] + pb[a] + pe[a];
        nbig *= big[a];
        nblk *= blk[a];
        npos *= grid[a];
        nimg *= img[a];
    }
    double *pad = calloc((size_t)nbig, sizeof *pad);
    for (int64_t c = 0; c < ch; c++) {
        for (int64_t i = 0; i < nbig; i++)
            pad[i] = 0;
        for (int64_t b = 0; b < nblk; b++)
            for (int64_t p = 0; p < npos; p++) {
                int64_t rb = b, rp = p, coord[3], idx = 0;
                for (int a = nsp - 1; a >= 0; a--) {
                    coord[a] = rp % grid[a] * st[a] + rb % blk[a] * dil[a];
                    rb /= blk[a];
                    rp /= grid[a];
                }
                for (int a = 0; a < nsp; a++)
                    idx = idx * big[a] + coord[a];
                pad[idx] += x[(c * nblk + b) * npos + p];
            }
        for (int64_t i = 0; i < nimg; i++) {
            int64_t r = i, idx = 0, coord[3];
            for (int a = nsp - 1; a >= 0; a--) {
                coord[a] = r % img[a] + pb[a];
                r /= img[a];
            }
            for (int a = 0; a < nsp; a++)
                idx = idx * big[a] + coord[a];
            y[c * nimg + i] = pad[idx];
        }
    }
    free(pad);
}

/* N = 1, C = 2, in float32 and float64; float32 to 1e-5 relative (sums of
 * a few terms), float64 to 1e-12. */
static void run_case(int nsp, const int64_t *img, const int64_t *blk, const int64_t *st,
                     const int64_t *dil, const int64_t *pb, const int64_t *pe)
{
    int64_t ints[1 + 5 * 3] = {nsp}, grid[3], nblk = 1, npos = 1, nimg = 1, ch = 2;
    int64_t yd[5] = {1, ch};
    for (int a = 0; a < nsp; a++) {
        grid[a] = (img[a] + pb[a] + pe[a] - ((blk[a] - 1) * dil[a] + 1)) / st[a] + 1;
        nblk *= blk[a];
        npos *= grid[a];
        nimg *= img[a];
        yd[2 + a] = img[a];
        ints[RT_COL2IM_BLOCK + a] = blk[a];
        ints[RT_COL2IM_STRIDES(nsp) + a] = st[a];
        ints[RT_COL2IM_DIL(nsp) + a] = dil[a];
        ints[RT_COL2IM_PADS(nsp) + a] = pb[a];
        ints[RT_COL2IM_GRID(nsp) + a] = grid[a];
    }
    int64_t nx = ch * nblk * npos, ny = ch * nimg;
    double *xd = malloc(sizeof *xd * (size_t)nx), *ref = malloc(sizeof *ref * (size_t)ny);
    double *yd64 = malloc(sizeof *yd64 * (size_t)ny);
    float *xf = malloc(sizeof *xf * (size_t)nx), *yf = malloc(sizeof *yf * (size_t)ny);
    for (int64_t i = 0; i < nx; i++) {
        xf[i] = (float)(cos((double)i * 1.3) * 2);
        xd[i] = xf[i];
    }
    reference(xd, nsp, img, blk, st, dil, pb, pe, grid, ch, ref);
    for (int f64 = 0; f64 < 2; f64++) {
        int dt = f64 ? RT_F64 : RT_F32;
        RtTensorDesc in = desc(dt, 3, DIMS(1, ch * nblk, npos)), out = desc(dt, nsp + 2, yd);
        RtCall c = call(1, &in, 1, &out, RT_COL2IM_NINTS(nsp), ints, 0, NULL);
        const void *ip[1] = {f64 ? (const void *)xd : xf};
        void *op[1] = {f64 ? (void *)yd64 : yf};
        CHECK(RT_OK, rt_col2im(&c, ip, op));
        int64_t bad = 0;
        for (int64_t i = 0; i < ny; i++) {
            double got = f64 ? yd64[i] : yf[i];
            if (fabs(got - ref[i]) > (f64 ? 1e-12 : 1e-5) * (1 + fabs(ref[i])))
                bad++;
        }
        CHECK(0, bad);
    }
    free(xd);
    free(ref);
    free(yd64);
    free(xf);
    free(yf);
}

int main(void)
{
    run_case(1, DIMS(9), DIMS(3), DIMS(2), DIMS(1), DIMS(1), DIMS(2));
    run_case(2, DIMS(5, 5), DIMS(2, 2), DIMS(1, 1), DIMS(1, 1), DIMS(0, 0), DIMS(0, 0));
    run_case(2, DIMS(6, 7), DIMS(3, 2), DIMS(2, 1), DIMS(1, 3), DIMS(1, 0), DIMS(2, 1));
    run_case(3, DIMS(3, 4, 5), DIMS(2, 2, 3), DIMS(1, 2, 1), DIMS(1, 1, 2), DIMS(1, 1, 0),
             DIMS(0, 1, 1));
    /* a column count that is not the grid's is refused */
    float x[8] = {0}, y[4];
    int64_t ints[6] = {1, 2, 1, 1, 0, 3};
    RtTensorDesc in = desc(RT_F32, 3, DIMS(1, 2, 4)), out = desc(RT_F32, 3, DIMS(1, 1, 4));
    RtCall c = call(1, &in, 1, &out, 6, ints, 0, NULL);
    const void *ip[1] = {x};
    void *op[1] = {y};
    CHECK(RT_EINVAL, rt_col2im(&c, ip, op));
    return CHECK_DONE();
}
