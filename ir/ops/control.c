/* control.c: If, Loop, Scan and SequenceMap, lowered at compile time into
 * the graph that holds them, so that plans, kernels and emitters only ever
 * see straight-line tensor code:
 * - If with a constant condition inlines the branch taken; otherwise both
 *   branches are inlined and Where selects each output (tensor outputs of one
 *   type only: a branch choice that changes a type or a structure needs the
 *   condition at compile time);
 * - Loop is unrolled one iteration at a time, so each iteration's condition
 *   and trip count are known when the next is decided; when one of them is
 *   known only at run time, or the count is past the unroll limit, the loop
 *   stays a loop (ir/ops/loop_region.c) and its body is compiled once;
 * - Scan and SequenceMap are unrolled over their (static) lengths.
 * Subgraph nodes are copied with ir_inline_graph and placed in the schedule
 * where pass_shape will infer them next. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "shape_util.h"

/* iterations one node may unroll into */
#define UNROLL_LIMIT 4096

static const Graph *body_attr(Diag *d, const Node *n, const char *name)
{
    const Attr *a = ir_attr(n, name);
    if (!a || a->type != AT_GRAPH || !a->g) {
        ir_node_error(d, n, "has no '%s' graph", name);
        return NULL;
    }
    return a->g;
}

/* out = v after the current node: an Identity, which also carries a
 * sequence or optional. */
static void forward(Graph *g, Value *v, Value *out)
{
    if (out)
        ir_add_node(g, "Identity", 0, NULL, 1, &v, out);
}

/* Stacks parts along a new axis (an Unsqueeze each, then one Concat). */
static void stack(Graph *g, Value *const *parts, int n, int64_t axis, Value *out)
{
    Value *u[n];
    for (int i = 0; i < n; i++) {
        Value *q[2] = {parts[i], ir_const_i64(g, &axis, 1, (int64_t[]){1})};
        u[i] = ir_add_node(g, "Unsqueeze", 13, NULL, 2, q, n == 1 ? out : NULL)->out[0];
    }
    if (n > 1)
        ir_set_attr_int(g, ir_add_node(g, "Concat", 13, NULL, n, u, out), "axis", axis);
}

/* x[idx] along axis, the axis dropped. */
static Value *take(Graph *g, Value *x, int64_t idx, int64_t axis)
{
    Value *q[2] = {x, ir_const_i64(g, &idx, 0, NULL)};
    Node *t = ir_add_node(g, "Gather", 13, NULL, 2, q, NULL);
    ir_set_attr_int(g, t, "axis", axis);
    return t->out[0];
}

int ir_infer_if(Graph *g, Node *n, Diag *d)
{
    const Value *c = ir_input(n, 0);
    const Graph *br[2] = {body_attr(d, n, "else_branch"), NULL};
    if (!br[0] || !(br[1] = body_attr(d, n, "then_branch")))
        return -1;
    if (!c || c->kind != VK_TENSOR || ir_numel(c) != 1)
        return ir_node_error(d, n, "the condition must be a tensor of one element");
    for (int b = 0; b < 2; b++)
        if (br[b]->n_outputs != n->n_out)
            return ir_node_error(d, n, "%s has %d outputs, the node %d",
                                 b ? "then_branch" : "else_branch", br[b]->n_outputs, n->n_out);
    double cv;
    int known = ir_const_scalar(c, &cv) == 0;
    for (int i = 0; !known && i < n->n_out; i++)
        if (br[0]->outputs[i]->kind != VK_TENSOR || br[1]->outputs[i]->kind != VK_TENSOR)
            return ir_err_not_const(d, n, 0);
    int mark = g->n_nodes;
    Value *outs[2][n->n_out + 1];
    char prefix[192];
    for (int b = 0; b < 2; b++) {
        if (known && (cv != 0) != b)
            continue;
        snprintf(prefix, sizeof prefix, "%s/%s", n->name, b ? "then" : "else");
        if (ir_inline_graph(g, br[b], NULL, outs[b], prefix, d) < 0)
            return -1;
    }
    if (known) {
        for (int i = 0; i < n->n_out; i++)
            forward(g, outs[cv != 0][i], n->out[i]);
    } else {
        Value *q[2] = {n->in[0], ir_const_i64(g, NULL, 1, (int64_t[]){0})};
        Value *scalar = ir_add_node(g, "Reshape", 13, NULL, 2, q, NULL)->out[0];
        for (int i = 0; i < n->n_out; i++) {
            Value *w[3] = {scalar, outs[1][i], outs[0][i]};
            if (n->out[i])
                ir_set_attr_int(g, ir_add_node(g, "Where", 16, n->name, 3, w, n->out[i]),
                                IR_ATTR_IF_SELECT, 1);
        }
    }
    ir_place_after(g, n, mark);
    ir_node_kill(n);
    return 0;
}

