/*
 * booking.h — booking, the appointment life cycle, free slots, reschedule
 * offers and rebooking: the API's core operations.
 *
 * Each write is one db_write() job, so the state change, its event-log row,
 * the offer and the queued notifications it causes commit together or not
 * at all. Slot collisions are decided by the database (slot claims); the
 * loser gets SVC_CONFLICT with free alternatives filled in.
 */
#ifndef CLINICBOX_BOOKING_H
#define CLINICBOX_BOOKING_H

#include "domain/appointment.h"
#include "service/app.h"

struct book_req {
    char doctor_id[ID_LEN];
    char patient_id[ID_LEN];
    int64_t start;
    int duration_minutes; /* 0: one slot */
    char reason[REASON_BUF];
};

int svc_book(app_t *app, const struct book_req *req, const char *actor, int64_t now,
             appt_rec *out, svc_err *e);

/* check-in, complete, cancel (with an optional reason) or no-show. */
int svc_transition(app_t *app, const char *id, enum appt_action action, const char *reason,
                   const char *actor, int64_t now, appt_rec *out, svc_err *e);

/* Free slots of a doctor in [from, to) lasting `duration` minutes (0: one
 * slot; rounded up to whole slots). Caller frees *out. */
int svc_available(app_t *app, const char *doctor_id, int64_t from, int64_t to, int duration,
                  int64_t now, interval_t **out, long *n, svc_err *e);

#define OFFER_MAX_NOTIFICATIONS 2

struct offer_result {
    offer_rec offer;
    notification_rec notes[OFFER_MAX_NOTIFICATIONS];
    int nnotes;
};

/* Makes an offer of the next `options` free slots (0: the clinic's number). */
int svc_reschedule(app_t *app, const char *id, int options, const char *actor, int64_t now,
                   struct offer_result *out, svc_err *e);

/* Staff move appointment id to a new time (same doctor, patient, reason,
 * length); the old one becomes rescheduled. A taken time answers
 * SVC_CONFLICT with alternatives. */
int svc_rebook(app_t *app, const char *id, int64_t start, const char *actor, int64_t now,
               appt_rec *new_appt, appt_rec *old_appt, svc_err *e);

/* Inside a running write job: rebooks the appointment of the offer whose
 * token is `token` onto its option `option` (1-based), as `actor`, and uses
 * the offer up. Fills *o (as now stored), *old and *nu. Fails with 404 (no
 * such offer), 410 (expired, used or not), 409 (used, or the appointment
 * cannot be rebooked, or the time was taken), 422 (no such option). */
int booking_rebook_offer_in_tx(db_conn_t *c, const clinic_rec *clinic, const char *token,
                               int option, const char *actor, int64_t now, offer_rec *o,
                               appt_rec *old, appt_rec *nu, svc_err *e);

/* Marks every appointment still booked at start + grace as a no-show, with
 * an offer each, in batches. Returns how many were marked, -1 on a storage
 * error. Used by the no-show worker. */
long svc_noshow_sweep(app_t *app, int64_t now);

/* Offer creation inside a running write job (shared by reschedule and the
 * no-show sweep). */
int booking_offer_in_tx(db_conn_t *c, app_t *app, const clinic_rec *clinic, const appt_rec *a,
                        int options, const char *actor, const char *purpose, int64_t now,
                        struct offer_result *out, svc_err *e);

/* The same rules inside a running write job, for changes that come from the
 * central database (sync/apply.c). booking_insert_in_tx books `a` as it is
 * (its id, times and creator kept); booking_transition_in_tx applies one
 * life-cycle action to `a` (already read) and writes it. */
int booking_insert_in_tx(db_conn_t *c, const clinic_rec *clinic, appt_rec *a, const char *actor,
                         int64_t now, svc_err *e);
int booking_transition_in_tx(db_conn_t *c, const clinic_rec *clinic, appt_rec *a,
                             enum appt_action action, const char *reason, const char *actor,
                             int64_t now, svc_err *e);

#endif
