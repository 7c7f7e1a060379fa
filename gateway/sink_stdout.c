/*
 * sink_stdout.c - NDJSON on standard output.
 *
 * Writes straight to fd 1 with write(2) (no stdio buffer to flush or lose)
 * and retries short writes and EINTR.  stdout carries nothing but events:
 * every log line goes to stderr.  EPIPE (the reader went away) is an error
 * that deliver.c retries with backoff; SIGPIPE is ignored process-wide.
 */
#include "err.h"
#include "log.h"
#include "sink.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int stdout_open(const struct cfg_sink *cfg, void **state)
{
    (void)cfg;
    *state = NULL;
    return HG_OK;
}

static int stdout_send(void *state, const char *buf, size_t len)
{
    (void)state;
    while (len > 0) {
        ssize_t w = write(1, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            log_msg(LOG_ERROR, "sink stdout: write failed", "{s:s}", "error",
                    w < 0 ? strerror(errno) : "short write");
            return HG_EIO;
        }
        buf += w;
        len -= (size_t)w;
    }
    return HG_OK;
}

static void stdout_close(void *state)
{
    (void)state;
}

const struct sink_ops sink_stdout_ops = {"stdout", stdout_open, stdout_send, stdout_close};
