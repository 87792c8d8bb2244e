/* test_fuse.c: Conv fusions and weight packing happen where they should and change no result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fill.h"
#include "ir_build.h"
#include "driver.h"
#include "ir/ir.h"
#include "passes/passes.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif

#define TESTDATA "/usr/share/libonnx-testdata/data"
#define DIMS4(...) ((const int64_t[]){__VA_ARGS__})

static int count_live(const Graph *g, int op)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++)
        c += !g->nodes[k]->dead && g->nodes[k]->op == op;
    return c;
}

/* Runs model on its sample at -O1 (no fusion) and -O2; returns the largest
 * difference between the two outputs, and the fused/unfused node counts. */
static double compare(const char *model, const char *input, int *fused, int *acts)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    double worst = INFINITY;
    Sample s1 = {NULL, input, 0, 0}, s2 = {NULL, input, 0, 0};
    Graph *g1 = drv_prepare(model, NULL, 0, &s1, 1, 1, &ctx);
    Graph *g2 = drv_prepare(model, NULL, 0, &s2, 1, 2, &ctx);
    RtTensor in;
    char err[256];
    if (!g1 || !g2 || rt_tensor_read(input, &in, err, sizeof err)) {
        fprintf(stderr, "%s\n", d.msg);
        ir_graph_free(g1);
        ir_graph_free(g2);
        return worst;
    }
    *fused = count_live(g2, OP_FUSED_CONV);
    *acts = count_live(g2, OP_RELU) + count_live(g2, OP_CLIP);
    RtTensor o1, o2;
    if (ir_run(g1, &in, &o1, &d) == 0 && ir_run(g2, &in, &o2, &d) == 0 &&
        o1.nbytes == o2.nbytes && o1.desc.dtype == RT_F32) {
        worst = 0;
        for (size_t i = 0; i < o1.nbytes / 4; i++) {
            double diff = fabs(((float *)o1.data)[i] - ((float *)o2.data)[i]);
            worst = diff > worst ? diff : worst;
        }
    }
    rt_tensor_free(&o1);
    rt_tensor_free(&o2);
    rt_tensor_free(&in);
    ir_graph_free(g1);
    ir_graph_free(g2);
    return worst;
}

/* ---- graphs built in place: X [1, C, H, W] -> Conv -> (the tail under test) ---- */

enum { C_IN = 8, C_OUT = 20, H = 7, W = 9 };

static Value *constant(Graph *g, int rank, const int64_t *dims, unsigned seed, float lo)
{
    Value *v = tensor(g, NULL, rank, dims);
    float *p = ir_value_alloc_data(g, v);
    fill(p, ir_numel(v), seed);
    for (int64_t i = 0; lo > 0 && i < ir_numel(v); i++) /* e.g. a positive variance */
        p[i] = lo + p[i] * p[i];
    return v;
}

static void add_input(Graph *g, Value *v)
{
    v->is_input = 1;
    g->inputs = realloc(g->inputs, sizeof *g->inputs * (size_t)(g->n_inputs + 1));
    g->inputs[g->n_inputs++] = v;
}

static Node *node(Graph *g, const char *op, int n_in, Value *const *in, Value *out)
{
    Node *n = ir_node_new(g, op, "", NULL, n_in, 1);
    for (int i = 0; i < n_in; i++)
        ir_set_input(g, n, i, in[i]);
    if (!out)
        out = ir_value_new(g, NULL);
    n->out[0] = out;
    out->producer = n;
    return n;
}

static void attr_float(Graph *g, Node *n, const char *name, float f)
{
    Attr *a = ir_alloc(g, sizeof *a * (size_t)(n->n_attrs + 1));
    if (n->n_attrs)
        memcpy(a, n->attrs, sizeof *a * (size_t)n->n_attrs);
    a[n->n_attrs++] = (Attr){.name = name, .type = AT_FLOAT, .f = f};
    n->attrs = a;
}

