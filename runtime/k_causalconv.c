/* k_causalconv.c: CausalConvWithState (opset 27): a depthwise causal 1-D convolution carrying its last k-1 inputs as state, channels in parallel. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"
#include "rt_vmath.h"

typedef struct Ccs {
    const RtCall *c;
    const void *const *in;
    void *const *out;
    int64_t ch, len, k;          /* channels, input length, kernel width */
    int silu;
} Ccs;

/* Element j of the padded row (past state, then the input) of row bc. */
static float padded(const Ccs *s, int64_t bc, int64_t j)
{
    const RtCall *c = s->c;
    if (j < s->k - 1) {
        if (c->n_in > 3 && c->in[3].dtype != RT_UNDEF)
            return (float)rt_load_f64_fast(s->in[3], c->in[3].dtype, bc * (s->k - 1) + j);
        return 0;
    }
    return (float)rt_load_f64_fast(s->in[0], c->in[0].dtype, bc * s->len + j - (s->k - 1));
}

static float silu(float v)
{
    return v / (1.0f + v_exp(-v));
}

HOT static void rows(void *ctx, int64_t lo, int64_t hi)
{
    const Ccs *s = ctx;
    const RtCall *c = s->c;
    int dt = c->in[0].dtype, wdt = c->in[1].dtype, odt = c->out[0].dtype;
    int has_bias = c->n_in > 2 && c->in[2].dtype != RT_UNDEF;
    int64_t k = s->k, len = s->len;
    float w[RT_CCS_MAX_K];
    for (int64_t bc = lo; bc < hi; bc++) {
        int64_t ch = bc % s->ch;
        for (int64_t i = 0; i < k; i++)
            w[i] = (float)rt_load_f64_fast(s->in[1], wdt, ch * k + i);
        float bias = has_bias ? (float)rt_load_f64_fast(s->in[2], c->in[2].dtype, ch) : 0;
        /* the first k-1 outputs reach into the state; the rest read only the
         * input, a plain float32 loop over t when the types allow */
        int64_t head = k - 1 < len ? k - 1 : len;
        for (int64_t t = 0; t < head; t++) {
            float acc = bias;
            for (int64_t i = 0; i < k; i++)
                acc += w[i] * padded(s, bc, t + i);
            rt_store_f64_fast(s->out[0], odt, bc * len + t, s->silu ? silu(acc) : acc);
        }
        if (dt == RT_F32 && odt == RT_F32) {
            const float *x = (const float *)s->in[0] + bc * len - (k - 1);
            float *y = (float *)s->out[0] + bc * len;
            for (int64_t t = head; t < len; t++) {
                float acc = bias;
                for (int64_t i = 0; i < k; i++)
                    acc += w[i] * x[t + i];
                y[t] = s->silu ? silu(acc) : acc;
            }
        } else {
            for (int64_t t = head; t < len; t++) {
                float acc = bias;
                for (int64_t i = 0; i < k; i++)
                    acc += w[i] * (float)rt_load_f64_fast(s->in[0], dt, bc * len + t + i - (k - 1));
                rt_store_f64_fast(s->out[0], odt, bc * len + t, s->silu ? silu(acc) : acc);
            }
        }
        if (c->n_out > 1 && c->out[1].dtype != RT_UNDEF)
            for (int64_t j = 0; j < k - 1; j++)
                rt_store_f64_fast(s->out[1], c->out[1].dtype, bc * (k - 1) + j,
                                  padded(s, bc, len + j));
    }
}

int rt_causal_conv_with_state(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 2 || c->n_ints < RT_CCS_NINTS)
        return RT_EINVAL;
    const RtTensorDesc *x = &c->in[0], *w = &c->in[1];
    if (!rt_is_float(x->dtype) || !rt_is_float(w->dtype))
        return RT_EDTYPE;
    if (x->rank != 3 || w->rank != 3 || w->dims[0] != x->dims[1] || w->dims[2] < 1 ||
        w->dims[2] > RT_CCS_MAX_K)
        return RT_EINVAL;
    Ccs s = {c, in, out, x->dims[1], x->dims[2], w->dims[2], (int)c->ints[RT_CCS_SILU]};
    int64_t rows_n = x->dims[0] * x->dims[1];
    rt_parallel_for(rows_n, 16384 / (s.len * s.k + 1) + 1, rows, &s);
    return RT_OK;
}
