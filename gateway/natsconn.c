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

#define NATSCONN_RECONNECT_WAIT_MS 500

struct natsconn {
    natsConnection *nc;
    pthread_mutex_t lock; /* refused */
    char refused[160];    /* the server's refusal of the credentials, or "" */
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

/* options - everything but the retry of a failed first connect */
static natsStatus options(const struct natsconn_cfg *c, natsOptions *o)
{
    int n = 0;
    while (c->servers[n])
        n++;
    natsStatus st = natsOptions_SetServers(o, (const char **)c->servers, n);
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(o, -1); /* forever: the store is the buffer */
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(o, NATSCONN_RECONNECT_WAIT_MS);
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
    natsOptions *o = NULL;
    int rc = HG_EINVAL;
    natsStatus st = natsOptions_Create(&o);
    if (st == NATS_OK)
        st = options(c, o);
    if (st == NATS_OK) {
        rc = HG_EIO;
        st = natsConnection_Connect(&n->nc, o);
    }
    if (rc == HG_EIO && st != NATS_OK) {
        const char *e = nats_GetLastError(NULL), *at = e && *e == '(' ? strstr(e, "): ") : NULL;
        if (at) /* "(conn.c:1905): Authorization Violation": the words only */
            e = at + 3;
        if (st != NATS_NO_SERVER) /* reached, and refused */
            snprintf(n->refused, sizeof(n->refused), "%s", e && *e ? e : natsStatus_GetText(st));
        st = natsOptions_SetRetryOnFailedConnect(o, true, on_connected, NULL);
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
    const char *last = NULL;
    natsStatus st = natsConnection_GetLastError(n->nc, &last);
    const char *closed = cs == NATS_CONN_STATUS_CLOSED ? "connection closed" : "not connected";
    pthread_mutex_lock(&n->lock);
    if (st == NATS_CONNECTION_AUTH_FAILED && last && *last)
        snprintf(n->refused, sizeof(n->refused), "%s", last);
    if (st != NATS_OK && st != NATS_NO_SERVER && last && *last)
        snprintf(buf, cap, "%s", last);
    else if (n->refused[0])
        snprintf(buf, cap, "%s: %s", closed, n->refused);
    else
        snprintf(buf, cap, "%s", closed);
    pthread_mutex_unlock(&n->lock);
    return buf;
}

void natsconn_close(struct natsconn *n)
{
    if (!n)
        return;
    if (n->nc) {
        natsConnection_Close(n->nc);
        natsConnection_Destroy(n->nc);
    }
    pthread_mutex_destroy(&n->lock);
    free(n);
}
