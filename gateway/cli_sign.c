/*
 * cli_sign.c - `hookgate sign` and `hookgate send-test`: act as a producer.
 *
 * sign prints the headers a producer using a profile would send for a body
 * ("Name: value" lines, so each can be given to curl -H); send-test posts
 * the profile's test event, signed the same way, and prints the answer.
 * Both use verify.c's signer, so what they produce is exactly what serve
 * checks, and extract.c's reading of a body, so an id or type header is
 * printed only where serve would read it (not when the body carries the
 * value where the profile looks first).  The secret may be given as
 * env:NAME or file:PATH (secret.c) to keep it out of the process list.
 */
#include "cli.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "extract.h"
#include "httpc.h"
#include "jscan.h"
#include "profile.h"
#include "secret.h"
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
    const char *signed_url, *method; /* --url (the URL signed), --method */
    const char *claims[9];           /* --claim NAME=VALUE (JWT profiles) */
    size_t nclaims;
    const char *dirs[9];
    size_t ndirs;
    int insecure;
    int send; /* send-test, not sign */
};

/* value_slot - where the value of option a goes, or NULL when a is not an
 * option of this command that takes a value. */
static const char **value_slot(const char *a, int send, struct sign_opts *o)
{
    if (!strcmp(a, "-p") || !strcmp(a, "--profile"))
        return &o->profile;
    if (!strcmp(a, "-s") || !strcmp(a, "--secret"))
        return &o->secret;
    if (!strcmp(a, "--id"))
        return &o->id;
    if (!strcmp(a, "--type"))
        return &o->type;
    if (!strcmp(a, "--nonce") && !send)
        return &o->nonce;
    if (!strcmp(a, "--timestamp") && !send)
        return &o->timestamp;
    if (!strcmp(a, "--cacert") && send)
        return &o->cafile;
    if (!strcmp(a, "--url"))
        return &o->signed_url;
    if (!strcmp(a, "--method"))
        return &o->method;
    return NULL;
}

/* parse_opts - 0 to go on; otherwise the command is over and *code is its
 * exit code (help printed, or a usage error reported). */
static int parse_opts(int argc, char **argv, int send, struct sign_opts *o, int *code)
{
    const char *cmd = send ? "send-test" : "sign";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = value_slot(a, send, o);
        int dir = !strcmp(a, "--profile-dir");
        const char **pos = send ? &o->url : &o->file;
        if (cli_is_help(a)) {
            *code = cli_help(cmd);
            return 1;
        }
        if (!strcmp(a, "--insecure") && send) {
            o->insecure = 1;
        } else if ((slot || dir) && i + 1 >= argc) {
            *code = cli_usage_error(cmd, "option '%s' needs a value", a);
            return 1;
        } else if (slot) {
            *slot = argv[++i];
        } else if (!strcmp(a, "--claim") && i + 1 < argc) {
            if (o->nclaims >= 8 || !strchr(argv[i + 1], '=')) {
                *code = cli_usage_error(cmd, "--claim takes NAME=VALUE (at most 8)");
                return 1;
            }
            o->claims[o->nclaims++] = argv[++i];
        } else if (dir && o->ndirs < 8) {
            o->dirs[o->ndirs++] = argv[++i];
        } else if (dir) {
            *code = cli_usage_error(cmd, "at most 8 --profile-dir");
            return 1;
        } else if (a[0] == '-' && a[1]) {
            *code = cli_usage_error(cmd, "unknown option '%s'", a);
            return 1;
        } else if (!*pos) {
            *pos = a;
        } else {
            *code = cli_usage_error(cmd, "unexpected argument '%s'", a);
            return 1;
        }
    }
    const char *missing = send && !o->url ? "URL" : !o->profile ? "-p PROFILE" : NULL;
    missing = missing ? missing : !o->secret ? "-s SECRET" : NULL;
    if (!missing)
        return 0;
    *code = cli_usage_error(cmd, "%s needs %s", cmd, missing);
    return 1;
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

/* probe - whether serve, reading a body through a profile, reaches the
 * first id header and the first type header of the profile. */
struct probe {
    const char *id_hdr, *type_hdr;
    int id_read, type_read;
};

static const char *probe_header(void *ctx, const char *name)
{
    struct probe *pr = ctx;
    if (pr->id_hdr && !strcasecmp(name, pr->id_hdr)) {
        pr->id_read = 1;
        return "probe"; /* found: serve would look no further */
    }
    if (pr->type_hdr && !strcasecmp(name, pr->type_hdr)) {
        pr->type_read = 1;
        return "probe";
    }
    return NULL;
}

