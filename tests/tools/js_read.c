/* js_read: a small JetStream client for hookgate's end-to-end tests (libnats).
 *
 *   js_read URLS STREAM
 *       every message of STREAM, one line each, in sequence order:
 *       SEQ<TAB>SUBJECT<TAB>NATS-MSG-ID<TAB>PAYLOAD
 *       (messages are read with js_GetMsg from the first to the last sequence
 *       of js_GetStreamInfo; deleted sequences are skipped).  In PAYLOAD (and
 *       the id) a backslash, tab, CR and LF are written as \\ \t \r \n, so a
 *       message is always exactly one line and the bytes can be restored.
 *       A message without a Nats-Msg-Id header has "-" there.
 *   js_read info URLS STREAM
 *       the stream's config and state as KEY=VALUE lines: name, subjects
 *       (comma-separated), replicas, duplicates_ns, storage, msgs, first_seq,
 *       last_seq, leader (empty when not clustered or no leader yet).
 *   js_read headers URLS STREAM SEQ
 *       every header of message SEQ as KEY: VALUE lines (a key with several
 *       values gives several lines).
 *   js_read add URLS STREAM SUBJECTS REPLICAS DUPLICATE_MS
 *       creates a file stream (SUBJECTS comma-separated); prints its name.
 *   js_read pub URLS SUBJECT MSGID PAYLOAD
 *       publishes PAYLOAD with header Nats-Msg-Id: MSGID (none when MSGID is
 *       "-") and waits for the PubAck; prints SEQ<TAB>new|duplicate.
 *
 * URLS is one server URL or several separated by commas.  Exit status: 0 ok,
 * 1 a NATS / JetStream error (message on stderr), 2 usage, 3 stream not found.
 * JetStream API requests wait up to JS_READ_WAIT_MS (default 5000) each.
 *
 * Build: cc tests/tools/js_read.c $(pkg-config --cflags --libs libnats) -o js_read
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static natsConnection *nc;
static jsCtx *js;
static jsOptions jo;

static int fail(const char *what, natsStatus s, jsErrCode ec)
{
    fprintf(stderr, "js_read: %s: %s (status %d, jetstream error %d)", what, natsStatus_GetText(s),
            (int)s, (int)ec);
    const char *last = nats_GetLastError(NULL);
    if (last && *last)
        fprintf(stderr, ": %s", last);
    fputc('\n', stderr);
    return ec == JSStreamNotFoundErr ? 3 : 1;
}

static int open_js(const char *urls)
{
    char *copy = strdup(urls);
    const char *list[64];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 64;
         t = strtok_r(NULL, ",", &save))
        list[n++] = t;
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetServers(o, list, n);
    if (s == NATS_OK)
        s = natsOptions_SetNoRandomize(o, true);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, 5000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, 0);
    if (s == NATS_OK)
        s = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    free(copy);
    if (s != NATS_OK)
        return fail("connect", s, 0);
    jsOptions_Init(&jo);
    const char *w = getenv("JS_READ_WAIT_MS");
    jo.Wait = w && *w ? atoll(w) : 5000;
    s = natsConnection_JetStream(&js, nc, &jo);
    if (s != NATS_OK)
        return fail("jetstream context", s, 0);
    return 0;
}

static void put_escaped(const char *p, int n)
{
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\\':
            fputs("\\\\", stdout);
            break;
        case '\t':
            fputs("\\t", stdout);
            break;
        case '\r':
            fputs("\\r", stdout);
            break;
        case '\n':
            fputs("\\n", stdout);
            break;
        default:
            putchar(c);
        }
    }
}

static int dump(const char *stream)
{
    jsStreamInfo *si = NULL;
    jsErrCode ec = 0;
    natsStatus s = js_GetStreamInfo(&si, js, stream, &jo, &ec);
    if (s != NATS_OK)
        return fail("stream info", s, ec);
    uint64_t first = si->State.FirstSeq, last = si->State.LastSeq, msgs = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    uint64_t got = 0;
    for (uint64_t seq = first ? first : 1; msgs && seq <= last; seq++) {
        natsMsg *m = NULL;
        ec = 0;
        s = js_GetMsg(&m, js, stream, seq, &jo, &ec);
        if (s != NATS_OK) {
            if (ec == JSNoMessageFoundErr || s == NATS_NOT_FOUND) {
                continue; /* deleted */
            }
            char what[64];
            snprintf(what, sizeof what, "get message %llu", (unsigned long long)seq);
            return fail(what, s, ec);
        }
        const char *id = NULL;
        if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || id == NULL) {
            id = "-";
        }
        printf("%llu\t%s\t", (unsigned long long)seq, natsMsg_GetSubject(m));
        put_escaped(id, (int)strlen(id));
        putchar('\t');
        put_escaped(natsMsg_GetData(m), natsMsg_GetDataLength(m));
        putchar('\n');
        natsMsg_Destroy(m);
        got++;
    }
    if (fflush(stdout) != 0)
        return 1;
    fprintf(stderr, "js_read: %s: %llu messages (first_seq %llu, last_seq %llu)\n", stream,
            (unsigned long long)got, (unsigned long long)first, (unsigned long long)last);
    return 0;
}

