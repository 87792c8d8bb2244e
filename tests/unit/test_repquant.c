/* test_repquant.c: RepQuant's LayerNorm reparameterization (exact, per-channel codes) and log2 Softmax. */
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
#include "passes/repquant.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif

#define CHARTF ONNXCC_SOURCE_DIR "/examples/chartf"
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

/* A constant: scale * [-1, 1) + offset. */
static Value *weights(Graph *g, const char *name, int rank, const int64_t *dims, unsigned seed,
                      float scale, float offset)
{
    Value *v = tensor(g, name, rank, dims);
    float *p = ir_value_alloc_data(g, v);
    fill(p, ir_numel(v), seed);
    for (int64_t i = 0; i < ir_numel(v); i++)
        p[i] = p[i] * scale + offset;
    v->is_initializer = 1;
    return v;
}

static Graph *graph_new(int n_in, int n_out)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0].domain = "";
    g->opsets[0].version = 17;
    g->n_opsets = 1;
    g->inputs = malloc(sizeof *g->inputs * (size_t)n_in);
    g->outputs = malloc(sizeof *g->outputs * (size_t)n_out);
    return g;
}

static void output(Graph *g, Value *v)
{
    v->is_output = 1;
    g->outputs[g->n_outputs++] = v;
}

static int count_op(const Graph *g, int op)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++)
        c += !g->nodes[k]->dead && g->nodes[k]->op == op;
    return c;
}

/* ---- the LayerNorm reparameterization ----
 * a [B,T,C] -> LayerNorm(gamma, beta) -> MatMul W1 [C,N1] + Add b1 -> y1
 *                                     -> MatMul W2 [C,N2] (no bias)  -> y2
 * b [R,C]   -> LayerNorm(gamma2, no beta) -> Gemm(transB, W3 [N3,C], c3) -> y3
 *                                         -> Gemm(W4 [C,N4], no C)     -> y4
 * gamma and beta spread over a wide range so that the channels' ranges
 * differ by more than 10x, as a trained transformer's LayerNorm outputs do. */

enum { B = 2, T = 4, C = 8, N1 = 5, N2 = 3, R = 4, N3 = 6, N4 = 7, NS = 4 };

static Graph *build_ln(void)
{
    Graph *g = graph_new(2, 5);
    Value *a = tensor(g, "a", 3, DIMS(B, T, C)), *b = tensor(g, "b", 2, DIMS(R, C));
    a->is_input = b->is_input = 1;
    g->inputs[g->n_inputs++] = a;
    g->inputs[g->n_inputs++] = b;
    Value *li[3] = {a, weights(g, "gamma", 1, DIMS(C), 31, 2.4f, 2.5f),
                    weights(g, "beta", 1, DIMS(C), 32, 3.0f, 0.5f)};
    Node *ln = named_node(g, "LayerNormalization", "block/ln", 3, li);
    ir_set_attr_int(g, ln, "axis", -1);
    Value *m1[2] = {ln->out[0], weights(g, "w1", 2, DIMS(C, N1), 33, 0.5f, 0)};
    Value *t1 = named_node(g, "MatMul", "block/q", 2, m1)->out[0];
    Value *a1[2] = {weights(g, "b1", 1, DIMS(N1), 34, 0.3f, 0), t1}; /* bias first */
    output(g, named_node(g, "Add", "block/q_bias", 2, a1)->out[0]);
    Value *m2[2] = {ln->out[0], weights(g, "w2", 2, DIMS(C, N2), 35, 0.5f, 0)};
    output(g, named_node(g, "MatMul", "block/k", 2, m2)->out[0]);

    Value *l2[2] = {b, weights(g, "gamma2", 1, DIMS(C), 36, 1.9f, 2.0f)};
    Node *ln2 = named_node(g, "LayerNormalization", "head/ln", 2, l2);
    Value *g3[3] = {ln2->out[0], weights(g, "w3", 2, DIMS(N3, C), 37, 0.5f, 0),
                    weights(g, "c3", 1, DIMS(N3), 38, 0.2f, 0)};
    Node *gm3 = named_node(g, "Gemm", "head/fc", 3, g3);
    ir_set_attr_int(g, gm3, "transB", 1);
    output(g, gm3->out[0]);
    Value *g4[2] = {ln2->out[0], weights(g, "w4", 2, DIMS(C, N4), 39, 0.5f, 0)};
    output(g, named_node(g, "Gemm", "head/fc2", 2, g4)->out[0]);
    return g;
}

/* Inputs with a per-channel offset and spread, so LayerNorm's statistics
 * are not trivial. */
