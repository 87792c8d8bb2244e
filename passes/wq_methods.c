/* wq_methods.c: choosing weight-only codes: round-to-nearest for every format, GPTQ-style error compensation, decoupleQ. */
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

/* Batches of rows go through the runtime's GEMM (xᵀ x of up to
 * HESS_ROWS rows summed in float, then added to the double H); a few rows,
 * or no memory for the product, take the rank-one updates, four vectors at
 * a time so each row of H is loaded once per four. The upper triangle is
 * accumulated and mirrored, so H stays the full symmetric matrix. */
enum { HESS_ROWS = 256, HESS_GEMM_MIN = 16 };

void wq_hessian_add(WqHessian *h, const float *x, int64_t rows)
{
    int64_t k = h->k;
    float *t = rows >= HESS_GEMM_MIN ? malloc(sizeof(float) * (size_t)(k * k)) : NULL;
    for (int64_t r = 0; t && r < rows; r += HESS_ROWS) {
        int64_t nr = rows - r < HESS_ROWS ? rows - r : HESS_ROWS;
        rt_sgemm(1, 0, k, k, nr, 1.0f, x + r * k, k, x + r * k, k, 0.0f, t, k);
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = i; j < k; j++)
                h->h[i * k + j] += t[i * k + j];
    }
    for (int64_t r = 0; !t && r < rows; r += 4) {
        const float *v[4];
        int nv = rows - r < 4 ? (int)(rows - r) : 4;
        for (int q = 0; q < 4; q++)
            v[q] = x + (r + (q < nv ? q : 0)) * k;
        for (int64_t i = 0; i < k; i++) {
            double a[4];
            for (int q = 0; q < 4; q++)
                a[q] = q < nv ? v[q][i] : 0.0;
            if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0)
                continue;
            double *hi = h->h + i * k;
            for (int64_t j = i; j < k; j++)
                hi[j] += a[0] * v[0][j] + a[1] * v[1][j] + a[2] * v[2][j] + a[3] * v[3][j];
        }
    }
    free(t);
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < i; j++)
            h->h[i * k + j] = h->h[j * k + i];
    h->rows += rows;
}

void wq_hessian_free(WqHessian *h)
{
    if (h)
        free(h->h);
    free(h);
}

/* ---- the formats' element rules ---- */

static int int_bits(int fmt)
{
    return fmt == RT_WQ_INT8 ? 8 : fmt == RT_WQ_INT4 ? 4 : fmt == RT_WQ_INT3 ? 3
         : fmt == RT_WQ_INT2 ? 2 : 0;
}

static int is_ternary(int fmt)
{
    return fmt == RT_WQ_TERNARY || fmt == RT_WQ_TERNARY5 || fmt == RT_WQ_SHERRY;
}

/* The value a code stands for, from the narrow codecs directly: the
 * runtime's rt_wq_elem may not know the floating-point element formats. */
static float elem(int fmt, int code)
{
    switch (fmt) {
    case RT_WQ_MXINT8: return (float)code / 64.0f;
    case RT_WQ_MXFP8: return rt_narrow_to_f32(RT_F8E4M3FN, (unsigned)code & 0xff);
    case RT_WQ_MXFP4: case RT_WQ_NVFP4: return rt_narrow_to_f32(RT_F4E2M1, (unsigned)code & 0xf);
    default: return (float)code;
    }
}

/* The largest exponent of an MX element format (OCP MX v1.0, table 1):
 * MXINT8's elements are 1.6 fixed point (|x| < 2), E4M3's largest is
 * 1.75 * 2^8, E2M1's 1.5 * 2^2. */
static int mx_emax(int fmt)
{
    return fmt == RT_WQ_MXINT8 ? 0 : fmt == RT_WQ_MXFP8 ? 8 : 2;
}

/* One group's scale (and zero point) from the values v[0..m) it must hold.
 * ts is NVFP4's tensor scale. */
static void group_params(int fmt, const float *v, int64_t m, float ts, float *s, int *z)
{
    float amax = 0, lo = 0, hi = 0;
    double sum = 0;
    for (int64_t i = 0; i < m; i++) {
        amax = fmaxf(amax, fabsf(v[i]));
        lo = fminf(lo, v[i]);
        hi = fmaxf(hi, v[i]);
        sum += fabsf(v[i]);
    }
    *z = 0;
    int bits = int_bits(fmt);
    if (bits) {
        /* asymmetric over [min(v, 0), max(v, 0)], so 0 is exact */
        int qmax = (1 << bits) - 1;
        *s = (hi - lo) / qmax;
        if (!(*s > 0))
            *s = 1;
        int zz = (int)lrintf(-lo / *s);
        *z = zz < 0 ? 0 : zz > qmax ? qmax : zz;
    } else if (is_ternary(fmt)) {
        *s = m ? (float)(sum / m) : 0; /* BitNet b1.58's absmean */
    } else if (fmt == RT_WQ_NVFP4) {
        /* the block scale is itself an E4M3 number (saturating at 448) */
        *s = rt_narrow_to_f32(RT_F8E4M3FN, rt_f32_to_narrow(RT_F8E4M3FN, amax / 6 / ts, 1, 0));
    } else {
        /* shared exponent floor(log2 amax) - emax, clamped to E8M0's range */
        int e;
        if (amax > 0) {
            frexpf(amax, &e);
            e = e - 1 - mx_emax(fmt);
            e = e < -127 ? -127 : e > 127 ? 127 : e;
        } else {
            e = 0;
        }
        *s = ldexpf(1.0f, e);
    }
}

