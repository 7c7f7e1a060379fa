/*
 * shdedupe.c - shared dedupe on a JetStream key-value bucket (see shdedupe.h).
 *
 * Keys are the hex SHA-256 of "ROUTE:ID" (bucket keys allow a small
 * alphabet; event ids do not keep to it).  Lookups are synchronous on the
 * request's thread with the connection's short timeout; writes go through a
 * bounded queue to one background thread, so a slow bucket never delays an
 * answer that is already durable.  A full queue drops the write (counted):
 * the stream's Nats-Msg-Id window is the backstop.
 *
 * The connection is natsconn.c's, as the jetstream sink's is.  Servers that
 * config.c copied from the route's jetstream sink come with that sink's
 * credentials and TLS settings (auth_of): a cluster that asks the sink for
 * them asks shared dedupe too.
 *
 * Handles live until exit (their writer threads run on).  A reload reuses
 * the handle of a route whose name, bucket, TTL, servers and credentials
 * (creds and TLS file paths) did not change, so reloads never pile up
 * connections; a handle keeps pointing at the route and sink of the config
 * it was opened for (configs are never freed before exit, see reload.c).
 */
#include "shdedupe.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "metrics.h"
#include "natsconn.h"

#include <nats/nats.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHD_QUEUE   4096
#define SHD_KEY     (2 * SHA256_DIGEST_LENGTH + 1)
#define SHD_WAIT_MS 200 /* a lookup that takes longer falls back to local dedupe */

struct shdedupe {
    const struct cfg_route *route;
    const struct cfg_sink *auth; /* auth_of() at open, or NULL */
    struct natsconn *conn;
    natsConnection *nc; /* conn's */
    jsCtx *js;
    kvStore *kv;
    pthread_mutex_t lock; /* kv (opened lazily) and the queue */
    pthread_cond_t more;
    char q[SHD_QUEUE][SHD_KEY];
    size_t head, n;
    pthread_t thread;
    int64_t last_warn;
};

static int key_of(const struct shdedupe *s, const char *id, size_t len, char out[SHD_KEY])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(c, s->route->name, strlen(s->route->name)) &&
             EVP_DigestUpdate(c, ":", 1) && EVP_DigestUpdate(c, id, len) &&
             EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    if (!ok)
        return -1; /* out of memory: no key, rather than a wrong one */
    hex_encode(md, sizeof(md), out);
    return 0;
}

/* bucket - the kv handle, opening (or creating) the bucket on first use. */
static kvStore *bucket(struct shdedupe *s)
{
    pthread_mutex_lock(&s->lock);
    if (!s->kv && natsConnection_Status(s->nc) == NATS_CONN_STATUS_CONNECTED) {
        kvStore *kv = NULL;
        if (js_KeyValue(&kv, s->js, s->route->shd_bucket) != NATS_OK) {
            kvConfig kc;
            kvConfig_Init(&kc);
            kc.Bucket = s->route->shd_bucket;
            kc.History = 1;
            kc.TTL = (int64_t)s->route->shd_ttl_ms * 1000000;
            if (js_CreateKeyValue(&kv, s->js, &kc) != NATS_OK)
                kv = NULL;
        }
        s->kv = kv;
    }
    kvStore *kv = s->kv;
    pthread_mutex_unlock(&s->lock);
    return kv;
}

static void fallback(struct shdedupe *s, const char *what, natsStatus st)
{
    metrics_shared_fallback(s->route->mx);
    int64_t now = time_now_ms();
    if (now - s->last_warn > 10000) { /* one line per 10 s, not one per request */
        s->last_warn = now;
        char buf[256];
        const char *why = natsconn_why(s->conn, buf, sizeof(buf)); /* the cause, when it is that */
        log_msg(LOG_WARN, "shared dedupe unavailable; local dedupe and Nats-Msg-Id only",
                "{s:s,s:s,s:s,s:s}", "route", s->route->name, "bucket", s->route->shd_bucket,
                "step", what, "error", why ? why : natsStatus_GetText(st));
    }
}

int shdedupe_seen(struct shdedupe *s, const char *id, size_t len)
{
    if (!s)
        return 0;
    kvStore *kv = bucket(s);
    if (!kv) {
        fallback(s, "open", NATS_NOT_YET_CONNECTED);
        return -1;
    }
    char key[SHD_KEY];
    if (key_of(s, id, len, key))
        return -1;
    kvEntry *e = NULL;
    natsStatus st = kvStore_Get(&e, kv, key);
    if (st == NATS_OK) {
        kvEntry_Destroy(e);
        return 1;
    }
    if (st == NATS_NOT_FOUND)
        return 0;
    fallback(s, "lookup", st);
    return -1;
}

void shdedupe_mark(struct shdedupe *s, const char *id, size_t len)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    if (s->n == SHD_QUEUE) {
        pthread_mutex_unlock(&s->lock);
        metrics_shared_fallback(s->route->mx);
        return;
    }
    if (key_of(s, id, len, s->q[(s->head + s->n) % SHD_QUEUE]) == 0)
        s->n++;
    pthread_cond_signal(&s->more);
    pthread_mutex_unlock(&s->lock);
}

