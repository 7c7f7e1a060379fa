/*
 * profile.c - the built-in producer profiles (see profile.h).
 *
 * generic: X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, body)>,
 *          id from the body (event_id, id) or X-Webhook-Event-Id.
 * iex:     the iEX v1 canonical string, timestamp + nonce headers, 5 min window.
 */
#include "profile.h"

#include <string.h>

static const struct profile profiles[] = {
    {
        .name = "generic",
        .sig_header = "X-Webhook-Signature",
        .sig_prefix = "sha256=",
        .sig_prefix_optional = 1,
        .sig_enc = PROF_ENC_HEX,
        .signed_template = "{body}",
        .needs_json = 0,
        .id = {{PROF_BODY, "event_id"},
               {PROF_BODY, "id"},
               {PROF_HEADER, "X-Webhook-Event-Id"},
               {PROF_HEADER, "X-Webhook-Delivery"}},
        .type = {{PROF_BODY, "event"},
                 {PROF_BODY, "type"},
                 {PROF_BODY, "event_type"},
                 {PROF_HEADER, "X-Webhook-Event"},
                 {PROF_HEADER, "X-Webhook-Event-Type"}},
        .time = {{PROF_BODY, "time"}, {PROF_BODY, "created_at"}, {PROF_BODY, "timestamp"}},
    },
    {
        .name = "iex",
        .sig_header = "X-Webhook-Signature",
        .sig_prefix = "sha256=",
        .sig_prefix_optional = 1,
        .sig_enc = PROF_ENC_HEX,
        .signed_template = "v1\n{id}\n{type}\n{timestamp}\n{nonce}\n{body_sha256}",
        .timestamp_header = "X-Webhook-Timestamp",
        .tolerance_s = 300,
        .nonce_header = "X-Webhook-Nonce",
        .needs_json = 1,
        .id = {{PROF_HEADER, "X-Webhook-Event-Id"}},
        .type = {{PROF_HEADER, "X-Webhook-Event-Type"}},
        .time = {{PROF_BODY, "created_at"}, {PROF_HEADER, "X-Webhook-Timestamp"}},
    },
};

const struct profile *profile_find(const char *name)
{
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

const char *profile_names(void)
{
    return "generic, iex";
}
