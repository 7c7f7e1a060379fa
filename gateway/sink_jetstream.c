/*
 * sink_jetstream.c - the jetstream sink (a per-event sink, see sink.h): each
 * event is published asynchronously to NATS JetStream, up to `window`
 * awaiting their PubAck.  The connection is natsconn.c's.
 *
 * Invariants:
 *  - an event counts as delivered only when its PubAck arrived (a duplicate
 *    PubAck too: the stream already holds it); the sink's cursor moves over
 *    delivered events only, so after a crash or a lost node what was not
 *    acknowledged is published again;
 *  - every message carries Nats-Msg-Id "{route}:{id}" (ids of the form
 *    "sha256:..." also ":{hex SHA-256 of the body}", see msg_id), so JetStream drops
 *    the copies a retry, a restart or a second instance publish within the
 *    stream's duplicate window;
 *  - subjects are built from event data with whitespace, '*', '>' and empty
 *    tokens replaced, so an event can never publish to a wildcard.
 * The PubAck callback runs on a libnats thread: jobs are found by seq and
 * attempt generation (header Hookgate-Attempt "SEQ.GEN", so a late PubAck
 * timeout of one attempt never ends the next) under js->lock, and the
 * worker is woken through a condition variable.
 *
 * While the connection is down nothing is published: begin fails (no
 * attempt is spent, see sink.h) and events wait in the store; a connection
 * libnats closed for good (a refused password) is opened again every
 * JS_REOPEN_MS.  A publish in flight when the link dropped ends with
 * HG_EBUSY (transport down: the attempt does not count).  A stream check
 * deferred because NATS was down at open runs at most every
 * JS_CHECK_RETRY_MS, or JS_CHECK_BAD_MS after a mismatch, which is logged
 * at most that often.
 */
#include "codec.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "natsconn.h"
#include "sink.h"

#include <nats/nats.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JS_SUBJECT_MAX    512
#define JS_WARN_EVERY_MS  10000 /* "not connected" once per this, not once per attempt */
#define JS_REOPEN_MS      5000  /* a closed connection is opened again this often */
#define JS_CHECK_RETRY_MS 1000  /* deferred stream check after a transient failure */
#define JS_CHECK_BAD_MS   30000 /* ... after a mismatch (and its ERROR line at most this often) */

struct jjob {
    uint64_t seq;
    unsigned gen;        /* attempt generation: with seq, names this publish */
    unsigned long drops; /* natsconn_drops at begin */
    unsigned reopens;    /* jstate.reopens at begin */
    int done, ok, dup;
    int64_t deadline;
    char err[200];
    struct jjob *next; /* in js->jobs */
};

struct jstate {
    struct natsconn *conn;
    natsConnection *nc; /* conn's */
    jsCtx *js;
    int stream_ok;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int woken;
    int closing; /* set before the connection goes: late PubAcks are ignored */
    struct jjob *jobs;
    const struct cfg_sink *sink;
    int64_t last_warn;   /* worker thread only, and the next four */
    int64_t next_check;  /* deferred stream check: not before this */
    int64_t check_log;   /* a stream check may log an ERROR from this time */
    int64_t next_reopen; /* a closed connection: open again at this time */
    unsigned gen;        /* the last attempt generation handed out */
    unsigned reopens;    /* connections opened again so far */
};

/* on_ack - a PubAck, a negative one, or libnats' timeout for one; msg (the
 * message published) is ours to destroy. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    struct jstate *s = closure;
    const char *v = NULL;
    if (natsMsgHeader_Get(msg, "Hookgate-Attempt", &v) != NATS_OK || !v) {
        natsMsg_Destroy(msg);
        return;
    }
    char *end = NULL;
    uint64_t seq = strtoull(v, &end, 10);
    unsigned gen = end && *end == '.' ? (unsigned)strtoul(end + 1, NULL, 10) : 0;
    natsMsg_Destroy(msg); /* v with it */
    pthread_mutex_lock(&s->lock);
    for (struct jjob *j = s->closing ? NULL : s->jobs; j; j = j->next) {
        if (j->seq != seq || j->gen != gen || j->done)
            continue;
        j->done = 1;
        j->ok = pa != NULL && pae == NULL;
        j->dup = pa && pa->Duplicate;
        if (pae)
            snprintf(j->err, sizeof(j->err), "jetstream: %s",
                     pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
        s->woken = 1;
        pthread_cond_signal(&s->wake);
        break;
    }
    pthread_mutex_unlock(&s->lock);
}

