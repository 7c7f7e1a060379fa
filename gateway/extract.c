/*
 * extract.c - a request read through its profile (see extract.h).
 *
 * Invariants: ids and types are UTF-8 of bounded length without controls,
 * line separators or bidirectional controls (event_char_forbidden: they end
 * up in file names, log lines, terminals and environment variables
 * downstream); an id taken from a header the signature does not cover is
 * deduplicated by the body's SHA-256, so one signed body cannot be replayed
 * under fresh ids.  A key hookgate derives from the body starts with a byte
 * no producer id can hold (EXTRACT_DERIVED), so a producer cannot send an id
 * that claims the key of another body.
 * A member the profile reads is never taken from a body that repeats it (or
 * a member on its path): a consumer's parser might take the other one, so
 * the body is refused (HG_EDUPKEY).  The one jscan pass that validates the
 * body reports a repeated top-level member; only then, or for a nested
 * pointer, does jscan_pointer walk the body again to name it.  A body whose
 * Content-Type says JSON is JSON or refused, never stored as text.
 */
#include "extract.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "form.h"
#include "jscan.h"
#include "profile.h"
#include "verify.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXTRACT_WANTED_MAX (5 * PROF_MAX_SRC + 1)
#define EXTRACT_FORM_MAX   1024 /* parameters of a form body (as verify_tpl.c) */

const char *extract_header(extract_header_fn hdr, void *ctx, char *const *names)
{
    for (int i = 0; names[i]; i++) {
        const char *v = hdr(ctx, names[i]);
        if (v)
            return v;
    }
    return NULL;
}

/* first_header - the value of the first header source of f that is present. */
static const char *first_header(extract_header_fn hdr, void *ctx, const struct prof_field *f)
{
    for (int i = 0; f[i].src; i++)
        if (f[i].src == PROF_HEADER) {
            const char *v = hdr(ctx, f[i].name);
            if (v && *v) /* as pick(): the signed id is the stored id */
                return v;
        }
    return NULL;
}

void extract_verify_input(const struct profile *p, extract_header_fn hdr, void *ctx,
                          struct verify_input *in)
{
    in->signature = NULL;
    size_t n = 0;
    for (int i = 0; p->sig_header[i]; i++) { /* every present one (box: primary, secondary) */
        const char *v = hdr(ctx, p->sig_header[i]);
        if (!v)
            continue;
        if (!in->signature)
            in->signature = v;
        else if (n < PROF_MAX_HDR - 1)
            in->sig_alt[n++] = v;
    }
    in->id = first_header(hdr, ctx, p->id);
    in->type = first_header(hdr, ctx, p->type);
    in->nonce = first_header(hdr, ctx, p->nonce);
    in->timestamp = first_header(hdr, ctx, p->ts);
}

/* tree_get - RFC 6901 pointer lookup in a jansson tree. */
static json_t *tree_get(json_t *root, const char *ptr)
{
    json_t *cur = root;
    char tok[256];
    while (cur && *ptr == '/') {
        ptr++;
        size_t n = 0;
        while (*ptr && *ptr != '/' && n < sizeof(tok) - 1) {
            if (ptr[0] == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
                tok[n++] = ptr[1] == '0' ? '~' : '/';
                ptr += 2;
            } else {
                tok[n++] = *ptr++;
            }
        }
        tok[n] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            char *end;
            unsigned long i = strtoul(tok, &end, 10);
            cur = *tok && !*end ? json_array_get(cur, i) : NULL;
        } else {
            cur = NULL;
        }
    }
    return *ptr ? NULL : cur;
}

/* why a value was refused (pick's HG_EBADID), for the answer */
enum bad { BAD_LONG = 1, BAD_TEXT, BAD_KIND };

