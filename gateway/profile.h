/*
 * profile.h - what a producer sends: how it signs, where id/type/time live.
 *
 * A profile is data, not code: a JSON file (docs/profiles.md, schemas/
 * profile.schema.json) loaded into a struct profile that verify.c and http.c
 * interpret.  The built-in profiles are the files of schemas/profiles/,
 * compiled into the binary; a config may add directories of its own.
 *
 * A profile set is built once, read-only afterwards, and owned by the config
 * that loaded it; every route points into it.
 */
#ifndef HG_PROFILE_H
#define HG_PROFILE_H

#include <stddef.h>

#define PROF_MAX_SRC 8 /* sources per field */
#define PROF_MAX_HDR 4 /* header names per signature/token list */
#define PROF_MAX_VER 4 /* version tags of kv/list signatures */

enum prof_src { PROF_NONE = 0, PROF_HEADER, PROF_POINTER, PROF_SIG };

/* prof_field - one place a value may be found; lists end at src == PROF_NONE.
 * For PROF_POINTER, name is the JSON pointer and key the top-level member
 * when the pointer has exactly one unescaped token (the fast path), else NULL. */
struct prof_field {
    enum prof_src src;
    char *name;
    char *key;
};

enum prof_fmt {
    PROF_FMT_NONE = 0,
    PROF_FMT_VALUE,
    PROF_FMT_KV,
    PROF_FMT_LIST,
    PROF_FMT_TOKEN,
    PROF_FMT_BASIC, /* Authorization: Basic; the secrets are "user:password" */
    PROF_FMT_JWT    /* a JWS in a header (struct prof_jwt) */
};
enum prof_alg {
    PROF_ALG_HMAC_SHA256 = 0,
    PROF_ALG_HMAC_SHA1,
    PROF_ALG_HMAC_SHA512,
    PROF_ALG_ED25519,
    PROF_ALG_ECDSA_P256 /* ECDSA P-256 with SHA-256, DER signature */
};
enum prof_enc { PROF_ENC_HEX = 0, PROF_ENC_BASE64, PROF_ENC_BASE64URL };
enum prof_ts_unit { PROF_TS_S = 0, PROF_TS_MS, PROF_TS_RFC3339 };

#define PROF_MAX_COND 4 /* conditions of one handshake / type_when */
#define PROF_MAX_HS   4 /* handshakes of one profile */
#define PROF_MAX_ISS  4 /* accepted JWT issuers */

/* prof_cond - a request property a handshake or type_when tests: a JSON
 * member, a query parameter or a header, equal to `equals` (or, when that
 * is NULL, present and not empty). */
enum prof_cond_src { PROF_COND_POINTER = 1, PROF_COND_QUERY, PROF_COND_HEADER };
struct prof_cond {
    enum prof_cond_src src;
    char *name;
    char *equals;
};

/* prof_val - a value a handshake answers with: taken from the request, a
 * literal, or an HMAC (keyed by the route's first secret) of another. */
enum prof_val_kind {
    PROF_VAL_NONE = 0,
    PROF_VAL_POINTER,
    PROF_VAL_QUERY,
    PROF_VAL_HEADER,
    PROF_VAL_LITERAL,
    PROF_VAL_HMAC
};
struct prof_val {
    enum prof_val_kind kind;
    char *name; /* pointer, query or header name, or the literal */
    enum prof_alg alg;
    enum prof_enc enc;
    char *prefix;
    struct prof_val *of; /* PROF_VAL_HMAC */
};

struct prof_hs_field {
    char *name;
    struct prof_val v;
};

enum prof_hs_verify { PROF_HS_NONE = 0, PROF_HS_SIGNATURE, PROF_HS_VERIFY_TOKEN };

/* prof_handshake - a registration challenge, answered at once and never
 * stored: matched on method and conditions, verified, answered. */
struct prof_handshake {
    char *name;
    char *method; /* "POST", "GET" or "HEAD" */
    struct prof_cond when[PROF_MAX_COND];
    size_t nwhen;
    enum prof_hs_verify verify;
    char *vt_query; /* PROF_HS_VERIFY_TOKEN: the query parameter */
    unsigned status;
    char *ctype;           /* NULL: none (empty body) */
    struct prof_map *hdrs; /* extra answer headers */
    size_t nhdrs;
    struct prof_val text;       /* text body, or kind NONE */
    struct prof_hs_field *json; /* JSON object body of strings */
    size_t njson;
};

struct prof_type_when {
    struct prof_cond when[PROF_MAX_COND];
    size_t nwhen;
    char *type;
};

