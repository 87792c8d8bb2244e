/* k_movement.c: data-movement kernels: copy, transpose, concat, slice, gather, pad, tile... */
#include <string.h>

#include "rt_internal.h"

/* A strided view may split every axis in two (Tile's [repeat, extent]). */
#define MAXD (2 * RT_MAX_RANK)

typedef unsigned char byte;

/* A plain loop for the common sizes, else doubling the filled prefix so any
 * element size costs O(log n) memcpy calls. */
void rt_fill_elems(void *dst_, const void *elem, size_t esz, int64_t n)
{
    byte *dst = dst_;
    if (n <= 0)
        return;
#define FILL(T)                                                                \
    do {                                                                       \
        T v_;                                                                  \
        memcpy(&v_, elem, sizeof v_);                                          \
        for (int64_t i = 0; i < n; i++)                                        \
            memcpy(dst + i * (int64_t)sizeof v_, &v_, sizeof v_);              \
        return;                                                                \
    } while (0)
    switch (esz) {
    case 1: memset(dst, *(const byte *)elem, (size_t)n); return;
    case 2: FILL(uint16_t);
    case 4: FILL(uint32_t);
    case 8: FILL(uint64_t);
    default: break;
    }
#undef FILL
    memcpy(dst, elem, esz);
    size_t done = esz, total = (size_t)n * esz;
    while (done < total) {
        size_t k = done < total - done ? done : total - done;
        memcpy(dst + done, dst, k);
        done += k;
    }
}

/* dst[i] = src[i * s] for n elements of esz bytes. The constant-size memcpy
 * calls compile to plain loads and stores without breaking aliasing rules. */
static void gather_run(byte *dst, const byte *src, size_t esz, int64_t n, int64_t s)
{
#define RUN(E)                                                                 \
    for (int64_t i = 0; i < n; i++)                                            \
        memcpy(dst + i * (E), src + i * s * (E), (E));                         \
    break
    switch (esz) {
    case 1: RUN(1);
    case 2: RUN(2);
    case 4: RUN(4);
    case 8: RUN(8);
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + i * (int64_t)esz, src + i * s * (int64_t)esz, esz);
    }
#undef RUN
}

/* The transposition case of copy_strided: the output's last axis is strided
 * in the source while source-contiguous axis p lies further out. Copying
 * square tiles keeps both sides in cache. */
static void copy_tiled(byte *dst, const byte *src, size_t esz, int r, const int64_t *dims,
                       const int64_t *st, int p)
{
    enum { T = 32 };
    int64_t ost[MAXD], s = 1;
    for (int k = r - 1; k >= 0; k--) {
        ost[k] = s;
        s *= dims[k];
    }
    int64_t P = dims[p], Q = dims[r - 1], sq = st[r - 1], op = ost[p];
    int64_t outer = 1, idx[MAXD] = {0}, so = 0, doff = 0;
    for (int k = 0; k < r - 1; k++)
        if (k != p)
            outer *= dims[k];
    for (int64_t o = 0; o < outer; o++) {
        const byte *sb = src + so * (int64_t)esz;
        byte *db = dst + doff * (int64_t)esz;
        for (int64_t i0 = 0; i0 < P; i0 += T) {
            int64_t i1 = i0 + T < P ? i0 + T : P;
            for (int64_t j0 = 0; j0 < Q; j0 += T) {
                int64_t j1 = j0 + T < Q ? j0 + T : Q;
#define TILE(E)                                                                \
    for (int64_t i = i0; i < i1; i++)                                          \
        for (int64_t j = j0; j < j1; j++)                                      \
            memcpy(db + (i * op + j) * (E), sb + (i + j * sq) * (E), (E));     \
    break
                switch (esz) {
                case 1: TILE(1);
                case 2: TILE(2);
                case 4: TILE(4);
                case 8: TILE(8);
                default:
                    for (int64_t i = i0; i < i1; i++)
                        for (int64_t j = j0; j < j1; j++)
                            memcpy(db + (i * op + j) * (int64_t)esz,
                                   sb + (i + j * sq) * (int64_t)esz, esz);
                }
#undef TILE
            }
        }
        for (int k = r - 2; k >= 0; k--) {
            if (k == p)
                continue;
            so += st[k];
            doff += ost[k];
            if (++idx[k] < dims[k])
                break;
            so -= st[k] * dims[k];
            doff -= ost[k] * dims[k];
            idx[k] = 0;
        }
    }
}

