/*
 * config_test.c - unit tests for the strict JSON config loader (gateway/config.c).
 *
 * Covers: defaults, values applied, one test per class of error with the
 * message naming the JSON path and the problem (unknown keys at each level,
 * unknown sink types - none is refused as "not supported by this build yet"
 * any more -, the http sink (defaults, every key applied and shown by
 * config_print without the signing secret or header values, each bad value,
 * its keys on no other sink type), the jetstream sink (defaults, every key
 * applied and shown by config_print without the credentials file, the bounds
 * of each range, each bad value, unreadable creds and TLS files, its keys on
 * no other sink type and theirs not on it), the operations
 * keys (tls.client_ca, admin listeners, the per-address limits, max_header_size,
 * user, shutdown_timeout: defaults, values, ranges),
 * bad sizes/durations/addresses, TLS files, profiles (built-in and from
 * profile_dirs), sink references, duplicates, secrets from env:/file:/literal),
 * route name and tolerance rules, the route access keys (allow lists and how
 * they match addresses, tokens and token paths, allow_unsigned and unsigned
 * profiles, a fixed type), JSON syntax errors with line/column,
 * duplicate JSON keys, config_load_file, config_load_default (secret file
 * created 0600 in a 0700 directory and reused; none with $HOOKGATE_SECRET),
 * file: secrets and tokens other users can read refused, that no error
 * message carries a secret's value, and the problem report: every problem
 * at once, in order, the document's own before those of files, secrets and
 * the environment, the nearest known key for an unknown one at every level
 * (and for a misspelt sink type), no problem reported twice or as a
 * consequence of another, at most CONFIG_MAX_PROBLEMS lines.
 *
 * Temporary files live in a mkdtemp() directory under /tmp.
 */
#include "config.h"
#include "config_int.h" /* cfgp_suggest */
#include "err.h"
#include "log.h"
#include "profile.h"
#include "t.h"
#include "verify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
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

/* write a file in tmpdir, mode 0600 (the loader refuses a secret file other
 * users can read); path gets its full name */
static void write_file(const char *name, const void *data, size_t n, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    T_CHECK(f != NULL);
    if (!f)
        return;
    T_EQ_INT(fwrite(data, 1, n, f), n);
    T_EQ_INT(fchmod(fileno(f), 0600), 0);
    T_EQ_INT(fclose(f), 0);
}

/* append - strcat bounded by dst's size (dst is NUL-terminated within cap) */
static void append(char *dst, size_t cap, const char *s)
{
    size_t l = strlen(dst);
    snprintf(dst + l, cap - l, "%s", s);
}

/* the generic profile's header for body under key, computed independently */
static void expected_sig(const char *key, size_t keylen, const char *body, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)body, strlen(body), md, &mdlen);
    memcpy(out, "sha256=", 8);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 7 + (size_t)2 * i, 3, "%02x", md[i]);
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
    T_CHECK(!strcmp(r->profile->name, "generic"));
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

/* trusted_proxies (issue 16): parsed into the listener, each entry checked */
static void test_trusted_proxies(void)
{
#define TP(list)                                                                                   \
    "{\"listen\":[{\"address\":\"127.0.0.1:0\",\"trusted_proxies\":" list "}]," SINKS              \
    ",\"routes\":[" ROUTE("") "]}"
    struct config *c = load(TP("[\"10.0.0.0/8\",\"::1/128\",\"192.0.2.1\"]"));
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->listeners[0].ntrusted, 3);
        T_EQ_INT(c->listeners[0].trusted[0].family, AF_INET);
        T_EQ_INT(c->listeners[0].trusted[0].bits, 8);
        T_EQ_INT(c->listeners[0].trusted[1].family, AF_INET6);
        T_EQ_INT(c->listeners[0].trusted[2].bits, 32);
        config_free(c);
    }
    c = load(TP("[]"));
    T_CHECK(c != NULL && c->listeners[0].ntrusted == 0);
    config_free(c);
    c = load(MINIMAL);
    T_CHECK(c != NULL && c->listeners[0].ntrusted == 0 && !c->listeners[0].trusted);
    config_free(c);
    EXPECT_ERR(TP("[\"10.0.0.0/8\",\"::1/128\",\"bogus\"]"), "$.listen[0].trusted_proxies[2]",
               "not an address or CIDR");
    EXPECT_ERR(TP("[\"10.0.0.1/8\"]"), "$.listen[0].trusted_proxies[0]",
               "host bits set after the prefix length");
    EXPECT_ERR(TP("[7]"), "$.listen[0].trusted_proxies[0]", "not an address or CIDR");
    EXPECT_ERR(TP("\"10.0.0.0/8\""), "$.listen[0].trusted_proxies", "must be a list");
#undef TP
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

/* allow, token, allow_unsigned and type were reserved by earlier builds; they
 * are parsed now: each one is accepted on a route where it applies, and an
 * error about it is about its value, never "not supported". */
static void test_former_reserved_route_keys_supported(void)
{
    struct config *c = load(CONFIG(ROUTE(",\"allow\":[\"10.0.0.0/8\"],\"token\":\"tok\","
                                         "\"allow_unsigned\":false,\"type\":\"t\""),
                                   ""));
    T_CHECK(c != NULL);
    if (!c)
        fprintf(stderr, "  %s\n", err);
    config_free(c);
    static const char *const bad[] = {",\"allow\":true", ",\"token\":true", ",\"allow_unsigned\":1",
                                      ",\"type\":true"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json), CONFIG(ROUTE("%s"), ""), bad[i]);
        T_CHECK(load(json) == NULL);
        T_CHECK(strstr(err, "test.json: $.routes[0].") == err);
        T_CHECK(strstr(err, "not supported") == NULL);
        T_CHECK(strstr(err, "unknown key") == NULL);
    }
}

/* tls.client_ca was reserved by earlier builds: it is parsed now (a readable
 * file, kept by path), and so is a listener's "admin" flag. */
static void test_tls_client_ca_and_admin(void)
{
    char ca[PATHLEN], json[2048];
    write_file("ca.pem", "CA\n", 3, ca, sizeof(ca));
    snprintf(json, sizeof(json),
             "{\"listen\":[{\"address\":\"127.0.0.1:0\",\"tls\":{\"cert\":\"%s\",\"key\":\"%s\","
             "\"client_ca\":\"%s\"}},{\"address\":\"127.0.0.1:0\",\"admin\":true},"
             "{\"address\":\"127.0.0.1:0\",\"admin\":false}]," SINKS ",\"routes\":[" ROUTE("") "]}",
             ca, ca, ca);
    struct config *c = load(json);
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    T_EQ_INT(c->nlisteners, 3);
    T_EQ_INT(c->listeners[0].tls, 1);
    T_EQ_STR(c->listeners[0].client_ca, ca);
    T_EQ_INT(c->listeners[0].admin, 0);
    T_CHECK(c->listeners[1].client_ca == NULL);
    T_EQ_INT(c->listeners[1].tls, 0);
    T_EQ_INT(c->listeners[1].admin, 1);
    T_EQ_INT(c->listeners[2].admin, 0);
    /* check shows both */
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    T_CHECK(f != NULL);
    if (f) {
        config_print(c, f);
        T_EQ_INT(fclose(f), 0);
        T_CHECK(strstr(out, "listen: 127.0.0.1:0 https client-cert-required\n") != NULL);
        T_CHECK(strstr(out, "listen: 127.0.0.1:0 http admin\n") != NULL);
        T_CHECK(strstr(out, "listen: 127.0.0.1:0 http\n") != NULL);
        free(out);
    }
    config_free(c);

    /* errors name the key; none of them is "not supported" any more */
    snprintf(json, sizeof(json),
             "{\"listen\":[{\"address\":\"127.0.0.1:0\",\"tls\":{\"cert\":\"%s\",\"key\":\"%s\","
             "\"client_ca\":\"%s/no-ca.pem\"}}]," SINKS ",\"routes\":[" ROUTE("") "]}",
             ca, ca, tmpdir);
    EXPECT_ERR(json, "$.listen[0].tls.client_ca", "cannot read");
    EXPECT_ERR(json, "$.listen[0].tls.client_ca", "no-ca.pem");
    snprintf(json, sizeof(json),
             "{\"listen\":[{\"address\":\"127.0.0.1:0\",\"tls\":{\"cert\":\"%s\",\"key\":\"%s\","
             "\"client_ca\":\"\"}}]," SINKS ",\"routes\":[" ROUTE("") "]}",
             ca, ca);
    EXPECT_ERR(json, "$.listen[0].tls.client_ca", "must be a non-empty string");
    snprintf(json, sizeof(json),
             "{\"listen\":[{\"address\":\"127.0.0.1:0\",\"tls\":{\"cert\":\"%s\",\"key\":\"%s\","
             "\"client_ca\":true}}]," SINKS ",\"routes\":[" ROUTE("") "]}",
             ca, ca);
    EXPECT_ERR(json, "$.listen[0].tls.client_ca", "must be a non-empty string");
    /* client_ca alone is no TLS config */
    snprintf(json, sizeof(json),
             "{\"listen\":[{\"address\":\"127.0.0.1:0\",\"tls\":{\"client_ca\":\"%s\"}}]," SINKS
             ",\"routes\":[" ROUTE("") "]}",
             ca);
    EXPECT_ERR(json, "$.listen[0].tls.cert", "is required");
    EXPECT_ERR("{\"listen\":[{\"address\":\"127.0.0.1:0\",\"admin\":\"true\"}]," SINKS
               ",\"routes\":[" ROUTE("") "]}",
               "$.listen[0].admin", "must be true or false");
    EXPECT_ERR("{\"listen\":[{\"address\":\"127.0.0.1:0\",\"admin\":1}]," SINKS
               ",\"routes\":[" ROUTE("") "]}",
               "$.listen[0].admin", "must be true or false");
    EXPECT_ERR("{\"listen\":[{\"address\":\"127.0.0.1:0\",\"admin\":null}]," SINKS
               ",\"routes\":[" ROUTE("") "]}",
               "$.listen[0].admin", "must be true or false");
}

/* The lock-out and pre-authentication limits (issue 15): the per-address
 * cap in force (a share of max_connections unless written, 0 = off), the
 * unauthenticated body budget, and tls.priorities checked by GnuTLS. */
static void test_lockout_limits(void)
{
    static const struct {
        const char *limits;
        unsigned cap;
    } caps[] = {{"{}", 64},
                {"{\"max_connections\":4096}", 256},
                {"{\"max_connections\":100}", 8},
                {"{\"max_connections\":4096,\"max_connections_per_ip\":0}", 0},
                {"{\"max_connections_per_ip\":3}", 3}};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json), CONFIG(ROUTE(""), ",\"limits\":%s"), caps[i].limits);
        struct config *c = load(json);
        T_CHECK(c != NULL);
        if (c)
            T_EQ_INT(c->conns_per_ip, caps[i].cap);
        config_free(c);
    }
    struct config *c = load(MINIMAL);
    T_CHECK(c && c->body_budget == 64ULL << 20);
    config_free(c);
    c = load(CONFIG(ROUTE(""), ",\"limits\":{\"unauthenticated_body_budget\":\"0\"}"));
    T_CHECK(c && c->body_budget == 0);
    config_free(c);
    c = load(CONFIG(ROUTE(""), ",\"limits\":{\"unauthenticated_body_budget\":\"1GiB\"}"));
    T_CHECK(c && c->body_budget == 1ULL << 30);
    config_free(c);
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"unauthenticated_body_budget\":\"big\"}"),
               "$.limits.unauthenticated_body_budget", "must be a size");

#define TLS_LISTEN(extra)                                                                          \
    "{\"listen\":[{\"address\":\"127.0.0.1:0\",\"tls\":{\"cert\":\"/etc/hostname\",\"key\":"       \
    "\"/etc/hostname\"" extra "}}]," SINKS ",\"routes\":[" ROUTE("") "]}"
    c = load(TLS_LISTEN(""));
    T_CHECK(c != NULL);
    if (c)
        T_EQ_STR(c->listeners[0].priorities, CONFIG_TLS_PRIORITIES);
    config_free(c);
    c = load(TLS_LISTEN(",\"priorities\":\"NORMAL:-VERS-ALL:+VERS-TLS1.3\""));
    T_CHECK(c != NULL);
    if (c)
        T_EQ_STR(c->listeners[0].priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
    config_free(c);
    EXPECT_ERR(TLS_LISTEN(",\"priorities\":\"NORMAL:+VERS-TLS1.9\""), "$.listen[0].tls.priorities",
               "not a valid GnuTLS priority string");
    EXPECT_ERR(TLS_LISTEN(",\"priorities\":\"\""), "$.listen[0].tls.priorities",
               "must be a non-empty string");
#undef TLS_LISTEN
}

/* limits.max_connections_per_ip, rate_per_ip, rate_burst, max_header_size
 * and the top-level user and shutdown_timeout: defaults, values, ranges. */