static void ln_sample(int k, float *a, float *b)
{
    fill(a, B * T * C, 400 + k);
    fill(b, R * C, 500 + k);
    for (int i = 0; i < B * T * C; i++)
        a[i] = a[i] * (1 + i % C) + 0.3f * (float)(i % C);
    for (int i = 0; i < R * C; i++)
        b[i] = b[i] * (2 + i % 3) - 0.2f * (float)(i % C);
}

static void write_ln_samples(const char *dir)
{
    for (int k = 0; k < NS; k++) {
        float a[B * T * C], b[R * C];
        ln_sample(k, a, b);
        char path[512];
        snprintf(path, sizeof path, "%s/s%d", dir, k);
        mkdir(path, 0755);
        RtTensor t = {{RT_F32, 3, {B, T, C}}, "a", a, sizeof a};
        snprintf(path, sizeof path, "%s/s%d/input_0.pb", dir, k);
        CHECK(0, rt_tensor_write_pb(path, &t));
        t = (RtTensor){{RT_F32, 2, {R, C}}, "b", b, sizeof b};
        snprintf(path, sizeof path, "%s/s%d/input_1.pb", dir, k);
        CHECK(0, rt_tensor_write_pb(path, &t));
    }
}

/* Watches the LayerNorm outputs: every element of every sample run. */
typedef struct Seen {
    const Value *v[2];
    float *data[2];              /* NS samples of each, back to back */
    int64_t n[2];
    int k;                       /* the sample being run */
} Seen;

static void seen_obs(void *ctx, const Value *v, const void *data)
{
    Seen *s = ctx;
    for (int i = 0; i < 2; i++)
        if (v == s->v[i])
            memcpy(s->data[i] + s->n[i] * s->k, data, sizeof(float) * (size_t)s->n[i]);
}

static const Node *find_named(const Graph *g, const char *name)
{
    for (int k = 0; k < g->n_nodes; k++)
        if (!g->nodes[k]->dead && !strcmp(g->nodes[k]->name, name))
            return g->nodes[k];
    return NULL;
}

/* Runs every sample (and a fifth input beyond their ranges) through g; the
 * outputs go to out[sample][output], the LayerNorm outputs to seen. */
