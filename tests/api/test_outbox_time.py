"""Messages that depend on the time, with the server's clock moved by
libfaketime between runs (the data directory is kept, as after a restart):

- a no-show detected by the worker leads, with no staff action, to an offer
  by email and SMS with the next free slots;
- reminders 24 and 2 hours before, only the nearest due one, none for a lead
  whose window had begun when the appointment was booked;
- a message whose purpose passed while it waited (the appointment began) is
  dropped as `expired`, not sent late.

Times: Berlin is UTC+1 in November and December.
"""
import unittest

from harness import Server, notifications, outbox_env, wait_until
from peers import MailSink, TwilioStandIn


class TimeTest(unittest.TestCase):
    def setUp(self):
        self.sink = MailSink().start()
        self.sms = TwilioStandIn().start()
        self.addCleanup(self.sink.stop)
        self.addCleanup(self.sms.stop)
        self.data = None

    def run_at(self, faketime, **extra):
        extra.setdefault("CLINICBOX_NOSHOW_INTERVAL_SECONDS", 1)
        s = Server(data=self.data, faketime=faketime, env=outbox_env(self.sink, self.sms, **extra))
        if self.data is None:
            self.addCleanup(s.cleanup)
            self.data = s.data
        return s.start()

    def book(self, server, doctor, patient, start):
        r = server.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                              "start": start})
        self.assertEqual(r.status, 201, r)
        return r.json

    def subjects(self):
        return [str(m["message"]["Subject"]) for m in self.sink.messages]

    def test_no_show_detected_by_the_worker_sends_an_offer(self):
        s = self.run_at("2026-11-30 07:50:00")              # Mon 08:50 Berlin
        doctor, patient = s.seed()
        a = self.book(s, doctor, patient, "2026-11-30T09:00:00+01:00")
        self.sink.wait_for(1)                               # the confirmation
        s.stop()
        s = self.run_at("2026-11-30 08:20:00")              # 09:20: 20 min late, grace 15
        offer_mail = wait_until(lambda: [m for m in self.sink.messages
                                         if "we missed you" in str(m["message"]["Subject"])], timeout=30)
        self.assertTrue(offer_mail, f"{self.subjects()}\n{s.read_log()}")
        self.assertEqual(s.get(f"/api/appointments/{a['id']}").json["status"], "no_show")
        text = offer_mail[0]["message"].get_content()
        self.assertIn("We missed you at your appointment with Dr. Test on Mon 30 Nov 09:00", text)
        # the next free slots, in local time, with an hour's notice: from
        # 10:20 on (it is 09:20), though 09:30 is free
        self.assertIn("  1) Mon 30 Nov 10:30", text)
        self.assertIn("https://praxis.example.org/rebook#", text)
        sms = wait_until(lambda: [m for m in self.sms.messages if "you missed" in m["body"]], timeout=30)
        self.assertTrue(sms)
        self.assertIn("1) Mon 30 Nov 10:30", sms[0]["body"])
        notes = notifications(s, appointment_id=a["id"])
        self.assertEqual(sorted((n["purpose"], n["channel"], n["status"]) for n in notes),
                         [("confirmation", "email", "sent"), ("confirmation", "sms", "sent"),
                          ("no_show_offer", "email", "sent"), ("no_show_offer", "sms", "sent")])
        s.stop()

    def test_reminders_before_the_appointment(self):
        s = self.run_at("2026-11-30 07:00:00")              # Mon 08:00 Berlin
        doctor, patient = s.seed()
        early = self.book(s, doctor, patient, "2026-12-01T10:00:00+01:00")  # 26 h ahead
        self.sink.wait_for(1)
        s.stop()
        s = self.run_at("2026-11-30 09:30:00")              # 23.5 h before `early`
        late = self.book(s, doctor, patient, "2026-12-01T09:00:00+01:00")   # booked 22.5 h ahead
        got = wait_until(lambda: [m for m in self.sink.messages if "reminder" in str(m["message"]["Subject"])])
        self.assertTrue(got, f"{self.subjects()}\n{s.read_log()}")
        self.assertIn("Tue 01 Dec 10:00", str(got[0]["message"]["Subject"]))
        self.assertTrue(wait_until(lambda: [m for m in self.sms.messages if "reminder" in m["body"]]))
        s.stop()
        purposes = lambda srv, appt: sorted(n["purpose"] for n in notifications(srv, appointment_id=appt["id"])
                                            if n["channel"] == "email")
        s = self.run_at("2026-12-01 07:30:00")              # Tue 08:30: 1.5 h before early, 0.5 h before late
        self.assertTrue(wait_until(lambda: len([m for m in self.sink.messages
                                                 if "reminder" in str(m["message"]["Subject"])]) >= 3, timeout=30),
                        f"{self.subjects()}\n{s.read_log()}")
        # early: 24 h and 2 h; late: booked inside the 24 h window, so only 2 h
        self.assertEqual(purposes(s, early), ["confirmation", "reminder_24h", "reminder_2h"])
        self.assertEqual(purposes(s, late), ["confirmation", "reminder_2h"])
        # once each, however many ticks pass
        wait_until(lambda: False, timeout=3)
        self.assertEqual(len([m for m in self.sink.messages if "reminder" in str(m["message"]["Subject"])]), 3)
        # a clinic can turn reminders off; the setting is validated
        self.assertEqual(s.put("/api/clinic", {"reminder_hours": [2, 48, 24]}).json["reminder_hours"], [48, 24, 2])
        self.assertEqual(s.put("/api/clinic", {"reminder_hours": [0]}).status, 422)
        self.assertEqual(s.put("/api/clinic", {"reminder_hours": [24, 24]}).status, 422)
        self.assertEqual(s.put("/api/clinic", {"reminder_hours": "24"}).status, 400)
        self.assertEqual(s.put("/api/clinic", {"reminder_hours": []}).json["reminder_hours"], [])
        s.stop()

    def test_a_message_that_waited_past_its_purpose_expires(self):
        self.sink.stop()                                     # mail is down while booking
        s = self.run_at("2026-11-30 07:00:00")
        doctor, patient = s.seed(patient={"name": "Late", "email": "late@example.org", "notify_sms": False})
        a = self.book(s, doctor, patient, "2026-11-30T09:00:00+01:00")
        s.stop()
        self.sink.start()
        s = self.run_at("2026-11-30 08:05:00")              # 09:05: the appointment began
        expired = wait_until(lambda: notifications(s, status="expired"), timeout=20)
        self.assertTrue(expired, notifications(s))
        self.assertEqual(expired[0]["appointment_id"], a["id"])
        self.assertEqual(expired[0]["purpose"], "confirmation")
        self.assertIn("appointment began", expired[0]["last_error"])
        self.assertEqual(self.sink.messages, [])
        self.assertGreaterEqual(s.get("/api/health").json["outbox"]["email"]["expired"], 1)
        s.stop()


if __name__ == "__main__":
    unittest.main()
