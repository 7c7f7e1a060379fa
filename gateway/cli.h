/*
 * cli.h - the command line apart from `serve`: the usage texts of every
 * command, and the store and producer commands (`events`, `gc`, `sign`,
 * `send-test`).
 *
 * The store commands open the store read-only (store_open_reader), so they
 * work while `serve` runs: LMDB readers never block the writer and see the
 * last committed state.  Usage goes to stdout when asked for (--help, exit
 * 0) and to stderr after a one-line reason on a usage error (exit 2).
 */
#ifndef HG_CLI_H
#define HG_CLI_H

#include <stdio.h>

/* cli_usage - the usage lines of command cmd ("serve", "check", "events",
 * "gc", "sign", "send-test", "version"; NULL or unknown: every command,
 * then a line on `hookgate COMMAND --help` and the exit codes) to f, the
 * first line prefixed "usage: ".  notes: the command's explanation after
 * its lines as well. */
void cli_usage(FILE *f, const char *cmd, int notes);

/* cli_help - `hookgate [CMD] --help`: cmd's usage and notes (NULL: every
 * command) on stdout.  Returns the exit code: 0, or 1 when stdout cannot
 * be written. */
int cli_help(const char *cmd);

/* cli_usage_error - "hookgate: " and the message of fmt on one line, then
 * cmd's usage (NULL: every command's), on stderr.  Returns 2, the exit
 * code of a usage error. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_is_help - 1 if arg asks for help ("-h" or "--help"), else 0. */
int cli_is_help(const char *arg);

/* cli_is_command - 1 if cmd is a command cli_usage knows ("serve", ...), else 0. */
int cli_is_command(const char *cmd);

/* cli_events - `hookgate events list|show|dead|replay ...` (argv[1] is
 * "events").  Without -c or --data it reads ./hookgate-data, the embedded
 * default's data directory, and says so on stderr; when that does not
 * exist it is a usage error.  Prints to stdout; returns the process exit
 * code (0 ok, 1 runtime error, 2 usage error). */
int cli_events(int argc, char **argv);

/* cli_gc - `hookgate gc (-c FILE | --data DIR) [--window DURATION]`: prune
 * dedupe keys and delivered events older than the window (the config's
 * dedupe_window, default 7d), beside a running gateway. */
int cli_gc(int argc, char **argv);

/* cli_sign - `hookgate sign -p PROFILE -s SECRET [...] [FILE]`: print the
 * headers a producer would send; an id or type header only where serve
 * would read it for this body.  0 ok, 1 error (a reason on stderr, such as
 * an unusable secret source), 2 usage. */
int cli_sign(int argc, char **argv);

/* cli_profiles - `hookgate profiles list|show NAME [--profile-dir DIR]`:
 * the producer catalogue (cli_profiles.c).  Returns the exit code. */
int cli_profiles(int argc, char **argv);

struct profile;
struct secret;

/* cli_test_request - what `send-test` posts for profile p signed with sec
 * (type: NULL for the profile's test type; url: the URL a {url}-signing
 * profile signs, may be ""): *body (malloc'd, *len bytes) and the headers
 * as "Name: value" strings in hdrs[0..*nh) (malloc'd; hdrs holds 9).
 * HG_OK, or an error with a sentence in err (cap bytes): never secret
 * material.  The caller frees body and hdrs[i] even on error. */
int cli_test_request(const struct profile *p, const struct secret *sec, const char *type,
                     const char *url, char **body, size_t *len, char **hdrs, size_t *nh, char *err,
                     size_t cap);

/* cli_send_test - `hookgate send-test URL -p PROFILE -s SECRET [...]`: post
 * the profile's test event; 0 on a 2xx answer, 1 otherwise (a reason on
 * stderr when there is no answer: "cannot connect to HOST:PORT: why"),
 * 2 usage. */
int cli_send_test(int argc, char **argv);

#endif
