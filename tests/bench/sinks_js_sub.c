/*
 * sinks_js_sub.c - the receiving end of the jetstream sink in
 * tests/bench/sinks: a plain NATS subscriber on the stream's subjects.
 *
 *   sinks_js_sub NATS_URL SUBJECT TIMES_FILE
 *
 * For every message it appends "SEQ T_NS" to TIMES_FILE: SEQ from the
 * message's Hookgate-Seq header, T_NS the CLOCK_REALTIME when the
 * subscription handed it over.  hookgate publishes with JetStream's publish
 * (a normal PUB that the stream captures, then a PubAck); a core
 * subscription on the same subjects gets each message as nats-server
 * routes it, which is when the stream stores it, too.  A message published
 * twice (a retry) is recorded twice; the analysis keeps the first.
 * TIMES_FILE is flushed whenever no message is pending.  It prints
 * "subscribed" on stdout once the subscription is registered with the
 * server, and runs until SIGTERM/SIGINT.  Exit status: 0, 1 on a NATS
 * error, 2 usage.
 */
#define _GNU_SOURCE
#include <nats/nats.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t stop;
static void on_sig(int s)
{
    (void)s;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sinks_js_sub NATS_URL SUBJECT TIMES_FILE\n");
        return 2;
    }
    FILE *out = fopen(argv[3], "w");
    if (!out) {
        perror(argv[3]);
        return 1;
    }
    setvbuf(out, NULL, _IOFBF, 1 << 20);
    struct sigaction sa = {0};
    sa.sa_handler = on_sig;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    natsStatus st = natsConnection_ConnectTo(&nc, argv[1]);
    if (st == NATS_OK)
        st = natsConnection_SubscribeSync(&sub, nc, argv[2]);
    if (st == NATS_OK)
        st = natsSubscription_SetPendingLimits(sub, -1, -1);
    if (st == NATS_OK)
        st = natsConnection_Flush(nc); /* the server knows the subscription */
    if (st != NATS_OK) {
        fprintf(stderr, "sinks_js_sub: %s: %s\n", argv[1], natsStatus_GetText(st));
        return 1;
    }
    printf("subscribed\n");
    fflush(stdout);
    uint64_t n = 0, nohdr = 0;
    while (!stop) {
        int pending = 0, pbytes = 0;
        natsSubscription_GetPending(sub, &pending, &pbytes);
        if (pending == 0)
            fflush(out);
        natsMsg *m = NULL;
        st = natsSubscription_NextMsg(&m, sub, 200);
        if (st == NATS_TIMEOUT)
            continue;
        if (st != NATS_OK) {
            fprintf(stderr, "sinks_js_sub: %s\n", natsStatus_GetText(st));
            return 1;
        }
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        const char *v = NULL;
        if (natsMsgHeader_Get(m, "Hookgate-Seq", &v) == NATS_OK && v) {
            fprintf(out, "%s %llu\n", v,
                    (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec);
            n++;
        } else {
            nohdr++;
        }
        natsMsg_Destroy(m);
    }
    fclose(out);
    fprintf(stderr, "sinks_js_sub: %llu messages, %llu without Hookgate-Seq\n",
            (unsigned long long)n, (unsigned long long)nohdr);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    nats_Close();
    return 0;
}
