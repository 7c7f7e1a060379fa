/*
 * crashsim.c - an LD_PRELOAD shim that journals what processes do to the
 * files of one directory, so that tests/faults/crashimg.py can rebuild what
 * the disk would hold after a power cut at any moment of the run (issue 17).
 *
 * Why: kill -9 leaves the page cache intact, so a 2xx sent before its data
 * was durable passes every kill -9 test.  A power cut keeps only what was
 * made durable (fsync, fdatasync, an O_DSYNC write) and whatever part of the
 * rest the disk happened to write.  In the spirit of SQLite's crash-test VFS
 * and CrashMonkey, this shim records each call that changes a file's
 * contents or durability, with the bytes written and CLOCK_MONOTONIC times
 * taken just before and just after the real call (Python's
 * time.monotonic_ns() reads the same clock, so a client can place its 2xx
 * against the journal); crashimg.py replays it up to a cut time.
 *
 * Environment (without HG_CRASH_PATH and HG_CRASH_JOURNAL it only forwards):
 *   HG_CRASH_PATH=DIR      files under DIR (realpath'd at start) are traced
 *   HG_CRASH_JOURNAL=FILE  appended to; a child with these names and the shim
 *                          in its environment appends its own records
 *   HG_CRASH_LIE=1         a lying disk: every record carries F_LIE, and
 *                          crashimg.py counts no sync and no O_DSYNC write as
 *                          durable (the calls themselves still run)
 *
 * Traced on files under DIR: open, open64, openat, openat64, creat that may
 * write; write, pwrite, pwrite64, writev, pwritev, pwritev64, pwritev2 (with
 * the bytes written); ftruncate, fallocate, posix_fallocate; fsync,
 * fdatasync, sync_file_range, msync(MS_SYNC) of a mapping of such a file,
 * syncfs, sync; rename, renameat, renameat2, unlink, unlinkat, remove; close.
 * Failed calls are not recorded, except syncs (with -errno).  A write
 * through a descriptor opened with O_DSYNC or O_SYNC (LMDB writes its meta
 * pages through such a second descriptor), or a pwritev2 with RWF_DSYNC,
 * carries F_DSYNC: durable when it returns.  A record is struct rec (80
 * bytes, little endian; crashimg.py's REC mirrors it), the path, a second
 * path (rename's target), then the data.
 *
 * Invariants:
 *   - nothing is allocated on a wrapped call: records are built on the stack;
 *   - the shim's own I/O goes through syscall(2), never through a wrapper;
 *   - a record is one writev(2) on a descriptor opened with O_APPEND, so the
 *     records of threads and processes never interleave (a regular file's
 *     append holds the inode lock); data past JIOV iovecs makes more records;
 *   - a record is written after the real call and before the wrapper returns:
 *     anything done after a sync (a 2xx sent) comes after its record;
 *   - errno is what the real call left.
 *
 * Descriptors: open puts fd -> (path, O_DSYNC) in a fixed table (fds below
 * TABLE_FDS, paths shorter than SLOT_PATH; read under a per-slot sequence
 * counter, no lock); close, fclose, dup2 and dup3 forget the entry before
 * the descriptor goes, rename and unlink move it.  A descriptor the table
 * does not know (dup'd, inherited, opened by stdio) is resolved through
 * /proc/self/fd and fcntl(F_GETFL) at its first traced call and remembered.
 *
 * Not modelled (the images are only as good as this):
 *   - directory entries: a create, rename or unlink is durable the moment it
 *     returns (no directory fsync is needed or seen); mkdir, rmdir and
 *     truncate(2) by path are not recorded;
 *   - stores through a shared writable mapping (MDB_WRITEMAP; hookgate does
 *     not use it): msync is seen, what it writes is not;
 *   - libc's internal writes (stdio), copy_file_range, sendfile, splice,
 *     io_uring, AIO, raw syscall(SYS_write); a descriptor closed behind
 *     libc's back (close_range, an internal close) may leave a stale entry;
 *   - metadata but the size; hard and symbolic links (rename and unlink
 *     paths are normalised lexically);
 *   - a call still running at the cut never lands, though a real disk may
 *     have written part of it.  A journal write that fails is reported once
 *     on stderr: the images are then not to be trusted.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define JMAGIC    0x4a434748u /* "HGCJ" */
