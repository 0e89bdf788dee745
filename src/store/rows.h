/*
 * rows.h — small helpers shared by the store files (private to store/):
 * binding optional text and copying columns into fixed buffers.
 */
#ifndef CLINICBOX_ROWS_H
#define CLINICBOX_ROWS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"

/* Binds s, or NULL when s is NULL or empty. */
static inline void rows_bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static inline void rows_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

static inline void rows_bind_opt_int(sqlite3_stmt *st, int i, long long v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static inline void rows_copy(sqlite3_stmt *st, int col, char *dst, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
}

/* Maps the result of the last sqlite3_step of a write. */
static inline int rows_write_rc(sqlite3_stmt *st, int rc)
{
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return STORE_OK;
    sqlite3 *db = sqlite3_db_handle(st);
    int ext = sqlite3_extended_errcode(db);
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
        return STORE_CONFLICT;
    log_error("store", "write failed: %s", sqlite3_errmsg(db));
    return STORE_ERROR;
}

/* Steps a query that yields at most one row: STORE_OK with the row ready to
 * read, STORE_NOT_FOUND, or STORE_ERROR (logged). */
static inline int rows_find(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    return rows_write_rc(st, rc);
}

/* Steps an UPDATE of one row by id: STORE_NOT_FOUND if no row matched. */
static inline int rows_update_one(sqlite3_stmt *st)
{
    int rc = rows_write_rc(st, sqlite3_step(st));
    if (rc == STORE_OK && sqlite3_changes(sqlite3_db_handle(st)) == 0)
        return STORE_NOT_FOUND;
    return rc;
}

/* Steps a page query, one bound to return up to limit + 1 rows (one more
 * than the page): row() reads each of the first `limit` (the columns are
 * valid during the call only), and *more says whether the extra row came,
 * that is whether a next page has anything. Resets the statement. */
static inline int rows_page(sqlite3_stmt *st, int limit, void (*row)(sqlite3_stmt *, void *),
                            void *ctx, bool *more)
{
    int rc, n = 0;
    *more = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == limit) {
            *more = true;
            break;
        }
        row(st, ctx);
    }
    rc = rows_write_rc(st, rc);
    sqlite3_reset(st);
    return rc;
}

/* Runs a "SELECT status, count(*) ... GROUP BY status" statement: out[i]
 * gets the count for statuses[i] (0 if none). One scan for all statuses. */
static inline int rows_count_by_status(sqlite3_stmt *st, const char *const *statuses, int n,
                                       long *out)
{
    int rc;
    if (!st)
        return STORE_ERROR;
    for (int i = 0; i < n; i++)
        out[i] = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(st, 0);
        for (int i = 0; status && i < n; i++)
            if (strcmp(status, statuses[i]) == 0)
                out[i] = (long)sqlite3_column_int64(st, 1);
    }
    return rows_write_rc(st, rc);
}

#endif
