/*
 * cli_sign.c - `hookgate sign` and `hookgate send-test`: act as a producer.
 *
 * sign prints the headers a producer using a profile would send for a body
 * ("Name: value" lines, so each can be given to curl -H); send-test posts
 * the profile's test event, signed the same way, and prints the answer.
 * Both use verify.c's signer, so what they produce is exactly what serve
 * checks.  The secret may be given as env:NAME or file:PATH to keep it out
 * of the process list.
 */
#include "cli.h"
#include "codec.h"
#include "err.h"
#include "extract.h"
#include "httpc.h"
#include "jscan.h"
#include "profile.h"
#include "verify.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIGN_BODY_MAX (16u << 20)
#define SIGN_HDRS_MAX 8

struct sign_opts {
    const char *profile, *secret, *id, *type, *nonce, *timestamp, *file, *url, *cafile;
    const char *dirs[9];
    size_t ndirs;
    int insecure;
};

static int parse_opts(int argc, char **argv, int send, struct sign_opts *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "-p") || !strcmp(a, "--profile"))
            slot = &o->profile;
        else if (!strcmp(a, "-s") || !strcmp(a, "--secret"))
            slot = &o->secret;
        else if (!strcmp(a, "--id"))
            slot = &o->id;
        else if (!strcmp(a, "--type"))
            slot = &o->type;
        else if (!strcmp(a, "--nonce") && !send)
            slot = &o->nonce;
        else if (!strcmp(a, "--timestamp") && !send)
            slot = &o->timestamp;
        else if (!strcmp(a, "--cacert") && send)
            slot = &o->cafile;
        else if (!strcmp(a, "--insecure") && send) {
            o->insecure = 1;
            continue;
        } else if (!strcmp(a, "--profile-dir") && i + 1 < argc && o->ndirs < 8) {
            o->dirs[o->ndirs++] = argv[++i];
            continue;
        } else if (!(a[0] == '-' && a[1]) && send && !o->url) {
            o->url = a;
            continue;
        } else if (!(a[0] == '-' && a[1]) && !send && !o->file) {
            o->file = a;
            continue;
        } else {
            return -1;
        }
        if (i + 1 >= argc)
            return -1;
        *slot = argv[++i];
    }
    return o->profile && o->secret && (!send || o->url) ? 0 : -1;
}

/* load_secret - literal, env:NAME or file:PATH (one trailing newline
 * dropped; a file over 4096 bytes is refused, never cut).  The stack copy
 * is wiped on every path. */
