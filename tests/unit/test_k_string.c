/* test_k_string.c: unit tests of the string kernels and of string tensor files. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

#define CHECK_STR(expected, got)                                                       \
    do {                                                                               \
        const char *w_ = (expected), *g_ = (got);                                      \
        check_count++;                                                                 \
        if (!g_ || strcmp(w_, g_)) {                                                   \
            check_failures++;                                                          \
            fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, \
                    w_, g_ ? g_ : "(null)");                                           \
        }                                                                              \
    } while (0)


/* Casts n elements of x (dtype sd) to strings through rt_cast, as a node would. */
static int to_strings(int sd, const void *x, int64_t n, const char **y, char *pool)
{
    RtTensorDesc in = desc1(sd, n);
    RtTensorDesc out[2] = {desc1(RT_STRING, n), desc1(RT_U8, n * RT_NUM_STR_BYTES)};
    RtCall c = {1, 2, &in, out, 0, 0, NULL, NULL};
    const void *ip[1] = {x};
    void *op[2] = {(void *)y, pool};
    return rt_cast(&c, ip, op);
}

static int from_strings(const char *const *x, int64_t n, int dd, void *y)
{
    RtTensorDesc in = desc1(RT_STRING, n), out = desc1(dd, n);
    RtCall c = {1, 1, &in, &out, 0, 0, NULL, NULL};
    const void *ip[1] = {x};
    void *op[1] = {y};
    return rt_cast(&c, ip, op);
}

static void test_cast_to_string(void)
{
    /* numpy's str(): shortest digits that read back, positional in [1e-4, 1e16) */
    float f[9] = {0.5f, 1.0f, 1e-5f, 0.1f, 123456789.0f, -0.0f, NAN, -INFINITY, 0.6048455f};
    const char *y[9];
    char pool[9 * RT_NUM_STR_BYTES];
    CHECK(RT_OK, to_strings(RT_F32, f, 9, y, pool));
    CHECK_STR("0.5", y[0]);
    CHECK_STR("1.0", y[1]);
    CHECK_STR("1e-05", y[2]);
    CHECK_STR("0.1", y[3]);
    CHECK_STR("123456790.0", y[4]);
    CHECK_STR("-0.0", y[5]);
    CHECK_STR("nan", y[6]);
    CHECK_STR("-inf", y[7]);
    CHECK_STR("0.6048455", y[8]); /* from ONNX's test_cast_FLOAT_to_STRING */

    double d[3] = {0.1, 1.5e16, -2.5e-7};
    CHECK(RT_OK, to_strings(RT_F64, d, 3, y, pool));
    CHECK_STR("0.1", y[0]);
    CHECK_STR("1.5e+16", y[1]);
    CHECK_STR("-2.5e-07", y[2]);

    int64_t i[2] = {-7, INT64_MIN};
    CHECK(RT_OK, to_strings(RT_I64, i, 2, y, pool));
    CHECK_STR("-7", y[0]);
    CHECK_STR("-9223372036854775808", y[1]);
    uint8_t b[2] = {1, 0};
    CHECK(RT_OK, to_strings(RT_BOOL, b, 2, y, pool));
    CHECK_STR("True", y[0]);
    CHECK_STR("False", y[1]);
    uint16_t h = 0x3555; /* float16 0.33325195: 5 digits read back as the same half */
    CHECK(RT_OK, to_strings(RT_F16, &h, 1, y, pool));
    CHECK_STR("0.3333", y[0]);
}

static void test_cast_from_string(void)
{
    const char *s[6] = {"0.47892547", "NaN", "INF", "+INF", "-INF", " 2.5 "};
    float f[6];
    CHECK(RT_OK, from_strings(s, 6, RT_F32, f));
    CHECK_NEAR(0.47892547f, f[0], 0);
    CHECK_TRUE(isnan(f[1]));
    CHECK_TRUE(isinf(f[2]) && f[2] > 0 && isinf(f[3]) && f[3] > 0);
    CHECK_TRUE(isinf(f[4]) && f[4] < 0);
    CHECK_NEAR(2.5, f[5], 0);

    /* integers exactly, past what a double holds */
    const char *big[2] = {"-9007199254740993", "18446744073709551615"};
    int64_t i;
    uint64_t u;
    CHECK(RT_OK, from_strings(big, 1, RT_I64, &i));
    CHECK_TRUE(i == -9007199254740993LL);
    CHECK(RT_OK, from_strings(big + 1, 1, RT_U64, &u));
    CHECK_TRUE(u == UINT64_MAX);
    const char *bools[3] = {"True", "false", "0.5"};
    uint8_t b[3];
    CHECK(RT_OK, from_strings(bools, 3, RT_BOOL, b));
    CHECK(1, b[0]);
    CHECK(0, b[1]);
    CHECK(1, b[2]);
    const char *bad[1] = {"12abc"};
    CHECK(RT_EFORMAT, from_strings(bad, 1, RT_F32, f));
    CHECK(RT_EFORMAT, from_strings(bad, 1, RT_I32, &i));
}

