"""The Debian package end to end (issue 12): built at two versions from this
tree, the older one installed with apt into a fresh Debian 12 root made
with mmdebstrap, the server started from the installed files the way
clinicbox.service starts it, health over TLS, a booking; then an upgrade to
the newer package (data kept, the migrations run by postinst), remove (data
kept), purge (data, config and user gone); and lintian on the package.

systemd does not run in a chroot: the server is started as the unit says
(its ExecStart, User, WorkingDirectory and UMask, read from the installed
unit) through chroot and runuser, on free loopback ports given with
--listen and --set (a chroot shares the host's network: nothing may bind
443 or 80 there). The unit itself is checked with `systemd-analyze verify`
and `systemd-analyze security --offline=yes` inside the root.

Needs root (mmdebstrap's root mode, chroot, mounts), the network to the
Debian mirror the machine's apt uses, mmdebstrap and lintian
(scripts/deps.sh slow). Slow (2 to 3 minutes): ctest `package.deb`, label
`slow`, run by scripts/slow-tests.sh. Environment: CLINICBOX_PKG_WORK, the
work folder (default build/package-test); CLINICBOX_KEEP_TEST_DATA=1 keeps
the root and the logs there; CLINICBOX_PKG_MIRROR, a mirror or sources file
for mmdebstrap instead of the machine's.
"""
import datetime
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
import sys
import time
import unittest

SRC = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "api"))
import openapi_check  # noqa: E402  (the API tests' checker of answers)

WORK = os.path.realpath(os.environ.get("CLINICBOX_PKG_WORK", os.path.join(SRC, "build", "package-test")))
KEEP = os.environ.get("CLINICBOX_KEEP_TEST_DATA") == "1"
CONF = "/etc/clinicbox/clinicbox.conf"
DATA = "/var/lib/clinicbox"
UNIT = "/lib/systemd/system/clinicbox.service"
# Lintian tags the package overrides (packaging/lintian-overrides, each
# explained in packaging/README.md); anything else reported fails.
LINTIAN_ALLOWED = {
    "initial-upload-closes-no-bugs",
    "package-contains-documentation-outside-usr-share-doc",
    "package-supports-alternative-init-but-no-init.d-script",
    "spelling-error-in-binary",
}
# The worst `systemd-analyze security` exposure the unit may have
# (docs/packaging.md gives the score and what is left).
MAX_EXPOSURE = 2.0


def project_version():
    with open(os.path.join(SRC, "CMakeLists.txt")) as f:
        return re.search(r"project\(clinicbox VERSION ([0-9.]+)", f.read()).group(1)


