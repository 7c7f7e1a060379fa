/*
 * http_gate.c - admission: the checks that decide, from a request's
 * headers alone and before any body byte is read, whether it may go on -
 * the client certificate (tls.client_ca), the framing and target
 * (http_frame.h), the per-address rate, the route's allow list, its token
 * or Basic credentials, max_connections and Content-Length - and the
 * refusals they queue (403, 400, 429, 401, 503, 413).
 *
 * Split from http.c, which runs the request's life cycle and calls these
 * from its first call of the access handler (first_call); this file keeps
 * no state and creates no request state.  Invariants: each refusal is
 * logged once (http_log_reject), counted in metrics and queued before it
 * returns 1, and nothing of the body has been read; tokens are compared
 * as SHA-256 digests in constant time (CRYPTO_memcmp) or by verify_check.
 */
#include "codec.h"
#include "config.h"
#include "err.h"
#include "explain.h"
#include "http_frame.h"
#include "http_int.h"
#include "metrics.h"
#include "profile.h"
#include "ratelimit.h"
#include "verify.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int http_gate_client_cert_ok(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return 0;
    gnutls_session_t s = (gnutls_session_t)ci->tls_session;
    unsigned status = 0;
    if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509 || !gnutls_certificate_get_peers(s, NULL))
        return 0;
    /* the chain must verify and the certificate be meant for TLS clients (a
     * server certificate from the same CA is not a client's) */
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
    return gnutls_certificate_verify_peers(s, &purpose, 1, &status) == GNUTLS_E_SUCCESS &&
           status == 0;
}

enum MHD_Result http_gate_queue_429(struct http *h, struct MHD_Connection *conn, unsigned retry_s)
{
    if (retry_s <= 1)
        return http_queue_canned(h, conn, C_429, 429);
    static const char body[] = "{\"error\":\"too many requests\"}\n";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    char v[16];
    snprintf(v, sizeof(v), "%u", retry_s);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Retry-After", v);
    MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(conn, 429, r);
    MHD_destroy_response(r);
    return ret;
}

/* presented_token - the token a request carries: the path segment after the
 * route path, else a token header ("Authorization: Bearer T" too). */
static const char *presented_token(struct MHD_Connection *conn, char *const *names, const char *seg,
                                   const char *prefix)
{
    if (seg)
        return seg;
    for (int i = 0; names[i]; i++) {
        const char *v = http_header(conn, names[i]);
        if (!v)
            continue;
        if (prefix) { /* the profile's token_prefix, stripped by verify_check */
            return v;
        }
        if (!strcasecmp(names[i], "Authorization")) {
            if (strncasecmp(v, "Bearer ", 7))
                continue;
            v += 7;
        }
        return v;
    }
    return NULL;
}

/* check_token - NULL if the route's token (and a token profile's secrets)
 * are satisfied, else a reason for the log.  Constant-time comparisons. */
static const char *check_token(struct MHD_Connection *conn, const struct cfg_route *rt,
                               const char *seg, struct verify_detail *d)
{
    static char *const dflt[] = {"X-Hookgate-Token", "Authorization", NULL};
    const struct profile *p = rt->profile;
    if (p->fmt == PROF_FMT_BASIC || (p->fmt == PROF_FMT_TOKEN && !p->token_pointer)) {
        struct verify_input in = {
            .token = p->fmt == PROF_FMT_BASIC
                         ? http_header(conn, "Authorization")
                         : presented_token(conn, p->token_header, seg, p->token_prefix),
            .detail = d};
        const char *why = NULL;
        return verify_check(rt->verifier, &in, &why) ? why : NULL;
    }
    if (!rt->has_token)
        return NULL;
    const char *t = presented_token(conn, dflt, seg, NULL);
    if (!t)
        return "missing token";
    unsigned char dg[32];
    verify_token_digest(t, strlen(t), dg);
    return CRYPTO_memcmp(dg, rt->token_sha, 32) ? "token mismatch" : NULL;
}

/* token_explained - why (check_token's) in words: a token profile's by
 * explain_verify (d), the route's own token (X-Hookgate-Token, Bearer or
 * the path's last segment) here.  Names and counts, never values. */
