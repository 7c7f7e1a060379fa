/*
 * config_int.h - what the parts of the config loader share, and what the
 * profile loader (profile.c) borrows from it.  Prototypes are grouped by the
 * file that defines them: config_parse.c (the problem list, unknown keys and
 * their nearest known key, the typed getters, secrets), config_listen.c
 * (one listener), config_route.c (one route), config_sink.c (one sink).
 * Used by config*.c and profile.c only.
 *
 * Calls run one way: config.c calls config_listen.c, config_route.c,
 * config_sink.c and profile.c; config_route.c calls profile.c; each of them
 * calls config_parse.c, which calls none of them; nothing calls into
 * config.c.
 *
 * A load has two passes (config.c).  The first reads the whole document and
 * touches no file, secret or environment variable: unknown keys, types,
 * missing keys, values and the references between routes and sinks
 * (config_listen_parse, config_route_parse, config_sink_parse).  The second
 * does what needs the file system or the environment, for each listener,
 * sink and route the first found well-formed (config_listen_files,
 * config_sink_files, config_route_resolve): a typo is never hidden behind a
 * missing certificate.
 *
 * Every problem is reported as "<file>: <json path>: <what is wrong>" and
 * the helper returns HG_ECONFIG; HG_ENOMEM means an allocation failed and
 * is never reported.  With a collector (struct cfgp_collector) the loader
 * carries on and reports every problem; with an err buffer (profile files)
 * the first problem is written there and parsing stops at it.
 */
#ifndef HG_CONFIG_INT_H
#define HG_CONFIG_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

/* ---- config_parse.c ---------------------------------------------------- */

/* ctx - where a problem goes.  With err set, the problem is written there
 * and parsing stops at it (profile files: profile.c initialises a ctx as
 * {name, err, errlen}, so these three members stay as they are).  With err
 * NULL, the ctx is the first member of a cfgp_collector, which keeps every
 * problem and lets parsing carry on (the config loader). */
struct ctx {
    const char *name; /* the file, for messages */
    char *err;        /* NULL with errlen CFGP_COLLECT: this ctx is cfgp_collector.x */
    size_t errlen;
};

/* CFGP_COLLECT - errlen of a collector's ctx: a ctx that merely lacks an err
 * buffer is never mistaken for one (its problems are dropped instead). */
#define CFGP_COLLECT ((size_t)-1)

/* cfgp_problems - every problem of one load, in the order reported: the
 * first CONFIG_MAX_PROBLEMS lines are kept, the rest only counted. */
struct cfgp_problems {
    char *line[CONFIG_MAX_PROBLEMS]; /* "<file>: <json path>: <what>" */
    size_t n;                        /* problems reported (kept or not) */
    char **suggested;                /* JSON paths an unknown key was taken for */
    size_t nsuggested;
};

/* cfgp_collector - a ctx that collects: struct cfgp_collector k =
 * {.x = {.name = file, .errlen = CFGP_COLLECT}}; parse with &k.x;
 * cfgp_problems_free(&k.all). */
struct cfgp_collector {
    struct ctx x; /* first: the helpers find the list from &x */
    struct cfgp_problems all;
};

/* cfgp_report - report a problem at JSON path (printf-style message).
 * cfgp_fail(x, path, fmt, ...) reports and evaluates to HG_ECONFIG: a macro
 * so that the constant is visible at each `return cfgp_fail(...)`; the
 * static analyzer does not follow variadic calls, and without it would
 * assume a failed check may return HG_OK and carry on. */
