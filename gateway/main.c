/*
 * main.c - command line, start-up order and signal handling.
 *
 * serve: load config -> open store -> start delivery -> start listeners,
 * then sigwait.  Stop (SIGTERM/SIGINT) runs the reverse with one twist:
 * listeners stop accepting first, the store drains (every suspended
 * request gets its real answer), and only then are connections closed.
 * Signals are blocked in every thread and taken synchronously here, so no
 * code runs in a signal handler.
 */
#include "cli.h"
#include "config.h"
#include "deliver.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"
#include "shdedupe.h"
#include "store.h"

#include <jansson.h>
#include <lmdb.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchknob.h"
/* a tests/bench build says so wherever it gives its version */
#define HG_VERSION_BASE "0.1.0"
#if BENCHKNOB_BUILT
#define HG_VERSION HG_VERSION_BASE "+benchknobs"
#else
#define HG_VERSION HG_VERSION_BASE
#endif

static int usage(void)
{
    fputs("usage: hookgate serve [-c FILE]\n"
          "       hookgate check -c FILE\n"
          "       hookgate events list [--route R] [--limit N] (-c FILE | --data DIR)\n"
          "       hookgate events show ID_OR_SEQ (-c FILE | --data DIR)\n"
          "       hookgate events dead [--sink S] (-c FILE | --data DIR)\n"
          "       hookgate gc (-c FILE | --data DIR) [--window DURATION]\n"
          "       hookgate sign -p PROFILE -s SECRET [--id ID] [--type TYPE] [--nonce N]\n"
          "                     [--timestamp UNIX] [--profile-dir DIR] [FILE]\n"
          "       hookgate send-test URL -p PROFILE -s SECRET [--type TYPE] [--id ID]\n"
          "                     [--cacert FILE | --insecure] [--profile-dir DIR]\n"
          "       hookgate version\n",
          stderr);
    return 2;
}

/* opt_config - the value of -c/--config in argv, NULL if absent; -1 on a bad argument. */
static int parse_c(int argc, char **argv, const char **path)
{
    *path = NULL;
    for (int i = 2; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
            *path = argv[++i];
        else
            return -1;
    }
    return 0;
}

/* run_as - the "user" switch: resolved and data_dir handed over before the
 * store opens, privileges dropped once the ports are bound and the store is
 * open, before any handler process is started. */
struct run_as {
    int active;
    const char *dir;
    uid_t uid;
    gid_t gid;
    const char *name;
};

