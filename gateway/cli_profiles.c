/*
 * cli_profiles.c - `hookgate profiles list|show`: the producer catalogue.
 *
 * list prints one line per profile (built-in ones, plus those of
 * --profile-dir or a config's profile_dirs): its name, how it signs, its
 * registration handshakes, where the event id comes from, and what proves
 * it (the producer's SDK, a published vector, or the documented scheme).
 * show prints one profile's JSON and description.  Nothing here reads a
 * secret.
 */
#include "cli.h"
#include "config.h"
#include "err.h"
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *alg_name(enum prof_alg a)
{
    static const char *const n[] = {"hmac-sha256", "hmac-sha1", "hmac-sha512", "ed25519",
                                    "ecdsa-p256"};
    return (size_t)a < sizeof(n) / sizeof(n[0]) ? n[a] : "?";
}

/* scheme - a short text of how p authenticates. */
static void scheme(const struct profile *p, char *out, size_t cap)
{
    const char *where = p->sig_pointer ? p->sig_pointer : p->sig_header[0] ? p->sig_header[0] : "";
    switch (p->fmt) {
    case PROF_FMT_NONE:
        snprintf(out, cap, "unsigned");
        return;
    case PROF_FMT_TOKEN:
        snprintf(out, cap, "token %s",
                 p->token_pointer     ? p->token_pointer
                 : p->token_header[0] ? p->token_header[0]
                                      : "");
        return;
    case PROF_FMT_BASIC:
        snprintf(out, cap, "basic Authorization");
        return;
    case PROF_FMT_JWT:
        snprintf(out, cap, "jwt %s%s%s %s", p->jwt.algs & PROF_JWT_HS256 ? "HS256" : "",
                 p->jwt.algs & PROF_JWT_RS256 ? "RS256" : "",
                 p->jwt.algs & PROF_JWT_ES256 ? "ES256" : "", where);
        return;
    default:
        break;
    }
    enum prof_alg a = p->fmt == PROF_FMT_VALUE ? p->alg : p->ver[0].alg;
    snprintf(out, cap, "%s%s %s", alg_name(a), p->nver > 1 ? "+" : "", where);
}

static void handshakes(const struct profile *p, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->nhs && n < cap; i++) {
        int k = snprintf(out + n, cap - n, "%s%s", i ? "," : "", p->hs[i].name);
        n += k > 0 ? (size_t)k : 0;
    }
    if (!p->nhs)
        snprintf(out, cap, "-");
}

static void id_source(const struct profile *p, char *out, size_t cap)
{
    const struct prof_field *f = &p->id[0];
    if (f->src == PROF_HEADER || f->src == PROF_POINTER)
        snprintf(out, cap, "%s%s", f->name, p->id_fallback_sha256 ? " | sha256" : "");
    else
        snprintf(out, cap, "sha256(body)");
}

static int list(const struct profile_set *s)
{
    printf("%-20s %-46s %-22s %-30s %s\n", "NAME", "SCHEME", "HANDSHAKE", "ID", "PROVEN BY");
    for (size_t i = 0; i < profile_count(s); i++) {
        const struct profile *p = profile_at(s, i);
        char sc[160], hs[96], id[160];
        scheme(p, sc, sizeof(sc));
        handshakes(p, hs, sizeof(hs));
        id_source(p, id, sizeof(id));
        printf("%-20s %-46s %-22s %-30s %s\n", p->name, sc, hs, id, p->proof ? p->proof : "-");
    }
    return 0;
}

static int show(const struct profile_set *s, const char *name)
{
    const struct profile *p = profile_find(s, name);
    if (!p) {
        fprintf(stderr, "hookgate: unknown profile \"%s\" (known: %s)\n", name, profile_names(s));
        return 1;
    }
    printf("# %s (%s)\n", p->name, p->file);
    if (p->proof)
        printf("# proven by %s\n", p->proof);
    printf("%s\n", p->source);
    return 0;
}

int cli_profiles(int argc, char **argv)
{
    const char *dirs[9] = {0}, *sub = NULL, *name = NULL;
    size_t nd = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a))
            return cli_help("profiles");
        if (!strcmp(a, "--profile-dir")) {
            if (i + 1 >= argc || nd >= 8)
                return cli_usage_error("profiles", "--profile-dir needs a value (at most 8)");
            dirs[nd++] = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("profiles", "unknown option '%s'", a);
        } else if (!sub) {
            sub = a;
        } else if (!name) {
            name = a;
        } else {
            return cli_usage_error("profiles", "unexpected argument '%s'", a);
        }
    }
    if (!sub)
        return cli_usage_error("profiles", "profiles needs a command: list or show");
    if (strcmp(sub, "list") && strcmp(sub, "show"))
        return cli_usage_error("profiles", "unknown command 'profiles %s'", sub);
    if (!strcmp(sub, "list") && name)
        return cli_usage_error("profiles", "unexpected argument '%s'", name);
    if (!strcmp(sub, "show") && !name)
        return cli_usage_error("profiles", "profiles show needs NAME");
    char err[1024];
    struct profile_set *s = NULL;
    if (profile_set_load(nd ? dirs : NULL, &s, err, sizeof(err))) {
        fprintf(stderr, "hookgate: %s\n", err);
        return 1;
    }
    int rc = !strcmp(sub, "list") ? list(s) : show(s, name);
    profile_set_free(s);
    return rc;
}
