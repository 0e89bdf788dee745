/*
 * journal.h — the sync's own tables: the change journal (migration 0005:
 * triggers record which record changed, in the change's transaction, while
 * sync is on) and sync_revs (per record, the revision the box last pushed
 * or took from central; migration 0006). Turning the journal on seeds it
 * with every record; a new central database (its epoch) seeds it again.
 */
#ifndef CLINICBOX_JOURNAL_H
#define CLINICBOX_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service/app.h"

/* Turns the journal on (a mongo_uri is set) or off. Turning it on journals
 * every existing record, so the first push seeds the central database.
 * false on a storage error. */
bool sync_journal_enable(app_t *app, bool on);

/* Compares the central database's epoch (central_epoch()) with the one
 * this box last saw. A different one means the central database was
 * replaced or restored empty: every record is journaled again, in the same
 * transaction that records the new epoch. Returns 1 when it re-seeded, 0
 * when the epoch is known (or seen for the first time), -1 on a storage
 * error. */
int sync_check_epoch(app_t *app, const char *epoch);

/* Pending journal rows (local changes not yet pushed), or -1. */
long sync_pending(app_t *app);
/* The same count into *n, and when the oldest of them was made (wall
 * clock ms; 0 when there is none) into *oldest_ms. false on a storage
 * error. */
bool sync_pending_oldest(app_t *app, long *n, int64_t *oldest_ms);

/* Whether a record has journal rows (a local change not pushed yet): 1, 0,
 * or -1 on a storage error. The statement is reset before it returns. */
int sync_journal_has(db_conn_t *c, const char *collection, const char *id);

/* Inside a write job: journals one record (to be pushed). */
bool sync_journal_add(db_conn_t *c, const char *collection, const char *id, int64_t at_ms);

/* The revision the box knows for a record into out (len bytes): 1 when
 * there is one, 0 when none ("" in out), -1 on a storage error. */
int sync_rev_get(db_conn_t *c, const char *collection, const char *id, char *out, size_t len);
/* Inside a write job: records it. */
bool sync_rev_set(db_conn_t *c, const char *collection, const char *id, const char *rev);

#endif