/* headers_read - which of the id and type headers serve reads for body.
 * Where the profile lists a body member before the header (generic's
 * /event_id before X-Webhook-Event-Id) and the body has it, serve takes it
 * from the body: the header would only repeat it, unread.  This asks
 * extract.c itself, so sign agrees with serve.  A header the signature
 * covers ({id}, {type}) is always read. */
static void headers_read(const struct profile *p, const char *body, size_t len, struct probe *pr)
{
    struct cfg_route rt = {.profile = p};
    struct extract_result res;
    pr->id_hdr = first_header_name(p->id);
    pr->type_hdr = first_header_name(p->type);
    pr->id_read = pr->type_read = 0;
    if (extract_event(&rt, probe_header, pr, body, len, &res, NULL) != HG_OK)
        pr->id_read = pr->type_read = 1; /* serve refuses the body: say all there is */
    pr->id_read |= profile_uses(p, "{id}");
    pr->type_read |= profile_uses(p, "{type}");
}

/* add_id_type - the id and type headers serve reads for this body; a note
 * on stderr when sign's --id or --type goes unsent because of the body. */
static int add_id_type(const struct profile *p, const struct sign_opts *o, const char *body,
                       size_t len, const char *id, const char *type, char **h, size_t *nh)
{
    struct probe pr;
    headers_read(p, body, len, &pr);
    const char *name[2] = {pr.id_hdr, pr.type_hdr}, *val[2] = {id, type};
    const char *given[2] = {o->id, o->type}, *opt[2] = {"--id", "--type"};
    int read[2] = {pr.id_read, pr.type_read};
    for (int i = 0; i < 2; i++) {
        if (name[i] && read[i]) {
            if (*nh >= SIGN_HDRS_MAX || asprintf(&h[*nh], "%s: %s", name[i], val[i]) < 0)
                return HG_ENOMEM;
            ++*nh;
        } else if (name[i] && given[i] && !o->send) {
            fprintf(stderr,
                    "hookgate: %s is not sent: profile %s reads the event %s from the body, "
                    "which has one (no %s header)\n",
                    opt[i], p->name, i ? "type" : "id", name[i]);
        }
    }
    return HG_OK;
}

