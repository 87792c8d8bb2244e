/* test_plan.c: the memory planner never lets two values that are alive at the same time share bytes. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "driver.h"
#include "ir/ir.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif

#define TESTDATA "/usr/share/libonnx-testdata/data"

/* Live range of a value in executed-node steps, recomputed here from the
 * graph, independently of the planner. An alias (same offset, produced by a
 * reshape-like copy from a value whose range ends there) is one buffer. */
typedef struct Range {
    int first, last;
} Range;

static int check_graph(Graph *g, const char *what)
{
    int nv = g->n_values, step = 0, bad = 0;
    Range *r = calloc((size_t)nv + 1, sizeof *r);
    for (int i = 0; i < nv; i++)
        r[i].first = -1;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n))
            continue;
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i] && n->in[i]->offset >= 0)
                r[n->in[i]->id].last = step;
        for (int i = 0; i < n->n_out; i++)
            if (n->out[i] && n->out[i]->offset >= 0)
                r[n->out[i]->id].first = r[n->out[i]->id].last = step;
        step++;
    }
    for (int a = 0; a < nv; a++) {
        Value *va = g->values[a];
        if (va->offset < 0)
            continue;
        /* every planned value lies inside the arena */
        if (va->offset + (int64_t)ir_nbytes(va) > g->arena_bytes)
            bad++;
        for (int b = a + 1; b < nv; b++) {
            Value *vb = g->values[b];
            if (vb->offset < 0 || !ir_nbytes(va) || !ir_nbytes(vb))
                continue;
            int alive = r[a].first <= r[b].last && r[b].first <= r[a].last;
            int bytes = va->offset < vb->offset + (int64_t)ir_nbytes(vb) &&
                        vb->offset < va->offset + (int64_t)ir_nbytes(va);
            if (!alive || !bytes)
                continue;
            /* a reshape-like copy writes b from a in place: same buffer by design */
            Node *p = vb->producer;
            int alias = p && p->in[0] == va && va->offset == vb->offset &&
                        ir_ops[p->op].kernel == rt_copy && r[a].last == r[b].first;
            p = va->producer;
            alias |= p && p->in[0] == vb && va->offset == vb->offset &&
                     ir_ops[p->op].kernel == rt_copy && r[b].last == r[a].first;
            if (!alias) {
                fprintf(stderr, "%s: '%s' and '%s' overlap while both alive\n", what, va->name,
                        vb->name);
                bad++;
            }
        }
    }
    free(r);
    return bad;
}

static void check_model(const char *path, const char *sample, int opt)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    Sample s = {NULL, sample, 0, 0};
    Graph *g = drv_prepare(path, NULL, 0, &s, sample ? 1 : 0, opt, &ctx);
    CHECK_TRUE(g != NULL);
    if (!g) {
        fprintf(stderr, "%s\n", d.msg);
        return;
    }
    CHECK(0, check_graph(g, path));
    CHECK_TRUE(g->arena_bytes >= 0);
    ir_graph_free(g);
}

int main(void)
{
    static const char *const cases[] = {
        "pytorch-converted/test_ConvTranspose2d", "pytorch-operator/test_operator_chunk",
        "node/test_conv_with_strides_padding", "pytorch-converted/test_GLU",
        "pytorch-converted/test_BatchNorm2d_eval", "pytorch-converted/test_PixelShuffle",
        "node/test_layer_normalization_4d_axis0", "pytorch-operator/test_operator_flatten",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char model[512], in[512];
        snprintf(model, sizeof model, TESTDATA "/%s/model.onnx", cases[i]);
        snprintf(in, sizeof in, TESTDATA "/%s/test_data_set_0/input_0.pb", cases[i]);
        for (int opt = 0; opt <= 2; opt += 2)
            check_model(model, in, opt);
    }
    check_model(ONNXCC_SOURCE_DIR "/examples/digits/digits.onnx",
                ONNXCC_SOURCE_DIR "/examples/digits/samples/digit_0_0.pb", 2);
    /* reuse must actually happen: the planned arena is smaller than the sum */
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    Sample s = {NULL, ONNXCC_SOURCE_DIR "/examples/digits/samples/digit_0_0.pb", 0, 0};
    Graph *g0 = drv_prepare(ONNXCC_SOURCE_DIR "/examples/digits/digits.onnx", NULL, 0, &s, 1, 0,
                            &ctx);
    s.compiled_in = 0;
    Graph *g2 = drv_prepare(ONNXCC_SOURCE_DIR "/examples/digits/digits.onnx", NULL, 0, &s, 1, 2,
                            &ctx);
    CHECK_TRUE(g0 && g2);
    if (g0 && g2)
        CHECK_TRUE(g2->arena_bytes < g0->arena_bytes);
    ir_graph_free(g0);
    ir_graph_free(g2);
    return CHECK_DONE();
}
