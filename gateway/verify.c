/*
 * verify.c - signature schemes interpreted from a profile (see verify.h):
 * a request checked, and a request signed, with a verifier's keys.  The
 * verifier is built and freed by verify_key.c (struct verifier:
 * verify_int.h).
 *
 * For HMAC the signed content is never assembled: the template is walked
 * (verify_tpl.c) and each piece fed to the MAC, so a 1 MiB body costs no
 * copy.  Ed25519 (pure) and ECDSA need the whole message, which is
 * assembled in a temporary buffer.  Public keys are read by pubkey.c, JWTs
 * checked by jwt.c.  Tokens, Basic credentials and every MAC are compared
 * in constant time.
 * Invariant: no function here logs or returns secret or digest bytes; a
 * verify_detail gets decisions, counts and clock skew, counted outside the
 * constant-time comparisons from what is public (lengths, algorithms).
 */
#include "verify.h"
#include "codec.h"
#include "err.h"
#include "jwt.h"
#include "profile.h"
#include "pubkey.h"
#include "verify_int.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

_Static_assert(PROF_JWT_HS256 == JWT_HS256 && PROF_JWT_RS256 == JWT_RS256 &&
                   PROF_JWT_ES256 == JWT_ES256,
               "profile.h's JWT bits are jwt.h's");

#define VERIFY_DIGEST_MAX 64
#define VERIFY_SIG_MAX    80 /* a DER ECDSA P-256 signature is at most 72 bytes */
#define VERIFY_SIGS_MAX   8
#define VERIFY_HDR_MAX    2048 /* a signature header longer than this is refused */
#define VERIFY_PK_MAX     16   /* public-key verifications per request, at most */
#define VERIFY_ITEMS_MAX  100  /* token_pointer: items of a body */

static int put_mac(void *c, const void *p, size_t n)
{
    return EVP_MAC_update(c, p, n);
}

struct mbuf {
    unsigned char *p;
    size_t len, cap;
};

