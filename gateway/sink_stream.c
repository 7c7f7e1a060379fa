/*
 * sink_stream.c - the two NDJSON stream sinks: `unix` (a consumer listening
 * on a UNIX stream socket) and `pipe` (one long-lived child process reading
 * its stdin and writing handled ids on its stdout).
 *
 * unix: the consumer listens on `path`; hookgate connects (again, after any
 * failure) and writes whole envelope lines.  With "ack": true the consumer
 * writes back each handled event's id on a line of its own, and a batch
 * counts as delivered only once every one of its events is acked; whatever
 * was not acked is sent again, in order, on the next connection.
 *
 * pipe: the child is started at boot with `command` (argv, no shell, its
 * own process group, PATH plus the `env` names), and always acks.  If it
 * exits or stops answering, it is killed and started again with backoff,
 * and the events it had not acked are sent to the new child.  Its stderr
 * is logged line by line.
 *
 * A failed send always closes the connection (kills the child) and reports
 * zero bytes sent: a new connection is a new reader, which must get whole
 * lines from the start of the batch (deliver.c re-sends from the cursor).
 */
#include "config.h"
#include "exec.h"
#include "err.h"
#include "jscan.h"
#include "log.h"
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UNIX_IO_TIMEOUT_MS 10000 /* a consumer that takes no bytes for this long is dropped */
#define UNIX_ID_MAX        1024

struct unix_sink {
    const struct cfg_sink *cfg;
    int fd;  /* where lines go: the socket, or the child's stdin */
    int rfd; /* where acks come from: the socket again, or the child's stdout */
    int efd; /* pipe: the child's stderr */
    pid_t pid;
    int is_pipe;
    char ebuf[512];
    size_t elen;
    char rbuf[UNIX_ID_MAX + 2]; /* a partial ack line */
    size_t rlen;
};

static int64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* reap - wait up to ms for the child, then SIGTERM, then SIGKILL. */
static void reap(struct unix_sink *u, int ms)
{
    if (u->pid <= 0)
        return;
    int st;
    for (int t = 0; t < ms; t += 10) {
        if (waitpid(u->pid, &st, WNOHANG) == u->pid) {
            u->pid = 0;
            return;
        }
        if (t == ms / 2)
            kill(-u->pid, SIGTERM);
        struct timespec ts = {0, 10L * 1000000};
        nanosleep(&ts, NULL);
    }
    kill(-u->pid, SIGKILL);
    waitpid(u->pid, &st, 0);
    u->pid = 0;
}

static void drop(struct unix_sink *u, const char *why)
{
    if (u->fd >= 0 || u->pid > 0)
        log_msg(LOG_WARN, u->is_pipe ? "sink pipe: worker stopped" : "sink unix: connection closed",
                "{s:s,s:s,s:s}", "sink", u->cfg->name, "target",
                u->is_pipe ? u->cfg->command[0] : u->cfg->path, "reason", why);
    if (u->rfd != u->fd)
        close_fd(&u->rfd);
    close_fd(&u->fd);
    u->rfd = -1;
    close_fd(&u->efd);
    if (u->pid > 0) { /* a worker that broke the protocol is not waited for */
        int st;
        kill(-u->pid, SIGKILL);
        waitpid(u->pid, &st, 0);
        u->pid = 0;
    }
    u->rlen = u->elen = 0;
}

/* log_stderr - pass the pipe worker's stderr to the log, a line at a time. */
static void log_stderr(struct unix_sink *u)
{
    char tmp[512];
    ssize_t r;
    while (u->efd >= 0 && (r = read(u->efd, tmp, sizeof(tmp))) != 0) {
        if (r < 0) {
            if (errno != EAGAIN && errno != EINTR)
                close_fd(&u->efd);
            return;
        }
        for (ssize_t i = 0; i < r; i++) {
            if (tmp[i] != '\n' && u->elen < sizeof(u->ebuf) - 1) {
                u->ebuf[u->elen++] = tmp[i];
                continue;
            }
            if (tmp[i] != '\n')
                continue; /* over-long line: the rest is dropped */
            char clean[sizeof(u->ebuf)];
            u->ebuf[u->elen] = '\0';
            log_msg(LOG_INFO, "sink pipe: worker stderr", "{s:s,s:s}", "sink", u->cfg->name, "line",
                    log_clean(u->ebuf, clean, sizeof(clean)));
            u->elen = 0;
        }
    }
}

