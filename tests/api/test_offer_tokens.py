"""The patient's rebooking token in the database (issue 9, item 7).

An offer's link holds a token that lets anyone rebook the patient while the
offer is valid. The database keeps it in clear only while its message may
still be sent (queued, sending, failed; dead while the offer is live, for a
staff retry): never for a skipped row, and not once the message is sent or
expired, the offer used or expired. The stored text keeps the link with the
token redacted. Checked by reading the database read-only, as anyone with a
copy of it could.

The server's clock is set with libfaketime (Monday 30 Nov 2026, Berlin);
the expiry test restarts it later on the same data directory.
"""
import re
import unittest

from harness import Server, notifications, outbox_env, wait_until
from peers import MailSink, TwilioStandIn

NOW = "2026-11-30 07:00:00"           # Mon 08:00 Berlin
LINK = re.compile(r"https://praxis\.example\.org/rebook#([A-Za-z0-9_-]+)")


def token_column(db):
    """link_token, or NULL on a schema without it (so that these tests also
    say what is wrong when run against an older binary)."""
    names = [r[1] for r in db.execute("PRAGMA table_info(notifications)")]
    return "link_token" if "link_token" in names else "NULL"


def offer_rows(server):
    """(id, channel, status, body, link_token) of every offer's message."""
    db = server.db()
    try:
        return db.execute(f"SELECT id, channel, status, body, {token_column(db)} FROM notifications "
                          "WHERE offer_id IS NOT NULL ORDER BY channel").fetchall()
    finally:
        db.close()


def rows_holding(server, token):
    """The messages whose stored row holds the token anywhere."""
    db = server.db()
    try:
        return db.execute("SELECT id, status FROM notifications WHERE instr(body, ?1) > 0 "
                          f"OR instr(coalesce(subject, ''), ?1) > 0 OR {token_column(db)} = ?1 "
                          "OR instr(coalesce(last_error, ''), ?1) > 0", (token,)).fetchall()
    finally:
        db.close()


