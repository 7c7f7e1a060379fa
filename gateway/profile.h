/*
 * profile.h - what a producer sends: how it signs, where id/type/time live.
 *
 * A profile is data, not code: verify.c and http.c interpret it.  Adding a
 * producer whose scheme is a known shape means adding a table entry (and, in
 * a later release, a JSON file in schemas/profiles/), never a new code path.
 *
 * Signed content is a template over the raw request: literal text plus the
 * placeholders {body}, {body_sha256} (hex), {id}, {type}, {timestamp},
 * {nonce}; placeholders other than {body}/{body_sha256} take the header
 * values named by the profile.
 */
#ifndef HG_PROFILE_H
#define HG_PROFILE_H

enum prof_src { PROF_NONE = 0, PROF_HEADER, PROF_BODY };

/* prof_field - one place a value may be found; lists end at src == PROF_NONE. */
struct prof_field {
    enum prof_src src;
    const char *name; /* header name, or top-level JSON key */
};

enum prof_enc { PROF_ENC_HEX = 0, PROF_ENC_BASE64 };

#define PROF_MAX_FIELDS 6

struct profile {
    const char *name;
    const char *sig_header;       /* header carrying the signature */
    const char *sig_prefix;       /* optional prefix before the digest ("sha256="), or NULL */
    int sig_prefix_optional;      /* 1: the bare digest is accepted too */
    enum prof_enc sig_enc;        /* how the digest is written */
    const char *signed_template;  /* see above */
    const char *timestamp_header; /* unix seconds; NULL if the scheme has none */
    long tolerance_s;             /* default replay window when timestamped */
    const char *nonce_header;     /* NULL if none */
    int needs_json;               /* 1: a body that is not JSON is a 400 */
    struct prof_field id[PROF_MAX_FIELDS];   /* first found wins */
    struct prof_field type[PROF_MAX_FIELDS]; /* first found wins; none -> "unknown" */
    struct prof_field time[PROF_MAX_FIELDS]; /* RFC 3339 string or unix seconds */
};

/* profile_find - the built-in profile called name, or NULL.  The returned
 * profile is static and lives for the whole process. */
const struct profile *profile_find(const char *name);

/* profile_names - comma-separated list of the built-in names, for messages. */
const char *profile_names(void);

#endif
