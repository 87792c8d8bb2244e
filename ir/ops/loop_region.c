/* loop_region.c: a Loop that runs at run time: its body compiled once between LoopBegin and LoopEnd.
 *
 * ir_infer_loop unrolls a Loop while its trip count and condition are known
 * at compile time; when either is known only at run time (or the count is
 * past the unroll limit) it hands the Loop here. The body is inlined once,
 * reading LoopBegin's outputs (iteration number, condition, loop-carried
 * values) and feeding LoopEnd, which the generated code and the interpreter
 * run again while it says so (runtime/k_loop.h). Every value of the body then
 * has one static type, the same in every iteration, and the planner gives
 * the region its buffers once (passes/plan_loop.c). The iterations are
 * bounded by --loop-max (LIM_LOOP_ITERS): the scan outputs are planned for
 * the bound, and their actual extent is the trip count, reported like any
 * other data-dependent extent (Value.dyn). */
#include <string.h>

#include "ir.h"

/* attributes of the LoopEnd this file makes: how its inputs split */
#define ATTR_N_CARRIED "onnxcc.n_carried"
#define ATTR_N_SCAN "onnxcc.n_scan"

int ir_loop_at_run_time(Graph *g, Node *n, const Graph *body, Value *const *init, Diag *d)
{
    int n_carried = n->n_in - 2, n_scan = body->n_outputs - 1 - n_carried;
    int mark = g->n_nodes;
    char name[192];
    Node *b = ir_node_new(g, "LoopBegin", "onnxcc", n->name, 2 + n_carried, 3 + n_carried);
    for (int i = 0; i < 2 + n_carried; i++)
        ir_set_input(g, b, i, init[i]);
    for (int i = 0; i < 3 + n_carried; i++) {
        const char *what = i == 0 ? "iter" : i == 1 ? "cond" : i == 2 + n_carried ? "go"
                                                                                 : NULL;
        if (what)
            snprintf(name, sizeof name, "%s/%s", n->name, what);
        else
            snprintf(name, sizeof name, "%s/%s", n->name, body->inputs[i]->name);
        b->out[i] = ir_value_new(g, name);
        b->out[i]->producer = b;
    }
    Value *outs[body->n_outputs + 1];
    snprintf(name, sizeof name, "%s/body", n->name);
    if (ir_inline_graph(g, body, b->out, outs, name, d) < 0)
        return -1;
    /* inputs: M, the body's condition, results and scan values, then the
     * state it updates; outputs: the Loop's, then the stage buffer */
    int n_in = 2 + n_carried + n_scan + 3 + n_carried, n_out = n_carried + n_scan + 1;
    Node *e = ir_node_new(g, "LoopEnd", "onnxcc", n->name, n_in, n_out);
    ir_set_input(g, e, 0, init[0]);
    for (int i = 0; i < 1 + n_carried + n_scan; i++)
        ir_set_input(g, e, 1 + i, outs[i]);
    for (int i = 0; i < 3 + n_carried; i++)
        ir_set_input(g, e, 2 + n_carried + n_scan + i, b->out[i]);
    for (int i = 0; i < n_carried + n_scan && i < n->n_out; i++) {
        e->out[i] = n->out[i];
        if (e->out[i])
            e->out[i]->producer = e;
    }
    if (n_carried >= 2) {
        snprintf(name, sizeof name, "%s/stage", n->name);
        e->out[n_out - 1] = ir_value_new(g, name);
        e->out[n_out - 1]->producer = e;
    }
    ir_set_attr_int(g, e, ATTR_N_CARRIED, n_carried);
    ir_set_attr_int(g, e, ATTR_N_SCAN, n_scan);
    ir_place_after(g, n, mark);
    ir_node_kill(n);
    return 0;
}

/* What a run-time loop can carry: tensors of whole-byte elements (strings
 * point into pools that each iteration reuses; sub-byte types do not slice). */
static int check_tensor(Diag *d, const Node *n, const Value *v, const char *what)
{
    if (v->kind != VK_TENSOR)
        return ir_node_error(d, n, "%s '%s' is a %s: a Loop that runs at run time carries "
                             "tensors only (a sequence needs the trip count at compile time, "
                             "to unroll the loop)", what, v->name,
                             v->kind == VK_SEQUENCE ? "sequence" : "optional");
    if (v->dtype == RT_STRING || rt_dtype_bits(v->dtype) % 8)
        return ir_node_error(d, n, "%s '%s' is %s, which a Loop that runs at run time does not "
                             "carry", what, v->name, rt_dtype_name(v->dtype));
    return 0;
}

static int check_scalar(Diag *d, const Node *n, const Value *v, int dtype, const char *what)
{
    if (v && (v->kind != VK_TENSOR || v->dtype != dtype || ir_numel(v) != 1))
        return ir_node_error(d, n, "%s '%s' must be one %s", what, v->name,
                             rt_dtype_name(dtype));
    return 0;
}

static void params(Node *n, int n_carried, int n_scan, int64_t bound, int extent)
{
    ir_param_int(n, RT_LOOP_N_CARRIED, n_carried);
    ir_param_int(n, RT_LOOP_N_SCAN, n_scan);
    ir_param_int(n, RT_LOOP_BOUND, bound);
    ir_param_int(n, RT_LOOP_EXTENT, extent);
}

