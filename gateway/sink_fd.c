/*
 * sink_fd.c - NDJSON lines to a consumer's descriptor, acks back (see
 * sink_fd.h).
 *
 * Invariants: every write goes to a non-blocking descriptor and every wait
 * is a poll with a deadline, so a consumer that stops reading or answering
 * costs at most its timeout; the ack buffer never holds more than one line.
 */
#include "sink_fd.h"
#include "err.h"
#include "jscan.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SINK_FD_STALL_MS 10000 /* a consumer that takes no bytes for this long is dropped */

static int64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void poke(struct sink_fd *f)
{
    if (f->poke)
        f->poke(f->arg);
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
    char (*id)[SINK_FD_ID_MAX + 1];
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
        if (s >= nl || jscan_string_decode(q, (size_t)(s + 1 - q), e->id[e->n], SINK_FD_ID_MAX + 1,
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
static int read_acks(struct sink_fd *f, struct expect *e, uint64_t timeout_ms)
{
    int64_t deadline = mono() + (int64_t)timeout_ms;
    while (e->left) {
        if (!wait_fd(f->rfd, POLLIN, deadline))
            return HG_EIO;
        poke(f);
        ssize_t r = read(f->rfd, f->rbuf + f->rlen, sizeof(f->rbuf) - 1 - f->rlen);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            return HG_EIO;
        f->rlen += (size_t)r;
        char *start = f->rbuf, *nl;
        while ((nl = memchr(start, '\n', f->rlen - (size_t)(start - f->rbuf)))) {
            size_t n = (size_t)(nl - start);
            if (n && start[n - 1] == '\r')
                n--;
            ack_line(e, start, n);
            start = nl + 1;
        }
        f->rlen -= (size_t)(start - f->rbuf);
        memmove(f->rbuf, start, f->rlen);
        if (f->rlen >= sizeof(f->rbuf) - 1)
            return HG_EIO; /* a line longer than any id: not an ack stream */
    }
    return HG_OK;
}

int sink_fd_exchange(struct sink_fd *f, const char *buf, size_t len, int ack,
                     uint64_t ack_timeout_ms)
{
    poke(f);
    struct expect e = {0};
    int rc = ack ? collect_ids(buf, len, &e) : HG_OK;
    size_t off = 0;
    /* a reader that takes nothing for this long is dropped (a slow pipe
     * worker gets its ack_timeout if that is longer) */
    int64_t stall = SINK_FD_STALL_MS;
    if (ack && (int64_t)ack_timeout_ms > stall)
        stall = (int64_t)ack_timeout_ms;
    int64_t deadline = mono() + stall;
    while (!rc && off < len) {
        ssize_t w = write(f->fd, buf + off, len - off); /* SIGPIPE is ignored: EPIPE */
        if (w > 0) {
            off += (size_t)w;
            deadline = mono() + stall;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(f->fd, POLLOUT, deadline))
                rc = HG_EIO;
        } else {
            rc = HG_EIO;
        }
    }
    if (!rc && ack)
        rc = read_acks(f, &e, ack_timeout_ms);
    free(e.id);
    free(e.acked);
    poke(f);
    return rc;
}

void sink_fd_close(struct sink_fd *f)
{
    if (f->rfd >= 0 && f->rfd != f->fd)
        close(f->rfd);
    if (f->fd >= 0)
        close(f->fd);
    f->fd = f->rfd = -1;
    f->rlen = 0;
}