static void attr_ints(Graph *g, Node *n, const char *name, int count, int64_t v)
{
    Attr *a = ir_alloc(g, sizeof *a * (size_t)(n->n_attrs + 1));
    if (n->n_attrs)
        memcpy(a, n->attrs, sizeof *a * (size_t)n->n_attrs);
    int64_t *p = ir_alloc(g, sizeof *p * (size_t)count);
    for (int i = 0; i < count; i++)
        p[i] = v;
    a[n->n_attrs++] = (Attr){.name = name, .type = AT_INTS, .n = count, .ints = p};
    n->attrs = a;
}

static Value *conv(Graph *g, Value *x, unsigned seed)
{
    Value *in[3] = {x, constant(g, 4, DIMS4(C_OUT, C_IN, 3, 3), seed, 0),
                    constant(g, 1, DIMS4(C_OUT), seed + 1, 0)};
    Node *n = node(g, "Conv", 3, in, NULL);
    attr_ints(g, n, "pads", 4, 1);
    return n->out[0];
}

/* The tails: what follows the Conv. */
enum { T_BN_ADD_RELU, T_LEAKY, T_HSIGMOID, T_HSWISH, T_SWISH, T_ADD_LATE, T_BROADCAST_ADD,
       T_OUTPUT, T_SE_HSIGMOID, T_SE_SIGMOID, T_SE_3X3, T_PREACT, T_PREACT_3X3, T_COUNT };

/* A 1x1 Conv of x (c channels) to m channels. */
static Value *conv1x1(Graph *g, Value *x, int64_t c, int64_t m, unsigned seed)
{
    Value *in[3] = {x, constant(g, 4, DIMS4(m, c, 1, 1), seed, 0),
                    constant(g, 1, DIMS4(m), seed + 1, 0)};
    return node(g, "Conv", 3, in, NULL)->out[0];
}

/* A squeeze-excite block on y (C_OUT channels): GlobalAveragePool, 1x1
 * Conv to 4 channels, Relu, 1x1 Conv back, the gate (HardSigmoid as
 * MobileNetV3, Sigmoid as EfficientNet), the Mul (gate second when
 * swap), then the projection: 1x1 to C_IN channels (k3: 3x3, which keeps
 * its Mul). */
static Value *se_block(Graph *g, Value *y, int hard, int swap, int k3)
{
    Value *p = node(g, "GlobalAveragePool", 1, &y, NULL)->out[0];
    Value *r = conv1x1(g, p, C_OUT, 4, 50);
    r = node(g, "Relu", 1, &r, NULL)->out[0];
    Value *e = conv1x1(g, r, 4, C_OUT, 52);
    Node *gate = node(g, hard ? "HardSigmoid" : "Sigmoid", 1, &e, NULL);
    if (hard)
        attr_float(g, gate, "alpha", 1.0f / 6);
    Value *m[2] = {gate->out[0], y};
    if (swap) {
        m[0] = y;
        m[1] = gate->out[0];
    }
    Value *sy = node(g, "Mul", 2, m, NULL)->out[0];
    if (!k3)
        return conv1x1(g, sy, C_OUT, C_IN, 54);
    Value *in[3] = {sy, constant(g, 4, DIMS4(C_IN, C_OUT, 3, 3), 56, 0),
                    constant(g, 1, DIMS4(C_IN), 57, 0)};
    Node *n = node(g, "Conv", 3, in, NULL);
    attr_ints(g, n, "pads", 4, 1);
    return n->out[0];
}