/* stream_check - create the stream, or check an existing one has the
 * configured settings.  HG_OK, HG_ECONFIG (mismatch, logged when loud),
 * HG_EIO. */
static int stream_check(struct jstate *s, int loud)
{
    const struct cfg_sink *k = s->sink;
    char subj[JS_SUBJECT_MAX];
    const char *brace = strchr(k->subject, '{');
    if (brace)
        snprintf(subj, sizeof(subj), "%.*s>", (int)(brace - k->subject), k->subject);
    else
        snprintf(subj, sizeof(subj), "%s", k->subject);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_GetStreamInfo(&si, s->js, k->stream, NULL, &jerr);
    if (st == NATS_OK) {
        const jsStreamConfig *c = si->Config;
        const char *bad = NULL;
        if (c->Replicas != (int64_t)k->replicas)
            bad = "replicas";
        else if (c->Duplicates != (int64_t)k->dup_window_ms * 1000000)
            bad = "duplicate_window";
        int covered = 0;
        for (int i = 0; i < c->SubjectsLen && !covered; i++)
            covered = !strcmp(c->Subjects[i], subj);
        if (!bad && !covered)
            bad = "subjects";
        jsStreamInfo_Destroy(si);
        if (bad) {
            if (loud)
                log_msg(LOG_ERROR, "deliver: the existing stream has other settings",
                        "{s:s,s:s,s:s}", "sink", k->name, "stream", k->stream, "setting", bad);
            return HG_ECONFIG;
        }
        return HG_OK;
    }
    if (jerr != JSStreamNotFoundErr && st != NATS_NOT_FOUND)
        return HG_EIO;
    if (!k->stream_create) {
        if (loud)
            log_msg(LOG_ERROR, "deliver: stream does not exist (set stream.create)", "{s:s,s:s}",
                    "sink", k->name, "stream", k->stream);
        return HG_ECONFIG;
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[1] = {subj};
    cfg.Name = k->stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = k->replicas;
    cfg.Duplicates = (int64_t)k->dup_window_ms * 1000000;
    st = js_AddStream(&si, s->js, &cfg, NULL, &jerr);
    if (st != NATS_OK) {
        if (loud)
            log_msg(LOG_ERROR, "deliver: cannot create the stream", "{s:s,s:s,s:s}", "sink",
                    k->name, "stream", k->stream, "error", natsStatus_GetText(st));
        return HG_EIO;
    }
    jsStreamInfo_Destroy(si);
    log_msg(LOG_INFO, "deliver: stream created", "{s:s,s:s,s:s,s:i}", "sink", k->name, "stream",
            k->stream, "subjects", subj, "replicas", (int)k->replicas);
    return HG_OK;
}

/* js_disconnect - drop the context and the connection; PubAcks still due
 * never come (the connection is closed before its context goes). */
static void js_disconnect(struct jstate *s)
{
    if (s->nc)
        natsConnection_Close(s->nc);
    jsCtx_Destroy(s->js);
    natsconn_close(s->conn);
    s->js = NULL;
    s->nc = NULL;
    s->conn = NULL;
}

/* states of closed sinks: libnats may still run a PubAck callback for them
 * after the connection is gone, so they stay allocated (and reachable) until
 * exit; one per delivery restart, a few hundred bytes each */
static struct jstate *retired[256];
static size_t nretired;
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;

static void js_close(void *state)
{
    struct jstate *s = state;
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->closing = 1;
    pthread_mutex_unlock(&s->lock);
    js_disconnect(s); /* closed before its JetStream context goes: no PubAck after that */
    pthread_mutex_lock(&s->lock);
    while (s->jobs) {
        struct jjob *j = s->jobs;
        s->jobs = j->next;
        free(j);
    }
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&retired_lock);
    if (nretired < sizeof(retired) / sizeof(retired[0]))
        retired[nretired++] = s;
    pthread_mutex_unlock(&retired_lock);
}

