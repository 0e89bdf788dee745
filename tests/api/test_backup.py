"""Backups, restores and the data directory's lock (docs/backup.md), with the
real binary, a real SMTP server (aiosmtpd) and jongodb:

- `clinicbox backup` while a booking load runs: the copy passes
  integrity_check, is one self-contained file, and holds every booking
  acknowledged before the backup started;
- a restore round trip that sends nothing twice: messages waiting in the
  backup, which the old box sent after it was taken, are held, not sent
  again; the restore is refused while a server runs (naming it) and for a
  damaged or foreign file, leaving the data directory as it was;
- after a restore, what the old box pushed to central after the backup
  comes back to the box (a new sync id), and nothing is lost on central;
- one data directory, one server: a second `serve` and a `migrate` are
  refused naming the running one; after kill -9 the lock is gone with it.
"""
import collections
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

from central import Central
from harness import BIN, Server, notifications, outbox_env, wait_until
from peers import MailSink

NOW = "2026-11-30 07:00:00"  # Mon 08:00 in Berlin; the seed's hours are 08:00-18:00 every day


def starts(days, first_day=1):
    """Quarter-hour starts, 08:00-17:45 Berlin, on days 1..n after Monday 30 Nov."""
    out = []
    for d in range(first_day, first_day + days):
        day = f"2026-12-{d:02d}"
        for h in range(8, 18):
            for m in (0, 15, 30, 45):
                out.append(f"{day}T{h:02d}:{m:02d}:00+01:00")
    return out


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def delivered(sink):
    """Notification id -> copies the mail server received (Message-ID holds it)."""
    c = collections.Counter()
    for m in sink.messages:
        c[str(m["message"]["Message-ID"]).strip("<>").split("@")[0]] += 1
    return c


