/* k_text.c: kernels of text ops: TfIdfVectorizer over integer tokens. */
#include <string.h>

#include "rt_internal.h"

static int64_t token(const void *x, int is64, int64_t i)
{
    return is64 ? ((const int64_t *)x)[i] : ((const int32_t *)x)[i];
}

/* Orders the n-gram x[s], x[s + d], ... (n tokens) against table entry e. */
static int gram_cmp(const void *x, int is64, int64_t s, int64_t d, const int64_t *e, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        int64_t t = token(x, is64, s + k * d);
        if (t != e[k])
            return t < e[k] ? -1 : 1;
    }
    return 0;
}

/* The output column of that n-gram, or -1: a binary search of the count
 * sorted entries of length n (n tokens and a column each). */
static int64_t gram_find(const int64_t *entries, int64_t count, int64_t n, const void *x,
                         int is64, int64_t s, int64_t d)
{
    int64_t lo = 0, hi = count;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        const int64_t *e = entries + mid * (n + 1);
        int r = gram_cmp(x, is64, s, d, e, n);
        if (r == 0)
            return e[n];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* The table's header must describe entries inside the table. */
static int table_ok(const int64_t *tab, int64_t len)
{
    if (len < 1 || tab[0] < 0 || tab[0] > (len - 1) / 2)
        return 0;
    for (int64_t n = 1; n <= tab[0]; n++) {
        int64_t off = tab[2 * n - 1], count = tab[2 * n];
        if (off < 0 || count < 0 || off > len || count > (len - off) / (n + 1))
            return 0;
    }
    return 1;
}

/* Counts every pool n-gram of one row into y[0 .. width).
 * Cost: for each skip distance, start and length, one binary search:
 * O(C * (max_skip + 1) * L * L * log P) per row for a pool of P n-grams.
 * A trie walk would stop at the first prefix absent from the pool; the
 * sorted table keeps the constant compact and the search without scratch
 * memory, and a row of a text model is short. */
static int count_row(const int64_t *tab, const void *x, int is64, int64_t cols, int64_t min_n,
                     int64_t max_skip, float *y, int64_t width)
{
    int64_t max_n = tab[0];
    for (int64_t d = 1; d - 1 <= max_skip; d++) {
        /* a distance of cols or more leaves only unigrams, counted at d = 1 */
        if (d > 1 && d >= cols)
            break;
        int64_t first = d == 1 || min_n > 2 ? min_n : 2;
        for (int64_t s = 0; s < cols; s++) {
            for (int64_t n = first; n <= max_n; n++) {
                if ((n - 1) * d >= cols - s)
                    break;
                int64_t count = tab[2 * n];
                if (count == 0)
                    continue;
                int64_t col = gram_find(tab + tab[2 * n - 1], count, n, x, is64, s, d);
                if (col < 0)
                    continue;
                if (col >= width)
                    return RT_EINVAL;
                y[col] += 1.0f;
            }
        }
    }
    return RT_OK;
}

int rt_tfidf(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *xd = &c->in[0], *yd = &c->out[0];
    if (c->n_in < 3 || c->n_ints < RT_TFIDF_NINTS || c->in[1].dtype != RT_I64 ||
        yd->dtype != RT_F32 || xd->rank < 1 || xd->rank > 2 || yd->rank != xd->rank)
        return RT_EINVAL;
    if (xd->dtype != RT_I32 && xd->dtype != RT_I64)
        return RT_EDTYPE;
    const int64_t *tab = in[1];
    const float *w = in[2];
    int64_t min_n = c->ints[RT_TFIDF_MIN_GRAM], max_skip = c->ints[RT_TFIDF_MAX_SKIP];
    int64_t mode = c->ints[RT_TFIDF_MODE];
    int64_t rows = xd->rank == 2 ? xd->dims[0] : 1, cols = xd->dims[xd->rank - 1];
    int64_t width = yd->dims[yd->rank - 1];
    if (w && (c->in[2].dtype != RT_F32 || rt_numel(&c->in[2]) != width))
        return RT_EINVAL;
    if (!table_ok(tab, rt_numel(&c->in[1])) || min_n < 1 || max_skip < 0 ||
        mode < RT_TFIDF_TF || mode > RT_TFIDF_TFIDF)
        return RT_EINVAL;
    int is64 = xd->dtype == RT_I64;
    float *y = out[0];
    memset(y, 0, (size_t)(rows * width) * sizeof *y);
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * width;
        const void *xr = is64 ? (const void *)((const int64_t *)in[0] + r * cols)
                              : (const void *)((const int32_t *)in[0] + r * cols);
        int rc = count_row(tab, xr, is64, cols, min_n, max_skip, yr, width);
        if (rc)
            return rc;
        for (int64_t j = 0; j < width && mode != RT_TFIDF_TF; j++) {
            /* ONNX's reference weighs in double, then stores float32 */
            double wj = w ? w[j] : 1.0;
            if (mode == RT_TFIDF_IDF)
                yr[j] = yr[j] > 0 ? (float)wj : 0.0f;
            else
                yr[j] = (float)(wj * yr[j]);
        }
    }
    return RT_OK;
}