/* The error for a Loop that must run at run time while scan output v has a
 * reader (only a graph output may have a length known at run time). It
 * names the graph input that decides the trip count, as ir_err_not_const
 * does, so a sample of it can be compiled in. */
static int scan_read(Diag *d, const Node *n, const Value *v, const char *what, int too_long)
{
    int scan = !strcmp(what, "scan output");
    if (too_long)
        return ir_node_error(d, n, "runs more than %d iterations, and its %s '%s' %s: only a "
                             "loop unrolled at compile time can have that", UNROLL_LIMIT, what,
                             v->name, scan ? "is read by another node" : "is not a tensor");
    int64_t m;
    int which = n->in[0] && ir_const_ints(n->in[0], &m, 1) != 1 ? 0 : 1;
    Diag why = {.file = d->file};
    ir_err_not_const(&why, n, which);
    snprintf(d->need_const, sizeof d->need_const, "%s", why.need_const);
    const char *need = scan ? "is read by another node, so its length must be known at "
                              "compile time"
                            : "needs the loop unrolled at compile time";
    if (!why.need_const[0])
        return ir_node_error(d, n, "%s '%s' %s, but the loop's %s is not", what, v->name, need,
                             which ? "condition" : "trip count");
    return ir_node_error(d, n, "%s '%s' %s, and graph input '%s' decides it: bind it with "
                         "--const %s=FILE (a loop that runs at run time carries tensors only, "
                         "and its scan outputs' length is known only then, which only a graph "
                         "output may have)", what, v->name, need, why.need_const,
                         why.need_const);
}

/* Loop: each visit peels one iteration: the body's copy goes before n, and n
 * comes back with the new loop-carried values, until the trip count or the
 * condition ends it; then its outputs are the last carried values and the
 * stacked scan outputs. A Loop that cannot be unrolled starts over from its
 * first inputs as a run-time loop (the copies peeled so far feed nothing
 * then, and pass_dce drops them). */
