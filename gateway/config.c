/*
 * config.c - strict JSON config loader (see config.h): the document and its
 * settings.  Listeners are config_listen.c, routes config_route.c, sinks
 * config_sink.c, the helpers they all share config_parse.c.
 *
 * A load has two passes, and stops at no problem: it collects them all
 * (config_parse.c keeps the first CONFIG_MAX_PROBLEMS lines).  The first
 * pass reads the whole document and touches no file, secret or environment
 * variable: every object is checked against its list of known keys before
 * its values are read, every value against its type and range, each route
 * against the sinks it names.  The second pass, for each listener, sink and
 * route the first found well-formed, reads what lives outside the document:
 * certificates, file: and env: secrets, credentials, PATH, profile_dirs.  So
 * the report lists the document's own problems first, and a missing
 * certificate never hides a typo.  A config loads only without any problem.
 *
 * Messages have the form "<file>: $.json.path: what is wrong" and never
 * contain a secret's value.
 */
#include "config.h"
#include "config_int.h"
#include "codec.h"
#include "err.h"
#include "log.h"
#include "mask.h"
#include "profile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* pass1 - what the first pass found well-formed: only that goes through
 * the second (a route with a typo is not also told its env: secret is
 * unset; it is, once the typo is fixed). */
struct pass1 {
    unsigned char *listener, *sink, *route; /* 1: well-formed, by index */
    int dirs;                               /* $.profile_dirs usable (or absent) */
};

/* get_size_in - a size from lo to hi; outside, the problem is range. */
static int get_size_in(struct ctx *x, const char *path, json_t *v, uint64_t lo, uint64_t hi,
                       const char *range, uint64_t *out)
{
    uint64_t n;
    int rc = cfgp_get_size(x, path, v, &n);
    if (rc)
        return rc;
    if (n < lo || n > hi)
        return cfgp_fail(x, path, "%s", range);
    *out = n;
    return HG_OK;
}

/* parse_rate - "rate_per_ip" and "rate_burst" of $.limits. */
static int parse_rate(struct ctx *x, json_t *o, struct config *c)
{
    int rc = HG_OK;
    json_t *v, *rate = json_object_get(o, "rate_per_ip");
    if (rate &&
        (!json_is_number(rate) || json_number_value(rate) <= 0 || json_number_value(rate) > 1e6))
        rc = cfgp_fail(x, "$.limits.rate_per_ip",
                       "must be a number of requests per second, > 0 and <= 1000000");
    else if (rate)
        c->rate_per_ip = json_number_value(rate);
    if ((v = json_object_get(o, "rate_burst"))) {
        if (!rate)
            rc = cfgp_worse(rc, cfgp_fail(x, "$.limits.rate_burst", "needs $.limits.rate_per_ip"));
        else
            rc = cfgp_worse(rc,
                            cfgp_get_uint(x, "$.limits.rate_burst", v, 1, 1000000, &c->rate_burst));
    }
    if (c->rate_per_ip && !c->rate_burst)
        c->rate_burst = c->rate_per_ip * 2 < 1 ? 1 : (unsigned)(c->rate_per_ip * 2);
    return rc;
}

