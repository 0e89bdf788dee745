/*
 * store.h — the queries: one function per thing the service layer needs.
 *
 * Every function takes the connection it runs on: the writer's inside a
 * db_write() job, or a pooled reader. Prepared statements only. Results:
 * STORE_OK, STORE_NOT_FOUND, STORE_CONFLICT (a UNIQUE/PRIMARY KEY collision:
 * for slot claims, the slot is taken) or STORE_ERROR (logged).
 */
#ifndef CLINICBOX_STORE_H
#define CLINICBOX_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "store/db.h"
#include "store/records.h"

enum store_rc { STORE_OK = 0, STORE_NOT_FOUND, STORE_CONFLICT, STORE_ERROR };

/* clinic.c */
int store_clinic_get(db_conn_t *c, int config_grace, clinic_rec *out);
int store_clinic_insert(db_conn_t *c, clinic_rec *r);
int store_clinic_update(db_conn_t *c, clinic_rec *r);
/* Advances the revision counter (meta rev_seq, migration 0008) and gives its
 * new value: every insert and update of a clinic, doctor, patient,
 * appointment or schedule takes one as the row's rev. The record functions
 * below call it and set r->rev on success. */
int store_rev_bump(db_conn_t *c, int64_t *rev);
int store_meta_get_int(db_conn_t *c, const char *key, int64_t *out);
int store_meta_set_int(db_conn_t *c, const char *key, int64_t value);
int store_meta_get_text(db_conn_t *c, const char *key, char *out, size_t len);
int store_meta_set_text(db_conn_t *c, const char *key, const char *value);

/* doctors.c */
int store_doctor_insert(db_conn_t *c, doctor_rec *r);
int store_doctor_update(db_conn_t *c, doctor_rec *r);
int store_doctor_get(db_conn_t *c, const char *id, doctor_rec *out);
/* Calls fn for every doctor, by name. */
int store_doctor_list(db_conn_t *c, void (*fn)(const doctor_rec *, void *), void *ctx);
int store_schedule_get(db_conn_t *c, const char *doctor_id, schedule_rec *out);
int store_schedule_replace(db_conn_t *c, const char *doctor_id, const schedule_rec *s);

/* patients.c */
int store_patient_insert(db_conn_t *c, patient_rec *r);
int store_patient_update(db_conn_t *c, patient_rec *r);
int store_patient_get(db_conn_t *c, const char *id, patient_rec *out);
/* STORE_CONFLICT when appointments or messages refer to the patient. */
int store_patient_delete(db_conn_t *c, const char *id);
/* Patients whose name, email or phone contains q (all if q is empty), by
 * name, at most limit. */
int store_patient_search(db_conn_t *c, const char *q, int limit,
                         void (*fn)(const patient_rec *, void *), void *ctx);

/* appointments.c */
/* Inserts a new appointment; if it is live, claims its 5-minute units.
 * STORE_CONFLICT if any unit is already claimed by another appointment. */
int store_appt_insert(db_conn_t *c, appt_rec *r);
int store_appt_get(db_conn_t *c, const char *id, appt_rec *out);
/* Writes the status, timestamps, reasons and links of r (the trigger frees
 * the claims when it leaves the live states). */
int store_appt_update(db_conn_t *c, appt_rec *r);

struct appt_filter {
    const char *doctor_id, *patient_id, *status;
    int64_t from, to; /* 0: open */
    int limit;
};
int store_appt_list(db_conn_t *c, const struct appt_filter *f,
                    void (*fn)(const appt_rec *, void *), void *ctx);
/* Live appointments of a doctor overlapping [from, to). Caller frees *out. */
long store_appt_busy(db_conn_t *c, const char *doctor_id, int64_t from, int64_t to,
                     interval_t **out);
/* Ids of booked appointments that started at or before `started_before`,
 * oldest first, at most max. Returns the count or -1. */
long store_appt_due_no_show(db_conn_t *c, int64_t started_before, char (*ids)[ID_LEN],
                            long max);
/* Ids of booked appointments starting in (after, until], soonest first, at
 * most max. Returns the count or -1. */
long store_appt_starting(db_conn_t *c, int64_t after, int64_t until, char (*ids)[ID_LEN],
                         long max);
/* out[i] = appointments in statuses[i]. */
int store_appt_status_counts(db_conn_t *c, const char *const *statuses, int n, long *out);
/* *has: the patient has (or had) an appointment with the doctor. */
int store_appt_patient_sees_doctor(db_conn_t *c, const char *patient_id, const char *doctor_id,
                                   bool *has);

/* offers.c */
int store_offer_insert(db_conn_t *c, const offer_rec *r, const char *token_hash,
                       const char *actor);
int store_offer_by_token(db_conn_t *c, const char *token_hash, offer_rec *out);
int store_offer_mark_used(db_conn_t *c, const char *offer_id, int64_t at, int option,
                          const char *new_appointment_id);
struct offer_filter {
    const char *appointment_id; /* NULL: any */
    int64_t from, to;           /* the appointment starts in [from, to); 0: open */
    int limit;
};
/* Calls fn for each offer that matches f, newest first, at most f->limit;
 * fn returns 0 to go on (anything else stops the list: STORE_ERROR). The
 * connection may be used inside fn. */
int store_offer_list(db_conn_t *c, const struct offer_filter *f,
                     int (*fn)(const offer_rec *, void *), void *ctx);
