/*
 * log.c - JSON-lines logger (see log.h).
 *
 * Built on jansson: logging is off the hot path (accepted events log at
 * debug level only), so clarity wins over speed here.  The time stamp is
 * UTC with milliseconds.
 *
 * The rate limit (log_limit) is a fixed table of token buckets under one
 * mutex: a rejected request costs a hash, a string compare and a few
 * arithmetic operations, far less than the line it saves.  Its clock is
 * monotonic, so a wall-clock step neither opens nor shuts it.  Summary lines
 * are written after the mutex is released (writing under it would make every
 * thread wait on stderr).
 */
#include "log.h"
#include "codec.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIMIT_KEY     96    /* bytes of route and of reason kept per key, NUL included */
#define LIMIT_IDLE_MS 60000 /* a key unused this long (and with nothing pending) frees its slot */

/* one key's bucket; tokens are thousandths of a line */
struct limit {
    char route[LIMIT_KEY], reason[LIMIT_KEY];
    int used;
    int64_t tokens;
    int64_t refill_ms;  /* tokens is up to date at this time */
    int64_t seen_ms;    /* last line of this key, written or not */
    int64_t summary_ms; /* last summary line of this key */
    uint64_t suppressed;
};

/* the last slot is shared by every key that finds no other */
static struct limit limits[LOG_LIMIT_SLOTS + 1];
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned limit_rate = LOG_LIMIT_RATE, limit_burst = LOG_LIMIT_BURST;

static int log_min = LOG_INFO;
static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_set_level(int level)
{
    log_min = level;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, log_names[i]) == 0)
            return i;
    return -1;
}

int log_enabled(int level)
{
    return level >= log_min;
}

void log_msg(int level, const char *msg, const char *fields, ...)
{
    if (level < log_min)
        return;
    if (level < LOG_DEBUG || level > LOG_ERROR)
        level = LOG_ERROR;

    char tsbuf[40];
    time_format_ms(time_now_ms(), tsbuf, sizeof(tsbuf));

    json_t *o = json_object();
    if (!o)
        return;
    json_object_set_new(o, "ts", json_string(tsbuf));
    json_object_set_new(o, "level", json_string(log_names[level]));
    json_object_set_new(o, "msg", json_string(msg ? msg : ""));
    if (fields) {
        va_list ap;
        json_error_t jerr;
        va_start(ap, fields);
        json_t *f = json_vpack_ex(&jerr, 0, fields, ap);
        va_end(ap);
        if (f)
            json_object_update(o, f);
        else
            json_object_set_new(o, "log_error", json_string(jerr.text));
        json_decref(f);
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!line)
        return;
    size_t n = strlen(line);
    line[n] = '\n'; /* json_dumps leaves room for exactly this: its NUL */
    const char *p = line;
    size_t left = n + 1;
    while (left > 0) {
        ssize_t w = write(2, p, left);
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    free(line);
}

char *log_clean(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in && in[i] && i + 1 < cap; i++)
        out[i] = (char)((in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?');
    if (cap)
        out[i] = '\0';
    return out;
}

static int64_t limit_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* limit_hash - FNV-1a of the bytes of route and reason that tell keys apart */
static size_t limit_hash(const char *route, const char *reason)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = route; *s && s - route < LIMIT_KEY - 1; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL; /* "ab"+"c" differs from "a"+"bc" */
    for (const char *s = reason; *s && s - reason < LIMIT_KEY - 1; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)(h % LOG_LIMIT_SLOTS);
}

/* limit_slot - the slot of (route, reason), claimed if new (mutex held). */
static struct limit *limit_slot(const char *route, const char *reason, int64_t now)
{
    struct limit *spare = NULL;
    size_t h = limit_hash(route, reason);
    for (size_t i = 0; i < LOG_LIMIT_SLOTS; i++) {
        struct limit *l = &limits[(h + i) % LOG_LIMIT_SLOTS];
        if (l->used && !strncmp(l->route, route, LIMIT_KEY - 1) &&
            !strncmp(l->reason, reason, LIMIT_KEY - 1))
            return l;
        if (!spare && (!l->used || (!l->suppressed && now - l->seen_ms > LIMIT_IDLE_MS)))
            spare = l;
    }
    struct limit *l = spare ? spare : &limits[LOG_LIMIT_SLOTS];
    if (l == spare || !l->used) {
        memset(l, 0, sizeof(*l));
        l->used = 1;
        snprintf(l->route, LIMIT_KEY, "%s", spare ? route : "*");
        snprintf(l->reason, LIMIT_KEY, "%s", spare ? reason : "*");
        l->tokens = (int64_t)limit_burst * 1000;
        l->refill_ms = l->summary_ms = now;
    }
    return l;
}

/* summary - the "log lines suppressed" line of one key */
static void summary(const char *route, const char *reason, uint64_t n)
{
    char r[LIMIT_KEY], x[LIMIT_KEY];
    log_msg(LOG_WARN, "log lines suppressed", "{s:s,s:s,s:I}", "route",
            log_clean(route, r, sizeof(r)), "reason", log_clean(reason, x, sizeof(x)), "suppressed",
            (json_int_t)n);
}

int log_limit(const char *route, const char *reason)
{
    int64_t now = limit_now_ms();
    char r[LIMIT_KEY], x[LIMIT_KEY];
    uint64_t pending = 0;
    pthread_mutex_lock(&limit_lock);
    if (!limit_rate) {
        pthread_mutex_unlock(&limit_lock);
        return 1;
    }
    struct limit *l = limit_slot(route, reason, now);
    int64_t cap = (int64_t)limit_burst * 1000;
    l->tokens += (now - l->refill_ms) * (int64_t)limit_rate;
    if (l->tokens > cap)
        l->tokens = cap;
    l->refill_ms = now;
    l->seen_ms = now;
    int ok = l->tokens >= 1000;
    if (ok) {
        l->tokens -= 1000;
        if (l->suppressed && now - l->summary_ms >= 1000) {
            pending = l->suppressed;
            memcpy(r, l->route, sizeof(r));
            memcpy(x, l->reason, sizeof(x));
            l->suppressed = 0;
            l->summary_ms = now;
        }
    } else {
        l->suppressed++;
    }
    pthread_mutex_unlock(&limit_lock);
    if (pending)
        summary(r, x, pending);
    return ok;
}

void log_flush_suppressed(void)
{
    for (size_t i = 0; i <= LOG_LIMIT_SLOTS; i++) {
        char r[LIMIT_KEY], x[LIMIT_KEY];
        uint64_t pending = 0;
        pthread_mutex_lock(&limit_lock);
        struct limit *l = &limits[i];
        if (l->used && l->suppressed) {
            pending = l->suppressed;
            memcpy(r, l->route, sizeof(r));
            memcpy(x, l->reason, sizeof(x));
            l->suppressed = 0;
            l->summary_ms = limit_now_ms();
        }
        pthread_mutex_unlock(&limit_lock);
        if (pending)
            summary(r, x, pending);
    }
}

void log_limit_set(unsigned per_sec, unsigned burst)
{
    pthread_mutex_lock(&limit_lock);
    limit_rate = per_sec;
    limit_burst = burst ? burst : 1;
    memset(limits, 0, sizeof(limits));
    pthread_mutex_unlock(&limit_lock);
}
