/*
 * fuzz_http.c - libFuzzer driver for the HTTP request path, end to end.
 *
 * LLVMFuzzerInitialize starts the real gateway in this process as `serve`
 * does (config_load_string -> metrics_init -> http_bind -> store_open ->
 * http_start -> deliver_start): one plain-HTTP listener on 127.0.0.1 (a
 * free port found by binding port 0 first), a temporary store (mkdtemp under
 * $HG_FUZZ_TMP, else /dev/shm, else $TMPDIR or /tmp; removed at exit), a
 * stdout sink whose fd 1 is /dev/null, and routes for the profiles generic,
 * iex, standard (Svix headers too), github, stripe, shopify, slack, hubex
 * (token in the path or a header), an unsigned route with a "token", and
 * zoom, x (registration handshakes answered with an HMAC) and twilio ({url},
 * {form}).  No route whose handshake echoes a value (meta, msgraph): the
 * fuzzer could learn a listed secret from the leak check and have it echoed.
 * Secrets are those of tests/vectors/vectors.json, so the seeds
 * (valid signed requests made by tests/fuzz/make_http_seeds.py) reach the
 * store; tolerance is 3650d so their fixed timestamps stay valid.
 *
 * Bounds for long runs: dedupe_window 2s and gc_interval 1s, so delivered
 * events and dedupe keys are pruned within seconds and the store stays a
 * few MiB (max_store_size 64MiB is only a backstop: 503 when full);
 * request_timeout 1s; max_body 64KiB.
 *
 * Each input is one TCP connection: the raw bytes (one request or several
 * pipelined ones) are written, the write side is shut down, and the answer
 * is read until EOF (reading while writing, so nothing blocks), with a 5 s
 * bound (an abort after that; libFuzzer's -timeout=1 normally reports a
 * slow input first).  See exchange() for the EOF that libmicrohttpd can
 * miss; such connections are counted at exit.  Invariants:
 *  - the answer is empty (no complete request) or a sequence of responses,
 *    each beginning at the start of a line with "HTTP/1.1 " + 3 digits +
 *    " " (a reset connection may cut the last one short);
 *  - no secret of the config (as text, in hex or in base64; a whsec_ key
 *    also as its decoded bytes in hex) occurs in any response's headers,
 *    nor in the body of any response that is not 2xx (a 2xx body may echo
 *    the event id the client sent, which may legitimately be anything);
 *  - a 2xx body is empty (HEAD), a {"status":"...} object or the metrics
 *    text;
 *  - every 512 inputs, GET /healthz still answers 200 (the daemon accepts,
 *    answers and its store is usable).
 * At exit a line "fuzz_http: answers ..." counts the statuses seen (how
 * far inputs got: 200 = verified and stored), then the gateway is stopped
 * as `serve` stops it (LeakSanitizer checks what is left).
 * Environment: HG_FUZZ_HTTP_VERBOSE=1 prints each input's statuses;
 * HG_FUZZ_HTTP_CANARY=TEXT treats TEXT as one more secret (a self-test:
 * "invalid signature" must make the first 401 abort).
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_http (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).  Seeds:
 * python3 tests/fuzz/make_http_seeds.py.
 */
#include "codec.h"
#include "config.h"
#include "deliver.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "shdedupe.h"
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS  5000
#define RESP_MAX     (4u << 20)
#define HEALTH_EVERY 512
#define NFORMS_MAX   64
#define LINGER_MS    50
#define FIN_DELAY_MS 2
#define MISSED_MS    500

/* every secret of the config below (not the whpk_ public key) */
static const char *const secrets[] = {
    "s3cr3t-0d56fb278178eba8",
    "iex_0eafdcbeb477b13b03d51c07a0d39db1",
    "whsec_B4knK4onaxGs/qH1SMQ8JaMtHlizRi4A",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_b6Ovv5eS7H5seJrGSStBYDivs8v2/KrFjfMaVZYsi7w=",
    "It's a Secret to Everybody",
    "whsec_9da417421236c4d75af98227",
    "shpss_d9a581c405929b9caad01e3b",
    "test_secret_key",
    "8f742231b10e8888abcd99yyyzzz85a5",
    "fuzz-hubex-token-5f0c2a91",
    "fuzz-route-token-9b1e77d3",
    "fuzz-zoom-secret-41c7e0a2",
    "fuzz-x-consumer-8d3b51f6",
    "fuzz-twilio-token-c61d",
};
#define NSECRETS (sizeof(secrets) / sizeof(secrets[0]))