/* The code nearest to x in a group of scale s and zero point z (elementwise
 * formats: all but Sherry), nearest even and saturating. */
static int quant_one(int fmt, float x, float s, int z, float ts)
{
    int bits = int_bits(fmt);
    if (bits) {
        int qmax = (1 << bits) - 1;
        if (s == 0 || !isfinite(x / s))
            return z;
        long q = lrintf(x / s) + z;
        return (int)(q < 0 ? 0 : q > qmax ? qmax : q);
    }
    if (is_ternary(fmt)) {
        if (!(s > 0))
            return 0;
        long q = lrintf(x / s);
        return q < -1 ? -1 : q > 1 ? 1 : (int)q;
    }
    switch (fmt) {
    case RT_WQ_MXINT8: {
        long q = lrintf(x / s * 64.0f);
        return q < -128 ? -128 : q > 127 ? 127 : (int)q;
    }
    case RT_WQ_MXFP8:
        return (int)rt_f32_to_narrow(RT_F8E4M3FN, x / s, 1, 0);
    case RT_WQ_MXFP4:
        return (int)rt_f32_to_narrow(RT_F4E2M1, x / s, 1, 0);
    case RT_WQ_NVFP4:
        return s > 0 ? (int)rt_f32_to_narrow(RT_F4E2M1, x / (ts * s), 1, 0) : 0;
    }
    return 0;
}

static float deq_one(int fmt, int code, float s, int z, float ts)
{
    return ts * s * (elem(fmt, code) - (float)z);
}

/* ---- the codes being built ---- */

typedef struct Codes {
    int fmt, group;
    int64_t n, k, ng;            /* ng: groups per row */
    float ts;                    /* NVFP4's tensor scale, else 1 */
    int16_t *code;               /* n * k */
    float *scale;                /* n * ng */
    uint8_t *zero;               /* n * ng, INT formats; else NULL */
} Codes;

static int codes_alloc(Codes *c, int fmt, int64_t n, int64_t k, int group)
{
    *c = (Codes){fmt, group, n, k, (k + group - 1) / group, 1.0f, NULL, NULL, NULL};
    c->code = malloc((size_t)(n * k) * sizeof *c->code);
    c->scale = malloc((size_t)(n * c->ng) * sizeof *c->scale);
    if (int_bits(fmt))
        c->zero = calloc((size_t)(n * c->ng), 1);
    if (!c->code || !c->scale || (int_bits(fmt) && !c->zero)) {
        free(c->code);
        free(c->scale);
        free(c->zero);
        return -1;
    }
    return 0;
}

static void codes_free(Codes *c)
{
    free(c->code);
    free(c->scale);
    free(c->zero);
}

/* NVFP4's tensor scale: the largest block scale then needs E4M3's 448. */
static float nvfp4_tensor_scale(const float *w, int64_t count)
{
    float amax = 0;
    for (int64_t i = 0; i < count; i++)
        amax = fmaxf(amax, fabsf(w[i]));
    return amax > 0 ? amax / (6.0f * 448.0f) : 1.0f;
}

/* ---- round-to-nearest ---- */

/* Sherry (3:4 sparse ternary): in every 4 consecutive k (a last, shorter
 * block too) the smallest |w| becomes 0 and the others their sign; the
 * group scale minimizing the squared error for those signs is the mean |w|
 * of the kept weights. */
static void rtn_sherry(const float *w, Codes *c)
{
    for (int64_t r = 0; r < c->n; r++) {
        const float *wr = w + r * c->k;
        int16_t *q = c->code + r * c->k;
        for (int64_t b = 0; b < c->k; b += 4) {
            int64_t e = b + 4 < c->k ? b + 4 : c->k, lo = b;
            for (int64_t i = b; i < e; i++) {
                q[i] = wr[i] < 0 ? -1 : 1;
                if (fabsf(wr[i]) < fabsf(wr[lo]))
                    lo = i;
            }
            q[lo] = 0;
        }
        for (int64_t g = 0; g < c->ng; g++) {
            int64_t k0 = g * c->group, k1 = k0 + c->group < c->k ? k0 + c->group : c->k;
            double sum = 0;
            int64_t kept = 0;
            for (int64_t i = k0; i < k1; i++)
                if (q[i]) {
                    sum += fabsf(wr[i]);
                    kept++;
                }
            c->scale[r * c->ng + g] = kept ? (float)(sum / kept) : 0;
        }
    }
}

