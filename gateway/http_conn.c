/*
 * http_conn.c - open connections: the count behind max_connections, what
 * keeps one client from taking every slot, and the deadline on request
 * headers (see http_int.h).
 *
 * Slots.  A client that opens connections and sends nothing would hold
 * every slot of max_connections, and every producer would get 503.  Three
 * rules keep slots for producers (README, "Abuse limits"):
 *  - per-address cap: an address holding conns_per_ip connections (default
 *    max(8, max_connections / 16)) gets its next one closed at accept;
 *  - reserve: once the open connections reach max_connections minus a
 *    tenth, only an address holding fewer than max(2, max_connections /
 *    128) connections gets a new one (a flood from a few addresses cannot
 *    take the last slots);
 *  - eviction: when the open connections pass max_connections minus a 64th,
 *    the watcher shuts down idle connections that never completed a
 *    request (waiting for their first request headers, at least
 *    HTTP_CONN_YOUNG_MS old) until a 32nd is free again: those of the
 *    address holding the most connections first, then the oldest.  A burst
 *    of accepts can outrun the watcher, so a connection accepted with every
 *    slot taken makes room itself, at once: it shuts down the best-ranked
 *    idle connection of any age, one that has served a request (a
 *    producer's keep-alive connection) only when no other is left.  Never
 *    one inside a request.  A producer's new connection is the youngest and
 *    its address holds few, so it is the last to go.
 * A per-address rule reads the counts of ratelimit.c (keyed by address, an
 * IPv6 client by its /64).  max_connections_per_ip 0 turns both per-address
 * rules off (behind a proxy every client shares its address); eviction
 * stays.
 *
 * Header deadline.  libmicrohttpd's connection timeout is an idle timer:
 * every byte received restarts it, so a client trickling one header byte a
 * second (slowloris) would hold its connection, and its slot, for ever, and
 * the access handler only runs once the headers are complete.  So every
 * connection gets a record on a list, stamped when it starts waiting for
 * request headers (at accept, and again each time a request on it
 * completes) and cleared while a request is being handled.  The watcher
 * thread wakes every HTTP_CONN_TICK_MS and shuts down the socket of any
 * connection that has waited longer than request_timeout +
 * HTTP_CONN_GRACE_MS; libmicrohttpd then sees the end of the stream and
 * closes it.  The grace lets libmicrohttpd's own idle timer (whole seconds
 * of request_timeout) close a silent connection first, so only a
 * connection that kept sending without finishing its headers is cut, and
 * logged, here.
 *
 * Invariants: a record is on the list from the STARTED notification to the
 * CLOSED one, and libmicrohttpd closes the socket only after the CLOSED
 * notification, which unlinks the record under conn_lock: the watcher,
 * holding conn_lock, never shuts down a descriptor that has been closed
 * (and maybe reused).  h->cutting counts the records shut down (evicted or
 * past their deadline) that are still on the list; it and h->conns change
 * together under conn_lock for every record, so conns - cutting read under
 * the lock is exact.  The request path touches only a record's atomic
 * stamps - no lock.  No ratelimit lock is ever held (connection counts are
 * atomic).
 */
#include "config.h"
#include "http_frame.h"
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
#define HTTP_CONN_LOG_MS   10000 /* each warning of this file, at most this often */
#define HTTP_CONN_YOUNG_MS 250   /* eviction spares connections younger than this */

