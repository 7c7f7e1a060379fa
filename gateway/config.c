/*
 * config.c - strict JSON config loader (see config.h).
 *
 * Every object is checked against its list of known keys before any value
 * is read, so an unknown key is always reported, whatever else is wrong.
 * Messages have the form "<file>: $.json.path: what is wrong" and never
 * contain a secret's value.
 */
#include "config.h"
#include "config_int.h"
#include "codec.h"
#include "err.h"
#include "log.h"
#include "profile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_SECRET_MAX 4096

void cfgp_report(struct ctx *x, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(x->err, x->errlen, "%s: %s: %s", x->name, path, msg);
}

/* cfgp_pathf - snprintf for JSON paths in messages (a long path is cut, which
 * only shortens a message). */
void cfgp_pathf(char *p, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, cap, fmt, ap);
    va_end(ap);
}

int cfgp_in_list(const char *key, const char *const *list)
{
    for (; list && *list; list++)
        if (strcmp(key, *list) == 0)
            return 1;
    return 0;
}

/* check_keys - every key of obj must be in known; keys in later are part of
 * the contract but not of this build, and are refused as such. */
int cfgp_check_keys(struct ctx *x, const char *path, json_t *obj, const char *const *known,
                    const char *const *later)
{
    if (!json_is_object(obj))
        return cfgp_fail(x, path, "must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        char p[512];
        cfgp_pathf(p, sizeof(p), "%s.%s", path, key);
        if (cfgp_in_list(key, later))
            return cfgp_fail(x, p, "not supported by this build yet");
        if (!cfgp_in_list(key, known))
            return cfgp_fail(x, p, "unknown key");
    }
    return HG_OK;
}

int cfgp_get_string(struct ctx *x, const char *path, json_t *v, char **out)
{
    if (!json_is_string(v) || json_string_length(v) == 0)
        return cfgp_fail(x, path, "must be a non-empty string");
    if (strlen(json_string_value(v)) != json_string_length(v))
        return cfgp_fail(x, path, "must not contain NUL");
    *out = strdup(json_string_value(v));
    return *out ? HG_OK : HG_ENOMEM;
}

static int get_size(struct ctx *x, const char *path, json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return HG_OK;
    }
    if (json_is_string(v) && parse_size(json_string_value(v), out) == HG_OK)
        return HG_OK;
    return cfgp_fail(x, path, "must be a size like \"1MiB\", \"512KiB\" or a number of bytes");
}

int cfgp_get_duration(struct ctx *x, const char *path, json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        json_integer_value(v) < (json_int_t)(UINT64_MAX / 1000)) {
        *out = (uint64_t)json_integer_value(v) * 1000;
        return HG_OK;
    }
    if (json_is_string(v) && parse_duration_ms(json_string_value(v), out) == HG_OK)
        return HG_OK;
    return cfgp_fail(x, path,
                     "must be a duration like \"250ms\", \"30s\", \"5m\", \"7d\" or seconds");
}

int cfgp_get_uint(struct ctx *x, const char *path, json_t *v, unsigned lo, unsigned hi,
                  unsigned *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return cfgp_fail(x, path, "must be an integer from %u to %u", lo, hi);
    *out = (unsigned)json_integer_value(v);
    return HG_OK;
}

/* read_secret_file - whole file, one trailing newline (LF or CRLF) removed. */
static int read_secret_file(struct ctx *x, const char *path, const char *file, struct secret *s)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cfgp_fail(x, path, "cannot read secret file %s: %s", file, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && (sb.st_mode & S_IROTH)) {
        close(fd);
        return cfgp_fail(x, path, "secret file %s is readable by other users; chmod o-r it", file);
    }
    s->data = malloc(CFG_SECRET_MAX + 1);
    if (!s->data) {
        close(fd);
        return HG_ENOMEM;
    }
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd, s->data + n, CFG_SECRET_MAX + 1 - n)) > 0 && n <= CFG_SECRET_MAX)
        n += (size_t)r;
    close(fd);
    if (r < 0)
        return cfgp_fail(x, path, "cannot read secret file %s: %s", file, strerror(errno));
    if (n > CFG_SECRET_MAX)
        return cfgp_fail(x, path, "secret file %s is larger than %d bytes", file, CFG_SECRET_MAX);
    if (n && s->data[n - 1] == '\n') {
        n--;
        if (n && s->data[n - 1] == '\r')
            n--;
    }
    s->len = n;
    return HG_OK;
}

