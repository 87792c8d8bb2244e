/* qdq.c: QuantizeLinear/DequantizeLinear pairs around float ops become integer kernels. */
#include <math.h>
#include <string.h>

#include "k_qgemm.h"
#include "passes.h"

/* ---- constants ---- */

/* An 8-bit quantized tensor type, the GEMM's operand types. */
static int is_q8(int dt)
{
    return dt == RT_U8 || dt == RT_I8;
}

/* Quantization parameters held per tensor or per index of one axis: a
 * scale (float; NULL: 1, the integer ops) and a zero point (the quantized
 * type; NULL: 0). */
typedef struct QParams {
    const Value *s, *z;
    int axis;                    /* the axis of a per-axis scale */
} QParams;

static int is_const(const Value *v)
{
    return v && v->data && v->rank >= 0;
}

static double qp_scale(const QParams *p, int64_t i)
{
    if (!p->s)
        return 1;
    return rt_load_f64(p->s->data, p->s->dtype, ir_numel(p->s) == 1 ? 0 : i);
}

static int64_t qp_zero(const QParams *p, int64_t i)
{
    if (!p->z)
        return 0;
    return (int64_t)rt_load_f64(p->z->data, p->z->dtype, ir_numel(p->z) == 1 ? 0 : i);
}

/* Scale s and zero point z (either may be NULL: 0) as constants with one
 * value, or (per_len > 0) with per_len values along the axis. */
static int qp_read(QParams *p, const Value *s, const Value *z, int64_t per_len, int axis)
{
    p->s = s;
    p->z = z;
    p->axis = axis;
    if (!is_const(s) || !rt_is_float(s->dtype) || (z && !is_const(z)))
        return 0;
    int64_t ns = ir_numel(s), nz = z ? ir_numel(z) : 1;
    if (ns != 1 && (per_len <= 0 || ns != per_len))
        return 0;
    if (nz != 1 && nz != ns)
        return 0;
    for (int64_t i = 0; i < ns; i++)
        if (!(qp_scale(p, i) > 0) || !isfinite(qp_scale(p, i)))
            return 0;
    return 1;
}

/* ---- the integer node ---- */

/* What a QConv or QMatMul computes, in the terms of the model: x (8-bit,
 * per-tensor xs, xz) times 8-bit constant weights (element (r, i) of the
 * GEMM's row r at w[r * rs + i * cs], per-tensor or per-row scale and zero
 * point), plus a bias (int32 in units of xs * ws[r], or float32), stored
 * as ydt: requantized with ys, yz (8-bit), dequantized (float32) or raw
 * (int32), clamped to [lo, hi] in the output's units. */
typedef struct QBuild {
    Value *x;
    double xs;
    int64_t xz;
    const Value *w;
    int64_t rows, k, rs, cs;
    QParams wq;
    const Value *bias;           /* int32 or float32 [rows], or NULL */
    int ydt;
    double ys;
    int64_t yz;
    float lo, hi;
} QBuild;

static Value *new_const(Graph *g, int dtype, int64_t d0, int64_t d1)
{
    Value *v = ir_value_new(g, NULL);
    v->dtype = dtype;
    v->rank = d1 ? 2 : 1;
    v->dims[0] = d0;
    v->dims[1] = d1;
    IR_ASSERT(ir_value_alloc_data(g, v));
    return v;
}

/* The default range of an output type, for the store's clamp. */
static void type_range(int dt, float *lo, float *hi)
{
    *lo = dt == RT_U8 ? 0.0f : dt == RT_I8 ? -128.0f : -INFINITY;
    *hi = dt == RT_U8 ? 255.0f : dt == RT_I8 ? 127.0f : INFINITY;
}

/* Rewrites n in place as onnxcc.QConv (ks: its window) or onnxcc.QMatMul
 * (ks NULL) reading b->x; n keeps its output value, whose type becomes
 * b->ydt. The weights are packed here, once (k_qgemm.h's layout, the same
 * for every runtime build). Conv's geometry attributes stay. */