static int put_buf(void *c, const void *p, size_t n)
{
    struct mbuf *b = c;
    if (b->len + n > b->cap) {
        size_t nc = (b->len + n) * 2;
        unsigned char *q = realloc(b->p, nc);
        if (!q)
            return 0;
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 1;
}

/* message - the assembled content (public-key schemes) into m (caller
 * frees m->p); 0 with m->p NULL when it cannot be built. */
static int message(struct vt *t, struct mbuf *m)
{
    m->cap = t->in->body_len + strlen(t->p->content) + 1024;
    m->len = 0;
    if (!(m->p = malloc(m->cap)))
        return 0;
    if (vt_walk(t, put_buf, m))
        return 1;
    free(m->p);
    m->p = NULL;
    return 0;
}

struct cand {
    enum prof_alg alg;
    size_t len;
    unsigned char b[VERIFY_SIG_MAX];
};

static int decode(const struct profile *p, const char *s, size_t n, struct cand *c)
{
    if (p->enc == PROF_ENC_HEX) {
        c->len = n / 2;
        return n % 2 || !c->len || c->len > sizeof(c->b) || hex_decode(s, n, c->b, c->len);
    }
    if (p->enc == PROF_ENC_BASE64URL)
        return b64url_decode(s, n, c->b, sizeof(c->b), &c->len) || !c->len;
    return b64_decode(s, n, c->b, sizeof(c->b), &c->len) || !c->len;
}

static int version_alg(const struct profile *p, const char *t, size_t n, enum prof_alg *a)
{
    for (size_t i = 0; i < p->nver; i++)
        if (strlen(p->ver[i].tag) == n && !memcmp(p->ver[i].tag, t, n)) {
            *a = p->ver[i].alg;
            return 1;
        }
    return 0;
}

static const char *ts_sig_key(const struct profile *p)
{
    for (int i = 0; p->ts[i].src; i++)
        if (p->ts[i].src == PROF_SIG)
            return p->ts[i].name;
    return NULL;
}

/* candidates - the signatures in header value sig, appended to c (nc so
 * far); the kv timestamp entry goes to ts.  Returns the new count. */
static size_t candidates(const struct profile *p, const char *sig, struct cand *c, size_t nc,
                         char *ts, size_t tscap)
{
    if (p->fmt == PROF_FMT_VALUE) {
        size_t pl = p->sig_prefix ? strlen(p->sig_prefix) : 0;
        if (pl && !strncmp(sig, p->sig_prefix, pl))
            sig += pl;
        else if (pl && !p->sig_prefix_optional)
            return nc;
        c[nc].alg = p->alg;
        return nc < VERIFY_SIGS_MAX && !decode(p, sig, strlen(sig), &c[nc]) ? nc + 1 : nc;
    }
    const char *tskey = ts_sig_key(p);
    char sep = (char)(p->fmt == PROF_FMT_KV ? p->kv_sep : ' ');
    char eq = (char)(p->fmt == PROF_FMT_KV ? '=' : ',');
    const char seps[2] = {sep, '\0'};
    for (const char *s = sig; *s;) {
        while (*s == ' ' || *s == sep)
            s++;
        size_t n = strcspn(s, seps); /* up to the next separator or the end */
        while (n && s[n - 1] == ' ')
            n--;
        const char *q = memchr(s, eq, n);
        if (q && n) {
            size_t kl = (size_t)(q - s), vl = n - kl - 1;
            enum prof_alg a;
            if (tskey && strlen(tskey) == kl && !memcmp(s, tskey, kl) && vl < tscap) {
                memcpy(ts, q + 1, vl);
                ts[vl] = '\0';
            } else if (nc < VERIFY_SIGS_MAX && version_alg(p, s, kl, &a)) {
                c[nc].alg = a;
                if (!decode(p, q + 1, vl, &c[nc]))
                    nc++;
            }
        }
        s += n;
        while (*s == ' ')
            s++;
    }
    return nc;
}

/* pk_check - 1 if a candidate is a valid public-key signature by k. */
static int pk_check(const struct vkey *k, struct vt *t, struct mbuf *m, int *tried,
                    const struct cand *c, size_t nc, int *left)
{
    if (!(*tried)++)
        message(t, m);
    int ok = 0;
    for (size_t j = 0; j < nc && !ok && m->p; j++) {
        if (c[j].alg != k->alg || (*left)-- <= 0)
            continue;
        ok = pubkey_verify(k->pk, 0, c[j].b, c[j].len, m->p, m->len) == 1;
    }
    return ok;
}

/* mac_take - a context keyed with k's key and ready for content: a spare
 * reset to the key, or a copy of k->mac.  NULL on OOM. */
static EVP_MAC_CTX *mac_take(const struct vkey *k)
{
    struct mac_spares *s = k->spares;
    EVP_MAC_CTX *x = NULL;
    if (s) {
        pthread_mutex_lock(&s->lock);
        if (s->n)
            x = s->x[--s->n];
        pthread_mutex_unlock(&s->lock);
    }
    if (x && EVP_MAC_init(x, NULL, 0, NULL)) /* back to the key, whatever state it was left in */
        return x;
    EVP_MAC_CTX_free(x);
    return EVP_MAC_CTX_dup(k->mac);
}

/* mac_give - x back among k's spares if its MAC was finished; freed if it
 * was left mid-content, if the spares are full, or if k keeps none
 * (verify_key.c reset_works). */
static void mac_give(const struct vkey *k, EVP_MAC_CTX *x, int finished)
{
    struct mac_spares *s = k->spares;
    if (s && x && finished) {
        pthread_mutex_lock(&s->lock);
        if (s->n < VKEY_SPARES) {
            s->x[s->n++] = x;
            x = NULL;
        }
        pthread_mutex_unlock(&s->lock);
    }
    EVP_MAC_CTX_free(x);
}

/* match_any - 1 if any candidate is valid under any key.  Each HMAC key
 * runs over the content once and is compared (constant time) with every
 * candidate of its algorithm, so a header full of decoys costs no more
 * MAC passes than there are keys; public-key checks are capped. */
static int match_any(const struct verifier *v, struct vt *t, const struct cand *c, size_t nc)
{
    struct mbuf m = {0};
    int ok = 0, msg_tried = 0, pk_left = VERIFY_PK_MAX;
    for (size_t i = 0; i < v->n && !ok; i++) {
        const struct vkey *k = &v->k[i];
        int want = 0;
        for (size_t j = 0; j < nc; j++)
            want |= c[j].alg == k->alg;
        if (!want)
            continue;
        if (vkey_is_pk(k->alg)) {
            ok = pk_check(k, t, &m, &msg_tried, c, nc, &pk_left);
            continue;
        }
        unsigned char md[VERIFY_DIGEST_MAX];
        size_t mlen = 0;
        EVP_MAC_CTX *x = mac_take(k);
        int built = x && vt_walk(t, put_mac, x) && EVP_MAC_final(x, md, &mlen, sizeof(md));
        mac_give(k, x, built);
        for (size_t j = 0; built && j < nc; j++)
            if (c[j].alg == k->alg && c[j].len == mlen)
                ok |= CRYPTO_memcmp(md, c[j].b, mlen) == 0;
        OPENSSL_cleanse(md, sizeof(md));
    }
    free(m.p);
    return ok;
}

/* check_timestamp - VD_NONE if ts is within tolerance, else why not; the
 * skew into d (may be NULL) when ts could be read. */
static enum verify_why check_timestamp(const struct profile *p, const char *ts, int64_t now,
                                       long tol, struct verify_detail *d)
{
    int64_t t;
    if (!ts)
        return VD_MISSING_TS;
    if (vt_time(p->ts_unit, ts, &t))
        return VD_BAD_TS;
    if (d) {
        d->has_ts = 1;
        d->skew_s = now - t;
    }
    if (now - t > tol)
        return VD_STALE_TS;
    if (p->reject_future && t - now > tol)
        return VD_FUTURE_TS;
    return VD_NONE;
}

/* note - why into the request's detail, when one is wanted. */
static void note(const struct verify_input *in, enum verify_why why)
{
    if (in->detail)
        in->detail->why_code = why;
}

/* fits - 1 if a signature of n bytes has the length algorithm a gives. */
static int fits(enum prof_alg a, size_t n)
{
    switch (a) {
    case PROF_ALG_HMAC_SHA1:
        return n == 20;
    case PROF_ALG_HMAC_SHA512:
    case PROF_ALG_ED25519:
        return n == 64;
    case PROF_ALG_ECDSA_P256:
        return n >= 8 && n <= 72; /* DER: its length varies */
    default:
        return n == 32;
    }
}

/* tally - after a failed match: how many of v's secrets have a key for
 * some candidate's algorithm, and how many candidates have a length such
 * a key gives.  Public facts only (kinds and lengths, not bytes). */
static void tally(const struct verifier *v, const struct cand *c, size_t nc,
                  struct verify_detail *d)
{
    size_t last = (size_t)-1;
    for (size_t i = 0; i < v->n; i++) {
        int want = 0;
        for (size_t j = 0; j < nc; j++)
            want |= c[j].alg == v->k[i].alg;
        if (want && v->k[i].sec != last) { /* a secret's keys are adjacent */
            d->nsecrets++;
            last = v->k[i].sec;
        }
    }
    for (size_t j = 0; j < nc; j++)
        for (size_t i = 0; i < v->n; i++)
            if (v->k[i].alg == c[j].alg && fits(c[j].alg, c[j].len)) {
                d->nfit++;
                break;
            }
}

/* token_match - 1 if tok (n bytes) is one of v's secrets (constant time
 * over the digests). */
static int token_match(const struct verifier *v, const char *tok, size_t n)
{
    unsigned char d[32];
    verify_token_digest(tok, n, d);
    int match = 0;
    for (size_t i = 0; i < v->n; i++)
        match |= CRYPTO_memcmp(d, v->k[i].tok, 32) == 0;
    OPENSSL_cleanse(d, sizeof(d));
    return match;
}

/* check_items - token_pointer: every item carries a known token. */
static int check_items(const struct verifier *v, struct vt *t, const char **why)
{
    const char *ptr = v->p->token_pointer, *star = strstr(ptr, "/*");
    char path[300], val[512];
    size_t items = 0, len;
    for (size_t i = 0; i < VERIFY_ITEMS_MAX; i++) {
        if (star)
            snprintf(path, sizeof(path), "%.*s/%zu%s", (int)(star - ptr), ptr, i, star + 2);
        else if (i)
            break;
        else
            snprintf(path, sizeof(path), "%s", ptr);
        int rc = vt_body_value(t, path, val, sizeof(val), &len);
        if (rc == HG_ENOID && star) {
            /* the end of the list, or an item without the token */
            snprintf(path, sizeof(path), "%.*s/%zu", (int)(star - ptr), ptr, i);
            if (!vt_body_exists(t, path))
                break; /* the end of the list */
        }
        if (rc) {
            *why = rc == HG_EBADJSON ? "body is not JSON" : "an item has no token";
            note(t->in, rc == HG_EBADJSON  ? VD_BODY_NOT_JSON
                        : rc == HG_EDUPKEY ? VD_DUP_MEMBER
                                           : VD_ITEM_NO_TOKEN);
            return HG_ESIG;
        }
        if (!token_match(v, val, len)) {
            *why = "token mismatch";
            note(t->in, VD_TOKEN_MISMATCH);
            return HG_ESIG;
        }
        items++;
    }
    if (star && items == VERIFY_ITEMS_MAX) {
        snprintf(path, sizeof(path), "%.*s/%d", (int)(star - ptr), ptr, VERIFY_ITEMS_MAX);
        if (vt_body_exists(t, path)) {
            *why = "more than 100 items";
            note(t->in, VD_TOO_MANY_ITEMS);
            return HG_ESIG;
        }
    }
    if (!items)
        note(t->in, VD_MISSING_TOKEN);
    *why = items ? NULL : "missing token";
    return items ? HG_OK : HG_ESIG;
}

/* check_basic - Authorization: Basic base64(user:password), one of v's. */
static int check_basic(const struct verifier *v, const struct verify_input *in, const char **why)
{
    unsigned char cred[512];
    size_t n = 0;
    const char *h = in->token;
    if (!h || strncasecmp(h, "Basic ", 6)) {
        *why = "missing Basic credentials";
        note(in, VD_BASIC_MISSING);
        return HG_ESIG;
    }
    h += 6;
    while (*h == ' ')
        h++;
    if (b64_decode(h, strlen(h), cred, sizeof(cred), &n) || !memchr(cred, ':', n)) {
        *why = "malformed Basic credentials";
        note(in, VD_BASIC_MALFORMED);
        return HG_ESIG;
    }
    int ok = token_match(v, (const char *)cred, n);
    OPENSSL_cleanse(cred, sizeof(cred));
    if (!ok)
        note(in, VD_BASIC_MISMATCH);
    *why = ok ? NULL : "credentials mismatch";
    return ok ? HG_OK : HG_ESIG;
}

/* pinned_claims - 1 if the (already verified) token's payload carries every
 * claim the route pins, equal. */
static int pinned_claims(const struct verifier *v, const char *tok)
{
    const char *a = strchr(tok, '.'), *b = a ? strchr(a + 1, '.') : NULL;
    size_t n = b ? (size_t)(b - a - 1) : 0;
    char *q = n && n <= JWT_TOKEN_MAX ? malloc(n + 4) : NULL;
    unsigned char *raw = q ? malloc(n) : NULL;
    size_t rl = 0;
    int ok = 0;
    if (raw) {
        for (size_t i = 0; i < n; i++)
            q[i] = (char)(a[1 + i] == '-' ? '+' : a[1 + i] == '_' ? '/' : a[1 + i]);
        size_t m = n;
        while (m % 4)
            q[m++] = '=';
        json_t *pl = b64_decode(q, m, raw, n, &rl) ? NULL : json_loadb((char *)raw, rl, 0, NULL);
        const char *k;
        json_t *want;
        ok = json_is_object(pl);
        json_object_foreach(v->claims, k, want) ok &= json_equal(json_object_get(pl, k), want);
        json_decref(pl);
    }
    free(q);
    free(raw);
    return ok;
}

/* expand - a JWT audience/subject template: "{url}" or a literal.  An
 * unknown URL gives a text no claim can equal (a claim is never "\x01"). */
static const char *expand(const char *tpl, const struct verify_input *in)
{
    return tpl && !strcmp(tpl, "{url}") ? (in->url && *in->url ? in->url : "\x01") : tpl;
}

static int check_jwt(const struct verifier *v, const struct verify_input *in, const char **why)
{
    const struct profile *p = v->p;
    const char *tok = in->signature;
    size_t pl = p->sig_prefix ? strlen(p->sig_prefix) : 0;
    if (tok && pl && !strncasecmp(tok, p->sig_prefix, pl))
        tok += pl;
    if (!tok || !*tok) {
        *why = "missing token";
        note(in, VD_JWT_MISSING);
        return HG_ESIG;
    }
    struct jwt_want w = {.issuers = (const char *const *)p->jwt.iss,
                         .nissuers = p->jwt.niss,
                         .audience = expand(p->jwt.aud, in),
                         .subject = expand(p->jwt.sub, in),
                         .body_claim = p->jwt.body_claim,
                         .body_hex = p->jwt.body_hex,
                         .body = in->body ? in->body : "",
                         .body_len = in->body_len,
                         .now_s = in->now_s,
                         .leeway_s = p->jwt.leeway_s};
    int rc = jwt_verify(v->jwt, tok, strlen(tok), &w, why);
    if (rc)
        note(in, VD_JWT_INVALID);
    if (rc == HG_OK && v->claims && !pinned_claims(v, tok)) {
        *why = "token claims not the route's jwt_claims";
        note(in, VD_JWT_CLAIMS);
        rc = HG_ESIG;
    }
    return rc;
}

/* signature_of - the candidates of a request: every present signature
 * header, or the body member; the kv timestamp into tsbuf. */
static int signature_of(const struct profile *p, struct vt *t, struct cand *c, size_t *nc,
                        char *tsbuf, size_t tscap, const char **why)
{
    const struct verify_input *in = t->in;
    char body_sig[VERIFY_HDR_MAX + 1];
    const char *sigs[PROF_MAX_HDR + 1] = {in->signature};
    size_t ns = in->signature ? 1 : 0, len;
    for (size_t i = 0; ns && i < PROF_MAX_HDR - 1 && in->sig_alt[i]; i++)
        sigs[ns++] = in->sig_alt[i];
    if (p->sig_pointer) {
        int rc = vt_body_value(t, p->sig_pointer, body_sig, sizeof(body_sig), &len);
        ns = 0;
        if (rc == HG_OK)
            sigs[ns++] = body_sig;
        else if (rc != HG_ENOID) {
            *why = rc == HG_ETOOBIG ? "signature header too long" : "signature member unreadable";
            note(in, rc == HG_ETOOBIG   ? VD_SIG_TOO_LONG
                     : rc == HG_EDUPKEY ? VD_DUP_MEMBER
                                        : VD_BODY_NOT_JSON);
            return HG_ESIG;
        }
    }
    if (!ns || !*sigs[0]) {
        *why = "missing signature";
        note(in, ns ? VD_EMPTY_SIG : VD_MISSING_SIG);
        return HG_ESIG;
    }
    *nc = 0;
    for (size_t i = 0; i < ns; i++) {
        if (strlen(sigs[i]) > VERIFY_HDR_MAX) {
            *why = "signature header too long";
            note(in, VD_SIG_TOO_LONG);
            return HG_ESIG;
        }
        *nc = candidates(p, sigs[i], c, *nc, tsbuf, tscap);
    }
    return HG_OK;
}

/* timestamp_of - the timestamp as sent: a header, the kv entry, or the body. */
static const char *timestamp_of(const struct profile *p, struct vt *t, const char *kv, char *buf,
                                size_t cap)
{
    if (t->in->timestamp)
        return t->in->timestamp;
    if (kv[0])
        return kv;
    size_t len;
    for (int i = 0; p->ts[i].src; i++)
        if (p->ts[i].src == PROF_POINTER &&
            vt_body_value(t, p->ts[i].name, buf, cap, &len) == HG_OK)
            return buf;
    return NULL;
}

static int check_signed(const struct verifier *v, struct vt *t, const char **why)
{
    const struct profile *p = v->p;
    struct cand c[VERIFY_SIGS_MAX];
    char tsbuf[48] = "", tsbody[48];
    size_t nc = 0;
    int rc = signature_of(p, t, c, &nc, tsbuf, sizeof(tsbuf), why);
    if (rc)
        return rc;
    struct verify_detail *d = t->in->detail;
    if (d)
        d->ncand = (unsigned)nc;
    const char *ts = timestamp_of(p, t, tsbuf, tsbody, sizeof(tsbody));
    if (ts && ts != t->in->timestamp) /* kept in t: tsbuf and tsbody end with this call */
        snprintf(t->tsown, sizeof(t->tsown), "%s", ts);
    t->ts = ts && ts != t->in->timestamp ? t->tsown : ts;
    enum verify_why tw =
        p->has_timestamp ? check_timestamp(p, t->ts, t->in->now_s, t->in->tolerance_s, d) : VD_NONE;
    if (tw != VD_NONE) {
        *why = t->ts ? "timestamp outside tolerance" : "missing timestamp";
        note(t->in, tw);
        return HG_ESTALE;
    }
    if (!nc) {
        *why = "malformed signature";
        note(t->in, VD_MALFORMED_SIG);
        return HG_ESIG;
    }
    *why = "signature mismatch";
    if (!match_any(v, t, c, nc)) {
        if (d) {
            tally(v, c, nc, d);
            d->why_code = t->hole ? VD_CONTENT_HOLE : VD_MISMATCH;
            d->hole = t->hole;
            d->hole_len = t->hole ? t->hole_len : 0;
        }
        return HG_ESIG;
    }
    *why = NULL;
    return HG_OK;
}

/* detail_init - in->detail (if any) zeroed, with what is known before
 * anything is checked: the window, the header, the secrets (counted again
 * for a signature: only those of its algorithms are tried). */
static void detail_init(const struct verifier *v, const struct verify_input *in)
{
    struct verify_detail *d = in->detail;
    if (!d)
        return;
    const struct profile *p = v->p;
    memset(d, 0, sizeof(*d));
    d->tolerance_s = in->tolerance_s;
    if (p->fmt == PROF_FMT_TOKEN)
        d->sig_header = p->token_pointer ? NULL : p->token_header[0];
    else if (p->fmt == PROF_FMT_BASIC)
        d->sig_header = "Authorization";
    else if (p->fmt != PROF_FMT_NONE && !p->sig_pointer)
        d->sig_header = p->sig_header[0];
    if (p->fmt == PROF_FMT_TOKEN || p->fmt == PROF_FMT_BASIC || p->fmt == PROF_FMT_JWT)
        d->nsecrets = (unsigned)v->n;
}

int verify_check(const struct verifier *v, const struct verify_input *in, const char **reason)
{
    const struct profile *p = v->p;
    const char *why = NULL;
    int rc = HG_ESIG;
    struct vt t;
    vt_init(&t, p, in);
    detail_init(v, in);
    switch (p->fmt) {
    case PROF_FMT_NONE:
        rc = HG_OK;
        break;
    case PROF_FMT_TOKEN:
        if (p->token_pointer) {
            rc = check_items(v, &t, &why);
            break;
        }
        {
            const char *tok = in->token;
            size_t pl = p->token_prefix ? strlen(p->token_prefix) : 0;
            if (tok && pl && !strncasecmp(tok, p->token_prefix, pl))
                tok += pl;
            if (!tok || !*tok)
                why = "missing token";
            else if (!token_match(v, tok, strlen(tok)))
                why = "token mismatch";
            note(in, !why ? VD_NONE : tok && *tok ? VD_TOKEN_MISMATCH : VD_MISSING_TOKEN);
            rc = why ? HG_ESIG : HG_OK;
        }
        break;
    case PROF_FMT_BASIC:
        rc = check_basic(v, in, &why);
        break;
    case PROF_FMT_JWT:
        rc = check_jwt(v, in, &why);
        break;
    default:
        rc = check_signed(v, &t, &why);
    }
    vt_done(&t);
    if (reason)
        *reason = rc ? why : NULL;
    return rc;
}

/* sign_jwt - a token for in: iss (the first), sub/aud, iat/nbf/exp (5 min),
 * the body hash claim. */
static int sign_jwt(const struct verifier *v, const struct secret *key,
                    const struct verify_input *in, char *out, size_t cap)
{
    const struct profile *p = v->p;
    json_t *c = json_pack("{sI sI sI}", "iat", (json_int_t)in->now_s, "nbf", (json_int_t)in->now_s,
                          "exp", (json_int_t)in->now_s + 300);
    if (!c)
        return HG_ENOMEM;
    if (p->jwt.niss)
        json_object_set_new(c, "iss", json_string(p->jwt.iss[0]));
    if (p->jwt.aud)
        json_object_set_new(c, "aud", json_string(expand(p->jwt.aud, in)));
    if (p->jwt.sub)
        json_object_set_new(c, "sub", json_string(expand(p->jwt.sub, in)));
    if (p->jwt.body_claim) {
        unsigned char h[SHA256_DIGEST_LENGTH];
        char enc[2 * SHA256_DIGEST_LENGTH + 1];
        SHA256((const unsigned char *)(in->body ? in->body : ""), in->body_len, h);
        if (p->jwt.body_hex)
            hex_encode(h, sizeof(h), enc);
        else
            b64url_encode(h, sizeof(h), enc);
        json_object_set_new(c, p->jwt.body_claim, json_string(enc));
    }
    for (size_t i = 0; in->claims && in->claims[i]; i++) { /* true/false: booleans */
        const char *eq = strchr(in->claims[i], '=');
        if (!eq)
            continue;
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - in->claims[i]), in->claims[i]);
        json_object_set_new(c, name,
                            !strcmp(eq + 1, "true")    ? json_true()
                            : !strcmp(eq + 1, "false") ? json_false()
                                                       : json_string(eq + 1));
    }
    char *claims = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(c);
    if (!claims)
        return HG_ENOMEM;
    unsigned alg = p->jwt.algs & JWT_HS256   ? JWT_HS256
                   : p->jwt.algs & JWT_RS256 ? JWT_RS256
                                             : JWT_ES256;
    size_t pl = p->sig_prefix ? strlen(p->sig_prefix) : 0;
    int rc = pl >= cap ? HG_ETOOBIG : HG_OK;
    if (!rc) {
        snprintf(out, cap, "%s", p->sig_prefix ? p->sig_prefix : "");
        rc = jwt_sign(alg, key, NULL, claims, out + pl, cap - pl);
    }
    free(claims);
    return rc;
}

