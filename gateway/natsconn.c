/*
 * natsconn.c - NATS connection set-up shared by the jetstream sink and
 * shared dedupe (see natsconn.h).
 *
 * Why two connects at open when the first fails: libnats retries a failed
 * first connect inside natsConnection_Connect, blocking its caller for as
 * long as the reconnect settings allow (forever, here), unless a connected
 * callback is set; with one, the first pass over the servers is made at
 * once and the rest in the background, but the reason of a failed first
 * pass is gone by then.  So a first pass without retries tells why (the
 * server's "Authorization Violation", a TLS handshake error), and only if
 * it failed comes the retrying connect, whose callback does nothing.
 *
 * Why `refused`: a server that refused the connection at the first pass is
 * not tried again by libnats (3.4), whose last error is then only "No
 * server available for connection"; the refusal is kept to be named.
 *
 * Why `last`: natsConnection_GetLastError hands out a pointer into the
 * connection that libnats rewrites on its own threads, so the text is read
 * only in libnats' callbacks (error, disconnected, closed), copied under
 * n->lock, and natsconn_why copies it out under that lock again.  The
 * callbacks also count disconnections (`drops`), for a sink that needs to
 * know whether the link went down while a publish was in flight.
 *
 * Timeouts: the diagnostic first pass waits NATSCONN_FIRST_TIMEOUT_MS per
 * server (not libnats' 2 s), so a black-holed server delays a start by
 * about 1 s per server and connection; the retrying pass and every later
 * reconnect use NATSCONN_TIMEOUT_MS.
 *
 * The options are copied by libnats at connect and freed here; the creds
 * file is read again at each (re)connect, so a rotated file takes effect
 * on the next reconnect.
 */
#include "natsconn.h"
#include "config.h"
#include "err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NATSCONN_RECONNECT_WAIT_MS 500
#define NATSCONN_FIRST_TIMEOUT_MS  500 /* the diagnostic first pass, per server */
#define NATSCONN_TIMEOUT_MS        500 /* the retrying pass and reconnects, per server */

struct natsconn {
    natsConnection *nc;
    pthread_mutex_t lock; /* refused, last, drops */
    char refused[160];    /* the server's refusal of the credentials, or "" */
    char last[160];       /* the connection's last error as a callback saw it, or "" */
    natsStatus last_st;   /* its status */
    unsigned long drops;  /* disconnections and closes so far */
    int closed;           /* the closed callback ran: no callback comes after it */
    pthread_cond_t gone;  /* signalled with closed */
};

struct natsconn_cfg natsconn_cfg_of_sink(const struct cfg_sink *s)
{
    struct natsconn_cfg c = {s->servers, s->creds, s->tls_ca, s->tls_cert, s->tls_key};
    return c;
}

static void on_connected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure; /* see the top: its being set is what matters */
}

/* words - "(conn.c:1905): Authorization Violation": the words only */
static const char *words(const char *e)
{
    const char *at = e && *e == '(' ? strstr(e, "): ") : NULL;
    return at ? at + 3 : e;
}

/* record - copy nc's last error into n->last (libnats' callback threads) */
static void record(struct natsconn *n, natsConnection *nc, natsStatus cb_st, int drop)
{
    const char *last = NULL;
    natsStatus st = natsConnection_GetLastError(nc, &last);
    if (st == NATS_OK)
        st = cb_st;
    pthread_mutex_lock(&n->lock);
    if (st != NATS_OK) {
        const char *w = words(last);
        snprintf(n->last, sizeof(n->last), "%s", w && *w ? w : natsStatus_GetText(st));
        n->last_st = st;
        if (st == NATS_CONNECTION_AUTH_FAILED)
            snprintf(n->refused, sizeof(n->refused), "%s", n->last);
    }
    if (drop)
        n->drops++;
    pthread_mutex_unlock(&n->lock);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    (void)sub;
    record(closure, nc, err, 0);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    record(closure, nc, NATS_OK, 1);
}

static void on_closed(natsConnection *nc, void *closure)
{
    struct natsconn *n = closure;
    record(n, nc, NATS_OK, 1);
    pthread_mutex_lock(&n->lock);
    n->closed = 1;
    pthread_cond_broadcast(&n->gone);
    pthread_mutex_unlock(&n->lock);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    struct natsconn *n = closure;
    pthread_mutex_lock(&n->lock);
    n->last[0] = '\0';
    n->last_st = NATS_OK;
    pthread_mutex_unlock(&n->lock);
}

