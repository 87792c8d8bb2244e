/* repquant.c: RepQuant for int8 transformers: LayerNorm channel ranges made per-tensor, log2 Softmax. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "repquant.h"

/* RepQuant (Li et al., "RepQuant: Towards Accurate Post-Training
 * Quantization of Large Transformer Models via Scale Reparameterization",
 * 2024), section 3.2: a LayerNorm output's channels have very different
 * ranges, so one per-tensor scale wastes most codes on the narrow ones. The
 * accurate quantizer is per channel, scale s_c and zero point z_c; with
 * s~ = mean(s_c), z~ = round(mean(z_c)), r1_c = s_c / s~, r2_c = z_c - z~,
 * the LayerNorm instead writes x~_c = x_c / r1_c + s~ r2_c, which is what
 * gamma~ = gamma / r1, beta~ = beta / r1 + s~ r2 make it compute. Then
 * round(x~_c / s~) + z~ = round(x_c / s_c + z_c): the per-tensor quantizer
 * (s~, z~) of x~ gives every channel exactly its per-channel codes. (Here
 * z_c is the real offset that maps the channel's range onto 0..255 exactly,
 * not a rounded zero point: then every rewritten channel has the same range
 * and the per-tensor range calibrated on x~ is (s~, z~) itself.) The
 * next linear layer reads x_c = r1_c (x~_c - s~ r2_c): its weight row c is
 * multiplied by r1_c and its bias loses s~ sum_c W~[c,:] r2_c. In float the
 * rewritten graph computes what the original did. */

/* A reader of the LayerNorm output the rewrite can absorb: a MatMul with a
 * constant [C, N] B (and its bias: the constant of an Add that is its only
 * reader, or one the rewrite adds), or a Gemm with a constant B and alpha =
 * beta = 1. */
typedef struct Reader {
    Node *n;
    Node *add;                   /* MatMul: the Add holding its bias; NULL: none yet */
    int bias_in;                 /* that Add's input holding the bias */
} Reader;

#define RQ_MAX_READERS 16

typedef struct Cand {
    Node *ln;
    int64_t c;                   /* channels (the normalized last axis) */
    double *lo, *hi;             /* per-channel range over the calibration samples */
    Reader r[RQ_MAX_READERS];
    int nr;
} Cand;

typedef struct Rq {
    Graph *g;
    Cand *cand;
    int nc;
    int *slot;                   /* value id -> candidate index, or -1 */
    int nv;
} Rq;

static int is_f32_const(const Value *v)
{
    return v && v->data && v->dtype == RT_F32 && v->rank >= 0;
}

/* n's output's only reader if it is an Add of a constant with N values
 * along the last axis: the bias torch's Linear exports after a MatMul. */
static Node *bias_add(const Node *n, int64_t cols, int *bias_in)
{
    const Value *y = n->out[0];
    if (y->is_output || y->n_uses != 1)
        return NULL;
    Node *a = y->uses->node;
    if (a->dead || a->op != OP_ADD || a->n_in != 2 || !a->out[0])
        return NULL;
    int k = a->in[0] == y ? 1 : 0;
    const Value *b = a->in[k];
    if (b == y || !is_f32_const(b) || ir_numel(b) != cols || b->rank < 1 ||
        b->dims[b->rank - 1] != cols || b->rank > y->rank)
        return NULL;
    *bias_in = k;
    return a;
}

static int reader_ok(const Value *y, Node *n, int64_t c, Reader *r)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    if (n->dead || n->n_in < 2 || n->in[0] != y || n->in[1] == y || !is_f32_const(n->in[1]) ||
        n->in[1]->rank != 2 || !n->out[0])
        return 0;
    const Value *w = n->in[1];
    if (n->op == OP_MATMUL) {
        if (w->dims[0] != c)
            return 0;
        r->add = bias_add(n, w->dims[1], &r->bias_in);
        return 1;
    }
    if (n->op != OP_GEMM || ir_attr_int(n, "transA", 0) || ir_attr_float(n, "alpha", 1) != 1 ||
        ir_attr_float(n, "beta", 1) != 1 || y->rank != 2)
        return 0;
    int64_t nout = ir_attr_int(n, "transB", 0) ? w->dims[0] : w->dims[1];
    if ((ir_attr_int(n, "transB", 0) ? w->dims[1] : w->dims[0]) != c)
        return 0;
    const Value *b = ir_input(n, 2);
    return !b || (is_f32_const(b) && ir_numel(b) == nout && b->rank == 1);
}

/* A LayerNormalization over the last axis with constant gamma (and beta),
 * whose output only absorbable linear layers read. */
