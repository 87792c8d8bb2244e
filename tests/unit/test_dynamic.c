/* test_dynamic.c: bounded dynamic outputs: the NonZero/Unique/NonMaxSuppression kernels, folding, the consumer check, the planner and the generated API. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "desc.h"
#include "codegen/codegen.h"
#include "passes/passes.h"

/* ---- kernels ---- */

static void test_nonzero(void)
{
    /* x = [[0, 1, 0], [2, 3, 0]]: non-zero at (0,1), (1,0), (1,1) */
    float x[6] = {0, 1, 0, 2, 3, 0};
    int64_t y[12], len = -1, xd[2] = {2, 3}, yd[2] = {2, 6};
    RtTensorDesc in[1] = {desc(RT_F32, 2, xd)};
    RtTensorDesc out[2] = {desc(RT_I64, 2, yd), desc(RT_I64, 0, NULL)};
    RtCall c = {1, 2, in, out, 0, 0, NULL, NULL};
    const void *ip[1] = {x};
    void *op[2] = {y, &len};
    CHECK(RT_OK, rt_nonzero(&c, ip, op));
    CHECK(3, len);
    /* row-major [2, 3]: the rows are the coordinates of each axis */
    static const int64_t want[6] = {0, 1, 1, 1, 0, 1};
    for (int i = 0; i < 6; i++)
        CHECK(want[i], y[i]);
}

static void test_unique_flat(void)
{
    /* ONNX's example: x = [2, 1, 1, 3, 4, 3] */
    int64_t x[6] = {2, 1, 1, 3, 4, 3}, xd[1] = {6};
    int64_t y[6], idx[6], inv[6], cnt[6], len = -1;
    RtTensorDesc in[1] = {desc(RT_I64, 1, xd)};
    RtTensorDesc out[5] = {desc(RT_I64, 1, xd), desc(RT_I64, 1, xd), desc(RT_I64, 1, xd),
                           desc(RT_I64, 1, xd), desc(RT_I64, 0, NULL)};
    int64_t ints[4] = {0, 1, 6, 1};
    RtCall c = {1, 5, in, out, 4, 0, ints, NULL};
    const void *ip[1] = {x};
    void *op[5] = {y, idx, inv, cnt, &len};
    /* not sorted: order of first occurrence */
    CHECK(RT_OK, rt_unique(&c, ip, op));
    CHECK(4, len);
    static const int64_t y0[4] = {2, 1, 3, 4}, i0[4] = {0, 1, 3, 4}, c0[4] = {1, 2, 2, 1};
    static const int64_t v0[6] = {0, 1, 1, 2, 3, 2};
    for (int i = 0; i < 4; i++) {
        CHECK(y0[i], y[i]);
        CHECK(i0[i], idx[i]);
        CHECK(c0[i], cnt[i]);
    }
    for (int i = 0; i < 6; i++)
        CHECK(v0[i], inv[i]);
    /* sorted */
    ints[0] = 1;
    CHECK(RT_OK, rt_unique(&c, ip, op));
    CHECK(4, len);
    static const int64_t y1[4] = {1, 2, 3, 4}, i1[4] = {1, 0, 3, 4}, c1[4] = {2, 1, 2, 1};
    static const int64_t v1[6] = {1, 0, 0, 2, 3, 2};
    for (int i = 0; i < 4; i++) {
        CHECK(y1[i], y[i]);
        CHECK(i1[i], idx[i]);
        CHECK(c1[i], cnt[i]);
    }
    for (int i = 0; i < 6; i++)
        CHECK(v1[i], inv[i]);
    /* only Y declared: the extent is the second output */
    RtCall c2 = {1, 2, in, (RtTensorDesc[]){out[0], out[4]}, 4, 0, ints, NULL};
    void *op2[2] = {y, &len};
    len = -1;
    CHECK(RT_OK, rt_unique(&c2, ip, op2));
    CHECK(4, len);
}

