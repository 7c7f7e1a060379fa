/*
 * config_parse.c - the parsing helpers of the config loader (config.c,
 * config_route.c, config_sink.c), which the profile loader (profile.c)
 * shares: the problem list, unknown keys with the nearest known key, the
 * typed getters, secrets.  See config_int.h for each contract.
 *
 * Why a file of its own: every part of the config is checked and reported
 * the same way, and the parts must not call back into config.c, which calls
 * them: calls run one way, from config.c, config_route.c, config_sink.c and
 * profile.c to here, and from here to none of them.
 *
 * Invariants: messages never contain a secret's value; a kept line is
 * "<file>: <json path>: <what is wrong>"; at most CONFIG_MAX_PROBLEMS lines
 * are kept and every problem is counted.  Only cfgp_resolve_secret reads a
 * file or the environment (the loader's second pass).
 */
#include "config_int.h"
#include "codec.h"
#include "err.h"
#include "log.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFGP_MAX_SUGGESTED 1024 /* past it, a "required" line may follow its typo */
#define CFGP_WORD_MAX      64   /* longer words get no suggestion */
#define CFGP_MORE_MAX      48   /* "\n... N more problems" and its NUL */

/* ---- the problem list ---------------------------------------------------- */

static struct cfgp_problems *list_of(struct ctx *x)
{
    /* a collector's ctx is its first member (config_int.h) */
    if (x->err || x->errlen != CFGP_COLLECT)
        return NULL;
    return &((struct cfgp_collector *)(void *)x)->all;
}

static void add_line(struct cfgp_problems *a, char *line)
{
    if (a->n < CONFIG_MAX_PROBLEMS)
        a->line[a->n] = line; /* NULL when out of memory: counted, not shown */
    else
        free(line);
    a->n++;
}

static void vreport(struct ctx *x, const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vreport(struct ctx *x, const char *path, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    struct cfgp_problems *a = list_of(x);
    if (!a) {
        if (x->err && x->errlen)
            snprintf(x->err, x->errlen, "%s: %s: %s", x->name, path, msg);
        return;
    }
    char *line = NULL;
    if (asprintf(&line, "%s: %s: %s", x->name, path, msg) < 0)
        line = NULL;
    add_line(a, line);
}

void cfgp_report(struct ctx *x, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(x, path, fmt, ap);
    va_end(ap);
}

void cfgp_report_absent(struct ctx *x, const char *path, const char *fmt, ...)
{
    const struct cfgp_problems *a = list_of(x);
    for (size_t i = 0; a && i < a->nsuggested; i++)
        if (!strcmp(a->suggested[i], path))
            return;
    va_list ap;
    va_start(ap, fmt);
    vreport(x, path, fmt, ap);
    va_end(ap);
}

void cfgp_report_line(struct ctx *x, const char *line)
{
    struct cfgp_problems *a = list_of(x);
    if (a)
        add_line(a, strdup(line));
    else if (x->err && x->errlen)
        snprintf(x->err, x->errlen, "%s", line);
}

/* suggested - remember that path was offered for an unknown key */
static void suggested(struct ctx *x, const char *path)
{
    struct cfgp_problems *a = list_of(x);
    if (!a || a->nsuggested == CFGP_MAX_SUGGESTED)
        return;
    char **np = realloc(a->suggested, (a->nsuggested + 1) * sizeof(char *));
    if (!np)
        return;
    a->suggested = np;
    if ((np[a->nsuggested] = strdup(path)))
        a->nsuggested++;
}

static size_t kept(const struct cfgp_problems *a)
{
    return a->n < CONFIG_MAX_PROBLEMS ? a->n : CONFIG_MAX_PROBLEMS;
}

char *cfgp_problems_join(const struct cfgp_problems *a)
{
    size_t len = CFGP_MORE_MAX, k = kept(a), shown = 0;
    for (size_t i = 0; i < k; i++)
        len += a->line[i] ? strlen(a->line[i]) + 1 : 0;
    char *out = a->n ? malloc(len) : NULL;
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < k; i++) {
        if (!a->line[i])
            continue;
        size_t l = strlen(a->line[i]);
        if (o)
            out[o++] = '\n';
        memcpy(out + o, a->line[i], l);
        o += l;
        shown++;
    }
    out[o] = '\0';
    if (shown < a->n)
        snprintf(out + o, len - o, "%s... %zu more problems", o ? "\n" : "", a->n - shown);
    return out;
}

