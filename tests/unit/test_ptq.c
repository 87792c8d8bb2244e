/* test_ptq.c: int8 PTQ: range methods, the QDQ rewrite against hand fake-quant, digits accuracy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fill.h"
#include "ir_build.h"
#include "driver.h"
#include "ir/ir.h"
#include "passes/passes.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif

#define DIGITS ONNXCC_SOURCE_DIR "/examples/digits"
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

/* ---- range methods ---- */

/* The percentile threshold against the exact quantile of |x|: within one bin. */
static void test_percentile(void)
{
    enum { N = 20000 };
    static float x[N], a[N];
    fill(x, N, 7);
    for (int i = 0; i < N; i++)
        x[i] = x[i] * x[i] * x[i] * 5; /* heavier tails than uniform */
    CalibRange r;
    calib_range_init(&r);
    calib_range_minmax(&r, x, N);
    CHECK(0, calib_range_hist(&r, x, N));
    double amax = calib_range_amax(&r);
    for (int i = 0; i < N; i++)
        a[i] = fabsf(x[i]);
    /* the straightforward reference: sort |x|, take the value at p % */
    for (int i = 1; i < N; i++)
        for (int j = i; j > 0 && a[j - 1] > a[j]; j--) {
            float t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
    const double ps[] = {50, 90, 99, 99.9, 100};
    for (int k = 0; k < 5; k++) {
        int idx = (int)ceil(ps[k] / 100 * N) - 1;
        double want = a[idx < 0 ? 0 : idx];
        double got = amax * calib_percentile_bins(r.hist, CALIB_BINS, ps[k]) / CALIB_BINS;
        CHECK_NEAR(want, got, amax / CALIB_BINS + 1e-9);
    }
    double lo, hi;
    calib_range_pick(&r, CM_PERCENTILE, 99, &lo, &hi);
    CHECK_TRUE(lo < 0 && lo >= r.lo && hi > 0 && hi <= r.hi && hi < amax);
    calib_range_free(&r);
}

/* TensorRT's search written out directly: every sum recomputed, the
 * smoothing of MXNet's smooth_distribution, KL normalized as in scipy. */
static double ref_kl_at(const double *hist, int nbins, int nq, int i)
{
    double *p = calloc((size_t)i, sizeof *p), *q = calloc((size_t)i, sizeof *q);
    for (int j = 0; j < i; j++)
        p[j] = hist[j];
    for (int j = i; j < nbins; j++)
        p[i - 1] += hist[j];
    for (int l = 0; l < nq; l++) {
        int a = (int)((long long)l * i / nq), b = (int)((long long)(l + 1) * i / nq), nz = 0;
        double sum = 0;
        for (int j = a; j < b; j++) {
            sum += hist[j];
            nz += hist[j] > 0;
        }
        for (int j = a; j < b; j++)
            q[j] = hist[j] > 0 ? sum / nz : 0;
    }
    double *d[2] = {p, q}, out = INFINITY;
    int ok = 1;
    for (int k = 0; k < 2 && ok; k++) {
        int zeros = 0;
        double least = INFINITY;
        for (int j = 0; j < i; j++) {
            zeros += d[k][j] == 0;
            least = d[k][j] > 0 && d[k][j] < least ? d[k][j] : least;
        }
        double eps1 = zeros == i ? INFINITY : 1e-4 * zeros / (i - zeros);
        ok = eps1 < least;
        for (int j = 0; ok && j < i; j++)
            d[k][j] = d[k][j] == 0 ? 1e-4 : d[k][j] - eps1;
    }
    if (ok) {
        double sp = 0, sq = 0;
        for (int j = 0; j < i; j++) {
            sp += p[j];
            sq += q[j];
        }
        out = 0;
        for (int j = 0; j < i; j++)
            out += p[j] / sp * log(p[j] / sp / (q[j] / sq));
    }
    free(p);
    free(q);
    return out;
}

static int ref_entropy_bins(const double *hist, int nbins, int nq)
{
    int best = nbins;
    double best_kl = INFINITY;
    for (int i = nq; i <= nbins; i++) {
        double k = ref_kl_at(hist, nbins, nq, i);
        if (k < best_kl) {
            best_kl = k;
            best = i;
        }
    }
    return best;
}

static void test_entropy(void)
{
    enum { NB = 512, N = 200000 };
    static double h[4][NB];
    /* |gaussian| (Box-Muller), |laplacian|, uniform, Relu output (mostly zeros) */
    unsigned s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        double u1 = ((s >> 8) + 1.0) / 16777217.0;
        s = s * 1103515245u + 12345u;
        double u2 = ((s >> 8) + 0.5) / 16777216.0;
        double g = fabs(sqrt(-2 * log(u1)) * cos(2 * M_PI * u2)) / 5.5;
        double lap = -log(u1) / 12;
        int bg = (int)(g * NB), bl = (int)(lap * NB);
        h[0][bg < NB ? bg : NB - 1] += 1;
        h[1][bl < NB ? bl : NB - 1] += 1;
        h[2][(int)(u2 * NB)] += 1;
        h[3][u2 < 0.7 ? 0 : (int)(u1 * u1 * NB)] += 1;
    }
    for (int k = 0; k < 4; k++)
        for (int nq = 64; nq <= 128; nq += 64)
            CHECK(ref_entropy_bins(h[k], NB, nq), calib_entropy_bins(h[k], NB, nq));
    /* a Gaussian is cut in its tail, a uniform one is kept whole */
    int g = calib_entropy_bins(h[0], NB, 128);
    CHECK_TRUE(g > NB * 2.5 / 5.5 && g < NB);
    CHECK_TRUE(calib_entropy_bins(h[2], NB, 128) > NB * 0.95);
}