/* now_ts - the current time in p's timestamp unit. */
static void now_ts(const struct profile *p, char *ts, size_t cap)
{
    time_t now = time(NULL);
    if (p->ts_unit == PROF_TS_RFC3339) {
        struct tm tm;
        gmtime_r(&now, &tm);
        (void)strftime(ts, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else {
        snprintf(ts, cap, "%lld", p->ts_ms ? (long long)now * 1000 : (long long)now);
    }
}

/* body_set - the string v at pointer ptr of JSON body *b ("*" stands for
 * every element of an array; missing objects on the way are created):
 * where a profile's signature (Mailgun) or token (Microsoft Graph) lives.
 * *b is replaced (malloc'd). */
static int body_set(char **b, size_t *len, const char *ptr, const char *v, int only_empty)
{
    json_t *root = json_loadb(*b, *len, 0, NULL);
    if (!json_is_object(root) && !json_is_array(root)) {
        json_decref(root);
        fprintf(stderr, "hookgate: the body must be a JSON object for this profile\n");
        return HG_EINVAL;
    }
    json_t *cur[64] = {root}, *next[64];
    size_t ncur = 1;
    char tok[256];
    const char *s = ptr;
    while (*s == '/') {
        s++;
        size_t n = strcspn(s, "/");
        snprintf(tok, sizeof(tok), "%.*s", (int)n, s);
        s += n;
        size_t nn = 0;
        for (size_t i = 0; i < ncur; i++) {
            if (*s != '/') { /* the last token: set it */
                const char *old = json_string_value(json_object_get(cur[i], tok));
                if (json_is_object(cur[i]) && (!only_empty || !old || !*old))
                    json_object_set_new(cur[i], tok, json_string(v));
                continue;
            }
            if (!strcmp(tok, "*") && json_is_array(cur[i])) {
                for (size_t k = 0; k < json_array_size(cur[i]) && nn < 64; k++)
                    next[nn++] = json_array_get(cur[i], k);
            } else if (json_is_object(cur[i])) {
                json_t *c = json_object_get(cur[i], tok);
                if (!c) {
                    c = json_object();
                    json_object_set_new(cur[i], tok, c);
                }
                next[nn++] = c;
            }
        }
        if (*s != '/')
            break;
        for (size_t k = 0; k < nn; k++)
            cur[k] = next[k];
        ncur = nn;
    }
    char *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!out)
        return HG_ENOMEM;
    free(*b);
    *b = out;
    *len = strlen(out);
    return HG_OK;
}

/* fill_signed_members - a body-signed profile (Mailgun): the timestamp
 * and the nonce its content signs, written into the body where they are
 * missing or empty (a producer makes them fresh for each delivery). */
static int fill_signed_members(const struct profile *p, const char *ts, char **body, size_t *len)
{
    int rc = HG_OK;
    for (int i = 0; !rc && p->ts[i].src; i++)
        if (p->ts[i].src == PROF_POINTER)
            rc = body_set(body, len, p->ts[i].name, ts, 1);
    if (!rc && p->nonce[0].src == PROF_POINTER) {
        char tok[64];
        random_id("", tok, sizeof(tok));
        char more[32];
        random_id("", more, sizeof(more));
        strncat(tok, more, sizeof(tok) - strlen(tok) - 1);
        rc = body_set(body, len, p->nonce[0].name, tok, 1);
    }
    return rc;
}

/* auth_header - the header that carries sig (or the token) for p. */
static int auth_header(const struct profile *p, const struct secret *sec, const char *sig, char **h,
                       size_t *nh)
{
    int n = -1;
    if (p->fmt == PROF_FMT_TOKEN && p->token_header[0]) {
        const char *th = p->token_header[0];
        const char *pfx = p->token_prefix                   ? p->token_prefix
                          : strcasecmp(th, "Authorization") ? ""
                                                            : "Bearer ";
        n = asprintf(&h[*nh], "%s: %s%s", th, pfx, sec->data);
    } else if (p->fmt == PROF_FMT_BASIC) {
        n = asprintf(&h[*nh], "Authorization: %s", sig);
    } else if (p->fmt != PROF_FMT_NONE && p->fmt != PROF_FMT_TOKEN && p->sig_header[0]) {
        n = asprintf(&h[*nh], "%s: %s", p->sig_header[0], sig);
    } else {
        return HG_OK; /* unsigned, or in the body */
    }
    if (n < 0 || *nh >= SIGN_HDRS_MAX)
        return HG_ENOMEM;
    ++*nh;
    return HG_OK;
}

/* build_headers - the producer's headers for body; strings malloc'd into h.
 * A profile that signs in the body gets its body signed (*body replaced). */
static int build_headers(const struct profile *p, const struct secret *sec,
                         const struct sign_opts *o, char **body, size_t *len, char **h, size_t *nh,
                         char *err, size_t cap)
{
    char id[128], nonce[64], ts[48], sig[8192];
    const char *type = o->type ? o->type : p->test_type ? p->test_type : "test";
    random_id("msg_", id, sizeof(id));
    if (o->id)
        snprintf(id, sizeof(id), "%s", o->id);
    random_id("n_", nonce, sizeof(nonce));
    if (o->nonce)
        snprintf(nonce, sizeof(nonce), "%s", o->nonce);
    now_ts(p, ts, sizeof(ts));
    if (o->timestamp)
        snprintf(ts, sizeof(ts), "%s", o->timestamp);
    enum jscan_kind top;
    int json = jscan_scan(*body, *len, &top, NULL, 0, NULL) == JSCAN_OK;
    *nh = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (*nh >= SIGN_HDRS_MAX || asprintf(&h[*nh], __VA_ARGS__) < 0)                            \
            return HG_ENOMEM;                                                                      \
        ++*nh;                                                                                     \
    } while (0)
    struct verifier *v = NULL;
    const char *why = NULL;
    int rc = verify_new_signer(p, sec, &v, &why);
    if (rc) {
        snprintf(err, cap, "secret not usable by profile %s: %s", p->name,
                 why ? why : hg_strerror(rc));
        return rc;
    }
    struct verify_input in = {.body = *body,
                              .body_len = *len,
                              .id = id,
                              .type = type,
                              .timestamp = ts,
                              .nonce = nonce,
                              .token = (const char *)sec->data,
                              .url = o->signed_url ? o->signed_url
                                     : o->url      ? o->url
                                                   : "",
                              .method = o->method ? o->method : "POST",
                              .claims = o->claims,
                              .now_s = (int64_t)time(NULL)};
    if (p->sig_pointer && (rc = fill_signed_members(p, ts, body, len))) {
        verify_free(v);
        return rc;
    }
    in.body = *body;
    in.body_len = *len;
    int plain = p->fmt == PROF_FMT_NONE || (p->fmt == PROF_FMT_TOKEN && !p->token_pointer);
    rc = plain ? HG_OK : verify_sign(v, &in, sig, sizeof(sig));
    verify_free(v);
    if (rc) {
        snprintf(err, cap,
                 "cannot sign with profile %s (for a public-key scheme give the "
                 "private key: PEM, whsk_ or 64 hex digits)",
                 p->name);
        return rc;
    }
    if (p->sig_pointer || p->token_pointer) {
        const char *val = p->sig_pointer ? sig : (const char *)sec->data;
        if ((rc = body_set(body, len, p->sig_pointer ? p->sig_pointer : p->token_pointer, val, 0)))
            return rc;
    }
    ADD("Content-Type: %s", json                        ? "application/json"
                            : profile_uses(p, "{form}") ? "application/x-www-form-urlencoded"
                                                        : "text/plain; charset=utf-8");
    if ((rc = auth_header(p, sec, sig, h, nh)) ||
        (rc = add_id_type(p, o, *body, *len, id, type, h, nh)))
        return rc;
    const char *n;
    if ((n = first_header_name(p->ts)))
        ADD("%s: %s", n, ts);
    if ((n = first_header_name(p->nonce)))
        ADD("%s: %s", n, nonce);
#undef ADD
    OPENSSL_cleanse(sig, sizeof(sig));
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

/* test_body - the profile's test event (its test_body, or a small
 * generic one) with {id}, {type} and {timestamp} filled in; malloc'd. */
static char *test_body(const struct profile *p, const struct sign_opts *o, const char *id,
                       size_t *len)
{
    const char *type = o->type ? o->type : p->test_type ? p->test_type : "test";
    char ts[48];
    now_ts(p, ts, sizeof(ts));
    json_t *j = p->test_body ? json_loads(p->test_body, JSON_DECODE_ANY, NULL)
                             : json_pack("{ss,ss,sb}", "id", "{id}", "type", "{type}", "test", 1);
    if (j)
        fill(j, o->id ? o->id : id, type, ts);
    char *body = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (body)
        *len = strlen(body);
    return body;
}

int cli_test_request(const struct profile *p, const struct secret *sec, const char *type,
                     const char *url, char **body, size_t *len, char **hdrs, size_t *nh, char *err,
                     size_t cap)
{
    struct sign_opts o = {.send = 1, .type = type, .url = url};
    char id[128];
    random_id("msg_", id, sizeof(id));
    o.id = id;
    err[0] = '\0';
    *nh = 0;
    if (!(*body = test_body(p, &o, id, len)))
        return HG_ENOMEM;
    int rc = build_headers(p, sec, &o, body, len, hdrs, nh, err, cap);
    if (rc && !err[0])
        snprintf(err, cap, "%s", hg_strerror(rc));
    return rc;
}

static int run(int argc, char **argv, int send)
{
    struct sign_opts o = {.send = send};
    int code;
    if (parse_opts(argc, argv, send, &o, &code))
        return code;
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
    if (o.nclaims && p->fmt != PROF_FMT_JWT) {
        fprintf(stderr, "hookgate: --claim is for a JWT profile (%s is not)\n", p->name);
        goto out;
    }
    if (secret_load(o.secret, 0, &sec, NULL, err, sizeof(err))) {
        fprintf(stderr, "hookgate: %s\n", err);
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
        if (!(body = test_body(p, &o, id, &len)))
            goto out;
        if (!o.id)
            o.id = id;
    }
    if (build_headers(p, &sec, &o, &body, &len, hdrs, &nh, err, sizeof(err))) {
        if (err[0])
            fprintf(stderr, "hookgate: %s\n", err);
        goto out;
    }
    if (!send) {
        for (size_t i = 0; i < nh; i++)
            printf("%s\n", hdrs[i]);
        if (p->sig_pointer || p->token_pointer) /* signed in the body: print it too */
            printf("\n%.*s\n", (int)len, body);
        rc = 0;
        goto out;
    }
    struct httpc_opts ho = {.cafile = o.cafile, .insecure = o.insecure};
    struct httpc_answer *ans = calloc(1, sizeof(*ans));
    if (!ans)
        goto out;
    if (httpc_post(o.url, hdrs, body, len, &ho, ans, err, sizeof(err))) {
        fprintf(stderr, "hookgate: %s\n", err);
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
    secret_free(&sec);
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
