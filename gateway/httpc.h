/*
 * httpc.h - a minimal blocking HTTP/1.1 client for `hookgate send-test`:
 * one POST over plain TCP or TLS (OpenSSL, peer verified by default),
 * Connection: close, bounded answer.  Not used by the gateway itself.
 */
#ifndef HG_HTTPC_H
#define HG_HTTPC_H

#include <stddef.h>

struct httpc_opts {
    const char *cafile; /* PEM bundle to trust instead of the system's, or NULL */
    int insecure;       /* 1: do not verify the server's certificate */
    int timeout_s;      /* connect/send/receive timeout (10 s when 0) */
};

struct httpc_answer {
    int status;
    char body[65536]; /* NUL-terminated; a longer answer is cut here */
    size_t len;
};

/* httpc_post - POST body to url ("http://host[:port]/path" or https) with
 * headers (NULL-terminated "Name: value" strings).  0 and *ans filled, or
 * -1 with a one-line message in err, e.g. "cannot resolve HOST: why",
 * "cannot connect to HOST:PORT: why" (with " (ADDRESS)" after the port
 * when HOST is a name; why is strerror's text or "timed out after N s"),
 * "TLS handshake failed: why", "no HTTP answer from the server". */
int httpc_post(const char *url, char *const *headers, const char *body, size_t len,
               const struct httpc_opts *o, struct httpc_answer *ans, char *err, size_t errlen);

#endif
