/* shape_ops.c: ops whose outputs follow from shapes and attributes: Shape, Size, Constant... */
#include <math.h>
#include <string.h>

#include "ir.h"
#include "shape_util.h"

/* Shapes are static, so Shape's output is a compile-time constant. Opset 15
 * adds start/end, clamped to [0, rank] after adding rank to negatives. */
int ir_infer_shape_op(Graph *g, Node *n, Diag *d)
{
    const Value *x = ir_input(n, 0);
    if (!x || !ir_shape_known(x))
        return ir_node_error(d, n, "input 0 has no static shape");
    int64_t r = x->rank, start = 0, end = r;
    if (n->opset >= 15) {
        start = ir_attr_int(n, "start", 0);
        end = ir_attr_int(n, "end", r);
    }
    if (start < 0)
        start += r;
    if (end < 0)
        end += r;
    start = start < 0 ? 0 : start > r ? r : start;
    end = end < 0 ? 0 : end > r ? r : end;
    int64_t len = end > start ? end - start : 0;
    ir_set_out(n, 0, RT_I64, 1, &len);
    ir_param_int(n, RT_SHAPE_START, start);
    int64_t *p = ir_value_alloc_data(g, n->out[0]);
    if (!p)
        return ir_node_error(d, n, "out of memory");
    for (int64_t i = 0; i < len; i++)
        p[i] = x->dims[start + i];
    return 0;
}

int ir_infer_size(Graph *g, Node *n, Diag *d)
{
    const Value *x = ir_input(n, 0);
    if (!x || !ir_shape_known(x))
        return ir_node_error(d, n, "input 0 has no static shape");
    ir_set_out(n, 0, RT_I64, 0, NULL);
    int64_t *p = ir_value_alloc_data(g, n->out[0]);
    if (!p)
        return ir_node_error(d, n, "out of memory");
    *p = ir_numel(x);
    return 0;
}

/* Constant: exactly one of value, value_float(s), value_int(s), value_string(s);
 * the sparse form has no onnxcc representation. */
int ir_infer_constant(Graph *g, Node *n, Diag *d)
{
    const Attr *a = NULL;
    for (int i = 0; i < n->n_attrs; i++) {
        const char *nm = n->attrs[i].name;
        if (strncmp(nm, "value", 5) && strcmp(nm, "sparse_value"))
            continue;
        if (a)
            return ir_node_error(d, n, "has both '%s' and '%s'", a->name, nm);
        a = &n->attrs[i];
    }
    if (!a)
        return ir_node_error(d, n, "has no value attribute");
    if (!strcmp(a->name, "sparse_value"))
        return ir_node_error(d, n, "sparse_value is not supported");
    Value *y = n->out[0];
    if (!strcmp(a->name, "value") && a->type == AT_TENSOR && a->t) {
        const Tensor *t = a->t;
        if (!rt_dtype_bits(t->dtype))
            return ir_node_error(d, n, "value has dtype %s, which onnxcc does not support",
                                 rt_dtype_name(t->dtype));
        if (t->rank < 0 || t->rank > IR_MAX_RANK)
            return ir_node_error(d, n, "value has rank %d", t->rank);
        ir_set_out(n, 0, t->dtype, t->rank, t->dims);
        if (!y)
            return 0;
        size_t nb = ir_nbytes(y);
        if (t->nbytes != nb || (nb && !t->data))
            return ir_node_error(d, n, "value holds %zu bytes, its shape needs %zu", t->nbytes,
                                 nb);
        if (nb)
            y->data = t->data;
        else if (!ir_value_alloc_data(g, y))
            return ir_node_error(d, n, "out of memory");
        return 0;
    }
    int64_t len = a->n;
    if (!strcmp(a->name, "value_float") && (a->type == AT_FLOAT || a->type == AT_INT)) {
        ir_set_out(n, 0, RT_F32, 0, NULL);
    } else if (!strcmp(a->name, "value_floats") && a->type == AT_FLOATS) {
        ir_set_out(n, 0, RT_F32, 1, &len);
    } else if (!strcmp(a->name, "value_int") && a->type == AT_INT) {
        ir_set_out(n, 0, RT_I64, 0, NULL);
    } else if (!strcmp(a->name, "value_ints") && a->type == AT_INTS) {
        ir_set_out(n, 0, RT_I64, 1, &len);
    } else if (!strcmp(a->name, "value_string") && a->type == AT_STRING) {
        ir_set_out(n, 0, RT_STRING, 0, NULL);
    } else if (!strcmp(a->name, "value_strings") && a->type == AT_STRINGS) {
        ir_set_out(n, 0, RT_STRING, 1, &len);
    } else {
        return ir_node_error(d, n, "attribute '%s' is not a valid Constant value", a->name);
    }
    if (!y)
        return 0;
    void *p = ir_value_alloc_data(g, y);
    if (!p)
        return ir_node_error(d, n, "out of memory");
    if (!strcmp(a->name, "value_float"))
        *(float *)p = a->type == AT_FLOAT ? a->f : (float)a->i;
    else if (!strcmp(a->name, "value_floats"))
        memcpy(p, a->floats, (size_t)len * sizeof(float));
    else if (!strcmp(a->name, "value_int"))
        *(int64_t *)p = a->i;
    else if (!strcmp(a->name, "value_ints"))
        memcpy(p, a->ints, (size_t)len * sizeof(int64_t));
    else if (!strcmp(a->name, "value_string")) /* the attribute's text lives in the graph */
        *(const char **)p = a->s;
    else
        memcpy(p, a->strings, (size_t)len * sizeof(char *));
    return 0;
}

