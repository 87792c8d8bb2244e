/* k_col2im.c: Col2Im, the inverse of im2col: blocks of columns summed back into an image. */
#include <string.h>

#include "rt_internal.h"

typedef struct Col2ImJob {
    int nsp, dt;
    int64_t blocks, positions, plane; /* per channel: block taps, positions, image elements */
    const int64_t *img, *blk, *st, *dil, *pb, *grid;
    const void *x;
    void *y;
} Col2ImJob;

/* Output planes (n, c) [lo, hi): each zeroed, then every tap of every block
 * position that lands inside the image adds its column element; a plane
 * reads only its own C*prod(block) rows, so planes are independent. */
static void col2im_range(void *ctx, int64_t lo, int64_t hi)
{
    const Col2ImJob *j = ctx;
    int nsp = j->nsp;
    for (int64_t pl = lo; pl < hi; pl++) {
        int64_t xo = pl * j->blocks * j->positions, yo = pl * j->plane;
        if (j->dt == RT_F32)
            memset((float *)j->y + yo, 0, sizeof(float) * (size_t)j->plane);
        else
            for (int64_t i = 0; i < j->plane; i++)
                rt_store_f64(j->y, j->dt, yo + i, 0);
        for (int64_t b = 0; b < j->blocks; b++) {
            int64_t off[RT_MAX_RANK], r = b;
            for (int a = nsp - 1; a >= 0; a--) {
                off[a] = r % j->blk[a] * j->dil[a] - j->pb[a];
                r /= j->blk[a];
            }
            for (int64_t p = 0; p < j->positions; p++) {
                int64_t q = p, idx = 0, inside = 1;
                int64_t pos[RT_MAX_RANK];
                for (int a = nsp - 1; a >= 0; a--) {
                    pos[a] = q % j->grid[a] * j->st[a] + off[a];
                    q /= j->grid[a];
                    inside &= pos[a] >= 0 && pos[a] < j->img[a];
                }
                if (!inside)
                    continue;
                for (int a = 0; a < nsp; a++)
                    idx = idx * j->img[a] + pos[a];
                int64_t xi = xo + b * j->positions + p;
                if (j->dt == RT_F32)
                    ((float *)j->y)[yo + idx] += ((const float *)j->x)[xi];
                else
                    rt_store_f64(j->y, j->dt, yo + idx,
                                 rt_load_f64(j->y, j->dt, yo + idx) + rt_load_f64(j->x, j->dt, xi));
            }
        }
    }
}

int rt_col2im(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    if (!rt_is_float(x->dtype) || y->dtype != x->dtype)
        return RT_EDTYPE;
    if (c->n_ints < 1)
        return RT_EINVAL;
    int nsp = (int)c->ints[RT_COL2IM_NSP];
    if (nsp < 1 || nsp > RT_MAX_RANK - 2 || c->n_ints < RT_COL2IM_NINTS(nsp) || x->rank != 3 ||
        y->rank != nsp + 2)
        return RT_EINVAL;
    Col2ImJob j = {.nsp = nsp, .dt = x->dtype, .img = y->dims + 2,
                   .blk = c->ints + RT_COL2IM_BLOCK, .st = c->ints + RT_COL2IM_STRIDES(nsp),
                   .dil = c->ints + RT_COL2IM_DIL(nsp), .pb = c->ints + RT_COL2IM_PADS(nsp),
                   .grid = c->ints + RT_COL2IM_GRID(nsp), .x = in[0], .y = out[0]};
    j.blocks = rt_prod(j.blk, 0, nsp);
    j.positions = rt_prod(j.grid, 0, nsp);
    j.plane = rt_prod(j.img, 0, nsp);
    if (x->dims[2] != j.positions || x->dims[1] != y->dims[1] * j.blocks ||
        x->dims[0] != y->dims[0])
        return RT_EINVAL;
    int64_t work = j.blocks * j.positions;
    rt_parallel_for(y->dims[0] * y->dims[1], work >= 16384 ? 1 : 16384 / (work ? work : 1),
                    col2im_range, &j);
    return RT_OK;
}