static const char config_fmt[] =
    "{\"listen\": [{\"address\": \"127.0.0.1:%u\"}],"
    " \"data_dir\": \"%s\", \"log_level\": \"error\", \"threads\": 1,"
    " \"dedupe_window\": \"2s\", \"gc_interval\": \"1s\", \"shutdown_timeout\": \"1s\","
    " \"limits\": {\"max_body\": \"64KiB\", \"request_timeout\": \"1s\","
    "   \"max_store_size\": \"64MiB\", \"max_header_size\": \"8KiB\", \"max_connections\": 64},"
    " \"retry\": {\"max_attempts\": 3, \"initial\": \"100ms\", \"max\": \"1s\"},"
    " \"sinks\": {\"out\": {\"type\": \"stdout\"}},"
    " \"routes\": ["
    "  {\"path\": \"/hooks/generic\", \"profile\": \"generic\","
    "   \"secrets\": [\"s3cr3t-0d56fb278178eba8\"], \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/iex\", \"profile\": \"iex\", \"tolerance\": \"3650d\","
    "   \"secrets\": [\"iex_0eafdcbeb477b13b03d51c07a0d39db1\"], \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/standard\", \"profile\": \"standard\", \"tolerance\": \"3650d\","
    "   \"secrets\": [\"whsec_B4knK4onaxGs/qH1SMQ8JaMtHlizRi4A\","
    "     \"whpk_inRB6qgjQf4d3ZuFnivpDNqeeuWG5G6FmCueYT9MYik=\","
    "     \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\","
    "     \"whsec_b6Ovv5eS7H5seJrGSStBYDivs8v2/KrFjfMaVZYsi7w=\"], \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/github\", \"profile\": \"github\","
    "   \"secrets\": [\"It's a Secret to Everybody\"], \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/stripe\", \"profile\": \"stripe\", \"tolerance\": \"3650d\","
    "   \"secrets\": [\"whsec_9da417421236c4d75af98227\"], \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/shopify\", \"profile\": \"shopify\","
    "   \"secrets\": [\"shpss_d9a581c405929b9caad01e3b\", \"test_secret_key\"],"
    "   \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/slack\", \"profile\": \"slack\", \"tolerance\": \"3650d\","
    "   \"secrets\": [\"8f742231b10e8888abcd99yyyzzz85a5\"], \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/hubex\", \"profile\": \"hubex\","
    "   \"secrets\": [\"fuzz-hubex-token-5f0c2a91\"], \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/open\", \"profile\": \"unsigned\", \"allow_unsigned\": true,"
    "   \"token\": \"fuzz-route-token-9b1e77d3\", \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/zoom\", \"profile\": \"zoom\", \"tolerance\": \"3650d\","
    "   \"secrets\": [\"fuzz-zoom-secret-41c7e0a2\"], \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/x\", \"profile\": \"x\","
    "   \"secrets\": [\"fuzz-x-consumer-8d3b51f6\"], \"sinks\": [\"out\"]},"
    "  {\"path\": \"/hooks/twilio\", \"profile\": \"twilio\","
    "   \"secrets\": [\"fuzz-twilio-token-c61d\"], \"sinks\": [\"out\"]}"
    " ]}";

static struct {
    char *p;
    size_t n;
} forms[NFORMS_MAX];
static size_t nforms;

static struct config *cfg;
static struct store *st;
static struct deliver *dl;
static struct http *hs;
static const char **sink_names;
static unsigned port;
static char datadir[4096];
static unsigned long counts[600]; /* answers by status (0: other) */
static unsigned long inputs;
static unsigned long lingered; /* answered, but the connection was left open */
static unsigned long missed;   /* no answer, no EOF: the daemon missed the FIN */
static int verbose;            /* HG_FUZZ_HTTP_VERBOSE=1: each input's statuses on stderr */
static char resp[RESP_MAX];

