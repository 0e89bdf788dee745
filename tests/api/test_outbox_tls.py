"""Email over TLS: STARTTLS on smtp:// (required by the server before AUTH and
MAIL) and implicit TLS on smtps://, against aiosmtpd with a certificate from a
test CA made here with openssl. The box trusts that CA through the
tls_ca_file setting. openssl and the box share one faked clock (the CA is
made a day before the box's "now"), so certificate validity never depends on
the calendar date; a server whose certificate it cannot verify counts as
unreachable (nothing is sent, no attempt is used up).
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import Clock, Server, notifications, outbox_env, wait_until
from peers import MailSink

NOW = "2026-11-30 07:00:00"


def make_ca(d, clock):
    """A CA and a server certificate for 127.0.0.1, in directory d, made
    on `clock` (their validity starts at its time)."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True,
                       env=clock.env())
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "3650", "-subj", "/CN=clinicbox test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "3650", "-extfile", "ext.cnf")
    # a second CA that signed nothing here: trusting it must not be enough
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.pem",
        "-days", "3650", "-subj", "/CN=some other CA")


class TLSTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="clinicbox-tls-")
        cls.clock = Clock(NOW)
        make_ca(cls.dir, cls.clock.shifted(-86400))
        cls.cert = (os.path.join(cls.dir, "server.pem"), os.path.join(cls.dir, "server.key"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def deliver(self, tls, ca):
        sink = MailSink(auth=("praxis", "geheim"), tls=tls, cert=self.cert).start()
        self.addCleanup(sink.stop)
        s = Server(clock=self.clock, env=outbox_env(sink, CLINICBOX_TLS_CA_FILE=os.path.join(self.dir, ca)))
        self.addCleanup(s.cleanup)
        s.start()
        doctor, patient = s.seed(patient={"name": "Tls", "email": "tls@example.org", "notify_sms": False})
        r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                         "start": "2026-11-30T10:00:00+01:00"})
        self.assertEqual(r.status, 201, r)
        return s, sink

    def test_starttls_then_auth(self):
        s, sink = self.deliver("starttls", "ca.pem")
        (m,) = sink.wait_for(1)
        self.assertTrue(m["tls"], "the message must have travelled over TLS")
        self.assertEqual(m["login"], "praxis")
        self.assertEqual(m["rcpt_tos"], ["tls@example.org"])
        s.stop()

    def test_implicit_tls(self):
        s, sink = self.deliver("implicit", "ca.pem")
        (m,) = sink.wait_for(1)
        self.assertTrue(m["tls"])
        self.assertEqual(m["login"], "praxis")
        s.stop()

    def test_unverifiable_certificate_is_unreachable_not_sent(self):
        s, sink = self.deliver("implicit", "other.pem")
        h = wait_until(lambda: (lambda o: o if o["email"]["state"] == "unreachable" else None)(
            s.get("/api/health").json["outbox"]), timeout=20)
        self.assertTrue(h, s.get("/api/health").json)
        self.assertIn("unreachable", h["email"]["last_error"])
        (n,) = [n for n in notifications(s) if n["channel"] == "email"]
        self.assertIn(n["status"], ("failed", "queued"))
        self.assertEqual(n["attempts"], 0)
        self.assertEqual(sink.messages, [])
        s.stop()


if __name__ == "__main__":
    unittest.main()
