/* attention.c: shapes and kernel parameters of the transformer ops of opsets 23-28 (Attention, RotaryEmbedding, RMSNormalization, LinearAttention, CausalConvWithState, SwiGLU, TensorScatter) and ai.onnx.preview FlexAttention. */
#include <math.h>
#include <string.h>

#include "ir.h"

/* Reports unless input i is present with a floating-point dtype. */
static int need_float(Diag *d, const Node *n, int i)
{
    const Value *v = ir_input(n, i);
    if (!v)
        return ir_node_error(d, n, "input %d is missing", i);
    if (!rt_is_float(v->dtype))
        return ir_node_error(d, n, "input %d ('%s') has dtype %s, which %s does not take", i,
                             v->name, rt_dtype_name(v->dtype), n->op_type);
    return 0;
}

static int same_dtype(Diag *d, const Node *n, int i, int j)
{
    if (n->in[i]->dtype != n->in[j]->dtype)
        return ir_node_error(d, n, "inputs %d and %d have different dtypes (%s, %s)", i, j,
                             rt_dtype_name(n->in[i]->dtype), rt_dtype_name(n->in[j]->dtype));
    return 0;
}

/* ---- Attention (opset 23; 24 adds nonpad_kv_seqlen) ---- */

/* Batch, heads, sequence and head size of a 3-D [B, S, H*D] or 4-D
 * [B, H, S, D] operand. */
static int heads_of(Diag *d, const Node *n, int i, int64_t heads_attr, const char *attr,
                    int64_t *bsz, int64_t *heads, int64_t *seq, int64_t *dim)
{
    const Value *v = n->in[i];
    *bsz = v->dims[0];
    if (v->rank == 4) {
        *heads = v->dims[1];
        *seq = v->dims[2];
        *dim = v->dims[3];
        return 0;
    }
    if (heads_attr <= 0)
        return ir_node_error(d, n, "3-D input %d ('%s') needs attribute '%s'", i, v->name,
                             attr);
    if (v->dims[2] % heads_attr)
        return ir_node_error(d, n, "input %d ('%s'): hidden size %lld is not a multiple of "
                             "%s = %lld", i, v->name, (long long)v->dims[2], attr,
                             (long long)heads_attr);
    *heads = heads_attr;
    *seq = v->dims[1];
    *dim = v->dims[2] / heads_attr;
    return 0;
}

