"""The test peers themselves (peers.py): MailSink refuses what a real SMTP
server refuses and stores exactly what it got; TwilioStandIn answers bad
requests and its failure modes as Twilio would. So a test that relies on them
cannot pass by accident. Needs no clinicbox binary.
"""
import base64
import http.client
import json
import smtplib
import socket
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage

from peers import MailSink, TwilioStandIn, num_segments


def mail(subject="Termin", to="anna@example.org", body="Ihr Termin am 2. Dezember.\n.\n..x\n"):
    m = EmailMessage()
    m["From"] = "praxis@example.org"
    m["To"] = to
    m["Subject"] = subject
    m.set_content(body)
    return m


class MailSinkTest(unittest.TestCase):
    def sink(self, **kw):
        s = MailSink(**kw)
        self.addCleanup(s.stop)
        return s.start()

    def client(self, sink):
        c = smtplib.SMTP("127.0.0.1", sink.port, timeout=5)
        self.addCleanup(c.close)
        return c

    def test_plain_delivery_stores_data_as_received(self):
        sink = self.sink()
        self.assertEqual(sink.url, f"smtp://127.0.0.1:{sink.port}")
        c = self.client(sink)
        raw = mail().as_bytes().replace(b"\n", b"\r\n")
        refused = c.sendmail("praxis@example.org", ["anna@example.org", "bob@example.org"], raw)
        self.assertEqual(refused, {})
        c.quit()
        msgs = sink.wait_for(1, timeout=5)
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertEqual(m["mail_from"], "praxis@example.org")
        self.assertEqual(m["rcpt_tos"], ["anna@example.org", "bob@example.org"])
        self.assertEqual(m["data"], raw)  # dot-stuffing undone, bytes unchanged
        self.assertIsNone(m["login"])
        self.assertEqual(m["message"]["Subject"], "Termin")
        self.assertIn("\r\n.\r\n..x\r\n", m["message"].get_content())

    def test_wait_for_times_out_with_a_message(self):
        sink = self.sink()
        t = time.monotonic()
        with self.assertRaises(AssertionError) as cm:
            sink.wait_for(1, timeout=0.2)
        self.assertLess(time.monotonic() - t, 2)
        self.assertIn("waiting for 1 mail", str(cm.exception))

    def test_auth_plain_and_login(self):
        sink = self.sink(auth=("praxis", "geheim"))
        c = self.client(sink)
        c.ehlo()
        self.assertIn("PLAIN", c.esmtp_features["auth"])
        self.assertIn("LOGIN", c.esmtp_features["auth"])
        c.login("praxis", "geheim")  # smtplib picks PLAIN
        c.send_message(mail("one"))
        c.quit()
        c2 = self.client(sink)
        c2.ehlo()
        c2.user, c2.password = "praxis", "geheim"
        code, _ = c2.auth("LOGIN", c2.auth_login)
        self.assertEqual(code, 235)
        c2.send_message(mail("two"))
        c2.quit()
        msgs = sink.wait_for(2, timeout=5)
        self.assertEqual([m["message"]["Subject"] for m in msgs], ["one", "two"])
        self.assertEqual([m["login"] for m in msgs], ["praxis", "praxis"])
        self.assertEqual([a["mechanism"] for a in sink.auth_log], ["PLAIN", "LOGIN"])

    def test_auth_required_and_wrong_password_refused(self):
        sink = self.sink(auth=("praxis", "geheim"))
        c = self.client(sink)
        c.ehlo()
        code, msg = c.mail("praxis@example.org")
        self.assertEqual(code, 530, msg)
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            c.login("praxis", "falsch")
        self.assertEqual(cm.exception.smtp_code, 535)
        with self.assertRaises(smtplib.SMTPSenderRefused):
            c.send_message(mail())
        self.assertEqual(sink.messages, [])

    def test_reject_and_tempfail_at_rcpt(self):
        sink = self.sink(reject={"gone@example.org"}, tempfail={"Busy@example.org"})
        c = self.client(sink)
        refused = c.sendmail("praxis@example.org",
                             ["anna@example.org", "gone@example.org", "busy@example.org"],
                             mail().as_bytes())
        self.assertEqual(refused["gone@example.org"], (550, b"5.1.1 No such user"))
        self.assertEqual(refused["busy@example.org"], (451, b"4.3.0 Try again later"))
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            c.sendmail("praxis@example.org", ["gone@example.org"], mail().as_bytes())
        self.assertEqual(cm.exception.recipients["gone@example.org"][0], 550)
        c.quit()
        msgs = sink.wait_for(1, timeout=5)
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0]["rcpt_tos"], ["anna@example.org"])
        self.assertEqual([r["reply"][:3] for r in sink.rcpt_log], ["250", "550", "451", "550"])

    def test_restart_on_same_port(self):
        sink = self.sink()
        port = sink.port
        c = self.client(sink)
        c.noop()
        for i in range(3):
            sink.stop()
            with self.assertRaises((smtplib.SMTPServerDisconnected, OSError)):
                c.noop()  # the open session is cut, not left dangling
            with self.assertRaises(ConnectionRefusedError):
                smtplib.SMTP("127.0.0.1", port, timeout=2)
            sink.start()
            self.assertEqual(sink.port, port)
            c = self.client(sink)
            c.send_message(mail(f"after restart {i}"))
        sink.wait_for(3, timeout=5)
        self.assertEqual([m["message"]["Subject"] for m in sink.messages],
                         [f"after restart {i}" for i in range(3)])


