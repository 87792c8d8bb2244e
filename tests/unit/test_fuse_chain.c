/* test_fuse_chain.c: EwChain fusion and LayerNorm/Gelu recognition rewrite their graphs as expected and give the unfused graph's results. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ir/ir.h"
#include "passes/passes.h"
#include "runtime/onnxcc_rt_kernels.h"

#define DIMS(...) (int64_t[]){__VA_ARGS__}

static Graph *new_graph(void)
{
    Graph *g = ir_graph_new(NULL);
    g->inputs = calloc(8, sizeof *g->inputs);
    g->outputs = calloc(4, sizeof *g->outputs);
    g->opsets[0].domain = "";
    g->opsets[0].version = 13;
    g->n_opsets = 1;
    return g;
}

static Value *input(Graph *g, int rank, const int64_t *dims)
{
    Value *v = ir_value_new(g, NULL);
    v->is_input = 1;
    v->dtype = RT_F32;
    v->rank = rank;
    memcpy(v->dims, dims, sizeof(int64_t) * (size_t)rank);
    g->inputs[g->n_inputs++] = v;
    return v;
}

static Value *cst(Graph *g, float x)
{
    Value *v = ir_value_new(g, NULL);
    v->is_initializer = 1;
    v->dtype = RT_F32;
    v->rank = 0;
    *(float *)ir_value_alloc_data(g, v) = x;
    return v;
}

static Value *op1(Graph *g, const char *type, Value *a)
{
    return ir_add_node(g, type, 0, NULL, 1, &a, NULL)->out[0];
}

static Value *op2(Graph *g, const char *type, Value *a, Value *b)
{
    return ir_add_node(g, type, 0, NULL, 2, (Value *[]){a, b}, NULL)->out[0];
}

static Value *clip(Graph *g, Value *x, float lo, float hi)
{
    return ir_add_node(g, "Clip", 0, NULL, 3, (Value *[]){x, cst(g, lo), cst(g, hi)}, NULL)
        ->out[0];
}

static void output(Graph *g, Value *v)
{
    v->is_output = 1;
    g->outputs[g->n_outputs++] = v;
}

/* The test graphs; each is built twice, for -O1 (no fusion) and -O2. */
enum { G_SWISH, G_SE_GATE, G_HARD_SWISH, G_GELU, G_GELU2, G_MISC, G_OUT_READ, G_SMALL_VEC,
       G_LN, G_LN_BARE, G_LN_SHARED, G_GELU_TANH, G_GELU_TANH_POW, G_COUNT };

static void set_ints(Graph *g, Node *n, const char *name, int64_t v)
{
    Attr *a = ir_alloc(g, sizeof *a * (size_t)(n->n_attrs + 1));
    if (n->n_attrs)
        memcpy(a, n->attrs, sizeof *a * (size_t)n->n_attrs);
    int64_t *p = ir_alloc(g, sizeof *p);
    *p = v;
    a[n->n_attrs] = (Attr){.name = name, .type = AT_INTS, .n = 1, .ints = p};
    n->attrs = a;
    n->n_attrs++;
}

static Value *mean_last(Graph *g, Value *x)
{
    Node *n = ir_add_node(g, "ReduceMean", 0, NULL, 1, &x, NULL);
    set_ints(g, n, "axes", -1);
    return n->out[0];
}

static Value *vec(Graph *g, int64_t d, float base)
{
    Value *v = ir_value_new(g, NULL);
    v->is_initializer = 1;
    v->dtype = RT_F32;
    v->rank = 1;
    v->dims[0] = d;
    float *p = ir_value_alloc_data(g, v);
    for (int64_t i = 0; i < d; i++)
        p[i] = base + 0.1f * (float)i;
    return v;
}

/* torch's LayerNorm below opset 17; square: 0 Pow 2, 1 d * d */
static Value *layernorm(Graph *g, Value *x, int square, int affine)
{
    Value *d = op2(g, "Sub", x, mean_last(g, x));
    Value *sq = square ? op2(g, "Mul", d, d) : op2(g, "Pow", d, cst(g, 2));
    Value *y = op2(g, "Div", d, op1(g, "Sqrt", op2(g, "Add", mean_last(g, sq), cst(g, 1e-5f))));
    if (affine)
        y = op2(g, "Add", op2(g, "Mul", y, vec(g, x->dims[x->rank - 1], 0.5f)),
                vec(g, x->dims[x->rank - 1], -0.3f));
    return y;
}

