"""Test harness: starts the real clinicbox binary on a free loopback port with
a fresh data directory and talks to it over real HTTP.

Used by every tests/api/test_*.py. The binary comes from $CLINICBOX_BIN (ctest
sets it). Time travel uses libfaketime (`faketime -f '@2026-12-01 08:00:00'`):
the server's wall clock starts there and runs on; its monotonic clock stays
real (FAKETIME_DONT_FAKE_MONOTONIC=1), as a real clock jump would leave it.
"""
import calendar
import email.utils
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import time
import unittest

import openapi_check

BIN = os.environ.get("CLINICBOX_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "clinicbox"))


FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


def faketime_env(at, base=None):
    """Environment that starts a child process's wall clock at `at` (unix
    seconds, fractions kept) and lets it run on; its monotonic clock stays
    real. An absolute time, never an offset: the runner's own clock may be
    shifted (scripts/test.sh runs the suite a second time a year ahead), and
    an offset computed from it would be wrong by that much in the child."""
    env = dict(os.environ if base is None else base)
    env.pop("FAKETIME_SHARED", None)   # a parent's start time, see own_clock()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(at)))
    env.update({"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": f"@{stamp}.{int((at % 1) * 1e6):06d}",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1", "TZ": "UTC",
                # libfaketime comes before the ASan runtime in the ASan build
                "ASAN_OPTIONS": env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"})
    return env


def own_clock(env):
    """Drops what a child would inherit of the test runner's own faked clock
    (scripts/test.sh runs the tests a second time with the runner shifted):
    its FAKETIME, and FAKETIME_SHARED, with which libfaketime would count a
    child's "@start" and speed from the runner's start instead of its own."""
    for k in ("FAKETIME", "FAKETIME_SHARED"):
        env.pop(k, None)
    return env


class Clock:
    """One faked wall clock shared by every party of a test that compares
    times: the box, `clinicbox central`, `clinicbox sync`, openssl making
    certificates, and the test's own writers. It starts at `start` (UTC,
    "YYYY-MM-DD HH:MM:SS") when made and runs on at the real rate, measured
    on the monotonic clock, so it never depends on the calendar date."""

    def __init__(self, start, offset=0.0):
        self.epoch = calendar.timegm(time.strptime(start, "%Y-%m-%d %H:%M:%S")) + offset
        self.t0 = time.monotonic()

    def now(self):
        """The shared clock's time, unix seconds."""
        return self.epoch + (time.monotonic() - self.t0)

    def shifted(self, seconds):
        """Another clock, `seconds` ahead of this one (behind if negative)."""
        c = Clock("1970-01-01 00:00:00")
        c.epoch, c.t0 = self.epoch + seconds, self.t0
        return c

    def env(self, base=None):
        """Environment for a child process that runs on this clock."""
        return faketime_env(self.now(), base)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortTaken(AssertionError):
    """The server could not listen on its port: another process has it."""


HTTP_DATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] "
                       r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
                       r"[0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT")


def check_date(method, path, status, headers):
    """Every 2xx, 3xx and 4xx answer carries one Date in IMF-fixdate form
    (RFC 9110 sections 5.6.7 and 6.6.1), whose weekday is the date's."""
    if status >= 500:
        return
    dates = headers.get_all("Date") or []
    where = f"{method} {path} -> {status}"
    if len(dates) != 1 or not HTTP_DATE.fullmatch(dates[0]):
        raise AssertionError(f"{where}: Date header {dates!r} is not one IMF-fixdate")
    when = email.utils.parsedate_to_datetime(dates[0])
    if when.strftime("%a") != dates[0][:3]:
        raise AssertionError(f"{where}: Date {dates[0]!r} names the wrong weekday")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        ctype = headers.get("Content-Type", "")
        self.json = json.loads(body) if body and "json" in ctype else None

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


class Server:
    """One clinicbox process. Keep the data directory across restarts by
    passing the same `data` to a new Server."""

    def __init__(self, data=None, faketime=None, env=None, args=(), port=None, clock=None,
                 tls=False, cafile=None):
        """faketime: an absolute start ("YYYY-MM-DD HH:MM:SS", libfaketime's
        modifiers allowed) for this process alone; clock: a Clock that the
        server shares with the test's other parties (restarts keep it).
        tls: serve HTTPS (the box's default) instead of plain HTTP (the
        harness's default, `--set tls=off`); requests then trust only
        cafile, by default the self-signed certificate the box keeps in
        DATA/tls/cert.pem."""
        self.tls = tls
        self.cafile = cafile
        self.https = False   # what this start of the server said it serves
        self.own_data = data is None
        self.data = data or tempfile.mkdtemp(prefix="clinicbox-test-")
        self.faketime = faketime
        self.clock = clock
        self.env = env or {}
        self.args = list(args)
        self.auto_port = port is None
        self.port = port or free_port()
        self.proc = None
        self.log_path = os.path.join(self.data, f"server-{self.port}.log")
        self.token = None   # the test's admin API token (see admin_token())
        self.last_env = None

    # -- process -------------------------------------------------------------
    def command(self):
        tls = [] if self.tls else ["--set", "tls=off"]   # args given later win
        return ([BIN, "serve", "--data", self.data, "--listen", f"127.0.0.1:{self.port}"] + tls
                + self.args)

    def start(self, wait=True):
        env = dict(os.environ)
        env.update({"FAKETIME_DONT_FAKE_MONOTONIC": "1", "TZ": "UTC",
                    "ASAN_OPTIONS": env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0:detect_leaks=1"})
        if self.clock:
            env = self.clock.env(env)
        elif self.faketime:
            # What `faketime -f` does, without its wrapper process in between
            # (signals must reach the server itself).
            own_clock(env)
            env["LD_PRELOAD"] = FAKETIME_LIB
            env["FAKETIME"] = "@" + self.faketime
        if "FAKETIME_TIMESTAMP_FILE" in self.env:
            own_clock(env)   # the file, not a faked time inherited from the runner
        env.update(self.env)
        self.last_env = env
        for attempt in range(3):
            self.log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            self.log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=self.log, env=env)
            if not wait:
                return self
            try:
                self.wait_ready()
                self.admin_token(env)
                return self
            except PortTaken:
                # another test's process took the port between free_port()
                # and the bind: a new one (only for a port chosen here)
                self.proc.wait()
                self.log.close()
                self.proc = None
                if not self.auto_port or attempt == 2:
                    raise
                self.port = free_port()
        return self

    def cli(self, *args, input=None, env=None, check=True):
        """Runs `clinicbox ARGS --data DATA` as the admin on the box would
        (on the server's clock when it has a faked one)."""
        cmd = [BIN] + list(args) + ["--data", self.data]
        r = subprocess.run(cmd, input=input, capture_output=True, text=True,
                           env=env or self.last_env or dict(os.environ), timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"{cmd} exited with {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    def admin_token(self, env=None):
        """The test's admin API token: made once per data directory with
        `clinicbox token create` (after the server's own start, so that
        the server, not the command, migrates the database) and kept in
        DATA/test-admin-token for later Servers on the same data."""
        if self.token:
            return self.token
        path = os.path.join(self.data, "test-admin-token")
        if os.path.exists(path):
            with open(path) as f:
                self.token = f.read().strip()
            return self.token
        out = self.cli("token", "create", "--name", "tests", "--role", "admin", env=env).stdout
        self.token = out.split()[-1]
        with open(path, "w") as f:
            f.write(self.token)
        return self.token

    def add_user(self, username, role, password=None, doctor=None):
        """Adds a staff account with `clinicbox user add` (the password on
        standard input); returns (username, password)."""
        password = password or f"pw-{username}-Kx9!long"
        args = ["user", "add", "--username", username, "--role", role]
        if doctor:
            args += ["--doctor", doctor]
        self.cli(*args, input=password + "\n")
        return username, password

    def login(self, username, password):
        """Logs in with POST /api/session; a Session that sends its cookie
        (and its CSRF token on changes), as a browser would."""
        r = self.post("/api/session", {"username": username, "password": password}, auth=False)
        assert r.status == 201, r
        return Session(self, r.headers["Set-Cookie"].split(";")[0], r.json["csrf_token"])

    def auth_headers(self):
        """The header that authenticates as the test's admin."""
        return {"Authorization": f"Bearer {self.admin_token()}"}

    def new_log(self):
        """What this start of the server has written to its log so far."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_ready(self, timeout=30):
        """Waits for this process to say it serves on its port (another
        process that answers there is not it), then for /api/health."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = self.new_log()
                if "cannot listen on" in log:
                    raise PortTaken(log)
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.read_log()}")
            log = self.new_log()
            said = [scheme for scheme in ("http", "https")
                    if f"serving on {scheme}://127.0.0.1:{self.port} " in log]
            if said:
                self.https = said[0] == "https"
                try:
                    if self.get("/api/health", auth=False).status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError("server did not become ready:\n" + self.read_log())

    def stop(self):
        """SIGTERM, and assert a clean exit (sanitizer reports fail it)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server did not stop on SIGTERM")
        rc = self.proc.returncode if self.proc else 0
        if self.proc:
            self.log.close()
        self.proc = None
        if rc != 0:
            raise AssertionError(f"server exited with {rc}:\n{self.read_log()}")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()
        self.proc = None

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.log.close()
        if self.own_data and not os.environ.get("CLINICBOX_KEEP_TEST_DATA"):
            shutil.rmtree(self.data, ignore_errors=True)

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-6000:]
        except OSError:
            return ""

    # -- HTTP ------------------------------------------------------------------
    def ssl_context(self):
        """A client context that trusts only the server's certificate (and
        checks the name 127.0.0.1 against it), TLS 1.2 or later."""
        ctx = ssl.create_default_context(cafile=self.cafile or os.path.join(self.data, "tls", "cert.pem"))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def connection(self, timeout=30):
        if self.https:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.ssl_context())
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, raw=None, conn=None, chunked=False,
                check_spec=True, auth=True):
        """One request. body: a JSON value; raw: bytes as they are (sent with
        Transfer-Encoding: chunked, in 4 KiB chunks, when chunked).

        The answer is checked against docs/openapi.yaml (tests/api/
        openapi_check.py): operation, status, Content-Type and body schema; a
        mismatch fails the test. check_spec=False is only for a request that
        is not an API call by design. auth=False sends no credentials (an
        anonymous client); else the request carries the test's admin API
        token unless headers name their own Authorization or Cookie."""
        own = conn is None
        conn = conn or self.connection()
        hdrs = dict(headers or {})
        if auth and not any(k.lower() in ("authorization", "cookie") for k in hdrs):
            hdrs.update(self.auth_headers())
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if chunked and data is not None:
            whole = data
            data = (whole[i:i + 4096] for i in range(0, len(whole), 4096))
        try:
            conn.request(method, path, body=data, headers=hdrs, encode_chunked=chunked)
            r = conn.getresponse()
            payload = r.read()
            text = payload.decode("utf-8")
            check_date(method, path, r.status, r.headers)
            if check_spec:
                openapi_check.check(method, path, r.status, r.headers, text)
            return Response(r.status, r.headers, text)
        finally:
            if own:
                conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    # -- database (read-only peeks, as an admin with sqlite3 would) -----------
    def db(self):
        return sqlite3.connect(f"file:{self.data}/clinicbox.db?mode=ro", uri=True, timeout=10)

    # -- seed data ---------------------------------------------------------------
    def seed(self, timezone="Europe/Berlin", slot_minutes=15, weekly=None, exceptions=None,
             patient=None):
        """Clinic zone, one doctor with a schedule, one patient. Returns (doctor, patient)."""
        r = self.put("/api/clinic", {"name": "Praxis Test", "timezone": timezone})
        assert r.status == 200, r
        if weekly is None:
            weekly = [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(1, 8)]
        d = self.post("/api/doctors", {"name": "Dr. Test", "slot_minutes": slot_minutes})
        assert d.status == 201, d
        s = self.put(f"/api/doctors/{d.json['id']}/schedule",
                     {"weekly": weekly, "exceptions": exceptions or []})
        assert s.status == 200, s
        p = self.post("/api/patients", patient or {"name": "Anna Müller", "email": "anna@example.org",
                                                   "phone": "+4915112345678"})
        assert p.status == 201, p
        return d.json, p.json


class Session:
    """A logged-in browser: the session cookie on every request, the CSRF
    token on every change (csrf=False leaves it out)."""

    def __init__(self, server, cookie, csrf):
        self.server, self.cookie, self.csrf = server, cookie, csrf

    def request(self, method, path, body=None, headers=None, csrf=True, **kw):
        h = {"Cookie": self.cookie}
        if csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        return self.server.request(method, path, body=body, headers=h, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class ServerTest(unittest.TestCase):
    """A test case with self.server running (fresh data dir), stopped cleanly
    after each test."""
    faketime = None
    server_args = ()

    def setUp(self):
        self.server = Server(faketime=self.faketime, args=self.server_args)
        self.addCleanup(self.server.cleanup)  # also if start() fails
        self.server.start()

    def tearDown(self):
        self.server.stop()

    def assertProblem(self, r, status, field=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json", r)
        self.assertEqual(r.json["status"], status)
        self.assertTrue(r.json.get("detail"), r)
        if field:
            fields = [e["field"] for e in r.json.get("errors", [])]
            self.assertIn(field, fields, r)


def wait_until(cond, timeout=30, interval=0.1):
    """Polls cond() until it returns something truthy; returns it, or None
    when the time is up."""
    deadline = time.time() + timeout
    while True:
        got = cond()
        if got or time.time() >= deadline:
            return got
        time.sleep(interval)


def outbox_env(sink=None, twilio=None, **extra):
    """Server settings that point the outbox at a MailSink and a
    TwilioStandIn (tests/api/peers.py). Short timeouts and back-offs so that
    retries happen within a test."""
    env = {"CLINICBOX_PUBLIC_URL": "https://praxis.example.org",
           "CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS": "1",
           "CLINICBOX_OUTBOX_TIMEOUT_SECONDS": "3"}
    if sink:
        env.update({"CLINICBOX_SMTP_URL": sink.url,
                    "CLINICBOX_SMTP_FROM": "Praxis Sonnenschein <praxis@example.org>"})
        if sink.auth:
            env.update({"CLINICBOX_SMTP_USER": sink.auth[0], "CLINICBOX_SMTP_PASSWORD": sink.auth[1]})
    if twilio:
        env.update({"CLINICBOX_TWILIO_ACCOUNT_SID": twilio.account_sid,
                    "CLINICBOX_TWILIO_AUTH_TOKEN": twilio.auth_token,
                    "CLINICBOX_TWILIO_FROM": "+15005550006",
                    "CLINICBOX_TWILIO_BASE_URL": twilio.base_url})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def notifications(server, **query):
    """GET /api/notifications with the query, as a list."""
    q = "&".join(f"{k}={v}" for k, v in query.items())
    r = server.get("/api/notifications" + (f"?{q}" if q else ""))
    assert r.status == 200, r
    return r.json["notifications"]