static int info(const char *stream)
{
    jsStreamInfo *si = NULL;
    jsErrCode ec = 0;
    natsStatus s = js_GetStreamInfo(&si, js, stream, &jo, &ec);
    if (s != NATS_OK)
        return fail("stream info", s, ec);
    jsStreamConfig *c = si->Config;
    printf("name=%s\nsubjects=", c->Name);
    for (int i = 0; i < c->SubjectsLen; i++)
        printf("%s%s", i ? "," : "", c->Subjects[i]);
    printf("\nreplicas=%lld\nduplicates_ns=%lld\nstorage=%s\n", (long long)c->Replicas,
           (long long)c->Duplicates, c->Storage == js_MemoryStorage ? "memory" : "file");
    printf("msgs=%llu\nfirst_seq=%llu\nlast_seq=%llu\nleader=%s\n",
           (unsigned long long)si->State.Msgs, (unsigned long long)si->State.FirstSeq,
           (unsigned long long)si->State.LastSeq,
           si->Cluster && si->Cluster->Leader ? si->Cluster->Leader : "");
    jsStreamInfo_Destroy(si);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int headers(const char *stream, const char *seqs)
{
    natsMsg *m = NULL;
    jsErrCode ec = 0;
    natsStatus s = js_GetMsg(&m, js, stream, strtoull(seqs, NULL, 10), &jo, &ec);
    if (s != NATS_OK)
        return fail("get message", s, ec);
    const char **keys = NULL;
    int nk = 0;
    if (natsMsgHeader_Keys(m, &keys, &nk) == NATS_OK) {
        for (int i = 0; i < nk; i++) {
            const char **vals = NULL;
            int nv = 0;
            if (natsMsgHeader_Values(m, keys[i], &vals, &nv) != NATS_OK)
                continue;
            for (int j = 0; j < nv; j++)
                printf("%s: %s\n", keys[i], vals[j]);
            free((void *)vals);
        }
        free((void *)keys);
    }
    natsMsg_Destroy(m);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int add(const char *stream, const char *subjects, const char *replicas, const char *dup_ms)
{
    char *copy = strdup(subjects);
    const char *subj[64];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 64;
         t = strtok_r(NULL, ",", &save))
        subj[n++] = t;
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream;
    cfg.Subjects = subj;
    cfg.SubjectsLen = n;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = atoll(replicas);
    cfg.Duplicates = atoll(dup_ms) * 1000000LL;
    jsStreamInfo *si = NULL;
    jsErrCode ec = 0;
    natsStatus s = js_AddStream(&si, js, &cfg, &jo, &ec);
    free(copy);
    if (s != NATS_OK)
        return fail("add stream", s, ec);
    printf("%s\n", si->Config->Name);
    jsStreamInfo_Destroy(si);
    return 0;
}

static int pub(const char *subject, const char *msgid, const char *payload)
{
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, NULL, payload, (int)strlen(payload));
    if (s == NATS_OK && strcmp(msgid, "-") != 0)
        s = natsMsgHeader_Set(m, "Nats-Msg-Id", msgid);
    if (s != NATS_OK)
        return fail("message", s, 0);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = jo.Wait;
    jsPubAck *pa = NULL;
    jsErrCode ec = 0;
    s = js_PublishMsg(&pa, js, m, &po, &ec);
    natsMsg_Destroy(m);
    if (s != NATS_OK)
        return fail("publish", s, ec);
    printf("%llu\t%s\n", (unsigned long long)pa->Sequence, pa->Duplicate ? "duplicate" : "new");
    jsPubAck_Destroy(pa);
    return 0;
}

static int usage(void)
{
    fputs("usage: js_read URLS STREAM\n"
          "       js_read info URLS STREAM\n"
          "       js_read headers URLS STREAM SEQ\n"
          "       js_read add URLS STREAM SUBJECTS REPLICAS DUPLICATE_MS\n"
          "       js_read pub URLS SUBJECT MSGID PAYLOAD\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc == 3 && strstr(argv[1], "://"))
        rc = (rc = open_js(argv[1])) ? rc : dump(argv[2]);
    else if (argc == 4 && !strcmp(argv[1], "info"))
        rc = (rc = open_js(argv[2])) ? rc : info(argv[3]);
    else if (argc == 5 && !strcmp(argv[1], "headers"))
        rc = (rc = open_js(argv[2])) ? rc : headers(argv[3], argv[4]);
    else if (argc == 7 && !strcmp(argv[1], "add"))
        rc = (rc = open_js(argv[2])) ? rc : add(argv[3], argv[4], argv[5], argv[6]);
    else if (argc == 6 && !strcmp(argv[1], "pub"))
        rc = (rc = open_js(argv[2])) ? rc : pub(argv[3], argv[4], argv[5]);
    else
        return usage();
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return rc;
}
