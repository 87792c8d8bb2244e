/* movement.c: shapes and kernel parameters of the reshaping and data-movement ops. */
#include <stdint.h>
#include <string.h>

#include "ir.h"
#include "shape_util.h"

/* ---- ops whose kernel is a plain copy ---- */

/* Reshape-5+ takes the shape as an input, Reshape-1 as an attribute; 0 copies
 * the input's extent unless allowzero (opset 14) makes it a real 0. */
/* A shape known only when the node runs: the rank is its length, and every
 * extent is at most the input's count (their product is that count) or its
 * largest extent; ir_rt_node plans the buffer for the count itself. */
static int reshape_at_run_time(Node *n, const Value *x, const Value *s, Diag *d)
{
    int64_t dims[IR_MAX_RANK], total = ir_max_numel(x);
    if (s->dims[0] > IR_MAX_RANK)
        return ir_node_error(d, n, "input 1 (shape) has %lld values; at most %d are supported",
                             (long long)s->dims[0], IR_MAX_RANK);
    if (s->dtype != RT_I64)
        return ir_node_error(d, n, "input 1 (shape) must be int64, not %s",
                             rt_dtype_name(s->dtype));
    /* a 0 may copy an input extent, or (allowzero, an empty input) move one */
    int64_t bound = total;
    for (int k = 0; k < x->rank; k++)
        bound = x->dims[k] > bound ? x->dims[k] : bound;
    for (int k = 0; k < s->dims[0]; k++)
        dims[k] = bound;
    int allowzero = n->opset >= 14 ? (int)ir_attr_int(n, "allowzero", 0) : 0;
    ir_param_int(n, RT_RESHAPE_ALLOWZERO, allowzero);
    return ir_set_out(n, 0, x->dtype, (int)s->dims[0], dims);
}

int ir_infer_reshape(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int64_t shape[IR_MAX_RANK], dims[IR_MAX_RANK];
    int r;
    if (n->opset < 5) {
        r = mv_attr_list(d, n, "shape", shape, IR_MAX_RANK);
        if (r == -1)
            return ir_node_error(d, n, "attribute 'shape' is missing");
    } else {
        const Value *s = ir_input(n, 1);
        if (!s)
            return ir_node_error(d, n, "input 1 (shape) is missing");
        if (s->rank != 1)
            return ir_node_error(d, n, "input 1 (shape) must be 1-D, not rank %d", s->rank);
        if (ir_rt_unknown(s) && mv_is_int(s->dtype))
            return reshape_at_run_time(n, x, s, d);
        r = mv_const_list(d, n, 1, shape, IR_MAX_RANK);
    }
    if (r < 0)
        return -1;
    int allowzero = n->opset >= 14 ? (int)ir_attr_int(n, "allowzero", 0) : 0;
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < r; i++) {
        int64_t v = shape[i];
        if (v == 0 && !allowzero) {
            if (i >= x->rank)
                return ir_node_error(d, n, "shape[%d] is 0 (copy the input's dim) but the "
                                     "input has rank %d", i, x->rank);
            v = x->dims[i];
        }
        if (v == -1) {
            if (infer >= 0)
                return ir_node_error(d, n, "shape has more than one -1");
            infer = i;
            continue;
        }
        if (v < -1)
            return ir_node_error(d, n, "shape[%d] is %lld", i, (long long)v);
        dims[i] = v;
        if (v && known > INT64_MAX / v)
            return ir_node_error(d, n, "shape has more elements than fit in 64 bits");
        known *= v;
    }
    int64_t total = ir_max_numel(x);
    if (infer >= 0) {
        if (known == 0)
            return ir_node_error(d, n, "shape has both -1 and a 0 dim, so -1 is ambiguous");
        if (total % known)
            return ir_node_error(d, n, "cannot reshape %lld elements with a -1 into a shape "
                                 "whose other dims hold %lld", (long long)total, (long long)known);
        dims[infer] = total / known;
    } else if (known != total) {
        return ir_node_error(d, n, "cannot reshape %lld elements into a shape of %lld",
                             (long long)total, (long long)known);
    }
    ir_param_int(n, RT_RESHAPE_ALLOWZERO, allowzero);
    return ir_set_out(n, 0, x->dtype, r, dims);
}

