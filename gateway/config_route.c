/*
 * config_route.c - one route of the config: path, profile, secrets, access
 * (allow list, token, allow_unsigned), sinks; and the lookups http.c makes.
 *
 * Two passes (config_int.h).  config_route_parse reads the route's JSON
 * (keys, path, name, tolerance, allow, the form of secrets and token,
 * allow_unsigned, type, sinks, shared_dedupe) and touches nothing else.
 * config_route_resolve, on a route the first pass found well-formed, finds
 * its profile (profile_dirs are read by then), applies the rules that
 * depend on it, reads its secrets and token and builds its verifier.
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
#include "mask.h"
#include "profile.h"
#include "secret.h"

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

/* parse_allow - "allow": every entry checked; the good ones kept. */
static int parse_allow(struct ctx *x, const char *path, json_t *v, struct cfg_route *r)
{
    if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > 256)
        return cfgp_fail(x, path, "must be a list of 1 to 256 CIDRs (\"10.0.0.0/8\", \"::1/128\")");
    if (!(r->allow = calloc(json_array_size(v), sizeof(*r->allow))))
        return HG_ENOMEM;
    int rc = HG_OK;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s[%zu]", path, i);
        int crc = json_is_string(e) ? parse_cidr(json_string_value(e), &r->allow[r->nallow]) : -1;
        if (crc == -2)
            rc = cfgp_fail(x, p, "host bits set after the prefix length");
        else if (crc)
            rc = cfgp_fail(x, p, "must be an IPv4 or IPv6 address or CIDR");
        else
            r->nallow++;
    }
    return rc;
}

/* shared_servers - the NATS servers of shared dedupe by default: those of
 * the route's first jetstream sink. */