static void test_operations_keys(void)
{
    struct config *c = load(MINIMAL);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->max_conns_per_ip, 0); /* off */
        T_CHECK(c->rate_per_ip == 0);     /* off */
        T_CHECK(c->max_header_size == 16384);
        T_CHECK(c->shutdown_timeout_ms == 10000);
        T_CHECK(c->user == NULL);
        T_EQ_INT(c->listeners[0].admin, 0);
        T_CHECK(c->listeners[0].client_ca == NULL);
    }
    config_free(c);

    c = load(CONFIG(ROUTE(""), ",\"limits\":{\"max_connections_per_ip\":8,\"rate_per_ip\":2.5,"
                               "\"rate_burst\":7,\"max_header_size\":\"64KiB\"},"
                               "\"user\":\"nobody\",\"shutdown_timeout\":\"30s\""));
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    T_EQ_INT(c->max_conns_per_ip, 8);
    T_CHECK(c->rate_per_ip == 2.5);
    T_EQ_INT(c->rate_burst, 7);
    T_CHECK(c->max_header_size == 65536);
    T_EQ_STR(c->user, "nobody");
    T_CHECK(c->shutdown_timeout_ms == 30000);
    config_free(c);

    /* the default burst: max(1, 2 x rate), whole requests */
    static const struct {
        const char *rate;
        unsigned burst;
    } burst[] = {{"1", 2}, {"2.5", 5}, {"1.7", 3}, {"0.5", 1}, {"0.01", 1}, {"100", 200}};
    for (size_t i = 0; i < sizeof(burst) / sizeof(burst[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json), CONFIG(ROUTE(""), ",\"limits\":{\"rate_per_ip\":%s}"),
                 burst[i].rate);
        c = load(json);
        T_CHECK(c != NULL);
        if (c) {
            T_CHECK(c->rate_per_ip == strtod(burst[i].rate, NULL));
            if (c->rate_burst != burst[i].burst)
                fprintf(stderr, "  rate %s: burst %u, expected %u\n", burst[i].rate, c->rate_burst,
                        burst[i].burst);
            T_EQ_INT(c->rate_burst, burst[i].burst);
        }
        config_free(c);
    }

    /* bounds: accepted at the edges, refused past them */
    c = load(CONFIG(ROUTE(""),
                    ",\"limits\":{\"max_connections_per_ip\":65536,\"rate_per_ip\":1000000,"
                    "\"rate_burst\":1000000,\"max_header_size\":\"1MiB\"},"
                    "\"shutdown_timeout\":3600"));
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->max_conns_per_ip, 65536);
        T_EQ_INT(c->rate_burst, 1000000);
        T_CHECK(c->max_header_size == 1048576);
        T_CHECK(c->shutdown_timeout_ms == 3600000);
    }
    config_free(c);
    c = load(CONFIG(ROUTE(""), ",\"limits\":{\"max_header_size\":1024,\"rate_per_ip\":1,"
                               "\"rate_burst\":1},\"shutdown_timeout\":\"1s\""));
    T_CHECK(c != NULL);
    if (c) {
        T_CHECK(c->max_header_size == 1024);
        T_EQ_INT(c->rate_burst, 1);
        T_CHECK(c->shutdown_timeout_ms == 1000);
    }
    config_free(c);

    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_connections_per_ip\":-1}"),
               "$.limits.max_connections_per_ip", "must be an integer from 0 to 65536");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_connections_per_ip\":65537}"),
               "$.limits.max_connections_per_ip", "must be an integer from 0 to 65536");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_connections_per_ip\":\"4\"}"),
               "$.limits.max_connections_per_ip", "must be an integer");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate_per_ip\":0}"), "$.limits.rate_per_ip",
               "must be a number of requests per second");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate_per_ip\":0.0}"), "$.limits.rate_per_ip",
               "> 0");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate_per_ip\":-3}"), "$.limits.rate_per_ip",
               "must be a number of requests per second");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate_per_ip\":1000001}"), "$.limits.rate_per_ip",
               "<= 1000000");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate_per_ip\":\"5/s\"}"), "$.limits.rate_per_ip",
               "must be a number");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate_per_ip\":true}"), "$.limits.rate_per_ip",
               "must be a number");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate_burst\":4}"), "$.limits.rate_burst",
               "needs $.limits.rate_per_ip");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate_per_ip\":1,\"rate_burst\":0}"),
               "$.limits.rate_burst", "must be an integer from 1 to 1000000");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate_per_ip\":1,\"rate_burst\":1.5}"),
               "$.limits.rate_burst", "must be an integer from 1 to 1000000");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate_per_ip\":1,\"rate_burst\":1000001}"),
               "$.limits.rate_burst", "must be an integer from 1 to 1000000");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_header_size\":1023}"),
               "$.limits.max_header_size", "must be between 1KiB and 1MiB");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_header_size\":\"2MiB\"}"),
               "$.limits.max_header_size", "must be between 1KiB and 1MiB");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"max_header_size\":\"16 KiB\"}"),
               "$.limits.max_header_size", "must be a size");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"user\":\"\""), "$.user", "must be a non-empty string");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"user\":1000"), "$.user", "must be a non-empty string");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"user\":\"abcdefghijklmnopqrstuvwxyz0123456\""), "$.user",
               "must be a user name");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"shutdown_timeout\":0"), "$.shutdown_timeout",
               "must be between 1s and 1h");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"shutdown_timeout\":\"999ms\""), "$.shutdown_timeout",
               "must be between 1s and 1h");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"shutdown_timeout\":\"61m\""), "$.shutdown_timeout",
               "must be between 1s and 1h");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"shutdown_timeout\":\"later\""), "$.shutdown_timeout",
               "must be a duration");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"limits\":{\"rate\":1}"), "$.limits.rate", "unknown key");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"shutdown\":\"10s\""), "$.shutdown", "unknown key");
}

/* A file: secret or token other users can read is refused naming the key and
 * the file (o+r; group-readable is fine), never its content. */
static void test_world_readable_secret_file(void)
{
    char path[PATHLEN], json[1024];
    write_file("shared.secret", "WORLDREADABLE123\n", 17, path, sizeof(path));
    static const char *const where[] = {"$.routes[0].secrets[0]", "$.routes[0].token"};
    for (int i = 0; i < 2; i++) {
        if (i == 0)
            snprintf(json, sizeof(json),
                     CONFIG("{\"path\":\"/f\",\"profile\":\"generic\",\"secrets\":[\"file:%s\"],"
                            "\"sinks\":[\"out\"]}",
                            ""),
                     path);
        else
            snprintf(json, sizeof(json), CONFIG(ROUTE(",\"token\":\"file:%s\""), ""), path);
        T_EQ_INT(chmod(path, 0644), 0);
        EXPECT_ERR(json, where[i], "is readable by other users; chmod o-r");
        EXPECT_ERR(json, where[i], path);
        T_CHECK(strstr(err, "WORLDREADABLE123") == NULL);
        T_EQ_INT(chmod(path, 0604), 0);
        EXPECT_ERR(json, where[i], "is readable by other users");
        static const mode_t ok[] = {0600, 0640, 0400, 0660, 0601};
        for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
            T_EQ_INT(chmod(path, ok[k]), 0);
            struct config *c = load(json);
            if (!c)
                fprintf(stderr, "  mode %o: %s\n", (unsigned)ok[k], err);
            T_CHECK(c != NULL);
            config_free(c);
        }
    }
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

/* jetstream was refused as "not supported by this build yet" by earlier builds
 * (and http before it); both are parsed now, so an error about either one is
 * about its keys.  A type no build has is an unknown sink type, and so is a
 * known one misspelt. */
static void test_unknown_sink_types(void)
{
    static const char *const unknown[] = {"kafka", "nats", "JetStream", "jetstream ", "Http", ""};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        char json[1024], problem[64];
        snprintf(json, sizeof(json),
                 "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"%s\",\"subject\":\"x\"}},"
                 "\"routes\":[" ROUTE("") "]}",
                 unknown[i]);
        snprintf(problem, sizeof(problem), "unknown sink type \"%s\"", unknown[i]);
        EXPECT_ERR(json, "$.sinks.out.type", problem);
        T_CHECK(strstr(err, "not supported") == NULL);
    }
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"subject\":\"x\"}},"
               "\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.servers", "is required");
    T_CHECK(strstr(err, "not supported") == NULL);
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"http\"}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.url", "is required");
    T_CHECK(strstr(err, "not supported") == NULL);
    /* a missing or mistyped type lists every type there is */
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":7}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.type",
               "is required: \"stdout\", \"exec\", \"unix\", \"pipe\", \"http\" or \"jetstream\"");
}

/* ---- the http sink --------------------------------------------------------- */

/* a config whose one sink "out" is an http sink; extra is spliced in after url */
#define HTTP_SINK(extra)                                                                           \
    "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"http://127.0.0.1:9/hooks\"" extra \
    "}},\"routes\":[" ROUTE("") "]}"
#define STD_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" /* Standard Webhooks example */

/* does the NULL-terminated list hold s? */
static int has_str(char **list, const char *s)
{
    for (; list && *list; list++)
        if (!strcmp(*list, s))
            return 1;
    return 0;
}

/* config_print's output (the `hookgate check` text); free it */
static char *printed(const struct config *c)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    T_CHECK(f != NULL);
    if (!f)
        return NULL;
    config_print(c, f);
    T_EQ_INT(fclose(f), 0);
    return out;
}

static void test_http_sink_defaults(void)
{
    struct config *c = load(HTTP_SINK(""));
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    const struct cfg_sink *s = &c->sinks[0];
    T_EQ_INT(s->type, SINK_HTTP);
    T_EQ_STR(s->name, "out");
    T_EQ_STR(s->url, "http://127.0.0.1:9/hooks");
    T_EQ_INT(s->concurrency, 8);
    T_CHECK(s->timeout_ms == 10000);
    T_EQ_INT(s->binary, 0);
    T_CHECK(s->headers == NULL);
    T_CHECK(s->path == NULL); /* unix_socket */
    T_CHECK(s->tls_ca == NULL && s->tls_cert == NULL && s->tls_key == NULL);
    T_CHECK(s->sign.len == 0 && s->sign.data == NULL);
    T_CHECK(s->types == NULL);
    char *out = printed(c);
    T_CHECK(out &&
            strstr(out, "\nsink: out type=http url=http://127.0.0.1:9/hooks format=structured "
                        "concurrency=8 timeout=10000ms types=*\n"));
    free(out);
    config_free(c);
}