static int parse_limits(struct ctx *x, json_t *o, struct config *c)
{
    static const char *const known[] = {"max_body",
                                        "max_connections",
                                        "request_timeout",
                                        "max_store_size",
                                        "max_connections_per_ip",
                                        "rate_per_ip",
                                        "rate_burst",
                                        "max_header_size",
                                        "unauthenticated_body_budget",
                                        NULL};
    int rc = cfgp_check_keys(x, "$.limits", o, known, NULL);
    if (!json_is_object(o))
        return rc;
    json_t *v;
    if ((v = json_object_get(o, "max_body")))
        rc = cfgp_worse(rc, get_size_in(x, "$.limits.max_body", v, 1, 1ULL << 30,
                                        "must be between 1 byte and 1GiB", &c->max_body));
    if ((v = json_object_get(o, "max_connections")))
        rc = cfgp_worse(
            rc, cfgp_get_uint(x, "$.limits.max_connections", v, 1, 65536, &c->max_connections));
    if ((v = json_object_get(o, "request_timeout")))
        rc = cfgp_worse(rc,
                        cfgp_get_duration_in(x, "$.limits.request_timeout", v, 1000, 3600000,
                                             "must be between 1s and 1h", &c->request_timeout_ms));
    if ((v = json_object_get(o, "max_connections_per_ip"))) {
        rc = cfgp_worse(rc, cfgp_get_uint(x, "$.limits.max_connections_per_ip", v, 0, 65536,
                                          &c->max_conns_per_ip));
        c->conns_per_ip = c->max_conns_per_ip; /* as written, 0 (off) included */
    }
    if ((v = json_object_get(o, "unauthenticated_body_budget")))
        rc = cfgp_worse(rc, get_size_in(x, "$.limits.unauthenticated_body_budget", v, 0, UINT64_MAX,
                                        "must be a size", &c->body_budget));
    rc = cfgp_worse(rc, parse_rate(x, o, c));
    if ((v = json_object_get(o, "max_header_size")))
        rc = cfgp_worse(rc, get_size_in(x, "$.limits.max_header_size", v, 1024, 1u << 20,
                                        "must be between 1KiB and 1MiB", &c->max_header_size));
    if ((v = json_object_get(o, "max_store_size")))
        rc = cfgp_worse(rc, get_size_in(x, "$.limits.max_store_size", v, 1ULL << 20, UINT64_MAX,
                                        "must be at least 1MiB", &c->max_store_size));
    return rc;
}

static int parse_retry(struct ctx *x, json_t *o, struct config *c)
{
    static const char *const known[] = {"max_attempts", "initial", "max", NULL};
    int rc = cfgp_check_keys(x, "$.retry", o, known, NULL);
    if (!json_is_object(o))
        return rc;
    json_t *v;
    if ((v = json_object_get(o, "max_attempts")))
        rc = cfgp_worse(
            rc, cfgp_get_uint(x, "$.retry.max_attempts", v, 1, 1000, &c->retry_max_attempts));
    int drc = HG_OK;
    if ((v = json_object_get(o, "initial")))
        drc = cfgp_get_duration(x, "$.retry.initial", v, &c->retry_initial_ms);
    if ((v = json_object_get(o, "max")))
        drc = cfgp_worse(drc, cfgp_get_duration(x, "$.retry.max", v, &c->retry_max_ms));
    if (!drc && (c->retry_initial_ms == 0 || c->retry_max_ms < c->retry_initial_ms))
        drc = cfgp_fail(x, "$.retry", "need 0 < initial <= max");
    return cfgp_worse(rc, drc);
}

/* parse_settings - the scalar settings at the top of the document. */
static int parse_settings(struct ctx *x, json_t *root, struct config *c)
{
    int rc = HG_OK;
    json_t *v;
    if ((v = json_object_get(root, "data_dir")))
        rc = cfgp_get_string(x, "$.data_dir", v, &c->data_dir);
    if (!c->data_dir && !(c->data_dir = strdup(CONFIG_DEFAULT_DATA_DIR)))
        return HG_ENOMEM;
    if ((v = json_object_get(root, "dedupe_window")))
        rc = cfgp_worse(rc, cfgp_get_duration(x, "$.dedupe_window", v, &c->dedupe_window_ms));
    if ((v = json_object_get(root, "gc_interval")))
        rc = cfgp_worse(rc, cfgp_get_duration_in(x, "$.gc_interval", v, 1000, UINT64_MAX,
                                                 "must be at least 1s", &c->gc_interval_ms));
    if ((v = json_object_get(root, "user"))) {
        int urc = cfgp_get_string(x, "$.user", v, &c->user);
        if (!urc && strlen(c->user) > 32)
            urc = cfgp_fail(x, "$.user", "must be a user name");
        rc = cfgp_worse(rc, urc);
    }
    if ((v = json_object_get(root, "shutdown_timeout")))
        rc = cfgp_worse(rc,
                        cfgp_get_duration_in(x, "$.shutdown_timeout", v, 1000, 3600000,
                                             "must be between 1s and 1h", &c->shutdown_timeout_ms));
    if ((v = json_object_get(root, "threads")))
        rc = cfgp_worse(rc, cfgp_get_uint(x, "$.threads", v, 1, 64, &c->threads));
    if ((v = json_object_get(root, "log_level")) &&
        (!json_is_string(v) || (c->log_level = log_level_parse(json_string_value(v))) < 0))
        rc = cfgp_worse(
            rc, cfgp_fail(x, "$.log_level", "must be \"debug\", \"info\", \"warn\" or \"error\""));
    if ((v = json_object_get(root, "limits")))
        rc = cfgp_worse(rc, parse_limits(x, v, c));
    if (c->conns_per_ip == UINT_MAX) /* not written: a small share of the slots */
        c->conns_per_ip = c->max_connections / 16 > 8 ? c->max_connections / 16 : 8;
    if ((v = json_object_get(root, "retry")))
        rc = cfgp_worse(rc, parse_retry(x, v, c));
    return rc;
}