static void token_explained(struct MHD_Connection *conn, const struct cfg_route *rt,
                            const struct verify_detail *d, const char *why, char *out, size_t cap)
{
    const struct profile *p = rt->profile;
    if (p->fmt == PROF_FMT_BASIC || (p->fmt == PROF_FMT_TOKEN && !p->token_pointer)) {
        explain_verify(p, d, why, http_each_header, conn, 0, http_header(conn, "Content-Type"), out,
                       cap);
        return;
    }
    if (!strcmp(why, "token mismatch"))
        snprintf(out, cap, "the route's token did not match");
    else
        snprintf(out, cap,
                 "the route's token missing (expected in header X-Hookgate-Token, "
                 "Authorization: Bearer%s)",
                 rt->takes_token ? " or as the path's last segment" : "");
}

int http_gate_refuse_rate_allow(struct http *h, struct MHD_Connection *conn,
                                const struct cfg_route *rt, enum MHD_Result *ret)
{
    const struct sockaddr *ca = http_client_addr(conn); /* a trusted proxy's client (fwd.h) */
    unsigned retry_s = 1;
    if (h->rl && ratelimit_check(h->rl, ca, time_now_ms(), &retry_s)) {
        http_log_reject(conn, rt->path, HG_ERATE, "per-address connection or request limit");
        metrics_request(http_route_index(h, rt), 429, 0);
        *ret = http_gate_queue_429(h, conn, retry_s);
        return 1;
    }
    if (!config_route_allows(rt, ca)) {
        char ip[64], why[160];
        snprintf(why, sizeof(why), "address %s not in the allow list",
                 http_addr_str(ca, ip, sizeof(ip))[0] ? ip : "(unknown)");
        http_log_refused(conn, rt->path, HG_EFORBIDDEN, "source address not in allow", why);
        http_note_reject(h, conn, rt, rt->path, HG_EFORBIDDEN, why, NULL, 0);
        metrics_verify_fail(http_route_index(h, rt), "source address not in allow");
        *ret = http_counted_canned(h, conn, rt, C_403, 403);
        return 1;
    }
    return 0;
}

int http_gate_refuse_access(struct http *h, struct MHD_Connection *conn, const struct cfg_route *rt,
                            const char *tok, const struct config *cfg, enum MHD_Result *ret)
{
    if (http_gate_refuse_rate_allow(h, conn, rt, ret))
        return 1;
    struct verify_detail d;
    memset(&d, 0, sizeof(d));
    const char *why = check_token(conn, rt, tok, &d);
    if (why) {
        char expl[EXPLAIN_MAX];
        token_explained(conn, rt, &d, why, expl, sizeof(expl));
        http_log_refused(conn, rt->path, HG_ESIG, why, expl);
        http_note_reject(h, conn, rt, rt->path, HG_ESIG, expl, NULL, 0);
        metrics_verify_fail(http_route_index(h, rt), why);
        *ret = http_counted_canned(h, conn, rt, C_401, 401);
        return 1;
    }
    if (http_conn_open(h) > cfg->max_connections) {
        http_log_reject(conn, rt->path, HG_EBUSY, "max_connections reached");
        *ret = http_counted_canned(h, conn, rt, C_503_BUSY, 503);
        return 1;
    }
    return 0;
}

int http_gate_refuse_length(struct http *h, struct MHD_Connection *conn, const struct cfg_route *rt,
                            const struct config *cfg, unsigned long long *len, enum MHD_Result *ret)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    *len = 0;
    if (cl) {
        char *end;
        *len = strtoull(cl, &end, 10);
        if (*end || *len > cfg->max_body) {
            http_log_reject(conn, rt->path, HG_ETOOBIG, "Content-Length over max_body");
            *ret = http_counted_canned(h, conn, rt, C_413, 413);
            return 1;
        }
    }
    return 0;
}

int http_gate_refuse_frame(struct http *h, struct MHD_Connection *conn, const struct config *cfg,
                           const char *url, const char *version, const char *uri_why,
                           enum MHD_Result *ret)
{
    const char *why = uri_why, *tok = NULL;
    const struct cfg_route *rt = NULL;
    if (!why) {
        if (http_frame_request(conn, version, &why) == HG_OK)
            return 0;
        rt = config_route_match(cfg, url, &tok);
    }
    char red[256];
    http_log_reject(conn, rt ? rt->path : config_route_redact(cfg, url, red, sizeof(red)),
                    HG_EINVAL, why);
    metrics_request(http_route_index(h, rt), 400, 0);
    *ret = http_frame_answer(conn, why);
    return 1;
}
