/* rnn.c: shapes and kernel parameters of the recurrent ops RNN, GRU and LSTM. */
#include <string.h>

#include "ir.h"

/* ONNX activation names (case as the spec writes them) and their default
 * alpha/beta, from the spec's list of activation functions. */
static const struct {
    const char *name;
    int code;
    float alpha, beta;
    int n_params;                /* how many of alpha, beta the function reads */
} acts[] = {
    {"Relu", RT_ACT_RELU, 0.0f, 0.0f, 0},
    {"Tanh", RT_ACT_TANH, 0.0f, 0.0f, 0},
    {"Sigmoid", RT_ACT_SIGMOID, 0.0f, 0.0f, 0},
    {"Affine", RT_ACT_AFFINE, 1.0f, 0.0f, 2},
    {"LeakyRelu", RT_ACT_LEAKY_RELU, 0.01f, 0.0f, 1},
    {"ThresholdedRelu", RT_ACT_THRESHOLDED_RELU, 1.0f, 0.0f, 1},
    {"ScaledTanh", RT_ACT_SCALED_TANH, 1.0f, 1.0f, 2},
    {"HardSigmoid", RT_ACT_HARD_SIGMOID, 0.2f, 0.5f, 2},
    {"Elu", RT_ACT_ELU, 1.0f, 0.0f, 1},
    {"Softsign", RT_ACT_SOFTSIGN, 0.0f, 0.0f, 0},
    {"Softplus", RT_ACT_SOFTPLUS, 0.0f, 0.0f, 0},
};

static int find_act(const char *s)
{
    for (int i = 0; i < (int)(sizeof acts / sizeof acts[0]); i++) {
        const char *a = acts[i].name;
        size_t k = 0;
        /* Exporters differ in case ("tanh", "Tanh"): compare without it. */
        while (a[k] && s[k] && (a[k] | 32) == (s[k] | 32))
            k++;
        if (!a[k] && !s[k])
            return i;
    }
    return -1;
}

