/*
 * httpc.c - see httpc.h.  Uses libssl (the same OpenSSL the gateway links
 * for its crypto) rather than a second HTTP library: send-test needs one
 * request, not a client stack.
 */
#include "httpc.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

static int fail(char *err, size_t errlen, const char *msg, const char *detail)
{
    snprintf(err, errlen, "%s%s%s", msg, detail ? ": " : "", detail ? detail : "");
    return -1;
}

static int split_url(const char *url, int *tls, char *host, size_t hcap, char *port, size_t pcap,
                     const char **path)
{
    const char *s;
    if (!strncmp(url, "http://", 7)) {
        *tls = 0;
        s = url + 7;
    } else if (!strncmp(url, "https://", 8)) {
        *tls = 1;
        s = url + 8;
    } else {
        return -1;
    }
    *path = strchr(s, '/');
    size_t hl = *path ? (size_t)(*path - s) : strlen(s);
    if (!*path)
        *path = "/";
    const char *hs = s, *he = s + hl, *colon;
    if (*hs == '[') { /* [v6]:port */
        const char *rb = memchr(hs, ']', hl);
        if (!rb)
            return -1;
        hs++;
        colon = rb + 1 < he && rb[1] == ':' ? rb + 1 : NULL;
        he = rb;
    } else {
        colon = memchr(hs, ':', hl);
        if (colon)
            he = colon;
    }
    if (he <= hs || (size_t)(he - hs) >= hcap)
        return -1;
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = '\0';
    snprintf(port, pcap, "%s", *tls ? "443" : "80");
    if (colon) {
        size_t pl = (size_t)(s + hl - colon - 1);
        if (!pl || pl >= pcap)
            return -1;
        memcpy(port, colon + 1, pl);
        port[pl] = '\0';
    }
    return 0;
}

static int xfer_all(struct conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)(n > 1 << 20 ? 1 << 20 : n))
                           : send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t recv_some(struct conn *c, char *p, size_t n)
{
    if (c->ssl) {
        int r = SSL_read(c->ssl, p, (int)n);
        return r > 0 ? r : 0;
    }
    return recv(c->fd, p, n, 0);
}

