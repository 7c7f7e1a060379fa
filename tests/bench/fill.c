/*
 * fill.c - a fast load generator for hookgate's store and sink benchmarks
 * (tests/bench/storesize, tests/bench/sinks): one epoll thread, C keep-alive
 * HTTP/1.1 connections to 127.0.0.1, one request in flight on each, every
 * request a new event with a unique id, signed on the fly for the "generic"
 * profile (X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, body)>, the
 * scheme of gen_requests.py), with OpenSSL's HMAC.
 *
 *   fill -p PORT [-P PATH] [-c CONNS] [-n COUNT] [-d SECONDS] [-w SECONDS]
 *        [-r RATE] [-b BODY_SIZE] [-i RUN_ID] [-S START] [--ids random|seq]
 *        [--pid SERVER_PID] [--dev BLOCKDEV] [-T TIMES_FILE] [-v]
 *
 *   -p PORT      hookgate's plain-HTTP port on 127.0.0.1
 *   -P PATH      the route (/webhooks)
 *   -c CONNS     connections, each with one request in flight (64)
 *   -n COUNT     events to send: indexes START..START+COUNT-1 (no limit)
 *   -d SECONDS   measured seconds (no limit; at least one of -n, -d)
 *   -w SECONDS   warm-up before the measured window (0): sent, not counted
 *   -r RATE      events per second, paced on a schedule (0: as fast as the
 *                connections go, a closed loop like wrk's)
 *   -b BYTES     body size, exactly (1024)
 *   -i RUN_ID    part of every id, so that runs never collide (random)
 *   -S START     first index (0)
 *   --ids MODE   random (default): evt_<RUN_ID>_<16 hex digits of a hash of
 *                the index>_<index>, so ids come in no particular order, like
 *                a producer's UUIDs; seq: evt_<RUN_ID>_<index, 10 digits>,
 *                ascending (what gen_requests.py makes)
 *   --pid PID    the server: its CPU time (utime + stime of /proc/PID/stat),
 *                the bytes it caused to be written to storage (write_bytes of
 *                /proc/PID/io) and the bytes its file-writing threads passed
 *                to write calls (wchar of /proc/PID/task/TID/io, summed over
 *                the threads whose write_bytes grew: for hookgate, the
 *                store's pwrites, without the sockets and pipes) are read at
 *                the start and the end of the measured window; so are the
 *                machine's busy CPU time (/proc/stat) and fill's own
 *   --dev NAME   a block device (vda, sda1): the bytes written to it
 *                (sectors written, field 7 of /sys/class/block/NAME/stat, by
 *                every process) are read at the same two moments
 *   -T FILE      one line per accepted event (answer 2xx, "accepted"):
 *                "SEQ T2XX_NS LAT_NS INDEX", SEQ from the answer's "seq",
 *                T2XX_NS the CLOCK_REALTIME when the whole answer was read,
 *                LAT_NS the time from the request's first byte written to
 *                that moment; for every answer, warm-up and drain included
 *   -v           progress on stderr, every second
 *   secret: $BENCH_SECRET
 *
 * The measured window starts after the warm-up and ends after -d seconds
 * or when COUNT answers arrived; after it no request is started, and the
 * ones in flight are awaited (up to 10 s) but not counted in it.  On
 * stdout, at the end, one line:
 *
 *   RESULT ok=.. dups=.. non2xx=.. errors=.. seconds=.. rate=.. p50_us=..
 *          p90_us=.. p99_us=.. p999_us=.. max_us=.. sent=.. total_ok=..
 *          cpu_us=.. write_bytes=.. cpu_us_per_event=.. write_bytes_per_event=..
 *          dev_write_bytes=.. dev_write_bytes_per_event=.. file_wchar=..
 *          file_wchar_per_event=.. machine_busy_pct=.. other_cores=.. run_id=..
 *
 * ok: 2xx answers "accepted" in the window; dups: 2xx "duplicate"; non2xx:
 * other statuses; errors: connections lost with a request in flight (that
 * request is sent again on a new connection, so an event is never skipped).
 * rate = ok / seconds; latencies: request's first byte written to the
 * whole answer read, in the window (log-linear histogram, 1 us steps below
 * 100 ms).  cpu_us and write_bytes are the server's (--pid), in the window;
 * dev_write_bytes the device's (--dev); machine_busy_pct: the share of all
 * CPUs busy; other_cores: the busy CPU time of everything but the server
 * and fill, in cores (what else ran on the machine).
 * Exit status: 0, 1 on errors that stop the run, 2 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RBUF      8192
#define HIST_FINE 100000u               /* 1 us buckets below 100 ms */
#define HIST_N    (HIST_FINE + 100000u) /* then 1 ms buckets up to 100 s */

