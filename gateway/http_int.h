/*
 * http_int.h - what the http*.c modules share: http.c (the request
 * lifecycle), http_gate.c (the admission checks before the body),
 * http_listen.c (the listeners: start, reload, stop), http_conn.c (the
 * connections), http_hs.c (handshakes, signed inputs), http_console.c (the
 * console's requests, the rejected ring) and http_budget.c.
 * Nothing else includes it.
 *
 * Invariants: a struct listener never moves once its daemons run (their
 * callbacks hold pointers to its dctx); the config a request sees is the
 * one current when its headers arrived (h->cfg is swapped atomically on
 * reload and old configs live until http_stop).
 */
#ifndef HG_HTTP_INT_H
#define HG_HTTP_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

struct config;
struct cfg_listener;
struct cfg_route;
struct store;
struct req;
struct ratelimit;
struct console;
struct verify_detail;

#define HTTP_MAX_THREADS 64

/* One listener = one daemon per thread, all bound to the same address with
 * SO_REUSEPORT: the kernel spreads connections evenly over them (a single
 * MHD thread pool leaves most connections on whichever thread accepted
 * first). */
/* One per daemon (one thread each): all its callbacks run on that thread,
 * so its request free list needs no lock. */
struct dctx {
    struct http *h;
    int admin; /* this daemon serves an admin listener: /healthz, /readyz, /metrics only */
    int mtls;  /* tls.client_ca: a verified client certificate is required */
    int tls;   /* an HTTPS listener ({url}'s scheme) */
    struct req *free;
    unsigned nfree;
    unsigned limit; /* libmicrohttpd's connection limit for this daemon */
    unsigned open;  /* its open connections (its thread only) */
    unsigned li;    /* its listener's index in config.listeners (fixed across reloads) */
};

struct listener {
    struct MHD_Daemon *d[HTTP_MAX_THREADS];
    struct dctx ctx[HTTP_MAX_THREADS];
    unsigned nd;
    char *cert_pem;
    char *key_pem;
    char *ca_pem; /* tls.client_ca, or NULL */
    struct listener *next_retired;
};

/* Canned answers, built once and shared by every daemon (MHD responses are
 * reference-counted and may be queued any number of times). */
enum canned {
    C_429,
    C_400,
    C_401,
    C_403,
    C_404,
    C_405,
    C_405_GET,
    C_413,
    C_503_BUSY,
    C_503_STORE,
    C_HEALTH_OK,
    C_HEALTH_BAD,
    C_N
};

struct http {
    const struct config *_Atomic cfg; /* current; swapped by http_reload */
    struct store *st;
    struct listener **ls;     /* one per configured listener */
    struct listener *retired; /* replaced on reload, stopped when idle */
    pthread_mutex_t retired_lock;
    size_t nls;
    atomic_uint conns;            /* open connections, all daemons */
    atomic_uint active;           /* request states in use */
    atomic_uint resuming;         /* MHD_resume_connection calls in progress */
    _Atomic int64_t health_ok_ms; /* last successful /readyz probe */
    int has_admin;                /* some listener is an admin listener */
    struct ratelimit *rl;         /* per-address limits, or NULL */
    struct console *con;          /* the console (an admin listener exists), or NULL */
    struct MHD_Response *canned[C_N];

    /* http_conn.c: every open connection, the header-deadline watcher, and
     * what keeps one client from taking every slot (per-address cap,
     * reserve, closing idle connections when slots run short) */
    pthread_mutex_t conn_lock; /* guards conn_list, watch_stop, evict, cutting */
    pthread_cond_t watch_wake;
    struct http_conn *conn_list;
    pthread_t watcher;
    int conn_init, watch_started, watch_stop;
    int evict;                      /* slots run short: the watcher closes idle connections */
    atomic_uint cutting;            /* shut down, not closed yet (changed under conn_lock) */
    atomic_uint refused[2];         /* refused at accept (cap, reserve) since the last warning */
    _Atomic int64_t limit_log_ms;   /* last "connection limit reached" warning */
    _Atomic int64_t refused_log_ms; /* last "connections refused" warning */
    int64_t evict_log_ms;           /* last "idle connections closed" warning (conn_lock) */
    unsigned evicted;               /* closed to free slots since that warning (conn_lock) */

    /* http_budget.c: body bytes buffered before their signature is checked */
    _Atomic uint64_t body_bytes;
    _Atomic int64_t budget_log_ms; /* last "body budget exhausted" warning */
};

enum MHD_Result http_on_access(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls);
void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                       enum MHD_RequestTerminationCode toe);
void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code);
void http_on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* http_conn_request_begin/_end - a request's headers are complete / the
 * request is over and the connection waits for the next one (http_conn.c).
 * Called on the connection's daemon thread. */
void http_conn_request_begin(struct MHD_Connection *conn);

