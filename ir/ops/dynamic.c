/* dynamic.c: shapes of ops whose output extent depends on data: NonZero, Unique, NonMaxSuppression. */
#include <string.h>

#include "ir.h"
#include "shape_util.h"

/* Each op states an upper bound for its data-dependent axis (ir_set_out_dyn):
 * the graph's buffers are sized by it and the kernel reports the actual
 * extent. With constant inputs, pass_shape folds the node and the outputs get
 * their exact shapes. */

/* The outputs the model declared: the extent output, once added, is not one. */
static int declared_outputs(const Node *n)
{
    int k = n->n_out;
    return k && n->out[k - 1] && n->out[k - 1]->is_extent ? k - 1 : k;
}

/* NonZero: int64 [rank, N], N <= numel(x). A scalar counts as rank 1, as
 * NumPy's nonzero does. */
int ir_infer_nonzero(Graph *g, Node *n, Diag *d)
{
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (x->dtype == RT_STRING)
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(x->dtype));
    int64_t dims[2] = {x->rank ? x->rank : 1, ir_numel(x)};
    return ir_set_out_dyn(g, n, 0, RT_I64, 2, dims, 1);
}

/* Unique (opset 11): the distinct slices of x along axis (elements of the
 * flattened x without it), sorted or in order of first occurrence. Y, indices
 * and counts have one entry per distinct slice; inverse_indices one per slice
 * of x, so its shape is static.
 * Kernel parameters: [sorted, outer, n, inner], x viewed as [outer, n, inner]
 * with n the slices compared. */
int ir_infer_unique(Graph *g, Node *n, Diag *d)
{
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (!rt_is_float(x->dtype) && !mv_is_int(x->dtype) && x->dtype != RT_BOOL)
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(x->dtype));
    int64_t outer = 1, len = ir_numel(x), inner = 1;
    int64_t ydims[IR_MAX_RANK];
    int yrank = 1, axis = 0;
    ydims[0] = len;
    if (ir_attr(n, "axis")) {
        axis = ir_axis(ir_attr_int(n, "axis", 0), x->rank);
        if (axis < 0 || x->rank == 0)
            return ir_node_error(d, n, "axis is out of range for rank %d", x->rank);
        yrank = x->rank;
        memcpy(ydims, x->dims, sizeof ydims);
        len = x->dims[axis];
        for (int i = 0; i < axis; i++)
            outer *= x->dims[i];
        for (int i = axis + 1; i < x->rank; i++)
            inner *= x->dims[i];
    }
    ir_param_int(n, RT_UNIQUE_SORTED, ir_attr_int(n, "sorted", 1) != 0);
    ir_param_int(n, RT_UNIQUE_OUTER, outer);
    ir_param_int(n, RT_UNIQUE_N, len);
    ir_param_int(n, RT_UNIQUE_INNER, inner);
    int k = declared_outputs(n);
    ir_set_out_dyn(g, n, 0, x->dtype, yrank, ydims, axis);
    for (int i = 1; i < k && i < 4; i++) {
        if (i == 2)
            ir_set_out(n, i, RT_I64, 1, &len);
        else
            ir_set_out_dyn(g, n, i, RT_I64, 1, &len, 0);
    }
    return 0;
}

/* NonMaxSuppression (opset 10/11): int64 [K, 3] rows (batch, class, box).
 * max_output_boxes_per_class, iou_threshold and score_threshold are read at
 * run time; K's bound is batches * classes * min(boxes, max_output_boxes_per_class)
 * when that input is a constant, else batches * classes * boxes.
 * Kernel parameters: [center_point_box]. */
int ir_infer_nms(Graph *g, Node *n, Diag *d)
{
    if (mv_need_input(d, n, 0) || mv_need_input(d, n, 1))
        return -1;
    const Value *boxes = n->in[0], *scores = n->in[1];
    if (boxes->dtype != RT_F32 || scores->dtype != RT_F32)
        return ir_node_error(d, n, "boxes and scores must be float32");
    if (boxes->rank != 3 || boxes->dims[2] != 4)
        return ir_node_error(d, n, "boxes must have shape [batches, boxes, 4]");
    if (scores->rank != 3 || scores->dims[0] != boxes->dims[0] ||
        scores->dims[2] != boxes->dims[1])
        return ir_node_error(d, n, "scores must have shape [batches, classes, boxes] "
                             "matching boxes");
    static const int want[3] = {RT_I64, RT_F32, RT_F32};
    for (int i = 2; i < 5; i++) {
        const Value *v = ir_input(n, i);
        if (v && (v->dtype != want[i - 2] || ir_numel(v) != 1))
            return ir_node_error(d, n, "input %d ('%s') must be one %s", i, v->name,
                                 rt_dtype_name(want[i - 2]));
    }
    int64_t center = ir_attr_int(n, "center_point_box", 0);
    if (center != 0 && center != 1)
        return ir_node_error(d, n, "center_point_box must be 0 or 1");
    int64_t per_class = boxes->dims[1], max_out = 0;
    const Value *mv = ir_input(n, 2);
    if (!mv)
        per_class = 0; /* the spec's default: no box is selected */
    else if (ir_const_ints(mv, &max_out, 1) == 1 && max_out < per_class)
        per_class = max_out < 0 ? 0 : max_out;
    ir_param_int(n, RT_NMS_CENTER_POINT_BOX, center);
    int64_t dims[2] = {boxes->dims[0] * scores->dims[1] * per_class, 3};
    return ir_set_out_dyn(g, n, 0, RT_I64, 2, dims, 0);
}
