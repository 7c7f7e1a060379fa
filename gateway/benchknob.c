/*
 * benchknob.c - the tests/bench decomposition switches (see benchknob.h).
 * Built only with -DHG_BENCH_KNOBS=ON.
 */
#include "benchknob.h"
#include "event.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WALSIM_SIZE (256u << 20) /* the file is reused round-robin */
#define WALSIM_BUF  (8u << 20)   /* a batch larger than this is cut (a bench) */

enum benchknob_store benchknob_store(void)
{
    static int mode = -1;
    if (mode < 0) {
        const char *e = getenv("HG_BENCH_STORE");
        /* first called by store_open, before any other thread exists */
        mode = !e                     ? BK_REAL
               : !strcmp(e, "null")   ? BK_NULL
               : !strcmp(e, "nosync") ? BK_NOSYNC
               : !strcmp(e, "walsim") ? BK_WALSIM
                                      : BK_REAL;
    }
    return (enum benchknob_store)mode;
}

/* walsim_setup - open and preallocate dir/walsim.dat; *fdp and *bufp are
 * set only once everything succeeded.  0 or an errno value. */
static int walsim_setup(const char *dir, int *fdp, unsigned char **bufp)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/walsim.dat", dir) >= (int)sizeof(path))
        return ENAMETOOLONG;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return errno;
    unsigned char *buf = calloc(1, WALSIM_BUF);
    int rc = buf ? 0 : ENOMEM;
    /* written, not fallocated: later writes overwrite allocated blocks */
    for (size_t o = 0; !rc && o < WALSIM_SIZE; o += WALSIM_BUF) {
        ssize_t w = pwrite(fd, buf, WALSIM_BUF, (off_t)o);
        if (w != (ssize_t)WALSIM_BUF)
            rc = w < 0 ? errno : EIO;
    }
    if (!rc && fdatasync(fd))
        rc = errno;
    if (rc) {
        free(buf);
        close(fd);
        return rc;
    }
    *fdp = fd;
    *bufp = buf;
    return 0;
}

int benchknob_walsim(const char *dir, const struct store_item *items)
{
    static int fd = -1;
    static unsigned char *buf;
    static size_t off;
    int rc;
    if (fd < 0 && (rc = walsim_setup(dir, &fd, &buf)))
        return rc;
    if (!items)
        return 0;
    size_t len = 0;
    for (const struct store_item *it = items; it; it = it->next) {
        if (it->kind != STORE_EVENT || it->duplicate || it->result)
            continue; /* what the transaction did not store */
        size_t n = event_rec_size(&it->ev);
        if (len + n > WALSIM_BUF)
            continue;
        event_rec_write(&it->ev, buf + len);
        len += n;
    }
    len = (len + 4095) & ~(size_t)4095;
    if (off + len > WALSIM_SIZE)
        off = 0;
    if (len) {
        ssize_t w = pwrite(fd, buf, len, (off_t)off);
        if (w != (ssize_t)len)
            return w < 0 ? errno : EIO;
    }
    off += len;
    return fdatasync(fd) ? errno : 0;
}
