/*
 * benchknob.h - switches that take the store apart, for tests/bench only.
 *
 * Compiled in only by `cmake -DHG_BENCH_KNOBS=ON` (tests/bench/run builds
 * such a binary for its decomposition targets); a normal build has none of
 * this code and these functions are constant.  With the knobs compiled in,
 * the environment variable HG_BENCH_STORE selects:
 *   null    - answer 200 in the HTTP thread after verification, without the
 *             store: nothing is stored or delivered;
 *   nosync  - the full path, with LMDB opened MDB_NOSYNC (no fsync at all);
 *   walsim  - MDB_NOSYNC plus, per commit, the batch's records written in one
 *             contiguous write to a preallocated file in data_dir and
 *             fdatasync'd: what a write-ahead log would cost at best.
 * Every one of them breaks the durability contract; they exist to measure
 * where the time goes (README, "Performance").  The store logs a warning at
 * open while one is active.
 */
#ifndef HG_BENCHKNOB_H
#define HG_BENCHKNOB_H

struct store_item;

enum benchknob_store { BK_REAL = 0, BK_NULL, BK_NOSYNC, BK_WALSIM };

/* benchknob_name - the HG_BENCH_STORE value of a mode ("" for BK_REAL). */
static inline const char *benchknob_name(enum benchknob_store m)
{
    return m == BK_NULL ? "null" : m == BK_NOSYNC ? "nosync" : m == BK_WALSIM ? "walsim" : "";
}

/* BENCHKNOB_BUILT - 1 in a -DHG_BENCH_KNOBS=ON build (logged at start, and
 * shown by --version), else 0. */
#ifdef HG_BENCH_KNOBS
#define BENCHKNOB_BUILT 1

/* benchknob_store - the selected mode (read once from HG_BENCH_STORE). */
enum benchknob_store benchknob_store(void);

/* benchknob_walsim - write the records of the items the transaction stored
 * to dir/walsim.dat in one write and fdatasync it (items NULL: only create
 * and preallocate the file, as store_open does before any thread starts;
 * after that, writer thread only).  0 or an errno value. */
int benchknob_walsim(const char *dir, const struct store_item *items);
#else
#define BENCHKNOB_BUILT 0

static inline enum benchknob_store benchknob_store(void)
{
    return BK_REAL;
}

static inline int benchknob_walsim(const char *dir, const struct store_item *items)
{
    (void)dir;
    (void)items;
    return 0;
}
#endif

#endif
