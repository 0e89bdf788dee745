/*
 * push.h — sends the records the change journal names to the central
 * MongoDB (one document per record, `_id` = the box's id, `clinicId` on
 * each, BSON dates for times, `_sync` = {rev, box, pushedAt}).
 *
 * Idempotent: each record is upserted with `$set` of its current state, so a
 * batch pushed twice, or cut off halfway and pushed again, leaves the same
 * documents; fields written centrally that the box does not know survive.
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

/* Pushes journal rows in batches of at most `batch` until the journal is
 * empty. Returns the number of records pushed, or -1 with the reason in
 * err. */
long sync_push(app_t *app, central_t *c, const char *box_id, long batch, char *err,
               size_t errlen);

#endif