static void test_http_sink_values(void)
{
    char ca[PATHLEN], cert[PATHLEN], key[PATHLEN], whsec[PATHLEN], json[4096];
    write_file("http-ca.pem", "CA\n", 3, ca, sizeof(ca));
    write_file("http-cert.pem", "CERT\n", 5, cert, sizeof(cert));
    write_file("http-key.pem", "KEY\n", 4, key, sizeof(key));
    write_file("http-whsec", STD_SECRET "\n", sizeof(STD_SECRET), whsec, sizeof(whsec));
    T_EQ_INT(setenv("HG_TEST_WHSEC", STD_SECRET, 1), 0);

    /* every key, at the top of its range */
    snprintf(json, sizeof(json),
             "{" LISTEN
             ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"https://orders.internal:8443/"
             "in?a=1\",\"timeout\":\"1h\",\"concurrency\":256,\"headers\":{\"Authorization\":"
             "\"Bearer HDR-VALUE-9\",\"X-Tenant\":\"acme\",\"X-Empty\":\"\"},\"format\":\"binary\","
             "\"tls\":{\"ca\":\"%s\",\"cert\":\"%s\",\"key\":\"%s\"},\"unix_socket\":\"/run/svc/"
             "http.sock\",\"sign\":{\"secret\":\"" STD_SECRET "\"},\"types\":[\"order.*\"]}},"
             "\"routes\":[" ROUTE("") "]}",
             ca, cert, key);
    struct config *c = load(json);
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    const struct cfg_sink *s = &c->sinks[0];
    T_EQ_INT(s->type, SINK_HTTP);
    T_EQ_STR(s->url, "https://orders.internal:8443/in?a=1");
    T_CHECK(s->timeout_ms == 3600000);
    T_EQ_INT(s->concurrency, 256);
    T_EQ_INT(s->binary, 1);
    /* headers as "Name: value" lines, ready for the request */
    T_CHECK(has_str(s->headers, "Authorization: Bearer HDR-VALUE-9"));
    T_CHECK(has_str(s->headers, "X-Tenant: acme"));
    T_CHECK(has_str(s->headers, "X-Empty;")); /* libcurl's form of an empty value */
    T_CHECK(s->headers && s->headers[0] && s->headers[1] && s->headers[2] && !s->headers[3]);
    T_EQ_STR(s->tls_ca, ca);
    T_EQ_STR(s->tls_cert, cert);
    T_EQ_STR(s->tls_key, key);
    T_EQ_STR(s->path, "/run/svc/http.sock");
    T_EQ_INT(s->sign.len, strlen(STD_SECRET));
    T_CHECK(s->sign.data && !memcmp(s->sign.data, STD_SECRET, strlen(STD_SECRET)));
    T_CHECK(s->types && !strcmp(s->types[0], "order.*") && !s->types[1]);
    char *out = printed(c);
    T_CHECK(out && strstr(out, "\nsink: out type=http url=https://orders.internal:8443/in?a=*** "
                               "format=binary concurrency=256 timeout=3600000ms "
                               "unix_socket=/run/svc/http.sock signed=yes types=order.*\n"));
    /* check shows that it signs, never with what, nor the header values */
    T_CHECK(out && !strstr(out, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") && !strstr(out, "HDR-VALUE-9"));
    free(out);
    config_free(c);

    /* the bottom of the ranges; the sign secret from env: and from file: */
    static const char *const secrets[] = {"env:HG_TEST_WHSEC", "file:"};
    for (int i = 0; i < 2; i++) {
        snprintf(json, sizeof(json),
                 HTTP_SINK(",\"timeout\":\"100ms\",\"concurrency\":1,\"format\":\"structured\","
                           "\"headers\":{},\"tls\":{\"ca\":\"%s\"},\"sign\":{\"secret\":\"%s%s\"}"),
                 ca, secrets[i], i ? whsec : "");
        c = load(json);
        T_CHECK(c != NULL);
        if (!c) {
            fprintf(stderr, "  %s\n", err);
            continue;
        }
        s = &c->sinks[0];
        T_CHECK(s->timeout_ms == 100);
        T_EQ_INT(s->concurrency, 1);
        T_EQ_INT(s->binary, 0);
        T_CHECK(s->headers != NULL && s->headers[0] == NULL);
        T_EQ_STR(s->tls_ca, ca);
        T_CHECK(s->tls_cert == NULL && s->tls_key == NULL);
        /* the file's trailing newline is not part of the secret */
        T_EQ_INT(s->sign.len, strlen(STD_SECRET));
        T_CHECK(s->sign.data && !memcmp(s->sign.data, STD_SECRET, strlen(STD_SECRET)));
        out = printed(c);
        T_CHECK(out && strstr(out, "\nsink: out type=http url=http://127.0.0.1:9/hooks "
                                   "format=structured concurrency=1 timeout=100ms signed=yes "
                                   "types=*\n"));
        T_CHECK(out && !strstr(out, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        free(out);
        config_free(c);
    }
    unsetenv("HG_TEST_WHSEC");

    /* durations as seconds; a url of exactly 2048 bytes; a 107-byte socket path */
    char url[2100], sock[120];
    snprintf(url, sizeof(url), "http://h/%02039d", 0);
    T_EQ_INT(strlen(url), 2048);
    snprintf(sock, sizeof(sock), "/%0106d", 0);
    snprintf(json, sizeof(json),
             "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"%s\",\"timeout\":3600,"
             "\"unix_socket\":\"%s\"}},\"routes\":[" ROUTE("") "]}",
             url, sock);
    c = load(json);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_STR(c->sinks[0].url, url);
        T_CHECK(c->sinks[0].timeout_ms == 3600000);
        T_EQ_STR(c->sinks[0].path, sock);
    } else
        fprintf(stderr, "  %s\n", err);
    config_free(c);

    /* 64 headers: the most */
    char hdrs[2048] = "";
    for (int i = 0; i < 64; i++)
        snprintf(hdrs + strlen(hdrs), sizeof(hdrs) - strlen(hdrs), "%s\"X-H%d\":\"%d\"",
                 i ? "," : "", i, i);
    snprintf(json, sizeof(json), HTTP_SINK(",\"headers\":{%s}"), hdrs);
    c = load(json);
    T_CHECK(c != NULL);
    if (c) {
        T_CHECK(has_str(c->sinks[0].headers, "X-H0: 0"));
        T_CHECK(has_str(c->sinks[0].headers, "X-H63: 63"));
        T_CHECK(c->sinks[0].headers[64] == NULL);
    }
    config_free(c);
}

static void test_http_sink_errors(void)
{
    char json[4096], cert[PATHLEN];
    write_file("http-cert2.pem", "CERT\n", 5, cert, sizeof(cert));

    /* url */
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"http\"}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.url", "is required");
    static const char *const bad_urls[] = {
        "ftp://h/x",    "HTTP://h/",     "https:/h/",           "//h/x",      "h:80/x",
        "http://h/a b", "http://h/\\tx", "http://h/\\r\\nX: 1", " http://h/",
    };
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        snprintf(json, sizeof(json),
                 "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"%s\"}},"
                 "\"routes\":[" ROUTE("") "]}",
                 bad_urls[i]);
        EXPECT_ERR(json, "$.sinks.out.url", "must be an http:// or https:// URL (no spaces)");
    }
    char url[2100];
    snprintf(url, sizeof(url), "http://h/%02040d", 0); /* 2049 bytes */
    snprintf(json, sizeof(json),
             "{" LISTEN
             ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"%s\"}},\"routes\":[" ROUTE("") "]}",
             url);
    EXPECT_ERR(json, "$.sinks.out.url", "must be an http:// or https:// URL");
    EXPECT_ERR("{" LISTEN
               ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"\"}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.url", "must be a non-empty string");
    EXPECT_ERR("{" LISTEN
               ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":42}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.url", "must be a non-empty string");

    /* timeout, concurrency, format */
    EXPECT_ERR(HTTP_SINK(",\"timeout\":\"99ms\""), "$.sinks.out.timeout", "between 100ms and 1h");
    EXPECT_ERR(HTTP_SINK(",\"timeout\":0"), "$.sinks.out.timeout", "between 100ms and 1h");
    EXPECT_ERR(HTTP_SINK(",\"timeout\":3601"), "$.sinks.out.timeout", "between 100ms and 1h");
    EXPECT_ERR(HTTP_SINK(",\"timeout\":\"61m\""), "$.sinks.out.timeout", "between 100ms and 1h");
    EXPECT_ERR(HTTP_SINK(",\"timeout\":\"soon\""), "$.sinks.out.timeout", "must be a duration");
    EXPECT_ERR(HTTP_SINK(",\"concurrency\":0"), "$.sinks.out.concurrency", "from 1 to 256");
    EXPECT_ERR(HTTP_SINK(",\"concurrency\":257"), "$.sinks.out.concurrency", "from 1 to 256");
    EXPECT_ERR(HTTP_SINK(",\"concurrency\":\"8\""), "$.sinks.out.concurrency", "from 1 to 256");
    EXPECT_ERR(HTTP_SINK(",\"format\":\"json\""), "$.sinks.out.format",
               "must be \"structured\" or \"binary\"");
    EXPECT_ERR(HTTP_SINK(",\"format\":\"BINARY\""), "$.sinks.out.format",
               "must be \"structured\" or \"binary\"");
    EXPECT_ERR(HTTP_SINK(",\"format\":null"), "$.sinks.out.format",
               "must be \"structured\" or \"binary\"");

    /* headers */
    EXPECT_ERR(HTTP_SINK(",\"headers\":[\"X-A: 1\"]"), "$.sinks.out.headers",
               "must be an object of at most 64");
    char hdrs[2048] = "";
    for (int i = 0; i < 65; i++)
        snprintf(hdrs + strlen(hdrs), sizeof(hdrs) - strlen(hdrs), "%s\"X-H%d\":\"v\"",
                 i ? "," : "", i);
    snprintf(json, sizeof(json), HTTP_SINK(",\"headers\":{%s}"), hdrs);
    EXPECT_ERR(json, "$.sinks.out.headers", "must be an object of at most 64");
    static const char *const bad_names[] = {
        "",
        "X-A:",
        "X A",
        "X\\tA",
        "X\\nA",
        "Host",
        "host",
        "Content-Type",
        "CONTENT-LENGTH",
        "ce-id",
        "Ce-Type",
        "ce-",
        "webhook-id",
        "Webhook-Signature",
        "WEBHOOK-TIMESTAMP",
        /* not HTTP tokens: a server would refuse every request */
        "X(A",
        "X@A",
        "X/A",
        "X,A",
        "X\\u00c4",
        "X\\u0001A",
    };
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        snprintf(json, sizeof(json), HTTP_SINK(",\"headers\":{\"X-Ok\":\"1\",\"%s\":\"v\"}"),
                 bad_names[i]);
        EXPECT_ERR(json, "$.sinks.out.headers", "header \"");
        EXPECT_ERR(json, "$.sinks.out.headers", "set by hookgate");
        T_CHECK(strstr(err, "X-Ok") == NULL); /* the bad one is named, not the good one */
    }
    EXPECT_ERR(HTTP_SINK(",\"headers\":{\"Host\":\"h\"}"), "$.sinks.out.headers",
               "header \"Host\"");
    EXPECT_ERR(HTTP_SINK(",\"headers\":{\"content-type\":\"text/plain\"}"), "$.sinks.out.headers",
               "header \"content-type\"");
    static const char *const bad_values[] = {
        "1",         "null",          "true",          "[\"v\"]",      "\"a\\nb\"",
        "\"a\\rb\"", "\"a\\u0001b\"", "\"a\\u007fb\"", "\"a\\u001bb\""};
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        snprintf(json, sizeof(json), HTTP_SINK(",\"headers\":{\"X-Val\":%s}"), bad_values[i]);
        EXPECT_ERR(json, "$.sinks.out.headers",
                   "header \"X-Val\": a name without ':' or spaces "
                   "and a one-line value");
    }

    /* the edges that pass: every token special in a name; a tab and
     * non-ASCII (obs-text) in a value */
    {
        struct config *hc =
            load(HTTP_SINK(",\"headers\":{\"X!#$%&'*+-.^_`|~9\":\"a\\tb \\u00e9\"}"));
        T_CHECK(hc != NULL);
        if (hc)
            T_CHECK(has_str(hc->sinks[0].headers, "X!#$%&'*+-.^_`|~9: a\tb \xc3\xa9"));
        else
            fprintf(stderr, "  %s\n", err);
        config_free(hc);
    }

    /* unix_socket */
    EXPECT_ERR(HTTP_SINK(",\"unix_socket\":\"run/x.sock\""), "$.sinks.out.unix_socket",
               "must be an absolute path shorter than 108 bytes");
    char sock[120];
    snprintf(sock, sizeof(sock), "/%0107d", 0); /* 108 bytes */
    snprintf(json, sizeof(json), HTTP_SINK(",\"unix_socket\":\"%s\""), sock);
    EXPECT_ERR(json, "$.sinks.out.unix_socket", "must be an absolute path shorter than 108 bytes");
    EXPECT_ERR(HTTP_SINK(",\"unix_socket\":\"\""), "$.sinks.out.unix_socket",
               "must be a non-empty string");
    EXPECT_ERR(HTTP_SINK(",\"unix_socket\":[\"/x\"]"), "$.sinks.out.unix_socket",
               "must be a non-empty string");

    /* tls: an object of readable files, cert and key together */
    EXPECT_ERR(HTTP_SINK(",\"tls\":\"/etc/hostname\""), "$.sinks.out.tls", "must be an object");
    EXPECT_ERR(HTTP_SINK(",\"tls\":{\"verify\":false}"), "$.sinks.out.tls.verify", "unknown key");
    EXPECT_ERR(HTTP_SINK(",\"tls\":{\"client_ca\":\"/etc/hostname\"}"), "$.sinks.out.tls.client_ca",
               "unknown key");
    static const char *const tls_key[] = {"ca", "cert", "key"};
    for (int i = 0; i < 3; i++) {
        char where[64];
        snprintf(where, sizeof(where), "$.sinks.out.tls.%s", tls_key[i]);
        /* the file missing, its partner (cert for key, key for cert) readable */
        char missing[PATHLEN + 16];
        snprintf(missing, sizeof(missing), "%s/none-%s.pem", tmpdir, tls_key[i]);
        if (i == 0)
            snprintf(json, sizeof(json), HTTP_SINK(",\"tls\":{\"ca\":\"%s\"}"), missing);
        else
            snprintf(json, sizeof(json), HTTP_SINK(",\"tls\":{\"cert\":\"%s\",\"key\":\"%s\"}"),
                     i == 1 ? missing : cert, i == 2 ? missing : cert);
        EXPECT_ERR(json, where, "cannot read");
        EXPECT_ERR(json, where, "none-");
        snprintf(json, sizeof(json), HTTP_SINK(",\"tls\":{\"%s\":\"\"}"), tls_key[i]);
        EXPECT_ERR(json, where, "must be a non-empty string");
        snprintf(json, sizeof(json), HTTP_SINK(",\"tls\":{\"%s\":1}"), tls_key[i]);
        EXPECT_ERR(json, where, "must be a non-empty string");
    }
    snprintf(json, sizeof(json), HTTP_SINK(",\"tls\":{\"cert\":\"%s\"}"), cert);
    EXPECT_ERR(json, "$.sinks.out.tls", "cert and key go together");
    snprintf(json, sizeof(json), HTTP_SINK(",\"tls\":{\"ca\":\"%s\",\"key\":\"%s\"}"), cert, cert);
    EXPECT_ERR(json, "$.sinks.out.tls", "cert and key go together");

    /* sign: an object holding one secret reference */
    EXPECT_ERR(HTTP_SINK(",\"sign\":\"" STD_SECRET "\""), "$.sinks.out.sign", "must be an object");
    EXPECT_ERR(HTTP_SINK(",\"sign\":{}"), "$.sinks.out.sign.secret",
               "is required: a Standard Webhooks secret (whsec_...)");
    EXPECT_ERR(HTTP_SINK(",\"sign\":{\"secret\":\"" STD_SECRET "\",\"alg\":\"v1\"}"),
               "$.sinks.out.sign.alg", "unknown key");
    EXPECT_ERR(HTTP_SINK(",\"sign\":{\"secret\":\"\"}"), "$.sinks.out.sign.secret",
               "must be \"env:NAME\", \"file:PATH\" or a literal secret");
    EXPECT_ERR(HTTP_SINK(",\"sign\":{\"secret\":[\"" STD_SECRET "\"]}"), "$.sinks.out.sign.secret",
               "must be \"env:NAME\"");
    EXPECT_ERR(HTTP_SINK(",\"sign\":{\"secret\":\"env:HG_TEST_NEVER_SET\"}"),
               "$.sinks.out.sign.secret", "environment variable HG_TEST_NEVER_SET is not set");
    snprintf(json, sizeof(json), HTTP_SINK(",\"sign\":{\"secret\":\"file:%s/no-whsec\"}"), tmpdir);
    EXPECT_ERR(json, "$.sinks.out.sign.secret", "cannot read secret file");

    /* only its own keys; and its keys on no other type */
    EXPECT_ERR(HTTP_SINK(",\"path\":\"/x.sock\""), "$.sinks.out.path", "unknown key");
    EXPECT_ERR(HTTP_SINK(",\"command\":[\"x\"]"), "$.sinks.out.command", "unknown key");
    EXPECT_ERR(HTTP_SINK(",\"ack_timeout\":\"1s\""), "$.sinks.out.ack_timeout", "unknown key");
    EXPECT_ERR(HTTP_SINK(",\"env\":[\"HOME\"]"), "$.sinks.out.env", "unknown key");
    EXPECT_ERR(HTTP_SINK(",\"types\":[]"), "$.sinks.out.types", "non-empty array");
    static const char *const others[] = {
        "{\"type\":\"stdout\",\"url\":\"http://h/\"}",
        "{\"type\":\"exec\",\"command\":[\"x\"],\"headers\":{}}",
        "{\"type\":\"unix\",\"path\":\"/x.sock\",\"unix_socket\":\"/y.sock\"}",
        "{\"type\":\"pipe\",\"command\":[\"x\"],\"sign\":{\"secret\":\"s\"}}",
        "{\"type\":\"exec\",\"command\":[\"x\"],\"format\":\"binary\"}",
        "{\"type\":\"unix\",\"path\":\"/x.sock\",\"tls\":{}}",
    };
    static const char *const other_key[] = {"url",  "headers", "unix_socket",
                                            "sign", "format",  "tls"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        char where[64];
        snprintf(json, sizeof(json),
                 "{" LISTEN ",\"sinks\":{\"out\":%s},\"routes\":[" ROUTE("") "]}", others[i]);
        snprintf(where, sizeof(where), "$.sinks.out.%s", other_key[i]);
        EXPECT_ERR(json, where, "unknown key");
    }
}

/* ---- the jetstream sink ---------------------------------------------------- */

/* a config whose one sink "out" is a jetstream sink with servers and subject;
 * stream and extra are spliced in after them (stream is the "stream" object's
 * inside) */
#define JS_SINK_S(stream, extra)                                                                   \
    "{" LISTEN                                                                                     \
    ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://127.0.0.1:4222\"],"         \
    "\"subject\":\"hooks.{route}.{type}\",\"stream\":{" stream "}" extra                           \
    "}},\"routes\":[" ROUTE("") "]}"
#define JS_SINK(extra) JS_SINK_S("\"name\":\"HOOKS\"", extra)

static void test_jetstream_sink_defaults(void)
{
    struct config *c = load(JS_SINK(""));
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    const struct cfg_sink *s = &c->sinks[0];
    T_EQ_INT(s->type, SINK_JETSTREAM);
    T_EQ_STR(s->name, "out");
    T_CHECK(s->servers != NULL);
    if (s->servers) {
        T_EQ_STR(s->servers[0], "nats://127.0.0.1:4222");
        T_CHECK(s->servers[1] == NULL);
    }
    T_EQ_STR(s->subject, "hooks.{route}.{type}");
    T_EQ_STR(s->stream, "HOOKS");
    T_EQ_INT(s->stream_create, 0);
    T_EQ_INT(s->replicas, 1);
    T_CHECK(s->dup_window_ms == 120000);
    T_EQ_INT(s->concurrency, 256); /* window */
    T_CHECK(s->timeout_ms == 10000);
    T_CHECK(s->creds == NULL);
    T_CHECK(s->tls_ca == NULL && s->tls_cert == NULL && s->tls_key == NULL);
    T_CHECK(s->types == NULL);
    /* nothing of the other types */
    T_CHECK(s->url == NULL && s->path == NULL && s->command == NULL && s->headers == NULL);
    char *out = printed(c);
    T_CHECK(out && strstr(out, "\nsink: out type=jetstream servers=nats://127.0.0.1:4222 "
                               "subject=hooks.{route}.{type} stream=HOOKS create=no replicas=1 "
                               "window=256 types=*\n"));
    free(out);
    config_free(c);
}

