/*
 * engine.h — the sync thread of the server: a round (round.h) every
 * sync_interval_seconds while a mongo_uri is set, and at once when asked
 * (POST /api/sync/run). It has its own libmongoc client and touches the
 * database only through reader connections and short write jobs, so a
 * central server that is down, slow or half-reachable never holds up a
 * booking. A failed round is retried at the next interval, on a new client
 * (central.h: libmongoc's cooldown), and reported in `boxes` when the server
 * answered.
 */
#ifndef CLINICBOX_ENGINE_H
#define CLINICBOX_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "service/app.h"

/* How often the sync thread compares the per-day digests (digest.h). */
#define SYNC_RECONCILE_SECONDS (24 * 3600)

/* Starts the thread when a mongo_uri is set (else does nothing and returns
 * true). false if it could not start. */
bool sync_engine_start(app_t *app);
/* Stops it after the round in progress. Accepts a box without one. */
void sync_engine_stop(app_t *app);
/* Asks for a round now. false when sync is off. */
bool sync_engine_wake(app_t *app);

struct sync_status {
    bool enabled;
    bool running;            /* a round is in progress */
    int64_t last_round_at;   /* when the last round ended (0: none yet) */
    int64_t last_success_at; /* when the last round completed */
    int64_t last_push_at;    /* when records were last pushed */
    int64_t last_pull_at;    /* when the box last read central's changes to the end */
    char last_error[512];    /* of the last round, "" when it succeeded */
    unsigned long long rounds_ok, rounds_failed, pushed_total, pulled_total;
    /* since the box was set up: loaded from its database at start (round.h) */
    unsigned long long conflicts_total; /* central bookings that became conflicts */
    unsigned long long rejected_total;  /* central changes refused */
    bool clock_clamped; /* the last round met a revision implausibly far ahead */
    int64_t clock_ahead_ms; /* the box's clock seems this far ahead (pull.h); 0: not seen */
    int64_t last_reconcile_at; /* when the per-day digests were last compared */
    unsigned long long drift_repaired_total; /* records the digests found different */
    const char *change_stream; /* watch.h: starting, active, unavailable, failing; NULL: off */
};

void sync_engine_status(app_t *app, struct sync_status *out);

#endif
