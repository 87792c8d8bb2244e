/* test_uses.c: graph edits keep the use lists, and ir_verify notices a stale one. */
#include <stdlib.h>

#include "check.h"
#include "ir/ir.h"
#include "passes/passes.h"

static Value *input(Graph *g, const char *name)
{
    Value *v = ir_value_new(g, name);
    v->is_input = 1;
    g->inputs[g->n_inputs++] = v;
    return v;
}

/* 1 if input i of n is on v's use list. */
static int listed(const Value *v, const Node *n, int i)
{
    for (const Use *u = v->uses; u; u = u->next)
        if (u->node == n && u->idx == i)
            return 1;
    return 0;
}

static int verify(const Graph *g, Diag *d)
{
    d->msg[0] = 0;
    d->n_errors = 0;
    return ir_verify(g, d);
}

int main(void)
{
    Diag d = {0};
    Graph *g = ir_graph_new(NULL);
    g->inputs = calloc(2, sizeof *g->inputs);
    g->outputs = calloc(1, sizeof *g->outputs);
    Value *a = input(g, "a"), *b = input(g, "b");
    /* t = a + b; u = t * t; y = Identity(u), the graph output */
    Node *add = ir_add_node(g, "Add", 0, "add", 2, (Value *[]){a, b}, NULL);
    Value *t = add->out[0];
    Node *mul = ir_add_node(g, "Mul", 0, "mul", 2, (Value *[]){t, t}, NULL);
    Value *u = mul->out[0];
    Node *id = ir_add_node(g, "Identity", 0, "id", 1, &u, NULL);
    Value *y = id->out[0];
    y->is_output = 1;
    g->outputs[g->n_outputs++] = y;
    CHECK(0, verify(g, &d));
    CHECK(1, a->n_uses);
    CHECK(2, t->n_uses);
    CHECK_TRUE(listed(t, mul, 0) && listed(t, mul, 1));
    CHECK(0, y->n_uses);

    /* replacing one input moves one use */
    ir_set_input(g, mul, 1, a);
    CHECK(1, t->n_uses);
    CHECK(2, a->n_uses);
    CHECK_TRUE(listed(a, mul, 1) && !listed(t, mul, 1));
    CHECK(0, verify(g, &d));

    /* replacing all uses empties the old list */
    ir_replace_uses(g, t, b);
    CHECK(0, t->n_uses);
    CHECK(2, b->n_uses);
    CHECK_TRUE(listed(b, add, 1) && listed(b, mul, 0));
    CHECK(0, verify(g, &d));

    /* a killed node leaves every list it was on */
    ir_node_kill(add);
    CHECK(1, a->n_uses);
    CHECK(1, b->n_uses);
    CHECK_TRUE(!listed(a, add, 0) && !listed(b, add, 1));
    CHECK(0, verify(g, &d));

    /* growing a node's inputs moves its slots; shrinking drops uses */
    ir_set_n_in(g, mul, 4);
    CHECK(1, b->n_uses);
    CHECK_TRUE(listed(b, mul, 0) && listed(a, mul, 1));
    ir_set_input(g, mul, 3, b);
    CHECK(2, b->n_uses);
    CHECK(0, verify(g, &d));
    ir_set_n_in(g, mul, 2);
    CHECK(1, b->n_uses);
    CHECK(0, verify(g, &d));

    /* dead-code removal takes an unused node off its input's list */
    Node *relu = ir_add_node(g, "Relu", 0, "relu", 1, &u, NULL);
    CHECK(2, u->n_uses);
    PassCtx ctx = {.d = &d};
    CHECK(1, pass_dce(g, &ctx));
    CHECK_TRUE(relu->dead);
    CHECK(1, u->n_uses);
    CHECK_TRUE(listed(u, id, 0));
    CHECK(0, verify(g, &d));

    /* an outer-scope read from a subgraph is not on the outer value's list */
    Graph *sub = ir_graph_new(g);
    Node *inner = ir_node_new(sub, "Identity", "", "inner", 1, 1);
    ir_set_input(sub, inner, 0, a);
    CHECK(1, a->n_uses);
    CHECK(0, verify(sub, &d));
    ir_graph_free(sub);

    /* stale lists: an input written behind the lists' back, a node marked
     * dead without leaving them, a wrong count */
    mul->in[0] = a;
    CHECK(-1, verify(g, &d));
    CHECK_STR_CONTAINS(d.msg, "node 'mul' (Mul): IR verify: input 0 ('a') is not on its use list");
    ir_set_input(g, mul, 0, b);
    CHECK(0, verify(g, &d));
    Node *neg = ir_add_node(g, "Neg", 0, "neg", 1, &u, NULL);
    neg->dead = 1;
    CHECK(-1, verify(g, &d));
    CHECK_STR_CONTAINS(d.msg, "IR verify: a stale use of 'mul:0' (input 0)");
    ir_node_kill(neg);
    CHECK(0, verify(g, &d));
    u->n_uses++;
    CHECK(-1, verify(g, &d));
    CHECK_STR_CONTAINS(d.msg, "'mul:0' counts 2 uses, its list holds 1");
    u->n_uses--;
    CHECK(0, verify(g, &d));

    ir_graph_free(g);
    return CHECK_DONE();
}