int ir_infer_flatten(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int r = x->rank;
    int64_t axis = ir_attr_int(n, "axis", 1);
    if (axis < -r || axis > r)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d", (long long)axis, r);
    if (axis < 0)
        axis += r;
    int64_t dims[2] = {1, 1};
    for (int k = 0; k < r; k++)
        dims[k >= axis] *= x->dims[k];
    ir_param_int(n, RT_FLATTEN_AXIS, axis);
    return ir_set_out(n, 0, x->dtype, 2, dims);
}

/* Squeeze-13+ takes axes as an input, earlier versions as an attribute; no
 * axes means every axis of extent 1. */
/* Squeeze (insert 0) or Unsqueeze (1) whose axes are known only when it
 * runs: the rank follows from their count, and each extent is at most the
 * input's largest (or 1). */
static int axes_at_run_time(Node *n, const Value *x, const Value *axes, int insert, Diag *d)
{
    if (axes->rank != 1 || axes->dtype != RT_I64)
        return ir_node_error(d, n, "input 1 (axes) must be a 1-D int64 tensor");
    int64_t k = axes->dims[0], r = insert ? x->rank + k : x->rank - k, most = 1;
    if (r < 0 || r > IR_MAX_RANK)
        return ir_node_error(d, n, "%lld axes make an output of rank %lld, outside 0..%d",
                             (long long)k, (long long)r, IR_MAX_RANK);
    int64_t dims[IR_MAX_RANK];
    for (int a = 0; a < x->rank; a++)
        most = x->dims[a] > most ? x->dims[a] : most;
    for (int a = 0; a < r; a++)
        dims[a] = most;
    ir_param_int(n, RT_AXES_INSERT, insert);
    return ir_set_out(n, 0, x->dtype, (int)r, dims);
}

int ir_infer_squeeze(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int r = x->rank, mark[IR_MAX_RANK];
    int64_t axes[IR_MAX_RANK], dims[IR_MAX_RANK];
    if (n->opset >= 13 && ir_rt_unknown(ir_input(n, 1)))
        return axes_at_run_time(n, x, n->in[1], 0, d);
    int k = n->opset >= 13 ? mv_const_list(d, n, 1, axes, IR_MAX_RANK)
                           : mv_attr_list(d, n, "axes", axes, IR_MAX_RANK);
    if (k == -2)
        return -1;
    if (k < 0) {
        for (int a = 0; a < r; a++)
            mark[a] = x->dims[a] == 1;
    } else {
        if (mv_axes(d, n, axes, k, r, mark))
            return -1;
        for (int a = 0; a < r; a++)
            if (mark[a] && x->dims[a] != 1)
                return ir_node_error(d, n, "cannot squeeze axis %d of extent %lld", a,
                                     (long long)x->dims[a]);
    }
    int o = 0;
    int64_t from[IR_MAX_RANK];
    for (int a = 0; a < r; a++)
        if (!mark[a]) {
            from[o] = a;
            dims[o++] = x->dims[a];
        }
    ir_param_ints(n, RT_AXISMAP_FROM, from, o);
    return ir_set_out(n, 0, x->dtype, o, dims);
}

int ir_infer_unsqueeze(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int64_t axes[IR_MAX_RANK], dims[IR_MAX_RANK];
    int mark[IR_MAX_RANK];
    if (n->opset >= 13 && ir_rt_unknown(ir_input(n, 1)))
        return axes_at_run_time(n, x, n->in[1], 1, d);
    int k = n->opset >= 13 ? mv_const_list(d, n, 1, axes, IR_MAX_RANK)
                           : mv_attr_list(d, n, "axes", axes, IR_MAX_RANK);
    if (k == -2)
        return -1;
    if (k < 0)
        return ir_node_error(d, n, "axes are missing");
    int r = x->rank + k;
    if (r > IR_MAX_RANK)
        return ir_node_error(d, n, "output rank %d exceeds onnxcc's limit of %d", r,
                             IR_MAX_RANK);
    if (mv_axes(d, n, axes, k, r, mark))
        return -1;
    int64_t from[IR_MAX_RANK];
    for (int a = 0, i = 0; a < r; a++) {
        from[a] = mark[a] ? -1 : i;
        dims[a] = mark[a] ? 1 : x->dims[i++];
    }
    ir_param_ints(n, RT_AXISMAP_FROM, from, r);
    return ir_set_out(n, 0, x->dtype, r, dims);
}