/* js_connect - open s's connection and its JetStream context (logged on
 * failure): HG_OK, or the code of natsconn_open, or HG_ENOMEM. */
static int js_connect(struct jstate *s)
{
    const struct cfg_sink *k = s->sink;
    const char *why = NULL;
    struct natsconn_cfg nc = natsconn_cfg_of_sink(k);
    int rc = natsconn_open(&nc, &s->conn, &why);
    if (rc) {
        log_msg(LOG_ERROR,
                rc == HG_EINVAL ? "deliver: jetstream options refused"
                                : "deliver: cannot set up the NATS connection",
                "{s:s,s:s}", "sink", k->name, "error", why);
        return rc;
    }
    s->nc = natsconn_nc(s->conn);
    natsStatus st;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.AckHandler = on_ack;
    jo.PublishAsync.AckHandlerClosure = s;
    jo.PublishAsync.MaxPending = k->concurrency;
    jo.Wait = (int64_t)k->timeout_ms;
    if ((st = natsConnection_JetStream(&s->js, s->nc, &jo)) != NATS_OK) {
        log_msg(LOG_ERROR, "deliver: cannot set up the JetStream context", "{s:s,s:s}", "sink",
                k->name, "error", natsStatus_GetText(st));
        return HG_ENOMEM;
    }
    return HG_OK;
}

static int js_open(const struct config *c, const struct cfg_sink *k, void **state)
{
    (void)c;
    struct jstate *s = calloc(1, sizeof(*s));
    if (!s)
        return HG_ENOMEM;
    s->sink = k;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    int rc = js_connect(s);
    if (rc) {
        js_close(s);
        return rc;
    }
    *state = s;
    if (natsConnection_Status(s->nc) == NATS_CONN_STATUS_CONNECTED) {
        rc = stream_check(s, 1);
        if (rc == HG_ECONFIG) {
            js_close(s);
            return rc;
        }
        s->stream_ok = rc == HG_OK;
    } else {
        char buf[256];
        const char *err = natsconn_why(s->conn, buf, sizeof(buf));
        log_msg(LOG_WARN, "deliver: NATS not reachable yet; events wait in the store", "{s:s,s:s}",
                "sink", k->name, "error", err ? err : "");
        s->last_warn = time_now_ms();
    }
    return HG_OK;
}

/* not_connected - log why the connection is down, once per JS_WARN_EVERY_MS:
 * the worker retries every 100 ms, and a bad password must not flood the log. */
static void not_connected(struct jstate *s)
{
    char buf[256];
    int64_t now = time_now_ms();
    const char *why = natsconn_why(s->conn, buf, sizeof(buf));
    if (!why || now - s->last_warn < JS_WARN_EVERY_MS)
        return;
    s->last_warn = now;
    log_msg(LOG_WARN, "deliver: NATS not connected; events wait in the store", "{s:s,s:s}", "sink",
            s->sink->name, "error", why);
}

/* subject - the template filled for this event, sanitised (see top) */
static void subject(const char *tpl, const struct sink_event *ev, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *t = tpl; *t && o + 1 < cap;) {
        const char *val = NULL;
        size_t skip = 0;
        if (!strncmp(t, "{route}", 7))
            val = ev->route, skip = 7;
        else if (!strncmp(t, "{type}", 6))
            val = ev->type, skip = 6;
        else if (!strncmp(t, "{id}", 4))
            val = ev->id, skip = 4;
        if (!val) {
            out[o++] = *t++;
            continue;
        }
        if (!*val)
            val = "_";
        for (; *val && o + 1 < cap; val++) {
            unsigned char c = (unsigned char)*val;
            out[o++] = (char)(c <= 0x20 || c == 0x7f || c == '*' || c == '>' ? '_' : c);
        }
        t += skip;
    }
    out[o] = '\0';
    /* no empty token: "a..b" -> "a._.b", and none at either end */
    char fixed[JS_SUBJECT_MAX];
    size_t f = 0;
    for (size_t i = 0; i < o && f + 3 < sizeof(fixed); i++) {
        if (out[i] == '.' && (i == 0 || out[i - 1] == '.'))
            fixed[f++] = '_';
        fixed[f++] = out[i];
    }
    if (f && fixed[f - 1] == '.' && f + 1 < sizeof(fixed))
        fixed[f++] = '_';
    fixed[f] = '\0';
    snprintf(out, cap, "%s", fixed);
}