int ir_infer_loop_begin(Graph *g, Node *n, Diag *d)
{
    int n_carried = n->n_in - 2;
    if (n_carried < 0 || n->n_out != n_carried + 3)
        return ir_node_error(d, n, "malformed LoopBegin");
    if (check_scalar(d, n, n->in[0], RT_I64, "the trip count") ||
        check_scalar(d, n, n->in[1], RT_BOOL, "the condition"))
        return -1;
    ir_set_out(n, 0, RT_I64, 0, NULL);
    ir_set_out(n, 1, RT_BOOL, 0, NULL);
    for (int j = 0; j < n_carried; j++) {
        const Value *v = n->in[2 + j];
        if (!v)
            return ir_node_error(d, n, "loop-carried value %d is omitted", j);
        if (check_tensor(d, n, v, "loop-carried value"))
            return -1;
        ir_set_out(n, 2 + j, v->dtype, v->rank, v->dims);
    }
    ir_set_out(n, 2 + n_carried, RT_BOOL, 0, NULL);
    params(n, n_carried, 0, g->limits.v[LIM_LOOP_ITERS], 0);
    return 0;
}

static void type_str(char *buf, size_t len, const Value *v)
{
    int k = snprintf(buf, len, "%s[", rt_dtype_name(v->dtype));
    for (int i = 0; i < v->rank && k > 0 && (size_t)k < len; i++)
        k += snprintf(buf + k, len - (size_t)k, "%s%lld", i ? "," : "", (long long)v->dims[i]);
    if (k > 0 && (size_t)k < len)
        snprintf(buf + k, len - (size_t)k, "]");
}

/* The trip count when the compiler knows it: M constant, no condition
 * that can stop the loop early; -1 otherwise. */
static int64_t static_trips(const Node *n, const Value *cond_init, const Value *cond_next)
{
    int64_t m;
    double c;
    if (!n->in[0] || ir_const_ints(n->in[0], &m, 1) != 1)
        return -1;
    if (cond_init && (ir_const_scalar(cond_init, &c) < 0 || c == 0))
        return -1;
    if (ir_const_scalar(cond_next, &c) < 0 || c == 0)
        return -1;
    return m < 0 ? 0 : m;
}

int ir_infer_loop_end(Graph *g, Node *n, Diag *d)
{
    int n_carried = (int)ir_attr_int(n, ATTR_N_CARRIED, -1);
    int n_scan = (int)ir_attr_int(n, ATTR_N_SCAN, -1);
    if (n_carried < 0 || n_scan < 0 || n->n_in != 5 + 2 * n_carried + n_scan ||
        n->n_out < n_carried + n_scan + 1)
        return ir_node_error(d, n, "malformed LoopEnd");
    Value *const *state = n->in + 2 + n_carried + n_scan;
    const Node *b = state[0]->producer;
    if (!n->in[1] || check_scalar(d, n, n->in[1], RT_BOOL, "the body's condition"))
        return n->in[1] ? -1 : ir_node_error(d, n, "the body has no condition output");
    int64_t stage = 0;
    for (int j = 0; j < n_carried; j++) {
        const Value *nx = n->in[2 + j], *cur = state[2 + j];
        if (check_tensor(d, n, nx, "loop-carried value"))
            return -1;
        int same = nx->dtype == cur->dtype && nx->rank == cur->rank;
        for (int i = 0; same && i < nx->rank; i++)
            same = nx->dims[i] == cur->dims[i];
        if (!same) {
            char a[128], z[128];
            type_str(a, sizeof a, cur);
            type_str(z, sizeof z, nx);
            ir_node_error(d, n, "loop-carried value '%s' enters the body as %s and leaves it "
                          "as '%s' %s: a Loop that runs at run time needs the same static "
                          "type every iteration", cur->name, a, nx->name, z);
            /* a trip count or condition from a graph input with a sample: the
             * sample compiled in unrolls the loop, where shapes may change */
            if (!ir_need_input(d, n->in[0]) && b)
                ir_need_input(d, b->in[1]);
            return -1;
        }
        ir_set_out(n, j, cur->dtype, cur->rank, cur->dims);
        stage += (int64_t)ir_nbytes(cur);
    }
    Value *st = n->out[n_carried + n_scan];
    if (st) {
        int64_t dims[1] = {stage};
        ir_set_out(n, n_carried + n_scan, RT_U8, 1, dims);
    }
    int64_t bound = g->limits.v[LIM_LOOP_ITERS];
    int64_t trips = static_trips(n, b ? b->in[1] : NULL, n->in[1]);
    if (trips > bound)
        return ir_node_error(d, n, "runs %lld iterations, above the bound of %lld "
                             "(--loop-max N raises it)", (long long)trips, (long long)bound);
    /* a constant M below the bound is the tighter bound of the scan outputs */
    int64_t cap = bound, m;
    if (n->in[0] && ir_const_ints(n->in[0], &m, 1) == 1 && m < cap)
        cap = m < 0 ? 0 : m;
    for (int s = 0; s < n_scan; s++) {
        const Value *v = n->in[2 + n_carried + s];
        if (check_tensor(d, n, v, "scan value"))
            return -1;
        if (v->rank + 1 > IR_MAX_RANK)
            return ir_node_error(d, n, "scan output %d would have rank %d, above %d", s,
                                 v->rank + 1, IR_MAX_RANK);
        int64_t dims[IR_MAX_RANK];
        dims[0] = trips >= 0 ? trips : cap;
        memcpy(dims + 1, v->dims, sizeof(int64_t) * (size_t)v->rank);
        if (trips >= 0)
            ir_set_out(n, n_carried + s, v->dtype, v->rank + 1, dims);
        else
            ir_set_out_dyn(g, n, n_carried + s, v->dtype, v->rank + 1, dims, 0);
    }
    int extent = n->n_out > n_carried + n_scan + 1;
    params(n, n_carried, n_scan, bound, extent);
    return 0;
}
