/*
 * notify.h — the messages a state change causes, queued inside the change's
 * own write job so that both commit together or not at all (the
 * transactional outbox). One row per channel: email and SMS. An offer's
 * words are written with it, its link's token redacted in the stored text
 * and kept apart (link_token) only while the message may be sent; the others
 * are worded when they are sent (notify_render). A channel the
 * patient cannot or does not want to be reached on gets a `skipped` row
 * with the reason, so nothing disappears silently.
 */
#ifndef CLINICBOX_NOTIFY_H
#define CLINICBOX_NOTIFY_H

#include "service/app.h"

#define NOTIFY_CHANNELS 2

typedef struct {
    const char *purpose;    /* PURPOSE_* from messages.h */
    const offer_rec *offer; /* offers only */
    const char *link;       /* offers only */
    int reminder_hours;     /* reminders only */
    const patient_rec *patient; /* the appointment's patient if the caller has
                                   it loaded already, else NULL */
    const char *token;      /* offers only: the token in `link` */
    /* When the message's cause came due (a reminder's lead, a no-show's
     * grace), 0 for "now". One that came due before the database was last
     * restored from a backup (meta restored_at) is held as `dead` with the
     * reason: the box the backup came from may have sent it already. */
    int64_t due_at;
} notify_what;

/* Queues the messages of `what` about appointment a, on the writer's
 * connection c. out (NOTIFY_CHANNELS entries, may be NULL) receives the rows.
 * Returns 0, or -1 on a storage error (the caller's job must fail). */
int notify_queue(db_conn_t *c, const clinic_rec *clinic, const appt_rec *a,
                 const notify_what *what, int64_t now, notification_rec *out);

/* The calendar entry (iCalendar, outbox/ics.h) of appointment a with doctor
 * d at the clinic: UID "<appointment id>@clinicbox", SEQUENCE 0, METHOD
 * PUBLISH, STATUS CONFIRMED, SUMMARY "Appointment with <doctor>", LOCATION
 * the clinic's name, and DESCRIPTION the appointment's reason when
 * with_reason (the confirmation email's; the patient link's leaves it out).
 * malloc'd (caller frees); NULL when out of memory. Pure. */
char *notify_calendar(const clinic_rec *clinic, const doctor_rec *d, const appt_rec *a,
                      bool with_reason, int64_t now);

/* The METHOD of notify_calendar's entries, for the media type of an answer
 * that carries one ("text/calendar; method=PUBLISH": RFC 5545, 8.1, and
 * RFC 5546 want the parameter to name the object's METHOD). */
#define NOTIFY_CALENDAR_METHOD "PUBLISH"

/* The words of a message that was queued without them (every message but
 * an offer; see notify_queue), from the appointment, patient, doctor and
 * clinic as they are now. out is freed with notification_text_free().
 * Returns 0, or -1 (storage error, out of memory). Any thread, on a reader
 * connection. */
int notify_render(db_conn_t *c, const clinic_rec *clinic, const notification_rec *r,
                  int64_t now, notification_text *out);

/* Puts a dead or failed message back in the queue, due now, with its
 * attempt count reset (POST /api/notifications/{id}/retry). 409 for any
 * other status, and for an offer's message whose token is no longer stored
 * (the offer was used or expired). */
int svc_notification_retry(app_t *app, const char *id, const char *actor, int64_t now,
                           notification_rec *out, svc_err *e);

/* Forgets the stored tokens of offers that expired at or before now (the
 * no-show worker's tick). Returns how many messages, or -1. */
long svc_notification_token_sweep(app_t *app, int64_t now);

#endif
