/*
 * config.h - the JSON configuration, parsed strictly into plain structs.
 *
 * Strict means: an unknown or mistyped key is an error naming its JSON path
 * ("$.routes[1].secrtes: unknown key (did you mean \"secrets\"?)"), because a
 * typo must never silently disable a security setting.  Keys the contract
 * reserves for features this build does not have yet are refused with "not
 * supported by this build" rather than ignored.  Secrets are resolved
 * (env:/file:/literal) at load, so a config that loads is a config that can
 * run.  A load reports every problem it finds, the document's own first
 * (keys, types, values, references), then those of files, secrets and the
 * environment: a missing certificate never hides a typo.
 *
 * Ownership: config_load_* returns a struct config the caller frees with
 * config_free; everything hangs off it.  It is shared by all threads, and
 * every field is immutable after load except these three, each written by
 * one function on the main thread:
 *  - cfg_route.mx and cfg_sink.mx: metrics_bind, called by metrics_init at
 *    start and by reload_apply on a new config, before http_start /
 *    http_reload hand the config to other threads;
 *  - cfg_route.shd: shdedupe_attach, by reload_apply before http_reload, and
 *    at start by main after http_start and deliver_start, while requests
 *    may already read it (NULL until then: local dedupe only).
 * Nothing else writes into a loaded config (the profiles and verifiers it
 * owns are read-only too).
 */
#ifndef HG_CONFIG_H
#define HG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fwd.h"
#include "verify.h"

struct profile;

struct cfg_listener {
    char *address; /* as written, for logs */
    char *host;    /* numeric IPv4/IPv6 address */
    unsigned port; /* 0 = ephemeral (tests); the bound port is logged */
    int tls;
    char *cert; /* PEM file paths when tls */
    char *key;
    char *client_ca;  /* tls.client_ca: PEM CA bundle; clients must present a cert it signed */
    char *priorities; /* tls.priorities, else CONFIG_TLS_PRIORITIES (checked at load) */
    int admin;        /* serves /healthz, /readyz and /metrics only */
    struct fwd_cidr *trusted; /* trusted_proxies (fwd.h), or NULL */
    size_t ntrusted;
};

/* CONFIG_TLS_PRIORITIES - the GnuTLS priority string of a TLS listener
 * without tls.priorities: TLS 1.3 as GnuTLS offers it, and TLS 1.2 only
 * with ECDHE key exchange and AEAD ciphers (AES-GCM, ChaCha20-Poly1305):
 * no static-RSA key exchange (no forward secrecy), no CBC/SHA-1 suites. */
#define CONFIG_TLS_PRIORITIES                                                                      \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-CIPHER-ALL:"      \
    "+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"

enum sink_type { SINK_STDOUT = 0, SINK_EXEC, SINK_UNIX, SINK_PIPE, SINK_HTTP, SINK_JETSTREAM };

struct cfg_sink {
    char *name;
    int mx; /* metrics slot (metrics_bind) */
    enum sink_type type;
    char **types; /* glob filters on the event type; NULL-terminated; NULL = all */
    /* exec: */
    char **command;       /* argv, NULL-terminated; run without a shell */
    char **env;           /* names passed through from hookgate's environment */
    unsigned concurrency; /* events handled at once (1) */
    uint64_t timeout_ms;  /* per attempt; the process group is killed (30 s) */
    /* http: */
    char *url;
    char **headers; /* "Name: value" strings, NULL-terminated */
    int binary;     /* format "binary": the producer's body + ce-* headers */
    char *tls_ca, *tls_cert, *tls_key;
    struct secret sign; /* sign.secret (whsec_...), len 0 = not signed */
    /* jetstream (window: concurrency; ack timeout: timeout_ms; tls_*): */
    char **servers;    /* nats:// URLs, NULL-terminated */
    char *subject;     /* template over {route} {type} {id} */
    char *stream;      /* stream name */
    int stream_create; /* create (or check) the stream at start */
    unsigned replicas; /* 1..5 */
    uint64_t dup_window_ms;
    char *creds; /* NATS credentials file, or NULL */
    /* unix (and http's unix_socket): */
    char *path;              /* the consumer's listening socket */
    int ack;                 /* 1: delivered only once the consumer echoes the id */
    uint64_t ack_timeout_ms; /* wait for a batch's acks (30 s) */
};

/* cfg_cidr - one entry of a route's "allow" list (IPv4 kept as v4-mapped v6). */
struct cfg_cidr {
    unsigned char addr[16];
    unsigned bits; /* prefix length over the 128-bit form */
};

struct cfg_route {
    char *path; /* exact request path, e.g. "/hooks/iex" */
    char *name; /* "hookgateroute": the "name" key, else the last path segment */
    const struct profile *profile;
    struct secret *secrets;
    size_t nsecrets;
    long tolerance_s;
    size_t *sinks; /* indexes into config.sinks */
    size_t nsinks;
    struct verifier *verifier; /* built at load */
    struct cfg_cidr *allow;    /* NULL = any source address */
    size_t nallow;
    int has_token;               /* "token": the request must present it */
    unsigned char token_sha[32]; /* SHA-256 of the token (constant-time compare) */
    int allow_unsigned;          /* "allow_unsigned": true */
    int keep_rejected_bodies;    /* the rejected ring keeps this route's bodies (64 KiB) */
    int has_vtoken;              /* "verify_token": a handshake's shared token */
    unsigned char vtoken_sha[32];
    char *public_url;     /* "public_url": the URL producers sign ({url}), or NULL */
    char *type;           /* "type": fixed event type, or NULL */
    int takes_token;      /* a token may be the last path segment */
    int mx;               /* metrics slot (metrics_bind) */
    char *shd_bucket;     /* shared_dedupe.jetstream_kv.bucket, or NULL */
    char **shd_servers;   /* its NATS servers (NULL-terminated) */
    uint64_t shd_ttl_ms;  /* = dedupe_window */
    struct shdedupe *shd; /* connected at serve (shdedupe_attach) */
};

