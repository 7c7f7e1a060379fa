/*
 * close_load.c - the load generator of tests/bench/run's "-close" and
 * "-cold" targets: a closed loop of CONNS connections on one thread (as
 * `wrk -t1`), sending the signed requests of a gen_requests.py file, the same
 * stream post.lua sends.
 *
 *   close_load [-k] [-s] [-c CONNS] [-d SECS] [-t TIMEOUT_MS] HOST PORT PATH FILE [START [COUNT]]
 *
 *   default  one request per connection: each connection does connect ->
 *            (TLS handshake) -> POST with "Connection: close" -> read the
 *            answer -> wait for the server's close -> close, in a loop.  The
 *            latency runs from connect() to the last byte of the answer, so
 *            it includes the TCP and TLS handshakes (wrk starts its clock
 *            when it writes the request, after both).
 *   -k       keep-alive: each connection sends its requests one after
 *            another, the latency runs from writing the request to the last
 *            byte of the answer (as wrk's).
 *   -s       TLS (OpenSSL, no certificate check).  Session resumption is
 *            off: no session cache, no tickets, never SSL_set_session, so
 *            every connection does a full handshake (checked: "resumed").
 *   -c CONNS concurrent connections (64)
 *   -d SECS  run time (8)
 *   -t MS    a request not answered within MS counts as a timeout (5000)
 *   START, COUNT: the records START..START+COUNT-1 of FILE (default: all);
 *            after the last one it starts over and counts the wrap
 *            ("reused"), as post.lua does.
 *
 * Prints one "BENCH key=value ..." line with the keys of post.lua's (so that
 * run reads either the same way) and these:
 *   conns        TCP connections established
 *   handshakes   TLS handshakes completed (-s)
 *   resumed      of those, resumed sessions (must be 0)
 *   kept         answers without "Connection: close" (not -k; such a
 *                connection is closed by us at once)
 *   drain_err    after a complete answer, the server reset the connection
 *                instead of closing it (not counted as an error)
 *   p99_first_us p99 of the answers completed in the first second
 *   p99_rest_us  p99 of the answers completed after the first second
 *   p99_worst_us, worst_s   the highest p99 of any whole second, and which
 *   p99_by_s, rps_by_s      each whole second's p99 (us) and answers
 *   tls          protocol/cipher/group of the first handshake
 *
 * Latencies go into log-linear histograms (128 steps per power of two, so
 * a percentile is good to 0.4 %).  There is no correction for coordinated
 * omission: a connection waits for its answer before it sends the next.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

/* ---- histogram ------------------------------------------------------------ */

#define H_SUB 128u
#define H_N   4608u /* up to 2^42 us */

struct hist {
    uint64_t n, max;
    uint32_t b[H_N];
};

