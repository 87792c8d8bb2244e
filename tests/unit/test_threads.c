/* test_threads.c: rt_parallel_for on the thread pool covers [0, n) exactly as the serial loop does. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "desc.h"
#include "runtime/rt_internal.h"

#define MAX_N 20000
#define MAX_CALLS 512

/* What one rt_parallel_for did: the result array, how often each index was
 * visited, and the ranges fn was called on (and by which thread). */
typedef struct Log {
    float out[MAX_N];
    int visits[MAX_N];
    int n_calls;                 /* bumped atomically: fn runs concurrently */
    int64_t lo[MAX_CALLS], hi[MAX_CALLS];
    pthread_t who[MAX_CALLS];
    int nested;                  /* fn also calls rt_parallel_for inside its range */
    int inner_calls;             /* calls of the inner fn, atomically */
} Log;

static Log lg;

/* The reference computation: a value per index that depends on nothing else. */
static float value(int64_t i)
{
    return (float)(i % 97) * 0.5f - (float)(i % 13);
}

static void inner(void *ctx, int64_t lo, int64_t hi)
{
    int64_t *span = ctx;
    __atomic_fetch_add(&lg.inner_calls, 1, __ATOMIC_RELAXED);
    for (int64_t i = lo; i < hi; i++)
        lg.out[span[0] + i] += 1.0f;
}

static void body(void *ctx, int64_t lo, int64_t hi)
{
    (void)ctx;
    int k = __atomic_fetch_add(&lg.n_calls, 1, __ATOMIC_RELAXED);
    if (k < MAX_CALLS) {
        lg.lo[k] = lo;
        lg.hi[k] = hi;
        lg.who[k] = pthread_self();
    }
    for (int64_t i = lo; i < hi; i++) {
        lg.visits[i]++;
        lg.out[i] = value(i);
    }
    if (lg.nested) {
        /* nested: serial (one call) while the pool runs this call's ranges */
        int64_t span[1] = {lo};
        rt_parallel_for(hi - lo, 1, inner, span);
    }
}

/* Runs rt_parallel_for(n, grain) and checks it against the contract:
 * every index once, the values of the serial loop, at most rt_threads()
 * ranges, each >= grain but the last. Returns the number of distinct threads. */
static int run_case(int64_t n, int64_t grain, int nested)
{
    memset(&lg, 0, sizeof lg);
    lg.nested = nested;
    rt_parallel_for(n, grain, body, NULL);
    int bad_visit = 0, bad_value = 0;
    for (int64_t i = 0; i < n; i++) {
        bad_visit += lg.visits[i] != 1;
        bad_value += lg.out[i] != value(i) + (nested ? 1.0f : 0.0f);
    }
    for (int64_t i = n; i < MAX_N; i++)
        bad_visit += lg.visits[i] != 0;
    CHECK(0, bad_visit);
    CHECK(0, bad_value);
    int64_t g = grain < 1 ? 1 : grain;
    int64_t parts = n / g < 1 ? 1 : n / g;
    if (parts > rt_threads())
        parts = rt_threads();
    CHECK(n > 0 ? parts : 0, lg.n_calls);
    /* inside ranges the pool runs, the inner call is one serial call; an
     * outer call of one range is a plain call, and the inner may split */
    if (nested && parts > 1)
        CHECK(lg.n_calls, lg.inner_calls);
    int short_ranges = 0, threads = 0;
    for (int k = 0; k < lg.n_calls && k < MAX_CALLS; k++) {
        short_ranges += lg.hi[k] - lg.lo[k] < g && lg.hi[k] != n;
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen |= pthread_equal(lg.who[j], lg.who[k]);
        threads += !seen;
    }
    CHECK(0, short_ranges);
    if (short_ranges || bad_visit || bad_value || lg.n_calls != (n > 0 ? parts : 0))
        fprintf(stderr, "  case: threads %d, n %lld, grain %lld, nested %d\n", rt_threads(),
                (long long)n, (long long)grain, nested);
    return threads;
}

