/* fwd_test.c - unit tests of gateway/fwd.c: trusted_proxies entries, the
 * client address behind trusted proxies (X-Forwarded-For, Forwarded) and
 * the forwarded scheme and host. */
#include "t.h"
#include "err.h"
#include "fwd.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static struct sockaddr_storage SA;

/* sa - a sockaddr for a numeric address */
static const struct sockaddr *sa(const char *a)
{
    memset(&SA, 0, sizeof(SA));
    struct sockaddr_in *s4 = (struct sockaddr_in *)&SA;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&SA;
    if (inet_pton(AF_INET, a, &s4->sin_addr) == 1)
        s4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1)
        s6->sin6_family = AF_INET6;
    return (const struct sockaddr *)&SA;
}

static const char *str(const struct sockaddr_storage *ss)
{
    static char out[64];
    out[0] = '\0';
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, sizeof(out));
    else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, out, sizeof(out));
    else
        strcpy(out, "(none)");
    return out;
}

static struct fwd_cidr T[8];
static size_t NT;

static void trust(const char *a, const char *b, const char *c)
{
    const char *v[3] = {a, b, c};
    NT = 0;
    for (int i = 0; i < 3; i++)
        if (v[i] && fwd_cidr_parse(v[i], &T[NT]) == HG_OK)
            NT++;
}

static const char *WHY;

/* client - fwd_client from peer with one line of each header (NULL:
 * absent); the address as text */
static const char *client(const char *peer, const char *xff, const char *fwd)
{
    struct fwd_lines x = {0}, f = {0};
    fwd_lines_add(&x, xff);
    fwd_lines_add(&f, fwd);
    struct sockaddr_storage out;
    WHY = "unset";
    int rc = fwd_client(T, NT, sa(peer), &x, &f, &out, &WHY);
    return rc == HG_OK ? str(&out) : "(error)";
}

static void test_cidr_parse(void)
{
    struct fwd_cidr c;
    T_EQ_INT(fwd_cidr_parse("10.0.0.0/8", &c), HG_OK);
    T_EQ_INT(c.family, AF_INET);
    T_EQ_INT(c.bits, 8);
    T_EQ_INT(c.addr[0], 10);
    T_EQ_INT(fwd_cidr_parse("192.0.2.1", &c), HG_OK);
    T_EQ_INT(c.bits, 32);
    T_EQ_INT(fwd_cidr_parse("::1/128", &c), HG_OK);
    T_EQ_INT(c.family, AF_INET6);
    T_EQ_INT(c.bits, 128);
    T_EQ_INT(fwd_cidr_parse("2001:db8::/32", &c), HG_OK);
    T_EQ_INT(c.bits, 32);
    T_EQ_INT(fwd_cidr_parse("0.0.0.0/0", &c), HG_OK);
    T_EQ_INT(fwd_cidr_parse("::/0", &c), HG_OK);
    T_EQ_INT(fwd_cidr_parse("10.0.0.1/8", &c), HG_ECONFIG); /* host bits */
    T_EQ_INT(fwd_cidr_parse("2001:db8::1/32", &c), HG_ECONFIG);
    const char *bad[] = {"",
                         "/8",
                         "10.0.0.0/",
                         "10.0.0.0/33",
                         "10.0.0.0/08",
                         "10.0.0.0/+8",
                         "10.0.0.0/ 8",
                         "10.0.0.0/8 ",
                         " 10.0.0.0",
                         "10.0.0",
                         "010.0.0.0",
                         "::1/129",
                         "localhost",
                         "[::1]",
                         "::1%lo",
                         "1.2.3.4/1/2",
                         "1.2.3.4:80",
                         "10.0.0.0/1000",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&c, 0x5a, sizeof(c));
        if (fwd_cidr_parse(bad[i], &c) != HG_EINVAL) {
            fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
            T_CHECK(0);
        }
    }
    T_EQ_INT(fwd_cidr_parse(NULL, &c), HG_EINVAL);
}