static void rtn(const float *w, Codes *c)
{
    if (c->fmt == RT_WQ_SHERRY) {
        rtn_sherry(w, c);
        return;
    }
    for (int64_t r = 0; r < c->n; r++)
        for (int64_t g = 0; g < c->ng; g++) {
            int64_t k0 = g * c->group, k1 = k0 + c->group < c->k ? k0 + c->group : c->k;
            const float *v = w + r * c->k + k0;
            float s;
            int z;
            group_params(c->fmt, v, k1 - k0, c->ts, &s, &z);
            c->scale[r * c->ng + g] = s;
            if (c->zero)
                c->zero[r * c->ng + g] = (uint8_t)z;
            for (int64_t i = 0; i < k1 - k0; i++)
                c->code[r * c->k + k0 + i] = (int16_t)quant_one(c->fmt, v[i], s, z, c->ts);
        }
}

/* ---- the Hessian's factor ---- */

/* In-place lower Cholesky factor of the k x k row-major a (the lower
 * triangle is read and written). Blocked by panels of NB columns: each
 * panel first takes the update of every factored column (the bulk of the
 * k^3/6 multiply-adds: pairs of rows against a packed copy of the panel's
 * rows, 8 columns at a time so the sums stay in registers), then is
 * factored on its own. 0, or -1 when a pivot is not positive. */
enum { CHOL_NB = 64, CHOL_PC = 256 };

/* Two doubles (GCC and Clang vector extension): the compiler's own vector
 * code for this 2 x 8 tile was scalar shuffles; spelled out it is 8
 * accumulators in registers on any target with 16 of them. */
typedef double V2d __attribute__((vector_size(16)));

/* a[i][j0 + jb .. + 8] -= row i . packed panel columns, for rows i and i2. */
static void chol_update8(double *a, int64_t k, int64_t i, int64_t i2, int64_t j0, int64_t jb,
                         const double *t, int64_t p0, int64_t p1, int64_t lim, int64_t lim2)
{
    V2d s0[4] = {{0}}, s1[4] = {{0}};
    const double *x0 = a + i * k, *x1 = a + i2 * k;
    for (int64_t p = p0; p < p1; p++) {
        V2d tp[4], v0 = {x0[p], x0[p]}, v1 = {x1[p], x1[p]};
        memcpy(tp, t + (p - p0) * 8, sizeof tp);
        for (int u = 0; u < 4; u++) {
            s0[u] += v0 * tp[u];
            s1[u] += v1 * tp[u];
        }
    }
    double r0[8], r1[8];
    memcpy(r0, s0, sizeof r0);
    memcpy(r1, s1, sizeof r1);
    for (int u = 0; u < 8 && jb + u < lim; u++)
        a[i * k + j0 + jb + u] -= r0[u];
    if (i2 != i)
        for (int u = 0; u < 8 && jb + u < lim2; u++)
            a[i2 * k + j0 + jb + u] -= r1[u];
}

static int cholesky(double *a, int64_t k)
{
    double *t = calloc(CHOL_NB * CHOL_PC, sizeof(double));
    if (!t)
        return -1;
    for (int64_t j0 = 0; j0 < k; j0 += CHOL_NB) {
        int64_t j1 = j0 + CHOL_NB < k ? j0 + CHOL_NB : k, nb = j1 - j0;
        for (int64_t p0 = 0; p0 < j0; p0 += CHOL_PC) {
            int64_t p1 = p0 + CHOL_PC < j0 ? p0 + CHOL_PC : j0, pc = p1 - p0;
            /* t: for each 8 panel rows, pc x 8 (rows past j1 as zeros) */
            for (int64_t jb = 0; jb < nb; jb += 8)
                for (int64_t p = p0; p < p1; p++)
                    for (int u = 0; u < 8; u++)
                        t[jb * pc + (p - p0) * 8 + u] =
                            jb + u < nb ? a[(j0 + jb + u) * k + p] : 0.0;
            for (int64_t i = j0; i < k; i += 2) {
                int64_t i2 = i + 1 < k ? i + 1 : i;
                int64_t lim = i - j0 + 1 < nb ? i - j0 + 1 : nb;
                int64_t lim2 = i2 - j0 + 1 < nb ? i2 - j0 + 1 : nb;
                for (int64_t jb = 0; jb < lim2; jb += 8)
                    chol_update8(a, k, i, i2, j0, jb, t + jb * pc, p0, p1, lim, lim2);
            }
        }
        for (int64_t j = j0; j < j1; j++) {
            double *aj = a + j * k, d = aj[j];
            for (int64_t p = j0; p < j; p++)
                d -= aj[p] * aj[p];
            if (!(d > 0)) {
                free(t);
                return -1;
            }
            d = sqrt(d);
            aj[j] = d;
            for (int64_t i = j + 1; i < k; i++) {
                double *ai = a + i * k, s = ai[j];
                for (int64_t p = j0; p < j; p++)
                    s -= ai[p] * aj[p];
                ai[j] = s / d;
            }
        }
    }
    free(t);
    return 0;
}

