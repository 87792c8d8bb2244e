/* k_attention.c: scaled dot-product Attention (opset 23/24): QK^T and P.V through the shared GEMM, masks and softcap fused into the row softmax. */
#include <math.h>
#include <string.h>

#include "rt_internal.h"
#include "rt_vmath.h"

/* Query rows per block: the block's scores (rows x T floats) live on the
 * stack, at most RT_ATTN_MAX_KV floats (128 KiB, beside the GEMM's own
 * ~180 KiB of packing buffers; worker threads have 8 MiB): 64 rows of a
 * 512-key head, up to 128 rows of shorter ones, enough rows for the GEMM's
 * 14-row tiles. */
#define BLOCK_ROWS 128

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Keys [0, lim) of query row i that no mask can have removed wholesale:
 * the mask's length, the batch's valid length, the causal frontier. */
static int64_t row_limit(const RtAttnArgs *a, int64_t T, int64_t b, int64_t i)
{
    int64_t lim = T;
    if (a->mask && a->m_len < lim)
        lim = a->m_len;
    if (a->kv_valid && a->kv_valid[b] < lim)
        lim = a->kv_valid[b];
    if (a->causal) {
        int64_t off = a->causal_from_valid && a->kv_valid ? a->kv_valid[b] - a->q_len
                                                           : a->causal_offset;
        if (i + off + 1 < lim)
            lim = i + off + 1;
    }
    return lim < 0 ? 0 : lim;
}

/* Lanes of the row reductions: independent partial maxima and sums let
 * the loops vectorize without reassociating one float chain (a serial sum
 * costs an add latency per key). */
#define LANES 16

HOT static float row_max(const float *x, int64_t n)
{
    float m[LANES];
    for (int t = 0; t < LANES; t++)
        m[t] = -INFINITY;
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int t = 0; t < LANES; t++)
            m[t] = x[j + t] > m[t] ? x[j + t] : m[t];
    float r = -INFINITY;
    for (int t = 0; t < LANES; t++)
        r = m[t] > r ? m[t] : r;
    for (; j < n; j++)
        r = x[j] > r ? x[j] : r;
    return r;
}

/* x[j] = e^(x[j] - mx) for j < n (0 where x[j] is -inf: a masked key);
 * returns their sum. x - mx <= 0, clamped at -87 so the cheaper exp
 * (normal range only) applies; e^-87 is far below a float sum's resolution. */
HOT static float exp_sum(float *x, int64_t n, float mx)
{
    float s[LANES] = {0};
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int t = 0; t < LANES; t++) {
            float d = x[j + t] - mx;
            float e = ew_self(d == -INFINITY, 0.0f, v_exp_mid(d < -87.0f ? -87.0f : d));
            x[j + t] = e;
            s[t] += e;
        }
    float r = 0;
    for (int t = 0; t < LANES; t++)
        r += s[t];
    for (; j < n; j++) {
        float d = x[j] - mx;
        x[j] = ew_self(d == -INFINITY, 0.0f, v_exp_mid(d < -87.0f ? -87.0f : d));
        r += x[j];
    }
    return r;
}

/* One row x[0..T) of scores into probabilities, in place: softcap, the
 * mask row (mdt: RT_F32, RT_BOOL or another float type; m NULL: none),
 * keys past lim masked, then the softmax with the vector exp. qk (or NULL)
 * receives the row at the stage mode names. A row with no key left becomes
 * all zeros (ONNX 1.23: a fully masked row attends to nothing). With defer
 * the row is left unnormalized and the factor returned (1 if it was applied):
 * scaling the row of Y afterwards touches v_dim floats instead of T. */
