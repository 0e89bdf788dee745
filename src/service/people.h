/*
 * people.h — doctors (with their schedules) and patients.
 * Input records are validated by the HTTP layer; these functions assign ids
 * and times, write them with an event, and return the stored record.
 */
#ifndef CLINICBOX_PEOPLE_H
#define CLINICBOX_PEOPLE_H

#include "service/app.h"

int svc_doctor_create(app_t *app, doctor_rec *d, const char *actor, int64_t now, svc_err *e);
/* Updates name, email, phone and slot length of d->id. */
int svc_doctor_update(app_t *app, doctor_rec *d, const char *actor, int64_t now, svc_err *e);
int svc_schedule_put(app_t *app, const char *doctor_id, const schedule_rec *s,
                     const char *actor, int64_t now, svc_err *e);

int svc_patient_create(app_t *app, patient_rec *p, const char *actor, int64_t now, svc_err *e);
int svc_patient_update(app_t *app, patient_rec *p, const char *actor, int64_t now, svc_err *e);
/* Deletes a patient nothing refers to (a record made by mistake); 409 when
 * appointments or messages do. */
int svc_patient_delete(app_t *app, const char *id, const char *actor, int64_t now, svc_err *e);

#endif
