/*
 * profile_ext.c - the parts of a profile added for producers' own ways:
 * JWT signatures ($.signature.jwt), registration handshakes
 * ($.handshakes), conditional event types ($.type_when) and the answer to
 * an accepted event ($.accept).
 *
 * Split from profile.c, which reads the signature scheme and the event's
 * fields; both fill one struct profile (profile.h) and report problems the
 * same way ("<file>: $.handshakes[0].answer.status: ...").  What is read
 * here is interpreted at run time by handshake.c.
 *
 * Invariant: every string a handshake answers with comes from a declared
 * source (a JSON member, a query parameter, a header), a literal, or an
 * HMAC keyed by the route's secret; never the secret itself.
 */
#include "profile.h"
#include "config_int.h"
#include "err.h"
#include "profile_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define HS_TOKEN_CHARS_P                                                                           \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/=-" /* handshake.c */
#define HS_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_.-"

static void cond_free(struct prof_cond *c)
{
    free(c->name);
    free(c->equals);
}

static void val_free(struct prof_val *v)
{
    free(v->name);
    free(v->prefix);
    if (v->of) {
        val_free(v->of);
        free(v->of);
    }
}

void profile_ext_free(struct profile *p)
{
    for (size_t i = 0; i < p->nhs; i++) {
        struct prof_handshake *h = &p->hs[i];
        free(h->name);
        free(h->method);
        for (size_t k = 0; k < h->nwhen; k++)
            cond_free(&h->when[k]);
        free(h->vt_query);
        free(h->ctype);
        for (size_t k = 0; k < h->nhdrs; k++) {
            free(h->hdrs[k].from);
            free(h->hdrs[k].to);
        }
        free(h->hdrs);
        val_free(&h->text);
        for (size_t k = 0; k < h->njson; k++) {
            free(h->json[k].name);
            val_free(&h->json[k].v);
        }
        free(h->json);
    }
    for (size_t i = 0; i < p->ntype_when; i++) {
        for (size_t k = 0; k < p->type_when[i].nwhen; k++)
            cond_free(&p->type_when[i].when[k]);
        free(p->type_when[i].type);
    }
    free(p->type_when);
}

/* one_name - v is {"KIND": "name"} with KIND in kinds; its index in *k. */
static int one_name(struct ctx *x, const char *path, json_t *v, const char *const *kinds,
                    const char *const *extra, int *k, const char **name)
{
    const char *key;
    json_t *e;
    *k = -1;
    if (!json_is_object(v))
        return cfgp_fail(x, path, "must be an object");
    json_object_foreach(v, key, e)
    {
        for (int i = 0; kinds[i]; i++)
            if (!strcmp(key, kinds[i])) {
                if (*k >= 0)
                    return cfgp_fail(x, path, "names more than one source");
                *k = i;
                *name = json_string_value(e);
            }
        if (!cfgp_in_list(key, kinds) && !cfgp_in_list(key, extra)) {
            char p[256];
            cfgp_pathf(p, sizeof(p), "%s.%s", path, key);
            return cfgp_fail(x, p, "unknown key");
        }
    }
    if (*k < 0)
        return cfgp_fail(x, path, "needs one of: pointer, query, header%s",
                         extra && extra[0] ? ", literal, hmac" : "");
    return HG_OK;
}

static int parse_cond(struct ctx *x, const char *path, json_t *v, struct prof_cond *c)
{
    static const char *const kinds[] = {"pointer", "query", "header", NULL};
    static const char *const extra[] = {"equals", NULL};
    int k;
    const char *n = NULL;
    int rc = one_name(x, path, v, kinds, extra, &k, &n);
    if (rc)
        return rc;
    if (!n || !*n || strlen(n) > 128)
        return cfgp_fail(x, path, "the %s must be a non-empty string (at most 128 bytes)",
                         kinds[k]);
    if (k == 0 && n[0] != '/')
        return cfgp_fail(x, path, "a JSON pointer starts with '/'");
    c->src = k == 0 ? PROF_COND_POINTER : k == 1 ? PROF_COND_QUERY : PROF_COND_HEADER;
    if (!(c->name = strdup(n)))
        return HG_ENOMEM;
    json_t *eq = json_object_get(v, "equals");
    if (eq) {
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s.equals", path);
        if (json_is_integer(eq)) {
            char num[32];
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(eq));
            return (c->equals = strdup(num)) ? HG_OK : HG_ENOMEM;
        }
        if (!json_is_string(eq) || json_string_length(eq) > 256)
            return cfgp_fail(x, p, "must be a string (at most 256 bytes) or an integer");
        return (c->equals = strdup(json_string_value(eq))) ? HG_OK : HG_ENOMEM;
    }
    return HG_OK;
}

