/* emit_loop.c: the control flow around a run-time Loop's region in the generated C (see runtime/k_loop.h). */
#include "codegen/codegen.h"

/* The `go` flag of the Loop node n marks (LoopBegin's last output, LoopEnd's
 * last input): a byte in the arena, also what names the loop's labels. */
const Value *cgc_loop_go_flag(const Node *n)
{
    if (n->op == OP_LOOP_BEGIN)
        return n->out[n->n_out - 1];
    if (n->op == OP_LOOP_END)
        return n->in[n->n_in - 1];
    return NULL;
}

const char *cgc_kernel_name(const Node *n)
{
    if (n->op == OP_LOOP_BEGIN)
        return "rt_loop_begin";
    if (n->op == OP_LOOP_END)
        return "rt_loop_end";
    return ir_ops[n->op].kernel_name;
}

/* Before LoopBegin: a LoopBegin that a run-time If skips must not leave an
 * earlier run's `go` behind, or the region would run on stale state. Before
 * LoopEnd: where a loop that runs zero times lands. */
void cgc_loop_before(Emitter *e, const Node *n)
{
    const Value *go = cgc_loop_go_flag(n);
    if (go && n->op == OP_LOOP_BEGIN)
        emitf(e, "    *(unsigned char *)(A + %lld) = 0; /* the loop has not started */\n",
              (long long)go->offset);
    else if (go)
        emitf(e, "loop%d_end:;\n", go->id);
}

/* After LoopBegin: skip the body when the loop runs zero times (LoopEnd
 * still writes the outputs); after LoopEnd: run the body again. */
void cgc_loop_after(Emitter *e, const Node *n)
{
    const Value *go = cgc_loop_go_flag(n);
    if (!go)
        return;
    IR_ASSERT(go->offset >= 0);
    if (n->op == OP_LOOP_BEGIN)
        emitf(e, "    if (!*(const unsigned char *)(A + %lld))\n        goto loop%d_end;\n"
                 "loop%d_top:;\n", (long long)go->offset, go->id, go->id);
    else
        emitf(e, "    if (*(const unsigned char *)(A + %lld))\n        goto loop%d_top;\n",
              (long long)go->offset, go->id);
}

void cgc_loop_header(Emitter *e, const Graph *g, const char *NAME)
{
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (n->dead || n->op != OP_LOOP_BEGIN)
            continue;
        emitf(e, "/* Loops whose trip count or condition is known only at run time run at\n"
                 " * most this many iterations (--loop-max); one that needs more makes the\n"
                 " * run return RT_EBOUND. Their scan outputs are sized for it. */\n"
                 "#define %s_LOOP_MAX %lld\n\n", NAME, (long long)n->ints[RT_LOOP_BOUND]);
        return;
    }
}
