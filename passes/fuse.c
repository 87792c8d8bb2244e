/* fuse.c: Conv + BatchNorm, residual Add, activation and an SE block's Mul become one FusedConv. */
#include <math.h>
#include <string.h>

#include "passes.h"

static void add_attrs(Graph *g, Node *n, const char *act, const float *params, int n_params)
{
    Attr *a = ir_alloc(g, sizeof *a * (size_t)(n->n_attrs + 2));
    IR_ASSERT(a);
    if (n->n_attrs) /* (an attribute-less Conv has no array) */
        memcpy(a, n->attrs, sizeof *a * (size_t)n->n_attrs);
    Attr *x = &a[n->n_attrs++];
    x->name = "activation";
    x->type = AT_STRING;
    x->s = act;
    x->s_len = strlen(act);
    if (n_params) {
        x = &a[n->n_attrs++];
        x->name = "activation_params";
        x->type = AT_FLOATS;
        x->n = n_params;
        x->floats = ir_alloc(g, sizeof(float) * (size_t)n_params);
        IR_ASSERT(x->floats);
        memcpy(x->floats, params, sizeof(float) * (size_t)n_params);
    }
    n->attrs = a;
}

/* The only reader of v, when v is an intermediate with exactly one. */
static Node *sole_reader(const Value *v)
{
    if (!v || v->is_output || v->n_uses != 1)
        return NULL;
    return v->uses->node;
}

/* An activation FusedConv applies in its store: its name and parameters as
 * the activation / activation_params attributes spell them. */
typedef struct Act {
    const char *name;
    float p[2];
    int np;
    Node *first;                 /* Swish's Sigmoid, already killed; NULL for one node */
    Node *last;                  /* its (last) node */
} Act;

/* n, reading v, as an activation; Sigmoid also needs the Mul x * Sigmoid(x). */
static int activation(Node *n, const Value *v, Act *a)
{
    if (n->dead || n->n_in < 1 || n->in[0] != v || n->n_out < 1 || !n->out[0])
        return 0;
    a->np = 0;
    a->first = NULL;
    a->last = n;
    switch (n->op) {
    case OP_RELU:
        a->name = "Relu";
        return 1;
    case OP_CLIP:
        a->name = "Clip";
        a->np = 2;
        return ir_clip_bounds(n, &a->p[0], &a->p[1]) == 0;
    case OP_LEAKY_RELU:
        a->name = "LeakyRelu";
        a->p[0] = ir_attr_float(n, "alpha", 0.01f);
        a->np = 1;
        return 1;
    case OP_HARD_SIGMOID:
        a->name = "HardSigmoid";
        a->p[0] = ir_attr_float(n, "alpha", 0.2f);
        a->p[1] = ir_attr_float(n, "beta", 0.5f);
        a->np = 2;
        return 1;
    case OP_HARD_SWISH:
        a->name = "HardSwish";
        return 1;
    default:
        return 0;
    }
}

/* x * Sigmoid(x): v read by exactly a Sigmoid and the Mul of both. */
static int swish(const Value *v, Act *a)
{
    if (!v || v->is_output || v->n_uses != 2)
        return 0;
    Node *s = NULL, *m = NULL;
    for (const Use *u = v->uses; u; u = u->next) {
        if (u->node->op == OP_SIGMOID)
            s = u->node;
        else if (u->node->op == OP_MUL)
            m = u->node;
    }
    if (!s || !m || s->in[0] != v || sole_reader(s->out[0]) != m || m->n_in != 2 || !m->out[0])
        return 0;
    if (!((m->in[0] == v && m->in[1] == s->out[0]) || (m->in[1] == v && m->in[0] == s->out[0])))
        return 0;
    ir_node_kill(s);
    s->out[0]->producer = NULL;
    a->name = "Swish";
    a->np = 0;
    a->first = s;
    a->last = m;
    return 1;
}

