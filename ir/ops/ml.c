/* ml.c: shapes and kernel parameters of the ai.onnx.ml ops onnxcc implements: LabelEncoder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* One of LabelEncoder's lists: keys_* / values_* (a list attribute, opset 2)
 * or keys_tensor / values_tensor (opset 4). */
typedef struct List {
    int dtype;
    int64_t n;
    const void *data;            /* n elements of dtype */
    const char *name;            /* the attribute it came from */
} List;

/* Reads the one attribute of prefix `what` ("keys", "values"); -1 after
 * reporting none or several. */
static int read_list(Diag *d, const Node *n, const char *what, List *l)
{
    static const struct {
        const char *suffix;
        AttrType type;
        int dtype;
    } forms[] = {
        {"_strings", AT_STRINGS, RT_STRING},
        {"_int64s", AT_INTS, RT_I64},
        {"_floats", AT_FLOATS, RT_F32},
        {"_tensor", AT_TENSOR, RT_UNDEF},
    };
    int found = 0;
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        char name[32];
        snprintf(name, sizeof name, "%s%s", what, forms[k].suffix);
        const Attr *a = ir_attr(n, name);
        if (!a)
            continue;
        if (a->type != forms[k].type)
            return ir_node_error(d, n, "attribute '%s' is %s, expected %s", name,
                                 ir_attr_type_name(a->type), ir_attr_type_name(forms[k].type));
        if (found++)
            return ir_node_error(d, n, "more than one %s_* attribute", what);
        l->name = a->name;
        if (a->type == AT_TENSOR) {
            if (n->opset < 4)
                return ir_node_error(d, n, "%s needs ai.onnx.ml opset 4", name);
            l->dtype = a->t->dtype;
            l->n = 1;
            for (int i = 0; i < a->t->rank; i++)
                l->n *= a->t->dims[i];
            l->data = a->t->data;
        } else {
            l->dtype = forms[k].dtype;
            l->n = a->n;
            l->data = a->type == AT_STRINGS ? (const void *)a->strings
                      : a->type == AT_INTS  ? (const void *)a->ints
                                            : (const void *)a->floats;
        }
    }
    if (!found)
        return ir_node_error(d, n, "no %s_* attribute", what);
    return 0;
}

/* The constant inputs built from the attributes are named after the node, so
 * a later inference finds and refills them instead of adding more. */
static Value *own_input(Graph *g, Node *n, int i, const char *what, int dtype, int64_t len)
{
    char name[256];
    snprintf(name, sizeof name, "%s:%s", n->name, what);
    Value *v = i < n->n_in ? n->in[i] : NULL;
    if (!v || strcmp(v->name, name) || v->producer || v->is_input || v->is_initializer) {
        v = ir_value_new(g, name);
        ir_set_input(g, n, i, v);
    }
    v->dtype = dtype;
    v->rank = 1;
    v->dims[0] = len;
    return ir_value_alloc_data(g, v) ? v : NULL;
}

/* keys[perm[0..n)] ascending by rt_ml_key_cmp (a merge sort: no global
 * context for qsort, and n is the model's key count). */
static void sort_perm(int dt, const void *keys, int64_t *perm, int64_t *tmp, int64_t n)
{
    if (n < 2)
        return;
    int64_t h = n / 2;
    sort_perm(dt, keys, perm, tmp, h);
    sort_perm(dt, keys, perm + h, tmp, n - h);
    int64_t i = 0, j = h, k = 0;
    while (i < h || j < n)
        tmp[k++] = j >= n || (i < h && rt_ml_key_cmp(dt, keys, perm[i], keys, perm[j]) <= 0)
                       ? perm[i++]
                       : perm[j++];
    memcpy(perm, tmp, sizeof *perm * (size_t)n);
}

/* The default of an unmatched key: default_tensor (opset 4), else by the
 * values' type default_string ("_Unused"), default_int64 (-1) or
 * default_float (-0.0). */
