"""kill -9 under concurrent booking load: whatever the server answered 201 to
must survive the crash (a 201 is sent only after a synchronous commit), and
the database must come back intact and consistent."""
import datetime
import itertools
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest
import zoneinfo

from harness import Server

TZ_NAME = "Europe/Berlin"
TZ = zoneinfo.ZoneInfo(TZ_NAME)
LIVE = ("booked", "checked_in")
DAY_START, DAY_END, SLOT = 8 * 60, 18 * 60, 15  # the seed's hours: every day 08:00-18:00
SLOTS_PER_DAY = (DAY_END - DAY_START) // SLOT
NTHREADS = 16
MAX_PER_ROUND = 100000  # safety bound on bookings per round (the kill ends a round)


def ts(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="clinicbox-crash-")
        self.servers = []
        self.addCleanup(shutil.rmtree, self.data, True)

    def tearDown(self):
        for s in self.servers:
            s.cleanup()

    def start_server(self):
        s = Server(data=self.data)
        self.servers.append(s)  # cleaned up even if the start fails
        return s.start()

    def slot(self, index):
        """The index-th distinct 15-minute slot, counting from 08:00 two days ahead."""
        first = datetime.datetime.now(TZ).date() + datetime.timedelta(days=2)
        day = first + datetime.timedelta(days=index // SLOTS_PER_DAY)
        m = DAY_START + (index % SLOTS_PER_DAY) * SLOT
        return datetime.datetime(day.year, day.month, day.day, m // 60, m % 60, tzinfo=TZ)

    def load_and_kill(self, server, doctor, patient, counter, kill_after):
        """Book distinct slots from NTHREADS threads until SIGKILL. Returns
        ({id: start_utc} of every 201, [unexpected answers], transport errors)."""
        ok, unexpected, lost = {}, [], [0]
        lock = threading.Lock()
        stop = threading.Event()
        barrier = threading.Barrier(NTHREADS + 1)
        limit = next(counter) + MAX_PER_ROUND

        def worker():
            conn = server.connection(timeout=20)
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                return
            while not stop.is_set():
                with lock:
                    i = next(counter)
                if i >= limit:
                    break
                start = self.slot(i)
                body = {"doctor_id": doctor, "patient_id": patient, "start": start.isoformat(),
                        "reason": f"crash {i}"}
                try:
                    r = server.post("/api/appointments", body, conn=conn)
                except Exception:
                    # The kill: the connection broke, the request may or may not have committed.
                    with lock:
                        lost[0] += 1
                    break
                with lock:
                    if r.status == 201:
                        ok[r.json["id"]] = int(start.timestamp())
                    else:
                        unexpected.append((body, r))
            conn.close()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(NTHREADS)]
        for t in threads:
            t.start()
        barrier.wait(timeout=30)
        time.sleep(kill_after)
        server.kill9()  # requests are in flight
        stop.set()
        for t in threads:
            t.join(timeout=30)
        self.assertFalse(any(t.is_alive() for t in threads), "load threads hung after the kill")
        return ok, unexpected, lost[0]

    def check_db(self, server, committed):
        db = server.db()
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
            self.assertEqual(db.execute("PRAGMA foreign_key_check").fetchall(), [])
            # Each live appointment holds (end - start) / 300 claims, each inside it; no others.
            bad = db.execute(
                "SELECT a.id, a.status, (a.end_utc - a.start_utc) / 300 AS want, "
                "(SELECT count(*) FROM slot_claims c WHERE c.appointment_id = a.id "
                " AND c.doctor_id = a.doctor_id AND c.unit_start >= a.start_utc "
                " AND c.unit_start < a.end_utc) AS got, "
                "(SELECT count(*) FROM slot_claims c WHERE c.appointment_id = a.id) AS total "
                "FROM appointments a "
                "WHERE got != total OR got != CASE WHEN a.status IN ('booked','checked_in') "
                "THEN want ELSE 0 END").fetchall()
            self.assertEqual(bad, [], "appointments whose slot claims do not match")
            orphans = db.execute("SELECT count(*) FROM slot_claims c LEFT JOIN appointments a "
                                 "ON a.id = c.appointment_id WHERE a.id IS NULL").fetchone()[0]
            self.assertEqual(orphans, 0)
            # No live appointment starts before the latest end of those before it.
            overlap = db.execute(
                "SELECT id, start_utc, prev_end FROM (SELECT id, start_utc, max(end_utc) OVER "
                "(PARTITION BY doctor_id ORDER BY start_utc, id ROWS BETWEEN UNBOUNDED PRECEDING "
                "AND 1 PRECEDING) AS prev_end FROM appointments WHERE status IN ('booked','checked_in')) "
                "WHERE prev_end > start_utc LIMIT 10").fetchall()
            self.assertEqual(overlap, [], "overlapping live appointments")
            # Every committed booking is there, with the event it caused (same transaction).
            rows = dict(db.execute("SELECT id, start_utc FROM appointments WHERE status = 'booked'"))
            for aid, start in committed.items():
                self.assertEqual(rows.get(aid), start, f"appointment {aid} lost or moved")
            no_event = db.execute(
                "SELECT a.id FROM appointments a WHERE NOT EXISTS (SELECT 1 FROM events e WHERE "
                "e.entity = 'appointment' AND e.entity_id = a.id AND e.type = 'booked')").fetchall()
            self.assertEqual(no_event, [], "appointments committed without their event")
        finally:
            db.close()

    def verify_over_api(self, server, appts, nthreads=4):
        items = sorted(appts.items())
        missing = []
        lock = threading.Lock()

        def worker(part):
            conn = server.connection()
            try:
                for aid, start in part:
                    r = server.get(f"/api/appointments/{aid}", conn=conn)
                    if (r.status != 200 or r.json["status"] != "booked" or ts(r.json["start"]) != start
                            or ts(r.json["end"]) - start != SLOT * 60):
                        with lock:
                            missing.append((aid, r))
            except Exception as e:
                with lock:
                    missing.append(("transport", repr(e)))
            finally:
                conn.close()

        threads = [threading.Thread(target=worker, args=(items[i::nthreads],), daemon=True)
                   for i in range(nthreads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertFalse(any(t.is_alive() for t in threads))
        return missing[:20]

    def test_kill9_during_booking_load(self):
        counter = itertools.count()
        server = self.start_server()
        doctor, patient = server.seed(timezone=TZ_NAME, slot_minutes=SLOT)
        committed = {}
        for round_, kill_after in enumerate((1.5, 0.7, 2.3)):
            ok, unexpected, lost = self.load_and_kill(server, doctor["id"], patient["id"],
                                                      counter, kill_after)
            if os.environ.get("CLINICBOX_TEST_VERBOSE"):
                print(f"\nround {round_}: kill after {kill_after}s, {len(ok)} answered 201, "
                      f"{lost} in flight at the kill", file=sys.stderr)
            self.assertEqual(unexpected, [], f"round {round_}: answers other than 201 for distinct free slots")
            self.assertGreater(len(ok), 0, f"round {round_}: nothing was booked before the kill")
            committed.update(ok)

            server = self.start_server()  # same data dir, after the crash
            # This round's 201s one by one over the API (earlier rounds' are
            # checked again in check_db).
            missing = self.verify_over_api(server, ok)
            self.assertEqual(missing, [], f"round {round_}: 201 appointments lost or changed after kill -9")
            self.check_db(server, committed)
            # The server still works after the crash: a booking in the next free slot.
            i = next(counter)
            r = server.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                                  "start": self.slot(i).isoformat()})
            self.assertEqual(r.status, 201, r)
            committed[r.json["id"]] = int(self.slot(i).timestamp())
            # And a booking on a slot committed before the crash is refused.
            aid0, start0 = next(iter(committed.items()))
            r = server.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                                  "start": datetime.datetime.fromtimestamp(start0, TZ).isoformat()})
            self.assertEqual(r.status, 409, r)

        server.stop()
        # Checked once more with the server stopped (all WAL content checkpointed or not).
        self.check_db(Server(data=self.data), committed)


if __name__ == "__main__":
    unittest.main()
