/* shape.c: shape inference: every value gets a static dtype and shape, shape subgraphs become constants. */
#include <string.h>

#include "passes.h"

/* Outputs up to this many elements are computed at compile time when all
 * their inputs are known: this is what turns Shape -> Gather -> Concat ->
 * Reshape chains into constants, so every shape stays static. Larger
 * constant computations are left to pass_fold. */
#define SHAPE_EVAL_LIMIT 4096
/* A node with a data-dependent output shape is folded up to this many
 * elements when its inputs are known: folding is what gives its consumers
 * a static shape. */
#define SHAPE_EVAL_DYN_LIMIT ((int64_t)1 << 24)

static int check_input(const Graph *g, Value *v, Diag *d)
{
    if (v->kind != VK_TENSOR && v->n_elems < 0)
        return ir_error(d, "input '%s' is %s: give a sample of it (an ONNX %s file) so onnxcc "
                        "knows its length and element shapes", v->name,
                        v->kind == VK_SEQUENCE ? "a sequence" : "an optional",
                        v->kind == VK_SEQUENCE ? "SequenceProto" : "OptionalProto");
    if (v->kind != VK_TENSOR)
        return 0;
    if (v->dtype == RT_UNDEF)
        return ir_error(d, "input '%s' has no tensor type", v->name);
    if (v->rank < 0)
        return ir_error(d, "input '%s' has an unknown rank: bind it with --shape %s=D0xD1x...",
                        v->name, v->name);
    for (int i = 0; i < v->rank; i++) {
        if (v->dims[i] >= 0)
            continue;
        if (v->dim_param[i])
            return ir_error(d, "input '%s': dimension %d is the free dimension '%s': bind it "
                            "with --dim %s=N or --shape %s=...", v->name, i, v->dim_param[i],
                            v->dim_param[i], v->name);
        return ir_error(d, "input '%s': dimension %d is unknown: bind it with --shape %s=...",
                        v->name, i, v->name);
    }
    char why[256];
    if (ir_check_tensor(&g->limits, v->dtype, v->rank, v->dims, why, sizeof why))
        return ir_error(d, "input '%s' %s", v->name, why);
    return 0;
}

static int small_enough(const Node *n)
{
    int64_t total = 0;
    int dyn = 0;
    for (int i = 0; i < n->n_out; i++)
        if (n->out[i]) {
            total += ir_numel(n->out[i]);
            dyn |= n->out[i]->dyn;
        }
    return total <= (dyn ? SHAPE_EVAL_DYN_LIMIT : SHAPE_EVAL_LIMIT);
}

static int inputs_constant(const Node *n)
{
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] && !n->in[i]->data)
            return 0;
    return 1;
}

/* Why a known ONNX op has no implementation, for the ones left out on purpose. */
static const char *unsupported_why(const Node *n)
{
    static const char *const random_ops[] = {"Bernoulli", "RandomUniform", "RandomNormal",
                                             "RandomUniformLike", "RandomNormalLike",
                                             "Multinomial"};
    if (!strcmp(n->domain, "ai.onnx.preview.training"))
        return ": a training op, and onnxcc compiles inference";
    if (!n->domain[0] && !strcmp(n->op_type, "ImageDecoder"))
        return ": decoding images (JPEG, PNG, ...) needs image codecs, out of scope for a "
               "runtime that depends on nothing but libc and libm";
    for (size_t i = 0; !n->domain[0] && i < sizeof random_ops / sizeof random_ops[0]; i++)
        if (!strcmp(n->op_type, random_ops[i]))
            return ": its output is random, and onnxcc compiles deterministic inference";
    return "";
}

/* Whether v is computed from a graph input the user gave a sample of. */
static int from_sample(const PassCtx *ctx, const Value *v)
{
    Diag tmp = {0};
    if (!ctx->n_sampled || !ir_need_input(&tmp, v))
        return 0;
    for (int i = 0; i < ctx->n_sampled; i++)
        if (!strcmp(ctx->sampled[i], tmp.need_const))
            return 1;
    return 0;
}

/* pass_shape: requires every graph input to be typed (after ir_bind);
 * leaves every live value with a known dtype and static shape, and every
 * node with its kernel parameters. Fails on the first unsupported op. */
