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
 * holds the patient's token). The journal itself is journal.h.
 */
#ifndef CLINICBOX_PUSH_H
#define CLINICBOX_PUSH_H

#include <stddef.h>

#include "service/app.h"
#include "sync/central.h"
#include "sync/ctl.h"

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
