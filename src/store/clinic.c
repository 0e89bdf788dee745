/*
 * clinic.c — the one clinic row and the meta key/value table.
 * The clinic row is created at first start (service/clinic.c).
 */
#include <stdlib.h>

#include "domain/language.h"
#include "store/rows.h"

int store_clinic_get(db_conn_t *c, int config_grace, clinic_rec *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT id, name, timezone, grace_minutes, "
                                     "reschedule_options, offer_hours, created_at, updated_at, "
                                     "reminder_hours, confirmations, rev, language FROM clinic");
    if (!st)
        return STORE_ERROR;
    int rc = rows_find(st);
    if (rc != STORE_OK)
        return rc;
    memset(out, 0, sizeof *out);
    rows_copy(st, 0, out->id, sizeof out->id);
    rows_copy(st, 1, out->name, sizeof out->name);
    rows_copy(st, 2, out->timezone, sizeof out->timezone);
    out->grace_set = sqlite3_column_type(st, 3) != SQLITE_NULL;
    out->grace_minutes = out->grace_set ? sqlite3_column_int(st, 3) : config_grace;
    out->reschedule_options = sqlite3_column_int(st, 4);
    out->offer_hours = sqlite3_column_int(st, 5);
    out->created_at = sqlite3_column_int64(st, 6);
    out->updated_at = sqlite3_column_int64(st, 7);
    out->confirmations = sqlite3_column_int(st, 9) != 0;
    out->rev = sqlite3_column_int64(st, 10);
    rows_copy(st, 11, out->language, sizeof out->language);
    /* reminder_hours is a JSON array written by bind_clinic: "[24,2]" */
    const char *rh = (const char *)sqlite3_column_text(st, 8);
    while (rh && *rh && out->nreminders < CLINIC_MAX_REMINDERS) {
        char *end;
        long h = strtol(rh, &end, 10);
        if (end != rh && h > 0)
            out->reminder_hours[out->nreminders++] = (int)h;
        rh = end != rh ? end : rh + 1;
    }
    return STORE_OK;
}

static void bind_clinic(sqlite3_stmt *st, const clinic_rec *r)
{
    rows_bind_text(st, 1, r->id);
    rows_bind_text(st, 2, r->name);
    rows_bind_text(st, 3, r->timezone);
    if (r->grace_set)
        sqlite3_bind_int(st, 4, r->grace_minutes);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int(st, 5, r->reschedule_options);
    sqlite3_bind_int(st, 6, r->offer_hours);
    sqlite3_bind_int64(st, 7, r->created_at);
    sqlite3_bind_int64(st, 8, r->updated_at);
    char rh[CLINIC_MAX_REMINDERS * 12 + 4];
    size_t n = (size_t)snprintf(rh, sizeof rh, "[");
    for (int i = 0; i < r->nreminders; i++)
        n += (size_t)snprintf(rh + n, sizeof rh - n, "%s%d", i ? "," : "", r->reminder_hours[i]);
    snprintf(rh + n, sizeof rh - n, "]");
    rows_bind_text(st, 9, rh);
    sqlite3_bind_int(st, 10, r->confirmations);
    rows_bind_text(st, 12, r->language[0] ? r->language : LANGUAGE_DEFAULT);
}

int store_clinic_insert(db_conn_t *c, clinic_rec *r)
{
    int64_t rev;
    if (store_rev_bump(c, &rev) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO clinic (id, name, timezone, grace_minutes, "
                                     "reschedule_options, offer_hours, created_at, updated_at, "
                                     "reminder_hours, confirmations, rev, language) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                     "?12)");
    if (!st)
        return STORE_ERROR;
    bind_clinic(st, r);
    sqlite3_bind_int64(st, 11, rev);
    int rc = rows_write_rc(st, sqlite3_step(st));
    if (rc == STORE_OK)
        r->rev = rev;
    return rc;
}

int store_clinic_update(db_conn_t *c, clinic_rec *r)
{
    int64_t rev;
    if (store_rev_bump(c, &rev) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = db_prepare(c, "UPDATE clinic SET name = ?2, timezone = ?3, "
                                     "grace_minutes = ?4, reschedule_options = ?5, "
                                     "offer_hours = ?6, updated_at = ?8, reminder_hours = ?9, "
                                     "confirmations = ?10, rev = ?11, language = ?12 "
                                     "WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    bind_clinic(st, r);
    sqlite3_bind_int64(st, 11, rev);
    int rc = rows_update_one(st);
    if (rc == STORE_OK)
        r->rev = rev;
    return rc;
}

int store_rev_bump(db_conn_t *c, int64_t *rev)
{
    sqlite3_stmt *st = db_prepare(c, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 "
                                     "WHERE key = 'rev_seq' RETURNING CAST(value AS INTEGER)");
    if (!st)
        return STORE_ERROR;
    int rc = rows_find(st);
    if (rc == STORE_OK)
        *rev = sqlite3_column_int64(st, 0);
    sqlite3_reset(st); /* RETURNING: the update is done when the statement ends */
    return rc == STORE_OK ? STORE_OK : STORE_ERROR;
}

int store_meta_get_int(db_conn_t *c, const char *key, int64_t *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT value FROM meta WHERE key = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, key);
    int rc = rows_find(st);
    if (rc != STORE_OK)
        return rc;
    *out = sqlite3_column_int64(st, 0);
    return STORE_OK;
}

int store_meta_set_int(db_conn_t *c, const char *key, int64_t value)
{
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, value);
    return rows_write_rc(st, sqlite3_step(st));
}

int store_meta_get_text(db_conn_t *c, const char *key, char *out, size_t len)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT value FROM meta WHERE key = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, key);
    int rc = rows_find(st);
    if (rc == STORE_OK)
        rows_copy(st, 0, out, len);
    return rc;
}

int store_meta_set_text(db_conn_t *c, const char *key, const char *value)
{
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, key);
    rows_bind_text(st, 2, value);
    return rows_write_rc(st, sqlite3_step(st));
}
