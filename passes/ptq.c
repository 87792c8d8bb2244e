/* ptq.c: static int8 post-training quantization: calibrated ranges, the graph in QDQ form. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "repquant.h"

/* Float outputs --quant-report keeps to compare the quantized graph with:
 * past this, the report covers the first samples only. */
#define REPORT_MAX_BYTES ((int64_t)256 << 20)

enum { PH_MINMAX, PH_HIST, PH_REPORT };

/* One activation tensor calibration watches: an input or output of a node
 * being quantized. */
typedef struct Watch {
    Value *v;
    CalibRange r;
    const Node *layer;           /* the quantized node whose output v is; NULL: an input only */
    float scale;                 /* uint8 parameters, from r and the method */
    uint8_t zero;
    Value *dq;                   /* what quantized readers read (v itself for an output) */
    float *ref;                  /* report: v in float, sample after sample */
    int n_ref;                   /* samples held in ref */
    int seen;                    /* samples seen in the current run */
    double err2, ref2;           /* report: sums of squared error and squared reference */
} Watch;

typedef struct Ptq {
    Graph *g;
    const QuantOpts *q;
    Diag *d;
    int64_t opset;               /* the default domain's: Q/DQ are written in it */
    int nv;                      /* values before the rewrite (calibration sees these) */
    int *slot;                   /* value id -> index in w, or -1 */
    Watch *w;
    int nw;
    Node **t;                    /* the nodes to quantize, in graph order */
    Node **relu;                 /* t[i]'s output's only reader, a Relu it absorbs; or NULL */
    int nt;
    Value **wdq;                 /* value id of a weight -> its DequantizeLinear output */
    int phase;
    int keep;                    /* report: samples whose float outputs are kept */
    int failed;                  /* out of memory in the observer */
} Ptq;

static int is_act(const Value *v)
{
    return v && v->dtype == RT_F32 && !v->data && v->kind == VK_TENSOR && !v->dyn &&
           ir_shape_known(v);
}

static int is_target(const Ptq *p, const Node *n)
{
    if (n->dead || ir_node_is_constant(n) || n->n_out < 1 || !is_act(n->out[0]))
        return 0;
    if (n->op != OP_CONV && n->op != OP_FUSED_CONV && n->op != OP_GEMM && n->op != OP_MATMUL)
        return 0;
    return is_act(ir_input(n, 0)) && !quant_keep_float(p->q, n->name);
}

/* The inputs of a quantized node that are activations: X; B of a MatMul or
 * Gemm (and W of a Conv) when computed; FusedConv's residual input Z. Z is
 * quantized too: it is a tensor like any other, and an integer kernel can
 * only add it once both sides have scales. */
static int act_slots(const Node *n, int *slots)
{
    int k = 0;
    for (int i = 0; i < n->n_in && i < 4; i++) {
        if (i == 2 || !is_act(n->in[i]))
            continue;
        if (i == 3 && n->op != OP_FUSED_CONV)
            continue;
        slots[k++] = i;
    }
    return k;
}

static void watch(Ptq *p, Value *v, const Node *layer)
{
    if (p->slot[v->id] < 0) {
        Watch *w = &p->w[p->nw];
        memset(w, 0, sizeof *w);
        w->v = v;
        calib_range_init(&w->r);
        p->slot[v->id] = p->nw++;
    }
    if (layer)
        p->w[p->slot[v->id]].layer = layer;
}

static Watch *watch_of(const Ptq *p, const Value *v)
{
    if (!v || v->id >= p->nv || p->slot[v->id] < 0 || p->w[p->slot[v->id]].v != v)
        return NULL;
    return &p->w[p->slot[v->id]];
}

