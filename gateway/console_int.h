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
struct history;
struct sse;

#define CONSOLE_SESSIONS  64
#define CONSOLE_SESSION_S (12 * 3600)
#define CONSOLE_STREAMS   16

struct session {
    int used;
    unsigned char id_sha[32];  /* SHA-256 of the cookie's value */
    unsigned char tok_sha[32]; /* of the token it signed in with: a new token ends it */
    char csrf[65];
    int64_t created_ms, expires_ms;
};

struct console {
    struct store *st;
    const struct config *_Atomic cfg; /* the thread's (console_set_config) */
    struct history *hist;
    pthread_t thread;
    int started;
    pthread_mutex_t lock; /* sessions, stop */
    pthread_cond_t wake;
    int stop;
    struct session sess[CONSOLE_SESSIONS];
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

/* console_sse_open - GET /api/stream: start a live tail (console_sse.c). */
enum MHD_Result console_sse_open(struct console *c, const struct console_ctx *x);

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