enum { C_IDLE, C_CONNECTING, C_BUSY };

struct conn {
    int fd, state;
    char *req;
    size_t reqlen, off;
    char rbuf[RBUF];
    size_t rlen;
    uint64_t idx;    /* event index of the request in flight */
    uint64_t t_send; /* monotonic ns of its first byte */
    int retry;       /* resend idx on the next connection */
};

static const char *path = "/webhooks", *run_id, *ids_mode = "random", *times_path;
static int port, nconns = 64, verbose;
static long server_pid;
static const char *dev_name;
static uint64_t count, start_idx, body_size = 1024;
static double duration, warmup, rate;
static unsigned char *secret;
static size_t secret_len;

static struct conn *cs;
static int ep, tfd;
static uint64_t next_idx, issued; /* next index; requests started */
static uint64_t *hist;
static uint64_t ok, dups, non2xx, errors_n, sent, total_ok;
static uint64_t t0, t_meas, t_end; /* monotonic ns */
static int measuring, stopping;
static FILE *times;
static uint64_t cpu0, wb0, cpu1, wb1, dev0, dev1;
static uint64_t busy0, total0, self0, busy1, total1, self1; /* us */

/* per-thread I/O of the server */
#define TASKS_MAX 512
struct task_io {
    long tid;
    uint64_t wchar, wb;
};
static struct task_io tio0[TASKS_MAX], tio1[TASKS_MAX];
static int ntio0, ntio1;
static int *idle, nidle;
static volatile sig_atomic_t interrupted;
static uint64_t id_seed; /* FNV-1a of RUN_ID: the random ids' order differs per run */

static uint64_t mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t real_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *m)
{
    fprintf(stderr, "fill: %s: %s\n", m, strerror(errno));
    exit(1);
}

static void on_int(int s)
{
    (void)s;
    interrupted = 1;
}

/* splitmix64: the "random" ids' order */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* ---- the server's counters ---- */

static uint64_t proc_cpu_us(long pid)
{
    char p[64], b[1024];
    snprintf(p, sizeof(p), "/proc/%ld/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    size_t n = fread(b, 1, sizeof(b) - 1, f);
    fclose(f);
    b[n] = 0;
    char *s = strrchr(b, ')');
    if (!s)
        return 0;
    unsigned long long ut = 0, st = 0;
    /* after ") ": state(3) ... utime is field 14, stime 15 */
    if (sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (ut + st) * 1000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
}

static uint64_t proc_write_bytes(long pid)
{
    char p[64], line[256];
    snprintf(p, sizeof(p), "/proc/%ld/io", pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    unsigned long long v = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "write_bytes: %llu", &v) == 1)
            break;
    fclose(f);
    return v;
}

static uint64_t dev_written(void)
{
    if (!dev_name)
        return 0;
    char p[256];
    snprintf(p, sizeof(p), "/sys/class/block/%s/stat", dev_name);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    unsigned long long v[7] = {0};
    int n = fscanf(f, "%llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6]);
    fclose(f);
    return n == 7 ? v[6] * 512ull : 0;
}

static int read_tasks(long pid, struct task_io *t)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/%ld/task", pid);
    DIR *d = opendir(p);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < TASKS_MAX) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char f[320], line[256];
        snprintf(f, sizeof(f), "/proc/%ld/task/%s/io", pid, e->d_name);
        FILE *fp = fopen(f, "r");
        if (!fp)
            continue;
        unsigned long long v;
        t[n].tid = atol(e->d_name);
        t[n].wchar = t[n].wb = 0;
        while (fgets(line, sizeof(line), fp)) {
            if (sscanf(line, "wchar: %llu", &v) == 1)
                t[n].wchar = v;
            else if (sscanf(line, "write_bytes: %llu", &v) == 1)
                t[n].wb = v;
        }
        fclose(fp);
        n++;
    }
    closedir(d);
    return n;
}