static void test_cidr_match(void)
{
    trust("10.0.0.0/8", "2001:db8::/32", "192.0.2.7");
    T_CHECK(fwd_cidr_match(T, NT, sa("10.1.2.3")));
    T_CHECK(fwd_cidr_match(T, NT, sa("::ffff:10.1.2.3"))); /* v4-mapped peer */
    T_CHECK(!fwd_cidr_match(T, NT, sa("11.0.0.1")));
    T_CHECK(fwd_cidr_match(T, NT, sa("192.0.2.7")));
    T_CHECK(!fwd_cidr_match(T, NT, sa("192.0.2.8")));
    T_CHECK(fwd_cidr_match(T, NT, sa("2001:db8:ffff::1")));
    T_CHECK(!fwd_cidr_match(T, NT, sa("2001:db9::1")));
    T_CHECK(!fwd_cidr_match(T, 0, sa("10.1.2.3")));
    T_CHECK(!fwd_cidr_match(T, NT, NULL));
    struct sockaddr un = {.sa_family = AF_UNIX};
    T_CHECK(!fwd_cidr_match(T, NT, &un));
    trust("::ffff:10.0.0.0/104", NULL, NULL); /* an IPv4 peer, the IPv6 way */
    T_CHECK(fwd_cidr_match(T, NT, sa("10.9.9.9")));
    T_CHECK(!fwd_cidr_match(T, NT, sa("11.9.9.9")));
    trust("0.0.0.0/0", NULL, NULL);
    T_CHECK(fwd_cidr_match(T, NT, sa("203.0.113.9")));
    T_CHECK(!fwd_cidr_match(T, NT, sa("2001:db8::1")));
    trust("10.128.0.0/9", NULL, NULL);
    T_CHECK(fwd_cidr_match(T, NT, sa("10.200.0.1")));
    T_CHECK(!fwd_cidr_match(T, NT, sa("10.127.255.255")));
}

static void test_untrusted_peer(void)
{
    trust("127.0.0.1/32", NULL, NULL);
    /* a forged header from anyone else changes nothing */
    T_EQ_STR(client("198.51.100.1", "203.0.113.9", NULL), "198.51.100.1");
    T_CHECK(WHY == NULL);
    T_EQ_STR(client("198.51.100.1", NULL, "for=203.0.113.9"), "198.51.100.1");
    NT = 0;
    T_EQ_STR(client("127.0.0.1", "203.0.113.9", NULL), "127.0.0.1");
    T_CHECK(WHY == NULL);
}

static void test_xff(void)
{
    trust("127.0.0.1/32", "10.0.0.0/8", NULL);
    T_EQ_STR(client("127.0.0.1", "203.0.113.9", NULL), "203.0.113.9");
    T_CHECK(WHY == NULL);
    T_EQ_STR(client("127.0.0.1", "203.0.113.9, 127.0.0.1", NULL), "203.0.113.9");
    T_EQ_STR(client("127.0.0.1", "203.0.113.9, 198.51.100.7", NULL), "198.51.100.7");
    T_EQ_STR(client("127.0.0.1", "1.1.1.1,203.0.113.9,10.0.0.2,10.3.3.3", NULL), "203.0.113.9");
    T_EQ_STR(client("127.0.0.1", "  203.0.113.9 \t,\t10.0.0.2  ", NULL), "203.0.113.9");
    T_EQ_STR(client("127.0.0.1", "203.0.113.9,,10.0.0.2,", NULL), "203.0.113.9");
    /* garbage the client wrote left of the address its proxy appended */
    T_EQ_STR(client("127.0.0.1", "garbage, \"x, ;;; 999.1.1.1, 203.0.113.9", NULL), "203.0.113.9");
    T_CHECK(WHY == NULL);
    /* every address trusted: the leftmost */
    T_EQ_STR(client("127.0.0.1", "10.0.0.5, 10.0.0.6", NULL), "10.0.0.5");
    /* ports and IPv6 forms */
    T_EQ_STR(client("127.0.0.1", "203.0.113.9:4711", NULL), "203.0.113.9");
    T_EQ_STR(client("127.0.0.1", "2001:db8::1", NULL), "2001:db8::1");
    T_EQ_STR(client("127.0.0.1", "[2001:db8::1]", NULL), "2001:db8::1");
    T_EQ_STR(client("127.0.0.1", "[2001:db8::1]:443", NULL), "2001:db8::1");
    T_EQ_STR(client("127.0.0.1", "::ffff:203.0.113.9", NULL), "203.0.113.9"); /* as IPv4 */
    T_EQ_STR(client("::ffff:127.0.0.1", "203.0.113.9", NULL), "203.0.113.9");
    /* XFF and Forwarded that disagree: neither (the proxy's address); that agree: it */
    T_EQ_STR(client("127.0.0.1", "203.0.113.9", "for=198.51.100.1"), "127.0.0.1");
    T_EQ_STR(client("127.0.0.1", "203.0.113.9", "for=203.0.113.9"), "203.0.113.9");
    /* an empty XFF: Forwarded is used */
    T_EQ_STR(client("127.0.0.1", " , ", "for=198.51.100.1"), "198.51.100.1");
}

