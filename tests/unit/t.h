/*
 * t.h - the smallest possible unit-test harness.
 *
 * Each test file defines test functions and a main() that calls T_RUN() for
 * each and returns t_finish().  A failed check prints file:line and the
 * expression, marks the current test failed and carries on, so one run shows
 * every broken check.  The closing line is "N passed, N failed".
 */
#ifndef HG_T_H
#define HG_T_H

#include <stdio.h>
#include <string.h>

static int t_passed __attribute__((unused)), t_failed __attribute__((unused)),
    t_cur_failed __attribute__((unused));

#define T_CHECK(expr)                                                                              \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);             \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

#define T_EQ_INT(a, b)                                                                             \
    do {                                                                                           \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                    \
        if (t_a_ != t_b_) {                                                                        \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a,  \
                    t_a_, #b, t_b_);                                                               \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

#define T_EQ_STR(a, b)                                                                             \
    do {                                                                                           \
        const char *t_a_ = (a), *t_b_ = (b);                                                       \
        if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) {                                           \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,    \
                    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");                               \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

#define T_RUN(fn)                                                                                  \
    do {                                                                                           \
        t_cur_failed = 0;                                                                          \
        fn();                                                                                      \
        if (t_cur_failed) {                                                                        \
            t_failed++;                                                                            \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        } else {                                                                                   \
            t_passed++;                                                                            \
            fprintf(stderr, "ok   %s\n", #fn);                                                     \
        }                                                                                          \
    } while (0)

static inline int t_finish(void)
{
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed ? 1 : 0;
}

#endif
