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
#include <sys/stat.h>
#include <unistd.h>

/* http_token - s is a non-empty RFC 9110 token, what a header name may be. */
static int http_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("!#$%&'*+-.^_`|~", c)))
            return 0;
    }
    return 1;
}

/* http_field_value - s has no control character but tab (RFC 9110
 * field-value; bytes from 0x80 are obs-text and pass). */
static int http_field_value(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

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

/* get_timeout - "timeout" of an exec, http or jetstream sink: 100ms..max. */
static int get_timeout(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s,
                       uint64_t max_ms, const char *max_text)
{
    char p[256];
    json_t *v = json_object_get(o, "timeout");
    cfgp_pathf(p, sizeof(p), "%s.timeout", path);
    if (!v)
        return HG_OK;
    int rc = cfgp_get_duration(x, p, v, &s->timeout_ms);
    if (!rc && (s->timeout_ms < 100 || s->timeout_ms > max_ms))
        rc = cfgp_fail(x, p, "must be between 100ms and %s", max_text);
    return rc;
}

int cfgp_nats_servers(struct ctx *x, const char *p, json_t *v, char ***out)
{
    int rc = cfgp_get_strings(x, p, v, out);
    for (char **u = *out; !rc && u && *u; u++) {
        const char *host = !strncmp(*u, "nats://", 7)  ? *u + 7
                           : !strncmp(*u, "tls://", 6) ? *u + 6
                                                       : NULL;
        if (!host || !*host || *host == ':' || *host == '/' || strpbrk(*u, " \t\r\n,"))
            rc = cfgp_fail(x, p, "a server is nats://HOST:PORT or tls://HOST:PORT");
    }
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
    if ((rc = get_timeout(x, path, o, s, 86400000ULL, "1d")))
        return rc;
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

/* get_tls - "tls": {"ca", "cert", "key"} of an http or jetstream sink:
 * readable PEM files; a cert needs its key. */
static int get_tls(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    int rc;
    json_t *v, *tls = json_object_get(o, "tls");
    if (!tls)
        return HG_OK;
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
    cfgp_pathf(p, sizeof(p), "%s.tls.%s", path, s->tls_cert ? "key" : "cert");
    if (!s->tls_cert != !s->tls_key)
        return cfgp_fail(x, p, "cert and key go together");
    return HG_OK;
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
    if ((rc = get_timeout(x, path, o, s, 3600000, "1h")))
        return rc;
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
            if (!http_token(k) || !val || !http_field_value(val) || !strncasecmp(k, "ce-", 3) ||
                !strncasecmp(k, "webhook-", 8) || !strcasecmp(k, "Content-Type") ||
                !strcasecmp(k, "Content-Length") || !strcasecmp(k, "Host"))
                return cfgp_fail(x, p,
                                 "header \"%s\": a name without ':' or spaces and a one-line value "
                                 "(Host, Content-Type, Content-Length, ce-* and webhook-* are set "
                                 "by hookgate); a name is an HTTP token (letters, digits and "
                                 "!#$%%&'*+-.^_`|~) and a value has no control character but tab",
                                 k);
            /* libcurl drops "Name: " with nothing after the colon, and
             * sends "Name;" as the header with an empty value */
            if (asprintf(&s->headers[n++], val[strspn(val, " \t")] ? "%s: %s" : "%s;", k, val) < 0)
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
    if ((rc = get_tls(x, path, o, s)))
        return rc;
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

static int parse_jetstream(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    int rc;
    json_t *v;
    s->type = SINK_JETSTREAM;
    s->concurrency = 256;
    s->timeout_ms = 10000;
    s->replicas = 1;
    s->dup_window_ms = 120000;
    cfgp_pathf(p, sizeof(p), "%s.servers", path);
    if (!(v = json_object_get(o, "servers")))
        return cfgp_fail(x, p, "is required: [\"nats://10.0.0.5:4222\", ...]");
    if ((rc = cfgp_nats_servers(x, p, v, &s->servers)))
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.subject", path);
    if (!(v = json_object_get(o, "subject")))
        return cfgp_fail(x, p, "is required: e.g. \"hooks.{route}.{type}\"");
    if ((rc = cfgp_get_string(x, p, v, &s->subject)))
        return rc;
    int ctl = 0;
    for (const char *q = s->subject; *q; q++)
        ctl |= (unsigned char)*q <= 0x20 || *q == 0x7f;
    if (!*s->subject || ctl || strpbrk(s->subject, "*>") || s->subject[0] == '.' ||
        strstr(s->subject, "..") || s->subject[strlen(s->subject) - 1] == '.' ||
        strlen(s->subject) > 200)
        return cfgp_fail(x, p,
                         "a subject of dot-separated tokens without spaces, '*' or '>' (the "
                         "placeholders {route}, {type} and {id} are filled per event); at most "
                         "200 bytes, no control characters");
    for (const char *q = strchr(s->subject, '{'); q; q = strchr(q + 1, '{'))
        if (strncmp(q, "{route}", 7) && strncmp(q, "{type}", 6) && strncmp(q, "{id}", 4))
            return cfgp_fail(x, p, "unknown placeholder (known: {route} {type} {id})");
    for (const char *q = strchr(s->subject, '{'); q; q = strchr(q + 1, '{')) {
        size_t n = q[1] == 'r' ? 7 : q[1] == 't' ? 6 : 4;
        /* whole tokens after a fixed first one: the stream's subjects are
         * that prefix + ">", never ">" alone or a token half-filled */
        if (q == s->subject || q[-1] != '.' || (q[n] && q[n] != '.'))
            return cfgp_fail(x, p,
                             "placeholders are whole tokens after a fixed first token, e.g. "
                             "\"hooks.{route}.{type}\"");
    }
    json_t *st = json_object_get(o, "stream");
    cfgp_pathf(p, sizeof(p), "%s.stream", path);
    if (!st)
        return cfgp_fail(x, p, "is required: {\"name\": \"HOOKS\", \"create\": true}");
    static const char *const sk[] = {"name", "create", "replicas", "duplicate_window", NULL};
    if ((rc = cfgp_check_keys(x, p, st, sk, NULL)))
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.stream.name", path);
    if (!(v = json_object_get(st, "name")) || (rc = cfgp_get_string(x, p, v, &s->stream)))
        return rc ? rc : cfgp_fail(x, p, "is required");
    int sctl = 0;
    for (const char *q = s->stream; *q; q++)
        sctl |= (unsigned char)*q <= 0x20 || *q == 0x7f;
    if (!*s->stream || sctl || strpbrk(s->stream, ".*>/\\") || strlen(s->stream) > 64)
        return cfgp_fail(x, p,
                         "a stream name has no spaces, '.', '*', '>', '/' or '\\' (1-64 bytes, no "
                         "control characters)");
    if ((v = json_object_get(st, "create"))) {
        cfgp_pathf(p, sizeof(p), "%s.stream.create", path);
        if (!json_is_boolean(v))
            return cfgp_fail(x, p, "must be true or false");
        s->stream_create = json_is_true(v);
    }
    cfgp_pathf(p, sizeof(p), "%s.stream.replicas", path);
    if ((v = json_object_get(st, "replicas")) && (rc = cfgp_get_uint(x, p, v, 1, 5, &s->replicas)))
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.stream.duplicate_window", path);
    if ((v = json_object_get(st, "duplicate_window"))) {
        if ((rc = cfgp_get_duration(x, p, v, &s->dup_window_ms)))
            return rc;
        if (s->dup_window_ms < 1000 || s->dup_window_ms > 7 * 86400000ULL)
            return cfgp_fail(x, p, "must be between 1s and 7d");
    }
    cfgp_pathf(p, sizeof(p), "%s.window", path);
    if ((v = json_object_get(o, "window")) &&
        (rc = cfgp_get_uint(x, p, v, 1, 4096, &s->concurrency)))
        return rc;
    if ((rc = get_timeout(x, path, o, s, 3600000, "1h")))
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.creds", path);
    if ((v = json_object_get(o, "creds"))) {
        if ((rc = cfgp_get_string(x, p, v, &s->creds)))
            return rc;
        const char *f = !strncmp(s->creds, "file:", 5) ? s->creds + 5 : s->creds;
        struct stat sb;
        if (access(f, R_OK) || stat(f, &sb))
            return cfgp_fail(x, p, "cannot read the credentials file");
        if (sb.st_mode & S_IROTH) /* it holds an NKey seed */
            return cfgp_fail(x, p, "the credentials file is readable by other users; chmod o-r it");
    }
    if ((rc = get_tls(x, path, o, s)))
        return rc;
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
    static const char *const js_keys[] = {"type",   "types",   "servers", "subject", "stream",
                                          "window", "timeout", "creds",   "tls",     NULL};
    char p[256];
    if (!json_is_object(o))
        return cfgp_fail(x, path, "must be an object");
    cfgp_pathf(p, sizeof(p), "%s.type", path);
    json_t *t = json_object_get(o, "type");
    if (!json_is_string(t))
        return cfgp_fail(
            x, p,
            "is required: \"stdout\", \"exec\", \"unix\", \"pipe\", \"http\" or \"jetstream\"");
    const char *type = json_string_value(t);
    int is_exec = strcmp(type, "exec") == 0, is_unix = strcmp(type, "unix") == 0,
        is_pipe = strcmp(type, "pipe") == 0, is_http = strcmp(type, "http") == 0,
        is_js = strcmp(type, "jetstream") == 0;
    if (!is_exec && !is_unix && !is_pipe && !is_http && !is_js && strcmp(type, "stdout") != 0)
        return cfgp_fail(x, p, "unknown sink type \"%s\"", type);
    int rc = cfgp_check_keys(x, path, o,
                             is_exec   ? exec_keys
                             : is_unix ? unix_keys
                             : is_pipe ? pipe_keys
                             : is_http ? http_keys
                             : is_js   ? js_keys
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
    if (is_js && (rc = parse_jetstream(x, path, o, s)))
        return rc;
    json_t *types = json_object_get(o, "types");
    if (!types)
        return HG_OK;
    cfgp_pathf(p, sizeof(p), "%s.types", path);
    if (!json_is_array(types) || json_array_size(types) == 0)
        return cfgp_fail(x, p, "must be a non-empty array of glob patterns");
    return cfgp_get_strings(x, p, types, &s->types);
}
