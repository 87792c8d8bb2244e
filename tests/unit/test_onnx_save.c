/* test_onnx_save.c: --save-onnx output reloads with the same results; refusals are clean. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fill.h"
#include "ir_build.h"
#include "driver.h"
#include "frontend/frontend.h"
#include "ir/ir.h"
#include "passes/passes.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif

#define DIGITS ONNXCC_SOURCE_DIR "/examples/digits"
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

static char dir[] = "/tmp/onnxcc_save_XXXXXX";

static int count_op(const Graph *g, const char *op_type)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++)
        c += !g->nodes[k]->dead && !strcmp(g->nodes[k]->op_type, op_type);
    return c;
}

/* Entries of dir other than . and .. */
static int entries(const char *path)
{
    DIR *dp = opendir(path);
    int n = 0;
    for (struct dirent *e; dp && (e = readdir(dp));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (dp)
        closedir(dp);
    return n;
}

/* The largest difference between the outputs of two graphs on the same
 * inputs; INFINITY if either fails or they differ in size. */
static double run_both(Graph *a, Graph *b, const RtTensor *in)
{
    Diag d = {0};
    RtTensor oa[4], ob[4];
    memset(oa, 0, sizeof oa);
    memset(ob, 0, sizeof ob);
    double worst = INFINITY;
    if (a->n_outputs <= 4 && a->n_outputs == b->n_outputs && ir_run(a, in, oa, &d) == 0 &&
        ir_run(b, in, ob, &d) == 0) {
        worst = 0;
        for (int o = 0; o < a->n_outputs; o++) {
            if (oa[o].nbytes != ob[o].nbytes || oa[o].desc.dtype != RT_F32) {
                worst = INFINITY;
                continue;
            }
            for (size_t i = 0; i < oa[o].nbytes / 4; i++) {
                double e = fabs(((float *)oa[o].data)[i] - ((float *)ob[o].data)[i]);
                worst = e > worst || isnan(e) ? e : worst;
            }
        }
    } else {
        fprintf(stderr, "run_both: %s\n", d.msg);
    }
    for (int o = 0; o < a->n_outputs && o < 4; o++) {
        rt_tensor_free(&oa[o]);
        rt_tensor_free(&ob[o]);
    }
    return worst;
}

/* The digits model quantized to QDQ, saved, loaded back (-O2, no
 * quantization asked): every sample's logits are the same bits. */
static void test_digits_qdq(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/digits_int8.onnx", dir);
    QuantOpts q = {.act = QA_INT8, .calib_dir = DIGITS "/samples", .save_onnx = path};
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1, .quant = &q};
    Graph *g = drv_prepare(DIGITS "/digits.onnx", NULL, 0, NULL, 0, 2, &ctx);
    PassCtx plain = {.d = &d, .verify = 1};
    Graph *r = g ? drv_prepare(path, NULL, 0, NULL, 0, 2, &plain) : NULL;
    CHECK_TRUE(g && r);
    if (!g || !r) {
        fprintf(stderr, "%s\n", d.msg);
        ir_graph_free(g);
        return;
    }
    /* as written: standard ops only, the Conv/Relu pairs FusedConv had absorbed */
    Diag d2 = {0};
    Graph *raw = onnx_load(path, &d2);
    CHECK_TRUE(raw != NULL);
    if (raw) {
        CHECK(0, count_op(raw, "FusedConv"));
        CHECK(2, count_op(raw, "Conv"));
        CHECK(2, count_op(raw, "Relu"));
        CHECK(6, count_op(raw, "QuantizeLinear"));
        CHECK(12, count_op(raw, "DequantizeLinear"));
        CHECK(13, ir_opset(raw, ""));
        CHECK_TRUE(raw->n_inputs == 1 && !strcmp(raw->inputs[0]->name, "image"));
        CHECK_TRUE(raw->n_outputs == 1 && !strcmp(raw->outputs[0]->name, "logits"));
        ir_graph_free(raw);
    }
    FILE *lf = fopen(DIGITS "/samples/labels.txt", "r");
    char file[128];
    int label, n = 0;
    double worst = 0;
    while (lf && fscanf(lf, "%127s %d", file, &label) == 2) {
        char p[512], msg[256];
        RtTensor in;
        snprintf(p, sizeof p, DIGITS "/samples/%s", file);
        CHECK(0, rt_tensor_read(p, &in, msg, sizeof msg));
        double e = run_both(g, r, &in);
        worst = e > worst ? e : worst;
        rt_tensor_free(&in);
        n++;
    }
    if (lf)
        fclose(lf);
    CHECK(20, n);
    CHECK_NEAR(0, worst, 0);
    ir_graph_free(g);
    ir_graph_free(r);
}