/* options - everything but the retry of a failed first connect */
static natsStatus options(const struct natsconn_cfg *c, natsOptions *o, struct natsconn *nc)
{
    int n = 0;
    while (c->servers[n])
        n++;
    natsStatus st = natsOptions_SetServers(o, (const char **)c->servers, n);
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(o, -1); /* forever: the store is the buffer */
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(o, NATSCONN_RECONNECT_WAIT_MS);
    if (st == NATS_OK)
        st = natsOptions_SetTimeout(o, NATSCONN_FIRST_TIMEOUT_MS);
    if (st == NATS_OK)
        st = natsOptions_SetErrorHandler(o, on_error, nc);
    if (st == NATS_OK)
        st = natsOptions_SetDisconnectedCB(o, on_disconnected, nc);
    if (st == NATS_OK)
        st = natsOptions_SetClosedCB(o, on_closed, nc);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectedCB(o, on_reconnected, nc);
    if (st == NATS_OK && c->creds)
        st = natsOptions_SetUserCredentialsFromFiles(
            o, !strncmp(c->creds, "file:", 5) ? c->creds + 5 : c->creds, NULL);
    if (st == NATS_OK && (c->tls_ca || c->tls_cert))
        st = natsOptions_SetSecure(o, true);
    if (st == NATS_OK && c->tls_ca)
        st = natsOptions_LoadCATrustedCertificates(o, c->tls_ca);
    if (st == NATS_OK && c->tls_cert)
        st = natsOptions_LoadCertificatesChain(o, c->tls_cert, c->tls_key);
    return st;
}

int natsconn_open(const struct natsconn_cfg *c, struct natsconn **out, const char **why)
{
    struct natsconn *n = calloc(1, sizeof(*n));
    if (!n) {
        *why = "out of memory";
        return HG_EIO;
    }
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->gone, NULL);
    natsOptions *o = NULL;
    int rc = HG_EINVAL;
    natsStatus st = natsOptions_Create(&o);
    if (st == NATS_OK)
        st = options(c, o, n);
    if (st == NATS_OK) {
        rc = HG_EIO;
        st = natsConnection_Connect(&n->nc, o);
    }
    if (rc == HG_EIO && st != NATS_OK) {
        const char *e = words(nats_GetLastError(NULL)); /* this thread's: no race */
        if (st != NATS_NO_SERVER)                       /* reached, and refused */
            snprintf(n->refused, sizeof(n->refused), "%s", e && *e ? e : natsStatus_GetText(st));
        st = natsOptions_SetRetryOnFailedConnect(o, true, on_connected, NULL);
        if (st == NATS_OK)
            st = natsOptions_SetTimeout(o, NATSCONN_TIMEOUT_MS);
        if (st == NATS_OK)
            st = natsConnection_Connect(&n->nc, o);
    }
    natsOptions_Destroy(o); /* the connection has its own copy */
    if (st != NATS_OK && st != NATS_NOT_YET_CONNECTED) {
        *why = natsStatus_GetText(st);
        natsconn_close(n);
        return rc;
    }
    *out = n;
    return HG_OK;
}

natsConnection *natsconn_nc(struct natsconn *n)
{
    return n->nc;
}

const char *natsconn_why(struct natsconn *n, char *buf, size_t cap)
{
    natsConnStatus cs = natsConnection_Status(n->nc);
    if (cs == NATS_CONN_STATUS_CONNECTED)
        return NULL;
    const char *closed = cs == NATS_CONN_STATUS_CLOSED ? "connection closed" : "not connected";
    pthread_mutex_lock(&n->lock);
    if (n->last[0] && n->last_st != NATS_NO_SERVER)
        snprintf(buf, cap, "%s", n->last);
    else if (n->refused[0])
        snprintf(buf, cap, "%s: %s", closed, n->refused);
    else
        snprintf(buf, cap, "%s", closed);
    pthread_mutex_unlock(&n->lock);
    return buf;
}

unsigned long natsconn_drops(struct natsconn *n)
{
    pthread_mutex_lock(&n->lock);
    unsigned long d = n->drops;
    pthread_mutex_unlock(&n->lock);
    return d;
}

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

int natsconn_cfg_same(const struct natsconn_cfg *a, const struct natsconn_cfg *b)
{
    char *const *x = a->servers, *const *y = b->servers;
    for (; x && y && *x && *y; x++, y++)
        if (strcmp(*x, *y))
            return 0;
    if ((x && *x) || (y && *y))
        return 0;
    return same_str(a->creds, b->creds) && same_str(a->tls_ca, b->tls_ca) &&
           same_str(a->tls_cert, b->tls_cert) && same_str(a->tls_key, b->tls_key);
}

/* wait_closed - 1 once the closed callback ran (it is libnats' last for
 * the connection; callbacks run in order on one thread), 0 after 5 s */
static int wait_closed(struct natsconn *n)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&n->lock);
    while (!n->closed)
        if (pthread_cond_timedwait(&n->gone, &n->lock, &dl))
            break;
    int c = n->closed;
    pthread_mutex_unlock(&n->lock);
    return c;
}

void natsconn_close(struct natsconn *n)
{
    if (!n)
        return;
    if (n->nc) {
        natsConnection_Close(n->nc);
        int done = wait_closed(n);
        natsConnection_Destroy(n->nc);
        if (!done)
            return; /* a callback may still come: n stays (a few hundred bytes) */
    }
    pthread_cond_destroy(&n->gone);
    pthread_mutex_destroy(&n->lock);
    free(n);
}
