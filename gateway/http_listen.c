/*
 * http_listen.c - listeners: bind and start the libmicrohttpd daemons,
 * replace them on reload, quiesce and stop them (see http.h, http_int.h).
 *
 * One listener = one daemon per thread, all bound to the same address with
 * SO_REUSEPORT when there are several.  On reload a TLS listener's daemons
 * are replaced one by one: the old daemon is quiesced, its listening socket
 * handed to a new daemon with the new certificate, and the old one is
 * stopped once its last connection has ended (http_reap), so no connection
 * is dropped and no new handshake sees the old certificate.
 */
#include "http.h"
#include "http_int.h"
#include "console.h"
#include "http_frame.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "ratelimit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct MHD_Response *make_canned(const char *body, const char *hname, const char *hval)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return NULL;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (hname)
        MHD_add_response_header(r, hname, hval);
    return r;
}

static int http_canned_init(struct http *h)
{
    h->canned[C_429] = make_canned("{\"error\":\"too many requests\"}\n", "Retry-After", "1");
    if (h->canned[C_429])
        MHD_add_response_header(h->canned[C_429], "Connection", "close");
    h->canned[C_401] = make_canned("{\"error\":\"invalid signature\"}\n", "Connection", "close");
    h->canned[C_403] = make_canned("{\"error\":\"forbidden\"}\n", "Connection", "close");
    h->canned[C_404] = make_canned("{\"error\":\"not found\"}\n", NULL, NULL);
    h->canned[C_400] = make_canned("{\"error\":\"invalid request\"}\n", "Connection", "close");
    h->canned[C_405] = make_canned("{\"error\":\"method not allowed\"}\n", "Allow", "POST");
    h->canned[C_405_GET] =
        make_canned("{\"error\":\"method not allowed\"}\n", "Allow", "GET, HEAD");
    h->canned[C_413] = make_canned("{\"error\":\"body too large\"}\n", "Connection", "close");
    h->canned[C_503_BUSY] = make_canned("{\"error\":\"busy, retry later\"}\n", "Retry-After", "1");
    h->canned[C_503_STORE] =
        make_canned("{\"error\":\"store unavailable, retry later\"}\n", "Retry-After", "5");
    h->canned[C_HEALTH_OK] = make_canned("{\"status\":\"ok\"}\n", NULL, NULL);
    h->canned[C_HEALTH_BAD] =
        make_canned("{\"status\":\"store unavailable\"}\n", "Retry-After", "5");
    for (int i = 0; i < C_N; i++)
        if (!h->canned[i])
            return HG_ENOMEM;
    return HG_OK;
}

static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(&b, chunk, n);
    (void)fclose(f); /* read-only */
    if (rc || !b.p) {
        buf_free(&b);
        return NULL;
    }
    return b.p;
}

static unsigned threads_of(const struct config *cfg)
{
    unsigned t = cfg->threads ? cfg->threads : 2;
    return t > HTTP_MAX_THREADS ? HTTP_MAX_THREADS : t;
}

/* listener_free - stop a listener's daemons and free it (its live tails
 * ended first: a suspended connection must not meet MHD_stop_daemon).
 * NULL-safe. */
static void listener_free(struct http *h, struct listener *l)
{
    if (!l)
        return;
    for (unsigned k = 0; k < l->nd; k++) {
        if (l->ctx[k].admin)
            console_sse_end(h->con, l->d[k]);
        MHD_stop_daemon(l->d[k]);
        http_pool_free(&l->ctx[k]);
    }
    free(l->cert_pem);
    free(l->ca_pem);
    if (l->key_pem)
        OPENSSL_cleanse(l->key_pem, strlen(l->key_pem));
    free(l->key_pem);
    free(l);
}

/* pems - a TLS listener's certificate, key and client CA, read into memory */
struct pems {
    char *cert, *key, *ca;
};

static void pems_free(struct pems *p)
{
    if (!p)
        return;
    free(p->cert);
    if (p->key)
        OPENSSL_cleanse(p->key, strlen(p->key));
    free(p->key);
    free(p->ca);
    memset(p, 0, sizeof(*p));
}

/* pems_load - read cl's files and check them with GnuTLS (the key matches
 * the certificate, the CA parses): 0, or -1 with a reason for the log. */
