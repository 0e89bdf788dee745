-- 0006: what pulling central changes needs (docs/sync.md).
--
-- 1. Appointments get the status 'conflict': a booking made centrally for a
--    time this box had already given to someone else. It holds no slot; it
--    waits for rescheduling (its patient gets an offer), and
--    conflict_reason says why. SQLite cannot change a CHECK constraint, so
--    the table is rebuilt (the migration runner turns foreign keys off
--    around migrations and runs foreign_key_check before each commit), and
--    its indexes and triggers are made again.
-- 2. sync_revs: per record, the revision the box last pushed or took from
--    central. A push only overwrites a central document that still has that
--    revision (or that this box wrote), so a central edit the box has not
--    seen yet is never lost.
-- 3. An index for trimming the journal record by record.

-- slot_claims' trigger reads appointments: it is made again after the swap.
DROP TRIGGER slot_claims_check;

CREATE TABLE appointments_new (
    id               TEXT PRIMARY KEY,
    doctor_id        TEXT NOT NULL REFERENCES doctors(id),
    patient_id       TEXT NOT NULL REFERENCES patients(id),
    start_utc        INTEGER NOT NULL CHECK (start_utc % 300 = 0),
    end_utc          INTEGER NOT NULL CHECK (end_utc % 300 = 0),
    status           TEXT NOT NULL CHECK (status IN ('booked', 'checked_in', 'completed',
                                                     'cancelled', 'no_show', 'rescheduled',
                                                     'conflict')),
    reason           TEXT,
    cancel_reason    TEXT,
    checked_in_at    INTEGER,
    completed_at     INTEGER,
    cancelled_at     INTEGER,
    no_show_at       INTEGER,
    rescheduled_from TEXT REFERENCES appointments(id),
    rescheduled_to   TEXT REFERENCES appointments(id),
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    updated_by       TEXT NOT NULL,
    conflict_reason  TEXT,
    CHECK (end_utc > start_utc)
);
INSERT INTO appointments_new
    SELECT id, doctor_id, patient_id, start_utc, end_utc, status, reason, cancel_reason,
           checked_in_at, completed_at, cancelled_at, no_show_at, rescheduled_from,
           rescheduled_to, created_at, created_by, updated_at, updated_by, NULL
    FROM appointments;
DROP TABLE appointments;
ALTER TABLE appointments_new RENAME TO appointments;

CREATE TRIGGER slot_claims_check BEFORE INSERT ON slot_claims
WHEN NOT EXISTS (SELECT 1 FROM appointments a
                 WHERE a.id = NEW.appointment_id AND a.doctor_id = NEW.doctor_id
                   AND a.status IN ('booked', 'checked_in')
                   AND NEW.unit_start >= a.start_utc AND NEW.unit_start < a.end_utc)
BEGIN
    SELECT RAISE(ABORT, 'slot claim does not match a live appointment');
END;

CREATE INDEX appointments_doctor_start ON appointments(doctor_id, start_utc);
CREATE INDEX appointments_patient ON appointments(patient_id, start_utc);
CREATE INDEX appointments_doctor_live
    ON appointments(doctor_id, start_utc, end_utc, status)
    WHERE status IN ('booked', 'checked_in');

CREATE TRIGGER appointments_free_slot AFTER UPDATE OF status ON appointments
WHEN NEW.status NOT IN ('booked', 'checked_in')
BEGIN
    DELETE FROM slot_claims WHERE appointment_id = NEW.id;
END;

CREATE TRIGGER appointments_fixed_time BEFORE UPDATE OF start_utc, end_utc, doctor_id ON appointments
WHEN EXISTS (SELECT 1 FROM slot_claims WHERE appointment_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'a live appointment cannot change its time or doctor');
END;

CREATE TRIGGER sync_appointments_ins AFTER INSERT ON appointments
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('appointments', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_appointments_upd AFTER UPDATE ON appointments
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('appointments', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;

CREATE TABLE sync_revs (
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    rev       TEXT NOT NULL,
    PRIMARY KEY (entity, entity_id)
) WITHOUT ROWID;

CREATE INDEX sync_journal_record ON sync_journal(entity, entity_id);