static void test_u8_params(void)
{
    float s;
    uint8_t z;
    quant_u8_params(-1, 3, &s, &z);
    CHECK_NEAR(4.0 / 255, s, 1e-7);
    CHECK(64, z); /* round(1 / (4/255)) */
    quant_u8_params(0.5, 2, &s, &z); /* widened to hold 0 */
    CHECK_NEAR(2.0 / 255, s, 1e-7);
    CHECK(0, z);
    quant_u8_params(-3, -1, &s, &z);
    CHECK_NEAR(3.0 / 255, s, 1e-7);
    CHECK(255, z);
    quant_u8_params(0, 0, &s, &z); /* never a zero scale */
    CHECK_NEAR(1, s, 0);
    CHECK(0, z);
}

/* ---- the rewrite on a built graph ----
 * x [1,3,6,6] -> Conv (pads 1) -> Add(skip) -> Relu -> Flatten -> Gemm(transB) -> out [1,5];
 * pass_fuse makes the first three one FusedConv with the sum input Z = skip. */

enum { CI = 3, CO = 4, HW = 6, NO = 5, FLAT = CO * HW * HW, NSAMP = 4 };

static Value *weights(Graph *g, const char *name, int rank, const int64_t *dims, unsigned seed,
                      float scale)
{
    Value *v = tensor(g, name, rank, dims);
    float *p = ir_value_alloc_data(g, v);
    fill(p, ir_numel(v), seed);
    for (int64_t i = 0; i < ir_numel(v); i++)
        p[i] *= scale;
    v->is_initializer = 1;
    return v;
}

static void attr_ints(Graph *g, Node *n, const char *name, int count, int64_t v)
{
    int64_t *p = ir_alloc(g, sizeof *p * (size_t)count);
    for (int i = 0; i < count; i++)
        p[i] = v;
    ir_add_attr(g, n, (Attr){.name = name, .type = AT_INTS, .n = count, .ints = p});
}

static Graph *build_at(int opset)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0].domain = "";
    g->opsets[0].version = opset;
    g->n_opsets = 1;
    Value *x = tensor(g, "x", 4, DIMS(1, CI, HW, HW)), *skip = tensor(g, "skip", 4,
                                                                       DIMS(1, CO, HW, HW));
    x->is_input = skip->is_input = 1;
    g->inputs = malloc(sizeof *g->inputs * 2);
    g->inputs[g->n_inputs++] = x;
    g->inputs[g->n_inputs++] = skip;
    Value *ci[3] = {x, weights(g, "w1", 4, DIMS(CO, CI, 3, 3), 11, 0.5f),
                    weights(g, "b1", 1, DIMS(CO), 12, 0.2f)};
    Node *c = named_node(g, "Conv", "body/conv", 3, ci);
    attr_ints(g, c, "pads", 4, 1);
    Value *ai[2] = {c->out[0], skip};
    Value *s = named_node(g, "Add", "body/add", 2, ai)->out[0];
    Value *r = named_node(g, "Relu", "body/relu", 1, &s)->out[0];
    Value *f = named_node(g, "Flatten", "flatten", 1, &r)->out[0];
    Value *gi[3] = {f, weights(g, "w2", 2, DIMS(NO, FLAT), 13, 0.1f),
                    weights(g, "b2", 1, DIMS(NO), 14, 0.3f)};
    Node *gm = named_node(g, "Gemm", "head/gemm", 3, gi);
    ir_set_attr_int(g, gm, "transB", 1);
    Value *out = gm->out[0];
    out->is_output = 1;
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[g->n_outputs++] = out;
    return g;
}