static void test_jetstream_sink_values(void)
{
    char ca[PATHLEN], cert[PATHLEN], key[PATHLEN], creds[PATHLEN], json[8192];
    write_file("js-ca.pem", "CA\n", 3, ca, sizeof(ca));
    write_file("js-cert.pem", "CERT\n", 5, cert, sizeof(cert));
    write_file("js-key.pem", "KEY\n", 4, key, sizeof(key));
    write_file("js.creds", "JWT-AND-SEED-77\n", 16, creds, sizeof(creds));

    /* every key, at the top of its range; creds as file:PATH */
    snprintf(
        json, sizeof(json),
        "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://10.0.0.5:"
        "4222\",\"tls://nats.internal:4443\"],\"subject\":\"hooks.{route}.{type}.{id}\","
        "\"stream\":{\"name\":\"HOOKS_v1-A\",\"create\":true,\"replicas\":5,"
        "\"duplicate_window\":\"7d\"},\"window\":4096,\"timeout\":\"1h\",\"creds\":\"file:%s\","
        "\"tls\":{\"ca\":\"%s\",\"cert\":\"%s\",\"key\":\"%s\"},\"types\":[\"order.*\"]}},"
        "\"routes\":[" ROUTE("") "]}",
        creds, ca, cert, key);
    struct config *c = load(json);
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    const struct cfg_sink *s = &c->sinks[0];
    T_EQ_INT(s->type, SINK_JETSTREAM);
    T_EQ_STR(s->servers[0], "nats://10.0.0.5:4222");
    T_EQ_STR(s->servers[1], "tls://nats.internal:4443");
    T_CHECK(s->servers[2] == NULL);
    T_EQ_STR(s->subject, "hooks.{route}.{type}.{id}");
    T_EQ_STR(s->stream, "HOOKS_v1-A");
    T_EQ_INT(s->stream_create, 1);
    T_EQ_INT(s->replicas, 5);
    T_CHECK(s->dup_window_ms == 7 * 86400000ULL);
    T_EQ_INT(s->concurrency, 4096);
    T_CHECK(s->timeout_ms == 3600000);
    T_CHECK(s->creds && strncmp(s->creds, "file:", 5) == 0 && strcmp(s->creds + 5, creds) == 0);
    T_EQ_STR(s->tls_ca, ca);
    T_EQ_STR(s->tls_cert, cert);
    T_EQ_STR(s->tls_key, key);
    T_EQ_STR(s->types[0], "order.*");
    char *out = printed(c);
    T_CHECK(out && strstr(out, "\nsink: out type=jetstream servers=nats://10.0.0.5:4222,"
                               "tls://nats.internal:4443 subject=hooks.{route}.{type}.{id} "
                               "stream=HOOKS_v1-A create=yes replicas=5 window=4096 "
                               "types=order.*\n"));
    /* check shows neither the credentials file nor the TLS files */
    T_CHECK(out && !strstr(out, creds) && !strstr(out, ca) && !strstr(out, "JWT-AND-SEED-77"));
    free(out);
    config_free(c);

    /* the bottom of the ranges; durations as seconds; creds as a plain path;
     * create false; a one-token subject without placeholders */
    snprintf(json, sizeof(json),
             "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"tls://h:1\"],"
             "\"subject\":\"x\",\"stream\":{\"name\":\"S\",\"create\":false,\"replicas\":1,"
             "\"duplicate_window\":1},\"window\":1,\"timeout\":\"100ms\",\"creds\":\"%s\","
             "\"tls\":{\"ca\":\"%s\"}}},\"routes\":[" ROUTE("") "]}",
             creds, ca);
    c = load(json);
    T_CHECK(c != NULL);
    if (c) {
        s = &c->sinks[0];
        T_EQ_STR(s->subject, "x");
        T_EQ_INT(s->stream_create, 0);
        T_EQ_INT(s->replicas, 1);
        T_CHECK(s->dup_window_ms == 1000);
        T_EQ_INT(s->concurrency, 1);
        T_CHECK(s->timeout_ms == 100);
        T_EQ_STR(s->creds, creds);
        T_EQ_STR(s->tls_ca, ca);
        T_CHECK(s->tls_cert == NULL && s->tls_key == NULL);
        out = printed(c);
        T_CHECK(out &&
                strstr(out, "\nsink: out type=jetstream servers=tls://h:1 subject=x stream=S "
                            "create=no replicas=1 window=1 types=*\n"));
        free(out);
    } else
        fprintf(stderr, "  %s\n", err);
    config_free(c);

    /* the top of the duration ranges as seconds, the bottom as strings */
    static const struct {
        const char *dw, *timeout;
        uint64_t dw_ms, timeout_ms;
    } durs[] = {{"604800", "3600", 604800000ULL, 3600000},
                {"\"1s\"", "\"100ms\"", 1000, 100},
                {"\"168h\"", "\"60m\"", 604800000ULL, 3600000},
                {"\"2m\"", "10", 120000, 10000}};
    for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
        snprintf(json, sizeof(json),
                 JS_SINK_S("\"name\":\"HOOKS\",\"duplicate_window\":%s", ",\"timeout\":%s"),
                 durs[i].dw, durs[i].timeout);
        c = load(json);
        T_CHECK(c != NULL);
        if (c) {
            T_CHECK(c->sinks[0].dup_window_ms == durs[i].dw_ms);
            T_CHECK(c->sinks[0].timeout_ms == durs[i].timeout_ms);
        } else
            fprintf(stderr, "  %zu: %s\n", i, err);
        config_free(c);
    }

    /* a subject of exactly 200 bytes, a stream name of exactly 64, 256 servers */
    char subj[256] = "", name[80], servers[8192] = "";
    for (int i = 0; i < 99; i++)
        append(subj, sizeof(subj), "h.");
    append(subj, sizeof(subj), "xy");
    T_EQ_INT(strlen(subj), 200);
    memset(name, 'S', 64);
    name[64] = '\0';
    for (int i = 0; i < 256; i++)
        snprintf(servers + strlen(servers), sizeof(servers) - strlen(servers),
                 "%s\"nats://127.0.0.1:%d\"", i ? "," : "", 4000 + i);
    snprintf(json, sizeof(json),
             "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[%s],"
             "\"subject\":\"%s\",\"stream\":{\"name\":\"%s\"}}},\"routes\":[" ROUTE("") "]}",
             servers, subj, name);
    c = load(json);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_STR(c->sinks[0].subject, subj);
        T_EQ_STR(c->sinks[0].stream, name);
        T_EQ_STR(c->sinks[0].servers[255], "nats://127.0.0.1:4255");
        T_CHECK(c->sinks[0].servers[256] == NULL);
    } else
        fprintf(stderr, "  %s\n", err);
    config_free(c);

    /* every placeholder, and two jetstream sinks next to an http one */
    c = load("{" LISTEN ",\"sinks\":{\"a\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:1\"],"
             "\"subject\":\"hooks.{route}.{type}.{id}\",\"stream\":{\"name\":\"A\"}},"
             "\"b\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:1\"],\"subject\":\"in.{id}\","
             "\"stream\":{\"name\":\"A\"},\"window\":2},"
             "\"c\":{\"type\":\"http\",\"url\":\"http://h/\"}},"
             "\"routes\":[{\"path\":\"/p\",\"profile\":\"generic\"," SECRETS
             ",\"sinks\":[\"a\",\"b\",\"c\"]}]}");
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->nsinks, 3);
        for (size_t i = 0; i < c->nsinks; i++) {
            if (!strcmp(c->sinks[i].name, "a")) {
                T_EQ_INT(c->sinks[i].type, SINK_JETSTREAM);
                T_EQ_STR(c->sinks[i].subject, "hooks.{route}.{type}.{id}");
                T_EQ_INT(c->sinks[i].concurrency, 256);
            } else if (!strcmp(c->sinks[i].name, "b")) {
                T_EQ_INT(c->sinks[i].type, SINK_JETSTREAM);
                T_EQ_INT(c->sinks[i].concurrency, 2);
            } else {
                T_EQ_INT(c->sinks[i].type, SINK_HTTP);
                T_EQ_INT(c->sinks[i].concurrency, 8); /* http's default, not the window's */
            }
        }
    } else
        fprintf(stderr, "  %s\n", err);
    config_free(c);
}

static void test_jetstream_sink_errors(void)
{
    char json[8192], cert[PATHLEN];
    write_file("js-cert2.pem", "CERT\n", 5, cert, sizeof(cert));
#define JS_ERR(extra, path, problem)         EXPECT_ERR(JS_SINK(extra), path, problem)
#define JS_STREAM_ERR(stream, path, problem) EXPECT_ERR(JS_SINK_S(stream, ""), path, problem)

    /* servers */
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"subject\":\"x\","
               "\"stream\":{\"name\":\"S\"}}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.servers", "is required: [\"nats://10.0.0.5:4222\", ...]");
    static const char *const bad_lists[] = {"[]", "\"nats://h:1\"", "{}", "null"};
    for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
        snprintf(json, sizeof(json),
                 "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":%s,"
                 "\"subject\":\"x\",\"stream\":{\"name\":\"S\"}}},\"routes\":[" ROUTE("") "]}",
                 bad_lists[i]);
        EXPECT_ERR(json, "$.sinks.out.servers", "must be a non-empty array of strings");
    }
    char many[8192] = "";
    for (int i = 0; i < 257; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s\"nats://h:1\"",
                 i ? "," : "");
    snprintf(json, sizeof(json),
             "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[%s],"
             "\"subject\":\"x\",\"stream\":{\"name\":\"S\"}}},\"routes\":[" ROUTE("") "]}",
             many);
    EXPECT_ERR(json, "$.sinks.out.servers", "must be a non-empty array of strings");
    static const struct {
        const char *list, *path, *problem;
    } bad_servers[] = {
        {"[\"\"]", "$.sinks.out.servers[0]", "must be a non-empty string"},
        {"[\"nats://h:1\",4222]", "$.sinks.out.servers[1]", "must be a non-empty string"},
        {"[\"http://h:4222\"]", "$.sinks.out.servers", "a server is nats://HOST:PORT or tls://"},
        {"[\"h:4222\"]", "$.sinks.out.servers", "a server is nats://HOST:PORT or tls://"},
        {"[\"NATS://h:4222\"]", "$.sinks.out.servers", "a server is nats://HOST:PORT"},
        {"[\"nats:/h:4222\"]", "$.sinks.out.servers", "a server is nats://HOST:PORT"},
        {"[\"tls:h:4222\"]", "$.sinks.out.servers", "a server is nats://HOST:PORT"},
        {"[\" nats://h:4222\"]", "$.sinks.out.servers", "a server is nats://HOST:PORT"},
        {"[\"nats://a:1,nats://b:2\"]", "$.sinks.out.servers", "a server is nats://HOST:PORT"},
        {"[\"nats://h:4222 \"]", "$.sinks.out.servers", "a server is nats://HOST:PORT"},
        {"[\"nats://h\\t:4222\"]", "$.sinks.out.servers", "a server is nats://HOST:PORT"},
        {"[\"nats://h:4222\\r\\n\"]", "$.sinks.out.servers", "a server is nats://HOST:PORT"},
        {"[\"nats://a:1\",\"tls://b :2\"]", "$.sinks.out.servers", "a server is nats://HOST:PORT"},
    };
    for (size_t i = 0; i < sizeof(bad_servers) / sizeof(bad_servers[0]); i++) {
        snprintf(json, sizeof(json),
                 "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":%s,"
                 "\"subject\":\"x\",\"stream\":{\"name\":\"S\"}}},\"routes\":[" ROUTE("") "]}",
                 bad_servers[i].list);
        EXPECT_ERR(json, bad_servers[i].path, bad_servers[i].problem);
    }

    /* subject */
    EXPECT_ERR("{" LISTEN
               ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:1\"],"
               "\"stream\":{\"name\":\"S\"}}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.subject", "is required: e.g. \"hooks.{route}.{type}\"");
    static const char *const subj_types[] = {"\"\"", "7", "[\"x\"]", "null"};
    for (size_t i = 0; i < sizeof(subj_types) / sizeof(subj_types[0]); i++) {
        snprintf(json, sizeof(json),
                 "{" LISTEN
                 ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:1\"],"
                 "\"subject\":%s,\"stream\":{\"name\":\"S\"}}},\"routes\":[" ROUTE("") "]}",
                 subj_types[i]);
        EXPECT_ERR(json, "$.sinks.out.subject", "must be a non-empty string");
    }
    char long_subj[256] = "";
    for (int i = 0; i < 100; i++)
        append(long_subj, sizeof(long_subj), "h.");
    append(long_subj, sizeof(long_subj), "x"); /* 201 bytes */
    const char *const bad_subjects[] = {
        "hooks.*",  "hooks.>", "*",      ">",         "hooks.a*b",     "hooks.a>",
        "hooks. x", " hooks",  "hooks ", "hooks\\tx", "hooks\\nx",     "hooks.x\\r",
        ".hooks",   "hooks.",  ".",      "a..b",      "hooks..{type}", long_subj,
    };
    for (size_t i = 0; i < sizeof(bad_subjects) / sizeof(bad_subjects[0]); i++) {
        snprintf(json, sizeof(json),
                 "{" LISTEN
                 ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:1\"],"
                 "\"subject\":\"%s\",\"stream\":{\"name\":\"S\"}}},\"routes\":[" ROUTE("") "]}",
                 bad_subjects[i]);
        EXPECT_ERR(json, "$.sinks.out.subject",
                   "a subject of dot-separated tokens without spaces, '*' or '>' (the placeholders "
                   "{route}, {type} and {id} are filled per event)");
    }
    static const char *const bad_placeholders[] = {
        "hooks.{event}", "hooks.{Route}", "hooks.{route", "hooks.{",     "hooks.{{id}}",
        "{ROUTE}",       "hooks.{id }",   "hooks.{ty}pe", "{route}.{x}", "a.{}",
    };
    for (size_t i = 0; i < sizeof(bad_placeholders) / sizeof(bad_placeholders[0]); i++) {
        snprintf(json, sizeof(json),
                 "{" LISTEN
                 ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:1\"],"
                 "\"subject\":\"%s\",\"stream\":{\"name\":\"S\"}}},\"routes\":[" ROUTE("") "]}",
                 bad_placeholders[i]);
        /* "hooks.{id }" has a space: either message names the subject */
        EXPECT_ERR(json, "$.sinks.out.subject",
                   strchr(bad_placeholders[i], ' ')
                       ? "a subject of dot-separated tokens"
                       : "unknown placeholder (known: {route} {type} {id})");
    }

    /* placeholders are whole tokens after a fixed first token (the stream's
     * subjects are that prefix + ">", never ">" alone or "hooks.evt->") */
    static const char *const bad_positions[] = {"{route}.{type}", "hooks.evt-{id}", "hooks.{id}x",
                                                "{id}"};
    for (size_t i = 0; i < sizeof(bad_positions) / sizeof(bad_positions[0]); i++) {
        snprintf(json, sizeof(json),
                 "{" LISTEN
                 ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:1\"],"
                 "\"subject\":\"%s\",\"stream\":{\"name\":\"S\"}}},\"routes\":[" ROUTE("") "]}",
                 bad_positions[i]);
        EXPECT_ERR(json, "$.sinks.out.subject", "placeholders are whole tokens");
    }
    /* control characters in the stream name, a server without a host */
    EXPECT_ERR(
        "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:"
        "1\"],\"subject\":\"s.{id}\",\"stream\":{\"name\":\"A\\r\"}}},\"routes\":[" ROUTE("") "]}",
        "$.sinks.out.stream.name", "no control characters");
    EXPECT_ERR("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://\"],"
               "\"subject\":\"s.{id}\",\"stream\":{\"name\":\"A\"}}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.servers", "a server is nats://HOST:PORT");

    /* stream */
    EXPECT_ERR("{" LISTEN
               ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:1\"],"
               "\"subject\":\"x\"}},\"routes\":[" ROUTE("") "]}",
               "$.sinks.out.stream", "is required: {\"name\": \"HOOKS\", \"create\": true}");
    static const char *const stream_types[] = {"\"HOOKS\"", "[]", "true", "null"};
    for (size_t i = 0; i < sizeof(stream_types) / sizeof(stream_types[0]); i++) {
        snprintf(json, sizeof(json),
                 "{" LISTEN
                 ",\"sinks\":{\"out\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:1\"],"
                 "\"subject\":\"x\",\"stream\":%s}},\"routes\":[" ROUTE("") "]}",
                 stream_types[i]);
        EXPECT_ERR(json, "$.sinks.out.stream", "must be an object");
    }
    JS_STREAM_ERR("", "$.sinks.out.stream.name", "is required");
    JS_STREAM_ERR("\"create\":true", "$.sinks.out.stream.name", "is required");
    JS_STREAM_ERR("\"name\":\"S\",\"max_age\":\"1d\"", "$.sinks.out.stream.max_age", "unknown key");
    JS_STREAM_ERR("\"name\":\"S\",\"subjects\":[\"x\"]", "$.sinks.out.stream.subjects",
                  "unknown key");
    JS_STREAM_ERR("\"Name\":\"S\"", "$.sinks.out.stream.Name", "unknown key");
    JS_STREAM_ERR("\"name\":\"\"", "$.sinks.out.stream.name", "must be a non-empty string");
    JS_STREAM_ERR("\"name\":5", "$.sinks.out.stream.name", "must be a non-empty string");
    char long_name[80];
    memset(long_name, 'S', 65);
    long_name[65] = '\0';
    const char *const bad_names[] = {"HOOKS.v1", "MY HOOKS", "H\\tK", "H*", "H>",
                                     "a/b",      "a\\\\b",   " H",    "H ", long_name};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        snprintf(json, sizeof(json), JS_SINK_S("\"name\":\"%s\"", ""), bad_names[i]);
        EXPECT_ERR(json, "$.sinks.out.stream.name",
                   "a stream name has no spaces, '.', '*', '>', '/' or '\\'");
    }
    JS_STREAM_ERR("\"name\":\"S\",\"create\":\"yes\"", "$.sinks.out.stream.create",
                  "must be true or false");
    JS_STREAM_ERR("\"name\":\"S\",\"create\":1", "$.sinks.out.stream.create",
                  "must be true or false");
    JS_STREAM_ERR("\"name\":\"S\",\"create\":null", "$.sinks.out.stream.create",
                  "must be true or false");
    static const char *const bad_replicas[] = {"0", "6", "-1", "\"3\"", "2.5", "true"};
    for (size_t i = 0; i < sizeof(bad_replicas) / sizeof(bad_replicas[0]); i++) {
        snprintf(json, sizeof(json), JS_SINK_S("\"name\":\"S\",\"replicas\":%s", ""),
                 bad_replicas[i]);
        EXPECT_ERR(json, "$.sinks.out.stream.replicas", "must be an integer from 1 to 5");
    }
    static const char *const dw_range[] = {"0",       "604801", "\"0s\"",   "\"999ms\"",
                                           "\"7d1\"", "\"8d\"", "\"169h\"", "\"10081m\""};
    for (size_t i = 0; i < sizeof(dw_range) / sizeof(dw_range[0]); i++) {
        snprintf(json, sizeof(json), JS_SINK_S("\"name\":\"S\",\"duplicate_window\":%s", ""),
                 dw_range[i]);
        /* "7d1" is not a duration at all */
        EXPECT_ERR(json, "$.sinks.out.stream.duplicate_window",
                   i == 4 ? "must be a duration" : "must be between 1s and 7d");
    }
    static const char *const dw_bad[] = {"\"2 m\"", "\"soon\"", "-1", "1.5", "true", "\"\""};
    for (size_t i = 0; i < sizeof(dw_bad) / sizeof(dw_bad[0]); i++) {
        snprintf(json, sizeof(json), JS_SINK_S("\"name\":\"S\",\"duplicate_window\":%s", ""),
                 dw_bad[i]);
        EXPECT_ERR(json, "$.sinks.out.stream.duplicate_window", "must be a duration");
    }

    /* window, timeout */
    JS_ERR(",\"window\":0", "$.sinks.out.window", "must be an integer from 1 to 4096");
    JS_ERR(",\"window\":4097", "$.sinks.out.window", "must be an integer from 1 to 4096");
    JS_ERR(",\"window\":\"256\"", "$.sinks.out.window", "must be an integer from 1 to 4096");
    JS_ERR(",\"window\":-1", "$.sinks.out.window", "must be an integer from 1 to 4096");
    JS_ERR(",\"timeout\":0", "$.sinks.out.timeout", "must be between 100ms and 1h");
    JS_ERR(",\"timeout\":\"99ms\"", "$.sinks.out.timeout", "must be between 100ms and 1h");
    JS_ERR(",\"timeout\":3601", "$.sinks.out.timeout", "must be between 100ms and 1h");
    JS_ERR(",\"timeout\":\"61m\"", "$.sinks.out.timeout", "must be between 100ms and 1h");
    JS_ERR(",\"timeout\":\"10 s\"", "$.sinks.out.timeout", "must be a duration");

    /* creds: a readable file, as PATH or file:PATH */
    JS_ERR(",\"creds\":\"\"", "$.sinks.out.creds", "must be a non-empty string");
    JS_ERR(",\"creds\":[\"/x\"]", "$.sinks.out.creds", "must be a non-empty string");
    JS_ERR(",\"creds\":\"file:\"", "$.sinks.out.creds", "cannot read the credentials file");
    snprintf(json, sizeof(json), JS_SINK(",\"creds\":\"%s/none.creds\""), tmpdir);
    EXPECT_ERR(json, "$.sinks.out.creds", "cannot read the credentials file");
    snprintf(json, sizeof(json), JS_SINK(",\"creds\":\"file:%s/none.creds\""), tmpdir);
    EXPECT_ERR(json, "$.sinks.out.creds", "cannot read the credentials file");
    /* "file:" is a prefix, not part of the name: file:PATH is PATH */
    char creds[PATHLEN];
    write_file("js2.creds", "C\n", 2, creds, sizeof(creds));
    snprintf(json, sizeof(json), JS_SINK(",\"creds\":\"file:file:%s\""), creds);
    EXPECT_ERR(json, "$.sinks.out.creds", "cannot read the credentials file");
    /* a file the gateway's user cannot read (unless that user is root) */
    if (geteuid() != 0) {
        T_EQ_INT(chmod(creds, 0), 0);
        snprintf(json, sizeof(json), JS_SINK(",\"creds\":\"%s\""), creds);
        EXPECT_ERR(json, "$.sinks.out.creds", "cannot read the credentials file");
        T_EQ_INT(chmod(creds, 0600), 0);
    }
    snprintf(json, sizeof(json), JS_SINK(",\"creds\":\"%s\""), creds);
    struct config *c = load(json);
    T_CHECK(c != NULL);
    config_free(c);

    /* tls: an object of readable files */
    JS_ERR(",\"tls\":\"/etc/hostname\"", "$.sinks.out.tls", "must be an object");
    JS_ERR(",\"tls\":{\"verify\":false}", "$.sinks.out.tls.verify", "unknown key");
    JS_ERR(",\"tls\":{\"client_ca\":\"/etc/hostname\"}", "$.sinks.out.tls.client_ca",
           "unknown key");
    static const char *const tls_key[] = {"ca", "cert", "key"};
    for (int i = 0; i < 3; i++) {
        char where[64], missing[PATHLEN + 16];
        snprintf(where, sizeof(where), "$.sinks.out.tls.%s", tls_key[i]);
        snprintf(missing, sizeof(missing), "%s/none-js-%s.pem", tmpdir, tls_key[i]);
        if (i == 0)
            snprintf(json, sizeof(json), JS_SINK(",\"tls\":{\"ca\":\"%s\"}"), missing);
        else
            snprintf(json, sizeof(json), JS_SINK(",\"tls\":{\"cert\":\"%s\",\"key\":\"%s\"}"),
                     i == 1 ? missing : cert, i == 2 ? missing : cert);
        EXPECT_ERR(json, where, "cannot read");
        EXPECT_ERR(json, where, "none-js-");
        snprintf(json, sizeof(json), JS_SINK(",\"tls\":{\"%s\":\"\"}"), tls_key[i]);
        EXPECT_ERR(json, where, "must be a non-empty string");
        snprintf(json, sizeof(json), JS_SINK(",\"tls\":{\"%s\":1}"), tls_key[i]);
        EXPECT_ERR(json, where, "must be a non-empty string");
    }

    snprintf(json, sizeof(json), JS_SINK(",\"tls\":{\"cert\":\"%s\"}"), cert);
    EXPECT_ERR(json, "$.sinks.out.tls.key", "cert and key go together");
    snprintf(json, sizeof(json), JS_SINK(",\"tls\":{\"ca\":\"%s\",\"key\":\"%s\"}"), cert, cert);
    EXPECT_ERR(json, "$.sinks.out.tls.cert", "cert and key go together");
    /* only its own keys; and its keys on no other type */
    static const char *const foreign[] = {
        "url",  "command", "concurrency", "headers", "format",  "sign",        "unix_socket",
        "path", "ack",     "ack_timeout", "env",     "max_age", "stream_name", "subjects"};
    for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
        char where[64];
        snprintf(json, sizeof(json), JS_SINK(",\"%s\":1"), foreign[i]);
        snprintf(where, sizeof(where), "$.sinks.out.%s", foreign[i]);
        EXPECT_ERR(json, where, "unknown key");
    }
    JS_ERR(",\"types\":[]", "$.sinks.out.types", "non-empty array");
    static const char *const others[] = {
        "{\"type\":\"stdout\",\"servers\":[\"nats://h:1\"]}",
        "{\"type\":\"http\",\"url\":\"http://h/\",\"subject\":\"x\"}",
        "{\"type\":\"exec\",\"command\":[\"x\"],\"stream\":{\"name\":\"S\"}}",
        "{\"type\":\"http\",\"url\":\"http://h/\",\"window\":8}",
        "{\"type\":\"unix\",\"path\":\"/x.sock\",\"creds\":\"/etc/hostname\"}",
        "{\"type\":\"pipe\",\"command\":[\"x\"],\"window\":1}",
    };
    static const char *const other_key[] = {"servers", "subject", "stream",
                                            "window",  "creds",   "window"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        char where[64];
        snprintf(json, sizeof(json),
                 "{" LISTEN ",\"sinks\":{\"out\":%s},\"routes\":[" ROUTE("") "]}", others[i]);
        snprintf(where, sizeof(where), "$.sinks.out.%s", other_key[i]);
        EXPECT_ERR(json, where, "unknown key");
    }
