/*
 * config_test.c - unit tests for the strict JSON config loader (gateway/config.c).
 *
 * Covers: defaults, values applied, one test per class of error with the
 * message naming the JSON path and the problem (unknown keys at each level,
 * keys reserved for later builds, bad sizes/durations/addresses, TLS files,
 * profiles, sink references, duplicates, secrets from env:/file:/literal),
 * route name and tolerance rules, JSON syntax errors with line/column,
 * duplicate JSON keys, config_load_file, config_load_default (secret file
 * created 0600 in a 0700 directory and reused; none with $HOOKGATE_SECRET)
 * and that no error message carries a secret's value.
 *
 * Temporary files live in a mkdtemp() directory under /tmp.
 */
#include "config.h"
#include "err.h"
#include "log.h"
#include "profile.h"
#include "t.h"
#include "verify.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATHLEN 256 /* room for any file name under tmpdir */

static char tmpdir[64]; /* mkdtemp'd in main */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ---- config text building blocks ----------------------------------------- */

#define LISTEN  "\"listen\":[{\"address\":\"127.0.0.1:0\"}]"
#define SINKS   "\"sinks\":{\"out\":{\"type\":\"stdout\"}}"
#define SECRETS "\"secrets\":[\"literal-secret\"]"
/* a valid route on /hooks/gh; extra is spliced in before the closing brace */
#define ROUTE(extra)                                                                               \
    "{\"path\":\"/hooks/gh\",\"profile\":\"generic\"," SECRETS ",\"sinks\":[\"out\"]" extra "}"
/* a whole config: extra top-level members after listen/sinks/routes */
#define CONFIG(routes, extra) "{" LISTEN "," SINKS ",\"routes\":[" routes "]" extra "}"
#define MINIMAL               CONFIG(ROUTE(""), "")

/* ---- helpers -------------------------------------------------------------- */

static char err[1024];

/* load a config text; NULL and a message in err on failure */
static struct config *load(const char *json)
{
    struct config *c = NULL;
    err[0] = '\0';
    int rc = config_load_string(json, "test.json", &c, err, sizeof(err));
    if (rc != HG_OK) {
        T_CHECK(c == NULL);
        return NULL;
    }
    T_CHECK(c != NULL);
    return c;
}

/* expect json to be refused with a message holding both path and problem */
#define EXPECT_ERR(json, path, problem) expect_err_at(__LINE__, json, path, problem)

static void expect_err_at(int line, const char *json, const char *path, const char *problem)
{
    struct config *c = NULL;
    err[0] = '\0';
    int rc = config_load_string(json, "test.json", &c, err, sizeof(err));
    int ok = rc == HG_ECONFIG && c == NULL && strncmp(err, "test.json: ", 11) == 0 &&
             strstr(err, path) && strstr(err, problem);
    if (getenv("HG_TEST_VERBOSE"))
        fprintf(stderr, "  line %d: %s\n", line, err);
    if (!ok) {
        fprintf(stderr, "  line %d: rc=%d message \"%s\"; wanted \"%s\" and \"%s\"\n", line, rc,
                err, path, problem);
        t_cur_failed = 1;
    }
    config_free(c);
}

