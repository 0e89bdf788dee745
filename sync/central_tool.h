/*
 * central_tool.h — `clinicbox central ...`: how a central tool (a call
 * centre, an admin's script) writes a clinic's records so that its box
 * picks them up. It is also the reference for writing the same shape from
 * other languages (docs/sync.md, "Writing centrally"):
 *
 *   1. take the clinic's next number: `counters` {_id: clinicId}, $inc seq;
 *   2. write the document only over the revision read (`_sync.rev`), with
 *      `_sync` = {rev (a hybrid logical clock later than the one read), by,
 *      seq, at}; a document that changed meanwhile is read again;
 *   3. append {_id: "<clinicId>:<seq>", clinicId, seq, collection, docId,
 *      rev, by, at} to `changes`.
 *
 * Deleting is writing `deletedAt` (a tombstone), never removing. Before
 * step 1 the document as it will be is judged by the box's rules
 * (central_check.h): a write the box would refuse is not made (exit 2).
 */
#ifndef CLINICBOX_CENTRAL_TOOL_H
#define CLINICBOX_CENTRAL_TOOL_H

/* argv[0] is the first word after "central". Exit status. */
int central_tool_main(int argc, char **argv);

#endif