/* What GPTQ and decoupleQ share about one layer's inputs. */
typedef struct Factor {
    int64_t k;
    double *h;                   /* k * k: H, dead inputs given H_ii = 1, damped */
    unsigned char *dead;         /* k: inputs calibration never saw (H_ii = 0) */
    float *lt;                   /* k * k: lt[i][m] = L[m][i] for m >= i, H = Lᵀ L, L lower */
} Factor;

static void factor_free(Factor *f)
{
    free(f->h);
    free(f->dead);
    free(f->lt);
}

/* GPTQ's preparation (Frantar et al. 2022, and its reference code): dead
 * inputs get H_ii = 1 (their weights are zeroed by the caller, they meet
 * no input), then lambda = 1% of the mean diagonal is added, more if the
 * factorization still fails.
 *   GPTQ's sweep needs the upper Cholesky factor of H^-1. Writing J for the
 * reversal permutation and J H J = L' L'ᵀ, the factor L = J L'ᵀ J is lower
 * with H = Lᵀ L, and the sweep can be run from L alone (Babai's nearest
 * plane in GPTQ's column order): column j's error-compensated target is
 * w_j + c_j / L_jj with c_j = sum_{i<j} L_ji (w_i - q_i), which is exactly
 * the value GPTQ's update through chol(H^-1) leaves in column j. That
 * avoids inverting H: one k^3/6 factorization. */
static int factor_new(const WqHessian *hs, Factor *f)
{
    int64_t k = hs->k;
    *f = (Factor){k, malloc(sizeof(double) * (size_t)(k * k)), calloc((size_t)k, 1),
                  malloc(sizeof(float) * (size_t)(k * k))};
    double *a = malloc(sizeof(double) * (size_t)(k * k));
    if (!f->h || !f->dead || !f->lt || !a) {
        free(a);
        factor_free(f);
        return -1;
    }
    memcpy(f->h, hs->h, sizeof(double) * (size_t)(k * k));
    double mean = 0;
    for (int64_t i = 0; i < k; i++) {
        if (!(f->h[i * k + i] > 0)) {
            f->dead[i] = 1;
            for (int64_t j = 0; j < k; j++)
                f->h[i * k + j] = f->h[j * k + i] = 0;
            f->h[i * k + i] = 1;
        }
        mean += f->h[i * k + i];
    }
    mean /= k > 0 ? k : 1;
    double added = 0;
    for (double damp = 0.01; damp < 10; damp *= 10) {
        for (int64_t i = 0; i < k; i++)
            f->h[i * k + i] += damp * mean - added;
        added = damp * mean;
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j <= i; j++)
                a[i * k + j] = f->h[(k - 1 - i) * k + (k - 1 - j)];
        if (cholesky(a, k) == 0) {
            for (int64_t i = 0; i < k; i++)
                for (int64_t m = i; m < k; m++)
                    f->lt[i * k + m] = (float)a[(k - 1 - i) * k + (k - 1 - m)];
            free(a);
            return 0;
        }
    }
    free(a);
    factor_free(f);
    return -1;
}

/* ---- GPTQ-style error compensation ---- */

/* Sherry under GPTQ: a group's zeros go where its compensated values u are
 * smallest in each 4 (zm[i] = 1), its scale is their mean kept |u|; the
 * later compensation then only chooses the kept weights' signs. */
static void sherry_group(const float *u, int64_t m, unsigned char *zm, float *s)
{
    double sum = 0;
    int64_t kept = 0;
    for (int64_t b = 0; b < m; b += 4) {
        int64_t e = b + 4 < m ? b + 4 : m, lo = b;
        for (int64_t i = b; i < e; i++) {
            zm[i] = 0;
            if (fabsf(u[i]) < fabsf(u[lo]))
                lo = i;
        }
        zm[lo] = 1;
        for (int64_t i = b; i < e; i++)
            if (i != lo) {
                sum += fabsf(u[i]);
                kept++;
            }
    }
    *s = kept ? (float)(sum / kept) : 0;
}

/* Columns are quantized in order within blocks of GPTQ_B (a multiple of the
 * group); an error is spread at once over its own block and, lazily, over
 * the later columns when the block ends, as one matrix product for every
 * row (GPTQ's "lazy batch updates"), through the runtime's GEMM. */
enum { GPTQ_B = 128 };

typedef struct Gptq {
    const float *w;              /* n * k, dead inputs zeroed */
    const Factor *f;
    int fixed;                   /* scales and zeros are given: choose codes only (decoupleQ) */
    Codes *c;
} Gptq;

