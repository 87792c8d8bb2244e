/* wq_methods.c: choosing weight-only codes (round-to-nearest for now; GPTQ, decoupleQ and the block formats follow). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wq_methods.h"

WqHessian *wq_hessian_new(int64_t k)
{
    WqHessian *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->k = k;
    h->h = calloc((size_t)(k * k), sizeof *h->h);
    if (!h->h) {
        free(h);
        return NULL;
    }
    return h;
}

void wq_hessian_add(WqHessian *h, const float *x, int64_t rows)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *v = x + r * h->k;
        for (int64_t i = 0; i < h->k; i++)
            for (int64_t j = 0; j < h->k; j++)
                h->h[i * h->k + j] += (double)v[i] * v[j];
    }
    h->rows += rows;
}

void wq_hessian_free(WqHessian *h)
{
    if (h)
        free(h->h);
    free(h);
}

static int int_bits(int fmt)
{
    return fmt == RT_WQ_INT8 ? 8 : fmt == RT_WQ_INT4 ? 4 : fmt == RT_WQ_INT3 ? 3
         : fmt == RT_WQ_INT2 ? 2 : 0;
}

int wq_quantize(const float *w, int64_t n, int64_t k, int fmt, int group, int method,
                const WqHessian *h, RtWqCodes *out, Diag *d)
{
    (void)h;
    int bits = int_bits(fmt);
    if (method != QM_RTN || !bits)
        return ir_error(d, "this weight format or method is not implemented yet");
    if (group <= 0)
        group = 32;
    int64_t ng = (k + group - 1) / group;
    int16_t *code = malloc((size_t)(n * k) * sizeof *code);
    float *scale = malloc((size_t)(n * ng) * sizeof *scale);
    uint8_t *zero = malloc((size_t)(n * ng));
    if (!code || !scale || !zero) {
        free(code);
        free(scale);
        free(zero);
        return ir_error(d, "out of memory quantizing weights");
    }
    int qmax = (1 << bits) - 1;
    for (int64_t r = 0; r < n; r++)
        for (int64_t gi = 0; gi < ng; gi++) {
            int64_t k0 = gi * group, k1 = k0 + group < k ? k0 + group : k;
            float lo = 0, hi = 0;
            for (int64_t i = k0; i < k1; i++) {
                lo = fminf(lo, w[r * k + i]);
                hi = fmaxf(hi, w[r * k + i]);
            }
            float s = (hi - lo) / qmax;
            if (!(s > 0))
                s = 1;
            int z = (int)lrintf(-lo / s);
            z = z < 0 ? 0 : z > qmax ? qmax : z;
            scale[r * ng + gi] = s;
            zero[r * ng + gi] = (uint8_t)z;
            for (int64_t i = k0; i < k1; i++) {
                long q = lrintf(w[r * k + i] / s) + z;
                code[r * k + i] = (int16_t)(q < 0 ? 0 : q > qmax ? qmax : q);
            }
        }
    *out = (RtWqCodes){fmt, n, k, group, code, scale, zero, 1.0f};
    return 0;
}

void wq_codes_free(RtWqCodes *c)
{
    free((void *)c->code);
    free((void *)c->scale);
    free((void *)c->zero);
    memset(c, 0, sizeof *c);
}

void wq_dequant(const RtWqCodes *c, float *w)
{
    int64_t ng = (c->k + c->group - 1) / c->group;
    for (int64_t r = 0; r < c->n; r++)
        for (int64_t i = 0; i < c->k; i++) {
            int64_t gi = r * ng + i / c->group;
            float z = c->zero ? c->zero[gi] : 0;
            w[r * c->k + i] = c->tensor_scale * c->scale[gi] *
                              (rt_wq_elem(c->fmt, c->code[r * c->k + i]) - z);
        }
}
