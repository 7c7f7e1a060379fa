/*
 * extract.h - read a request through its route's profile: the values the
 * signature covers (verify_input) and, once it is authentic, the event's
 * id, type, time and body kind.
 *
 * Kept apart from http.c so the HTTP lifecycle and the producer-specific
 * interpretation can change independently, and so `hookgate sign` and the
 * tests can use the very same header lookups.  Nothing here allocates on
 * the fast path: top-level JSON members come from one jscan pass; only a
 * profile with nested JSON pointers parses the body with jansson (and walks
 * each such pointer once with jscan_pointer, for a repeated member).
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
/* a JSON pointer of a profile is at most 128 bytes: its path and the words around it fit */
#define EXTRACT_REASON_MAX 176

/* header_fn - the value of request header name, or NULL. */
typedef const char *(*extract_header_fn)(void *ctx, const char *name);

/* extract_header - the first present header of a NULL-terminated name list. */
const char *extract_header(extract_header_fn hdr, void *ctx, char *const *names);

/* extract_verify_input - fill the header-borne parts of in (signature, id,
 * type, nonce, timestamp) for profile p.  Body, token and clock are the
 * caller's. */
void extract_verify_input(const struct profile *p, extract_header_fn hdr, void *ctx,
                          struct verify_input *in);

/* EXTRACT_DERIVED - the first byte of every dedupe key hookgate derives
 * (EXTRACT_DERIVED "sha256:<hex of the body>").  No producer id can hold it
 * (ids refuse controls, and always have), so derived keys and producer ids
 * are two namespaces in the store's dedupe index and in shared dedupe: a
 * producer id "sha256:<hex of X>" never claims body X's key. */
#define EXTRACT_DERIVED "\001"

/* extract_result - what an authentic request says about its event. */
struct extract_result {
    char id[EXTRACT_ID_MAX + 1];
    char type[EXTRACT_TYPE_MAX + 1];
    char time[64]; /* RFC 3339, or "" (the receipt time is used) */
    /* "" = dedupe on id; else EXTRACT_DERIVED "sha256:<hex>".  An id
     * hookgate derives is this key without its first byte. */
    char dedupe[1 + 7 + 2 * SHA256_DIGEST_LENGTH + 1];
    enum event_body kind;
    /* the answer when it says more than the code's own text, else "":
     * HG_EDUPKEY `duplicate key "id" in body`, HG_EBADID `invalid event id:
     * control character U+009B` (the field, and why) */
    char reason[EXTRACT_REASON_MAX];
};

/* extract_event - id/type/time/kind of body under route rt (profile, fixed
 * type).  Returns HG_OK, or:
 *  - HG_EBADJSON: the body is not one JSON text (jscan_scan) and either the
 *    profile needs JSON or the request's Content-Type (hdr(ctx,
 *    "Content-Type")) says JSON (extract_ctype_is_json);
 *  - HG_EDUPKEY: a JSON object member on the path of one of the profile's
 *    id/type/time/when_missing pointers occurs twice in its object (two
 *    parsers could disagree on which one counts); out->reason names it by
 *    its path, dot-separated (`duplicate key "data.object" in body`).
 *    Repeats of other members are accepted;
 *  - HG_EBADID: the id or type is longer than 256 bytes, not a string or
 *    number, not UTF-8, or holds a character event_char_forbidden refuses;
 *    out->reason names the field and why;
 *  - HG_ENOID.
 * *why (may be NULL) gets a text for the log: a constant (HG_EBADID: one per
 * field, so log lines can be rate-limited by it), or out->reason (valid
 * while out is). */
int extract_event(const struct cfg_route *rt, extract_header_fn hdr, void *ctx, const char *body,
                  size_t len, struct extract_result *out, const char **why);

/* extract_ctype_is_json - 1 if the Content-Type value ct (may be NULL) is
 * application/json or application/<anything>+json, in any case, with or
 * without parameters (`; charset=utf-8`); else 0. */
int extract_ctype_is_json(const char *ct);

#endif
