/*
 * people.h — doctors (with their schedules) and patients.
 * Input records are validated by the HTTP layer; these functions assign ids
 * and times, write them with an event, and return the stored record.
 *
 * An update is a merge: `fields` (PEOPLE_F_*) says which fields of the input
 * record were sent; the others keep their stored value. Reading the stored
 * record, checking If-Match (`if_match`, NULL for none) against its ETag,
 * merging and writing happen in one write job, so two concurrent updates of
 * different fields both stay, and a stale If-Match is refused with
 * SVC_PRECONDITION_FAILED without changing anything. The stored record (with
 * its new rev) is handed back in the input record.
 */
#ifndef CLINICBOX_PEOPLE_H
#define CLINICBOX_PEOPLE_H

#include "core/etag.h"
#include "service/app.h"

enum {
    PEOPLE_F_NAME = 1u << 0,
    PEOPLE_F_EMAIL = 1u << 1,
    PEOPLE_F_PHONE = 1u << 2,
    PEOPLE_F_SLOT_MINUTES = 1u << 3, /* doctors */
    PEOPLE_F_NOTIFY_EMAIL = 1u << 4, /* patients */
    PEOPLE_F_NOTIFY_SMS = 1u << 5,   /* patients */
};

int svc_doctor_create(app_t *app, doctor_rec *d, const char *actor, int64_t now, svc_err *e);
/* Updates the `fields` of d->id (name, email, phone, slot length). */
int svc_doctor_update(app_t *app, doctor_rec *d, unsigned fields, const etag_cond *if_match,
                      const char *actor, int64_t now, svc_err *e);
/* Replaces the schedule; if_match is compared with the schedule's ETag. */
int svc_schedule_put(app_t *app, const char *doctor_id, const schedule_rec *s,
                     const etag_cond *if_match, const char *actor, int64_t now, svc_err *e);

int svc_patient_create(app_t *app, patient_rec *p, const char *actor, int64_t now, svc_err *e);
int svc_patient_update(app_t *app, patient_rec *p, unsigned fields, const etag_cond *if_match,
                       const char *actor, int64_t now, svc_err *e);
/* Deletes a patient nothing refers to (a record made by mistake); 409 when
 * appointments or messages do. */
int svc_patient_delete(app_t *app, const char *id, const etag_cond *if_match, const char *actor,
                       int64_t now, svc_err *e);

/* The ETags of the records (etag.h); out holds ETAG_BUF. */
void people_doctor_etag(const doctor_rec *d, char *out);
void people_patient_etag(const patient_rec *p, char *out);
void people_schedule_etag(const schedule_rec *s, char *out);

#endif
