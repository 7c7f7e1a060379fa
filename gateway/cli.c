/*
 * cli.c - the usage texts of every command, and `hookgate events list |
 * show | dead | replay` and `hookgate gc` (see cli.h).
 *
 * The store is found from --data DIR, or from the data_dir of -c FILE (read
 * with a plain JSON parse, so a config whose env: secrets are not set in
 * this shell still names its store), or else is the embedded default's
 * ./hookgate-data.  Output is plain text, one record a line, for people and
 * for grep/awk; `show` prints the envelope itself.  Nothing a producer or a
 * sink sent reaches the terminal raw: controls, line separators and
 * bidirectional controls are shown as '?' in lists and as JSON escapes in
 * `show` (event_term_*).  The usage texts live in
 * one table here so `hookgate --help` and each command's own usage cannot
 * drift apart.
 */
#include "cli.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "gc.h"
#include "store.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CLI_MAX_SINKS 64
/* the data_dir of the embedded default config (config_load_default) */

/* usages - per command: its usage lines (continuations indented 14 more
 * columns), then what `hookgate CMD --help` adds. */
static const struct {
    const char *cmd, *lines, *notes;
} usages[] = {
    {"serve", "hookgate serve [-c FILE]\n",
     "Runs the gateway.  Without -c, the embedded default config: plain HTTP on\n"
     "127.0.0.1:8080, POST /webhooks with the generic profile, events to stdout,\n"
     "data in ./hookgate-data, the secret from $HOOKGATE_SECRET or else\n"
     "./hookgate-data/secret.\n"},
    {"check", "hookgate check -c FILE\n",
     "Validates the config and prints the listeners, routes and sinks it gives;\n"
     "exit 1 with a message naming the bad key.\n"},
    {"events",
     "hookgate events list [--route R] [--limit N] [-c FILE | --data DIR]\n"
     "hookgate events show ID_OR_SEQ [-c FILE | --data DIR]\n"
     "hookgate events dead [--sink S] [-c FILE | --data DIR]\n"
     "hookgate events rejected [--route R] [--limit N] [-c FILE | --data DIR]\n"
     "hookgate events replay --sink S (--seq N | --since TIME | --dead)\n"
     "              [-c FILE | --data DIR]\n",
     "Read the store read-only, beside a running gateway.  Without -c or --data:\n"
     "./hookgate-data (the embedded default's data directory) when it exists.\n"
     "replay delivers again to sink S from seq N, from the first event received\n"
     "at or after TIME (RFC 3339 or unix seconds), or S's dead letters.\n"
     "rejected lists the requests refused by verification, the allow list or\n"
     "the event checks (newest first) with the reason in words.\n"},
    {"gc", "hookgate gc (-c FILE | --data DIR) [--window DURATION]\n",
     "Prunes delivered events older than the window (the config's dedupe_window,\n"
     "else 7d) and expires dedupe keys a generation at a time (a key stays one to\n"
     "two windows), never sooner than the window the gateway last ran with (it\n"
     "records it in the store); safe while serve runs.\n"},
    {"sign",
     "hookgate sign -p PROFILE -s SECRET [--id ID] [--type TYPE] [--nonce N]\n"
     "              [--timestamp TS] [--url URL] [--method M] [--claim NAME=VALUE]\n"
     "              [--profile-dir DIR] [FILE]\n",
     "Prints the headers a producer using PROFILE sends for the body in FILE\n"
     "(stdin without FILE), one \"Name: value\" a line.  An id or type the body\n"
     "already carries where PROFILE reads it is not repeated in a header.\n"
     "--url and --method are what schemes that sign the URL (Twilio, Square,\n"
     "HubSpot, Trello, QStash) cover.  A profile whose signature or token is in\n"
     "the body (Mailgun, Microsoft Graph) prints the headers, an empty line and\n"
     "the signed body.  --claim adds a claim to a JWT (true/false: booleans).\n"
     "SECRET is a literal, env:NAME or file:PATH; for a\n"
     "public-key scheme, the private key (PEM, whsk_, or 64 hex digits).\n"},
    {"send-test",
     "hookgate send-test URL -p PROFILE -s SECRET [--type TYPE] [--id ID]\n"
     "              [--url SIGNED_URL] [--method M] [--cacert FILE | --insecure]\n"
     "              [--profile-dir DIR]\n",
     "Posts PROFILE's signed test event to URL and prints \"HTTP <status>\" and\n"
     "the answer; exit 0 on a 2xx answer.  SECRET is a literal, env:NAME or\n"
     "file:PATH.\n"},
    {"profiles",
     "hookgate profiles list [--profile-dir DIR]\n"
     "hookgate profiles show NAME [--profile-dir DIR]\n",
     "The producer catalogue: list prints each profile's name, signature scheme,\n"
     "registration handshakes, event id source and what proves it (the\n"
     "producer's SDK, a published vector, or the documented scheme); show\n"
     "prints one profile's JSON.  docs/profiles.md describes every key.\n"},
    {"version", "hookgate version\n",
     "Prints hookgate's version and the run-time version of each linked library.\n"},
};

