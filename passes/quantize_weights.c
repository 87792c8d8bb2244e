/* quantize_weights.c: weight-only low-bit formats for MatMul and Gemm weights, and MatMulNBits repacked. */
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "wq_methods.h"

_Static_assert((int)QW_INT8 == RT_WQ_INT8 && (int)QW_NVFP4 == RT_WQ_NVFP4,
               "QuantWeights numbers the formats as RtWqFormat");

/* What replaces one node: X times the packed matrix (+ bias). */
typedef struct Target {
    Node *node;
    Value *x;                    /* the float input */
    float *w;                    /* N x K, row n: output channel n (malloc'ed) */
    int64_t n, k;
    Value *bias;                 /* float [N] or NULL */
    float alpha;                 /* Gemm's, folded into tensor_scale */
    WqHessian *h;                /* GPTQ / decoupleQ: X's statistics */
} Target;

static int is_const_f32(const Value *v)
{
    return v && v->data && !v->producer && v->dtype == RT_F32;
}

/* A float32 [N] copy of Gemm's C times beta, when C is a constant of N
 * values (or of shape [1, N]); NULL otherwise. */
static Value *gemm_bias(Graph *g, const Value *c, float beta, int64_t n)
{
    if (!is_const_f32(c) || ir_numel(c) != n || (c->rank == 2 && c->dims[0] != 1) || c->rank > 2)
        return NULL;
    Value *b = ir_value_new(g, NULL);
    b->dtype = RT_F32;
    b->rank = 1;
    b->dims[0] = n;
    float *p = ir_value_alloc_data(g, b);
    IR_ASSERT(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = beta * ((const float *)c->data)[i];
    return b;
}

/* Node nd as a target: a MatMul with a constant 2-D float B, or a Gemm with
 * one (transA 0, C absent or a constant vector); the weights transposed
 * into N x K. 0 if the node stays as it is. */
static int target_of(Graph *g, Node *nd, Target *t)
{
    memset(t, 0, sizeof *t);
    if (nd->dead || (nd->op != OP_MATMUL && nd->op != OP_GEMM) || ir_node_is_constant(nd))
        return 0;
    Value *a = nd->in[0];
    const Value *b = ir_input(nd, 1);
    if (!a || a->dtype != RT_F32 || a->rank < 1 || !is_const_f32(b) || b->rank != 2 ||
        !nd->out[0])
        return 0;
    int trans = 0;
    t->alpha = 1.0f;
    if (nd->op == OP_GEMM) {
        if (nd->n_ints != RT_GEMM_NINTS || nd->ints[RT_GEMM_TRANS_A])
            return 0;
        trans = (int)nd->ints[RT_GEMM_TRANS_B];
        t->alpha = nd->floats[RT_GEMM_F_ALPHA];
    } else if (nd->n_ints != 0) {
        return 0;
    }
    t->k = trans ? b->dims[1] : b->dims[0];
    t->n = trans ? b->dims[0] : b->dims[1];
    if (nd->op == OP_GEMM && ir_input(nd, 2)) {
        t->bias = gemm_bias(g, nd->in[2], nd->floats[RT_GEMM_F_BETA], t->n);
        if (!t->bias)
            return 0;
    }
    t->w = malloc(sizeof *t->w * (size_t)(t->n * t->k));
    if (!t->w)
        return 0;
    const float *src = b->data;
    for (int64_t r = 0; r < t->n; r++)
        for (int64_t i = 0; i < t->k; i++)
            t->w[r * t->k + i] = trans ? src[r * t->k + i] : src[i * t->n + r];
    t->node = nd;
    t->x = a;
    return 1;
}

/* nd becomes MatMulWQ reading x, the packed matrix and bias, writing nd's output. */
static int replace(Graph *g, Node *nd, Value *x, const RtWqCodes *c, Value *bias, float ts_mul,
                   Diag *d)
{
    Value *w = ir_value_new(g, NULL);
    w->dtype = RT_U8;
    w->rank = 2;
    w->dims[0] = c->n;
    w->dims[1] = (int64_t)rt_wq_row_bytes(c->fmt, c->k, c->group);
    uint8_t *p = ir_value_alloc_data(g, w);
    IR_ASSERT(p);
    rt_wq_pack(c, p);
    Value *out = nd->out[0];
    int mark = g->n_nodes;
    Value *in[3] = {x, w, bias};
    Node *q = ir_add_node(g, "MatMulWQ", 0, nd->name, bias ? 3 : 2, in, out);
    q->domain = "onnxcc";
    q->op = OP_MATMUL_WQ;
    ir_set_attr_int(g, q, "format", c->fmt);
    ir_set_attr_int(g, q, "N", c->n);
    ir_set_attr_int(g, q, "K", c->k);
    ir_set_attr_int(g, q, "group", c->group);
    ir_set_attr_float(g, q, "tensor_scale", c->tensor_scale * ts_mul);
    ir_place_after(g, nd, mark);
    ir_node_kill(nd);
    return ir_ops[q->op].infer(g, q, d) < 0 ? -1 : 1;
}

/* ---- MatMulNBits with constant weights: repacked for MatMulWQ ---- */

static unsigned bits_at(const uint8_t *p, int64_t bit, int nbits)
{
    unsigned v = 0;
    for (int i = 0; i < nbits; i++, bit++)
        v |= (unsigned)(p[bit >> 3] >> (bit & 7) & 1) << i;
    return v;
}

static Value *n_in_bias(Node *nd)
{
    return nd->n_in > 5 ? nd->in[5] : NULL;
}

/* ORT's blocks (codes LSB first, zero points packed the same way per row,
 * or float, default 2^(bits-1)) as RtWqCodes of INT8, INT4 or INT2 with the
 * block as group. 1 done, 0 left to the reference kernel, -1 on error. */
static int repack_nbits(Graph *g, Node *nd, Diag *d)
{
    const Value *b = nd->in[1], *s = nd->in[2], *z = ir_input(nd, 3);
    int bits = (int)nd->ints[RT_NBITS_BITS], block = (int)nd->ints[RT_NBITS_BLOCK];
    int fmt = bits == 8 ? RT_WQ_INT8 : bits == 4 ? RT_WQ_INT4 : bits == 2 ? RT_WQ_INT2 : 0;
    if (!fmt || !b->data || b->producer || !is_const_f32(s) ||
        (z && (!z->data || z->producer)) || nd->in[0]->dtype != RT_F32)
        return 0;
    int64_t n = nd->ints[RT_NBITS_N], k = nd->ints[RT_NBITS_K], nb = (k + block - 1) / block;
    int64_t blob = (int64_t)block * bits / 8, zrow = (nb * bits + 7) / 8;
    int16_t *code = malloc(sizeof *code * (size_t)(n * k));
    uint8_t *zero = malloc((size_t)(n * nb));
    if (!code || !zero) {
        free(code);
        free(zero);
        return ir_error(d, "out of memory repacking MatMulNBits weights");
    }
    int ok = 1;
    for (int64_t r = 0; r < n && ok; r++)
        for (int64_t bl = 0; bl < nb; bl++) {
            unsigned zp = 1u << (bits - 1);
            if (z && z->dtype == RT_U8) {
                zp = bits_at((const uint8_t *)z->data + r * zrow, bl * bits, bits);
            } else if (z) {
                float f = ((const float *)z->data)[r * nb + bl];
                if (!(f >= 0 && f < (float)(1 << bits)) || f != (float)(int)f) {
                    ok = 0; /* a zero point between codes: the reference kernel keeps it */
                    break;
                }
                zp = (unsigned)f;
            }
            zero[r * nb + bl] = (uint8_t)zp;
            const uint8_t *src = (const uint8_t *)b->data + (r * nb + bl) * blob;
            for (int64_t i = 0; i < block && bl * block + i < k; i++)
                code[r * k + bl * block + i] = (int16_t)bits_at(src, i * bits, bits);
        }
    if (ok) {
        RtWqCodes c = {fmt, n, k, block, code, s->data, zero, 1.0f};
        ok = replace(g, nd, nd->in[0], &c, n_in_bias(nd), 1.0f, d);
    }
    free(code);
    free(zero);
    return ok;
}

/* ---- calibration for the methods that need X's statistics ---- */

typedef struct HessCtx {
    Target *t;
    int nt;
} HessCtx;

static void observe(void *ctx, const Value *v, const void *data)
{
    HessCtx *hc = ctx;
    for (int i = 0; i < hc->nt; i++) {
        Target *t = &hc->t[i];
        if (t->h && t->x == v)
            wq_hessian_add(t->h, data, ir_numel(v) / t->k);
    }
}

/* Fills every target's Hessian from --calibrate's samples (calib_run shows
 * graph inputs too, so a first layer reading one is seen). */
static int collect_hessians(Graph *g, PassCtx *ctx, Target *t, int nt)
{
    for (int i = 0; i < nt; i++) {
        t[i].h = wq_hessian_new(t[i].k);
        if (!t[i].h)
            return ir_error(ctx->d, "out of memory for the calibration statistics");
    }
    HessCtx hc = {t, nt};
    return calib_run(g, ctx->quant, observe, &hc, ctx->d) < 0 ? -1 : 0;
}

/* pass_quantize_weights: requires pass_shape and pass_fold (weights folded
 * to constants). Every MatMulNBits whose weights are constants becomes
 * MatMulWQ (always: its codes are the model's own); with
 * --quantize-weights, so does every MatMul and Gemm with a constant 2-D
 * float32 weight whose name no --keep-float pattern matches. The graph
 * stays valid: each replacement writes the replaced node's output. */
int pass_quantize_weights(Graph *g, PassCtx *ctx)
{
    int changes = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        Node *nd = g->nodes[i];
        if (nd->dead || nd->op != OP_MATMUL_NBITS || ir_node_is_constant(nd))
            continue;
        int rc = repack_nbits(g, nd, ctx->d);
        if (rc < 0)
            return -1;
        changes += rc;
    }
    const QuantOpts *q = ctx->quant;
    if (!q || q->weights == QW_NONE)
        return changes;
    Target *t = calloc((size_t)g->n_nodes + 1, sizeof *t);
    IR_ASSERT(t);
    int nt = 0, rc = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!quant_keep_float(q, g->nodes[i]->name) && target_of(g, g->nodes[i], &t[nt]))
            nt++;
    /* GPTQ and decoupleQ are GEMM-bound (k^3 + n k^2 per layer): the compiler
     * lends them every CPU it may use. The runtime's GEMM gives every element
     * to one thread in a fixed order, so the codes do not depend on it. */
    int threaded = q->method != QM_RTN && rt_set_threads(0) == RT_OK;
    if (nt && (q->method == QM_GPTQ || q->method == QM_DECOUPLEQ))
        rc = collect_hessians(g, ctx, t, nt);
    for (int i = 0; i < nt && rc == 0; i++) {
        RtWqCodes c;
        if (wq_quantize(t[i].w, t[i].n, t[i].k, (int)q->weights, q->group, (int)q->method, t[i].h,
                        &c, ctx->d) < 0) {
            rc = -1;
            break;
        }
        if (!rt_wq_packed_bytes(c.fmt, c.n, c.k, c.group)) {
            rc = ir_node_error(ctx->d, t[i].node, "format %s cannot pack groups of %d",
                               rt_wq_name(c.fmt), c.group);
        } else {
            Value *y = t[i].node->out[0];
            rc = replace(g, t[i].node, t[i].x, &c, t[i].bias, t[i].alpha, ctx->d);
            changes += rc > 0;
            rc = rc < 0 ? -1 : 0;
            if (rc == 0 && q->lowrank) /* HGF: + A*B fitted to what the codes missed */
                rc = wq_lowrank_attach(g, y->producer, t[i].w, &c, t[i].alpha, q, ctx->d);
        }
        wq_codes_free(&c);
    }
    if (threaded)
        rt_set_threads(1);
    for (int i = 0; i < nt; i++) {
        free(t[i].w);
        wq_hessian_free(t[i].h);
    }
    free(t);
    return rc < 0 ? -1 : changes;
}
