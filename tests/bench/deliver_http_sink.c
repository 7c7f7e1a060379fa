/*
 * deliver_http_sink.c - the HTTP service behind the http target of
 * tests/bench/deliver: a single-threaded epoll HTTP/1.1 server on
 * 127.0.0.1 that reads each request in full (headers, then Content-Length
 * bytes of body) and answers "204 No Content", keeping the connection
 * alive.  It does no other work, so that it is not the bottleneck.
 *
 *   deliver_http_sink PORT N RESULT_FILE [--times FILE]
 *
 * It counts requests, and the distinct events among them by the envelope's
 * "hookgateseq" (1..N; a retry shows up as requests > distinct).  Once it
 * has seen N distinct events it writes one line to RESULT_FILE:
 *
 *   RESULT requests=R distinct=D seconds=S bytes=B conns=C bad=X first_ns=T
 *
 * seconds: from the first byte of the first request to the answer to the
 * request that completed the N (its 204 written).  conns: connections
 * accepted.  bad: requests it could not parse (no Content-Length, chunked,
 * no hookgateseq, a seq out of range).  It then serves on until SIGTERM or
 * SIGINT.  first_ns: CLOCK_REALTIME of that first byte, in ns.  It prints
 * "listening PORT" on stdout once it accepts connections.  Requests
 * pipelined on one connection are handled in order.
 *
 * --times FILE (tests/bench/sinks): for every request, "SEQ T_NS" is
 * appended to FILE, T_NS being the CLOCK_REALTIME right after the reads
 * that completed it; FILE is flushed after every round of epoll events.
 * Seqs above N are then recorded (and answered) too, not counted as bad.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX (64 * 1024)

static const char ANSWER[] = "HTTP/1.1 204 No Content\r\nServer: deliver_http_sink\r\n\r\n";

struct conn {
    int fd;
    char *buf; /* unparsed input */
    size_t len, cap;
};

static volatile sig_atomic_t stop;
static void on_sig(int s)
{
    (void)s;
    stop = 1;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t n_want, requests, distinct, bytes, conns, bad;
static uint64_t t_first, t_done, first_ns;
static unsigned char *seen;
static const char *result_path;
static FILE *times;
static uint64_t t_read_real; /* CLOCK_REALTIME ns of the latest reads */

static void finish(void)
{
    FILE *f = fopen(result_path, "w");
    if (!f) {
        perror(result_path);
        exit(1);
    }
    fprintf(f,
            "RESULT requests=%llu distinct=%llu seconds=%.6f bytes=%llu conns=%llu bad=%llu "
            "first_ns=%llu\n",
            (unsigned long long)requests, (unsigned long long)distinct,
            (double)(t_done - t_first) / 1e9, (unsigned long long)bytes, (unsigned long long)conns,
            (unsigned long long)bad, (unsigned long long)first_ns);
    fclose(f);
}

/* header_value - the value of header NAME in the header block [h, end), or NULL */
static const char *header_value(const char *h, const char *end, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = memchr(h, '\n', (size_t)(end - h)); /* skip the request line */
    while (p && p + 1 < end) {
        p++;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol;
    }
    return NULL;
}

/* count - one complete request with this body */
static void count(const char *body, size_t len)
{
    static const char key[] = "\"hookgateseq\":";
    const char *k = memmem(body, len, key, sizeof(key) - 1);
    requests++;
    if (!k) {
        bad++;
        return;
    }
    uint64_t seq = strtoull(k + sizeof(key) - 1, NULL, 10);
    if (times && seq >= 1)
        fprintf(times, "%llu %llu\n", (unsigned long long)seq, (unsigned long long)t_read_real);
    if (times && seq > n_want)
        return;
    if (seq < 1 || seq > n_want) {
        bad++;
        return;
    }
    if (!seen[seq - 1]) {
        seen[seq - 1] = 1;
        distinct++;
    }
}

static void drop(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->buf);
    free(c);
}