static int write_default(Diag *d, const Node *n, Value *dv)
{
    const Attr *t = ir_attr(n, "default_tensor");
    size_t sz = rt_dtype_size(dv->dtype);
    if (t && t->type == AT_TENSOR) {
        if (t->t->dtype != dv->dtype || t->t->nbytes != sz)
            return ir_node_error(d, n, "default_tensor must be one %s", rt_dtype_name(dv->dtype));
        memcpy(dv->data, t->t->data, sz);
        return 0;
    }
    if (dv->dtype == RT_STRING)
        *(const char **)dv->data = ir_attr_str(n, "default_string", "_Unused");
    else if (rt_is_float(dv->dtype))
        rt_store_f64(dv->data, dv->dtype, 0, ir_attr_float(n, "default_float", -0.0f));
    else
        rt_store_i64(dv->data, dv->dtype, 0, ir_attr_int(n, "default_int64", -1));
    return 0;
}

static int key_type_ok(int dt)
{
    return dt == RT_STRING || dt == RT_I64 || dt == RT_I32 || dt == RT_I16 || dt == RT_F32 ||
           dt == RT_F64;
}

/* LabelEncoder (ai.onnx.ml 2, 4): the key and value lists become three
 * constant inputs (keys sorted, values permuted alike, the default), so the
 * kernel is a binary search. Opset 1's classes_strings form is refused. */
int ir_infer_label_encoder(Graph *g, Node *n, Diag *d)
{
    if (n->opset < 2 || ir_attr(n, "classes_strings"))
        return ir_node_error(d, n, "LabelEncoder of ai.onnx.ml opset 1 (classes_strings) is "
                             "not supported");
    if (n->n_in < 1 || !n->in[0])
        return ir_node_error(d, n, "input X is missing");
    char own[256];
    snprintf(own, sizeof own, "%s:keys", n->name);
    int refill = n->n_in == 4 && n->in[1] && !strcmp(n->in[1]->name, own);
    if (n->n_in != 1 && !refill)
        return ir_node_error(d, n, "expects 1 input, got %d", n->n_in);
    List keys, vals;
    if (read_list(d, n, "keys", &keys) || read_list(d, n, "values", &vals))
        return -1;
    const Value *x = n->in[0];
    if (!key_type_ok(keys.dtype) || !key_type_ok(vals.dtype))
        return ir_node_error(d, n, "keys of %s and values of %s: not supported (string, "
                             "int64, int32, int16, float, double)", rt_dtype_name(keys.dtype),
                             rt_dtype_name(vals.dtype));
    if (x->dtype != keys.dtype)
        return ir_node_error(d, n, "input X is %s but the keys (%s) are %s",
                             rt_dtype_name(x->dtype), keys.name, rt_dtype_name(keys.dtype));
    if (keys.n != vals.n)
        return ir_node_error(d, n, "%lld keys but %lld values", (long long)keys.n,
                             (long long)vals.n);
    int64_t *perm = malloc(sizeof *perm * (size_t)(2 * keys.n + 1));
    if (!perm)
        return ir_node_error(d, n, "out of memory sorting %lld keys", (long long)keys.n);
    for (int64_t i = 0; i < keys.n; i++)
        perm[i] = i;
    sort_perm(keys.dtype, keys.data, perm, perm + keys.n, keys.n);
    int rc = 0;
    for (int64_t i = 1; i < keys.n && !rc; i++)
        if (!rt_ml_key_cmp(keys.dtype, keys.data, perm[i - 1], keys.data, perm[i]))
            rc = ir_node_error(d, n, "key %lld appears twice", (long long)perm[i]);
    if (!rc && n->n_in != 4)
        ir_set_n_in(g, n, 4);
    Value *kv = rc ? NULL : own_input(g, n, 1, "keys", keys.dtype, keys.n);
    Value *vv = kv ? own_input(g, n, 2, "values", vals.dtype, vals.n) : NULL;
    Value *dv = vv ? own_input(g, n, 3, "default", vals.dtype, 1) : NULL;
    if (!rc && !dv)
        rc = ir_node_error(d, n, "out of memory for the key table");
    if (!rc) {
        size_t ks = rt_dtype_size(keys.dtype), vs = rt_dtype_size(vals.dtype);
        for (int64_t i = 0; i < keys.n; i++) {
            memcpy((char *)kv->data + i * ks, (const char *)keys.data + perm[i] * ks, ks);
            memcpy((char *)vv->data + i * vs, (const char *)vals.data + perm[i] * vs, vs);
        }
        rc = write_default(d, n, dv);
    }
    free(perm);
    if (rc)
        return rc;
    return ir_set_out(n, 0, vals.dtype, x->rank, x->dims);
}