/* resolve_secret - env:NAME, file:PATH or a literal (warned about). */
int cfgp_resolve_secret(struct ctx *x, const char *path, json_t *v, struct secret *s)
{
    if (!json_is_string(v) || json_string_length(v) == 0)
        return cfgp_fail(x, path, "must be \"env:NAME\", \"file:PATH\" or a literal secret");
    const char *str = json_string_value(v);
    int rc = HG_OK;
    if (strncmp(str, "env:", 4) == 0) {
        const char *val = getenv(str + 4);
        if (!val || !*val)
            return cfgp_fail(x, path, "environment variable %s is not set or empty", str + 4);
        s->len = strlen(val);
        s->data = (unsigned char *)strdup(val);
        if (!s->data)
            return HG_ENOMEM;
    } else if (strncmp(str, "file:", 5) == 0) {
        rc = read_secret_file(x, path, str + 5, s);
    } else {
        s->len = json_string_length(v);
        s->data = malloc(s->len + 1);
        if (!s->data)
            return HG_ENOMEM;
        memcpy(s->data, str, s->len);
        log_msg(LOG_WARN, "literal secret in config; prefer env: or file:", "{s:s,s:s}", "file",
                x->name, "key", path);
    }
    if (!rc && s->len == 0)
        return cfgp_fail(x, path, "secret is empty");
    return rc;
}

static int parse_address(struct ctx *x, const char *path, const char *addr, struct cfg_listener *l)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || !colon[1])
        return cfgp_fail(x, path, "must be \"HOST:PORT\" or \"[IPv6]:PORT\"");
    char host[64];
    size_t hlen = (size_t)(colon - addr);
    int bracketed = addr[0] == '[';
    if (bracketed) {
        if (hlen < 3 || addr[hlen - 1] != ']')
            return cfgp_fail(x, path, "IPv6 address must be in brackets: \"[::1]:8443\"");
        addr++;
        hlen -= 2;
    }
    if (hlen >= sizeof(host))
        return cfgp_fail(x, path, "host too long");
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    unsigned char tmp[16];
    if (inet_pton(AF_INET, host, tmp) != 1 && inet_pton(AF_INET6, host, tmp) != 1)
        return cfgp_fail(x, path, "host must be a numeric IPv4 or IPv6 address");
    if (!bracketed && strchr(host, ':'))
        return cfgp_fail(x, path, "IPv6 address must be in brackets: \"[::1]:8443\"");
    const char *ps = colon + 1;
    long port = 0;
    for (const char *q = ps; *q; q++) {
        if (*q < '0' || *q > '9' || q - ps > 5 || (q == ps && *q == '0' && q[1]))
            return cfgp_fail(x, path, "port must be 0-65535 (digits only)");
        port = port * 10 + (*q - '0');
    }
    if (port > 65535)
        return cfgp_fail(x, path, "port must be 0-65535 (digits only)");
    l->host = strdup(host);
    l->port = (unsigned)port;
    return l->host ? HG_OK : HG_ENOMEM;
}