static Graph *build(int which)
{
    Graph *g = new_graph();
    Value *x = input(g, 4, DIMS(2, 8, 5, 7)), *y;
    switch (which) {
    case G_SWISH: /* x * Sigmoid(x) */
        y = op2(g, "Mul", x, op1(g, "Sigmoid", x));
        break;
    case G_SE_GATE: { /* squeeze-excite: x * Sigmoid(s[N,C,1,1]), then Add and Clip */
        Value *s = input(g, 4, DIMS(2, 8, 1, 1));
        y = clip(g, op2(g, "Add", op2(g, "Mul", x, op1(g, "Sigmoid", s)), cst(g, 0.5f)), 0, 6);
        break;
    }
    case G_HARD_SWISH: /* x * Clip(x + 3, 0, 6) / 6 */
        y = op2(g, "Mul", x, op2(g, "Div", clip(g, op2(g, "Add", x, cst(g, 3)), 0, 6),
                                 cst(g, 6)));
        break;
    case G_GELU: /* x * 0.5 * (1 + Erf(x / sqrt 2)) as torch exports it */
        y = op2(g, "Mul",
                op2(g, "Mul", x,
                    op2(g, "Add", op1(g, "Erf", op2(g, "Div", x, cst(g, 1.41421356f))),
                        cst(g, 1))),
                cst(g, 0.5f));
        break;
    case G_GELU2: /* (x * 0.5) * (1 + Erf(x * 1/sqrt 2)), then a residual Add */
        y = op2(g, "Add",
                op2(g, "Mul", op2(g, "Mul", x, cst(g, 0.5f)),
                    op2(g, "Add", cst(g, 1), op1(g, "Erf", op2(g, "Mul", x, cst(g, 0.70710678f))))),
                x);
        break;
    case G_GELU_TANH: /* as torch writes gelu(approximate='tanh') below opset 20 */
    case G_GELU_TANH_POW: {
        Value *cube = which == G_GELU_TANH ? op2(g, "Mul", x, op2(g, "Mul", x, x))
                                           : op2(g, "Pow", x, cst(g, 3));
        Value *u = op2(g, "Add", x, op2(g, "Mul", cst(g, 0.044715f), cube));
        Value *t = op1(g, "Tanh", op2(g, "Mul", cst(g, 0.7978845608f), u));
        y = op2(g, "Mul", cst(g, 0.5f), op2(g, "Mul", x, op2(g, "Add", cst(g, 1), t)));
        break;
    }
    case G_LN:
        y = layernorm(g, x, 0, 1);
        break;
    case G_LN_BARE:
        y = layernorm(g, x, 1, 0);
        break;
    case G_LN_SHARED: { /* the centred values are also an output: not a LayerNorm */
        Value *d = op2(g, "Sub", x, mean_last(g, x));
        output(g, d);
        y = op2(g, "Div", d, op1(g, "Sqrt", op2(g, "Add", mean_last(g, op2(g, "Mul", d, d)),
                                                  cst(g, 1e-5f))));
        break;
    }
    case G_MISC: { /* Pow 2, Sub, Tanh, PRelu with a per-channel slope, Neg */
        Value *slope = input(g, 3, DIMS(8, 1, 1));
        y = op1(g, "Neg", op2(g, "PRelu", op1(g, "Tanh", op2(g, "Sub", op2(g, "Pow", x,
                                                                             cst(g, 2)),
                                                             x)),
                              slope));
        break;
    }
    case G_OUT_READ: { /* t is a graph output too: it must be written, so nothing fuses */
        Value *t = op1(g, "Relu", x);
        output(g, t);
        y = op2(g, "Mul", t, cst(g, 2));
        break;
    }
    default: { /* Sigmoid of a [7] vector would be recomputed per row: not absorbed */
        Value *b = input(g, 1, DIMS(7));
        y = op2(g, "Mul", x, op1(g, "Sigmoid", b));
        break;
    }
    }
    output(g, y);
    return g;
}

