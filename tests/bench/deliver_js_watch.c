/*
 * deliver_js_watch.c - the clock of the jetstream targets of
 * tests/bench/deliver: polls a JetStream stream's state (STREAM.INFO, which
 * its leader answers) every POLL_US until it holds N messages.
 *
 *   deliver_js_watch NATS_URL STREAM N RESULT_FILE [TIMEOUT_S]
 *
 * A stream that does not exist yet counts as empty (hookgate creates it).
 * Once the stream holds N messages it writes one line to RESULT_FILE:
 *
 *   RESULT msgs=M seconds=S bytes=B polls=P poll_us=U
 *
 * seconds: from the first poll that saw a message to the first poll that
 * saw N.  Both ends are seen up to one poll late, so the error is about
 * one poll interval (poll_us, default 2000) either way.  Exit status 0 when
 * N arrived, 1 on timeout (the line is written with what was there), 2 on
 * a usage or connection error.
 */
#define _GNU_SOURCE
#include <nats/nats.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: deliver_js_watch NATS_URL STREAM N RESULT_FILE [TIMEOUT_S]\n");
        return 2;
    }
    const char *url = argv[1], *stream = argv[2], *out = argv[4];
    uint64_t n = strtoull(argv[3], NULL, 10);
    double timeout_s = argc == 6 ? atof(argv[5]) : 120;
    const char *pe = getenv("POLL_US");
    long poll_us = pe ? atol(pe) : 2000;

    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus st = natsConnection_ConnectTo(&nc, url);
    if (st == NATS_OK)
        st = natsConnection_JetStream(&js, nc, NULL);
    if (st != NATS_OK) {
        fprintf(stderr, "deliver_js_watch: %s: %s\n", url, natsStatus_GetText(st));
        return 2;
    }
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = 2000;
    uint64_t t0 = now_ns(), t_first = 0, t_done = 0, msgs = 0, bytes = 0, polls = 0;
    int rc = 1;
    while ((double)(now_ns() - t0) / 1e9 < timeout_s) {
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        polls++;
        if (js_GetStreamInfo(&si, js, stream, &o, &jerr) == NATS_OK) {
            uint64_t t = now_ns();
            msgs = si->State.Msgs;
            bytes = si->State.Bytes;
            jsStreamInfo_Destroy(si);
            if (msgs && !t_first)
                t_first = t;
            if (msgs >= n) {
                t_done = t;
                rc = 0;
                break;
            }
        }
        usleep((useconds_t)poll_us);
    }
    if (!t_done)
        t_done = now_ns();
    FILE *f = fopen(out, "w");
    if (!f) {
        perror(out);
        return 2;
    }
    fprintf(f, "RESULT msgs=%llu seconds=%.6f bytes=%llu polls=%llu poll_us=%ld\n",
            (unsigned long long)msgs, t_first ? (double)(t_done - t_first) / 1e9 : 0.0,
            (unsigned long long)bytes, (unsigned long long)polls, poll_us);
    fclose(f);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return rc;
}