/* Runs StringNormalizer on n strings; stop (ns of them) may be NULL. */
static int normalize(const char *const *x, int64_t n, const char *const *stop, int64_t ns,
                     int action, int cs, int64_t slot, int dynamic, const char **y, char *pool,
                     int64_t *kept)
{
    RtTensorDesc in[2] = {desc1(RT_STRING, n), desc1(RT_STRING, ns)};
    RtTensorDesc out[3] = {desc1(RT_STRING, n), desc1(RT_U8, n * slot), desc1(RT_I64, 1)};
    out[2].rank = 0;
    int64_t ints[4] = {action, cs, slot, dynamic};
    void *op[3] = {(void *)y, pool, kept};
    RtCall c = {stop ? 2 : 1, 3, in, out, 4, 0, ints, NULL};
    const void *ip[2] = {x, stop};
    return rt_string_normalizer(&c, ip, op);
}

static void test_string_normalizer(void)
{
    const char *x[4] = {"Monday", "tuesday", "Mönday \xc3\x80\xc3\x97", "wednesday"};
    const char *stop[1] = {"MONDAY"};
    const char *y[4];
    char pool[4 * 32];
    int64_t kept = -1;
    /* case-insensitive stopwords, UPPER with Latin-1 (the multiplication sign stays) */
    CHECK(RT_OK, normalize(x, 4, stop, 1, 2, 0, 32, 1, y, pool, &kept));
    CHECK(3, kept);
    CHECK_STR("TUESDAY", y[0]);
    CHECK_STR("M\xc3\x96NDAY \xc3\x80\xc3\x97", y[1]);
    CHECK_STR("WEDNESDAY", y[2]);
    /* case-sensitive: "Monday" is not "MONDAY"; LOWER */
    CHECK(RT_OK, normalize(x, 4, stop, 1, 1, 1, 32, 1, y, pool, &kept));
    CHECK(4, kept);
    CHECK_STR("monday", y[0]);
    CHECK_STR("m\xc3\xb6nday \xc3\xa0\xc3\x97", y[2]);
    /* NONE shares the input's strings: no pool needed */
    CHECK(RT_OK, normalize(x, 2, NULL, 0, 0, 0, 32, 0, y, NULL, &kept));
    CHECK_TRUE(y[0] == x[0] && y[1] == x[1]);
    /* everything removed: one empty string (ONNX's rule) */
    const char *mon[2] = {"monday", "Monday"};
    CHECK(RT_OK, normalize(mon, 2, stop, 1, 2, 0, 32, 1, y, pool, &kept));
    CHECK(1, kept);
    CHECK_STR("", y[0]);
    /* a string as long as the slot does not fit it and its NUL */
    CHECK(RT_ENOMEM, normalize(x, 2, NULL, 0, 2, 0, 7, 0, y, pool, &kept));
}

/* A string TensorProto written, read back and freed as one block. */
static void test_io_round_trip(void)
{
    char dir[] = "/tmp/onnxcc_strXXXXXX", path[64];
    CHECK_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/s.pb", dir);
    const char *v[3] = {"", "caf\xc3\xa9", "a b"};
    RtTensor t, r;
    memset(&t, 0, sizeof t);
    t.desc = desc1(RT_STRING, 3);
    snprintf(t.name, sizeof t.name, "words");
    t.data = rt_strings_pack(v, 3);
    t.nbytes = 3 * sizeof(char *);
    CHECK_TRUE(t.data != NULL);
    CHECK(RT_OK, rt_tensor_write_pb(path, &t));
    char err[256];
    CHECK(RT_OK, rt_tensor_read(path, &r, err, sizeof err));
    CHECK(RT_STRING, r.desc.dtype);
    CHECK(3, r.desc.dims[0]);
    CHECK(3 * sizeof(char *), r.nbytes);
    CHECK_STR("words", r.name);
    for (int i = 0; i < 3; i++)
        CHECK_STR(v[i], ((char **)r.data)[i]);
    /* .npy has no string form onnxcc writes */
    snprintf(path, sizeof path, "%s/s.npy", dir);
    CHECK(RT_EDTYPE, rt_tensor_write_npy(path, &t));
    rt_tensor_free(&t);
    rt_tensor_free(&r);
    snprintf(path, sizeof path, "%s/s.pb", dir);
    unlink(path);
    rmdir(dir);
}

