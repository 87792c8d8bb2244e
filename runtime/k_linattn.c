/* k_linattn.c: LinearAttention (opset 27): the linear, gated, delta and gated-delta state recurrences, one KV head per work item. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"
#include "rt_vmath.h"

typedef struct LinAttn {
    const RtCall *c;
    const void *const *in;
    void *const *out;
    int64_t batch, steps, hq, hkv, dk, dv;
    int gating, delta;
    float scale;
} LinAttn;

/* n elements of input i from element off, as float32. */
static void load_row(const LinAttn *la, int i, int64_t off, int64_t n, float *dst)
{
    int dt = la->c->in[i].dtype;
    if (dt == RT_F32) {
        memcpy(dst, (const float *)la->in[i] + off, sizeof(float) * (size_t)n);
        return;
    }
    for (int64_t k = 0; k < n; k++)
        dst[k] = (float)rt_load_f64(la->in[i], dt, off + k);
}

static int has(const RtCall *c, int i)
{
    return i < c->n_in && c->in[i].dtype != RT_UNDEF;
}

/* The state S [dk, dv] of KV head (b, g) through every step: decay
 * (S *= e^g per key row), the delta rule (v <- beta (v - S^T k~), k~ the
 * erase-gated key), the write S += k v^T, then each query head of the
 * group reads o = scale q^T S. Float32 throughout, as the spec's
 * reference accumulates. */
HOT static void heads(void *ctx, int64_t lo, int64_t hi)
{
    const LinAttn *la = ctx;
    const RtCall *c = la->c;
    int64_t dk = la->dk, dv = la->dv, grp = la->hq / la->hkv;
    float st[RT_LINATTN_MAX_STATE], k[RT_LINATTN_MAX_DIM], v[RT_LINATTN_MAX_DIM];
    float q[RT_LINATTN_MAX_DIM], g[RT_LINATTN_MAX_DIM], ek[RT_LINATTN_MAX_DIM];
    float r[RT_LINATTN_MAX_DIM], o[RT_LINATTN_MAX_DIM];
    int decay_per_key = la->gating && c->in[4].dims[2] == la->hkv * dk;
    int64_t beta_w = la->delta ? c->in[5].dims[2] : 0;
    for (int64_t u = lo; u < hi; u++) {
        int64_t b = u / la->hkv, h = u % la->hkv;
        if (has(c, 3))
            load_row(la, 3, u * dk * dv, dk * dv, st);
        else
            memset(st, 0, sizeof(float) * (size_t)(dk * dv));
        for (int64_t t = 0; t < la->steps; t++) {
            int64_t bt = b * la->steps + t;
            load_row(la, 1, bt * la->hkv * dk + h * dk, dk, k);
            load_row(la, 2, bt * la->hkv * dv + h * dv, dv, v);
            if (la->gating) {
                if (decay_per_key) {
                    load_row(la, 4, bt * la->hkv * dk + h * dk, dk, g);
                } else {
                    load_row(la, 4, bt * la->hkv + h, 1, g);
                    for (int64_t d = 1; d < dk; d++)
                        g[d] = g[0];
                }
                for (int64_t d = 0; d < dk; d++) {
                    float f = v_exp(g[d]);
                    for (int64_t m = 0; m < dv; m++)
                        st[d * dv + m] *= f;
                }
            }
            if (la->delta) {
                float beta;
                load_row(la, 5, bt * beta_w + (beta_w == 1 ? 0 : h), 1, &beta);
                if (has(c, 6)) {
                    load_row(la, 6, bt * la->hkv * dk + h * dk, dk, ek);
                    for (int64_t d = 0; d < dk; d++)
                        ek[d] *= k[d];
                } else {
                    memcpy(ek, k, sizeof(float) * (size_t)dk);
                }
                for (int64_t m = 0; m < dv; m++)
                    r[m] = 0;
                for (int64_t d = 0; d < dk; d++)
                    for (int64_t m = 0; m < dv; m++)
                        r[m] += st[d * dv + m] * ek[d];
                for (int64_t m = 0; m < dv; m++)
                    v[m] = beta * (v[m] - r[m]);
            }
            for (int64_t d = 0; d < dk; d++)
                for (int64_t m = 0; m < dv; m++)
                    st[d * dv + m] += k[d] * v[m];
            for (int64_t hh = h * grp; hh < (h + 1) * grp; hh++) {
                load_row(la, 0, bt * la->hq * dk + hh * dk, dk, q);
                for (int64_t m = 0; m < dv; m++)
                    o[m] = 0;
                for (int64_t d = 0; d < dk; d++)
                    for (int64_t m = 0; m < dv; m++)
                        o[m] += q[d] * st[d * dv + m];
                int64_t yo = bt * la->hq * dv + hh * dv;
                for (int64_t m = 0; m < dv; m++)
                    rt_store_f64_fast(la->out[0], c->out[0].dtype, yo + m, la->scale * o[m]);
            }
        }
        if (c->n_out > 1 && c->out[1].dtype != RT_UNDEF)
            for (int64_t e = 0; e < dk * dv; e++)
                rt_store_f64_fast(la->out[1], c->out[1].dtype, u * dk * dv + e, st[e]);
    }
}

int rt_linear_attention(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 3 || c->n_ints < RT_LINATTN_NINTS || c->n_floats < RT_LINATTN_NFLOATS)
        return RT_EINVAL;
    const RtTensorDesc *qd = &c->in[0], *kd = &c->in[1], *vd = &c->in[2];
    if (!rt_is_float(qd->dtype) || !rt_is_float(kd->dtype) || !rt_is_float(vd->dtype))
        return RT_EDTYPE;
    if (qd->rank != 3 || kd->rank != 3 || vd->rank != 3)
        return RT_EINVAL;
    LinAttn la = {c, in, out, qd->dims[0], qd->dims[1], c->ints[RT_LINATTN_Q_HEADS],
                  c->ints[RT_LINATTN_KV_HEADS], 0, 0, (int)c->ints[RT_LINATTN_GATING],
                  (int)c->ints[RT_LINATTN_DELTA], c->floats[RT_LINATTN_F_SCALE]};
    if (la.hq <= 0 || la.hkv <= 0 || la.hq % la.hkv)
        return RT_EINVAL;
    la.dk = qd->dims[2] / la.hq;
    la.dv = vd->dims[2] / la.hkv;
    if (la.dk > RT_LINATTN_MAX_DIM || la.dv > RT_LINATTN_MAX_DIM ||
        la.dk * la.dv > RT_LINATTN_MAX_STATE || (la.gating && !has(c, 4)) ||
        (la.delta && !has(c, 5)))
        return RT_EINVAL;
    /* a head's recurrence is serial in time; heads are independent */
    int64_t work = la.steps * la.dk * la.dv * (2 + la.delta + la.hq / la.hkv);
    rt_parallel_for(la.batch * la.hkv, (1 << 18) / (work + 1) + 1, heads, &la);
    return RT_OK;
}
