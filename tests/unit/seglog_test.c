/*
 * seglog_test.c - unit tests for the segment log (gateway/seglog.c).
 *
 * Covers: CRC-32C against the published check value; append + sync +
 * recover round trip (payloads and locators, read back with seglog_pread);
 * recovery from a checkpoint position; a torn tail (cut record, bad CRC,
 * garbage, zeros) is cut off durably and writing goes on from there;
 * seq gaps; rotation past SEGLOG_SEG_MAX and recovery across segments;
 * a damaged record followed by a segment holding data is refused
 * (EBADMSG) and nothing is changed; rewind after a failed batch;
 * seglog_drop_before; a read-only open changes nothing.
 */
#include "seglog.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64];
static int ndir;

static int rm_cb(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb;
    (void)f;
    (void)w;
    return remove(p);
}

static const char *fresh(void)
{
    static char d[128];
    snprintf(d, sizeof(d), "%s/d%d", base, ndir++);
    mkdir(d, 0700);
    return d;
}

/* append records seq from..to (payload "event N" padded to pad bytes) in
 * one batch; returns the rc of write+sync */
static int put(struct seglog *lg, uint64_t from, uint64_t to, size_t pad)
{
    size_t cap = (to - from + 1) * (SEGLOG_HDR + pad + 32), n = 0;
    unsigned char *buf = calloc(1, cap);
    for (uint64_t s = from; s <= to; s++) {
        char pl[4096];
        memset(pl, 'x', sizeof(pl));
        int k = snprintf(pl, sizeof(pl), "event %llu", (unsigned long long)s);
        size_t len = pad > (size_t)k ? pad : (size_t)k;
        seglog_frame(buf + n, SEGLOG_EVENT, s, pl, (uint32_t)len);
        memcpy(buf + n + SEGLOG_HDR, pl, len);
        n += SEGLOG_HDR + len;
    }
    struct seglog_loc b;
    int rc = seglog_write(lg, from, buf, n, &b);
    if (!rc)
        rc = seglog_sync(lg, 1);
    free(buf);
    return rc;
}

struct seen {
    uint64_t n, last;
    struct seglog_loc loc[64];
    int bad;
};

static int on_rec(void *arg, enum seglog_type type, uint64_t seq, const void *p,
                  const struct seglog_loc *loc)
{
    struct seen *s = arg;
    char want[64];
    int k = snprintf(want, sizeof(want), "event %llu", (unsigned long long)seq);
    if (type != SEGLOG_EVENT || memcmp(p, want, (size_t)k))
        s->bad++;
    if (s->n < 64)
        s->loc[s->n] = *loc;
    s->n++;
    s->last = seq;
    return 0;
}

/* put_payload - copy a record's payload after its header (a byte loop:
 * the payloads are text without a terminator, on purpose). */
static void put_payload(unsigned char *rec, const char *pl, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rec[SEGLOG_HDR + i] = (unsigned char)pl[i];
}

static int open_recover(const char *d, const struct seglog_loc *from, uint64_t from_seq,
                        struct seen *sn, uint64_t *end, uint64_t *cut, struct seglog **out)
{
    memset(sn, 0, sizeof(*sn));
    *end = *cut = 0;
    int rc = seglog_open(d, 0, out);
    if (rc)
        return rc;
    return seglog_recover(*out, from, from_seq, on_rec, sn, end, cut);
}

static off_t file_size(const char *d, uint64_t first)
{
    char p[256];
    struct stat sb;
    snprintf(p, sizeof(p), "%s/log/%016llx.log", d, (unsigned long long)first);
    return stat(p, &sb) ? -1 : sb.st_size;
}

static void append_bytes(const char *d, uint64_t first, const void *b, size_t n)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/log/%016llx.log", d, (unsigned long long)first);
    int fd = open(p, O_WRONLY | O_APPEND);
    T_CHECK(fd >= 0);
    if (fd < 0)
        return;
    T_CHECK(write(fd, b, n) == (ssize_t)n);
    close(fd);
}

static void test_crc(void)
{
    T_EQ_INT(seglog_crc32c(0, "123456789", 9), 0xe3069283u);
    uint32_t c = seglog_crc32c(0, "1234", 4);
    T_EQ_INT(seglog_crc32c(c, "56789", 5), 0xe3069283u);
    T_EQ_INT(seglog_crc32c_soft(0, "123456789", 9), 0xe3069283u);
    { /* the instruction path (where the CPU has it) and the tables agree */
        unsigned char b[300];
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)(i * 131 + 7);
        for (size_t off = 0; off < 9; off++)
            for (size_t len = 0; len + off <= sizeof(b); len += 37)
                T_EQ_INT(seglog_crc32c(5, b + off, len), seglog_crc32c_soft(5, b + off, len));
    }
}