/* http_client - where a request comes from (http.c, client_of: the TCP
 * peer, or the address a trusted proxy forwarded), worked out once per
 * request and kept in its connection's record (http_conn.c): forgotten
 * when a request's headers complete (http_conn_request_begin) and when it
 * ends.  Only the connection's daemon thread touches it. */
struct http_client {
    struct http *h;
    unsigned li;                  /* the listener's index in config.listeners */
    int known;                    /* the fields below are the current request's */
    int trusted;                  /* the TCP peer is one of the listener's trusted_proxies */
    const char *why;              /* the forwarding headers were not usable (fwd.h), or NULL */
    struct sockaddr_storage addr; /* the client's address */
};

/* http_conn_client - conn's http_client, or NULL for a connection without
 * a record (its allocation failed at accept). */
struct http_client *http_conn_client(struct MHD_Connection *conn);

/* http_client_origin - the scheme and host the current request on conn was
 * sent to (http.c; fwd_proto_host): X-Forwarded-Proto / X-Forwarded-Host
 * when the TCP peer is one of its listener's trusted_proxies, else https
 * or http (tls) and the Host header.  *scheme is a constant; out (cap
 * bytes) the host[:port] as received.  HG_OK, or HG_EINVAL when no valid
 * host is left (out ""). */
int http_client_origin(struct MHD_Connection *conn, int tls, const char **scheme, char *out,
                       size_t cap);

/* http_client_addr - the address of the current request's client (http.c,
 * client_of), or NULL when unknown (allow refuses it; no rate bucket). */
const struct sockaddr *http_client_addr(struct MHD_Connection *conn);

/* http_log_reject - the "request rejected" line, rate-limited per route and
 * reason (log_limit: a flood cannot fill the disk); a 404's path is the
 * client's to vary, so every 404 shares one key (http.c). */
void http_log_reject(struct MHD_Connection *conn, const char *url, int err, const char *reason);

/* http_log_refused - http_log_reject with the refusal explained (detail,
 * may be NULL: the line's "detail", the rejected ring's reason); the rate
 * limit keys on the constant reason, never on the detail. */
void http_log_refused(struct MHD_Connection *conn, const char *url, int err, const char *reason,
                      const char *detail);

/* http_queue_canned - queue the canned answer c with status (http.c). */
enum MHD_Result http_queue_canned(struct http *h, struct MHD_Connection *conn, enum canned c,
                                  unsigned status);

/* http_route_index - rt's index for metrics, -1 for no route (NULL). */
int http_route_index(const struct http *h, const struct cfg_route *rt);

/* http_counted_canned - a canned rejection of a request to route rt, counted
 * (http.c) */
enum MHD_Result http_counted_canned(struct http *h, struct MHD_Connection *conn,
                                    const struct cfg_route *rt, enum canned c, unsigned status);

/* http_header - the first value of header name on conn's request, or NULL
 * (also for a NULL name) (http.c). */
const char *http_header(struct MHD_Connection *conn, const char *name);

/* The admission checks of http_gate.c, made from the headers alone before
 * any body byte is read (http.c's first call of the access handler). */

/* http_gate_client_cert_ok - 1 if the TLS peer presented a certificate that
 * verifies against the listener's client_ca (libmicrohttpd loads it as the
 * session's trust list and requests a certificate; requiring one is ours to
 * do). */
int http_gate_client_cert_ok(struct MHD_Connection *conn);

/* http_gate_queue_429 - too many requests from this address; retry after
 * retry_s. */
enum MHD_Result http_gate_queue_429(struct http *h, struct MHD_Connection *conn, unsigned retry_s);

/* http_gate_refuse_rate_allow - the per-address rate and the allow list of
 * rt, as http_gate_refuse_access (every request to a route, handshakes
 * too). */
int http_gate_refuse_rate_allow(struct http *h, struct MHD_Connection *conn,
                                const struct cfg_route *rt, enum MHD_Result *ret);

/* http_gate_refuse_access - the access checks on a request to rt before its
 * body, in order: per-address rate, allow list, token (tok: a path token or
 * NULL), max_connections.  0 if it may go on; else 1, the refusal logged
 * and queued, MHD's result in *ret. */
int http_gate_refuse_access(struct http *h, struct MHD_Connection *conn, const struct cfg_route *rt,
                            const char *tok, const struct config *cfg, enum MHD_Result *ret);

/* http_gate_refuse_length - the body's length (its framing is settled by
 * http_gate_refuse_frame): a Content-Length over max_body (413) is refused
 * as http_gate_refuse_access does (1); else 0 with the announced length in
 * *len (0 without Content-Length). */
int http_gate_refuse_length(struct http *h, struct MHD_Connection *conn, const struct cfg_route *rt,
                            const struct config *cfg, unsigned long long *len,
                            enum MHD_Result *ret);

