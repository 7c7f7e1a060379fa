/*
 * main.c - command dispatch, `serve` (start-up order and signal handling),
 * `check` and `version`; the usage texts live in cli.c.
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

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <lmdb.h>
#include <microhttpd.h>
#include <nats/nats.h>
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

/* parse_c - `hookgate CMD [-c FILE]`: 0 and *path (NULL when absent) to go
 * on; otherwise the command is over and *code is its exit code (help
 * printed, or a usage error reported). */
static int parse_c(int argc, char **argv, const char **path, int *code)
{
    const char *cmd = argv[1];
    *path = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int is_c = !strcmp(a, "-c") || !strcmp(a, "--config");
        if (cli_is_help(a))
            *code = cli_help(cmd);
        else if (is_c && i + 1 >= argc)
            *code = cli_usage_error(cmd, "option '%s' needs a value", a);
        else if (is_c && !*path) {
            *path = argv[++i];
            continue;
        } else if (is_c)
            *code = cli_usage_error(cmd, "-c FILE is given twice");
        else if (a[0] == '-' && a[1])
            *code = cli_usage_error(cmd, "unknown option '%s'", a);
        else
            *code = cli_usage_error(cmd, "unexpected argument '%s'", a);
        return 1;
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
    char *problems = NULL;
    struct config *c;
    int code;
    if (parse_c(argc, argv, &path, &code))
        return code;
    if (!path)
        return cli_usage_error("check", "check needs -c FILE");
    if (config_load_file_all(path, &c, &problems)) {
        /* every problem on its own line, each with the prefix: grep-able */
        for (char *line = problems, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            fprintf(stderr, "hookgate: invalid config: %.*s\n",
                    (int)(nl ? (size_t)(nl - line) : strlen(line)), line);
        }
        if (!problems)
            fprintf(stderr, "hookgate: invalid config: out of memory\n");
        free(problems);
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
    char err[1024], *problems = NULL;
    char *secret_path = NULL;
    struct config *c;
    int code;
    if (parse_c(argc, argv, &path, &code))
        return code;
    int rc = path ? config_load_file_all(path, &c, &problems)
                  : config_load_default(&c, &secret_path, err, sizeof(err));
    if (rc) {
        log_msg(LOG_ERROR, "invalid config", "{s:s}", "error",
                path ? (problems ? problems : "out of memory") : err);
        free(problems);
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
    /* shared dedupe is attached before the first request thread runs: they
     * read cfg_route.shd without a lock */
    if (!sinks || run_as_prepare(c, &ra) || metrics_init(c) || http_bind(c, &binds) ||
        run_as_switch(&ra) || store_open(&scfg, &st) ||
        (store_reject_limits(st, c->rejected_max, c->rejected_max_age_ms), 0) ||
        (shdedupe_attach(c), 0) || http_start(c, st, binds, &h) || deliver_start(c, st, &dl)) {
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
    struct reload_state rs = {.path = path, .st = st, .h = h, .dl = &dl};
    if (reload_keep_first(&rs, c)) {
        log_msg(LOG_ERROR, "out of memory", NULL);
        rs.path = NULL;
    }
    for (;;) {
        struct timespec one = {1, 0};
        int sig = sigtimedwait(&set, NULL, &one);
        http_reap(h);           /* daemons replaced by a reload whose connections ended */
        log_flush_suppressed(); /* what log_limit dropped in the last second, counted */
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
    log_flush_suppressed(); /* rejections counted while draining */
    log_msg(LOG_INFO, "stopped", NULL);
    return 0;
}

/* cmd_version - hookgate's version (the first line, which scripts read),
 * then each linked library with the version it reports at run time: the
 * shared object actually loaded, not the headers built against. */
static int cmd_version(int argc, char **argv)
{
    if (argc > 2 && cli_is_help(argv[2]))
        return cli_help("version");
    if (argc > 2 && argv[2][0] == '-' && argv[2][1])
        return cli_usage_error("version", "unknown option '%s'", argv[2]);
    if (argc > 2)
        return cli_usage_error("version", "unexpected argument '%s'", argv[2]);
    int maj, min, pat;
    mdb_version(&maj, &min, &pat);
    const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
    const char *gnutls = gnutls_check_version(NULL);
    printf("hookgate %s\n"
           "libmicrohttpd %s\n"
           "GnuTLS %s\n"
           "OpenSSL %s\n"
           "jansson %s\n"
           "LMDB %d.%d.%d\n"
           "libcurl %s\n"
           "libnats %s\n",
           HG_VERSION, MHD_get_version(), gnutls ? gnutls : "?",
           OpenSSL_version(OPENSSL_VERSION_STRING), jansson_version_str(), maj, min, pat,
           curl && curl->version ? curl->version : "?", nats_GetVersion());
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(NULL, "missing command");
    const char *cmd = argv[1];
    if (cli_is_help(cmd))
        return cli_help(NULL);
    if (!strcmp(cmd, "help") && argc > 2 && !cli_is_command(argv[2]))
        return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
    if (!strcmp(cmd, "help")) /* `hookgate help [COMMAND]` */
        return cli_help(argc > 2 ? argv[2] : NULL);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(argc, argv);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc, argv);
    if (!strcmp(cmd, "events"))
        return cli_events(argc, argv);
    if (!strcmp(cmd, "gc"))
        return cli_gc(argc, argv);
    if (!strcmp(cmd, "sign"))
        return cli_sign(argc, argv);
    if (!strcmp(cmd, "send-test"))
        return cli_send_test(argc, argv);
    if (!strcmp(cmd, "profiles"))
        return cli_profiles(argc, argv);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version"))
        return cmd_version(argc, argv);
    if (cmd[0] == '-' && cmd[1])
        return cli_usage_error(NULL, "unknown option '%s'", cmd);
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}