static int load_secret(const char *s, struct secret *out)
{
    char buf[4097];
    size_t n;
    int rc = -1;
    if (!strncmp(s, "env:", 4)) {
        const char *v = getenv(s + 4);
        if (!v || !*v)
            return -1;
        n = strlen(v);
        s = v;
    } else if (!strncmp(s, "file:", 5)) {
        FILE *f = fopen(s + 5, "r");
        if (!f)
            return -1;
        n = fread(buf, 1, sizeof(buf), f);
        (void)fclose(f); /* read-only */
        if (n == sizeof(buf))
            n = 0; /* too long: refused */
        if (n && buf[n - 1] == '\n')
            n--;
        if (n && buf[n - 1] == '\r')
            n--;
        s = buf;
    } else {
        n = strlen(s);
    }
    if (n && (out->data = malloc(n + 1))) {
        memcpy(out->data, s, n);
        out->data[n] = '\0';
        out->len = n;
        rc = 0;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

static char *read_body(const char *file, size_t *len)
{
    FILE *f = file ? fopen(file, "rb") : stdin;
    if (!f)
        return NULL;
    char *b = malloc(SIGN_BODY_MAX + 1);
    size_t n = b ? fread(b, 1, SIGN_BODY_MAX + 1, f) : 0;
    if (file)
        (void)fclose(f); /* read-only */
    if (!b || n > SIGN_BODY_MAX) {
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

static void random_id(const char *pfx, char *out, size_t cap)
{
    unsigned char r[10];
    char hex[21];
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r));
    hex_encode(r, sizeof(r), hex);
    snprintf(out, cap, "%s%s", pfx, hex);
}

static const char *first_header_name(const struct prof_field *f)
{
    for (int i = 0; f[i].src; i++)
        if (f[i].src == PROF_HEADER)
            return f[i].name;
    return NULL;
}

/* build_headers - the producer's headers for body; strings malloc'd into h. */
static int build_headers(const struct profile *p, const struct secret *sec,
                         const struct sign_opts *o, const char *body, size_t len, char **h,
                         size_t *nh)
{
    char id[128], nonce[64], ts[32], sig[1024];
    const char *type = o->type ? o->type : p->test_type ? p->test_type : "test";
    random_id("msg_", id, sizeof(id));
    if (o->id)
        snprintf(id, sizeof(id), "%s", o->id);
    random_id("n_", nonce, sizeof(nonce));
    if (o->nonce)
        snprintf(nonce, sizeof(nonce), "%s", o->nonce);
    long long now = (long long)time(NULL);
    snprintf(ts, sizeof(ts), "%lld", p->ts_ms ? now * 1000 : now);
    if (o->timestamp)
        snprintf(ts, sizeof(ts), "%s", o->timestamp);
    enum jscan_kind top;
    int json = jscan_scan(body, len, &top, NULL, 0, NULL) == JSCAN_OK;
    *nh = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (*nh >= SIGN_HDRS_MAX || asprintf(&h[*nh], __VA_ARGS__) < 0)                            \
            return HG_ENOMEM;                                                                      \
        ++*nh;                                                                                     \
    } while (0)
    struct verifier *v = NULL;
    const char *why = NULL;
    int rc = verify_new(p, sec, p->fmt == PROF_FMT_NONE ? 0 : 1, &v, &why);
    if (rc) {
        fprintf(stderr, "hookgate: secret not usable by profile %s: %s\n", p->name,
                why ? why : hg_strerror(rc));
        return rc;
    }
    struct verify_input in = {.body = body,
                              .body_len = len,
                              .id = id,
                              .type = type,
                              .timestamp = ts,
                              .nonce = nonce,
                              .token = (const char *)sec->data};
    rc = p->fmt == PROF_FMT_TOKEN || p->fmt == PROF_FMT_NONE
             ? HG_OK
             : verify_sign(v, &in, sig, sizeof(sig));
    verify_free(v);
    if (rc) {
        fprintf(stderr,
                "hookgate: cannot sign with profile %s (for ed25519 give the whsk_ private "
                "key)\n",
                p->name);
        return rc;
    }
    ADD("Content-Type: %s", json ? "application/json" : "text/plain; charset=utf-8");
    if (p->fmt == PROF_FMT_TOKEN) {
        const char *th = p->token_header[0];
        ADD("%s: %s%s", th, strcasecmp(th, "Authorization") ? "" : "Bearer ", sec->data);
    } else if (p->fmt != PROF_FMT_NONE) {
        ADD("%s: %s", p->sig_header[0], sig);
    }
    const char *n;
    if ((n = first_header_name(p->id)))
        ADD("%s: %s", n, id);
    if ((n = first_header_name(p->type)))
        ADD("%s: %s", n, type);
    if ((n = first_header_name(p->ts)))
        ADD("%s: %s", n, ts);
    if ((n = first_header_name(p->nonce)))
        ADD("%s: %s", n, nonce);
#undef ADD
    return HG_OK;
}

/* fill - replace string values "{id}", "{type}", "{timestamp}" in j. */
static void fill(json_t *j, const char *id, const char *type, const char *ts)
{
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            const char *s = json_string_value(v);
            const char *r = !s                          ? NULL
                            : !strcmp(s, "{id}")        ? id
                            : !strcmp(s, "{type}")      ? type
                            : !strcmp(s, "{timestamp}") ? ts
                                                        : NULL;
            if (r)
                json_object_set_new(j, k, json_string(r));
            else
                fill(v, id, type, ts);
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            fill(json_array_get(j, i), id, type, ts);
    }
}

