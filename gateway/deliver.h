/*
 * deliver.h - one delivery worker thread per sink.
 *
 * Each worker reads the store in seq order from its own cursor, renders the
 * envelopes of the events routed to its sink (and matching its "types"),
 * hands them to the sink (through sink.h), and only then moves its cursor.
 * A crash between the two re-delivers: at least once.  One slow sink never
 * holds back another, since each has its thread and cursor.
 */
#ifndef HG_DELIVER_H
#define HG_DELIVER_H

#include <stddef.h>

struct config;
struct store;
struct deliver;

/* deliver_start - start a worker per sink of cfg.  cfg and st must outlive
 * the handle.  HG_ENOMEM / HG_EIO (a sink could not be opened). */
int deliver_start(const struct config *cfg, struct store *st, struct deliver **out);

/* deliver_start_after - the same after a reload: hist[0..nhist) are the
 * configs served before (all still alive).  A sink keeps receiving events
 * stored under the routes that fed it in any of them, so an event
 * acknowledged before a route was renamed or removed is still delivered. */
int deliver_start_after(const struct config *cfg, const struct config *const *hist, size_t nhist,
                        struct store *st, struct deliver **out);

/* deliver_stop - let each worker finish the batch in hand, record its
 * cursor, stop it and free everything.  NULL-safe. */
void deliver_stop(struct deliver *d);

#endif
