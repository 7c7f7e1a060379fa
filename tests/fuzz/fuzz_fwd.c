// clang-format off
/*
 * fuzz_fwd.c - libFuzzer driver for trusted proxies and forwarded headers
 * (gateway/fwd.c).
 *
 * The input is lines: the first is the peer's address (an IPv4 or IPv6
 * address, else 127.0.0.1), the second a comma-separated trusted_proxies
 * list (each entry through fwd_cidr_parse; the good ones kept), and each
 * further line a header by its first character: 'X' X-Forwarded-For,
 * 'F' Forwarded, 'P' X-Forwarded-Proto, 'H' X-Forwarded-Host, 'h' Host;
 * the rest of the line is its value.  Invariants:
 *  - never crashes, reads out of bounds or leaks;
 *  - a parsed CIDR contains its own network address;
 *  - fwd_client answers HG_OK with an IPv4 or IPv6 address; from an
 *    untrusted peer (or with no trusted list) the peer itself and no
 *    reason; with a reason, the peer;
 *  - what the client wrote cannot change the answer: one more header
 *    line of anything before the others (the client's part of the chain)
 *    gives the same address when the answer was an untrusted address
 *    taken from the headers;
 *  - fwd_proto_host gives "http" or "https", and on HG_OK a host of
 *    printable characters without space, '/', '@' or ',';  from an
 *    untrusted peer the connection's scheme and the Host header as is.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_fwd (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).
 */
// clang-format on
#include "err.h"
#include "fwd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
    fprintf(stderr, "fuzz_fwd: %s\n", what);
    abort();
}

/* next_line - a NUL-terminated copy of data up to the next '\n' (or the end). */
static char *next_line(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, *data, n);
    s[n] = '\0';
    *data += nl ? n + 1 : n;
    *size -= nl ? n + 1 : n;
    return s;
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                       &((const struct sockaddr_in *)b)->sin_addr, 4);
    return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

static void peer_of(const char *s, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        return;
    }
    if (inet_pton(AF_INET, s, &s4->sin_addr) != 1)
        inet_pton(AF_INET, "127.0.0.1", &s4->sin_addr);
    s4->sin_family = AF_INET;
}

static size_t trusted_of(char *list, struct fwd_cidr *t)
{
    size_t n = 0;
    for (char *save = NULL, *e = strtok_r(list, ",", &save); e && n < FWD_TRUSTED_MAX;
         e = strtok_r(NULL, ",", &save)) {
        struct fwd_cidr c;
        int rc = fwd_cidr_parse(e, &c);
        if (rc != HG_OK && rc != HG_EINVAL && rc != HG_ECONFIG)
            die("fwd_cidr_parse: unexpected result");
        if (rc != HG_OK)
            continue;
        /* the network address itself is inside */
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        if (c.family == AF_INET) {
            ss.ss_family = AF_INET;
            memcpy(&((struct sockaddr_in *)&ss)->sin_addr, c.addr, 4);
        } else {
            ss.ss_family = AF_INET6;
            memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, c.addr, 16);
        }
        if (!fwd_cidr_match(&c, 1, (struct sockaddr *)&ss))
            die("a CIDR does not contain its own address");
        t[n++] = c;
    }
    return n;
}

/* has_elem - some line of l has a non-empty list element */
static int has_elem(const struct fwd_lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i][strspn(l->v[i], " \t,")])
            return 1;
    return 0;
}

