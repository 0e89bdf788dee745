/*
 * offers.c — reschedule offers (their messages are in notifications.c).
 * Options are stored as a JSON array of [start, end] pairs (UTC seconds),
 * written and read with SQLite's JSON functions.
 */
#include <stdlib.h>

#include "store/rows.h"

int store_offer_insert(db_conn_t *c, const offer_rec *r, const char *token_hash,
                       const char *actor)
{
    char options[OFFER_MAX_OPTIONS * 48 + 8];
    size_t n = 0;
    n += (size_t)snprintf(options + n, sizeof options - n, "[");
    for (int i = 0; i < r->noptions; i++)
        n += (size_t)snprintf(options + n, sizeof options - n, "%s[%lld,%lld]", i ? "," : "",
                              (long long)r->options[i].start, (long long)r->options[i].end);
    snprintf(options + n, sizeof options - n, "]");

    sqlite3_stmt *st = db_prepare(c, "INSERT INTO offers (id, appointment_id, token_hash, "
                                     "options, created_at, created_by, expires_at) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, r->id);
    rows_bind_text(st, 2, r->appointment_id);
    rows_bind_text(st, 3, token_hash);
    rows_bind_text(st, 4, options);
    sqlite3_bind_int64(st, 5, r->created_at);
    rows_bind_text(st, 6, actor);
    sqlite3_bind_int64(st, 7, r->expires_at);
    return rows_write_rc(st, sqlite3_step(st));
}

#define OFFER_COLS                                                                        \
    "o.id, o.appointment_id, o.created_at, o.expires_at, o.used_at, o.used_option, "      \
    "o.new_appointment_id"

static void read_offer(sqlite3_stmt *st, offer_rec *out)
{
    memset(out, 0, sizeof *out);
    rows_copy(st, 0, out->id, sizeof out->id);
    rows_copy(st, 1, out->appointment_id, sizeof out->appointment_id);
    out->created_at = sqlite3_column_int64(st, 2);
    out->expires_at = sqlite3_column_int64(st, 3);
    out->used_at = sqlite3_column_int64(st, 4);
    out->used_option = sqlite3_column_int(st, 5);
    rows_copy(st, 6, out->new_appointment_id, sizeof out->new_appointment_id);
}

/* The options of out->id, in their order, into out. */
static int read_options(db_conn_t *c, offer_rec *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT json_extract(value, '$[0]'), "
                                     "json_extract(value, '$[1]') "
                                     "FROM offers, json_each(offers.options) WHERE offers.id = ?1 "
                                     "ORDER BY key");
    int rc;
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, out->id);
    out->noptions = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->noptions < OFFER_MAX_OPTIONS)
        out->options[out->noptions++] =
            (interval_t){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)};
    rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : rows_write_rc(st, rc);
    sqlite3_reset(st);
    return rc;
}

int store_offer_by_token(db_conn_t *c, const char *token_hash, offer_rec *out)
{
    sqlite3_stmt *st =
        db_prepare(c, "SELECT " OFFER_COLS " FROM offers o WHERE o.token_hash = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, token_hash);
    int rc = rows_find(st);
    if (rc != STORE_OK)
        return rc;
    read_offer(st, out);
    sqlite3_reset(st);
    return read_options(c, out);
}

int store_offer_list(db_conn_t *c, const struct offer_filter *f,
                     int (*fn)(const offer_rec *, void *), void *ctx)
{
    /* By the appointment's start: an offer's appointment is looked up by
     * its primary key, the offers of one appointment by offers_appointment.
     * Newest first: created_at is in seconds, so offers made within one
     * second are ordered by rowid, the order they were inserted in (ids
     * are random within their millisecond). */
    sqlite3_stmt *st = db_prepare(c, "SELECT " OFFER_COLS " FROM offers o "
                                     "JOIN appointments a ON a.id = o.appointment_id "
                                     "WHERE (?1 IS NULL OR o.appointment_id = ?1) "
                                     "AND (?2 IS NULL OR a.start_utc >= ?2) "
                                     "AND (?3 IS NULL OR a.start_utc < ?3) "
                                     "ORDER BY o.created_at DESC, o.rowid DESC LIMIT ?4");
    int rc;
    offer_rec o;
    if (!st)
        return STORE_ERROR;
    rows_bind_opt(st, 1, f->appointment_id);
    rows_bind_opt_int(st, 2, f->from);
    rows_bind_opt_int(st, 3, f->to);
    sqlite3_bind_int(st, 4, f->limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_offer(st, &o);
        if (read_options(c, &o) != STORE_OK || fn(&o, ctx) != 0) {
            sqlite3_reset(st);
            return STORE_ERROR;
        }
    }
    return rows_write_rc(st, rc);
}

int store_offer_mark_used(db_conn_t *c, const char *offer_id, int64_t at, int option,
                          const char *new_appointment_id)
{
    sqlite3_stmt *st = db_prepare(c, "UPDATE offers SET used_at = ?2, used_option = ?3, "
                                     "new_appointment_id = ?4 WHERE id = ?1 AND used_at IS NULL");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, offer_id);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int(st, 3, option);
    rows_bind_text(st, 4, new_appointment_id);
    int rc = rows_write_rc(st, sqlite3_step(st));
    if (rc == STORE_OK && sqlite3_changes(db_handle(c)) == 0)
        return STORE_CONFLICT;
    return rc;
}
