/*
 * http.h - the HTTP side of the gateway: libmicrohttpd listeners, routing
 * and the request lifecycle (read body -> verify -> extract -> submit to
 * the store -> suspended until the commit -> answer).
 *
 * Each configured listener runs one libmicrohttpd daemon per thread, all
 * bound to its address with SO_REUSEPORT (http_listen.c); requests are
 * handled in http.c (admitted before their body by http_gate.c),
 * connections accounted in http_conn.c.  The request
 * path never blocks on the disk: a request whose body is complete and
 * verified is suspended and handed to the store's writer, whose done()
 * callback resumes it.
 */
#ifndef HG_HTTP_H
#define HG_HTTP_H

struct config;
struct store;
struct http;
struct http_binds;

/* http_start - bind every listener of cfg and start serving.  cfg and st
 * must outlive the returned handle.  Logs each bound address (with the real
 * port when the config asked for port 0).  HG_EIO with a log line if a
 * listener cannot start (nothing is left running then). */
int http_start(const struct config *cfg, struct store *st, const struct http_binds *binds,
               struct http **out);

/* http_bind - bind and listen on every listener's address (one socket per
 * thread), before privileges are dropped; http_start then serves on them.
 * HG_EIO with a log line. */
int http_bind(const struct config *cfg, struct http_binds **out);

/* http_binds_free - close the sockets http_start did not take.  NULL-safe. */
void http_binds_free(struct http_binds *b);

/* http_reload - new requests use cfg from now on (it must outlive h: the
 * caller keeps every config until http_stop).  TLS listeners get new
 * daemons with cfg's certificates, taking over the listening sockets; the
 * old daemons finish their connections and are stopped by http_reap.
 * cfg must have the same listeners (addresses) as the running config.
 * HG_EINVAL (listeners differ: nothing changed), HG_EIO (a certificate could
 * not be loaded: that listener keeps its old one; the rest applies). */
int http_reload(struct http *h, const struct config *cfg);

/* http_reap - stop the replaced daemons whose connections have all ended. */
void http_reap(struct http *h);

/* http_quiesce - stop accepting new connections; open ones go on. */
void http_quiesce(struct http *h);

/* http_wait_idle - after store_drain(): wait up to timeout_ms for every
 * request in progress to be answered, so committed events get their 200
 * rather than a closed connection. */
void http_wait_idle(struct http *h, int timeout_ms);

/* http_stop - close every connection and free the handle.  Call after
 * store_drain() so no connection is still suspended.  NULL-safe. */
void http_stop(struct http *h);

#endif
