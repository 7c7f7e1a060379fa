/*
 * event.h - one received event: its stored record and its CloudEvents envelope.
 *
 * The request path fills a struct event whose fields point into request
 * memory; the store serialises it into a compact record (event_rec_*)
 * written straight into LMDB's map; delivery parses the record back (again
 * pointing into the map, no copy) and renders the envelope
 * (event_envelope).  The producer's payload is never re-serialised: a JSON
 * body is copied verbatim into "data" - which is why the request path must
 * have validated it as JSON first.
 */
#ifndef HG_EVENT_H
#define HG_EVENT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum event_body {
    EVENT_BODY_JSON = 0,  /* valid JSON: goes into "data" as is */
    EVENT_BODY_TEXT = 1,  /* valid UTF-8, not JSON: "data" is a JSON string */
    EVENT_BODY_BINARY = 2 /* anything else: "data_base64" */
};

/* A string field: bytes and length (not NUL-terminated in records). */
struct event_str {
    const char *p;
    size_t len;
};

struct event {
    struct event_str route;  /* route name ("hookgateroute") */
    struct event_str source; /* route path ("source") */
    struct event_str id;
    struct event_str type;
    struct event_str time;  /* RFC 3339; empty = use received */
    struct event_str ctype; /* datacontenttype; empty = by body kind */
    struct event_str body;
    enum event_body body_kind;
    int64_t received_ms;
    /* the request's headers, "Name: value\n" lines with credentials masked
     * (http_rej.h); empty in records from before they were kept.  Never
     * part of the envelope: only the console shows them. */
    struct event_str headers;
};

#define EVENT_HEADERS_MAX 8192 /* headers kept per event; more are cut at a line */

#define EVENT_STR_MAX 1024 /* longest route/source/id/type/time/ctype */

/* event_rec_size - bytes event_rec_write will write for ev. */
size_t event_rec_size(const struct event *ev);

/* event_rec_write - serialise ev into dst (event_rec_size(ev) bytes, any alignment). */
void event_rec_write(const struct event *ev, unsigned char *dst);

/* event_rec_parse - view a record as a struct event; fields point into rec and
 * live as long as rec does.  HG_EINVAL if rec is not a well-formed record. */
int event_rec_parse(const void *rec, size_t len, struct event *out);

/* event_envelope - append the NDJSON line (CloudEvents 1.0 structured JSON,
 * newline-terminated) for ev stored as seq to out.  HG_ETOOBIG/HG_ENOMEM. */
int event_envelope(const struct event *ev, uint64_t seq, struct buf *out);

/* event_char_forbidden - 1 if code point cp may not appear in an event id
 * or type, else 0.  Forbidden: the controls (C0 U+0000-U+001F, DEL U+007F,
 * C1 U+0080-U+009F), the line and paragraph separators (U+2028, U+2029) and
 * the bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069): each can end a line for a line-splitting consumer,
 * drive a terminal (U+009B is CSI) or reorder what an operator reads. */
int event_char_forbidden(uint32_t cp);

#define EVENT_BAD_UTF8 0xffffffffu /* event_text_check: the text is not UTF-8 */

/* event_text_check - HG_OK if s[0..n) is UTF-8 (RFC 3629: no overlong
 * forms, no surrogates) holding no forbidden character; else HG_EBADID
 * with *bad (may be NULL) set to the first forbidden code point, or to
 * EVENT_BAD_UTF8. */
int event_text_check(const char *s, size_t n, uint32_t *bad);

/* event_term_text - s[0..n) for a field of a line shown on a terminal:
 * every forbidden character, and every byte that does not start a UTF-8
 * sequence, becomes '?'.  out must hold n + 1 bytes (a replacement is
 * never longer than what it replaces); it is NUL-terminated.  Returns out. */
char *event_term_text(const char *s, size_t n, char *out);

/* event_term_json - append the JSON text s[0..n) to out, safe for a
 * terminal and with the same meaning: every forbidden character but tab and
 * newline (whitespace between tokens) becomes a \uXXXX escape, and a byte
 * that is not UTF-8 becomes \ufffd (a damaged record).  HG_OK or
 * HG_ETOOBIG/HG_ENOMEM (out then holds a prefix of the result). */
int event_term_json(const char *s, size_t n, struct buf *out);

#endif
