/*
 * buf_test.c - unit tests for the bounded growable buffer (gateway/buf.c).
 *
 * Covers: init, append/puts/reserve, NUL termination, the hard maximum
 * (exactly max accepted, max+1 -> HG_ETOOBIG with the buffer unchanged),
 * printf with short and long (> 256 byte) output, reset keeping the
 * allocation, and free being NULL-safe and leaving a reusable buffer.
 */
#include "buf.h"
#include "err.h"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

static void test_init_allocates_nothing(void)
{
    struct buf b;
    buf_init(&b, 100);
    T_CHECK(b.p == NULL);
    T_EQ_INT(b.len, 0);
    T_EQ_INT(b.cap, 0);
    T_EQ_INT(b.max, 100);
    buf_free(&b);
}

static void test_append_and_nul_termination(void)
{
    struct buf b;
    buf_init(&b, 1024);
    T_EQ_INT(buf_append(&b, "abc", 3), HG_OK);
    T_EQ_INT(b.len, 3);
    T_EQ_STR(b.p, "abc");
    T_EQ_INT(b.p[3], '\0');
    T_EQ_INT(buf_puts(&b, "def"), HG_OK);
    T_EQ_STR(b.p, "abcdef");
    T_EQ_INT(b.len, 6);
    /* binary data with embedded NULs is kept byte for byte */
    static const char bin[] = {'x', '\0', 'y', '\0'};
    T_EQ_INT(buf_append(&b, bin, sizeof(bin)), HG_OK);
    T_EQ_INT(b.len, 10);
    T_CHECK(memcmp(b.p, "abcdefx\0y\0", 10) == 0);
    T_EQ_INT(b.p[10], '\0');
    T_CHECK(b.cap >= b.len + 1);
    /* appending nothing is fine and still terminates */
    T_EQ_INT(buf_append(&b, NULL, 0), HG_OK);
    T_EQ_INT(b.len, 10);
    buf_free(&b);
}

static void test_append_empty_to_fresh_buffer_terminates(void)
{
    struct buf b;
    buf_init(&b, 16);
    T_EQ_INT(buf_puts(&b, ""), HG_OK);
    T_CHECK(b.p != NULL);
    T_EQ_INT(b.len, 0);
    T_EQ_STR(b.p, "");
    buf_free(&b);
}

static void test_reserve_allocates_once(void)
{
    struct buf b;
    buf_init(&b, 10000);
    T_EQ_INT(buf_reserve(&b, 5000), HG_OK);
    T_EQ_INT(b.len, 0);
    T_CHECK(b.p != NULL);
    T_CHECK(b.cap >= 5001);
    char *p = b.p;
    size_t cap = b.cap;
    char chunk[1000];
    memset(chunk, 'z', sizeof(chunk));
    for (int i = 0; i < 5; i++)
        T_EQ_INT(buf_append(&b, chunk, sizeof(chunk)), HG_OK);
    T_EQ_INT(b.len, 5000);
    T_CHECK(b.p == p); /* no reallocation after the reserve */
    T_EQ_INT(b.cap, cap);
    T_EQ_INT(b.p[5000], '\0');
    buf_free(&b);
}

static void test_reserve_beyond_max(void)
{
    struct buf b;
    buf_init(&b, 100);
    T_EQ_INT(buf_reserve(&b, 101), HG_ETOOBIG);
    T_CHECK(b.p == NULL);
    T_EQ_INT(buf_reserve(&b, SIZE_MAX), HG_ETOOBIG); /* no overflow in len + n */
    T_EQ_INT(buf_append(&b, "0123456789", 10), HG_OK);
    T_EQ_INT(buf_reserve(&b, 91), HG_ETOOBIG);
    T_EQ_INT(buf_reserve(&b, SIZE_MAX - 5), HG_ETOOBIG);
    T_EQ_INT(buf_reserve(&b, 90), HG_OK);
    T_EQ_INT(b.len, 10);
    T_CHECK(b.cap <= 101); /* never allocates past max + 1 */
    buf_free(&b);
}

static void test_exact_max_accepted(void)
{
    struct buf b;
    buf_init(&b, 10);
    T_EQ_INT(buf_append(&b, "0123456789", 10), HG_OK);
    T_EQ_INT(b.len, 10);
    T_EQ_STR(b.p, "0123456789");
    T_CHECK(b.cap <= 11);

    /* the same limit reached in pieces */
    struct buf c;
    buf_init(&c, 10);
    T_EQ_INT(buf_puts(&c, "01234"), HG_OK);
    T_EQ_INT(buf_puts(&c, "56789"), HG_OK);
    T_EQ_STR(c.p, "0123456789");
    T_EQ_INT(buf_append(&c, "", 0), HG_OK); /* zero bytes still fit when full */
    buf_free(&b);
    buf_free(&c);
}