static int count_live(const Graph *g, int op)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++)
        c += !g->nodes[k]->dead && g->nodes[k]->op == op;
    return c;
}

static const Node *find_live(const Graph *g, int op)
{
    for (int k = 0; k < g->n_nodes; k++)
        if (!g->nodes[k]->dead && g->nodes[k]->op == op)
            return g->nodes[k];
    return NULL;
}

/* Random inputs in [-4, 4], the same for both graphs. */
static void make_inputs(const Graph *g, RtTensor *in)
{
    srand(7);
    for (int i = 0; i < g->n_inputs; i++) {
        memset(&in[i], 0, sizeof in[i]);
        ir_desc(g->inputs[i], &in[i].desc);
        in[i].nbytes = ir_nbytes(g->inputs[i]);
        in[i].data = malloc(in[i].nbytes);
        for (size_t k = 0; k < in[i].nbytes / 4; k++)
            ((float *)in[i].data)[k] = 8.0f * (float)rand() / (float)RAND_MAX - 4.0f;
    }
}

/* Runs graph `which` at -O1 and -O2; returns the largest difference between
 * their outputs relative to max(1, |reference|), and the -O2 graph. */
static double compare(int which, Graph **fused)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    Graph *g1 = build(which), *g2 = build(which);
    double worst = INFINITY;
    RtTensor in[8], o1[4], o2[4];
    if (ir_run_pipeline(g1, 1, &ctx) < 0 || ir_run_pipeline(g2, 2, &ctx) < 0) {
        fprintf(stderr, "graph %d: %s\n", which, d.msg);
        *fused = g2;
        ir_graph_free(g1);
        return worst;
    }
    make_inputs(g1, in);
    if (ir_run(g1, in, o1, &d) == 0 && ir_run(g2, in, o2, &d) == 0) {
        worst = 0;
        for (int k = 0; k < g1->n_outputs; k++)
            for (size_t i = 0; i < o1[k].nbytes / 4; i++) {
                double r = ((float *)o1[k].data)[i], f = ((float *)o2[k].data)[i];
                double e = fabs(r - f) / (fabs(r) > 1 ? fabs(r) : 1);
                worst = e > worst ? e : worst;
            }
    } else {
        fprintf(stderr, "graph %d: %s\n", which, d.msg);
    }
    for (int k = 0; k < g1->n_outputs; k++) {
        rt_tensor_free(&o1[k]);
        rt_tensor_free(&o2[k]);
    }
    for (int i = 0; i < g1->n_inputs; i++)
        free(in[i].data);
    ir_graph_free(g1);
    *fused = g2;
    return worst;
}

