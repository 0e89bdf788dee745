#!/usr/bin/python3
"""outbox_peers.py — the Python side of bench/outbox.sh (see docs/benchmark.md).

Run it with Debian's /usr/bin/python3 (the "test" peers need python3-aiosmtpd).
Everything listens on, and talks to, 127.0.0.1 only. Requests to clinicbox
send the admin API token in the environment variable BENCH_API_TOKEN (made by
bench/lib.sh's bench_token) as `Authorization: Bearer`; a 401 or 403 answer
ends the command with an error (waiting does not make credentials valid).

Commands:

  serve --channel smtp|sms --impl fast|test --port P [--sid SID --token TOK]
        [--ready-file F] [--sample-file F]
      Runs one peer until SIGTERM/SIGINT, then prints
      "RESULT peer=... accepted=N connections=C cpu_s=S".
      impl "test": the test suite's peers (tests/api/peers.py: MailSink on
      aiosmtpd, TwilioStandIn on http.server), unchanged.
      impl "fast": minimal asyncio peers written for this benchmark. The SMTP
      one speaks just enough RFC 5321 for libcurl (EHLO/HELO, MAIL, RCPT,
      DATA, RSET, NOOP, QUIT; no AUTH, no STARTTLS offered) and counts each
      DATA it acknowledged with 250. The SMS one answers POST
      /2010-04-01/Accounts/SID/Messages.json with HTTP basic auth SID:TOK and a
      form body with To and Body: 201 and {"sid": ..., "status": "queued"},
      keep-alive; anything else gets 401/404/400. --sample-file keeps the first
      accepted message (the DATA bytes, or the form body) for `load`.
      Each channel runs in its own process, so neither shares a GIL.

  load --channel smtp|sms --port P --seconds S [--sid --token]
       [--sample-file F] [--new-connection-every N]
      The sink's own limit: one sequential client (like the worker: one
      message at a time, the next after the answer) on raw sockets, for S
      seconds after 0.5 s of warm-up, sending the sample message (what
      clinicbox sent in this run) or a built-in one of the same shape.
      Prints "RESULT phase=sinkload channel=... rate=..."

  watch --target HOST:PORT --email N --sms M [--timeout T] [--interval 0.1]
      Polls GET /api/health until the email and sms senders have sent N and
      M messages (outbox.email.sent / outbox.sms.sent: counts since the
      server started) and queued+sending+failed == 0. Prints when each
      happened, in seconds from the moment the command started (the script
      starts it right after launching the server, or right after the peers
      came up), and the rates N / that time.

  health --target HOST:PORT [--metrics]
      One GET /api/health; prints "RESULT phase=health queued=... sending=...
      failed=... dead=... email_sent=... sms_sent=... email_failed=... ...";
      with --metrics also commits= and write_jobs= from GET /metrics (the
      writer thread's transactions and the jobs they carried).

  clinic --target HOST:PORT --json '{"confirmations": false}'
      PUT /api/clinic with that body (fields left out keep their value).

  cpusnap FILE / cpudiff A B --pgid G [--label L]
      Snapshots of /proc (machine busy time, every process's CPU time) and
      their difference: how busy the machine was, how much of it was this
      benchmark's process group and how much other processes (the top three
      by name). A process that started and ended between the snapshots (the
      load generator) is in neither of the last two figures.
"""
import argparse
import asyncio
import base64
import http.client
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_seconds():
    t = os.times()
    return t.user + t.system


def loopback_only(host):
    if host not in ("127.0.0.1", "localhost"):
        sys.exit(f"outbox_peers.py: refusing non-loopback host {host!r}")
    return "127.0.0.1"


def api_headers(**extra):
    """The headers of a request to clinicbox: JSON, and the API token."""
    h = {"Accept": "application/json"}
    token = os.environ.get("BENCH_API_TOKEN", "")
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(extra)
    return h


def refuse_unauthorized(what, status):
    if status in (401, 403):
        sys.exit(f"outbox_peers.py: {what} answered {status}: the API token "
                 f"(BENCH_API_TOKEN{' is not set' if not os.environ.get('BENCH_API_TOKEN') else ''})"
                 f" was not accepted")