static int pems_load(const struct cfg_listener *cl, struct pems *p, const char **why)
{
    memset(p, 0, sizeof(*p));
    p->cert = read_pem(cl->cert);
    p->key = read_pem(cl->key);
    if (cl->client_ca)
        p->ca = read_pem(cl->client_ca);
    if (!p->cert || !p->key || (cl->client_ca && !p->ca)) {
        *why = "cannot read the certificate, key or client_ca file";
        pems_free(p);
        return -1;
    }
    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) < 0) {
        *why = "out of memory";
        pems_free(p);
        return -1;
    }
    gnutls_datum_t c = {(unsigned char *)p->cert, (unsigned)strlen(p->cert)};
    gnutls_datum_t k = {(unsigned char *)p->key, (unsigned)strlen(p->key)};
    int rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
    *why = rc < 0 ? "the certificate and key cannot be used together" : NULL;
    if (rc >= 0 && p->ca) {
        gnutls_datum_t a = {(unsigned char *)p->ca, (unsigned)strlen(p->ca)};
        if (gnutls_certificate_set_x509_trust_mem(cred, &a, GNUTLS_X509_FMT_PEM) <= 0) {
            rc = -1;
            *why = "client_ca holds no usable certificate";
        }
    }
    gnutls_certificate_free_credentials(cred);
    if (rc < 0) {
        pems_free(p);
        return -1;
    }
    return 0;
}

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* listener_pems - l's certificate, key and client CA: pem's (read and
 * checked by the caller; taken over, pem is left empty) or read from cl's
 * files.  0, or -1 with a log line (what was read stays in l). */
static int listener_pems(struct listener *l, const struct cfg_listener *cl, struct pems *pem)
{
    if (pem) {
        l->cert_pem = pem->cert;
        l->key_pem = pem->key;
        l->ca_pem = pem->ca;
        memset(pem, 0, sizeof(*pem));
    }
    if (cl->tls && !l->cert_pem) {
        l->cert_pem = read_pem(cl->cert);
        l->key_pem = read_pem(cl->key);
        if (!l->cert_pem || !l->key_pem) {
            log_msg(LOG_ERROR, "http: cannot read TLS certificate or key", "{s:s}", "listen",
                    cl->address);
            return -1;
        }
    }
    if (cl->client_ca && !l->ca_pem && !(l->ca_pem = read_pem(cl->client_ca))) {
        log_msg(LOG_ERROR, "http: cannot read tls.client_ca", "{s:s}", "listen", cl->address);
        return -1;
    }
    return 0;
}

/* listener_addr - cl's host as a socket address in ss (port 0: set_port
 * sets it); MHD_USE_IPv6 for an IPv6 address, else 0. */
static unsigned listener_addr(const struct cfg_listener *cl, struct sockaddr_storage *ss)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, cl->host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        return 0;
    }
    inet_pton(AF_INET6, cl->host, &s6->sin6_addr);
    s6->sin6_family = AF_INET6;
    return MHD_USE_IPv6;
}

static void set_port(struct sockaddr_storage *ss, unsigned port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};
/* SO_REUSEPORT only when a listener has several daemons to share the port: a
 * lone daemon keeps MHD's default (SO_REUSEADDR), so a second gateway started
 * by mistake fails to bind instead of sharing traffic */
