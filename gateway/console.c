/*
 * console.c - the console's access rules, its page and its thread (see
 * console.h, docs/console.md).
 *
 * Access: a request to /api/ is let in by "Authorization: Bearer TOKEN"
 * (scripts) or by the session cookie a sign-in set (the page).  A POST
 * let in by the cookie must also carry the session's CSRF token in
 * X-CSRF-Token: a cross-site form can send the cookie (SameSite=Strict
 * already stops that in current browsers) but never that header.  Tokens
 * and session ids are kept and compared as SHA-256 digests with
 * CRYPTO_memcmp, so neither their lengths nor their bytes show in timing.
 * Sessions live in memory: a restart or a new admin.token ends them, and
 * a live tail ends with what opened it (console_cred_live).
 *
 * A POST's access is settled on its headers alone (console_admit), so an
 * unauthenticated client cannot make the gateway read a body.  Wrong
 * tokens (a login's, a bearer header's) are counted per client address: the
 * tenth within a minute locks that address out of every token check (429
 * with Retry-After) until the minute is over, whatever rate limit the
 * listener has (struct lockout, a bounded table).
 *
 * The page and its assets (gateway/ui, compiled in by cmake/embed_ui.cmake)
 * need no authentication: they hold no data.  Every answer forbids caching,
 * sniffing and framing; the page's Content-Security-Policy allows only the
 * binary's own script and style and connections to itself.
 */
#include "console.h"
#include "console_int.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "history.h"
#include "log.h"
#include "store.h"

#include <jansson.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

struct ui_asset {
    const char *name;
    const char *ctype;
    const unsigned char *data;
    size_t len;
};
extern const struct ui_asset ui_assets[]; /* ui_assets.c, generated */

#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

#define OFF_TEXT "the console is off: set admin.token in the config"

static void common_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

/* answer - a JSON (or ctype) answer with the console's headers and one
 * more header when hname is set; the body is copied. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *ctype,
                              const char *body, size_t len, const char *hname, const char *hval)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body ? (void *)body : (void *)"",
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    common_headers(r);
    MHD_add_response_header(r, "Content-Type", ctype ? ctype : "application/json");
    if (hname)
        MHD_add_response_header(r, hname, hval);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result console_answer(struct MHD_Connection *conn, unsigned status, const char *ctype,
                               const struct buf *b)
{
    return answer(conn, status, ctype, b ? b->p : NULL, b ? b->len : 0, NULL, NULL);
}

enum MHD_Result console_error(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct buf b;
    buf_init(&b, 4096);
    enum MHD_Result ret = MHD_NO;
    if (!buf_puts(&b, "{\"error\":") && !json_escape(&b, text, strlen(text)) &&
        !buf_puts(&b, "}\n"))
        ret = console_answer(conn, status, NULL, &b);
    buf_free(&b);
    return ret;
}

const char *console_query(const struct console_ctx *x, const char *name)
{
    return MHD_lookup_connection_value(x->conn, MHD_GET_ARGUMENT_KIND, name);
}

int console_time_arg(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return HG_EINVAL;
    char *end;
    if (strspn(s, "0123456789") == strlen(s)) {
        if (strlen(s) > 12) /* unix seconds: 12 digits reach the year 33658 */
            return HG_EINVAL;
        *ms = (int64_t)strtoll(s, &end, 10) * 1000;
        return HG_OK;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return HG_EINVAL;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if (strcmp(p, "Z") && strcmp(p, "+00:00"))
        return HG_EINVAL; /* UTC only: what every answer gives */
    *ms = (int64_t)timegm(&tm) * 1000 + frac;
    return HG_OK;
}

/* ---- the page ---- */

