/* k_hadamard.c: onnxcc.Hadamard, the fast Walsh-Hadamard transform of blocks along the last axis (AVX-512, AVX2, portable). */
#include <math.h>
#include <string.h>

#include "k_hadamard.h"
#include "rt_internal.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

/* The butterflies of one block in place: stage h pairs element j with
 * j + h (bit h of j clear) into (a + b, a - b). The stages act on distinct
 * bits of the index, so the vector paths below run them in the same
 * ascending order and give the same floats. */
HOT static void block_portable(float *p, int block, float scale)
{
    for (int h = 1; h < block; h <<= 1)
        for (int i = 0; i < block; i += 2 * h)
            for (int j = i; j < i + h; j++) {
                float a = p[j], b = p[j + h];
                p[j] = a + b;
                p[j + h] = a - b;
            }
    for (int j = 0; j < block; j++)
        p[j] *= scale;
}

/* Cross-register stages h >= w (the vector width) of one block whose
 * in-register stages are done: plain vector adds on pairs of registers. */
#define CROSS_STAGES(V, LOAD, STORE, ADD, SUB, MUL, SET1, w, p, block, scale)              \
    do {                                                                                   \
        for (int h_ = (w); h_ < (block); h_ <<= 1)                                         \
            for (int i_ = 0; i_ < (block); i_ += 2 * h_)                                   \
                for (int j_ = i_; j_ < i_ + h_; j_ += (w)) {                               \
                    V a_ = LOAD((p) + j_), b_ = LOAD((p) + j_ + h_);                       \
                    STORE((p) + j_, ADD(a_, b_));                                          \
                    STORE((p) + j_ + h_, SUB(a_, b_));                                     \
                }                                                                          \
        V s_ = SET1(scale);                                                                \
        for (int j_ = 0; j_ < (block); j_ += (w))                                          \
            STORE((p) + j_, MUL(LOAD((p) + j_), s_));                                      \
    } while (0)

#if defined(__AVX512F__)
/* lane signs of stage h: +1 where bit h of the lane is clear */
static const float sign16[4][16] = {
    {1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1},
    {1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1},
    {1, 1, 1, 1, -1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1},
    {1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1},
};

/* Stages h = 1 .. min(block, 16) / 2 inside one register: each lane meets
 * its partner (lane ^ h) by a permute; the low lane keeps v + p = a + b,
 * the high one p - v = a - b (v * -1 + p, exact). */
static inline __m512 in_reg16(__m512 v, int block)
{
    __m512 p = _mm512_permute_ps(v, 0xB1);
    v = _mm512_fmadd_ps(v, _mm512_loadu_ps(sign16[0]), p);
    if (block > 2) {
        p = _mm512_permute_ps(v, 0x4E);
        v = _mm512_fmadd_ps(v, _mm512_loadu_ps(sign16[1]), p);
    }
    if (block > 4) {
        p = _mm512_shuffle_f32x4(v, v, 0xB1);
        v = _mm512_fmadd_ps(v, _mm512_loadu_ps(sign16[2]), p);
    }
    if (block > 8) {
        p = _mm512_shuffle_f32x4(v, v, 0x4E);
        v = _mm512_fmadd_ps(v, _mm512_loadu_ps(sign16[3]), p);
    }
    return v;
}

/* n a multiple of 16 and of block */
HOT static void fwht_avx512(float *y, int64_t n, int block, float scale)
{
    if (block < 16) {
        __m512 s = _mm512_set1_ps(scale);
        for (int64_t i = 0; i < n; i += 16)
            _mm512_storeu_ps(y + i, _mm512_mul_ps(in_reg16(_mm512_loadu_ps(y + i), block), s));
        return;
    }
    for (int64_t b = 0; b < n; b += block) {
        float *p = y + b;
        for (int j = 0; j < block; j += 16)
            _mm512_storeu_ps(p + j, in_reg16(_mm512_loadu_ps(p + j), block));
        CROSS_STAGES(__m512, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_add_ps, _mm512_sub_ps,
                     _mm512_mul_ps, _mm512_set1_ps, 16, p, block, scale);
    }
}
#define VEC_W 16
#define fwht_vec fwht_avx512
#define FWHT_ISA "avx512"

