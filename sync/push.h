/*
 * push.h — sends the records the change journal names to the central
 * MongoDB (one document per record, `_id` = the box's id, `clinicId` on
 * each, BSON dates for times, `_sync` = {rev, box, pushedAt}).
 *
 * Idempotent: each record is upserted with `$set` of its current state, so a
 * batch pushed twice, or cut off halfway and pushed again, leaves the same
 * documents; fields written centrally that the box does not know survive.
 * Guarded: an update applies only over the central revision the box last
 * saw (or over what this box wrote), so a central edit the box has not
 * pulled yet is never overwritten; those come back as conflicts.
 * Journal rows are deleted only after the server acknowledged the whole
 * batch (majority write concern where there is a replica set).
 *
 * Never pushed: offers' token hashes and messages' texts (an offer's text
 * holds the patient's token).
 */
#ifndef CLINICBOX_PUSH_H
#define CLINICBOX_PUSH_H

#include <stddef.h>

#include "service/app.h"
#include "sync/central.h"
#include "sync/ctl.h"

/* Turns the journal on (a mongo_uri is set) or off. Turning it on journals
 * every existing record, so the first push seeds the central database.
 * false on a storage error. */
bool sync_journal_enable(app_t *app, bool on);

/* Compares the central database's epoch (central_epoch()) with the one
 * this box last saw. A different one means the central database was
 * replaced or restored empty: every record is journaled again, in the same
 * transaction that records the new epoch. Returns 1 when it re-seeded, 0
 * when the epoch is known (or seen for the first time), -1 on a storage
 * error. */
int sync_check_epoch(app_t *app, const char *epoch);

/* Pending journal rows (local changes not yet pushed), or -1. */
long sync_pending(app_t *app);

#define PUSH_MAX_CONFLICTS 500

/* Records whose central document changed since the box last saw it: the
 * guarded update did not overwrite it. The round fetches and applies them
 * (pull.h), then pushes the outcome. */
struct push_conflicts {
    struct {
        int collection; /* index into docmap_collections */
        char id[ID_LEN + 8];
    } item[PUSH_MAX_CONFLICTS];
    long n;
};

/* Pushes journal rows in batches of ctl->push_batch (adapted, ctl.h) until
 * the journal is empty, a batch met conflicts, or ctl says stop. Returns the number of records pushed, or
 * -1 with the reason in err. */
long sync_push(app_t *app, central_t *c, const char *box_id, struct sync_ctl *ctl,
               struct push_conflicts *conflicts, char *err, size_t errlen);

#endif
