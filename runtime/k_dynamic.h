/* k_dynamic.h: prototypes and parameter layouts of the kernels whose output extent depends on data. */
#ifndef ONNXCC_K_DYNAMIC_H
#define ONNXCC_K_DYNAMIC_H

/* Each of these kernels has a bounded dynamic output: out's descriptor gives
 * the upper bound along one axis, the kernel writes the actual extent into
 * its LAST output (an int64 scalar) and writes each dynamic output row-major
 * with that extent, never past the bound. They use no scratch memory. */

/* NonZero of in[0] (any numeric dtype or bool): out[0] int64 [rank, N], the
 * coordinates of the N non-zero elements in row-major order; out[1] = N. */
int rt_nonzero(const RtCall *c, const void *const *in, void *const *out);

/* Unique of in[0] viewed as [outer, n, inner]: the distinct slices x[:, i, :]
 * (compared lexicographically), ascending or in order of first occurrence.
 * out[0] Y (in[0]'s dtype) holds them as [outer, U, inner]; out[1] indices
 * (first occurrence of each), out[2] inverse_indices (per slice of x: its
 * position in Y), out[3] counts, all int64; out[c->n_out - 1] = U. Any of
 * out[0..3] may be NULL or absent (c->n_out - 1 of them are present).
 * O(n^2) slice comparisons, in exchange for no scratch memory. */
enum { RT_UNIQUE_SORTED, RT_UNIQUE_OUTER, RT_UNIQUE_N, RT_UNIQUE_INNER, RT_UNIQUE_NINTS };
int rt_unique(const RtCall *c, const void *const *in, void *const *out);

/* NonMaxSuppression of in[0] boxes [B, N, 4] by in[1] scores [B, C, N]
 * (float32), with in[2] max_output_boxes_per_class (int64, absent: 0),
 * in[3] iou_threshold and in[4] score_threshold (float32; absent: 0 and no
 * score filter). Per batch and class, boxes go by descending score (ties:
 * lower index first); a box is kept unless its IoU with a kept box of the
 * same class exceeds the threshold. out[0] int64 [K, 3] rows (batch, class,
 * box) in that order; out[1] = K.
 * center_point_box 0: boxes are [y1, x1, y2, x2], 1: [xc, yc, w, h]. */
enum { RT_NMS_CENTER_POINT_BOX, RT_NMS_NINTS };
int rt_nms(const RtCall *c, const void *const *in, void *const *out);

#endif
