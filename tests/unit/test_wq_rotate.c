/* test_wq_rotate.c: --rotate hadamard on a small MLP: rotated layers compute what the float model does, and quantize after. */
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

static int count_live(const Graph *g, int op)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++)
        c += !g->nodes[k]->dead && g->nodes[k]->op == op;
    return c;
}

/* The MLP (Gemm fc1 K 64, MatMul fc2 K 96, Gemm fc3 K 40) compiled at
 * opt_level with q (NULL: float) and run on its input. */
static Graph *prepare(const QuantOpts *q, int opt_level, RtTensor *y)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1, .quant = q};
    Sample s = {NULL, MLP "/input_0.pb", 0, 0};
    Graph *g = drv_prepare(MLP "/model.onnx", NULL, 0, &s, 1, opt_level, &ctx);
    RtTensor in;
    char err[256];
    memset(y, 0, sizeof *y);
    if (!g || rt_tensor_read(MLP "/input_0.pb", &in, err, sizeof err)) {
        fprintf(stderr, "%s\n", d.msg);
        ir_graph_free(g);
        return NULL;
    }
    int rc = ir_run(g, &in, y, &d);
    rt_tensor_free(&in);
    if (rc) {
        fprintf(stderr, "%s\n", d.msg);
        ir_graph_free(g);
        return NULL;
    }
    return g;
}

/* max |a - b| over max(1, max |b|) */
static double max_err(const RtTensor *a, const RtTensor *b)
{
    double worst = 0, scale = 1;
    int64_t n = rt_numel(&a->desc);
    for (int64_t i = 0; i < n; i++) {
        double x = ((const float *)a->data)[i], yv = ((const float *)b->data)[i];
        worst = fmax(worst, fabs(x - yv));
        scale = fmax(scale, fabs(yv));
    }
    return worst / scale;
}

static double rel_err(const RtTensor *a, const RtTensor *b)
{
    double num = 0, den = 0;
    int64_t n = rt_numel(&a->desc);
    for (int64_t i = 0; i < n; i++) {
        double x = ((const float *)a->data)[i], yv = ((const float *)b->data)[i];
        num += (x - yv) * (x - yv);
        den += yv * yv;
    }
    return sqrt(num / den);
}

/* What the rotation is for: a weight matrix whose rows carry a few large
 * outliers loses less to int4 (group 32) once its rows are rotated in
 * blocks of 32: ||W H - Q(W H)|| < ||W - Q(W)|| (both in W's norm, H being
 * orthonormal). Outliers of 20x the rest, one per group: the group's scale
 * is set by the outlier and its other 31 weights round to a few levels. */
static void outliers(void)
{
    enum { N = 32, K = 128 };
    static float w[N * K], wr[N * K], dq[N * K];
    unsigned s = 5;
    for (int i = 0; i < N * K; i++) {
        s = s * 1103515245u + 12345u;
        w[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
        if (i % 32 == (i / K) % 32)
            w[i] *= 20.0f;
    }
    rt_fwht(w, wr, N * K, 32);
    double err[2];
    for (int r = 0; r < 2; r++) {
        const float *m = r ? wr : w;
        RtWqCodes c;
        Diag d = {0};
        CHECK(0, wq_quantize(m, N, K, RT_WQ_INT4, 32, QM_RTN, NULL, &c, &d));
        wq_dequant(&c, dq);
        wq_codes_free(&c);
        err[r] = 0;
        for (int i = 0; i < N * K; i++)
            err[r] += (double)(m[i] - dq[i]) * (m[i] - dq[i]);
    }
    printf("int4 error of a matrix with outliers: %.4f, rotated %.4f\n", sqrt(err[0]),
           sqrt(err[1]));
    CHECK_TRUE(err[1] < 0.5 * err[0]);
}

int main(void)
{
    outliers();

    RtTensor yf;
    Graph *gf = prepare(NULL, 1, &yf);
    CHECK_TRUE(gf != NULL);
    if (!gf)
        return CHECK_DONE();

    /* Rotation alone (no format): each layer whose K the block divides
     * reads Hadamard(x) and its rotated weight; the output is the float
     * model's to 1e-4 (H H = I; float32 rounding of two transforms). */
    static const struct { int block, rotated; } cases[] = {
        {8, 3}, {32, 2}, {64, 1}, {0, 2} /* 0: the group, 32 */, {128, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int opt = 1; opt <= 2; opt++) {
            QuantOpts q = {.rotate = 1, .rotate_block = cases[i].block};
            RtTensor y;
            Graph *g = prepare(&q, opt, &y);
            CHECK_TRUE(g != NULL);
            if (!g)
                continue;
            CHECK(cases[i].rotated, count_live(g, OP_HADAMARD));
            double e = max_err(&y, &yf);
            printf("rotation alone, block %3d, -O%d: %d layers rotated, max error %.2e\n",
                   cases[i].block, opt, count_live(g, OP_HADAMARD), e);
            CHECK_NEAR(0, e, 1e-4);
            rt_tensor_free(&y);
            ir_graph_free(g);
        }

    /* --keep-float leaves fc2 as it is */
    {
        QuantOpts q = {.rotate = 1, .rotate_block = 8, .keep_float = {"fc2"}, .n_keep_float = 1};
        RtTensor y;
        Graph *g = prepare(&q, 1, &y);
        CHECK_TRUE(g != NULL);
        if (g) {
            CHECK(2, count_live(g, OP_HADAMARD));
            CHECK_NEAR(0, max_err(&y, &yf), 1e-4);
            rt_tensor_free(&y);
            ir_graph_free(g);
        }
    }

    /* Then quantized: every layer is MatMulWQ of its rotated weights, the
     * Hadamard nodes stay, and int4's error against float stays within the
     * bound test_quantize_weights sets for int4 without rotation. */
    static const int fmts[] = {QW_INT4, QW_MXFP4, QW_NVFP4};
    for (int i = 0; i < 3; i++) {
        QuantOpts q = {.weights = fmts[i], .rotate = 1, .rotate_block = 8};
        QuantOpts q0 = {.weights = fmts[i]};
        RtTensor y, y0;
        Graph *g = prepare(&q, 2, &y), *g0 = prepare(&q0, 2, &y0);
        CHECK_TRUE(g && g0);
        if (g && g0) {
            CHECK(3, count_live(g, OP_MATMUL_WQ));
            CHECK(3, count_live(g, OP_HADAMARD));
            double e = rel_err(&y, &yf), e0 = rel_err(&y0, &yf);
            printf("%-6s relative error against float: rotated %.4f, not rotated %.4f\n",
                   rt_wq_name(fmts[i]), e, e0);
            CHECK_TRUE(e > 0 && e < 0.2 && e < 2 * e0);
        }
        if (g)
            rt_tensor_free(&y);
        if (g0)
            rt_tensor_free(&y0);
        ir_graph_free(g);
        ir_graph_free(g0);
    }
    rt_tensor_free(&yf);
    ir_graph_free(gf);
    return CHECK_DONE();
}
