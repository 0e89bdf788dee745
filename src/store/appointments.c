/*
 * appointments.c — appointments and their slot claims.
 *
 * The claims are what makes double booking impossible: a live appointment
 * owns one slot_claims row per 5-minute unit, keyed (doctor, unit). Inserting
 * them is one statement; a PRIMARY KEY collision means another live
 * appointment holds part of that time (STORE_CONFLICT). The schema's triggers
 * free claims when an appointment leaves the live states.
 */
#include <stdlib.h>

#include "domain/appointment.h"
#include "store/rows.h"

#define APPT_COLS                                                                         \
    "id, doctor_id, patient_id, start_utc, end_utc, status, reason, cancel_reason, "      \
    "checked_in_at, completed_at, cancelled_at, no_show_at, rescheduled_from, "          \
    "rescheduled_to, created_at, created_by, updated_at, updated_by, conflict_reason"

/* What a SELECT reads after APPT_COLS: the revision, and reminded_at, the
 * sent_at of the appointment's latest sent reminder (purpose "reminder_"
 * + hours + "h", service/messages.h). The purpose range ['reminder_',
 * 'reminder`') is that prefix ('`' follows '_'), written as a range so
 * that the index notifications_appointment (appointment_id, purpose)
 * serves it. */
#define APPT_READ_COLS                                                                    \
    APPT_COLS ", rev, (SELECT max(n.sent_at) FROM notifications n "                      \
              "WHERE n.appointment_id = appointments.id AND n.purpose >= 'reminder_' "   \
              "AND n.purpose < 'reminder`' AND n.status = 'sent') AS reminded_at"

static void read_appt(sqlite3_stmt *st, appt_rec *a)
{
    memset(a, 0, sizeof *a);
    rows_copy(st, 0, a->id, sizeof a->id);
    rows_copy(st, 1, a->doctor_id, sizeof a->doctor_id);
    rows_copy(st, 2, a->patient_id, sizeof a->patient_id);
    a->start = sqlite3_column_int64(st, 3);
    a->end = sqlite3_column_int64(st, 4);
    rows_copy(st, 5, a->status, sizeof a->status);
    rows_copy(st, 6, a->reason, sizeof a->reason);
    rows_copy(st, 7, a->cancel_reason, sizeof a->cancel_reason);
    a->checked_in_at = sqlite3_column_int64(st, 8);
    a->completed_at = sqlite3_column_int64(st, 9);
    a->cancelled_at = sqlite3_column_int64(st, 10);
    a->no_show_at = sqlite3_column_int64(st, 11);
    rows_copy(st, 12, a->rescheduled_from, sizeof a->rescheduled_from);
    rows_copy(st, 13, a->rescheduled_to, sizeof a->rescheduled_to);
    a->created_at = sqlite3_column_int64(st, 14);
    rows_copy(st, 15, a->created_by, sizeof a->created_by);
    a->updated_at = sqlite3_column_int64(st, 16);
    rows_copy(st, 17, a->updated_by, sizeof a->updated_by);
    rows_copy(st, 18, a->conflict_reason, sizeof a->conflict_reason);
    a->rev = sqlite3_column_int64(st, 19);
    a->reminded_at = sqlite3_column_int64(st, 20); /* NULL reads as 0 */
}

static void bind_appt(sqlite3_stmt *st, const appt_rec *a)
{
    rows_bind_text(st, 1, a->id);
    rows_bind_text(st, 2, a->doctor_id);
    rows_bind_text(st, 3, a->patient_id);
    sqlite3_bind_int64(st, 4, a->start);
    sqlite3_bind_int64(st, 5, a->end);
    rows_bind_text(st, 6, a->status);
    rows_bind_opt(st, 7, a->reason);
    rows_bind_opt(st, 8, a->cancel_reason);
    rows_bind_opt_int(st, 9, a->checked_in_at);
    rows_bind_opt_int(st, 10, a->completed_at);
    rows_bind_opt_int(st, 11, a->cancelled_at);
    rows_bind_opt_int(st, 12, a->no_show_at);
    rows_bind_opt(st, 13, a->rescheduled_from);
    rows_bind_opt(st, 14, a->rescheduled_to);
    sqlite3_bind_int64(st, 15, a->created_at);
    rows_bind_text(st, 16, a->created_by);
    sqlite3_bind_int64(st, 17, a->updated_at);
    rows_bind_text(st, 18, a->updated_by);
    rows_bind_opt(st, 19, a->conflict_reason);
}

int store_appt_insert(db_conn_t *c, appt_rec *r)
{
    int64_t rev;
    if (store_rev_bump(c, &rev) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO appointments (" APPT_COLS ", rev) VALUES (?1, "
                                     "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                                     "?15, ?16, ?17, ?18, ?19, ?20)");
    if (!st)
        return STORE_ERROR;
    bind_appt(st, r);
    sqlite3_bind_int64(st, 20, rev);
    int rc = rows_write_rc(st, sqlite3_step(st));
    if (rc != STORE_OK)
        return rc;
    r->rev = rev;
    if (!appt_status_live(r->status))
        return rc;
    st = db_prepare(c, "WITH RECURSIVE u(t) AS (SELECT ?2 UNION ALL SELECT t + 300 FROM u "
                       "WHERE t + 300 < ?3) "
                       "INSERT INTO slot_claims (doctor_id, unit_start, appointment_id) "
                       "SELECT ?1, t, ?4 FROM u");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, r->doctor_id);
    sqlite3_bind_int64(st, 2, r->start);
    sqlite3_bind_int64(st, 3, r->end);
    rows_bind_text(st, 4, r->id);
    return rows_write_rc(st, sqlite3_step(st));
}