/* write a file in tmpdir; path gets its full name */
static void write_file(const char *name, const void *data, size_t n, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    T_CHECK(f != NULL);
    if (!f)
        return;
    T_EQ_INT(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* the generic profile's header for body under key, computed independently */
static void expected_sig(const char *key, size_t keylen, const char *body, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)body, strlen(body), md, &mdlen);
    strcpy(out, "sha256=");
    for (unsigned i = 0; i < mdlen; i++)
        sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

/* does the route verify a generic signature made with key? */
static int route_accepts_key(const struct cfg_route *r, const char *key, size_t keylen)
{
    static const char body[] = "{\"event_id\":\"e1\"}";
    char sig[128];
    expected_sig(key, keylen, body, sig);
    struct verify_input in = {.body = body, .body_len = strlen(body), .signature = sig};
    return verify_check(r->verifier, &in, NULL) == HG_OK;
}

/* ---- defaults and values -------------------------------------------------- */

static void test_minimal_config_defaults(void)
{
    struct config *c = load(MINIMAL);
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    T_EQ_STR(c->source, "test.json");
    T_CHECK(c->max_body == 1048576);
    T_EQ_INT(c->max_connections, 1024);
    T_CHECK(c->request_timeout_ms == 10000);
    T_CHECK(c->dedupe_window_ms == 7ULL * 86400 * 1000);
    T_EQ_INT(c->retry_max_attempts, 12);
    T_CHECK(c->retry_initial_ms == 1000);
    T_CHECK(c->retry_max_ms == 3600000);
    T_EQ_STR(c->data_dir, "./hookgate-data");
    T_EQ_INT(c->nlisteners, 1);
    T_EQ_STR(c->listeners[0].address, "127.0.0.1:0");
    T_EQ_STR(c->listeners[0].host, "127.0.0.1");
    T_EQ_INT(c->listeners[0].port, 0);
    T_EQ_INT(c->listeners[0].tls, 0);
    T_EQ_INT(c->nsinks, 1);
    T_EQ_STR(c->sinks[0].name, "out");
    T_CHECK(c->sinks[0].types == NULL);
    T_EQ_INT(c->nroutes, 1);
    const struct cfg_route *r = &c->routes[0];
    T_EQ_STR(r->path, "/hooks/gh");
    T_EQ_STR(r->name, "gh"); /* last path segment */
    T_CHECK(r->profile == profile_find("generic"));
    T_EQ_INT(r->nsecrets, 1);
    T_EQ_INT(r->tolerance_s, 300);
    T_EQ_INT(r->nsinks, 1);
    T_EQ_INT(r->sinks[0], 0);
    T_CHECK(r->verifier != NULL);
    T_CHECK(config_route_find(c, "/hooks/gh") == r);
    T_CHECK(config_route_find(c, "/hooks/g") == NULL);
    T_CHECK(config_route_find(c, "/hooks/gh/") == NULL);
    config_free(c);
}

static void test_values_applied(void)
{
    struct config *c =
        load(CONFIG(ROUTE(",\"name\":\"github\""),
                    ",\"data_dir\":\"/var/lib/hg\",\"limits\":{\"max_body\":\"512KiB\","
                    "\"max_connections\":10,\"request_timeout\":\"30s\",\"max_store_size\":"
                    "\"2GiB\"},\"dedupe_window\":\"1h\",\"retry\":{\"max_attempts\":3,"
                    "\"initial\":\"250ms\",\"max\":\"5m\"},\"threads\":4,\"log_level\":\"warn\""));
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    T_EQ_STR(c->data_dir, "/var/lib/hg");
    T_CHECK(c->max_body == 524288);
    T_EQ_INT(c->max_connections, 10);
    T_CHECK(c->request_timeout_ms == 30000);
    T_CHECK(c->max_store_size == 2ULL << 30);
    T_CHECK(c->dedupe_window_ms == 3600000);
    T_EQ_INT(c->retry_max_attempts, 3);
    T_CHECK(c->retry_initial_ms == 250);
    T_CHECK(c->retry_max_ms == 300000);
    T_EQ_INT(c->threads, 4);
    T_EQ_INT(c->log_level, LOG_WARN);
    T_EQ_STR(c->routes[0].name, "github");
    config_free(c);

    /* numbers: bytes for sizes, seconds for durations */
    c = load(CONFIG(ROUTE(""), ",\"limits\":{\"max_body\":1000,\"request_timeout\":5},"
                               "\"dedupe_window\":0"));
    T_CHECK(c != NULL);
    if (c) {
        T_CHECK(c->max_body == 1000);
        T_CHECK(c->request_timeout_ms == 5000);
        T_CHECK(c->dedupe_window_ms == 0);
    }
    config_free(c);
}

static void test_addresses_accepted(void)
{
    struct config *c = load("{\"listen\":[{\"address\":\"[::1]:8443\"},{\"address\":"
                            "\"localhost:8080\"},{\"address\":\"0.0.0.0:65535\"}]," SINKS
                            ",\"routes\":[" ROUTE("") "]}");
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    T_EQ_INT(c->nlisteners, 3);
    T_EQ_STR(c->listeners[0].host, "::1");
    T_EQ_INT(c->listeners[0].port, 8443);
    T_EQ_STR(c->listeners[1].host, "127.0.0.1");
    T_EQ_INT(c->listeners[1].port, 8080);
    T_EQ_STR(c->listeners[2].host, "0.0.0.0");
    T_EQ_INT(c->listeners[2].port, 65535);
    config_free(c);
}

static void test_sink_types_filter(void)
{
    struct config *c =
        load("{" LISTEN ",\"sinks\":{\"a\":{\"type\":\"stdout\",\"types\":[\"order.*\",\"ping\"]},"
             "\"b\":{\"type\":\"stdout\"}},\"routes\":[{\"path\":\"/x\",\"profile\":\"generic\","
             "" SECRETS ",\"sinks\":[\"b\",\"a\"]}]}");
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    T_EQ_INT(c->nsinks, 2);
    T_EQ_STR(c->sinks[0].name, "a");
    T_CHECK(c->sinks[0].types != NULL);
    if (c->sinks[0].types) {
        T_EQ_STR(c->sinks[0].types[0], "order.*");
        T_EQ_STR(c->sinks[0].types[1], "ping");
        T_CHECK(c->sinks[0].types[2] == NULL);
    }
    /* route sinks are indexes into c->sinks, in the route's order */
    T_EQ_INT(c->routes[0].nsinks, 2);
    T_EQ_INT(c->routes[0].sinks[0], 1);
    T_EQ_INT(c->routes[0].sinks[1], 0);
    config_free(c);
}

/* ---- unknown keys, at every level ---------------------------------------- */

static void test_unknown_key_top_level(void)
{
    EXPECT_ERR("{\"lisen\":[]," SINKS ",\"routes\":[" ROUTE("") "]}", "$.lisen", "unknown key");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"dedupe\":\"1d\""), "$.dedupe", "unknown key");
}

static void test_unknown_key_in_limits(void)
{
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_bdy\":\"1MiB\"}"), "$.limits.max_bdy",
               "unknown key");
}

static void test_unknown_key_in_retry(void)
{
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"retry\":{\"attempts\":3}"), "$.retry.attempts", "unknown key");
}

static void test_unknown_key_in_listener(void)
{
    EXPECT_ERR("{\"listen\":[{\"address\":\"127.0.0.1:0\"},{\"address\":\"127.0.0.1:1\","
               "\"port\":1}]," SINKS ",\"routes\":[" ROUTE("") "]}",
               "$.listen[1].port", "unknown key");
}

static void test_unknown_key_in_tls(void)
{
    EXPECT_ERR("{\"listen\":[{\"address\":\"127.0.0.1:0\",\"tls\":{\"cert\":\"/etc/hostname\","
               "\"key\":\"/etc/hostname\",\"ciphers\":\"x\"}}]," SINKS
               ",\"routes\":[" ROUTE("") "]}",
               "$.listen[0].tls.ciphers", "unknown key");
}

static void test_unknown_key_in_route(void)
{
    EXPECT_ERR(CONFIG("{\"path\":\"/a\",\"profile\":\"generic\",\"secrtes\":[\"x\"],"
                      "\"sinks\":[\"out\"]}",
                      ""),
               "$.routes[0].secrtes", "unknown key");
    EXPECT_ERR(CONFIG(ROUTE("") "," ROUTE(",\"path2\":\"/b\""), ""), "$.routes[1].path2",
               "unknown key");
}

static void test_unknown_key_in_sink(void)
{
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"stdout\",\"format\":\"ndjson\"}},"
               "\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.format", "unknown key");
}

/* ---- keys reserved for later builds --------------------------------------- */

