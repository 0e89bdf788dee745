/*
 * migrate.h — versioned schema migrations.
 *
 * The numbered files in src/store/migrations/ are compiled into the binary
 * (embed_migrations.cmake). PRAGMA user_version holds the version applied;
 * each newer migration runs in its own transaction together with the version
 * bump, so a crash mid-upgrade leaves the database at the previous version.
 */
#ifndef CLINICBOX_MIGRATE_H
#define CLINICBOX_MIGRATE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

struct migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct migration migrations[];
extern const int migrations_count;

/* Brings db up to the newest version. Refuses a database newer than this
 * binary. Returns false with a message in err. */
bool migrate_run(sqlite3 *db, char *err, size_t errlen);
int migrate_latest(void);

#endif
