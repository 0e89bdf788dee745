/*
 * backup.c — see backup.h. Plain sqlite3 connections of its own (not the
 * server's pool): `clinicbox backup` runs in another process beside the
 * server, and the nightly backup must not hold a reader of the pool for the
 * seconds a copy takes.
 */
#include "store/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/audit.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/store.h"

/* The one text result of a statement (a PRAGMA's answer). */
static bool one_text(sqlite3 *db, const char *sql, char *out, size_t len)
{
    sqlite3_stmt *st = NULL;
    bool ok = false;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, len, "%s", t ? (const char *)t : "");
        ok = true;
    }
    sqlite3_finalize(st);
    return ok;
}

static long long one_int(sqlite3 *db, const char *sql, int64_t bind)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_bind_parameter_count(st) > 0)
            sqlite3_bind_int64(st, 1, bind);
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static bool exec1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

/* integrity_check's first line ("ok" when sound) into out. */
static bool integrity(sqlite3 *db, char *out, size_t len)
{
    return one_text(db, "PRAGMA integrity_check(1)", out, len);
}

static bool summarize(sqlite3 *db, int64_t now, backup_summary *s, char *err, size_t errlen)
{
    char text[32];
    memset(s, 0, sizeof *s);
    if (one_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                    "('meta', 'clinic', 'appointments', 'audit_log')", 0) != 4) {
        snprintf(err, errlen, "it is not a clinicbox database");
        return false;
    }
    s->schema = (int)one_int(db, "PRAGMA user_version", 0);
    if (!one_text(db, "SELECT name FROM clinic LIMIT 1", s->clinic, sizeof s->clinic))
        s->clinic[0] = '\0';
    s->doctors = one_int(db, "SELECT count(*) FROM doctors", 0);
    s->patients = one_int(db, "SELECT count(*) FROM patients", 0);
    s->appointments = one_int(db, "SELECT count(*) FROM appointments", 0);
    s->upcoming = one_int(db, "SELECT count(*) FROM appointments WHERE status = 'booked' "
                              "AND start_utc >= ?1", now);
    s->messages_waiting = one_int(db, "SELECT count(*) FROM notifications WHERE status IN "
                                      "('queued', 'sending', 'failed')", 0);
    s->journal_pending = one_int(db, "SELECT count(*) FROM sync_journal", 0);
    s->audit_entries = one_int(db, "SELECT count(*) FROM audit_log", 0);
    s->newest_change = one_int(db, "SELECT coalesce(max(updated_at), 0) FROM appointments", 0);
    if (one_text(db, "SELECT value FROM meta WHERE key = 'backup_taken_at'", text, sizeof text))
        s->taken_at = strtoll(text, NULL, 10);
    return true;
}

static int open_db(const char *file, int flags, sqlite3 **db, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(file, db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", file, *db ? sqlite3_errmsg(*db) : "no memory");
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*db, 5000);
    return SQLITE_OK;
}

/* now as YYYYMMDDTHHMMSSZ (UTC): file names that sort by time. */
static void utc_stamp(int64_t now, char *out, size_t len)
{
    struct tm tm;
    time_t t = (time_t)now;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y%m%dT%H%M%SZ", &tm);
}

/* open + fsync + close of one path; false with err naming what. */
static bool fsync_path(const char *path, int flags, const char *what, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    if (fd < 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot flush %s%s to disk: %s", what, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    close(fd);
    return true;
}

/* fsync of a file, then of the folder that holds it. */
static bool sync_file_and_dir(const char *path, char *err, size_t errlen)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    return fsync_path(path, 0, "", err, errlen) &&
           fsync_path(dirname(dir), O_DIRECTORY, "the folder ", err, errlen);
}

