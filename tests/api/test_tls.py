"""HTTPS (docs/security.md, TLS): real handshakes with `openssl s_client`
against the real binary.

- The self-signed certificate: made at first start in DATA/tls/ (key 0600,
  directory 0700, no key bundle left behind), served (its fingerprint, as
  openssl computes it, is the one in the start line and in GET /api/tls),
  trusted by a client that knows only that file and checks the name
  127.0.0.1, and kept across restarts.
- TLS 1.0 and 1.1 refused, 1.2 and 1.3 accepted; under 1.2 only ECDHE with
  AES-GCM or ChaCha20-Poly1305. With an RSA certificate and an OpenSSL
  configuration that allows everything (TLS 1.0, SECLEVEL 0) on both sides,
  `openssl s_server` accepts TLS 1.0 and non-forward-secret or CBC ciphers
  while the box still refuses them: the refusal is the box's settings, not
  the system's defaults.
- A configured certificate (signed by a test CA, with its chain) is served;
  a missing file, a key of another certificate, tls_key without tls_cert
  and a redirect without TLS stop the start with a message that names
  them; so does an OpenSSL civetweb cannot use (Debian's libssl3 without
  clinicbox's shim), never plain HTTP instead.
- tls_redirect_listen answers 308 with Location https://... and nothing else.
"""
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, Server, free_port  # noqa: E402

FP_LINE = re.compile(r"serving on https://127\.0\.0\.1:(\d+) .*certificate SHA-256 fingerprint "
                     r"([0-9A-F]{2}(?::[0-9A-F]{2}){31})")

# Lets both sides offer anything (the control s_server proves that it does).
PERMISSIVE_CNF = """openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1
CipherString = ALL:@SECLEVEL=0
"""


def openssl(*args, input=None, env=None, check=True):
    p = subprocess.run(["openssl"] + list(args), input=input, capture_output=True, text=True,
                       timeout=60, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}")
    return p


def handshake(port, *flags, env=None):
    """`openssl s_client` to 127.0.0.1:port. Returns (protocol, cipher) of
    the handshake, or None when the server refused it, and the output."""
    p = subprocess.run(["openssl", "s_client", "-brief", "-connect", f"127.0.0.1:{port}",
                        "-servername", "localhost"] + list(flags),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                       env=env)
    out = p.stdout + p.stderr
    # -brief prints these as soon as the handshake is done.
    proto = re.search(r"^Protocol version: (\S+)$", out, re.M)
    cipher = re.search(r"^Ciphersuite: (\S+)$", out, re.M)
    if "CONNECTION ESTABLISHED" in out and proto and cipher:
        return (proto.group(1), cipher.group(1)), out
    return None, out


def fingerprint_of(pem_text):
    """SHA-256 fingerprint of the first certificate in pem_text, by openssl."""
    out = openssl("x509", "-noout", "-fingerprint", "-sha256", input=pem_text).stdout
    return out.strip().split("=", 1)[1]