static void observe(void *ctx, const Value *v, const void *data)
{
    Ptq *p = ctx;
    Watch *w = watch_of(p, v);
    if (!w || p->failed)
        return;
    const float *x = data;
    int64_t n = ir_numel(v);
    if (p->phase == PH_HIST) {
        p->failed |= calib_range_hist(&w->r, x, n) < 0;
        return;
    }
    if (p->phase == PH_MINMAX)
        calib_range_minmax(&w->r, x, n);
    int k = w->seen++;
    if (!w->layer || k >= p->keep)
        return;
    if (p->phase == PH_MINMAX) {
        float *grown = realloc(w->ref, sizeof *grown * (size_t)(n * (k + 1)));
        if (!grown) {
            p->failed = 1;
            return;
        }
        w->ref = grown;
        memcpy(w->ref + n * k, x, sizeof *x * (size_t)n);
        w->n_ref = k + 1;
    } else if (k < w->n_ref) {
        const float *ref = w->ref + n * k;
        for (int64_t i = 0; i < n; i++) {
            double e = (double)x[i] - ref[i];
            w->err2 += e * e;
            w->ref2 += (double)ref[i] * ref[i];
        }
    }
}

/* Runs calibration in the current phase; samples run, or -1. */
static int run(Ptq *p, int phase)
{
    p->phase = phase;
    for (int i = 0; i < p->nw; i++)
        p->w[i].seen = 0;
    int n = calib_run(p->g, p->q, observe, p, p->d);
    if (n > 0 && p->failed)
        return ir_error(p->d, "--quantize int8: out of memory while calibrating");
    return n;
}

/* ---- the rewrite ---- */

/* A name for a new value or node of g: base + suffix, numbered if taken. */
static const char *fresh(Graph *g, const char *base, const char *suffix)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%.400s%.64s", base, suffix);
    for (int k = 2; ir_value_find(g, buf); k++)
        snprintf(buf, sizeof buf, "%.400s%.64s_%d", base, suffix, k);
    return ir_strdup(g, buf);
}

/* A constant of g: dtype, dims; its zeroed data. */
static void *constant(Graph *g, const char *name, int dtype, int rank, const int64_t *dims,
                      Value **out)
{
    Value *v = ir_value_new(g, name);
    v->dtype = dtype;
    v->rank = rank;
    for (int i = 0; i < rank; i++)
        v->dims[i] = dims[i];
    v->is_initializer = 1;
    void *data = ir_value_alloc_data(g, v);
    IR_ASSERT(data);
    *out = v;
    return data;
}

static Node *qdq_node(Ptq *p, const char *op, const char *name, Value *x, Value *s, Value *z,
                      Value *out, int axis)
{
    Value *in[3] = {x, s, z};
    Node *n = ir_add_node(p->g, op, p->opset, fresh(p->g, name, ""), z ? 3 : 2, in, out);
    if (axis >= 0)
        ir_set_attr_int(p->g, n, "axis", axis);
    if (ir_ops[n->op].infer(p->g, n, p->d) < 0)
        return NULL;
    return n;
}

/* x -> QuantizeLinear -> DequantizeLinear -> out, with w's scale and zero point. */
static int add_pair(Ptq *p, Watch *w, Value *x, Value *out)
{
    Graph *g = p->g;
    const char *t = w->v->name;
    Value *s, *z, *q = ir_value_new(g, fresh(g, t, "_quantized"));
    *(float *)constant(g, fresh(g, t, "_scale"), RT_F32, 0, NULL, &s) = w->scale;
    *(uint8_t *)constant(g, fresh(g, t, "_zero_point"), RT_U8, 0, NULL, &z) = w->zero;
    char name[512];
    snprintf(name, sizeof name, "%.400s_QuantizeLinear", t);
    if (!qdq_node(p, "QuantizeLinear", name, x, s, z, q, -1))
        return -1;
    snprintf(name, sizeof name, "%.400s_DequantizeLinear", t);
    return qdq_node(p, "DequantizeLinear", name, q, s, z, out, -1) ? 0 : -1;
}

/* Input slot i of n reads its activation through a Q/DQ pair: the one made
 * where the tensor was produced (a quantized node's output), or one made now
 * just before n and shared by later readers. With --repquant log2 a Softmax
 * output's pair is the log2 quantizer instead. */
