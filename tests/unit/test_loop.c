/* test_loop.c: unit tests of Loops that run at run time: the LoopBegin/LoopEnd kernels, lowering, planning and the interpreter. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "driver.h"
#include "ir/ir.h"

#define CASES ONNXCC_SOURCE_DIR "/tests/data/cases"

static int count_live(const Graph *g, int op)
{
    int n = 0;
    for (int k = 0; k < g->n_nodes; k++)
        n += !g->nodes[k]->dead && g->nodes[k]->op == op;
    return n;
}

/* The kernels on their own, against a loop written out in C: two carried
 * float[2] values that swap (a <- b, b <- a + i: the body's first result IS
 * the second value's state, so LoopEnd must stage), one scan output of a,
 * trip count m, bound `bound`. Returns the status of the last call. */
static int kernel_loop(int64_t m, int64_t bound, float *fa, float *fb, float *scan,
                       int64_t *trips)
{
    float a0[2] = {1, 2}, b0[2] = {10, 20};
    float a[2], b[2], bnext[2];
    int64_t iter;
    unsigned char cond, go, one = 1;
    unsigned char stage[16];
    const int64_t ib[RT_LOOP_NINTS] = {2, 0, bound, 0}, ie[RT_LOOP_NINTS] = {2, 1, bound, 1};
    RtTensorDesc f2 = desc1(RT_F32, 2), i0 = desc(RT_I64, 0, NULL), b0d = desc(RT_BOOL, 0, NULL);
    RtTensorDesc bin[4] = {i0, desc(RT_UNDEF, 0, NULL), f2, f2};
    RtTensorDesc bout[5] = {i0, b0d, f2, f2, b0d};
    RtCall cb = call(4, bin, 5, bout, RT_LOOP_NINTS, ib, 0, NULL);
    const void *bi[4] = {&m, NULL, a0, b0};
    void *bo[5] = {&iter, &cond, a, b, &go};
    int rc = rt_loop_begin(&cb, bi, bo);
    /* in: M, cond, next a (= b's state), next b, scan a, iter, cond, a, b, go */
    RtTensorDesc ein[10] = {i0, b0d, f2, f2, f2, i0, b0d, f2, f2, b0d};
    RtTensorDesc eout[5] = {f2, f2, desc(RT_F32, 2, DIMS(bound, 2)), desc1(RT_U8, 16), i0};
    RtCall ce = call(10, ein, 5, eout, RT_LOOP_NINTS, ie, 0, NULL);
    const void *ei[10] = {&m, &one, b, bnext, a, &iter, &cond, a, b, &go};
    void *eo[5] = {fa, fb, scan, stage, trips};
    while (rc == 0) {
        if (go) /* the body: bnext = a + iter */
            for (int j = 0; j < 2; j++)
                bnext[j] = a[j] + (float)iter;
        rc = rt_loop_end(&ce, ei, eo);
        if (!go)
            break;
    }
    return rc;
}

static void test_kernels(void)
{
    for (int64_t m = 0; m <= 6; m++) {
        float fa[2] = {0}, fb[2] = {0}, scan[2 * 8] = {0};
        int64_t trips = -1;
        CHECK(0, kernel_loop(m, 8, fa, fb, scan, &trips));
        CHECK(m, trips);
        /* reference */
        float a[2] = {1, 2}, b[2] = {10, 20}, ref[2 * 8];
        for (int64_t i = 0; i < m; i++) {
            float t[2] = {a[0] + (float)i, a[1] + (float)i};
            memcpy(ref + 2 * i, a, sizeof a);
            memcpy(a, b, sizeof a);
            memcpy(b, t, sizeof b);
        }
        for (int j = 0; j < 2; j++) {
            CHECK_NEAR(a[j], fa[j], 0);
            CHECK_NEAR(b[j], fb[j], 0);
        }
        for (int64_t i = 0; i < 2 * m; i++)
            CHECK_NEAR(ref[i], scan[i], 0);
    }
    /* exactly the bound runs; one more iteration due past it is RT_EBOUND,
     * with no row written past the scan output's bound */
    float fa[2], fb[2], scan[2 * 4 + 2];
    int64_t trips = -1;
    scan[8] = scan[9] = -7;
    CHECK(0, kernel_loop(4, 4, fa, fb, scan, &trips));
    CHECK(4, trips);
    CHECK(RT_EBOUND, kernel_loop(5, 4, fa, fb, scan, &trips));
    CHECK_NEAR(-7, scan[8], 0);
    CHECK_NEAR(-7, scan[9], 0);
}