static const int64_t sizes[] = {0, 1, 2, 3, 5, 7, 8, 63, 64, 65, 1000, 4097, MAX_N};
static const int64_t grains[] = {-3, 0, 1, 2, 3, 7, 64, 1000, 5000, 100000};
#define COUNT(a) ((int)(sizeof(a) / sizeof(a)[0]))

static void all_cases(void)
{
    for (int s = 0; s < COUNT(sizes); s++)
        for (int g = 0; g < COUNT(grains); g++)
            for (int nested = 0; nested < 2; nested++)
                run_case(sizes[s], grains[g], nested);
}

/* A reduction the way kernels write one: partial results per range into
 * slots the range owns (here: one slot per index block). */
typedef struct Sum {
    const float *x;
    double part[64];
} Sum;

static void sum_blocks(void *ctx, int64_t lo, int64_t hi)
{
    Sum *s = ctx;
    for (int64_t b = lo; b < hi; b++) {
        double acc = 0;
        for (int64_t i = b * 1000; i < (b + 1) * 1000; i++)
            acc += s->x[i];
        s->part[b] = acc;
    }
}

static void check_reduction(void)
{
    static float x[64000];
    Sum s = {.x = x};
    double want = 0, got = 0;
    for (int i = 0; i < 64000; i++) {
        x[i] = (float)((i * 7919) % 1001) / 1000.0f;
        want += x[i];
    }
    rt_parallel_for(64, 1, sum_blocks, &s);
    for (int b = 0; b < 64; b++)
        got += s.part[b];
    /* sums of the same blocks in the same order: equal up to the order of
     * the final 64 additions, 1e-9 relative */
    CHECK_NEAR(want, got, 1e-9 * want);
}

/* ---- kernels that split their work with rt_parallel_for ---- */

/* Pooling over N*C planes: MaxPool (with and without Indices), AveragePool
 * with padding, GlobalAverage/MaxPool, against a direct loop per output.
 * 74 planes of 61x47: enough input for 3 ranges of the kernel's grain. */
enum { PN = 2, PC = 37, PH = 61, PW = 47, K = 3, ST = 2, PAD = 1 };
enum { OH = (PH + 2 * PAD - K) / ST + 1, OW = (PW + 2 * PAD - K) / ST + 1 };

static float px[PN * PC * PH * PW];

static double ref_pool(int mode, int64_t pl, int64_t oh, int64_t ow, int64_t *arg)
{
    double acc = mode == RT_POOL_MAX ? -HUGE_VAL : 0;
    int count = 0;
    for (int kh = 0; kh < K; kh++)
        for (int kw = 0; kw < K; kw++) {
            int64_t h = oh * ST - PAD + kh, w = ow * ST - PAD + kw;
            if (h < 0 || h >= PH || w < 0 || w >= PW)
                continue;
            int64_t i = (pl * PH + h) * PW + w;
            if (mode == RT_POOL_AVG)
                acc += px[i];
            else if (px[i] > acc)
                acc = px[i], *arg = i;
            count++;
        }
    return mode == RT_POOL_AVG ? acc / count : acc;
}