static unsigned h_index(uint64_t v)
{
    if (v < 2 * H_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - 7u;
    unsigned i = 2 * H_SUB + (shift - 1) * H_SUB + (unsigned)((v >> shift) - H_SUB);
    return i < H_N ? i : H_N - 1;
}

/* the middle of bucket i */
static uint64_t h_value(unsigned i)
{
    if (i < 2 * H_SUB)
        return i;
    unsigned k = i - 2 * H_SUB, shift = k / H_SUB + 1;
    uint64_t lo = (uint64_t)(k % H_SUB + H_SUB) << shift;
    return lo + ((1ull << shift) - 1) / 2;
}

static void h_add(struct hist *h, uint64_t v)
{
    h->b[h_index(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

/* the smallest value with at least p % of the samples at or below it */
static uint64_t h_pct(const struct hist *h, double p)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)h->n + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t c = 0;
    for (unsigned i = 0; i < H_N; i++) {
        c += h->b[i];
        if (c >= rank) {
            uint64_t v = h_value(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

/* ---- state ---------------------------------------------------------------- */

enum { S_IDLE, S_SLEEP, S_CONNECT, S_HANDSHAKE, S_WRITE, S_READ, S_DRAIN };

#define RSP_MAX 16384

struct conn {
    int fd, state;
    SSL *ssl;
    uint32_t ev;       /* epoll mask registered */
    uint64_t t0;       /* latency clock start, us */
    uint64_t deadline; /* timeout (or wake-up for S_SLEEP), us */
    size_t reqlen, reqoff;
    char *req;
    size_t rsplen;       /* header bytes collected */
    long long body_left; /* -1: until EOF */
    int hdr_done, status, close_hdr;
    char rsp[RSP_MAX];
};

static struct {
    int keepalive, tls, conns_n, secs;
    uint64_t timeout_us;
    const char *host, *path;
    int port;
    struct sockaddr_in addr;
    SSL_CTX *ctx;
    int ep;
    /* records */
    const char *map, *slice;
    size_t reclen, siglen, bodylen, slice_n, pos;
    /* request head */
    char head[512];
    size_t headlen;
    /* counters */
    uint64_t requests, ok, non200, sent, wrapped, reused;
    uint64_t err_connect, err_read, err_write, err_timeout, err_status;
    uint64_t conns, handshakes, resumed, kept, drain_err;
    uint64_t codes[600], code_other;
    char tlsinfo[128];
    /* time */
    uint64_t start, end;
    struct hist all, first;
    struct hist *per_s;
} G;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *what)
{
    fprintf(stderr, "close_load: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void want(struct conn *c, uint32_t ev)
{
    if (c->ev == ev)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (epoll_ctl(G.ep, c->ev ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) < 0)
        die("epoll_ctl");
    c->ev = ev;
}

static void start_conn(struct conn *c);

/* close the connection; start the next one unless the run is over */
static void finish(struct conn *c, uint64_t now)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->ev = 0;
    c->state = S_IDLE;
    if (now < G.end)
        start_conn(c);
}

/* after a connect error: retry in 10 ms rather than spin */
static void sleep_retry(struct conn *c, uint64_t now)
{
    finish(c, G.end); /* close, do not restart */
    c->state = S_SLEEP;
    c->deadline = now + 10000;
}

static void do_write(struct conn *c, uint64_t now);

static void begin_request(struct conn *c, uint64_t now)
{
    if (G.pos == G.slice_n) {
        G.pos = 0;
        G.wrapped++;
    }
    const char *rec = G.slice + G.pos * G.reclen;
    G.pos++;
    G.sent++;
    if (G.wrapped)
        G.reused++;
    /* rec = "<signature>\t<body>\n" */
    char *p = c->req;
    memcpy(p, G.head, G.headlen);
    p += G.headlen;
    memcpy(p, rec, G.siglen);
    p += G.siglen;
    memcpy(p, "\r\n\r\n", 4);
    p += 4;
    memcpy(p, rec + G.siglen + 1, G.bodylen);
    p += G.bodylen;
    c->reqlen = (size_t)(p - c->req);
    c->reqoff = 0;
    c->rsplen = 0;
    c->hdr_done = 0;
    c->status = 0;
    c->close_hdr = 0;
    c->body_left = 0;
    if (G.keepalive) {
        c->t0 = now;
        c->deadline = now + G.timeout_us;
    }
    c->state = S_WRITE;
    do_write(c, now);
}

static void tls_note(SSL *ssl)
{
    if (G.tlsinfo[0])
        return;
    const char *grp = "?";
    int nid = SSL_get_negotiated_group(ssl);
    if (nid > 0) {
        const char *sn = OBJ_nid2sn(nid & ~TLSEXT_nid_unknown);
        if (sn)
            grp = sn;
    }
    snprintf(G.tlsinfo, sizeof G.tlsinfo, "%s/%s/%s", SSL_get_version(ssl),
             SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)), grp ? grp : "?");
}

/* ssl_wait - after an SSL call returned r <= 0: if TLS only needs the
 * socket readable or writable, wait for that and return 1; else return
 * SSL_get_error's code negated (<= 0) for the caller to handle. */
static int ssl_wait(struct conn *c, int r)
{
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        want(c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
        return 1;
    }
    return -e;
}

static void do_handshake(struct conn *c, uint64_t now)
{
    ERR_clear_error();
    int r = SSL_connect(c->ssl);
    if (r == 1) {
        G.handshakes++;
        if (SSL_session_reused(c->ssl))
            G.resumed++;
        tls_note(c->ssl);
        begin_request(c, now);
        return;
    }
    if (ssl_wait(c, r) > 0)
        return;
    G.err_connect++;
    sleep_retry(c, now);
}

static void start_conn(struct conn *c)
{
    uint64_t now = now_us();
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->ev = 0;
    c->ssl = NULL;
    if (!G.keepalive) {
        c->t0 = now;
        c->deadline = now + G.timeout_us;
    } else {
        c->deadline = now + G.timeout_us; /* for the connect */
    }
    if (connect(c->fd, (struct sockaddr *)&G.addr, sizeof G.addr) < 0 && errno != EINPROGRESS) {
        G.err_connect++;
        sleep_retry(c, now);
        return;
    }
    c->state = S_CONNECT;
    want(c, EPOLLOUT);
}

static void connected(struct conn *c, uint64_t now)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
        G.err_connect++;
        sleep_retry(c, now);
        return;
    }
    G.conns++;
    if (!G.tls) {
        begin_request(c, now);
        return;
    }
    c->ssl = SSL_new(G.ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
        fprintf(stderr, "close_load: SSL_new failed\n");
        exit(1);
    }
    c->state = S_HANDSHAKE;
    do_handshake(c, now);
}

static void do_write(struct conn *c, uint64_t now)
{
    while (c->reqoff < c->reqlen) {
        ssize_t n;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_write(c->ssl, c->req + c->reqoff, (int)(c->reqlen - c->reqoff));
            if (r <= 0) {
                if (ssl_wait(c, r) > 0)
                    return;
                G.err_write++;
                finish(c, now);
                return;
            }
            n = r;
        } else {
            n = send(c->fd, c->req + c->reqoff, c->reqlen - c->reqoff, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) {
                    want(c, EPOLLOUT);
                    return;
                }
                G.err_write++;
                finish(c, now);
                return;
            }
        }
        c->reqoff += (size_t)n;
    }
    c->state = S_READ;
    want(c, EPOLLIN);
}

