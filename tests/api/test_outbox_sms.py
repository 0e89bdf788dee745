"""SMS through the outbox against the Twilio stand-in (tests/api/peers.py):
the request Twilio receives (path, basic auth, form fields, a Messaging
Service sender), how every kind of answer is classified and retried (500,
429 with Retry-After, 400 invalid number, a hang past the timeout, a dropped
connection, 401 wrong credentials, attempts running out, Twilio not reachable
at all), staff retries, /api/health and /metrics during and after an outage,
and the text of a rescheduling offer (numbered options, the link, at most two
segments).

Every test has its own server and its own stand-in. SMTP is not configured,
so only SMS goes out; the email twin of every message stays queued, as it
should. The server's clock is set with libfaketime to Monday 30 Nov 2026
08:00 in Berlin (07:00 UTC), so the appointments booked are in the future.
Back-offs are capped at 1 s (outbox_env), so retries happen within a test.
"""
import base64
import contextlib
import datetime
import re
import time
import unittest

from harness import Server, notifications, outbox_env, wait_until
from peers import _GSM7_BASIC, _GSM7_EXT, TwilioStandIn, num_segments

NOW = "2026-11-30 07:00:00"
PHONE = "+4915112345678"          # the seeded patient's number
BAD_PHONE = "+4915100000001"      # answered 400 / 21211 by the stand-in


def parse_time(s):
    return datetime.datetime.fromisoformat(s)


def is_gsm7(text):
    """Every character is in the GSM 03.38 alphabet or its extension table."""
    return all(c in _GSM7_BASIC or c in _GSM7_EXT for c in text)



def redacted(text):
    """text with the token of a rebooking link replaced as the database keeps it."""
    return re.sub(r"(/rebook#)[A-Za-z0-9_-]{43}", r"\1[redacted]", text)

