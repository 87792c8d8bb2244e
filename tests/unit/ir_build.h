/* ir_build.h: small graphs built by hand for the pass tests. */
#ifndef ONNXCC_TEST_IR_BUILD_H
#define ONNXCC_TEST_IR_BUILD_H

#include "ir/ir.h"

/* A value of g of this type and shape, not yet produced or read. */
static inline Value *value(Graph *g, const char *name, int dt, int rank, const int64_t *dims)
{
    Value *v = ir_value_new(g, name);
    v->dtype = dt;
    v->rank = rank;
    for (int i = 0; i < rank; i++)
        v->dims[i] = dims[i];
    return v;
}

static inline Value *tensor(Graph *g, const char *name, int rank, const int64_t *dims)
{
    return value(g, name, RT_F32, rank, dims);
}

/* A node of the default domain named name (NULL: unnamed) reading in, with
 * one fresh output. */
static inline Node *named_node(Graph *g, const char *op, const char *name, int n_in,
                               Value *const *in)
{
    Node *n = ir_node_new(g, op, "", name, n_in, 1);
    for (int i = 0; i < n_in; i++)
        ir_set_input(g, n, i, in[i]);
    n->out[0] = ir_value_new(g, NULL);
    n->out[0]->producer = n;
    return n;
}

static inline Node *node1(Graph *g, const char *op, int n_in, Value *const *in)
{
    return named_node(g, op, NULL, n_in, in);
}

#endif
