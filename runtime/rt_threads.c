/* rt_threads.c: rt_parallel_for over a pthread pool started once by rt_set_threads; serial without one. */
#if defined(__linux__)
#define _GNU_SOURCE /* sched_getaffinity: the CPUs this process may run on */
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include "rt_internal.h"

/* The pool needs POSIX threads; a target without them (bare-metal
 * Cortex-M, a C library with no pthreads) or a build with
 * -DONNXCC_NO_THREADS keeps the serial rt_parallel_for below. newlib ships a
 * pthread.h without the functions, so _POSIX_THREADS decides, not the header. */
#if !defined(ONNXCC_NO_THREADS) && defined(__has_include)
#if __has_include(<pthread.h>) && __has_include(<unistd.h>)
#include <unistd.h>
#if defined(_POSIX_THREADS) && _POSIX_THREADS > 0
#define RT_POOL 1
#endif
#endif
#endif

#ifndef RT_POOL

int rt_threads(void)
{
    return 1;
}

int rt_set_threads(int n)
{
    return n == 1 ? RT_OK : RT_ETHREAD;
}

int rt_max_threads(void)
{
    return 1;
}

void rt_parallel_for(int64_t n, int64_t grain, RtRangeFn fn, void *ctx)
{
    (void)grain;
    if (n > 0)
        fn(ctx, 0, n);
}

#else

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

/* GCC and clang's atomics let a waiting thread spin on the job counter
 * before it sleeps; another compiler reads it under the lock only. */
#if defined(__ATOMIC_ACQUIRE)
#define LOAD(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define DEC(p) __atomic_sub_fetch(p, 1, __ATOMIC_ACQ_REL)
#define CAN_SPIN 1
#else
#define LOAD(p) (*(p))
#define STORE(p, v) (*(p) = (v))
#define DEC(p) (--*(p))
#define CAN_SPIN 0
#endif

#if defined(__x86_64__) || defined(__i386__)
#define PAUSE() __builtin_ia32_pause()
#else
#define PAUSE() ((void)0)
#endif

/* Kernels keep their scratch on the stack: give workers the 8 MiB glibc's
 * main thread has (musl's default thread stack is 128 KiB). */
#define WORKER_STACK ((size_t)8 << 20)

/* How long a waiting thread polls before sleeping on the condition
 * variable: a model calls rt_parallel_for node after node, a few to a few
 * hundred microseconds apart, and a futex wake-up costs ~5-50 us.
 * ONNXCC_SPIN_US overrides it (0: sleep at once, kinder to a shared machine). */
#define SPIN_US_DEFAULT 100

typedef struct Job {
    RtRangeFn fn;
    void *ctx;
    int64_t n;                   /* the whole range [0, n) */
    int parts;                   /* ranges it is cut into; range i goes to thread i */
} Job;

typedef struct Pool {
    int threads;                 /* rt_threads(): workers + the calling thread */
    pthread_t *tid;              /* threads - 1 workers */
    pthread_mutex_t lock;        /* guards job, gen, quit and the sleeps */
    pthread_cond_t work;         /* gen moved or quit: workers wake */
    pthread_cond_t done;         /* pending reached 0: the caller wakes */
    pthread_mutex_t busy;        /* held by the thread inside rt_parallel_for */
    Job job;
    int gen;                     /* bumped once per job, kept >= 0; workers remember the last seen */
    int born;                    /* gen when the workers were started */
    int pending;                 /* workers still on the current job */
    int quit;
    double spin_ms;
} Pool;

static Pool pool = {.threads = 1,
                    .lock = PTHREAD_MUTEX_INITIALIZER,
                    .work = PTHREAD_COND_INITIALIZER,
                    .done = PTHREAD_COND_INITIALIZER,
                    .busy = PTHREAD_MUTEX_INITIALIZER};

int rt_threads(void)
{
    return pool.threads;
}

/* The CPUs this process may use: under taskset, a container's cpuset or a
 * batch scheduler that is fewer than the machine has online, and a pool
 * larger than it only makes threads wait for each other. */
int rt_max_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        n = CPU_COUNT(&set);
#endif
    return n < 1 ? 1 : n > RT_MAX_THREADS ? RT_MAX_THREADS : (int)n;
}

/* Range i of parts: [n*i/parts, n*(i+1)/parts); each is >= n/parts long. */
static void run_part(const Job *j, int i)
{
    int64_t lo = j->n / j->parts * i + j->n % j->parts * i / j->parts;
    int64_t hi = j->n / j->parts * (i + 1) + j->n % j->parts * (i + 1) / j->parts;
    if (hi > lo)
        j->fn(j->ctx, lo, hi);
}

/* Polls *p while it equals `from` (or, for from < 0, while it is
 * positive), for at most spin_ms. */
