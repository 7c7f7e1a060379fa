/*
 * exec.c - handler processes for the exec and pipe sinks (see exec.h).
 *
 * Invariants: every descriptor we keep is non-blocking and close-on-exec;
 * the child gets only fds 0-2; a job never blocks the delivery thread; a
 * job that times out takes its whole process group with it.
 */
#include "exec.h"
#include "config.h"
#include "err.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXEC_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct exec_job {
    const struct cfg_sink *sink;
    pid_t pid;
    int in, out, err; /* our ends; -1 when closed */
    int pidfd;        /* readable once the handler exits (-1: not available) */
    const char *line;
    size_t len, written;
    int64_t deadline;
    int finished, timed_out, status, spawn_errno;
    uint64_t seq;
    unsigned attempt;
    char obuf[EXEC_OUTPUT_MAX + 1], ebuf[EXEC_OUTPUT_MAX + 1];
    size_t olen, elen;
    int otrunc, etrunc;
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* build_env - PATH, the event's HOOKGATE_* (when e), pass-through names.
 * Strings are malloc'd; free with free_env. */
static char **build_env(const struct cfg_sink *s, const struct exec_event *e)
{
    size_t n = 0;
    for (char **p = s->env; p && *p; p++)
        n++;
    char **env = calloc(n + 8, sizeof(char *));
    if (!env)
        return NULL;
    size_t k = 0;
    int ok = (env[k++] = strdup(EXEC_PATH)) != NULL;
    if (e) {
        const char *names[4] = {"HOOKGATE_EVENT_ID", "HOOKGATE_EVENT_TYPE", "HOOKGATE_SOURCE",
                                "HOOKGATE_ROUTE"};
        const char *vals[4] = {e->id, e->type, e->source, e->route};
        for (int i = 0; i < 4 && ok; i++)
            ok = asprintf(&env[k++], "%s=%s", names[i], vals[i]) >= 0;
        if (ok)
            ok = asprintf(&env[k++], "HOOKGATE_SEQ=%llu", (unsigned long long)e->seq) >= 0;
        if (ok)
            ok = asprintf(&env[k++], "HOOKGATE_ATTEMPT=%u", e->attempt) >= 0;
    }
    for (char **p = s->env; ok && p && *p; p++) {
        const char *v = getenv(*p);
        if (v)
            ok = asprintf(&env[k++], "%s=%s", *p, v) >= 0;
    }
    if (!ok) {
        for (size_t i = 0; i < k; i++)
            free(env[i]);
        free(env);
        return NULL;
    }
    return env;
}

int exec_spawn(const struct cfg_sink *s, const struct exec_event *e, pid_t *pid, int fds[3])
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    char **env = build_env(s, e);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    int rc = !env ? ENOMEM : 0;
    if (!rc && (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)))
        rc = errno;
    if (!rc) {
        sigset_t none, dfl;
        sigemptyset(&none);
        sigemptyset(&dfl);
        sigaddset(&dfl, SIGPIPE);
        sigaddset(&dfl, SIGTERM);
        sigaddset(&dfl, SIGINT);
        sigaddset(&dfl, SIGHUP);
        posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
        posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
        posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
        /* nothing else reaches the handler: LMDB opens data.mdb without
         * O_CLOEXEC, and a store reopen (store.c) can run while we spawn */
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                          POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setpgroup(&at, 0);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &dfl);
        rc = strchr(s->command[0], '/')
                 ? posix_spawn(pid, s->command[0], &fa, &at, s->command, env)
                 : posix_spawnp(pid, s->command[0], &fa, &at, s->command, env);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    for (char **p = env; p && *p; p++)
        free(*p);
    free(env);
    close_fd(&pin[0]);
    close_fd(&pout[1]);
    close_fd(&perr[1]);
    fds[0] = pin[1];
    fds[1] = pout[0];
    fds[2] = perr[0];
    if (rc) {
        *pid = 0;
        for (int i = 0; i < 3; i++)
            close_fd(&fds[i]);
        return rc;
    }
    for (int i = 0; i < 3; i++)
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
    return 0;
}

int exec_job_start(const struct cfg_sink *s, const struct exec_event *e, int64_t now_ms,
                   struct exec_job **out)
{
    struct exec_job *j = calloc(1, sizeof(*j));
    if (!j)
        return HG_ENOMEM;
    j->sink = s;
    j->line = e->line;
    j->len = e->len;
    j->seq = e->seq;
    j->attempt = e->attempt;
    j->deadline = now_ms + (int64_t)s->timeout_ms;
    int fds[3];
    int rc = exec_spawn(s, e, &j->pid, fds);
    j->in = fds[0];
    j->out = fds[1];
    j->err = fds[2];
    j->pidfd = rc ? -1 : (int)syscall(SYS_pidfd_open, j->pid, 0); /* close-on-exec by default */
    if (rc) {
        j->spawn_errno = rc;
        j->finished = 1;
    }
    *out = j;
    return HG_OK;
}