#define JIOV      256         /* data iovecs per record */
#define TABLE_FDS 4096
#define SLOT_PATH 512

/* the op codes and flags of a record (crashimg.py has the same numbers) */
enum { OP_INIT = 1, OP_OPEN, OP_WRITE, OP_TRUNCATE, OP_FALLOCATE, OP_FSYNC, OP_FDATASYNC };
enum { OP_SYNC_RANGE = 8, OP_MSYNC, OP_SYNCFS, OP_RENAME, OP_UNLINK, OP_CLOSE };
enum { F_DSYNC = 1, F_LIE = 2 };

/* One record's header.  By op: OPEN fd, aux = flags, off = mode; WRITE off,
 * len = data bytes in this record, ret = bytes of the whole call; TRUNCATE
 * off = length; FALLOCATE aux = mode, off, len; FSYNC, FDATASYNC ret = 0 or
 * -errno, aux = 1 for a directory; SYNC_RANGE and MSYNC off, len, aux =
 * flags; SYNCFS aux = 1 for sync(); RENAME path -> path2, aux = flags; INIT
 * path = the traced directory, path2 = the executable, aux = 1 when lying. */
struct rec {
    uint32_t magic;
    uint16_t op, flags;
    int32_t pid, tid, fd;
    uint32_t pathlen, path2len, pad;
    int64_t ret, off, len, aux;
    uint64_t t0, t1;
};
_Static_assert(sizeof(struct rec) == 80, "crashimg.py reads 80-byte headers");

enum { S_UNKNOWN = 0, S_OUT = 1, S_IN = 2 };
struct slot {
    atomic_uint gen;  /* odd while the slot changes */
    atomic_flag lock; /* between writers */
    int state, dsync;
    char path[SLOT_PATH];
};

static struct slot c_tab[TABLE_FDS];
static char c_root[PATH_MAX];
static size_t c_rootlen;
static int c_jfd = -1, c_lie, c_ready;
static atomic_int c_warned;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* normalize - collapse "//", "." and ".." of an absolute path, in place. */
static void normalize(char *s)
{
    char *w = s;
    const char *r = s;
    while (*r) {
        while (*r == '/')
            r++;
        if (!*r)
            break;
        const char *e = r;
        while (*e && *e != '/')
            e++;
        size_t l = (size_t)(e - r);
        if (l == 2 && r[0] == '.' && r[1] == '.') {
            while (w > s && *--w != '/')
                ;
        } else if (!(l == 1 && r[0] == '.')) {
            *w++ = '/';
            memmove(w, r, l);
            w += l;
        }
        r = e;
    }
    if (w == s)
        *w++ = '/';
    *w = '\0';
}

static int under(const char *path)
{
    return c_rootlen && !strncmp(path, c_root, c_rootlen) &&
           (path[c_rootlen] == '/' || path[c_rootlen] == '\0');
}

/* slot_set - fd's entry; a cache fill (!must) gives way to a writer of the
 * same slot (a signal handler must never spin on its own thread's lock). */
static void slot_set(int fd, int state, const char *path, int dsync, int must)
{
    if (fd < 0 || fd >= TABLE_FDS)
        return;
    struct slot *s = &c_tab[fd];
    size_t n = path ? strlen(path) : 0;
    if (state == S_IN && n >= SLOT_PATH)
        state = S_UNKNOWN; /* resolved at each call */
    while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire))
        if (!must)
            return;
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_acq_rel);
    s->state = state;
    s->dsync = dsync;
    if (state == S_IN)
        memcpy(s->path, path, n + 1);
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
    atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

/* slot_get - the table's state of fd (S_UNKNOWN when it is changing). */
static int slot_get(int fd, char *path, int *dsync)
{
    if (fd < 0 || fd >= TABLE_FDS)
        return S_UNKNOWN;
    struct slot *s = &c_tab[fd];
    unsigned g = atomic_load_explicit(&s->gen, memory_order_acquire);
    if (g & 1)
        return S_UNKNOWN;
    int st = s->state;
    *dsync = s->dsync;
    if (st == S_IN)
        memcpy(path, s->path, SLOT_PATH);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&s->gen, memory_order_relaxed) != g)
        return S_UNKNOWN;
    path[SLOT_PATH - 1] = '\0';
    return st;
}