class TokenTest(unittest.TestCase):
    def setUp(self):
        self.sink = MailSink().start()
        self.sms = TwilioStandIn().start()
        self.addCleanup(self.sink.stop)
        self.addCleanup(self.sms.stop)
        self.data = None

    def run_at(self, faketime, mail=True, sms=True, **extra):
        extra.setdefault("CLINICBOX_NOSHOW_INTERVAL_SECONDS", 1)
        s = Server(data=self.data, faketime=faketime,
                   env=outbox_env(self.sink if mail else None, self.sms if sms else None, **extra))
        if self.data is None:
            self.addCleanup(s.cleanup)
            self.data = s.data
        return s.start()

    def seed(self, s, **patient):
        doctor, _ = s.seed()
        p = {"name": "Rita Token", "email": "rita@example.org", "phone": "+4915112345670"}
        p.update(patient)
        r = s.post("/api/patients", p)
        self.assertEqual(r.status, 201, r)
        r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": r.json["id"],
                                         "start": "2026-11-30T15:00:00+01:00"})
        self.assertEqual(r.status, 201, r)
        return r.json

    def offer(self, s, appt):
        r = s.post(f"/api/appointments/{appt['id']}/reschedule", {"options": 2})
        self.assertEqual(r.status, 201, r)
        return r.json

    def assertRedacted(self, body, appt):
        self.assertIn("https://praxis.example.org/rebook#[redacted]", body)
        self.assertNotIn(appt["id"], body)

    # ------------------------------------------------------------------
    def test_skipped_row_never_holds_it_and_a_sent_one_drops_it(self):
        s = self.run_at(NOW)
        a = self.seed(s, notify_sms=False)                  # SMS: skipped
        self.offer(s, a)
        mail = wait_until(lambda: [m for m in self.sink.messages
                                   if "pick a new" in str(m["message"]["Subject"])], timeout=20)
        self.assertTrue(mail, s.read_log()[-3000:])
        text = mail[0]["message"].get_content()
        link = LINK.search(text)
        self.assertTrue(link, text)                         # the patient got the real link
        token = link.group(1)
        self.assertEqual(len(token), 43)
        self.assertTrue(wait_until(lambda: all(r[2] != "queued" and r[2] != "sending"
                                               for r in offer_rows(s) if r[1] == "email")))
        by = {r[1]: r for r in offer_rows(s)}
        self.assertEqual(by["sms"][2], "skipped")
        self.assertEqual(by["email"][2], "sent")
        self.assertEqual(rows_holding(s, token), [])
        for row in by.values():
            self.assertIsNone(row[4])
            self.assertRedacted(row[3], a)
            self.assertNotIn(token, row[3])
        # the API never shows texts or tokens either
        listed = s.get(f"/api/notifications?appointment_id={a['id']}")
        self.assertNotIn(token, listed.raw)
        self.assertNotIn("[redacted]", listed.raw)
        s.stop()

    def test_queued_keeps_it_until_the_offer_is_used(self):
        self.sink.stop()                                    # mail is down
        s = self.run_at(NOW, sms=False)                     # SMS not configured: stays queued
        a = self.seed(s)
        self.offer(s, a)
        rows = offer_rows(s)
        self.assertEqual([r[1] for r in rows], ["email", "sms"])
        token = rows[0][4]
        self.assertTrue(token and len(token) == 43, rows)
        for _id, _channel, status, body, link_token in rows:
            self.assertIn(status, ("queued", "sending", "failed"))
            self.assertEqual(link_token, token)             # still to be sent: kept
            self.assertRedacted(body, a)
            self.assertNotIn(token, body)
        # the patient uses the offer (its link came some other way, say a copy)
        r = s.post("/api/offer-link/rebook", {"offer_token": token, "option": 1}, auth=False)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(rows_holding(s, token), [])
        self.assertTrue(all(r[4] is None for r in offer_rows(s)))
        s.stop()
        # mail comes back: the used offer's message expires unsent
        self.sink.start()
        s = self.run_at(NOW.replace("07:00", "07:10"), sms=False)
        got = wait_until(lambda: [r for r in offer_rows(s) if r[1] == "email" and r[2] == "expired"],
                         timeout=20)
        self.assertTrue(got, offer_rows(s))
        self.assertFalse([m for m in self.sink.messages if "pick a new" in str(m["message"]["Subject"])])
        self.assertEqual(rows_holding(s, token), [])
        s.stop()

    def test_dead_keeps_it_for_a_retry_until_the_offer_is_used(self):
        self.sink.reject.add("gone@example.org")
        s = self.run_at(NOW, sms=False)
        a = self.seed(s, email="gone@example.org", notify_sms=False)
        self.offer(s, a)
        dead = wait_until(lambda: [r for r in offer_rows(s) if r[2] == "dead"], timeout=20)
        self.assertTrue(dead, offer_rows(s))
        note_id, _, _, body, token = dead[0]
        self.assertTrue(token and len(token) == 43)         # a staff retry can still send the link
        self.assertRedacted(body, a)
        r = s.post(f"/api/notifications/{note_id}/retry")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(wait_until(lambda: [x for x in offer_rows(s) if x[0] == note_id and x[2] == "dead"],
                                   timeout=20))
        self.assertEqual([x[4] for x in offer_rows(s) if x[0] == note_id], [token])
        r = s.post("/api/offer-link/rebook", {"offer_token": token, "option": 1}, auth=False)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(rows_holding(s, token), [])
        r = s.post(f"/api/notifications/{note_id}/retry")
        self.assertEqual(r.status, 409, r)
        self.assertIn("no longer stored", r.json["detail"])
        s.stop()

    def test_expiry_drops_it(self):
        # no channel configured: the messages wait as `queued`, holding the token
        s = self.run_at(NOW, mail=False, sms=False)
        a = self.seed(s)
        self.assertEqual(s.put("/api/clinic", {"offer_hours": 1}).status, 200)
        self.offer(s, a)
        rows = offer_rows(s)
        token = rows[0][4]
        self.assertTrue(token, rows)
        self.assertEqual(len(rows_holding(s, token)), 2)
        s.stop()
        # two hours later the offer has expired: the no-show worker's tick
        # forgets the token even though nothing could be sent
        s = self.run_at("2026-11-30 09:00:00", mail=False, sms=False)
        self.assertTrue(wait_until(lambda: rows_holding(s, token) == [], timeout=20), offer_rows(s))
        self.assertEqual([r[2] for r in offer_rows(s)], ["queued", "queued"])
        for r in offer_rows(s):
            self.assertRedacted(r[3], a)
        r = s.post("/api/offer-link/rebook", {"offer_token": token, "option": 1}, auth=False)
        self.assertEqual(r.status, 410, r)
        s.stop()
        # with the channels back the messages expire, unsent
        s = self.run_at("2026-11-30 09:05:00")
        self.assertTrue(wait_until(lambda: [r[2] for r in offer_rows(s)] == ["expired", "expired"],
                                   timeout=20), offer_rows(s))
        self.assertFalse([m for m in self.sink.messages if "pick a new" in str(m["message"]["Subject"])])
        self.assertFalse([m for m in self.sms.messages if "/rebook#" in m["body"]])
        s.stop()

    def test_claimed_then_expired_drops_it(self):
        # mail down while the offer is made; back after the offer expired:
        # the sender's claim marks the message expired and the token goes
        self.sink.stop()
        s = self.run_at(NOW, sms=False)
        a = self.seed(s, notify_sms=False)
        self.assertEqual(s.put("/api/clinic", {"offer_hours": 1}).status, 200)
        self.offer(s, a)
        token = [r for r in offer_rows(s) if r[1] == "email"][0][4]
        self.assertTrue(token)
        s.stop()
        self.sink.start()
        s = self.run_at("2026-11-30 08:30:00", sms=False, CLINICBOX_NOSHOW_INTERVAL_SECONDS=3600)
        got = wait_until(lambda: [r for r in offer_rows(s) if r[1] == "email" and r[2] == "expired"],
                         timeout=20)
        self.assertTrue(got, offer_rows(s))
        self.assertEqual(rows_holding(s, token), [])
        s.stop()


class HealthTest(unittest.TestCase):
    def test_health_does_not_show_the_data_path(self):
        s = Server()
        self.addCleanup(s.cleanup)
        s.start()
        h = s.get("/api/health")
        self.assertEqual(h.status, 200, h)
        self.assertNotIn(s.data, h.raw)
        self.assertNotIn("clinicbox.db", h.raw)
        self.assertNotIn("path", h.json["db"])
        s.stop()


if __name__ == "__main__":
    unittest.main()
