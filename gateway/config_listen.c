/*
 * config_listen.c - one listener of the config ($.listen[i]): its address,
 * TLS (certificate, key, client CA, GnuTLS priorities) and trusted proxies.
 * config.c walks the array and calls these for each entry.
 *
 * Why a file of its own: a listener is a section of the document with its
 * own keys and checks, like a route (config_route.c) or a sink
 * (config_sink.c); config.c keeps the document, its settings and the two
 * passes.  Calls run one way: config.c calls here, and this file calls only
 * config_parse.c (and GnuTLS, fwd.c).
 *
 * Two passes (config_int.h): config_listen_parse reads the JSON and touches
 * nothing else (the priority string is checked by GnuTLS, in memory);
 * config_listen_files, run only on a listener the first pass found
 * well-formed, checks that its TLS files are readable.
 *
 * Invariants: a host is numeric (IPv4, or IPv6 in brackets; "localhost" is
 * taken as 127.0.0.1), so no name is resolved at load; a priority string is
 * one GnuTLS accepts; l->trusted holds the good entries of trusted_proxies
 * only (l->ntrusted of them), every bad one reported with its JSON path.
 */
#include "config.h"
#include "config_int.h"
#include "err.h"
#include "fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_address(struct ctx *x, const char *path, const char *addr, struct cfg_listener *l)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || !colon[1])
        return cfgp_fail(x, path, "must be \"HOST:PORT\" or \"[IPv6]:PORT\"");
    char host[64];
    size_t hlen = (size_t)(colon - addr);
    int bracketed = addr[0] == '[';
    if (bracketed) {
        if (hlen < 3 || addr[hlen - 1] != ']')
            return cfgp_fail(x, path, "IPv6 address must be in brackets: \"[::1]:8443\"");
        addr++;
        hlen -= 2;
    }
    if (hlen >= sizeof(host))
        return cfgp_fail(x, path, "host too long");
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    unsigned char tmp[16];
    if (inet_pton(AF_INET, host, tmp) != 1 && inet_pton(AF_INET6, host, tmp) != 1)
        return cfgp_fail(x, path, "host must be a numeric IPv4 or IPv6 address");
    if (!bracketed && strchr(host, ':'))
        return cfgp_fail(x, path, "IPv6 address must be in brackets: \"[::1]:8443\"");
    const char *ps = colon + 1;
    long port = 0;
    for (const char *q = ps; *q; q++) {
        if (*q < '0' || *q > '9' || q - ps > 5 || (q == ps && *q == '0' && q[1]))
            return cfgp_fail(x, path, "port must be 0-65535 (digits only)");
        port = port * 10 + (*q - '0');
    }
    if (port > 65535)
        return cfgp_fail(x, path, "port must be 0-65535 (digits only)");
    l->host = strdup(host);
    l->port = (unsigned)port;
    return l->host ? HG_OK : HG_ENOMEM;
}

/* parse_priorities - "tls.priorities" (or the default) into l->priorities,
 * checked by GnuTLS itself so that a typo is a config error, not a
 * listener that cannot start. */
static int parse_priorities(struct ctx *x, const char *path, json_t *v, struct cfg_listener *l)
{
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.tls.priorities", path);
    if (!v)
        return (l->priorities = strdup(CONFIG_TLS_PRIORITIES)) ? HG_OK : HG_ENOMEM;
    int rc = cfgp_get_string(x, p, v, &l->priorities);
    if (rc)
        return rc;
    gnutls_priority_t prio;
    const char *at = NULL;
    if (gnutls_priority_init(&prio, l->priorities, &at) < 0)
        return cfgp_fail(x, p, "not a valid GnuTLS priority string (at \"%.40s\")",
                         at ? at : l->priorities);
    gnutls_priority_deinit(prio);
    return HG_OK;
}

/* parse_listener_tls - "tls": {"cert", "key", "client_ca", "priorities"}:
 * file names, read in the second pass (config_listen_files). */