static void die(const char *what)
{
    fprintf(stderr, "fuzz_http: %s\n", what);
    abort();
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void add_form(const char *s, size_t n)
{
    if (nforms == NFORMS_MAX || !(forms[nforms].p = malloc(n)))
        die("too many secret forms");
    memcpy(forms[nforms].p, s, n);
    forms[nforms++].n = n;
}

/* the text, hex and base64 of each secret; a whsec_ key's bytes in hex */
static void make_forms(void)
{
    char enc[512];
    unsigned char key[256];
    for (size_t i = 0; i < NSECRETS; i++) {
        const char *s = secrets[i];
        size_t n = strlen(s);
        add_form(s, n);
        hex_encode((const unsigned char *)s, n, enc);
        add_form(enc, strlen(enc));
        b64_encode((const unsigned char *)s, n, enc);
        add_form(enc, strlen(enc));
        size_t kn;
        if (!strncmp(s, "whsec_", 6) && b64_decode(s + 6, n - 6, key, sizeof(key), &kn) == HG_OK) {
            hex_encode(key, kn, enc);
            add_form(enc, strlen(enc));
        }
    }
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    (void)remove(path);
    return 0;
}

/* at exit: the statuses seen, then stop as serve does and remove the store */
static void teardown(void)
{
    fprintf(stderr, "fuzz_http: answers");
    for (unsigned s = 0; s < 600; s++)
        if (counts[s])
            fprintf(stderr, " %u:%lu", s, counts[s]);
    fprintf(stderr, " (%lu inputs; connections left open: %lu after an answer, %lu without)\n",
            inputs, lingered, missed);
    http_quiesce(hs);
    store_drain(st);
    http_wait_idle(hs, 1000);
    http_stop(hs);
    deliver_stop(dl);
    store_close(st);
    metrics_free();
    config_free(cfg);
    free(sink_names);
    for (size_t i = 0; i < nforms; i++)
        free(forms[i].p);
    nftw(datadir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* free_port - a port nobody listens on now (bind port 0, read it back) */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
        getsockname(fd, (struct sockaddr *)&sin, &len))
        die("cannot find a free port");
    close(fd);
    return ntohs(sin.sin_port);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    (void)signal(SIGPIPE, SIG_IGN);
    /* the stdout sink writes every delivered envelope to fd 1 */
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 1) < 0)
        die("cannot point stdout at /dev/null");
    close(null);
    log_set_level(LOG_ERROR);
    verbose = getenv("HG_FUZZ_HTTP_VERBOSE") != NULL;
    make_forms();
    /* self-test of the check: HG_FUZZ_HTTP_CANARY="invalid signature" makes
     * every 401 body count as a leak */
    const char *canary = getenv("HG_FUZZ_HTTP_CANARY");
    if (canary && *canary)
        add_form(canary, strlen(canary));

    const char *base = getenv("HG_FUZZ_TMP");
    if (!base)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(datadir, sizeof(datadir), "%s/fuzz_http.XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(datadir))
        die("mkdtemp failed");

    static char text[sizeof(config_fmt) + 4096 + 16];
    char err[1024];
    struct http_binds *binds = NULL;
    for (int attempt = 0; !binds; attempt++) {
        if (attempt == 20)
            die("cannot bind a listener");
        port = free_port();
        snprintf(text, sizeof(text), config_fmt, port, datadir);
        if (config_load_string(text, "fuzz_http.json", &cfg, err, sizeof(err))) {
            fprintf(stderr, "fuzz_http: %s\n", err);
            die("config refused");
        }
        if (http_bind(cfg, &binds)) {
            config_free(cfg);
            cfg = NULL;
            binds = NULL;
        }
    }
    if (!(sink_names = calloc(cfg->nsinks + 1, sizeof(char *))))
        die("out of memory");
    for (size_t i = 0; i < cfg->nsinks; i++)
        sink_names[i] = cfg->sinks[i].name;
    struct store_cfg scfg = {.dir = cfg->data_dir,
                             .max_size = cfg->max_store_size,
                             .dedupe_window_ms = cfg->dedupe_window_ms,
                             .max_queue = 65536,
                             .sinks = sink_names,
                             .nsinks = cfg->nsinks,
                             .gc_interval_ms = cfg->gc_interval_ms};
    if (metrics_init(cfg) || store_open(&scfg, &st) || http_start(cfg, st, binds, &hs) ||
        deliver_start(cfg, st, &dl))
        die("the gateway did not start");
    http_binds_free(binds);
    shdedupe_attach(cfg);
    if (atexit(teardown) != 0)
        abort();
    return 0;
}

