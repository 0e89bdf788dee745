/*
 * apply.h — takes documents pulled from the central database into the box,
 * through the same rules as the box's own changes (booking.h, the store's
 * constraints), in one write job together with the pull's new checkpoint.
 *
 * How a central document is decided (docs/sync.md, "Conflicts"):
 *  - A revision (`_sync.rev`, a hybrid logical clock) the box has already
 *    seen or passed is skipped: applying is idempotent.
 *  - With no local change pending for the record, the central edit is newer
 *    than what the box last pushed (both sides write only over the revision
 *    they saw), so it is taken. With a local change pending, the two are
 *    concurrent: patients, doctors and the clinic merge field by field
 *    against the record's base (merge.h); otherwise, and for the rest, the
 *    later revision wins (the node id breaks ties; a revision implausibly
 *    far ahead of the box's clock is clamped).
 *  - An appointment's status moves only along the life cycle
 *    (appointment.h, appt_path): a check-in is never undone by a cancel.
 *    Its doctor, patient and times are fixed once booked.
 *  - A new central booking is booked by the box's rules. If its time is
 *    taken (or outside the doctor's hours, or past), it is kept with the
 *    status `conflict` and its patient gets an offer of free slots.
 *  - Offers and messages are the box's: central edits of them are undone.
 *  - A new central record the box refuses is removed centrally (its
 *    document kept in `rejections`): no phantom stays behind.
 *  - A central document whose current revision is older than the box's was
 *    written by a writer that did not write over the revision it read:
 *    reported, and the box's record pushed over it.
 *  - What the box decided differently from central is journaled, so the
 *    next push tells central the outcome; what it refused is also written
 *    to the box's event log and reported (rejections).
 */
#ifndef CLINICBOX_APPLY_H
#define CLINICBOX_APPLY_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "service/app.h"

/* A clock more than this far ahead of the box's is clamped (and reported). */
#define SYNC_MAX_SKEW_MS (10 * 60 * 1000LL)

struct central_doc {
    int collection; /* index into docmap_collections */
    bson_t *doc;
    /* the document as central has it now (fetched), not a change entry's
     * snapshot: only then does an older revision than the box's mean a
     * stale write rather than history the box has passed */
    bool current;
    int64_t seq; /* the change entry's number it comes from (0: fetched outside the log) */
};

/* What the box decided about a central write, for the central `outcomes`
 * collection (and `rejections`, for the refused ones). kind: "refused",
 * "stale" (an older revision than the box's, overwritten), "conflict" (a
 * booking kept as a conflict), "status_kept" (a status change that does not
 * follow, such as a cancel after a check-in), "local_newer" (a concurrent
 * edit on the box is later). collection -1: an entry of the change log
 * itself (id = its _id). */
struct rejection {
    char kind[16];
    int collection;
    char id[96]; /* a record id, or a change entry's "<clinicId>:<seq>" */
    char rev[96];
    char why[300];
    /* a new central record the box does not have: removed centrally, its
     * document kept in the rejection (owned; sync_apply_result_free) */
    bson_t *removed_doc;
};

struct apply_result {
    long applied, skipped, rejected, conflicts;
    bool clinic_changed;  /* reload the cached clinic */
    bool clamped;         /* a revision was implausibly far ahead */
    struct rejection *rejections; /* malloc'd, nrejections of them */
    long nrejections;
};

/* Where the pull's checkpoint goes (meta rows), written in the same job;
 * NULL for documents fetched outside the change log (a push conflict). */
struct pull_mark {
    /* change entries refused as malformed: written to the box's event log
     * and counted with the rejections of this job */
    const struct rejection *refused_entries;
    long nrefused;
    int64_t checkpoint;
    const char *gaps;   /* text form, see pull.c */
    int64_t max_seen;   /* the highest change number read */
    int64_t pulled_at_ms;
};

/* Applies docs (in order) in one write job. 0, or -1 when storage failed
 * (nothing was applied). sync_apply_result_free(out) after. */
int sync_apply(app_t *app, const char *box_id, const struct central_doc *docs, long n,
               const struct pull_mark *mark, struct apply_result *out);
void sync_apply_result_free(struct apply_result *r);

#endif