static int parse_listener_tls(struct ctx *x, const char *path, json_t *tls, struct cfg_listener *l)
{
    static const char *const known[] = {"cert", "key", "client_ca", "priorities", NULL};
    char p[256];
    cfgp_pathf(p, sizeof(p), "%s.tls", path);
    int rc = cfgp_check_keys(x, p, tls, known, NULL);
    if (!json_is_object(tls))
        return rc;
    l->tls = 1;
    char **dst[3] = {&l->cert, &l->key, &l->client_ca};
    for (int i = 0; i < 3; i++) {
        cfgp_pathf(p, sizeof(p), "%s.tls.%s", path, known[i]);
        json_t *v = json_object_get(tls, known[i]);
        if (v)
            rc = cfgp_worse(rc, cfgp_get_string(x, p, v, dst[i]));
        else if (i < 2) /* client_ca is optional */
            rc = cfgp_worse(rc, cfgp_absent(x, p, "is required"));
    }
    return cfgp_worse(rc, parse_priorities(x, path, json_object_get(tls, "priorities"), l));
}

/* parse_trusted - "trusted_proxies": 0 to FWD_TRUSTED_MAX addresses or
 * CIDRs (fwd.h); every entry checked, the good ones kept. */
static int parse_trusted(struct ctx *x, const char *path, json_t *v, struct cfg_listener *l)
{
    if (!json_is_array(v) || json_array_size(v) > FWD_TRUSTED_MAX)
        return cfgp_fail(x, path,
                         "must be a list of at most 64 addresses or CIDRs "
                         "(\"10.0.0.0/8\", \"::1/128\")");
    if (!(l->trusted = calloc(json_array_size(v) + 1, sizeof(*l->trusted))))
        return HG_ENOMEM;
    int rc = HG_OK;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s[%zu]", path, i);
        int crc = json_is_string(e) ? fwd_cidr_parse(json_string_value(e), &l->trusted[l->ntrusted])
                                    : HG_EINVAL;
        if (crc == HG_ECONFIG)
            rc = cfgp_fail(x, p, "host bits set after the prefix length");
        else if (crc)
            rc = cfgp_fail(x, p, "not an address or CIDR");
        else
            l->ntrusted++;
    }
    return rc;
}

/* config_listen_parse - first pass over $.listen[i] (config_int.h). */
int config_listen_parse(struct ctx *x, const char *path, json_t *o, struct cfg_listener *l)
{
    static const char *const known[] = {"address", "tls", "admin", "trusted_proxies", NULL};
    char p[256];
    if (!json_is_object(o))
        return cfgp_fail(x, path, "must be an object");
    int rc = cfgp_check_keys(x, path, o, known, NULL);
    cfgp_pathf(p, sizeof(p), "%s.address", path);
    json_t *v = json_object_get(o, "address");
    if (!v) {
        rc = cfgp_worse(rc, cfgp_absent(x, p, "is required"));
    } else {
        int arc = cfgp_get_string(x, p, v, &l->address);
        rc = cfgp_worse(rc, arc ? arc : parse_address(x, p, l->address, l));
    }
    cfgp_pathf(p, sizeof(p), "%s.admin", path);
    if ((v = json_object_get(o, "admin")))
        rc = cfgp_worse(rc, cfgp_get_bool(x, p, v, &l->admin));
    if ((v = json_object_get(o, "tls")))
        rc = cfgp_worse(rc, parse_listener_tls(x, path, v, l));
    cfgp_pathf(p, sizeof(p), "%s.trusted_proxies", path);
    if ((v = json_object_get(o, "trusted_proxies")))
        rc = cfgp_worse(rc, parse_trusted(x, p, v, l));
    return rc;
}

/* config_listen_files - the second pass of a listener: its TLS files
 * readable (config_int.h). */
int config_listen_files(struct ctx *x, const char *path, const struct cfg_listener *l)
{
    static const char *const names[3] = {"cert", "key", "client_ca"};
    const char *files[3] = {l->cert, l->key, l->client_ca};
    int rc = HG_OK;
    for (int i = 0; i < 3; i++) {
        char p[256];
        cfgp_pathf(p, sizeof(p), "%s.tls.%s", path, names[i]);
        if (files[i] && access(files[i], R_OK) != 0)
            rc = cfgp_fail(x, p, "cannot read %s: %s", files[i], strerror(errno));
    }
    return rc;
}