struct http_conn {
    struct http_conn *prev, *next;
    int fd;
    int cut;                  /* shut down to free a slot or past its deadline */
    long slot;                /* its address's ratelimit slot (-1: not counted) */
    _Atomic int64_t since_ms; /* waiting for request headers since; 0 = in a request */
    _Atomic int served;       /* a request on it has completed */
    int64_t opened_ms;
    struct sockaddr_storage addr;
    char *query;               /* the raw query of the current request, or NULL */
    struct http_client client; /* the current request's client (http.c: client_of) */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* once - 1 if the warning stamped in *last may be written now (at most
 * every HTTP_CONN_LOG_MS, whichever thread asks). */
static int once(_Atomic int64_t *last)
{
    int64_t now = mono_ms(), prev = atomic_load(last);
    return now - prev >= HTTP_CONN_LOG_MS && atomic_compare_exchange_strong(last, &prev, now);
}

/* The thresholds, from max_connections m (README, "Abuse limits"). */
static unsigned reserve_of(unsigned m)
{
    return m / 10 > 1 ? m / 10 : 1;
}

static unsigned few_of(unsigned m)
{
    return m / 128 > 2 ? m / 128 : 2;
}

static unsigned step_of(unsigned m)
{
    return m / 64 > 1 ? m / 64 : 1;
}

/* evict_high - eviction starts above this many open connections */
static unsigned evict_high(unsigned m)
{
    return m > step_of(m) ? m - step_of(m) : m;
}

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void *http_conn_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_conn *c = conn_of(conn);
    const char *q = uri ? strchr(uri, '?') : NULL;
    if (c) {
        free(c->query);
        c->query = q && q[1] ? strndup(q + 1, 8192) : NULL;
    }
    return http_frame_on_uri(cls, uri, conn);
}

const char *http_conn_query(struct MHD_Connection *conn)
{
    struct http_conn *c = conn_of(conn);
    return c ? c->query : NULL;
}

void http_conn_request_begin(struct MHD_Connection *conn)
{
    struct http_conn *c = conn_of(conn);
    if (c) {
        c->client.known = 0;
        atomic_store_explicit(&c->since_ms, 0, memory_order_relaxed);
    }
}

void http_conn_request_end(struct MHD_Connection *conn)
{
    struct http_conn *c = conn_of(conn);
    if (c) {
        c->client.known = 0;
        atomic_store_explicit(&c->served, 1, memory_order_relaxed);
        atomic_store_explicit(&c->since_ms, mono_ms(), memory_order_relaxed);
    }
}

struct http_client *http_conn_client(struct MHD_Connection *conn)
{
    struct http_conn *c = conn_of(conn);
    return c ? &c->client : NULL;
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

enum MHD_Result http_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    struct http *h = cls;
    const struct config *cfg = atomic_load(&h->cfg);
    if (!cfg->conns_per_ip)
        return MHD_YES;
    unsigned m = cfg->max_connections, have = ratelimit_conn_count(h->rl, addr);
    int why = -1;
    if (have >= cfg->conns_per_ip)
        why = 0;
    else if (have >= few_of(m) && atomic_load(&h->conns) >= m - reserve_of(m))
        why = 1;
    if (why < 0)
        return MHD_YES;
    atomic_fetch_add(&h->refused[why], 1);
    if (once(&h->refused_log_ms)) {
        char ip[64];
        log_msg(LOG_WARN, "http: connections refused at accept", "{s:I,s:I,s:I,s:s}",
                "over_max_connections_per_ip", (json_int_t)atomic_exchange(&h->refused[0], 0),
                "reserve", (json_int_t)atomic_exchange(&h->refused[1], 0), "open",
                (json_int_t)atomic_load(&h->conns), "client", http_addr_str(addr, ip, sizeof(ip)));
    }
    return MHD_NO;
}

/* victim - an idle connection eviction may close, with its rank */
struct victim {
    struct http_conn *c;
    int served;
    unsigned held; /* connections its address holds */
    int64_t since;
};

/* victim_cmp - never served first, then the address holding the most,
 * then the longest waiting */
static int victim_cmp(const void *pa, const void *pb)
{
    const struct victim *a = pa, *b = pb;
    if (a->served != b->served)
        return a->served - b->served;
    if (a->held != b->held)
        return a->held > b->held ? -1 : 1;
    return (a->since > b->since) - (a->since < b->since);
}

static struct victim victim_of(const struct http *h, struct http_conn *c)
{
    return (struct victim){c, atomic_load_explicit(&c->served, memory_order_relaxed),
                           ratelimit_slot_conns(h->rl, c->slot),
                           atomic_load_explicit(&c->since_ms, memory_order_relaxed)};
}