static enum MHD_Result serve_asset(struct MHD_Connection *conn, const char *name, int on)
{
    if (!on) {
        struct buf b;
        buf_init(&b, 1024);
        buf_puts(&b, "<!doctype html><title>hookgate console</title><p>" OFF_TEXT
                     " (docs/console.md), then reload the gateway.</p>\n");
        enum MHD_Result ret = console_answer(conn, 404, "text/html; charset=utf-8", &b);
        buf_free(&b);
        return ret;
    }
    for (const struct ui_asset *a = ui_assets; a->name; a++) {
        if (strcmp(a->name, name))
            continue;
        struct MHD_Response *r =
            MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        common_headers(r);
        MHD_add_response_header(r, "Content-Type", a->ctype);
        MHD_add_response_header(r, "Content-Security-Policy", CSP);
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
    }
    return console_error(conn, 404, "no such page");
}

/* ---- access ---- */

static void sha(const void *p, size_t n, unsigned char out[32])
{
    SHA256(p, n, out);
}

/* token_ok - 1 if tok (n bytes) is the configured token. */
static int token_ok(const struct config *cfg, const char *tok, size_t n)
{
    unsigned char a[32], b[32];
    sha(tok, n, a);
    sha(cfg->admin_token.data, cfg->admin_token.len, b);
    return CRYPTO_memcmp(a, b, 32) == 0;
}

/* session_find_sha - the live session whose cookie value hashes to d, or
 * NULL; sessions expired or signed in with another token are dropped on
 * the way (lock held). */
static struct session *session_find_sha(struct console *c, const struct config *cfg,
                                        const unsigned char d[32])
{
    unsigned char t[32];
    sha(cfg->admin_token.data, cfg->admin_token.len, t);
    int64_t now = time_now_ms();
    struct session *found = NULL;
    for (int i = 0; i < CONSOLE_SESSIONS; i++) {
        struct session *s = &c->sess[i];
        if (!s->used)
            continue;
        if (s->expires_ms < now || CRYPTO_memcmp(s->tok_sha, t, 32)) {
            memset(s, 0, sizeof(*s)); /* expired, or signed in with a token no longer valid */
            continue;
        }
        if (!CRYPTO_memcmp(s->id_sha, d, 32))
            found = s;
    }
    return found;
}

/* session_find - the live session whose cookie value is id, or NULL (lock held). */
static struct session *session_find(struct console *c, const struct config *cfg, const char *id)
{
    unsigned char d[32];
    sha(id, strlen(id), d);
    return session_find_sha(c, cfg, d);
}

int console_cred_live(struct console *c, enum auth a, const unsigned char cred_sha[32])
{
    const struct config *cfg = atomic_load(&c->cfg);
    if (!cfg || !cfg->admin_token.data)
        return 0; /* the console was turned off */
    if (a == AUTH_BEARER) {
        unsigned char t[32];
        sha(cfg->admin_token.data, cfg->admin_token.len, t);
        return CRYPTO_memcmp(t, cred_sha, 32) == 0;
    }
    if (a != AUTH_COOKIE)
        return 0;
    pthread_mutex_lock(&c->lock);
    int live = session_find_sha(c, cfg, cred_sha) != NULL;
    pthread_mutex_unlock(&c->lock);
    return live;
}

/* cred - how a request to /api/ is let in (authenticate) */
struct cred {
    enum auth a;
    unsigned char sha[32]; /* SHA-256 of the bearer token or of the session cookie's value */
    char csrf[65];         /* the session's CSRF token (AUTH_COOKIE) */
};

/* authenticate - how x is let in, into *cr (AUTH_NONE: not at all). */
static void authenticate(struct console *c, const struct console_ctx *x, struct cred *cr)
{
    memset(cr, 0, sizeof(*cr));
    const char *a = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Authorization");
    if (a && !strncasecmp(a, "Bearer ", 7)) {
        unsigned char t[32];
        sha(a + 7, strlen(a + 7), cr->sha);
        sha(x->cfg->admin_token.data, x->cfg->admin_token.len, t);
        cr->a = CRYPTO_memcmp(cr->sha, t, 32) ? AUTH_NONE : AUTH_BEARER;
        return;
    }
    const char *id = MHD_lookup_connection_value(x->conn, MHD_COOKIE_KIND, "hg_session");
    if (!id)
        return;
    sha(id, strlen(id), cr->sha);
    pthread_mutex_lock(&c->lock);
    const struct session *s = session_find_sha(c, x->cfg, cr->sha);
    if (s) {
        memcpy(cr->csrf, s->csrf, sizeof(s->csrf));
        cr->a = AUTH_COOKIE;
    }
    pthread_mutex_unlock(&c->lock);
}