/* sign_raw - the signature bytes of in under v's first key. */
static int sign_raw(const struct verifier *v, struct vt *t, unsigned char *sig, size_t cap,
                    size_t *len)
{
    const struct vkey *k = &v->k[0];
    if (vkey_is_pk(k->alg)) {
        struct mbuf m = {0};
        int ok =
            k->priv && message(t, &m) && pubkey_sign(k->pk, 0, m.p, m.len, sig, cap, len) == HG_OK;
        free(m.p);
        return ok ? HG_OK : HG_EINVAL;
    }
    EVP_MAC_CTX *c = mac_take(k);
    int ok = c && vt_walk(t, put_mac, c) && EVP_MAC_final(c, sig, len, cap);
    mac_give(k, c, ok);
    return ok ? HG_OK : HG_EINVAL;
}

/* sign_format - the header value for an encoded signature enc. */
static int sign_format(const struct profile *p, enum prof_alg alg, const char *ts, const char *enc,
                       char *out, size_t cap)
{
    const char *tag = "";
    for (size_t i = 0; i < p->nver; i++)
        if (p->ver[i].alg == alg) {
            tag = p->ver[i].tag;
            break;
        }
    int n;
    const char *tskey = ts_sig_key(p);
    if (p->fmt == PROF_FMT_VALUE)
        n = snprintf(out, cap, "%s%s", p->sig_prefix ? p->sig_prefix : "", enc);
    else if (p->fmt == PROF_FMT_LIST)
        n = snprintf(out, cap, "%s,%s", tag, enc);
    else if (tskey)
        n = snprintf(out, cap, "%s=%s%c%s=%s", tskey, ts ? ts : "", p->kv_sep, tag, enc);
    else
        n = snprintf(out, cap, "%s=%s", tag, enc);
    return n < 0 || (size_t)n >= cap ? HG_ETOOBIG : HG_OK;
}

