/*
 * notifications.c — the outbox queue: one row per message to one recipient
 * on one channel (email or sms).
 *
 * Life cycle (the sender in outbox/worker.c drives it; policy.h has the
 * rules): queued → sending → sent | failed (next_attempt_at set) | dead;
 * skipped (no address, or the patient opted out) and expired (its purpose
 * passed) are final and never sent. Rows are written in the same
 * transaction as the change that causes them; the sender's status changes
 * are their own small transactions.
 */
#include <stdlib.h>

#include "store/rows.h"

#define NOTE_COLUMNS                                                                  \
    "n.id, n.appointment_id, n.offer_id, n.patient_id, n.channel, n.recipient, "      \
    "n.recipient_name, n.purpose, n.status, n.attempts, n.last_error, n.provider_id, " \
    "n.next_attempt_at, n.sent_at, n.expires_at, n.created_at, n.updated_at, "       \
    "n.link_token IS NOT NULL"
#define NOTE_NCOLUMNS 18

static void read_note(sqlite3_stmt *st, notification_rec *r)
{
    memset(r, 0, sizeof *r);
    rows_copy(st, 0, r->id, sizeof r->id);
    rows_copy(st, 1, r->appointment_id, sizeof r->appointment_id);
    rows_copy(st, 2, r->offer_id, sizeof r->offer_id);
    rows_copy(st, 3, r->patient_id, sizeof r->patient_id);
    rows_copy(st, 4, r->channel, sizeof r->channel);
    rows_copy(st, 5, r->recipient, sizeof r->recipient);
    rows_copy(st, 6, r->recipient_name, sizeof r->recipient_name);
    rows_copy(st, 7, r->purpose, sizeof r->purpose);
    rows_copy(st, 8, r->status, sizeof r->status);
    r->attempts = sqlite3_column_int(st, 9);
    rows_copy(st, 10, r->last_error, sizeof r->last_error);
    rows_copy(st, 11, r->provider_id, sizeof r->provider_id);
    r->next_attempt_at = sqlite3_column_int64(st, 12);
    r->sent_at = sqlite3_column_int64(st, 13);
    r->expires_at = sqlite3_column_int64(st, 14);
    r->created_at = sqlite3_column_int64(st, 15);
    r->updated_at = sqlite3_column_int64(st, 16);
    r->link_stored = sqlite3_column_int(st, 17) != 0;
}

int store_notification_insert(db_conn_t *c, const notification_rec *r,
                              const notification_text *t, const char *link_token)
{
    /* A skipped row is never sent: it never stores a token. */
    sqlite3_stmt *st = db_prepare(
        c, "INSERT INTO notifications (id, appointment_id, offer_id, patient_id, channel, "
           "recipient, recipient_name, purpose, subject, body, attachment, status, last_error, "
           "next_attempt_at, expires_at, created_at, updated_at, link_token) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16, "
           "CASE WHEN ?12 IN ('sent', 'expired', 'skipped') THEN NULL ELSE ?17 END)");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, r->id);
    rows_bind_opt(st, 2, r->appointment_id);
    rows_bind_opt(st, 3, r->offer_id);
    rows_bind_opt(st, 4, r->patient_id);
    rows_bind_text(st, 5, r->channel);
    rows_bind_opt(st, 6, r->recipient);
    rows_bind_opt(st, 7, r->recipient_name);
    rows_bind_text(st, 8, r->purpose);
    rows_bind_opt(st, 9, t->subject);
    rows_bind_text(st, 10, t->body);
    rows_bind_opt(st, 11, t->attachment);
    rows_bind_text(st, 12, r->status);
    rows_bind_opt(st, 13, r->last_error);
    rows_bind_opt_int(st, 14, r->next_attempt_at);
    rows_bind_opt_int(st, 15, r->expires_at);
    sqlite3_bind_int64(st, 16, r->created_at);
    rows_bind_opt(st, 17, link_token);
    return rows_write_rc(st, sqlite3_step(st));
}

int store_notification_get(db_conn_t *c, const char *id, notification_rec *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " NOTE_COLUMNS " FROM notifications n "
                                     "WHERE n.id = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, id);
    int rc = rows_find(st);
    if (rc == STORE_OK)
        read_note(st, out);
    return rc;
}

int store_notification_list(db_conn_t *c, const char *status, const char *appointment_id,
                            int limit, void (*fn)(const notification_rec *, void *), void *ctx)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " NOTE_COLUMNS " FROM notifications n "
                                     "WHERE (?1 IS NULL OR n.status = ?1) "
                                     "AND (?2 IS NULL OR n.appointment_id = ?2) "
                                     "ORDER BY n.created_at DESC, n.id DESC LIMIT ?3");
    int rc;
    notification_rec r;
    if (!st)
        return STORE_ERROR;
    rows_bind_opt(st, 1, status);
    rows_bind_opt(st, 2, appointment_id);
    sqlite3_bind_int(st, 3, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_note(st, &r);
        fn(&r, ctx);
    }
    return rows_write_rc(st, rc);
}