static int shared_servers(struct ctx *x, const char *p, const struct config *c, struct cfg_route *r)
{
    for (size_t k = 0; k < r->nsinks; k++) {
        const struct cfg_sink *s = &c->sinks[r->sinks[k]];
        if (s->type != SINK_JETSTREAM)
            continue;
        if (!s->servers) /* that sink is broken, and says so */
            return HG_ECONFIG;
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

/* parse_shared - "shared_dedupe": {"jetstream_kv": {"bucket": B, "servers": [...]}};
 * servers default to those of the route's first jetstream sink, looked for
 * only when the route's sinks are all known (sinks_ok). */
static int parse_shared(struct ctx *x, const char *path, json_t *o, struct config *c,
                        struct cfg_route *r, int sinks_ok)
{
    static const char *const sk[] = {"jetstream_kv", NULL};
    static const char *const kk[] = {"bucket", "servers", NULL};
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.shared_dedupe", path);
    int rc = cfgp_check_keys(x, p, o, sk, NULL);
    if (!json_is_object(o))
        return rc;
    json_t *kv = json_object_get(o, "jetstream_kv");
    cfgp_pathf(p, sizeof(p), "%s.shared_dedupe.jetstream_kv", path);
    if (!kv)
        return cfgp_worse(rc, cfgp_absent(x, p, "is required: {\"bucket\": \"hookgate-seen\"}"));
    rc = cfgp_worse(rc, cfgp_check_keys(x, p, kv, kk, NULL));
    if (!json_is_object(kv))
        return rc;
    json_t *v = json_object_get(kv, "bucket");
    cfgp_pathf(p, sizeof(p), "%s.shared_dedupe.jetstream_kv.bucket", path);
    if (!v) {
        rc = cfgp_worse(rc, cfgp_absent(x, p, "is required"));
    } else {
        int brc = cfgp_get_string(x, p, v, &r->shd_bucket);
        const char *b = r->shd_bucket;
        if (!brc &&
            (strlen(b) > 64 || strspn(b, "abcdefghijklmnopqrstuvwxyz"
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(b)))
            brc = cfgp_fail(x, p, "a bucket name is 1-64 of [A-Za-z0-9_-]");
        rc = cfgp_worse(rc, brc);
    }
    r->shd_ttl_ms = c->dedupe_window_ms;
    cfgp_pathf(p, sizeof(p), "%s.shared_dedupe.jetstream_kv.servers", path);
    if ((v = json_object_get(kv, "servers")))
        return cfgp_worse(rc, cfgp_nats_servers(x, p, v, &r->shd_servers));
    if (!sinks_ok || !c->sinks)
        return rc; /* which sinks the route has is not known */
    return cfgp_worse(rc, shared_servers(x, p, c, r));
}

/* parse_path_name - "path" and "name" (by default the last path segment).
 * A value that is wrong is not kept, so that no other check looks at it. */
static int parse_path_name(struct ctx *x, const char *path, json_t *o, struct cfg_route *r)
{
    char p[256];
    int rc;
    cfgp_pathf(p, sizeof(p), "%s.path", path);
    json_t *v = json_object_get(o, "path");
    if (!v) {
        rc = cfgp_absent(x, p, "is required");
    } else if (!(rc = cfgp_get_string(x, p, v, &r->path))) {
        if (r->path[0] != '/' || strlen(r->path) > 256)
            rc = cfgp_fail(x, p, "must start with '/' (at most 256 bytes)");
        else if (!strcmp(r->path, "/healthz") || !strcmp(r->path, "/metrics") ||
                 !strcmp(r->path, "/readyz"))
            rc = cfgp_fail(x, p, "%s is reserved", r->path);
        if (rc) {
            free(r->path);
            r->path = NULL;
        }
    }
    cfgp_pathf(p, sizeof(p), "%s.name", path);
    if ((v = json_object_get(o, "name"))) {
        int nrc = cfgp_get_string(x, p, v, &r->name);
        if (nrc)
            return cfgp_worse(rc, nrc);
    } else if (r->path) {
        const char *seg = strrchr(r->path, '/') + 1;
        if (!(r->name = strdup(*seg ? seg : "root")))
            return HG_ENOMEM;
    } else {
        return rc;
    }
    if (strlen(r->name) > 64 || strspn(r->name, NAME_CHARS) != strlen(r->name)) {
        free(r->name);
        r->name = NULL;
        rc = cfgp_worse(rc, cfgp_fail(x, p,
                                      "route names are 1-64 of [A-Za-z0-9_.-] (the default is the "
                                      "last path segment; set \"name\")"));
    }
    return rc;
}

/* check_profile - "profile" is a name.  Whether one of that name exists is
 * known only once profile_dirs are read (config_route_resolve); a message
 * here lists the built-in ones. */
static int check_profile(struct ctx *x, const char *path, json_t *o, const struct config *c)
{
    json_t *v = json_object_get(o, "profile");
    if (json_is_string(v))
        return HG_OK;
    char p[256], names[4200] = "";
    cfgp_pathf(p, sizeof(p), "%s.profile", path);
    struct profile_set *builtin = NULL;
    char perr[256];
    if (profile_set_load(NULL, &builtin, perr, sizeof(perr)) == HG_OK)
        snprintf(names, sizeof(names), "%s%s", profile_names(builtin),
                 c->profile_dirs ? ", or a profile of $.profile_dirs" : "");
    profile_set_free(builtin);
    if (!v)
        return cfgp_absent(x, p, "is required (one of: %s)", names);
    return cfgp_fail(x, p, "must be a profile name (one of: %s)", names);
}

/* check_secrets - the form of "secrets": an array of at most 16 secrets.
 * Whether they are required, or refused, depends on the profile
 * (resolve_secrets). */
static int check_secrets(struct ctx *x, const char *path, json_t *o)
{
    char p[256];
    json_t *v = json_object_get(o, "secrets");
    if (!v)
        return HG_OK;
    cfgp_pathf(p, sizeof(p), "%s.secrets", path);
    if (!json_is_array(v) || json_array_size(v) > 16)
        return cfgp_fail(x, p, "must be an array of 1 to 16 secrets");
    int rc = HG_OK;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        cfgp_pathf(p, sizeof(p), "%s.secrets[%zu]", path, i);
        rc = cfgp_worse(rc, cfgp_check_secret(x, p, e));
    }
    return rc;
}

/* parse_access - "tolerance", "allow", the form of "token",
 * "allow_unsigned" and "type". */
static int parse_access(struct ctx *x, const char *path, json_t *o, struct cfg_route *r)
{
    char p[256];
    int rc = HG_OK;
    json_t *v;
    cfgp_pathf(p, sizeof(p), "%s.tolerance", path);
    if ((v = json_object_get(o, "tolerance"))) {
        uint64_t ms = 0;
        int trc = cfgp_get_duration_in(x, p, v, 1000, 3650ULL * 86400000ULL,
                                       "must be between 1s and 3650d", &ms);
        if (!trc) {
            r->tolerance_s = (long)(ms / 1000);
            if (ms > 86400000ULL)
                log_msg(LOG_WARN, "route tolerance over 1d weakens replay protection", "{s:s,s:s}",
                        "file", x->name, "key", p);
        }
        rc = trc;
    }
    cfgp_pathf(p, sizeof(p), "%s.allow", path);
    if ((v = json_object_get(o, "allow")))
        rc = cfgp_worse(rc, parse_allow(x, p, v, r));
    cfgp_pathf(p, sizeof(p), "%s.token", path);
    if ((v = json_object_get(o, "token")))
        rc = cfgp_worse(rc, cfgp_check_secret(x, p, v));
    cfgp_pathf(p, sizeof(p), "%s.verify_token", path);
    if ((v = json_object_get(o, "verify_token")))
        rc = cfgp_worse(rc, cfgp_check_secret(x, p, v));
    cfgp_pathf(p, sizeof(p), "%s.public_url", path);
    if ((v = json_object_get(o, "public_url"))) {
        int urc = cfgp_get_string(x, p, v, &r->public_url);
        if (!urc &&
            (strlen(r->public_url) > 2048 ||
             (strncmp(r->public_url, "https://", 8) && strncmp(r->public_url, "http://", 7)) ||
             strpbrk(r->public_url, " \t\r\n#") ||
             strchr("/?:", strstr(r->public_url, "://")[3]))) /* no host */
            urc = cfgp_fail(x, p,
                            "must be an http:// or https:// URL (what the producer calls, "
                            "query included, no fragment)");
        rc = cfgp_worse(rc, urc);
    }
    cfgp_pathf(p, sizeof(p), "%s.allow_unsigned", path);
    if ((v = json_object_get(o, "allow_unsigned")))
        rc = cfgp_worse(rc, cfgp_get_bool(x, p, v, &r->allow_unsigned));
    cfgp_pathf(p, sizeof(p), "%s.keep_rejected_bodies", path);
    if ((v = json_object_get(o, "keep_rejected_bodies")))
        rc = cfgp_worse(rc, cfgp_get_bool(x, p, v, &r->keep_rejected_bodies));
    cfgp_pathf(p, sizeof(p), "%s.type", path);
    if ((v = json_object_get(o, "type"))) {
        int trc = cfgp_get_string(x, p, v, &r->type);
        if (!trc && strlen(r->type) > 128)
            trc = cfgp_fail(x, p, "must be a type name (1-128 bytes)");
        rc = cfgp_worse(rc, trc);
    }
    return rc;
}

/* parse_sinks - "sinks": names of $.sinks, each once.  With $.sinks
 * unusable (c->sinks NULL, reported there) the names are not looked up. */
static int parse_sinks(struct ctx *x, const char *path, json_t *o, const struct config *c,
                       struct cfg_route *r)
{
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.sinks", path);
    json_t *v = json_object_get(o, "sinks");
    if (!v)
        return cfgp_absent(x, p, "must be a non-empty array of sink names");
    if (!json_is_array(v) || json_array_size(v) == 0)
        return cfgp_fail(x, p, "must be a non-empty array of sink names");
    if (!(r->sinks = calloc(json_array_size(v), sizeof(size_t))))
        return HG_ENOMEM;
    int rc = HG_OK;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        cfgp_pathf(p, sizeof(p), "%s.sinks[%zu]", path, i);
        if (!json_is_string(e)) {
            rc = cfgp_fail(x, p, "must be a sink name");
            continue;
        }
        if (!c->sinks)
            continue;
        const char *name = json_string_value(e);
        size_t k;
        for (k = 0; k < c->nsinks; k++)
            if (c->sinks[k].name && strcmp(c->sinks[k].name, name) == 0)
                break;
        int twice = 0;
        for (size_t j = 0; j < r->nsinks; j++)
            twice |= r->sinks[j] == k;
        if (k == c->nsinks)
            rc = cfgp_fail(x, p, "no sink named \"%s\" in $.sinks", name);
        else if (twice)
            rc = cfgp_fail(x, p, "sink \"%s\" listed twice", name);
        else
            r->sinks[r->nsinks++] = k;
    }
    return rc;
}

int config_route_parse(struct ctx *x, const char *path, json_t *o, struct config *c,
                       struct cfg_route *r)
{
    static const char *const known[] = {"path",       "name",           "profile",
                                        "secrets",    "sinks",          "tolerance",
                                        "allow",      "allow_unsigned", "token",
                                        "type",       "shared_dedupe",  "verify_token",
                                        "public_url", "jwt_claims",     "keep_rejected_bodies",
                                        NULL};
    if (!json_is_object(o))
        return cfgp_fail(x, path, "must be an object");
    int rc = cfgp_check_keys(x, path, o, known, NULL);
    rc = cfgp_worse(rc, parse_path_name(x, path, o, r));
    rc = cfgp_worse(rc, check_profile(x, path, o, c));
    rc = cfgp_worse(rc, check_secrets(x, path, o));
    rc = cfgp_worse(rc, parse_access(x, path, o, r));
    int src = parse_sinks(x, path, o, c, r);
    rc = cfgp_worse(rc, src);
    json_t *v = json_object_get(o, "shared_dedupe");
    if (v && rc != HG_ENOMEM)
        rc = cfgp_worse(rc, parse_shared(x, path, v, c, r, src == HG_OK));
    return rc;
}

/* resolve_secrets - "secrets" by the profile's rules, each one read. */
static int resolve_secrets(struct ctx *x, const char *path, json_t *o, struct cfg_route *r)
{
    const struct profile *pr = r->profile;
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.secrets", path);
    json_t *v = json_object_get(o, "secrets");
    if (pr->is_unsigned && v)
        return cfgp_fail(x, p, "profile %s is unsigned: it takes no secrets (use \"token\")",
                         pr->name);
    if (!pr->is_unsigned && !json_array_size(v)) /* 0 when absent */
        return cfgp_fail(x, p, "must be an array of 1 to 16 secrets");
    if (!v)
        return HG_OK;
    if (!(r->secrets = calloc(json_array_size(v), sizeof(struct secret))))
        return HG_ENOMEM;
    int rc = HG_OK;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        cfgp_pathf(p, sizeof(p), "%s.secrets[%zu]", path, i);
        r->nsecrets = i + 1;
        rc = cfgp_worse(rc, cfgp_resolve_secret(x, p, e, &r->secrets[i]));
        if (rc == HG_ENOMEM)
            return rc;
    }
    /* a token profile's secrets are tokens: they travel in a path segment */
    for (size_t k = 0; !rc && pr->fmt == PROF_FMT_TOKEN && k < r->nsecrets; k++) {
        const struct secret *t = &r->secrets[k];
        if (t->len > 256 ||
            (t->len && (memchr(t->data, '/', t->len) || memchr(t->data, '\0', t->len) ||
                        memchr(t->data, ' ', t->len)))) {
            cfgp_pathf(p, sizeof(p), "%s.secrets[%zu]", path, k);
            rc = cfgp_fail(x, p, "a token is 1-256 bytes without '/', space or NUL");
        }
    }
    return rc;
}

