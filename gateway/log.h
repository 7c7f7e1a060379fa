/*
 * log.h - JSON-lines logging to stderr.
 *
 * stdout may be an event sink, so nothing here ever writes to it.  Each line
 * is one JSON object {"ts":…,"level":…,"msg":…, fields…} written with a
 * single write(2) so lines from several threads never interleave.
 * Invariant: callers never pass a secret or a whole payload as a field.
 *
 * Lines a client can cause at will (a rejected request) go through
 * log_limit first: at most a few a second per (route, reason), the rest
 * counted and summed up in one line a second, so a flood of bad requests
 * cannot fill the disk (metrics still count every request).
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

#define LOG_LIMIT_RATE  10 /* default: lines a second per log_limit key */
#define LOG_LIMIT_BURST 20 /* default: lines a key may write at once */
#define LOG_LIMIT_SLOTS 64 /* keys tracked at once; more share one slot */

/* log_limit - 1 if a line of a kind that clients can repeat at will (a
 * rejected request) may be written now, 0 if it must be dropped.  Lines are
 * counted per key (route, reason; either may be "" but not NULL): a token
 * bucket of LOG_LIMIT_RATE lines a second and LOG_LIMIT_BURST at once per
 * key.  A dropped line counts as suppressed under its key, and each key's
 * count is written, at most once a second, as one line
 * {"msg":"log lines suppressed","route":R,"reason":X,"suppressed":N} by
 * log_flush_suppressed or just before the key's next written line.  Keys
 * live in a fixed table of LOG_LIMIT_SLOTS; a key that finds none free
 * (idle keys are reused after a minute) shares one more slot with every
 * other such key, shown as route and reason "*": output and memory stay
 * bounded whatever the keys.  Only the first 95 bytes of route and of reason
 * tell keys apart.  Thread-safe (one mutex). */
int log_limit(const char *route, const char *reason);

/* log_flush_suppressed - write the "log lines suppressed" line of every key
 * that has dropped lines since its last one.  The gateway calls it once a
 * second and before it stops. */
void log_flush_suppressed(void);

/* log_limit_set - per_sec lines a second and burst at once per key from
 * now on (0 per_sec: no limit); empties the table, dropping pending counts.
 * For tests; the defaults are LOG_LIMIT_RATE and LOG_LIMIT_BURST. */
void log_limit_set(unsigned per_sec, unsigned burst);

/* log_clean - copy untrusted text (a URL path, a header) into out for a log
 * field: at most cap-1 bytes, every byte outside printable ASCII replaced
 * by '?', so a client can neither break a line nor make the field
 * unloggable.  Returns out. */
char *log_clean(const char *in, char *out, size_t cap);

#endif