int store_notification_of_offer(db_conn_t *c, const char *appointment_id, const char *offer_id,
                                notification_rec *out, int max)
{
    /* The appointment narrows it to the index notifications_appointment. */
    sqlite3_stmt *st = db_prepare(c, "SELECT " NOTE_COLUMNS " FROM notifications n "
                                     "WHERE n.appointment_id = ?1 AND n.offer_id = ?2 "
                                     "ORDER BY n.channel, n.created_at, n.id LIMIT ?3");
    int rc = SQLITE_DONE, n = 0;
    if (!st)
        return -1;
    rows_bind_text(st, 1, appointment_id);
    rows_bind_text(st, 2, offer_id);
    sqlite3_bind_int(st, 3, max);
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        read_note(st, &out[n++]);
    if (n < max && rc != SQLITE_DONE) {
        rows_write_rc(st, rc);
        return -1;
    }
    sqlite3_reset(st);
    return n;
}

int store_notification_status_counts(db_conn_t *c, const char *const *statuses, int n,
                                     long *out)
{
    return rows_count_by_status(
        db_prepare(c, "SELECT status, count(*) FROM notifications GROUP BY status"), statuses,
        n, out);
}

const char *const NOTE_OPEN_STATUSES[NOTE_OPEN_COUNT] = {"queued", "sending", "failed", "dead"};

int store_notification_queue(db_conn_t *c, long *out, int64_t *oldest_waiting)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT status, count(*), min(created_at) "
                                     "FROM notifications WHERE channel IN ('email', 'sms') "
                                     "AND status IN ('queued', 'sending', 'failed', 'dead') "
                                     "GROUP BY status");
    int rc;
    if (!st)
        return STORE_ERROR;
    *oldest_waiting = 0;
    for (int i = 0; i < NOTE_OPEN_COUNT; i++)
        out[i] = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(st, 0);
        int64_t oldest = sqlite3_column_int64(st, 2);
        for (int i = 0; status && i < NOTE_OPEN_COUNT; i++)
            if (strcmp(status, NOTE_OPEN_STATUSES[i]) == 0)
                out[i] = (long)sqlite3_column_int64(st, 1);
        if (status && strcmp(status, "dead") != 0 && (!*oldest_waiting || oldest < *oldest_waiting))
            *oldest_waiting = oldest;
    }
    return rows_write_rc(st, rc);
}

/* The due messages of each status come from their own index range, already
 * in next_attempt_at order, so only the few candidates are joined and sorted,
 * however long the queue. */
#define DUE_IDS(status)                                                                     \
    "SELECT id FROM (SELECT id FROM notifications WHERE channel = ?1 AND status = '" status \
    "' AND next_attempt_at <= ?2 ORDER BY next_attempt_at LIMIT ?3)"

long store_notification_due(db_conn_t *c, const char *channel, int64_t now,
                            notification_due *out, long max)
{
    sqlite3_stmt *st = db_prepare(
        c, "SELECT " NOTE_COLUMNS ", coalesce(a.status, ''), o.used_at IS NOT NULL "
           "FROM (" DUE_IDS("queued") " UNION ALL " DUE_IDS("failed") ") AS due "
           "JOIN notifications n ON n.id = due.id "
           "LEFT JOIN appointments a ON a.id = n.appointment_id "
           "LEFT JOIN offers o ON o.id = n.offer_id "
           "ORDER BY n.next_attempt_at, n.id LIMIT ?3");
    long n = 0;
    int rc = SQLITE_DONE;
    if (!st)
        return -1;
    rows_bind_text(st, 1, channel);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, max);
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_note(st, &out[n].n);
        rows_copy(st, NOTE_NCOLUMNS, out[n].appt_status, sizeof out[n].appt_status);
        out[n].offer_used = sqlite3_column_int(st, NOTE_NCOLUMNS + 1) != 0;
        n++;
    }
    if (n < max && rows_write_rc(st, rc) != STORE_OK)
        return -1;
    return n;
}

int store_notification_next_due(db_conn_t *c, const char *channel, int64_t *out)
{
    /* Two index look-ups (min over an equality prefix), not a scan. */
    sqlite3_stmt *st = db_prepare(
        c, "SELECT min(t) FROM ("
           "SELECT min(next_attempt_at) AS t FROM notifications "
           "WHERE channel = ?1 AND status = 'queued' UNION ALL "
           "SELECT min(next_attempt_at) FROM notifications "
           "WHERE channel = ?1 AND status = 'failed')");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, channel);
    int rc = rows_find(st);
    if (rc == STORE_OK)
        *out = sqlite3_column_int64(st, 0);
    return rc;
}

