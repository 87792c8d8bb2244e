/* wq_import.c: weight-only QDQ models: DequantizeLinear(codes) -> MatMul/Gemm as MatMulWQ. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* One weight matrix as a DequantizeLinear states it: element (n, k) of
 * the N x K matrix MatMulWQ multiplies by is code[i] with scale and zero
 * point at p, where i and p follow the codes' layout ([K, N] as MatMul's
 * B, or [N, K] behind a Transpose or Gemm's transB) and the DQ's
 * granularity (per tensor, per output channel, or blocked along K). */
typedef struct DqWeight {
    const Node *dq;
    const Value *q, *s, *z;      /* codes, scale (float32), zero point or NULL */
    int64_t n, k;
    int nk;                      /* codes laid out [N, K] (1) or [K, N] (0) */
    int per;                     /* PER_TENSOR, PER_CHANNEL or PER_BLOCK */
    int group;                   /* k per scale in the packed form */
} DqWeight;

enum { PER_TENSOR, PER_CHANNEL, PER_BLOCK };

/* What replaces one node: X times the packed matrix, scaled, plus bias. */
typedef struct Import {
    Node *node;                  /* the MatMul or Gemm */
    Value *x;                    /* its float input */
    DqWeight w;
    float ts;                    /* Gemm's alpha times an absorbed Mul's scalar */
    const float *bias;           /* N floats (Gemm's beta * C, or an absorbed Add) or NULL */
    Node *mul, *add;             /* readers absorbed into the node */
    Value *out;                  /* the value the new node writes */
} Import;

/* Known at compile time: an initializer, or what a Constant node or an
 * evaluation in pass_shape left. */
static int is_const(const Value *v)
{
    return v && v->data;
}

static int64_t code_index(const DqWeight *w, int64_t n, int64_t k)
{
    return w->nk ? n * w->k + k : k * w->n + n;
}

/* Index of (n, k)'s scale and zero point in the DQ's parameters. */
static int64_t param_index(const DqWeight *w, int64_t n, int64_t k)
{
    switch (w->per) {
    case PER_TENSOR: return 0;
    case PER_CHANNEL: return n;
    default: {
        int64_t g = k / w->group, ng = (w->k + w->group - 1) / w->group;
        return w->nk ? n * ng + g : g * w->n + n;
    }
    }
}

/* The DQ's own value at (n, k), as rt_dequantize_linear computes it. */
static float dq_value(const DqWeight *w, int64_t n, int64_t k)
{
    int dt = w->q->dtype;
    int64_t i = code_index(w, n, k), p = param_index(w, n, k);
    float s = ((const float *)w->s->data)[p];
    if (rt_is_narrow_float(dt))
        return rt_narrow_to_f32(dt, rt_narrow_get(w->q->data, dt, i)) * s;
    int64_t z = w->z ? rt_load_i64(w->z->data, w->z->dtype, p) : 0;
    return (float)(rt_load_i64(w->q->data, dt, i) - z) * s;
}

/* ---- the weight: which DequantizeLinear, and its layout ---- */

/* v's producer, through a rank-2 Transpose (which flips *nk). Dead nodes
 * count: pass_shape evaluates small ones and keeps their inputs. */
static const Node *dq_behind(const Value *v, int *nk)
{
    const Node *p = v->producer;
    if (p && p->op == OP_TRANSPOSE && p->in[0] && p->in[0]->rank == 2) {
        /* perm absent reverses the axes */
        int64_t perm[2] = {1, 0};
        if (ir_attr(p, "perm") && (ir_attr_ints(p, "perm", perm, 2) != 2 || perm[0] != 1))
            return NULL;
        *nk ^= 1;
        p = p->in[0]->producer;
    }
    return p && p->op == OP_DEQUANTIZE_LINEAR ? p : NULL;
}

/* The codes' types a format can hold. */
static int code_type_ok(int dt)
{
    return dt == RT_U8 || dt == RT_I8 || dt == RT_U4 || dt == RT_I4 || dt == RT_U2 ||
           dt == RT_I2 || dt == RT_F8E4M3FN || dt == RT_F4E2M1;
}

/* Fills w from DequantizeLinear dq read as an N x K matrix; NULL when it
 * fits, else why not (for --quant-report). */