struct scan {
    const char *wanted[EXTRACT_WANTED_MAX];
    struct jscan_span found[EXTRACT_WANTED_MAX];
    size_t n;
    json_t *tree;    /* only when the profile has nested pointers */
    enum bad bad;    /* HG_EBADID from pick: why */
    uint32_t bad_cp; /* BAD_TEXT: the character, or EVENT_BAD_UTF8 */
};

/* refuse - HG_EBADID for reason bad (the character cp for BAD_TEXT). */
static int refuse(struct scan *s, enum bad bad, uint32_t cp)
{
    s->bad = bad;
    s->bad_cp = cp;
    return HG_EBADID;
}

/* checked - 1 if out[0..n) (n < its capacity) may be an id or type, else
 * HG_EBADID with the reason in s. */
static int checked(struct scan *s, const char *out, size_t n)
{
    uint32_t cp;
    return event_text_check(out, n, &cp) ? refuse(s, BAD_TEXT, cp) : 1;
}

/* put - store one found value (decoded string or number as written). */
static int put(struct scan *s, const char *v, size_t n, char *out, size_t cap)
{
    if (n >= cap)
        return refuse(s, BAD_LONG, 0);
    memcpy(out, v, n);
    out[n] = '\0';
    return checked(s, out, n);
}

/* pick - the first source of f that is present: 1 found, 0 none, HG_E* bad. */
static int pick(const struct prof_field *f, extract_header_fn hdr, void *ctx, struct scan *s,
                char *out, size_t cap, int *from_header)
{
    for (int i = 0; f[i].src; i++) {
        if (f[i].src == PROF_HEADER) {
            const char *v = hdr(ctx, f[i].name);
            if (!v || !*v)
                continue;
            if (from_header)
                *from_header = 1;
            return put(s, v, strlen(v), out, cap);
        }
        if (f[i].src != PROF_POINTER)
            continue;
        if (!f[i].key) {
            json_t *j = s->tree ? tree_get(s->tree, f[i].name) : NULL;
            if (json_is_string(j) && json_string_length(j))
                return put(s, json_string_value(j), json_string_length(j), out, cap);
            if (json_is_integer(j)) {
                char num[32];
                snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(j));
                return put(s, num, strlen(num), out, cap);
            }
            if (j && !json_is_null(j) && !json_is_string(j))
                return refuse(s, BAD_KIND, 0);
            continue;
        }
        for (size_t k = 0; k < s->n; k++) {
            if (strcmp(s->wanted[k], f[i].key) != 0 || s->found[k].kind == JSCAN_NONE)
                continue;
            size_t n;
            if (s->found[k].kind == JSCAN_STRING) {
                /* the body is valid JSON: only the length can fail here */
                if (jscan_string_decode(s->found[k].ptr, s->found[k].len, out, cap, &n) != JSCAN_OK)
                    return refuse(s, BAD_LONG, 0);
            } else if (s->found[k].kind == JSCAN_NUMBER) {
                if (s->found[k].len >= cap)
                    return refuse(s, BAD_LONG, 0);
                memcpy(out, s->found[k].ptr, s->found[k].len);
                n = s->found[k].len;
                out[n] = '\0';
            } else if (s->found[k].kind == JSCAN_NULL) {
                break;
            } else {
                return refuse(s, BAD_KIND, 0);
            }
            if (n == 0)
                break; /* empty: try the next place */
            return checked(s, out, n);
        }
    }
    return 0;
}

/* normalise_time - RFC 3339 kept as is (one without a zone is read as
 * UTC: Discord); unix seconds (with a fraction: Mailgun) or milliseconds
 * (a number past the year 9999 in seconds: HubSpot, LINE, Zoom) formatted;
 * else dropped. */