/* resolve_fd - the file of fd from /proc/self/fd: 1 when it lies under the
 * traced directory (a deleted file never does), 0 when not, -1 when fd is
 * not open. */
static int resolve_fd(int fd, char *path, size_t cap)
{
    char link[40];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    long n = syscall(SYS_readlink, link, path, cap - 1);
    if (n <= 0)
        return -1;
    path[n] = '\0';
    static const char del[] = " (deleted)";
    if ((size_t)n >= sizeof(del) - 1 && !strcmp(path + n - (sizeof(del) - 1), del))
        return 0;
    return path[0] == '/' && under(path);
}

/* traced_fd - is fd a file under the traced directory?  Fills path (PATH_MAX)
 * and *dsync (opened with O_DSYNC or O_SYNC). */
static int traced_fd(int fd, char *path, int *dsync)
{
    if (!c_ready || fd < 0)
        return 0;
    int st = slot_get(fd, path, dsync);
    if (st != S_UNKNOWN)
        return st == S_IN;
    int in = resolve_fd(fd, path, PATH_MAX);
    if (in < 0)
        return 0; /* not open: nothing to remember */
    long fl = in ? syscall(SYS_fcntl, fd, F_GETFL) : 0;
    *dsync = fl > 0 && (fl & O_DSYNC);
    slot_set(fd, in ? S_IN : S_OUT, path, *dsync, 0);
    return in;
}

/* journal - append r (+ paths + the first total bytes of data) as one
 * writev per JIOV data iovecs; r->off advances over the chunks. */
static void journal(struct rec *r, const char *p1, const char *p2, const struct iovec *data,
                    int ndata, size_t total)
{
    if (c_jfd < 0)
        return;
    r->magic = JMAGIC;
    r->flags |= c_lie ? F_LIE : 0;
    r->pid = (int32_t)syscall(SYS_getpid);
    r->tid = (int32_t)syscall(SYS_gettid);
    r->pathlen = p1 ? (uint32_t)strlen(p1) : 0;
    r->path2len = p2 ? (uint32_t)strlen(p2) : 0;
    int i = 0;
    size_t skip = 0, left = total;
    do {
        struct iovec v[JIOV + 3];
        int k = 0;
        size_t chunk = 0;
        v[k++] = (struct iovec){r, sizeof(*r)};
        if (r->pathlen)
            v[k++] = (struct iovec){(void *)p1, r->pathlen};
        if (r->path2len)
            v[k++] = (struct iovec){(void *)p2, r->path2len};
        while (i < ndata && chunk < left && k < JIOV + 3) {
            size_t take = data[i].iov_len - skip;
            if (take > left - chunk)
                take = left - chunk;
            if (take)
                v[k++] = (struct iovec){(char *)data[i].iov_base + skip, take};
            chunk += take;
            skip += take;
            if (skip == data[i].iov_len) {
                i++;
                skip = 0;
            }
        }
        if (r->op == OP_WRITE)
            r->len = (int64_t)chunk; /* else len is the record's own (a range) */
        size_t want = 0;
        for (int j = 0; j < k; j++)
            want += v[j].iov_len;
        long w = syscall(SYS_writev, c_jfd, v, k);
        if (w != (long)want && !atomic_exchange(&c_warned, 1)) {
            static const char msg[] = "crashsim: a journal write failed; the journal is "
                                      "incomplete and its images are not to be trusted\n";
            (void)syscall(SYS_write, 2, msg, sizeof(msg) - 1);
        }
        r->off += (int64_t)chunk;
        left -= chunk;
    } while (left > 0 && i < ndata);
}

/* note - one record without data; keeps errno. */
static void note(int op, int fd, const char *path, const char *path2, int64_t ret, int64_t off,
                 int64_t len, int64_t aux, uint64_t t0)
{
    int saved = errno;
    struct rec r = {.op = (uint16_t)op, .fd = fd, .ret = ret, .off = off};
    r.len = len;
    r.aux = aux;
    r.t0 = t0;
    r.t1 = now_ns();
    journal(&r, path, path2, NULL, 0, 0);
    errno = saved;
}

/* note_write - a write of ret bytes from v at off (-1: the bytes just
 * before the descriptor's position now, which also covers O_APPEND). */