static void test_reserved_route_keys(void)
{
    EXPECT_ERR(CONFIG(ROUTE(",\"allow\":[\"10.0.0.0/8\"]"), ""), "$.routes[0].allow",
               "not supported by this build yet");
    EXPECT_ERR(CONFIG(ROUTE(",\"token\":\"env:TOKEN\""), ""), "$.routes[0].token",
               "not supported by this build yet");
    EXPECT_ERR(CONFIG(ROUTE(",\"allow_unsigned\":true"), ""), "$.routes[0].allow_unsigned",
               "not supported by this build yet");
}

static void test_reserved_tls_client_ca(void)
{
    EXPECT_ERR("{\"listen\":[{\"address\":\"127.0.0.1:0\",\"tls\":{\"cert\":\"/etc/hostname\","
               "\"key\":\"/etc/hostname\",\"client_ca\":\"/etc/hostname\"}}]," SINKS
               ",\"routes\":[" ROUTE("") "]}",
               "$.listen[0].tls.client_ca", "not supported by this build yet");
}

static void test_exec_sink(void)
{
    struct config *c = NULL;
    const char *sinks = "\"sinks\":{\"out\":{\"type\":\"exec\",\"command\":[\"/bin/true\",\"-x\"],"
                        "\"concurrency\":3,\"timeout\":\"2s\",\"env\":[\"HOME\"]}}";
    char json[2048];
    snprintf(json, sizeof(json), "{" LISTEN ",%s,\"routes\":[" ROUTE("") "]}", sinks);
    T_EQ_INT(config_load_string(json, "test.json", &c, err, sizeof(err)), HG_OK);
    if (c) {
        T_EQ_INT(c->sinks[0].type, SINK_EXEC);
        T_EQ_STR(c->sinks[0].command[0], "/bin/true");
        T_EQ_STR(c->sinks[0].command[1], "-x");
        T_CHECK(c->sinks[0].command[2] == NULL);
        T_EQ_INT(c->sinks[0].concurrency, 3);
        T_EQ_INT(c->sinks[0].timeout_ms, 2000);
        T_EQ_STR(c->sinks[0].env[0], "HOME");
        config_free(c);
    }
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"exec\"}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.command", "is required");
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"exec\",\"command\":\"/bin/sh -c x\"}},"
               "\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.command", "non-empty array of strings");
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"exec\",\"command\":[\"x\"],"
               "\"concurrency\":65}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.concurrency", "from 1 to 64");
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"exec\",\"command\":[\"x\"],"
               "\"env\":[\"HOOKGATE_SEQ\"]}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.env", "pass through");
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"stdout\",\"command\":[\"x\"]}},"
               "\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.command", "unknown key");
}

static void test_reserved_sink_types(void)
{
    static const char *const types[] = {"http", "jetstream"};
    for (int i = 0; i < 2; i++) {
        char json[1024], want[64];
        snprintf(json, sizeof(json),
                 "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"%s\"}},\"routes\":[" ROUTE("") "]}",
                 types[i]);
        snprintf(want, sizeof(want), "sink type \"%s\"", types[i]);
        EXPECT_ERR(json, "$.sinks.out.type", "not supported by this build yet");
        EXPECT_ERR(json, "$.sinks.out.type", want);
    }
    /* an unknown type is not "reserved" */
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"kafka\"}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.type", "unknown sink type \"kafka\"");
}

/* ---- bad values ---------------------------------------------------------- */

static void test_bad_size(void)
{
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_body\":\"1.5MiB\"}"), "$.limits.max_body",
               "must be a size");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_body\":-1}"), "$.limits.max_body",
               "must be a size");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_body\":\"2GiB\"}"), "$.limits.max_body",
               "between 1 byte and 1GiB");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_body\":0}"), "$.limits.max_body",
               "between 1 byte and 1GiB");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_store_size\":\"10XB\"}"),
               "$.limits.max_store_size", "must be a size");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_store_size\":\"512KiB\"}"),
               "$.limits.max_store_size", "at least 1MiB");
}

static void test_bad_duration(void)
{
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"request_timeout\":\"5x\"}"),
               "$.limits.request_timeout", "must be a duration");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"request_timeout\":\"2h\"}"),
               "$.limits.request_timeout", "between 1s and 1h");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"dedupe_window\":\"-1s\""), "$.dedupe_window",
               "must be a duration");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"dedupe_window\":true"), "$.dedupe_window",
               "must be a duration");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"retry\":{\"initial\":\"soon\"}"), "$.retry.initial",
               "must be a duration");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"retry\":{\"initial\":\"2h\"}"), "$.retry", "initial <= max");
    EXPECT_ERR(CONFIG(ROUTE(",\"tolerance\":\"5 m\""), ""), "$.routes[0].tolerance",
               "must be a duration");
    EXPECT_ERR(CONFIG(ROUTE(",\"tolerance\":\"500ms\""), ""), "$.routes[0].tolerance",
               "between 1s and 1d");
    EXPECT_ERR(CONFIG(ROUTE(",\"tolerance\":\"2d\""), ""), "$.routes[0].tolerance",
               "between 1s and 1d");
}

static void test_bad_integers_and_enums(void)
{
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_connections\":0}"), "$.limits.max_connections",
               "integer from 1 to 65536");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_connections\":\"10\"}"),
               "$.limits.max_connections", "integer from 1 to 65536");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"threads\":65"), "$.threads", "integer from 1 to 64");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"log_level\":\"verbose\""), "$.log_level",
               "\"debug\", \"info\"");
}

