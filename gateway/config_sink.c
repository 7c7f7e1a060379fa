/*
 * config_sink.c - the "sinks" part of the configuration: stdout, exec, unix,
 * pipe and http, each checked against its own list of keys (a key of another
 * type is an error, not ignored).  See config.h for the fields.
 */
#include "config.h"
#include "config_int.h"
#include "codec.h"
#include "err.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* get_ack_timeout - "ack_timeout" of a unix or pipe sink (default 30 s). */
static int get_ack_timeout(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    json_t *v = json_object_get(o, "ack_timeout");
    s->ack_timeout_ms = 30000;
    cfgp_pathf(p, sizeof(p), "%s.ack_timeout", path);
    if (!v)
        return HG_OK;
    int rc = cfgp_get_duration(x, p, v, &s->ack_timeout_ms);
    if (!rc && (s->ack_timeout_ms < 100 || s->ack_timeout_ms > 3600000))
        rc = cfgp_fail(x, p, "must be between 100ms and 1h");
    return rc;
}

/* get_env_names - names of variables to pass through to a child process. */
static int get_env_names(struct ctx *x, const char *p, json_t *v, char ***out)
{
    int rc = cfgp_get_strings(x, p, v, out);
    for (char **e = *out; !rc && e && *e; e++)
        if (strchr(*e, '=') || !strncmp(*e, "HOOKGATE_", 9) || !strcmp(*e, "PATH"))
            return cfgp_fail(x, p,
                             "names environment variables to pass through (no '=', not PATH or "
                             "HOOKGATE_*)");
    return rc;
}

static int parse_exec(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    int rc;
    json_t *v;
    s->type = SINK_EXEC;
    s->concurrency = 1;
    s->timeout_ms = 30000;
    cfgp_pathf(p, sizeof(p), "%s.command", path);
    if (!(v = json_object_get(o, "command")))
        return cfgp_fail(x, p, "is required: an argv array such as [\"/usr/local/bin/on-event\"]");
    if ((rc = cfgp_get_strings(x, p, v, &s->command)))
        return rc;
    if (s->command[0][0] != '/' && !strchr(s->command[0], '/') && !getenv("PATH"))
        return cfgp_fail(x, p, "command[0] must be a path when PATH is unset");
    cfgp_pathf(p, sizeof(p), "%s.concurrency", path);
    if ((v = json_object_get(o, "concurrency")) &&
        (rc = cfgp_get_uint(x, p, v, 1, 64, &s->concurrency)))
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.timeout", path);
    if ((v = json_object_get(o, "timeout"))) {
        if ((rc = cfgp_get_duration(x, p, v, &s->timeout_ms)))
            return rc;
        if (s->timeout_ms < 100 || s->timeout_ms > 86400000ULL)
            return cfgp_fail(x, p, "must be between 100ms and 1d");
    }
    cfgp_pathf(p, sizeof(p), "%s.env", path);
    if ((v = json_object_get(o, "env")) && (rc = get_env_names(x, p, v, &s->env)))
        return rc;
    return HG_OK;
}

static int parse_unix(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    int rc;
    json_t *v;
    s->type = SINK_UNIX;
    s->ack_timeout_ms = 30000;
    cfgp_pathf(p, sizeof(p), "%s.path", path);
    if (!(v = json_object_get(o, "path")))
        return cfgp_fail(x, p, "is required: the consumer's socket, e.g. \"/run/app/events.sock\"");
    if ((rc = cfgp_get_string(x, p, v, &s->path)))
        return rc;
    if (s->path[0] != '/' || strlen(s->path) >= 108)
        return cfgp_fail(x, p, "must be an absolute path shorter than 108 bytes");
    cfgp_pathf(p, sizeof(p), "%s.ack", path);
    if ((v = json_object_get(o, "ack"))) {
        if (!json_is_boolean(v))
            return cfgp_fail(x, p, "must be true or false");
        s->ack = json_is_true(v);
    }
    return get_ack_timeout(x, path, o, s);
}

static int parse_pipe(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    int rc;
    json_t *v;
    s->type = SINK_PIPE;
    s->ack = 1; /* the worker writes back each handled id */
    s->ack_timeout_ms = 30000;
    cfgp_pathf(p, sizeof(p), "%s.command", path);
    if (!(v = json_object_get(o, "command")))
        return cfgp_fail(x, p, "is required: an argv array such as [\"python3\", \"worker.py\"]");
    if ((rc = cfgp_get_strings(x, p, v, &s->command)))
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.env", path);
    if ((v = json_object_get(o, "env")) && (rc = get_env_names(x, p, v, &s->env)))
        return rc;
    return get_ack_timeout(x, path, o, s);
}