/* ---- weight-only formats: MatMulWQ written as DequantizeLinear + MatMul ---- */

#define WQ_MLP ONNXCC_SOURCE_DIR "/tests/data/wq_mlp"

/* The MLP (opset 17, two Gemm and a MatMul + Add) with each format's
 * weights, saved and loaded back with no quantization asked: the outputs
 * agree within 1e-5 of their largest magnitude (the same float weights;
 * only MatMul's summation order differs from the kernel's), the file holds
 * one blocked DequantizeLinear per layer and the opset its types need. */
static void test_wq(void)
{
    char path[256], msg[256];
    snprintf(path, sizeof path, "%s/wq.onnx", dir);
    RtTensor in;
    CHECK(0, rt_tensor_read(WQ_MLP "/input_0.pb", &in, msg, sizeof msg));
    for (int fmt = QW_INT8; fmt <= QW_NVFP4; fmt++) {
        QuantOpts q = {.weights = (QuantWeights)fmt, .save_onnx = path};
        Diag d = {0};
        PassCtx ctx = {.d = &d, .verify = 1, .quant = &q};
        Graph *g = drv_prepare(WQ_MLP "/model.onnx", NULL, 0, NULL, 0, 2, &ctx);
        PassCtx plain = {.d = &d, .verify = 1};
        Graph *r = g ? drv_prepare(path, NULL, 0, NULL, 0, 2, &plain) : NULL;
        Diag d2 = {0};
        Graph *raw = r ? onnx_load(path, &d2) : NULL;
        CHECK_TRUE(g && r && raw);
        if (!g || !r || !raw) {
            fprintf(stderr, "%s: %s %s\n", rt_wq_name(fmt), d.msg, d2.msg);
        } else {
            CHECK(3, count_op(g, "MatMulWQ"));
            CHECK(0, count_op(raw, "MatMulWQ"));
            CHECK(3, count_op(raw, "DequantizeLinear"));
            CHECK(3, count_op(raw, "MatMul"));
            CHECK(fmt == QW_MXFP4 || fmt == QW_NVFP4 ? 23 : 21, ir_opset(raw, ""));
            RtTensor oa = {0};
            Diag d3 = {0};
            double big = ir_run(g, &in, &oa, &d3) == 0 ? 0 : INFINITY;
            for (size_t i = 0; i < oa.nbytes / 4; i++)
                big = fmax(big, fabs(((float *)oa.data)[i]));
            rt_tensor_free(&oa);
            CHECK_TRUE(big > 0 && big < INFINITY);
            CHECK_NEAR(0, run_both(g, r, &in), 1e-5 * big);
        }
        ir_graph_free(raw);
        ir_graph_free(r);
        ir_graph_free(g);
    }
    rt_tensor_free(&in);
}

/* ---- FusedConv written back: Conv, Add, activation ---- */

static Value *weights(Graph *g, const char *name, int rank, const int64_t *dims, unsigned seed)
{
    Value *v = tensor(g, name, rank, dims);
    fill(ir_value_alloc_data(g, v), ir_numel(v), seed);
    v->is_initializer = 1;
    return v;
}

static Attr *attrs(Graph *g, Node *n, int count)
{
    n->attrs = ir_alloc(g, sizeof *n->attrs * (size_t)count);
    n->n_attrs = count;
    return n->attrs;
}

/* A FusedConv as ONNX Runtime writes it: x [1,4,5,5], W [6,4,3,3], B, Z
 * (when sum), the activation with its parameters; opset `opset`. */
