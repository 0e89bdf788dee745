-- 0011: the audit trail (issue 10, item 7; docs/security.md, "Audit trail").
--
-- Who did what to which record, when and from which address: logins and
-- their failures, every change or attempted change, every read of a
-- patient's record or of an appointment or patient list. Entries are only
-- ever appended (store/audit.c). Each carries the SHA-256 of its own
-- content and the hash of the entry before it, so `clinicbox audit verify`
-- finds an entry that was edited, deleted or moved once someone has
-- dropped the triggers below (anyone with the database file can).
--
--   seq        1, 2, 3, ... without gaps (set by the writer, not SQLite)
--   at         unix time in MILLISECONDS
--   actor      the principal: user:NAME, token:NAME, patient-link,
--              system:..., anonymous (before logins: the acting-user header)
--   address    the client's IP address ('' for the box itself)
--   action     login, login_failed, logout, ... or the route
--              ("POST /api/appointments/{}/cancel")
--   target     the record ("appointment:ID", "patient:ID") or the list read
--              with its query ("appointments?doctor_id=...")
--   outcome    the HTTP status ("200", "403") or a word (ok, denied)
--   detail     a short note, never a secret
--   prev_hash  the previous entry's hash; 64 zeros for the first
--   hash       SHA-256 (lowercase hex) of the canonical encoding of all the
--              fields above (store/audit.c, audit_hash)
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    address   TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
