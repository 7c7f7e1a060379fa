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

enum prof_fmt { PROF_FMT_NONE = 0, PROF_FMT_VALUE, PROF_FMT_KV, PROF_FMT_LIST, PROF_FMT_TOKEN };
enum prof_alg {
    PROF_ALG_HMAC_SHA256 = 0,
    PROF_ALG_HMAC_SHA1,
    PROF_ALG_HMAC_SHA512,
    PROF_ALG_ED25519
};
enum prof_enc { PROF_ENC_HEX = 0, PROF_ENC_BASE64 };
enum prof_secret { PROF_SECRET_RAW = 0, PROF_SECRET_WHSEC };

struct prof_version {
    char *tag;
    enum prof_alg alg;
};

struct prof_map {
    char *from, *to;
};

struct profile {
    char *name;
    char *file; /* where it came from, for messages */
    int is_unsigned;
    enum prof_fmt fmt;                    /* PROF_FMT_NONE when is_unsigned */
    char *sig_header[PROF_MAX_HDR + 1];   /* NULL-terminated; first present wins */
    char *token_header[PROF_MAX_HDR + 1]; /* token format; NULL-terminated */
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
    int ts_ms;
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

/* profile_uses - 1 if the template of p contains placeholder ph ("{id}"). */
int profile_uses(const struct profile *p, const char *ph);

#endif
