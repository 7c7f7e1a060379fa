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
        mode = !e                     ? BK_REAL
               : !strcmp(e, "null")   ? BK_NULL
               : !strcmp(e, "nosync") ? BK_NOSYNC
               : !strcmp(e, "walsim") ? BK_WALSIM
                                      : BK_REAL;
    }
    return (enum benchknob_store)mode;
}

int benchknob_walsim(const char *dir, const struct store_item *items)
{
    static int fd = -1;
    static unsigned char *buf;
    static size_t off;
    if (fd < 0) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/walsim.dat", dir);
        if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
            return errno;
        if (!(buf = calloc(1, WALSIM_BUF)))
            return ENOMEM;
        /* written, not fallocated: later writes overwrite allocated blocks */
        for (size_t o = 0; o < WALSIM_SIZE; o += WALSIM_BUF)
            if (pwrite(fd, buf, WALSIM_BUF, (off_t)o) != (ssize_t)WALSIM_BUF)
                return errno ? errno : EIO;
        if (fdatasync(fd))
            return errno;
    }
    if (!items)
        return 0;
    size_t len = 0;
    for (const struct store_item *it = items; it; it = it->next) {
        if (it->kind != STORE_EVENT || it->duplicate)
            continue;
        size_t n = event_rec_size(&it->ev);
        if (len + n > WALSIM_BUF)
            break;
        event_rec_write(&it->ev, buf + len);
        len += n;
    }
    len = (len + 4095) & ~(size_t)4095;
    if (off + len > WALSIM_SIZE)
        off = 0;
    if (len && pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
        return errno ? errno : EIO;
    off += len;
    return fdatasync(fd) ? errno : 0;
}
