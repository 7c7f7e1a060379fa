/*
 * deliver.h - one delivery worker thread per sink.
 *
 * Each worker reads the store in seq order from its own cursor, renders the
 * envelopes of the events routed to its sink (and matching its "types"),
 * hands them to the sink, and only then moves its cursor.  A crash between
 * the two re-delivers: at least once.  One slow sink never holds back
 * another, since each has its thread and cursor.
 */
#ifndef HG_DELIVER_H
#define HG_DELIVER_H

struct config;
struct store;
struct deliver;

/* deliver_start - start a worker per sink of cfg.  cfg and st must outlive
 * the handle.  HG_ENOMEM / HG_EIO (a sink could not be opened). */
int deliver_start(const struct config *cfg, struct store *st, struct deliver **out);

/* deliver_stop - let each worker finish the batch in hand, record its
 * cursor, stop it and free everything.  NULL-safe. */
void deliver_stop(struct deliver *d);

#endif
