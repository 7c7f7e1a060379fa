/*
 * mask.h - URLs and request paths as they may be shown: by `hookgate
 * check`, in log lines and in error messages.
 *
 * A URL carries credentials in three places: its userinfo (user:password@,
 * or a bare token@ as NATS and git hosts take it), its query (?token=…,
 * ?sig=…) and its path (a Slack or Discord webhook URL, a token route's last
 * segment).  What is hidden is chosen by position and length, never by what
 * the text looks like, so a credential is hidden whatever characters it
 * holds.  Output is printable ASCII: any other byte becomes '?', so a shown
 * URL can neither break a line nor drive a terminal.
 */
#ifndef HG_MASK_H
#define HG_MASK_H

#include <stddef.h>

#define MASK_SEGMENT_MIN 16 /* mask_url: a path segment this long may be a token */

/* mask_url - url as `check` and logs may show it, into out (cap > 0 bytes,
 * always NUL-terminated; cut short when it does not fit): the whole
 * userinfo, every path segment of MASK_SEGMENT_MIN or more bytes, every
 * query value (a query parameter without '=' whole) and the fragment become
 * "***"; the scheme, host, port, shorter path segments and query keys stay.
 * "https://u:p@h/in?a=1&b" is shown as "https://" "***@h/in?a=***&***".
 * Without "://" url is taken as a path and query.  Returns out. */
char *mask_url(const char *url, char *out, size_t cap);

/* mask_path - a request path for a log line, into out (as mask_url): its
 * first keep bytes as they are (a prefix the caller knows to be no secret,
 * such as a route's own path; at most strlen(path)), then every non-empty
 * segment as "...", whatever it holds, and the values of a query as "***".
 * "/hooks/x/T0KEN" with keep 6 -> "/hooks/.../...".  Returns out. */
char *mask_path(const char *path, size_t keep, char *out, size_t cap);

#endif