static int build(Graph *g, Node *n, const QBuild *b, const int64_t *ks, Diag *d)
{
    /* a Conv of one group takes k as (c / 4, ky, kx, c % 4) (k_quant.h's
     * RT_QCONV_K_C4: its im2col is whole copies) when its channels are a
     * multiple of 4, or become one for at most a third more work (3 -> 4,
     * an image's RGB): the added channels have weights 0 and read the zero
     * point, so they add nothing */
    const Value *x = b->x;
    int64_t c = x->rank == 4 ? x->dims[1] : 0, c4 = (c + 3) / 4 * 4;
    int64_t win = ks ? ks[0] * ks[1] : 0, k = b->k;
    int korder = ks && c > 0 && 3 * c4 <= 4 * c && ir_attr_int(n, "group", 1) == 1 &&
                         b->k == c * win && c4 * win <= RT_QG_MAX_KP
                     ? RT_QCONV_K_C4
                     : RT_QCONV_K_CHW;
    if (korder == RT_QCONV_K_C4)
        k = c4 * win;
    int64_t kp = rt_qgemm_kpad(k), rows = b->rows;
    Value *wp = new_const(g, RT_I8, rows, kp), *rowc = new_const(g, RT_I32, rows, 0);
    Value *mult = new_const(g, RT_F32, rows, 0), *wz = new_const(g, RT_I32, rows, 0);
    int32_t *wsum = ir_alloc(g, sizeof(int32_t) * (size_t)rows);
    IR_ASSERT(wsum);
    const uint8_t *w = b->w->data;
    int64_t rs = b->rs, cs = b->cs;
    if (korder == RT_QCONV_K_C4) {
        uint8_t *wr = ir_alloc(g, (size_t)(rows * k));
        IR_ASSERT(wr);
        for (int64_t r = 0; r < rows; r++)
            for (int64_t i = 0; i < k; i++) {
                int64_t ci = i / (4 * win) * 4 + i % 4, tap = i / 4 % win;
                wr[r * k + i] = ci < c ? w[r * rs + (ci * win + tap) * cs] : 0;
            }
        w = wr;
        rs = k;
        cs = 1;
    }
    int shift = rt_qgemm_pack_w(rows, k, w, b->w->dtype, rs, cs, wp->data, wsum);
    int32_t *rc = rowc->data, *wzp = wz->data;
    float *m = mult->data;
    int64_t xzp = b->x->dtype == RT_I8 ? b->xz + 128 : b->xz;
    int any_wz = 0;
    for (int64_t r = 0; r < rows; r++) {
        double ws = qp_scale(&b->wq, r), bias = 0;
        wzp[r] = (int32_t)(qp_zero(&b->wq, r) - shift);
        any_wz |= wzp[r] != 0;
        if (b->bias && b->bias->dtype == RT_I32)
            bias = ((const int32_t *)b->bias->data)[r];
        else if (b->bias) /* a float bias in the accumulator's units, as ONNX Runtime rounds it */
            bias = rint(rt_load_f64(b->bias->data, b->bias->dtype, r) / (b->xs * ws));
        bias = bias < -2147483648.0 ? -2147483648.0 : bias > 2147483647.0 ? 2147483647.0 : bias;
        rc[r] = rt_qgemm_rowc(kp, (int32_t)xzp, wzp[r], wsum[r], (int32_t)bias);
        m[r] = b->ydt == RT_I32 ? 1.0f
               : b->ydt == RT_F32 ? (float)(b->xs * ws)
                                  : (float)(b->xs * ws / b->ys);
    }
    /* the node's inputs and attributes, anew */
    Attr *old = n->attrs;
    int n_old = n->n_attrs;
    n->attrs = NULL;
    n->n_attrs = 0;
    if (ks) {
        static const char *const keep[] = {"group", "pads", "strides", "dilations", "auto_pad"};
        for (int i = 0; i < n_old; i++)
            for (size_t j = 0; j < sizeof keep / sizeof keep[0]; j++)
                if (!strcmp(old[i].name, keep[j]))
                    ir_add_attr(g, n, old[i]);
        int64_t *k2 = ir_alloc(g, sizeof(int64_t) * 2);
        IR_ASSERT(k2);
        k2[0] = ks[0];
        k2[1] = ks[1];
        ir_add_attr(g, n, (Attr){.name = "kernel_shape", .type = AT_INTS, .n = 2, .ints = k2});
    }
    ir_set_attr_int(g, n, "x_zero_point", xzp);
    if (korder != RT_QCONV_K_CHW)
        ir_set_attr_int(g, n, "k_order", korder);
    ir_set_attr_float(g, n, "y_zero_point", (float)b->yz);
    ir_set_attr_float(g, n, "lo", b->lo);
    ir_set_attr_float(g, n, "hi", b->hi);
    ir_set_attr_int(g, n, "to", b->ydt);
    ir_set_n_in(g, n, any_wz ? 5 : 4);
    ir_set_input(g, n, 0, b->x);
    ir_set_input(g, n, 1, wp);
    ir_set_input(g, n, 2, rowc);
    ir_set_input(g, n, 3, mult);
    if (any_wz)
        ir_set_input(g, n, 4, wz);
    n->op = ks ? OP_QCONV : OP_QMATMUL;
    n->op_type = ks ? "QConv" : "QMatMul";
    n->domain = "onnxcc";
    n->n_ints = n->n_floats = 0;
    return ir_ops[n->op].infer(g, n, d) < 0 ? -1 : 1;
}

