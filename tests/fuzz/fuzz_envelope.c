/*
 * fuzz_envelope.c - libFuzzer driver for event_envelope (gateway/event.c).
 *
 * The input is split at its first three newlines into id \n type \n time \n
 * body (missing fields are empty); id, type and time must be valid UTF-8 as
 * extract.c guarantees (others are skipped); the body kind is chosen as
 * http.c does: JSON when jscan accepts it, else TEXT for valid UTF-8, else
 * BINARY.  The event also goes through event_rec_write/event_rec_parse first,
 * as the store does.  Invariants:
 *  - the record round trip gives back every field;
 *  - the envelope is exactly one line (one '\n', at the end), appended after
 *    what the buffer held, and parses with jansson as an object holding
 *    specversion "1.0", id, source, type, time, datacontenttype,
 *    hookgateseq, hookgateroute and hookgatereceived, with id/type/source/
 *    route equal to the inputs and time the input time (or the receipt time);
 *  - data: a JSON body is the same JSON value (when jansson itself accepts
 *    the body: it refuses some texts jscan accepts, e.g. integers beyond
 *    64 bits), a TEXT body the same string, a BINARY body data_base64 of it;
 *  - a buffer too small fails with HG_ETOOBIG and leaves it unchanged.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_envelope (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).
 */
#include "buf.h"
#include "codec.h"
#include "err.h"
#include "event.h"
#include "jscan.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQ      4242ULL
#define RECEIVED 1763846959123LL
#define PREFIX   "previous line\n"

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_envelope: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static struct event_str field(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    struct event_str s = {(const char *)*data, n};
    *data += nl ? n + 1 : n;
    *size -= nl ? n + 1 : n;
    return s;
}

static int str_is(json_t *o, const char *key, const struct event_str *want)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) && json_string_length(v) == want->len &&
           (want->len == 0 || !memcmp(json_string_value(v), want->p, want->len));
}

