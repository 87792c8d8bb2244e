/* test_k_ml.c: unit tests of the ai.onnx.ml kernels (LabelEncoder) against a linear search. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

/* Runs rt_label_encoder on x (n of kdt) with sorted keys/values (k of them). */
static int encode(int kdt, const void *x, int64_t n, const void *keys, int vdt,
                  const void *vals, int64_t k, const void *dflt, void *y)
{
    RtTensorDesc in[4] = {desc1(kdt, n), desc1(kdt, k), desc1(vdt, k), desc(vdt, 0, NULL)};
    RtTensorDesc out = desc1(vdt, n);
    RtCall c = {4, 1, in, &out, 0, 0, NULL, NULL};
    const void *ip[4] = {x, keys, vals, dflt};
    void *op[1] = {y};
    return rt_label_encoder(&c, ip, op);
}

/* string -> int64, every input checked against a linear scan of the keys;
 * exact. */
static void test_string_keys(void)
{
    const char *keys[4] = {"", "a", "ab", "b"}; /* strcmp order */
    int64_t vals[4] = {10, 11, 12, 13}, dflt = -1, y[6];
    const char *x[6] = {"ab", "c", "", "a", "abc", "b"};
    CHECK(RT_OK, encode(RT_STRING, x, 6, keys, RT_I64, vals, 4, &dflt, y));
    for (int i = 0; i < 6; i++) {
        int64_t want = dflt;
        for (int j = 0; j < 4; j++)
            if (!strcmp(x[i], keys[j]))
                want = vals[j];
        CHECK(want, y[i]);
    }
}

/* float -> string with a NaN key, which a NaN input matches; -0.0 equals
 * 0.0. The output's strings are the values' own pointers. */
static void test_float_keys(void)
{
    float keys[3] = {-1.5f, 0.0f, NAN}, x[5] = {0.0f, NAN, 2.0f, -1.5f, -0.0f};
    const char *vals[3] = {"neg", "zero", "nan"}, *dflt = "_Unused", *y[5];
    CHECK(RT_OK, encode(RT_F32, x, 5, keys, RT_STRING, vals, 3, &dflt, y));
    const char *want[5] = {"zero", "nan", "_Unused", "neg", "zero"};
    for (int i = 0; i < 5; i++)
        CHECK_TRUE(!strcmp(want[i], y[i]));
    CHECK_TRUE(y[0] == vals[1]);
    /* keys of another dtype than X: refused, nothing matched by accident */
    RtTensorDesc in[4] = {desc1(RT_F32, 5), desc1(RT_F64, 3), desc1(RT_STRING, 3),
                          desc(RT_STRING, 0, NULL)};
    RtTensorDesc out = desc1(RT_STRING, 5);
    RtCall c = {4, 1, in, &out, 0, 0, NULL, NULL};
    const void *ip[4] = {x, keys, vals, &dflt};
    void *op[1] = {y};
    CHECK(RT_EDTYPE, rt_label_encoder(&c, ip, op));
}

/* rt_ml_key_cmp's order: NaN above every number and equal to itself. */
static void test_key_order(void)
{
    double v[4] = {-INFINITY, -1, 3, NAN};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            int r = rt_ml_key_cmp(RT_F64, v, i, v, j);
            CHECK(i < j ? -1 : i > j ? 1 : 0, r < 0 ? -1 : r > 0 ? 1 : 0);
        }
}

int main(void)
{
    test_string_keys();
    test_float_keys();
    test_key_order();
    return CHECK_DONE();
}
