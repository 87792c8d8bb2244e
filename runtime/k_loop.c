/* k_loop.c: LoopBegin and LoopEnd, the state updates of a Loop that runs at run time. */
#include <stdint.h>
#include <string.h>

#include "rt_internal.h"

static size_t bytes_of(const RtTensorDesc *t)
{
    return rt_dtype_bytes(t->dtype, rt_numel(t));
}

/* An iteration runs while i < M (no M: always) and the condition holds. */
static int due(const void *m, int64_t i, int cond)
{
    return cond && (!m || i < *(const int64_t *)m);
}

int rt_loop_begin(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_ints < RT_LOOP_NINTS)
        return RT_EINVAL;
    int n = (int)c->ints[RT_LOOP_N_CARRIED];
    if (n < 0 || c->n_in != 2 + n || c->n_out != 3 + n)
        return RT_EINVAL;
    int cond = in[1] ? *(const unsigned char *)in[1] != 0 : 1;
    *(int64_t *)out[0] = 0;
    *(unsigned char *)out[1] = (unsigned char)cond;
    for (int j = 0; j < n; j++) {
        size_t b = bytes_of(&c->in[2 + j]);
        if (b != bytes_of(&c->out[2 + j]))
            return RT_EINVAL;
        if (b && out[2 + j] != in[2 + j])
            memmove(out[2 + j], in[2 + j], b);
    }
    int go = due(in[0], 0, cond);
    *(unsigned char *)out[2 + n] = (unsigned char)go;
    return go && c->ints[RT_LOOP_BOUND] < 1 ? RT_EBOUND : RT_OK;
}

static int overlaps(const void *a, size_t na, const void *b, size_t nb)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return na && nb && x < y + nb && y < x + na;
}

/* cur[j] = next[j] for every j. A result may be another carried value's
 * state (the body swaps two values, or reshapes one into the other's place):
 * then every result goes through the stage first, so no copy reads a state
 * an earlier copy of this step overwrote. */
static int carry(int n, const void *const *next, void *const *cur, const size_t *b,
                 unsigned char *stage)
{
    int clash = 0;
    for (int j = 0; j < n && !clash; j++)
        for (int k = 0; k < n && !clash; k++)
            clash = k != j && overlaps(next[j], b[j], cur[k], b[k]);
    if (!clash) {
        for (int j = 0; j < n; j++)
            if (b[j] && next[j] != cur[j])
                memmove(cur[j], next[j], b[j]);
        return RT_OK;
    }
    if (!stage)
        return RT_EINVAL;
    size_t at = 0;
    for (int j = 0; j < n; at += b[j], j++)
        if (b[j])
            memcpy(stage + at, next[j], b[j]);
    at = 0;
    for (int j = 0; j < n; at += b[j], j++)
        if (b[j])
            memcpy(cur[j], stage + at, b[j]);
    return RT_OK;
}

int rt_loop_end(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_ints < RT_LOOP_NINTS)
        return RT_EINVAL;
    int n = (int)c->ints[RT_LOOP_N_CARRIED], s = (int)c->ints[RT_LOOP_N_SCAN];
    int ext = c->ints[RT_LOOP_EXTENT] != 0;
    int64_t bound = c->ints[RT_LOOP_BOUND];
    if (n < 0 || s < 0 || c->n_in != 5 + 2 * n + s ||
        c->n_out != n + s + 1 + ext)
        return RT_EINVAL;
    const void *const *next = in + 2, *const *scan = in + 2 + n;
    /* the state is LoopBegin's outputs, which this node updates in place */
    void *const *st = (void *const *)(in + 2 + n + s);
    int64_t *iter = st[0];
    unsigned char *cond = st[1], *go = st[2 + n];
    size_t b[n + 1];
    for (int j = 0; j < n; j++) {
        b[j] = bytes_of(&c->in[2 + n + s + 2 + j]);
        if (b[j] != bytes_of(&c->in[2 + j]))
            return RT_EINVAL;
    }
    if (*go) {
        int64_t i = *iter;
        for (int k = 0; k < s; k++) {
            const RtTensorDesc *t = &c->out[n + k];
            size_t slice = bytes_of(&c->in[2 + n + k]);
            if (!out[n + k])
                continue;
            if (t->rank < 1 || i >= t->dims[0] || slice * (size_t)t->dims[0] != bytes_of(t))
                return RT_EINVAL;
            if (slice)
                memcpy((unsigned char *)out[n + k] + (size_t)i * slice, scan[k], slice);
        }
        int rc = carry(n, next, st + 2, b, out[n + s]);
        if (rc)
            return rc;
        *cond = *(const unsigned char *)in[1] != 0;
        *iter = ++i;
        *go = (unsigned char)due(in[0], i, *cond);
        if (*go && i >= bound)
            return RT_EBOUND;
        if (*go)
            return RT_OK;
    }
    for (int j = 0; j < n; j++)
        if (out[j] && b[j])
            memcpy(out[j], st[2 + j], b[j]);
    if (ext)
        *(int64_t *)out[n + s + 1] = *iter;
    return RT_OK;
}
