"""The API pieces the web UI needs (issue 11; docs/ui.md, "API additions for
the UI"): conditional GET with ETags, background polls that do not keep a
session alive, the offers list, reminded_at on appointments, the clinic's
language, and the patient link's calendar file.

Servers with a fixed clock run under libfaketime from Monday 2026-11-30
07:00 UTC (08:00 in Berlin), so every date below is in their future."""
import calendar
import json
import os
import shutil
import sqlite3
import tempfile
import time
import unittest

from harness import FAKETIME_LIB, Server, ServerTest, notifications, outbox_env, wait_until
from peers import MailSink

T0 = "2026-11-30 07:00:00"
DAY = "2026-12-01"


def local(day, hhmm):
    """A Berlin wall-clock time in winter (+01:00)."""
    return f"2026-{day}T{hhmm}:00+01:00"


class MovableClockTest(unittest.TestCase):
    """A server whose wall clock stands at T0 + the seconds last given to
    at(): libfaketime's timestamp file, rewritten by the test while the
    server runs (as tests/api/test_auth.py's ExpiryTest does)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="clinicbox-ft-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.stamp = os.path.join(self.dir, "faketime")
        self.t0 = calendar.timegm(time.strptime(T0, "%Y-%m-%d %H:%M:%S"))
        self.at(0)
        self.server = Server(env={"FAKETIME_TIMESTAMP_FILE": self.stamp, "FAKETIME_NO_CACHE": "1",
                                  "LD_PRELOAD": FAKETIME_LIB})
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def tearDown(self):
        self.server.stop()

    def at(self, seconds):
        with open(self.stamp, "w") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.t0 + seconds)))


class ConditionalGetTest(MovableClockTest):
    def setUp(self):
        super().setUp()
        self.doctor, self.patient = self.server.seed()

    def book(self, start):
        r = self.server.post("/api/appointments", {"doctor_id": self.doctor["id"],
                                                   "patient_id": self.patient["id"],
                                                   "start": start})
        self.assertEqual(r.status, 201, r)
        return r.json

    def day_list(self, etag=None):
        headers = {"If-None-Match": etag} if etag else None
        return self.server.get(f"/api/appointments?from={DAY}&to={DAY}", headers=headers)

    def assertNotModified(self, r, etag):
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.raw, "")
        self.assertEqual(r.headers["ETag"], etag)
        self.assertEqual(r.headers["Cache-Control"], "no-store")
        self.assertIn("default-src", r.headers["Content-Security-Policy"])

    def assertChanged(self, tags):
        """The day's list is a 200 with a new tag for the last one known,
        then a 304 for its own; the new tag is appended."""
        r = self.day_list(tags[-1])
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(r.headers["ETag"], tags)
        tags.append(r.headers["ETag"])
        self.assertNotModified(self.day_list(tags[-1]), tags[-1])
        return r.json["appointments"]

    def test_day_list_polled_with_its_etag(self):
        a = self.book(local("12-01", "09:00"))
        first = self.day_list()
        self.assertEqual(first.status, 200, first)
        tag = first.headers["ETag"]
        self.assertRegex(tag, r'^"[A-Za-z0-9_-]{22}"$')
        self.assertEqual(first.headers["Cache-Control"], "no-store")
        # stable while nothing changes
        again = self.day_list()
        self.assertEqual(again.headers["ETag"], tag)
        self.assertEqual(again.raw, first.raw)
        # If-None-Match: the tag, weak, in a list, or * -> 304
        for inm in (tag, "W/" + tag, f'"nope", {tag}', "*"):
            self.assertNotModified(self.day_list(inm), tag)
        # another tag, or a malformed value -> the whole answer
        for inm in ('"nope"', tag[1:-1], f"{tag} {tag}"):
            r = self.day_list(inm)
            self.assertEqual(r.status, 200, (inm, r))
            self.assertEqual(r.headers["ETag"], tag)

        # a booking, a check-in and a no-show each change the day's tag
        tags = [tag]
        b = self.book(local("12-01", "09:15"))
        self.assertChanged(tags)
        self.assertEqual(self.server.post(f"/api/appointments/{a['id']}/check-in").status, 200)
        self.assertChanged(tags)
        other = self.server.get("/api/appointments?from=2026-12-02&to=2026-12-02")
        self.at(86400 + 2 * 3600 + 45 * 60)    # 12-01 09:45 in Berlin: b's grace is over
        r = self.server.post(f"/api/appointments/{b['id']}/no-show")
        # (the no-show worker may have been first)
        self.assertIn(r.status, (200, 409), r)
        listed = self.assertChanged(tags)
        self.assertEqual([x["status"] for x in listed], ["checked_in", "no_show"])
        # another day's list did not change
        self.assertNotModified(self.server.get("/api/appointments?from=2026-12-02&to=2026-12-02",
                                               headers={"If-None-Match": other.headers["ETag"]}),
                               other.headers["ETag"])

    def test_record_etags_answer_304_too(self):
        a = self.book(local("12-01", "09:00"))
        path = f"/api/appointments/{a['id']}"
        r = self.server.get(path)
        tag = r.headers["ETag"]
        self.assertNotModified(self.server.get(path, headers={"If-None-Match": tag}), tag)
        self.assertEqual(self.server.post(f"{path}/check-in").status, 200)
        r = self.server.get(path, headers={"If-None-Match": tag})
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(r.headers["ETag"], tag)
        # the clinic, a patient, a doctor and a schedule: their revision
        for p in ("/api/clinic", f"/api/patients/{self.patient['id']}",
                  f"/api/doctors/{self.doctor['id']}", f"/api/doctors/{self.doctor['id']}/schedule"):
            tag = self.server.get(p).headers["ETag"]
            self.assertNotModified(self.server.get(p, headers={"If-None-Match": tag}), tag)

    def test_other_gets_and_what_never_gets_a_304(self):
        for p in ("/api/doctors", "/api/patients", "/api/notifications", "/api/session",
                  "/api/users", f"/api/doctors/{self.doctor['id']}/available-slots?from={DAY}&to={DAY}"):
            r = self.server.get(p)
            self.assertEqual(r.status, 200, (p, r))
            tag = r.headers["ETag"]
            self.assertNotModified(self.server.get(p, headers={"If-None-Match": tag}), tag)
        # anonymous health too
        r = self.server.get("/api/health", auth=False)
        self.assertNotModified(self.server.get("/api/health", auth=False,
                                               headers={"If-None-Match": r.headers["ETag"]}),
                               r.headers["ETag"])
        # problems and changes carry no tag of their own and never turn into a 304
        r = self.server.get("/api/appointments/" + "0" * 8 + "-0000-7000-8000-" + "0" * 12,
                            headers={"If-None-Match": "*"})
        self.assertEqual(r.status, 404, r)
        self.assertIsNone(r.headers.get("ETag"))
        r = self.server.post("/api/patients", {"name": "Ben"}, headers={"If-None-Match": "*"})
        self.assertEqual(r.status, 201, r)
        # /metrics is text, not JSON: no tag
        r = self.server.get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.headers.get("ETag"))


class BackgroundPollTest(MovableClockTest):
    """`Clinicbox-Background: 1` is served but does not move the session's
    last request."""

    def setUp(self):
        super().setUp()
        self.cred = self.server.add_user("anna", "front_desk")

    def poll(self, sess):
        return sess.get("/api/appointments", headers={"Clinicbox-Background": "1"})

    def last_seen(self, sess):
        with self.server.db() as db:
            (v,) = db.execute("SELECT last_seen FROM sessions").fetchone()
        return v

    def test_background_polls_do_not_keep_the_session(self):
        sess = self.server.login(*self.cred)
        seen = self.last_seen(sess)
        for minute in range(1, 15):   # every minute for 14 minutes: all served
            self.at(minute * 60)
            self.assertEqual(self.poll(sess).status, 200, minute)
        self.assertEqual(self.last_seen(sess), seen)
        self.at(15 * 60 + 1)
        r = self.poll(sess)
        self.assertEqual(r.status, 401, r)
        self.assertIn("expired", r.json["detail"])
        self.assertEqual(sess.get("/api/clinic").status, 401)

    def test_a_request_in_between_keeps_it(self):
        sess = self.server.login(*self.cred)
        for minute in range(1, 10):
            self.at(minute * 60)
            self.assertEqual(self.poll(sess).status, 200, minute)
        self.at(10 * 60)
        self.assertEqual(sess.get("/api/clinic").status, 200)   # the user did something
        for minute in range(11, 25):
            self.at(minute * 60)
            self.assertEqual(self.poll(sess).status, 200, minute)
        # 24 minutes after the login, 14 after the user's last request: alive
        self.assertEqual(self.poll(sess).status, 200)
        self.at(25 * 60 + 1)
        self.assertEqual(self.poll(sess).status, 401)

    def test_other_values_count_as_a_request(self):
        sess = self.server.login(*self.cred)
        self.at(10 * 60)
        r = sess.get("/api/clinic", headers={"Clinicbox-Background": "0"})
        self.assertEqual(r.status, 200, r)
        self.at(20 * 60)
        self.assertEqual(self.poll(sess).status, 200)


class RemindedAtTest(unittest.TestCase):
    """reminded_at: when the appointment's latest reminder was sent. The
    reminders are driven as in tests/api/test_outbox_time.py: the server is
    restarted on the same data at later faked times, the MailSink gets them."""

    def setUp(self):
        self.sink = MailSink().start()
        self.addCleanup(self.sink.stop)
        self.data = None

    def run_at(self, faketime):
        s = Server(data=self.data, faketime=faketime,
                   env=outbox_env(self.sink, CLINICBOX_NOSHOW_INTERVAL_SECONDS=1))
        if self.data is None:
            self.addCleanup(s.cleanup)
            self.data = s.data
        return s.start()

    def test_a_sent_reminder_shows(self):
        s = self.run_at("2026-11-30 07:00:00")              # Mon 08:00 Berlin
        doctor, patient = s.seed()
        r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                         "start": local("12-01", "10:00")})   # 26 h ahead
        self.assertEqual(r.status, 201, r)
        a = r.json
        self.assertNotIn("reminded_at", a)
        self.sink.wait_for(1)                               # the confirmation
        path = f"/api/appointments/{a['id']}"
        before = s.get(path)
        self.assertNotIn("reminded_at", before.json)
        day = f"/api/appointments?from={DAY}&to={DAY}"
        list_before = s.get(day)
        s.stop()

        s = self.run_at("2026-11-30 09:30:00")              # 23.5 h before: the 24 h reminder
        sent = wait_until(lambda: [n for n in notifications(s, appointment_id=a["id"])
                                   if n["purpose"] == "reminder_24h" and n["status"] == "sent"])
        self.assertTrue(sent, f"{notifications(s)}\n{s.read_log()}")
        got = s.get(path, headers={"If-None-Match": before.headers["ETag"]})
        self.assertEqual(got.status, 200, got)              # the answer changed: a new tag
        self.assertEqual(got.json["reminded_at"], sent[0]["sent_at"])
        self.assertEqual(got.json["status"], "booked")
        self.assertNotEqual(got.headers["ETag"], before.headers["ETag"])
        self.assertEqual(s.get(path, headers={"If-None-Match": got.headers["ETag"]}).status, 304)
        listed = s.get(day, headers={"If-None-Match": list_before.headers["ETag"]})
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual([x.get("reminded_at") for x in listed.json["appointments"]],
                         [sent[0]["sent_at"]])
        # a queued reminder (SMS: no provider configured) does not count
        self.assertTrue(any(n["purpose"] == "reminder_24h" and n["channel"] == "sms"
                            and n["status"] != "sent" for n in notifications(s, appointment_id=a["id"])))
        s.stop()


def offer_with_token(test, server, appt, options=3):
    """A reschedule offer for appt and its link's token, from the database
    (notifications.link_token: no channel is configured, so the offer's
    messages wait, as in tests/api/test_patient_link.py)."""
    r = server.post(f"/api/appointments/{appt['id']}/reschedule", {"options": options})
    test.assertEqual(r.status, 201, r)
    with server.db() as db:
        tokens = {t for (t,) in db.execute(
            "SELECT link_token FROM notifications WHERE offer_id = ? AND link_token IS NOT NULL",
            (r.json["id"],))}
    test.assertEqual(len(tokens), 1, tokens)
    return r.json, tokens.pop()


class OffersListTest(ServerTest):
    faketime = T0

    def setUp(self):
        super().setUp()
        s = self.server
        self.doctor, self.patient = s.seed()
        # a patient without a phone: the SMS of an offer to her is skipped
        self.nophone = s.post("/api/patients", {"name": "Ohne Telefon",
                                                "email": "ohne@example.org"}).json
        book = lambda p, start: s.post("/api/appointments", {
            "doctor_id": self.doctor["id"], "patient_id": p["id"], "start": start}).json
        self.a = book(self.patient, local("12-01", "09:00"))
        self.b = book(self.nophone, local("12-02", "10:00"))
        self.o1, self.t1 = offer_with_token(self, s, self.a)
        self.o2, self.t2 = offer_with_token(self, s, self.b)
        self.o3, self.t3 = offer_with_token(self, s, self.a, options=2)

    def offers(self, query="", **kw):
        r = self.server.get("/api/offers" + (f"?{query}" if query else ""), **kw)
        self.assertEqual(r.status, 200, r)
        return r

    def ids(self, query=""):
        return [o["id"] for o in self.offers(query).json["offers"]]

    def test_list_newest_first_with_messages_never_the_token(self):
        r = self.offers()
        got = r.json["offers"]
        self.assertEqual([o["id"] for o in got], [self.o3["id"], self.o2["id"], self.o1["id"]])
        for token in (self.t1, self.t2, self.t3):
            self.assertNotIn(token, r.raw)
        o3 = got[0]
        self.assertEqual(o3["appointment_id"], self.a["id"])
        self.assertEqual(o3["purpose"], "reschedule_offer")
        self.assertEqual((o3["created_at"], o3["expires_at"]),
                         (self.o3["created_at"], self.o3["expires_at"]))
        self.assertEqual(o3["options"], [{"option": i + 1, **opt}
                                         for i, opt in enumerate(self.o3["options"])])
        self.assertEqual(len(o3["options"]), 2)
        self.assertEqual((o3["used_at"], o3["used_option"], o3["new_appointment_id"]),
                         (None, None, None))
        self.assertEqual([(n["channel"], n["status"], n["attempts"], n["last_error"])
                          for n in o3["notifications"]],
                         [("email", "queued", 0, None), ("sms", "queued", 0, None)])
        self.assertEqual({n["id"] for n in o3["notifications"]},
                         {n["id"] for n in self.o3["notifications"]})
        self.assertNotIn("sent_at", o3["notifications"][0])
        o2 = got[1]
        self.assertEqual([(n["channel"], n["status"]) for n in o2["notifications"]],
                         [("email", "queued"), ("sms", "skipped")])
        self.assertIn("phone", o2["notifications"][1]["last_error"])

    def test_filters(self):
        a, b = self.a["id"], self.b["id"]
        self.assertEqual(self.ids(f"appointment_id={a}"), [self.o3["id"], self.o1["id"]])
        self.assertEqual(self.ids(f"appointment_id={b}"), [self.o2["id"]])
        self.assertEqual(self.ids("from=2026-12-01&to=2026-12-01"), [self.o3["id"], self.o1["id"]])
        self.assertEqual(self.ids("from=2026-12-02&to=2026-12-02"), [self.o2["id"]])
        self.assertEqual(self.ids("from=2026-12-02"), [self.o2["id"]])
        self.assertEqual(self.ids("to=2026-12-01"), [self.o3["id"], self.o1["id"]])
        self.assertEqual(self.ids("from=2026-12-03"), [])
        self.assertEqual(self.ids(f"appointment_id={b}&from=2026-12-01&to=2026-12-01"), [])
        self.assertEqual(self.ids("limit=1"), [self.o3["id"]])
        # date-times: [from, to) around a's start at 09:00 in Berlin
        self.assertEqual(self.ids("from=2026-12-01T07:30:00Z&to=2026-12-01T09:00:00%2B01:00"), [])
        self.assertEqual(self.ids("from=2026-12-01T09:00:00%2B01:00&to=2026-12-01T08:01:00Z"),
                         [self.o3["id"], self.o1["id"]])
        # front desk may list them (doctors may not: tests/api/test_auth.py)
        desk = self.server.login(*self.server.add_user("desk", "front_desk"))
        self.assertEqual(len(desk.get("/api/offers").json["offers"]), 3)

    def test_bad_queries_name_the_parameter(self):
        for query, status, field in (("appointment_id=nope", 400, "appointment_id"),
                                     ("from=2026-13-01", 400, "from"),
                                     ("to=yesterday", 400, "to"),
                                     ("from=2026-12-02&to=2026-12-01", 422, "to"),
                                     ("limit=0", 422, "limit"), ("limit=1001", 422, "limit"),
                                     ("limit=ten", 400, "limit"), ("limit=%00", 400, "limit")):
            self.assertProblem(self.server.get(f"/api/offers?{query}"), status, field)

    def test_a_used_offer_and_polling(self):
        r = self.offers(f"appointment_id={self.b['id']}")
        tag = r.headers["ETag"]
        self.assertEqual(self.server.get(f"/api/offers?appointment_id={self.b['id']}",
                                         headers={"If-None-Match": tag}).status, 304)
        used = self.server.post("/api/offer-link/rebook", {"offer_token": self.t2, "option": 2},
                                auth=False)
        self.assertEqual(used.status, 200, used)
        r = self.server.get(f"/api/offers?appointment_id={self.b['id']}", headers={"If-None-Match": tag})
        self.assertEqual(r.status, 200, r)
        (o2,) = r.json["offers"]
        self.assertEqual(o2["used_option"], 2)
        self.assertIsNotNone(o2["used_at"])
        new = self.server.get(f"/api/appointments/{o2['new_appointment_id']}").json
        self.assertEqual((new["status"], new["start"], new["rescheduled_from"]),
                         ("booked", self.o2["options"][1]["start"], self.b["id"]))
        # the token is gone from the messages too, and never in the answer
        self.assertNotIn(self.t2, r.raw)


class LanguageTest(ServerTest):
    faketime = T0

    def test_clinic_language(self):
        s = self.server
        c = s.get("/api/clinic")
        self.assertEqual(c.json["language"], "auto")
        r = s.put("/api/clinic", {"language": "de"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["language"], "de")
        self.assertNotEqual(r.headers["ETag"], c.headers["ETag"])
        self.assertEqual(s.get("/api/clinic").json["language"], "de")
        # a GET answer sent back as it is
        self.assertEqual(s.put("/api/clinic", s.get("/api/clinic").json).status, 200)
        # other fields leave it alone
        self.assertEqual(s.put("/api/clinic", {"offer_hours": 24}).json["language"], "de")
        for bad, status in (("fr", 422), ("DE", 422), ("", 422), ("x" * 100, 422),
                            (1, 400), (None, None), (["en"], 400), ("e\nn", 400)):
            r = s.put("/api/clinic", {"language": bad})
            if status is None:   # null counts as absent
                self.assertEqual(r.status, 200, r)
                continue
            self.assertProblem(r, status, "language")
        self.assertEqual(s.get("/api/clinic").json["language"], "de")
        with s.db() as db:
            self.assertEqual(db.execute("SELECT language FROM clinic").fetchone(), ("de",))
        # kept over a restart
        s.stop()
        s.start()
        self.assertEqual(s.get("/api/clinic").json["language"], "de")

    def test_patient_link_shows_it(self):
        s = self.server
        doctor, patient = s.seed()
        a = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                         "start": local("12-01", "09:00")}).json
        _, token = offer_with_token(self, s, a)
        view = lambda: s.post("/api/offer-link", {"offer_token": token}, auth=False)
        self.assertEqual(view().json["clinic"], {"name": "Praxis Test", "timezone": "Europe/Berlin",
                                                 "language": "auto"})
        self.assertEqual(s.put("/api/clinic", {"language": "en"}).status, 200)
        self.assertEqual(view().json["clinic"]["language"], "en")


class LanguageSyncTest(unittest.TestCase):
    """The clinic's language goes to central with the clinic and comes back
    from a central edit (docs/sync.md); a bad value is refused. jongodb (or
    CLINICBOX_TEST_MONGO_URI), as in tests/api/test_sync_pull.py."""

    def test_pushed_and_pulled(self):
        from central import Central
        from harness import Clock
        from test_sync_pull import Box, central_cmd
        from test_sync_trust import Writer
        central = Central().start()
        self.addCleanup(central.stop)
        clock = Clock(T0)
        box = Box(self, central, clock)
        s = box.server
        self.addCleanup(s.stop)
        s.seed()
        clinic = s.get("/api/clinic").json["id"]
        self.assertEqual(s.put("/api/clinic", {"language": "de"}).status, 200)
        box.round()
        self.assertEqual(central.db.clinics.find_one({"_id": clinic})["language"], "de")

        tool = lambda doc: central_cmd(central, clock, "put", "clinics", clinic, json.dumps(doc),
                                       clinic=clinic)
        tool({"language": "en"})
        box.round()
        self.assertEqual(s.get("/api/clinic").json["language"], "en")
        # a value the box does not know: `clinicbox central` refuses it and
        # writes nothing; a writer that does not check gets it refused by
        # the box, and logged
        p = central_cmd(central, clock, "put", "clinics", clinic, json.dumps({"language": "fr"}),
                        clinic=clinic, ok=False)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("language", p.stderr)
        Writer(central.db, clinic, clock).write("clinics", clinic, {"language": "fr"})
        box.round()
        self.assertEqual(s.get("/api/clinic").json["language"], "en")
        rej = central.db.rejections.find_one({"collection": "clinics"})
        self.assertIsNotNone(rej)
        self.assertIn("language", json.dumps(rej, default=str))


def parse_ics(text):
    """The content lines of an iCalendar text, unfolded (RFC 5545 3.1), as
    (name, value) pairs; parameters stay in the name."""
    assert "\n" not in text.replace("\r\n", ""), "lines end in CRLF"
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "")
    lines = [line for line in unfolded.split("\r\n") if line]
    return [tuple(line.split(":", 1)) for line in lines]


def ics_utc(rfc3339):
    """2026-12-01T09:00:00+01:00 -> 20261201T080000Z"""
    from datetime import datetime, timezone
    return datetime.fromisoformat(rfc3339).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


class CalendarTest(MovableClockTest):
    """POST /api/offer-link/calendar: the appointment a used offer made."""

    def setUp(self):
        super().setUp()
        s = self.server
        self.doctor, self.patient = s.seed()
        self.assertEqual(s.put("/api/clinic", {"offer_hours": 2}).status, 200)
        r = s.post("/api/appointments", {"doctor_id": self.doctor["id"], "patient_id": self.patient["id"],
                                         "start": local("12-01", "09:00"),
                                         "reason": "Blutdruck-Kontrolle nach Therapie"})
        self.assertEqual(r.status, 201, r)
        self.appt = r.json
        self.offer, self.token = offer_with_token(self, s, self.appt)

    def calendar(self, token=None, **kw):
        return self.server.post("/api/offer-link/calendar", {"offer_token": token or self.token},
                                auth=False, **kw)

    def test_calendar_of_the_chosen_time(self):
        s = self.server
        r = self.calendar()
        self.assertProblem(r, 409, "offer_token")
        used = s.post("/api/offer-link/rebook", {"offer_token": self.token, "option": 2}, auth=False)
        self.assertEqual(used.status, 200, used)
        chosen = used.json["chosen"]
        self.assertEqual(chosen["option"], 2)

        r = self.calendar()
        self.assertEqual(r.status, 200, r)
        # the file has METHOD:PUBLISH, so its media type says so too
        # (RFC 5545, 3.7.2 and 8.1: the "method" parameter; RFC 5546)
        self.assertEqual(r.headers["Content-Type"], "text/calendar; charset=utf-8; method=PUBLISH")
        self.assertEqual(r.headers["Content-Disposition"], 'attachment; filename="appointment.ics"')
        self.assertEqual(r.headers["Cache-Control"], "no-store")
        props = parse_ics(r.raw)
        self.assertEqual([v for n, v in props if n == "METHOD"], ["PUBLISH"])
        names = [n for n, _ in props]
        self.assertEqual(names[:2], ["BEGIN", "VERSION"])
        self.assertEqual(names.count("BEGIN"), 2)   # VCALENDAR, one VEVENT
        get = lambda name: [v for n, v in props if n == name]
        self.assertEqual(get("DTSTART"), [ics_utc(chosen["start"])])
        self.assertEqual(get("DTEND"), [ics_utc(chosen["end"])])
        new = [a for a in s.get("/api/appointments?from=2026-11-30&to=2026-12-31").json["appointments"]
               if a["status"] == "booked"]
        self.assertEqual(len(new), 1)
        self.assertEqual(new[0]["start"], chosen["start"])
        # the confirmation email's UID scheme, so a calendar keeps one event
        self.assertEqual(get("UID"), [f"{new[0]['id']}@clinicbox"])
        self.assertEqual(get("SEQUENCE"), ["0"])
        self.assertEqual(get("SUMMARY"), ["Appointment with Dr. Test"])
        self.assertEqual(get("LOCATION"), ["Praxis Test"])
        self.assertEqual(get("STATUS"), ["CONFIRMED"])
        # nothing else: only what the email's entry has, less the reason
        self.assertEqual(set(names), {"BEGIN", "END", "VERSION", "PRODID", "CALSCALE", "METHOD",
                                      "UID", "SEQUENCE", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY",
                                      "LOCATION", "STATUS"})
        for secret in (self.patient["name"], self.patient["email"], self.patient["phone"],
                       self.patient["id"], self.appt["id"], self.offer["id"], self.doctor["id"],
                       self.token, "Blutdruck", "Müller"):
            self.assertNotIn(secret, r.raw)

        # the clinic cancels the new appointment: no calendar file for it
        self.assertEqual(s.post(f"/api/appointments/{new[0]['id']}/cancel", {}).status, 200)
        r = self.calendar()
        self.assertProblem(r, 409)
        self.assertNotIn(self.token, r.raw)
        # past the offer's expiry, used or not: 410
        self.at(2 * 3600)
        self.assertProblem(self.calendar(), 410, "offer_token")

    def test_like_the_link(self):
        self.assertProblem(self.calendar("A" * 43), 404, "offer_token")
        self.assertProblem(self.calendar("A" * 42 + "!"), 400, "offer_token")
        self.assertProblem(self.calendar("A" * 44), 422, "offer_token")
        r = self.server.post("/api/offer-link/calendar", {"offer_token": self.token, "option": 1},
                             auth=False)
        self.assertProblem(r, 400)
        self.at(2 * 3600)
        self.assertProblem(self.calendar(), 410, "offer_token")
        # the audit trail names the appointment, never the token. An entry
        # is written just after its answer, so the entries of two requests
        # in a row may commit in either order: the 410's is looked for by
        # its outcome, not taken to be the last one.
        def entries():
            with self.server.db() as db:
                return db.execute("SELECT actor, target, outcome FROM audit_log WHERE action = "
                                  "'POST /api/offer-link/calendar' ORDER BY seq").fetchall()
        gone = wait_until(lambda: [e for e in entries() if e[2] == "410"] or None)
        self.assertEqual(gone, [("patient-link", f"appointment:{self.appt['id']}", "410")], entries())
        self.assertNotIn(self.token, repr(entries()))

    def test_new_appointment_gone(self):
        """The appointment a used offer made is no longer there: a 409 (this
        offer cannot give a calendar file any more), not a 503 as if storage
        had failed. Appointments are never deleted through the API nor by
        sync (docs/sync.md, Deletes), so the row is removed from the database
        file while the server is stopped, as a damaged or hand-edited
        database would have it."""
        s = self.server
        used = s.post("/api/offer-link/rebook", {"offer_token": self.token, "option": 1}, auth=False)
        self.assertEqual(used.status, 200, used)
        self.assertEqual(self.calendar().status, 200)
        with s.db() as db:
            (new_id,) = db.execute("SELECT new_appointment_id FROM offers WHERE id = ?",
                                   (self.offer["id"],)).fetchone()
        self.assertTrue(new_id)
        s.stop()
        db = sqlite3.connect(os.path.join(s.data, "clinicbox.db"))
        try:
            db.execute("DELETE FROM appointments WHERE id = ?", (new_id,))
            db.commit()
        finally:
            db.close()
        s.start()
        r = self.calendar()
        self.assertProblem(r, 409, "offer_token")
        self.assertNotIn(self.token, r.raw)

    def assertProblem(self, r, status, field=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json", r)
        if field:
            self.assertIn(field, [e["field"] for e in r.json.get("errors", [])], r)


if __name__ == "__main__":
    unittest.main()