static int parse_conds(struct ctx *x, const char *path, json_t *v, struct prof_cond *out, size_t *n)
{
    if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > PROF_MAX_COND)
        return cfgp_fail(x, path, "must be a list of 1 to %d conditions", PROF_MAX_COND);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s[%zu]", path, i);
        int rc = parse_cond(x, p, e, &out[i]);
        *n = i + 1;
        if (rc)
            return rc;
    }
    return HG_OK;
}

static int parse_alg_enc(struct ctx *x, const char *path, json_t *v, struct prof_val *o)
{
    const char *a = json_string_value(json_object_get(v, "hmac"));
    if (!a || (strcmp(a, "sha256") && strcmp(a, "sha1") && strcmp(a, "sha512")))
        return cfgp_fail(x, path, "hmac must be sha256, sha1 or sha512");
    o->alg = !strcmp(a, "sha256") ? PROF_ALG_HMAC_SHA256
             : !strcmp(a, "sha1") ? PROF_ALG_HMAC_SHA1
                                  : PROF_ALG_HMAC_SHA512;
    const char *e = json_string_value(json_object_get(v, "encoding"));
    if (!e || (strcmp(e, "hex") && strcmp(e, "base64")))
        return cfgp_fail(x, path, "encoding must be hex or base64");
    o->enc = !strcmp(e, "hex") ? PROF_ENC_HEX : PROF_ENC_BASE64;
    json_t *p = json_object_get(v, "prefix");
    if (p && (!json_is_string(p) || json_string_length(p) > 32))
        return cfgp_fail(x, path, "prefix must be a string of at most 32 bytes");
    if (p && !(o->prefix = strdup(json_string_value(p))))
        return HG_ENOMEM;
    return HG_OK;
}

static int parse_val(struct ctx *x, const char *path, json_t *v, struct prof_val *o, int depth)
{
    static const char *const kinds[] = {"pointer", "query", "header", "literal", "hmac", NULL};
    static const char *const extra[] = {"encoding", "prefix", "of", NULL};
    int k, rc;
    const char *n = NULL;
    if ((rc = one_name(x, path, v, kinds, extra, &k, &n)))
        return rc;
    if (k == 4) {
        json_t *of = json_object_get(v, "of");
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s.of", path);
        if (!of || depth > 0)
            return cfgp_fail(x, p, "an hmac needs \"of\": a pointer, query or header source");
        if (json_object_get(of, "literal"))
            return cfgp_fail(x, p, "an hmac is of a pointer, query or header source");
        o->kind = PROF_VAL_HMAC;
        if ((rc = parse_alg_enc(x, path, v, o)))
            return rc;
        if (!(o->of = calloc(1, sizeof(*o->of))))
            return HG_ENOMEM;
        return parse_val(x, p, of, o->of, depth + 1);
    }
    if (json_object_get(v, "of") || json_object_get(v, "encoding") || json_object_get(v, "prefix"))
        return cfgp_fail(x, path, "of, encoding and prefix are for an hmac");
    if (!n || (k != 3 && !*n) || strlen(n) > 128)
        return cfgp_fail(x, path, "the %s must be a string (at most 128 bytes)", kinds[k]);
    if (k == 0 && n[0] != '/')
        return cfgp_fail(x, path, "a JSON pointer starts with '/'");
    o->kind = (enum prof_val_kind)(PROF_VAL_POINTER + k);
    return (o->name = strdup(n)) ? HG_OK : HG_ENOMEM;
}

