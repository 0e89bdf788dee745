"""Races on the booking path: many clients at once on the same or overlapping
slots, and a mixed load of bookings, cancels, rebooks and reads.

The rule under test (docs/api.md): no two live appointments (booked,
checked_in) of one doctor overlap; the loser of a race gets 409 slot-taken with
free alternatives, never a 5xx and never a second booking. The database's
slot_claims hold exactly one row per 5-minute unit of each live appointment.
"""
import datetime
import os
import random
import sys
import threading
import time
import unittest
import urllib.parse
import zoneinfo

from harness import Response, Server, ServerTest

TZ_NAME = "Europe/Berlin"
TZ = zoneinfo.ZoneInfo(TZ_NAME)
LIVE = ("booked", "checked_in")
SLOT_TAKEN = "urn:clinicbox:problem:slot-taken"


def future_day(days):
    """A clinic-local date `days` days from today."""
    return datetime.datetime.now(TZ).date() + datetime.timedelta(days=days)


def local(day, minutes):
    """Aware datetime at `minutes` after local midnight of `day`."""
    return datetime.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=TZ)


def ts(text):
    """RFC 3339 text -> unix seconds."""
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def q(dt):
    return urllib.parse.quote(dt.isoformat(), safe="")


def overlaps(a, b):
    return a[0] < b[1] and b[0] < a[1]


def race(server, bodies, path="/api/appointments"):
    """POST each body from its own thread and connection, all released at once
    by a barrier. Returns the Response (or exception) of each."""
    n = len(bodies)
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        conn = server.connection(timeout=60)
        try:
            conn.connect()
            barrier.wait(timeout=30)
            results[i] = server.post(path, bodies[i], conn=conn)
        except Exception as e:  # recorded and asserted on by the caller
            results[i] = e
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    return results


class DbChecks:
    """Assertions on the database itself (read-only peeks)."""

    def assertNoOverlapInDb(self, doctor_id):
        db = self.server.db()
        try:
            rows = db.execute(
                "SELECT a.id, a.start_utc, a.end_utc, b.id, b.start_utc, b.end_utc "
                "FROM appointments a JOIN appointments b "
                "ON a.doctor_id = b.doctor_id AND a.id < b.id "
                "WHERE a.doctor_id = ? AND a.status IN ('booked','checked_in') "
                "AND b.status IN ('booked','checked_in') "
                "AND a.start_utc < b.end_utc AND b.start_utc < a.end_utc",
                (doctor_id,)).fetchall()
        finally:
            db.close()
        self.assertEqual(rows, [], "overlapping live appointments in the database")

    def assertClaimsConsistent(self):
        """Each live appointment holds exactly one claim per 5-minute unit it
        covers; nothing else holds a claim."""
        db = self.server.db()
        try:
            appts = db.execute("SELECT id, doctor_id, start_utc, end_utc, status FROM appointments").fetchall()
            claims = db.execute("SELECT doctor_id, unit_start, appointment_id FROM slot_claims").fetchall()
        finally:
            db.close()
        expected = set()
        for aid, doc, start, end, status in appts:
            if status in LIVE:
                expected |= {(doc, u, aid) for u in range(start, end, 300)}
        got = set(claims)
        self.assertEqual(len(got), len(claims))
        self.assertEqual(sorted(got - expected), [], "slot_claims rows that no live appointment explains")
        self.assertEqual(sorted(expected - got), [], "live appointment units without a slot claim")

    def live_from_api(self, doctor_id, frm, to):
        r = self.server.get(f"/api/appointments?doctor_id={doctor_id}&from={q(frm)}&to={q(to)}&limit=5000")
        self.assertEqual(r.status, 200, r)
        return [a for a in r.json["appointments"] if a["status"] in LIVE]


