/* test_pack.c: pass_pack on MatMul, Gemm (constant B) and 3x3 Conv (Winograd), against the unpacked graph. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fill.h"
#include "ir_build.h"
#include "ir/ir.h"
#include "passes/passes.h"

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

enum { ROWS = 3, K = 300, N1 = 50, N2 = 37, N3 = 2 };

static Value *constant(Graph *g, int rank, const int64_t *dims, unsigned seed)
{
    Value *v = tensor(g, NULL, rank, dims);
    fill(ir_value_alloc_data(g, v), ir_numel(v), seed);
    return v;
}

static void attr_int(Graph *g, Node *n, const char *name, int64_t v)
{
    Attr *a = ir_alloc(g, sizeof *a * (size_t)(n->n_attrs + 1));
    if (n->n_attrs)
        memcpy(a, n->attrs, sizeof *a * (size_t)n->n_attrs);
    a[n->n_attrs++] = (Attr){.name = name, .type = AT_INT, .i = v};
    n->attrs = a;
}

/* x [ROWS, K] -> MatMul(B [K, N1]) -> Gemm(transB, B [N2, N1], C [N2]) -> y1, and
 * x -> MatMul(B [K, N3]) -> y2: N3 columns are too few for a panel. */
static Graph *build(void)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0].domain = "";
    g->opsets[0].version = 17;
    g->n_opsets = 1;
    Value *x = tensor(g, "x", 2, DIMS(ROWS, K));
    x->is_input = 1;
    g->inputs = malloc(sizeof *g->inputs);
    g->inputs[g->n_inputs++] = x;
    Value *m1[2] = {x, constant(g, 2, DIMS(K, N1), 1)};
    Value *h = node1(g, "MatMul", 2, m1)->out[0];
    Value *gi[3] = {h, constant(g, 2, DIMS(N2, N1), 2), constant(g, 1, DIMS(N2), 3)};
    Node *gemm = node1(g, "Gemm", 3, gi);
    attr_int(g, gemm, "transB", 1);
    Value *m2[2] = {x, constant(g, 2, DIMS(K, N3), 4)};
    Value *outs[2] = {gemm->out[0], node1(g, "MatMul", 2, m2)->out[0]};
    g->outputs = malloc(sizeof *g->outputs * 2);
    for (int i = 0; i < 2; i++) {
        outs[i]->is_output = 1;
        g->outputs[g->n_outputs++] = outs[i];
    }
    return g;
}

static int packed(const Node *n)
{
    if (n->op == OP_MATMUL)
        return n->n_ints > RT_MATMUL_PACK && n->ints[RT_MATMUL_PACK] > 0;
    return n->op == OP_GEMM && n->n_ints > RT_GEMM_PACK && n->ints[RT_GEMM_PACK] > 0;
}

static void test_pack_mm(void)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    Graph *g1 = build(), *g2 = build();
    int ok1 = ir_run_pipeline(g1, 2, &ctx) == 0;
    rt_gemm_tile(&ctx.gemm_mr, &ctx.gemm_nr); /* the linked runtime's tile: ir_run reads it */
    int ok2 = ir_run_pipeline(g2, 2, &ctx) == 0;
    CHECK_TRUE(ok1 && ok2);
    if (!ok1 || !ok2) {
        fprintf(stderr, "%s\n", d.msg);
        return;
    }
    int n_mm = 0, n_gemm = 0, n_plain = 0;
    for (int k = 0; k < g2->n_nodes; k++) {
        const Node *n = g2->nodes[k];
        if (n->dead || (n->op != OP_MATMUL && n->op != OP_GEMM))
            continue;
        if (!packed(n))
            n_plain++;
        else if (n->op == OP_MATMUL)
            n_mm++;
        else
            n_gemm++;
        if (packed(n)) /* B is now [K, N rounded up to the panel] */
            CHECK(0, n->in[1]->dims[1] % ctx.gemm_nr);
    }
    CHECK(1, n_mm);
    CHECK(1, n_gemm);
    CHECK(1, n_plain);
    for (int k = 0; k < g1->n_nodes; k++)
        CHECK(0, packed(g1->nodes[k])); /* no target, no packing */
    float xs[ROWS * K];
    fill(xs, ROWS * K, 9);
    RtTensor in[1] = {{{RT_F32, 2, {ROWS, K}}, "x", xs, sizeof xs}}, o1[2], o2[2];
    memset(o1, 0, sizeof o1);
    memset(o2, 0, sizeof o2);
    int r1 = ir_run(g1, in, o1, &d), r2 = ir_run(g2, in, o2, &d);
    CHECK(0, r1);
    CHECK(0, r2);
    double worst = r1 || r2 ? INFINITY : 0;
    for (int o = 0; !r1 && !r2 && o < 2; o++) {
        CHECK(o1[o].nbytes, o2[o].nbytes);
        for (size_t i = 0; i < o1[o].nbytes / 4 && o1[o].nbytes == o2[o].nbytes; i++) {
            double diff = fabs(((float *)o1[o].data)[i] - ((float *)o2[o].data)[i]);
            worst = diff > worst || isnan(diff) ? diff : worst;
        }
    }
    /* the same products summed in another order: sums of 300 and then 50
     * products of values in [-1, 1) (the Gemm's inputs are ~10 in size) */
    CHECK_NEAR(0, worst, 1e-3);
    for (int o = 0; o < 2; o++) {
        rt_tensor_free(&o1[o]);
        rt_tensor_free(&o2[o]);
    }
    ir_graph_free(g1);
    ir_graph_free(g2);
}

