/*
 * seglog.c - the store's segment log (see seglog.h for the format and the
 * rules).
 *
 * Invariants: `end` is the size of the current segment as far as this
 * process knows and `synced` the part of it made durable by the last
 * successful fdatasync; nothing past `synced` was acknowledged, so a
 * failed write or sync cuts the file back to `synced` (seglog_rewind).  A
 * new segment's directory entry is made durable (fsync of DIR/log) before
 * the first write to it is synced.  win holds the newest segment's bytes
 * [wlo, end) (wlo a multiple of SEGLOG_BLOCK); readers may copy
 * [wlo, synced) out of it, and wlo, win and synced change under the lock.
 */
#include "seglog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HG_CRC_HW 1
#include <nmmintrin.h>
#else
#define HG_CRC_HW 0
#endif

struct seg {
    uint64_t first; /* seq in its name */
    int fd;         /* -1 until first read */
    unsigned refs;  /* readers in a pread on fd: it is not closed under them */
};

struct seglog {
    char *dir; /* DIR/log */
    int read_only;
    int broken;           /* a rewind failed: no more writes */
    pthread_mutex_t lock; /* guards segs/nsegs and the fds in them */
    struct seg *segs;     /* sorted by first seq */
    size_t nsegs;
    int wfd;              /* the newest segment, open for writing; -1 */
    uint64_t cur_first;   /* its name (the writer's copy: segs moves under drops) */
    uint64_t end, synced; /* its size, and its durable part */
    uint64_t total;       /* bytes in the closed segments */
    int direct;           /* wfd has O_DIRECT */
    size_t blk;           /* its write unit: the file's direct-I/O alignment, <= SEGLOG_BLOCK */
    unsigned char *win;   /* the newest segment's bytes [wlo, end), SEGLOG_BLOCK-aligned */
    size_t wcap;          /* win's size */
    uint64_t wlo;         /* offset of win[0] in the segment: a multiple of SEGLOG_BLOCK */
};

#define WIN_SIZE (8u << 20)

/* ---------------------------------------------------------------- CRC-32C */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_hw_ok; /* the CPU has SSE4.2's crc32 instruction */

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
#if HG_CRC_HW
    crc_hw_ok = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t seglog_crc32c_soft(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const unsigned char *s = p;
    crc = ~crc;
    while (n >= 8) { /* slicing by 8 */
        uint32_t lo = crc ^ ((uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
                             (uint32_t)s[3] << 24);
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
              crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^ crc_table[3][s[4]] ^
              crc_table[2][s[5]] ^ crc_table[1][s[6]] ^ crc_table[0][s[7]];
        s += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *s++) & 0xff];
    return ~crc;
}

#if HG_CRC_HW
/* crc_hw - the same CRC with SSE4.2's crc32 instruction (same polynomial,
 * same bit order), 8 bytes per step: about 8x the tables' speed, which
 * matters because every event's bytes pass through here on the writer
 * thread.  Chosen at run time (crc_init), so the binary still runs on a
 * CPU without it. */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *s,
                                                         size_t n)
{
    uint64_t c = ~crc;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t v;
        memcpy(&v, s, 8); /* little-endian: the bytes in order */
        c = _mm_crc32_u64(c, v);
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = _mm_crc32_u8(c32, *s++);
    return ~c32;
}
#endif

uint32_t seglog_crc32c(uint32_t crc, const void *p, size_t n)
{
#if HG_CRC_HW
    pthread_once(&crc_once, crc_init);
    if (crc_hw_ok)
        return crc_hw(crc, p, n);
#endif
    return seglog_crc32c_soft(crc, p, n);
}

/* --------------------------------------------------------------- helpers */

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void seglog_frame(unsigned char *hdr, enum seglog_type type, uint64_t seq, const void *payload,
                  uint32_t len)
{
    put32(hdr, SEGLOG_MAGIC);
    put32(hdr + 4, len);
    hdr[12] = (unsigned char)type;
    hdr[13] = hdr[14] = hdr[15] = 0;
    put32(hdr + 16, (uint32_t)seq);
    put32(hdr + 20, (uint32_t)(seq >> 32));
    uint32_t crc = seglog_crc32c(0, hdr + 12, SEGLOG_HDR - 12);
    put32(hdr + 8, seglog_crc32c(crc, payload, len));
}

