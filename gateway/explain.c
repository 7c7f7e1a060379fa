/*
 * explain.c - a verification refusal in words (see explain.h).
 *
 * Each why_code of verify_detail has one sentence; its blanks are filled
 * from the profile (header names, the signature's format, the timestamp's
 * unit), from counts and skew in the detail, and from public facts of the
 * request: the names of its headers that look like a signature or token
 * (at most EXPLAIN_NAMES), the body's length, its Content-Type.
 * A small bounded writer (struct out) does all the writing: every byte goes
 * through it, so cleaning (printable ASCII only) and truncation are decided
 * in one place.  Invariants: no header value is ever read (the iterator
 * gives names only); nothing here allocates or fails but for a short buffer.
 */
#include "explain.h"
#include "err.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define EXPLAIN_NAMES    3   /* related header names listed */
#define EXPLAIN_NAME_MAX 64  /* bytes of one header name shown */
#define EXPLAIN_CTYPE    100 /* bytes of the Content-Type shown */

struct out {
    char *p;
    size_t len, cap; /* cap > 0: one byte is kept for the NUL */
    int cut;         /* some byte did not fit */
};

/* put - s[0..n) cleaned (any byte outside printable ASCII becomes '?'). */
static void put(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (o->len + 1 >= o->cap) {
            o->cut = 1;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        o->p[o->len++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
    }
    o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* putn - at most max bytes of s, "..." after when s is longer. */
static void putn(struct out *o, const char *s, size_t max)
{
    size_t n = strlen(s);
    put(o, s, n > max ? max : n);
    if (n > max)
        puts_(o, "...");
}

/* putu - v in decimal with thousands separators: 1024 -> "1,024". */
static void putu(struct out *o, uint64_t v)
{
    char d[32], g[48];
    int n = snprintf(d, sizeof(d), "%llu", (unsigned long long)v);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            g[k++] = ',';
        g[k++] = d[i];
    }
    put(o, g, k);
}

/* putcount - "1 token" / "2 tokens". */
static void putcount(struct out *o, uint64_t n, const char *one, const char *many)
{
    putu(o, n);
    puts_(o, " ");
    puts_(o, n == 1 ? one : many);
}

/* join_sep - the separator before item i of n: "", ", " or " or " (conj). */
static const char *join_sep(size_t i, size_t n, const char *conj)
{
    return i == 0 ? "" : i + 1 == n ? conj : ", ";
}

/* put_names - a NULL-terminated list as "A", "A or B", "A, B or C". */
static void put_names(struct out *o, char *const *names)
{
    size_t n = 0;
    while (names[n])
        n++;
    for (size_t i = 0; i < n; i++) {
        puts_(o, join_sep(i, n, " or "));
        puts_(o, names[i]);
    }
}

static const char *enc_name(enum prof_enc e)
{
    return e == PROF_ENC_HEX ? "HEX" : e == PROF_ENC_BASE64URL ? "BASE64URL" : "BASE64";
}

static const char *alg_name(enum prof_alg a)
{
    static const char *const names[] = {"HMAC-SHA256", "HMAC-SHA1", "HMAC-SHA512", "Ed25519",
                                        "ECDSA P-256"};
    return (size_t)a < sizeof(names) / sizeof(names[0]) ? names[a] : "its algorithm";
}

/* ts_sig_key - the kv entry carrying the timestamp ("t"), or NULL. */
static const char *ts_sig_key(const struct profile *p)
{
    for (int i = 0; p->ts[i].src; i++)
        if (p->ts[i].src == PROF_SIG)
            return p->ts[i].name;
    return NULL;
}

/* put_tags - the version tags of a kv/list signature: "v1", "v1/v1a". */
static void put_tags(struct out *o, const struct profile *p)
{
    for (size_t i = 0; i < p->nver; i++) {
        puts_(o, i ? "/" : "");
        puts_(o, p->ver[i].tag);
    }
}

/* put_format - what a well-formed signature looks like under p:
 * "sha256=HEX", "[sha256=]HEX", "t=UNIX,v1=HEX", "v1,BASE64". */
static void put_format(struct out *o, const struct profile *p)
{
    const char *enc = enc_name(p->enc), *tskey = ts_sig_key(p);
    if (p->fmt == PROF_FMT_KV) {
        if (tskey) {
            puts_(o, tskey);
            puts_(o, p->ts_unit == PROF_TS_MS ? "=UNIX_MS" : "=UNIX");
            put(o, &p->kv_sep, 1);
        }
        put_tags(o, p);
        puts_(o, "=");
        puts_(o, enc);
    } else if (p->fmt == PROF_FMT_LIST) {
        put_tags(o, p);
        puts_(o, ",");
        puts_(o, enc);
        puts_(o, ", space-separated");
    } else {
        const char *pre = p->sig_prefix ? p->sig_prefix : "";
        puts_(o, *pre && p->sig_prefix_optional ? "[" : "");
        puts_(o, pre);
        puts_(o, *pre && p->sig_prefix_optional ? "]" : "");
        puts_(o, enc);
    }
}

/* ---- the request's header names --------------------------------------- */

/* in_fields - 1 if name is a header p reads for the id, type, time,
 * timestamp or nonce: expected there, no hint of another scheme. */
static int in_fields(const struct profile *p, const char *name)
{
    const struct prof_field *lists[] = {p->id, p->type, p->time, p->ts, p->nonce};
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
        for (const struct prof_field *f = lists[l]; f->src; f++)
            if (f->src == PROF_HEADER && !strcasecmp(f->name, name))
                return 1;
    return 0;
}

/* vendor - the length of name's vendor prefix ("X-Hub-" of
 * X-Hub-Signature-256, "Stripe-" of Stripe-Signature), 0 when none. */
static size_t vendor(const char *name)
{
    const char *s = strncasecmp(name, "X-", 2) ? name : name + 2;
    const char *dash = strchr(s, '-');
    return dash && dash > s ? (size_t)(dash - name) + 1 : 0;
}

struct seen {
    const struct profile *p;
    char *const *mine; /* the profile's headers of the signature/token */
    char names[EXPLAIN_NAMES][EXPLAIN_NAME_MAX + 4];
    size_t n;
    unsigned more;    /* related names past EXPLAIN_NAMES */
    unsigned present; /* bit i: mine[i] is in the request */
};

/* related - 1 if a request header name looks like part of a signature or
 * token scheme: a word of one, or the vendor prefix of p's own headers. */
static int related(const struct seen *s, const char *name)
{
    static const char *const words[] = {"sig", "hmac", "token", "auth"};
    if (in_fields(s->p, name))
        return 0;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasestr(name, words[i]))
            return 1;
    for (size_t i = 0; s->mine[i]; i++) {
        size_t v = vendor(s->mine[i]);
        if (v && !strncasecmp(name, s->mine[i], v))
            return 1;
    }
    return 0;
}