/* Columns i1..i2 of row r. cr holds the row's running sums
 * c_m = sum_{i<m} L_mi e_i, er the block's errors, u and eu a group. */
static void gptq_block_row(const Gptq *g, int64_t r, int64_t i1, int64_t i2, float *cr,
                           float *er, float *u, float *eu, unsigned char *zm)
{
    Codes *c = g->c;
    int64_t k = c->k, group = c->group;
    const float *lt = g->f->lt, *wr = g->w + r * k;
    for (int64_t j = i1; j < i2; j++) {
        const float *lj = lt + j * k;
        int64_t gi = r * c->ng + j / group;
        if (j % group == 0 && !g->fixed) {
            /* GPTQ sets a group's scale from its weights as compensated so
             * far: the least-error continuous values given the columns
             * already quantized, by forward substitution in L */
            int64_t je = j + group < k ? j + group : k;
            for (int64_t m = j; m < je; m++) {
                float acc = cr[m];
                for (int64_t p = j; p < m; p++)
                    acc += lt[p * k + m] * eu[p - j];
                eu[m - j] = -acc / lt[m * k + m];
                u[m - j] = wr[m] - eu[m - j];
            }
            int z;
            if (c->fmt == RT_WQ_SHERRY)
                sherry_group(u, je - j, zm, &c->scale[gi]);
            else
                group_params(c->fmt, u, je - j, c->ts, &c->scale[gi], &z);
            if (c->zero)
                c->zero[gi] = (uint8_t)z;
        }
        float s = c->scale[gi], x = wr[j] + cr[j] / lj[j];
        int z = c->zero ? c->zero[gi] : 0;
        int q = c->fmt != RT_WQ_SHERRY ? quant_one(c->fmt, x, s, z, c->ts)
              : zm[j % group] ? 0 : x < 0 ? -1 : 1;
        c->code[r * k + j] = (int16_t)q;
        float err = wr[j] - deq_one(c->fmt, q, s, z, c->ts);
        er[j - i1] = err;
        for (int64_t m = j + 1; m < i2; m++)
            cr[m] += lj[m] * err;
    }
}

static int gptq(const Gptq *g)
{
    Codes *c = g->c;
    int64_t n = c->n, k = c->k, group = c->group;
    int64_t bw = group >= GPTQ_B ? group : group * (GPTQ_B / group);
    float *cs = calloc((size_t)(n * k), sizeof(float));
    float *es = malloc(sizeof(float) * (size_t)(n * bw));
    float *u = malloc(sizeof(float) * (size_t)group * 2);
    unsigned char *zm = malloc((size_t)group);
    if (!cs || !es || !u || !zm) {
        free(cs);
        free(es);
        free(u);
        free(zm);
        return -1;
    }
    for (int64_t i1 = 0; i1 < k; i1 += bw) {
        int64_t i2 = i1 + bw < k ? i1 + bw : k;
        for (int64_t r = 0; r < n; r++)
            gptq_block_row(g, r, i1, i2, cs + r * k, es + r * bw, u, u + group, zm);
        if (i2 < k)
            rt_sgemm(0, 0, n, k - i2, i2 - i1, 1.0f, es, bw, g->f->lt + i1 * k + i2, k, 1.0f,
                     cs + i2, k);
    }
    free(cs);
    free(es);
    free(u);
    free(zm);
    return 0;
}

/* ---- decoupleQ ---- */

/* Rounds of decoupleQ (Guo et al. 2024): each re-fits every row's scales
 * and zeros to its codes; all but the last then re-choose the codes (the
 * last sweep's codes would need another n k^2 pass to be judged). */
enum { DQ_ITERS = 3 };

/* Solves the m x m symmetric positive semi-definite system a x = b (b
 * becomes x, a is destroyed). A ridge of 1e-9 of the mean diagonal keeps a
 * group whose codes are all equal (its scale and offset collinear)
 * solvable. 0, or -1. */
static int solve_spd(double *a, double *b, int64_t m)
{
    double mean = 0;
    for (int64_t i = 0; i < m; i++)
        mean += a[i * m + i];
    double ridge = 1e-9 * (mean / m) + 1e-300;
    for (int64_t i = 0; i < m; i++)
        a[i * m + i] += ridge;
    if (cholesky(a, m))
        return -1;
    for (int64_t i = 0; i < m; i++) {
        double s = b[i];
        for (int64_t p = 0; p < i; p++)
            s -= a[i * m + p] * b[p];
        b[i] = s / a[i * m + i];
    }
    for (int64_t i = m - 1; i >= 0; i--) {
        double s = b[i];
        for (int64_t p = i + 1; p < m; p++)
            s -= a[p * m + i] * b[p];
        b[i] = s / a[i * m + i];
    }
    return 0;
}

