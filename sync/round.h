/*
 * round.h — one sync round with the central MongoDB: what `clinicbox sync
 * --once` runs, and what the sync thread (engine.h) runs every
 * sync_interval_seconds: connect, check the central epoch, pull central
 * changes (pull.h), push the journal's (push.h; conflicts are pulled and
 * pushed again), report the box (central.h).
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
};

/* One round on an open client (the sync thread keeps one). With reconcile,
 * the round also compares the per-day digests once the journal is empty
 * (digest.h). ctl (ctl.h): stop and progress between batches, and the
 * push's adaptive batch size, kept by the caller across rounds. */
bool sync_round_on(app_t *app, central_t *c, bool reconcile, struct sync_ctl *ctl,
                   struct round_result *res, char *err, size_t errlen);

#endif
