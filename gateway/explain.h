/*
 * explain.h - a refusal by verification in words an operator can act on:
 * "signature header X-Hub-Signature-256 missing; the request had
 * X-Hub-Signature", "timestamp 312 s older than the route's 300 s
 * tolerance", "signature mismatch: no secret of 2 matched; the body was 1,024 bytes, content
 * type application/json".
 *
 * The sentence is made of verify_check's verify_detail, the route's
 * profile and public facts of the request: header names, the body's
 * length, the Content-Type.  Invariant: it never holds a secret, a
 * signature (sent or expected), a digest or a token/signature header's
 * value; what comes from the request is printable ASCII ('?' for any other
 * byte) and bounded, so the text is safe in a log line, JSON and a page.
 */
#ifndef HG_EXPLAIN_H
#define HG_EXPLAIN_H

#include <stddef.h>

#include "profile.h"
#include "verify.h"

#define EXPLAIN_MAX 512 /* room for any sentence of the built-in profiles (longer ones are cut) */

/* explain_each_header_fn - call cb(arg, name) for each header name of the
 * request (values are never asked for); returns the number of headers.
 * Over libmicrohttpd: MHD_get_connection_values(conn, MHD_HEADER_KIND, ...). */
typedef int (*explain_each_header_fn)(void *ctx, void (*cb)(void *arg, const char *name),
                                      void *arg);

/* explain_verify - why a request to a route with profile p was refused,
 * as one sentence into out (cap bytes, NUL-terminated; cut short, ending
 * "...", when it does not fit).  d is verify_check's detail (NULL: only
 * why is used); why its reason text (may be NULL); each/hctx enumerate the
 * request's header names (each may be NULL: none are named); body_len and
 * ctype (the Content-Type, may be NULL) describe the body.  Returns HG_OK,
 * HG_ETOOBIG when the text was cut, HG_EINVAL when out is NULL or cap 0. */
int explain_verify(const struct profile *p, const struct verify_detail *d, const char *why,
                   explain_each_header_fn each, void *hctx, size_t body_len, const char *ctype,
                   char *out, size_t cap);

#endif