static struct MHD_OptionItem reuse_opts[] = {{MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
                                             {MHD_OPTION_END, 0, NULL}};

/* pool_size - libmicrohttpd's per-connection memory pool for max_header_size
 * hs: the request line and headers (hs bytes at most), plus room for what
 * libmicrohttpd allocates next to them: a 64-byte record per header field
 * (from the pool's end) and the response's status line and headers.  The
 * room is hs / 2, at least 4 KiB (a full-size request keeps room for about
 * 64 fields from hs = 8 KiB up, 32 at 4 KiB, as before), and the pool never
 * exceeds the former 2 x hs (unchanged up to hs = 8 KiB).  Why not 2 x hs:
 * libmicrohttpd 0.9.75 zeroes the whole pool when a keep-alive request
 * completes (connection_reset -> MHD_pool_reset -> memset), so an idle
 * keep-alive connection keeps all of its pool resident: at 10,000 of them
 * every KiB of pool is ~10 MiB of RSS (issue 17, item 5). */
static size_t pool_size(uint64_t hs)
{
    uint64_t room = hs / 2 > 4096 ? hs / 2 : 4096;
    return (size_t)(room < hs ? hs + room : 2 * hs);
}

/* dopts - what every daemon of one listener is started with */
struct dopts {
    unsigned flags;
    unsigned limit;   /* connections per daemon */
    unsigned timeout; /* idle seconds */
    size_t memlim;    /* per-connection pool */
    struct MHD_OptionItem *reuse, *tls;
};

/* start_daemon - one daemon of a listener, on the socket or address that
 * bind names, with ctx as its callbacks' context.  NULL on failure. */
static struct MHD_Daemon *start_daemon(struct http *h, struct dctx *ctx, const struct dopts *o,
                                       struct MHD_OptionItem *bind)
{
    return MHD_start_daemon(
        o->flags, 0, http_on_accept, h, http_on_access, ctx, MHD_OPTION_EXTERNAL_LOGGER,
        http_on_mhd_log, h, MHD_OPTION_ARRAY, bind, MHD_OPTION_ARRAY, o->reuse,
        MHD_OPTION_CONNECTION_LIMIT, o->limit, MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->memlim,
        MHD_OPTION_CONNECTION_TIMEOUT, o->timeout, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
        MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, ctx, MHD_OPTION_NOTIFY_CONNECTION,
        http_on_connection, ctx, MHD_OPTION_URI_LOG_CALLBACK, http_conn_on_uri, NULL,
        MHD_OPTION_ARRAY, http_frame_mhd_options(), MHD_OPTION_ARRAY, o->tls, MHD_OPTION_END);
}

/* start_listener - daemons for cl into a new listener.  fds (may be NULL):
 * listening sockets handed over from the daemons being replaced, one per
 * thread; otherwise the address is bound.  pem (may be NULL: read cl's
 * files) is taken over.  NULL with a log line on error; libmicrohttpd may
 * have closed sockets of fds by then. */
static struct listener *start_listener(struct http *h, const struct config *cfg,
                                       const struct cfg_listener *cl, const MHD_socket *fds,
                                       unsigned nfds, struct pems *pem, int reload)
{
    struct listener *l = calloc(1, sizeof(*l));
    if (!l) {
        pems_free(pem);
        return NULL;
    }
    if (listener_pems(l, cl, pem)) {
        listener_free(h, l);
        return NULL;
    }
    struct sockaddr_storage ss;
    unsigned threads = fds ? nfds : threads_of(cfg);
    unsigned timeout = (unsigned)(cfg->request_timeout_ms / 1000);
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, l->cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, l->key_pem},
        /* tls.priorities, checked at load; the default is CONFIG_TLS_PRIORITIES */
        {MHD_OPTION_HTTPS_PRIORITIES, 0,
         (void *)(cl->priorities ? cl->priorities : CONFIG_TLS_PRIORITIES)},
        {l->ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, l->ca_pem},
        {MHD_OPTION_END, 0, NULL}};
    struct dopts o = {
        .flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                 MHD_USE_ERROR_LOG | MHD_USE_TURBO | listener_addr(cl, &ss) |
                 (cl->tls ? MHD_USE_TLS : 0),
        /* the hard cap sits a little above max_connections so that the
         * excess gets a 503 with Retry-After rather than a silent close */
        .limit = cfg->max_connections + 16 * threads,
        .timeout = timeout ? timeout : 1,
        /* the per-connection pool holds the request line and headers (and
         * buffers body chunks): headers that do not fit get libmicrohttpd's
         * 431, and the body size is limited separately by max_body */
        .memlim = pool_size(cfg->max_header_size),
        .reuse = threads > 1 && !fds ? reuse_opts : no_opts,
        .tls = cl->tls ? tls_opts : no_opts,
    };
    unsigned port = cl->port;
    for (unsigned k = 0; k < threads; k++) {
        set_port(&ss, port);
        struct MHD_OptionItem bind_opts[] = {{fds ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
                                              fds ? fds[k] : 0, fds ? NULL : &ss},
                                             {MHD_OPTION_END, 0, NULL}};
        l->ctx[k] = (struct dctx){.h = h,
                                  .admin = cl->admin,
                                  .mtls = cl->client_ca != NULL,
                                  .tls = cl->tls,
                                  .limit = o.limit,
                                  .li = (unsigned)(cl - cfg->listeners)};
        if (!(l->d[k] = start_daemon(h, &l->ctx[k], &o, bind_opts))) {
            log_msg(LOG_ERROR, "http: cannot start listener", "{s:s}", "listen", cl->address);
            listener_free(h, l);
            return NULL;
        }
        l->nd = k + 1;
        const union MHD_DaemonInfo *di =
            k ? NULL : MHD_get_daemon_info(l->d[0], MHD_DAEMON_INFO_BIND_PORT);
        if (di)
            port = di->port; /* port 0: the others join the port the first one got */
    }
    log_msg(LOG_INFO, reload ? "listener reloaded" : "listening", "{s:s,s:s,s:i,s:s,s:i}", "listen",
            cl->address, "host", cl->host, "port", (int)port, "scheme", cl->tls ? "https" : "http",
            "threads", (int)threads);
    return l;
}

