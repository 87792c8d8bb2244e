/* rt_shape.c: run-time shapes: the shape functions of the ops that take run-time extents, and the checked call around their kernels. */
#include <string.h>

#include "onnxcc_rt.h"

/* Output axes whose planned extent is input 0's take input 0's actual one:
 * elementwise ops, normalizations, softmax (their reduced outputs keep the
 * planned 1). */
int rt_shape_same(const RtCall *p, const RtTensorDesc *in, const void *const *d, RtTensorDesc *out)
{
    (void)d;
    const RtTensorDesc *pin = &p->in[0];
    for (int j = 0; j < p->n_out; j++) {
        if (out[j].dtype == RT_UNDEF || out[j].rank != pin->rank)
            continue;
        for (int k = 0; k < out[j].rank; k++)
            if (p->out[j].dims[k] == pin->dims[k])
                out[j].dims[k] = in[0].dims[k];
    }
    return RT_OK;
}

/* NumPy broadcasting of every present input into output 0. */
int rt_shape_broadcast(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                       RtTensorDesc *out)
{
    (void)d;
    int r = out[0].rank;
    for (int k = 0; k < r; k++)
        out[0].dims[k] = 1;
    for (int i = 0; i < p->n_in; i++) {
        if (in[i].dtype == RT_UNDEF)
            continue;
        if (in[i].rank > r)
            return RT_ESHAPE;
        for (int k = 0; k < in[i].rank; k++) {
            int64_t e = in[i].dims[k], *o = &out[0].dims[r - in[i].rank + k];
            if (e == *o || e == 1)
                continue;
            if (*o != 1)
                return RT_ESHAPE;
            *o = e;
        }
    }
    return RT_OK;
}

/* Conv, pooling: only the batch axis varies; the rest must be as planned. */
int rt_shape_batch(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                   RtTensorDesc *out)
{
    (void)d;
    if (in[0].rank < 1)
        return RT_ESHAPE;
    for (int k = 1; k < in[0].rank; k++)
        if (in[0].dims[k] != p->in[0].dims[k])
            return RT_ESHAPE;
    for (int j = 0; j < p->n_out; j++)
        if (out[j].dtype != RT_UNDEF && out[j].rank >= 1)
            out[j].dims[0] = in[0].dims[0];
    return RT_OK;
}

/* NumPy matmul: 1-D operands, broadcast batch axes. A B packed at compile
 * time keeps its planned N. */
int rt_shape_matmul(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out)
{
    (void)d;
    const RtTensorDesc *a = &in[0], *b = &in[1];
    int packed = p->n_ints > RT_MATMUL_PACK && p->ints[RT_MATMUL_PACK] > 0;
    if (a->rank < 1 || b->rank < 1)
        return RT_ESHAPE;
    int64_t k = a->dims[a->rank - 1];
    int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    if (k != kb)
        return RT_ESHAPE;
    int ba = a->rank > 2 ? a->rank - 2 : 0, bb = b->rank > 2 ? b->rank - 2 : 0;
    int nb = ba > bb ? ba : bb;
    int r = nb + (a->rank > 1) + (b->rank > 1);
    if (r != out[0].rank)
        return RT_ESHAPE;
    for (int i = 0; i < nb; i++) {
        int64_t ea = i - (nb - ba) >= 0 ? a->dims[i - (nb - ba)] : 1;
        int64_t eb = i - (nb - bb) >= 0 ? b->dims[i - (nb - bb)] : 1;
        if (ea != eb && ea != 1 && eb != 1)
            return RT_ESHAPE;
        out[0].dims[i] = ea == 1 ? eb : ea;
    }
    int at = nb;
    if (a->rank > 1)
        out[0].dims[at++] = a->dims[a->rank - 2];
    if (b->rank > 1)
        out[0].dims[at] = packed ? p->out[0].dims[at] : b->dims[b->rank - 1];
    return RT_OK;
}