static int parse_listeners(struct ctx *x, json_t *root, struct config *c, struct pass1 *ok)
{
    json_t *v = json_object_get(root, "listen");
    if (!v)
        return cfgp_absent(x, "$.listen", "must be an array of 1 to 16 listeners");
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 16)
        return cfgp_fail(x, "$.listen", "must be an array of 1 to 16 listeners");
    c->listeners = calloc(json_array_size(v), sizeof(*c->listeners));
    ok->listener = calloc(json_array_size(v), 1);
    if (!c->listeners || !ok->listener)
        return HG_ENOMEM;
    int rc = HG_OK;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char p[64];
        snprintf(p, sizeof(p), "$.listen[%zu]", i);
        c->nlisteners = i + 1;
        int lrc = config_listen_parse(x, p, e, &c->listeners[i]);
        ok->listener[i] = lrc == HG_OK;
        rc = cfgp_worse(rc, lrc);
    }
    return rc;
}

static int parse_sinks(struct ctx *x, json_t *root, struct config *c, struct pass1 *ok)
{
    static const char *const what = "must be an object of named sinks (1 to 64)";
    json_t *v = json_object_get(root, "sinks");
    if (!v)
        return cfgp_absent(x, "$.sinks", "%s", what);
    if (!json_is_object(v) || json_object_size(v) == 0 || json_object_size(v) > 64)
        return cfgp_fail(x, "$.sinks", "%s", what);
    c->sinks = calloc(json_object_size(v), sizeof(*c->sinks));
    ok->sink = calloc(json_object_size(v), 1);
    if (!c->sinks || !ok->sink)
        return HG_ENOMEM;
    int rc = HG_OK;
    const char *key;
    json_t *e;
    json_object_foreach(v, key, e)
    {
        char p[256];
        cfgp_pathf(p, sizeof(p), "$.sinks.%s", key);
        size_t i = c->nsinks++;
        int src = config_sink_parse(x, p, key, e, &c->sinks[i]);
        ok->sink[i] = src == HG_OK;
        rc = cfgp_worse(rc, src);
        if (rc == HG_ENOMEM)
            return rc;
    }
    return rc;
}

/* route_unique - route i's path and name are not those of an earlier one. */
static int route_unique(struct ctx *x, const char *p, const struct config *c, size_t i)
{
    const struct cfg_route *r = &c->routes[i];
    for (size_t j = 0; r->path && j < i; j++)
        if (c->routes[j].path && strcmp(c->routes[j].path, r->path) == 0)
            return cfgp_fail(x, p, "path %s is already used by $.routes[%zu]", r->path, j);
    for (size_t j = 0; r->name && j < i; j++)
        if (c->routes[j].name && strcmp(c->routes[j].name, r->name) == 0)
            return cfgp_fail(x, p,
                             "route name \"%s\" is already used by $.routes[%zu]; set \"name\"",
                             r->name, j);
    return HG_OK;
}