class TwilioStandInTest(unittest.TestCase):
    TO = "+4915112345678"
    FROM = "+4930123456"

    def setUp(self):
        self.tw = TwilioStandIn()
        self.addCleanup(self.tw.stop)
        self.tw.start()

    def post(self, form=None, path=None, auth=None, ctype="application/x-www-form-urlencoded",
             timeout=5, raw=None):
        """POST with http.client; returns (status, headers, json or raw body)."""
        if form is None:
            form = {"To": self.TO, "From": self.FROM, "Body": "Ihr Termin morgen 10:00"}
        data = raw if raw is not None else urllib.parse.urlencode(form).encode()
        user, pw = auth or (self.tw.account_sid, self.tw.auth_token)
        headers = {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode(),
                   "Content-Type": ctype}
        conn = http.client.HTTPConnection("127.0.0.1", self.tw.port, timeout=timeout)
        try:
            conn.request("POST", path or self.tw.messages_path, body=data, headers=headers)
            r = conn.getresponse()
            body = r.read()
            if "json" in r.headers.get("Content-Type", ""):
                body = json.loads(body)
            return r.status, r.headers, body
        finally:
            conn.close()

    def assertTwilioError(self, res, status, code):
        st, headers, body = res
        self.assertEqual(st, status, body)
        self.assertEqual(body["status"], status)
        self.assertEqual(body["code"], code)
        self.assertEqual(body["more_info"], f"https://www.twilio.com/docs/errors/{code}")
        self.assertTrue(body["message"])
        return body

    def test_defaults(self):
        self.assertRegex(self.tw.account_sid, r"^AC[0-9a-f]{32}$")
        self.assertGreaterEqual(len(self.tw.auth_token), 32)
        self.assertEqual(self.tw.base_url, f"http://127.0.0.1:{self.tw.port}")

    def test_good_request_with_urllib(self):
        form = {"To": self.TO, "From": self.FROM, "Body": "Erinnerung: Termin morgen"}
        req = urllib.request.Request(self.tw.messages_url, data=urllib.parse.urlencode(form).encode(),
                                     method="POST")
        cred = base64.b64encode(f"{self.tw.account_sid}:{self.tw.auth_token}".encode()).decode()
        req.add_header("Authorization", "Basic " + cred)
        with urllib.request.urlopen(req, timeout=5) as r:  # urllib sets the form Content-Type
            self.assertEqual(r.status, 201)
            self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
            body = json.load(r)
        self.assertRegex(body["sid"], r"^SM[0-9a-f]{32}$")
        self.assertEqual(body["account_sid"], self.tw.account_sid)
        self.assertEqual(body["to"], self.TO)
        self.assertEqual(body["from"], self.FROM)
        self.assertIsNone(body["messaging_service_sid"])
        self.assertEqual(body["body"], form["Body"])
        self.assertEqual(body["status"], "queued")
        self.assertEqual(body["num_segments"], "1")
        self.assertEqual(body["direction"], "outbound-api")
        self.assertEqual(body["api_version"], "2010-04-01")
        self.assertIsNone(body["price"])
        self.assertIsNone(body["error_code"])
        self.assertRegex(body["date_created"],
                         r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")
        self.assertEqual(body["uri"],
                         f"/2010-04-01/Accounts/{self.tw.account_sid}/Messages/{body['sid']}.json")
        msgs = self.tw.wait_for(1, timeout=5)
        self.assertEqual(msgs[0]["sid"], body["sid"])
        self.assertEqual((msgs[0]["to"], msgs[0]["from"], msgs[0]["body"], msgs[0]["auth_ok"]),
                         (self.TO, self.FROM, form["Body"], True))
        self.assertEqual(self.tw.requests[0]["status"], 201)

    def test_segments(self):
        self.assertEqual(num_segments("a" * 160), 1)
        self.assertEqual(num_segments("a" * 161), 2)
        self.assertEqual(num_segments("ü" * 160), 1)   # in GSM-7
        self.assertEqual(num_segments("€" * 80), 1)    # extension: 2 septets each
        self.assertEqual(num_segments("ł" * 70), 1)    # UCS-2
        self.assertEqual(num_segments("ł" * 71), 2)
        st, _, body = self.post({"To": self.TO, "From": "Praxis", "Body": "Zahnarzt ł" * 10})
        self.assertEqual((st, body["num_segments"], body["from"]), (201, "2", "Praxis"))

    def test_wrong_auth(self):
        body = self.assertTwilioError(self.post(auth=(self.tw.account_sid, "wrong")), 401, 20003)
        self.assertEqual(body["message"], "Authenticate")
        self.assertTwilioError(self.post(auth=("AC" + "0" * 32, self.tw.auth_token)), 401, 20003)
        self.assertEqual(self.tw.messages, [])
        self.assertEqual(self.tw.requests[0]["reason"], "wrong credentials")

    def test_wrong_path(self):
        body = self.assertTwilioError(self.post(path="/2010-04-01/Accounts/x/Messages.json"), 404, 20404)
        self.assertIn("/2010-04-01/Accounts/x/Messages.json", body["message"])
        self.assertTwilioError(self.post(path=self.tw.messages_path[:-5]), 404, 20404)

    def test_validation(self):
        self.assertTwilioError(self.post({"To": self.TO, "From": self.FROM}), 400, 21602)
        self.assertTwilioError(self.post({"To": self.TO, "From": self.FROM, "Body": ""}), 400, 21602)
        b = self.assertTwilioError(self.post({"To": "015112345678", "From": self.FROM, "Body": "x"}),
                                   400, 21211)
        self.assertEqual(b["message"], "The 'To' number 015112345678 is not a valid phone number.")
        self.assertTwilioError(self.post({"To": "+49 151 1234", "From": self.FROM, "Body": "x"}), 400, 21211)
        self.assertTwilioError(self.post({"To": "+1234567", "From": self.FROM, "Body": "x"}), 400, 21211)
        self.assertTwilioError(self.post({"From": self.FROM, "Body": "x"}), 400, 21604)
        self.assertTwilioError(self.post({"To": self.TO, "Body": "x"}), 400, 21603)
        self.assertTwilioError(self.post({"To": self.TO, "From": self.FROM, "Body": "x",
                                          "MessagingServiceSid": "MG" + "a" * 32}), 400, 21603)
        self.assertTwilioError(self.post({"To": self.TO, "From": "+49-30", "Body": "x"}), 400, 21212)
        self.assertTwilioError(self.post({"To": self.TO, "MessagingServiceSid": "XX1", "Body": "x"}),
                               400, 21701)
        self.assertTwilioError(self.post({"To": self.TO, "From": self.FROM, "Body": "x" * 1601}), 400, 21617)
        self.assertTwilioError(self.post(raw=b"To=%2B4915112345678&Body=x&From=Praxis&To=%2B4915112345679"),
                               400, 400)
        self.assertTwilioError(self.post(raw=b"garbage", ctype="application/x-www-form-urlencoded"), 400, 400)
        self.assertTwilioError(self.post(raw=json.dumps({"To": self.TO}).encode(),
                                         ctype="application/json"), 400, 400)
        self.assertEqual(self.tw.messages, [])
        self.assertTrue(all(r["status"] == 400 and r["reason"] for r in self.tw.requests))

    def test_messaging_service_sid(self):
        mg = "MG" + "0123456789abcdef" * 2
        st, _, body = self.post({"To": self.TO, "MessagingServiceSid": mg, "Body": "Hallo"})
        self.assertEqual(st, 201, body)
        self.assertEqual(body["messaging_service_sid"], mg)
        self.assertIsNone(body["from"])
        self.assertEqual(self.tw.messages[0]["messaging_service_sid"], mg)

    def test_bad_numbers(self):
        self.tw.bad_numbers.add(self.TO)
        self.assertTwilioError(self.post(), 400, 21211)
        st, _, _ = self.post({"To": "+4915199999999", "From": self.FROM, "Body": "x"})
        self.assertEqual(st, 201)

    def test_mode_500_and_429(self):
        self.tw.mode = "500"
        self.assertTwilioError(self.post(), 500, 20500)
        self.tw.mode = "429"
        self.tw.retry_after = 7
        res = self.assertTwilioError(self.post(), 429, 20429)
        self.assertEqual(res["message"], "Too Many Requests")
        self.assertEqual(self.post()[1]["Retry-After"], "7")
        # A malformed request is refused as such even during an outage.
        self.assertTwilioError(self.post(auth=("x", "y")), 401, 20003)
        self.tw.mode = "ok"
        self.assertEqual(self.post()[0], 201)
        self.assertEqual(len(self.tw.messages), 1)
        with self.assertRaises(ValueError):
            self.tw.mode = "503"

    def test_mode_drop(self):
        self.tw.mode = "drop"
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError)):
            self.post()
        self.assertEqual(self.tw.requests[-1]["reason"], "mode drop")
        self.assertIsNone(self.tw.requests[-1]["status"])
        self.assertEqual(self.tw.messages, [])

    def test_mode_hang(self):
        self.tw.mode = "hang"
        self.tw.hang_seconds = 1.5
        t = time.monotonic()
        with self.assertRaises(socket.timeout):
            self.post(timeout=0.5)
        self.assertLess(time.monotonic() - t, 1.4)
        # Without a client timeout: nothing for hang_seconds, then the close.
        t = time.monotonic()
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError)):
            self.post(timeout=5)
        self.assertGreaterEqual(time.monotonic() - t, 1.4)
        self.assertEqual(self.tw.messages, [])

    def test_stop_ends_a_hang_promptly(self):
        self.tw.mode = "hang"
        self.tw.hang_seconds = 30
        conn = http.client.HTTPConnection("127.0.0.1", self.tw.port, timeout=10)
        self.addCleanup(conn.close)
        cred = base64.b64encode(f"{self.tw.account_sid}:{self.tw.auth_token}".encode()).decode()
        conn.request("POST", self.tw.messages_path,
                     body=urllib.parse.urlencode({"To": self.TO, "From": self.FROM, "Body": "x"}),
                     headers={"Authorization": "Basic " + cred,
                              "Content-Type": "application/x-www-form-urlencoded"})
        self.tw.wait_for_requests(1, timeout=5)
        t = time.monotonic()
        self.tw.stop()
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError)):
            conn.getresponse()
        self.assertLess(time.monotonic() - t, 3)

    def test_fail_next(self):
        self.tw.fail_next(2, "500")
        self.tw.fail_next(1, "429")
        self.assertTwilioError(self.post({"To": self.TO, "From": self.FROM}), 400, 21602)  # not counted
        self.assertEqual(self.post()[0], 500)
        self.assertEqual(self.post()[0], 500)
        self.assertEqual(self.post()[0], 429)
        self.assertEqual(self.post()[0], 201)
        self.assertEqual([r["status"] for r in self.tw.requests], [400, 500, 500, 429, 201])
        self.assertEqual(len(self.tw.wait_for(1, timeout=1)), 1)

    def test_keepalive_and_restart_on_same_port(self):
        port = self.tw.port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        self.addCleanup(conn.close)
        cred = base64.b64encode(f"{self.tw.account_sid}:{self.tw.auth_token}".encode()).decode()
        hdrs = {"Authorization": "Basic " + cred, "Content-Type": "application/x-www-form-urlencoded"}
        form = urllib.parse.urlencode({"To": self.TO, "From": self.FROM, "Body": "x"})
        for _ in range(2):  # one connection, two requests
            conn.request("POST", self.tw.messages_path, body=form, headers=hdrs)
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 201)
        for _ in range(3):
            self.tw.stop()
            with self.assertRaises(ConnectionRefusedError):
                self.post()
            self.tw.start()
            self.assertEqual(self.tw.port, port)
            self.assertEqual(self.post()[0], 201)
        # The idle keep-alive connection was cut by the first stop().
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, BrokenPipeError)):
            conn.request("POST", self.tw.messages_path, body=form, headers=hdrs)
            conn.getresponse()
        self.assertEqual(len(self.tw.messages), 5)

    def test_wait_for_times_out_with_a_message(self):
        self.post({"To": "bad", "From": self.FROM, "Body": "x"})
        with self.assertRaises(AssertionError) as cm:
            self.tw.wait_for(1, timeout=0.2)
        self.assertIn("To is not E.164", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