static void test_bad_address_or_port(void)
{
    static const struct {
        const char *addr, *problem;
    } cases[] = {
        {"127.0.0.1", "must be \"HOST:PORT\""},
        {"127.0.0.1:", "HOST:PORT"},
        {":8080", "HOST:PORT"},
        {"example.com:80", "numeric IPv4 or IPv6"},
        {"127.0.0.1:70000", "port must be 0-65535"},
        {"127.0.0.1:-1", "port must be 0-65535"},
        {"127.0.0.1:http", "port must be 0-65535"},
        {"127.0.0.1:80x", "port must be 0-65535"},
        {"[::1:8443", "IPv6 address must be in brackets"},
        {"[]:80", "IPv6 address must be in brackets"},
        {"256.0.0.1:80", "numeric IPv4 or IPv6"},
        {"::1:8080", "IPv6 address must be in brackets"}, /* ambiguous without them */
        {"127.0.0.1:080", "port must be 0-65535"},        /* digits only, no leading 0 */
        {"127.0.0.1:+80", "port must be 0-65535"},
        {"127.0.0.1: 80", "port must be 0-65535"},
        {"127.0.0.1:00000000080", "port must be 0-65535"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json),
                 "{\"listen\":[{\"address\":\"%s\"}]," SINKS ",\"routes\":[" ROUTE("") "]}",
                 cases[i].addr);
        EXPECT_ERR(json, "$.listen[0].address", cases[i].problem);
    }
    EXPECT_ERR("{\"listen\":[{\"tls\":{}}]," SINKS ",\"routes\":[" ROUTE("") "]}",
               "$.listen[0].address", "is required");
    EXPECT_ERR("{\"listen\":[]," SINKS ",\"routes\":[" ROUTE("") "]}", "$.listen",
               "array of 1 to 16 listeners");
    EXPECT_ERR("{" SINKS ",\"routes\":[" ROUTE("") "]}", "$.listen", "array of 1 to 16 listeners");
}

static void test_tls_files(void)
{
    char cert[PATHLEN], key[PATHLEN], json[2048];
    write_file("cert.pem", "CERT\n", 5, cert, sizeof(cert));
    write_file("key.pem", "KEY\n", 4, key, sizeof(key));

    snprintf(
        json, sizeof(json),
        "{\"listen\":[{\"address\":\"127.0.0.1:8443\",\"tls\":{\"cert\":\"%s\",\"key\":\"%s\"}}"
        "]," SINKS ",\"routes\":[" ROUTE("") "]}",
        cert, key);
    struct config *c = load(json);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->listeners[0].tls, 1);
        T_EQ_STR(c->listeners[0].cert, cert);
        T_EQ_STR(c->listeners[0].key, key);
    }
    config_free(c);

    /* missing cert file */
    snprintf(json, sizeof(json),
             "{\"listen\":[{\"address\":\"127.0.0.1:8443\",\"tls\":{\"cert\":\"%s/nope.pem\","
             "\"key\":\"%s\"}}]," SINKS ",\"routes\":[" ROUTE("") "]}",
             tmpdir, key);
    EXPECT_ERR(json, "$.listen[0].tls.cert", "cannot read");
    EXPECT_ERR(json, "$.listen[0].tls.cert", "nope.pem");
    /* missing key file */
    snprintf(json, sizeof(json),
             "{\"listen\":[{\"address\":\"127.0.0.1:8443\",\"tls\":{\"cert\":\"%s\","
             "\"key\":\"%s/nokey.pem\"}}]," SINKS ",\"routes\":[" ROUTE("") "]}",
             cert, tmpdir);
    EXPECT_ERR(json, "$.listen[0].tls.key", "cannot read");
    /* key not given at all */
    snprintf(json, sizeof(json),
             "{\"listen\":[{\"address\":\"127.0.0.1:8443\",\"tls\":{\"cert\":\"%s\"}}]," SINKS
             ",\"routes\":[" ROUTE("") "]}",
             cert);
    EXPECT_ERR(json, "$.listen[0].tls.key", "is required");
}

static void test_unknown_profile(void)
{
    EXPECT_ERR(
        CONFIG("{\"path\":\"/a\",\"profile\":\"stripe\"," SECRETS ",\"sinks\":[\"out\"]}", ""),
        "$.routes[0].profile", "unknown profile \"stripe\"");
    EXPECT_ERR(CONFIG("{\"path\":\"/a\"," SECRETS ",\"sinks\":[\"out\"]}", ""),
               "$.routes[0].profile", "is required");
}

static void test_unknown_sink_reference(void)
{
    EXPECT_ERR(CONFIG("{\"path\":\"/a\",\"profile\":\"generic\"," SECRETS
                      ",\"sinks\":[\"out\",\"nope\"]}",
                      ""),
               "$.routes[0].sinks[1]", "no sink named \"nope\"");
    EXPECT_ERR(CONFIG("{\"path\":\"/a\",\"profile\":\"generic\"," SECRETS
                      ",\"sinks\":[\"out\",\"out\"]}",
                      ""),
               "$.routes[0].sinks[1]", "listed twice");
    EXPECT_ERR(CONFIG("{\"path\":\"/a\",\"profile\":\"generic\"," SECRETS ",\"sinks\":[]}", ""),
               "$.routes[0].sinks", "non-empty array");
    EXPECT_ERR("{" LISTEN
               ",\"sinks\":{\"bad name\":{\"type\":\"stdout\"}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.bad name", "sink names are");
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"\":{\"type\":\"stdout\"}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.", "sink names are 1-64");
    EXPECT_ERR("{" LISTEN ",\"sinks\":{},\"routes\":[" ROUTE("") "]}", "$.sinks",
               "object of named sinks");
}

static void test_route_path_rules(void)
{
    EXPECT_ERR(
        CONFIG("{\"path\":\"hooks\",\"profile\":\"generic\"," SECRETS ",\"sinks\":[\"out\"]}", ""),
        "$.routes[0].path", "must start with '/'");
    EXPECT_ERR(CONFIG("{\"path\":\"/healthz\",\"profile\":\"generic\"," SECRETS
                      ",\"sinks\":[\"out\"]}",
                      ""),
               "$.routes[0].path", "reserved");
    EXPECT_ERR(CONFIG("{\"profile\":\"generic\"," SECRETS ",\"sinks\":[\"out\"]}", ""),
               "$.routes[0].path", "is required");
    EXPECT_ERR(CONFIG("", ""), "$.routes", "non-empty array");
}

