"""The box as a systemd service (docs/packaging.md), with the real binary:

- Type=notify: READY=1 once it serves, STOPPING=1 on SIGTERM, sent to the
  datagram socket in $NOTIFY_SOCKET (here one the test reads, as systemd's
  would be);
- the watchdog: WATCHDOG=1 at half of $WATCHDOG_USEC only while the HTTP
  loop answers and the database takes a write. With the database locked
  by another process the pings stop (systemd would restart the box), and
  they come back when it is free;
- a graceful stop on SIGTERM within STOP_LIMIT even while a sync push hangs
  on a central server that stopped answering, and during a booking load:
  nothing acknowledged is lost.
"""
import os
import select
import signal
import socket
import sqlite3
import tempfile
import threading
import time
import unittest

from central import Central
from harness import Server, wait_until
from test_sync_converge import CutProxy

NOW = "2026-11-30 07:00:00"   # Mon 08:00 in Berlin; the seed's hours are 08:00-18:00
STOP_LIMIT = 10.0             # seconds from SIGTERM to exit (docs/packaging.md)


def start_at(i):
    """The i-th quarter hour, 08:00-17:45 Berlin, from Tuesday 1 December on."""
    day, q = divmod(i, 40)
    return f"2026-12-{1 + day:02d}T{8 + q // 4:02d}:{15 * (q % 4):02d}:00+01:00"