static int parse_http(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    int rc;
    json_t *v;
    s->type = SINK_HTTP;
    s->concurrency = 8;
    s->timeout_ms = 10000;
    cfgp_pathf(p, sizeof(p), "%s.url", path);
    if (!(v = json_object_get(o, "url")))
        return cfgp_fail(x, p, "is required: e.g. \"https://orders.internal/hooks\"");
    if ((rc = cfgp_get_string(x, p, v, &s->url)))
        return rc;
    const char *host = !strncmp(s->url, "http://", 7)    ? s->url + 7
                       : !strncmp(s->url, "https://", 8) ? s->url + 8
                                                         : NULL;
    if (!host || !*host || *host == '/' || strpbrk(s->url, " \t\r\n") || strlen(s->url) > 2048)
        return cfgp_fail(x, p, "must be an http:// or https:// URL (no spaces)");
    cfgp_pathf(p, sizeof(p), "%s.concurrency", path);
    if ((v = json_object_get(o, "concurrency")) &&
        (rc = cfgp_get_uint(x, p, v, 1, 256, &s->concurrency)))
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.timeout", path);
    if ((v = json_object_get(o, "timeout"))) {
        if ((rc = cfgp_get_duration(x, p, v, &s->timeout_ms)))
            return rc;
        if (s->timeout_ms < 100 || s->timeout_ms > 3600000)
            return cfgp_fail(x, p, "must be between 100ms and 1h");
    }
    cfgp_pathf(p, sizeof(p), "%s.format", path);
    if ((v = json_object_get(o, "format"))) {
        const char *f = json_string_value(v);
        if (!f || (strcmp(f, "structured") && strcmp(f, "binary")))
            return cfgp_fail(x, p, "must be \"structured\" or \"binary\"");
        s->binary = !strcmp(f, "binary");
    }
    cfgp_pathf(p, sizeof(p), "%s.headers", path);
    if ((v = json_object_get(o, "headers"))) {
        if (!json_is_object(v) || json_object_size(v) > 64)
            return cfgp_fail(x, p, "must be an object of at most 64 header names -> values");
        if (!(s->headers = calloc(json_object_size(v) + 1, sizeof(char *))))
            return HG_ENOMEM;
        size_t n = 0;
        const char *k;
        json_t *hv;
        json_object_foreach(v, k, hv)
        {
            const char *val = json_string_value(hv);
            if (!*k || strpbrk(k, ": \t\r\n") || !val || strpbrk(val, "\r\n") ||
                !strncasecmp(k, "ce-", 3) || !strncasecmp(k, "webhook-", 8) ||
                !strcasecmp(k, "Content-Type") || !strcasecmp(k, "Content-Length") ||
                !strcasecmp(k, "Host"))
                return cfgp_fail(x, p,
                                 "header \"%s\": a name without ':' or spaces and a one-line value "
                                 "(Host, Content-Type, Content-Length, ce-* and webhook-* are set "
                                 "by hookgate)",
                                 k);
            if (asprintf(&s->headers[n++], "%s: %s", k, val) < 0)
                return HG_ENOMEM;
        }
    }
    cfgp_pathf(p, sizeof(p), "%s.unix_socket", path);
    if ((v = json_object_get(o, "unix_socket"))) {
        if ((rc = cfgp_get_string(x, p, v, &s->path)))
            return rc;
        if (s->path[0] != '/' || strlen(s->path) >= 108)
            return cfgp_fail(x, p, "must be an absolute path shorter than 108 bytes");
    }
    json_t *tls = json_object_get(o, "tls");
    if (tls) {
        static const char *const tk[] = {"ca", "cert", "key", NULL};
        cfgp_pathf(p, sizeof(p), "%s.tls", path);
        if ((rc = cfgp_check_keys(x, p, tls, tk, NULL)))
            return rc;
        char **dst[] = {&s->tls_ca, &s->tls_cert, &s->tls_key};
        for (int i = 0; i < 3; i++) {
            cfgp_pathf(p, sizeof(p), "%s.tls.%s", path, tk[i]);
            if ((v = json_object_get(tls, tk[i])) && (rc = cfgp_get_string(x, p, v, dst[i])))
                return rc;
            if (*dst[i] && access(*dst[i], R_OK))
                return cfgp_fail(x, p, "cannot read %s", *dst[i]);
        }
        if (!s->tls_cert != !s->tls_key)
            return cfgp_fail(x, p, "cert and key go together");
    }
    json_t *sign = json_object_get(o, "sign");
    if (sign) {
        static const char *const sk[] = {"secret", NULL};
        cfgp_pathf(p, sizeof(p), "%s.sign", path);
        if ((rc = cfgp_check_keys(x, p, sign, sk, NULL)))
            return rc;
        cfgp_pathf(p, sizeof(p), "%s.sign.secret", path);
        if (!(v = json_object_get(sign, "secret")))
            return cfgp_fail(x, p, "is required: a Standard Webhooks secret (whsec_...)");
        if ((rc = cfgp_resolve_secret(x, p, v, &s->sign)))
            return rc;
        /* checked here, not when the sink starts: `check` must catch it */
        unsigned char key[512];
        size_t klen = 0, off = s->sign.len > 6 && !memcmp(s->sign.data, "whsec_", 6) ? 6 : 0;
        int bad = b64_decode((const char *)s->sign.data + off, s->sign.len - off, key, sizeof(key),
                             &klen) ||
                  klen == 0;
        OPENSSL_cleanse(key, sizeof(key));
        if (bad)
            return cfgp_fail(x, p, "must be a Standard Webhooks secret: whsec_ + base64");
    }
    return HG_OK;
}

