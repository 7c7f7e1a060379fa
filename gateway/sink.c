/*
 * sink.c - the table of sink types (see sink.h).
 *
 * One line per type: the config's enum value and the struct sink_ops its
 * sink_<type>.c exports.  The same line declares that struct, so adding a
 * type is its file and its line here, nothing else in gateway/ but config.
 */
#include "sink.h"

#define SINK_TABLE(X)                                                                              \
    X(SINK_STDOUT, sink_stdout_ops)                                                                \
    X(SINK_EXEC, sink_exec_ops)                                                                    \
    X(SINK_UNIX, sink_unix_ops)                                                                    \
    X(SINK_PIPE, sink_pipe_ops)                                                                    \
    X(SINK_HTTP, sink_http_ops)                                                                    \
    X(SINK_JETSTREAM, sink_jetstream_ops)

#define SINK_DECLARE(type, ops) extern const struct sink_ops ops;
#define SINK_ENTRY(type, ops)   [type] = &(ops),

SINK_TABLE(SINK_DECLARE)

static const struct sink_ops *const sink_table[] = {SINK_TABLE(SINK_ENTRY)};

const struct sink_ops *sink_find(enum sink_type t)
{
    if ((size_t)t >= sizeof(sink_table) / sizeof(sink_table[0]))
        return NULL;
    return sink_table[t];
}