static Graph *build(void)
{
    return build_at(17);
}

static void sample(int k, float *x, float *skip)
{
    fill(x, CI * HW * HW, 100 + k);
    fill(skip, CO * HW * HW, 200 + k);
    for (int i = 0; i < CI * HW * HW; i++)
        x[i] *= 2;
}

/* Writes the samples as folders s<k>/input_0.pb, input_1.pb under dir. */
static void write_samples(const char *dir)
{
    for (int k = 0; k < NSAMP; k++) {
        float x[CI * HW * HW], skip[CO * HW * HW];
        sample(k, x, skip);
        char path[512];
        snprintf(path, sizeof path, "%s/s%d", dir, k);
        mkdir(path, 0755);
        RtTensor t = {{RT_F32, 4, {1, CI, HW, HW}}, "x", x, sizeof x};
        snprintf(path, sizeof path, "%s/s%d/input_0.pb", dir, k);
        CHECK(0, rt_tensor_write_pb(path, &t));
        t = (RtTensor){{RT_F32, 4, {1, CO, HW, HW}}, "skip", skip, sizeof skip};
        snprintf(path, sizeof path, "%s/s%d/input_1.pb", dir, k);
        CHECK(0, rt_tensor_write_pb(path, &t));
    }
}

/* ---- the reference: the same model, fake-quantized by hand ---- */

typedef struct QP {
    double lo, hi;
    float s;
    int z;
} QP;

static void qp_add(QP *q, const double *v, int n)
{
    for (int i = 0; i < n; i++) {
        q->lo = v[i] < q->lo ? v[i] : q->lo;
        q->hi = v[i] > q->hi ? v[i] : q->hi;
    }
}

/* asymmetric uint8 over [min(lo,0), max(hi,0)] (ONNX Runtime's QDQ quantizer) */
static void qp_fix(QP *q)
{
    double lo = q->lo < 0 ? q->lo : 0, hi = q->hi > 0 ? q->hi : 0;
    q->s = (float)((hi - lo) / 255);
    double z = nearbyint(-lo / q->s);
    q->z = z < 0 ? 0 : z > 255 ? 255 : (int)z;
}

/* QuantizeLinear then DequantizeLinear (float division, rounding half to even) */
static double fq(const QP *q, double v)
{
    double c = nearbyintf((float)v / q->s) + q->z;
    c = c < 0 ? 0 : c > 255 ? 255 : c;
    return (float)((c - q->z) * q->s);
}

/* per output channel symmetric int8 of w [m][per], into wq; the scales into sw */
static void fq_weights(const float *w, int m, int per, double *wq, float *sw)
{
    for (int o = 0; o < m; o++) {
        float amax = 0;
        for (int i = 0; i < per; i++)
            amax = fabsf(w[o * per + i]) > amax ? fabsf(w[o * per + i]) : amax;
        sw[o] = amax / 127.0f;
        for (int i = 0; i < per; i++) {
            double c = nearbyintf(w[o * per + i] / sw[o]);
            wq[o * per + i] = (float)(c * sw[o]);
        }
    }
}

/* bias as int32 codes at scale x_scale * w_scale[o] */
static void fq_bias(const float *b, int m, float sx, const float *sw, double *bq)
{
    for (int o = 0; o < m; o++) {
        float s = sx * sw[o];
        bq[o] = (float)(nearbyintf(b[o] / s) * s);
    }
}

/* The forward pass; with q, every quantized tensor goes through fq and the
 * weights are wq1/bq1/wq2/bq2; without, float (and the ranges are gathered). */
typedef struct Ref {
    QP x, skip, r, f, out;
    const float *w1, *b1, *w2, *b2;
    double wq1[CO * CI * 9], bq1[CO], wq2[NO * FLAT], bq2[NO];
} Ref;

