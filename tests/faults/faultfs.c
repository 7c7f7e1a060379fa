/*
 * faultfs.c - an LD_PRELOAD shim that makes the store's writes and syncs
 * fail, so the tests can see what hookgate answers on a failing disk.
 *
 * It wraps fsync, fdatasync, msync, write, pwrite, pwrite64, writev and
 * pwritev.  A call is "armed" when its operation is listed in
 * HG_FAULT_OPS and the file it touches lies under HG_FAULT_PATH (the fd's
 * /proc/self/fd link, or for msync the mapping's file in /proc/self/maps).
 * Every other call goes straight to libc.  An armed call fails with
 * HG_FAULT_ERRNO, without touching the file, when any trigger holds:
 *
 *   HG_FAULT_AFTER=N       from the Nth armed call on (1 = every call);
 *   HG_FAULT_FLAG=PATH     while the file PATH exists (the test opens and
 *                          closes the window);
 *   HG_FAULT_WINDOW=S,L    from S ms after the process started, for L ms.
 *
 *   HG_FAULT_OPS           comma list, default "fdatasync,fsync,msync";
 *                          "all" = every wrapped call
 *   HG_FAULT_ERRNO         EIO (default) or ENOSPC
 *   HG_FAULT_MAXOFF=B      pwrite/pwritev only below file offset B (LMDB's
 *                          two meta pages are the first two pages: 8192
 *                          fails the meta page writes and nothing else)
 *   HG_FAULT_LOG=PATH      one line per injected failure ("op errno path")
 *   HG_FAULT_OPEN_DELAY_MS=N  not a failure: sleep N ms after each open(2)
 *                          of a file under HG_FAULT_PATH, which widens the
 *                          gap between an open and anything done to the
 *                          new descriptor afterwards (test_faults uses it
 *                          to make a descriptor-inheritance race certain)
 *
 * Invariants: nothing here allocates on the wrapped path; the shim's own
 * log writes go through syscall(2), never through the wrappers.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum {
    OP_FSYNC = 1,
    OP_FDATASYNC = 2,
    OP_MSYNC = 4,
    OP_WRITE = 8,
    OP_PWRITE = 16,
    OP_WRITEV = 32,
    OP_PWRITEV = 64
};

static const struct {
    const char *name;
    int bit;
} op_names[] = {{"fsync", OP_FSYNC},    {"fdatasync", OP_FDATASYNC}, {"msync", OP_MSYNC},
                {"write", OP_WRITE},    {"pwrite", OP_PWRITE},       {"writev", OP_WRITEV},
                {"pwritev", OP_PWRITEV}};

static int f_ops = -1, f_errno = EIO;
static long f_after;
static long f_win_start = -1, f_win_len;
static long long f_maxoff = -1;
static long f_open_delay_ms;
static char f_path[PATH_MAX], f_flag[PATH_MAX], f_log[PATH_MAX];
static size_t f_pathlen;
static atomic_long f_count;
static int64_t f_t0;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((constructor)) static void faultfs_init(void)
{
    const char *p = getenv("HG_FAULT_PATH");
    f_t0 = mono_ms();
    f_ops = 0;
    if (!p || !*p)
        return; /* disarmed */
    if (!realpath(p, f_path))
        snprintf(f_path, sizeof(f_path), "%s", p);
    f_pathlen = strlen(f_path);
    const char *ops = getenv("HG_FAULT_OPS");
    if (!ops || !*ops)
        ops = "fdatasync,fsync,msync";
    for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        const char *s = strstr(ops, op_names[i].name);
        size_t n = strlen(op_names[i].name);
        /* a whole item of the list: "write" must not match inside "pwrite" */
        while (s && !((s == ops || s[-1] == ',') && (s[n] == ',' || s[n] == '\0')))
            s = strstr(s + 1, op_names[i].name);
        if (s || !strcmp(ops, "all"))
            f_ops |= op_names[i].bit;
    }
    const char *e = getenv("HG_FAULT_ERRNO");
    if (e && !strcmp(e, "ENOSPC"))
        f_errno = ENOSPC;
    if ((e = getenv("HG_FAULT_AFTER")))
        f_after = strtol(e, NULL, 10);
    if ((e = getenv("HG_FAULT_FLAG")))
        snprintf(f_flag, sizeof(f_flag), "%s", e);
    if ((e = getenv("HG_FAULT_WINDOW"))) { /* "S,L"; anything else: no window */
        char *comma, *end = NULL;
        long start = strtol(e, &comma, 10), len = 0;
        if (comma != e && *comma == ',')
            len = strtol(comma + 1, &end, 10);
        f_win_start = end && end != comma + 1 ? start : -1;
        f_win_len = len;
    }
    if ((e = getenv("HG_FAULT_MAXOFF")))
        f_maxoff = strtoll(e, NULL, 10);
    if ((e = getenv("HG_FAULT_OPEN_DELAY_MS")))
        f_open_delay_ms = strtol(e, NULL, 10);
    if ((e = getenv("HG_FAULT_LOG")))
        snprintf(f_log, sizeof(f_log), "%s", e);
}

