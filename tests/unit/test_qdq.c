/* test_qdq.c: pass qdq's integer nodes (QConv, QMatMul) against the same graphs run as written (-O0). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ir_build.h"
#include "ir/ir.h"
#include "passes/passes.h"

static unsigned seed = 99;
static int rnd(int lo, int hi)
{
    seed = seed * 1103515245u + 12345u;
    return lo + (int)((seed >> 8) % (unsigned)(hi - lo + 1));
}

/* A constant of random integers in [lo, hi] (float32: scaled by `scale`). */
static Value *rand_const(Graph *g, int dt, int rank, const int64_t *dims, int lo, int hi,
                         double scale)
{
    Value *v = value(g, NULL, dt, rank, dims);
    void *p = ir_value_alloc_data(g, v);
    for (int64_t i = 0; i < ir_numel(v); i++)
        rt_store_f64(p, dt, i, dt == RT_F32 ? rnd(lo, hi) * scale : rnd(lo, hi));
    return v;
}

static Value *scalar(Graph *g, int dt, double x)
{
    Value *v = value(g, NULL, dt, 0, NULL);
    rt_store_f64(ir_value_alloc_data(g, v), dt, 0, x);
    return v;
}

static void attr_ints(Graph *g, Node *n, const char *name, int count, int64_t v)
{
    int64_t *p = ir_alloc(g, sizeof *p * (size_t)count);
    for (int i = 0; i < count; i++)
        p[i] = v;
    ir_add_attr(g, n, (Attr){.name = name, .type = AT_INTS, .n = count, .ints = p});
}

static Graph *new_graph(void)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0].domain = "";
    g->opsets[0].version = 17;
    g->n_opsets = 1;
    return g;
}

static void set_io(Graph *g, Value *in, Value *out)
{
    in->is_input = 1;
    g->inputs = malloc(sizeof *g->inputs);
    g->inputs[0] = in;
    g->n_inputs = 1;
    out->is_output = 1;
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[0] = out;
    g->n_outputs = 1;
}

static int count_live(const Graph *g, int op)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++)
        c += !g->nodes[k]->dead && g->nodes[k]->op == op;
    return c;
}

/* ---- the ONNX integer ops with constant weights ---- */

typedef struct ConvCase {
    int op;                      /* OP_QLINEAR_CONV or OP_CONV_INTEGER */
    int xdt, wdt;
    int64_t c, m, h, w, k, stride, pad, dil, group;
    int per_channel, bias;
} ConvCase;

static unsigned case_seed;

static Graph *conv_graph(const ConvCase *cc)
{
    seed = case_seed;
    Graph *g = new_graph();
    int64_t cg = cc->c / cc->group;
    Value *x = value(g, "x", cc->xdt, 4, (const int64_t[]){1, cc->c, cc->h, cc->w});
    int wlo = cc->wdt == RT_U8 ? 0 : -128, whi = cc->wdt == RT_U8 ? 255 : 127;
    int xlo = cc->xdt == RT_U8 ? 0 : -128, xhi = cc->xdt == RT_U8 ? 255 : 127;
    Value *w = rand_const(g, cc->wdt, 4, (const int64_t[]){cc->m, cg, cc->k, cc->k}, wlo, whi, 1);
    int64_t nq = cc->per_channel ? cc->m : 1;
    Value *xz = rand_const(g, cc->xdt, 0, NULL, xlo, xhi, 1);
    Value *wz = rand_const(g, cc->wdt, cc->per_channel, (const int64_t[]){nq}, wlo, whi, 1);
    Node *n;
    if (cc->op == OP_CONV_INTEGER) {
        Value *in[4] = {x, w, xz, wz};
        n = node1(g, "ConvInteger", 4, in);
    } else {
        Value *ws = rand_const(g, RT_F32, cc->per_channel, (const int64_t[]){nq}, 1, 100, 1e-4);
        Value *b = rand_const(g, RT_I32, 1, (const int64_t[]){cc->m}, -3000, 3000, 1);
        Value *in[9] = {x, scalar(g, RT_F32, 0.02), xz, w, ws, wz, scalar(g, RT_F32, 0.5),
                        scalar(g, RT_U8, 100), b};
        n = node1(g, "QLinearConv", cc->bias ? 9 : 8, in);
    }
    attr_ints(g, n, "strides", 2, cc->stride);
    attr_ints(g, n, "pads", 4, cc->pad);
    attr_ints(g, n, "dilations", 2, cc->dil);
    ir_set_attr_int(g, n, "group", cc->group);
    set_io(g, x, n->out[0]);
    return g;
}