static void *writer(void *arg)
{
    pthread_setname_np(pthread_self(), "hg-shdedupe"); /* top -H, perf */
    struct shdedupe *s = arg;
    for (;;) {
        char key[SHD_KEY];
        pthread_mutex_lock(&s->lock);
        while (!s->n)
            pthread_cond_wait(&s->more, &s->lock);
        memcpy(key, s->q[s->head], SHD_KEY);
        s->head = (s->head + 1) % SHD_QUEUE;
        s->n--;
        pthread_mutex_unlock(&s->lock);
        kvStore *kv = bucket(s);
        natsStatus st = kv ? kvStore_Put(NULL, kv, key, "1", 1) : NATS_NOT_YET_CONNECTED;
        if (st != NATS_OK)
            fallback(s, "record", st);
    }
    return NULL;
}

static int same_servers(char *const *a, char *const *b)
{
    for (; *a && *b; a++, b++)
        if (strcmp(*a, *b))
            return 0;
    return !*a && !*b;
}

/* auth_of - the jetstream sink whose credentials and TLS settings go with
 * r's servers: the route's first jetstream sink with the very same server
 * list (config.c copies it from there when shared_dedupe names none), or
 * NULL (servers of another cluster: nothing of the sink's is sent there). */
static const struct cfg_sink *auth_of(const struct config *c, const struct cfg_route *r)
{
    for (size_t k = 0; k < r->nsinks; k++) {
        const struct cfg_sink *s = &c->sinks[r->sinks[k]];
        if (s->type == SINK_JETSTREAM && same_servers(s->servers, r->shd_servers))
            return s;
    }
    return NULL;
}

static struct shdedupe *open_one(const struct config *c, const struct cfg_route *r)
{
    struct shdedupe *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->route = r;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->more, NULL);
    const struct cfg_sink *auth = auth_of(c, r);
    s->auth = auth;
    struct natsconn_cfg nc = {r->shd_servers, NULL, NULL, NULL, NULL};
    if (auth)
        nc = natsconn_cfg_of_sink(auth);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = SHD_WAIT_MS;
    const char *why = NULL;
    if (natsconn_open(&nc, &s->conn, &why) == HG_OK) {
        s->nc = natsconn_nc(s->conn);
        natsStatus st = natsConnection_JetStream(&s->js, s->nc, &jo);
        if (st != NATS_OK)
            why = natsStatus_GetText(st);
    }
    if (why || pthread_create(&s->thread, NULL, writer, s)) {
        log_msg(LOG_ERROR, "shared dedupe disabled for this route", "{s:s,s:s}", "route", r->name,
                "error", why ? why : "cannot start a thread");
        jsCtx_Destroy(s->js);
        natsconn_close(s->conn);
        pthread_cond_destroy(&s->more);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL; /* the route uses local dedupe only */
    }
    pthread_detach(s->thread);
    return s;
}

/* every handle lives until exit (its writer thread runs on); kept here so
 * that they stay reachable after the configs that pointed at them */
static struct shdedupe *all[256];
static size_t nall;

static struct natsconn_cfg conn_cfg(const struct cfg_route *r, const struct cfg_sink *auth)
{
    struct natsconn_cfg nc = {r->shd_servers, NULL, NULL, NULL, NULL};
    return auth ? natsconn_cfg_of_sink(auth) : nc;
}

/* reusable - an open handle that serves route r of c just as well */
static struct shdedupe *reusable(const struct config *c, const struct cfg_route *r)
{
    struct natsconn_cfg want = conn_cfg(r, auth_of(c, r));
    for (size_t i = 0; i < nall; i++) {
        const struct shdedupe *s = all[i];
        if (!s)
            continue;
        const struct cfg_route *o = s->route;
        struct natsconn_cfg have = conn_cfg(o, s->auth);
        if (!strcmp(o->name, r->name) && !strcmp(o->shd_bucket, r->shd_bucket) &&
            o->shd_ttl_ms == r->shd_ttl_ms && o->mx == r->mx && natsconn_cfg_same(&have, &want))
            return all[i];
    }
    return NULL;
}

void shdedupe_attach(struct config *c)
{
    for (size_t i = 0; i < c->nroutes; i++) {
        struct cfg_route *r = &c->routes[i];
        if (!r->shd_bucket || r->shd)
            continue;
        if ((r->shd = reusable(c, r)))
            continue;
        if (nall == sizeof(all) / sizeof(all[0])) {
            log_msg(LOG_ERROR, "shared dedupe disabled for this route", "{s:s,s:s}", "route",
                    r->name, "error", "too many shared dedupe connections (restart hookgate)");
            continue;
        }
        r->shd = open_one(c, r);
        if (r->shd)
            all[nall++] = r->shd;
    }
}
