/*
 * rej_test.c - http_rej_masked: which header names have their values
 * masked (http_rej.h).  Fixed cases, then the one-pass matcher against a
 * plain strstr reference of the same rules on many generated names.
 */
#include "http_rej.h"
#include "profile.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void test_fixed_names(void)
{
    const char *masked[] = {"Authorization",
                            "X-AuthToken",
                            "Cookie",
                            "set-cookie",
                            "X-Forwarded-Uri",
                            "Referer",
                            "X-Secret",
                            "X-Passw0rd",
                            "Proxy-Credentials",
                            "X-JWT",
                            "X-Hub-Signature-256",
                            "X-Hmac",
                            "X-ApiKey",
                            "Api-Key",
                            "X-Session-Id",
                            "X-Sig",
                            "key",
                            "X-Airtable-Content-MAC",
                            "sig-2",
                            "X-Token"};
    const char *plain[] = {"Content-Type", "Content-Length", "Host",        "User-Agent",
                           "X-Signal",     "Keyboard",       "Machine",     "X-Monkey",
                           "Accept",       "X-Event-Id",     "Cookies-Not", "X-Request-Id"};
    for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++)
        if (!http_rej_masked(NULL, masked[i])) {
            fprintf(stderr, "  not masked: %s\n", masked[i]);
            T_CHECK(0);
        }
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (http_rej_masked(NULL, plain[i])) {
            fprintf(stderr, "  masked: %s\n", plain[i]);
            T_CHECK(0);
        }
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    T_EQ_INT(http_rej_masked(NULL, longname), 1); /* too long to judge: masked */
}

/* the rules as plain substring searches (the earlier implementation) */
static int ref_word(const char *l, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = l; (p = strstr(p, w)); p++) {
        int before = p == l || !(p[-1] >= 'a' && p[-1] <= 'z');
        char c = p[n];
        if (before && !(c >= 'a' && c <= 'z'))
            return 1;
    }
    return 0;
}

static int ref_masked(const char *name)
{
    static const char *const exact[] = {
        "cookie",         "set-cookie",    "x-forwarded-uri", "x-original-uri",
        "x-original-url", "x-rewrite-url", "referer",         NULL};
    static const char *const parts[] = {"auth",       "token",   "secret",    "passw",
                                        "credential", "jwt",     "signature", "hmac",
                                        "apikey",     "api-key", "session",   NULL};
    static const char *const words[] = {"key", "sig", "mac", NULL};
    char l[256];
    size_t n = 0;
    for (; n < sizeof(l) - 1 && name[n]; n++)
        l[n] = (char)(name[n] >= 'A' && name[n] <= 'Z' ? name[n] | 0x20 : name[n]);
    if (name[n])
        return 1;
    l[n] = 0;
    for (int i = 0; exact[i]; i++)
        if (!strcmp(l, exact[i]))
            return 1;
    for (int i = 0; parts[i]; i++)
        if (strstr(l, parts[i]))
            return 1;
    for (int i = 0; words[i]; i++)
        if (ref_word(l, words[i]))
            return 1;
    return 0;
}

/* names built from pieces of the patterns, letters and separators */
static void test_agrees_with_reference(void)
{
    static const char *const pieces[] = {
        "key",  "Sig", "mac",    "Auth",    "tok", "en",     "x-",   "-",      "a",  "S",  "ig",
        "ma",   "c",   "ses",    "sion",    "1",   "api",    "Key",  "hm",     "AC", "jw", "t",
        "pass", "w",   "cookie", "referer", "_",   "secret", "cred", "ential", "z"};
    const size_t np = sizeof(pieces) / sizeof(pieces[0]);
    unsigned seed = 12345;
    int disagree = 0, masked = 0;
    for (int i = 0; i < 200000; i++) {
        char name[64];
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        int k = 1 + (int)((seed >> 16) % 5);
        for (int j = 0; j < k; j++) {
            seed = seed * 1103515245u + 12345u;
            const char *p = pieces[(seed >> 16) % np];
            size_t pl = strlen(p);
            if (len + pl >= sizeof(name))
                break;
            memcpy(name + len, p, pl);
            len += pl;
        }
        name[len] = 0;
        int got = http_rej_masked(NULL, name), want = ref_masked(name);
        masked += want;
        if (got != want && disagree++ < 5)
            fprintf(stderr, "  %s: %d, reference %d\n", name, got, want);
    }
    T_EQ_INT(disagree, 0);
    T_CHECK(masked > 1000 && masked < 199000); /* both answers were exercised */
}

int main(void)
{
    T_RUN(test_fixed_names);
    T_RUN(test_agrees_with_reference);
    return t_finish();
}
