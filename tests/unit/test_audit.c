/*
 * test_audit.c — the audit trail's hash chain (store/audit.c) and what of
 * the HTTP traffic it records (http/audit_hook.c).
 *
 * The hash has a known answer computed outside clinicbox (Python's hashlib
 * over the encoding documented in audit.h), so the format other tools
 * check against cannot drift. Tampering is done as someone with the
 * database file would: another SQLite connection, triggers dropped, rows
 * changed, triggers put back (so that only the chain can tell).
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "http/http.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/store.h"
#include "unit.h"

static void fill(audit_entry *e, int64_t seq, int64_t at, const char *actor, const char *address,
                 const char *action, const char *target, const char *outcome,
                 const char *detail)
{
    memset(e, 0, sizeof *e);
    e->seq = seq;
    e->at = at;
    snprintf(e->actor, sizeof e->actor, "%s", actor);
    snprintf(e->address, sizeof e->address, "%s", address);
    snprintf(e->action, sizeof e->action, "%s", action);
    snprintf(e->target, sizeof e->target, "%s", target);
    snprintf(e->outcome, sizeof e->outcome, "%s", outcome);
    snprintf(e->detail, sizeof e->detail, "%s", detail);
    memcpy(e->prev_hash, audit_genesis, AUDIT_HASH_HEX);
}

static void test_hash_known_answer(void)
{
    audit_entry e;
    char h[AUDIT_HASH_HEX];
    fill(&e, 1, 1767225600123LL, "user:anna", "192.0.2.7", "login", "user:anna", "ok", "");
    audit_hash(&e, h);
    CHECK_EQ_STR(h, "03d7df745ed15eef88114b0781f8c210551527711b9cee4389d84257887b60f5");
}

/* Length prefixes: moving a byte from one field to the next changes the hash. */
static void test_hash_fields_unambiguous(void)
{
    audit_entry a, b;
    char ha[AUDIT_HASH_HEX], hb[AUDIT_HASH_HEX];
    fill(&a, 7, 1000, "user:ab", "c", "read", "patient:1", "200", "");
    fill(&b, 7, 1000, "user:a", "bc", "read", "patient:1", "200", "");
    audit_hash(&a, ha);
    audit_hash(&b, hb);
    CHECK(strcmp(ha, hb) != 0);
    b = a;
    b.seq = 8; /* the same content at another position */
    audit_hash(&b, hb);
    CHECK(strcmp(ha, hb) != 0);
}

static void test_check_link(void)
{
    audit_entry first, second;
    char why[300];
    fill(&first, 1, 1000, "system:test", "", "create", "x:1", "ok", "");
    audit_hash(&first, first.hash);
    CHECK(audit_check_link(NULL, &first, why, sizeof why));
    fill(&second, 2, 2000, "system:test", "", "update", "x:1", "ok", "");
    memcpy(second.prev_hash, first.hash, AUDIT_HASH_HEX);
    audit_hash(&second, second.hash);
    CHECK(audit_check_link(&first, &second, why, sizeof why));
    /* the second alone, as if the first had been deleted */
    CHECK(!audit_check_link(NULL, &second, why, sizeof why));
    second.detail[0] = 'x';
    CHECK(!audit_check_link(&first, &second, why, sizeof why));
    CHECK(strstr(why, "edited") != NULL);
}

/* ---- the chain in a database ------------------------------------------- */

