/*
 * pull.h — brings central changes for this clinic into the box.
 *
 * Central writers (`clinicbox central`, or any tool following the shape in
 * docs/sync.md) take a number from the clinic's counter (collection
 * `counters`, `_id` = the clinic's id, `$inc` of `seq`), write the document,
 * then append {clinicId, seq, collection, docId, doc} to the `changes`
 * collection (doc: the document as written). The box reads `changes` from
 * its checkpoint in ranges of numbers (no server-side sort), takes each
 * record's last snapshot (or fetches the document when an entry has none),
 * and applies them (apply.h) in one SQLite transaction with the new
 * checkpoint.
 *
 * A number taken but not (yet) visible in `changes` is a gap: a writer
 * still between its steps, or one that died. The checkpoint stops below a
 * gap, and the entries above it are read again next round (applying is
 * idempotent), until the gap is filled or SYNC_GAP_WAIT_MS have passed since
 * the box first saw it; then it is passed. This is the polling path, which
 * works on every server; it needs no change streams.
 */
#ifndef CLINICBOX_PULL_H
#define CLINICBOX_PULL_H

#include <stdbool.h>
#include <stddef.h>

#include "service/app.h"
#include "sync/apply.h"
#include "sync/central.h"
#include "sync/ctl.h"

#define SYNC_GAP_WAIT_MS (60 * 1000LL)

struct pull_stats {
    long applied, skipped, rejected, conflicts;
    bool clamped;
    /* How far the box's clock seems ahead of the central writers' (ms; 0:
     * not noticed). A change entry that appeared after the box's previous
     * pull was written after it; if its `at` is well before that pull by the
     * box's clock, the box's clock is ahead by at least the difference. */
    int64_t clock_ahead_ms;
};

/* Pulls in batches of `batch` until the change log has nothing new (or
 * only entries above a gap that is still waited for), or ctl says stop.
 * false with the reason in err. */
bool sync_pull(app_t *app, central_t *c, const char *box_id, long batch,
               const struct sync_ctl *ctl, struct pull_stats *st, char *err, size_t errlen);

/* Fetches the named documents (a push found them changed centrally) and
 * applies them outside the change log's order. */
bool sync_pull_records(app_t *app, central_t *c, const char *box_id, int collection,
                       char (*ids)[ID_LEN + 8], long n, struct pull_stats *st, char *err,
                       size_t errlen);

/* Forgets the checkpoint and the revisions seen (a new central database). */
int sync_pull_reset_in_tx(db_conn_t *c);

#endif
