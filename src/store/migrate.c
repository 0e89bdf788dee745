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
    for (int i = 0; i < migrations_count; i++) {
        const struct migration *m = &migrations[i];
        char *msg = NULL, bump[64];
        if (m->version <= current)
            continue;
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", m->version);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, bump, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %s failed: %s", m->name,
                     msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return false;
        }
        log_info("store", "applied migration %s (schema version %d)", m->name, m->version);
    }
    return true;
}