/* One row's weights are s_g (q_i - z_g) for i in group g: linear in the
 * unknowns (s_g, t_g = -s_g z_g) given the codes q, so the H-weighted error
 * (w - ŵ)ᵀ H (w - ŵ) is a quadratic in them whose matrix is made of
 *   Ass[g][h] = q_gᵀ H_gh q_h,  Ats[g][h] = 1_gᵀ H_gh q_h,  Att[g][h] = 1_gᵀ H_gh 1_h
 * and whose linear part is bs[g] = q_gᵀ (H w)_g, bt[g] = 1_gᵀ (H w)_g. */
typedef struct Dq {
    const Codes *c;
    int64_t G;                   /* groups per row */
    const double *att;           /* G * G, the same for every row */
    double *ass, *ats, *bs, *bt; /* the current row's, as above */
    double *sys, *rhs;           /* (2G)^2 and 2G: the normal equations */
    double *zs;                  /* G: zero points as doubles */
} Dq;

/* nr rows from r0: ass and ats (nr * G * G each) for their codes. Ass is
 * symmetric: for each group h, the product of every row's q_h with the
 * rows of H from column h on, (nr x g) by (g x (k - h0)) through the
 * runtime's GEMM, gives Ass[g][h] for g >= h. Ats[g][h] = q_hᵀ (H 1_g)_h
 * comes from sh (k x G: the sums of H's rows over each group), shared by
 * every row. q and v: nr * k. */
static void dq_tile_stats(const Codes *c, const float *hf, const double *sh, int64_t r0,
                          int64_t nr, double *ass, double *ats, float *q, float *v)
{
    int64_t k = c->k, G = c->ng, gs = c->group;
    for (int64_t i = 0; i < nr * k; i++)
        q[i] = (float)c->code[r0 * k + i];
    for (int64_t h = 0; h < G; h++) {
        int64_t h0 = h * gs, h1 = h0 + gs < k ? h0 + gs : k;
        rt_sgemm(0, 0, nr, k - h0, h1 - h0, 1.0f, q + h0, k, hf + h0 * k + h0, k, 0.0f, v, k);
        for (int64_t r = 0; r < nr; r++) {
            const float *qr = q + r * k, *vr = v + r * k - h0;
            double *ar = ass + r * G * G;
            for (int64_t g = h; g < G; g++) {
                int64_t g0 = g * gs, g1 = g0 + gs < k ? g0 + gs : k;
                double sq = 0;
                for (int64_t i = g0; i < g1; i++)
                    sq += (double)qr[i] * vr[i];
                ar[g * G + h] = ar[h * G + g] = sq;
            }
            double *tr = ats + r * G * G;
            for (int64_t g = 0; g < G; g++)
                tr[g * G + h] = 0;
            for (int64_t j = h0; j < h1; j++) {
                double qj = qr[j];
                if (qj != 0)
                    for (int64_t g = 0; g < G; g++)
                        tr[g * G + h] += qj * sh[j * G + g];
            }
        }
    }
}

/* The linear part for row r: bs[g] = q_gᵀ (H w)_g, bt[g] = 1_gᵀ (H w)_g. */
static void dq_linear(Dq *d, int64_t r, const float *hw)
{
    const Codes *c = d->c;
    int64_t k = c->k, gs = c->group;
    for (int64_t g = 0; g < d->G; g++) {
        int64_t g0 = g * gs, g1 = g0 + gs < k ? g0 + gs : k;
        double sq = 0, s1 = 0;
        for (int64_t i = g0; i < g1; i++) {
            sq += (double)c->code[r * k + i] * hw[i];
            s1 += hw[i];
        }
        d->bs[g] = sq;
        d->bt[g] = s1;
    }
}

/* The system for the scales alone once the zero points are fixed: with
 * p_g = q_g - z_g 1_g, A[g][h] = p_gᵀ H_gh p_h and b[g] = p_gᵀ (H w)_g. */
static void dq_scale_system(const Dq *d, double *a, double *b)
{
    int64_t G = d->G;
    const double *z = d->zs;
    for (int64_t g = 0; g < G; g++) {
        for (int64_t h = 0; h < G; h++)
            a[g * G + h] = d->ass[g * G + h] - z[h] * d->ats[h * G + g] -
                           z[g] * d->ats[g * G + h] + z[g] * z[h] * d->att[g * G + h];
        b[g] = d->bs[g] - z[g] * d->bt[g];
    }
}

/* (w - ŵ)ᵀ H (w - ŵ) less the constant wᵀ H w, for scales s and d->zs. */
static double dq_error(const Dq *d, const float *s)
{
    int64_t G = d->G;
    dq_scale_system(d, d->sys, d->rhs);
    double e = 0;
    for (int64_t g = 0; g < G; g++) {
        double as = 0;
        for (int64_t h = 0; h < G; h++)
            as += d->sys[g * G + h] * s[h];
        e += s[g] * (as - 2 * d->rhs[g]);
    }
    return e;
}