static void test_duplicate_path(void)
{
    EXPECT_ERR(CONFIG(ROUTE("") "," ROUTE(",\"name\":\"other\""), ""), "$.routes[1]",
               "path /hooks/gh is already used by $.routes[0]");
}

static void test_duplicate_route_name(void)
{
    EXPECT_ERR(CONFIG("{\"path\":\"/a/x\",\"profile\":\"generic\"," SECRETS
                      ",\"sinks\":[\"out\"]},{\"path\":\"/b/x\",\"profile\":\"iex\"," SECRETS
                      ",\"sinks\":[\"out\"]}",
                      ""),
               "$.routes[1]", "route name \"x\" is already used by $.routes[0]");
    /* an explicit name that collides with a derived one */
    EXPECT_ERR(
        CONFIG(ROUTE("") ",{\"path\":\"/other\",\"name\":\"gh\",\"profile\":\"generic\"," SECRETS
                         ",\"sinks\":[\"out\"]}",
               ""),
        "$.routes[1]", "route name \"gh\"");
}

static void test_route_names(void)
{
    struct config *c =
        load(CONFIG("{\"path\":\"/hooks/iex/v1\",\"profile\":\"iex\"," SECRETS
                    ",\"sinks\":[\"out\"]},{\"path\":\"/single\",\"profile\":"
                    "\"generic\"," SECRETS ",\"sinks\":[\"out\"]},{\"path\":"
                    "\"/hooks/iex/v2\",\"name\":\"iex-two\",\"profile\":\"iex\"," SECRETS
                    ",\"sinks\":[\"out\"]}",
                    ""));
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    T_EQ_STR(c->routes[0].name, "v1");
    T_EQ_STR(c->routes[1].name, "single");
    T_EQ_STR(c->routes[2].name, "iex-two");
    config_free(c);
}

static void test_tolerance(void)
{
    struct config *c = load(CONFIG(
        "{\"path\":\"/i1\",\"profile\":\"iex\"," SECRETS ",\"sinks\":[\"out\"]},"
        "{\"path\":\"/i2\",\"profile\":\"iex\"," SECRETS ",\"sinks\":[\"out\"],\"tolerance\":"
        "\"10m\"},{\"path\":\"/i3\",\"profile\":\"iex\"," SECRETS ",\"sinks\":[\"out\"],"
        "\"tolerance\":60},{\"path\":\"/g\",\"profile\":\"generic\"," SECRETS
        ",\"sinks\":[\"out\"],\"tolerance\":\"1d\"}",
        ""));
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    T_EQ_INT(c->routes[0].tolerance_s, 300); /* the iex profile's window */
    T_EQ_INT(c->routes[1].tolerance_s, 600);
    T_EQ_INT(c->routes[2].tolerance_s, 60);
    T_EQ_INT(c->routes[3].tolerance_s, 86400);
    config_free(c);
}

/* ---- secrets ------------------------------------------------------------- */

static void test_env_secret(void)
{
    unsetenv("HG_TEST_UNSET_SECRET");
    const char *json = CONFIG("{\"path\":\"/e\",\"profile\":\"generic\",\"secrets\":"
                              "[\"env:HG_TEST_UNSET_SECRET\"],\"sinks\":[\"out\"]}",
                              "");
    EXPECT_ERR(json, "$.routes[0].secrets[0]",
               "environment variable HG_TEST_UNSET_SECRET is not set");
    setenv("HG_TEST_UNSET_SECRET", "", 1);
    EXPECT_ERR(json, "$.routes[0].secrets[0]", "HG_TEST_UNSET_SECRET is not set or empty");
    setenv("HG_TEST_UNSET_SECRET", "from-the-env", 1);
    struct config *c = load(json);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->routes[0].secrets[0].len, 12);
        T_CHECK(memcmp(c->routes[0].secrets[0].data, "from-the-env", 12) == 0);
        T_CHECK(route_accepts_key(&c->routes[0], "from-the-env", 12));
        T_CHECK(!route_accepts_key(&c->routes[0], "env:HG_TEST_UNSET_SECRET", 24));
    }
    config_free(c);
    unsetenv("HG_TEST_UNSET_SECRET");
}

static void test_file_secret_missing(void)
{
    char json[1024];
    snprintf(json, sizeof(json),
             CONFIG("{\"path\":\"/f\",\"profile\":\"generic\",\"secrets\":[\"file:%s/absent\"],"
                    "\"sinks\":[\"out\"]}",
                    ""),
             tmpdir);
    EXPECT_ERR(json, "$.routes[0].secrets[0]", "cannot read secret file");
    EXPECT_ERR(json, "$.routes[0].secrets[0]", "absent");
}

static void test_empty_secret(void)
{
    char path[PATHLEN], json[1024];
    write_file("empty.secret", "", 0, path, sizeof(path));
    snprintf(json, sizeof(json),
             CONFIG("{\"path\":\"/f\",\"profile\":\"generic\",\"secrets\":[\"file:%s\"],"
                    "\"sinks\":[\"out\"]}",
                    ""),
             path);
    EXPECT_ERR(json, "$.routes[0].secrets[0]", "secret is empty");
    /* a lone newline is empty too once stripped */
    write_file("nl.secret", "\n", 1, path, sizeof(path));
    snprintf(json, sizeof(json),
             CONFIG("{\"path\":\"/f\",\"profile\":\"generic\",\"secrets\":[\"file:%s\"],"
                    "\"sinks\":[\"out\"]}",
                    ""),
             path);
    EXPECT_ERR(json, "$.routes[0].secrets[0]", "secret is empty");
    /* an empty literal */
    EXPECT_ERR(CONFIG("{\"path\":\"/f\",\"profile\":\"generic\",\"secrets\":[\"\"],"
                      "\"sinks\":[\"out\"]}",
                      ""),
               "$.routes[0].secrets[0]", "must be \"env:NAME\"");
    EXPECT_ERR(CONFIG("{\"path\":\"/f\",\"profile\":\"generic\",\"secrets\":[],"
                      "\"sinks\":[\"out\"]}",
                      ""),
               "$.routes[0].secrets", "array of 1 to 16 secrets");
}