/* The shared infer of the three ops; kind is RT_RNN_SIMPLE/GRU/LSTM. */
static int infer_recurrent(Node *n, Diag *d, int kind)
{
    static const char *const defaults[3][3] = {
        {"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
    int ng = kind == RT_RNN_LSTM ? 4 : (kind == RT_RNN_GRU ? 3 : 1);
    int apd = kind == RT_RNN_LSTM ? 3 : (kind == RT_RNN_GRU ? 2 : 1);
    const Value *x = ir_input(n, 0), *w = ir_input(n, 1), *r = ir_input(n, 2);
    if (!x || !w || !r)
        return ir_node_error(d, n, "inputs X, W and R are required");
    for (int i = 0; i < n->n_in && i < 8; i++) {
        const Value *v = n->in[i];
        if (v && i != 4 && v->dtype != RT_F32)
            return ir_node_error(d, n, "input %d has dtype %s; only float32 is supported", i,
                                 rt_dtype_name(v->dtype));
    }
    if (x->rank != 3 || w->rank != 3 || r->rank != 3)
        return ir_node_error(d, n, "X, W and R must have rank 3 (got %d, %d, %d)", x->rank,
                             w->rank, r->rank);
    const char *dir = ir_attr_str(n, "direction", "forward");
    int ndir = 1, rev = 0;
    if (!strcmp(dir, "bidirectional"))
        ndir = 2;
    else if (!strcmp(dir, "reverse"))
        rev = 1;
    else if (strcmp(dir, "forward"))
        return ir_node_error(d, n, "unknown direction '%s'", dir);
    int64_t layout = n->opset >= 14 ? ir_attr_int(n, "layout", 0) : 0;
    if (layout != 0 && layout != 1)
        return ir_node_error(d, n, "layout must be 0 or 1 (got %lld)", (long long)layout);
    int64_t seq = layout ? x->dims[1] : x->dims[0];
    int64_t batch = layout ? x->dims[0] : x->dims[1];
    int64_t isz = x->dims[2];
    int64_t hs = ir_attr_int(n, "hidden_size", r->dims[2]);
    /* bounded so that ng * hs below cannot overflow */
    if (hs < 0 || hs > ((int64_t)1 << 40))
        return ir_node_error(d, n, "hidden_size %lld is out of range", (long long)hs);
    if (w->dims[0] != ndir || w->dims[1] != ng * hs || w->dims[2] != isz)
        return ir_node_error(d, n, "W has shape [%lld, %lld, %lld], expected [%d, %lld, %lld]",
                             (long long)w->dims[0], (long long)w->dims[1],
                             (long long)w->dims[2], ndir, (long long)(ng * hs),
                             (long long)isz);
    if (r->dims[0] != ndir || r->dims[1] != ng * hs || r->dims[2] != hs)
        return ir_node_error(d, n, "R has shape [%lld, %lld, %lld], expected [%d, %lld, %lld]",
                             (long long)r->dims[0], (long long)r->dims[1],
                             (long long)r->dims[2], ndir, (long long)(ng * hs), (long long)hs);
    const Value *b = ir_input(n, 3), *lens = ir_input(n, 4), *h0 = ir_input(n, 5);
    if (b && (b->rank != 2 || b->dims[0] != ndir || b->dims[1] != 2 * ng * hs))
        return ir_node_error(d, n, "B must have shape [%d, %lld]", ndir, (long long)(2 * ng * hs));
    if (lens && (lens->dtype != RT_I32 && lens->dtype != RT_I64))
        return ir_node_error(d, n, "sequence_lens must be int32");
    if (lens && (lens->rank != 1 || lens->dims[0] != batch))
        return ir_node_error(d, n, "sequence_lens must have shape [%lld]", (long long)batch);
    int64_t sdims[3] = {ndir, batch, hs};
    if (layout) {
        sdims[0] = batch;
        sdims[1] = ndir;
    }
    const Value *c0 = kind == RT_RNN_LSTM ? ir_input(n, 6) : NULL;
    const Value *p = kind == RT_RNN_LSTM ? ir_input(n, 7) : NULL;
    const Value *states[2] = {h0, c0};
    for (int i = 0; i < 2; i++) {
        const Value *s = states[i];
        if (s && (s->rank != 3 || s->dims[0] != sdims[0] || s->dims[1] != sdims[1] ||
                  s->dims[2] != hs))
            return ir_node_error(d, n, "initial_%c must have shape [%lld, %lld, %lld]",
                                 i ? 'c' : 'h', (long long)sdims[0], (long long)sdims[1],
                                 (long long)hs);
    }
    if (p && (p->rank != 2 || p->dims[0] != ndir || p->dims[1] != 3 * hs))
        return ir_node_error(d, n, "P must have shape [%d, %lld]", ndir, (long long)(3 * hs));
    if (batch * hs * (2 * ng + 3) > RT_RNN_MAX_SCRATCH)
        return ir_node_error(d, n, "batch * hidden_size = %lld is too large (the kernel's "
                             "stack scratch holds %d floats)", (long long)(batch * hs),
                             RT_RNN_MAX_SCRATCH);
    /* Activations: the attribute lists f, g(, h) per direction. */
    const Attr *aa = ir_attr(n, "activations");
    int n_act = apd * ndir, codes[6];
    if (aa && aa->type == AT_STRINGS && aa->n > 0) {
        if (aa->n != n_act)
            return ir_node_error(d, n, "activations has %d entries, expected %d", aa->n, n_act);
        for (int i = 0; i < n_act; i++) {
            codes[i] = find_act(aa->strings[i]);
            if (codes[i] < 0)
                return ir_node_error(d, n, "unsupported activation '%s'", aa->strings[i]);
        }
    } else {
        for (int i = 0; i < n_act; i++)
            codes[i] = find_act(defaults[kind][i % apd]);
    }
    /* activation_alpha/beta are consumed in order by the functions that take
     * them; the rest keep the spec's defaults. */
    float alpha[6], beta[6], al[16], be[16];
    int nal = ir_attr_floats(n, "activation_alpha", al, 16);
    int nbe = ir_attr_floats(n, "activation_beta", be, 16);
    int ia = 0, ib = 0;
    for (int i = 0; i < n_act; i++) {
        alpha[i] = acts[codes[i]].alpha;
        beta[i] = acts[codes[i]].beta;
        if (acts[codes[i]].n_params >= 1 && ia < nal)
            alpha[i] = al[ia++];
        if (acts[codes[i]].n_params >= 2 && ib < nbe)
            beta[i] = be[ib++];
    }
    int64_t lbr = kind == RT_RNN_GRU ? ir_attr_int(n, "linear_before_reset", 0) : 0;
    int64_t coupled = kind == RT_RNN_LSTM ? ir_attr_int(n, "input_forget", 0) : 0;
    float clip = ir_attr(n, "clip") ? ir_attr_float(n, "clip", 0.0f) : 0.0f;
    if (ir_attr(n, "clip") && !(clip > 0.0f))
        return ir_node_error(d, n, "clip must be positive");

    int64_t ydims[4] = {seq, ndir, batch, hs};
    if (layout) {
        ydims[0] = batch;
        ydims[1] = seq;
        ydims[2] = ndir;
    }
    int n_out = kind == RT_RNN_LSTM ? 3 : 2;
    if (n->n_out > n_out)
        return ir_node_error(d, n, "%s has at most %d outputs", n->op_type, n_out);
    for (int i = 0; i < n->n_out; i++)
        if (i == 0)
            ir_set_out(n, 0, RT_F32, 4, ydims);
        else
            ir_set_out(n, i, RT_F32, 3, sdims);

    ir_param_int(n, RT_RNN_KIND, kind);
    ir_param_int(n, RT_RNN_LAYOUT, layout);
    ir_param_int(n, RT_RNN_NUM_DIRS, ndir);
    ir_param_int(n, RT_RNN_REVERSE, rev);
    ir_param_int(n, RT_RNN_HIDDEN, hs);
    ir_param_int(n, RT_RNN_LINEAR_BEFORE_RESET, lbr != 0);
    ir_param_int(n, RT_RNN_INPUT_FORGET, coupled != 0);
    ir_param_int(n, RT_RNN_N_ACT, n_act);
    for (int i = 0; i < n_act; i++)
        ir_param_int(n, RT_RNN_ACT + i, acts[codes[i]].code);
    ir_param_float(n, RT_RNN_F_CLIP, clip);
    for (int i = 0; i < n_act; i++)
        ir_param_float(n, RT_RNN_F_ALPHA + i, alpha[i]);
    for (int i = 0; i < n_act; i++)
        ir_param_float(n, RT_RNN_F_BETA(n_act) + i, beta[i]);
    return 0;
}

int ir_infer_rnn(Graph *g, Node *n, Diag *d)
{
    (void)g;
    return infer_recurrent(n, d, RT_RNN_SIMPLE);
}

int ir_infer_gru(Graph *g, Node *n, Diag *d)
{
    (void)g;
    return infer_recurrent(n, d, RT_RNN_GRU);
}

int ir_infer_lstm(Graph *g, Node *n, Diag *d)
{
    (void)g;
    return infer_recurrent(n, d, RT_RNN_LSTM);
}