static void note_write(int fd, const char *path, int64_t off, const struct iovec *v, int n,
                       ssize_t ret, uint64_t t0, int dsync)
{
    int saved = errno;
    uint64_t t1 = now_ns();
    if (off < 0) {
        long pos = syscall(SYS_lseek, fd, 0L, SEEK_CUR);
        off = pos >= ret ? pos - ret : 0;
    }
    struct rec r = {.op = OP_WRITE, .flags = dsync ? F_DSYNC : 0, .fd = fd, .ret = ret};
    r.off = off;
    r.t0 = t0;
    r.t1 = t1;
    journal(&r, path, NULL, v, n, (size_t)ret);
    errno = saved;
}

/* abs_path - dirfd + path as a normalised absolute path; 0 if it cannot be. */
static int abs_path(int dirfd, const char *p, char *out, size_t cap)
{
    size_t n = 0;
    if (!p)
        return 0;
    if (p[0] != '/') {
        long r;
        if (dirfd == AT_FDCWD) {
            r = syscall(SYS_getcwd, out, cap);
            r = r > 0 ? (long)strlen(out) : -1;
        } else {
            char link[40];
            snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
            r = syscall(SYS_readlink, link, out, cap - 1);
        }
        if (r <= 0 || (size_t)r + 2 >= cap)
            return 0;
        n = (size_t)r;
        out[n++] = '/';
    }
    size_t pl = strlen(p);
    if (n + pl >= cap)
        return 0;
    memcpy(out + n, p, pl + 1);
    normalize(out);
    return 1;
}

/* slots_moved - after a rename (to NULL: an unlink) of old, the entries of
 * old and of everything below it follow it. */
static void slots_moved(const char *old, const char *to)
{
    size_t ol = strlen(old);
    for (int fd = 0; fd < TABLE_FDS; fd++) {
        char p[SLOT_PATH], q[PATH_MAX];
        int ds;
        if (slot_get(fd, p, &ds) != S_IN || strncmp(p, old, ol) || (p[ol] && p[ol] != '/'))
            continue;
        if (to && snprintf(q, sizeof(q), "%s%s", to, p + ol) < (int)sizeof(q) && under(q))
            slot_set(fd, S_IN, q, ds, 1);
        else
            slot_set(fd, S_OUT, NULL, 0, 1);
    }
}

/* map_file - the traced file mapped at addr and the file offset of addr,
 * from /proc/self/maps (raw syscalls: no stdio buffer). */