/* prof_jwt - what a PROF_FMT_JWT signature must satisfy (jwt.h; the bits
 * are jwt.h's JWT_* values). */
#define PROF_JWT_HS256 0x1u
#define PROF_JWT_RS256 0x2u
#define PROF_JWT_ES256 0x4u
struct prof_jwt {
    unsigned algs; /* PROF_JWT_* */
    char *iss[PROF_MAX_ISS];
    size_t niss;
    char *aud; /* template: "{url}" or a literal; NULL: not checked */
    char *sub; /* template, or NULL */
    char *body_claim;
    int body_hex;
    long leeway_s;
    char *route_claims[PROF_MAX_ISS]; /* claims each route must pin in "jwt_claims" */
    size_t nroute_claims;
};
enum prof_secret { PROF_SECRET_RAW = 0, PROF_SECRET_WHSEC };

struct prof_map {
    char *from, *to;
};

struct prof_version {
    char *tag;
    enum prof_alg alg;
};

struct profile {
    char *name;
    char *file;        /* where it came from, for messages */
    char *description; /* "description", or NULL */
    char *proof;       /* "proof": what proves it ("sdk: twilio 6.3.1 ..."), or NULL */
    char *source;      /* the profile's JSON, indented (hookgate profiles show) */
    int is_unsigned;
    enum prof_fmt fmt;                    /* PROF_FMT_NONE when is_unsigned */
    char *sig_header[PROF_MAX_HDR + 1];   /* NULL-terminated; first present wins */
    char *token_header[PROF_MAX_HDR + 1]; /* token format; NULL-terminated */
    char *sig_pointer;                    /* the signature is this member of a JSON body */
    char kv_sep;                          /* kv: the entry separator (',') */
    char *token_prefix;                   /* token: stripped when present ("Bearer ") */
    char *token_pointer;                  /* token: "/value/ * /clientState" (every item) */
    int covers_body;                      /* the signed content covers the body */
    struct prof_jwt jwt;                  /* format jwt */
    char *sig_prefix;                     /* value format, or NULL */
    int sig_prefix_optional;
    enum prof_alg alg; /* value format */
    struct prof_version ver[PROF_MAX_VER];
    size_t nver; /* kv/list formats */
    enum prof_enc enc;
    char *content; /* signed-content template */
    enum prof_secret secret;
    int has_timestamp;
    struct prof_field ts[PROF_MAX_SRC + 1];
    int ts_ms; /* unit ms */
    enum prof_ts_unit ts_unit;
    long tolerance_s;
    int reject_future;
    struct prof_field id[PROF_MAX_SRC + 1];
    struct prof_field type[PROF_MAX_SRC + 1];
    struct prof_field time[PROF_MAX_SRC + 1];
    struct prof_field nonce[PROF_MAX_SRC + 1];
    int id_fallback_sha256;
    struct prof_map *type_map;
    size_t ntype_map;
    int needs_json;
    int needs_tree; /* some pointer is nested: the body is parsed with jansson */
    struct prof_handshake hs[PROF_MAX_HS];
    size_t nhs;
    struct prof_type_when *type_when;
    size_t ntype_when;
    unsigned accept_status; /* the answer to an accepted event: 200, 202 or 204 */
    int accept_empty;       /* ... with an empty body */
    char *test_type;
    char *test_body;                   /* compact JSON text, or NULL */
    struct prof_field test_missing[2]; /* [0]: PROF_POINTER or PROF_NONE; [1] ends the list */
};

struct profile_set;

/* profile_set_load - the built-in profiles plus every *.json file of each
 * directory in dirs (NULL-terminated, may be NULL).  On error returns
 * HG_ECONFIG (or HG_ENOMEM) with "<file>: $.json.path: what" in err. */
int profile_set_load(const char *const *dirs, struct profile_set **out, char *err, size_t errlen);

/* profile_set_free - NULL-safe. */
void profile_set_free(struct profile_set *s);

/* profile_find - the profile called name in s, or NULL; it lives as long as s. */
const struct profile *profile_find(const struct profile_set *s, const char *name);

/* profile_names - comma-separated names in s, for messages (owned by s). */
const char *profile_names(const struct profile_set *s);

/* profile_type_map - the mapped type of t, or t itself when not mapped. */
const char *profile_type_map(const struct profile *p, const char *t);

/* profile_count / profile_at - the profiles of s, in load order (built-in
 * first, by file name). */
size_t profile_count(const struct profile_set *s);
const struct profile *profile_at(const struct profile_set *s, size_t i);

/* profile_uses - 1 if the template of p contains placeholder ph ("{id}"). */
int profile_uses(const struct profile *p, const char *ph);

#endif