/* load a route whose only secret is file:<tmpdir>/name holding data[0..n) */
static struct config *load_file_secret(const char *name, const char *data, size_t n)
{
    char path[PATHLEN], json[1024];
    write_file(name, data, n, path, sizeof(path));
    snprintf(json, sizeof(json),
             CONFIG("{\"path\":\"/f\",\"profile\":\"generic\",\"secrets\":[\"file:%s\"],"
                    "\"sinks\":[\"out\"]}",
                    ""),
             path);
    struct config *c = load(json);
    if (!c)
        fprintf(stderr, "  %s\n", err);
    return c;
}

static void test_file_secret_trailing_newline_stripped(void)
{
    struct config *c = load_file_secret("lf.secret", "topsecret\n", 10);
    T_CHECK(c != NULL);
    if (c) {
        const struct cfg_route *r = &c->routes[0];
        T_EQ_INT(r->secrets[0].len, 9);
        T_CHECK(route_accepts_key(r, "topsecret", 9));
        T_CHECK(!route_accepts_key(r, "topsecret\n", 10));
        /* verify_sign reproduces the independently computed header */
        static const char body[] = "{\"event_id\":\"e2\"}";
        char want[128], got[128];
        expected_sig("topsecret", 9, body, want);
        struct verify_input in = {.body = body, .body_len = strlen(body)};
        T_EQ_INT(verify_sign(r->verifier, &in, got, sizeof(got)), HG_OK);
        T_EQ_STR(got, want);
    }
    config_free(c);

    c = load_file_secret("crlf.secret", "topsecret\r\n", 11);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->routes[0].secrets[0].len, 9);
        T_CHECK(route_accepts_key(&c->routes[0], "topsecret", 9));
    }
    config_free(c);

    /* only ONE newline goes; inner bytes (and no newline at all) are kept */
    c = load_file_secret("two.secret", "top\nsecret\n\n", 12);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->routes[0].secrets[0].len, 11);
        T_CHECK(route_accepts_key(&c->routes[0], "top\nsecret\n", 11));
    }
    config_free(c);
    c = load_file_secret("bare.secret", "top secret", 10);
    T_CHECK(c != NULL);
    if (c)
        T_CHECK(route_accepts_key(&c->routes[0], "top secret", 10));
    config_free(c);
}

/* read_secret_file promises "one trailing newline (LF or CRLF) removed": a
 * lone trailing CR is not a newline and belongs to the secret. */
static void test_file_secret_lone_cr_kept(void)
{
    struct config *c = load_file_secret("cr.secret", "topsecret\r", 10);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->routes[0].secrets[0].len, 10);
        T_CHECK(route_accepts_key(&c->routes[0], "topsecret\r", 10));
    }
    config_free(c);
}

static void test_file_secret_too_large(void)
{
    static char big[5000];
    memset(big, 'k', sizeof(big));
    char path[PATHLEN], json[1024];
    write_file("big.secret", big, sizeof(big), path, sizeof(path));
    snprintf(json, sizeof(json),
             CONFIG("{\"path\":\"/f\",\"profile\":\"generic\",\"secrets\":[\"file:%s\"],"
                    "\"sinks\":[\"out\"]}",
                    ""),
             path);
    EXPECT_ERR(json, "$.routes[0].secrets[0]", "larger than 4096 bytes");
    /* 4096 bytes exactly is fine */
    struct config *c = load_file_secret("max.secret", big, 4096);
    T_CHECK(c != NULL);
    if (c)
        T_EQ_INT(c->routes[0].secrets[0].len, 4096);
    config_free(c);
}

static void test_literal_secret_and_rotation(void)
{
    struct config *c = load(CONFIG("{\"path\":\"/r\",\"profile\":\"generic\",\"secrets\":"
                                   "[\"new-secret\",\"old-secret\"],\"sinks\":[\"out\"]}",
                                   ""));
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    const struct cfg_route *r = &c->routes[0];
    T_EQ_INT(r->nsecrets, 2);
    T_CHECK(route_accepts_key(r, "new-secret", 10));
    T_CHECK(route_accepts_key(r, "old-secret", 10));
    T_CHECK(!route_accepts_key(r, "other", 5));
    config_free(c);
}

/* ---- JSON syntax ---------------------------------------------------------- */

static void test_invalid_json_line_column(void)
{
    struct config *c = NULL;
    int rc = config_load_string("{\n  \"listen\": [\n    {\"address\": \"127.0.0.1:0\"}\n  ,,\n}",
                                "bad.json", &c, err, sizeof(err));
    T_EQ_INT(rc, HG_ECONFIG);
    T_CHECK(c == NULL);
    T_CHECK(strstr(err, "bad.json") == err);
    T_CHECK(strstr(err, "line 4") != NULL);
    T_CHECK(strstr(err, "column") != NULL);
    if (!strstr(err, "line 4"))
        fprintf(stderr, "  %s\n", err);

    rc = config_load_string("", "empty.json", &c, err, sizeof(err));
    T_EQ_INT(rc, HG_ECONFIG);
    T_CHECK(strstr(err, "empty.json") != NULL);
    EXPECT_ERR("[1,2]", "$", "must be an object");
}

static void test_duplicate_json_keys_rejected(void)
{
    struct config *c = NULL;
    int rc = config_load_string("{" LISTEN "," LISTEN "," SINKS ",\"routes\":[" ROUTE("") "]}",
                                "dup.json", &c, err, sizeof(err));
    T_EQ_INT(rc, HG_ECONFIG);
    T_CHECK(c == NULL);
    T_CHECK(strstr(err, "dup.json") != NULL);
    T_CHECK(strstr(err, "duplicate") != NULL);
    T_CHECK(strstr(err, "listen") != NULL);
    /* nested duplicates too */
    rc = config_load_string(CONFIG(ROUTE(",\"name\":\"a\",\"name\":\"b\""), ""), "dup.json", &c,
                            err, sizeof(err));
    T_EQ_INT(rc, HG_ECONFIG);
    T_CHECK(strstr(err, "duplicate") != NULL);
}

