/*
 * extract.h - read a request through its route's profile: the values the
 * signature covers (verify_input) and, once it is authentic, the event's
 * id, type, time and body kind.
 *
 * Kept apart from http.c so the HTTP lifecycle and the producer-specific
 * interpretation can change independently, and so `hookgate sign` and the
 * tests can use the very same header lookups.  Nothing here allocates on
 * the fast path: top-level JSON members come from one jscan pass; only a
 * profile with nested JSON pointers parses the body with jansson.
 */
#ifndef HG_EXTRACT_H
#define HG_EXTRACT_H

#include <openssl/sha.h>
#include <stddef.h>

#include "event.h"

struct profile;
struct cfg_route;
struct verify_input;

#define EXTRACT_ID_MAX   256
#define EXTRACT_TYPE_MAX 256

/* header_fn - the value of request header name, or NULL. */
typedef const char *(*extract_header_fn)(void *ctx, const char *name);

/* extract_header - the first present header of a NULL-terminated name list. */
const char *extract_header(extract_header_fn hdr, void *ctx, char *const *names);

/* extract_verify_input - fill the header-borne parts of in (signature, id,
 * type, nonce, timestamp) for profile p.  Body, token and clock are the
 * caller's. */
void extract_verify_input(const struct profile *p, extract_header_fn hdr, void *ctx,
                          struct verify_input *in);

/* extract_result - what an authentic request says about its event. */
struct extract_result {
    char id[EXTRACT_ID_MAX + 1];
    char type[EXTRACT_TYPE_MAX + 1];
    char time[64];                                 /* RFC 3339, or "" (the receipt time is used) */
    char dedupe[7 + 2 * SHA256_DIGEST_LENGTH + 1]; /* "" = dedupe on id */
    enum event_body kind;
};

/* extract_event - id/type/time/kind of body under route rt (profile, fixed
 * type).  HG_OK, or HG_EBADJSON (not JSON where the profile needs it, or a
 * duplicated id/type/time member), HG_ENOID, HG_EBADID; *why (may be NULL)
 * gets a constant text for the log. */
int extract_event(const struct cfg_route *rt, extract_header_fn hdr, void *ctx, const char *body,
                  size_t len, struct extract_result *out, const char **why);

#endif
