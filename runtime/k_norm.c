/* k_norm.c: BatchNormalization, LayerNormalization, RMSNormalization, InstanceNormalization,
 * LRN, LpNormalization and Softmax/LogSoftmax/Hardmax kernels. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"


/* y[i] = x[i] * a + b over one plane; the float32 path every norm ends in. */
HOT static void affine_f32(const float *x, float *y, int64_t n, float a, float b)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] * a + b;
}

HOT static void affine_any(int dt, const void *x, void *y, int64_t off, int64_t n, double a,
                           double b)
{
    if (dt == RT_F32) {
        affine_f32((const float *)x + off, (float *)y + off, n, (float)a, (float)b);
        return;
    }
    for (int64_t i = off; i < off + n; i++)
        rt_store_f64(y, dt, i, rt_load_f64(x, dt, i) * a + b);
}

/* Mean and population variance of n elements, two-pass for accuracy (float32
 * sums with 8 independent lanes, so the loop vectorizes). */
HOT static void moments(int dt, const void *x, int64_t off, int64_t n, double *mean,
                        double *var)
{
    if (dt == RT_F32) {
        const float *xf = (const float *)x + off;
        float s[8] = {0}, q[8] = {0};
        int64_t i = 0;
        for (; i + 8 <= n; i += 8)
            for (int t = 0; t < 8; t++)
                s[t] += xf[i + t];
        float m = 0;
        for (int t = 0; t < 8; t++)
            m += s[t];
        for (; i < n; i++)
            m += xf[i];
        m = n ? m / (float)n : 0;
        for (i = 0; i + 8 <= n; i += 8)
            for (int t = 0; t < 8; t++)
                q[t] += (xf[i + t] - m) * (xf[i + t] - m);
        float v = 0;
        for (int t = 0; t < 8; t++)
            v += q[t];
        for (; i < n; i++)
            v += (xf[i] - m) * (xf[i] - m);
        *mean = m;
        *var = n ? v / (float)n : 0;
        return;
    }
    double m = 0, v = 0;
    for (int64_t i = 0; i < n; i++)
        m += rt_load_f64(x, dt, off + i);
    m = n ? m / (double)n : 0;
    for (int64_t i = 0; i < n; i++) {
        double d = rt_load_f64(x, dt, off + i) - m;
        v += d * d;
    }
    *mean = m;
    *var = n ? v / (double)n : 0;
}

/* ---- BatchNormalization ---- */

HOT int rt_batchnorm(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (c->n_in < 5 || x->rank < 1 || c->n_floats < RT_BATCHNORM_NFLOATS || !rt_is_float(dt))
        return dt == RT_UNDEF || rt_is_float(dt) ? RT_EINVAL : RT_EDTYPE;
    int training = rt_param_int(c, RT_BATCHNORM_TRAINING, 0) != 0;
    double eps = c->floats[RT_BATCHNORM_F_EPSILON], momentum = c->floats[RT_BATCHNORM_F_MOMENTUM];
    int64_t n = x->dims[0], ch = x->rank > 1 ? x->dims[1] : 1, sp = rt_prod(x->dims, 2, x->rank);
    for (int64_t k = 0; k < ch; k++) {
        double scale = rt_load_f64(in[1], c->in[1].dtype, k);
        double bias = rt_load_f64(in[2], c->in[2].dtype, k);
        double mean = rt_load_f64(in[3], c->in[3].dtype, k);
        double var = rt_load_f64(in[4], c->in[4].dtype, k);
        if (training) {
            /* batch statistics over N and the spatial axes */
            double s = 0, q = 0;
            for (int64_t b = 0; b < n; b++) {
                double m, v;
                moments(dt, in[0], (b * ch + k) * sp, sp, &m, &v);
                s += m;
                q += v + m * m;
            }
            double bm = s / (double)n, bv = q / (double)n - bm * bm;
            if (c->n_out > 1 && out[1])
                rt_store_f64(out[1], c->out[1].dtype, k, mean * momentum + bm * (1 - momentum));
            if (c->n_out > 2 && out[2])
                rt_store_f64(out[2], c->out[2].dtype, k, var * momentum + bv * (1 - momentum));
            mean = bm;
            var = bv;
        }
        double a = scale / sqrt(var + eps);
        for (int64_t b = 0; b < n; b++)
            affine_any(dt, in[0], out[0], (b * ch + k) * sp, sp, a, bias - mean * a);
    }
    return RT_OK;
}