int ir_infer_identity(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (x->kind != VK_TENSOR) {
        /* a sequence or optional: the output is the same structure */
        if (n->out[0])
            ir_alias_structure(n->out[0], x);
        ir_node_kill(n);
        return 0;
    }
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* onnxcc compiles inference, where Dropout is the identity and its mask all
 * true. Training mode (opset 12+ input 2) only works with ratio 0, which
 * drops nothing. */
int ir_infer_dropout(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0], *t = ir_input(n, 2);
    if (n->opset >= 12 && t) {
        double train, ratio = 0.5;
        const Value *rv = ir_input(n, 1);
        /* a training_mode or ratio known only when it runs is read by the
         * kernel, which refuses training with a ratio above 0 */
        if (t->rank != 0 && ir_numel(t) != 1)
            return ir_node_error(d, n, "training_mode must be a scalar");
        if (rv && ir_numel(rv) != 1)
            return ir_node_error(d, n, "ratio must be a scalar");
        if (!ir_const_scalar(t, &train) && train != 0 && (!rv || !ir_const_scalar(rv, &ratio)) &&
            ratio != 0)
            return ir_node_error(d, n, "training_mode=true is not supported: onnxcc compiles "
                                 "inference only");
    }
    ir_set_out(n, 0, x->dtype, x->rank, x->dims);
    if (n->n_out > 1)
        ir_set_out(n, 1, n->opset >= 10 ? RT_BOOL : x->dtype, x->rank, x->dims);
    return 0;
}

int ir_infer_transpose(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int r = x->rank, seen[IR_MAX_RANK] = {0};
    int64_t perm[IR_MAX_RANK], dims[IR_MAX_RANK];
    int k = mv_attr_list(d, n, "perm", perm, IR_MAX_RANK);
    if (k == -2)
        return -1;
    if (k < 0) {
        for (int i = 0; i < r; i++)
            perm[i] = r - 1 - i;
        k = r;
    }
    if (k != r)
        return ir_node_error(d, n, "perm has %d entries for an input of rank %d", k, r);
    for (int i = 0; i < r; i++) {
        if (perm[i] < 0 || perm[i] >= r || seen[perm[i]])
            return ir_node_error(d, n, "perm is not a permutation of 0..%d", r - 1);
        seen[perm[i]] = 1;
        dims[i] = x->dims[perm[i]];
        ir_param_int(n, RT_TRANSPOSE_PERM + i, perm[i]);
    }
    return ir_set_out(n, 0, x->dtype, r, dims);
}

int ir_infer_concat(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (n->n_in < 1)
        return ir_node_error(d, n, "needs at least one input");
    for (int i = 0; i < n->n_in; i++)
        if (mv_need_input(d, n, i))
            return -1;
    const Value *x = n->in[0];
    int r = x->rank;
    const Attr *at = ir_attr(n, "axis");
    if (!at && n->opset >= 4)
        return ir_node_error(d, n, "attribute 'axis' is missing");
    int64_t axis_attr = ir_attr_int(n, "axis", 1);
    int axis = ir_axis(axis_attr, r);
    if (r == 0 || axis < 0)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d",
                             (long long)axis_attr, r);
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = 0;
    for (int i = 0; i < n->n_in; i++) {
        const Value *v = n->in[i];
        if (v->dtype != x->dtype)
            return ir_node_error(d, n, "input %d is %s but input 0 is %s", i,
                                 rt_dtype_name(v->dtype), rt_dtype_name(x->dtype));
        if (v->rank != r)
            return ir_node_error(d, n, "input %d has rank %d but input 0 has rank %d", i,
                                 v->rank, r);
        for (int k = 0; k < r; k++)
            if (k != axis && v->dims[k] != x->dims[k])
                return ir_node_error(d, n, "input %d has extent %lld on axis %d, input 0 has "
                                     "%lld", i, (long long)v->dims[k], k,
                                     (long long)x->dims[k]);
        dims[axis] += v->dims[axis];
    }
    ir_param_int(n, RT_CONCAT_AXIS, axis);
    return ir_set_out(n, 0, x->dtype, r, dims);
}