/* Runs g1 as written (-O0) and g2 through the -O2 pipeline on input x;
 * returns the largest difference of their outputs (element type of the
 * output), -1 on failure; *lowered counts g2's QConv and QMatMul. */
static double run_both(Graph *g1, Graph *g2, const RtTensor *x, int *lowered)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    if (ir_run_pipeline(g1, 0, &ctx) || ir_run_pipeline(g2, 2, &ctx)) {
        fprintf(stderr, "%s\n", d.msg);
        return -1;
    }
    *lowered = count_live(g2, OP_QCONV) + count_live(g2, OP_QMATMUL);
    RtTensor o1, o2;
    memset(&o1, 0, sizeof o1);
    memset(&o2, 0, sizeof o2);
    double worst = -1;
    if (!ir_run(g1, x, &o1, &d) && !ir_run(g2, x, &o2, &d) && o1.nbytes == o2.nbytes &&
        o1.desc.dtype == o2.desc.dtype) {
        worst = 0;
        int64_t n = rt_numel(&o1.desc), varied = 0;
        for (int64_t i = 0; i < n; i++) {
            double a = rt_load_f64(o1.data, o1.desc.dtype, i);
            double b = rt_load_f64(o2.data, o2.desc.dtype, i);
            worst = fabs(a - b) > worst ? fabs(a - b) : worst;
            varied += a != rt_load_f64(o1.data, o1.desc.dtype, 0);
        }
        /* not a comparison of two saturated (constant) outputs */
        CHECK_TRUE(varied > n / 4);
        if (varied <= n / 4)
            fprintf(stderr, "only %lld of %lld outputs vary\n", (long long)varied, (long long)n);
    } else {
        fprintf(stderr, "run: %s\n", d.msg);
    }
    rt_tensor_free(&o1);
    rt_tensor_free(&o2);
    return worst;
}

static RtTensor rand_input(int dt, int rank, const int64_t *dims, void **buf)
{
    RtTensor t;
    memset(&t, 0, sizeof t);
    t.desc.dtype = dt;
    t.desc.rank = rank;
    for (int i = 0; i < rank; i++)
        t.desc.dims[i] = dims[i];
    int64_t n = rt_numel(&t.desc);
    t.nbytes = rt_dtype_bytes(dt, n);
    *buf = malloc(t.nbytes);
    for (int64_t i = 0; i < n; i++)
        rt_store_f64(*buf, dt, i, dt == RT_F32 ? rnd(-1000, 1000) * 2e-3 : dt == RT_U8 ? rnd(0, 255) : rnd(-128, 127));
    t.data = *buf;
    return t;
}

static void conv_case(const ConvCase *cc)
{
    case_seed = (unsigned)rnd(1, 1 << 30);
    Graph *g1 = conv_graph(cc), *g2 = conv_graph(cc);
    void *buf;
    RtTensor x = rand_input(cc->xdt, 4, (const int64_t[]){1, cc->c, cc->h, cc->w}, &buf);
    int lowered = 0;
    double worst = run_both(g1, g2, &x, &lowered);
    CHECK(1, lowered);
    /* int32 exact; requantized: the general kernel's double multiplier
     * against the GEMM's float32 one may round a half differently */
    if (worst < 0 || worst > (cc->op == OP_CONV_INTEGER ? 0 : 1))
        fprintf(stderr, "conv case c %lld m %lld k %lld s %lld group %lld: differs by %g\n",
                (long long)cc->c, (long long)cc->m, (long long)cc->k, (long long)cc->stride,
                (long long)cc->group, worst);
    CHECK_TRUE(worst >= 0 && worst <= (cc->op == OP_CONV_INTEGER ? 0 : 1));
    free(buf);
    ir_graph_free(g1);
    ir_graph_free(g2);
}