/* ---- QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger with constant weights ---- */

/* The weights of a 2-D Conv as the GEMM's rows: output channels x (C/group * window). */
static int conv_weights(QBuild *b, const Value *w, int64_t ks[2])
{
    if (!is_const(w) || !is_q8(w->dtype) || w->rank != 4)
        return 0;
    b->w = w;
    b->rows = w->dims[0];
    b->k = w->dims[1] * w->dims[2] * w->dims[3];
    b->rs = b->k;
    b->cs = 1;
    ks[0] = w->dims[2];
    ks[1] = w->dims[3];
    return rt_qgemm_kpad(b->k) <= RT_QG_MAX_KP;
}

/* B (K x N) of a MatMul as the GEMM's rows: its columns. */
static int mm_weights(QBuild *b, const Value *a, const Value *w)
{
    if (!is_const(w) || !is_q8(w->dtype) || w->rank != 2 || a->rank < 1 ||
        a->dims[a->rank - 1] != w->dims[0])
        return 0;
    b->w = w;
    b->rows = w->dims[1];
    b->k = w->dims[0];
    b->rs = 1;
    b->cs = w->dims[1];
    return rt_qgemm_kpad(b->k) <= RT_QG_MAX_KP;
}

/* x's per-tensor scale and zero point into b (xs 1 for the integer ops). */
static int act_params(QBuild *b, Value *x, const Value *s, const Value *z)
{
    double v;
    if (!x || !is_q8(x->dtype) || (z && ir_const_scalar(z, &v) < 0))
        return 0;
    b->x = x;
    b->xz = z ? (int64_t)v : 0;
    b->xs = 1;
    if (s && (ir_const_scalar(s, &b->xs) < 0 || !(b->xs > 0)))
        return 0;
    return 1;
}

/* y's per-tensor scale and zero point; type from the node's output. */
static int out_params(QBuild *b, const Node *n, const Value *s, const Value *z)
{
    double v;
    b->ydt = n->out[0]->dtype;
    b->yz = 0;
    if (z && (ir_const_scalar(z, &v) < 0))
        return 0;
    if (z)
        b->yz = (int64_t)v;
    b->ys = 1;
    if (s && (ir_const_scalar(s, &b->ys) < 0 || !(b->ys > 0)))
        return 0;
    type_range(b->ydt, &b->lo, &b->hi);
    return 1;
}