/* x [1, 32, 16, 16] -> Conv 3x3 pad 1 (W [33, 32, 3, 3], bias) -> Relu -> y1
 * (Winograd: 32 channels in, 16 tiles), and x -> Conv 3x3 stride 2 -> y2
 * (the direct conv, packed as before). */
static Graph *build_conv(void)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0].domain = "";
    g->opsets[0].version = 17;
    g->n_opsets = 1;
    Value *x = tensor(g, "x", 4, DIMS(1, 32, 16, 16));
    x->is_input = 1;
    g->inputs = malloc(sizeof *g->inputs);
    g->inputs[g->n_inputs++] = x;
    Value *c1[3] = {x, constant(g, 4, DIMS(33, 32, 3, 3), 5), constant(g, 1, DIMS(33), 6)};
    Node *conv = node1(g, "Conv", 3, c1);
    Attr *a = ir_alloc(g, sizeof *a);
    static int64_t pads[4] = {1, 1, 1, 1}, strides[2] = {2, 2};
    a[0] = (Attr){.name = "pads", .type = AT_INTS, .ints = pads, .n = 4};
    conv->attrs = a;
    conv->n_attrs = 1;
    Value *r[1] = {conv->out[0]};
    Value *y1 = node1(g, "Relu", 1, r)->out[0];
    Value *c2[2] = {x, constant(g, 4, DIMS(8, 32, 3, 3), 7)};
    Node *conv2 = node1(g, "Conv", 2, c2);
    Attr *a2 = ir_alloc(g, sizeof *a2);
    a2[0] = (Attr){.name = "strides", .type = AT_INTS, .ints = strides, .n = 2};
    conv2->attrs = a2;
    conv2->n_attrs = 1;
    Value *outs[2] = {y1, conv2->out[0]};
    g->outputs = malloc(sizeof *g->outputs * 2);
    for (int i = 0; i < 2; i++) {
        outs[i]->is_output = 1;
        g->outputs[g->n_outputs++] = outs[i];
    }
    return g;
}

/* The compiled graph's Conv nodes: one Winograd (its W 4 x 36 rounded up to
 * MR, then [32, 3, 3]), one direct; both against the interpreter's result. */
static void test_pack_wino(void)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    Graph *g1 = build_conv(), *g2 = build_conv();
    int ok1 = ir_run_pipeline(g1, 2, &ctx) == 0;
    rt_gemm_tile(&ctx.gemm_mr, &ctx.gemm_nr);
    int ok2 = ir_run_pipeline(g2, 2, &ctx) == 0;
    CHECK_TRUE(ok1 && ok2);
    if (!ok1 || !ok2) {
        fprintf(stderr, "%s\n", d.msg);
        return;
    }
    int n_wino = 0, n_direct = 0;
    for (int k = 0; k < g2->n_nodes; k++) {
        const Node *n = g2->nodes[k];
        if (n->dead || (n->op != OP_CONV && n->op != OP_FUSED_CONV))
            continue;
        if (n->n_ints > RT_CONV_WINO(2) && n->ints[RT_CONV_WINO(2)] == RT_WINO_M) {
            n_wino++;
            int64_t mp = (33 + ctx.gemm_mr - 1) / ctx.gemm_mr * ctx.gemm_mr;
            CHECK(4 * mp, n->in[1]->dims[0]);
            CHECK(ctx.gemm_mr, n->ints[RT_CONV_PACK(2)]);
        } else {
            n_direct++;
        }
    }
    CHECK(1, n_wino);
    CHECK(1, n_direct);
    static float xs[32 * 16 * 16];
    fill(xs, 32 * 16 * 16, 10);
    RtTensor in[1] = {{{RT_F32, 4, {1, 32, 16, 16}}, "x", xs, sizeof xs}}, o1[2], o2[2];
    memset(o1, 0, sizeof o1);
    memset(o2, 0, sizeof o2);
    int r1 = ir_run(g1, in, o1, &d), r2 = ir_run(g2, in, o2, &d);
    CHECK(0, r1);
    CHECK(0, r2);
    double worst = r1 || r2 ? INFINITY : 0;
    for (int o = 0; !r1 && !r2 && o < 2; o++) {
        CHECK(o1[o].nbytes, o2[o].nbytes);
        for (size_t i = 0; i < o1[o].nbytes / 4 && o1[o].nbytes == o2[o].nbytes; i++) {
            double diff = fabs(((float *)o1[o].data)[i] - ((float *)o2[o].data)[i]);
            worst = diff > worst || isnan(diff) ? diff : worst;
        }
    }
    /* sums of 288 products of values in [-1, 1): Winograd's error is at
     * most a few 1e-6 of the sum of |terms| (~70 here), test_wino.c */
    CHECK_NEAR(0, worst, 2e-3);
    for (int o = 0; o < 2; o++) {
        rt_tensor_free(&o1[o]);
        rt_tensor_free(&o2[o]);
    }
    ir_graph_free(g1);
    ir_graph_free(g2);
}

int main(void)
{
    test_pack_mm();
    test_pack_wino();
    return CHECK_DONE();
}
