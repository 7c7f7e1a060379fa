/*
 * profile_int.h - what profile.c and profile_ext.c share (not for other
 * modules): the loader's second half, which reads a profile's handshakes,
 * type_when and accept (profile_ext.c).
 */
#ifndef HG_PROFILE_INT_H
#define HG_PROFILE_INT_H

#include <jansson.h>

struct ctx;
struct profile;

/* profile_ext_parse - $.handshakes, $.type_when and $.accept of root into p
 * (p's signature and is_unsigned already read).  HG_OK, HG_ECONFIG
 * (reported through x) or HG_ENOMEM; p is freed by the caller either way. */
int profile_ext_parse(struct ctx *x, json_t *root, struct profile *p);

/* profile_header_list - v, a header name or a list of 1..PROF_MAX_HDR
 * names, into out (NULL-terminated). */
int profile_header_list(struct ctx *x, const char *path, json_t *v, char **out);

/* profile_ext_jwt - format jwt's keys of $.signature o: header (+ prefix)
 * and $.signature.jwt. */
int profile_ext_jwt(struct ctx *x, json_t *o, struct profile *p);

/* profile_ext_free - what profile_ext_parse allocated in p (not p itself). */
void profile_ext_free(struct profile *p);

#endif
