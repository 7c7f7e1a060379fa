/*
 * console_int.h - what console.c, console_api.c and console_sse.c share.
 * Nothing else includes it.
 */
#ifndef HG_CONSOLE_INT_H
#define HG_CONSOLE_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "console.h"

struct buf;
struct cfg_sink;
struct history;
struct sse;

#define CONSOLE_SESSIONS  64
#define CONSOLE_SESSION_S (12 * 3600)
#define CONSOLE_STREAMS   16

/* The sign-in lockout (console.c): an address whose tokens (a login's, a
 * bearer header's) were refused CONSOLE_LOCK_TRIES times within
 * CONSOLE_LOCK_S of the first gets 429 for every token it tries until
 * those seconds are over.  CONSOLE_LOCK_SLOTS addresses are tracked; when
 * all are in use the one whose minute started first is dropped. */
#define CONSOLE_LOCK_TRIES 10
#define CONSOLE_LOCK_S     60
#define CONSOLE_LOCK_SLOTS 256
#define CONSOLE_LOCK_KEY   9 /* family byte + an IPv4 address or an IPv6 /64 */

/* how a request to /api/ was let in */
enum auth { AUTH_NONE = 0, AUTH_BEARER, AUTH_COOKIE };

struct session {
    int used;
    unsigned char id_sha[32];  /* SHA-256 of the cookie's value */
    unsigned char tok_sha[32]; /* of the token it signed in with: a new token ends it */
    char csrf[65];
    int64_t created_ms, expires_ms;
};

struct lockout {
    int used;
    unsigned char key[CONSOLE_LOCK_KEY]; /* the address (lock_key) */
    unsigned refused;                    /* tokens refused since start_ms */
    int64_t start_ms;                    /* the first of them (CLOCK_MONOTONIC ms) */
};

struct console {
    struct store *st;
    const struct config *_Atomic cfg; /* the thread's (console_set_config) */
    struct history *hist;
    pthread_t thread;
    int started;
    pthread_mutex_t lock; /* sessions, locks, stop */
    pthread_cond_t wake;
    int stop;
    struct session sess[CONSOLE_SESSIONS];
    struct lockout locks[CONSOLE_LOCK_SLOTS];
    /* console_sse.c: the live tails */
    pthread_mutex_t sse_lock;
    struct sse *streams;
    unsigned nstreams;
    _Atomic uint64_t rej_newest; /* the newest rejected id seen by the thread */
};

/* console_answer - queue b (JSON unless ctype says otherwise) with status
 * and the console's headers (no-store, nosniff, DENY).  b may be NULL for
 * an empty body. */
enum MHD_Result console_answer(struct MHD_Connection *conn, unsigned status, const char *ctype,
                               const struct buf *b);

/* console_error - {"error": text} with status. */
enum MHD_Result console_error(struct MHD_Connection *conn, unsigned status, const char *text);

/* console_api - an authenticated request under /api/ (console_api.c). */
enum MHD_Result console_api(struct console *c, const struct console_ctx *x, const char *path);

/* A call of the API walks at most this many events, or rejected entries. */
#define CONSOLE_LIST_SCAN_MAX 20000

/* console_api_answer - b as a JSON answer with status (500 if rc says the
 * buffer could not be built), b freed.  MHD's result. */
enum MHD_Result console_api_answer(const struct console_ctx *x, unsigned status, struct buf *b,
                                   int rc);
/* console_api_limit - the limit query argument, 1..200 (default 50). */
long console_api_limit(const struct console_ctx *x);
/* console_api_u64 - s as an unsigned number (0 when NULL or not one). */
uint64_t console_api_u64(const char *s);
/* console_api_route - the configured route called name[0..len), or NULL. */
const struct cfg_route *console_api_route(const struct config *cfg, const char *name, size_t len);

/* console_ops_* - the operational answers (console_ops.c): GET
 * /api/rejected, GET /api/sinks (with the routes), GET and POST
 * /api/sinks/{name}/dead and /replay, GET /api/routes, POST
 * /api/send-test.  MHD's result. */
enum MHD_Result console_ops_rejected(struct console *c, const struct console_ctx *x);
enum MHD_Result console_ops_sinks(struct console *c, const struct console_ctx *x);
enum MHD_Result console_ops_sink_dead(struct console *c, const struct console_ctx *x,
                                      const struct cfg_sink *s);
enum MHD_Result console_ops_sink_replay(struct console *c, const struct console_ctx *x,
                                        const struct cfg_sink *s);
enum MHD_Result console_ops_routes(const struct console_ctx *x);
enum MHD_Result console_ops_send_test(const struct console_ctx *x);

/* console_sse_open - GET /api/stream: start a live tail (console_sse.c),
 * let in by a (AUTH_BEARER or AUTH_COOKIE) with cred_sha the SHA-256 of the
 * bearer token or of the session cookie's value: the tail ends as soon as
 * console_cred_live says that no longer lets it in. */
enum MHD_Result console_sse_open(struct console *c, const struct console_ctx *x, enum auth a,
                                 const unsigned char cred_sha[32]);

/* console_cred_live - 1 while what let a live tail in still would: for
 * AUTH_COOKIE, the session whose id hashes to cred_sha exists, has not
 * expired and was signed in with the current admin.token; for AUTH_BEARER,
 * cred_sha is the current admin.token's digest.  0 otherwise (also once
 * the console is turned off).  Any thread; takes c->lock. */
int console_cred_live(struct console *c, enum auth a, const unsigned char cred_sha[32]);

/* console_sse_kick - resume every suspended tail now, so that each checks
 * its credentials (a sign-out, a new config).  Any thread but under none
 * of the console's locks. */
void console_sse_kick(struct console *c);

/* console_sse_tick - wake every suspended tail (new events, a rejection
 * or a keep-alive due).  The console's thread. */
void console_sse_tick(struct console *c);

/* console_sse_free - at console_free: nothing may be left. */
void console_sse_free(struct console *c);

/* console_query - a decoded query parameter of the request, or NULL. */
const char *console_query(const struct console_ctx *x, const char *name);

/* console_time_arg - a time argument (RFC 3339 or unix seconds) as unix
 * ms into *ms.  HG_OK or HG_EINVAL. */
int console_time_arg(const char *s, int64_t *ms);

#endif
