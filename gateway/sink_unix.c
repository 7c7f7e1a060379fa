/*
 * sink_unix.c - NDJSON over a UNIX stream socket, optionally acknowledged.
 *
 * The consumer listens on `path`; hookgate connects (again, after any
 * failure) and writes whole envelope lines.  With "ack": true the consumer
 * writes back each handled event's id on a line of its own, and a batch
 * counts as delivered only once every one of its events is acked; whatever
 * was not acked is sent again, in order, on the next connection.
 *
 * A failed send always closes the connection and reports zero bytes sent:
 * a new connection is a new reader, which must get whole lines from the
 * start of the batch (deliver.c then re-sends the batch from the cursor).
 */
#include "config.h"
#include "err.h"
#include "jscan.h"
#include "log.h"
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define UNIX_IO_TIMEOUT_MS 10000 /* a consumer that takes no bytes for this long is dropped */
#define UNIX_ID_MAX        1024

struct unix_sink {
    const struct cfg_sink *cfg;
    int fd;
    char rbuf[UNIX_ID_MAX + 2]; /* a partial ack line */
    size_t rlen;
};

static int64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drop(struct unix_sink *u, const char *why)
{
    if (u->fd >= 0) {
        log_msg(LOG_WARN, "sink unix: connection closed", "{s:s,s:s,s:s}", "sink", u->cfg->name,
                "path", u->cfg->path, "reason", why);
        close(u->fd);
    }
    u->fd = -1;
    u->rlen = 0;
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
    u->fd = fd;
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
    u->fd = -1;
    *state = u;
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
    size_t n, left;
};

static int collect_ids(const char *buf, size_t len, struct expect *e)
{
    static const char lead[] = "{\"specversion\":\"1.0\",\"id\":";
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
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
        if (!wait_fd(u->fd, POLLIN, deadline))
            return HG_EIO;
        ssize_t r = read(u->fd, u->rbuf + u->rlen, sizeof(u->rbuf) - 1 - u->rlen);
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
    if (u->fd < 0 && connect_to(u))
        return HG_EIO;
    struct expect e = {0};
    int rc = u->cfg->ack ? collect_ids(buf, len, &e) : HG_OK;
    size_t off = 0;
    int64_t deadline = mono() + UNIX_IO_TIMEOUT_MS;
    while (!rc && off < len) {
        ssize_t w = send(u->fd, buf + off, len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            deadline = mono() + UNIX_IO_TIMEOUT_MS;
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
    if (rc) {
        drop(u, u->cfg->ack ? "write failed or not every event acked in time" : "write failed");
        return HG_EIO;
    }
    *sent = len;
    return HG_OK;
}

static void unix_close(void *state)
{
    struct unix_sink *u = state;
    if (!u)
        return;
    if (u->fd >= 0)
        close(u->fd);
    free(u);
}

const struct sink_ops sink_unix_ops = {"unix", unix_open, unix_send, unix_close};