static Graph *build(int tail)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0].domain = "";
    g->opsets[0].version = 17;
    g->n_opsets = 1;
    Value *x = tensor(g, "x", 4, DIMS4(1, C_IN, H, W));
    add_input(g, x);
    Value *y = conv(g, x, 10), *out = NULL;
    switch (tail) {
    case T_BN_ADD_RELU: {
        Value *s = tensor(g, "skip", 4, DIMS4(1, C_OUT, H, W));
        add_input(g, s);
        Value *bn[5] = {y, constant(g, 1, DIMS4(C_OUT), 20, 0),
                        constant(g, 1, DIMS4(C_OUT), 21, 0), constant(g, 1, DIMS4(C_OUT), 22, 0),
                        constant(g, 1, DIMS4(C_OUT), 23, 0.5f)};
        y = node(g, "BatchNormalization", 5, bn, NULL)->out[0];
        Value *sum[2] = {s, y}; /* the conv second: either order fuses */
        y = node(g, "Add", 2, sum, NULL)->out[0];
        out = node(g, "Relu", 1, &y, NULL)->out[0];
        break;
    }
    case T_LEAKY: {
        Node *n = node(g, "LeakyRelu", 1, &y, NULL);
        attr_float(g, n, "alpha", 0.15f);
        out = n->out[0];
        break;
    }
    case T_HSIGMOID: {
        Node *n = node(g, "HardSigmoid", 1, &y, NULL);
        attr_float(g, n, "alpha", 0.3f);
        out = n->out[0];
        break;
    }
    case T_HSWISH:
        out = node(g, "HardSwish", 1, &y, NULL)->out[0];
        break;
    case T_SWISH: {
        Value *sg = node(g, "Sigmoid", 1, &y, NULL)->out[0];
        Value *m[2] = {sg, y};
        out = node(g, "Mul", 2, m, NULL)->out[0];
        break;
    }
    case T_ADD_LATE: {
        /* the residual comes from a Conv scheduled after the first one */
        Value *z = conv(g, x, 30);
        Value *sum[2] = {y, z};
        y = node(g, "Add", 2, sum, NULL)->out[0];
        out = node(g, "Relu", 1, &y, NULL)->out[0];
        break;
    }
    case T_BROADCAST_ADD: { /* a per-channel Add is not a sum input */
        Value *sum[2] = {y, constant(g, 4, DIMS4(1, C_OUT, 1, 1), 40, 0)};
        out = node(g, "Add", 2, sum, NULL)->out[0];
        break;
    }
    case T_SE_HSIGMOID:
        out = se_block(g, y, 1, 0, 0);
        break;
    case T_SE_SIGMOID:
        out = se_block(g, y, 0, 1, 0);
        break;
    case T_SE_3X3:
        out = se_block(g, y, 1, 0, 1);
        break;
    case T_PREACT:
    case T_PREACT_3X3: { /* Sigmoid (no activation of the Conv's), BN, Relu, a Conv */
        Value *sg = node(g, "Sigmoid", 1, &y, NULL)->out[0];
        Value *bn[5] = {sg, constant(g, 1, DIMS4(C_OUT), 60, 0),
                        constant(g, 1, DIMS4(C_OUT), 61, 0), constant(g, 1, DIMS4(C_OUT), 62, 0),
                        constant(g, 1, DIMS4(C_OUT), 63, 0.5f)};
        Value *b = node(g, "BatchNormalization", 5, bn, NULL)->out[0];
        Value *r = node(g, "Relu", 1, &b, NULL)->out[0];
        if (tail == T_PREACT) {
            out = conv1x1(g, r, C_OUT, C_IN, 64);
        } else {
            Value *in[2] = {r, constant(g, 4, DIMS4(C_IN, C_OUT, 3, 3), 65, 0)};
            Node *n = node(g, "Conv", 2, in, NULL);
            attr_ints(g, n, "pads", 4, 1);
            out = n->out[0];
        }
        break;
    }
    case T_OUTPUT: { /* the Conv's output is read elsewhere too: nothing fuses */
        y->is_output = 1;
        g->outputs = malloc(sizeof *g->outputs * 2);
        g->outputs[g->n_outputs++] = y;
        out = node(g, "Relu", 1, &y, NULL)->out[0];
        break;
    }
    }
    out->is_output = 1;
    g->outputs = realloc(g->outputs, sizeof *g->outputs * (size_t)(g->n_outputs + 1));
    g->outputs[g->n_outputs++] = out;
    return g;
}