static void check_envelope(const struct event *ev, const char *line, size_t len)
{
    if (len < 2 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
        die("not exactly one line", NULL);
    if (memchr(line, '\r', len))
        die("a raw CR in the line", NULL);
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        /* tolerated only where jansson refuses the producer's JSON body itself
         * (with the same flags: a body may repeat a key hookgate does not read,
         * which RFC 8259 allows and hookgate stores as sent) */
        json_t *b =
            ev->body_kind == EVENT_BODY_JSON
                ? json_loadb(ev->body.p, ev->body.len,
                             JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL)
                : NULL;
        if (b)
            die("the envelope is not JSON", je.text);
        if (ev->body_kind != EVENT_BODY_JSON)
            die("the envelope of a non-JSON body is not JSON", je.text);
        return;
    }
    if (!json_is_object(o))
        die("the envelope is not an object", NULL);
    static const char *const required[] = {"specversion",
                                           "id",
                                           "source",
                                           "type",
                                           "time",
                                           "datacontenttype",
                                           "hookgateseq",
                                           "hookgateroute",
                                           "hookgatereceived",
                                           NULL};
    for (int i = 0; required[i]; i++)
        if (!json_object_get(o, required[i]))
            die("a required member is missing", required[i]);
    char received[40];
    time_format_ms(ev->received_ms, received, sizeof(received));
    struct event_str recv = {received, strlen(received)}, v10 = {"1.0", 3};
    if (!str_is(o, "specversion", &v10) || !str_is(o, "id", &ev->id) ||
        !str_is(o, "type", &ev->type) || !str_is(o, "source", &ev->source) ||
        !str_is(o, "hookgateroute", &ev->route) || !str_is(o, "hookgatereceived", &recv) ||
        !str_is(o, "time", ev->time.len ? &ev->time : &recv))
        die("a member differs from the event", NULL);
    json_t *seq = json_object_get(o, "hookgateseq");
    if (!json_is_integer(seq) || (uint64_t)json_integer_value(seq) != SEQ)
        die("hookgateseq", NULL);
    json_t *ct = json_object_get(o, "datacontenttype");
    if (!json_is_string(ct))
        die("datacontenttype is not a string", NULL);
    json_t *data = json_object_get(o, "data");
    if (ev->body_kind == EVENT_BODY_JSON) {
        json_t *b = json_loadb(ev->body.p, ev->body.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (b && (!data || !json_equal(data, b)))
            die("data is not the JSON body", NULL);
        json_decref(b);
        if (strcmp(json_string_value(ct), "application/json"))
            die("datacontenttype of a JSON body", json_string_value(ct));
    } else if (ev->body_kind == EVENT_BODY_TEXT) {
        if (!str_is(o, "data", &ev->body))
            die("data is not the text body", NULL);
        if (strcmp(json_string_value(ct), "text/plain"))
            die("datacontenttype of a text body", json_string_value(ct));
    } else {
        json_t *b64 = json_object_get(o, "data_base64");
        size_t n = 0;
        unsigned char *dec = malloc(ev->body.len + 1);
        if (!dec)
            abort();
        if (!json_is_string(b64) || data ||
            b64_decode(json_string_value(b64), json_string_length(b64), dec, ev->body.len + 1,
                       &n) != HG_OK ||
            n != ev->body.len || (n && memcmp(dec, ev->body.p, n)))
            die("data_base64 is not the binary body", NULL);
        free(dec);
    }
    json_decref(o);
}

static void check_record(const struct event *ev)
{
    size_t n = event_rec_size(ev);
    unsigned char *rec = malloc(n);
    if (!rec)
        abort();
    event_rec_write(ev, rec);
    struct event back;
    if (event_rec_parse(rec, n, &back) != HG_OK)
        die("event_rec_parse refused a written record", NULL);
    const struct event_str *a[7] = {&ev->route, &ev->source, &ev->id,  &ev->type,
                                    &ev->time,  &ev->ctype,  &ev->body};
    const struct event_str *b[7] = {&back.route, &back.source, &back.id,  &back.type,
                                    &back.time,  &back.ctype,  &back.body};
    for (int i = 0; i < 7; i++)
        if (a[i]->len != b[i]->len || (a[i]->len && memcmp(a[i]->p, b[i]->p, a[i]->len)))
            die("record field differs", NULL);
    if (back.body_kind != ev->body_kind || back.received_ms != ev->received_ms)
        die("record header differs", NULL);
    if (n > 0 && event_rec_parse(rec, n - 1, &back) == HG_OK)
        die("a truncated record parsed", NULL);
    free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event ev = {0};
    ev.id = field(&data, &size);
    ev.type = field(&data, &size);
    ev.time = field(&data, &size);
    if (ev.id.len > EVENT_STR_MAX || ev.type.len > EVENT_STR_MAX || ev.time.len > EVENT_STR_MAX ||
        !jscan_utf8_valid(ev.id.p, ev.id.len) || !jscan_utf8_valid(ev.type.p, ev.type.len) ||
        !jscan_utf8_valid(ev.time.p, ev.time.len))
        return 0;
    /* an exact-size copy of the body: reading past it is an ASan report */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    ev.body = (struct event_str){body, size};
    ev.route = (struct event_str){"fuzz", 4};
    ev.source = (struct event_str){"/hooks/fuzz", 11};
    ev.received_ms = RECEIVED;
    ev.body_kind = jscan_scan(body, size, NULL, NULL, 0, NULL) == JSCAN_OK ? EVENT_BODY_JSON
                   : jscan_utf8_valid(body, size)                          ? EVENT_BODY_TEXT
                                                                           : EVENT_BODY_BINARY;
    check_record(&ev);

    struct buf b;
    buf_init(&b, 64 + 8 * size + (size_t)8 * EVENT_STR_MAX);
    if (buf_puts(&b, PREFIX) != HG_OK)
        die("buf_puts", NULL);
    if (event_envelope(&ev, SEQ, &b) != HG_OK)
        die("event_envelope failed within its bound", NULL);
    if (strncmp(b.p, PREFIX, strlen(PREFIX)) || b.p[b.len] != '\0')
        die("the buffer's content was disturbed", NULL);
    check_envelope(&ev, b.p + strlen(PREFIX), b.len - strlen(PREFIX));

    /* too small: HG_ETOOBIG, the buffer as it was */
    size_t full = b.len;
    buf_free(&b);
    buf_init(&b, full - 1);
    if (buf_puts(&b, PREFIX) != HG_OK)
        die("buf_puts", NULL);
    if (event_envelope(&ev, SEQ, &b) != HG_ETOOBIG)
        die("no HG_ETOOBIG one byte short", NULL);
    if (b.len != strlen(PREFIX) || strcmp(b.p, PREFIX))
        die("a failed envelope left bytes behind", NULL);
    buf_free(&b);
    free(body);
    return 0;
}