/* Split sizes come from the 'split' attribute (opset 2-12), the 'split'
 * input (opset 1 and 13+), or equal parts; opset 18 lets the last part be
 * smaller when num_outputs does not divide the axis. */
int ir_infer_split(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int r = x->rank;
    int64_t axis_attr = ir_attr_int(n, "axis", 0);
    int axis = ir_axis(axis_attr, r);
    if (r == 0 || axis < 0)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d",
                             (long long)axis_attr, r);
    int nout = n->n_out;
    if (nout < 1 || nout > IR_MAX_INTS)
        return ir_node_error(d, n, "%d outputs; onnxcc supports 1 to %d", nout, IR_MAX_INTS);
    int64_t sizes[IR_MAX_INTS], dim = x->dims[axis];
    int k;
    if (ir_rt_value_inputs(n)) {
        /* sizes read when it runs: each part at most the whole axis */
        const Value *s = n->in[1];
        if (s->rank != 1 || !mv_is_int(s->dtype) || s->dims[0] != nout)
            return ir_node_error(d, n, "split must be a 1-D integer tensor of %d sizes", nout);
        for (int i = 0; i < nout; i++)
            ir_set_out(n, i, x->dtype, r, x->dims);
        ir_param_int(n, RT_SPLIT_AXIS, axis);
        return 0;
    }
    if (n->opset >= 13) {
        k = mv_const_list(d, n, 1, sizes, IR_MAX_INTS);
    } else {
        k = mv_attr_list(d, n, "split", sizes, IR_MAX_INTS);
        if (k == -1 && n->opset < 2)
            k = mv_const_list(d, n, 1, sizes, IR_MAX_INTS);
    }
    if (k == -2)
        return -1;
    if (k >= 0) {
        if (k != nout)
            return ir_node_error(d, n, "split has %d sizes for %d outputs", k, nout);
        int64_t sum = 0;
        for (int i = 0; i < k; i++) {
            if (sizes[i] < 0 || sizes[i] > dim)
                return ir_node_error(d, n, "split size %lld is out of range",
                                     (long long)sizes[i]);
            sum += sizes[i];
        }
        if (sum != dim)
            return ir_node_error(d, n, "split sizes add up to %lld but the axis has %lld",
                                 (long long)sum, (long long)dim);
    } else {
        int64_t parts = n->opset >= 18 ? ir_attr_int(n, "num_outputs", nout) : nout;
        if (parts != nout)
            return ir_node_error(d, n, "num_outputs is %lld but the node has %d outputs",
                                 (long long)parts, nout);
        int64_t chunk = dim / nout;
        if (dim % nout) {
            if (n->opset < 18)
                return ir_node_error(d, n, "an axis of %lld cannot be split evenly into %d "
                                     "outputs", (long long)dim, nout);
            chunk = (dim + nout - 1) / nout;
            if (dim - chunk * (nout - 1) < 0)
                return ir_node_error(d, n, "an axis of %lld cannot be split into %d outputs",
                                     (long long)dim, nout);
        }
        for (int i = 0; i < nout; i++)
            sizes[i] = i < nout - 1 ? chunk : dim - chunk * (nout - 1);
    }
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    for (int i = 0; i < nout; i++) {
        dims[axis] = sizes[i];
        ir_set_out(n, i, x->dtype, r, dims);
    }
    ir_param_int(n, RT_SPLIT_AXIS, axis);
    return 0;
}

/* Slice (opset 1: attributes; 10+: inputs with optional axes and steps).
 * Starts and ends are clamped as the ONNX spec says: to [0, dim] for a
 * positive step and to [0, dim - 1] / [-1, dim - 1] for a negative one. */