/* The engine of most movement kernels: writes the row-major block of extents
 * dims to dst contiguously, reading the element at index (i_0, .., i_{n-1})
 * from src + sum(i_k * st[k]) elements. Strides may be negative (Slice with
 * negative steps) or zero (Expand). Axes of extent 1 are dropped and axes
 * that stay adjacent in src are merged first, so most cases reduce to a few
 * long memcpy runs. */
static void copy_strided(byte *dst, const byte *src, size_t esz, int rank,
                         const int64_t *dims_in, const int64_t *st_in)
{
    int64_t dims[MAXD], st[MAXD];
    int r = 0;
    for (int k = 0; k < rank; k++) {
        if (dims_in[k] == 0)
            return;
        if (dims_in[k] == 1)
            continue;
        if (r > 0 && st[r - 1] == st_in[k] * dims_in[k]) {
            dims[r - 1] *= dims_in[k];
            st[r - 1] = st_in[k];
        } else {
            dims[r] = dims_in[k];
            st[r] = st_in[k];
            r++;
        }
    }
    if (r == 0) {
        memcpy(dst, src, esz);
        return;
    }
    int64_t inner = dims[r - 1], s = st[r - 1];
    if (s != 0 && s != 1 && inner >= 4) {
        for (int p = 0; p < r - 1; p++)
            if (st[p] == 1 && dims[p] >= 4) {
                copy_tiled(dst, src, esz, r, dims, st, p);
                return;
            }
    }
    int64_t outer = 1, idx[MAXD] = {0}, so = 0;
    for (int k = 0; k < r - 1; k++)
        outer *= dims[k];
    size_t run = (size_t)inner * esz;
    for (int64_t o = 0; o < outer; o++) {
        const byte *sp = src + so * (int64_t)esz;
        if (s == 1)
            memcpy(dst, sp, run);
        else if (s == 0)
            rt_fill_elems(dst, sp, esz, inner);
        else
            gather_run(dst, sp, esz, inner, s);
        dst += run;
        for (int k = r - 2; k >= 0; k--) {
            so += st[k];
            if (++idx[k] < dims[k])
                break;
            so -= st[k] * dims[k];
            idx[k] = 0;
        }
    }
}

/* The start of the kernels that work along an axis parameter: t's element
 * size (RT_EDTYPE for a dtype without one) and the axis at slot (RT_EINVAL
 * when missing or out of range) splitting t into outer x dim x inner. */
typedef struct Span {
    size_t esz;     /* bytes per element */
    int axis;       /* non-negative */
    int64_t outer;  /* elements before the axis */
    int64_t dim;    /* extent along it */
    int64_t inner;  /* elements after it */
} Span;

static int span(const RtCall *c, const RtTensorDesc *t, int slot, Span *s)
{
    s->esz = rt_dtype_size(t->dtype);
    if (!s->esz)
        return RT_EDTYPE;
    s->axis = rt_param_axis(c, slot, t->rank);
    if (s->axis < 0)
        return RT_EINVAL;
    s->outer = rt_prod(t->dims, 0, s->axis);
    s->dim = t->dims[s->axis];
    s->inner = rt_prod(t->dims, s->axis + 1, t->rank);
    return RT_OK;
}

int rt_copy(const RtCall *c, const void *const *in, void *const *out)
{
    if (!rt_dtype_bits(c->out[0].dtype))
        return RT_EDTYPE;
    size_t n = rt_dtype_bytes(c->out[0].dtype, rt_numel(&c->out[0])); /* packed types too */
    if (n && in[0] != out[0])
        memcpy(out[0], in[0], n);
    return RT_OK;
}

int rt_dropout(const RtCall *c, const void *const *in, void *const *out)
{
    int train = c->n_in > 2 && in[2] && c->in[2].dtype != RT_UNDEF &&
                rt_load_i64(in[2], c->in[2].dtype, 0);
    if (train) {
        int has_ratio = c->n_in > 1 && in[1] && c->in[1].dtype != RT_UNDEF;
        if (!has_ratio || rt_load_f64(in[1], c->in[1].dtype, 0) != 0)
            return RT_EUNSUPPORTED;
    }
    int rc = rt_copy(c, in, out);
    if (rc || c->n_out < 2 || !out[1] || c->out[1].dtype == RT_UNDEF)
        return rc;
    const RtTensorDesc *m = &c->out[1];
    byte one[8];
    size_t esz = rt_dtype_size(m->dtype);
    if (!esz)
        return RT_EDTYPE;
    rt_store_f64(one, m->dtype, 0, 1.0);
    rt_fill_elems(out[1], one, esz, rt_numel(m));
    return RT_OK;
}