static void forward(Ref *m, int quant, const float *xin, const float *sin_, double *out)
{
    static double x[CI * HW * HW], sk[CO * HW * HW], r[FLAT];
    for (int i = 0; i < CI * HW * HW; i++)
        x[i] = quant ? fq(&m->x, xin[i]) : xin[i];
    for (int i = 0; i < CO * HW * HW; i++)
        sk[i] = quant ? fq(&m->skip, sin_[i]) : sin_[i];
    for (int o = 0; o < CO; o++)
        for (int y = 0; y < HW; y++)
            for (int xx = 0; xx < HW; xx++) {
                double acc = quant ? m->bq1[o] : m->b1[o];
                for (int c = 0; c < CI; c++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = y + ky - 1, ix = xx + kx - 1;
                            if (iy < 0 || iy >= HW || ix < 0 || ix >= HW)
                                continue;
                            int wi = ((o * CI + c) * 3 + ky) * 3 + kx;
                            acc += (quant ? m->wq1[wi] : m->w1[wi]) * x[(c * HW + iy) * HW + ix];
                        }
                int at = (o * HW + y) * HW + xx;
                acc += sk[at];
                r[at] = acc > 0 ? acc : 0;
            }
    if (!quant)
        qp_add(&m->r, r, FLAT);
    for (int i = 0; quant && i < FLAT; i++)
        r[i] = fq(&m->f, fq(&m->r, r[i])); /* the FusedConv's pair, then the Gemm input's */
    for (int o = 0; o < NO; o++) {
        double acc = quant ? m->bq2[o] : m->b2[o];
        for (int i = 0; i < FLAT; i++)
            acc += (quant ? m->wq2[o * FLAT + i] : m->w2[o * FLAT + i]) * r[i];
        out[o] = quant ? fq(&m->out, acc) : acc;
    }
    if (!quant) {
        qp_add(&m->x, x, CI * HW * HW);
        qp_add(&m->skip, sk, CO * HW * HW);
        qp_add(&m->f, r, FLAT);
        qp_add(&m->out, out, NO);
    }
}

static int count_op(const Graph *g, int op)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++)
        c += !g->nodes[k]->dead && g->nodes[k]->op == op;
    return c;
}

static const Node *find(const Graph *g, int op)
{
    for (int k = 0; k < g->n_nodes; k++)
        if (!g->nodes[k]->dead && g->nodes[k]->op == op)
            return g->nodes[k];
    return NULL;
}

/* A DequantizeLinear of int8 (int32) constants along axis 0, feeding input i of n. */
static int dq_const(const Node *n, int i, int dtype)
{
    const Value *v = ir_input(n, i);
    const Node *p = v ? v->producer : NULL;
    return p && p->op == OP_DEQUANTIZE_LINEAR && p->in[0]->data && p->in[0]->dtype == dtype &&
           ir_attr_int(p, "axis", 1) == 0 && ir_numel(p->in[1]) == (n->op == OP_GEMM ? NO : CO);
}

/* The -O2 pipeline up to and including pass quantize: the QDQ form the
 * pass writes, before qdq lowers it to integer kernels. */
static int run_to_quantize(Graph *g, PassCtx *ctx)
{
    static const char *const upto[] = {"shape", "fold", "noop", "recognize", "fuse", "quantize"};
    for (int i = 0; i < 6; i++)
        if (ir_run_pass(g, upto[i], ctx) < 0)
            return -1;
    return 0;
}