/* resolve_token - "token" read, kept as its SHA-256 digest. */
static int resolve_token(struct ctx *x, const char *path, json_t *o, struct cfg_route *r)
{
    json_t *v = json_object_get(o, "token");
    if (!v)
        return HG_OK;
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.token", path);
    struct secret t = {0};
    int rc = cfgp_resolve_secret(x, p, v, &t);
    if (!rc && (t.len > 256 || memchr(t.data, '/', t.len) || memchr(t.data, '\0', t.len))) {
        rc = cfgp_fail(x, p, "a token is 1-256 bytes without '/' or NUL");
    } else if (!rc) {
        verify_token_digest((const char *)t.data, t.len, r->token_sha);
        r->has_token = 1;
    }
    if (t.data)
        OPENSSL_cleanse(t.data, t.len);
    free(t.data);
    if (!rc && r->profile->fmt == PROF_FMT_TOKEN)
        rc = cfgp_fail(x, p, "profile %s takes its tokens from \"secrets\"", r->profile->name);
    return rc;
}

/* resolve_vtoken - "verify_token" read, kept as its SHA-256 digest; a
 * profile with a verify_token handshake requires it. */
static int resolve_vtoken(struct ctx *x, const char *path, json_t *o, struct cfg_route *r)
{
    json_t *v = json_object_get(o, "verify_token");
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.verify_token", path);
    int needs = 0;
    for (size_t i = 0; i < r->profile->nhs; i++)
        needs |= r->profile->hs[i].verify == PROF_HS_VERIFY_TOKEN;
    if (!v)
        return needs ? cfgp_fail(x, p, "is required by profile %s (its %s handshake)",
                                 r->profile->name, r->profile->hs[0].name)
                     : HG_OK;
    if (!needs)
        return cfgp_fail(x, p, "profile %s has no handshake that takes a verify_token",
                         r->profile->name);
    struct secret t = {0};
    int rc = cfgp_resolve_secret(x, p, v, &t);
    if (!rc) {
        verify_token_digest((const char *)t.data, t.len, r->vtoken_sha);
        r->has_vtoken = 1;
    }
    secret_free(&t);
    return rc;
}

