/* test_wq_lowrank.c: HGF's low-rank correction: the fit against a slow SVD, and --lowrank on a small MLP. */
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

static double nrand(unsigned *s)
{
    double u = 0;
    for (int i = 0; i < 12; i++) { /* Irwin-Hall: near Gaussian, enough for test matrices */
        *s = *s * 1103515245u + 12345u;
        u += (double)((*s >> 8) & 0xffff) / 65536.0;
    }
    return u - 6.0;
}

/* The squared singular values of m (n x k, row-major), descending, by
 * one-sided Jacobi (Hestenes): rotate pairs of columns until all are
 * orthogonal; the squared column norms are then the answer. Slow and
 * simple: the reference the fast fit must meet. */
static void ref_sv2(const float *m, int n, int k, double *sv2)
{
    double *a = malloc(sizeof *a * (size_t)n * (size_t)k);
    for (int i = 0; i < n * k; i++)
        a[i] = m[i];
    for (int sweep = 0; sweep < 100; sweep++) {
        double worst = 0;
        for (int p = 0; p < k; p++)
            for (int q = p + 1; q < k; q++) {
                double al = 0, be = 0, ga = 0;
                for (int i = 0; i < n; i++) {
                    al += a[i * k + p] * a[i * k + p];
                    be += a[i * k + q] * a[i * k + q];
                    ga += a[i * k + p] * a[i * k + q];
                }
                if (al == 0 || be == 0)
                    continue;
                worst = fmax(worst, fabs(ga) / sqrt(al * be));
                if (fabs(ga) < 1e-300)
                    continue;
                double z = (be - al) / (2 * ga);
                double t = (z >= 0 ? 1 : -1) / (fabs(z) + sqrt(1 + z * z));
                double c = 1 / sqrt(1 + t * t), s = c * t;
                for (int i = 0; i < n; i++) {
                    double x = a[i * k + p], y = a[i * k + q];
                    a[i * k + p] = c * x - s * y;
                    a[i * k + q] = s * x + c * y;
                }
            }
        if (worst < 1e-13)
            break;
    }
    for (int j = 0; j < k; j++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += a[i * k + j] * a[i * k + j];
        sv2[j] = s;
    }
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++)
            if (sv2[j] > sv2[i]) {
                double t = sv2[i];
                sv2[i] = sv2[j];
                sv2[j] = t;
            }
    free(a);
}

/* ||r||^2 - ||r - a b||^2, computed directly in double. */
static double reduction(const float *r, const float *a, const float *b, int n, int k, int rank)
{
    double before = 0, after = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) {
            double ab = 0;
            for (int p = 0; p < rank; p++)
                ab += (double)a[i * rank + p] * b[p * k + j];
            before += (double)r[i * k + j] * r[i * k + j];
            after += (r[i * k + j] - ab) * (r[i * k + j] - ab);
        }
    return before - after;
}

/* The fit takes at least the energy of the top-r singular values (less a
 * 1e-4 share: the subspace iteration stops at a relative energy gain of
 * 1e-7 per step, and the factors are float32), and never more (to float
 * rounding): nothing of rank r can. */
static void check_fit(const char *what, const float *r, int n, int k)
{
    double *sv2 = malloc(sizeof *sv2 * (size_t)k);
    ref_sv2(r, n, k, sv2);
    int mn = n < k ? n : k;
    int ranks[] = {1, 4, 8, 16, mn};
    for (int t = 0; t < 5; t++) {
        int rank = ranks[t];
        float *a = malloc(sizeof *a * (size_t)(n * rank));
        float *b = malloc(sizeof *b * (size_t)(rank * k));
        CHECK(0, wq_lowrank_fit(r, n, k, rank, a, b));
        double top = 0, total = 0;
        for (int j = 0; j < k; j++) {
            total += sv2[j];
            if (j < rank)
                top += sv2[j];
        }
        double red = reduction(r, a, b, n, k, rank);
        printf("%-22s rank %2d: residual energy taken %.6f of %.6f, the top-%d singular "
               "values hold %.6f\n", what, rank, red, total, rank, top);
        CHECK_TRUE(red >= top * (1 - 1e-4));
        CHECK_TRUE(red <= top * (1 + 1e-5) + 1e-9 * total);
        free(a), free(b);
    }
    free(sv2);
}