static int run(int argc, char **argv, int send)
{
    struct sign_opts o = {0};
    if (parse_opts(argc, argv, send, &o)) {
        fputs(send ? "usage: hookgate send-test URL -p PROFILE -s SECRET [--type TYPE] [--id ID]\n"
                     "         [--cacert FILE | --insecure] [--profile-dir DIR]\n"
                   : "usage: hookgate sign -p PROFILE -s SECRET [--id ID] [--type TYPE] "
                     "[--nonce N]\n         [--timestamp UNIX] [--profile-dir DIR] [FILE]\n",
              stderr);
        return 2;
    }
    char err[1024];
    struct profile_set *set = NULL;
    if (profile_set_load(o.dirs, &set, err, sizeof(err))) {
        fprintf(stderr, "hookgate: %s\n", err);
        return 1;
    }
    int rc = 1;
    char *body = NULL, *hdrs[SIGN_HDRS_MAX + 1] = {0};
    size_t len = 0, nh = 0;
    struct secret sec = {0};
    const struct profile *p = profile_find(set, o.profile);
    if (!p) {
        fprintf(stderr, "hookgate: unknown profile \"%s\" (known: %s)\n", o.profile,
                profile_names(set));
        goto out;
    }
    if (load_secret(o.secret, &sec)) {
        fputs("hookgate: the secret is empty, or its env:/file: source unreadable, or a file over "
              "4096 bytes\n",
              stderr);
        goto out;
    }
    char id[128];
    random_id("msg_", id, sizeof(id));
    if (!send) {
        if (!(body = read_body(o.file, &len))) {
            fprintf(stderr, "hookgate: cannot read the body (at most %u bytes)\n", SIGN_BODY_MAX);
            goto out;
        }
    } else {
        const char *type = o.type ? o.type : p->test_type ? p->test_type : "test";
        char ts[32];
        long long now = (long long)time(NULL);
        snprintf(ts, sizeof(ts), "%lld", p->ts_ms ? now * 1000 : now);
        json_t *j = p->test_body
                        ? json_loads(p->test_body, JSON_DECODE_ANY, NULL)
                        : json_pack("{ss,ss,sb}", "id", "{id}", "type", "{type}", "test", 1);
        if (j)
            fill(j, o.id ? o.id : id, type, ts);
        body = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
        json_decref(j);
        if (!body)
            goto out;
        len = strlen(body);
        if (!o.id)
            o.id = id;
    }
    if (build_headers(p, &sec, &o, body, len, hdrs, &nh))
        goto out;
    if (!send) {
        for (size_t i = 0; i < nh; i++)
            printf("%s\n", hdrs[i]);
        rc = 0;
        goto out;
    }
    struct httpc_opts ho = {.cafile = o.cafile, .insecure = o.insecure};
    struct httpc_answer *ans = calloc(1, sizeof(*ans));
    if (!ans)
        goto out;
    if (httpc_post(o.url, hdrs, body, len, &ho, ans, err, sizeof(err))) {
        fprintf(stderr, "hookgate: send-test: %s\n", err);
    } else {
        /* the answer goes to a terminal: no control characters from the network */
        for (size_t i = 0; i < ans->len; i++)
            if ((unsigned char)ans->body[i] < 0x20 && ans->body[i] != '\n' && ans->body[i] != '\t')
                ans->body[i] = '?';
        printf("HTTP %d\n%s%s", ans->status, ans->body,
               ans->len && ans->body[ans->len - 1] == '\n' ? "" : "\n");
        rc = ans->status >= 200 && ans->status < 300 ? 0 : 1;
    }
    free(ans);
out:
    for (size_t i = 0; i < nh; i++) {
        OPENSSL_cleanse(hdrs[i], strlen(hdrs[i]));
        free(hdrs[i]);
    }
    if (sec.data)
        OPENSSL_cleanse(sec.data, sec.len);
    free(sec.data);
    free(body);
    profile_set_free(set);
    return rc;
}

int cli_sign(int argc, char **argv)
{
    return run(argc, argv, 0);
}

int cli_send_test(int argc, char **argv)
{
    return run(argc, argv, 1);
}