static int parse_answer_headers(struct ctx *x, const char *path, json_t *v,
                                struct prof_handshake *h)
{
    if (!json_is_object(v) || json_object_size(v) > 8)
        return cfgp_fail(x, path, "must be an object of at most 8 headers");
    if (!(h->hdrs = calloc(json_object_size(v) + 1, sizeof(*h->hdrs))))
        return HG_ENOMEM;
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e)
    {
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s.%s", path, k);
        if (!*k || strpbrk(k, " :\r\n\t") || !json_is_string(e) || json_string_length(e) > 256 ||
            strpbrk(json_string_value(e), "\r\n"))
            return cfgp_fail(x, p, "must be a header name and a one-line value");
        struct prof_map *m = &h->hdrs[h->nhdrs++];
        if (!(m->from = strdup(k)) || !(m->to = strdup(json_string_value(e))))
            return HG_ENOMEM;
    }
    return HG_OK;
}

static int parse_answer(struct ctx *x, const char *path, json_t *v, struct prof_handshake *h)
{
    static const char *const known[] = {"status", "content_type", "headers", "text", "json", NULL};
    int rc = cfgp_check_keys(x, path, v, known, NULL);
    if (rc)
        return rc;
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.status", path);
    json_t *s = json_object_get(v, "status");
    if (!json_is_integer(s) || json_integer_value(s) < 200 || json_integer_value(s) > 299)
        return cfgp_fail(x, p, "is required: a 2xx status");
    h->status = (unsigned)json_integer_value(s);
    json_t *t = json_object_get(v, "text"), *j = json_object_get(v, "json"), *c;
    if (t && j)
        return cfgp_fail(x, path, "has text or json, not both");
    if ((c = json_object_get(v, "content_type"))) {
        cfgp_pathf(p, sizeof(p), "%s.content_type", path);
        if (!json_is_string(c) || !json_string_length(c) || json_string_length(c) > 128 ||
            strpbrk(json_string_value(c), "\r\n"))
            return cfgp_fail(x, p, "must be a media type");
        if (!(h->ctype = strdup(json_string_value(c))))
            return HG_ENOMEM;
    } else if (t || j) {
        if (!(h->ctype = strdup(t ? "text/plain; charset=utf-8" : "application/json")))
            return HG_ENOMEM;
    }
    if ((c = json_object_get(v, "headers"))) {
        cfgp_pathf(p, sizeof(p), "%s.headers", path);
        if ((rc = parse_answer_headers(x, p, c, h)))
            return rc;
    }
    if (t) {
        cfgp_pathf(p, sizeof(p), "%s.text", path);
        return parse_val(x, p, t, &h->text, 0);
    }
    if (!j)
        return HG_OK;
    cfgp_pathf(p, sizeof(p), "%s.json", path);
    if (!json_is_object(j) || !json_object_size(j) || json_object_size(j) > 8)
        return cfgp_fail(x, p, "must be an object of 1 to 8 fields");
    if (!(h->json = calloc(json_object_size(j), sizeof(*h->json))))
        return HG_ENOMEM;
    const char *k;
    json_t *e;
    json_object_foreach(j, k, e)
    {
        char fp[256];
        cfgp_pathf(fp, sizeof(fp), "%s.json.%s", path, k);
        struct prof_hs_field *f = &h->json[h->njson++];
        if (!(f->name = strdup(k)))
            return HG_ENOMEM;
        if ((rc = parse_val(x, fp, e, &f->v, 0)))
            return rc;
    }
    return HG_OK;
}

static int parse_hs_verify(struct ctx *x, const char *path, json_t *v, struct profile *p,
                           struct prof_handshake *h)
{
    char q[256];
    cfgp_pathf(q, sizeof(q), "%s.verify", path);
    const char *s = json_string_value(json_object_get(v, "verify"));
    if (!s)
        return cfgp_fail(x, q, "is required: signature, verify_token or none");
    h->verify = !strcmp(s, "signature")      ? PROF_HS_SIGNATURE
                : !strcmp(s, "verify_token") ? PROF_HS_VERIFY_TOKEN
                : !strcmp(s, "none")         ? PROF_HS_NONE
                                             : (enum prof_hs_verify) - 1;
    if ((int)h->verify < 0)
        return cfgp_fail(x, q, "must be signature, verify_token or none");
    if (h->verify == PROF_HS_SIGNATURE && (p->is_unsigned || strcmp(h->method, "POST") ||
                                           p->fmt == PROF_FMT_TOKEN || p->fmt == PROF_FMT_BASIC))
        return cfgp_fail(x, q,
                         "signature: only for a POST of a profile that signs (not a token "
                         "or credentials)");
    json_t *t = json_object_get(v, "verify_token_query");
    cfgp_pathf(q, sizeof(q), "%s.verify_token_query", path);
    if ((h->verify == PROF_HS_VERIFY_TOKEN) != (t != NULL))
        return cfgp_fail(x, q, "is required with verify_token, and only with it");
    if (t && (!json_is_string(t) || !json_string_length(t) || json_string_length(t) > 64))
        return cfgp_fail(x, q, "must be a query parameter name");
    return t && !(h->vt_query = strdup(json_string_value(t))) ? HG_ENOMEM : HG_OK;
}