int ir_infer_slice(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int r = x->rank;
    if (r == 0)
        return ir_node_error(d, n, "cannot slice a scalar");
    int64_t starts[IR_MAX_RANK], ends[IR_MAX_RANK], axes[IR_MAX_RANK], steps[IR_MAX_RANK];
    int ns, ne, na, nst;
    if (ir_rt_value_inputs(n)) {
        /* read when it runs (no parameters): each extent at most the input's */
        for (int i = 1; i < n->n_in && i < 5; i++)
            if (n->in[i] && (n->in[i]->rank != 1 || !mv_is_int(n->in[i]->dtype)))
                return ir_node_error(d, n, "input %d ('%s') must be a 1-D integer tensor", i,
                                     n->in[i]->name);
        if (!ir_input(n, 2))
            return ir_node_error(d, n, "starts and ends are required");
        return ir_set_out(n, 0, x->dtype, r, x->dims);
    }
    if (n->opset < 10) {
        ns = mv_attr_list(d, n, "starts", starts, IR_MAX_RANK);
        ne = mv_attr_list(d, n, "ends", ends, IR_MAX_RANK);
        na = mv_attr_list(d, n, "axes", axes, IR_MAX_RANK);
        nst = -1;
    } else {
        ns = mv_const_list(d, n, 1, starts, IR_MAX_RANK);
        ne = ns == -2 ? -2 : mv_const_list(d, n, 2, ends, IR_MAX_RANK);
        na = ne == -2 ? -2 : mv_const_list(d, n, 3, axes, IR_MAX_RANK);
        nst = na == -2 ? -2 : mv_const_list(d, n, 4, steps, IR_MAX_RANK);
    }
    if (ns == -2 || ne == -2 || na == -2 || nst == -2)
        return -1;
    if (ns < 0 || ne < 0)
        return ir_node_error(d, n, "starts and ends are required");
    if (ne != ns || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return ir_node_error(d, n, "starts, ends, axes and steps differ in length");
    if (na < 0)
        for (int i = 0; i < ns; i++)
            axes[i] = i;
    if (nst < 0)
        for (int i = 0; i < ns; i++)
            steps[i] = 1;
    int mark[IR_MAX_RANK];
    if (mv_axes(d, n, axes, ns, r, mark))
        return -1;
    int64_t start[IR_MAX_RANK], step[IR_MAX_RANK], dims[IR_MAX_RANK];
    for (int a = 0; a < r; a++) {
        start[a] = 0;
        step[a] = 1;
        dims[a] = x->dims[a];
    }
    for (int i = 0; i < ns; i++) {
        int a = ir_axis(axes[i], r);
        int64_t dim = x->dims[a], s = starts[i], e = ends[i], st = steps[i], len;
        if (st == 0)
            return ir_node_error(d, n, "step of axis %d is 0", a);
        if (st == INT64_MIN)
            st = -INT64_MAX;
        if (s < 0)
            s += dim;
        if (e < 0)
            e += dim;
        if (st > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            e = e < 0 ? 0 : e > dim ? dim : e;
            len = e > s ? (e - s - 1) / st + 1 : 0;
        } else {
            s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            len = s > e ? (s - e - 1) / -st + 1 : 0;
        }
        start[a] = len ? s : 0;
        step[a] = st;
        dims[a] = len;
    }
    for (int a = 0; a < r; a++) {
        ir_param_int(n, RT_SLICE_AXIS(a) + RT_SLICE_START, start[a]);
        ir_param_int(n, RT_SLICE_AXIS(a) + RT_SLICE_STEP, step[a]);
    }
    return ir_set_out(n, 0, x->dtype, r, dims);
}

int ir_infer_gather(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0) || mv_need_input(d, n, 1))
        return -1;
    const Value *x = n->in[0], *ix = n->in[1];
    if (ix->dtype != RT_I32 && ix->dtype != RT_I64)
        return ir_node_error(d, n, "indices must be int32 or int64, not %s",
                             rt_dtype_name(ix->dtype));
    int r = x->rank;
    int64_t axis_attr = ir_attr_int(n, "axis", 0);
    int axis = ir_axis(axis_attr, r);
    if (r == 0 || axis < 0)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d",
                             (long long)axis_attr, r);
    int orank = r - 1 + ix->rank;
    if (orank > IR_MAX_RANK)
        return ir_node_error(d, n, "output rank %d exceeds onnxcc's limit of %d", orank,
                             IR_MAX_RANK);
    int64_t dims[IR_MAX_RANK], dim = x->dims[axis];
    int o = 0;
    for (int k = 0; k < axis; k++)
        dims[o++] = x->dims[k];
    for (int k = 0; k < ix->rank; k++)
        dims[o++] = ix->dims[k];
    for (int k = axis + 1; k < r; k++)
        dims[o++] = x->dims[k];
    if (ix->data) {
        for (int64_t j = 0, m = ir_numel(ix); j < m; j++) {
            int64_t v = rt_load_i64(ix->data, ix->dtype, j);
            if (v < -dim || v >= dim)
                return ir_node_error(d, n, "index %lld is out of range for an axis of %lld",
                                     (long long)v, (long long)dim);
        }
    }
    int64_t total;
    if (mv_numel(d, n, orank, dims, &total))
        return -1;
    ir_param_int(n, RT_GATHER_AXIS, axis);
    return ir_set_out(n, 0, x->dtype, orank, dims);
}