static const char *weight_of(const Node *dq, int nk, int64_t n, int64_t k, DqWeight *w)
{
    memset(w, 0, sizeof *w);
    w->dq = dq;
    w->q = dq->in[0];
    w->s = dq->in[1];
    w->z = ir_input(dq, 2);
    w->n = n;
    w->k = k;
    w->nk = nk;
    if (!is_const(w->q) || !is_const(w->s) || (w->z && !is_const(w->z)))
        return "its codes, scale or zero point are not constants";
    if (!code_type_ok(w->q->dtype))
        return "no weight-only format holds its code type";
    if (w->s->dtype != RT_F32 || !dq->out[0] || dq->out[0]->dtype != RT_F32)
        return "its scale or output is not float32";
    if (w->q->rank != 2 || dq->n_ints <= RT_QUANT_BLOCK || k < 1 || n < 1 || k > INT32_MAX ||
        w->q->dims[nk ? 0 : 1] != n || w->q->dims[nk ? 1 : 0] != k)
        return "its codes are not the N x K matrix";
    int axis = (int)dq->ints[RT_QUANT_AXIS], kaxis = nk ? 1 : 0;
    int64_t block = dq->ints[RT_QUANT_BLOCK];
    if (block > 0) {
        if (axis != kaxis)
            return "it is blocked along N, not along the reduction axis K";
        if (block > k) /* one block covers K: the same as per channel */
            block = k;
        w->per = PER_BLOCK;
        w->group = (int)block;
    } else if (ir_numel(w->s) == 1) {
        w->per = PER_TENSOR;
        w->group = (int)k;
    } else if (axis != kaxis) {
        w->per = PER_CHANNEL;
        w->group = (int)k;
    } else {
        return "its scales run along K one per element (per-axis along the reduction axis)";
    }
    return NULL;
}

/* ---- the codes in a format of k_wq.h ---- */

static int is_pow2(float s)
{
    int e;
    return s > 0 && isfinite(s) && frexpf(s, &e) == 0.5f;
}

/* s as an E8M0 scale exactly (a power of two within 2^-127..2^127). */
static int e8m0_exact(float s)
{
    if (!is_pow2(s))
        return 0;
    unsigned b = rt_f32_to_narrow(RT_F8E8M0, s, 1, RT_E8M0_DOWN);
    return b != 0xff && ldexpf(1.0f, (int)b - 127) == s;
}

/* NVFP4's factorization of float block scales S[i] = fl(ts * e[i]), e[i]
 * E4M3 numbers: the largest |S| is ts times one of E4M3's values, so each
 * of those (and a few ulps around the quotient) is tried as ts against
 * every block. 1 with ts and the E4M3 scales (in place), 0 if none fits. */
static int nvfp4_factor(float *s, int64_t count, float *ts)
{
    float smax = 0;
    for (int64_t i = 0; i < count; i++)
        smax = fmaxf(smax, fabsf(s[i]));
    if (!(smax > 0) || !isfinite(smax))
        return 0;
    for (unsigned v = 0x7e; v >= 1; v--) { /* E4M3's positive values, 448 down */
        float t0 = smax / rt_narrow_to_f32(RT_F8E4M3FN, v);
        for (int u = -2; u <= 2; u++) {
            float t = t0;
            for (int j = 0; j < abs(u); j++)
                t = nextafterf(t, u < 0 ? 0.0f : INFINITY);
            int64_t i = 0;
            for (; i < count; i++) {
                float e = rt_narrow_to_f32(RT_F8E4M3FN,
                                           rt_f32_to_narrow(RT_F8E4M3FN, s[i] / t, 1, 0));
                if (t * e != s[i])
                    break;
            }
            if (i < count)
                continue;
            for (i = 0; i < count; i++)
                s[i] = rt_narrow_to_f32(RT_F8E4M3FN,
                                        rt_f32_to_narrow(RT_F8E4M3FN, s[i] / t, 1, 0));
            *ts = t;
            return 1;
        }
    }
    return 0;
}

/* Sherry holds ternary codes with exactly one 0 in every quad k = 4j..4j+3
 * (a last, shorter quad: at most one among its codes). */