/* on_name - the each-header callback: note p's own headers present and
 * keep the first few related names (cleaned and cut when long). */
static void on_name(void *arg, const char *name)
{
    struct seen *s = arg;
    if (!name)
        return;
    for (size_t i = 0; i < 8 * sizeof(s->present) && s->mine[i]; i++)
        if (!strcasecmp(s->mine[i], name))
            s->present |= 1u << i;
    if (!related(s, name))
        return;
    for (size_t i = 0; i < s->n; i++)
        if (!strncasecmp(s->names[i], name, EXPLAIN_NAME_MAX))
            return; /* a repeated header */
    if (s->n == EXPLAIN_NAMES) {
        s->more++;
        return;
    }
    struct out o = {s->names[s->n++], 0, sizeof(s->names[0]), 0};
    putn(&o, name, EXPLAIN_NAME_MAX);
}

/* scan - the request's header names against mine (see struct seen). */
static void scan(struct seen *s, const struct profile *p, char *const *mine,
                 explain_each_header_fn each, void *hctx)
{
    memset(s, 0, sizeof(*s));
    s->p = p;
    s->mine = mine;
    if (each)
        each(hctx, on_name, s);
}

/* put_had - "; the request had A, B and C" (nothing when none related). */
static void put_had(struct out *o, const struct seen *s)
{
    if (!s->n)
        return;
    puts_(o, "; the request had ");
    for (size_t i = 0; i < s->n; i++) {
        puts_(o, join_sep(i, s->n + (s->more ? 1 : 0), " and "));
        puts_(o, s->names[i]);
    }
    if (s->more) {
        puts_(o, " and ");
        putcount(o, s->more, "other", "others");
    }
}

