"""Logs on stderr: one line per event that a person can read (UTC time,
level, component), and under systemd (JOURNAL_STREAM set) with the syslog
priority prefix journald understands instead of a time stamp."""
import os
import re
import unittest

from harness import Server


class LoggingTest(unittest.TestCase):
    def run_server(self, env):
        s = Server(env=env, args=["--set", "log_level=debug"])
        self.addCleanup(s.cleanup)
        s.start()
        s.get("/api/health")
        s.stop()
        return s.read_log().splitlines()

    def test_plain_lines_for_people(self):
        lines = self.run_server({})
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (ERROR|WARN |INFO |DEBUG) [a-z]+: ")
        self.assertTrue(any(re.search(r"INFO  main: clinicbox .* serving on http://127\.0\.0\.1:", l)
                            for l in lines))
        self.assertTrue(any("DEBUG http: GET /api/health -> 200" in l for l in lines), lines)

    def test_a_crash_leaves_no_shared_memory_behind(self):
        # libmongoc printed "2026/12/06 22:16:54.0564: [18604]:  WARNING: mongoc:
        # Falling back to malloc for counters." in its own format, before
        # main(), when a process killed earlier with the same pid had left
        # its /dev/shm/mongoc-PID: the box must leave none behind
        s = Server(env={"CLINICBOX_MONGO_URI": "mongodb://127.0.0.1:1/central"
                                               "?serverSelectionTimeoutMS=200"})
        self.addCleanup(s.cleanup)
        s.start()
        shm = f"/dev/shm/mongoc-{s.proc.pid}"
        self.addCleanup(lambda: os.path.exists(shm) and os.unlink(shm))
        s.get("/api/health")
        s.kill9()
        self.assertFalse(os.path.exists(shm), "kill -9 left " + shm)

    def test_journald_priorities(self):
        lines = self.run_server({"JOURNAL_STREAM": "8:12345"})
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[3467]>[a-z]+: ")
        self.assertTrue(any(l.startswith("<6>main: received signal 15") for l in lines), lines)
        self.assertTrue(any(l.startswith("<7>http: GET /api/health") for l in lines), lines)


if __name__ == "__main__":
    unittest.main()