static int sherry_fits(const int16_t *code, int64_t n, int64_t k, int group)
{
    if (group % 4)
        return 0;
    for (int64_t r = 0; r < n; r++)
        for (int64_t q = 0; q < k; q += 4) {
            int zeros = 0, len = (int)(k - q < 4 ? k - q : 4);
            for (int i = 0; i < len; i++)
                zeros += code[r * k + q + i] == 0;
            if (len == 4 ? zeros != 1 : zeros > 1)
                return 0;
        }
    return 1;
}

/* The codes of w in the smallest format that holds them exactly:
 *   integers: shifted to unsigned (signed codes and zero points up by
 *     the most negative of them), then INT2, INT3, INT4 or INT8 by the
 *     largest code or zero point; signed codes in {-1, 0, 1} without a zero point
 *     are TERNARY (SHERRY when one in four is 0); int8 without a zero
 *     point and with power-of-two scales is MXINT8 (code / 64 times 64 s);
 *   float8e4m3fn with power-of-two scales: MXFP8;
 *   float4e2m1 with power-of-two scales: MXFP4, else NVFP4 when the
 *     scales factor into one float times E4M3 numbers.
 * c's arrays are malloc'ed (wq_free); NULL, or why not. */
static const char *to_codes(const DqWeight *w, RtWqCodes *c, int16_t **code, float **scale,
                            uint8_t **zero)
{
    int dt = w->q->dtype;
    int64_t n = w->n, k = w->k, ng = (k + w->group - 1) / w->group;
    int sgn = dt == RT_I8 || dt == RT_I4 || dt == RT_I2;
    int isf = rt_is_narrow_float(dt);
    *code = malloc(sizeof **code * (size_t)(n * k));
    *scale = malloc(sizeof **scale * (size_t)(n * ng));
    *zero = malloc((size_t)(n * ng));
    if (!*code || !*scale || !*zero)
        return "out of memory";
    /* signed codes and zero points shift up by the smallest of them, so an
     * int8 tensor of 4-bit values still packs as INT4 */
    int off = 0, maxv = 0, tern = sgn && !isf, zeros0 = 1, pow2 = 1;
    for (int64_t i = 0; sgn && i < ir_numel(w->q); i++)
        off = (int)fmax(off, (double)-rt_load_i64(w->q->data, dt, i));
    for (int64_t i = 0; sgn && w->z && i < ir_numel(w->z); i++)
        off = (int)fmax(off, (double)-rt_load_i64(w->z->data, dt, i));
    for (int64_t r = 0; r < n; r++)
        for (int64_t g = 0; g < ng; g++) {
            int64_t p = param_index(w, r, g * w->group);
            float s = ((const float *)w->s->data)[p];
            int z = w->z && !isf ? (int)rt_load_i64(w->z->data, w->z->dtype, p) : 0;
            (*scale)[r * ng + g] = s;
            (*zero)[r * ng + g] = (uint8_t)(z + off);
            zeros0 &= z == 0;
            pow2 &= is_pow2(s);
            maxv = z + off > maxv ? z + off : maxv;
        }
    for (int64_t r = 0; r < n; r++)
        for (int64_t i = 0; i < k; i++) {
            int64_t ci = code_index(w, r, i);
            int v = isf ? (int)rt_narrow_get(w->q->data, dt, ci)
                        : (int)rt_load_i64(w->q->data, dt, ci);
            tern &= v >= -1 && v <= 1;
            v += isf ? 0 : off;
            maxv = v > maxv ? v : maxv;
            (*code)[r * k + i] = (int16_t)v;
        }
    *c = (RtWqCodes){0, n, k, w->group, *code, *scale, NULL, 1.0f};
    if (dt == RT_F8E4M3FN || dt == RT_F4E2M1) {
        int mx = 1;
        for (int64_t i = 0; i < n * ng && mx; i++)
            mx = e8m0_exact((*scale)[i]);
        if (mx) {
            c->fmt = dt == RT_F8E4M3FN ? RT_WQ_MXFP8 : RT_WQ_MXFP4;
        } else if (dt == RT_F4E2M1 && nvfp4_factor(*scale, n * ng, &c->tensor_scale)) {
            c->fmt = RT_WQ_NVFP4;
        } else {
            return dt == RT_F8E4M3FN ? "float8e4m3fn codes need power-of-two scales (MXFP8)"
                                     : "float4e2m1 scales are neither powers of two (MXFP4) "
                                       "nor one float times float8e4m3fn numbers (NVFP4)";
        }
        return NULL;
    }
    if (tern && zeros0) {
        for (int64_t i = 0; i < n * k; i++)
            (*code)[i] = (int16_t)((*code)[i] - off);
        c->fmt = sherry_fits(*code, n, k, w->group) ? RT_WQ_SHERRY : RT_WQ_TERNARY;
        return NULL;
    }
    if (dt == RT_I8 && zeros0 && pow2) {
        int mx = 1;
        for (int64_t i = 0; i < n * ng && mx; i++)
            mx = e8m0_exact((*scale)[i] * 64.0f);
        if (mx) {
            for (int64_t i = 0; i < n * k; i++)
                (*code)[i] = (int16_t)((*code)[i] - off);
            for (int64_t i = 0; i < n * ng; i++)
                (*scale)[i] *= 64.0f;
            c->fmt = RT_WQ_MXINT8;
            return NULL;
        }
    }
    c->fmt = maxv < 4 ? RT_WQ_INT2 : maxv < 8 ? RT_WQ_INT3 : maxv < 16 ? RT_WQ_INT4 : RT_WQ_INT8;
    c->zero = *zero;
    return NULL;
}

