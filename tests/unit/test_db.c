/*
 * test_db.c — the writer's batches (store/db.c): a failed job's writes never
 * commit, also when its savepoint cannot be rolled back to.
 *
 * The fault is made without any hook in the product: a job that releases the
 * writer's savepoint itself (RELEASE job) and then fails leaves its writes in
 * the batch's transaction, and the writer's ROLLBACK TO job fails with "no
 * such savepoint". The whole batch must then fail, not commit those writes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/db.h"
#include "unit.h"

static int put(db_conn_t *c, const char *key)
{
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO meta (key, value) VALUES (?1, '1')");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    return db_exec_stmt(st) ? 0 : -1;
}

static int good_job(db_conn_t *c, void *arg)
{
    return put(c, arg);
}

/* Writes, then fails normally: the writer rolls back to its savepoint. */
static int failing_job(db_conn_t *c, void *arg)
{
    put(c, arg);
    return -5;
}

/* Writes, releases the writer's savepoint, then fails: ROLLBACK TO job fails. */
static int sabotage_job(db_conn_t *c, void *arg)
{
    put(c, arg);
    sqlite3_exec(db_handle(c), "RELEASE job", NULL, NULL, NULL);
    return -5;
}

static long count(db_t *db, const char *key)
{
    db_conn_t *c = db_reader(db);
    long n = -1;
    sqlite3_stmt *st = c ? db_prepare(c, "SELECT count(*) FROM meta WHERE key = ?1") : NULL;
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
    }
    db_reader_release(db, c);
    return n;
}

static db_t *open_tmp(char *dir)
{
    char err[300];
    strcpy(dir, "/tmp/clinicbox-unit-db-XXXXXX");
    if (!mkdtemp(dir))
        return NULL;
    db_t *db = db_open(dir, err, sizeof err);
    if (!db)
        fprintf(stderr, "db_open: %s\n", err);
    return db;
}

static void remove_tmp(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void test_failed_job_rolls_back_alone(void)
{
    char dir[64];
    db_t *db = open_tmp(dir);
    CHECK(db != NULL);
    if (!db)
        return;
    CHECK_EQ_INT(db_write(db, failing_job, "t1-failed"), -5);
    CHECK_EQ_INT(db_write(db, good_job, "t1-good"), 0);
    CHECK_EQ_INT(count(db, "t1-failed"), 0);
    CHECK_EQ_INT(count(db, "t1-good"), 1);
    db_close(db);
    remove_tmp(dir);
}

static void test_failed_rollback_fails_the_batch_alone(void)
{
    char dir[64];
    db_t *db = open_tmp(dir);
    CHECK(db != NULL);
    if (!db)
        return;
    CHECK(db_write(db, sabotage_job, "t2-bad") != 0);
    CHECK_EQ_INT(count(db, "t2-bad"), 0); /* before the fix: 1, committed */
    /* the writer goes on working */
    CHECK_EQ_INT(db_write(db, good_job, "t2-after"), 0);
    CHECK_EQ_INT(count(db, "t2-after"), 1);
    db_close(db);
    remove_tmp(dir);
}

/* ---- a batch of several jobs --------------------------------------------- */

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered, open;
};

static int blocking_job(db_conn_t *c, void *arg)
{
    struct gate *g = arg;
    (void)c;
    pthread_mutex_lock(&g->lock);
    g->entered = true;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
    return 0;
}

struct submit {
    db_t *db;
    db_job_fn fn;
    void *arg;
    int rc;
};

static void *submit_main(void *arg)
{
    struct submit *s = arg;
    s->rc = db_write(s->db, s->fn, s->arg);
    return NULL;
}

static void test_failed_rollback_fails_the_whole_batch(void)
{
    char dir[64];
    db_t *db = open_tmp(dir);
    CHECK(db != NULL);
    if (!db)
        return;
    /* The writer is held inside a first job while two more queue up; they
     * then run as one batch (the writer takes every waiting job). */
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
    struct submit a = {db, blocking_job, &g, 99}, b = {db, good_job, "t3-good", 99},
                  s = {db, sabotage_job, "t3-bad", 99};
    pthread_t ta, tb, ts;
    pthread_create(&ta, NULL, submit_main, &a);
    pthread_mutex_lock(&g.lock);
    while (!g.entered)
        pthread_cond_wait(&g.cond, &g.lock);
    pthread_mutex_unlock(&g.lock);
    pthread_create(&tb, NULL, submit_main, &b);
    usleep(200 * 1000);
    pthread_create(&ts, NULL, submit_main, &s);
    usleep(300 * 1000);
    pthread_mutex_lock(&g.lock);
    g.open = true;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_join(ts, NULL);

    CHECK_EQ_INT(a.rc, 0);
    CHECK(s.rc != 0);
    /* The good job shared the failed batch: it is not reported as done, and
     * neither its write nor the failed job's is there. */
    CHECK_EQ_INT(b.rc, DB_UNAVAILABLE);
    CHECK_EQ_INT(count(db, "t3-good"), 0);
    CHECK_EQ_INT(count(db, "t3-bad"), 0); /* before the fix: 1, committed */
    CHECK_EQ_INT(db_write(db, good_job, "t3-after"), 0);
    CHECK_EQ_INT(count(db, "t3-after"), 1);
    db_close(db);
    remove_tmp(dir);
}

int main(void)
{
    RUN(test_failed_job_rolls_back_alone);
    RUN(test_failed_rollback_fails_the_batch_alone);
    RUN(test_failed_rollback_fails_the_whole_batch);
    return unit_summary();
}
