/*
 * db.c — see db.h for the threading model.
 *
 * Pragmas on every connection: journal_mode=WAL, synchronous=FULL (a commit
 * is on disk before it is acknowledged, also across power cuts),
 * foreign_keys=ON, busy_timeout=5000 (only other processes, such as an
 * admin's sqlite3 shell, can make us wait).
 */
#include "store/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "store/migrate.h"

#define STMT_CACHE 96
/* Readers: at most this many connections, each with a small page cache.
 * Two cores cannot use more; more would only cost memory (each connection
 * keeps its own cache), and a request waits briefly for a free one. */
#define POOL_MAX 16
#define READER_CACHE_KIB 512
#define STR_(x) #x
#define STR(x) STR_(x)
#define CACHE_KIB_TEXT STR(READER_CACHE_KIB)
#define BATCH_MAX 256

struct db_conn {
    sqlite3 *sql;
    int nstmt;
    const char *keys[STMT_CACHE];
    sqlite3_stmt *stmts[STMT_CACHE];
};

struct job {
    db_job_fn fn;
    void *arg;
    int rc;
    bool done;
    pthread_cond_t done_cond; /* its own: waking every waiter per batch thrashes */
    struct job *next;
};

struct db {
    char path[600];
    db_conn_t *writer;
    pthread_t writer_thread;
    pthread_mutex_t lock;
    pthread_cond_t work;    /* jobs queued or stopping */
    struct job *head, *tail;
    bool stopping;
    unsigned long long commits, jobs;
    /* reader pool */
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_free;
    db_conn_t *pool[POOL_MAX];
    int npool; /* idle connections in pool[] */
    int nopen; /* reader connections in existence */
};

sqlite3 *db_handle(db_conn_t *c)
{
    return c->sql;
}

const char *db_path(const db_t *db)
{
    return db->path;
}

static void conn_free(db_conn_t *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nstmt; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->sql);
    free(c);
}

static db_conn_t *conn_open(const char *path, char *err, size_t errlen)
{
    db_conn_t *c = calloc(1, sizeof *c);
    char *msg = NULL;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &c->sql,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 c->sql ? sqlite3_errmsg(c->sql) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(c->sql, 5000);
    if (sqlite3_exec(c->sql,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    return c;
fail:
    conn_free(c);
    return NULL;
}

sqlite3_stmt *db_prepare(db_conn_t *c, const char *sql)
{
    for (int i = 0; i < c->nstmt; i++)
        if (c->keys[i] == sql) {
            sqlite3_reset(c->stmts[i]);
            sqlite3_clear_bindings(c->stmts[i]);
            return c->stmts[i];
        }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_error("store", "cannot prepare statement: %s", sqlite3_errmsg(c->sql));
        return NULL;
    }
    if (c->nstmt < STMT_CACHE) {
        c->keys[c->nstmt] = sql;
        c->stmts[c->nstmt++] = st;
    } else {
        /* Should not happen: the program has fewer statements than the
         * cache. Keep it working by replacing the oldest entry. */
        log_warn("store", "statement cache full");
        sqlite3_finalize(c->stmts[0]);
        memmove(c->keys, c->keys + 1, sizeof c->keys[0] * (STMT_CACHE - 1));
        memmove(c->stmts, c->stmts + 1, sizeof c->stmts[0] * (STMT_CACHE - 1));
        c->keys[STMT_CACHE - 1] = sql;
        c->stmts[STMT_CACHE - 1] = st;
    }
    return st;
}

static void conn_reset_all(db_conn_t *c)
{
    for (int i = 0; i < c->nstmt; i++)
        sqlite3_reset(c->stmts[i]);
}

bool db_exec_stmt(sqlite3_stmt *st)
{
    int rc;
    if (!st)
        return false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    return rc == SQLITE_DONE;
}

/* Runs one of the writer's fixed statements (BEGIN, SAVEPOINT, ...),
 * prepared once and cached like any other. */
static bool exec_sql(db_conn_t *c, const char *sql)
{
    sqlite3_stmt *st = db_prepare(c, sql);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (st)
        sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("store", "%s: %s", sql, sqlite3_errmsg(c->sql));
        return false;
    }
    return true;
}