int seglog_parse_hdr(const unsigned char *hdr, uint32_t *len, uint64_t *seq, enum seglog_type *type)
{
    *len = get32(hdr + 4);
    *seq = get64(hdr + 16);
    *type = (enum seglog_type)hdr[12];
    return get32(hdr) == SEGLOG_MAGIC && *len <= SEGLOG_REC_MAX &&
           (hdr[12] == SEGLOG_EVENT || hdr[12] == SEGLOG_PROBE) && !hdr[13] && !hdr[14] && !hdr[15];
}

int seglog_crc_ok(const unsigned char *hdr, const void *payload, uint32_t len)
{
    uint32_t crc = seglog_crc32c(0, hdr + 12, SEGLOG_HDR - 12);
    return seglog_crc32c(crc, payload, len) == get32(hdr + 8);
}

static void seg_path(const struct seglog *lg, uint64_t first, char *out, size_t n)
{
    snprintf(out, n, "%s/%016" PRIx64 ".log", lg->dir, first);
}

int seglog_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) ? errno : 0;
    close(fd);
    return rc;
}

/* seglog_parse_name - 1 and *first when name is a segment's file name
 * (16 lowercase hex digits + ".log"), else 0. */
static int seglog_parse_name(const char *name, uint64_t *first)
{
    uint64_t v = 0;
    if (strlen(name) != 20 || strcmp(name + 16, ".log"))
        return 0;
    for (int i = 0; i < 16; i++) {
        int c = (unsigned char)name[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return 0;
        v = v << 4 | (uint64_t)d;
    }
    *first = v;
    return 1;
}

static int cmp_seg(const void *a, const void *b)
{
    uint64_t x = ((const struct seg *)a)->first, y = ((const struct seg *)b)->first;
    return x < y ? -1 : x > y;
}

/* seg_fd - a descriptor of segment i for reading (lock held). */
static int seg_fd(struct seglog *lg, size_t i)
{
    if (lg->segs[i].fd < 0) {
        char p[4096];
        seg_path(lg, lg->segs[i].first, p, sizeof(p));
        lg->segs[i].fd = open(p, O_RDONLY | O_CLOEXEC);
    }
    return lg->segs[i].fd;
}

/* open_w - segment path p for writing (flags added), with O_DIRECT where
 * the file system takes it (some refuse it at open: then through the page
 * cache, same format; seglog_write also falls back when a write is
 * refused).  *direct says which. */
static int open_w(const char *p, int flags, mode_t mode, int *direct)
{
    int fd = open(p, O_WRONLY | O_CLOEXEC | O_DIRECT | flags, mode);
    *direct = fd >= 0;
    if (fd < 0 && errno == EINVAL)
        fd = open(p, O_WRONLY | O_CLOEXEC | flags, mode);
    return fd;
}

#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN 0x00002000U /* Linux 6.1; older headers lack it */
#endif

/* dio_unit - the unit O_DIRECT writes to fd must be aligned to (file
 * offset and memory): the file system's answer when it gives one (512
 * bytes on most disks, so a batch rewrites and pads less than a 4 KiB
 * block), else SEGLOG_BLOCK, which any disk of 4 KiB or smaller blocks
 * takes.  Never more than SEGLOG_BLOCK: the window's alignment and the
 * recovery rule for padding are in SEGLOG_BLOCK. */
static size_t dio_unit(int fd)
{
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN)) {
        size_t u = sx.stx_dio_offset_align > sx.stx_dio_mem_align ? sx.stx_dio_offset_align
                                                                  : sx.stx_dio_mem_align;
        if (u >= 512 && u <= SEGLOG_BLOCK && !(u & (u - 1)))
            return u;
    }
    return SEGLOG_BLOCK;
}

/* win_alloc - an aligned window of at least n bytes (replacing nothing). */
static unsigned char *win_alloc(size_t n)
{
    void *p = NULL;
    return posix_memalign(&p, SEGLOG_BLOCK, n) ? NULL : p;
}

/* ---------------------------------------------------------------- opening */