void cfgp_problems_write(const struct cfgp_problems *a, char *buf, size_t cap)
{
    size_t k = kept(a), o = 0, shown = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < k; i++) {
        if (!a->line[i])
            continue;
        size_t l = strlen(a->line[i]) + (o ? 1 : 0);
        size_t reserve = shown + 1 < a->n ? CFGP_MORE_MAX : 0;
        if (o + l + reserve >= cap && !o) {
            /* not even the first line: cut it, as a single message always was */
            snprintf(buf, cap, "%s", a->line[i]);
            return;
        }
        if (o + l + reserve >= cap)
            break;
        snprintf(buf + o, cap - o, "%s%s", o ? "\n" : "", a->line[i]);
        o += l;
        shown++;
    }
    if (shown < a->n)
        snprintf(buf + o, cap - o, "%s... %zu more problems", o ? "\n" : "", a->n - shown);
}

void cfgp_problems_free(struct cfgp_problems *a)
{
    for (size_t i = 0; i < kept(a); i++)
        free(a->line[i]);
    for (size_t i = 0; i < a->nsuggested; i++)
        free(a->suggested[i]);
    free(a->suggested);
    memset(a, 0, sizeof(*a));
}

/* ---- keys ------------------------------------------------------------------ */

void cfgp_pathf(char *p, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, cap, fmt, ap);
    va_end(ap);
}

int cfgp_in_list(const char *key, const char *const *list)
{
    for (; list && *list; list++)
        if (strcmp(key, *list) == 0)
            return 1;
    return 0;
}

/* osa - optimal string alignment distance of a and b (each at most
 * CFGP_WORD_MAX bytes): Levenshtein plus swaps of two neighbours. */
static size_t osa(const char *a, size_t la, const char *b, size_t lb)
{
    unsigned char d[CFGP_WORD_MAX + 1][CFGP_WORD_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned char)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            unsigned v = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < v)
                v = d[i][j - 1] + 1u;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1u < v)
                v = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)v;
        }
    return d[la][lb];
}

const char *cfgp_suggest(const char *word, const char *const *list)
{
    size_t lw = strlen(word);
    if (!lw || lw > CFGP_WORD_MAX)
        return NULL;
    size_t best_d = (lw / 3 > 1 ? lw / 3 : 1) + 1;
    const char *best = NULL;
    for (; list && *list; list++) {
        size_t lc = strlen(*list);
        /* the lengths alone need that many edits */
        if (lc > CFGP_WORD_MAX || (lc > lw ? lc - lw : lw - lc) >= best_d)
            continue;
        size_t d = osa(word, lw, *list, lc);
        if (d < best_d) {
            best_d = d;
            best = *list;
        }
    }
    return best;
}

int cfgp_check_keys(struct ctx *x, const char *path, json_t *obj, const char *const *known,
                    const char *const *later)
{
    if (!json_is_object(obj))
        return cfgp_fail(x, path, "must be an object");
    int rc = HG_OK;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        char p[512];
        cfgp_pathf(p, sizeof(p), "%s.%s", path, key);
        if (cfgp_in_list(key, later)) {
            rc = cfgp_fail(x, p, "not supported by this build yet");
        } else if (!cfgp_in_list(key, known)) {
            const char *near = cfgp_suggest(key, known);
            if (near) {
                char np[512];
                cfgp_pathf(np, sizeof(np), "%s.%s", path, near);
                suggested(x, np);
                rc = cfgp_fail(x, p, "unknown key (did you mean \"%s\"?)", near);
            } else {
                rc = cfgp_fail(x, p, "unknown key");
            }
        }
        if (rc && !list_of(x)) /* stops at the first problem: report no other */
            return rc;
    }
    return rc;
}

/* ---- values ---------------------------------------------------------------- */

int cfgp_get_string(struct ctx *x, const char *path, json_t *v, char **out)
{
    if (!json_is_string(v) || json_string_length(v) == 0)
        return cfgp_fail(x, path, "must be a non-empty string");
    if (strlen(json_string_value(v)) != json_string_length(v))
        return cfgp_fail(x, path, "must not contain NUL");
    *out = strdup(json_string_value(v));
    return *out ? HG_OK : HG_ENOMEM;
}

int cfgp_get_bool(struct ctx *x, const char *path, json_t *v, int *out)
{
    if (!json_is_boolean(v))
        return cfgp_fail(x, path, "must be true or false");
    *out = json_is_true(v);
    return HG_OK;
}