class BackupTest(unittest.TestCase):
    def start(self, data=None, **kw):
        s = Server(data=data, faketime=NOW, **kw)
        self.addCleanup(s.cleanup)
        return s.start()

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="clinicbox-backup-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def book(self, s, doctor, patient, start):
        r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                         "start": start})
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def test_backup_during_a_booking_load_holds_every_acknowledged_booking(self):
        s = self.start()
        doctor, patient = s.seed()
        lock = threading.Lock()
        acked = []          # (id, monotonic time of the 201)
        errors = []
        stop = threading.Event()
        queue = collections.deque(starts(14))

        def load():
            conn = s.connection()
            self.addCleanup(conn.close)
            while not stop.is_set():
                with lock:
                    if not queue:
                        return
                    start = queue.popleft()
                try:
                    r = s.post("/api/appointments", {"doctor_id": doctor["id"],
                                                     "patient_id": patient["id"], "start": start},
                               conn=conn)
                except Exception as e:  # asserted below
                    errors.append(repr(e))
                    return
                if r.status != 201:
                    errors.append(str(r))
                    return
                with lock:
                    acked.append((r.json["id"], time.monotonic()))

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            self.assertTrue(wait_until(lambda: len(acked) >= 40, timeout=60), errors)
            folder = self.tmpdir()
            began = time.monotonic()
            r = s.cli("backup", "--to", folder)
            ended = time.monotonic()
            during = sum(1 for _, t in acked if began <= t <= ended)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        files = os.listdir(folder)
        self.assertEqual(len(files), 1, files)      # one self-contained file, nothing beside it
        self.assertRegex(files[0], r"^clinicbox-\d{8}T\d{6}Z\.db$")
        path = os.path.join(folder, files[0])
        self.assertIn(f"written to {path}", r.stdout)
        self.assertIn("integrity_check ok", r.stdout)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)   # patients' data
        copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.addCleanup(copy.close)
        self.assertEqual(copy.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        self.assertEqual(copy.execute("PRAGMA journal_mode").fetchone()[0], "delete")
        held = {row[0] for row in copy.execute("SELECT id FROM appointments WHERE status = 'booked'")}
        before = [i for i, t in acked if t < began]
        self.assertGreaterEqual(len(before), 40)
        self.assertEqual([i for i in before if i not in held], [])
        # what it says it holds is what it holds
        m = re.search(r"(\d+) appointment\(s\)", r.stdout)
        self.assertTrue(m, r.stdout)
        self.assertEqual(int(m.group(1)), copy.execute("SELECT count(*) FROM appointments").fetchone()[0])
        # the load went on while the copy was made (reported, not asserted:
        # a copy this small can be quicker than one booking)
        print(f"\n  backup: {len(before)} bookings before it, {during} during it, "
              f"{ended - began:.2f} s", flush=True)
        s.stop()

    def test_restore_round_trip_sends_nothing_twice(self):
        sink = MailSink()                # not started: the mail server is down
        self.addCleanup(sink.stop)
        s = self.start(env=outbox_env(sink))
        doctor, patient = s.seed(patient={"name": "Anna Müller", "email": "anna@example.org"})
        first = [self.book(s, doctor, patient, t) for t in starts(1)[:2]]
        def emails(server):
            return [n for n in notifications(server) if n["channel"] == "email"]
        # both waiting, at least one tried and failed (the outbox defers
        # the rest after a refused connection, without an error of their own)
        self.assertTrue(wait_until(lambda: len(emails(s)) == 2 and
                                   all(n["status"] in ("queued", "failed") for n in emails(s)) and
                                   any(n["last_error"] for n in emails(s)),
                                   timeout=60), notifications(s))
        waiting = {n["id"] for n in emails(s)}   # a confirmation each, failing
        backup = os.path.join(self.tmpdir(), "before.db")
        r = s.cli("backup", "--to", backup)
        self.assertIn("2 message(s) waiting to go out", r.stdout)

        # the mail server comes back: the running box sends both, once
        sink.start()
        self.assertTrue(wait_until(lambda: set(delivered(sink)) >= waiting, timeout=60),
                        (delivered(sink), notifications(s)))

        # restore is refused while the server runs, naming it
        r = s.cli("restore", "--from", backup, check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(f"pid {s.proc.pid}, clinicbox serve", r.stderr)
        self.assertIn("unchanged", r.stderr)
        s.stop()

        r = s.cli("restore", "--from", backup)
        self.assertIn("integrity_check ok", r.stdout)
        self.assertIn("2 message(s) that were waiting are held", r.stdout)
        kept = re.search(r"kept as (\S+)", r.stdout).group(1)
        self.assertTrue(os.path.exists(kept), r.stdout)   # the replaced database is not lost
        self.assertEqual(s.cli("audit", "verify").returncode, 0)

        s2 = self.start(data=s.data, env=outbox_env(sink))
        later = self.book(s2, doctor, patient, starts(1)[10])
        self.assertTrue(wait_until(lambda: any(n["appointment_id"] == later and n["status"] == "sent"
                                               for n in notifications(s2)), timeout=60),
                        notifications(s2))
        counts = delivered(sink)
        self.assertEqual({i: counts[i] for i in waiting}, {i: 1 for i in waiting})
        held = [n for n in notifications(s2) if n["id"] in waiting]
        self.assertEqual({n["status"] for n in held}, {"dead"}, held)
        self.assertTrue(all("restore" in (n["last_error"] or "") for n in held), held)
        for a in first:   # the bookings of the backup are there
            self.assertEqual(s2.get(f"/api/appointments/{a}").status, 200)
        s2.stop()

    def test_no_show_offers_due_before_the_restore_are_held(self):
        """A no-show that came due between the backup and the restore may
        have had its offer sent by the old box: the restored box marks it,
        but holds the offer's message; one due after the restore goes out."""
        s = self.start()
        doctor, patient = s.seed(patient={"name": "Anna Müller", "email": "anna@example.org"})
        early = self.book(s, doctor, patient, "2026-11-30T08:15:00+01:00")   # no-show at 07:30 UTC
        late = self.book(s, doctor, patient, "2026-11-30T09:15:00+01:00")    # no-show at 08:30 UTC
        backup = os.path.join(self.tmpdir(), "b.db")
        s.cli("backup", "--to", backup)
        s.stop()
        env = dict(s.last_env, FAKETIME="@2026-11-30 08:00:00")   # restored at 08:00 UTC
        s.cli("restore", "--from", backup, env=env)
        s2 = Server(data=s.data, faketime="2026-11-30 08:31:00")
        self.addCleanup(s2.cleanup)
        s2.start()
        offers = lambda: [n for n in notifications(s2) if n["purpose"] == "no_show_offer" and n["channel"] == "email"]
        self.assertTrue(wait_until(lambda: len(offers()) == 2, timeout=60), notifications(s2))
        by_appt = {n["appointment_id"]: n for n in offers()}
        self.assertEqual(by_appt[early]["status"], "dead", by_appt[early])
        self.assertIn("restore", by_appt[early]["last_error"])
        self.assertEqual(by_appt[late]["status"], "queued", by_appt[late])
        for a in (early, late):
            self.assertEqual(s2.get(f"/api/appointments/{a}").json["status"], "no_show")
        s2.stop()

    def test_restore_refuses_a_damaged_or_foreign_file_and_changes_nothing(self):
        s = self.start()
        doctor, patient = s.seed()
        for t in starts(2)[:30]:
            self.book(s, doctor, patient, t)
        folder = self.tmpdir()
        good = os.path.join(folder, "good.db")
        s.cli("backup", "--to", good)
        s.stop()
        before = file_digest(os.path.join(s.data, "clinicbox.db"))
        listing = sorted(os.listdir(s.data))

        damaged = os.path.join(folder, "damaged.db")
        with open(good, "rb") as f:
            data = bytearray(f.read())
        page = 4096
        self.assertGreater(len(data), 8 * page)
        for p in range(2, len(data) // page):   # garbage over each b-tree page's header
            data[p * page:p * page + 12] = b"\x5a" * 12
        with open(damaged, "wb") as f:
            f.write(data)
        truncated = os.path.join(folder, "truncated.db")
        with open(truncated, "wb") as f:
            f.write(data[:len(data) // 2])
        foreign = os.path.join(folder, "foreign.db")
        db = sqlite3.connect(foreign)
        db.execute("CREATE TABLE t (x)")
        db.commit()
        db.close()
        for path, says in ((damaged, "damaged"), (truncated, "damaged"),
                           (foreign, "not a clinicbox database"),
                           (os.path.join(folder, "missing.db"), "cannot read")):
            with self.subTest(path=os.path.basename(path)):
                r = s.cli("restore", "--from", path, check=False)
                self.assertEqual(r.returncode, 1, r)
                self.assertIn(says, r.stderr)
                self.assertIn("unchanged", r.stderr)
                self.assertEqual(file_digest(os.path.join(s.data, "clinicbox.db")), before)
                self.assertEqual(sorted(os.listdir(s.data)), listing)

    def test_one_data_directory_one_server(self):
        s = self.start()
        other = Server(data=s.data, faketime=NOW)
        self.addCleanup(other.cleanup)
        p = subprocess.run(other.command(), capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(f"in use by pid {s.proc.pid}, clinicbox serve", p.stderr)
        self.assertIn(f"on 127.0.0.1:{s.port}", p.stderr)
        r = s.cli("migrate", check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(f"pid {s.proc.pid}", r.stderr)
        # a backup needs no lock: it works beside the server
        s.cli("backup", "--to", self.tmpdir())
        # the lock goes with the process, also after kill -9
        s.kill9()
        s2 = self.start(data=s.data)
        self.assertEqual(s2.get("/api/health").status, 200)
        s2.stop()


class NightlyTest(unittest.TestCase):
    """The nightly backup into backup_dir, keeping the newest backup_keep."""

    def metric(self, s, name):
        m = re.search(rf"^{re.escape(name)} (\d+)$", s.get("/metrics").raw, re.M)
        self.assertTrue(m, name)
        return int(m.group(1))

    def test_due_backup_is_made_and_the_oldest_pruned(self):
        folder = tempfile.mkdtemp(prefix="clinicbox-usb-")
        self.addCleanup(shutil.rmtree, folder, True)
        old = [f"clinicbox-202611{d:02d}T010000Z.db" for d in range(20, 25)]
        others = ["notes.txt", "clinicbox-by-hand.db"]
        for name in old + others:
            with open(os.path.join(folder, name), "w") as f:
                f.write("not ours to delete" if name in others else "an old backup")
        # 08:00 in Berlin, past backup_hour 2: due at once (none today yet)
        s = Server(faketime=NOW, args=["--set", f"backup_dir={folder}", "--set", "backup_keep=3"])
        self.addCleanup(s.cleanup)
        s.start()
        s.seed()
        health = wait_until(lambda: (lambda b: b if b["state"] == "ok" and b["last_ok_at"].startswith("2026-11-30")
                                     else None)(s.get("/api/health").json["backup"]), timeout=60)
        self.assertTrue(health, s.get("/api/health").json)
        names = sorted(os.listdir(folder))
        made = [n for n in names if n.startswith("clinicbox-20261130T")]
        self.assertEqual(len(made), 1, names)
        # the newest three of ours, and what is not ours untouched
        self.assertEqual(names, sorted(old[-2:] + made + others))
        copy = sqlite3.connect(f"file:{os.path.join(folder, made[0])}?mode=ro", uri=True)
        self.addCleanup(copy.close)
        self.assertEqual(copy.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        self.assertEqual(self.metric(s, "clinicbox_backup_enabled"), 1)
        self.assertEqual(self.metric(s, 'clinicbox_backups_total{result="ok"}'), 1)
        self.assertEqual(self.metric(s, "clinicbox_backup_failing"), 0)
        self.assertGreater(self.metric(s, "clinicbox_backup_last_success_timestamp_seconds"), 0)
        self.assertIn("nightly backup written to", s.read_log())
        s.stop()

    def test_a_missing_folder_shows_as_failing(self):
        folder = os.path.join(tempfile.mkdtemp(prefix="clinicbox-usb-"), "unplugged")
        self.addCleanup(shutil.rmtree, os.path.dirname(folder), True)
        s = Server(faketime=NOW, args=["--set", f"backup_dir={folder}"])
        self.addCleanup(s.cleanup)
        s.start()
        b = wait_until(lambda: (lambda b: b if b["state"] == "failing" else None)(
            s.get("/api/health").json["backup"]), timeout=60)
        self.assertTrue(b, s.get("/api/health").json)
        self.assertNotIn("last_ok_at", b)
        self.assertNotIn(folder, json.dumps(s.get("/api/health").json))   # no paths in health
        self.assertEqual(self.metric(s, "clinicbox_backup_failing"), 1)
        self.assertEqual(self.metric(s, 'clinicbox_backups_total{result="failed"}'), 1)
        self.assertIn("is the stick plugged in?", s.read_log())
        s.stop()
        off = Server(data=s.data, faketime=NOW)   # no backup_dir
        self.addCleanup(off.cleanup)
        self.assertEqual(off.start().get("/api/health").json["backup"], {"state": "off"})
        self.assertEqual(self.metric(off, "clinicbox_backup_enabled"), 0)
        off.stop()


class RestoreSyncTest(unittest.TestCase):
    """After a restore the box takes a new sync id: what the old box pushed
    after the backup is another writer's change to it, taken in, not
    overwritten by the older copy."""

    def test_changes_after_the_backup_come_back_from_central(self):
        central = Central().start()
        self.addCleanup(central.stop)
        env = {"CLINICBOX_MONGO_URI": central.uri + "?serverSelectionTimeoutMS=1000",
               "CLINICBOX_SYNC_INTERVAL_SECONDS": "1"}
        s = Server(faketime=NOW, env=env)
        self.addCleanup(s.cleanup)
        s.start()
        doctor, patient = s.seed()

        def book(server, start):
            r = server.post("/api/appointments", {"doctor_id": doctor["id"],
                                                  "patient_id": patient["id"], "start": start})
            self.assertEqual(r.status, 201, r)
            return r.json["id"]

        def synced(server):
            return wait_until(lambda: (lambda j: j["state"] == "ok" and j["pending_changes"] == 0)(
                server.get("/api/sync/status").json), timeout=30)

        a = book(s, starts(1)[0])
        self.assertTrue(synced(s))
        backup = os.path.join(tempfile.mkdtemp(prefix="clinicbox-backup-"), "b.db")
        self.addCleanup(shutil.rmtree, os.path.dirname(backup), True)
        s.cli("backup", "--to", backup)
        b = book(s, starts(1)[1])          # after the backup: only central keeps it
        self.assertTrue(wait_until(lambda: central.db.appointments.find_one({"_id": b}), timeout=30))
        self.assertTrue(synced(s))
        old_box = s.db().execute("SELECT value FROM meta WHERE key = 'box_id'").fetchone()[0]
        s.stop()

        s.cli("restore", "--from", backup)
        s2 = Server(data=s.data, faketime=NOW, env=env)
        self.addCleanup(s2.cleanup)
        s2.start()
        got = wait_until(lambda: s2.get(f"/api/appointments/{b}").status == 200, timeout=60)
        self.assertTrue(got, (s2.get("/api/sync/status").json, s2.read_log()[-3000:]))
        self.assertEqual(s2.get(f"/api/appointments/{b}").json["status"], "booked")
        self.assertEqual(s2.get(f"/api/appointments/{a}").json["status"], "booked")
        self.assertTrue(synced(s2))
        new_box = s2.db().execute("SELECT value FROM meta WHERE key = 'box_id'").fetchone()[0]
        self.assertNotEqual(new_box, old_box)
        # central lost nothing and holds each booking once, as booked
        docs = list(central.db.appointments.find({"_id": {"$in": [a, b]}}))
        self.assertEqual(sorted(d["status"] for d in docs), ["booked", "booked"])
        s2.stop()


if __name__ == "__main__":
    unittest.main()
