/*
 * events.c — the append-only event log (the schema forbids UPDATE and
 * DELETE), and pages of it for GET /api/events. A page is read newest first
 * by seq (the order of appending, whatever the clock did), from below a
 * cursor: keyset paging, so a page costs the same however deep it is and
 * events appended meanwhile never shift the pages that follow.
 */
#include <stdint.h>

#include "store/rows.h"

int store_event(db_conn_t *c, int64_t at, const char *actor, const char *entity,
                const char *entity_id, const char *type, const char *data)
{
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO events (at, actor, entity, entity_id, type, "
                                     "data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, at);
    rows_bind_text(st, 2, actor);
    rows_bind_text(st, 3, entity);
    rows_bind_text(st, 4, entity_id);
    rows_bind_text(st, 5, type);
    rows_bind_text(st, 6, data && *data ? data : "{}");
    return rows_write_rc(st, sqlite3_step(st));
}

/* The filters after the record's; ?1 entity, ?2 entity id, ?3 type, ?4 actor
 * prefix (NULL: any), ?5 since, ?6 before, ?7 cursor, ?8 the page + 1. */
#define EVENT_COLS "SELECT seq, at, actor, entity, entity_id, type, data FROM events "
#define EVENT_REST                                                                     \
    "AND seq < ?7 AND (?3 IS NULL OR type = ?3) "                                      \
    "AND (?4 IS NULL OR substr(actor, 1, length(?4)) = ?4) AND at >= ?5 AND at < ?6 " \
    "ORDER BY seq DESC LIMIT ?8"

struct event_page {
    void (*fn)(const event_rec *, void *);
    void *ctx;
};

static const char *col(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

static void event_row(sqlite3_stmt *st, void *arg)
{
    struct event_page *p = arg;
    event_rec e = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), col(st, 2),
                   col(st, 3), col(st, 4), col(st, 5), col(st, 6)};
    p->fn(&e, p->ctx);
}

int store_event_page(db_conn_t *c, const struct event_filter *f,
                     void (*fn)(const event_rec *, void *), void *ctx, bool *more)
{
    /* one record's events through the (entity, entity_id) index; the
     * others walk the log down from the cursor */
    bool record = f->entity && *f->entity && f->entity_id && *f->entity_id;
    sqlite3_stmt *st =
        record ? db_prepare(c, EVENT_COLS "WHERE entity = ?1 AND entity_id = ?2 " EVENT_REST)
               : db_prepare(c, EVENT_COLS "WHERE (?1 IS NULL OR entity = ?1) "
                                          "AND (?2 IS NULL OR entity_id = ?2) " EVENT_REST);
    if (!st)
        return STORE_ERROR;
    rows_bind_opt(st, 1, f->entity);
    rows_bind_opt(st, 2, f->entity_id);
    rows_bind_opt(st, 3, f->type);
    rows_bind_opt(st, 4, f->actor_prefix);
    sqlite3_bind_int64(st, 5, f->has_since ? f->since : INT64_MIN);
    sqlite3_bind_int64(st, 6, f->has_before ? f->before : INT64_MAX);
    sqlite3_bind_int64(st, 7, f->cursor ? f->cursor : INT64_MAX);
    sqlite3_bind_int64(st, 8, (int64_t)f->limit + 1); /* one more: is there a next page? */
    struct event_page p = {fn, ctx};
    return rows_page(st, f->limit, event_row, &p, more);
}
