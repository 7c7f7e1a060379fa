/*
 * deliver_consumer.c - the receiving end of tests/bench/deliver.
 *
 *   deliver_consumer unix PATH N [--ack] [--times FILE]   listen on the UNIX socket PATH
 *   deliver_consumer stdio N --result FILE [--go FILE] [--times FILE] [--no-ack]
 *                                                  a pipe-sink worker (or, with
 *                                                  --no-ack, a reader of stdout)
 *   deliver_consumer spawn N CMD [ARG...]          spawn+wait CMD N times
 *
 * unix: binds and listens on PATH (replacing a stale socket file), accepts
 * hookgate's connection and reads NDJSON lines as fast as it can (4 MiB
 * reads), counting newlines.  With --ack it also takes each line's "id" (the
 * envelope starts with {"specversion":"1.0","id":"...": the JSON string is
 * decoded, escapes included) and writes it back followed by \n, buffered and
 * written in batches, never blocking the reads.  It exits 0 once N lines are
 * counted (and, with --ack, all their acks written), printing one line on
 * stdout:
 *   RESULT lines=N bytes=B seconds=S conns=C wait=W
 * seconds runs from the first byte received to the last line (last ack
 * written); wait is from listen() to the first byte.  If hookgate connects
 * more than once (conns > 1) events may have been counted twice.
 *
 * stdio: the same reader on stdin, acks (always: the pipe protocol) on
 * stdout.  With --go FILE it first waits until FILE exists (polling every
 * millisecond) and its clock starts then.  The RESULT line goes to FILE
 * given by --result (written to FILE.tmp and renamed, so a reader never
 * sees half of it), because stdout is the ack channel.
 *
 * --times FILE (tests/bench/sinks): for every line, "SEQ T_NS" is appended
 * to FILE, SEQ being the envelope's "hookgateseq" (searched in the last 256
 * bytes of the line) and T_NS the CLOCK_REALTIME right after the read that
 * completed the line; FILE is flushed after every read, so a reader of FILE
 * never waits for lines that arrived.  With --times, N may be 0: no limit.
 * The consumer then reads (unix: accepting a new connection when one
 * closes) until EOF on stdin (stdio) or SIGTERM/SIGINT, flushes FILE and
 * exits 0, printing (unix) or writing to --result (stdio) its RESULT line.
 * --no-ack (stdio): write no acks; what reads hookgate's stdout sink.
 *
 * spawn: posix_spawn + waitpid of CMD, N times in a row, then
 *   RESULT runs=N seconds=S us_per_run=U
 * what one process costs on this machine: the ceiling of an exec sink with
 * concurrency 1.  (The exec handler itself is deliver_mark.c.)
 *
 * Exit status: 0 done, 1 I/O error or EOF before N lines, 2 usage,
 * 3 a line that is not a hookgate envelope (--ack / stdio only).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE (4u << 20)  /* read buffer */
#define CARRY_MAX (64u << 10) /* longest line prefix that can hold an id */

extern char **environ;

static const char LEAD[] = "{\"specversion\":\"1.0\",\"id\":\"";
#define LEAD_LEN (sizeof(LEAD) - 1)

#define TAIL_MAX 256 /* the end of a line searched for "hookgateseq" */

static volatile sig_atomic_t stop_flag;
static void on_stop(int s)
{
    (void)s;
    stop_flag = 1;
}

/* install on_stop for SIGTERM and SIGINT, without SA_RESTART: a blocking
 * read or accept returns EINTR and the loop sees stop_flag */
