/* quantize_weights.c: weight-only formats for MatMul, Gemm and Conv; MatMulNBits repacked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "wq_methods.h"

_Static_assert((int)QW_INT8 == RT_WQ_INT8 && (int)QW_NVFP4 == RT_WQ_NVFP4,
               "QuantWeights numbers the formats as RtWqFormat");

/* A Conv's window, padded to 3 spatial axes (d, h, w) as k_conv.c's. */
typedef struct ConvGeom {
    int64_t groups, cin;         /* groups, input channels per group */
    int64_t in[3], k[3], out[3];
    int64_t st[3], dil[3], pad[3];
} ConvGeom;

/* What replaces one node: X times the packed matrix (+ bias), or a Conv
 * over X with the packed matrix as its W. */
typedef struct Target {
    Node *node;
    Value *x;                    /* the float input */
    float *w;                    /* N x K, row n: output channel n (malloc'ed) */
    int64_t n, k;
    Value *bias;                 /* float [N] or NULL */
    float alpha;                 /* Gemm's, folded into tensor_scale */
    WqHessian *h;                /* GPTQ / decoupleQ: X's statistics */
    int conv;                    /* a Conv or FusedConv: K is im2col's (c, kd, kh, kw) */
    ConvGeom cg;
    QuantWeights fmt;            /* the node's format and group (a recipe may give its own) */
    int group;
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

/* Whether nd is a Conv or FusedConv whose W a ConvWQ can take: float32,
 * constant, not yet packed. *single is set for one with one input channel
 * per group (depthwise, or a first layer over a one-channel image): its K
 * is the window alone (9 for 3x3), shorter than a quantization group, so a
 * group's scale and zero point would cost about as many bits as its codes
 * (int4, K = 9: 8.4 bits per weight), and a depthwise Conv would lose
 * k_conv.c's direct kernels, which read W per channel, not through a GEMM.
 * It stays float32 (--quant-report says so). */
static int conv_ok(const Node *nd, int *single)
{
    *single = 0;
    if (nd->dead || (nd->op != OP_CONV && nd->op != OP_FUSED_CONV) || ir_node_is_constant(nd))
        return 0;
    const Value *x = nd->in[0], *w = ir_input(nd, 1);
    if (!x || x->dtype != RT_F32 || x->rank < 3 || x->rank > 5 || !is_const_f32(w) ||
        w->rank != x->rank || !nd->out[0] || nd->n_ints <= RT_CONV_NSP)
        return 0;
    int nsp = (int)nd->ints[RT_CONV_NSP];
    if (nsp != x->rank - 2 || nd->n_ints < RT_CONV_CLAMP(nsp) ||
        (nd->n_ints > RT_CONV_PACK(nsp) && nd->ints[RT_CONV_PACK(nsp)]))
        return 0;
    *single = w->dims[1] == 1;
    return !*single;
}

/* nd (conv_ok) as a target: W [M, C/group, k...] is already N x K with K in
 * im2col order; the geometry from the resolved parameters (pads begin: the
 * end pads are implied by the output extents). */
static int conv_target(Node *nd, Target *t)
{
    memset(t, 0, sizeof *t);
    const Value *x = nd->in[0], *w = nd->in[1], *y = nd->out[0];
    int nsp = (int)nd->ints[RT_CONV_NSP];
    ConvGeom *cg = &t->cg;
    cg->groups = nd->ints[RT_CONV_GROUP];
    cg->cin = w->dims[1];
    for (int i = 0; i < 3; i++) {
        int s = i - (3 - nsp);
        cg->in[i] = s < 0 ? 1 : x->dims[2 + s];
        cg->out[i] = s < 0 ? 1 : y->dims[2 + s];
        cg->k[i] = s < 0 ? 1 : w->dims[2 + s];
        cg->st[i] = s < 0 ? 1 : nd->ints[RT_CONV_STRIDES + s];
        cg->dil[i] = s < 0 ? 1 : nd->ints[RT_CONV_DIL(nsp) + s];
        cg->pad[i] = s < 0 ? 0 : nd->ints[RT_CONV_PADS(nsp) + s];
    }
    t->n = w->dims[0];
    t->k = ir_numel(w) / t->n;
    t->w = malloc(sizeof *t->w * (size_t)(t->n * t->k));
    if (!t->w)
        return 0;
    memcpy(t->w, w->data, sizeof *t->w * (size_t)(t->n * t->k));
    t->node = nd;
    t->x = nd->in[0];
    t->alpha = 1.0f;
    t->conv = 1;
    return 1;
}

/* The packed matrix of c as a constant uint8 [N, row bytes]. */
static Value *packed_value(Graph *g, const RtWqCodes *c)
{
    Value *w = ir_value_new(g, NULL);
    w->dtype = RT_U8;
    w->rank = 2;
    w->dims[0] = c->n;
    w->dims[1] = (int64_t)rt_wq_row_bytes(c->fmt, c->k, c->group);
    uint8_t *p = ir_value_alloc_data(g, w);
    IR_ASSERT(p);
    rt_wq_pack(c, p);
    return w;
}

/* Conv or FusedConv nd becomes ConvWQ: its inputs (X, bias, Z) and
 * attributes (window, group, activation) kept, W replaced by the packed
 * matrix, kernel_shape stated (W no longer carries it). */
static int replace_conv(Graph *g, Node *nd, const RtWqCodes *c, Diag *d)
{
    Value *in[4] = {nd->in[0], packed_value(g, c), nd->n_in > 2 ? nd->in[2] : NULL,
                    nd->n_in > 3 ? nd->in[3] : NULL};
    int n_in = in[3] ? 4 : in[2] ? 3 : 2;
    int mark = g->n_nodes;
    Node *q = ir_add_node(g, "ConvWQ", 0, nd->name, n_in, in, nd->out[0]);
    q->domain = "onnxcc";
    q->op = OP_CONV_WQ;
    for (int i = 0; i < nd->n_attrs; i++)
        ir_add_attr(g, q, nd->attrs[i]);
    if (!ir_attr(nd, "kernel_shape")) {
        const Value *w = nd->in[1];
        int64_t *ks = ir_alloc(g, sizeof *ks * (size_t)(w->rank - 2));
        IR_ASSERT(ks);
        memcpy(ks, w->dims + 2, sizeof *ks * (size_t)(w->rank - 2));
        Attr a = {.name = "kernel_shape", .type = AT_INTS, .n = w->rank - 2, .ints = ks};
        ir_add_attr(g, q, a);
    }
    ir_set_attr_int(g, q, "format", c->fmt);
    ir_set_attr_int(g, q, "N", c->n);
    ir_set_attr_int(g, q, "K", c->k);
    ir_set_attr_int(g, q, "block_size", c->group);
    ir_set_attr_float(g, q, "tensor_scale", c->tensor_scale);
    ir_place_after(g, nd, mark);
    ir_node_kill(nd);
    return ir_ops[q->op].infer(g, q, d) < 0 ? -1 : 1;
}

int quant_wq_act_bits(const QuantOpts *q, int model_int8)
{
    if (q && q->wq_act != WQA_DEFAULT)
        return q->wq_act == WQA_INT8 ? 8 : 0;
    return model_int8 ? 8 : 0;
}

/* nd becomes MatMulWQ reading x, the packed matrix and bias, writing nd's
 * output, with act_bits (0: float activations; 8: int8). */
static int replace(Graph *g, Node *nd, Value *x, const RtWqCodes *c, Value *bias, float ts_mul,
                   int act_bits, Diag *d)
{
    Value *w = packed_value(g, c);
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
    if (act_bits)
        ir_set_attr_int(g, q, "act_bits", act_bits);
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
 * block as group; accuracy_level 4 (ORT: int8 activations) keeps its
 * meaning as act_bits 8 unless --wq-act says otherwise. 1 done, 0 left to
 * the reference kernel, -1 on error. */
static int repack_nbits(Graph *g, Node *nd, const QuantOpts *q, Diag *d)
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
        int act = quant_wq_act_bits(q, ir_attr_int(nd, "accuracy_level", 0) == 4);
        ok = replace(g, nd, nd->in[0], &c, n_in_bias(nd), 1.0f, act, d);
    }
    free(code);
    free(zero);
    return ok;
}

