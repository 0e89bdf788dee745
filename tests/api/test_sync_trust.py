"""Central writes that break the rules, written the way a central team's own
tool does (pymongo, the write shape of docs/sync.md), and what the box must
make of them (issue 13):

- a new central record the box refuses does not stay behind centrally as a
  phantom: it is removed there, its document kept in `rejections` with the
  reason, and reconciling afterwards finds no drift;
- a central write with a revision older than the box's (a writer that did
  not write over the revision it read) is not skipped silently: it is
  reported, and the box's record is pushed over it, so both sides end equal;
- a `changes` entry without `clinicId` is refused visibly and its record is
  fetched at once, not after the one-minute wait for a missing number;
- every decision about a central write lands in central `outcomes`: a
  refusal, a stale revision, a conflict, a cancel kept off a check-in;
- messages skipped when made (no address) stay on the box: central has no
  use for them, and they were most of what a long catch-up pushed.
"""
import datetime
import unittest
import uuid

from harness import notifications, wait_until
from test_sync_pull import SyncedBoxTest, central_cmd

WRITER = "central:pytool"


def rev_text(ms, counter=0, node=WRITER):
    return f"{ms:013d}-{counter:06d}-{node}"


class Writer:
    """A central writer in Python, as docs/sync.md describes one."""

    def __init__(self, db, clinic, clock):
        self.db, self.clinic, self.clock = db, clinic, clock

    def now_ms(self):
        return int(self.clock.now() * 1000)

    def write(self, coll, doc_id, fields, rev=None, read_rev=None, entry=None, new=False,
              log=True):
        """Writes fields into coll/doc_id and logs the change. rev defaults
        to a fresh one from the writer's clock; entry overrides fields of the
        `changes` entry (None as a value drops the field). log=False: the
        entry is not written but returned (a writer between its steps)."""
        seq = self.db.counters.find_one_and_update(
            {"_id": self.clinic}, {"$inc": {"seq": 1}}, upsert=True,
            return_document=True)["seq"]
        at = self.now_ms()
        rev = rev or rev_text(at)
        sync = {"rev": rev, "by": WRITER, "seq": seq,
                "at": datetime.datetime.fromtimestamp(at / 1000, datetime.timezone.utc)}
        sel = {"_id": doc_id}
        if not new:
            sel["_sync.rev"] = read_rev or self.db[coll].find_one({"_id": doc_id})["_sync"]["rev"]
        res = self.db[coll].find_one_and_update(
            sel, {"$set": dict(fields, clinicId=self.clinic, _sync=sync)}, upsert=new,
            return_document=True)
        assert res is not None, "the document moved on meanwhile"
        e = {"_id": f"{self.clinic}:{seq}", "clinicId": self.clinic, "seq": seq,
             "collection": coll, "docId": doc_id, "rev": rev, "by": WRITER,
             "at": sync["at"], "doc": res}
        for k, v in (entry or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        if not log:
            return e
        self.db.changes.insert_one(e)
        return rev, seq


class TrustTest(SyncedBoxTest):
    def setUp(self):
        super().setUp()
        self.db = self.central.db
        self.w = Writer(self.db, self.clinic, self.clock)

    def restart_box(self):
        """A restart: its first round compares the digests."""
        self.s.stop()
        self.s.start()
        return self.box.round()

    def test_a_refused_new_record_leaves_no_phantom(self):
        start = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.timezone.utc)
        phantom = str(uuid.uuid4())
        fields = {"doctorId": "no-such-doctor", "patientId": self.patient["id"],
                  "start": start, "end": start + datetime.timedelta(minutes=30),
                  "status": "booked", "reason": "Call centre", "createdAt": start}
        rev, _ = self.w.write("appointments", phantom, fields, new=True)
        st = self.box.round()
        self.assertEqual(st["rejected_total"], 1)
        self.assertEqual(self.s.get(f"/api/appointments/{phantom}").status, 404)
        # the sides agree: central no longer has it as a booking ...
        self.assertIsNone(self.db.appointments.find_one({"_id": phantom}))
        # ... and the writer learns what became of it, with what it wrote
        rej = self.db.rejections.find_one({"docId": phantom})
        self.assertIn("doctor", rej["reason"])
        self.assertEqual((rej["rev"], rej["collection"], rej["removed"]),
                         (rev, "appointments", True))
        self.assertEqual(rej["doc"]["reason"], "Call centre")
        out = self.db.outcomes.find_one({"docId": phantom})
        self.assertEqual((out["outcome"], out["rev"], out["reason"]), ("refused", rev, rej["reason"]))
        # reconciling changes nothing and counts nothing, twice
        log_before = self.s.read_log().count("taken from central")
        for _ in range(2):
            st = self.restart_box()
            self.assertEqual(st["drift_repaired_total"], 0, st)
        self.assertEqual(self.s.read_log().count("taken from central"), log_before)
        self.assertEqual(self.db.rejections.count_documents({"docId": phantom}), 1)

    def test_an_id_that_is_not_a_uuid_is_refused(self):
        # the box's API promises UUIDs: such a record never reaches it
        self.w.write("patients", "patient-7", {"name": "Odd Id"}, new=True)
        st = self.box.round()
        self.assertEqual(st["rejected_total"], 1, st)
        self.assertIn("UUID", self.db.rejections.find_one({"docId": "patient-7"})["reason"])
        self.assertIsNone(self.db.patients.find_one({"_id": "patient-7"}))
        names = [p["name"] for p in self.s.get("/api/patients").json["patients"]]
        self.assertNotIn("Odd Id", names)

    def test_a_booking_above_a_gap_waits_for_its_patient(self):
        # (a second reviewer's scenario) a writer made a patient and has not
        # logged it yet; another booked that patient. The booking is read
        # first, above the gap: it must wait, not be refused and removed.
        pid = str(uuid.uuid4())
        entry = self.w.write("patients", pid, {"name": "Late Entry", "email": None,
                                               "phone": None, "notifyEmail": False,
                                               "notifySms": False}, new=True, log=False)
        start = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.timezone.utc)
        aid = str(uuid.uuid4())
        self.w.write("appointments", aid, {
            "doctorId": self.doctor["id"], "patientId": pid, "start": start,
            "end": start + datetime.timedelta(minutes=15), "status": "booked",
            "reason": "After the gap", "createdAt": start}, new=True)
        st = self.box.round()
        self.assertEqual(st["rejected_total"], 0, st)
        self.assertIsNotNone(self.db.appointments.find_one({"_id": aid}))
        self.assertEqual(self.db.rejections.count_documents({}), 0)
        # the writer logs its patient: the booking is taken
        self.db.changes.insert_one(entry)
        self.box.round()
        self.assertEqual(self.s.get(f"/api/appointments/{aid}").json["status"], "booked")
        self.assertEqual(self.db.appointments.find_one({"_id": aid})["status"], "booked")

    def test_a_stale_revision_is_reported_and_overwritten(self):
        pid = self.patient["id"]
        box_rev = self.db.patients.find_one({"_id": pid})["_sync"]["rev"]
        box_ms = int(box_rev.split("-")[0])
        # a writer that stamped its edit a minute before the box's revision
        stale = rev_text(box_ms - 60_000)
        self.w.write("patients", pid, {"phone": "+4915199999999"}, rev=stale, read_rev=box_rev)
        self.box.round()
        # visible: in rejections, the box's event log and its log
        rej = self.db.rejections.find_one({"docId": pid, "rev": stale})
        self.assertIsNotNone(rej, list(self.db.rejections.find()))
        self.assertIn("older", rej["reason"])
        self.assertEqual(self.db.outcomes.find_one({"docId": pid, "rev": stale})["outcome"], "stale")
        self.assertIn(f"patients {pid}", self.s.read_log())
        # and the sides end equal: the box's record (the phone it never had
        # stays out) is pushed over the stale write
        wait_until(lambda: self.box.round() and
                   self.db.patients.find_one({"_id": pid})["_sync"]["rev"] != stale, timeout=60)
        box_phone = self.s.get(f"/api/patients/{pid}").json.get("phone")
        self.assertNotEqual(box_phone, "+4915199999999")
        self.assertEqual(self.db.patients.find_one({"_id": pid})["phone"], box_phone)
        # and a reconcile afterwards finds nothing to push again
        st = self.restart_box()
        self.assertEqual(st["drift_repaired_total"], 0, st)

    def test_a_change_entry_without_clinic_id_is_refused_and_its_record_fetched(self):
        pid = self.patient["id"]
        _, seq = self.w.write("patients", pid, {"phone": "+4915122223333"},
                              entry={"clinicId": None})
        st = self.box.round()
        # at once, not after the one-minute wait for a missing number
        self.assertEqual(self.s.get(f"/api/patients/{pid}").json["phone"], "+4915122223333")
        self.assertGreaterEqual(st["rejected_total"], 1)
        rej = self.db.rejections.find_one({"collection": "changes"})
        self.assertIsNotNone(rej, list(self.db.rejections.find()))
        self.assertEqual(rej["docId"], f"{self.clinic}:{seq}")
        self.assertIn("clinicId", rej["reason"])
        self.assertIn(f"{self.clinic}:{seq}", self.s.read_log())
        # the numbers after it are not held up
        self.w.write("patients", pid, {"phone": "+4915144445555"})
        self.box.round()
        self.assertEqual(self.s.get(f"/api/patients/{pid}").json["phone"], "+4915144445555")

    def test_conflicts_and_kept_statuses_are_outcomes_centrally(self):
        def tool(*args):
            return central_cmd(self.central, self.clock, *args, clinic=self.clinic)
        # the box books 09:00 first; central books the same slot
        mine = self.s.post("/api/appointments", {"doctor_id": self.doctor["id"],
                                                 "patient_id": self.patient["id"],
                                                 "start": "2026-12-01T10:00:00+01:00"}).json
        theirs = tool("book", "--doctor", self.doctor["id"], "--patient", self.patient["id"],
                      "--start", "2026-12-01T09:00:00Z", "--minutes", "15")
        self.box.round()
        out = self.db.outcomes.find_one({"docId": theirs["id"]})
        self.assertEqual((out["outcome"], out["rev"]), ("conflict", theirs["rev"]), out)
        self.assertIn("conflict", out["reason"])
        # a check-in on the box; a central cancel made over it is not taken
        self.assertEqual(self.s.post(f"/api/appointments/{mine['id']}/check-in", {}).status, 200)
        self.box.round()
        cancel = tool("cancel", mine["id"], "--reason", "Doctor ill")
        self.box.round()
        self.assertEqual(self.s.get(f"/api/appointments/{mine['id']}").json["status"], "checked_in")
        out = self.db.outcomes.find_one({"docId": mine["id"], "rev": cancel["rev"]})
        self.assertEqual(out["outcome"], "status_kept", out)
        self.assertIn("checked_in", out["reason"])
        # neither is a rejection
        self.assertEqual(self.db.rejections.count_documents({}), 0)

    def test_messages_skipped_when_made_are_not_pushed(self):
        nobody = self.s.post("/api/patients", {"name": "No Contact"}).json
        self.box.round()
        w = central_cmd(self.central, self.clock, "book", "--doctor", self.doctor["id"],
                        "--patient", nobody["id"], "--start", "2026-12-01T09:00:00Z",
                        "--minutes", "15", clinic=self.clinic)
        st = self.box.round()
        self.assertEqual(st["pending_changes"], 0, st)
        notes = notifications(self.s, appointment_id=w["id"])
        self.assertTrue(notes)
        self.assertEqual({n["status"] for n in notes}, {"skipped"})
        self.assertEqual(self.db.notifications.count_documents({"appointmentId": w["id"]}), 0)
        # a message that is sent (queued here) is pushed as before
        withmail = self.s.post("/api/patients", {"name": "Mail", "email": "m@example.org"}).json
        mine = self.s.post("/api/appointments", {"doctor_id": self.doctor["id"],
                                                 "patient_id": withmail["id"],
                                                 "start": "2026-12-01T11:00:00+01:00"}).json
        self.box.round()
        self.assertEqual(self.db.notifications.count_documents(
            {"appointmentId": mine["id"], "status": {"$ne": "skipped"}}), 1)
        self.assertEqual(self.db.notifications.count_documents(
            {"appointmentId": mine["id"], "status": "skipped"}), 0)
        # and the digests agree: no drift
        st = self.restart_box()
        self.assertEqual(st["drift_repaired_total"], 0, st)


if __name__ == "__main__":
    unittest.main()