static int parse_routes(struct ctx *x, json_t *root, struct config *c, struct pass1 *ok)
{
    static const char *const what = "must be a non-empty array of routes";
    json_t *v = json_object_get(root, "routes");
    if (!v)
        return cfgp_absent(x, "$.routes", "%s", what);
    if (!json_is_array(v) || json_array_size(v) == 0)
        return cfgp_fail(x, "$.routes", "%s", what);
    c->routes = calloc(json_array_size(v), sizeof(*c->routes));
    ok->route = calloc(json_array_size(v), 1);
    if (!c->routes || !ok->route)
        return HG_ENOMEM;
    int rc = HG_OK;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char p[64];
        snprintf(p, sizeof(p), "$.routes[%zu]", i);
        c->nroutes = i + 1;
        int rrc = config_route_parse(x, p, e, c, &c->routes[i]);
        if (rrc != HG_ENOMEM)
            rrc = cfgp_worse(rrc, route_unique(x, p, c, i));
        ok->route[i] = rrc == HG_OK;
        rc = cfgp_worse(rc, rrc);
        if (rc == HG_ENOMEM)
            return rc;
    }
    return rc;
}

/* parse_admin - "admin" without its token (second pass: admin_token). */
static int parse_admin(struct ctx *x, json_t *root, struct config *c)
{
    static const char *const known[] = {"token", "rejected_max", "rejected_max_age", NULL};
    json_t *o = json_object_get(root, "admin"), *v;
    if (!o)
        return HG_OK;
    if (!json_is_object(o))
        return cfgp_fail(x, "$.admin", "must be an object");
    int rc = cfgp_check_keys(x, "$.admin", o, known, NULL);
    if ((v = json_object_get(o, "token")))
        rc = cfgp_worse(rc, cfgp_check_secret(x, "$.admin.token", v));
    if ((v = json_object_get(o, "rejected_max")))
        rc = cfgp_worse(rc,
                        cfgp_get_uint(x, "$.admin.rejected_max", v, 0, 10000000, &c->rejected_max));
    if ((v = json_object_get(o, "rejected_max_age")))
        rc = cfgp_worse(
            rc, cfgp_get_duration(x, "$.admin.rejected_max_age", v, &c->rejected_max_age_ms));
    return rc;
}

/* admin_token - the second pass of "admin": its token read, 16 bytes or more. */
static int admin_token(struct ctx *x, json_t *root, struct config *c)
{
    json_t *v = json_object_get(json_object_get(root, "admin"), "token");
    if (!v || !json_is_string(v))
        return HG_OK;
    int rc = cfgp_resolve_secret(x, "$.admin.token", v, &c->admin_token);
    if (!rc && c->admin_token.len < 16)
        rc = cfgp_fail(x, "$.admin.token", "too short: at least 16 bytes");
    if (rc)
        secret_free(&c->admin_token);
    return rc;
}

/* first_pass - the whole document, touching nothing outside it. */
static int first_pass(struct ctx *x, json_t *root, struct config *c, struct pass1 *ok)
{
    static const char *const known[] = {
        "listen",       "data_dir", "limits",           "dedupe_window", "retry",
        "routes",       "sinks",    "log_level",        "threads",       "gc_interval",
        "profile_dirs", "user",     "shutdown_timeout", "admin",         NULL};
    int rc = cfgp_check_keys(x, "$", root, known, NULL);
    if (!json_is_object(root))
        return rc;
    rc = cfgp_worse(rc, parse_listeners(x, root, c, ok));
    rc = cfgp_worse(rc, parse_settings(x, root, c));
    rc = cfgp_worse(rc, parse_admin(x, root, c));
    rc = cfgp_worse(rc, parse_sinks(x, root, c, ok));
    json_t *v = json_object_get(root, "profile_dirs");
    int drc = v ? cfgp_get_strings(x, "$.profile_dirs", v, &c->profile_dirs) : HG_OK;
    ok->dirs = drc == HG_OK;
    rc = cfgp_worse(rc, drc);
    if (rc == HG_ENOMEM)
        return rc;
    return cfgp_worse(rc, parse_routes(x, root, c, ok));
}

/* second_pass - files, secrets, the environment and profile_dirs, for what
 * the first pass found well-formed. */