/* Transpose's view, split along the output's outermost axis of extent > 1:
 * a range of that axis is a contiguous block of the output, so ranges own
 * disjoint outputs. */
typedef struct TransposeJob {
    byte *dst;
    const byte *src;
    size_t esz;
    int rank, axis;              /* the split axis */
    int64_t dims[RT_MAX_RANK], st[RT_MAX_RANK];
    int64_t block;               /* output elements per index of the split axis */
} TransposeJob;

static void transpose_range(void *ctx, int64_t lo, int64_t hi)
{
    const TransposeJob *j = ctx;
    int64_t dims[RT_MAX_RANK];
    memcpy(dims, j->dims, sizeof dims);
    dims[j->axis] = hi - lo;
    copy_strided(j->dst + lo * j->block * (int64_t)j->esz,
                 j->src + lo * j->st[j->axis] * (int64_t)j->esz, j->esz, j->rank, dims, j->st);
}

/* Elements a range should move at least before it is worth a thread (a
 * hand-off costs ~5-10 us, build/pool_bench). */
#define MOVE_GRAIN_ELEMS 65536

int rt_transpose(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz && !rt_is_packed(x->dtype))
        return RT_EDTYPE;
    if (c->n_ints != RT_TRANSPOSE_PERM + x->rank || y->rank != x->rank)
        return RT_EINVAL;
    int64_t xs[RT_MAX_RANK], st[RT_MAX_RANK];
    rt_strides(x, xs);
    for (int k = 0; k < x->rank; k++) {
        int64_t p = c->ints[RT_TRANSPOSE_PERM + k];
        if (p < 0 || p >= x->rank || y->dims[k] != x->dims[p])
            return RT_EINVAL;
        st[k] = xs[p];
    }
    if (!esz) { /* packed: k_narrow.c */
        rt_packed_strided(out[0], in[0], x->dtype, 0, x->rank, y->dims, st);
        return RT_OK;
    }
    TransposeJob j = {.dst = out[0], .src = in[0], .esz = esz, .rank = x->rank, .block = 1};
    memcpy(j.dims, y->dims, sizeof j.dims);
    memcpy(j.st, st, sizeof j.st);
    while (j.axis < x->rank - 1 && y->dims[j.axis] == 1)
        j.axis++;
    if (x->rank == 0 || rt_threads() == 1) {
        copy_strided(out[0], in[0], esz, x->rank, y->dims, st);
        return RT_OK;
    }
    for (int k = j.axis + 1; k < x->rank; k++)
        j.block *= y->dims[k];
    int64_t grain = j.block >= MOVE_GRAIN_ELEMS ? 1 : MOVE_GRAIN_ELEMS / (j.block ? j.block : 1);
    rt_parallel_for(y->dims[j.axis], grain, transpose_range, &j);
    return RT_OK;
}

int rt_concat(const RtCall *c, const void *const *in, void *const *out)
{
    Span sp;
    if (rt_is_packed(c->out[0].dtype))
        return rt_concat_packed(c, in, out);
    int rc = span(c, &c->out[0], RT_CONCAT_AXIS, &sp);
    if (rc)
        return rc;
    size_t row = (size_t)(sp.dim * sp.inner) * sp.esz, off = 0;
    byte *d = out[0];
    for (int i = 0; i < c->n_in; i++) {
        /* An empty part still counts towards the row (when outer is 0 its
         * extent along axis is not), though it may come without a buffer. */
        size_t part = (size_t)(c->in[i].dims[sp.axis] * sp.inner) * sp.esz;
        if (off + part > row)
            return RT_EINVAL;
        const byte *s = in[i];
        if (part && sp.outer && !s)
            return RT_EINVAL;
        /* the planner may have placed this input in its slice already
         * (pass_plan's concat_slices): nothing to move */
        if (part && s != d + off)
            for (int64_t o = 0; o < sp.outer; o++)
                memcpy(d + (size_t)o * row + off, s + (size_t)o * part, part);
        off += part;
    }
    return off == row ? RT_OK : RT_EINVAL;
}

