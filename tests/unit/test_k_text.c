/* test_k_text.c: TfIdfVectorizer's kernel, and the pool checks and table of its infer. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

/* ONNX's example pool: unigrams 2 3 5 4 (columns 0..3), bigrams 5 6, 7 8,
 * 6 7 (columns 4..6), laid out sorted as rt_tfidf reads it. */
static const int64_t example_table[22] = {
    2, 5, 4, 13, 3,
    2, 0, 3, 1, 4, 3, 5, 2,
    5, 6, 4, 6, 7, 6, 7, 8, 5,
};

static void test_kernel(void)
{
    /* ONNX's uniandbigrams_skip5 case: 3 occurs three times; 7 8 is found at
     * distances 1, 3 and 6; 5 6 and 6 7 only next to each other. */
    int32_t x[12] = {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8};
    float y[7];
    int64_t xd[1] = {12}, td[1] = {22}, yd[1] = {7};
    RtTensorDesc in[3] = {desc(RT_I32, 1, xd), desc(RT_I64, 1, td), {0, 0, {0}}};
    RtTensorDesc out = desc(RT_F32, 1, yd);
    int64_t ints[3] = {1, 5, RT_TFIDF_TF};
    RtCall c = {3, 1, in, &out, 3, 0, ints, NULL};
    const void *ip[3] = {x, example_table, NULL};
    void *op[1] = {y};
    CHECK(RT_OK, rt_tfidf(&c, ip, op));
    const float tf[7] = {0, 3, 1, 0, 1, 3, 1};
    for (int j = 0; j < 7; j++)
        CHECK_NEAR(tf[j], y[j], 0);

    /* bigrams only, no skips: each of the three once */
    ints[0] = 2;
    ints[1] = 0;
    CHECK(RT_OK, rt_tfidf(&c, ip, op));
    const float bi[7] = {0, 0, 0, 0, 1, 1, 1};
    for (int j = 0; j < 7; j++)
        CHECK_NEAR(bi[j], y[j], 0);

    /* int64 batch [2, 3] with weights: row 0 is 3 3 5, row 1 is 5 6 2 */
    int64_t x2[6] = {3, 3, 5, 5, 6, 2}, x2d[2] = {2, 3}, y2d[2] = {2, 7};
    float w[7] = {0.5f, 0.25f, 2, 4, 8, 16, 32}, y2[14];
    RtTensorDesc in2[3] = {desc(RT_I64, 2, x2d), desc(RT_I64, 1, td), desc(RT_F32, 1, yd)};
    RtTensorDesc out2 = desc(RT_F32, 2, y2d);
    int64_t ints2[3] = {1, 0, RT_TFIDF_TFIDF};
    RtCall c2 = {3, 1, in2, &out2, 3, 0, ints2, NULL};
    const void *ip2[3] = {x2, example_table, w};
    void *op2[1] = {y2};
    CHECK(RT_OK, rt_tfidf(&c2, ip2, op2));
    const float tfidf[14] = {0, 0.5f, 2, 0, 0, 0, 0, 0.5f, 0, 2, 0, 8, 0, 0};
    for (int j = 0; j < 14; j++)
        CHECK_NEAR(tfidf[j], y2[j], 0);
    ints2[2] = RT_TFIDF_IDF;
    CHECK(RT_OK, rt_tfidf(&c2, ip2, op2));
    const float idf[14] = {0, 0.25f, 2, 0, 0, 0, 0, 0.5f, 0, 2, 0, 8, 0, 0};
    for (int j = 0; j < 14; j++)
        CHECK_NEAR(idf[j], y2[j], 0);
    /* IDF without weights marks presence */
    ip2[2] = NULL;
    CHECK(RT_OK, rt_tfidf(&c2, ip2, op2));
    CHECK_NEAR(1, y2[1], 0);
    CHECK_NEAR(1, y2[11], 0);
    CHECK_NEAR(0, y2[4], 0);

    /* a table whose header points past its end is refused */
    int64_t bad[5] = {2, 5, 4, 13, 3};
    in[1] = desc(RT_I64, 1, (int64_t[1]){5});
    ip[1] = bad;
    CHECK(RT_EINVAL, rt_tfidf(&c, ip, op));
}

/* A TfIdfVectorizer node over an int64 input of n_x tokens. */
typedef struct Fixture {
    Graph *g;
    Node *n;
    Attr attrs[8];
} Fixture;

static void fixture(Fixture *f, int64_t n_x)
{
    memset(f, 0, sizeof *f);
    f->g = ir_graph_new(NULL);
    Value *x = ir_value_new(f->g, "x");
    x->dtype = RT_I64;
    x->rank = 1;
    x->dims[0] = n_x;
    x->is_input = 1;
    f->n = ir_node_new(f->g, "TfIdfVectorizer", "", "tfidf", 1, 1);
    f->n->in[0] = x;
    f->n->out[0] = ir_value_new(f->g, "y");
    f->n->out[0]->producer = f->n;
    f->n->attrs = f->attrs;
}

static void set_int(Fixture *f, const char *name, int64_t v)
{
    Attr *a = &f->attrs[f->n->n_attrs++];
    a->name = name;
    a->type = AT_INT;
    a->i = v;
}

static void set_ints(Fixture *f, const char *name, int64_t *v, int n)
{
    Attr *a = &f->attrs[f->n->n_attrs++];
    a->name = name;
    a->type = AT_INTS;
    a->ints = v;
    a->n = n;
}

/* Pool: unigrams 7 9 7, bigrams 1 2, 3 4, 1 2, each n-gram its own column:
 * a repeated n-gram counts in the column of its last occurrence. */
