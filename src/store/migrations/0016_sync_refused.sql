-- 0016: the new central records the box refused (issue 13).
--
-- A central write of a record the box never had, refused by the box, is
-- removed from the central database (its document kept in `rejections`):
-- otherwise it stays there as a record no clinic has (a "phantom"). Only a
-- record named here, at the revision named here, is ever removed centrally,
-- so that a record the box once had (deleted locally while sync was off,
-- say) or a later write of the same record can never be taken for one.
-- Emptied with sync_revs when the central database is new (sync/pull.c).
CREATE TABLE sync_refused (
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    rev       TEXT NOT NULL,
    PRIMARY KEY (entity, entity_id)
) WITHOUT ROWID;
