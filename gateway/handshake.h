/*
 * handshake.h - a producer's registration challenge (Slack url_verification,
 * Zoom endpoint.url_validation, Meta hub.challenge, X CRC, ...), answered
 * from the profile's data (profile.h: struct prof_handshake), never stored.
 *
 * Kept apart from http.c: this module knows nothing of libmicrohttpd; the
 * request is seen through a header and a query lookup, so the fuzz driver
 * and the unit tests drive it without a server.
 */
#ifndef HG_HANDSHAKE_H
#define HG_HANDSHAKE_H

#include <stddef.h>

#include "profile.h"
#include "secret.h"

struct buf;

/* hs_lookup_fn - a header's or a decoded query parameter's value, or NULL. */
typedef const char *(*hs_lookup_fn)(void *ctx, const char *name);

/* hs_request - one request as a handshake sees it. */
struct hs_request {
    const char *method; /* "POST", "GET", "HEAD" */
    const char *body;   /* the complete body, or NULL before it is read */
    size_t body_len;
    hs_lookup_fn header, query;
    void *ctx;
    int *json; /* the body's validation, done once: 0 not yet, 1 JSON, -1 not (may be NULL) */
};

#define HS_VALUE_MAX 1024 /* a challenge value longer than this is refused */

/* handshake_match - the first handshake of p whose method and conditions
 * req meets, or NULL.  A handshake with a body condition never matches
 * while req->body is NULL (call again once the body is complete). */
const struct prof_handshake *handshake_match(const struct profile *p, const struct hs_request *req);

/* handshake_answer - the body of h's answer for req into out (its content
 * type is h->ctype; NULL: no body); key (may be NULL when h has no hmac
 * source) keys an hmac source.  HG_OK; HG_ENOID when a value it needs is
 * missing or empty, or longer than HS_VALUE_MAX (*why names it); HG_EINVAL
 * when a value to HMAC could be a signed body itself (not a token: it has
 * characters outside [A-Za-z0-9._~+/=-] or reads as a JSON text), so the
 * answer cannot serve as a signing oracle; HG_ENOMEM. */
int handshake_answer(const struct prof_handshake *h, const struct hs_request *req,
                     const struct secret *key, struct buf *out, const char **why);

/* handshake_type - the type $.type_when gives req (with its body), or NULL. */
const char *handshake_type(const struct profile *p, const struct hs_request *req);

#endif