static void complete(struct conn *c, uint64_t now)
{
    uint64_t lat = now - c->t0;
    G.requests++;
    if (c->status == 200) {
        G.ok++;
    } else {
        G.non200++;
        if (c->status > 0 && c->status < 600)
            G.codes[c->status]++;
        else
            G.code_other++;
    }
    if (c->status > 399)
        G.err_status++;
    h_add(&G.all, lat);
    uint64_t s = (now - G.start) / 1000000u;
    if (s == 0)
        h_add(&G.first, lat);
    if (s < (uint64_t)G.secs)
        h_add(&G.per_s[s], lat);
    if (G.keepalive) {
        if (c->close_hdr) { /* the server closes: reconnect */
            finish(c, now);
            return;
        }
        if (now < G.end)
            begin_request(c, now);
        else
            finish(c, now);
        return;
    }
    if (!c->close_hdr) {
        G.kept++;
        finish(c, now);
        return;
    }
    c->state = S_DRAIN; /* wait for the server's close */
    c->deadline = now + G.timeout_us;
}

/* parse the header block in c->rsp[0..end) */
static int parse_head(struct conn *c, size_t end)
{
    char *h = c->rsp;
    h[end - 2] = '\0';
    if (strncmp(h, "HTTP/1.", 7) != 0 || end < 12)
        return -1;
    c->status = atoi(h + 9);
    c->body_left = -1;
    int chunked = 0;
    for (char *line = strstr(h, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            c->body_left = atoll(line + 15);
        else if (strncasecmp(line, "Connection:", 11) == 0) {
            const char *v = line + 11;
            while (*v == ' ')
                v++;
            if (strncasecmp(v, "close", 5) == 0)
                c->close_hdr = 1;
        } else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0)
            chunked = 1;
    }
    if (chunked)
        return -1; /* not used by the servers measured here */
    if (c->status == 204 || c->status == 304)
        c->body_left = 0;
    if (c->body_left < 0 && G.keepalive)
        return -1;
    c->hdr_done = 1;
    return 0;
}

