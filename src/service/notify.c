/*
 * notify.c — see notify.h. Runs on the writer thread, inside a db_write()
 * job. Expiry: an offer's messages are pointless once the offer expires;
 * confirmations, reminders and cancellations once the appointment begins.
 */
#include "service/notify.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"
#include "outbox/outbox.h"
#include "outbox/ics.h"
#include "service/messages.h"
#include "store/backup.h"
#include "store/store.h"

static void fill_row(notification_rec *n, const char *channel, const char *recipient,
                     bool wanted, const patient_rec *p, const appt_rec *a,
                     const notify_what *what, int64_t now, int64_t restored_at)
{
    memset(n, 0, sizeof *n);
    ids_uuid(now * 1000, n->id);
    snprintf(n->appointment_id, sizeof n->appointment_id, "%s", a->id);
    snprintf(n->offer_id, sizeof n->offer_id, "%s", what->offer ? what->offer->id : "");
    snprintf(n->patient_id, sizeof n->patient_id, "%s", p->id);
    snprintf(n->channel, sizeof n->channel, "%s", channel);
    snprintf(n->recipient, sizeof n->recipient, "%s", recipient);
    snprintf(n->recipient_name, sizeof n->recipient_name, "%s", p->name);
    snprintf(n->purpose, sizeof n->purpose, "%s", what->purpose);
    n->created_at = n->updated_at = now;
    n->expires_at = what->offer ? what->offer->expires_at : a->start;
    if (!recipient[0]) {
        snprintf(n->status, sizeof n->status, "skipped");
        snprintf(n->last_error, sizeof n->last_error, "the patient has no %s",
                 strcmp(channel, "sms") == 0 ? "phone number" : "email address");
    } else if (!wanted) {
        snprintf(n->status, sizeof n->status, "skipped");
        snprintf(n->last_error, sizeof n->last_error, "the patient does not want %s messages",
                 strcmp(channel, "sms") == 0 ? "SMS" : "email");
    } else if (what->due_at > 0 && what->due_at < restored_at) {
        snprintf(n->status, sizeof n->status, "dead");
        snprintf(n->last_error, sizeof n->last_error, "%s", BACKUP_HELD_REASON);
    } else {
        snprintf(n->status, sizeof n->status, "queued");
        n->next_attempt_at = now;
    }
}

char *notify_calendar(const clinic_rec *clinic, const doctor_rec *d, const appt_rec *a,
                      bool with_reason, int64_t now)
{
    char uid[ID_LEN + 16], summary[NAME_BUF + 32];
    snprintf(uid, sizeof uid, "%s@clinicbox", a->id);
    snprintf(summary, sizeof summary, "Appointment with %s", d->name);
    ics_event ev = {
        .uid = uid,
        .method = NOTIFY_CALENDAR_METHOD,
        .sequence = 0,
        .dtstamp = now,
        .start = a->start,
        .end = a->end,
        .summary = summary,
        .location = clinic->name,
        .description = with_reason && a->reason[0] ? a->reason : NULL,
        .status = "CONFIRMED",
    };
    return ics_build(&ev);
}

/* The calendar entry sent with a confirmation. */
static char *confirmation_ics(const message_facts *f, int64_t now)
{
    return notify_calendar(f->clinic, f->doctor, f->appt, true, now);
}

/* The texts of a message about appointment a. subject/email/sms are
 * caller buffers of the sizes below; *ics is malloc'd for a confirmation
 * email (caller frees). Returns 0, or -1 when out of memory. */
#define SUBJECT_BUF (NAME_BUF + 200)
#define EMAIL_BUF 4096
#define SMS_BUF 1024
static int render(const message_facts *f, const char *purpose, bool want_email, bool want_sms,
                  int64_t now, char *subject, char *email, char *sms, char **ics)
{
    *ics = NULL;
    if (want_email) {
        messages_email(purpose, f, subject, SUBJECT_BUF, email, EMAIL_BUF);
        if (strcmp(purpose, PURPOSE_CONFIRMATION) == 0 && !(*ics = confirmation_ics(f, now)))
            return -1;
    }
    if (want_sms)
        messages_sms(purpose, f, sms, SMS_BUF);
    return 0;
}

/* Replaces the token in an offer's text by NOTE_TOKEN_REDACTED, in place
 * (the token is 43 random characters, longer than the marker, and appears
 * once, in the link). */
static void redact_token(char *text, const char *token)
{
    size_t tl = token ? strlen(token) : 0, ml = strlen(NOTE_TOKEN_REDACTED);
    char *at = tl >= ml ? strstr(text, token) : NULL;
    if (!at)
        return;
    memcpy(at, NOTE_TOKEN_REDACTED, ml);
    memmove(at + ml, at + tl, strlen(at + tl) + 1);
}