/* --quant-report: a layer's weight error, ||W - Wq|| / ||W||, on stderr. */
static void report_layer(const Target *t, const RtWqCodes *c)
{
    float *wq = malloc(sizeof *wq * (size_t)(t->n * t->k));
    IR_ASSERT(wq);
    wq_dequant(c, wq);
    double e2 = 0, r2 = 0;
    for (int64_t i = 0; i < t->n * t->k; i++) {
        double e = (double)wq[i] - t->w[i];
        e2 += e * e;
        r2 += (double)t->w[i] * t->w[i];
    }
    free(wq);
    fprintf(stderr, "  %-10.6f %s (%s), %lld x %lld, %s g%d\n", r2 > 0 ? sqrt(e2 / r2) : 0.0,
            t->node->name, t->node->op_type, (long long)t->n, (long long)t->k,
            rt_wq_name(c->fmt), c->group);
}

/* ---- calibration for the methods that need X's statistics ---- */

typedef struct HessCtx {
    Target *t;
    int nt;
} HessCtx;

/* Rows of im2col^T a Conv's GEMM sees, a chunk at a time */
#define IM2COL_ROWS 256

/* Adds the im2col'ed X of a Conv target to its Hessian: one row of K per
 * image, group and output pixel, the vector its W rows meet in the GEMM.
 * The groups of a grouped Conv share one W matrix of N rows, so they share
 * one H too: the sum of their inputs' statistics. */