static int parse_listener(struct ctx *x, const char *path, json_t *o, struct cfg_listener *l)
{
    static const char *const known[] = {"address", "tls", "admin", NULL};
    static const char *const tls_known[] = {"cert", "key", "client_ca", NULL};
    char p[256];
    int rc = cfgp_check_keys(x, path, o, known, NULL);
    if (rc)
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.address", path);
    json_t *addr = json_object_get(o, "address");
    if (!addr)
        return cfgp_fail(x, p, "is required");
    if ((rc = cfgp_get_string(x, p, addr, &l->address)) ||
        (rc = parse_address(x, p, l->address, l)))
        return rc;
    json_t *adm = json_object_get(o, "admin");
    if (adm) {
        cfgp_pathf(p, sizeof(p), "%s.admin", path);
        if (!json_is_boolean(adm))
            return cfgp_fail(x, p, "must be true or false");
        l->admin = json_is_true(adm);
    }
    json_t *tls = json_object_get(o, "tls");
    if (!tls)
        return HG_OK;
    cfgp_pathf(p, sizeof(p), "%s.tls", path);
    if ((rc = cfgp_check_keys(x, p, tls, tls_known, NULL)))
        return rc;
    l->tls = 1;
    const char *names[2] = {"cert", "key"};
    char **dst[2] = {&l->cert, &l->key};
    for (int i = 0; i < 2; i++) {
        cfgp_pathf(p, sizeof(p), "%s.tls.%s", path, names[i]);
        json_t *v = json_object_get(tls, names[i]);
        if (!v)
            return cfgp_fail(x, p, "is required");
        if ((rc = cfgp_get_string(x, p, v, dst[i])))
            return rc;
        if (access(*dst[i], R_OK) != 0)
            return cfgp_fail(x, p, "cannot read %s: %s", *dst[i], strerror(errno));
    }
    json_t *ca = json_object_get(tls, "client_ca");
    if (ca) {
        cfgp_pathf(p, sizeof(p), "%s.tls.client_ca", path);
        if ((rc = cfgp_get_string(x, p, ca, &l->client_ca)))
            return rc;
        if (access(l->client_ca, R_OK) != 0)
            return cfgp_fail(x, p, "cannot read %s: %s", l->client_ca, strerror(errno));
    }
    return HG_OK;
}

/* get_strings - a non-empty array of non-empty strings into a NULL-terminated
 * array owned by the config. */
int cfgp_get_strings(struct ctx *x, const char *path, json_t *v, char ***out)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 256)
        return cfgp_fail(x, path, "must be a non-empty array of strings");
    *out = calloc(json_array_size(v) + 1, sizeof(char *));
    if (!*out)
        return HG_ENOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s[%zu]", path, i);
        int rc = cfgp_get_string(x, p, e, &(*out)[i]);
        if (rc)
            return rc;
    }
    return HG_OK;
}

static int parse_limits(struct ctx *x, json_t *o, struct config *c)
{
    static const char *const known[] = {
        "max_body",       "max_connections",        "request_timeout",
        "max_store_size", "max_connections_per_ip", "rate_per_ip",
        "rate_burst",     "max_header_size",        NULL};
    int rc = cfgp_check_keys(x, "$.limits", o, known, NULL);
    json_t *v;
    if (!rc && (v = json_object_get(o, "max_body")))
        rc = get_size(x, "$.limits.max_body", v, &c->max_body);
    if (!rc && (c->max_body < 1 || c->max_body > (1ULL << 30)))
        rc = cfgp_fail(x, "$.limits.max_body", "must be between 1 byte and 1GiB");
    if (!rc && (v = json_object_get(o, "max_connections")))
        rc = cfgp_get_uint(x, "$.limits.max_connections", v, 1, 65536, &c->max_connections);
    if (!rc && (v = json_object_get(o, "request_timeout")))
        rc = cfgp_get_duration(x, "$.limits.request_timeout", v, &c->request_timeout_ms);
    if (!rc && (c->request_timeout_ms < 1000 || c->request_timeout_ms > 3600000))
        rc = cfgp_fail(x, "$.limits.request_timeout", "must be between 1s and 1h");
    if (!rc && (v = json_object_get(o, "max_connections_per_ip")))
        rc = cfgp_get_uint(x, "$.limits.max_connections_per_ip", v, 0, 65536, &c->max_conns_per_ip);
    if (!rc && (v = json_object_get(o, "rate_per_ip"))) {
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1e6)
            rc = cfgp_fail(x, "$.limits.rate_per_ip",
                           "must be a number of requests per second, > 0 and <= 1000000");
        else
            c->rate_per_ip = json_number_value(v);
    }
    if (!rc && (v = json_object_get(o, "rate_burst"))) {
        if (!c->rate_per_ip && !json_object_get(o, "rate_per_ip"))
            rc = cfgp_fail(x, "$.limits.rate_burst", "needs $.limits.rate_per_ip");
        else
            rc = cfgp_get_uint(x, "$.limits.rate_burst", v, 1, 1000000, &c->rate_burst);
    }
    if (!rc && c->rate_per_ip && !c->rate_burst)
        c->rate_burst = c->rate_per_ip * 2 < 1 ? 1 : (unsigned)(c->rate_per_ip * 2);
    if (!rc && (v = json_object_get(o, "max_header_size")))
        rc = get_size(x, "$.limits.max_header_size", v, &c->max_header_size);
    if (!rc && (c->max_header_size < 1024 || c->max_header_size > (1u << 20)))
        rc = cfgp_fail(x, "$.limits.max_header_size", "must be between 1KiB and 1MiB");
    if (!rc && (v = json_object_get(o, "max_store_size")))
        rc = get_size(x, "$.limits.max_store_size", v, &c->max_store_size);
    if (!rc && c->max_store_size < (1ULL << 20))
        rc = cfgp_fail(x, "$.limits.max_store_size", "must be at least 1MiB");
    return rc;
}