/* 1 if the packed matrix decodes (rt_wq_dequant_row, the format's
 * definition) to the DQ's values bit for bit, NaN to NaN: the guard that
 * makes an import never change what the model computes. */
static int decodes_exactly(const DqWeight *w, const RtWqCodes *c, const uint8_t *packed)
{
    float *row = malloc(sizeof *row * (size_t)w->k);
    if (!row)
        return 0;
    int ok = 1;
    for (int64_t r = 0; r < w->n && ok; r++) {
        rt_wq_dequant_row(c->fmt, c->n, c->k, c->group, c->tensor_scale, packed, r, row);
        for (int64_t i = 0; i < w->k && ok; i++) {
            float a = row[i], b = dq_value(w, r, i);
            ok = isnan(a) ? isnan(b) : memcmp(&a, &b, sizeof a) == 0 || (a == 0 && b == 0);
        }
    }
    free(row);
    return ok;
}

/* ---- the node ---- */

/* A float32 constant of N values along the last axis (rank 1, or leading
 * extents 1), as the bias of an N-column product; NULL otherwise. */
static const float *vector_of(const Value *v, int64_t n)
{
    if (!is_const(v) || v->dtype != RT_F32 || ir_numel(v) != n || v->rank < 1 ||
        v->dims[v->rank - 1] != n)
        return NULL;
    return v->data;
}

static int same_shape(const Value *a, const Value *b)
{
    return a && b && a->rank == b->rank && a->dtype == b->dtype &&
           !memcmp(a->dims, b->dims, sizeof a->dims[0] * (size_t)a->rank);
}

/* The one live reader of v, when v is nothing else (not a graph output). */
static Node *sole_reader(const Value *v)
{
    if (!v || v->is_output || v->n_uses != 1 || v->uses->node->dead)
        return NULL;
    return v->uses->node;
}

/* A Mul by a float scalar, then an Add of an N-vector, reading the
 * product alone, fold into the node (ts * X W^T + bias, the kernel's own
 * epilogue) when the node has no bias of its own. */
static void absorb_readers(Import *im)
{
    if (im->bias)
        return;
    Node *r = sole_reader(im->out);
    double c;
    if (r && r->op == OP_MUL && r->n_in == 2 && same_shape(r->out[0], im->out)) {
        const Value *o = r->in[0] == im->out ? r->in[1] : r->in[0];
        if (is_const(o) && o->dtype == RT_F32 && ir_const_scalar(o, &c) == 0 &&
            r->in[0] != r->in[1]) {
            im->ts *= (float)c;
            im->mul = r;
            im->out = r->out[0];
            r = sole_reader(im->out);
        }
    }
    if (r && r->op == OP_ADD && r->n_in == 2 && same_shape(r->out[0], im->out)) {
        const Value *o = r->in[0] == im->out ? r->in[1] : r->in[0];
        const float *b = vector_of(o, im->w.n);
        if (b && r->in[0] != r->in[1]) {
            im->bias = b;
            im->add = r;
            im->out = r->out[0];
        }
    }
}