int ir_infer_attention(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 3; i++)
        if (need_float(d, n, i))
            return -1;
    if (same_dtype(d, n, 0, 1) || same_dtype(d, n, 0, 2))
        return -1;
    const Value *q = n->in[0], *k = n->in[1], *v = n->in[2];
    int r = q->rank;
    if ((r != 3 && r != 4) || k->rank != r || v->rank != r)
        return ir_node_error(d, n, "Q, K and V must all be 3-D or all 4-D (ranks %d, %d, %d)",
                             q->rank, k->rank, v->rank);
    int64_t qh_attr = ir_attr_int(n, "q_num_heads", 0), kvh_attr = ir_attr_int(n, "kv_num_heads", 0);
    int64_t b, hq, sq, dq, bk, hk, sk, dk, bv, hv, sv, dv;
    if (heads_of(d, n, 0, qh_attr, "q_num_heads", &b, &hq, &sq, &dq) ||
        heads_of(d, n, 1, kvh_attr, "kv_num_heads", &bk, &hk, &sk, &dk) ||
        heads_of(d, n, 2, kvh_attr, "kv_num_heads", &bv, &hv, &sv, &dv))
        return -1;
    if (bk != b || bv != b)
        return ir_node_error(d, n, "Q, K and V have different batch sizes");
    if (dk != dq)
        return ir_node_error(d, n, "Q's head size %lld differs from K's %lld", (long long)dq,
                             (long long)dk);
    if (hk != hv || sk != sv)
        return ir_node_error(d, n, "K and V differ in heads or sequence length");
    if (hk <= 0 || hq % hk)
        return ir_node_error(d, n, "q_num_heads %lld is not a multiple of kv_num_heads %lld",
                             (long long)hq, (long long)hk);
    const Value *pk = ir_input(n, 4), *pv = ir_input(n, 5);
    if ((pk == NULL) != (pv == NULL))
        return ir_node_error(d, n, "past_key and past_value must be given together");
    int64_t past = 0;
    if (pk) {
        if (pk->dtype != q->dtype || pv->dtype != q->dtype)
            return ir_node_error(d, n, "past_key/past_value must have Q's dtype");
        if (pk->rank != 4 || pv->rank != 4 || pk->dims[0] != b || pk->dims[1] != hk ||
            pk->dims[3] != dk || pv->dims[0] != b || pv->dims[1] != hk || pv->dims[3] != dv ||
            pv->dims[2] != pk->dims[2])
            return ir_node_error(d, n, "past_key/past_value must be [B, kv_num_heads, P, "
                                 "head_size] matching K and V");
        past = pk->dims[2];
    }
    int64_t total = past + sk;
    if (total > RT_ATTN_MAX_KV)
        return ir_node_error(d, n, "total key length %lld is above the %d onnxcc supports",
                             (long long)total, RT_ATTN_MAX_KV);
    const Value *m = ir_input(n, 3);
    if (m) {
        if (m->dtype != RT_BOOL && m->dtype != q->dtype)
            return ir_node_error(d, n, "attn_mask has dtype %s; it must be bool or Q's %s",
                                 rt_dtype_name(m->dtype), rt_dtype_name(q->dtype));
        int64_t want[4] = {b, hq, sq, total};
        if (m->rank < 1 || m->rank > 4)
            return ir_node_error(d, n, "attn_mask must have rank 1 to 4, not %d", m->rank);
        for (int i = 0; i < m->rank; i++) {
            int64_t w = want[4 - m->rank + i], md = m->dims[i];
            int last = i == m->rank - 1;
            if (last ? md > w : md != 1 && md != w)
                return ir_node_error(d, n, "attn_mask of shape axis %d = %lld does not "
                                     "broadcast to [B, q_num_heads, q_len, total_len] = "
                                     "[%lld, %lld, %lld, %lld]", i, (long long)md,
                                     (long long)b, (long long)hq, (long long)sq,
                                     (long long)total);
        }
    }
    const Value *np = ir_input(n, 6);
    if (np && (np->dtype != RT_I64 || np->rank != 1 || np->dims[0] != b))
        return ir_node_error(d, n, "nonpad_kv_seqlen must be int64 [batch = %lld]",
                             (long long)b);
    int64_t mode = ir_attr_int(n, "qk_matmul_output_mode", 0);
    if (mode < 0 || mode > 3)
        return ir_node_error(d, n, "qk_matmul_output_mode %lld is not one of 0..3",
                             (long long)mode);
    /* softmax_precision asks for at least this precision: the kernel's
     * softmax is float32, which covers float16 and bfloat16, and a float64
     * request is refused rather than silently narrowed */
    int64_t sp = ir_attr_int(n, "softmax_precision", 1);
    if (sp != RT_F32 && sp != RT_F16 && sp != RT_BF16)
        return ir_node_error(d, n, "softmax_precision %lld is not supported (float, float16 "
                             "or bfloat16; the softmax runs in float32)", (long long)sp);
    if (q->dtype == RT_F64)
        return ir_node_error(d, n, "float64 inputs are not supported (the kernel computes "
                             "scores in float32)");
    float softcap = ir_attr_float(n, "softcap", 0.0f);
    if (softcap < 0)
        return ir_node_error(d, n, "softcap %g must not be negative", (double)softcap);
    const Attr *sa = ir_attr(n, "scale");
    float scale = sa ? ir_attr_float(n, "scale", 1.0f) : (float)(1.0 / sqrt((double)dq));
    if (n->n_out > 4)
        return ir_node_error(d, n, "has %d outputs; at most 4", n->n_out);
    ir_param_int(n, RT_ATTN_Q_HEADS, hq);
    ir_param_int(n, RT_ATTN_KV_HEADS, hk);
    ir_param_int(n, RT_ATTN_CAUSAL, ir_attr_int(n, "is_causal", 0) != 0);
    ir_param_int(n, RT_ATTN_QK_MODE, mode);
    ir_param_float(n, RT_ATTN_F_SCALE, scale);
    ir_param_float(n, RT_ATTN_F_SOFTCAP, softcap);
    int64_t kd[4] = {b, hk, total, dk}, vd[4] = {b, hk, total, dv}, qkd[4] = {b, hq, sq, total};
    if (n->n_out > 1)
        ir_set_out(n, 1, q->dtype, 4, kd);
    if (n->n_out > 2)
        ir_set_out(n, 2, q->dtype, 4, vd);
    if (n->n_out > 3)
        ir_set_out(n, 3, q->dtype, 4, qkd);
    int64_t y3[3] = {b, sq, hq * dv}, y4[4] = {b, hq, sq, dv};
    return r == 3 ? ir_set_out(n, 0, q->dtype, 3, y3) : ir_set_out(n, 0, q->dtype, 4, y4);
}