static int same_shape(const Value *a, const Value *b)
{
    if (a->rank != b->rank || a->dtype != b->dtype)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

/* A constant float32 copy of v's shape, for rewritten weights. */
static float *new_const(Graph *g, const Value *like, Value **out)
{
    Value *v = ir_value_new(g, NULL);
    v->dtype = RT_F32;
    v->rank = like->rank;
    memcpy(v->dims, like->dims, sizeof v->dims);
    float *p = ir_value_alloc_data(g, v);
    IR_ASSERT(p);
    *out = v;
    return p;
}

static int is_const_f32(const Value *v, int rank)
{
    return v && v->data && !v->producer && v->dtype == RT_F32 && v->rank == rank;
}

/* Conv -> BatchNormalization (inference form, constant statistics) becomes
 * one Conv: W'[m] = W[m] * s[m], B' = (B - mean) * s + beta with
 * s = scale / sqrt(var + eps). New constants: W may have other readers. */
static int fold_batchnorm(Graph *g, Node *conv)
{
    Value *mid = conv->out[0];
    Node *bn = sole_reader(mid);
    const Value *w = ir_input(conv, 1), *b = ir_input(conv, 2);
    if (!bn || bn->op != OP_BATCH_NORMALIZATION || bn->in[0] != mid || bn->n_in < 5 ||
        !is_const_f32(w, w ? w->rank : 0) || (b && !is_const_f32(b, 1)))
        return 0;
    if (bn->n_ints <= RT_BATCHNORM_TRAINING || bn->ints[RT_BATCHNORM_TRAINING] || !bn->out[0])
        return 0;
    for (int i = 1; i < bn->n_out; i++)
        if (bn->out[i])
            return 0;
    int64_t m = w->dims[0], per = ir_numel(w) / (m ? m : 1);
    for (int i = 1; i < 5; i++)
        if (!is_const_f32(bn->in[i], 1) || bn->in[i]->dims[0] != m)
            return 0;
    const float *sc = bn->in[1]->data, *bb = bn->in[2]->data, *mean = bn->in[3]->data,
                *var = bn->in[4]->data, *wd = w->data, *bd = b ? b->data : NULL;
    double eps = bn->floats[RT_BATCHNORM_F_EPSILON];
    Value *nw, *nb;
    float *pw = new_const(g, w, &nw), *pb = new_const(g, bn->in[1], &nb);
    for (int64_t o = 0; o < m; o++) {
        double s = sc[o] / sqrt((double)var[o] + eps);
        for (int64_t i = 0; i < per; i++)
            pw[o * per + i] = (float)(wd[o * per + i] * s);
        pb[o] = (float)(((bd ? bd[o] : 0) - (double)mean[o]) * s + bb[o]);
    }
    if (conv->n_in < 3)
        ir_set_n_in(g, conv, 3);
    ir_set_input(g, conv, 1, nw);
    ir_set_input(g, conv, 2, nb);
    Value *y = bn->out[0];
    ir_node_absorb(g, conv, bn);
    ir_node_kill(bn);
    conv->out[0] = y;
    y->producer = conv;
    mid->producer = NULL;
    return 1;
}

/* Moves conv to the slot of `last`, the final node it absorbed: every input
 * of the absorbed nodes (the sum input Z among them) is computed by then. */
static void move_to(Graph *g, int k, const Node *last)
{
    for (int j = k + 1; j < g->n_nodes; j++)
        if (g->nodes[j] == last) {
            Node *t = g->nodes[j];
            g->nodes[j] = g->nodes[k];
            g->nodes[k] = t;
            return;
        }
    IR_ASSERT(0);
}

static int plain_f32(const Value *v)
{
    return v && v->dtype == RT_F32 && v->kind == VK_TENSOR && !v->dyn && ir_shape_known(v);
}

/* s scales x per image and channel: x [N, C, spatial...], s [N, C, 1...]. */
static int per_channel(const Value *s, const Value *x)
{
    if (!plain_f32(s) || !plain_f32(x) || s->rank != x->rank || x->rank < 3 ||
        s->dims[0] != x->dims[0] || s->dims[1] != x->dims[1])
        return 0;
    for (int i = 2; i < s->rank; i++)
        if (s->dims[i] != 1)
            return 0;
    return 1;
}

/* The pointwise float32 Conv (1x1, stride 1, unpadded, group 1) that alone
 * reads y, a value of x's shape that would become the Conv's X, with no
 * channel scale yet; or NULL. */
static Node *pointwise_reader(const Value *y, const Value *x)
{
    Node *conv = sole_reader(y);
    if (!conv || !same_shape(x, y) || (conv->op != OP_CONV && conv->op != OP_FUSED_CONV) ||
        conv->dead || ir_node_is_constant(conv) || conv->in[0] != y || conv->n_in < 2 ||
        conv->in[1] == y || ir_input(conv, 4) || ir_input(conv, 5) || !conv->out[0])
        return NULL;
    for (int i = 2; i < conv->n_in && i < 4; i++)
        if (conv->in[i] == y)
            return NULL;
    const Value *w = conv->in[1], *o = conv->out[0];
    if (conv->n_ints <= RT_CONV_NSP || conv->ints[RT_CONV_GROUP] != 1 || w->rank != x->rank ||
        o->rank != x->rank)
        return NULL;
    int nsp = (int)conv->ints[RT_CONV_NSP];
    if (nsp != x->rank - 2 || conv->n_ints < RT_CONV_CLAMP(nsp))
        return NULL;
    for (int i = 0; i < nsp; i++) /* 1x1, stride 1, output extent = input: no padding */
        if (w->dims[2 + i] != 1 || conv->ints[RT_CONV_STRIDES + i] != 1 ||
            o->dims[2 + i] != x->dims[2 + i])
            return NULL;
    return conv;
}

/* A squeeze-excite block ends in Mul(S, X), X's channels scaled by S (a
 * Sigmoid or HardSigmoid of the pooled squeeze), read only by a pointwise
 * Conv (the block's projection): the Mul folds into that Conv as its
 * channel scale, FusedConv's 5th input, applied as the GEMM packs X. The
 * scaled feature map is then never written and read back (one pass over
 * the block's widest tensor saved). Returns 1 on a fold. */
static int fold_channel_scale(Graph *g, Node *m, PassCtx *ctx)
{
    if (m->dead || m->op != OP_MUL || m->n_in != 2 || m->n_out != 1 || !m->out[0] ||
        ir_node_is_constant(m))
        return 0;
    Value *x = m->in[1], *s = m->in[0];
    if (!per_channel(s, x)) {
        x = m->in[0];
        s = m->in[1];
        if (!per_channel(s, x))
            return 0;
    }
    Value *y = m->out[0];
    Node *conv = pointwise_reader(y, x);
    if (!conv)
        return 0;
    ir_node_absorb(g, conv, m);
    ir_node_kill(m);
    y->producer = NULL;
    if (conv->n_in < 5)
        ir_set_n_in(g, conv, 5);
    ir_set_input(g, conv, 0, x);
    ir_set_input(g, conv, 4, s);
    conv->op = OP_FUSED_CONV;
    conv->op_type = "FusedConv";
    conv->domain = "com.microsoft";
    conv->n_ints = conv->n_floats = 0;
    return ir_ops[conv->op].infer(g, conv, ctx->d) < 0 ? -1 : 1;
}

/* A pre-activation block: BatchNormalization (inference form, constant
 * statistics) then Relu, read only by a pointwise Conv (densenet's
 * norm1/relu1 after each Concat, its transitions' norm/relu). The Conv's
 * input is then max(s x + t, 0) per channel, s = scale / sqrt(var + eps),
 * t = beta - mean s: s and t become FusedConv's inputs 4 and 5 ([N, C, 1...]
 * each), applied with the max as the GEMM packs X, and neither the
 * normalized nor the rectified map is written and read back (two passes
 * over the block's widest tensor saved). Returns 1 on a fold. */
static int fold_preact(Graph *g, Node *bn, PassCtx *ctx)
{
    if (bn->dead || bn->op != OP_BATCH_NORMALIZATION || bn->n_in < 5 || !bn->out[0] ||
        ir_node_is_constant(bn) || bn->n_ints <= RT_BATCHNORM_TRAINING ||
        bn->ints[RT_BATCHNORM_TRAINING] || bn->n_floats <= RT_BATCHNORM_F_EPSILON)
        return 0;
    for (int i = 1; i < bn->n_out; i++)
        if (bn->out[i])
            return 0;
    Value *x = bn->in[0], *mid = bn->out[0];
    if (!plain_f32(x) || x->rank < 3 || !same_shape(x, mid))
        return 0;
    int64_t n = x->dims[0], c = x->dims[1];
    for (int i = 1; i < 5; i++) { /* known values (a folded Constant node's too) */
        const Value *p = bn->in[i];
        if (!p || !p->data || p->dtype != RT_F32 || p->rank != 1 || p->dims[0] != c ||
            (p->producer && !ir_node_is_constant(p->producer)))
            return 0;
    }
    Node *relu = sole_reader(mid);
    if (!relu || relu->op != OP_RELU || relu->dead || relu->in[0] != mid || !relu->out[0])
        return 0;
    Value *y = relu->out[0];
    Node *conv = pointwise_reader(y, x);
    if (!conv)
        return 0;
    Value *sv = ir_value_new(g, NULL), *tv;
    sv->dtype = RT_F32;
    sv->rank = x->rank;
    sv->dims[0] = n;
    sv->dims[1] = c;
    for (int i = 2; i < x->rank; i++)
        sv->dims[i] = 1;
    float *ps = ir_value_alloc_data(g, sv), *pt = new_const(g, sv, &tv);
    IR_ASSERT(ps);
    const float *sc = bn->in[1]->data, *bb = bn->in[2]->data, *mean = bn->in[3]->data,
                *var = bn->in[4]->data;
    double eps = bn->floats[RT_BATCHNORM_F_EPSILON];
    for (int64_t k = 0; k < c; k++) {
        double a = sc[k] / sqrt((double)var[k] + eps);
        for (int64_t q = 0; q < n; q++) {
            ps[q * c + k] = (float)a;
            pt[q * c + k] = (float)(bb[k] - mean[k] * a);
        }
    }
    ir_node_absorb(g, conv, bn);
    ir_node_absorb(g, conv, relu);
    ir_node_kill(bn);
    ir_node_kill(relu);
    mid->producer = NULL;
    y->producer = NULL;
    if (conv->n_in < 6)
        ir_set_n_in(g, conv, 6);
    ir_set_input(g, conv, 0, x);
    ir_set_input(g, conv, 4, sv);
    ir_set_input(g, conv, 5, tv);
    conv->op = OP_FUSED_CONV;
    conv->op_type = "FusedConv";
    conv->domain = "com.microsoft";
    conv->n_ints = conv->n_floats = 0;
    return ir_ops[conv->op].infer(g, conv, ctx->d) < 0 ? -1 : 1;
}

/* pass_fuse: requires pass_shape; keeps the graph valid. For a float32 Conv
 * (or a FusedConv without activation or sum): a following inference
 * BatchNormalization folds into its weights; then an Add of a tensor of the
 * output's shape (a residual connection) becomes FusedConv's sum input Z,
 * and a following activation (Relu, Clip with constant bounds, LeakyRelu,
 * HardSigmoid, HardSwish, x * Sigmoid(x)) its activation: the form ONNX
 * Runtime's fusions produce (HardSwish and Swish are onnxcc's additions),
 * applied as the GEMM stores C. Then a per-channel Mul read only by a
 * pointwise Conv (a squeeze-excite block's) becomes that Conv's channel
 * scale (fold_channel_scale), and a BatchNormalization + Relu read only by
 * a pointwise Conv its channel scale, shift and Relu (fold_preact). */
int pass_fuse(Graph *g, PassCtx *ctx)
{
    int changes = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *conv = g->nodes[k];
        if (conv->dead || (conv->op != OP_CONV && conv->op != OP_FUSED_CONV) ||
            ir_node_is_constant(conv) || ir_attr(conv, "activation") ||
            (conv->n_in > 3 && conv->in[3]))
            continue;
        Value *mid = conv->out[0];
        if (!mid || mid->dtype != RT_F32)
            continue;
        int folded = conv->op == OP_CONV && fold_batchnorm(g, conv);
        mid = conv->out[0];
        Node *next = sole_reader(mid), *add = NULL, *last = NULL;
        Value *z = NULL, *y = mid;
        if (next && next->op == OP_ADD && next->n_in == 2 && next->out[0] &&
            same_shape(next->out[0], mid)) {
            z = next->in[0] == mid ? next->in[1] : next->in[0];
            if (z == mid || !same_shape(z, mid))
                z = NULL;
        }
        if (z) {
            add = last = next;
            y = next->out[0];
            next = sole_reader(y);
        }
        Act a = {0};
        int has_act = (next && activation(next, y, &a)) || swish(y, &a);
        if (has_act) {
            last = a.last;
            y = a.last->out[0];
        }
        if (!last) {
            if (folded) {
                conv->n_ints = conv->n_floats = 0;
                if (ir_ops[conv->op].infer(g, conv, ctx->d) < 0)
                    return -1;
                changes++;
            }
            continue;
        }
        move_to(g, k, last);
        /* the absorbed nodes go; their intermediates lose their producer */
        mid->producer = NULL;
        if (add) {
            add->out[0]->producer = NULL;
            ir_node_absorb(g, conv, add);
            ir_node_kill(add);
        }
        if (has_act && a.first)
            ir_node_absorb(g, conv, a.first);
        if (has_act) {
            ir_node_absorb(g, conv, a.last);
            ir_node_kill(a.last);
        }
        if (has_act)
            add_attrs(g, conv, a.name, a.p, a.np);
        if (z) {
            if (conv->n_in < 4)
                ir_set_n_in(g, conv, 4);
            ir_set_input(g, conv, 3, z);
        }
        conv->op = OP_FUSED_CONV;
        conv->op_type = "FusedConv";
        conv->domain = "com.microsoft";
        conv->out[0] = y;
        y->producer = conv;
        conv->n_ints = conv->n_floats = 0;
        if (ir_ops[conv->op].infer(g, conv, ctx->d) < 0)
            return -1;
        changes++;
    }
    /* the quantizers and --save-onnx know FusedConv's four ONNX Runtime
     * inputs only: no channel scale when they run */
    for (int k = 0; !ctx->quant && k < g->n_nodes; k++) {
        int r = fold_channel_scale(g, g->nodes[k], ctx);
        if (r == 0)
            r = fold_preact(g, g->nodes[k], ctx);
        if (r < 0)
            return -1;
        changes += r;
    }
    return changes;
}