/* resolve_claims - "jwt_claims": claims a JWT route's tokens must carry
 * (strings, booleans or integers), every one the profile's route_claims
 * names included; handed to the verifier. */
static int resolve_claims(struct ctx *x, const char *path, json_t *o, struct cfg_route *r)
{
    const struct profile *pr = r->profile;
    json_t *v = json_object_get(o, "jwt_claims");
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.jwt_claims", path);
    if (v && pr->fmt != PROF_FMT_JWT)
        return cfgp_fail(x, p, "only for a JWT profile (%s is not)", pr->name);
    for (size_t i = 0; i < pr->jwt.nroute_claims; i++)
        if (!json_object_get(v, pr->jwt.route_claims[i]))
            return cfgp_fail(x, p,
                             "is required by profile %s: {\"%s\": ...} (the value its tokens "
                             "must carry, e.g. the push subscription's service account)",
                             pr->name, pr->jwt.route_claims[i]);
    if (!v)
        return HG_OK;
    if (!json_is_object(v) || json_object_size(v) > 8)
        return cfgp_fail(x, p, "must be an object of at most 8 claims");
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e)
    {
        if (!json_is_string(e) && !json_is_boolean(e) && !json_is_integer(e)) {
            cfgp_pathf(p, sizeof(p), "%s.jwt_claims.%s", path, k);
            return cfgp_fail(x, p, "must be a string, a boolean or an integer");
        }
    }
    verify_set_claims(r->verifier, v);
    return HG_OK;
}