def write_file(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# ---------------------------------------------------------------- fast peers

class FastStats:
    def __init__(self):
        self.accepted = 0
        self.connections = 0
        self.rejected = 0
        self.sample = None


async def fast_smtp(port, stats, sample_file):
    async def session(reader, writer):
        stats.connections += 1
        w = writer.write
        w(b"220 sink.bench ESMTP\r\n")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb == b"EHLO":
                    w(b"250-sink.bench\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n")
                elif verb == b"HELO":
                    w(b"250 sink.bench\r\n")
                elif verb == b"MAIL":
                    w(b"250 2.1.0 OK\r\n")
                elif verb == b"RCPT":
                    w(b"250 2.1.5 OK\r\n")
                elif verb == b"DATA":
                    w(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    data = await reader.readuntil(b"\r\n.\r\n")
                    stats.accepted += 1
                    if sample_file and stats.sample is None:
                        stats.sample = data[:-3]  # keep the final CRLF, drop ".\r\n"
                        write_file(sample_file, stats.sample)
                    w(b"250 2.0.0 OK: queued\r\n")
                elif verb in (b"RSET", b"NOOP"):
                    w(b"250 2.0.0 OK\r\n")
                elif verb == b"QUIT":
                    w(b"221 2.0.0 Bye\r\n")
                    await writer.drain()
                    break
                else:
                    w(b"502 5.5.2 Command not recognized\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(session, "127.0.0.1", port, limit=16 << 20,
                                      reuse_address=True)


async def fast_sms(port, sid, token, stats, sample_file):
    path = f"/2010-04-01/Accounts/{sid}/Messages.json".encode()
    auth = b"Basic " + base64.b64encode(f"{sid}:{token}".encode())

    def answer(status, reason, obj, close):
        body = json.dumps(obj).encode()
        head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n"
                f"{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n").encode()
        return head + body

    async def session(reader, writer):
        stats.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    break
                lines = head.split(b"\r\n")
                parts = lines[0].split(b" ")
                hdr = {}
                for l in lines[1:]:
                    k, sep, v = l.partition(b":")
                    if sep:
                        hdr[k.strip().lower()] = v.strip()
                close = hdr.get(b"connection", b"").lower() == b"close"
                if hdr.get(b"expect", b"").lower() == b"100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                n = int(hdr.get(b"content-length", b"0"))
                body = await reader.readexactly(n) if n else b""
                if len(parts) < 3 or parts[0] != b"POST" or parts[1] != path:
                    stats.rejected += 1
                    out = answer(404, "Not Found", {"code": 20404, "status": 404}, close)
                elif hdr.get(b"authorization") != auth:
                    stats.rejected += 1
                    out = answer(401, "Unauthorized", {"code": 20003, "status": 401}, close)
                elif b"To=" not in body or b"Body=" not in body:
                    stats.rejected += 1
                    out = answer(400, "Bad Request", {"code": 21604, "status": 400}, close)
                else:
                    stats.accepted += 1
                    if sample_file and stats.sample is None:
                        stats.sample = body
                        write_file(sample_file, body)
                    out = answer(201, "Created", {"sid": "SM" + secrets.token_hex(16),
                                                  "status": "queued"}, close)
                writer.write(out)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(session, "127.0.0.1", port, reuse_address=True)


def serve_fast(args):
    stats = FastStats()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main():
        if args.channel == "smtp":
            server = await fast_smtp(args.port, stats, args.sample_file)
        else:
            server = await fast_sms(args.port, args.sid, args.token, stats, args.sample_file)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if args.ready_file:
            write_file(args.ready_file, b"ready\n")
        await stop.wait()
        server.close()

    loop.run_until_complete(main())
    return stats.accepted, stats.connections, stats.rejected


def serve_test(args):
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
    sys.dont_write_bytecode = True  # leave tests/ as it is
    import peers  # noqa: E402  (tests/api/peers.py)

    counts = {"connections": 0}
    lock = threading.Lock()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    if args.channel == "smtp":
        class CountingController(peers._SinkController):
            def factory(self):  # called once per SMTP connection
                with lock:
                    counts["connections"] += 1
                return super().factory()

        class Sink(peers.MailSink):
            def _make_controller(self):
                return CountingController(peers._SinkHandler(self), hostname="127.0.0.1",
                                          port=self.port, server_hostname="mailsink.test",
                                          ready_timeout=10)

        peer = Sink(port=args.port).start()
    else:
        peer = peers.TwilioStandIn(account_sid=args.sid, auth_token=args.token,
                                   port=args.port).start()
        srv = peer._server
        orig = srv.process_request

        def counting(request, addr):
            with lock:
                counts["connections"] += 1
            orig(request, addr)

        srv.process_request = counting
    if args.ready_file:
        write_file(args.ready_file, b"ready\n")
    while not stop.wait(0.2):
        pass
    peer.stop()
    if args.sample_file:
        if args.channel == "smtp" and peer.messages:
            write_file(args.sample_file, peer.messages[0]["data"])
        elif args.channel == "sms":
            ok = [r["body"] for r in peer.requests if r["status"] == 201 and r.get("body")]
            if ok:
                write_file(args.sample_file, ok[0])
    rejected = 0 if args.channel == "smtp" else \
        sum(1 for r in peer.requests if r["status"] != 201)
    return len(peer.messages), counts["connections"], rejected


def cmd_serve(args):
    if args.channel == "sms" and not (args.sid and args.token):
        sys.exit("outbox_peers.py serve --channel sms needs --sid and --token")
    t0 = time.monotonic()
    accepted, conns, rejected = (serve_fast if args.impl == "fast" else serve_test)(args)
    print(f"RESULT peer={args.channel} impl={args.impl} accepted={accepted} "
          f"connections={conns} rejected={rejected} cpu_s={cpu_seconds():.2f} "
          f"up_s={time.monotonic() - t0:.1f}", flush=True)


# ---------------------------------------------------------------- sink limit

SAMPLE_EMAIL = (
    "From: =?UTF-8?Q?Bench_clinic?= <bench@clinicbox.invalid>\r\n"
    "To: P 1 <p1@example.org>\r\nSubject: Bench clinic: your appointment\r\n"
    "Date: Tue, 24 Nov 2026 03:00:00 +0000\r\nMessage-ID: <x@clinicbox.invalid>\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    + "Your appointment with Dr 1 is booked. " * 20 + "\r\n--b\r\n"
    "Content-Type: text/calendar; charset=UTF-8; method=PUBLISH\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    + ("QkVHSU46VkNBTEVOREFSClZFUlNJT046Mi4wClBST0RJRDotL2NsaW5pY2JveC8vRU4KQkVH\r\n" * 12)
    + "--b--\r\n").encode()
SAMPLE_SMS = b"To=%2B4915110000000&From=%2B15005550006&Body=Bench+clinic%3A+appointment+booked"


class LineReader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise ConnectionError("peer closed the connection")
        self.buf += d

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + 2:]
                return out
            self.fill()

    def smtp_reply(self, want):
        while True:
            l = self.line()
            if len(l) < 4 or l[3:4] != b"-":
                break
        if not l.startswith(want):
            raise RuntimeError(f"SMTP: wanted {want!r}, got {l!r}")

    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def smtp_client(port, payload, every):
    """Yields once per accepted message; reconnects every `every` messages
    (0: one connection throughout)."""
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    # dot-stuffing, as libcurl does it
    payload = payload.replace(b"\r\n.", b"\r\n..")
    if payload.startswith(b"."):
        payload = b"." + payload
    data = payload + b".\r\n"
    sent = 0
    while True:
        s = connect(port)
        r = LineReader(s)
        r.smtp_reply(b"220")
        s.sendall(b"EHLO bench\r\n")
        r.smtp_reply(b"250")
        k = 0
        while not every or k < every:
            s.sendall(b"MAIL FROM:<bench@clinicbox.invalid>\r\n")
            r.smtp_reply(b"250")
            s.sendall(b"RCPT TO:<p1@example.org>\r\n")
            r.smtp_reply(b"250")
            s.sendall(b"DATA\r\n")
            r.smtp_reply(b"354")
            s.sendall(data)
            r.smtp_reply(b"250")
            k += 1
            sent += 1
            yield sent
        s.sendall(b"QUIT\r\n")
        r.smtp_reply(b"221")
        s.close()


