/*
 * merge.h — field-level merge of the records people edit on both sides:
 * patients, doctors and the clinic (docs/sync.md, "Field-level merge").
 *
 * A central document that meets a local change not pushed yet is merged
 * with the box's record field by field, three ways, against a base: the
 * central document at the revision the box last saw for the record
 * (sync_revs). The base is kept in sync_base (migration 0014) each time that
 * revision is recorded: when the box takes a central document in (apply.c:
 * the document's fields) and when central acknowledges a push (push.c: the
 * fields pushed). A push central did not acknowledge (a lost reply) may
 * have landed all the same: its fields are kept beside the base ("sent"),
 * and a central value equal to one of them counts as unchanged too (it is
 * the box's own, not a central edit). For each merged field:
 *
 *   central == base   central did not change it: the box's value stays;
 *   box == base       the box did not: central's is taken;
 *   both changed      the later edit of that field wins: the box's is when
 *                     a local edit last set it (sync_field_times, written by
 *                     the migration's triggers), against the central
 *                     document's revision (hybrid logical clocks, as for
 *                     whole records; hlc.h).
 *
 * Without a usable base (a record last synced by an older box, a refused
 * central document as the base) the record is decided whole, as before.
 * Tombstones are decided whole too (apply.c): a delete is not a field.
 *
 * The pure part (sync_merge_fields) works on the records themselves, so a
 * value means the same on the three sides however a document spells it (a
 * missing email is the empty one, numbers by value).
 */
#ifndef CLINICBOX_MERGE_H
#define CLINICBOX_MERGE_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "sync/hlc.h"

/* What decides a field both sides changed, from apply.c's view of the
 * central document and the local change pending. */
struct merge_clock {
    int64_t pending_at;    /* the latest local change of the record (ms) */
    bool has_known;
    hlc_t known;           /* the revision the box last saw */
    const char *known_rev; /* its text ("" when none): the base must be of it */
    hlc_t central;         /* the central document's revision (clamped) */
    const char *box_id;
};

/* Whether a local edit made at at_ms is later than the central document:
 * an edit the box made before it saw the revision `known` counts as just
 * after it (it was not pushed yet), the node id breaks ties. Pure. */
bool sync_merge_box_later(const struct merge_clock *mc, int64_t at_ms);

/* Whether records of the collection merge field by field. */
bool sync_merge_collection(const char *collection);
/* The number of merged fields of the collection and the name of field i in
 * the central document (NULL past the end). */
int sync_merge_nfields(const char *collection);
const char *sync_merge_field(const char *collection, int i);

/* How many unacknowledged pushes are kept beside a base. */
#define SYNC_MERGE_MAX_SENT 4

/* The pure merge. central holds central's record and becomes the merged
 * one; box is the box's; bases[0] the base, bases[1..nbases) what the box
 * sent since without an acknowledgement (all of the collection's record
 * type: patient_rec, doctor_rec, clinic_rec). box_later(i, ctx) decides
 * field i when both sides changed it to different values. Returns the
 * fields (bit i) that kept the box's value, different from central's. */
unsigned sync_merge_fields(const char *collection, const void *const *bases, int nbases,
                           const void *box, void *central,
                           bool (*box_later)(int field, void *ctx), void *ctx);

/* The merged fields of doc (a central document, or a push's `$set`) as a
 * new document, for sync_base; NULL for a collection that does not merge.
 * bson_destroy after. */
bson_t *sync_base_fields(const char *collection, const bson_t *doc);

/* Inside a write job: records doc's merged fields as the base of the record
 * at revision rev (doc NULL: forgets it, for a record pushed as deleted).
 * Nothing for a collection that does not merge. false on a storage error. */
bool sync_base_set(db_conn_t *c, const char *collection, const char *id, const char *rev,
                   const bson_t *doc);

/* Inside a write job: adds fields (sync_base_fields of a push central did
 * not acknowledge) to the record's base as sent, keeping the last
 * SYNC_MERGE_MAX_SENT. A record without a base (its insert unacknowledged)
 * gets them as its base of no revision (""). false on a storage error. */
bool sync_base_sent(db_conn_t *c, const char *collection, const char *id, const bson_t *fields);

/* Inside a write job: merges central (decoded from the central document,
 * see sync_merge_fields) with the box's record box against the record's
 * base, deciding what both changed by mc and the fields' local edit times.
 * 1 merged (*kept: the fields that kept the box's value), 0 when there is
 * no usable base (central untouched), -1 on a storage error. */
int sync_merge_record(db_conn_t *c, const char *collection, const char *id,
                      const struct merge_clock *mc, const void *box, void *central,
                      unsigned *kept);

/* Inside a write job, after the record was written from a central
 * document: forgets the local edit times of the fields that did not keep
 * the box's value (all but those in kept). false on a storage error. */
bool sync_field_times_settle(db_conn_t *c, const char *collection, const char *id,
                             unsigned kept);

/* Inside a write job, after a push of the record was acknowledged: forgets
 * its local edit times when nothing of it waits in the journal any more
 * (then every local edit is in the base). false on a storage error. */
bool sync_field_times_pushed(db_conn_t *c, const char *collection, const char *id);

/* The names of the fields in kept, comma-separated, into out. */
void sync_merge_names(const char *collection, unsigned kept, char *out, size_t len);

#endif