int cfgp_get_size(struct ctx *x, const char *path, json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return HG_OK;
    }
    if (json_is_string(v) && parse_size(json_string_value(v), out) == HG_OK)
        return HG_OK;
    return cfgp_fail(x, path, "must be a size like \"1MiB\", \"512KiB\" or a number of bytes");
}

int cfgp_get_duration(struct ctx *x, const char *path, json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        json_integer_value(v) < (json_int_t)(UINT64_MAX / 1000)) {
        *out = (uint64_t)json_integer_value(v) * 1000;
        return HG_OK;
    }
    if (json_is_string(v) && parse_duration_ms(json_string_value(v), out) == HG_OK)
        return HG_OK;
    return cfgp_fail(x, path,
                     "must be a duration like \"250ms\", \"30s\", \"5m\", \"7d\" or seconds");
}

int cfgp_get_duration_in(struct ctx *x, const char *path, json_t *v, uint64_t lo_ms, uint64_t hi_ms,
                         const char *range, uint64_t *out)
{
    uint64_t ms;
    int rc = cfgp_get_duration(x, path, v, &ms);
    if (rc)
        return rc;
    if (ms < lo_ms || ms > hi_ms)
        return cfgp_fail(x, path, "%s", range);
    *out = ms;
    return HG_OK;
}

int cfgp_get_uint(struct ctx *x, const char *path, json_t *v, unsigned lo, unsigned hi,
                  unsigned *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return cfgp_fail(x, path, "must be an integer from %u to %u", lo, hi);
    *out = (unsigned)json_integer_value(v);
    return HG_OK;
}

int cfgp_get_strings(struct ctx *x, const char *path, json_t *v, char ***out)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 256)
        return cfgp_fail(x, path, "must be a non-empty array of strings");
    *out = calloc(json_array_size(v) + 1, sizeof(char *));
    if (!*out)
        return HG_ENOMEM;
    int rc = HG_OK;
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s[%zu]", path, i);
        /* the good entries stay packed: the list ends at its first NULL */
        int erc = cfgp_get_string(x, p, e, &(*out)[n]);
        if (!erc)
            n++;
        rc = cfgp_worse(rc, erc);
        if (rc == HG_ENOMEM || (rc && !list_of(x)))
            return rc;
    }
    return rc;
}

int cfgp_nats_servers(struct ctx *x, const char *path, json_t *v, char ***out)
{
    int rc = cfgp_get_strings(x, path, v, out);
    for (char **u = *out; !rc && u && *u; u++) {
        const char *host = !strncmp(*u, "nats://", 7)  ? *u + 7
                           : !strncmp(*u, "tls://", 6) ? *u + 6
                                                       : NULL;
        if (!host || !*host || *host == ':' || *host == '/' || strpbrk(*u, " \t\r\n,"))
            rc = cfgp_fail(x, path, "a server is nats://HOST:PORT or tls://HOST:PORT");
    }
    return rc;
}

/* ---- secrets --------------------------------------------------------------- */

int cfgp_check_secret(struct ctx *x, const char *path, json_t *v)
{
    if (!json_is_string(v) || json_string_length(v) == 0)
        return cfgp_fail(x, path, "must be \"env:NAME\", \"file:PATH\" or a literal secret");
    return HG_OK;
}

int cfgp_resolve_secret(struct ctx *x, const char *path, json_t *v, struct secret *s)
{
    int rc = cfgp_check_secret(x, path, v);
    if (rc)
        return rc;
    const char *str = json_string_value(v);
    if (strncmp(str, "env:", 4) == 0 || strncmp(str, "file:", 5) == 0) {
        /* the loader `sign -s` uses too: both say the same about a source */
        char why[512];
        rc = secret_load(str, SECRET_FILE_PRIVATE, s, NULL, why, sizeof(why));
        if (rc == HG_EINVAL)
            return cfgp_fail(x, path, "%s", why);
        if (rc)
            return rc;
    } else {
        s->len = json_string_length(v);
        s->data = malloc(s->len + 1);
        if (!s->data)
            return HG_ENOMEM;
        memcpy(s->data, str, s->len);
        log_msg(LOG_WARN, "literal secret in config; prefer env: or file:", "{s:s,s:s}", "file",
                x->name, "key", path);
    }
    if (!rc && s->len == 0)
        return cfgp_fail(x, path, "secret is empty");
    return rc;
}
