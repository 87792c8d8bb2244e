/* k_wq_nbits.c: com.microsoft MatMulNBits on ONNX Runtime's own block layout (the portable reference). */
#include <string.h>

#include "k_wq.h"
#include "rt_internal.h"

/* Bits [bit, bit + nbits) of p, LSB first (ORT packs codes and zero points so). */
static unsigned bits_at(const uint8_t *p, int64_t bit, int nbits)
{
    unsigned v = 0;
    for (int i = 0; i < nbits; i++, bit++)
        v |= (unsigned)(p[bit >> 3] >> (bit & 7) & 1) << i;
    return v;
}

typedef struct NbJob {
    int64_t m, n, k, nb, blob;
    int bits, block;
    const float *a, *scale, *zf, *bias;
    const uint8_t *b, *zq;
    float *y;
} NbJob;

/* Output columns [lo, hi): weight (code - zero) * scale, in double. */
static void nb_cols(void *ctx, int64_t lo, int64_t hi)
{
    const NbJob *j = ctx;
    int64_t zrow = (j->nb * j->bits + 7) / 8;
    for (int64_t c = lo; c < hi; c++)
        for (int64_t mi = 0; mi < j->m; mi++) {
            double acc = j->bias ? j->bias[c] : 0;
            for (int64_t bl = 0; bl < j->nb; bl++) {
                double s = j->scale[c * j->nb + bl], z = (double)(1 << (j->bits - 1));
                if (j->zq)
                    z = bits_at(j->zq + c * zrow, bl * j->bits, j->bits);
                else if (j->zf)
                    z = j->zf[c * j->nb + bl];
                const uint8_t *blob = j->b + (c * j->nb + bl) * j->blob;
                for (int64_t i = 0; i < j->block && bl * j->block + i < j->k; i++)
                    acc += (double)j->a[mi * j->k + bl * j->block + i] *
                           (((double)bits_at(blob, i * j->bits, j->bits) - z) * s);
            }
            j->y[mi * j->n + c] = (float)acc;
        }
}

int rt_matmul_nbits(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_ints < RT_NBITS_NINTS || c->n_in < 3)
        return RT_EINVAL;
    NbJob j;
    memset(&j, 0, sizeof j);
    j.k = c->ints[RT_NBITS_K];
    j.n = c->ints[RT_NBITS_N];
    j.bits = (int)c->ints[RT_NBITS_BITS];
    j.block = (int)c->ints[RT_NBITS_BLOCK];
    if (j.k < 1 || j.bits < 1 || j.bits > 8 || j.block < 1 || rt_numel(&c->in[0]) % j.k)
        return RT_EINVAL;
    j.m = rt_numel(&c->in[0]) / j.k;
    j.nb = (j.k + j.block - 1) / j.block;
    j.blob = (int64_t)j.block * j.bits / 8;
    j.a = in[0];
    j.b = in[1];
    j.scale = in[2];
    if (c->n_in > 3 && in[3] && c->in[3].dtype == RT_U8)
        j.zq = in[3];
    else if (c->n_in > 3 && in[3])
        j.zf = in[3];
    j.bias = c->n_in > 5 ? in[5] : NULL;
    j.y = out[0];
    rt_parallel_for(j.n, 16, nb_cols, &j);
    return 0;
}
