/*
 * sink_unix.c - the unix sink (a stream sink, see sink.h): NDJSON lines to a
 * consumer listening on a UNIX stream socket.
 *
 * The consumer listens on `path`; hookgate connects (again, after any
 * failure) and writes whole envelope lines.  With "ack": true the consumer
 * writes back each handled event's id on a line of its own, and a batch
 * counts as delivered only once every one of its events is acked; whatever
 * was not acked is sent again, in order, on the next connection
 * (sink_fd.c).
 *
 * A failed send always closes the connection and reports zero bytes sent: a
 * new connection is a new reader, which must get whole lines from the start
 * of the batch (deliver.c re-sends from the cursor).  Nothing listening is
 * HG_EIO (retried for as long as it takes); a consumer that was reached but
 * did not ack is HG_ENOACK (deliver.c finds the event at fault).
 */
#include "config.h"
#include "err.h"
#include "log.h"
#include "sink.h"
#include "sink_fd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct unix_sink {
    const struct cfg_sink *cfg;
    struct sink_fd io; /* the socket, for lines and acks alike */
};

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
    u->io.fd = u->io.rfd = fd;
    u->io.rlen = 0;
    log_msg(LOG_INFO, "sink unix: connected", "{s:s,s:s}", "sink", u->cfg->name, "path",
            u->cfg->path);
    return HG_OK;
}

static int unix_open(const struct config *c, const struct cfg_sink *s, void **state)
{
    (void)c;
    struct unix_sink *u = calloc(1, sizeof(*u));
    if (!u)
        return HG_ENOMEM;
    u->cfg = s;
    u->io.fd = u->io.rfd = -1;
    *state = u;
    return HG_OK;
}

static int unix_send(void *state, const char *buf, size_t len, size_t *sent)
{
    struct unix_sink *u = state;
    *sent = 0;
    if (u->io.fd < 0 && connect_to(u))
        return HG_EIO;
    if (sink_fd_exchange(&u->io, buf, len, u->cfg->ack, u->cfg->ack_timeout_ms)) {
        log_msg(LOG_WARN, "sink unix: connection closed", "{s:s,s:s,s:s}", "sink", u->cfg->name,
                "target", u->cfg->path, "reason",
                u->cfg->ack ? "write failed, or not every event acked in time" : "write failed");
        sink_fd_close(&u->io);
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
    sink_fd_close(&u->io);
    free(u);
}

const struct sink_ops sink_unix_ops = {
    .name = "unix", .open = unix_open, .close = unix_close, .send = unix_send};