#undef JS_ERR
#undef JS_STREAM_ERR
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
               "between 1s and 3650d");
    EXPECT_ERR(CONFIG(ROUTE(",\"tolerance\":\"999ms\""), ""), "$.routes[0].tolerance",
               "between 1s and 3650d");
    EXPECT_ERR(CONFIG(ROUTE(",\"tolerance\":0"), ""), "$.routes[0].tolerance",
               "between 1s and 3650d");
    EXPECT_ERR(CONFIG(ROUTE(",\"tolerance\":\"3651d\""), ""), "$.routes[0].tolerance",
               "between 1s and 3650d");
    EXPECT_ERR(CONFIG(ROUTE(",\"tolerance\":315360001"), ""), "$.routes[0].tolerance",
               "between 1s and 3650d");
    EXPECT_ERR(CONFIG(ROUTE(",\"tolerance\":\"315360000001ms\""), ""), "$.routes[0].tolerance",
               "between 1s and 3650d");
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

static const char *const builtin_profiles[] = {
    "generic", "iex",   "standard",           "github",    "github-sha1", "stripe", "slack",
    "shopify", "hubex", "ultimate-multisite", "openwebui", "unsigned"};
#define NBUILTIN (sizeof(builtin_profiles) / sizeof(builtin_profiles[0]))

/* does the comma-separated list (as in messages) hold name as an item? */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p++)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == ')' || p[n] == '\0'))
            return 1;
    return 0;
}

static void test_unknown_profile(void)
{
    EXPECT_ERR(
        CONFIG("{\"path\":\"/a\",\"profile\":\"nosuch\"," SECRETS ",\"sinks\":[\"out\"]}", ""),
        "$.routes[0].profile", "unknown profile \"nosuch\" (known: ");
    /* the message lists every built-in profile */
    for (size_t i = 0; i < NBUILTIN; i++)
        if (!in_list(strstr(err, "(known: ") ? strstr(err, "(known: ") + 8 : "",
                     builtin_profiles[i])) {
            fprintf(stderr, "  %s not listed in: %s\n", builtin_profiles[i], err);
            t_cur_failed = 1;
        }
    /* names are case-sensitive */
    EXPECT_ERR(
        CONFIG("{\"path\":\"/a\",\"profile\":\"GitHub\"," SECRETS ",\"sinks\":[\"out\"]}", ""),
        "$.routes[0].profile", "unknown profile \"GitHub\"");
    EXPECT_ERR(CONFIG("{\"path\":\"/a\"," SECRETS ",\"sinks\":[\"out\"]}", ""),
               "$.routes[0].profile", "is required (one of: bitbucket");
    EXPECT_ERR(CONFIG("{\"path\":\"/a\",\"profile\":7," SECRETS ",\"sinks\":[\"out\"]}", ""),
               "$.routes[0].profile", "must be a profile name (one of: bitbucket");
}

/* every built-in profile loads on a route with what its kind needs, and the
 * route points at a profile of that name */
static void test_builtin_profiles(void)
{
    for (size_t i = 0; i < NBUILTIN; i++) {
        const char *p = builtin_profiles[i];
        int unsig = !strcmp(p, "openwebui") || !strcmp(p, "unsigned");
        char json[1024];
        snprintf(json, sizeof(json),
                 CONFIG("{\"path\":\"/h/%s\",\"profile\":\"%s\",%s,\"sinks\":[\"out\"]}", ""), p, p,
                 unsig ? "\"allow_unsigned\":true,\"allow\":[\"127.0.0.1\"]"
                 : !strcmp(p, "standard")
                     ? "\"secrets\":[\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]"
                     : SECRETS);
        struct config *c = load(json);
        if (!c) {
            fprintf(stderr, "  profile %s: %s\n", p, err);
            t_cur_failed = 1;
            continue;
        }
        T_EQ_STR(c->routes[0].profile->name, p);
        T_EQ_INT(c->routes[0].nsecrets, unsig ? 0 : 1);
        T_EQ_INT(c->routes[0].allow_unsigned, unsig);
        T_CHECK(c->routes[0].verifier != NULL);
        /* token profiles take a token in the path (their secret); others only with "token" */
        T_EQ_INT(c->routes[0].takes_token, !strcmp(p, "hubex") || !strcmp(p, "ultimate-multisite"));
        config_free(c);
    }
}

/* ---- profile_dirs --------------------------------------------------------- */

/* a profile file dir/name.json holding text (dir created under tmpdir) */
static void write_profile(const char *dir, const char *name, const char *text, char *dirpath,
                          size_t cap)
{
    char rel[PATHLEN];
    snprintf(dirpath, cap, "%s/%s", tmpdir, dir);
    mkdir(dirpath, 0700);
    snprintf(rel, sizeof(rel), "%s/%s.json", dir, name);
    write_file(rel, text, strlen(text), (char[PATHLEN]){0}, PATHLEN);
}

#define ACME_PROFILE(name)                                                                         \
    "{\"name\":\"" name "\",\"signature\":{\"header\":\"X-Acme-Sig\",\"format\":\"value\","        \
    "\"prefix\":\"sha256=\"},\"id\":[{\"header\":\"X-Acme-Id\"}]}"

