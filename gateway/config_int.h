/*
 * config_int.h - the parsing helpers shared by config.c (the document, the
 * listeners), config_route.c, config_sink.c and profile.c.  Each helper writes
 * "<file>: <json path>: <what is wrong>" into the context and returns
 * HG_ECONFIG, or HG_OK.  Used by config.c, config_route.c, config_sink.c
 * and profile.c only.
 */
#ifndef HG_CONFIG_INT_H
#define HG_CONFIG_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

struct ctx {
    const char *name; /* the file, for messages */
    char *err;
    size_t errlen;
};

/* cfgp_fail(x, path, fmt, ...) - write the message, evaluate to HG_ECONFIG.
 * A macro so that the constant is visible at each `return cfgp_fail(...)`:
 * the static analyzer does not follow variadic calls, and without it would
 * assume a failed check may return HG_OK and carry on. */
void cfgp_report(struct ctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define cfgp_fail(...) (cfgp_report(__VA_ARGS__), HG_ECONFIG)
void cfgp_pathf(char *p, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cfgp_in_list(const char *key, const char *const *list);
int cfgp_check_keys(struct ctx *x, const char *path, json_t *obj, const char *const *known,
                    const char *const *later);
int cfgp_get_string(struct ctx *x, const char *path, json_t *v, char **out);
int cfgp_get_strings(struct ctx *x, const char *path, json_t *v, char ***out);
int cfgp_get_duration(struct ctx *x, const char *path, json_t *v, uint64_t *out);
int cfgp_get_uint(struct ctx *x, const char *path, json_t *v, unsigned lo, unsigned hi,
                  unsigned *out);

int cfgp_resolve_secret(struct ctx *x, const char *path, json_t *v, struct secret *s);

/* config_parse_route - $.routes[i] into r (config_route.c); c->sinks and
 * c->profiles are already loaded. */
int config_parse_route(struct ctx *x, const char *path, json_t *o, struct config *c,
                       struct cfg_route *r);

/* config_route_free - what config_parse_route allocated in r. */
void config_route_free(struct cfg_route *r);

/* cfgp_nats_servers - a list of nats://HOST:PORT or tls://HOST:PORT (config_sink.c). */
int cfgp_nats_servers(struct ctx *x, const char *path, json_t *v, char ***out);

/* config_parse_sink - $.sinks.NAME into s (config_sink.c). */
int config_parse_sink(struct ctx *x, const char *path, const char *name, json_t *o,
                      struct cfg_sink *s);

#endif