HOT static float row_softmax(const RtAttnArgs *a, float *x, int64_t T, int64_t lim,
                             const void *m, int mdt, int64_t moff, float *qk, int defer)
{
    float cap = a->softcap;
    int64_t capn = qk && a->qk_mode <= 1 ? T : lim;
    if (cap > 0) {
        float inv = 1.0f / cap;
        for (int64_t j = 0; j < capn; j++)
            x[j] = cap * v_tanh(x[j] * inv);
    }
    if (qk && a->qk_mode <= 1)
        memcpy(qk, x, sizeof(float) * (size_t)T);
    if (m && mdt == RT_F32) {
        const float *mf = (const float *)m + moff;
        for (int64_t j = 0; j < lim; j++)
            x[j] += mf[j];
    } else if (m && mdt == RT_BOOL) {
        const uint8_t *mb = (const uint8_t *)m + moff;
        for (int64_t j = 0; j < lim; j++)
            x[j] = ew_self(mb[j] != 0, x[j], -INFINITY);
    } else if (m) {
        for (int64_t j = 0; j < lim; j++)
            x[j] += (float)rt_load_f64(m, mdt, moff + j);
    }
    for (int64_t j = lim; j < T; j++)
        x[j] = -INFINITY;
    if (qk && a->qk_mode == 2)
        memcpy(qk, x, sizeof(float) * (size_t)T);
    float mx = row_max(x, lim), r = 0;
    if (mx == -INFINITY) {
        memset(x, 0, sizeof(float) * (size_t)T);
    } else {
        r = 1.0f / exp_sum(x, lim, mx);
        if (!defer || (qk && a->qk_mode == 3))
            for (int64_t j = 0; j < lim; j++)
                x[j] *= r;
        for (int64_t j = lim; j < T; j++)
            x[j] = 0;
    }
    if (qk && a->qk_mode == 3)
        memcpy(qk, x, sizeof(float) * (size_t)T);
    return defer && !(qk && a->qk_mode == 3) ? r : 1.0f;
}

/* ---- the float32 core ---- */

typedef struct Work {
    const RtAttnArgs *a;
    int64_t T;                   /* keys in all */
    int64_t rows;                /* query rows per block */
    int64_t nblk;                /* blocks per (batch, head) */
    int64_t chunk, nchunk;       /* packed path: query rows per item (a multiple of rows) */
    int nr;                      /* the GEMM's column tile */
} Work;

/* The softmax of r score rows s[t*T..] of query rows i0.., head h; norm
 * (or NULL: normalize in place) receives each row's deferred factor. */
static void softmax_rows(const RtAttnArgs *a, float *s, int64_t T, int64_t r, int64_t b,
                         int64_t h, int64_t i0, float *norm)
{
    for (int64_t t = 0; t < r; t++) {
        int64_t i = i0 + t;
        float *qk = a->qk ? a->qk + ((b * a->q_heads + h) * a->q_len + i) * T : NULL;
        int64_t moff = b * a->m_sb + h * a->m_sh + i * a->m_si;
        float f = row_softmax(a, s + t * T, T, row_limit(a, T, b, i), a->mask,
                              a->mask_bool ? RT_BOOL : RT_F32, moff, qk, norm != NULL);
        if (norm)
            norm[t] = f;
    }
}

/* Y rows *= their deferred softmax factors. */
HOT static void scale_rows(float *y, int64_t ldy, int64_t r, int64_t n, const float *norm)
{
    for (int64_t t = 0; t < r; t++)
        for (int64_t e = 0; e < n; e++)
            y[t * ldy + e] *= norm[t];
}

/* Per-block path (a decode step's single rows, or keys too many to pack):
 * each GEMM packs its operands itself, segment by segment. */