int rt_shape_gemm(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                  RtTensorDesc *out)
{
    (void)d;
    int ta = (int)p->ints[RT_GEMM_TRANS_A], tb = (int)p->ints[RT_GEMM_TRANS_B];
    int packed = p->n_ints > RT_GEMM_PACK && p->ints[RT_GEMM_PACK] > 0;
    if (in[0].rank != 2 || in[1].rank != 2)
        return RT_ESHAPE;
    int64_t k = in[0].dims[ta ? 0 : 1];
    if (!packed && k != in[1].dims[tb ? 1 : 0])
        return RT_ESHAPE;
    out[0].dims[0] = in[0].dims[ta ? 1 : 0];
    if (!packed)
        out[0].dims[1] = in[1].dims[tb ? 0 : 1];
    return RT_OK;
}

/* Reshape: the shape tensor (input 1, int64) read when the node runs;
 * 0 copies the input's extent unless allowzero, -1 takes what is left. */
int rt_shape_reshape(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                     RtTensorDesc *out)
{
    if (p->n_in < 2 || !d[1] || in[1].dtype != RT_I64 || in[1].rank != 1 ||
        in[1].dims[0] != out[0].rank)
        return RT_ESHAPE;
    const int64_t *s = d[1];
    int allowzero = p->n_ints > RT_RESHAPE_ALLOWZERO && p->ints[RT_RESHAPE_ALLOWZERO];
    int64_t total = rt_numel(&in[0]), known = 1;
    int infer = -1;
    for (int k = 0; k < out[0].rank; k++) {
        int64_t e = s[k];
        if (e == 0 && !allowzero) {
            if (k >= in[0].rank)
                return RT_ESHAPE;
            e = in[0].dims[k];
        }
        if (e == -1) {
            if (infer >= 0)
                return RT_ESHAPE;
            infer = k;
            continue;
        }
        if (e < 0)
            return RT_ESHAPE;
        out[0].dims[k] = e;
        known *= e;
    }
    if (infer >= 0) {
        if (known == 0 || total % known)
            return RT_ESHAPE;
        out[0].dims[infer] = total / known;
    } else if (known != total) {
        return RT_ESHAPE;
    }
    return RT_OK;
}

int rt_shape_flatten(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                     RtTensorDesc *out)
{
    (void)d;
    int64_t axis = p->n_ints > RT_FLATTEN_AXIS ? p->ints[RT_FLATTEN_AXIS] : 1;
    if (axis < 0 || axis > in[0].rank || out[0].rank != 2)
        return RT_ESHAPE;
    out[0].dims[0] = 1;
    out[0].dims[1] = 1;
    for (int k = 0; k < in[0].rank; k++)
        out[0].dims[k >= axis] *= in[0].dims[k];
    return RT_OK;
}

/* Squeeze, Unsqueeze: output axes are input axes or inserted 1s; an input
 * axis left out must be 1 when the node runs. */
int rt_shape_axismap(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                     RtTensorDesc *out)
{
    (void)d;
    uint32_t kept = 0;
    if (p->n_ints != out[0].rank)
        return RT_ESHAPE;
    for (int k = 0; k < out[0].rank; k++) {
        int64_t a = p->ints[RT_AXISMAP_FROM + k];
        if (a >= in[0].rank)
            return RT_ESHAPE;
        out[0].dims[k] = a < 0 ? 1 : in[0].dims[a];
        kept |= a < 0 ? 0 : 1u << a;
    }
    for (int a = 0; a < in[0].rank; a++)
        if (!(kept >> a & 1) && in[0].dims[a] != 1)
            return RT_ESHAPE;
    return RT_OK;
}

/* Squeeze and Unsqueeze whose axes (input 1, int64) are known only when
 * they run: the axis map is made from them, then checked as above.
 * ints[RT_AXES_INSERT] is 1 for Unsqueeze. */
