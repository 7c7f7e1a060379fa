/*
 * verify_tpl.c - the signed content of a request: a profile's template
 * ("{timestamp}.{body}", "{url}{form}", "{json:/signature/token}", ...)
 * walked piece by piece into a MAC or a buffer (see verify_int.h).
 *
 * The body is looked at only as far as the template needs: its SHA-256
 * for {body_sha256}, one validation for {json:...} members (a member
 * repeated on the path is refused: two parsers could pick different ones),
 * one parse for {form}.  Invariant: a piece that cannot be produced fails
 * the walk, so a message with a hole is never verified.
 */
#include "codec.h"
#include "err.h"
#include "form.h"
#include "jscan.h"
#include "profile.h"
#include "verify.h"
#include "verify_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VT_VALUE_MAX  4096 /* a {json:} or {header:} piece */
#define VT_FORM_PARAM 1024 /* parameters of a form body */

void vt_init(struct vt *t, const struct profile *p, const struct verify_input *in)
{
    memset(t, 0, sizeof(*t));
    t->p = p;
    t->in = in;
    if (profile_uses(p, "{body_sha256}")) {
        unsigned char h[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)in->body, in->body_len, h);
        hex_encode(h, sizeof(h), t->body_hex);
    }
}

void vt_done(struct vt *t)
{
    free(t->form);
    t->form = NULL;
}

int vt_body_value(struct vt *t, const char *ptr, char *out, size_t cap, size_t *len)
{
    const char *b = t->in->body ? t->in->body : "";
    if (!t->json)
        t->json = jscan_scan(b, t->in->body_len, NULL, NULL, 0, NULL) == JSCAN_OK ? 1 : -1;
    if (t->json < 0)
        return HG_EBADJSON;
    struct jscan_span s;
    int rc = jscan_pointer(b, t->in->body_len, ptr, &s, NULL);
    if (rc == JSCAN_EDUP)
        return HG_EDUPKEY;
    if (rc != JSCAN_OK || (s.kind != JSCAN_STRING && s.kind != JSCAN_NUMBER))
        return HG_ENOID;
    if (s.kind == JSCAN_NUMBER) {
        if (s.len >= cap)
            return HG_ETOOBIG;
        memcpy(out, s.ptr, s.len);
        out[s.len] = '\0';
        *len = s.len;
        return HG_OK;
    }
    return jscan_string_decode(s.ptr, s.len, out, cap, len) == JSCAN_OK ? HG_OK : HG_ETOOBIG;
}

int vt_body_exists(struct vt *t, const char *ptr)
{
    const char *b = t->in->body ? t->in->body : "";
    if (!t->json)
        t->json = jscan_scan(b, t->in->body_len, NULL, NULL, 0, NULL) == JSCAN_OK ? 1 : -1;
    struct jscan_span s;
    return t->json > 0 && jscan_pointer(b, t->in->body_len, ptr, &s, NULL) == JSCAN_OK &&
           s.kind != JSCAN_NONE;
}

/* build_form - {form}: the body's parameters sorted by name, each as name
 * then value (Twilio's signed content after the URL). */
static int build_form(struct vt *t)
{
    size_t len = t->in->body_len, n = 0;
    char *buf = malloc(len + 1);
    struct form_param *fp = calloc(VT_FORM_PARAM, sizeof(*fp));
    int ok = buf && fp &&
             form_parse(t->in->body ? t->in->body : "", len, buf, len + 1, fp, VT_FORM_PARAM, &n) ==
                 HG_OK;
    ok = ok && n > 0; /* a form without parameters: the signature would cover the URL only */
    if (ok) {
        n = form_canon(fp, n);
        if ((t->form = malloc(len + 1))) {
            for (size_t i = 0; i < n; i++) {
                memcpy(t->form + t->form_len, fp[i].name, fp[i].name_len);
                t->form_len += fp[i].name_len;
                memcpy(t->form + t->form_len, fp[i].value, fp[i].value_len);
                t->form_len += fp[i].value_len;
            }
        }
        ok = t->form != NULL;
    }
    free(buf);
    free(fp);
    t->form_state = ok ? 1 : -1;
    return ok;
}

