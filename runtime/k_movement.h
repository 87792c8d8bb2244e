/* k_movement.h: prototypes and parameter layouts of the movement and resize kernels. */
#ifndef ONNXCC_K_MOVEMENT_H
#define ONNXCC_K_MOVEMENT_H

/* Every movement kernel is dtype-generic: it moves elements by their size,
 * so any dtype with rt_dtype_size() > 0 works unless noted. Shapes come from
 * the RtCall descriptors; ints/floats hold only what the descriptors cannot,
 * in the slots each kernel's enum names (no enum: no parameters). */

/* Reshape, Flatten, Squeeze, Unsqueeze, Identity: out[0] = in[0] byte for
 * byte. Extra inputs (Reshape's shape, Squeeze's axes) are ignored. */
int rt_copy(const RtCall *c, const void *const *in, void *const *out);

/* Dropout in inference: out[0] = in[0]; out[1] (the mask, if present) is all
 * true (bool) or all 1 (mask typed like the data, opset < 10). A
 * training_mode (in[2]) read when it runs that is true with a ratio (in[1],
 * default 0.5) above 0 would drop at random: RT_EUNSUPPORTED. */
int rt_dropout(const RtCall *c, const void *const *in, void *const *out);

/* Transpose: out axis k is in axis perm_k, one per axis of in[0]. */
enum { RT_TRANSPOSE_PERM };
int rt_transpose(const RtCall *c, const void *const *in, void *const *out);

/* Concat of in[0..n_in) along one non-negative axis (omitted inputs are
 * skipped). */
enum { RT_CONCAT_AXIS, RT_CONCAT_NINTS };
int rt_concat(const RtCall *c, const void *const *in, void *const *out);

/* Split of in[0] along one non-negative axis into out[0..n_out), sizes from
 * the outputs. */
enum { RT_SPLIT_AXIS, RT_SPLIT_NINTS };
int rt_split(const RtCall *c, const void *const *in, void *const *out);

/* Slice: out index j along axis k reads in index start_k + j * step_k; the
 * output extents are the descriptor's. Extra inputs are ignored. The ints
 * hold one (start, step) pair per axis of in[0]. */
enum { RT_SLICE_START, RT_SLICE_STEP, RT_SLICE_PER_AXIS };
#define RT_SLICE_AXIS(k) (RT_SLICE_PER_AXIS * (k))
int rt_slice(const RtCall *c, const void *const *in, void *const *out);

/* Gather: out = in[0] indexed along axis by in[1] (any integer dtype;
 * negative indices count from the end). Returns RT_EINVAL for an index out
 * of range. The axis is non-negative. */
enum { RT_GATHER_AXIS, RT_GATHER_NINTS };

/* The packed types' paths of Transpose/Slice (y[j] = x[base + index . st]),
 * Concat and Gather (k_narrow.c): element by element, as 4- and 2-bit
 * elements share bytes. */
void rt_packed_strided(void *dst, const void *src, int dtype, int64_t base, int rank,
                       const int64_t *dims, const int64_t *st);
int rt_concat_packed(const RtCall *c, const void *const *in, void *const *out);
int rt_gather_packed(const RtCall *c, const void *const *in, void *const *out);
int rt_gather(const RtCall *c, const void *const *in, void *const *out);

/* ConstantOfShape: fills out[0] with one value; inputs are ignored. For a
 * float out dtype the value slot holds the bits of the value as an IEEE
 * double (memcpy'd into the int64), for any other dtype the value itself;
 * no slot means 0. */
enum { RT_FILL_VALUE };
int rt_fill(const RtCall *c, const void *const *in, void *const *out);

/* Pad modes (ONNX Pad 'mode'). */
enum { RT_PAD_CONSTANT = 0, RT_PAD_REFLECT = 1, RT_PAD_EDGE = 2, RT_PAD_WRAP = 3 };

/* Pad: out axis k = begin_k + in axis k + end_k, where end_k follows from the
 * descriptors. Negative pads crop first, and the mode then applies to the
 * cropped tensor (as ONNX Runtime does). The constant is in[2]'s first
 * element when that input is present (opset >= 11), else the optional float
 * (the opset < 11 'value' attribute), else 0. The ints hold the mode
 * (RT_PAD_*), then begin_k for every axis k. */
enum { RT_PAD_MODE, RT_PAD_BEGIN };
enum { RT_PAD_F_VALUE };
int rt_pad(const RtCall *c, const void *const *in, void *const *out);

/* Expand: out = in[0] broadcast (NumPy rules) to out's shape. in[1] ignored. */
int rt_expand(const RtCall *c, const void *const *in, void *const *out);

/* Tile: out axis k repeats in axis k out_k / in_k times. in[1] ignored. */
int rt_tile(const RtCall *c, const void *const *in, void *const *out);

/* DepthToSpace / SpaceToDepth on NCHW (blocksize b); DepthToSpace's mode is
 * 0 for DCR, 1 for CRD. */
enum { RT_DEPTH_TO_SPACE_BLOCK, RT_DEPTH_TO_SPACE_MODE, RT_DEPTH_TO_SPACE_NINTS };
enum { RT_SPACE_TO_DEPTH_BLOCK, RT_SPACE_TO_DEPTH_NINTS };
int rt_depth_to_space(const RtCall *c, const void *const *in, void *const *out);
int rt_space_to_depth(const RtCall *c, const void *const *in, void *const *out);