OLD = project_version() + "-1"
NEW = project_version() + "-2"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, check=True, **kw):
    """Runs a command; its output comes back as text (and in the failure)."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}:\n{r.stdout[-6000:]}")
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mirror():
    """The Debian sources the machine's apt uses (a deb822 or one-line file
    that mmdebstrap copies into the root), or the default mirror."""
    if os.environ.get("CLINICBOX_PKG_MIRROR"):
        return os.environ["CLINICBOX_PKG_MIRROR"]
    for path in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        try:
            with open(path) as f:
                if "bookworm" in f.read():
                    return path
        except OSError:
            pass
    return "http://deb.debian.org/debian"


def mounts_under(path):
    with open("/proc/self/mounts") as f:
        points = [line.split()[1].replace("\\040", " ") for line in f]
    return sorted((p for p in points if p == path or p.startswith(path + "/")), reverse=True)


class Root:
    """A Debian 12 root in a folder, with /proc and /dev/shm mounted while
    it is used (its device nodes are mmdebstrap's own, no bind of the
    host's /dev, so that removing the folder can never reach the host's)."""

    def __init__(self, path):
        self.path = path

    def create(self):
        self.destroy()
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        # The package lists stay, for apt to install the package's dependencies.
        run(["mmdebstrap", "--quiet", "--variant=apt", "--skip=cleanup/apt/lists", "bookworm",
             self.path, mirror()])
        run(["mount", "-t", "proc", "proc", self.file("/proc")])
        run(["mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", self.file("/dev/shm")])

    def unmount(self):
        for p in mounts_under(self.path):
            if subprocess.run(["umount", p]).returncode != 0:
                subprocess.run(["umount", "-l", p])

    def destroy(self):
        self.unmount()
        left = mounts_under(self.path)
        if left:  # never delete through a mount
            raise AssertionError(f"still mounted, not removing {self.path}: {left}")
        shutil.rmtree(self.path, ignore_errors=True)

    def file(self, path):
        return os.path.join(self.path, path.lstrip("/"))

    def sh(self, script, check=True, **kw):
        return run(["chroot", self.path, "/bin/sh", "-c", script], check=check, **kw)

    def apt(self, *args):
        return run(["chroot", self.path, "env", "DEBIAN_FRONTEND=noninteractive",
                    "apt-get", "-y", "-o", "Dpkg::Use-Pty=0", *args])

    def ids(self, name):
        """(uid, gid) of a user of the root, or None."""
        r = self.sh(f"getent passwd {name}", check=False)
        if r.returncode != 0:
            return None
        f = r.stdout.strip().split(":")
        return int(f[2]), int(f[3])


class Box:
    """The installed server, started as clinicbox.service starts it."""

    def __init__(self, root, workdir):
        self.root, self.workdir = root, workdir
        self.proc = None
        self.token = None

    def unit(self):
        """ExecStart, User, WorkingDirectory and UMask of the installed unit."""
        with open(self.root.file(UNIT)) as f:
            text = f.read()
        keys, section = {}, None
        for line in text.splitlines():
            if re.fullmatch(r"\[\w+\]", line.strip()):
                section = line.strip()
            m = re.match(r"^(ExecStart|User|WorkingDirectory|UMask)=(.*)$", line.strip())
            if m and section == "[Service]":
                keys[m.group(1)] = m.group(2)
        return keys

    def start(self):
        u = self.unit()
        self.port, self.redirect_port = free_port(), free_port()
        cmd = (f"cd {u['WorkingDirectory']} && umask {u['UMask']} && exec runuser -u {u['User']} -- "
               f"{u['ExecStart']} --listen 127.0.0.1:{self.port} "
               f"--set tls_redirect_listen=127.0.0.1:{self.redirect_port}")
        self.log_path = os.path.join(self.workdir, f"server-{self.port}.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(["chroot", self.root.path, "/bin/sh", "-c", cmd],
                                     stdout=self.log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while "serving on https://" not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{self.log()}")
            time.sleep(0.1)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def server_pid(self):
        """The clinicbox process itself: the child of runuser (signalling
        runuser would have it kill the server two seconds later)."""
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
            return int(f.read().split()[0])

    def stop(self, within=20):
        """SIGTERM to the server, as systemd sends it; it must exit 0
        within TimeoutStopSec."""
        os.kill(self.server_pid(), signal.SIGTERM)
        rc = self.proc.wait(timeout=within)
        self.proc = None
        self.log_file.close()
        if rc != 0:
            raise AssertionError(f"the server exited {rc} on SIGTERM:\n{self.log()}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def cli(self, *args, input=None):
        """A clinicbox command as the service's user, with its settings."""
        quoted = " ".join(f"'{a}'" for a in args)
        return self.root.sh(f"cd / && runuser -u clinicbox -- clinicbox {quoted} --config {CONF}",
                            input=input)

    def request(self, method, path, body=None, auth=True):
        """One HTTPS request, trusting only the certificate the box made
        (and checking that it names 127.0.0.1); the answer is checked
        against docs/openapi.yaml."""
        ctx = ssl.create_default_context(cafile=self.root.file(f"{DATA}/tls/cert.pem"))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        headers = {}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            text = r.read().decode()
            openapi_check.check(method, path, r.status, r.headers, text)
            ctype = r.headers.get("Content-Type", "")
            return r.status, (json.loads(text) if "json" in ctype else text)
        finally:
            conn.close()


def db_read(root, sql, *params):
    """A query on the stopped box's database, without writing anything
    beside it (immutable: no -shm, no lock)."""
    uri = f"file:{root.file(DATA + '/clinicbox.db')}?immutable=1"
    with sqlite3.connect(uri, uri=True) as c:
        return c.execute(sql, params).fetchall()