/* ---- RotaryEmbedding (opset 23) ---- */

int ir_infer_rotary_embedding(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 3; i++)
        if (need_float(d, n, i))
            return -1;
    if (same_dtype(d, n, 1, 2))
        return -1;
    const Value *x = n->in[0], *cc = n->in[1], *sc = n->in[2], *pos = ir_input(n, 3);
    int64_t heads = ir_attr_int(n, "num_heads", 0), b = x->dims[0], s, dim;
    if (x->rank == 4) {
        heads = x->dims[1];
        s = x->dims[2];
        dim = x->dims[3];
    } else if (x->rank == 3) {
        if (heads <= 0)
            return ir_node_error(d, n, "3-D input needs attribute 'num_heads'");
        if (x->dims[2] % heads)
            return ir_node_error(d, n, "hidden size %lld is not a multiple of num_heads %lld",
                                 (long long)x->dims[2], (long long)heads);
        s = x->dims[1];
        dim = x->dims[2] / heads;
    } else {
        return ir_node_error(d, n, "input must be 3-D or 4-D, not rank %d", x->rank);
    }
    int64_t rd = ir_attr_int(n, "rotary_embedding_dim", 0);
    if (rd == 0)
        rd = dim;
    if (rd < 0 || rd > dim || rd % 2)
        return ir_node_error(d, n, "rotary_embedding_dim %lld must be even and at most the "
                             "head size %lld", (long long)rd, (long long)dim);
    if (pos) {
        if (pos->dtype != RT_I64 || pos->rank != 2 || pos->dims[0] != b || pos->dims[1] != s)
            return ir_node_error(d, n, "position_ids must be int64 [batch, seq] = [%lld, %lld]",
                                 (long long)b, (long long)s);
        if (cc->rank != 2 || cc->dims[1] != rd / 2)
            return ir_node_error(d, n, "with position_ids, cos_cache must be [max_pos, %lld]",
                                 (long long)(rd / 2));
    } else if (cc->rank != 3 || cc->dims[0] != b || cc->dims[1] != s || cc->dims[2] != rd / 2) {
        return ir_node_error(d, n, "without position_ids, cos_cache must be [%lld, %lld, %lld]",
                             (long long)b, (long long)s, (long long)(rd / 2));
    }
    if (sc->rank != cc->rank || memcmp(sc->dims, cc->dims, sizeof(int64_t) * (size_t)cc->rank))
        return ir_node_error(d, n, "sin_cache and cos_cache have different shapes");
    ir_param_int(n, RT_ROPE_NUM_HEADS, heads);
    ir_param_int(n, RT_ROPE_ROTARY_DIM, rd);
    ir_param_int(n, RT_ROPE_INTERLEAVED, ir_attr_int(n, "interleaved", 0) != 0);
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* ---- RMSNormalization (opset 23) ---- */

int ir_infer_rmsnorm(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need_float(d, n, 0) || need_float(d, n, 1))
        return -1;
    const Value *x = n->in[0], *sc = n->in[1];
    int64_t a = ir_attr_int(n, "axis", -1);
    int axis = ir_axis(a, x->rank);
    if (axis < 0 || x->rank == 0)
        return ir_node_error(d, n, "axis %lld is out of range for rank %d", (long long)a,
                             x->rank);
    int64_t st = ir_attr_int(n, "stash_type", 1);
    if (st != 1)
        return ir_node_error(d, n, "stash_type %lld is not supported (only 1, float32)",
                             (long long)st);
    /* Scale broadcasts to X.shape[axis:] (right-aligned, each axis 1 or equal) */
    int ri = x->rank - axis;
    if (sc->rank > ri)
        return ir_node_error(d, n, "scale has rank %d, more than the %d normalized axes",
                             sc->rank, ri);
    for (int i = 0; i < sc->rank; i++) {
        int64_t w = x->dims[x->rank - sc->rank + i];
        if (sc->dims[i] != 1 && sc->dims[i] != w)
            return ir_node_error(d, n, "scale does not broadcast to the normalized shape");
    }
    ir_param_int(n, RT_RMSNORM_AXIS, axis);
    ir_param_float(n, RT_RMSNORM_F_EPSILON, ir_attr_float(n, "epsilon", 1e-5f));
    return ir_set_out(n, 0, x->dtype, x->rank, x->dims);
}

