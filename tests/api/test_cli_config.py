"""The clinicbox command line and its settings (docs/config.md): help and
exit codes, `clinicbox config` with file < environment < flag precedence,
secrets never printed, unknown keys and bad values stopping the start with a
message that names the key (and line, or variable), the default data
directory relative to the working directory, a listen address in use, the
config's grace_minutes until the clinic sets its own, and SIGTERM/SIGINT
stopping the server with exit code 0.
"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, Server, free_port  # noqa: E402

SECRETS = {
    "smtp_password": "smtp-S3cr3t-pw-4711",
    "twilio_auth_token": "twilio-T0ken-0815",
    "mongo_uri": "mongodb://sync:M0ng0-pw-42@127.0.0.1:1/clinic",
}


def clean_env(**extra):
    """The environment without any CLINICBOX_* setting of the caller, and
    plain HTTP (tls off) for the servers these tests talk to with urllib."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICBOX_")}
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0:detect_leaks=1"
    env["CLINICBOX_TLS"] = "off"
    env.update(extra)
    return env


def run(args, env=None, cwd=None, timeout=60):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True,
                          env=env if env is not None else clean_env(), cwd=cwd, timeout=timeout)


def parse_config(out):
    settings = {}
    for line in out.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            settings[key.strip()] = value
    return settings


def http_get(port, path, timeout=5, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8")


def make_token(data, env=None):
    """An admin API token for the box with this data directory."""
    out = subprocess.run([BIN, "token", "create", "--data", data, "--name", "cli-test", "--role", "admin"],
                         capture_output=True, text=True, check=True, env=env).stdout
    return out.split()[-1]


def wait_ready(proc, port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if http_get(port, "/api/health", timeout=2)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="clinicbox-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def serve(self, args, env=None, cwd=None):
        """Starts `clinicbox serve ARGS`; the process is killed at cleanup if
        a test leaves it running."""
        log = open(os.path.join(self.tmp, f"serve-{time.monotonic_ns()}.log"), "w+")
        self.addCleanup(log.close)
        proc = subprocess.Popen([BIN, "serve"] + list(args), stdout=log, stderr=subprocess.STDOUT,
                                env=env if env is not None else clean_env(), cwd=cwd)

        def kill():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.addCleanup(kill)
        proc.log = log
        return proc

    @staticmethod
    def output(proc):
        proc.log.flush()
        proc.log.seek(0)
        return proc.log.read()

    def stop(self, proc, sig=signal.SIGTERM):
        proc.send_signal(sig)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail(f"server did not stop on signal {sig}:\n{self.output(proc)}")
        self.assertEqual(rc, 0, f"exit code after signal {sig}:\n{self.output(proc)}")
        return self.output(proc)


class HelpAndCommands(unittest.TestCase):
    def test_help(self):
        for args in (["--help"], ["help"], ["-h"], []):
            with self.subTest(args=args):
                p = run(args)
                self.assertEqual(p.returncode, 0, p)
                for word in ("serve", "config", "--config", "--data", "--listen"):
                    self.assertIn(word, p.stdout, f"{args}: help does not mention {word}")

    def test_version(self):
        p = run(["version"])
        self.assertEqual(p.returncode, 0, p)
        self.assertRegex(p.stdout, r"^clinicbox \d+\.\d+\.\d+")

    def test_migrate_creates_the_database_and_exits(self):
        data = tempfile.mkdtemp(prefix="clinicbox-migrate-")
        self.addCleanup(shutil.rmtree, data, True)
        p = run(["migrate", "--data", data])
        self.assertEqual(p.returncode, 0, p)
        migrations = [f for f in os.listdir(os.path.join(os.path.dirname(__file__), "..", "..",
                                                         "src", "store", "migrations"))
                      if f.endswith(".sql")]
        self.assertIn(f"schema version {len(migrations)}", p.stderr)
        with sqlite3.connect(os.path.join(data, "clinicbox.db")) as db:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], len(migrations))
            self.assertEqual(db.execute("SELECT count(*) FROM clinic").fetchone()[0], 1)
        p = run(["migrate", "--data", data])  # again: nothing to do
        self.assertEqual(p.returncode, 0, p)
        self.assertNotIn("applied migration", p.stderr)

    def test_unknown_command_exits_2(self):
        p = run(["frobnicate"])
        self.assertEqual(p.returncode, 2, p)
        self.assertIn("frobnicate", p.stderr)
        self.assertEqual(p.stdout, "", "an error goes to stderr, not stdout")

    def test_unknown_or_incomplete_options_exit_2(self):
        for args, named in ([["serve", "--bogus"], "--bogus"],
                            [["config", "--data"], "--data"],
                            [["config", "--set", "novalue"], "novalue"],
                            [["config", "--set", "colour=red"], "colour"]):
            with self.subTest(args=args):
                p = run(args)
                self.assertEqual(p.returncode, 2, p)
                self.assertIn(named, p.stderr)


