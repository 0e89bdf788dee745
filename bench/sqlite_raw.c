/*
 * sqlite_raw.c — the durability ceiling for bookings: SQLite's raw rate of
 * single-row commits on this machine.
 *
 * Opens a fresh database file in DIR (which run.sh puts on the same
 * filesystem as the server's data dir), applies the same pragmas as
 * clinicbox (journal_mode=WAL, synchronous=FULL, foreign_keys=ON) and, from
 * one thread, runs BEGIN; INSERT one row; COMMIT in a loop for the given
 * number of seconds. Each COMMIT fsyncs the WAL, so the rate is bounded by
 * the storage's fsync latency, which is exactly what a durable booking pays.
 *
 * The table is shaped like an appointment row (text ids, integer times, a
 * foreign key to a doctor row and a unique (doctor, start) index), so the
 * work per commit is comparable to one booking's INSERT.
 *
 * Usage: bench_sqlite_raw --dir DIR [--duration SECONDS] [--keep]
 * Prints human-readable figures and one machine-readable line:
 *   RESULT commits=N seconds=S rate=R p50_ms=A p99_ms=B
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die_db(sqlite3 *db, const char *what)
{
    fprintf(stderr, "bench_sqlite_raw: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
    exit(1);
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "bench_sqlite_raw: %s: %s\n", sql, err ? err : "?");
        sqlite3_free(err);
        exit(1);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_sqlite_raw --dir DIR [--duration SECONDS] [--keep]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    double duration = 10.0;
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc)
            duration = atof(argv[++i]);
        else if (strcmp(argv[i], "--keep") == 0)
            keep = 1;
        else
            usage();
    }
    if (!dir || duration <= 0)
        usage();

    char path[4096];
    snprintf(path, sizeof path, "%s/raw-%ld.db", dir, (long)getpid());
    unlink(path);

    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        die_db(db, "open");
    exec_or_die(db, "PRAGMA journal_mode=WAL");
    exec_or_die(db, "PRAGMA synchronous=FULL");
    exec_or_die(db, "PRAGMA foreign_keys=ON");
    exec_or_die(db,
                "CREATE TABLE doctors(id TEXT PRIMARY KEY, name TEXT NOT NULL);"
                "CREATE TABLE appointments("
                " id TEXT PRIMARY KEY,"
                " doctor_id TEXT NOT NULL REFERENCES doctors(id),"
                " patient_id TEXT NOT NULL,"
                " start_utc INTEGER NOT NULL,"
                " end_utc INTEGER NOT NULL,"
                " status TEXT NOT NULL,"
                " created_at INTEGER NOT NULL);"
                "CREATE UNIQUE INDEX appt_doctor_start ON appointments(doctor_id, start_utc);"
                "INSERT INTO doctors VALUES('d-0000000000000000','Dr Raw');");

    sqlite3_stmt *begin = NULL, *ins = NULL, *commit = NULL;
    if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK)
        die_db(db, "prepare begin");
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO appointments(id, doctor_id, patient_id, start_utc,"
                           " end_utc, status, created_at) VALUES(?,?,?,?,?,?,?)",
                           -1, &ins, NULL) != SQLITE_OK)
        die_db(db, "prepare insert");
    if (sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK)
        die_db(db, "prepare commit");

    size_t cap = 1 << 16, n = 0;
    uint32_t *lat_us = malloc(cap * sizeof *lat_us);
    if (!lat_us) {
        perror("malloc");
        return 1;
    }

    const int64_t base = 1893456000; /* 2030-01-01T00:00:00Z */
    double t0 = now_s(), deadline = t0 + duration, t = t0;
    while (t < deadline) {
        char id[40];
        snprintf(id, sizeof id, "a-%016zx", n);
        double ts = now_s();
        if (sqlite3_step(begin) != SQLITE_DONE)
            die_db(db, "begin");
        sqlite3_reset(begin);
        sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 2, "d-0000000000000000", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, "p-0000000000000000", -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 4, base + (int64_t)n * 900);
        sqlite3_bind_int64(ins, 5, base + (int64_t)n * 900 + 900);
        sqlite3_bind_text(ins, 6, "booked", -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 7, (int64_t)time(NULL));
        if (sqlite3_step(ins) != SQLITE_DONE)
            die_db(db, "insert");
        sqlite3_reset(ins);
        if (sqlite3_step(commit) != SQLITE_DONE)
            die_db(db, "commit");
        sqlite3_reset(commit);
        t = now_s();
        if (n == cap) {
            cap *= 2;
            uint32_t *p = realloc(lat_us, cap * sizeof *lat_us);
            if (!p) {
                perror("realloc");
                return 1;
            }
            lat_us = p;
        }
        lat_us[n++] = (uint32_t)((t - ts) * 1e6);
    }
    double elapsed = t - t0;

    sqlite3_finalize(begin);
    sqlite3_finalize(ins);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    if (!keep) {
        char side[4200];
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
    }

    qsort(lat_us, n, sizeof *lat_us, cmp_u32);
    double p50 = n ? lat_us[(n - 1) * 50 / 100] / 1000.0 : 0;
    double p99 = n ? lat_us[(n - 1) * 99 / 100] / 1000.0 : 0;
    double rate = elapsed > 0 ? (double)n / elapsed : 0;
    printf("sqlite raw single-row commits (WAL, synchronous=FULL, foreign_keys=ON), %s\n", dir);
    printf("  commits %zu in %.2f s = %.1f commits/s, p50 %.3f ms, p99 %.3f ms\n", n, elapsed,
           rate, p50, p99);
    printf("RESULT commits=%zu seconds=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f\n", n, elapsed, rate,
           p50, p99);
    free(lat_us);
    return 0;
}