static int quantize_input(Ptq *p, Node *n, int i)
{
    Watch *w = watch_of(p, n->in[i]);
    IR_ASSERT(w);
    if (!w->dq) {
        int mark = p->g->n_nodes;
        const Node *src = w->v->producer;
        int log2 = (p->q->repquant & RQ_LOG2) && src && src->op == OP_SOFTMAX;
        w->dq = ir_value_new(p->g, fresh(p->g, w->v->name, log2 ? "_log2" : "_dequantized"));
        if (log2 ? repquant_log2_pair(p->g, w->v, w->dq, p->d) < 0
                 : add_pair(p, w, w->v, w->dq) < 0)
            return -1;
        ir_place_before(p->g, n, mark);
    }
    if (w->dq != n->in[i])
        ir_set_input(p->g, n, i, w->dq);
    return 0;
}

/* The Relu that is n's output's only reader, which the quantized output
 * absorbs; NULL if none. The pair then goes after the Relu, whose range
 * starts at 0: its zero point is 0, and QuantizeLinear's saturation at 0 is
 * the Relu, so the Relu goes and no Q/DQ pair is left between the two. */
static Node *absorbed_relu(const Ptq *p, const Node *n)
{
    const Value *y = n->out[0];
    if (y->is_output || y->n_uses != 1)
        return NULL;
    Node *r = y->uses->node;
    if (r->dead || r->op != OP_RELU || r->n_out < 1 || !is_act(r->out[0]) ||
        quant_keep_float(p->q, r->name))
        return NULL;
    return r;
}

/* n now writes a new float value, and its old output (name, readers, graph
 * output status) is the DequantizeLinear of that value's Q/DQ pair. With an
 * absorbed Relu, n keeps its output and the Relu's is the DequantizeLinear's. */
static int quantize_output(Ptq *p, Node *n, Node *relu)
{
    Graph *g = p->g;
    if (relu) {
        Value *y = relu->out[0];
        Watch *w = watch_of(p, y);
        IR_ASSERT(w && !w->dq && w->zero == 0);
        ir_node_kill(relu);
        y->producer = NULL;
        int mark = g->n_nodes;
        if (add_pair(p, w, n->out[0], y) < 0)
            return -1;
        ir_place_after(g, n, mark);
        w->dq = y;
        return 0;
    }
    Value *y = n->out[0];
    Watch *w = watch_of(p, y);
    IR_ASSERT(w && !w->dq);
    Value *f = ir_value_new(g, fresh(g, y->name, "_float"));
    f->dtype = y->dtype;
    f->rank = y->rank;
    memcpy(f->dims, y->dims, sizeof f->dims);
    n->out[0] = f;
    f->producer = n;
    int mark = g->n_nodes;
    if (add_pair(p, w, f, y) < 0)
        return -1;
    ir_place_after(g, n, mark);
    w->dq = y;
    return 0;
}

/* The output-channel axis of n's weight (input 1); -1: none (per-tensor). */
static int weight_axis(const Node *n)
{
    const Value *b = n->in[1];
    if (n->op == OP_CONV || n->op == OP_FUSED_CONV)
        return 0;
    if (n->op == OP_GEMM)
        return ir_attr_int(n, "transB", 0) ? 0 : 1;
    return b->rank >= 2 ? b->rank - 1 : -1;
}

/* Weight input 1 of n becomes symmetric int8 codes with one scale per
 * output channel (max|w| / 127, so -128 is never used and the range is
 * symmetric) and a DequantizeLinear along that axis. Before opset 13
 * DequantizeLinear has no axis: one scale for the tensor. The scales go to
 * sw (one per channel, or one). */