static void catch_stop(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "deliver_consumer: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ---- acks: a growable buffer written without blocking the reader ---- */

struct acks {
    int fd;
    char *p;
    size_t len, off, cap;
    int is_sock;
};

static void ack_put(struct acks *a, const char *s, size_t n)
{
    if (a->len + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap : (1u << 20);
        while (a->len + n + 1 > cap)
            cap *= 2;
        char *q = realloc(a->p, cap);
        if (!q) {
            fprintf(stderr, "deliver_consumer: out of memory\n");
            exit(1);
        }
        a->p = q;
        a->cap = cap;
    }
    memcpy(a->p + a->len, s, n);
    a->p[a->len + n] = '\n';
    a->len += n + 1;
}

/* ack_try - write what the fd takes now; 1 when nothing is left. */
static int ack_try(struct acks *a)
{
    while (a->off < a->len) {
        ssize_t w = a->is_sock ? send(a->fd, a->p + a->off, a->len - a->off, MSG_DONTWAIT)
                               : write(a->fd, a->p + a->off, a->len - a->off);
        if (w > 0) {
            a->off += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        } else {
            die("writing acks");
        }
    }
    a->off = a->len = 0;
    return 1;
}

/* ack_flush_all - block (in poll) until every ack is written. */
static void ack_flush_all(struct acks *a)
{
    while (!ack_try(a)) {
        struct pollfd p = {.fd = a->fd, .events = POLLOUT};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            die("poll");
    }
}

/* ---- the id at the start of an envelope line ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex4(const char *s, const char *end, unsigned *out)
{
    if (end - s < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

static size_t utf8(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * parse_id - s..end is the start of a line (no newline inside).  Returns 1
 * and the decoded id in out/outlen when the id's closing quote is there,
 * 0 when more bytes are needed, -1 when this is not an envelope line.
 */
static int parse_id(const char *s, const char *end, char *out, size_t cap, size_t *outlen)
{
    size_t have = (size_t)(end - s);
    if (memcmp(s, LEAD, have < LEAD_LEN ? have : LEAD_LEN))
        return -1;
    if (have < LEAD_LEN)
        return 0;
    const char *p = s + LEAD_LEN;
    size_t n = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            *outlen = n;
            return 1;
        }
        if ((unsigned char)c < 0x20)
            return -1;
        if (n + 4 > cap)
            return -1;
        if (c != '\\') {
            out[n++] = c;
            p++;
            continue;
        }
        if (end - p < 2)
            return 0;
        switch (p[1]) {
        case '"':
            out[n++] = '"';
            break;
        case '\\':
            out[n++] = '\\';
            break;
        case '/':
            out[n++] = '/';
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (end - p < 6)
                return 0;
            if (hex4(p + 2, end, &cp))
                return -1;
            p += 6;
            if (cp >= 0xD800 && cp < 0xDC00) { /* a surrogate pair */
                if (end - p < 6)
                    return 0;
                if (p[0] != '\\' || p[1] != 'u' || hex4(p + 2, end, &lo) || lo < 0xDC00 ||
                    lo > 0xDFFF)
                    return -1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                return -1;
            }
            n += utf8(cp, out + n);
            continue;
        }
        default:
            return -1;
        }
        p += 2;
    }
    return 0;
}

/* ---- the reader shared by unix and stdio ---- */

struct reader {
    int fd, is_sock, ack;
    uint64_t want, lines, bytes;
    char *buf;
    size_t carry; /* bytes at buf[0..carry) : a line prefix whose id is not complete yet */
    int id_done;  /* the current (unfinished) line has been acked already */
    struct acks acks;
    double t_first;
    /* --times */
    FILE *times;
    uint64_t t_read;     /* CLOCK_REALTIME ns of the current read */
    char tail[TAIL_MAX]; /* the last bytes of the unfinished line */
    size_t tail_len;
    int cont; /* the unfinished line began in an earlier read */
};

/* seq_in - the value of the last "hookgateseq": in s..s+n, or 0 */
static uint64_t seq_in(const char *s, size_t n)
{
    static const char key[] = "\"hookgateseq\":";
    const size_t kl = sizeof(key) - 1;
    for (size_t i = n >= kl ? n - kl + 1 : 0; i-- > 0;)
        if (s[i] == '"' && !memcmp(s + i, key, kl))
            return strtoull(s + i + kl, NULL, 10);
    return 0;
}

/* put_u64 - decimal v into o; returns the length */
static size_t put_u64(char *o, uint64_t v)
{
    char t[24];
    size_t n = 0;
    do
        t[n++] = (char)('0' + v % 10);
    while (v /= 10);
    for (size_t i = 0; i < n; i++)
        o[i] = t[n - 1 - i];
    return n;
}

/* line_done - the line that ends at nl (its bytes in this buffer start at
 * ls) is complete: write its "SEQ T_NS" */
static void line_done(struct reader *r, const char *ls, const char *nl)
{
    size_t here = (size_t)(nl - ls);
    char win[TAIL_MAX];
    const char *w = ls;
    size_t wl = here;
    if (r->cont && here < TAIL_MAX) { /* its end straddles two reads */
        size_t from_tail = TAIL_MAX - here < r->tail_len ? TAIL_MAX - here : r->tail_len;
        memcpy(win, r->tail + r->tail_len - from_tail, from_tail);
        memcpy(win + from_tail, ls, here);
        w = win;
        wl = from_tail + here;
    } else if (here > TAIL_MAX) {
        w = nl - TAIL_MAX;
        wl = TAIL_MAX;
    }
    char out[48];
    size_t o = put_u64(out, seq_in(w, wl));
    out[o++] = ' ';
    o += put_u64(out + o, r->t_read);
    out[o++] = '\n';
    fwrite(out, 1, o, r->times);
    r->cont = 0;
    r->tail_len = 0;
}