/* ---- the sign-in lockout ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* lock_key - what a refused token counts against: an IPv4 address (also
 * IPv4-mapped IPv6) whole, an IPv6 address by its /64 (one client often
 * holds a whole /64); every client of unknown address shares one key. */
static void lock_key(const struct sockaddr *sa, unsigned char key[CONSOLE_LOCK_KEY])
{
    memset(key, 0, CONSOLE_LOCK_KEY);
    if (sa && sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        key[0] = 4;
        memcpy(key + 1, &in.sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        int v4 = IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr);
        key[0] = v4 ? 4 : 6;
        memcpy(key + 1, in6.sin6_addr.s6_addr + (v4 ? 12 : 0), v4 ? 4 : 8);
    }
}

/* lock_slot - key's entry whose minute is still running, or NULL; with
 * create, a new one when there is none: in a free or finished slot, else
 * in the one whose minute started first (lock held). */
static struct lockout *lock_slot(struct console *c, const unsigned char *key, int64_t now,
                                 int create)
{
    struct lockout *spare = NULL, *oldest = NULL;
    for (int i = 0; i < CONSOLE_LOCK_SLOTS; i++) {
        struct lockout *l = &c->locks[i];
        int live = l->used && now - l->start_ms < (int64_t)CONSOLE_LOCK_S * 1000;
        if (live && !memcmp(l->key, key, CONSOLE_LOCK_KEY))
            return l;
        if (!live && !spare)
            spare = l;
        if (live && (!oldest || l->start_ms < oldest->start_ms))
            oldest = l;
    }
    if (!create)
        return NULL;
    struct lockout *l = spare ? spare : oldest;
    memset(l, 0, sizeof(*l));
    l->used = 1;
    memcpy(l->key, key, CONSOLE_LOCK_KEY);
    l->start_ms = now;
    return l;
}

/* lock_left_s - the whole seconds (at least 1) until l's minute is over. */
static unsigned lock_left_s(const struct lockout *l, int64_t now)
{
    int64_t left = l->start_ms + (int64_t)CONSOLE_LOCK_S * 1000 - now;
    return left > 1000 ? (unsigned)((left + 999) / 1000) : 1;
}

/* lock_retry_s - 0 if x's client may try a token now; else the seconds
 * until its lockout is over. */
static unsigned lock_retry_s(struct console *c, const struct console_ctx *x)
{
    unsigned char key[CONSOLE_LOCK_KEY];
    lock_key(x->client, key);
    int64_t now = mono_ms();
    unsigned retry = 0;
    pthread_mutex_lock(&c->lock);
    const struct lockout *l = lock_slot(c, key, now, 0);
    if (l && l->refused >= CONSOLE_LOCK_TRIES)
        retry = lock_left_s(l, now);
    pthread_mutex_unlock(&c->lock);
    return retry;
}

/* lock_refused - one more token of x's client refused; the refusal that
 * locks it out is logged (its address and for how long, never the token). */
static void lock_refused(struct console *c, const struct console_ctx *x)
{
    unsigned char key[CONSOLE_LOCK_KEY];
    lock_key(x->client, key);
    int64_t now = mono_ms();
    pthread_mutex_lock(&c->lock);
    struct lockout *l = lock_slot(c, key, now, 1);
    int locks = ++l->refused == CONSOLE_LOCK_TRIES;
    unsigned left = lock_left_s(l, now);
    pthread_mutex_unlock(&c->lock);
    if (locks && log_limit("/api", "sign-in locked"))
        log_msg(LOG_WARN, "console sign-in locked", "{s:s,s:i,s:i,s:i}", "client",
                x->client_ip ? x->client_ip : "", "refused", CONSOLE_LOCK_TRIES, "window_s",
                CONSOLE_LOCK_S, "retry_after_s", (int)left);
}

