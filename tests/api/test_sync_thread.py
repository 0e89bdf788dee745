"""The sync thread of the server against a central MongoDB (jongodb, or a
real mongod with CLINICBOX_TEST_MONGO_URI): rounds every
sync_interval_seconds push what changed; with the central server down,
bookings go on as fast as ever, the status says what is wrong and the
changes wait; when it is back they go out. POST /api/sync/run asks for a
round; sync off answers 409.
"""
import time
import unittest

from central import Central
from harness import Server, ServerTest, wait_until


class SyncThreadTest(unittest.TestCase):
    def setUp(self):
        self.central = Central().start()
        self.addCleanup(self.central.stop)
        self.server = Server(faketime="2026-11-30 07:00:00",
                             env={"CLINICBOX_MONGO_URI": self.central.uri + "?serverSelectionTimeoutMS=1000",
                                  "CLINICBOX_SYNC_INTERVAL_SECONDS": "1"})
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def tearDown(self):
        self.server.stop()

    def book(self, doctor, patient, start):
        t = time.monotonic()
        r = self.server.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                                   "start": start})
        self.assertEqual(r.status, 201, r)
        return r.json, time.monotonic() - t

    def test_changes_reach_central_and_wait_out_an_outage(self):
        s = self.server
        doctor, patient = s.seed()
        a, _ = self.book(doctor, patient, "2026-11-30T10:00:00+01:00")
        db = self.central.db
        self.assertTrue(wait_until(lambda: db.appointments.find_one({"_id": a["id"]}), timeout=20),
                        s.get("/api/sync/status").json)
        st = wait_until(lambda: (lambda j: j if j["pending_changes"] == 0 and j["state"] == "ok" else None)(
            s.get("/api/sync/status").json), timeout=20)
        self.assertTrue(st, s.get("/api/sync/status").json)
        self.assertTrue(st["enabled"])
        self.assertIsNotNone(st["last_success_at"])
        self.assertIsNotNone(st["last_push_at"])
        self.assertIsNone(st["last_error"])
        self.assertEqual(s.get("/api/health").json["sync"]["state"], "ok")
        self.assertIn("clinicbox_sync_pending_changes 0", s.get("/metrics").raw)

        # the central server goes away
        self.central.proc.kill()
        self.central.proc.wait()
        failing = wait_until(lambda: (lambda j: j if j["state"] == "failing" else None)(
            s.get("/api/sync/status").json), timeout=20)
        self.assertTrue(failing, s.get("/api/sync/status").json)
        self.assertIn("does not answer", failing["last_error"])
        # bookings go on, not held up by the sync thread's failing rounds
        slowest = 0
        later = []
        for start in ("2026-11-30T11:00:00+01:00", "2026-11-30T11:15:00+01:00", "2026-11-30T11:30:00+01:00"):
            b, secs = self.book(doctor, patient, start)
            later.append(b)
            slowest = max(slowest, secs)
        self.assertLess(slowest, 0.9, "a booking waited for the central server")
        self.assertGreater(s.get("/api/sync/status").json["pending_changes"], 0)
        self.assertEqual(s.post("/api/sync/run").status, 202)

        # it comes back, empty (jongodb keeps nothing, like a replaced or
        # restored-empty central database): the box notices and pushes
        # everything again, not only what changed meanwhile
        import subprocess
        from central import JONGODB
        self.central.proc = subprocess.Popen([JONGODB, "--host=127.0.0.1", f"--port={self.central.port}"],
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.central.proc.stdout.readline()
        ok = wait_until(lambda: all(db.appointments.find_one({"_id": b["id"]}) for b in later + [a]), timeout=30)
        self.assertTrue(ok, s.get("/api/sync/status").json)
        self.assertTrue(db.patients.find_one({"_id": patient["id"]}))
        self.assertTrue(db.schedules.find_one({"_id": doctor["id"]}))
        self.assertIn("pushing every record again", s.read_log())
        st = wait_until(lambda: (lambda j: j if j["state"] == "ok" and j["pending_changes"] == 0 else None)(
            s.get("/api/sync/status").json), timeout=20)
        self.assertTrue(st, s.get("/api/sync/status").json)
        self.assertGreaterEqual(st["rounds_failed"], 1)
        self.assertIn("the central database answers again", s.read_log())


class SyncOffTest(ServerTest):
    def test_off(self):
        st = self.server.get("/api/sync/status").json
        self.assertEqual((st["enabled"], st["state"], st["pending_changes"]), (False, "off", 0))
        r = self.server.post("/api/sync/run")
        self.assertProblem(r, 409)
        self.assertEqual(self.server.get("/api/health").json["sync"]["state"], "off")


if __name__ == "__main__":
    unittest.main()
