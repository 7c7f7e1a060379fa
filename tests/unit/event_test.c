/*
 * event_test.c - unit tests for event records and envelopes (gateway/event.c).
 *
 * Covers: record write/parse round trips (all fields, empty strings, binary
 * bodies with NULs, longest strings, unaligned buffers), rejection of
 * truncated records, bad magic, bad body kind and length mismatches; the
 * CloudEvents envelope for JSON (embedded verbatim), text (escaped string)
 * and binary (data_base64) bodies, time falling back to the received time,
 * every required attribute present (checked by parsing with jansson),
 * exactly one trailing newline, escaping of hostile ids, and HG_ETOOBIG
 * leaving the output buffer exactly as it was.  And what an id or type may
 * hold: the forbidden classes (C0, DEL, C1, U+2028/U+2029, bidirectional
 * controls), UTF-8 checking, and the terminal forms of stored text ('?' in
 * lists; JSON escapes with the same meaning for `events show`).
 */
#include "buf.h"
#include "codec.h"
#include "err.h"
#include "event.h"
#include "t.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>

#define REC_HDR 32 /* magic, kind, pad, received_ms, 6 x u16, u32 (event.c) */

static struct event_str S(const char *s) {
    struct event_str e = {s, strlen(s)};
    return e;
}

static struct event
sample(void)
{
    struct event ev = {
        .route = S("iex"),
        .source = S("/hooks/iex"),
        .id = S("evt_01JD3E789674A"),
        .type = S("order.status_changed"),
        .time = S("2026-06-23T10:00:00Z"),
        .ctype = S("application/json"),
        .body = S("{\"event_id\":\"evt_01JD3E789674A\",\"data\":{\"n\":1}}"),
        .body_kind = EVENT_BODY_JSON,
        .received_ms = 1763846959123LL,
    };
    return ev;
}