static int second_pass(struct ctx *x, json_t *root, struct config *c, const struct pass1 *ok)
{
    char p[256];
    int rc = admin_token(x, root, c);
    for (size_t i = 0; i < c->nlisteners; i++) {
        snprintf(p, sizeof(p), "$.listen[%zu]", i);
        if (ok->listener && ok->listener[i])
            rc = cfgp_worse(rc, config_listen_files(x, p, &c->listeners[i]));
    }
    size_t i = 0;
    const char *key;
    json_t *e;
    json_object_foreach(json_object_get(root, "sinks"), key, e)
    {
        cfgp_pathf(p, sizeof(p), "$.sinks.%s", key);
        if (i < c->nsinks && ok->sink && ok->sink[i])
            rc = cfgp_worse(rc, config_sink_files(x, p, e, &c->sinks[i]));
        i++;
    }
    if (!ok->dirs || rc == HG_ENOMEM)
        return rc; /* no profile set: routes cannot be resolved */
    char perr[1024] = "";
    int prc =
        profile_set_load((const char *const *)c->profile_dirs, &c->profiles, perr, sizeof(perr));
    if (prc && prc != HG_ENOMEM)
        cfgp_report_line(x, perr);
    if (prc)
        return cfgp_worse(rc, prc);
    json_array_foreach(json_object_get(root, "routes"), i, e)
    {
        snprintf(p, sizeof(p), "$.routes[%zu]", i);
        if (i < c->nroutes && ok->route && ok->route[i])
            rc = cfgp_worse(rc, config_route_resolve(x, p, e, c, &c->routes[i]));
        if (rc == HG_ENOMEM)
            return rc;
    }
    return rc;
}

static int parse_root(struct ctx *x, json_t *root, struct config *c)
{
    struct pass1 ok = {0};
    int rc = first_pass(x, root, c, &ok);
    if (rc != HG_ENOMEM)
        rc = cfgp_worse(rc, second_pass(x, root, c, &ok));
    free(ok.listener);
    free(ok.sink);
    free(ok.route);
    return rc;
}

static struct config *config_defaults(const char *name)
{
    struct config *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->source = strdup(name);
    c->max_body = 1ULL << 20;
    c->max_connections = 1024;
    c->conns_per_ip = UINT_MAX; /* parse_settings: as written, else a share of max_connections */
    c->body_budget = 64ULL << 20;
    c->max_header_size = 16u << 10;
    c->shutdown_timeout_ms = 10000;
    c->request_timeout_ms = 10000;
    c->max_store_size = 16ULL << 30;
    c->dedupe_window_ms = 7ULL * 86400000;
    c->retry_max_attempts = 12;
    c->retry_initial_ms = 1000;
    c->retry_max_ms = 3600000;
    c->threads = 2;
    c->gc_interval_ms = 60000;
    c->log_level = LOG_INFO;
    c->rejected_max = 10000;
    c->rejected_max_age_ms = 7ULL * 86400000;
    if (!c->source) {
        free(c);
        return NULL;
    }
    return c;
}

/* load_text - parse and check one JSON text; every problem goes to k. */
static int load_text(const char *json, const char *name, struct config **out,
                     struct cfgp_collector *k)
{
    char line[1024];
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        /* jansson's text may quote the source ("near '...'"), which can be
         * a literal secret: keep only what precedes the quote (except for a
         * duplicate key, where the quote is the key's name) */
        char *near = strstr(jerr.text, " near ");
        if (near && strncmp(jerr.text, "duplicate object key", 20) != 0)
            *near = '\0';
        snprintf(line, sizeof(line), "%s: line %d column %d: %s", name, jerr.line, jerr.column,
                 jerr.text);
        cfgp_report_line(&k->x, line);
        return HG_ECONFIG;
    }
    struct config *c = config_defaults(name);
    int rc = c ? parse_root(&k->x, root, c) : HG_ENOMEM;
    json_decref(root);
    if (!rc && k->all.n) /* a problem is a problem, whatever a step returned */
        rc = HG_ECONFIG;
    snprintf(line, sizeof(line), "%s: %s", name,
             rc == HG_ENOMEM ? "out of memory" : "invalid configuration");
    if (rc && (rc == HG_ENOMEM || !k->all.n))
        cfgp_report_line(&k->x, line);
    if (rc) {
        config_free(c);
        return HG_ECONFIG;
    }
    *out = c;
    return HG_OK;
}

