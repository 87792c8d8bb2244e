/* walk.c: one pass over the compiled graph gathering what inspect and stats show per node and in total. */
#include <stdlib.h>
#include <string.h>

#include "inspect.h"
#include "runtime/k_wq.h"

void ins_type(const Value *v, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "%s[", rt_dtype_name(v->dtype));
    for (int i = 0; i < v->rank && at < len; i++) {
        const char *sep = i ? "," : "";
        if (v->rt_mask >> i & 1)
            at += (size_t)snprintf(buf + at, len - at, "%s%lld..%lld", sep,
                                   (long long)v->rt_lo[i], (long long)v->dims[i]);
        else if (v->dims[i] >= 0)
            at += (size_t)snprintf(buf + at, len - at, "%s%lld", sep, (long long)v->dims[i]);
        else
            at += (size_t)snprintf(buf + at, len - at, "%s%s", sep,
                                   v->dim_param[i] ? v->dim_param[i] : "?");
    }
    if (at < len)
        snprintf(buf + at, len - at, "]");
}

/* The format of constant input i of n and how many weights it holds: packed
 * low-bit codes name their format and group (they stand for N*K weights);
 * any other constant is its dtype and element count. */
static int64_t weight_format(const Node *n, int i, char *fmt, size_t len)
{
    const Value *v = n->in[i];
    int64_t numel = ir_numel(v);
    if (i == 1 && (n->op == OP_MATMUL_WQ || n->op == OP_CONV_WQ)) {
        int64_t group = ir_attr_int(n, n->op == OP_MATMUL_WQ ? "group" : "block_size", 0);
        snprintf(fmt, len, "%s g%lld", rt_wq_name((int)ir_attr_int(n, "format", 0)),
                 (long long)group);
        return ir_attr_int(n, "N", 0) * ir_attr_int(n, "K", 0);
    }
    if (i == 1 && n->op == OP_MATMUL_NBITS) {
        snprintf(fmt, len, "int%lld g%lld", (long long)ir_attr_int(n, "bits", 4),
                 (long long)ir_attr_int(n, "block_size", 0));
        return ir_attr_int(n, "N", 0) * ir_attr_int(n, "K", 0);
    }
    snprintf(fmt, len, "%s", rt_dtype_name(v->dtype));
    return numel > 0 ? numel : 0;
}

static int is_weight(const Value *v)
{
    return v && v->data && !v->producer && v->kind == VK_TENSOR;
}

static void add_format(Inspect *in, const char *fmt, int64_t params, int64_t bytes)
{
    int k = 0;
    while (k < in->n_formats && strcmp(in->formats[k].name, fmt))
        k++;
    if (k == in->n_formats) {
        if (k == INS_MAX_FORMATS)
            k--; /* (more formats than any model mixes: the last row takes the rest) */
        else
            snprintf(in->formats[in->n_formats++].name, sizeof in->formats[k].name, "%s", fmt);
    }
    in->formats[k].tensors++;
    in->formats[k].params += params;
    in->formats[k].bytes += bytes;
}

void ins_walk(const Graph *g, const char *model, const InsDiff *diff, Inspect *in)
{
    memset(in, 0, sizeof *in);
    in->g = g;
    in->model = model;
    in->diff = diff;
    in->nodes = calloc((size_t)g->n_nodes + 1, sizeof *in->nodes);
    int *prod = malloc(sizeof(int) * ((size_t)g->n_values + 1));
    /* a constant read by several nodes is counted once in the totals */
    char *seen = calloc((size_t)g->n_values + 1, 1);
    IR_ASSERT(in->nodes && prod && seen);
    for (int i = 0; i < g->n_values; i++)
        prod[i] = -1;
    int step = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (n->dead)
            continue;
        InsNode *x = &in->nodes[in->n_nodes];
        x->n = n;
        /* the planner's steps count the nodes that run, in this order */
        x->step = ir_node_is_constant(n) ? -1 : step++;
        x->from = malloc(sizeof(int) * ((size_t)n->n_in + 1));
        IR_ASSERT(x->from);
        int64_t biggest = -1;
        for (int i = 0; i < n->n_in; i++) {
            const Value *v = n->in[i];
            int owned = v && v->id < g->n_values && g->values[v->id] == v;
            x->from[i] = owned ? prod[v->id] : -1;
            if (!is_weight(v))
                continue;
            char fmt[32];
            int64_t p = weight_format(n, i, fmt, sizeof fmt), b = (int64_t)ir_nbytes(v);
            x->params += p;
            x->weight_bytes += b;
            if (b > biggest) {
                biggest = b;
                memcpy(x->wformat, fmt, sizeof fmt);
            }
            if (x->step >= 0 && owned && !seen[v->id]) {
                seen[v->id] = 1;
                in->params += p;
                in->weight_bytes += b;
                add_format(in, fmt, p, b);
            }
        }
        for (int i = 0; i < n->n_out; i++) {
            const Value *v = n->out[i];
            if (v && v->id < g->n_values && g->values[v->id] == v)
                prod[v->id] = in->n_nodes;
        }
        if (x->step >= 0) {
            x->flops = ir_node_flops(n);
            x->bytes = ir_node_bytes(n);
            in->flops += x->flops;
            in->bytes += x->bytes;
            in->n_run++;
        }
        in->n_nodes++;
    }
    free(prod);
    free(seen);
}

void ins_free(Inspect *in)
{
    for (int i = 0; i < in->n_nodes; i++)
        free(in->nodes[i].from);
    free(in->nodes);
    in->nodes = NULL;
    in->n_nodes = 0;
}