/* Node nd as an import; NULL if it is one, "" if it has nothing to do
 * with a DequantizeLinear, else why its DQ is folded instead. */
static const char *import_of(Graph *g, Node *nd, Import *im)
{
    memset(im, 0, sizeof *im);
    if (nd->dead || (nd->op != OP_MATMUL && nd->op != OP_GEMM) || ir_node_is_constant(nd) ||
        nd->n_in < 2 || !nd->in[0] || !nd->in[1] || !nd->out[0])
        return "";
    Value *a = nd->in[0], *b = nd->in[1];
    int nk = 0;
    const Node *dq = dq_behind(b, &nk);
    if (!dq || b->rank != 2)
        return "";
    im->w.dq = dq;
    im->ts = 1.0f;
    if (nd->op == OP_GEMM) {
        if (nd->n_ints < RT_GEMM_NINTS || nd->ints[RT_GEMM_TRANS_A])
            return "Gemm with transA";
        nk ^= (int)nd->ints[RT_GEMM_TRANS_B];
        im->ts = nd->floats[RT_GEMM_F_ALPHA];
    } else if (nd->n_ints != 0) {
        return "";
    }
    /* 8-bit activations and per-tensor or per-channel 8-bit weights, both
     * dequantized: pass qdq's integer GEMM takes them (after fold) */
    const Node *xp = a->producer;
    int wdt = dq->in[0]->dtype;
    if (xp && xp->op == OP_DEQUANTIZE_LINEAR && (wdt == RT_U8 || wdt == RT_I8) &&
        dq->n_ints > RT_QUANT_BLOCK && dq->ints[RT_QUANT_BLOCK] == 0)
        return "";
    if (a->dtype != RT_F32 || a->rank < 1 || nd->out[0]->dtype != RT_F32)
        return "its input is not float32";
    int gt = nd->op == OP_GEMM && nd->ints[RT_GEMM_TRANS_B];
    int64_t k = gt ? b->dims[1] : b->dims[0], n = gt ? b->dims[0] : b->dims[1];
    const char *why = weight_of(dq, nk, n, k, &im->w);
    if (why)
        return why;
    if (nd->op == OP_GEMM && ir_input(nd, 2)) {
        const float *c = vector_of(nd->in[2], n);
        if (!c || (nd->in[2]->rank == 2 && nd->in[2]->dims[0] != 1) || nd->in[2]->rank > 2)
            return "Gemm's C is not a constant vector of N";
        float beta = nd->floats[RT_GEMM_F_BETA];
        float *bias = ir_alloc(g, sizeof *bias * (size_t)n);
        if (!bias)
            return "out of memory";
        for (int64_t i = 0; i < n; i++)
            bias[i] = beta * c[i];
        im->bias = bias;
    }
    im->node = nd;
    im->x = a;
    im->out = nd->out[0];
    absorb_readers(im);
    return NULL;
}

/* Kills n, then a Transpose or DequantizeLinear behind v nothing reads any more. */
static void drop_unread(Value *v)
{
    for (int i = 0; i < 2 && v; i++) {
        Node *p = v->producer;
        if (!p || p->dead || v->is_output || v->n_uses)
            return;
        ir_node_kill(p);
        v = p->in[0];
    }
}

