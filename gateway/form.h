/*
 * form.h - application/x-www-form-urlencoded bodies and query strings: the
 * parameters a URL-signing producer covers (Twilio's {form}) and the query
 * parameters a handshake reads (hub.challenge, validationToken, crc_token).
 *
 * Decoding (WHATWG URL, "application/x-www-form-urlencoded parsing"):
 * parameters are separated by '&' (empty ones, as in "a=1&&b=2" or a
 * trailing '&', are skipped); a parameter's name runs to its first '='
 * and its value is the rest ("a=b=c": name "a", value "b=c"); a parameter
 * without '=' has an empty value; an empty name ("=x") is kept.  '+' is a
 * space and %XX (two hex digits, either case) is that byte; any other '%'
 * is malformed (refused, never passed through).  Decoded bytes are not
 * checked as UTF-8 and may contain NUL ("%00"): every length is explicit.
 *
 * Nothing here allocates; everything is bounded by the caller's buffers.
 */
#ifndef HG_FORM_H
#define HG_FORM_H

#include <stddef.h>

/* form_param - one decoded parameter; name and value point into the
 * caller's buffer given to form_parse (not NUL-terminated). */
struct form_param {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* form_parse - split body (len bytes, any bytes) into its parameters,
 * decoded into buf, in the order they appear.
 * @param[in]  body  the raw body (may be NULL when len is 0)
 * @param[out] buf   cap bytes for the decoded names and values; len bytes
 *                   always suffice (decoding never grows)
 * @param[out] out   at most max parameters, pointing into buf
 * @param[out] n     the number of parameters (0 on error)
 * @return HG_OK; HG_EINVAL for a '%' not followed by two hex digits;
 *         HG_ETOOBIG for more than max parameters or a buf too small. */
int form_parse(const char *body, size_t len, char *buf, size_t cap, struct form_param *out,
               size_t max, size_t *n);

/* form_cmp - the order of the signed parameter list: a, b compared as the
 * strings Twilio's SDK compares (JavaScript's default sort: UTF-16 code
 * units).  For UTF-8 that is byte order except that U+E000..U+FFFF sort
 * after the supplementary characters (U+10000 and up); for ASCII it is
 * plain byte order.  A shorter string that is a prefix of the other comes
 * first.  <0, 0, >0. */
int form_cmp(const char *a, size_t an, const char *b, size_t bn);

/* form_sort - sort p by name, then (for repeated names) by value, both in
 * form_cmp's order.  Parameters that compare equal are identical, so the
 * result does not depend on the input order. */
void form_sort(struct form_param *p, size_t n);

/* form_canon - the list Twilio signs (its SDK, webhooks.js, twilio 6.x:
 * names sorted; a repeated name's values de-duplicated, sorted, and each
 * appended as name then value): form_sort, then every parameter equal to
 * the one before it (same name, same value) dropped.  Returns the new
 * count; p[0..count) is the list to concatenate as name1 value1 name2
 * value2 ... (no separators). */
size_t form_canon(struct form_param *p, size_t n);

/* form_query_get - the decoded value of the first parameter named name in
 * a raw query string (the part of the request target after '?', without
 * it; NULL = no query), as form_parse decodes it.
 * @param[in]  name    compared with each parameter's decoded name, bytewise
 * @param[out] out     cap bytes: the value and a NUL after it
 * @param[out] outlen  the value's length (it may contain NUL bytes)
 * @return 1 found, 0 not found, -1 malformed (a bad %-escape in a name
 *         before the match or in the match's value) or a value that does
 *         not fit in cap - 1 bytes. */
int form_query_get(const char *query, const char *name, char *out, size_t cap, size_t *outlen);

#endif