/* http_gate_refuse_frame - the request's framing and target (http_frame.h),
 * before routing and before any body byte: what a proxy in front could read
 * differently from libmicrohttpd is a 400 naming the problem, and its
 * connection is closed, so nothing of it is read as a body or as the next
 * request.  uri_why: the raw target's problem (http_frame_on_uri) or NULL; a
 * refused target never matches a route (metrics: no route).  0 if the
 * request may go on; else 1, logged, counted and queued, MHD's result in
 * *ret. */
int http_gate_refuse_frame(struct http *h, struct MHD_Connection *conn, const struct config *cfg,
                           const char *url, const char *version, const char *uri_why,
                           enum MHD_Result *ret);

/* http_addr_str - sa's address as text in out (empty for NULL or a family
 * other than IPv4/IPv6); returns out. */
const char *http_addr_str(const struct sockaddr *sa, char *out, size_t cap);
void http_conn_request_end(struct MHD_Connection *conn);

/* http_conn_on_uri - libmicrohttpd's URI log callback: remember the raw
 * query of the request starting on conn (for {url}), then http_frame_on_uri. */
void *http_conn_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);

/* http_conn_query - the raw query (after '?') of conn's current request, or
 * NULL when it has none. */
const char *http_conn_query(struct MHD_Connection *conn);

/* http_request_url - the URL the producer called, for {url} and JWT
 * audiences: the route's public_url, else scheme://Host + path + raw query
 * (https on a TLS listener).  out holds cap bytes; "" when it cannot be
 * built. */
void http_request_url(struct MHD_Connection *conn, int tls, const struct cfg_route *rt,
                      const char *path, char *out, size_t cap);

/* http_each_header - explain_each_header_fn over an MHD connection: each
 * request header's name (http.c). */
int http_each_header(void *ctx, void (*cb)(void *arg, const char *name), void *arg);

/* http_console_call - a request to a console path (console.h) on an admin
 * daemon, its body (a POST's, or NULL) read: answered (http_console.c). */
enum MHD_Result http_console_call(struct dctx *dc, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *body, size_t len);

/* http_console_admit - the first call of a console request that will carry
 * a body (console_wants_body), its headers only: 1 with the refusal queued
 * (MHD's result in *ret) and no body byte read, or 0 when its body may be
 * read (console_admit; http_console.c). */
int http_console_admit(struct dctx *dc, struct MHD_Connection *conn, const char *url,
                       const char *method, enum MHD_Result *ret);

/* http_note_reject - a request to rt (NULL: none) refused with err: kept in
 * the store's rejected ring (400, 401 and 403 only) with reason, the
 * masked headers and, when rt keeps them, the body (http.c). */
void http_note_reject(struct http *h, struct MHD_Connection *conn, const struct cfg_route *rt,
                      const char *url, int err, const char *reason, const char *body, size_t len);

/* http_verify_explained - http_verify, plus the refusal explained in words
 * an operator can act on into expl (cap bytes): which header was missing
 * and which were there, how far the timestamp was off, how many secrets
 * were tried, the body's size and type (http_hs.c).  Never a secret or
 * an expected signature. */
int http_verify_explained(struct MHD_Connection *conn, int tls, const struct cfg_route *rt,
                          const char *method, const char *body, size_t len, const char **why,
                          char *expl, size_t cap);

/* http_verify - verify_check of a complete request to rt (body: len bytes)
 * with every input the profile's template may use.  HG_OK, HG_ESIG or
 * HG_ESTALE with *why (a constant text for the log). */
int http_verify(struct MHD_Connection *conn, int tls, const struct cfg_route *rt,
                const char *method, const char *body, size_t len, const char **why,
                struct verify_detail *detail);

/* http_hs_try - if the request is a registration handshake of rt's profile
 * (body: NULL before the body is read, for GET/HEAD handshakes), verify and
 * answer it, count and log it, store nothing, and return 1 with
 * libmicrohttpd's result in *ret; else 0. */
int http_hs_try(struct dctx *dc, struct MHD_Connection *conn, const struct cfg_route *rt,
                const char *method, const char *body, size_t len, enum MHD_Result *ret);

/* http_conn_watch_start - init conn_lock and start the watcher thread that
 * cuts connections whose request headers take longer than request_timeout
 * (+1 s).  -1 if the thread cannot start.  http_conn_watch_free (after the
 * daemons have stopped) joins it and frees what start set up; it is a no-op
 * if start was never called. */
int http_conn_watch_start(struct http *h);
void http_conn_watch_free(struct http *h);

/* http_on_accept - libmicrohttpd's accept policy (cls: the struct http),
 * before anything is read: MHD_NO (the socket is closed at once) for an
 * address at its limits.max_connections_per_ip, or, once the free slots
 * are down to the reserve, for an address that already holds a few
 * connections (http_conn.c). */
enum MHD_Result http_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);

/* http_conn_open - the open connections that count against
 * max_connections: all of them but those already shut down to free a slot
 * (they close within moments).  Any thread. */
unsigned http_conn_open(struct http *h);
void http_pool_free(struct dctx *dc);

#endif