static Graph *fused(const char *act, const float *params, int np, int sum, int opset)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0] = (OpsetImport){"", opset};
    g->opsets[1] = (OpsetImport){"com.microsoft", 1};
    g->n_opsets = 2;
    Value *x = tensor(g, "x", 4, DIMS(1, 4, 5, 5)), *z = tensor(g, "z", 4, DIMS(1, 6, 5, 5));
    g->inputs = malloc(sizeof *g->inputs * 2);
    x->is_input = 1;
    g->inputs[g->n_inputs++] = x;
    if (sum) {
        z->is_input = 1;
        g->inputs[g->n_inputs++] = z;
    }
    Node *n = ir_node_new(g, "FusedConv", "com.microsoft", "fc", sum ? 4 : 3, 1);
    Value *in[4] = {x, weights(g, "w", 4, DIMS(6, 4, 3, 3), 3), weights(g, "b", 1, DIMS(6), 4),
                    z};
    for (int i = 0; i < n->n_in; i++)
        ir_set_input(g, n, i, in[i]);
    Attr *a = attrs(g, n, np ? 3 : 2);
    int64_t *pads = ir_alloc(g, sizeof *pads * 4);
    pads[0] = pads[1] = pads[2] = pads[3] = 1;
    a[0] = (Attr){.name = "pads", .type = AT_INTS, .n = 4, .ints = pads};
    a[1] = (Attr){.name = "activation", .type = AT_STRING, .s = act, .s_len = strlen(act)};
    if (np) {
        float *p = ir_alloc(g, sizeof *p * (size_t)np);
        memcpy(p, params, sizeof *p * (size_t)np);
        a[2] = (Attr){.name = "activation_params", .type = AT_FLOATS, .n = np, .floats = p};
    }
    Value *y = n->out[0] = ir_value_new(g, "y");
    y->producer = n;
    y->is_output = 1;
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[g->n_outputs++] = y;
    return g;
}

static void fused_case(const char *act, const float *p, int np, int sum, int opset,
                       const char *want_op)
{
    char path[256];
    snprintf(path, sizeof path, "%s/fused.onnx", dir);
    QuantOpts q = {.save_onnx = path};
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1, .quant = &q};
    Graph *g = fused(act, p, np, sum, opset);
    int rc = ir_run_pipeline(g, 2, &ctx);
    CHECK(0, rc);
    Diag d2 = {0};
    Graph *raw = rc ? NULL : onnx_load(path, &d2);
    PassCtx plain = {.d = &d2, .verify = 1};
    Graph *r = raw ? drv_prepare(path, NULL, 0, NULL, 0, 1, &plain) : NULL;
    CHECK_TRUE(raw && r);
    if (raw && r) {
        CHECK(0, count_op(raw, "FusedConv"));
        CHECK(1, count_op(raw, "Conv"));
        CHECK(sum, count_op(raw, "Add"));
        CHECK(1, count_op(raw, want_op));
        float xs[100], zs[150];
        fill(xs, 100, 5);
        fill(zs, 150, 6);
        for (int i = 0; i < 150; i++)
            zs[i] *= 3; /* drive the activation through all its pieces */
        RtTensor in[2] = {{{RT_F32, 4, {1, 4, 5, 5}}, "x", xs, sizeof xs},
                          {{RT_F32, 4, {1, 6, 5, 5}}, "z", zs, sizeof zs}};
        /* -O1 on the reload: the standard ops as written, nothing fused again */
        CHECK_NEAR(0, run_both(g, r, in), 1e-5);
    } else {
        fprintf(stderr, "%s: %s %s\n", act, d.msg, d2.msg);
    }
    ir_graph_free(raw);
    ir_graph_free(r);
    ir_graph_free(g);
}