/* evictable - c is idle (waiting for request headers) and not cut yet;
 * unless hard (every slot is taken), also never served and at least
 * HTTP_CONN_YOUNG_MS old: making room ahead of time spares producers'
 * keep-alive connections and connections that are still being set up. */
static int evictable(const struct http_conn *c, int64_t now, int hard)
{
    if (c->cut || !atomic_load_explicit(&c->since_ms, memory_order_relaxed))
        return 0;
    return hard || (!atomic_load_explicit(&c->served, memory_order_relaxed) &&
                    now - c->opened_ms >= HTTP_CONN_YOUNG_MS);
}

static void cut(struct http *h, struct http_conn *c)
{
    c->cut = 1;
    atomic_fetch_add(&h->cutting, 1);
    shutdown(c->fd, SHUT_RDWR);
}

/* evict_some - (conn_lock held) shut down up to want evictable
 * connections, the best-ranked first; returns how many. */
static size_t evict_some(struct http *h, int64_t now, size_t want, int hard)
{
    if (want == 1) { /* one: a single pass, no allocation */
        struct victim best = {0};
        for (struct http_conn *c = h->conn_list; c; c = c->next) {
            if (!evictable(c, now, hard))
                continue;
            struct victim v = victim_of(h, c);
            if (!best.c || victim_cmp(&v, &best) < 0)
                best = v;
        }
        if (best.c)
            cut(h, best.c);
        return best.c != NULL;
    }
    size_t n = 0, cap = 0;
    for (struct http_conn *c = h->conn_list; c; c = c->next)
        cap++;
    struct victim *v = cap ? malloc(cap * sizeof(*v)) : NULL;
    if (!v)
        return 0;
    for (struct http_conn *c = h->conn_list; c; c = c->next)
        if (evictable(c, now, hard))
            v[n++] = victim_of(h, c);
    qsort(v, n, sizeof(*v), victim_cmp);
    size_t done = 0;
    for (; done < n && done < want; done++)
        cut(h, v[done].c);
    free(v);
    return done;
}

/* evicted - (conn_lock held) n connections were shut down to free slots:
 * counted, and a warning with the count at most every HTTP_CONN_LOG_MS. */
static void evicted(struct http *h, size_t n, int64_t now, unsigned m)
{
    h->evicted += (unsigned)n;
    if (!h->evicted || now - h->evict_log_ms < HTTP_CONN_LOG_MS)
        return;
    log_msg(LOG_WARN, "http: slots short; idle connections closed", "{s:I,s:I,s:I}", "closed",
            (json_int_t)h->evicted, "open", (json_int_t)atomic_load(&h->conns), "max_connections",
            (json_int_t)m);
    h->evict_log_ms = now;
    h->evicted = 0;
}

/* evict - (conn_lock held) past evict_high, shut down idle connections
 * until the open ones are back to a 32nd below max_connections, or none is
 * left to close. */
static void evict(struct http *h, const struct config *cfg, int64_t now)
{
    unsigned m = cfg->max_connections, open = atomic_load(&h->conns), high = evict_high(m);
    unsigned low = high > step_of(m) ? high - step_of(m) : high;
    unsigned cutting = atomic_load(&h->cutting);
    if (open <= cutting + high)
        return;
    evicted(h, evict_some(h, now, open - cutting - low, 0), now, m);
}

unsigned http_conn_open(struct http *h)
{
    unsigned open = atomic_load(&h->conns), cutting = atomic_load(&h->cutting);
    return open > cutting ? open - cutting : 0;
}

/* conn_started - a new connection: counted, put on the list, and the
 * watcher woken when slots run short. */
