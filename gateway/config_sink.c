/*
 * config_sink.c - the "sinks" part of the configuration: stdout, exec, unix,
 * pipe, http and jetstream, each checked against its own list of keys (a key
 * of another type is an error, not ignored).  See config.h for the fields.
 *
 * Two passes (config_int.h): config_sink_parse reads the JSON and touches
 * nothing else; config_sink_files, run only on a sink the first pass found
 * well-formed, checks the TLS and credentials files, reads the signing
 * secret and looks at PATH.  A sink whose type is missing or unknown is
 * checked against the keys of every type, so that a misspelt "type" is
 * reported as the unknown key it is, and nothing else is said about a key
 * that some type has.
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

#define TYPE_REQUIRED                                                                              \
    "is required: \"stdout\", \"exec\", \"unix\", \"pipe\", \"http\" or \"jetstream\""

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
    return cfgp_get_duration_in(x, p, v, 100, 3600000, "must be between 100ms and 1h",
                                &s->ack_timeout_ms);
}

/* get_timeout - "timeout" of an exec, http or jetstream sink: 100ms..max. */
static int get_timeout(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s,
                       uint64_t max_ms, const char *max_text)
{
    char p[256], range[64];
    json_t *v = json_object_get(o, "timeout");
    cfgp_pathf(p, sizeof(p), "%s.timeout", path);
    if (!v)
        return HG_OK;
    snprintf(range, sizeof(range), "must be between 100ms and %s", max_text);
    return cfgp_get_duration_in(x, p, v, 100, max_ms, range, &s->timeout_ms);
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

/* get_socket_path - an absolute path that fits a sockaddr_un. */
static int get_socket_path(struct ctx *x, const char *p, json_t *v, char **out)
{
    int rc = cfgp_get_string(x, p, v, out);
    if (!rc && ((*out)[0] != '/' || strlen(*out) >= 108))
        rc = cfgp_fail(x, p, "must be an absolute path shorter than 108 bytes");
    return rc;
}

/* get_command - "command", an argv array; hint is the example shown when it
 * is missing. */
static int get_command(struct ctx *x, const char *path, json_t *o, const char *hint,
                       struct cfg_sink *s)
{
    char p[256];
    json_t *v = json_object_get(o, "command");
    cfgp_pathf(p, sizeof(p), "%s.command", path);
    if (!v)
        return cfgp_absent(x, p, "is required: an argv array such as %s", hint);
    return cfgp_get_strings(x, p, v, &s->command);
}

static int parse_exec(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    json_t *v;
    s->type = SINK_EXEC;
    s->concurrency = 1;
    s->timeout_ms = 30000;
    int rc = get_command(x, path, o, "[\"/usr/local/bin/on-event\"]", s);
    cfgp_pathf(p, sizeof(p), "%s.concurrency", path);
    if ((v = json_object_get(o, "concurrency")))
        rc = cfgp_worse(rc, cfgp_get_uint(x, p, v, 1, 64, &s->concurrency));
    rc = cfgp_worse(rc, get_timeout(x, path, o, s, 86400000ULL, "1d"));
    cfgp_pathf(p, sizeof(p), "%s.env", path);
    if ((v = json_object_get(o, "env")))
        rc = cfgp_worse(rc, get_env_names(x, p, v, &s->env));
    return rc;
}

static int parse_unix(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    int rc;
    json_t *v;
    s->type = SINK_UNIX;
    cfgp_pathf(p, sizeof(p), "%s.path", path);
    if (!(v = json_object_get(o, "path")))
        rc = cfgp_absent(x, p, "is required: the consumer's socket, e.g. \"/run/app/events.sock\"");
    else
        rc = get_socket_path(x, p, v, &s->path);
    cfgp_pathf(p, sizeof(p), "%s.ack", path);
    if ((v = json_object_get(o, "ack")))
        rc = cfgp_worse(rc, cfgp_get_bool(x, p, v, &s->ack));
    return cfgp_worse(rc, get_ack_timeout(x, path, o, s));
}

static int parse_pipe(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    json_t *v;
    s->type = SINK_PIPE;
    s->ack = 1; /* the worker writes back each handled id */
    int rc = get_command(x, path, o, "[\"python3\", \"worker.py\"]", s);
    cfgp_pathf(p, sizeof(p), "%s.env", path);
    if ((v = json_object_get(o, "env")))
        rc = cfgp_worse(rc, get_env_names(x, p, v, &s->env));
    return cfgp_worse(rc, get_ack_timeout(x, path, o, s));
}

/* get_tls - "tls": {"ca", "cert", "key"} of an http or jetstream sink: file
 * names (read in the second pass, tls_files); a cert needs its key. */
static int get_tls(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    static const char *const tk[] = {"ca", "cert", "key", NULL};
    char p[256];
    json_t *v, *tls = json_object_get(o, "tls");
    if (!tls)
        return HG_OK;
    cfgp_pathf(p, sizeof(p), "%s.tls", path);
    int rc = cfgp_check_keys(x, p, tls, tk, NULL);
    if (!json_is_object(tls))
        return rc;
    char **dst[] = {&s->tls_ca, &s->tls_cert, &s->tls_key};
    for (int i = 0; i < 3; i++) {
        cfgp_pathf(p, sizeof(p), "%s.tls.%s", path, tk[i]);
        if ((v = json_object_get(tls, tk[i])))
            rc = cfgp_worse(rc, cfgp_get_string(x, p, v, dst[i]));
    }
    int has_cert = json_object_get(tls, "cert") != NULL;
    cfgp_pathf(p, sizeof(p), "%s.tls.%s", path, has_cert ? "key" : "cert");
    if (has_cert != (json_object_get(tls, "key") != NULL))
        rc = cfgp_worse(rc, cfgp_absent(x, p, "cert and key go together"));
    return rc;
}

/* tls_files - the second pass of get_tls: every file named is readable. */
static int tls_files(struct ctx *x, const char *path, const struct cfg_sink *s)
{
    static const char *const tk[] = {"ca", "cert", "key"};
    const char *files[] = {s->tls_ca, s->tls_cert, s->tls_key};
    int rc = HG_OK;
    for (int i = 0; i < 3; i++) {
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s.tls.%s", path, tk[i]);
        if (files[i] && access(files[i], R_OK))
            rc = cfgp_fail(x, p, "cannot read %s", files[i]);
    }
    return rc;
}

/* parse_headers - "headers" of an http sink into "Name: value" lines. */
static int parse_headers(struct ctx *x, const char *p, json_t *v, struct cfg_sink *s)
{
    if (!json_is_object(v) || json_object_size(v) > 64)
        return cfgp_fail(x, p, "must be an object of at most 64 header names -> values");
    if (!(s->headers = calloc(json_object_size(v) + 1, sizeof(char *))))
        return HG_ENOMEM;
    int rc = HG_OK;
    size_t n = 0;
    const char *k;
    json_t *hv;
    json_object_foreach(v, k, hv)
    {
        const char *val = json_string_value(hv);
        if (!http_token(k) || !val || !http_field_value(val) || !strncasecmp(k, "ce-", 3) ||
            !strncasecmp(k, "webhook-", 8) || !strcasecmp(k, "Content-Type") ||
            !strcasecmp(k, "Content-Length") || !strcasecmp(k, "Host")) {
            rc = cfgp_fail(x, p,
                           "header \"%s\": a name without ':' or spaces and a one-line value "
                           "(Host, Content-Type, Content-Length, ce-* and webhook-* are set "
                           "by hookgate); a name is an HTTP token (letters, digits and "
                           "!#$%%&'*+-.^_`|~) and a value has no control character but tab",
                           k);
            continue;
        }
        /* libcurl drops "Name: " with nothing after the colon, and
         * sends "Name;" as the header with an empty value */
        if (asprintf(&s->headers[n], val[strspn(val, " \t")] ? "%s: %s" : "%s;", k, val) < 0) {
            s->headers[n] = NULL;
            return HG_ENOMEM;
        }
        n++;
    }
    return rc;
}

/* parse_sign - "sign": {"secret": ...} of an http sink; the secret is read
 * in the second pass (sign_secret). */
static int parse_sign(struct ctx *x, const char *path, json_t *sign)
{
    static const char *const sk[] = {"secret", NULL};
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.sign", path);
    int rc = cfgp_check_keys(x, p, sign, sk, NULL);
    if (!json_is_object(sign))
        return rc;
    json_t *v = json_object_get(sign, "secret");
    cfgp_pathf(p, sizeof(p), "%s.sign.secret", path);
    if (!v)
        return cfgp_worse(rc,
                          cfgp_absent(x, p, "is required: a Standard Webhooks secret (whsec_...)"));
    return cfgp_worse(rc, cfgp_check_secret(x, p, v));
}

/* sign_secret - the second pass of parse_sign: read the secret, which must
 * be whsec_ + base64 (checked here, not when the sink starts: `check` must
 * catch it). */
static int sign_secret(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    json_t *sign = json_object_get(o, "sign");
    if (!sign)
        return HG_OK;
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.sign.secret", path);
    int rc = cfgp_resolve_secret(x, p, json_object_get(sign, "secret"), &s->sign);
    if (rc)
        return rc;
    unsigned char key[512];
    size_t klen = 0, off = s->sign.len > 6 && !memcmp(s->sign.data, "whsec_", 6) ? 6 : 0;
    int bad =
        b64_decode((const char *)s->sign.data + off, s->sign.len - off, key, sizeof(key), &klen) ||
        klen == 0;
    OPENSSL_cleanse(key, sizeof(key));
    if (bad)
        return cfgp_fail(x, p, "must be a Standard Webhooks secret: whsec_ + base64");
    return HG_OK;
}

/* get_url - "url" of an http sink: http:// or https://, no spaces. */
static int get_url(struct ctx *x, const char *p, json_t *v, struct cfg_sink *s)
{
    int rc = cfgp_get_string(x, p, v, &s->url);
    if (rc)
        return rc;
    const char *host = !strncmp(s->url, "http://", 7)    ? s->url + 7
                       : !strncmp(s->url, "https://", 8) ? s->url + 8
                                                         : NULL;
    if (!host || !*host || *host == '/' || strpbrk(s->url, " \t\r\n") || strlen(s->url) > 2048)
        return cfgp_fail(x, p, "must be an http:// or https:// URL (no spaces)");
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
        rc = cfgp_absent(x, p, "is required: e.g. \"https://orders.internal/hooks\"");
    else
        rc = get_url(x, p, v, s);
    cfgp_pathf(p, sizeof(p), "%s.concurrency", path);
    if ((v = json_object_get(o, "concurrency")))
        rc = cfgp_worse(rc, cfgp_get_uint(x, p, v, 1, 256, &s->concurrency));
    rc = cfgp_worse(rc, get_timeout(x, path, o, s, 3600000, "1h"));
    cfgp_pathf(p, sizeof(p), "%s.format", path);
    if ((v = json_object_get(o, "format"))) {
        const char *f = json_string_value(v);
        if (!f || (strcmp(f, "structured") && strcmp(f, "binary")))
            rc = cfgp_worse(rc, cfgp_fail(x, p, "must be \"structured\" or \"binary\""));
        else
            s->binary = !strcmp(f, "binary");
    }
    cfgp_pathf(p, sizeof(p), "%s.headers", path);
    if ((v = json_object_get(o, "headers")))
        rc = cfgp_worse(rc, parse_headers(x, p, v, s));
    cfgp_pathf(p, sizeof(p), "%s.unix_socket", path);
    if ((v = json_object_get(o, "unix_socket")))
        rc = cfgp_worse(rc, get_socket_path(x, p, v, &s->path));
    rc = cfgp_worse(rc, get_tls(x, path, o, s));
    if ((v = json_object_get(o, "sign")))
        rc = cfgp_worse(rc, parse_sign(x, path, v));
    return rc;
}

/* check_subject - a jetstream subject template (s->subject) is usable. */
static int check_subject(struct ctx *x, const char *p, const char *subject)
{
    int ctl = 0;
    for (const char *q = subject; *q; q++)
        ctl |= (unsigned char)*q <= 0x20 || *q == 0x7f;
    if (!*subject || ctl || strpbrk(subject, "*>") || subject[0] == '.' || strstr(subject, "..") ||
        subject[strlen(subject) - 1] == '.' || strlen(subject) > 200)
        return cfgp_fail(x, p,
                         "a subject of dot-separated tokens without spaces, '*' or '>' (the "
                         "placeholders {route}, {type} and {id} are filled per event); at most "
                         "200 bytes, no control characters");
    for (const char *q = strchr(subject, '{'); q; q = strchr(q + 1, '{'))
        if (strncmp(q, "{route}", 7) && strncmp(q, "{type}", 6) && strncmp(q, "{id}", 4))
            return cfgp_fail(x, p, "unknown placeholder (known: {route} {type} {id})");
    for (const char *q = strchr(subject, '{'); q; q = strchr(q + 1, '{')) {
        size_t n = q[1] == 'r' ? 7 : q[1] == 't' ? 6 : 4;
        /* whole tokens after a fixed first one: the stream's subjects are
         * that prefix + ">", never ">" alone or a token half-filled */
        if (q == subject || q[-1] != '.' || (q[n] && q[n] != '.'))
            return cfgp_fail(x, p,
                             "placeholders are whole tokens after a fixed first token, e.g. "
                             "\"hooks.{route}.{type}\"");
    }
    return HG_OK;
}

static int get_subject(struct ctx *x, const char *p, json_t *v, struct cfg_sink *s)
{
    int rc = cfgp_get_string(x, p, v, &s->subject);
    return rc ? rc : check_subject(x, p, s->subject);
}

/* parse_stream - "stream": {"name", "create", "replicas", "duplicate_window"}
 * of a jetstream sink. */
static int parse_stream(struct ctx *x, const char *path, json_t *st, struct cfg_sink *s)
{
    static const char *const sk[] = {"name", "create", "replicas", "duplicate_window", NULL};
    char p[256];
    json_t *v;
    cfgp_pathf(p, sizeof(p), "%s.stream", path);
    int rc = cfgp_check_keys(x, p, st, sk, NULL);
    if (!json_is_object(st))
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.stream.name", path);
    if (!(v = json_object_get(st, "name"))) {
        rc = cfgp_worse(rc, cfgp_absent(x, p, "is required"));
    } else {
        int nrc = cfgp_get_string(x, p, v, &s->stream);
        int sctl = 0;
        for (const char *q = s->stream; !nrc && *q; q++)
            sctl |= (unsigned char)*q <= 0x20 || *q == 0x7f;
        if (!nrc && (sctl || strpbrk(s->stream, ".*>/\\") || strlen(s->stream) > 64))
            nrc = cfgp_fail(x, p,
                            "a stream name has no spaces, '.', '*', '>', '/' or '\\' (1-64 "
                            "bytes, no control characters)");
        rc = cfgp_worse(rc, nrc);
    }
    cfgp_pathf(p, sizeof(p), "%s.stream.create", path);
    if ((v = json_object_get(st, "create")))
        rc = cfgp_worse(rc, cfgp_get_bool(x, p, v, &s->stream_create));
    cfgp_pathf(p, sizeof(p), "%s.stream.replicas", path);
    if ((v = json_object_get(st, "replicas")))
        rc = cfgp_worse(rc, cfgp_get_uint(x, p, v, 1, 5, &s->replicas));
    cfgp_pathf(p, sizeof(p), "%s.stream.duplicate_window", path);
    if ((v = json_object_get(st, "duplicate_window")))
        rc = cfgp_worse(rc, cfgp_get_duration_in(x, p, v, 1000, 7 * 86400000ULL,
                                                 "must be between 1s and 7d", &s->dup_window_ms));
    return rc;
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
        rc = cfgp_absent(x, p, "is required: [\"nats://10.0.0.5:4222\", ...]");
    else
        rc = cfgp_nats_servers(x, p, v, &s->servers);
    cfgp_pathf(p, sizeof(p), "%s.subject", path);
    if (!(v = json_object_get(o, "subject")))
        rc = cfgp_worse(rc, cfgp_absent(x, p, "is required: e.g. \"hooks.{route}.{type}\""));
    else
        rc = cfgp_worse(rc, get_subject(x, p, v, s));
    cfgp_pathf(p, sizeof(p), "%s.stream", path);
    if (!(v = json_object_get(o, "stream")))
        rc = cfgp_worse(rc,
                        cfgp_absent(x, p, "is required: {\"name\": \"HOOKS\", \"create\": true}"));
    else
        rc = cfgp_worse(rc, parse_stream(x, path, v, s));
    cfgp_pathf(p, sizeof(p), "%s.window", path);
    if ((v = json_object_get(o, "window")))
        rc = cfgp_worse(rc, cfgp_get_uint(x, p, v, 1, 4096, &s->concurrency));
    rc = cfgp_worse(rc, get_timeout(x, path, o, s, 3600000, "1h"));
    cfgp_pathf(p, sizeof(p), "%s.creds", path);
    if ((v = json_object_get(o, "creds")))
        rc = cfgp_worse(rc, cfgp_get_string(x, p, v, &s->creds));
    return cfgp_worse(rc, get_tls(x, path, o, s));
}

/* creds_file - the second pass of "creds": readable by us, not by others
 * (it holds an NKey seed). */
static int creds_file(struct ctx *x, const char *path, const struct cfg_sink *s)
{
    if (!s->creds)
        return HG_OK;
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.creds", path);
    const char *f = !strncmp(s->creds, "file:", 5) ? s->creds + 5 : s->creds;
    struct stat sb;
    if (access(f, R_OK) || stat(f, &sb))
        return cfgp_fail(x, p, "cannot read the credentials file");
    if (sb.st_mode & S_IROTH)
        return cfgp_fail(x, p, "the credentials file is readable by other users; chmod o-r it");
    return HG_OK;
}

/* sink_kind - a type: its name, its keys (besides none other), its parser
 * (NULL: nothing but "type" and "types"). */
struct sink_kind {
    const char *name;
    const char *const *keys;
    int (*parse)(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s);
};

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
/* every key of some type: for a sink whose type is missing or unknown */
static const char *const any_keys[] = {
    "type", "types",       "command", "concurrency", "timeout", "env",   "path",
    "ack",  "ack_timeout", "url",     "headers",     "format",  "tls",   "unix_socket",
    "sign", "servers",     "subject", "stream",      "window",  "creds", NULL};
static const char *const type_names[] = {"stdout", "exec",      "unix", "pipe",
                                         "http",   "jetstream", NULL};
static const struct sink_kind kinds[] = {
    {"stdout", stdout_keys, NULL},   {"exec", exec_keys, parse_exec},
    {"unix", unix_keys, parse_unix}, {"pipe", pipe_keys, parse_pipe},
    {"http", http_keys, parse_http}, {"jetstream", js_keys, parse_jetstream},
};

/* get_kind - the kind "type" names, or NULL after reporting why not;
 * keys are checked first, against the kind's or (without one) all. */
static const struct sink_kind *get_kind(struct ctx *x, const char *path, json_t *o, int *rc)
{
    char p[256];
    json_t *t = json_object_get(o, "type");
    const struct sink_kind *k = NULL;
    for (size_t i = 0; json_is_string(t) && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (!strcmp(json_string_value(t), kinds[i].name))
            k = &kinds[i];
    *rc = cfgp_check_keys(x, path, o, k ? k->keys : any_keys, NULL);
    cfgp_pathf(p, sizeof(p), "%s.type", path);
    if (!t) {
        *rc = cfgp_worse(*rc, cfgp_absent(x, p, TYPE_REQUIRED));
    } else if (!json_is_string(t)) {
        *rc = cfgp_worse(*rc, cfgp_fail(x, p, TYPE_REQUIRED));
    } else if (!k) {
        const char *near = cfgp_suggest(json_string_value(t), type_names);
        *rc = cfgp_worse(*rc, cfgp_fail(x, p, "unknown sink type \"%s\"%s%s%s",
                                        json_string_value(t), near ? " (did you mean \"" : "",
                                        near ? near : "", near ? "\"?)" : ""));
    }
    return k;
}

int config_sink_parse(struct ctx *x, const char *path, const char *name, json_t *o,
                      struct cfg_sink *s)
{
    char p[256];
    s->type = SINK_STDOUT;
    if (!(s->name = strdup(name)))
        return HG_ENOMEM;
    if (!json_is_object(o))
        return cfgp_fail(x, path, "must be an object");
    int rc;
    const struct sink_kind *k = get_kind(x, path, o, &rc);
    if (!*name || strlen(name) > 64 || strspn(name, NAME_CHARS) != strlen(name))
        rc = cfgp_worse(rc, cfgp_fail(x, path, "sink names are 1-64 of [A-Za-z0-9_.-]"));
    if (k && k->parse)
        rc = cfgp_worse(rc, k->parse(x, path, o, s));
    json_t *types = json_object_get(o, "types");
    if (!types)
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.types", path);
    if (!json_is_array(types) || json_array_size(types) == 0)
        return cfgp_worse(rc, cfgp_fail(x, p, "must be a non-empty array of glob patterns"));
    return cfgp_worse(rc, cfgp_get_strings(x, p, types, &s->types));
}

int config_sink_files(struct ctx *x, const char *path, json_t *o, struct cfg_sink *s)
{
    char p[256];
    switch (s->type) {
    case SINK_EXEC:
        cfgp_pathf(p, sizeof(p), "%s.command", path);
        if (!strchr(s->command[0], '/') && !getenv("PATH"))
            return cfgp_fail(x, p, "command[0] must be a path when PATH is unset");
        return HG_OK;
    case SINK_HTTP:
        return cfgp_worse(tls_files(x, path, s), sign_secret(x, path, o, s));
    case SINK_JETSTREAM:
        return cfgp_worse(creds_file(x, path, s), tls_files(x, path, s));
    default:
        return HG_OK;
    }
}