/* n bytes of the answer arrived; returns 1 once the answer is complete */
static int feed(struct conn *c, const char *buf, size_t n)
{
    if (!c->hdr_done) {
        size_t room = RSP_MAX - 1 - c->rsplen;
        size_t take = n < room ? n : room;
        memcpy(c->rsp + c->rsplen, buf, take);
        size_t old = c->rsplen;
        c->rsplen += take;
        c->rsp[c->rsplen] = '\0';
        size_t from = old > 3 ? old - 3 : 0;
        char *e = strstr(c->rsp + from, "\r\n\r\n");
        if (!e) {
            if (c->rsplen == RSP_MAX - 1)
                return -1;
            return 0;
        }
        size_t end = (size_t)(e - c->rsp) + 4;
        if (parse_head(c, end) < 0)
            return -1;
        size_t body = c->rsplen - end + (n - take);
        if (c->body_left < 0)
            return 0;
        c->body_left -= (long long)body;
        return c->body_left <= 0;
    }
    if (c->body_left < 0)
        return 0;
    c->body_left -= (long long)n;
    return c->body_left <= 0;
}

static void do_read(struct conn *c, uint64_t now)
{
    char buf[16384];
    for (;;) {
        ssize_t n;
        int eof = 0, err = 0;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_read(c->ssl, buf, sizeof buf);
            if (r > 0)
                n = r;
            else {
                n = 0;
                int e = ssl_wait(c, r);
                if (e > 0)
                    return;
                switch (-e) {
                case SSL_ERROR_ZERO_RETURN:
                    eof = 1;
                    break;
                case SSL_ERROR_SYSCALL:
                    if (errno == 0)
                        eof = 1;
                    else
                        err = 1;
                    break;
                default:
                    err = 1;
                }
            }
        } else {
            n = recv(c->fd, buf, sizeof buf, 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    return;
                err = 1;
                n = 0;
            } else if (n == 0)
                eof = 1;
        }
        if (c->state == S_DRAIN) {
            if (eof || err) {
                if (err)
                    G.drain_err++;
                finish(c, now);
                return;
            }
            continue; /* anything after the answer is ignored */
        }
        if (eof && c->hdr_done && c->body_left < 0) {
            /* an answer delimited by the close */
            complete(c, now);
            if (c->state == S_DRAIN)
                finish(c, now);
            return;
        }
        if (eof || err) {
            G.err_read++;
            finish(c, now);
            return;
        }
        int done = feed(c, buf, (size_t)n);
        if (done < 0) {
            G.err_read++;
            finish(c, now);
            return;
        }
        if (done) {
            complete(c, now);
            if (c->state != S_DRAIN)
                return;
        }
    }
}

static void on_event(struct conn *c, uint32_t ev, uint64_t now)
{
    (void)ev;
    switch (c->state) {
    case S_CONNECT:
        connected(c, now);
        break;
    case S_HANDSHAKE:
        do_handshake(c, now);
        break;
    case S_WRITE:
        do_write(c, now);
        break;
    case S_READ:
    case S_DRAIN:
        do_read(c, now);
        break;
    default:
        break;
    }
}

/* ---- setup ---------------------------------------------------------------- */

static void load_records(const char *file, long long start, long long count)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(file);
    struct stat st;
    if (fstat(fd, &st) < 0)
        die(file);
    G.map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (G.map == MAP_FAILED)
        die("mmap");
    close(fd);
    const char *nl = memchr(G.map, '\n', (size_t)st.st_size < 512 ? (size_t)st.st_size : 512);
    long long n = 0, rl = 0, sl = 0, bl = 0;
    if (!nl || strncmp(G.map, "#hookbench v1 ", 14) != 0 ||
        sscanf(G.map, "#hookbench v1 count=%lld reclen=%lld siglen=%lld bodylen=%lld", &n, &rl, &sl,
               &bl) != 4 ||
        rl != sl + 1 + bl + 1) {
        fprintf(stderr, "close_load: %s is not a gen_requests.py file\n", file);
        exit(1);
    }
    if (count < 0)
        count = n - start;
    if (start < 0 || count < 1 || start + count > n) {
        fprintf(stderr, "close_load: records %lld..%lld out of range (file has %lld)\n", start,
                start + count - 1, n);
        exit(1);
    }
    size_t hdr = (size_t)(nl - G.map) + 1;
    if (hdr + (size_t)n * (size_t)rl > (size_t)st.st_size) {
        fprintf(stderr, "close_load: %s is truncated\n", file);
        exit(1);
    }
    G.reclen = (size_t)rl;
    G.siglen = (size_t)sl;
    G.bodylen = (size_t)bl;
    G.slice = G.map + hdr + (size_t)start * G.reclen;
    G.slice_n = (size_t)count;
    madvise((void *)G.map, (size_t)st.st_size, MADV_SEQUENTIAL);
}