int rt_shape_axes(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                  RtTensorDesc *out)
{
    if (p->n_in < 2 || !d[1] || in[1].dtype != RT_I64 || in[1].rank != 1 || p->n_ints < 1)
        return RT_ESHAPE;
    int insert = p->ints[RT_AXES_INSERT] != 0;
    int r = insert ? out[0].rank : in[0].rank;
    int64_t n = in[1].dims[0];
    if (r > RT_MAX_RANK || n > r || (insert ? r - n : r) != in[0].rank ||
        (insert ? r : r - n) != out[0].rank)
        return RT_ESHAPE;
    int marked[RT_MAX_RANK] = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t a = ((const int64_t *)d[1])[i];
        a += a < 0 ? r : 0;
        if (a < 0 || a >= r || marked[a])
            return RT_ESHAPE;
        marked[a] = 1;
    }
    int64_t map[RT_MAX_RANK];
    for (int a = 0, i = 0, o = 0; a < r; a++) {
        if (insert)
            map[a] = marked[a] ? -1 : i++;
        else if (!marked[a])
            map[o++] = a;
    }
    RtCall c = *p;
    c.n_ints = out[0].rank;
    c.ints = map;
    return rt_shape_axismap(&c, in, d, out);
}

int rt_shape_transpose(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                       RtTensorDesc *out)
{
    (void)d;
    for (int k = 0; k < out[0].rank; k++) {
        int64_t a = p->ints[RT_TRANSPOSE_PERM + k];
        if (a < 0 || a >= in[0].rank)
            return RT_ESHAPE;
        out[0].dims[k] = in[0].dims[a];
    }
    return RT_OK;
}

int rt_shape_concat(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out)
{
    (void)d;
    int64_t axis = p->ints[RT_CONCAT_AXIS], sum = 0;
    int first = 1;
    for (int i = 0; i < p->n_in; i++) {
        if (in[i].dtype == RT_UNDEF)
            continue;
        if (in[i].rank != out[0].rank || axis >= in[i].rank)
            return RT_ESHAPE;
        for (int k = 0; k < in[i].rank; k++) {
            if (k == axis)
                continue;
            if (first)
                out[0].dims[k] = in[i].dims[k];
            else if (out[0].dims[k] != in[i].dims[k])
                return RT_ESHAPE;
        }
        sum += in[i].dims[axis];
        first = 0;
    }
    out[0].dims[axis] = sum;
    return RT_OK;
}

/* Outputs whose extents never vary (Shape's): as planned. */
int rt_shape_static(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out)
{
    (void)p;
    (void)in;
    (void)d;
    (void)out;
    return RT_OK;
}

/* Expand: input 0 broadcast with the shape tensor (input 1, int64). */
int rt_shape_expand(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out)
{
    if (p->n_in < 2 || !d[1] || in[1].dtype != RT_I64 || in[1].rank != 1)
        return RT_ESHAPE;
    RtTensorDesc s = {RT_I64, (int32_t)in[1].dims[0], {0}};
    if (s.rank > RT_MAX_RANK)
        return RT_ESHAPE;
    memcpy(s.dims, d[1], sizeof *s.dims * (size_t)s.rank);
    RtTensorDesc both[2] = {in[0], s};
    RtCall c = *p;
    c.n_in = 2;
    return rt_shape_broadcast(&c, both, d, out);
}

/* Shape's kernel: the extents of input 0 from axis ints[RT_SHAPE_START],
 * as many as output 0 holds. Run through rt_dyn_call, they are the actual
 * extents. */
int rt_shape_dims(const RtCall *c, const void *const *in, void *const *out)
{
    (void)in;
    int64_t start = c->n_ints > RT_SHAPE_START ? c->ints[RT_SHAPE_START] : 0;
    int64_t n = c->out[0].rank ? c->out[0].dims[0] : 0;
    if (start < 0 || start + n > c->in[0].rank || c->out[0].dtype != RT_I64)
        return RT_EINVAL;
    memcpy(out[0], &c->in[0].dims[start], sizeof(int64_t) * (size_t)n);
    return RT_OK;
}