/* im's node (and absorbed readers) become one MatMulWQ on c, packed. */
static int replace(Graph *g, Import *im, const RtWqCodes *c, const uint8_t *packed,
                   int act_bits, Diag *d)
{
    Value *w = ir_value_new(g, NULL);
    w->dtype = RT_U8;
    w->rank = 2;
    w->dims[0] = c->n;
    w->dims[1] = (int64_t)rt_wq_row_bytes(c->fmt, c->k, c->group);
    uint8_t *p = ir_value_alloc_data(g, w);
    IR_ASSERT(p);
    memcpy(p, packed, rt_wq_packed_bytes(c->fmt, c->n, c->k, c->group));
    Value *bias = NULL;
    if (im->bias) {
        bias = ir_value_new(g, NULL);
        bias->dtype = RT_F32;
        bias->rank = 1;
        bias->dims[0] = c->n;
        float *bp = ir_value_alloc_data(g, bias);
        IR_ASSERT(bp);
        memcpy(bp, im->bias, sizeof *bp * (size_t)c->n);
    }
    Node *last = im->add ? im->add : im->mul ? im->mul : im->node;
    Value *weights = im->node->in[1];
    int mark = g->n_nodes;
    Value *in[3] = {im->x, w, bias};
    Node *q = ir_add_node(g, "MatMulWQ", 0, im->node->name, bias ? 3 : 2, in, im->out);
    q->domain = "onnxcc";
    q->op = OP_MATMUL_WQ;
    ir_set_attr_int(g, q, "format", c->fmt);
    ir_set_attr_int(g, q, "N", c->n);
    ir_set_attr_int(g, q, "K", c->k);
    ir_set_attr_int(g, q, "group", c->group);
    ir_set_attr_float(g, q, "tensor_scale", c->tensor_scale * im->ts);
    if (act_bits) /* --wq-act int8 */
        ir_set_attr_int(g, q, "act_bits", act_bits);
    ir_place_after(g, last, mark);
    ir_node_kill(im->node);
    if (im->mul)
        ir_node_kill(im->mul);
    if (im->add)
        ir_node_kill(im->add);
    drop_unread(weights);
    return ir_ops[q->op].infer(g, q, d) < 0 ? -1 : 1;
}

/* One node: 1 imported, 0 left as it is, -1 on error. */
static int import_node(Graph *g, Node *nd, const QuantOpts *qo, Diag *d)
{
    Import im;
    const char *why = import_of(g, nd, &im);
    if (why && !*why)
        return 0;
    if (!why && qo && quant_keep_float(qo, nd->name))
        why = "--keep-float names it";
    int16_t *code = NULL;
    float *scale = NULL;
    uint8_t *zero = NULL, *packed = NULL;
    RtWqCodes c = {0};
    if (!why)
        why = to_codes(&im.w, &c, &code, &scale, &zero);
    size_t bytes = why ? 0 : rt_wq_packed_bytes(c.fmt, c.n, c.k, c.group);
    if (!why && !bytes)
        why = "the format cannot pack its groups";
    if (!why && !(packed = malloc(bytes)))
        why = "out of memory";
    if (!why) {
        rt_wq_pack(&c, packed);
        if (!decodes_exactly(&im.w, &c, packed))
            why = "its codes do not decode exactly in any weight-only format";
    }
    int rc = 0;
    if (why) {
        if (qo && qo->report)
            fprintf(stderr, "wq_import: '%s' (%s): %s; its DequantizeLinear '%s' is folded to "
                    "float\n", nd->name, nd->op_type, why, im.w.dq ? im.w.dq->name : "?");
    } else {
        if (qo && qo->report)
            fprintf(stderr, "wq_import: '%s' (%s): %s, %lld x %lld, group %d\n", nd->name,
                    nd->op_type, rt_wq_name(c.fmt), (long long)c.n, (long long)c.k, c.group);
        rc = replace(g, &im, &c, packed, quant_wq_act_bits(qo, 0), d);
    }
    free(code);
    free(scale);
    free(zero);
    free(packed);
    return rc;
}

/* pass_wq_import: requires pass_shape, and runs before pass_fold, while a
 * weight's DequantizeLinear (live, or evaluated by pass_shape with its
 * inputs kept) still shows its codes. Every MatMul or Gemm whose B is a
 * DequantizeLinear of constant integer, float8e4m3fn or float4e2m1 codes
 * (through a Transpose or transB too) becomes MatMulWQ on those codes
 * packed, when a format of k_wq.h holds them: the float matrix the packed
 * one decodes to is checked equal to the DQ's, bit for bit; otherwise the
 * DQ is left for pass_fold, with a line on stderr under --quant-report.
 * A Mul by a scalar and an Add of a vector reading the product alone join
 * the node (--save-onnx writes a tensor_scale and a bias so). Leaves the
 * graph valid: each replacement writes the value its last node wrote. */
int pass_wq_import(Graph *g, PassCtx *ctx)
{
    int changes = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        int rc = import_node(g, g->nodes[i], ctx->quant, ctx->d);
        if (rc < 0)
            return -1;
        changes += rc;
    }
    return changes;
}
