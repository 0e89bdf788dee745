"""Connection limits (docs/security.md "Connection limits"): one client
address that holds many connections open cannot starve the server.

civetweb gives each connection a worker thread until it closes. The attacker
here binds 127.0.0.2 as its source address and keeps, from that one address,
2 x http_threads idle keep-alive connections (each did one request, then
idles) plus 2 x http_threads POSTs whose body (Content-Length: 1000) trickles
one byte a second, or (the Slowloris variant) 4 x http_threads connections
whose request headers trickle one byte a second. Every connection the server closes is
opened again, so the attack holds for the whole measurement. Meanwhile a
staff request from 127.0.0.1 (GET /api/clinic with the harness's credentials)
must be answered within 2 s, every time, measured on the monotonic clock; the
attacker's connections over http_max_connections_per_address must be closed
at once, and the server must never count more than that many open.

Under TLS (the box's default) the same attacks run over HTTPS, and two more
that never finish the handshake: raw TCP connections to the TLS port that
send nothing, and connections that send the first part of a real ClientHello
and then trickle the rest one byte a second. civetweb does the handshake
before it counts a connection, so the cap must also apply while handshaking
(src/http/connlimit_tls.c). After every attack the server's count of open
connections must fall back to the one asking, nothing left counted.

Loopback only; each attack test takes about 8-15 s.
"""
import http.client
import multiprocessing
import os
import re
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, Server, wait_until  # noqa: E402

ATTACKER = "127.0.0.2"
STAFF_DEADLINE = 2.0      # seconds, the requirement
MEASURE_SECONDS = 6.0     # longer than the body deadline (5 s) and the keep-alive (2 s)
REFUSED_WITHIN = 1.0      # an over-cap connection is closed this fast
TRICKLE_EVERY = 1.0       # one byte a second