/* check b still holds exactly "01234" after a refused append */
static void expect_unchanged(const struct buf *b, const char *p)
{
    T_EQ_INT(b->len, 5);
    T_CHECK(b->p == p);
    T_EQ_STR(b->p, "01234");
}

static void test_max_plus_one_refused_unchanged(void)
{
    struct buf b;
    buf_init(&b, 10);
    T_EQ_INT(buf_append(&b, "01234567890", 11), HG_ETOOBIG);
    T_CHECK(b.p == NULL);
    T_EQ_INT(b.len, 0);

    T_EQ_INT(buf_puts(&b, "01234"), HG_OK);
    const char *p = b.p;
    T_EQ_INT(buf_append(&b, "abcdef", 6), HG_ETOOBIG);
    expect_unchanged(&b, p);
    T_EQ_INT(buf_puts(&b, "abcdef"), HG_ETOOBIG);
    expect_unchanged(&b, p);
    T_EQ_INT(buf_printf(&b, "%s", "abcdef"), HG_ETOOBIG);
    expect_unchanged(&b, p);
    T_EQ_INT(buf_printf(&b, "%d", 123456), HG_ETOOBIG);
    expect_unchanged(&b, p);
    /* the remaining room is still usable */
    T_EQ_INT(buf_puts(&b, "abcde"), HG_OK);
    T_EQ_STR(b.p, "01234abcde");
    buf_free(&b);
}

static void test_max_zero(void)
{
    struct buf b;
    buf_init(&b, 0);
    T_EQ_INT(buf_append(&b, "", 0), HG_OK);
    T_EQ_STR(b.p, "");
    T_EQ_INT(buf_append(&b, "x", 1), HG_ETOOBIG);
    T_EQ_INT(b.len, 0);
    T_EQ_STR(b.p, "");
    buf_free(&b);
}

static void test_growth_many_small_appends(void)
{
    struct buf b;
    buf_init(&b, 5000);
    int ok = 1;
    for (int i = 0; i < 5000; i++) {
        char c = (char)('a' + i % 26);
        if (buf_append(&b, &c, 1) != HG_OK)
            ok = 0;
    }
    T_CHECK(ok);
    T_EQ_INT(b.len, 5000);
    T_CHECK(b.cap <= 5001);
    int same = 1;
    for (int i = 0; i < 5000; i++)
        if (b.p[i] != (char)('a' + i % 26))
            same = 0;
    T_CHECK(same);
    T_EQ_INT(b.p[5000], '\0');
    T_EQ_INT(buf_append(&b, "x", 1), HG_ETOOBIG);
    T_EQ_INT(b.len, 5000);
    buf_free(&b);
}

static void test_printf_short(void)
{
    struct buf b;
    buf_init(&b, 1024);
    T_EQ_INT(buf_puts(&b, "seq="), HG_OK);
    T_EQ_INT(buf_printf(&b, "%llu,%s,%c", 18446744073709551615ULL, "x", 'y'), HG_OK);
    T_EQ_STR(b.p, "seq=18446744073709551615,x,y");
    T_EQ_INT(b.len, strlen("seq=18446744073709551615,x,y"));
    T_EQ_INT(buf_printf(&b, "%s", ""), HG_OK);
    T_EQ_INT(b.len, strlen("seq=18446744073709551615,x,y"));
    buf_free(&b);
}