static void conv_hessian_add(Target *t, const Value *v, const float *x)
{
    const ConvGeom *c = &t->cg;
    int64_t plane = c->in[0] * c->in[1] * c->in[2], so = c->out[0] * c->out[1] * c->out[2];
    int64_t images = v->dims[0], win = c->k[0] * c->k[1] * c->k[2];
    float *buf = malloc(sizeof *buf * (size_t)(IM2COL_ROWS * t->k));
    IR_ASSERT(buf);
    int64_t nr = 0;
    for (int64_t b = 0; b < images * c->groups; b++) {
        const float *xg = x + b * c->cin * plane;
        for (int64_t o = 0; o < so; o++) {
            int64_t od = o / (c->out[1] * c->out[2]), oh = o / c->out[2] % c->out[1];
            int64_t ow = o % c->out[2];
            float *row = buf + nr * t->k;
            for (int64_t kk = 0; kk < t->k; kk++) {
                int64_t ci = kk / win, r = kk % win;
                int64_t id = od * c->st[0] - c->pad[0] + r / (c->k[1] * c->k[2]) * c->dil[0];
                int64_t ih = oh * c->st[1] - c->pad[1] + r / c->k[2] % c->k[1] * c->dil[1];
                int64_t iw = ow * c->st[2] - c->pad[2] + r % c->k[2] * c->dil[2];
                int in = id >= 0 && id < c->in[0] && ih >= 0 && ih < c->in[1] && iw >= 0 &&
                         iw < c->in[2];
                row[kk] = in ? xg[ci * plane + (id * c->in[1] + ih) * c->in[2] + iw] : 0.0f;
            }
            if (++nr == IM2COL_ROWS) {
                wq_hessian_add(t->h, buf, nr);
                nr = 0;
            }
        }
    }
    if (nr)
        wq_hessian_add(t->h, buf, nr);
    free(buf);
}