static void test_profile_dirs(void)
{
    char d1[PATHLEN], d2[PATHLEN], json[2048];
    write_profile("prof1", "acme", ACME_PROFILE("acme"), d1, sizeof(d1));
    write_profile("prof1", "README", "not json at all", (char[PATHLEN]){0}, PATHLEN); /* .json */
    /* README.json is loaded too: every *.json is a profile */
    snprintf(json, sizeof(json),
             CONFIG("{\"path\":\"/a\",\"profile\":\"acme\"," SECRETS ",\"sinks\":[\"out\"]}",
                    ",\"profile_dirs\":[\"%s\"]"),
             d1);
    T_CHECK(load(json) == NULL);
    T_CHECK(strstr(err, "README.json") != NULL);
    char readme[PATHLEN + 16];
    snprintf(readme, sizeof(readme), "%s/README.json", d1);
    T_EQ_INT(unlink(readme), 0);

    struct config *c = load(json);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_STR(c->routes[0].profile->name, "acme");
        T_CHECK(c->profile_dirs && !strcmp(c->profile_dirs[0], d1) && !c->profile_dirs[1]);
        T_CHECK(c->routes[0].verifier != NULL);
        /* the built-ins are still there */
        T_CHECK(profile_find(c->profiles, "generic") != NULL);
        T_CHECK(in_list(profile_names(c->profiles), "acme"));
    } else {
        fprintf(stderr, "  %s\n", err);
    }
    config_free(c);
    /* without profile_dirs the name is unknown, and the message lists it no more */
    EXPECT_ERR(CONFIG("{\"path\":\"/a\",\"profile\":\"acme\"," SECRETS ",\"sinks\":[\"out\"]}", ""),
               "$.routes[0].profile", "unknown profile \"acme\"");
    T_CHECK(!in_list(err, "acme"));

    /* an unsigned user profile follows the unsigned rules */
    write_profile("prof2", "open",
                  "{\"name\":\"open\",\"unsigned\":true,\"id_fallback\":\"body_sha256\"}", d2,
                  sizeof(d2));
    snprintf(json, sizeof(json),
             CONFIG("{\"path\":\"/o\",\"profile\":\"open\",\"allow_unsigned\":true,\"token\":"
                    "\"tok\",\"sinks\":[\"out\"]}",
                    ",\"profile_dirs\":[\"%s\",\"%s\"]"),
             d1, d2);
    c = load(json);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->routes[0].nsecrets, 0);
        T_EQ_INT(c->routes[0].has_token, 1);
    } else {
        fprintf(stderr, "  %s\n", err);
    }
    config_free(c);
    snprintf(json, sizeof(json),
             CONFIG("{\"path\":\"/o\",\"profile\":\"open\"," SECRETS ",\"sinks\":[\"out\"]}",
                    ",\"profile_dirs\":[\"%s\"]"),
             d2);
    EXPECT_ERR(json, "$.routes[0].secrets", "profile open is unsigned");

    /* errors: the directory, its files, names taken */
    snprintf(json, sizeof(json), CONFIG(ROUTE(""), ",\"profile_dirs\":[\"%s/absent\"]"), tmpdir);
    T_CHECK(load(json) == NULL);
    T_CHECK(strstr(err, "absent") != NULL && strstr(err, "$.profile_dirs") != NULL);
    snprintf(json, sizeof(json), CONFIG(ROUTE(""), ",\"profile_dirs\":[\"%s\",\"%s\"]"), d1, d1);
    T_CHECK(load(json) == NULL);
    T_CHECK(strstr(err, "acme.json") != NULL && strstr(err, "already loaded") != NULL);
    char d3[PATHLEN];
    write_profile("prof3", "github", ACME_PROFILE("github"), d3, sizeof(d3));
    snprintf(json, sizeof(json), CONFIG(ROUTE(""), ",\"profile_dirs\":[\"%s\"]"), d3);
    T_CHECK(load(json) == NULL);
    T_CHECK(strstr(err, "github.json") != NULL && strstr(err, "$.name") != NULL &&
            strstr(err, "already loaded") != NULL);
    char d4[PATHLEN];
    write_profile("prof4", "wrong", ACME_PROFILE("acme"), d4, sizeof(d4));
    snprintf(json, sizeof(json), CONFIG(ROUTE(""), ",\"profile_dirs\":[\"%s\"]"), d4);
    T_CHECK(load(json) == NULL);
    T_CHECK(strstr(err, "wrong.json") != NULL && strstr(err, "must equal the file name") != NULL);
    char d5[PATHLEN];
    write_profile(
        "prof5", "typo",
        "{\"name\":\"typo\",\"unsigned\":true,\"id_fallback\":\"body_sha256\",\"tyep\":[]}", d5,
        sizeof(d5));
    snprintf(json, sizeof(json), CONFIG(ROUTE(""), ",\"profile_dirs\":[\"%s\"]"), d5);
    T_CHECK(load(json) == NULL);
    T_CHECK(strstr(err, "typo.json: $.tyep: unknown key") != NULL);
    if (!strstr(err, "typo.json: $.tyep: unknown key"))
        fprintf(stderr, "  %s\n", err);

    EXPECT_ERR(CONFIG(ROUTE(""), ",\"profile_dirs\":[]"), "$.profile_dirs", "non-empty array");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"profile_dirs\":\"/etc\""), "$.profile_dirs",
               "non-empty array");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"profile_dirs\":[\"\"]"), "$.profile_dirs[0]",
               "non-empty string");
    EXPECT_ERR(CONFIG(ROUTE(""), ",\"profile_dirs\":[1]"), "$.profile_dirs[0]", "non-empty string");
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

    /* up to 3650 days (over 1d only logs a warning); 1s is the least */
    c = load(CONFIG("{\"path\":\"/i1\",\"profile\":\"iex\"," SECRETS ",\"sinks\":[\"out\"],"
                    "\"tolerance\":\"2d\"},{\"path\":\"/i2\",\"profile\":\"iex\"," SECRETS
                    ",\"sinks\":[\"out\"],\"tolerance\":\"3650d\"},{\"path\":\"/i3\",\"profile\":"
                    "\"iex\"," SECRETS ",\"sinks\":[\"out\"],\"tolerance\":315360000},{\"path\":"
                    "\"/i4\",\"profile\":\"iex\"," SECRETS ",\"sinks\":[\"out\"],\"tolerance\":"
                    "\"1000ms\"},{\"path\":\"/s\",\"profile\":\"stripe\"," SECRETS
                    ",\"sinks\":[\"out\"]}",
                    ""));
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    T_EQ_INT(c->routes[0].tolerance_s, 2 * 86400);
    T_EQ_INT(c->routes[1].tolerance_s, 315360000L);
    T_EQ_INT(c->routes[2].tolerance_s, 315360000L);
    T_EQ_INT(c->routes[3].tolerance_s, 1);
    T_EQ_INT(c->routes[4].tolerance_s, 300); /* stripe's "300s" */
    config_free(c);
}

/* ---- route access: allow, token, allow_unsigned, type --------------------- */

static int allows4(const struct cfg_route *r, const char *ip)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return -1;
    return config_route_allows(r, (const struct sockaddr *)&sa);
}

static int allows6(const struct cfg_route *r, const char *ip)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET6, ip, &sa.sin6_addr) != 1)
        return -1;
    return config_route_allows(r, (const struct sockaddr *)&sa);
}

static void test_allow_list(void)
{
    struct config *c = load(
        CONFIG(ROUTE(",\"allow\":[\"140.82.112.0/20\",\"10.1.2.3\",\"2001:db8::/32\",\"::1\","
                     "\"192.168.0.0/31\",\"fc00::/7\"]") ",{\"path\":\"/"
                                                         "any\",\"profile\":\"generic\"," SECRETS
                                                         ",\"sinks\":[\"out\"],\"allow\":[\"0.0.0."
                                                         "0/0\"]},{\"path\":\"/open\","
                                                         "\"profile\":\"generic\"," SECRETS
                                                         ",\"sinks\":[\"out\"]}",
               ""));
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    const struct cfg_route *r = &c->routes[0];
    T_EQ_INT(r->nallow, 6);
    T_EQ_INT(allows4(r, "140.82.112.0"), 1);
    T_EQ_INT(allows4(r, "140.82.127.255"), 1); /* last of the /20 */
    T_EQ_INT(allows4(r, "140.82.128.0"), 0);   /* first after it */
    T_EQ_INT(allows4(r, "140.82.111.255"), 0);
    T_EQ_INT(allows4(r, "10.1.2.3"), 1); /* a bare address is a /32 */
    T_EQ_INT(allows4(r, "10.1.2.4"), 0);
    T_EQ_INT(allows4(r, "192.168.0.1"), 1);
    T_EQ_INT(allows4(r, "192.168.0.2"), 0);
    T_EQ_INT(allows6(r, "2001:db8:ffff::1"), 1);
    T_EQ_INT(allows6(r, "2001:db9::"), 0);
    T_EQ_INT(allows6(r, "::1"), 1); /* a bare IPv6 address is a /128 */
    T_EQ_INT(allows6(r, "::2"), 0);
    T_EQ_INT(allows6(r, "fdff::1"), 1);
    T_EQ_INT(allows6(r, "fc00::1"), 1);
    T_EQ_INT(allows6(r, "fe00::1"), 0);
    /* IPv4 clients of an IPv6 socket arrive v4-mapped: same verdicts */
    T_EQ_INT(allows6(r, "::ffff:140.82.120.1"), 1);
    T_EQ_INT(allows6(r, "::ffff:140.82.128.1"), 0);
    T_EQ_INT(allows6(r, "::ffff:10.1.2.3"), 1);
    /* no address at all is refused on a list */
    T_EQ_INT(config_route_allows(r, NULL), 0);
    /* 0.0.0.0/0 is every IPv4 address, and no IPv6 one */
    T_EQ_INT(allows4(&c->routes[1], "203.0.113.9"), 1);
    T_EQ_INT(allows6(&c->routes[1], "::ffff:203.0.113.9"), 1);
    T_EQ_INT(allows6(&c->routes[1], "2001:db8::1"), 0);
    /* no list: any address */
    T_EQ_INT(c->routes[2].nallow, 0);
    T_EQ_INT(allows4(&c->routes[2], "203.0.113.9"), 1);
    T_EQ_INT(allows6(&c->routes[2], "2001:db8::1"), 1);
    config_free(c);

    /* 256 entries is the most */
    char json[16384], list[12288];
    size_t n = 0;
    for (int i = 0; i < 257; i++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"10.%d.%d.0/24\"", i ? "," : "",
                              i / 256, i % 256);
    snprintf(json, sizeof(json), CONFIG(ROUTE(",\"allow\":[%s]"), ""), list);
    EXPECT_ERR(json, "$.routes[0].allow", "list of 1 to 256 CIDRs");
    *strrchr(list, ',') = '\0'; /* 256 */
    snprintf(json, sizeof(json), CONFIG(ROUTE(",\"allow\":[%s]"), ""), list);
    c = load(json);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->routes[0].nallow, 256);
        T_EQ_INT(allows4(&c->routes[0], "10.0.255.1"), 1);
        T_EQ_INT(allows4(&c->routes[0], "10.1.0.1"), 0);
    }
    config_free(c);
}

static void test_allow_list_errors(void)
{
    static const struct {
        const char *allow, *path, *problem;
    } cases[] = {
        {"[]", "$.routes[0].allow", "list of 1 to 256 CIDRs"},
        {"\"10.0.0.0/8\"", "$.routes[0].allow", "list of 1 to 256 CIDRs"},
        {"{}", "$.routes[0].allow", "list of 1 to 256 CIDRs"},
        {"[\"10.0.0.0/8\",8]", "$.routes[0].allow[1]", "IPv4 or IPv6 address or CIDR"},
        {"[\"localhost\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"10.0.0.256\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"10.0.0\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"10.0.0.0/33\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"::/129\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"10.0.0.0/\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"/8\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"10.0.0.0/8x\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"10.0.0.0/-1\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"10.0.0.0/8 \"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"fe80::1%lo\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"[::1]\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"1::2::3\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        {"[\"1:2:3:4:5:6:7:8:9\"]", "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        /* longer than any address: must not overflow or be cut into a valid one */
        {"[\"10.0.0.1000000000000000000000000000000000000000000000000000000000000000000/8\"]",
         "$.routes[0].allow[0]", "IPv4 or IPv6 address or CIDR"},
        /* host bits after the prefix */
        {"[\"10.0.0.1/8\"]", "$.routes[0].allow[0]", "host bits set after the prefix length"},
        {"[\"10.0.0.0/8\",\"192.168.1.1/24\"]", "$.routes[0].allow[1]", "host bits set"},
        {"[\"10.0.0.1/0\"]", "$.routes[0].allow[0]", "host bits set"},
        {"[\"192.168.0.1/31\"]", "$.routes[0].allow[0]", "host bits set"},
        {"[\"2001:db8::1/32\"]", "$.routes[0].allow[0]", "host bits set"},
        {"[\"::1/127\"]", "$.routes[0].allow[0]", "host bits set"},
        {"[\"::ffff:10.0.0.1/120\"]", "$.routes[0].allow[0]", "host bits set"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json), CONFIG(ROUTE(",\"allow\":%s"), ""), cases[i].allow);
        EXPECT_ERR(json, cases[i].path, cases[i].problem);
    }
}

static void test_route_token(void)
{
    setenv("HG_TEST_TOKEN", "tok-from-env", 1);
    char path[PATHLEN], json[2048];
    write_file("token", "tok-from-file\n", 14, path, sizeof(path));
    snprintf(
        json, sizeof(json),
        CONFIG(
            ROUTE(",\"token\":\"tok-literal\"") ",{\"path\":\"/e\",\"profile\":\"github\"," SECRETS
                                                ",\"sinks\":[\"out\"],\"token\":\"env:HG_TEST_"
                                                "TOKEN\"},{\"path\":"
                                                "\"/f\",\"profile\":\"iex\"," SECRETS
                                                ",\"sinks\":[\"out\"],\"token\":"
                                                "\"file:%s\"},{\"path\":\"/hooks/"
                                                "hubex\",\"profile\":\"hubex\",\"secrets\":"
                                                "[\"hubex-tok\"],\"sinks\":[\"out\"]},{\"path\":\"/"
                                                "plain\",\"profile\":"
                                                "\"generic\"," SECRETS ",\"sinks\":[\"out\"]}",
            ""),
        path);
    struct config *c = load(json);
    T_CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        unsetenv("HG_TEST_TOKEN");
        return;
    }
    static const char *const want[] = {"tok-literal", "tok-from-env", "tok-from-file"};
    for (int i = 0; i < 3; i++) {
        unsigned char d[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)want[i], strlen(want[i]), d);
        T_EQ_INT(c->routes[i].has_token, 1);
        T_EQ_INT(c->routes[i].takes_token, 1);
        T_CHECK(memcmp(c->routes[i].token_sha, d, sizeof(d)) == 0); /* newline of the file gone */
    }
    /* hubex: no route token, but it takes its secrets as tokens in the path */
    T_EQ_INT(c->routes[3].has_token, 0);
    T_EQ_INT(c->routes[3].takes_token, 1);
    T_EQ_INT(c->routes[4].has_token, 0);
    T_EQ_INT(c->routes[4].takes_token, 0);

    /* ROUTE/TOKEN finds a route that takes a token, and only such a route */
    const char *tok = (const char *)"unset";
    T_CHECK(config_route_match(c, "/hooks/gh", &tok) == &c->routes[0] && tok == NULL);
    const char *url = "/hooks/gh/abc";
    T_CHECK(config_route_match(c, url, &tok) == &c->routes[0]);
    T_CHECK(tok == url + 10);
    T_CHECK(config_route_match(c, "/hooks/hubex/xyz", &tok) == &c->routes[3] &&
            !strcmp(tok, "xyz"));
    T_CHECK(config_route_match(c, "/plain/abc", &tok) == NULL && tok == NULL);
    T_CHECK(config_route_match(c, "/hooks/gh/", &tok) == NULL);    /* empty token */
    T_CHECK(config_route_match(c, "/hooks/gh/a/b", &tok) == NULL); /* one segment only */
    T_CHECK(config_route_match(c, "/hooks/ghx/abc", &tok) == NULL);
    config_free(c);
    unsetenv("HG_TEST_TOKEN");

    /* 256 bytes is the longest token */
    char tok256[300];
    memset(tok256, 't', 256);
    tok256[256] = '\0';
    snprintf(json, sizeof(json), CONFIG(ROUTE(",\"token\":\"%s\""), ""), tok256);
    c = load(json);
    T_CHECK(c != NULL);
    config_free(c);
    memcpy(tok256 + 256, "t", 2);
    snprintf(json, sizeof(json), CONFIG(ROUTE(",\"token\":\"%s\""), ""), tok256);
    EXPECT_ERR(json, "$.routes[0].token", "a token is 1-256 bytes without '/'");
}

