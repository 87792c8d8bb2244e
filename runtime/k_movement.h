/* k_movement.h: prototypes and parameter layouts of the movement and resize kernels. */
#ifndef ONNXCC_K_MOVEMENT_H
#define ONNXCC_K_MOVEMENT_H

/* Every movement kernel is dtype-generic: it moves elements by their size,
 * so any dtype with rt_dtype_size() > 0 works unless noted. Shapes come from
 * the RtCall descriptors; ints/floats hold only what the descriptors cannot. */

/* Reshape, Flatten, Squeeze, Unsqueeze, Identity: out[0] = in[0] byte for
 * byte. Extra inputs (Reshape's shape, Squeeze's axes) are ignored.
 * ints: none. */
int rt_copy(const RtCall *c, const void *const *in, void *const *out);

/* Dropout in inference: out[0] = in[0]; out[1] (the mask, if present) is all
 * true (bool) or all 1 (mask typed like the data, opset < 10).
 * ints: none. */
int rt_dropout(const RtCall *c, const void *const *in, void *const *out);

/* Transpose: out axis k is in axis ints[k].
 * ints: [perm_0 .. perm_{rank-1}]. */
int rt_transpose(const RtCall *c, const void *const *in, void *const *out);

/* Concat of in[0..n_in) along one axis (omitted inputs are skipped).
 * ints: [axis (non-negative)]. */
int rt_concat(const RtCall *c, const void *const *in, void *const *out);

/* Split of in[0] along one axis into out[0..n_out), sizes from the outputs.
 * ints: [axis (non-negative)]. */
int rt_split(const RtCall *c, const void *const *in, void *const *out);

/* Slice: out index j along axis k reads in index start_k + j * step_k; the
 * output extents are the descriptor's. Extra inputs are ignored.
 * ints: [start_0, step_0, start_1, step_1, ...] for every axis of in[0]. */
int rt_slice(const RtCall *c, const void *const *in, void *const *out);

/* Gather: out = in[0] indexed along axis by in[1] (any integer dtype;
 * negative indices count from the end). Returns RT_EINVAL for an index out
 * of range. ints: [axis (non-negative)]. */
int rt_gather(const RtCall *c, const void *const *in, void *const *out);

/* ConstantOfShape: fills out[0] with one value; inputs are ignored.
 * ints: [value]: for a float out dtype the bits of the value as an IEEE
 * double (memcpy'd into the int64), for any other dtype the value itself. */
int rt_fill(const RtCall *c, const void *const *in, void *const *out);

/* Pad modes (ONNX Pad 'mode'). */
enum { RT_PAD_CONSTANT = 0, RT_PAD_REFLECT = 1, RT_PAD_EDGE = 2, RT_PAD_WRAP = 3 };

/* Pad: out axis k = begin_k + in axis k + end_k, where end_k follows from the
 * descriptors. Negative pads crop first, and the mode then applies to the
 * cropped tensor (as ONNX Runtime does). The constant is in[2]'s first
 * element when that input is present (opset >= 11), else floats[0] (the
 * opset < 11 'value' attribute), else 0.
 * ints: [mode, begin_0 .. begin_{rank-1}]; floats: [] or [value]. */
int rt_pad(const RtCall *c, const void *const *in, void *const *out);

/* Expand: out = in[0] broadcast (NumPy rules) to out's shape. in[1] ignored.
 * ints: none. */
int rt_expand(const RtCall *c, const void *const *in, void *const *out);

/* Tile: out axis k repeats in axis k out_k / in_k times. in[1] ignored.
 * ints: none. */
int rt_tile(const RtCall *c, const void *const *in, void *const *out);

/* DepthToSpace / SpaceToDepth on NCHW (blocksize b).
 * ints: [b, mode]: mode 0 = DCR, 1 = CRD (DepthToSpace only). */
int rt_depth_to_space(const RtCall *c, const void *const *in, void *const *out);
int rt_space_to_depth(const RtCall *c, const void *const *in, void *const *out);

/* GatherElements: out[i..] = in[0][.. in[1][i..] at axis ..].
 * ints: [axis (non-negative)]. RT_EINVAL on an index out of range. */
