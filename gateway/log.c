/*
 * log.c - JSON-lines logger (see log.h).
 *
 * Built on jansson: logging is off the hot path (accepted events log at
 * debug level only), so clarity wins over speed here.  The time stamp is
 * UTC with milliseconds.
 */
#include "log.h"
#include "codec.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