class Attack:
    """Threads that each keep one attacker connection of one kind open and
    open a new one when the server closes it, until stop()."""

    def __init__(self, server, idle=0, slow_body=0, slow_headers=0, tcp_idle=0, tls_stall=0):
        self.server = server
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.accepted = 0        # connections that got an answer or were held
        self.refused = 0         # connections closed without an answer
        self.refused_fast = 0    # ... within REFUSED_WITHIN of connecting
        # Idle keep-alive connections open as the client sees them (it sees a
        # close a little late, so this may briefly exceed the server's count:
        # reported, not asserted; /metrics is what the test asserts on).
        self.idle_now = 0
        self.idle_max = 0
        self.errors = []         # anything unexpected (asserted empty)
        kinds = ([self.idle] * idle + [self.slow_body] * slow_body + [self.slow_headers] * slow_headers
                 + [self.tcp_idle] * tcp_idle + [self.tls_stall] * tls_stall)
        self.hello = client_hello(server) if tls_stall else b""
        # one client context for all (making one loads the CA file: costly
        # at hundreds of connections a second, in the test's own process)
        self.tls_context = server.ssl_context() if server.https else None
        self.threads = [threading.Thread(target=self.loop, args=(k,), daemon=True) for k in kinds]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=15)
        assert not any(t.is_alive() for t in self.threads), "attacker threads did not stop"

    def count(self, name, n=1):
        with self.lock:
            setattr(self, name, getattr(self, name) + n)
            if name == "idle_now":
                self.idle_max = max(self.idle_max, self.idle_now)

    def loop(self, kind):
        while not self.stop_event.is_set():
            try:
                if kind():
                    continue
            except Exception as e:  # recorded, asserted on in the test
                with self.lock:
                    self.errors.append(f"{kind.__name__}: {e!r}")
            # Refused: a real attacker would try again at once; a pause keeps
            # this test from spending the shared CPU on a connect loop (with
            # the defaults, ~500 refused slots still retry ~1000 times a second).
            self.stop_event.wait(0.5)

    def refused_after(self, t0):
        self.count("refused")
        if time.monotonic() - t0 <= REFUSED_WITHIN:
            self.count("refused_fast")

    def http_conn(self):
        if self.server.https:
            return http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=30,
                                               source_address=(ATTACKER, 0),
                                               context=self.tls_context)
        return http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30,
                                          source_address=(ATTACKER, 0))

    def connect(self, conn, t0):
        """conn.connect(); False (counted as refused) when the server closes
        it during the TLS handshake."""
        try:
            conn.connect()
            return True
        except (ssl.SSLError, ConnectionError):
            if not self.server.https:
                raise
            self.refused_after(t0)
            return False

    def raw_socket(self):
        s = socket.socket()
        s.settimeout(30)
        s.bind((ATTACKER, 0))
        s.connect(("127.0.0.1", self.server.port))
        return s

    def wait_closed(self, sock):
        """Waits until the server closes sock or stop(); True if it closed."""
        while not self.stop_event.is_set():
            r, _, _ = select.select([sock], [], [], 0.2)
            if r:
                try:
                    if not sock.recv(1):
                        return True
                except OSError:
                    return True
        return False

    # -- the three kinds; each returns True when the server took the connection
    def idle(self):
        """One request, then idle on keep-alive until the server closes it."""
        conn = self.http_conn()
        t0 = time.monotonic()
        try:
            if not self.connect(conn, t0):
                return False
            try:
                r = self.server.get("/api/clinic", conn=conn)
            except (http.client.RemoteDisconnected, ConnectionError):
                self.refused_after(t0)
                return False
            if r.status != 200:
                raise AssertionError(f"idle request answered {r}")
            self.count("accepted")
            self.count("idle_now")
            try:
                self.wait_closed(conn.sock)
            finally:
                self.count("idle_now", -1)
            return True
        finally:
            conn.close()

    def slow_body(self):
        """POST /api/patients, Content-Length: 1000, one byte a second."""
        conn = self.http_conn()
        t0 = time.monotonic()

        def trickle():
            for _ in range(1000):
                # The server may have closed it: then stop sending.
                r, _, _ = select.select([conn.sock], [], [], 0)
                if r or self.stop_event.wait(TRICKLE_EVERY):
                    return
                yield b" "

        try:
            if not self.connect(conn, t0):
                return False
            try:
                r = self.server.request("POST", "/api/patients", raw=trickle(), conn=conn,
                                        headers={"Content-Type": "application/json",
                                                 "Content-Length": "1000"})
            except (http.client.RemoteDisconnected, ConnectionError, http.client.IncompleteRead):
                if self.stop_event.is_set():
                    return True
                self.refused_after(t0)
                return False
            # Held until the body deadline: 408 and closed.
            if r.status != 408:
                raise AssertionError(f"slow body answered {r}")
            self.count("accepted")
            return True
        finally:
            conn.close()

    def slow_headers(self):
        """Slowloris: a request line, then header bytes one a second."""
        s = socket.socket()
        s.settimeout(30)
        t0 = time.monotonic()
        try:
            s.bind((ATTACKER, 0))
            s.connect(("127.0.0.1", self.server.port))
            s.sendall(b"GET /api/clinic HTTP/1.1\r\nHost: x\r\n")
            sent = 0
            while not self.stop_event.is_set():
                r, _, _ = select.select([s], [], [], TRICKLE_EVERY)
                if r:
                    try:
                        got = s.recv(4096)
                    except OSError:
                        got = b""
                    if got:  # civetweb's answer at its header deadline
                        self.count("accepted")
                        return True
                    if sent == 0:
                        self.refused_after(t0)
                        return False
                    self.count("accepted")
                    return True
                try:
                    s.sendall(b"X-a: b\r\n"[sent % 8:sent % 8 + 1])
                except OSError:
                    self.refused_after(t0)
                    return False
                sent += 1
            return True
        finally:
            s.close()

    def held_or_refused(self, s, t0, trickle=b""):
        """Waits (sending trickle one byte a second) until the server closes
        s: refused when that came within REFUSED_WITHIN, held otherwise."""
        sent = 0
        while not self.stop_event.is_set():
            r, _, _ = select.select([s], [], [], TRICKLE_EVERY)
            if r:
                try:
                    got = s.recv(4096)
                except OSError:
                    got = b""
                if got:
                    raise AssertionError(f"the server answered a stalled handshake: {got[:40]!r}")
                if time.monotonic() - t0 <= REFUSED_WITHIN:
                    self.refused_after(t0)
                    return False
                self.count("accepted")
                return True
            if sent < len(trickle):
                try:
                    s.sendall(trickle[sent:sent + 1])
                except OSError:
                    continue  # closed: seen at the next select
                sent += 1
        return True

    def tcp_idle(self):
        """A TCP connection to the TLS port that sends nothing."""
        t0 = time.monotonic()
        s = self.raw_socket()
        try:
            return self.held_or_refused(s, t0)
        finally:
            s.close()

    def tls_stall(self):
        """The first half of a real ClientHello, then the rest one byte a
        second (never complete before the server gives up)."""
        t0 = time.monotonic()
        s = self.raw_socket()
        try:
            half = len(self.hello) // 2
            try:
                s.sendall(self.hello[:half])
            except OSError:
                pass  # closed: seen below
            return self.held_or_refused(s, t0, self.hello[half:])
        finally:
            s.close()