#define CLI_NUSAGES (sizeof(usages) / sizeof(usages[0]))

/* put_lines - text's lines to f, "usage: " before the first of all (*first)
 * and 7 spaces before the others, so they align. */
static void put_lines(FILE *f, const char *text, int *first)
{
    while (*text) {
        const char *nl = strchr(text, '\n');
        int n = nl ? (int)(nl - text) : (int)strlen(text);
        fprintf(f, "%s%.*s\n", *first ? "usage: " : "       ", n, text);
        *first = 0;
        text += n + (nl ? 1 : 0);
    }
}

void cli_usage(FILE *f, const char *cmd, int notes)
{
    int first = 1;
    for (size_t i = 0; cmd && i < CLI_NUSAGES; i++) {
        if (!strcmp(cmd, usages[i].cmd)) {
            put_lines(f, usages[i].lines, &first);
            if (notes)
                fprintf(f, "\n%s", usages[i].notes);
            return;
        }
    }
    for (size_t i = 0; i < CLI_NUSAGES; i++)
        put_lines(f, usages[i].lines, &first);
    fputs("\n`hookgate COMMAND --help` tells more about one command.\n"
          "Exit codes: 0 ok, 1 runtime or config error, 2 usage error.\n",
          f);
}

int cli_help(const char *cmd)
{
    cli_usage(stdout, cmd, 1);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hookgate: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    cli_usage(stderr, cmd, 0);
    return 2;
}

int cli_is_help(const char *arg)
{
    return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

int cli_is_command(const char *cmd)
{
    for (size_t i = 0; i < CLI_NUSAGES; i++)
        if (!strcmp(cmd, usages[i].cmd))
            return 1;
    return 0;
}

struct opts {
    const char *data, *config, *route, *sink, *since;
    uint64_t seq;
    int dead;
    unsigned long limit;
    const char *arg; /* show: ID_OR_SEQ */
};

/* number - a positive decimal in s: 0 and *out, or -1. */
static int number(const char *s, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1; /* strtoull would take "-1" as a huge number */
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || !v || errno)
        return -1;
    *out = v;
    return 0;
}

/* parse - the options after `hookgate events SUB`.  0: go on; otherwise
 * the command is over and *code is its exit code (help printed, or a usage
 * error reported). */
static int parse(int argc, char **argv, struct opts *o, int *code)
{
    memset(o, 0, sizeof(*o));
    o->limit = 20;
    for (int i = 3; i < argc && argv[i]; i++) { /* argv: hookgate events SUB ... */
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = !strcmp(a, "-c")        ? &o->config
                            : !strcmp(a, "--data")  ? &o->data
                            : !strcmp(a, "--route") ? &o->route
                            : !strcmp(a, "--sink")  ? &o->sink
                            : !strcmp(a, "--since") ? &o->since
                                                    : NULL;
        uint64_t n;
        if (cli_is_help(a)) {
            *code = cli_help("events");
            return 1;
        }
        if (!strcmp(a, "--dead")) {
            o->dead = 1;
            continue;
        }
        if (a[0] == '-' && a[1] && !slot && strcmp(a, "--seq") && strcmp(a, "--limit")) {
            *code = cli_usage_error("events", "unknown option '%s'", a);
            return 1;
        }
        if (a[0] == '-' && a[1] && !v) {
            *code = cli_usage_error("events", "option '%s' needs a value", a);
            return 1;
        }
        if (slot) {
            *slot = argv[++i];
        } else if (!strcmp(a, "--seq") || !strcmp(a, "--limit")) {
            if (number(argv[++i], &n)) {
                *code =
                    cli_usage_error("events", "%s takes a positive number, not '%s'", a, argv[i]);
                return 1;
            }
            if (a[2] == 's')
                o->seq = n;
            else
                o->limit = n > ULONG_MAX ? ULONG_MAX : (unsigned long)n;
        } else if (!o->arg) {
            o->arg = a;
        } else {
            *code = cli_usage_error("events", "unexpected argument '%s'", a);
            return 1;
        }
    }
    return 0;
}

