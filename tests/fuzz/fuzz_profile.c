// clang-format off
/*
 * fuzz_profile.c - libFuzzer driver for profile loading (gateway/profile.c).
 *
 * profile.c has no public in-memory loader, so the input is written as x.json
 * into a private temporary directory (made once, removed at exit) and
 * profile_set_load is run with that directory after the built-in profiles.
 * Invariants:
 *  - the result is HG_OK, HG_ECONFIG or HG_ENOMEM;
 *  - on HG_OK, profile_find finds "x" (the name must equal the file name),
 *    its file is the path written, and its parsed fields are consistent:
 *    a signed profile has a format and a signed-content template covering the
 *    body, an unsigned one neither; header lists are NULL-terminated within
 *    bounds; there is an id source or the body_sha256 fallback;
 *  - on HG_ECONFIG the message is NUL-terminated inside the buffer and names
 *    x.json (built-ins are fixed, so only the file can be at fault);
 *  - profile_set_free releases everything (LeakSanitizer).
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_profile (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).
 */
// clang-format on
#include "err.h"
#include "log.h"
#include "profile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRLEN 1024
#define CANARY 'Z'

static char dir[64], file[96];

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_profile: %s%s%s\n", what, err ? ": " : "", err ? err : "");
    abort();
}

static void cleanup(void)
{
    unlink(file);
    rmdir(dir);
}

static void check_fields(const struct profile *p)
{
    if (!p->file || strcmp(p->file, file))
        die("the profile does not name its file", p->file);
    if (p->is_unsigned) {
        if (p->fmt != PROF_FMT_NONE || p->content || p->sig_header[0])
            die("an unsigned profile with a signature", NULL);
    } else if (p->fmt == PROF_FMT_NONE) {
        die("a signed profile without a format", NULL);
    } else if (p->fmt != PROF_FMT_TOKEN) {
        if (!p->content || (!strstr(p->content, "{body}") && !strstr(p->content, "{body_sha256}")))
            die("a signature that does not cover the body", p->content);
        if (!p->sig_header[0])
            die("a signature without a header", NULL);
        if ((p->fmt == PROF_FMT_KV || p->fmt == PROF_FMT_LIST) &&
            (p->nver == 0 || p->nver > PROF_MAX_VER))
            die("kv/list signature with no or too many versions", NULL);
    }
    if (p->sig_header[PROF_MAX_HDR] || p->token_header[PROF_MAX_HDR])
        die("header list not NULL-terminated", NULL);
    const struct prof_field *lists[] = {p->ts, p->id, p->type, p->time, p->nonce};
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        if (lists[l][PROF_MAX_SRC].src != PROF_NONE)
            die("source list not terminated", NULL);
        for (int i = 0; lists[l][i].src; i++)
            if (!lists[l][i].name)
                die("a source without a name", NULL);
    }
    if (!p->id[0].src && !p->id_fallback_sha256)
        die("no id source and no fallback", NULL);
    for (size_t i = 0; i < p->ntype_map; i++)
        if (!p->type_map[i].from || !p->type_map[i].to ||
            profile_type_map(p, p->type_map[i].from) == NULL)
            die("broken type_map", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        log_set_level(LOG_ERROR);
        snprintf(dir, sizeof(dir), "/tmp/fuzz_profile.XXXXXX");
        if (!mkdtemp(dir))
            die("mkdtemp", NULL);
        snprintf(file, sizeof(file), "%s/x.json", dir);
        if (atexit(cleanup))
            die("atexit", NULL);
        ready = 1;
    }
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f))
        die("cannot write x.json", NULL);

    const char *dirs[] = {dir, NULL};
    char err[ERRLEN];
    memset(err, CANARY, sizeof(err));
    struct profile_set *s = NULL;
    int rc = profile_set_load(dirs, &s, err, sizeof(err));
    if (rc == HG_OK) {
        const struct profile *p = profile_find(s, "x");
        if (!p)
            die("loaded, but no profile x", NULL);
        check_fields(p);
        if (!profile_find(s, "generic") || !strstr(profile_names(s), "x"))
            die("built-ins or names missing", profile_names(s));
        profile_set_free(s);
    } else if (rc == HG_ECONFIG) {
        if (s)
            die("a set returned on failure", NULL);
        if (!memchr(err, '\0', sizeof(err)))
            die("message not NUL-terminated", NULL);
        if (!strstr(err, "x.json"))
            die("message does not name x.json", err);
    } else if (rc != HG_ENOMEM) {
        die("unexpected result", hg_strerror(rc));
    }
    return 0;
}
