/*
 * config_route.c - one route of the config: path, profile, secrets, access
 * (allow list, token, allow_unsigned), sinks; and the lookups http.c makes.
 *
 * Access rules enforced here, at load, so a running gateway never has a
 * route that anyone can post to by accident:
 *  - an unsigned profile needs "allow_unsigned": true and an allow list or a
 *    token (contract section 5); it is logged as a warning at start;
 *  - "allow_unsigned" on a signed profile is an error (it would do nothing);
 *  - tokens are kept only as SHA-256 digests and compared in constant time.
 */
#include "config.h"
#include "config_int.h"
#include "err.h"
#include "log.h"
#include "profile.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int parse_cidr(const char *s, struct cfg_cidr *c)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    unsigned max;
    struct in_addr a4;
    memset(c->addr, 0, sizeof(c->addr));
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        c->addr[10] = c->addr[11] = 0xff;
        memcpy(c->addr + 12, &a4, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
        max = 128;
    } else {
        return -1;
    }
    unsigned bits = max;
    if (slash) {
        /* digits only, no sign, space or leading zero: "/8", never "/08" */
        const char *d = slash + 1;
        if (!*d || strspn(d, "0123456789") != strlen(d) || strlen(d) > 3 || (d[0] == '0' && d[1]))
            return -1;
        unsigned long b = strtoul(d, NULL, 10);
        if (b > max)
            return -1;
        bits = (unsigned)b;
    }
    c->bits = bits + (128 - max);
    /* host bits must be zero: "10.0.0.1/8" is almost always a typo */
    for (unsigned i = c->bits; i < 128; i++)
        if (c->addr[i / 8] & (0x80 >> (i % 8)))
            return -2;
    return 0;
}

static int parse_allow(struct ctx *x, const char *path, json_t *v, struct cfg_route *r)
{
    if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > 256)
        return cfgp_fail(x, path, "must be a list of 1 to 256 CIDRs (\"10.0.0.0/8\", \"::1/128\")");
    if (!(r->allow = calloc(json_array_size(v), sizeof(*r->allow))))
        return HG_ENOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s[%zu]", path, i);
        int rc = json_is_string(e) ? parse_cidr(json_string_value(e), &r->allow[i]) : -1;
        if (rc == -2)
            return cfgp_fail(x, p, "host bits set after the prefix length");
        if (rc)
            return cfgp_fail(x, p, "must be an IPv4 or IPv6 address or CIDR");
        r->nallow = i + 1;
    }
    return HG_OK;
}

/* parse_shared - "shared_dedupe": {"jetstream_kv": {"bucket": B, "servers": [...]}};
 * servers default to those of the route's first jetstream sink. */
static int parse_shared(struct ctx *x, const char *path, json_t *o, struct config *c,
                        struct cfg_route *r)
{
    static const char *const sk[] = {"jetstream_kv", NULL};
    static const char *const kk[] = {"bucket", "servers", NULL};
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.shared_dedupe", path);
    int rc = cfgp_check_keys(x, p, o, sk, NULL);
    if (rc)
        return rc;
    json_t *kv = json_object_get(o, "jetstream_kv");
    cfgp_pathf(p, sizeof(p), "%s.shared_dedupe.jetstream_kv", path);
    if (!kv)
        return cfgp_fail(x, p, "is required: {\"bucket\": \"hookgate-seen\"}");
    if ((rc = cfgp_check_keys(x, p, kv, kk, NULL)))
        return rc;
    json_t *v = json_object_get(kv, "bucket");
    cfgp_pathf(p, sizeof(p), "%s.shared_dedupe.jetstream_kv.bucket", path);
    if (!v)
        return cfgp_fail(x, p, "is required");
    if ((rc = cfgp_get_string(x, p, v, &r->shd_bucket)))
        return rc;
    const char *b = r->shd_bucket;
    if (!*b || strlen(b) > 64 ||
        strspn(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(b))
        return cfgp_fail(x, p, "a bucket name is 1-64 of [A-Za-z0-9_-]");
    r->shd_ttl_ms = c->dedupe_window_ms;
    cfgp_pathf(p, sizeof(p), "%s.shared_dedupe.jetstream_kv.servers", path);
    if ((v = json_object_get(kv, "servers"))) {
        if ((rc = cfgp_nats_servers(x, p, v, &r->shd_servers)))
            return rc;
        return HG_OK;
    }
    for (size_t k = 0; k < r->nsinks; k++) {
        const struct cfg_sink *s = &c->sinks[r->sinks[k]];
        if (s->type != SINK_JETSTREAM)
            continue;
        size_t n = 0;
        while (s->servers[n])
            n++;
        if (!(r->shd_servers = calloc(n + 1, sizeof(char *))))
            return HG_ENOMEM;
        for (size_t i = 0; i < n; i++)
            if (!(r->shd_servers[i] = strdup(s->servers[i])))
                return HG_ENOMEM;
        return HG_OK;
    }
    return cfgp_fail(x, p, "is required when the route has no jetstream sink");
}

int config_parse_route(struct ctx *x, const char *path, json_t *o, struct config *c,
                       struct cfg_route *r)
{
    static const char *const known[] = {"path",  "name",      "profile",       "secrets",
                                        "sinks", "tolerance", "allow",         "allow_unsigned",
                                        "token", "type",      "shared_dedupe", NULL};
    char p[256];
    int rc = cfgp_check_keys(x, path, o, known, NULL);
    if (rc)
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.path", path);
    json_t *v = json_object_get(o, "path");
    if (!v)
        return cfgp_fail(x, p, "is required");
    if ((rc = cfgp_get_string(x, p, v, &r->path)))
        return rc;
    if (r->path[0] != '/' || strlen(r->path) > 256)
        return cfgp_fail(x, p, "must start with '/' (at most 256 bytes)");
    if (!strcmp(r->path, "/healthz") || !strcmp(r->path, "/metrics") || !strcmp(r->path, "/readyz"))
        return cfgp_fail(x, p, "%s is reserved", r->path);