/* The least-squares (s, t) of every group of the row at once, zero points
 * z = -t / s rounded into the code range (the format stores them as codes),
 * then the scales once more given those zero points. -1 if singular. */
static int dq_fit(Dq *d, float *s, uint8_t *z)
{
    int64_t G = d->G, m = 2 * G;
    int qmax = (1 << int_bits(d->c->fmt)) - 1;
    for (int64_t g = 0; g < G; g++) {
        for (int64_t h = 0; h < G; h++) {
            d->sys[g * m + h] = d->ass[g * G + h];
            d->sys[g * m + G + h] = d->ats[h * G + g];
            d->sys[(G + g) * m + h] = d->ats[g * G + h];
            d->sys[(G + g) * m + G + h] = d->att[g * G + h];
        }
        d->rhs[g] = d->bs[g];
        d->rhs[G + g] = d->bt[g];
    }
    if (solve_spd(d->sys, d->rhs, m))
        return -1;
    for (int64_t g = 0; g < G; g++) {
        double sg = d->rhs[g], tg = d->rhs[G + g];
        if (sg != 0 && isfinite(-tg / sg)) {
            double zz = rint(-tg / sg);
            z[g] = (uint8_t)(zz < 0 ? 0 : zz > qmax ? qmax : zz);
        }
        d->zs[g] = z[g];
    }
    dq_scale_system(d, d->sys, d->rhs);
    if (solve_spd(d->sys, d->rhs, G))
        return -1;
    for (int64_t g = 0; g < G; g++)
        s[g] = (float)d->rhs[g];
    return 0;
}

static void copy_row(Codes *dst, const Codes *src, int64_t r)
{
    memcpy(dst->code + r * src->k, src->code + r * src->k, sizeof(int16_t) * (size_t)src->k);
    memcpy(dst->scale + r * src->ng, src->scale + r * src->ng, sizeof(float) * (size_t)src->ng);
    memcpy(dst->zero + r * src->ng, src->zero + r * src->ng, (size_t)src->ng);
}

/* decoupleQ for the integer formats: from GPTQ's codes, alternate (b) the
 * exact least-squares scales and zeros given the codes (dq_fit) and (a)
 * the codes given scales and zeros (a GPTQ sweep with them fixed, which
 * keeps every code in the box [0, 2^b-1]); each row keeps its best iterate
 * by the H-weighted error, H damped as for GPTQ (the damping pulls the fit
 * towards W itself in the directions calibration hardly saw). c holds GPTQ's codes on entry. Rows go DQ_ROWS
 * at a time through the statistics. */
enum { DQ_ROWS = 32 };

static int decoupleq(const float *w, const Factor *f, Codes *c)
{
    int64_t n = c->n, k = c->k, G = c->ng, gs = c->group;
    Codes best;
    if (codes_alloc(&best, c->fmt, n, k, c->group))
        return -1;
    size_t tile = (size_t)(DQ_ROWS * G * G);
    float *hf = malloc(sizeof(float) * (size_t)(k * k));
    float *hw = malloc(sizeof(float) * (size_t)(n * k));
    float *q = malloc(sizeof(float) * (size_t)(DQ_ROWS * k));
    float *v = malloc(sizeof(float) * (size_t)(DQ_ROWS * k));
    double *att = calloc((size_t)(G * G), sizeof(double));
    double *sh = calloc((size_t)(k * G), sizeof(double));
    double *ass = malloc(sizeof(double) * tile), *ats = malloc(sizeof(double) * tile);
    double *berr = malloc(sizeof(double) * (size_t)n);
    float *snew = malloc(sizeof(float) * (size_t)G);
    uint8_t *znew = malloc((size_t)G);
    Dq d = {c, G, att, NULL, NULL, malloc(sizeof(double) * (size_t)G),
            malloc(sizeof(double) * (size_t)G), malloc(sizeof(double) * (size_t)(4 * G * G)),
            malloc(sizeof(double) * (size_t)(2 * G)), malloc(sizeof(double) * (size_t)G)};
    int rc = -1;
    if (!hf || !hw || !q || !v || !att || !sh || !ass || !ats || !berr || !snew || !znew || !d.bs ||
        !d.bt || !d.sys || !d.rhs || !d.zs)
        goto out;
    for (int64_t i = 0; i < k * k; i++)
        hf[i] = (float)f->h[i];
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++)
            sh[i * G + j / gs] += f->h[i * k + j];
    for (int64_t i = 0; i < k; i++)
        for (int64_t g = 0; g < G; g++)
            att[(i / gs) * G + g] += sh[i * G + g];
    rt_sgemm(0, 0, n, k, k, 1.0f, w, k, hf, k, 0.0f, hw, k); /* (H w)ᵀ for every row */
    for (int64_t r = 0; r < n; r++) {
        berr[r] = INFINITY;
        copy_row(&best, c, r); /* a row whose error is not a number keeps GPTQ's codes */
    }
    Gptq g = {w, f, 1, c};
    for (int it = 0; it < DQ_ITERS; it++) {
        for (int64_t r0 = 0; r0 < n; r0 += DQ_ROWS) {
            int64_t nr = r0 + DQ_ROWS < n ? DQ_ROWS : n - r0;
            dq_tile_stats(c, hf, sh, r0, nr, ass, ats, q, v);
            for (int64_t r = r0; r < r0 + nr; r++) {
                d.ass = ass + (r - r0) * G * G;
                d.ats = ats + (r - r0) * G * G;
                dq_linear(&d, r, hw + r * k);
                for (int64_t gi = 0; gi < G; gi++)
                    d.zs[gi] = c->zero[r * G + gi];
                double e = dq_error(&d, c->scale + r * G);
                if (e < berr[r]) {
                    berr[r] = e;
                    copy_row(&best, c, r);
                }
                memcpy(znew, c->zero + r * G, (size_t)G);
                if (dq_fit(&d, snew, znew))
                    continue;
                double en = dq_error(&d, snew);
                if (en < e) {
                    memcpy(c->scale + r * G, snew, sizeof(float) * (size_t)G);
                    memcpy(c->zero + r * G, znew, (size_t)G);
                    if (en < berr[r]) {
                        berr[r] = en;
                        copy_row(&best, c, r);
                    }
                }
            }
        }
        if (it + 1 < DQ_ITERS && gptq(&g))
            goto out;
    }
    for (int64_t r = 0; r < n; r++)
        copy_row(c, &best, r);
    rc = 0;
