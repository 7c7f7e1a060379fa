/*
 * log_test.c - unit tests for the log rate limit (gateway/log.c) and for
 * masking URLs and paths (gateway/mask.c).
 *
 * Covers: a key writes its burst and then nothing until tokens come back;
 * keys are independent; the suppressed count comes out as one summary line
 * (by log_flush_suppressed, and before the key's next written line once a
 * second has passed) and adds up to exactly what was dropped; more keys
 * than slots share the overflow slot, bounded; no limit when switched off.
 * mask_url: userinfo, query values, a bare query parameter, the fragment,
 * long path segments whatever they hold, NATS token@, no scheme, non-ASCII
 * bytes, truncation.  mask_path: a kept prefix, masked segments, the query.
 */
#include "log.h"
#include "mask.h"
#include "t.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* capture - stderr goes to a temp file until uncapture(), which returns
 * what was written (malloc'd) */
static int saved_fd = -1;
static FILE *cap_file;

static void capture(void)
{
    (void)fflush(stderr);
    cap_file = tmpfile();
    saved_fd = dup(2);
    if (!cap_file || saved_fd < 0 || dup2(fileno(cap_file), 2) < 0)
        abort();
}

static char *uncapture(void)
{
    (void)fflush(stderr);
    if (dup2(saved_fd, 2) < 0)
        abort();
    close(saved_fd);
    long n = ftell(cap_file);
    char *s = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    if (!s)
        abort();
    rewind(cap_file);
    if (n > 0 && fread(s, 1, (size_t)n, cap_file) != (size_t)n)
        s[0] = '\0';
    (void)fclose(cap_file);
    return s;
}

/* count - lines of text with "msg":msg; *sum gets the total of their
 * "suppressed" (when not NULL) */
static int count(const char *text, const char *msg, long long *sum)
{
    int n = 0;
    if (sum)
        *sum = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_t *j = json_loadb(p, len, 0, NULL);
        const char *m = json_string_value(json_object_get(j, "msg"));
        if (m && !strcmp(m, msg)) {
            n++;
            if (sum)
                *sum += json_integer_value(json_object_get(j, "suppressed"));
        }
        json_decref(j);
        p += len + (nl ? 1 : 0);
    }
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_limit_burst_then_refill(void)
{
    log_limit_set(10, 5);
    int ok = 0;
    for (int i = 0; i < 100; i++)
        ok += log_limit("/hooks/a", "signature mismatch");
    T_EQ_INT(ok, 5); /* the burst, then nothing (the loop takes far less than 100 ms) */
    sleep_ms(250);   /* 10 a second: two tokens back */
    ok = 0;
    for (int i = 0; i < 100; i++)
        ok += log_limit("/hooks/a", "signature mismatch");
    T_CHECK(ok >= 2 && ok <= 3);
    /* another reason, another route: their own buckets */
    T_EQ_INT(log_limit("/hooks/a", "timestamp outside tolerance"), 1);
    T_EQ_INT(log_limit("/hooks/b", "signature mismatch"), 1);
    log_limit_set(LOG_LIMIT_RATE, LOG_LIMIT_BURST);
}

static void test_limit_summary_counts_every_drop(void)
{
    log_limit_set(10, 3);
    capture();
    int ok = 0;
    for (int i = 0; i < 1000; i++)
        ok += log_limit("/hooks/a", "signature mismatch");
    log_flush_suppressed();
    log_flush_suppressed(); /* nothing new: no second line */
    char *out = uncapture();
    long long sum;
    T_EQ_INT(ok, 3);
    T_EQ_INT(count(out, "log lines suppressed", &sum), 1);
    T_EQ_INT(sum, 997);
    T_CHECK(strstr(out, "\"route\":\"/hooks/a\"") &&
            strstr(out, "\"reason\":\"signature mismatch\""));
    free(out);

    /* without the timer: the summary comes before the key's next written
     * line, once a second has passed since the last */
    capture();
    for (int i = 0; i < 50; i++)
        log_limit("/hooks/a", "signature mismatch");
    sleep_ms(1100);
    T_EQ_INT(log_limit("/hooks/a", "signature mismatch"), 1);
    out = uncapture();
    T_EQ_INT(count(out, "log lines suppressed", &sum), 1);
    T_EQ_INT(sum, 50);
    free(out);
    log_limit_set(LOG_LIMIT_RATE, LOG_LIMIT_BURST);
}

static void test_limit_many_keys_bounded(void)
{
    log_limit_set(10, 2);
    capture();
    int ok = 0;
    char route[32];
    for (int i = 0; i < 10000; i++) { /* a client varying the key at will */
        snprintf(route, sizeof(route), "/x/%d", i);
        ok += log_limit(route, "r");
    }
    log_flush_suppressed();
    char *out = uncapture();
    long long sum;
    /* each slot its burst, the overflow slot too */
    T_CHECK(ok <= (LOG_LIMIT_SLOTS + 1) * 2);
    count(out, "log lines suppressed", &sum);
    T_EQ_INT(ok + sum, 10000);
    T_CHECK(strstr(out, "\"route\":\"*\"") != NULL);
    free(out);
    log_limit_set(0, 0); /* off: everything passes */
    ok = 0;
    for (int i = 0; i < 1000; i++)
        ok += log_limit("/hooks/a", "r");
    T_EQ_INT(ok, 1000);
    log_limit_set(LOG_LIMIT_RATE, LOG_LIMIT_BURST);
}

static void test_limit_long_and_odd_keys(void)
{
    log_limit_set(10, 1);
    char big[400];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    T_EQ_INT(log_limit(big, big), 1);
    T_EQ_INT(log_limit(big, big), 0);
    big[300] = 'b'; /* differs past what tells keys apart: the same key */
    T_EQ_INT(log_limit(big, big), 0);
    capture();
    T_EQ_INT(log_limit("/p\n\xc2\x9b", ""), 1);
    T_EQ_INT(log_limit("/p\n\xc2\x9b", ""), 0);
    log_flush_suppressed();
    char *out = uncapture();
    T_CHECK(strstr(out, "\"route\":\"/p???\"") != NULL); /* cleaned for the line */
    free(out);
    log_limit_set(LOG_LIMIT_RATE, LOG_LIMIT_BURST);
}

#define URL(in, want)                                                                              \
    do {                                                                                           \
        char o_[256];                                                                              \
        T_EQ_STR(mask_url(in, o_, sizeof(o_)), want);                                              \
    } while (0)

static void test_mask_url(void)
{
    URL("http://127.0.0.1:9/hooks", "http://127.0.0.1:9/hooks");
    URL("https://user:pa%40ss@orders.internal/in", "https://***@orders.internal/in");
    URL("https://u:p@ss@h/in", "https://***@h/in"); /* the last '@' ends the userinfo */
    URL("nats://s3cr3tToken@10.0.0.5:4222", "nats://***@10.0.0.5:4222");
    URL("https://h/in?token=secret&x=y", "https://h/in?token=***&x=***");
    URL("https://h/in?TOKENONLY", "https://h/in?***");
    URL("https://h/in?a=&b=1;c=2", "https://h/in?a=&b=***;c=***");
    URL("https://h/in#frag", "https://h/in#***");
    URL("https://h/in?a=1#", "https://h/in?a=***#");
    URL("https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/services/T0000/B0000/***");
    URL("https://h/api/webhooks/123/!@$%^&*()_+{}|:<>?x=1", "https://h/api/webhooks/123/***?x=***");
    URL("https://h/p/short!@$", "https://h/p/short!@$");
    URL("https://h", "https://h");
    URL("https://h?q=1", "https://h?q=***");
    URL("/just/a/path?k=v", "/just/a/path?k=***");
    URL("https://h/\x1b[31m\xc2\x9b", "https://h/?[31m??");
    URL("", "");
    char small[12];
    T_EQ_STR(mask_url("https://user:pw@h/x", small, sizeof(small)), "https://***");
    T_EQ_STR(mask_url(NULL, small, sizeof(small)), "");
}

#define PATH(in, keep, want)                                                                       \
    do {                                                                                           \
        char o_[256];                                                                              \
        T_EQ_STR(mask_path(in, keep, o_, sizeof(o_)), want);                                       \
    } while (0)

static void test_mask_path(void)
{
    PATH("/hooks/hubexx/SECRETTOKEN", 6, "/hooks/.../...");
    PATH("/hooks/t/a!b@c/x", 8, "/hooks/t/.../...");
    PATH("/x\xff\xfe", 0, "/...");
    PATH("/hooks/", 6, "/hooks/");
    PATH("/a//b/", 0, "/...//.../");
    PATH("/hooks/x?token=abc", 6, "/hooks/...?token=***");
    PATH("/hooks", 99, "/hooks");
    PATH("no-slash", 0, "...");
    PATH("", 0, "");
}

int main(void)
{
    T_RUN(test_limit_burst_then_refill);
    T_RUN(test_limit_summary_counts_every_drop);
    T_RUN(test_limit_many_keys_bounded);
    T_RUN(test_limit_long_and_odd_keys);
    T_RUN(test_mask_url);
    T_RUN(test_mask_path);
    return t_finish();
}
