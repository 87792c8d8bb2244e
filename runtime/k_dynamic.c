/* k_dynamic.c: kernels with a data-dependent output extent: NonZero, Unique, NonMaxSuppression. */
#include <string.h>

#include "rt_internal.h"

/* The extent output every kernel here ends with (see k_dynamic.h). */
static int64_t *extent_out(const RtCall *c, void *const *out)
{
    const RtTensorDesc *t = &c->out[c->n_out - 1];
    return t->dtype == RT_I64 && t->rank == 0 ? out[c->n_out - 1] : NULL;
}

/* ---- NonZero ---- */

static int is_nonzero(const void *x, int dt, int64_t i)
{
    if (rt_is_float(dt))
        return rt_load_f64(x, dt, i) != 0; /* NaN counts as non-zero, as in NumPy */
    return rt_load_i64(x, dt, i) != 0;
}

int rt_nonzero(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 1 || c->n_out != 2)
        return RT_EINVAL;
    const RtTensorDesc *x = &c->in[0];
    int64_t *y = out[0], *len = extent_out(c, out);
    int rank = x->rank ? x->rank : 1;
    int64_t numel = rt_numel(x), bound = c->out[0].dims[1], n = 0;
    if (!len || !rt_dtype_size(x->dtype) || c->out[0].dims[0] != rank)
        return RT_EINVAL;
    /* count first: the row stride of the [rank, N] output is N */
    for (int64_t i = 0; i < numel; i++)
        n += is_nonzero(in[0], x->dtype, i);
    if (n > bound)
        return RT_EINVAL;
    int64_t idx[RT_MAX_RANK] = {0}, one[1] = {numel}, j = 0;
    const int64_t *dims = x->rank ? x->dims : one;
    for (int64_t i = 0; i < numel; i++, rt_index_next(idx, dims, rank)) {
        if (!is_nonzero(in[0], x->dtype, i))
            continue;
        for (int a = 0; a < rank; a++)
            y[a * n + j] = idx[a];
        j++;
    }
    *len = n;
    return RT_OK;
}

/* ---- Unique ---- */

typedef struct Slices {
    const void *x;
    int dt;
    int64_t outer, n, inner;
} Slices;

/* Three-way comparison of elements a and b; NaN sorts last and equals NaN,
 * as NumPy's unique treats it. */
static int cmp_elem(const void *x, int dt, int64_t a, int64_t b)
{
    if (dt == RT_U64) {
        uint64_t p = ((const uint64_t *)x)[a], q = ((const uint64_t *)x)[b];
        return (p > q) - (p < q);
    }
    if (!rt_is_float(dt)) {
        int64_t p = rt_load_i64(x, dt, a), q = rt_load_i64(x, dt, b);
        return (p > q) - (p < q);
    }
    double p = rt_load_f64(x, dt, a), q = rt_load_f64(x, dt, b);
    if (p != p || q != q)
        return (p != p) - (q != q);
    return (p > q) - (p < q);
}

/* Lexicographic comparison of slices i and j: the elements of x[:, i, :] in
 * row-major order, which is how NumPy orders rows of the axis-first view. */
static int cmp_slice(const Slices *s, int64_t i, int64_t j)
{
    for (int64_t o = 0; o < s->outer; o++)
        for (int64_t t = 0; t < s->inner; t++) {
            int r = cmp_elem(s->x, s->dt, (o * s->n + i) * s->inner + t,
                             (o * s->n + j) * s->inner + t);
            if (r)
                return r;
        }
    return 0;
}

static int first_occurrence(const Slices *s, int64_t i)
{
    for (int64_t j = 0; j < i; j++)
        if (cmp_slice(s, j, i) == 0)
            return 0;
    return 1;
}

/* The first occurrence of the distinct slice that follows the one first seen
 * at prev (prev < 0: the first one), or -1. Sorted: the smallest slice
 * greater than prev's, by a scan (ties keep the lowest index); otherwise the
 * next first occurrence after prev. O(n) comparisons per step when sorted. */
static int64_t next_unique(const Slices *s, int sorted, int64_t prev)
{
    if (!sorted) {
        for (int64_t i = prev + 1; i < s->n; i++)
            if (first_occurrence(s, i))
                return i;
        return -1;
    }
    int64_t best = -1;
    for (int64_t j = 0; j < s->n; j++)
        if ((prev < 0 || cmp_slice(s, j, prev) > 0) && (best < 0 || cmp_slice(s, j, best) < 0))
            best = j;
    return best;
}

int rt_unique(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 1 || c->n_out < 2 || c->n_out > 5 || c->n_ints < RT_UNIQUE_NINTS)
        return RT_EINVAL;
    const RtTensorDesc *x = &c->in[0];
    Slices s = {in[0], x->dtype, c->ints[RT_UNIQUE_OUTER], c->ints[RT_UNIQUE_N],
                c->ints[RT_UNIQUE_INNER]};
    int sorted = c->ints[RT_UNIQUE_SORTED] != 0, n_decl = c->n_out - 1;
    int64_t *len = extent_out(c, out);
    size_t es = rt_dtype_size(x->dtype);
    if (!len || !es || s.outer * s.n * s.inner != rt_numel(x))
        return RT_EINVAL;
    unsigned char *y = n_decl > 0 ? out[0] : NULL;
    int64_t *indices = n_decl > 1 ? out[1] : NULL, *inverse = n_decl > 2 ? out[2] : NULL;
    int64_t *counts = n_decl > 3 ? out[3] : NULL;
    /* Y's rows are [outer, U, inner]: count U before writing (U <= n, every bound) */
    int64_t u = 0;
    for (int64_t i = next_unique(&s, sorted, -1); i >= 0; i = next_unique(&s, sorted, i))
        u++;
    int64_t p = 0;
    for (int64_t i = next_unique(&s, sorted, -1); i >= 0; i = next_unique(&s, sorted, i), p++) {
        int64_t count = 0;
        for (int64_t j = i; j < s.n; j++) {
            if (cmp_slice(&s, i, j) != 0)
                continue;
            count++;
            if (inverse)
                inverse[j] = p;
        }
        if (indices)
            indices[p] = i;
        if (counts)
            counts[p] = count;
        for (int64_t o = 0; y && o < s.outer; o++)
            memcpy(y + (size_t)((o * u + p) * s.inner) * es,
                   (const unsigned char *)in[0] + (size_t)((o * s.n + i) * s.inner) * es,
                   (size_t)s.inner * es);
    }
    *len = u;
    return RT_OK;
}