class SmsTest(unittest.TestCase):
    def setUp(self):
        self.sms = TwilioStandIn().start()
        self.addCleanup(self.sms.stop)
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.stop()

    # -- helpers ----------------------------------------------------------------
    def boot(self, **extra):
        """Starts a server whose SMS goes to self.sms; extra: more CLINICBOX_*
        settings (they override outbox_env's)."""
        self.server = Server(faketime=NOW, env=outbox_env(twilio=self.sms, **extra))
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.doctor, self.patient = self.server.seed()
        return self.server

    def book(self, start="2026-11-30T10:00:00+01:00", patient=None, doctor=None):
        r = self.server.post("/api/appointments", {"doctor_id": (doctor or self.doctor)["id"],
                                                   "patient_id": (patient or self.patient)["id"],
                                                   "start": start, "duration_minutes": 30})
        self.assertEqual(r.status, 201, r)
        return r.json

    def new_patient(self, phone, name="Bernd Beispiel"):
        r = self.server.post("/api/patients", {"name": name, "phone": phone})
        self.assertEqual(r.status, 201, r)
        return r.json

    def sms_row(self, appt_id, purpose="confirmation"):
        rows = [n for n in notifications(self.server, appointment_id=appt_id)
                if n["channel"] == "sms" and n["purpose"] == purpose]
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def wait_row(self, appt_id, cond, what, timeout=20, purpose="confirmation", interval=0.05):
        """Polls the appointment's SMS row until cond(row); returns the row."""
        last = {}

        def check():
            last["row"] = self.sms_row(appt_id, purpose)
            return last["row"] if cond(last["row"]) else None
        row = wait_until(check, timeout=timeout, interval=interval)
        self.assertTrue(row, f"SMS row never became {what}; last seen {last.get('row')}\n"
                             f"stand-in:\n{self.sms._describe()}\nserver log:\n{self.server.read_log()[-3000:]}")
        return row

    def wait_status(self, appt_id, status, **kw):
        return self.wait_row(appt_id, lambda n: n["status"] == status, status, **kw)

    def stored_body(self, note_id):
        """The text kept with the message: only offers keep theirs, with
        the patient's token redacted in the link (docs/outbox.md); the others
        are worded when sent, and keep ""."""
        with contextlib.closing(self.server.db()) as db:
            (body,) = db.execute("SELECT body FROM notifications WHERE id = ?", (note_id,)).fetchone()
        return body

    def sent_body(self, note):
        """The text Twilio accepted for a sent message (found by its sid)."""
        with self.sms._cond:
            found = [m["body"] for m in self.sms.messages if m["sid"] == note["provider_id"]]
        self.assertEqual(len(found), 1, note)
        return found[0]

    def requests_to(self, to):
        with self.sms._cond:
            return [r for r in self.sms.requests if r["form"] and r["form"].get("To") == to]

    def accepted_for(self, note):
        """The stand-in's accepted messages that carry this notification: the
        same recipient and text as the one with its sid (or as its stored
        text, for an offer not sent yet)."""
        body = self.stored_body(note["id"]) or self.sent_body(note)
        with self.sms._cond:
            return [m for m in self.sms.messages if m["to"] == note["recipient"]
                    and (m["body"] == body or redacted(m["body"]) == body)]

    def health_sms(self):
        r = self.server.get("/api/health")
        self.assertEqual(r.status, 200, r)
        return r.json["outbox"]["sms"]

    def metric(self, line_start):
        r = self.server.get("/metrics")
        self.assertEqual(r.status, 200, r)
        for line in r.raw.splitlines():
            if line.startswith(line_start + " "):
                return float(line.split()[-1])
        self.fail(f"no {line_start} in /metrics:\n{r.raw}")

    # -- 1. the request ---------------------------------------------------------
    def test_request_twilio_receives_and_the_sent_row(self):
        self.boot()
        a = self.book()
        (msg,) = self.sms.wait_for(1)
        (req,) = self.sms.requests
        self.assertEqual(req["method"], "POST")
        self.assertEqual(req["path"], f"/2010-04-01/Accounts/{self.sms.account_sid}/Messages.json")
        # HTTP basic auth: account SID and auth token
        scheme, _, cred = req["headers"]["Authorization"].partition(" ")
        self.assertEqual(scheme.lower(), "basic")
        self.assertEqual(base64.b64decode(cred).decode(), f"{self.sms.account_sid}:{self.sms.auth_token}")
        self.assertTrue(req["auth_ok"])
        self.assertEqual(req["headers"]["Content-Type"].split(";")[0], "application/x-www-form-urlencoded")
        self.assertTrue(req["headers"].get("User-Agent", "").startswith("clinicbox/"), req["headers"])
        # the form: To, From, Body and nothing else
        form = req["form"]
        self.assertEqual(set(form), {"To", "From", "Body"})
        self.assertEqual(form["To"], PHONE)
        self.assertEqual(form["From"], "+15005550006")
        self.assertIn("booked Mon 30 Nov 10:00 with Dr. Test.", form["Body"])
        self.assertTrue(form["Body"].startswith("Praxis Test: "), form["Body"])
        self.assertLessEqual(num_segments(form["Body"]), 2)
        # the row: sent, with Twilio's sid, after one attempt
        note = self.wait_status(a["id"], "sent")
        self.assertEqual(self.stored_body(note["id"]), "", "a confirmation is worded when sent")
        self.assertEqual(self.sent_body(note), form["Body"])
        self.assertEqual(note["provider_id"], msg["sid"])
        self.assertTrue(msg["sid"].startswith("SM"))
        self.assertEqual(note["attempts"], 1)
        self.assertEqual(note["recipient"], PHONE)
        self.assertIsNone(note["last_error"])
        self.assertIsNone(note["next_attempt_at"])
        self.assertIsNotNone(note["sent_at"])
        # SMTP is not configured: the email twin waits
        email = [n for n in notifications(self.server, appointment_id=a["id"]) if n["channel"] == "email"]
        self.assertEqual([n["status"] for n in email], ["queued"])
        h = self.server.get("/api/health").json["outbox"]
        self.assertEqual(h["email"]["state"], "not_configured")
        self.assertFalse(h["email"]["configured"])
        self.assertTrue(h["sms"]["configured"])
        self.assertEqual(h["sms"]["state"], "ok")
        self.assertEqual(h["sms"]["sent"], 1)
        self.assertEqual(h["sms"]["failed"], 0)
        self.assertIn("last_sent_at", h["sms"])
        self.assertNotIn("last_error", h["sms"])
        self.assertEqual(self.metric('clinicbox_outbox_sent_total{channel="sms"}'), 1)
        self.assertEqual(self.metric('clinicbox_outbox_channel_up{channel="sms"}'), 1)
        self.assertEqual(self.metric('clinicbox_outbox_channel_up{channel="email"}'), 0)
        self.assertEqual(len(self.sms.requests), 1, "one message, one request")

    # -- 2. Messaging Service sender -------------------------------------------
    def test_messaging_service_sender(self):
        service = "MG" + "0123456789abcdef" * 2
        self.boot(CLINICBOX_TWILIO_FROM=service)
        a = self.book()
        (msg,) = self.sms.wait_for(1)
        form = self.sms.requests[0]["form"]
        self.assertEqual(form.get("MessagingServiceSid"), service)
        self.assertNotIn("From", form)
        self.assertEqual(form["To"], PHONE)
        self.assertEqual(msg["messaging_service_sid"], service)
        note = self.wait_status(a["id"], "sent")
        self.assertEqual(note["provider_id"], msg["sid"])
        self.assertEqual(note["attempts"], 1)

    # -- 3. a 500 once ------------------------------------------------------------
    def test_http_500_once_then_sent_on_the_retry(self):
        self.boot()
        self.sms.fail_next(1, "500")
        a = self.book()
        failed = self.wait_status(a["id"], "failed")
        self.assertEqual(failed["attempts"], 1)
        self.assertIn("500", failed["last_error"])
        self.assertIsNotNone(failed["next_attempt_at"])
        self.assertGreaterEqual(parse_time(failed["next_attempt_at"]), parse_time(failed["updated_at"]))
        note = self.wait_status(a["id"], "sent")
        self.assertEqual(note["attempts"], 2)
        self.assertIsNone(note["last_error"])
        reqs = self.requests_to(PHONE)
        self.assertEqual([r["status"] for r in reqs], [500, 201])
        accepted = self.accepted_for(note)
        self.assertEqual(len(accepted), 1, accepted)
        self.assertEqual(note["provider_id"], accepted[0]["sid"])
        h = self.health_sms()
        self.assertEqual((h["sent"], h["failed"], h["dead"]), (1, 1, 0))
        self.assertIn("500", h["last_error"])
        self.assertEqual(self.metric('clinicbox_outbox_failures_total{channel="sms",result="retry"}'), 1)

    # -- 4. 429 with Retry-After ---------------------------------------------------
    def test_429_retry_after_is_honoured(self):
        self.boot()
        self.sms.retry_after = 3
        self.sms.fail_next(1, "429")
        a = self.book()
        failed = self.wait_status(a["id"], "failed")
        self.assertEqual(failed["attempts"], 1)
        self.assertIn("429", failed["last_error"])
        # the stored schedule: at least Retry-After (3 s) later, not the 1 s back-off
        wait = parse_time(failed["next_attempt_at"]) - parse_time(failed["updated_at"])
        self.assertGreaterEqual(wait.total_seconds(), 3, failed)
        note = self.wait_status(a["id"], "sent")
        self.assertEqual(note["attempts"], 2)
        reqs = self.requests_to(PHONE)
        self.assertEqual([r["status"] for r in reqs], [429, 201])
        gap = reqs[1]["at"] - reqs[0]["at"]
        # The outbox schedules in whole seconds of its wall clock:
        # next_attempt_at = floor(now) + 3, and the retry goes out when the
        # clock reaches it. So it comes 3 s minus the fraction of the second
        # in which the 429 arrived, i.e. after somewhere between 2 and 3 s
        # (measured: 2.94 s, the booking lands ~0.06 s into a second). Without
        # Retry-After it would be the 1 s back-off.
        self.assertGreaterEqual(gap, 2.0, f"second request {gap:.2f}s after the 429")
        self.assertLess(gap, 10, f"second request {gap:.2f}s after the 429")
        self.assertEqual(len(self.accepted_for(note)), 1)

    # -- 5. invalid number ------------------------------------------------------------
    def test_invalid_number_is_dead_at_once_and_a_retry_stays_dead(self):
        self.boot()
        self.sms.bad_numbers.add(BAD_PHONE)
        p = self.new_patient(BAD_PHONE)
        a = self.book(patient=p)
        dead = self.wait_status(a["id"], "dead")
        self.assertEqual(dead["attempts"], 1, "a permanent refusal is not retried")
        self.assertIn("21211", dead["last_error"])
        self.assertIn(f"The 'To' number {BAD_PHONE} is not a valid phone number.", dead["last_error"])
        self.assertIsNone(dead["next_attempt_at"])
        self.assertIsNone(dead["provider_id"])
        time.sleep(2.0)  # twice the back-off: nothing more goes out for it
        self.assertEqual(len(self.requests_to(BAD_PHONE)), 1, self.sms._describe())
        self.assertEqual(self.sms_row(a["id"])["status"], "dead")
        h = self.health_sms()
        self.assertEqual((h["dead"], h["failed"], h["sent"]), (1, 0, 0))
        self.assertIn("21211", h["last_error"])
        self.assertIn("is dead", self.server.read_log())
        # staff retry while the number is still bad: one more request, dead again
        r = self.server.post(f"/api/notifications/{dead['id']}/retry")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "queued")
        self.assertEqual(r.json["attempts"], 0)
        self.sms.wait_for_requests(2)
        again = self.wait_row(a["id"], lambda n: n["status"] == "dead" and n["updated_at"] >= r.json["updated_at"]
                              and n["attempts"] == 1, "dead again")
        self.assertIn("21211", again["last_error"])
        time.sleep(1.5)
        self.assertEqual(len(self.requests_to(BAD_PHONE)), 2, self.sms._describe())
        self.assertEqual(self.sms.messages, [])

    # -- 6. hang past the timeout -------------------------------------------------------
    def test_hang_past_the_timeout_is_transient(self):
        self.boot(CLINICBOX_OUTBOX_TIMEOUT_SECONDS=2)
        self.sms.hang_seconds = 15
        self.sms.mode = "hang"
        a = self.book()
        (first,) = self.sms.wait_for_requests(1)
        failed = self.wait_status(a["id"], "failed")
        seen = time.time()
        self.assertEqual(failed["attempts"], 1, "the stand-in was reached: the attempt counts")
        self.assertRegex(failed["last_error"], r"(?i)timed? ?out|timeout", failed)
        self.assertIsNotNone(failed["next_attempt_at"])
        # given up after the 2 s timeout, not when the stand-in closed (15 s).
        # The timeout runs from the server's connect, the stand-in notes the
        # request once it has read it: on a busy machine that is several
        # tenths of a second later (1.79 s measured once), so the lower bound
        # only says the attempt was not given up at once.
        self.assertGreaterEqual(seen - first["at"], 1.0)
        self.assertLess(seen - first["at"], 8)
        self.assertEqual(self.health_sms()["state"], "ok", "a timeout after connecting is not an outage")
        self.sms.mode = "ok"
        note = self.wait_status(a["id"], "sent")
        self.assertGreaterEqual(note["attempts"], 2)
        # At-least-once: Twilio read the whole request before it hung, so the
        # real Twilio may well have sent that first copy too and the patient
        # may get the message twice. The stand-in only counts what it
        # answered, so all we can assert is that the message went out and
        # that the row names one of the accepted copies.
        accepted = self.accepted_for(note)
        self.assertGreaterEqual(len(accepted), 1)
        self.assertIn(note["provider_id"], [m["sid"] for m in accepted])

    # -- 7. dropped connection ----------------------------------------------------------
    def test_dropped_connection_is_retried(self):
        self.boot()
        self.sms.fail_next(1, "drop")
        a = self.book()
        note = self.wait_status(a["id"], "sent")
        self.assertEqual(note["attempts"], 2)
        reqs = self.requests_to(PHONE)
        self.assertEqual([r["reason"] for r in reqs], ["mode drop", "accepted"])
        self.assertEqual(len(self.accepted_for(note)), 1)
        h = self.health_sms()
        self.assertEqual((h["sent"], h["failed"], h["dead"]), (1, 1, 0))
        self.assertIn("exchange failed", h["last_error"])
        self.assertEqual(h["state"], "ok")

    # -- 8. out of attempts -----------------------------------------------------------------
    def test_max_attempts_then_dead_then_staff_retry(self):
        self.boot(CLINICBOX_OUTBOX_MAX_ATTEMPTS=3)
        self.sms.mode = "500"
        a = self.book()
        dead = self.wait_status(a["id"], "dead")
        self.assertEqual(dead["attempts"], 3)
        self.assertIn("500", dead["last_error"])
        self.assertIsNone(dead["next_attempt_at"])
        time.sleep(1.5)  # longer than the back-off: no 4th attempt
        self.assertEqual([r["status"] for r in self.requests_to(PHONE)], [500, 500, 500])
        h = self.health_sms()
        self.assertEqual((h["failed"], h["dead"], h["sent"]), (2, 1, 0))
        self.assertEqual(self.server.get("/api/health").json["outbox"]["dead"], 1)
        self.assertEqual(self.metric('clinicbox_outbox_failures_total{channel="sms",result="dead"}'), 1)
        self.sms.mode = "ok"
        r = self.server.post(f"/api/notifications/{dead['id']}/retry")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["attempts"]), ("queued", 0))
        note = self.wait_status(a["id"], "sent")
        self.assertEqual(note["attempts"], 1)
        self.assertEqual([r["status"] for r in self.requests_to(PHONE)], [500, 500, 500, 201])
        accepted = self.accepted_for(note)
        self.assertEqual(len(accepted), 1)
        self.assertEqual(note["provider_id"], accepted[0]["sid"])
        self.assertEqual(self.server.get("/api/health").json["outbox"]["dead"], 0)

    # -- 9. Twilio unreachable -----------------------------------------------------------
    def test_outage_costs_no_attempts_and_everything_goes_out_once_after(self):
        self.sms.stop()   # Twilio down from the start: connection refused
        self.boot()
        appts = [self.book(f"2026-11-30T{h}:00:00+01:00") for h in ("10", "11", "12")]
        ok = wait_until(lambda: self.health_sms()["state"] == "unreachable", timeout=15)
        self.assertTrue(ok, self.server.read_log())
        time.sleep(3)  # several probes, 1 s apart
        rows = [self.sms_row(a["id"]) for a in appts]
        for n in rows:
            self.assertIn(n["status"], ("queued", "failed", "sending"), n)
            self.assertEqual(n["attempts"], 0, f"an outage used up an attempt: {n}")
            if n["last_error"]:
                self.assertIn("unreachable", n["last_error"])
        self.assertTrue([n for n in rows if n["last_error"] and "unreachable" in n["last_error"]], rows)
        h = self.health_sms()
        self.assertEqual(h["state"], "unreachable")
        self.assertIn("unreachable", h["last_error"])
        self.assertIn("unreachable_since", h)
        self.assertEqual((h["sent"], h["dead"]), (0, 0))
        self.assertEqual(self.metric('clinicbox_outbox_channel_up{channel="sms"}'), 0)
        out = self.server.get("/api/health").json["outbox"]
        self.assertEqual(out["dead"], 0)
        self.assertGreaterEqual(out["queued"] + out["failed"] + out["sending"], 3 + 3)  # + 3 emails
        self.assertEqual(self.sms.requests, [])

        self.sms.start()  # back, on the same port
        for a in appts:
            self.wait_status(a["id"], "sent")
        time.sleep(1.5)  # anything sent twice would show up by now
        for a in appts:
            n = self.sms_row(a["id"])
            self.assertEqual(n["attempts"], 1, n)
            accepted = self.accepted_for(n)
            self.assertEqual(len(accepted), 1, f"{n['id']} delivered {len(accepted)} times")
            self.assertEqual(n["provider_id"], accepted[0]["sid"])
        self.assertEqual(len(self.sms.messages), 3)
        h = self.health_sms()
        self.assertEqual(h["state"], "ok")
        self.assertNotIn("unreachable_since", h)
        self.assertEqual(h["sent"], 3)
        self.assertEqual(self.metric('clinicbox_outbox_channel_up{channel="sms"}'), 1)

    # -- 10. wrong credentials --------------------------------------------------------------
    def test_wrong_auth_token_is_transient(self):
        self.boot(CLINICBOX_TWILIO_AUTH_TOKEN="0" * 32)
        a = self.book()
        failed = self.wait_row(a["id"], lambda n: n["status"] == "failed" and n["attempts"] >= 2,
                               "failed twice")
        self.assertIn("401", failed["last_error"])
        self.assertIn("20003", failed["last_error"])
        self.assertIsNotNone(failed["next_attempt_at"])
        reqs = self.sms.wait_for_requests(2)
        self.assertTrue(all(r["status"] == 401 and not r["auth_ok"] for r in reqs), self.sms._describe())
        self.assertEqual(reqs[0]["reason"], "wrong credentials")
        self.assertEqual(self.sms.messages, [])
        h = self.health_sms()
        self.assertEqual(h["dead"], 0)
        self.assertGreaterEqual(h["failed"], 2)
        self.assertIn("401", h["last_error"])
        self.assertNotEqual(self.sms_row(a["id"])["status"], "dead")

    # -- 11. the offer's text -----------------------------------------------------------------
    def test_offer_text_numbered_options_link_and_two_segments(self):
        self.boot()
        clinic = "Gemeinschaftspraxis Sonnenschein am Stadtpark, Hausaerzte 1A"
        self.assertEqual(len(clinic), 60)
        r = self.server.put("/api/clinic", {"name": clinic})
        self.assertEqual(r.status, 200, r)
        doctor_name = "Dr. Łukasz Żółć"
        d = self.server.post("/api/doctors", {"name": doctor_name, "slot_minutes": 15})
        self.assertEqual(d.status, 201, d)
        s = self.server.put(f"/api/doctors/{d.json['id']}/schedule",
                            {"weekly": [{"weekday": w, "start": "08:00", "end": "18:00"} for w in range(1, 8)],
                             "exceptions": []})
        self.assertEqual(s.status, 200, s)
        a = self.book(doctor=d.json)

        # The confirmation in full ("<clinic>: booked Mon 30 Nov 10:00 with
        # Dr. Łukasz Żółć.") is 107 characters of UCS-2: 2 segments. Whether
        # the product keeps that or prefers the GSM-7 wording without the
        # doctor is its choice (messages.h); either way it must fit in 2
        # segments, and a text without the doctor's name must be GSM-7.
        conf = self.wait_status(a["id"], "sent")
        conf_body = self.sent_body(conf)
        self.assertIn("booked Mon 30 Nov 10:00", conf_body)
        self.assertLessEqual(num_segments(conf_body), 2, conf_body)
        if doctor_name not in conf_body:
            self.assertTrue(is_gsm7(conf_body), conf_body)

        r = self.server.post(f"/api/appointments/{a['id']}/reschedule", {"options": 3})
        self.assertEqual(r.status, 201, r)
        offer = r.json
        self.assertEqual(len(offer["options"]), 3, offer)
        note = self.wait_status(a["id"], "sent", purpose="reschedule_offer")
        stored = self.stored_body(note["id"])
        (sent,) = self.accepted_for(note)
        # the patient got the link with its token; the database keeps it redacted
        self.assertEqual(redacted(sent["body"]), stored)
        self.assertIn("/rebook#[redacted]", stored)
        body = sent["body"]
        self.assertNotIn("[redacted]", body)
        self.assertEqual(note["provider_id"], sent["sid"])
        # numbered options in Berlin time
        for i, o in enumerate(offer["options"], 1):
            local = o["start"]
            self.assertIn(f" {i}) ", body)
            self.assertRegex(body, rf" {i}\) \w\w\w {int(local[8:10]):02d} \w\w\w {local[11:16]}")
        self.assertNotIn(" 4) ", body)
        self.assertIn("please rebook Mon 30 Nov 10:00", body)
        link = re.search(r"https://praxis\.example\.org/rebook#(\S+)", body)
        self.assertTrue(link, body)
        # What we found: in full (the 60-character clinic name and "with Dr.
        # Łukasz Żółć") the offer needs UCS-2 and 312 code units: 5 segments.
        # The product falls back to its shorter wording, which cuts the clinic
        # name to 20 characters and leaves the doctor out; that text is pure
        # GSM-7, about 250 septets: 2 segments. (The cut lands after
        # "Gemeinschaftspraxis " and keeps its trailing space, so the SMS
        # begins "Gemeinschaftspraxis : please rebook ..."; cosmetic only.)
        self.assertLessEqual(num_segments(body), 2, f"{len(body)} chars: {body}")
        self.assertNotIn("Łukasz", body)
        self.assertNotIn("Żółć", body)
        self.assertRegex(body, "^" + re.escape(clinic[:20].rstrip()) + " ?: please rebook")
        self.assertNotIn(clinic, body)
        self.assertTrue(is_gsm7(body), f"the offer should be GSM-7 once the doctor's name is dropped: {body}")
        # the link in the SMS works
        r = self.server.post("/api/offer-link/rebook", {"offer_token": link.group(1), "option": 2},
                             auth=False)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["chosen"]["start"], offer["options"][1]["start"])


if __name__ == "__main__":
    unittest.main()