/* Slice with its starts and steps fixed at compile time: an axis taken
 * whole (start 0, step 1, all of it planned) follows the input; any other
 * axis must have its planned extent. */
int rt_shape_slice(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                   RtTensorDesc *out)
{
    (void)d;
    if (in[0].rank != out[0].rank || p->n_ints < RT_SLICE_PER_AXIS * in[0].rank)
        return RT_ESHAPE;
    for (int k = 0; k < in[0].rank; k++) {
        const int64_t *a = &p->ints[RT_SLICE_AXIS(k)];
        int whole = a[RT_SLICE_START] == 0 && a[RT_SLICE_STEP] == 1 &&
                    p->out[0].dims[k] == p->in[0].dims[k];
        if (whole)
            out[0].dims[k] = in[0].dims[k];
        else if (in[0].dims[k] != p->in[0].dims[k])
            return RT_ESHAPE;
    }
    return RT_OK;
}

int rt_slice_resolve(const RtTensorDesc *x, int n_in, const RtTensorDesc *desc,
                     const void *const *d, int64_t *params, int64_t *dims)
{
    int r = x->rank, m = n_in > 1 && d[1] ? (int)rt_numel(&desc[1]) : -1;
    if (m < 0 || m > r || n_in < 3 || !d[2] || rt_numel(&desc[2]) != m)
        return RT_ESHAPE;
    for (int i = 3; i < 5 && i < n_in; i++)
        if (d[i] && rt_numel(&desc[i]) != m)
            return RT_ESHAPE;
    int seen[RT_MAX_RANK] = {0};
    for (int k = 0; k < r; k++) { /* axes not listed are taken whole */
        params[RT_SLICE_PER_AXIS * k + RT_SLICE_START] = 0;
        params[RT_SLICE_PER_AXIS * k + RT_SLICE_STEP] = 1;
        dims[k] = x->dims[k];
    }
    for (int i = 0; i < m; i++) {
        int64_t a = n_in > 3 && d[3] ? rt_load_i64(d[3], desc[3].dtype, i) : i;
        int64_t step = n_in > 4 && d[4] ? rt_load_i64(d[4], desc[4].dtype, i) : 1;
        a += a < 0 ? r : 0;
        if (a < 0 || a >= r || seen[a] || step == 0)
            return RT_ESHAPE;
        seen[a] = 1;
        int64_t dim = x->dims[a];
        int64_t s = rt_load_i64(d[1], desc[1].dtype, i), e = rt_load_i64(d[2], desc[2].dtype, i);
        s += s < 0 ? dim : 0;
        e += e < 0 ? dim : 0;
        /* clamped as the ONNX spec says: [0, dim] forward, [-1, dim - 1] backward */
        int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? dim : dim - 1;
        s = s < 0 ? 0 : s > hi ? hi : s;
        e = e < lo ? lo : e > hi ? hi : e;
        int64_t len = step > 0 ? (e - s + step - 1) / step : (s - e - step - 1) / -step;
        dims[a] = len > 0 ? len : 0;
        params[RT_SLICE_PER_AXIS * a + RT_SLICE_START] = s;
        params[RT_SLICE_PER_AXIS * a + RT_SLICE_STEP] = step;
    }
    return RT_OK;
}

/* Slice whose starts, ends, axes or steps are known only when it runs. */
int rt_shape_slice_values(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                          RtTensorDesc *out)
{
    int64_t params[RT_SLICE_PER_AXIS * RT_MAX_RANK];
    if (in[0].rank != out[0].rank)
        return RT_ESHAPE;
    return rt_slice_resolve(&in[0], p->n_in, in, d, params, out[0].dims);
}