out:
    codes_free(&best);
    free(hf);
    free(hw);
    free(q);
    free(v);
    free(att);
    free(sh);
    free(ass);
    free(ats);
    free(berr);
    free(snew);
    free(znew);
    free(d.bs);
    free(d.bt);
    free(d.sys);
    free(d.rhs);
    free(d.zs);
    return rc;
}

/* ---- the entry points ---- */

int wq_quantize(const float *w, int64_t n, int64_t k, int fmt, int group, int method,
                const WqHessian *h, RtWqCodes *out, Diag *d)
{
    if (fmt < RT_WQ_INT8 || fmt >= RT_WQ_NFORMATS)
        return ir_error(d, "unknown weight format %d", fmt);
    if (n <= 0 || k <= 0)
        return ir_error(d, "cannot quantize an empty %lld x %lld weight",
                        (long long)n, (long long)k);
    if (group <= 0)
        group = fmt == RT_WQ_NVFP4 ? 16 : 32;
    if (method != QM_RTN && method != QM_GPTQ && method != QM_DECOUPLEQ)
        return ir_error(d, "unknown quantization method %d", method);
    if (method != QM_RTN && (!h || h->k != k))
        return ir_error(d, "%s needs the layer's input statistics from calibration "
                        "(%lld inputs)", method == QM_GPTQ ? "GPTQ" : "decoupleQ", (long long)k);
    if (method == QM_GPTQ && fmt == RT_WQ_SHERRY && group % 4)
        return ir_error(d, "GPTQ keeps Sherry's blocks of 4 whole in a group: the group "
                        "(%d) must be a multiple of 4", group);
    if (method == QM_DECOUPLEQ && !int_bits(fmt))
        return ir_error(d, "decoupleQ is for the integer formats int8..int2");
    Codes c;
    if (codes_alloc(&c, fmt, n, k, group))
        return ir_error(d, "out of memory quantizing weights");
    if (fmt == RT_WQ_NVFP4)
        c.ts = nvfp4_tensor_scale(w, n * k);
    int rc = 0;
    if (method == QM_RTN) {
        rtn(w, &c);
    } else {
        Factor f;
        float *wz = malloc(sizeof(float) * (size_t)(n * k));
        if (!wz || factor_new(h, &f)) {
            free(wz);
            codes_free(&c);
            return ir_error(d, "out of memory, or a Hessian that cannot be factored");
        }
        memcpy(wz, w, sizeof(float) * (size_t)(n * k));
        for (int64_t r = 0; r < n; r++)
            for (int64_t i = 0; i < k; i++)
                if (f.dead[i])
                    wz[r * k + i] = 0;
        Gptq g = {wz, &f, 0, &c};
        rc = gptq(&g);
        if (!rc && method == QM_DECOUPLEQ)
            rc = decoupleq(wz, &f, &c);
        free(wz);
        factor_free(&f);
        if (rc) {
            codes_free(&c);
            return ir_error(d, "out of memory quantizing weights");
        }
    }
    *out = (RtWqCodes){fmt, n, k, group, c.code, c.scale, c.zero, c.ts};
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
                              (elem(c->fmt, c->code[r * c->k + i]) - z);
        }
}
