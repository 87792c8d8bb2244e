/* k_loss.c: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss. */
#include <math.h>

#include "rt_internal.h"


static int is_float(int dt)
{
    return dt == RT_F32 || dt == RT_F64 || dt == RT_F16 || dt == RT_BF16;
}

/* log(sum(exp(x[base + k*inner]))) over the cls classes of one position;
 * the max is subtracted first so exp() cannot overflow. */
static double log_sum_exp(const void *x, int dt, int64_t base, int64_t cls, int64_t inner)
{
    double mx = -HUGE_VAL, sum = 0;
    for (int64_t k = 0; k < cls; k++) {
        double v = rt_load_f64_fast(x, dt, base + k * inner);
        if (v > mx)
            mx = v;
    }
    for (int64_t k = 0; k < cls; k++)
        sum += exp(rt_load_f64_fast(x, dt, base + k * inner) - mx);
    return mx + log(sum);
}

/* log_softmax of scores along axis 1 into lp (same layout and dtype). */
static void log_softmax(const void *x, void *lp, int dt, int64_t n, int64_t cls, int64_t inner)
{
    for (int64_t b = 0; b < n; b++) {
        for (int64_t s = 0; s < inner; s++) {
            int64_t base = b * cls * inner + s;
            double lse = log_sum_exp(x, dt, base, cls, inner);
            for (int64_t k = 0; k < cls; k++)
                rt_store_f64_fast(lp, dt, base + k * inner,
                                  rt_load_f64_fast(x, dt, base + k * inner) - lse);
        }
    }
}

/* The NLL, per the ONNX spec: loss[n, d] = -lp[n, t, d] * w[t] with
 * t = target[n, d], 0 where t is ignore_index; mean = sum(loss) / sum(w[t]
 * over targets not ignored). p is in[0]'s layout and dtype dt: log-probabilities,
 * or (logits set) raw scores, whose -log_softmax(p)[t] = lse - p[t] needs no
 * scratch buffer. */
static int nll(const RtCall *c, const void *p, int dt, int logits, const void *const *in,
               void *out)
{
    const RtTensorDesc *x = &c->in[0];
    if (c->n_ints < RT_LOSS_NINTS || x->rank < 2 || c->in[1].rank != x->rank - 1)
        return RT_EINVAL;
    int red = (int)c->ints[RT_LOSS_REDUCTION], has_ii = c->ints[RT_LOSS_HAS_IGNORE] != 0;
    int64_t ii = c->ints[RT_LOSS_IGNORE_INDEX];
    int64_t n = x->dims[0], cls = x->dims[1], inner = 1;
    for (int i = 2; i < x->rank; i++)
        inner *= x->dims[i];
    int tdt = c->in[1].dtype, odt = c->out[0].dtype;
    const void *w = c->n_in > 2 ? in[2] : NULL;
    int wdt = w ? c->in[2].dtype : RT_UNDEF;
    if (tdt != RT_I32 && tdt != RT_I64)
        return RT_EDTYPE;
    double total = 0, wsum = 0;
    for (int64_t b = 0; b < n; b++) {
        for (int64_t s = 0; s < inner; s++) {
            int64_t j = b * inner + s, base = b * cls * inner + s;
            int64_t t = rt_load_i64(in[1], tdt, j);
            double l = 0, wt = 0;
            if (!(has_ii && t == ii)) {
                if (t < 0 || t >= cls)
                    return RT_EINVAL;
                wt = w ? rt_load_f64_fast(w, wdt, t) : 1.0;
                double lt = rt_load_f64_fast(p, dt, base + t * inner);
                l = (logits ? log_sum_exp(p, dt, base, cls, inner) - lt : -lt) * wt;
            }
            if (red == RT_LOSS_NONE) {
                rt_store_f64_fast(out, odt, j, l);
            } else {
                total += l;
                wsum += wt;
            }
        }
    }
    if (red == RT_LOSS_SUM)
        rt_store_f64_fast(out, odt, 0, total);
    else if (red == RT_LOSS_MEAN)
        rt_store_f64_fast(out, odt, 0, total / wsum);
    return RT_OK;
}

int rt_nll_loss(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 2 || c->n_out < 1)
        return RT_EINVAL;
    if (!is_float(c->in[0].dtype))
        return RT_EDTYPE;
    return nll(c, in[0], c->in[0].dtype, 0, in, out[0]);
}

int rt_sce_loss(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 2 || c->n_out < 1)
        return RT_EINVAL;
    const RtTensorDesc *x = &c->in[0];
    if (!is_float(x->dtype))
        return RT_EDTYPE;
    if (x->rank < 2)
        return RT_EINVAL;
    if (c->n_out < 2 || !out[1])
        return nll(c, in[0], x->dtype, 1, in, out[0]);
    int64_t inner = 1;
    for (int i = 2; i < x->rank; i++)
        inner *= x->dims[i];
    /* The loss reads the rounded log_prob output, as the spec's two-step
     * definition does, so both outputs agree exactly. */
    log_softmax(in[0], out[1], x->dtype, x->dims[0], x->dims[1], inner);
    return nll(c, out[1], x->dtype, 0, in, out[0]);
}
