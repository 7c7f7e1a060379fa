/*
 * sink.h - the transport interface every sink type implements.
 *
 * A sink knows only its transport and the bytes it is given: deliver.c
 * renders envelopes, filters by route and type, and keeps the cursor.  One
 * table entry per type (like curl's vtls backends); deliver.c picks the
 * entry by cfg_sink.type.
 */
#ifndef HG_SINK_H
#define HG_SINK_H

#include <stddef.h>

struct cfg_sink;

struct sink_ops {
    const char *type;
    /* open - prepare the transport; *state is passed to the others. */
    int (*open)(const struct cfg_sink *cfg, void **state);
    /* send - deliver buf (one or more complete NDJSON lines).  *sent gets
     * the bytes handed over even on error; HG_OK only when that is all of
     * them.  deliver.c retries from the first byte not sent, so a consumer
     * never sees a torn or repeated line because of a short write.
     * HG_ENOACK (acknowledging sinks): the consumer was reached but failed
     * on these events; HG_EIO: it could not be reached at all. */
    int (*send)(void *state, const char *buf, size_t len, size_t *sent);
    /* close - release the transport.  NULL-safe on state. */
    void (*close)(void *state);
};

extern const struct sink_ops sink_stdout_ops;
extern const struct sink_ops sink_unix_ops;
extern const struct sink_ops sink_pipe_ops;

#endif