static void test_pass(void)
{
    /* graph, EwChain nodes expected and the ops of the first one, Gelu and
     * LayerNormalization nodes expected */
    static const struct {
        int which, chains, ops_in_chain, gelus, lns;
    } cases[] = {
        {G_SWISH, 1, 2, 0, 0},     {G_SE_GATE, 1, 4, 0, 0},  {G_HARD_SWISH, 1, 4, 0, 0},
        {G_GELU, 0, 0, 1, 0},      {G_GELU2, 1, 2, 0, 0},    {G_MISC, 1, 5, 0, 0},
        {G_OUT_READ, 0, 0, 0, 0},  {G_SMALL_VEC, 0, 0, 0, 0}, {G_LN, 0, 0, 0, 1},
        {G_LN_BARE, 0, 0, 0, 1},   {G_LN_SHARED, 1, 3, 0, 0},  {G_GELU_TANH, 0, 0, 1, 0},
        {G_GELU_TANH_POW, 0, 0, 1, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Graph *g;
        double diff = compare(cases[c].which, &g);
        /* the chain runs the same float32 math per element; LayerNormalization
         * and Gelu round differently from their decomposed forms */
        CHECK_NEAR(0, diff, cases[c].lns || cases[c].gelus ? 1e-5 : 1e-6);
        CHECK(cases[c].chains, count_live(g, OP_EW_CHAIN));
        CHECK(cases[c].gelus, count_live(g, OP_GELU));
        CHECK(cases[c].lns, count_live(g, OP_LAYER_NORMALIZATION));
        const Node *n = find_live(g, OP_EW_CHAIN);
        if (cases[c].chains) {
            CHECK_TRUE(n != NULL);
            if (n) {
                CHECK(cases[c].ops_in_chain, n->ints[RT_CHAIN_NOPS]);
                CHECK_TRUE(ir_attr(n, "fused_from") != NULL);
            }
        } else {
            CHECK_TRUE(n == NULL);
        }
        /* a rewritten graph keeps none of the ops it replaced */
        if (cases[c].lns)
            CHECK(0, count_live(g, OP_REDUCE_MEAN) + count_live(g, OP_SQRT) +
                         count_live(g, OP_DIV));
        if (cases[c].gelus)
            CHECK(0, count_live(g, OP_ERF) + count_live(g, OP_MUL) + count_live(g, OP_ADD) +
                         count_live(g, OP_TANH) + count_live(g, OP_POW));
        if (cases[c].chains)
            CHECK(0, count_live(g, OP_SIGMOID) + count_live(g, OP_CLIP) + count_live(g, OP_TANH) +
                         count_live(g, OP_SQRT) + count_live(g, OP_GELU));
        if (cases[c].which == G_OUT_READ || cases[c].which == G_SMALL_VEC)
            CHECK(1, count_live(g, OP_MUL));
        /* the shared centred values keep their ReduceMeans */
        if (cases[c].which == G_LN_SHARED)
            CHECK(2, count_live(g, OP_REDUCE_MEAN));
        ir_graph_free(g);
    }
    /* inspect names what the chain was made of */
    Graph *g;
    compare(G_SWISH, &g);
    const Attr *a = ir_attr(find_live(g, OP_EW_CHAIN), "fused_from");
    CHECK_TRUE(a && a->type == AT_STRING);
    if (a) {
        CHECK_STR_CONTAINS(a->s, "Sigmoid");
        CHECK_STR_CONTAINS(a->s, "Mul");
    }
    /* Node.fused_from, what inspect and --diff read: the one node it absorbed */
    const Node *chain = find_live(g, OP_EW_CHAIN), *sig = NULL;
    for (int k = 0; k < g->n_nodes; k++)
        if (g->nodes[k]->dead && g->nodes[k]->op == OP_SIGMOID)
            sig = g->nodes[k];
    CHECK_TRUE(chain && sig && chain->fused_from && !strcmp(chain->fused_from, sig->name));
    ir_graph_free(g);
}

/* ---- the kernel alone, against double arithmetic ---- */

static int64_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static int run_chain(const RtTensorDesc *din, int n_in, const void *const *in,
                     const RtTensorDesc *dout, float *out, const int64_t *prog, int n_ops)
{
    int64_t ints[1 + RT_CHAIN_MAX_OPS * RT_CHAIN_OP_INTS];
    ints[0] = n_ops;
    memcpy(ints + 1, prog, sizeof(int64_t) * (size_t)(n_ops * RT_CHAIN_OP_INTS));
    RtCall c = {n_in, 1, din, dout, 1 + n_ops * RT_CHAIN_OP_INTS, 0, ints, NULL};
    void *o[1] = {out};
    return rt_ew_chain(&c, in, o);
}

static RtTensorDesc desc(int rank, const int64_t *dims)
{
    RtTensorDesc d;
    memset(&d, 0, sizeof d);
    d.dtype = RT_F32;
    d.rank = rank;
    if (rank)
        memcpy(d.dims, dims, sizeof(int64_t) * (size_t)rank);
    return d;
}

static void test_kernel(void)
{
    /* y = Clip(x * Sigmoid(s) + b, -1, 0.75) with x [3, 5, 300] (rows longer
     * than a block), s [3, 5, 1] (one value per row), b [300] */
    enum { N = 3 * 5 * 300 };
    static float x[N], s[15], b[300], y[N];
    for (int i = 0; i < N; i++)
        x[i] = sinf((float)i * 0.37f) * 3;
    for (int i = 0; i < 15; i++)
        s[i] = (float)i - 7;
    for (int i = 0; i < 300; i++)
        b[i] = cosf((float)i) * 0.5f;
    RtTensorDesc din[3] = {desc(3, DIMS(3, 5, 300)), desc(3, DIMS(3, 5, 1)), desc(1, DIMS(300))};
    RtTensorDesc dout = din[0];
    const void *in[3] = {x, s, b};
    int64_t prog[] = {
        RT_CHAIN_UN, RT_UN_SIGMOID, 1, 0, 0, 0,          /* r3 = Sigmoid(s) */
        RT_CHAIN_BIN, RT_BIN_MUL, 0, 3, 0, 0,            /* r4 = x * r3 */
        RT_CHAIN_BIN, RT_BIN_ADD, 4, 2, 0, 0,            /* r5 = r4 + b */
        RT_CHAIN_CLIP, 0, 5, 0, fbits(-1), fbits(0.75f), /* y = Clip(r5) */
    };
    CHECK(RT_OK, run_chain(din, 3, in, &dout, y, prog, 4));
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double r = x[i] / (1 + exp(-(double)s[i / 300])) + b[i % 300];
        r = r < -1 ? -1 : r > 0.75 ? 0.75 : r;
        double e = fabs(y[i] - r);
        worst = e > worst ? e : worst;
    }
    /* float32 rounding of three operations and the fast exp */
    CHECK_NEAR(0, worst, 1e-6);

    /* x * Sigmoid(x) and x * HardSigmoid(x) run as one gate loop; a Sigmoid
     * read again later does not, and both must match double arithmetic */
    RtTensorDesc dx = desc(1, DIMS(N));
    const void *inx[1] = {x};
    int64_t swish[] = {RT_CHAIN_UN, RT_UN_SIGMOID, 0, 0, 0, 0, RT_CHAIN_BIN, RT_BIN_MUL, 1, 0, 0, 0};
    int64_t hswish[] = {RT_CHAIN_UN, RT_UN_HARD_SIGMOID, 0, 0, fbits(1.0f / 6), fbits(0.5f),
                        RT_CHAIN_BIN, RT_BIN_MUL, 0, 1, 0, 0};
    int64_t reuse[] = {RT_CHAIN_UN, RT_UN_SIGMOID, 0, 0, 0, 0, RT_CHAIN_BIN, RT_BIN_MUL, 0, 1, 0, 0,
                       RT_CHAIN_BIN, RT_BIN_ADD, 2, 1, 0, 0};
    const int64_t *progs[3] = {swish, hswish, reuse};
    int n_ops[3] = {2, 2, 3};
    for (int k = 0; k < 3; k++) {
        CHECK(RT_OK, run_chain(&dx, 1, inx, &dx, y, progs[k], n_ops[k]));
        worst = 0;
        for (int i = 0; i < N; i++) {
            double v = x[i], sg = 1 / (1 + exp(-v)), hs = v / 6 + 0.5;
            hs = hs < 0 ? 0 : hs > 1 ? 1 : hs;
            double r = k == 0 ? v * sg : k == 1 ? v * hs : v * sg + sg;
            double e = fabs(y[i] - r) / (fabs(r) > 1 ? fabs(r) : 1);
            worst = e > worst ? e : worst;
        }
        CHECK_NEAR(0, worst, 1e-6);
    }

    /* a scalar output: every operand is one value */
    float two = 2, three = 3, r;
    RtTensorDesc ds = desc(0, NULL);
    RtTensorDesc dss[2] = {ds, ds};
    const void *ins[2] = {&two, &three};
    int64_t pow_prog[] = {RT_CHAIN_BIN, RT_BIN_POW, 0, 1, 0, 0};
    CHECK(RT_OK, run_chain(dss, 2, ins, &ds, &r, pow_prog, 1));
    CHECK_NEAR(8, r, 0);

    /* a register read before it is written is refused */
    int64_t bad[] = {RT_CHAIN_UN, RT_UN_RELU, 2, 0, 0, 0};
    CHECK(RT_EINVAL, run_chain(dss, 2, ins, &ds, &r, bad, 1));
    int64_t bad_kind[] = {7, RT_UN_RELU, 0, 0, 0, 0};
    CHECK(RT_EINVAL, run_chain(dss, 2, ins, &ds, &r, bad_kind, 1));
}

int main(void)
{
    test_kernel();
    test_pass();
    return CHECK_DONE();
}
