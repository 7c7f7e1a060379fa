/*
 * storeloc.h - the value the store's "events" index holds for an event
 * whose record lives in the segment log (seglog.h): where the record is,
 * and when it was received (for retention, gc.c).  An index value is
 * either such a locator (STORE_LOC_SIZE bytes starting with
 * STORE_LOC_MAGIC) or, in a store written before the log, the record
 * itself (which starts with event.c's "HGE1" magic).
 */
#ifndef HG_STORELOC_H
#define HG_STORELOC_H

#include <stdint.h>
#include <string.h>

#define STORE_LOC_MAGIC "HGP1"
#define STORE_LOC_SIZE  32 /* magic, u32 len, u64 segment, u64 offset, u64 received_ms */

struct store_loc {
    uint64_t seg, off;
    uint32_t len;
    int64_t received_ms;
};

static inline void storeloc_put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static inline uint64_t storeloc_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* storeloc_write - encode l into dst (STORE_LOC_SIZE bytes). */
static inline void storeloc_write(const struct store_loc *l, unsigned char *dst)
{
    for (int i = 0; i < 4; i++)
        dst[i] = (unsigned char)STORE_LOC_MAGIC[i];
    dst[4] = (unsigned char)(l->len >> 24);
    dst[5] = (unsigned char)(l->len >> 16);
    dst[6] = (unsigned char)(l->len >> 8);
    dst[7] = (unsigned char)l->len;
    storeloc_put64(dst + 8, l->seg);
    storeloc_put64(dst + 16, l->off);
    storeloc_put64(dst + 24, (uint64_t)l->received_ms);
}

/* storeloc_read - 1 and *l filled if v is a locator, else 0. */
static inline int storeloc_read(const void *v, size_t len, struct store_loc *l)
{
    const unsigned char *p = v;
    if (len != STORE_LOC_SIZE || memcmp(p, STORE_LOC_MAGIC, 4))
        return 0;
    l->len = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    l->seg = storeloc_get64(p + 8);
    l->off = storeloc_get64(p + 16);
    l->received_ms = (int64_t)storeloc_get64(p + 24);
    return 1;
}

#endif
