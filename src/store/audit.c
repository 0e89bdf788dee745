/*
 * audit.c — the hash-chained audit trail (see audit.h).
 *
 * Design: the chain is keyless (plain SHA-256, libsodium): it proves the
 * entries still are what was appended, in that order, only up to an entry
 * whose hash someone kept elsewhere. Whoever can write the database file
 * can drop the triggers and rewrite every entry from some point on with
 * fresh hashes, or cut off the newest ones; `clinicbox audit verify` prints
 * the head (seq and hash) so that an operator can note it and check later
 * (--expect). seq is part of the hash, so an entry cannot be moved to
 * another position either.
 */
#include "store/audit.h"

#include <inttypes.h>
#include <sodium.h>

#include "store/rows.h"

const char audit_genesis[AUDIT_HASH_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* The triggers of migration 0011, as SQLite keeps their text. */
static const char trigger_update[] =
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log\nBEGIN\n"
    "    SELECT RAISE(ABORT, 'the audit log is append-only');\nEND";
static const char trigger_delete[] =
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log\nBEGIN\n"
    "    SELECT RAISE(ABORT, 'the audit log is append-only');\nEND";

static void put_int(crypto_hash_sha256_state *st, int64_t v)
{
    unsigned char b[8];
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        b[i] = (unsigned char)(u & 0xFF);
    crypto_hash_sha256_update(st, b, sizeof b);
}

static void put_text(crypto_hash_sha256_state *st, const char *s)
{
    size_t n = strlen(s);
    unsigned char b[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
    crypto_hash_sha256_update(st, b, sizeof b);
    crypto_hash_sha256_update(st, (const unsigned char *)s, n);
}

void audit_hash(const audit_entry *e, char out[AUDIT_HASH_HEX])
{
    static const char tag[] = "clinicbox-audit-v1";
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)tag, sizeof tag - 1);
    put_int(&st, e->seq);
    put_int(&st, e->at);
    put_text(&st, e->actor);
    put_text(&st, e->address);
    put_text(&st, e->action);
    put_text(&st, e->target);
    put_text(&st, e->outcome);
    put_text(&st, e->detail);
    put_text(&st, e->prev_hash);
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, AUDIT_HASH_HEX, h, sizeof h);
}

#define COLUMNS "seq, at, actor, address, action, target, outcome, detail, prev_hash, hash"

static void read_row(sqlite3_stmt *st, audit_entry *e)
{
    e->seq = sqlite3_column_int64(st, 0);
    e->at = sqlite3_column_int64(st, 1);
    rows_copy(st, 2, e->actor, sizeof e->actor);
    rows_copy(st, 3, e->address, sizeof e->address);
    rows_copy(st, 4, e->action, sizeof e->action);
    rows_copy(st, 5, e->target, sizeof e->target);
    rows_copy(st, 6, e->outcome, sizeof e->outcome);
    rows_copy(st, 7, e->detail, sizeof e->detail);
    rows_copy(st, 8, e->prev_hash, sizeof e->prev_hash);
    rows_copy(st, 9, e->hash, sizeof e->hash);
}

int store_audit_head(db_conn_t *c, int64_t *seq, char hash[AUDIT_HASH_HEX])
{
    sqlite3_stmt *st = db_prepare(c, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (!st)
        return STORE_ERROR;
    int rc = rows_find(st);
    if (rc == STORE_NOT_FOUND) {
        *seq = 0;
        memcpy(hash, audit_genesis, AUDIT_HASH_HEX);
        return STORE_OK;
    }
    if (rc != STORE_OK)
        return rc;
    *seq = sqlite3_column_int64(st, 0);
    rows_copy(st, 1, hash, AUDIT_HASH_HEX);
    return STORE_OK;
}

int store_audit_append(db_conn_t *c, const audit_entry *in)
{
    audit_entry e = *in;
    int64_t last;
    int rc = store_audit_head(c, &last, e.prev_hash);
    if (rc != STORE_OK)
        return rc;
    e.seq = last + 1;
    audit_hash(&e, e.hash);
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO audit_log (" COLUMNS ") VALUES "
                                     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, e.seq);
    sqlite3_bind_int64(st, 2, e.at);
    rows_bind_text(st, 3, e.actor);
    rows_bind_text(st, 4, e.address);
    rows_bind_text(st, 5, e.action);
    rows_bind_text(st, 6, e.target);
    rows_bind_text(st, 7, e.outcome);
    rows_bind_text(st, 8, e.detail);
    rows_bind_text(st, 9, e.prev_hash);
    rows_bind_text(st, 10, e.hash);
    rc = rows_write_rc(st, sqlite3_step(st));
    return rc == STORE_OK ? STORE_OK : STORE_ERROR;
}

