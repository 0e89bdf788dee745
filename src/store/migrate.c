/* migrate.c — see migrate.h. Runs once at start, before any other thread. */
#include "store/migrate.h"

#include <stdio.h>

#include "core/log.h"

int migrate_latest(void)
{
    return migrations_count ? migrations[migrations_count - 1].version : 0;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* false (with a message for *msg, sqlite3_malloc'd) when a row references
 * one that is not there. */
static bool foreign_keys_hold(sqlite3 *db, char **msg)
{
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) == SQLITE_OK;
    if (ok && sqlite3_step(st) == SQLITE_ROW) {
        *msg = sqlite3_mprintf("a row of %s references a missing row of %s",
                               (const char *)sqlite3_column_text(st, 0),
                               (const char *)sqlite3_column_text(st, 2));
        ok = false;
    }
    sqlite3_finalize(st);
    return ok;
}

bool migrate_run(sqlite3 *db, char *err, size_t errlen)
{
    int current = user_version(db);
    if (current < 0) {
        snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(db));
        return false;
    }
    if (current > migrate_latest()) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this clinicbox (%d); "
                 "install the newer clinicbox again",
                 current, migrate_latest());
        return false;
    }
    /* Foreign keys are off while migrations run, so one can rebuild a table
     * (SQLite's documented way to change a constraint) without its DROP
     * cascading; each migration must leave no dangling reference
     * (foreign_key_check) before it commits. */
    sqlite3_exec(db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);
    bool ok = true;
    for (int i = 0; ok && i < migrations_count; i++) {
        const struct migration *m = &migrations[i];
        char *msg = NULL, bump[64];
        if (m->version <= current)
            continue;
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", m->version);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK ||
            !foreign_keys_hold(db, &msg) ||
            sqlite3_exec(db, bump, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %s failed: %s", m->name,
                     msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            ok = false;
            break;
        }
        log_info("store", "applied migration %s (schema version %d)", m->name, m->version);
    }
    sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    return ok;
}
