/* test_k_string_ops.c: StringConcat and StringSplit against Python's + and str.split. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

static void test_concat(void)
{
    /* [2, 1] + [3] broadcast to [2, 3], UTF-8 and empty strings included */
    const char *a[2] = {"ab", "\xe7\x9a\x84"}, *b[3] = {"", "x", ".com"}, *y[6];
    const char *want[6] = {"ab", "abx", "ab.com", "\xe7\x9a\x84", "\xe7\x9a\x84x",
                           "\xe7\x9a\x84.com"};
    char pool[6 * 16];
    RtTensorDesc in[2] = {desc(RT_STRING, 2, DIMS(2, 1)), desc1(RT_STRING, 3)};
    RtTensorDesc out[2] = {desc(RT_STRING, 2, DIMS(2, 3)), desc1(RT_U8, sizeof pool)};
    int64_t slot = 16;
    RtCall c = call(2, in, 2, out, 1, &slot, 0, NULL);
    const void *ip[2] = {a, b};
    void *op[2] = {y, pool};
    CHECK(RT_OK, rt_string_concat(&c, ip, op));
    for (int i = 0; i < 6; i++)
        CHECK(0, strcmp(want[i], y[i]));
    /* a result that does not fit its slot is an error, never a cut string */
    slot = 6;
    CHECK(RT_ENOMEM, rt_string_concat(&c, ip, op));
}

/* Splits x (n strings) and compares with want (rows of `width` pieces,
 * "" padded) and the counts. */
static void split_case(const char *const *x, int n, const char *sep, int64_t maxsplit,
                       const char *const *want, const int64_t *counts, int width)
{
    enum { BOUND = 8, SLOT = 64 };
    const char *y[4 * BOUND];
    int64_t lens[4], extent = -1;
    char pool[4 * SLOT];
    RtTensorDesc in[2] = {desc1(RT_STRING, n), desc(RT_STRING, 0, NULL)};
    RtTensorDesc out[4] = {desc(RT_STRING, 2, DIMS(n, BOUND)), desc1(RT_I64, n),
                           desc1(RT_U8, sizeof pool), desc(RT_I64, 0, NULL)};
    int64_t ints[2] = {maxsplit, SLOT};
    RtCall c = call(2, in, 4, out, 2, ints, 0, NULL);
    const void *ip[2] = {x, &sep};
    void *op[4] = {y, lens, pool, &extent};
    CHECK(RT_OK, rt_string_split(&c, ip, op));
    CHECK(width, extent);
    for (int i = 0; i < n; i++) {
        CHECK(counts[i], lens[i]);
        for (int k = 0; k < width; k++)
            CHECK(0, strcmp(want[i * width + k], y[i * width + k]));
    }
}

static void test_split(void)
{
    const char *x[3] = {"o-n--x-", "a", ""};
    /* "o-n--x-".split("-") == ['o', 'n', '', 'x', ''] */
    const char *w1[15] = {"o", "n", "", "x", "", "a", "", "", "", "", "", "", "", "", ""};
    split_case(x, 3, "-", -1, w1, (const int64_t[]){5, 1, 1}, 5);
    /* maxsplit 1: ['o', 'n--x-'] */
    const char *w2[6] = {"o", "n--x-", "a", "", "", ""};
    split_case(x, 3, "-", 1, w2, (const int64_t[]){2, 1, 1}, 2);
    /* whitespace: "  hello \t world ! ".split() and .split(None, 1) */
    const char *s[2] = {"  hello \t world ! ", "   "};
    const char *w3[6] = {"hello", "world", "!", "", "", ""};
    split_case(s, 2, "", -1, w3, (const int64_t[]){3, 0}, 3);
    const char *w4[4] = {"hello", "world ! ", "", ""};
    split_case(s, 2, "", 1, w4, (const int64_t[]){2, 0}, 2);
    /* a multi-byte delimiter */
    const char *m[1] = {"a::b::::c"};
    const char *w5[4] = {"a", "b", "", "c"};
    split_case(m, 1, "::", -1, w5, (const int64_t[]){4}, 4);
}

/* StringSplit's shape: [x..., width] with width bound by --max-string-bytes
 * + 1 or maxsplit + 1; the count, the pool and the extent as outputs. */
static void test_split_infer(void)
{
    for (int k = 0; k < 2; k++) {
        Graph *g = ir_graph_new(NULL);
        Diag d = {0};
        g->max_string_bytes = 10;
        Value *x = ir_value_new(g, NULL);
        x->dtype = RT_STRING;
        x->rank = 2;
        x->dims[0] = 2;
        x->dims[1] = 3;
        Node *n = ir_node_new(g, "StringSplit", "", "split", 1, 2);
        n->in[0] = x;
        for (int i = 0; i < 2; i++) {
            n->out[i] = ir_value_new(g, NULL);
            n->out[i]->producer = n;
        }
        if (k) {
            Attr *a = ir_alloc(g, sizeof *a);
            *a = (Attr){.name = "maxsplit", .type = AT_INT, .i = 2};
            n->attrs = a;
            n->n_attrs = 1;
        }
        CHECK(0, ir_ops[n->op].infer(g, n, &d));
        CHECK(3, n->out[0]->rank);
        CHECK(k ? 3 : 11, n->out[0]->dims[2]);
        CHECK(1, n->out[0]->dyn);
        CHECK(RT_I64, n->out[1]->dtype);
        CHECK(4, n->n_out);
        CHECK(6 * 22, ir_numel(n->out[2]));
        ir_graph_free(g);
    }
}

int main(void)
{
    test_split_infer();
    test_concat();
    test_split();
    return CHECK_DONE();
}
