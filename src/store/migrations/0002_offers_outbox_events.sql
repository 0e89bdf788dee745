-- 0002: reschedule offers, the outbound message queue and the append-only
-- event log of every state change.

CREATE TABLE offers (
    id                 TEXT PRIMARY KEY,
    appointment_id     TEXT NOT NULL REFERENCES appointments(id),
    token_hash         TEXT NOT NULL UNIQUE,      -- SHA-256 of the patient's link token
    options            TEXT NOT NULL,             -- JSON [[start_utc, end_utc], ...]
    created_at         INTEGER NOT NULL,
    created_by         TEXT NOT NULL,
    expires_at         INTEGER NOT NULL,
    used_at            INTEGER,
    used_option        INTEGER,
    new_appointment_id TEXT REFERENCES appointments(id)
);
CREATE INDEX offers_appointment ON offers(appointment_id);

CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    appointment_id  TEXT REFERENCES appointments(id),
    offer_id        TEXT REFERENCES offers(id),
    patient_id      TEXT REFERENCES patients(id),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       TEXT,
    purpose         TEXT NOT NULL,
    subject         TEXT,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed',
                                                    'dead', 'skipped', 'expired')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER,
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX notifications_due ON notifications(status, next_attempt_at);

CREATE TABLE events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    data      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_entity ON events(entity, entity_id);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;
