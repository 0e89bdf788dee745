"""Logs on stderr: one line per event that a person can read (UTC time,
level, component), and under systemd (JOURNAL_STREAM set) with the syslog
priority prefix journald understands instead of a time stamp."""
import os
import re
import subprocess
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

    def test_counter_files_of_dead_processes_are_swept_at_start(self):
        # CI (2026-12-07) found "2026/12/07 17:38:45.0073: [ 9400]:  WARNING:
        # mongoc: Falling back to malloc for counters." among the box's lines:
        # a process killed before its main() (or a fuzz target, which ends
        # with _Exit) had left /dev/shm/mongoc-9400, and the box that later
        # got pid 9400 found it. libmongoc warns before main(), where the box
        # cannot catch it, so such files must not stay: every start removes
        # the ones of this user's processes that are gone, and no other.
        dead = subprocess.Popen(["true"])
        dead.wait()
        stale = f"/dev/shm/mongoc-{dead.pid}"
        alive = f"/dev/shm/mongoc-{os.getpid()}"   # this test runner: alive
        for path in (stale, alive):
            if os.path.exists(path):
                continue
            with open(path, "wb") as f:
                f.write(b"\0" * 64)
            self.addCleanup(lambda p=path: os.path.exists(p) and os.unlink(p))
        self.assertTrue(os.path.exists(stale))
        s = Server()
        self.addCleanup(s.cleanup)
        s.start()
        self.assertFalse(os.path.exists(stale), "a dead process's counter file stayed")
        self.assertTrue(os.path.exists(alive), "a live process's counter file was removed")

    def test_journald_priorities(self):
        lines = self.run_server({"JOURNAL_STREAM": "8:12345"})
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[3467]>[a-z]+: ")
        self.assertTrue(any(l.startswith("<6>main: received signal 15") for l in lines), lines)
        self.assertTrue(any(l.startswith("<7>http: GET /api/health") for l in lines), lines)


if __name__ == "__main__":
    unittest.main()
