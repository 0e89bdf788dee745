"""Field-level merge of patients, doctors and the clinic (docs/sync.md,
"Field-level merge"; issue 13, item 6).

A box edits a record while its link to central is cut (CutProxy, from
test_sync_converge); a central writer in Python (Writer, from
test_sync_trust: the documented write shape) edits the same record
meanwhile. When the link heals:

- different fields edited on the two sides both survive, on both sides
  (a phone on the box and a later email centrally; a doctor's phone and
  email; the clinic's offer hours and name);
- a field edited on both sides goes to the later edit of that field, on
  both sides, also when the box edited another field after central's edit.

The box and the writer share one faked clock (harness.Clock); an edit that
must be the later one is made a second after the other (the box's clock
starts a moment behind the Clock, while its process starts).
"""
import unittest

import test_sync_converge as converge
from harness import Clock, Server, wait_until
from test_sync_pull import NOW
from test_sync_trust import Writer

QUERY = "serverSelectionTimeoutMS=2000&connectTimeoutMS=2000&socketTimeoutMS=3000"


class MergeTest(unittest.TestCase):
    def setUp(self):
        # the box talks to central through a proxy the test can cut;
        # the writer writes to central directly
        self.central, self.proxy, uri = converge.RegressionTest.proxied_central(self, QUERY)
        self.clock = Clock(NOW)
        self.s = Server(clock=self.clock, env={"CLINICBOX_MONGO_URI": uri,
                                               "CLINICBOX_SYNC_INTERVAL_SECONDS": "3600"})
        self.addCleanup(self.s.cleanup)
        self.s.start()
        self.doctor, self.patient = self.s.seed()
        self.clinic = self.s.get("/api/clinic").json["id"]
        self.settle()
        self.db = self.central.db
        self.w = Writer(self.db, self.clinic, self.clock)

    # -- helpers ---------------------------------------------------------------
    def round(self):
        """One round, waited for; the status after it (it may have failed)."""
        s = self.s
        before = s.get("/api/sync/status").json
        done = before["rounds_ok"] + before["rounds_failed"]
        self.assertEqual(s.post("/api/sync/run", {}).status, 202)
        st = wait_until(lambda: (lambda st: st if st["rounds_ok"] + st["rounds_failed"] > done
                                 and not st["running"] else None)(
            s.get("/api/sync/status").json), timeout=60)
        self.assertTrue(st, "the round did not end")
        return st

    def settle(self):
        """Rounds until one succeeds with nothing left to push."""
        for _ in range(6):
            st = self.round()
            if st["state"] == "ok" and st["pending_changes"] == 0:
                return st
        self.fail(f"the box did not settle: {st}\n{self.s.read_log()}")

    def cut(self):
        self.proxy.set_mode("drop")

    def heal(self):
        self.proxy.set_mode("pass")
        return self.settle()

    def after(self, seconds):
        """Waits until the shared clock is `seconds` past now (so that the
        next edit has the later revision)."""
        t = self.clock.now() + seconds
        self.assertTrue(wait_until(lambda: self.clock.now() > t, timeout=10, interval=0.005))

    def put(self, path, body):
        r = self.s.put(path, body)
        self.assertEqual(r.status, 200, r)
        return r.json

    def central_doc(self, coll, doc_id):
        return self.db[coll].find_one({"_id": doc_id})

    # -- patients ------------------------------------------------------------------
    def test_a_box_phone_edit_and_a_later_central_email_edit_both_survive(self):
        pid = self.patient["id"]
        self.cut()
        self.put(f"/api/patients/{pid}", {"phone": "+4915111112222"})
        st = self.round()   # the box tries, and cannot push
        self.assertNotEqual(st["state"], "ok", st)
        self.assertGreater(st["pending_changes"], 0, st)
        self.after(0.05)
        self.w.write("patients", pid, {"email": "ann.central@example.org"})
        self.heal()
        box = self.s.get(f"/api/patients/{pid}").json
        doc = self.central_doc("patients", pid)
        self.assertEqual((box["phone"], box["email"]),
                         ("+4915111112222", "ann.central@example.org"), self.s.read_log())
        self.assertEqual((doc["phone"], doc["email"]),
                         ("+4915111112222", "ann.central@example.org"))
        self.assertEqual(doc["name"], box["name"])
        # said in the log, and nothing left over: another round moves nothing
        self.assertIn("merged field by field", self.s.read_log())
        # and in central outcomes, for the writer of the email
        out = self.db.outcomes.find_one({"docId": pid, "outcome": "merged"})
        self.assertIsNotNone(out, list(self.db.outcomes.find()))
        self.assertIn("phone", out["reason"])
        before = self.s.get("/api/sync/status").json
        st = self.round()
        self.assertEqual((st["pulled_total"], st["pushed_total"]),
                         (before["pulled_total"], before["pushed_total"]))

    def test_the_same_field_goes_to_its_later_edit(self):
        pid = self.patient["id"]
        # the box's phone edit is earlier than central's; its rename, after
        # central's edit, is the box's latest change of the record, but not
        # of the phone: central's phone wins, the box's name stays
        self.cut()
        self.put(f"/api/patients/{pid}", {"phone": "+4915100000001"})
        self.after(0.05)
        self.w.write("patients", pid, {"phone": "+4915100000002"})
        self.after(1.0)
        self.put(f"/api/patients/{pid}", {"name": "Box Name"})
        self.heal()
        box = self.s.get(f"/api/patients/{pid}").json
        doc = self.central_doc("patients", pid)
        self.assertEqual((box["phone"], box["name"]), ("+4915100000002", "Box Name"),
                         self.s.read_log())
        self.assertEqual((doc["phone"], doc["name"]), ("+4915100000002", "Box Name"))
        # and the other way round: the box's phone edit is the later one
        self.cut()
        self.w.write("patients", pid, {"phone": "+4915100000003", "notifySms": False})
        self.after(1.0)
        self.put(f"/api/patients/{pid}", {"phone": "+4915100000004"})
        self.heal()
        box = self.s.get(f"/api/patients/{pid}").json
        doc = self.central_doc("patients", pid)
        self.assertEqual((box["phone"], box["notify_sms"]), ("+4915100000004", False))
        self.assertEqual((doc["phone"], doc["notifySms"]), ("+4915100000004", False))

    def test_an_edit_after_a_push_whose_reply_was_lost_stays(self):
        # the box's push of a phone reaches central, but its reply is lost;
        # the box edits the phone again, and central (over the pushed
        # revision) the email: central's phone is the box's own pushed one,
        # not a central edit, so the box's later phone stays
        pid = self.patient["id"]
        self.put(f"/api/patients/{pid}", {"phone": "+4915100000011"})
        self.proxy.arm(2, "pass", command="update")   # the first is the epoch's
        st = self.round()
        self.assertNotEqual(st["state"], "ok", st)
        self.assertEqual(self.central_doc("patients", pid)["phone"], "+4915100000011")
        self.cut()
        self.put(f"/api/patients/{pid}", {"phone": "+4915100000012"})
        self.after(0.05)
        self.w.write("patients", pid, {"email": "ann.central@example.org"})
        self.heal()
        box = self.s.get(f"/api/patients/{pid}").json
        doc = self.central_doc("patients", pid)
        self.assertEqual((box["phone"], box["email"]),
                         ("+4915100000012", "ann.central@example.org"), self.s.read_log())
        self.assertEqual((doc["phone"], doc["email"]),
                         ("+4915100000012", "ann.central@example.org"))

    # -- doctors and the clinic -------------------------------------------------------
    def test_a_doctor_merges_field_by_field(self):
        did = self.doctor["id"]
        self.cut()
        self.put(f"/api/doctors/{did}", {"phone": "+4930123456"})
        self.after(0.05)
        self.w.write("doctors", did, {"email": "dr.central@example.org"})
        self.heal()
        box = self.s.get(f"/api/doctors/{did}").json
        doc = self.central_doc("doctors", did)
        self.assertEqual((box.get("phone"), box.get("email")),
                         ("+4930123456", "dr.central@example.org"),
                         self.s.read_log())
        self.assertEqual((doc["phone"], doc["email"]), ("+4930123456", "dr.central@example.org"))

    def test_the_clinic_merges_setting_by_setting(self):
        self.cut()
        self.put("/api/clinic", {"offer_hours": 72})
        self.after(0.05)
        self.w.write("clinics", self.clinic, {"name": "Praxis Zentral",
                                              "reminderHours": [48, 2]})
        self.heal()
        box = self.s.get("/api/clinic").json
        doc = self.central_doc("clinics", self.clinic)
        self.assertEqual((box["offer_hours"], box["name"], box["reminder_hours"]),
                         (72, "Praxis Zentral", [48, 2]), self.s.read_log())
        self.assertEqual((doc["offerHours"], doc["name"], doc["reminderHours"]),
                         (72, "Praxis Zentral", [48, 2]))


if __name__ == "__main__":
    unittest.main()
