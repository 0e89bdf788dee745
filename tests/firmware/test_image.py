"""The box image's boot test (docs/firmware.md, "The boot test"): the image
that firmware/build-image.sh makes, booted under QEMU in software emulation
(TCG, no KVM), keeps an appointment booked over HTTPS through a hard power-off
and through the replacement of its system partition by a freshly built one.

  1. Build the image (firmware/build-image.sh; the package from $CLINICBOX_DEB,
     else packaging/build-deb.sh builds it) and a setup stick (a FAT image
     labelled CLINICBOX with clinicbox-setup.conf: the clinic's name and time
     zone, the first admin, a mongo_uri, a host name).
  2. Boot 1, the kernel and initrd taken from the image's system partition
     (direct kernel boot: much faster under TCG than firmware and GRUB), the
     stick plugged in over USB: the service answers on a forwarded port, the
     stick's admin logs in, the clinic has the stick's name; a doctor, a
     schedule, a patient and an appointment are made over HTTPS; at once the
     VM is switched off hard (`quit` on the QEMU monitor, no shutdown).
  3. With QEMU gone, the data partition is read from the disk file without
     mounting: copied out, its ext4 journal replayed by e2fsck (which must
     find nothing else to repair), the database and its WAL dumped with
     debugfs: sqlite3's integrity_check says ok and the appointment is there.
  4. Boot 2 of the same disk: the same certificate, the admin, the clinic, the
     appointment, the central sync still configured and the stick's host name
     answered to (mongo_uri and host name are kept on the data partition). Off hard again; the journal on the system partition
     holds both boots and says that systemd runs the hardware watchdog.
  5. A new system partition (firmware/build-image.sh --system-only) is written
     over the old one with dd; boot 3 goes through the whole firmware path
     (OVMF's UEFI, GRUB from the EFI partition, the kernel of the new system
     partition): everything of step 4 is still there, and integrity_check is
     ok once more.

Environment: CLINICBOX_FW_WORK (default: a folder in the build directory) for
the images and logs; CLINICBOX_DEB, the package to put in the image;
CLINICBOX_FW_IMAGE_DIR / CLINICBOX_FW_SYSTEM_DIR reuse the output of an
earlier build-image.sh run (full / --system-only) instead of building
(for working on this test; the ctest test builds both).
"""
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from datetime import date, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD_IMAGE = os.path.join(TOP, "firmware", "build-image.sh")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"

BOOT_TIMEOUT = 900     # s from QEMU's start to the service answering (TCG on a busy machine)
SETUP_TIMEOUT = 600    # s more for the setup stick to be applied


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def partitions(disk):
    """{name: (offset in bytes, size in bytes)} from the disk's GPT."""
    out = subprocess.run(["sfdisk", "--json", disk], check=True, capture_output=True, text=True).stdout
    table = json.loads(out)["partitiontable"]
    sector = table.get("sectorsize", 512)
    return {p["name"]: (p["start"] * sector, p["size"] * sector) for p in table["partitions"]}


def copy_range(src, dst, offset, size):
    """Bytes [offset, offset+size) of src into a new sparse file dst."""
    mib = 1024 * 1024
    assert offset % mib == 0 and size % mib == 0
    run(["dd", f"if={src}", f"of={dst}", "bs=1M", f"skip={offset // mib}", f"count={size // mib}",
         "conv=sparse", "status=none"])