/* put_present - the headers of mine the request had ("A", "A and B"),
 * else mine's first. */
static void put_present(struct out *o, const struct seen *s)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; s->mine[i]; i++)
        n += (s->present >> i) & 1u;
    for (size_t i = 0; s->mine[i]; i++) {
        if (!((s->present >> i) & 1u))
            continue;
        puts_(o, join_sep(k++, n, " and "));
        puts_(o, s->mine[i]);
    }
    if (!n && s->mine[0])
        puts_(o, s->mine[0]);
}

/* put_body - "the body was 1,024 bytes, content type application/json". */
static void put_body(struct out *o, size_t body_len, const char *ctype)
{
    puts_(o, "the body was ");
    putcount(o, body_len, "byte", "bytes");
    puts_(o, ", content type ");
    if (ctype)
        ctype += strspn(ctype, " \t");
    if (ctype && *ctype)
        putn(o, ctype, EXPLAIN_CTYPE);
    else
        puts_(o, "(none)");
}

/* ---- one sentence per kind of refusal ---------------------------------- */

/* fallback - verify's own reason, when the detail says nothing better. */
static void fallback(struct out *o, const char *why)
{
    puts_(o, why && *why ? why : "refused by verification");
}

/* put_sig_place - "signature header A" / "signature headers A and B" (the
 * present ones) / "signature member /p". */
static void put_sig_place(struct out *o, const struct profile *p, const struct seen *s)
{
    if (p->sig_pointer) {
        puts_(o, "signature member ");
        puts_(o, p->sig_pointer);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; s->mine[i]; i++)
        n += (s->present >> i) & 1u;
    puts_(o, n > 1 ? "signature headers " : "signature header ");
    put_present(o, s);
}

/* sig_missing - VD_MISSING_SIG, VD_EMPTY_SIG, VD_SIG_TOO_LONG. */
static void sig_missing(struct out *o, const struct profile *p, const struct verify_detail *d,
                        const struct seen *s)
{
    if (d->why_code == VD_MISSING_SIG && p->sig_pointer) {
        puts_(o, "signature member ");
        puts_(o, p->sig_pointer);
        puts_(o, " missing from the body");
        return;
    }
    if (d->why_code == VD_MISSING_SIG && !p->sig_header[0]) {
        puts_(o, "signature missing");
        return;
    }
    if (d->why_code == VD_MISSING_SIG) {
        puts_(o, "signature header ");
        put_names(o, p->sig_header);
        puts_(o, " missing");
        put_had(o, s);
        return;
    }
    put_sig_place(o, p, s);
    puts_(o, d->why_code == VD_EMPTY_SIG ? " empty" : " longer than 2,048 bytes");
}

/* put_alg_len - "HMAC-SHA256 (32 bytes)" when p signs with one algorithm. */
static void put_alg_len(struct out *o, const struct profile *p)
{
    static const unsigned len[] = {32, 20, 64, 64, 0};
    if (p->fmt != PROF_FMT_VALUE && p->nver != 1) {
        puts_(o, "its algorithm");
        return;
    }
    enum prof_alg a = p->fmt == PROF_FMT_VALUE ? p->alg : p->ver[0].alg;
    puts_(o, alg_name(a));
    if ((size_t)a < sizeof(len) / sizeof(len[0]) && len[a]) {
        puts_(o, " (");
        putcount(o, len[a], "byte", "bytes");
        puts_(o, ")");
    }
}

/* mismatch - VD_MISMATCH: who tried, against how many, on what body. */
static void mismatch(struct out *o, const struct profile *p, const struct verify_detail *d,
                     size_t body_len, const char *ctype)
{
    if (!d->nsecrets) {
        puts_(o, "none of the route's secrets is a key for the algorithm of the signature sent");
    } else if (d->ncand && !d->nfit) {
        puts_(o, d->ncand > 1 ? "no signature sent has the length of "
                              : "the signature sent does not have the length of ");
        put_alg_len(o, p);
    } else {
        puts_(o, "signature mismatch: ");
        if (d->nsecrets == 1) {
            puts_(o, d->ncand > 1 ? "the secret matched none" : "the secret did not match");
        } else {
            puts_(o, "no secret of ");
            putu(o, d->nsecrets);
            puts_(o, " matched");
        }
        if (d->ncand > 1) {
            puts_(o, d->nsecrets == 1 ? " of the " : " any of the ");
            putu(o, d->ncand);
            puts_(o, " signatures sent");
        }
    }
    puts_(o, "; ");
    put_body(o, body_len, ctype);
    if (profile_uses(p, "{url}"))
        puts_(o, "; the signed content includes the URL the producer called");
}

