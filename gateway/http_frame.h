/*
 * http_frame.h - the request framing rules hookgate enforces on top of
 * libmicrohttpd (RFC 9112): checks over plain strings, and the few calls
 * that apply them to a libmicrohttpd request.
 *
 * A request whose length or target two HTTP parsers could read differently
 * (a proxy in front and libmicrohttpd) is the raw material of request
 * smuggling: the bytes one parser takes for a body the other takes for the
 * next request.  libmicrohttpd 0.9.75 frames leniently (Content-Length next
 * to Transfer-Encoding, an unknown coding read until the connection closes,
 * a name with a space before its colon kept as another header, a folded
 * line glued onto the header's name) and decodes the path before routing
 * (%2F becomes '/').  So these checks run on what libmicrohttpd parsed,
 * before any body byte is read, and whatever they do not accept is refused
 * (400, connection closed):
 *  - the raw request target, as the client sent it (http_frame_uri, run by
 *    http_frame_on_uri before libmicrohttpd decodes it);
 *  - the header fields and the HTTP version (http_frame_field for each
 *    field, then http_frame_check; http_frame_request does both).
 * What they accept is framed one way only: no Transfer-Encoding (the body
 * is Content-Length bytes, or none), or exactly one Transfer-Encoding whose
 * value is "chunked" (any case), on HTTP/1.1, without Content-Length.
 *
 * Limits (the raw bytes never reach hookgate): a bare LF ending a request
 * line, a header line or a chunk line, a folded line whose continuation is
 * one token on a header other than Transfer-Encoding/Content-Length, and a
 * raw NUL byte in the request target are taken as libmicrohttpd 0.9.75
 * takes them.  http_frame_mhd_options turns libmicrohttpd's own strict
 * parsing on where the library has it (>= 0.9.77).
 *
 * Every refusal comes with a reason: a constant ASCII text of this module,
 * without '"', '\\' or control characters (safe as is inside a JSON string),
 * whose address is stable for the life of the process (http_frame_reason).
 * No function here allocates or keeps a pointer to its arguments.
 */
#ifndef HG_HTTP_FRAME_H
#define HG_HTTP_FRAME_H

#include <microhttpd.h>
#include <stddef.h>

/* The header-field state of one request: fill with http_frame_init, feed
 * every header field to http_frame_field, judge with http_frame_check. */
struct http_frame {
    unsigned ncl;    /* Content-Length fields */
    unsigned nte;    /* Transfer-Encoding fields */
    int te_chunked;  /* the first Transfer-Encoding value is "chunked" exactly */
    const char *why; /* the first field's problem, or NULL */
};

/* http_frame_init - an empty field set. */
void http_frame_init(struct http_frame *f);

/* http_frame_field - one request header field as libmicrohttpd parsed it:
 * name[0..nlen) (the bytes before the colon, with what a folded line added)
 * and value[0..vlen) (leading whitespace removed).  Neither needs a NUL.
 * Counts the framing fields and keeps the first problem: an empty name, a
 * name that is not an RFC 9110 token (whitespace before the colon, a folded
 * line, a line starting with whitespace), a name that extends
 * Transfer-Encoding or Content-Length (how libmicrohttpd 0.9.75 shows such a
 * field folded), or a CR in the value. */
void http_frame_field(struct http_frame *f, const char *name, size_t nlen, const char *value,
                      size_t vlen);

/* http_frame_check - the verdict on the fields fed to f, for a request of
 * HTTP version `version` ("HTTP/1.1"; NULL counts as another version).
 * HG_OK, or HG_EINVAL with *why: the first field problem, several
 * Content-Length fields, Content-Length with Transfer-Encoding, several
 * Transfer-Encoding fields, Transfer-Encoding outside HTTP/1.1, or a
 * Transfer-Encoding other than "chunked" alone. */
int http_frame_check(const struct http_frame *f, const char *version, const char **why);

/* http_frame_uri - the raw request target (before percent-decoding; NUL-
 * terminated).  HG_OK, or HG_EINVAL with *why: a space or control byte
 * anywhere in it, or in the path (before '?') a '%' not followed by two hex
 * digits, or an encoded '/', '\\', NUL or other control character - bytes
 * that decoding would turn into a different path than the one a proxy
 * routed (%2F) or cut (%00). */
int http_frame_uri(const char *raw, const char **why);

/* http_frame_reason - p as a reason text if it is one this module returns
 * (compared by address), else NULL.  Lets a verdict travel through an
 * opaque pointer (libmicrohttpd's request context) and be told apart from
 * the caller's own objects. */
const char *http_frame_reason(const void *p);

/* http_frame_on_uri - libmicrohttpd's MHD_OPTION_URI_LOG_CALLBACK (cls
 * unused): http_frame_uri on the target as sent, before libmicrohttpd
 * decodes it (the access handler only ever sees "/a/b" for "/a%2Fb").
 * Returns what becomes the request's *con_cls: NULL, or the reason the
 * target is refused.  The access handler must take such a reason
 * (http_frame_reason) for a refusal before anything else, and the
 * completion callback must not free it: it is a constant. */
void *http_frame_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);

/* http_frame_request - http_frame_check over the header fields of conn
 * (call from the first access-handler call: the headers are complete, no
 * body byte is read).  HG_OK, or HG_EINVAL with *why. */
int http_frame_request(struct MHD_Connection *conn, const char *version, const char **why);

/* http_frame_answer - queue the refusal on conn: 400, Content-Type
 * application/json, {"error": why}, and Connection: close, so libmicrohttpd
 * closes the connection after it and reads nothing more from it.  why: a
 * reason of this module.  libmicrohttpd's result (MHD_NO: close at once). */
enum MHD_Result http_frame_answer(struct MHD_Connection *conn, const char *why);

/* http_frame_mhd_options - libmicrohttpd options for every daemon: its own
 * strict request parsing (MHD_OPTION_CLIENT_DISCIPLINE_LVL 1: bare LF and
 * folded lines refused) where the library has it (>= 0.9.77), else none.
 * A static array, ended by MHD_OPTION_END, for MHD_OPTION_ARRAY. */
struct MHD_OptionItem *http_frame_mhd_options(void);

#endif
