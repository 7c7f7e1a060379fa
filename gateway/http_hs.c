/*
 * http_hs.c - what a request looks like to a producer's signature and
 * registration handshake: the URL it called, every value its signed
 * content can name, and the answer to its challenge (handshake.h).
 *
 * Split from http.c, which runs the request's life cycle; this file only
 * reads a request (headers, query, body) and queues handshake answers.
 * Invariants: a handshake is never stored or delivered; a signed one is
 * verified exactly as an event would be before anything is answered; a
 * verify_token is compared as a SHA-256 digest in constant time; answers
 * carry X-Content-Type-Options: nosniff and Cache-Control: no-store.
 */
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "extract.h"
#include "fwd.h"
#include "handshake.h"
#include "explain.h"
#include "http_int.h"
#include "log.h"
#include "metrics.h"
#include "profile.h"
#include "verify.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HTTP_URL_MAX 4096

static const char *hdr(void *ctx, const char *name)
{
    return name ? MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name) : NULL;
}

static const char *query(void *ctx, const char *name)
{
    return name ? MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

void http_request_url(struct MHD_Connection *conn, int tls, const struct cfg_route *rt,
                      const char *path, char *out, size_t cap)
{
    if (rt->public_url) {
        snprintf(out, cap, "%s", rt->public_url);
        return;
    }
    const char *scheme, *q = http_conn_query(conn);
    char host[FWD_HOST_MAX + 1];
    if (http_client_origin(conn, tls, &scheme, host, sizeof(host)) != HG_OK) {
        out[0] = '\0';
        return;
    }
    int n = snprintf(out, cap, "%s://%s%s%s%s", scheme, host, path, q ? "?" : "", q ? q : "");
    if (n < 0 || (size_t)n >= cap)
        out[0] = '\0';
}

int http_verify(struct MHD_Connection *conn, int tls, const struct cfg_route *rt,
                const char *method, const char *body, size_t len, const char **why,
                struct verify_detail *detail)
{
    const struct profile *p = rt->profile;
    char url[HTTP_URL_MAX] = "";
    if (profile_uses(p, "{url}") || (p->jwt.aud && strstr(p->jwt.aud, "{url}")) ||
        (p->jwt.sub && strstr(p->jwt.sub, "{url}")))
        http_request_url(conn, tls, rt, rt->path, url, sizeof(url));
    struct verify_input in = {
        .body = body,
        .body_len = len,
        .url = url,
        .method = method,
        .hdr = hdr,
        .hctx = conn,
        .now_s = (int64_t)time(NULL),
        .tolerance_s = rt->tolerance_s,
        .detail = detail,
    };
    extract_verify_input(p, hdr, conn, &in);
    return verify_check(rt->verifier, &in, why);
}

int http_verify_explained(struct MHD_Connection *conn, int tls, const struct cfg_route *rt,
                          const char *method, const char *body, size_t len, const char **why,
                          char *expl, size_t cap)
{
    struct verify_detail d;
    memset(&d, 0, sizeof(d));
    int rc = http_verify(conn, tls, rt, method, body, len, why, &d);
    if (rc)
        explain_verify(rt->profile, &d, *why, http_each_header, conn, len,
                       http_header(conn, "Content-Type"), expl, cap);
    return rc;
}

/* answer - a JSON error or the handshake's own answer. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *ctype,
                              const struct prof_handshake *hs, struct buf *b)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(b->len, b->p ? b->p : "", MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (size_t i = 0; hs && i < hs->nhdrs; i++)
        MHD_add_response_header(resp, hs->hdrs[i].from, hs->hdrs[i].to);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result refuse(struct MHD_Connection *conn, const struct cfg_route *rt,
                              const struct prof_handshake *hs, int err, const char *why)
{
    unsigned status = hg_http_status(err);
    metrics_handshake(rt->mx, 0);
    metrics_request(rt->mx, status, 0);
    if (log_limit(rt->path, why))
        log_msg(LOG_WARN, "handshake refused", "{s:s,s:s,s:s,s:i}", "route", rt->name, "handshake",
                hs->name, "reason", why, "status", (int)status);
    /* the answer says what an event's would (hg_strerror: "invalid signature"), the
     * log says why; a challenge that cannot be answered names its problem */
    const char *text = err == HG_EINVAL ? why : hg_strerror(err);
    struct buf b;
    buf_init(&b, 1024);
    enum MHD_Result ret = MHD_NO;
    if (!buf_puts(&b, "{\"error\":") && !json_escape(&b, text, strlen(text)) &&
        !buf_puts(&b, "}\n"))
        ret = answer(conn, status, "application/json", NULL, &b);
    buf_free(&b);
    return ret;
}

/* vtoken_ok - the handshake's verify_token query parameter is the route's. */
static int vtoken_ok(struct MHD_Connection *conn, const struct cfg_route *rt,
                     const struct prof_handshake *hs)
{
    const char *t = query(conn, hs->vt_query);
    if (!t || !rt->has_vtoken)
        return 0;
    unsigned char d[32];
    verify_token_digest(t, strlen(t), d);
    int ok = CRYPTO_memcmp(d, rt->vtoken_sha, 32) == 0;
    OPENSSL_cleanse(d, sizeof(d));
    return ok;
}

int http_hs_try(struct dctx *dc, struct MHD_Connection *conn, const struct cfg_route *rt,
                const char *method, const char *body, size_t len, enum MHD_Result *ret)
{
    const struct profile *p = rt->profile;
    if (!p->nhs)
        return 0;
    int json = 0;
    struct hs_request q = {.method = method,
                           .json = &json,
                           .body = body,
                           .body_len = len,
                           .header = hdr,
                           .query = query,
                           .ctx = conn};
    const struct prof_handshake *hs = handshake_match(p, &q);
    if (!hs)
        return 0;
    const char *why = NULL;
    if (hs->verify == PROF_HS_SIGNATURE) {
        int rc = http_verify(conn, dc->tls, rt, method, body ? body : "", len, &why, NULL);
        if (rc) {
            *ret = refuse(conn, rt, hs, rc, why ? why : "signature mismatch");
            return 1;
        }
    } else if (hs->verify == PROF_HS_VERIFY_TOKEN && !vtoken_ok(conn, rt, hs)) {
        *ret = refuse(conn, rt, hs, HG_EFORBIDDEN, "verify_token mismatch or missing");
        return 1;
    }
    struct buf b;
    buf_init(&b, (size_t)HS_VALUE_MAX * 16);
    const struct secret *key = rt->nsecrets ? &rt->secrets[0] : NULL;
    int rc = handshake_answer(hs, &q, key, &b, &why);
    if (rc) {
        buf_free(&b);
        *ret = refuse(conn, rt, hs, rc == HG_ENOMEM ? HG_ENOMEM : HG_EINVAL,
                      why ? why : "cannot answer the challenge");
        return 1;
    }
    metrics_handshake(rt->mx, 1);
    metrics_request(rt->mx, hs->status, 0);
    if (log_limit(rt->path, "handshake answered"))
        log_msg(LOG_INFO, "handshake answered", "{s:s,s:s,s:s,s:i}", "route", rt->name, "handshake",
                hs->name, "method", method, "status", (int)hs->status);
    *ret = answer(conn, hs->status, hs->ctype, hs, &b);
    buf_free(&b);
    return 1;
}
