/*
 * sink_http.c - the http sink (a per-event sink, see sink.h): one POST per
 * event, up to `concurrency` in flight on one libcurl multi handle, whose
 * connection cache keeps connections to the service alive between events.
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
#include "err.h"
#include "event.h"
#include "log.h"
#include "profile.h"
#include "sink.h"
#include "verify.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTP_SINK_ANSWER_MAX 512

struct hstate {
    const struct cfg_sink *sink;
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

static int h_open(const struct config *c, const struct cfg_sink *s, void **state)
{
    pthread_once(&curl_once, curl_init_once);
    struct hstate *hs = calloc(1, sizeof(*hs));
    if (!hs || !(hs->multi = curl_multi_init())) {
        free(hs);
        return HG_ENOMEM;
    }
    hs->sink = s;
    curl_multi_setopt(hs->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)s->concurrency);
    curl_multi_setopt(hs->multi, CURLMOPT_MAXCONNECTS, (long)s->concurrency);
    if (s->sign.len) {
        const struct profile *std = profile_find(c->profiles, "standard");
        const char *why = NULL;
        if (!std || verify_new(std, &s->sign, 1, &hs->signer, &why)) {
            log_msg(LOG_ERROR, "deliver: http sink cannot sign (sign.secret must be whsec_...)",
                    "{s:s,s:s}", "sink", s->name, "error", why ? why : "no standard profile");
            curl_multi_cleanup(hs->multi);
            free(hs);
            return HG_EINVAL;
        }
    }
    *state = hs;
    return HG_OK;
}

static void h_close(void *state)
{
    struct hstate *hs = state;
    if (!hs)
        return;
    curl_multi_cleanup(hs->multi);
    verify_free(hs->signer);
    free(hs);
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

static int headers(const struct hstate *hs, const struct sink_event *ev, const char *body,
                   size_t len, struct curl_slist **l)
{
    const struct cfg_sink *s = hs->sink;
    char v[3 * EVENT_STR_MAX + 1], seq[32], recv[40];
    int rc = add(l, "Expect:", NULL); /* no 100-continue round trip */
    if (!s->binary) {
        rc |= add(l, "Content-Type", "application/cloudevents+json; charset=utf-8");
    } else {
        rc |= add(l, "Content-Type", ev->ctype[0] ? ev->ctype : "application/octet-stream");
        snprintf(seq, sizeof(seq), "%llu", (unsigned long long)ev->seq);
        time_format_ms(ev->received_ms, recv, sizeof(recv));
        const char *attrs[][2] = {{"ce-specversion", "1.0"},
                                  {"ce-id", ev->id},
                                  {"ce-source", ev->source},
                                  {"ce-type", ev->type},
                                  {"ce-time", ev->time[0] ? ev->time : recv},
                                  {"ce-hookgateseq", seq},
                                  {"ce-hookgateroute", ev->route},
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
        snprintf(id, sizeof(id), "%s:%s", ev->route, ev->id);
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

static int h_wants_body(const struct cfg_sink *s)
{
    return s->binary;
}

static int h_begin(void *state, const struct sink_event *ev, int64_t now, void **job)
{
    struct hstate *hs = state;
    const struct cfg_sink *s = hs->sink;
    struct hjob *j = calloc(1, sizeof(*j));
    if (!j)
        return HG_ENOMEM;
    const char *body = s->binary ? ev->body : ev->line;
    size_t len = s->binary ? ev->body_len : ev->len;
    if (!body)
        body = "";
    if (!(j->easy = curl_easy_init()) || headers(hs, ev, body, len, &j->hdrs)) {
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
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
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
    if (curl_multi_add_handle(hs->multi, e) != CURLM_OK) {
        curl_slist_free_all(j->hdrs);
        curl_easy_cleanup(e);
        free(j);
        return HG_ENOMEM;
    }
    *job = j;
    return HG_OK;
}

static void h_wait(void *state, void *const *jobs, unsigned n, int timeout_ms)
{
    (void)jobs;
    (void)n;
    struct hstate *hs = state;
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
        struct hjob *j = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
        if (!j)
            continue;
        j->done = 1;
        j->cc = m->data.result;
        curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
        curl_off_t ra = 0;
        if (curl_easy_getinfo(j->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            j->retry_after_s = (long)ra;
    }
}

static int h_step(void *state, void *job, int64_t now)
{
    (void)state;
    (void)now;
    return ((struct hjob *)job)->done;
}

static int64_t h_deadline(void *state, void *job)
{
    (void)state;
    return ((struct hjob *)job)->deadline;
}

static int h_result(void *state, void *job, char *err, size_t cap, int64_t *retry_after)
{
    (void)state;
    struct hjob *j = job;
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

/* h_release - a request still in flight is abandoned (sent again later). */
static void h_release(void *state, void *job)
{
    struct hstate *hs = state;
    struct hjob *j = job;
    if (!j)
        return;
    curl_multi_remove_handle(hs->multi, j->easy);
    curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->hdrs);
    free(j);
}

const struct sink_ops sink_http_ops = {.name = "http",
                                       .open = h_open,
                                       .close = h_close,
                                       .wants_body = h_wants_body,
                                       .begin = h_begin,
                                       .wait = h_wait,
                                       .step = h_step,
                                       .deadline = h_deadline,
                                       .result = h_result,
                                       .release = h_release};