bool backup_check(const char *file, backup_summary *out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    char ok[300], why[200];
    struct stat st;
    if (stat(file, &st) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", file, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a file", file);
        return false;
    }
    if (open_db(file, SQLITE_OPEN_READONLY, &db, err, errlen) != SQLITE_OK)
        return false;
    bool good = false;
    if (!integrity(db, ok, sizeof ok))
        snprintf(err, errlen, "%s is damaged or not a database: %s", file, sqlite3_errmsg(db));
    else if (strcmp(ok, "ok") != 0)
        snprintf(err, errlen, "%s is damaged: integrity_check says \"%s\"", file, ok);
    else if (!summarize(db, time(NULL), out, why, sizeof why))
        snprintf(err, errlen, "%s: %s", file, why);
    else if (out->schema > migrate_latest())
        snprintf(err, errlen,
                 "%s is at schema version %d, newer than this clinicbox (%d): restore it with "
                 "the version that made it",
                 file, out->schema, migrate_latest());
    else
        good = true;
    if (good)
        out->bytes = (long long)st.st_size;
    sqlite3_close(db);
    return good;
}

/* Copies SRC into a new file at TMP (made 0600 first: it holds patients'
 * data), as one snapshot, as a single self-contained file. */
static bool copy_into(sqlite3 *src, const char *tmp, int64_t now, char *err, size_t errlen)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return false;
    }
    close(fd);
    sqlite3 *dst = NULL;
    if (open_db(tmp, SQLITE_OPEN_READWRITE, &dst, err, errlen) != SQLITE_OK)
        return false;
    bool ok = false;
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        snprintf(err, errlen, "cannot start the copy: %s", sqlite3_errmsg(dst));
    } else {
        /* All pages in one step: one read transaction, so one snapshot. */
        int rc = sqlite3_backup_step(b, -1);
        int fin = sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE || fin != SQLITE_OK)
            snprintf(err, errlen, "the copy failed: %s", sqlite3_errstr(rc != SQLITE_DONE ? rc : fin));
        else
            ok = true;
    }
    if (ok) {
        char mode[16];
        sqlite3_stmt *st = NULL;
        ok = one_text(dst, "PRAGMA journal_mode=DELETE", mode, sizeof mode) &&
             sqlite3_prepare_v2(dst, "INSERT INTO meta (key, value) VALUES ('backup_taken_at', ?1) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                -1, &st, NULL) == SQLITE_OK &&
             sqlite3_bind_int64(st, 1, now) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
        if (!ok)
            snprintf(err, errlen, "cannot finish the copy: %s", sqlite3_errmsg(dst));
    }
    if (sqlite3_close(dst) != SQLITE_OK && ok) {
        snprintf(err, errlen, "cannot close the copy");
        ok = false;
    }
    return ok;
}

bool backup_make(const char *db_file, const char *dest, int64_t now, backup_summary *out,
                 char *err, size_t errlen)
{
    char tmp[1100], why[600];
    sqlite3 *src = NULL;
    if (access(db_file, F_OK) != 0) {
        snprintf(err, errlen, "no database at %s", db_file);
        return false;
    }
    /* Read-write without create: a read-only connection to a WAL database
     * needs its -shm to exist already; nothing is written through it. */
    if (open_db(db_file, SQLITE_OPEN_READWRITE, &src, err, errlen) != SQLITE_OK)
        return false;
    snprintf(tmp, sizeof tmp, "%s.partial-%ld", dest, (long)getpid());
    bool ok = copy_into(src, tmp, now, err, errlen);
    sqlite3_close(src);
    if (ok && !backup_check(tmp, out, why, sizeof why)) {
        snprintf(err, errlen, "the copy did not pass its check: %s", why);
        ok = false;
    }
    if (ok)
        ok = sync_file_and_dir(tmp, err, errlen);
    if (ok && rename(tmp, dest) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, dest, strerror(errno));
        ok = false;
    }
    if (ok)
        ok = sync_file_and_dir(dest, err, errlen);
    if (!ok)
        unlink(tmp);
    return ok;
}

/* In the copy about to become the database, one transaction: hold what was
 * waiting to go out, end sessions, take a new sync identity, note the
 * restore in the audit trail. Through db_open so migrations run first and
 * the audit entry chains like any other. */