static void check_pool_kernels(void)
{
    static float y[PN * PC * OH * OW], gy[PN * PC];
    static int64_t ind[PN * PC * OH * OW];
    for (int i = 0; i < PN * PC * PH * PW; i++)
        px[i] = (float)((i * 2654435761u) % 1000) / 100.0f - 5.0f;
    RtTensorDesc dx = desc(RT_F32, 4, DIMS(PN, PC, PH, PW));
    RtTensorDesc dy[2] = {desc(RT_F32, 4, DIMS(PN, PC, OH, OW)),
                          desc(RT_I64, 4, DIMS(PN, PC, OH, OW))};
    const void *in[1] = {px};
    for (int mode = RT_POOL_MAX; mode <= RT_POOL_AVG; mode++)
        for (int with_ind = 0; with_ind <= (mode == RT_POOL_MAX); with_ind++) {
            int64_t ints[14] = {mode, 2, 0, 0, K, K, ST, ST, 1, 1, PAD, PAD, PAD, PAD};
            void *out[2] = {y, ind};
            RtCall c = call(1, &dx, 1 + with_ind, dy, 14, ints, 0, NULL);
            CHECK(RT_OK, rt_pool(&c, in, out));
            int bad = 0;
            for (int64_t pl = 0; pl < PN * PC; pl++)
                for (int64_t oh = 0; oh < OH; oh++)
                    for (int64_t ow = 0; ow < OW; ow++) {
                        int64_t arg = -1, o = (pl * OH + oh) * OW + ow;
                        double want = ref_pool(mode, pl, oh, ow, &arg);
                        /* max is exact; the average's sum order may differ: 1e-5 */
                        bad += fabs(y[o] - want) > 1e-5 * (1 + fabs(want));
                        bad += with_ind && ind[o] != arg;
                    }
            CHECK(0, bad);
        }
    RtTensorDesc dg = desc(RT_F32, 4, DIMS(PN, PC, 1, 1));
    for (int mode = RT_POOL_MAX; mode <= RT_POOL_AVG; mode++) {
        int64_t m = mode;
        void *out[1] = {gy};
        RtCall c = call(1, &dx, 1, &dg, 1, &m, 0, NULL);
        CHECK(RT_OK, rt_global_pool(&c, in, out));
        int bad = 0;
        for (int64_t pl = 0; pl < PN * PC; pl++) {
            double acc = mode == RT_POOL_MAX ? -HUGE_VAL : 0;
            for (int i = 0; i < PH * PW; i++)
                acc = mode == RT_POOL_MAX ? fmax(acc, px[pl * PH * PW + i])
                                          : acc + px[pl * PH * PW + i];
            if (mode == RT_POOL_AVG)
                acc /= PH * PW;
            bad += fabs(gy[pl] - acc) > 1e-5 * (1 + fabs(acc));
        }
        CHECK(0, bad);
    }
}

/* Transpose splits the output's outermost non-unit axis: shapes with a
 * leading 1, a short first axis, and element sizes 1, 4 and 8, against the
 * index arithmetic done directly; all but the last two are large enough
 * for 2 or 3 ranges. */
static void check_transpose_case(int dtype, int rank, const int64_t *xd, const int64_t *perm)
{
    enum { MAXE = 1 << 18 };
    static unsigned char x[MAXE * 8], y[MAXE * 8];
    size_t esz = rt_dtype_size(dtype);
    int64_t n = 1, yd[RT_MAX_RANK], xs[RT_MAX_RANK], ints[RT_MAX_RANK];
    for (int k = 0; k < rank; k++)
        n *= xd[k];
    for (int64_t i = 0; i < (int64_t)(n * esz); i++)
        x[i] = (unsigned char)(i * 31 + 7);
    for (int k = 0; k < rank; k++)
        yd[k] = xd[perm[k]], ints[k] = perm[k];
    RtTensorDesc dx = desc(dtype, rank, xd), dy = desc(dtype, rank, yd);
    rt_strides(&dx, xs);
    const void *in[1] = {x};
    void *out[1] = {y};
    memset(y, 0xee, n * esz);
    RtCall c = call(1, &dx, 1, &dy, rank, ints, 0, NULL);
    CHECK(RT_OK, rt_transpose(&c, in, out));
    int64_t bad = 0, idx[RT_MAX_RANK] = {0};
    for (int64_t o = 0; o < n; o++) {
        int64_t src = 0;
        for (int k = 0; k < rank; k++)
            src += idx[k] * xs[perm[k]];
        bad += memcmp(y + o * esz, x + src * esz, esz) != 0;
        for (int k = rank - 1; k >= 0 && ++idx[k] == yd[k]; k--)
            idx[k] = 0;
    }
    CHECK(0, bad);
}

