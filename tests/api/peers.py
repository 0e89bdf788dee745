"""Real network peers for the API tests: an SMTP server (MailSink) and a
stand-in for Twilio's Messages API (TwilioStandIn), both started in-process on
127.0.0.1, each in its own thread.

Both speak their protocol for real over loopback sockets, check what a real
peer would check, and record what they received, so a test can assert on what
clinicbox actually sent. Both can be stopped and started again on the same port
any number of times, to simulate an outage; the port is picked (free_port())
when the object is made and kept.

    sink = MailSink(auth=("clinic", "s3cret"), reject={"gone@example.org"})
    sink.start()                      # smtp://127.0.0.1:PORT -> sink.url
    ...
    msgs = sink.wait_for(1)           # [{"mail_from", "rcpt_tos", "data", ...}]
    sink.stop()

    sms = TwilioStandIn()             # .account_sid, .auth_token, .base_url
    sms.start()
    sms.mode = "429"                  # or "ok", "500", "hang", "drop"
    sms.fail_next(2, "500")           # the next 2 valid requests get a 500
    sent = sms.wait_for(1)            # accepted messages
    sms.stop()

Standard library plus aiosmtpd only (Debian's python3-aiosmtpd).
"""
import base64
import binascii
import collections
import email
import email.policy
import email.utils
import http.server
import json
import logging
import re
import secrets
import socket
import ssl
import threading
import time
import urllib.parse
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from harness import free_port


def _wait(cond, lst, count, timeout, what, describe):
    """Wait on `cond` until len(lst) >= count; return a copy of lst."""
    deadline = time.monotonic() + timeout
    with cond:
        while len(lst) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} {what}, "
                    f"got {len(lst)}:\n{describe()}")
            cond.wait(left)
        return list(lst)


def _wait_bindable(port, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.05)


# -- SMTP ----------------------------------------------------------------------

class _AiosmtpdNoiseFilter(logging.Filter):
    """aiosmtpd logs a warning on every start that AUTH is allowed without TLS
    (intended on loopback in tests) and on every AUTH that its own
    Session.login_data is deprecated (not ours to fix)."""

    def filter(self, record):
        msg = record.getMessage()
        return "auth_require_tls" not in msg and "login_data is deprecated" not in msg


logging.getLogger("mail.log").addFilter(_AiosmtpdNoiseFilter())


class _SinkController(Controller):
    def factory(self):
        # SMTP() warns (UserWarning) that AUTH without TLS is insecure; on
        # loopback in tests that is the point.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return super().factory()


class _SinkHandler:
    """aiosmtpd handler hooks; all state lives in the MailSink."""

    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink._rcpt_reply(address)
        self.sink._log_rcpt(address, reply, session)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    async def handle_DATA(self, server, session, envelope):
        self.sink._store(session, envelope)
        return "250 2.0.0 OK: queued"


class MailSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1:port.

    auth=(user, password): advertise AUTH PLAIN and LOGIN (no TLS needed) and
    answer MAIL before a successful AUTH with 530. reject: addresses answered
    "550 5.1.1 No such user" at RCPT; tempfail: addresses answered
    "451 4.3.0 Try again later" (both compared case-insensitively; both sets
    may be changed while running). Every DATA is stored once, in .messages,
    before the 250 goes out."""

    def __init__(self, port=None, auth=None, reject=None, tempfail=None, tls=None, cert=None):
        """tls: None, "starttls" (STARTTLS offered and required before MAIL
        and AUTH) or "implicit" (TLS from the first byte, smtps://); cert:
        (certfile, keyfile) for either."""
        assert tls in (None, "starttls", "implicit")
        self.tls = tls
        self.cert = cert
        self.port = port or free_port()
        self.auth = tuple(auth) if auth else None
        self.reject = set(reject or ())
        self.tempfail = set(tempfail or ())
        self.messages = []   # one dict per DATA, see _store()
        self.rcpt_log = []   # every RCPT: {"address", "reply", "login", "at"}
        self.auth_log = []   # every AUTH attempt: {"mechanism", "login", "ok", "at"}
        self._cond = threading.Condition()
        self._controller = None

    @property
    def url(self):
        return f"{'smtps' if self.tls == 'implicit' else 'smtp'}://127.0.0.1:{self.port}"

    @property
    def running(self):
        return self._controller is not None

    # -- lifecycle ----------------------------------------------------------
    def start(self):
        assert self._controller is None, "MailSink already running"
        # Controller.start() only notices a failed bind after its whole
        # ready_timeout, so wait for the port first (it may be held briefly
        # after a stop()); asyncio binds with SO_REUSEADDR too.
        _wait_bindable(self.port)
        controller = self._make_controller()
        try:
            controller.start()  # binds, then self-connects to check readiness
        except BaseException:
            controller.stop(no_assert=True)
            controller.loop.close()
            raise
        self._controller = controller
        return self

    def _make_controller(self):
        # A fresh Controller (and event loop) per start: a stopped one has
        # closed its loop. server_hostname avoids a getfqdn() DNS lookup.
        kwargs = {}
        if self.auth:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.tls == "starttls")  # aiosmtpd does not count implicit TLS
        if self.tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*self.cert)
            if self.tls == "starttls":
                kwargs.update(tls_context=ctx, require_starttls=True)
            else:
                kwargs.update(ssl_context=ctx)
        return _SinkController(_SinkHandler(self), hostname="127.0.0.1", port=self.port,
                          server_hostname="mailsink.test", ready_timeout=10, **kwargs)

    def stop(self):
        """Close the listener and every open session; idempotent."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- results --------------------------------------------------------------
    def wait_for(self, count, timeout=30):
        """A copy of .messages once it holds >= count messages."""
        return _wait(self._cond, self.messages, count, timeout,
                     f"mail(s) at {self.url}", self._describe)

    def _describe(self):
        with self._cond:
            lines = [f"  mail from {m['mail_from']!r} to {m['rcpt_tos']!r} "
                     f"subject {m['message'].get('Subject')!r}" for m in self.messages]
            lines += [f"  RCPT {r['address']!r} -> {r['reply']!r}" for r in self.rcpt_log[-20:]]
            lines += [f"  AUTH {a['mechanism']} {a['login']!r} ok={a['ok']}" for a in self.auth_log[-20:]]
        return "\n".join(lines) or "  (no SMTP traffic at all)"

    # -- hooks (run in aiosmtpd's thread) -----------------------------------
    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = False
        login = None
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            ok = (login, password) == self.auth
        with self._cond:
            self.auth_log.append({"mechanism": mechanism, "login": login, "ok": ok,
                                  "at": time.time()})
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def _rcpt_reply(self, address):
        a = address.lower()
        if a in {x.lower() for x in self.reject}:
            return "550 5.1.1 No such user"
        if a in {x.lower() for x in self.tempfail}:
            return "451 4.3.0 Try again later"
        return "250 2.1.5 OK"

    @staticmethod
    def _login(session):
        data = getattr(session, "auth_data", None)
        login = getattr(data, "login", None)
        if isinstance(login, bytes):
            login = login.decode("utf-8", "replace")
        return login if session.authenticated else None

    def _log_rcpt(self, address, reply, session):
        with self._cond:
            self.rcpt_log.append({"address": address, "reply": reply,
                                  "login": self._login(session), "at": time.time()})

    def _store(self, session, envelope):
        data = envelope.original_content  # bytes after dot-unstuffing, as received
        if isinstance(data, str):  # not with decode_data=False; defensive
            data = data.encode("utf-8", "surrogateescape")
        entry = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": data,
            "message": email.message_from_bytes(data, policy=email.policy.default),
            "login": self._login(session),
            # an implicit-TLS listener speaks nothing but TLS; aiosmtpd only
            # fills session.ssl after STARTTLS
            "tls": session.ssl is not None or self.tls == "implicit",
            "at": time.time(),
        }
        with self._cond:
            self.messages.append(entry)
            self._cond.notify_all()


# -- Twilio ----------------------------------------------------------------------

_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_ALNUM_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 +\-_&]{1,11}")
_MG_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXT = set("^{}\\[~]|€\f")
MODES = ("ok", "500", "429", "hang", "drop")