struct config {
    char *source;                 /* file path, or "(embedded default)" */
    char **profile_dirs;          /* NULL-terminated, or NULL */
    struct profile_set *profiles; /* built-in + profile_dirs; routes point into it */
    struct cfg_listener *listeners;
    size_t nlisteners;
    char *data_dir;
    uint64_t max_body;
    unsigned max_connections;
    unsigned max_conns_per_ip; /* limits.max_connections_per_ip as written; 0 = not set or off */
    unsigned conns_per_ip;     /* cap in force: as written, else max(8, max_connections / 16) */
    uint64_t body_budget;      /* limits.unauthenticated_body_budget in bytes; 0 = none */
    double rate_per_ip;        /* requests/s per source address; 0 = no limit */
    unsigned rate_burst;       /* token bucket size */
    uint64_t max_header_size;  /* request line + headers */
    uint64_t shutdown_timeout_ms;
    char *user; /* switch to this user after binding, when started as root */
    uint64_t request_timeout_ms;
    uint64_t max_store_size;
    uint64_t dedupe_window_ms;
    unsigned retry_max_attempts;
    uint64_t retry_initial_ms;
    uint64_t retry_max_ms;
    unsigned threads;        /* HTTP worker threads per listener */
    uint64_t gc_interval_ms; /* retention sweep period (60 s) */
    int log_level;
    struct cfg_route *routes;
    size_t nroutes;
    struct cfg_sink *sinks;
    size_t nsinks;
    /* "admin": the operator's console (console.h) and the rejected ring */
    struct secret admin_token;    /* admin.token; .data NULL = the console is off */
    unsigned rejected_max;        /* admin.rejected_max: rejected requests kept (10,000) */
    uint64_t rejected_max_age_ms; /* admin.rejected_max_age (7 days) */
};

/* CONFIG_MAX_PROBLEMS - a load reports at most this many problems; one more
 * line says how many were left out ("... N more problems"). */
#define CONFIG_MAX_PROBLEMS 50

/* config_load_file_all - read and validate path, reporting every problem.
 * HG_OK: *out is the config, *problems NULL.  HG_ECONFIG (HG_ENOMEM when
 * the file does not fit in memory): *out untouched, *problems a malloc'd
 * text the caller frees (NULL only when out of memory), one line per
 * problem, "<file>: <json path>: <what is wrong>", joined by '\n' without
 * a trailing one.  First come the problems of the document itself: unknown
 * keys (with the nearest known key when one is close: 'unknown key (did
 * you mean "type"?)'), types, missing keys, values, references between
 * routes and sinks; then, for each listener, sink and route without such a
 * problem, those of files, secrets, the environment and profile_dirs.
 * After CONFIG_MAX_PROBLEMS lines, the last says "... N more problems".
 * An unreadable file or invalid JSON is one line. */
int config_load_file_all(const char *path, struct config **out, char **problems);

/* config_load_string_all - the same from a JSON text; name is used in the
 * messages. */
int config_load_string_all(const char *json, const char *name, struct config **out,
                           char **problems);

/* config_load_file - config_load_file_all writing the problems into err
 * (errlen > 0): as many whole lines as fit, joined by '\n', then "... N more
 * problems" for the rest.  Returns HG_ECONFIG (or HG_ENOMEM) on error. */
int config_load_file(const char *path, struct config **out, char *err, size_t errlen);

/* config_load_string - the same from a JSON text; name is used in messages. */
int config_load_string(const char *json, const char *name, struct config **out, char *err,
                       size_t errlen);

/* CONFIG_DEFAULT_DATA_DIR - data_dir when a config names none, and the
 * embedded default's (the events commands look there without -c). */
#define CONFIG_DEFAULT_DATA_DIR "./hookgate-data"

/* config_load_default - the embedded default (contract section 4): HTTP on
 * 127.0.0.1:8080, route /webhooks (generic) -> stdout, data in ./hookgate-data,
 * secret $HOOKGATE_SECRET or a random one kept in ./hookgate-data/secret.
 * *secret_path (may be NULL) gets the generated file's path or NULL. */
int config_load_default(struct config **out, char **secret_path, char *err, size_t errlen);

/* config_free - release everything, wiping secrets.  NULL-safe. */
void config_free(struct config *c);

/* config_print - the effective listeners, routes and sinks, for `check`. */
void config_print(const struct config *c, FILE *f);

/* config_route_find - the route whose path is exactly path, or NULL. */
const struct cfg_route *config_route_find(const struct config *c, const char *path);

/* config_route_match - the route for request path url: an exact match, or
 * ROUTE/TOKEN for a route that takes a token in the path, in which case
 * *token points at TOKEN inside url (else NULL).  NULL if none. */
const struct cfg_route *config_route_match(const struct config *c, const char *url,
                                           const char **token);

/* config_route_redact - url as it may be logged: for a path under a route
 * that takes tokens, the route path (the rest may be a token); a route's
 * own path as it is; any other url (a mistyped route may still carry a
 * token) into buf by mask_path: the longest prefix of whole segments it
 * shares with a route's path as it is, every later segment as "...",
 * whatever it holds.  Returns one of the three; buf is always used for the
 * last. */
const char *config_route_redact(const struct config *c, const char *url, char *buf, size_t cap);

/* config_route_allows - 1 if the route's "allow" list admits address sa
 * (any address when the route has no list). */
struct sockaddr;
int config_route_allows(const struct cfg_route *r, const struct sockaddr *sa);

#endif
