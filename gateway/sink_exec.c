/*
 * sink_exec.c - the exec sink (a per-event sink, see sink.h): one handler
 * process per attempt, up to `concurrency` (at most 64) at once.
 *
 * Each attempt is an exec_job (exec.c): the sink's command run with the
 * event's HOOKGATE_* variables and its envelope on stdin; exit 0 means
 * delivered, anything else (including the timeout) a failure retried by
 * deliver.c.  All jobs are polled from the worker thread; a pidfd per job
 * wakes it when a handler exits.  At stop a running handler gets SIGTERM
 * (terminate) and is killed at release if it is still there.
 */
#include "config.h"
#include "err.h"
#include "exec.h"
#include "sink.h"

#include <poll.h>

#define EXEC_SINK_JOBS_MAX 64 /* config's limit on an exec sink's concurrency */

static int exec_open(const struct config *c, const struct cfg_sink *s, void **state)
{
    (void)c;
    *state = (void *)s; /* nothing of its own: jobs are the whole state */
    return s->concurrency <= EXEC_SINK_JOBS_MAX ? HG_OK : HG_EINVAL;
}

static void exec_close(void *state)
{
    (void)state;
}

static int exec_begin(void *state, const struct sink_event *ev, int64_t now, void **job)
{
    const struct cfg_sink *s = state;
    struct exec_event e = {ev->id,  ev->type,    ev->source, ev->route,
                           ev->seq, ev->attempt, ev->line,   ev->len};
    return exec_job_start(s, &e, now, (struct exec_job **)job);
}

static void exec_wait(void *state, void *const *jobs, unsigned n, int timeout_ms)
{
    (void)state;
    struct pollfd pfd[EXEC_POLLFDS * EXEC_SINK_JOBS_MAX];
    int npfd = 0;
    for (unsigned i = 0; i < n && i < EXEC_SINK_JOBS_MAX; i++)
        if (jobs[i])
            npfd += exec_job_pollfds(jobs[i], pfd + npfd);
    poll(pfd, (nfds_t)npfd, timeout_ms);
}

static int exec_step(void *state, void *job, int64_t now)
{
    (void)state;
    return exec_job_step(job, now);
}

static int64_t exec_deadline(void *state, void *job)
{
    (void)state;
    return exec_job_deadline(job);
}

static int exec_result(void *state, void *job, char *err, size_t cap, int64_t *retry_after)
{
    (void)state;
    *retry_after = 0;
    return exec_job_result(job, err, cap);
}

static void exec_terminate(void *state, void *job)
{
    (void)state;
    exec_job_terminate(job);
}

static void exec_release(void *state, void *job)
{
    (void)state;
    exec_job_free(job);
}

const struct sink_ops sink_exec_ops = {.name = "exec",
                                       .open = exec_open,
                                       .close = exec_close,
                                       .begin = exec_begin,
                                       .wait = exec_wait,
                                       .step = exec_step,
                                       .deadline = exec_deadline,
                                       .result = exec_result,
                                       .terminate = exec_terminate,
                                       .release = exec_release};