static int str_eq(struct event_str a, struct event_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* write ev into a fresh buffer at an odd offset; *rec gets the record */
static unsigned char *write_rec(const struct event *ev, unsigned char **rec, size_t *len)
{
    *len = event_rec_size(ev);
    unsigned char *mem = malloc(*len + 1);
    *rec = mem + 1; /* records must not need alignment */
    event_rec_write(ev, *rec);
    return mem;
}

static void round_trip(const struct event *ev)
{
    unsigned char *rec;
    size_t len;
    unsigned char *mem = write_rec(ev, &rec, &len);
    struct event out;
    memset(&out, 0xa5, sizeof(out));
    T_EQ_INT(event_rec_parse(rec, len, &out), HG_OK);
    T_CHECK(str_eq(out.route, ev->route));
    T_CHECK(str_eq(out.source, ev->source));
    T_CHECK(str_eq(out.id, ev->id));
    T_CHECK(str_eq(out.type, ev->type));
    T_CHECK(str_eq(out.time, ev->time));
    T_CHECK(str_eq(out.ctype, ev->ctype));
    T_CHECK(str_eq(out.body, ev->body));
    T_EQ_INT(out.body_kind, ev->body_kind);
    T_EQ_INT(out.received_ms, ev->received_ms);
    /* fields point into the record itself (no copy) */
    const char *lo = (const char *)rec, *hi = (const char *)rec + len;
    T_CHECK(out.id.p >= lo && out.id.p + out.id.len <= hi);
    T_CHECK(out.body.p >= lo && out.body.p + out.body.len <= hi);
    free(mem);
}

/* ---- records ---------------------------------------------------------------- */

static void test_rec_round_trip_all_fields(void)
{
    struct event ev = sample();
    T_EQ_INT(event_rec_size(&ev), REC_HDR + ev.route.len + ev.source.len + ev.id.len + ev.type.len +
                                      ev.time.len + ev.ctype.len + ev.body.len);
    round_trip(&ev);
    ev.body_kind = EVENT_BODY_TEXT;
    ev.received_ms = -1; /* before the epoch survives too */
    round_trip(&ev);
    ev.received_ms = INT64_MAX;
    round_trip(&ev);
    ev.received_ms = INT64_MIN;
    round_trip(&ev);
}

static void test_rec_empty_strings(void)
{
    struct event ev;
    memset(&ev, 0, sizeof(ev));
    ev.route = S("");
    ev.source = S("");
    ev.id = S("");
    ev.type = S("");
    ev.time = S("");
    ev.ctype = S("");
    ev.body = S("");
    ev.body_kind = EVENT_BODY_TEXT;
    T_EQ_INT(event_rec_size(&ev), REC_HDR);
    round_trip(&ev);
    /* NULL pointers with length 0 are fine as well */
    memset(&ev, 0, sizeof(ev));
    ev.id = S("only-id");
    round_trip(&ev);
}

static void test_rec_binary_body(void)
{
    static const char body[] = {0, 1, 2, 0, (char)0xff, (char)0x80, 0, 'x', 0};
    struct event ev = sample();
    ev.body.p = body;
    ev.body.len = sizeof(body);
    ev.body_kind = EVENT_BODY_BINARY;
    ev.ctype = S("");
    round_trip(&ev);
    /* NULs inside string fields too: records are length-prefixed */
    static const char odd_id[] = {'a', 0, 'b'};
    ev.id.p = odd_id;
    ev.id.len = 3;
    round_trip(&ev);
}

static void test_rec_longest_strings_and_big_body(void)
{
    char *big = malloc(EVENT_STR_MAX);
    memset(big, 'L', EVENT_STR_MAX);
    size_t blen = 300000; /* > 64 KiB: the body length is 32 bits */
    char *body = malloc(blen);
    for (size_t i = 0; i < blen; i++)
        body[i] = (char)(i * 7);
    struct event ev = sample();
    struct event_str s = {big, EVENT_STR_MAX};
    ev.route = ev.source = ev.id = ev.type = ev.time = ev.ctype = s;
    ev.body.p = body;
    ev.body.len = blen;
    ev.body_kind = EVENT_BODY_BINARY;
    round_trip(&ev);
    free(big);
    free(body);
}

static void test_rec_parse_rejects_truncated(void)
{
    struct event ev = sample();
    unsigned char *rec;
    size_t len;
    unsigned char *mem = write_rec(&ev, &rec, &len);
    struct event out;
    int all = 1;
    for (size_t n = 0; n < len; n++) /* every proper prefix is refused */
        if (event_rec_parse(rec, n, &out) != HG_EINVAL)
            all = 0;
    T_CHECK(all);
    T_EQ_INT(event_rec_parse(rec, len, &out), HG_OK);
    free(mem);

    /* a longer buffer than the record says is refused as well */
    unsigned char *longer = malloc(len + 1);
    event_rec_write(&ev, longer);
    longer[len] = 0;
    T_EQ_INT(event_rec_parse(longer, len + 1, &out), HG_EINVAL);
    free(longer);
}

static void test_rec_parse_rejects_bad_header(void)
{
    struct event ev = sample();
    unsigned char *rec;
    size_t len;
    unsigned char *mem = write_rec(&ev, &rec, &len);
    struct event out;
    for (int i = 0; i < 4; i++) { /* each magic byte */
        rec[i] ^= 0x20;
        T_EQ_INT(event_rec_parse(rec, len, &out), HG_EINVAL);
        rec[i] ^= 0x20;
    }
    rec[4] = 3; /* body kind out of range */
    T_EQ_INT(event_rec_parse(rec, len, &out), HG_EINVAL);
    rec[4] = 0xff;
    T_EQ_INT(event_rec_parse(rec, len, &out), HG_EINVAL);
    rec[4] = EVENT_BODY_JSON;
    T_EQ_INT(event_rec_parse(rec, len, &out), HG_OK);

    /* body length field one more / one less than the bytes present */
    rec[28]++;
    T_EQ_INT(event_rec_parse(rec, len, &out), HG_EINVAL);
    rec[28] -= 2;
    T_EQ_INT(event_rec_parse(rec, len, &out), HG_EINVAL);
    rec[28]++;
    /* a string length pointing past the end */
    rec[16 + 2 * 2 + 1] = 0xff; /* id length high byte */
    T_EQ_INT(event_rec_parse(rec, len, &out), HG_EINVAL);
    free(mem);
}

/* ---- envelopes --------------------------------------------------------------- */

/* render ev as seq into a fresh buffer and parse it with jansson */
static json_t *render(const struct event *ev, uint64_t seq, struct buf *b)
{
    buf_init(b, 1 << 20);
    T_EQ_INT(event_envelope(ev, seq, b), HG_OK);
    if (!b->p)
        return NULL;
    json_error_t e;
    json_t *o = json_loadb(b->p, b->len, 0, &e);
    if (!o)
        fprintf(stderr, "  envelope is not JSON: %s: %s\n", e.text, b->p);
    T_CHECK(json_is_object(o));
    return o;
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void test_envelope_required_attributes(void)
{
    struct event ev = sample();
    struct buf b;
    json_t *o = render(&ev, 42, &b);
    char received[40];
    time_format_ms(ev.received_ms, received, sizeof(received));
    T_EQ_STR(jstr(o, "specversion"), "1.0");
    T_EQ_STR(jstr(o, "id"), "evt_01JD3E789674A");
    T_EQ_STR(jstr(o, "source"), "/hooks/iex");
    T_EQ_STR(jstr(o, "type"), "order.status_changed");
    T_EQ_STR(jstr(o, "time"), "2026-06-23T10:00:00Z");
    T_EQ_STR(jstr(o, "datacontenttype"), "application/json");
    T_CHECK(json_is_integer(json_object_get(o, "hookgateseq")));
    T_EQ_INT(json_integer_value(json_object_get(o, "hookgateseq")), 42);
    T_EQ_STR(jstr(o, "hookgateroute"), "iex");
    T_EQ_STR(jstr(o, "hookgatereceived"), received);
    T_EQ_STR(received, "2025-11-22T21:29:19.123Z");
    T_CHECK(json_object_get(o, "data") != NULL);
    T_CHECK(json_object_get(o, "data_base64") == NULL);
    T_EQ_INT(json_object_size(o), 10);
    json_decref(o);
    buf_free(&b);
}

static void test_envelope_json_body_verbatim(void)
{
    struct event ev = sample();
    /* whitespace and key order as the producer sent them, except that a
     * line break between tokens becomes a space: one event, one line */
    ev.body = S("{ \"z\" : [1, 2.50, {\"b\":null}],\r\n \"a\":\"\\u00e9\" }");
    ev.ctype = S("");
    struct buf b;
    json_t *o = render(&ev, 1, &b);
    T_CHECK(strstr(b.p, ",\"data\":{ \"z\" : [1, 2.50, {\"b\":null}],   \"a\":\"\\u00e9\" },") !=
            NULL);
    T_EQ_STR(jstr(o, "datacontenttype"), "application/json"); /* by body kind */
    json_t *data = json_object_get(o, "data");
    T_CHECK(json_is_object(data));
    T_EQ_STR(jstr(data, "a"), "\xc3\xa9");
    T_CHECK(json_is_array(json_object_get(data, "z")));
    json_decref(o);
    buf_free(&b);

    /* scalar JSON bodies too */
    ev.body = S("\"just a string\"");
    o = render(&ev, 2, &b);
    T_EQ_STR(jstr(o, "data"), "just a string");
    json_decref(o);
    buf_free(&b);
}

static void test_envelope_text_body_escaped(void)
{
    static const char text[] = "New user signed up: \"bob\" \\ tab\there\nline2 \x01 caf\xc3\xa9";
    struct event ev = sample();
    ev.body = S(text);
    ev.body_kind = EVENT_BODY_TEXT;
    ev.ctype = S("");
    struct buf b;
    json_t *o = render(&ev, 3, &b);
    T_CHECK(json_is_string(json_object_get(o, "data")));
    T_EQ_STR(jstr(o, "data"), text);
    T_EQ_STR(jstr(o, "datacontenttype"), "text/plain");
    T_CHECK(json_object_get(o, "data_base64") == NULL);
    json_decref(o);
    buf_free(&b);
}

static void test_envelope_binary_body_base64(void)
{
    unsigned char body[300];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (unsigned char)(i * 131 + 7);
    body[0] = 0;
    body[5] = 0;
    /* every remainder mod 3, and the empty body */
    static const size_t lens[] = {0, 1, 2, 3, 4, 5, 299, 300};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        struct event ev = sample();
        ev.body.p = (const char *)body;
        ev.body.len = lens[k];
        ev.body_kind = EVENT_BODY_BINARY;
        ev.ctype = S("");
        unsigned char want[4 * 101 + 1];
        EVP_EncodeBlock(want, body, (int)lens[k]);
        struct buf b;
        json_t *o = render(&ev, 4, &b);
        T_EQ_STR(jstr(o, "data_base64"), (const char *)want);
        T_CHECK(json_object_get(o, "data") == NULL);
        T_EQ_STR(jstr(o, "datacontenttype"), "application/octet-stream");
        /* and it decodes back to the body */
        const char *got = jstr(o, "data_base64");
        unsigned char back[300];
        size_t n = 999;
        T_CHECK(got && b64_decode(got, strlen(got), back, sizeof(back), &n) == HG_OK);
        T_EQ_INT(n, lens[k]);
        T_CHECK(n == lens[k] && memcmp(back, body, n) == 0);
        json_decref(o);
        buf_free(&b);
    }
}

static void test_envelope_explicit_content_type(void)
{
    struct event ev = sample();
    ev.ctype = S("application/vnd.iex+json; charset=utf-8");
    struct buf b;
    json_t *o = render(&ev, 5, &b);
    T_EQ_STR(jstr(o, "datacontenttype"), "application/vnd.iex+json; charset=utf-8");
    json_decref(o);
    buf_free(&b);
}

static void test_envelope_time_falls_back_to_received(void)
{
    struct event ev = sample();
    ev.time = S("");
    ev.received_ms = 0;
    struct buf b;
    json_t *o = render(&ev, 6, &b);
    T_EQ_STR(jstr(o, "time"), "1970-01-01T00:00:00.000Z");
    T_EQ_STR(jstr(o, "hookgatereceived"), "1970-01-01T00:00:00.000Z");
    json_decref(o);
    buf_free(&b);
}

static void test_envelope_one_trailing_newline(void)
{
    struct event ev = sample();
    ev.body = S("{\"multi\":\n\"line\"}\n"); /* a JSON body may itself end in a newline */
    struct buf b;
    buf_init(&b, 1 << 16);
    T_EQ_INT(buf_puts(&b, "previous line\n"), HG_OK);
    size_t start = b.len;
    T_EQ_INT(event_envelope(&ev, 7, &b), HG_OK);
    T_CHECK(b.len > start + 2);
    T_EQ_INT(b.p[b.len - 1], '\n');
    T_EQ_INT(b.p[b.len - 2], '}');
    T_CHECK(strncmp(b.p, "previous line\n{", start + 1) == 0); /* appended */
    /* a second event makes a second line */
    size_t first_end = b.len;
    ev.body = S("{}");
    T_EQ_INT(event_envelope(&ev, 8, &b), HG_OK);
    T_EQ_INT(b.p[first_end], '{');
    T_EQ_INT(b.p[b.len - 1], '\n');
    T_EQ_INT(b.p[b.len - 2], '}');
    /* each event is exactly one line, whatever line breaks its JSON body had */
    size_t nl = 0;
    for (size_t i = start; i < b.len; i++)
        nl += b.p[i] == '\n';
    T_EQ_INT(nl, 2);
    buf_free(&b);
}

static void test_envelope_hostile_strings_escaped(void)
{
    static const char id[] = "evt\"1\\\n\r\t\x01\x1f</script> caf\xc3\xa9";
    static const char type[] = "type\"with\nnewline";
    static const char route[] = "r\"o\\ute";
    static const char source[] = "/hooks/\"x\"";
    struct event ev = sample();
    ev.id = S(id);
    ev.type = S(type);
    ev.route = S(route);
    ev.source = S(source);
    ev.time = S("2026-06-23T10:00:00\"Z");
    ev.body = S("plain\ntext");
    ev.body_kind = EVENT_BODY_TEXT;
    struct buf b;
    json_t *o = render(&ev, 9, &b);
    T_EQ_STR(jstr(o, "id"), id);
    T_EQ_STR(jstr(o, "type"), type);
    T_EQ_STR(jstr(o, "hookgateroute"), route);
    T_EQ_STR(jstr(o, "source"), source);
    T_EQ_STR(jstr(o, "time"), "2026-06-23T10:00:00\"Z");
    size_t nl = 0;
    for (size_t i = 0; i < b.len; i++)
        nl += b.p[i] == '\n';
    T_EQ_INT(nl, 1); /* still one line */
    json_decref(o);
    buf_free(&b);
}

static void test_envelope_large_seq(void)
{
    struct event ev = sample();
    struct buf b;
    buf_init(&b, 1 << 16);
    T_EQ_INT(event_envelope(&ev, UINT64_MAX, &b), HG_OK);
    T_CHECK(strstr(b.p, ",\"hookgateseq\":18446744073709551615,") != NULL);
    buf_free(&b);
}

/* for every limit below the envelope's size: HG_ETOOBIG, buffer as it was */
static void too_big_leaves_buffer(const struct event *ev)
{
    struct buf full;
    buf_init(&full, 1 << 20);
    T_EQ_INT(buf_puts(&full, "prefix"), HG_OK);
    T_EQ_INT(event_envelope(ev, 77, &full), HG_OK);
    size_t need = full.len;
    int ok = 1;
    for (size_t max = 6; max < need; max++) {
        struct buf b;
        buf_init(&b, max);
        buf_puts(&b, "prefix");
        int rc = event_envelope(ev, 77, &b);
        if (rc != HG_ETOOBIG || b.len != 6 || strcmp(b.p, "prefix") != 0) {
            if (ok)
                fprintf(stderr, "  max %zu: rc %d len %zu\n", max, rc, b.len);
            ok = 0;
        }
        buf_free(&b);
    }
    T_CHECK(ok);
    /* exactly the needed size works and gives the same bytes */
    struct buf b;
    buf_init(&b, need);
    buf_puts(&b, "prefix");
    T_EQ_INT(event_envelope(ev, 77, &b), HG_OK);
    T_EQ_INT(b.len, need);
    T_CHECK(b.len == need && memcmp(b.p, full.p, need) == 0);
    buf_free(&b);
    buf_free(&full);
}

static void test_envelope_too_big_unchanged(void)
{
    struct event ev = sample();
    too_big_leaves_buffer(&ev);
    ev.body_kind = EVENT_BODY_TEXT;
    ev.body = S("text with \"quotes\"\n");
    too_big_leaves_buffer(&ev);
    static const char bin[] = {0, 1, 2, 3, 4, 5, 6, 7, (char)0xff, 0};
    ev.body.p = bin;
    ev.body.len = sizeof(bin);
    ev.body_kind = EVENT_BODY_BINARY;
    too_big_leaves_buffer(&ev);

    /* on a fresh buffer as well (nothing before the envelope) */
    struct buf b;
    buf_init(&b, 10);
    T_EQ_INT(event_envelope(&ev, 1, &b), HG_ETOOBIG);
    T_EQ_INT(b.len, 0);
    T_CHECK(b.p == NULL || b.p[0] == '\0');
    buf_free(&b);
}

static void test_char_forbidden_classes(void)
{
    for (uint32_t cp = 0; cp < 0x20; cp++)
        T_EQ_INT(event_char_forbidden(cp), 1);
    for (uint32_t cp = 0x7f; cp <= 0x9f; cp++)
        T_EQ_INT(event_char_forbidden(cp), 1);
    static const uint32_t bidi[] = {0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c,
                                    0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069};
    for (size_t i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++)
        T_EQ_INT(event_char_forbidden(bidi[i]), 1);
    T_EQ_INT(event_char_forbidden(0x2028), 1);
    T_EQ_INT(event_char_forbidden(0x2029), 1);
    static const uint32_t ok[] = {0x20,   'a',    0x7e,   0xa0,   0xe9,   0x061b, 0x061d, 0x200b,
                                  0x200d, 0x2027, 0x202f, 0x2065, 0x206a, 0xfeff, 0x1f600};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        T_EQ_INT(event_char_forbidden(ok[i]), 0);
}

static void test_text_check(void)
{
    uint32_t bad = 0;
    const char *good = "evt_1 \xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80";
    T_EQ_INT(event_text_check(good, strlen(good), &bad), HG_OK);
    T_EQ_INT(event_text_check("", 0, NULL), HG_OK);
    T_EQ_INT(event_text_check("a\xc2\x9b", 3, &bad), HG_EBADID);
    T_EQ_INT(bad, 0x9b);
    T_EQ_INT(event_text_check("a\xe2\x80\xae", 4, &bad), HG_EBADID);
    T_EQ_INT(bad, 0x202e);
    T_EQ_INT(event_text_check("a\0b", 3, &bad), HG_EBADID); /* an embedded NUL */
    T_EQ_INT(bad, 0);
    static const char *const not_utf8[] = {
        "\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80", "\x80"};
    for (size_t i = 0; i < sizeof(not_utf8) / sizeof(not_utf8[0]); i++) {
        bad = 0;
        T_EQ_INT(event_text_check(not_utf8[i], strlen(not_utf8[i]), &bad), HG_EBADID);
        T_EQ_INT(bad, EVENT_BAD_UTF8);
    }
}

static void test_term_text(void)
{
    char out[64];
    const char *in = "a\x1b[31m\xc2\x9b\xe2\x80\xae\xe2\x80\xa8\x7f\xff\xc3\xa9\t";
    T_EQ_STR(event_term_text(in, strlen(in), out), "a?[31m?????\xc3\xa9?");
    T_EQ_STR(event_term_text("plain", 5, out), "plain");
    T_EQ_STR(event_term_text("\xe2\x80", 2, out), "??"); /* a cut sequence: each byte */
}

/* test_term_json - the envelope of a record holding controls, made
 * terminal-safe: no raw control, separator or bidi byte, and it parses to
 * the same JSON as the envelope itself */
static void test_term_json(void)
{
    struct event ev = sample();
    ev.id = S("id\x1b]0;x\x07\xc2\x9b\xe2\x80\xae");
    ev.type = S("t\xe2\x80\xa8\xc2\x85\x7f");
    ev.body = S("{\"k\":\"v\xc2\x9b\xe2\x81\xa6\",\t\"n\":1}"); /* a tab between tokens stays */
    struct buf env, safe;
    buf_init(&env, 1 << 20);
    buf_init(&safe, 1 << 20);
    T_EQ_INT(event_envelope(&ev, 7, &env), HG_OK);
    T_EQ_INT(event_term_json(env.p, env.len, &safe), HG_OK);
    for (size_t i = 0; i < safe.len; i++) {
        unsigned char c = (unsigned char)safe.p[i];
        T_CHECK((c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t');
    }
    T_CHECK(!memmem(safe.p, safe.len, "\xc2\x9b", 2) && !memmem(safe.p, safe.len, "\xe2\x80", 2) &&
            !memmem(safe.p, safe.len, "\xe2\x81", 2) && !memmem(safe.p, safe.len, "\xc2\x85", 2));
    T_CHECK(memmem(safe.p, safe.len, "\\u009b", 6) && memmem(safe.p, safe.len, "\\u202e", 6) &&
            memmem(safe.p, safe.len, "\\u007f", 6));
    T_CHECK(safe.len && safe.p[safe.len - 1] == '\n');
    json_t *a = json_loadb(env.p, env.len, 0, NULL), *b = json_loadb(safe.p, safe.len, 0, NULL);
    T_CHECK(a && b && json_equal(a, b));
    json_decref(a);
    json_decref(b);
    /* bytes that are not UTF-8 (a damaged record) become \ufffd */
    buf_reset(&safe);
    T_EQ_INT(event_term_json("\"a\xff\"", 4, &safe), HG_OK);
    T_EQ_STR(safe.p, "\"a\\ufffd\"");
    /* too big: an error, never a cut line */
    struct buf tiny;
    buf_init(&tiny, 8);
    T_CHECK(event_term_json(env.p, env.len, &tiny) != HG_OK);
    buf_free(&tiny);
    buf_free(&env);
    buf_free(&safe);
}

int main(void)
{
    T_RUN(test_rec_round_trip_all_fields);
    T_RUN(test_rec_empty_strings);
    T_RUN(test_rec_binary_body);
    T_RUN(test_rec_longest_strings_and_big_body);
    T_RUN(test_rec_parse_rejects_truncated);
    T_RUN(test_rec_parse_rejects_bad_header);
    T_RUN(test_envelope_required_attributes);
    T_RUN(test_envelope_json_body_verbatim);
    T_RUN(test_envelope_text_body_escaped);
    T_RUN(test_envelope_binary_body_base64);
    T_RUN(test_envelope_explicit_content_type);
    T_RUN(test_envelope_time_falls_back_to_received);
    T_RUN(test_envelope_one_trailing_newline);
    T_RUN(test_envelope_hostile_strings_escaped);
    T_RUN(test_envelope_large_seq);
    T_RUN(test_envelope_too_big_unchanged);
    T_RUN(test_char_forbidden_classes);
    T_RUN(test_text_check);
    T_RUN(test_term_text);
    T_RUN(test_term_json);
    return t_finish();
}