static void test_fused(void)
{
    const float clip[2] = {-0.5f, 1.5f}, leaky[1] = {0.2f}, hsig[2] = {0.3f, 0.4f};
    fused_case("Relu", NULL, 0, 1, 17, "Relu");
    fused_case("Relu", NULL, 0, 0, 17, "Relu");
    fused_case("Clip", clip, 2, 1, 17, "Clip");
    fused_case("Clip", clip, 2, 1, 9, "Clip"); /* bounds as attributes */
    fused_case("LeakyRelu", leaky, 1, 0, 17, "LeakyRelu");
    fused_case("HardSigmoid", hsig, 2, 1, 17, "HardSigmoid");
    fused_case("HardSwish", NULL, 0, 1, 17, "HardSwish");
    fused_case("HardSwish", NULL, 0, 1, 13, "HardSigmoid"); /* no HardSwish before 14 */
    fused_case("Swish", NULL, 0, 1, 17, "Sigmoid");
}

/* ---- what has no ONNX form is refused, and no file is left ---- */

static void test_refused(void)
{
    char sub[256], path[300];
    snprintf(sub, sizeof sub, "%s/refused", dir);
    mkdir(sub, 0755);
    snprintf(path, sizeof path, "%s/model.onnx", sub);
    /* an onnxcc-domain op */
    Graph *g = ir_graph_new(NULL);
    g->opsets[0] = (OpsetImport){"", 17};
    g->n_opsets = 1;
    Value *x = tensor(g, "x", 1, DIMS(4));
    x->is_input = 1;
    g->inputs = malloc(sizeof *g->inputs);
    g->inputs[g->n_inputs++] = x;
    Node *n = ir_node_new(g, "EwChain", "onnxcc", "chain0", 1, 1);
    ir_set_input(g, n, 0, x);
    Value *y = n->out[0] = tensor(g, "y", 1, DIMS(4));
    y->producer = n;
    y->is_output = 1;
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[g->n_outputs++] = y;
    Diag d = {0};
    CHECK(-1, onnx_save(g, path, &d));
    CHECK_STR_CONTAINS(d.msg, "'chain0'");
    CHECK_STR_CONTAINS(d.msg, "onnxcc's own op");
    CHECK(0, entries(sub));
    /* an op newer than the model's opset, with no older form written here */
    n->op_type = "Mish";
    n->domain = "";
    n->op = ir_op_lookup("", "Mish");
    g->opsets[0].version = 17;
    Diag d2 = {0};
    CHECK(-1, onnx_save(g, path, &d2));
    CHECK_STR_CONTAINS(d2.msg, "needs opset 18");
    CHECK(0, entries(sub));
    /* a failed write leaves the old file as it was */
    FILE *f = fopen(path, "w");
    fputs("old", f);
    fclose(f);
    Diag d3 = {0};
    CHECK(-1, onnx_save(g, path, &d3));
    CHECK(1, entries(sub));
    char buf[8] = {0};
    f = fopen(path, "r");
    CHECK_TRUE(f && fread(buf, 1, sizeof buf - 1, f) == 3);
    if (f)
        fclose(f);
    CHECK_STR_CONTAINS(buf, "old");
    unlink(path);
    /* a folder that does not exist */
    n->op_type = "Relu";
    n->op = ir_op_lookup("", "Relu");
    Diag d4 = {0};
    snprintf(path, sizeof path, "%s/no/such/folder/m.onnx", dir);
    CHECK(-1, onnx_save(g, path, &d4));
    CHECK_STR_CONTAINS(d4.msg, "cannot create");
    ir_graph_free(g);
}

/* Unsqueeze made at opset 13 (axes input) in an opset-11 model goes back to
 * its axes attribute; the reload computes the same. */