static void fits(void)
{
    enum { N = 40, K = 56 };
    static float r[N * K];
    unsigned s = 11;
    /* a flat spectrum: iid noise, the hard case for subspace iteration */
    for (int i = 0; i < N * K; i++)
        r[i] = (float)nrand(&s);
    check_fit("noise", r, N, K);
    /* a decaying spectrum: sum of rank-1 terms with weights 1/j, plus noise */
    memset(r, 0, sizeof r);
    for (int j = 1; j <= 30; j++) {
        double u[N], v[K];
        for (int i = 0; i < N; i++)
            u[i] = nrand(&s);
        for (int i = 0; i < K; i++)
            v[i] = nrand(&s);
        for (int i = 0; i < N; i++)
            for (int c = 0; c < K; c++)
                r[i * K + c] += (float)(u[i] * v[c] / j);
    }
    for (int i = 0; i < N * K; i++)
        r[i] += 0.01f * (float)nrand(&s);
    check_fit("decaying + noise", r, N, K);
    /* the residual the pass fits: a weight matrix with outlier columns less
     * its ternary codes (and K < N: the fit's shapes the other way round) */
    static float w[K * N], dq[K * N];
    for (int i = 0; i < K; i++)
        for (int c = 0; c < N; c++)
            w[i * N + c] = (float)nrand(&s) * (c % 9 == 0 ? 4.0f : 1.0f);
    RtWqCodes codes;
    Diag d = {0};
    CHECK(0, wq_quantize(w, K, N, RT_WQ_TERNARY, 8, QM_RTN, NULL, &codes, &d));
    wq_dequant(&codes, dq);
    wq_codes_free(&codes);
    for (int i = 0; i < K * N; i++)
        dq[i] = w[i] - dq[i];
    check_fit("ternary residual", dq, K, N);
    /* nothing to fit: the factors are 0, not NaN */
    memset(r, 0, sizeof r);
    float a[N * 4], b[4 * K];
    CHECK(0, wq_lowrank_fit(r, N, K, 4, a, b));
    double mx = 0;
    for (int i = 0; i < N * 4; i++)
        mx = fmax(mx, fabs(a[i]) + (a[i] != a[i]));
    for (int i = 0; i < 4 * K; i++)
        mx = fmax(mx, fabs(b[i]) + (b[i] != b[i]));
    CHECK_NEAR(0, mx, 0);
}

static int count_live(const Graph *g, int op)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++)
        c += !g->nodes[k]->dead && g->nodes[k]->op == op;
    return c;
}

/* The MLP compiled at opt_level with q (NULL: float), run on its input. */
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

/* --lowrank on the MLP (MatMul, Gemm transB, Gemm with alpha 0.5 and beta
 * 2): every layer gets two MatMul and an Add; the output's error against
 * float falls as the rank grows, and at full rank (every layer's
 * min(N, K)) the correction restores W: float32 to 1e-4. */
static void graph(void)
{
    RtTensor yf;
    Graph *gf = prepare(NULL, 1, &yf);
    CHECK_TRUE(gf != NULL);
    if (!gf)
        return;
    for (int fmt = QW_TERNARY; fmt <= QW_MXFP4; fmt += QW_MXFP4 - QW_TERNARY) {
        double prev = 1e9;
        int ranks[] = {0, 2, 8, 1024};
        for (int t = 0; t < 4; t++)
            for (int opt = 1; opt <= 2; opt++) {
                QuantOpts q = {.weights = fmt, .lowrank = ranks[t]};
                RtTensor y;
                Graph *g = prepare(&q, opt, &y);
                CHECK_TRUE(g != NULL);
                if (!g)
                    continue;
                CHECK(3, count_live(g, OP_MATMUL_WQ));
                if (opt == 1) {
                    CHECK(ranks[t] ? 6 : 0, count_live(g, OP_MATMUL));
                    CHECK(ranks[t] ? 4 : 1, count_live(g, OP_ADD)); /* + add2 */
                }
                double e = rel_err(&y, &yf);
                printf("%-8s rank %4d -O%d: relative error against float %.6f\n",
                       rt_wq_name(fmt), ranks[t], opt, e);
                if (ranks[t] == 1024)
                    CHECK_NEAR(0, e, 1e-4);
                else
                    CHECK_TRUE(e > 1e-3);
                if (opt == 1) {
                    CHECK_TRUE(e < prev);
                    prev = e;
                }
                rt_tensor_free(&y);
                ir_graph_free(g);
            }
    }
    rt_tensor_free(&yf);
    ir_graph_free(gf);
}

int main(void)
{
    fits();
    graph();
    return CHECK_DONE();
}