    cfgp_pathf(p, sizeof(p), "%s.name", path);
    if ((v = json_object_get(o, "name"))) {
        if ((rc = cfgp_get_string(x, p, v, &r->name)))
            return rc;
    } else {
        const char *seg = strrchr(r->path, '/') + 1;
        r->name = strdup(*seg ? seg : "root");
        if (!r->name)
            return HG_ENOMEM;
    }
    if (strlen(r->name) > 64 || strspn(r->name, NAME_CHARS) != strlen(r->name))
        return cfgp_fail(x, p,
                         "route names are 1-64 of [A-Za-z0-9_.-] (the default is the last path "
                         "segment; set \"name\")");

    cfgp_pathf(p, sizeof(p), "%s.profile", path);
    v = json_object_get(o, "profile");
    if (!v)
        return cfgp_fail(x, p, "is required (one of: %s)", profile_names(c->profiles));
    if (!json_is_string(v))
        return cfgp_fail(x, p, "must be a profile name (one of: %s)", profile_names(c->profiles));
    if (!(r->profile = profile_find(c->profiles, json_string_value(v))))
        return cfgp_fail(x, p, "unknown profile \"%s\" (known: %s)", json_string_value(v),
                         profile_names(c->profiles));
    const struct profile *pr = r->profile;

    cfgp_pathf(p, sizeof(p), "%s.secrets", path);
    v = json_object_get(o, "secrets");
    if (pr->is_unsigned && v)
        return cfgp_fail(x, p, "profile %s is unsigned: it takes no secrets (use \"token\")",
                         pr->name);
    if (!pr->is_unsigned && (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > 16))
        return cfgp_fail(x, p, "must be an array of 1 to 16 secrets");
    size_t i;
    json_t *e;
    if (v) {
        if (!(r->secrets = calloc(json_array_size(v), sizeof(struct secret))))
            return HG_ENOMEM;
        json_array_foreach(v, i, e)
        {
            cfgp_pathf(p, sizeof(p), "%s.secrets[%zu]", path, i);
            r->nsecrets = i + 1;
            if ((rc = cfgp_resolve_secret(x, p, e, &r->secrets[i])))
                return rc;
        }
    }

    r->tolerance_s = pr->tolerance_s ? pr->tolerance_s : 300;
    if ((v = json_object_get(o, "tolerance"))) {
        uint64_t ms;
        cfgp_pathf(p, sizeof(p), "%s.tolerance", path);
        if ((rc = cfgp_get_duration(x, p, v, &ms)))
            return rc;
        if (ms < 1000 || ms > 3650ULL * 86400000ULL)
            return cfgp_fail(x, p, "must be between 1s and 3650d");
        r->tolerance_s = (long)(ms / 1000);
        if (ms > 86400000ULL)
            log_msg(LOG_WARN, "route tolerance over 1d weakens replay protection", "{s:s,s:s}",
                    "file", x->name, "key", p);
    }

