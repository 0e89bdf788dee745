"""The audit trail (issue 10, item 7; docs/security.md, "Audit trail").

Changes and reads of patient data leave an entry naming who, from which
address, what, which record and the outcome; admins page through them with
GET /api/audit. `clinicbox audit verify` passes on the trail as written and
names the entry when someone with the database file (and the server
stopped) drops the append-only triggers and edits, deletes or reorders
entries; with the triggers in place UPDATE and DELETE fail. The hashes are
recomputed here from the encoding docs/security.md gives, so the documented
format is the one in use.

Times are relative to now (appointments tomorrow, clinic in UTC).
"""
import hashlib
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import unittest
from datetime import datetime, timedelta, timezone

from harness import BIN, Server, ServerTest, wait_until

# Who the test's requests act as: the admin API token the harness makes
# (tests/api/harness.py, admin_token: `token create --name tests`).
ACTOR = "token:tests"
GENESIS = "0" * 64


def all_entries(server, limit=1000):
    """Every entry, following `next` from the start."""
    out, after = [], 0
    while True:
        r = server.get(f"/api/audit?after={after}&limit={limit}")
        assert r.status == 200, r
        out += r.json["entries"]
        if r.json["next"] is None:
            return out
        after = r.json["next"]


def wait_entries(server, pred, timeout=10):
    """The entries once one satisfies pred (an entry is written just after
    its request's answer was sent)."""
    got = wait_until(lambda: [e for e in all_entries(server) if pred(e)], timeout=timeout)
    assert got, f"no such audit entry in {all_entries(server)}"
    return got