/* load_file - read path (at most 16MiB) and load_text it. */
static int load_file(const char *path, struct config **out, struct cfgp_collector *k)
{
    char line[1024];
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(line, sizeof(line), "%s: %s", path, strerror(errno));
        cfgp_report_line(&k->x, line);
        return HG_ECONFIG;
    }
    char *text = NULL;
    size_t n = 0, cap = 0, r;
    char chunk[4096];
    int rc = HG_OK;
    while (!rc && (r = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (n + r + 1 > cap) {
            cap = (n + r + 1) * 2;
            char *np = cap > (16u << 20) ? NULL : realloc(text, cap);
            rc = cap > (16u << 20) ? HG_ECONFIG : !np ? HG_ENOMEM : HG_OK;
            if (rc)
                break;
            text = np;
        }
        memcpy(text + n, chunk, r);
        n += r;
    }
    int rerr = ferror(f) ? (errno ? errno : EIO) : 0; /* EISDIR: fopen takes a directory */
    (void)fclose(f);                                  /* read-only */
    if (rc || rerr || !text) {
        snprintf(line, sizeof(line), "%s: %s", path,
                 rc == HG_ECONFIG ? "larger than 16MiB"
                 : rc             ? "out of memory"
                 : rerr           ? strerror(rerr)
                                  : "empty file");
        cfgp_report_line(&k->x, line);
        free(text);
        return rc == HG_ENOMEM ? HG_ENOMEM : HG_ECONFIG;
    }
    text[n] = '\0';
    rc = load_text(text, path, out, k);
    free(text);
    return rc;
}

/* to_text, to_buf - hand the collected problems over, and release them. */
static int to_text(int rc, struct cfgp_collector *k, char **problems)
{
    *problems = rc ? cfgp_problems_join(&k->all) : NULL;
    cfgp_problems_free(&k->all);
    return rc;
}

static int to_buf(int rc, struct cfgp_collector *k, char *err, size_t errlen)
{
    if (rc)
        cfgp_problems_write(&k->all, err, errlen);
    cfgp_problems_free(&k->all);
    return rc;
}

int config_load_string_all(const char *json, const char *name, struct config **out, char **problems)
{
    struct cfgp_collector k = {.x = {.name = name, .errlen = CFGP_COLLECT}};
    return to_text(load_text(json, name, out, &k), &k, problems);
}

int config_load_string(const char *json, const char *name, struct config **out, char *err,
                       size_t errlen)
{
    struct cfgp_collector k = {.x = {.name = name, .errlen = CFGP_COLLECT}};
    return to_buf(load_text(json, name, out, &k), &k, err, errlen);
}

int config_load_file_all(const char *path, struct config **out, char **problems)
{
    struct cfgp_collector k = {.x = {.name = path, .errlen = CFGP_COLLECT}};
    return to_text(load_file(path, out, &k), &k, problems);
}

int config_load_file(const char *path, struct config **out, char *err, size_t errlen)
{
    struct cfgp_collector k = {.x = {.name = path, .errlen = CFGP_COLLECT}};
    return to_buf(load_file(path, out, &k), &k, err, errlen);
}

/* default_secret_file - reuse or create data_dir/secret (0600, 32 random
 * bytes as hex); the directory is created 0700. */
static int default_secret_file(const char *dir, char *path, size_t cap, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return HG_ECONFIG;
    }
    snprintf(path, cap, "%s/secret", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return HG_OK;
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return HG_ECONFIG;
    }
    unsigned char raw[32];
    char hex[65];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        close(fd);
        unlink(path);
        snprintf(err, errlen, "no randomness for the default secret");
        return HG_ECONFIG;
    }
    hex_encode(raw, sizeof(raw), hex);
    OPENSSL_cleanse(raw, sizeof(raw));
    hex[64] = '\n';
    int ok = write(fd, hex, 65) == 65 && fsync(fd) == 0;
    OPENSSL_cleanse(hex, sizeof(hex));
    close(fd);
    if (!ok) {
        unlink(path);
        snprintf(err, errlen, "cannot write %s", path);
        return HG_ECONFIG;
    }
    return HG_OK;
}

