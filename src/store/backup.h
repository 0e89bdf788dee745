/*
 * backup.h — consistent copies of the database, their checks, and putting
 * one back (docs/backup.md).
 *
 * A backup is one SQLite file, made with SQLite's online backup API from a
 * connection of its own while the server keeps writing: the copy is the
 * database as of one committed transaction (WAL lets it read a snapshot).
 * It is written to a temporary file beside the target, switched to a
 * rollback journal (a single self-contained file), checked with PRAGMA
 * integrity_check, fsynced, renamed into place and the folder fsynced, so a
 * power cut leaves either the old file or the whole new one. SQLite does not
 * fsync a file it makes this way by itself.
 *
 * A restore replaces DIR/clinicbox.db with a checked copy of a backup and
 * then, in one transaction, makes it safe to run again (backup_prepare_restored):
 * messages that were waiting are held for staff (the old box may have sent
 * them after the backup), sessions end, and the box takes a new sync
 * identity so that what it pushed after the backup comes back from central
 * as another writer's changes instead of being overwritten.
 */
#ifndef CLINICBOX_BACKUP_H
#define CLINICBOX_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* last_error of a message held at a restore (waiting in the backup), or
 * made afterwards for a cause that came due before it (service/notify.h):
 * the box the backup came from may have sent it already. */
#define BACKUP_HELD_REASON                                                                     \
    "held after a restore from a backup: the box the backup came from may have sent it "      \
    "already; send it again from Messages if it did not go out"

/* What a database file holds, for the operator. */
typedef struct {
    int schema;                  /* PRAGMA user_version */
    char clinic[200];
    long long doctors, patients, appointments, upcoming; /* upcoming: booked, not started */
    long long messages_waiting;  /* queued, sending or failed */
    long long journal_pending;   /* changes not yet pushed to central */
    long long audit_entries;
    int64_t taken_at;            /* when the backup was made (0: not a backup) */
    int64_t newest_change;       /* the latest updated_at of an appointment */
    long long bytes;
} backup_summary;

/* Copies the database DB_FILE (a live one is fine) to DEST. now is written
 * into the copy as its time (meta backup_taken_at). false with a sentence in
 * err; DEST is then untouched. */
bool backup_make(const char *db_file, const char *dest, int64_t now, backup_summary *out,
                 char *err, size_t errlen);

/* Opens FILE read-only, runs integrity_check and reads its summary. false
 * with err saying why it is not a usable clinicbox backup (damaged, not a
 * clinicbox database, newer than this program). */
bool backup_check(const char *file, backup_summary *out, char *err, size_t errlen);

/* Replaces DATA_DIR's database with FILE (checked first). The caller holds
 * the data directory's lock. The current database, if any, is kept beside
 * as clinicbox.db.before-restore-<time> (never deleted). held gets the
 * number of messages put on hold. */
bool backup_restore(const char *data_dir, const char *file, int64_t now, backup_summary *out,
                    long long *held, char *kept, size_t keptlen, char *err, size_t errlen);

/* DIR/clinicbox-YYYYMMDDTHHMMSSZ.db for a backup made at now (UTC): the
 * names sort by time, which the nightly backup's pruning relies on. */
void backup_file_name(const char *dir, int64_t now, char *out, size_t len);
/* Whether a file name (no folder) is one backup_file_name makes. */
bool backup_is_file_name(const char *name);

/* One line for the operator: "12 doctors, 340 patients, ...". */
void backup_describe(const backup_summary *s, char *out, size_t len);

#endif