/* spawn - start the pipe worker. */
static int spawn(struct unix_sink *u)
{
    int fds[3];
    int rc = exec_spawn(u->cfg, NULL, &u->pid, fds);
    if (rc) {
        log_msg(LOG_ERROR, "sink pipe: cannot start worker", "{s:s,s:s,s:s}", "sink", u->cfg->name,
                "command", u->cfg->command[0], "error", strerror(rc));
        return HG_EIO;
    }
    u->fd = fds[0];
    u->rfd = fds[1];
    u->efd = fds[2];
    u->rlen = u->elen = 0;
    log_msg(LOG_INFO, "sink pipe: worker started", "{s:s,s:i}", "sink", u->cfg->name, "pid",
            (int)u->pid);
    return HG_OK;
}

static int connect_to(struct unix_sink *u)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", u->cfg->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return HG_EIO;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return HG_EIO; /* not listening (yet): deliver.c backs off */
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    u->fd = u->rfd = fd;
    u->rlen = 0;
    log_msg(LOG_INFO, "sink unix: connected", "{s:s,s:s}", "sink", u->cfg->name, "path",
            u->cfg->path);
    return HG_OK;
}

static int unix_open(const struct cfg_sink *cfg, void **state)
{
    struct unix_sink *u = calloc(1, sizeof(*u));
    if (!u)
        return HG_ENOMEM;
    u->cfg = cfg;
    u->fd = u->rfd = u->efd = -1;
    u->is_pipe = cfg->type == SINK_PIPE;
    *state = u;
    if (u->is_pipe)
        spawn(u); /* started at boot; a failure is retried at the first send */
    return HG_OK;
}

/* wait_fd - poll one fd for events until deadline; 1 ready, 0 timeout. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 1; /* let the read/write report it */
    }
}

/* expected ids: the "id" of each line, which event.c always renders right
 * after {"specversion":"1.0", */
struct expect {
    char (*id)[UNIX_ID_MAX + 1];
    char *acked;
    size_t n, left, first;
};

static int collect_ids(const char *buf, size_t len, struct expect *e)
{
    static const char lead[] = "{\"specversion\":\"1.0\",\"id\":";
    size_t lines = 0;
    for (const char *q = buf; (q = memchr(q, '\n', (size_t)(buf + len - q))); q++)
        lines++;
    e->id = calloc(lines ? lines : 1, sizeof(*e->id));
    e->acked = calloc(lines ? lines : 1, 1);
    if (!e->id || !e->acked)
        return HG_ENOMEM;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || (size_t)(nl - p) < sizeof(lead) || memcmp(p, lead, sizeof(lead) - 1))
            return HG_EINVAL;
        const char *q = p + sizeof(lead) - 1, *s = q + 1;
        while (s < nl && *s != '"')
            s += *s == '\\' ? 2 : 1;
        size_t n;
        if (s >= nl || jscan_string_decode(q, (size_t)(s + 1 - q), e->id[e->n], UNIX_ID_MAX + 1,
                                           &n) != JSCAN_OK)
            return HG_EINVAL;
        e->n++;
        p = nl + 1;
    }
    e->left = e->n;
    return HG_OK;
}