int store_appt_get(db_conn_t *c, const char *id, appt_rec *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " APPT_READ_COLS " FROM appointments WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, id);
    int rc = rows_find(st);
    if (rc == STORE_OK)
        read_appt(st, out);
    return rc;
}

int store_appt_update(db_conn_t *c, appt_rec *r)
{
    int64_t rev;
    if (store_rev_bump(c, &rev) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = db_prepare(c, "UPDATE appointments SET status = ?6, reason = ?7, "
                                     "cancel_reason = ?8, checked_in_at = ?9, completed_at = ?10, "
                                     "cancelled_at = ?11, no_show_at = ?12, "
                                     "rescheduled_from = ?13, rescheduled_to = ?14, "
                                     "updated_at = ?17, updated_by = ?18, conflict_reason = ?19, "
                                     "rev = ?20 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    bind_appt(st, r);
    sqlite3_bind_int64(st, 20, rev);
    int rc = rows_update_one(st);
    if (rc == STORE_OK)
        r->rev = rev;
    return rc;
}

int store_appt_list(db_conn_t *c, const struct appt_filter *f,
                    void (*fn)(const appt_rec *, void *), void *ctx)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " APPT_READ_COLS " FROM appointments "
                                     "WHERE (?1 IS NULL OR doctor_id = ?1) "
                                     "AND (?2 IS NULL OR patient_id = ?2) "
                                     "AND (?3 IS NULL OR status = ?3) "
                                     "AND (?4 IS NULL OR end_utc > ?4) "
                                     "AND (?5 IS NULL OR start_utc < ?5) "
                                     "ORDER BY start_utc, id LIMIT ?6");
    int rc;
    appt_rec a;
    if (!st)
        return STORE_ERROR;
    rows_bind_opt(st, 1, f->doctor_id);
    rows_bind_opt(st, 2, f->patient_id);
    rows_bind_opt(st, 3, f->status);
    rows_bind_opt_int(st, 4, f->from);
    rows_bind_opt_int(st, 5, f->to);
    sqlite3_bind_int(st, 6, f->limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_appt(st, &a);
        fn(&a, ctx);
    }
    return rows_write_rc(st, rc);
}

long store_appt_busy(db_conn_t *c, const char *doctor_id, int64_t from, int64_t to,
                     interval_t **out)
{
    /* Live appointments are at most SLOTS_MAX_DURATION_MINUTES long, which
     * bounds the index range to scan. */
    sqlite3_stmt *st = db_prepare(c, "SELECT start_utc, end_utc FROM appointments "
                                     "WHERE doctor_id = ?1 AND start_utc >= ?2 AND start_utc < ?3 "
                                     "AND end_utc > ?4 AND status IN ('booked', 'checked_in') "
                                     "ORDER BY start_utc");
    interval_t *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    *out = NULL;
    if (!st)
        return -1;
    rows_bind_text(st, 1, doctor_id);
    sqlite3_bind_int64(st, 2, from - SLOTS_MAX_DURATION_MINUTES * 60);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_int64(st, 4, from);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            interval_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
        }
        v[n++] = (interval_t){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)};
    }
    if (rc != SQLITE_DONE) {
        free(v);
        return -1;
    }
    *out = v;
    return (long)n;
}

long store_appt_due_no_show(db_conn_t *c, int64_t started_before, char (*ids)[ID_LEN], long max)
{
    /* Walks appointments_doctor_live one doctor at a time (the IN list on
     * its first column); only live rows are in it. */
    sqlite3_stmt *st = db_prepare(c, "SELECT id FROM appointments "
                                     "WHERE doctor_id IN (SELECT id FROM doctors) "
                                     "AND start_utc <= ?1 AND status IN ('booked', 'checked_in') "
                                     "AND status = 'booked' ORDER BY start_utc LIMIT ?2");
    long n = 0;
    int rc;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, started_before);
    sqlite3_bind_int64(st, 2, max);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
        rows_copy(st, 0, ids[n++], ID_LEN);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? n : -1;
}

long store_appt_starting(db_conn_t *c, int64_t after, int64_t until, char (*ids)[ID_LEN],
                         long max)
{
    /* The same walk as store_appt_due_no_show: a range per doctor. */
    sqlite3_stmt *st = db_prepare(c, "SELECT id FROM appointments "
                                     "WHERE doctor_id IN (SELECT id FROM doctors) "
                                     "AND start_utc > ?1 AND start_utc <= ?2 "
                                     "AND status IN ('booked', 'checked_in') "
                                     "AND status = 'booked' ORDER BY start_utc LIMIT ?3");
    long n = 0;
    int rc;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, until);
    sqlite3_bind_int64(st, 3, max);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
        rows_copy(st, 0, ids[n++], ID_LEN);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? n : -1;
}

int store_appt_status_counts(db_conn_t *c, const char *const *statuses, int n, long *out)
{
    return rows_count_by_status(
        db_prepare(c, "SELECT status, count(*) FROM appointments GROUP BY status"), statuses, n,
        out);
}

int store_appt_patient_sees_doctor(db_conn_t *c, const char *patient_id, const char *doctor_id,
                                   bool *has)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT 1 FROM appointments WHERE patient_id = ?1 "
                                     "AND doctor_id = ?2 LIMIT 1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, patient_id);
    rows_bind_text(st, 2, doctor_id);
    int rc = rows_find(st);
    *has = rc == STORE_OK;
    return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}