int config_load_default(struct config **out, char **secret_path, char *err, size_t errlen)
{
    static const char *const dir = CONFIG_DEFAULT_DATA_DIR;
    char spath[512], json[1024];
    const char *secret = "env:HOOKGATE_SECRET";
    if (secret_path)
        *secret_path = NULL;
    const char *env = getenv("HOOKGATE_SECRET");
    if (!env || !*env) {
        if (default_secret_file(dir, spath, sizeof(spath), err, errlen))
            return HG_ECONFIG;
        if (secret_path)
            *secret_path = strdup(spath);
        snprintf(json, sizeof(json), "file:%s", spath);
        secret = json;
    }
    char secret_copy[600];
    cfgp_pathf(secret_copy, sizeof(secret_copy), "%s", secret);
    snprintf(json, sizeof(json),
             "{\"listen\":[{\"address\":\"127.0.0.1:8080\"}],\"data_dir\":\"%s\","
             "\"routes\":[{\"path\":\"/webhooks\",\"profile\":\"generic\",\"secrets\":[\"%s\"],"
             "\"sinks\":[\"stdout\"]}],\"sinks\":{\"stdout\":{\"type\":\"stdout\"}}}",
             dir, secret_copy);
    return config_load_string(json, "(embedded default)", out, err, errlen);
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nlisteners; i++) {
        free(c->listeners[i].address);
        free(c->listeners[i].host);
        free(c->listeners[i].cert);
        free(c->listeners[i].key);
        free(c->listeners[i].client_ca);
        free(c->listeners[i].priorities);
        free(c->listeners[i].trusted);
    }
    free(c->listeners);
    secret_free(&c->admin_token);
    for (size_t i = 0; i < c->nroutes; i++)
        config_route_free(&c->routes[i]);
    free(c->routes);
    for (size_t i = 0; i < c->nsinks; i++) {
        free(c->sinks[i].name);
        free(c->sinks[i].path);
        free(c->sinks[i].url);
        free(c->sinks[i].subject);
        free(c->sinks[i].stream);
        free(c->sinks[i].creds);
        for (char **sv = c->sinks[i].servers; sv && *sv; sv++)
            free(*sv);
        free(c->sinks[i].servers);
        free(c->sinks[i].tls_ca);
        free(c->sinks[i].tls_cert);
        free(c->sinks[i].tls_key);
        if (c->sinks[i].sign.data)
            OPENSSL_cleanse(c->sinks[i].sign.data, c->sinks[i].sign.len);
        free(c->sinks[i].sign.data);
        for (char **hd = c->sinks[i].headers; hd && *hd; hd++)
            free(*hd);
        free(c->sinks[i].headers);
        char **lists[3] = {c->sinks[i].types, c->sinks[i].command, c->sinks[i].env};
        for (int l = 0; l < 3; l++) {
            for (char **t = lists[l]; t && *t; t++)
                free(*t);
            free(lists[l]);
        }
    }
    free(c->sinks);
    free(c->data_dir);
    free(c->user);
    free(c->source);
    for (char **d = c->profile_dirs; d && *d; d++)
        free(*d);
    free(c->profile_dirs);
    profile_set_free(c->profiles);
    free(c);
}