static void usage(void)
{
    fprintf(stderr, "usage: close_load [-k] [-s] [-c CONNS] [-d SECS] [-t TIMEOUT_MS] HOST PORT "
                    "PATH FILE [START [COUNT]]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    G.conns_n = 64;
    G.secs = 8;
    G.timeout_us = 5000000;
    int opt;
    while ((opt = getopt(argc, argv, "ksc:d:t:")) != -1) {
        switch (opt) {
        case 'k':
            G.keepalive = 1;
            break;
        case 's':
            G.tls = 1;
            break;
        case 'c':
            G.conns_n = atoi(optarg);
            break;
        case 'd':
            G.secs = atoi(optarg);
            break;
        case 't':
            G.timeout_us = (uint64_t)atoll(optarg) * 1000u;
            break;
        default:
            usage();
        }
    }
    if (argc - optind < 4 || argc - optind > 6 || G.conns_n < 1 || G.secs < 1 || !G.timeout_us)
        usage();
    G.host = argv[optind];
    G.port = atoi(argv[optind + 1]);
    G.path = argv[optind + 2];
    long long start = argc - optind > 4 ? atoll(argv[optind + 4]) : 0;
    long long count = argc - optind > 5 ? atoll(argv[optind + 5]) : -1;
    load_records(argv[optind + 3], start, count);

    memset(&G.addr, 0, sizeof G.addr);
    G.addr.sin_family = AF_INET;
    G.addr.sin_port = htons((uint16_t)G.port);
    if (inet_pton(AF_INET, G.host, &G.addr.sin_addr) != 1) {
        fprintf(stderr, "close_load: HOST must be an IPv4 address\n");
        return 2;
    }
    /* the same header set as post.lua's (wrk.format), plus Connection: close */
    int hl =
        snprintf(G.head, sizeof G.head,
                 "POST %s HTTP/1.1\r\nHost: %s:%d\r\n%sContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\nX-Webhook-Signature: ",
                 G.path, G.host, G.port, G.keepalive ? "" : "Connection: close\r\n", G.bodylen);
    if (hl < 0 || (size_t)hl >= sizeof G.head)
        usage();
    G.headlen = (size_t)hl;

    signal(SIGPIPE, SIG_IGN);
    if (G.tls) {
        G.ctx = SSL_CTX_new(TLS_client_method());
        if (!G.ctx) {
            fprintf(stderr, "close_load: SSL_CTX_new failed\n");
            return 1;
        }
        SSL_CTX_set_verify(G.ctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_session_cache_mode(G.ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(G.ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
        SSL_CTX_set_mode(G.ctx,
                         SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }

    G.ep = epoll_create1(EPOLL_CLOEXEC);
    if (G.ep < 0)
        die("epoll_create1");
    G.per_s = calloc((size_t)G.secs, sizeof *G.per_s);
    struct conn *cs = calloc((size_t)G.conns_n, sizeof *cs);
    size_t reqmax = G.headlen + G.siglen + 4 + G.bodylen;
    if (!G.per_s || !cs) {
        fprintf(stderr, "close_load: out of memory\n");
        return 1;
    }
    for (int i = 0; i < G.conns_n; i++) {
        cs[i].fd = -1;
        if (!(cs[i].req = malloc(reqmax))) {
            fprintf(stderr, "close_load: out of memory\n");
            return 1;
        }
    }

    G.start = now_us();
    G.end = G.start + (uint64_t)G.secs * 1000000u;
    for (int i = 0; i < G.conns_n; i++)
        start_conn(&cs[i]);

    struct epoll_event evs[256];
    uint64_t now = G.start, next_scan = G.start + 10000;
    while (now < G.end) {
        uint64_t left = G.end - now;
        int ms = left > 10000 ? 10 : (int)((left + 999) / 1000);
        int n = epoll_wait(G.ep, evs, 256, ms);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        now = now_us();
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            on_event(c, evs[i].events, now);
        }
        if (n > 0)
            now = now_us();
        if (now >= next_scan) {
            next_scan = now + 10000;
            for (int i = 0; i < G.conns_n; i++) {
                struct conn *c = &cs[i];
                if (c->state == S_SLEEP) {
                    if (now >= c->deadline && now < G.end)
                        start_conn(c);
                } else if (c->state != S_IDLE && now > c->deadline) {
                    if (c->state == S_DRAIN)
                        G.drain_err++;
                    else
                        G.err_timeout++;
                    finish(c, now);
                }
            }
        }
    }
    uint64_t dur = now - G.start;

    /* the answers after the first second: all minus the first */
    static struct hist rest;
    rest = G.all;
    rest.n -= G.first.n;
    for (unsigned i = 0; i < H_N; i++)
        rest.b[i] -= G.first.b[i];
    uint64_t worst = 0;
    int worst_s = 0;
    for (int s = 0; s < G.secs; s++) {
        uint64_t p = h_pct(&G.per_s[s], 99);
        if (p > worst) {
            worst = p;
            worst_s = s + 1;
        }
    }

    char codes[4096] = "";
    size_t cl = 0;
    for (int i = 0; i < 600; i++)
        if (G.codes[i] && cl < sizeof codes - 32)
            cl += (size_t)snprintf(codes + cl, sizeof codes - cl, "%s%d:%llu", cl ? "," : "", i,
                                   (unsigned long long)G.codes[i]);
    if (G.code_other && cl < sizeof codes - 32)
        cl += (size_t)snprintf(codes + cl, sizeof codes - cl, "%sbad:%llu", cl ? "," : "",
                               (unsigned long long)G.code_other);

    printf("BENCH requests=%llu ok=%llu non200=%llu sent=%llu wrapped=%llu reused=%llu "
           "duration_us=%llu rps=%.2f p50_us=%llu p90_us=%llu p99_us=%llu max_us=%llu "
           "err_connect=%llu err_read=%llu err_write=%llu err_timeout=%llu err_status=%llu "
           "codes=%s conns=%llu handshakes=%llu resumed=%llu kept=%llu drain_err=%llu "
           "p99_first_us=%llu p99_rest_us=%llu p99_worst_us=%llu worst_s=%d",
           (unsigned long long)G.requests, (unsigned long long)G.ok, (unsigned long long)G.non200,
           (unsigned long long)G.sent, (unsigned long long)G.wrapped, (unsigned long long)G.reused,
           (unsigned long long)dur, (double)G.requests / ((double)dur / 1e6),
           (unsigned long long)h_pct(&G.all, 50), (unsigned long long)h_pct(&G.all, 90),
           (unsigned long long)h_pct(&G.all, 99), (unsigned long long)G.all.max,
           (unsigned long long)G.err_connect, (unsigned long long)G.err_read,
           (unsigned long long)G.err_write, (unsigned long long)G.err_timeout,
           (unsigned long long)G.err_status, cl ? codes : "-", (unsigned long long)G.conns,
           (unsigned long long)G.handshakes, (unsigned long long)G.resumed,
           (unsigned long long)G.kept, (unsigned long long)G.drain_err,
           (unsigned long long)h_pct(&G.first, 99), (unsigned long long)h_pct(&rest, 99),
           (unsigned long long)worst, worst_s);
    printf(" p99_by_s=");
    for (int s = 0; s < G.secs; s++)
        printf("%s%llu", s ? "," : "", (unsigned long long)h_pct(&G.per_s[s], 99));
    printf(" rps_by_s=");
    for (int s = 0; s < G.secs; s++)
        printf("%s%llu", s ? "," : "", (unsigned long long)G.per_s[s].n);
    printf(" tls=%s\n", G.tlsinfo[0] ? G.tlsinfo : "-");
    return 0;
}
