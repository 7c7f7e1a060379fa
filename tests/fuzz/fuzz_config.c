// clang-format off
/*
 * fuzz_config.c - libFuzzer driver for config_load_string (gateway/config.c,
 * config_route.c, config_sink.c, with the built-in profiles).
 *
 * The input is the configuration JSON text (up to its first NUL).  Invariants:
 *  - the result is HG_OK or HG_ECONFIG/HG_ENOMEM; on success a config comes
 *    back, on failure none;
 *  - on failure the message is non-empty, NUL-terminated inside the buffer
 *    and starts with the name given ("fuzz.json");
 *  - a literal secret is never echoed: when the text "fuzz-secret-0123"
 *    occurs only inside literal secret values ($.routes[i].secrets[j],
 *    $.routes[i].token, $.sinks.NAME.sign.secret - not env:/file:) and
 *    nowhere else (no key or other string contains it), the message does not
 *    contain it; for text that is not JSON, unless it occurs as an object key
 *    (jansson quotes a duplicated key);
 *  - config_free releases everything (LeakSanitizer).
 * stdin is /dev/null, so a "file:/dev/stdin" secret cannot block the run.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_config (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).
 */
// clang-format on
#include "config.h"
#include "err.h"
#include "log.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "fuzz-secret-0123"
#define ERRLEN 512
#define CANARY 'Z'

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_config: %s%s%s\n", what, err ? ": " : "", err ? err : "");
    abort();
}

/* a literal secret value (not env:/file:) containing SECRET */
static int literal_secret(json_t *v)
{
    const char *s = json_string_value(v);
    return s && strncmp(s, "env:", 4) && strncmp(s, "file:", 5) &&
           memmem(s, json_string_length(v), SECRET, strlen(SECRET));
}

static int in_string(json_t *v)
{
    return json_is_string(v) &&
           memmem(json_string_value(v), json_string_length(v), SECRET, strlen(SECRET)) != NULL;
}

/* where a value sits, as far as secrets go */
enum at { AT_ROOT, AT_ROUTES, AT_ROUTE, AT_SECRETS, AT_SINKS, AT_SINK, AT_SIGN, AT_OTHER };

/* elsewhere - 1 if SECRET occurs in a key or a string of v other than at the
 * literal secret positions (which are skipped; their count goes to *n). */
static int elsewhere(json_t *v, enum at at, int *n)
{
    if (json_is_string(v))
        return in_string(v);
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (at == AT_SECRETS && literal_secret(e)) {
                (*n)++;
                continue;
            }
            if (elsewhere(e, at == AT_ROUTES ? AT_ROUTE : AT_OTHER, n))
                return 1;
        }
        return 0;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            if (strstr(k, SECRET))
                return 1;
            if (((at == AT_ROUTE && !strcmp(k, "token")) ||
                 (at == AT_SIGN && !strcmp(k, "secret"))) &&
                literal_secret(e)) {
                (*n)++;
                continue;
            }
            enum at next = AT_OTHER;
            if (at == AT_ROOT && !strcmp(k, "routes"))
                next = AT_ROUTES;
            else if (at == AT_ROOT && !strcmp(k, "sinks"))
                next = AT_SINKS;
            else if (at == AT_ROUTE && !strcmp(k, "secrets"))
                next = AT_SECRETS;
            else if (at == AT_SINKS)
                next = AT_SINK;
            else if (at == AT_SINK && !strcmp(k, "sign"))
                next = AT_SIGN;
            if (elsewhere(e, next, n))
                return 1;
        }
    }
    return 0;
}

/* check_secret - SECRET must not be in err when the input holds it only as
 * literal secret values. */
static void check_secret(const char *text, size_t len, const char *err)
{
    if (!memmem(text, len, SECRET, strlen(SECRET)) || !strstr(err, SECRET))
        return;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!root) {
        /* not JSON: fine only if it may be a duplicated key's name */
        if (!strstr(err, "duplicate object key"))
            die("the message quotes a secret of a config that is not JSON", err);
        return;
    }
    int n = 0, other = elsewhere(root, AT_ROOT, &n);
    json_decref(root);
    if (n && !other)
        die("the message quotes a literal secret", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        log_set_level(LOG_ERROR); /* literal secrets are warned about on every load */
        int fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 0);
            close(fd);
        }
        ready = 1;
    }
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = strlen(text);

    char err[ERRLEN];
    memset(err, CANARY, sizeof(err));
    struct config *c = NULL;
    int rc = config_load_string(text, "fuzz.json", &c, err, sizeof(err));
    if (rc == HG_OK) {
        if (!c)
            die("HG_OK without a config", NULL);
        config_free(c);
    } else {
        if (rc != HG_ECONFIG && rc != HG_ENOMEM)
            die("unexpected result", hg_strerror(rc));
        if (c)
            die("a config returned on failure", NULL);
        if (!memchr(err, '\0', sizeof(err)))
            die("message not NUL-terminated", NULL);
        if (!err[0] || strncmp(err, "fuzz.json", 9))
            die("message does not name the file", err);
        check_secret(text, len, err);
    }
    free(text);
    return 0;
}