/* under - does path lie under HG_FAULT_PATH? */
static int under(const char *path)
{
    return f_pathlen && !strncmp(path, f_path, f_pathlen) &&
           (path[f_pathlen] == '/' || path[f_pathlen] == '\0');
}

static int fd_armed(int fd, char *path, size_t cap)
{
    char link[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, cap - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    return under(path);
}

/* map_armed - the file mapped at addr, from /proc/self/maps (read with raw
 * syscalls: no stdio buffer is allocated on this path). */
static int map_armed(const void *addr, char *path, size_t cap)
{
    int fd = (int)syscall(SYS_open, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[8192], line[PATH_MAX + 128];
    size_t ll = 0;
    int hit = 0;
    ssize_t n;
    while (!hit && (n = syscall(SYS_read, fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n && !hit; i++) {
            if (buf[i] != '\n') {
                if (ll < sizeof(line) - 1)
                    line[ll++] = buf[i];
                continue;
            }
            line[ll] = '\0';
            ll = 0;
            /* "lo-hi perms offset dev inode /path" (hex addresses) */
            char *slash = strchr(line, '/'), *dash, *end = NULL;
            uintptr_t lo = strtoul(line, &dash, 16), hi = 0;
            if (dash != line && *dash == '-')
                hi = strtoul(dash + 1, &end, 16);
            if (slash && end && end != dash + 1 && (uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
                snprintf(path, cap, "%s", slash);
                hit = under(path);
            }
        }
    }
    syscall(SYS_close, fd);
    return hit;
}

/* fail_now - should this armed call fail?  Counts it. */
static int fail_now(int op, const char *path)
{
    long n = atomic_fetch_add(&f_count, 1) + 1;
    int fail = (f_after > 0 && n >= f_after) || (f_flag[0] && access(f_flag, F_OK) == 0);
    if (!fail && f_win_start >= 0) {
        int64_t t = mono_ms() - f_t0;
        fail = t >= f_win_start && t < f_win_start + f_win_len;
    }
    if (fail && f_log[0]) {
        char line[PATH_MAX + 64];
        const char *name = "?";
        for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
            if (op_names[i].bit == op)
                name = op_names[i].name;
        int len = snprintf(line, sizeof(line), "%s %s %s\n", name,
                           f_errno == ENOSPC ? "ENOSPC" : "EIO", path);
        int fd = (int)syscall(SYS_open, f_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) {
            (void)syscall(SYS_write, fd, line, (size_t)len); /* best effort */
            syscall(SYS_close, fd);
        }
    }
    return fail;
}

/* REAL(name, ret, params) - real_name: the next definition of name (libc's) */
#define REAL(name, ret, params)                                                                    \
    static ret(*real_##name) params; /* NOLINT(bugprone-macro-parentheses): a type, a list */      \
    if (!real_##name)                                                                              \
        *(void **)&real_##name = dlsym(RTLD_NEXT, #name);

#define FAULT_FD(op, fd)                                                                           \
    do {                                                                                           \
        char path_[PATH_MAX];                                                                      \
        if ((f_ops & (op)) && fd_armed((fd), path_, sizeof(path_)) && fail_now((op), path_)) {     \
            errno = f_errno;                                                                       \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

int fsync(int fd)
{
    REAL(fsync, int, (int));
    FAULT_FD(OP_FSYNC, fd);
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    REAL(fdatasync, int, (int));
    FAULT_FD(OP_FDATASYNC, fd);
    return real_fdatasync(fd);
}

int msync(void *addr, size_t len, int flags)
{
    REAL(msync, int, (void *, size_t, int));
    char path[PATH_MAX];
    if ((f_ops & OP_MSYNC) && map_armed(addr, path, sizeof(path)) && fail_now(OP_MSYNC, path)) {
        errno = f_errno;
        return -1;
    }
    return real_msync(addr, len, flags);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write, ssize_t, (int, const void *, size_t));
    if (fd > 2) /* stdout/stderr are never the store */
        FAULT_FD(OP_WRITE, fd);
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite, ssize_t, (int, const void *, size_t, off_t));
    if (f_maxoff < 0 || off < f_maxoff)
        FAULT_FD(OP_PWRITE, fd);
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    return pwrite(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    REAL(writev, ssize_t, (int, const struct iovec *, int));
    if (fd > 2)
        FAULT_FD(OP_WRITEV, fd);
    return real_writev(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL(pwritev, ssize_t, (int, const struct iovec *, int, off_t));
    if (f_maxoff < 0 || off < f_maxoff)
        FAULT_FD(OP_PWRITEV, fd);
    return real_pwritev(fd, iov, cnt, off);
}

int open(const char *path, int flags, ...)
{
    REAL(open, int, (const char *, int, ...));
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int fd = real_open(path, flags, mode);
    if (fd >= 0 && f_open_delay_ms > 0) {
        char abs[PATH_MAX];
        if (fd_armed(fd, abs, sizeof(abs))) {
            int saved = errno;
            struct timespec ts = {f_open_delay_ms / 1000, (f_open_delay_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            errno = saved;
        }
    }
    return fd;
}
