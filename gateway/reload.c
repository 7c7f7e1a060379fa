/*
 * reload.c - SIGHUP reload (see reload.h).
 *
 * Invariant: a config, once served, is never freed before exit.  Requests in
 * flight and delivery workers hold pointers into the config they started
 * with, so old generations stay until reload_free (a few kilobytes per
 * reload; reloads are rare).
 */
#include "reload.h"
#include "config.h"
#include "deliver.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "shdedupe.h"
#include "store.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* restart_only - why cfg cannot be applied to a gateway running old, or NULL */
static const char *restart_only(const struct config *old, const struct config *cfg)
{
    if (!same_str(old->data_dir, cfg->data_dir))
        return "data_dir changed";
    if (!same_str(old->user, cfg->user))
        return "user changed";
    if (old->threads != cfg->threads)
        return "threads changed";
    if (old->nlisteners != cfg->nlisteners)
        return "the number of listeners changed";
    for (size_t i = 0; i < cfg->nlisteners; i++) {
        const struct cfg_listener *a = &old->listeners[i], *b = &cfg->listeners[i];
        if (!same_str(a->host, b->host) || a->port != b->port || a->admin != b->admin ||
            a->tls != b->tls || !a->client_ca != !b->client_ca)
            return "a listener's address, scheme, admin flag or client_ca presence changed";
    }
    if (old->max_conns_per_ip != cfg->max_conns_per_ip || old->rate_per_ip != cfg->rate_per_ip ||
        old->rate_burst != cfg->rate_burst)
        return "per-address limits changed";
    return NULL;
}

static int same_strv(char *const *a, char *const *b)
{
    for (; a && b && *a && *b; a++, b++)
        if (strcmp(*a, *b))
            return 0;
    return !(a && *a) && !(b && *b);
}

/* sink_equal - 1 if a and b are the same sink, setting for setting (every
 * field of struct cfg_sink but the metrics slot, which follows the name).
 * Secrets are compared in place, in constant time: nothing is copied. */
static int sink_equal(const struct cfg_sink *a, const struct cfg_sink *b)
{
    return same_str(a->name, b->name) && a->type == b->type && same_strv(a->types, b->types) &&
           same_strv(a->command, b->command) && same_strv(a->env, b->env) &&
           a->concurrency == b->concurrency && a->timeout_ms == b->timeout_ms &&
           same_str(a->url, b->url) && same_strv(a->headers, b->headers) &&
           a->binary == b->binary && same_str(a->tls_ca, b->tls_ca) &&
           same_str(a->tls_cert, b->tls_cert) && same_str(a->tls_key, b->tls_key) &&
           a->sign.len == b->sign.len &&
           (!a->sign.len || !CRYPTO_memcmp(a->sign.data, b->sign.data, a->sign.len)) &&
           same_strv(a->servers, b->servers) && same_str(a->subject, b->subject) &&
           same_str(a->stream, b->stream) && a->stream_create == b->stream_create &&
           a->replicas == b->replicas && a->dup_window_ms == b->dup_window_ms &&
           same_str(a->creds, b->creds) && same_str(a->path, b->path) && a->ack == b->ack &&
           a->ack_timeout_ms == b->ack_timeout_ms;
}

/* sinks_equal - 1 if old and cfg have the same sinks, in the same order */
static int sinks_equal(const struct config *old, const struct config *cfg)
{
    if (old->nsinks != cfg->nsinks)
        return 0;
    for (size_t i = 0; i < cfg->nsinks; i++)
        if (!sink_equal(&old->sinks[i], &cfg->sinks[i]))
            return 0;
    return 1;
}

/* delivery_sig - what the delivery workers were built from, as one string:
 * every sink's name and the routes that feed it, and the retry settings.
 * No secret and no URL goes in (URLs may carry a password): the sinks'
 * own settings are compared by sink_equal. */
static char *delivery_sig(const struct config *c)
{
    json_t *root = json_array();
    for (size_t i = 0; i < c->nsinks; i++) {
        const struct cfg_sink *s = &c->sinks[i];
        json_t *routes = json_array();
        for (size_t r = 0; r < c->nroutes; r++)
            for (size_t k = 0; k < c->routes[r].nsinks; k++)
                if (c->routes[r].sinks[k] == i)
                    json_array_append_new(routes, json_string(c->routes[r].name));
        json_array_append_new(root, json_pack("{ss so}", "name", s->name, "routes", routes));
    }
    json_array_append_new(root,
                          json_pack("{sI sI sI}", "retry_max", (json_int_t)c->retry_max_attempts,
                                    "retry_initial", (json_int_t)c->retry_initial_ms,
                                    "retry_max_ms", (json_int_t)c->retry_max_ms));
    char *s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    return s;
}