int ir_infer_loop(Graph *g, Node *n, Diag *d)
{
    const Graph *body = body_attr(d, n, "body");
    if (!body)
        return -1;
    int n_carried = n->n_in - 2;
    if (n_carried < 0 || body->n_inputs != n_carried + 2 || body->n_outputs < n_carried + 1)
        return ir_node_error(d, n, "its body has %d inputs and %d outputs for %d loop-carried "
                             "values", body->n_inputs, body->n_outputs, n_carried);
    int n_scan = body->n_outputs - 1 - n_carried;
    if (n->n_out > n_carried + n_scan)
        return ir_node_error(d, n, "has %d outputs, its body makes %d", n->n_out,
                             n_carried + n_scan);
    if (n->in[1] && n->in[1]->dtype != RT_BOOL)
        return ir_node_error(d, n, "the condition is %s, expected bool",
                             rt_dtype_name(n->in[1]->dtype));
    if (n->iter == 0) {
        n->loop_init = ir_alloc(g, sizeof(Value *) * (size_t)(n->n_in + 1));
        IR_ASSERT(n->loop_init);
        memcpy(n->loop_init, n->in, sizeof(Value *) * (size_t)n->n_in);
    }
    int64_t max = INT64_MAX;
    int unroll = !n->in[0] || ir_const_ints(n->in[0], &max, 1) == 1;
    int go = n->iter < max;
    double cv = 0;
    if (unroll && go && n->in[1]) {
        unroll = ir_const_scalar(n->in[1], &cv) == 0;
        go = cv != 0;
    }
    if (!unroll || (go && (n->iter >= UNROLL_LIMIT || (n->in[0] && max > UNROLL_LIMIT)))) {
        /* a run-time loop's scan outputs have their length only at run
         * time, which only a graph output may have: another reader needs
         * the loop unrolled, so the input that decides it must be known
         * (compiled in from a sample when there is one) */
        for (int s = n_carried; s < n->n_out; s++)
            if (n->out[s] && n->out[s]->n_uses)
                return scan_read(d, n, n->out[s], "scan output", unroll);
        /* a run-time loop carries tensors only (a sequence's length is part
         * of its type, and may change every iteration) */
        for (int j = 0; j < n_carried; j++)
            if (n->loop_init[2 + j] && n->loop_init[2 + j]->kind != VK_TENSOR)
                return scan_read(d, n, n->loop_init[2 + j],
                                 n->loop_init[2 + j]->kind == VK_SEQUENCE
                                     ? "loop-carried sequence"
                                     : "loop-carried optional",
                                 unroll);
        return ir_loop_at_run_time(g, n, body, n->loop_init, d);
    }
    int mark = g->n_nodes;
    if (go) {
        Value *in_map[n_carried + 2], *outs[body->n_outputs + 1];
        in_map[0] = ir_const_i64(g, &n->iter, 0, NULL);
        in_map[1] = n->in[1] ? n->in[1] : ir_const_bool(g, 1);
        for (int j = 0; j < n_carried; j++)
            in_map[2 + j] = n->in[2 + j];
        char prefix[192];
        snprintf(prefix, sizeof prefix, "%s/%lld", n->name, (long long)n->iter);
        if (ir_inline_graph(g, body, in_map, outs, prefix, d) < 0)
            return -1;
        ir_set_input(g, n, 1, outs[0]);
        for (int j = 0; j < n_carried; j++)
            ir_set_input(g, n, 2 + j, outs[1 + j]);
        if (n_scan) {
            /* the parts array doubles when the count reaches a power of two */
            int64_t it = n->iter;
            if ((it & (it - 1)) == 0) {
                Value **p = ir_alloc(g, sizeof *p * (size_t)n_scan * (size_t)(it ? 2 * it : 1));
                if (!p)
                    return ir_node_error(d, n, "out of memory unrolling");
                if (it)
                    memcpy(p, n->scan_parts, sizeof *p * (size_t)n_scan * (size_t)it);
                n->scan_parts = p;
            }
            for (int s = 0; s < n_scan; s++)
                n->scan_parts[it * n_scan + s] = outs[1 + n_carried + s];
        }
        n->iter++;
        ir_place_before(g, n, mark);
        return 0;
    }
    for (int j = 0; j < n_carried && j < n->n_out; j++)
        forward(g, n->in[2 + j], n->out[j]);
    for (int s = 0; s < n_scan && n_carried + s < n->n_out; s++) {
        Value *out = n->out[n_carried + s];
        if (!out)
            continue;
        if (n->iter == 0)
            return ir_node_error(d, n, "runs zero times, so scan output '%s' has no shape",
                                 out->name);
        Value *parts[n->iter];
        for (int64_t i = 0; i < n->iter; i++)
            parts[i] = n->scan_parts[i * n_scan + s];
        stack(g, parts, (int)n->iter, 0, out);
    }
    ir_place_after(g, n, mark);
    ir_node_kill(n);
    return 0;
}

/* Scan 9+: scan inputs sliced along their axes, outputs stacked along theirs. */
typedef struct ScanSpec {
    int n_state, n_in, n_out;    /* loop-carried values, scan inputs, scan outputs */
    int64_t in_axis[IR_MAX_INTS], in_rev[IR_MAX_INTS];
    int64_t out_axis[IR_MAX_INTS], out_rev[IR_MAX_INTS];
} ScanSpec;

/* Unrolls one scan over length len: states in st[] (updated), scan inputs
 * xs[], each iteration's scan outputs into parts[s * len + t]. */
static int unroll_scan(Graph *g, Node *n, const Graph *body, const ScanSpec *sp, Value **st,
                       Value *const *xs, int64_t len, Value **parts, const char *tag, Diag *d)
{
    for (int64_t t = 0; t < len; t++) {
        Value *in_map[sp->n_state + sp->n_in + 1], *outs[body->n_outputs + 1];
        for (int j = 0; j < sp->n_state; j++)
            in_map[j] = st[j];
        for (int i = 0; i < sp->n_in; i++)
            in_map[sp->n_state + i] = take(g, xs[i], sp->in_rev[i] ? len - 1 - t : t,
                                           sp->in_axis[i]);
        char prefix[192];
        snprintf(prefix, sizeof prefix, "%s%s/%lld", n->name, tag, (long long)t);
        if (ir_inline_graph(g, body, in_map, outs, prefix, d) < 0)
            return -1;
        for (int j = 0; j < sp->n_state; j++)
            st[j] = outs[j];
        for (int s = 0; s < sp->n_out; s++)
            parts[s * len + (sp->out_rev[s] ? len - 1 - t : t)] = outs[sp->n_state + s];
    }
    return 0;
}