HOT static void blocks(void *ctx, int64_t lo, int64_t hi)
{
    const Work *w = ctx;
    const RtAttnArgs *a = w->a;
    int64_t T = w->T;
    float s[RT_ATTN_MAX_KV];
    for (int64_t it = lo; it < hi; it++) {
        int64_t blk = it % w->nblk, bh = it / w->nblk;
        int64_t h = bh % a->q_heads, b = bh / a->q_heads;
        int64_t g = h / (a->q_heads / a->kv_heads);
        int64_t i0 = blk * w->rows, r = min64(w->rows, a->q_len - i0);
        const float *q = a->q + b * a->q_sb + h * a->q_sh + i0 * a->q_si;
        float *y = a->y + b * a->y_sb + h * a->y_sh + i0 * a->y_si;
        /* S = scale * Q K^T, segment by segment into its columns */
        int64_t j0 = 0;
        for (int k = 0; k < 2; k++) {
            const RtAttnSeg *sg = &a->k[k];
            if (sg->len <= 0)
                continue;
            rt_sgemm(0, 1, r, sg->len, a->head_dim, a->scale, q, a->q_si,
                     sg->p + b * sg->sb + g * sg->sh, sg->sj, 0.0f, s + j0, T);
            j0 += sg->len;
        }
        softmax_rows(a, s, T, r, b, h, i0, NULL);
        /* Y = P V, the second segment accumulated onto the first */
        float beta = 0.0f;
        j0 = 0;
        for (int k = 0; k < 2; k++) {
            const RtAttnSeg *sg = &a->v[k];
            if (sg->len <= 0)
                continue;
            rt_sgemm(0, 0, r, a->v_dim, sg->len, 1.0f, s + j0, T,
                     sg->p + b * sg->sb + g * sg->sh, sg->sj, beta, y, a->y_si);
            j0 += sg->len;
            beta = 1.0f;
        }
        if (j0 == 0) /* no keys at all: every row is fully masked */
            for (int64_t t = 0; t < r; t++)
                memset(y + t * a->y_si, 0, sizeof(float) * (size_t)a->v_dim);
    }
}

/* ---- packed path: K and V of one KV head packed once, for all its query
 * heads and row blocks (the per-block path repacks them per block: with
 * 64-row blocks of a 512-token head that was 8 packs of each) ---- */

/* Floats of one packed operand on the stack (256 KiB): T * head_dim keys. */
#define PACK_MAX 65536

static int64_t packed_keys(int64_t T, int64_t dim, int nr)
{
    return (T + nr - 1) / nr * nr * dim;
}

/* K^T of KV head (b, g) as the GEMM's B panels (k = feature, n = key):
 * panel j/nr holds keys j..j+nr, feature-major; both segments in one. */
HOT static void pack_keys(const RtAttnArgs *a, int64_t b, int64_t g, int64_t T, int nr,
                          float *dst)
{
    int64_t dim = a->head_dim, j = 0, end = (T + nr - 1) / nr * nr;
    for (int k = 0; k < 2; k++) {
        const RtAttnSeg *sg = &a->k[k];
        for (int64_t t = 0; t < sg->len; t++, j++) {
            const float *src = sg->p + b * sg->sb + g * sg->sh + t * sg->sj;
            float *d = dst + j / nr * dim * nr + j % nr;
            for (int64_t f = 0; f < dim; f++)
                d[f * nr] = src[f];
        }
    }
    for (; j < end; j++)
        for (int64_t f = 0; f < dim; f++)
            dst[j / nr * dim * nr + f * nr + j % nr] = 0;
}

/* V of KV head (b, g) as B panels (k = key, n = feature): panel e/nr holds
 * features e..e+nr of every key, key-major. */
HOT static void pack_values(const RtAttnArgs *a, int64_t b, int64_t g, int64_t T, int nr,
                            float *dst)
{
    int64_t dim = a->v_dim, np = (dim + nr - 1) / nr, j = 0;
    for (int k = 0; k < 2; k++) {
        const RtAttnSeg *sg = &a->v[k];
        for (int64_t t = 0; t < sg->len; t++, j++) {
            const float *src = sg->p + b * sg->sb + g * sg->sh + t * sg->sj;
            for (int64_t p = 0; p < np; p++) {
                float *d = dst + p * T * nr + j * nr;
                int64_t w = min64(nr, dim - p * nr);
                memcpy(d, src + p * nr, sizeof(float) * (size_t)w);
                for (int64_t e = w; e < nr; e++)
                    d[e] = 0;
            }
        }
    }
}