static void ack_line(struct expect *e, const char *line, size_t n)
{
    /* acks mostly come in order: try the oldest unacked one first */
    while (e->first < e->n && e->acked[e->first])
        e->first++;
    size_t f = e->first;
    if (f < e->n && strlen(e->id[f]) == n && !memcmp(e->id[f], line, n)) {
        e->acked[f] = 1;
        e->left--;
        return;
    }
    for (size_t i = 0; i < e->n; i++) {
        if (!e->acked[i] && strlen(e->id[i]) == n && !memcmp(e->id[i], line, n)) {
            e->acked[i] = 1;
            e->left--;
            return;
        }
    }
}

/* read_acks - until every expected id is acked, the ack timeout, or EOF. */
static int read_acks(struct unix_sink *u, struct expect *e)
{
    int64_t deadline = mono() + (int64_t)u->cfg->ack_timeout_ms;
    while (e->left) {
        if (!wait_fd(u->rfd, POLLIN, deadline))
            return HG_EIO;
        log_stderr(u);
        ssize_t r = read(u->rfd, u->rbuf + u->rlen, sizeof(u->rbuf) - 1 - u->rlen);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            return HG_EIO;
        u->rlen += (size_t)r;
        char *start = u->rbuf, *nl;
        while ((nl = memchr(start, '\n', u->rlen - (size_t)(start - u->rbuf)))) {
            size_t n = (size_t)(nl - start);
            if (n && start[n - 1] == '\r')
                n--;
            ack_line(e, start, n);
            start = nl + 1;
        }
        u->rlen -= (size_t)(start - u->rbuf);
        memmove(u->rbuf, start, u->rlen);
        if (u->rlen >= sizeof(u->rbuf) - 1)
            return HG_EIO; /* a line longer than any id: not an ack stream */
    }
    return HG_OK;
}

static int unix_send(void *state, const char *buf, size_t len, size_t *sent)
{
    struct unix_sink *u = state;
    *sent = 0;
    log_stderr(u);
    if (u->fd < 0 && (u->is_pipe ? spawn(u) : connect_to(u)))
        return HG_EIO;
    struct expect e = {0};
    int rc = u->cfg->ack ? collect_ids(buf, len, &e) : HG_OK;
    size_t off = 0;
    /* a reader that takes nothing for this long is dropped (a slow pipe
     * worker gets its ack_timeout if that is longer) */
    int64_t stall = UNIX_IO_TIMEOUT_MS;
    if (u->cfg->ack && (int64_t)u->cfg->ack_timeout_ms > stall)
        stall = (int64_t)u->cfg->ack_timeout_ms;
    int64_t deadline = mono() + stall;
    while (!rc && off < len) {
        ssize_t w = write(u->fd, buf + off, len - off); /* SIGPIPE is ignored: EPIPE */
        if (w > 0) {
            off += (size_t)w;
            deadline = mono() + stall;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(u->fd, POLLOUT, deadline))
                rc = HG_EIO;
        } else {
            rc = HG_EIO;
        }
    }
    if (!rc && u->cfg->ack)
        rc = read_acks(u, &e);
    free(e.id);
    free(e.acked);
    log_stderr(u);
    if (rc) {
        drop(u, u->cfg->ack ? "write failed, or not every event acked in time" : "write failed");
        /* connected, and then the consumer failed on these events: that may
         * be one of them (deliver.c narrows it down and dead-letters it) */
        return u->cfg->ack ? HG_ENOACK : HG_EIO;
    }
    *sent = len;
    return HG_OK;
}

static void unix_close(void *state)
{
    struct unix_sink *u = state;
    if (!u)
        return;
    close_fd(&u->fd); /* a pipe worker sees EOF and may finish in peace */
    reap(u, 2000);
    log_stderr(u);
    if (u->rfd >= 0 && u->is_pipe)
        close_fd(&u->rfd);
    close_fd(&u->efd);
    free(u);
}

const struct sink_ops sink_unix_ops = {"unix", unix_open, unix_send, unix_close};
const struct sink_ops sink_pipe_ops = {"pipe", unix_open, unix_send, unix_close};
