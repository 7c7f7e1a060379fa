/*
 * codec.c - encoders and strict parsers (see codec.h).
 *
 * All functions are pure and reentrant; they run on the request path
 * (hex/base64 of signatures, JSON escaping of ids) and at config load.
 */
#include "codec.h"
#include "buf.h"
#include "err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char hex_digits[] = "0123456789abcdef";

void hex_encode(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
    if (inlen != 2 * outlen)
        return HG_EINVAL;
    for (size_t i = 0; i < outlen; i++) {
        int hi = hex_digit((unsigned char)in[2 * i]), lo = hex_digit((unsigned char)in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return HG_EINVAL;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return HG_OK;
}

static const char b64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_digits[v >> 18];
        out[o++] = b64_digits[(v >> 12) & 63];
        out[o++] = b64_digits[(v >> 6) & 63];
        out[o++] = b64_digits[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
        out[o++] = b64_digits[v >> 18];
        out[o++] = b64_digits[(v >> 12) & 63];
        out[o++] = (char)(i + 1 < n ? b64_digits[(v >> 6) & 63] : '=');
        out[o++] = '=';
    }
    out[o] = '\0';
}

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap, size_t *outlen)
{
    if (inlen % 4 != 0)
        return HG_EINVAL;
    size_t o = 0;
    for (size_t i = 0; i < inlen; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)in[i + k];
            if (c == '=' && i + 4 == inlen && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad) /* data after '=' */
                return HG_EINVAL;
            v[k] = b64_val(c);
            if (v[k] < 0)
                return HG_EINVAL;
        }
        unsigned w =
            (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        size_t nb = 3 - (size_t)pad;
        /* the bits after the last byte must be zero: one signature, one text */
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
            return HG_EINVAL;
        if (o + nb > cap)
            return HG_ETOOBIG;
        out[o++] = (unsigned char)(w >> 16);
        if (nb > 1)
            out[o++] = (unsigned char)(w >> 8);
        if (nb > 2)
            out[o++] = (unsigned char)w;
    }
    *outlen = o;
    return HG_OK;
}

int json_escape(struct buf *b, const char *s, size_t n)
{
    int rc = buf_append(b, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = buf_append(b, s + start, i - start);
        char esc[8];
        switch (c) {
        case '"':
            memcpy(esc, "\\\"", 3);
            break;
        case '\\':
            memcpy(esc, "\\\\", 3);
            break;
        case '\n':
            memcpy(esc, "\\n", 3);
            break;
        case '\r':
            memcpy(esc, "\\r", 3);
            break;
        case '\t':
            memcpy(esc, "\\t", 3);
            break;
        default:
            esc[0] = '\\';
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex_digits[c >> 4];
            esc[5] = hex_digits[c & 15];
            esc[6] = '\0';
        }
        if (!rc)
            rc = buf_puts(b, esc);
        start = i + 1;
    }
    if (!rc)
        rc = buf_append(b, s + start, n - start);
    if (!rc)
        rc = buf_append(b, "\"", 1);
    return rc;
}

/* parse_unit - digits then a unit from table; shared by size and duration. */
struct unit {
    const char *name;
    uint64_t mult;
};

static int parse_with_units(const char *s, const struct unit *units, uint64_t bare_mult,
                            uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return HG_EINVAL;
    uint64_t v = 0;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return HG_EINVAL;
        v = v * 10 + d;
        s++;
    }
    uint64_t mult = 0;
    if (*s == '\0') {
        mult = bare_mult;
    } else {
        for (const struct unit *u = units; u->name; u++)
            if (strcmp(s, u->name) == 0)
                mult = u->mult;
    }
    if (!mult || (v && v > UINT64_MAX / mult))
        return HG_EINVAL;
    *out = v * mult;
    return HG_OK;
}

int parse_size(const char *s, uint64_t *out)
{
    static const struct unit units[] = {{"B", 1},
                                        {"KiB", 1ULL << 10},
                                        {"MiB", 1ULL << 20},
                                        {"GiB", 1ULL << 30},
                                        {"TiB", 1ULL << 40},
                                        {"KB", 1000},
                                        {"MB", 1000000},
                                        {"GB", 1000000000},
                                        {NULL, 0}};
    return parse_with_units(s, units, 1, out);
}

int parse_duration_ms(const char *s, uint64_t *out)
{
    static const struct unit units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
                                        {"h", 3600000}, {"d", 86400000}, {NULL, 0}};
    return parse_with_units(s, units, 1000, out);
}

void time_format_ms(int64_t ms, char *out, size_t cap)
{
    time_t sec = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    if (frac < 0) {
        frac += 1000;
        sec--;
    }
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

int64_t time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* num - the value of n digits at s, or -1 if any is not a digit. */
static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int time_rfc3339_valid(const char *s, size_t n)
{
    /* 2026-11-22T15:54:07 is 19 chars; then [.frac] and Z or +hh:mm */
    if (n < 20 || n > 40 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return 0;
    int mon = num(s + 5, 2), day = num(s + 8, 2), hh = num(s + 11, 2), mm = num(s + 14, 2),
        ss = num(s + 17, 2);
    if (num(s, 4) < 0 || mon < 1 || mon > 12 || day < 1 || day > 31 || hh < 0 || hh > 23 ||
        mm < 0 || mm > 59 || ss < 0 || ss > 60)
        return 0;
    size_t i = 19;
    if (s[i] == '.') {
        size_t j = ++i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == j)
            return 0;
    }
    if (i == n - 1 && s[i] == 'Z')
        return 1;
    if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh = num(s + i + 1, 2), om = num(s + i + 4, 2);
        return oh >= 0 && oh <= 23 && om >= 0 && om <= 59;
    }
    return 0;
}

int b64url_decode(const char *in, size_t inlen, unsigned char *out, size_t cap, size_t *outlen)
{
    char q[512];
    if (inlen > sizeof(q) - 3 || (inlen % 4) == 1)
        return HG_EINVAL;
    for (size_t i = 0; i < inlen; i++) {
        char c = in[i];
        if (c == '+' || c == '/')
            return HG_EINVAL;
        q[i] = (char)(c == '-' ? '+' : c == '_' ? '/' : c);
    }
    size_t n = inlen;
    while (n % 4)
        q[n++] = '=';
    return b64_decode(q, n, out, cap, outlen);
}

void b64url_encode(const unsigned char *in, size_t n, char *out)
{
    b64_encode(in, n, out);
    size_t k = 0;
    for (size_t i = 0; out[i]; i++) {
        if (out[i] == '=')
            break;
        out[k++] = (char)(out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i]);
    }
    out[k] = '\0';
}