int rt_split(const RtCall *c, const void *const *in, void *const *out)
{
    Span sp;
    int rc = span(c, &c->in[0], RT_SPLIT_AXIS, &sp);
    if (rc)
        return rc;
    size_t row = (size_t)(sp.dim * sp.inner) * sp.esz, off = 0;
    const byte *s = in[0];
    for (int i = 0; i < c->n_out; i++) {
        if (c->out[i].dtype == RT_UNDEF)
            return RT_EINVAL;
        size_t part = (size_t)(c->out[i].dims[sp.axis] * sp.inner) * sp.esz;
        if (off + part > row)
            return RT_EINVAL;
        byte *d = out[i];
        if (part && sp.outer && !d) /* an empty output may come without a buffer */
            return RT_EINVAL;
        if (part)
            for (int64_t o = 0; o < sp.outer; o++)
                memcpy(d + (size_t)o * part, s + (size_t)o * row + off, part);
        off += part;
    }
    return RT_OK;
}

int rt_slice(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz && !rt_is_packed(x->dtype))
        return RT_EDTYPE;
    /* no parameters: starts and steps come from inputs 1..4 when it runs */
    int64_t params[RT_SLICE_PER_AXIS * RT_MAX_RANK], dims[RT_MAX_RANK];
    const int64_t *pa = c->ints;
    if (c->n_ints == 0 && c->n_in >= 3 && y->rank == x->rank) {
        if (rt_slice_resolve(x, c->n_in, c->in, in, params, dims))
            return RT_ESHAPE;
        for (int k = 0; k < x->rank; k++)
            if (dims[k] != y->dims[k])
                return RT_ESHAPE;
        pa = params;
    } else if (c->n_ints != RT_SLICE_AXIS(x->rank) || y->rank != x->rank) {
        return RT_EINVAL;
    }
    if (rt_numel(y) == 0)
        return RT_OK;
    int64_t xs[RT_MAX_RANK], st[RT_MAX_RANK], base = 0;
    rt_strides(x, xs);
    for (int k = 0; k < x->rank; k++) {
        int64_t start = pa[RT_SLICE_AXIS(k) + RT_SLICE_START];
        int64_t step = pa[RT_SLICE_AXIS(k) + RT_SLICE_STEP];
        int64_t last = start + (y->dims[k] - 1) * step;
        if (start < 0 || start >= x->dims[k] || last < 0 || last >= x->dims[k])
            return RT_EINVAL;
        base += start * xs[k];
        st[k] = xs[k] * step;
    }
    if (!esz) /* packed: k_narrow.c */
        rt_packed_strided(out[0], in[0], x->dtype, base, x->rank, y->dims, st);
    else
        copy_strided(out[0], (const byte *)in[0] + base * (int64_t)esz, esz, x->rank, y->dims,
                     st);
    return RT_OK;
}

int rt_gather(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *ix = &c->in[1];
    Span sp;
    if (rt_is_packed(c->in[0].dtype))
        return rt_gather_packed(c, in, out);
    int rc = span(c, &c->in[0], RT_GATHER_AXIS, &sp);
    if (rc)
        return rc;
    int64_t outer = sp.outer, n = rt_numel(ix), dim = sp.dim;
    size_t run = (size_t)sp.inner * sp.esz;
    const byte *s = in[0];
    byte *d = out[0];
    for (int64_t o = 0; o < outer; o++) {
        const byte *so = s + (size_t)(o * dim) * run;
        for (int64_t j = 0; j < n; j++) {
            int64_t i = ix->dtype == RT_I64 ? ((const int64_t *)in[1])[j]
                      : ix->dtype == RT_I32 ? ((const int32_t *)in[1])[j]
                      : rt_load_i64(in[1], ix->dtype, j);
            if (i < 0)
                i += dim;
            if (i < 0 || i >= dim)
                return RT_EINVAL;
            if (run == 4)
                memcpy(d, so + i * 4, 4);
            else
                memcpy(d, so + (size_t)i * run, run);
            d += run;
        }
    }
    return RT_OK;
}

/* Writes one element holding the fill value of rt_fill's RT_FILL_VALUE. */
static void fill_value(byte *elem, int dtype, int64_t v)
{
    if (rt_is_float(dtype) || rt_is_narrow_float(dtype)) {
        double f;
        memcpy(&f, &v, sizeof f);
        rt_store_f64(elem, dtype, 0, f);
    } else {
        rt_store_i64(elem, dtype, 0, v);
    }
}

int rt_fill(const RtCall *c, const void *const *in, void *const *out)
{
    (void)in;
    const RtTensorDesc *y = &c->out[0];
    size_t esz = rt_dtype_size(y->dtype);
    if (!esz || esz > 8)
        return RT_EDTYPE;
    byte elem[8];
    fill_value(elem, y->dtype, rt_param_int(c, RT_FILL_VALUE, 0));
    rt_fill_elems(out[0], elem, esz, rt_numel(y));
    return RT_OK;
}