static void check_client(const struct fwd_cidr *t, size_t nt, const struct sockaddr_storage *peer,
                         const struct fwd_lines *x, const struct fwd_lines *f)
{
    struct sockaddr_storage out;
    const char *why = "unset";
    const struct sockaddr *p = (const struct sockaddr *)peer;
    if (fwd_client(t, nt, p, x, f, &out, &why) != HG_OK)
        die("fwd_client: not HG_OK for an IPv4/IPv6 peer");
    if (out.ss_family != AF_INET && out.ss_family != AF_INET6)
        die("fwd_client: not an IPv4/IPv6 answer");
    int trusted = fwd_cidr_match(t, nt, p);
    if (!trusted && (why || !same_addr(&out, peer)))
        die("fwd_client: an untrusted peer's headers were used");
    if (why && !same_addr(&out, peer))
        die("fwd_client: a reason, yet not the peer");
    if (!trusted || why || fwd_cidr_match(t, nt, (const struct sockaddr *)&out))
        return;
    /* the client's part of the chain (one more line first) changes nothing */
    static const char *const junk[] = {"\"unterminated, ;=", "203.0.113.66", "for=\"[::1]\"", ""};
    for (size_t k = 0; k < sizeof(junk) / sizeof(junk[0]); k++) {
        struct fwd_lines x2 = {0}, f2 = {0};
        const struct fwd_lines *xs = x, *fs = f;
        if (has_elem(x) && x->n < FWD_LINES_MAX && !x->dropped) {
            fwd_lines_add(&x2, junk[k]);
            for (size_t i = 0; i < x->n; i++)
                fwd_lines_add(&x2, x->v[i]);
            xs = &x2;
        } else if (!has_elem(x) && !x->dropped && f->n < FWD_LINES_MAX && !f->dropped) {
            fwd_lines_add(&f2, junk[k]);
            for (size_t i = 0; i < f->n; i++)
                fwd_lines_add(&f2, f->v[i]);
            fs = &f2;
        } else {
            return;
        }
        struct sockaddr_storage o2;
        const char *w2 = NULL;
        if (fwd_client(t, nt, p, xs, fs, &o2, &w2) != HG_OK || w2 || !same_addr(&o2, &out))
            die("fwd_client: a line before the chain changed the answer");
    }
}

static void check_origin(int trusted, const struct fwd_lines *xp, const struct fwd_lines *xh,
                         int tls, const char *host)
{
    char out[FWD_HOST_MAX + 1];
    const char *scheme = NULL, *why = NULL;
    int rc = fwd_proto_host(trusted, xp, xh, tls, host, &scheme, out, sizeof(out), &why);
    if (!scheme || (strcmp(scheme, "http") && strcmp(scheme, "https")))
        die("fwd_proto_host: bad scheme");
    if (rc != HG_OK && rc != HG_EINVAL)
        die("fwd_proto_host: unexpected result");
    if (rc != HG_OK)
        return;
    for (const char *c = out; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || strchr("/@,\"\\", *c))
            die("fwd_proto_host: a host with a forbidden character");
    if (!trusted && (strcmp(scheme, tls ? "https" : "http") || !host || strcmp(out, host)))
        die("fwd_proto_host: an untrusted peer's headers were used");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *peer_s = next_line(&data, &size), *list = next_line(&data, &size);
    char *lines[64];
    size_t nl = 0;
    struct fwd_lines x = {0}, f = {0}, xp = {0}, xh = {0};
    const char *host = NULL;
    while (size && nl < 64) {
        char *l = lines[nl++] = next_line(&data, &size);
        switch (l[0]) {
        case 'X':
            fwd_lines_add(&x, l + 1);
            break;
        case 'F':
            fwd_lines_add(&f, l + 1);
            break;
        case 'P':
            fwd_lines_add(&xp, l + 1);
            break;
        case 'H':
            fwd_lines_add(&xh, l + 1);
            break;
        case 'h':
            host = l + 1;
            break;
        default:
            break;
        }
    }
    struct sockaddr_storage peer;
    struct fwd_cidr t[FWD_TRUSTED_MAX];
    peer_of(peer_s, &peer);
    size_t nt = trusted_of(list, t);

    check_client(t, nt, &peer, &x, &f);
    check_client(NULL, 0, &peer, &x, &f);
    int trusted = fwd_cidr_match(t, nt, (const struct sockaddr *)&peer);
    check_origin(trusted, &xp, &xh, 0, host);
    check_origin(0, &xp, &xh, 1, host);

    for (size_t i = 0; i < nl; i++)
        free(lines[i]);
    free(peer_s);
    free(list);
    return 0;
}