int rt_reduce_resolve(const RtTensorDesc *x, const RtTensorDesc *axes, const void *data, int keep,
                      int64_t *mask, RtTensorDesc *y)
{
    int64_t n = rt_numel(axes), m = 0;
    if (!data || (axes->dtype != RT_I64 && axes->dtype != RT_I32) || n > x->rank)
        return RT_ESHAPE;
    for (int64_t i = 0; i < n; i++) {
        int64_t a = rt_load_i64(data, axes->dtype, i);
        a += a < 0 ? x->rank : 0;
        if (a < 0 || a >= x->rank || (m >> a & 1))
            return RT_ESHAPE;
        m |= (int64_t)1 << a;
    }
    if (n == 0) /* no axes (noop_with_empty_axes unset): all of them */
        m = x->rank ? ((int64_t)1 << x->rank) - 1 : 1;
    int r = 0;
    for (int a = 0; a < x->rank; a++) {
        if (!(m >> a & 1))
            y->dims[r++] = x->dims[a];
        else if (keep)
            y->dims[r++] = 1;
    }
    if (r != y->rank)
        return RT_ESHAPE;
    *mask = m;
    return RT_OK;
}

int rt_shape_reduce_axes(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                         RtTensorDesc *out)
{
    int64_t mask;
    if (p->n_in < 2 || p->n_ints < RT_REDUCE_NINTS_AXES)
        return RT_ESHAPE;
    int keep = p->ints[RT_REDUCE_KEEPDIMS] != 0;
    return rt_reduce_resolve(&in[0], &in[1], d[1], keep, &mask, &out[0]);
}

/* Each output is input 0 with its part of the axis; the parts must fill it. */
int rt_shape_split_values(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                          RtTensorDesc *out)
{
    int64_t axis = p->n_ints > RT_SPLIT_AXIS ? p->ints[RT_SPLIT_AXIS] : -1, sum = 0;
    if (p->n_in < 2 || !d[1] || axis < 0 || axis >= in[0].rank || in[1].rank != 1 ||
        in[1].dims[0] != p->n_out)
        return RT_ESHAPE;
    int64_t dim = in[0].dims[axis];
    for (int j = 0; j < p->n_out; j++) {
        int64_t s = rt_load_i64(d[1], in[1].dtype, j);
        if (s < 0 || s > dim - sum)
            return RT_ESHAPE;
        sum += s;
        if (out[j].dtype == RT_UNDEF)
            continue;
        if (out[j].rank != in[0].rank)
            return RT_ESHAPE;
        memcpy(out[j].dims, in[0].dims, sizeof *out[j].dims * (size_t)in[0].rank);
        out[j].dims[axis] = s;
    }
    return sum == dim ? RT_OK : RT_ESHAPE;
}

int rt_shape_topk_k(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out)
{
    int64_t axis = p->n_ints > RT_TOPK_AXIS ? p->ints[RT_TOPK_AXIS] : -1;
    if (p->n_in < 2 || !d[1] || axis < 0 || axis >= in[0].rank || rt_numel(&in[1]) != 1)
        return RT_ESHAPE;
    int64_t k = rt_load_i64(d[1], in[1].dtype, 0);
    if (k < 0)
        return RT_ESHAPE;
    if (k > in[0].dims[axis])
        return RT_EBOUND;
    for (int j = 0; j < p->n_out && j < 2; j++) {
        if (out[j].dtype == RT_UNDEF)
            continue;
        if (out[j].rank != in[0].rank)
            return RT_ESHAPE;
        memcpy(out[j].dims, in[0].dims, sizeof *out[j].dims * (size_t)in[0].rank);
        out[j].dims[axis] = k;
    }
    return RT_OK;
}

/* Compress: as many slices (or elements, with no axis) as the condition
 * holds true values. */