static void test_unique_axis(void)
{
    /* x [2, 3] with axis 1: columns (1,4), (0,9), (1,4) -> sorted (0,9), (1,4);
     * Y is [2, 2] = [[0, 1], [9, 4]] */
    float x[6] = {1, 0, 1, 4, 9, 4};
    int64_t xd[2] = {2, 3}, n[1] = {3}, idx[3], inv[3], cnt[3], len = -1;
    float y[6];
    RtTensorDesc in[1] = {desc(RT_F32, 2, xd)};
    RtTensorDesc out[5] = {desc(RT_F32, 2, xd), desc(RT_I64, 1, n), desc(RT_I64, 1, n),
                           desc(RT_I64, 1, n), desc(RT_I64, 0, NULL)};
    int64_t ints[4] = {1, 2, 3, 1};
    RtCall c = {1, 5, in, out, 4, 0, ints, NULL};
    const void *ip[1] = {x};
    void *op[5] = {y, idx, inv, cnt, &len};
    CHECK(RT_OK, rt_unique(&c, ip, op));
    CHECK(2, len);
    static const float wy[4] = {0, 1, 9, 4};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(wy[i], y[i], 0);
    CHECK(1, idx[0]);
    CHECK(0, idx[1]);
    CHECK(1, inv[0]);
    CHECK(0, inv[1]);
    CHECK(1, inv[2]);
    CHECK(1, cnt[0]);
    CHECK(2, cnt[1]);
}

static void test_nms(void)
{
    /* one batch, two classes, three boxes [y1, x1, y2, x2]: box 1 overlaps
     * box 0 with IoU 0.81/1.19 = 0.68; box 2 is apart */
    float boxes[12] = {0, 0, 1, 1, 0.1f, 0.1f, 1, 1, 2, 2, 3, 3};
    float scores[6] = {0.9f, 0.95f, 0.5f, /* class 1: */ 0.3f, 0.2f, 0.3f};
    int64_t max_out = 2, y[18], len = -1;
    float iou = 0.5f, score_thr = 0.25f;
    int64_t bd[3] = {1, 3, 4}, sd[3] = {1, 2, 3}, one[1] = {1}, yd[2] = {6, 3};
    RtTensorDesc in[5] = {desc(RT_F32, 3, bd), desc(RT_F32, 3, sd), desc(RT_I64, 1, one),
                          desc(RT_F32, 1, one), desc(RT_F32, 1, one)};
    RtTensorDesc out[2] = {desc(RT_I64, 2, yd), desc(RT_I64, 0, NULL)};
    int64_t ints[1] = {0};
    RtCall c = {5, 2, in, out, 1, 0, ints, NULL};
    const void *ip[5] = {boxes, scores, &max_out, &iou, &score_thr};
    void *op[2] = {y, &len};
    CHECK(RT_OK, rt_nms(&c, ip, op));
    /* class 0: box 1 (0.95), box 0 suppressed, box 2; class 1: the tie at 0.3
     * takes box 0 first, then box 2; box 1 is under the score threshold */
    CHECK(4, len);
    static const int64_t want[12] = {0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 2};
    for (int i = 0; i < 12; i++)
        CHECK(want[i], y[i]);
    /* iou_threshold 0.7 keeps box 0; max_output_boxes_per_class 1 keeps one per class */
    iou = 0.7f;
    max_out = 1;
    CHECK(RT_OK, rt_nms(&c, ip, op));
    CHECK(2, len);
    CHECK(1, y[2]);
    CHECK(0, y[5]);
    /* without max_output_boxes_per_class, nothing is selected (the spec's default 0) */
    ip[2] = NULL;
    CHECK(RT_OK, rt_nms(&c, ip, op));
    CHECK(0, len);
}

/* ---- the IR: x float32[2,3] -> NonZero -> nz, then optionally one consumer ---- */