def sms_client(port, sid, token, body, every):
    auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
    req = (f"POST /2010-04-01/Accounts/{sid}/Messages.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
           f"Authorization: Basic {auth}\r\nUser-Agent: bench\r\nAccept: */*\r\n"
           f"Content-Type: application/x-www-form-urlencoded\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    sent = 0
    while True:
        s = connect(port)
        r = LineReader(s)
        k = 0
        while not every or k < every:
            s.sendall(req)
            status = r.line()
            if not status.startswith(b"HTTP/1.") or status.split(b" ")[1] != b"201":
                raise RuntimeError(f"SMS: wanted 201, got {status!r}")
            n = 0
            while True:
                l = r.line()
                if not l:
                    break
                if l.lower().startswith(b"content-length:"):
                    n = int(l.split(b":")[1])
            r.exactly(n)
            k += 1
            sent += 1
            yield sent
        s.close()


def cmd_load(args):
    payload = None
    if args.sample_file and os.path.exists(args.sample_file):
        with open(args.sample_file, "rb") as f:
            payload = f.read()
    source = "sample" if payload else "built-in"
    if args.channel == "smtp":
        gen = smtp_client(args.port, payload or SAMPLE_EMAIL, args.new_connection_every)
    else:
        gen = sms_client(args.port, args.sid, args.token, payload or SAMPLE_SMS,
                         args.new_connection_every)
    warm_end = time.monotonic() + 0.5
    for _ in gen:
        if time.monotonic() >= warm_end:
            break
    c0 = cpu_seconds()
    t0 = time.monotonic()
    end = t0 + args.seconds
    n = 0
    for _ in gen:
        n += 1
        if time.monotonic() >= end:
            break
    secs = time.monotonic() - t0
    cpu = cpu_seconds() - c0
    size = len(payload or (SAMPLE_EMAIL if args.channel == "smtp" else SAMPLE_SMS))
    print(f"  sink limit, {args.channel}: {n} messages in {secs:.2f} s = {n / secs:.1f}/s "
          f"(one sequential client, {source} message of {size} bytes, "
          f"{'one connection' if not args.new_connection_every else f'a new connection every {args.new_connection_every}'}; "
          f"client CPU {cpu / secs * 100:.0f}% of a core)", flush=True)
    print(f"RESULT phase=sinkload channel={args.channel} messages={n} seconds={secs:.3f} "
          f"rate={n / secs:.1f} bytes={size} client_cpu_pct={cpu / secs * 100:.0f}", flush=True)


# ---------------------------------------------------------------- health

def get_health(conn):
    conn.request("GET", "/api/health", headers=api_headers())
    r = conn.getresponse()
    body = r.read()
    refuse_unauthorized("GET /api/health", r.status)
    if r.status not in (200, 503):
        raise RuntimeError(f"/api/health answered {r.status}")
    h = json.loads(body)
    if "outbox" not in h:   # the anonymous answer: up or down and the version
        sys.exit("outbox_peers.py: GET /api/health has no outbox counts: the request was "
                 "not authenticated (BENCH_API_TOKEN)")
    o = h["outbox"]
    return {"queued": o.get("queued", -1), "sending": o.get("sending", -1),
            "failed": o.get("failed", -1), "dead": o.get("dead", -1),
            "email_sent": o["email"]["sent"], "sms_sent": o["sms"]["sent"],
            "email_failed": o["email"]["failed"], "sms_failed": o["sms"]["failed"],
            "email_state": o["email"]["state"], "sms_state": o["sms"]["state"]}


def target(s):
    host, _, port = s.rpartition(":")
    return loopback_only(host), int(port)


def get_metrics(conn, names):
    conn.request("GET", "/metrics", headers=api_headers(Accept="text/plain"))
    r = conn.getresponse()
    text = r.read().decode("utf-8", "replace")
    refuse_unauthorized("GET /metrics", r.status)
    if r.status != 200:
        raise RuntimeError(f"/metrics answered {r.status}")
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        if k in names:
            out[names[k]] = int(float(v))
    return out


def cmd_health(args):
    host, port = target(args.target)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    h = get_health(conn)
    if args.metrics:
        h.update(get_metrics(conn, {"clinicbox_db_commits_total": "commits",
                                    "clinicbox_db_write_jobs_total": "write_jobs"}))
    print("RESULT phase=health " + " ".join(f"{k}={v}" for k, v in h.items()), flush=True)


def cmd_clinic(args):
    host, port = target(args.target)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("PUT", "/api/clinic", body=args.json.encode(),
                 headers=api_headers(**{"Content-Type": "application/json"}))
    r = conn.getresponse()
    body = r.read()
    refuse_unauthorized("PUT /api/clinic", r.status)
    if r.status != 200:
        sys.exit(f"outbox_peers.py clinic: PUT /api/clinic answered {r.status}: {body[:300]!r}")


def cmd_watch(args):
    """Times are from the moment this command started (the script starts it
    right after launching the server, or right after the peers came up)."""
    started = time.monotonic()
    host, port = target(args.target)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    first = last = None
    t_email = t_sms = t_empty = t_first_sent = None
    polls = 0
    deadline = started + args.timeout
    while time.monotonic() < deadline:
        try:
            h = get_health(conn)
        except (OSError, http.client.HTTPException, ValueError):
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            time.sleep(args.interval)
            continue
        now = time.monotonic() - started
        polls += 1
        last = h
        if first is None:
            first = dict(h, t=now)
        if t_first_sent is None and (h["email_sent"] > 0 or h["sms_sent"] > 0):
            t_first_sent = now
        if t_email is None and h["email_sent"] >= args.email:
            t_email = now
        if t_sms is None and h["sms_sent"] >= args.sms:
            t_sms = now
        if h["queued"] + h["sending"] + h["failed"] == 0 and t_email is not None \
                and t_sms is not None:
            t_empty = now
            break
        time.sleep(args.interval)

    def f(t):
        return "nan" if t is None else f"{t:.3f}"

    def rate(n, t):
        return "nan" if not t else f"{n / t:.1f}"

    if last is None:
        print("outbox_peers.py watch: /api/health never answered", file=sys.stderr)
        print("RESULT phase=watch ok=0", flush=True)
        return 1
    open_first = first["queued"] + first["sending"] + first["failed"]
    open_last = last["queued"] + last["sending"] + last["failed"]
    print(f"  watch ({polls} polls of /api/health): email {last['email_sent']}/{args.email} "
          f"sent at {f(t_email)} s, sms {last['sms_sent']}/{args.sms} at {f(t_sms)} s, queue "
          f"empty at {f(t_empty)} s; first message sent by {f(t_first_sent)} s; open messages "
          f"{open_first} at the first answer ({f(first['t'])} s), {open_last} at the end; "
          f"dead {last['dead']}; attempts that failed: email {last['email_failed']}, "
          f"sms {last['sms_failed']}", flush=True)
    print(f"RESULT phase=watch label={args.label} ok={int(t_empty is not None)} "
          f"email={last['email_sent']} sms={last['sms_sent']} t_first={f(first['t'])} "
          f"t_email={f(t_email)} t_sms={f(t_sms)} t_empty={f(t_empty)} "
          f"t_first_sent={f(t_first_sent)} email_rate={rate(args.email, t_email)} "
          f"sms_rate={rate(args.sms, t_sms)} "
          f"total_rate={rate(args.email + args.sms, t_empty)} open_first={open_first} "
          f"open_last={open_last} dead={last['dead']} email_failed={last['email_failed']} "
          f"sms_failed={last['sms_failed']} polls={polls}", flush=True)
    return 0 if t_empty is not None else 1


# ---------------------------------------------------------------- other load

def cpu_snapshot():
    """{"t": monotonic, "busy": machine busy jiffies, "procs": {pid: [pgid, comm, jiffies]}}"""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    busy = sum(cpu) - cpu[3] - (cpu[4] if len(cpu) > 4 else 0)  # minus idle and iowait
    procs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        rest = s[s.rindex(")") + 2:].split()
        procs[pid] = [int(rest[2]), comm, int(rest[11]) + int(rest[12])]
    return {"t": time.monotonic(), "busy": busy, "procs": procs}


def cmd_cpusnap(args):
    with open(args.out, "w") as f:
        json.dump(cpu_snapshot(), f)


def cmd_cpudiff(args):
    """Machine busy and what processes outside process group --pgid used
    between two snapshots (a process that started and ended in between is
    not seen)."""
    with open(args.a) as f:
        a = json.load(f)
    with open(args.b) as f:
        b = json.load(f)
    hz = os.sysconf("SC_CLK_TCK")
    secs = max(b["t"] - a["t"], 1e-6)
    ncpu = os.cpu_count()
    busy = (b["busy"] - a["busy"]) / hz / secs  # cores
    mine = others = 0.0
    top = {}
    for pid, (pgid, comm, j) in b["procs"].items():
        j0 = a["procs"].get(pid, [0, comm, 0])[2]
        d = (j - j0) / hz / secs
        if pgid == args.pgid:
            mine += d
        else:
            others += d
            top[comm] = top.get(comm, 0) + d
    names = ", ".join(f"{c} {v * 100:.0f}%" for c, v in
                      sorted(top.items(), key=lambda kv: -kv[1])[:3] if v >= 0.02) or "none"
    gone = max(busy - mine - others, 0)
    print(f"RESULT phase=cpu label={args.label} seconds={secs:.1f} busy_pct={busy * 100:.0f} "
          f"ncpu={ncpu} mine_pct={mine * 100:.0f} others_pct={others * 100:.0f} "
          f"gone_pct={gone * 100:.0f} others_top={names.replace(' ', '_')}", flush=True)
    print(f"  cpu over {secs:.1f} s: machine {busy * 100:.0f}% of {ncpu * 100}%; this "
          f"benchmark's running processes {mine * 100:.0f}%; other processes "
          f"{others * 100:.0f}% (top: {names}); processes that ended in between (the load "
          f"generator, short-lived ones) and the kernel {gone * 100:.0f}%", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--channel", choices=("smtp", "sms"), required=True)
    s.add_argument("--impl", choices=("fast", "test"), default="fast")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--sid")
    s.add_argument("--token")
    s.add_argument("--ready-file")
    s.add_argument("--sample-file")
    l = sub.add_parser("load")
    l.add_argument("--channel", choices=("smtp", "sms"), required=True)
    l.add_argument("--port", type=int, required=True)
    l.add_argument("--seconds", type=float, default=3)
    l.add_argument("--sid")
    l.add_argument("--token")
    l.add_argument("--sample-file")
    l.add_argument("--new-connection-every", type=int, default=0)
    w = sub.add_parser("watch")
    w.add_argument("--target", required=True)
    w.add_argument("--email", type=int, required=True)
    w.add_argument("--sms", type=int, required=True)
    w.add_argument("--timeout", type=float, default=300)
    w.add_argument("--interval", type=float, default=0.1)
    w.add_argument("--label", default="drain")
    h = sub.add_parser("health")
    h.add_argument("--target", required=True)
    h.add_argument("--metrics", action="store_true",
                   help="also the write commits and jobs from /metrics (scans tables)")
    k = sub.add_parser("clinic")
    k.add_argument("--target", required=True)
    k.add_argument("--json", required=True)
    c = sub.add_parser("cpusnap")
    c.add_argument("out")
    d = sub.add_parser("cpudiff")
    d.add_argument("a")
    d.add_argument("b")
    d.add_argument("--pgid", type=int, required=True)
    d.add_argument("--label", default="phase")
    args = p.parse_args()
    if args.cmd == "serve":
        return cmd_serve(args)
    if args.cmd == "load":
        return cmd_load(args)
    if args.cmd == "watch":
        return cmd_watch(args)
    if args.cmd == "clinic":
        return cmd_clinic(args)
    if args.cmd == "cpusnap":
        return cmd_cpusnap(args)
    if args.cmd == "cpudiff":
        return cmd_cpudiff(args)
    return cmd_health(args)


if __name__ == "__main__":
    sys.exit(main() or 0)