static void test_downgrade(void)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0] = (OpsetImport){"", 11};
    g->n_opsets = 1;
    Value *x = tensor(g, "x", 2, DIMS(2, 3));
    x->is_input = 1;
    g->inputs = malloc(sizeof *g->inputs);
    g->inputs[g->n_inputs++] = x;
    Value *in[2] = {x, ir_const_i64(g, DIMS(1), 1, DIMS(1))};
    Node *n = ir_add_node(g, "Unsqueeze", 13, "unsq", 2, in, NULL);
    Value *y = n->out[0];
    Value *r = ir_add_node(g, "Relu", 0, "relu", 1, &y, NULL)->out[0];
    r->is_output = 1;
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[g->n_outputs++] = r;
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    CHECK(0, ir_run_pipeline(g, 1, &ctx));
    char path[256];
    snprintf(path, sizeof path, "%s/unsq.onnx", dir);
    CHECK(0, onnx_save(g, path, &d));
    Graph *raw = onnx_load(path, &d);
    CHECK_TRUE(raw != NULL);
    if (raw) {
        const Node *u = raw->nodes[0];
        CHECK(1, u->n_in);
        CHECK(1, ir_attr_ints(u, "axes", (int64_t[4]){0}, 4));
        ir_graph_free(raw);
    }
    Graph *re = drv_prepare(path, NULL, 0, NULL, 0, 1, &ctx);
    CHECK_TRUE(re != NULL);
    if (re) {
        CHECK(3, re->outputs[0]->rank);
        CHECK(1, re->outputs[0]->dims[1]);
        float xs[6] = {-1, 2, -3, 4, -5, 6};
        RtTensor t = {{RT_F32, 2, {2, 3}}, "x", xs, sizeof xs};
        CHECK_NEAR(0, run_both(g, re, &t), 0);
        ir_graph_free(re);
    }
    ir_graph_free(g);
}

/* Gelu (both forms) and LayerNormalization that pass_recognize made in
 * older models go back to the decomposed forms; the reload (-O1: nothing
 * recognized again) computes the same to float rounding. */
static void expansion_case(const char *op, int opset, const char *approx, const char *want)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0] = (OpsetImport){"", opset};
    g->n_opsets = 1;
    Value *x = tensor(g, "x", 3, DIMS(2, 3, 8));
    x->is_input = 1;
    g->inputs = malloc(sizeof *g->inputs);
    g->inputs[g->n_inputs++] = x;
    int ln = !strcmp(op, "LayerNormalization");
    Value *in[3] = {x, weights(g, "scale", 1, DIMS(8), 7), weights(g, "bias", 1, DIMS(8), 8)};
    Node *n = ir_add_node(g, op, ln ? 17 : 20, "op0", ln ? 3 : 1, in, NULL);
    if (approx) {
        Attr *a = attrs(g, n, 1);
        a[0] = (Attr){.name = "approximate", .type = AT_STRING, .s = approx,
                      .s_len = strlen(approx)};
    }
    Value *y = n->out[0];
    y->is_output = 1;
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[g->n_outputs++] = y;
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    char path[256];
    snprintf(path, sizeof path, "%s/expand.onnx", dir);
    int rc = ir_run_pipeline(g, 1, &ctx);
    CHECK(0, rc);
    CHECK(0, rc ? -1 : onnx_save(g, path, &d));
    Graph *raw = onnx_load(path, &d);
    Graph *re = raw ? drv_prepare(path, NULL, 0, NULL, 0, 1, &ctx) : NULL;
    CHECK_TRUE(raw && re);
    if (raw && re) {
        CHECK(0, count_op(raw, op));
        CHECK_TRUE(count_op(raw, want) > 0);
        float xs[48];
        fill(xs, 48, 9);
        for (int i = 0; i < 48; i++)
            xs[i] *= 4;
        RtTensor t = {{RT_F32, 3, {2, 3, 8}}, "x", xs, sizeof xs};
        CHECK_NEAR(0, run_both(g, re, &t), 1e-5);
    } else {
        fprintf(stderr, "%s: %s\n", op, d.msg);
    }
    ir_graph_free(raw);
    ir_graph_free(re);
    ir_graph_free(g);
}

static void test_expansions(void)
{
    expansion_case("Gelu", 17, NULL, "Erf");
    expansion_case("Gelu", 17, "tanh", "Tanh");
    expansion_case("LayerNormalization", 13, NULL, "ReduceMean");
}

int main(void)
{
    CHECK_TRUE(mkdtemp(dir) != NULL);
    test_digits_qdq();
    test_fused();
    test_refused();
    test_downgrade();
    test_expansions();
    test_wq();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(0, system(cmd));
    return CHECK_DONE();
}
