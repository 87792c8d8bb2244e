/* test_plan.c: the memory planner never lets two values that are alive at the same time share bytes. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "driver.h"
#include "ir/ir.h"
#include "ir_build.h"

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

/* v lies exactly where Concat y puts it: y's producer is a Concat reading
 * v, and v's offset is y's plus the bytes of the inputs before it. */
static int concat_slice(const Value *v, const Value *y)
{
    const Node *c = y->producer;
    if (!c || c->op != OP_CONCAT)
        return 0;
    int64_t off = y->offset;
    for (int i = 0; i < c->n_in && c->in[i]; i++) {
        if (c->in[i] == v)
            return v->offset == off;
        off += (int64_t)ir_nbytes(c->in[i]);
    }
    return 0;
}

/* a and b are outputs of Concats of one family: at the same offset, and the
 * inputs of one are the first inputs of the other, so their common bytes
 * hold the same slices */
static int concat_family(const Value *a, const Value *b)
{
    const Node *x = a->producer, *y = b->producer;
    if (!x || !y || x->op != OP_CONCAT || y->op != OP_CONCAT || a->offset != b->offset)
        return 0;
    if (x->n_in > y->n_in) {
        const Node *t = x;
        x = y, y = t;
    }
    for (int i = 0; i < x->n_in; i++)
        if (x->in[i] != y->in[i])
            return 0;
    return 1;
}

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
            /* a Concat's input placed in its slice of the output, by design */
            alias |= concat_slice(va, vb) || concat_slice(vb, va) || concat_family(va, vb);
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

static Value *concat(Graph *g, int n, Value *const *parts)
{
    Node *cat = node1(g, "Concat", n, parts);
    Attr *at = ir_alloc(g, sizeof *at);
    memset(at, 0, sizeof *at);
    at->name = "axis";
    at->type = AT_INT;
    at->i = 1;
    cat->attrs = at;
    cat->n_attrs = 1;
    return cat->out[0];
}

static void add_output(Graph *g, Value *v)
{
    v->is_output = 1;
    g->outputs = realloc(g->outputs, sizeof *g->outputs * (size_t)(g->n_outputs + 1));
    g->outputs[g->n_outputs++] = v;
}

/* Concat in place: x [1, C, 4, 4] -> Relu a, Sigmoid b, Neg e (also read by
 * an Add); Concat(a, b, e) on the channels. a, b and e are planned inside
 * the output (an Add reading e does not change that); at -O0 nothing
 * shares. A slice starting off a multiple of 64 bytes keeps its own
 * buffer; with a batch of 2 (outer extent 2) the slices are not contiguous
 * and nothing is placed. With family set, Concat(a, b) is read too and
 * shares the bytes of Concat(a, b, e) (DenseNet's blocks); with foreign
 * set, Concat(e, a) reads two of them at other places, so they stay out. */
static void concat_case(int batch, int ch, int hw, int opt, int family, int foreign)
{
    Graph *g = ir_graph_new(NULL);
    g->opsets[0].domain = "";
    g->opsets[0].version = 17;
    g->n_opsets = 1;
    int64_t dims[4] = {batch, ch, hw, hw};
    Value *x = tensor(g, "x", 4, dims);
    x->is_input = 1;
    g->inputs = malloc(sizeof *g->inputs);
    g->inputs[g->n_inputs++] = x;
    Value *a = node1(g, "Relu", 1, &x)->out[0];
    Value *b = node1(g, "Sigmoid", 1, &x)->out[0];
    Value *e = node1(g, "Neg", 1, &x)->out[0];
    Value *parts[3] = {a, b, e}, *other[2] = {e, a};
    Value *c2 = family ? concat(g, 2, parts) : NULL;
    Value *c = concat(g, 3, parts);
    Value *c3 = foreign ? concat(g, 2, other) : NULL;
    Value *sum[2] = {e, e};
    add_output(g, node1(g, "Relu", 1, &c)->out[0]);
    add_output(g, node1(g, "Add", 2, sum)->out[0]);
    if (c2)
        add_output(g, node1(g, "Relu", 1, &c2)->out[0]);
    if (c3)
        add_output(g, node1(g, "Relu", 1, &c3)->out[0]);
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    int ok = ir_run_pipeline(g, opt, &ctx) == 0;
    CHECK_TRUE(ok);
    if (!ok) {
        fprintf(stderr, "concat case: %s\n", d.msg);
        ir_graph_free(g);
        return;
    }
    int64_t part = ch * hw * hw * 4;
    int placed = opt > 0 && batch == 1;
    CHECK(placed && !foreign, a->offset == c->offset);
    CHECK(placed && part % 64 == 0, b->offset == c->offset + part);
    CHECK(placed && part % 64 == 0 && !foreign, e->offset == c->offset + 2 * part);
    if (c2)
        CHECK(placed, c2->offset == c->offset);
    CHECK(0, check_graph(g, "concat case"));
    ir_graph_free(g);
}

int main(void)
{
    for (int fam = 0; fam < 4; fam++) {
        concat_case(1, 4, 4, 2, fam & 1, fam >> 1);
        concat_case(1, 4, 4, 0, fam & 1, fam >> 1);
        concat_case(1, 3, 4, 2, fam & 1, fam >> 1);
        concat_case(1, 1, 4, 2, fam & 1, fam >> 1); /* 64-byte slices */
        concat_case(1, 3, 3, 2, fam & 1, fam >> 1); /* 108 bytes: b, e would be misaligned */
        concat_case(2, 4, 4, 2, fam & 1, fam >> 1);
    }
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