/* ---- LinearAttention (opset 27) ---- */

int ir_infer_linear_attention(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 3; i++)
        if (need_float(d, n, i))
            return -1;
    const Value *q = n->in[0], *k = n->in[1], *v = n->in[2];
    if (q->rank != 3 || k->rank != 3 || v->rank != 3)
        return ir_node_error(d, n, "query, key and value must be 3-D [B, T, H*D]");
    int64_t hq = ir_attr_int(n, "q_num_heads", 0), hkv = ir_attr_int(n, "kv_num_heads", 0);
    if (hq <= 0 || hkv <= 0 || hq % hkv)
        return ir_node_error(d, n, "q_num_heads (%lld) must be a positive multiple of "
                             "kv_num_heads (%lld)", (long long)hq, (long long)hkv);
    int64_t b = q->dims[0], t = q->dims[1];
    if (q->dims[2] % hq || v->dims[2] % hkv)
        return ir_node_error(d, n, "query's or value's last axis is not a multiple of its heads");
    int64_t dk = q->dims[2] / hq, dv = v->dims[2] / hkv;
    if (k->dims[0] != b || k->dims[1] != t || k->dims[2] != hkv * dk || v->dims[0] != b ||
        v->dims[1] != t)
        return ir_node_error(d, n, "key must be [%lld, %lld, %lld] and value [%lld, %lld, *]",
                             (long long)b, (long long)t, (long long)(hkv * dk), (long long)b,
                             (long long)t);
    if (dk > RT_LINATTN_MAX_DIM || dv > RT_LINATTN_MAX_DIM || dk * dv > RT_LINATTN_MAX_STATE)
        return ir_node_error(d, n, "a head's state %lld x %lld is larger than onnxcc supports "
                             "(%d floats, each side at most %d)", (long long)dk, (long long)dv,
                             RT_LINATTN_MAX_STATE, RT_LINATTN_MAX_DIM);
    const char *rule = ir_attr_str(n, "update_rule", "gated_delta");
    int gating = !strcmp(rule, "gated") || !strcmp(rule, "gated_delta");
    int delta = !strcmp(rule, "delta") || !strcmp(rule, "gated_delta");
    if (!gating && !delta && strcmp(rule, "linear"))
        return ir_node_error(d, n, "update_rule '%s' is not one of linear, gated, delta, "
                             "gated_delta", rule);
    const Value *ps = ir_input(n, 3), *dc = ir_input(n, 4), *bt = ir_input(n, 5);
    const Value *eg = ir_input(n, 6);
    if (gating != (dc != NULL))
        return ir_node_error(d, n, "update_rule '%s' %s the decay input", rule,
                             gating ? "requires" : "forbids");
    if (delta != (bt != NULL))
        return ir_node_error(d, n, "update_rule '%s' %s the beta input", rule,
                             delta ? "requires" : "forbids");
    if (eg && !delta)
        return ir_node_error(d, n, "update_rule '%s' forbids the erase_gate input", rule);
    for (int i = 3; i < 7; i++)
        if (ir_input(n, i) && need_float(d, n, i))
            return -1;
    if (ps && (ps->rank != 4 || ps->dims[0] != b || ps->dims[1] != hkv || ps->dims[2] != dk ||
               ps->dims[3] != dv))
        return ir_node_error(d, n, "past_state must be [%lld, %lld, %lld, %lld]", (long long)b,
                             (long long)hkv, (long long)dk, (long long)dv);
    if (dc && (dc->rank != 3 || dc->dims[0] != b || dc->dims[1] != t ||
               (dc->dims[2] != hkv && dc->dims[2] != hkv * dk)))
        return ir_node_error(d, n, "decay must be [B, T, kv_num_heads] or [B, T, "
                             "kv_num_heads * head_size]");
    if (bt && (bt->rank != 3 || bt->dims[0] != b || bt->dims[1] != t ||
               (bt->dims[2] != hkv && bt->dims[2] != 1)))
        return ir_node_error(d, n, "beta must be [B, T, kv_num_heads] or [B, T, 1]");
    if (eg && (eg->rank != 3 || eg->dims[0] != b || eg->dims[1] != t ||
               eg->dims[2] != hkv * dk))
        return ir_node_error(d, n, "erase_gate must be [B, T, kv_num_heads * head_size]");
    float scale = ir_attr_float(n, "scale", 0.0f);
    if (scale == 0.0f)
        scale = (float)(1.0 / sqrt((double)dk));
    ir_param_int(n, RT_LINATTN_Q_HEADS, hq);
    ir_param_int(n, RT_LINATTN_KV_HEADS, hkv);
    ir_param_int(n, RT_LINATTN_GATING, gating);
    ir_param_int(n, RT_LINATTN_DELTA, delta);
    ir_param_float(n, RT_LINATTN_F_SCALE, scale);
    int64_t sd[4] = {b, hkv, dk, dv}, yd[3] = {b, t, hq * dv};
    if (n->n_out > 2)
        return ir_node_error(d, n, "has %d outputs; at most 2", n->n_out);
    if (n->n_out > 1)
        ir_set_out(n, 1, ps ? ps->dtype : q->dtype, 4, sd);
    return ir_set_out(n, 0, q->dtype, 3, yd);
}