/* Builds the tail at -O1 and at -O2 (gemm_mr: also packs for the linked
 * runtime's tile), checks what remains, and compares the outputs. */
static void fused_case(int tail, int pack, int want_fused, int want_left)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    Graph *g1 = build(tail), *g2 = build(tail);
    int ok1 = ir_run_pipeline(g1, 1, &ctx) == 0;
    if (pack)
        rt_gemm_tile(&ctx.gemm_mr, &ctx.gemm_nr);
    int ok2 = ir_run_pipeline(g2, 2, &ctx) == 0;
    CHECK_TRUE(ok1 && ok2);
    if (!ok1 || !ok2) {
        fprintf(stderr, "tail %d: %s\n", tail, d.msg);
        return;
    }
    int left = 0, packed = 0;
    for (int k = 0; k < g2->n_nodes; k++) {
        const Node *n = g2->nodes[k];
        if (n->dead || ir_node_is_constant(n))
            continue;
        left += n->op != OP_CONV && n->op != OP_FUSED_CONV;
        if (n->op == OP_CONV || n->op == OP_FUSED_CONV) {
            int nsp = (int)n->ints[RT_CONV_NSP];
            packed += n->n_ints > RT_CONV_PACK(nsp) && n->ints[RT_CONV_PACK(nsp)] > 0;
        }
    }
    CHECK(want_fused, count_live(g2, OP_FUSED_CONV));
    CHECK(want_left, left);
    /* a squeeze-excite Mul folds into its 1x1 projection as the channel scale */
    int scaled = 0;
    for (int k = 0; k < g2->n_nodes; k++)
        scaled += !g2->nodes[k]->dead && g2->nodes[k]->op == OP_FUSED_CONV &&
                  ir_input(g2->nodes[k], 4) != NULL;
    CHECK(tail == T_SE_HSIGMOID || tail == T_SE_SIGMOID || tail == T_PREACT, scaled);
    /* a BN + Relu before a pointwise Conv: its scale and shift */
    int shifted = 0;
    for (int k = 0; k < g2->n_nodes; k++)
        shifted += !g2->nodes[k]->dead && g2->nodes[k]->op == OP_FUSED_CONV &&
                   ir_input(g2->nodes[k], 5) != NULL;
    CHECK(tail == T_PREACT, shifted);
    CHECK(tail == T_PREACT_3X3, count_live(g2, OP_BATCH_NORMALIZATION));
    CHECK(tail == T_SE_3X3, count_live(g2, OP_MUL));
    CHECK(pack ? count_live(g2, OP_FUSED_CONV) + count_live(g2, OP_CONV) : 0, packed);
    /* Node.fused_from (inspect): -O2 differs from -O1 only by fusion here, so
     * every node -O1 keeps is live at -O2 or named once as absorbed, and
     * each absorbed name is a dead node's */
    int live1 = 0, live2 = 0, absorbed = 0, dead_named = 0;
    for (int k = 0; k < g1->n_nodes; k++)
        live1 += !g1->nodes[k]->dead;
    for (int k = 0; k < g2->n_nodes; k++) {
        const Node *n = g2->nodes[k];
        live2 += !n->dead;
        for (const char *s = n->dead ? NULL : n->fused_from; s; s = strchr(s, ',')) {
            s += *s == ',';
            absorbed++;
            for (int j = 0; j < g2->n_nodes; j++) {
                size_t len = strlen(g2->nodes[j]->name);
                dead_named += g2->nodes[j]->dead && !strncmp(s, g2->nodes[j]->name, len) &&
                              (s[len] == ',' || !s[len]);
            }
        }
    }
    CHECK_TRUE(want_fused == 0 || absorbed > 0);
    CHECK(live1, live2 + absorbed);
    CHECK(absorbed, dead_named);
    RtTensor in[2], o1[2], o2[2];
    float xs[C_IN * H * W], ss[C_OUT * H * W];
    fill(xs, C_IN * H * W, 1);
    fill(ss, C_OUT * H * W, 2);
    in[0] = (RtTensor){{RT_F32, 4, {1, C_IN, H, W}}, "x", xs, sizeof xs};
    in[1] = (RtTensor){{RT_F32, 4, {1, C_OUT, H, W}}, "skip", ss, sizeof ss};
    memset(o1, 0, sizeof o1);
    memset(o2, 0, sizeof o2);
    int r1 = ir_run(g1, in, o1, &d), r2 = ir_run(g2, in, o2, &d);
    CHECK(0, r1);
    CHECK(0, r2);
    double worst = r1 || r2 ? INFINITY : 0;
    for (int o = 0; !r1 && !r2 && o < g1->n_outputs; o++) {
        CHECK(o1[o].nbytes, o2[o].nbytes);
        for (size_t i = 0; i < o1[o].nbytes / 4 && o1[o].nbytes == o2[o].nbytes; i++) {
            double diff = fabs(((float *)o1[o].data)[i] - ((float *)o2[o].data)[i]);
            worst = diff > worst || isnan(diff) ? diff : worst;
        }
    }
    /* float32 sums of 72 products reordered, BN folded into the weights */
    CHECK_NEAR(0, worst, 1e-4);
    for (int o = 0; o < g1->n_outputs; o++) {
        rt_tensor_free(&o1[o]);
        rt_tensor_free(&o2[o]);
    }
    ir_graph_free(g1);
    ir_graph_free(g2);
}

