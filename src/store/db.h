/*
 * db.h — the SQLite storage engine: connections, the writer and readers.
 *
 * Threads and locking: exactly one writer thread owns the only connection
 * that writes. Other threads hand it jobs with db_write() and block until the
 * job's transaction is durable. The writer takes every job that is waiting,
 * runs each inside its own SAVEPOINT (a failing job rolls back alone) and
 * commits them all with one fsync (group commit, synchronous=FULL). Readers
 * borrow one of a few pooled connections (WAL lets them read while the writer
 * writes). Nothing outside this file sees SQLITE_BUSY.
 *
 * Every connection caches its prepared statements: db_prepare() returns a
 * reset statement for a static SQL string; all of a connection's statements
 * are reset when a job ends or a reader is returned to the pool.
 */
#ifndef CLINICBOX_DB_H
#define CLINICBOX_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct db db_t;
typedef struct db_conn db_conn_t;

/* db_write() returns this when the batch could not be committed. */
#define DB_UNAVAILABLE (-1)

/* A write job: runs on the writer thread inside a transaction. Return 0 to
 * keep its changes, or a positive code of your own to roll them back (the
 * code is handed back by db_write). An SQLite error should return a code the
 * caller maps to "storage unavailable". */
typedef int (*db_job_fn)(db_conn_t *c, void *arg);

/* Opens (creating if needed) DIR/clinicbox.db, applies migrations and starts
 * the writer thread. NULL with a message in err on failure. */
db_t *db_open(const char *dir, char *err, size_t errlen);
void db_close(db_t *db); /* accepts NULL; waits for queued jobs */

int db_write(db_t *db, db_job_fn fn, void *arg);

/* Borrows a reader, waiting while all are in use; never call it while
 * holding one (or from a write job). NULL if none can be opened. */
db_conn_t *db_reader(db_t *db);
void db_reader_release(db_t *db, db_conn_t *c);

sqlite3 *db_handle(db_conn_t *c);
/* A cached, reset statement for `sql`, which must be a string literal (it is
 * cached by address). NULL (and logged) if it does not compile. */
sqlite3_stmt *db_prepare(db_conn_t *c, const char *sql);

/* Runs a statement to completion; true on SQLITE_DONE/ROW. */
bool db_exec_stmt(sqlite3_stmt *st);

/* Folds the WAL into the database file and truncates it, through a
 * connection of its own (so it works while the writer thread still runs);
 * readers still inside a transaction make it partial. true when complete;
 * logs either way. For a clean stop. */
bool db_checkpoint(db_t *db);

/* Path of the database file. */
const char *db_path(const db_t *db);

/* Write-batch statistics for /metrics. */
void db_stats(db_t *db, unsigned long long *commits, unsigned long long *jobs);

#endif
