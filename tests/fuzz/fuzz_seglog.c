// clang-format off
/*
 * fuzz_seglog.c - libFuzzer driver for the segment log's recovery scan
 * (gateway/seglog.c), the parser that reads what a crash left on disk.
 *
 * The input is the content of a segment file named after seq 1 (after a
 * first byte that, when odd, puts two framed records of its own in front,
 * so the scan gets past the header more often).  It is recovered twice:
 * read-only, then for writing.  Invariants:
 *  - never crashes, reads out of bounds or leaks;
 *  - every record handed to the callback has the seq before it plus one
 *    (an event) or at least that seq (a probe), a payload length within
 *    the file and a locator inside it;
 *  - both scans see the same records; the writing one cuts the file to the
 *    end of the last of them (the read-only one changes nothing) and a
 *    third scan then finds the same records and nothing to cut;
 *  - a record appended after that recovery is found by the next one.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_seglog (linked against the
 * hgcore library the hookgate binary is made of, with ASan+UBSan).
 */
// clang-format on
#include "seglog.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], logdir[80], seg[128];

_Noreturn static void die(const char *what)
{
    fprintf(stderr, "fuzz_seglog: %s\n", what);
    abort();
}

struct seen {
    uint64_t n, last, bytes;
};

static int on_rec(void *arg, enum seglog_type type, uint64_t seq, const void *p,
                  const struct seglog_loc *loc)
{
    struct seen *s = arg;
    (void)p;
    if ((type == SEGLOG_EVENT ? seq != s->last + 1 : seq < s->last) || loc->seg != 1 ||
        loc->off < SEGLOG_HDR || loc->off + loc->len > s->bytes)
        die("record out of order or outside the file");
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

static off_t size_of(void)
{
    struct stat sb;
    return stat(seg, &sb) ? -1 : sb.st_size;
}

static struct seen scan(int ro, uint64_t *cut, off_t bytes)
{
    struct seglog *lg;
    struct seen s = {0, 0, (uint64_t)bytes};
    struct seglog_loc z = {0, 0, 0};
    uint64_t end;
    if (seglog_open(dir, ro, &lg))
        die("open");
    int rc = seglog_recover(lg, &z, 0, on_rec, &s, &end, cut);
    if (rc)
        die("recover failed on a single segment");
    if (end != s.last)
        die("end seq is not the last record's");
    seglog_close(lg);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/fuzz_seglog.XXXXXX");
        if (!mkdtemp(dir))
            die("mkdtemp");
        snprintf(logdir, sizeof(logdir), "%s/log", dir);
        mkdir(logdir, 0700);
        snprintf(seg, sizeof(seg), "%s/%016llx.log", logdir, 1ULL);
    }
    int fd = open(seg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        die("create");
    if (size && (data[0] & 1)) {
        unsigned char rec[SEGLOG_HDR + 5];
        for (uint64_t s = 1; s <= 2; s++) {
            seglog_frame(rec, SEGLOG_EVENT, s, "hello", 5);
            put_payload(rec, "hello", 5);
            if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec))
                die("write");
        }
    }
    if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
        die("write");
    close(fd);
    off_t full = size_of();
    if (full < 0)
        die("stat");
    uint64_t cut1, cut2, cut3;
    struct seen a = scan(1, &cut1, full);
    if (size_of() != full)
        die("a read-only scan changed the file");
    unsigned char *before = malloc((size_t)full + 1);
    int rfd = open(seg, O_RDONLY);
    if (!before || rfd < 0 || pread(rfd, before, (size_t)full, 0) != (ssize_t)full)
        die("read back");
    close(rfd);
    struct seen b = scan(0, &cut2, full);
    if (a.n != b.n || a.last != b.last || cut1 != cut2)
        die("read-only and writing scans disagree");
    /* the cut ends at the good records, or before the zero padding after
     * them (which a clean close takes off: seglog.h, "Padding") */
    uint64_t now = (uint64_t)size_of(), kept = (uint64_t)full - cut2;
    if (now > kept || kept - now >= SEGLOG_BLOCK)
        die("the cut is not where the good records end");
    for (uint64_t i = now; i < kept; i++)
        if (before[i])
            die("a clean close took off more than zero padding");
    free(before);
    struct seen c = scan(0, &cut3, size_of());
    if (c.n != b.n || cut3)
        die("a second recovery found something else");
    /* append one record after the recovered end */
    struct seglog *lg;
    struct seglog_loc z = {0, 0, 0}, base;
    uint64_t end = 0, cut = 0;
    struct seen d = {0, 0, (uint64_t)size_of()};
    if (seglog_open(dir, 0, &lg) || seglog_recover(lg, &z, 0, NULL, NULL, &end, &cut))
        die("reopen");
    unsigned char rec[SEGLOG_HDR + 3];
    seglog_frame(rec, SEGLOG_EVENT, end + 1, "new", 3);
    put_payload(rec, "new", 3);
    if (seglog_write(lg, end + 1, rec, sizeof(rec), &base) || seglog_sync(lg, 1))
        die("append");
    seglog_close(lg);
    d.bytes = (uint64_t)size_of();
    if (seglog_open(dir, 1, &lg) || seglog_recover(lg, &z, 0, on_rec, &d, &end, &cut))
        die("reopen after append");
    seglog_close(lg);
    if (d.n != b.n + 1 || cut)
        die("the appended record is not found");
    return 0;
}
