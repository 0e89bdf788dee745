"""The no-show worker against the real binary under libfaketime: it marks
appointments still booked at start + grace with no staff action (with an
offer and queued messages), catches up at start for the time the box was
off, and holds detection when the wall clock jumps or is implausible at
start, until the clock is plausible again or staff confirm it."""
import os
import tempfile
import time
import unittest

from harness import Server

T0 = "2026-12-01 08:00:00"  # a Tuesday
ALL_DAY = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]


def wait_for(fn, timeout=20, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


class NoShowTest(unittest.TestCase):
    def make(self, faketime, data=None, env=None, args=("--set", "noshow_interval_seconds=1")):
        s = Server(data=data, faketime=faketime, env=env, args=list(args))
        self.addCleanup(s.cleanup)
        return s

    def book(self, s, d, p, start, expect=201):
        r = s.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"], "start": start})
        self.assertEqual(r.status, expect, r)
        return r.json

    def status(self, s, a):
        return s.get(f"/api/appointments/{a['id']}").json["status"]

    def test_worker_marks_no_show_and_offers_without_staff(self):
        # Both clocks run 60x faster: a minute passes every second.
        s = self.make(T0 + " x60", env={"FAKETIME_DONT_FAKE_MONOTONIC": "0"},
                      args=["--set", "noshow_interval_seconds=30"]).start()
        d, p = s.seed(timezone="Europe/Berlin", slot_minutes=5, weekly=ALL_DAY)
        s.put("/api/clinic", {"grace_minutes": 3})
        # the next slot on the grid, a few minutes ahead, plus one far later
        a = self.book(s, d, p, "2026-12-01T08:10:00Z")
        later = self.book(s, d, p, "2026-12-01T12:00:00Z")
        self.assertTrue(wait_for(lambda: self.status(s, a) == "no_show", timeout=40), s.read_log())
        self.assertEqual(self.status(s, later), "booked")
        got = s.get(f"/api/appointments/{a['id']}").json
        self.assertEqual(got["updated_by"], "system:no-show")
        with s.db() as db:
            notes = db.execute("SELECT channel, status, purpose, body FROM notifications "
                               "WHERE appointment_id = ? AND purpose != 'confirmation' ORDER BY channel",
                               (a["id"],)).fetchall()
            (claims,) = db.execute("SELECT count(*) FROM slot_claims WHERE appointment_id = ?",
                                   (a["id"],)).fetchone()
            (offers,) = db.execute("SELECT count(*) FROM offers WHERE appointment_id = ?",
                                   (a["id"],)).fetchone()
        self.assertEqual(claims, 0)
        self.assertEqual(offers, 1)
        self.assertEqual([(c, st, pu) for c, st, pu, _ in notes],
                         [("email", "queued", "no_show_offer"), ("sms", "queued", "no_show_offer")])
        self.assertIn("We missed you", notes[0][3])
        self.assertIn("1)", notes[0][3])
        self.assertIn("/rebook#[redacted]", notes[1][3])   # the token only in link_token
        health = s.get("/api/health").json
        self.assertFalse(health["noshow"]["held"])
        self.assertGreaterEqual(health["noshow"]["total"], 1)
        self.assertIn('clinicbox_no_shows_total{source="detector"} 1', s.get("/metrics").raw)
        s.stop()

    def test_catch_up_after_downtime_is_idempotent(self):
        s = self.make(T0).start()
        d, p = s.seed(timezone="Europe/Berlin", weekly=ALL_DAY)
        a = self.book(s, d, p, "2026-12-01T09:00:00Z")
        b = self.book(s, d, p, "2026-12-01T10:00:00Z")
        c = self.book(s, d, p, "2026-12-01T13:00:00Z")
        checked = self.book(s, d, p, "2026-12-01T09:30:00Z")
        self.assertEqual(s.post(f"/api/appointments/{checked['id']}/check-in").status, 200)
        s.stop()
        # The box was off for three hours: at start it marks what it missed.
        s2 = self.make("2026-12-01 11:00:00", data=s.data).start()
        self.assertTrue(wait_for(lambda: self.status(s2, b) == "no_show"), s2.read_log())
        self.assertEqual(self.status(s2, a), "no_show")
        self.assertEqual(self.status(s2, c), "booked")
        self.assertEqual(self.status(s2, checked), "checked_in")
        s2.stop()
        # Once more, a little later: nothing is marked twice.
        s3 = self.make("2026-12-01 11:30:00", data=s.data).start()
        time.sleep(2)
        with s3.db() as db:
            (events,) = db.execute("SELECT count(*) FROM events WHERE type = 'no_show'").fetchone()
            (offers,) = db.execute("SELECT count(*) FROM offers").fetchone()
        self.assertEqual(events, 2)
        self.assertEqual(offers, 2)
        s3.stop()

    def test_clock_far_off_at_start_holds_until_confirmed(self):
        s = self.make(T0).start()
        d, p = s.seed(timezone="Europe/Berlin", weekly=ALL_DAY)
        a = self.book(s, d, p, "2026-12-01T09:00:00Z")
        time.sleep(1.5)  # let the worker record the trusted time
        s.stop()
        # Flat RTC battery: the box wakes a year in the past.
        past = self.make("2025-12-01 08:00:00", data=s.data).start()
        h = wait_for(lambda: past.get("/api/health").json["noshow"].get("held") and
                     past.get("/api/health").json)
        self.assertIn("behind the last trusted time", h["noshow"]["reason"])
        past.stop()
        self.assertIn("holding no-show detection", past.read_log())
        # A clock thirty days ahead (beyond the 72-hour catch-up window): held,
        # the appointment stays booked ...
        ahead = self.make("2026-12-31 08:00:00", data=s.data).start()
        h = wait_for(lambda: ahead.get("/api/health").json["noshow"].get("held") and
                     ahead.get("/api/health").json)
        self.assertIn("catch-up window", h["noshow"]["reason"])
        time.sleep(1.5)
        self.assertEqual(self.status(ahead, a), "booked")
        self.assertIn("clinicbox_noshow_held 1", ahead.get("/metrics").raw)
        # ... until staff confirm the clock.
        r = ahead.post("/api/clock/confirm")
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["held"])
        self.assertTrue(wait_for(lambda: self.status(ahead, a) == "no_show"))
        ahead.stop()

    def test_clock_jump_while_running_holds_then_resumes(self):
        stamp = os.path.join(tempfile.mkdtemp(prefix="clinicbox-ft-"), "faketime")
        with open(stamp, "w") as f:
            f.write("@" + T0)
        env = {"FAKETIME_TIMESTAMP_FILE": stamp, "FAKETIME_NO_CACHE": "1"}
        s = self.make(None, env=env)
        s.env["LD_PRELOAD"] = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
        s.start()
        d, p = s.seed(timezone="Europe/Berlin", weekly=ALL_DAY)
        a = self.book(s, d, p, "2026-12-01T09:00:00Z")
        time.sleep(1.5)
        # The wall clock jumps a day ahead; the monotonic clock does not.
        with open(stamp, "w") as f:
            f.write("@2026-12-02 08:00:00")
        h = wait_for(lambda: s.get("/api/health").json["noshow"].get("held") and s.get("/api/health").json)
        self.assertIn("jumped ahead", h["noshow"]["reason"])
        time.sleep(2)
        self.assertEqual(self.status(s, a), "booked")
        # Back to where it should be: detection resumes, nothing was marked.
        with open(stamp, "w") as f:
            f.write("@" + T0)
        self.assertTrue(wait_for(lambda: not s.get("/api/health").json["noshow"]["held"]))
        self.assertEqual(self.status(s, a), "booked")
        s.stop()
        log = s.read_log()
        self.assertIn("holding no-show detection", log)
        self.assertIn("plausible again", log)


if __name__ == "__main__":
    unittest.main()