static void normalise_time(char *t, size_t cap)
{
    size_t n = strlen(t);
    if (!n || time_rfc3339_valid(t, n))
        return;
    if (n >= 19 && n + 2 < cap && t[10] == 'T' && !strpbrk(t + 19, "Zz+-")) {
        memcpy(t + n, "Z", 2);
        if (time_rfc3339_valid(t, n + 1))
            return;
    }
    char *end;
    long long s = strtoll(t, &end, 10), ms = 0;
    if (*end == '.' && end[1] >= '0' && end[1] <= '9') {
        int scale = 100;
        for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
            ms += scale ? (*end - '0') * scale : 0;
    }
    if (*end || s <= 0 || s > 253402300799999LL) {
        t[0] = '\0';
        return;
    }
    time_format_ms(s > 253402300799LL ? (int64_t)s : (int64_t)s * 1000 + ms, t, cap);
}

static void want(struct scan *s, const struct prof_field *f)
{
    for (int i = 0; f[i].src; i++)
        if (f[i].src == PROF_POINTER && f[i].key && s->n < EXTRACT_WANTED_MAX)
            s->wanted[s->n++] = f[i].key;
}

int extract_ctype_is_json(const char *ct)
{
    if (!ct)
        return 0;
    ct += strspn(ct, " \t");
    if (strncasecmp(ct, "application/", 12))
        return 0;
    const char *sub = ct + 12;
    size_t n = strcspn(sub, "; \t");
    const char *rest = sub + n + strspn(sub + n, " \t");
    if (*rest && *rest != ';')
        return 0; /* "application/json x" is no media type */
    return (n == 4 && !strncasecmp(sub, "json", 4)) ||
           (n > 5 && !strncasecmp(sub + n - 5, "+json", 5));
}

/* dup_reason - `duplicate key "a.b" in body` into out, for the pointer
 * prefix ptr[0..n) ("/a/b"): its tokens decoded and joined by dots. */
static void dup_reason(const char *ptr, size_t n, char *out, size_t cap)
{
    char path[128]; /* a profile's pointer has at most 128 bytes */
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof(path); i++) {
        char c = ptr[i];
        if (c == '/' && i == 0)
            continue;
        if (c == '/')
            c = '.';
        else if (c == '~' && i + 1 < n && (ptr[i + 1] == '0' || ptr[i + 1] == '1'))
            c = ptr[++i] == '0' ? '~' : '/';
        path[k++] = c;
    }
    path[k] = '\0';
    snprintf(out, cap, "duplicate key \"%s\" in body", path);
}

/* find_dup - the first pointer source of p (id, type, time, when_missing, in
 * that order; only nested ones if nested_only) along whose path an object
 * member repeats: 1 with out->reason set, else 0.  body is valid JSON. */
static int find_dup(const struct profile *p, const char *body, size_t len, int nested_only,
                    struct extract_result *out)
{
    const struct prof_field *lists[] = {p->id, p->type, p->time, p->test_missing, p->nonce};
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
        for (const struct prof_field *f = lists[l]; f->src; f++) {
            if (f->src != PROF_POINTER || (nested_only && f->key))
                continue;
            struct jscan_span v;
            size_t n = 0;
            if (jscan_pointer(body, len, f->name, &v, &n) == JSCAN_EDUP) {
                dup_reason(f->name, n, out->reason, sizeof(out->reason));
                return 1;
            }
        }
    return 0;
}

/* scan_body - validate body once (jscan) and find the top-level members the
 * profile reads; classify it (JSON, text, binary).  HG_OK, HG_EBADJSON or
 * HG_EDUPKEY (see extract_event). */