/* check_unsigned - the access rules of unsigned profiles (file comment). */
static int check_unsigned(struct ctx *x, const char *path, const struct cfg_route *r)
{
    const struct profile *pr = r->profile;
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.allow_unsigned", path);
    if (!pr->is_unsigned && r->allow_unsigned)
        return cfgp_fail(x, p, "profile %s is signed: allow_unsigned does not apply", pr->name);
    if (!pr->is_unsigned)
        return HG_OK;
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
    return HG_OK;
}

int config_route_resolve(struct ctx *x, const char *path, json_t *o, struct config *c,
                         struct cfg_route *r)
{
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.profile", path);
    const char *name = json_string_value(json_object_get(o, "profile"));
    if (!(r->profile = profile_find(c->profiles, name)))
        return cfgp_fail(x, p, "unknown profile \"%s\" (known: %s)", name,
                         profile_names(c->profiles));
    const struct profile *pr = r->profile;
    if (!json_object_get(o, "tolerance"))
        r->tolerance_s = pr->tolerance_s ? pr->tolerance_s : 300;
    r->takes_token = pr->fmt == PROF_FMT_TOKEN;
    int rc = resolve_secrets(x, path, o, r);
    int trc = resolve_token(x, path, o, r);
    rc = cfgp_worse(rc, trc);
    rc = cfgp_worse(rc, resolve_vtoken(x, path, o, r));
    if (!trc) /* without the token, whether the route is protected is not known */
        rc = cfgp_worse(rc, check_unsigned(x, path, r));
    r->takes_token |= r->has_token;
    if (rc)
        return rc;
    const char *why = NULL;
    if ((rc = verify_new(pr, r->secrets, r->nsecrets, &r->verifier, &why))) {
        cfgp_pathf(p, sizeof(p), "%s.secrets", path);
        return rc == HG_ENOMEM ? rc : cfgp_fail(x, p, "%s (profile %s)", why, pr->name);
    }
    if ((rc = resolve_claims(x, path, o, r)))
        return rc;
    if (!pr->covers_body && pr->content && c->dedupe_window_ms < (uint64_t)r->tolerance_s * 1000) {
        /* the signed nonce keeps one signature to one body only as long as it is remembered */
        cfgp_pathf(p, sizeof(p), "%s.tolerance", path);
        return cfgp_fail(x, p,
                         "profile %s's signature does not cover the body: its tolerance (%lds) "
                         "must not exceed dedupe_window",
                         pr->name, r->tolerance_s);
    }
    if (!r->public_url &&
        (profile_uses(pr, "{url}") || (pr->jwt.aud && !strcmp(pr->jwt.aud, "{url}")) ||
         (pr->jwt.sub && !strcmp(pr->jwt.sub, "{url}"))))
        log_msg(LOG_WARN,
                "route signs the URL it is called at, rebuilt from the request's Host: set "
                "public_url to the URL the producer was given",
                "{s:s,s:s}", "route", r->path, "profile", pr->name);
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
    free(r->public_url);
    OPENSSL_cleanse(r->vtoken_sha, sizeof(r->vtoken_sha));
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

/* shared_prefix - the length of the longest prefix of url, in whole
 * segments, that is also one of route's. */
static size_t shared_prefix(const char *route, const char *url)
{
    size_t keep = 0;
    for (size_t i = 0;; i++) {
        if ((!route[i] || route[i] == '/') && (!url[i] || url[i] == '/' || url[i] == '?'))
            keep = i;
        if (!route[i] || route[i] != url[i])
            return keep;
    }
}

const char *config_route_redact(const struct config *c, const char *url, char *buf, size_t cap)
{
    const struct cfg_route *t = token_route(c, url);
    if (t)
        return t->path;
    if (config_route_find(c, url))
        return url;
    /* what a route's path shares is no secret; any later segment may be a
     * token sent to a mistyped prefix, whatever characters it holds */
    size_t keep = 0;
    for (size_t i = 0; i < c->nroutes; i++) {
        size_t k = shared_prefix(c->routes[i].path, url);
        keep = k > keep ? k : keep;
    }
    return mask_path(url, keep, buf, cap);
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
