/*
 * secret.h - where a secret comes from: "env:NAME", "file:PATH" or the value
 * itself (a literal).
 *
 * One loader for every place that takes a secret source (`sign -s` and
 * `send-test -s` now; the config's secrets, tokens and sign.secret can use
 * it as well), so each says the same precise thing when a source is
 * unusable.  A reason names the variable or the file and the cause, never
 * a byte of the secret, so it may be printed or logged as is.
 */
#ifndef HG_SECRET_H
#define HG_SECRET_H

#include <stddef.h>

/* secret - bytes of one secret (not a C string: may contain any byte). */
struct secret {
    unsigned char *data;
    size_t len;
};

#define SECRET_MAX 4096 /* the largest secret file, in bytes, its trailing newline included */

/* secret_from - which kind of source a secret came from (the config warns
 * about literals, which end up in files and process lists). */
enum secret_from { SECRET_LITERAL = 0, SECRET_ENV, SECRET_FILE };

/* secret_load flags */
/* refuse a file other users may read (o+r), and anything but a regular file
 * (a FIFO would block the caller), as serve, check and reload do */
#define SECRET_FILE_PRIVATE 0x1u

/* secret_load - resolve the source src into out.
 *   "env:NAME"  the variable's value; unset or empty is an error;
 *   "file:PATH" the whole file, at most SECRET_MAX bytes, with one trailing
 *               LF or CRLF removed; a larger file is refused, never cut;
 *   otherwise   src itself.
 * @param[in]  src    the source text (NUL-terminated)
 * @param[in]  flags  0 or SECRET_FILE_PRIVATE
 * @param[out] out    on HG_OK: data malloc'd, NUL-terminated after len bytes
 *                    (it may hold NUL bytes of its own), len > 0; the caller
 *                    releases it with secret_free.  Untouched on error.
 * @param[out] from   the kind of source (may be NULL); set even on error
 * @param[out] why    on HG_EINVAL, one line without the secret (whylen > 0):
 *                    "environment variable NAME is not set or empty",
 *                    "cannot read secret file PATH: <strerror>",
 *                    "secret file PATH is readable by other users; chmod o-r it",
 *                    "secret file PATH is not a regular file" (SECRET_FILE_PRIVATE),
 *                    "secret file PATH is larger than 4096 bytes",
 *                    "secret is empty" (a literal) or
 *                    "secret is empty (secret file PATH)"
 * @return HG_OK, HG_EINVAL (why says which of the above) or HG_ENOMEM.
 * Every partial copy of the secret is wiped before an error return. */
int secret_load(const char *src, unsigned flags, struct secret *out, enum secret_from *from,
                char *why, size_t whylen);

/* secret_free - wipe (OPENSSL_cleanse) and free s->data, then zero *s.
 * NULL-safe, and safe on a zeroed or already freed struct secret. */
void secret_free(struct secret *s);

#endif