struct http_binds {
    size_t n;
    unsigned nfd[64];
    MHD_socket fd[64][HTTP_MAX_THREADS]; /* -1 once taken by a daemon */
};

/* bind_one - a listening socket on cl's address (port: the one to use, 0 =
 * any; the bound port is returned in *port). */
static int bind_one(const struct cfg_listener *cl, unsigned *port, int reuseport)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, cl->host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)*port);
        len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, cl->host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)*port);
        len = sizeof(*s6);
    } else {
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1024)) {
        close(fd);
        return -1;
    }
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        *port = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
    return fd;
}

int http_bind(const struct config *cfg, struct http_binds **out)
{
    struct http_binds *b = calloc(1, sizeof(*b));
    if (!b || cfg->nlisteners > 64) {
        free(b);
        return HG_ENOMEM;
    }
    unsigned threads = threads_of(cfg);
    for (size_t i = 0; i < cfg->nlisteners; i++) {
        const struct cfg_listener *cl = &cfg->listeners[i];
        unsigned port = cl->port;
        b->n = i + 1;
        for (unsigned k = 0; k < threads; k++) {
            int fd = bind_one(cl, &port, threads > 1);
            if (fd < 0) {
                log_msg(LOG_ERROR, "http: cannot bind listener", "{s:s,s:s}", "listen", cl->address,
                        "error", strerror(errno));
                http_binds_free(b);
                return HG_EIO;
            }
            b->fd[i][k] = fd;
            b->nfd[i] = k + 1;
        }
    }
    *out = b;
    return HG_OK;
}

void http_binds_free(struct http_binds *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        for (unsigned k = 0; k < b->nfd[i]; k++)
            if (b->fd[i][k] >= 0)
                close(b->fd[i][k]);
    free(b);
}

int http_start(const struct config *cfg, struct store *st, const struct http_binds *binds,
               struct http **out)
{
    struct http *h = calloc(1, sizeof(*h));
    if (!h)
        return HG_ENOMEM;
    atomic_init(&h->cfg, cfg);
    h->st = st;
    atomic_init(&h->conns, 0);
    pthread_mutex_init(&h->retired_lock, NULL);
    h->ls = calloc(cfg->nlisteners, sizeof(struct listener *));
    if (!h->ls || http_canned_init(h) || http_conn_watch_start(h)) {
        http_stop(h);
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < cfg->nlisteners; i++)
        h->has_admin |= cfg->listeners[i].admin;
    if (h->has_admin && console_new(st, cfg, &h->con)) {
        http_stop(h);
        return HG_ENOMEM;
    }
    /* always: the per-address cap and the reserve read its counts */
    if (!(h->rl = ratelimit_new(cfg->rate_per_ip, cfg->rate_burst))) {
        http_stop(h);
        return HG_ENOMEM;
    }
    for (size_t i = 0; i < cfg->nlisteners; i++) {
        const MHD_socket *fds = binds && i < binds->n ? binds->fd[i] : NULL;
        unsigned nfds = fds ? binds->nfd[i] : 0;
        if (!(h->ls[i] = start_listener(h, cfg, &cfg->listeners[i], fds, nfds, NULL, 0))) {
            http_stop(h);
            return HG_EIO;
        }
        if (fds) /* the daemons own them now */
            memset((void *)binds->fd[i], 0xff, sizeof(binds->fd[i]));
        h->nls = i + 1;
    }
    *out = h;
    return HG_OK;
}

