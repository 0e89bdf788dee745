-- 0005: the change journal for the central sync (docs/sync.md).
--
-- Triggers record which record changed, in the same transaction as the
-- change, so no code path can forget it. They write only while sync is
-- enabled (a mongo_uri is set; the box sets sync_state.enabled at start, and
-- journals every existing record when it turns sync on) and not while
-- changes from central are being applied (sync_state.applying, set and reset
-- inside the applying write job), so those are never echoed back.

CREATE TABLE sync_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    enabled  INTEGER NOT NULL DEFAULT 0,
    applying INTEGER NOT NULL DEFAULT 0
);
INSERT INTO sync_state (id) VALUES (1);

CREATE TABLE sync_journal (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    entity    TEXT NOT NULL,   -- the central collection
    entity_id TEXT NOT NULL,
    at_ms     INTEGER NOT NULL -- when the change was made (wall clock, ms)
);

CREATE TRIGGER sync_clinic_ins AFTER INSERT ON clinic
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('clinics', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_clinic_upd AFTER UPDATE ON clinic
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('clinics', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;

CREATE TRIGGER sync_doctors_ins AFTER INSERT ON doctors
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('doctors', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_doctors_upd AFTER UPDATE ON doctors
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('doctors', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;

-- A schedule is one central document per doctor: any row of its two tables
-- journals the doctor's schedule.
CREATE TRIGGER sync_weekly_ins AFTER INSERT ON schedule_weekly
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('schedules', NEW.doctor_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_weekly_del AFTER DELETE ON schedule_weekly
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('schedules', OLD.doctor_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_exceptions_ins AFTER INSERT ON schedule_exceptions
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('schedules', NEW.doctor_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_exceptions_del AFTER DELETE ON schedule_exceptions
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('schedules', OLD.doctor_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;

CREATE TRIGGER sync_patients_ins AFTER INSERT ON patients
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('patients', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_patients_upd AFTER UPDATE ON patients
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('patients', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;

CREATE TRIGGER sync_appointments_ins AFTER INSERT ON appointments
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('appointments', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_appointments_upd AFTER UPDATE ON appointments
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('appointments', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;

CREATE TRIGGER sync_offers_ins AFTER INSERT ON offers
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('offers', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_offers_upd AFTER UPDATE ON offers
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('offers', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;

CREATE TRIGGER sync_notifications_ins AFTER INSERT ON notifications
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('notifications', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_notifications_upd AFTER UPDATE ON notifications
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('notifications', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