static void test_convs(void)
{
    enum { QL = OP_QLINEAR_CONV, CI = OP_CONV_INTEGER };
    const ConvCase cases[] = {
        /* op, x, w, C, M, H, W, k, stride, pad, dil, group, per-channel, bias */
        {QL, RT_U8, RT_I8, 8, 20, 7, 9, 3, 1, 1, 1, 1, 1, 1},
        {QL, RT_I8, RT_U8, 6, 10, 11, 10, 3, 2, 1, 1, 2, 1, 1},  /* groups, stride 2 */
        {QL, RT_U8, RT_U8, 12, 12, 9, 9, 3, 1, 1, 1, 12, 1, 0},  /* depthwise */
        {QL, RT_U8, RT_I8, 16, 9, 6, 7, 1, 1, 0, 1, 1, 0, 1},    /* 1x1 */
        {QL, RT_I8, RT_I8, 5, 7, 13, 12, 3, 3, 2, 2, 1, 1, 1},   /* stride 3, dilation 2 */
        {QL, RT_U8, RT_I8, 3, 8, 20, 20, 7, 2, 3, 1, 1, 1, 1},   /* a stem: 7x7 stride 2 */
        {CI, RT_U8, RT_U8, 4, 6, 5, 8, 3, 1, 1, 1, 1, 1, 0},
        {CI, RT_I8, RT_I8, 9, 3, 8, 5, 2, 1, 0, 1, 1, 0, 0},
        /* past the padded copy's stack buffer: the bounds-checked im2col */
        {QL, RT_U8, RT_I8, 17, 2, 250, 250, 3, 1, 1, 1, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        conv_case(&cases[i]);
}

/* QLinearMatMul [2, 5, K] x [K, N] (per-column scales) and MatMulInteger. */
static Graph *mm_graph(int op, int xdt, int wdt, int64_t k, int64_t n)
{
    seed = case_seed;
    Graph *g = new_graph();
    Value *x = value(g, "x", xdt, 3, (const int64_t[]){2, 5, k});
    int wlo = wdt == RT_U8 ? 0 : -128, whi = wdt == RT_U8 ? 255 : 127;
    int xlo = xdt == RT_U8 ? 0 : -128, xhi = xdt == RT_U8 ? 255 : 127;
    Value *w = rand_const(g, wdt, 2, (const int64_t[]){k, n}, wlo, whi, 1);
    Value *xz = rand_const(g, xdt, 0, NULL, xlo, xhi, 1);
    Value *wz = rand_const(g, wdt, 1, (const int64_t[]){n}, wlo, whi, 1);
    Node *nd;
    if (op == OP_MATMUL_INTEGER) {
        Value *in[4] = {x, w, xz, wz};
        nd = node1(g, "MatMulInteger", 4, in);
    } else {
        Value *ws = rand_const(g, RT_F32, 1, (const int64_t[]){n}, 1, 100, 1e-3);
        Value *in[8] = {x, scalar(g, RT_F32, 0.03), xz, w, ws, wz, scalar(g, RT_F32, 0.7),
                        scalar(g, RT_I8, -5)};
        nd = node1(g, "QLinearMatMul", 8, in);
    }
    set_io(g, x, nd->out[0]);
    return g;
}

static void test_matmuls(void)
{
    for (int t = 0; t < 4; t++) {
        int op = t < 2 ? OP_QLINEAR_MATMUL : OP_MATMUL_INTEGER;
        int xdt = t & 1 ? RT_I8 : RT_U8, wdt = t & 1 ? RT_U8 : RT_I8;
        case_seed = (unsigned)rnd(1, 1 << 30);
        Graph *g1 = mm_graph(op, xdt, wdt, 37, 19), *g2 = mm_graph(op, xdt, wdt, 37, 19);
        void *buf;
        RtTensor x = rand_input(xdt, 3, (const int64_t[]){2, 5, 37}, &buf);
        int lowered = 0;
        double worst = run_both(g1, g2, &x, &lowered);
        CHECK(1, lowered);
        CHECK_TRUE(worst >= 0 && worst <= (op == OP_MATMUL_INTEGER ? 0 : 1));
        free(buf);
        ir_graph_free(g1);
        ir_graph_free(g2);
    }
}

/* ---- a QDQ graph: x -> Q -> DQ -> Conv(DQ w) + bias -> Relu -> Q -> DQ ->
 * Flatten -> Q -> DQ -> Gemm(DQ w, transB) -> y (float) ---- */

enum { QC = 8, QM = 12, QH = 6, QW = 7, QN = 10 };
static const double XS = 0.01, YS = 0.05;

static Value *q_dq(Graph *g, Value *v, double s, int z, Value **q_out)
{
    Value *sv = scalar(g, RT_F32, s), *zv = scalar(g, RT_U8, z);
    Value *in[3] = {v, sv, zv};
    Value *q = node1(g, "QuantizeLinear", 3, in)->out[0];
    Value *in2[3] = {q, sv, zv};
    if (q_out)
        *q_out = q;
    return node1(g, "DequantizeLinear", 3, in2)->out[0];
}

/* int8 weights, per-channel (axis 0) scales, dequantized by a node fold evaluates. */
static Value *dq_weights(Graph *g, int rank, const int64_t *dims)
{
    Value *wq = rand_const(g, RT_I8, rank, dims, -127, 127, 1);
    Value *ws = rand_const(g, RT_F32, 1, dims, 1, 40, 1e-4);
    Value *in[2] = {wq, ws};
    Node *n = node1(g, "DequantizeLinear", 2, in);
    ir_set_attr_int(g, n, "axis", 0);
    return n->out[0];
}

static Graph *qdq_graph(int gemm_too)
{
    seed = case_seed;
    Graph *g = new_graph();
    Value *x = value(g, "x", RT_F32, 4, (const int64_t[]){1, QC, QH, QW});
    Value *xd = q_dq(g, x, XS, 128, NULL);
    Value *cin[3] = {xd, dq_weights(g, 4, (const int64_t[]){QM, QC, 3, 3}),
                     rand_const(g, RT_F32, 1, (const int64_t[]){QM}, -100, 100, 1e-3)};
    Node *conv = node1(g, "Conv", 3, cin);
    attr_ints(g, conv, "pads", 4, 1);
    Value *r = node1(g, "Relu", 1, &conv->out[0])->out[0];
    Value *rd = q_dq(g, r, YS, 0, NULL);
    Node *fl = node1(g, "Flatten", 1, &rd);
    Value *fd = q_dq(g, fl->out[0], YS, 0, NULL);
    if (!gemm_too) {
        set_io(g, x, fd);
        return g;
    }
    Value *gin[3] = {fd, dq_weights(g, 2, (const int64_t[]){QN, QM * QH * QW}),
                     rand_const(g, RT_F32, 1, (const int64_t[]){QN}, -100, 100, 1e-2)};
    Node *gemm = node1(g, "Gemm", 3, gin);
    ir_set_attr_int(g, gemm, "transB", 1);
    set_io(g, x, gemm->out[0]);
    return g;
}

static void test_qdq_graph(int gemm_too)
{
    case_seed = (unsigned)rnd(1, 1 << 30);
    Graph *g1 = qdq_graph(gemm_too), *g2 = qdq_graph(gemm_too);
    void *buf;
    RtTensor x = rand_input(RT_F32, 4, (const int64_t[]){1, QC, QH, QW}, &buf);
    int lowered = 0;
    double worst = run_both(g1, g2, &x, &lowered);
    CHECK(1 + gemm_too, lowered); /* the Conv (with its Relu) and the Gemm */
    CHECK(!gemm_too, count_live(g2, OP_DEQUANTIZE_LINEAR)); /* the output's */
    CHECK(1, count_live(g2, OP_QUANTIZE_LINEAR));           /* x's */
    CHECK(1, count_live(g2, OP_FLATTEN));
    /* the Conv's requantized output: within one quantization step (YS) */
    double bound = YS * 1.0001;
    /* through the Gemm: one step on one of its inputs (times a weight,
     * |w| <= 127 * 0.04) plus the bias rounded to the accumulator's unit */
    if (gemm_too)
        bound = YS * 127 * 0.004 + 0.5 * YS * 0.004;
    CHECK_TRUE(worst >= 0 && worst <= bound);
    printf("QDQ graph%s: largest difference %g (bound %g)\n", gemm_too ? " with Gemm" : "",
           worst, bound);
    free(buf);
    ir_graph_free(g1);
    ir_graph_free(g2);
}

/* A residual connection: Add(DQ(Q(x, s1)), DQ(Q(x, s2))) -> Relu -> Q -> DQ
 * becomes one QAdd (the two quantizations of x differ, as two branches'
 * would). */
static Graph *add_graph(void)
{
    Graph *g = new_graph();
    Value *x = value(g, "x", RT_F32, 4, (const int64_t[]){1, QC, QH, QW});
    Value *in[2] = {q_dq(g, x, XS, 128, NULL), q_dq(g, x, 3 * XS, 120, NULL)};
    Value *s = node1(g, "Add", 2, in)->out[0];
    Value *r = node1(g, "Relu", 1, &s)->out[0];
    set_io(g, x, q_dq(g, r, YS, 10, NULL));
    return g;
}

static void test_qadd(void)
{
    Graph *g1 = add_graph(), *g2 = add_graph();
    void *buf;
    RtTensor x = rand_input(RT_F32, 4, (const int64_t[]){1, QC, QH, QW}, &buf);
    int lowered = 0;
    double worst = run_both(g1, g2, &x, &lowered);
    CHECK(1, count_live(g2, OP_QADD));
    CHECK(0, count_live(g2, OP_ADD) + count_live(g2, OP_RELU));
    CHECK_TRUE(worst >= 0 && worst <= YS * 1.0001);
    printf("QAdd: largest difference %g (one step %g)\n", worst, YS);
    free(buf);
    ir_graph_free(g1);
    ir_graph_free(g2);
}

/* DQ -> MaxPool (3x3, stride 2, pad 1) -> Q -> DQ: with the Q's parameters
 * equal to the DQ's the pool runs on the uint8 codes (exact: the same
 * output bits); with another scale it stays float. */
static Graph *maxpool_graph(double ys)
{
    Graph *g = new_graph();
    Value *x = value(g, "x", RT_F32, 4, (const int64_t[]){1, QC, 2 * QH + 1, 2 * QW});
    Value *xd = q_dq(g, x, XS, 128, NULL);
    Node *mp = node1(g, "MaxPool", 1, &xd);
    attr_ints(g, mp, "kernel_shape", 2, 3);
    attr_ints(g, mp, "strides", 2, 2);
    attr_ints(g, mp, "pads", 4, 1);
    set_io(g, x, q_dq(g, mp->out[0], ys, 128, NULL));
    return g;
}

static void test_maxpool(void)
{
    for (int same = 1; same >= 0; same--) {
        double ys = same ? XS : 2 * XS;
        Graph *g1 = maxpool_graph(ys), *g2 = maxpool_graph(ys);
        void *buf;
        RtTensor x = rand_input(RT_F32, 4, (const int64_t[]){1, QC, 2 * QH + 1, 2 * QW}, &buf);
        int lowered = 0;
        double worst = run_both(g1, g2, &x, &lowered);
        CHECK(1, count_live(g2, OP_MAX_POOL));
        /* lowered: only the output's DequantizeLinear and x's QuantizeLinear remain */
        CHECK(same ? 1 : 2, count_live(g2, OP_DEQUANTIZE_LINEAR));
        CHECK(same ? 1 : 2, count_live(g2, OP_QUANTIZE_LINEAR));
        CHECK_TRUE(worst == 0);
        free(buf);
        ir_graph_free(g1);
        ir_graph_free(g2);
    }
}

/* DQ -> GlobalAveragePool -> Q -> DQ becomes onnxcc.QGlobalAveragePool on
 * the uint8 codes: within one output step of the float graph (the integer
 * sum is exact; the float one and the requantization may round a tie
 * apart). */
static Graph *gap_graph(void)
{
    Graph *g = new_graph();
    Value *x = value(g, "x", RT_F32, 4, (const int64_t[]){2, QC, QH, QW});
    Value *xd = q_dq(g, x, XS, 100, NULL);
    Node *gp = node1(g, "GlobalAveragePool", 1, &xd);
    set_io(g, x, q_dq(g, gp->out[0], XS / 4, 7, NULL));
    return g;
}

static void test_gap(void)
{
    Graph *g1 = gap_graph(), *g2 = gap_graph();
    void *buf;
    RtTensor x = rand_input(RT_F32, 4, (const int64_t[]){2, QC, QH, QW}, &buf);
    int lowered = 0;
    double worst = run_both(g1, g2, &x, &lowered);
    CHECK(1, count_live(g2, OP_QGLOBAL_AVERAGE_POOL));
    CHECK(0, count_live(g2, OP_GLOBAL_AVERAGE_POOL));
    CHECK(1, count_live(g2, OP_DEQUANTIZE_LINEAR)); /* the output's */
    CHECK_TRUE(worst >= 0 && worst <= XS / 4 * 1.0001);
    printf("QGlobalAveragePool: largest difference %g (one step %g)\n", worst, XS / 4);
    free(buf);
    ir_graph_free(g1);
    ir_graph_free(g2);
}

int main(void)
{
    test_convs();
    test_matmuls();
    test_qdq_graph(0);
    test_qdq_graph(1);
    test_qadd();
    test_maxpool();
    test_gap();
    return CHECK_DONE();
}
