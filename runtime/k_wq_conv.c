/* k_wq_conv.c: ConvWQ, Conv with weight-only quantized W decoded into the GEMM's panels. */
#include <string.h>

#include "k_wq.h"
#include "k_wq_internal.h"
#include "rt_internal.h"

_Static_assert(RT_CONVWQ(1) == RT_CONV_WINO(1) + 1 && RT_CONVWQ(3) == RT_CONV_WINO(3) + 1,
               "ConvWQ's own ints follow Conv's optional slots");
_Static_assert((int)RT_CONVWQ_F_TSCALE == (int)RT_CONV_NFLOATS,
               "tensor_scale follows Conv's floats");

/* The float Conv's kernel (k_conv.c) does the work: the same implicit
 * im2col (or the 1x1 input as it is) on one side of its GEMM, and on the
 * other, instead of float W, wq_pack_panels: each KC x MR (or NR) block of
 * W decoded and scaled as the GEMM asks for it, straight into the panel the
 * micro-kernel reads. No float copy of W exists; a weight is decoded once
 * per image and group for every pixel of the output, so the decode costs
 * 1/(output pixels) of the multiply-adds, and the bias, the sum input Z and
 * the activation ride the GEMM's epilogue as for FusedConv. The product
 * keeps the orientation k_conv.c picks for the shape (W as A with pixels
 * along the vectors, or transposed for small maps). tensor_scale (NVFP4)
 * is the GEMM's alpha: the bias and Z are added after it, as the float
 * model has them. */
int rt_conv_wq(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 2 || c->n_in > 4 || c->n_ints <= RT_CONV_NSP)
        return RT_EINVAL;
    int64_t nsp = c->ints[RT_CONV_NSP];
    if (nsp < 1 || nsp > 3 || c->n_ints < RT_CONVWQ(nsp) + RT_CONVWQ_KERNEL + nsp)
        return RT_EINVAL;
    const int64_t *q = c->ints + RT_CONVWQ(nsp);
    int fmt = (int)q[RT_CONVWQ_FORMAT];
    int64_t n = q[RT_CONVWQ_N], k = q[RT_CONVWQ_K], group = q[RT_CONVWQ_GROUP];
    int64_t win = 1;
    for (int i = 0; i < nsp; i++)
        win *= q[RT_CONVWQ_KERNEL + i] >= 1 ? q[RT_CONVWQ_KERNEL + i] : 0;
    size_t bb = group >= 1 && group <= 1 << 30 ? rt_wq_block_bytes(fmt, (int)group) : 0;
    const RtTensorDesc *x = &c->in[0], *w = &c->in[1];
    if (!bb || n < 1 || win < 1 || k % win || x->rank != nsp + 2 || w->dtype != RT_U8 ||
        w->rank != 2 || w->dims[0] != n ||
        w->dims[1] != (int64_t)rt_wq_row_bytes(fmt, k, (int)group) ||
        c->n_floats < RT_CONVWQ_NFLOATS)
        return RT_EINVAL;
    /* the call as the float Conv's: W's descriptor [N, K / window, k...]
     * gives it the window; its own ints and floats end before ConvWQ's */
    RtTensorDesc d[4];
    memcpy(d, c->in, sizeof *d * (size_t)c->n_in);
    d[1].dtype = RT_F32;
    d[1].rank = (int32_t)(nsp + 2);
    d[1].dims[0] = n;
    d[1].dims[1] = k / win;
    for (int i = 0; i < nsp; i++)
        d[1].dims[2 + i] = q[RT_CONVWQ_KERNEL + i];
    RtCall fc = *c;
    fc.in = d;
    fc.n_ints = RT_CONVWQ(nsp);
    fc.n_floats = RT_CONV_NFLOATS;
    WqJob j;
    memset(&j, 0, sizeof j);
    j.fmt = fmt;
    j.group = (int)group;
    j.gp = wq_group_padded(fmt, (int)group);
    j.hdr = wq_block_header(fmt);
    j.k = k;
    j.ng = (k + group - 1) / group;
    j.bb = bb;
    j.w = in[1];
    return rt_conv_wpacked(&fc, in, out, wq_pack_panels, &j, c->floats[RT_CONVWQ_F_TSCALE]);
}