int http_reload(struct http *h, const struct config *cfg)
{
    const struct config *old = atomic_load(&h->cfg);
    if (cfg->nlisteners != old->nlisteners)
        return HG_EINVAL;
    /* requests whose headers arrive from now on see the new config */
    atomic_store(&h->cfg, cfg);
    console_set_config(h->con, cfg);
    int rc = HG_OK;
    for (size_t i = 0; i < h->nls; i++) {
        const struct cfg_listener *cl = &cfg->listeners[i];
        if (!cl->tls)
            continue; /* nothing of a plain listener's daemons depends on the config */
        /* the new certificate is checked before anything is touched: an
         * unusable one leaves the running daemons exactly as they were */
        struct pems pem;
        const char *why = NULL;
        if (pems_load(cl, &pem, &why)) {
            log_msg(LOG_ERROR,
                    "http: TLS files unusable on reload; the listener keeps its certificate",
                    "{s:s,s:s}", "listen", cl->address, "error", why);
            rc = HG_EIO;
            continue;
        }
        /* hand each listening socket to a new daemon with the new certificate;
         * the old daemons keep their connections until these end.  Spare
         * duplicates of the sockets let the old settings take over again if
         * the new daemons cannot start. */
        struct listener *l = h->ls[i];
        MHD_socket fds[HTTP_MAX_THREADS], spare[HTTP_MAX_THREADS];
        for (unsigned k = 0; k < l->nd; k++) {
            fds[k] = MHD_quiesce_daemon(l->d[k]);
            spare[k] = fds[k] == MHD_INVALID_SOCKET ? -1 : fcntl(fds[k], F_DUPFD_CLOEXEC, 0);
        }
        struct listener *nl = start_listener(h, cfg, cl, fds, l->nd, &pem, 1);
        if (!nl) {
            struct pems keep = {dup_str(l->cert_pem), dup_str(l->key_pem), dup_str(l->ca_pem)};
            nl = start_listener(h, old, &old->listeners[i], spare, l->nd, &keep, 1);
            rc = HG_EIO;
        } else {
            for (unsigned k = 0; k < l->nd; k++)
                if (spare[k] >= 0)
                    close(spare[k]);
        }
        if (!nl) {
            log_msg(LOG_ERROR, "http: listener lost on reload", "{s:s}", "listen", cl->address);
            continue;
        }
        for (unsigned k = 0; k < l->nd; k++) /* live tails end: the old daemons can drain */
            if (l->ctx[k].admin)
                console_sse_end(h->con, l->d[k]);
        pthread_mutex_lock(&h->retired_lock);
        l->next_retired = h->retired;
        h->retired = l;
        pthread_mutex_unlock(&h->retired_lock);
        h->ls[i] = nl;
    }
    return rc;
}

void http_reap(struct http *h)
{
    if (atomic_load(&h->resuming))
        return; /* a resume may still touch a daemon: next time */
    pthread_mutex_lock(&h->retired_lock);
    for (struct listener **p = &h->retired; *p;) {
        struct listener *l = *p;
        unsigned open = 0;
        for (unsigned k = 0; k < l->nd; k++) {
            const union MHD_DaemonInfo *di =
                MHD_get_daemon_info(l->d[k], MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
            open += di ? di->num_connections : 0;
        }
        if (open) {
            p = &l->next_retired;
            continue;
        }
        *p = l->next_retired;
        listener_free(h, l);
    }
    pthread_mutex_unlock(&h->retired_lock);
}

void http_quiesce(struct http *h)
{
    for (size_t i = 0; h && i < h->nls; i++)
        for (unsigned k = 0; k < h->ls[i]->nd; k++) {
            /* the listen socket is ours now: close it so that the kernel
             * refuses new connections instead of queueing them */
            MHD_socket fd = MHD_quiesce_daemon(h->ls[i]->d[k]);
            if (fd != MHD_INVALID_SOCKET)
                close(fd);
        }
}

void http_wait_idle(struct http *h, int timeout_ms)
{
    for (int t = 0; h && atomic_load(&h->active) > 0 && t < timeout_ms; t += 10) {
        struct timespec ts = {0, 10L * 1000000};
        nanosleep(&ts, NULL);
    }
}

void http_stop(struct http *h)
{
    if (!h)
        return;
    for (size_t i = 0; h->ls && i < h->nls; i++)
        listener_free(h, h->ls[i]);
    free(h->ls);
    while (h->retired) {
        struct listener *l = h->retired;
        h->retired = l->next_retired;
        listener_free(h, l);
    }
    pthread_mutex_destroy(&h->retired_lock);
    console_free(h->con);    /* after the daemons: no request can reach it */
    http_conn_watch_free(h); /* after the daemons: their last callbacks use it */
    ratelimit_free(h->rl);
    for (int i = 0; i < C_N; i++)
        if (h->canned[i])
            MHD_destroy_response(h->canned[i]);
    free(h);
}