#elif defined(__AVX2__)
static const float sign8[3][8] = {
    {1, -1, 1, -1, 1, -1, 1, -1},
    {1, 1, -1, -1, 1, 1, -1, -1},
    {1, 1, 1, 1, -1, -1, -1, -1},
};

/* As in_reg16 on 8 lanes; v * -1 + p by a multiply and an add (both exact
 * or rounded once, as the portable a - b), so no FMA is needed. */
static inline __m256 in_reg8(__m256 v, int block)
{
    __m256 p = _mm256_permute_ps(v, 0xB1);
    v = _mm256_add_ps(_mm256_mul_ps(v, _mm256_loadu_ps(sign8[0])), p);
    if (block > 2) {
        p = _mm256_permute_ps(v, 0x4E);
        v = _mm256_add_ps(_mm256_mul_ps(v, _mm256_loadu_ps(sign8[1])), p);
    }
    if (block > 4) {
        p = _mm256_permute2f128_ps(v, v, 0x01);
        v = _mm256_add_ps(_mm256_mul_ps(v, _mm256_loadu_ps(sign8[2])), p);
    }
    return v;
}

HOT static void fwht_avx2(float *y, int64_t n, int block, float scale)
{
    if (block < 8) {
        __m256 s = _mm256_set1_ps(scale);
        for (int64_t i = 0; i < n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_mul_ps(in_reg8(_mm256_loadu_ps(y + i), block), s));
        return;
    }
    for (int64_t b = 0; b < n; b += block) {
        float *p = y + b;
        for (int j = 0; j < block; j += 8)
            _mm256_storeu_ps(p + j, in_reg8(_mm256_loadu_ps(p + j), block));
        CROSS_STAGES(__m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_add_ps, _mm256_sub_ps,
                     _mm256_mul_ps, _mm256_set1_ps, 8, p, block, scale);
    }
}
#define VEC_W 8
#define fwht_vec fwht_avx2
#define FWHT_ISA "avx2"
#endif

void rt_fwht_portable(const float *x, float *y, int64_t n, int block)
{
    if (y != x)
        memmove(y, x, sizeof *y * (size_t)n);
    float scale = (float)(1.0 / sqrt((double)block));
    for (int64_t b = 0; b < n; b += block)
        block_portable(y + b, block, scale);
}

void rt_fwht(const float *x, float *y, int64_t n, int block)
{
#ifdef VEC_W
    if (y != x)
        memmove(y, x, sizeof *y * (size_t)n);
    float scale = (float)(1.0 / sqrt((double)block));
    /* blocks narrower than a register are transformed several to a
     * register; a tail shorter than one register takes the portable loop */
    int64_t nv = block >= VEC_W ? n : n / VEC_W * VEC_W;
    fwht_vec(y, nv, block, scale);
    for (int64_t b = nv; b < n; b += block)
        block_portable(y + b, block, scale);
#else
    rt_fwht_portable(x, y, n, block);
#endif
}

const char *rt_fwht_isa(void)
{
#ifdef FWHT_ISA
    return FWHT_ISA;
#else
    return "c";
#endif
}

typedef struct Fwht {
    const float *x;
    float *y;
    int block;
} Fwht;

static void fwht_range(void *ctx, int64_t lo, int64_t hi)
{
    const Fwht *f = ctx;
    rt_fwht(f->x + lo * f->block, f->y + lo * f->block, (hi - lo) * f->block, f->block);
}

int rt_hadamard(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 1 || c->n_ints < RT_HADAMARD_NINTS)
        return RT_EINVAL;
    if (c->in[0].dtype != RT_F32)
        return RT_EDTYPE;
    int64_t block = c->ints[RT_HADAMARD_BLOCK], n = rt_numel(&c->in[0]);
    if (block < 2 || block > 1 << 20 || (block & (block - 1)) || n % block)
        return RT_EINVAL;
    Fwht f = {in[0], out[0], (int)block};
    /* whole blocks per range, about 16K floats each */
    int64_t grain = (16384 + block - 1) / block;
    rt_parallel_for(n / block, grain, fwht_range, &f);
    return RT_OK;
}