static void test_built(const char *dir)
{
    write_samples(dir);
    Ref m;
    memset(&m, 0, sizeof m);
    QP *qs[5] = {&m.x, &m.skip, &m.r, &m.f, &m.out};
    for (int i = 0; i < 5; i++) {
        qs[i]->lo = INFINITY;
        qs[i]->hi = -INFINITY;
    }
    Graph *g = build();
    const Value *w1 = ir_value_find(g, "w1"), *b1 = ir_value_find(g, "b1"),
                *w2 = ir_value_find(g, "w2"), *b2 = ir_value_find(g, "b2");
    m.w1 = w1->data;
    m.b1 = b1->data;
    m.w2 = w2->data;
    m.b2 = b2->data;
    double out[NO];
    float xs[NSAMP][CI * HW * HW], ss[NSAMP][CO * HW * HW];
    double ref0[NO]; /* the float model's output on sample 0 */
    for (int k = 0; k < NSAMP; k++) {
        sample(k, xs[k], ss[k]);
        forward(&m, 0, xs[k], ss[k], out);
        if (k == 0)
            memcpy(ref0, out, sizeof ref0);
    }
    for (int i = 0; i < 5; i++)
        qp_fix(qs[i]);
    float sw1[CO], sw2[NO];
    fq_weights(m.w1, CO, CI * 9, m.wq1, sw1);
    fq_weights(m.w2, NO, FLAT, m.wq2, sw2);
    fq_bias(m.b1, CO, m.x.s, sw1, m.bq1);
    fq_bias(m.b2, NO, m.f.s, sw2, m.bq2);

    QuantOpts q = {.act = QA_INT8, .calib_method = CM_MINMAX, .calib_dir = dir};
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1, .quant = &q};
    int rc = run_to_quantize(g, &ctx);
    CHECK(0, rc);
    if (rc) {
        fprintf(stderr, "%s\n", d.msg);
        ir_graph_free(g);
        return;
    }
    /* one pair per activation: x, skip, the FusedConv's output, the Gemm's input and output */
    CHECK(5, count_op(g, OP_QUANTIZE_LINEAR));
    CHECK(9, count_op(g, OP_DEQUANTIZE_LINEAR));
    const Node *fc = find(g, OP_FUSED_CONV), *gm = find(g, OP_GEMM);
    CHECK_TRUE(fc && gm);
    if (fc && gm) {
        CHECK_TRUE(dq_const(fc, 1, RT_I8));
        CHECK_TRUE(dq_const(fc, 2, RT_I32));
        CHECK_TRUE(dq_const(gm, 1, RT_I8));
        CHECK_TRUE(dq_const(gm, 2, RT_I32));
        for (int i = 0; i < 4; i += 3) /* X and the residual Z read DequantizeLinear */
            CHECK_TRUE(fc->in[i]->producer && fc->in[i]->producer->op == OP_DEQUANTIZE_LINEAR);
        CHECK(OP_QUANTIZE_LINEAR, fc->out[0]->uses->node->op);
    }
    double worst = 0;
    for (int k = 0; k < NSAMP; k++) {
        RtTensor in[2] = {{{RT_F32, 4, {1, CI, HW, HW}}, "x", xs[k], sizeof xs[k]},
                          {{RT_F32, 4, {1, CO, HW, HW}}, "skip", ss[k], sizeof ss[k]}};
        RtTensor o;
        CHECK(0, ir_run(g, in, &o, &d));
        forward(&m, 1, xs[k], ss[k], out);
        for (int i = 0; i < NO && o.data; i++) {
            double diff = fabs(((float *)o.data)[i] - out[i]);
            worst = diff > worst ? diff : worst;
        }
        rt_tensor_free(&o);
    }
    /* the same arithmetic but for float32 sums in another order: far below
     * one output step (m.out.s) */
    printf("built graph: QDQ vs hand fake-quant max |diff| %.3g (output step %.3g)\n", worst,
           m.out.s);
    CHECK_NEAR(0, worst, 1e-4);
    ir_graph_free(g);

    /* --keep-float: the Gemm stays float; so does its input, which no quantized node reads */
    q.keep_float[q.n_keep_float++] = "head/*";
    g = build();
    CHECK(0, run_to_quantize(g, &ctx));
    CHECK(3, count_op(g, OP_QUANTIZE_LINEAR));
    gm = find(g, OP_GEMM);
    CHECK_TRUE(gm && gm->in[1]->data && gm->in[1]->dtype == RT_F32 && gm->in[0]->producer &&
               gm->in[0]->producer->op == OP_FLATTEN);
    ir_graph_free(g);

    /* before opset 13 DequantizeLinear has no axis: one scale per weight tensor */
    q.n_keep_float = 0;
    g = build_at(11);
    CHECK(0, run_to_quantize(g, &ctx));
    fc = find(g, OP_FUSED_CONV);
    CHECK_TRUE(fc != NULL);
    for (int i = 1; fc && i < 3; i++) {
        const Node *p = fc->in[i]->producer;
        CHECK_TRUE(p && p->op == OP_DEQUANTIZE_LINEAR && !ir_attr(p, "axis") &&
                   ir_numel(p->in[1]) == 1);
    }
    RtTensor in11[2] = {{{RT_F32, 4, {1, CI, HW, HW}}, "x", xs[0], sizeof xs[0]},
                        {{RT_F32, 4, {1, CO, HW, HW}}, "skip", ss[0], sizeof ss[0]}};
    RtTensor o11;
    CHECK(0, ir_run(g, in11, &o11, &d));
    double err11 = 0;
    for (int i = 0; i < NO && o11.data; i++)
        err11 = fmax(err11, fabs(((float *)o11.data)[i] - ref0[i]));
    CHECK_NEAR(0, err11, 0.1); /* int8 of a 5-value output spanning ~4 */
    rt_tensor_free(&o11);
    ir_graph_free(g);

    /* the other methods and the report run, and the report names every layer */
    for (int meth = CM_PERCENTILE; meth <= CM_ENTROPY; meth++) {
        QuantOpts q2 = {.act = QA_INT8, .calib_method = (CalibMethod)meth, .percentile = 99.9,
                        .calib_dir = dir, .report = 1};
        PassCtx c2 = {.d = &d, .verify = 1, .quant = &q2};
        char log[600];
        snprintf(log, sizeof log, "%s/report.txt", dir);
        fflush(stderr);
        int saved = dup(2);
        FILE *f = freopen(log, "w", stderr);
        g = build();
        rc = run_to_quantize(g, &c2);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        CHECK_TRUE(f != NULL);
        CHECK(0, rc);
        CHECK(5, count_op(g, OP_QUANTIZE_LINEAR));
        char text[4096] = {0};
        FILE *r = fopen(log, "r");
        size_t got = r ? fread(text, 1, sizeof text - 1, r) : 0;
        if (r)
            fclose(r);
        CHECK_TRUE(got > 0);
        CHECK_STR_CONTAINS(text, "SQNR dB");
        CHECK_STR_CONTAINS(text, "body/conv (FusedConv)");
        CHECK_STR_CONTAINS(text, "head/gemm (Gemm)");
        CHECK_STR_CONTAINS(text, "over 4 calibration samples");
        unlink(log);
        ir_graph_free(g);
    }
}

