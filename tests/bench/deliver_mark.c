/*
 * deliver_mark.c - the exec handler of tests/bench/deliver: /bin/true plus
 * one timestamp.
 *
 *   deliver_mark FILE
 *
 * Appends "<CLOCK_REALTIME ns> <$HOOKGATE_SEQ, or ->\n" to FILE with one
 * O_APPEND write and exits 0.  It does not read stdin (neither does
 * /bin/true).  Spawning it costs the same as /bin/true within this
 * machine's noise (tests/bench/deliver measures both), and unlike
 * /bin/true it lets the benchmark count the runs and see when the last one
 * happened: hookgate persists a sink's cursor up to a second late when
 * nothing else is committed, and adnanh/webhook answers before it runs the
 * command, so neither can tell us.
 * Exit status: 0, or 1 when FILE cannot be written, 2 usage.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: deliver_mark FILE\n", stderr);
        return 2;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const char *seq = getenv("HOOKGATE_SEQ");
    char line[128];
    int n = snprintf(line, sizeof(line), "%lld%09ld %s\n", (long long)ts.tv_sec, ts.tv_nsec,
                     seq && *seq ? seq : "-");
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, line, (size_t)n) != n) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