/* digits - the value of the n decimal digits at s (already validated). */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* parse_time_ms - RFC 3339 (UTC "Z" or an offset) or unix seconds -> ms. */
static int parse_time_ms(const char *s, int64_t *out)
{
    char *end;
    long long secs = strtoll(s, &end, 10);
    if (*s && !*end) {
        if (secs > INT64_MAX / 1000 || secs < INT64_MIN / 1000)
            return -1; /* secs * 1000 would overflow */
        *out = secs * 1000;
        return 0;
    }
    if (!time_rfc3339_valid(s, strlen(s)))
        return -1;
    struct tm tm = {0};
    tm.tm_year = digits(s, 4) - 1900;
    tm.tm_mon = digits(s + 5, 2) - 1;
    tm.tm_mday = digits(s + 8, 2);
    tm.tm_hour = digits(s + 11, 2);
    tm.tm_min = digits(s + 14, 2);
    tm.tm_sec = digits(s + 17, 2);
    int64_t t = (int64_t)timegm(&tm);
    const char *z = s + 19;
    while (*z && *z != 'Z' && *z != '+' && *z != '-')
        z++;
    if (*z == '+' || *z == '-') {
        int off = digits(z + 1, 2) * 3600 + digits(z + 4, 2) * 60;
        t -= *z == '+' ? off : -off;
    }
    *out = t * 1000;
    return 0;
}

struct since {
    int64_t ms;
    uint64_t seq;
};

static int on_since(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct since *s = arg;
    struct event ev;
    if (event_rec_parse(rec, len, &ev) == HG_OK && ev.received_ms >= s->ms) {
        s->seq = seq;
        return 1;
    }
    return 0;
}

static int count_dead(void *arg, const char *sink, uint64_t seq, unsigned attempts, int64_t t,
                      const char *err)
{
    (void)sink;
    (void)seq;
    (void)attempts;
    (void)t;
    (void)err;
    ++*(size_t *)arg;
    return 0;
}

/* cmd_replay - resolve the request and print it; the caller writes it after
 * closing its reader (LMDB allows one open of an environment per process).
 * Returns an exit code; *from is 0 when there is nothing to request. */
static int cmd_replay(struct store *st, const struct opts *o, uint64_t *from_out)
{
    *from_out = 0;
    uint64_t from = o->seq;
    if (o->since) {
        struct since s = {0, 0};
        if (parse_time_ms(o->since, &s.ms)) {
            fprintf(stderr, "hookgate: --since takes RFC 3339 (2026-11-22T10:00:00Z) or unix "
                            "seconds\n");
            return 2;
        }
        store_scan(st, 0, SIZE_MAX, on_since, &s);
        if (!s.seq) {
            printf("no event received since %s: nothing to replay\n", o->since);
            return 0;
        }
        from = s.seq;
    }
    size_t n = 0;
    if (o->dead)
        store_dead_scan(st, o->sink, count_dead, &n);
    *from_out = o->dead ? 1 : from;
    if (o->dead)
        printf("replay of %zu dead letter(s) of sink %s\n", n, o->sink);
    else
        printf("replay of sink %s from seq %llu (to %llu)\n", o->sink, (unsigned long long)from,
               (unsigned long long)store_last_seq(st));
    return 0;
}

