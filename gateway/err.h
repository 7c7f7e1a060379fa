/*
 * err.h - the one error enum of hookgate and its mapping to HTTP.
 *
 * Every fallible function returns int: 0 (HG_OK) on success or one of the
 * negative HG_E* codes below.  The codes live in their own range (-1000 and
 * down) so they never clash with errno values or library codes that a module
 * may log alongside them.  hg_http_status() is the single table from error
 * to HTTP status: handlers never pick a status by hand for an error.
 */
#ifndef HG_ERR_H
#define HG_ERR_H

enum hg_err {
    HG_OK = 0,
    HG_ENOMEM = -1000, /* allocation failed */
    HG_EINVAL,         /* bad argument or malformed value */
    HG_ECONFIG,        /* configuration rejected */
    HG_EBADJSON,       /* body is not the JSON the profile needs */
    HG_ENOID,          /* no event id where the profile says it lives */
    HG_EBADID,         /* event id or type unusable (too long, control chars) */
    HG_ESIG,           /* signature missing or invalid */
    HG_ESTALE,         /* timestamp missing or outside the tolerance */
    HG_ENOTFOUND,      /* no route for the path */
    HG_EMETHOD,        /* method not allowed on the route */
    HG_ETOOBIG,        /* body larger than limits.max_body */
    HG_EBUSY,          /* too many connections or writer queue full */
    HG_ESTORE,         /* store write or commit failed */
    HG_EFULL,          /* store reached limits.max_store_size or disk full */
    HG_ESTOPPING,      /* shutting down, not accepting new work */
    HG_EIO,            /* I/O error outside the store */
    HG_ENOACK,         /* a sink's consumer took events but did not acknowledge them */
    HG_EFORBIDDEN,     /* source address not in the route's allow list */
    HG_ERATE,          /* too many requests or connections from one address */
    HG_EDEAD,          /* a sink's consumer refused an event for good: dead letter, no retry */
    HG_EDUPKEY,        /* a JSON member the profile reads (id, type, time) occurs twice */
    HG_ELAST
};

/* hg_strerror - a short constant English text for an HG_E* code (or "ok").
 * Never NULL; unknown codes give "unknown error".  Safe to put in a response. */
const char *hg_strerror(int err);

/* hg_http_status - the HTTP status a request failing with err answers. */
unsigned hg_http_status(int err);

#endif