static void test_round_trip(void)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0};
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(sn.n, 0);
    T_EQ_INT(put(lg, 1, 10, 100), 0);
    T_EQ_INT(put(lg, 11, 12, 3000), 0);
    seglog_close(lg);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(sn.n, 12);
    T_EQ_INT(end, 12);
    T_EQ_INT(cut, 0);
    T_EQ_INT(sn.bad, 0);
    char buf[4096];
    T_EQ_INT(seglog_pread(lg, &sn.loc[11], buf), 0);
    T_CHECK(!memcmp(buf, "event 12", 8));
    T_EQ_INT(sn.loc[11].len, 3000);
    /* from a checkpoint at seq 10: only 11 and 12 */
    struct seglog_loc ck = sn.loc[9];
    seglog_close(lg);
    T_EQ_INT(open_recover(d, &ck, 10, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(sn.n, 2);
    T_EQ_INT(end, 12);
    T_EQ_INT(put(lg, 13, 13, 10), 0);
    seglog_close(lg);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(end, 13);
    T_EQ_INT(sn.bad, 0);
    seglog_close(lg);
}

static void torn(const void *junk, size_t n, int cut_record)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0};
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(put(lg, 1, 5, 200), 0);
    seglog_close(lg);
    off_t good = file_size(d, 1);
    if (cut_record) { /* a whole record then only part of the next */
        unsigned char rec[SEGLOG_HDR + 300];
        char pl[300] = "event 6";
        seglog_frame(rec, SEGLOG_EVENT, 6, pl, sizeof(pl));
        put_payload(rec, pl, sizeof(pl));
        append_bytes(d, 1, rec, sizeof(rec) - (size_t)cut_record);
    } else {
        append_bytes(d, 1, junk, n);
    }
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(sn.n, 5);
    T_EQ_INT(end, 5);
    T_CHECK(cut > 0);
    T_EQ_INT(file_size(d, 1), good);
    T_EQ_INT(put(lg, 6, 7, 10), 0); /* goes on where the good part ends */
    seglog_close(lg);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(sn.n, 7);
    T_EQ_INT(cut, 0);
    T_EQ_INT(sn.bad, 0);
    seglog_close(lg);
}

static void test_torn_tails(void)
{
    unsigned char zeros[4096] = {0}, junk[100];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    torn(zeros, sizeof(zeros), 0);
    torn(junk, sizeof(junk), 0);
    torn(NULL, 0, 1);   /* last byte of the payload missing */
    torn(NULL, 0, 290); /* header whole, payload mostly missing */
    torn(NULL, 0, 310); /* header cut */
    /* bad CRC: a whole record whose payload changed after framing */
    unsigned char rec[SEGLOG_HDR + 16];
    seglog_frame(rec, SEGLOG_EVENT, 6, "event 6.........", 16);
    put_payload(rec, "event 6........X", 16);
    torn(rec, sizeof(rec), 0);
    /* a seq gap: record 8 after 5 */
    seglog_frame(rec, SEGLOG_EVENT, 8, "event 8.........", 16);
    put_payload(rec, "event 8.........", 16);
    torn(rec, sizeof(rec), 0);
}

/* The last block is written whole: a crash can leave zeros after the last
 * record, up to the block's end.  They are the log's clean end (nothing is
 * cut and writing goes on over them); zeros reaching further, or anything
 * non-zero in them, are a torn tail. */
/* dio_unit_of - the write unit the log should use for files in d: the
 * file system's direct-I/O alignment (512..SEGLOG_BLOCK), else
 * SEGLOG_BLOCK; 0 if this file system refuses O_DIRECT (buffered writes
 * leave no padding). */
static size_t dio_unit_of(const char *d)
{
    char p[160];
    snprintf(p, sizeof(p), "%s/probe", d);
    int fd = open(p, O_WRONLY | O_CREAT | O_DIRECT, 0600);
    if (fd < 0) {
        unlink(p);
        return 0;
    }
    struct statx sx;
    size_t u = SEGLOG_BLOCK;
    if (statx(fd, "", AT_EMPTY_PATH, 0x00002000U /* STATX_DIOALIGN */, &sx) == 0 &&
        (sx.stx_mask & 0x00002000U)) {
        size_t a = sx.stx_dio_offset_align > sx.stx_dio_mem_align ? sx.stx_dio_offset_align
                                                                  : sx.stx_dio_mem_align;
        if (a >= 512 && a <= SEGLOG_BLOCK)
            u = a;
    }
    close(fd);
    unlink(p);
    return u;
}