/* ---- config_load_file ----------------------------------------------------- */

static void test_load_file(void)
{
    char path[PATHLEN];
    write_file("good.json", MINIMAL, strlen(MINIMAL), path, sizeof(path));
    struct config *c = NULL;
    T_EQ_INT(config_load_file(path, &c, err, sizeof(err)), HG_OK);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_STR(c->source, path);
        T_EQ_INT(c->nroutes, 1);
    }
    config_free(c);

    /* errors name the file and the path */
    static const char bad[] = "{\"lisen\":[]}";
    write_file("bad.json", bad, strlen(bad), path, sizeof(path));
    c = NULL;
    T_EQ_INT(config_load_file(path, &c, err, sizeof(err)), HG_ECONFIG);
    T_CHECK(c == NULL);
    T_CHECK(strstr(err, path) == err);
    T_CHECK(strstr(err, "$.lisen: unknown key") != NULL);

    write_file("empty.json", "", 0, path, sizeof(path));
    T_EQ_INT(config_load_file(path, &c, err, sizeof(err)), HG_ECONFIG);
    T_CHECK(strstr(err, "empty") != NULL);

    snprintf(path, sizeof(path), "%s/does-not-exist.json", tmpdir);
    T_EQ_INT(config_load_file(path, &c, err, sizeof(err)), HG_ECONFIG);
    T_CHECK(strstr(err, path) == err);
    T_CHECK(strstr(err, strerror(ENOENT)) != NULL);
}

/* ---- config_load_default -------------------------------------------------- */

/* make a fresh directory under tmpdir and chdir into it; old gets the old cwd */
static int enter_fresh_dir(const char *name, char *old, size_t cap)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
    if (!getcwd(old, cap) || mkdir(dir, 0755) != 0 || chdir(dir) != 0)
        return -1;
    return 0;
}

static void test_load_default_generates_secret(void)
{
    char old[PATH_MAX];
    T_EQ_INT(enter_fresh_dir("default-gen", old, sizeof(old)), 0);
    char *saved = getenv("HOOKGATE_SECRET") ? strdup(getenv("HOOKGATE_SECRET")) : NULL;
    unsetenv("HOOKGATE_SECRET");

    struct config *c = NULL;
    char *spath = NULL;
    T_EQ_INT(config_load_default(&c, &spath, err, sizeof(err)), HG_OK);
    T_CHECK(c != NULL);
    T_EQ_STR(spath, "./hookgate-data/secret");
    struct stat sd, sf;
    T_EQ_INT(stat("hookgate-data", &sd), 0);
    T_EQ_INT(sd.st_mode & 07777, 0700);
    T_EQ_INT(stat("hookgate-data/secret", &sf), 0);
    T_CHECK(S_ISREG(sf.st_mode));
    T_EQ_INT(sf.st_mode & 07777, 0600);
    T_EQ_INT(sf.st_size, 65); /* 64 hex digits and a newline */

    unsigned char first[64];
    if (c) {
        T_EQ_STR(c->source, "(embedded default)");
        T_EQ_INT(c->nlisteners, 1);
        T_EQ_STR(c->listeners[0].host, "127.0.0.1");
        T_EQ_INT(c->listeners[0].port, 8080);
        T_EQ_STR(c->data_dir, "./hookgate-data");
        T_EQ_INT(c->nroutes, 1);
        T_EQ_STR(c->routes[0].path, "/webhooks");
        T_CHECK(c->routes[0].profile == profile_find("generic"));
        T_EQ_INT(c->nsinks, 1);
        T_EQ_STR(c->sinks[0].name, "stdout");
        T_EQ_INT(c->routes[0].nsecrets, 1);
        T_EQ_INT(c->routes[0].secrets[0].len, 64); /* newline stripped */
        memcpy(first, c->routes[0].secrets[0].data, 64);
        int hex = 1;
        for (int i = 0; i < 64; i++)
            if (!strchr("0123456789abcdef", first[i]))
                hex = 0;
        T_CHECK(hex);
        T_CHECK(route_accepts_key(&c->routes[0], (const char *)first, 64));
    }
    config_free(c);
    free(spath);

    /* a second start reuses the same secret */
    c = NULL;
    spath = NULL;
    T_EQ_INT(config_load_default(&c, &spath, err, sizeof(err)), HG_OK);
    T_EQ_STR(spath, "./hookgate-data/secret");
    if (c) {
        T_EQ_INT(c->routes[0].secrets[0].len, 64);
        T_CHECK(memcmp(c->routes[0].secrets[0].data, first, 64) == 0);
    }
    config_free(c);
    free(spath);
    /* secret_path may be NULL */
    c = NULL;
    T_EQ_INT(config_load_default(&c, NULL, err, sizeof(err)), HG_OK);
    config_free(c);

    if (saved) {
        setenv("HOOKGATE_SECRET", saved, 1);
        free(saved);
    }
    T_EQ_INT(chdir(old), 0);
}

static void test_load_default_with_env_secret(void)
{
    char old[PATH_MAX];
    T_EQ_INT(enter_fresh_dir("default-env", old, sizeof(old)), 0);
    char *saved = getenv("HOOKGATE_SECRET") ? strdup(getenv("HOOKGATE_SECRET")) : NULL;
    setenv("HOOKGATE_SECRET", "env-provided-secret", 1);

    struct config *c = NULL;
    char *spath = (char *)"not reset";
    T_EQ_INT(config_load_default(&c, &spath, err, sizeof(err)), HG_OK);
    T_CHECK(spath == NULL);
    struct stat st;
    T_CHECK(stat("hookgate-data/secret", &st) != 0); /* no file written */
    T_CHECK(stat("hookgate-data", &st) != 0);
    if (c) {
        T_EQ_INT(c->routes[0].secrets[0].len, 19);
        T_CHECK(route_accepts_key(&c->routes[0], "env-provided-secret", 19));
    }
    config_free(c);

    if (saved) {
        setenv("HOOKGATE_SECRET", saved, 1);
        free(saved);
    } else {
        unsetenv("HOOKGATE_SECRET");
    }
    T_EQ_INT(chdir(old), 0);
}