static void test_xff_malformed(void)
{
    trust("127.0.0.1/32", NULL, NULL);
    const char *bad[] = {"unknown",
                         "203.0.113.9, garbage",
                         "203.0.113.256",
                         "2001:db8::1:80:",
                         "[2001:db8::1",
                         "[2001:db8::1]x",
                         "[203.0.113.9]",
                         "203.0.113.9:",
                         "203.0.113.9:99999",
                         "203.0.113.9:4a",
                         "\"203.0.113.9\"",
                         "fe80::1%eth0",
                         "203.0.113.9 198.51.100.1",
                         "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *got = client("127.0.0.1", bad[i], NULL);
        if (strcmp(got, "127.0.0.1") || !WHY) {
            fprintf(stderr, "  \"%s\" gave %s\n", bad[i], got);
            T_CHECK(0);
        }
    }
}

static void test_forwarded(void)
{
    trust("127.0.0.1/32", "10.0.0.0/8", NULL);
    T_EQ_STR(client("127.0.0.1", NULL, "for=203.0.113.9"), "203.0.113.9");
    T_CHECK(WHY == NULL);
    T_EQ_STR(client("127.0.0.1", NULL, "for=\"[2001:db8::1]\""), "2001:db8::1");
    T_EQ_STR(client("127.0.0.1", NULL, "For=\"[2001:db8:cafe::17]:4711\""), "2001:db8:cafe::17");
    T_EQ_STR(client("127.0.0.1", NULL, "for=192.0.2.60;proto=http;by=203.0.113.43"), "192.0.2.60");
    T_EQ_STR(client("127.0.0.1", NULL, "for=192.0.2.43, for=198.51.100.17"), "198.51.100.17");
    T_EQ_STR(client("127.0.0.1", NULL, "for=192.0.2.43, for=\"10.0.0.1:80\""), "192.0.2.43");
    T_EQ_STR(client("127.0.0.1", NULL, "proto=https; for=\"203.0.113.9:_hidden\" ;by=x"),
             "203.0.113.9");
    T_EQ_STR(client("127.0.0.1", NULL, "for=2001:db8::5"), "2001:db8::5"); /* lax: unquoted v6 */
    T_EQ_STR(client("127.0.0.1", NULL, "for=\"\\[2001:db8::1\\]\""), "2001:db8::1");
    T_EQ_STR(client("127.0.0.1", NULL, ";for=203.0.113.9;;"), "203.0.113.9");
    /* the client's own element, left of its proxy's, is never parsed */
    T_EQ_STR(client("127.0.0.1", NULL, "for=\"unterminated, for=\"x\\\"y\", for=203.0.113.9"),
             "203.0.113.9");
    T_EQ_STR(client("127.0.0.1", NULL, "by=\"a,b\";for=203.0.113.9, for=10.0.0.2"), "203.0.113.9");
    T_CHECK(WHY == NULL);
    /* not usable: the peer, and a reason */
    const char *bad[] = {
        "for=unknown",
        "for=\"unknown:80\"",
        "for=_hidden",
        "for=\"_gazonk\", for=10.0.0.2",
        "proto=https",
        "for=203.0.113.9;for=198.51.100.1",
        "for=203.0.113.9 x",
        "for=\"203.0.113.9",
        "for=203.0.113.9\"",
        "for=",
        "for",
        "=1;for=203.0.113.9",
        "for=\"[2001:db8::1]\"x",
        "for=\"203.0.113.9\x01\"",
        "for=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
        "for=[2001:db8::1]extra",
        "for=\"\\",
        "for=x\\\"y",
        "for=1.2.3.4, \\\"",
        "for=999.1.1.1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *got = client("127.0.0.1", NULL, bad[i]);
        if (strcmp(got, "127.0.0.1") || !WHY) {
            fprintf(stderr, "  \"%s\" gave %s (%s)\n", bad[i], got, WHY ? WHY : "no reason");
            T_CHECK(0);
        }
    }
}

