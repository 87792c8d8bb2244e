/* test_k_attention.c: the Attention kernel (3-D/4-D, GQA, past, masks, causal, softcap, qk output modes, threads) against a double reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "runtime/onnxcc_rt_kernels.h"

/* One case: logical shapes, then options. Inputs are filled from a formula;
 * the reference reads them through the same logical indexing the ONNX spec
 * states (3-D operands are [B, S, H*D] with head h at columns h*D..). */
typedef struct Case {
    int b, hq, hkv, sq, skv, past, d, dv;
    int rank;                    /* 3 or 4 */
    int causal, mode;            /* qk_matmul_output_mode, -1: no qk output */
    float scale, softcap;
    int mask;                    /* 0 none, 1 float [sq, mlen], 2 bool [b, 1, sq, mlen] */
    int mlen;
    int nonpad;                  /* per-batch valid lengths (no past) */
    int dtype;
} Case;

static double qv(int b, int h, int i, int d) { return sin(0.37 * b + 1.3 * h + 0.11 * i + 0.7 * d); }
static double kv(int b, int g, int j, int d) { return cos(0.23 * b + 0.9 * g + 0.17 * j + 0.5 * d); }
static double vv(int b, int g, int j, int e) { return sin(0.41 * b - 0.6 * g + 0.29 * j + 0.3 * e); }
static double fm(int i, int j) { return ((i * 7 + j * 3) % 5) * -0.5; }
static int bm(int b, int i, int j) { return (b + i * 3 + j) % 4 != 0 && !(b == 1 && i == 2); }
static int64_t valid(int b, int total) { return b == 0 ? total : total - 3 - b; }

/* Offset of logical (b, h, i, d) in a 3-D or 4-D operand of `heads` heads. */
static int64_t at(int rank, int heads, int s, int dim, int b, int h, int i, int d)
{
    if (rank == 3)
        return ((int64_t)b * s + i) * heads * dim + (int64_t)h * dim + d;
    return (((int64_t)b * heads + h) * s + i) * dim + d;
}

static void put(void *p, int dt, int64_t i, double v)
{
    rt_store_f64(p, dt, i, v);
}

/* The reference: Y, present_key/value and qk as the spec computes them. */
static void reference(const Case *k, double *y, double *qk)
{
    int total = k->past + k->skv, grp = k->hq / k->hkv;
    double *s = malloc(sizeof(double) * (size_t)total);
    for (int b = 0; b < k->b; b++)
        for (int h = 0; h < k->hq; h++)
            for (int i = 0; i < k->sq; i++) {
                int g = h / grp;
                double mx = -INFINITY;
                for (int j = 0; j < total; j++) {
                    double dot = 0;
                    for (int d = 0; d < k->d; d++)
                        dot += qv(b, h, i, d) * kv(b, g, j, d);
                    double x = dot * k->scale;
                    if (k->softcap > 0)
                        x = k->softcap * tanh(x / k->softcap);
                    double *qrow = qk + (((int64_t)b * k->hq + h) * k->sq + i) * total;
                    if (k->mode == 0 || k->mode == 1)
                        qrow[j] = x;
                    if (k->mask == 1)
                        x += j < k->mlen ? fm(i, j) : -INFINITY;
                    if (k->mask == 2 && (j >= k->mlen || !bm(b, i, j)))
                        x = -INFINITY;
                    int64_t off = k->nonpad ? valid(b, total) - k->sq : k->past;
                    if (k->causal && j > i + off)
                        x = -INFINITY;
                    if (k->nonpad && j >= valid(b, total))
                        x = -INFINITY;
                    if (k->mode == 2)
                        qrow[j] = x;
                    s[j] = x;
                    mx = x > mx ? x : mx;
                }
                double sum = 0;
                for (int j = 0; j < total; j++) {
                    s[j] = mx == -INFINITY ? 0 : exp(s[j] - mx);
                    sum += s[j];
                }
                for (int j = 0; j < total; j++) {
                    s[j] = sum > 0 ? s[j] / sum : 0;
                    if (k->mode == 3)
                        qk[(((int64_t)b * k->hq + h) * k->sq + i) * total + j] = s[j];
                }
                for (int e = 0; e < k->dv; e++) {
                    double acc = 0;
                    for (int j = 0; j < total; j++)
                        acc += s[j] * vv(b, g, j, e);
                    y[at(k->rank, k->hq, k->sq, k->dv, b, h, i, e)] = acc;
                }
            }
    free(s);
}