/* locked - 429 with Retry-After: x's client is locked out for retry_s. */
static enum MHD_Result locked(const struct console_ctx *x, unsigned retry_s)
{
    struct buf b;
    char ra[16];
    buf_init(&b, 256);
    buf_printf(&b, "{\"error\":\"too many wrong tokens from this address; try again in %u s\"}\n",
               retry_s);
    snprintf(ra, sizeof(ra), "%u", retry_s);
    enum MHD_Result ret = answer(x->conn, 429, NULL, b.p, b.len, "Retry-After", ra);
    buf_free(&b);
    return ret;
}

static void refused(const struct console_ctx *x, const char *why)
{
    char path[128];
    if (log_limit("/api", why))
        log_msg(LOG_WARN, "console sign-in refused", "{s:s,s:s,s:s}", "reason", why, "client",
                x->client_ip ? x->client_ip : "", "path", log_clean(x->url, path, sizeof(path)));
}

static void random_hex(char *out, size_t nbytes)
{
    unsigned char r[32];
    if (nbytes > sizeof(r) || RAND_bytes(r, (int)nbytes) != 1)
        abort(); /* no randomness: no session may be made */
    hex_encode(r, nbytes, out);
    OPENSSL_cleanse(r, sizeof(r));
}

/* login - POST /api/login {"token": "..."}: a session and its cookie. */
static enum MHD_Result login(struct console *c, const struct console_ctx *x)
{
    unsigned retry = lock_retry_s(c, x);
    if (retry)
        return locked(x, retry);
    if (x->rate_ok && !x->rate_ok(x->rate_arg))
        return console_error(x->conn, 429, "too many sign-in attempts; wait a moment");
    json_t *j = x->body ? json_loadb(x->body, x->body_len, 0, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(j, "token"));
    int ok = tok && token_ok(x->cfg, tok, strlen(tok));
    json_decref(j);
    if (!ok) {
        refused(x, "wrong or missing token");
        lock_refused(c, x);
        return console_error(x->conn, 401, "wrong token");
    }
    char id[65], cookie[200];
    random_hex(id, 32);
    pthread_mutex_lock(&c->lock);
    struct session *s = NULL;
    for (int i = 0; i < CONSOLE_SESSIONS && !s; i++)
        if (!c->sess[i].used)
            s = &c->sess[i];
    for (int i = 0, full = !s; full && i < CONSOLE_SESSIONS; i++) /* full: the oldest goes */
        if (!s || c->sess[i].created_ms < s->created_ms)
            s = &c->sess[i];
    if (!s)
        s = &c->sess[0];
    memset(s, 0, sizeof(*s));
    s->used = 1;
    sha(id, 64, s->id_sha);
    sha(x->cfg->admin_token.data, x->cfg->admin_token.len, s->tok_sha);
    random_hex(s->csrf, 32);
    s->created_ms = time_now_ms();
    s->expires_ms = s->created_ms + (int64_t)CONSOLE_SESSION_S * 1000;
    struct buf b;
    buf_init(&b, 256);
    buf_printf(&b, "{\"csrf\":\"%s\"}\n", s->csrf);
    pthread_mutex_unlock(&c->lock);
    snprintf(cookie, sizeof(cookie),
             "hg_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", id,
             CONSOLE_SESSION_S, x->tls ? "; Secure" : "");
    OPENSSL_cleanse(id, sizeof(id));
    enum MHD_Result ret = answer(x->conn, MHD_HTTP_OK, NULL, b.p, b.len, "Set-Cookie", cookie);
    buf_free(&b); /* the csrf token: the answer holds its own copy */
    OPENSSL_cleanse(cookie, sizeof(cookie));
    log_msg(LOG_INFO, "console: signed in", "{s:s}", "client", x->client_ip ? x->client_ip : "");
    return ret;
}

