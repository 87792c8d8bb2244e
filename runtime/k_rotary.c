/* k_rotary.c: RotaryEmbedding (opset 23): rotary position embedding of each head's first features, rows in parallel. */
#include <string.h>

#include "rt_internal.h"

/* The rotation of one head's row, half-split: (x[i], x[i+h]) turns by the
 * angle whose cosine and sine are c[i], s[i]. Plain unit-stride loops the
 * compiler vectorizes at the target's width. */
HOT static void rot_half(const float *x, float *y, const float *c, const float *s, int64_t half)
{
    const float *x2 = x + half;
    float *y2 = y + half;
    for (int64_t i = 0; i < half; i++) {
        float a = x[i], b = x2[i];
        y[i] = c[i] * a - s[i] * b;
        y2[i] = s[i] * a + c[i] * b;
    }
}

/* The same with the pairs interleaved, (x[2i], x[2i+1]). */
HOT static void rot_pairs(const float *x, float *y, const float *c, const float *s, int64_t half)
{
    for (int64_t i = 0; i < half; i++) {
        float a = x[2 * i], b = x[2 * i + 1];
        y[2 * i] = c[i] * a - s[i] * b;
        y[2 * i + 1] = s[i] * a + c[i] * b;
    }
}

typedef struct Rope {
    const RtCall *c;
    const void *x, *cos, *sin;
    const int64_t *pos;          /* [B, S] or NULL */
    void *y;
    int64_t batch, heads, seq, dim, half, max_pos;
    int64_t sb, sh, ss;          /* strides of the input (and output) */
    int interleaved;
    int bad;                     /* a position outside the cache was met */
} Rope;

/* Rows [lo, hi) of (batch, position), every head of each. */
HOT static void rope_rows(void *ctx, int64_t lo, int64_t hi)
{
    Rope *r = ctx;
    int dt = r->c->in[0].dtype, cdt = r->c->in[1].dtype;
    for (int64_t row = lo; row < hi; row++) {
        int64_t b = row / r->seq, t = row % r->seq, cs;
        if (r->pos) {
            int64_t p = r->pos[row];
            if (p < 0 || p >= r->max_pos) {
                r->bad = 1; /* racy but only ever set to 1 */
                continue;
            }
            cs = p * r->half;
        } else {
            cs = row * r->half;
        }
        for (int64_t h = 0; h < r->heads; h++) {
            int64_t o = b * r->sb + h * r->sh + t * r->ss;
            if (dt == RT_F32 && cdt == RT_F32) {
                const float *x = (const float *)r->x + o, *cf = (const float *)r->cos + cs;
                const float *sf = (const float *)r->sin + cs;
                float *y = (float *)r->y + o;
                if (r->interleaved)
                    rot_pairs(x, y, cf, sf, r->half);
                else
                    rot_half(x, y, cf, sf, r->half);
                if (y != x)
                    memcpy(y + 2 * r->half, x + 2 * r->half,
                           sizeof(float) * (size_t)(r->dim - 2 * r->half));
                continue;
            }
            for (int64_t i = 0; i < r->half; i++) {
                double cv = rt_load_f64(r->cos, cdt, cs + i), sv = rt_load_f64(r->sin, cdt, cs + i);
                int64_t i1 = r->interleaved ? 2 * i : i, i2 = r->interleaved ? 2 * i + 1 : i + r->half;
                double a = rt_load_f64(r->x, dt, o + i1), bb = rt_load_f64(r->x, dt, o + i2);
                rt_store_f64(r->y, dt, o + i1, cv * a - sv * bb);
                rt_store_f64(r->y, dt, o + i2, sv * a + cv * bb);
            }
            for (int64_t i = 2 * r->half; i < r->dim; i++)
                rt_store_f64(r->y, dt, o + i, rt_load_f64(r->x, dt, o + i));
        }
    }
}

int rt_rotary_embedding(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 3 || c->n_ints < RT_ROPE_NINTS)
        return RT_EINVAL;
    const RtTensorDesc *x = &c->in[0], *cd = &c->in[1];
    if (!rt_is_float(x->dtype) || !rt_is_float(cd->dtype) || c->in[2].dtype != cd->dtype)
        return RT_EDTYPE;
    Rope r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.x = in[0];
    r.cos = in[1];
    r.sin = in[2];
    r.y = out[0];
    r.interleaved = c->ints[RT_ROPE_INTERLEAVED] != 0;
    r.batch = x->dims[0];
    if (x->rank == 4) {
        r.heads = x->dims[1];
        r.seq = x->dims[2];
        r.dim = x->dims[3];
        r.sb = r.heads * r.seq * r.dim;
        r.sh = r.seq * r.dim;
        r.ss = r.dim;
    } else if (x->rank == 3 && c->ints[RT_ROPE_NUM_HEADS] > 0) {
        r.heads = c->ints[RT_ROPE_NUM_HEADS];
        r.seq = x->dims[1];
        r.dim = x->dims[2] / r.heads;
        r.sb = r.seq * x->dims[2];
        r.sh = r.dim;
        r.ss = x->dims[2];
    } else {
        return RT_EINVAL;
    }
    int64_t rd = c->ints[RT_ROPE_ROTARY_DIM];
    if (rd <= 0 || rd > r.dim || rd % 2)
        return RT_EINVAL;
    r.half = rd / 2;
    if (c->n_in > 3 && c->in[3].dtype != RT_UNDEF) {
        if (c->in[3].dtype != RT_I64 || cd->rank != 2)
            return RT_EINVAL;
        r.pos = in[3];
        r.max_pos = cd->dims[0];
    }
    /* about 16k rotated elements per range pays for a hand-off */
    int64_t per_row = r.heads * r.dim;
    rt_parallel_for(r.batch * r.seq, 16384 / (per_row ? per_row : 1) + 1, rope_rows, &r);
    return r.bad ? RT_EINVAL : RT_OK;
}