/* file_wchar - wchar grown, summed over the threads whose write_bytes grew */
static uint64_t file_wchar(void)
{
    uint64_t sum = 0;
    for (int i = 0; i < ntio1; i++) {
        uint64_t w0 = 0, b0 = 0;
        for (int j = 0; j < ntio0; j++)
            if (tio0[j].tid == tio1[i].tid) {
                w0 = tio0[j].wchar;
                b0 = tio0[j].wb;
                break;
            }
        if (tio1[i].wb > b0)
            sum += tio1[i].wchar - w0;
    }
    return sum;
}

/* machine - busy and total CPU time of all CPUs (/proc/stat), in us */
static void machine(uint64_t *busy, uint64_t *total)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) != 8)
            memset(v, 0, sizeof(v));
        fclose(f);
    }
    uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK), tot = 0;
    for (int i = 0; i < 8; i++)
        tot += v[i];
    *total = tot * 1000000u / hz;
    *busy = (tot - v[3] - v[4]) * 1000000u / hz; /* minus idle and iowait */
}

static uint64_t self_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void snap(int end)
{
    if (server_pid) {
        (end ? &cpu1 : &cpu0)[0] = proc_cpu_us(server_pid);
        (end ? &wb1 : &wb0)[0] = proc_write_bytes(server_pid);
        if (end)
            ntio1 = read_tasks(server_pid, tio1);
        else
            ntio0 = read_tasks(server_pid, tio0);
    }
    (end ? &dev1 : &dev0)[0] = dev_written();
    if (end) {
        machine(&busy1, &total1);
        self1 = self_us();
    } else {
        machine(&busy0, &total0);
        self0 = self_us();
    }
}

/* ---- requests ---- */

static EVP_MAC *mac;
static EVP_MAC_CTX *mctx;

static void hmac_hex(const char *body, size_t len, char out[65])
{
    unsigned char md[32];
    size_t mdlen = 0;
    if (!EVP_MAC_init(mctx, NULL, 0, NULL) ||
        !EVP_MAC_update(mctx, (const unsigned char *)body, len) ||
        !EVP_MAC_final(mctx, md, &mdlen, sizeof(md)) || mdlen != 32) {
        fprintf(stderr, "fill: HMAC failed\n");
        exit(1);
    }
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hx[md[i] >> 4];
        out[2 * i + 1] = hx[md[i] & 15];
    }
    out[64] = 0;
}

/* build - the request for event idx into c->req */
static void build(struct conn *c, uint64_t idx)
{
    char id[96], body_head[256];
    if (!strcmp(ids_mode, "seq"))
        snprintf(id, sizeof(id), "evt_%s_%010llu", run_id, (unsigned long long)idx);
    else
        snprintf(id, sizeof(id), "evt_%s_%016llx_%llu", run_id,
                 (unsigned long long)mix(idx ^ id_seed), (unsigned long long)idx);
    int hl =
        snprintf(body_head, sizeof(body_head),
                 "{\"event_id\":\"%s\",\"event\":\"order.created\",\"data\":{\"order_id\":%llu,"
                 "\"note\":\"",
                 id, (unsigned long long)idx);
    static const char tail[] = "\"}}";
    size_t fixed = (size_t)hl + sizeof(tail) - 1;
    if (fixed > body_size) {
        fprintf(stderr, "fill: -b %llu is too small (at least %zu)\n",
                (unsigned long long)body_size, fixed);
        exit(2);
    }
    size_t pad = body_size - fixed;
    char *body = malloc(body_size + 1);
    if (!body)
        die("malloc");
    memcpy(body, body_head, (size_t)hl);
    memset(body + hl, 'x', pad);
    memcpy(body + hl + pad, tail, sizeof(tail) - 1);
    char sig[65];
    hmac_hex(body, body_size, sig);
    int n = snprintf(c->req, 512,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "X-Webhook-Signature: sha256=%s\r\nContent-Length: %llu\r\n\r\n",
                     path, sig, (unsigned long long)body_size);
    memcpy(c->req + n, body, body_size);
    free(body);
    c->reqlen = (size_t)n + body_size;
    c->off = 0;
    c->idx = idx;
}