static char *dup_column(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

int store_notification_text(db_conn_t *c, const char *id, notification_text *out)
{
    /* The token goes back into the link ({public_url}/rebook#...) only in
     * memory, for the sender. */
    sqlite3_stmt *st = db_prepare(
        c, "SELECT subject, CASE WHEN link_token IS NULL THEN body ELSE "
           "replace(body, '" OFFER_LINK_PATH NOTE_TOKEN_REDACTED "', "
           "'" OFFER_LINK_PATH "' || link_token) END, attachment, "
           "offer_id IS NOT NULL AND link_token IS NULL FROM notifications WHERE id = ?1");
    memset(out, 0, sizeof *out);
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, id);
    int rc = rows_find(st);
    if (rc != STORE_OK)
        return rc;
    if (sqlite3_column_int(st, 3)) /* its link would not work */
        return STORE_CONFLICT;
    out->subject = dup_column(st, 0);
    out->body = dup_column(st, 1);
    out->attachment = dup_column(st, 2);
    if (!out->body) {
        notification_text_free(out);
        return STORE_ERROR;
    }
    return STORE_OK;
}

void notification_text_free(notification_text *t)
{
    if (!t)
        return;
    free(t->subject);
    free(t->body);
    free(t->attachment);
    memset(t, 0, sizeof *t);
}

int store_notification_update(db_conn_t *c, const notification_rec *r)
{
    /* Sent, expired (its purpose passed) or skipped: the message is never
     * sent (again), so its token goes. A dead message keeps it until the
     * offer is used or expires, so that staff can still retry it. */
    sqlite3_stmt *st = db_prepare(c, "UPDATE notifications SET status = ?2, attempts = ?3, "
                                     "last_error = ?4, next_attempt_at = ?5, sent_at = ?6, "
                                     "provider_id = ?7, updated_at = ?8, "
                                     "link_token = CASE WHEN ?2 IN ('sent', 'expired', 'skipped') "
                                     "THEN NULL ELSE link_token END WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, r->id);
    rows_bind_text(st, 2, r->status);
    sqlite3_bind_int(st, 3, r->attempts);
    rows_bind_opt(st, 4, r->last_error);
    rows_bind_opt_int(st, 5, r->next_attempt_at);
    rows_bind_opt_int(st, 6, r->sent_at);
    rows_bind_opt(st, 7, r->provider_id);
    sqlite3_bind_int64(st, 8, r->updated_at);
    return rows_update_one(st);
}

long store_notification_requeue_sending(db_conn_t *c, const char *channel, int64_t now)
{
    sqlite3_stmt *st = db_prepare(c, "UPDATE notifications SET status = 'queued', "
                                     "next_attempt_at = ?2, updated_at = ?2 "
                                     "WHERE status = 'sending' AND (?1 IS NULL OR channel = ?1)");
    if (!st)
        return -1;
    rows_bind_opt(st, 1, channel);
    sqlite3_bind_int64(st, 2, now);
    if (rows_write_rc(st, sqlite3_step(st)) != STORE_OK)
        return -1;
    return sqlite3_changes(sqlite3_db_handle(st));
}

int store_notification_drop_offer_tokens(db_conn_t *c, const char *appointment_id,
                                         const char *offer_id)
{
    /* The offer's messages are about its appointment: found by that index. */
    sqlite3_stmt *st = db_prepare(c, "UPDATE notifications SET link_token = NULL "
                                     "WHERE appointment_id = ?1 AND offer_id = ?2 "
                                     "AND link_token IS NOT NULL");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, appointment_id);
    rows_bind_text(st, 2, offer_id);
    return rows_write_rc(st, sqlite3_step(st));
}

long store_notification_drop_expired_tokens(db_conn_t *c, int64_t now)
{
    /* An offer's messages expire with it (expires_at); the partial index
     * notifications_link_token holds only the rows with a token. */
    sqlite3_stmt *st = db_prepare(c, "UPDATE notifications SET link_token = NULL "
                                     "WHERE link_token IS NOT NULL AND expires_at <= ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    if (rows_write_rc(st, sqlite3_step(st)) != STORE_OK)
        return -1;
    return sqlite3_changes(sqlite3_db_handle(st));
}

int store_notification_exists(db_conn_t *c, const char *appointment_id, const char *purpose,
                              bool *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT 1 FROM notifications WHERE appointment_id = ?1 "
                                     "AND purpose = ?2 LIMIT 1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, appointment_id);
    rows_bind_text(st, 2, purpose);
    int rc = rows_find(st);
    *out = rc == STORE_OK;
    return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}