struct fixup_job {
    int64_t now, taken_at;
    const char *file;
    long long held;
};

static int fixup_job(db_conn_t *c, void *arg)
{
    struct fixup_job *j = arg;
    sqlite3 *db = db_handle(c);
    sqlite3_stmt *st = db_prepare(c, "UPDATE notifications SET status = 'dead', last_error = ?1, "
                                     "next_attempt_at = NULL, updated_at = ?2 "
                                     "WHERE status IN ('queued', 'sending', 'failed')");
    if (!st || sqlite3_bind_text(st, 1, BACKUP_HELD_REASON, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, j->now) != SQLITE_OK || !db_exec_stmt(st))
        return 1;
    j->held = sqlite3_changes(db);
    st = db_prepare(c, "DELETE FROM sessions");
    if (!st || !db_exec_stmt(st))
        return 1;
    char old_box[64] = "";
    if (store_meta_get_text(c, "box_id", old_box, sizeof old_box) == STORE_OK &&
        store_meta_set_text(c, "restored_from_box_id", old_box) != STORE_OK)
        return 1;
    st = db_prepare(c, "DELETE FROM meta WHERE key IN ('box_id', 'backup_taken_at')");
    if (!st || !db_exec_stmt(st) || store_meta_set_int(c, "restored_at", j->now) != STORE_OK)
        return 1;
    audit_entry e = {.at = j->now * 1000};
    snprintf(e.actor, sizeof e.actor, "system:restore");
    snprintf(e.action, sizeof e.action, "restore");
    snprintf(e.target, sizeof e.target, "database");
    snprintf(e.outcome, sizeof e.outcome, "ok");
    snprintf(e.detail, sizeof e.detail, "from %s (backup taken at %" PRId64 "), %lld message(s) held",
             j->file, j->taken_at, j->held);
    return store_audit_append(c, &e) == STORE_OK ? 0 : 1;
}

/* Moves DIR/clinicbox.db and what belongs to it aside, after a clean close
 * has folded its WAL in. */
