/*
 * fuzz_record.c - libFuzzer driver for what the console reads back from the
 * store: event_rec_parse on arbitrary bytes (a damaged record, one with the
 * headers flag and a lying length), and the time arguments of its API
 * (console_time_arg).
 *
 * Invariants:
 *  - a record that parses has every field inside the input (the parser's
 *    lengths are checked against the record's own length), headers at most
 *    EVENT_HEADERS_MAX; its envelope renders, and a record written from the
 *    parsed event parses again to the same fields;
 *  - console_time_arg never reads past the NUL and accepts only digits or
 *    an RFC 3339 UTC time.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_record.
 */
#include "buf.h"
#include "console_int.h"
#include "err.h"
#include "event.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
    fprintf(stderr, "fuzz_record: %s\n", what);
    abort();
}

static int inside(const struct event_str *s, const uint8_t *data, size_t size)
{
    return s->len == 0 ||
           ((const uint8_t *)s->p >= data && (const uint8_t *)s->p + s->len <= data + size);
}

static int same(const struct event_str *a, const struct event_str *b)
{
    return a->len == b->len && (!a->len || !memcmp(a->p, b->p, a->len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event ev;
    if (event_rec_parse(data, size, &ev) == HG_OK) {
        const struct event_str *f[] = {&ev.route, &ev.source, &ev.id,   &ev.type,
                                       &ev.time,  &ev.ctype,  &ev.body, &ev.headers};
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
            if (!inside(f[i], data, size))
                die("a field points outside the record");
        if (ev.headers.len > EVENT_HEADERS_MAX)
            die("headers over EVENT_HEADERS_MAX");
        struct buf b;
        buf_init(&b, 64u << 20);
        int rc = event_envelope(&ev, 1, &b);
        buf_free(&b);
        if (rc && rc != HG_ETOOBIG && rc != HG_ENOMEM)
            die("envelope failed");
        size_t n = event_rec_size(&ev);
        unsigned char *rec = malloc(n ? n : 1);
        if (!rec)
            return 0;
        event_rec_write(&ev, rec);
        struct event back;
        if (event_rec_parse(rec, n, &back) != HG_OK)
            die("a rewritten record does not parse");
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
            const struct event_str *g[] = {&back.route, &back.source, &back.id,   &back.type,
                                           &back.time,  &back.ctype,  &back.body, &back.headers};
            if (!same(f[i], g[i]))
                die("a field changed in the round trip");
        }
        free(rec);
    }
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t ms;
    if (console_time_arg(s, &ms) == HG_OK && strlen(s) && strspn(s, "0123456789") != strlen(s) &&
        !strchr(s, 'T'))
        die("a time without digits-only or 'T' accepted");
    free(s);
    return 0;
}