/* field_of - the profile's sources of a {placeholder} the request lacked. */
static const struct prof_field *field_of(const struct profile *p, const char *h, size_t n,
                                         const char **what)
{
    static const char *const names[] = {"id", "type", "nonce", "timestamp"};
    const struct prof_field *lists[] = {p->id, p->type, p->nonce, p->ts};
    static const char *const whats[] = {"the event id", "the event type", "the nonce",
                                        "the timestamp"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && !memcmp(h, names[i], n)) {
            *what = whats[i];
            return lists[i];
        }
    return NULL;
}

/* hole - VD_CONTENT_HOLE: the piece of the signed content that is missing. */
static void hole(struct out *o, const struct profile *p, const struct verify_detail *d,
                 size_t body_len, const char *ctype)
{
    const char *h = d->hole ? d->hole : "";
    size_t n = d->hole ? d->hole_len : 0;
    const char *what = NULL;
    const struct prof_field *f = field_of(p, h, n, &what);
    puts_(o, "the signed content needs ");
    if (n > 7 && !memcmp(h, "header:", 7)) {
        puts_(o, "header ");
        put(o, h + 7, n - 7);
        puts_(o, ", which the request lacks");
    } else if (n > 5 && !memcmp(h, "json:", 5)) {
        puts_(o, "member ");
        put(o, h + 5, n - 5);
        puts_(o, " of the body, absent or not a string or number; ");
        put_body(o, body_len, ctype);
    } else if (n == 3 && !memcmp(h, "url", 3)) {
        puts_(o, "the URL the producer called, which could not be rebuilt from the request");
    } else if (n == 4 && !memcmp(h, "form", 4)) {
        puts_(o, "the body as a form with parameters; ");
        put_body(o, body_len, ctype);
    } else if (f) {
        puts_(o, what);
        size_t k = 0, nh = 0;
        for (size_t i = 0; f[i].src; i++)
            nh += f[i].src == PROF_HEADER;
        for (size_t i = 0; f[i].src; i++)
            if (f[i].src == PROF_HEADER) {
                puts_(o, k ? join_sep(k, nh, " or ") : " (header ");
                puts_(o, f[i].name);
                k++;
            }
        puts_(o, k ? "), which the request lacks" : ", which the request lacks");
    } else {
        puts_(o, "{");
        put(o, h, n);
        puts_(o, "}, which could not be produced");
    }
}

/* signature - the refusals of a signed profile (value, kv, list). */
static void signature(struct out *o, const struct profile *p, const struct verify_detail *d,
                      const char *why, const struct seen *s, size_t body_len, const char *ctype)
{
    switch (d->why_code) {
    case VD_MALFORMED_SIG:
        put_sig_place(o, p, s);
        puts_(o, " malformed (expected ");
        put_format(o, p);
        puts_(o, ")");
        break;
    case VD_MISMATCH:
        mismatch(o, p, d, body_len, ctype);
        break;
    case VD_CONTENT_HOLE:
        hole(o, p, d, body_len, ctype);
        break;
    case VD_BODY_NOT_JSON:
        puts_(o, "the signature is member ");
        puts_(o, p->sig_pointer ? p->sig_pointer : "?");
        puts_(o, " of the body, which is not JSON; ");
        put_body(o, body_len, ctype);
        break;
    case VD_DUP_MEMBER:
        puts_(o, "the body repeats a member on the path of the signature, ");
        puts_(o, p->sig_pointer ? p->sig_pointer : "?");
        break;
    case VD_MISSING_SIG:
    case VD_EMPTY_SIG:
    case VD_SIG_TOO_LONG:
        sig_missing(o, p, d, s);
        break;
    default:
        fallback(o, why);
    }
}

/* ts_missing - "timestamp header X missing", "timestamp entry t= missing
 * from the signature header S", "timestamp member /p missing from the
 * body", or for sources of several kinds "timestamp missing (expected
 * header X or member /p of the body)". */