/* ---- a Gemm read only by a separate Relu ----
 * x [2,R_IN] -> Gemm(transB) -> Relu -> Gemm(transB) -> out [2,R_OUT]. The
 * Relu is absorbed into the first Gemm's quantized output: one Q/DQ pair
 * after it (zero point 0, QuantizeLinear's saturation at 0 being the
 * Relu), none between the Gemm and the Relu, no Relu left; and after pass
 * qdq both Gemms are integer kernels with nothing in between. */

enum { R_B = 2, R_IN = 12, R_MID = 10, R_OUT = 6, R_NS = 3 };

static Graph *build_relu(void)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0].domain = "";
    g->opsets[0].version = 17;
    g->n_opsets = 1;
    Value *x = tensor(g, "x", 2, DIMS(R_B, R_IN));
    x->is_input = 1;
    g->inputs = malloc(sizeof *g->inputs);
    g->inputs[g->n_inputs++] = x;
    Value *i1[3] = {x, weights(g, "w1", 2, DIMS(R_MID, R_IN), 21, 0.5f),
                    weights(g, "b1", 1, DIMS(R_MID), 22, 0.3f)};
    Node *g1 = named_node(g, "Gemm", "fc1", 3, i1);
    ir_set_attr_int(g, g1, "transB", 1);
    Value *r = named_node(g, "Relu", "relu1", 1, &g1->out[0])->out[0];
    Value *i2[3] = {r, weights(g, "w2", 2, DIMS(R_OUT, R_MID), 23, 0.5f),
                    weights(g, "b2", 1, DIMS(R_OUT), 24, 0.2f)};
    Node *g2 = named_node(g, "Gemm", "fc2", 3, i2);
    ir_set_attr_int(g, g2, "transB", 1);
    g2->out[0]->is_output = 1;
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[g->n_outputs++] = g2->out[0];
    return g;
}

static void relu_sample(int k, float *x)
{
    fill(x, R_B * R_IN, 300 + k);
}

/* The hand reference: fake-quantized x, fc1 with int8 weights and int32
 * bias, Relu, the pair of the Relu's output, fc2 the same, the output's pair. */
static void relu_forward(const Graph *g, const QP *qx, const QP *qr, const QP *qo, int quant,
                         const float *xin, double *out, double *mid)
{
    const float *w1 = ir_value_find((Graph *)g, "w1")->data,
                *b1 = ir_value_find((Graph *)g, "b1")->data,
                *w2 = ir_value_find((Graph *)g, "w2")->data,
                *b2 = ir_value_find((Graph *)g, "b2")->data;
    double wq1[R_MID * R_IN], bq1[R_MID], wq2[R_OUT * R_MID], bq2[R_OUT];
    float sw1[R_MID], sw2[R_OUT];
    if (quant) {
        fq_weights(w1, R_MID, R_IN, wq1, sw1);
        fq_weights(w2, R_OUT, R_MID, wq2, sw2);
        fq_bias(b1, R_MID, qx->s, sw1, bq1);
        fq_bias(b2, R_OUT, qr->s, sw2, bq2);
    }
    for (int b = 0; b < R_B; b++) {
        double h[R_MID];
        for (int o = 0; o < R_MID; o++) {
            double acc = quant ? bq1[o] : b1[o];
            for (int i = 0; i < R_IN; i++) {
                double xv = quant ? fq(qx, xin[b * R_IN + i]) : xin[b * R_IN + i];
                acc += (quant ? wq1[o * R_IN + i] : w1[o * R_IN + i]) * xv;
            }
            h[o] = acc > 0 ? acc : 0;
            if (quant)
                h[o] = fq(qr, h[o]);
            mid[b * R_MID + o] = h[o];
        }
        for (int o = 0; o < R_OUT; o++) {
            double acc = quant ? bq2[o] : b2[o];
            for (int i = 0; i < R_MID; i++)
                acc += (quant ? wq2[o * R_MID + i] : w2[o * R_MID + i]) * h[i];
            out[b * R_OUT + o] = quant ? fq(qo, acc) : acc;
        }
    }
}

