/* test_control.c: unit tests of control flow and sequences lowered at compile time. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "driver.h"
#include "ir/ir.h"

#define TESTDATA "/usr/share/libonnx-testdata/data"

static char dir[64];

static int count_live(const Graph *g, int op)
{
    int n = 0;
    for (int k = 0; k < g->n_nodes; k++)
        n += !g->nodes[k]->dead && g->nodes[k]->op == op;
    return n;
}

/* Prepares a conformance case with its set-0 inputs as samples (and files
 * replacing some of them); returns the graph or NULL with d->msg set. */
static Graph *prepare(const char *name, int ns, const char *const *files, Sample *s, Diag *d)
{
    char model[512];
    static char paths[8][512];
    snprintf(model, sizeof model, TESTDATA "/%s/model.onnx", name);
    for (int k = 0; k < ns; k++) {
        snprintf(paths[k], sizeof paths[k], TESTDATA "/%s/test_data_set_0/input_%d.pb", name, k);
        s[k] = (Sample){NULL, files && files[k] ? files[k] : paths[k], 0, 0};
    }
    memset(d, 0, sizeof *d);
    PassCtx ctx = {.d = d, .opt_level = 2, .verify = 1};
    return drv_prepare(model, NULL, 0, s, ns, 2, &ctx);
}