static db_t *open_tmp(char *dir)
{
    char err[300];
    strcpy(dir, "/tmp/clinicbox-unit-audit-XXXXXX");
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

/* Appends n entries: "user:uI" read "patient:I" at 1000*I. */
static void append_n(db_t *db, int n)
{
    for (int i = 1; i <= n; i++) {
        audit_entry e;
        char actor[32], target[32];
        snprintf(actor, sizeof actor, "user:u%d", i);
        snprintf(target, sizeof target, "patient:%d", i);
        fill(&e, 0, 1000LL * i, actor, "192.0.2.1", "GET /api/patients/{}", target, "200", "");
        CHECK(audit_record(db, &e));
    }
}

static int verify(db_t *db, audit_report *rep)
{
    db_conn_t *c = db_reader(db);
    int v = c ? audit_verify(c, rep) : AUDIT_UNREADABLE;
    db_reader_release(db, c);
    return v;
}

/* Runs SQL on the file with a connection of its own, as an attacker would. */
static void tamper(const char *dir, const char *sql)
{
    char path[128], *msg = NULL;
    sqlite3 *s = NULL;
    snprintf(path, sizeof path, "%s/clinicbox.db", dir);
    CHECK(sqlite3_open(path, &s) == SQLITE_OK);
    int rc = sqlite3_exec(s, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "tamper: %s\n", msg ? msg : "?");
    CHECK_EQ_INT(rc, SQLITE_OK);
    sqlite3_free(msg);
    sqlite3_close(s);
}

#define DROP_TRIGGERS "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
#define PUT_TRIGGERS_BACK                                                                      \
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log\nBEGIN\n"                   \
    "    SELECT RAISE(ABORT, 'the audit log is append-only');\nEND;"                           \
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log\nBEGIN\n"                   \
    "    SELECT RAISE(ABORT, 'the audit log is append-only');\nEND;"

struct page_ctx {
    int n;
    int64_t seqs[10];
};

static void collect(const audit_entry *e, void *arg)
{
    struct page_ctx *p = arg;
    if (p->n < 10)
        p->seqs[p->n] = e->seq;
    p->n++;
}

static void test_append_page_verify(void)
{
    char dir[64];
    audit_report rep;
    db_t *db = open_tmp(dir);
    CHECK(db != NULL);
    if (!db)
        return;
    CHECK_EQ_INT(verify(db, &rep), AUDIT_INTACT);
    CHECK_EQ_INT(rep.entries, 0);
    append_n(db, 5);
    CHECK_EQ_INT(verify(db, &rep), AUDIT_INTACT);
    CHECK_EQ_INT(rep.entries, 5);
    CHECK_EQ_INT(rep.head_seq, 5);

    db_conn_t *c = db_reader(db);
    struct page_ctx p = {0};
    bool more = false;
    int64_t head;
    char hash[AUDIT_HASH_HEX];
    CHECK_EQ_INT(store_audit_page(c, 0, 2, collect, &p, &more), STORE_OK);
    CHECK_EQ_INT(p.n, 2);
    CHECK_EQ_INT(p.seqs[0], 1);
    CHECK(more);
    p.n = 0;
    CHECK_EQ_INT(store_audit_page(c, 3, 2, collect, &p, &more), STORE_OK);
    CHECK_EQ_INT(p.n, 2);
    CHECK_EQ_INT(p.seqs[0], 4);
    CHECK(!more);
    CHECK_EQ_INT(store_audit_head(c, &head, hash), STORE_OK);
    CHECK_EQ_INT(head, 5);
    CHECK_EQ_STR(hash, rep.head_hash);
    db_reader_release(db, c);
    db_close(db);
    remove_tmp(dir);
}

static int try_sql(db_conn_t *c, void *arg)
{
    return sqlite3_exec(db_handle(c), arg, NULL, NULL, NULL) == SQLITE_OK ? 0 : 7;
}

static void test_triggers_refuse_update_and_delete(void)
{
    char dir[64];
    audit_report rep;
    db_t *db = open_tmp(dir);
    if (!db)
        return;
    append_n(db, 3);
    CHECK_EQ_INT(db_write(db, try_sql, "UPDATE audit_log SET detail = 'x' WHERE seq = 2"), 7);
    CHECK_EQ_INT(db_write(db, try_sql, "DELETE FROM audit_log WHERE seq = 3"), 7);
    CHECK_EQ_INT(verify(db, &rep), AUDIT_INTACT);
    CHECK_EQ_INT(rep.entries, 3);
    db_close(db);
    remove_tmp(dir);
}

/* Builds a chain of 5, closes, tampers with sql, reopens and verifies. */
static void tampered(const char *sql, int64_t bad_seq, const char *why)
{
    char dir[64], full[1000];
    audit_report rep;
    db_t *db = open_tmp(dir);
    if (!db)
        return;
    append_n(db, 5);
    db_close(db);
    snprintf(full, sizeof full, "%s%s%s", DROP_TRIGGERS, sql, PUT_TRIGGERS_BACK);
    tamper(dir, full);
    char err[300];
    db = db_open(dir, err, sizeof err);
    CHECK(db != NULL);
    if (db) {
        CHECK_EQ_INT(verify(db, &rep), AUDIT_BROKEN);
        CHECK_EQ_INT(rep.bad_seq, bad_seq);
        CHECK(!rep.triggers_missing);
        if (!strstr(rep.why, why))
            fprintf(stderr, "why: %s\n", rep.why);
        CHECK(strstr(rep.why, why) != NULL);
        db_close(db);
    }
    remove_tmp(dir);
}

static void test_edited_entry(void)
{
    tampered("UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 3;", 3, "edited");
}

static void copy_entry(const audit_entry *e, void *arg)
{
    *(audit_entry *)arg = *e;
}

/* Entry 3 rewritten with a correct hash of its new content (the format is
 * public): entry 3 checks out, entry 4 no longer follows it. */
static void test_rewritten_and_rehashed_entry(void)
{
    char dir[64], err[300], sql[1000];
    audit_entry e = {0};
    audit_report rep;
    bool more;
    db_t *db = open_tmp(dir);
    if (!db)
        return;
    append_n(db, 5);
    db_conn_t *c = db_reader(db);
    CHECK_EQ_INT(store_audit_page(c, 2, 1, copy_entry, &e, &more), STORE_OK);
    db_reader_release(db, c);
    db_close(db);
    CHECK_EQ_INT(e.seq, 3);
    snprintf(e.actor, sizeof e.actor, "user:someone-else");
    audit_hash(&e, e.hash);
    snprintf(sql, sizeof sql,
             "%s UPDATE audit_log SET actor = '%s', hash = '%s' WHERE seq = 3; %s",
             DROP_TRIGGERS, e.actor, e.hash, PUT_TRIGGERS_BACK);
    tamper(dir, sql);
    db = db_open(dir, err, sizeof err);
    CHECK(db != NULL);
    if (db) {
        CHECK_EQ_INT(verify(db, &rep), AUDIT_BROKEN);
        CHECK_EQ_INT(rep.bad_seq, 4);
        CHECK(strstr(rep.why, "does not follow entry 3") != NULL);
        db_close(db);
    }
    remove_tmp(dir);
}

static void test_deleted_entry(void)
{
    tampered("DELETE FROM audit_log WHERE seq = 3;", 4, "entry 3 is missing");
}

static void test_deleted_first_entries(void)
{
    tampered("DELETE FROM audit_log WHERE seq <= 2;", 3, "entries 1 to 2 are missing");
}

static void test_reordered_entries(void)
{
    /* swap everything but seq between entries 2 and 4 */
    tampered("CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (2, 4);"
             "UPDATE audit_log SET (at, actor, address, action, target, outcome, detail, "
             "prev_hash, hash) = (SELECT at, actor, address, action, target, outcome, detail, "
             "prev_hash, hash FROM t WHERE t.seq = 6 - audit_log.seq) WHERE seq IN (2, 4);",
             2, "does not follow entry 1");
}

static void test_renumbered_after_delete(void)
{
    /* delete entry 3 and close the gap: entry 4 becomes 3 */
    tampered("DELETE FROM audit_log WHERE seq = 3;"
             "UPDATE audit_log SET seq = seq - 1 WHERE seq > 3;",
             3, "does not follow entry 2");
}

static void test_dropped_triggers(void)
{
    char dir[64], err[300];
    audit_report rep;
    db_t *db = open_tmp(dir);
    if (!db)
        return;
    append_n(db, 2);
    db_close(db);
    tamper(dir, "DROP TRIGGER audit_log_no_delete;");
    db = db_open(dir, err, sizeof err);
    CHECK(db != NULL);
    if (db) {
        CHECK_EQ_INT(verify(db, &rep), AUDIT_BROKEN);
        CHECK_EQ_INT(rep.bad_seq, 0);
        CHECK(rep.triggers_missing);
        db_close(db);
    }
    remove_tmp(dir);
}

/* ---- what of the HTTP traffic is recorded -------------------------------- */

static void test_describe(void)
{
    static const struct route get_patient = {"GET", "/api/patients/{}", NULL, 0, 0, 0};
    static const struct route list_appts = {"GET", "/api/appointments", NULL, 0, 0, 0};
    static const struct route cancel = {"POST", "/api/appointments/{}/cancel", NULL, 1, 0, 0};
    static const struct route create = {"POST", "/api/patients", NULL, 2, 0, 0};
    static const struct route clinic = {"PUT", "/api/clinic", NULL, 2, 0, 0};
    static const struct route doctors = {"GET", "/api/doctors", NULL, 0, 0, 0};
    static const struct route audit = {"GET", "/api/audit", NULL, 0, 0, 0};
    static req_t r;
    audit_entry e;

    memset(&r, 0, sizeof r);
    snprintf(r.params[0], sizeof r.params[0], "p-1");
    CHECK(http_audit_describe(&r, &get_patient, &e));
    CHECK_EQ_STR(e.action, "GET /api/patients/{}");
    CHECK_EQ_STR(e.target, "patient:p-1");

    memset(&r, 0, sizeof r);
    r.query = "doctor_id=d-1&from=2026-01-01\n";
    CHECK(http_audit_describe(&r, &list_appts, &e));
    CHECK_EQ_STR(e.target, "appointments?doctor_id=d-1&from=2026-01-01?");

    memset(&r, 0, sizeof r);
    snprintf(r.params[0], sizeof r.params[0], "a-1");
    snprintf(r.created, sizeof r.created, "a-2");
    CHECK(http_audit_describe(&r, &cancel, &e));
    CHECK_EQ_STR(e.action, "POST /api/appointments/{}/cancel");
    CHECK_EQ_STR(e.target, "appointment:a-1");
    CHECK_EQ_STR(e.detail, "created a-2");

    memset(&r, 0, sizeof r);
    snprintf(r.created, sizeof r.created, "p-9");
    CHECK(http_audit_describe(&r, &create, &e));
    CHECK_EQ_STR(e.target, "patient:p-9");
    memset(&r, 0, sizeof r); /* a create that failed: no id */
    CHECK(http_audit_describe(&r, &create, &e));
    CHECK_EQ_STR(e.target, "patients");

    CHECK(http_audit_describe(&r, &clinic, &e));
    CHECK_EQ_STR(e.target, "clinic");
    CHECK(!http_audit_describe(&r, &doctors, &e));
    CHECK(!http_audit_describe(&r, &audit, &e));
}

/* Logins, logouts and the like are named, with the account as target. */
static void test_describe_session_events(void)
{
    static const struct route login = {"POST", "/api/session", NULL, 2, AUTH_PUBLIC, 0};
    static const struct route logout = {"DELETE", "/api/session", NULL, 0, 0, 0};
    static const struct route whoami = {"GET", "/api/session", NULL, 0, 0, 0};
    static const struct route create_user = {"POST", "/api/users", NULL, 2, 0, 0};
    static req_t r;
    audit_entry e;

    memset(&r, 0, sizeof r);
    r.body = json_pack("{s:s,s:s}", "username", "anna", "password", "not this one");
    r.status = 401;
    CHECK(http_audit_describe(&r, &login, &e));
    CHECK_EQ_STR(e.action, "login_failed");
    CHECK_EQ_STR(e.target, "user:anna");
    CHECK(strstr(e.detail, "not this one") == NULL && strstr(e.target, "not this") == NULL);
    r.status = 201;
    CHECK(http_audit_describe(&r, &login, &e));
    CHECK_EQ_STR(e.action, "login");
    CHECK_EQ_STR(e.target, "user:anna");
    json_decref(r.body);
    /* a "username" that cannot be one (a password typed there?) stays out */
    r.body = json_pack("{s:s}", "username", "Geheim 2026!");
    r.status = 401;
    CHECK(http_audit_describe(&r, &login, &e));
    CHECK_EQ_STR(e.target, "user:(not a username)");
    json_decref(r.body);
    /* refused before anyone was known, on a route that needs credentials:
     * not recorded (anyone could fill the disk with such rows) */
    r.body = NULL;
    r.status = 401;
    CHECK(!http_audit_describe(&r, &create_user, &e));
    r.status = 403;
    r.host_refused = true;
    CHECK(!http_audit_describe(&r, &login, &e));
    r.host_refused = false;
    r.body = json_pack("{}");
    json_decref(r.body);

    memset(&r, 0, sizeof r);
    r.who.kind = PRINCIPAL_USER;
    snprintf(r.who.name, sizeof r.who.name, "anna");
    r.status = 204;
    CHECK(http_audit_describe(&r, &logout, &e));
    CHECK_EQ_STR(e.action, "logout");
    CHECK_EQ_STR(e.target, "user:anna");
    CHECK(!http_audit_describe(&r, &whoami, &e));

    memset(&r, 0, sizeof r);
    r.status = 201;
    snprintf(r.created, sizeof r.created, "bert");
    CHECK(http_audit_describe(&r, &create_user, &e));
    CHECK_EQ_STR(e.action, "POST /api/users");
    CHECK_EQ_STR(e.target, "user:bert");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_hash_known_answer);
    RUN(test_hash_fields_unambiguous);
    RUN(test_check_link);
    RUN(test_append_page_verify);
    RUN(test_triggers_refuse_update_and_delete);
    RUN(test_edited_entry);
    RUN(test_rewritten_and_rehashed_entry);
    RUN(test_deleted_entry);
    RUN(test_deleted_first_entries);
    RUN(test_reordered_entries);
    RUN(test_renumbered_after_delete);
    RUN(test_dropped_triggers);
    RUN(test_describe);
    RUN(test_describe_session_events);
    return unit_summary();
}