static void observe(void *ctx, const Value *v, const void *data)
{
    HessCtx *hc = ctx;
    for (int i = 0; i < hc->nt; i++) {
        Target *t = &hc->t[i];
        if (t->h && t->x == v && t->conv)
            conv_hessian_add(t, v, data);
        else if (t->h && t->x == v)
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
 * to constants); runs after fuse (a Conv may be a FusedConv with an
 * activation and a sum input) and before pack. Every MatMulNBits whose
 * weights are constants becomes MatMulWQ (always: its codes are the model's
 * own); with --quantize-weights, so does every MatMul and Gemm with a
 * constant 2-D float32 weight whose name no --keep-float pattern matches,
 * and every such Conv or FusedConv with a constant float32 W becomes ConvWQ,
 * grouped along K = C/group * kernel (depthwise ones stay float: conv_ok).
 * The graph stays valid: each replacement writes the replaced node's output. */
int pass_quantize_weights(Graph *g, PassCtx *ctx)
{
    int changes = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        Node *nd = g->nodes[i];
        if (nd->dead || nd->op != OP_MATMUL_NBITS || ir_node_is_constant(nd))
            continue;
        int rc = repack_nbits(g, nd, ctx->quant, ctx->d);
        if (rc < 0)
            return -1;
        changes += rc;
    }
    const QuantOpts *q = ctx->quant;
    if (!q || (q->weights == QW_NONE && !q->n_node_formats))
        return changes;
    Target *t = calloc((size_t)g->n_nodes + 1, sizeof *t);
    IR_ASSERT(t);
    int nt = 0, rc = 0;
    if (q->report)
        fprintf(stderr, "weight-only %s (%s): each layer's relative L2 weight error (gptq and "
                "decoupleq spend it where the calibration inputs do not look)\n",
                q->weights ? rt_wq_name((int)q->weights) : "per-node formats", q->method == QM_GPTQ        ? "gptq"
                                             : q->method == QM_DECOUPLEQ ? "decoupleq" : "rtn");
    for (int i = 0; i < g->n_nodes; i++) {
        Node *nd = g->nodes[i];
        int single = 0;
        QuantWeights fmt;
        int group;
        quant_node_format(q, nd->name, &fmt, &group);
        if (fmt == QW_NONE || quant_keep_float(q, nd->name))
            continue;
        if (conv_ok(nd, &single) ? conv_target(nd, &t[nt]) : target_of(g, nd, &t[nt])) {
            t[nt].fmt = fmt;
            t[nt].group = group;
            nt++;
        }
        if (single && q->report)
            fprintf(stderr, "  (float)    %s (%s) stays float32: one input channel per "
                    "group, so K = %lld is the window alone\n", nd->name, nd->op_type,
                    (long long)ir_numel(nd->in[1]) / nd->in[1]->dims[0]);
    }
    /* GPTQ and decoupleQ are GEMM-bound (k^3 + n k^2 per layer): the compiler
     * lends them every CPU it may use. The runtime's GEMM gives every element
     * to one thread in a fixed order, so the codes do not depend on it. */
    int threaded = q->method != QM_RTN && rt_set_threads(0) == RT_OK;
    if (nt && (q->method == QM_GPTQ || q->method == QM_DECOUPLEQ))
        rc = collect_hessians(g, ctx, t, nt);
    for (int i = 0; i < nt && rc == 0; i++) {
        RtWqCodes c;
        if (wq_quantize(t[i].w, t[i].n, t[i].k, (int)t[i].fmt, t[i].group, (int)q->method, t[i].h,
                        &c, ctx->d) < 0) {
            rc = -1;
            break;
        }
        if (q->report)
            report_layer(&t[i], &c);
        if (!rt_wq_packed_bytes(c.fmt, c.n, c.k, c.group)) {
            rc = ir_node_error(ctx->d, t[i].node, "format %s cannot pack groups of %d",
                               rt_wq_name(c.fmt), c.group);
        } else if (t[i].conv) {
            rc = replace_conv(g, t[i].node, &c, ctx->d);
            changes += rc > 0;
            rc = rc < 0 ? -1 : 0;
        } else {
            Value *y = t[i].node->out[0];
            rc = replace(g, t[i].node, t[i].x, &c, t[i].bias, t[i].alpha,
                         quant_wq_act_bits(q, 0), ctx->d);
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