static int parse_retry(struct ctx *x, json_t *o, struct config *c)
{
    static const char *const known[] = {"max_attempts", "initial", "max", NULL};
    int rc = cfgp_check_keys(x, "$.retry", o, known, NULL);
    json_t *v;
    if (!rc && (v = json_object_get(o, "max_attempts")))
        rc = cfgp_get_uint(x, "$.retry.max_attempts", v, 1, 1000, &c->retry_max_attempts);
    if (!rc && (v = json_object_get(o, "initial")))
        rc = cfgp_get_duration(x, "$.retry.initial", v, &c->retry_initial_ms);
    if (!rc && (v = json_object_get(o, "max")))
        rc = cfgp_get_duration(x, "$.retry.max", v, &c->retry_max_ms);
    if (!rc && (c->retry_initial_ms == 0 || c->retry_max_ms < c->retry_initial_ms))
        rc = cfgp_fail(x, "$.retry", "need 0 < initial <= max");
    return rc;
}

static int parse_root(struct ctx *x, json_t *root, struct config *c)
{
    static const char *const known[] = {"listen",
                                        "data_dir",
                                        "limits",
                                        "dedupe_window",
                                        "retry",
                                        "routes",
                                        "sinks",
                                        "log_level",
                                        "threads",
                                        "gc_interval",
                                        "profile_dirs",
                                        "user",
                                        "shutdown_timeout",
                                        NULL};
    char p[256];
    int rc = cfgp_check_keys(x, "$", root, known, NULL);
    if (rc)
        return rc;
    json_t *v = json_object_get(root, "listen");
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 16)
        return cfgp_fail(x, "$.listen", "must be an array of 1 to 16 listeners");
    c->listeners = calloc(json_array_size(v), sizeof(*c->listeners));
    if (!c->listeners)
        return HG_ENOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        snprintf(p, sizeof(p), "$.listen[%zu]", i);
        c->nlisteners = i + 1;
        if ((rc = parse_listener(x, p, e, &c->listeners[i])))
            return rc;
    }
    if ((v = json_object_get(root, "data_dir")) &&
        (rc = cfgp_get_string(x, "$.data_dir", v, &c->data_dir)))
        return rc;
    if (!c->data_dir && !(c->data_dir = strdup("./hookgate-data")))
        return HG_ENOMEM;
    if ((v = json_object_get(root, "limits")) && (rc = parse_limits(x, v, c)))
        return rc;
    if ((v = json_object_get(root, "dedupe_window")) &&
        (rc = cfgp_get_duration(x, "$.dedupe_window", v, &c->dedupe_window_ms)))
        return rc;
    if ((v = json_object_get(root, "retry")) && (rc = parse_retry(x, v, c)))
        return rc;
    if ((v = json_object_get(root, "gc_interval"))) {
        if ((rc = cfgp_get_duration(x, "$.gc_interval", v, &c->gc_interval_ms)))
            return rc;
        if (c->gc_interval_ms < 1000)
            return cfgp_fail(x, "$.gc_interval", "must be at least 1s");
    }
    if ((v = json_object_get(root, "user"))) {
        if ((rc = cfgp_get_string(x, "$.user", v, &c->user)))
            return rc;
        if (!*c->user || strlen(c->user) > 32)
            return cfgp_fail(x, "$.user", "must be a user name");
    }
    if ((v = json_object_get(root, "shutdown_timeout"))) {
        if ((rc = cfgp_get_duration(x, "$.shutdown_timeout", v, &c->shutdown_timeout_ms)))
            return rc;
        if (c->shutdown_timeout_ms < 1000 || c->shutdown_timeout_ms > 3600000)
            return cfgp_fail(x, "$.shutdown_timeout", "must be between 1s and 1h");
    }
    if ((v = json_object_get(root, "threads")) &&
        (rc = cfgp_get_uint(x, "$.threads", v, 1, 64, &c->threads)))
        return rc;
    if ((v = json_object_get(root, "log_level"))) {
        if (!json_is_string(v) || (c->log_level = log_level_parse(json_string_value(v))) < 0)
            return cfgp_fail(x, "$.log_level",
                             "must be \"debug\", \"info\", \"warn\" or \"error\"");
    }

    v = json_object_get(root, "sinks");
    if (!json_is_object(v) || json_object_size(v) == 0 || json_object_size(v) > 64)
        return cfgp_fail(x, "$.sinks", "must be an object of named sinks (1 to 64)");
    c->sinks = calloc(json_object_size(v), sizeof(*c->sinks));
    if (!c->sinks)
        return HG_ENOMEM;
    const char *key;
    json_object_foreach(v, key, e)
    {
        snprintf(p, sizeof(p), "$.sinks.%s", key);
        if ((rc = config_parse_sink(x, p, key, e, &c->sinks[c->nsinks++])))
            return rc;
    }

    if ((v = json_object_get(root, "profile_dirs")) &&
        (rc = cfgp_get_strings(x, "$.profile_dirs", v, &c->profile_dirs)))
        return rc;
    if ((rc = profile_set_load((const char *const *)c->profile_dirs, &c->profiles, x->err,
                               x->errlen)))
        return rc;

    v = json_object_get(root, "routes");
    if (!json_is_array(v) || json_array_size(v) == 0)
        return cfgp_fail(x, "$.routes", "must be a non-empty array of routes");
    c->routes = calloc(json_array_size(v), sizeof(*c->routes));
    if (!c->routes)
        return HG_ENOMEM;
    json_array_foreach(v, i, e)
    {
        snprintf(p, sizeof(p), "$.routes[%zu]", i);
        c->nroutes = i + 1;
        if ((rc = config_parse_route(x, p, e, c, &c->routes[i])))
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->routes[j].path, c->routes[i].path) == 0)
                return cfgp_fail(x, p, "path %s is already used by $.routes[%zu]",
                                 c->routes[i].path, j);
            if (strcmp(c->routes[j].name, c->routes[i].name) == 0)
                return cfgp_fail(x, p,
                                 "route name \"%s\" is already used by $.routes[%zu]; set \"name\"",
                                 c->routes[i].name, j);
        }
    }
    return HG_OK;
}

