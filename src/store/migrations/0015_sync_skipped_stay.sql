-- 0015: a message skipped when it was made stays on the box (issue 13).
--
-- A notification row made as 'skipped' (the patient has no address for its
-- channel, or opted out) is never sent and never changes: central has no
-- use for it. A central booking for a patient without contact details made
-- two such rows, each pushed: most of what a long catch-up had to push.
-- They are no longer journaled when made; a row that central already has
-- (pushed while it was waiting) is still pushed when it changes, and a
-- skipped row is pushed if it ever changes again. Journal rows already
-- waiting for such a row go.
DROP TRIGGER sync_notifications_ins;
CREATE TRIGGER sync_notifications_ins AFTER INSERT ON notifications
WHEN (SELECT enabled AND NOT applying FROM sync_state) AND NEW.status <> 'skipped'
BEGIN INSERT INTO sync_journal (entity, entity_id, at_ms)
      VALUES ('notifications', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;

DELETE FROM sync_journal
WHERE entity = 'notifications'
  AND entity_id IN (SELECT id FROM notifications WHERE status = 'skipped')
  AND entity_id NOT IN (SELECT entity_id FROM sync_revs WHERE entity = 'notifications');