/* hmac_is_oracle - 1 if the HMAC answer pv (keyed by the route's secret,
 * over a token-like value: handshake.c) could equal the signature of an
 * event p accepts: same algorithm, and a content a token-like value can
 * spell.  A literal outside the token characters (Zoom's "v0:") cannot be
 * spelled; nor can "{body}" alone when the body must be JSON (a token-like
 * value is never a JSON text). */
static int hmac_is_oracle(const struct profile *p, const struct prof_val *pv)
{
    int same = 0;
    if (p->fmt == PROF_FMT_VALUE)
        same = p->alg == pv->alg;
    for (size_t i = 0; i < p->nver; i++)
        same |= p->ver[i].alg == pv->alg;
    if (!same || !p->content)
        return 0;
    if (!strcmp(p->content, "{body}"))
        return !p->needs_json;
    for (const char *c = p->content; *c; c++) {
        if (*c == '{') {
            c = strchr(c, '}');
            if (!c)
                return 1;
            continue;
        }
        if (!strchr(HS_TOKEN_CHARS_P, *c))
            return 0;
    }
    return 1;
}

static int parse_handshake(struct ctx *x, const char *path, json_t *v, struct profile *p,
                           struct prof_handshake *h)
{
    static const char *const known[] = {"name",   "method", "when", "verify", "verify_token_query",
                                        "answer", NULL};
    int rc = cfgp_check_keys(x, path, v, known, NULL);
    if (rc)
        return rc;
    char q[256];
    const char *n = json_string_value(json_object_get(v, "name"));
    cfgp_pathf(q, sizeof(q), "%s.name", path);
    if (!n || !*n || strlen(n) > 32 || strspn(n, HS_NAME_CHARS) != strlen(n))
        return cfgp_fail(x, q, "is required: 1-32 of [a-z0-9_.-]");
    const char *m = json_string_value(json_object_get(v, "method"));
    cfgp_pathf(q, sizeof(q), "%s.method", path);
    if (!m || (strcmp(m, "POST") && strcmp(m, "GET") && strcmp(m, "HEAD")))
        return cfgp_fail(x, q, "is required: POST, GET or HEAD");
    if (!(h->name = strdup(n)) || !(h->method = strdup(m)))
        return HG_ENOMEM;
    json_t *w = json_object_get(v, "when");
    cfgp_pathf(q, sizeof(q), "%s.when", path);
    if (w && (rc = parse_conds(x, q, w, h->when, &h->nwhen)))
        return rc;
    for (size_t i = 0; i < h->nwhen; i++)
        if (h->when[i].src == PROF_COND_POINTER && strcmp(m, "POST"))
            return cfgp_fail(x, q, "a pointer condition needs a POST (a body)");
    if (!h->nwhen && strcmp(m, "HEAD"))
        return cfgp_fail(x, q,
                         "is required for %s (only a HEAD handshake may match every "
                         "request)",
                         m);
    if ((rc = parse_hs_verify(x, path, v, p, h)))
        return rc;
    json_t *a = json_object_get(v, "answer");
    cfgp_pathf(q, sizeof(q), "%s.answer", path);
    if (!a)
        return cfgp_fail(x, q, "is required");
    if ((rc = parse_answer(x, q, a, h)))
        return rc;
    for (size_t i = 0; i < h->njson + 1; i++) {
        const struct prof_val *pv = i < h->njson ? &h->json[i].v : &h->text;
        const struct prof_val *src = pv->kind == PROF_VAL_HMAC ? pv->of : pv;
        if (src->kind == PROF_VAL_POINTER && strcmp(m, "POST"))
            return cfgp_fail(x, q, "a pointer source needs a POST (a body)");
        if (pv->kind == PROF_VAL_HMAC && p->is_unsigned)
            return cfgp_fail(x, q, "an hmac needs a secret: the profile is unsigned");
        if (pv->kind == PROF_VAL_HMAC && hmac_is_oracle(p, pv))
            return cfgp_fail(x, q,
                             "this hmac answer could sign an event: the profile signs with the "
                             "same algorithm over a content that a token-like value can equal "
                             "(allowed: a content with a literal outside [A-Za-z0-9._~+/=-], "
                             "or exactly {body} with \"body\": \"json\")");
    }
    return HG_OK;
}

