/*
 * http_console.c - what the request path hands to the console and the
 * rejected ring (see http_int.h): a console request with its context (the
 * client, the sign-in rate, a public listener's loopback URL for test
 * events), a console POST's access settled on its headers before its body
 * (http_console_admit), a refused request noted for the ring, and the
 * request's header names for explain.h.  Kept apart from http.c, the
 * request lifecycle.
 */
#include "codec.h"
#include "config.h"
#include "console.h"
#include "err.h"
#include "http_int.h"
#include "http_rej.h"
#include "ratelimit.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

struct each_ctx {
    void (*cb)(void *, const char *);
    void *arg;
};

static enum MHD_Result each_name(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct each_ctx *e = cls;
    (void)kind;
    (void)value;
    if (key)
        e->cb(e->arg, key);
    return MHD_YES;
}

int http_each_header(void *ctx, void (*cb)(void *arg, const char *name), void *arg)
{
    struct each_ctx e = {cb, arg};
    return MHD_get_connection_values(ctx, MHD_HEADER_KIND, each_name, &e);
}

void http_note_reject(struct http *h, struct MHD_Connection *conn, const struct cfg_route *rt,
                      const char *url, int err, const char *reason, const char *body, size_t len)
{
    unsigned status = hg_http_status(err);
    if (!h->st || (status != 400 && status != 401 && status != 403))
        return;
    char ip[64], red[256];
    const struct config *cfg = atomic_load(&h->cfg);
    struct http_rej rj = {.route = rt,
                          .path = config_route_redact(cfg, url, red, sizeof(red)),
                          .client = http_addr_str(http_client_addr(conn), ip, sizeof(ip)),
                          .status = status,
                          .reason = reason ? reason : hg_strerror(err),
                          .body = body,
                          .body_len = len};
    http_rej_note(h->st, conn, &rj);
}

/* console_rate_ok - the sign-in rate of the console: the listener's
 * per-address limit, when one is configured. */
static int console_rate_ok(void *arg)
{
    struct MHD_Connection *conn = arg;
    struct http_client *cl = http_conn_client(conn);
    unsigned retry_s = 1;
    return !cl || !cl->h->rl ||
           ratelimit_check(cl->h->rl, http_client_addr(conn), time_now_ms(), &retry_s) == 0;
}

/* self_url - a public listener's URL on loopback ("http://127.0.0.1:PORT"),
 * for the console's test events; "" when there is none. */
static void self_url(struct http *h, const struct config *cfg, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < h->nls && i < cfg->nlisteners; i++) {
        const struct cfg_listener *l = &cfg->listeners[i];
        if (l->admin || !h->ls[i] || !h->ls[i]->nd)
            continue;
        const union MHD_DaemonInfo *di =
            MHD_get_daemon_info(h->ls[i]->d[0], MHD_DAEMON_INFO_BIND_PORT);
        unsigned port = di ? di->port : l->port;
        int v6 = strchr(l->host, ':') != NULL;
        const char *host = !strcmp(l->host, "0.0.0.0") ? "127.0.0.1"
                           : !strcmp(l->host, "::")    ? "::1"
                                                       : l->host;
        snprintf(out, cap, "%s://%s%s%s:%u", l->tls ? "https" : "http", v6 ? "[" : "", host,
                 v6 ? "]" : "", port);
        return;
    }
}

/* console_ctx_of - the console's view of a request on an admin daemon (ip
 * and self: the caller's buffers for the client's address and the public
 * listener's URL). */
static void console_ctx_of(struct dctx *dc, struct MHD_Connection *conn, const char *url,
                           const char *method, struct console_ctx *x, char ip[64], char self[128])
{
    struct http *h = dc->h;
    const struct config *cfg = atomic_load(&h->cfg);
    self_url(h, cfg, self, 128);
    *x = (struct console_ctx){.cfg = cfg,
                              .conn = conn,
                              .url = url,
                              .method = method,
                              .tls = dc->tls,
                              .client = http_client_addr(conn),
                              .client_ip = http_addr_str(http_client_addr(conn), ip, 64),
                              .self_url = self,
                              .rate_ok = console_rate_ok,
                              .rate_arg = conn};
}

enum MHD_Result http_console_call(struct dctx *dc, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *body, size_t len)
{
    char ip[64], self[128];
    struct console_ctx x;
    console_ctx_of(dc, conn, url, method, &x, ip, self);
    x.body = body;
    x.body_len = len;
    return console_handle(dc->h->con, &x);
}

/* http_console_admit - the first call of a request to the console that
 * will carry a body (console_wants_body), its headers only: 1 with the
 * refusal queued (MHD's result in *ret) - nothing of its body is read -,
 * or 0 when its body may be read (console_admit).  http.c's first_call
 * calls it before it sets up the body's buffer; declared in http_int.h. */
int http_console_admit(struct dctx *dc, struct MHD_Connection *conn, const char *url,
                       const char *method, enum MHD_Result *ret)
{
    char ip[64], self[128];
    struct console_ctx x;
    console_ctx_of(dc, conn, url, method, &x, ip, self);
    return console_admit(dc->h->con, &x, ret);
}
