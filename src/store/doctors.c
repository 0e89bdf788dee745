/* doctors.c — doctors and their weekly schedules with dated exceptions. */
#include <stdlib.h>

#include "core/timefmt.h"
#include "store/rows.h"

#define DOCTOR_COLS "id, name, email, phone, slot_minutes, created_at, updated_at, rev"

static void read_doctor(sqlite3_stmt *st, doctor_rec *d)
{
    memset(d, 0, sizeof *d);
    rows_copy(st, 0, d->id, sizeof d->id);
    rows_copy(st, 1, d->name, sizeof d->name);
    rows_copy(st, 2, d->email, sizeof d->email);
    rows_copy(st, 3, d->phone, sizeof d->phone);
    d->slot_minutes = sqlite3_column_int(st, 4);
    d->created_at = sqlite3_column_int64(st, 5);
    d->updated_at = sqlite3_column_int64(st, 6);
    d->rev = sqlite3_column_int64(st, 7);
}

static void bind_doctor(sqlite3_stmt *st, const doctor_rec *r)
{
    rows_bind_text(st, 1, r->id);
    rows_bind_text(st, 2, r->name);
    rows_bind_opt(st, 3, r->email);
    rows_bind_opt(st, 4, r->phone);
    sqlite3_bind_int(st, 5, r->slot_minutes);
    sqlite3_bind_int64(st, 6, r->created_at);
    sqlite3_bind_int64(st, 7, r->updated_at);
}

int store_doctor_insert(db_conn_t *c, doctor_rec *r)
{
    int64_t rev;
    if (store_rev_bump(c, &rev) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO doctors (" DOCTOR_COLS
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st)
        return STORE_ERROR;
    bind_doctor(st, r);
    sqlite3_bind_int64(st, 8, rev);
    int rc = rows_write_rc(st, sqlite3_step(st));
    if (rc == STORE_OK)
        r->rev = rev;
    return rc;
}

int store_doctor_update(db_conn_t *c, doctor_rec *r)
{
    int64_t rev;
    if (store_rev_bump(c, &rev) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = db_prepare(c, "UPDATE doctors SET name = ?2, email = ?3, phone = ?4, "
                                     "slot_minutes = ?5, updated_at = ?7, rev = ?8 "
                                     "WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    bind_doctor(st, r);
    sqlite3_bind_int64(st, 8, rev);
    int rc = rows_update_one(st);
    if (rc == STORE_OK)
        r->rev = rev;
    return rc;
}

int store_doctor_get(db_conn_t *c, const char *id, doctor_rec *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " DOCTOR_COLS " FROM doctors WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, id);
    int rc = rows_find(st);
    if (rc == STORE_OK)
        read_doctor(st, out);
    return rc;
}

int store_doctor_list(db_conn_t *c, void (*fn)(const doctor_rec *, void *), void *ctx)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " DOCTOR_COLS " FROM doctors ORDER BY name, id");
    int rc;
    doctor_rec d;
    if (!st)
        return STORE_ERROR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_doctor(st, &d);
        fn(&d, ctx);
    }
    return rows_write_rc(st, rc);
}

void schedule_rec_free(schedule_rec *s)
{
    if (!s)
        return;
    free(s->weekly);
    free(s->exceptions);
    s->weekly = NULL;
    s->exceptions = NULL;
    s->nweekly = s->nexceptions = 0;
}

schedule_t schedule_view(const schedule_rec *s)
{
    return (schedule_t){.slot_minutes = s->slot_minutes,
                        .weekly = s->weekly,
                        .nweekly = s->nweekly,
                        .exceptions = s->exceptions,
                        .nexceptions = s->nexceptions};
}

