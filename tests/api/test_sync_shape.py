"""Central documents in the shape docs/sync.md gives them (issue 13, item 5),
against jongodb (or a real mongod with CLINICBOX_TEST_MONGO_URI):

- a closed day in a schedule's `exceptions` is `{date, closed: true,
  start: null, end: null}` both ways: the box writes it so, and one written
  so centrally (or without `start`/`end`, the older form) is taken without
  being pushed back (central's `_sync.rev` stays the writer's);
- a central date with milliseconds is taken to the second, and is no reason
  to push the record back; once the box pushes the record for another
  reason, central shows whole seconds;
- `updatedBy` after a central cancel is the writer's `_sync.by` with
  `central:` before it;
- a booking without `end` is refused naming `end`, by the box and by
  `clinicbox central`.
"""
import datetime
import json
import unittest
import uuid

from test_sync_pull import SyncedBoxTest, central_raw_write

UTC = datetime.timezone.utc


class ShapeTest(SyncedBoxTest):
    def raw(self, collection, doc_id, fields, by="central:raw"):
        """A documented write without `clinicbox central`; returns its rev."""
        central_raw_write(self.central, self.clock, self.clinic, collection, doc_id, fields, by=by)
        return self.central.db[collection].find_one({"_id": doc_id})["_sync"]["rev"]

    def rev(self, collection, doc_id):
        return self.central.db[collection].find_one({"_id": doc_id})["_sync"]["rev"]

    def test_closed_days_as_documented(self):
        db, d = self.central.db, self.doctor["id"]
        weekly = [{"weekday": w, "start": "08:00", "end": "18:00"} for w in range(1, 8)]
        # the box's own closed day reaches central with start and end null
        r = self.s.put(f"/api/doctors/{d}/schedule", {"weekly": weekly, "exceptions": [
            {"date": "2026-12-02", "closed": True}]})
        self.assertEqual(r.status, 200, r)
        self.box.round()
        self.assertEqual(db.schedules.find_one({"_id": d})["exceptions"],
                         [{"date": "2026-12-02", "closed": True, "start": None, "end": None}])

        # written centrally as documented: taken, not pushed back
        w = self.tool("put", "schedules", d, json.dumps({"weekly": weekly, "exceptions": [
            {"date": "2026-12-03", "closed": True, "start": None, "end": None},
            {"date": "2026-12-04", "closed": False, "start": "09:00", "end": "12:00"}]}))
        self.box.round()
        got = self.s.get(f"/api/doctors/{d}/schedule").json["exceptions"]
        self.assertEqual(got, [{"date": "2026-12-03", "closed": True},
                               {"date": "2026-12-04", "closed": False, "start": "09:00",
                                "end": "12:00"}])
        self.assertEqual(self.rev("schedules", d), w["rev"])

        # the older form (no start, no end), keys in another order: the same
        # (days in date order, as the box keeps them)
        rev = self.raw("schedules", d, {"exceptions": [
            {"end": "12:00", "start": "09:00", "closed": False, "date": "2026-12-04"},
            {"closed": True, "date": "2026-12-05"}]})
        self.box.round()
        got = self.s.get(f"/api/doctors/{d}/schedule").json["exceptions"]
        self.assertEqual(got, [{"date": "2026-12-04", "closed": False, "start": "09:00",
                                "end": "12:00"}, {"date": "2026-12-05", "closed": True}])
        self.assertEqual(self.rev("schedules", d), rev)

    def test_milliseconds_and_updated_by(self):
        db = self.central.db
        now = datetime.datetime.fromtimestamp(self.clock.now(), UTC).replace(microsecond=250000)
        start = datetime.datetime(2026, 12, 1, 9, 0, 0, 500000, tzinfo=UTC)
        aid = str(uuid.uuid4())
        rev = self.raw("appointments", aid, {
            "doctorId": self.doctor["id"], "patientId": self.patient["id"], "start": start,
            "end": start + datetime.timedelta(minutes=30), "status": "booked", "reason": None,
            "createdAt": now, "createdBy": "alice", "updatedAt": now, "updatedBy": "alice"},
            by="alice")
        st = self.box.round()
        self.assertEqual(st["rejected_total"], 0, st)
        a = self.s.get(f"/api/appointments/{aid}").json
        self.assertEqual((a["status"], a["start"], a["end"], a["created_by"]),
                         ("booked", "2026-12-01T10:00:00+01:00", "2026-12-01T10:30:00+01:00",
                          "alice"))
        # the box keeps seconds, but the milliseconds alone are no difference:
        # not pushed back, central keeps them
        doc = db.appointments.find_one({"_id": aid})
        self.assertEqual(doc["_sync"]["rev"], rev)
        self.assertEqual((doc["start"].microsecond, doc["createdAt"].microsecond),
                         (500000, 250000))

        # a central cancel by "alice": the box records central:alice, and
        # pushes the record back (its updatedBy, updatedAt, cancelledAt), in
        # whole seconds
        rev = self.raw("appointments", aid, {"status": "cancelled", "cancelReason": "Doctor ill"},
                       by="alice")
        self.box.round()
        a = self.s.get(f"/api/appointments/{aid}").json
        self.assertEqual((a["status"], a["updated_by"]), ("cancelled", "central:alice"))
        doc = db.appointments.find_one({"_id": aid})
        self.assertNotEqual(doc["_sync"]["rev"], rev)
        self.assertEqual((doc["status"], doc["updatedBy"], doc["createdBy"]),
                         ("cancelled", "central:alice", "alice"))
        self.assertEqual((doc["start"].microsecond, doc["createdAt"].microsecond), (0, 0))

    def test_booking_without_end_names_end(self):
        db = self.central.db
        fields = {"doctorId": self.doctor["id"], "patientId": self.patient["id"],
                  "start": {"$date": "2026-12-01T09:00:00Z"}}
        p = self.tool("put", "appointments", "new", json.dumps(fields), ok=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("refused: end: missing", p.stderr)
        aid = str(uuid.uuid4())
        self.raw("appointments", aid, {"doctorId": self.doctor["id"],
                                       "patientId": self.patient["id"],
                                       "start": datetime.datetime(2026, 12, 1, 9, tzinfo=UTC)})
        st = self.box.round()
        self.assertEqual(st["rejected_total"], 1, st)
        self.assertEqual(db.rejections.find_one({"docId": aid})["reason"], "end: missing")
        self.assertEqual(self.s.get(f"/api/appointments/{aid}").status, 404)


if __name__ == "__main__":
    unittest.main()
