"""Storage failure: a full disk. The data directory lives on a small tmpfs;
bookings go on until the disk is full. Then the server answers 503
problem+json (never another 5xx, never a crash), no booking it did not
acknowledge appears, every one it acknowledged survives, and once space is
freed it books again. Needs root to mount the tmpfs; skipped otherwise."""
import os
import subprocess
import tempfile
import unittest

from harness import Server

ALL_DAY = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]


class StorageFullTest(unittest.TestCase):
    def setUp(self):
        self.mnt = tempfile.mkdtemp(prefix="clinicbox-full-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", self.mnt],
                           capture_output=True)
        if r.returncode != 0:
            os.rmdir(self.mnt)
            self.skipTest("cannot mount a tmpfs here (needs root): " + r.stderr.decode().strip())
        self.addCleanup(lambda: (subprocess.run(["umount", "-l", self.mnt]), os.rmdir(self.mnt)))

    def test_full_disk_answers_503_and_loses_nothing(self):
        data = os.path.join(self.mnt, "data")
        s = Server(data=data, faketime="2026-12-01 08:00:00")
        s.log_path = os.path.join(tempfile.gettempdir(), f"clinicbox-full-{s.port}.log")
        self.addCleanup(s.cleanup)
        self.addCleanup(lambda: os.path.exists(s.log_path) and os.unlink(s.log_path))
        s.start()
        d, p = s.seed(timezone="UTC", slot_minutes=5, weekly=ALL_DAY)
        # Leave little room: fill the disk but for ~2 MiB.
        st = os.statvfs(self.mnt)
        filler = os.path.join(self.mnt, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 2 * 1024 * 1024))
        acked, statuses = [], {}
        conn = s.connection()
        for i in range(20000):
            start = f"2026-12-{2 + i // 288:02d}T{(i % 288) * 5 // 60:02d}:{(i % 288) * 5 % 60:02d}:00Z"
            r = s.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"],
                                             "start": start, "reason": "x" * 400}, conn=conn)
            statuses[r.status] = statuses.get(r.status, 0) + 1
            self.assertIn(r.status, (201, 503), r)
            if r.status == 201:
                acked.append(r.json["id"])
            else:
                self.assertEqual(r.headers["Content-Type"], "application/problem+json")
                self.assertIn("storage", r.json["detail"])
                if statuses[503] >= 5:
                    break
        conn.close()
        self.assertGreater(len(acked), 10, statuses)
        self.assertGreaterEqual(statuses.get(503, 0), 5, statuses)
        # Space again: the box books again without a restart.
        os.unlink(filler)
        r = s.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"],
                                         "start": "2026-12-31T12:00:00Z"})
        self.assertEqual(r.status, 201, r)
        acked.append(r.json["id"])
        s.stop()
        s2 = Server(data=data, faketime="2026-12-01 08:05:00")
        s2.log_path = s.log_path
        self.addCleanup(s2.cleanup)
        s2.start()
        listed = s2.get(f"/api/appointments?doctor_id={d['id']}&limit=5000").json["appointments"]
        self.assertEqual(sorted(a["id"] for a in listed), sorted(acked))
        with s2.db() as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        s2.stop()


if __name__ == "__main__":
    unittest.main()
