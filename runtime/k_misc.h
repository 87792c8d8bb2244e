/* k_misc.h: prototypes and parameter layouts of the "more tensor ops" kernels. */
#ifndef ONNXCC_K_MISC_H
#define ONNXCC_K_MISC_H

/* TopK of in[0] along one axis: out[0] values (in[0]'s dtype), out[1]
 * indices (int64). Ties keep the lower index first. Real dtypes only.
 * ints: [axis (non-negative), k, largest (0/1)]. */
int rt_topk(const RtCall *c, const void *const *in, void *const *out);

/* MeanVarianceNormalization: (x - mean) / (std + 1e-9) over the reduced axes,
 * as ONNX's function body defines it. Float dtypes.
 * ints: [mask] (bit a set: axis a is reduced). */
int rt_mvn(const RtCall *c, const void *const *in, void *const *out);

/* Det of the trailing [M, M] matrices of in[0] by LU with partial pivoting.
 * Float dtypes; M <= 64. ints: none. */
int rt_det(const RtCall *c, const void *const *in, void *const *out);

/* Einsum as one strided loop over every label: out[o] += prod in[k][i_k].
 * Float and integer dtypes (all operands share one dtype).
 * ints: [L, size_0 .. size_{L-1},
 *        then for each input k: stride of label 0 .. L-1 (elements, 0 if absent),
 *        then the output's strides for label 0 .. L-1 (0 for summed labels)]. */
int rt_einsum(const RtCall *c, const void *const *in, void *const *out);

/* GridSample (2-D) of in[0] [N, C, H, W] at in[1] [N, Ho, Wo, 2] (x, y in
 * [-1, 1]) into out[0] [N, C, Ho, Wo]. Float dtypes.
 * ints: [mode (0 bilinear, 1 nearest, 2 bicubic),
 *        padding (0 zeros, 1 border, 2 reflection), align_corners (0/1)]. */
int rt_gridsample(const RtCall *c, const void *const *in, void *const *out);

/* MaxUnpool: out[0] is zero except at in[1][i], which gets in[0][i]; the
 * indices are flat offsets into the default unpooled shape (as MaxPool's
 * Indices), placed at the same coordinates of out[0]'s possibly larger shape.
 * ints: [default shape d_0 .. d_{rank-1}]. */
int rt_maxunpool(const RtCall *c, const void *const *in, void *const *out);

/* RoiAlign of in[0] [N, C, H, W] over in[1] rois [R, 4] (x1, y1, x2, y2) of
 * images in[2] [R] into out[0] [R, C, oh, ow]. Float dtypes.
 * ints: [max mode (0 avg, 1 max), half_pixel (0/1), sampling_ratio];
 * floats: [spatial_scale]. */
int rt_roialign(const RtCall *c, const void *const *in, void *const *out);

#endif
