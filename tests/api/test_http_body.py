"""Request bodies at the HTTP level, over raw sockets: a handler runs only
when the whole declared body arrived (Content-Length bytes, or chunked up to
the last chunk). A body cut short is 400, one that stalls is 408 after the
body deadline (HTTP_BODY_DEADLINE_MS, 5 s), and in both cases nothing is
changed. Ambiguous framing (two different Content-Length headers,
Content-Length with Transfer-Encoding: chunked) is 400. A 204 carries no
Content-Length and no Content-Type.
"""
import datetime as dt
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, notifications  # noqa: E402

BODY_DEADLINE = 5.0


def future_start(days=30, hour=9):
    d = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)).date()
    return f"{d}T{hour:02d}:00:00Z"


class HttpBody(ServerTest):
    def setUp(self):
        super().setUp()
        self.doctor, self.patient = self.server.seed()

    # -- raw HTTP ----------------------------------------------------------------
    def connect(self, timeout=30):
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout)

    @staticmethod
    def read_response(s):
        """Reads one response until the connection closes or the declared
        body is in. Returns (status, headers dict lower-cased, body bytes)."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if not lines or not lines[0].startswith("HTTP/"):
            return None, {}, data
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.setdefault(k.strip().lower(), []).append(v.strip())
        n = int(headers.get("content-length", ["0"])[0])
        while len(body) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers, body

    def send_raw(self, head, body=b"", half_close=True, timeout=30):
        with self.connect(timeout) as s:
            s.sendall(head + body)
            if half_close:
                s.shutdown(socket.SHUT_WR)
            return self.read_response(s)

    def head(self, method, path, *extra):
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1",
                 f"Authorization: Bearer {self.server.admin_token()}", "Content-Type: application/json"]
        lines += list(extra)
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def book(self, hour=9):
        r = self.server.post("/api/appointments", {"doctor_id": self.doctor["id"],
                                                   "patient_id": self.patient["id"],
                                                   "start": future_start(hour=hour)})
        self.assertEqual(r.status, 201, r)
        return r.json

    def patient_names(self):
        r = self.server.get("/api/patients?limit=1000")
        self.assertEqual(r.status, 200, r)
        return sorted(p["name"] for p in r.json["patients"])

    def assert_untouched(self, appt):
        got = self.server.get(f"/api/appointments/{appt['id']}")
        self.assertEqual(got.json["status"], "booked", got)
        purposes = [n["purpose"] for n in notifications(self.server, appointment_id=appt["id"])]
        self.assertFalse([p for p in purposes if "cancel" in p], purposes)

    # -- bodies cut short ---------------------------------------------------------
    def test_short_body_on_create_is_400_and_creates_nothing(self):
        before = self.patient_names()
        body = b'{"name": "Half Body"}'
        status, headers, _ = self.send_raw(
            self.head("POST", "/api/patients", f"Content-Length: {len(body) + 20}"), body)
        self.assertEqual(status, 400)
        self.assertIn("close", headers.get("connection", [""])[0].lower())
        self.assertEqual(self.patient_names(), before)

    def test_short_body_on_cancel_is_400_and_cancels_nothing(self):
        appt = self.book()
        # A cancel whose body never arrives at all, and one cut in the middle.
        for body, declared in ((b"", 40), (b'{"reason": "x"}', 60)):
            with self.subTest(declared=declared, sent=len(body)):
                status, _, _ = self.send_raw(
                    self.head("POST", f"/api/appointments/{appt['id']}/cancel",
                              f"Content-Length: {declared}"), body)
                self.assertEqual(status, 400)
                self.assert_untouched(appt)

    def test_stalled_body_is_408_within_the_deadline_and_changes_nothing(self):
        appt = self.book()
        with self.connect() as s:
            t0 = time.monotonic()
            s.sendall(self.head("POST", f"/api/appointments/{appt['id']}/cancel",
                                "Content-Length: 20"))
            status, headers, body = self.read_response(s)
            took = time.monotonic() - t0
        self.assertEqual(status, 408, body)
        self.assertEqual(json.loads(body)["status"], 408)
        self.assertIn("close", headers.get("connection", [""])[0].lower())
        self.assertGreater(took, BODY_DEADLINE - 1)
        self.assertLess(took, BODY_DEADLINE + 3)
        self.assert_untouched(appt)

    def test_chunked_body_without_last_chunk_changes_nothing(self):
        appt = self.book()
        body = b'{"reason": "x"}'
        chunk = f"{len(body):x}\r\n".encode() + body + b"\r\n"
        status, _, _ = self.send_raw(
            self.head("POST", f"/api/appointments/{appt['id']}/cancel",
                      "Transfer-Encoding: chunked"), chunk)
        self.assertEqual(status, 400)
        self.assert_untouched(appt)
        before = self.patient_names()
        body = b'{"name": "Chunked Half"}'
        status, _, _ = self.send_raw(self.head("POST", "/api/patients", "Transfer-Encoding: chunked"),
                                     f"{len(body):x}\r\n".encode() + body + b"\r\n")
        self.assertEqual(status, 400)
        self.assertEqual(self.patient_names(), before)

    def test_whole_chunked_body_works(self):
        body = b'{"name": "Chunked Whole"}'
        status, _, _ = self.send_raw(self.head("POST", "/api/patients", "Transfer-Encoding: chunked"),
                                     f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        self.assertEqual(status, 201)
        self.assertIn("Chunked Whole", self.patient_names())

    # -- ambiguous framing --------------------------------------------------------
    def test_two_different_content_lengths_are_400(self):
        before = self.patient_names()
        body = b'{"name": "Two Lengths"}'
        status, headers, _ = self.send_raw(
            self.head("POST", "/api/patients", f"Content-Length: {len(body)}",
                      f"Content-Length: {len(body) + 5}"), body + b"\r\n\r\n\r\n", half_close=False)
        self.assertEqual(status, 400)
        self.assertIn("close", headers.get("connection", [""])[0].lower())
        self.assertEqual(self.patient_names(), before)
        # The same length twice is only redundant.
        status, _, _ = self.send_raw(
            self.head("POST", "/api/patients", f"Content-Length: {len(body)}",
                      f"Content-Length: {len(body)}"), body)
        self.assertEqual(status, 201)

    def test_content_length_with_chunked_is_400_and_the_connection_closes(self):
        before = self.patient_names()
        body = b'{"name": "Smuggled"}'
        chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        # After the chunked body, a second request that a Content-Length
        # reader would not see as one: it must never run.
        second = self.head("POST", "/api/patients", f"Content-Length: {len(body)}") + body
        with self.connect() as s:
            s.sendall(self.head("POST", "/api/patients", "Transfer-Encoding: chunked",
                                f"Content-Length: {len(chunked)}") + chunked + second)
            status, headers, _ = self.read_response(s)
            self.assertEqual(status, 400)
            self.assertIn("close", headers.get("connection", [""])[0].lower())
            s.settimeout(10)
            rest = b""
            while True:
                try:
                    got = s.recv(65536)
                except ConnectionResetError:
                    break
                if not got:
                    break
                rest += got
            self.assertEqual(rest, b"")
        self.assertEqual(self.patient_names(), before)

    # -- 204 ------------------------------------------------------------------------
    def test_204_has_no_content_length_or_type(self):
        p = self.server.post("/api/patients", {"name": "To Delete"}).json
        status, headers, body = self.send_raw(
            f"DELETE /api/patients/{p['id']} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Authorization: Bearer {self.server.admin_token()}\r\n\r\n".encode())
        self.assertEqual(status, 204)
        self.assertNotIn("content-length", headers)
        self.assertNotIn("content-type", headers)
        self.assertEqual(body, b"")

    def test_keep_alive_still_works_after_a_whole_body(self):
        conn = self.server.connection()
        try:
            for i in range(3):
                r = self.server.post("/api/patients", {"name": f"Keep {i}"}, conn=conn)
                self.assertEqual(r.status, 201, r)
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