static int64_t pool[9] = {7, 9, 7, 1, 2, 3, 4, 1, 2};
static int64_t counts[2] = {0, 3};
static int64_t columns[6] = {0, 1, 2, 3, 4, 5};

static void pool_fixture(Fixture *f, int64_t n_x, int64_t min_n, int64_t skip, const char *mode)
{
    fixture(f, n_x);
    set_int(f, "min_gram_length", min_n);
    set_int(f, "max_gram_length", 2);
    set_int(f, "max_skip_count", skip);
    Attr *a = &f->attrs[f->n->n_attrs++];
    a->name = "mode";
    a->type = AT_STRING;
    a->s = mode;
    set_ints(f, "pool_int64s", pool, 9);
    set_ints(f, "ngram_counts", counts, 2);
    set_ints(f, "ngram_indexes", columns, 6);
}

/* Infers f's node, runs it on x and compares with want[6]. */
static void check_run(Fixture *f, int64_t *x, const float *want)
{
    Diag d = {0};
    CHECK(0, ir_infer_tfidf(f->g, f->n, &d));
    CHECK(3, f->n->n_in);
    f->n->in[0]->data = x;
    CHECK(0, ir_eval_node(f->g, f->n, &d));
    const float *y = f->n->out[0]->data;
    CHECK(6, ir_numel(f->n->out[0]));
    for (int j = 0; j < 6 && y; j++)
        CHECK_NEAR(want[j], y[j], 1e-7);
    ir_graph_free(f->g);
}

static void test_infer(void)
{
    Fixture f;
    int64_t x[5] = {7, 1, 2, 9, 7};
    pool_fixture(&f, 5, 1, 0, "TF");
    check_run(&f, x, (const float[6]){0, 1, 2, 0, 0, 1});
    /* unigrams are not matched, but they still number the n-grams */
    pool_fixture(&f, 5, 2, 0, "TF");
    check_run(&f, x, (const float[6]){0, 0, 0, 0, 0, 1});
    /* 1 5 2 3 4: 3 4 is adjacent, 1 2 one token apart */
    int64_t xs[5] = {1, 5, 2, 3, 4};
    pool_fixture(&f, 5, 2, 1, "TF");
    check_run(&f, xs, (const float[6]){0, 0, 0, 0, 1, 1});
    pool_fixture(&f, 5, 2, 0, "TF");
    check_run(&f, xs, (const float[6]){0, 0, 0, 0, 1, 0});
    /* weights, by output column */
    float w[6] = {0.5f, 1, 1.5f, 2, 2.5f, 3};
    int64_t xw[4] = {7, 7, 1, 2};
    pool_fixture(&f, 4, 1, 0, "TFIDF");
    Attr *a = &f.attrs[f.n->n_attrs++];
    a->name = "weights";
    a->type = AT_FLOATS;
    a->floats = w;
    a->n = 6;
    check_run(&f, xw, (const float[6]){0, 0, 3, 0, 0, 3});

    /* inferring again reuses the table instead of adding inputs */
    Diag d = {0};
    pool_fixture(&f, 4, 1, 0, "TF");
    CHECK(0, ir_infer_tfidf(f.g, f.n, &d));
    int n_values = f.g->n_values;
    Value *table = f.n->in[1];
    f.n->n_ints = f.n->n_floats = 0; /* as pass_shape does before each infer */
    CHECK(0, ir_infer_tfidf(f.g, f.n, &d));
    CHECK(3, f.n->n_in);
    CHECK_TRUE(table == f.n->in[1]);
    CHECK_TRUE(f.n->in[2] == NULL);
    CHECK(n_values, f.g->n_values);
    /* 2 unigrams, 2 bigrams after dropping repeats: 1 + 2*2 + 2*2 + 2*3 */
    CHECK(15, ir_numel(table));
    ir_graph_free(f.g);
}

/* The infer's error for a node with the given attribute changed. */
static void check_error(const char *name, int64_t *v, int n, const char *want)
{
    Fixture f;
    Diag d = {0};
    pool_fixture(&f, 5, 1, 0, "TF");
    for (int i = 0; i < f.n->n_attrs; i++)
        if (!strcmp(f.attrs[i].name, name)) {
            f.attrs[i].ints = v;
            f.attrs[i].n = n;
        }
    CHECK(-1, ir_infer_tfidf(f.g, f.n, &d));
    CHECK_STR_CONTAINS(d.msg, "node 'tfidf' (TfIdfVectorizer)");
    CHECK_STR_CONTAINS(d.msg, want);
    ir_graph_free(f.g);
}

static void test_errors(void)
{
    int64_t odd[2] = {0, 4}, back[2] = {3, 2}, neg[6] = {0, 1, -2, 3, 4, 5};
    check_error("ngram_counts", odd, 2, "ngram_counts[1] = 4");
    check_error("ngram_counts", back, 2, "ngram_counts[0] = 3");
    check_error("ngram_indexes", columns, 5, "ngram_indexes has 5 entries for 6 n-grams");
    check_error("ngram_indexes", neg, 6, "ngram_indexes[2] = -2 is negative");

    Fixture f;
    Diag d = {0};
    pool_fixture(&f, 5, 1, 0, "TF");
    Attr *a = &f.attrs[f.n->n_attrs++];
    a->name = "pool_strings";
    a->type = AT_STRINGS;
    CHECK(-1, ir_infer_tfidf(f.g, f.n, &d));
    CHECK_STR_CONTAINS(d.msg, "pool_strings");
    CHECK_STR_CONTAINS(d.msg, "not supported");
    ir_graph_free(f.g);
}

int main(void)
{
    test_kernel();
    test_infer();
    test_errors();
    return CHECK_DONE();
}
