/*
 * natsconn.h - one way to connect to NATS, for everything in hookgate that
 * talks to it: the jetstream sink (sink_jetstream.c) and shared dedupe
 * (shdedupe.c), which borrows the sink's servers and so needs its
 * credentials and TLS settings too.
 *
 * A connection set up here reconnects forever, every 500 ms, to any server
 * of its list, and never makes its opener wait for the network: when no
 * server can be reached at open, open still succeeds and libnats keeps
 * trying in the background (hookgate's store is the buffer meanwhile).  A
 * server that refuses the credentials twice in a row ends the connection
 * for good (libnats' rule): natsconn_why() then still names the refusal,
 * and a reload (or the jetstream sink, every 5 s) opens a new connection.
 * Opening waits at most about 1 s per server: each of the two connect
 * passes (natsconn.c) gives a server 500 ms.
 */
#ifndef HG_NATSCONN_H
#define HG_NATSCONN_H

#include <stddef.h>

#include <nats/nats.h>

struct cfg_sink;
struct natsconn;

/* natsconn_cfg - where and as whom to connect.  Strings are the caller's
 * and need to live only during natsconn_open. */
struct natsconn_cfg {
    char *const *servers; /* nats:// or tls:// URLs, NULL-terminated; a
                             user:password@ in a URL is used to log in */
    const char *creds;    /* a .creds file (user JWT and NKey seed),
                             "file:" prefix allowed, or NULL */
    const char *tls_ca;   /* PEM CAs the servers' certificates must chain to */
    const char *tls_cert; /* client certificate and key (mutual TLS) */
    const char *tls_key;
};

/* natsconn_cfg_of_sink - the connection settings of jetstream sink s
 * (servers, creds, tls.*), for s's own connection or one that borrows
 * them.  s must outlive the use of the result. */
struct natsconn_cfg natsconn_cfg_of_sink(const struct cfg_sink *s);

/* natsconn_open - connect as c says (TLS when c names a CA or a client
 * certificate, or a URL is tls://).  HG_OK with *out the caller's (see
 * natsconn_close), connected or still trying; HG_EINVAL when libnats
 * refused a setting (an unreadable or malformed file), HG_EIO when it could
 * not set up the connection at all (HG_ENOMEM), with *why (static text)
 * saying why. */
int natsconn_open(const struct natsconn_cfg *c, struct natsconn **out, const char **why);

/* natsconn_nc - the libnats connection, for JetStream contexts and the
 * like; valid until natsconn_close. */
natsConnection *natsconn_nc(struct natsconn *n);

/* natsconn_why - NULL while n is connected; else why it is not, in buf
 * (cap bytes): the server's last word ("Authorization Violation"), kept
 * after libnats gave up ("connection closed: Authorization Violation"), or
 * the connection's state.  Any thread: the text is the copy the
 * connection's callbacks made under a lock (never libnats' own buffer). */
const char *natsconn_why(struct natsconn *n, char *buf, size_t cap);

/* natsconn_drops - how many times n lost its link (disconnected or
 * closed) since open; a publish begun at one count and failed at another
 * failed because the link went down.  Any thread. */
unsigned long natsconn_drops(struct natsconn *n);

/* natsconn_cfg_same - 1 if a and b connect to the same servers (in the
 * same order, user:password@ included) with the same creds and TLS file
 * paths; nothing is copied. */
int natsconn_cfg_same(const struct natsconn_cfg *a, const struct natsconn_cfg *b);

/* natsconn_close - close and free n.  NULL-safe.  Callbacks that the
 * caller registered elsewhere (a JetStream context's PubAck handler) may
 * still run on libnats threads afterwards. */
void natsconn_close(struct natsconn *n);

#endif
