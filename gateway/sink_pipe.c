/*
 * sink_pipe.c - the pipe sink (a stream sink, see sink.h): one long-lived
 * child process reads NDJSON lines on its stdin and writes the id of each
 * event it handled on its stdout.
 *
 * The child is started at open with `command` (argv, no shell, its own
 * process group, PATH plus the `env` names; exec_spawn) and always acks
 * (config sets cfg_sink.ack; the protocol is sink_fd.c's).  If it exits or stops answering, it is
 * killed and started again at the next send (deliver.c backs off in between), and the events it had
 * not acked are sent to the new child from the start of the batch.  Its stderr is logged line by
 * line.  At close its stdin is closed, so it sees EOF and may finish in peace; it gets SIGTERM,
 * then SIGKILL, if it does not exit within 2 s.
 */
#include "config.h"
#include "err.h"
#include "exec.h"
#include "log.h"
#include "sink.h"
#include "sink_fd.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct pipe_sink {
    const struct cfg_sink *cfg;
    struct sink_fd io; /* the child's stdin (lines) and stdout (acks) */
    int efd;           /* the child's stderr */
    pid_t pid;
    char ebuf[512]; /* a partial stderr line */
    size_t elen;
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* log_stderr - pass the child's stderr to the log, a line at a time. */
static void log_stderr(void *arg)
{
    struct pipe_sink *p = arg;
    char tmp[512];
    ssize_t r;
    while (p->efd >= 0 && (r = read(p->efd, tmp, sizeof(tmp))) != 0) {
        if (r < 0) {
            if (errno != EAGAIN && errno != EINTR)
                close_fd(&p->efd);
            return;
        }
        for (ssize_t i = 0; i < r; i++) {
            if (tmp[i] != '\n' && p->elen < sizeof(p->ebuf) - 1) {
                p->ebuf[p->elen++] = tmp[i];
                continue;
            }
            if (tmp[i] != '\n')
                continue; /* over-long line: the rest is dropped */
            char clean[sizeof(p->ebuf)];
            p->ebuf[p->elen] = '\0';
            log_msg(LOG_INFO, "sink pipe: worker stderr", "{s:s,s:s}", "sink", p->cfg->name, "line",
                    log_clean(p->ebuf, clean, sizeof(clean)));
            p->elen = 0;
        }
    }
}

/* reap - wait up to ms for the child, then SIGTERM, then SIGKILL. */
static void reap(struct pipe_sink *p, int ms)
{
    if (p->pid <= 0)
        return;
    int st;
    for (int t = 0; t < ms; t += 10) {
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            return;
        }
        if (t == ms / 2)
            kill(-p->pid, SIGTERM);
        struct timespec ts = {0, 10L * 1000000};
        nanosleep(&ts, NULL);
    }
    kill(-p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
    p->pid = 0;
}

/* drop - the child broke the protocol or went away: kill it, close all. */
static void drop(struct pipe_sink *p)
{
    if (p->io.fd >= 0 || p->pid > 0)
        log_msg(LOG_WARN, "sink pipe: worker stopped", "{s:s,s:s,s:s}", "sink", p->cfg->name,
                "target", p->cfg->command[0], "reason",
                p->cfg->ack ? "write failed, or not every event acked in time" : "write failed");
    sink_fd_close(&p->io);
    close_fd(&p->efd);
    if (p->pid > 0) { /* a worker that broke the protocol is not waited for */
        int st;
        kill(-p->pid, SIGKILL);
        waitpid(p->pid, &st, 0);
        p->pid = 0;
    }
    p->elen = 0;
}

static int spawn(struct pipe_sink *p)
{
    int fds[3];
    int rc = exec_spawn(p->cfg, NULL, &p->pid, fds);
    if (rc) {
        log_msg(LOG_ERROR, "sink pipe: cannot start worker", "{s:s,s:s,s:s}", "sink", p->cfg->name,
                "command", p->cfg->command[0], "error", strerror(rc));
        return HG_EIO;
    }
    p->io.fd = fds[0];
    p->io.rfd = fds[1];
    p->efd = fds[2];
    p->io.rlen = p->elen = 0;
    log_msg(LOG_INFO, "sink pipe: worker started", "{s:s,s:i}", "sink", p->cfg->name, "pid",
            (int)p->pid);
    return HG_OK;
}

static int pipe_open(const struct config *c, const struct cfg_sink *s, void **state)
{
    (void)c;
    struct pipe_sink *p = calloc(1, sizeof(*p));
    if (!p)
        return HG_ENOMEM;
    p->cfg = s;
    p->io.fd = p->io.rfd = p->efd = -1;
    p->io.poke = log_stderr;
    p->io.arg = p;
    *state = p;
    spawn(p); /* started at boot; a failure is retried at the first send */
    return HG_OK;
}

static int pipe_send(void *state, const char *buf, size_t len, size_t *sent)
{
    struct pipe_sink *p = state;
    *sent = 0;
    log_stderr(p);
    if (p->io.fd < 0 && spawn(p))
        return HG_EIO;
    if (sink_fd_exchange(&p->io, buf, len, p->cfg->ack, p->cfg->ack_timeout_ms)) {
        drop(p);
        /* the child was reached and failed on these events: that may be one
         * of them (deliver.c narrows it down and dead-letters it) */
        return p->cfg->ack ? HG_ENOACK : HG_EIO;
    }
    *sent = len;
    return HG_OK;
}

static void pipe_close(void *state)
{
    struct pipe_sink *p = state;
    if (!p)
        return;
    close_fd(&p->io.fd); /* the child sees EOF and may finish in peace */
    reap(p, 2000);
    log_stderr(p);
    sink_fd_close(&p->io);
    close_fd(&p->efd);
    free(p);
}

const struct sink_ops sink_pipe_ops = {
    .name = "pipe", .open = pipe_open, .close = pipe_close, .send = pipe_send};
