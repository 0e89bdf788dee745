-- 0001: the clinic, doctors and their schedules, patients, appointments and
-- the slot claims that make double booking impossible in the database itself.
-- All times are INTEGER unix seconds (UTC); wall-clock times are minutes of day.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE clinic (
    id                 TEXT PRIMARY KEY,
    singleton          INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1),
    name               TEXT NOT NULL,
    timezone           TEXT NOT NULL,
    grace_minutes      INTEGER CHECK (grace_minutes BETWEEN 0 AND 1440), -- NULL: use the config
    reschedule_options INTEGER NOT NULL DEFAULT 3 CHECK (reschedule_options BETWEEN 1 AND 20),
    offer_hours        INTEGER NOT NULL DEFAULT 48 CHECK (offer_hours BETWEEN 1 AND 720),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE doctors (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    email        TEXT,
    phone        TEXT,
    slot_minutes INTEGER NOT NULL CHECK (slot_minutes BETWEEN 5 AND 480 AND slot_minutes % 5 = 0),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- Weekly working hours, weekday 1 = Monday .. 7 = Sunday, in the clinic's zone.
CREATE TABLE schedule_weekly (
    doctor_id TEXT NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    weekday   INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_min INTEGER NOT NULL CHECK (start_min BETWEEN 0 AND 1435 AND start_min % 5 = 0),
    end_min   INTEGER NOT NULL CHECK (end_min BETWEEN 5 AND 1440 AND end_min % 5 = 0),
    CHECK (start_min < end_min),
    PRIMARY KEY (doctor_id, weekday, start_min)
) WITHOUT ROWID;

-- Dated exceptions: a closed day, or the hours that replace the weekly ones.
CREATE TABLE schedule_exceptions (
    doctor_id TEXT NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    date      TEXT NOT NULL,           -- YYYY-MM-DD, clinic time
    closed    INTEGER NOT NULL CHECK (closed IN (0, 1)),
    start_min INTEGER NOT NULL,        -- 0 for a closed day
    end_min   INTEGER NOT NULL,
    CHECK ((closed = 1 AND start_min = 0 AND end_min = 0) OR
           (closed = 0 AND start_min >= 0 AND end_min <= 1440 AND start_min < end_min
            AND start_min % 5 = 0 AND end_min % 5 = 0)),
    PRIMARY KEY (doctor_id, date, start_min)
) WITHOUT ROWID;

CREATE TABLE patients (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    email        TEXT,
    phone        TEXT,                 -- E.164
    notify_email INTEGER NOT NULL DEFAULT 1 CHECK (notify_email IN (0, 1)),
    notify_sms   INTEGER NOT NULL DEFAULT 1 CHECK (notify_sms IN (0, 1)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX patients_name ON patients(name COLLATE NOCASE);

CREATE TABLE appointments (
    id               TEXT PRIMARY KEY,
    doctor_id        TEXT NOT NULL REFERENCES doctors(id),
    patient_id       TEXT NOT NULL REFERENCES patients(id),
    start_utc        INTEGER NOT NULL CHECK (start_utc % 300 = 0),
    end_utc          INTEGER NOT NULL CHECK (end_utc % 300 = 0),
    status           TEXT NOT NULL CHECK (status IN ('booked', 'checked_in', 'completed',
                                                     'cancelled', 'no_show', 'rescheduled')),
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
    CHECK (end_utc > start_utc)
);
CREATE INDEX appointments_doctor_start ON appointments(doctor_id, start_utc);
CREATE INDEX appointments_patient ON appointments(patient_id, start_utc);
CREATE INDEX appointments_live_start ON appointments(start_utc) WHERE status = 'booked';

-- Every live appointment (booked, checked_in) holds one row per 5-minute unit
-- it covers. The primary key makes any two overlapping live appointments of a
-- doctor collide, whatever their lengths and whoever writes them.
CREATE TABLE slot_claims (
    doctor_id      TEXT NOT NULL,
    unit_start     INTEGER NOT NULL CHECK (unit_start % 300 = 0),
    appointment_id TEXT NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    PRIMARY KEY (doctor_id, unit_start)
) WITHOUT ROWID;
CREATE INDEX slot_claims_appointment ON slot_claims(appointment_id);

-- A claim must belong to a live appointment of the same doctor and lie inside it.
CREATE TRIGGER slot_claims_check BEFORE INSERT ON slot_claims
WHEN NOT EXISTS (SELECT 1 FROM appointments a
                 WHERE a.id = NEW.appointment_id AND a.doctor_id = NEW.doctor_id
                   AND a.status IN ('booked', 'checked_in')
                   AND NEW.unit_start >= a.start_utc AND NEW.unit_start < a.end_utc)
BEGIN
    SELECT RAISE(ABORT, 'slot claim does not match a live appointment');
END;

-- Leaving the live states frees the slot, whatever code path changed the status.
CREATE TRIGGER appointments_free_slot AFTER UPDATE OF status ON appointments
WHEN NEW.status NOT IN ('booked', 'checked_in')
BEGIN
    DELETE FROM slot_claims WHERE appointment_id = NEW.id;
END;

-- A live appointment may not move in time without releasing its claims first.
CREATE TRIGGER appointments_fixed_time BEFORE UPDATE OF start_utc, end_utc, doctor_id ON appointments
WHEN EXISTS (SELECT 1 FROM slot_claims WHERE appointment_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'a live appointment cannot change its time or doctor');
END;
