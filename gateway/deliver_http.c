/*
 * deliver_http.c - the http sink's backend for the windowed delivery loop
 * (see deliver_int.h): one POST per event, up to `concurrency` in flight
 * on one libcurl multi handle, whose connection cache keeps connections to
 * the service alive between events.
 *
 * Outcome of an attempt: 2xx delivered; a transport error, a timeout, 408,
 * 429 or 5xx is retried after the sink's backoff or the answer's
 * Retry-After, whichever is longer; any other status is a dead letter at
 * once, with the status and the first 512 bytes of the answer as its error.
 *
 * "structured" posts the CloudEvents envelope (application/cloudevents+json);
 * "binary" posts the producer's body with its content type and the
 * attributes as ce-* headers (CloudEvents HTTP binding, binary mode).
 * "sign" adds webhook-id/-timestamp/-signature computed by verify.c with
 * the built-in "standard" profile: the very code that checks them on input.
 */
#include "codec.h"
#include "config.h"
#include "deliver_int.h"
#include "err.h"
#include "log.h"
#include "profile.h"
#include "verify.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTP_SINK_ANSWER_MAX 512

struct hstate {
    CURLM *multi;
    struct verifier *signer; /* "sign", or NULL */
};

struct hjob {
    CURL *easy;
    struct curl_slist *hdrs;
    int done;
    CURLcode cc;
    long status;
    long retry_after_s;
    int64_t deadline;
    char answer[HTTP_SINK_ANSWER_MAX + 1];
    size_t answer_len;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int h_open(struct worker *w)
{
    pthread_once(&curl_once, curl_init_once);
    struct hstate *hs = calloc(1, sizeof(*hs));
    if (!hs || !(hs->multi = curl_multi_init())) {
        free(hs);
        return HG_ENOMEM;
    }
    const struct cfg_sink *s = w->sink;
    curl_multi_setopt(hs->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)s->concurrency);
    curl_multi_setopt(hs->multi, CURLMOPT_MAXCONNECTS, (long)s->concurrency);
    if (s->sign.len) {
        const struct profile *std = profile_find(w->d->cfg->profiles, "standard");
        const char *why = NULL;
        if (!std || verify_new(std, &s->sign, 1, &hs->signer, &why)) {
            log_msg(LOG_ERROR, "deliver: http sink cannot sign (sign.secret must be whsec_...)",
                    "{s:s,s:s}", "sink", s->name, "error", why ? why : "no standard profile");
            curl_multi_cleanup(hs->multi);
            free(hs);
            return HG_EINVAL;
        }
    }
    w->be_state = hs;
    return HG_OK;
}

static void h_close(struct worker *w)
{
    struct hstate *hs = w->be_state;
    if (!hs)
        return;
    curl_multi_cleanup(hs->multi);
    verify_free(hs->signer);
    free(hs);
    w->be_state = NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct hjob *j = arg;
    size_t len = size * n, room = HTTP_SINK_ANSWER_MAX - j->answer_len;
    size_t take = len < room ? len : room;
    memcpy(j->answer + j->answer_len, p, take);
    j->answer_len += take;
    j->answer[j->answer_len] = '\0';
    return len; /* the rest is read and dropped: the connection stays usable */
}

/* ce_value - a CloudEvents header value: printable ASCII as is, the rest
 * (and '%', '"') percent-encoded, as the HTTP binding asks. */