static Graph *nonzero_graph(int constant_x, const char *consumer)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0].domain = "";
    g->opsets[0].version = 13;
    g->n_opsets = 1;
    Value *x = ir_value_new(g, "x");
    x->dtype = RT_F32;
    x->rank = 2;
    x->dims[0] = 2;
    x->dims[1] = 3;
    if (constant_x) {
        float *p = ir_value_alloc_data(g, x);
        p[1] = 1, p[3] = 2, p[4] = 3;
    } else {
        x->is_input = 1;
        g->inputs = malloc(sizeof *g->inputs);
        g->inputs[g->n_inputs++] = x;
    }
    Node *n = ir_node_new(g, "NonZero", "", "nz_node", 1, 1);
    Value *y = ir_value_new(g, "nz");
    ir_set_input(g, n, 0, x);
    n->out[0] = y;
    y->producer = n;
    if (consumer) {
        Node *m = ir_node_new(g, consumer, "", "after", 1, 1);
        ir_set_input(g, m, 0, y);
        y = ir_value_new(g, "z");
        m->out[0] = y;
        y->producer = m;
    }
    y->is_output = 1;
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[g->n_outputs++] = y;
    return g;
}

static void test_ir(void)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .opt_level = 2, .verify = 1};
    /* a runtime input: the output keeps its bound and ir_run reports the extent */
    Graph *g = nonzero_graph(0, NULL);
    CHECK(0, ir_run_pipeline(g, 2, &ctx));
    Value *y = g->outputs[0];
    CHECK(1, y->dyn);
    CHECK(1, y->dyn_axis);
    CHECK(6, y->dims[1]);
    CHECK_TRUE(y->dyn_len && y->dyn_len->is_extent && y->dyn_len->dtype == RT_I64);
    CHECK_TRUE(y->dyn_len == y->producer->out[y->producer->n_out - 1]);
    CHECK_TRUE(y->dyn_len->offset >= 0 && g->arena_bytes >= 8);
    float xv[6] = {0, 1, 0, 2, 3, 0};
    RtTensor in = {{RT_F32, 2, {2, 3}}, "x", xv, sizeof xv}, out;
    CHECK(0, ir_run(g, &in, &out, &d));
    CHECK(3, out.desc.dims[1]);
    CHECK(6 * 8, out.nbytes);
    if (out.nbytes == 48)
        CHECK(1, ((int64_t *)out.data)[1]);
    rt_tensor_free(&out);
    ir_graph_free(g);

    /* a constant input folds to the exact shape */
    g = nonzero_graph(1, NULL);
    CHECK(0, ir_run_pipeline(g, 2, &ctx));
    y = g->outputs[0];
    CHECK(0, y->dyn);
    CHECK_TRUE(y->data != NULL);
    CHECK(3, y->dims[1]);
    ir_graph_free(g);

    /* ... so a consumer of the folded value is fine */
    g = nonzero_graph(1, "Identity");
    CHECK(0, ir_run_pipeline(g, 2, &ctx));
    CHECK(3, g->outputs[0]->dims[1]);
    ir_graph_free(g);

    /* any other consumer is refused in one place, naming the node and the value */
    g = nonzero_graph(0, "Identity");
    CHECK(-1, ir_run_pipeline(g, 2, &ctx));
    CHECK_STR_CONTAINS(d.msg, "node 'after'");
    CHECK_STR_CONTAINS(d.msg, "input 'nz' has a data-dependent shape (up to 6 along axis 1)");
    ir_graph_free(g);
}

/* Unique with only Y a graph output: indices and counts stay in the arena,
 * sized by their bound, and the extent is one int64. */
static void test_plan(void)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .opt_level = 2, .verify = 1};
    Graph *g = nonzero_graph(0, NULL);
    Node *n = g->nodes[0];
    n->op_type = "Unique";
    n->op = OP_UNIQUE;
    n->opset = 11;
    Value *out[4] = {n->out[0], ir_value_new(g, "idx"), NULL, ir_value_new(g, "cnt")};
    n->out = ir_alloc(g, sizeof out);
    memcpy(n->out, out, sizeof out);
    n->n_out = 4;
    out[1]->producer = out[3]->producer = n;
    CHECK(0, ir_run_pipeline(g, 2, &ctx));
    CHECK(5, n->n_out);
    CHECK(6, out[1]->dims[0]);
    CHECK(1, out[3]->dyn);
    CHECK_TRUE(out[1]->offset >= 0 && out[3]->offset >= 0);
    CHECK_TRUE(out[1]->offset + 48 <= out[3]->offset || out[3]->offset + 48 <= out[1]->offset);
    CHECK_TRUE(g->arena_bytes >= 2 * 48 + 8);
    ir_graph_free(g);
}

