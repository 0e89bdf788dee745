/* events.c — the append-only event log (the schema forbids UPDATE and DELETE). */
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