static int run_as_prepare(const struct config *c, struct run_as *ra)
{
    memset(ra, 0, sizeof(*ra));
    if (!c->user)
        return 0;
    struct passwd *pw = getpwnam(c->user);
    if (!pw) {
        log_msg(LOG_ERROR, "user: no such user", "{s:s}", "user", c->user);
        return -1;
    }
    if (getuid() != 0) {
        if (pw->pw_uid == getuid())
            return 0; /* already that user */
        log_msg(LOG_ERROR, "user: only root can switch to another user", "{s:s}", "user", c->user);
        return -1;
    }
    if (pw->pw_uid == 0) {
        log_msg(LOG_ERROR, "user: refusing to \"switch\" to root", NULL);
        return -1;
    }
    ra->active = 1;
    ra->uid = pw->pw_uid;
    ra->gid = pw->pw_gid;
    ra->name = c->user;
    ra->dir = c->data_dir;
    /* the store is opened only after the switch, as the user: root never
     * touches a file inside data_dir (the user could have planted a symlink
     * there).  A data_dir root creates now is empty and handed over; an
     * existing one must already belong to the user. */
    int created = mkdir(c->data_dir, 0700) == 0;
    if (!created && errno != EEXIST) {
        log_msg(LOG_ERROR, "user: cannot create data_dir", "{s:s,s:s}", "dir", c->data_dir, "error",
                strerror(errno));
        return -1;
    }
    int dfd = open(c->data_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (dfd < 0 || fstat(dfd, &sb) || (created && fchown(dfd, ra->uid, ra->gid))) {
        log_msg(LOG_ERROR, "user: cannot hand data_dir over", "{s:s,s:s}", "dir", c->data_dir,
                "error", strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    close(dfd);
    if (!created && sb.st_uid != ra->uid) {
        log_msg(LOG_ERROR, "user: data_dir must belong to the user (chown -R it)", "{s:s,s:s}",
                "dir", c->data_dir, "user", c->user);
        return -1;
    }
    return 0;
}

static int run_as_switch(const struct run_as *ra)
{
    if (!ra->active)
        return 0;
    if (setgroups(0, NULL) || setgid(ra->gid) || setuid(ra->uid)) {
        log_msg(LOG_ERROR, "user: cannot switch", "{s:s,s:s}", "user", ra->name, "error",
                strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) { /* must be impossible now */
        log_msg(LOG_ERROR, "user: privileges could be regained; refusing to run", NULL);
        return -1;
    }
    log_msg(LOG_INFO, "running as", "{s:s,s:i,s:i}", "user", ra->name, "uid", (int)ra->uid, "gid",
            (int)ra->gid);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    const char *path;
    char err[1024];
    struct config *c;
    if (parse_c(argc, argv, &path) || !path)
        return usage();
    if (config_load_file(path, &c, err, sizeof(err))) {
        fprintf(stderr, "hookgate: invalid config: %s\n", err);
        return 1;
    }
    config_print(c, stdout);
    printf("config ok\n");
    config_free(c);
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    const char *path;
    char err[1024];
    char *secret_path = NULL;
    struct config *c;
    if (parse_c(argc, argv, &path))
        return usage();
    int rc = path ? config_load_file(path, &c, err, sizeof(err))
                  : config_load_default(&c, &secret_path, err, sizeof(err));
    if (rc) {
        log_msg(LOG_ERROR, "invalid config", "{s:s}", "error", err);
        return 1;
    }
    log_set_level(c->log_level);
    if (!path)
        log_msg(LOG_INFO, "running the embedded default config", "{s:s,s:s}", "route", "/webhooks",
                "secret", secret_path ? secret_path : "env:HOOKGATE_SECRET");
    free(secret_path);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    (void)signal(SIGPIPE, SIG_IGN);

    const char **sinks = calloc(c->nsinks + 1, sizeof(char *));
    for (size_t i = 0; sinks && i < c->nsinks; i++)
        sinks[i] = c->sinks[i].name;
    struct store_cfg scfg = {.dir = c->data_dir,
                             .max_size = c->max_store_size,
                             .dedupe_window_ms = c->dedupe_window_ms,
                             .max_queue = 65536,
                             .sinks = sinks,
                             .nsinks = c->nsinks,
                             .gc_interval_ms = c->gc_interval_ms};
    struct store *st = NULL;
    struct deliver *dl = NULL;
    struct http *h = NULL;
    struct run_as ra;
    /* as root only what needs root: bind the ports; then switch, then open
     * the store and serve on the sockets bound before */
    struct http_binds *binds = NULL;
    if (!sinks || run_as_prepare(c, &ra) || metrics_init(c) || http_bind(c, &binds) ||
        run_as_switch(&ra) || store_open(&scfg, &st) || http_start(c, st, binds, &h) ||
        deliver_start(c, st, &dl)) {
        http_binds_free(binds);
        http_stop(h);
        deliver_stop(dl);
        if (st)
            store_drain(st);
        store_close(st);
        config_free(c);
        free(sinks);
        return 1;
    }
    log_msg(LOG_INFO, "hookgate started", "{s:s,s:s}", "version", HG_VERSION, "config", c->source);
    http_binds_free(binds);
    shdedupe_attach(c);
    struct reload_state rs = {.path = path, .st = st, .h = h, .dl = &dl};
    if (reload_keep_first(&rs, c)) {
        log_msg(LOG_ERROR, "out of memory", NULL);
        rs.path = NULL;
    }
    for (;;) {
        struct timespec one = {1, 0};
        int sig = sigtimedwait(&set, NULL, &one);
        http_reap(h); /* daemons replaced by a reload whose connections ended */
        if (sig < 0)
            continue;
        if (sig == SIGHUP) {
            reload_apply(&rs);
            continue;
        }
        log_msg(LOG_INFO, "stopping", "{s:s}", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    c = rs.gens && rs.ngens ? rs.gens[rs.ngens - 1] : c; /* the current config */
    http_quiesce(h);
    store_drain(st);
    http_wait_idle(h, (int)c->shutdown_timeout_ms);
    http_stop(h);
    deliver_stop(dl);
    store_close(st);
    metrics_free();
    if (rs.ngens)
        reload_free(&rs); /* every generation, the first included */
    else
        config_free(c);
    free(sinks);
    log_msg(LOG_INFO, "stopped", NULL);
    return 0;
}

static int cmd_version(void)
{
    int maj, min, pat;
    mdb_version(&maj, &min, &pat);
    printf("hookgate %s\nlibmicrohttpd %s\nOpenSSL %s\njansson %s\nLMDB %d.%d.%d\n", HG_VERSION,
           MHD_get_version(), OpenSSL_version(OPENSSL_VERSION_STRING), jansson_version_str(), maj,
           min, pat);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (!strcmp(argv[1], "serve"))
        return cmd_serve(argc, argv);
    if (!strcmp(argv[1], "check"))
        return cmd_check(argc, argv);
    if (!strcmp(argv[1], "events"))
        return cli_events(argc, argv);
    if (!strcmp(argv[1], "gc"))
        return cli_gc(argc, argv);
    if (!strcmp(argv[1], "sign"))
        return cli_sign(argc, argv);
    if (!strcmp(argv[1], "send-test"))
        return cli_send_test(argc, argv);
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version"))
        return cmd_version();
    return usage();
}