static void test_built(void)
{
    for (int pack = 0; pack < 2; pack++) {
        fused_case(T_BN_ADD_RELU, pack, 1, 0);
        fused_case(T_LEAKY, pack, 1, 0);
        fused_case(T_HSIGMOID, pack, 1, 0);
        fused_case(T_HSWISH, pack, 1, 0);
        fused_case(T_SWISH, pack, 1, 0);
        fused_case(T_ADD_LATE, pack, 1, 0);
        fused_case(T_BROADCAST_ADD, pack, 0, 1);
        fused_case(T_OUTPUT, pack, 0, 1);
        /* fc1 + Relu, fc2 + HardSigmoid and the projection fuse; the pool stays */
        fused_case(T_SE_HSIGMOID, pack, 3, 1);
        /* a lone Sigmoid is no activation of fc2's: it stays, with the pool */
        fused_case(T_SE_SIGMOID, pack, 2, 2);
        /* the Mul before a 3x3 Conv stays */
        fused_case(T_SE_3X3, pack, 2, 2);
        /* BN + Relu fold into the 1x1 Conv after them; the Sigmoid stays */
        fused_case(T_PREACT, pack, 1, 1);
        /* before a 3x3 Conv they stay (the Relu then fuses into nothing) */
        fused_case(T_PREACT_3X3, pack, 0, 3);
    }
}

int main(void)
{
    int fused = 0, acts = 0;
    /* the digits example: two Conv -> Relu pairs */
    double diff = compare(ONNXCC_SOURCE_DIR "/examples/digits/digits.onnx",
                          ONNXCC_SOURCE_DIR "/examples/digits/samples/digit_4_0.pb", &fused,
                          &acts);
    CHECK(2, fused);
    CHECK(0, acts);
    CHECK_NEAR(0, diff, 1e-6);
    /* a Relu that reads a graph input is not fused into anything */
    diff = compare(TESTDATA "/node/test_relu/model.onnx",
                   TESTDATA "/node/test_relu/test_data_set_0/input_0.pb", &fused, &acts);
    CHECK(0, fused);
    CHECK(1, acts);
    CHECK_NEAR(0, diff, 0);
    test_built();
    return CHECK_DONE();
}