static void check_transpose(void)
{
    check_transpose_case(RT_F32, 2, DIMS(600, 257), DIMS(1, 0));
    check_transpose_case(RT_F32, 4, DIMS(1, 64, 56, 56), DIMS(0, 2, 3, 1));
    check_transpose_case(RT_U8, 4, DIMS(1, 2, 116, 784), DIMS(0, 2, 1, 3));
    check_transpose_case(RT_I64, 3, DIMS(2, 3, 40000), DIMS(2, 0, 1));
    check_transpose_case(RT_F32, 5, DIMS(1, 16, 7, 49, 32), DIMS(0, 1, 3, 2, 4));
    check_transpose_case(RT_F32, 3, DIMS(1, 1, 1), DIMS(2, 1, 0));
    check_transpose_case(RT_F32, 2, DIMS(0, 5), DIMS(1, 0));
}

int main(void)
{
    /* one thread: no pool, a plain call */
    CHECK(1, rt_threads());
    CHECK(1, run_case(1000, 1, 0));
    all_cases();
    check_pool_kernels();
    check_transpose();
    CHECK(RT_OK, rt_set_threads(1));
    CHECK(1, rt_threads());

    for (int t = 2; t <= 5; t++) {
        CHECK(RT_OK, rt_set_threads(t));
        CHECK(t, rt_threads());
        all_cases();
        check_reduction();
        check_pool_kernels();
        check_transpose();
        /* enough work for every thread: each range ran on its own thread */
        CHECK(t, run_case(MAX_N, 1, 0));
    }
    /* changing the count restarts the pool; the same count is a no-op */
    CHECK(RT_OK, rt_set_threads(3));
    CHECK(RT_OK, rt_set_threads(3));
    CHECK(3, rt_threads());
    CHECK(RT_EINVAL, rt_set_threads(RT_MAX_THREADS + 1));
    CHECK(3, rt_threads());
    CHECK(RT_OK, rt_set_threads(1));
    CHECK(1, rt_threads());

    /* repeated start and stop, work in between */
    int bad = 0;
    for (int r = 0; r < 100; r++) {
        bad += rt_set_threads(2 + r % 3) != RT_OK;
        bad += run_case(1000 + r, 1 + r % 5, r % 2) != 2 + r % 3;
        bad += rt_set_threads(1) != RT_OK;
    }
    CHECK(0, bad);

    /* fork with a pool running: the child starts again with one thread,
     * its loops still work and it can start its own pool (alarm: a hang
     * ends the child, which counts as a failure) */
    CHECK(RT_OK, rt_set_threads(2));
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        int ok = rt_threads() == 1 && run_case(MAX_N, 1, 0) == 1 &&
                 rt_set_threads(2) == RT_OK && run_case(MAX_N, 1, 0) == 2 &&
                 rt_set_threads(1) == RT_OK && check_failures == 0;
        _exit(ok ? 0 : 1);
    }
    int st = -1;
    CHECK_TRUE(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(2, run_case(MAX_N, 1, 0));
    CHECK(RT_OK, rt_set_threads(1));

    /* 0: every online CPU */
    CHECK(RT_OK, rt_set_threads(0));
    CHECK(rt_max_threads(), rt_threads());
    CHECK_TRUE(rt_max_threads() >= 1);
    run_case(MAX_N, 1, 1);

    /* no spinning: every hand-off goes through the condition variables */
    CHECK(RT_OK, rt_set_threads(1));
    setenv("ONNXCC_SPIN_US", "0", 1);
    CHECK(RT_OK, rt_set_threads(2));
    all_cases();
    CHECK(RT_OK, rt_set_threads(1));
    return CHECK_DONE();
}
