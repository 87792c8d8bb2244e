/* wq_rotate.c: the Hadamard rotation before weight-only quantizing: W' = H W along K, x' = x H at run time, the product unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* A rotated input shared by the layers that read it with the same block. */
typedef struct Rotated {
    Value *x;                    /* the layer input */
    int block;
    Value *y;                    /* Hadamard(x) */
} Rotated;

/* The block for reduction length k: --rotate-block, else the format's
 * group (the rotation then spreads an outlier over exactly the weights
 * that share its scale); 0 when it does not divide k. */
static int block_for(const QuantOpts *q, int64_t k)
{
    int b = q->rotate_block ? q->rotate_block
            : q->group      ? q->group
            : q->weights == QW_NVFP4 ? 16 : 32;
    return k % b == 0 ? b : 0;
}

/* Whether B of nd is a weight quantize_weights would take: a constant
 * 2-D float32 B of a MatMul, or of a Gemm without transA. *trans: B is
 * stored N x K. */
static int is_layer(const Node *nd, int *trans)
{
    if (nd->dead || (nd->op != OP_MATMUL && nd->op != OP_GEMM) || ir_node_is_constant(nd))
        return 0;
    const Value *x = nd->in[0], *b = ir_input(nd, 1);
    if (!x || x->dtype != RT_F32 || x->rank < 1 || !b || !b->data || b->producer ||
        b->dtype != RT_F32 || b->rank != 2)
        return 0;
    *trans = 0;
    if (nd->op == OP_GEMM) {
        if (nd->n_ints != RT_GEMM_NINTS || nd->ints[RT_GEMM_TRANS_A])
            return 0;
        *trans = (int)nd->ints[RT_GEMM_TRANS_B];
    } else if (nd->n_ints != 0) {
        return 0;
    }
    return 1;
}

/* A copy of constant b with every length-K vector rotated: its rows when
 * b is N x K (Gemm transB), its columns when it is K x N: x B = (x H)(H B). */
static Value *rotate_weight(Graph *g, const Value *b, int trans, int block)
{
    Value *v = ir_value_new(g, NULL);
    v->dtype = RT_F32;
    v->rank = 2;
    v->dims[0] = b->dims[0];
    v->dims[1] = b->dims[1];
    float *dst = ir_value_alloc_data(g, v);
    IR_ASSERT(dst);
    const float *src = b->data;
    int64_t r = b->dims[0], c = b->dims[1];
    if (trans) {
        rt_fwht(src, dst, r * c, block);
        return v;
    }
    float *t = malloc(sizeof *t * (size_t)(r * c));
    IR_ASSERT(t);
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < c; j++)
            t[j * r + i] = src[i * c + j];
    rt_fwht(t, t, r * c, block);
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < c; j++)
            dst[i * c + j] = t[j * r + i];
    free(t);
    return v;
}

/* pass_wq_rotate: requires pass_shape and pass_fold (weights folded to
 * constants); runs before pass_quantize_weights. With --rotate hadamard,
 * every MatMul and Gemm that quantize_weights would take (a constant 2-D
 * float weight, no --keep-float match) whose K the block divides reads
 * onnxcc.Hadamard(x) and a rotated copy of its weight; layers reading the
 * same x share one Hadamard. Outputs are unchanged up to rounding (H is
 * orthonormal and symmetric), so the graph stays valid and equivalent;
 * what changes is what the quantizer sees: rows with their outliers
 * spread over the block (QuaRot, Ashkboos et al., 2024). */
int pass_wq_rotate(Graph *g, PassCtx *ctx)
{
    const QuantOpts *q = ctx->quant;
    if (!q || !q->rotate)
        return 0;
    int n = 0, n_rot = 0, changes = 0;
    Node **todo = calloc((size_t)g->n_nodes + 1, sizeof *todo);
    Rotated *rot = calloc((size_t)g->n_nodes + 1, sizeof *rot);
    IR_ASSERT(todo && rot);
    for (int i = 0; i < g->n_nodes; i++) {
        int trans;
        if (is_layer(g->nodes[i], &trans) && !quant_keep_float(q, g->nodes[i]->name))
            todo[n++] = g->nodes[i];
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        Node *nd = todo[i];
        int trans;
        is_layer(nd, &trans);
        const Value *b = nd->in[1];
        int64_t k = trans ? b->dims[1] : b->dims[0];
        int block = block_for(q, k);
        if (!block)
            continue;
        Value *x = nd->in[0], *y = NULL;
        for (int j = 0; j < n_rot && !y; j++)
            if (rot[j].x == x && rot[j].block == block)
                y = rot[j].y;
        if (!y) {
            char name[256];
            snprintf(name, sizeof name, "%s/hadamard", nd->name ? nd->name : "wq");
            int mark = g->n_nodes;
            Node *h = ir_add_node(g, "Hadamard", 0, ir_strdup(g, name), 1, &x, NULL);
            h->domain = "onnxcc";
            h->op = OP_HADAMARD;
            ir_set_attr_int(g, h, "block", block);
            ir_place_before(g, nd, mark);
            if (ir_ops[h->op].infer(g, h, ctx->d) < 0) {
                rc = -1;
                break;
            }
            y = h->out[0];
            rot[n_rot++] = (Rotated){x, block, y};
        }
        ir_set_input(g, nd, 0, y);
        ir_set_input(g, nd, 1, rotate_weight(g, b, trans, block));
        changes++;
    }
    free(todo);
    free(rot);
    return rc < 0 ? -1 : changes;
}