static void test_gemm_relu(const char *parent)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%.500s/relu", parent);
    mkdir(dir, 0755);
    QP qx = {INFINITY, -INFINITY, 0, 0}, qr = qx, qo = qx;
    float xs[R_NS][R_B * R_IN];
    Graph *g = build_relu();
    for (int k = 0; k < R_NS; k++) {
        relu_sample(k, xs[k]);
        char path[700];
        snprintf(path, sizeof path, "%s/r%d.pb", dir, k);
        RtTensor t = {{RT_F32, 2, {R_B, R_IN}}, "x", xs[k], sizeof xs[k]};
        CHECK(0, rt_tensor_write_pb(path, &t));
        double out[R_B * R_OUT], mid[R_B * R_MID], xd[R_B * R_IN];
        relu_forward(g, &qx, &qr, &qo, 0, xs[k], out, mid);
        for (int i = 0; i < R_B * R_IN; i++)
            xd[i] = xs[k][i];
        qp_add(&qx, xd, R_B * R_IN);
        qp_add(&qr, mid, R_B * R_MID);
        qp_add(&qo, out, R_B * R_OUT);
    }
    qp_fix(&qx);
    qp_fix(&qr);
    qp_fix(&qo);
    CHECK(0, qr.z); /* a Relu's range starts at 0 */

    QuantOpts q = {.act = QA_INT8, .calib_method = CM_MINMAX, .calib_dir = dir};
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1, .quant = &q};
    CHECK(0, run_to_quantize(g, &ctx));
    /* x, the Relu's output (fc1's, with the Relu absorbed) and the output */
    CHECK(3, count_op(g, OP_QUANTIZE_LINEAR));
    CHECK(0, count_op(g, OP_RELU));
    const Node *fc1 = NULL;
    for (int k = 0; k < g->n_nodes; k++)
        if (!g->nodes[k]->dead && !strcmp(g->nodes[k]->name, "fc1"))
            fc1 = g->nodes[k];
    CHECK_TRUE(fc1 && fc1->out[0]->n_uses == 1 &&
               fc1->out[0]->uses->node->op == OP_QUANTIZE_LINEAR);
    if (fc1 && fc1->out[0]->n_uses == 1) {
        const Node *qn = fc1->out[0]->uses->node;
        double z = -1;
        CHECK(0, ir_const_scalar(qn->in[2], &z));
        CHECK_NEAR(0, z, 0);
    }
    /* the graph against the hand reference, on the calibration samples and
     * on inputs beyond them (larger: both saturations are exercised) */
    double worst = 0;
    for (int k = 0; k < R_NS + 1; k++) {
        float x[R_B * R_IN];
        relu_sample(k, x);
        for (int i = 0; k == R_NS && i < R_B * R_IN; i++)
            x[i] *= 1.5f;
        RtTensor in = {{RT_F32, 2, {R_B, R_IN}}, "x", x, sizeof x}, o;
        CHECK(0, ir_run(g, &in, &o, &d));
        double out[R_B * R_OUT], mid[R_B * R_MID];
        relu_forward(g, &qx, &qr, &qo, 1, x, out, mid);
        for (int i = 0; i < R_B * R_OUT && o.data; i++)
            worst = fmax(worst, fabs(((float *)o.data)[i] - out[i]));
        rt_tensor_free(&o);
    }
    printf("gemm+relu: QDQ vs hand fake-quant max |diff| %.3g (output step %.3g)\n", worst,
           qo.s);
    CHECK_NEAR(0, worst, 1e-4);
    ir_graph_free(g);

    /* the whole pipeline: two integer Gemms and nothing between them */
    Graph *full = build_relu();
    int rc = ir_run_pipeline(full, 2, &ctx);
    CHECK(0, rc);
    if (rc == 0) {
        CHECK(2, count_op(full, OP_QMATMUL));
        CHECK(0, count_op(full, OP_RELU));
        const Node *m1 = find(full, OP_QMATMUL);
        CHECK_TRUE(m1 && m1->out[0]->n_uses == 1 && m1->out[0]->uses->node->op == OP_QMATMUL);
        float x[R_B * R_IN];
        relu_sample(0, x);
        RtTensor in = {{RT_F32, 2, {R_B, R_IN}}, "x", x, sizeof x}, o;
        CHECK(0, ir_run(full, &in, &o, &d));
        double out[R_B * R_OUT], mid[R_B * R_MID], err = 0;
        relu_forward(full, &qx, &qr, &qo, 0, x, out, mid);
        for (int i = 0; i < R_B * R_OUT && o.data; i++)
            err = fmax(err, fabs(((float *)o.data)[i] - out[i]));
        rt_tensor_free(&o);
        printf("gemm+relu: integer kernels vs float max |diff| %.3g\n", err);
        CHECK_NEAR(0, err, 4 * qo.s + 0.05); /* a few output steps of int8 */
    } else {
        fprintf(stderr, "%s\n", d.msg);
    }
    ir_graph_free(full);
}