int seglog_open(const char *dir, int read_only, struct seglog **out)
{
    *out = NULL;
    struct seglog *lg = calloc(1, sizeof(*lg));
    if (!lg)
        return ENOMEM;
    size_t n = strlen(dir) + 5;
    if (!(lg->dir = malloc(n))) {
        free(lg);
        return ENOMEM;
    }
    snprintf(lg->dir, n, "%s/log", dir);
    lg->read_only = read_only;
    lg->wfd = -1;
    pthread_mutex_init(&lg->lock, NULL);
    if (!read_only) {
        /* a new log directory's entry is made durable before any record
         * in it can be acknowledged */
        int e = mkdir(lg->dir, 0700) == 0 ? seglog_sync_dir(dir) : errno == EEXIST ? 0 : errno;
        if (e) {
            seglog_close(lg);
            return e;
        }
    }
    DIR *d = opendir(lg->dir);
    if (!d) {
        int e = errno;
        if (e == ENOENT && read_only) { /* a store from before the log */
            *out = lg;
            return 0;
        }
        seglog_close(lg);
        return e;
    }
    size_t cap = 0;
    int rc = 0;
    for (struct dirent *e; (e = readdir(d));) {
        uint64_t first;
        if (!seglog_parse_name(e->d_name, &first))
            continue;
        if (lg->nsegs == SEGLOG_SEGS_MAX) {
            rc = EMFILE;
            break;
        }
        if (lg->nsegs == cap) {
            cap = cap ? cap * 2 : 16;
            struct seg *s = realloc(lg->segs, cap * sizeof(*s));
            if (!s) {
                rc = ENOMEM;
                break;
            }
            lg->segs = s;
        }
        lg->segs[lg->nsegs].first = first;
        lg->segs[lg->nsegs].refs = 0;
        lg->segs[lg->nsegs++].fd = -1;
    }
    closedir(d);
    if (rc) {
        seglog_close(lg);
        return rc;
    }
    if (lg->nsegs > 1)
        qsort(lg->segs, lg->nsegs, sizeof(*lg->segs), cmp_seg);
    *out = lg;
    return 0;
}

void seglog_close(struct seglog *lg)
{
    if (!lg)
        return;
    for (size_t i = 0; i < lg->nsegs; i++)
        if (lg->segs[i].fd >= 0)
            close(lg->segs[i].fd);
    if (lg->wfd >= 0) {
        /* a clean close leaves no padding (a crash leaves at most a block
         * of it, which recovery reads as the end); best effort */
        if (!lg->broken && lg->end == lg->synced && ftruncate(lg->wfd, (off_t)lg->end) == 0)
            (void)fdatasync(lg->wfd);
        close(lg->wfd);
    }
    pthread_mutex_destroy(&lg->lock);
    free(lg->win);
    free(lg->segs);
    free(lg->dir);
    free(lg);
}

/* --------------------------------------------------------------- recovery */

#define SCAN_BAD (-1) /* scan_seg: a bad record (fn's codes are errnos or HG_E*) */

/* zero_tail - 1 if bytes [off, size) of fd (fewer than SEGLOG_BLOCK) are
 * all zero: what seglog_write pads the last block it writes with.  No
 * record starts with a zero byte (the magic), so this is never data. */
