/*
 * seglog.h - the store's segment log: event records appended in seq order
 * to files under DATA_DIR/log/, made durable a batch at a time with one
 * write and one fdatasync.
 *
 * Why: a randomly keyed B-tree insert dirties a whole page per event; an
 * append writes the record once, contiguously (docs/performance.md).  The
 * log is the store's write-ahead log and the home of the event bodies;
 * LMDB keeps the dedupe keys, a seq -> locator index and the cursors, and
 * is brought up to date from the log after a crash (store.c).
 *
 * Format.  A segment is named after the seq of its first record,
 * "%016" PRIx64 ".log", and holds records back to back:
 *
 *   u32 magic "HGL1" | u32 payload length | u32 CRC-32C | u8 type | 3 zero
 *   | u64 seq | payload
 *
 * all little-endian.  The CRC covers the header after it and the payload.
 * An event record's seq is the previous record's plus one; a probe
 * record's is at least the previous one's (it proves the disk writable,
 * and may move the seqs on: the next event follows it).  seqs carry on
 * from one segment to the next, and a segment's name is above the last
 * seq before it.  The first record that fails any check
 * ends the log: everything after it was never acknowledged (a batch is
 * acknowledged only after the fdatasync that covers it), so recovery cuts
 * it off (seglog_recover).
 *
 * Padding.  The newest segment is written with O_DIRECT where the file
 * system allows it: from one aligned window in memory, in whole units of
 * the file's direct-I/O alignment (512 bytes up to SEGLOG_BLOCK; statx
 * STATX_DIOALIGN, SEGLOG_BLOCK when unknown), each write starting at the
 * unit that holds the end (rewriting its first part unchanged) and padded
 * with zeros to a unit's end.  So the file can end with fewer than
 * SEGLOG_BLOCK zero bytes after the last record; they are its clean end (no record starts
 * with a zero byte), and the next write goes over them.  A clean close
 * cuts them off.  Why: no copy into the page cache and no writeback walk
 * in the fdatasync (docs/performance.md), and recent records are read
 * back from the window instead of the file.
 *
 * Threads: one writer (seglog_write/sync/rewind/rotate), any number of
 * readers (seglog_pread) and one remover (seglog_drop_before); the
 * segment table is guarded by an internal lock.
 */
#ifndef HG_SEGLOG_H
#define HG_SEGLOG_H

#include <stddef.h>
#include <stdint.h>

#define SEGLOG_HDR      24
#define SEGLOG_MAGIC    0x314c4748u /* "HGL1" */
#define SEGLOG_SEG_MAX  (64u << 20) /* a segment is closed past this size */
#define SEGLOG_REC_MAX  (16u << 20) /* longest payload accepted when reading */
#define SEGLOG_SEGS_MAX 65536       /* live segments (4 TiB at 64 MiB each) */
#define SEGLOG_BLOCK    4096u       /* the largest write unit; see "Padding" */

enum seglog_type { SEGLOG_EVENT = 1, SEGLOG_PROBE = 2 };

struct seglog;

/* Where a record's payload lives: segment (its first seq), offset of the
 * payload in it, and length. */
struct seglog_loc {
    uint64_t seg;
    uint64_t off;
    uint32_t len;
};

/* seglog_open - open (create 0700) DIR/log and list its segments.  Nothing
 * is read or written yet: call seglog_recover before seglog_write.
 * read_only: never create, write, truncate or remove.  0 or an errno. */
int seglog_open(const char *dir, int read_only, struct seglog **out);

/* seglog_close - close the files and free lg (NULL is fine). */
void seglog_close(struct seglog *lg);

/* A record found by seglog_recover: its type, seq, payload and locator. */
typedef int (*seglog_rec_fn)(void *arg, enum seglog_type type, uint64_t seq, const void *payload,
                             const struct seglog_loc *loc);

