/*
 * http_conn.c - open connections: the count behind max_connections, the
 * per-address cap, and the deadline on request headers (see http_int.h).
 *
 * libmicrohttpd's connection timeout is an idle timer: every byte received
 * restarts it, so a client trickling one header byte a second (slowloris)
 * would hold its connection, and its slot, for ever, and the access handler
 * only runs once the headers are complete.  So every connection gets a
 * record on a list, stamped when it starts waiting for request headers (at
 * accept, and again each time a request on it completes) and cleared while
 * a request is being handled.  A watcher thread wakes every
 * HTTP_CONN_TICK_MS and shuts down the socket of any connection that has
 * waited longer than request_timeout + HTTP_CONN_GRACE_MS; libmicrohttpd
 * then sees the end of the stream and closes it.  The grace lets
 * libmicrohttpd's own idle timer (whole seconds of request_timeout) close
 * a silent connection first, so only a connection that kept sending
 * without finishing its headers is cut, and logged, here.
 *
 * Invariants: a record is on the list from the STARTED notification to the
 * CLOSED one, and libmicrohttpd closes the socket only after the CLOSED
 * notification, which unlinks the record under conn_lock: the watcher,
 * holding conn_lock, never shuts down a descriptor that has been closed
 * (and maybe reused).  The request path touches only the record's atomic
 * stamp - no lock.
 */
#include "config.h"
#include "http_int.h"
#include "log.h"
#include "ratelimit.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define HTTP_CONN_TICK_MS  250
#define HTTP_CONN_GRACE_MS 1000
#define HTTP_CONN_LOG_MS   10000 /* the "limit reached" warning, at most this often */

struct http_conn {
    struct http_conn *prev, *next;
    int fd;
    int cut;                  /* the watcher shut it down */
    _Atomic int64_t since_ms; /* waiting for request headers since; 0 = in a request */
    struct sockaddr_storage addr;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void http_conn_request_begin(struct MHD_Connection *conn)
{
    struct http_conn *c = conn_of(conn);
    if (c)
        atomic_store_explicit(&c->since_ms, 0, memory_order_relaxed);
}

void http_conn_request_end(struct MHD_Connection *conn)
{
    struct http_conn *c = conn_of(conn);
    if (c)
        atomic_store_explicit(&c->since_ms, mono_ms(), memory_order_relaxed);
}

const char *http_addr_str(const struct sockaddr *sa, char *out, size_t cap)
{
    out[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
    return out;
}

void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    struct dctx *dc = cls;
    struct http *h = dc->h;
    const union MHD_ConnectionInfo *ai =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ai ? ai->client_addr : NULL;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&h->conns, 1);
        if (h->rl && sa)
            ratelimit_conn_open(h->rl, sa);
        if (++dc->open >= dc->limit) { /* libmicrohttpd stops accepting now */
            int64_t now = mono_ms(), last = atomic_load(&h->limit_log_ms);
            if (now - last >= HTTP_CONN_LOG_MS &&
                atomic_compare_exchange_strong(&h->limit_log_ms, &last, now))
                log_msg(LOG_WARN,
                        "http: connection limit reached; new connections wait in the listen "
                        "queue until one closes",
                        "{s:I}", "open", (json_int_t)atomic_load(&h->conns));
        }
        const union MHD_ConnectionInfo *fi =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct http_conn *c = fi ? calloc(1, sizeof(*c)) : NULL;
        *socket_context = c;
        if (!c)
            return; /* not watched: libmicrohttpd's idle timer still applies */
        c->fd = fi->connect_fd;
        atomic_init(&c->since_ms, mono_ms());
        if (sa)
            memcpy(&c->addr, sa,
                   sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                             : sizeof(struct sockaddr_in));
        pthread_mutex_lock(&h->conn_lock);
        c->next = h->conn_list;
        if (c->next)
            c->next->prev = c;
        h->conn_list = c;
        pthread_mutex_unlock(&h->conn_lock);
        return;
    }
    atomic_fetch_sub(&h->conns, 1);
    dc->open--;
    if (h->rl && sa)
        ratelimit_conn_close(h->rl, sa);
    struct http_conn *c = *socket_context;
    *socket_context = NULL;
    if (!c)
        return;
    pthread_mutex_lock(&h->conn_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conn_list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&h->conn_lock);
    free(c);
}

static void *watch_main(void *arg)
{
    struct http *h = arg;
    pthread_mutex_lock(&h->conn_lock);
    while (!h->watch_stop) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += HTTP_CONN_TICK_MS * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->watch_wake, &h->conn_lock, &dl);
        if (h->watch_stop)
            break;
        const struct config *cfg = atomic_load(&h->cfg);
        int64_t now = mono_ms(), limit = (int64_t)cfg->request_timeout_ms + HTTP_CONN_GRACE_MS;
        for (struct http_conn *c = h->conn_list; c; c = c->next) {
            int64_t since = atomic_load_explicit(&c->since_ms, memory_order_relaxed);
            if (c->cut || !since || now - since <= limit)
                continue;
            c->cut = 1;
            shutdown(c->fd, SHUT_RDWR);
            char ip[64];
            http_addr_str((const struct sockaddr *)&c->addr, ip, sizeof(ip));
            log_msg(LOG_WARN, "request rejected", "{s:s,s:i,s:s,s:s}", "path", "", "status", 408,
                    "reason", "request_timeout: request headers too slow; connection closed",
                    "client", ip);
        }
    }
    pthread_mutex_unlock(&h->conn_lock);
    return NULL;
}

int http_conn_watch_start(struct http *h)
{
    pthread_mutex_init(&h->conn_lock, NULL);
    pthread_cond_init(&h->watch_wake, NULL);
    h->conn_init = 1;
    if (pthread_create(&h->watcher, NULL, watch_main, h) != 0)
        return -1;
    h->watch_started = 1;
    return 0;
}

static void watch_stop(struct http *h)
{
    if (h->watch_started) {
        pthread_mutex_lock(&h->conn_lock);
        h->watch_stop = 1;
        pthread_cond_signal(&h->watch_wake);
        pthread_mutex_unlock(&h->conn_lock);
        pthread_join(h->watcher, NULL);
        h->watch_started = 0;
    }
}

void http_conn_watch_free(struct http *h)
{
    if (!h->conn_init)
        return;
    watch_stop(h);
    pthread_cond_destroy(&h->watch_wake);
    pthread_mutex_destroy(&h->conn_lock);
    h->conn_init = 0;
}