/* Items are (batch, KV head, chunk of query rows); each packs its head's K
 * and V, then runs every query head of the group over the chunk. */
HOT static void packed_items(void *ctx, int64_t lo, int64_t hi)
{
    const Work *w = ctx;
    const RtAttnArgs *a = w->a;
    int64_t T = w->T, grp = a->q_heads / a->kv_heads;
    float s[RT_ATTN_MAX_KV], kp[PACK_MAX], vp[PACK_MAX], norm[BLOCK_ROWS];
    for (int64_t it = lo; it < hi; it++) {
        int64_t c = it % w->nchunk, bg = it / w->nchunk;
        int64_t g = bg % a->kv_heads, b = bg / a->kv_heads;
        pack_keys(a, b, g, T, w->nr, kp);
        pack_values(a, b, g, T, w->nr, vp);
        RtGemmB kb = {NULL, NULL, kp}, vb = {NULL, NULL, vp};
        int64_t c_end = min64((c + 1) * w->chunk, a->q_len);
        for (int64_t h = g * grp; h < (g + 1) * grp; h++)
            for (int64_t i0 = c * w->chunk; i0 < c_end; i0 += w->rows) {
                int64_t r = min64(w->rows, c_end - i0);
                RtGemmA qa = {a->q + b * a->q_sb + h * a->q_sh + i0 * a->q_si, a->q_si, 0,
                              NULL, NULL, NULL};
                /* keys no row of the block can see (past the causal
                 * frontier of its last row, the valid length, the mask)
                 * need no score: row_softmax masks them without reading
                 * them, unless mode 0/1 asks for every raw score */
                int64_t tn = T;
                if (!(a->qk && a->qk_mode <= 1)) {
                    tn = 0;
                    for (int64_t t = 0; t < r; t++)
                        tn = tn > row_limit(a, T, b, i0 + t) ? tn : row_limit(a, T, b, i0 + t);
                }
                if (tn > 0)
                    rt_sgemm_ex(r, tn, a->head_dim, a->scale, &qa, &kb, 0.0f, NULL, s, T);
                softmax_rows(a, s, T, r, b, h, i0, norm);
                RtGemmA pa = {s, T, 0, NULL, NULL, NULL};
                float *y = a->y + b * a->y_sb + h * a->y_sh + i0 * a->y_si;
                rt_sgemm_ex(r, a->v_dim, T, 1.0f, &pa, &vb, 0.0f, NULL, y, a->y_si);
                scale_rows(y, a->y_si, r, a->v_dim, norm);
            }
    }
}