static void test_printf_large(void)
{
    /* > 256 bytes of output takes the second vsnprintf path */
    char big[1001];
    memset(big, 'Q', 1000);
    big[1000] = '\0';
    struct buf b;
    buf_init(&b, 4096);
    T_EQ_INT(buf_puts(&b, "<"), HG_OK);
    T_EQ_INT(buf_printf(&b, "%s|%d|%s", big, 42, big), HG_OK);
    T_EQ_INT(b.len, 1 + 1000 + 4 + 1000);
    T_EQ_INT(b.p[0], '<');
    T_CHECK(memcmp(b.p + 1, big, 1000) == 0);
    T_CHECK(memcmp(b.p + 1001, "|42|", 4) == 0);
    T_CHECK(memcmp(b.p + 1005, big, 1000) == 0);
    T_EQ_INT(b.p[b.len], '\0');
    T_EQ_INT(strlen(b.p), b.len);

    /* exactly 300 bytes, right at the limit */
    struct buf c;
    buf_init(&c, 300);
    T_EQ_INT(buf_printf(&c, "%.300s", big), HG_OK);
    T_EQ_INT(c.len, 300);
    T_EQ_INT(strlen(c.p), 300);
    /* a large printf past max is refused and changes nothing */
    struct buf d;
    buf_init(&d, 299);
    T_EQ_INT(buf_puts(&d, "ab"), HG_OK);
    T_EQ_INT(buf_printf(&d, "%.298s", big), HG_ETOOBIG);
    T_EQ_INT(d.len, 2);
    T_EQ_STR(d.p, "ab");
    T_EQ_INT(buf_printf(&d, "%.297s", big), HG_OK);
    T_EQ_INT(d.len, 299);
    buf_free(&b);
    buf_free(&c);
    buf_free(&d);
}

static void test_reset_keeps_allocation(void)
{
    struct buf b;
    buf_init(&b, 4096);
    T_EQ_INT(buf_reserve(&b, 2000), HG_OK);
    T_EQ_INT(buf_puts(&b, "hello"), HG_OK);
    char *p = b.p;
    size_t cap = b.cap;
    buf_reset(&b);
    T_EQ_INT(b.len, 0);
    T_CHECK(b.p == p);
    T_EQ_INT(b.cap, cap);
    T_EQ_STR(b.p, "");
    T_EQ_INT(b.max, 4096);
    T_EQ_INT(buf_puts(&b, "again"), HG_OK);
    T_CHECK(b.p == p);
    T_EQ_STR(b.p, "again");

    /* reset on a never-used buffer is harmless */
    struct buf e;
    buf_init(&e, 8);
    buf_reset(&e);
    T_CHECK(e.p == NULL);
    T_EQ_INT(e.len, 0);
    buf_free(&b);
}

static void test_free_null_safe_and_reusable(void)
{
    buf_free(NULL); /* must not crash */
    struct buf b;
    buf_init(&b, 64);
    buf_free(&b); /* never allocated */
    T_CHECK(b.p == NULL);
    T_EQ_INT(buf_puts(&b, "one"), HG_OK);
    buf_free(&b);
    T_CHECK(b.p == NULL);
    T_EQ_INT(b.len, 0);
    T_EQ_INT(b.cap, 0);
    T_EQ_INT(b.max, 64); /* the limit survives: reusable after free */
    T_EQ_INT(buf_puts(&b, "two"), HG_OK);
    T_EQ_STR(b.p, "two");
    buf_free(&b);
    buf_free(&b); /* double free of the struct is safe */
    T_CHECK(b.p == NULL);
}

/* max = SIZE_MAX ("no limit") must work like any other maximum.  buf_reserve
 * clamps the allocation to max + 1, which wraps to 0 for SIZE_MAX: the
 * buffer is then realloc'ed to 0 bytes and written past (cap stays 0). */
static void test_max_size_max(void)
{
    struct buf b;
    buf_init(&b, SIZE_MAX);
    T_EQ_INT(buf_append(&b, "abc", 3), HG_OK);
    T_CHECK(b.cap >= b.len + 1); /* struct invariant: cap includes the NUL */
    if (b.cap >= b.len + 1) {    /* only go on if the first append was sound */
        T_EQ_INT(buf_append(&b, "def", 3), HG_OK);
        T_EQ_STR(b.p, "abcdef");
    }
    buf_free(&b);
}

int main(void)
{
    T_RUN(test_init_allocates_nothing);
    T_RUN(test_append_and_nul_termination);
    T_RUN(test_append_empty_to_fresh_buffer_terminates);
    T_RUN(test_reserve_allocates_once);
    T_RUN(test_reserve_beyond_max);
    T_RUN(test_exact_max_accepted);
    T_RUN(test_max_plus_one_refused_unchanged);
    T_RUN(test_max_zero);
    T_RUN(test_growth_many_small_appends);
    T_RUN(test_printf_short);
    T_RUN(test_printf_large);
    T_RUN(test_reset_keeps_allocation);
    T_RUN(test_free_null_safe_and_reusable);
    T_RUN(test_max_size_max); /* last: memory error under ASan (bug) */
    return t_finish();
}
