-- 0007: deleting a patient or doctor is journaled too, so the push marks the
-- central document deleted (a tombstone: deletedAt set, docs/sync.md).
CREATE TRIGGER sync_patients_del AFTER DELETE ON patients
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('patients', OLD.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
CREATE TRIGGER sync_doctors_del AFTER DELETE ON doctors
WHEN (SELECT enabled AND NOT applying FROM sync_state)
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('doctors', OLD.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;