static int quantize_weight(Ptq *p, Node *n, float *sw, int64_t *nch)
{
    Graph *g = p->g;
    Value *w = n->in[1];
    int axis = p->opset >= 13 ? weight_axis(n) : -1;
    /* w as [outer][c][inner], c along the axis */
    int64_t c = axis >= 0 ? w->dims[axis] : 1, inner = 1, numel = ir_numel(w);
    for (int i = axis + 1; axis >= 0 && i < w->rank; i++)
        inner *= w->dims[i];
    if (axis < 0)
        inner = numel;
    int64_t outer = c * inner > 0 ? numel / (c * inner) : 0;
    *nch = c;
    const float *x = w->data;
    for (int64_t k = 0; k < c; k++)
        sw[k] = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < c; k++) {
            const float *row = x + (o * c + k) * inner;
            for (int64_t j = 0; j < inner; j++)
                sw[k] = fabsf(row[j]) > sw[k] ? fabsf(row[j]) : sw[k];
        }
    for (int64_t k = 0; k < c; k++)
        sw[k] = sw[k] > 0 && isfinite(sw[k]) ? sw[k] / 127.0f : 1.0f;
    int cached = w->id < p->nv && p->wdq[w->id] && p->wdq[w->id]->producer &&
                 ir_attr_int(p->wdq[w->id]->producer, "axis", -1) == axis;
    if (!cached) {
        Value *q, *s, *z;
        int8_t *codes = constant(g, fresh(g, w->name, "_quantized"), RT_I8, w->rank, w->dims, &q);
        float *sd = constant(g, fresh(g, w->name, "_scale"), RT_F32, axis >= 0, &c, &s);
        constant(g, fresh(g, w->name, "_zero_point"), RT_I8, axis >= 0, &c, &z);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t k = 0; k < c; k++)
                for (int64_t j = (o * c + k) * inner, e = j + inner; j < e; j++) {
                    float v = nearbyintf(x[j] / sw[k]);
                    codes[j] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : v);
                }
        memcpy(sd, sw, sizeof *sd * (size_t)c);
        Value *out = ir_value_new(g, fresh(g, w->name, "_dequantized"));
        char name[512];
        snprintf(name, sizeof name, "%.400s_DequantizeLinear", w->name);
        int mark = g->n_nodes;
        if (!qdq_node(p, "DequantizeLinear", name, q, s, z, out, axis))
            return -1;
        ir_place_before(g, n, mark);
        if (w->id < p->nv)
            p->wdq[w->id] = out;
        ir_set_input(g, n, 1, out);
    } else {
        ir_set_input(g, n, 1, p->wdq[w->id]);
    }
    return 0;
}

/* The bias becomes int32 codes with scale x_scale * w_scale[channel] and no
 * zero point, the form ONNX Runtime's QDQ quantizer writes and QLinearConv
 * takes. A bias a code cannot reach at that scale stays float. Gemm's C
 * only when it is one value per output column and alpha = beta = 1. */
static int quantize_bias(Ptq *p, Node *n, float sx, const float *sw, int64_t nch)
{
    Graph *g = p->g;
    Value *b = n->n_in > 2 ? n->in[2] : NULL;
    if (!b || !b->data || b->dtype != RT_F32 || b->rank != 1 || n->op == OP_MATMUL)
        return 0;
    int64_t m = b->dims[0];
    if (nch != 1 && nch != m)
        return 0;
    if (n->op == OP_GEMM && (ir_attr_float(n, "alpha", 1) != 1 ||
                             ir_attr_float(n, "beta", 1) != 1))
        return 0;
    const float *x = b->data;
    for (int64_t i = 0; i < m; i++)
        if (!(fabs(x[i] / ((double)sx * sw[nch == 1 ? 0 : i])) < 2147483647.0))
            return 0;
    Value *q, *s;
    int64_t ns = nch == 1 ? 1 : m;
    int32_t *codes = constant(g, fresh(g, b->name, "_quantized"), RT_I32, 1, &m, &q);
    float *sd = constant(g, fresh(g, b->name, "_scale"), RT_F32, nch != 1, &ns, &s);
    for (int64_t i = 0; i < ns; i++)
        sd[i] = sx * sw[i];
    for (int64_t i = 0; i < m; i++)
        codes[i] = (int32_t)nearbyint(x[i] / sd[nch == 1 ? 0 : i]);
    Value *out = ir_value_new(g, fresh(g, b->name, "_dequantized"));
    char name[512];
    snprintf(name, sizeof name, "%.400s_DequantizeLinear", b->name);
    int mark = g->n_nodes;
    if (!qdq_node(p, "DequantizeLinear", name, q, s, NULL, out, nch != 1 ? 0 : -1))
        return -1;
    ir_place_before(g, n, mark);
    ir_set_input(g, n, 2, out);
    return 0;
}