    cfgp_pathf(p, sizeof(p), "%s.allow", path);
    if ((v = json_object_get(o, "allow")) && (rc = parse_allow(x, p, v, r)))
        return rc;
    cfgp_pathf(p, sizeof(p), "%s.token", path);
    if ((v = json_object_get(o, "token"))) {
        struct secret t = {0};
        rc = cfgp_resolve_secret(x, p, v, &t);
        if (rc) {
            if (t.data)
                OPENSSL_cleanse(t.data, t.len);
            free(t.data);
            return rc;
        }
        if (t.len > 256 || memchr(t.data, '/', t.len) || memchr(t.data, '\0', t.len))
            rc = cfgp_fail(x, p, "a token is 1-256 bytes without '/' or NUL");
        else {
            verify_token_digest((const char *)t.data, t.len, r->token_sha);
            r->has_token = 1;
        }
        OPENSSL_cleanse(t.data, t.len);
        free(t.data);
        if (rc)
            return rc;
    }
    if (r->has_token && pr->fmt == PROF_FMT_TOKEN)
        return cfgp_fail(x, p, "profile %s takes its tokens from \"secrets\"", pr->name);
    cfgp_pathf(p, sizeof(p), "%s.allow_unsigned", path);
    if ((v = json_object_get(o, "allow_unsigned"))) {
        if (!json_is_boolean(v))
            return cfgp_fail(x, p, "must be true or false");
        r->allow_unsigned = json_is_true(v);
    }
    if (pr->is_unsigned) {
        if (!r->allow_unsigned)
            return cfgp_fail(x, p,
                             "profile %s cannot sign: set \"allow_unsigned\": true and protect "
                             "the route with \"allow\" or \"token\"",
                             pr->name);
        if (!r->nallow && !r->has_token)
            return cfgp_fail(x, path, "an unsigned route needs an \"allow\" list or a \"token\"");
        for (size_t a = 0; a < r->nallow && !r->has_token; a++)
            if (r->allow[a].bits == 0 || r->allow[a].bits == 96)
                return cfgp_fail(x, path,
                                 "an unsigned route protected only by \"allow\" cannot allow "
                                 "every address (/0); narrow it or add a \"token\"");
    } else if (r->allow_unsigned) {
        return cfgp_fail(x, p, "profile %s is signed: allow_unsigned does not apply", pr->name);
    }
    cfgp_pathf(p, sizeof(p), "%s.type", path);
    if ((v = json_object_get(o, "type"))) {
        if ((rc = cfgp_get_string(x, p, v, &r->type)))
            return rc;
        if (!*r->type || strlen(r->type) > 128)
            return cfgp_fail(x, p, "must be a type name (1-128 bytes)");
    }
    r->takes_token = r->has_token || pr->fmt == PROF_FMT_TOKEN;
    for (size_t k = 0; pr->fmt == PROF_FMT_TOKEN && k < r->nsecrets; k++) {
        const struct secret *t = &r->secrets[k];
        if (t->len > 256 ||
            (t->len && (memchr(t->data, '/', t->len) || memchr(t->data, '\0', t->len) ||
                        memchr(t->data, ' ', t->len)))) {
            cfgp_pathf(p, sizeof(p), "%s.secrets[%zu]", path, k);
            return cfgp_fail(x, p, "a token is 1-256 bytes without '/', space or NUL");
        }
    }

