/*
 * render.h — records as the API's JSON (see docs/api.md). Times are given in
 * the clinic's local time with its offset (render_time with a NULL zone: UTC); absent optional values are left
 * out. Every function returns a new reference.
 */
#ifndef CLINICBOX_RENDER_H
#define CLINICBOX_RENDER_H

#include <jansson.h>

#include "core/tz.h"
#include "service/booking.h"
#include "store/records.h"

json_t *render_time(const tz_t *tz, int64_t t);
/* A text read from storage as a JSON string. The box writes valid UTF-8,
 * but a row edited behind the server's back might not be: its other bytes
 * are shown as '?' rather than failing the answer. */
json_t *render_stored_text(const char *s);
json_t *render_clinic(const clinic_rec *c);
json_t *render_doctor(const tz_t *tz, const doctor_rec *d);
json_t *render_schedule(const char *doctor_id, const schedule_rec *s);
json_t *render_patient(const tz_t *tz, const patient_rec *p);
json_t *render_appt(const tz_t *tz, const appt_rec *a);
json_t *render_slots(const tz_t *tz, const interval_t *v, long n);
/* The whole available-slots answer as JSON text, written directly: it is
 * the hottest answer (about a hundred slots each). Caller frees. */
char *render_slots_answer(const char *doctor_id, const tz_t *tz, const interval_t *v, long n,
                          size_t *len);
json_t *render_offer(const tz_t *tz, const struct offer_result *o);
/* An offer as GET /api/offers lists it: its purpose (that of its messages,
 * null without any), numbered options, use, and its n messages' states. */
json_t *render_offer_listed(const tz_t *tz, const offer_rec *o, const notification_rec *notes,
                            int n);
json_t *render_notification(const tz_t *tz, const notification_rec *n);

#endif