static void test_lines(void)
{
    trust("127.0.0.1/32", "10.0.0.0/8", NULL);
    struct fwd_lines x = {0};
    struct sockaddr_storage out;
    const char *why;
    /* several lines are one list, in order */
    fwd_lines_add(&x, "198.51.100.1");
    fwd_lines_add(&x, "203.0.113.9, 10.0.0.1");
    fwd_lines_add(&x, "10.0.0.2");
    T_EQ_INT(fwd_client(T, NT, sa("127.0.0.1"), &x, NULL, &out, &why), HG_OK);
    T_EQ_STR(str(&out), "203.0.113.9");
    memset(&x, 0, sizeof(x));
    fwd_lines_add(&x, "198.51.100.1");
    fwd_lines_add(&x, "");
    fwd_lines_add(&x, "10.0.0.2");
    T_EQ_INT(fwd_client(T, NT, sa("127.0.0.1"), &x, NULL, &out, &why), HG_OK);
    T_EQ_STR(str(&out), "198.51.100.1");
    /* more lines than kept: the last ones are enough if they hold the client */
    memset(&x, 0, sizeof(x));
    for (int i = 0; i < 20; i++)
        fwd_lines_add(&x, i == 18 ? "203.0.113.9" : "10.0.0.9");
    T_EQ_INT(x.n, FWD_LINES_MAX);
    T_EQ_INT(x.dropped, 1);
    T_EQ_INT(fwd_client(T, NT, sa("127.0.0.1"), &x, NULL, &out, &why), HG_OK);
    T_EQ_STR(str(&out), "203.0.113.9");
    /* ... not if all of them are trusted */
    memset(&x, 0, sizeof(x));
    for (int i = 0; i < 20; i++)
        fwd_lines_add(&x, i == 1 ? "203.0.113.9" : "10.0.0.9");
    T_EQ_INT(fwd_client(T, NT, sa("127.0.0.1"), &x, NULL, &out, &why), HG_OK);
    T_EQ_STR(str(&out), "127.0.0.1");
    T_CHECK(why != NULL);
    /* a chain of trusted addresses longer than FWD_HOPS_MAX */
    static char longl[8192];
    size_t k = 0;
    for (int i = 0; i < FWD_HOPS_MAX + 1; i++)
        k += (size_t)snprintf(longl + k, sizeof(longl) - k, "%s10.0.0.%d", i ? "," : "", i % 250);
    T_EQ_STR(client("127.0.0.1", longl, NULL), "127.0.0.1");
    T_CHECK(WHY != NULL);
    /* exactly FWD_HOPS_MAX is walked to the end (the leftmost) */
    char *comma = strchr(longl, ',');
    T_EQ_STR(client("127.0.0.1", comma + 1, NULL), "10.0.0.1");
    /* an untrusted one early on the right stops the walk at once */
    k = 0;
    for (int i = 0; i < 1000; i++)
        k += (size_t)snprintf(longl + k, sizeof(longl) - k, "%sx", i ? "," : "");
    snprintf(longl + k, sizeof(longl) - k, ",203.0.113.9");
    T_EQ_STR(client("127.0.0.1", longl, NULL), "203.0.113.9");
}

static void test_bad_peer(void)
{
    struct sockaddr_storage out;
    const char *why = "unset";
    trust("127.0.0.1/32", NULL, NULL);
    T_EQ_INT(fwd_client(T, NT, NULL, NULL, NULL, &out, &why), HG_EINVAL);
    T_EQ_INT(out.ss_family, AF_UNSPEC);
    struct sockaddr un = {.sa_family = AF_UNIX};
    T_EQ_INT(fwd_client(T, NT, &un, NULL, NULL, &out, &why), HG_EINVAL);
    /* a trusted peer without any forwarding header: itself */
    T_EQ_INT(fwd_client(T, NT, sa("127.0.0.1"), NULL, NULL, &out, &why), HG_OK);
    T_EQ_STR(str(&out), "127.0.0.1");
    T_CHECK(why == NULL);
}