static Value *str_value(Graph *g, int rank, int64_t c)
{
    Value *v = ir_value_new(g, NULL);
    v->dtype = RT_STRING;
    v->rank = rank;
    v->dims[0] = rank == 2 ? 1 : c;
    v->dims[1] = c;
    return v;
}

static Node *str_node(Graph *g, const char *op, Value *x)
{
    Node *n = ir_node_new(g, op, "", NULL, 1, 1);
    n->in[0] = x;
    n->out[0] = ir_value_new(g, NULL);
    n->out[0]->producer = n;
    return n;
}

static void set_str_attr(Graph *g, Node *n, const char *name, const char *v)
{
    Attr *a = ir_alloc(g, sizeof *a * (size_t)(n->n_attrs + 1));
    if (n->n_attrs)
        memcpy(a, n->attrs, sizeof *a * (size_t)n->n_attrs);
    a[n->n_attrs].name = name;
    a[n->n_attrs].type = AT_STRING;
    a[n->n_attrs].s = v;
    a[n->n_attrs].s_len = strlen(v);
    n->attrs = a;
    n->n_attrs++;
}

/* Shape functions: the pool is sized from --max-string-bytes, only ops that
 * move elements take strings, and what is not done yet says so. */
static void test_infer(void)
{
    Graph *g = ir_graph_new(NULL);
    Diag d = {0};
    g->max_string_bytes = 10;
    Node *n = str_node(g, "StringNormalizer", str_value(g, 2, 3));
    set_str_attr(g, n, "case_change_action", "LOWER");
    CHECK(0, ir_ops[n->op].infer(g, n, &d));
    CHECK(2, n->n_out);
    CHECK(3 * 11, ir_numel(n->out[1]));
    CHECK(1, n->out[1]->is_pool);
    CHECK(11, n->ints[2]);
    n->n_ints = 0; /* a second inference finds the same pool */
    CHECK(0, ir_ops[n->op].infer(g, n, &d));
    CHECK(2, n->n_out);

    n = str_node(g, "StringNormalizer", str_value(g, 1, 3));
    set_str_attr(g, n, "case_change_action", "UPPER");
    set_str_attr(g, n, "locale", "tr_TR");
    CHECK(-1, ir_ops[n->op].infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "locale 'tr_TR' is not supported");
    Value *wide = str_value(g, 2, 3);
    wide->dims[0] = 2;
    n = str_node(g, "StringNormalizer", wide);
    memset(&d, 0, sizeof d); /* a Diag keeps the first error */
    CHECK(-1, ir_ops[n->op].infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "[1, C]");

    /* stopwords: a hidden constant input, the pool, then the extent (last) */
    n = str_node(g, "StringNormalizer", str_value(g, 1, 4));
    set_str_attr(g, n, "case_change_action", "UPPER");
    Attr *sw = ir_alloc(g, sizeof *sw * (size_t)(n->n_attrs + 1));
    memcpy(sw, n->attrs, sizeof *sw * (size_t)n->n_attrs);
    static const char *words[2] = {"monday", "friday"};
    sw[n->n_attrs] = (Attr){.name = "stopwords", .type = AT_STRINGS, .n = 2,
                            .strings = words};
    n->attrs = sw;
    n->n_attrs++;
    CHECK(0, ir_ops[n->op].infer(g, n, &d));
    CHECK(2, n->n_in);
    CHECK(2, ir_numel(n->in[1]));
    CHECK_STR("friday", ((const char *const *)n->in[1]->data)[1]);
    CHECK(3, n->n_out);
    CHECK(1, n->out[0]->dyn);
    CHECK(4, n->out[0]->dims[0]);
    CHECK_TRUE(n->out[0]->dyn_len == n->out[2]);
    CHECK(1, n->ints[3]);

    n = str_node(g, "Transpose", str_value(g, 2, 3));
    CHECK(0, ir_ops[n->op].infer(g, n, &d));
    CHECK(RT_STRING, n->out[0]->dtype);
    n = str_node(g, "CumSum", str_value(g, 1, 3));
    memset(&d, 0, sizeof d);
    CHECK(-1, ir_ops[n->op].infer(g, n, &d));
    CHECK_STR_CONTAINS(d.msg, "string tensor: not supported for CumSum");
    ir_graph_free(g);
}

int main(void)
{
    test_cast_to_string();
    test_cast_from_string();
    test_string_normalizer();
    test_io_round_trip();
    test_infer();
    return CHECK_DONE();
}