int config_parse_sink(struct ctx *x, const char *path, const char *name, json_t *o,
                      struct cfg_sink *s)
{
    static const char *const stdout_keys[] = {"type", "types", NULL};
    static const char *const exec_keys[] = {"type",    "types", "command", "concurrency",
                                            "timeout", "env",   NULL};
    static const char *const unix_keys[] = {"type", "types", "path", "ack", "ack_timeout", NULL};
    static const char *const pipe_keys[] = {"type", "types", "command", "env", "ack_timeout", NULL};
    static const char *const http_keys[] = {"type",        "types",   "url",    "timeout",
                                            "concurrency", "headers", "format", "tls",
                                            "unix_socket", "sign",    NULL};
    static const char *const later_types[] = {"jetstream", NULL};
    char p[256];
    if (!json_is_object(o))
        return cfgp_fail(x, path, "must be an object");
    cfgp_pathf(p, sizeof(p), "%s.type", path);
    json_t *t = json_object_get(o, "type");
    if (!json_is_string(t))
        return cfgp_fail(x, p, "is required: \"stdout\", \"exec\", \"unix\", \"pipe\" or \"http\"");
    const char *type = json_string_value(t);
    if (cfgp_in_list(type, later_types))
        return cfgp_fail(x, p, "sink type \"%s\" is not supported by this build yet", type);
    int is_exec = strcmp(type, "exec") == 0, is_unix = strcmp(type, "unix") == 0,
        is_pipe = strcmp(type, "pipe") == 0, is_http = strcmp(type, "http") == 0;
    if (!is_exec && !is_unix && !is_pipe && !is_http && strcmp(type, "stdout") != 0)
        return cfgp_fail(x, p, "unknown sink type \"%s\"", type);
    int rc = cfgp_check_keys(x, path, o,
                             is_exec   ? exec_keys
                             : is_unix ? unix_keys
                             : is_pipe ? pipe_keys
                             : is_http ? http_keys
                                       : stdout_keys,
                             NULL);
    if (rc)
        return rc;
    if (!*name || strlen(name) > 64 || strspn(name, NAME_CHARS) != strlen(name))
        return cfgp_fail(x, path, "sink names are 1-64 of [A-Za-z0-9_.-]");
    s->type = SINK_STDOUT;
    if (!(s->name = strdup(name)))
        return HG_ENOMEM;
    if (is_exec && (rc = parse_exec(x, path, o, s)))
        return rc;
    if (is_unix && (rc = parse_unix(x, path, o, s)))
        return rc;
    if (is_pipe && (rc = parse_pipe(x, path, o, s)))
        return rc;
    if (is_http && (rc = parse_http(x, path, o, s)))
        return rc;
    json_t *types = json_object_get(o, "types");
    if (!types)
        return HG_OK;
    cfgp_pathf(p, sizeof(p), "%s.types", path);
    if (!json_is_array(types) || json_array_size(types) == 0)
        return cfgp_fail(x, p, "must be a non-empty array of glob patterns");
    return cfgp_get_strings(x, p, types, &s->types);
}
