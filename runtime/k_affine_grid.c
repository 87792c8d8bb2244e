/* k_affine_grid.c: AffineGrid: the sampling grid of an affine map over normalized coordinates. */
#include "rt_internal.h"

/* Coordinate i of n along one axis in [-1, 1]: pixel centres, or the corner
 * pixels at -1 and 1 with align_corners (one pixel: -1, as ONNX's arange). */
static double base(int64_t i, int64_t n, int align)
{
    if (align)
        return n > 1 ? -1 + 2.0 * (double)i / (double)(n - 1) : -1;
    return -1 + (2.0 * (double)i + 1) / (double)n;
}

int rt_affine_grid(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *th = &c->in[0], *y = &c->out[0];
    if (!rt_is_float(th->dtype) || y->dtype != th->dtype)
        return RT_EDTYPE;
    int nsp = y->rank - 2;
    if ((nsp != 2 && nsp != 3) || c->n_ints < RT_AFFINE_GRID_NINTS || th->rank != 3 ||
        th->dims[0] != y->dims[0] || th->dims[1] != nsp || th->dims[2] != nsp + 1 ||
        y->dims[y->rank - 1] != nsp)
        return RT_EINVAL;
    int align = c->ints[RT_AFFINE_GRID_ALIGN_CORNERS] != 0;
    /* (d, h, w) with d = 1 in 2-D; the homogeneous point is (x, y[, z], 1) */
    int64_t ext[3] = {nsp == 3 ? y->dims[1] : 1, y->dims[nsp - 1], y->dims[nsp]};
    int64_t pts = ext[0] * ext[1] * ext[2], o = 0;
    for (int64_t b = 0; b < y->dims[0]; b++) {
        double t[12];
        for (int k = 0; k < nsp * (nsp + 1); k++)
            t[k] = rt_load_f64(in[0], th->dtype, b * nsp * (nsp + 1) + k);
        for (int64_t p = 0; p < pts; p++) {
            int64_t iw = p % ext[2], ih = p / ext[2] % ext[1], id = p / (ext[1] * ext[2]);
            double v[4] = {base(iw, ext[2], align), base(ih, ext[1], align),
                           nsp == 3 ? base(id, ext[0], align) : 1, 1};
            for (int k = 0; k < nsp; k++) {
                double s = 0;
                for (int j = 0; j <= nsp; j++)
                    s += t[k * (nsp + 1) + j] * v[j];
                rt_store_f64(out[0], y->dtype, o++, s);
            }
        }
    }
    return RT_OK;
}
