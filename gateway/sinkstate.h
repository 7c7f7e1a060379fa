/*
 * sinkstate.h - what each sink is retrying now, for the console.
 *
 * The delivery workers publish the event a sink is failing on (its seq,
 * attempts so far, the last error and when the next attempt is due) and
 * clear it once that event is delivered or dead; the console reads it.
 * Slots are the sinks' metrics slots (cfg_sink.mx), stable across reloads.
 * One mutex: updates happen only on failures and on the success after one.
 */
#ifndef HG_SINKSTATE_H
#define HG_SINKSTATE_H

#include <stdint.h>

#define SINKSTATE_ERR_MAX 256

struct sinkstate {
    uint64_t seq;      /* 0: nothing is being retried */
    unsigned attempts; /* failed attempts so far */
    int64_t next_ms;   /* wall-clock time of the next attempt */
    char err[SINKSTATE_ERR_MAX];
};

/* sinkstate_fail - sink slot mx failed on seq (attempt number attempts,
 * error err, next try at next_ms).  A lower seq already shown stays (the
 * oldest failing event is the one that holds the sink back). */
void sinkstate_fail(int mx, uint64_t seq, unsigned attempts, const char *err, int64_t next_ms);

/* sinkstate_clear - seq of slot mx is delivered or dead: shown no more. */
void sinkstate_clear(int mx, uint64_t seq);

/* sinkstate_done - seq was delivered to slot mx after attempts attempts;
 * replay: it was a replay (the event had been delivered or dead before).
 * Remembered (a ring of recent ones) only for replays and events that
 * needed more than one attempt, so the console can show their count. */
void sinkstate_done(int mx, uint64_t seq, unsigned attempts, int replay);

/* sinkstate_attempts - the attempts remembered for (mx, seq), 0 if none. */
unsigned sinkstate_attempts(int mx, uint64_t seq);

/* sinkstate_get - slot mx's state into *out (seq 0 when none). */
void sinkstate_get(int mx, struct sinkstate *out);

#endif