static int parse_type_when(struct ctx *x, json_t *v, struct profile *p)
{
    if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > 8)
        return cfgp_fail(x, "$.type_when", "must be a list of 1 to 8 {when, type}");
    if (!(p->type_when = calloc(json_array_size(v), sizeof(*p->type_when))))
        return HG_ENOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        static const char *const known[] = {"when", "type", NULL};
        char path[64], q[64];
        cfgp_pathf(path, sizeof(path), "$.type_when[%zu]", i);
        struct prof_type_when *t = &p->type_when[p->ntype_when++];
        int rc = cfgp_check_keys(x, path, e, known, NULL);
        if (rc)
            return rc;
        cfgp_pathf(q, sizeof(q), "%s.when", path);
        if ((rc = parse_conds(x, q, json_object_get(e, "when"), t->when, &t->nwhen)))
            return rc;
        json_t *ty = json_object_get(e, "type");
        cfgp_pathf(q, sizeof(q), "%s.type", path);
        if (!json_is_string(ty) || !json_string_length(ty) || json_string_length(ty) > 128)
            return cfgp_fail(x, q, "is required: a type name");
        if (!(t->type = strdup(json_string_value(ty))))
            return HG_ENOMEM;
    }
    return HG_OK;
}

static int parse_accept(struct ctx *x, json_t *v, struct profile *p)
{
    static const char *const known[] = {"status", "body", NULL};
    int rc = cfgp_check_keys(x, "$.accept", v, known, NULL);
    if (rc)
        return rc;
    json_t *s = json_object_get(v, "status");
    if (s) {
        json_int_t n = json_is_integer(s) ? json_integer_value(s) : 0;
        if (n != 200 && n != 202 && n != 204)
            return cfgp_fail(x, "$.accept.status", "must be 200, 202 or 204");
        p->accept_status = (unsigned)n;
    }
    const char *b = json_string_value(json_object_get(v, "body"));
    if (json_object_get(v, "body") && (!b || (strcmp(b, "default") && strcmp(b, "empty"))))
        return cfgp_fail(x, "$.accept.body", "must be default or empty");
    p->accept_empty = (b && !strcmp(b, "empty")) || p->accept_status == 204;
    return HG_OK;
}

