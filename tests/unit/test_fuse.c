/* test_fuse.c: Conv + Relu/Clip fusion happens where it should and changes no result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "driver.h"
#include "ir/ir.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif

#define TESTDATA "/usr/share/libonnx-testdata/data"

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
    return CHECK_DONE();
}
