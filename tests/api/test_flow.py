"""The whole seed flow over real HTTP: clinic, doctor, schedule, patient,
booking, listing, check-in, complete, cancel, no-show, free slots,
reschedule offers and rebooking by staff and by the patient's link.

The server runs under libfaketime from Monday 2026-11-30 07:00 UTC (08:00
in Berlin), so every date below is in its future."""
import re
import time
import unittest
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote

from harness import Server, ServerTest, wait_until

T0 = "2026-11-30 07:00:00"


def local(day, hhmm):
    """A Berlin wall-clock time in winter (+01:00)."""
    return f"2026-{day}T{hhmm}:00+01:00"


class FlowTest(ServerTest):
    faketime = T0

    def setUp(self):
        super().setUp()
        self.doctor, self.patient = self.server.seed()
        self.did, self.pid = self.doctor["id"], self.patient["id"]

    def book(self, start, duration=None, expect=201):
        body = {"doctor_id": self.did, "patient_id": self.pid, "start": start}
        if duration:
            body["duration_minutes"] = duration
        r = self.server.post("/api/appointments", body)
        self.assertEqual(r.status, expect, r)
        return r.json

    def test_book_get_list_check_in_complete(self):
        a = self.book(local("12-01", "09:00"), duration=30)
        self.assertEqual(a["status"], "booked")
        self.assertEqual(a["start"], "2026-12-01T09:00:00+01:00")
        self.assertEqual(a["end"], "2026-12-01T09:30:00+01:00")
        self.assertEqual(a["created_by"], "token:tests")   # the harness's API token
        # any offset is accepted; the answer is in clinic time
        b = self.book("2026-12-01T08:30:00Z")
        self.assertEqual(b["start"], "2026-12-01T09:30:00+01:00")
        self.assertEqual(self.server.get(f"/api/appointments/{a['id']}").json, a)

        lst = self.server.get(f"/api/appointments?doctor_id={self.did}&from=2026-12-01&to=2026-12-01").json
        self.assertEqual([x["id"] for x in lst["appointments"]], [a["id"], b["id"]])
        self.assertEqual(self.server.get("/api/appointments?from=2026-12-02").json["appointments"], [])
        self.assertEqual(len(self.server.get("/api/appointments?status=booked").json["appointments"]), 2)

        r = self.server.post(f"/api/appointments/{a['id']}/complete")
        self.assertProblem(r, 409)
        # The acting user is who logged in, never a header a client sets.
        desk = self.server.login(*self.server.add_user("frontdesk-1", "front_desk"))
        r = desk.post(f"/api/appointments/{a['id']}/check-in",
                      headers={"X-Clinicbox-User": "someone-else"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "checked_in")
        self.assertEqual(r.json["updated_by"], "user:frontdesk-1")
        self.assertIn("checked_in_at", r.json)
        self.assertProblem(self.server.post(f"/api/appointments/{a['id']}/no-show"), 409)
        self.assertProblem(self.server.post(f"/api/appointments/{a['id']}/cancel"), 409)
        r = self.server.post(f"/api/appointments/{a['id']}/complete")
        self.assertEqual(r.json["status"], "completed")

        with self.server.db() as db:
            types = [t for (t,) in db.execute(
                "SELECT type FROM events WHERE entity_id = ? ORDER BY seq", (a["id"],))]
        self.assertEqual(types, ["booked", "checked_in", "completed"])

    def test_cancel_frees_the_slot(self):
        a = self.book(local("12-01", "10:00"), duration=45)
        self.book(local("12-01", "10:30"), expect=409)
        r = self.server.post(f"/api/appointments/{a['id']}/cancel", {"reason": "patient called"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "cancelled")
        self.assertEqual(r.json["cancel_reason"], "patient called")
        self.book(local("12-01", "10:30"))
        with self.server.db() as db:
            (n,) = db.execute("SELECT count(*) FROM slot_claims WHERE appointment_id = ?",
                              (a["id"],)).fetchone()
        self.assertEqual(n, 0)

    def test_available_slots(self):
        self.server.put(f"/api/doctors/{self.did}/schedule", {
            "weekly": [{"weekday": 2, "start": "09:00", "end": "10:00"}],
            "exceptions": [{"date": "2026-12-08", "closed": True},
                           {"date": "2026-12-15", "start": "14:00", "end": "14:30"}]})
        self.book(local("12-01", "09:15"))
        r = self.server.get(f"/api/doctors/{self.did}/available-slots?from=2026-12-01&to=2026-12-15")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["timezone"], "Europe/Berlin")
        starts = [s["start"] for s in r.json["slots"]]
        self.assertEqual(starts, [
            local("12-01", "09:00"), local("12-01", "09:30"), local("12-01", "09:45"),
            # 12-08 closed; 12-15 replaced by 14:00-14:30
            local("12-15", "14:00"), local("12-15", "14:15")])
        r = self.server.get(f"/api/doctors/{self.did}/available-slots?from=2026-12-01&to=2026-12-01&duration=30")
        self.assertEqual([(s["start"], s["end"]) for s in r.json["slots"]],
                         [(local("12-01", "09:30"), local("12-01", "10:00"))])
        # a 20-minute visit takes two 15-minute slots
        a = self.book(local("12-01", "09:30"), duration=20)
        self.assertEqual(a["end"], local("12-01", "10:00"))
        self.book(local("12-08", "09:00"), expect=422)       # closed day
        self.book(local("12-01", "09:50"), expect=422)       # off the slot grid
        self.book(local("12-01", "09:45"), duration=30, expect=422)  # runs past the end

    def test_reschedule_offer_and_patient_rebook(self):
        a = self.book(local("12-01", "09:00"), duration=30)
        r = self.server.post(f"/api/appointments/{a['id']}/reschedule", {"options": 3})
        self.assertEqual(r.status, 201, r)
        offer = r.json
        self.assertNotIn("token", r.raw)
        self.assertEqual(len(offer["options"]), 3)
        # options are distinct, non-overlapping, 30 minutes long, and give
        # the patient at least an hour's notice: the clock is a little past
        # 08:00 here, and 08:00 itself is free, yet the first option is the
        # first grid slot an hour on (09:00, or 09:15 past 08:00:00)
        self.assertIn(offer["options"][0]["start"], (local("11-30", "09:00"), local("11-30", "09:15")))
        ends = None
        for o in offer["options"]:
            if ends:
                self.assertGreaterEqual(o["start"], ends)
            ends = o["end"]
        # valid 48 hours from the server's now: after T0, not after the answer
        made = parsedate_to_datetime(r.headers["Date"])
        expires = datetime.fromisoformat(offer["expires_at"])
        self.assertGreaterEqual(expires, datetime.fromisoformat(T0 + "+00:00") + timedelta(hours=48))
        self.assertLessEqual(expires, made + timedelta(hours=48))
        self.assertEqual(sorted(n["channel"] for n in offer["notifications"]), ["email", "sms"])
        self.assertTrue(all(n["status"] == "queued" for n in offer["notifications"]))
        # the booking's confirmation (email + SMS) and the offer's two
        # messages wait: no mail server is configured in this test
        self.assertEqual(self.server.get("/api/health").json["outbox"]["queued"], 4)

        with self.server.db() as db:
            rows = db.execute("SELECT channel, recipient, body, link_token FROM notifications "
                              "WHERE offer_id = ?", (offer["id"],)).fetchall()
        self.assertEqual(len(rows), 2)
        bodies = {ch: (rcpt, body) for ch, rcpt, body, _ in rows}
        self.assertEqual(bodies["email"][0], "anna@example.org")
        self.assertEqual(bodies["sms"][0], "+4915112345678")
        # the texts keep the link with the token redacted; the token waits
        # apart until the messages are sent (docs/outbox.md)
        token = rows[0][3]
        self.assertRegex(token, r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(rows[1][3], token)
        for _, body in bodies.values():
            self.assertIn("/rebook#[redacted]", body)
            self.assertNotIn(token, body)
        # the slot times appear in the clinic's local time
        first_local = offer["options"][0]["start"][11:16]
        self.assertIn(first_local, bodies["email"][1])

        # the patient's link rebooks without a login (tests/api/test_patient_link.py)
        path = "/api/offer-link/rebook"
        self.assertProblem(self.server.post(path, {"offer_token": "x" * 43, "option": 1}, auth=False),
                           404, "offer_token")
        self.assertProblem(self.server.post(path, {"offer_token": token, "option": 4}, auth=False),
                           422, "option")
        # staff cannot use a token on the appointment's own route
        self.assertProblem(self.server.post(f"/api/appointments/{a['id']}/rebook",
                                            {"offer_token": token, "option": 2}), 400, "offer_token")
        r = self.server.post(path, {"offer_token": token, "option": 2}, auth=False)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["chosen"], {"option": 2, **offer["options"][1]})
        self.assertTrue(r.json["used"])
        old = self.server.get(f"/api/appointments/{a['id']}").json
        self.assertEqual(old["status"], "rescheduled")
        new = self.server.get(f"/api/appointments/{old['rescheduled_to']}").json
        self.assertEqual(new["start"], offer["options"][1]["start"])
        self.assertEqual(new["status"], "booked")
        self.assertEqual(new["created_by"], "patient-link")
        self.assertEqual(new["rescheduled_from"], a["id"])
        # a used offer's token is no longer stored
        with self.server.db() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM notifications WHERE link_token = ?1 "
                                        "OR instr(body, ?1) > 0", (token,)).fetchone()[0], 0)
        self.assertProblem(self.server.post(path, {"offer_token": token, "option": 1}, auth=False), 409)
        # the old time is free again
        self.book(local("12-01", "09:00"))

    def test_staff_rebook_conflict_keeps_old(self):
        a = self.book(local("12-02", "11:00"))
        other = self.book(local("12-02", "12:00"))
        r = self.server.post(f"/api/appointments/{a['id']}/rebook", {"start": local("12-02", "12:00")})
        self.assertProblem(r, 409, "start")
        self.assertTrue(r.json["alternatives"])
        self.assertEqual(self.server.get(f"/api/appointments/{a['id']}").json["status"], "booked")
        # moving by one slot into its own time works
        r = self.server.post(f"/api/appointments/{a['id']}/rebook", {"start": local("12-02", "11:15")})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["previous"]["status"], "rescheduled")
        self.assertEqual(self.server.get(f"/api/appointments/{other['id']}").json["status"], "booked")

    def test_preferences_skip_channels(self):
        p = self.server.post("/api/patients", {"name": "Ohne Email", "phone": "+4930123456",
                                               "notify_sms": False}).json
        a = self.server.post("/api/appointments", {"doctor_id": self.did, "patient_id": p["id"],
                                                   "start": local("12-03", "09:00")}).json
        r = self.server.post(f"/api/appointments/{a['id']}/reschedule")
        self.assertEqual(r.status, 201, r)
        notes = {n["channel"]: n for n in r.json["notifications"]}
        self.assertEqual(notes["email"]["status"], "skipped")
        self.assertIn("no email", notes["email"]["reason"])
        self.assertEqual(notes["sms"]["status"], "skipped")
        self.assertIn("does not want", notes["sms"]["reason"])

    def test_patients_and_doctors_crud(self):
        r = self.server.get("/api/patients?q=" + quote("müll"))
        self.assertEqual([p["id"] for p in r.json["patients"]], [self.pid])
        self.assertEqual(self.server.get("/api/patients?q=nobody").json["patients"], [])
        r = self.server.put(f"/api/patients/{self.pid}", {"email": None, "notify_sms": False})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("email", r.json)
        self.assertFalse(r.json["notify_sms"])
        self.assertEqual(r.json["name"], "Anna Müller")
        r = self.server.put(f"/api/doctors/{self.did}", {"name": "Dr. Neu", "slot_minutes": 20})
        self.assertEqual((r.json["name"], r.json["slot_minutes"]), ("Dr. Neu", 20))
        self.assertEqual(self.server.get(f"/api/doctors/{self.did}/schedule").json["slot_minutes"], 20)
        self.assertEqual([d["name"] for d in self.server.get("/api/doctors").json["doctors"]], ["Dr. Neu"])

    def test_metrics(self):
        self.book(local("12-01", "09:00"))
        self.book(local("12-01", "09:00"), expect=409)
        # a request is counted after its answer went out (its duration
        # includes sending), so the count may trail the client by a moment
        want = 'clinicbox_http_requests_total{route="POST /api/appointments",status="409"} 1'
        text = wait_until(lambda: (lambda t: t if want in t else None)(self.server.get("/metrics").raw),
                          timeout=5) or self.server.get("/metrics").raw
        self.assertIn('clinicbox_http_requests_total{route="POST /api/appointments",status="201"} 1', text)
        self.assertIn('clinicbox_http_requests_total{route="POST /api/appointments",status="409"} 1', text)
        self.assertIn("clinicbox_bookings_total 1", text)
        self.assertIn('clinicbox_appointments{status="booked"} 1', text)
        self.assertRegex(text, r'clinicbox_http_request_duration_seconds_count\{route="POST /api/appointments"\} 2')