static int axes_attr(Diag *d, const Node *n, const char *name, int64_t *out, int count)
{
    for (int i = 0; i < count; i++)
        out[i] = 0;
    int k = ir_attr_ints(n, name, out, IR_MAX_INTS);
    if (k >= 0 && k != count)
        return ir_node_error(d, n, "%s has %d values for %d tensors", name, k, count);
    return 0;
}

int ir_infer_scan(Graph *g, Node *n, Diag *d)
{
    const Graph *body = body_attr(d, n, "body");
    if (!body)
        return -1;
    ScanSpec sp;
    int batched = n->opset < 9, off = batched ? 1 : 0;
    /* range-checked before it is narrowed to int and subtracted from */
    int64_t n_scan = ir_attr_int(n, "num_scan_inputs", -1);
    sp.n_in = n_scan < 1 || n_scan > IR_MAX_INTS ? -1 : (int)n_scan;
    sp.n_state = n->n_in - off - sp.n_in;
    sp.n_out = body->n_outputs - sp.n_state;
    if (sp.n_in < 1 || sp.n_in > IR_MAX_INTS || sp.n_state < 0 || sp.n_out < 0 ||
        sp.n_out > IR_MAX_INTS || body->n_inputs != sp.n_state + sp.n_in ||
        n->n_out > sp.n_state + sp.n_out)
        return ir_node_error(d, n, "num_scan_inputs, inputs, outputs and body do not agree");
    if (axes_attr(d, n, batched ? "directions" : "scan_input_directions", sp.in_rev, sp.n_in) ||
        axes_attr(d, n, "scan_input_axes", sp.in_axis, sp.n_in) ||
        axes_attr(d, n, "scan_output_axes", sp.out_axis, sp.n_out) ||
        axes_attr(d, n, "scan_output_directions", sp.out_rev, sp.n_out))
        return -1;
    Value *xs[sp.n_in], *st[sp.n_state + 1];
    int64_t len = -1, batch = 1;
    for (int i = 0; i < sp.n_in; i++) {
        Value *x = n->in[off + sp.n_state + i];
        if (!x || x->kind != VK_TENSOR)
            return ir_node_error(d, n, "scan input %d must be a tensor", i);
        int r = x->rank - batched;
        int ax = batched ? 0 : ir_axis(sp.in_axis[i], r);
        if (ax < 0 || r < 1)
            return ir_node_error(d, n, "scan input %d: axis out of range", i);
        sp.in_axis[i] = ax;
        int64_t l = x->dims[ax + batched];
        if (len >= 0 && l != len)
            return ir_node_error(d, n, "scan inputs have lengths %lld and %lld", (long long)len,
                                 (long long)l);
        len = l;
        batch = batched ? x->dims[0] : 1;
        xs[i] = x;
    }
    if (len < 1 && sp.n_out)
        return ir_node_error(d, n, "scans zero steps, so its scan outputs have no shape");
    if (batched && batch < 1)
        return ir_node_error(d, n, "has an empty batch, so its outputs have no shape");
    if (len * batch > UNROLL_LIMIT)
        return ir_node_error(d, n, "scans %lld steps: onnxcc unrolls scans at compile time, and "
                             "more than %d steps are not supported", (long long)(len * batch),
                             UNROLL_LIMIT);
    if (batched && n->in[0]) {
        int64_t lens[UNROLL_LIMIT];
        int k = ir_const_ints(n->in[0], lens, UNROLL_LIMIT);
        if (k < 0)
            return ir_err_not_const(d, n, 0);
        for (int b = 0; b < k; b++)
            if (lens[b] != len)
                return ir_node_error(d, n, "sequence_lens other than the full length are not "
                                     "supported");
    }
    int mark = g->n_nodes;
    Value **parts = calloc((size_t)(sp.n_out * len * batch) + 1, sizeof *parts);
    Value **fin = calloc((size_t)(sp.n_state * batch) + 1, sizeof *fin);
    IR_ASSERT(parts && fin);
    int rc = 0;
    for (int64_t b = 0; b < batch && rc == 0; b++) {
        Value *bx[sp.n_in];
        char tag[32] = "";
        for (int j = 0; j < sp.n_state; j++)
            st[j] = batched ? take(g, n->in[off + j], b, 0) : n->in[off + j];
        for (int i = 0; i < sp.n_in; i++)
            bx[i] = batched ? take(g, xs[i], b, 0) : xs[i];
        if (batched)
            snprintf(tag, sizeof tag, "/b%lld", (long long)b);
        Value **pb = parts + b * sp.n_out * len;
        rc = unroll_scan(g, n, body, &sp, st, bx, len, pb, tag, d);
        if (rc == 0 && batched) {
            /* each scan output is stacked over time here, over the batch below */
            for (int s = 0; s < sp.n_out; s++) {
                Value *y = ir_value_new(g, NULL);
                stack(g, pb + s * len, (int)len, 0, y);
                pb[s * len] = y;
            }
        }
        for (int j = 0; j < sp.n_state; j++)
            fin[j * batch + b] = st[j];
    }
    for (int j = 0; j < sp.n_state && j < n->n_out && rc == 0; j++) {
        if (!n->out[j])
            continue;
        if (batched)
            stack(g, fin + j * batch, (int)batch, 0, n->out[j]);
        else
            forward(g, fin[j], n->out[j]);
    }
    for (int s = 0; s < sp.n_out && rc == 0; s++) {
        Value *out = sp.n_state + s < n->n_out ? n->out[sp.n_state + s] : NULL;
        if (!out)
            continue;
        if (batched) {
            Value *per[batch];
            for (int64_t b = 0; b < batch; b++)
                per[b] = parts[b * sp.n_out * len + s * len];
            stack(g, per, (int)batch, 0, out);
        } else {
            stack(g, parts + s * len, (int)len, sp.out_axis[s], out);
        }
    }
    free(fin);
    free(parts);
    if (rc < 0)
        return -1;
    ir_place_after(g, n, mark);
    ir_node_kill(n);
    return 0;
}