static int lower_integer_op(Graph *g, Node *n, Diag *d)
{
    QBuild b;
    memset(&b, 0, sizeof b);
    int64_t ks[2];
    Value *x = n->in[0];
    switch (n->op) {
    case OP_QLINEAR_CONV: {
        const Value *bias = ir_input(n, 8);
        if (!act_params(&b, x, n->in[1], n->in[2]) || !conv_weights(&b, n->in[3], ks) ||
            !qp_read(&b.wq, n->in[4], ir_input(n, 5), b.rows, 0) ||
            !out_params(&b, n, n->in[6], ir_input(n, 7)) || (bias && !is_const(bias)))
            return 0;
        b.bias = bias;
        return build(g, n, &b, ks, d);
    }
    case OP_CONV_INTEGER:
        if (!act_params(&b, x, NULL, ir_input(n, 2)) || !conv_weights(&b, n->in[1], ks))
            return 0;
        if (ir_input(n, 3) && !is_const(n->in[3]))
            return 0;
        break;
    case OP_QLINEAR_MATMUL:
        if (!act_params(&b, x, n->in[1], n->in[2]) || !mm_weights(&b, x, n->in[3]) ||
            !qp_read(&b.wq, n->in[4], ir_input(n, 5), b.rows, 1) ||
            !out_params(&b, n, n->in[6], ir_input(n, 7)))
            return 0;
        return build(g, n, &b, NULL, d);
    case OP_MATMUL_INTEGER:
        if (!act_params(&b, x, NULL, ir_input(n, 2)) || !mm_weights(&b, x, n->in[1]))
            return 0;
        if (ir_input(n, 3) && !is_const(n->in[3]))
            return 0;
        break;
    default:
        return 0;
    }
    /* the integer ops: scale 1, zero point per tensor or per row */
    const Value *wz = ir_input(n, 3);
    if (wz && ir_numel(wz) != 1 && ir_numel(wz) != b.rows)
        return 0;
    b.wq.s = NULL;
    b.wq.z = wz;
    b.ydt = RT_I32;
    type_range(RT_I32, &b.lo, &b.hi);
    return build(g, n, &b, n->op == OP_CONV_INTEGER ? ks : NULL, d);
}

/* ---- QDQ graphs: DequantizeLinear -> float op -> QuantizeLinear ---- */

/* A live DequantizeLinear producing float32 v from an 8-bit tensor, with a
 * constant per-tensor scale and zero point. */
static Node *dq_producer(const Value *v, double *s, int64_t *z)
{
    Node *p = v ? v->producer : NULL;
    double t = 0;
    if (!p || p->dead || p->op != OP_DEQUANTIZE_LINEAR || v->dtype != RT_F32 ||
        !is_q8(p->in[0]->dtype) || ir_const_scalar(p->in[1], s) < 0 || !(*s > 0) ||
        (ir_input(p, 2) && ir_const_scalar(p->in[2], &t) < 0))
        return NULL;
    *z = (int64_t)t;
    return p;
}

/* The QuantizeLinear that is v's only reader, to 8 bits with a constant
 * per-tensor scale and zero point. */
static Node *q_reader(const Value *v, double *s, int64_t *z)
{
    if (!v || v->is_output || v->n_uses != 1)
        return NULL;
    Node *q = v->uses->node;
    double t = 0;
    if (q->dead || q->op != OP_QUANTIZE_LINEAR || q->in[0] != v || !q->out[0] ||
        !is_q8(q->out[0]->dtype) || ir_const_scalar(q->in[1], s) < 0 || !(*s > 0) ||
        (ir_input(q, 2) && ir_const_scalar(q->in[2], &t) < 0) ||
        (q->n_ints > RT_QUANT_PRECISION && q->ints[RT_QUANT_PRECISION]))
        return NULL;
    *z = (int64_t)t;
    return q;
}

/* Weights fold computed from a DequantizeLinear of 8-bit constants: that
 * node (dead now, its inputs kept), per tensor or along `axis`. */
static const Node *folded_dq(const Value *w, int axis)
{
    const Node *p = w ? w->producer : NULL;
    if (!p || !p->dead || p->op != OP_DEQUANTIZE_LINEAR || !is_const(p->in[0]) ||
        !is_q8(p->in[0]->dtype) || p->n_ints <= RT_QUANT_BLOCK || p->ints[RT_QUANT_BLOCK])
        return NULL;
    if (ir_numel(p->in[1]) > 1 && p->ints[RT_QUANT_AXIS] != axis)
        return NULL;
    return p;
}

/* The output side of a float op turned integer: a QuantizeLinear reading
 * only it becomes the node's own output (requantizing store), else the
 * node stores float32. lo, hi: a fused activation's bounds in float. */
static void qdq_output(Node *n, QBuild *b, float lo, float hi)
{
    Value *yf = n->out[0];
    double ys;
    int64_t yz;
    Node *q = q_reader(yf, &ys, &yz);
    if (!q) {
        b->ydt = RT_F32;
        b->lo = lo;
        b->hi = hi;
        return;
    }
    b->ydt = q->out[0]->dtype;
    b->ys = ys;
    b->yz = yz;
    type_range(b->ydt, &b->lo, &b->hi);
    /* a clamp commutes with the monotone rounding: clamp the quantized value */
    if (lo > -INFINITY)
        b->lo = fmaxf(b->lo, (float)(rint(lo / ys) + (double)yz));
    if (hi < INFINITY)
        b->hi = fminf(b->hi, (float)(rint(hi / ys) + (double)yz));
    Value *yq = q->out[0];
    ir_node_kill(q);
    yf->producer = NULL;
    n->out[0] = yq;
    yq->producer = n;
}