int pass_shape(Graph *g, PassCtx *ctx)
{
    Diag *d = ctx->d;
    int evaluated = 0;
    for (int i = 0; i < g->n_inputs; i++)
        if (check_input(g, g->inputs[i], d) < 0)
            return -1;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (n->dead)
            continue;
        if (g->n_nodes > g->limits.v[LIM_NODES])
            return ir_error(d, "the graph has %d nodes (loops unrolled), above the limit of %lld "
                            "(--limit nodes=N raises it)", g->n_nodes,
                            (long long)g->limits.v[LIM_NODES]);
        if (n->op == OP_UNKNOWN)
            return ir_node_error(d, n, "not supported%s", unsupported_why(n));
        /* every ONNX op has a first output; infer functions set it unchecked */
        if (n->n_out == 0)
            return ir_node_error(d, n, "has no outputs");
        for (int i = 0; i < n->n_in; i++) {
            Value *v = n->in[i];
            if (v && !ir_shape_known(v))
                return ir_node_error(d, n, "input %d ('%s') has no known type or shape", i,
                                     v->name);
            if (v && v->kind != VK_TENSOR && !ir_op_takes_structures(n->op))
                return ir_node_error(d, n, "input %d ('%s') is a %s, not a tensor", i, v->name,
                                     v->kind == VK_SEQUENCE ? "sequence" : "optional");
            /* the one place that keeps data-dependent shapes away from ops
             * (their infer functions all assume static shapes) */
            if (v && v->dyn)
                return ir_node_error(d, n, "input '%s' has a data-dependent shape (up to %lld "
                                     "along axis %d); onnxcc supports such values only as "
                                     "graph outputs", v->name, (long long)v->dims[v->dyn_axis],
                                     v->dyn_axis);
        }
        if (ir_check_narrow(n, 0, d))
            return -1;
        n->n_ints = n->n_floats = 0;
        /* a shape computed from run-time dims: inference sizes the output
         * for its value at the bounds; the node reads the actual one */
        uint32_t vi = ir_rt_value_inputs(n), probed = 0;
        for (int i = 0; i < n->n_in; i++)
            if ((vi >> i & 1) && ir_rt_unknown(n->in[i]) &&
                (ctx->static_values || from_sample(ctx, n->in[i])))
                return ir_err_not_const(d, n, i);
        for (int i = 0; i < n->n_in; i++)
            if ((vi >> i & 1) && n->in[i] && n->in[i]->rt_data[0] && !n->in[i]->data) {
                n->in[i]->data = n->in[i]->rt_data[0];
                probed |= 1u << i;
            }
        int rc = ir_ops[n->op].infer(g, n, d);
        for (int i = 0; i < n->n_in; i++)
            if (probed >> i & 1)
                n->in[i]->data = NULL;
        /* a wrong-typed attribute read as its default is the cause of whatever
         * infer made of it: it replaces infer's own error */
        for (int i = 0; i < n->n_attrs; i++)
            if (n->attrs[i].wanted) {
                d->n_errors = 0;
                d->msg[0] = d->need_const[0] = 0;
                return ir_attr_check(n, d);
            }
        if (rc < 0)
            return -1;
        /* lowering replaced n by other nodes, or resolved it completely */
        if (g->nodes[k] != n) {
            k--;
            continue;
        }
        if (n->dead)
            continue;
        if (ir_check_narrow(n, 1, d))
            return -1;
        if (ir_rt_node(g, n, d) < 0 || ir_rt_values(g, n, d) < 0)
            return -1;
        for (int i = 0; i < n->n_out; i++) {
            Value *v = n->out[i];
            if (v && !ir_shape_known(v))
                return ir_node_error(d, n, "output %d ('%s') has no inferred shape", i, v->name);
            char why[256];
            /* run-time extents: ir_rt_node checked the count they are planned for */
            if (v && v->kind == VK_TENSOR && !v->rt_mask &&
                ir_check_tensor(&g->limits, v->dtype, v->rank, v->dims, why, sizeof why))
                return ir_node_error(d, n, "output '%s' %s", v->name, why);
        }
        if (ir_node_is_constant(n) || !ir_ops[n->op].kernel || !inputs_constant(n) ||
            !small_enough(n))
            continue;
        if (ir_eval_node(g, n, d) < 0)
            return -1;
        evaluated++;
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (!ir_shape_known(g->outputs[i]))
            return ir_error(d, "output '%s' is not produced by any node", g->outputs[i]->name);
    if (ir_flatten_outputs(g, d) < 0)
        return -1;
    return evaluated;
}