static Graph *compile(const char *model, int64_t loop_max, Diag *d)
{
    IrLimits lim;
    ir_limits_default(&lim);
    if (loop_max)
        lim.v[LIM_LOOP_ITERS] = loop_max;
    memset(d, 0, sizeof *d);
    PassCtx ctx = {.d = d, .opt_level = 2, .verify = 1, .limits = &lim};
    return drv_prepare(model, NULL, 0, NULL, 0, 2, &ctx);
}

/* Runs the trip-count fixture (inputs M, x, a0, b0) in the interpreter. */
static int run_trip(Graph *g, int64_t m, RtTensor *out, Diag *d)
{
    float x[3] = {1, -2, 0.25f}, a0 = 2, b0 = -1;
    RtTensor in[4] = {{{RT_I64, 0, {0}}, "M", &m, sizeof m},
                      {{RT_F32, 1, {3}}, "x", x, sizeof x},
                      {{RT_F32, 1, {1}}, "a0", &a0, sizeof a0},
                      {{RT_F32, 1, {1}}, "b0", &b0, sizeof b0}};
    return ir_run(g, in, out, d);
}

static void test_compiled(void)
{
    Diag d;
    /* a trip count given at run time: one LoopBegin/LoopEnd pair, the body
     * once, the scan output bounded by --loop-max with a run-time extent */
    Graph *g = compile(CASES "/test_loop_runtime_trip_count/model.onnx", 16, &d);
    CHECK_TRUE(g != NULL);
    if (!g) {
        fprintf(stderr, "%s\n", d.msg);
        return;
    }
    CHECK(0, count_live(g, OP_LOOP));
    CHECK(1, count_live(g, OP_LOOP_BEGIN));
    CHECK(1, count_live(g, OP_LOOP_END));
    const Value *ys = g->outputs[3];
    CHECK(1, ys->dyn);
    CHECK(16, ys->dims[0]);
    CHECK(3, ys->dims[1]);
    /* against the loop written out: y = y/2 + x + i, scan y * a, a <-> b+1 */
    for (int64_t m = 0; m <= 17; m += 4) {
        RtTensor out[4];
        int rc = run_trip(g, m, out, &d);
        if (m > 16) {
            CHECK(-1, rc);
            CHECK_STR_CONTAINS(d.msg, "--loop-max");
            memset(&d, 0, sizeof d);
            continue;
        }
        CHECK(0, rc);
        if (rc)
            continue;
        float x[3] = {1, -2, 0.25f}, y[3] = {1, -2, 0.25f}, a = 2, b = -1;
        CHECK(m, out[3].desc.dims[0]);
        for (int64_t i = 0; i < m; i++) {
            for (int j = 0; j < 3; j++) {
                y[j] = y[j] * 0.5f + (x[j] + (float)i);
                CHECK_NEAR(y[j] * a, ((const float *)out[3].data)[i * 3 + j], 1e-4);
            }
            float t = a + 1;
            a = b;
            b = t;
        }
        for (int j = 0; j < 3; j++)
            CHECK_NEAR(y[j], ((const float *)out[0].data)[j], 1e-4);
        CHECK_NEAR(a, *(const float *)out[1].data, 0);
        CHECK_NEAR(b, *(const float *)out[2].data, 0);
        for (int i = 0; i < 4; i++)
            rt_tensor_free(&out[i]);
    }
    /* the region's state and every value read across iterations stay apart
     * from the body's own buffers: the state of LoopBegin never shares
     * bytes with a value the body writes */
    const Node *b = NULL;
    for (int k = 0; k < g->n_nodes && !b; k++)
        if (!g->nodes[k]->dead && g->nodes[k]->op == OP_LOOP_BEGIN)
            b = g->nodes[k];
    int clashes = 0, body_values = 0;
    for (int k = 0; b && k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n) || n->op == OP_LOOP_BEGIN || n->op == OP_LOOP_END)
            continue;
        for (int i = 0; i < n->n_out; i++) {
            const Value *v = n->out[i];
            if (!v || v->offset < 0)
                continue;
            body_values++;
            for (int s = 0; s < b->n_out; s++) {
                const Value *st = b->out[s];
                clashes += st->offset < v->offset + (int64_t)ir_nbytes(v) &&
                           v->offset < st->offset + (int64_t)ir_nbytes(st);
            }
        }
    }
    CHECK_TRUE(body_values >= 3);
    CHECK(0, clashes);
    ir_graph_free(g);

    /* the default bound is 4096, stated by the scan output's bound */
    g = compile(CASES "/test_loop_runtime_trip_count/model.onnx", 0, &d);
    CHECK_TRUE(g != NULL);
    if (g)
        CHECK(4096, g->outputs[3]->dims[0]);
    ir_graph_free(g);

    /* a carried value whose shape changes every iteration is refused,
     * naming the value */
    g = compile(ONNXCC_SOURCE_DIR "/tests/data/loop_growing.onnx", 0, &d);
    CHECK_TRUE(g == NULL);
    CHECK_STR_CONTAINS(d.msg, "loop-carried value 'Loop_0/v_in' enters the body as float32[2]");
    CHECK_STR_CONTAINS(d.msg, "same static type every iteration");
    ir_graph_free(g);

    /* a scan output, whose length is the trip count, read by another node:
     * a clear error naming it */
    g = compile(ONNXCC_SOURCE_DIR "/tests/data/loop_scan_consumed.onnx", 0, &d);
    CHECK_TRUE(g == NULL);
    CHECK_STR_CONTAINS(d.msg, "scan output 'vs' is read by another node, so its length must be "
                              "known at compile time, and graph input 'M' decides it");
    CHECK(0, strcmp(d.need_const, "M"));
    ir_graph_free(g);
}