/* GatherElements: out[i..] = in[0][.. in[1][i..] at axis ..], axis
 * non-negative. RT_EINVAL on an index out of range. */
enum { RT_GATHER_ELEMENTS_AXIS, RT_GATHER_ELEMENTS_NINTS };
int rt_gather_elements(const RtCall *c, const void *const *in, void *const *out);

/* Reduction applied by ScatterElements / ScatterND when indices collide. */
enum { RT_SCATTER_NONE = 0, RT_SCATTER_ADD = 1, RT_SCATTER_MUL = 2, RT_SCATTER_MAX = 3,
       RT_SCATTER_MIN = 4 };

/* ScatterElements (and the deprecated Scatter): out = in[0] with in[2]
 * written at in[1] along a non-negative axis, colliding with RT_SCATTER_*. */
enum { RT_SCATTER_ELEMENTS_AXIS, RT_SCATTER_ELEMENTS_REDUCTION, RT_SCATTER_ELEMENTS_NINTS };
int rt_scatter_elements(const RtCall *c, const void *const *in, void *const *out);

/* GatherND; batch_dims 0 when absent. */
enum { RT_GATHER_ND_BATCH_DIMS };
int rt_gather_nd(const RtCall *c, const void *const *in, void *const *out);

/* ScatterND; reduction RT_SCATTER_NONE when absent. */
enum { RT_SCATTER_ND_REDUCTION };
int rt_scatter_nd(const RtCall *c, const void *const *in, void *const *out);

/* Compress: slices of in[0] along axis whose condition in[1] is true (read
 * at run time; the count must match the output). The axis is -1 for the
 * flattened input. */
enum { RT_COMPRESS_AXIS, RT_COMPRESS_NINTS };
int rt_compress(const RtCall *c, const void *const *in, void *const *out);

/* ReverseSequence: reverses the first in[1][b] entries along time_axis of
 * every batch b. */
enum { RT_REVERSE_SEQUENCE_BATCH_AXIS, RT_REVERSE_SEQUENCE_TIME_AXIS,
       RT_REVERSE_SEQUENCE_NINTS };
int rt_reverse_sequence(const RtCall *c, const void *const *in, void *const *out);

/* ---- Resize (k_resize.c) ---- */
enum { RT_RESIZE_NEAREST = 0, RT_RESIZE_LINEAR = 1, RT_RESIZE_CUBIC = 2 };
/* OR'ed into a linear or cubic mode: antialias=1 (Resize-18). A shrinking
 * axis then widens the filter by 1 / scale and normalizes its weights, so an
 * output sample takes up to RT_RESIZE_AA_MAXTAPS inputs along each axis
 * (the compiler refuses scales that would need more). */
#define RT_RESIZE_ANTIALIAS 8
#define RT_RESIZE_AA_MAXTAPS 64
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

/* Resize (and Upsample): every axis of in[0] is resampled to out's extent.
 * Nearest works for any dtype; linear and cubic for float dtypes.
 * The ints hold the head (mode, coordinate mode, nearest mode,
 * exclude_outside), then per axis k from RT_RESIZE_AXIS(k): scale, resized
 * length (scale * input length, or the requested size), roi start, roi end,
 * the per-axis values being IEEE double bits memcpy'd into the int64s (so a
 * generated call keeps them exactly). */
enum { RT_RESIZE_MODE, RT_RESIZE_COORD, RT_RESIZE_NEAREST_MODE, RT_RESIZE_EXCLUDE_OUTSIDE,
       RT_RESIZE_HEAD };
enum { RT_RESIZE_SCALE, RT_RESIZE_LEN, RT_RESIZE_ROI_START, RT_RESIZE_ROI_END,
       RT_RESIZE_PER_AXIS };
#define RT_RESIZE_AXIS(k) (RT_RESIZE_HEAD + RT_RESIZE_PER_AXIS * (k))
enum { RT_RESIZE_F_CUBIC_A, RT_RESIZE_F_EXTRAPOLATION, RT_RESIZE_NFLOATS };
int rt_resize(const RtCall *c, const void *const *in, void *const *out);
/* OR'ed into the mode: scales, sizes or roi are read when the node runs
 * (rt_resize_values.c). The ints after the head then say how: the input
 * scales are (1 or 2; sizes are 3, roi 1), keep_aspect_ratio_policy, and
 * the axes they list; rt_resize_resolve turns them and the values into the
 * per-axis parameters above and the output extents. */
#define RT_RESIZE_VALUES 16
enum { RT_RESIZE_RT_SCALES = RT_RESIZE_HEAD, RT_RESIZE_RT_POLICY, RT_RESIZE_RT_NAXES,
       RT_RESIZE_RT_AXES };
enum { RT_RESIZE_POLICY_STRETCH, RT_RESIZE_POLICY_NOT_LARGER, RT_RESIZE_POLICY_NOT_SMALLER };
int rt_resize_resolve(const RtCall *c, const RtTensorDesc *desc, const void *const *d,
                      int64_t *params, int64_t *dims);
/* Resize's run-time shape function (an RtShapeFn). */
int rt_shape_resize(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out);

/* CenterCropPad (k_center_crop.c): out index j along axis k reads in index
 * j + offset_k, zero where that falls outside in[0] (a positive offset crops
 * the front, a negative one pads it). The ints hold one offset per axis. */
enum { RT_CENTER_CROP_OFFSET };
int rt_center_crop_pad(const RtCall *c, const void *const *in, void *const *out);

#endif