/* SequenceMap: the body once per element; its outputs gathered into sequences. */
int ir_infer_sequence_map(Graph *g, Node *n, Diag *d)
{
    const Graph *body = body_attr(d, n, "body");
    if (!body)
        return -1;
    const Value *s0 = ir_input(n, 0);
    if (!s0 || s0->kind != VK_SEQUENCE)
        return ir_node_error(d, n, "input 0 must be a sequence");
    int len = s0->n_elems;
    if (body->n_inputs != n->n_in || body->n_outputs != n->n_out)
        return ir_node_error(d, n, "its body has %d inputs and %d outputs, the node %d and %d",
                             body->n_inputs, body->n_outputs, n->n_in, n->n_out);
    for (int j = 1; j < n->n_in; j++)
        if (n->in[j] && n->in[j]->kind == VK_SEQUENCE && n->in[j]->n_elems != len)
            return ir_node_error(d, n, "input %d has %d elements, input 0 has %d", j,
                                 n->in[j]->n_elems, len);
    int mark = g->n_nodes;
    Value **parts = calloc((size_t)(n->n_out * len) + 1, sizeof *parts);
    IR_ASSERT(parts);
    for (int i = 0; i < len; i++) {
        Value *in_map[n->n_in + 1], *outs[n->n_out + 1];
        for (int j = 0; j < n->n_in; j++)
            in_map[j] = n->in[j] && n->in[j]->kind == VK_SEQUENCE ? n->in[j]->elems[i]
                                                                 : n->in[j];
        char prefix[192];
        snprintf(prefix, sizeof prefix, "%s/%d", n->name, i);
        if (ir_inline_graph(g, body, in_map, outs, prefix, d) < 0) {
            free(parts);
            return -1;
        }
        for (int o = 0; o < n->n_out; o++)
            parts[o * len + i] = outs[o];
    }
    for (int o = 0; o < n->n_out; o++) {
        if (!n->out[o])
            continue;
        if (len)
            ir_add_node(g, "SequenceConstruct", 0, n->name, len, parts + o * len, n->out[o]);
        else
            ir_add_node(g, "SequenceEmpty", 0, n->name, 0, NULL, n->out[o]);
    }
    free(parts);
    ir_place_after(g, n, mark);
    ir_node_kill(n);
    return 0;
}