/* answered - 1 if r[0..n) ends with a complete final answer: a status
 * line (not 1xx), headers and a body of its Content-Length (or none: HEAD). */
static int answered(const char *r, size_t n)
{
    size_t s = n < 9 ? 0 : n - 9;
    while (s > 0 && !(r[s - 1] == '\n' && !memcmp(r + s, "HTTP/1.1 ", 9)))
        s--;
    if (n - s < 13 || memcmp(r + s, "HTTP/1.1 ", 9) || r[s + 9] == '1')
        return 0;
    const char *h = memmem(r + s, n - s, "\r\n\r\n", 4);
    if (!h)
        return 0;
    size_t body = n - (size_t)(h + 4 - r);
    if (body == 0)
        return 1;
    const char *cl = memmem(r + s, (size_t)(h - (r + s)) + 2, "\r\nContent-Length: ", 18);
    return cl && strtoull(cl + 18, NULL, 10) == body;
}

/* exchange - one connection: send in, half-close, read the answer to EOF
 * into resp.  Returns its length; *reset is set when the connection was
 * reset.
 * libmicrohttpd (0.9.75, epoll) misses a client's EOF that arrives together
 * with the last request bytes, and then keeps the connection until
 * request_timeout: the FIN is sent FIN_DELAY_MS after the data (or as soon
 * as an answer starts), which avoids it, and for what is left (a busy
 * machine) the exchange also ends after LINGER_MS of silence following a
 * complete answer ("lingered"), or MISSED_MS of silence without one
 * ("missed": the connection is reset).  Both are counted at exit. */
static size_t exchange(const uint8_t *in, size_t n, int *reset)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0)
        die("socket failed");
    while (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
        if (errno != EINTR)
            die("cannot connect to the gateway");
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    size_t off = 0, got = 0;
    int writing = 1;
    *reset = 0;
    int64_t deadline = now_ms() + DEADLINE_MS, quiet = now_ms();
    for (;;) {
        while (writing && off < n) {
            ssize_t w = send(fd, in + off, n - off, MSG_NOSIGNAL);
            if (w > 0) {
                off += (size_t)w;
            } else if (w < 0 && errno == EINTR) {
                continue;
            } else {
                if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                    writing = 0; /* the gateway closed: read what it said */
                break;
            }
        }
        if (writing && off == n) {
            struct pollfd q = {.fd = fd, .events = POLLIN};
            poll(&q, 1, FIN_DELAY_MS);
            shutdown(fd, SHUT_WR);
            writing = 0;
            quiet = now_ms();
        }
        int64_t t = now_ms();
        if (t >= deadline)
            die("no end of answer within 5 s");
        int64_t wait = deadline - t;
        int done = 0;
        if (!writing) {
            done = answered(resp, got);
            int64_t w2 = quiet + (done ? LINGER_MS : MISSED_MS) - t;
            if (w2 <= 0) {
                if (done) {
                    lingered++;
                } else {
                    missed++;
                    *reset = 1;
                    struct linger l = {1, 0};
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
                }
                break;
            }
            wait = w2 < wait ? w2 : wait;
        }
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (writing ? POLLOUT : 0))};
        if (poll(&p, 1, (int)wait) < 0 && errno != EINTR)
            die("poll failed");
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        char tmp[65536];
        ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
        if (r > 0) {
            size_t take = (size_t)r < RESP_MAX - got ? (size_t)r : RESP_MAX - got;
            memcpy(resp + got, tmp, take);
            got += take;
            quiet = now_ms();
        } else if (r == 0) {
            break;
        } else if (errno == ECONNRESET) {
            *reset = 1;
            break;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            die("recv failed");
        }
    }
    close(fd);
    return got;
}