/* logout - POST /api/logout: the session ends, the cookie is cleared. */
static enum MHD_Result logout(struct console *c, const struct console_ctx *x)
{
    const char *id = MHD_lookup_connection_value(x->conn, MHD_COOKIE_KIND, "hg_session");
    pthread_mutex_lock(&c->lock);
    struct session *s = id ? session_find(c, x->cfg, id) : NULL;
    if (s)
        memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&c->lock);
    console_sse_kick(c); /* its live tails end now */
    return answer(x->conn, MHD_HTTP_OK, NULL, "{}\n", 3, "Set-Cookie",
                  "hg_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

/* csrf_ok - a cookie-authenticated POST carries the session's token. */
static int csrf_ok(const struct console_ctx *x, const char *csrf)
{
    const char *h = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    unsigned char a[32], b[32];
    if (!h)
        return 0;
    sha(h, strlen(h), a);
    sha(csrf, strlen(csrf), b);
    return CRYPTO_memcmp(a, b, 32) == 0;
}

/* gate - the access rules of a request to /api/ other than /login, on its
 * headers: 0 with *cr set when it may go on; else 1, the refusal queued
 * (MHD's result in *ret).  A bearer token from a locked-out address is not
 * even compared; a wrong one counts towards the lockout. */
static int gate(struct console *c, const struct console_ctx *x, struct cred *cr,
                enum MHD_Result *ret)
{
    const char *a = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Authorization");
    int bearer = a && !strncasecmp(a, "Bearer ", 7);
    unsigned retry = bearer ? lock_retry_s(c, x) : 0;
    if (retry) {
        *ret = locked(x, retry);
        return 1;
    }
    authenticate(c, x, cr);
    if (cr->a == AUTH_NONE) {
        if (a)
            refused(x, "wrong bearer token");
        if (bearer)
            lock_refused(c, x);
        if (x->rate_ok && !x->rate_ok(x->rate_arg))
            *ret = console_error(x->conn, 429, "too many requests; wait a moment");
        else
            *ret = console_error(x->conn, 401,
                                 "sign in: Authorization: Bearer TOKEN or a session cookie");
        return 1;
    }
    int get = !strcmp(x->method, "GET") || !strcmp(x->method, "HEAD");
    int post = !strcmp(x->method, "POST");
    if (!get && !post)
        *ret = console_error(x->conn, 405, "GET or POST only");
    else if (post && cr->a == AUTH_COOKIE && !csrf_ok(x, cr->csrf))
        *ret = console_error(x->conn, 403, "CSRF token missing or wrong");
    else
        return 0;
    return 1;
}

int console_admit(struct console *c, const struct console_ctx *x, enum MHD_Result *ret)
{
    if (!x->cfg->admin_token.data) {
        *ret = console_error(x->conn, 404, OFF_TEXT);
        return 1;
    }
    if (!c) {
        *ret = console_error(x->conn, 503, "the console is not running");
        return 1;
    }
    /* A browser says where a request comes from (Fetch Metadata): a POST
     * sent by another site's page is never the console's own.  Refused on
     * its headers and not counted as a refused token, so a page the
     * operator visits cannot lock the operator's address out by posting
     * wrong sign-ins (a form or a no-cors fetch needs no preflight).  curl
     * and scripts send no such header. */
    const char *sfs = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (sfs && (!strcmp(sfs, "cross-site") || !strcmp(sfs, "same-site"))) {
        *ret = console_error(x->conn, 403, "a request from another site's page (Sec-Fetch-Site)");
        return 1;
    }
    const char *cl = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Content-Length");
    unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0; /* its syntax: http_frame.c */
    struct cred cr;
    if (!strcmp(x->url, "/api/login")) {
        unsigned retry = lock_retry_s(c, x);
        if (retry)
            *ret = locked(x, retry);
        else if (len > CONSOLE_LOGIN_MAX)
            *ret = console_error(x->conn, 413, "a sign-in body is at most 4 KiB");
        else
            return 0;
        return 1;
    }
    if (gate(c, x, &cr, ret))
        return 1;
    if (len <= CONSOLE_BODY_MAX)
        return 0;
    *ret = console_error(x->conn, 413, "an API request body is at most 64 KiB");
    return 1;
}

int console_path(const char *url)
{
    return !strcmp(url, "/ui") || !strncmp(url, "/ui/", 4) || !strncmp(url, "/api/", 5) ||
           !strcmp(url, "/api");
}

int console_wants_body(const char *url, const char *method)
{
    return !strcmp(method, "POST") && !strncmp(url, "/api/", 5);
}

enum MHD_Result console_handle(struct console *c, const struct console_ctx *x)
{
    int on = x->cfg->admin_token.data != NULL;
    int get = !strcmp(x->method, "GET") || !strcmp(x->method, "HEAD");
    int post = !strcmp(x->method, "POST");
    if (!strcmp(x->url, "/ui")) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        common_headers(r);
        MHD_add_response_header(r, "Location", "/ui/");
        enum MHD_Result ret = MHD_queue_response(x->conn, 301, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strncmp(x->url, "/ui/", 4)) {
        if (!get)
            return console_error(x->conn, 405, "GET only");
        return serve_asset(x->conn, x->url[4] ? x->url + 4 : "index.html", on);
    }
    if (!on)
        return console_error(x->conn, 404, OFF_TEXT);
    if (!c)
        return console_error(x->conn, 503, "the console is not running");
    const char *path = x->url + 4; /* "/..." after "/api" */
    if (!strcmp(path, "/login"))
        return post ? login(c, x) : console_error(x->conn, 405, "POST only");
    struct cred cr;
    enum MHD_Result ret = MHD_NO;
    if (gate(c, x, &cr, &ret))
        return ret;
    if (!strcmp(path, "/logout"))
        return post ? logout(c, x) : console_error(x->conn, 405, "POST only");
    if (!strcmp(path, "/session")) {
        struct buf b;
        buf_init(&b, 256);
        buf_printf(&b, "{\"csrf\":%s%s%s}\n", cr.a == AUTH_COOKIE ? "\"" : "",
                   cr.a == AUTH_COOKIE ? cr.csrf : "null", cr.a == AUTH_COOKIE ? "\"" : "");
        ret = console_answer(x->conn, 200, NULL, &b);
        buf_free(&b);
        return ret;
    }
    if (!strcmp(path, "/stream"))
        return get ? console_sse_open(c, x, cr.a, cr.sha) : console_error(x->conn, 405, "GET only");
    return console_api(c, x, path);
}

/* ---- the thread ---- */

static void *console_main(void *arg)
{
    struct console *c = arg;
    pthread_setname_np(pthread_self(), "hg-console");
    int64_t next_sample = time_now_ms();
    uint64_t seen = c->st ? store_last_seq(c->st) : 0;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        pthread_mutex_unlock(&c->lock);
        int64_t now = time_now_ms();
        if (now >= next_sample) {
            history_sample(c->hist, atomic_load(&c->cfg), c->st, now);
            next_sample = now + (int64_t)HISTORY_STEP_S * 1000;
        }
        /* wakes at a commit, else once a second (rejections, keep-alives) */
        uint64_t last = c->st ? store_wait(c->st, seen, 1000) : seen;
        if (!c->st) {
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
        }
        seen = last;
        console_sse_tick(c);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int console_new(struct store *st, const struct config *cfg, struct console **out)
{
    struct console *c = calloc(1, sizeof(*c));
    if (!c || !(c->hist = history_new())) {
        free(c);
        return HG_ENOMEM;
    }
    c->st = st;
    atomic_init(&c->cfg, cfg);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_mutex_init(&c->sse_lock, NULL);
    if (pthread_create(&c->thread, NULL, console_main, c)) {
        console_free(c);
        return HG_ENOMEM;
    }
    c->started = 1;
    *out = c;
    return HG_OK;
}

void console_set_config(struct console *c, const struct config *cfg)
{
    if (!c)
        return;
    atomic_store(&c->cfg, cfg);
    console_sse_kick(c); /* a new admin.token ends the tails the old one opened */
}

void console_free(struct console *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = 1;
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (c->started)
        pthread_join(c->thread, NULL);
    console_sse_free(c);
    history_free(c->hist);
    OPENSSL_cleanse(c->sess, sizeof(c->sess));
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->sse_lock);
    free(c);
}
