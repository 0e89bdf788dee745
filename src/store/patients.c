/* patients.c — patients and their notification preferences. */
#include "store/rows.h"

#define PATIENT_COLS "id, name, email, phone, notify_email, notify_sms, created_at, updated_at, rev"

static void read_patient(sqlite3_stmt *st, patient_rec *p)
{
    memset(p, 0, sizeof *p);
    rows_copy(st, 0, p->id, sizeof p->id);
    rows_copy(st, 1, p->name, sizeof p->name);
    rows_copy(st, 2, p->email, sizeof p->email);
    rows_copy(st, 3, p->phone, sizeof p->phone);
    p->notify_email = sqlite3_column_int(st, 4) != 0;
    p->notify_sms = sqlite3_column_int(st, 5) != 0;
    p->created_at = sqlite3_column_int64(st, 6);
    p->updated_at = sqlite3_column_int64(st, 7);
    p->rev = sqlite3_column_int64(st, 8);
}

static void bind_patient(sqlite3_stmt *st, const patient_rec *r)
{
    rows_bind_text(st, 1, r->id);
    rows_bind_text(st, 2, r->name);
    rows_bind_opt(st, 3, r->email);
    rows_bind_opt(st, 4, r->phone);
    sqlite3_bind_int(st, 5, r->notify_email);
    sqlite3_bind_int(st, 6, r->notify_sms);
    sqlite3_bind_int64(st, 7, r->created_at);
    sqlite3_bind_int64(st, 8, r->updated_at);
}

int store_patient_insert(db_conn_t *c, patient_rec *r)
{
    int64_t rev;
    if (store_rev_bump(c, &rev) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO patients (" PATIENT_COLS
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!st)
        return STORE_ERROR;
    bind_patient(st, r);
    sqlite3_bind_int64(st, 9, rev);
    int rc = rows_write_rc(st, sqlite3_step(st));
    if (rc == STORE_OK)
        r->rev = rev;
    return rc;
}

int store_patient_update(db_conn_t *c, patient_rec *r)
{
    int64_t rev;
    if (store_rev_bump(c, &rev) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = db_prepare(c, "UPDATE patients SET name = ?2, email = ?3, phone = ?4, "
                                     "notify_email = ?5, notify_sms = ?6, updated_at = ?8, "
                                     "rev = ?9 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    bind_patient(st, r);
    sqlite3_bind_int64(st, 9, rev);
    int rc = rows_update_one(st);
    if (rc == STORE_OK)
        r->rev = rev;
    return rc;
}

int store_patient_get(db_conn_t *c, const char *id, patient_rec *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " PATIENT_COLS " FROM patients WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, id);
    int rc = rows_find(st);
    if (rc == STORE_OK)
        read_patient(st, out);
    return rc;
}

int store_patient_search(db_conn_t *c, const char *q, int limit,
                         void (*fn)(const patient_rec *, void *), void *ctx)
{
    /* instr() rather than LIKE: no wildcard characters to escape in q. */
    sqlite3_stmt *st = db_prepare(c, "SELECT " PATIENT_COLS " FROM patients WHERE ?1 = '' "
                                     "OR instr(lower(name), lower(?1)) > 0 "
                                     "OR instr(lower(coalesce(email, '')), lower(?1)) > 0 "
                                     "OR instr(coalesce(phone, ''), ?1) > 0 "
                                     "ORDER BY name COLLATE NOCASE, id LIMIT ?2");
    int rc;
    patient_rec p;
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, q);
    sqlite3_bind_int(st, 2, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_patient(st, &p);
        fn(&p, ctx);
    }
    return rows_write_rc(st, rc);
}

int store_patient_delete(db_conn_t *c, const char *id)
{
    /* the history stays: a patient with appointments (or messages) is kept */
    sqlite3_stmt *st = db_prepare(c, "DELETE FROM patients WHERE id = ?1 AND NOT EXISTS "
                                     "(SELECT 1 FROM appointments WHERE patient_id = ?1) "
                                     "AND NOT EXISTS "
                                     "(SELECT 1 FROM notifications WHERE patient_id = ?1)");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, id);
    int rc = rows_write_rc(st, sqlite3_step(st));
    if (rc != STORE_OK || sqlite3_changes(db_handle(c)) == 1)
        return rc;
    patient_rec p;
    rc = store_patient_get(c, id, &p);
    return rc == STORE_OK ? STORE_CONFLICT : rc;
}