static void test_route_token_errors(void)
{
    char path[PATHLEN], json[1024];
    EXPECT_ERR(CONFIG(ROUTE(",\"token\":\"a/b\""), ""), "$.routes[0].token",
               "a token is 1-256 bytes without '/'");
    EXPECT_ERR(CONFIG(ROUTE(",\"token\":\"\""), ""), "$.routes[0].token", "must be \"env:NAME\"");
    EXPECT_ERR(CONFIG(ROUTE(",\"token\":[\"t\"]"), ""), "$.routes[0].token",
               "must be \"env:NAME\"");
    unsetenv("HG_TEST_UNSET_TOKEN");
    EXPECT_ERR(CONFIG(ROUTE(",\"token\":\"env:HG_TEST_UNSET_TOKEN\""), ""), "$.routes[0].token",
               "environment variable HG_TEST_UNSET_TOKEN is not set");
    /* the rules apply to the resolved value */
    setenv("HG_TEST_SLASH_TOKEN", "a/b", 1);
    EXPECT_ERR(CONFIG(ROUTE(",\"token\":\"env:HG_TEST_SLASH_TOKEN\""), ""), "$.routes[0].token",
               "without '/'");
    unsetenv("HG_TEST_SLASH_TOKEN");
    write_file("nul.token", "ab\0cd", 5, path, sizeof(path));
    snprintf(json, sizeof(json), CONFIG(ROUTE(",\"token\":\"file:%s\""), ""), path);
    EXPECT_ERR(json, "$.routes[0].token", "without '/' or NUL");
    write_file("empty.token", "\n", 1, path, sizeof(path));
    snprintf(json, sizeof(json), CONFIG(ROUTE(",\"token\":\"file:%s\""), ""), path);
    EXPECT_ERR(json, "$.routes[0].token", "secret is empty");
    /* token profiles take their tokens from "secrets" */
    EXPECT_ERR(CONFIG("{\"path\":\"/h\",\"profile\":\"hubex\"," SECRETS
                      ",\"sinks\":[\"out\"],\"token\":\"tok\"}",
                      ""),
               "$.routes[0].token", "profile hubex takes its tokens from \"secrets\"");
    EXPECT_ERR(CONFIG("{\"path\":\"/h\",\"profile\":\"ultimate-multisite\"," SECRETS
                      ",\"sinks\":[\"out\"],\"token\":\"tok\"}",
                      ""),
               "$.routes[0].token", "profile ultimate-multisite takes its tokens");
}

/* an unsigned profile needs "allow_unsigned": true, no secrets, and an allow
 * list or a token; a signed one refuses "allow_unsigned": true */
static void test_allow_unsigned(void)
{
#define UROUTE(profile, extra)                                                                     \
    "{\"path\":\"/u\",\"profile\":\"" profile "\",\"sinks\":[\"out\"]" extra "}"
    struct config *c = load(CONFIG(
        UROUTE("openwebui",
               ",\"allow_unsigned\":true,\"allow\":"
               "[\"127.0.0.1/32\",\"::1\"]") ","
                                             "{\"path\":\"/v\",\"profile\":\"unsigned\",\"sinks\":"
                                             "[\"out\"],\"allow_unsigned\":true,\"token\":\"tok\"}",
        ""));
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->routes[0].allow_unsigned, 1);
        T_EQ_INT(c->routes[0].nsecrets, 0);
        T_EQ_INT(c->routes[0].nallow, 2);
        T_EQ_INT(c->routes[0].has_token, 0);
        T_EQ_INT(c->routes[0].takes_token, 0);
        T_CHECK(c->routes[0].profile->is_unsigned);
        T_EQ_INT(c->routes[1].allow_unsigned, 1);
        T_EQ_INT(c->routes[1].has_token, 1);
        T_EQ_INT(c->routes[1].takes_token, 1);
        T_EQ_INT(c->routes[1].nallow, 0);
    } else {
        fprintf(stderr, "  %s\n", err);
    }
    config_free(c);
    /* false on a signed profile is the default, spelled out */
    c = load(CONFIG(ROUTE(",\"allow_unsigned\":false"), ""));
    T_CHECK(c != NULL && c->routes[0].allow_unsigned == 0);
    config_free(c);

    EXPECT_ERR(CONFIG(UROUTE("openwebui", ",\"allow\":[\"127.0.0.1\"]"), ""),
               "$.routes[0].allow_unsigned", "profile openwebui cannot sign");
    EXPECT_ERR(CONFIG(UROUTE("unsigned", ",\"allow_unsigned\":false,\"token\":\"t\""), ""),
               "$.routes[0].allow_unsigned", "profile unsigned cannot sign");
    EXPECT_ERR(CONFIG(UROUTE("unsigned", ",\"allow_unsigned\":true"), ""), "$.routes[0]",
               "an unsigned route needs an \"allow\" list or a \"token\"");
    EXPECT_ERR(
        CONFIG(UROUTE("openwebui", ",\"allow_unsigned\":true,\"allow\":[\"::1\"]," SECRETS), ""),
        "$.routes[0].secrets", "profile openwebui is unsigned: it takes no secrets");
    EXPECT_ERR(CONFIG(UROUTE("openwebui", ",\"allow_unsigned\":true,\"allow\":[\"::1\"],"
                                          "\"secrets\":[]"),
                      ""),
               "$.routes[0].secrets", "takes no secrets");
    EXPECT_ERR(CONFIG(UROUTE("openwebui", ",\"allow_unsigned\":\"true\",\"allow\":[\"::1\"]"), ""),
               "$.routes[0].allow_unsigned", "must be true or false");
    EXPECT_ERR(CONFIG(ROUTE(",\"allow_unsigned\":true"), ""), "$.routes[0].allow_unsigned",
               "profile generic is signed: allow_unsigned does not apply");
    /* "allow" of every address is no protection for an unsigned route... */
    EXPECT_ERR(
        CONFIG(UROUTE("openwebui", ",\"allow_unsigned\":true,\"allow\":[\"0.0.0.0/0\"]"), ""),
        "$.routes[0]", "cannot allow every address (/0)");
    EXPECT_ERR(
        CONFIG(UROUTE("unsigned", ",\"allow_unsigned\":true,\"allow\":[\"10.0.0.0/8\",\"::/0\"]"),
               ""),
        "$.routes[0]", "cannot allow every address (/0)");
    /* ...but is fine next to a token */
    c = load(CONFIG(
        UROUTE("unsigned", ",\"allow_unsigned\":true,\"allow\":[\"::/0\"],\"token\":\"t\""), ""));
    T_CHECK(c != NULL);
    config_free(c);
    EXPECT_ERR(CONFIG("{\"path\":\"/h\",\"profile\":\"hubex\"," SECRETS
                      ",\"sinks\":[\"out\"],\"allow_unsigned\":true,\"allow\":[\"::1\"]}",
                      ""),
               "$.routes[0].allow_unsigned", "profile hubex is signed");
    /* a signed profile still needs its secrets, whatever else protects it */
    EXPECT_ERR(CONFIG("{\"path\":\"/g\",\"profile\":\"github\",\"sinks\":[\"out\"],"
                      "\"allow\":[\"::1\"],\"token\":\"t\"}",
                      ""),
               "$.routes[0].secrets", "array of 1 to 16 secrets");
#undef UROUTE
}

static void test_route_type(void)
{
    char t128[129], json[1024];
    memset(t128, 'x', 128);
    t128[128] = '\0';
    snprintf(
        json, sizeof(json),
        CONFIG(ROUTE(",\"type\":\"signup\"") ",{\"path\":\"/b\",\"profile\":\"generic\"," SECRETS
                                             ",\"sinks\":[\"out\"],\"type\":\"%s\"},{\"path\":\"/"
                                             "c\",\"profile\":"
                                             "\"generic\"," SECRETS ",\"sinks\":[\"out\"]}",
               ""),
        t128);
    struct config *c = load(json);
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_STR(c->routes[0].type, "signup");
        T_EQ_STR(c->routes[1].type, t128);
        T_CHECK(c->routes[2].type == NULL);
    } else {
        fprintf(stderr, "  %s\n", err);
    }
    config_free(c);
    snprintf(json, sizeof(json), CONFIG(ROUTE(",\"type\":\"%sx\""), ""), t128);
    EXPECT_ERR(json, "$.routes[0].type", "must be a type name (1-128 bytes)");
    /* bytes, not characters: 65 two-byte characters are 130 bytes */
    char wide[200] = "";
    for (int i = 0; i < 65; i++)
        append(wide, sizeof(wide), "\xc3\xa9");
    snprintf(json, sizeof(json), CONFIG(ROUTE(",\"type\":\"%s\""), ""), wide);
    EXPECT_ERR(json, "$.routes[0].type", "1-128 bytes");
    EXPECT_ERR(CONFIG(ROUTE(",\"type\":\"\""), ""), "$.routes[0].type",
               "must be a non-empty string");
    EXPECT_ERR(CONFIG(ROUTE(",\"type\":40"), ""), "$.routes[0].type", "must be a non-empty string");
    EXPECT_ERR(CONFIG(ROUTE(",\"type\":\"a\\u0000b\""), ""), "line 1", "NUL");
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
    const char *env = getenv("HOOKGATE_SECRET");
    char *saved = env ? strdup(env) : NULL;
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
        T_CHECK(!strcmp(c->routes[0].profile->name, "generic"));
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
    const char *env = getenv("HOOKGATE_SECRET");
    char *saved = env ? strdup(env) : NULL;
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
    /* tokens are secrets too: failures after one was read, or about it */
    NO_SECRET(CONFIG(ROUTE(",\"token\":\"SUPERSECRET123\",\"type\":\"\""), ""));
    NO_SECRET(CONFIG("{\"path\":\"/h\",\"profile\":\"hubex\"," SECRETS
                     ",\"sinks\":[\"out\"],\"token\":\"SUPERSECRET123\"}",
                     ""));
    NO_SECRET(CONFIG(ROUTE(",\"token\":\"SUPERSECRET123/x\""), ""));
    NO_SECRET(CONFIG(ROUTE(",\"token\":\"SUPERSECRET123\",\"allow_unsigned\":true"), ""));
    NO_SECRET(CONFIG(ROUTE(",\"token\":\"SUPERSECRET123\",\"sinks\":[\"nope\"]"), ""));
    /* an http sink's signing secret and header values */
    NO_SECRET(
        "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"http://h/\","
        "\"sign\":{\"secret\":\"SUPERSECRET123\"},\"types\":[]}},\"routes\":[" ROUTE("") "]}");
    NO_SECRET("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"http://h/\","
              "\"sign\":{\"secret\":\"SUPERSECRET123\",\"x\":1}}},\"routes\":[" ROUTE("") "]}");
    NO_SECRET(
        "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"http://h/\","
        "\"sign\":{\"secret\":\"SUPERSECRET123\"}}},\"routes\":[" ROUTE(",\"sinks\":[\"x\"]") "]}");
    NO_SECRET("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"http://h/\","
              "\"headers\":{\"Authorization\":\"SUPERSECRET123\",\"Host\":\"h\"}}},"
              "\"routes\":[" ROUTE("") "]}");
    NO_SECRET(
        "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"http\",\"url\":\"http://h/\","
        "\"headers\":{\"Authorization\":\"SUPERSECRET123\\n\"}}},\"routes\":[" ROUTE("") "]}");
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

/* ---- every problem at once, the document's own first ----------------------- */

/* expect json to be refused with exactly the lines of want (NULL-ended),
 * through config_load_string_all */
#define EXPECT_PROBLEMS(json, ...)                                                                 \
    expect_problems_at(__LINE__, json, (const char *const[]){__VA_ARGS__, NULL})

static void expect_problems_at(int line, const char *json, const char *const *want)
{
    struct config *c = NULL;
    char *got = NULL, exp[8192] = "";
    for (size_t i = 0; want[i]; i++) {
        append(exp, sizeof(exp), i ? "\n" : "");
        append(exp, sizeof(exp), want[i]);
    }
    int rc = config_load_string_all(json, "test.json", &c, &got);
    if (rc != HG_ECONFIG || c || !got || strcmp(got, exp)) {
        fprintf(stderr, "  line %d: rc=%d, got:\n%s\n  wanted:\n%s\n", line, rc,
                got ? got : "(null)", exp);
        t_cur_failed = 1;
    }
    free(got);
    config_free(c);
}

/* Problems are collected, not stopped at: every one of them, in the order
 * the document is checked (root keys, listeners, settings, sinks, routes). */
static void test_problems_all_reported_in_order(void)
{
    static const char size_line[] = "test.json: $.limits.max_body: must be a size like \"1MiB\", "
                                    "\"512KiB\" or a number of bytes";
    EXPECT_PROBLEMS(
        "{\"listen\":[{\"address\":\"127.0.0.1\"}],"
        "\"limits\":{\"max_body\":\"1XB\",\"max_conections\":10},"
        "\"retry\":{\"initial\":\"2s\",\"max\":\"1s\"},\"threads\":0,"
        "\"sinks\":{\"out\":{\"type\":\"stdout\"},\"stream\":{\"tpye\":\"stdout\"}},"
        "\"routes\":[{\"path\":\"hooks\",\"profile\":\"generic\",\"secrets\":[\"x\"],"
        "\"sinks\":[\"out\",\"nope\"]}],\"dedupe\":\"1d\"}",
        "test.json: $.dedupe: unknown key",
        "test.json: $.listen[0].address: must be \"HOST:PORT\" or \"[IPv6]:PORT\"",
        "test.json: $.threads: must be an integer from 1 to 64",
        "test.json: $.limits.max_conections: unknown key (did you mean \"max_connections\"?)",
        size_line, "test.json: $.retry: need 0 < initial <= max",
        "test.json: $.sinks.stream.tpye: unknown key (did you mean \"type\"?)",
        "test.json: $.routes[0].path: must start with '/' (at most 256 bytes)",
        "test.json: $.routes[0].sinks[1]: no sink named \"nope\" in $.sinks");
    /* several problems in one object, each named */
    EXPECT_PROBLEMS(CONFIG(ROUTE(",\"tolerance\":\"0s\",\"allow\":[\"10.0.0.1/8\",\"x\"],"
                                 "\"type\":\"\",\"allow_unsigned\":1"),
                           ""),
                    "test.json: $.routes[0].tolerance: must be between 1s and 3650d",
                    "test.json: $.routes[0].allow[0]: host bits set after the prefix length",
                    "test.json: $.routes[0].allow[1]: must be an IPv4 or IPv6 address or CIDR",
                    "test.json: $.routes[0].allow_unsigned: must be true or false",
                    "test.json: $.routes[0].type: must be a non-empty string");
}

/* The document's own problems come before those of files, secrets and the
 * environment; a listener, sink or route with a problem of its own is not
 * also checked against files (it will be, once fixed). */