static int candidate(const QuantOpts *q, Node *ln, Cand *k)
{
    memset(k, 0, sizeof *k);
    if (ln->dead || ln->op != OP_LAYER_NORMALIZATION || ir_node_is_constant(ln) ||
        !ln->out[0] || quant_keep_float(q, ln->name))
        return 0;
    const Value *y = ln->out[0], *gamma = ir_input(ln, 1), *beta = ir_input(ln, 2);
    if (y->dtype != RT_F32 || !ir_shape_known(y) || y->rank < 1 || y->is_output ||
        y->n_uses < 1 || y->n_uses > RQ_MAX_READERS ||
        ir_axis(ir_attr_int(ln, "axis", -1), y->rank) != y->rank - 1)
        return 0;
    int64_t c = y->dims[y->rank - 1];
    if (!is_f32_const(gamma) || ir_numel(gamma) != c || (beta && (!is_f32_const(beta) ||
                                                                 ir_numel(beta) != c)))
        return 0;
    for (const Use *u = y->uses; u; u = u->next)
        if (u->idx != 0 || !reader_ok(y, u->node, c, &k->r[k->nr++]))
            return 0;
    k->ln = ln;
    k->c = c;
    return 1;
}

static void observe(void *ctx, const Value *v, const void *data)
{
    Rq *r = ctx;
    if (v->id >= r->nv || r->slot[v->id] < 0)
        return;
    Cand *k = &r->cand[r->slot[v->id]];
    if (k->ln->out[0] != v)
        return;
    const float *x = data;
    int64_t n = ir_numel(v);
    for (int64_t i = 0; i < n; i++) {
        int64_t ch = i % k->c;
        double t = x[i];
        if (!isfinite(t))
            continue;
        k->lo[ch] = t < k->lo[ch] ? t : k->lo[ch];
        k->hi[ch] = t > k->hi[ch] ? t : k->hi[ch];
    }
}

/* ---- the rewrite ---- */

/* A new float constant of g shaped like `like`, or [n] without one (a
 * scalar for n = 0). */
static float *new_const(Graph *g, const char *base, const char *suffix, const Value *like,
                        int64_t n, Value **out)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%.400s%.64s", base, suffix);
    for (int k = 2; ir_value_find(g, buf); k++)
        snprintf(buf, sizeof buf, "%.400s%.64s_%d", base, suffix, k);
    Value *v = ir_value_new(g, ir_strdup(g, buf));
    v->dtype = RT_F32;
    v->rank = like ? like->rank : n > 0;
    if (like)
        memcpy(v->dims, like->dims, sizeof v->dims);
    else
        v->dims[0] = n;
    v->is_initializer = 1;
    float *p = ir_value_alloc_data(g, v);
    IR_ASSERT(p);
    *out = v;
    return p;
}

/* n's shape and kernel parameters again, after an input changed. */
static int reinfer(Graph *g, Node *n, Diag *d)
{
    n->n_ints = n->n_floats = 0;
    return ir_ops[n->op].infer(g, n, d) < 0 ? -1 : 0;
}

/* The reader's weights with row c times r1[c], and its bias less
 * st * sum_c W~[c, :] r2[c] (an Add or a Gemm input made when it has none). */
static int rewrite_reader(Graph *g, const Reader *r, const double *r1, const double *r2,
                          double st, int64_t c, Diag *d)
{
    Node *n = r->n;
    const Value *w = n->in[1];
    int tb = n->op == OP_GEMM && ir_attr_int(n, "transB", 0);
    int64_t nout = tb ? w->dims[0] : w->dims[1];
    Value *wv;
    float *nw = new_const(g, w->name, "_repquant", w, 0, &wv);
    const float *ow = w->data;
    double *corr = calloc((size_t)nout, sizeof *corr);
    IR_ASSERT(corr);
    for (int64_t k = 0; k < c; k++)
        for (int64_t j = 0; j < nout; j++) {
            int64_t at = tb ? j * c + k : k * nout + j;
            nw[at] = (float)(ow[at] * r1[k]);
            corr[j] += st * (double)nw[at] * r2[k];
        }
    ir_set_input(g, n, 1, wv);
    Value *bv;
    if (n->op == OP_GEMM || r->add) {
        const Value *b = n->op == OP_GEMM ? ir_input(n, 2) : r->add->in[r->bias_in];
        float *nb = new_const(g, b ? b->name : n->name, b ? "_repquant" : "_bias", b, nout, &bv);
        for (int64_t j = 0; j < nout; j++)
            nb[j] = (float)((b ? ((const float *)b->data)[j] : 0.0) - corr[j]);
        if (n->op == OP_GEMM) {
            if (n->n_in < 3)
                ir_set_n_in(g, n, 3);
            ir_set_input(g, n, 2, bv);
        } else {
            ir_set_input(g, r->add, r->bias_in, bv);
        }
    } else {
        /* a MatMul without a bias: one Add after it carries the correction */
        float *nb = new_const(g, n->name, "_bias", NULL, nout, &bv);
        for (int64_t j = 0; j < nout; j++)
            nb[j] = (float)-corr[j];
        Value *y = n->out[0], *t = ir_value_new(g, NULL);
        t->dtype = y->dtype;
        t->rank = y->rank;
        memcpy(t->dims, y->dims, sizeof t->dims);
        n->out[0] = t;
        t->producer = n;
        char name[512];
        snprintf(name, sizeof name, "%.400s_repquant_bias", n->name);
        Value *in[2] = {t, bv};
        int mark = g->n_nodes;
        Node *a = ir_add_node(g, "Add", ir_opset(g, ""), ir_strdup(g, name), 2, in, y);
        ir_place_after(g, n, mark);
        if (ir_ops[a->op].infer(g, a, d) < 0) {
            free(corr);
            return -1;
        }
    }
    free(corr);
    return reinfer(g, n, d);
}