int exec_job_pollfds(const struct exec_job *j, struct pollfd *pfd)
{
    int n = 0;
    if (j->finished)
        return 0;
    if (j->in >= 0)
        pfd[n++] = (struct pollfd){.fd = j->in, .events = POLLOUT};
    if (j->out >= 0)
        pfd[n++] = (struct pollfd){.fd = j->out, .events = POLLIN};
    if (j->err >= 0)
        pfd[n++] = (struct pollfd){.fd = j->err, .events = POLLIN};
    if (j->pidfd >= 0) /* wakes the poll the moment the handler exits */
        pfd[n++] = (struct pollfd){.fd = j->pidfd, .events = POLLIN};
    return n;
}

/* drain - read what is there; keep up to EXEC_OUTPUT_MAX, drop the rest. */
static void drain(int *fd, char *buf, size_t *len, int *trunc)
{
    char tmp[4096];
    for (int n = 0; n < 16; n++) { /* at most 64 KiB a step: a flood cannot hog the thread */
        ssize_t r = read(*fd, tmp, sizeof(tmp));
        if (r > 0) {
            size_t keep = EXEC_OUTPUT_MAX - *len;
            if ((size_t)r < keep)
                keep = (size_t)r;
            memcpy(buf + *len, tmp, keep);
            *len += keep;
            if ((size_t)r > keep)
                *trunc = 1;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            close_fd(fd);
        return;
    }
}

static void log_output(const struct exec_job *j)
{
    if (!j->olen && !j->elen)
        return;
    char o[EXEC_OUTPUT_MAX + 1], e[EXEC_OUTPUT_MAX + 1], ob[EXEC_OUTPUT_MAX + 1],
        eb[EXEC_OUTPUT_MAX + 1];
    memcpy(ob, j->obuf, j->olen);
    ob[j->olen] = '\0';
    memcpy(eb, j->ebuf, j->elen);
    eb[j->elen] = '\0';
    log_msg(LOG_INFO, "exec: handler output", "{s:s,s:I,s:i,s:s,s:s,s:b}", "sink", j->sink->name,
            "seq", (json_int_t)j->seq, "attempt", (int)j->attempt, "stdout",
            log_clean(ob, o, sizeof(o)), "stderr", log_clean(eb, e, sizeof(e)), "truncated",
            j->otrunc || j->etrunc);
}

int exec_job_step(struct exec_job *j, int64_t now_ms)
{
    if (j->finished)
        return 1;
    while (j->in >= 0 && j->written < j->len) {
        ssize_t w = write(j->in, j->line + j->written, j->len - j->written);
        if (w > 0) {
            j->written += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else {
            if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                close_fd(&j->in); /* EPIPE: the handler does not read its stdin */
            break;
        }
    }
    if (j->in >= 0 && j->written == j->len)
        close_fd(&j->in);
    if (j->out >= 0)
        drain(&j->out, j->obuf, &j->olen, &j->otrunc);
    if (j->err >= 0)
        drain(&j->err, j->ebuf, &j->elen, &j->etrunc);
    int st;
    pid_t r = waitpid(j->pid, &st, WNOHANG);
    if (r == j->pid) {
        j->status = st;
        j->pid = 0;
    } else if (now_ms >= j->deadline) {
        kill(-j->pid, SIGKILL);
        waitpid(j->pid, &st, 0);
        j->status = st;
        j->pid = 0;
        j->timed_out = 1;
    } else {
        return 0;
    }
    /* the handler is gone: take what output is already there and stop; a
     * grandchild keeping the pipes open must not hold up delivery */
    if (j->out >= 0)
        drain(&j->out, j->obuf, &j->olen, &j->otrunc);
    if (j->err >= 0)
        drain(&j->err, j->ebuf, &j->elen, &j->etrunc);
    close_fd(&j->in);
    close_fd(&j->out);
    close_fd(&j->err);
    close_fd(&j->pidfd);
    j->finished = 1;
    log_output(j);
    return 1;
}

int64_t exec_job_deadline(const struct exec_job *j)
{
    return j->deadline;
}

int exec_job_result(const struct exec_job *j, char *err, size_t errlen)
{
    if (j->spawn_errno) {
        snprintf(err, errlen, "cannot run %s: %s", j->sink->command[0], strerror(j->spawn_errno));
        return HG_EIO;
    }
    if (j->timed_out) {
        snprintf(err, errlen, "timeout after %llu ms", (unsigned long long)j->sink->timeout_ms);
        return HG_EIO;
    }
    if (WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0)
        return HG_OK;
    if (WIFEXITED(j->status))
        snprintf(err, errlen, "exit %d", WEXITSTATUS(j->status));
    else if (WIFSIGNALED(j->status))
        snprintf(err, errlen, "killed by signal %d", WTERMSIG(j->status));
    else
        snprintf(err, errlen, "ended with status %d", j->status);
    return HG_EIO;
}

void exec_job_terminate(struct exec_job *j)
{
    if (j && j->pid > 0)
        kill(-j->pid, SIGTERM);
}

void exec_job_free(struct exec_job *j)
{
    if (!j)
        return;
    if (j->pid > 0) {
        int st;
        kill(-j->pid, SIGKILL);
        waitpid(j->pid, &st, 0);
    }
    close_fd(&j->in);
    close_fd(&j->out);
    close_fd(&j->err);
    close_fd(&j->pidfd);
    free(j);
}