static void test_padding_is_a_clean_end(void)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0};
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(put(lg, 1, 3, 100), 0);
    /* padded while open, to a whole unit of the file's direct-I/O
     * alignment (512 bytes to SEGLOG_BLOCK) */
    T_CHECK(file_size(d, 1) % 512 == 0 && file_size(d, 1) > 300 &&
            file_size(d, 1) <= (off_t)SEGLOG_BLOCK);
    off_t open_size = file_size(d, 1);
    seglog_close(lg);
    off_t good = file_size(d, 1);
    size_t unit = dio_unit_of(d); /* the padding ends at the file's own unit */
    if (unit)
        T_EQ_INT(open_size, (good + (off_t)unit - 1) / (off_t)unit * (off_t)unit);
    T_CHECK(good > 0 && good < (off_t)SEGLOG_BLOCK); /* a clean close cuts the padding */
    unsigned char zeros[SEGLOG_BLOCK] = {0};
    append_bytes(d, 1, zeros, SEGLOG_BLOCK - (size_t)good);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(sn.n, 3);
    T_EQ_INT(cut, 0);
    T_EQ_INT(sn.bad, 0);
    T_EQ_INT(put(lg, 4, 40, 100), 0); /* over the padding, into the next block */
    char buf[128];
    struct seglog_loc l3 = sn.loc[2];
    T_EQ_INT(seglog_pread(lg, &l3, buf), 0);
    T_CHECK(!memcmp(buf, "event 3", 7));
    seglog_close(lg);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(sn.n, 40);
    T_EQ_INT(cut, 0);
    T_EQ_INT(sn.bad, 0);
    seglog_close(lg);
    /* zeros then a stray byte inside the block: torn, cut back */
    good = file_size(d, 1);
    size_t pad = SEGLOG_BLOCK - (size_t)(good % SEGLOG_BLOCK);
    zeros[pad - 1] = 1;
    append_bytes(d, 1, zeros, pad);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(sn.n, 40);
    T_EQ_INT(cut, pad);
    T_EQ_INT(file_size(d, 1), good);
    seglog_close(lg);
}

/* A recovery that fails after the segment was opened for writing (here: a
 * checkpoint that points past the file's end) changes nothing on close:
 * the clean close's padding cut must not run with an end it never had. */
static void test_failed_recovery_cuts_nothing(void)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0};
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(put(lg, 1, 10, 100), 0);
    seglog_close(lg);
    off_t sz = file_size(d, 1);
    struct seglog_loc past = {1, (uint64_t)sz + 10000, 10};
    T_CHECK(open_recover(d, &past, 10, &sn, &end, &cut, &lg) != 0);
    seglog_close(lg);
    T_EQ_INT(file_size(d, 1), sz);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(sn.n, 10);
    seglog_close(lg);
}

/* Records are read back from memory while recent and from the file once
 * the window has moved on: both give the bytes written. */
static void test_reads_old_and_recent(void)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0};
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(put(lg, 1, 5, 3000), 0);
    seglog_close(lg);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    struct seglog_loc first = sn.loc[0];
    uint64_t s = 6;
    for (int i = 0; i < 8; i++, s += 1000) /* 32 MB: past the window */
        T_EQ_INT(put(lg, s, s + 999, 4000), 0);
    char buf[4096];
    T_EQ_INT(seglog_pread(lg, &first, buf), 0);
    T_CHECK(!memcmp(buf, "event 1", 7) && buf[2999] == 'x');
    struct seglog_loc bad = {first.seg, UINT64_MAX - 10, 100}; /* a damaged locator */
    T_EQ_INT(seglog_pread(lg, &bad, buf), EINVAL);
    struct seglog_loc gone = {first.seg + 12345, 0, 10};
    T_EQ_INT(seglog_pread(lg, &gone, buf), ENOENT);
    seglog_close(lg);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(end, s - 1);
    T_EQ_INT(sn.bad, 0);
    seglog_close(lg);
}

/* the bench knob's sync (flush 0) counts the bytes as synced: a read of
 * the batch is served (before, nothing past the last real sync was) */