class ManualNoShowTest(ServerTest):
    """Time runs 60 times faster (both clocks), so minutes pass in seconds."""

    def setUp(self):
        self.server = Server(faketime=T0 + " x60", env={"FAKETIME_DONT_FAKE_MONOTONIC": "0"},
                             args=["--set", "noshow_interval_seconds=3600"])
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def test_no_show_after_grace_frees_slot_and_offers(self):
        d, p = self.server.seed(timezone="UTC", slot_minutes=5,
                                weekly=[{"weekday": 1, "start": "00:00", "end": "24:00"}])
        clinic = self.server.put("/api/clinic", {"grace_minutes": 2}).json
        # the server's (fast) clock: book the slot 5 to 10 minutes ahead of it
        now = datetime.fromisoformat(clinic["updated_at"])
        start = (now + timedelta(minutes=10 - now.minute % 5)).replace(second=0)
        a = self.server.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"],
                                                   "start": start.isoformat()}).json
        self.assertProblem(self.server.post(f"/api/appointments/{a['id']}/no-show"), 409)
        deadline = time.time() + 60
        while time.time() < deadline:
            r = self.server.post(f"/api/appointments/{a['id']}/no-show")
            if r.status != 409:
                break
            time.sleep(0.5)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "no_show")
        self.assertIn("no_show_at", r.json)
        with self.server.db() as db:
            (claims,) = db.execute("SELECT count(*) FROM slot_claims WHERE appointment_id = ?",
                                   (a["id"],)).fetchone()
        self.assertEqual(claims, 0)
        self.assertIn('clinicbox_no_shows_total{source="staff"} 1', self.server.get("/metrics").raw)


if __name__ == "__main__":
    unittest.main()