/* ---- InstanceNormalization ---- */

HOT int rt_instancenorm(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (!rt_is_float(dt))
        return RT_EDTYPE;
    if (c->n_in < 3 || x->rank < 2 || c->n_floats < RT_INSTANCENORM_NFLOATS)
        return RT_EINVAL;
    double eps = c->floats[RT_INSTANCENORM_F_EPSILON];
    int64_t n = x->dims[0], ch = x->dims[1], sp = rt_prod(x->dims, 2, x->rank);
    for (int64_t b = 0; b < n; b++)
        for (int64_t k = 0; k < ch; k++) {
            double m, v;
            moments(dt, in[0], (b * ch + k) * sp, sp, &m, &v);
            double a = rt_load_f64(in[1], c->in[1].dtype, k) / sqrt(v + eps);
            double bias = rt_load_f64(in[2], c->in[2].dtype, k);
            affine_any(dt, in[0], out[0], (b * ch + k) * sp, sp, a, bias - m * a);
        }
    return RT_OK;
}

/* ---- LayerNormalization ---- */

/* Index of a Scale/B element for inner element i: they broadcast to X.shape[axis:]. */
static int64_t bcast_index(int64_t i, const RtTensorDesc *inner, const int64_t *st)
{
    int64_t r = 0;
    for (int d = inner->rank - 1; d >= 0; d--) {
        r += (i % inner->dims[d]) * st[d];
        i /= inner->dims[d];
    }
    return r;
}

/* Rows [lo, hi) of a float32 LayerNormalization over dense Scale and B,
 * for rt_parallel_for. */
typedef struct LnRows {
    int64_t n;
    float eps;
    const float *x, *scale, *bias;
    float *y;
} LnRows;

HOT static void ln_rows(void *ctx, int64_t lo, int64_t hi)
{
    const LnRows *r = ctx;
    for (int64_t o = lo; o < hi; o++) {
        double m, v;
        moments(RT_F32, r->x, o * r->n, r->n, &m, &v);
        const float *xf = r->x + o * r->n, *sf = r->scale, *bf = r->bias;
        float *yf = r->y + o * r->n;
        float mf = (float)m, invf = (float)(1 / sqrt(v + r->eps));
        if (bf)
            for (int64_t i = 0; i < r->n; i++)
                yf[i] = (xf[i] - mf) * invf * sf[i] + bf[i];
        else
            for (int64_t i = 0; i < r->n; i++)
                yf[i] = (xf[i] - mf) * invf * sf[i];
    }
}

/* LayerNorm and RMSNorm normalize over the axes from `axis` on: outer rows
 * of inner elements, and id, the shape of one row, which scale and bias
 * broadcast to. Nonzero for an axis outside [0, rank]. */
static int norm_rows(const RtTensorDesc *x, int64_t axis, int64_t *outer, int64_t *inner,
                     RtTensorDesc *id)
{
    if (axis < 0 || axis > x->rank)
        return -1;
    int a = (int)axis;
    *outer = rt_prod(x->dims, 0, a);
    *inner = rt_prod(x->dims, a, x->rank);
    *id = *x;
    id->rank = x->rank - a;
    memmove(id->dims, x->dims + a, sizeof(int64_t) * (size_t)id->rank);
    return 0;
}