/* ---- CausalConvWithState (opset 27) ---- */

int ir_infer_causal_conv(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need_float(d, n, 0) || need_float(d, n, 1))
        return -1;
    const Value *x = n->in[0], *w = n->in[1], *bias = ir_input(n, 2), *ps = ir_input(n, 3);
    if (x->rank != 3)
        return ir_node_error(d, n, "input must be 3-D [batch, channels, length], not rank %d",
                             x->rank);
    int64_t b = x->dims[0], ch = x->dims[1];
    if (w->rank != 3 || w->dims[0] != ch || w->dims[1] != 1 || w->dims[2] < 1)
        return ir_node_error(d, n, "weight must be [channels = %lld, 1, k]", (long long)ch);
    int64_t k = w->dims[2];
    if (k > RT_CCS_MAX_K)
        return ir_node_error(d, n, "kernel width %lld is above the %d onnxcc supports",
                             (long long)k, RT_CCS_MAX_K);
    if (bias && (need_float(d, n, 2) || bias->rank != 1 || bias->dims[0] != ch))
        return bias && rt_is_float(bias->dtype)
                   ? ir_node_error(d, n, "bias must be [channels = %lld]", (long long)ch)
                   : -1;
    if (ps && (need_float(d, n, 3) || ps->rank != 3 || ps->dims[0] != b || ps->dims[1] != ch ||
               ps->dims[2] != k - 1))
        return ps && rt_is_float(ps->dtype)
                   ? ir_node_error(d, n, "past_state must be [%lld, %lld, %lld]", (long long)b,
                                   (long long)ch, (long long)(k - 1))
                   : -1;
    const char *act = ir_attr_str(n, "activation", "none");
    int silu = !strcmp(act, "silu") || !strcmp(act, "swish");
    if (!silu && strcmp(act, "none"))
        return ir_node_error(d, n, "activation '%s' is not one of none, silu, swish", act);
    ir_param_int(n, RT_CCS_SILU, silu);
    int64_t sd[3] = {b, ch, k - 1};
    if (n->n_out > 2)
        return ir_node_error(d, n, "has %d outputs; at most 2", n->n_out);
    if (n->n_out > 1)
        ir_set_out(n, 1, ps ? ps->dtype : x->dtype, 3, sd);
    return ir_set_out(n, 0, x->dtype, 3, x->dims);
}

/* ---- SwiGLU (opset 28) ---- */

int ir_infer_swiglu(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need_float(d, n, 0) || need_float(d, n, 1) || same_dtype(d, n, 0, 1))
        return -1;
    const Value *a = n->in[0], *b = n->in[1];
    if (a->rank != b->rank || memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank))
        return ir_node_error(d, n, "inputs A and B must have the same shape (broadcasting "
                             "between them is not supported)");
    ir_param_float(n, RT_SWIGLU_F_ALPHA, ir_attr_float(n, "alpha", 1.0f));
    return ir_set_out(n, 0, a->dtype, a->rank, a->dims);
}

/* ---- TensorScatter (opset 24) ---- */