static int append_job(db_conn_t *c, void *arg)
{
    return store_audit_append(c, arg) == STORE_OK ? 0 : 1;
}

bool audit_record(db_t *db, const audit_entry *e)
{
    if (db_write(db, append_job, (void *)e) == 0)
        return true;
    log_error("audit", "could not record %s %s by %s", e->action, e->target, e->actor);
    return false;
}

struct audit_page {
    void (*fn)(const audit_entry *, void *);
    void *ctx;
};

static void audit_row(sqlite3_stmt *st, void *arg)
{
    struct audit_page *p = arg;
    audit_entry e;
    read_row(st, &e);
    p->fn(&e, p->ctx);
}

int store_audit_page(db_conn_t *c, int64_t after_seq, int limit,
                     void (*fn)(const audit_entry *, void *), void *ctx, bool *more)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " COLUMNS " FROM audit_log WHERE seq > ?1 "
                                     "ORDER BY seq LIMIT ?2");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int64(st, 2, (int64_t)limit + 1); /* one more: is there a next page? */
    struct audit_page p = {fn, ctx};
    return rows_page(st, limit, audit_row, &p, more);
}

bool audit_check_link(const audit_entry *prev, const audit_entry *e, char *why, size_t len)
{
    int64_t want = prev ? prev->seq + 1 : 1;
    char h[AUDIT_HASH_HEX];
    if (e->seq > want + 1) {
        snprintf(why, len, "entries %" PRId64 " to %" PRId64 " are missing (deleted)", want,
                 e->seq - 1);
        return false;
    }
    if (e->seq == want + 1) {
        snprintf(why, len, "entry %" PRId64 " is missing (deleted)", want);
        return false;
    }
    if (e->seq != want) {
        snprintf(why, len, "its number is out of sequence (expected %" PRId64 ")", want);
        return false;
    }
    if (strcmp(e->prev_hash, prev ? prev->hash : audit_genesis) != 0) {
        if (prev)
            snprintf(why, len,
                     "it does not follow entry %" PRId64 " (its prev_hash is not that entry's "
                     "hash): entries were deleted, inserted or reordered, or entry %" PRId64
                     " was rewritten",
                     prev->seq, prev->seq);
        else
            snprintf(why, len, "its prev_hash is not the genesis value: entries before it "
                               "were deleted, or it was rewritten");
        return false;
    }
    audit_hash(e, h);
    if (strcmp(h, e->hash) != 0) {
        snprintf(why, len, "its content does not match its hash: it was edited");
        return false;
    }
    return true;
}

/* true when the trigger `name` is there with the text migration 0011 gave it. */
static int trigger_intact(db_conn_t *c, const char *name, const char *sql, bool *ok)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                     "AND tbl_name = 'audit_log' AND name = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = rows_find(st);
    const unsigned char *text = rc == STORE_OK ? sqlite3_column_text(st, 0) : NULL;
    *ok = text && strcmp((const char *)text, sql) == 0;
    return rc == STORE_ERROR ? STORE_ERROR : STORE_OK;
}

int audit_verify(db_conn_t *c, audit_report *rep)
{
    bool upd = false, del = false;
    memset(rep, 0, sizeof *rep);
    memcpy(rep->head_hash, audit_genesis, AUDIT_HASH_HEX);
    if (trigger_intact(c, "audit_log_no_update", trigger_update, &upd) != STORE_OK ||
        trigger_intact(c, "audit_log_no_delete", trigger_delete, &del) != STORE_OK)
        return AUDIT_UNREADABLE;
    rep->triggers_missing = !upd || !del;

    sqlite3_stmt *st = db_prepare(c, "SELECT " COLUMNS " FROM audit_log ORDER BY seq");
    if (!st)
        return AUDIT_UNREADABLE;
    audit_entry prev, cur;
    bool have_prev = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_row(st, &cur);
        rep->entries++;
        if (!rep->bad_seq && !audit_check_link(have_prev ? &prev : NULL, &cur, rep->why,
                                               sizeof rep->why))
            rep->bad_seq = cur.seq; /* the first; go on counting */
        prev = cur;
        have_prev = true;
    }
    if (rows_write_rc(st, rc) != STORE_OK)
        return AUDIT_UNREADABLE;
    if (have_prev) {
        rep->head_seq = prev.seq;
        memcpy(rep->head_hash, prev.hash, AUDIT_HASH_HEX);
    }
    if (!rep->bad_seq && rep->triggers_missing)
        snprintf(rep->why, sizeof rep->why,
                 "the triggers that refuse UPDATE and DELETE on audit_log are missing or "
                 "altered");
    return rep->bad_seq || rep->triggers_missing ? AUDIT_BROKEN : AUDIT_INTACT;
}