class Box:
    """One boot of the disk under QEMU (TCG): the serial console in a log
    file, the monitor on a Unix socket, the guest's 443 on a local port."""

    def __init__(self, work, disk, name, kernel=None, stick=None):
        self.work, self.disk, self.name = work, disk, name
        self.port = free_port()
        self.serial = os.path.join(work, f"serial-{name}.log")
        self.monitor = os.path.join(work, f"monitor-{name}.sock")
        cmd = ["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "max", "-smp", "2",
               "-m", "1024", "-display", "none", "-no-reboot",
               "-serial", f"file:{self.serial}",
               "-monitor", f"unix:{self.monitor},server,nowait",
               "-drive", f"file={disk},format=raw,if=virtio,cache=writeback",
               "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{self.port}-:443",
               "-device", "virtio-net-pci,netdev=net0",
               # The hardware watchdog systemd drives (RuntimeWatchdogSec=).
               "-device", "i6300esb",
               "-rtc", "base=utc"]
        if kernel:
            vmlinuz, initrd, cmdline = kernel
            cmd += ["-kernel", vmlinuz, "-initrd", initrd, "-append", cmdline]
        else:
            vars_copy = os.path.join(work, f"ovmf-vars-{name}.fd")
            shutil.copyfile(OVMF_VARS, vars_copy)
            cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
        if stick:
            cmd += ["-device", "qemu-xhci,id=xhci",
                    "-drive", f"if=none,id=stick,format=raw,file={stick}",
                    "-device", "usb-storage,bus=xhci.0,drive=stick"]
        log(f"boot {name}: {' '.join(cmd)}")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        self.cert = None

    def serial_tail(self, n=40):
        try:
            with open(self.serial, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no serial log)"

    def check_alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"QEMU ({self.name}) exited with {self.proc.returncode}; "
                                 f"serial console:\n{self.serial_tail()}")

    def context(self):
        """TLS that trusts exactly the box's own certificate (pinned at the
        first answer), without a host name check: it names the box, not
        127.0.0.1."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=self.cert)
        return ctx

    def wait_up(self, timeout=BOOT_TIMEOUT):
        """Until /api/health answers 200 over TLS; pins the certificate."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                pem = ssl.get_server_certificate(("127.0.0.1", self.port), timeout=10)
                self.cert = pem
                status, body = self.request("GET", "/api/health")
                if status == 200:
                    log(f"boot {self.name}: the service answers after "
                        f"{time.monotonic() - self.started:.0f} s: {body}")
                    return
                last = f"{status} {body}"
            except (OSError, ssl.SSLError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(2)
        raise AssertionError(f"boot {self.name}: no health after {timeout} s ({last}); "
                             f"serial console:\n{self.serial_tail()}")

    def fingerprint(self):
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(self.cert)).hexdigest()

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=60, context=self.context())
        try:
            h = {"Host": "localhost"}
            h.update(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            raw = r.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            if r.getheader("Set-Cookie"):
                self.last_cookie = r.getheader("Set-Cookie").split(";", 1)[0]
            return r.status, parsed
        finally:
            conn.close()

    def quit_hard(self):
        """Power off without a shutdown: `quit` on the QEMU monitor."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.monitor)
            s.sendall(b"quit\n")
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
        self.proc.wait(timeout=60)
        log(f"boot {self.name}: powered off hard after {time.monotonic() - self.started:.0f} s")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Staff:
    """A logged-in admin of the box: the session cookie and CSRF token."""

    def __init__(self, box, username, password, timeout=SETUP_TIMEOUT):
        self.box = box
        # Until the box has an admin (the setup stick's), without trying
        # passwords: failed logins would be throttled.
        deadline = time.monotonic() + timeout
        while True:
            box.check_alive()
            try:
                status, body = box.request("GET", "/api/session")
            except (OSError, ssl.SSLError, http.client.HTTPException) as e:
                # The stick's mongo_uri restarts the server meanwhile.
                status, body = None, repr(e)
            if status == 200 and not body.get("setup_required"):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"no admin after {timeout} s: {status} {body}; "
                                     f"serial console:\n{box.serial_tail()}")
            time.sleep(2)
        status, body = box.request("POST", "/api/session", {"username": username, "password": password})
        if status not in (200, 201):
            raise AssertionError(f"login as {username}: {status} {body}")
        self.cookie = box.last_cookie
        self.csrf = body["csrf_token"]

    def call(self, method, path, body=None):
        h = {"Cookie": self.cookie}
        if method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        return self.box.request(method, path, body, h)


def check_data_offline(work, disk, appointment_id, label):
    """The data partition of the powered-off disk, read without mounting:
    its ext4 journal replayed on a copy (e2fsck), the database and WAL dumped
    (debugfs), integrity_check, the appointment."""
    off, size = partitions(disk)["clinicbox-data"]
    copy = os.path.join(work, f"data-{label}.img")
    copy_range(disk, copy, off, size)
    # -p: replay the journal and fix only what is safe; 0 or 1 (fixed) is fine.
    r = subprocess.run(["e2fsck", "-p", copy], capture_output=True, text=True)
    assert r.returncode in (0, 1), f"e2fsck after the power-off: {r.returncode}\n{r.stdout}{r.stderr}"
    r = subprocess.run(["e2fsck", "-fn", copy], capture_output=True, text=True)
    assert r.returncode == 0, f"the data file system is damaged:\n{r.stdout}{r.stderr}"
    dump = os.path.join(work, f"db-{label}")
    shutil.rmtree(dump, ignore_errors=True)
    os.makedirs(dump)
    listing = subprocess.run(["debugfs", "-R", "ls -l /", copy], check=True,
                             capture_output=True, text=True).stdout
    for name in ("clinicbox.db", "clinicbox.db-wal"):
        if re.search(rf"\s{re.escape(name)}\s*$", listing, re.M):
            run(["debugfs", "-R", f"dump /{name} {os.path.join(dump, name)}", copy],
                capture_output=True)
    assert os.path.exists(os.path.join(dump, "clinicbox.db")), f"no clinicbox.db on the data partition:\n{listing}"
    db = sqlite3.connect(os.path.join(dump, "clinicbox.db"))
    try:
        check = db.execute("PRAGMA integrity_check").fetchall()
        assert check == [("ok",)], f"integrity_check: {check}"
        row = db.execute("SELECT status FROM appointments WHERE id = ?", (appointment_id,)).fetchone()
        assert row is not None, f"appointment {appointment_id} is not in the database on the disk"
    finally:
        db.close()
    os.remove(copy)
    log(f"{label}: data partition read offline: e2fsck clean, integrity_check ok, "
        f"appointment {appointment_id} is {row[0]}")


def kernel_of(work, disk, label):
    """The kernel, initrd and command line of the disk's system partition
    (debugfs on a copy of it: no mount)."""
    off, size = partitions(disk)["clinicbox-root"]
    copy = os.path.join(work, f"root-{label}.img")
    copy_range(disk, copy, off, size)
    listing = subprocess.run(["debugfs", "-R", "ls /boot", copy], check=True,
                             capture_output=True, text=True).stdout
    kernels = sorted(re.findall(r"vmlinuz-(\S+)", listing))
    assert kernels, f"no kernel in the system partition:\n{listing}"
    kver = kernels[-1]
    out = []
    for src, dst in ((f"/boot/vmlinuz-{kver}", "vmlinuz"), (f"/boot/initrd.img-{kver}", "initrd.img"),
                     ("/boot/clinicbox/cmdline", "cmdline")):
        path = os.path.join(work, f"{dst}-{label}")
        run(["debugfs", "-R", f"dump {src} {path}", copy], capture_output=True)
        assert os.path.getsize(path) > 0, f"{src} is empty or missing"
        out.append(path)
    os.remove(copy)
    with open(out[2]) as f:
        cmdline = f.read().strip()
    return out[0], out[1], cmdline


def journal_of(work, disk, label):
    """The box's journal (on its system partition) as text, read with
    journalctl from a copy of the partition: what the serial console does
    not show, for a failure's report. Returns the file's path."""
    off, size = partitions(disk)["clinicbox-root"]
    copy = os.path.join(work, f"root-journal-{label}.img")
    copy_range(disk, copy, off, size)
    subprocess.run(["e2fsck", "-p", copy], capture_output=True)
    jdir = os.path.join(work, f"journal-{label}")
    shutil.rmtree(jdir, ignore_errors=True)
    os.makedirs(jdir)
    subprocess.run(["debugfs", "-R", f"rdump /var/log/journal {jdir}", copy], capture_output=True)
    os.remove(copy)
    out = os.path.join(work, f"journal-{label}.txt")
    with open(out, "w") as f:
        subprocess.run(["journalctl", "-D", os.path.join(jdir, "journal"), "--no-pager",
                        "-o", "short-monotonic"], stdout=f, stderr=subprocess.STDOUT)
    return out


def build(out, system_only):
    cmd = [BUILD_IMAGE, "--out", out]
    if os.environ.get("CLINICBOX_DEB"):
        cmd += ["--deb", os.environ["CLINICBOX_DEB"]]
    if system_only:
        cmd.append("--system-only")
    t0 = time.monotonic()
    log(f"build: {' '.join(cmd)}")
    run(cmd)
    log(f"build{' --system-only' if system_only else ''}: {time.monotonic() - t0:.0f} s")


def make_stick(path, text):
    """A 16 MiB FAT file system labelled CLINICBOX with clinicbox-setup.conf
    (mkfs.vfat and mtools: no mount)."""
    if os.path.exists(path):
        os.remove(path)
    run(["mkfs.vfat", "-n", "CLINICBOX", "-C", path, str(16 * 1024)], capture_output=True)
    conf = path + ".conf"
    with open(conf, "w") as f:
        f.write(text)
    run(["mcopy", "-i", path, conf, "::/clinicbox-setup.conf"])


class ImageTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        for tool in ("qemu-system-x86_64", "sfdisk", "debugfs", "e2fsck", "mkfs.vfat", "mcopy"):
            if not shutil.which(tool):
                self.fail(f"{tool} is missing (scripts/deps.sh slow installs it)")
        self.work = os.environ.get("CLINICBOX_FW_WORK") or tempfile.mkdtemp(prefix="clinicbox-fw-")
        os.makedirs(self.work, exist_ok=True)
        self.boxes = []

    def tearDown(self):
        for b in self.boxes:
            b.kill()

    def boot(self, disk, name, **kw):
        b = Box(self.work, disk, name, **kw)
        self.boxes.append(b)
        return b

    def test_power_off_and_system_replacement_keep_the_booking(self):
        try:
            self.power_off_and_system_replacement()
        except BaseException:
            # The box's own journal tells what its serial console does not.
            for b in self.boxes:
                b.kill()
            disk = os.path.join(self.work, "disk.img")
            if self.boxes and os.path.exists(disk):
                try:
                    path = journal_of(self.work, disk, "failure")
                    with open(path, errors="replace") as f:
                        lines = [l for l in f if re.search(r"clinicbox\[|clinicbox-|usb-setup|prepare-data|[Ff]ailed|timed out", l)]
                    print(f"the box's journal ({path}), clinicbox and failures, last 80 lines:", file=sys.stderr)
                    sys.stderr.write("".join(lines[-80:]))
                except Exception as e:  # the report must not hide the failure
                    print(f"(no journal: {e!r})", file=sys.stderr)
            raise

    def power_off_and_system_replacement(self):
        t_all = time.monotonic()
        image_dir = os.environ.get("CLINICBOX_FW_IMAGE_DIR")
        if not image_dir:
            image_dir = os.path.join(self.work, "image")
            build(image_dir, system_only=False)
        disk = os.path.join(self.work, "disk.img")
        run(["cp", "--sparse=always", os.path.join(image_dir, "clinicbox.img"), disk])

        password = "Boot-" + secrets.token_urlsafe(12)
        stick = os.path.join(self.work, "stick.img")
        make_stick(stick, "# clinicbox-setup.conf of the boot test\r\n"
                          'clinic_name = "Praxis am Bootweg"\r\n'
                          "timezone = Europe/Berlin\n"
                          "admin_username = chef\n"
                          f"admin_password = {password}\n"
                          "mongo_uri = mongodb://central.invalid:27017/clinicbox\n"
                          "hostname = praxis-boot\n")

        # Boot 1: set up by the stick, book, power off hard.
        box = self.boot(disk, "1", kernel=kernel_of(self.work, disk, "1"), stick=stick)
        box.wait_up()
        cert = box.fingerprint()
        staff = Staff(box, "chef", password)
        deadline = time.monotonic() + SETUP_TIMEOUT
        while True:  # the stick's clinic settings come after its admin
            status, clinic = staff.call("GET", "/api/clinic")
            self.assertEqual(status, 200, clinic)
            if clinic["name"] == "Praxis am Bootweg" or time.monotonic() > deadline:
                break
            time.sleep(2)
        self.assertEqual((clinic["name"], clinic["timezone"]), ("Praxis am Bootweg", "Europe/Berlin"))
        status, sync = staff.call("GET", "/api/sync/status")
        self.assertEqual((status, sync["enabled"]), (200, True), sync)

        status, doctor = staff.call("POST", "/api/doctors", {"name": "Dr. Boot", "slot_minutes": 30})
        self.assertEqual(status, 201, doctor)
        weekly = [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(1, 8)]
        status, body = staff.call("PUT", f"/api/doctors/{doctor['id']}/schedule",
                                  {"weekly": weekly, "exceptions": []})
        self.assertEqual(status, 200, body)
        status, patient = staff.call("POST", "/api/patients", {"name": "Anna Müller",
                                                              "email": "anna@example.org"})
        self.assertEqual(status, 201, patient)
        day = date.today() + timedelta(days=2)   # a whole free day, in any zone
        status, slots = staff.call("GET", f"/api/doctors/{doctor['id']}/available-slots"
                                          f"?from={day.isoformat()}&to={(day + timedelta(days=1)).isoformat()}")
        self.assertEqual(status, 200, slots)
        slot_list = slots["slots"]
        self.assertTrue(slot_list, slots)
        status, appt = staff.call("POST", "/api/appointments",
                                  {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                   "start": slot_list[0]["start"], "duration_minutes": 30})
        self.assertEqual(status, 201, appt)
        log(f"boot 1: booked {appt['id']} at {appt['start']}")
        box.quit_hard()  # at once: acknowledged is acknowledged
        check_data_offline(self.work, disk, appt["id"], "after-power-off")

        # Boot 2: the same disk.
        box = self.boot(disk, "2", kernel=kernel_of(self.work, disk, "2"))
        box.wait_up()
        self.assert_box_kept(box, password, cert, appt)
        box.quit_hard()
        # The journal is kept on disk across boots (and a power-off), and
        # systemd drives the hardware watchdog (QEMU's i6300ESB).
        path = journal_of(self.work, disk, "2")
        with open(path, errors="replace") as f:
            journal = f.read()
        boots = subprocess.run(["journalctl", "-D", os.path.join(self.work, "journal-2", "journal"),
                                "--list-boots", "--no-pager", "-q"],
                               capture_output=True, text=True).stdout.strip().splitlines()
        self.assertEqual(len(boots), 2, f"the journal on disk holds {len(boots)} boots, not both")
        self.assertIn("Using hardware watchdog 'i6300ESB timer'", journal)
        self.assertIn("Watchdog running with a hardware timeout of 30s", journal)
        log("journal: both boots on disk, the hardware watchdog running")

        # A new system partition over the old one, then boot 3 through the
        # firmware (UEFI, GRUB on the EFI partition, the new kernel).
        system_dir = os.environ.get("CLINICBOX_FW_SYSTEM_DIR")
        if not system_dir:
            system_dir = os.path.join(self.work, "system")
            build(system_dir, system_only=True)
        system = os.path.join(system_dir, "system.img")
        off, size = partitions(disk)["clinicbox-root"]
        self.assertEqual(os.path.getsize(system), size, "system.img does not fit the system partition exactly")
        data_before = self.data_digest(disk)
        run(["dd", f"if={system}", f"of={disk}", "bs=1M", f"seek={off // (1024 * 1024)}",
             "conv=notrunc,sparse", "status=none"])
        self.assertEqual(self.data_digest(disk), data_before, "writing the system touched the data")
        log("system partition replaced")
        box = self.boot(disk, "3")
        box.wait_up()
        self.assert_box_kept(box, password, cert, appt)
        box.quit_hard()
        check_data_offline(self.work, disk, appt["id"], "after-system-replacement")
        log(f"all done in {time.monotonic() - t_all:.0f} s")

    def data_digest(self, disk):
        off, size = partitions(disk)["clinicbox-data"]
        h = hashlib.sha256()
        with open(disk, "rb") as f:
            f.seek(off)
            left = size
            while left:
                chunk = f.read(min(left, 8 * 1024 * 1024))
                h.update(chunk)
                left -= len(chunk)
        return h.hexdigest()

    def assert_box_kept(self, box, password, cert, appt):
        self.assertEqual(box.fingerprint(), cert, "the box has another TLS certificate")
        staff = Staff(box, "chef", password, timeout=120)
        status, got = staff.call("GET", f"/api/appointments/{appt['id']}")
        self.assertEqual(status, 200, got)
        self.assertEqual((got["start"], got["status"], got["patient_id"]),
                         (appt["start"], appt["status"], appt["patient_id"]))
        status, clinic = staff.call("GET", "/api/clinic")
        self.assertEqual((status, clinic["name"], clinic["timezone"]),
                         (200, "Praxis am Bootweg", "Europe/Berlin"))
        status, sync = staff.call("GET", "/api/sync/status")
        self.assertEqual((status, sync["enabled"]), (200, True), "mongo_uri was lost")
        # The stick's host name is the box's: it answers to NAME.local (and
        # to no other box's name).
        status, _ = box.request("GET", "/api/health", headers={"Host": "praxis-boot.local"})
        self.assertEqual(status, 200, "the box does not answer to the stick's host name")
        status, _ = box.request("GET", "/api/health", headers={"Host": "other-box.local"})
        self.assertEqual(status, 403)
        # And to its DHCP address (QEMU's user network gives 10.0.2.15): the
        # server started once the network had it.
        status, _ = box.request("GET", "/api/health", headers={"Host": "10.0.2.15"})
        self.assertEqual(status, 200, "the box does not answer to its own address")
        log(f"boot {box.name}: appointment {appt['id']}, admin, clinic, certificate, mongo_uri "
            f"and host name kept")


if __name__ == "__main__":
    unittest.main(verbosity=2)