static void test_sync_without_flush(void)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0}, at0;
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    unsigned char rec[SEGLOG_HDR + 7];
    seglog_frame(rec, SEGLOG_EVENT, 1, "event 1", 7);
    put_payload(rec, "event 1", 7);
    T_EQ_INT(seglog_write(lg, 1, rec, sizeof(rec), &at0), 0);
    T_EQ_INT(seglog_sync(lg, 0), 0);
    struct seglog_loc at = {at0.seg, at0.off + SEGLOG_HDR, 7};
    char buf[8] = {0};
    T_EQ_INT(seglog_pread(lg, &at, buf), 0);
    T_CHECK(!memcmp(buf, "event 1", 7));
    T_EQ_INT(seglog_rewind(lg), 0); /* nothing to cut: it counts as synced */
    T_EQ_INT(seglog_pread(lg, &at, buf), 0);
    seglog_close(lg);
}

/* a segment whose unlink fails stays listed with its fd open: a read of it
 * still gets its own bytes, not another file's that reused the number */
static void test_failed_drop_keeps_the_segment(void)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0};
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    uint64_t s = 1;
    while (seglog_bytes(lg) < SEGLOG_SEG_MAX + 100000) {
        T_EQ_INT(put(lg, s, s + 1999, 4000), 0);
        s += 2000;
    }
    T_EQ_INT(put(lg, s, s, 4000), 0); /* the second segment */
    struct seglog_loc first = {1, SEGLOG_HDR, 4000};
    char buf[4096];
    T_EQ_INT(seglog_pread(lg, &first, buf), 0); /* opens its read fd */
    /* unlink fails (even for root) when the name is a directory: move the
     * file aside (its fd still reads it) and put a directory in its place */
    char seg[192], aside[192];
    snprintf(seg, sizeof(seg), "%s/log/%016llx.log", d, 1ull);
    snprintf(aside, sizeof(aside), "%s/aside", d);
    T_EQ_INT(rename(seg, aside), 0);
    T_EQ_INT(mkdir(seg, 0700), 0);
    T_EQ_INT(seglog_drop_before(lg, s), 0);
    int other = open("/dev/zero", O_RDONLY); /* would take a closed number */
    memset(buf, 0x55, sizeof(buf));
    T_EQ_INT(seglog_pread(lg, &first, buf), 0);
    T_CHECK(!memcmp(buf, "event 1", 7));
    if (other >= 0)
        close(other);
    T_EQ_INT(rmdir(seg), 0);
    T_EQ_INT(rename(aside, seg), 0);
    T_EQ_INT(seglog_drop_before(lg, s), 1);
    T_EQ_INT(seglog_pread(lg, &first, buf), ENOENT);
    seglog_close(lg);
}

static void test_rotation_and_drop(void)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0};
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    uint64_t s = 1;
    size_t per = 2000; /* 4,000 bytes each: 64 MiB is about 16,800 records */
    while (seglog_bytes(lg) < 3ull * SEGLOG_SEG_MAX) {
        T_EQ_INT(put(lg, s, s + per - 1, 4000), 0);
        s += per;
    }
    uint64_t last = s - 1;
    T_CHECK(file_size(d, 1) >= SEGLOG_SEG_MAX);
    /* a full segment keeps no zero padding: it ends at its last record
     * (every record here is SEGLOG_HDR + 4000 bytes), and the log's byte
     * count is the files' sizes */
    T_EQ_INT(file_size(d, 1) % (SEGLOG_HDR + 4000), 0);
    uint64_t bytes = seglog_bytes(lg);
    seglog_close(lg);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(seglog_bytes(lg), bytes); /* reopened, it counts the files' sizes */
    T_EQ_INT(sn.n, last);
    T_EQ_INT(end, last);
    T_EQ_INT(sn.bad, 0);
    /* drop what lies below the third segment's first seq */
    uint64_t before = seglog_bytes(lg);
    T_CHECK(seglog_drop_before(lg, last) >= 2);
    T_CHECK(seglog_bytes(lg) < before);
    T_EQ_INT(file_size(d, 1), -1);
    seglog_close(lg);
    /* recovery with no checkpoint skips nothing it needs: from the last
     * seq below the remaining segments */
    T_EQ_INT(seglog_open(d, 0, &lg), 0);
    memset(&sn, 0, sizeof(sn));
    T_EQ_INT(seglog_recover(lg, &z, last, on_rec, &sn, &end, &cut), 0);
    T_EQ_INT(end, last);
    T_EQ_INT(sn.bad, 0);
    seglog_close(lg);
}