HOT int rt_layernorm(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (!rt_is_float(dt))
        return RT_EDTYPE;
    if (c->n_ints < RT_LAYERNORM_NINTS || c->n_floats < RT_LAYERNORM_NFLOATS || c->n_in < 2)
        return RT_EINVAL;
    int64_t outer, inner;
    RtTensorDesc id;
    if (norm_rows(x, c->ints[RT_LAYERNORM_AXIS], &outer, &inner, &id))
        return RT_EINVAL;
    float eps = c->floats[RT_LAYERNORM_F_EPSILON];
    const void *scale = in[1], *bias = c->n_in > 2 && c->in[2].dtype != RT_UNDEF ? in[2] : NULL;
    int64_t ss[RT_MAX_RANK], bs[RT_MAX_RANK];
    if (rt_broadcast_strides(&c->in[1], &id, ss) ||
        (bias && rt_broadcast_strides(&c->in[2], &id, bs)))
        return RT_EINVAL;
    int dense = rt_numel(&c->in[1]) == inner && (!bias || rt_numel(&c->in[2]) == inner);
    void *mean_out = c->n_out > 1 && c->out[1].dtype != RT_UNDEF ? out[1] : NULL;
    void *inv_out = c->n_out > 2 && c->out[2].dtype != RT_UNDEF ? out[2] : NULL;
    if (dt == RT_F32 && dense && c->in[1].dtype == RT_F32 && (!bias || c->in[2].dtype == RT_F32) &&
        !mean_out && !inv_out) {
        LnRows r = {inner, eps, in[0], scale, bias, out[0]};
        rt_parallel_for(outer, (16384 + inner - 1) / (inner ? inner : 1), ln_rows, &r);
        return RT_OK;
    }
    for (int64_t o = 0; o < outer; o++) {
        double m, v;
        moments(dt, in[0], o * inner, inner, &m, &v);
        double inv = 1 / sqrt(v + eps);
        if (mean_out)
            rt_store_f64(mean_out, c->out[1].dtype, o, m);
        if (inv_out)
            rt_store_f64(inv_out, c->out[2].dtype, o, inv);
        if (dt == RT_F32 && dense && c->in[1].dtype == RT_F32 &&
            (!bias || c->in[2].dtype == RT_F32)) {
            const float *xf = (const float *)in[0] + o * inner, *sf = scale, *bf = bias;
            float *yf = (float *)out[0] + o * inner;
            float mf = (float)m, invf = (float)inv;
            if (bf)
                for (int64_t i = 0; i < inner; i++)
                    yf[i] = (xf[i] - mf) * invf * sf[i] + bf[i];
            else
                for (int64_t i = 0; i < inner; i++)
                    yf[i] = (xf[i] - mf) * invf * sf[i];
            continue;
        }
        for (int64_t i = 0; i < inner; i++) {
            double s = rt_load_f64(scale, c->in[1].dtype, bcast_index(i, &id, ss));
            double b = bias ? rt_load_f64(bias, c->in[2].dtype, bcast_index(i, &id, bs)) : 0;
            double xv = rt_load_f64(in[0], dt, o * inner + i);
            rt_store_f64(out[0], dt, o * inner + i, (xv - m) * inv * s + b);
        }
    }
    return RT_OK;
}

/* ---- RMSNormalization (opset 23) ---- */

/* Sum of squares of n float32 elements, 8 independent lanes so the loop
 * vectorizes. */
HOT static float sum_sq(const float *x, int64_t n)
{
    float q[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int t = 0; t < 8; t++)
            q[t] += x[i + t] * x[i + t];
    float s = 0;
    for (int t = 0; t < 8; t++)
        s += q[t];
    for (; i < n; i++)
        s += x[i] * x[i];
    return s;
}

/* Rows [lo, hi) of a float32 RMSNormalization over a dense Scale. */
HOT static void rms_rows(void *ctx, int64_t lo, int64_t hi)
{
    const LnRows *r = ctx;
    for (int64_t o = lo; o < hi; o++) {
        const float *xf = r->x + o * r->n, *sf = r->scale;
        float *yf = r->y + o * r->n;
        float inv = (float)(1 / sqrt((double)sum_sq(xf, r->n) / (double)r->n + r->eps));
        for (int64_t i = 0; i < r->n; i++)
            yf[i] = xf[i] * inv * sf[i];
    }
}