static void spin_while(const int *p, int from)
{
    if (!CAN_SPIN || pool.spin_ms <= 0)
        return;
    double end = rt_now_ms() + pool.spin_ms;
    for (int k = 1; from < 0 ? LOAD(p) > 0 : LOAD(p) == from; k++) {
        PAUSE();
        /* after ~256 polls (a few us), check the clock and yield now and
         * then: on a loaded machine the thread we wait for may be waiting
         * for this very core, and a pure spin would hold it off for the
         * whole spin time (measured: each hand-off took 2x the spin) */
        if (k >= 256 && (k & 63) == 0) {
            if (rt_now_ms() > end)
                break;
            sched_yield();
        }
    }
}

static void *worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    pthread_mutex_lock(&pool.lock);
    /* a worker may start after the first job was posted: it counts from
     * the gen of the pool's start, not from the gen it finds */
    int seen = pool.born;
    for (;;) {
        if (LOAD(&pool.gen) == seen && !pool.quit) {
            pthread_mutex_unlock(&pool.lock);
            spin_while(&pool.gen, seen);
            pthread_mutex_lock(&pool.lock);
            while (LOAD(&pool.gen) == seen && !pool.quit)
                pthread_cond_wait(&pool.work, &pool.lock);
        }
        if (pool.quit)
            break;
        seen = LOAD(&pool.gen);
        Job j = pool.job;
        pthread_mutex_unlock(&pool.lock);
        if (me < j.parts)
            run_part(&j, me);
        pthread_mutex_lock(&pool.lock);
        if (me < j.parts && DEC(&pool.pending) == 0)
            pthread_cond_signal(&pool.done);
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* Joins every worker; the pool is back to one thread. */
static void stop(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.quit = 1;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < pool.threads - 1; i++)
        pthread_join(pool.tid[i], NULL);
    free(pool.tid);
    pool.tid = NULL;
    pool.quit = 0;
    pool.threads = 1;
}

/* A child of fork() has only the thread that forked: it starts again with
 * one thread (the parent's workers are not its own to join). */
static void after_fork_child(void)
{
    pool.threads = 1;
    pool.tid = NULL;             /* the parent's list; the child must not free it */
    pool.quit = 0;
    pool.pending = 0;
    pthread_mutex_init(&pool.lock, NULL);
    pthread_mutex_init(&pool.busy, NULL);
    pthread_cond_init(&pool.work, NULL);
    pthread_cond_init(&pool.done, NULL);
}

int rt_set_threads(int n)
{
    static int fork_hook;
    if (n <= 0)
        n = rt_max_threads();
    if (n > RT_MAX_THREADS)
        return RT_EINVAL;
    if (n == pool.threads)
        return RT_OK;
    if (pool.threads > 1)
        stop();
    if (n == 1)
        return RT_OK;
    const char *s = getenv("ONNXCC_SPIN_US");
    pool.spin_ms = (s && *s ? atof(s) : SPIN_US_DEFAULT) / 1e3;
    if (!fork_hook)
        fork_hook = pthread_atfork(NULL, NULL, after_fork_child) == 0;
    pool.born = pool.gen;
    pool.tid = malloc(sizeof *pool.tid * (size_t)(n - 1));
    if (!pool.tid)
        return RT_ETHREAD;
    pthread_attr_t attr;
    int ok = pthread_attr_init(&attr) == 0;
    if (ok)
        pthread_attr_setstacksize(&attr, WORKER_STACK);
    /* pool.threads counts the workers actually started, so a failure
     * half-way stops exactly those */
    for (int i = 1; ok && i < n; i++) {
        ok = pthread_create(&pool.tid[i - 1], &attr, worker, (void *)(intptr_t)i) == 0;
        if (ok)
            pool.threads = i + 1;
    }
    pthread_attr_destroy(&attr);
    if (!ok) {
        if (pool.threads > 1)
            stop();
        else
            free(pool.tid), pool.tid = NULL;
        return RT_ETHREAD;
    }
    return RT_OK;
}

void rt_parallel_for(int64_t n, int64_t grain, RtRangeFn fn, void *ctx)
{
    if (n <= 0)
        return;
    if (grain < 1)
        grain = 1;
    int64_t parts = n / grain;
    if (parts > pool.threads)
        parts = pool.threads;
    /* One range: a plain call (its fn may still split an inner loop over
     * the pool). A call from inside the ranges the pool is running, on a
     * worker or the caller, finds busy taken: serial, never a deadlock. */
    if (parts <= 1 || pthread_mutex_trylock(&pool.busy) != 0) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&pool.lock);
    pool.job = (Job){fn, ctx, n, (int)parts};
    pool.pending = (int)parts - 1;
    STORE(&pool.gen, (pool.gen + 1) & 0x3fffffff);
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);

    Job j = pool.job;
    run_part(&j, 0);

    /* the spin only shortens the wait: pending is decided under the lock */
    spin_while(&pool.pending, -1);
    pthread_mutex_lock(&pool.lock);
    while (LOAD(&pool.pending) > 0)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}

#endif
