-- 0003: a covering index of the live appointments' times per doctor. Free-slot
-- searches read only this index (no table lookups), and it holds nothing for
-- cancelled, no-show or past-and-done appointments.
CREATE INDEX appointments_doctor_live
    ON appointments(doctor_id, start_utc, end_utc, status)
    WHERE status IN ('booked', 'checked_in');