static void ce_value(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x21 && c <= 0x7e && c != '%' && c != '"') {
            out[o++] = (char)c;
        } else if (c == ' ') {
            out[o++] = ' ';
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

/* add - append "name: value", or the ready line name when value is NULL
 * (the configured headers: any length, copied whole by libcurl). */
static int add(struct curl_slist **l, const char *name, const char *value)
{
    char line[3 * EVENT_STR_MAX + 128]; /* the longest encoded attribute fits */
    if (value)
        snprintf(line, sizeof(line), "%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(*l, value ? line : name);
    if (!n)
        return -1;
    *l = n;
    return 0;
}

static int headers(struct worker *w, struct slot *sl, const char *body, size_t len,
                   struct curl_slist **l)
{
    const struct cfg_sink *s = w->sink;
    struct hstate *hs = w->be_state;
    char v[3 * EVENT_STR_MAX + 1], seq[32], recv[40];
    int rc = add(l, "Expect:", NULL); /* no 100-continue round trip */
    if (!s->binary) {
        rc |= add(l, "Content-Type", "application/cloudevents+json; charset=utf-8");
    } else {
        rc |= add(l, "Content-Type", sl->ctype[0] ? sl->ctype : "application/octet-stream");
        snprintf(seq, sizeof(seq), "%llu", (unsigned long long)sl->seq);
        time_format_ms(sl->received_ms, recv, sizeof(recv));
        const char *attrs[][2] = {{"ce-specversion", "1.0"},
                                  {"ce-id", sl->id},
                                  {"ce-source", sl->source},
                                  {"ce-type", sl->type},
                                  {"ce-time", sl->time[0] ? sl->time : recv},
                                  {"ce-hookgateseq", seq},
                                  {"ce-hookgateroute", sl->route},
                                  {"ce-hookgatereceived", recv}};
        for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
            ce_value(attrs[i][1], v, sizeof(v));
            rc |= add(l, attrs[i][0], v);
        }
    }
    for (char **h = s->headers; h && *h; h++)
        rc |= add(l, *h, NULL);
    if (hs->signer) {
        /* Standard Webhooks: id.timestamp.body, v1 = HMAC-SHA256 */
        char id[2 * EVENT_STR_MAX + 2], ts[24], sig[256];
        snprintf(id, sizeof(id), "%s:%s", sl->route, sl->id);
        snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
        struct verify_input in = {.body = body, .body_len = len, .id = id, .timestamp = ts};
        if (verify_sign(hs->signer, &in, sig, sizeof(sig)))
            return -1;
        ce_value(id, v, sizeof(v));
        rc |= add(l, "webhook-id", v);
        rc |= add(l, "webhook-timestamp", ts);
        rc |= add(l, "webhook-signature", sig);
    }
    return rc;
}

static int h_begin(struct worker *w, struct slot *sl, int64_t now)
{
    const struct cfg_sink *s = w->sink;
    struct hstate *hs = w->be_state;
    struct hjob *j = calloc(1, sizeof(*j));
    if (!j)
        return HG_ENOMEM;
    const char *body = s->binary ? sl->body.p : sl->line.p;
    size_t len = s->binary ? sl->body.len : sl->line.len;
    if (!body)
        body = "";
    if (!(j->easy = curl_easy_init()) || headers(w, sl, body, len, &j->hdrs)) {
        curl_slist_free_all(j->hdrs);
        if (j->easy)
            curl_easy_cleanup(j->easy);
        free(j);
        return HG_ENOMEM;
    }
    CURL *e = j->easy;
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->hdrs);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_PRIVATE, sl);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "hookgate");
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (s->path)
        curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, s->path);
    if (s->tls_ca)
        curl_easy_setopt(e, CURLOPT_CAINFO, s->tls_ca);
    if (s->tls_cert) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, s->tls_cert);
        curl_easy_setopt(e, CURLOPT_SSLKEY, s->tls_key);
    }
    j->deadline = now + (int64_t)s->timeout_ms + 1000;
    sl->job = j;
    if (curl_multi_add_handle(hs->multi, e) != CURLM_OK) {
        sl->job = NULL;
        curl_slist_free_all(j->hdrs);
        curl_easy_cleanup(e);
        free(j);
        return HG_ENOMEM;
    }
    return HG_OK;
}

static void h_wait(struct worker *w, struct slot *slots, unsigned n, int timeout_ms)
{
    (void)slots;
    (void)n;
    struct hstate *hs = w->be_state;
    int running = 0;
    curl_multi_perform(hs->multi, &running);
    if (running && timeout_ms > 0)
        curl_multi_poll(hs->multi, NULL, 0, timeout_ms, NULL);
    curl_multi_perform(hs->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(hs->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct slot *sl = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
        if (!sl || !sl->job)
            continue;
        struct hjob *j = sl->job;
        j->done = 1;
        j->cc = m->data.result;
        curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
        curl_off_t ra = 0;
        if (curl_easy_getinfo(j->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            j->retry_after_s = (long)ra;
    }
}

static int h_step(struct worker *w, struct slot *sl, int64_t now)
{
    (void)w;
    (void)now;
    return ((struct hjob *)sl->job)->done;
}

static int64_t h_deadline(struct worker *w, struct slot *sl)
{
    (void)w;
    return ((struct hjob *)sl->job)->deadline;
}

static int h_result(struct worker *w, struct slot *sl, char *err, size_t cap, int64_t *retry_after)
{
    (void)w;
    struct hjob *j = sl->job;
    *retry_after = j->retry_after_s * 1000;
    if (j->cc != CURLE_OK) {
        snprintf(err, cap, "http: %s", curl_easy_strerror(j->cc));
        return HG_EIO;
    }
    if (j->status >= 200 && j->status < 300)
        return HG_OK;
    /* the answer goes into the dead letter and the log: one printable line */
    for (size_t i = 0; i < j->answer_len; i++)
        if ((unsigned char)j->answer[i] < 0x20 || j->answer[i] == 0x7f)
            j->answer[i] = ' ';
    snprintf(err, cap, "HTTP %ld: %s", j->status, j->answer);
    if (j->status == 408 || j->status == 429 || j->status >= 500)
        return HG_EIO;
    return HG_EDEAD;
}

static void h_terminate(struct worker *w, struct slot *sl)
{
    (void)w;
    (void)sl; /* a request in flight is abandoned at release; it is sent again later */
}

static void h_release(struct worker *w, struct slot *sl)
{
    struct hstate *hs = w->be_state;
    struct hjob *j = sl->job;
    if (!j)
        return;
    curl_multi_remove_handle(hs->multi, j->easy);
    curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->hdrs);
    free(j);
    sl->job = NULL;
}

const struct job_backend deliver_http_backend = {
    h_begin, h_wait, h_step, h_deadline, h_result, h_terminate, h_release, h_open, h_close};
