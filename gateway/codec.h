/*
 * codec.h - small pure encoders and parsers shared by every module:
 * hex and base64, JSON string escaping, sizes ("1MiB"), durations ("5m"),
 * and RFC 3339 time stamps.
 *
 * No allocation except through a struct buf the caller owns; every decoder
 * is strict (a stray character is an error, never skipped).
 */
#ifndef HG_CODEC_H
#define HG_CODEC_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* hex_encode - 2*n lowercase hex digits of in into out, plus a NUL
 * (out must hold 2*n+1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

/* hex_decode - decode exactly 2*outlen hex digits (either case) from in[0..inlen).
 * HG_EINVAL unless inlen == 2*outlen and every char is a hex digit. */
int hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen);

/* hex_digit - the value of hex digit c (either case), or -1. */
int hex_digit(unsigned char c);

/* b64_encode - standard base64 with padding into out (4*ceil(n/3)+1 bytes), NUL-terminated. */
void b64_encode(const unsigned char *in, size_t n, char *out);

/* b64_decode - strict standard base64 (padding required) into out of cap bytes;
 * *outlen gets the decoded length.  HG_EINVAL on any bad character or
 * padding, HG_ETOOBIG if it does not fit. */
int b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap, size_t *outlen);

/* b64url_decode - base64url (RFC 4648 section 5: '-' and '_'), padding
 * optional, at most 508 characters (signatures, not documents), into out of
 * cap bytes; otherwise as b64_decode. */
int b64url_decode(const char *in, size_t inlen, unsigned char *out, size_t cap, size_t *outlen);

/* b64url_encode - base64url without padding into out (4*ceil(n/3)+1 bytes). */
void b64url_encode(const unsigned char *in, size_t n, char *out);

/* json_escape - append s[0..n) to b as a JSON string literal with quotes.
 * Bytes >= 0x80 are copied as they are: the caller passes valid UTF-8.
 * HG_ETOOBIG/HG_ENOMEM from the buffer. */
int json_escape(struct buf *b, const char *s, size_t n);

/* parse_size - "1MiB", "512KiB", "16GiB", "10MB", "4096" -> bytes.
 * HG_EINVAL on anything else (negative, overflow, unknown unit). */
int parse_size(const char *s, uint64_t *out);

/* parse_duration_ms - "250ms", "30s", "5m", "2h", "7d", or "12" (seconds) -> ms. */
int parse_duration_ms(const char *s, uint64_t *out);

/* time_format_ms - unix milliseconds -> "2026-11-22T15:54:07.123Z" (out >= 32 bytes). */
void time_format_ms(int64_t ms, char *out, size_t cap);

/* time_now_ms - wall clock in unix milliseconds. */
int64_t time_now_ms(void);

/* time_rfc3339_valid - 1 if s[0..n) is an RFC 3339 date-time in the form
 * JSON Schema's "date-time" accepts: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM),
 * uppercase T and Z, fields in range (month 1-12, day 1-31, hour 0-23,
 * minute 0-59, second 0-60), else 0. */
int time_rfc3339_valid(const char *s, size_t n);

#endif