int profile_ext_jwt(struct ctx *x, json_t *o, struct profile *p)
{
    static const char *const top[] = {"format", "header", "prefix", "jwt", "covers_body", NULL};
    static const char *const known[] = {"algorithms", "issuer", "audience",     "subject",
                                        "body_hash",  "leeway", "route_claims", NULL};
    int rc = cfgp_check_keys(x, "$.signature", o, top, NULL);
    json_t *j = json_object_get(o, "jwt"), *v;
    if (rc || (rc = profile_header_list(x, "$.signature.header", json_object_get(o, "header"),
                                        p->sig_header)))
        return rc;
    if ((v = json_object_get(o, "prefix")) &&
        (rc = cfgp_get_string(x, "$.signature.prefix", v, &p->sig_prefix)))
        return rc;
    if (!j)
        return cfgp_fail(x, "$.signature.jwt", "is required for format jwt");
    if ((rc = cfgp_check_keys(x, "$.signature.jwt", j, known, NULL)))
        return rc;
    v = json_object_get(j, "algorithms");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        const char *a = json_string_value(e);
        unsigned bit = !a                    ? 0
                       : !strcmp(a, "HS256") ? PROF_JWT_HS256
                       : !strcmp(a, "RS256") ? PROF_JWT_RS256
                       : !strcmp(a, "ES256") ? PROF_JWT_ES256
                                             : 0;
        if (!bit)
            return cfgp_fail(x, "$.signature.jwt.algorithms", "lists HS256, RS256 or ES256");
        p->jwt.algs |= bit;
    }
    if (!p->jwt.algs)
        return cfgp_fail(x, "$.signature.jwt.algorithms", "is required: HS256, RS256 or ES256");
    if ((p->jwt.algs & PROF_JWT_HS256) && (p->jwt.algs & ~PROF_JWT_HS256))
        return cfgp_fail(x, "$.signature.jwt.algorithms",
                         "HS256 cannot be mixed with public-key algorithms");
    if ((v = json_object_get(j, "issuer"))) {
        if (!json_is_string(v) && (!json_is_array(v) || !json_array_size(v)))
            return cfgp_fail(x, "$.signature.jwt.issuer", "must be 1 to %d strings", PROF_MAX_ISS);
        json_t *a = json_is_string(v) ? json_pack("[O]", v) : json_incref(v);
        json_array_foreach(a, i, e)
        {
            if (!json_is_string(e) || i >= PROF_MAX_ISS ||
                !(p->jwt.iss[p->jwt.niss++] = strdup(json_string_value(e)))) {
                json_decref(a);
                return cfgp_fail(x, "$.signature.jwt.issuer", "must be 1 to %d strings",
                                 PROF_MAX_ISS);
            }
        }
        json_decref(a);
    }
    if ((v = json_object_get(j, "audience")) &&
        (rc = cfgp_get_string(x, "$.signature.jwt.audience", v, &p->jwt.aud)))
        return rc;
    if ((v = json_object_get(j, "subject")) &&
        (rc = cfgp_get_string(x, "$.signature.jwt.subject", v, &p->jwt.sub)))
        return rc;
    if ((p->jwt.aud && strchr(p->jwt.aud, '{') && strcmp(p->jwt.aud, "{url}")) ||
        (p->jwt.sub && strchr(p->jwt.sub, '{') && strcmp(p->jwt.sub, "{url}")))
        return cfgp_fail(x, "$.signature.jwt", "audience and subject are \"{url}\" or a literal");
    if ((v = json_object_get(j, "body_hash"))) {
        const char *c = json_string_value(json_object_get(v, "claim"));
        const char *en = json_string_value(json_object_get(v, "encoding"));
        if (!c || !*c || !en || (strcmp(en, "base64url") && strcmp(en, "hex")) ||
            json_object_size(v) != 2)
            return cfgp_fail(x, "$.signature.jwt.body_hash",
                             "must be {\"claim\": NAME, \"encoding\": \"base64url\"|\"hex\"}");
        p->jwt.body_hex = !strcmp(en, "hex");
        if (!(p->jwt.body_claim = strdup(c)))
            return HG_ENOMEM;
    }
    if ((v = json_object_get(j, "route_claims"))) {
        if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > PROF_MAX_ISS)
            return cfgp_fail(x, "$.signature.jwt.route_claims", "must be 1 to %d claim names",
                             PROF_MAX_ISS);
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e) || !json_string_length(e) || json_string_length(e) > 64)
                return cfgp_fail(x, "$.signature.jwt.route_claims", "must list claim names");
            if (!(p->jwt.route_claims[p->jwt.nroute_claims++] = strdup(json_string_value(e))))
                return HG_ENOMEM;
        }
    }
    if ((v = json_object_get(j, "leeway"))) {
        uint64_t ms;
        if ((rc = cfgp_get_duration_in(x, "$.signature.jwt.leeway", v, 0, 300000, "0s to 5m", &ms)))
            return rc;
        p->jwt.leeway_s = (long)(ms / 1000);
    }
    return HG_OK;
}

int profile_ext_parse(struct ctx *x, json_t *root, struct profile *p)
{
    int rc;
    json_t *v;
    p->accept_status = 200;
    if ((v = json_object_get(root, "handshakes"))) {
        if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > PROF_MAX_HS)
            return cfgp_fail(x, "$.handshakes", "must be a list of 1 to %d handshakes",
                             PROF_MAX_HS);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            char path[64];
            cfgp_pathf(path, sizeof(path), "$.handshakes[%zu]", i);
            p->nhs = i + 1;
            if ((rc = parse_handshake(x, path, e, p, &p->hs[i])))
                return rc;
        }
    }
    if ((v = json_object_get(root, "type_when")) && (rc = parse_type_when(x, v, p)))
        return rc;
    if ((v = json_object_get(root, "accept")) && (rc = parse_accept(x, v, p)))
        return rc;
    return HG_OK;
}
