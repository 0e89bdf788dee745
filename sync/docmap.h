/*
 * docmap.h — how the box's records look as central documents, both ways.
 *
 * Box → central: the fields of a record as a `$set` (one document per
 * record, `_id` = the box's id, BSON dates for times, absent values as
 * null). Never the offer's token hash, never a message's text.
 *
 * Central → box: reading a document's fields into the box's records, with
 * a type and length check of each; what does not fit is reported, never
 * truncated. The field names are listed once, in docmap.c, and documented
 * for admins in docs/sync.md.
 */
#ifndef CLINICBOX_DOCMAP_H
#define CLINICBOX_DOCMAP_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "store/store.h"

/* The synced collections, in the order their records depend on each other
 * (a doctor before its schedule, a patient before an appointment). */
extern const char *const docmap_collections[];
extern const int docmap_ncollections;

/* Index of a collection in docmap_collections, or -1. */
int docmap_index(const char *collection);

/* Appends the record's current fields to set. STORE_NOT_FOUND when it is
 * gone (deleted), STORE_ERROR on a storage error. */
int docmap_set_fields(db_conn_t *c, const char *collection, const char *id, bson_t *set);

/* Every record, one relaxed extended JSON line each ({"collection", "_id",
 * the fields}), by collection and id: what the box would push. For
 * comparing the two sides (`clinicbox sync --dump`). 0, or -1. */
int docmap_dump(db_conn_t *c, FILE *out);

/* ---- reading central documents ---------------------------------------- */

/* Reasons go into why (a sentence naming the field). */
struct docmap_err {
    char why[256];
};

bool docmap_to_clinic(const bson_t *d, clinic_rec *out, struct docmap_err *e);
bool docmap_to_doctor(const bson_t *d, doctor_rec *out, struct docmap_err *e);
bool docmap_to_patient(const bson_t *d, patient_rec *out, struct docmap_err *e);
bool docmap_to_appt(const bson_t *d, appt_rec *out, struct docmap_err *e);
/* The schedule's weekly hours and exceptions (schedule_rec_free after). */
bool docmap_to_schedule(const bson_t *d, schedule_rec *out, struct docmap_err *e);

/* A text field into out (key may be a dotted path, "_sync.rev"): true when
 * it is a text or absent (null or missing: ""), false when it is of another
 * type or longer than len - 1 bytes. */
bool docmap_text(const bson_t *d, const char *key, char *out, size_t len);
/* A date field as unix seconds (0 when null or missing); false when it is
 * of another type or outside years 1..9999. */
bool docmap_date(const bson_t *d, const char *key, int64_t *out);
/* The tombstone mark: deletedAt set. */
bool docmap_deleted(const bson_t *d);

#endif