/* Per-channel uint8 parameters, their mean, and the LayerNorm and readers
 * rewritten with them. Channel c's range [lo_c, hi_c] (widened to hold 0)
 * maps onto the codes 0..255 exactly: scale s_c = (hi_c - lo_c) / 255 and
 * the real offset o_c = -lo_c / s_c, whose fraction beta absorbs like its
 * integer part; so every rewritten channel spans exactly
 * [-o~ s~, (255 - o~) s~], and the per-tensor range pass_quantize then
 * calibrates is (s~, o~) itself. A channel calibration never saw vary
 * keeps r1 = 1, r2 = 0: any scale quantizes it. */
static int rewrite(Graph *g, Cand *k, int report, Diag *d)
{
    int64_t c = k->c;
    double *s = malloc(sizeof *s * (size_t)(4 * c)), *o = s + c, *r1 = s + 2 * c,
           *r2 = s + 3 * c;
    IR_ASSERT(s);
    double ssum = 0, osum = 0, smin = INFINITY, smax = 0;
    int64_t live = 0;
    for (int64_t i = 0; i < c; i++) {
        double lo = k->lo[i] < 0 ? k->lo[i] : 0, hi = k->hi[i] > 0 ? k->hi[i] : 0;
        s[i] = k->lo[i] <= k->hi[i] && isfinite(hi - lo) ? (hi - lo) / 255 : 0;
        if (!(s[i] > 0))
            continue;
        o[i] = -lo / s[i];
        ssum += s[i];
        osum += o[i];
        smin = s[i] < smin ? s[i] : smin;
        smax = s[i] > smax ? s[i] : smax;
        live++;
    }
    if (!live) {
        free(s);
        return 0;
    }
    double st = ssum / (double)live, zt = nearbyint(osum / (double)live);
    for (int64_t i = 0; i < c; i++) {
        r1[i] = s[i] > 0 ? s[i] / st : 1;
        r2[i] = s[i] > 0 ? o[i] - zt : 0;
    }
    Node *ln = k->ln;
    const Value *gamma = ln->in[1], *beta = ir_input(ln, 2);
    Value *gv, *bv;
    float *ng = new_const(g, gamma->name, "_repquant", gamma, 0, &gv);
    float *nb = new_const(g, beta ? beta->name : ln->name, beta ? "_repquant" : "_beta", gamma,
                          0, &bv);
    for (int64_t i = 0; i < c; i++) {
        double b = beta ? ((const float *)beta->data)[i] : 0;
        ng[i] = (float)(((const float *)gamma->data)[i] / r1[i]);
        nb[i] = (float)(b / r1[i] + st * r2[i]);
    }
    ir_set_input(g, ln, 1, gv);
    if (ln->n_in < 3)
        ir_set_n_in(g, ln, 3);
    ir_set_input(g, ln, 2, bv);
    int rc = reinfer(g, ln, d);
    for (int i = 0; i < k->nr && rc == 0; i++)
        rc = rewrite_reader(g, &k->r[i], r1, r2, st, c, d);
    if (report)
        fprintf(stderr, "repquant: %s: %lld channels, per-channel scales %.3g..%.3g (%.1fx) "
                "folded into one scale %.3g, zero point %d, for %d reader%s\n", ln->name,
                (long long)c, smin, smax, smax / smin, st, (int)zt, k->nr,
                k->nr == 1 ? "" : "s");
    free(s);
    return rc;
}