void cfgp_report(struct ctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define cfgp_fail(...) (cfgp_report(__VA_ARGS__), HG_ECONFIG)

/* cfgp_report_absent - report that the required key at path is missing,
 * unless an unknown key beside it was already reported as a misspelling of
 * it ("tpye": did you mean "type"?): one mistake, one line.
 * cfgp_absent(...) evaluates to HG_ECONFIG either way. */
void cfgp_report_absent(struct ctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define cfgp_absent(...) (cfgp_report_absent(__VA_ARGS__), HG_ECONFIG)

/* cfgp_report_line - report a problem already formatted as a whole line
 * (one from the profile loader, which names its own file). */
void cfgp_report_line(struct ctx *x, const char *line);

/* cfgp_problems_join - the kept lines joined by '\n', then "... N more
 * problems" when some were only counted; malloc'd, NULL when out of memory
 * or when there is no problem. */
char *cfgp_problems_join(const struct cfgp_problems *a);

/* cfgp_problems_write - the same into buf (cap > 0): as many whole lines as
 * fit and a last line "... N more problems" for those that do not (the
 * first line is cut if even it does not fit). */
void cfgp_problems_write(const struct cfgp_problems *a, char *buf, size_t cap);

/* cfgp_problems_free - release the lines and suggestions; a is reusable. */
void cfgp_problems_free(struct cfgp_problems *a);

/* cfgp_worse - the result of two steps: HG_ENOMEM over any other failure,
 * a failure over HG_OK. */
static inline int cfgp_worse(int a, int b)
{
    if (a == HG_ENOMEM || b == HG_ENOMEM)
        return HG_ENOMEM;
    return a ? a : b;
}

/* cfgp_pathf - snprintf for JSON paths in messages (a long path is cut,
 * which only shortens a message). */
void cfgp_pathf(char *p, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* cfgp_in_list - 1 if key is in the NULL-terminated list (NULL: empty). */
int cfgp_in_list(const char *key, const char *const *list);

/* cfgp_suggest - the entry of list nearest to word (optimal string
 * alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbours), if at most max(1, strlen(word) / 3) edits away; else NULL.
 * Ties go to the earlier entry. */
const char *cfgp_suggest(const char *word, const char *const *list);

/* cfgp_check_keys - obj must be an object whose every key is in known;
 * keys in later are part of the contract but not of this build, and are
 * refused as such.  Reports every unknown key, each with the nearest known
 * one when there is a near one. */
int cfgp_check_keys(struct ctx *x, const char *path, json_t *obj, const char *const *known,
                    const char *const *later);

/* The getters: on success *out is set (strings malloc'd, owned by the
 * caller's struct); on a problem *out is left as it was. */
int cfgp_get_string(struct ctx *x, const char *path, json_t *v, char **out);
int cfgp_get_bool(struct ctx *x, const char *path, json_t *v, int *out);
int cfgp_get_size(struct ctx *x, const char *path, json_t *v, uint64_t *out);
int cfgp_get_duration(struct ctx *x, const char *path, json_t *v, uint64_t *out);
int cfgp_get_uint(struct ctx *x, const char *path, json_t *v, unsigned lo, unsigned hi,
                  unsigned *out);

/* cfgp_get_duration_in - a duration from lo_ms to hi_ms; outside, the
 * problem is range (e.g. "must be between 1s and 1h"). */
int cfgp_get_duration_in(struct ctx *x, const char *path, json_t *v, uint64_t lo_ms, uint64_t hi_ms,
                         const char *range, uint64_t *out);

/* cfgp_get_strings - a non-empty array of at most 256 non-empty strings
 * into a NULL-terminated array (*out, owned by the caller's struct even on
 * a problem: it holds the good entries). Every bad entry is reported. */
int cfgp_get_strings(struct ctx *x, const char *path, json_t *v, char ***out);

/* cfgp_nats_servers - a list of nats://HOST:PORT or tls://HOST:PORT. */
int cfgp_nats_servers(struct ctx *x, const char *path, json_t *v, char ***out);

/* cfgp_check_secret - v has the form of a secret (a non-empty string:
 * env:NAME, file:PATH or a literal); nothing is read (first pass). */
int cfgp_check_secret(struct ctx *x, const char *path, json_t *v);

/* cfgp_resolve_secret - env:NAME, file:PATH (mode without o+r, one
 * trailing newline removed) or a literal (logged as a warning) into s.
 * s->data is malloc'd and belongs to s even on a problem. */
int cfgp_resolve_secret(struct ctx *x, const char *path, json_t *v, struct secret *s);

/* ---- config_listen.c --------------------------------------------------- */

/* config_listen_parse - first pass over $.listen[i] (o, at path) into l:
 * keys, address (a numeric host and a port: l->host, l->port), admin, tls
 * (file names, and the priority string checked by GnuTLS) and
 * trusted_proxies (every entry checked, the good ones kept).  Reads no
 * file.  Every problem is reported; HG_OK, HG_ECONFIG or HG_ENOMEM. */
int config_listen_parse(struct ctx *x, const char *path, json_t *o, struct cfg_listener *l);

/* config_listen_files - second pass over a listener the first found
 * well-formed: its TLS files (cert, key, client_ca) readable. */
int config_listen_files(struct ctx *x, const char *path, const struct cfg_listener *l);

/* ---- config_route.c ---------------------------------------------------- */

/* config_route_parse - first pass over $.routes[i] (o) into r: keys, path,
 * name, tolerance, allow, the form of secrets and token, allow_unsigned,
 * type, sinks (by name in c->sinks; not checked when c->sinks is NULL),
 * shared_dedupe.  Reads no file and no environment variable. */
int config_route_parse(struct ctx *x, const char *path, json_t *o, struct config *c,
                       struct cfg_route *r);

/* config_route_resolve - second pass over a route the first found
 * well-formed: its profile in c->profiles and the rules that depend on it,
 * secrets and token read (env:, file:), the verifier built. */
int config_route_resolve(struct ctx *x, const char *path, json_t *o, struct config *c,
                         struct cfg_route *r);

/* config_route_free - what the two passes allocated in r. */
void config_route_free(struct cfg_route *r);

/* ---- config_sink.c ----------------------------------------------------- */

/* config_sink_parse - first pass over $.sinks.NAME (o) into s.  s->name is
 * set first, whatever else is wrong, so that routes can refer to it. */
int config_sink_parse(struct ctx *x, const char *path, const char *name, json_t *o,
                      struct cfg_sink *s);

/* config_sink_files - second pass over a sink the first found well-formed:
 * TLS and credentials files readable, the signing secret read, PATH set
 * for an exec command without a '/'. */
int config_sink_files(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s);

#endif
