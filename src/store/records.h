/*
 * records.h — the rows clinicbox keeps, as plain C structs.
 *
 * Fixed-size buffers on purpose: every text field has a length limit that the
 * API enforces (see http/validate.h), so records never need freeing, except
 * the schedule's arrays (schedule_rec_free). Times are unix seconds, UTC;
 * 0 means "not set".
 */
#ifndef CLINICBOX_RECORDS_H
#define CLINICBOX_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ids.h"
#include "domain/language.h"
#include "domain/slots.h"

/* Limits in characters; buffers hold that many UTF-8 characters (4 bytes). */
#define NAME_MAX_LEN 200
#define NAME_BUF (NAME_MAX_LEN * 4 + 1)
#define EMAIL_MAX_LEN 254 /* octets, RFC 5321 */
#define PHONE_MAX_LEN 16
#define REASON_MAX_LEN 500
#define REASON_BUF (REASON_MAX_LEN * 4 + 1)
#define ACTOR_MAX_LEN 64

#define CLINIC_MAX_REMINDERS 4

typedef struct {
    char id[65]; /* a UUID, or the configured clinic_id */
    char name[NAME_BUF];
    char timezone[65];
    int grace_minutes;      /* in effect (the clinic's own, else the config's) */
    bool grace_set;         /* the clinic set its own */
    int reschedule_options;
    int offer_hours;
    int reminder_hours[CLINIC_MAX_REMINDERS]; /* descending, e.g. {24, 2} */
    int nreminders;
    bool confirmations; /* a booking sends a confirmation */
    char language[LANGUAGE_BUF]; /* the UI's: "auto", "en" or "de" (domain/language.h) */
    int64_t created_at, updated_at;
    int64_t rev; /* changes on every write of the row (migration 0008): the ETag */
} clinic_rec;

typedef struct {
    char id[ID_LEN];
    char name[NAME_BUF];
    char email[EMAIL_MAX_LEN + 1];
    char phone[PHONE_MAX_LEN + 1];
    int slot_minutes;
    int64_t created_at, updated_at;
    int64_t rev; /* see clinic_rec */
} doctor_rec;

typedef struct {
    int slot_minutes;
    sched_weekly_t *weekly;
    size_t nweekly;
    sched_exception_t *exceptions;
    size_t nexceptions;
    /* Read by store_schedule_get: the doctor's revision (slot_minutes is
     * part of the schedule) and the schedule's own (0: never replaced). */
    int64_t doctor_rev, rev;
} schedule_rec;

typedef struct {
    char id[ID_LEN];
    char name[NAME_BUF];
    char email[EMAIL_MAX_LEN + 1];
    char phone[PHONE_MAX_LEN + 1];
    bool notify_email, notify_sms;
    int64_t created_at, updated_at;
    int64_t rev; /* see clinic_rec */
} patient_rec;

typedef struct {
    char id[ID_LEN];
    char doctor_id[ID_LEN];
    char patient_id[ID_LEN];
    int64_t start, end;
    char status[16];
    char reason[REASON_BUF];
    char cancel_reason[REASON_BUF];
    int64_t checked_in_at, completed_at, cancelled_at, no_show_at;
    char rescheduled_from[ID_LEN];
    char rescheduled_to[ID_LEN];
    int64_t created_at, updated_at;
    char created_by[ACTOR_MAX_LEN + 1];
    char updated_by[ACTOR_MAX_LEN + 1];
    char conflict_reason[REASON_BUF]; /* status 'conflict': why (docs/sync.md) */
    int64_t rev;                      /* see clinic_rec */
    /* Not a column: when its latest reminder message was sent (0: none),
     * read with the row; never written, never synced. */
    int64_t reminded_at;
} appt_rec;

#define OFFER_MAX_OPTIONS 20

typedef struct {
    char id[ID_LEN];
    char appointment_id[ID_LEN];
    interval_t options[OFFER_MAX_OPTIONS];
    int noptions;
    int64_t created_at, expires_at, used_at;
    int used_option;
    char new_appointment_id[ID_LEN];
} offer_rec;

/* A queued message. The texts (subject, body, calendar attachment) are
 * kept apart, in notification_text, because only the sender needs them. */
typedef struct {
    char id[ID_LEN];
    char appointment_id[ID_LEN];
    char offer_id[ID_LEN];
    char patient_id[ID_LEN];
    char channel[8];
    char recipient[EMAIL_MAX_LEN + 1];
    char recipient_name[NAME_BUF];
    char purpose[32];
    char status[12];
    int attempts;
    char last_error[256];
    char provider_id[320];
    int64_t next_attempt_at, sent_at, expires_at, created_at, updated_at;
    bool link_stored; /* an offer's message whose rebooking token is still
                         stored (link_token): it can still be sent */
} notification_rec;

typedef struct {
    char *subject;    /* NULL for SMS */
    char *body;
    char *attachment; /* text/calendar, or NULL */
} notification_text;

void schedule_rec_free(schedule_rec *s);
/* A view of the record for the slot functions. */
schedule_t schedule_view(const schedule_rec *s);

#endif