HOT int rt_rmsnorm(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (!rt_is_float(dt) || !rt_is_float(c->in[1].dtype))
        return RT_EDTYPE;
    if (c->n_ints < RT_RMSNORM_NINTS || c->n_floats < RT_RMSNORM_NFLOATS || c->n_in < 2)
        return RT_EINVAL;
    int64_t outer, inner;
    RtTensorDesc id;
    if (norm_rows(x, c->ints[RT_RMSNORM_AXIS], &outer, &inner, &id))
        return RT_EINVAL;
    float eps = c->floats[RT_RMSNORM_F_EPSILON];
    int64_t ss[RT_MAX_RANK];
    if (rt_broadcast_strides(&c->in[1], &id, ss))
        return RT_EINVAL;
    if (dt == RT_F32 && c->in[1].dtype == RT_F32 && rt_numel(&c->in[1]) == inner) {
        LnRows r = {inner, eps, in[0], in[1], NULL, out[0]};
        rt_parallel_for(outer, (16384 + inner - 1) / (inner ? inner : 1), rms_rows, &r);
        return RT_OK;
    }
    for (int64_t o = 0; o < outer; o++) {
        double q = 0;
        for (int64_t i = 0; i < inner; i++) {
            double v = rt_load_f64(in[0], dt, o * inner + i);
            q += v * v;
        }
        double inv = 1 / sqrt((inner ? q / (double)inner : 0) + eps);
        for (int64_t i = 0; i < inner; i++) {
            double s = rt_load_f64(in[1], c->in[1].dtype, bcast_index(i, &id, ss));
            rt_store_f64(out[0], dt, o * inner + i,
                         rt_load_f64(in[0], dt, o * inner + i) * inv * s);
        }
    }
    return RT_OK;
}

/* ---- Softmax, LogSoftmax, Hardmax ---- */

/* expf for the softmax rows, written so that loops over it vectorize:
 * Cody-Waite reduction x = n*ln2 + r, Cephes' degree-6 polynomial for e^r,
 * 2^n built in the exponent bits. Relative error < 1e-7 over [-87, 88];
 * inputs are clamped to that range (softmax only feeds it x - max <= 0). */
HOT static float exp_fast(float x)
{
    x = x < -87.3365f ? -87.3365f : x;
    x = x > 88.7228f ? 88.7228f : x;
    float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = (int32_t)((uint32_t)((int32_t)n + 127) << 23);
    float scale;
    memcpy(&scale, &e, sizeof scale);
    return p * scale;
}

/* One float32 row of n contiguous elements; 8 independent lanes keep the
 * max and sum loops vectorizable. */
