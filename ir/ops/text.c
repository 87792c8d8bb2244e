/* text.c: shapes, parameters and compile-time tables of text ops: TfIdfVectorizer. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* One n-gram of the pool: its tokens, output column and place in the pool. */
typedef struct Gram {
    const int64_t *tok;          /* n tokens inside the pool_int64s attribute */
    int64_t n;                   /* length */
    int64_t col;                 /* output column (its ngram_indexes entry) */
    int64_t order;               /* position among all the pool's n-grams */
} Gram;

/* By length, then tokens, then pool order (so the last duplicate ends a run). */
static int gram_order(const void *pa, const void *pb)
{
    const Gram *a = pa, *b = pb;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (int64_t k = 0; k < a->n; k++)
        if (a->tok[k] != b->tok[k])
            return a->tok[k] < b->tok[k] ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

static int same_tokens(const Gram *a, const Gram *b)
{
    return a->n == b->n && !memcmp(a->tok, b->tok, sizeof *a->tok * (size_t)a->n);
}

/* An INTS attribute as a pointer and count; an empty list may arrive
 * untyped. -1 if absent or of another type. */
static int attr_list(const Node *n, const char *name, const int64_t **p, int64_t *count)
{
    const Attr *a = ir_attr(n, name);
    if (!a || (a->type != AT_INTS && !(a->type == AT_UNDEF && a->n == 0)))
        return -1;
    *p = a->ints;
    *count = a->n;
    return 0;
}

static int need_int_attr(Diag *d, const Node *n, const char *name, int64_t lo, int64_t *v)
{
    const Attr *a = ir_attr(n, name);
    if (!a || a->type != AT_INT)
        return ir_node_error(d, n, "attribute '%s' is missing", name);
    if (a->i < lo)
        return ir_node_error(d, n, "attribute '%s' = %lld is below %lld", name, (long long)a->i,
                             (long long)lo);
    *v = a->i;
    return 0;
}

/* The constant inputs this op gets from its attributes are named after the
 * node, so a later inference finds (and refills) them instead of adding more. */
static void own_name(const Node *n, const char *what, char *buf, size_t len)
{
    snprintf(buf, len, "%s:%s", n->name, what);
}

static int is_own(const Node *n, int i, const char *what)
{
    char name[256];
    own_name(n, what, name, sizeof name);
    const Value *v = n->in[i];
    return v && v->data && !strcmp(v->name, name) && !v->producer && !v->is_input &&
           !v->is_initializer;
}

static Value *own_input(Graph *g, Node *n, int i, const char *what, int dtype, int64_t len)
{
    if (!n->in[i]) {
        char name[256];
        own_name(n, what, name, sizeof name);
        ir_set_input(g, n, i, ir_value_new(g, name));
    }
    Value *v = n->in[i];
    v->dtype = dtype;
    v->rank = 1;
    v->dims[0] = len;
    return ir_value_alloc_data(g, v) ? v : NULL;
}

/* The pool's n-grams of lengths [min_n, max_n] with their columns, in
 * gram_order. The ONNX ids (and so ngram_indexes) count every n-gram of the
 * pool, including those of lengths that are not matched. */
static Gram *pool_grams(Diag *d, const Node *n, int64_t min_n, int64_t max_n, int64_t *count)
{
    const int64_t *pool, *starts, *cols;
    int64_t pool_len, n_starts, n_cols;
    if (attr_list(n, "pool_int64s", &pool, &pool_len) < 0) {
        ir_node_error(d, n, "attribute 'pool_int64s' is missing");
        return NULL;
    }
    if (attr_list(n, "ngram_counts", &starts, &n_starts) < 0 ||
        attr_list(n, "ngram_indexes", &cols, &n_cols) < 0 || n_cols == 0) {
        ir_node_error(d, n, "attributes 'ngram_counts' and 'ngram_indexes' are required");
        return NULL;
    }
    Gram *grams = malloc(sizeof *grams * (size_t)n_cols);
    if (!grams) {
        ir_node_error(d, n, "out of memory for %lld n-grams", (long long)n_cols);
        return NULL;
    }
    int64_t id = 0, kept = 0;
    for (int64_t len = 1; len <= n_starts; len++) {
        int64_t begin = starts[len - 1], end = len < n_starts ? starts[len] : pool_len;
        if (begin < 0 || begin > end || end > pool_len || (end - begin) % len) {
            ir_node_error(d, n, "ngram_counts[%lld] = %lld does not start a whole number of "
                          "%lld-grams inside pool_int64s", (long long)(len - 1),
                          (long long)begin, (long long)len);
            free(grams);
            return NULL;
        }
        for (int64_t at = begin; at < end; at += len, id++) {
            if (id >= n_cols)
                continue; /* reported below */
            if (cols[id] < 0) {
                ir_node_error(d, n, "ngram_indexes[%lld] = %lld is negative", (long long)id,
                              (long long)cols[id]);
                free(grams);
                return NULL;
            }
            if (len >= min_n && len <= max_n)
                grams[kept++] = (Gram){pool + at, len, cols[id], id};
        }
    }
    if (id != n_cols) {
        ir_node_error(d, n, "ngram_indexes has %lld entries for %lld n-grams in the pool",
                      (long long)n_cols, (long long)id);
        free(grams);
        return NULL;
    }
    qsort(grams, (size_t)kept, sizeof *grams, gram_order);
    *count = kept;
    return grams;
}

/* Writes rt_tfidf's n-gram table (layout in runtime/k_text.h). Of repeated
 * n-grams the last in the pool wins, as in ONNX's reference, whose trie
 * overwrites the id. */
static int build_table(Graph *g, Node *n, Diag *d, const Gram *grams, int64_t count,
                       int64_t max_n)
{
    int64_t size = 1 + 2 * max_n;
    for (int64_t i = 0; i < count; i++)
        if (i + 1 == count || !same_tokens(&grams[i], &grams[i + 1]))
            size += grams[i].n + 1;
    Value *v = own_input(g, n, 1, "ngram_table", RT_I64, size);
    if (!v)
        return ir_node_error(d, n, "out of memory for the n-gram table");
    int64_t *tab = v->data, at = 1 + 2 * max_n;
    tab[0] = max_n;
    for (int64_t len = 1; len <= max_n; len++)
        tab[2 * len - 1] = at;
    for (int64_t i = 0; i < count; i++) {
        const Gram *gr = &grams[i];
        if (i + 1 < count && same_tokens(gr, &grams[i + 1]))
            continue;
        if (!tab[2 * gr->n])
            tab[2 * gr->n - 1] = at;
        tab[2 * gr->n]++;
        memcpy(tab + at, gr->tok, sizeof *tab * (size_t)gr->n);
        tab[at + gr->n] = gr->col;
        at += gr->n + 1;
    }
    return 0;
}

/* TfIdfVectorizer (ai.onnx 9) of integer tokens. The n-gram pool is compile
 * time data: it is checked here and handed to the kernel as a sorted table,
 * a constant input appended to the node, as are the weights (if any). */
int ir_infer_tfidf(Graph *g, Node *n, Diag *d)
{
    int inferred = n->n_in == 3 && is_own(n, 1, "ngram_table") &&
                   (!n->in[2] || is_own(n, 2, "weights"));
    if (n->n_in != 1 && !inferred)
        return ir_node_error(d, n, "expects 1 input, got %d", n->n_in);
    const Value *x = n->in[0];
    if (!x)
        return ir_node_error(d, n, "input X is missing");
    if (ir_attr(n, "pool_strings"))
        return ir_node_error(d, n, "string n-grams (pool_strings) are not supported");
    if (x->dtype != RT_I32 && x->dtype != RT_I64)
        return ir_node_error(d, n, "input of dtype %s is not supported (int32 and int64 are)",
                             rt_dtype_name(x->dtype));
    if (x->rank != 1 && x->rank != 2)
        return ir_node_error(d, n, "input must be [C] or [N, C], got rank %d", x->rank);
    const char *mode_s = ir_attr_str(n, "mode", "");
    int mode = !strcmp(mode_s, "TF") ? RT_TFIDF_TF : !strcmp(mode_s, "IDF") ? RT_TFIDF_IDF
             : !strcmp(mode_s, "TFIDF") ? RT_TFIDF_TFIDF : -1;
    if (mode < 0)
        return ir_node_error(d, n, "mode '%s' is not TF, IDF or TFIDF", mode_s);
    int64_t min_n = 1, max_n = 1, max_skip = 0;
    if (need_int_attr(d, n, "min_gram_length", 1, &min_n) ||
        need_int_attr(d, n, "max_gram_length", min_n, &max_n) ||
        need_int_attr(d, n, "max_skip_count", 0, &max_skip))
        return -1;
    /* the pool has no n-grams longer than its ngram_counts list */
    const int64_t *starts;
    int64_t n_starts;
    if (attr_list(n, "ngram_counts", &starts, &n_starts) == 0 && max_n > n_starts)
        max_n = n_starts;
    int64_t count = 0;
    Gram *grams = pool_grams(d, n, min_n, max_n, &count);
    if (!grams)
        return -1;

    const Attr *cols = ir_attr(n, "ngram_indexes");
    int64_t width = 0;
    for (int i = 0; i < cols->n; i++)
        width = cols->ints[i] >= width ? cols->ints[i] + 1 : width;
    const Attr *wa = ir_attr(n, "weights");
    int n_w = wa && wa->type == AT_FLOATS && mode != RT_TFIDF_TF ? wa->n : 0;
    if (n_w && n_w < width) {
        free(grams);
        return ir_node_error(d, n, "weights has %d entries for %lld output columns", n_w,
                             (long long)width);
    }
    if (width > ((int64_t)1 << 31)) {
        free(grams);
        return ir_node_error(d, n, "%lld output columns are too many", (long long)width);
    }
    if (n->n_in == 1)
        ir_set_n_in(g, n, 3);
    int rc = build_table(g, n, d, grams, count, max_n);
    free(grams);
    if (rc)
        return rc;
    /* TF ignores the weights, and the others default to ones: no input then */
    if (mode != RT_TFIDF_TF && n_w) {
        Value *wv = own_input(g, n, 2, "weights", RT_F32, width);
        if (!wv)
            return ir_node_error(d, n, "out of memory for the weights");
        memcpy(wv->data, wa->floats, sizeof *wa->floats * (size_t)width);
    }

    ir_param_int(n, RT_TFIDF_MIN_GRAM, min_n);
    ir_param_int(n, RT_TFIDF_MAX_SKIP, max_skip);
    ir_param_int(n, RT_TFIDF_MODE, mode);
    int64_t dims[2] = {x->dims[0], width};
    return x->rank == 1 ? ir_set_out(n, 0, RT_F32, 1, &width) : ir_set_out(n, 0, RT_F32, 2, dims);
}
