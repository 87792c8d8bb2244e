/* test_quantize_weights.c: --quantize-weights on an MLP and a CNN: nodes replaced, outputs. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "driver.h"
#include "ir/ir.h"
#include "passes/passes.h"
#include "passes/wq_methods.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif

#define MLP ONNXCC_SOURCE_DIR "/tests/data/wq_mlp"
#define DIGITS ONNXCC_SOURCE_DIR "/examples/digits"

static int count_live(const Graph *g, int op)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++)
        c += !g->nodes[k]->dead && g->nodes[k]->op == op;
    return c;
}

/* The model compiled at -O1 with q (NULL: float), run on the input file. */
static Graph *prepare_on(const QuantOpts *q, Diag *d, RtTensor *y, const char *input)
{
    PassCtx ctx = {.d = d, .verify = 1, .quant = q};
    Sample s = {NULL, MLP "/input_0.pb", 0, 0};
    Graph *g = drv_prepare(MLP "/model.onnx", NULL, 0, &s, 1, 1, &ctx);
    RtTensor in;
    char err[256];
    memset(y, 0, sizeof *y);
    if (!g || rt_tensor_read(input, &in, err, sizeof err)) {
        ir_graph_free(g);
        return NULL;
    }
    int rc = ir_run(g, &in, y, d);
    rt_tensor_free(&in);
    if (rc) {
        ir_graph_free(g);
        return NULL;
    }
    return g;
}

static Graph *prepare(const QuantOpts *q, Diag *d, RtTensor *y)
{
    return prepare_on(q, d, y, MLP "/input_0.pb");
}

/* w (rows x cols, row-major) as the N x K matrix its layer multiplies by. */
static float *as_nk(const Value *v, int trans)
{
    int64_t r = v->dims[0], c = v->dims[1];
    float *w = calloc((size_t)(r * c), sizeof *w);
    IR_ASSERT(w);
    const float *src = v->data;
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < c; j++) {
            if (trans)
                w[j * r + i] = src[i * c + j];
            else
                w[i * c + j] = src[i * c + j];
        }
    return w;
}

/* out[m][n] = act(alpha * sum_k in[m][k] * wq[n][k] + beta * b[n]), the
 * weights quantized as the pass does (wq_quantize, wq_dequant), in double. */
static void layer(const double *in, int64_t m, const Value *w, int trans, const Value *b,
                  double alpha, double beta, int relu, int fmt, double *out, int64_t *n_out)
{
    float *nk = as_nk(w, trans);
    int64_t n = trans ? w->dims[1] : w->dims[0], k = trans ? w->dims[0] : w->dims[1];
    RtWqCodes c;
    Diag d = {0};
    CHECK(0, wq_quantize(nk, n, k, fmt, 0, QM_RTN, NULL, &c, &d));
    wq_dequant(&c, nk);
    wq_codes_free(&c);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t q = 0; q < k; q++)
                s += in[i * k + q] * nk[j * k + q];
            s = alpha * s + beta * ((const float *)b->data)[j];
            out[i * n + j] = relu && s < 0 ? 0 : s;
        }
    free(nk);
    *n_out = n;
}

/* The MLP of make_wq_mlp.py with every weight quantized to fmt. */
static void reference(const Graph *gf, int fmt, double *y)
{
    Graph *g = (Graph *)gf;
    RtTensor in;
    char err[256];
    CHECK(0, rt_tensor_read(MLP "/input_0.pb", &in, err, sizeof err));
    double x[4 * 64], h1[4 * 96], h2[4 * 40];
    for (int i = 0; i < 4 * 64; i++)
        x[i] = ((const float *)in.data)[i];
    rt_tensor_free(&in);
    int64_t n;
    layer(x, 4, ir_value_find(g, "w1"), 0, ir_value_find(g, "b1"), 1, 1, 1, fmt, h1, &n);
    layer(h1, 4, ir_value_find(g, "w2"), 1, ir_value_find(g, "b2"), 1, 1, 1, fmt, h2, &n);
    layer(h2, 4, ir_value_find(g, "w3"), 1, ir_value_find(g, "c3"), 0.5, 2, 0, fmt, y, &n);
}

