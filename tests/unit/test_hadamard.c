/* test_hadamard.c: the fast Walsh-Hadamard kernel (onnxcc.Hadamard) against a dense multiply by the Sylvester-Hadamard matrix. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "runtime/onnxcc_rt_kernels.h"

/* Built for the generic runtime and, with their -march, the native and
 * x86-64-v3 ones (tests/CMakeLists.txt): the portable, AVX-512 and AVX2
 * paths each meet the dense reference; HAD_EXPECT names the path a build
 * must take where it is known. */

static float frand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* y = x H, block by block, H(i, j) = (-1)^popcount(i & j) / sqrt(block), in double. */
static void dense(const float *x, double *y, int64_t n, int block)
{
    double s = 1.0 / sqrt((double)block);
    for (int64_t b = 0; b < n; b += block)
        for (int j = 0; j < block; j++) {
            double acc = 0;
            for (int i = 0; i < block; i++)
                acc += (__builtin_popcount((unsigned)(i & j)) & 1 ? -1.0 : 1.0) * x[b + i];
            y[b + j] = acc * s;
        }
}

/* The FWHT of a block sums block terms of |x| / sqrt(block) with log2(block)
 * roundings each: 1e-6 * log2(block) * sqrt(block) * max|x| is ~4x that. */
static int check(int64_t n, int block, int in_place)
{
    unsigned seed = (unsigned)(n * 31 + block);
    float *x = malloc(sizeof *x * (size_t)n), *y = malloc(sizeof *y * (size_t)n);
    float *yp = malloc(sizeof *yp * (size_t)n);
    double *ref = malloc(sizeof *ref * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        x[i] = frand(&seed) * (i % 7 == 0 ? 10.0f : 1.0f);
    dense(x, ref, n, block);
    int lg = 0;
    while ((1 << lg) < block)
        lg++;
    double tol = 1e-6 * (lg + 1) * sqrt((double)block) * 10.0;
    int bad = 0;
    if (in_place) {
        memcpy(y, x, sizeof *y * (size_t)n);
        rt_fwht(y, y, n, block);
    } else {
        rt_fwht(x, y, n, block);
    }
    rt_fwht_portable(x, yp, n, block);
    for (int64_t i = 0; i < n; i++) {
        bad += !(fabs(y[i] - ref[i]) <= tol);
        bad += !(fabs(yp[i] - ref[i]) <= tol);
    }
    if (bad)
        fprintf(stderr, "fwht n %lld block %d in_place %d: %d elements off\n", (long long)n,
                block, in_place, bad);
    /* the vector paths run the portable butterflies in the same order */
    CHECK(0, memcmp(y, yp, sizeof *y * (size_t)n));
    free(x), free(y), free(yp), free(ref);
    return bad;
}

/* H H = I: transforming twice gives the input back. */
static void check_involution(void)
{
    unsigned seed = 7;
    float x[512], y[512];
    for (int i = 0; i < 512; i++)
        x[i] = frand(&seed);
    rt_fwht(x, y, 512, 256);
    rt_fwht(y, y, 512, 256);
    double worst = 0;
    for (int i = 0; i < 512; i++)
        worst = fmax(worst, fabs(y[i] - x[i]));
    CHECK_NEAR(0.0, worst, 1e-5);
}

/* The op's kernel through its call block: a [3, 5, 64] tensor, block 32,
 * the same floats at 1 and 2 threads. */
static void check_op(void)
{
    int64_t n = 3 * 5 * 64;
    float *x = malloc(sizeof *x * (size_t)n), *y1 = malloc(sizeof *y1 * (size_t)n);
    float *y2 = malloc(sizeof *y2 * (size_t)n), *ref = malloc(sizeof *ref * (size_t)n);
    unsigned seed = 3;
    for (int64_t i = 0; i < n; i++)
        x[i] = frand(&seed);
    rt_fwht_portable(x, ref, n, 32);
    RtTensorDesc d = desc(RT_F32, 3, DIMS(3, 5, 64));
    int64_t ints[RT_HADAMARD_NINTS] = {32};
    RtCall c = call(1, &d, 1, &d, RT_HADAMARD_NINTS, ints, 0, NULL);
    const void *in[1] = {x};
    void *out1[1] = {y1}, *out2[1] = {y2};
    CHECK(RT_OK, rt_hadamard(&c, in, out1));
    CHECK(RT_OK, rt_set_threads(2));
    CHECK(RT_OK, rt_hadamard(&c, in, out2));
    CHECK(RT_OK, rt_set_threads(1));
    CHECK(0, memcmp(y1, ref, sizeof *y1 * (size_t)n));
    CHECK(0, memcmp(y2, ref, sizeof *y2 * (size_t)n));
    ints[0] = 48; /* not a power of two */
    CHECK(RT_EINVAL, rt_hadamard(&c, in, out1));
    ints[0] = 128; /* does not divide the tensor */
    RtTensorDesc d2 = desc(RT_F32, 2, DIMS(1, 64));
    RtCall c2 = call(1, &d2, 1, &d2, RT_HADAMARD_NINTS, ints, 0, NULL);
    CHECK(RT_EINVAL, rt_hadamard(&c2, in, out1));
    free(x), free(y1), free(y2), free(ref);
}

int main(void)
{
    printf("fwht path: %s\n", rt_fwht_isa());
#ifdef HAD_EXPECT
    CHECK_STR_CONTAINS(rt_fwht_isa(), HAD_EXPECT);
#endif
    /* every block from 2 to 1024; lengths that are and are not whole
     * registers (a tail of blocks narrower than a register) */
    for (int block = 2; block <= 1024; block <<= 1) {
        int64_t lens[] = {block, 3 * block, 5 * block, 16 * block, 7 * block};
        for (int i = 0; i < 5; i++)
            for (int ip = 0; ip < 2; ip++)
                CHECK(0, check(lens[i], block, ip));
    }
    check_involution();
    check_op();
    return CHECK_DONE();
}