int verify_sign(const struct verifier *v, const struct verify_input *in, char *out, size_t cap)
{
    const struct profile *p = v->p;
    if (p->fmt == PROF_FMT_NONE || !v->n)
        return HG_EINVAL;
    if (p->fmt == PROF_FMT_TOKEN || p->fmt == PROF_FMT_BASIC) {
        size_t n = in->token ? strlen(in->token) : 0;
        if (!in->token || (n + 3) / 3 * 4 + 8 > cap)
            return HG_ETOOBIG;
        if (p->fmt == PROF_FMT_TOKEN) {
            memcpy(out, in->token, n + 1);
        } else {
            snprintf(out, cap, "Basic ");
            b64_encode((const unsigned char *)in->token, n, out + 6);
        }
        return HG_OK;
    }
    if (p->fmt == PROF_FMT_JWT) {
        struct secret key = {(unsigned char *)(uintptr_t)in->token,
                             in->token ? strlen(in->token) : 0};
        return in->token ? sign_jwt(v, &key, in, out, cap) : HG_EINVAL;
    }
    unsigned char sig[VERIFY_SIG_MAX];
    size_t len = 0;
    struct vt t;
    vt_init(&t, p, in);
    t.ts = in->timestamp;
    char tsbody[48];
    int header_ts = 0;
    for (int i = 0; p->ts[i].src; i++)
        header_ts |= p->ts[i].src != PROF_POINTER;
    size_t tl;
    if (p->has_timestamp && !header_ts) /* signed as the body says (Mailgun) */
        for (int i = 0; p->ts[i].src; i++)
            if (vt_body_value(&t, p->ts[i].name, tsbody, sizeof(tsbody), &tl) == HG_OK) {
                t.ts = tsbody;
                break;
            }
    int rc = sign_raw(v, &t, sig, sizeof(sig), &len);
    vt_done(&t);
    if (rc)
        return rc;
    char enc[2 * VERIFY_SIG_MAX + 4];
    if (p->enc == PROF_ENC_HEX)
        hex_encode(sig, len, enc);
    else if (p->enc == PROF_ENC_BASE64URL)
        b64url_encode(sig, len, enc);
    else
        b64_encode(sig, len, enc);
    OPENSSL_cleanse(sig, sizeof(sig));
    return sign_format(p, v->k[0].alg, in->timestamp, enc, out, cap);
}
