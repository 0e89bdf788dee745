/*
 * audit.h — the audit trail: an append-only, hash-chained log of who did
 * what to which record, when and from where (migration 0011; docs/security.md,
 * "Audit trail").
 *
 * Each entry's hash is SHA-256 over a canonical encoding of its fields and
 * the previous entry's hash (audit_hash), so editing, deleting or moving an
 * entry breaks the chain at that entry, and audit_verify() names it.
 * Appending reads the last entry and inserts the next one: it must run on
 * the writer (inside a db_write job), which serialises appends. Put it in
 * the same job as the change it records and both commit or neither does.
 *
 * Threads: audit_record() from any thread; the store_* functions on the
 * connection of the thread that holds it.
 */
#ifndef CLINICBOX_AUDIT_H
#define CLINICBOX_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

#define AUDIT_HASH_HEX 65 /* 64 hex digits + NUL */
#define AUDIT_ACTOR_LEN 81
#define AUDIT_ADDRESS_LEN 64
#define AUDIT_ACTION_LEN 96
#define AUDIT_TARGET_LEN 256
#define AUDIT_OUTCOME_LEN 16
#define AUDIT_DETAIL_LEN 256

/* The prev_hash of the first entry. */
extern const char audit_genesis[AUDIT_HASH_HEX];

/* One entry. To append, fill at..detail (cut to fit, NUL-terminated); seq,
 * prev_hash and hash are set by the store. */
typedef struct audit_entry {
    int64_t seq;
    int64_t at; /* unix time in milliseconds */
    char actor[AUDIT_ACTOR_LEN];     /* user:NAME, token:NAME, patient-link, system:..., anonymous */
    char address[AUDIT_ADDRESS_LEN]; /* client IP; "" for the box itself */
    char action[AUDIT_ACTION_LEN];   /* login, login_failed, ... or "POST /api/..." */
    char target[AUDIT_TARGET_LEN];   /* "patient:ID", "appointments?from=..." */
    char outcome[AUDIT_OUTCOME_LEN]; /* "200", "ok", "denied" */
    char detail[AUDIT_DETAIL_LEN];   /* short, no secrets */
    char prev_hash[AUDIT_HASH_HEX];
    char hash[AUDIT_HASH_HEX];
} audit_entry;

/* Writes the hash (lowercase hex) of e's seq, at, actor, address, action,
 * target, outcome, detail and prev_hash into out. The encoding, for anyone
 * who checks the chain with other tools: the bytes "clinicbox-audit-v1",
 * seq and at as 8-byte big-endian two's complement, then each text field in
 * that order as a 4-byte big-endian length followed by its bytes. Pure. */
void audit_hash(const audit_entry *e, char out[AUDIT_HASH_HEX]);

/* Appends e as the next entry. Call only inside a db_write job. STORE_OK
 * or STORE_ERROR (logged). */
int store_audit_append(db_conn_t *c, const audit_entry *e);
/* Appends e in a write job of its own; false (logged) when it could not. */
bool audit_record(db_t *db, const audit_entry *e);

/* Calls fn for at most limit entries with seq > after_seq, oldest first;
 * *more says whether further entries follow. */
int store_audit_page(db_conn_t *c, int64_t after_seq, int limit,
                     void (*fn)(const audit_entry *, void *), void *ctx, bool *more);
/* The newest entry's seq and hash; seq 0 and the genesis hash when empty. */
int store_audit_head(db_conn_t *c, int64_t *seq, char hash[AUDIT_HASH_HEX]);

/* What audit_verify found. */
typedef struct audit_report {
    long long entries;             /* entries read */
    int64_t head_seq;              /* the newest entry's seq; 0 when empty */
    char head_hash[AUDIT_HASH_HEX];
    int64_t bad_seq;               /* the first bad entry; 0 when none */
    bool triggers_missing;         /* the append-only triggers are gone */
    char why[300];                 /* what is wrong, for a person */
} audit_report;

enum audit_verdict { AUDIT_INTACT = 0, AUDIT_BROKEN = 1, AUDIT_UNREADABLE = -1 };

/* Checks one entry against the one before it (NULL for the first): seq
 * follows, prev_hash is the previous hash, hash matches the content. true
 * when it holds; else false with the reason in why. Pure. */
bool audit_check_link(const audit_entry *prev, const audit_entry *e, char *why, size_t len);

/* Walks the whole chain oldest first and checks that the triggers that
 * refuse UPDATE and DELETE are in place. AUDIT_INTACT, AUDIT_BROKEN with
 * the first bad entry (bad_seq 0 when only the triggers are missing), or
 * AUDIT_UNREADABLE. */
int audit_verify(db_conn_t *c, audit_report *rep);

#endif
