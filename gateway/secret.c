/*
 * secret.c - a secret from its source: env:NAME, file:PATH or a literal
 * (see secret.h).
 *
 * The value goes straight into one heap buffer (never a stack copy) and a
 * buffer that is given up - a file found too large, a failed read - is
 * wiped before it is freed.  A file is read to SECRET_MAX + 1 bytes so that
 * "too large" is seen rather than the secret cut.  The reasons use the
 * wording the config loader has always used, so `hookgate check` and
 * `hookgate sign` say the same thing about the same source.
 */
#include "secret.h"
#include "err.h"
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* give_up - wipe and free a buffer that held (part of) a secret. */
static void give_up(unsigned char *p, size_t n)
{
    if (p)
        OPENSSL_cleanse(p, n);
    free(p);
}

/* read_file - the whole of file (at most SECRET_MAX bytes) into *data and *len,
 * one trailing LF or CRLF removed; *data has SECRET_MAX + 1 bytes. */
static int read_file(const char *file, unsigned flags, unsigned char **data, size_t *len, char *why,
                     size_t whylen)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (serve, check
     * and a reload read secrets on the main thread) */
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(why, whylen, "cannot read secret file %s: %s", file, strerror(errno));
        return HG_EINVAL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        snprintf(why, whylen, "cannot read secret file %s: %s", file, strerror(e));
        return HG_EINVAL;
    }
    if ((flags & SECRET_FILE_PRIVATE) && !S_ISREG(sb.st_mode)) {
        close(fd);
        snprintf(why, whylen, "secret file %s is not a regular file", file);
        return HG_EINVAL;
    }
    if ((flags & SECRET_FILE_PRIVATE) && (sb.st_mode & S_IROTH)) {
        close(fd);
        snprintf(why, whylen, "secret file %s is readable by other users; chmod o-r it", file);
        return HG_EINVAL;
    }
    /* a pipe given to `sign -s file:/dev/stdin` is read to its end, blocking */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    unsigned char *b = malloc(SECRET_MAX + 1);
    if (!b) {
        close(fd);
        return HG_ENOMEM;
    }
    size_t n = 0;
    ssize_t r = 0;
    while (n <= SECRET_MAX) {
        r = read(fd, b + n, SECRET_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    int e = errno;
    close(fd);
    if (r < 0) {
        give_up(b, SECRET_MAX + 1);
        snprintf(why, whylen, "cannot read secret file %s: %s", file, strerror(e));
        return HG_EINVAL;
    }
    if (n > SECRET_MAX) {
        give_up(b, SECRET_MAX + 1);
        snprintf(why, whylen, "secret file %s is larger than %d bytes", file, SECRET_MAX);
        return HG_EINVAL;
    }
    if (n && b[n - 1] == '\n') {
        n--;
        if (n && b[n - 1] == '\r')
            n--;
    }
    if (!n) {
        give_up(b, SECRET_MAX + 1);
        snprintf(why, whylen, "secret is empty (secret file %s)", file);
        return HG_EINVAL;
    }
    b[n] = '\0';
    *data = b;
    *len = n;
    return HG_OK;
}

int secret_load(const char *src, unsigned flags, struct secret *out, enum secret_from *from,
                char *why, size_t whylen)
{
    enum secret_from f = !strncmp(src, "env:", 4)    ? SECRET_ENV
                         : !strncmp(src, "file:", 5) ? SECRET_FILE
                                                     : SECRET_LITERAL;
    if (from)
        *from = f;
    if (f == SECRET_FILE) {
        unsigned char *data;
        size_t len;
        int rc = read_file(src + 5, flags, &data, &len, why, whylen);
        if (rc == HG_OK) {
            out->data = data;
            out->len = len;
        }
        return rc;
    }
    const char *v = src;
    if (f == SECRET_ENV && (!(v = getenv(src + 4)) || !*v)) {
        snprintf(why, whylen, "environment variable %s is not set or empty", src + 4);
        return HG_EINVAL;
    }
    size_t n = strlen(v);
    if (!n) {
        snprintf(why, whylen, "secret is empty");
        return HG_EINVAL;
    }
    unsigned char *b = malloc(n + 1);
    if (!b)
        return HG_ENOMEM;
    memcpy(b, v, n + 1);
    out->data = b;
    out->len = n;
    return HG_OK;
}

void secret_free(struct secret *s)
{
    if (!s)
        return;
    give_up(s->data, s->len);
    s->data = NULL;
    s->len = 0;
}