/* Index into an axis of extent d for padded coordinate i (ONNX Pad modes:
 * reflect mirrors without repeating the edge, as numpy.pad does, periodically
 * for pads wider than the axis); -1 means "the constant". */
static int64_t pad_map(int mode, int64_t i, int64_t d)
{
    if (i >= 0 && i < d)
        return i;
    if (d <= 0)
        return -1;
    switch (mode) {
    case RT_PAD_EDGE:
        return i < 0 ? 0 : d - 1;
    case RT_PAD_REFLECT: {
        if (d == 1)
            return 0;
        int64_t period = 2 * (d - 1), m = i % period;
        if (m < 0)
            m += period;
        return m < d ? m : period - m;
    }
    case RT_PAD_WRAP: {
        int64_t m = i % d;
        return m < 0 ? m + d : m;
    }
    default:
        return -1;
    }
}

int rt_pad(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz || esz > 8)
        return RT_EDTYPE;
    int r = x->rank;
    /* the mode alone: the pads are inputs read when it runs */
    int64_t begins[RT_MAX_RANK], dims[RT_MAX_RANK];
    const int64_t *begin = c->ints + RT_PAD_BEGIN;
    if (c->n_ints == RT_PAD_BEGIN && r > 0 && y->rank == r) {
        if (rt_pad_resolve(x, c->n_in, c->in, in, begins, dims))
            return RT_ESHAPE;
        for (int k = 0; k < r; k++)
            if (dims[k] != y->dims[k])
                return RT_ESHAPE;
        begin = begins;
    } else if (c->n_ints != RT_PAD_BEGIN + r || y->rank != r) {
        return RT_EINVAL;
    }
    int mode = (int)c->ints[RT_PAD_MODE];
    byte val[8] = {0};
    if (c->n_in > 2 && in[2] && c->in[2].dtype == x->dtype && rt_numel(&c->in[2]) > 0)
        memcpy(val, in[2], esz);
    else if (c->n_floats > RT_PAD_F_VALUE)
        rt_store_f64(val, x->dtype, 0, c->floats[RT_PAD_F_VALUE]);
    if (rt_numel(y) == 0)
        return RT_OK;
    if (r == 0) {
        memcpy(out[0], in[0], esz);
        return RT_OK;
    }
    /* per axis: the kept input range [cb, cb + dd) after cropping negative
     * pads, and the (non-negative) padding before it */
    int64_t cb[RT_MAX_RANK], dd[RT_MAX_RANK], bb[RT_MAX_RANK], xs[RT_MAX_RANK];
    for (int k = 0; k < r; k++) {
        int64_t b = begin[k], e = y->dims[k] - x->dims[k] - b;
        cb[k] = b < 0 ? -b : 0;
        dd[k] = x->dims[k] - cb[k] - (e < 0 ? -e : 0);
        bb[k] = b < 0 ? 0 : b;
        if (dd[k] < 0 || (dd[k] == 0 && mode != RT_PAD_CONSTANT))
            return RT_EINVAL;
    }
    rt_strides(x, xs);
    int64_t od = y->dims[r - 1], lo = bb[r - 1], hi = lo + dd[r - 1];
    if (lo > od)
        lo = od;
    if (hi > od)
        hi = od;
    int64_t rows = rt_numel(y) / od, idx[RT_MAX_RANK] = {0};
    const byte *src = in[0];
    byte *dst = out[0];
    for (int64_t row = 0; row < rows; row++) {
        int64_t so = 0;
        int constant = 0;
        for (int k = 0; k < r - 1; k++) {
            int64_t i = pad_map(mode, idx[k] - bb[k], dd[k]);
            if (i < 0) {
                constant = 1;
                break;
            }
            so += (cb[k] + i) * xs[k];
        }
        if (constant) {
            rt_fill_elems(dst, val, esz, od);
        } else {
            const byte *sp = src + (so + cb[r - 1]) * (int64_t)esz;
            if (mode == RT_PAD_CONSTANT) {
                rt_fill_elems(dst, val, esz, lo);
                rt_fill_elems(dst + hi * (int64_t)esz, val, esz, od - hi);
            } else {
                for (int64_t o = 0; o < lo; o++)
                    memcpy(dst + o * (int64_t)esz,
                           sp + pad_map(mode, o - bb[r - 1], dd[r - 1]) * (int64_t)esz, esz);
                for (int64_t o = hi; o < od; o++)
                    memcpy(dst + o * (int64_t)esz,
                           sp + pad_map(mode, o - bb[r - 1], dd[r - 1]) * (int64_t)esz, esz);
            }
            if (hi > lo)
                memcpy(dst + lo * (int64_t)esz, sp, (size_t)(hi - lo) * esz);
        }
        dst += od * (int64_t)esz;
        rt_index_next(idx, y->dims, r - 1);
    }
    return RT_OK;
}

