/*
 * jscan.h - allocation-free, single-pass validating JSON scanner.
 *
 * Used on the request hot path to (a) reject anything that is not exactly one strict RFC 8259
 * JSON text and (b) locate a few top-level members of an object without building a tree;
 * jscan_pointer follows a JSON pointer through an already validated text (and finds a member
 * on its path that is repeated, which a tree would silently resolve one way or the other).
 * Nothing here allocates; every span points into the caller's buffer and is valid only as long
 * as that buffer is.
 *
 * Strictness: no trailing commas, comments, NaN/Infinity, leading zeros or raw control
 * characters in strings; escapes must be valid and \u surrogates properly paired; the input must
 * be well-formed UTF-8 (no overlongs, no encoded surrogates, nothing above U+10FFFF); nesting
 * deeper than JSCAN_MAX_DEPTH is rejected.
 */
#ifndef HG_JSCAN_H
#define HG_JSCAN_H

#include <stddef.h>

/* Maximum container nesting depth: 64 nested arrays/objects are accepted, 65 are not. */
#define JSCAN_MAX_DEPTH 64

enum jscan_kind {
    JSCAN_NONE = 0,
    JSCAN_STRING,
    JSCAN_NUMBER,
    JSCAN_OBJECT,
    JSCAN_ARRAY,
    JSCAN_TRUE,
    JSCAN_FALSE,
    JSCAN_NULL
};

/* Raw bytes of one value inside the caller's buffer; strings INCLUDE their quotes.
 * kind == JSCAN_NONE (ptr NULL, len 0) means the wanted key was not found. */
struct jscan_span {
    const char *ptr;
    size_t len;
    enum jscan_kind kind;
};

enum {
    JSCAN_OK = 0,
    JSCAN_EINVAL = -1,  /* not valid JSON (or malformed string span) */
    JSCAN_EDEPTH = -2,  /* nesting deeper than JSCAN_MAX_DEPTH */
    JSCAN_EDUP = -3,    /* a wanted key occurs twice at top level */
    JSCAN_ETOOBIG = -4, /* decoded string does not fit the output buffer */
};

/*
 * Validate buf[0..len) as exactly one JSON text (surrounding whitespace allowed).
 *
 * top_kind: if non-NULL, receives the kind of the top-level value (JSCAN_NONE on error).
 * wanted:   nwanted NUL-terminated key names (may be NULL when nwanted is 0).
 * found:    nwanted spans; found[i] describes the value of the top-level object member whose
 *           decoded key equals wanted[i] ("\u0069d" matches "id"), or kind JSCAN_NONE if absent.
 *           Keys of nested objects never match; a top-level array/scalar leaves all NONE.
 *           Spans point into buf (no copies, nothing to free).
 *
 * Returns JSCAN_OK; JSCAN_EINVAL; JSCAN_EDEPTH if the scan reached a 65th nesting level before
 * meeting any other error (either way the text is rejected); or JSCAN_EDUP if the text is
 * otherwise valid but a wanted key occurs twice at top level. On error the contents of found[]
 * are unspecified.
 */
int jscan_scan(const char *buf, size_t len, enum jscan_kind *top_kind, const char *const *wanted,
               size_t nwanted, struct jscan_span *found);

/*
 * Decode a JSON string span (with its quotes, e.g. from jscan_scan) into out as UTF-8.
 *
 * The decoded bytes must fit in cap - 1 bytes; a NUL is then written after them (the decoded
 * text may itself contain NULs from "\u0000", so rely on *out_len). *out_len (if non-NULL)
 * receives the decoded length. out may be NULL with cap 0 to only validate and measure.
 *
 * Returns JSCAN_OK; JSCAN_EINVAL if the span is not exactly one valid JSON string; or
 * JSCAN_ETOOBIG if the result does not fit, in which case nothing is truncated: out[0] is set to
 * NUL (if cap > 0) and *out_len receives the full decoded length, so cap = *out_len + 1 suffices.
 * Never writes more than cap bytes.
 */
int jscan_string_decode(const char *span, size_t span_len, char *out, size_t cap, size_t *out_len);

/*
 * Locate the value at RFC 6901 pointer ptr in buf[0..len), a text jscan_scan has accepted
 * (JSCAN_OK or JSCAN_EDUP).  ptr is "" (the whole text) or "/tok/tok..."; in a token "~0" stands
 * for '~' and "~1" for '/'.  An object step matches member keys by their decoded value; an array
 * step takes a token of decimal digits as the element's index.  Each object on the way is read to
 * its end, so a member on the path that occurs twice is found wherever the second one is.
 *
 * found:   receives the value's span (pointing into buf), or kind JSCAN_NONE when the path
 *          does not exist (a missing member or element, or a step into a scalar).
 * dup_end: if non-NULL and JSCAN_EDUP is returned, receives the length of the prefix of ptr
 *          that names the repeated member (ptr[0..*dup_end) is "/data/id" for ptr "/data/id/x").
 *
 * Returns JSCAN_OK; JSCAN_EDUP if an object member on the path (the last one included) occurs
 * more than once in its object; or JSCAN_EINVAL if ptr is neither "" nor starts with '/', or the
 * text is malformed where it is read (not every malformed text is noticed: validate first).
 * Nothing is allocated; never reads at or after buf + len.
 */
int jscan_pointer(const char *buf, size_t len, const char *ptr, struct jscan_span *found,
                  size_t *dup_end);

/* 1 if buf[0..len) is valid UTF-8 with the same strictness as jscan_scan, else 0. */
int jscan_utf8_valid(const char *buf, size_t len);

#endif