int rt_gather_elements(const RtCall *c, const void *const *in, void *const *out);

/* Reduction applied by ScatterElements / ScatterND when indices collide. */
enum { RT_SCATTER_NONE = 0, RT_SCATTER_ADD = 1, RT_SCATTER_MUL = 2, RT_SCATTER_MAX = 3,
       RT_SCATTER_MIN = 4 };

/* ScatterElements (and the deprecated Scatter): out = in[0] with in[2]
 * written at in[1] along axis. ints: [axis (non-negative), reduction]. */
int rt_scatter_elements(const RtCall *c, const void *const *in, void *const *out);

/* GatherND. ints: [batch_dims]. */
int rt_gather_nd(const RtCall *c, const void *const *in, void *const *out);

/* ScatterND. ints: [reduction]. */
int rt_scatter_nd(const RtCall *c, const void *const *in, void *const *out);

/* Trilu on the last two axes of in[0]; in[1] (k) is read when present.
 * ints: [upper (0 or 1)]. */
int rt_trilu(const RtCall *c, const void *const *in, void *const *out);

/* CumSum along the axis given by in[1] (read at run time).
 * ints: [exclusive, reverse]. */
int rt_cumsum(const RtCall *c, const void *const *in, void *const *out);

/* OneHot: in[0] indices, in[2] = [off_value, on_value]; depth fixed by the
 * output shape. ints: [axis (non-negative, in the output)]. */
int rt_onehot(const RtCall *c, const void *const *in, void *const *out);

/* EyeLike: out is 2-D, ones on diagonal k. ints: [k]. */
int rt_eyelike(const RtCall *c, const void *const *in, void *const *out);

/* Range: out[i] = start + i * delta with start = in[0], delta = in[2]
 * (scalars of out's dtype). ints: none. */
int rt_range(const RtCall *c, const void *const *in, void *const *out);

/* Compress: slices of in[0] along axis whose condition in[1] is true (read
 * at run time; the count must match the output). ints: [axis, or -1 for the
 * flattened input]. */
int rt_compress(const RtCall *c, const void *const *in, void *const *out);

/* ReverseSequence: reverses the first in[1][b] entries along time_axis of
 * every batch b. ints: [batch_axis, time_axis]. */
int rt_reverse_sequence(const RtCall *c, const void *const *in, void *const *out);

/* ---- Resize (k_resize.c) ---- */
enum { RT_RESIZE_NEAREST = 0, RT_RESIZE_LINEAR = 1, RT_RESIZE_CUBIC = 2 };
enum {
    RT_COORD_HALF_PIXEL = 0,
    RT_COORD_PYTORCH_HALF_PIXEL = 1,
    RT_COORD_ALIGN_CORNERS = 2,
    RT_COORD_ASYMMETRIC = 3,
    RT_COORD_TF_HALF_PIXEL_FOR_NN = 4,
    RT_COORD_TF_CROP_AND_RESIZE = 5,
    RT_COORD_HALF_PIXEL_SYMMETRIC = 6
};
/* RT_NEAREST_SIMPLE is Resize-10's rounding as ONNX Runtime implements it:
 * floor on axes that grow, ceil on axes that shrink. */
enum { RT_NEAREST_ROUND_PREFER_FLOOR = 0, RT_NEAREST_ROUND_PREFER_CEIL = 1,
       RT_NEAREST_FLOOR = 2, RT_NEAREST_CEIL = 3, RT_NEAREST_SIMPLE = 4 };
#define RT_RESIZE_HEAD 4   /* ints before the per-axis block */
#define RT_RESIZE_PER_AXIS 4

/* Resize (and Upsample): every axis of in[0] is resampled to out's extent.
 * Nearest works for any dtype; linear and cubic for float dtypes.
 * ints: [mode, coordinate mode, nearest mode, exclude_outside, then per axis:
 *        scale, resized length (scale * input length, or the requested size),
 *        roi start, roi end], the per-axis values being IEEE double bits
 *        memcpy'd into the int64s (so a generated call keeps them exactly).
 * floats: [cubic_coeff_a, extrapolation_value]. */
int rt_resize(const RtCall *c, const void *const *in, void *const *out);

#endif
