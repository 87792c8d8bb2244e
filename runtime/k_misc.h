/* k_misc.h: prototypes and parameter layouts of the "more tensor ops" kernels. */
#ifndef ONNXCC_K_MISC_H
#define ONNXCC_K_MISC_H

/* TopK of in[0] along one axis: out[0] values (in[0]'s dtype), out[1]
 * indices (int64), along a non-negative axis. Ties keep the lower index
 * first. Real dtypes only. */
enum { RT_TOPK_AXIS, RT_TOPK_K, RT_TOPK_LARGEST, RT_TOPK_NINTS };
int rt_topk(const RtCall *c, const void *const *in, void *const *out);

/* MeanVarianceNormalization: (x - mean) / (std + 1e-9) over the reduced axes,
 * as ONNX's function body defines it. Float dtypes. Bit a of the mask set:
 * axis a is reduced. */
enum { RT_MVN_MASK, RT_MVN_NINTS };
int rt_mvn(const RtCall *c, const void *const *in, void *const *out);

/* Det of the trailing [M, M] matrices of in[0] by LU with partial pivoting.
 * Float dtypes; M <= 64. */
int rt_det(const RtCall *c, const void *const *in, void *const *out);

/* Einsum as one strided loop over every label: out[o] += prod in[k][i_k].
 * Float and integer dtypes (all operands share one dtype). The ints hold
 * the label count L and the L label sizes, then for each input k from
 * RT_EINSUM_STRIDES(L, k) the stride of label 0 .. L-1 (elements, 0 if
 * absent), then the output's (k = n_in; 0 for summed labels). */
enum { RT_EINSUM_L, RT_EINSUM_SIZES };
#define RT_EINSUM_STRIDES(L, k) (RT_EINSUM_SIZES + (L) * (1 + (k)))
#define RT_EINSUM_NINTS(L, n_in) RT_EINSUM_STRIDES(L, (n_in) + 1)
int rt_einsum(const RtCall *c, const void *const *in, void *const *out);

/* GridSample (2-D) of in[0] [N, C, H, W] at in[1] [N, Ho, Wo, 2] (x, y in
 * [-1, 1]) into out[0] [N, C, Ho, Wo], or (3-D) of [N, C, D, H, W] at
 * [N, Do, Ho, Wo, 3] (x, y, z) into [N, C, Do, Ho, Wo]. Float dtypes. Mode 0
 * is (bi/tri)linear, 1 nearest, 2 bicubic (2-D only); padding 0 zeros,
 * 1 border, 2 reflection. */
enum { RT_GRIDSAMPLE_MODE, RT_GRIDSAMPLE_PADDING, RT_GRIDSAMPLE_ALIGN_CORNERS,
       RT_GRIDSAMPLE_NINTS };
int rt_gridsample(const RtCall *c, const void *const *in, void *const *out);

/* AffineGrid (k_affine_grid.c) of theta in[0] [N, 2, 3] into out[0]
 * [N, H, W, 2], or [N, 3, 4] into [N, D, H, W, 3]: out = theta * (x, y[, z], 1)
 * at each point's normalized coordinates, pixel centres in (-1, 1) or, with
 * align_corners, the corner pixels at -1 and 1. Float dtypes. */
enum { RT_AFFINE_GRID_ALIGN_CORNERS, RT_AFFINE_GRID_NINTS };
int rt_affine_grid(const RtCall *c, const void *const *in, void *const *out);

/* MaxUnpool: out[0] is zero except at in[1][i], which gets in[0][i]; the
 * indices are flat offsets into the default unpooled shape (as MaxPool's
 * Indices), placed at the same coordinates of out[0]'s possibly larger shape.
 * The ints hold the default shape, one extent per axis. */
enum { RT_MAXUNPOOL_DIMS };
int rt_maxunpool(const RtCall *c, const void *const *in, void *const *out);

/* RoiAlign of in[0] [N, C, H, W] over in[1] rois [R, 4] (x1, y1, x2, y2) of
 * images in[2] [R] into out[0] [R, C, oh, ow]. Float dtypes. MAX 0
 * averages, 1 takes the maximum. */
enum { RT_ROIALIGN_MAX, RT_ROIALIGN_HALF_PIXEL, RT_ROIALIGN_SAMPLING_RATIO,
       RT_ROIALIGN_NINTS };
enum { RT_ROIALIGN_F_SPATIAL_SCALE, RT_ROIALIGN_NFLOATS };
int rt_roialign(const RtCall *c, const void *const *in, void *const *out);

#endif
