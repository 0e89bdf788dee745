/*
 * unit.h — a tiny, dependency-free unit test harness for clinicbox.
 *
 * Each tests/unit/test_*.c is one executable registered with ctest. Write
 * static void test_x(void) functions using CHECK/CHECK_EQ_INT/CHECK_EQ_STR,
 * then list them in main() with RUN(test_x) and return unit_summary().
 * A failed CHECK prints file:line and the values, and the test continues,
 * so one run shows every failure. The exit status is non-zero on failure.
 */
#ifndef CLINICBOX_UNIT_H
#define CLINICBOX_UNIT_H

#include <stdio.h>
#include <string.h>
#include <stdint.h>

static int unit_failures;
static int unit_checks;
static int unit_tests;

#define CHECK(cond)                                                          \
    do {                                                                     \
        unit_checks++;                                                       \
        if (!(cond)) {                                                       \
            unit_failures++;                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

#define CHECK_EQ_INT(got, want)                                              \
    do {                                                                     \
        long long g_ = (long long)(got), w_ = (long long)(want);             \
        unit_checks++;                                                       \
        if (g_ != w_) {                                                      \
            unit_failures++;                                                 \
            fprintf(stderr, "%s:%d: %s == %lld, want %lld\n", __FILE__,      \
                    __LINE__, #got, g_, w_);                                 \
        }                                                                    \
    } while (0)

#define CHECK_EQ_STR(got, want)                                              \
    do {                                                                     \
        const char *g_ = (got), *w_ = (want);                                \
        unit_checks++;                                                       \
        if (!g_ || !w_ || strcmp(g_, w_) != 0) {                             \
            unit_failures++;                                                 \
            fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n", __FILE__,  \
                    __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
        }                                                                    \
    } while (0)

#define RUN(fn)                                                              \
    do {                                                                     \
        int before_ = unit_failures;                                         \
        unit_tests++;                                                        \
        fn();                                                                \
        fprintf(stderr, "%s %s\n", unit_failures == before_ ? "ok  " : "FAIL", #fn); \
    } while (0)

static inline int unit_summary(void)
{
    fprintf(stderr, "%d tests, %d checks, %d failed\n", unit_tests, unit_checks,
            unit_failures);
    return unit_failures ? 1 : 0;
}

#endif
