/* journal.c — see journal.h. Writes in write jobs, reads on readers. */
#include "sync/journal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "sync/pull.h"

/* ---- enabling ------------------------------------------------------------ */

/* Journals every record (the seed of an empty central database). */
static int journal_all(db_conn_t *c)
{
    static const char *const seed[] = {
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'clinics', id, updated_at * 1000 FROM clinic",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'doctors', id, updated_at * 1000 FROM doctors",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'schedules', id, updated_at * 1000 FROM doctors",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'patients', id, updated_at * 1000 FROM patients",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'appointments', id, updated_at * 1000 FROM appointments",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'offers', id, created_at * 1000 FROM offers",
        /* a message skipped when made stays on the box (migration 0015) */
        ("INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'notifications', id, updated_at * 1000 FROM notifications "
         "WHERE status <> 'skipped'"),
    };
    for (size_t i = 0; i < sizeof seed / sizeof seed[0]; i++)
        if (!db_exec_stmt(db_prepare(c, seed[i])))
            return -1;
    return 0;
}

struct enable_job {
    bool on;
};

static int enable_job(db_conn_t *c, void *arg)
{
    struct enable_job *j = arg;
    sqlite3_stmt *st = db_prepare(c, "SELECT enabled FROM sync_state");
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        return -1;
    bool was = sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    if (was == j->on)
        return 0;
    st = db_prepare(c, "UPDATE sync_state SET enabled = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, j->on);
    if (!db_exec_stmt(st))
        return -1;
    if (!j->on) /* what changes while off is found by the seed when it is on again */
        return db_exec_stmt(db_prepare(c, "DELETE FROM sync_journal")) ? 0 : -1;
    return journal_all(c);
}

struct epoch_job {
    const char *epoch;
    bool reseeded;
};

static int epoch_job(db_conn_t *c, void *arg)
{
    struct epoch_job *j = arg;
    char known[ID_LEN + 8] = "";
    int rc = store_meta_get_text(c, "central_epoch", known, sizeof known);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND)
        return -1;
    if (rc == STORE_OK && strcmp(known, j->epoch) == 0)
        return 0;
    /* A central database this box has not seen before (at first contact
     * the enable seed already journaled everything): push everything. */
    if (rc == STORE_OK) {
        /* the bases of the field-level merge (merge.h) were the old
         * database's documents */
        if (journal_all(c) != 0 || sync_pull_reset_in_tx(c) != 0 ||
            !db_exec_stmt(db_prepare(c, "DELETE FROM sync_base")))
            return -1;
        j->reseeded = true;
    }
    return store_meta_set_text(c, "central_epoch", j->epoch) == STORE_OK ? 0 : -1;
}

int sync_check_epoch(app_t *app, const char *epoch)
{
    struct epoch_job j = {epoch, false};
    if (db_write(app->db, epoch_job, &j) != 0)
        return -1;
    return j.reseeded ? 1 : 0;
}

bool sync_journal_enable(app_t *app, bool on)
{
    struct enable_job j = {on};
    return db_write(app->db, enable_job, &j) == 0;
}

long sync_pending(app_t *app)
{
    db_conn_t *c = db_reader(app->db);
    sqlite3_stmt *st = c ? db_prepare(c, "SELECT count(*) FROM sync_journal") : NULL;
    long n = st && sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    if (st)
        sqlite3_reset(st);
    db_reader_release(app->db, c);
    return n;
}

bool sync_pending_oldest(app_t *app, long *n, int64_t *oldest_ms)
{
    db_conn_t *c = db_reader(app->db);
    sqlite3_stmt *st =
        c ? db_prepare(c, "SELECT count(*), coalesce(min(at_ms), 0) FROM sync_journal") : NULL;
    bool ok = st && sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
        *n = (long)sqlite3_column_int64(st, 0);
        *oldest_ms = sqlite3_column_int64(st, 1);
    }
    if (st)
        sqlite3_reset(st);
    db_reader_release(app->db, c);
    return ok;
}

/* ---- rows ---------------------------------------------------------------- */

int sync_journal_has(db_conn_t *c, const char *collection, const char *id)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT EXISTS (SELECT 1 FROM sync_journal "
                                     "WHERE entity = ?1 AND entity_id = ?2)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) != 0 : -1;
    sqlite3_reset(st);
    return rc;
}

bool sync_journal_add(db_conn_t *c, const char *collection, const char *id, int64_t at_ms)
{
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO sync_journal (entity, entity_id, at_ms) "
                                     "VALUES (?1, ?2, ?3)");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, at_ms);
    return db_exec_stmt(st);
}

int sync_rev_get(db_conn_t *c, const char *collection, const char *id, char *out, size_t len)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT rev FROM sync_revs WHERE entity = ?1 AND "
                                     "entity_id = ?2");
    out[0] = 0;
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

bool sync_rev_set(db_conn_t *c, const char *collection, const char *id, const char *rev)
{
    sqlite3_stmt *st = db_prepare(c, "INSERT OR REPLACE INTO sync_revs (entity, entity_id, rev) "
                                     "VALUES (?1, ?2, ?3)");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, rev, -1, SQLITE_TRANSIENT);
    return db_exec_stmt(st);
}
