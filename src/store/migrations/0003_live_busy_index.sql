-- 0003: one covering index of the live appointments' times per doctor, for
-- both free-slot searches (no table lookups) and the no-show sweep, which
-- walks it doctor by doctor. It replaces 0001's appointments_live_start:
-- every index costs a page write per booking.
CREATE INDEX appointments_doctor_live
    ON appointments(doctor_id, start_utc, end_utc, status)
    WHERE status IN ('booked', 'checked_in');
DROP INDEX appointments_live_start;