/* PyTorch's `while i < n and go`: the body's If returns `go`, computed
 * before the If's condition: the nodes computing it cannot be guarded by a
 * condition that is computed after them (ir_guards), and the loop still
 * exits on it (against PyTorch: the models_loop_decode test). */
static void test_guard_order(void)
{
    Diag d;
    Graph *g = compile(ONNXCC_SOURCE_DIR "/tests/models/loop/test_loop_decode/model.onnx", 0, &d);
    CHECK_TRUE(g != NULL);
    if (!g)
        return;
    CHECK(1, count_live(g, OP_LOOP_BEGIN));
    IrGuard *gd = ir_guards(g);
    int nots = 0, wheres = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n))
            continue;
        /* no literal may name a condition made at or after the node */
        for (int j = 0; j < gd[k].n; j++)
            for (int q = k; q < g->n_nodes; q++)
                for (int o = 0; o < g->nodes[q]->n_out; o++)
                    CHECK_TRUE(g->nodes[q]->out[o] != gd[k].cond[j]);
        if (n->op == OP_NOT) {
            nots++;
            CHECK(0, gd[k].n);
        }
        wheres += n->op == OP_WHERE;
    }
    CHECK(1, nots);
    CHECK(1, wheres);
    free(gd);
    ir_graph_free(g);
}

int main(void)
{
    test_kernels();
    test_compiled();
    test_guard_order();
    return CHECK_DONE();
}
