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
 * Sessions live in memory: a restart or a new admin.token ends them.
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
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

enum MHD_Result console_answer(struct MHD_Connection *conn, unsigned status, const char *ctype,
                               const struct buf *b)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        b ? b->len : 0, b && b->p ? b->p : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    common_headers(r);
    MHD_add_response_header(r, "Content-Type", ctype ? ctype : "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
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

/* session_find - the live session whose cookie value is id, or NULL (lock held). */
static struct session *session_find(struct console *c, const struct config *cfg, const char *id)
{
    unsigned char d[32], t[32];
    sha(id, strlen(id), d);
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

enum auth { AUTH_NONE = 0, AUTH_BEARER, AUTH_COOKIE };

/* authenticate - how x is let in; the session's CSRF token into csrf
 * (65 bytes) for AUTH_COOKIE. */
static enum auth authenticate(struct console *c, const struct console_ctx *x, char *csrf)
{
    const char *a = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Authorization");
    if (a && !strncasecmp(a, "Bearer ", 7))
        return token_ok(x->cfg, a + 7, strlen(a + 7)) ? AUTH_BEARER : AUTH_NONE;
    const char *id = MHD_lookup_connection_value(x->conn, MHD_COOKIE_KIND, "hg_session");
    if (!id)
        return AUTH_NONE;
    pthread_mutex_lock(&c->lock);
    struct session *s = session_find(c, x->cfg, id);
    if (s)
        memcpy(csrf, s->csrf, sizeof(s->csrf));
    pthread_mutex_unlock(&c->lock);
    return s ? AUTH_COOKIE : AUTH_NONE;
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
    if (x->rate_ok && !x->rate_ok(x->rate_arg))
        return console_error(x->conn, 429, "too many sign-in attempts; wait a moment");
    json_t *j = x->body ? json_loadb(x->body, x->body_len, 0, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(j, "token"));
    int ok = tok && token_ok(x->cfg, tok, strlen(tok));
    json_decref(j);
    if (!ok) {
        refused(x, "wrong or missing token");
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
    struct MHD_Response *r = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
    buf_free(&b);
    if (!r)
        return MHD_NO;
    common_headers(r);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Set-Cookie", cookie);
    OPENSSL_cleanse(cookie, sizeof(cookie));
    log_msg(LOG_INFO, "console: signed in", "{s:s}", "client", x->client_ip ? x->client_ip : "");
    enum MHD_Result ret = MHD_queue_response(x->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
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
    struct MHD_Response *r = MHD_create_response_from_buffer(3, "{}\n", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    common_headers(r);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Set-Cookie",
                            "hg_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    enum MHD_Result ret = MHD_queue_response(x->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
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
    char csrf[65] = "";
    enum auth a = authenticate(c, x, csrf);
    if (a == AUTH_NONE) {
        if (MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Authorization"))
            refused(x, "wrong bearer token");
        if (x->rate_ok && !x->rate_ok(x->rate_arg))
            return console_error(x->conn, 429, "too many requests; wait a moment");
        return console_error(x->conn, 401,
                             "sign in: Authorization: Bearer TOKEN or a session cookie");
    }
    if (!get && !post)
        return console_error(x->conn, 405, "GET or POST only");
    if (post && a == AUTH_COOKIE && !csrf_ok(x, csrf))
        return console_error(x->conn, 403, "CSRF token missing or wrong");
    if (!strcmp(path, "/logout"))
        return post ? logout(c, x) : console_error(x->conn, 405, "POST only");
    if (!strcmp(path, "/session")) {
        struct buf b;
        buf_init(&b, 256);
        buf_printf(&b, "{\"csrf\":%s%s%s}\n", a == AUTH_COOKIE ? "\"" : "",
                   a == AUTH_COOKIE ? csrf : "null", a == AUTH_COOKIE ? "\"" : "");
        enum MHD_Result ret = console_answer(x->conn, 200, NULL, &b);
        buf_free(&b);
        return ret;
    }
    if (!strcmp(path, "/stream"))
        return get ? console_sse_open(c, x) : console_error(x->conn, 405, "GET only");
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
    if (c)
        atomic_store(&c->cfg, cfg);
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
