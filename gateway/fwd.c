/*
 * fwd.c - trusted proxies and forwarded headers (see fwd.h).
 *
 * Lists are read from the right end, element by element, without copying
 * and without ever parsing what lies left of the answer: the client's own
 * part of a chain (which it may fill with anything) is never reached.
 * Splitting a Forwarded line from the right skips quoted strings by their
 * unescaped quotes (a '"' preceded by an odd run of backslashes is escaped);
 * each element found is then parsed from its left end, strictly.
 *
 * Invariants: every read is bounded by the string or the length given;
 * nothing allocates; the walk stops after FWD_HOPS_MAX addresses.
 */
#include "fwd.h"
#include "err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FWD_NODE_MAX 64 /* "[IPv6]:port" fits (46 + 2 + 1 + 5), and an obfuscated port */

#define WHY_XFF_BAD   "X-Forwarded-For: not a list of addresses"
#define WHY_FWD_BAD   "Forwarded: malformed"
#define WHY_FWD_NONE  "Forwarded: the client is unknown, obfuscated or not given (for=)"
#define WHY_HOPS      "forwarded chain longer than 64 addresses"
#define WHY_LINES     "forwarded chain spread over more than 16 header lines"
#define WHY_PROTO_BAD "X-Forwarded-Proto: not http or https"
#define WHY_HOST_BAD  "X-Forwarded-Host: not a valid host[:port]"

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void fwd_lines_add(struct fwd_lines *l, const char *value)
{
    if (!value)
        return;
    if (l->n == FWD_LINES_MAX) {
        memmove(l->v, l->v + 1, (FWD_LINES_MAX - 1) * sizeof(l->v[0]));
        l->n--;
        l->dropped = 1;
    }
    l->v[l->n++] = value;
}

int fwd_cidr_parse(const char *s, struct fwd_cidr *out)
{
    char buf[64];
    if (!s)
        return HG_EINVAL;
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (!n || n >= sizeof(buf))
        return HG_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    struct fwd_cidr c;
    memset(&c, 0, sizeof(c));
    unsigned max;
    if (inet_pton(AF_INET, buf, c.addr) == 1) {
        c.family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
        c.family = AF_INET6;
        max = 128;
    } else {
        return HG_EINVAL;
    }
    c.bits = max;
    if (slash) {
        const char *d = slash + 1;
        size_t dl = strlen(d);
        if (!dl || dl > 3 || strspn(d, "0123456789") != dl || (d[0] == '0' && d[1]))
            return HG_EINVAL;
        unsigned long b = strtoul(d, NULL, 10);
        if (b > max)
            return HG_EINVAL;
        c.bits = (unsigned)b;
    }
    for (unsigned i = c.bits; i < max; i++)
        if (c.addr[i / 8] & (0x80 >> (i % 8)))
            return HG_ECONFIG;
    *out = c;
    return HG_OK;
}

/* v6form - sa's address as 16 bytes, IPv4 as ::ffff:a.b.c.d; 0 for NULL
 * or a family other than IPv4/IPv6. */
static int v6form(const struct sockaddr *sa, unsigned char a[16])
{
    if (sa && sa->sa_family == AF_INET) {
        memcpy(a, v4mapped, 12);
        memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 1;
    }
    if (sa && sa->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return 1;
    }
    return 0;
}

static int in_prefix(const unsigned char *a, const unsigned char *p, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, p, full))
        return 0;
    return !rest || !((a[full] ^ p[full]) & (0xff00u >> rest) & 0xffu);
}

int fwd_cidr_match(const struct fwd_cidr *c, size_t n, const struct sockaddr *sa)
{
    unsigned char a[16];
    if (!c || !v6form(sa, a))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char p[16];
        unsigned bits = c[i].bits;
        if (c[i].family == AF_INET) {
            memcpy(p, v4mapped, 12);
            memcpy(p + 12, c[i].addr, 4);
            bits += 96;
        } else {
            memcpy(p, c[i].addr, 16);
        }
        if (bits <= 128 && in_prefix(a, p, bits))
            return 1;
    }
    return 0;
}

/* set_addr - out = the address a (family fam), port 0; a v4-mapped IPv6
 * address becomes IPv4. */
