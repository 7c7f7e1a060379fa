/*
 * bare.c - the baseline for the hookgate benchmark: a libmicrohttpd server
 * that does nothing but read the request body and answer 200 with a small
 * JSON body.  Same MHD threading model as a production gateway would use
 * (internal epoll thread, thread pool of 2), so "hookgate / bare" isolates the
 * cost of the gateway's own work (verification, dedupe, storage, sinks).
 *
 *   bare PORT [CERT KEY]
 *
 * Listens on 127.0.0.1:PORT; with CERT and KEY (PEM files) it speaks HTTPS.
 * Runs until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

static const char reply[] = "{\"status\":\"accepted\"}";

static struct MHD_Response *ok_response;

/* Per-connection marker: the first call for a request only sets it. */
static int request_seen;

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;

    if (*req_cls == NULL) {
        *req_cls = &request_seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* discard the chunk */
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, ok_response);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "bare: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) {
            char *nbuf = realloc(buf, cap * 2);
            if (nbuf == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nbuf;
            cap *= 2;
        }
    }
    if (buf != NULL)
        buf[len] = '\0';
    else
        fprintf(stderr, "bare: out of memory reading %s\n", path);
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: %s PORT [CERT KEY]\n", argv[0]);
        return 2;
    }
    char *end;
    long port = strtol(argv[1], &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "bare: bad port '%s'\n", argv[1]);
        return 2;
    }

    char *cert = NULL, *key = NULL;
    if (argc == 4) {
        cert = slurp(argv[2]);
        key = slurp(argv[3]);
        if (cert == NULL || key == NULL)
            return 1;
    }

    /* Block the stop signals before MHD starts its threads so they inherit
     * the mask and sigwait() below is the only receiver. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    ok_response =
        MHD_create_response_from_buffer(sizeof(reply) - 1, (void *)reply, MHD_RESPMEM_PERSISTENT);
    if (ok_response == NULL || MHD_add_response_header(ok_response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                                       "application/json") != MHD_YES) {
        fprintf(stderr, "bare: cannot create response\n");
        return 1;
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (cert != NULL)
        flags |= MHD_USE_TLS;

    /* Passed via MHD_OPTION_ARRAY; for plain HTTP only the terminating
     * MHD_OPTION_END entry is passed. */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)2,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)10, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_ARRAY,
        cert != NULL ? tls_opts : &tls_opts[2], MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bare: cannot start daemon on 127.0.0.1:%ld\n", port);
        return 1;
    }
    fprintf(stderr, "bare: listening on %s://127.0.0.1:%ld\n", cert != NULL ? "https" : "http",
            port);

    int sig = 0;
    sigwait(&stop, &sig);

    MHD_stop_daemon(d);
    MHD_destroy_response(ok_response);
    free(cert);
    free(key);
    return 0;
}