/* Pad: pads come from the 'paddings' (opset 1) or 'pads' (2-10) attribute,
 * or input 1 (11+) optionally restricted to input 3's axes (18+). */
int ir_infer_pad(Graph *g, Node *n, Diag *d)
{
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int r = x->rank;
    const char *ms = ir_attr_str(n, "mode", "constant");
    int mode;
    if (!strcmp(ms, "constant"))
        mode = RT_PAD_CONSTANT;
    else if (!strcmp(ms, "reflect"))
        mode = RT_PAD_REFLECT;
    else if (!strcmp(ms, "edge"))
        mode = RT_PAD_EDGE;
    else if (!strcmp(ms, "wrap"))
        mode = RT_PAD_WRAP;
    else
        return ir_node_error(d, n, "mode '%s' is not supported", ms);
    int64_t pads[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
    int np, na = -1;
    if (ir_rt_value_inputs(n)) { /* pads or axes read when it runs: the mode alone */
        for (int i = 1; i < n->n_in; i += 2)
            if (n->in[i] && (n->in[i]->rank != 1 || !mv_is_int(n->in[i]->dtype)))
                return ir_node_error(d, n, "input %d ('%s') must be a 1-D integer tensor", i,
                                     n->in[i]->name);
        const Value *cv = ir_input(n, 2);
        if (cv && (cv->dtype != x->dtype || ir_numel(cv) > 1))
            return ir_node_error(d, n, "constant_value must be one %s value",
                                 rt_dtype_name(x->dtype));
        ir_param_int(n, RT_PAD_MODE, mode);
        return ir_rt_grown_out(g, n, 0, x->dtype, r, d);
    }
    if (n->opset < 11) {
        np = mv_attr_list(d, n, n->opset < 2 ? "paddings" : "pads", pads, 2 * IR_MAX_RANK);
        if (np == -1)
            return ir_node_error(d, n, "attribute 'pads' is missing");
    } else {
        np = mv_const_list(d, n, 1, pads, 2 * IR_MAX_RANK);
        if (np == -1)
            return ir_node_error(d, n, "input 1 (pads) is missing");
        if (np >= 0 && n->opset >= 18)
            na = mv_const_list(d, n, 3, axes, IR_MAX_RANK);
        const Value *cv = ir_input(n, 2);
        if (cv && (cv->dtype != x->dtype || (ir_shape_known(cv) && ir_numel(cv) > 1)))
            return ir_node_error(d, n, "constant_value must be one %s value",
                                 rt_dtype_name(x->dtype));
    }
    if (np == -2 || na == -2)
        return -1;
    int64_t begin[IR_MAX_RANK] = {0}, end[IR_MAX_RANK] = {0};
    if (na >= 0) {
        int mark[IR_MAX_RANK];
        if (mv_axes(d, n, axes, na, r, mark))
            return -1;
        if (np != 2 * na)
            return ir_node_error(d, n, "%d pads for %d axes", np, na);
        for (int i = 0; i < na; i++) {
            int a = ir_axis(axes[i], r);
            begin[a] = pads[i];
            end[a] = pads[na + i];
        }
    } else {
        if (np != 2 * r)
            return ir_node_error(d, n, "%d pads for an input of rank %d", np, r);
        for (int a = 0; a < r; a++) {
            begin[a] = pads[a];
            end[a] = pads[r + a];
        }
    }
    int64_t dims[IR_MAX_RANK];
    for (int a = 0; a < r; a++) {
        int64_t dim = x->dims[a], b = begin[a], e = end[a];
        int64_t kept = dim - (b < 0 ? -b : 0) - (e < 0 ? -e : 0);
        if (b > INT32_MAX || e > INT32_MAX || kept < 0)
            return ir_node_error(d, n, "pads %lld, %lld are out of range for axis %d of "
                                 "extent %lld", (long long)b, (long long)e, a, (long long)dim);
        dims[a] = kept + (b > 0 ? b : 0) + (e > 0 ? e : 0);
        if (kept == 0 && dims[a] > 0 && mode != RT_PAD_CONSTANT)
            return ir_node_error(d, n, "mode '%s' cannot pad axis %d, which has no elements "
                                 "left", ms, a);
    }
    int64_t total;
    if (mv_numel(d, n, r, dims, &total))
        return -1;
    ir_param_int(n, RT_PAD_MODE, mode);
    for (int a = 0; a < r; a++)
        ir_param_int(n, RT_PAD_BEGIN + a, begin[a]);
    if (n->opset < 11)
        ir_param_float(n, RT_PAD_F_VALUE, ir_attr_float(n, "value", 0.0f));
    return ir_set_out(n, 0, x->dtype, r, dims);
}

int ir_infer_expand(Graph *g, Node *n, Diag *d)
{
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0], *s = ir_input(n, 1);
    if (!s || s->rank != 1)
        return ir_node_error(d, n, "input 1 (shape) must be a 1-D tensor");
    if (ir_rt_unknown(s)) { /* read when it runs: the rank is its length */
        if (s->dtype != RT_I64)
            return ir_node_error(d, n, "input 1 (shape) must be int64, not %s",
                                 rt_dtype_name(s->dtype));
        int64_t k = s->dims[0];
        return ir_rt_grown_out(g, n, 0, x->dtype, (int)(k > x->rank ? k : x->rank), d);
    }
    int64_t shape[IR_MAX_RANK], dims[IR_MAX_RANK];
    int k = mv_const_list(d, n, 1, shape, IR_MAX_RANK);
    if (k < 0)
        return -1;
    for (int i = 0; i < k; i++)
        if (shape[i] < 0)
            return ir_node_error(d, n, "shape[%d] is %lld", i, (long long)shape[i]);
    int r;
    int64_t total;
    if (ir_broadcast(x->rank, x->dims, k, shape, &r, dims))
        return ir_node_error(d, n, "input of rank %d does not broadcast to the shape", x->rank);
    if (mv_numel(d, n, r, dims, &total))
        return -1;
    return ir_set_out(n, 0, x->dtype, r, dims);
}