HOT static void softmax_row(int kind, const float *x, float *y, int64_t n)
{
    if (kind == RT_HARDMAX) {
        int64_t arg = 0;
        for (int64_t i = 1; i < n; i++)
            if (x[i] > x[arg])
                arg = i;
        for (int64_t i = 0; i < n; i++)
            y[i] = i == arg;
        return;
    }
    float m8[8], s8[8];
    int64_t i = 0;
    for (int t = 0; t < 8; t++) {
        m8[t] = x[0];
        s8[t] = 0;
    }
    for (; i + 8 <= n; i += 8)
        for (int t = 0; t < 8; t++)
            m8[t] = x[i + t] > m8[t] ? x[i + t] : m8[t];
    float mx = m8[0];
    for (int t = 1; t < 8; t++)
        mx = m8[t] > mx ? m8[t] : mx;
    for (; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    for (i = 0; i + 8 <= n; i += 8)
        for (int t = 0; t < 8; t++) {
            float e = exp_fast(x[i + t] - mx);
            y[i + t] = e;
            s8[t] += e;
        }
    float s = 0;
    for (int t = 0; t < 8; t++)
        s += s8[t];
    for (; i < n; i++) {
        y[i] = exp_fast(x[i] - mx);
        s += y[i];
    }
    if (kind == RT_LOG_SOFTMAX) {
        float ls = logf(s) + mx;
        for (i = 0; i < n; i++)
            y[i] = x[i] - ls;
    } else {
        float r = 1 / s;
        for (i = 0; i < n; i++)
            y[i] *= r;
    }
}

/* Rows [lo, hi) of a float32 softmax over the last axis, for rt_parallel_for. */
typedef struct SoftmaxRows {
    int kind;
    int64_t n;
    const float *x;
    float *y;
} SoftmaxRows;

static void softmax_rows(void *ctx, int64_t lo, int64_t hi)
{
    const SoftmaxRows *r = ctx;
    for (int64_t o = lo; o < hi; o++)
        softmax_row(r->kind, r->x + o * r->n, r->y + o * r->n, r->n);
}

HOT int rt_softmax(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (!rt_is_float(dt))
        return RT_EDTYPE;
    if (c->n_ints < RT_SOFTMAX_NINTS)
        return RT_EINVAL;
    int kind = (int)c->ints[RT_SOFTMAX_KIND], axis = (int)c->ints[RT_SOFTMAX_AXIS];
    int legacy = (int)c->ints[RT_SOFTMAX_LEGACY];
    if (axis < 0 || axis > x->rank || (!legacy && axis >= x->rank))
        return RT_EINVAL;
    int64_t outer = rt_prod(x->dims, 0, axis);
    int64_t n = legacy ? rt_prod(x->dims, axis, x->rank) : x->dims[axis];
    int64_t inner = legacy ? 1 : rt_prod(x->dims, axis + 1, x->rank);
    if (n == 0)
        return RT_OK;
    if (dt == RT_F32 && inner == 1) {
        SoftmaxRows r = {kind, n, in[0], out[0]};
        rt_parallel_for(outer, (16384 + n - 1) / n, softmax_rows, &r);
        return RT_OK;
    }
    if (dt == RT_F32 && kind != RT_HARDMAX) {
        /* a strided axis: reduce whole rows of the inner extent at once */
        enum { CH = 256 };
        float mx[CH], sum[CH];
        const float *xf = in[0];
        float *yf = out[0];
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j0 = 0; j0 < inner; j0 += CH) {
                int64_t nj = inner - j0 < CH ? inner - j0 : CH;
                const float *xo = xf + o * n * inner + j0;
                float *yo = yf + o * n * inner + j0;
                for (int64_t j = 0; j < nj; j++) {
                    mx[j] = xo[j];
                    sum[j] = 0;
                }
                for (int64_t i = 1; i < n; i++)
                    for (int64_t j = 0; j < nj; j++)
                        mx[j] = xo[i * inner + j] > mx[j] ? xo[i * inner + j] : mx[j];
                for (int64_t i = 0; i < n; i++)
                    for (int64_t j = 0; j < nj; j++) {
                        float e = exp_fast(xo[i * inner + j] - mx[j]);
                        yo[i * inner + j] = e;
                        sum[j] += e;
                    }
                for (int64_t j = 0; j < nj; j++)
                    sum[j] = kind == RT_LOG_SOFTMAX ? logf(sum[j]) + mx[j] : 1 / sum[j];
                for (int64_t i = 0; i < n; i++)
                    for (int64_t j = 0; j < nj; j++) {
                        if (kind == RT_LOG_SOFTMAX)
                            yo[i * inner + j] = xo[i * inner + j] - sum[j];
                        else
                            yo[i * inner + j] *= sum[j];
                    }
            }
        return RT_OK;
    }
    /* another dtype, or Hardmax along a strided axis: each line through doubles */
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            int64_t base = o * n * inner + j;
            double mx = rt_load_f64(in[0], dt, base);
            int64_t arg = 0;
            for (int64_t i = 1; i < n; i++) {
                double v = rt_load_f64(in[0], dt, base + i * inner);
                if (v > mx) {
                    mx = v;
                    arg = i;
                }
            }
            double s = 0;
            for (int64_t i = 0; i < n && kind != RT_HARDMAX; i++)
                s += exp(rt_load_f64(in[0], dt, base + i * inner) - mx);
            for (int64_t i = 0; i < n; i++) {
                double v = rt_load_f64(in[0], dt, base + i * inner), r;
                if (kind == RT_HARDMAX)
                    r = i == arg;
                else if (kind == RT_LOG_SOFTMAX)
                    r = v - mx - log(s);
                else
                    r = exp(v - mx) / s;
                rt_store_f64(out[0], dt, base + i * inner, r);
            }
        }
    return RT_OK;
}

