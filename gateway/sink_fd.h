/*
 * sink_fd.h - what the unix and pipe sinks share: writing whole NDJSON
 * lines to a consumer's descriptor and, when it acknowledges, reading back
 * the id of each event it handled.
 *
 * The ack protocol: the consumer writes each handled event's id on a line of
 * its own, in any order.  A batch is delivered once every id in it came
 * back; anything else (a write that fails or stalls, an ack that does not
 * come in time, EOF, a line longer than any id) fails the whole batch, and
 * the caller drops the connection: a new one is a new reader, which must get
 * whole lines from the start of the batch.
 */
#ifndef HG_SINK_FD_H
#define HG_SINK_FD_H

#include <stddef.h>
#include <stdint.h>

#define SINK_FD_ID_MAX 1024

/* sink_fd - one consumer connection; fd -1 when there is none. */
struct sink_fd {
    int fd;                        /* lines go here (non-blocking) */
    int rfd;                       /* acks come from here: fd again, or another */
    char rbuf[SINK_FD_ID_MAX + 2]; /* a partial ack line */
    size_t rlen;
    /* poke - called (when set) while an exchange waits for acks and once
     * before and after it: the pipe sink passes its child's stderr on */
    void (*poke)(void *arg);
    void *arg;
};

/* sink_fd_exchange - write buf[0..len) (whole NDJSON lines, each starting
 * with event.c's {"specversion":"1.0","id":...) to f->fd; with ack, then
 * wait up to ack_timeout_ms for every line's id on f->rfd.  A consumer that
 * takes no bytes for 10 s (or ack_timeout_ms, if longer, when acking) is
 * given up on.  HG_OK, HG_EIO (any failure above), HG_EINVAL (a line
 * without a readable id), HG_ENOMEM. */
int sink_fd_exchange(struct sink_fd *f, const char *buf, size_t len, int ack,
                     uint64_t ack_timeout_ms);

/* sink_fd_close - close the connection's descriptors (rfd first, if its
 * own); f->fd and f->rfd are -1 after, and the ack buffer empty. */
void sink_fd_close(struct sink_fd *f);

#endif