class ConfigCommand(TempDirTest):
    def config(self, args=(), env=None, cwd=None):
        p = run(["config"] + list(args), env=env, cwd=cwd or self.tmp)
        self.assertEqual(p.returncode, 0, p)
        return parse_config(p.stdout), p

    def test_defaults_are_the_documented_ones(self):
        s, _ = self.config()
        expected = {"data": "./clinicbox-data", "listen": "127.0.0.1:8080", "grace_minutes": "15",
                    "outbox_max_attempts": "12", "outbox_max_backoff_seconds": "900",
                    "sync_interval_seconds": "30", "twilio_base_url": "https://api.twilio.com",
                    "mongo_uri": "", "smtp_url": "", "public_url": "", "clinic_id": ""}
        for key, value in expected.items():
            self.assertEqual(s.get(key), value, key)

    def test_flag_beats_env_beats_file(self):
        conf = self.write("clinicbox.conf", "\n".join([
            "# a comment line",
            "",
            "grace_minutes = 20   # trailing comment",
            "listen = 127.0.0.1:1111",
            "data = /srv/from-file",
            'public_url = "https://clinic.example.org"',
            "outbox_max_attempts=5",
            "   sync_interval_seconds    =    45   ",
        ]) + "\n")
        env = clean_env(CLINICBOX_GRACE_MINUTES="25", CLINICBOX_LISTEN="127.0.0.1:2222",
                        CLINICBOX_DATA="/srv/from-env")
        # File only.
        s, _ = self.config(["--config", conf])
        self.assertEqual((s["grace_minutes"], s["listen"], s["data"]),
                         ("20", "127.0.0.1:1111", "/srv/from-file"))
        self.assertEqual(s["public_url"], "https://clinic.example.org")
        self.assertEqual((s["outbox_max_attempts"], s["sync_interval_seconds"]), ("5", "45"))
        # The environment wins over the file.
        s, _ = self.config(["--config", conf], env=env)
        self.assertEqual((s["grace_minutes"], s["listen"], s["data"]),
                         ("25", "127.0.0.1:2222", "/srv/from-env"))
        self.assertEqual(s["outbox_max_attempts"], "5", "keys only in the file still apply")
        # A flag wins over both, wherever it stands relative to --config.
        for args in (["--config", conf, "--set", "grace_minutes=30", "--listen", "127.0.0.1:3333",
                      "--data", "/srv/from-flag"],
                     ["--set", "grace_minutes=30", "--listen", "127.0.0.1:3333",
                      "--data", "/srv/from-flag", "--config", conf]):
            with self.subTest(args=args):
                s, _ = self.config(args, env=env)
                self.assertEqual((s["grace_minutes"], s["listen"], s["data"]),
                                 ("30", "127.0.0.1:3333", "/srv/from-flag"))
                self.assertEqual(s["outbox_max_attempts"], "5")
        # Env without a file, flag without env.
        s, _ = self.config(env=clean_env(CLINICBOX_GRACE_MINUTES="25"))
        self.assertEqual(s["grace_minutes"], "25")
        s, _ = self.config(["--set", "grace_minutes=31"])
        self.assertEqual(s["grace_minutes"], "31")

    def test_secrets_are_never_printed(self):
        conf = self.write("secret.conf", f"smtp_password = {SECRETS['smtp_password']}\n"
                                         f"smtp_user = clinic-mailer\n")
        env = clean_env(CLINICBOX_TWILIO_AUTH_TOKEN=SECRETS["twilio_auth_token"])
        s, p = self.config(["--config", conf, "--set", "mongo_uri=" + SECRETS["mongo_uri"]], env=env)
        for key, secret in SECRETS.items():
            self.assertNotIn(secret, p.stdout + p.stderr, f"{key} printed")
            self.assertIn(key, s, f"{key} is not listed at all")
            self.assertNotEqual(s[key], "", f"{key} looks unset although it is set")
        # Not secret: shown as is.
        self.assertEqual(s["smtp_user"], "clinic-mailer")
        self.assertNotIn("M0ng0-pw-42", p.stdout, "not even the password inside the URI")

    def test_unknown_key_in_file_names_key_and_line(self):
        conf = self.write("bad.conf", "# settings\n\ngrace_minutes = 20\ncolour = red\n")
        for cmd in (["config"], ["serve", "--data", os.path.join(self.tmp, "d"),
                                 "--listen", f"127.0.0.1:{free_port()}"]):
            with self.subTest(cmd=cmd[0]):
                p = run(cmd + ["--config", conf], timeout=30)
                self.assertNotEqual(p.returncode, 0, p)
                self.assertIn("colour", p.stderr)
                self.assertRegex(p.stderr, r"bad\.conf:4\b", "the line number is named")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "d")),
                         "serve must stop before creating the data directory")

    def test_bad_values_in_file_name_the_key(self):
        cases = [
            ("grace_minutes = abc\n", "grace_minutes", 1),
            ("# x\ngrace_minutes = 99999\n", "grace_minutes", 2),
            ("grace_minutes = -1\n", "grace_minutes", 1),
            ("grace_minutes = 12abc\n", "grace_minutes", 1),
            ("grace_minutes =\n", "grace_minutes", 1),
            ("outbox_max_attempts = 0\n", "outbox_max_attempts", 1),
            ("sync_interval_seconds = 1e3\n", "sync_interval_seconds", 1),
            ("log_level = loud\n", "log_level", 1),
            ("listen = " + "x" * 5000 + "\n", "", 1),
            ("grace_minutes 20\n", "", 1),
        ]
        for text, key, line in cases:
            with self.subTest(text=text[:40]):
                conf = self.write("bad.conf", text)
                p = run(["config", "--config", conf])
                self.assertEqual(p.returncode, 2, p)
                self.assertIn(key, p.stderr)
                self.assertRegex(p.stderr, rf"bad\.conf:{line}\b")
                self.assertEqual(p.stdout, "", "nothing printed as if it were fine")
        p = run(["config", "--config", os.path.join(self.tmp, "missing.conf")])
        self.assertEqual(p.returncode, 2, p)
        self.assertIn("missing.conf", p.stderr)

    def test_unknown_time_zone_setting_stops(self):
        for value in ("Mars/Olympus_Mons", "../../etc/passwd"):
            with self.subTest(value=value):
                p = run(["config", "--set", f"timezone={value}"])
                self.assertEqual(p.returncode, 2, p)
                self.assertIn("timezone", p.stderr)

    def test_bad_env_value_names_the_variable(self):
        for var, value in (("CLINICBOX_GRACE_MINUTES", "abc"), ("CLINICBOX_GRACE_MINUTES", "99999"),
                           ("CLINICBOX_OUTBOX_MAX_ATTEMPTS", "0"), ("CLINICBOX_LOG_LEVEL", "loud")):
            with self.subTest(var=var, value=value):
                p = run(["config"], env=clean_env(**{var: value}))
                self.assertEqual(p.returncode, 2, p)
                self.assertIn(var, p.stderr)
        # serve refuses to start on it too.
        p = run(["serve", "--data", os.path.join(self.tmp, "d"), "--listen", f"127.0.0.1:{free_port()}"],
                env=clean_env(CLINICBOX_GRACE_MINUTES="abc"), timeout=30)
        self.assertNotEqual(p.returncode, 0, p)
        self.assertIn("CLINICBOX_GRACE_MINUTES", p.stderr)

    def test_bad_flag_value_names_the_key(self):
        p = run(["config", "--set", "grace_minutes=abc"])
        self.assertEqual(p.returncode, 2, p)
        self.assertIn("grace_minutes", p.stderr)
        p = run(["config", "--listen", "x" * 5000])
        self.assertEqual(p.returncode, 2, p)
        self.assertIn("listen", p.stderr)


