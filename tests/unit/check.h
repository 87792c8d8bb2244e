/* check.h: the one-line assertion macros of onnxcc's C unit tests. */
#ifndef ONNXCC_CHECK_H
#define ONNXCC_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

/* CHECK(expected, expr): integer equality, reported with both values. */
#define CHECK(expected, expr)                                                          \
    do {                                                                               \
        long long e_ = (long long)(expected), a_ = (long long)(expr);                  \
        check_count++;                                                                 \
        if (e_ != a_) {                                                                \
            check_failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK(%s, %s): expected %lld, got %lld\n",         \
                    __FILE__, __LINE__, #expected, #expr, e_, a_);                     \
        }                                                                              \
    } while (0)

/* CHECK_TRUE(expr) */
#define CHECK_TRUE(expr) CHECK(1, !!(expr))

/* CHECK_NEAR(expected, expr, tol): floating-point closeness. */
#define CHECK_NEAR(expected, expr, tol)                                                \
    do {                                                                               \
        double e_ = (double)(expected), a_ = (double)(expr);                           \
        check_count++;                                                                 \
        if (!(a_ - e_ <= (tol) && e_ - a_ <= (tol))) {                                 \
            check_failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK_NEAR(%s, %s): expected %g, got %g\n",        \
                    __FILE__, __LINE__, #expected, #expr, e_, a_);                     \
        }                                                                              \
    } while (0)

/* CHECK_STR_CONTAINS(haystack, needle) */
#define CHECK_STR_CONTAINS(hay, needle)                                                \
    do {                                                                               \
        check_count++;                                                                 \
        if (!strstr((hay), (needle))) {                                                \
            check_failures++;                                                          \
            fprintf(stderr, "%s:%d: expected \"%s\" in \"%s\"\n", __FILE__, __LINE__,  \
                    (needle), (hay));                                                  \
        }                                                                              \
    } while (0)

/* Ends main(): prints the summary line and returns the exit status. */
#define CHECK_DONE()                                                                   \
    (printf("%d passed, %d failed\n", check_count - check_failures, check_failures),   \
     check_failures != 0)

#endif