void config_print(const struct config *c, FILE *f)
{
    fprintf(f, "config: %s\ndata_dir: %s\n", c->source, c->data_dir);
    fprintf(f,
            "limits: max_body=%llu max_connections=%u request_timeout=%llums "
            "max_store_size=%llu dedupe_window=%llums max_connections_per_ip=%u "
            "unauthenticated_body_budget=%llu\n",
            (unsigned long long)c->max_body, c->max_connections,
            (unsigned long long)c->request_timeout_ms, (unsigned long long)c->max_store_size,
            (unsigned long long)c->dedupe_window_ms, c->conns_per_ip,
            (unsigned long long)c->body_budget);
    for (size_t i = 0; i < c->nlisteners; i++) {
        fprintf(f, "listen: %s %s%s%s\n", c->listeners[i].address,
                c->listeners[i].tls ? "https" : "http",
                c->listeners[i].client_ca ? " client-cert-required" : "",
                c->listeners[i].admin ? " admin" : "");
        if (c->listeners[i].tls)
            fprintf(f, "tls: %s priorities=%s\n", c->listeners[i].address,
                    c->listeners[i].priorities);
        if (c->listeners[i].ntrusted)
            fprintf(f, "trusted_proxies: %s", c->listeners[i].address);
        for (size_t k = 0; k < c->listeners[i].ntrusted; k++) {
            const struct fwd_cidr *t = &c->listeners[i].trusted[k];
            char a[INET6_ADDRSTRLEN];
            fprintf(f, " %s/%u", inet_ntop(t->family, t->addr, a, sizeof(a)) ? a : "?", t->bits);
        }
        if (c->listeners[i].ntrusted)
            fputc('\n', f);
    }
    for (size_t i = 0; i < c->nroutes; i++) {
        const struct cfg_route *r = &c->routes[i];
        fprintf(
            f,
            "route: POST %s name=%s profile=%s secrets=%zu tolerance=%lds allow=%zu%s%s%s%s sinks=",
            r->path, r->name, r->profile->name, r->nsecrets, r->tolerance_s, r->nallow,
            r->has_token ? " token=yes" : "", r->allow_unsigned ? " unsigned=yes" : "",
            r->type ? " type=" : "", r->type ? r->type : "");
        for (size_t k = 0; k < r->nsinks; k++)
            fprintf(f, "%s%s", k ? "," : "", c->sinks[r->sinks[k]].name);
        fputc('\n', f);
    }
    for (size_t i = 0; i < c->nsinks; i++) {
        const struct cfg_sink *k = &c->sinks[i];
        if (k->type == SINK_EXEC) {
            fprintf(f, "sink: %s type=exec command=", k->name);
            for (char **a = k->command; *a; a++)
                fprintf(f, "%s%s", a == k->command ? "" : " ", *a);
            fprintf(f, " concurrency=%u timeout=%llums types=", k->concurrency,
                    (unsigned long long)k->timeout_ms);
        } else if (k->type == SINK_PIPE) {
            fprintf(f, "sink: %s type=pipe command=", k->name);
            for (char **a = k->command; *a; a++)
                fprintf(f, "%s%s", a == k->command ? "" : " ", *a);
            fprintf(f, " types=");
        } else if (k->type == SINK_HTTP) {
            /* userinfo, query values and token-long path segments may be
             * secrets: never printed (mask.h) */
            char shown[2100];
            mask_url(k->url, shown, sizeof(shown));
            fprintf(
                f, "sink: %s type=http url=%s format=%s concurrency=%u timeout=%llums%s%s%s types=",
                k->name, shown, k->binary ? "binary" : "structured", k->concurrency,
                (unsigned long long)k->timeout_ms, k->path ? " unix_socket=" : "",
                k->path ? k->path : "", k->sign.len ? " signed=yes" : "");
        } else if (k->type == SINK_JETSTREAM) {
            fprintf(f, "sink: %s type=jetstream servers=", k->name);
            for (char **sv = k->servers; *sv; sv++) { /* nats://user:pass@ or token@ */
                char shown[2100];
                fprintf(f, "%s%s", sv == k->servers ? "" : ",",
                        mask_url(*sv, shown, sizeof(shown)));
            }
            fprintf(f, " subject=%s stream=%s create=%s replicas=%u window=%u types=", k->subject,
                    k->stream, k->stream_create ? "yes" : "no", k->replicas, k->concurrency);
        } else if (k->type == SINK_UNIX) {
            fprintf(f, "sink: %s type=unix path=%s ack=%s types=", k->name, k->path,
                    k->ack ? "true" : "false");
        } else {
            fprintf(f, "sink: %s type=stdout types=", k->name);
        }
        if (!c->sinks[i].types)
            fputs("*", f);
        for (char **t = c->sinks[i].types; t && *t; t++)
            fprintf(f, "%s%s", t == c->sinks[i].types ? "" : ",", *t);
        fputc('\n', f);
    }
}