void rt_attention_f32(const RtAttnArgs *a)
{
    int64_t T = (a->k[0].len > 0 ? a->k[0].len : 0) + (a->k[1].len > 0 ? a->k[1].len : 0);
    if (a->batch <= 0 || a->q_heads <= 0 || a->q_len <= 0 || T > RT_ATTN_MAX_KV)
        return;
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    /* rows per block: what the scores' scratch holds, in whole row tiles of
     * the GEMM (64 rows on AVX-512 would end in a 8-row tile) */
    int64_t rows = min64(T ? RT_ATTN_MAX_KV / T : BLOCK_ROWS, BLOCK_ROWS);
    if (rows >= mr)
        rows -= rows % mr;
    rows = min64(rows, a->q_len);
    Work w = {a, T, rows, (a->q_len + rows - 1) / rows, 0, 0, nr};
    /* each range should carry ~a million multiply-adds to pay for the hand-off */
    double macs = (double)rows * (double)(T ? T : 1) * (double)(a->head_dim + a->v_dim);
    int64_t grain = (int64_t)((1 << 20) / (macs + 1)) + 1;
    /* Packing pays when several row tiles reuse it: not for a decode step's
     * few rows, where the GEMM's matrix-vector paths read K and V once. */
    if (T > 0 && a->q_len * (a->q_heads / a->kv_heads) >= 2 * mr &&
        packed_keys(T, a->head_dim, nr) <= PACK_MAX &&
        (a->v_dim + nr - 1) / nr * nr * T <= PACK_MAX) {
        /* chunks of whole blocks, enough of them for every thread; the
         * blocks are the same whatever the thread count, so are the results */
        int64_t units = a->batch * a->kv_heads, want = 2 * (int64_t)rt_threads();
        int64_t nch = units >= want ? 1 : min64(w.nblk, (want + units - 1) / units);
        w.chunk = (w.nblk + nch - 1) / nch * rows;
        w.nchunk = (a->q_len + w.chunk - 1) / w.chunk;
        rt_parallel_for(units * w.nchunk, 1, packed_items, &w);
        return;
    }
    rt_parallel_for(a->batch * a->q_heads * w.nblk, grain, blocks, &w);
}

/* ---- the RtCall front: layouts from the descriptors ---- */

/* Strides of a Q/K/V operand: 3-D [B, S, H*D] or 4-D [B, H, S, D]. */
static void operand(const RtTensorDesc *t, int64_t heads, int64_t *sb, int64_t *sh,
                    int64_t *sj, int64_t *len, int64_t *dim)
{
    if (t->rank == 3) {
        *dim = t->dims[2] / heads;
        *len = t->dims[1];
        *sb = t->dims[1] * t->dims[2];
        *sh = *dim;
        *sj = t->dims[2];
    } else {
        *dim = t->dims[3];
        *len = t->dims[2];
        *sb = t->dims[1] * t->dims[2] * t->dims[3];
        *sh = t->dims[2] * t->dims[3];
        *sj = t->dims[3];
    }
}

static int present(const RtCall *c, int i)
{
    return i < c->n_in && c->in[i].dtype != RT_UNDEF;
}

static int wanted(const RtCall *c, int i)
{
    return i < c->n_out && c->out[i].dtype != RT_UNDEF;
}

/* present = concat(past, new) along the sequence, any dtype (esz bytes). */
static void concat_cache(const void *past, const RtTensorDesc *pd, const void *cur,
                         int64_t sb, int64_t sh, int64_t sj, int64_t len, int64_t dim,
                         int64_t batch, int64_t heads, size_t esz, void *dst)
{
    int64_t p = past ? pd->dims[2] : 0, tot = p + len;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t g = 0; g < heads; g++) {
            char *o = (char *)dst + (size_t)((b * heads + g) * tot * dim) * esz;
            if (p)
                memcpy(o, (const char *)past + (size_t)((b * heads + g) * p * dim) * esz,
                       (size_t)(p * dim) * esz);
            for (int64_t j = 0; j < len; j++)
                memcpy(o + (size_t)((p + j) * dim) * esz,
                       (const char *)cur + (size_t)(b * sb + g * sh + j * sj) * esz,
                       (size_t)dim * esz);
        }
}

/* Any float dtype: one query row at a time, scores in float32 (the same
 * row_softmax), the dot products and P.V sums in double. */