static int leaks_secret(const char *p, size_t n)
{
    for (size_t i = 0; i < nforms; i++)
        if (memmem(p, n, forms[i].p, forms[i].n))
            return 1;
    return 0;
}

/* check - the answer invariants (see the top); returns the first status */
/* handshake_answer - 1 if the answer's headers (h, n bytes) are those of a
 * registration handshake's (http_hs.c: never cached, never sniffed) */
static int handshake_answer(const char *h, size_t n)
{
    return memmem(h, n, "X-Content-Type-Options: nosniff", 31) &&
           memmem(h, n, "Cache-Control: no-store", 23);
}

static unsigned check(const char *r, size_t n, int cut, int count)
{
    unsigned first = 0;
    for (size_t s = 0; s < n;) {
        size_t e = s + 1; /* the next line that starts a response */
        while (e < n && !(r[e - 1] == '\n' && n - e >= 9 && !memcmp(r + e, "HTTP/1.1 ", 9)))
            e++;
        const char *seg = r + s;
        size_t len = e - s;
        if (len < 13 || memcmp(seg, "HTTP/1.1 ", 9) || seg[9] < '1' || seg[9] > '5' ||
            seg[10] < '0' || seg[10] > '9' || seg[11] < '0' || seg[11] > '9' || seg[12] != ' ') {
            if (cut && e == n && !memcmp(seg, "HTTP/1.1 ", len < 9 ? len : 9))
                break; /* a reset cut the last answer short */
            fprintf(stderr, "fuzz_http: answer at byte %zu: \"%.*s\"\n", s,
                    (int)(len < 40 ? len : 40), seg);
            die("an answer does not start with an HTTP/1.1 status line");
        }
        unsigned status = (unsigned)((seg[9] - '0') * 100 + (seg[10] - '0') * 10 + seg[11] - '0');
        if (count)
            counts[status < 600 ? status : 0]++;
        if (verbose && count)
            fprintf(stderr, " %u", status);
        if (!first)
            first = status;
        const char *hend = memmem(seg, len, "\r\n\r\n", 4);
        size_t hlen = hend ? (size_t)(hend - seg) + 4 : len;
        int ok2xx = status >= 200 && status < 300;
        if (leaks_secret(seg, ok2xx ? hlen : len)) {
            fprintf(stderr, "fuzz_http: status %u\n", status);
            die(ok2xx ? "a secret in the headers of an answer" : "a secret in an error answer");
        }
        size_t blen = len - hlen;
        if (ok2xx && hend && blen && !(cut && e == n) &&
            !(blen >= 11 && !memcmp(seg + hlen, "{\"status\":\"", 11)) &&
            !(blen >= 2 && !memcmp(seg + hlen, "# ", 2)) && !handshake_answer(seg, hlen))
            die("a 2xx body that is neither a status object, metrics nor a handshake answer");
        s = e;
    }
    return first;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int reset;
    size_t n = exchange(data, size, &reset);
    if (verbose)
        fprintf(stderr, "fuzz_http: %zu bytes in, answers:", size);
    check(resp, n, reset || n == RESP_MAX, 1);
    if (verbose)
        fprintf(stderr, "%s\n", reset ? " (reset)" : "");
    if (++inputs % HEALTH_EVERY == 0) {
        static const char probe[] = "GET /healthz HTTP/1.1\r\nHost: fuzz\r\n\r\n";
        int tries = 0; /* a probe may meet a busy machine: three chances */
        do
            n = exchange((const uint8_t *)probe, sizeof(probe) - 1, &reset);
        while (check(resp, n, reset, 0) != 200 && ++tries < 3);
        if (tries == 3)
            die("GET /healthz does not answer 200");
    }
    return 0;
}