int ir_infer_tile(Graph *g, Node *n, Diag *d)
{
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (n->opset < 6)
        return ir_node_error(d, n, "Tile before opset 6 is not supported");
    int64_t rep[IR_MAX_RANK], dims[IR_MAX_RANK];
    const Value *rv = ir_input(n, 1);
    if (ir_rt_unknown(rv)) { /* read when it runs: one repeat per input axis */
        if (rv->rank != 1 || rv->dtype != RT_I64 || rv->dims[0] != x->rank)
            return ir_node_error(d, n, "input 1 (repeats) must be %d int64 values", x->rank);
        return ir_rt_grown_out(g, n, 0, x->dtype, x->rank, d);
    }
    int k = mv_const_list(d, n, 1, rep, IR_MAX_RANK);
    if (k == -2)
        return -1;
    if (k != x->rank)
        return ir_node_error(d, n, "repeats has %d values for an input of rank %d", k,
                             x->rank);
    for (int a = 0; a < k; a++) {
        if (rep[a] < 0)
            return ir_node_error(d, n, "repeats[%d] is negative", a);
        if (rep[a] && x->dims[a] > INT64_MAX / rep[a])
            return ir_node_error(d, n, "repeats[%d] makes the output too large", a);
        dims[a] = x->dims[a] * rep[a];
    }
    int64_t total;
    if (mv_numel(d, n, k, dims, &total))
        return -1;
    return ir_set_out(n, 0, x->dtype, k, dims);
}