/* ---- secrets never in messages --------------------------------------------- */

#define NO_SECRET(json) no_secret_at(__LINE__, json)

static void no_secret_at(int line, const char *json)
{
    struct config *c = NULL;
    err[0] = '\0';
    int rc = config_load_string(json, "test.json", &c, err, sizeof(err));
    if (rc != HG_ECONFIG || err[0] == '\0' || strstr(err, "SUPERSECRET123")) {
        fprintf(stderr, "  line %d: rc=%d message \"%s\"\n", line, rc, err);
        t_cur_failed = 1;
    }
    config_free(c);
}

#define SECRET_ROUTE(extra)                                                                        \
    "{\"path\":\"/s\",\"profile\":\"generic\",\"secrets\":[\"SUPERSECRET123\"],"                   \
    "\"sinks\":[\"out\"]" extra "}"

static void test_no_secret_in_messages(void)
{
    /* failures after the secret was read */
    NO_SECRET(CONFIG("{\"path\":\"/s\",\"profile\":\"generic\",\"secrets\":[\"SUPERSECRET123\"],"
                     "\"sinks\":[\"nope\"]}",
                     ""));
    NO_SECRET(CONFIG(SECRET_ROUTE(",\"tolerance\":\"0s\""), ""));
    NO_SECRET(CONFIG(SECRET_ROUTE("") "," SECRET_ROUTE(""), ""));
    NO_SECRET(CONFIG("{\"path\":\"/s\",\"profile\":\"generic\",\"secrets\":[\"SUPERSECRET123\","
                     "\"env:HG_TEST_NEVER_SET\"],\"sinks\":[\"out\"]}",
                     ""));
    NO_SECRET(CONFIG("{\"path\":\"/s\",\"profile\":\"generic\",\"secrets\":[\"SUPERSECRET123\","
                     "42],\"sinks\":[\"out\"]}",
                     ""));
    /* failures on other keys of the same object */
    NO_SECRET(CONFIG(SECRET_ROUTE(",\"secrtes\":1"), ""));
    NO_SECRET(CONFIG("{\"path\":\"/s\",\"profile\":\"nope\",\"secrets\":[\"SUPERSECRET123\"],"
                     "\"sinks\":[\"out\"]}",
                     ""));
    /* a duplicate key holding the secret */
    NO_SECRET(CONFIG("{\"path\":\"/s\",\"profile\":\"generic\",\"secrets\":[\"SUPERSECRET123\"],"
                     "\"secrets\":[\"SUPERSECRET123\"],\"sinks\":[\"out\"]}",
                     ""));
}

/* A JSON syntax error inside a literal secret - an unsupported escape such as
 * "\q" (a plausible byte sequence in a random secret), a raw newline, or a
 * missing closing quote - must not copy the secret into the message:
 * jansson's "near '<token>'" text is the secret itself. */
static void test_no_secret_in_json_syntax_errors(void)
{
    NO_SECRET("{" LISTEN "," SINKS ",\"routes\":[{\"path\":\"/s\",\"profile\":\"generic\","
              "\"secrets\":[\"SUPERSECRET123\\q\"],\"sinks\":[\"out\"]}]}");
    NO_SECRET("{" LISTEN "," SINKS ",\"routes\":[{\"path\":\"/s\",\"profile\":\"generic\","
              "\"secrets\":[\"SUPERSECRET123\n\"],\"sinks\":[\"out\"]}]}");
    NO_SECRET("{" LISTEN "," SINKS ",\"routes\":[{\"path\":\"/s\",\"profile\":\"generic\","
              "\"secrets\":[\"SUPERSECRET123");
}

int main(void)
{
    log_set_level(LOG_ERROR); /* literal secrets log a warning each */
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/hgcfg-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    T_RUN(test_minimal_config_defaults);
    T_RUN(test_values_applied);
    T_RUN(test_addresses_accepted);
    T_RUN(test_sink_types_filter);
    T_RUN(test_unknown_key_top_level);
    T_RUN(test_unknown_key_in_limits);
    T_RUN(test_unknown_key_in_retry);
    T_RUN(test_unknown_key_in_listener);
    T_RUN(test_unknown_key_in_tls);
    T_RUN(test_unknown_key_in_route);
    T_RUN(test_unknown_key_in_sink);
    T_RUN(test_reserved_route_keys);
    T_RUN(test_reserved_tls_client_ca);
    T_RUN(test_reserved_sink_types);
    T_RUN(test_exec_sink);
    T_RUN(test_bad_size);
    T_RUN(test_bad_duration);
    T_RUN(test_bad_integers_and_enums);
    T_RUN(test_bad_address_or_port);
    T_RUN(test_tls_files);
    T_RUN(test_unknown_profile);
    T_RUN(test_unknown_sink_reference);
    T_RUN(test_route_path_rules);
    T_RUN(test_duplicate_path);
    T_RUN(test_duplicate_route_name);
    T_RUN(test_route_names);
    T_RUN(test_tolerance);
    T_RUN(test_env_secret);
    T_RUN(test_file_secret_missing);
    T_RUN(test_empty_secret);
    T_RUN(test_file_secret_trailing_newline_stripped);
    T_RUN(test_file_secret_lone_cr_kept);
    T_RUN(test_file_secret_too_large);
    T_RUN(test_literal_secret_and_rotation);
    T_RUN(test_invalid_json_line_column);
    T_RUN(test_duplicate_json_keys_rejected);
    T_RUN(test_load_file);
    T_RUN(test_load_default_generates_secret);
    T_RUN(test_load_default_with_env_secret);
    T_RUN(test_no_secret_in_messages);
    T_RUN(test_no_secret_in_json_syntax_errors);
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return t_finish();
}