/* ---- NonMaxSuppression ---- */

/* Does box a overlap box b by more than thr (intersection over union)?
 * Single precision and the same order of operations as ONNX's reference, so
 * borderline cases fall the same way. */
static int suppresses(const float *a, const float *b, int center, float thr)
{
    float ax0, ax1, ay0, ay1, bx0, bx1, by0, by1;
    if (center) {
        ax0 = a[0] - a[2] / 2, ax1 = a[0] + a[2] / 2, ay0 = a[1] - a[3] / 2, ay1 = a[1] + a[3] / 2;
        bx0 = b[0] - b[2] / 2, bx1 = b[0] + b[2] / 2, by0 = b[1] - b[3] / 2, by1 = b[1] + b[3] / 2;
    } else {
        /* [y1, x1, y2, x2] with either corner first */
        ax0 = a[1] < a[3] ? a[1] : a[3], ax1 = a[1] < a[3] ? a[3] : a[1];
        ay0 = a[0] < a[2] ? a[0] : a[2], ay1 = a[0] < a[2] ? a[2] : a[0];
        bx0 = b[1] < b[3] ? b[1] : b[3], bx1 = b[1] < b[3] ? b[3] : b[1];
        by0 = b[0] < b[2] ? b[0] : b[2], by1 = b[0] < b[2] ? b[2] : b[0];
    }
    float ix0 = ax0 > bx0 ? ax0 : bx0, ix1 = ax1 < bx1 ? ax1 : bx1;
    float iy0 = ay0 > by0 ? ay0 : by0, iy1 = ay1 < by1 ? ay1 : by1;
    if (ix1 <= ix0 || iy1 <= iy0)
        return 0;
    float inter = (ix1 - ix0) * (iy1 - iy0);
    float area_a = (ax1 - ax0) * (ay1 - ay0), area_b = (bx1 - bx0) * (by1 - by0);
    float uni = area_a + area_b - inter;
    if (inter <= 0 || area_a <= 0 || area_b <= 0 || uni <= 0)
        return 0;
    return inter / uni > thr;
}

/* The best candidate after (ps, pi) in the order (score descending, index
 * ascending), or -1: walking the order this way needs no sorted copy. */
static int64_t next_box(const float *sc, int64_t n, int filter, float thr, int first, float ps,
                        int64_t pi)
{
    int64_t best = -1;
    for (int64_t j = 0; j < n; j++) {
        float v = sc[j];
        if (v != v || (filter && !(v > thr)))
            continue;
        if (!first && !(v < ps || (v == ps && j > pi)))
            continue;
        if (best < 0 || v > sc[best])
            best = j;
    }
    return best;
}

int rt_nms(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 2 || c->n_out != 2 || c->n_ints < RT_NMS_NINTS || c->in[0].dtype != RT_F32 ||
        c->in[1].dtype != RT_F32)
        return RT_EINVAL;
    const RtTensorDesc *bd = &c->in[0], *sd = &c->in[1];
    int64_t nb = bd->dims[0], nbox = bd->dims[1], ncls = sd->dims[1];
    int64_t *y = out[0], *len = extent_out(c, out), bound = c->out[0].dims[0], k = 0;
    int center = c->ints[RT_NMS_CENTER_POINT_BOX] != 0;
    if (!len)
        return RT_EINVAL;
    int64_t max_out = c->n_in > 2 && in[2] ? ((const int64_t *)in[2])[0] : 0;
    float iou = c->n_in > 3 && in[3] ? ((const float *)in[3])[0] : 0;
    int filter = c->n_in > 4 && in[4] != NULL;
    float score_thr = filter ? ((const float *)in[4])[0] : 0;
    for (int64_t b = 0; b < nb; b++) {
        const float *boxes = (const float *)in[0] + b * nbox * 4;
        for (int64_t cl = 0; cl < ncls; cl++) {
            const float *sc = (const float *)in[1] + (b * ncls + cl) * nbox;
            int64_t start = k, j = -1;
            float ps = 0;
            while (k - start < max_out) {
                j = next_box(sc, nbox, filter, score_thr, j < 0, ps, j);
                if (j < 0)
                    break;
                ps = sc[j];
                int keep = 1;
                /* the boxes kept so far for this class are the output rows since start */
                for (int64_t r = start; r < k && keep; r++)
                    keep = !suppresses(boxes + j * 4, boxes + y[r * 3 + 2] * 4, center, iou);
                if (!keep)
                    continue;
                if (k >= bound)
                    return RT_EINVAL;
                y[k * 3] = b, y[k * 3 + 1] = cl, y[k * 3 + 2] = j;
                k++;
            }
        }
    }
    *len = k;
    return RT_OK;
}