/* Runs one batch of jobs in one transaction. Called with db->lock NOT held. */
static void run_batch(db_t *db, struct job *batch)
{
    db_conn_t *c = db->writer;
    bool ok = exec_sql(c, "BEGIN IMMEDIATE"); /* the transaction is still whole */
    int njobs = 0;

    for (struct job *j = batch; j; j = j->next) {
        njobs++;
        if (!ok || !exec_sql(c, "SAVEPOINT job")) {
            ok = false;
            j->rc = DB_UNAVAILABLE;
            continue;
        }
        j->rc = j->fn(c, j->arg);
        conn_reset_all(c);
        /* If the failed job's writes cannot be undone, or the savepoint
         * cannot be closed, what the transaction holds is not known: the
         * whole batch fails, rather than commit a failed job's partial
         * writes with it. */
        if (j->rc != 0 && !exec_sql(c, "ROLLBACK TO job"))
            ok = false;
        if (!exec_sql(c, "RELEASE job"))
            ok = false;
        /* Some errors (a full disk, an I/O error) make SQLite roll back the
         * whole transaction, earlier jobs' work included: then none of this
         * batch may be reported as done. */
        if (sqlite3_get_autocommit(c->sql)) {
            log_error("store", "the transaction was rolled back: %s", sqlite3_errmsg(c->sql));
            ok = false;
        }
    }
    if (ok && !exec_sql(c, "COMMIT"))
        ok = false;
    if (!ok) {
        if (!sqlite3_get_autocommit(c->sql))
            exec_sql(c, "ROLLBACK");
        for (struct job *j = batch; j; j = j->next)
            if (j->rc == 0)
                j->rc = DB_UNAVAILABLE;
    }
    pthread_mutex_lock(&db->lock);
    db->commits++;
    db->jobs += (unsigned long long)njobs;
    for (struct job *j = batch, *next; j; j = next) {
        next = j->next; /* j lives on its waiter's stack: read next first */
        j->done = true;
        pthread_cond_signal(&j->done_cond);
    }
    pthread_mutex_unlock(&db->lock);
}

static void *writer_main(void *arg)
{
    db_t *db = arg;
    pthread_mutex_lock(&db->lock);
    for (;;) {
        while (!db->head && !db->stopping)
            pthread_cond_wait(&db->work, &db->lock);
        if (!db->head && db->stopping)
            break;
        /* Take up to BATCH_MAX waiting jobs. */
        struct job *batch = db->head, *last = db->head;
        int n = 1;
        while (last->next && n < BATCH_MAX) {
            last = last->next;
            n++;
        }
        db->head = last->next;
        if (!db->head)
            db->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&db->lock);
        run_batch(db, batch);
        pthread_mutex_lock(&db->lock);
    }
    pthread_mutex_unlock(&db->lock);
    return NULL;
}

int db_write(db_t *db, db_job_fn fn, void *arg)
{
    /* The job lives on this stack: the writer links it into its queue and
     * unlinks it before setting done, and this function returns only then. */
    struct job j = {.fn = fn, .arg = arg};
    pthread_cond_init(&j.done_cond, NULL);
    pthread_mutex_lock(&db->lock);
    if (db->stopping) {
        pthread_mutex_unlock(&db->lock);
        pthread_cond_destroy(&j.done_cond);
        return DB_UNAVAILABLE;
    }
    if (db->tail)
        db->tail->next = &j;
    else
        db->head = &j;
    db->tail = &j;
    pthread_cond_signal(&db->work);
    while (!j.done)
        pthread_cond_wait(&j.done_cond, &db->lock);
    pthread_mutex_unlock(&db->lock);
    pthread_cond_destroy(&j.done_cond);
    return j.rc;
}