static void set_addr(struct sockaddr_storage *out, int fam, const unsigned char *a)
{
    memset(out, 0, sizeof(*out));
    if (fam == AF_INET6 && !memcmp(a, v4mapped, 12)) {
        fam = AF_INET;
        a += 12;
    }
    if (fam == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)out;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, a, 4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)out;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, a, 16);
    }
}

/* port_ok - a node port: 1 to 5 digits (at most 65535), or RFC 7239's
 * obfuscated "_" 1*(ALPHA / DIGIT / "." / "_" / "-"). */
static int port_ok(const char *s, size_t n)
{
    if (n >= 2 && s[0] == '_') {
        for (size_t i = 1; i < n; i++)
            if (!s[i] ||
                !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
                return 0;
        return 1;
    }
    if (!n || n > 5)
        return 0;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v <= 65535;
}

/* parse_node - s (n bytes, trimmed) as an address: IPv4, IPv6, "[IPv6]",
 * "IPv4:port" or "[IPv6]:port".  1 with *out set, else -1. */
static int parse_node(const char *s, size_t n, struct sockaddr_storage *out)
{
    char buf[FWD_NODE_MAX];
    const char *host = s, *port = NULL;
    size_t hl = n, pl = 0;
    int bracket = n && s[0] == '[';
    if (!n || n >= sizeof(buf))
        return -1;
    if (bracket) {
        const char *rb = memchr(s, ']', n);
        if (!rb)
            return -1;
        host = s + 1;
        hl = (size_t)(rb - host);
        size_t rest = n - (size_t)(rb - s) - 1;
        if (rest) {
            if (rb[1] != ':')
                return -1;
            port = rb + 2;
            pl = rest - 1;
        }
    } else {
        const char *c1 = memchr(s, ':', n);
        if (c1 && !memchr(c1 + 1, ':', n - (size_t)(c1 - s) - 1)) { /* one colon: IPv4:port */
            hl = (size_t)(c1 - s);
            port = c1 + 1;
            pl = n - hl - 1;
        }
    }
    if (port && !port_ok(port, pl))
        return -1;
    memcpy(buf, host, hl);
    buf[hl] = '\0';
    unsigned char a[16];
    if (!bracket && inet_pton(AF_INET, buf, a) == 1) {
        set_addr(out, AF_INET, a);
        return 1;
    }
    if ((bracket || !port) && inet_pton(AF_INET6, buf, a) == 1) {
        set_addr(out, AF_INET6, a);
        return 1;
    }
    return -1;
}

/* A right-to-left walk over the comma-separated elements of header lines,
 * last line first. */
struct walk {
    const struct fwd_lines *l;
    size_t line;   /* lines not started yet: l->v[0..line) */
    const char *s; /* the current line */
    size_t pos;    /* its elements not returned yet: s[0..pos) */
    int more;      /* s has an element left (it may be empty) */
    int quotes;    /* skip quoted strings (Forwarded) */
};

/* escaped - 1 if s[j] is preceded by an odd run of backslashes */
static int escaped(const char *s, size_t j)
{
    size_t k = 0;
    while (j > k && s[j - k - 1] == '\\')
        k++;
    return (int)(k & 1);
}

/* walk_prev - the element left of the last one returned: 1 with
 * [*e, *e + *en), 0 when none is left, -1 for an unbalanced quote. */
static int walk_prev(struct walk *w, const char **e, size_t *en)
{
    while (!w->more) {
        if (!w->l || !w->line)
            return 0;
        w->s = w->l->v[--w->line];
        w->pos = strlen(w->s);
        w->more = 1;
    }
    size_t end = w->pos, i = end;
    while (i > 0) {
        char c = w->s[i - 1];
        if (c == ',')
            break;
        if (c == '"' && w->quotes) {
            if (escaped(w->s, i - 1))
                return -1; /* a backslash outside a quoted string */
            size_t j = i - 1;
            do {
                if (j == 0)
                    return -1;
                j--;
            } while (w->s[j] != '"' || escaped(w->s, j));
            i = j;
            continue;
        }
        i--;
    }
    *e = w->s + i;
    *en = end - i;
    if (i > 0)
        w->pos = i - 1;
    else
        w->more = 0;
    return 1;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* tchar - RFC 9110 token characters; lax adds ':', '[' and ']' (an
 * unquoted IPv6 for=, as a proxy configured with for=$remote_addr writes). */
static int tchar(unsigned char c, int lax)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return (c && strchr("!#$%&'*+-.^_`|~", c)) || (lax && (c == ':' || c == '[' || c == ']'));
}

/* pair_value - the value at s[*i] (of n): a quoted string (unescaped) or
 * a lax token, into v (FWD_NODE_MAX bytes; *vl = FWD_NODE_MAX if longer).
 * 0, or -1 if malformed. */
static int pair_value(const char *s, size_t n, size_t *i, char *v, size_t *vl)
{
    size_t k = 0;
    if (*i < n && s[*i] == '"') {
        for ((*i)++;; (*i)++) {
            if (*i == n)
                return -1;
            unsigned char c = (unsigned char)s[*i];
            if (c == '"')
                break;
            if (c == '\\' && ++(*i) == n)
                return -1;
            c = (unsigned char)s[*i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return -1;
            if (k < FWD_NODE_MAX)
                v[k] = (char)c;
            k++;
        }
        (*i)++;
    } else {
        size_t st = *i;
        while (*i < n && tchar((unsigned char)s[*i], 1)) {
            if (k < FWD_NODE_MAX)
                v[k] = s[*i];
            k++;
            (*i)++;
        }
        if (*i == st)
            return -1;
    }
    *vl = k < FWD_NODE_MAX ? k : FWD_NODE_MAX;
    return 0;
}

static void skip_ows(const char *s, size_t n, size_t *i)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
}

/* element_for - the for= node of one Forwarded element (s, n trimmed): 1
 * with *out set, 0 if not usable (no for=, "unknown", obfuscated), -1 if
 * the element is malformed (a pair that is not token=value, for= twice). */
static int element_for(const char *s, size_t n, struct sockaddr_storage *out)
{
    char val[FWD_NODE_MAX], tmp[FWD_NODE_MAX];
    size_t vl = 0, i = 0;
    int found = 0;
    while (i < n) {
        skip_ows(s, n, &i);
        size_t k = i;
        while (i < n && tchar((unsigned char)s[i], 0))
            i++;
        if (i == k) { /* an empty pair: ";;" or a trailing ';' */
            if (i < n && s[i] != ';')
                return -1;
            i++;
            continue;
        }
        int isfor = i - k == 3 && !strncasecmp(s + k, "for", 3);
        size_t tl = 0;
        if (i == n || s[i] != '=' || (isfor && found))
            return -1;
        i++;
        if (pair_value(s, n, &i, tmp, &tl))
            return -1;
        if (isfor) {
            memcpy(val, tmp, tl);
            vl = tl;
            found = 1;
        }
        skip_ows(s, n, &i);
        if (i < n && s[i++] != ';')
            return -1;
    }
    if (!found)
        return 0;
    if ((vl && val[0] == '_') ||
        (vl >= 7 && !strncasecmp(val, "unknown", 7) && (vl == 7 || val[7] == ':')))
        return 0;
    return vl < FWD_NODE_MAX && parse_node(val, vl, out) == 1 ? 1 : -1;
}

/* walk_chain - the rightmost untrusted address of header lines l (fwded:
 * Forwarded's for= values, else X-Forwarded-For's addresses): 1 with *out
 * set, 0 when the lines hold no element, -1 with *why when not usable. */
static int walk_chain(const struct fwd_cidr *t, size_t n, const struct fwd_lines *l, int fwded,
                      struct sockaddr_storage *out, const char **why)
{
    struct walk w = {.l = l, .line = l ? l->n : 0, .quotes = fwded};
    struct sockaddr_storage a;
    size_t hops = 0;
    for (;;) {
        const char *e;
        size_t en;
        int r = walk_prev(&w, &e, &en);
        if (r < 0) {
            *why = WHY_FWD_BAD;
            return -1;
        }
        if (!r)
            break;
        trim(&e, &en);
        if (!en)
            continue;
        if (++hops > FWD_HOPS_MAX) {
            *why = WHY_HOPS;
            return -1;
        }
        int pr = fwded ? element_for(e, en, &a) : parse_node(e, en, &a);
        if (pr <= 0) {
            *why = pr ? (fwded ? WHY_FWD_BAD : WHY_XFF_BAD) : WHY_FWD_NONE;
            return -1;
        }
        *out = a;
        if (!fwd_cidr_match(t, n, (const struct sockaddr *)&a))
            return 1;
    }
    if (l && l->dropped) { /* every address kept was trusted: the client was in a dropped line */
        *why = WHY_LINES;
        return -1;
    }
    return hops ? 1 : 0; /* every address trusted: the leftmost one */
}

int fwd_client(const struct fwd_cidr *trusted, size_t n, const struct sockaddr *peer,
               const struct fwd_lines *xff, const struct fwd_lines *forwarded,
               struct sockaddr_storage *out, const char **why)
{
    unsigned char a[16];
    *why = NULL;
    if (!v6form(peer, a)) {
        memset(out, 0, sizeof(*out));
        out->ss_family = AF_UNSPEC;
        return HG_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out, peer,
           peer->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    if (!n || !fwd_cidr_match(trusted, n, peer))
        return HG_OK;
    struct sockaddr_storage c, f;
    const char *fwhy = NULL;
    int rx = walk_chain(trusted, n, xff, 0, &c, why);
    int rf = walk_chain(trusted, n, forwarded, 1, &f, &fwhy);
    unsigned char ca[16], fa[16];
    if (rx == 1 && rf == 1 &&
        (!v6form((struct sockaddr *)&c, ca) || !v6form((struct sockaddr *)&f, fa) ||
         memcmp(ca, fa, 16))) {
        /* a proxy that writes one of them may pass the other on from the
         * client: when they disagree, neither is believed */
        *why = "X-Forwarded-For and Forwarded name different clients";
        return HG_OK;
    }
    if (rx == 1)
        *out = c;
    else if (rx == 0 && rf == 1)
        *out = f;
    else if (rx == 0 && !*why)
        *why = fwhy;
    return HG_OK;
}

/* last_elem - the rightmost non-empty element of l, trimmed: 1, or 0 */
static int last_elem(const struct fwd_lines *l, const char **e, size_t *en)
{
    struct walk w = {.l = l, .line = l ? l->n : 0};
    while (walk_prev(&w, e, en) > 0) {
        trim(e, en);
        if (*en)
            return 1;
    }
    return 0;
}

/* host_ok - s (n bytes) is a host[:port]: see fwd_proto_host */
static int host_ok(const char *s, size_t n)
{
    size_t hl;
    if (!n || n > FWD_HOST_MAX)
        return 0;
    if (s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        char buf[FWD_NODE_MAX];
        unsigned char a[16];
        size_t l = rb ? (size_t)(rb - s) - 1 : 0;
        if (!l || l >= sizeof(buf))
            return 0;
        memcpy(buf, s + 1, l);
        buf[l] = '\0';
        if (inet_pton(AF_INET6, buf, a) != 1)
            return 0;
        hl = l + 2;
    } else {
        const char *colon = memchr(s, ':', n);
        hl = colon ? (size_t)(colon - s) : n;
        if (!hl || hl > 255)
            return 0;
        for (size_t i = 0; i < hl; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_'))
                return 0;
        }
    }
    if (hl == n)
        return 1;
    size_t pl = n - hl - 1; /* a port: digits only (no obfuscated one here) */
    return s[hl] == ':' && pl && s[hl + 1] != '_' && port_ok(s + hl + 1, pl);
}

static int copy_host(const char *s, size_t n, char *out, size_t cap)
{
    if (!host_ok(s, n) || n >= cap)
        return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
}

int fwd_proto_host(int trusted, const struct fwd_lines *xfp, const struct fwd_lines *xfh, int tls,
                   const char *host, const char **scheme, char *out, size_t cap, const char **why)
{
    const char *e;
    size_t en;
    *why = NULL;
    *scheme = tls ? "https" : "http";
    if (cap)
        out[0] = '\0';
    if (trusted && last_elem(xfp, &e, &en)) {
        if (en == 5 && !strncasecmp(e, "https", 5))
            *scheme = "https";
        else if (en == 4 && !strncasecmp(e, "http", 4))
            *scheme = "http";
        else
            *why = WHY_PROTO_BAD;
    }
    if (trusted && last_elem(xfh, &e, &en)) {
        if (copy_host(e, en, out, cap))
            return HG_OK;
        *why = WHY_HOST_BAD;
    }
    if (!host || !copy_host(host, strnlen(host, FWD_HOST_MAX + 1), out, cap))
        return HG_EINVAL;
    return HG_OK;
}