static const char *origin(int trusted, const char *xfp, const char *xfh, int tls, const char *host,
                          int *rc)
{
    struct fwd_lines p = {0}, h = {0};
    fwd_lines_add(&p, xfp);
    fwd_lines_add(&h, xfh);
    static char out[512];
    const char *scheme = "?";
    WHY = "unset";
    char hb[FWD_HOST_MAX + 1];
    *rc = fwd_proto_host(trusted, &p, &h, tls, host, &scheme, hb, sizeof(hb), &WHY);
    snprintf(out, sizeof(out), "%s://%s", scheme, hb);
    return out;
}

static void test_proto_host(void)
{
    int rc;
    T_EQ_STR(origin(1, "https", "hooks.example.com", 0, "127.0.0.1:8080", &rc),
             "https://hooks.example.com");
    T_EQ_INT(rc, HG_OK);
    T_CHECK(WHY == NULL);
    /* untrusted: the connection's own, whatever the headers say */
    T_EQ_STR(origin(0, "https", "evil.example", 0, "127.0.0.1:8080", &rc), "http://127.0.0.1:8080");
    T_EQ_STR(origin(0, "http", NULL, 1, "hooks.example.com", &rc), "https://hooks.example.com");
    /* trusted but absent: the connection's */
    T_EQ_STR(origin(1, NULL, NULL, 1, "a.example:8443", &rc), "https://a.example:8443");
    T_CHECK(WHY == NULL);
    T_EQ_STR(origin(1, "HTTPS", "[2001:db8::1]:8443", 0, "x", &rc), "https://[2001:db8::1]:8443");
    T_EQ_STR(origin(1, "https, http", "a.example, b.example:444", 0, "x", &rc),
             "http://b.example:444");
    /* invalid forwarded values: the connection's, with a reason */
    T_EQ_STR(origin(1, "ftp", NULL, 0, "h.example", &rc), "http://h.example");
    T_CHECK(WHY != NULL);
    T_EQ_STR(origin(1, NULL, "bad host/x", 1, "h.example", &rc), "https://h.example");
    T_CHECK(WHY != NULL);
    T_EQ_STR(origin(1, NULL, "h.example:99999", 1, "h.example", &rc), "https://h.example");
    T_EQ_STR(origin(1, NULL, "h.example:_obf", 1, "h.example", &rc), "https://h.example");
    T_EQ_STR(origin(1, NULL, "[::1", 1, "h.example", &rc), "https://h.example");
    T_EQ_STR(origin(1, NULL, "user@h.example", 1, "h.example", &rc), "https://h.example");
    /* no usable host at all */
    origin(0, NULL, NULL, 0, NULL, &rc);
    T_EQ_INT(rc, HG_EINVAL);
    origin(0, NULL, NULL, 0, "", &rc);
    T_EQ_INT(rc, HG_EINVAL);
    origin(0, NULL, NULL, 0, "a b", &rc);
    T_EQ_INT(rc, HG_EINVAL);
    origin(0, NULL, NULL, 0, "h:", &rc);
    T_EQ_INT(rc, HG_EINVAL);
    char big[400];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    origin(0, NULL, NULL, 0, big, &rc);
    T_EQ_INT(rc, HG_EINVAL);
    big[255] = '\0';
    origin(0, NULL, NULL, 0, big, &rc);
    T_EQ_INT(rc, HG_OK);
    big[256] = '\0';
    big[255] = 'a';
    origin(0, NULL, NULL, 0, big, &rc);
    T_EQ_INT(rc, HG_EINVAL);
    /* too small an output */
    const char *scheme;
    char small[4];
    T_EQ_INT(fwd_proto_host(0, NULL, NULL, 0, "h.example", &scheme, small, sizeof(small), &WHY),
             HG_EINVAL);
    T_EQ_STR(small, "");
}

int main(void)
{
    T_RUN(test_cidr_parse);
    T_RUN(test_cidr_match);
    T_RUN(test_untrusted_peer);
    T_RUN(test_xff);
    T_RUN(test_xff_malformed);
    T_RUN(test_forwarded);
    T_RUN(test_lines);
    T_RUN(test_bad_peer);
    T_RUN(test_proto_host);
    return t_finish();
}