static int open_conn(struct conn *c, const char *host, const char *port, int tls,
                     const struct httpc_opts *o, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *a;
    int rc = getaddrinfo(host, port, &hints, &ai);
    int v6 = strchr(host, ':') != NULL;
    if (rc) {
        snprintf(err, errlen, "cannot resolve %s: %s", host,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    struct timeval tv = {o->timeout_s ? o->timeout_s : 10, 0};
    char tried[INET6_ADDRSTRLEN] = "";
    int e = 0;
    c->fd = -1;
    for (a = ai; a && c->fd < 0; a = a->ai_next) {
        c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (c->fd < 0) {
            e = errno;
            continue;
        }
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(c->fd, a->ai_addr, a->ai_addrlen)) {
            e = errno;
            (void)getnameinfo(a->ai_addr, a->ai_addrlen, tried, sizeof(tried), NULL, 0,
                              NI_NUMERICHOST);
            close(c->fd);
            c->fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (c->fd < 0) {
        /* "host:port: reason", and the address tried when host is a name
         * (the last one: every address failed) */
        int named = *tried && strcmp(tried, host) != 0;
        char why[64];
        if (e == EINPROGRESS || e == EAGAIN) /* SO_SNDTIMEO ran out */
            snprintf(why, sizeof(why), "timed out after %ld s", (long)tv.tv_sec);
        else
            snprintf(why, sizeof(why), "%s", strerror(e));
        snprintf(err, errlen, "cannot connect to %s%s%s:%s%s%s%s: %s", v6 ? "[" : "", host,
                 v6 ? "]" : "", port, named ? " (" : "", named ? tried : "", named ? ")" : "", why);
        return -1;
    }
    if (!tls)
        return 0;
    if (!(c->ctx = SSL_CTX_new(TLS_client_method())))
        return fail(err, errlen, "TLS setup failed", NULL);
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    if (!o->insecure) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        if (o->cafile ? !SSL_CTX_load_verify_locations(c->ctx, o->cafile, NULL)
                      : !SSL_CTX_set_default_verify_paths(c->ctx))
            return fail(err, errlen, "cannot load trusted certificates", o->cafile);
    }
    if (!(c->ssl = SSL_new(c->ctx)) || !SSL_set_fd(c->ssl, c->fd) ||
        !SSL_set_tlsext_host_name(c->ssl, host) || (!o->insecure && !SSL_set1_host(c->ssl, host)))
        return fail(err, errlen, "TLS setup failed", NULL);
    if (SSL_connect(c->ssl) != 1) {
        long v = SSL_get_verify_result(c->ssl);
        return fail(err, errlen, "TLS handshake failed",
                    v != X509_V_OK ? X509_verify_cert_error_string(v) : NULL);
    }
    return 0;
}

static void close_conn(struct conn *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
}

/* status_code - NNN of a status line "HTTP/1.x NNN ...", or -1 (sscanf's %d
 * would be undefined behaviour on a status out of int's range). */
static int status_code(const char *r)
{
    if (strncmp(r, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)r[7]))
        return -1;
    r += 7;
    while (isdigit((unsigned char)*r))
        r++;
    while (*r == ' ' || *r == '\t')
        r++;
    int st = 0, n = 0;
    for (; n < 4 && isdigit((unsigned char)r[n]); n++)
        st = st * 10 + (r[n] - '0');
    return n == 3 ? st : -1;
}

int httpc_post(const char *url, char *const *headers, const char *body, size_t len,
               const struct httpc_opts *o, struct httpc_answer *ans, char *err, size_t errlen)
{
    int tls;
    char host[256], port[16];
    const char *path;
    if (strpbrk(url, " \t\r\n") ||
        split_url(url, &tls, host, sizeof(host), port, sizeof(port), &path))
        return fail(err, errlen, "bad URL (http://host[:port]/path or https://...)", NULL);
    struct conn c = {.fd = -1};
    (void)signal(SIGPIPE, SIG_IGN); /* a closed peer is an error return, not a death */
    int rc = open_conn(&c, host, port, tls, o, err, errlen);
    char head[8192];
    int n = 0;
    if (!rc) {
        const char *dflt = tls ? "443" : "80";
        int v6 = strchr(host, ':') != NULL;
        n = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: hookgate-send-test\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n",
                     path, v6 ? "[" : "", host, v6 ? "]" : "", strcmp(port, dflt) ? ":" : "",
                     strcmp(port, dflt) ? port : "", len);
        for (int i = 0; headers && headers[i] && n > 0 && (size_t)n < sizeof(head); i++)
            n += snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n", headers[i]);
        if (n <= 0 || (size_t)n + 3 > sizeof(head))
            rc = fail(err, errlen, "request headers too long", NULL);
    }
    int sent_ok = 1;
    if (!rc) {
        memcpy(head + n, "\r\n", 3);
        /* a server may answer (401, 413) and close before reading the whole
         * body: a failed send still reads whatever answer is there */
        sent_ok = !xfer_all(&c, head, (size_t)n + 2) && !xfer_all(&c, body, len);
    }
    static char resp[sizeof(ans->body) + 8192];
    size_t got = 0;
    while (!rc && got < sizeof(resp) - 1) {
        ssize_t r = recv_some(&c, resp + got, sizeof(resp) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    resp[got] = '\0';
    close_conn(&c);
    if (rc)
        return rc;
    char *eoh = strstr(resp, "\r\n\r\n");
    if (!eoh || (ans->status = status_code(resp)) < 0)
        return fail(err, errlen,
                    sent_ok ? "no HTTP answer from the server" : "sending the request failed",
                    NULL);
    eoh += 4;
    ans->len = got - (size_t)(eoh - resp);
    if (ans->len >= sizeof(ans->body))
        ans->len = sizeof(ans->body) - 1;
    memcpy(ans->body, eoh, ans->len);
    ans->body[ans->len] = '\0';
    return 0;
}