static int quantize_node(Ptq *p, Node *n, Node *relu)
{
    int slots[4], k = act_slots(n, slots);
    const Watch *wx = watch_of(p, n->in[0]);
    for (int i = 0; i < k; i++)
        if (quantize_input(p, n, slots[i]) < 0)
            return -1;
    const Value *w = ir_input(n, 1);
    if (w && w->data && w->dtype == RT_F32) {
        int axis = weight_axis(n);
        int64_t c = axis >= 0 ? w->dims[axis] : 1, nch;
        float *sw = malloc(sizeof *sw * (size_t)(c > 0 ? c : 1));
        IR_ASSERT(sw);
        int rc = quantize_weight(p, n, sw, &nch);
        if (rc == 0 && wx)
            rc = quantize_bias(p, n, wx->scale, sw, nch);
        free(sw);
        if (rc < 0)
            return -1;
    }
    return quantize_output(p, n, relu);
}

/* ---- --quant-report ---- */

static int by_error(const void *a, const void *b)
{
    const Watch *x = *(Watch *const *)a, *y = *(Watch *const *)b;
    double ex = x->ref2 > 0 ? x->err2 / x->ref2 : 0, ey = y->ref2 > 0 ? y->err2 / y->ref2 : 0;
    return (ex < ey) - (ex > ey);
}

static const char *const method_name[] = {"minmax", "percentile", "entropy"};

/* One line per quantized layer, worst first: relative L2 error and SQNR of
 * its output (what its readers see) against the float graph's. */
static void report(const Ptq *p, int samples)
{
    Watch **rows = malloc(sizeof *rows * (size_t)(p->nw + 1));
    IR_ASSERT(rows);
    int n = 0, kept = samples;
    for (int i = 0; i < p->nw; i++)
        if (p->w[i].layer) {
            rows[n++] = &p->w[i];
            kept = p->w[i].n_ref < kept ? p->w[i].n_ref : kept;
        }
    qsort(rows, (size_t)n, sizeof *rows, by_error);
    fprintf(stderr, "int8 quantization (%s ranges): each quantized layer's output against "
            "float, over %d calibration sample%s\n", method_name[p->q->calib_method], kept,
            kept == 1 ? "" : "s");
    fprintf(stderr, "  %-10s %9s  %s\n", "rel. L2", "SQNR dB", "layer (op)");
    for (int i = 0; i < n; i++) {
        const Watch *w = rows[i];
        double rel = w->ref2 > 0 ? sqrt(w->err2 / w->ref2) : 0;
        double sqnr = w->err2 > 0 ? 10 * log10(w->ref2 / w->err2) : INFINITY;
        fprintf(stderr, "  %-10.6f %9.2f  %s (%s)\n", rel, sqnr, w->layer->name,
                w->layer->op_type);
    }
    int floats = 0;
    for (int k = 0; k < p->g->n_nodes; k++) {
        const Node *nd = p->g->nodes[k];
        floats += !nd->dead && quant_keep_float(p->q, nd->name) &&
                  (nd->op == OP_CONV || nd->op == OP_FUSED_CONV || nd->op == OP_GEMM ||
                   nd->op == OP_MATMUL);
    }
    if (floats)
        fprintf(stderr, "  (%d node%s kept in float by --keep-float)\n", floats,
                floats == 1 ? "" : "s");
    free(rows);
}

/* ---- the pass ---- */

static void ptq_free(Ptq *p)
{
    for (int i = 0; i < p->nw; i++) {
        calib_range_free(&p->w[i].r);
        free(p->w[i].ref);
    }
    free(p->w);
    free(p->slot);
    free(p->t);
    free(p->relu);
    free(p->wdq);
}