static int scan_body(const struct profile *p, extract_header_fn hdr, void *ctx, const char *body,
                     size_t len, struct extract_result *out, const char **why, struct scan *s,
                     enum jscan_kind *top)
{
    want(s, p->id);
    want(s, p->type);
    want(s, p->time);
    want(s, p->test_missing);
    want(s, p->nonce);
    out->kind = EVENT_BODY_JSON;
    int js = jscan_scan(body, len, top, s->wanted, s->n, s->found);
    int container = *top == JSCAN_OBJECT || *top == JSCAN_ARRAY;
    if (js == JSCAN_EDUP || (js == JSCAN_OK && container && p->needs_tree &&
                             find_dup(p, body, len, *top == JSCAN_OBJECT, out))) {
        /* EDUP: the text is valid and some wanted top-level key repeats */
        if (js == JSCAN_EDUP && !find_dup(p, body, len, 0, out))
            snprintf(out->reason, sizeof(out->reason), "duplicate key in body");
        *why = out->reason;
        return HG_EDUPKEY;
    }
    if (js == JSCAN_OK && *top == JSCAN_OBJECT)
        return HG_OK;
    for (size_t k = 0; k < s->n; k++)
        s->found[k].kind = JSCAN_NONE;
    if (js == JSCAN_OK)
        return HG_OK; /* an array or a scalar: JSON without members */
    out->kind = jscan_utf8_valid(body, len) ? EVENT_BODY_TEXT : EVENT_BODY_BINARY;
    if (p->needs_json) {
        *why = "body is not JSON";
        return HG_EBADJSON;
    }
    if (extract_ctype_is_json(hdr(ctx, "Content-Type"))) {
        /* said to be JSON and is not: stored as text it would reach a
         * consumer that trusts the type as something else than was meant */
        *why = js == JSCAN_EDEPTH ? "JSON nested deeper than 64 levels"
                                  : "body is not JSON but its Content-Type says it is";
        return HG_EBADJSON;
    }
    return HG_OK;
}

_Static_assert(EXTRACT_ID_MAX == 256 && EXTRACT_TYPE_MAX == 256, "bad_reason says 256 bytes");

/* bad_reason - the answer for a refused id or type (field "id"/"type"):
 * out->reason, e.g. `invalid event id: bidirectional control U+202E`. */
static void bad_reason(const struct scan *s, const char *field, struct extract_result *out)
{
    uint32_t cp = s->bad_cp;
    const char *what = s->bad == BAD_LONG                        ? "longer than 256 bytes"
                       : s->bad == BAD_KIND                      ? "not a string or number"
                       : cp == EVENT_BAD_UTF8                    ? "not valid UTF-8"
                       : cp == 0x2028 || cp == 0x2029            ? "line or paragraph separator"
                       : cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ? "control character"
                                                                 : "bidirectional control";
    if (s->bad == BAD_TEXT && cp != EVENT_BAD_UTF8)
        snprintf(out->reason, sizeof(out->reason), "invalid event %s: %s U+%04X", field, what,
                 (unsigned)cp);
    else
        snprintf(out->reason, sizeof(out->reason), "invalid event %s: %s", field, what);
}

/* body_digest - SHA-256 of what the signature covers of the body: the
 * body, or for a {form} profile (Twilio) its parameters as signed (sorted,
 * name then value, concatenated), so that the re-encodings, reorderings and
 * moved boundaries one signature allows are one event, not many. */
static void body_digest(const struct profile *p, const char *body, size_t len,
                        unsigned char md[SHA256_DIGEST_LENGTH])
{
    size_t n = 0;
    char *buf = profile_uses(p, "{form}") ? malloc(len + 1) : NULL;
    struct form_param *fp = buf ? calloc(EXTRACT_FORM_MAX, sizeof(*fp)) : NULL;
    if (fp && form_parse(body, len, buf, len + 1, fp, EXTRACT_FORM_MAX, &n) == HG_OK) {
        n = form_canon(fp, n);
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
        for (size_t i = 0; ok && i < n; i++)
            ok = EVP_DigestUpdate(c, fp[i].name, fp[i].name_len) &&
                 EVP_DigestUpdate(c, fp[i].value, fp[i].value_len);
        if (!ok || !EVP_DigestFinal_ex(c, md, NULL))
            SHA256((const unsigned char *)body, len, md);
        EVP_MD_CTX_free(c);
    } else {
        SHA256((const unsigned char *)body, len, md);
    }
    free(buf);
    free(fp);
}