static void attention_any(const RtAttnArgs *a, const RtCall *c, const void *const *in,
                          const void *kp[2], const void *vp[2], void *y, void *qkout)
{
    int dt = c->in[0].dtype, mdt = a->mask ? c->in[3].dtype : RT_UNDEF;
    int kdt[2] = {present(c, 4) ? c->in[4].dtype : dt, c->in[1].dtype};
    int vdt[2] = {present(c, 5) ? c->in[5].dtype : dt, c->in[2].dtype};
    int64_t T = a->k[0].len + a->k[1].len;
    float x[RT_ATTN_MAX_KV], qrow[RT_ATTN_MAX_KV];
    int64_t group = a->q_heads / a->kv_heads;
    for (int64_t b = 0; b < a->batch; b++)
        for (int64_t h = 0; h < a->q_heads; h++)
            for (int64_t i = 0; i < a->q_len; i++) {
                int64_t g = h / group, qo = b * a->q_sb + h * a->q_sh + i * a->q_si, j = 0;
                for (int k = 0; k < 2; k++) {
                    const RtAttnSeg *sg = &a->k[k];
                    for (int64_t t = 0; t < sg->len; t++, j++) {
                        int64_t ko = b * sg->sb + g * sg->sh + t * sg->sj;
                        double s = 0;
                        for (int64_t d = 0; d < a->head_dim; d++)
                            s += rt_load_f64(in[0], dt, qo + d) *
                                 rt_load_f64(kp[k], kdt[k], ko + d);
                        x[j] = (float)(s * a->scale);
                    }
                }
                int64_t row = (b * a->q_heads + h) * a->q_len + i;
                row_softmax(a, x, T, row_limit(a, T, b, i), a->mask, mdt,
                            b * a->m_sb + h * a->m_sh + i * a->m_si, qkout ? qrow : NULL, 0);
                if (qkout)
                    for (int64_t t = 0; t < T; t++)
                        rt_store_f64(qkout, dt, row * T + t, qrow[t]);
                int64_t yo = b * a->y_sb + h * a->y_sh + i * a->y_si;
                for (int64_t e = 0; e < a->v_dim; e++) {
                    double s = 0;
                    j = 0;
                    for (int k = 0; k < 2; k++) {
                        const RtAttnSeg *sg = &a->v[k];
                        for (int64_t t = 0; t < sg->len; t++, j++)
                            if (x[j] != 0)
                                s += x[j] * rt_load_f64(vp[k], vdt[k],
                                                        b * sg->sb + g * sg->sh + t * sg->sj + e);
                    }
                    rt_store_f64(y, dt, yo + e, s);
                }
            }
}