/* serve - parse every complete request in c->buf, answer each; 0 ok, -1 close */
static int serve(struct conn *c)
{
    size_t off = 0, answers = 0;
    int rc = 0;
    for (;;) {
        char *h = c->buf + off;
        size_t avail = c->len - off;
        char *eoh = memmem(h, avail, "\r\n\r\n", 4);
        if (!eoh) {
            if (avail > HDR_MAX)
                rc = -1;
            break;
        }
        size_t hlen = (size_t)(eoh - h) + 4, vlen = 0;
        const char *v = header_value(h, eoh + 2, "Content-Length", &vlen);
        size_t te_len = 0;
        if (!v || header_value(h, eoh + 2, "Transfer-Encoding", &te_len)) {
            bad++;
            rc = -1; /* not what hookgate sends: stop reading this connection */
            break;
        }
        size_t blen = (size_t)strtoull(v, NULL, 10);
        if (avail < hlen + blen) {
            if (c->cap < off + hlen + blen) { /* room for the whole body */
                size_t cap = off + hlen + blen;
                char *nb = realloc(c->buf, cap);
                if (!nb)
                    return -1;
                c->buf = nb;
                c->cap = cap;
            }
            break;
        }
        count(h + hlen, blen);
        off += hlen + blen;
        answers++;
    }
    if (off) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
    if (answers) {
        char out[sizeof(ANSWER) * 64];
        while (answers) {
            size_t k = answers < 64 ? answers : 64, o = 0;
            for (size_t i = 0; i < k; i++, o += sizeof(ANSWER) - 1)
                memcpy(out + o, ANSWER, sizeof(ANSWER) - 1);
            size_t w = 0;
            while (w < o) { /* tiny answers: the socket buffer takes them */
                ssize_t r = send(c->fd, out + w, o - w, MSG_NOSIGNAL);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    return -1;
                w += (size_t)r;
            }
            answers -= k;
        }
        if (!t_done && distinct >= n_want) {
            t_done = now_ns();
            finish();
        }
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4 && !(argc == 6 && !strcmp(argv[4], "--times"))) {
        fprintf(stderr, "usage: deliver_http_sink PORT N RESULT_FILE [--times FILE]\n");
        return 2;
    }
    if (argc == 6) {
        if (!(times = fopen(argv[5], "w"))) {
            perror(argv[5]);
            return 1;
        }
        setvbuf(times, NULL, _IOFBF, 1 << 20);
    }
    int port = atoi(argv[1]);
    n_want = strtoull(argv[2], NULL, 10);
    result_path = argv[3];
    if (port <= 0 || port > 65535 || !n_want)
        return 2;
    seen = calloc(n_want, 1);
    if (!seen)
        return 1;
    struct sigaction sa = {0};
    sa.sa_handler = on_sig;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1024)) {
        perror("deliver_http_sink: bind/listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event evs[256];
    printf("listening %d\n", port);
    fflush(stdout);
    while (!stop) {
        int n = epoll_wait(ep, evs, 256, 200);
        if (n < 0 && errno == EINTR)
            continue;
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) { /* the listener */
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct conn *nc = calloc(1, sizeof(*nc));
                    if (!nc || !(nc->buf = malloc(nc->cap = 16384))) {
                        close(fd);
                        free(nc);
                        continue;
                    }
                    nc->fd = fd;
                    struct epoll_event ce = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
                    conns++;
                }
                continue;
            }
            int closeit = 0;
            for (;;) { /* read what is there */
                if (c->cap - c->len < 4096) {
                    char *nb = realloc(c->buf, c->cap * 2);
                    if (!nb) {
                        closeit = 1;
                        break;
                    }
                    c->buf = nb;
                    c->cap *= 2;
                }
                ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
                if (r > 0) {
                    if (!t_first) {
                        struct timespec rt;
                        clock_gettime(CLOCK_REALTIME, &rt);
                        t_first = now_ns();
                        first_ns = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
                    }
                    c->len += (size_t)r;
                    bytes += (uint64_t)r;
                    if ((size_t)r < c->cap - c->len + (size_t)r)
                        break; /* short read: drained for now */
                    continue;
                }
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    break;
                closeit = 1; /* EOF or error */
                break;
            }
            if (times) {
                struct timespec rt;
                clock_gettime(CLOCK_REALTIME, &rt);
                t_read_real = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
            }
            if (serve(c) || closeit)
                drop(ep, c);
        }
        if (times && n > 0 && fflush(times)) {
            perror("deliver_http_sink: --times");
            return 1;
        }
    }
    if (times)
        fclose(times);
    if (!t_done) { /* never complete: say what we got */
        t_done = now_ns();
        finish();
    }
    return 0;
}
