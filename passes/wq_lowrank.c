/* wq_lowrank.c: HGF's low-rank float correction of weight-only layers: W ~= dequant(Q) + A*B by truncated SVD of the residual. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "wq_methods.h"

/* Columns kept beyond the rank while iterating: the subspace converges on
 * the top r singular vectors at the rate (s_{l+1} / s_r)^iterations, and a
 * quantization residual's spectrum is flat, so a margin of oversampled
 * columns is what makes a few iterations enough (Halko, Martinsson and
 * Tropp, 2011, sec. 4.5). */
#define OVERSAMPLE 8
#define MAX_ITERS 30
#define ENERGY_TOL 1e-7

/* A seeded Gaussian (xorshift64* and Box-Muller). */
static double gauss(uint64_t *s)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        u[i] = ((double)((*s * 0x2545F4914F6CDD1DULL) >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

/* The l columns of m (rows x l, row-major) made orthonormal: modified
 * Gram-Schmidt twice over (once loses orthogonality when columns are
 * nearly dependent). A column with nothing left of its own becomes 0. */
static void orthonormalize(double *m, int64_t rows, int l)
{
    for (int j = 0; j < l; j++) {
        double n0 = 0;
        for (int64_t i = 0; i < rows; i++)
            n0 += m[i * l + j] * m[i * l + j];
        for (int pass = 0; pass < 2; pass++)
            for (int p = 0; p < j; p++) {
                double dot = 0;
                for (int64_t i = 0; i < rows; i++)
                    dot += m[i * l + p] * m[i * l + j];
                for (int64_t i = 0; i < rows; i++)
                    m[i * l + j] -= dot * m[i * l + p];
            }
        double nn = 0;
        for (int64_t i = 0; i < rows; i++)
            nn += m[i * l + j] * m[i * l + j];
        double inv = nn > 1e-24 * n0 && nn > 1e-280 ? 1.0 / sqrt(nn) : 0.0;
        for (int64_t i = 0; i < rows; i++)
            m[i * l + j] *= inv;
    }
}

/* Eigenvalues ev and eigenvectors (the columns of v) of the symmetric l x l
 * matrix a (destroyed), by cyclic Jacobi rotations; sorted descending. */
static void sym_eig(double *a, int l, double *ev, double *v)
{
    for (int i = 0; i < l * l; i++)
        v[i] = i % (l + 1) == 0;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0, diag = 0;
        for (int i = 0; i < l; i++)
            for (int j = 0; j < l; j++)
                *(i == j ? &diag : &off) += a[i * l + j] * a[i * l + j];
        if (off <= 1e-30 * diag || off < 1e-300)
            break;
        for (int p = 0; p < l; p++)
            for (int q = p + 1; q < l; q++) {
                double apq = a[p * l + q];
                if (fabs(apq) < 1e-300)
                    continue;
                double theta = (a[q * l + q] - a[p * l + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < l; k++) { /* columns p, q */
                    double akp = a[k * l + p], akq = a[k * l + q];
                    a[k * l + p] = c * akp - s * akq;
                    a[k * l + q] = s * akp + c * akq;
                }
                for (int k = 0; k < l; k++) { /* rows p, q */
                    double apk = a[p * l + k], aqk = a[q * l + k];
                    a[p * l + k] = c * apk - s * aqk;
                    a[q * l + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < l; k++) {
                    double vkp = v[k * l + p], vkq = v[k * l + q];
                    v[k * l + p] = c * vkp - s * vkq;
                    v[k * l + q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < l; i++)
        ev[i] = a[i * l + i];
    for (int i = 0; i < l; i++) { /* selection sort, columns of v along */
        int best = i;
        for (int j = i + 1; j < l; j++)
            if (ev[j] > ev[best])
                best = j;
        if (best == i)
            continue;
        double t = ev[i];
        ev[i] = ev[best];
        ev[best] = t;
        for (int k = 0; k < l; k++) {
            t = v[k * l + i];
            v[k * l + i] = v[k * l + best];
            v[k * l + best] = t;
        }
    }
}

/* z (k x l) = res^T q, q n x l */
static void mul_t(const double *res, int64_t n, int64_t k, const double *q, int l, double *z)
{
    memset(z, 0, sizeof *z * (size_t)(k * l));
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < k; c++) {
            double r = res[i * k + c];
            for (int j = 0; j < l; j++)
                z[c * l + j] += r * q[i * l + j];
        }
}

/* y (n x l) = res z, z k x l */
static void mul(const double *res, int64_t n, int64_t k, const double *z, int l, double *y)
{
    memset(y, 0, sizeof *y * (size_t)(n * l));
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < k; c++) {
            double r = res[i * k + c];
            for (int j = 0; j < l; j++)
                y[i * l + j] += r * z[c * l + j];
        }
}

/* g (l x l) = z^T z: the Gram matrix of res^T q, whose eigenvalues are the
 * squared singular values of res restricted to q's span (Rayleigh-Ritz). */
static void gram(const double *z, int64_t k, int l, double *g)
{
    memset(g, 0, sizeof *g * (size_t)(l * l));
    for (int64_t c = 0; c < k; c++)
        for (int i = 0; i < l; i++)
            for (int j = 0; j < l; j++)
                g[i * l + j] += z[c * l + i] * z[c * l + j];
}

int wq_lowrank_fit(const float *res_f, int64_t n, int64_t k, int r, float *a, float *b)
{
    int64_t mn = n < k ? n : k;
    IR_ASSERT(r >= 1 && r <= mn);
    int l = (int)(r + OVERSAMPLE < mn ? r + OVERSAMPLE : mn);
    double *res = malloc(sizeof *res * (size_t)(n * k));
    double *q = malloc(sizeof *q * (size_t)(n * l));
    double *z = malloc(sizeof *z * (size_t)(k * l));
    double *g = malloc(sizeof *g * (size_t)(l * l));
    double *v = malloc(sizeof *v * (size_t)(l * l));
    double *ev = malloc(sizeof *ev * (size_t)l);
    if (!res || !q || !z || !g || !v || !ev) {
        free(res), free(q), free(z), free(g), free(v), free(ev);
        return -1;
    }
    for (int64_t i = 0; i < n * k; i++)
        res[i] = res_f[i];
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (int64_t i = 0; i < k * l; i++)
        z[i] = gauss(&seed);
    mul(res, n, k, z, l, q); /* q = orth(res * Gaussian) */
    orthonormalize(q, n, l);
    double prev = -1;
    for (int it = 0;; it++) {
        mul_t(res, n, k, q, l, z);
        gram(z, k, l, g);
        sym_eig(g, l, ev, v);
        double energy = 0;
        for (int j = 0; j < r; j++)
            energy += ev[j] > 0 ? ev[j] : 0;
        if (it == MAX_ITERS || energy - prev <= ENERGY_TOL * energy)
            break;
        prev = energy;
        orthonormalize(z, k, l); /* one power iteration: q = orth(res orth(res^T q)) */
        mul(res, n, k, z, l, q);
        orthonormalize(q, n, l);
    }
    /* With z = res^T q and z^T z = V E V^T: A = q V_r (orthonormal columns),
     * B = V_r^T z^T, so A B = q V_r V_r^T q^T res, the projection of res on
     * the top r Ritz vectors. */
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < r; j++) {
            double s = 0;
            for (int p = 0; p < l; p++)
                s += q[i * l + p] * v[p * l + j];
            a[i * r + j] = (float)s;
        }
    for (int j = 0; j < r; j++)
        for (int64_t c = 0; c < k; c++) {
            double s = 0;
            for (int p = 0; p < l; p++)
                s += v[p * l + j] * z[c * l + p];
            b[j * k + c] = (float)s;
        }
    free(res), free(q), free(z), free(g), free(v), free(ev);
    return 0;
}

/* A float32 constant of rows x cols, element (i, j) = src[j * rows + i]
 * (the transpose of a cols x rows matrix). */
static Value *const_t(Graph *g, const float *src, int64_t rows, int64_t cols)
{
    Value *v = ir_value_new(g, NULL);
    v->dtype = RT_F32;
    v->rank = 2;
    v->dims[0] = rows;
    v->dims[1] = cols;
    float *p = ir_value_alloc_data(g, v);
    IR_ASSERT(p);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            p[i * cols + j] = src[j * rows + i];
    return v;
}

static Node *add_node(Graph *g, const char *op, const Node *like, const char *suffix, Value *a,
                      Value *b, Value *out)
{
    char name[256];
    snprintf(name, sizeof name, "%s/%s", like->name ? like->name : "wq", suffix);
    Value *in[2] = {a, b};
    return ir_add_node(g, op, 0, ir_strdup(g, name), 2, in, out);
}

static double frob2(const float *m, int64_t count)
{
    double s = 0;
    for (int64_t i = 0; i < count; i++)
        s += (double)m[i] * m[i];
    return s;
}

int wq_lowrank_attach(Graph *g, Node *wq, const float *w, const RtWqCodes *c, float alpha,
                      const QuantOpts *q, Diag *d)
{
    int64_t n = c->n, k = c->k, mn = n < k ? n : k;
    int r = q->lowrank < mn ? q->lowrank : (int)mn;
    float *res = malloc(sizeof *res * (size_t)(n * k));
    float *a = malloc(sizeof *a * (size_t)(n * r));
    float *b = malloc(sizeof *b * (size_t)(r * k));
    int rc = res && a && b ? 0 : -1;
    if (rc == 0) {
        wq_dequant(c, res);
        for (int64_t i = 0; i < n * k; i++)
            res[i] = w[i] - res[i];
        rc = wq_lowrank_fit(res, n, k, r, a, b);
    }
    if (rc < 0) {
        free(res), free(a), free(b);
        return ir_error(d, "out of memory fitting the low-rank correction of '%s'", wq->name);
    }
    if (q->report) {
        double w2 = frob2(w, n * k), e0 = frob2(res, n * k), e1 = e0 - frob2(b, r * k);
        fprintf(stderr, "onnxcc: quant-report: %s: %s + rank %d: |W - Wq|/|W| %.4f -> %.4f, "
                "%.3f bits/weight for A and B\n", wq->name, rt_wq_name(c->fmt), r,
                sqrt(e0 / w2), sqrt((e1 > 0 ? e1 : 0) / w2), 32.0 * r * (n + k) / (n * k));
    }
    for (int64_t i = 0; i < n * r; i++)
        a[i] *= alpha;
    /* y = wq(x) + (x B^T) A^T, written to wq's old output */
    Value *y = wq->out[0], *y0 = ir_value_new(g, NULL), *x = wq->in[0];
    wq->out[0] = y0;
    y0->producer = wq;
    y0->dtype = y->dtype; /* wq's type, already inferred */
    y0->rank = y->rank;
    memcpy(y0->dims, y->dims, sizeof y0->dims);
    int mark = g->n_nodes;
    Node *mb = add_node(g, "MatMul", wq, "lowrank_b", x, const_t(g, b, k, r), NULL);
    Node *ma = add_node(g, "MatMul", wq, "lowrank_a", mb->out[0], const_t(g, a, r, n), NULL);
    Node *sum = add_node(g, "Add", wq, "lowrank_add", y0, ma->out[0], y);
    free(res), free(a), free(b);
    ir_place_after(g, wq, mark);
    Node *nodes[3] = {mb, ma, sum};
    for (int i = 0; i < 3; i++)
        if (ir_ops[nodes[i]->op].infer(g, nodes[i], d) < 0)
            return -1;
    return 0;
}
