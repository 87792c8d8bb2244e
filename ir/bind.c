/* bind.c: binds free dimensions, input shapes and compile-time input values before inference. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static void shape_str(char *buf, size_t len, int rank, const int64_t *dims)
{
    size_t k = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < rank && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (k < len)
        snprintf(buf + k, len - k, "]");
}

static int find_input(Graph *g, const char *name)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i]->name, name))
            return i;
    return -1;
}

/* A binding may only fill in what the model left open. */
static int bind_shape(Graph *g, Value *v, int rank, const int64_t *dims, Diag *d)
{
    char want[160], got[160];
    if (v->rt_mask && v->rank == rank) {
        /* a sample of an input with run-time dims: any extents within the
         * bounds fit, and the bounds stay */
        int64_t seen[IR_MAX_RANK]; /* rt_lo is dims on the static axes */
        if (rt_dims_check(rank, dims, v->rt_lo, v->dims, seen) == RT_OK)
            return 0;
    }
    if (v->rank >= 0) {
        int ok = v->rank == rank;
        for (int i = 0; ok && i < rank; i++)
            ok = v->dims[i] < 0 || v->dims[i] == dims[i];
        if (!ok) {
            shape_str(want, sizeof want, v->rank, v->dims);
            shape_str(got, sizeof got, rank, dims);
            for (char *p = want; *p; p++)
                if (!strncmp(p, "-1", 2))
                    p[0] = ' ', p[1] = '?';
            return ir_error(d, "input '%s': model declares shape %s, bound to %s", v->name, want,
                            got);
        }
    }
    (void)g;
    v->rank = rank;
    for (int i = 0; i < rank; i++)
        v->dims[i] = dims[i];
    return 0;
}

/* --dim NAME=V fixes every input dim named NAME; NAME=LO..HI makes it a
 * run-time dim planned for HI (see Value.rt_mask). */
static int bind_dim(Graph *g, const Binding *b, Diag *d)
{
    int used = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        Value *v = g->inputs[i];
        for (int j = 0; j < v->rank; j++) {
            if (!v->dim_param[j] || strcmp(v->dim_param[j], b->name))
                continue;
            v->dims[j] = b->value;
            used = 1;
            if (b->lo == b->value)
                continue;
            if (b->value == 0)
                return ir_error(d, "--dim %s=%lld..%lld: the upper bound must be at least 1",
                                b->name, (long long)b->lo, (long long)b->value);
            v->rt_mask |= 1u << j;
        }
    }
    if (!used)
        return ir_error(d, "--dim %s: no graph input has a dimension named '%s'", b->name,
                        b->name);
    return 0;
}

int ir_bind(Graph *g, const Binding *b, int n, Diag *d)
{
    for (int k = 0; k < n; k++) {
        if (b[k].kind == BIND_DIM)
            continue;
        int i = find_input(g, b[k].name);
        if (i < 0)
            return ir_error(d, "%s %s: the model has no input named '%s'",
                            b[k].kind == BIND_SHAPE ? "--shape" : "--const", b[k].name,
                            b[k].name);
        Value *v = g->inputs[i];
        if (b[k].kind == BIND_SHAPE) {
            if (bind_shape(g, v, b[k].rank, b[k].dims, d) < 0)
                return -1;
            for (int j = 0; j < b[k].rank; j++)
                if (b[k].dim_name[j])
                    v->dim_param[j] = ir_strdup(g, b[k].dim_name[j]);
            continue;
        }
        RtTensor t;
        char err[512];
        if (rt_tensor_read(b[k].file, &t, err, sizeof err))
            return ir_error(d, "--const %s: %s", b[k].name, err);
        int rc = 0;
        if (v->dtype != RT_UNDEF && t.desc.dtype != v->dtype)
            rc = ir_error(d, "--const %s: %s holds %s, the input is %s", b[k].name, b[k].file,
                          rt_dtype_name(t.desc.dtype), rt_dtype_name(v->dtype));
        else
            rc = bind_shape(g, v, t.desc.rank, t.desc.dims, d);
        if (rc == 0) {
            v->dtype = t.desc.dtype;
            void *p = ir_value_alloc_data(g, v);
            if (!p)
                rc = ir_error(d, "--const %s: out of memory", b[k].name);
            else if (t.nbytes)
                memcpy(p, t.data, t.nbytes);
        }
        rt_tensor_free(&t);
        if (rc)
            return rc;
        /* the value is now a constant of the model, no longer an input */
        v->is_input = 0;
        memmove(&g->inputs[i], &g->inputs[i + 1], sizeof *g->inputs * (size_t)(g->n_inputs - i - 1));
        g->n_inputs--;
    }
    /* after the shapes: --dim may name a dim a --shape introduced */
    for (int k = 0; k < n; k++)
        if (b[k].kind == BIND_DIM && bind_dim(g, &b[k], d) < 0)
            return -1;
    /* the two probes of every input (ir/rtdims.c) */
    for (int i = 0; i < g->n_inputs; i++) {
        Value *v = g->inputs[i];
        for (int j = 0; j < v->rank && j < IR_MAX_RANK; j++)
            if (!(v->rt_mask >> j & 1))
                v->rt_lo[j] = v->rt_mid[j] = v->dims[j];
        for (int k = 0; k < n; k++)
            for (int j = 0; b[k].kind == BIND_DIM && j < v->rank; j++)
                if ((v->rt_mask >> j & 1) && !strcmp(v->dim_param[j], b[k].name)) {
                    v->rt_lo[j] = b[k].lo;
                    v->rt_mid[j] = b[k].lo + (b[k].value - b[k].lo) / 2;
                }
    }
    return 0;
}