class Serve(TempDirTest):
    def test_default_data_dir_is_relative_to_the_working_directory(self):
        cwd = os.path.join(self.tmp, "work")
        os.mkdir(cwd)
        port = free_port()
        proc = self.serve(["--listen", f"127.0.0.1:{port}"], cwd=cwd)
        self.assertTrue(wait_ready(proc, port), self.output(proc))
        db = os.path.join(cwd, "clinicbox-data", "clinicbox.db")
        self.assertTrue(os.path.isfile(db), f"{db} missing; cwd has {os.listdir(cwd)}")
        status, body = http_get(port, "/api/health")
        self.assertEqual(status, 200, body)
        self.assertEqual(set(json.loads(body)), {"status", "version"}, body)  # anonymous: little
        status, body = http_get(port, "/api/health", token=make_token(os.path.join(cwd, "clinicbox-data")))
        self.assertNotIn("path", json.loads(body)["db"], body)  # no file path for anyone who asks
        self.assertNotIn("clinicbox.db", body)
        self.stop(proc)
        # Nothing went anywhere else: the test's temp dir holds only the work dir and logs.
        self.assertEqual(sorted(os.listdir(cwd)), ["clinicbox-data"])

    def test_data_from_env_and_file(self):
        port = free_port()
        env_data = os.path.join(self.tmp, "env-data")
        file_data = os.path.join(self.tmp, "file-data")
        conf = self.write("c.conf", f"data = {file_data}\nlisten = 127.0.0.1:{port}\n")
        proc = self.serve(["--config", conf], env=clean_env(CLINICBOX_DATA=env_data), cwd=self.tmp)
        self.assertTrue(wait_ready(proc, port), self.output(proc))
        self.stop(proc)
        self.assertTrue(os.path.isfile(os.path.join(env_data, "clinicbox.db")))
        self.assertFalse(os.path.exists(file_data), "the variable wins over the file")

    def test_listen_address_in_use(self):
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            port = blocker.getsockname()[1]
            proc = self.serve(["--data", os.path.join(self.tmp, "d"), "--listen", f"127.0.0.1:{port}"])
            try:
                rc = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.fail("serve kept running although it cannot listen")
        out = self.output(proc)
        self.assertNotEqual(rc, 0, out)
        self.assertIn(f"127.0.0.1:{port}", out, "the message names the address")
        self.assertRegex(out, r"(?i)in use|cannot listen|cannot bind")

    def test_invalid_listen_address(self):
        proc = self.serve(["--data", os.path.join(self.tmp, "d"), "--listen", "not-an-address"])
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("serve kept running with an invalid listen address")
        self.assertNotEqual(rc, 0, self.output(proc))
        self.assertIn("not-an-address", self.output(proc))

    def test_sigterm_and_sigint_exit_0(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(sig=sig):
                port = free_port()
                proc = self.serve(["--data", os.path.join(self.tmp, f"d{int(sig)}"),
                                   "--listen", f"127.0.0.1:{port}"])
                self.assertTrue(wait_ready(proc, port), self.output(proc))
                # An idle keep-alive connection must not hold the shutdown up.
                conn = socket.create_connection(("127.0.0.1", port))
                conn.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                conn.recv(65536)
                t0 = time.time()
                out = self.stop(proc, sig)
                conn.close()
                self.assertLess(time.time() - t0, 15, "shutdown took too long")
                self.assertIn("shutting down", out)

    def test_secrets_not_logged_or_served(self):
        port = free_port()
        conf = self.write("secret.conf", f"smtp_password = {SECRETS['smtp_password']}\n"
                                         f"smtp_url = smtp://127.0.0.1:1\n")
        env = clean_env(CLINICBOX_TWILIO_AUTH_TOKEN=SECRETS["twilio_auth_token"],
                        CLINICBOX_MONGO_URI=SECRETS["mongo_uri"], CLINICBOX_LOG_LEVEL="debug")
        proc = self.serve(["--config", conf, "--data", os.path.join(self.tmp, "d"),
                           "--listen", f"127.0.0.1:{port}"], env=env)
        self.assertTrue(wait_ready(proc, port), self.output(proc))
        token = make_token(os.path.join(self.tmp, "d"), env=env)
        served = "".join(http_get(port, path, token=token)[1] for path in
                         ("/api/health", "/api/clinic", "/metrics", "/api/doctors"))
        out = self.stop(proc)
        for key, secret in SECRETS.items():
            self.assertNotIn(secret, served, f"{key} served by the API")
            self.assertNotIn(secret, out, f"{key} in the log")
        self.assertNotIn("M0ng0-pw-42", served + out)


class GraceFromConfig(TempDirTest):
    def clinic(self, server):
        r = server.get("/api/clinic")
        self.assertEqual(r.status, 200, r)
        return r.json

    def run_server(self, data, grace=None, env=None):
        args = []
        if grace is not None:
            args = ["--config", self.write(f"grace-{grace}.conf", f"grace_minutes = {grace}\n")]
        server = Server(data=data, args=args, env=env)
        self.addCleanup(server.cleanup)
        return server.start()

    def test_config_grace_until_the_clinic_sets_one(self):
        data = os.path.join(self.tmp, "data")
        os.mkdir(data)
        s = self.run_server(data, grace=25)
        self.assertEqual(self.clinic(s)["grace_minutes"], 25)
        s.stop()
        # Not set by the clinic yet: a new config value applies after a restart.
        s = self.run_server(data, grace=35)
        self.assertEqual(self.clinic(s)["grace_minutes"], 35)
        # The clinic sets its own: it wins at once ...
        r = s.put("/api/clinic", {"grace_minutes": 40})
        self.assertEqual((r.status, r.json["grace_minutes"]), (200, 40), r)
        self.assertEqual(self.clinic(s)["grace_minutes"], 40)
        # ... and a PUT without grace_minutes keeps it.
        r = s.put("/api/clinic", {"name": "Praxis Grace"})
        self.assertEqual(r.json["grace_minutes"], 40, r)
        s.stop()
        # ... and over the config and the environment after a restart.
        s = self.run_server(data, grace=35, env={"CLINICBOX_GRACE_MINUTES": "50"})
        self.assertEqual(self.clinic(s)["grace_minutes"], 40)
        s.stop()
        # Setting it to 0 is a value of its own, not "unset".
        s = self.run_server(data, grace=35)
        r = s.put("/api/clinic", {"grace_minutes": 0})
        self.assertEqual(r.json["grace_minutes"], 0, r)
        s.stop()
        s = self.run_server(data, grace=35)
        self.assertEqual(self.clinic(s)["grace_minutes"], 0)
        s.stop()

    def test_env_grace_applies_when_unset(self):
        os.mkdir(os.path.join(self.tmp, "d2"))
        s = self.run_server(os.path.join(self.tmp, "d2"), grace=20,
                            env={"CLINICBOX_GRACE_MINUTES": "22"})
        self.assertEqual(self.clinic(s)["grace_minutes"], 22)
        s.stop()


if __name__ == "__main__":
    unittest.main()