/* keep_names - the sink-name arrays handed to the store live until exit */
static int keep_names(struct reload_state *rs, const char **names)
{
    const char ***n = realloc(rs->names, (rs->nnames + 1) * sizeof(*n));
    if (!n)
        return 0;
    rs->names = n;
    rs->names[rs->nnames++] = names;
    return 1;
}

static int keep(struct reload_state *rs, struct config *c)
{
    if (rs->ngens == rs->capgens) {
        unsigned n = rs->capgens ? 2 * rs->capgens : 8;
        struct config **g = realloc(rs->gens, n * sizeof(struct config *));
        if (!g)
            return HG_ENOMEM;
        rs->gens = g;
        rs->capgens = n;
    }
    rs->gens[rs->ngens++] = c;
    return HG_OK;
}

int reload_keep_first(struct reload_state *rs, struct config *c)
{
    return keep(rs, c);
}

int reload_apply(struct reload_state *rs)
{
    if (!rs->path) {
        log_msg(LOG_WARN, "reload: the embedded default config cannot be reloaded; ignored", NULL);
        return -1;
    }
    char *problems = NULL;
    struct config *cfg = NULL;
    if (config_load_file_all(rs->path, &cfg, &problems)) {
        log_msg(LOG_ERROR, "reload: config refused; the running one is kept", "{s:s}", "error",
                problems ? problems : "out of memory");
        free(problems);
        return -1;
    }
    const struct config *old = rs->gens[rs->ngens - 1];
    const char *why = restart_only(old, cfg);
    if (why || keep(rs, cfg)) {
        log_msg(LOG_ERROR, "reload: refused; the running config is kept (restart to apply)",
                "{s:s}", "reason", why ? why : "out of memory");
        config_free(cfg);
        return -1;
    }
    metrics_bind(cfg);
    shdedupe_attach(cfg);
    char *a = delivery_sig(old), *b = delivery_sig(cfg);
    /* no workers (a failed restart before) counts as a change: retry */
    int sinks_changed = !a || !b || strcmp(a, b) || !sinks_equal(old, cfg) || !*rs->dl;
    free(a);
    free(b);
    log_set_level(cfg->log_level);
    int rc = http_reload(rs->h, cfg);
    if (sinks_changed) {
        /* workers finish the batch in hand and record their cursors; the new
         * ones resume from those cursors: nothing queued is lost */
        deliver_stop(*rs->dl);
        *rs->dl = NULL;
        if (deliver_start_after(cfg, (const struct config *const *)rs->gens, rs->ngens - 1, rs->st,
                                rs->dl))
            log_msg(LOG_ERROR, "reload: delivery could not restart; events stay stored", NULL);
        store_reject_limits(rs->st, cfg->rejected_max, cfg->rejected_max_age_ms);
        /* the retention sweep waits for the new set of sinks */
        const char **names = calloc(cfg->nsinks + 1, sizeof(char *));
        if (names && keep_names(rs, names)) {
            for (size_t i = 0; i < cfg->nsinks; i++)
                names[i] = cfg->sinks[i].name;
            store_set_sinks(rs->st, names, cfg->nsinks);
        } else {
            free(names);
        }
    }
    log_msg(rc ? LOG_WARN : LOG_INFO,
            rc ? "reload: applied, but a TLS certificate could not be loaded (old one kept)"
               : "reload: applied",
            "{s:s,s:I,s:I,s:b}", "config", rs->path, "routes", (json_int_t)cfg->nroutes, "sinks",
            (json_int_t)cfg->nsinks, "delivery_restarted", sinks_changed);
    return 0;
}

void reload_free(struct reload_state *rs)
{
    for (unsigned i = 0; i < rs->ngens; i++)
        config_free(rs->gens[i]);
    free(rs->gens);
    rs->gens = NULL;
    for (unsigned i = 0; i < rs->nnames; i++)
        free(rs->names[i]);
    free(rs->names);
    rs->names = NULL;
    rs->nnames = 0;
    rs->ngens = rs->capgens = 0;
}
