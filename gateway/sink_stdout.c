/*
 * sink_stdout.c - the stdout sink (a stream sink, see sink.h): NDJSON on
 * standard output.
 *
 * Writes straight to fd 1 with write(2) (no stdio buffer to flush or lose),
 * continues short writes, waits out EAGAIN on a non-blocking stdout, and
 * reports how far it got on error so that a retry resumes mid-buffer.
 * stdout carries nothing but events: every log line goes to stderr.  EPIPE
 * (the reader went away) is an error that deliver.c retries with backoff;
 * SIGPIPE is ignored process-wide.  No state: this is the hot path, one
 * write(2) per batch and nothing else.
 */
#include "err.h"
#include "log.h"
#include "sink.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

static int stdout_open(const struct config *c, const struct cfg_sink *s, void **state)
{
    (void)c;
    (void)s;
    *state = NULL;
    return HG_OK;
}

static int stdout_send(void *state, const char *buf, size_t len, size_t *sent)
{
    (void)state;
    *sent = 0;
    while (*sent < len) {
        ssize_t w = write(1, buf + *sent, len - *sent);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* stdout may be non-blocking (shared with a parent): wait */
            struct pollfd p = {.fd = 1, .events = POLLOUT};
            if (poll(&p, 1, 1000) >= 0 || errno == EINTR)
                continue;
        }
        if (w <= 0) {
            log_msg(LOG_ERROR, "sink stdout: write failed", "{s:s}", "error",
                    w < 0 ? strerror(errno) : "short write");
            return HG_EIO;
        }
        *sent += (size_t)w;
    }
    return HG_OK;
}

static void stdout_close(void *state)
{
    (void)state;
}

const struct sink_ops sink_stdout_ops = {
    .name = "stdout", .open = stdout_open, .close = stdout_close, .send = stdout_send};