static void ts_missing(struct out *o, const struct profile *p)
{
    size_t n = 0, nk[PROF_SIG + 1] = {0};
    for (; p->ts[n].src; n++)
        nk[p->ts[n].src]++;
    enum prof_src only = !n                      ? PROF_NONE
                         : nk[PROF_HEADER] == n  ? PROF_HEADER
                         : nk[PROF_POINTER] == n ? PROF_POINTER
                         : nk[PROF_SIG] == n     ? PROF_SIG
                                                 : PROF_NONE;
    static const char *const kind[] = {"", "header ", "member ", "entry "};
    static const char *const tail[] = {"", "", " of the body", "= of the signature"};
    static const char *const end[] = {"", " missing", " missing from the body",
                                      " missing from the signature header "};
    if (!n) {
        puts_(o, "timestamp missing");
        return;
    }
    puts_(o, only ? "timestamp " : "timestamp missing (expected ");
    if (only)
        puts_(o, kind[only]);
    for (size_t i = 0; i < n; i++) {
        puts_(o, join_sep(i, n, " or "));
        puts_(o, only ? "" : kind[p->ts[i].src]);
        puts_(o, p->ts[i].name);
        puts_(o, only == PROF_SIG ? "=" : only ? "" : tail[p->ts[i].src]);
    }
    puts_(o, only ? end[only] : ")");
    if (only == PROF_SIG)
        puts_(o, p->sig_header[0] ? p->sig_header[0] : "?");
}

/* timestamp - VD_*_TS: where it was, what it should read, how far off. */
static void timestamp(struct out *o, const struct profile *p, const struct verify_detail *d)
{
    uint64_t skew = d->skew_s < 0 ? (uint64_t)0 - (uint64_t)d->skew_s : (uint64_t)d->skew_s;
    uint64_t tol = d->tolerance_s < 0 ? 0 : (uint64_t)d->tolerance_s;
    switch (d->why_code) {
    case VD_MISSING_TS:
        ts_missing(o, p);
        break;
    case VD_BAD_TS:
        puts_(o, p->ts_unit == PROF_TS_RFC3339 ? "timestamp unreadable (expected an RFC 3339 "
                                                 "date-time)"
                 : p->ts_unit == PROF_TS_MS    ? "timestamp unreadable (expected unix milliseconds)"
                                               : "timestamp unreadable (expected unix seconds)");
        break;
    default:
        puts_(o, "timestamp ");
        putu(o, skew);
        puts_(o, d->why_code == VD_FUTURE_TS ? " s in the future, beyond the route's "
                                             : " s older than the route's ");
        putu(o, tol);
        puts_(o, " s tolerance");
    }
}

/* put_token_place - "header X-Gitlab-Token", "header X-Hookgate-Token or
 * Authorization: Bearer <token>". */
static void put_token_place(struct out *o, const struct profile *p)
{
    size_t n = 0;
    while (p->token_header[n])
        n++;
    puts_(o, "header ");
    for (size_t i = 0; i < n; i++) {
        puts_(o, join_sep(i, n, " or "));
        puts_(o, p->token_header[i]);
        if (!p->token_prefix && !strcasecmp(p->token_header[i], "Authorization"))
            puts_(o, ": Bearer <token>");
    }
}

/* token - VD_*TOKEN*, VD_TOO_MANY_ITEMS and the token_pointer body faults. */
static void token(struct out *o, const struct profile *p, const struct verify_detail *d,
                  const char *why, const struct seen *s, size_t body_len, const char *ctype)
{
    const char *ptr = p->token_pointer;
    switch (d->why_code) {
    case VD_MISSING_TOKEN:
        if (ptr) {
            puts_(o, "token member ");
            puts_(o, ptr);
            puts_(o, " missing: the body has no items");
            break;
        }
        puts_(o, "token missing (expected in ");
        put_token_place(o, p);
        puts_(o, ")");
        put_had(o, s);
        break;
    case VD_ITEM_NO_TOKEN:
        puts_(o, "token member ");
        puts_(o, ptr ? ptr : "?");
        puts_(o, " missing from an item of the body");
        break;
    case VD_TOO_MANY_ITEMS:
        puts_(o, "the body has more than 100 items, the most whose tokens are checked");
        break;
    case VD_BODY_NOT_JSON:
        puts_(o, "the token is member ");
        puts_(o, ptr ? ptr : "?");
        puts_(o, " of the body, which is not JSON; ");
        put_body(o, body_len, ctype);
        break;
    case VD_DUP_MEMBER:
        puts_(o, "the body repeats a member on the path of the token, ");
        puts_(o, ptr ? ptr : "?");
        break;
    case VD_TOKEN_MISMATCH:
        puts_(o, ptr ? "the token of an item did not match (" : "token did not match (");
        putcount(o, d->nsecrets, "token", "tokens");
        puts_(o, " configured)");
        break;
    default:
        fallback(o, why);
    }
}

