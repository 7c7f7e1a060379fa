/*
 * e2e_js_watch.c - the drain clock of the end-to-end jetstream targets of
 * tests/bench/run (hookgate-js-r3, hookgate2-js-r3): polls a JetStream
 * stream's state (STREAM.INFO, answered by its leader) every POLL_US until
 * it holds at least N messages.
 *
 *   e2e_js_watch NATS_URL STREAM GOFILE [TIMEOUT_S]
 *
 * It connects first, then waits (checking every millisecond, which costs
 * next to nothing) until GOFILE exists, and reads "N T0_NS" from it: the
 * count to wait for, and a CLOCK_REALTIME timestamp in nanoseconds
 * (`date +%s%N`), the moment the load stopped.  So the clock does not
 * include this program's start and connect.  Write GOFILE atomically (write
 * elsewhere, then rename).  The result is one line on stdout:
 *
 *   RESULT msgs=M first_msgs=F seconds=S polls=P poll_us=U
 *
 * first_msgs: what the first poll saw (a few ms after start, so roughly the
 * stream at the end of the load); seconds: from T0_NS to the first poll that
 * saw N or more messages, so up to one poll interval late (and never less
 * than the time from T0_NS until GOFILE was there).  TIMEOUT_S (default 120)
 * counts from GOFILE.  Exit status 0 when N arrived, 1 on timeout (the line
 * is printed with what was there), 2 on a usage, connection or GOFILE error.
 */
#define _GNU_SOURCE
#include <nats/nats.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t real_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: e2e_js_watch NATS_URL STREAM GOFILE [TIMEOUT_S]\n");
        return 2;
    }
    const char *url = argv[1], *stream = argv[2], *gofile = argv[3];
    double timeout_s = argc == 6 ? atof(argv[5]) : 120;
    const char *pe = getenv("POLL_US");
    long poll_us = pe ? atol(pe) : 2000;

    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus st = natsConnection_ConnectTo(&nc, url);
    if (st == NATS_OK)
        st = natsConnection_JetStream(&js, nc, NULL);
    if (st != NATS_OK) {
        fprintf(stderr, "e2e_js_watch: %s: %s\n", url, natsStatus_GetText(st));
        return 2;
    }
    struct stat sb;
    while (stat(gofile, &sb) != 0)
        usleep(1000);
    unsigned long long n = 0, t0 = 0;
    FILE *g = fopen(gofile, "r");
    if (!g || fscanf(g, "%llu %llu", &n, &t0) != 2) {
        fprintf(stderr, "e2e_js_watch: %s: expected \"N T0_NS\"\n", gofile);
        return 2;
    }
    fclose(g);
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = 2000;
    uint64_t start = real_ns(), t_done = 0, msgs = 0, first = 0, polls = 0;
    int rc = 1, seen = 0;
    while ((double)(real_ns() - start) / 1e9 < timeout_s) {
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        polls++;
        if (js_GetStreamInfo(&si, js, stream, &o, &jerr) == NATS_OK) {
            uint64_t t = real_ns();
            msgs = si->State.Msgs;
            jsStreamInfo_Destroy(si);
            if (!seen) {
                first = msgs;
                seen = 1;
            }
            if (msgs >= n) {
                t_done = t;
                rc = 0;
                break;
            }
        }
        usleep((useconds_t)poll_us);
    }
    if (!t_done)
        t_done = real_ns();
    printf("RESULT msgs=%llu first_msgs=%llu seconds=%.6f polls=%llu poll_us=%ld\n",
           (unsigned long long)msgs, (unsigned long long)first,
           t_done > t0 ? (double)(t_done - t0) / 1e9 : 0.0, (unsigned long long)polls, poll_us);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return rc;
}
