"""Email through the outbox, against a real SMTP server (aiosmtpd, with AUTH)
and SMS against the Twilio stand-in: what a patient actually receives for a
confirmation, an offer and a cancellation; preferences; a permanent refusal
and a staff retry.

The server's clock is set with libfaketime to Monday 30 Nov 2026 08:00 in
Berlin (07:00 UTC), so the times in the messages are known exactly.
"""
import base64
import email.header
import email.utils
import re
import unittest

from harness import Server, notifications, outbox_env, wait_until
from peers import MailSink, TwilioStandIn, num_segments

NOW = "2026-11-30 07:00:00"


def decoded(value):
    return str(email.header.make_header(email.header.decode_header(str(value))))


class EmailTest(unittest.TestCase):
    def setUp(self):
        self.sink = MailSink(auth=("praxis", "geheim-1")).start()
        self.sms = TwilioStandIn().start()
        self.addCleanup(self.sink.stop)
        self.addCleanup(self.sms.stop)
        self.server = Server(faketime=NOW, env=outbox_env(self.sink, self.sms))
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.doctor, _ = self.server.seed()
        r = self.server.post("/api/patients", {"name": "José Müller-Łukasiewicz",
                                               "email": "jose@example.org", "phone": "+4915112345678"})
        self.assertEqual(r.status, 201, r)
        self.patient = r.json

    def tearDown(self):
        self.server.stop()

    def book(self, start, patient=None):
        r = self.server.post("/api/appointments", {"doctor_id": self.doctor["id"],
                                                   "patient_id": (patient or self.patient)["id"],
                                                   "start": start, "duration_minutes": 30})
        self.assertEqual(r.status, 201, r)
        return r.json

    def mails_with(self, subject_part, count=1):
        def got():
            found = [m for m in self.sink.messages if subject_part in decoded(m["message"]["Subject"])]
            return found if len(found) >= count else None
        found = wait_until(got, timeout=20)
        self.assertTrue(found, f"no mail with {subject_part!r}; got {[decoded(m['message']['Subject']) for m in self.sink.messages]}\n{self.server.read_log()[-3000:]}")
        return found

    def test_confirmation_email_headers_body_and_calendar(self):
        a = self.book("2026-11-30T10:00:00+01:00")
        (m,) = self.mails_with("your appointment on Mon 30 Nov 10:00")
        msg = m["message"]
        self.assertEqual(m["login"], "praxis")
        self.assertEqual(m["mail_from"], "praxis@example.org")
        self.assertEqual(m["rcpt_tos"], ["jose@example.org"])
        # headers, with the non-ASCII name encoded and decoded back
        self.assertEqual(decoded(msg["From"]), "Praxis Sonnenschein <praxis@example.org>")
        name, addr = email.utils.parseaddr(decoded(msg["To"]))
        self.assertEqual((name, addr), ("José Müller-Łukasiewicz", "jose@example.org"))
        self.assertIn("=?UTF-8?", m["data"].decode("ascii"), "the name must be an encoded word")
        # Date: the server's (faked) clock, a moment after 07:00 UTC
        self.assertLess(abs(email.utils.parsedate_to_datetime(msg["Date"]).timestamp() - 1796022000), 120)
        self.assertEqual(msg["MIME-Version"], "1.0")
        notes = notifications(self.server, appointment_id=a["id"])
        email_note = [n for n in notes if n["channel"] == "email"][0]
        self.assertEqual(msg["Message-ID"], f"<{email_note['id']}@example.org>")
        # the raw message is 7-bit clean with CRLF lines of at most 78 octets
        raw = m["data"]
        self.assertTrue(all(b < 128 for b in raw))
        for line in raw.split(b"\r\n"):
            self.assertLessEqual(len(line), 78, line)
        # body: UTF-8 text with the time in Berlin time
        self.assertEqual(msg.get_content_type(), "multipart/mixed")
        parts = list(msg.iter_parts())
        self.assertEqual(parts[0].get_content_type(), "text/plain")
        self.assertEqual(parts[0].get_content_charset(), "utf-8")
        text = parts[0].get_content()
        self.assertIn("Hello José Müller-Łukasiewicz", text)
        self.assertIn("Mon 30 Nov 10:00", text)
        self.assertIn("Dr. Test", text)
        # the calendar entry, in UTC
        self.assertEqual(parts[1].get_content_type(), "text/calendar")
        self.assertEqual(parts[1].get_filename(), "appointment.ics")
        ics = parts[1].get_payload(decode=True).decode("utf-8")
        unfolded = re.sub(r"\r\n[ \t]", "", ics)
        self.assertIn("BEGIN:VCALENDAR\r\n", ics)
        self.assertIn("METHOD:PUBLISH\r\n", ics)
        self.assertIn(f"UID:{a['id']}@clinicbox\r\n", unfolded)
        self.assertIn("DTSTART:20261130T090000Z\r\n", ics)
        self.assertIn("DTEND:20261130T093000Z\r\n", ics)
        self.assertIn("SUMMARY:Appointment with Dr. Test\r\n", unfolded)
        self.assertIn("LOCATION:Praxis Test\r\n", unfolded)
        # the SMS twin went to Twilio; both rows are sent, with provider ids
        (s,) = self.sms.wait_for(1)
        self.assertEqual(s["to"], "+4915112345678")
        self.assertEqual(s["from"], "+15005550006")
        self.assertIn("booked Mon 30 Nov 10:00", s["body"])
        self.assertLessEqual(num_segments(s["body"]), 2)
        notes = wait_until(lambda: [n for n in notifications(self.server, appointment_id=a["id"])
                                    if n["status"] == "sent"] if all(
            n["status"] == "sent" for n in notifications(self.server, appointment_id=a["id"])) else None)
        self.assertTrue(notes)
        by = {n["channel"]: n for n in notes}
        self.assertEqual(by["sms"]["provider_id"], s["sid"])
        self.assertEqual(by["email"]["provider_id"], msg["Message-ID"])
        self.assertEqual(by["email"]["attempts"], 1)
        self.assertEqual(by["email"]["purpose"], "confirmation")
        self.assertIsNone(by["email"]["last_error"])

    def test_offer_lists_local_times_and_a_working_link(self):
        a = self.book("2026-11-30T10:00:00+01:00")
        self.mails_with("your appointment on")
        r = self.server.post(f"/api/appointments/{a['id']}/reschedule", {"options": 3})
        self.assertEqual(r.status, 201, r)
        offer = r.json
        (m,) = self.mails_with("please pick a new appointment time")
        text = m["message"].get_content().replace("\r\n", "\n")
        # each option in Berlin time, numbered
        for i, o in enumerate(offer["options"], 1):
            local = o["start"]  # e.g. 2026-11-30T08:00:00+01:00 (already local)
            day = int(local[8:10])
            hhmm = local[11:16]
            self.assertRegex(text, rf"  {i}\) \w\w\w {day:02d} \w\w\w {hhmm}\n")
        # the token is in the fragment (after '#'), which no browser sends on
        link = re.search(r"https://praxis\.example\.org/rebook#(\S+)", text)
        self.assertTrue(link, text)
        self.assertNotIn(a["id"], link.group(0))
        self.assertNotIn("?", link.group(0))
        # the SMS carries the same link, numbered options, in <= 2 segments
        sms = wait_until(lambda: [s for s in self.sms.messages if "New times" in s["body"]])
        self.assertTrue(sms)
        body = sms[0]["body"]
        self.assertIn(" 1) ", body)
        self.assertIn(link.group(0), body)
        self.assertLessEqual(num_segments(body), 2, body)
        # the patient uses the link's token: the link really works
        token = link.group(1)
        r = self.server.post("/api/offer-link/rebook", {"offer_token": token, "option": 2}, auth=False)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["chosen"]["start"], offer["options"][1]["start"])
        # and the new appointment is confirmed in turn
        self.mails_with("your appointment on", count=2)

    def test_cancellation_email(self):
        a = self.book("2026-11-30T11:00:00+01:00")
        r = self.server.post(f"/api/appointments/{a['id']}/cancel", {"reason": "Ärztin krank"})
        self.assertEqual(r.status, 200, r)
        (m,) = self.mails_with("is cancelled")
        text = m["message"].get_content().replace("\r\n", "\n")
        self.assertIn("Mon 30 Nov 11:00 is cancelled", text)
        self.assertIn("Reason: Ärztin krank", text)

    def test_a_change_that_does_not_commit_queues_nothing(self):
        a = self.book("2026-11-30T14:00:00+01:00")
        before = notifications(self.server)
        self.assertEqual(len(before), 2)
        r = self.server.post("/api/appointments", {"doctor_id": self.doctor["id"],
                                                   "patient_id": self.patient["id"],
                                                   "start": "2026-11-30T14:00:00+01:00"})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(self.server.post(f"/api/appointments/{a['id']}/cancel").status, 200)
        self.assertEqual(self.server.post(f"/api/appointments/{a['id']}/cancel").status, 409)
        after = notifications(self.server)
        # the cancellation queued its two; the refused booking and the
        # refused second cancel queued none
        self.assertEqual(len(after), 4)
        self.assertEqual(sorted(n["purpose"] for n in after),
                         ["cancellation", "cancellation", "confirmation", "confirmation"])

    def test_preferences_make_skipped_rows_with_reasons(self):
        r = self.server.post("/api/patients", {"name": "No Mail", "phone": "+4915199999999",
                                               "notify_sms": False})
        self.assertEqual(r.status, 201, r)
        a = self.book("2026-11-30T12:00:00+01:00", patient=r.json)
        notes = notifications(self.server, appointment_id=a["id"])
        by = {n["channel"]: n for n in notes}
        self.assertEqual(by["email"]["status"], "skipped")
        self.assertEqual(by["email"]["last_error"], "the patient has no email address")
        self.assertEqual(by["sms"]["status"], "skipped")
        self.assertEqual(by["sms"]["last_error"], "the patient does not want SMS messages")
        self.assertEqual(len(notifications(self.server, status="skipped")), 2)
        # another booking's messages go out; these two never do
        self.book("2026-11-30T12:30:00+01:00")
        self.mails_with("12:30")
        self.assertFalse([m for m in self.sink.messages if "12:00" in decoded(m["message"]["Subject"])])
        self.assertFalse([s for s in self.sms.messages if s["to"] == "+4915199999999"])

    def test_refused_recipient_is_dead_and_staff_can_retry(self):
        self.sink.reject.add("gone@example.org")
        r = self.server.post("/api/patients", {"name": "Gone", "email": "gone@example.org",
                                               "notify_sms": False})
        a = self.book("2026-11-30T13:00:00+01:00", patient=r.json)
        dead = wait_until(lambda: [n for n in notifications(self.server, status="dead")
                                   if n["appointment_id"] == a["id"]])
        self.assertTrue(dead, notifications(self.server, appointment_id=a["id"]))
        self.assertEqual(dead[0]["attempts"], 1, "a permanent refusal is not retried")
        self.assertIn("550", dead[0]["last_error"])
        self.assertGreaterEqual(self.server.get("/api/health").json["outbox"]["dead"], 1)
        # the address is fixed on the mail server; staff retry
        self.sink.reject.discard("gone@example.org")
        r = self.server.post(f"/api/notifications/{dead[0]['id']}/retry")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "queued")
        self.assertEqual(r.json["attempts"], 0)
        sent = wait_until(lambda: [n for n in notifications(self.server, status="sent")
                                   if n["id"] == dead[0]["id"]])
        self.assertTrue(sent)
        # a sent message cannot be "retried"
        r = self.server.post(f"/api/notifications/{dead[0]['id']}/retry")
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json")
        self.assertEqual(self.server.post("/api/notifications/0192f3a4-5b6c-7d8e-9f01-23456789abcd/retry").status, 404)
        self.assertEqual(self.server.get("/api/notifications?status=bogus").status, 400)
        with self.server.db() as db:
            (actor,) = db.execute("SELECT actor FROM events WHERE entity = 'notification' AND type = 'retry'").fetchone()
        self.assertEqual(actor, "token:tests")


if __name__ == "__main__":
    unittest.main()
