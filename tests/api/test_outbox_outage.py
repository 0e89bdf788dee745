"""The outbox through outages and crashes, against a real SMTP server
(aiosmtpd) and the Twilio stand-in:

- the mail server is down while messages are queued: they wait (failed or
  queued, attempts not used up), nothing is lost, and when it is back each
  is delivered exactly once;
- the server is killed with SIGKILL while it is sending: after the restart
  every message is delivered, and the only duplicates are messages that
  were in `sending` at the moment of the kill (at-least-once).

Each email carries its notification id in its Message-ID, so deliveries are
counted per message.
"""
import collections
import time
import unittest

from harness import Server, notifications, outbox_env, wait_until
from peers import MailSink, TwilioStandIn

NOW = "2026-11-30 05:00:00"  # Mon 06:00 in Berlin; the schedule opens at 08:00


def delivered_ids(sink):
    """Notification id -> number of copies the sink received."""
    c = collections.Counter()
    for m in sink.messages:
        mid = str(m["message"]["Message-ID"]).strip("<>")
        c[mid.split("@")[0]] += 1
    return c


def slots(n):
    """n quarter-hour starts on Mon 30 Nov and Tue 1 Dec, Berlin time."""
    out = []
    for day in ("2026-11-30", "2026-12-01", "2026-12-02"):
        for h in range(8, 18):
            for m in (0, 15, 30, 45):
                out.append(f"{day}T{h:02d}:{m:02d}:00+01:00")
    return out[:n]


class OutageTest(unittest.TestCase):
    def setUp(self):
        self.sink = MailSink()        # not started: the mail server is down
        self.sms = TwilioStandIn()    # not started either
        self.addCleanup(self.sink.stop)
        self.addCleanup(self.sms.stop)

    def start_server(self, data=None, faketime=NOW, **extra):
        s = Server(data=data, faketime=faketime, env=outbox_env(self.sink, self.sms, **extra))
        self.addCleanup(s.cleanup)
        return s.start()

    def book_many(self, server, doctor, patient, n):
        ids = []
        for start in slots(n):
            r = server.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                                  "start": start})
            self.assertEqual(r.status, 201, r)
            ids.append(r.json["id"])
        return ids

    def test_messages_wait_out_an_outage_and_are_delivered_once(self):
        # a back-off of up to 5 s: long enough to see that new messages do
        # not start new probes of a provider that is down
        server = self.start_server(CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS=5)
        doctor, patient = server.seed()
        t0 = time.time()
        appts = self.book_many(server, doctor, patient, 6)
        for a in appts[:3]:
            r = server.post(f"/api/appointments/{a}/reschedule", {})
            self.assertEqual(r.status, 201, r)
        elapsed = time.time() - t0
        probes = server.read_log().count("SMTP server unreachable")
        # 9 changes, each waking the sender: one probe, then a pause of
        # 2.5-5 s (equal jitter on 5 s), not a probe per change
        self.assertLessEqual(probes, 2 + int(elapsed / 2.5), server.read_log())
        # 6 confirmations + 3 offers, by email and by SMS
        def waiting():
            h = server.get("/api/health").json["outbox"]
            return h if h["email"]["state"] == "unreachable" and h["sms"]["state"] == "unreachable" else None
        h = wait_until(waiting, timeout=20)
        self.assertTrue(h, server.get("/api/health").json)
        self.assertEqual(h["queued"] + h["failed"] + h["sending"], 18)
        self.assertEqual(h["dead"], 0)
        self.assertGreater(h["oldest_queued_age_seconds"], -1)
        self.assertIn("unreachable", h["email"]["last_error"])
        notes = notifications(server)
        self.assertEqual(len(notes), 18)
        self.assertTrue(all(n["attempts"] == 0 for n in notes), "an outage must not use up attempts")
        self.assertTrue(any(n["status"] == "failed" and "unreachable" in n["last_error"] for n in notes))
        metrics = server.get("/metrics").raw
        self.assertIn('clinicbox_outbox_channel_up{channel="email"} 0', metrics)
        self.assertIn("clinicbox_outbox_queue_depth 18", metrics)

        # the link comes back
        self.sink.start()
        self.sms.start()
        self.sink.wait_for(9, timeout=30)
        self.sms.wait_for(9, timeout=30)
        self.assertTrue(wait_until(lambda: len(notifications(server, status="sent")) == 18, timeout=20),
                        notifications(server))
        got = delivered_ids(self.sink)
        emails = [n["id"] for n in notes if n["channel"] == "email"]
        self.assertEqual(sorted(got), sorted(emails))
        self.assertEqual(set(got.values()), {1}, "each email exactly once")
        bodies = collections.Counter(m["body"] for m in self.sms.messages)
        self.assertEqual(len(self.sms.messages), 9)
        self.assertEqual(sum(bodies.values()), 9)
        h = server.get("/api/health").json["outbox"]
        self.assertEqual((h["queued"], h["sending"], h["failed"], h["dead"]), (0, 0, 0, 0))
        self.assertEqual(h["email"]["state"], "ok")
        self.assertEqual(h["oldest_queued_age_seconds"], 0)
        server.stop()

    def test_kill_while_sending_loses_nothing(self):
        server = self.start_server()
        doctor, patient = server.seed(patient={"name": "Kill Test", "email": "k@example.org",
                                               "notify_sms": False})
        appts = self.book_many(server, doctor, patient, 90)
        self.assertEqual(len(appts), 90)
        emails = [n["id"] for n in notifications(server, limit=1000) if n["channel"] == "email"]
        self.assertEqual(len(emails), 90)
        # the mail server comes back; kill the box in the middle of the drain
        self.sink.start()
        self.assertTrue(wait_until(lambda: len(self.sink.messages) >= 20, timeout=30, interval=0.01))
        server.kill9()
        with server.db() as db:
            in_flight = {i for (i,) in db.execute("SELECT id FROM notifications WHERE status = 'sending'")}
            sent_before = {i for (i,) in db.execute("SELECT id FROM notifications WHERE status = 'sent'")}
        self.assertLess(len(sent_before), 90, "the kill came too late to test anything")
        # restart a few minutes later: everything goes out
        server2 = self.start_server(data=server.data, faketime="2026-11-30 05:05:00")
        if not wait_until(lambda: len(notifications(server2, status="sent", limit=1000)) == 90, timeout=60):
            left = collections.Counter((n["status"], n["attempts"], n["last_error"], n["next_attempt_at"])
                                       for n in notifications(server2, limit=1000) if n["status"] != "sent")
            self.fail(f"not all sent: {left}\n{server2.read_log()}")
        got = delivered_ids(self.sink)
        self.assertEqual(set(got), set(emails), "every queued message delivered")
        doubles = {i for i, n in got.items() if n > 1}
        self.assertTrue(doubles <= in_flight,
                        f"duplicates {doubles - in_flight} were not in flight at the kill")
        self.assertTrue(all(n <= 2 for n in got.values()))
        if in_flight:
            self.assertIn("were being sent when the box stopped", server2.read_log())
        server2.stop()


if __name__ == "__main__":
    unittest.main()