/* line_rest - ls..end is the start (or more) of a line not complete yet */
static void line_rest(struct reader *r, const char *ls, const char *end)
{
    size_t n = (size_t)(end - ls);
    if (n >= TAIL_MAX) {
        memcpy(r->tail, end - TAIL_MAX, TAIL_MAX);
        r->tail_len = TAIL_MAX;
    } else {
        size_t keep = TAIL_MAX - n < r->tail_len ? TAIL_MAX - n : r->tail_len;
        memmove(r->tail, r->tail + r->tail_len - keep, keep);
        memcpy(r->tail + keep, ls, n);
        r->tail_len = keep + n;
    }
    r->cont = 1;
}

/* consume - count (and ack) the lines in buf[0..len); keep an unfinished
 * line prefix in r->carry when its id is not complete. */
static void consume(struct reader *r, size_t len)
{
    char *p = r->buf, *end = r->buf + len;
    char id[4096];
    while (p < end && r->lines < r->want) {
        if (r->ack && !r->id_done) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            char *lend = nl ? nl : end;
            size_t idlen;
            int k = parse_id(p, lend, id, sizeof(id), &idlen);
            if (k < 0 || (k == 0 && nl)) {
                fprintf(stderr, "deliver_consumer: line %llu is not a hookgate envelope: %.60s\n",
                        (unsigned long long)r->lines + 1, p);
                exit(3);
            }
            if (k == 0) { /* the id continues in the next read */
                r->carry = (size_t)(end - p);
                if (r->carry > CARRY_MAX) {
                    fprintf(stderr, "deliver_consumer: no id in the first %u bytes of a line\n",
                            CARRY_MAX);
                    exit(3);
                }
                memmove(r->buf, p, r->carry);
                return;
            }
            ack_put(&r->acks, id, idlen);
            r->id_done = 1;
        }
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) { /* the rest of a line whose id (if any) is done */
            if (r->times)
                line_rest(r, p, end);
            break;
        }
        if (r->times)
            line_done(r, p, nl);
        r->lines++;
        r->id_done = 0;
        p = nl + 1;
    }
    r->carry = 0;
}

/* run_reader - read until want lines; 0 on success, 1 on EOF first, 2 on
 * SIGTERM/SIGINT (with --times).  The
 * acks a read produced are written (without blocking) before the next
 * read: one write per read, so they go out in batches, and never later than
 * when the reader would wait for more input. */
static int run_reader(struct reader *r)
{
    for (;;) {
        if (r->lines >= r->want) {
            if (r->ack)
                ack_flush_all(&r->acks);
            return 0;
        }
        if (r->ack && r->acks.len && !ack_try(&r->acks)) {
            /* the peer is not taking acks right now: wait for either side,
             * so neither of us can block the other */
            struct pollfd pf[2] = {{.fd = r->fd, .events = POLLIN},
                                   {.fd = r->acks.fd, .events = POLLOUT}};
            if (poll(pf, 2, -1) < 0 && errno != EINTR)
                die("poll");
            if (stop_flag)
                return 2;
            if (!pf[0].revents)
                continue;
        }
        ssize_t n = read(r->fd, r->buf + r->carry, RBUF_SIZE - r->carry);
        if (n < 0 && errno == EINTR) {
            if (stop_flag)
                return 2;
            continue;
        }
        if (n < 0 && r->is_sock && errno == ECONNRESET)
            return 1;
        if (n < 0)
            die("read");
        if (n == 0)
            return 1;
        if (!r->t_first)
            r->t_first = now_s();
        r->bytes += (uint64_t)n;
        if (r->times)
            r->t_read = real_ns();
        consume(r, r->carry + (size_t)n);
        if (r->times && fflush(r->times))
            die("writing --times");
    }
}

static uint64_t parse_n(const char *s)
{
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || *e || !*s || v == 0) {
        fprintf(stderr, "deliver_consumer: N must be a positive integer (got '%s')\n", s);
        exit(2);
    }
    return (uint64_t)v;
}

/* want_n - N, where 0 (no limit) is allowed with --times */
static uint64_t want_n(const char *s, const char *times)
{
    if (times && !strcmp(s, "0"))
        return UINT64_MAX;
    return parse_n(s);
}

static FILE *open_times(const char *path)
{
    if (!path)
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f)
        die(path);
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    catch_stop();
    return f;
}

static int usage(void)
{
    fprintf(stderr, "usage: deliver_consumer unix PATH N [--ack] [--times FILE]\n"
                    "       deliver_consumer stdio N --result FILE [--go FILE] [--times FILE] "
                    "[--no-ack]\n"
                    "       deliver_consumer stdio 0 --times FILE [--result FILE] [--no-ack]\n"
                    "       deliver_consumer spawn N CMD [ARG...]\n");
    return 2;
}