/* reopen - a connection libnats closed for good (it gives up after a
 * refusal of the credentials): open it again, at most every JS_REOPEN_MS.
 * Jobs in flight end by their deadline, as transport failures. */
static void reopen(struct jstate *s, int64_t now)
{
    if (now < s->next_reopen)
        return;
    s->next_reopen = now + JS_REOPEN_MS;
    js_disconnect(s);
    s->reopens++;
    if (js_connect(s) == HG_OK && natsConnection_Status(s->nc) == NATS_CONN_STATUS_CONNECTED)
        log_msg(LOG_INFO, "deliver: NATS connection opened again", "{s:s}", "sink", s->sink->name);
    s->stream_ok = 0; /* checked again: the server may be another one */
    s->next_check = 0;
}

/* ready - 1 if events can be published now; else 0 (logged now and then),
 * reopening a closed connection and running a deferred stream check. */
static int ready(struct jstate *s, int64_t now)
{
    natsConnStatus cs = s->nc && s->js ? natsConnection_Status(s->nc) : NATS_CONN_STATUS_CLOSED;
    if (cs == NATS_CONN_STATUS_CLOSED)
        reopen(s, now);
    if (!s->js || natsConnection_Status(s->nc) != NATS_CONN_STATUS_CONNECTED) {
        if (s->conn)
            not_connected(s);
        return 0;
    }
    if (s->stream_ok)
        return 1;
    if (now < s->next_check)
        return 0;
    int loud = now >= s->check_log;
    int rc = stream_check(s, loud);
    if (rc == HG_OK) {
        s->stream_ok = 1;
        s->check_log = 0;
        return 1;
    }
    s->next_check = now + (rc == HG_ECONFIG ? JS_CHECK_BAD_MS : JS_CHECK_RETRY_MS);
    if (loud)
        s->check_log = now + JS_CHECK_BAD_MS;
    return 0;
}

/* msg_id - "{route}:{id}"; an id that looks like one hookgate derives from
 * a body ("sha256:...") also gets ":{hex SHA-256 of the body}", so a
 * producer that sends the id "sha256:<hex of body X>" with another body
 * never takes the message id of body X (the dedupe namespaces of the
 * store, carried into the stream's duplicate window). */
static void msg_id(const struct sink_event *ev, char *out, size_t cap)
{
    if (strncmp(ev->id, "sha256:", 7) != 0 || !ev->body) {
        snprintf(out, cap, "%s:%s", ev->route, ev->id);
        return;
    }
    unsigned char d[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    SHA256((const unsigned char *)ev->body, ev->body_len, d);
    hex_encode(d, sizeof(d), hex);
    snprintf(out, cap, "%s:%s:%s", ev->route, ev->id, hex);
}

/* js_wants_body - the body is hashed into the message id of derived ids */
static int js_wants_body(const struct cfg_sink *sk)
{
    (void)sk;
    return 1;
}

static int js_begin(void *state, const struct sink_event *ev, int64_t now, void **job)
{
    struct jstate *s = state;
    if (!ready(s, now))
        return HG_EIO; /* no attempt spent: tried again shortly by the loop */
    char subj[JS_SUBJECT_MAX], msgid[2 * EVENT_STR_MAX + 2 + 2 * SHA256_DIGEST_LENGTH + 2];
    char seq[24], att[40];
    subject(s->sink->subject, ev, subj, sizeof(subj));
    msg_id(ev, msgid, sizeof(msgid));
    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)ev->seq);
    unsigned gen = ++s->gen;
    snprintf(att, sizeof(att), "%s.%u", seq, gen);
    size_t len = ev->len && ev->line[ev->len - 1] == '\n' ? ev->len - 1 : ev->len;
    struct jjob *j = calloc(1, sizeof(*j));
    natsMsg *m = NULL;
    if (!j || natsMsg_Create(&m, subj, NULL, ev->line, (int)len) != NATS_OK ||
        natsMsgHeader_Set(m, "Nats-Msg-Id", msgid) != NATS_OK ||
        natsMsgHeader_Set(m, "Hookgate-Seq", seq) != NATS_OK ||
        natsMsgHeader_Set(m, "Hookgate-Attempt", att) != NATS_OK) {
        natsMsg_Destroy(m);
        free(j);
        return HG_ENOMEM;
    }
    j->seq = ev->seq;
    j->gen = gen;
    j->drops = natsconn_drops(s->conn);
    j->reopens = s->reopens;
    j->deadline = now + (int64_t)s->sink->timeout_ms;
    pthread_mutex_lock(&s->lock);
    j->next = s->jobs;
    s->jobs = j;
    pthread_mutex_unlock(&s->lock);
    *job = j;
    /* libnats frees its pending slot of a publish whose PubAck never comes
     * only with MaxWait: without it a full window of lost PubAcks (a node
     * that hung, then died) would block every later publish */
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = (int64_t)s->sink->timeout_ms;
    natsStatus st = js_PublishMsgAsync(s->js, &m, &po);
    if (st != NATS_OK) {
        natsMsg_Destroy(m); /* still ours on error */
        pthread_mutex_lock(&s->lock);
        if (!j->done) {
            j->done = 1;
            snprintf(j->err, sizeof(j->err), "jetstream: publish: %s", natsStatus_GetText(st));
        }
        pthread_mutex_unlock(&s->lock);
    }
    return HG_OK;
}