/* A file holding int64 v as a scalar (rank 0) or [v] (rank 1). */
static const char *int64_file(const char *name, int64_t v, int rank)
{
    static char p[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    RtTensor t = {{RT_I64, rank, {1}}, "", &v, sizeof v};
    CHECK(0, rt_tensor_write_pb(p[k], &t));
    return p[k];
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/onnxcc_ctl_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    if (access(TESTDATA "/node/test_loop11/model.onnx", R_OK)) {
        fprintf(stderr, "note: libonnx-testdata is missing; nothing to test\n");
        return 1;
    }
    Diag d;
    Sample s[8];

    /* Loop: the trip count and the condition decide the scan output's
     * length, so both are compiled in; the body is unrolled 5 times and no
     * Loop is left to run */
    Graph *g = prepare("node/test_loop11", 3, NULL, s, &d);
    CHECK_TRUE(g != NULL);
    if (g) {
        CHECK(1, s[0].compiled_in);
        CHECK(1, s[1].compiled_in);
        CHECK(0, s[2].compiled_in);
        CHECK(0, count_live(g, OP_LOOP));
        CHECK(1, g->n_inputs);
        CHECK(5, g->outputs[1]->dims[0]); /* res_scan: one row per iteration */
    }
    ir_graph_free(g);

    /* a trip count beyond the unroll limit keeps the loop a loop, and this
     * body slices by the iteration number, so its carried value grows each
     * trip: a clear error (a loop needs one static type per carried value) */
    const char *big[3] = {int64_file("m.pb", 100000, 0), NULL, NULL};
    g = prepare("node/test_loop11", 3, big, s, &d);
    CHECK_TRUE(g == NULL);
    CHECK_TRUE(strstr(d.msg, "the same static type every iteration") != NULL);

    /* If on a run-time condition with tensor branches: both inlined, one
     * Where selects; the condition stays an input */
    g = prepare("node/test_if", 1, NULL, s, &d);
    CHECK_TRUE(g != NULL);
    if (g) {
        CHECK(0, s[0].compiled_in);
        CHECK(0, count_live(g, OP_IF));
        CHECK(1, count_live(g, OP_WHERE));
    }
    ir_graph_free(g);

    /* Nested Ifs on run-time conditions: each branch's node is guarded by
     * its conditions, outer first; the outer Where runs always, the inner
     * one under the outer condition */
    {
        char model[512];
        snprintf(model, sizeof model, "%s/tests/data/cases/test_if_nested_untaken_branch/model.onnx",
                 ONNXCC_SOURCE_DIR);
        memset(&d, 0, sizeof d);
        PassCtx ctx = {.d = &d, .opt_level = 2, .verify = 1};
        g = drv_prepare(model, NULL, 0, NULL, 0, 2, &ctx);
        CHECK_TRUE(g != NULL);
        const Value *c1 = NULL, *c2 = NULL;
        for (int i = 0; g && i < g->n_inputs; i++) {
            if (!strcmp(g->inputs[i]->name, "c1"))
                c1 = g->inputs[i];
            if (!strcmp(g->inputs[i]->name, "c2"))
                c2 = g->inputs[i];
        }
        IrGuard *gd = g ? ir_guards(g) : NULL;
        int seen = 0;
        for (int k = 0; gd && k < g->n_nodes; k++) {
            const Node *n = g->nodes[k];
            const IrGuard *q = &gd[k];
            if (n->dead || ir_node_is_constant(n))
                continue;
            seen++;
            if (n->op == OP_GATHER) {
                CHECK(2, q->n);
                CHECK_TRUE(q->cond[0] == c1 && q->when[0] == 1);
                CHECK_TRUE(q->cond[1] == c2 && q->when[1] == 1);
            } else if (n->op == OP_NEG) {
                CHECK(2, q->n);
                CHECK_TRUE(q->cond[0] == c1 && q->when[0] == 1);
                CHECK_TRUE(q->cond[1] == c2 && q->when[1] == 0);
            } else if (n->op == OP_WHERE && !strcmp(n->name, "If_0")) {
                CHECK(0, q->n);
            } else if (n->op == OP_WHERE) {
                CHECK(1, q->n);
                CHECK_TRUE(q->cond[0] == c1 && q->when[0] == 1);
            }
        }
        CHECK(6, seen);
        free(gd);
        ir_graph_free(g);
    }

    /* If whose branches return sequences: the condition is compiled in and
     * only the branch taken remains */
    g = prepare("node/test_if_seq", 1, NULL, s, &d);
    CHECK_TRUE(g != NULL);
    if (g) {
        CHECK(1, s[0].compiled_in);
        CHECK(0, count_live(g, OP_WHERE));
        CHECK(1, g->n_out_groups);
        CHECK(0, strncmp(g->out_groups[0].layout, "S[", 2));
    }
    ir_graph_free(g);

    /* If with a run-time condition whose branches differ in shape: no
     * silent broadcast; the condition is compiled in instead */
    {
        const char *dir_ = ONNXCC_SOURCE_DIR "/tests/data/cases/test_if_branch_shapes";
        Sample c = {NULL, ONNXCC_SOURCE_DIR
                    "/tests/data/cases/test_if_branch_shapes/test_data_set_0/input_0.pb", 0, 0};
        char model[512];
        snprintf(model, sizeof model, "%s/model.onnx", dir_);
        memset(&d, 0, sizeof d);
        PassCtx pc = {.d = &d, .opt_level = 2, .verify = 1};
        g = drv_prepare(model, NULL, 0, &c, 1, 2, &pc);
        CHECK_TRUE(g != NULL);
        if (g) {
            CHECK(1, c.compiled_in);
            CHECK(0, count_live(g, OP_WHERE));
            CHECK(3, g->outputs[0]->dims[0]);
        }
        ir_graph_free(g);
    }

    /* Scan: unrolled over its length with Gathers feeding the body */
    g = prepare("node/test_scan9_sum", 2, NULL, s, &d);
    CHECK_TRUE(g != NULL);
    if (g) {
        CHECK(0, count_live(g, OP_SCAN));
        CHECK(2, g->n_inputs);
    }
    ir_graph_free(g);

    /* a sequence input becomes one input per element, in one group */
    g = prepare("node/test_sequence_insert_at_back", 2, NULL, s, &d);
    CHECK_TRUE(g != NULL);
    if (g) {
        CHECK(2, ir_n_groups(g, 0));
        CHECK(0, strcmp(ir_io_group(g, 0, 0).layout, "S[TTT]"));
        CHECK(3, ir_io_group(g, 0, 0).count);
        CHECK(3, ir_io_group(g, 0, 1).first);
        CHECK(4, g->n_inputs);
        CHECK(0, strcmp(g->out_groups[0].layout, "S[TTTT]"));
    }
    ir_graph_free(g);

    /* positions are checked against the resolved length */
    const char *far[3] = {NULL, NULL, int64_file("pos.pb", 7, 1)};
    g = prepare("node/test_sequence_insert_at_front", 3, far, s, &d);
    CHECK_TRUE(g == NULL);
    CHECK_TRUE(strstr(d.msg, "position 7 is out of range for a sequence of 3") != NULL);

    /* a sequence input needs a sample to know its structure */
    memset(&d, 0, sizeof d);
    PassCtx ctx = {.d = &d, .opt_level = 2, .verify = 1};
    g = drv_prepare(TESTDATA "/node/test_identity_sequence/model.onnx", NULL, 0, NULL, 0, 2, &ctx);
    CHECK_TRUE(g == NULL);
    CHECK_TRUE(strstr(d.msg, "input 'x' is a sequence: give a sample") != NULL);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not remove %s\n", dir);
    return CHECK_DONE();
}