static int zero_tail(int fd, uint64_t off, uint64_t size)
{
    unsigned char b[SEGLOG_BLOCK];
    size_t n = (size_t)(size - off);
    if (pread(fd, b, n, (off_t)off) != (ssize_t)n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* scan_seg - the records of segment i from offset off; *good ends at the
 * last good record, *size is the file's size.  0 at a clean end, SCAN_BAD
 * at a bad record, an errno or fn's code. */
static int scan_seg(struct seglog *lg, size_t i, uint64_t off, uint64_t *seq, seglog_rec_fn fn,
                    void *arg, uint64_t *good, uint64_t *size)
{
    int fd = seg_fd(lg, i);
    if (fd < 0)
        return errno;
    struct stat sb;
    if (fstat(fd, &sb))
        return errno;
    *size = (uint64_t)sb.st_size;
    *good = off;
    size_t cap = 1 << 16;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return ENOMEM;
    int rc = 0;
    while (!rc && off < *size) {
        if (*size - off < SEGLOG_BLOCK && zero_tail(fd, off, *size))
            break; /* the padding of the last block written: a clean end */
        unsigned char hdr[SEGLOG_HDR];
        ssize_t got = off + SEGLOG_HDR > *size ? 0 : pread(fd, hdr, SEGLOG_HDR, (off_t)off);
        if (got < 0) { /* a read error is not a torn tail: refuse, cut nothing */
            rc = errno ? errno : EIO;
            break;
        }
        if (got != SEGLOG_HDR) {
            rc = SCAN_BAD;
            break;
        }
        uint32_t len;
        uint64_t s;
        enum seglog_type type;
        if (!seglog_parse_hdr(hdr, &len, &s, &type) || off + SEGLOG_HDR + len > *size ||
            (type == SEGLOG_EVENT ? s != *seq + 1 : s < *seq)) {
            rc = SCAN_BAD;
            break;
        }
        if (len > cap) {
            unsigned char *nb = realloc(buf, len);
            if (!nb) {
                rc = ENOMEM;
                break;
            }
            buf = nb;
            cap = len;
        }
        got = len ? pread(fd, buf, len, (off_t)(off + SEGLOG_HDR)) : 0;
        if (got < 0) {
            rc = errno ? errno : EIO;
            break;
        }
        if (got != (ssize_t)len) {
            rc = SCAN_BAD;
            break;
        }
        if (!seglog_crc_ok(hdr, buf, len)) {
            rc = SCAN_BAD;
            break;
        }
        struct seglog_loc loc = {lg->segs[i].first, off + SEGLOG_HDR, len};
        if (fn && (rc = fn(arg, type, s, buf, &loc)))
            break;
        *seq = s;
        off += SEGLOG_HDR + len;
        *good = off;
    }
    free(buf);
    return rc;
}

/* seg_size - size of segment k, 0 if it cannot be read. */
static uint64_t seg_size(struct seglog *lg, size_t k)
{
    struct stat sb;
    int fd = seg_fd(lg, k);
    return fd >= 0 && fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* cut - truncate segment i at off and remove every later segment, durably. */
static int cut(struct seglog *lg, size_t i, uint64_t off)
{
    char p[4096];
    for (size_t k = lg->nsegs; k-- > i + 1;) {
        seg_path(lg, lg->segs[k].first, p, sizeof(p));
        if (lg->segs[k].fd >= 0)
            close(lg->segs[k].fd);
        lg->segs[k].fd = -1; /* closed, whatever unlink says */
        if (unlink(p) && errno != ENOENT)
            return errno;
        lg->nsegs--;
    }
    seg_path(lg, lg->segs[i].first, p, sizeof(p));
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = ftruncate(fd, (off_t)off) || fdatasync(fd) ? errno : 0;
    close(fd);
    return rc ? rc : seglog_sync_dir(lg->dir);
}

/* later_data - 1 if a segment after i holds any byte (acknowledged data
 * may be there: the log is damaged, not merely cut short by a crash). */
static int later_data(struct seglog *lg, size_t i)
{
    for (size_t k = i + 1; k < lg->nsegs; k++)
        if (seg_size(lg, k))
            return 1;
    return 0;
}

int seglog_recover(struct seglog *lg, const struct seglog_loc *from, uint64_t from_seq,
                   seglog_rec_fn fn, void *arg, uint64_t *end_seq, uint64_t *cut_bytes)
{
    uint64_t seq = from_seq, good = 0, size = 0, off = 0;
    size_t i = 0;
    *end_seq = from_seq;
    *cut_bytes = 0;
    if (!lg->nsegs)
        return from->seg ? EBADMSG : 0; /* a checkpoint names a segment that is gone */
    if (from->seg) {
        while (i < lg->nsegs && lg->segs[i].first != from->seg)
            i++;
        if (i == lg->nsegs)
            return EBADMSG;
        off = from->off + from->len;
    } else {
        /* nothing checkpointed yet: skip segments wholly below from_seq
         * (left by a retention sweep); the log must go on from there */
        while (i + 1 < lg->nsegs && lg->segs[i + 1].first <= from_seq + 1)
            i++;
        if (lg->segs[i].first > from_seq + 1)
            return EBADMSG;
        if (lg->segs[i].first <= from_seq)
            seq = lg->segs[i].first - 1; /* re-read records already applied */
    }
    for (;;) {
        int rc = scan_seg(lg, i, off, &seq, fn, arg, &good, &size);
        if (rc == SCAN_BAD) {
            if (later_data(lg, i))
                return EBADMSG;
            *cut_bytes = size - good;
            if (!lg->read_only && (rc = cut(lg, i, good)))
                return rc;
            break;
        }
        if (rc)
            return rc;
        if (i + 1 == lg->nsegs)
            break;
        if (lg->segs[i + 1].first <= seq) { /* a segment that cannot follow */
            if (later_data(lg, i))
                return EBADMSG;
            if (!lg->read_only && (rc = cut(lg, i, good)))
                return rc;
            break;
        }
        i++;
        off = 0;
    }
    *end_seq = seq < from_seq ? from_seq : seq;
    if (lg->read_only)
        return 0;
    char p[4096];
    seg_path(lg, lg->segs[i].first, p, sizeof(p));
    /* lg->wfd is set only once everything below succeeded: seglog_close
     * cuts the padding of an open wfd at `end`, which is 0 until then */
    int direct, wfd = open_w(p, 0, 0, &direct);
    if (wfd < 0)
        return errno;
    /* the window starts with the partial block the next write rewrites */
    if (!lg->win && !(lg->win = win_alloc(WIN_SIZE))) {
        close(wfd);
        return ENOMEM;
    }
    lg->wcap = WIN_SIZE;
    lg->wlo = good & ~(uint64_t)(SEGLOG_BLOCK - 1);
    size_t part = (size_t)(good - lg->wlo);
    int rfd = seg_fd(lg, i);
    if (part && (rfd < 0 || pread(rfd, lg->win, part, (off_t)lg->wlo) != (ssize_t)part)) {
        int e = rfd < 0 ? errno : EIO;
        close(wfd);
        return e;
    }
    lg->wfd = wfd;
    lg->cur_first = lg->segs[i].first;
    lg->direct = direct;
    lg->blk = direct ? dio_unit(wfd) : SEGLOG_BLOCK;
    lg->end = lg->synced = good;
    lg->total = 0;
    for (size_t k = 0; k + 1 < lg->nsegs; k++)
        lg->total += seg_size(lg, k);
    return 0;
}

/* ---------------------------------------------------------------- writing */

/* rotate - open a new segment named first (lock not held; writer only). */
static int rotate(struct seglog *lg, uint64_t first)
{
    char p[4096];
    seg_path(lg, first, p, sizeof(p));
    int direct;
    if (!lg->win && !(lg->win = win_alloc(WIN_SIZE)))
        return ENOMEM;
    lg->wcap = lg->wcap ? lg->wcap : WIN_SIZE;
    int fd = open_w(p, O_CREAT | O_EXCL, 0600, &direct);
    if (fd < 0 && errno == EEXIST) /* an empty one left by a failed batch */
        fd = open_w(p, O_TRUNC, 0, &direct);
    if (fd < 0)
        return errno;
    int rc = seglog_sync_dir(lg->dir);
    if (rc) {
        close(fd);
        unlink(p);
        return rc;
    }
    /* the full segment keeps no padding, so `total` is its size; a crash
     * before this leaves padding recovery reads as its end.  Outside the
     * lock: readers read below `end` through fds of their own */
    int cut_rc = lg->wfd >= 0 && lg->end == lg->synced ? ftruncate(lg->wfd, (off_t)lg->end) : 0;
    (void)cut_rc; /* best effort */
    pthread_mutex_lock(&lg->lock);
    size_t n = lg->nsegs;
    if (n && lg->segs[n - 1].first == first) {
        n--; /* the same file, reopened */
    } else {
        struct seg *s = realloc(lg->segs, (n + 1) * sizeof(*s));
        if (!s) {
            pthread_mutex_unlock(&lg->lock);
            close(fd);
            return ENOMEM;
        }
        lg->segs = s;
        lg->segs[n].fd = -1;
        lg->segs[n].refs = 0;
        lg->nsegs = n + 1;
    }
    lg->segs[n].first = first;
    if (lg->wfd >= 0)
        close(lg->wfd);
    lg->total += lg->end;
    lg->wfd = fd;
    lg->cur_first = first;
    lg->direct = direct;
    lg->blk = direct ? dio_unit(fd) : SEGLOG_BLOCK;
    lg->end = lg->synced = lg->wlo = 0;
    pthread_mutex_unlock(&lg->lock);
    return 0;
}

/* reopen_buffered - the newest segment again, without O_DIRECT (its
 * writes were refused: the device's block is bigger than SEGLOG_BLOCK).
 * The same format; only the page cache is back.  0 or an errno. */
static int reopen_buffered(struct seglog *lg)
{
    char p[4096];
    seg_path(lg, lg->cur_first, p, sizeof(p));
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    pthread_mutex_lock(&lg->lock);
    close(lg->wfd);
    lg->wfd = fd;
    lg->direct = 0;
    lg->blk = SEGLOG_BLOCK;
    pthread_mutex_unlock(&lg->lock);
    return 0;
}

/* win_room - make room in the window for len more bytes after end: slide
 * it down to the block holding end, or (a batch bigger than the window)
 * replace it with a bigger one.  Readers copy out of it under the lock. */
static int win_room(struct seglog *lg, size_t len)
{
    uint64_t a = lg->end & ~(uint64_t)(SEGLOG_BLOCK - 1);
    size_t keep = (size_t)(lg->end - a);
    if ((size_t)(lg->end - lg->wlo) + len + SEGLOG_BLOCK <= lg->wcap)
        return 0;
    size_t need = keep + len + SEGLOG_BLOCK;
    unsigned char *nw = NULL;
    size_t ncap = lg->wcap;
    if (need > ncap) {
        ncap = (need + SEGLOG_BLOCK - 1) & ~(size_t)(SEGLOG_BLOCK - 1);
        if (!(nw = win_alloc(ncap)))
            return ENOMEM;
    }
    pthread_mutex_lock(&lg->lock);
    if (nw) {
        memcpy(nw, lg->win + (a - lg->wlo), keep);
        free(lg->win);
        lg->win = nw;
        lg->wcap = ncap;
    } else {
        memmove(lg->win, lg->win + (a - lg->wlo), keep);
    }
    lg->wlo = a;
    pthread_mutex_unlock(&lg->lock);
    return 0;
}

int seglog_write(struct seglog *lg, uint64_t first_seq, const void *buf, size_t len,
                 struct seglog_loc *base)
{
    if (lg->read_only || lg->broken)
        return EIO;
    if (lg->wfd < 0 || (lg->end >= SEGLOG_SEG_MAX && lg->end == lg->synced)) {
        if (lg->wfd >= 0 && lg->cur_first >= first_seq && lg->end)
            return EINVAL; /* names must increase */
        int rc = rotate(lg, first_seq);
        if (rc)
            return rc;
    }
    if (win_room(lg, len))
        return ENOMEM;
    /* the batch goes after the partial unit's bytes, padded with zeros to
     * a whole unit; the write starts at that unit (O_DIRECT's rule).  The
     * window starts at a SEGLOG_BLOCK boundary at or below it. */
    uint64_t u = lg->blk; /* set with wfd (rotate, recovery, reopen_buffered) */
    uint64_t a = lg->end & ~(u - 1);
    uint64_t e = lg->end + len;
    uint64_t ae = (e + u - 1) & ~(u - 1);
    memcpy(lg->win + (lg->end - lg->wlo), buf, len);
    memset(lg->win + (e - lg->wlo), 0, (size_t)(ae - e));
    const unsigned char *p = lg->win + (a - lg->wlo);
    size_t n = (size_t)(ae - a), done = 0;
    while (done < n) {
        ssize_t w = pwrite(lg->wfd, p + done, n - done, (off_t)(a + done));
        if (w < 0 && errno == EINVAL && lg->direct && reopen_buffered(lg) == 0)
            continue; /* a device whose blocks are bigger than SEGLOG_BLOCK */
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (w == 0)
            return ENOSPC;
        done += (size_t)w;
    }
    base->seg = lg->cur_first;
    base->off = lg->end;
    base->len = (uint32_t)len;
    pthread_mutex_lock(&lg->lock); /* seglog_bytes reads it */
    lg->end = e;
    pthread_mutex_unlock(&lg->lock);
    return 0;
}

int seglog_sync(struct seglog *lg, int flush)
{
    if (lg->wfd < 0 || lg->broken)
        return EIO;
    if (flush && fdatasync(lg->wfd))
        return errno;
    pthread_mutex_lock(&lg->lock); /* seglog_pread serves [wlo, synced) from win */
    lg->synced = lg->end;
    pthread_mutex_unlock(&lg->lock);
    return 0;
}

int seglog_rewind(struct seglog *lg)
{
    if (lg->wfd < 0)
        return 0;
    if (ftruncate(lg->wfd, (off_t)lg->synced) || fdatasync(lg->wfd)) {
        lg->broken = 1;
        return errno ? errno : EIO;
    }
    lg->broken = 0;
    pthread_mutex_lock(&lg->lock);
    lg->end = lg->synced;
    pthread_mutex_unlock(&lg->lock);
    return 0;
}

/* ---------------------------------------------------------------- reading */

/* seg_find - index of the segment named first, or nsegs (lock held). */
static size_t seg_find(const struct seglog *lg, uint64_t first)
{
    size_t lo = 0, hi = lg->nsegs;
    while (lo < hi) { /* binary search by name */
        size_t mid = (lo + hi) / 2;
        if (lg->segs[mid].first < first)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < lg->nsegs && lg->segs[lo].first == first ? lo : lg->nsegs;
}

int seglog_pread(struct seglog *lg, const struct seglog_loc *loc, void *dst)
{
    if (loc->off > UINT64_MAX - loc->len)
        return EINVAL; /* a damaged locator */
    pthread_mutex_lock(&lg->lock);
    size_t i = seg_find(lg, loc->seg);
    if (i == lg->nsegs) {
        pthread_mutex_unlock(&lg->lock);
        return ENOENT;
    }
    if (i + 1 == lg->nsegs && lg->wfd >= 0 && loc->off >= lg->wlo &&
        loc->off + loc->len <= lg->synced) {
        memcpy(dst, lg->win + (loc->off - lg->wlo), loc->len); /* recent: no read */
        pthread_mutex_unlock(&lg->lock);
        return 0;
    }
    int fd = seg_fd(lg, i);
    if (fd < 0) {
        int e = errno;
        pthread_mutex_unlock(&lg->lock);
        return e;
    }
    lg->segs[i].refs++; /* the file read runs without the lock */
    pthread_mutex_unlock(&lg->lock);
    int rc = pread(fd, dst, loc->len, (off_t)loc->off) == (ssize_t)loc->len ? 0 : EIO;
    pthread_mutex_lock(&lg->lock);
    size_t k = seg_find(lg, loc->seg); /* still there: drop skips it */
    if (k < lg->nsegs)
        lg->segs[k].refs--;
    pthread_mutex_unlock(&lg->lock);
    return rc;
}

size_t seglog_drop_before(struct seglog *lg, uint64_t seq)
{
    if (lg->read_only)
        return 0;
    size_t n = 0;
    pthread_mutex_lock(&lg->lock);
    while (lg->nsegs > 1 && lg->segs[1].first <= seq && !lg->segs[0].refs) {
        char p[4096];
        seg_path(lg, lg->segs[0].first, p, sizeof(p));
        uint64_t sz = seg_size(lg, 0);
        if (unlink(p) && errno != ENOENT)
            break; /* still listed, its fd still open and valid */
        if (lg->segs[0].fd >= 0)
            close(lg->segs[0].fd);
        lg->total -= sz <= lg->total ? sz : lg->total;
        memmove(lg->segs, lg->segs + 1, (lg->nsegs - 1) * sizeof(*lg->segs));
        lg->nsegs--;
        n++;
    }
    pthread_mutex_unlock(&lg->lock);
    return n;
}

uint64_t seglog_bytes(struct seglog *lg)
{
    pthread_mutex_lock(&lg->lock);
    uint64_t b = lg->total + lg->end;
    pthread_mutex_unlock(&lg->lock);
    return b;
}