/* open_store - via --data or the config's data_dir. */
static int open_store(const struct opts *o, struct store **st, char *dir, size_t cap)
{
    if (o->data) {
        snprintf(dir, cap, "%s", o->data);
    } else {
        json_error_t jerr;
        json_t *root = json_load_file(o->config, 0, &jerr);
        if (!root) {
            fprintf(stderr, "hookgate: %s: line %d: cannot read the config\n", o->config,
                    jerr.line);
            return 1;
        }
        json_t *d = json_object_get(root, "data_dir");
        snprintf(dir, cap, "%s",
                 json_is_string(d) ? json_string_value(d) : CONFIG_DEFAULT_DATA_DIR);
        json_decref(root);
    }
    return store_open_reader(dir, st) ? 1 : 0;
}

struct sinks {
    size_t n;
    char name[CLI_MAX_SINKS][72];
    uint64_t cursor[CLI_MAX_SINKS];
};

static int on_cursor(void *arg, const char *sink, uint64_t seq)
{
    struct sinks *s = arg;
    if (s->n == CLI_MAX_SINKS)
        return 1;
    snprintf(s->name[s->n], sizeof(s->name[0]), "%s", sink);
    s->cursor[s->n++] = seq;
    return 0;
}

/* term_safe - a stored string for a terminal line (out: EVENT_STR_MAX + 1
 * bytes): controls (C0, DEL, C1), line separators, bidirectional controls
 * and bytes that are not UTF-8 become '?' (event_term_text).  Today's ids
 * and types hold none of them, but older versions stored some. */
static const char *term_safe(const struct event_str *s, char *out)
{
    return event_term_text(s->p, s->len < EVENT_STR_MAX ? s->len : EVENT_STR_MAX, out);
}

struct list {
    struct store *st;
    const struct opts *o;
    struct sinks *sinks;
};

static int on_event(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct list *l = arg;
    struct event ev;
    if (event_rec_parse(rec, len, &ev)) {
        printf("%llu\t(unreadable record)\n", (unsigned long long)seq);
        return 0;
    }
    if (l->o->route &&
        (strlen(l->o->route) != ev.route.len || memcmp(l->o->route, ev.route.p, ev.route.len)))
        return 0;
    char when[40];
    time_format_ms(ev.received_ms, when, sizeof(when));
    char route[EVENT_STR_MAX + 1], id[EVENT_STR_MAX + 1], type[EVENT_STR_MAX + 1];
    printf("%llu\t%s\t%s\t%s\t%s\t", (unsigned long long)seq, when, term_safe(&ev.route, route),
           term_safe(&ev.id, id), term_safe(&ev.type, type));
    for (size_t i = 0; i < l->sinks->n; i++)
        printf("%s%s:%s", i ? " " : "", l->sinks->name[i],
               store_dead_has(l->st, l->sinks->name[i], seq) ? "dead"
               : seq <= l->sinks->cursor[i]                  ? "delivered"
                                                             : "pending");
    printf("\n");
    return ferror(stdout) ? 1 : 0; /* the reader went away: stop scanning */
}

/* config_sinks - with -c, every configured sink is listed, also one that
 * has never delivered anything (it has no cursor yet: all pending). */
static void config_sinks(const struct opts *o, struct sinks *sk)
{
    json_t *root = o->config ? json_load_file(o->config, 0, NULL) : NULL;
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(root, "sinks"), key, v)
    {
        size_t i = 0;
        while (i < sk->n && strcmp(sk->name[i], key))
            i++;
        if (i == sk->n && sk->n < CLI_MAX_SINKS) {
            snprintf(sk->name[sk->n], sizeof(sk->name[0]), "%s", key);
            sk->cursor[sk->n++] = 0;
        }
    }
    json_decref(root);
}

static int cmd_list(struct store *st, const struct opts *o)
{
    struct sinks sinks = {0};
    store_cursor_scan(st, on_cursor, &sinks);
    config_sinks(o, &sinks);
    uint64_t last = store_last_seq(st);
    uint64_t after = last > o->limit ? last - o->limit : 0;
    struct list l = {st, o, &sinks};
    printf("SEQ\tRECEIVED\tROUTE\tID\tTYPE\tDELIVERY (sink:state; the state is by cursor, "
           "whether or not the sink takes this route)\n");
    return store_scan(st, after, o->limit, on_event, &l) ? 1 : 0;
}