/* piece - one placeholder (name[0..n)) into put; 1 or 0. */
static int piece(struct vt *t, const char *name, size_t n, put_fn put, void *c)
{
    const struct verify_input *in = t->in;
#define IS(lit) (n == sizeof(lit) - 1 && !memcmp(name, lit, n))
#define PUTS(s) ((s) && put(c, (s), strlen(s)))
    if (IS("body"))
        return in->body_len == 0 || put(c, in->body, in->body_len);
    if (IS("body_sha256"))
        return PUTS(t->body_hex);
    if (IS("id"))
        return PUTS(in->id);
    if (IS("type"))
        return PUTS(in->type);
    if (IS("timestamp"))
        return PUTS(t->ts);
    if (IS("nonce"))
        return PUTS(in->nonce);
    if (IS("url")) /* a URL that could not be rebuilt is a hole, never "" */
        return in->url && *in->url && PUTS(in->url);
    if (IS("method"))
        return PUTS(in->method);
    if (IS("form")) {
        if (!t->form_state)
            build_form(t);
        return t->form_state > 0 && (t->form_len == 0 || put(c, t->form, t->form_len));
    }
#undef IS
#undef PUTS
    char key[160];
    if (n > 7 && !memcmp(name, "header:", 7) && n - 7 < sizeof(key) && in->hdr) {
        memcpy(key, name + 7, n - 7);
        key[n - 7] = '\0';
        const char *v = in->hdr(in->hctx, key);
        return v && put(c, v, strlen(v));
    }
    if (n > 5 && !memcmp(name, "json:", 5) && n - 5 < sizeof(key)) {
        memcpy(key, name + 5, n - 5);
        key[n - 5] = '\0';
        char *v = malloc(VT_VALUE_MAX);
        size_t vl = 0;
        int ok = v && vt_body_value(t, key, v, VT_VALUE_MAX, &vl) == HG_OK && put(c, v, vl);
        free(v);
        return ok;
    }
    return 0;
}

int vt_walk(struct vt *t, put_fn put, void *c)
{
    const char *s = t->p->content;
    while (s && *s) {
        const char *open = strchr(s, '{');
        size_t lit = open ? (size_t)(open - s) : strlen(s);
        if (lit && !put(c, s, lit))
            return 0;
        if (!open)
            break;
        const char *close = strchr(open, '}'); /* the loader checked the template */
        if (!close)
            return 0;
        if (!piece(t, open + 1, (size_t)(close - open - 1), put, c)) {
            t->hole = open + 1; /* for verify_detail: a name from the profile */
            t->hole_len = (size_t)(close - open - 1);
            return 0;
        }
        s = close + 1;
    }
    return 1;
}

/* digits - s[0..n) as a non-negative integer (at most 9 digits). */
static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* rfc3339 - "2019-11-16T10:11:12.634234626Z" or "...+01:00" into unix s. */
static int rfc3339(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n < 20 || n > 40 || !time_rfc3339_valid(s, n))
        return HG_ESTALE;
    struct tm tm = {0};
    int y, mo, d, h, mi, se;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
        return HG_ESTALE;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    int64_t t = (int64_t)timegm(&tm);
    const char *z = s + 19;
    while (*z == '.' || (*z >= '0' && *z <= '9'))
        z++;
    if (*z == '+' || *z == '-') {
        int oh, om;
        if (digits(z + 1, 2, &oh) || digits(z + 4, 2, &om))
            return HG_ESTALE;
        int64_t off = (int64_t)oh * 3600 + (int64_t)om * 60;
        t += *z == '+' ? -off : off;
    }
    *out = t;
    return HG_OK;
}

int vt_time(int unit, const char *ts, int64_t *out)
{
    if (!ts || !*ts)
        return HG_ESTALE;
    if (unit == PROF_TS_RFC3339)
        return rfc3339(ts, out);
    if (strlen(ts) > 15)
        return HG_ESTALE;
    int64_t t = 0;
    for (const char *q = ts; *q; q++) {
        if (*q < '0' || *q > '9')
            return HG_ESTALE;
        t = t * 10 + (*q - '0');
    }
    *out = unit == PROF_TS_MS ? t / 1000 : t;
    return HG_OK;
}