/* ---- LRN (ONNX Operators.md: across channels, window [c - floor((size-1)/2),
 * c + ceil((size-1)/2)], y = x / (bias + alpha/size * sum x^2)^beta) ---- */

int rt_lrn(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (!rt_is_float(dt))
        return RT_EDTYPE;
    if (x->rank < 2 || c->n_ints < RT_LRN_NINTS || c->n_floats < RT_LRN_NFLOATS)
        return RT_EINVAL;
    int64_t size = c->ints[RT_LRN_SIZE];
    double alpha = c->floats[RT_LRN_F_ALPHA], beta = c->floats[RT_LRN_F_BETA];
    double bias = c->floats[RT_LRN_F_BIAS];
    int64_t n = x->dims[0], ch = x->dims[1], sp = rt_prod(x->dims, 2, x->rank);
    int64_t before = (size - 1) / 2, after = size - 1 - before;
    for (int64_t b = 0; b < n; b++)
        for (int64_t k = 0; k < ch; k++) {
            int64_t c0 = k - before < 0 ? 0 : k - before;
            int64_t c1 = k + after >= ch ? ch - 1 : k + after;
            for (int64_t i = 0; i < sp; i++) {
                double sq = 0;
                for (int64_t j = c0; j <= c1; j++) {
                    double v = rt_load_f64(in[0], dt, (b * ch + j) * sp + i);
                    sq += v * v;
                }
                int64_t at = (b * ch + k) * sp + i;
                double v = rt_load_f64(in[0], dt, at);
                rt_store_f64(out[0], dt, at, v / pow(bias + alpha / (double)size * sq, beta));
            }
        }
    return RT_OK;
}

/* ---- LpNormalization: x / ||x||_p along one axis ---- */

int rt_lpnorm(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int dt = x->dtype;
    if (!rt_is_float(dt))
        return RT_EDTYPE;
    if (c->n_ints < RT_LPNORM_NINTS || c->ints[RT_LPNORM_AXIS] < 0 ||
        c->ints[RT_LPNORM_AXIS] >= x->rank)
        return RT_EINVAL;
    int axis = (int)c->ints[RT_LPNORM_AXIS], p = (int)c->ints[RT_LPNORM_P];
    int64_t outer = rt_prod(x->dims, 0, axis), n = x->dims[axis];
    int64_t inner = rt_prod(x->dims, axis + 1, x->rank);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            int64_t base = o * n * inner + j;
            double s = 0;
            for (int64_t i = 0; i < n; i++) {
                double v = rt_load_f64(in[0], dt, base + i * inner);
                s += p == 1 ? fabs(v) : v * v;
            }
            /* an all-zero lane has norm 0: ONNX's reference divides by 1
             * there (the output stays 0) rather than making 0/0 = NaN */
            double norm = s == 0 ? 1 : p == 1 ? s : sqrt(s);
            for (int64_t i = 0; i < n; i++)
                rt_store_f64(out[0], dt, base + i * inner,
                             rt_load_f64(in[0], dt, base + i * inner) / norm);
        }
    return RT_OK;
}