/* on_show - the envelope, made terminal-safe with the same JSON meaning
 * (event_term_json: a body may carry raw C1 or bidirectional controls
 * inside its strings, and an older version stored ids holding them). */
struct show {
    uint64_t want; /* the scan gives the next indexed event: it must be this one */
    struct buf b;
};

static int on_show(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct show *sh = arg;
    struct buf *b = &sh->b;
    struct event ev;
    struct buf env;
    if (seq != sh->want) /* pruned: "no event", never the next one */
        return 1;
    buf_init(&env, b->max);
    if (event_rec_parse(rec, len, &ev) == HG_OK && event_envelope(&ev, seq, &env) == HG_OK &&
        event_term_json(env.p, env.len, b))
        buf_reset(b); /* too big: "no event" rather than half of one */
    buf_free(&env);
    return 1;
}

struct id_find {
    const char *id;
    uint64_t seq;
};

static int on_id(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct id_find *f = arg;
    struct event ev;
    if (event_rec_parse(rec, len, &ev) == HG_OK && ev.id.len == strlen(f->id) &&
        !memcmp(ev.id.p, f->id, ev.id.len))
        f->seq = seq; /* keep the newest */
    return 0;
}

static int cmd_show(struct store *st, const struct opts *o)
{
    if (!o->arg) /* check() refuses that already */
        return 2;
    char *end;
    uint64_t seq = strtoull(o->arg, &end, 10);
    if (*end || !seq) { /* not a number: an event id */
        if (store_find_id(st, o->arg, &seq))
            return 1;
    }
    struct show sh = {0, {0}};
    struct buf *b = &sh.b;
    buf_init(b, (size_t)1 << 34);
    if (!seq && *end) { /* deduplicated by body hash (an unsigned header id): look at every event */
        struct id_find f = {o->arg, 0};
        store_scan(st, 0, SIZE_MAX, on_id, &f);
        seq = f.seq;
    }
    sh.want = seq;
    if (seq)
        store_scan(st, seq - 1, 1, on_show, &sh);
    if (!b->len) {
        fprintf(stderr, "hookgate: no event %s\n", o->arg);
        buf_free(b);
        return 1;
    }
    /* a write error (a full disk, a closed pipe) is a failed command */
    int ok = fwrite(b->p, 1, b->len, stdout) == b->len && fflush(stdout) == 0;
    buf_free(b);
    return ok ? 0 : 1;
}

static int on_dead(void *arg, const char *sink, uint64_t seq, unsigned attempts, int64_t time_ms,
                   const char *err)
{
    (void)arg;
    char when[40], e[1024];
    time_format_ms(time_ms, when, sizeof(when));
    /* the error may quote a sink's answer: the service's bytes, not ours */
    size_t n = strlen(err);
    printf("%s\t%llu\t%u\t%s\t%s\n", sink, (unsigned long long)seq, attempts, when,
           event_term_text(err, n < sizeof(e) ? n : sizeof(e) - 1, e));
    return ferror(stdout) ? 1 : 0;
}

/* on_rejected - one rejected request as a line: ID TIME ROUTE STATUS
 * CLIENT REASON (the producer's bytes made safe for a terminal). */
static int on_rejected(void *arg, uint64_t id, int64_t time_ms, const char *json, size_t len)
{
    struct opts *o = arg;
    json_t *j = json_loadb(json, len, 0, NULL);
    const char *route = json_string_value(json_object_get(j, "route"));
    if (o->route && (!route || strcmp(route, o->route))) {
        json_decref(j);
        return 0;
    }
    if (!o->limit) {
        json_decref(j);
        return 1;
    }
    o->limit--;
    const char *f[3] = {route ? route : "-", json_string_value(json_object_get(j, "client")),
                        json_string_value(json_object_get(j, "reason"))};
    char t[3][1024], when[40];
    for (int i = 0; i < 3; i++) {
        size_t n = f[i] ? strlen(f[i]) : 0;
        event_term_text(f[i] ? f[i] : "", n < sizeof(t[i]) ? n : sizeof(t[i]) - 1, t[i]);
    }
    time_format_ms(time_ms, when, sizeof(when));
    printf("%llu\t%s\t%s\t%d\t%s\t%s\n", (unsigned long long)id, when, t[0],
           (int)json_integer_value(json_object_get(j, "status")), t[1], t[2]);
    json_decref(j);
    return ferror(stdout) ? 1 : 0;
}