static int map_file(const void *addr, char *path, size_t cap, int64_t *off)
{
    int fd = (int)syscall(SYS_open, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[4096], line[PATH_MAX + 128];
    size_t ll = 0;
    int hit = 0;
    long n;
    while (!hit && (n = syscall(SYS_read, fd, buf, sizeof(buf))) > 0) {
        for (long i = 0; i < n && !hit; i++) {
            if (buf[i] != '\n') {
                if (ll < sizeof(line) - 1)
                    line[ll++] = buf[i];
                continue;
            }
            line[ll] = '\0';
            ll = 0;
            /* "lo-hi perms offset dev inode /path" (hex numbers) */
            char *slash = strchr(line, '/'), *p = NULL, *q = NULL;
            uintptr_t lo = strtoul(line, &p, 16), hi = 0;
            if (p != line && *p == '-')
                hi = strtoul(p + 1, &q, 16);
            if (!slash || !q || q == p + 1 || (uintptr_t)addr < lo || (uintptr_t)addr >= hi)
                continue;
            while (*q == ' ')
                q++;
            while (*q && *q != ' ')
                q++; /* the permissions */
            *off = (int64_t)strtoull(q, NULL, 16) + (int64_t)((uintptr_t)addr - lo);
            snprintf(path, cap, "%s", slash);
            hit = under(path);
        }
    }
    syscall(SYS_close, fd);
    return hit;
}

__attribute__((constructor)) static void crashsim_init(void)
{
    const char *p = getenv("HG_CRASH_PATH"), *j = getenv("HG_CRASH_JOURNAL");
    if (!p || !*p || !j || !*j)
        return; /* disarmed */
    if (!realpath(p, c_root))
        snprintf(c_root, sizeof(c_root), "%s", p);
    if (c_root[0] != '/')
        return;
    normalize(c_root);
    if (!strcmp(c_root, "/"))
        return; /* refused: it would trace the journal itself */
    c_rootlen = strlen(c_root);
    const char *l = getenv("HG_CRASH_LIE");
    c_lie = l && *l && strcmp(l, "0") != 0;
    c_jfd = (int)syscall(SYS_open, j, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (c_jfd < 0) {
        static const char msg[] = "crashsim: cannot open HG_CRASH_JOURNAL; tracing nothing\n";
        (void)syscall(SYS_write, 2, msg, sizeof(msg) - 1);
        return;
    }
    char exe[PATH_MAX];
    long n = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    uint64_t t = now_ns();
    struct rec r = {.op = OP_INIT, .fd = -1, .aux = c_lie, .t0 = t, .t1 = t};
    journal(&r, c_root, exe, NULL, 0, 0);
    c_ready = 1;
}

/* REAL(name, ret, params) - real_name: the next definition of name (libc's) */
#define REAL(name, ret, params)                                                                    \
    static ret(*real_##name) params; /* NOLINT(bugprone-macro-parentheses): a type, a list */      \
    if (!real_##name)                                                                              \
        *(void **)&real_##name = dlsym(RTLD_NEXT, #name);

/* ON_FD(type, name, params, args, fd, record...) - a wrapper of a call on a
 * descriptor: untraced, it only forwards; traced, the statements `record`
 * run after the real call with path, ds (O_DSYNC), t0 and its result r. */
#define ON_FD(type, name, params, args, fd, ...)                                                   \
    type name params                                                                               \
    {                                                                                              \
        REAL(name, type, params);                                                                  \
        char path[PATH_MAX];                                                                       \
        int ds;                                                                                    \
        if (!traced_fd(fd, path, &ds))                                                             \
            return real_##name args;                                                               \
        uint64_t t0 = now_ns();                                                                    \
        type r = real_##name args;                                                                 \
        __VA_ARGS__;                                                                               \
        return r;                                                                                  \
    }

/* ALIAS(type, name, params, target) - the 64-bit-offset name of a call: the
 * same function where off_t is off64_t (LP64) */
#define ALIAS(type, name, params, target) type name params __attribute__((alias(#target)));

/* ---- opening and closing ---- */

static int opened(int fd, int flags, mode_t mode, uint64_t t0)
{
    if (fd < 0 || !c_ready)
        return fd;
    int saved = errno;
    char path[PATH_MAX];
    int in = (flags & O_TMPFILE) != O_TMPFILE && resolve_fd(fd, path, sizeof(path)) > 0;
    slot_set(fd, in ? S_IN : S_OUT, path, (flags & O_DSYNC) != 0, 1);
    if (in && (flags & (O_CREAT | O_TRUNC | O_WRONLY | O_RDWR)))
        note(OP_OPEN, fd, path, NULL, fd, (int64_t)mode, 0, flags, t0);
    errno = saved;
    return fd;
}

#define OPEN_MODE(flags)                                                                           \
    mode_t mode = 0;                                                                               \
    if (((flags)&O_CREAT) || ((flags)&O_TMPFILE) == O_TMPFILE) {                                   \
        va_list ap;                                                                                \
        va_start(ap, flags);                                                                       \
        mode = (mode_t)va_arg(ap, int);                                                            \
        va_end(ap);                                                                                \
    }

int open(const char *path, int flags, ...)
{
    REAL(open, int, (const char *, int, ...));
    OPEN_MODE(flags);
    uint64_t t0 = now_ns();
    return opened(real_open(path, flags, mode), flags, mode, t0);
}
ALIAS(int, open64, (const char *path, int flags, ...), open)

int openat(int dirfd, const char *path, int flags, ...)
{
    REAL(openat, int, (int, const char *, int, ...));
    OPEN_MODE(flags);
    uint64_t t0 = now_ns();
    return opened(real_openat(dirfd, path, flags, mode), flags, mode, t0);
}
ALIAS(int, openat64, (int dirfd, const char *path, int flags, ...), openat)

int creat(const char *path, mode_t mode)
{
    return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
ALIAS(int, creat64, (const char *path, mode_t mode), creat)

/* forget - drop fd from the table before it is closed; 1 if it was traced */
static int forget(int fd, char *path)
{
    int ds;
    if (!c_ready)
        return 0;
    int in = slot_get(fd, path, &ds) == S_IN;
    slot_set(fd, S_UNKNOWN, NULL, 0, 1);
    return in;
}

/* close and fclose: the journal's descriptor is never closed by the program */
static int closed(int fd, int in, const char *path, int r, uint64_t t0)
{
    if (in)
        note(OP_CLOSE, fd, path, NULL, r == 0 ? 0 : -errno, 0, 0, 0, t0);
    return r;
}

int close(int fd)
{
    REAL(close, int, (int));
    char path[PATH_MAX];
    if (fd == c_jfd && fd >= 0)
        return 0;
    int in = forget(fd, path);
    uint64_t t0 = now_ns();
    return closed(fd, in, path, real_close(fd), t0);
}

int fclose(FILE *f)
{
    REAL(fclose, int, (FILE *));
    char path[PATH_MAX];
    int fd = f ? fileno(f) : -1;
    int in = forget(fd, path);
    uint64_t t0 = now_ns();
    return closed(fd, in, path, real_fclose(f), t0);
}

int dup2(int oldfd, int newfd)
{
    REAL(dup2, int, (int, int));
    char path[PATH_MAX];
    if (oldfd != newfd)
        forget(newfd, path);
    return real_dup2(oldfd, newfd);
}

int dup3(int oldfd, int newfd, int flags)
{
    REAL(dup3, int, (int, int, int));
    char path[PATH_MAX];
    forget(newfd, path);
    return real_dup3(oldfd, newfd, flags);
}

/* ---- writes, sizes and syncs ---- */

static void note_buf(int fd, const char *path, int64_t off, const void *buf, ssize_t r, uint64_t t0,
                     int ds)
{
    struct iovec v = {(void *)buf, r > 0 ? (size_t)r : 0};
    if (r > 0)
        note_write(fd, path, off, &v, 1, r, t0, ds);
}

ON_FD(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n), fd,
      note_buf(fd, path, -1, buf, r, t0, ds))
ON_FD(ssize_t, pwrite, (int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off), fd,
      note_buf(fd, path, off, buf, r, t0, ds))
ALIAS(ssize_t, pwrite64, (int fd, const void *buf, size_t n, off64_t off), pwrite)
ON_FD(ssize_t, writev, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt), fd,
      if (r > 0) note_write(fd, path, -1, iov, cnt, r, t0, ds))
ON_FD(ssize_t, pwritev, (int fd, const struct iovec *iov, int cnt, off_t off), (fd, iov, cnt, off),
      fd, if (r > 0) note_write(fd, path, off, iov, cnt, r, t0, ds))
ALIAS(ssize_t, pwritev64, (int fd, const struct iovec *iov, int cnt, off64_t off), pwritev)
/* pwritev2: offset -1 is the descriptor's position; RWF_DSYNC makes this one write durable */
ON_FD(ssize_t, pwritev2, (int fd, const struct iovec *iov, int cnt, off_t off, int fl),
      (fd, iov, cnt, off, fl), fd,
      if (r > 0) note_write(fd, path, off, iov, cnt, r, t0, ds || (fl & (RWF_DSYNC | RWF_SYNC))))
ALIAS(ssize_t, pwritev64v2, (int fd, const struct iovec *iov, int cnt, off64_t off, int fl),
      pwritev2)

ON_FD(int, ftruncate, (int fd, off_t len), (fd, len), fd,
      if (r == 0) note(OP_TRUNCATE, fd, path, NULL, 0, len, 0, 0, t0))
ALIAS(int, ftruncate64, (int fd, off64_t len), ftruncate)
ON_FD(int, fallocate, (int fd, int mode, off_t off, off_t len), (fd, mode, off, len), fd,
      if (r == 0) note(OP_FALLOCATE, fd, path, NULL, 0, off, len, mode, t0))
ALIAS(int, fallocate64, (int fd, int mode, off64_t off, off64_t len), fallocate)
/* posix_fallocate returns the error number */
ON_FD(int, posix_fallocate, (int fd, off_t off, off_t len), (fd, off, len), fd,
      if (r == 0) note(OP_FALLOCATE, fd, path, NULL, 0, off, len, 0, t0))
ALIAS(int, posix_fallocate64, (int fd, off64_t off, off64_t len), posix_fallocate)

/* a directory's fsync is recorded with aux 1 (crashimg.py: entries are durable at once) */
static int is_dir(int fd)
{
    struct stat sb;
    return syscall(SYS_fstat, fd, &sb) == 0 && S_ISDIR(sb.st_mode);
}

ON_FD(int, fsync, (int fd), (fd), fd,
      note(OP_FSYNC, fd, path, NULL, r == 0 ? 0 : -errno, 0, 0, is_dir(fd), t0))
ON_FD(int, fdatasync, (int fd), (fd), fd,
      note(OP_FDATASYNC, fd, path, NULL, r == 0 ? 0 : -errno, 0, 0, is_dir(fd), t0))
ON_FD(int, sync_file_range, (int fd, off64_t off, off64_t n, unsigned int fl), (fd, off, n, fl), fd,
      note(OP_SYNC_RANGE, fd, path, NULL, r == 0 ? 0 : -errno, off, n, fl, t0))

int msync(void *addr, size_t len, int flags)
{
    REAL(msync, int, (void *, size_t, int));
    char path[PATH_MAX];
    int64_t off = 0;
    if (!c_ready || !(flags & MS_SYNC) || !map_file(addr, path, sizeof(path), &off))
        return real_msync(addr, len, flags);
    uint64_t t0 = now_ns();
    int r = real_msync(addr, len, flags);
    note(OP_MSYNC, -1, path, NULL, r == 0 ? 0 : -errno, off, (int64_t)len, flags, t0);
    return r;
}

/* syncfs and sync: every traced file (the directory is taken to be on one file system) */
int syncfs(int fd)
{
    REAL(syncfs, int, (int));
    uint64_t t0 = now_ns();
    int r = real_syncfs(fd);
    if (c_ready)
        note(OP_SYNCFS, fd, c_root, NULL, r == 0 ? 0 : -errno, 0, 0, 0, t0);
    return r;
}

void sync(void)
{
    REAL(sync, void, (void));
    uint64_t t0 = now_ns();
    real_sync();
    if (c_ready)
        note(OP_SYNCFS, -1, c_root, NULL, 0, 0, 0, 1, t0);
}

/* ---- names ---- */

int renameat2(int olddir, const char *oldp, int newdir, const char *newp, unsigned int flags)
{
    REAL(renameat2, int, (int, const char *, int, const char *, unsigned int));
    char from[PATH_MAX] = "", to[PATH_MAX] = "";
    int in_from = c_ready && abs_path(olddir, oldp, from, sizeof(from)) && under(from);
    int in_to = c_ready && abs_path(newdir, newp, to, sizeof(to)) && under(to);
    uint64_t t0 = now_ns();
    int r = real_renameat2 ? real_renameat2(olddir, oldp, newdir, newp, flags)
                           : (int)syscall(SYS_renameat2, olddir, oldp, newdir, newp, flags);
    if (r == 0 && (in_from || in_to)) {
        note(OP_RENAME, -1, from, to, 0, 0, 0, flags, t0);
        slots_moved(from, in_to ? to : NULL);
    }
    return r;
}

int renameat(int olddir, const char *oldp, int newdir, const char *newp)
{
    return renameat2(olddir, oldp, newdir, newp, 0);
}

int rename(const char *oldp, const char *newp)
{
    return renameat2(AT_FDCWD, oldp, AT_FDCWD, newp, 0);
}

static int unlinked(int r, const char *path, int in, uint64_t t0)
{
    if (r == 0 && in) {
        note(OP_UNLINK, -1, path, NULL, 0, 0, 0, 0, t0);
        slots_moved(path, NULL);
    }
    return r;
}

int unlinkat(int dirfd, const char *p, int flags)
{
    REAL(unlinkat, int, (int, const char *, int));
    char path[PATH_MAX];
    int in =
        c_ready && !(flags & AT_REMOVEDIR) && abs_path(dirfd, p, path, sizeof(path)) && under(path);
    uint64_t t0 = now_ns();
    return unlinked(real_unlinkat(dirfd, p, flags), path, in, t0);
}

int unlink(const char *p)
{
    return unlinkat(AT_FDCWD, p, 0);
}

/* remove: glibc's unlinks, or removes an empty directory (crashimg.py ignores that) */
int remove(const char *p)
{
    REAL(remove, int, (const char *));
    char path[PATH_MAX];
    int in = c_ready && abs_path(AT_FDCWD, p, path, sizeof(path)) && under(path);
    uint64_t t0 = now_ns();
    return unlinked(real_remove(p), path, in, t0);
}
