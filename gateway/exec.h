/*
 * exec.h - running handler processes: one per event for the exec sink
 * (sink_exec.c), the long-lived worker of the pipe sink (sink_pipe.c).
 *
 * A job is started with posix_spawn, argv exactly as configured (no shell,
 * so payload bytes can never become shell syntax), in its own process group,
 * with a minimal environment: PATH, the HOOKGATE_* variables of the event
 * and the names the sink passes through.  The envelope is written to its
 * stdin; its stdout and stderr are read (the first EXEC_OUTPUT_MAX bytes of
 * each are kept for the log, the rest drained and dropped).  All of it is
 * non-blocking: sink_exec.c polls many jobs from one thread.
 *
 * Deadlines are in the caller's clock (deliver.c uses CLOCK_MONOTONIC).
 *
 * Outcome: exit status 0 = delivered; any other exit, a signal, a spawn
 * failure or the timeout (the whole process group is SIGKILLed) = failed.
 */
#ifndef HG_EXEC_H
#define HG_EXEC_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cfg_sink;
struct exec_job;

#define EXEC_OUTPUT_MAX 4096
#define EXEC_POLLFDS    4

/* exec_event - what a job needs to know about its event (C strings). */
struct exec_event {
    const char *id, *type, *source, *route;
    uint64_t seq;
    unsigned attempt; /* 1 for the first try */
    const char *line; /* the NDJSON envelope, newline included */
    size_t len;
};

/* exec_spawn - start s->command (argv, no shell; a name without '/' is
 * looked up in hookgate's PATH) in its own process group, with signals
 * unblocked and default, and an environment of PATH, the HOOKGATE_*
 * variables of e (none when e is NULL) and s->env.  fds get our ends of its
 * stdin (write), stdout and stderr (read): non-blocking, close-on-exec.
 * Returns 0, or an errno with *pid 0 and every fd -1.  Shared by the exec
 * and pipe sinks. */
int exec_spawn(const struct cfg_sink *s, const struct exec_event *e, pid_t *pid, int fds[3]);

/* exec_job_start - spawn the sink's command for e.  The job copies nothing
 * from e but the envelope pointer: e->line must stay valid until the job
 * is freed.  Always returns a job (HG_OK) unless out of memory; a spawn
 * failure is a job that is already finished, failed. */
int exec_job_start(const struct cfg_sink *s, const struct exec_event *e, int64_t now_ms,
                   struct exec_job **out);

/* exec_job_pollfds - the descriptors to poll for this job into pfd (at most
 * EXEC_POLLFDS); returns how many.  One of them (a pidfd) becomes readable
 * when the handler exits, so nobody waits on a timer for that. */
int exec_job_pollfds(const struct exec_job *j, struct pollfd *pfd);

/* exec_job_step - move the job on (write stdin, read output, reap, enforce
 * the deadline).  Returns 1 once the job has finished, else 0. */
int exec_job_step(struct exec_job *j, int64_t now_ms);

/* exec_job_deadline - when the job times out (ms). */
int64_t exec_job_deadline(const struct exec_job *j);

/* exec_job_result - after exec_job_step returned 1: HG_OK (exit 0) or
 * HG_EIO with a short reason in err ("exit 3", "killed by signal 9",
 * "timeout after 30000 ms", "cannot run: No such file or directory"). */
int exec_job_result(const struct exec_job *j, char *err, size_t errlen);

/* exec_job_terminate - send SIGTERM to the job's process group (a graceful
 * stop); exec_job_step then sees it end. */
void exec_job_terminate(struct exec_job *j);

/* exec_job_free - kill the process group if still running, reap, close,
 * free.  NULL-safe. */
void exec_job_free(struct exec_job *j);

#endif