static int run_all(Graph *g, float out[NS + 1][4][64], Seen *seen, Diag *d)
{
    seen->v[0] = find_named(g, "block/ln")->out[0];
    seen->v[1] = find_named(g, "head/ln")->out[0];
    for (int k = 0; k < NS + 1; k++) {
        float a[B * T * C], b[R * C];
        ln_sample(k, a, b);
        for (int i = 0; k == NS && i < B * T * C; i++)
            a[i] *= 1.7f;
        RtTensor in[2] = {{{RT_F32, 3, {B, T, C}}, "a", a, sizeof a},
                          {{RT_F32, 2, {R, C}}, "b", b, sizeof b}},
                 o[4];
        memset(o, 0, sizeof o);
        seen->k = k < NS ? k : 0;
        int rc = k < NS ? ir_run_observe(g, in, o, d, seen_obs, seen) : ir_run(g, in, o, d);
        for (int j = 0; j < 4; j++) {
            if (rc == 0 && o[j].data)
                memcpy(out[k][j], o[j].data, (size_t)ir_numel(g->outputs[j]) * sizeof(float));
            rt_tensor_free(&o[j]);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static uint8_t code(double x, float s, int z)
{
    double c = nearbyintf((float)x / s) + z;
    return (uint8_t)(c < 0 ? 0 : c > 255 ? 255 : c);
}

static void test_ln(const char *dir)
{
    write_ln_samples(dir);
    Diag d = {0};
    QuantOpts q = {.act = QA_INT8, .calib_method = CM_MINMAX, .calib_dir = dir,
                   .repquant = RQ_LN};
    PassCtx ctx = {.d = &d, .verify = 1, .quant = &q};
    static float ref[NS + 1][4][64], got[NS + 1][4][64], sref[2][NS * B * T * C],
        sgot[2][NS * B * T * C];
    Seen s0 = {.data = {sref[0], sref[1]}, .n = {B * T * C, R * C}};
    Seen s1 = {.data = {sgot[0], sgot[1]}, .n = {B * T * C, R * C}};

    Graph *g0 = build_ln(), *g1 = build_ln();
    CHECK(0, ir_run_pass(g0, "shape", &ctx));
    CHECK(0, ir_run_pass(g1, "shape", &ctx));
    CHECK(0, run_all(g0, ref, &s0, &d));
    CHECK(2, ir_run_pass(g1, "repquant", &ctx)); /* both LayerNorms */
    /* the bias-less MatMul got an Add; nothing else was added */
    CHECK(2, count_op(g1, OP_ADD));
    CHECK(0, run_all(g1, got, &s1, &d));

    /* exact in float: every output equal to the original's within 1e-5
     * (the outputs span a few units; float rounding of the rescaled weights
     * and biases is ~1e-7 of them) */
    double worst = 0;
    for (int k = 0; k < NS + 1; k++)
        for (int j = 0; j < 4; j++)
            for (int64_t i = 0; i < ir_numel(g0->outputs[j]); i++)
                worst = fmax(worst, fabs(got[k][j][i] - ref[k][j][i]));
    printf("LayerNorm reparameterization: float outputs max |diff| %.3g\n", worst);
    CHECK_NEAR(0, worst, 1e-5);

    /* the point of it: the per-tensor uint8 quantizer of the new LayerNorm
     * output, calibrated by min/max as pass_quantize does, gives each
     * element the code the per-channel quantizer (each channel's range
     * mapped onto 0..255) gives the old one; float rounding can move a
     * value that sits on a rounding tie by one step */
    for (int l = 0; l < 2; l++) {
        int64_t n = NS * s0.n[l];
        double lo[C], hi[C], tlo = INFINITY, thi = -INFINITY, clo = INFINITY, chi = 0;
        for (int c = 0; c < C; c++) {
            lo[c] = INFINITY;
            hi[c] = -INFINITY;
        }
        for (int64_t i = 0; i < n; i++) {
            int c = (int)(i % C);
            lo[c] = fmin(lo[c], sref[l][i]);
            hi[c] = fmax(hi[c], sref[l][i]);
            tlo = fmin(tlo, sgot[l][i]);
            thi = fmax(thi, sgot[l][i]);
        }
        double sc[C], oc[C];
        float st;
        uint8_t zt;
        for (int c = 0; c < C; c++) {
            lo[c] = fmin(lo[c], 0);
            hi[c] = fmax(hi[c], 0);
            sc[c] = (hi[c] - lo[c]) / 255;
            oc[c] = -lo[c] / sc[c];
            clo = fmin(clo, sc[c]);
            chi = fmax(chi, sc[c]);
        }
        quant_u8_params(tlo, thi, &st, &zt);
        int same = 0, off = 0;
        for (int64_t i = 0; i < n; i++) {
            int c = (int)(i % C);
            double pc = nearbyint(sref[l][i] / sc[c] + oc[c]);
            pc = pc < 0 ? 0 : pc > 255 ? 255 : pc;
            int dc = abs((int)pc - code(sgot[l][i], st, zt));
            same += dc == 0;
            off = dc > off ? dc : off;
        }
        printf("LayerNorm %d: channel scales %.3g..%.3g; per-tensor codes of the new output "
               "equal the per-channel codes of the old for %d of %lld, at most %d apart\n", l,
               clo, chi, same, (long long)n, off);
        CHECK_TRUE(chi / clo > 3); /* the test means something: the channels differ */
        CHECK_TRUE(off <= 1);
        CHECK_TRUE(same >= n * 98 / 100);
    }
    ir_graph_free(g0);
    ir_graph_free(g1);

    /* without --repquant ln, or with a reader it cannot absorb, nothing changes */
    q.repquant = RQ_LOG2;
    Graph *g2 = build_ln();
    CHECK(0, ir_run_pass(g2, "shape", &ctx));
    CHECK(0, ir_run_pass(g2, "repquant", &ctx));
    ir_graph_free(g2);
    q.repquant = RQ_LN;
    Graph *g3 = build_ln();
    Value *lny = find_named(g3, "block/ln")->out[0];
    /* a reader it cannot fold into */
    output(g3, named_node(g3, "Relu", "block/other", 1, &lny)->out[0]);
    CHECK(0, ir_run_pass(g3, "shape", &ctx));
    Value *gamma = find_named(g3, "block/ln")->in[1], *gamma2 = find_named(g3, "head/ln")->in[1];
    CHECK(1, ir_run_pass(g3, "repquant", &ctx)); /* head/ln only */
    CHECK_TRUE(find_named(g3, "block/ln")->in[1] == gamma);
    CHECK_TRUE(find_named(g3, "head/ln")->in[1] != gamma2);
    ir_graph_free(g3);
}

/* ---- log2 Softmax ----
 * s [1,H,S,S] -> Softmax -> MatMul(P, V [1,H,S,D]) -> out; quantized with
 * --repquant log2, P reaches the MatMul as 2^-k, k = clamp(round(-log2 p),
 * 0, 15): the hand reference, bit for bit. Scores include -1e4 (a causal
 * mask): p = 0 there, code 15. */

enum { H = 2, S = 6, D = 3 };

static Graph *build_attn(void)
{
    Graph *g = graph_new(2, 1);
    Value *s = tensor(g, "scores", 4, DIMS(1, H, S, S)), *v = tensor(g, "v", 4, DIMS(1, H, S, D));
    s->is_input = v->is_input = 1;
    g->inputs[g->n_inputs++] = s;
    g->inputs[g->n_inputs++] = v;
    Node *sm = named_node(g, "Softmax", "attn/softmax", 1, &s);
    ir_set_attr_int(g, sm, "axis", -1);
    Value *m[2] = {sm->out[0], v};
    output(g, named_node(g, "MatMul", "attn/pv", 2, m)->out[0]);
    return g;
}

static void attn_sample(int k, float *s, float *v)
{
    fill(s, H * S * S, 600 + k);
    fill(v, H * S * D, 700 + k);
    for (int i = 0; i < H * S * S; i++) {
        int r = i / S % S, c = i % S;
        s[i] = c > r ? -1e4f : s[i] * 6; /* wide: probabilities from ~1 down to ~1e-5 */
    }
}

typedef struct Probs {
    const Value *p, *q;
    float pv[H * S * S], qv[H * S * S];
} Probs;

static void probs_obs(void *ctx, const Value *v, const void *data)
{
    Probs *p = ctx;
    if (v == p->p)
        memcpy(p->pv, data, sizeof p->pv);
    if (v == p->q)
        memcpy(p->qv, data, sizeof p->qv);
}

static void test_log2(const char *dir)
{
    for (int k = 0; k < 2; k++) {
        float s[H * S * S], v[H * S * D];
        attn_sample(k, s, v);
        char path[512];
        snprintf(path, sizeof path, "%s/a%d", dir, k);
        mkdir(path, 0755);
        RtTensor t = {{RT_F32, 4, {1, H, S, S}}, "scores", s, sizeof s};
        snprintf(path, sizeof path, "%s/a%d/input_0.pb", dir, k);
        CHECK(0, rt_tensor_write_pb(path, &t));
        t = (RtTensor){{RT_F32, 4, {1, H, S, D}}, "v", v, sizeof v};
        snprintf(path, sizeof path, "%s/a%d/input_1.pb", dir, k);
        CHECK(0, rt_tensor_write_pb(path, &t));
    }
    char cal[600];
    snprintf(cal, sizeof cal, "%s", dir);
    Diag d = {0};
    QuantOpts q = {.act = QA_INT8, .calib_method = CM_MINMAX, .calib_dir = cal,
                   .repquant = RQ_LOG2, .max_samples = 2};
    PassCtx ctx = {.d = &d, .verify = 1, .quant = &q};
    Graph *g = build_attn();
    static const char *const upto[] = {"shape", "fold", "noop", "recognize", "fuse",
                                       "repquant", "quantize"};
    int rc = 0;
    for (int i = 0; i < 7 && rc >= 0; i++)
        rc = ir_run_pass(g, upto[i], &ctx);
    CHECK_TRUE(rc >= 0);
    if (rc < 0) {
        fprintf(stderr, "%s\n", d.msg);
        ir_graph_free(g);
        return;
    }
    /* P goes through the log2 quantizer, V and the output through uniform pairs */
    CHECK(1, count_op(g, OP_POW));
    CHECK(2, count_op(g, OP_QUANTIZE_LINEAR));
    const Node *pv = find_named(g, "attn/pv");
    const Node *sm = find_named(g, "attn/softmax");
    CHECK_TRUE(pv && sm && pv->in[0]->producer && pv->in[0]->producer->op == OP_POW);
    Probs pr = {.p = sm->out[0], .q = pv->in[0]};
    int bad = 0, n = 0, masked = 0;
    for (int k = 0; k < 3; k++) {
        float s[H * S * S], v[H * S * D];
        attn_sample(k, s, v);
        RtTensor in[2] = {{{RT_F32, 4, {1, H, S, S}}, "scores", s, sizeof s},
                          {{RT_F32, 4, {1, H, S, D}}, "v", v, sizeof v}},
                 o;
        CHECK(0, ir_run_observe(g, in, &o, &d, probs_obs, &pr));
        rt_tensor_free(&o);
        for (int i = 0; i < H * S * S; i++) {
            double p = pr.pv[i], kk = p > 0 ? nearbyint(-log2(p)) : INFINITY;
            kk = kk < 0 ? 0 : kk > RQ_LOG2_KMAX ? RQ_LOG2_KMAX : kk;
            double want = ldexp(1, -(int)kk);
            int e;
            double frac = frexp(pr.qv[i], &e);
            bad += pr.qv[i] != want || frac != 0.5; /* a power of two, the right one */
            int r = i / S % S, c = i % S;
            masked += c > r && pr.qv[i] == ldexp(1, -RQ_LOG2_KMAX);
            n++;
        }
    }
    printf("log2 softmax: %d of %d probabilities differ from 2^-clamp(round(-log2 p), 0, 15); "
           "%d masked ones at 2^-15\n", bad, n, masked);
    /* masked: the -1e4 scores, which Softmax makes (about) 0 */
    CHECK(0, bad);
    CHECK(3 * H * S * (S - 1) / 2, masked);
    ir_graph_free(g);

    /* opset 10: the quantizer needs Round and Clip's inputs, refused with a message */
    g = build_attn();
    g->opsets[0].version = 10;
    rc = 0;
    for (int i = 0; i < 7 && rc >= 0; i++)
        rc = ir_run_pass(g, upto[i], &ctx);
    CHECK_TRUE(rc < 0);
    CHECK_STR_CONTAINS(d.msg, "opset 11");
    ir_graph_free(g);
}

/* ---- the trained transformer ----
 * examples/chartf at batch 1, calibrated on its sample window: the -O2
 * passes up to fuse, then repquant alone. Every LayerNorm (two per block
 * and the final one) is rewritten, and the logits do not move: within
 * 1e-5 of their spread. */
static void test_chartf(void)
{
    Sample smp = {.file = CHARTF "/samples/context_0.pb"};
    Diag d = {0};
    QuantOpts q = {.act = QA_INT8, .calib_method = CM_MINMAX,
                   .calib_dir = CHARTF "/samples", .repquant = RQ_LN};
    PassCtx ctx = {.d = &d, .verify = 1, .quant = &q};
    Graph *g[2];
    for (int i = 0; i < 2; i++) {
        g[i] = drv_prepare(CHARTF "/chartf.onnx", NULL, 0, &smp, 1, 0, &ctx);
        CHECK_TRUE(g[i] != NULL);
        if (!g[i]) {
            fprintf(stderr, "%s\n", d.msg);
            if (i)
                ir_graph_free(g[0]);
            return;
        }
        static const char *const upto[] = {"fold", "noop", "recognize", "fuse"};
        for (int k = 0; k < 4; k++)
            CHECK_TRUE(ir_run_pass(g[i], upto[k], &ctx) >= 0);
    }
    CHECK(5, ir_run_pass(g[1], "repquant", &ctx));
    RtTensor in;
    char msg[256];
    CHECK(0, rt_tensor_read(CHARTF "/samples/context_0.pb", &in, msg, sizeof msg));
    RtTensor o[2];
    memset(o, 0, sizeof o);
    for (int i = 0; i < 2; i++)
        CHECK(0, ir_run(g[i], &in, &o[i], &d));
    double worst = 0, lo = INFINITY, hi = -INFINITY;
    const float *a = o[0].data, *b = o[1].data;
    int64_t n = o[0].data && o[1].data ? ir_numel(g[0]->outputs[0]) : 0;
    for (int64_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs(a[i] - b[i]));
        lo = fmin(lo, a[i]);
        hi = fmax(hi, a[i]);
    }
    printf("chartf: LayerNorms reparameterized, logits (spread %.2f) max |diff| %.3g\n", hi - lo,
           worst);
    CHECK_TRUE(n == 97);
    CHECK_NEAR(0, worst, 1e-5 * (hi - lo));
    rt_tensor_free(&in);
    rt_tensor_free(&o[0]);
    rt_tensor_free(&o[1]);
    ir_graph_free(g[0]);
    ir_graph_free(g[1]);
}

int main(void)
{
    char dir[] = "/tmp/onnxcc_repquant_XXXXXX";
    CHECK_TRUE(mkdtemp(dir) != NULL);
    char ln_dir[64], attn_dir[64];
    snprintf(ln_dir, sizeof ln_dir, "%s/ln", dir);
    snprintf(attn_dir, sizeof attn_dir, "%s/attn", dir);
    mkdir(ln_dir, 0755);
    mkdir(attn_dir, 0755);
    test_ln(ln_dir);
    test_log2(attn_dir);
    test_chartf();
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(0, system(cmd));
    return CHECK_DONE();
}