static int run(const struct cfg_route *rt, extract_header_fn hdr, void *ctx, const char *body,
               size_t len, struct extract_result *out, const char **why, struct scan *s)
{
    const struct profile *p = rt->profile;
    enum jscan_kind top = JSCAN_NONE;
    int rc = scan_body(p, hdr, ctx, body, len, out, why, s, &top);
    if (rc)
        return rc;
    /* a batch (SendGrid, HubSpot) is an array: "/0/event" reads its first item */
    if (p->needs_tree && out->kind == EVENT_BODY_JSON &&
        (top == JSCAN_OBJECT || top == JSCAN_ARRAY))
        s->tree = json_loadb(body, len, JSON_DECODE_ANY, NULL);

    int id_from_header = 0;
    int got = pick(p->id, hdr, ctx, s, out->id, sizeof(out->id), &id_from_header);
    if (got < 0) {
        *why = "event id too long or not printable"; /* one text: a log rate-limit key */
        bad_reason(s, "id", out);
        return got;
    }
    out->dedupe[0] = '\0';
    if (got == 0 || (id_from_header && !profile_uses(p, "{id}"))) {
        /* no id, or one the signature does not cover: anyone holding one
         * signed body could replay it under fresh ids, so it is
         * deduplicated by the body it was signed over */
        if (got == 0 && !p->id_fallback_sha256)
            return HG_ENOID;
        unsigned char md[SHA256_DIGEST_LENGTH];
        body_digest(p, body, len, md);
        memcpy(out->dedupe, EXTRACT_DERIVED "sha256:", 8);
        hex_encode(md, sizeof(md), out->dedupe + 8);
        if (got == 0) /* the id shown is the key without its namespace byte */
            memcpy(out->id, out->dedupe + 1, sizeof(out->dedupe) - 1);
    }
    if (!p->covers_body && p->content) {
        /* a signature that does not cover the body (Mailgun) is good for one
         * body only: the dedupe key is its signed nonce, so the same
         * signature with another body is a duplicate */
        char nonce[EXTRACT_ID_MAX + 1];
        if (pick(p->nonce, hdr, ctx, s, nonce, sizeof(nonce), NULL) != 1) {
            *why = "signed nonce missing";
            return HG_ENOID;
        }
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)nonce, strlen(nonce), md);
        memcpy(out->dedupe, EXTRACT_DERIVED "nonce:", 7);
        hex_encode(md, sizeof(md), out->dedupe + 7);
    }
    got = pick(p->type, hdr, ctx, s, out->type, sizeof(out->type), NULL);
    if (got < 0) {
        *why = "event type too long or not printable";
        bad_reason(s, "type", out);
        return got;
    }
    if (got == 1) {
        const char *m = profile_type_map(p, out->type);
        if (m != out->type)
            snprintf(out->type, sizeof(out->type), "%s", m);
    } else {
        snprintf(out->type, sizeof(out->type), "%s", rt->type ? rt->type : "unknown");
    }
    if (p->test_missing[0].src && out->kind == EVENT_BODY_JSON && top == JSCAN_OBJECT) {
        char tmp[8];
        if (pick(p->test_missing, hdr, ctx, s, tmp, sizeof(tmp), NULL) == 0)
            snprintf(out->type, sizeof(out->type), "%s", p->test_type);
    }
    if (pick(p->time, hdr, ctx, s, out->time, sizeof(out->time), NULL) == 1)
        normalise_time(out->time, sizeof(out->time));
    else
        out->time[0] = '\0';
    return HG_OK;
}

int extract_event(const struct cfg_route *rt, extract_header_fn hdr, void *ctx, const char *body,
                  size_t len, struct extract_result *out, const char **why)
{
    const char *w = NULL;
    struct scan s;
    s.n = 0;
    s.tree = NULL;
    out->reason[0] = '\0';
    int rc = run(rt, hdr, ctx, body, len, out, &w, &s);
    json_decref(s.tree);
    if (why)
        *why = w;
    return rc;
}