def verify(data, *extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICBOX_")}
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    return subprocess.run([BIN, "audit", "verify", "--data", data] + list(extra),
                          capture_output=True, text=True, env=env, timeout=60)


def entry_hash(seq, at, actor, address, action, target, outcome, detail, prev_hash):
    """SHA-256 over the encoding in docs/security.md."""
    b = b"clinicbox-audit-v1" + struct.pack(">qq", seq, at)
    for field in (actor, address, action, target, outcome, detail, prev_hash):
        raw = field.encode()
        b += struct.pack(">I", len(raw)) + raw
    return hashlib.sha256(b).hexdigest()


DROP_TRIGGERS = "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
PUT_TRIGGERS_BACK = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
"""


class AuditTest(ServerTest):
    def setUp(self):
        super().setUp()
        r = self.server.put("/api/clinic", {"name": "Praxis Audit", "timezone": "UTC"})
        self.assertEqual(r.status, 200, r)
        d = self.server.post("/api/doctors", {"name": "Dr. Audit", "slot_minutes": 15})
        self.did = d.json["id"]
        self.server.put(f"/api/doctors/{self.did}/schedule",
                        {"weekly": [{"weekday": w, "start": "08:00", "end": "18:00"} for w in range(1, 8)],
                         "exceptions": []})
        p = self.server.post("/api/patients", {"name": "Berta Audit", "phone": "+4915112345670"})
        self.pid = p.json["id"]
        self.tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d")

    def base_seq(self):
        """The last entry of the set-up's four changes (each is written just
        after its answer, so wait for all of them)."""
        setup = ("PUT /api/clinic", "POST /api/doctors", "PUT /api/doctors/{}/schedule",
                 "POST /api/patients")

        def setup_done():
            got = [e for e in all_entries(self.server) if e["action"] in setup]
            return got if len(got) == 4 else None
        got = wait_until(setup_done)
        self.assertTrue(got, all_entries(self.server))
        return max(e["seq"] for e in got)

    def test_changes_and_patient_reads_are_recorded(self):
        s = self.server
        base = self.base_seq()
        self.assertEqual(s.get(f"/api/patients/{self.pid}").status, 200)
        # a HEAD is served by the GET route, and recorded as what it was
        self.assertEqual(s.request("HEAD", f"/api/patients/{self.pid}").status, 200)
        missing = "0190d9a1-7c3e-7b2a-9c41-6a8f2e1d5b30"
        self.assertEqual(s.get(f"/api/patients/{missing}").status, 404)
        self.assertEqual(s.get("/api/patients?q=Berta").status, 200)
        query = f"doctor_id={self.did}&from={self.tomorrow}"
        listed = s.get(f"/api/appointments?{query}")
        self.assertEqual(listed.status, 200)
        # a poll answered 304 discloses nothing new: not recorded
        again = s.get(f"/api/appointments?{query}", headers={"If-None-Match": listed.headers["ETag"]})
        self.assertEqual(again.status, 304, again)
        a = s.post("/api/appointments", {"doctor_id": self.did, "patient_id": self.pid,
                                         "start": f"{self.tomorrow}T10:00:00Z"})
        self.assertEqual(a.status, 201, a)
        aid = a.json["id"]
        self.assertEqual(s.get(f"/api/appointments/{aid}").status, 200)
        r = s.post(f"/api/appointments/{aid}/cancel", {"reason": "called"})
        self.assertEqual(r.status, 200, r)
        # a refused change is recorded with its outcome
        r = s.put(f"/api/patients/{self.pid}", {"name": ""})
        self.assertEqual(r.status, 422, r)
        # reads that hold no patient data are not
        self.assertEqual(s.get("/api/doctors").status, 200)
        self.assertEqual(s.get("/api/clinic").status, 200)

        wait_entries(s, lambda e: e["action"] == "PUT /api/patients/{}")
        mine = [e for e in all_entries(s) if e["seq"] > base]
        got = [(e["action"], e["target"], e["outcome"]) for e in mine]
        # in order of the answers, except that two requests' entries may
        # commit in either order (each is written after its answer)
        self.assertCountEqual(got, [
            ("GET /api/patients/{}", f"patient:{self.pid}", "200"),
            ("HEAD /api/patients/{}", f"patient:{self.pid}", "200"),
            ("GET /api/patients/{}", f"patient:{missing}", "404"),
            ("GET /api/patients", "patients?q=Berta", "200"),
            ("GET /api/appointments", f"appointments?{query}", "200"),
            ("POST /api/appointments", f"appointment:{aid}", "201"),
            ("GET /api/appointments/{}", f"appointment:{aid}", "200"),
            ("POST /api/appointments/{}/cancel", f"appointment:{aid}", "200"),
            ("PUT /api/patients/{}", f"patient:{self.pid}", "422"),
        ])
        for e in mine:
            self.assertEqual(e["actor"], ACTOR, e)
            self.assertEqual(e["address"], "127.0.0.1", e)
            self.assertRegex(e["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")
        # the set-up's changes are there too, reads of doctors and the clinic are not
        actions = [e["action"] for e in all_entries(s)]
        for change in ("PUT /api/clinic", "POST /api/doctors", "PUT /api/doctors/{}/schedule",
                       "POST /api/patients"):
            self.assertIn(change, actions)
        self.assertNotIn("GET /api/doctors", actions)
        self.assertNotIn("GET /api/clinic", actions)
        self.assertNotIn("GET /api/audit", actions)

    def test_logins_and_refusals_are_recorded(self):
        s = self.server
        base = self.base_seq()
        wrong = "my wrong passphrase 8"
        _, pw = s.add_user("anna", "front_desk")
        r = s.post("/api/session", {"username": "anna", "password": wrong}, auth=False)
        self.assertEqual(r.status, 401, r)
        anna = s.login("anna", pw)
        self.assertEqual(anna.get(f"/api/patients/{self.pid}").status, 200)
        self.assertEqual(anna.get("/api/audit").status, 403)  # admins only
        self.assertEqual(anna.post("/api/doctors", {"name": "Dr. No"}).status, 403)  # a known caller's refusal
        self.assertEqual(anna.request("DELETE", "/api/session").status, 204)
        # Refused before anyone is known: not recorded (anyone could fill the
        # disk with them); a failed login is, but a password typed into the
        # name field never lands in the trail.
        self.assertEqual(s.get(f"/api/patients/{self.pid}", auth=False).status, 401)
        self.assertEqual(s.post("/api/patients", {"name": "Mallory"}, auth=False).status, 401)
        self.assertEqual(s.post("/api/patients", {"name": "Mallory"}, headers={"Host": "evil.example"}).status, 403)
        r = s.post("/api/session", {"username": wrong, "password": "x"}, auth=False)
        self.assertEqual(r.status, 401, r)

        wait_entries(s, lambda e: e["target"] == "user:(not a username)")
        got = [(e["actor"], e["action"], e["target"], e["outcome"])
               for e in all_entries(s) if e["seq"] > base]
        self.assertCountEqual(got, [
            ("anonymous", "login_failed", "user:anna", "401"),
            ("user:anna", "login", "user:anna", "201"),
            ("user:anna", "GET /api/patients/{}", f"patient:{self.pid}", "200"),
            ("user:anna", "POST /api/doctors", "doctors", "403"),
            ("user:anna", "logout", "user:anna", "204"),
            ("anonymous", "login_failed", "user:(not a username)", "401"),
        ])
        text = s.get("/api/audit").raw
        self.assertNotIn(pw, text)
        self.assertNotIn(wrong, text)
        self.assertNotIn(anna.cookie.split("=", 1)[1], text)
        self.assertNotIn(anna.csrf, text)

    def test_paging(self):
        for i in range(5):
            self.assertEqual(self.server.get(f"/api/patients/{self.pid}").status, 200)
        self.assertTrue(wait_until(lambda: len([e for e in all_entries(self.server)
                                                if e["action"] == "GET /api/patients/{}"]) == 5))
        whole = all_entries(self.server)
        self.assertGreaterEqual(len(whole), 9)
        self.assertEqual([e["seq"] for e in whole], list(range(1, len(whole) + 1)))

        pages, after = [], 0
        while True:
            r = self.server.get(f"/api/audit?after={after}&limit=2")
            self.assertEqual(r.status, 200, r)
            self.assertLessEqual(len(r.json["entries"]), 2)
            pages.append(r.json["entries"])
            self.assertEqual(r.json["latest"]["seq"], whole[-1]["seq"])
            self.assertEqual(r.json["latest"]["hash"], whole[-1]["hash"])
            if r.json["next"] is None:
                break
            self.assertEqual(r.json["next"], r.json["entries"][-1]["seq"])
            after = r.json["next"]
        self.assertEqual([e for p in pages for e in p], whole)
        self.assertEqual(len(pages), (len(whole) + 1) // 2)
        # each entry carries the previous one's hash
        for prev, e in zip([None] + whole, whole):
            self.assertEqual(e["prev_hash"], prev["hash"] if prev else GENESIS)
        r = self.server.get(f"/api/audit?after={whole[-1]['seq']}")
        self.assertEqual(r.json["entries"], [])
        self.assertIsNone(r.json["next"])

        self.assertProblem(self.server.get("/api/audit?after=-1"), 422, "after")
        self.assertProblem(self.server.get("/api/audit?limit=0"), 422, "limit")
        self.assertProblem(self.server.get("/api/audit?limit=1001"), 422, "limit")
        self.assertProblem(self.server.get("/api/audit?after=x"), 400, "after")

    def test_hashes_follow_the_documented_encoding(self):
        wait_entries(self.server, lambda e: e["action"] == "POST /api/patients")
        with self.server.db() as db:
            rows = db.execute("SELECT seq, at, actor, address, action, target, outcome, detail, "
                              "prev_hash, hash FROM audit_log ORDER BY seq").fetchall()
        self.assertGreaterEqual(len(rows), 4)
        prev = GENESIS
        for row in rows:
            self.assertEqual(row[8], prev, row)
            self.assertEqual(entry_hash(*row[:9]), row[9], row)
            prev = row[9]


class VerifyTest(unittest.TestCase):
    """`clinicbox audit verify` on a data directory with the server stopped."""

    @classmethod
    def setUpClass(cls):
        server = Server()
        cls.data = server.data
        try:
            server.start()
            server.put("/api/clinic", {"name": "Praxis Verify", "timezone": "UTC"})
            p = server.post("/api/patients", {"name": "Carla Verify"}).json
            for _ in range(6):
                server.get(f"/api/patients/{p['id']}")
            wait_until(lambda: len(all_entries(server)) >= 8)
            cls.count = len(all_entries(server))
            server.stop()
        except BaseException:
            server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.data, ignore_errors=True)

    def copy(self):
        """A copy of the data directory to tamper with."""
        d = tempfile.mkdtemp(prefix="clinicbox-audit-")
        self.addCleanup(shutil.rmtree, d, True)
        for name in os.listdir(self.data):
            if name.startswith("clinicbox.db"):
                shutil.copy(os.path.join(self.data, name), d)
        return d

    def tamper(self, data, sql, keep_triggers_off=False):
        db = sqlite3.connect(os.path.join(data, "clinicbox.db"))
        try:
            db.executescript(DROP_TRIGGERS + sql + ("" if keep_triggers_off else PUT_TRIGGERS_BACK))
        finally:
            db.close()

    def assertBroken(self, p, seq, why):
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(f"audit trail broken at entry {seq}: ", p.stdout)
        self.assertIn(why, p.stdout)

    def test_intact_chain_passes_and_prints_its_head(self):
        p = verify(self.copy())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"{self.count} entries, chain intact", p.stdout)
        m = re.search(r"head: seq (\d+) hash ([0-9a-f]{64})", p.stdout)
        self.assertTrue(m, p.stdout)
        self.assertEqual(int(m.group(1)), self.count)
        p = verify(self.copy(), "--expect", f"{m.group(1)}:{m.group(2)}")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = verify(self.copy(), "--expect", f"{m.group(1)}:{'0' * 64}")
        self.assertBroken(p, self.count, "not the one expected")

    def test_triggers_refuse_update_and_delete(self):
        data = self.copy()
        db = sqlite3.connect(os.path.join(data, "clinicbox.db"))
        try:
            with self.assertRaisesRegex(sqlite3.DatabaseError, "append-only"):
                db.execute("UPDATE audit_log SET detail = 'x' WHERE seq = 2")
            with self.assertRaisesRegex(sqlite3.DatabaseError, "append-only"):
                db.execute("DELETE FROM audit_log WHERE seq = 2")
            db.commit()
        finally:
            db.close()
        self.assertEqual(verify(data).returncode, 0)

    def test_edited_entry(self):
        data = self.copy()
        self.tamper(data, "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 4;")
        self.assertBroken(verify(data), 4, "edited")

    def test_deleted_entry(self):
        data = self.copy()
        self.tamper(data, "DELETE FROM audit_log WHERE seq = 5;")
        self.assertBroken(verify(data), 6, "entry 5 is missing")

    def test_reordered_entries(self):
        data = self.copy()
        # swap everything but seq between entries 3 and 6
        self.tamper(data, """
            CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (3, 6);
            UPDATE audit_log SET (at, actor, address, action, target, outcome, detail, prev_hash, hash) =
                (SELECT at, actor, address, action, target, outcome, detail, prev_hash, hash
                 FROM t WHERE t.seq = 9 - audit_log.seq)
            WHERE seq IN (3, 6);""")
        self.assertBroken(verify(data), 3, "does not follow entry 2")

    def test_dropped_triggers(self):
        data = self.copy()
        self.tamper(data, "", keep_triggers_off=True)
        p = verify(data)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("triggers that refuse UPDATE and DELETE", p.stdout)

    def test_cut_off_newest_entry_needs_the_noted_head(self):
        """Deleting the newest entries leaves a valid chain; only a head
        noted elsewhere shows it (docs/security.md)."""
        head = re.search(r"head: seq (\d+) hash ([0-9a-f]{64})", verify(self.copy()).stdout)
        data = self.copy()
        self.tamper(data, f"DELETE FROM audit_log WHERE seq = {self.count};")
        self.assertEqual(verify(data).returncode, 0)
        self.assertBroken(verify(data, "--expect", f"{head.group(1)}:{head.group(2)}"),
                          self.count, "missing")

    def test_no_database(self):
        d = tempfile.mkdtemp(prefix="clinicbox-audit-")
        self.addCleanup(shutil.rmtree, d, True)
        p = verify(d)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("no database", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "clinicbox.db")))


if __name__ == "__main__":
    unittest.main()