db_conn_t *db_reader(db_t *db)
{
    db_conn_t *c = NULL;
    char err[256];
    pthread_mutex_lock(&db->pool_lock);
    while (db->npool == 0 && db->nopen >= POOL_MAX)
        pthread_cond_wait(&db->pool_free, &db->pool_lock);
    if (db->npool > 0)
        c = db->pool[--db->npool];
    else
        db->nopen++;
    pthread_mutex_unlock(&db->pool_lock);
    if (c)
        return c;
    c = conn_open(db->path, err, sizeof err);
    if (c && sqlite3_exec(c->sql, "PRAGMA cache_size=-" CACHE_KIB_TEXT, NULL, NULL, NULL) != SQLITE_OK)
        log_warn("store", "cannot size the reader cache");
    if (!c) {
        log_error("store", "%s", err);
        pthread_mutex_lock(&db->pool_lock);
        db->nopen--;
        pthread_cond_signal(&db->pool_free);
        pthread_mutex_unlock(&db->pool_lock);
    }
    return c;
}

void db_reader_release(db_t *db, db_conn_t *c)
{
    if (!c)
        return;
    conn_reset_all(c);
    if (!sqlite3_get_autocommit(c->sql))
        sqlite3_exec(c->sql, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&db->pool_lock);
    db->pool[db->npool++] = c;
    pthread_cond_signal(&db->pool_free);
    pthread_mutex_unlock(&db->pool_lock);
}

/* SQLite's own log (errors it recovers from, a WAL it replays, an index it
 * had to build on the fly) through the box's logger, like every library's. */
static void sqlite_log(void *arg, int code, const char *msg)
{
    (void)arg;
    int primary = code & 0xff;
    if (primary == SQLITE_CONSTRAINT) /* a slot taken: the caller answers 409 */
        log_debug("sqlite", "%s (%d)", msg, code);
    else if (primary == SQLITE_NOTICE || primary == SQLITE_WARNING)
        log_info("sqlite", "%s (%d)", msg, code);
    else
        log_warn("sqlite", "%s (%d)", msg, code);
}

static void sqlite_log_once(void)
{
    sqlite3_config(SQLITE_CONFIG_LOG, sqlite_log, NULL);
}

db_t *db_open(const char *dir, char *err, size_t errlen)
{
    static pthread_once_t log_once = PTHREAD_ONCE_INIT;
    pthread_once(&log_once, sqlite_log_once);
    db_t *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&db->lock, NULL);
    pthread_mutex_init(&db->pool_lock, NULL);
    pthread_cond_init(&db->pool_free, NULL);
    pthread_cond_init(&db->work, NULL);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    snprintf(db->path, sizeof db->path, "%s/clinicbox.db", dir);
    db->writer = conn_open(db->path, err, errlen);
    if (!db->writer)
        goto fail;
    if (!migrate_run(db->writer->sql, err, errlen))
        goto fail;
    if (pthread_create(&db->writer_thread, NULL, writer_main, db) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        goto fail;
    }
    return db;
fail:
    conn_free(db->writer);
    free(db);
    return NULL;
}

void db_close(db_t *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&db->lock);
    db->stopping = true;
    pthread_cond_signal(&db->work);
    pthread_mutex_unlock(&db->lock);
    pthread_join(db->writer_thread, NULL);
    for (int i = 0; i < db->npool; i++)
        conn_free(db->pool[i]);
    conn_free(db->writer);
    pthread_mutex_destroy(&db->lock);
    pthread_mutex_destroy(&db->pool_lock);
    pthread_cond_destroy(&db->pool_free);
    pthread_cond_destroy(&db->work);
    free(db);
}

bool db_checkpoint(db_t *db)
{
    char err[256];
    int busy = -1, log_frames = -1, done = -1;
    db_conn_t *c = conn_open(db->path, err, sizeof err);
    if (!c) {
        log_warn("store", "cannot checkpoint the WAL: %s", err);
        return false;
    }
    sqlite3_stmt *st = db_prepare(c, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        busy = sqlite3_column_int(st, 0);
        log_frames = sqlite3_column_int(st, 1);
        done = sqlite3_column_int(st, 2);
    }
    conn_free(c);
    if (busy != 0) {
        log_warn("store", "WAL checkpoint incomplete (%d of %d frames): a reader was still open",
                 done, log_frames);
        return false;
    }
    log_info("store", "WAL checkpointed into %s", db->path);
    return true;
}

void db_stats(db_t *db, unsigned long long *commits, unsigned long long *jobs)
{
    pthread_mutex_lock(&db->lock);
    *commits = db->commits;
    *jobs = db->jobs;
    pthread_mutex_unlock(&db->lock);
}