/* Drops a DequantizeLinear nothing reads any more. */
static void drop_unread(Node *dq)
{
    if (dq && !dq->dead && !dq->out[0]->is_output && dq->out[0]->n_uses == 0)
        ir_node_kill(dq);
}

/* Conv or FusedConv (after pass fuse: bias, Relu or Clip; no sum input)
 * of DequantizeLinear(x) and weights folded from DequantizeLinear(w) with
 * per-tensor or per-output-channel scales. */
static int qdq_conv(Graph *g, Node *n, Diag *d)
{
    Value *xf = n->in[0];
    const Value *bias = ir_input(n, 2);
    double xs;
    int64_t xz, ks[2];
    Node *dqx = dq_producer(xf, &xs, &xz);
    const Node *dqw = folded_dq(ir_input(n, 1), 0);
    if (!dqx || !dqw || xf->rank != 4 || (n->n_in > 3 && n->in[3]))
        return 0;
    QBuild b;
    memset(&b, 0, sizeof b);
    b.x = dqx->in[0];
    b.xs = xs;
    b.xz = xz;
    if (!conv_weights(&b, dqw->in[0], ks) ||
        !qp_read(&b.wq, dqw->in[1], ir_input(dqw, 2), b.rows, 0))
        return 0;
    if (bias && (!is_const(bias) || bias->dtype != RT_F32 || ir_numel(bias) != b.rows))
        return 0;
    b.bias = bias;
    float lo = -INFINITY, hi = INFINITY, p[2];
    const char *act = ir_attr_str(n, "activation", NULL);
    if (act && !strcmp(act, "Relu")) {
        lo = 0;
    } else if (act && !strcmp(act, "Clip") && ir_attr_floats(n, "activation_params", p, 2) == 2) {
        lo = p[0];
        hi = p[1];
    } else if (act) {
        return 0;
    }
    qdq_output(n, &b, lo, hi);
    int rc = build(g, n, &b, ks, d);
    drop_unread(dqx);
    return rc;
}

/* MatMul (B K x N, per-column scales) or Gemm (alpha = beta = 1, A not
 * transposed, B either way, bias of N) of DequantizeLinear(x) and folded
 * weights. */
static int qdq_matmul(Graph *g, Node *n, Diag *d)
{
    Value *xf = n->in[0];
    double xs;
    int64_t xz;
    Node *dqx = dq_producer(xf, &xs, &xz);
    int gemm = n->op == OP_GEMM, tb = gemm && n->ints[RT_GEMM_TRANS_B];
    const Value *bias = gemm ? ir_input(n, 2) : NULL;
    if (gemm && (n->ints[RT_GEMM_TRANS_A] || n->floats[RT_GEMM_F_ALPHA] != 1.0f ||
                 (bias && n->floats[RT_GEMM_F_BETA] != 1.0f) || xf->rank != 2))
        return 0;
    const Node *dqw = folded_dq(ir_input(n, 1), tb ? 0 : 1);
    if (!dqx || !dqw)
        return 0;
    QBuild b;
    memset(&b, 0, sizeof b);
    b.x = dqx->in[0];
    b.xs = xs;
    b.xz = xz;
    const Value *w = dqw->in[0];
    if (!tb && !mm_weights(&b, xf, w))
        return 0;
    if (tb) { /* W is N x K: the GEMM's rows as stored */
        if (!is_const(w) || w->rank != 2 || w->dims[1] != xf->dims[1] ||
            rt_qgemm_kpad(w->dims[1]) > RT_QG_MAX_KP)
            return 0;
        b.w = w;
        b.rows = w->dims[0];
        b.k = w->dims[1];
        b.rs = b.k;
        b.cs = 1;
    }
    if (!qp_read(&b.wq, dqw->in[1], ir_input(dqw, 2), b.rows, tb ? 0 : 1))
        return 0;
    if (bias && (!is_const(bias) || bias->dtype != RT_F32 || ir_numel(bias) != b.rows))
        return 0;
    b.bias = bias;
    qdq_output(n, &b, -INFINITY, INFINITY);
    int rc = build(g, n, &b, NULL, d);
    drop_unread(dqx);
    return rc;
}