/* Runs the kernel on case k and returns the worst absolute error of Y, the
 * presents and qk; *y_out (if not NULL) gets a malloc'ed copy of Y. */
static double run_case(const Case *k, float **y_out)
{
    int dt = k->dtype, r = k->rank, total = k->past + k->skv;
    size_t esz = rt_dtype_size(dt);
    int64_t nq = (int64_t)k->b * k->hq * k->sq * k->d, nk = (int64_t)k->b * k->hkv * k->skv * k->d;
    int64_t nv = (int64_t)k->b * k->hkv * k->skv * k->dv;
    int64_t npk = (int64_t)k->b * k->hkv * k->past * k->d, npv = (int64_t)k->b * k->hkv * k->past * k->dv;
    int64_t ny = (int64_t)k->b * k->hq * k->sq * k->dv, nqk = (int64_t)k->b * k->hq * k->sq * total;
    int64_t nmask = k->mask == 1 ? (int64_t)k->sq * k->mlen : (int64_t)k->b * k->sq * k->mlen;
    void *q = calloc((size_t)nq, esz), *kk = calloc((size_t)nk, esz), *v = calloc((size_t)nv, esz);
    void *pk = calloc((size_t)npk + 1, esz), *pv = calloc((size_t)npv + 1, esz);
    void *y = calloc((size_t)ny, esz), *qk = calloc((size_t)nqk, esz);
    void *prk = calloc((size_t)(k->b * k->hkv * total * k->d), esz);
    void *prv = calloc((size_t)(k->b * k->hkv * total * k->dv), esz);
    void *mask = calloc((size_t)nmask + 1, 4);
    int64_t lens[4];
    for (int b = 0; b < k->b; b++) {
        lens[b] = valid(b, total);
        for (int h = 0; h < k->hq; h++)
            for (int i = 0; i < k->sq; i++)
                for (int d = 0; d < k->d; d++)
                    put(q, dt, at(r, k->hq, k->sq, k->d, b, h, i, d), qv(b, h, i, d));
        for (int g = 0; g < k->hkv; g++)
            for (int j = 0; j < total; j++) {
                for (int d = 0; d < k->d; d++)
                    if (j < k->past)
                        put(pk, dt, at(4, k->hkv, k->past, k->d, b, g, j, d), kv(b, g, j, d));
                    else
                        put(kk, dt, at(r, k->hkv, k->skv, k->d, b, g, j - k->past, d),
                            kv(b, g, j, d));
                for (int e = 0; e < k->dv; e++)
                    if (j < k->past)
                        put(pv, dt, at(4, k->hkv, k->past, k->dv, b, g, j, e), vv(b, g, j, e));
                    else
                        put(v, dt, at(r, k->hkv, k->skv, k->dv, b, g, j - k->past, e),
                            vv(b, g, j, e));
            }
        for (int i = 0; i < k->sq; i++)
            for (int j = 0; j < k->mlen; j++) {
                if (k->mask == 1 && b == 0)
                    put(mask, dt, (int64_t)i * k->mlen + j, fm(i, j));
                if (k->mask == 2)
                    ((uint8_t *)mask)[((int64_t)b * k->sq + i) * k->mlen + j] = (uint8_t)bm(b, i, j);
            }
    }
    RtTensorDesc din[7], dout[4];
    memset(din, 0, sizeof din);
    memset(dout, 0, sizeof dout);
    int64_t qd3[3] = {k->b, k->sq, k->hq * k->d}, qd4[4] = {k->b, k->hq, k->sq, k->d};
    int64_t kd3[3] = {k->b, k->skv, k->hkv * k->d}, kd4[4] = {k->b, k->hkv, k->skv, k->d};
    int64_t vd3[3] = {k->b, k->skv, k->hkv * k->dv}, vd4[4] = {k->b, k->hkv, k->skv, k->dv};
    int64_t yd3[3] = {k->b, k->sq, k->hq * k->dv}, yd4[4] = {k->b, k->hq, k->sq, k->dv};
    din[0] = desc(dt, r, r == 3 ? qd3 : qd4);
    din[1] = desc(dt, r, r == 3 ? kd3 : kd4);
    din[2] = desc(dt, r, r == 3 ? vd3 : vd4);
    if (k->mask == 1)
        din[3] = desc(dt, 2, DIMS(k->sq, k->mlen));
    if (k->mask == 2)
        din[3] = desc(RT_BOOL, 4, DIMS(k->b, 1, k->sq, k->mlen));
    if (k->past) {
        din[4] = desc(dt, 4, DIMS(k->b, k->hkv, k->past, k->d));
        din[5] = desc(dt, 4, DIMS(k->b, k->hkv, k->past, k->dv));
    }
    if (k->nonpad)
        din[6] = desc(RT_I64, 1, DIMS(k->b));
    dout[0] = desc(dt, r, r == 3 ? yd3 : yd4);
    dout[1] = desc(dt, 4, DIMS(k->b, k->hkv, total, k->d));
    dout[2] = desc(dt, 4, DIMS(k->b, k->hkv, total, k->dv));
    if (k->mode >= 0)
        dout[3] = desc(dt, 4, DIMS(k->b, k->hq, k->sq, total));
    int64_t ints[RT_ATTN_NINTS] = {k->hq, k->hkv, k->causal, k->mode < 0 ? 0 : k->mode};
    float floats[RT_ATTN_NFLOATS] = {k->scale, k->softcap};
    const void *in[7] = {q, kk, v, k->mask ? mask : NULL, k->past ? pk : NULL,
                         k->past ? pv : NULL, k->nonpad ? lens : NULL};
    void *out[4] = {y, prk, prv, qk};
    RtCall c = call(7, din, 4, dout, RT_ATTN_NINTS, ints, RT_ATTN_NFLOATS, floats);
    CHECK(RT_OK, rt_attention(&c, in, out));

    double *ry = calloc((size_t)ny, sizeof(double)), *rqk = calloc((size_t)nqk, sizeof(double));
    reference(k, ry, rqk);
    double worst = 0;
    for (int64_t i = 0; i < ny; i++)
        worst = fmax(worst, fabs(rt_load_f64(y, dt, i) - ry[i]));
    for (int64_t i = 0; k->mode >= 0 && i < nqk; i++) {
        double a = rt_load_f64(qk, dt, i), e = rqk[i];
        if (isinf(e))
            worst = isinf(a) && a < 0 ? worst : INFINITY;
        else
            worst = fmax(worst, fabs(a - e));
    }
    /* the presents are exact copies of past then new rows */
    for (int b = 0; b < k->b; b++)
        for (int g = 0; g < k->hkv; g++)
            for (int j = 0; j < total; j++) {
                int p = j < k->past;
                for (int d = 0; d < k->d; d++) {
                    int64_t src = p ? at(4, k->hkv, k->past, k->d, b, g, j, d)
                                    : at(r, k->hkv, k->skv, k->d, b, g, j - k->past, d);
                    double e = rt_load_f64(p ? pk : kk, dt, src);
                    worst = fmax(worst, fabs(rt_load_f64(prk, dt, at(4, k->hkv, total, k->d,
                                                                     b, g, j, d)) - e));
                }
                for (int d = 0; d < k->dv; d++) {
                    int64_t src = p ? at(4, k->hkv, k->past, k->dv, b, g, j, d)
                                    : at(r, k->hkv, k->skv, k->dv, b, g, j - k->past, d);
                    double e = rt_load_f64(p ? pv : v, dt, src);
                    worst = fmax(worst, fabs(rt_load_f64(prv, dt, at(4, k->hkv, total, k->dv,
                                                                     b, g, j, d)) - e));
                }
            }
    if (y_out) {
        *y_out = malloc(sizeof(float) * (size_t)ny);
        for (int64_t i = 0; i < ny; i++)
            (*y_out)[i] = (float)rt_load_f64(y, dt, i);
    }
    free(q), free(kk), free(v), free(pk), free(pv), free(y), free(qk), free(prk), free(prv);
    free(mask), free(ry), free(rqk);
    return worst;
}