/* command - argv[2], the events command: 0 and *sub to go on; otherwise
 * the command is over and *code is its exit code (help printed, or a
 * usage error reported). */
static int command(int argc, char **argv, const char **sub, int *code)
{
    static const char *const subs[] = {"list", "show", "dead", "replay", "rejected"};
    const char *a = argc > 2 ? argv[2] : NULL;
    for (size_t i = 0; a && i < sizeof(subs) / sizeof(subs[0]); i++)
        if (!strcmp(a, subs[i])) {
            *sub = subs[i];
            return 0;
        }
    if (a && cli_is_help(a))
        *code = cli_help("events");
    else if (!a || !strcmp(a, "-c") || !strcmp(a, "--data"))
        *code = cli_usage_error("events",
                                "events needs a command: list, show, dead, replay or rejected");
    else if (a[0] == '-' && a[1])
        *code = cli_usage_error("events", "unknown option '%s'", a);
    else
        *code = cli_usage_error("events", "unknown command 'events %s'", a);
    return 1;
}

/* check - what sub needs of o, and the embedded default's data directory
 * when neither -c nor --data names one: 0 to go on, or the exit code. */
static int check(const char *sub, struct opts *o)
{
    if (!strcmp(sub, "show") && !o->arg)
        return cli_usage_error("events", "events show needs ID_OR_SEQ");
    if (strcmp(sub, "show") && o->arg)
        return cli_usage_error("events", "unexpected argument '%s'", o->arg);
    if (!strcmp(sub, "replay") && (!o->sink || (!!o->seq + !!o->since + o->dead) != 1))
        return cli_usage_error("events",
                               "events replay needs --sink S and one of --seq N, --since TIME "
                               "or --dead");
    if (o->data || o->config)
        return 0;
    struct stat sb;
    if (stat(CONFIG_DEFAULT_DATA_DIR, &sb) || !S_ISDIR(sb.st_mode))
        return cli_usage_error("events",
                               "no %s here (the embedded default's data directory): pass "
                               "-c FILE or --data DIR",
                               CONFIG_DEFAULT_DATA_DIR);
    fprintf(stderr, "hookgate: reading data directory %s\n", CONFIG_DEFAULT_DATA_DIR);
    o->data = CONFIG_DEFAULT_DATA_DIR;
    return 0;
}

int cli_events(int argc, char **argv)
{
    struct opts o;
    const char *sub = NULL;
    int rc = 0;
    (void)signal(SIGPIPE, SIG_IGN); /* `| head` must end the scan, not kill us mid-transaction */
    if (command(argc, argv, &sub, &rc) || parse(argc, argv, &o, &rc) || (rc = check(sub, &o)))
        return rc;
    struct store *st;
    char dir[4096];
    if (open_store(&o, &st, dir, sizeof(dir)))
        return 1;
    if (!strcmp(sub, "list")) {
        rc = cmd_list(st, &o);
    } else if (!strcmp(sub, "show")) {
        rc = cmd_show(st, &o);
    } else if (!strcmp(sub, "replay")) {
        uint64_t from;
        rc = cmd_replay(st, &o, &from);
        store_close(st);
        if (!rc && from) {
            rc = store_replay_request(dir, o.sink, o.dead, o.dead ? 0 : from) ? 1 : 0;
            if (!rc)
                printf("requested: a running gateway picks it up within a second; otherwise "
                       "at its next start\n");
        }
        return rc;
    } else if (!strcmp(sub, "rejected")) {
        printf("ID\tTIME\tROUTE\tSTATUS\tCLIENT\tREASON\n");
        rc = store_reject_scan(st, 0, on_rejected, &o) ? 1 : 0;
    } else {
        printf("SINK\tSEQ\tATTEMPTS\tFAILED_AT\tLAST_ERROR\n");
        rc = store_dead_scan(st, o.sink, on_dead, NULL) ? 1 : 0;
    }
    store_close(st);
    return rc;
}