int rt_attention(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 3 || c->n_ints < RT_ATTN_NINTS || c->n_floats < RT_ATTN_NFLOATS)
        return RT_EINVAL;
    const RtTensorDesc *qd = &c->in[0], *kd = &c->in[1], *vd = &c->in[2];
    int dt = qd->dtype;
    if (!rt_is_float(dt) || kd->dtype != dt || vd->dtype != dt)
        return RT_EDTYPE;
    if ((qd->rank != 3 && qd->rank != 4) || kd->rank != qd->rank || vd->rank != qd->rank)
        return RT_EINVAL;
    RtAttnArgs a;
    memset(&a, 0, sizeof a);
    a.batch = qd->dims[0];
    a.q_heads = qd->rank == 3 ? c->ints[RT_ATTN_Q_HEADS] : qd->dims[1];
    a.kv_heads = kd->rank == 3 ? c->ints[RT_ATTN_KV_HEADS] : kd->dims[1];
    if (a.q_heads <= 0 || a.kv_heads <= 0 || a.q_heads % a.kv_heads)
        return RT_EINVAL;
    int64_t klen, vlen, vdim, ksb, ksh, ksj, vsb, vsh, vsj;
    operand(qd, a.q_heads, &a.q_sb, &a.q_sh, &a.q_si, &a.q_len, &a.head_dim);
    operand(kd, a.kv_heads, &ksb, &ksh, &ksj, &klen, &vdim);
    operand(vd, a.kv_heads, &vsb, &vsh, &vsj, &vlen, &a.v_dim);
    const RtTensorDesc *pk = present(c, 4) ? &c->in[4] : NULL;
    const RtTensorDesc *pv = present(c, 5) ? &c->in[5] : NULL;
    if ((pk == NULL) != (pv == NULL) || vlen != klen)
        return RT_EINVAL;
    int64_t plen = pk ? pk->dims[2] : 0;
    if (plen + klen > RT_ATTN_MAX_KV)
        return RT_EINVAL;
    a.k[0] = (RtAttnSeg){NULL, 0, 0, 0, plen};
    a.v[0] = (RtAttnSeg){NULL, 0, 0, 0, plen};
    if (pk) {
        a.k[0] = (RtAttnSeg){NULL, pk->dims[1] * plen * a.head_dim, plen * a.head_dim,
                             a.head_dim, plen};
        a.v[0] = (RtAttnSeg){NULL, pv->dims[1] * plen * a.v_dim, plen * a.v_dim, a.v_dim, plen};
    }
    a.k[1] = (RtAttnSeg){NULL, ksb, ksh, ksj, klen};
    a.v[1] = (RtAttnSeg){NULL, vsb, vsh, vsj, vlen};
    a.scale = c->floats[RT_ATTN_F_SCALE];
    a.softcap = c->floats[RT_ATTN_F_SOFTCAP];
    a.causal = c->ints[RT_ATTN_CAUSAL] != 0;
    a.qk_mode = (int)c->ints[RT_ATTN_QK_MODE];
    a.causal_offset = plen;
    if (present(c, 6)) {
        a.kv_valid = in[6];
        a.causal_from_valid = !pk;
    }
    if (present(c, 3)) {
        const RtTensorDesc *md = &c->in[3];
        int64_t st[RT_MAX_RANK], *dst[3] = {&a.m_sb, &a.m_sh, &a.m_si};
        rt_strides(md, st);
        a.mask = in[3];
        a.mask_bool = md->dtype == RT_BOOL;
        a.m_len = md->rank ? md->dims[md->rank - 1] : 1;
        /* right-aligned to [B, H, Sq, T]; a missing or unit axis broadcasts */
        for (int ax = 0; ax < 3; ax++) {
            int mi = ax - (4 - md->rank);
            *dst[ax] = mi >= 0 && md->dims[mi] != 1 ? st[mi] : 0;
        }
    }
    const RtTensorDesc *yd = &c->out[0];
    if (yd->rank == 3) {
        a.y_sb = a.q_len * a.q_heads * a.v_dim;
        a.y_sh = a.v_dim;
        a.y_si = a.q_heads * a.v_dim;
    } else {
        a.y_sb = a.q_heads * a.q_len * a.v_dim;
        a.y_sh = a.q_len * a.v_dim;
        a.y_si = a.v_dim;
    }
    size_t esz = rt_dtype_size(dt);
    if (wanted(c, 1))
        concat_cache(pk ? in[4] : NULL, pk, in[1], ksb, ksh, ksj, klen, a.head_dim, a.batch,
                     a.kv_heads, esz, out[1]);
    if (wanted(c, 2))
        concat_cache(pv ? in[5] : NULL, pv, in[2], vsb, vsh, vsj, vlen, a.v_dim, a.batch,
                     a.kv_heads, esz, out[2]);
    void *qk = wanted(c, 3) ? out[3] : NULL;
    int mask_ok = !a.mask || a.mask_bool || c->in[3].dtype == RT_F32;
    if (dt == RT_F32 && mask_ok && (!pk || (pk->dtype == RT_F32 && pv->dtype == RT_F32))) {
        a.q = in[0];
        a.k[0].p = pk ? in[4] : NULL;
        a.v[0].p = pk ? in[5] : NULL;
        a.k[1].p = in[1];
        a.v[1].p = in[2];
        a.y = out[0];
        a.qk = qk;
        rt_attention_f32(&a);
        return RT_OK;
    }
    const void *kp[2] = {pk ? in[4] : NULL, in[1]}, *vp[2] = {pk ? in[5] : NULL, in[2]};
    attention_any(&a, c, in, kp, vp, out[0], qk);
    return RT_OK;
}