def num_segments(body):
    """SMS segments for body: GSM-7 (160, or 153 per part) when every
    character is in the GSM 03.38 alphabet, else UCS-2 (70, or 67 per part,
    counted in UTF-16 code units)."""
    if all(c in _GSM7_BASIC or c in _GSM7_EXT for c in body):
        n, single, part = sum(2 if c in _GSM7_EXT else 1 for c in body), 160, 153
    else:
        n, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if n <= single else -(-n // part)


def _rfc2822(t):
    return email.utils.formatdate(t, usegmt=False).replace("-0000", "+0000")


class _TwilioHTTPServer(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, addr, handler, peer, stop_event):
        self.peer = peer
        self.stop_event = stop_event
        self.open_sockets = set()
        self.sockets_lock = threading.Lock()
        super().__init__(addr, handler)

    def process_request(self, request, client_address):
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def drop_all(self):
        """Cut every open connection (idle keep-alive ones included)."""
        with self.sockets_lock:
            socks = list(self.open_sockets)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _TwilioHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as api.twilio.com
    server_version = "nginx"
    sys_version = ""
    timeout = 120
    # Headers and body go out in two writes; without this each answer waited
    # ~40 ms for the client's delayed ACK (about 23 answers a second).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    # -- plumbing -------------------------------------------------------------
    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if te == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ValueError("connection closed inside a chunked body")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        if te:
            raise ValueError(f"unsupported Transfer-Encoding {te!r}")
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        n = int(length)
        if n < 0 or n > 1 << 20:
            raise ValueError(f"bad Content-Length {length!r}")
        body = self.rfile.read(n)
        if len(body) != n:
            raise ValueError("connection closed inside the body")
        return body

    def _send_json(self, status, obj, headers=None):
        payload = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _error(self, status, code, message, headers=None):
        self._send_json(status, {"code": code, "message": message,
                                 "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                 "status": status}, headers)

    def _drop(self):
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- methods ----------------------------------------------------------------
    def do_POST(self):
        self._handle("POST")

    def do_GET(self):
        self._handle("GET")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_PATCH(self):
        self._handle("PATCH")

    def _handle(self, method):
        peer = self.server.peer
        rec = {"method": method, "path": self.path, "status": None, "form": None,
               "reason": None, "auth_ok": False, "mode": None, "at": time.time(),
               "headers": dict(self.headers.items())}
        try:
            body = self._read_body()
        except ValueError as e:
            rec["reason"] = f"unreadable body: {e}"
            rec["status"] = 400
            peer._record(rec)
            self.close_connection = True
            self._error(400, 400, f"Bad Request: {e}")
            return
        rec["body"] = body
        verdict = peer._check(method, self.path, self.headers, body, rec)
        if verdict is not None:  # (status, code, message, headers)
            rec["status"] = verdict[0]
            peer._record(rec)
            self._error(*verdict)
            return

        mode = peer._take_mode()
        rec["mode"] = mode
        form = rec["form"]
        if mode == "ok" and form["To"] in peer.bad_numbers:
            rec["status"], rec["reason"] = 400, "To is in bad_numbers"
            peer._record(rec)
            self._error(400, 21211, f"The 'To' number {form['To']} is not a valid phone number.")
        elif mode == "ok":
            msg = peer._accept(form)
            rec["status"], rec["reason"], rec["sid"] = 201, "accepted", msg["sid"]
            peer._record(rec, msg)
            self._send_json(201, peer._resource(msg))
        elif mode == "500":
            rec["status"], rec["reason"] = 500, "mode 500"
            peer._record(rec)
            self._error(500, 20500, "Internal Server Error")
        elif mode == "429":
            rec["status"], rec["reason"] = 429, "mode 429"
            peer._record(rec)
            self._error(429, 20429, "Too Many Requests",
                        {"Retry-After": str(peer.retry_after)})
        elif mode == "hang":
            rec["reason"] = "mode hang"
            peer._record(rec)
            self.server.stop_event.wait(peer.hang_seconds)
            self._drop()
        elif mode == "drop":
            rec["reason"] = "mode drop"
            peer._record(rec)
            self._drop()
        else:  # pragma: no cover - guarded by the mode setter
            raise AssertionError(f"unknown mode {mode!r}")


class TwilioStandIn:
    """A stand-in for Twilio's Messages API on 127.0.0.1:port (plain HTTP).

    Only POST /2010-04-01/Accounts/{account_sid}/Messages.json is served, with
    HTTP basic auth account_sid:auth_token and an
    application/x-www-form-urlencoded body holding To (E.164), exactly one of
    From (E.164 or alphanumeric sender ID) / MessagingServiceSid (MG + 32 hex)
    and a non-empty Body of at most 1600 characters. Errors are answered as
    Twilio does ({"code", "message", "more_info", "status"}).

    Only requests that pass every check are subject to the failure mode (what
    fail_next() queued, else .mode), so a malformed request is never hidden
    behind a simulated outage: "ok" answers 201 with the Message resource
    (or 400 21211 for a To in .bad_numbers), "500", "429" (Retry-After:
    .retry_after), "hang" (no answer for .hang_seconds, then close; stop()
    ends it early) and "drop" (close without any answer)."""

    def __init__(self, account_sid=None, auth_token=None, port=None):
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.port = port or free_port()
        self._mode = "ok"
        self.retry_after = 2
        self.hang_seconds = 30
        self.bad_numbers = set()
        self.messages = []   # accepted messages
        self.requests = []   # every request seen
        self._queue = collections.deque()
        self._cond = threading.Condition()
        self._server = None
        self._thread = None
        self._stop_event = None

    # -- configuration --------------------------------------------------------
    @property
    def mode(self):
        return self._mode

    @mode.setter
    def mode(self, value):
        value = str(value)
        if value not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {value!r}")
        self._mode = value

    def fail_next(self, n, mode):
        """The next n requests that pass every check get `mode`, then the
        current .mode applies again."""
        mode = str(mode)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        with self._cond:
            self._queue.extend([mode] * n)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def messages_path(self):
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    @property
    def messages_url(self):
        return self.base_url + self.messages_path

    @property
    def running(self):
        return self._server is not None

    # -- lifecycle ----------------------------------------------------------
    def start(self):
        assert self._server is None, "TwilioStandIn already running"
        self._stop_event = threading.Event()
        deadline = time.monotonic() + 10
        while True:
            try:
                self._server = _TwilioHTTPServer(("127.0.0.1", self.port), _TwilioHandler,
                                                 self, self._stop_event)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"twilio-standin-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop listening and cut every open connection (a hanging request
        included); idempotent."""
        if self._server is None:
            return
        self._stop_event.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_all()
        self._thread.join(5)
        self._server = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- results --------------------------------------------------------------
    def wait_for(self, count, timeout=30):
        """A copy of .messages once it holds >= count accepted messages."""
        return _wait(self._cond, self.messages, count, timeout,
                     f"accepted message(s) at {self.base_url}", self._describe)

    def wait_for_requests(self, count, timeout=30):
        """A copy of .requests once it holds >= count requests (any outcome)."""
        return _wait(self._cond, self.requests, count, timeout,
                     f"request(s) at {self.base_url}", self._describe)

    def _describe(self):
        with self._cond:
            lines = [f"  {r['method']} {r['path']} -> {r['status']} ({r['reason']}) "
                     f"form={r['form']!r}" for r in self.requests[-30:]]
        return "\n".join(lines) or "  (no requests at all)"

    # -- request handling (handler threads) -----------------------------------
    def _record(self, rec, msg=None):
        with self._cond:
            self.requests.append(rec)
            if msg is not None:
                self.messages.append(msg)
            self._cond.notify_all()

    def _take_mode(self):
        with self._cond:
            return self._queue.popleft() if self._queue else self._mode

    def _check(self, method, path, headers, body, rec):
        """None if the request is valid (rec["form"] filled in), else
        (status, code, message[, headers]) and rec["reason"] set."""
        if urllib.parse.urlsplit(path).path != self.messages_path:
            rec["reason"] = "unknown path"
            return (404, 20404, f"The requested resource {path} was not found")
        if method != "POST":
            rec["reason"] = f"method {method}"
            return (405, 20004, "Method not allowed")

        auth = headers.get("Authorization", "")
        expected = f"{self.account_sid}:{self.auth_token}"
        given = None
        if auth[:6].lower() == "basic ":
            try:
                given = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                given = None
        if given is None or not secrets.compare_digest(given.encode(), expected.encode()):
            rec["reason"] = "no basic auth" if given is None else "wrong credentials"
            return (401, 20003, "Authenticate",
                    {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        rec["auth_ok"] = True

        ctype = headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            rec["reason"] = f"Content-Type {ctype!r}"
            return (400, 400, "Bad Request: Content-Type must be "
                              f"application/x-www-form-urlencoded, not {ctype!r}")
        if body is None:
            rec["reason"] = "no Content-Length"
            return (400, 400, "Bad Request: no request body")
        try:
            lists = urllib.parse.parse_qs(body.decode("ascii"), keep_blank_values=True,
                                          strict_parsing=bool(body), encoding="utf-8",
                                          errors="strict")
        except (UnicodeDecodeError, ValueError) as e:
            rec["reason"] = f"unparsable form: {e}"
            return (400, 400, f"Bad Request: malformed form body ({e})")
        form = {k: v[-1] for k, v in lists.items()}
        rec["form"] = form
        repeated = sorted(k for k, v in lists.items() if len(v) > 1)
        if repeated:
            rec["reason"] = f"repeated parameter(s) {repeated}"
            return (400, 400, f"Bad Request: parameter(s) {', '.join(repeated)} given more than once")

        to = form.get("To")
        if not to:
            rec["reason"] = "no To"
            return (400, 21604, "A 'To' phone number is required.")
        if not _E164.fullmatch(to):
            rec["reason"] = "To is not E.164"
            return (400, 21211, f"The 'To' number {to} is not a valid phone number.")
        frm, mg = form.get("From"), form.get("MessagingServiceSid")
        if not frm and not mg:
            rec["reason"] = "neither From nor MessagingServiceSid"
            return (400, 21603, "A 'From' phone number is required.")
        if frm and mg:
            rec["reason"] = "both From and MessagingServiceSid"
            return (400, 21603, "Give either a 'From' phone number or a MessagingServiceSid, not both.")
        if frm and not (_E164.fullmatch(frm) or _ALNUM_SENDER.fullmatch(frm)):
            rec["reason"] = "From is neither E.164 nor alphanumeric"
            return (400, 21212, f"The 'From' number {frm} is not a valid phone number, "
                                "shortcode, or alphanumeric sender ID.")
        if mg and not _MG_SID.fullmatch(mg):
            rec["reason"] = "MessagingServiceSid is not MG + 32 hex"
            return (400, 21701, f"The Messaging Service Sid {mg} is invalid.")
        text = form.get("Body", "")
        if not text:
            rec["reason"] = "no Body"
            return (400, 21602, "Message body is required.")
        if len(text) > 1600:
            rec["reason"] = "Body over 1600 characters"
            return (400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        return None

    def _accept(self, form):
        return {"sid": "SM" + secrets.token_hex(16), "to": form["To"],
                "from": form.get("From") or None,
                "messaging_service_sid": form.get("MessagingServiceSid") or None,
                "body": form["Body"], "auth_ok": True, "at": time.time(),
                "form": dict(form)}

    def _resource(self, msg):
        """The Message resource as Twilio answers a create (201)."""
        created = _rfc2822(msg["at"])
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{msg['sid']}.json"
        via_service = msg["from"] is None
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": msg["body"],
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": msg["from"],
            "messaging_service_sid": msg["messaging_service_sid"],
            "num_media": "0",
            # Twilio reports 0 segments until a Messaging Service picked a sender.
            "num_segments": "0" if via_service else str(num_segments(msg["body"])),
            "price": None,
            "price_unit": "USD",
            "sid": msg["sid"],
            "status": "accepted" if via_service else "queued",
            "subresource_uris": {"media": uri[:-len(".json")] + "/Media.json"},
            "to": msg["to"],
            "uri": uri,
        }