/* Data movement between a DequantizeLinear and a QuantizeLinear of the
 * same scale and zero point commutes with them: the op runs on the 8-bit
 * tensor and both go. So does MaxPool (without Indices): the dequantizing
 * map is monotone, so the max of the codes is the code of the max, and
 * its kernel has an 8-bit path. */
static int qdq_movement(Graph *g, Node *n, Diag *d)
{
    Value *xf = n->in[0];
    double xs, ys;
    int64_t xz, yz;
    Node *dq = dq_producer(xf, &xs, &xz), *q = dq ? q_reader(n->out[0], &ys, &yz) : NULL;
    if (!q || xs != ys || xz != yz || dq->in[0]->dtype != q->out[0]->dtype)
        return 0;
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i])
            return 0;
    Value *yf = n->out[0], *yq = q->out[0];
    ir_set_input(g, n, 0, dq->in[0]);
    ir_node_kill(q);
    yf->producer = NULL;
    n->out[0] = yq;
    yq->producer = n;
    drop_unread(dq);
    n->n_ints = n->n_floats = 0;
    return ir_ops[n->op].infer(g, n, d) < 0 ? -1 : 1;
}

/* Add (+ Relu) of two DequantizeLinear outputs of one shape, read only by
 * a QuantizeLinear (a residual connection): onnxcc.QAdd on the 8-bit
 * tensors, rounding once where the float graph rounds the sum. */
static int qdq_add(Graph *g, Node *n, Diag *d)
{
    double sa, sb, sy;
    int64_t za, zb, zy;
    Node *da = dq_producer(n->in[0], &sa, &za), *db = dq_producer(n->in[1], &sb, &zb);
    if (!da || !db || n->n_in != 2 || !n->out[0])
        return 0;
    const Value *a = da->in[0], *b = db->in[0];
    if (a->rank != b->rank || memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank) ||
        n->out[0]->rank != a->rank)
        return 0;
    Node *relu = NULL, *q = q_reader(n->out[0], &sy, &zy);
    if (!q && n->out[0]->n_uses == 1 && !n->out[0]->is_output &&
        n->out[0]->uses->node->op == OP_RELU) {
        relu = n->out[0]->uses->node;
        q = q_reader(relu->out[0], &sy, &zy);
    }
    if (!q)
        return 0;
    float lo, hi;
    int ydt = q->out[0]->dtype;
    type_range(ydt, &lo, &hi);
    if (relu)
        lo = fmaxf(lo, (float)zy);
    Value *yq = q->out[0], *yf = n->out[0];
    ir_node_kill(q);
    q->out[0] = NULL;
    if (relu) {
        ir_node_kill(relu);
        relu->out[0]->producer = NULL;
    }
    yf->producer = NULL;
    n->out[0] = yq;
    yq->producer = n;
    ir_set_input(g, n, 0, da->in[0]);
    ir_set_input(g, n, 1, db->in[0]);
    n->attrs = NULL;
    n->n_attrs = 0;
    const char *const names[RT_QADD_NFLOATS] = {"ma", "za", "mb", "zb", "zy", "lo", "hi"};
    const float vals[RT_QADD_NFLOATS] = {(float)(sa / sy), (float)za, (float)(sb / sy),
                                         (float)zb, (float)zy, lo, hi};
    for (int i = 0; i < RT_QADD_NFLOATS; i++)
        ir_set_attr_float(g, n, names[i], vals[i]);
    ir_set_attr_int(g, n, "to", ydt);
    n->op = OP_QADD;
    n->op_type = "QAdd";
    n->domain = "onnxcc";
    n->n_ints = n->n_floats = 0;
    drop_unread(da);
    drop_unread(db);
    return ir_ops[n->op].infer(g, n, d) < 0 ? -1 : 1;
}

/* GlobalAveragePool of a DequantizeLinear output read only by a
 * QuantizeLinear: onnxcc.QGlobalAveragePool sums the 8-bit codes exactly
 * and requantizes once (com.microsoft's QLinearGlobalAveragePool). */