int rt_shape_compress(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                      RtTensorDesc *out)
{
    int64_t axis = p->n_ints > RT_COMPRESS_AXIS ? p->ints[RT_COMPRESS_AXIS] : -1, kept = 0;
    if (p->n_in < 2 || !d[1] || in[1].rank != 1 || axis >= in[0].rank)
        return RT_ESHAPE;
    int64_t dim = axis < 0 ? rt_numel(&in[0]) : in[0].dims[axis], len = in[1].dims[0];
    if (len > dim || out[0].rank != (axis < 0 ? 1 : in[0].rank))
        return RT_ESHAPE;
    for (int64_t j = 0; j < len; j++)
        kept += rt_load_i64(d[1], in[1].dtype, j) != 0;
    if (axis < 0) {
        out[0].dims[0] = kept;
        return RT_OK;
    }
    memcpy(out[0].dims, in[0].dims, sizeof *out[0].dims * (size_t)in[0].rank);
    out[0].dims[axis] = kept;
    return RT_OK;
}

/* Gather: data's axes before and after `axis`, indices' shape between. */
int rt_shape_gather(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out)
{
    (void)d;
    int64_t axis = p->ints[RT_GATHER_AXIS];
    if (axis < 0 || axis >= in[0].rank || out[0].rank != in[0].rank - 1 + in[1].rank)
        return RT_ESHAPE;
    int at = 0;
    for (int k = 0; k < axis; k++)
        out[0].dims[at++] = in[0].dims[k];
    for (int k = 0; k < in[1].rank; k++)
        out[0].dims[at++] = in[1].dims[k];
    for (int k = (int)axis + 1; k < in[0].rank; k++)
        out[0].dims[at++] = in[0].dims[k];
    return RT_OK;
}

int rt_dyn_call(const RtCall *planned, RtShapeFn shape, RtKernel kernel,
                const int64_t *const *in_dims, int64_t *const *out_dims, const int64_t *out_cap,
                const void *const *in, void *const *out)
{
    int ni = planned->n_in, no = planned->n_out;
    RtTensorDesc din[ni > 0 ? ni : 1], dout[no > 0 ? no : 1];
    memcpy(din, planned->in, sizeof *din * (size_t)ni);
    memcpy(dout, planned->out, sizeof *dout * (size_t)no);
    for (int i = 0; i < ni; i++) {
        if (!in_dims[i])
            continue;
        for (int k = 0; k < din[i].rank; k++) {
            if (in_dims[i][k] < 0 || in_dims[i][k] > planned->in[i].dims[k])
                return RT_EBOUND;
            din[i].dims[k] = in_dims[i][k];
        }
    }
    int rc = shape(planned, din, in, dout);
    if (rc)
        return rc;
    for (int j = 0; j < no; j++) {
        if (dout[j].dtype == RT_UNDEF)
            continue;
        for (int k = 0; k < dout[j].rank; k++) {
            int64_t e = dout[j].dims[k], b = planned->out[j].dims[k];
            if (out_dims[j] ? e < 0 || e > b : e != b)
                return out_dims[j] ? RT_EBOUND : RT_ESHAPE;
        }
        if (out_cap && out_cap[j] && rt_numel(&dout[j]) > out_cap[j])
            return RT_EBOUND;
        if (out_dims[j])
            memcpy(out_dims[j], dout[j].dims, sizeof *dout[j].dims * (size_t)dout[j].rank);
    }
    RtCall c = *planned;
    c.in = din;
    c.out = dout;
    return kernel(&c, in, out);
}

int rt_dims_check(int rank, const int64_t *dims, const int64_t *lo, const int64_t *hi,
                  int64_t *slot)
{
    for (int k = 0; k < rank; k++) {
        if (dims[k] < lo[k] || dims[k] > hi[k])
            return RT_EBOUND;
        slot[k] = dims[k];
    }
    return RT_OK;
}

size_t rt_dims_bytes(int dtype, int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= dims[k];
    return rt_dtype_bytes(dtype, n);
}
