/*
 * log.h - JSON-lines logging to stderr.
 *
 * stdout may be an event sink, so nothing here ever writes to it.  Each line
 * is one JSON object {"ts":…,"level":…,"msg":…, fields…} written with a
 * single write(2) so lines from several threads never interleave.
 * Invariant: callers never pass a secret or a whole payload as a field.
 */
#ifndef HG_LOG_H
#define HG_LOG_H

#include <jansson.h> /* json_int_t for "I" fields */
#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* log_set_level - drop lines below level.  Default LOG_INFO. */
void log_set_level(int level);

/* log_level_parse - "debug"|"info"|"warn"|"error" -> level; -1 if unknown. */
int log_level_parse(const char *name);

/* log_enabled - 1 if a line at level would be written (skip building fields). */
int log_enabled(int level);

/* log_msg - write one line.  fields is a jansson json_pack() format for an
 * object ("{s:s,s:i}") followed by its arguments, or NULL for no fields.
 * A bad format still logs msg, with a "log_error" field. */
void log_msg(int level, const char *msg, const char *fields, ...);

/* log_clean - copy untrusted text (a URL path, a header) into out for a log
 * field: at most cap-1 bytes, every byte outside printable ASCII replaced
 * by '?', so a client can neither break a line nor make the field
 * unloggable.  Returns out. */
char *log_clean(const char *in, char *out, size_t cap);

#endif
