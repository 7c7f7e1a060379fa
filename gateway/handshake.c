/*
 * handshake.c - match and answer registration challenges (handshake.h).
 *
 * Values come from the request (a JSON member of the body, a query
 * parameter, a header), a literal, or an HMAC of one of those keyed by the
 * route's first secret (Zoom's encryptedToken, X's response_token).
 * Invariants: an answer never contains a secret; a value to HMAC must look
 * like a token and not like a JSON text, so that no request can obtain the
 * signature of a body it chose (X signs its events with the same key and
 * algorithm as its CRC answer); every value is bounded (HS_VALUE_MAX).
 */
#include "handshake.h"
#include "buf.h"
#include "codec.h"
#include "err.h"
#include "jscan.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define HS_TOKEN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/=-"

/* body_value - the string (decoded) or number at pointer ptr of the body. */
static int body_value(const struct hs_request *r, const char *ptr, char *out, size_t cap,
                      size_t *len)
{
    struct jscan_span s;
    int valid = r->json ? *r->json : 0;
    if (r->body && !valid) {
        valid = jscan_scan(r->body, r->body_len, NULL, NULL, 0, NULL) == JSCAN_OK ? 1 : -1;
        if (r->json)
            *r->json = valid;
    }
    if (!r->body || valid < 0 || jscan_pointer(r->body, r->body_len, ptr, &s, NULL) != JSCAN_OK)
        return HG_ENOID;
    if (s.kind == JSCAN_NUMBER && s.len < cap) {
        memcpy(out, s.ptr, s.len);
        out[s.len] = '\0';
        *len = s.len;
        return HG_OK;
    }
    if (s.kind != JSCAN_STRING)
        return HG_ENOID;
    return jscan_string_decode(s.ptr, s.len, out, cap, len) == JSCAN_OK ? HG_OK : HG_ENOID;
}

/* lookup - a condition's or value's source into out; HG_OK or HG_ENOID. */
static int lookup(const struct hs_request *r, int kind, const char *name, char *out, size_t cap,
                  size_t *len)
{
    if (kind == PROF_VAL_POINTER)
        return body_value(r, name, out, cap, len);
    const char *v = kind == PROF_VAL_QUERY    ? (r->query ? r->query(r->ctx, name) : NULL)
                    : kind == PROF_VAL_HEADER ? (r->header ? r->header(r->ctx, name) : NULL)
                                              : name;
    if (!v || (*len = strlen(v)) >= cap)
        return HG_ENOID;
    memcpy(out, v, *len + 1);
    return HG_OK;
}

static int cond_kind(enum prof_cond_src s)
{
    return s == PROF_COND_POINTER ? PROF_VAL_POINTER
           : s == PROF_COND_QUERY ? PROF_VAL_QUERY
                                  : PROF_VAL_HEADER;
}

/* conds_hold - 1 if every condition holds for r. */
static int conds_hold(const struct prof_cond *c, size_t n, const struct hs_request *r)
{
    char v[HS_VALUE_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        if (c[i].src == PROF_COND_POINTER && !r->body)
            return 0;
        if (lookup(r, cond_kind(c[i].src), c[i].name, v, sizeof(v), &len) != HG_OK)
            return 0;
        if (c[i].equals ? strcmp(v, c[i].equals) != 0 : len == 0)
            return 0;
    }
    return 1;
}

const struct prof_handshake *handshake_match(const struct profile *p, const struct hs_request *req)
{
    for (size_t i = 0; i < p->nhs; i++) {
        const struct prof_handshake *h = &p->hs[i];
        if (!strcmp(h->method, req->method) && conds_hold(h->when, h->nwhen, req))
            return h;
    }
    return NULL;
}

const char *handshake_type(const struct profile *p, const struct hs_request *req)
{
    for (size_t i = 0; i < p->ntype_when; i++)
        if (conds_hold(p->type_when[i].when, p->type_when[i].nwhen, req))
            return p->type_when[i].type;
    return NULL;
}

/* token_like - 1 if v could be a challenge token and not a signed body. */
static int token_like(const char *v, size_t n)
{
    return n > 0 && strspn(v, HS_TOKEN_CHARS) == n &&
           jscan_scan(v, n, NULL, NULL, 0, NULL) != JSCAN_OK;
}

/* value - one answer value into out (cap > 2 * 64 + prefix). */
static int value(const struct prof_val *pv, const struct hs_request *r, const struct secret *key,
                 char *out, size_t cap, size_t *len, const char **why)
{
    if (pv->kind != PROF_VAL_HMAC) {
        if (lookup(r, pv->kind, pv->name, out, cap, len) != HG_OK ||
            (pv->kind != PROF_VAL_LITERAL && !*len)) {
            *why = "challenge value missing, empty or too long";
            return HG_ENOID;
        }
        return HG_OK;
    }
    char in[HS_VALUE_MAX + 1];
    size_t n = 0;
    if (lookup(r, pv->of->kind, pv->of->name, in, sizeof(in), &n) != HG_OK || !n) {
        *why = "challenge value missing, empty or too long";
        return HG_ENOID;
    }
    if (!token_like(in, n)) {
        *why = "challenge value is not a token (refused: it could be a body to sign)";
        return HG_EINVAL;
    }
    if (!key)
        return HG_EINVAL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mlen = 0;
    const EVP_MD *d = pv->alg == PROF_ALG_HMAC_SHA1     ? EVP_sha1()
                      : pv->alg == PROF_ALG_HMAC_SHA512 ? EVP_sha512()
                                                        : EVP_sha256();
    if (!HMAC(d, key->data, (int)key->len, (const unsigned char *)in, n, md, &mlen))
        return HG_ENOMEM;
    size_t pl = pv->prefix ? strlen(pv->prefix) : 0;
    if (pl + 2 * (size_t)mlen + 4 > cap)
        return HG_ETOOBIG;
    memcpy(out, pv->prefix ? pv->prefix : "", pl);
    if (pv->enc == PROF_ENC_HEX)
        hex_encode(md, mlen, out + pl);
    else
        b64_encode(md, mlen, out + pl);
    OPENSSL_cleanse(md, sizeof(md));
    *len = strlen(out);
    return HG_OK;
}

int handshake_answer(const struct prof_handshake *h, const struct hs_request *req,
                     const struct secret *key, struct buf *out, const char **why)
{
    char v[HS_VALUE_MAX + 256];
    size_t len = 0;
    int rc;
    *why = NULL;
    if (h->text.kind) {
        if ((rc = value(&h->text, req, key, v, sizeof(v), &len, why)))
            return rc;
        return buf_append(out, v, len);
    }
    if (!h->njson)
        return HG_OK;
    if ((rc = buf_puts(out, "{")))
        return rc;
    for (size_t i = 0; i < h->njson; i++) {
        if ((rc = value(&h->json[i].v, req, key, v, sizeof(v), &len, why)))
            return rc;
        if (!jscan_utf8_valid(v, len)) {
            *why = "challenge value is not UTF-8";
            return HG_ENOID;
        }
        if ((i && (rc = buf_puts(out, ","))) ||
            (rc = json_escape(out, h->json[i].name, strlen(h->json[i].name))) ||
            (rc = buf_puts(out, ":")) || (rc = json_escape(out, v, len)))
            return rc;
    }
    return buf_puts(out, "}");
}