static void watch(struct conn *c, uint32_t events, int op)
{
    struct epoll_event e = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, op, c->fd, &e))
        die("epoll_ctl");
}

static void open_conn(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS)
        die("connect");
    c->state = C_CONNECTING;
    c->rlen = 0;
    watch(c, EPOLLOUT, EPOLL_CTL_ADD);
}

static void close_conn(struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
}

/* resend - the request was lost with its connection: count it, reconnect
 * and send the same request again (c->retry) */
static void resend(struct conn *c)
{
    errors_n += measuring;
    c->retry = 1;
    close_conn(c);
    open_conn(c);
}

/* try_write - write what the socket takes; then wait for the answer */
static void try_write(struct conn *c)
{
    while (c->off < c->reqlen) {
        ssize_t w = send(c->fd, c->req + c->off, c->reqlen - c->off, MSG_NOSIGNAL);
        if (w > 0) {
            c->off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(c, EPOLLOUT, EPOLL_CTL_MOD);
            return;
        }
        resend(c); /* lost: reconnect and send it again */
        return;
    }
    watch(c, EPOLLIN, EPOLL_CTL_MOD);
}

static int may_start(uint64_t now)
{
    if (stopping || interrupted)
        return 0;
    if (count && issued >= count)
        return 0;
    if (rate > 0) {
        uint64_t due = t0 + (uint64_t)((double)issued * 1e9 / rate);
        if (now < due)
            return 0;
    }
    return 1;
}

static void send_on(struct conn *c, uint64_t now)
{
    if (!c->retry) {
        build(c, next_idx++);
        issued++;
    } else {
        c->off = 0;
        c->retry = 0;
    }
    c->state = C_BUSY;
    c->t_send = now;
    c->rlen = 0;
    sent++;
    try_write(c);
}

