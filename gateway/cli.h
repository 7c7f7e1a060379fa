/*
 * cli.h - the store commands of the command line (`hookgate events ...`).
 *
 * They open the store read-only (store_open_reader), so they work while
 * `serve` runs: LMDB readers never block the writer and see the last
 * committed state.
 */
#ifndef HG_CLI_H
#define HG_CLI_H

/* cli_events - `hookgate events list|show|dead ...` (argv[0] is "events").
 * Prints to stdout; returns the process exit code (0 ok, 1 runtime error,
 * 2 usage error). */
int cli_events(int argc, char **argv);

/* cli_gc - `hookgate gc (-c FILE | --data DIR) [--window DURATION]`: prune
 * dedupe keys and delivered events older than the window (the config's
 * dedupe_window, default 7d), beside a running gateway. */
int cli_gc(int argc, char **argv);

/* cli_sign - `hookgate sign -p PROFILE -s SECRET [...] [FILE]`: print the
 * headers a producer would send.  0 ok, 1 error, 2 usage. */
int cli_sign(int argc, char **argv);

/* cli_send_test - `hookgate send-test URL -p PROFILE -s SECRET [...]`: post
 * the profile's test event; 0 on a 2xx answer, 1 otherwise, 2 usage. */
int cli_send_test(int argc, char **argv);

#endif