/* gc_args - `hookgate gc`'s options: 0 to go on; otherwise the command is
 * over and *code is its exit code (help printed, or a usage error). */
static int gc_args(int argc, char **argv, const char **data, const char **config,
                   const char **window, int *code)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "-c")         ? config
                            : !strcmp(a, "--data")   ? data
                            : !strcmp(a, "--window") ? window
                                                     : NULL;
        if (cli_is_help(a))
            *code = cli_help("gc");
        else if (slot && i + 1 >= argc)
            *code = cli_usage_error("gc", "option '%s' needs a value", a);
        else if (!slot && a[0] == '-' && a[1])
            *code = cli_usage_error("gc", "unknown option '%s'", a);
        else if (!slot)
            *code = cli_usage_error("gc", "unexpected argument '%s'", a);
        else {
            *slot = argv[++i];
            continue;
        }
        return 1;
    }
    if (*data || *config)
        return 0;
    *code = cli_usage_error("gc", "gc needs -c FILE or --data DIR");
    return 1;
}

int cli_gc(int argc, char **argv)
{
    const char *data = NULL, *config = NULL, *window = NULL;
    int code;
    if (gc_args(argc, argv, &data, &config, &window, &code))
        return code;
    char dir[4096];
    uint64_t window_ms = 7ULL * 86400000;
    const char *names[CLI_MAX_SINKS];
    size_t nsinks = 0;
    json_t *root = NULL;
    if (config) {
        json_error_t jerr;
        if (!(root = json_load_file(config, 0, &jerr))) {
            fprintf(stderr, "hookgate: %s: line %d: cannot read the config\n", config, jerr.line);
            return 1;
        }
        json_t *d = json_object_get(root, "data_dir"), *w = json_object_get(root, "dedupe_window");
        snprintf(dir, sizeof(dir), "%s",
                 json_is_string(d) ? json_string_value(d) : CONFIG_DEFAULT_DATA_DIR);
        /* what the config parser accepts (config.c): a window this command
         * misread would prune keys serve still needs */
        if ((json_is_integer(w) && (json_integer_value(w) < 0 ||
                                    json_integer_value(w) >= (json_int_t)(UINT64_MAX / 1000))) ||
            (json_is_string(w) && parse_duration_ms(json_string_value(w), &window_ms)) ||
            (w && !json_is_integer(w) && !json_is_string(w))) {
            fprintf(stderr, "hookgate: %s: dedupe_window is not a valid duration\n", config);
            json_decref(root);
            return 2;
        }
        if (json_is_integer(w))
            window_ms = (uint64_t)json_integer_value(w) * 1000;
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(root, "sinks"), key, v)
        {
            if (nsinks < CLI_MAX_SINKS)
                names[nsinks++] = key;
        }
    } else {
        snprintf(dir, sizeof(dir), "%s", data);
    }
    if (window && parse_duration_ms(window, &window_ms)) {
        fprintf(stderr, "hookgate: --window takes a duration such as 7d or 12h\n");
        json_decref(root);
        return 2;
    }
    struct gc_stats gs;
    int rc = gc_dir(dir, window_ms, nsinks ? names : NULL, nsinks, &gs);
    json_decref(root);
    if (rc)
        return 1;
    printf("removed %llu dedupe key(s) and %llu delivered event(s) older than %llu s\n",
           (unsigned long long)gs.seen, (unsigned long long)gs.events,
           (unsigned long long)(window_ms / 1000));
    if (!gs.keys_left && gs.key_window_ms > window_ms)
        printf(
            "dedupe keys kept for the gateway's dedupe_window of %llu s (the store records it)\n",
            (unsigned long long)(gs.key_window_ms / 1000));
    if (gs.keys_left)
        printf("dedupe keys left alone: the store is of format 1, still used by an older gateway; "
               "they expire once it runs this version\n");
    return 0;
}