/* ---- accuracy on the digits example ----
 * The 20 held-out samples (two per digit) calibrate and are then classified;
 * PyTorch's float logits (samples/expected) are the reference. */
static void test_digits(void)
{
    static const char *const names[] = {"minmax", "percentile", "entropy"};
    /* stated bounds: min/max and percentile keep every fp32 answer, logits
     * within 0.5 (of a spread of ~20); entropy calibration cuts the tails of
     * the Relu outputs on this tiny calibration set (one sample in 20 flips,
     * logits move by up to ~7), so it is held to 18 of 20 and 10 */
    static const int min_agree[] = {20, 20, 18};
    static const double max_err[] = {0.5, 0.5, 10};
    for (int meth = 0; meth < 3; meth++) {
        QuantOpts q = {.act = QA_INT8, .calib_method = (CalibMethod)meth, .percentile = 99.99,
                       .calib_dir = DIGITS "/samples"};
        Diag d = {0};
        PassCtx ctx = {.d = &d, .verify = 1, .quant = &q};
        Graph *g = drv_prepare(DIGITS "/digits.onnx", NULL, 0, NULL, 0, 2, &ctx);
        CHECK_TRUE(g != NULL);
        if (!g) {
            fprintf(stderr, "%s\n", d.msg);
            continue;
        }
        /* the whole pipeline: pass qdq made both convolutions and the Gemm
         * integer kernels; the image, the pooled map and the flattened
         * features are quantized where float ops leave them, except that
         * under min/max the pooled map's range is its input's (a max of
         * Relu outputs), so its MaxPool runs on uint8 and needs none */
        CHECK(2, count_op(g, OP_QCONV));
        CHECK(1, count_op(g, OP_QMATMUL));
        CHECK(meth == 0 ? 2 : 3, count_op(g, OP_QUANTIZE_LINEAR));
        FILE *lf = fopen(DIGITS "/samples/labels.txt", "r");
        char file[128];
        int label, n = 0, agree = 0, correct = 0;
        double err = 0, err_sum = 0;
        while (lf && fscanf(lf, "%127s %d", file, &label) == 2) {
            char path[512];
            RtTensor in, want, got;
            char msg[256];
            snprintf(path, sizeof path, DIGITS "/samples/%s", file);
            CHECK(0, rt_tensor_read(path, &in, msg, sizeof msg));
            snprintf(path, sizeof path, DIGITS "/samples/expected/%s", file);
            CHECK(0, rt_tensor_read(path, &want, msg, sizeof msg));
            CHECK(0, ir_run(g, &in, &got, &d));
            const float *a = got.data, *b = want.data;
            int ia = 0, ib = 0;
            for (int i = 0; a && b && i < 10; i++) {
                ia = a[i] > a[ia] ? i : ia;
                ib = b[i] > b[ib] ? i : ib;
                double e = fabs(a[i] - b[i]);
                err = e > err ? e : err;
                err_sum += e;
            }
            agree += ia == ib;
            correct += ia == label;
            n++;
            rt_tensor_free(&in);
            rt_tensor_free(&want);
            rt_tensor_free(&got);
        }
        if (lf)
            fclose(lf);
        printf("digits int8 %-10s: top-1 agrees with fp32 on %d/%d, right on %d/%d, logit "
               "|err| max %.3f mean %.4f\n", names[meth], agree, n, correct, n, err,
               n ? err_sum / (10 * n) : 0);
        CHECK(20, n);
        CHECK_TRUE(agree >= min_agree[meth]);
        CHECK_TRUE(err < max_err[meth]);
        ir_graph_free(g);
    }
}

int main(void)
{
    test_percentile();
    test_entropy();
    test_u8_params();
    char dir[] = "/tmp/onnxcc_ptq_XXXXXX";
    CHECK_TRUE(mkdtemp(dir) != NULL);
    test_built(dir);
    test_gemm_relu(dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(0, system(cmd));
    test_digits();
    return CHECK_DONE();
}