    cfgp_pathf(p, sizeof(p), "%s.sinks", path);
    v = json_object_get(o, "sinks");
    if (!json_is_array(v) || json_array_size(v) == 0)
        return cfgp_fail(x, p, "must be a non-empty array of sink names");
    if (!(r->sinks = calloc(json_array_size(v), sizeof(size_t))))
        return HG_ENOMEM;
    json_array_foreach(v, i, e)
    {
        cfgp_pathf(p, sizeof(p), "%s.sinks[%zu]", path, i);
        if (!json_is_string(e))
            return cfgp_fail(x, p, "must be a sink name");
        size_t k;
        for (k = 0; k < c->nsinks; k++)
            if (strcmp(c->sinks[k].name, json_string_value(e)) == 0)
                break;
        if (k == c->nsinks)
            return cfgp_fail(x, p, "no sink named \"%s\" in $.sinks", json_string_value(e));
        for (size_t j = 0; j < r->nsinks; j++)
            if (r->sinks[j] == k)
                return cfgp_fail(x, p, "sink \"%s\" listed twice", json_string_value(e));
        r->sinks[r->nsinks++] = k;
    }
    if ((v = json_object_get(o, "shared_dedupe")) && (rc = parse_shared(x, path, v, c, r)))
        return rc;
    const char *why = NULL;
    if ((rc = verify_new(pr, r->secrets, r->nsecrets, &r->verifier, &why))) {
        cfgp_pathf(p, sizeof(p), "%s.secrets", path);
        return rc == HG_ENOMEM ? rc : cfgp_fail(x, p, "%s (profile %s)", why, pr->name);
    }
    if (pr->is_unsigned)
        log_msg(LOG_WARN, "route accepts unsigned requests", "{s:s,s:s,s:I,s:b}", "route", r->path,
                "profile", pr->name, "allow", (json_int_t)r->nallow, "token", r->has_token);
    return HG_OK;
}

void config_route_free(struct cfg_route *r)
{
    free(r->path);
    free(r->name);
    for (size_t k = 0; k < r->nsecrets; k++) {
        if (r->secrets[k].data)
            OPENSSL_cleanse(r->secrets[k].data, r->secrets[k].len);
        free(r->secrets[k].data);
    }
    free(r->secrets);
    free(r->sinks);
    free(r->allow);
    free(r->type);
    free(r->shd_bucket);
    for (char **u = r->shd_servers; u && *u; u++)
        free(*u);
    free(r->shd_servers);
    OPENSSL_cleanse(r->token_sha, sizeof(r->token_sha));
    verify_free(r->verifier);
}

const struct cfg_route *config_route_find(const struct config *c, const char *path)
{
    for (size_t i = 0; i < c->nroutes; i++)
        if (strcmp(c->routes[i].path, path) == 0)
            return &c->routes[i];
    return NULL;
}

/* token_route - the token-taking route whose path is a prefix of url
 * followed by '/', or NULL. */
static const struct cfg_route *token_route(const struct config *c, const char *url)
{
    for (size_t i = 0; i < c->nroutes; i++) {
        const struct cfg_route *t = &c->routes[i];
        size_t n = strlen(t->path);
        if (t->takes_token && !strncmp(url, t->path, n) && url[n] == '/')
            return t;
    }
    return NULL;
}

const struct cfg_route *config_route_match(const struct config *c, const char *url,
                                           const char **token)
{
    *token = NULL;
    const struct cfg_route *r = config_route_find(c, url);
    if (r)
        return r;
    /* ROUTE/TOKEN only: one non-empty segment, no further '/' */
    const struct cfg_route *t = token_route(c, url);
    if (!t)
        return NULL;
    const char *seg = url + strlen(t->path) + 1;
    if (!*seg || strchr(seg, '/'))
        return NULL;
    *token = seg;
    return t;
}

static int token_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '+' || ch == '=' || ch == '%';
}

const char *config_route_redact(const struct config *c, const char *url, char *buf, size_t cap)
{
    const struct cfg_route *t = token_route(c, url);
    if (t)
        return t->path;
    if (config_route_find(c, url))
        return url;
    size_t o = 0;
    for (const char *p = url; *p && *p != '?' && o + 4 < cap;) {
        size_t n = strcspn(p, "/?");
        size_t k = 0;
        while (k < n && token_char(p[k]))
            k++;
        if (n >= 16 && k == n) { /* opaque enough to be a token */
            memcpy(buf + o, "...", 3);
            o += 3;
        } else {
            size_t m = n < cap - o - 4 ? n : cap - o - 4;
            memcpy(buf + o, p, m);
            o += m;
        }
        p += n;
        if (*p == '/' && o + 4 < cap) {
            buf[o++] = '/';
            p++;
        }
    }
    if (strchr(url, '?') && o + 4 < cap) {
        memcpy(buf + o, "?...", 4);
        o += 4;
    }
    buf[o < cap ? o : cap - 1] = '\0';
    return buf;
}

int config_route_allows(const struct cfg_route *r, const struct sockaddr *sa)
{
    if (!r->nallow)
        return 1;
    unsigned char a[16] = {0};
    if (sa && sa->sa_family == AF_INET) {
        a[10] = a[11] = 0xff;
        memcpy(a + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    } else {
        return 0;
    }
    for (size_t i = 0; i < r->nallow; i++) {
        const struct cfg_cidr *c = &r->allow[i];
        unsigned full = c->bits / 8, rest = c->bits % 8;
        if (memcmp(a, c->addr, full))
            continue;
        if (rest && ((a[full] ^ c->addr[full]) & (0xff00 >> rest) & 0xff))
            continue;
        return 1;
    }
    return 0;
}
