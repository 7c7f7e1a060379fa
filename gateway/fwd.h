/*
 * fwd.h - trusted proxies and the headers they forward: which address a
 * request really comes from, and which scheme and host it was sent to, when
 * hookgate runs behind a proxy or load balancer (a listener's
 * "trusted_proxies").
 *
 * Trust is decided by the TCP peer alone: only when the peer is one of the
 * listener's trusted proxies are X-Forwarded-For / Forwarded /
 * X-Forwarded-Proto / X-Forwarded-Host read at all; from any other peer
 * they change nothing (a client can write them).  In a forwarding chain
 * each proxy appends the address it received the request from, so the
 * list is read from the right: the rightmost address that is not itself a
 * trusted proxy is the client; everything to its left was written by the
 * client and is never looked at (so garbage there cannot change the
 * answer).  When every address is trusted, the leftmost one is the
 * client.  A header line that a trusted proxy wrote badly, an unknown or
 * obfuscated node (RFC 7239), or a chain longer than FWD_HOPS_MAX leaves
 * the peer as the client, with a reason for the log.
 *
 * Several header lines of one name are one list, in the order received
 * (RFC 9110, 5.3): the caller collects them with fwd_lines_add (http.c
 * walks libmicrohttpd's headers with MHD_get_connection_values; its
 * MHD_lookup_connection_value would only give the first line).
 *
 * Nothing here allocates or keeps state; every function is thread-safe.
 */
#ifndef HG_FWD_H
#define HG_FWD_H

#include <stddef.h>
#include <sys/socket.h>

#define FWD_TRUSTED_MAX 64  /* entries of a listener's trusted_proxies */
#define FWD_LINES_MAX   16  /* header lines of one name kept (the last ones) */
#define FWD_HOPS_MAX    64  /* addresses read from the right of a chain, at most */
#define FWD_HOST_MAX    261 /* X-Forwarded-Host / Host: 255 for the name, ":" and a port */

/* fwd_cidr - one trusted_proxies entry: family AF_INET (addr[0..4)) or
 * AF_INET6 (addr[0..16)), prefix length bits (at most 32 / 128). */
struct fwd_cidr {
    int family;
    unsigned char addr[16];
    unsigned bits;
};

/* fwd_lines - the values of every line of one header, in the order
 * received.  More than FWD_LINES_MAX: the last ones are kept and dropped
 * is set (only the right end of a forwarding list matters). */
struct fwd_lines {
    const char *v[FWD_LINES_MAX];
    size_t n;
    int dropped;
};

/* fwd_lines_add - append one header line's value to l (zero it first);
 * a NULL value is ignored.  The string must outlive l's use. */
void fwd_lines_add(struct fwd_lines *l, const char *value);

/* fwd_cidr_parse - "10.0.0.0/8", "192.0.2.1" (= /32), "::1/128",
 * "2001:db8::/32": a numeric address, optionally '/' and a prefix length
 * in decimal (no sign, space or leading zero).
 * @return HG_OK; HG_EINVAL if s is anything else; HG_ECONFIG if it is
 *         well-formed but has bits set after the prefix length
 *         ("10.0.0.1/8": almost always a typo, refused as the route key
 *         "allow" refuses it).  *out is written only on HG_OK. */
int fwd_cidr_parse(const char *s, struct fwd_cidr *out);

/* fwd_cidr_match - 1 if sa (AF_INET or AF_INET6) is inside one of the n
 * entries of c, else 0 (NULL sa, other families, n == 0).  Addresses are
 * compared in the IPv6 form, an IPv4 one as ::ffff:a.b.c.d, so an
 * IPv4-mapped IPv6 peer (a dual-stack listener) matches IPv4 entries, and
 * an IPv4 peer matches an entry like "::ffff:10.0.0.0/104". */
int fwd_cidr_match(const struct fwd_cidr *c, size_t n, const struct sockaddr *sa);

/* fwd_client - the address a request from peer comes from.
 * When n > 0 and peer is inside trusted: the rightmost address of xff
 * (X-Forwarded-For: comma lists over all its lines; optional whitespace
 * around the commas; empty elements skipped; each element an IPv4 or IPv6
 * address, "[v6]", or either with ":port") that is not itself trusted;
 * if xff has no element at all, the same walk over forwarded's for=
 * values (RFC 7239: elements by ',', pairs by ';', names in any case,
 * values a token or a quoted string; for= a node: IPv4, "[v6]", either
 * with ":port", or "unknown" / "_obfuscated", which are not usable, as is
 * an element without for=).  Otherwise, or when the headers are not
 * usable, the peer itself.
 * @param[in]  xff, forwarded  may be NULL (= absent)
 * @param[out] out  the client address (port 0 when it came from a
 *                  header; an IPv4-mapped IPv6 address written as IPv4)
 * @param[out] why  NULL, or a constant reason the headers of a trusted
 *                  peer were not usable (the peer is the client then)
 * @return HG_OK, or HG_EINVAL (out AF_UNSPEC) for a peer that is not
 *         IPv4 or IPv6. */
int fwd_client(const struct fwd_cidr *trusted, size_t n, const struct sockaddr *peer,
               const struct fwd_lines *xff, const struct fwd_lines *forwarded,
               struct sockaddr_storage *out, const char **why);

/* fwd_proto_host - the scheme and host the request was sent to.
 * With trusted (the peer is a trusted proxy): X-Forwarded-Proto's value
 * ("http" or "https", any case; of a list, the rightmost element: the one
 * the nearest proxy wrote) and X-Forwarded-Host's (a host[:port], the
 * rightmost element too); a header that is absent or not valid leaves the
 * connection's own (a reason in *why).  Otherwise the connection's scheme
 * (tls) and its Host header.  A host is a name of letters, digits, '.',
 * '-' and '_' (at most 255), an IPv4 address or "[v6]", optionally with
 * ":port" (1 to 5 digits); it is written as received (case kept).
 * @param[in]  xfp, xfh  the headers' lines (NULL = absent)
 * @param[in]  host      the Host header (NULL = absent)
 * @param[out] scheme    "http" or "https" (constant)
 * @param[out] out       cap bytes: the host and a NUL
 * @param[out] why       NULL or a constant reason for the log
 * @return HG_OK; HG_EINVAL when no valid host is left (no Host header, an
 *         invalid one, or cap too small). */
int fwd_proto_host(int trusted, const struct fwd_lines *xfp, const struct fwd_lines *xfh, int tls,
                   const char *host, const char **scheme, char *out, size_t cap, const char **why);

#endif