int rt_expand(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz)
        return RT_EDTYPE;
    int64_t st[RT_MAX_RANK];
    if (rt_broadcast_strides(x, y, st))
        return RT_EINVAL;
    if (y->rank == 0) {
        memcpy(out[0], in[0], esz);
        return RT_OK;
    }
    copy_strided(out[0], in[0], esz, y->rank, y->dims, st);
    return RT_OK;
}

/* Tile is a broadcast over a view of the output as [repeat_k, extent_k]
 * pairs, in which each repeat axis has stride 0 in the input. */
int rt_tile(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz)
        return RT_EDTYPE;
    if (y->rank != x->rank)
        return RT_EINVAL;
    if (x->rank == 0) {
        memcpy(out[0], in[0], esz);
        return RT_OK;
    }
    int64_t xs[RT_MAX_RANK], dims[MAXD], st[MAXD];
    rt_strides(x, xs);
    for (int k = 0; k < x->rank; k++) {
        if (x->dims[k] == 0 || y->dims[k] % x->dims[k])
            return y->dims[k] == 0 ? RT_OK : RT_EINVAL;
        dims[2 * k] = y->dims[k] / x->dims[k];
        st[2 * k] = 0;
        dims[2 * k + 1] = x->dims[k];
        st[2 * k + 1] = xs[k];
    }
    copy_strided(out[0], in[0], esz, 2 * x->rank, dims, st);
    return RT_OK;
}

/* DepthToSpace as a 6-D transposition of in[0] = [N, C, H, W]:
 * DCR reads C as [b, b, C'] and CRD as [C', b, b]; the output [N, C', H, b, W, b]. */
int rt_depth_to_space(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz)
        return RT_EDTYPE;
    if (x->rank != 4 || c->n_ints < RT_DEPTH_TO_SPACE_NINTS ||
        c->ints[RT_DEPTH_TO_SPACE_BLOCK] < 1)
        return RT_EINVAL;
    int64_t b = c->ints[RT_DEPTH_TO_SPACE_BLOCK];
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t Co = C / (b * b), hw = H * W;
    int64_t dims[6] = {N, Co, H, b, W, b}, st[6];
    st[0] = C * hw;
    st[2] = W;
    st[4] = 1;
    if (c->ints[RT_DEPTH_TO_SPACE_MODE] == 0) {        /* DCR: channel = (i * b + j) * C' + c */
        st[1] = hw;
        st[3] = b * Co * hw;
        st[5] = Co * hw;
    } else {                      /* CRD: channel = c * b * b + i * b + j */
        st[1] = b * b * hw;
        st[3] = b * hw;
        st[5] = hw;
    }
    copy_strided(out[0], in[0], esz, 6, dims, st);
    return RT_OK;
}

/* SpaceToDepth: out [N, C*b*b, H/b, W/b], channel (i * b + j) * C + c reads
 * in[n, c, h * b + i, w * b + j]. */
int rt_space_to_depth(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz)
        return RT_EDTYPE;
    if (x->rank != 4 || c->n_ints < RT_SPACE_TO_DEPTH_NINTS ||
        c->ints[RT_SPACE_TO_DEPTH_BLOCK] < 1)
        return RT_EINVAL;
    int64_t b = c->ints[RT_SPACE_TO_DEPTH_BLOCK];
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t dims[6] = {N, b, b, C, H / b, W / b};
    int64_t st[6] = {C * H * W, W, 1, H * W, b * W, b};
    copy_strided(out[0], in[0], esz, 6, dims, st);
    return RT_OK;
}

/* Reads element i of an index tensor and resolves a negative index against
 * extent dim; -1 when out of range. */
static int64_t load_index(const void *p, int dtype, int64_t i, int64_t dim)
{
    int64_t v = dtype == RT_I64 ? ((const int64_t *)p)[i] : rt_load_i64(p, dtype, i);
    if (v < 0)
        v += dim;
    return v < 0 || v >= dim ? -1 : v;
}