static void test_problems_structure_before_files(void)
{
    char json[2048];
    unsetenv("HG_TEST_UNSET");
    snprintf(json, sizeof(json),
             "{\"listen\":[{\"address\":\"127.0.0.1:8443\",\"tls\":{\"cert\":\"%s/no-cert.pem\","
             "\"key\":\"%s/no-key.pem\"}},{\"address\":\"127.0.0.1:8444\",\"tls\":{\"cert\":"
             "\"%s/no-cert.pem\",\"key\":\"%s/no-key.pem\",\"ca\":\"x\"}}]," SINKS ","
             "\"routes\":[{\"path\":\"/a\",\"profile\":\"generic\",\"secrets\":["
             "\"env:HG_TEST_UNSET\"],\"sinks\":[\"out\"],\"tolerence\":\"5m\"},"
             "{\"path\":\"/b\",\"profile\":\"generic\",\"secrets\":[\"env:HG_TEST_UNSET\"],"
             "\"sinks\":[\"out\"]}],\"dedupe_windw\":\"1d\"}",
             tmpdir, tmpdir, tmpdir, tmpdir);
    static const char unset[] =
        "test.json: $.routes[1].secrets[0]: environment variable HG_TEST_UNSET is not set or empty";
    char l3[PATHLEN + 128], l4[PATHLEN + 128];
    snprintf(l3, sizeof(l3), "test.json: $.listen[0].tls.cert: cannot read %s/no-cert.pem: %s",
             tmpdir, strerror(ENOENT));
    snprintf(l4, sizeof(l4), "test.json: $.listen[0].tls.key: cannot read %s/no-key.pem: %s",
             tmpdir, strerror(ENOENT));
    EXPECT_PROBLEMS(json,
                    "test.json: $.dedupe_windw: unknown key (did you mean \"dedupe_window\"?)",
                    "test.json: $.listen[1].tls.ca: unknown key",
                    "test.json: $.routes[0].tolerence: unknown key (did you mean \"tolerance\"?)",
                    l3, l4, unset);
    /* the same through the one-buffer API: the unknown key comes first */
    T_CHECK(load(json) == NULL);
    T_CHECK(strstr(err, "test.json: $.dedupe_windw: unknown key") == err);
    T_CHECK(strstr(err, "no-cert.pem") != NULL);
    /* sinks: a bad file of a well-formed sink is reported after the typo of another */
    snprintf(json, sizeof(json),
             "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"stdout\"},\"a\":{\"type\":\"http\","
             "\"url\":\"http://h/\",\"tls\":{\"ca\":\"%s/no-ca.pem\"}},\"b\":{\"type\":\"http\","
             "\"url\":\"http://h/\",\"tls\":{\"ca\":\"%s/no-ca.pem\"},\"timout\":\"1s\"}},"
             "\"routes\":[" ROUTE("") "]}",
             tmpdir, tmpdir);
    char l2[PATHLEN + 128];
    snprintf(l2, sizeof(l2), "test.json: $.sinks.a.tls.ca: cannot read %s/no-ca.pem", tmpdir);
    EXPECT_PROBLEMS(json, "test.json: $.sinks.b.timout: unknown key (did you mean \"timeout\"?)",
                    l2);
}

/* Every unknown key gets the nearest known key of its own object, when one
 * is close; the missing key it stands for is not reported a second time. */
static void test_problems_did_you_mean(void)
{
    EXPECT_PROBLEMS("{\"lisen\":[{\"address\":\"127.0.0.1:0\"}]," SINKS
                    ",\"routes\":[" ROUTE("") "]}",
                    "test.json: $.lisen: unknown key (did you mean \"listen\"?)");
    EXPECT_PROBLEMS("{\"listen\":[{\"adress\":\"127.0.0.1:0\"}]," SINKS
                    ",\"routes\":[" ROUTE("") "]}",
                    "test.json: $.listen[0].adress: unknown key (did you mean \"address\"?)");
    EXPECT_PROBLEMS("{\"listen\":[{\"address\":\"127.0.0.1:0\",\"tls\":{\"crt\":\"/etc/hostname\","
                    "\"key\":\"/etc/hostname\"}}]," SINKS ",\"routes\":[" ROUTE("") "]}",
                    "test.json: $.listen[0].tls.crt: unknown key (did you mean \"cert\"?)");
    EXPECT_PROBLEMS(CONFIG(ROUTE(""), ",\"limits\":{\"max_bdy\":\"1MiB\"},\"retry\":{"
                                      "\"max_attemps\":3},\"Threads\":2"),
                    "test.json: $.Threads: unknown key (did you mean \"threads\"?)",
                    "test.json: $.limits.max_bdy: unknown key (did you mean \"max_body\"?)",
                    "test.json: $.retry.max_attemps: unknown key (did you mean \"max_attempts\"?)");
    EXPECT_PROBLEMS(CONFIG("{\"path\":\"/a\",\"profle\":\"generic\"," SECRETS
                           ",\"sinks\":[\"out\"],\"shared_dedupe\":{\"jetstream_kv\":{"
                           "\"buckt\":\"b\",\"servers\":[\"nats://127.0.0.1:4222\"]}}}",
                           ""),
                    "test.json: $.routes[0].profle: unknown key (did you mean \"profile\"?)",
                    "test.json: $.routes[0].shared_dedupe.jetstream_kv.buckt: unknown key (did "
                    "you mean \"bucket\"?)");
    EXPECT_PROBLEMS(
        "{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"exec\",\"comand\":[\"/bin/true\"]},"
        "\"h\":{\"type\":\"http\",\"url\":\"http://h/\",\"sign\":{\"secert\":\"x\"},\"header\":{}},"
        "\"js\":{\"type\":\"jetstream\",\"servers\":[\"nats://h:4222\"],\"subject\":\"a.{type}\","
        "\"stream\":{\"name\":\"S\",\"replica\":3}}},\"routes\":[" ROUTE("") "]}",
        "test.json: $.sinks.out.comand: unknown key (did you mean \"command\"?)",
        "test.json: $.sinks.h.header: unknown key (did you mean \"headers\"?)",
        "test.json: $.sinks.h.sign.secert: unknown key (did you mean \"secret\"?)",
        "test.json: $.sinks.js.stream.replica: unknown key (did you mean \"replicas\"?)");
}

/* The issue's case: a sink whose "type" is misspelt says so, and only so. */
static void test_problems_sink_type_misspelt(void)
{
    EXPECT_PROBLEMS("{" LISTEN
                    ",\"sinks\":{\"stream\":{\"tpye\":\"stdout\"}},\"routes\":[{\"path\":"
                    "\"/a\",\"profile\":\"generic\"," SECRETS ",\"sinks\":[\"stream\"]}]}",
                    "test.json: $.sinks.stream.tpye: unknown key (did you mean \"type\"?)");
    /* keys of another sink type are not held against a sink without a type */
    EXPECT_PROBLEMS("{" LISTEN ",\"sinks\":{\"out\":{\"tpye\":\"http\",\"url\":\"http://h/\","
                    "\"topic\":\"t\"}},\"routes\":[" ROUTE("") "]}",
                    "test.json: $.sinks.out.tpye: unknown key (did you mean \"type\"?)",
                    "test.json: $.sinks.out.topic: unknown key");
    /* a misspelt type value gets the nearest type, when there is one */
    EXPECT_PROBLEMS("{" LISTEN
                    ",\"sinks\":{\"out\":{\"type\":\"stdot\"}},\"routes\":[" ROUTE("") "]}",
                    "test.json: $.sinks.out.type: unknown sink type \"stdot\" (did you mean "
                    "\"stdout\"?)");
    EXPECT_PROBLEMS("{" LISTEN
                    ",\"sinks\":{\"out\":{\"type\":\"JetStream\"}},\"routes\":[" ROUTE("") "]}",
                    "test.json: $.sinks.out.type: unknown sink type \"JetStream\" (did you mean "
                    "\"jetstream\"?)");
    EXPECT_PROBLEMS("{" LISTEN
                    ",\"sinks\":{\"out\":{\"type\":\"kafka\"}},\"routes\":[" ROUTE("") "]}",
                    "test.json: $.sinks.out.type: unknown sink type \"kafka\"");
    /* a type missing without a misspelling is still required */
    EXPECT_PROBLEMS("{" LISTEN
                    ",\"sinks\":{\"out\":{\"types\":[\"a\"]}},\"routes\":[" ROUTE("") "]}",
                    "test.json: $.sinks.out.type: is required: \"stdout\", \"exec\", \"unix\", "
                    "\"pipe\", \"http\" or \"jetstream\"");
}

/* One mistake, one line: what depends on a broken part is not reported
 * against the parts that depend on it. */
static void test_problems_no_cascade(void)
{
    /* a sink with a problem is still there for the routes naming it */
    EXPECT_PROBLEMS("{" LISTEN ",\"sinks\":{\"out\":{\"type\":\"unix\",\"path\":\"rel.sock\"}},"
                    "\"routes\":[" ROUTE("") "]}",
                    "test.json: $.sinks.out.path: must be an absolute path shorter than 108 bytes");
    /* without usable sinks, routes' sink names are not looked up */
    EXPECT_PROBLEMS("{" LISTEN ",\"sinks\":[],\"routes\":[" ROUTE("") "]}",
                    "test.json: $.sinks: must be an object of named sinks (1 to 64)");
    EXPECT_PROBLEMS("{" LISTEN "}",
                    "test.json: $.sinks: must be an object of named sinks (1 to 64)",
                    "test.json: $.routes: must be a non-empty array of routes");
    /* a path used twice is one line (the name taken from it collides too);
     * a reserved path is compared with no other */
    EXPECT_PROBLEMS(CONFIG(ROUTE("") ",{\"path\":\"/healthz\",\"profile\":\"generic\"," SECRETS
                                     ",\"sinks\":[\"out\"]}," ROUTE(""),
                           ""),
                    "test.json: $.routes[1].path: /healthz is reserved",
                    "test.json: $.routes[2]: path /hooks/gh is already used by $.routes[0]");
    /* with profile_dirs unusable, no route is told its profile is unknown */
    EXPECT_PROBLEMS(CONFIG("{\"path\":\"/a\",\"profile\":\"acme\"," SECRETS ",\"sinks\":[\"out\"]}",
                           ",\"profile_dirs\":[1]"),
                    "test.json: $.profile_dirs[0]: must be a non-empty string");
}

/* At most CONFIG_MAX_PROBLEMS lines, then how many were left out; the
 * one-buffer API keeps whole lines and says how many did not fit. */
static void test_problems_bounded(void)
{
    char json[4096] = "{" LISTEN "," SINKS ",\"routes\":[" ROUTE("") "]";
    for (int i = 0; i < 60; i++) {
        char k[32];
        snprintf(k, sizeof(k), ",\"k%02d\":1", i);
        append(json, sizeof(json), k);
    }
    append(json, sizeof(json), "}");
    struct config *c = NULL;
    char *got = NULL;
    T_EQ_INT(config_load_string_all(json, "test.json", &c, &got), HG_ECONFIG);
    T_CHECK(c == NULL && got != NULL);
    size_t lines = 1;
    for (const char *q = got; q && *q; q++)
        lines += *q == '\n';
    T_EQ_INT(lines, CONFIG_MAX_PROBLEMS + 1);
    T_CHECK(got && strstr(got, "test.json: $.k00: unknown key\ntest.json: $.k01: unknown key\n"));
    T_CHECK(got && strstr(got, "\ntest.json: $.k49: unknown key\n... 10 more problems") &&
            !strcmp(strrchr(got, '\n'), "\n... 10 more problems"));
    free(got);

    char small[120];
    T_EQ_INT(config_load_string(json, "test.json", &c, small, sizeof(small)), HG_ECONFIG);
    T_EQ_STR(small, "test.json: $.k00: unknown key\ntest.json: $.k01: unknown key\n"
                    "... 58 more problems");
    char tiny[12];
    T_EQ_INT(config_load_string(json, "test.json", &c, tiny, sizeof(tiny)), HG_ECONFIG);
    T_EQ_STR(tiny, "test.json: ");
    /* one problem: the buffer holds just it, no "more" line */
    T_EQ_INT(
        config_load_string(CONFIG(ROUTE(""), ",\"k\":1"), "test.json", &c, small, sizeof(small)),
        HG_ECONFIG);
    T_EQ_STR(small, "test.json: $.k: unknown key");
    T_CHECK(c == NULL);
    /* success: no text */
    got = (char *)"x";
    T_EQ_INT(config_load_string_all(MINIMAL, "test.json", &c, &got), HG_OK);
    T_CHECK(got == NULL && c != NULL);
    config_free(c);
}

/* The suggestion rule itself: a few edits for a long word, one for a short. */
static void test_suggest(void)
{
    static const char *const keys[] = {"type",  "types", "secrets",      "listen",
                                       "token", "name",  "max_attempts", NULL};
    T_EQ_STR(cfgp_suggest("tpye", keys), "type");               /* swap */
    T_EQ_STR(cfgp_suggest("secrtes", keys), "secrets");         /* swap */
    T_EQ_STR(cfgp_suggest("lisen", keys), "listen");            /* deletion */
    T_EQ_STR(cfgp_suggest("Name", keys), "name");               /* case */
    T_EQ_STR(cfgp_suggest("typ", keys), "type");                /* ties: the first */
    T_EQ_STR(cfgp_suggest("max_atempt", keys), "max_attempts"); /* 2 edits in 10 */
    T_CHECK(cfgp_suggest("attempts", keys) == NULL);            /* 4 edits */
    T_CHECK(cfgp_suggest("tkn", keys) == NULL);                 /* 2 edits in 3 */
    T_CHECK(cfgp_suggest("x", keys) == NULL);
    T_CHECK(cfgp_suggest("", keys) == NULL);
    T_CHECK(cfgp_suggest("type", NULL) == NULL);
    char longword[200];
    memset(longword, 't', sizeof(longword) - 1);
    longword[sizeof(longword) - 1] = '\0';
    T_CHECK(cfgp_suggest(longword, keys) == NULL);
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
    T_RUN(test_former_reserved_route_keys_supported);
    T_RUN(test_tls_client_ca_and_admin);
    T_RUN(test_operations_keys);
    T_RUN(test_lockout_limits);
    T_RUN(test_world_readable_secret_file);
    T_RUN(test_unknown_sink_types);
    T_RUN(test_exec_sink);
    T_RUN(test_http_sink_defaults);
    T_RUN(test_http_sink_values);
    T_RUN(test_http_sink_errors);
    T_RUN(test_jetstream_sink_defaults);
    T_RUN(test_jetstream_sink_values);
    T_RUN(test_jetstream_sink_errors);
    T_RUN(test_bad_size);
    T_RUN(test_bad_duration);
    T_RUN(test_bad_integers_and_enums);
    T_RUN(test_bad_address_or_port);
    T_RUN(test_tls_files);
    T_RUN(test_unknown_profile);
    T_RUN(test_builtin_profiles);
    T_RUN(test_profile_dirs);
    T_RUN(test_unknown_sink_reference);
    T_RUN(test_route_path_rules);
    T_RUN(test_duplicate_path);
    T_RUN(test_duplicate_route_name);
    T_RUN(test_route_names);
    T_RUN(test_tolerance);
    T_RUN(test_allow_list);
    T_RUN(test_allow_list_errors);
    T_RUN(test_route_token);
    T_RUN(test_route_token_errors);
    T_RUN(test_allow_unsigned);
    T_RUN(test_route_type);
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
    T_RUN(test_problems_all_reported_in_order);
    T_RUN(test_problems_structure_before_files);
    T_RUN(test_problems_did_you_mean);
    T_RUN(test_problems_sink_type_misspelt);
    T_RUN(test_problems_no_cascade);
    T_RUN(test_problems_bounded);
    T_RUN(test_suggest);
    T_RUN(test_trusted_proxies);
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return t_finish();
}
