/* k_rnn.c: the RNN, GRU and LSTM kernels (ONNX recurrent ops, float32). */
#include <math.h>
#include <string.h>

#include "rt_internal.h"

/* One activation with its parameters, as the ONNX recurrent ops define them. */
static float act(int code, float alpha, float beta, float x)
{
    switch (code) {
    case RT_ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case RT_ACT_TANH:
        return tanhf(x);
    case RT_ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case RT_ACT_AFFINE:
        return alpha * x + beta;
    case RT_ACT_LEAKY_RELU:
        return x >= 0.0f ? x : alpha * x;
    case RT_ACT_THRESHOLDED_RELU:
        return x > alpha ? x : 0.0f;
    case RT_ACT_SCALED_TANH:
        return alpha * tanhf(beta * x);
    case RT_ACT_HARD_SIGMOID: {
        float v = alpha * x + beta;
        return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case RT_ACT_ELU:
        return x >= 0.0f ? x : alpha * (expf(x) - 1.0f);
    case RT_ACT_SOFTSIGN:
        return x / (1.0f + fabsf(x));
    case RT_ACT_SOFTPLUS:
        return log1pf(expf(x));
    default:
        return x;
    }
}

/* Applies activation slot k of the call to v[0..n), clipping first (the spec
 * clips the gate inputs, not the outputs). */
static void act_vec(const RtCall *c, int k, float clip, float *v, int64_t n)
{
    int code = (int)c->ints[RT_RNN_ACT + k];
    int n_act = (int)c->ints[RT_RNN_N_ACT];
    float alpha = c->floats[RT_RNN_F_ALPHA + k], beta = c->floats[RT_RNN_F_BETA(n_act) + k];
    if (clip > 0.0f)
        for (int64_t i = 0; i < n; i++)
            v[i] = v[i] < -clip ? -clip : (v[i] > clip ? clip : v[i]);
    if (code == RT_ACT_SIGMOID) {
        for (int64_t i = 0; i < n; i++)
            v[i] = 1.0f / (1.0f + expf(-v[i]));
    } else if (code == RT_ACT_TANH) {
        for (int64_t i = 0; i < n; i++)
            v[i] = tanhf(v[i]);
    } else {
        for (int64_t i = 0; i < n; i++)
            v[i] = act(code, alpha, beta, v[i]);
    }
}

/* Sequence length of batch entry b (the whole sequence when lens is absent). */
static int64_t seq_len(const RtCall *c, const void *lens, int64_t b, int64_t seq)
{
    if (!lens)
        return seq;
    int64_t l = rt_load_i64(lens, c->in[4].dtype, b);
    return l < 0 ? 0 : (l > seq ? seq : l);
}

int rt_rnn(const RtCall *c, const void *const *in, void *const *out)
{
    int kind = (int)c->ints[RT_RNN_KIND], layout = (int)c->ints[RT_RNN_LAYOUT];
    int ndir = (int)c->ints[RT_RNN_NUM_DIRS], reverse1 = (int)c->ints[RT_RNN_REVERSE];
    int lbr = (int)c->ints[RT_RNN_LINEAR_BEFORE_RESET];
    int coupled = (int)c->ints[RT_RNN_INPUT_FORGET];
    int n_act = (int)c->ints[RT_RNN_N_ACT], apd = n_act / ndir; /* activations per direction */
    int64_t hs = c->ints[RT_RNN_HIDDEN];
    int ng = kind == RT_RNN_LSTM ? 4 : (kind == RT_RNN_GRU ? 3 : 1);
    float clip = c->floats[RT_RNN_F_CLIP];
    const RtTensorDesc *xd = &c->in[0];
    if (xd->dtype != RT_F32)
        return RT_EDTYPE;
    int64_t seq = layout ? xd->dims[1] : xd->dims[0];
    int64_t batch = layout ? xd->dims[0] : xd->dims[1];
    int64_t isz = xd->dims[2], gh = ng * hs;
    if (batch * hs * (2 * ng + 3) > RT_RNN_MAX_SCRATCH)
        return RT_ENOMEM;
    float scratch[RT_RNN_MAX_SCRATCH];
    float *gx = scratch;              /* [batch][gh]: X W^T + Wb */
    float *ghh = gx + batch * gh;     /* [batch][gh]: H R^T + Rb */
    float *h = ghh + batch * gh;      /* [batch][hs] hidden state */
    float *cs = h + batch * hs;       /* [batch][hs] LSTM cell state */
    float *tmp = cs + batch * hs;     /* [batch][hs] GRU r*H, LSTM new cell */
    const float *x = in[0];
    const void *lens = c->n_in > 4 ? in[4] : NULL;
    const float *bias = c->n_in > 3 ? in[3] : NULL;
    const float *h0 = c->n_in > 5 ? in[5] : NULL;
    const float *c0 = kind == RT_RNN_LSTM && c->n_in > 6 ? in[6] : NULL;
    const float *peep = kind == RT_RNN_LSTM && c->n_in > 7 ? in[7] : NULL;
    float *y = c->n_out > 0 ? out[0] : NULL;
    float *yh = c->n_out > 1 ? out[1] : NULL;
    float *yc = kind == RT_RNN_LSTM && c->n_out > 2 ? out[2] : NULL;
    int uniform = 1;
    for (int64_t b = 1; b < batch; b++)
        if (seq_len(c, lens, b, seq) != seq_len(c, lens, 0, seq))
            uniform = 0;
    /* Y's row (t, d, b) and the state's row (d, b), per layout. */
    int64_t xrow = layout ? seq * isz : isz;                    /* X stride between b */
    int64_t xstep = layout ? isz : batch * isz;                 /* X stride between t */
    if (y) {
        int64_t ny = seq * ndir * batch * hs;
        memset(y, 0, (size_t)ny * sizeof(float));
    }
    for (int d = 0; d < ndir; d++) {
        int rev = ndir == 2 ? d == 1 : reverse1;
        const float *w = (const float *)in[1] + d * gh * isz;
        const float *r = (const float *)in[2] + d * gh * hs;
        const float *wb = bias ? bias + d * 2 * gh : NULL, *rb = wb ? wb + gh : NULL;
        const float *p = peep ? peep + d * 3 * hs : NULL;
        int a0 = d * apd; /* this direction's first activation slot */
        for (int64_t b = 0; b < batch; b++) {
            int64_t so = layout ? (b * ndir + d) * hs : (d * batch + b) * hs;
            for (int64_t j = 0; j < hs; j++) {
                h[b * hs + j] = h0 ? h0[so + j] : 0.0f;
                cs[b * hs + j] = c0 ? c0[so + j] : 0.0f;
            }
        }
        for (int64_t s = 0; s < seq; s++) {
            /* The gates of every active batch row: one GEMM when the rows
             * share a time step, else one per row. */
            if (uniform) {
                int64_t len = seq_len(c, lens, 0, seq);
                if (s >= len)
                    break;
                int64_t t = rev ? len - 1 - s : s;
                rt_sgemm(0, 1, batch, gh, isz, 1.0f, x + t * xstep, xrow, w, isz, 0.0f, gx, gh);
                rt_sgemm(0, 1, batch, gh, hs, 1.0f, h, hs, r, hs, 0.0f, ghh, gh);
            } else {
                for (int64_t b = 0; b < batch; b++) {
                    int64_t len = seq_len(c, lens, b, seq);
                    if (s >= len)
                        continue;
                    int64_t t = rev ? len - 1 - s : s;
                    rt_sgemm(0, 1, 1, gh, isz, 1.0f, x + t * xstep + b * xrow, isz, w, isz,
                             0.0f, gx + b * gh, gh);
                    rt_sgemm(0, 1, 1, gh, hs, 1.0f, h + b * hs, hs, r, hs, 0.0f, ghh + b * gh,
                             gh);
                }
            }
            for (int64_t b = 0; b < batch; b++) {
                int64_t len = seq_len(c, lens, b, seq);
                if (s >= len)
                    continue;
                int64_t t = rev ? len - 1 - s : s;
                float *gxb = gx + b * gh, *ghb = ghh + b * gh, *hb = h + b * hs;
                float *cb = cs + b * hs, *tb = tmp + b * hs;
                if (wb)
                    for (int64_t j = 0; j < gh; j++) {
                        gxb[j] += wb[j];
                        ghb[j] += rb[j];
                    }
                if (kind == RT_RNN_SIMPLE) {
                    for (int64_t j = 0; j < hs; j++)
                        hb[j] = gxb[j] + ghb[j];
                    act_vec(c, a0, clip, hb, hs);
                } else if (kind == RT_RNN_GRU) {
                    /* z and r (gates 0, 1) then the candidate h (gate 2). */
                    for (int64_t j = 0; j < 2 * hs; j++)
                        gxb[j] += ghb[j];
                    act_vec(c, a0, clip, gxb, 2 * hs);
                    const float *z = gxb, *rg = gxb + hs;
                    float *hc = gxb + 2 * hs;
                    if (lbr) {
                        for (int64_t j = 0; j < hs; j++)
                            hc[j] += rg[j] * ghb[2 * hs + j];
                    } else {
                        /* (r . H) R_h^T + Rb_h: needs its own product. */
                        for (int64_t j = 0; j < hs; j++)
                            tb[j] = rg[j] * hb[j];
                        rt_sgemm(0, 1, 1, hs, hs, 1.0f, tb, hs, r + 2 * hs * hs, hs, 0.0f,
                                 ghb + 2 * hs, hs);
                        for (int64_t j = 0; j < hs; j++)
                            hc[j] += ghb[2 * hs + j] + (rb ? rb[2 * hs + j] : 0.0f);
                    }
                    act_vec(c, a0 + 1, clip, hc, hs);
                    for (int64_t j = 0; j < hs; j++)
                        hb[j] = (1.0f - z[j]) * hc[j] + z[j] * hb[j];
                } else {
                    for (int64_t j = 0; j < gh; j++)
                        gxb[j] += ghb[j];
                    float *gi = gxb, *go = gxb + hs, *gf = gxb + 2 * hs, *gc = gxb + 3 * hs;
                    if (p)
                        for (int64_t j = 0; j < hs; j++) {
                            gi[j] += p[j] * cb[j];
                            gf[j] += p[2 * hs + j] * cb[j];
                        }
                    act_vec(c, a0, clip, gi, hs);
                    if (coupled) {
                        for (int64_t j = 0; j < hs; j++)
                            gf[j] = 1.0f - gi[j];
                    } else {
                        act_vec(c, a0, clip, gf, hs);
                    }
                    act_vec(c, a0 + 1, clip, gc, hs);
                    for (int64_t j = 0; j < hs; j++)
                        cb[j] = gf[j] * cb[j] + gi[j] * gc[j];
                    if (p)
                        for (int64_t j = 0; j < hs; j++)
                            go[j] += p[hs + j] * cb[j];
                    act_vec(c, a0, clip, go, hs);
                    for (int64_t j = 0; j < hs; j++)
                        tb[j] = cb[j];
                    act_vec(c, a0 + 2, 0.0f, tb, hs);
                    for (int64_t j = 0; j < hs; j++)
                        hb[j] = go[j] * tb[j];
                }
                if (y) {
                    int64_t yo = layout ? ((b * seq + t) * ndir + d) * hs
                                        : ((t * ndir + d) * batch + b) * hs;
                    memcpy(y + yo, hb, (size_t)hs * sizeof(float));
                }
            }
        }
        for (int64_t b = 0; b < batch; b++) {
            int64_t so = layout ? (b * ndir + d) * hs : (d * batch + b) * hs;
            if (yh)
                memcpy(yh + so, h + b * hs, (size_t)hs * sizeof(float));
            if (yc)
                memcpy(yc + so, cs + b * hs, (size_t)hs * sizeof(float));
        }
    }
    return RT_OK;
}
