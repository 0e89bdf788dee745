/*
 * central_check.h — what a box would make of a central write, decided
 * before it is written (`clinicbox central`), by the box's own rules: the
 * decoders of docmap.h (types, ranges, the 5-minute grid), the slot rules of
 * slots.h (a doctor's hours and slot grid in the clinic's time zone) and the
 * life cycle of appointment.h, called the way sync/apply.c calls them.
 *
 * Pure: the caller reads the central documents around the write and passes
 * them in; `now` is a parameter. A verdict is
 *  - CENTRAL_REFUSE: the box would refuse the write (a `rejections` entry,
 *    a `sync_refused` event): the tool writes nothing;
 *  - CENTRAL_WARN: the box takes it but decides otherwise than it says (a
 *    booking it keeps as a `conflict` with an offer of other times, a
 *    duration it rounds up to whole slots, a status or time it keeps);
 *  - CENTRAL_OK.
 * Each with a sentence that begins with the field it is about.
 */
#ifndef CLINICBOX_CENTRAL_CHECK_H
#define CLINICBOX_CENTRAL_CHECK_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

enum central_verdict { CENTRAL_OK, CENTRAL_WARN, CENTRAL_REFUSE };

struct central_check {
    enum central_verdict verdict;
    char why[400];
};

/* What the writer found in central around the document; NULL: not there
 * (or not in this clinic). */
struct central_context {
    const char *clinic_id;
    const bson_t *cur;      /* the document before the write */
    const bson_t *clinic;   /* the clinic's document */
    const bson_t *doctor;   /* an appointment's doctor, a schedule's doctor */
    const bson_t *patient;  /* an appointment's patient */
    const bson_t *schedule; /* an appointment's doctor's schedule */
    bool referenced;        /* a doctor or patient: an appointment names it */
    const char *taken_by;   /* a live appointment of the doctor overlapping a
                               new booking, or NULL */
};

/* Whether a central writer may write the collection at all (offers and
 * notifications are the box's). */
bool central_check_collection(const char *collection, struct central_check *r);

/* The fields of a put: not _id, clinicId or _sync (the write protocol's),
 * no operators ($...) and no dotted paths. */
bool central_check_names(const bson_t *fields, struct central_check *r);

/* The document as it is after the write: cur (NULL: a new one with _id id)
 * with fields and clinicId set over it. bson_destroy after. */
bson_t *central_check_merge(const bson_t *cur, const char *id, const char *clinic_id,
                            const bson_t *fields);

/* The verdict on writing doc (as after the write, central_check_merge) to
 * collection, with what cx says of central around it. */
void central_check_doc(const char *collection, const bson_t *doc,
                       const struct central_context *cx, int64_t now,
                       struct central_check *r);

#endif