int ir_infer_tensor_scatter(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Value *pc = ir_input(n, 0), *up = ir_input(n, 1), *wi = ir_input(n, 2);
    if (!pc || !up)
        return ir_node_error(d, n, "needs past_cache and update");
    if (up->dtype != pc->dtype || pc->dtype == RT_STRING || up->rank != pc->rank)
        return ir_node_error(d, n, "update must have past_cache's dtype and rank");
    int64_t a = ir_attr_int(n, "axis", -2);
    int axis = ir_axis(a, pc->rank);
    if (axis < 1)
        return ir_node_error(d, n, "axis %lld must name an axis after the batch axis of a "
                             "rank-%d cache", (long long)a, pc->rank);
    for (int i = 0; i < pc->rank; i++)
        if (i == axis ? up->dims[i] > pc->dims[i] : up->dims[i] != pc->dims[i])
            return ir_node_error(d, n, "update's axis %d (%lld) does not fit past_cache's "
                                 "(%lld)", i, (long long)up->dims[i], (long long)pc->dims[i]);
    if (wi && (wi->dtype != RT_I64 || wi->rank != 1 || wi->dims[0] != pc->dims[0]))
        return ir_node_error(d, n, "write_indices must be int64 [batch = %lld]",
                             (long long)pc->dims[0]);
    const char *mode = ir_attr_str(n, "mode", "linear");
    int circular = !strcmp(mode, "circular");
    if (!circular && strcmp(mode, "linear"))
        return ir_node_error(d, n, "mode '%s' is not linear or circular", mode);
    ir_param_int(n, RT_TSCATTER_AXIS, axis);
    ir_param_int(n, RT_TSCATTER_CIRCULAR, circular);
    return ir_set_out(n, 0, pc->dtype, pc->rank, pc->dims);
}

/* ---- FlexAttention (ai.onnx.preview, version 1) ----
 * Scaled dot-product attention over rank-4 Q, K, V; GQA shares each KV head
 * among a contiguous group of query heads, as Attention does, so it runs
 * on the Attention kernel. Its score_mod and prob_mod subgraphs (run on
 * every score or probability) have no kernel form here and are refused. */
int ir_infer_flex_attention(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 3; i++)
        if (need_float(d, n, i))
            return -1;
    if (same_dtype(d, n, 0, 1) || same_dtype(d, n, 0, 2))
        return -1;
    if (ir_attr(n, "score_mod") || ir_attr(n, "prob_mod"))
        return ir_node_error(d, n, "the %s subgraph is not supported",
                             ir_attr(n, "score_mod") ? "score_mod" : "prob_mod");
    const Value *q = n->in[0], *k = n->in[1], *v = n->in[2];
    if (q->rank != 4 || k->rank != 4 || v->rank != 4)
        return ir_node_error(d, n, "Q, K and V must be 4-D [B, H, S, D]");
    if (q->dtype == RT_F64)
        return ir_node_error(d, n, "float64 inputs are not supported (the kernel computes "
                             "scores in float32)");
    int64_t b = q->dims[0], hq = q->dims[1], sq = q->dims[2], dq = q->dims[3];
    int64_t hk = k->dims[1], sk = k->dims[2], dv = v->dims[3];
    if (k->dims[0] != b || v->dims[0] != b || k->dims[3] != dq || v->dims[1] != hk ||
        v->dims[2] != sk)
        return ir_node_error(d, n, "K must be [%lld, Hkv, S, %lld] and V [%lld, Hkv, S, *]",
                             (long long)b, (long long)dq, (long long)b);
    if (hk <= 0 || hq % hk)
        return ir_node_error(d, n, "Q's %lld heads are not a multiple of K's %lld",
                             (long long)hq, (long long)hk);
    if (sk > RT_ATTN_MAX_KV)
        return ir_node_error(d, n, "key length %lld is above the %d onnxcc supports",
                             (long long)sk, RT_ATTN_MAX_KV);
    if (n->n_out != 1)
        return ir_node_error(d, n, "has %d outputs; FlexAttention has one", n->n_out);
    const Attr *sa = ir_attr(n, "scale");
    float scale = sa ? ir_attr_float(n, "scale", 1.0f) : (float)(1.0 / sqrt((double)dq));
    ir_param_int(n, RT_ATTN_Q_HEADS, hq);
    ir_param_int(n, RT_ATTN_KV_HEADS, hk);
    ir_param_int(n, RT_ATTN_CAUSAL, 0);
    ir_param_int(n, RT_ATTN_QK_MODE, 0);
    ir_param_float(n, RT_ATTN_F_SCALE, scale);
    ir_param_float(n, RT_ATTN_F_SOFTCAP, 0.0f);
    int64_t yd[4] = {b, hq, sq, dv};
    return ir_set_out(n, 0, q->dtype, 4, yd);
}
