"""kill -9 of the box at random moments while it pushes and pulls
(docs/sync.md): after each restart it carries on, and in the end both sides
hold every record exactly once, with nothing lost and nothing doubled.

The central side is written by this test with pymongo, in the documented
write shape (counter, document, change entry), which also checks that a
tool in another language than clinicbox's own can write for a box.
"""
import datetime
import json
import os
import random
import subprocess
import time
import unittest
import uuid

import pymongo
from bson import json_util

from central import Central
from harness import BIN, Clock, Server, wait_until

NOW = "2026-11-30 07:00:00"
BERLIN = datetime.timezone(datetime.timedelta(hours=1))
LOCAL = int(os.environ.get("CLINICBOX_CRASH_LOCAL", "600"))
CENTRAL = int(os.environ.get("CLINICBOX_CRASH_CENTRAL", "600"))
SEED = int(os.environ.get("CLINICBOX_CRASH_SEED", str(random.randrange(1 << 30))))


def slot(day0, i):
    """The i-th 15-minute slot from day0 on, 08:00-18:00 Berlin."""
    day, k = divmod(i, 40)
    t = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=BERLIN) + datetime.timedelta(
        days=day0 + day, minutes=15 * k)
    return t


def central_write_many(db, clock, clinic, docs, by="central:pytest"):
    """Writes new documents [(collection, doc)] the documented way: numbers
    from the clinic's counter, the documents, then their change entries."""
    n = len(docs)
    last = db.counters.find_one_and_update({"_id": clinic}, {"$inc": {"seq": n}}, upsert=True,
                                           return_document=pymongo.ReturnDocument.AFTER)["seq"]
    ms = int(clock.now()) * 1000   # the writer's clock: the box's
    now = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    entries = {}
    for i, (coll, doc) in enumerate(docs):
        seq = last - n + 1 + i
        rev = f"{ms:013d}-{i:06d}-{by}"
        doc.update({"clinicId": clinic, "_sync": {"rev": rev, "by": by, "seq": seq, "at": now}})
        entries.setdefault(coll, []).append(doc)
    for coll, ds in entries.items():
        db[coll].insert_many(ds)
    db.changes.insert_many([{"_id": f"{clinic}:{d['_sync']['seq']}", "clinicId": clinic,
                             "seq": d["_sync"]["seq"], "collection": coll, "docId": d["_id"],
                             "rev": d["_sync"]["rev"], "by": by, "at": now}
                            for coll, ds in entries.items() for d in ds])


def dump(data):
    p = subprocess.run([BIN, "sync", "--dump", "--data", data], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    opts = json_util.JSONOptions(tz_aware=False)   # naive UTC, as pymongo reads dates
    return [json_util.loads(line, json_options=opts) for line in p.stdout.splitlines()]


class CrashTest(unittest.TestCase):
    def test_kill9_during_push_and_pull(self):
        rnd = random.Random(SEED)
        replay = f"replay: CLINICBOX_CRASH_SEED={SEED} /usr/bin/python3 -m unittest test_sync_crash"
        central = Central().start()
        self.addCleanup(central.stop)
        env = {"CLINICBOX_MONGO_URI": central.uri, "CLINICBOX_SYNC_INTERVAL_SECONDS": "1"}
        # a box that worked offline: LOCAL bookings waiting to be pushed
        clock = Clock(NOW)   # the box's, across its restarts, and the central writer's
        s = Server(clock=clock)
        self.addCleanup(s.cleanup)
        s.start()
        doctor, patient = s.seed()
        clinic = s.get("/api/clinic").json["id"]
        local = []
        for i in range(LOCAL):
            r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                             "start": slot(0, i).isoformat()})
            self.assertEqual(r.status, 201, r)
            local.append(r.json["id"])
        s.stop()
        # first contact seeds central; then central writes CENTRAL patients and
        # a booking each (on days the box left free) while the box keeps dying
        s = Server(data=s.data, clock=clock, env=env)
        s.start()
        wait_until(lambda: central.db.appointments.count_documents({}) == LOCAL, timeout=120)
        patients = [{"_id": str(uuid.uuid4()), "name": f"Central {i}", "email": None,
                     "phone": None, "notifyEmail": False, "notifySms": False} for i in range(CENTRAL)]
        bookings = [{"_id": str(uuid.uuid4()), "doctorId": doctor["id"], "patientId": p["_id"],
                     "start": slot(40, i).astimezone(datetime.timezone.utc),
                     "end": (slot(40, i) + datetime.timedelta(minutes=15)).astimezone(datetime.timezone.utc),
                     "status": "booked", "reason": None}
                    for i, p in enumerate(patients)]
        central_write_many(central.db, clock, clinic, [("patients", p) for p in patients] +
                           [("appointments", b) for b in bookings])
        # and the box keeps booking: more to push while it crashes
        more = []
        kills = 0
        for round_no in range(6):
            for i in range(20):
                r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                                 "start": slot(20, round_no * 20 + i).isoformat()})
                self.assertEqual(r.status, 201, f"{r} {replay}")
                more.append(r.json["id"])
            time.sleep(rnd.uniform(0.0, 0.6))
            s.kill9()
            kills += 1
            s = Server(data=s.data, clock=clock, env=env)
            s.start()
        self.addCleanup(s.cleanup)

        def settled():
            st = s.get("/api/sync/status").json
            return (st["state"] == "ok" and st["pending_changes"] == 0 and
                    central.db.appointments.count_documents({}) == LOCAL + len(more) + CENTRAL)
        wait_until(settled, timeout=180)
        s.post("/api/sync/run", {})
        wait_until(settled, timeout=60)

        # nothing lost, nothing doubled, on either side
        box = dump(s.data)
        box_appts = [d for d in box if d["collection"] == "appointments"]
        ids = [d["_id"] for d in box_appts]
        self.assertEqual(len(ids), len(set(ids)), replay)
        self.assertEqual(set(ids), set(local) | set(more) | {b["_id"] for b in bookings}, replay)
        self.assertTrue(all(d["status"] == "booked" for d in box_appts), replay)
        box_patients = {d["_id"] for d in box if d["collection"] == "patients"}
        self.assertTrue({p["_id"] for p in patients} <= box_patients, replay)
        central_ids = [d["_id"] for d in central.db.appointments.find({}, {"_id": 1})]
        self.assertEqual(sorted(central_ids), sorted(ids), replay)
        # and every record says the same on both sides
        for d in box:
            c = central.db[d["collection"]].find_one({"_id": d["_id"]})
            self.assertIsNotNone(c, f"{d['collection']} {d['_id']} missing centrally; {replay}")
            for k, v in d.items():
                if k in ("collection", "_id"):
                    continue
                self.assertEqual(c.get(k), v, f"{d['collection']} {d['_id']} {k}; {replay}")
        log = s.read_log()
        self.assertNotIn("ERROR", log, replay)
        print(f"seed {SEED}: {kills} kills, {len(box)} records agree")


if __name__ == "__main__":
    unittest.main()