static void js_wait(void *state, void *const *jobs, unsigned n, int timeout_ms)
{
    (void)jobs;
    (void)n;
    struct jstate *s = state;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += (long)timeout_ms * 1000000;
    dl.tv_sec += dl.tv_nsec / 1000000000;
    dl.tv_nsec %= 1000000000;
    pthread_mutex_lock(&s->lock);
    while (!s->woken && timeout_ms > 0)
        if (pthread_cond_timedwait(&s->wake, &s->lock, &dl))
            break;
    s->woken = 0;
    pthread_mutex_unlock(&s->lock);
}

static int js_step(void *state, void *job, int64_t now)
{
    struct jstate *s = state;
    struct jjob *j = job;
    pthread_mutex_lock(&s->lock);
    if (!j->done && now > j->deadline) { /* no PubAck: published again later */
        j->done = 1;
        snprintf(j->err, sizeof(j->err), "jetstream: no PubAck within the timeout");
    }
    int d = j->done;
    pthread_mutex_unlock(&s->lock);
    return d;
}

static int64_t js_deadline(void *state, void *job)
{
    (void)state;
    return ((struct jjob *)job)->deadline;
}

static int js_result(void *state, void *job, char *err, size_t cap, int64_t *retry_after)
{
    struct jstate *s = state;
    struct jjob *j = job;
    *retry_after = 0;
    pthread_mutex_lock(&s->lock);
    int ok = j->ok, dup = j->dup;
    snprintf(err, cap, "%s", j->err[0] ? j->err : "jetstream: publish failed");
    pthread_mutex_unlock(&s->lock);
    if (ok && dup)
        metrics_publish_duplicate(s->sink->mx);
    if (ok)
        return HG_OK;
    /* the link went down while this publish was out, or is down now: not
     * the event's fault, and no attempt of its (sink.h, HG_EBUSY) */
    if (!s->nc || natsConnection_Status(s->nc) != NATS_CONN_STATUS_CONNECTED ||
        j->reopens != s->reopens || natsconn_drops(s->conn) != j->drops)
        return HG_EBUSY;
    return HG_EIO;
}

/* js_release - a publish not yet acknowledged is published again later
 * (after a restart too): Nats-Msg-Id keeps one copy in the stream. */
static void js_release(void *state, void *job)
{
    struct jstate *s = state;
    struct jjob *j = job;
    if (!j)
        return;
    pthread_mutex_lock(&s->lock);
    for (struct jjob **p = &s->jobs; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    free(j);
}

const struct sink_ops sink_jetstream_ops = {.name = "jetstream",
                                            .open = js_open,
                                            .close = js_close,
                                            .begin = js_begin,
                                            .wait = js_wait,
                                            .step = js_step,
                                            .deadline = js_deadline,
                                            .result = js_result,
                                            .release = js_release,
                                            .wants_body = js_wants_body};