/* notifications.c — the outbox queue. */
/* Inserts r with its texts (attachment may be NULL). An offer's body holds
 * its link with the token replaced by NOTE_TOKEN_REDACTED; link_token is the
 * token itself, kept (column link_token) only while the message may still
 * be sent: pass NULL for any other message and for a skipped row. */
#define NOTE_TOKEN_REDACTED "[redacted]"
/* The patient's rebooking link is {public_url} OFFER_LINK_PATH {token}: the
 * token is in the fragment, which browsers neither send to a server nor put
 * in a Referer header (docs/security.md, "Patient links"). Stored bodies
 * hold OFFER_LINK_PATH NOTE_TOKEN_REDACTED. */
#define OFFER_LINK_PATH "/rebook#"
int store_notification_insert(db_conn_t *c, const notification_rec *r,
                              const notification_text *t, const char *link_token);
int store_notification_get(db_conn_t *c, const char *id, notification_rec *out);
/* Calls fn for each message in `status` (NULL or "": any), newest first, at
 * most limit; appointment_id narrows it when not NULL/"". */
int store_notification_list(db_conn_t *c, const char *status, const char *appointment_id,
                            int limit, void (*fn)(const notification_rec *, void *),
                            void *ctx);
/* The messages of an offer (of appointment_id), email before SMS, at most
 * max, into out. Returns how many, or -1. */
int store_notification_of_offer(db_conn_t *c, const char *appointment_id, const char *offer_id,
                                notification_rec *out, int max);
/* out[i] = notifications in statuses[i]. */
int store_notification_status_counts(db_conn_t *c, const char *const *statuses, int n,
                                     long *out);
/* The queue: out[i] = messages in the open status NOTE_OPEN_STATUSES[i]
 * (queued, sending, failed, dead), and the creation time of the oldest
 * message waiting to go out (queued, sending or failed; 0 if none). Uses
 * the index only. */
#define NOTE_OPEN_COUNT 4
extern const char *const NOTE_OPEN_STATUSES[NOTE_OPEN_COUNT];
int store_notification_queue(db_conn_t *c, long *out, int64_t *oldest_waiting);

/* One due message of a channel, with what the sender must check first. */
typedef struct {
    notification_rec n;
    char appt_status[16]; /* "" when the message has no appointment */
    bool offer_used;
} notification_due;
/* Messages of `channel` that are queued or failed with next_attempt_at <=
 * now, oldest due first, at most max. Returns the count, or -1. */
long store_notification_due(db_conn_t *c, const char *channel, int64_t now,
                            notification_due *out, long max);
/* The earliest next_attempt_at of the channel's queued/failed messages, or
 * 0 if there are none. */
int store_notification_next_due(db_conn_t *c, const char *channel, int64_t *out);
/* The texts of a message, an offer's with its token put back into the link
 * while it is stored (STORE_CONFLICT for an offer's message whose token is no
 * longer stored); caller frees with notification_text_free(). */
int store_notification_text(db_conn_t *c, const char *id, notification_text *out);
void notification_text_free(notification_text *t);
/* Writes status, attempts, last_error, next_attempt_at, sent_at, provider_id
 * and updated_at of r; a message that becomes sent, expired or skipped loses
 * its stored token. STORE_NOT_FOUND if no such message. */
int store_notification_update(db_conn_t *c, const notification_rec *r);
/* Back to queued, due now, for messages left in `sending` (after a crash)
 * of the channel, or of every channel when channel is NULL. Returns how
 * many, or -1. */
long store_notification_requeue_sending(db_conn_t *c, const char *channel, int64_t now);
/* Forgets the stored tokens of the messages of an offer (the patient used
 * it). */
int store_notification_drop_offer_tokens(db_conn_t *c, const char *appointment_id,
                                         const char *offer_id);
/* Forgets the stored tokens of messages whose offer expired at or before
 * now. Returns how many, or -1. */
long store_notification_drop_expired_tokens(db_conn_t *c, int64_t now);
/* Whether a reminder with this purpose exists for the appointment. */
int store_notification_exists(db_conn_t *c, const char *appointment_id, const char *purpose,
                              bool *out);

/* events.c */
/* Appends to the event log; data is a JSON object text (or NULL for {}). */
int store_event(db_conn_t *c, int64_t at, const char *actor, const char *entity,
                const char *entity_id, const char *type, const char *data);

/* One event as read; the texts are valid during the callback only. */
typedef struct event_rec {
    int64_t seq; /* its place in the log: later events have higher numbers */
    int64_t at;  /* unix seconds, by the box's clock then */
    const char *actor, *entity, *entity_id, *type;
    const char *data; /* as stored: a JSON object's text */
} event_rec;

/* Which events a page holds; NULL texts match any. */
struct event_filter {
    const char *entity, *entity_id, *type;
    const char *actor_prefix; /* the actor starts with it: "central" */
    int64_t since, before;    /* since <= at < before, where has_since, has_before */
    bool has_since, has_before;
    int64_t cursor;           /* seq < cursor: the page after one ending there */
    int limit;
};

/* Up to f->limit events matching f, newest (highest seq) first, each passed
 * to fn; *more says whether older ones match too (then the last one's seq
 * is the next page's cursor). */
int store_event_page(db_conn_t *c, const struct event_filter *f,
                     void (*fn)(const event_rec *, void *), void *ctx, bool *more);

#endif