int store_schedule_get(db_conn_t *c, const char *doctor_id, schedule_rec *out)
{
    doctor_rec d;
    int rc = store_doctor_get(c, doctor_id, &d);
    size_t cap = 0;
    memset(out, 0, sizeof *out);
    if (rc != STORE_OK)
        return rc;
    out->slot_minutes = d.slot_minutes;
    out->doctor_rev = d.rev;

    sqlite3_stmt *st = db_prepare(c, "SELECT rev FROM schedule_revs WHERE doctor_id = ?1");
    if (!st)
        goto fail;
    rows_bind_text(st, 1, doctor_id);
    rc = rows_find(st);
    if (rc == STORE_OK)
        out->rev = sqlite3_column_int64(st, 0);
    else if (rc != STORE_NOT_FOUND)
        goto fail;

    st = db_prepare(c, "SELECT weekday, start_min, end_min FROM schedule_weekly "
                                     "WHERE doctor_id = ?1 ORDER BY weekday, start_min");
    if (!st)
        goto fail;
    rows_bind_text(st, 1, doctor_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->nweekly == cap) {
            cap = cap ? cap * 2 : 8;
            sched_weekly_t *v = realloc(out->weekly, cap * sizeof *v);
            if (!v)
                goto fail;
            out->weekly = v;
        }
        out->weekly[out->nweekly++] = (sched_weekly_t){sqlite3_column_int(st, 0),
                                                       sqlite3_column_int(st, 1),
                                                       sqlite3_column_int(st, 2)};
    }
    if (rc != SQLITE_DONE)
        goto fail;

    cap = 0;
    st = db_prepare(c, "SELECT date, closed, start_min, end_min FROM schedule_exceptions "
                       "WHERE doctor_id = ?1 ORDER BY date, start_min");
    if (!st)
        goto fail;
    rows_bind_text(st, 1, doctor_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sched_exception_t e = {0};
        const char *date = (const char *)sqlite3_column_text(st, 0);
        if (!date || !timefmt_parse_date(date, &e.y, &e.mon, &e.day))
            continue;
        e.closed = sqlite3_column_int(st, 1) != 0;
        e.start_min = sqlite3_column_int(st, 2);
        e.end_min = sqlite3_column_int(st, 3);
        if (out->nexceptions == cap) {
            cap = cap ? cap * 2 : 8;
            sched_exception_t *v = realloc(out->exceptions, cap * sizeof *v);
            if (!v)
                goto fail;
            out->exceptions = v;
        }
        out->exceptions[out->nexceptions++] = e;
    }
    if (rc != SQLITE_DONE)
        goto fail;
    return STORE_OK;
fail:
    schedule_rec_free(out);
    return STORE_ERROR;
}

int store_schedule_replace(db_conn_t *c, const char *doctor_id, const schedule_rec *s)
{
    char date[16];
    int64_t rev;
    if (store_rev_bump(c, &rev) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO schedule_revs (doctor_id, rev) VALUES (?1, ?2) "
                                     "ON CONFLICT (doctor_id) DO UPDATE SET rev = excluded.rev");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, doctor_id);
    sqlite3_bind_int64(st, 2, rev);
    if (sqlite3_step(st) != SQLITE_DONE)
        return rows_write_rc(st, SQLITE_ERROR);
    st = db_prepare(c, "DELETE FROM schedule_weekly WHERE doctor_id = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, doctor_id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return rows_write_rc(st, SQLITE_ERROR);
    st = db_prepare(c, "DELETE FROM schedule_exceptions WHERE doctor_id = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, doctor_id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return rows_write_rc(st, SQLITE_ERROR);

    for (size_t i = 0; i < s->nweekly; i++) {
        st = db_prepare(c, "INSERT INTO schedule_weekly (doctor_id, weekday, start_min, end_min) "
                           "VALUES (?1, ?2, ?3, ?4)");
        if (!st)
            return STORE_ERROR;
        rows_bind_text(st, 1, doctor_id);
        sqlite3_bind_int(st, 2, s->weekly[i].weekday);
        sqlite3_bind_int(st, 3, s->weekly[i].start_min);
        sqlite3_bind_int(st, 4, s->weekly[i].end_min);
        int rc = rows_write_rc(st, sqlite3_step(st));
        if (rc != STORE_OK)
            return rc;
    }
    for (size_t i = 0; i < s->nexceptions; i++) {
        const sched_exception_t *e = &s->exceptions[i];
        st = db_prepare(c, "INSERT INTO schedule_exceptions (doctor_id, date, closed, start_min, "
                           "end_min) VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!st)
            return STORE_ERROR;
        timefmt_format_date(e->y, e->mon, e->day, date, sizeof date);
        rows_bind_text(st, 1, doctor_id);
        rows_bind_text(st, 2, date);
        sqlite3_bind_int(st, 3, e->closed);
        sqlite3_bind_int(st, 4, e->closed ? 0 : e->start_min);
        sqlite3_bind_int(st, 5, e->closed ? 0 : e->end_min);
        int rc = rows_write_rc(st, sqlite3_step(st));
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}
