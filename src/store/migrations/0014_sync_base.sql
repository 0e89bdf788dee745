-- 0014: field-level merge of patients, doctors and the clinic (docs/sync.md,
-- "Field-level merge"; sync/merge.h).
--
-- 1. sync_base: per record, the central document at the revision sync_revs
--    holds for it (its merged fields, BSON): what central took from the
--    box's last acknowledged push, or the central document the box last
--    took in. It is the base of the three-way merge: a field that differs
--    from it was changed on that side since. rev says which revision it is
--    of; a base of another revision than sync_revs' is not used. sent: the
--    fields of the box's pushes since then that central did not
--    acknowledge (a lost reply: they may be there all the same), a BSON
--    array of up to four documents; a central value equal to one of them
--    is the box's, not a central edit.
-- 2. sync_field_times: when the box's value of a merged field was set by a
--    local edit (wall clock ms, as the journal's at_ms), so that a field
--    both sides changed goes to the later edit of that field, not of the
--    record. Written by the triggers below while sync is on; apply.c
--    removes the rows of the fields it takes from central, push.c those of
--    a record whose edits are all pushed.

CREATE TABLE sync_base (
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    rev       TEXT NOT NULL,
    doc       BLOB NOT NULL,
    sent      BLOB,
    PRIMARY KEY (entity, entity_id)
) WITHOUT ROWID;

CREATE TABLE sync_field_times (
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    field     TEXT NOT NULL,   -- the field's name in the central document
    at_ms     INTEGER NOT NULL,
    PRIMARY KEY (entity, entity_id, field)
) WITHOUT ROWID;

CREATE TRIGGER sync_patients_fields AFTER UPDATE ON patients
WHEN (SELECT enabled FROM sync_state)
BEGIN
    INSERT OR REPLACE INTO sync_field_times (entity, entity_id, field, at_ms)
        SELECT 'patients', NEW.id, f, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
        FROM (SELECT 'name' AS f WHERE OLD.name IS NOT NEW.name
              UNION ALL SELECT 'email' WHERE OLD.email IS NOT NEW.email
              UNION ALL SELECT 'phone' WHERE OLD.phone IS NOT NEW.phone
              UNION ALL SELECT 'notifyEmail' WHERE OLD.notify_email IS NOT NEW.notify_email
              UNION ALL SELECT 'notifySms' WHERE OLD.notify_sms IS NOT NEW.notify_sms);
END;
CREATE TRIGGER sync_patients_fields_del AFTER DELETE ON patients
BEGIN
    DELETE FROM sync_field_times WHERE entity = 'patients' AND entity_id = OLD.id;
END;

CREATE TRIGGER sync_doctors_fields AFTER UPDATE ON doctors
WHEN (SELECT enabled FROM sync_state)
BEGIN
    INSERT OR REPLACE INTO sync_field_times (entity, entity_id, field, at_ms)
        SELECT 'doctors', NEW.id, f, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
        FROM (SELECT 'name' AS f WHERE OLD.name IS NOT NEW.name
              UNION ALL SELECT 'email' WHERE OLD.email IS NOT NEW.email
              UNION ALL SELECT 'phone' WHERE OLD.phone IS NOT NEW.phone
              UNION ALL SELECT 'slotMinutes' WHERE OLD.slot_minutes IS NOT NEW.slot_minutes);
END;
CREATE TRIGGER sync_doctors_fields_del AFTER DELETE ON doctors
BEGIN
    DELETE FROM sync_field_times WHERE entity = 'doctors' AND entity_id = OLD.id;
END;

CREATE TRIGGER sync_clinic_fields AFTER UPDATE ON clinic
WHEN (SELECT enabled FROM sync_state)
BEGIN
    INSERT OR REPLACE INTO sync_field_times (entity, entity_id, field, at_ms)
        SELECT 'clinics', NEW.id, f, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
        FROM (SELECT 'name' AS f WHERE OLD.name IS NOT NEW.name
              UNION ALL SELECT 'timezone' WHERE OLD.timezone IS NOT NEW.timezone
              UNION ALL SELECT 'graceMinutes' WHERE OLD.grace_minutes IS NOT NEW.grace_minutes
              UNION ALL SELECT 'rescheduleOptions'
                        WHERE OLD.reschedule_options IS NOT NEW.reschedule_options
              UNION ALL SELECT 'offerHours' WHERE OLD.offer_hours IS NOT NEW.offer_hours
              UNION ALL SELECT 'reminderHours' WHERE OLD.reminder_hours IS NOT NEW.reminder_hours
              UNION ALL SELECT 'confirmations' WHERE OLD.confirmations IS NOT NEW.confirmations
              UNION ALL SELECT 'language' WHERE OLD.language IS NOT NEW.language);
END;