def newest_migration():
    d = os.path.join(SRC, "src", "store", "migrations")
    name = sorted(n for n in os.listdir(d) if n.endswith(".sql"))[-1]
    with open(os.path.join(d, name)) as f:
        return name, int(name.split("_")[0]), f.read()


def undo_newest_migration(root):
    """Takes the stopped box's database back before the newest migration,
    as an older release left it, so that the upgrade has one to apply.
    Done for a migration of ADD COLUMNs only (SQLite drops them back);
    returns its file name, or None for another kind of migration (then the
    upgrade is still checked to run `clinicbox migrate`, with nothing to
    apply)."""
    name, version, sql = newest_migration()
    body = re.sub(r"--[^\n]*", "", sql)
    stmts = [s.strip() for s in body.split(";") if s.strip()]
    adds = [re.match(r"(?is)^ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:COLUMN\s+)?(\w+)\b", s) for s in stmts]
    if not stmts or not all(adds):
        return None
    path = root.file(DATA + "/clinicbox.db")
    with sqlite3.connect(path) as c:
        for m in reversed(adds):
            c.execute(f"ALTER TABLE {m.group(1)} DROP COLUMN {m.group(2)}")
        c.execute(f"PRAGMA user_version = {version - 1}")
    c.close()
    root.sh(f"chown clinicbox:clinicbox {DATA}/clinicbox.db*")
    return name


class PackageTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        if os.geteuid() != 0:
            self.fail("the package test needs root (mmdebstrap's root mode, chroot, mount)")
        for tool in ("mmdebstrap", "lintian", "readelf"):
            if not shutil.which(tool):
                self.fail(f"{tool} is missing (scripts/deps.sh slow installs it)")
        os.makedirs(WORK, exist_ok=True)
        for name in os.listdir(WORK):  # the logs of an earlier run
            if name.endswith(".log"):
                os.remove(os.path.join(WORK, name))
        self.root = Root(os.path.join(WORK, "root"))
        self.box = Box(self.root, WORK)
        self.t0 = time.monotonic()

    def tearDown(self):
        self.box.kill()
        if KEEP:
            self.root.unmount()
            log(f"kept {WORK} (root, logs)")
        else:
            self.root.destroy()
        log(f"total {time.monotonic() - self.t0:.0f} s")

    def step(self, what):
        log(f"{time.monotonic() - self.t0:6.1f} s  {what}")

    def build(self, version):
        out = run([os.path.join(SRC, "packaging", "build-deb.sh"), version],
                  env=dict(os.environ, CLINICBOX_DEB_BUILD_DIR=os.path.join(WORK, "build-deb")))
        deb = out.stdout.strip().splitlines()[-1]
        self.assertTrue(deb.endswith(f"clinicbox_{version}_amd64.deb"), out.stdout[-2000:])
        dest = os.path.join(WORK, os.path.basename(deb))
        shutil.copy(deb, dest)
        return dest

    def install(self, deb):
        shutil.copy(deb, self.root.file("/tmp/"))
        out = self.root.apt("install", "/tmp/" + os.path.basename(deb)).stdout
        with open(os.path.join(WORK, f"apt-install-{os.path.basename(deb)}.log"), "w") as f:
            f.write(out)
        return out

    def check_lintian(self, deb):
        r = run(["lintian", "-I", "-E", "--pedantic", "--show-overrides", deb], check=False)
        tags = [line.split()[:3] for line in r.stdout.splitlines() if re.match(r"^[EWIPXOC]: ", line)]
        unexpected = [t for t in tags if t[0] != "O:" or t[2] not in LINTIAN_ALLOWED]
        self.assertEqual(unexpected, [], f"lintian:\n{r.stdout}")
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_install_upgrade_remove_purge(self):
        root, box = self.root, self.box

        self.step(f"building the package at {OLD} and {NEW}")
        old_deb, new_deb = self.build(OLD), self.build(NEW)
        self.step("lintian")
        self.check_lintian(old_deb)

        self.step(f"a Debian 12 root with mmdebstrap from {mirror()}")
        root.create()

        self.step(f"installing {os.path.basename(old_deb)} with apt")
        out = self.install(old_deb)
        latest = newest_migration()[1]
        self.assertIn(f"{DATA}/clinicbox.db is at schema version {latest}", out)
        self.assertEqual(root.sh("dpkg-query -W -f '${Status} ${Version}' clinicbox").stdout,
                         f"install ok installed {OLD}")
        depends = root.sh("dpkg-query -W -f '${Depends}' clinicbox").stdout
        for dep in ("adduser", "init-system-helpers", "tzdata", "ca-certificates", "libcivetweb1", "libssl3",
                    "libsqlite3-0"):
            self.assertIn(dep, depends)
        # The user, the folders and modes postinst made; the database made
        # by `clinicbox migrate` as that user.
        uid, gid = root.ids("clinicbox")
        self.assertLess(uid, 1000)  # a system user
        self.assertEqual(root.sh("getent passwd clinicbox").stdout.strip().split(":")[5:],
                         [DATA, "/usr/sbin/nologin"])
        st = os.stat(root.file(DATA))
        self.assertEqual((st.st_uid, st.st_gid, oct(st.st_mode & 0o7777)), (uid, gid, "0o750"))
        st = os.stat(root.file(DATA + "/clinicbox.db"))
        self.assertEqual((st.st_uid, st.st_gid), (uid, gid))
        st = os.stat(root.file(CONF))
        self.assertEqual((st.st_uid, st.st_gid, oct(st.st_mode & 0o7777)), (0, gid, "0o640"))
        self.assertEqual(root.sh("cat /var/lib/dpkg/info/clinicbox.conffiles").stdout.split(), [CONF])
        # Enabled for the next boot, though systemd does not run here.
        self.assertEqual(os.readlink(root.file("/etc/systemd/system/multi-user.target.wants/clinicbox.service")),
                         UNIT)
        # The installed binary finds its shims and the UI where the package put them.
        dyn = run(["readelf", "-d", root.file("/usr/bin/clinicbox")]).stdout
        self.assertIn("Library runpath: [/usr/lib/clinicbox]", dyn)
        self.assertEqual(root.sh("clinicbox version").stdout.strip(), f"clinicbox {OLD}")
        self.assertIn("web_dir = /usr/share/clinicbox/web",
                      root.sh(f"clinicbox config --config {CONF}").stdout)

        self.step("systemd-analyze verify and security on the installed unit")
        r = root.sh(f"systemd-analyze verify {UNIT}", check=False)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, ""), r.stdout)
        r = root.sh(f"systemd-analyze security --offline=yes --no-pager {UNIT}", check=False)
        score = re.search(r"Overall exposure level for clinicbox.service: ([0-9.]+)", r.stdout)
        self.assertIsNotNone(score, r.stdout)
        log(f"systemd-analyze security: exposure {score.group(1)}")
        self.assertLessEqual(float(score.group(1)), MAX_EXPOSURE, r.stdout)

        self.step("starting the installed server as the unit does; health over TLS")
        box.start()
        status, body = box.request("GET", "/api/health", auth=False)
        self.assertEqual((status, body), (200, {"status": "ok", "version": OLD}))
        status, page = box.request("GET", "/", auth=False)
        with open(root.file("/usr/share/clinicbox/web/index.html")) as f:
            self.assertEqual((status, page), (200, f.read()))
        conn = http.client.HTTPConnection("127.0.0.1", box.redirect_port, timeout=10)
        conn.request("GET", "/api/health")
        r = conn.getresponse()
        self.assertEqual((r.status, r.getheader("Location")),
                         (308, f"https://127.0.0.1:{box.port}/api/health"))
        conn.close()

        self.step("the first admin, a token, and a booking through the API")
        box.cli("user", "add", "--username", "chef", "--role", "admin", input="Kx9-pkg-test-password\n")
        box.token = box.cli("token", "create", "--name", "pkgtest", "--role", "admin").stdout.split()[-1]
        status, body = box.request("PUT", "/api/clinic", {"name": "Praxis Paket", "timezone": "Europe/Berlin"})
        self.assertEqual(status, 200, body)
        status, doctor = box.request("POST", "/api/doctors", {"name": "Dr. Deb", "slot_minutes": 30})
        self.assertEqual(status, 201, doctor)
        weekly = [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(1, 8)]
        status, body = box.request("PUT", f"/api/doctors/{doctor['id']}/schedule",
                                   {"weekly": weekly, "exceptions": []})
        self.assertEqual(status, 200, body)
        status, patient = box.request("POST", "/api/patients", {"name": "Paula Paket", "phone": "+4915100000001"})
        self.assertEqual(status, 201, patient)
        day = (datetime.date.today() + datetime.timedelta(days=8)).isoformat()
        status, slots = box.request("GET", f"/api/doctors/{doctor['id']}/available-slots?from={day}&to={day}")
        self.assertEqual(status, 200, slots)
        start = slots["slots"][0]["start"]
        status, appt = box.request("POST", "/api/appointments",
                                   {"doctor_id": doctor["id"], "patient_id": patient["id"], "start": start})
        self.assertEqual(status, 201, appt)
        box.stop()

        self.step(f"upgrading to {os.path.basename(new_deb)}")
        with open(root.file(DATA + "/tls/cert.pem")) as f:
            cert = f.read()
        migration = undo_newest_migration(root)
        with open(root.file(CONF), "a") as f:
            f.write("# a local change the upgrade must keep\n")
        out = self.install(new_deb)
        if migration:
            self.assertIn(f"applied migration {migration} (schema version {latest})", out)
        else:
            log(f"{newest_migration()[0]} is not ADD COLUMNs only: the upgrade had no migration to apply")
        self.assertIn(f"{DATA}/clinicbox.db is at schema version {latest}", out)
        self.assertEqual(root.sh("dpkg-query -W -f '${Status} ${Version}' clinicbox").stdout,
                         f"install ok installed {NEW}")
        self.assertEqual(db_read(root, "PRAGMA user_version"), [(latest,)])
        start_utc = int(datetime.datetime.fromisoformat(appt["start"]).timestamp())
        self.assertEqual(db_read(root, "SELECT start_utc, status FROM appointments WHERE id = ?", appt["id"]),
                         [(start_utc, "booked")])
        with open(root.file(CONF)) as f:
            self.assertTrue(f.read().endswith("# a local change the upgrade must keep\n"))
        self.assertEqual([n for n in os.listdir(root.file("/etc/clinicbox")) if n != "clinicbox.conf"], [])

        self.step("the upgraded server: the same certificate, the booking still there")
        box.start()
        status, body = box.request("GET", "/api/health", auth=False)
        self.assertEqual((status, body), (200, {"status": "ok", "version": NEW}))
        with open(root.file(DATA + "/tls/cert.pem")) as f:
            self.assertEqual(f.read(), cert)  # the one staff accepted, kept
        status, again = box.request("GET", f"/api/appointments/{appt['id']}")
        self.assertEqual(status, 200)
        self.assertEqual((again["start"], again["status"], again["patient_id"]),
                         (appt["start"], "booked", patient["id"]))
        box.stop()

        self.step("apt remove: the data, the config and the user stay")
        root.apt("remove", "clinicbox")
        self.assertFalse(os.path.exists(root.file("/usr/bin/clinicbox")))
        self.assertEqual(root.sh("dpkg-query -W -f '${Status}' clinicbox").stdout,
                         "deinstall ok config-files")
        self.assertTrue(os.path.exists(root.file(DATA + "/clinicbox.db")))
        self.assertTrue(os.path.exists(root.file(DATA + "/tls/cert.pem")))
        self.assertEqual(db_read(root, "SELECT count(*) FROM appointments WHERE id = ?", appt["id"]), [(1,)])
        self.assertTrue(os.path.exists(root.file(CONF)))
        self.assertEqual(root.ids("clinicbox"), (uid, gid))

        self.step("apt purge: the data, the config and the user are gone")
        root.apt("purge", "clinicbox")
        self.assertEqual(root.sh("dpkg-query -W clinicbox", check=False).returncode, 1)
        for path in (DATA, "/etc/clinicbox", "/etc/systemd/system/multi-user.target.wants/clinicbox.service",
                     "/var/lib/systemd/deb-systemd-helper-enabled/clinicbox.service.dsh-also"):
            self.assertFalse(os.path.lexists(root.file(path)), path)
        self.assertIsNone(root.ids("clinicbox"))
        self.assertNotEqual(root.sh("getent group clinicbox", check=False).returncode, 0)
        self.step("done")


if __name__ == "__main__":
    unittest.main()