def served_chain(port):
    """The certificates the server sends, as PEM blocks."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-showcerts"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", p.stdout, re.S)


def logged_fingerprint(server):
    m = FP_LINE.search(server.new_log())
    assert m, "no https start line with a fingerprint:\n" + server.new_log()
    assert int(m.group(1)) == server.port
    return m.group(2)


class TlsCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="clinicbox-tls-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def server(self, **kw):
        s = Server(tls=True, **kw)
        self.addCleanup(s.cleanup)
        return s

    def failed_start(self, *args, env=None):
        """Starts with args, which must fail: returns the log."""
        s = self.server(args=list(args), env=env)
        s.start(wait=False)
        try:
            rc = s.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("the server started although it should not:\n" + s.read_log())
        log = s.new_log()
        self.assertNotEqual(rc, 0, log)
        self.assertNotIn("serving on", log)
        return log

    def make_rsa(self, name, cn="127.0.0.1", ca=None):
        """An RSA key and certificate valid for 30 days from now (openssl's
        clock, the same as the box's), with subjectAltName IP:127.0.0.1;
        self-signed, or signed by ca (its cert and key paths)."""
        key, crt = os.path.join(self.tmp, name + ".key"), os.path.join(self.tmp, name + ".crt")
        if ca is None:
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "30", "-subj", f"/CN={cn}", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-addext", "basicConstraints=critical,CA:FALSE")
        else:
            csr = os.path.join(self.tmp, name + ".csr")
            ext = self.write(name + ".ext", "subjectAltName=IP:127.0.0.1\n"
                             "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
            openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", f"/CN={cn}")
            openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
                    "-out", crt, "-days", "30", "-sha256", "-extfile", ext)
        return crt, key


class SelfSigned(TlsCase):
    def test_made_served_checked_and_kept(self):
        s = self.server()
        s.start()
        self.assertTrue(s.https, "the start line says https://")
        tls_dir = os.path.join(s.data, "tls")
        self.assertEqual(os.stat(tls_dir).st_mode & 0o777, 0o700)
        self.assertEqual(os.stat(os.path.join(tls_dir, "key.pem")).st_mode & 0o777, 0o600)
        self.assertEqual(sorted(os.listdir(tls_dir)), ["cert.pem", "key.pem"],
                         "the key bundle civetweb read is gone")
        with open(os.path.join(tls_dir, "cert.pem")) as f:
            cert_pem = f.read()

        # The certificate served is the one in the file, and its fingerprint
        # (computed by openssl) is the one the start line printed.
        chain = served_chain(s.port)
        self.assertEqual(len(chain), 1)
        served_fp = fingerprint_of(chain[0])
        self.assertEqual(served_fp, fingerprint_of(cert_pem))
        self.assertEqual(logged_fingerprint(s), served_fp)

        # What it is: EC P-256, valid from a day before now for ten years,
        # for the names of the box.
        text = openssl("x509", "-noout", "-text", input=cert_pem).stdout
        self.assertIn("NIST CURVE: P-256", text)
        self.assertIn("CA:FALSE", text)
        for name in ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"):
            self.assertIn(name, text)
        end = openssl("x509", "-noout", "-enddate", input=cert_pem).stdout
        years = int(re.search(r" (\d{4}) GMT", end).group(1))
        self.assertGreaterEqual(years - time.gmtime().tm_year, 9)
        self.assertEqual(openssl("x509", "-noout", "-checkend", "0", input=cert_pem,
                                 check=False).returncode, 0, "valid now")

        # GET /api/tls over a connection that trusts only cert.pem and
        # checks the name 127.0.0.1 against it.
        r = s.get("/api/tls")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["enabled"], True)
        self.assertEqual(r.json["fingerprint_sha256"], served_fp)
        self.assertEqual(r.json["self_signed"], True)
        self.assertIn("O=clinicbox", r.json["subject"])
        self.assertEqual(r.json["issuer"], r.json["subject"])
        self.assertTrue(r.headers.get("Strict-Transport-Security"), "HSTS under TLS")

        # Plain HTTP on the HTTPS port gets no HTTP answer.
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
            c.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try:
                got = c.recv(100)
            except ConnectionResetError:
                got = b""
        self.assertFalse(got.startswith(b"HTTP/"), got)

        # Kept across a restart: the same certificate, the same fingerprint.
        s.stop()
        s.start()
        with open(os.path.join(tls_dir, "cert.pem")) as f:
            self.assertEqual(f.read(), cert_pem)
        self.assertEqual(logged_fingerprint(s), served_fp)
        self.assertEqual(fingerprint_of(served_chain(s.port)[0]), served_fp)
        s.stop()

    def test_protocols_and_ciphers(self):
        s = self.server()
        s.start()
        for flag in ("-tls1", "-tls1_1"):
            with self.subTest(flag=flag):
                got, out = handshake(s.port, flag)
                self.assertIsNone(got, out)
        for flag, proto in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            with self.subTest(flag=flag):
                got, out = handshake(s.port, flag)
                self.assertIsNotNone(got, out)
                self.assertEqual(got[0], proto)
        # TLS 1.2: forward-secret AEAD only (the certificate is ECDSA).
        for cipher in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                       "ECDHE-ECDSA-CHACHA20-POLY1305"):
            with self.subTest(cipher=cipher):
                got, out = handshake(s.port, "-tls1_2", "-cipher", cipher)
                self.assertEqual(got, ("TLSv1.2", cipher), out)
        for cipher in ("ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA"):
            with self.subTest(cipher=cipher):
                got, out = handshake(s.port, "-tls1_2", "-cipher", cipher)
                self.assertIsNone(got, out)
        s.stop()


class Configured(TlsCase):
    def test_refusals_are_the_boxs_not_the_systems(self):
        """An RSA certificate (so that RSA key exchange could be chosen) and
        an OpenSSL configuration that allows everything, on both sides."""
        cnf = self.write("permissive.cnf", PERMISSIVE_CNF)
        env = dict(os.environ, OPENSSL_CONF=cnf)
        crt, key = self.make_rsa("rsa")
        weak = [("-tls1",), ("-tls1_1",), ("-tls1_2", "-cipher", "AES128-SHA256"),
                ("-tls1_2", "-cipher", "AES256-GCM-SHA384"),
                ("-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256"),
                ("-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256")]

        # Control: openssl's own server with the same key and configuration
        # accepts every one of them.
        port = free_port()
        control = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                                    "-cert", crt, "-key", key, "-www"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=env)
        self.addCleanup(lambda: (control.kill(), control.wait()))
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                self.assertLess(time.monotonic(), deadline, "openssl s_server did not start")
                time.sleep(0.05)
        for flags in weak:
            with self.subTest(control=flags):
                got, out = handshake(port, *flags, env=env)
                self.assertIsNotNone(got, out)

        s = self.server(args=["--set", f"tls_cert={crt}", "--set", f"tls_key={key}"],
                        env={"OPENSSL_CONF": cnf}, cafile=crt)
        s.start()
        for flags in weak:
            with self.subTest(box=flags):
                got, out = handshake(s.port, *flags, env=env)
                self.assertIsNone(got, out)
        for flags, want in ((("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"),
                             ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")),
                            (("-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"),
                             ("TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305")),
                            (("-tls1_3",), None)):
            with self.subTest(box=flags):
                got, out = handshake(s.port, *flags, env=env)
                self.assertIsNotNone(got, out)
                if want:
                    self.assertEqual(got, want)
                else:
                    self.assertEqual(got[0], "TLSv1.3")
        s.stop()

    def test_a_certificate_from_a_ca_with_its_chain(self):
        ca_crt, ca_key = os.path.join(self.tmp, "ca.crt"), os.path.join(self.tmp, "ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", ca_key, "-out", ca_crt, "-days", "30", "-subj", "/CN=Test Praxis CA")
        leaf, key = self.make_rsa("leaf", cn="box.praxis.test", ca=(ca_crt, ca_key))
        with open(leaf) as f1, open(ca_crt) as f2:
            leaf_pem, ca_pem = f1.read(), f2.read()
        fullchain = self.write("fullchain.pem", leaf_pem + ca_pem)

        s = self.server(args=["--set", f"tls_cert={fullchain}", "--set", f"tls_key={key}"],
                        cafile=ca_crt)
        s.start()
        chain = served_chain(s.port)
        self.assertEqual([fingerprint_of(c) for c in chain],
                         [fingerprint_of(leaf_pem), fingerprint_of(ca_pem)],
                         "the leaf, then the intermediate from the file")
        self.assertEqual(logged_fingerprint(s), fingerprint_of(leaf_pem))
        r = s.get("/api/tls")   # verified against the CA only
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["fingerprint_sha256"], r.json["self_signed"]),
                         (fingerprint_of(leaf_pem), False))
        self.assertEqual(r.json["subject"], "CN=box.praxis.test")
        self.assertEqual(r.json["issuer"], "CN=Test Praxis CA")
        self.assertFalse(os.path.exists(os.path.join(s.data, "tls", "cert.pem")),
                         "no self-signed certificate made")
        s.stop()

        # The key in the certificate's file: tls_key may be left empty.
        with open(key) as f:
            both = self.write("both.pem", leaf_pem + f.read())
        s2 = self.server(args=["--set", f"tls_cert={both}"], cafile=ca_crt)
        s2.start()
        self.assertEqual(s2.get("/api/tls").json["fingerprint_sha256"], fingerprint_of(leaf_pem))
        s2.stop()

    def test_what_cannot_serve_stops_the_start(self):
        crt, key = self.make_rsa("one")
        crt2, key2 = self.make_rsa("two")
        missing = os.path.join(self.tmp, "missing.pem")
        cases = [
            (["--set", f"tls_cert={missing}", "--set", f"tls_key={key}"],
             ["tls_cert", missing, "No such file"]),
            (["--set", f"tls_cert={crt}", "--set", f"tls_key={missing}"],
             ["tls_key", missing, "No such file"]),
            (["--set", f"tls_cert={crt}", "--set", f"tls_key={key2}"],
             ["tls_key", key2, "does not belong", crt]),
            (["--set", f"tls_cert={key}", "--set", f"tls_key={key}"],
             ["tls_cert", "no certificate"]),
            (["--set", f"tls_key={key}"], ["tls_key is set without tls_cert"]),
            (["--set", "tls=off", "--set", f"tls_redirect_listen=127.0.0.1:{free_port()}"],
             ["tls_redirect_listen", "tls is off"]),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                log = self.failed_start(*args)
                for w in words:
                    self.assertIn(w, log)

    def test_no_usable_openssl_means_no_start(self):
        """Debian's libssl.so.3 loaded as "libssl.so" in place of the shim:
        what Debian 12's civetweb gets by itself, which lacks a function it
        needs. The box must refuse to start, not serve plain HTTP."""
        ldd = subprocess.run(["ldd", BIN], capture_output=True, text=True, timeout=60).stdout
        real = re.search(r"libssl\.so\.3 => (\S+)", ldd)
        self.assertTrue(real, ldd)
        fake = os.path.join(self.tmp, "lib")
        os.mkdir(fake)
        os.symlink(real.group(1), os.path.join(fake, "libssl.so"))
        log = self.failed_start(env={"LD_LIBRARY_PATH": fake})
        self.assertIn("civetweb could not load OpenSSL", log)
        # The same box with the shim serves HTTPS (a real handshake).
        s = self.server()
        s.start()
        got, out = handshake(s.port, "-tls1_3")
        self.assertIsNotNone(got, out)
        s.stop()


class Redirect(TlsCase):
    def test_plain_http_answers_308_to_https(self):
        rport = free_port()
        s = self.server(args=["--set", f"tls_redirect_listen=127.0.0.1:{rport}"])
        s.start()

        def plain(method, path, host):
            c = http.client.HTTPConnection("127.0.0.1", rport, timeout=10)
            try:
                c.putrequest(method, path, skip_host=True)
                if host is not None:
                    c.putheader("Host", host)
                c.putheader("Content-Length", "0")
                c.endheaders()
                r = c.getresponse()
                return r.status, r.getheader("Location"), r.read()
            finally:
                c.close()

        for method, path, host, location in (
                ("GET", "/api/health?x=1", f"box.local:{rport}",
                 f"https://box.local:{s.port}/api/health?x=1"),
                ("POST", "/api/appointments", f"127.0.0.1:{rport}",
                 f"https://127.0.0.1:{s.port}/api/appointments"),
                ("GET", "/", "[::1]", f"https://[::1]:{s.port}/")):
            with self.subTest(method=method, host=host):
                status, loc, body = plain(method, path, host)
                self.assertEqual((status, loc), (308, location))
        for host in ("evil.example/x", "a b", ""):
            with self.subTest(bad_host=host):
                status, loc, _ = plain("GET", "/api/health", host)
                self.assertEqual((status, loc), (400, None))
        # Following it gets the API over TLS.
        _, loc, _ = plain("GET", "/api/health", f"127.0.0.1:{rport}")
        c = http.client.HTTPSConnection("127.0.0.1", s.port, timeout=10, context=s.ssl_context())
        try:
            c.request("GET", loc.split(str(s.port), 1)[1])
            self.assertEqual(c.getresponse().status, 200)
        finally:
            c.close()
        s.stop()


class Off(unittest.TestCase):
    def test_api_tls_says_off(self):
        s = Server()   # the harness's default: tls=off
        self.addCleanup(s.cleanup)
        s.start()
        self.assertFalse(s.https)
        r = s.get("/api/tls")
        self.assertEqual((r.status, r.json), (200, {"enabled": False}))
        self.assertFalse(os.path.exists(os.path.join(s.data, "tls")))
        s.stop()


if __name__ == "__main__":
    unittest.main()