/* The fill value travels as one int64 kernel parameter (see rt_fill). */
static int64_t fill_param(const void *data, int dtype)
{
    if (rt_is_float(dtype) || rt_is_narrow_float(dtype)) { /* float8: its value, exactly */
        double v = rt_load_f64(data, dtype, 0);
        int64_t bits;
        memcpy(&bits, &v, sizeof bits);
        return bits;
    }
    return rt_load_i64(data, dtype, 0);
}

int ir_infer_constant_of_shape(Graph *g, Node *n, Diag *d)
{
    const Value *s = ir_input(n, 0);
    if (!s || s->rank != 1)
        return ir_node_error(d, n, "input 0 (shape) must be a 1-D tensor");
    int64_t dims[IR_MAX_RANK], total;
    /* read when it runs: the rank is its length, set below */
    int rt = ir_rt_unknown(s), r = rt ? (int)s->dims[0] : mv_const_list(d, n, 0, dims, IR_MAX_RANK);
    if (rt && (s->dtype != RT_I64 || s->dims[0] > IR_MAX_RANK))
        return ir_node_error(d, n, "input 0 (shape) must hold at most %d int64 values",
                             IR_MAX_RANK);
    if (r < 0)
        return -1;
    if (!rt && mv_numel(d, n, r, dims, &total))
        return -1;
    const Attr *a = ir_attr(n, "value");
    int dtype = RT_F32;
    int64_t v = 0;   /* float 0.0 and integer 0 share their bits */
    if (a) {
        if (a->type != AT_TENSOR || !a->t)
            return ir_node_error(d, n, "attribute 'value' must be a tensor");
        const Tensor *t = a->t;
        int64_t cnt = 1;
        for (int k = 0; k < t->rank; k++)
            cnt *= t->dims[k];
        size_t esz = rt_dtype_size(t->dtype);
        if (!esz || t->dtype == RT_STRING)
            return ir_node_error(d, n, "value has dtype %s, which onnxcc does not support",
                                 rt_dtype_name(t->dtype));
        if (cnt != 1 || !t->data || t->nbytes < esz)
            return ir_node_error(d, n, "value must hold exactly one element");
        dtype = t->dtype;
        v = fill_param(t->data, dtype);
    }
    ir_param_int(n, RT_FILL_VALUE, v);
    return rt ? ir_rt_grown_out(g, n, 0, dtype, r, d) : ir_set_out(n, 0, dtype, r, dims);
}

/* Range's length depends on all three inputs, so they must be constants:
 * max(ceil((limit - start) / delta), 0) elements. */
int ir_infer_range(Graph *g, Node *n, Diag *d)
{
    double v[3];
    int rt = ir_rt_value_inputs(n) != 0; /* some input read when it runs */
    for (int i = 0; i < 3; i++) {
        const Value *x = ir_input(n, i);
        if (!x)
            return ir_node_error(d, n, "input %d is missing", i);
        if (rt ? ir_numel(x) != 1 : ir_const_scalar(x, &v[i]) != 0)
            return rt ? ir_node_error(d, n, "input %d must be a scalar", i)
                      : ir_err_not_const(d, n, i);
        if (x->dtype != n->in[0]->dtype)
            return ir_node_error(d, n, "inputs differ in dtype");
    }
    int dt = n->in[0]->dtype;
    if (!rt_dtype_size(dt) || dt == RT_BOOL || dt == RT_STRING)
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(dt));
    if (rt)
        return ir_rt_grown_out(g, n, 0, dt, 1, d);
    if (v[2] == 0)
        return ir_node_error(d, n, "delta is 0");
    double cnt = ceil((v[1] - v[0]) / v[2]);
    if (!rt_is_float(dt)) {
        /* exact integer arithmetic: ceil of a quotient of int64s */
        int64_t s = rt_load_i64(n->in[0]->data, dt, 0), l = rt_load_i64(n->in[1]->data, dt, 0);
        int64_t dl = rt_load_i64(n->in[2]->data, dt, 0), diff = l - s;
        int64_t q = diff / dl;
        if (q * dl != diff && (diff > 0) == (dl > 0))
            q++;
        cnt = (double)q;
    }
    if (!(cnt < 1e12))
        return ir_node_error(d, n, "range has too many elements");
    int64_t len = cnt > 0 ? (int64_t)cnt : 0;
    return ir_set_out(n, 0, dt, 1, &len);
}

int ir_infer_eyelike(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (mv_need_input(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (x->rank != 2)
        return ir_node_error(d, n, "input must be 2-D, not rank %d", x->rank);
    int dt = (int)ir_attr_int(n, "dtype", x->dtype);
    if (!rt_dtype_size(dt) || dt == RT_STRING)
        return ir_node_error(d, n, "dtype %s is not supported", rt_dtype_name(dt));
    ir_param_int(n, RT_EYELIKE_K, ir_attr_int(n, "k", 0));
    return ir_set_out(n, 0, dt, 2, x->dims);
}