class RaceTest(DbChecks, ServerTest):
    # 48 clients at once from 127.0.0.1: more than the default per-address
    # connection cap (docs/security.md "Connection limits") lets in.
    server_args = ("--set", "http_max_connections_per_address=64")

    def setUp(self):
        # As ServerTest.setUp, but the cleanup is registered before the start,
        # so a server that fails to become ready is not left running.
        self.server = Server(faketime=self.faketime, args=self.server_args)
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.doctor, self.patient = self.server.seed(timezone=TZ_NAME, slot_minutes=15)
        self.did, self.pid = self.doctor["id"], self.patient["id"]

    def book_body(self, start, minutes=None):
        b = {"doctor_id": self.did, "patient_id": self.pid, "start": start.isoformat()}
        if minutes:
            b["duration_minutes"] = minutes
        return b

    def assertSlotTaken(self, r):
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json", r)
        self.assertEqual(r.json.get("type"), SLOT_TAKEN, r)
        self.assertEqual(r.json.get("status"), 409, r)
        alts = r.json.get("alternatives")
        self.assertIsInstance(alts, list, r)
        self.assertTrue(alts, f"409 without alternatives: {r}")
        return alts

    # ------------------------------------------------------------------
    def test_many_clients_same_slot(self):
        n = 48
        day = future_day(3)
        start = local(day, 10 * 60)
        end = start + datetime.timedelta(minutes=30)
        slot = (int(start.timestamp()), int(end.timestamp()))
        before = time.time()

        results = race(self.server, [self.book_body(start, 30)] * n)

        errors = [r for r in results if not isinstance(r, Response)]
        self.assertEqual(errors, [], "requests failed at the transport level")
        statuses = sorted(r.status for r in results)
        self.assertFalse([s for s in statuses if s >= 500], f"5xx answers: {statuses}")
        winners = [r for r in results if r.status == 201]
        self.assertEqual(len(winners), 1, f"expected exactly one 201, got statuses {statuses}")
        win = winners[0].json
        self.assertEqual((ts(win["start"]), ts(win["end"])), slot, win)
        self.assertEqual(win["status"], "booked")

        # Every loser: 409 slot-taken with free alternatives of the same length.
        alternatives = set()
        for r in results:
            if r.status == 201:
                continue
            for a in self.assertSlotTaken(r):
                iv = (ts(a["start"]), ts(a["end"]))
                self.assertEqual(iv[1] - iv[0], 30 * 60, f"alternative of the wrong length: {a}")
                self.assertFalse(overlaps(iv, slot), f"alternative {a} overlaps the booked slot")
                self.assertGreaterEqual(iv[0], before - 1, f"alternative in the past: {a}")
                alternatives.add(iv)

        # The alternatives are really free: book them (those not overlapping
        # one another) and every one must succeed.
        booked_alts = []
        for iv in sorted(alternatives):
            if any(overlaps(iv, b) for b in booked_alts):
                continue
            s = datetime.datetime.fromtimestamp(iv[0], TZ)
            r = self.server.post("/api/appointments", self.book_body(s, 30))
            self.assertEqual(r.status, 201, f"alternative {s.isoformat()} was offered as free but: {r}")
            self.assertEqual((ts(r.json["start"]), ts(r.json["end"])), iv)
            booked_alts.append(iv)
        self.assertTrue(booked_alts)

        # Exactly one live appointment in that time, per the API ...
        live = self.live_from_api(self.did, start, end)
        self.assertEqual([a["id"] for a in live], [win["id"]], live)
        # ... and per the database's claims: one row per 5 minutes, all the winner's.
        db = self.server.db()
        try:
            rows = db.execute("SELECT unit_start, appointment_id FROM slot_claims "
                              "WHERE doctor_id = ? AND unit_start >= ? AND unit_start < ? "
                              "ORDER BY unit_start", (self.did, slot[0], slot[1])).fetchall()
            napp = db.execute("SELECT count(*) FROM appointments WHERE doctor_id = ? AND "
                              "start_utc < ? AND end_utc > ?", (self.did, slot[1], slot[0])).fetchone()[0]
        finally:
            db.close()
        self.assertEqual(rows, [(u, win["id"]) for u in range(slot[0], slot[1], 300)])
        self.assertEqual(napp, 1, "a losing request left an appointment row behind")
        self.assertClaimsConsistent()
        self.assertNoOverlapInDb(self.did)

    # ------------------------------------------------------------------
    def test_overlapping_lengths_race(self):
        # (minutes after 10:00, duration): all overlap some of the others.
        candidates = [(0, 60), (30, 15), (15, 30), (45, 45), (0, 15), (60, 30), (75, 15),
                      (30, 60), (-15, 30), (90, 30), (15, 15), (45, 15), (60, 60), (105, 15),
                      (-30, 45), (0, 120)]
        for round_, days in enumerate((4, 5, 6)):
            day = future_day(days)
            bodies, wanted = [], []
            for i in range(48):
                off, dur = candidates[(i + round_ * 5) % len(candidates)]
                s = local(day, 10 * 60 + off)
                bodies.append(self.book_body(s, dur))
                wanted.append((int(s.timestamp()), int(s.timestamp()) + dur * 60))

            results = race(self.server, bodies)

            self.assertEqual([r for r in results if not isinstance(r, Response)], [])
            statuses = [r.status for r in results]
            self.assertFalse([s for s in statuses if s >= 500], f"5xx answers: {statuses}")
            winners = []
            for r, iv in zip(results, wanted):
                if r.status == 201:
                    got = (ts(r.json["start"]), ts(r.json["end"]))
                    self.assertEqual(got, iv, r)
                    winners.append((got, r.json["id"]))
                else:
                    self.assertSlotTaken(r)
            self.assertTrue(winners, f"round {round_}: no booking succeeded: {statuses}")
            for i, (a, aid) in enumerate(winners):
                for b, bid in winners[i + 1:]:
                    self.assertFalse(overlaps(a, b), f"round {round_}: double booking {aid} {a} and {bid} {b}")
            # A loser must have lost to something: its time overlaps a winner.
            for r, iv in zip(results, wanted):
                if r.status == 409:
                    self.assertTrue(any(overlaps(iv, w) for w, _ in winners),
                                    f"round {round_}: {iv} refused although no winner overlaps it: {r}")
            lo = local(day, 0)
            hi = lo + datetime.timedelta(days=1)
            live = self.live_from_api(self.did, lo, hi)
            self.assertEqual(sorted(a["id"] for a in live), sorted(aid for _, aid in winners))
        self.assertClaimsConsistent()
        self.assertNoOverlapInDb(self.did)

    # ------------------------------------------------------------------
    def test_same_appointment_rebooked_concurrently(self):
        """Many clients move one appointment to different free times at once:
        one move wins, the others are refused; never two new appointments."""
        day = future_day(7)
        r = self.server.post("/api/appointments", self.book_body(local(day, 9 * 60), 30))
        self.assertEqual(r.status, 201, r)
        aid = r.json["id"]
        n = 24
        targets = [local(day, 11 * 60 + 30 * i) for i in range(n)]  # 11:00, 11:30, ...; keep those in hours
        targets = [t for t in targets if t.hour < 17 or (t.hour == 17 and t.minute <= 30)]
        bodies = [{"start": targets[i % len(targets)].isoformat()} for i in range(n)]
        results = race(self.server, bodies, path=f"/api/appointments/{aid}/rebook")
        self.assertEqual([x for x in results if not isinstance(x, Response)], [])
        statuses = sorted(x.status for x in results)
        self.assertFalse([s for s in statuses if s >= 500], statuses)
        wins = [x for x in results if x.status == 201]
        self.assertEqual(len(wins), 1, f"expected exactly one successful rebook: {statuses}")
        for x in results:
            if x.status != 201:
                self.assertEqual(x.status, 409, x)
                self.assertEqual(x.headers.get("Content-Type"), "application/problem+json", x)
        new = wins[0].json["appointment"]
        self.assertEqual(wins[0].json["previous"]["status"], "rescheduled")
        old = self.server.get(f"/api/appointments/{aid}")
        self.assertEqual((old.json["status"], old.json.get("rescheduled_to")), ("rescheduled", new["id"]), old)
        live = self.live_from_api(self.did, local(day, 0), local(day, 0) + datetime.timedelta(days=1))
        self.assertEqual([a["id"] for a in live], [new["id"]], live)

        # And concurrent cancels of the new one: one 200, the rest 409.
        results = race(self.server, [{"reason": "race"}] * n, path=f"/api/appointments/{new['id']}/cancel")
        self.assertEqual([x for x in results if not isinstance(x, Response)], [])
        statuses = sorted(x.status for x in results)
        self.assertEqual(statuses, [200] + [409] * (n - 1), statuses)
        self.assertEqual(self.live_from_api(self.did, local(day, 0), local(day, 0) + datetime.timedelta(days=1)), [])
        self.assertClaimsConsistent()

    # ------------------------------------------------------------------
    def test_mixed_load(self):
        nthreads, seconds, max_ops = 6, 4.0, 400
        days = [future_day(8), future_day(9)]
        # 10:00 .. 16:00 on a 15-minute grid, durations 15/30/45 minutes.
        grid = [local(d, m) for d in days for m in range(10 * 60, 16 * 60, 15)]
        durations = (15, 30, 45)
        problems = []
        counts = {}
        lock = threading.Lock()
        barrier = threading.Barrier(nthreads)
        deadline = [0.0]

        def note(kind, what):
            with lock:
                if len(problems) < 50:
                    problems.append(f"{kind}: {what}")

        def count(k):
            with lock:
                counts[k] = counts.get(k, 0) + 1

        def worker(seed):
            rnd = random.Random(seed)
            conn = self.server.connection(timeout=30)
            booked, cancelled, checked_in = [], [], []
            srv = self.server

            def call(method, path, body=None):
                nonlocal conn
                try:
                    r = srv.request(method, path, body=body, conn=conn)
                except Exception as e:
                    note("transport", f"{method} {path}: {e!r}")
                    conn.close()
                    conn = srv.connection(timeout=30)
                    return None
                if r.status >= 500:
                    note("5xx", f"{method} {path} {body} -> {r}")
                return r

            try:
                conn.connect()
                barrier.wait(timeout=30)
                ops = 0
                while time.time() < deadline[0] and ops < max_ops:
                    ops += 1
                    x = rnd.random()
                    if x < 0.42 or not (booked or cancelled):
                        s = rnd.choice(grid)
                        body = self.book_body(s, rnd.choice(durations))
                        r = call("POST", "/api/appointments", body)
                        if r is None:
                            continue
                        count(f"book {r.status}")
                        if r.status == 201:
                            booked.append(r.json["id"])
                        elif r.status == 409:
                            if r.json.get("type") != SLOT_TAKEN or not r.json.get("alternatives"):
                                note("409", f"book {body} -> {r}")
                        else:
                            note("unexpected", f"book {body} -> {r}")
                    elif x < 0.55 and booked:
                        aid = booked.pop(rnd.randrange(len(booked)))
                        r = call("POST", f"/api/appointments/{aid}/cancel", {"reason": "load"})
                        if r is None:
                            continue
                        count(f"cancel {r.status}")
                        if r.status == 200 and r.json["status"] == "cancelled":
                            cancelled.append(aid)
                        else:
                            note("unexpected", f"cancel {aid} -> {r}")
                    elif x < 0.60 and booked:
                        # checked_in is live too: it keeps holding its time.
                        aid = booked.pop(rnd.randrange(len(booked)))
                        r = call("POST", f"/api/appointments/{aid}/check-in")
                        if r is None:
                            continue
                        count(f"check-in {r.status}")
                        if r.status == 200 and r.json["status"] == "checked_in":
                            checked_in.append(aid)
                        else:
                            note("unexpected", f"check-in {aid} -> {r}")
                    elif x < 0.75:
                        pool = booked if (booked and (rnd.random() < 0.6 or not cancelled)) else cancelled
                        aid = pool.pop(rnd.randrange(len(pool)))
                        s = rnd.choice(grid)
                        r = call("POST", f"/api/appointments/{aid}/rebook", {"start": s.isoformat()})
                        if r is None:
                            continue
                        count(f"rebook {r.status}")
                        if r.status == 201:
                            new, prev = r.json["appointment"], r.json["previous"]
                            if (new["status"] != "booked" or prev["status"] != "rescheduled"
                                    or prev["id"] != aid or ts(new["start"]) != int(s.timestamp())):
                                note("rebook", f"{aid} -> {r}")
                            booked.append(new["id"])
                        elif r.status == 409:
                            if r.json.get("type") != SLOT_TAKEN or not r.json.get("alternatives"):
                                note("409", f"rebook {aid} {s} -> {r}")
                            # The failed rebook must leave the old appointment as it was.
                            g = call("GET", f"/api/appointments/{aid}")
                            want = "booked" if pool is booked else "cancelled"
                            if g is None or g.status != 200 or g.json["status"] != want:
                                note("rebook rollback", f"{aid} should still be {want}: {g}")
                            pool.append(aid)
                        else:
                            note("unexpected", f"rebook {aid} -> {r}")
                            pool.append(aid)
                    else:
                        y = rnd.random()
                        d = rnd.choice(days)
                        lo, hi = local(d, 0), local(d, 0) + datetime.timedelta(days=1)
                        if y < 0.4:
                            r = call("GET", f"/api/appointments?doctor_id={self.did}&from={q(lo)}&to={q(hi)}")
                            ok = r is not None and r.status == 200
                        elif y < 0.7:
                            r = call("GET", f"/api/doctors/{self.did}/available-slots?from={q(lo)}&to={q(hi)}&duration=30")
                            ok = r is not None and r.status == 200 and isinstance(r.json.get("slots"), list)
                        else:
                            if not booked:
                                continue
                            aid = rnd.choice(booked)
                            r = call("GET", f"/api/appointments/{aid}")
                            ok = r is not None and r.status == 200 and r.json["status"] == "booked"
                        count("read")
                        if r is not None and not ok:
                            note("read", f"{r}")
            except Exception as e:
                note("thread", repr(e))
            finally:
                conn.close()
                with lock:
                    mine.append((booked + checked_in, cancelled))

        mine = []
        deadline[0] = time.time() + seconds + 1.0  # + start-up of the threads
        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(nthreads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertFalse(any(t.is_alive() for t in threads), "load threads did not finish")
        if os.environ.get("CLINICBOX_TEST_VERBOSE"):
            print(f"\nmixed load: {counts}", file=sys.stderr)
        self.assertEqual(problems, [], f"counts {counts}")
        self.assertGreater(counts.get("book 201", 0), 0, counts)
        self.assertGreater(counts.get("book 409", 0) + counts.get("rebook 409", 0), 0,
                           f"the load never contended: {counts}")

        lo = local(days[0], 0)
        hi = local(days[-1], 0) + datetime.timedelta(days=1)
        live = self.live_from_api(self.did, lo, hi)
        ivs = sorted((ts(a["start"]), ts(a["end"]), a["id"]) for a in live)
        for a, b in zip(ivs, ivs[1:]):
            self.assertLessEqual(a[1], b[0], f"live appointments overlap: {a} {b}")
        # What each client believes it holds agrees with the server.
        live_ids = {a["id"] for a in live}
        all_booked = {aid for booked, _ in mine for aid in booked}
        all_cancelled = {aid for _, cancelled in mine for aid in cancelled}
        self.assertEqual(live_ids, all_booked)
        self.assertFalse(live_ids & all_cancelled)
        self.assertNoOverlapInDb(self.did)
        self.assertClaimsConsistent()


if __name__ == "__main__":
    unittest.main()