int rt_gather_elements(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *ix = &c->in[1];
    Span sp;
    int rc = span(c, x, RT_GATHER_ELEMENTS_AXIS, &sp);
    if (rc)
        return rc;
    int r = x->rank, axis = sp.axis;
    if (ix->rank != r)
        return RT_EINVAL;
    size_t esz = sp.esz;
    int64_t xs[RT_MAX_RANK], idx[RT_MAX_RANK] = {0}, n = rt_numel(ix);
    rt_strides(x, xs);
    const byte *s = in[0];
    byte *d = out[0];
    for (int64_t e = 0; e < n; e++) {
        int64_t i = load_index(in[1], ix->dtype, e, x->dims[axis]);
        if (i < 0)
            return RT_EINVAL;
        int64_t off = 0;
        for (int k = 0; k < r; k++)
            off += (k == axis ? i : idx[k]) * xs[k];
        memcpy(d + e * (int64_t)esz, s + off * (int64_t)esz, esz);
        rt_index_next(idx, ix->dims, r);
    }
    return RT_OK;
}

/* dst op= src for one element under a scatter reduction. */
static void scatter_one(byte *dst, const byte *src, int dtype, size_t esz, int red)
{
    if (red == RT_SCATTER_NONE) {
        memcpy(dst, src, esz);
        return;
    }
    if (rt_is_float(dtype)) {
        double a = rt_load_f64(dst, dtype, 0), b = rt_load_f64(src, dtype, 0);
        double v = red == RT_SCATTER_ADD ? a + b : red == RT_SCATTER_MUL ? a * b
                 : red == RT_SCATTER_MAX ? (a > b ? a : b) : (a < b ? a : b);
        rt_store_f64(dst, dtype, 0, v);
    } else {
        int64_t a = rt_load_i64(dst, dtype, 0), b = rt_load_i64(src, dtype, 0);
        int64_t v = red == RT_SCATTER_ADD ? (int64_t)((uint64_t)a + (uint64_t)b)
                  : red == RT_SCATTER_MUL ? (int64_t)((uint64_t)a * (uint64_t)b)
                  : red == RT_SCATTER_MAX ? (a > b ? a : b) : (a < b ? a : b);
        rt_store_i64(dst, dtype, 0, v);
    }
}

int rt_scatter_elements(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *ix = &c->in[1];
    Span sp;
    int rc = span(c, x, RT_SCATTER_ELEMENTS_AXIS, &sp);
    if (rc)
        return rc;
    int r = x->rank, axis = sp.axis;
    if (c->n_ints < RT_SCATTER_ELEMENTS_NINTS || ix->rank != r)
        return RT_EINVAL;
    size_t esz = sp.esz;
    int red = (int)c->ints[RT_SCATTER_ELEMENTS_REDUCTION];
    memcpy(out[0], in[0], (size_t)rt_numel(x) * esz);
    int64_t xs[RT_MAX_RANK], idx[RT_MAX_RANK] = {0}, n = rt_numel(ix);
    rt_strides(x, xs);
    const byte *u = in[2];
    byte *d = out[0];
    for (int64_t e = 0; e < n; e++) {
        int64_t i = load_index(in[1], ix->dtype, e, x->dims[axis]);
        if (i < 0)
            return RT_EINVAL;
        int64_t off = 0;
        for (int k = 0; k < r; k++)
            off += (k == axis ? i : idx[k]) * xs[k];
        scatter_one(d + off * (int64_t)esz, u + e * (int64_t)esz, x->dtype, esz, red);
        rt_index_next(idx, ix->dims, r);
    }
    return RT_OK;
}

/* GatherND (ONNX): indices [B.., M.., q] address slices of data [B.., D..]
 * whose first q axes after the batch_dims batch axes are indexed. */
int rt_gather_nd(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *ix = &c->in[1];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz)
        return RT_EDTYPE;
    int bd = (int)rt_param_int(c, RT_GATHER_ND_BATCH_DIMS, 0);
    if (ix->rank < 1)
        return RT_EINVAL;
    int q = (int)ix->dims[ix->rank - 1];
    if (bd < 0 || bd + q > x->rank || bd > ix->rank - 1)
        return RT_EINVAL;
    int64_t xs[RT_MAX_RANK];
    rt_strides(x, xs);
    int64_t batch = rt_prod(x->dims, 0, bd);
    int64_t per_batch = rt_prod(ix->dims, bd, ix->rank - 1);
    int64_t slice = rt_prod(x->dims, bd + q, x->rank);
    int64_t xbatch = rt_prod(x->dims, bd, x->rank);
    size_t run = (size_t)slice * esz;
    const byte *s = in[0];
    byte *d = out[0];
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t j = 0; j < per_batch; j++) {
            int64_t base = (b * per_batch + j) * q, off = b * xbatch;
            for (int k = 0; k < q; k++) {
                int64_t i = load_index(in[1], ix->dtype, base + k, x->dims[bd + k]);
                if (i < 0)
                    return RT_EINVAL;
                off += i * xs[bd + k];
            }
            memcpy(d, s + off * (int64_t)esz, run);
            d += run;
        }
    }
    return RT_OK;
}