static void conn_started(struct dctx *dc, struct MHD_Connection *conn, const struct sockaddr *sa,
                         void **socket_context)
{
    struct http *h = dc->h;
    unsigned open = atomic_fetch_add(&h->conns, 1) + 1;
    if (sa)
        ratelimit_conn_open(h->rl, sa);
    if (++dc->open >= dc->limit && once(&h->limit_log_ms)) /* libmicrohttpd stops accepting */
        log_msg(LOG_WARN,
                "http: connection limit reached; new connections wait in the listen "
                "queue until one closes",
                "{s:I}", "open", (json_int_t)open);
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct http_conn *c = fi ? calloc(1, sizeof(*c)) : NULL;
    *socket_context = c;
    if (!c)
        return; /* not watched: libmicrohttpd's idle timer still applies */
    c->fd = fi->connect_fd;
    c->client.h = h;
    c->client.li = dc->li;
    c->opened_ms = mono_ms();
    atomic_init(&c->since_ms, c->opened_ms);
    atomic_init(&c->served, 0);
    if (sa)
        memcpy(&c->addr, sa,
               sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
    c->slot = ratelimit_slot(h->rl, sa);
    unsigned m = atomic_load(&h->cfg)->max_connections;
    pthread_mutex_lock(&h->conn_lock);
    /* every slot taken: make room now (conns and cutting are consistent
     * under conn_lock; a connection accepted meanwhile only makes this
     * evict one more) */
    while (atomic_load(&h->conns) > atomic_load(&h->cutting) + m &&
           evict_some(h, c->opened_ms, 1, 1))
        evicted(h, 1, c->opened_ms, m);
    c->next = h->conn_list;
    if (c->next)
        c->next->prev = c;
    h->conn_list = c;
    if (atomic_load(&h->conns) > atomic_load(&h->cutting) + evict_high(m) && !h->evict) {
        h->evict = 1;
        pthread_cond_signal(&h->watch_wake);
    }
    pthread_mutex_unlock(&h->conn_lock);
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
        conn_started(dc, conn, sa, socket_context);
        return;
    }
    dc->open--;
    if (sa)
        ratelimit_conn_close(h->rl, sa);
    struct http_conn *c = *socket_context;
    *socket_context = NULL;
    if (!c) {
        atomic_fetch_sub(&h->conns, 1);
        return;
    }
    pthread_mutex_lock(&h->conn_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conn_list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&h->conns, 1); /* with cutting, under the lock: see conn_started */
    if (c->cut)
        atomic_fetch_sub(&h->cutting, 1);
    pthread_mutex_unlock(&h->conn_lock);
    free(c->query);
    free(c);
}

/* deadlines - (conn_lock held) cut connections whose request headers are
 * overdue. */
static void deadlines(struct http *h, const struct config *cfg, int64_t now)
{
    int64_t limit = (int64_t)cfg->request_timeout_ms + HTTP_CONN_GRACE_MS;
    for (struct http_conn *c = h->conn_list; c; c = c->next) {
        int64_t since = atomic_load_explicit(&c->since_ms, memory_order_relaxed);
        if (c->cut || !since || now - since <= limit)
            continue;
        cut(h, c);
        static const char why[] = "request_timeout: request headers too slow; connection closed";
        if (!log_limit("", why)) /* a client can cause these at will: rate-limited */
            continue;
        char ip[64];
        http_addr_str((const struct sockaddr *)&c->addr, ip, sizeof(ip));
        log_msg(LOG_WARN, "request rejected", "{s:s,s:i,s:s,s:s}", "path", "", "status", 408,
                "reason", why, "client", ip);
    }
}

static void *watch_main(void *arg)
{
    pthread_setname_np(pthread_self(), "hg-http-watch"); /* top -H, perf */
    struct http *h = arg;
    int64_t last_tick = 0;
    pthread_mutex_lock(&h->conn_lock);
    while (!h->watch_stop) {
        if (!h->evict) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_nsec += HTTP_CONN_TICK_MS * 1000000L;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&h->watch_wake, &h->conn_lock, &dl);
        }
        if (h->watch_stop)
            break;
        const struct config *cfg = atomic_load(&h->cfg);
        int64_t now = mono_ms();
        if (h->evict) {
            h->evict = 0;
            evict(h, cfg, now);
        }
        if (now - last_tick >= HTTP_CONN_TICK_MS) {
            last_tick = now;
            deadlines(h, cfg, now);
            evict(h, cfg, now); /* spared young ones may have aged since */
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
