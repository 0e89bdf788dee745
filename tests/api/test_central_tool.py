"""`clinicbox central` judges a write by the box's own rules before it writes
(docs/sync.md, "Writing centrally"), against jongodb (or a real mongod with
CLINICBOX_TEST_MONGO_URI):

- what the box would refuse (an unknown clinic, doctor or patient, offers and
  notifications, a field of the wrong type, a start off the 5-minute grid, a
  patient with appointments deleted, ...) exits 2 with a message naming the
  field, and central gets nothing: no number taken from `counters`, no
  document, no `changes` entry;
- what the box takes but keeps as a conflict (off the doctor's 15-minute slot
  grid, outside the hours, time taken) is written with a warning, and the box
  does make it a conflict; a booking on the grid round-trips as booked.

One jongodb and one box for the class; the tests only read what the class set
up, or add bookings of their own.
"""
import datetime
import json
import subprocess
import unittest

from central import Central
from harness import BIN, Clock, Server, wait_until

NOW = "2026-11-30 07:00:00"   # a Monday; Berlin is UTC+1. Box, tool and test share the Clock
OTHER = "other-clinic"        # a second clinic in central, with a doctor and a patient
RECORDS = ["clinics", "doctors", "schedules", "patients", "appointments", "offers",
           "notifications", "counters", "changes"]


class CentralToolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.central = Central().start()
        cls.addClassCleanup(cls.central.stop)
        cls.clock = Clock(NOW)
        cls.server = Server(clock=cls.clock, env={"CLINICBOX_MONGO_URI": cls.central.uri,
                                                  "CLINICBOX_SYNC_INTERVAL_SECONDS": "3600"})
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        s = cls.server
        cls.doctor, cls.patient = s.seed()   # Berlin, 15-minute slots, 08:00-18:00 every day
        cls.clinic = s.get("/api/clinic").json["id"]
        # the box's booking, 2026-12-02 10:00-10:30 Berlin: the patient has an
        # appointment, and that time is taken
        cls.booked = s.post("/api/appointments", {"doctor_id": cls.doctor["id"],
                                                  "patient_id": cls.patient["id"],
                                                  "start": "2026-12-02T10:00:00+01:00",
                                                  "duration_minutes": 30}).json
        cls.round()
        db = cls.central.db
        assert db.appointments.count_documents({"_id": cls.booked["id"]}) == 1
        # what a central admin has besides: a deleted patient, another clinic
        now = datetime.datetime.fromtimestamp(cls.clock.now(), datetime.timezone.utc)
        db.patients.insert_one({"_id": "gone-patient", "clinicId": cls.clinic, "name": "Gone",
                                "deletedAt": now})
        db.clinics.insert_one({"_id": OTHER, "clinicId": OTHER, "name": "Other",
                               "timezone": "Europe/Berlin", "rescheduleOptions": 3,
                               "offerHours": 48})
        db.doctors.insert_one({"_id": "other-doctor", "clinicId": OTHER, "name": "Dr. Other",
                               "slotMinutes": 15})
        db.patients.insert_one({"_id": "other-patient", "clinicId": OTHER, "name": "Other"})

    @classmethod
    def round(cls):
        """One sync round of the box, waited for; the status after it."""
        s = cls.server
        before = s.get("/api/sync/status").json
        done = before["rounds_ok"] + before["rounds_failed"]
        assert s.post("/api/sync/run", {}).status == 202
        st = wait_until(lambda: (lambda st: st if st["rounds_ok"] + st["rounds_failed"] > done
                                 and not st["running"] else None)(
            s.get("/api/sync/status").json), timeout=60)
        assert st and st["state"] == "ok", st
        return st

    def tool(self, *args, clinic=True):
        cmd = [BIN, "central", "--uri", self.central.uri]
        if clinic:
            cmd += ["--clinic", self.clinic if clinic is True else clinic]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60,
                              env=self.clock.env())

    def snapshot(self):
        db = self.central.db
        return {c: sorted(db[c].find(), key=lambda d: str(d["_id"])) for c in RECORDS}

    def refused(self, cases, clinic=True):
        """Each (args, message) exits 2 saying message, and writes nothing."""
        for args, says in cases:
            with self.subTest(args=args):
                before = self.snapshot()
                p = self.tool(*args, clinic=clinic)
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertIn(says, p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertEqual(self.snapshot(), before, "central changed")

    def written(self, *args):
        p = self.tool(*args)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return json.loads(p.stdout), p.stderr

    # -- refused ----------------------------------------------------------------
    def test_usage_names_the_exit_statuses(self):
        p = self.tool("--help", clinic=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Exit status: 0 written", p.stdout)
        self.assertIn("2 refused input", p.stdout)
        self.refused([(("frobnicate",), "Usage: clinicbox central")])
        p = subprocess.run([BIN, "central", "get", "patients", "x"], capture_output=True,
                           text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("CLINICBOX_MONGO_URI", p.stderr)

    def test_the_clinic_must_exist(self):
        book = ("book", "--doctor", self.doctor["id"], "--patient", self.patient["id"],
                "--start", "2026-12-01T09:00:00Z")
        self.refused([(book, "--clinic: no clinic no-such-clinic in `clinics`"),
                      (("put", "patients", "new", '{"name": "Orphan"}'),
                       "--clinic: no clinic no-such-clinic")], clinic="no-such-clinic")
        # two clinics in central: which one must be said
        self.refused([(book, "--clinic: say which clinic")], clinic=None)
        # another clinic's records are not this one's
        self.refused([
            (("book", "--doctor", "other-doctor", "--patient", self.patient["id"],
              "--start", "2026-12-01T09:00:00Z"),
             f"doctorId: no doctor other-doctor in `doctors` of clinic {self.clinic}"),
            (("put", "patients", "other-patient", '{"name": "Mine Now"}'),
             f"_id: patients other-patient belongs to clinic {OTHER}, not {self.clinic}"),
            (("put", "clinics", OTHER, '{"name": "Renamed"}'), f"belongs to clinic {OTHER}"),
            (("put", "clinics", "new", '{"name": "New"}'), "a clinic is made by its box"),
        ])

    def test_offers_and_notifications_are_the_boxs(self):
        self.refused([
            (("put", "offers", "new", json.dumps({"appointmentId": self.booked["id"],
                                                  "options": []})),
             "offers are made by the box, not centrally"),
            (("put", "notifications", "new", '{"status": "sent"}'),
             "notifications are made by the box, not centrally"),
            (("put", "rooms", "new", "{}"), "unknown collection rooms"),
            (("get", "rooms", "x"), "unknown collection rooms"),
        ])

    def test_wrong_fields_are_refused(self):
        d, p = self.doctor["id"], self.patient["id"]
        start = {"$date": "2026-12-01T09:00:00Z"}
        self.refused([
            (("put", "doctors", d, '{"slotMinutes": "x"}'), "slotMinutes: not a whole number"),
            (("put", "doctors", d, '{"slotMinutes": 7}'), "slotMinutes: not a multiple of 5"),
            (("put", "doctors", "new", '{"name": "Dr. No Slots"}'), "slotMinutes: missing"),
            (("put", "patients", "new", '{"name": 5}'), "name: not a text"),
            (("put", "patients", "new", '{"email": "x@example.org"}'), "name: missing"),
            (("put", "patients", p, '{"notifySms": "yes"}'), "notifySms: not true or false"),
            (("put", "patients", p, '{"clinicId": "x"}'), "clinicId: written by"),
            (("put", "patients", p, '{"_sync": {"rev": "x"}}'), "_sync: written by"),
            (("put", "patients", p, '{"name.first": "A"}'), "name.first: put sets whole fields"),
            (("put", "patients", "new", "{not json"), "JSON is not valid"),
            (("put", "schedules", d, '{"weekly": [{"weekday": 8, "start": "09:00", '
                                     '"end": "12:00"}]}'), "weekday: out of range"),
            (("put", "schedules", d, '{"weekly": [{"weekday": 1, "start": "09:07", '
                                     '"end": "12:00"}]}'), "weekly: start and end must be HH:MM"),
            (("put", "clinics", self.clinic, '{"timezone": "Mars/Olympus"}'),
             "timezone: not a known time zone"),
            (("put", "clinics", self.clinic, '{"offerHours": "many"}'),
             "offerHours: not a whole number"),
            (("put", "appointments", "new", json.dumps(
                {"doctorId": d, "patientId": p, "start": "tomorrow",
                 "end": {"$date": "2026-12-01T09:30:00Z"}})), "start: not a date"),
            (("put", "appointments", "new", json.dumps(
                {"doctorId": d, "patientId": p, "start": start,
                 "end": {"$date": "2026-12-01T08:30:00Z"}})), "end after start"),
            (("put", "appointments", "new", json.dumps(
                {"doctorId": d, "patientId": p, "start": start,
                 "end": {"$date": "2026-12-01T09:30:00Z"}, "status": "checked_in"})),
             "status: a new appointment from central must be booked, not checked_in"),
            (("put", "appointments", self.booked["id"], '{"status": "lost"}'),
             "status: not a known status"),
            (("put", "appointments", self.booked["id"], '{"deletedAt": {"$date": '
                                                        '"2026-11-30T08:00:00Z"}}'),
             "deletedAt: appointments are cancelled, never deleted"),
        ])

    def test_bookings_the_box_would_refuse(self):
        d, p = self.doctor["id"], self.patient["id"]

        def book(start="2026-12-01T09:00:00Z", doctor=d, patient=p, *more):
            return ("book", "--doctor", doctor, "--patient", patient, "--start", start) + more

        self.refused([
            # 10:07 Berlin: off the 5-minute grid of every time the box keeps
            (book("2026-12-01T09:07:00Z"),
             "start: start and end must be dates on the 5-minute grid"),
            (book("2026-12-01T09:05:30Z"), "start: start and end must be dates on the 5-minute"),
            (book(doctor="no-such-doctor"),
             f"doctorId: no doctor no-such-doctor in `doctors` of clinic {self.clinic}"),
            (book(patient="no-such-patient"), "patientId: no patient no-such-patient"),
            (book(patient="gone-patient"), "patientId: patient gone-patient is deleted"),
            (book("2026-12-01T09:00:00Z", d, p, "--minutes", "7"), "--minutes: a multiple of 5"),
            (book("2026-12-01T09:00:00Z", d, p, "--minutes", "x"), "--minutes: a multiple of 5"),
            (book("tomorrow"), "--start: tomorrow is not an RFC 3339 time"),
            (("book", "--doctor", d), "book needs --doctor, --patient and --start"),
            (("cancel", "no-such-appointment"), "_id: no appointments no-such-appointment"),
            (("delete", "appointments", self.booked["id"]), "appointments are cancelled"),
            (("delete", "patients", p),
             f"deletedAt: patient {p} has appointments and cannot be deleted"),
            (("delete", "doctors", d), "deletedAt: doctor"),
            (("delete", "patients", "no-such-patient"), "_id: no patients no-such-patient"),
            (("put", "schedules", "no-such-doctor", '{"weekly": []}'),
             "no doctor no-such-doctor in `doctors`"),
            (("put", "schedules", "new", '{"weekly": []}'), "a schedule's id is its doctor's"),
        ])

    # -- written ----------------------------------------------------------------
    def test_a_booking_round_trips_and_conflicts_are_announced(self):
        d, p = self.doctor["id"], self.patient["id"]
        ok, said = self.written("book", "--doctor", d, "--patient", p, "--start",
                                "2026-12-01T09:00:00Z", "--minutes", "30")
        self.assertNotIn("clinicbox central", said)   # (jongodb makes mongoc log a line)
        # 10:05 Berlin is on the 5-minute grid but between the doctor's
        # 15-minute slots: the box keeps it as a conflict, the tool says so
        off, said = self.written("book", "--doctor", d, "--patient", p, "--start",
                                 "2026-12-01T09:05:00Z")
        self.assertIn("warning: start: the box will keep this booking as a conflict", said)
        self.assertIn("not at the start of one of the doctor's slots", said)
        late, said = self.written("book", "--doctor", d, "--patient", p, "--start",
                                  "2026-12-01T20:00:00Z")
        self.assertIn("outside the doctor's working hours", said)
        taken, said = self.written("book", "--doctor", d, "--patient", p, "--start",
                                   "2026-12-02T09:15:00Z", "--minutes", "15")
        self.assertIn(f"central shows the doctor booked then (appointment {self.booked['id']})",
                      said)
        self.round()
        s = self.server
        a = s.get(f"/api/appointments/{ok['id']}").json
        self.assertEqual((a["status"], a["start"], a["end"]),
                         ("booked", "2026-12-01T10:00:00+01:00", "2026-12-01T10:30:00+01:00"))
        for w, why in [(off, "slots"), (late, "working hours"), (taken, "already booked")]:
            a = s.get(f"/api/appointments/{w['id']}").json
            self.assertEqual(a["status"], "conflict", a)
            self.assertIn(why, a["conflict_reason"])
        # nothing of these was refused by the box
        self.assertEqual(self.central.db.rejections.count_documents(
            {"docId": {"$in": [ok["id"], off["id"], late["id"], taken["id"]]}}), 0)


if __name__ == "__main__":
    unittest.main()