static double rel_err(const RtTensor *a, const RtTensor *b)
{
    double num = 0, den = 0;
    for (int i = 0; i < 40; i++) {
        double x = ((const float *)a->data)[i], yv = ((const float *)b->data)[i];
        num += (x - yv) * (x - yv);
        den += yv * yv;
    }
    return sqrt(num / den);
}

/* ---- Conv: examples/digits (Conv 1->16 3x3, Conv 16->32 3x3, Gemm 128->10) ---- */

/* digits compiled at -O opt with q (NULL: float). */
static Graph *digits(const QuantOpts *q, int opt, Diag *d)
{
    PassCtx ctx = {.d = d, .verify = 1, .quant = q};
    Graph *g = drv_prepare(DIGITS "/digits.onnx", NULL, 0, NULL, 0, opt, &ctx);
    if (!g)
        fprintf(stderr, "%s\n", d->msg);
    return g;
}

/* Image i of a [n, 1, 8, 8] batch as a tensor of its own (data borrowed). */
static RtTensor image(const RtTensor *all, int64_t i)
{
    RtTensor t = *all;
    t.desc.dims[0] = 1;
    t.data = (float *)all->data + i * 64;
    t.nbytes = 64 * sizeof(float);
    return t;
}

/* The logits of g for image x (10 floats into y); 0 on success. */
static int logits(Graph *g, const RtTensor *x, float *y)
{
    RtTensor out;
    Diag d = {0};
    memset(&out, 0, sizeof out);
    int rc = ir_run(g, x, &out, &d);
    if (!rc)
        memcpy(y, out.data, 10 * sizeof *y);
    rt_tensor_free(&out);
    return rc;
}

/* Every Conv and Gemm weight of the float graph g replaced by what the pass
 * makes of it (RTN, fmt, default group): its codes decoded again. */
static void dequantize_weights(Graph *g, int fmt)
{
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (n->dead || (n->op != OP_CONV && n->op != OP_GEMM))
            continue;
        Value *w = n->in[1];
        int trans = n->op == OP_GEMM && n->ints[RT_GEMM_TRANS_B];
        int64_t rows = w->dims[0], k_ = ir_numel(w) / rows;
        if (n->op == OP_CONV && w->dims[1] == 1)
            continue; /* one input channel: left float by the pass */
        float *nk = n->op == OP_CONV || trans ? malloc(sizeof *nk * (size_t)(rows * k_))
                                              : as_nk(w, 0);
        int64_t nn = n->op == OP_GEMM && !trans ? w->dims[1] : rows, kk = ir_numel(w) / nn;
        if (n->op == OP_CONV || trans)
            memcpy(nk, w->data, sizeof *nk * (size_t)(rows * k_));
        else
            for (int64_t i = 0; i < kk; i++) /* [K, N] to N x K */
                for (int64_t j = 0; j < nn; j++)
                    nk[j * kk + i] = ((const float *)w->data)[i * nn + j];
        RtWqCodes c;
        Diag d = {0};
        CHECK(0, wq_quantize(nk, nn, kk, fmt, 0, QM_RTN, NULL, &c, &d));
        wq_dequant(&c, nk);
        wq_codes_free(&c);
        float *dst = w->data;
        for (int64_t j = 0; j < nn; j++)
            for (int64_t i = 0; i < kk; i++)
                dst[n->op == OP_CONV || trans ? j * kk + i : i * nn + j] = nk[j * kk + i];
        free(nk);
    }
}

