/*
 * clockguard.h — is the wall clock plausible enough to act on?
 *
 * The no-show worker marks appointments by the wall clock. After a power cut
 * a box with a flat RTC battery may wake in 2000, or an operator may set the
 * clock a year ahead; acting on that would mark a whole day (or year) as
 * no-shows. The guard compares the wall clock against two references:
 *
 *  - the high-water mark: the latest wall time the guard trusted, kept in
 *    the database across restarts. At start, a clock behind it (by more than
 *    the tolerance) or ahead of it by more than the catch-up window is held.
 *  - while running, the monotonic clock: wall time must advance with it;
 *    a step of more than the tolerance either way is held.
 *
 * A held clock becomes trusted again when it returns to where it should be,
 * or when staff confirm it (clockguard_confirm). Any wall time before
 * 2024-01-01 is never trusted. Pure logic: the caller passes the clocks.
 */
#ifndef CLINICBOX_CLOCKGUARD_H
#define CLINICBOX_CLOCKGUARD_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCKGUARD_FLOOR 1704067200 /* 2024-01-01T00:00:00Z */

typedef struct {
    int64_t high_water;   /* latest trusted wall time (0: none yet) */
    int64_t max_catchup;  /* seconds a stopped box may have been off */
    int64_t tolerance;    /* seconds of allowed disagreement */
    bool running;         /* ref_* are set */
    int64_t ref_wall, ref_mono;
    bool held;
    char reason[200];
} clockguard_t;

void clockguard_init(clockguard_t *g, int64_t high_water, int64_t max_catchup,
                     int64_t tolerance);

/* Feeds the current wall and monotonic clocks (seconds). Returns true if the
 * wall clock can be trusted now; g->reason says why not. */
bool clockguard_observe(clockguard_t *g, int64_t wall, int64_t mono);

/* Staff say the clock is right now: trust it from here on. */
void clockguard_confirm(clockguard_t *g, int64_t wall, int64_t mono);

#endif
