/*
 * round.h — one sync round with the central MongoDB: what `clinicbox sync
 * --once` runs, and what the sync thread (engine.h) runs every
 * sync_interval_seconds: connect, check the central epoch, pull central
 * changes (pull.h), push the journal's (push.h; conflicts are pulled and
 * pushed again); then the caller reports the box (sync_report, central.h),
 * also after a failed round that reached the server.
 *
 * The first round of a process that reaches a central database (and the
 * first after its epoch changed) creates the indexes the box's queries
 * need (central_ensure_indexes); a server that refuses is logged once and
 * the round goes on without them.
 *
 * The rejected and conflict counts are kept in the box's database (meta
 * sync_rejected_total, sync_conflicts_total), added to at the end of each
 * round, so they survive restarts (a crash between a batch's commit and the
 * round's end loses that round's part of the count, not the records).
 */
#ifndef CLINICBOX_ROUND_H
#define CLINICBOX_ROUND_H

#include <stdbool.h>
#include <stddef.h>

#include "service/app.h"
#include "sync/central.h"
#include "sync/ctl.h"

/* This box's id (a UUID made and kept in the database at first use), into
 * out (ID_LEN). false on a storage error. */
bool sync_box_id(app_t *app, char *out);

/* One round on its own connection. true when it completed; else false
 * with the reason (never the password) in err. */
bool sync_round(app_t *app, char *err, size_t errlen);

struct round_result {
    long pushed;    /* records sent to central */
    long pulled;    /* central changes taken in */
    long conflicts; /* central bookings that became conflicts */
    long rejected;  /* central changes refused (see the `rejections` collection) */
    bool clamped;   /* a central revision was implausibly far ahead */
    int64_t clock_ahead_ms; /* the box's clock seems this far ahead (0: not noticed) */
    bool reconciled;        /* the digests were compared (digest.h) */
    long drift_repaired;    /* records the digests found different, and repaired */
    bool reached;           /* the server answered: a failing round can be reported */
};

/* The counts kept across restarts. false on a storage error. */
struct sync_totals {
    unsigned long long rejected;  /* central changes refused */
    unsigned long long conflicts; /* central bookings that became conflicts */
};
bool sync_totals_get(app_t *app, struct sync_totals *out);

/* What the box's document in `boxes` says besides what the box's database
 * knows (central.h, struct box_report). */
struct round_outcome {
    bool ok;
    const char *error;         /* why the round failed (NULL when ok) */
    const char *change_stream; /* watch.h's state; "off" without a watcher */
    bool clock_clamped;        /* as in the status (engine.h) */
    int64_t clock_ahead_ms;
};

/* Writes the box's document in `boxes`. false with the reason in err. */
bool sync_report(app_t *app, central_t *c, const struct round_outcome *o, char *err,
                 size_t errlen);

/* One round on an open client (the sync thread keeps one). With reconcile,
 * the round also compares the per-day digests once the journal is empty
 * (digest.h). ctl (ctl.h): stop and progress between batches, and the
 * push's adaptive batch size, kept by the caller across rounds. */
bool sync_round_on(app_t *app, central_t *c, bool reconcile, struct sync_ctl *ctl,
                   struct round_result *res, char *err, size_t errlen);

#endif
