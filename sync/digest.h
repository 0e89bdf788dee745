/*
 * digest.h — finds and repairs drift between the box and the central
 * database with per-day digests: for each collection and day (the record's
 * creation day, UTC), the number of live records and a hash of their
 * (id, revision) pairs, computed on both sides. Days whose digests agree are
 * done; for the others, record by record:
 *
 *  - a central document with a revision the box does not know, written by
 *    someone else (a change whose log entry was lost) is pulled and decided
 *    like any central change (apply.h);
 *  - a record the central side lacks, or holds at a revision other than the
 *    box's own latest (a database restored from an older backup, which keeps
 *    its epoch) is journaled, so the push sends it again.
 *
 * The central side cannot hash on the server (the test server has no such
 * operators), so its digests are computed by streaming a projection
 * ({_id, _sync.rev, createdAt, deletedAt}) of the clinic's documents: memory
 * stays bounded by the number of days, and record lists are kept only for
 * the days that differ. It runs when the journal is empty, once a day from
 * the sync thread (and at its first round), and in every `sync --once`.
 */
#ifndef CLINICBOX_DIGEST_H
#define CLINICBOX_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "service/app.h"
#include "sync/central.h"
#include "sync/pull.h"

struct digest_stats {
    long days_compared, days_differing;
    long pulled;   /* central documents taken in */
    long repushed; /* records journaled to be pushed again */
};

bool sync_reconcile(app_t *app, central_t *c, const char *box_id, struct digest_stats *ds,
                    struct pull_stats *ps, char *err, size_t errlen);

#endif