static struct config *config_defaults(const char *name)
{
    struct config *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->source = strdup(name);
    c->max_body = 1ULL << 20;
    c->max_connections = 1024;
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
    if (!c->source) {
        free(c);
        return NULL;
    }
    return c;
}

int config_load_string(const char *json, const char *name, struct config **out, char *err,
                       size_t errlen)
{
    struct ctx x = {name, err, errlen};
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        /* jansson's text may quote the source ("near '...'"), which can be
         * a literal secret: keep only what precedes the quote (except for a
         * duplicate key, where the quote is the key's name) */
        char *near = strstr(jerr.text, " near ");
        if (near && strncmp(jerr.text, "duplicate object key", 20) != 0)
            *near = '\0';
        snprintf(err, errlen, "%s: line %d column %d: %s", name, jerr.line, jerr.column, jerr.text);
        return HG_ECONFIG;
    }
    struct config *c = config_defaults(name);
    int rc = c ? parse_root(&x, root, c) : HG_ENOMEM;
    json_decref(root);
    if (rc) {
        if (rc == HG_ENOMEM)
            snprintf(err, errlen, "%s: out of memory", name);
        config_free(c);
        return HG_ECONFIG;
    }
    *out = c;
    return HG_OK;
}

int config_load_file(const char *path, struct config **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return HG_ECONFIG;
    }
    struct buf_s {
        char *p;
        size_t n;
    } b = {NULL, 0};
    size_t cap = 0;
    size_t r;
    char chunk[4096];
    while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.n + r + 1 > cap) {
            cap = (b.n + r + 1) * 2;
            if (cap > (16u << 20)) {
                (void)fclose(f); /* read-only */
                free(b.p);
                snprintf(err, errlen, "%s: larger than 16MiB", path);
                return HG_ECONFIG;
            }
            char *np = realloc(b.p, cap);
            if (!np) {
                (void)fclose(f); /* read-only */
                free(b.p);
                return HG_ENOMEM;
            }
            b.p = np;
        }
        memcpy(b.p + b.n, chunk, r);
        b.n += r;
    }
    int rerr = ferror(f) ? (errno ? errno : EIO) : 0; /* EISDIR: fopen takes a directory */
    (void)fclose(f);                                  /* read-only */
    if (rerr) {
        free(b.p);
        snprintf(err, errlen, "%s: %s", path, strerror(rerr));
        return HG_ECONFIG;
    }
    if (!b.p) {
        snprintf(err, errlen, "%s: empty file", path);
        return HG_ECONFIG;
    }
    b.p[b.n] = '\0';
    int rc = config_load_string(b.p, path, out, err, errlen);
    free(b.p);
    return rc;
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
    static const char *const dir = "./hookgate-data";
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
    }
    free(c->listeners);
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
            "max_store_size=%llu dedupe_window=%llums\n",
            (unsigned long long)c->max_body, c->max_connections,
            (unsigned long long)c->request_timeout_ms, (unsigned long long)c->max_store_size,
            (unsigned long long)c->dedupe_window_ms);
    for (size_t i = 0; i < c->nlisteners; i++)
        fprintf(f, "listen: %s %s%s%s\n", c->listeners[i].address,
                c->listeners[i].tls ? "https" : "http",
                c->listeners[i].client_ca ? " client-cert-required" : "",
                c->listeners[i].admin ? " admin" : "");
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
            /* user:password@ in a URL is a secret: never printed */
            const char *u = k->url, *at = strchr(u, '@'), *sl = strchr(strstr(u, "://") + 3, '/');
            char shown[2100];
            if (at && (!sl || at < sl))
                snprintf(shown, sizeof(shown), "%.*s***%s", (int)(strstr(u, "://") - u + 3), u, at);
            else
                snprintf(shown, sizeof(shown), "%s", u);
            fprintf(
                f, "sink: %s type=http url=%s format=%s concurrency=%u timeout=%llums%s%s%s types=",
                k->name, shown, k->binary ? "binary" : "structured", k->concurrency,
                (unsigned long long)k->timeout_ms, k->path ? " unix_socket=" : "",
                k->path ? k->path : "", k->sign.len ? " signed=yes" : "");
        } else if (k->type == SINK_JETSTREAM) {
            fprintf(f, "sink: %s type=jetstream servers=", k->name);
            for (char **sv = k->servers; *sv; sv++)
                fprintf(f, "%s%s", sv == k->servers ? "" : ",", *sv);
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