/* The generated folder: NAME.h documents the dynamic output, NAME_run
 * reports its extent, and the standalone binary writes the actual dims. */
static void test_codegen(void)
{
    char work[] = "/tmp/onnxcc-test-dynamic-XXXXXX", path[700], cmd[2400], err[256];
    if (!mkdtemp(work))
        return;
    Diag d = {0};
    PassCtx ctx = {.d = &d, .opt_level = 2, .verify = 1};
    Graph *g = nonzero_graph(0, NULL);
    CHECK(0, ir_run_pipeline(g, 2, &ctx));
    CgOptions o = {.name = "nz", .out_dir = work, .weights = WEIGHTS_C, .with_main = 1,
                   .with_runtime = 1, .model_path = "nz.onnx", .target = CG_TARGET_GENERIC};
    CHECK(0, cgc_emit(g, &o, &d));
    ir_graph_free(g);
    snprintf(path, sizeof path, "%s/nz.h", work);
    FILE *f = fopen(path, "r");
    char h[16384] = "";
    if (f) {
        h[fread(h, 1, sizeof h - 1, f)] = 0;
        fclose(f);
    }
    CHECK_STR_CONTAINS(h, "int64[2,<=6]");
    CHECK_STR_CONTAINS(h, "#define NZ_OUTPUT_0_MAX_SIZE 12");
    CHECK_STR_CONTAINS(h, "#define NZ_OUTPUT_0_DYN_AXIS 1");
    CHECK_STR_CONTAINS(h, "#define NZ_OUTPUT_0_DYN_MAX 6");
    CHECK_STR_CONTAINS(h, "int64_t *nz, int64_t *nz_len)");
    /* a host program through the C API */
    snprintf(path, sizeof path, "%s/host.c", work);
    f = fopen(path, "w");
    if (f) {
        fputs("#include \"nz.h\"\n#include <stdio.h>\n"
              "int main(void)\n{\n"
              "    float x[NZ_INPUT_0_SIZE] = {0, 1, 0, 2, 3, 0};\n"
              "    int64_t y[NZ_OUTPUT_0_MAX_SIZE], n = -1;\n"
              "    if (nz_run(NULL, x, y, &n) != 0 || n != 3)\n        return 1;\n"
              "    /* row-major [2, n] */\n"
              "    return !(y[0] == 0 && y[1] == 1 && y[2] == 1 && y[3] == 1 && y[5] == 1);\n"
              "}\n", f);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "cd %s && make -s libnz.a >/dev/null && "
             "cc -std=c99 -Wall -Wextra -Werror -Iruntime -I. host.c libnz.a -lm -o host && "
             "./host && make -s >/dev/null", work);
    CHECK(0, system(cmd));
    /* the standalone binary */
    float xv[6] = {0, 1, 0, 2, 3, 0};
    RtTensor in = {{RT_F32, 2, {2, 3}}, "x", xv, sizeof xv}, out;
    snprintf(path, sizeof path, "%s/x.pb", work);
    CHECK(0, rt_tensor_write_pb(path, &in));
    snprintf(cmd, sizeof cmd, "cd %s && ./nz x.pb --out res", work);
    CHECK(0, system(cmd));
    snprintf(path, sizeof path, "%s/res/output_0.pb", work);
    CHECK(0, rt_tensor_read(path, &out, err, sizeof err));
    CHECK(2, out.desc.rank);
    CHECK(3, out.desc.dims[1]);
    if (out.nbytes == 48)
        CHECK(1, ((int64_t *)out.data)[5]);
    rt_tensor_free(&out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", work);
    CHECK(0, system(cmd));
}

int main(void)
{
    test_nonzero();
    test_unique_flat();
    test_unique_axis();
    test_nms();
    test_ir();
    test_plan();
    test_codegen();
    return CHECK_DONE();
}
