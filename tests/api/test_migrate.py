"""Schema migrations and the guarantees the schema itself gives.

- an old (schema 1) database is upgraded in place, keeping its data;
- a database newer than the binary is refused;
- the event log is append-only;
- double booking is impossible even for SQL written by hand.
"""
import datetime
import hashlib
import os
import secrets
import shutil
import sqlite3
import tempfile
import time
import unittest
import uuid
import zoneinfo

from harness import Server

TZ_NAME = "Europe/Berlin"
TZ = zoneinfo.ZoneInfo(TZ_NAME)
MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "store", "migrations")


def migration_files():
    return sorted(f for f in os.listdir(MIGRATIONS) if f.endswith(".sql"))


def ts(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def local(days, minutes):
    d = datetime.datetime.now(TZ).date() + datetime.timedelta(days=days)
    return datetime.datetime(d.year, d.month, d.day, minutes // 60, minutes % 60, tzinfo=TZ)


def rw(data):
    """A read-write connection, as an admin with sqlite3 would open one."""
    c = sqlite3.connect(os.path.join(data, "clinicbox.db"), timeout=10, isolation_level=None)
    c.execute("PRAGMA foreign_keys=ON")
    return c


class MigrateTest(unittest.TestCase):
    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="clinicbox-migrate-")
        self.servers = []
        self.addCleanup(shutil.rmtree, self.data, True)

    def tearDown(self):
        for s in self.servers:
            if s.proc is not None and not getattr(s, "_expect_exit", False):
                s.stop()

    def server(self, start=True):
        s = Server(data=self.data)
        self.servers.append(s)
        self.addCleanup(s.cleanup)
        return s.start() if start else s

    # ------------------------------------------------------------------
    def test_upgrade_in_place_from_schema_1(self):
        files = migration_files()
        self.assertGreaterEqual(len(files), 2)
        self.assertTrue(files[0].startswith("0001"), files)
        now = int(time.time())
        clinic_id, doctor_id, patient_id, appt_id = (str(uuid.uuid4()) for _ in range(4))
        start = int(local(5, 10 * 60).timestamp())
        end = start + 30 * 60

        db = sqlite3.connect(os.path.join(self.data, "clinicbox.db"), isolation_level=None)
        with open(os.path.join(MIGRATIONS, files[0]), encoding="utf-8") as f:
            db.executescript(f.read())
        db.execute("PRAGMA user_version = 1")
        db.execute("BEGIN")
        db.execute("INSERT INTO clinic (id, name, timezone, grace_minutes, reschedule_options, "
                   "offer_hours, created_at, updated_at) VALUES (?, 'Praxis Alt', ?, NULL, 3, 48, ?, ?)",
                   (clinic_id, TZ_NAME, now, now))
        db.execute("INSERT INTO doctors (id, name, email, phone, slot_minutes, created_at, updated_at) "
                   "VALUES (?, 'Dr. Alt', 'alt@example.org', NULL, 15, ?, ?)", (doctor_id, now, now))
        for wd in range(1, 8):
            db.execute("INSERT INTO schedule_weekly (doctor_id, weekday, start_min, end_min) "
                       "VALUES (?, ?, 480, 1080)", (doctor_id, wd))
        db.execute("INSERT INTO patients (id, name, email, phone, notify_email, notify_sms, "
                   "created_at, updated_at) VALUES (?, 'Berta Alt', 'berta@example.org', "
                   "'+4915112345679', 1, 1, ?, ?)", (patient_id, now, now))
        db.execute("INSERT INTO appointments (id, doctor_id, patient_id, start_utc, end_utc, status, "
                   "reason, created_at, created_by, updated_at, updated_by) VALUES "
                   "(?, ?, ?, ?, ?, 'booked', 'Kontrolle', ?, 'staff', ?, 'staff')",
                   (appt_id, doctor_id, patient_id, start, end, now, now))
        for u in range(start, end, 300):
            db.execute("INSERT INTO slot_claims (doctor_id, unit_start, appointment_id) VALUES (?, ?, ?)",
                       (doctor_id, u, appt_id))
        db.execute("COMMIT")
        db.close()

        s = self.server()
        # Upgraded to the newest schema.
        db = s.db()
        try:
            # the newest file's number (numbers may skip one another branch took)
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], int(files[-1][:4]))
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            self.assertTrue({"offers", "notifications", "events"} <= tables, tables)
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
            self.assertEqual(db.execute("PRAGMA foreign_key_check").fetchall(), [])
        finally:
            db.close()
        h = s.get("/api/health")
        self.assertEqual(h.status, 200, h)
        self.assertEqual(h.json["db"]["schema_version"], int(files[-1][:4]), h)

        # The data is kept.
        c = s.get("/api/clinic")
        self.assertEqual(c.status, 200, c)
        self.assertEqual((c.json["id"], c.json["name"], c.json["timezone"]), (clinic_id, "Praxis Alt", TZ_NAME))
        a = s.get(f"/api/appointments/{appt_id}")
        self.assertEqual(a.status, 200, a)
        self.assertEqual((a.json["doctor_id"], a.json["patient_id"], a.json["status"]),
                         (doctor_id, patient_id, "booked"))
        self.assertEqual((ts(a.json["start"]), ts(a.json["end"])), (start, end))
        self.assertEqual(a.json["start"], datetime.datetime.fromtimestamp(start, TZ).isoformat())
        self.assertEqual(a.json.get("reason"), "Kontrolle")
        sch = s.get(f"/api/doctors/{doctor_id}/schedule")
        self.assertEqual(sch.status, 200, sch)
        self.assertEqual(sorted((w["weekday"], w["start"], w["end"]) for w in sch.json["weekly"]),
                         [(d, "08:00", "18:00") for d in range(1, 8)])
        p = s.get(f"/api/patients/{patient_id}")
        self.assertEqual(p.status, 200, p)
        self.assertEqual(p.json["name"], "Berta Alt")

        # The old claims still hold: the same time cannot be booked again.
        r = s.post("/api/appointments", {"doctor_id": doctor_id, "patient_id": patient_id,
                                         "start": datetime.datetime.fromtimestamp(start + 900, TZ).isoformat()})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json.get("type"), "urn:clinicbox:problem:slot-taken", r)

        # And it works, including what needs the newer tables: a reschedule offer.
        o = s.post(f"/api/appointments/{appt_id}/reschedule", {})
        self.assertEqual(o.status, 201, o)
        self.assertEqual(o.json["appointment_id"], appt_id, o)
        self.assertTrue(o.json["options"], o)
        for opt in o.json["options"]:
            self.assertEqual(ts(opt["end"]) - ts(opt["start"]), 30 * 60, opt)
            self.assertFalse(ts(opt["start"]) < end and start < ts(opt["end"]), opt)
        self.assertEqual(sorted(n["channel"] for n in o.json["notifications"]), ["email", "sms"], o)
        db = s.db()
        try:
            self.assertEqual(db.execute("SELECT count(*) FROM offers WHERE appointment_id = ?",
                                        (appt_id,)).fetchone()[0], 1)
            self.assertEqual(db.execute("SELECT count(*) FROM events WHERE entity_id = ? AND type = 'offer_made'",
                                        (appt_id,)).fetchone()[0], 1)
        finally:
            db.close()
        s.stop()

        # A second start on the upgraded database applies nothing and works.
        s2 = self.server()
        self.assertEqual(s2.get(f"/api/appointments/{appt_id}").status, 200)
        s2.stop()
        self.assertNotIn("applied migration", s2.read_log())

    # ------------------------------------------------------------------
    def test_upgrade_scrubs_offer_tokens(self):
        """A schema-7 database kept offers' tokens in clear in every message
        body. Migration 0009 keeps a token (apart, in link_token) only for a
        message that may still be sent while its offer is live, and takes it
        out of every body; 0012 then moves the link's token into the URL
        fragment ({public_url}/rebook#...), without the appointment's id."""
        files = [f for f in migration_files() if int(f[:4]) <= 7]
        self.assertEqual(len(files), 7, files)
        now = int(time.time())
        clinic_id, doctor_id, patient_id, appt_id = (str(uuid.uuid4()) for _ in range(4))
        start = int(local(5, 10 * 60).timestamp())
        db = sqlite3.connect(os.path.join(self.data, "clinicbox.db"), isolation_level=None)
        for f in files:
            with open(os.path.join(MIGRATIONS, f), encoding="utf-8") as fh:
                db.executescript(fh.read())
        db.execute("PRAGMA user_version = 7")
        db.execute("BEGIN")
        db.execute("INSERT INTO clinic (id, name, timezone, created_at, updated_at) "
                   "VALUES (?, 'Praxis Alt', ?, ?, ?)", (clinic_id, TZ_NAME, now, now))
        db.execute("INSERT INTO doctors (id, name, slot_minutes, created_at, updated_at) "
                   "VALUES (?, 'Dr. Alt', 15, ?, ?)", (doctor_id, now, now))
        db.execute("INSERT INTO patients (id, name, email, phone, created_at, updated_at) "
                   "VALUES (?, 'Berta Alt', 'berta@example.org', '+4915112345679', ?, ?)",
                   (patient_id, now, now))
        db.execute("INSERT INTO appointments (id, doctor_id, patient_id, start_utc, end_utc, status, "
                   "created_at, created_by, updated_at, updated_by) VALUES "
                   "(?, ?, ?, ?, ?, 'no_show', ?, 'staff', ?, 'staff')",
                   (appt_id, doctor_id, patient_id, start, start + 1800, now, now))
        offers = {"live": now + 3600, "used": now + 3600, "expired": now - 60}
        offer_ids = {k: str(uuid.uuid4()) for k in offers}
        tokens, rows, ids = {}, [], {}
        for kind, expires in offers.items():
            tokens[kind] = secrets.token_urlsafe(32)
            self.assertEqual(len(tokens[kind]), 43)
            db.execute("INSERT INTO offers (id, appointment_id, token_hash, options, created_at, "
                       "created_by, expires_at, used_at) VALUES (?, ?, ?, '[]', ?, 'staff', ?, ?)",
                       (offer_ids[kind], appt_id, hashlib.sha256(tokens[kind].encode()).hexdigest(), now - 120,
                        expires, now - 30 if kind == "used" else None))
            statuses = ["queued", "failed", "dead", "sent", "skipped", "expired"] if kind == "live" else ["queued", "dead"]
            for status in statuses:
                nid = ids[kind, status] = str(uuid.uuid4())
                body = (f"Hello,\nPick one here: https://praxis.example.org/rebook/{appt_id}"
                        f"?token={tokens[kind]}\nThis link works until Tue.\n")
                db.execute("INSERT INTO notifications (id, appointment_id, offer_id, patient_id, channel, "
                           "recipient, purpose, subject, body, status, next_attempt_at, expires_at, "
                           "created_at, updated_at) VALUES (?, ?, ?, ?, 'email', 'berta@example.org', "
                           "'no_show_offer', 'pick a new time', ?, ?, ?, ?, ?, ?)",
                           (nid, appt_id, offer_ids[kind], patient_id, body, status, now + 86400, expires, now, now))
                rows.append((nid, kind, status))
        db.execute("COMMIT")
        db.close()

        s = self.server()
        db = s.db()
        try:
            got = {r[0]: r[1:] for r in db.execute("SELECT id, body, link_token FROM notifications")}
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        finally:
            db.close()
        for nid, kind, status in rows:
            body, link_token = got[nid]
            for t in tokens.values():
                self.assertNotIn(t, body, nid)
            self.assertIn("https://praxis.example.org/rebook#[redacted]\nThis link works", body, nid)
            self.assertNotIn(appt_id, body, nid)
            keep = kind == "live" and status in ("queued", "failed", "dead")
            self.assertEqual(link_token, tokens[kind] if keep else None, nid)
        # a dead message of the live offer can still be retried; one of the used offer cannot
        r = s.post(f"/api/notifications/{ids['live', 'dead']}/retry")
        self.assertEqual(r.status, 200, r)
        r = s.post(f"/api/notifications/{ids['used', 'dead']}/retry")
        self.assertEqual(r.status, 409, r)
        self.assertIn("no longer stored", r.json["detail"])
        s.stop()

    # ------------------------------------------------------------------
    def test_refuses_newer_schema(self):
        s = self.server()
        s.seed(timezone=TZ_NAME)
        s.stop()
        newer = len(migration_files()) + 7
        db = rw(self.data)
        db.execute(f"PRAGMA user_version = {newer}")
        db.close()

        s2 = self.server(start=False)
        s2._expect_exit = True
        s2.start(wait=False)
        try:
            rc = s2.proc.wait(timeout=30)
        except Exception:
            self.fail("the server kept running on a database newer than it knows")
        finally:
            s2.log.close()
        self.assertNotEqual(rc, 0)
        log = s2.read_log()
        self.assertIn(str(newer), log)
        self.assertIn("newer", log.lower())
        # It did not touch the database.
        db = rw(self.data)
        try:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], newer)
        finally:
            db.close()

    # ------------------------------------------------------------------
    def test_events_append_only(self):
        s = self.server()
        doctor, patient = s.seed(timezone=TZ_NAME)
        r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                         "start": local(3, 11 * 60).isoformat()})
        self.assertEqual(r.status, 201, r)
        s.stop()

        db = rw(self.data)
        try:
            before = db.execute("SELECT * FROM events ORDER BY seq").fetchall()
            self.assertTrue(any(e[3] == "appointment" and e[4] == r.json["id"] and e[5] == "booked"
                                for e in before), before)
            for sql in ("UPDATE events SET type = 'tampered'",
                        "UPDATE events SET data = '{}' WHERE seq = (SELECT max(seq) FROM events)",
                        "DELETE FROM events",
                        "DELETE FROM events WHERE seq = (SELECT min(seq) FROM events)"):
                with self.assertRaises(sqlite3.DatabaseError, msg=sql) as cm:
                    db.execute(sql)
                self.assertIn("append-only", str(cm.exception), sql)
            self.assertEqual(db.execute("SELECT * FROM events ORDER BY seq").fetchall(), before)
            # Appending still works.
            db.execute("INSERT INTO events (at, actor, entity, entity_id, type) "
                       "VALUES (1, 'admin', 'clinic', 'x', 'note')")
            self.assertEqual(len(db.execute("SELECT * FROM events").fetchall()), len(before) + 1)
        finally:
            db.close()

    # ------------------------------------------------------------------
    def test_double_booking_impossible_in_sql(self):
        s = self.server()
        doctor, patient = s.seed(timezone=TZ_NAME, slot_minutes=15)
        did, pid = doctor["id"], patient["id"]
        a_start = local(4, 10 * 60)
        r = s.post("/api/appointments", {"doctor_id": did, "patient_id": pid,
                                         "start": a_start.isoformat(), "duration_minutes": 30})
        self.assertEqual(r.status, 201, r)
        a_id = r.json["id"]
        s.stop()
        A0 = int(a_start.timestamp())
        A1 = A0 + 1800

        db = rw(self.data)
        now = int(time.time())

        def insert_appt(start, end, status="booked"):
            bid = str(uuid.uuid4())
            db.execute("INSERT INTO appointments (id, doctor_id, patient_id, start_utc, end_utc, status, "
                       "created_at, created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, "
                       "'admin', ?, 'admin')", (bid, did, pid, start, end, status, now, now))
            return bid

        def claim(bid, start, end):
            for u in range(start, end, 300):
                db.execute("INSERT INTO slot_claims (doctor_id, unit_start, appointment_id) "
                           "VALUES (?, ?, ?)", (did, u, bid))

        try:
            # Overlaps of every shape: inside, across the start, across the end, around.
            for b0, b1 in ((A0 + 600, A0 + 1200), (A0 - 900, A0 + 300), (A1 - 300, A1 + 900),
                           (A0 - 1800, A1 + 1800), (A0, A1)):
                db.execute("BEGIN")
                bid = insert_appt(b0, b1)
                with self.assertRaises(sqlite3.IntegrityError, msg=(b0, b1)):
                    claim(bid, b0, b1)
                db.execute("ROLLBACK")
            # Claims must belong to a live appointment and lie inside it.
            db.execute("BEGIN")
            bid = insert_appt(A1, A1 + 900)
            with self.assertRaises(sqlite3.DatabaseError):
                claim(bid, A0, A0 + 300)  # outside B (and taken)
            with self.assertRaises(sqlite3.DatabaseError):
                claim(bid, A1 + 900, A1 + 1200)  # free, but outside B
            db.execute("ROLLBACK")
            db.execute("BEGIN")
            cid = insert_appt(A1 + 3600, A1 + 4500, status="cancelled")
            with self.assertRaises(sqlite3.DatabaseError):
                claim(cid, A1 + 3600, A1 + 4500)
            db.execute("ROLLBACK")
            # A live appointment next to A is fine, but cannot then be moved onto A.
            db.execute("BEGIN")
            bid = insert_appt(A1, A1 + 900)
            claim(bid, A1, A1 + 900)
            db.execute("COMMIT")
            with self.assertRaises(sqlite3.DatabaseError):
                db.execute("UPDATE appointments SET start_utc = ?, end_utc = ? WHERE id = ?",
                           (A0 + 900, A1, bid))
            # Nor can a freed appointment come back to life on A's time with its claims.
            db.execute("UPDATE appointments SET status = 'cancelled' WHERE id = ?", (bid,))
            self.assertEqual(db.execute("SELECT count(*) FROM slot_claims WHERE appointment_id = ?",
                                        (bid,)).fetchone()[0], 0)
            db.execute("BEGIN")
            db.execute("UPDATE appointments SET start_utc = ?, end_utc = ?, status = 'booked' WHERE id = ?",
                       (A0, A1, bid))
            with self.assertRaises(sqlite3.IntegrityError):
                claim(bid, A0, A1)
            db.execute("ROLLBACK")

            claims = db.execute("SELECT unit_start, appointment_id FROM slot_claims WHERE doctor_id = ? "
                                "ORDER BY unit_start", (did,)).fetchall()
            self.assertEqual(claims, [(u, a_id) for u in range(A0, A1, 300)])
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.close()

        # The server agrees: A is the only live appointment at that time.
        s2 = self.server()
        lst = s2.get(f"/api/appointments?doctor_id={did}&status=booked")
        self.assertEqual(lst.status, 200, lst)
        self.assertEqual([a["id"] for a in lst.json["appointments"]], [a_id])
        s2.stop()


if __name__ == "__main__":
    unittest.main()