class AttackProcess:
    """An Attack run in a forked child process. With the defaults the
    attack is ~500 Python threads; in the test's own process they compete
    with the staff client for the GIL, and a staff request once measured
    2.009 s on a busy CI machine although the server had answered at once.
    Apart, the staff latency measures the server, not the test."""

    STATS = ("accepted", "refused", "refused_fast", "idle_max", "errors")

    def __init__(self, server, **kinds):
        ctx = multiprocessing.get_context("fork")
        self.stop_event = ctx.Event()
        self.results = ctx.Queue()
        self.process = ctx.Process(target=self.run, args=(server, kinds), daemon=True)
        self.stopped = False

    def run(self, server, kinds):  # in the child
        attack = Attack(server, **kinds).start()
        self.stop_event.wait()
        try:
            attack.stop()
        except AssertionError as e:
            attack.errors.append(str(e))
        self.results.put({k: getattr(attack, k) for k in self.STATS})

    def start(self):
        self.process.start()
        return self

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        self.stop_event.set()
        stats = self.results.get(timeout=60)
        self.process.join(timeout=10)
        for k in self.STATS:
            setattr(self, k, stats[k])


def client_hello(server):
    """The ClientHello the test's own TLS client sends first."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = server.ssl_context().wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert hello[:1] == b"\x16" and len(hello) > 100, hello[:10]
    return hello


def metric(server, name, conn=None):
    r = server.get("/metrics", conn=conn)
    assert r.status == 200, r
    m = re.search(rf"^{name} (\d+)$", r.raw, re.M)
    assert m, f"{name} not in /metrics"
    return int(m.group(1))


class ConnLimits(unittest.TestCase):
    def run_attack(self, args, threads, cap, tls=False, **kinds):
        server = Server(args=args, tls=tls)
        self.addCleanup(server.cleanup)
        server.start()
        self.assertEqual(server.https, tls)
        attack = AttackProcess(server, **{k: n * threads for k, n in kinds.items()}).start()
        self.addCleanup(attack.stop)
        try:
            # The attack holds: the attacker's address is at its cap and
            # further connections are being refused.
            held = wait_until(lambda: metric(server, "clinicbox_http_connections_open") >= cap
                              and metric(server, "clinicbox_http_connections_refused_total") > threads,
                              timeout=20)
            if not held:
                attack.stop()
                self.fail(f"the attack did not reach the cap: accepted {attack.accepted}, "
                          f"refused {attack.refused}, errors {attack.errors[:3]}")
            latencies, opens = [], []
            end = time.monotonic() + MEASURE_SECONDS
            while time.monotonic() < end:
                conn = server.connection()
                try:
                    t0 = time.monotonic()
                    r = server.get("/api/clinic", conn=conn)
                    latencies.append(time.monotonic() - t0)
                    self.assertEqual(r.status, 200, r)
                    self.assertLess(latencies[-1], STAFF_DEADLINE, latencies)
                    opens.append(metric(server, "clinicbox_http_connections_open", conn))
                finally:
                    conn.close()
                time.sleep(0.1)  # a staff member's pace, not a load test
            refused_end = metric(server, "clinicbox_http_connections_refused_total")
        finally:
            attack.stop()
        self.assertEqual(attack.errors, [])
        # The attacker's cap, plus this staff connection and perhaps the
        # previous one (closed by the client, the server about to notice).
        self.assertLessEqual(max(opens), cap + 2, opens)
        # The attack held: in most samples the attacker was at its cap (the
        # count includes this staff connection).
        self.assertGreaterEqual(sorted(opens)[len(opens) // 2], cap, opens)
        self.assertGreater(attack.refused, 0)
        self.assertGreater(attack.refused_fast, 0)
        self.assertGreater(refused_end, threads)
        # Every held connection, handshake or not, is released once it ends:
        # the count falls back to the one connection asking.
        settled = wait_until(lambda: metric(server, "clinicbox_http_connections_open") == 1,
                             timeout=20)
        self.assertTrue(settled, metric(server, "clinicbox_http_connections_open"))
        latencies.sort()
        print(f"\n  {'https' if tls else 'http'}, threads {threads}, cap {cap}, {kinds}: {len(latencies)} staff requests, "
              f"median {latencies[len(latencies) // 2] * 1e3:.1f} ms, "
              f"max {latencies[-1] * 1e3:.1f} ms; attacker accepted {attack.accepted}, "
              f"refused {attack.refused} ({attack.refused_fast} within {REFUSED_WITHIN} s), "
              f"idle max {attack.idle_max}, server open {min(opens)}..{max(opens)}",
              file=sys.stderr)
        server.stop()

    def test_idle_and_slow_body_with_8_threads(self):
        self.run_attack(["--set", "http_threads=8", "--set", "http_max_connections_per_address=4"],
                        threads=8, cap=4, idle=2, slow_body=2)

    def test_slow_headers_with_8_threads(self):
        self.run_attack(["--set", "http_threads=8", "--set", "http_max_connections_per_address=4"],
                        threads=8, cap=4, slow_headers=4)

    def test_tls_stalled_handshakes_with_8_threads(self):
        self.run_attack(["--set", "http_threads=8", "--set", "http_max_connections_per_address=4"],
                        threads=8, cap=4, tls=True, tcp_idle=2, tls_stall=2)

    def test_tls_idle_and_slow_body_with_8_threads(self):
        self.run_attack(["--set", "http_threads=8", "--set", "http_max_connections_per_address=4"],
                        threads=8, cap=4, tls=True, idle=2, slow_body=2)

    def test_tls_connections_up_to_the_cap_are_served(self):
        """A TLS connection counts once: its handshake's place passes to the
        connection (TLS 1.2 and 1.3), so cap connections from one address
        all get answers on keep-alive, the next is refused in its
        handshake, and closing them frees their places."""
        cap = 4
        server = Server(args=["--set", "http_threads=8",
                              "--set", f"http_max_connections_per_address={cap}"], tls=True)
        self.addCleanup(server.cleanup)
        server.start()
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version):
                ctx = server.ssl_context()
                ctx.minimum_version = ctx.maximum_version = version
                conns = []
                try:
                    for _ in range(cap):
                        c = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=30,
                                                        source_address=(ATTACKER, 0), context=ctx)
                        conns.append(c)
                        c.connect()
                        self.assertEqual(c.sock.version(), version.name.replace("_", "."))
                    for _ in range(2):  # keep-alive: a second request on each
                        for c in conns:
                            self.assertEqual(server.get("/api/clinic", conn=c).status, 200)
                    # the attacker's cap plus the connection asking
                    self.assertEqual(metric(server, "clinicbox_http_connections_open"), cap + 1)
                    extra = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=30,
                                                        source_address=(ATTACKER, 0), context=ctx)
                    t0 = time.monotonic()
                    with self.assertRaises((ssl.SSLError, ConnectionError)):
                        extra.connect()  # refused in its handshake
                    self.assertLess(time.monotonic() - t0, REFUSED_WITHIN)
                    extra.close()
                finally:
                    for c in conns:
                        c.close()
                self.assertTrue(wait_until(
                    lambda: metric(server, "clinicbox_http_connections_open") == 1, timeout=10))
        server.stop()

    def defaults(self):
        out = subprocess.run([BIN, "config"], capture_output=True, text=True, check=True).stdout
        settings = dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line)
        threads = int(settings["http_threads"])
        cap = int(settings["http_max_connections_per_address"])
        self.assertGreater(cap, 0)
        self.assertEqual(settings["tls"], "on")
        return threads, cap

    def test_idle_and_slow_body_with_the_defaults(self):
        threads, cap = self.defaults()
        self.run_attack([], threads=threads, cap=cap, idle=2, slow_body=2)

    def test_tls_idle_and_slow_body_with_the_defaults(self):
        """Issue 10's requirement as a box runs by default (TLS on)."""
        threads, cap = self.defaults()
        self.run_attack([], threads=threads, cap=cap, tls=True, idle=2, slow_body=2)

    def test_tls_stalled_handshakes_with_the_defaults(self):
        threads, cap = self.defaults()
        self.run_attack([], threads=threads, cap=cap, tls=True, tcp_idle=2, tls_stall=2)

    def test_cap_must_be_below_the_thread_count(self):
        server = Server(args=["--set", "http_threads=8",
                              "--set", "http_max_connections_per_address=8"])
        self.addCleanup(server.cleanup)
        server.start(wait=False)
        self.assertEqual(server.proc.wait(timeout=30), 2)  # a settings error
        self.assertIn("http_max_connections_per_address (8) must be less than http_threads (8)",
                      server.new_log())


if __name__ == "__main__":
    unittest.main()
