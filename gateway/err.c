/*
 * err.c - texts and HTTP statuses for the HG_E* codes.
 *
 * Kept as one table so that a new error gets its text and its status in the
 * same place.  Texts are what a caller may see: they never carry detail
 * (which secret, which byte) - detail goes to the log.  The one answer that
 * says more than its text is HG_EDUPKEY's: http.c names the repeated key,
 * a name from the route's profile (extract.h), so the producer can fix it.
 */
#include "err.h"

static const struct {
    int err;
    unsigned status;
    const char *text;
} err_table[] = {
    {HG_OK, 200, "ok"},
    {HG_ENOMEM, 503, "out of memory"},
    {HG_EINVAL, 400, "invalid request"},
    {HG_ECONFIG, 500, "configuration error"},
    {HG_EBADJSON, 400, "body is not valid JSON"},
    {HG_ENOID, 400, "missing event id"},
    {HG_EBADID, 400, "invalid event id or type"},
    {HG_ESIG, 401, "invalid signature"},
    {HG_ESTALE, 401, "invalid signature"},
    {HG_ENOTFOUND, 404, "not found"},
    {HG_EMETHOD, 405, "method not allowed"},
    {HG_ETOOBIG, 413, "body too large"},
    {HG_EBUSY, 503, "busy, retry later"},
    {HG_ESTORE, 503, "store unavailable, retry later"},
    {HG_EFULL, 503, "store full, retry later"},
    {HG_ESTOPPING, 503, "shutting down, retry later"},
    {HG_EIO, 503, "i/o error, retry later"},
    {HG_ENOACK, 503, "not acknowledged by the consumer"},
    {HG_EFORBIDDEN, 403, "forbidden"},
    {HG_ERATE, 429, "too many requests"},
    {HG_EDEAD, 500, "refused by the consumer"},
    {HG_EDUPKEY, 400, "duplicate key in body"},
};

#define ERR_N (sizeof(err_table) / sizeof(err_table[0]))

const char *hg_strerror(int err)
{
    for (unsigned i = 0; i < ERR_N; i++)
        if (err_table[i].err == err)
            return err_table[i].text;
    return "unknown error";
}

unsigned hg_http_status(int err)
{
    for (unsigned i = 0; i < ERR_N; i++)
        if (err_table[i].err == err)
            return err_table[i].status;
    return 500;
}
