/*
 * console.h - the operator's console: a page (/ui/) and a JSON API
 * (/api/) on the admin listener (docs/console.md).
 *
 * console.c holds the access rules (bearer token, session cookie, CSRF
 * token), the static assets and the dispatch; console_api.c the JSON
 * answers; console_sse.c the live tail (Server-Sent Events).  One thread
 * ("hg-console") samples the charts' history every HISTORY_STEP_S and
 * wakes the live tails when events are committed.
 *
 * Invariants: the token and session ids are compared in constant time
 * (as SHA-256 digests) and never logged or echoed; every state change is
 * a POST, and a POST authenticated by the cookie needs the session's CSRF
 * token; a POST's access is settled on its headers (console_admit) before
 * any byte of its body is read; an address that keeps sending wrong tokens
 * is locked out for a minute; a live tail ends with the session or token
 * that opened it; no answer carries a secret, an expected signature or a
 * masked header's value (the store never holds those).
 */
#ifndef HG_CONSOLE_H
#define HG_CONSOLE_H

#include <microhttpd.h>
#include <stddef.h>
#include <sys/socket.h>

struct config;
struct store;
struct console;

#define CONSOLE_BODY_MAX  (64u << 10) /* a POST body of the API */
#define CONSOLE_LOGIN_MAX 4096u       /* a sign-in's body, at most */

/* console_ctx - one request on the admin listener, as http.c sees it. */
struct console_ctx {
    const struct config *cfg; /* the request's config */
    struct MHD_Connection *conn;
    const char *url, *method;
    const char *body; /* a POST's body (at most CONSOLE_BODY_MAX), or NULL */
    size_t body_len;
    int tls;                       /* the admin listener is HTTPS: the cookie is Secure */
    const struct sockaddr *client; /* for the sign-in rate, or NULL */
    const char *client_ip;         /* as text, for log lines */
    const char *self_url;          /* send-test: a public listener on loopback, "" if none */
    int (*rate_ok)(void *arg);     /* 0 when the client is over its rate (sign-in refusals) */
    void *rate_arg;
};

/* console_new - the console over st (may be NULL: every API call then
 * answers 503), its thread started.  HG_ENOMEM. */
int console_new(struct store *st, const struct config *cfg, struct console **out);

/* console_set_config - the config its thread samples (a reload). */
void console_set_config(struct console *c, const struct config *cfg);

/* console_free - stop the thread, free.  Call console_sse_end for every
 * admin daemon first.  NULL-safe. */
void console_free(struct console *c);

/* console_path - 1 if url is the console's (/ui, /ui/..., /api/...). */
int console_path(const char *url);

/* console_wants_body - 1 if the request (its headers in) will carry a body
 * the console reads (a POST to /api/). */
int console_wants_body(const char *url, const char *method);

/* console_admit - the first call of a request for which console_wants_body
 * is 1, its headers in and no body byte read: 1 with the answer queued
 * (MHD's result in *ret) when the headers settle it - the console off,
 * a POST from another site's page (403, by Sec-Fetch-Site; not counted
 * against the address), no valid credentials (401), a locked-out address
 * (429), a missing CSRF
 * token (403), a declared Content-Length over the limit (413: 4 KiB for a
 * sign-in, CONSOLE_BODY_MAX otherwise); else 0: read the body (at most
 * CONSOLE_BODY_MAX), then console_handle.  x->body is NULL. */
int console_admit(struct console *c, const struct console_ctx *x, enum MHD_Result *ret);

/* console_handle - answer one request to a console path (queued on
 * x->conn).  MHD's result. */
enum MHD_Result console_handle(struct console *c, const struct console_ctx *x);

/* console_sse_end - end every live tail served by daemon d (its
 * listener is being stopped or replaced) and wait (at most 2 s) until
 * they are gone.  Call before MHD_stop_daemon(d). */
void console_sse_end(struct console *c, const void *d);

#endif