int rt_scatter_nd(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *ix = &c->in[1];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz)
        return RT_EDTYPE;
    int red = (int)rt_param_int(c, RT_SCATTER_ND_REDUCTION, RT_SCATTER_NONE);
    if (ix->rank < 1)
        return RT_EINVAL;
    int q = (int)ix->dims[ix->rank - 1];
    if (q > x->rank)
        return RT_EINVAL;
    memcpy(out[0], in[0], (size_t)rt_numel(x) * esz);
    int64_t xs[RT_MAX_RANK];
    rt_strides(x, xs);
    int64_t n = rt_prod(ix->dims, 0, ix->rank - 1), slice = rt_prod(x->dims, q, x->rank);
    const byte *u = in[2];
    byte *d = out[0];
    for (int64_t j = 0; j < n; j++) {
        int64_t off = 0;
        for (int k = 0; k < q; k++) {
            int64_t i = load_index(in[1], ix->dtype, j * q + k, x->dims[k]);
            if (i < 0)
                return RT_EINVAL;
            off += i * xs[k];
        }
        for (int64_t e = 0; e < slice; e++)
            scatter_one(d + (off + e) * (int64_t)esz, u + (j * slice + e) * (int64_t)esz,
                        x->dtype, esz, red);
    }
    return RT_OK;
}

/* Compress: the slices along axis whose condition (in[1], read at run time)
 * is true; the output extent says how many there must be. */
int rt_compress(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *cd = &c->in[1], *y = &c->out[0];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz)
        return RT_EDTYPE;
    if (c->n_ints < RT_COMPRESS_NINTS || c->ints[RT_COMPRESS_AXIS] >= x->rank)
        return RT_EINVAL;
    int axis = (int)c->ints[RT_COMPRESS_AXIS];
    int64_t outer = 1, inner = 1, dim = rt_numel(x), want = rt_numel(y);
    if (axis >= 0) {
        outer = rt_prod(x->dims, 0, axis);
        inner = rt_prod(x->dims, axis + 1, x->rank);
        dim = x->dims[axis];
        want = y->dims[axis];
    }
    int64_t n = rt_numel(cd), kept = 0;
    if (n > dim)
        n = dim;
    for (int64_t j = 0; j < n; j++)
        kept += rt_load_i64(in[1], cd->dtype, j) != 0;
    if (kept != want)
        return RT_EINVAL;
    size_t run = (size_t)inner * esz;
    const byte *s = in[0];
    byte *d = out[0];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n; j++)
            if (rt_load_i64(in[1], cd->dtype, j)) {
                memcpy(d, s + (size_t)(o * dim + j) * run, run);
                d += run;
            }
    return RT_OK;
}

int rt_reverse_sequence(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *sl = &c->in[1];
    size_t esz = rt_dtype_size(x->dtype);
    if (!esz)
        return RT_EDTYPE;
    int r = x->rank;
    if (c->n_ints < RT_REVERSE_SEQUENCE_NINTS || r < 2)
        return RT_EINVAL;
    int ba = (int)c->ints[RT_REVERSE_SEQUENCE_BATCH_AXIS];
    int ta = (int)c->ints[RT_REVERSE_SEQUENCE_TIME_AXIS];
    if (ba < 0 || ba >= r || ta < 0 || ta >= r || ba == ta || rt_numel(sl) != x->dims[ba])
        return RT_EINVAL;
    int64_t xs[RT_MAX_RANK], idx[RT_MAX_RANK] = {0}, n = rt_numel(x), T = x->dims[ta];
    rt_strides(x, xs);
    const byte *s = in[0];
    byte *d = out[0];
    for (int64_t e = 0; e < n; e++) {
        int64_t len = rt_load_i64(in[1], sl->dtype, idx[ba]), t = idx[ta];
        if (len < 0 || len > T)
            return RT_EINVAL;
        int64_t src = e + (t < len ? (len - 1 - 2 * t) * xs[ta] : 0);
        memcpy(d + e * (int64_t)esz, s + src * (int64_t)esz, esz);
        rt_index_next(idx, x->dims, r);
    }
    return RT_OK;
}