static int mode_unix(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    const char *path = argv[2], *times = NULL;
    int ack = 0;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--ack"))
            ack = 1;
        else if (i + 1 < argc && !strcmp(argv[i], "--times"))
            times = argv[++i];
        else
            return usage();
    }
    struct reader r = {.want = want_n(argv[3], times), .ack = ack, .is_sock = 1};
    r.times = open_times(times);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "deliver_consumer: socket path too long\n");
        return 2;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    if (ls < 0)
        die("socket");
    unlink(path);
    if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)))
        die("bind");
    chmod(path, 0600);
    if (listen(ls, 4))
        die("listen");
    double t_listen = now_s();
    if (!(r.buf = malloc(RBUF_SIZE)))
        die("malloc");
    unsigned conns = 0;
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR && stop_flag)
                break;
            if (errno == EINTR)
                continue;
            die("accept");
        }
        conns++;
        int sz = 4 << 20;
        setsockopt(c, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        r.fd = r.acks.fd = c;
        r.acks.is_sock = 1;
        r.carry = 0;
        r.id_done = 0;
        r.acks.len = r.acks.off = 0; /* acks for a broken connection are moot */
        r.cont = 0;
        r.tail_len = 0;
        int rr = run_reader(&r);
        if (rr == 0 || rr == 2)
            break;
        fprintf(stderr,
                "deliver_consumer: connection %u closed after %llu lines; waiting for "
                "the next\n",
                conns, (unsigned long long)r.lines);
        close(c);
    }
    double t_end = now_s();
    unlink(path);
    if (r.times && fclose(r.times))
        die("writing --times");
    printf("RESULT lines=%llu bytes=%llu seconds=%.6f conns=%u wait=%.3f\n",
           (unsigned long long)r.lines, (unsigned long long)r.bytes, t_end - r.t_first, conns,
           r.t_first - t_listen);
    return 0;
}

static int mode_stdio(int argc, char **argv)
{
    const char *result = NULL, *go = NULL, *times = NULL;
    int ack = 1;
    if (argc < 3)
        return usage();
    for (int i = 3; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--result"))
            result = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--go"))
            go = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--times"))
            times = argv[++i];
        else if (!strcmp(argv[i], "--no-ack"))
            ack = 0;
        else
            return usage();
    }
    if (!result && !times)
        return usage();
    struct reader r = {.want = want_n(argv[2], times), .ack = ack, .fd = 0};
    r.times = open_times(times);
    if (!(r.buf = malloc(RBUF_SIZE)))
        die("malloc");
    r.acks.fd = 1;
    if (ack)
        fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
    struct stat st;
    if (go) {
        while (stat(go, &st) != 0) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    double t_go = now_s();
    int rc = run_reader(&r);
    double t_end = now_s();
    if (r.times) { /* no limit: EOF or a signal is the end */
        if (fclose(r.times))
            die("writing --times");
        if (r.want == UINT64_MAX)
            rc = 0;
    }
    if (rc) {
        fprintf(stderr, "deliver_consumer: stdin closed after %llu of %llu lines\n",
                (unsigned long long)r.lines, (unsigned long long)r.want);
        return 1;
    }
    if (!result)
        return 0;
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", result);
    FILE *f = fopen(tmp, "w");
    if (!f)
        die(tmp);
    /* with --go the clock starts at the go signal (the backlog is already
     * waiting in the pipe), else at the first byte */
    fprintf(f, "RESULT lines=%llu bytes=%llu seconds=%.6f conns=1 wait=%.3f\n",
            (unsigned long long)r.lines, (unsigned long long)r.bytes,
            t_end - (go ? t_go : r.t_first), r.t_first - t_go);
    if (fclose(f) || rename(tmp, result))
        die(result);
    /* stay until hookgate closes our stdin (its stop), so that an exit
     * is never mistaken for a crashed worker while it reads the acks */
    while (!stop_flag && read(0, r.buf, RBUF_SIZE) > 0)
        ;
    return 0;
}

/* spawn: posix_spawn + waitpid of CMD, N times in a row: what one exec
 * costs on this machine, the ceiling of a concurrency-1 exec sink. */
static int mode_spawn(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    uint64_t n = parse_n(argv[2]);
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        pid_t pid;
        int st, rc = posix_spawn(&pid, argv[3], NULL, NULL, argv + 3, environ);
        if (rc) {
            errno = rc;
            die(argv[3]);
        }
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "deliver_consumer: %s failed\n", argv[3]);
            return 1;
        }
    }
    double s = now_s() - t0;
    printf("RESULT runs=%llu seconds=%.6f us_per_run=%.1f\n", (unsigned long long)n, s,
           s / (double)n * 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (!strcmp(argv[1], "unix"))
        return mode_unix(argc, argv);
    if (!strcmp(argv[1], "stdio"))
        return mode_stdio(argc, argv);
    if (!strcmp(argv[1], "spawn"))
        return mode_spawn(argc, argv);
    return usage();
}
