/*
 * event.c - record format and envelope rendering (see event.h).
 *
 * Record layout (version 1), little-endian, no alignment assumed:
 *   u32 magic "HGE1" | u8 body_kind | u8[3] zero | i64 received_ms |
 *   u16 len x 6 (route, source, id, type, time, ctype) | u32 body_len |
 *   the six strings | body [| u32 headers_len | headers]
 * The byte after body_kind holds flags: bit 0 says the headers follow the
 * body (records written before they were kept have no such bit).
 * A record is only ever written by this file and read back by it; the
 * parser still checks every length, since the store may be damaged.
 *
 * It also says which characters an id or type may not hold
 * (event_char_forbidden: the request path refuses them) and how stored text
 * reaches a terminal (event_term_*: the CLI shows records that an older
 * version, or a producer's body, filled with such characters, without ever
 * writing one raw).
 */
#include "event.h"
#include "buf.h"
#include "codec.h"
#include "err.h"

#include <string.h>

#define REC_MAGIC 0x31454748u /* "HGE1" */
#define REC_HDR   (4 + 4 + 8 + 6 * 2 + 4)

static void put_u16(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define REC_F_HEADERS 1u

size_t event_rec_size(const struct event *ev)
{
    return REC_HDR + ev->route.len + ev->source.len + ev->id.len + ev->type.len + ev->time.len +
           ev->ctype.len + ev->body.len + (ev->headers.len ? 4 + ev->headers.len : 0);
}

void event_rec_write(const struct event *ev, unsigned char *dst)
{
    const struct event_str *s[6] = {&ev->route, &ev->source, &ev->id,
                                    &ev->type,  &ev->time,   &ev->ctype};
    uint64_t rms = (uint64_t)ev->received_ms;
    put_u32(dst, REC_MAGIC);
    dst[4] = (unsigned char)ev->body_kind;
    dst[5] = ev->headers.len ? REC_F_HEADERS : 0;
    dst[6] = dst[7] = 0;
    put_u32(dst + 8, (uint32_t)rms);
    put_u32(dst + 12, (uint32_t)(rms >> 32));
    for (int i = 0; i < 6; i++)
        put_u16(dst + 16 + (size_t)2 * i, s[i]->len);
    put_u32(dst + 28, (uint32_t)ev->body.len);
    unsigned char *p = dst + REC_HDR;
    for (int i = 0; i < 6; i++) {
        if (s[i]->len)
            memcpy(p, s[i]->p, s[i]->len);
        p += s[i]->len;
    }
    if (ev->body.len)
        memcpy(p, ev->body.p, ev->body.len);
    if (ev->headers.len) {
        p += ev->body.len;
        put_u32(p, (uint32_t)ev->headers.len);
        memcpy(p + 4, ev->headers.p, ev->headers.len);
    }
}

int event_rec_parse(const void *rec, size_t len, struct event *out)
{
    const unsigned char *r = rec;
    if (len < REC_HDR || get_u32(r) != REC_MAGIC || r[4] > EVENT_BODY_BINARY)
        return HG_EINVAL;
    memset(out, 0, sizeof(*out));
    out->body_kind = (enum event_body)r[4];
    out->received_ms = (int64_t)((uint64_t)get_u32(r + 8) | (uint64_t)get_u32(r + 12) << 32);
    struct event_str *s[6] = {&out->route, &out->source, &out->id,
                              &out->type,  &out->time,   &out->ctype};
    size_t off = REC_HDR;
    for (int i = 0; i < 6; i++) {
        s[i]->len = (size_t)r[16 + 2 * i] | (size_t)r[17 + 2 * i] << 8;
        if (s[i]->len > EVENT_STR_MAX) /* a damaged record must not reach fixed buffers */
            return HG_EINVAL;
        s[i]->p = (const char *)r + off;
        off += s[i]->len;
    }
    out->body.len = get_u32(r + 28);
    out->body.p = (const char *)r + off;
    if (off > len || len - off < out->body.len)
        return HG_EINVAL;
    off += out->body.len;
    if (!(r[5] & REC_F_HEADERS))
        return off == len ? HG_OK : HG_EINVAL;
    if (len - off < 4 || len - off - 4 != get_u32(r + off) || len - off - 4 > EVENT_HEADERS_MAX)
        return HG_EINVAL;
    out->headers.len = len - off - 4;
    out->headers.p = (const char *)r + off + 4;
    return HG_OK;
}

static int add_field(struct buf *b, const char *name, const struct event_str *v)
{
    int rc = buf_puts(b, name);
    return rc ? rc : json_escape(b, v->p, v->len);
}

int event_envelope(const struct event *ev, uint64_t seq, struct buf *out)
{
    char received[40];
    time_format_ms(ev->received_ms, received, sizeof(received));
    struct event_str recv = {received, strlen(received)};
    const struct event_str *time = ev->time.len ? &ev->time : &recv;
    static const struct event_str ct_json = {"application/json", 16};
    static const struct event_str ct_text = {"text/plain", 10};
    static const struct event_str ct_bin = {"application/octet-stream", 24};
    const struct event_str *ct = ev->ctype.len                      ? &ev->ctype
                                 : ev->body_kind == EVENT_BODY_JSON ? &ct_json
                                 : ev->body_kind == EVENT_BODY_TEXT ? &ct_text
                                                                    : &ct_bin;
    size_t mark = out->len;
    int rc = add_field(out, "{\"specversion\":\"1.0\",\"id\":", &ev->id);
    if (!rc)
        rc = add_field(out, ",\"source\":", &ev->source);
    if (!rc)
        rc = add_field(out, ",\"type\":", &ev->type);
    if (!rc)
        rc = add_field(out, ",\"time\":", time);
    if (!rc)
        rc = add_field(out, ",\"datacontenttype\":", ct);
    if (!rc && ev->body_kind == EVENT_BODY_JSON) {
        rc = buf_puts(out, ",\"data\":");
        size_t at = out->len;
        if (!rc)
            rc = buf_append(out, ev->body.p, ev->body.len);
        /* one event = one line: in valid JSON a raw CR or LF can only be
         * whitespace between tokens, so a space means exactly the same */
        for (size_t i = at; !rc && i < out->len; i++)
            if (out->p[i] == '\n' || out->p[i] == '\r')
                out->p[i] = ' ';
    } else if (!rc && ev->body_kind == EVENT_BODY_TEXT) {
        rc = add_field(out, ",\"data\":", &ev->body);
    } else if (!rc) {
        rc = buf_puts(out, ",\"data_base64\":\"");
        if (!rc)
            rc = buf_reserve(out, 4 * (ev->body.len / 3 + 1) + 2);
        if (!rc) {
            b64_encode((const unsigned char *)ev->body.p, ev->body.len, out->p + out->len);
            out->len += strlen(out->p + out->len);
            rc = buf_puts(out, "\"");
        }
    }
    if (!rc)
        rc = buf_printf(out, ",\"hookgateseq\":%llu", (unsigned long long)seq);
    if (!rc)
        rc = add_field(out, ",\"hookgateroute\":", &ev->route);
    if (!rc)
        rc = add_field(out, ",\"hookgatereceived\":", &recv);
    if (!rc)
        rc = buf_puts(out, "}\n");
    if (rc) { /* never leave half a line behind */
        out->len = mark;
        if (out->p)
            out->p[mark] = '\0';
    }
    return rc;
}

/* utf8_next - the code point that starts s[0..n) (n > 0): its length, 1 to
 * 4, with *cp set; 0 if s does not start a well-formed sequence (RFC 3629:
 * overlong forms, surrogates and values past U+10FFFF are not). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1fu;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0fu;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07u;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3fu);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

int event_char_forbidden(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

int event_text_check(const char *s, size_t n, uint32_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp = EVENT_BAD_UTF8;
        size_t len = utf8_next(u + i, n - i, &cp);
        if (!len || event_char_forbidden(cp)) {
            if (bad)
                *bad = cp;
            return HG_EBADID;
        }
        i += len;
    }
    return HG_OK;
}

char *event_term_text(const char *s, size_t n, char *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_next(u + i, n - i, &cp);
        if (len && !event_char_forbidden(cp)) {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        } else {
            out[o++] = '?';
            i += len ? len : 1;
        }
    }
    out[o] = '\0';
    return out;
}

int event_term_json(const char *s, size_t n, struct buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = 0;
    int rc = HG_OK;
    for (size_t i = 0; i < n && !rc;) {
        uint32_t cp;
        size_t len = utf8_next(u + i, n - i, &cp);
        if (len && (!event_char_forbidden(cp) || cp == '\t' || cp == '\n')) {
            i += len;
            continue;
        }
        rc = buf_append(out, s + start, i - start);
        if (!rc) /* inside a JSON string the escape means the character itself */
            rc = buf_printf(out, "\\u%04x", len ? (unsigned)cp : 0xfffdu);
        i += len ? len : 1;
        start = i;
    }
    return rc ? rc : buf_append(out, s + start, n - start);
}