class NotifySocket:
    """What systemd listens on: a datagram socket; messages() drains it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="clinicbox-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def messages(self, wait=0.0):
        out = []
        deadline = time.monotonic() + wait
        while True:
            r, _, _ = select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                return out
            out.append(self.sock.recv(4096).decode())
            deadline = time.monotonic()   # then only what is already there

    def wait_for(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            got = self.messages(wait=0.2)
            seen += got
            if any(text in m for m in got):
                return seen
        raise AssertionError(f"{text!r} never came: {seen}")

    def close(self):
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


class ServiceTest(unittest.TestCase):
    def notify(self):
        n = NotifySocket()
        self.addCleanup(n.close)
        return n

    def test_ready_and_a_watchdog_fed_only_while_the_database_takes_writes(self):
        n = self.notify()
        s = Server(faketime=NOW, env={"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "2000000"})
        self.addCleanup(s.cleanup)
        s.start()
        seen = n.wait_for("READY=1")
        ready = next(m for m in seen if "READY=1" in m)
        self.assertIn(f"STATUS=serving on http://127.0.0.1:{s.port}", ready)
        n.wait_for("WATCHDOG=1", timeout=10)
        self.assertIn("systemd's watchdog every 1000 ms", s.read_log())

        # Another process takes the database's write lock: the writer cannot
        # commit, the check fails, the pings stop.
        other = sqlite3.connect(os.path.join(s.data, "clinicbox.db"), timeout=30,
                                isolation_level=None)
        self.addCleanup(other.close)
        other.execute("BEGIN IMMEDIATE")
        failure = "the database does not take a write: not pinging"
        self.assertTrue(wait_until(lambda: failure in s.read_log(), timeout=30), s.read_log()[-2000:])
        n.messages()   # what came before the failure
        # checks go on failing (a second failed check), and none pings
        self.assertTrue(wait_until(lambda: s.read_log().count(failure) >= 2, timeout=30))
        self.assertEqual([m for m in n.messages() if "WATCHDOG=1" in m], [])
        # the box itself answers its health probe meanwhile: only the write hangs
        self.assertEqual(s.get("/api/health").status, 200)
        other.execute("ROLLBACK")
        n.wait_for("WATCHDOG=1", timeout=30)
        self.assertTrue(wait_until(lambda: "checks pass again" in s.read_log(), timeout=10))

        s.proc.send_signal(signal.SIGTERM)
        n.wait_for("STOPPING=1", timeout=STOP_LIMIT)
        self.assertEqual(s.proc.wait(timeout=STOP_LIMIT), 0)

    def test_no_watchdog_without_an_interval(self):
        n = self.notify()
        s = Server(faketime=NOW, env={"NOTIFY_SOCKET": n.path})
        self.addCleanup(s.cleanup)
        s.start()
        n.wait_for("READY=1")
        self.assertNotIn("watchdog", s.read_log())
        s.stop()

    def stop_timed(self, s):
        """SIGTERM; the seconds until the process ended (exit 0 asserted)."""
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        rc = s.proc.wait(timeout=60)
        took = time.monotonic() - t0
        s.log.close()
        s.proc = None
        self.assertEqual(rc, 0)
        return took

    def test_sigterm_during_a_booking_load_loses_nothing(self):
        s = Server(faketime=NOW)
        self.addCleanup(s.cleanup)
        s.start()
        doctor, patient = s.seed()
        acked, lock, stop = [], threading.Lock(), threading.Event()
        nxt = iter(range(10 ** 6))

        def load():
            conn = s.connection()
            try:
                while not stop.is_set():
                    with lock:
                        i = next(nxt)
                    try:
                        r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                                         "start": start_at(i)}, conn=conn)
                    except OSError:
                        return   # the server went away: fine, unacknowledged
                    if r.status == 201:
                        with lock:
                            acked.append(r.json["id"])
            finally:
                conn.close()

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        self.assertTrue(wait_until(lambda: len(acked) >= 30, timeout=60))
        took = self.stop_timed(s)
        stop.set()
        for t in threads:
            t.join()
        self.assertLess(took, STOP_LIMIT)
        log = s.read_log()
        self.assertIn("WAL checkpointed", log)
        self.assertIn("stopped", log.splitlines()[-1])
        self.assertFalse(os.path.exists(os.path.join(s.data, "clinicbox.db-wal")) and
                         os.path.getsize(os.path.join(s.data, "clinicbox.db-wal")) > 0)
        db = sqlite3.connect(f"file:{s.data}/clinicbox.db?mode=ro", uri=True)
        self.addCleanup(db.close)
        have = {r[0] for r in db.execute("SELECT id FROM appointments")}
        self.assertEqual([a for a in acked if a not in have], [])
        print(f"\n  stop during a booking load: {took:.2f} s, {len(acked)} bookings kept", flush=True)

    def test_sigterm_while_a_sync_push_hangs(self):
        central = Central().start()
        self.addCleanup(central.stop)
        host, port = central.base.split("//")[1].split("/")[0].split(":")
        proxy = CutProxy(host, int(port))
        self.addCleanup(proxy.close)
        uri = central.uri.replace(f"{host}:{port}", f"127.0.0.1:{proxy.port}")
        env = {"CLINICBOX_MONGO_URI": uri + "?serverSelectionTimeoutMS=1000",
               "CLINICBOX_SYNC_INTERVAL_SECONDS": "1"}
        s = Server(faketime=NOW, env=env)
        self.addCleanup(s.cleanup)
        s.start()
        doctor, patient = s.seed()

        def status():
            return s.get("/api/sync/status").json

        self.assertTrue(wait_until(lambda: status()["state"] == "ok" and status()["pending_changes"] == 0,
                                   timeout=30), status())
        # central stops answering: what the box sends is read and never answered
        proxy.set_mode("stall")
        r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                         "start": start_at(0)})
        self.assertEqual(r.status, 201, r)
        booking = r.json["id"]
        self.assertTrue(wait_until(lambda: status()["running"], timeout=30), status())
        time.sleep(0.5)   # into the round's network call
        self.assertTrue(status()["running"], status())
        took = self.stop_timed(s)
        self.assertLess(took, STOP_LIMIT)
        log = s.read_log()
        self.assertIn("still inside a network call", log)
        self.assertIn("WAL checkpointed", log)

        # central answers again: the booking is on the box and reaches central
        proxy.set_mode("pass")
        s2 = Server(data=s.data, faketime=NOW, env=env)
        self.addCleanup(s2.cleanup)
        s2.start()
        self.assertEqual(s2.get(f"/api/appointments/{booking}").status, 200)
        self.assertTrue(wait_until(lambda: central.db.appointments.find_one({"_id": booking}), timeout=60),
                        s2.get("/api/sync/status").json)
        s2.stop()
        print(f"\n  stop during a hanging sync push: {took:.2f} s", flush=True)


if __name__ == "__main__":
    unittest.main()