/* pass_repquant: requires pass_shape; runs before pass_quantize, which then
 * calibrates the rewritten graph. With --quantize int8 --repquant ln: runs
 * the calibration samples through the float graph, takes each LayerNorm
 * output's per-channel min/max and rewrites that LayerNorm's gamma and beta
 * and its readers' weights and biases (see above) so that pass_quantize's
 * per-tensor uint8 quantizer of the output is the per-channel one. Only a
 * LayerNorm over the last axis with constant gamma/beta all of whose
 * readers are MatMul or Gemm with constant weights qualifies; the others are
 * left as they are. The float graph's outputs do not change (but for float
 * rounding). Returns the number of LayerNorms rewritten. */
int pass_repquant(Graph *g, PassCtx *ctx)
{
    const QuantOpts *q = ctx->quant;
    if (!q || q->act != QA_INT8 || !(q->repquant & RQ_LN))
        return 0;
    Rq r = {.g = g, .nv = g->n_values};
    r.cand = calloc((size_t)g->n_nodes + 1, sizeof *r.cand);
    r.slot = malloc(sizeof *r.slot * (size_t)(r.nv + 1));
    IR_ASSERT(r.cand && r.slot);
    for (int i = 0; i < r.nv; i++)
        r.slot[i] = -1;
    for (int k = 0; k < g->n_nodes; k++) {
        Cand *c = &r.cand[r.nc];
        if (!candidate(q, g->nodes[k], c))
            continue;
        c->lo = malloc(sizeof *c->lo * (size_t)(2 * c->c));
        IR_ASSERT(c->lo);
        c->hi = c->lo + c->c;
        for (int64_t i = 0; i < c->c; i++) {
            c->lo[i] = INFINITY;
            c->hi[i] = -INFINITY;
        }
        r.slot[c->ln->out[0]->id] = r.nc++;
    }
    int rc = 0;
    if (r.nc)
        rc = calib_run(g, q, observe, &r, ctx->d);
    for (int i = 0; i < r.nc && rc >= 0; i++)
        rc = rewrite(g, &r.cand[i], q->report, ctx->d);
    for (int i = 0; i < r.nc; i++)
        free(r.cand[i].lo);
    free(r.cand);
    free(r.slot);
    return rc < 0 ? -1 : r.nc;
}

/* ---- log2 Softmax ---- */

/* The log2 quantizer of RepQuant (after FQ-ViT, Lin et al. 2022) on
 * probabilities in [0, 1]: k = clamp(round(-log2 p), 0, 15), p^ = 2^-k.
 * 4-bit codes; p = 0 (a masked position) and anything below 2^-15.5 get
 * k = 15, as in FQ-ViT (a 2^-15 weight on a masked value is far below one
 * step of the uniform quantizer of P*V's output). A product P*V with such
 * codes is a sum of V's codes shifted right by k; here the codes are
 * simulated in float by ONNX ops, which run everywhere:
 *   Log -> Mul(-1/ln 2) -> Round -> Clip(0, 15) -> Neg -> Pow(2, .)  */
int repquant_log2_pair(Graph *g, Value *x, Value *out, Diag *d)
{
    int64_t opset = ir_opset(g, "");
    if (opset < 11)
        return ir_error(d, "--repquant log2: the model imports opset %lld of the default domain; "
                        "the log2 quantizer is written with Round and Clip of opset 11",
                        (long long)opset);
    static const char *const ops[] = {"Log", "Mul", "Round", "Clip", "Neg", "Pow"};
    Value *v = x;
    for (int i = 0; i < 6; i++) {
        char name[512];
        snprintf(name, sizeof name, "%.400s_log2_%s", x->name, ops[i]);
        Value *in[3] = {v, NULL, NULL}, *cv;
        int nin = 1;
        if (i == 1) {
            *new_const(g, x->name, "_log2_neg_inv_ln2", NULL, 0, &cv) = (float)(-1.0 / M_LN2);
            in[nin++] = cv;
        } else if (i == 3) {
            *new_const(g, x->name, "_log2_kmin", NULL, 0, &cv) = 0.0f;
            in[nin++] = cv;
            *new_const(g, x->name, "_log2_kmax", NULL, 0, &cv) = (float)RQ_LOG2_KMAX;
            in[nin++] = cv;
        } else if (i == 5) {
            *new_const(g, x->name, "_log2_two", NULL, 0, &cv) = 2.0f;
            in[0] = cv; /* Pow(2, -k) */
            in[nin++] = v;
        }
        Node *n = ir_add_node(g, ops[i], opset, ir_strdup(g, name), nin, in,
                              i == 5 ? out : NULL);
        if (ir_ops[n->op].infer(g, n, d) < 0)
            return -1;
        v = n->out[0];
    }
    return 0;
}