static void arm_timer(void)
{
    if (rate <= 0 || !nidle || stopping || (count && issued >= count))
        return;
    uint64_t due = t0 + (uint64_t)((double)issued * 1e9 / rate);
    struct itimerspec its = {{0, 0}, {(time_t)(due / 1000000000u), (long)(due % 1000000000u)}};
    if (!due)
        its.it_value.tv_nsec = 1;
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void go_idle(struct conn *c)
{
    c->state = C_IDLE;
    watch(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
    idle[nidle++] = (int)(c - cs);
}

static void start_idle(uint64_t now)
{
    while (nidle && may_start(now)) {
        struct conn *c = &cs[idle[--nidle]];
        send_on(c, now);
    }
    arm_timer();
}

static void record(uint64_t lat_ns)
{
    uint64_t us = lat_ns / 1000;
    size_t b = us < HIST_FINE ? us : HIST_FINE + (us - HIST_FINE) / 1000;
    if (b >= HIST_N)
        b = HIST_N - 1;
    hist[b]++;
}

static uint64_t bucket_us(size_t b)
{
    return b < HIST_FINE ? b : HIST_FINE + (b - HIST_FINE) * 1000;
}

static uint64_t pct(double p)
{
    uint64_t n = 0;
    for (size_t b = 0; b < HIST_N; b++)
        n += hist[b];
    if (!n)
        return 0;
    uint64_t want = (uint64_t)(p * (double)n), acc = 0;
    if (want >= n)
        want = n - 1;
    for (size_t b = 0; b < HIST_N; b++) {
        acc += hist[b];
        if (acc > want)
            return bucket_us(b);
    }
    return 0;
}

/* parse - a complete answer in c->rbuf?  1 yes (fields set), 0 not yet, -1 bad */
static int parse(struct conn *c, int *status, uint64_t *seq, int *isdup, int *close_after,
                 size_t *used)
{
    char *eoh = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
    if (!eoh)
        return c->rlen >= RBUF ? -1 : 0;
    size_t hlen = (size_t)(eoh - c->rbuf) + 4, clen = 0;
    if (c->rlen < 12 || memcmp(c->rbuf, "HTTP/1.", 7))
        return -1;
    *status = atoi(c->rbuf + 9);
    *close_after = 0;
    for (char *p = memchr(c->rbuf, '\n', hlen); p && p < eoh;
         p = memchr(p + 1, '\n', (size_t)(eoh - p))) {
        char *l = p + 1;
        if (!strncasecmp(l, "Content-Length:", 15))
            clen = strtoull(l + 15, NULL, 10);
        else if (!strncasecmp(l, "Connection:", 11) && strcasestr(l, "close") &&
                 strcasestr(l, "close") < (char *)memchr(l, '\n', (size_t)(eoh + 2 - l)))
            *close_after = 1;
    }
    if (hlen + clen > RBUF)
        return -1;
    if (c->rlen < hlen + clen)
        return 0;
    const char *body = c->rbuf + hlen;
    *seq = 0;
    const char *s = memmem(body, clen, "\"seq\":", 6);
    if (s)
        *seq = strtoull(s + 6, NULL, 10);
    *isdup = memmem(body, clen, "\"duplicate\"", 11) != NULL;
    *used = hlen + clen;
    return 1;
}

static void on_answer(struct conn *c, uint64_t now)
{
    int status, isdup, cl;
    uint64_t seq;
    size_t used;
    int k = parse(c, &status, &seq, &isdup, &cl, &used);
    if (k == 0)
        return;
    if (k < 0) {
        fprintf(stderr, "fill: an answer fill cannot parse: %.80s\n", c->rbuf);
        exit(1);
    }
    uint64_t lat = now - c->t_send;
    int in = measuring && !stopping;
    if (status >= 200 && status < 300) {
        if (isdup) {
            dups += in;
        } else {
            ok += in;
            total_ok++;
            if (times)
                fprintf(times, "%llu %llu %llu %llu\n", (unsigned long long)seq,
                        (unsigned long long)real_ns(), (unsigned long long)lat,
                        (unsigned long long)c->idx);
        }
    } else {
        non2xx += in;
        if (non2xx <= 5 && in)
            fprintf(stderr, "fill: HTTP %d for event %llu: %.*s\n", status,
                    (unsigned long long)c->idx, (int)(c->rlen < 200 ? c->rlen : 200), c->rbuf);
    }
    if (in)
        record(lat);
    c->rlen = 0;
    if (cl) {
        close_conn(c);
        open_conn(c);
        c->retry = 0;
        return; /* it goes idle (or sends) once connected */
    }
    if (may_start(now))
        send_on(c, now);
    else
        go_idle(c);
    (void)used;
}

static void on_event(struct conn *c, uint32_t ev, uint64_t now)
{
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            errno = err;
            die("connect");
        }
        if (c->retry || may_start(now))
            send_on(c, now);
        else
            go_idle(c);
        return;
    }
    if (c->state == C_IDLE) {
        /* an idle connection the server closed (or sent something on) */
        char b[256];
        ssize_t r = recv(c->fd, b, sizeof(b), MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            for (int i = 0; i < nidle; i++)
                if (idle[i] == (int)(c - cs)) {
                    idle[i] = idle[--nidle];
                    break;
                }
            close_conn(c);
            open_conn(c);
        }
        return;
    }
    if (ev & EPOLLOUT) {
        try_write(c);
        return;
    }
    for (;;) {
        ssize_t r = recv(c->fd, c->rbuf + c->rlen, RBUF - c->rlen, 0);
        if (r > 0) {
            c->rlen += (size_t)r;
            if (c->rlen < RBUF)
                break;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        resend(c); /* closed with the request in flight */
        return;
    }
    on_answer(c, now);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: fill -p PORT [-P PATH] [-c CONNS] [-n COUNT] [-d SECONDS] [-w SECONDS]\n"
            "            [-r RATE] [-b BODY_SIZE] [-i RUN_ID] [-S START] [--ids random|seq]\n"
            "            [--pid SERVER_PID] [--dev BLOCKDEV] [-T TIMES_FILE] [-v]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"ids", required_argument, NULL, 1},
                                       {"pid", required_argument, NULL, 2},
                                       {"dev", required_argument, NULL, 3},
                                       {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "p:P:c:n:d:w:r:b:i:S:T:v", lo, NULL)) != -1) {
        switch (o) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'P':
            path = optarg;
            break;
        case 'c':
            nconns = atoi(optarg);
            break;
        case 'n':
            count = strtoull(optarg, NULL, 10);
            break;
        case 'd':
            duration = atof(optarg);
            break;
        case 'w':
            warmup = atof(optarg);
            break;
        case 'r':
            rate = atof(optarg);
            break;
        case 'b':
            body_size = strtoull(optarg, NULL, 10);
            break;
        case 'i':
            run_id = optarg;
            break;
        case 'S':
            start_idx = strtoull(optarg, NULL, 10);
            break;
        case 'T':
            times_path = optarg;
            break;
        case 'v':
            verbose = 1;
            break;
        case 1:
            ids_mode = optarg;
            break;
        case 2:
            server_pid = atol(optarg);
            break;
        case 3:
            dev_name = optarg;
            break;
        default:
            usage();
        }
    }
    if (port <= 0 || port > 65535 || nconns < 1 || (!count && duration <= 0) ||
        (strcmp(ids_mode, "random") && strcmp(ids_mode, "seq")))
        usage();
    const char *sec = getenv("BENCH_SECRET");
    if (!sec || !*sec) {
        fprintf(stderr, "fill: set BENCH_SECRET\n");
        return 2;
    }
    secret = (unsigned char *)strdup(sec);
    secret_len = strlen(sec);
    char rid[32];
    if (!run_id) {
        snprintf(rid, sizeof(rid), "%08lx",
                 (unsigned long)(real_ns() ^ (uint64_t)getpid() * 2654435761u) & 0xffffffffu);
        run_id = rid;
    }
    id_seed = 0xcbf29ce484222325ull;
    for (const char *p = run_id; *p; p++)
        id_seed = (id_seed ^ (unsigned char)*p) * 0x100000001b3ull;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (!(mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) || !(mctx = EVP_MAC_CTX_new(mac)) ||
        !EVP_MAC_init(mctx, secret, secret_len, params)) {
        fprintf(stderr, "fill: cannot set up HMAC-SHA256\n");
        return 1;
    }
    if (times_path && !(times = fopen(times_path, "w")))
        die(times_path);
    if (times)
        setvbuf(times, NULL, _IOFBF, 1 << 20);
    hist = calloc(HIST_N, sizeof(*hist));
    cs = calloc((size_t)nconns, sizeof(*cs));
    idle = calloc((size_t)nconns, sizeof(*idle));
    if (!hist || !cs || !idle)
        die("calloc");
    struct sigaction sa = {0};
    sa.sa_handler = on_int;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    ep = epoll_create1(EPOLL_CLOEXEC);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep < 0 || tfd < 0)
        die("epoll/timerfd");
    struct epoll_event te = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &te);
    next_idx = start_idx;
    t0 = mono();
    measuring = warmup <= 0;
    t_meas = t0;
    if (measuring)
        snap(0);
    for (int i = 0; i < nconns; i++) {
        cs[i].req = malloc(512 + body_size);
        if (!cs[i].req)
            die("malloc");
        open_conn(&cs[i]);
    }
    struct epoll_event evs[256];
    uint64_t last_prog = t0, last_ok = 0, drain_deadline = 0;
    for (;;) {
        uint64_t now = mono();
        if (!measuring && (double)(now - t0) / 1e9 >= warmup) {
            measuring = 1;
            t_meas = now;
            memset(hist, 0, HIST_N * sizeof(*hist));
            snap(0);
        }
        if (measuring && !stopping &&
            ((duration > 0 && (double)(now - t_meas) / 1e9 >= duration) ||
             (count && ok + dups + non2xx >= count && issued >= count) || interrupted)) {
            stopping = 1;
            t_end = now;
            snap(1);
            drain_deadline = now + 10000000000ull;
        }
        if (stopping) {
            int busy = 0;
            for (int i = 0; i < nconns; i++)
                busy += cs[i].state != C_IDLE;
            if (!busy || now > drain_deadline)
                break;
        }
        if (verbose && now - last_prog >= 1000000000ull) {
            fprintf(stderr, "fill: %llu accepted, %.0f/s, %llu sent\n",
                    (unsigned long long)total_ok,
                    (double)(total_ok - last_ok) * 1e9 / (double)(now - last_prog),
                    (unsigned long long)sent);
            last_prog = now;
            last_ok = total_ok;
        }
        int timeout = 100;
        if (duration > 0 && measuring && !stopping) {
            uint64_t end = t_meas + (uint64_t)(duration * 1e9);
            timeout = end > now ? (int)((end - now) / 1000000u) + 1 : 0;
            if (timeout > 100)
                timeout = 100;
        }
        int n = epoll_wait(ep, evs, 256, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("epoll_wait");
        now = mono();
        for (int i = 0; i < n; i++) {
            if (!evs[i].data.ptr) {
                uint64_t x;
                if (read(tfd, &x, sizeof(x)) < 0 && errno != EAGAIN)
                    die("timerfd");
                continue;
            }
            on_event(evs[i].data.ptr, evs[i].events, now);
        }
        start_idle(now);
    }
    double secs = (double)(t_end - t_meas) / 1e9;
    uint64_t cpu = cpu1 - cpu0, wb = wb1 - wb0, dw = dev1 - dev0, fw = file_wchar();
    double busy_pct =
        total1 > total0 ? 100.0 * (double)(busy1 - busy0) / (double)(total1 - total0) : 0;
    double others =
        secs > 0 ? ((double)(busy1 - busy0) - (double)cpu - (double)(self1 - self0)) / 1e6 / secs
                 : 0;
    if (times && fclose(times))
        die(times_path);
    printf("RESULT ok=%llu dups=%llu non2xx=%llu errors=%llu seconds=%.3f rate=%.0f p50_us=%llu "
           "p90_us=%llu p99_us=%llu p999_us=%llu max_us=%llu sent=%llu total_ok=%llu cpu_us=%llu "
           "write_bytes=%llu cpu_us_per_event=%.2f write_bytes_per_event=%.0f dev_write_bytes=%llu "
           "dev_write_bytes_per_event=%.0f file_wchar=%llu file_wchar_per_event=%.0f "
           "machine_busy_pct=%.0f other_cores=%.2f fill_cpu_us_per_event=%.2f run_id=%s\n",
           (unsigned long long)ok, (unsigned long long)dups, (unsigned long long)non2xx,
           (unsigned long long)errors_n, secs, secs > 0 ? (double)ok / secs : 0.0,
           (unsigned long long)pct(0.50), (unsigned long long)pct(0.90),
           (unsigned long long)pct(0.99), (unsigned long long)pct(0.999),
           (unsigned long long)pct(1.0), (unsigned long long)sent, (unsigned long long)total_ok,
           (unsigned long long)cpu, (unsigned long long)wb, ok ? (double)cpu / (double)ok : 0.0,
           ok ? (double)wb / (double)ok : 0.0, (unsigned long long)dw,
           ok ? (double)dw / (double)ok : 0.0, (unsigned long long)fw,
           ok ? (double)fw / (double)ok : 0.0, busy_pct, others,
           ok ? (double)(self1 - self0) / (double)ok : 0.0, run_id);
    return 0;
}