int ir_infer_depth_to_space(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int64_t b = ir_attr_int(n, "blocksize", 0);
    const char *ms = ir_attr_str(n, "mode", "DCR");
    int crd = !strcmp(ms, "CRD");
    if (!crd && strcmp(ms, "DCR"))
        return ir_node_error(d, n, "mode '%s' is not DCR or CRD", ms);
    if (x->rank != 4)
        return ir_node_error(d, n, "input must be 4-D (NCHW), not rank %d", x->rank);
    if (b < 1 || b > 1 << 20 || x->dims[1] % (b * b))
        return ir_node_error(d, n, "blocksize %lld does not divide %lld channels",
                             (long long)b, (long long)x->dims[1]);
    int64_t dims[4] = {x->dims[0], x->dims[1] / (b * b), x->dims[2] * b, x->dims[3] * b};
    ir_param_int(n, RT_DEPTH_TO_SPACE_BLOCK, b);
    ir_param_int(n, RT_DEPTH_TO_SPACE_MODE, crd);
    return ir_set_out(n, 0, x->dtype, 4, dims);
}

int ir_infer_space_to_depth(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    int64_t b = ir_attr_int(n, "blocksize", 0);
    if (x->rank != 4)
        return ir_node_error(d, n, "input must be 4-D (NCHW), not rank %d", x->rank);
    if (b < 1 || b > 1 << 20 || x->dims[2] % b || x->dims[3] % b)
        return ir_node_error(d, n, "blocksize %lld does not divide H=%lld and W=%lld",
                             (long long)b, (long long)x->dims[2], (long long)x->dims[3]);
    int64_t dims[4] = {x->dims[0], x->dims[1] * b * b, x->dims[2] / b, x->dims[3] / b};
    ir_param_int(n, RT_SPACE_TO_DEPTH_BLOCK, b);
    return ir_set_out(n, 0, x->dtype, 4, dims);
}

/* ---- CenterCropPad (opset 18) ---- */

/* shape (constant) gives the new extent of each axis in `axes` (default:
 * all); an axis shrinks by cropping its centre, the extra unit off the end
 * when the difference is odd, and grows by padding zeros the same way. The
 * kernel reads input index out + offset, zero outside. */
int ir_infer_center_crop_pad(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0) || mv_need_input(d, n, 1))
        return -1;
    const Value *x = n->in[0];
    int64_t sh[IR_MAX_RANK + 1], ax[IR_MAX_RANK + 1];
    int ns = ir_const_ints(n->in[1], sh, IR_MAX_RANK + 1);
    if (ns < 0)
        return ir_err_not_const(d, n, 1);
    int na = ir_attr_ints(n, "axes", ax, IR_MAX_RANK + 1);
    if (na < 0) {
        na = x->rank;
        for (int i = 0; i < na; i++)
            ax[i] = i;
    }
    if (ns != na)
        return ir_node_error(d, n, "shape has %d values for %d axes", ns, na);
    int64_t dims[IR_MAX_RANK], off[IR_MAX_RANK], seen = 0, pads = 0;
    memcpy(dims, x->dims, sizeof dims[0] * (size_t)x->rank);
    for (int i = 0; i < x->rank; i++)
        off[i] = 0;
    for (int i = 0; i < na; i++) {
        int a = ir_axis(ax[i], x->rank);
        if (a < 0 || (seen >> a & 1))
            return ir_node_error(d, n, "axes[%d] = %lld is out of range or repeated", i,
                                 (long long)ax[i]);
        seen |= (int64_t)1 << a;
        if (sh[i] < 0)
            return ir_node_error(d, n, "shape[%d] = %lld is negative", i, (long long)sh[i]);
        /* a start of floor(diff / 2) puts the odd unit at the end either way */
        off[a] = sh[i] <= x->dims[a] ? (x->dims[a] - sh[i]) / 2 : -((sh[i] - x->dims[a]) / 2);
        pads |= sh[i] > x->dims[a];
        dims[a] = sh[i];
    }
    if (pads && x->dtype == RT_STRING)
        return ir_node_error(d, n, "padding a string tensor is not supported");
    ir_param_ints(n, RT_CENTER_CROP_OFFSET, off, x->rank);
    return ir_set_out(n, 0, x->dtype, x->rank, dims);
}