static void test_damage_before_data_is_refused(void)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0};
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    uint64_t s = 1;
    while (seglog_bytes(lg) < SEGLOG_SEG_MAX + 100000) {
        T_EQ_INT(put(lg, s, s + 999, 4000), 0);
        s += 1000;
    }
    T_EQ_INT(put(lg, s, s + 9, 100), 0); /* the first records of a second segment */
    T_CHECK(file_size(d, s) > 0);
    seglog_close(lg);
    /* flip a byte in the middle of the first segment */
    char p[256];
    snprintf(p, sizeof(p), "%s/log/%016llx.log", d, 1ULL);
    int fd = open(p, O_RDWR);
    unsigned char b;
    T_CHECK(pread(fd, &b, 1, 1 << 20) == 1);
    b ^= 0x40;
    T_CHECK(pwrite(fd, &b, 1, 1 << 20) == 1);
    close(fd);
    off_t sz = file_size(d, 1);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), EBADMSG);
    seglog_close(lg);
    T_EQ_INT(file_size(d, 1), sz); /* nothing cut */
}

static void test_rewind(void)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0};
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(put(lg, 1, 3, 50), 0);
    off_t good = file_size(d, 1);
    /* a batch written but not synced (as if fdatasync failed) */
    unsigned char rec[SEGLOG_HDR + 7];
    seglog_frame(rec, SEGLOG_EVENT, 4, "event 4", 7);
    put_payload(rec, "event 4", 7);
    struct seglog_loc b;
    T_EQ_INT(seglog_write(lg, 4, rec, sizeof(rec), &b), 0);
    T_CHECK(good % 512 == 0); /* the last unit is written whole (padding) */
    T_CHECK(file_size(d, 1) >= good);
    T_CHECK(b.off < (uint64_t)good);
    T_EQ_INT(seglog_rewind(lg), 0);
    T_EQ_INT(file_size(d, 1), b.off); /* back to the last synced byte */
    T_EQ_INT(put(lg, 4, 4, 50), 0);   /* the same seq again */
    seglog_close(lg);
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(end, 4);
    T_EQ_INT(sn.bad, 0);
    seglog_close(lg);
}

static void test_read_only(void)
{
    const char *d = fresh();
    struct seglog *lg;
    struct seen sn;
    uint64_t end = 0, cut = 0;
    struct seglog_loc z = {0, 0, 0};
    T_EQ_INT(open_recover(d, &z, 0, &sn, &end, &cut, &lg), 0);
    T_EQ_INT(put(lg, 1, 2, 50), 0);
    seglog_close(lg);
    append_bytes(d, 1, "garbage!", 8);
    off_t sz = file_size(d, 1);
    T_EQ_INT(seglog_open(d, 1, &lg), 0);
    memset(&sn, 0, sizeof(sn));
    T_EQ_INT(seglog_recover(lg, &z, 0, on_rec, &sn, &end, &cut), 0);
    T_EQ_INT(sn.n, 2);
    T_EQ_INT(cut, 8);
    struct seglog_loc b;
    T_EQ_INT(seglog_write(lg, 3, "x", 1, &b), EIO);
    seglog_close(lg);
    T_EQ_INT(file_size(d, 1), sz);
    /* a read-only open of a store that has no log yet */
    const char *e = fresh();
    T_EQ_INT(seglog_open(e, 1, &lg), 0);
    T_EQ_INT(seglog_recover(lg, &z, 7, on_rec, &sn, &end, &cut), 0);
    T_EQ_INT(end, 7);
    seglog_close(lg);
}

int main(void)
{
    snprintf(base, sizeof(base), "/tmp/seglog_test.XXXXXX");
    if (!mkdtemp(base))
        return 1;
    T_RUN(test_crc);
    T_RUN(test_round_trip);
    T_RUN(test_torn_tails);
    T_RUN(test_padding_is_a_clean_end);
    T_RUN(test_reads_old_and_recent);
    T_RUN(test_failed_recovery_cuts_nothing);
    T_RUN(test_rotation_and_drop);
    T_RUN(test_sync_without_flush);
    T_RUN(test_failed_drop_keeps_the_segment);
    T_RUN(test_damage_before_data_is_refused);
    T_RUN(test_rewind);
    T_RUN(test_read_only);
    nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return t_finish();
}