static void check_digits(void)
{
    Diag d = {0};
    RtTensor all, cal;
    char err[256];
    CHECK(0, rt_tensor_read(DIGITS "/heldout.pb", &all, err, sizeof err));
    CHECK(0, rt_tensor_read(DIGITS "/calib.pb", &cal, err, sizeof err));
    FILE *lf = fopen(DIGITS "/heldout_labels.txt", "r");
    CHECK_TRUE(lf != NULL);
    int labels[450], nl = 0;
    while (lf && nl < 450 && fscanf(lf, "%d", &labels[nl]) == 1)
        nl++;
    if (lf)
        fclose(lf);
    CHECK(450, nl);
    CHECK(450, all.desc.dims[0]);
    Graph *gf = digits(NULL, 2, &d);
    CHECK_TRUE(gf != NULL);
    if (!gf || nl != 450 || all.desc.dims[0] != 450)
        return;
    static float yf[450][10];
    int correct_f = 0;
    for (int i = 0; i < 450; i++) {
        RtTensor x = image(&all, i);
        CHECK(0, logits(gf, &x, yf[i]));
        int best = 0;
        for (int j = 1; j < 10; j++)
            best = yf[i][j] > yf[i][best] ? j : best;
        correct_f += best == labels[i];
    }

    /* int8 and int4, at -O1 (Conv becomes ConvWQ) and -O2 (FusedConv with
     * its Relu does): the second Conv (16 -> 32, K = 144) and the Gemm are
     * quantized, the first (one input channel, K = 9) stays float. Outputs:
     * those of the float model with the same weights decoded (tolerance: a
     * float32 Conv in another summation order, 1e-4 of logits of ~10);
     * top-1 on the 450 held-out images within 1 point (int8) and 2 points
     * (int4) of float's. */
    static const struct { int fmt; int drop; } fmts[] = {{QW_INT8, 1}, {QW_INT4, 2}};
    for (size_t f = 0; f < 2; f++)
        for (int opt = 1; opt <= 2; opt++) {
            QuantOpts q = {.weights = fmts[f].fmt};
            Diag dq = {0}, dr = {0};
            Graph *g = digits(&q, opt, &dq), *r = digits(NULL, 1, &dr);
            CHECK_TRUE(g && r);
            if (!g || !r) {
                ir_graph_free(g);
                ir_graph_free(r);
                continue;
            }
            CHECK(1, count_live(g, OP_CONV_WQ));
            CHECK(1, count_live(g, OP_CONV) + count_live(g, OP_FUSED_CONV));
            CHECK(1, count_live(g, OP_MATMUL_WQ));
            for (int k = 0; opt == 2 && k < g->n_nodes; k++)
                if (!g->nodes[k]->dead && g->nodes[k]->op == OP_CONV_WQ)
                    CHECK_TRUE(!strcmp(ir_attr_str(g->nodes[k], "activation", ""), "Relu"));
            dequantize_weights(r, fmts[f].fmt);
            int correct = 0;
            double worst = 0;
            for (int i = 0; i < 450; i++) {
                RtTensor x = image(&all, i);
                float y[10], yr[10];
                CHECK(0, logits(g, &x, y));
                if (i < 20) {
                    CHECK(0, logits(r, &x, yr));
                    for (int j = 0; j < 10; j++)
                        worst = fmax(worst, fabs(y[j] - yr[j]));
                }
                int best = 0;
                for (int j = 1; j < 10; j++)
                    best = y[j] > y[best] ? j : best;
                correct += best == labels[i];
            }
            printf("digits %s -O%d: top-1 %d/450 (float %d), worst logit change against the "
                   "decoded weights' float model %.2g\n", rt_wq_name(fmts[f].fmt), opt, correct,
                   correct_f, worst);
            CHECK_NEAR(0, worst, 1e-4);
            CHECK_TRUE(correct * 100 >= (correct_f - 450 * fmts[f].drop / 100) * 100);
            ir_graph_free(g);
            ir_graph_free(r);
        }

    /* GPTQ on the Conv alone (the Gemm kept float): its Hessian comes from
     * the im2col'ed input, so at 2 bits it must beat round-to-nearest on
     * the calibration images' logits (in sum over the 64), which a Hessian
     * of misordered columns would not. */
    char dir[] = "/tmp/onnxcc_wq_digits_XXXXXX";
    CHECK_TRUE(mkdtemp(dir) != NULL);
    for (int64_t i = 0; i < cal.desc.dims[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/s%02d.pb", dir, (int)i);
        RtTensor x = image(&cal, i);
        CHECK(0, rt_tensor_write_pb(path, &x));
    }
    QuantOpts qg = {.weights = QW_INT2, .method = QM_GPTQ, .calib_dir = dir,
                    .keep_float = {"*Gemm*"}, .n_keep_float = 1};
    QuantOpts qr = {.weights = QW_INT2, .keep_float = {"*Gemm*"}, .n_keep_float = 1};
    Diag dg = {0}, dr = {0};
    Graph *g = digits(&qg, 2, &dg), *r = digits(&qr, 2, &dr);
    CHECK_TRUE(g && r);
    if (g && r) {
        CHECK(1, count_live(g, OP_CONV_WQ));
        CHECK(0, count_live(g, OP_MATMUL_WQ));
        double eg = 0, er = 0;
        for (int64_t i = 0; i < cal.desc.dims[0]; i++) {
            RtTensor x = image(&cal, i);
            float y0[10], y1[10], y2[10];
            CHECK(0, logits(gf, &x, y0));
            CHECK(0, logits(g, &x, y1));
            CHECK(0, logits(r, &x, y2));
            for (int j = 0; j < 10; j++) {
                eg += (y1[j] - y0[j]) * (y1[j] - y0[j]);
                er += (y2[j] - y0[j]) * (y2[j] - y0[j]);
            }
        }
        printf("digits int2, Conv only, on the calibration images: gptq %.4f, rtn %.4f "
               "(squared logit error)\n", eg, er);
        CHECK_TRUE(eg < er);
    }
    for (int64_t i = 0; i < cal.desc.dims[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/s%02d.pb", dir, (int)i);
        remove(path);
    }
    remove(dir);
    ir_graph_free(g);
    ir_graph_free(r);
    ir_graph_free(gf);
    rt_tensor_free(&all);
    rt_tensor_free(&cal);
}

int main(void)
{
    check_digits();

    Diag d = {0};
    RtTensor yf;
    Graph *gf = prepare(NULL, &d, &yf);
    CHECK_TRUE(gf != NULL);
    if (!gf) {
        fprintf(stderr, "%s\n", d.msg);
        return CHECK_DONE();
    }
    CHECK(0, count_live(gf, OP_MATMUL_WQ));

    /* Every format the quantizer has: all three layers become MatMulWQ; the
     * outputs are those of the MLP with the quantized weights (tolerance:
     * float32 against double over K <= 96, 1e-4 of the output's scale),
     * and their distance to float grows as bits go down, within a bound
     * per format (relative RMS of the logits). */
    static const struct { int fmt; double bound; } fmts[] = {
        {QW_INT8, 0.01}, {QW_INT4, 0.10}, {QW_INT3, 0.25}, {QW_INT2, 0.8},
    };
    double prev = 0;
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        QuantOpts q = {.weights = fmts[i].fmt};
        RtTensor yq;
        Diag dq = {0};
        Graph *g = prepare(&q, &dq, &yq);
        CHECK_TRUE(g != NULL);
        if (!g) {
            fprintf(stderr, "%s\n", dq.msg);
            continue;
        }
        CHECK(3, count_live(g, OP_MATMUL_WQ));
        CHECK(0, count_live(g, OP_GEMM) + count_live(g, OP_MATMUL));
        double ref[40], worst = 0;
        reference(gf, fmts[i].fmt, ref);
        for (int j = 0; j < 40; j++)
            worst = fmax(worst, fabs(((float *)yq.data)[j] - ref[j]));
        CHECK_NEAR(0, worst, 1e-4);
        double e = rel_err(&yq, &yf);
        printf("%-5s relative error against float: %.4f\n", rt_wq_name(fmts[i].fmt), e);
        CHECK_TRUE(e > 0 && e < fmts[i].bound);
        CHECK_TRUE(e > prev);
        prev = e;
        rt_tensor_free(&yq);
        ir_graph_free(g);
    }

    /* --keep-float leaves the matching node in float */
    {
        QuantOpts q = {.weights = QW_INT4, .keep_float = {"fc[23]"}, .n_keep_float = 1};
        RtTensor yq;
        Graph *g = prepare(&q, &d, &yq);
        CHECK_TRUE(g != NULL);
        if (g) {
            CHECK(1, count_live(g, OP_MATMUL_WQ));
            CHECK(1, count_live(g, OP_MATMUL));
            CHECK(1, count_live(g, OP_GEMM));
            CHECK_TRUE(rel_err(&yq, &yf) < 0.10);
            rt_tensor_free(&yq);
            ir_graph_free(g);
        }
    }

    /* GPTQ: the layers' inputs are calibrated first (fc1's is the graph's
     * input). With 16 calibration rows against 64..96 inputs per layer, GPTQ
     * fits the calibration data's subspace: it must beat round-to-nearest
     * there (on a calibration sample), whatever it does elsewhere. */
    {
        const char *cal = MLP "/calib/sample_0/input_0.pb";
        QuantOpts qg = {.weights = QW_INT4, .method = QM_GPTQ, .calib_dir = MLP "/calib"};
        QuantOpts qr = {.weights = QW_INT4};
        RtTensor yg, yr, yc;
        Diag dg = {0}, dr = {0}, dc = {0};
        Graph *g = prepare_on(&qg, &dg, &yg, cal);
        Graph *r = prepare_on(&qr, &dr, &yr, cal);
        Graph *c = prepare_on(NULL, &dc, &yc, cal);
        CHECK_TRUE(g && r && c);
        if (g && r && c) {
            CHECK(3, count_live(g, OP_MATMUL_WQ));
            double eg = rel_err(&yg, &yc), er = rel_err(&yr, &yc);
            printf("int4 on a calibration sample: gptq %.4f, rtn %.4f\n", eg, er);
            CHECK_TRUE(eg < er);
        }
        if (g)
            rt_tensor_free(&yg);
        if (r)
            rt_tensor_free(&yr);
        if (c)
            rt_tensor_free(&yc);
        ir_graph_free(g);
        ir_graph_free(r);
        ir_graph_free(c);
    }

    /* the built binary computes what the interpreter does */
    const char *bin = getenv("ONNXCC_BIN");
    CHECK_TRUE(bin != NULL);
    if (bin) {
        QuantOpts q = {.weights = QW_INT4};
        RtTensor yq, yb;
        Graph *g = prepare(&q, &d, &yq);
        char cmd[2048], err[256];
        snprintf(cmd, sizeof cmd, "rm -rf wq_mlp_out && %s build %s/model.onnx --quantize-weights "
                 "int4 -o wq_mlp_bin && ./wq_mlp_bin %s/input_0.pb --out wq_mlp_out", bin, MLP,
                 MLP);
        CHECK(0, system(cmd));
        CHECK(0, rt_tensor_read("wq_mlp_out/output_0.pb", &yb, err, sizeof err));
        double worst = 0;
        for (int j = 0; j < 40 && yb.data; j++)
            worst = fmax(worst, fabs(((float *)yq.data)[j] - ((float *)yb.data)[j]));
        CHECK_NEAR(0, worst, 1e-5);
        rt_tensor_free(&yq);
        rt_tensor_free(&yb);
        ir_graph_free(g);
    }
    rt_tensor_free(&yf);
    ir_graph_free(gf);
    return CHECK_DONE();
}