static bool keep_current(const char *data_dir, int64_t now, char *kept, size_t keptlen, char *err,
                         size_t errlen)
{
    char cur[700], side[800];
    snprintf(cur, sizeof cur, "%s/clinicbox.db", data_dir);
    kept[0] = '\0';
    if (access(cur, F_OK) != 0)
        return true;
    sqlite3 *db = NULL;
    if (open_db(cur, SQLITE_OPEN_READWRITE, &db, err, errlen) != SQLITE_OK)
        return false;
    exec1(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
    char stamp[32];
    utc_stamp(now, stamp, sizeof stamp);
    snprintf(kept, keptlen, "%s/clinicbox.db.before-restore-%s", data_dir, stamp);
    static const char *const suffixes[] = {"-wal", "-shm"};
    for (int i = 0; i < 2; i++) {
        snprintf(cur, sizeof cur, "%s/clinicbox.db%s", data_dir, suffixes[i]);
        snprintf(side, sizeof side, "%s%s", kept, suffixes[i]);
        if (access(cur, F_OK) == 0 && rename(cur, side) != 0) {
            snprintf(err, errlen, "cannot move %s aside: %s", cur, strerror(errno));
            return false;
        }
    }
    snprintf(cur, sizeof cur, "%s/clinicbox.db", data_dir);
    if (rename(cur, kept) != 0) {
        snprintf(err, errlen, "cannot move %s aside: %s", cur, strerror(errno));
        return false;
    }
    return true;
}

bool backup_restore(const char *data_dir, const char *file, int64_t now, backup_summary *out,
                    long long *held, char *kept, size_t keptlen, char *err, size_t errlen)
{
    char work[700], tmp[800], why[900], dest[700];
    backup_summary in;
    *held = 0;
    kept[0] = '\0';
    if (!backup_check(file, &in, err, errlen))
        return false;
    /* Work in a folder of its own inside DIR: the same file system, so the
     * last step is a rename; a crash before it leaves DIR as it was. */
    snprintf(work, sizeof work, "%s/restore-%ld", data_dir, (long)getpid());
    if (mkdir(work, 0700) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", work, strerror(errno));
        return false;
    }
    snprintf(tmp, sizeof tmp, "%s/clinicbox.db", work);
    sqlite3 *src = NULL;
    bool ok = open_db(file, SQLITE_OPEN_READONLY, &src, err, errlen) == SQLITE_OK;
    if (ok) {
        ok = copy_into(src, tmp, in.taken_at, err, errlen);
        sqlite3_close(src);
    }
    if (ok) {
        db_t *db = db_open(work, why, sizeof why); /* migrates an older backup */
        struct fixup_job j = {now, in.taken_at, file, 0};
        if (!db) {
            snprintf(err, errlen, "cannot open the copy: %s", why);
            ok = false;
        } else if (db_write(db, fixup_job, &j) != 0) {
            snprintf(err, errlen, "cannot prepare the copy (held messages, sessions, sync id)");
            ok = false;
        }
        db_close(db);
        *held = j.held;
    }
    if (ok && !backup_check(tmp, out, err, errlen))
        ok = false;
    /* The copy is in WAL mode now (db_open), and the read-only check leaves
     * an empty -wal and a -shm behind; anything in that -wal would mean
     * the fix-up was not folded into the file that is about to move. */
    struct stat wal;
    snprintf(why, sizeof why, "%s-wal", tmp);
    if (ok && stat(why, &wal) == 0 && wal.st_size > 0) {
        snprintf(err, errlen, "the copy was not closed cleanly");
        ok = false;
    }
    /* root restoring for the service: the file goes to the directory's
     * owner, or the service could not write it */
    struct stat dir;
    if (ok && geteuid() == 0 && stat(data_dir, &dir) == 0 && chown(tmp, dir.st_uid, dir.st_gid) != 0) {
        snprintf(err, errlen, "cannot give %s to the data directory's owner: %s", tmp, strerror(errno));
        ok = false;
    }
    if (ok)
        ok = sync_file_and_dir(tmp, err, errlen) &&
             keep_current(data_dir, now, kept, keptlen, err, errlen);
    snprintf(dest, sizeof dest, "%s/clinicbox.db", data_dir);
    if (ok && rename(tmp, dest) != 0) {
        snprintf(err, errlen, "cannot move the copy into place: %s", strerror(errno));
        ok = false;
    }
    if (ok)
        ok = sync_file_and_dir(dest, err, errlen);
    static const char *const leftovers[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        snprintf(why, sizeof why, "%s%s", tmp, leftovers[i]);
        unlink(why);
    }
    rmdir(work);
    if (ok)
        out->taken_at = in.taken_at;
    return ok;
}

void backup_describe(const backup_summary *s, char *out, size_t len)
{
    snprintf(out, len,
             "clinic \"%s\", schema version %d: %lld doctor(s), %lld patient(s), %lld "
             "appointment(s) (%lld booked ahead), %lld message(s) waiting to go out, %lld "
             "change(s) not yet sent to central, %lld audit entries",
             s->clinic, s->schema, s->doctors, s->patients, s->appointments, s->upcoming,
             s->messages_waiting, s->journal_pending, s->audit_entries);
}

void backup_file_name(const char *dir, int64_t now, char *out, size_t len)
{
    char stamp[32];
    utc_stamp(now, stamp, sizeof stamp);
    snprintf(out, len, "%s/clinicbox-%s.db", dir, stamp);
}

bool backup_is_file_name(const char *name)
{
    /* clinicbox-YYYYMMDDTHHMMSSZ.db */
    static const char shape[] = "clinicbox-########T######Z.db"; /* #: a digit */
    if (strlen(name) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == '#' ? (name[i] < '0' || name[i] > '9') : name[i] != shape[i])
            return false;
    return true;
}
