/*
 * reload.h - SIGHUP: read the config file again and apply it to a running
 * gateway without dropping connections or losing queued events.
 *
 * What applies: routes, profiles, secrets (file: ones are read again),
 * tokens, allow lists, max_body, request limits read per request, sinks
 * (delivery workers are restarted from their durable cursors when a sink or
 * a route's sinks changed), TLS certificates and client CAs (new handshakes
 * get them).  What needs a restart, and makes a reload refused with a log
 * line: data_dir, user, threads, the listeners' addresses or admin flags,
 * and per-address limits.  A config that fails validation is refused and
 * the running one is kept.
 */
#ifndef HG_RELOAD_H
#define HG_RELOAD_H

struct config;
struct store;
struct http;
struct deliver;

/* reload_state - everything a reload touches; owned by main. */
struct reload_state {
    const char *path;     /* the config file (NULL: embedded default, no reload) */
    struct config **gens; /* every config loaded; the last is current */
    unsigned ngens, capgens;
    struct store *st;
    struct http *h;
    struct deliver **dl;
    const char ***names; /* sink-name arrays given to the store */
    unsigned nnames;
};

/* reload_keep_first - record the config the gateway started with. */
int reload_keep_first(struct reload_state *rs, struct config *c);

/* reload_apply - one SIGHUP.  0 applied, -1 refused (logged; nothing changed
 * unless a TLS certificate alone failed, which is logged too). */
int reload_apply(struct reload_state *rs);

/* reload_free - free every config generation (after http and delivery
 * have stopped). */
void reload_free(struct reload_state *rs);

#endif
