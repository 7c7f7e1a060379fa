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
};

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

#endif
