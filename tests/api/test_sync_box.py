"""`clinicbox sync --once` against a central MongoDB (jongodb, or a real
mongod with CLINICBOX_TEST_MONGO_URI): the box's document in `boxes`, with
real dates and the outbox's counts; the password of the URI never shows in
what the box prints. (The push and pull of records come next: docs/sync.md.)
"""
import datetime
import subprocess
import unittest

from central import Central
from harness import BIN, Clock, Server, outbox_env


class SyncOnceTest(unittest.TestCase):
    def setUp(self):
        self.central = Central().start()
        self.addCleanup(self.central.stop)
        self.clock = Clock("2026-11-30 07:00:00")   # the box's and `clinicbox sync`'s
        self.server = Server(clock=self.clock, env=outbox_env())
        self.addCleanup(self.server.cleanup)

    def sync_once(self, uri):
        return subprocess.run([BIN, "sync", "--once", "--data", self.server.data, "--set",
                               f"mongo_uri={uri}"], capture_output=True, text=True, timeout=60,
                              env=self.clock.env())

    def test_reports_the_box_with_real_dates_and_counts(self):
        s = self.server.start()
        doctor, patient = s.seed()
        r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                         "start": "2026-11-30T10:00:00+01:00"})
        self.assertEqual(r.status, 201, r)
        clinic = s.get("/api/clinic").json
        s.stop()

        before = datetime.datetime.utcfromtimestamp(int(self.clock.now()))
        p = self.sync_once(self.central.uri)
        self.assertEqual(p.returncode, 0, p.stderr)
        boxes = list(self.central.db.boxes.find())
        self.assertEqual(len(boxes), 1, boxes)
        box = boxes[0]
        self.assertEqual(box["clinicId"], clinic["id"])
        self.assertEqual(box["clinicName"], "Praxis Test")
        self.assertEqual(box["version"], "0.1.0")
        self.assertIsInstance(box["lastContactAt"], datetime.datetime, "a BSON date, not a string")
        self.assertGreaterEqual(box["lastContactAt"], before - datetime.timedelta(seconds=1))
        # no mail server configured: the confirmation's email and SMS wait
        self.assertEqual(box["queuedMessages"], 2)
        self.assertEqual(box["deadMessages"], 0)

        # a second round updates the same document: the box keeps its id
        p = self.sync_once(self.central.uri)
        self.assertEqual(p.returncode, 0, p.stderr)
        again = list(self.central.db.boxes.find())
        self.assertEqual([b["_id"] for b in again], [box["_id"]])
        self.assertGreaterEqual(again[0]["lastContactAt"], box["lastContactAt"])

    def test_unreachable_server_fails_without_showing_the_password(self):
        uri = "mongodb://clinic7:Very-Secret-42@127.0.0.1:1/central?serverSelectionTimeoutMS=500"
        p = self.sync_once(uri)
        self.assertEqual(p.returncode, 1)
        out = p.stdout + p.stderr
        self.assertIn("does not answer", out)
        self.assertNotIn("Very-Secret-42", out)

    def test_bad_uri_and_no_uri(self):
        p = self.sync_once("mongodb://u:Very-Secret-42@")
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a valid MongoDB URI", p.stderr)
        self.assertNotIn("Very-Secret-42", p.stdout + p.stderr)
        self.assertIn("*****", p.stderr)
        p = subprocess.run([BIN, "sync", "--once", "--data", self.server.data],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("mongo_uri is not set", p.stderr)
        p = subprocess.run([BIN, "sync", "--data", self.server.data], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--once", p.stderr)


if __name__ == "__main__":
    unittest.main()
