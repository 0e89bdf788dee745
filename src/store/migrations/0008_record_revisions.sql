-- 0008: a revision per record, for ETag / If-Match (docs/design.md, "ETags").
--
-- meta.rev_seq is one counter for the whole database; every insert or update
-- of a clinic, doctor, patient or appointment row, and every replacement of a
-- doctor's schedule, takes the next value (store_rev_bump, then the write
-- sets rev from it). So a record's revision changes on every change, also
-- those sync applies (they go through the same store functions), never comes
-- back (not even for a record deleted and made again with the same id), and
-- rows written before this migration keep 0 until their first change.
--
-- The triggers are a net for a write that does not set rev: they give the row
-- the next revision themselves (such a write journals the record twice when
-- sync is on, which does no harm).

INSERT INTO meta (key, value) VALUES ('rev_seq', 0)
    ON CONFLICT (key) DO NOTHING;

ALTER TABLE clinic ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE doctors ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE patients ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE appointments ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;

-- A schedule's revision (weekly hours and exceptions of a doctor). Rows go
-- with their doctor.
CREATE TABLE schedule_revs (
    doctor_id TEXT PRIMARY KEY REFERENCES doctors(id) ON DELETE CASCADE,
    rev       INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER clinic_rev_ins AFTER INSERT ON clinic WHEN NEW.rev = 0
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'rev_seq';
    UPDATE clinic SET rev = (SELECT value FROM meta WHERE key = 'rev_seq') WHERE id = NEW.id;
END;
CREATE TRIGGER clinic_rev_upd AFTER UPDATE ON clinic WHEN NEW.rev = OLD.rev
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'rev_seq';
    UPDATE clinic SET rev = (SELECT value FROM meta WHERE key = 'rev_seq') WHERE id = NEW.id;
END;
CREATE TRIGGER doctors_rev_ins AFTER INSERT ON doctors WHEN NEW.rev = 0
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'rev_seq';
    UPDATE doctors SET rev = (SELECT value FROM meta WHERE key = 'rev_seq') WHERE id = NEW.id;
END;
CREATE TRIGGER doctors_rev_upd AFTER UPDATE ON doctors WHEN NEW.rev = OLD.rev
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'rev_seq';
    UPDATE doctors SET rev = (SELECT value FROM meta WHERE key = 'rev_seq') WHERE id = NEW.id;
END;
CREATE TRIGGER patients_rev_ins AFTER INSERT ON patients WHEN NEW.rev = 0
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'rev_seq';
    UPDATE patients SET rev = (SELECT value FROM meta WHERE key = 'rev_seq') WHERE id = NEW.id;
END;
CREATE TRIGGER patients_rev_upd AFTER UPDATE ON patients WHEN NEW.rev = OLD.rev
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'rev_seq';
    UPDATE patients SET rev = (SELECT value FROM meta WHERE key = 'rev_seq') WHERE id = NEW.id;
END;
CREATE TRIGGER appointments_rev_ins AFTER INSERT ON appointments WHEN NEW.rev = 0
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'rev_seq';
    UPDATE appointments SET rev = (SELECT value FROM meta WHERE key = 'rev_seq') WHERE id = NEW.id;
END;
CREATE TRIGGER appointments_rev_upd AFTER UPDATE ON appointments WHEN NEW.rev = OLD.rev
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'rev_seq';
    UPDATE appointments SET rev = (SELECT value FROM meta WHERE key = 'rev_seq') WHERE id = NEW.id;
END;
