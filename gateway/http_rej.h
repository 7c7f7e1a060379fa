/*
 * http_rej.h - what a request shows of itself after it is answered: its
 * headers with every credential masked (kept with an accepted event, and
 * with a rejected request), and the record of a rejected request for the
 * store's ring (store_reject_add; the console and `hookgate events
 * rejected` read it).
 *
 * A header's value is masked ("***") when its name is a credential by
 * position, not by look: the route's profile's signature and token
 * headers, Cookie, a forwarded URL (X-Forwarded-Uri, X-Original-URI,
 * Referer, ...), any name holding "auth", "token", "secret", "passw",
 * "credential", "jwt", "signature", "hmac", "apikey" or "session", and any
 * holding "key", "sig" or "mac" as a word.  What is kept is printable ASCII; any other
 * byte becomes '?'.
 */
#ifndef HG_HTTP_REJ_H
#define HG_HTTP_REJ_H

#include <microhttpd.h>
#include <stddef.h>

struct buf;
struct profile;
struct store;
struct cfg_route;

#define HTTP_REJ_BODY_MAX (64u << 10) /* a kept rejected body is cut to this */

/* http_rej_masked - 1 if header name's value is a credential for profile
 * p (may be NULL). */
int http_rej_masked(const struct profile *p, const char *name);

/* http_rej_headers - conn's request headers as "Name: value\n" lines,
 * credentials masked, into out (reset first), at most EVENT_HEADERS_MAX
 * bytes (later headers are left out).  HG_OK or HG_ENOMEM. */
int http_rej_headers(struct MHD_Connection *conn, const struct profile *p, struct buf *out);

/* struct http_rej - one rejected request. */
struct http_rej {
    const struct cfg_route *route; /* may be NULL: refused before routing */
    const char *path;              /* as it may be shown (tokens redacted) */
    const char *client;            /* the client's address as text */
    unsigned status;               /* 400, 401, 403 */
    const char *reason;            /* the explained reason */
    const char *body;              /* kept only with the route's keep_rejected_bodies */
    size_t body_len;               /* as received */
};

/* http_rej_note - queue r for st's ring (never blocks; a full queue drops
 * it, counted by the store). */
void http_rej_note(struct store *st, struct MHD_Connection *conn, const struct http_rej *r);

#endif