int notify_queue(db_conn_t *c, const clinic_rec *clinic, const appt_rec *a,
                 const notify_what *what, int64_t now, notification_rec *out)
{
    patient_rec p;
    doctor_rec d;
    notification_rec rows[NOTIFY_CHANNELS];
    char subject[SUBJECT_BUF] = "", email[EMAIL_BUF] = "", sms[SMS_BUF] = "";
    char *ics = NULL;
    int rc = -1;
    const tz_t *tz = tz_get(clinic->timezone);

    if (what->patient)
        p = *what->patient;
    else if (store_patient_get(c, a->patient_id, &p) != STORE_OK)
        goto out;
    if (!tz)
        goto out;
    int64_t restored_at = 0;
    if (what->due_at > 0 && store_meta_get_int(c, "restored_at", &restored_at) != STORE_OK)
        restored_at = 0;
    fill_row(&rows[0], "email", p.email, p.notify_email, &p, a, what, now, restored_at);
    fill_row(&rows[1], "sms", p.phone, p.notify_sms, &p, a, what, now, restored_at);
    /* Only an offer's words are written now: they carry the patient's token,
     * which exists nowhere else. Every other message is worded when it is
     * sent (notify_render), from the rows as they are then; that keeps the
     * writer's work per booking small. The words are made with the real link
     * (so that the SMS wording fits with it), then stored with the token
     * redacted; the token is stored apart, and only for a row that is to be
     * sent (a skipped row never has it). */
    if (what->offer) {
        if (store_doctor_get(c, a->doctor_id, &d) != STORE_OK)
            goto out;
        message_facts f = {tz, clinic, &p, &d, a, what->offer, what->link, 0};
        if (render(&f, what->purpose, true, true, now, subject, email, sms, &ics) != 0)
            goto out;
        redact_token(email, what->token);
        redact_token(sms, what->token);
    }
    notification_text te = {subject[0] ? subject : NULL, email, ics};
    notification_text ts = {NULL, sms, NULL};
    const char *token = what->offer ? what->token : NULL;
    if (store_notification_insert(c, &rows[0], &te, token) != STORE_OK ||
        store_notification_insert(c, &rows[1], &ts, token) != STORE_OK)
        goto out;
    if (out)
        memcpy(out, rows, sizeof rows);
    rc = 0;
out:
    free(ics);
    return rc;
}

int notify_render(db_conn_t *c, const clinic_rec *clinic, const notification_rec *r,
                  int64_t now, notification_text *out)
{
    appt_rec a;
    patient_rec p;
    doctor_rec d;
    char subject[SUBJECT_BUF], email[EMAIL_BUF], sms[SMS_BUF];
    char *ics = NULL;
    int hours = 0;
    const tz_t *tz = tz_get(clinic->timezone);
    bool is_sms = strcmp(r->channel, "sms") == 0;

    memset(out, 0, sizeof *out);
    if (!tz || store_appt_get(c, r->appointment_id, &a) != STORE_OK ||
        store_patient_get(c, a.patient_id, &p) != STORE_OK ||
        store_doctor_get(c, a.doctor_id, &d) != STORE_OK)
        return -1;
    sscanf(r->purpose, PURPOSE_REMINDER_PREFIX "%dh", &hours);
    message_facts f = {tz, clinic, &p, &d, &a, NULL, NULL, hours};
    if (render(&f, r->purpose, !is_sms, is_sms, now, subject, email, sms, &ics) != 0)
        return -1;
    out->subject = is_sms ? NULL : strdup(subject);
    out->body = strdup(is_sms ? sms : email);
    out->attachment = ics;
    if (!out->body || (!is_sms && !out->subject)) {
        notification_text_free(out);
        return -1;
    }
    return 0;
}

struct retry_job {
    const char *id, *actor;
    int64_t now;
    notification_rec *out;
    svc_err *e;
};

static int retry_job(db_conn_t *c, void *arg)
{
    struct retry_job *j = arg;
    notification_rec *n = j->out;
    char data[120];
    int rc = store_notification_get(c, j->id, n);
    if (rc != STORE_OK)
        return svc_store_fail(j->e, rc, "notification");
    if (strcmp(n->status, "dead") != 0 && strcmp(n->status, "failed") != 0)
        return svc_fail(j->e, SVC_CONFLICT, NULL,
                        "only a dead or failed message can be retried (this one is %s)",
                        n->status);
    if (n->offer_id[0] && !n->link_stored)
        return svc_fail(j->e, SVC_CONFLICT, NULL,
                        "the offer was used or has expired, and its rebooking link is no "
                        "longer stored; make a new offer instead");
    snprintf(data, sizeof data, "{\"from\":\"%s\",\"attempts\":%d}", n->status, n->attempts);
    snprintf(n->status, sizeof n->status, "queued");
    n->attempts = 0;
    n->next_attempt_at = j->now;
    n->updated_at = j->now;
    if (store_notification_update(c, n) != STORE_OK ||
        store_event(c, j->now, j->actor, "notification", n->id, "retry", data) != STORE_OK)
        return svc_fail(j->e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    return 0;
}

int svc_notification_retry(app_t *app, const char *id, const char *actor, int64_t now,
                           notification_rec *out, svc_err *e)
{
    struct retry_job j = {id, actor, now, out, e};
    int rc = db_write(app->db, retry_job, &j);
    if (rc == DB_UNAVAILABLE)
        return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    if (rc == 0)
        outbox_kick(app);
    return rc;
}

struct token_sweep_job {
    int64_t now;
    long n;
};

static int token_sweep_job(db_conn_t *c, void *arg)
{
    struct token_sweep_job *j = arg;
    j->n = store_notification_drop_expired_tokens(c, j->now);
    return j->n < 0 ? -1 : 0;
}

long svc_notification_token_sweep(app_t *app, int64_t now)
{
    struct token_sweep_job j = {now, 0};
    return db_write(app->db, token_sweep_job, &j) == 0 ? j.n : -1;
}
