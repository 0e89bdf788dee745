"""Push of the box's records to the central MongoDB (jongodb, or a real
mongod with CLINICBOX_TEST_MONGO_URI), by `clinicbox sync --once`:

- a box that had no mongo_uri seeds the central database at its first round;
- afterwards every change is journaled in its own transaction and pushed;
- the documents read well for admins: the box's ids, clinicId, BSON dates,
  names; no token hashes and no message texts leave the box;
- pushing the same batch twice changes nothing; fields written centrally
  that the box does not know survive its pushes.
"""
import datetime
import os
import shutil
import subprocess
import tempfile
import unittest

from central import Central
from harness import BIN, Clock, Server

NOW = "2026-11-30 07:00:00"


class PushTest(unittest.TestCase):
    def setUp(self):
        self.central = Central().start()
        self.addCleanup(self.central.stop)
        self.clock = Clock(NOW)   # the box's and `clinicbox sync`'s
        self.first = Server(clock=self.clock)
        self.addCleanup(self.first.cleanup)
        self.data = self.first.data

    def sync_once(self, data=None):
        p = subprocess.run([BIN, "sync", "--once", "--data", data or self.data, "--set",
                            f"mongo_uri={self.central.uri}"], capture_output=True, text=True,
                           timeout=120, env=self.clock.env())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def serve(self, **env):
        s = Server(data=self.data, clock=self.clock, env=env)
        s.start()
        return s

    def test_seed_then_changes_then_idempotent_pushes(self):
        # a box that worked without a central database
        s = self.first.start()
        doctor, patient = s.seed()
        a = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                         "start": "2026-11-30T10:00:00+01:00", "duration_minutes": 30,
                                         "reason": "Kontrolle"}).json
        offer = s.post(f"/api/appointments/{a['id']}/reschedule", {}).json
        clinic = s.get("/api/clinic").json
        s.stop()

        self.sync_once()
        db = self.central.db
        c = db.clinics.find_one({"_id": clinic["id"]})
        self.assertEqual(c["name"], "Praxis Test")
        self.assertEqual(c["timezone"], "Europe/Berlin")
        self.assertEqual(c["clinicId"], clinic["id"])
        self.assertEqual(c["reminderHours"], [24, 2])
        self.assertIsInstance(c["createdAt"], datetime.datetime)
        box = db.boxes.find_one()
        self.assertEqual(c["_sync"]["box"], box["_id"])
        self.assertRegex(c["_sync"]["rev"], r"^\d{13}-\d{6}-" + box["_id"] + "$")
        self.assertEqual(box["pendingChanges"], 0)

        d = db.doctors.find_one({"_id": doctor["id"]})
        self.assertEqual((d["name"], d["slotMinutes"], d["clinicId"]), ("Dr. Test", 15, clinic["id"]))
        sch = db.schedules.find_one({"_id": doctor["id"]})
        self.assertEqual(len(sch["weekly"]), 7)
        self.assertEqual(sch["weekly"][0], {"weekday": 1, "start": "08:00", "end": "18:00"})
        p = db.patients.find_one({"_id": patient["id"]})
        self.assertEqual((p["name"], p["email"], p["notifySms"]), ("Anna Müller", "anna@example.org", True))
        ap = db.appointments.find_one({"_id": a["id"]})
        self.assertEqual(ap["start"], datetime.datetime(2026, 11, 30, 9, 0))
        self.assertEqual(ap["end"], datetime.datetime(2026, 11, 30, 9, 30))
        self.assertEqual((ap["status"], ap["reason"], ap["doctorId"], ap["patientId"]),
                         ("booked", "Kontrolle", doctor["id"], patient["id"]))
        self.assertIsNone(ap["cancelledAt"])
        of = db.offers.find_one({"_id": offer["id"]})
        self.assertEqual(len(of["options"]), len(offer["options"]))
        self.assertIsInstance(of["options"][0]["start"], datetime.datetime)
        self.assertNotIn("tokenHash", of)
        self.assertFalse([k for k in of if "token" in k.lower()])
        notes = list(db.notifications.find({"appointmentId": a["id"]}))
        self.assertEqual(len(notes), 4)  # confirmation and offer, email and SMS
        for n in notes:
            self.assertEqual(n["status"], "queued")
            self.assertFalse({"body", "subject", "attachment"} & set(n), n)
        self.assertNotIn("token=", repr(notes))

        # central admins annotate a patient (a field the box does not know)
        db.patients.update_one({"_id": patient["id"]}, {"$set": {"adminNote": "VIP"}})
        counts = {k: db[k].count_documents({}) for k in
                  ("clinics", "doctors", "schedules", "patients", "appointments", "offers", "notifications")}

        # now with a mongo_uri: every change is journaled as it happens
        s = self.serve(CLINICBOX_MONGO_URI=self.central.uri)
        r = s.put(f"/api/patients/{patient['id']}", {"name": "Anna Müller-Schmidt"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(s.post(f"/api/appointments/{a['id']}/cancel", {"reason": "krank"}).status, 200)
        with s.db() as conn:
            (pending,) = conn.execute("SELECT count(DISTINCT entity || entity_id) FROM sync_journal").fetchone()
        self.assertGreaterEqual(pending, 3)  # the patient, the appointment, its cancellation messages
        s.stop()

        # keep a copy of the box as it is before this push, to push it twice
        twin = tempfile.mkdtemp(prefix="clinicbox-twin-")
        self.addCleanup(shutil.rmtree, twin, True)
        for name in os.listdir(self.data):
            if name.startswith("clinicbox.db"):
                shutil.copy(os.path.join(self.data, name), twin)

        self.sync_once()
        p = db.patients.find_one({"_id": patient["id"]})
        self.assertEqual(p["name"], "Anna Müller-Schmidt")
        self.assertEqual(p["adminNote"], "VIP", "a central field survives the box's push")
        ap = db.appointments.find_one({"_id": a["id"]})
        self.assertEqual((ap["status"], ap["cancelReason"]), ("cancelled", "krank"))
        self.assertIsInstance(ap["cancelledAt"], datetime.datetime)
        self.assertEqual(db.notifications.count_documents({"appointmentId": a["id"], "purpose": "cancellation"}), 2)
        self.assertEqual(db.boxes.find_one()["pendingChanges"], 0)
        snapshot = {k: sorted((dict(d, _sync=None) for d in db[k].find()), key=lambda d: d["_id"])
                    for k in counts}

        # the same batch again (as after a cut-off acknowledgement): nothing changes
        self.sync_once(data=twin)
        again = {k: sorted((dict(d, _sync=None) for d in db[k].find()), key=lambda d: d["_id"])
                 for k in counts}
        self.assertEqual(again, snapshot)
        # and a round with nothing journaled pushes nothing
        out = self.sync_once()
        self.assertNotIn("pushed", out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