static int qdq_gap(Graph *g, Node *n, Diag *d)
{
    double xs, ys;
    int64_t xz, yz;
    Node *dq = dq_producer(n->in[0], &xs, &xz), *q = dq ? q_reader(n->out[0], &ys, &yz) : NULL;
    if (!q || dq->in[0]->rank < 3)
        return 0;
    float lo, hi;
    int ydt = q->out[0]->dtype;
    type_range(ydt, &lo, &hi);
    Value *yf = n->out[0], *yq = q->out[0];
    ir_node_kill(q);
    q->out[0] = NULL;
    yf->producer = NULL;
    n->out[0] = yq;
    yq->producer = n;
    ir_set_input(g, n, 0, dq->in[0]);
    n->attrs = NULL;
    n->n_attrs = 0;
    ir_set_attr_float(g, n, "scale", (float)(xs / ys));
    ir_set_attr_float(g, n, "x_zero_point", (float)xz);
    ir_set_attr_float(g, n, "y_zero_point", (float)yz);
    ir_set_attr_float(g, n, "lo", lo);
    ir_set_attr_float(g, n, "hi", hi);
    ir_set_attr_int(g, n, "to", ydt);
    n->op = OP_QGLOBAL_AVERAGE_POOL;
    n->op_type = "QGlobalAveragePool";
    n->domain = "onnxcc";
    n->n_ints = n->n_floats = 0;
    drop_unread(dq);
    return ir_ops[n->op].infer(g, n, d) < 0 ? -1 : 1;
}

/* pass_qdq: requires pass_shape and pass_fold (scales, zero points and
 * weights are constants by then; fold has turned DequantizeLinear of
 * constant weights into float weights, and the dead node still holds the
 * 8-bit original), runs after pass_fuse (Conv carries its bias and
 * activation). In one walk in schedule order:
 *  - QLinearConv, ConvInteger, QLinearMatMul and MatMulInteger whose
 *    weights and quantization parameters are constants (activation
 *    parameters per tensor) become onnxcc.QConv / onnxcc.QMatMul, whose
 *    weights are packed once for the int8 GEMM;
 *  - Conv/FusedConv, MatMul and Gemm reading DequantizeLinear(x) and
 *    dequantized 8-bit weights become the same, storing through the
 *    QuantizeLinear that reads them (requantized) or as float32;
 *  - an Add (+ Relu) of two dequantized tensors of one shape, quantized
 *    again, becomes onnxcc.QAdd (residual connections);
 *  - GlobalAveragePool between them becomes onnxcc.QGlobalAveragePool;
 *  - data movement and MaxPool between a DequantizeLinear and a
 *    QuantizeLinear of equal parameters run on the 8-bit tensor.
 * A QuantizeLinear whose DequantizeLinear fed an op made integer thus
 * feeds it directly; whatever is left stays float with its Q/DQ. Keeps the
 * graph valid. */
int pass_qdq(Graph *g, PassCtx *ctx)
{
    int changes = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n) || !n->out[0])
            continue;
        int rc = 0;
        switch (n->op) {
        case OP_QLINEAR_CONV:
        case OP_CONV_INTEGER:
        case OP_QLINEAR_MATMUL:
        case OP_MATMUL_INTEGER:
            rc = lower_integer_op(g, n, ctx->d);
            break;
        case OP_CONV:
        case OP_FUSED_CONV:
            rc = qdq_conv(g, n, ctx->d);
            break;
        case OP_MATMUL:
        case OP_GEMM:
            rc = qdq_matmul(g, n, ctx->d);
            break;
        case OP_ADD:
            rc = qdq_add(g, n, ctx->d);
            break;
        case OP_GLOBAL_AVERAGE_POOL:
            rc = qdq_gap(g, n, ctx->d);
            break;
        case OP_RESHAPE:
        case OP_FLATTEN:
        case OP_SQUEEZE:
        case OP_UNSQUEEZE:
        case OP_TRANSPOSE:
        case OP_IDENTITY:
        case OP_MAX_POOL:
            rc = qdq_movement(g, n, ctx->d);
            break;
        default:
            break;
        }
        if (rc < 0)
            return -1;
        changes += rc;
    }
    return changes;
}