/* basic - VD_BASIC_*. */
static void basic(struct out *o, const struct verify_detail *d, const struct seen *s)
{
    if (d->why_code == VD_BASIC_MISSING) {
        puts_(o, "Basic credentials missing (expected header Authorization: Basic "
                 "base64(user:password))");
        put_had(o, s);
    } else if (d->why_code == VD_BASIC_MALFORMED) {
        puts_(o, "Basic credentials malformed (expected base64 of user:password)");
    } else {
        puts_(o, "Basic credentials did not match (");
        putu(o, d->nsecrets);
        puts_(o, " configured)");
    }
}

/* jwt - VD_JWT_*: verify's (constant) reason with the header's name. */
static void jwt(struct out *o, const struct profile *p, const struct verify_detail *d,
                const char *why, const struct seen *s)
{
    const char *h = p->sig_header[0] ? p->sig_header[0] : "?";
    if (d->why_code == VD_JWT_MISSING) {
        puts_(o, "JWT missing (expected in header ");
        puts_(o, h);
        if (p->sig_prefix && *p->sig_prefix) {
            puts_(o, ": ");
            puts_(o, p->sig_prefix);
            puts_(o, "<token>");
        }
        puts_(o, ")");
        put_had(o, s);
        return;
    }
    puts_(o, "JWT in header ");
    puts_(o, h);
    puts_(o, " refused: ");
    if (d->why_code == VD_JWT_CLAIMS)
        why = "its claims are not the route's jwt_claims";
    if (why && !strncmp(why, "JWT ", 4))
        why += 4;
    puts_(o, why && *why ? why : "invalid");
}

/* sentence - the whole text for d under p. */
static void sentence(struct out *o, const struct profile *p, const struct verify_detail *d,
                     const char *why, explain_each_header_fn each, void *hctx, size_t body_len,
                     const char *ctype)
{
    static char *const basic_hdr[] = {"Authorization", NULL};
    char *const *mine = p->fmt == PROF_FMT_TOKEN   ? p->token_header
                        : p->fmt == PROF_FMT_BASIC ? basic_hdr
                                                   : p->sig_header;
    struct seen s;
    scan(&s, p, mine, each, hctx);
    switch (d->why_code) {
    case VD_MISSING_TS:
    case VD_BAD_TS:
    case VD_STALE_TS:
    case VD_FUTURE_TS:
        timestamp(o, p, d);
        return;
    case VD_BASIC_MISSING:
    case VD_BASIC_MALFORMED:
    case VD_BASIC_MISMATCH:
        basic(o, d, &s);
        return;
    case VD_JWT_MISSING:
    case VD_JWT_INVALID:
    case VD_JWT_CLAIMS:
        jwt(o, p, d, why, &s);
        return;
    default:
        break;
    }
    if (p->fmt == PROF_FMT_TOKEN)
        token(o, p, d, why, &s, body_len, ctype);
    else
        signature(o, p, d, why, &s, body_len, ctype);
}

int explain_verify(const struct profile *p, const struct verify_detail *d, const char *why,
                   explain_each_header_fn each, void *hctx, size_t body_len, const char *ctype,
                   char *out, size_t cap)
{
    if (!out || !cap)
        return HG_EINVAL;
    struct out o = {out, 0, cap, 0};
    out[0] = '\0';
    if (p && d && d->why_code != VD_NONE)
        sentence(&o, p, d, why, each, hctx, body_len, ctype);
    else
        fallback(&o, why);
    if (!o.cut)
        return HG_OK;
    if (cap >= 4)
        memcpy(out + cap - 4, "...", 4);
    return HG_ETOOBIG;
}