int main(void)
{
    /* float32 sums over up to ~1000 keys of unit-sized terms: 1e-4 absolute */
    const double tol = 1e-4;
    Case plain = {2, 4, 2, 37, 45, 0, 16, 24, 4, 0, -1, 0.25f, 0, 0, 0, 0, RT_F32};
    CHECK_NEAR(0, run_case(&plain, NULL), tol);
    Case c3 = {2, 6, 3, 9, 7, 20, 8, 8, 3, 1, 2, 0.3f, 1.5f, 1, 22, 0, RT_F32};
    CHECK_NEAR(0, run_case(&c3, NULL), tol);
    c3.mode = 3;
    CHECK_NEAR(0, run_case(&c3, NULL), tol);
    c3.mode = 0;
    CHECK_NEAR(0, run_case(&c3, NULL), tol);
    /* bool mask with a fully masked row (b 1, i 2), padded to the total length */
    Case cb = {2, 2, 2, 5, 12, 4, 8, 4, 4, 0, 3, 0.35f, 0, 2, 14, 0, RT_F32};
    CHECK_NEAR(0, run_case(&cb, NULL), tol);
    /* nonpad lengths with the causal frontier they imply (no past) */
    Case cn = {3, 4, 1, 4, 10, 0, 8, 8, 4, 1, 2, 0.35f, 0, 0, 0, 1, RT_F32};
    CHECK_NEAR(0, run_case(&cn, NULL), tol);
    /* a decode step: one query row against a cache */
    Case dec = {1, 8, 2, 1, 1, 300, 64, 64, 4, 1, -1, 0.125f, 0, 0, 0, 0, RT_F32};
    CHECK_NEAR(0, run_case(&dec, NULL), tol);
    /* many keys: fewer rows per block, several blocks per head; the same
     * result, bit for bit, on 1 and 2 threads */
    Case big = {1, 3, 3, 150, 900, 100, 32, 40, 3, 1, -1, 0.17f, 0, 1, 1000, 0, RT_F32};
    float *y1 = NULL, *y2 = NULL;
    CHECK_NEAR(0, run_case(&big, &y1), tol);
    if (rt_set_threads(2) == RT_OK) {
        CHECK_NEAR(0, run_case(&big, &y2), tol);
        CHECK(0, memcmp(y1, y2, sizeof(float) * 150 * 3 * 40));
        rt_set_threads(1);
    } else {
        y2 = malloc(1);
        fprintf(stderr, "no thread pool: the 2-thread comparison is not run\n");
    }
    free(y1), free(y2);
    /* float16 through the scalar path: half precision rounding, 2e-3 */
    Case h = {1, 4, 2, 6, 5, 3, 8, 8, 4, 1, 3, 0.35f, 2.0f, 1, 8, 0, RT_F16};
    CHECK_NEAR(0, run_case(&h, NULL), 2e-3);
    /* the kernel refuses what it cannot address */
    RtTensorDesc d2[3] = {desc(RT_F32, 2, DIMS(2, 2)), desc(RT_F32, 2, DIMS(2, 2)),
                          desc(RT_F32, 2, DIMS(2, 2))};
    int64_t ints[RT_ATTN_NINTS] = {1, 1, 0, 0};
    float fl[RT_ATTN_NFLOATS] = {1, 0};
    RtCall bad = call(3, d2, 1, d2, RT_ATTN_NINTS, ints, RT_ATTN_NFLOATS, fl);
    const void *in[3] = {NULL, NULL, NULL};
    void *out[1] = {NULL};
    CHECK(RT_EINVAL, rt_attention(&bad, in, out));
    return CHECK_DONE();
}
