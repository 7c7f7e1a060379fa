/*
 * buf.h - a growable byte buffer with a hard maximum.
 *
 * Created with its maximum (like curl's dynbuf): an append that would pass
 * it fails with HG_ETOOBIG and leaves the buffer unchanged - too big is an
 * error, never a truncation.  The content is always NUL-terminated one byte
 * past len (the NUL is not counted and not part of max), so text users may
 * treat p as a C string.
 */
#ifndef HG_BUF_H
#define HG_BUF_H

#include <stddef.h>

struct buf {
    char *p;    /* NULL until the first append or buf_reserve */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated, including room for the NUL */
    size_t max; /* largest len allowed */
};

/* buf_init - an empty buffer that may grow to max bytes.  Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* buf_reserve - make room for n more bytes at once (one allocation when the
 * final size is known, e.g. from Content-Length).  HG_ETOOBIG if len + n > max,
 * HG_ENOMEM on allocation failure. */
int buf_reserve(struct buf *b, size_t n);

/* buf_append - append n bytes.  HG_ETOOBIG / HG_ENOMEM as buf_reserve; on
 * error nothing is appended. */
int buf_append(struct buf *b, const void *data, size_t n);

/* buf_puts - append a C string. */
int buf_puts(struct buf *b, const char *s);

/* buf_printf - append formatted text (bounded by max like the others). */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* buf_reset - len = 0, keeps the allocation for reuse. */
void buf_reset(struct buf *b);

/* buf_free - release the memory; the buffer is empty and reusable after. NULL-safe. */
void buf_free(struct buf *b);

#endif