/* seglog_recover - read every record after position `from` (the end of
 * the last record already applied elsewhere: from.seg and from.off+len;
 * a zeroed from = the start of the oldest segment) and call fn for each
 * in order; fn returning non-zero stops the scan with that code.  The
 * first bad record (bad magic, length, CRC, type or seq sequence, or a
 * record cut short) ends the log: unless read-only, the segment is
 * truncated there and any later segment removed, and that is made
 * durable.  *end_seq is the seq of the last good record (or from_seq when
 * there is none), which the caller passes as from_seq: the seq of the
 * record at `from`.  Afterwards seglog_write appends at the end.  0, an
 * errno, or fn's code. */
int seglog_recover(struct seglog *lg, const struct seglog_loc *from, uint64_t from_seq,
                   seglog_rec_fn fn, void *arg, uint64_t *end_seq, uint64_t *cut_bytes);

/* seglog_frame - write a record header for a payload of len bytes into
 * hdr (SEGLOG_HDR bytes) given the payload itself (for the CRC). */
void seglog_frame(unsigned char *hdr, enum seglog_type type, uint64_t seq, const void *payload,
                  uint32_t len);

/* seglog_parse_hdr - the fields of a record header (SEGLOG_HDR bytes):
 * 1 when its magic, length bound, type and padding are valid, with *len,
 * *seq and *type set; else 0.  The CRC is checked once the payload is at
 * hand (seglog_crc_ok); whether seq follows is the reader's rule. */
int seglog_parse_hdr(const unsigned char *hdr, uint32_t *len, uint64_t *seq,
                     enum seglog_type *type);

/* seglog_sync_dir - fsync directory dir, making the entries made in it
 * durable.  0 or an errno. */
int seglog_sync_dir(const char *dir);

/* seglog_crc_ok - 1 if header hdr's CRC matches it and its payload. */
int seglog_crc_ok(const unsigned char *hdr, const void *payload, uint32_t len);

/* seglog_write - append buf (framed records, the first with seq
 * first_seq) at the end of the log, opening a new segment named first_seq
 * when the current one is past SEGLOG_SEG_MAX (or there is none).  *base
 * is where buf starts: a record's payload at byte i of buf is at
 * (base->seg, base->off + i).  Nothing is durable until seglog_sync.  On
 * failure call seglog_rewind.  0 or an errno. */
int seglog_write(struct seglog *lg, uint64_t first_seq, const void *buf, size_t len,
                 struct seglog_loc *base);

/* seglog_sync - fdatasync the current segment: everything written so far
 * is durable when it returns 0.  An errno otherwise (then seglog_rewind).
 * flush 0 skips the fdatasync but counts the bytes as synced: only the
 * bench knob "nosync" passes it. */
int seglog_sync(struct seglog *lg, int flush);

/* seglog_rewind - after a failed write or sync: cut the segment back to
 * the end of the last synced write and sync that, so nothing of the failed
 * batch can come back after a crash.  0, or an errno: then seglog_write
 * and seglog_sync fail with EIO until a later seglog_rewind succeeds. */
int seglog_rewind(struct seglog *lg);

/* seglog_pread - read len bytes of a payload at loc into dst.  0, ENOENT
 * (the segment was removed), or an errno.  Any thread; the file read runs
 * without the log's lock (the segment is not dropped under it). */
int seglog_pread(struct seglog *lg, const struct seglog_loc *loc, void *dst);

/* seglog_drop_before - remove the segments all of whose records have a
 * seq below `seq` (never the newest segment).  Returns how many. */
size_t seglog_drop_before(struct seglog *lg, uint64_t seq);

/* seglog_bytes - total size of the live segments. */
uint64_t seglog_bytes(struct seglog *lg);

/* seglog_crc32c - CRC-32C (Castagnoli) of n bytes, continuing from crc
 * (0 to start). */
uint32_t seglog_crc32c(uint32_t crc, const void *p, size_t n);
/* seglog_crc32c_soft - the same, always by tables (the portable path; the
 * unit tests compare the two). */
uint32_t seglog_crc32c_soft(uint32_t crc, const void *p, size_t n);

#endif