/* pass_quantize: requires pass_shape (and runs after fuse: Conv may be a
 * FusedConv with an activation and a residual input Z); keeps the graph
 * valid. With --quantize int8: runs the calibration samples through the
 * float graph, watching every float activation that enters (X, Z, a computed
 * B) or leaves a Conv, FusedConv, Gemm or MatMul not matched by --keep-float;
 * picks each one's range (min/max, a percentile of |x|, or the KL-divergence
 * threshold) and rewrites those nodes in QDQ form: per-tensor asymmetric
 * uint8 Q/DQ pairs on the activations (one pair per tensor, shared by its
 * quantized readers), symmetric int8 weights per output channel, int32
 * biases. FusedConv keeps its activation: the pair on its output quantizes
 * what the activation made; a separate Relu that is a layer's output's only
 * reader is absorbed the same way (the pair follows it and the Relu goes).
 * With --repquant log2, a Softmax output a quantized node reads goes through
 * the log2 quantizer (passes/repquant.c) instead of a uniform pair. With
 * --quant-report, runs the samples again through the QDQ graph and prints
 * each layer's error. */
int pass_quantize(Graph *g, PassCtx *ctx)
{
    const QuantOpts *q = ctx->quant;
    if (!q || q->act != QA_INT8)
        return 0;
    Ptq p = {.g = g, .q = q, .d = ctx->d, .opset = ir_opset(g, ""), .nv = g->n_values};
    if (p.opset < 10)
        return ir_error(ctx->d, "--quantize int8: the model imports opset %lld of the default "
                        "domain; QuantizeLinear needs 10 or later", (long long)p.opset);
    p.slot = malloc(sizeof *p.slot * (size_t)(p.nv + 1));
    p.w = malloc(sizeof *p.w * (size_t)(4 * g->n_nodes + 1));
    p.t = malloc(sizeof *p.t * (size_t)(g->n_nodes + 1));
    p.relu = malloc(sizeof *p.relu * (size_t)(g->n_nodes + 1));
    p.wdq = calloc((size_t)p.nv + 1, sizeof *p.wdq);
    IR_ASSERT(p.slot && p.w && p.t && p.relu && p.wdq);
    for (int i = 0; i < p.nv; i++)
        p.slot[i] = -1;
    int64_t per_sample = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (!is_target(&p, n))
            continue;
        Node *relu = absorbed_relu(&p, n);
        p.relu[p.nt] = relu;
        p.t[p.nt++] = n;
        int slots[4], m = act_slots(n, slots);
        for (int i = 0; i < m; i++)
            watch(&p, n->in[slots[i]], NULL);
        Value *y = relu ? relu->out[0] : n->out[0];
        watch(&p, y, n);
        per_sample += (int64_t)ir_nbytes(y);
    }
    int rc = 0, samples = 0;
    if (p.nt == 0)
        goto out;
    p.keep = q->report ? (int)(REPORT_MAX_BYTES / (per_sample ? per_sample : 1)) : 0;
    if (q->report && p.keep < 1)
        p.keep = 1;
    rc = samples = run(&p, PH_MINMAX);
    if (rc > 0 && q->calib_method != CM_MINMAX)
        rc = run(&p, PH_HIST);
    if (rc < 0)
        goto out;
    for (int i = 0; i < p.nw; i++) {
        /* a graph output is never clipped: no later layer absorbs the error,
         * the user reads it (KL on a few hundred logits clips the winner) */
        double lo, hi;
        CalibMethod m = p.w[i].v->is_output ? CM_MINMAX : q->calib_method;
        calib_range_pick(&p.w[i].r, m, q->percentile, &lo, &hi);
        quant_u8_params(lo, hi, &p.w[i].scale, &p.w[i].zero);
    }
    for (int i = 0; i < p.nt && rc >= 0; i++)
        rc = quantize_node(&p, p.t[i], p.relu[i]);
    if (rc >= 0 && q->report && (rc = run(&p, PH_REPORT)) > 0)
        report(&p, samples);
out:
    ptq_free(&p);
    return rc < 0 ? -1 : p.nt;
}
