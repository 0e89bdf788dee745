#!/usr/bin/python3
"""sync_peers.py — the Python side of bench/sync.sh (see its header).

Run it with Debian's /usr/bin/python3, which has pymongo. Everything listens
on, and talks to, 127.0.0.1 only. Times printed are seconds from the moment
the command started. Requests to clinicbox send the admin API token in the
environment variable BENCH_API_TOKEN (made by bench/lib.sh's bench_token) as
`Authorization: Bearer`; a 401 or 403 answer ends the command with an error
(waiting does not make credentials valid).

Commands:

  proxy --port P --to-port Q --state-file F [--cut]
      A TCP proxy from 127.0.0.1:P to 127.0.0.1:Q (asyncio; asyncio sets
      TCP_NODELAY). SIGUSR1 cuts it: the listening socket is closed (a
      connect is refused) and every open connection is aborted; SIGUSR2 heals
      it (listens on P again). F says "up" or "cut" once a change took
      effect. On SIGTERM it prints "RESULT phase=proxy connections=...
      bytes_up=... bytes_down=... cpu_s=...".

  watch --target HOST:PORT [--data DIR] [--pid PID] [--seq N] [--rounds R]
        [--timeout T] [--after-pulled S] [--interval 0.1] [--label L]
        [--kick] [--log FILE]
      Polls GET /api/sync/status, and reads the box's pull checkpoint (meta
      row sync_pull_checkpoint) and its journal's sequence from
      DIR/clinicbox.db (a query_only connection), until the box has taken in
      every central change up to number N, has nothing left to push
      (pending_changes == 0) and R rounds completed since the server started
      (default 1). --kick first asks for a round (POST /api/sync/run).
      --after-pulled S stops S seconds after the last change was taken in,
      done or not. Samples the server's VmRSS (--pid) and reads its VmHWM at
      the end. Prints when the first and the last central change were taken
      in, when nothing was left to push, how many journal rows were cleared
      (pushed, or dropped as echoes) and the status counters. Exit 0 when
      done (or, with --after-pulled, when everything was taken in), 3 on
      timeout, 1 when the server never answered.

  status --target HOST:PORT [--data DIR] [--pid PID] [--label L]
         [--until synced|failing|pulling] [--timeout T]
      One snapshot (RESULT phase=status ...); with --until, polls until the
      box is synced (a round completed, nothing pending), has failed a round
      (the central server is unreachable) or has taken in a central change
      (its checkpoint is above 0), exit 1 on timeout.

  write --uri URI --db D --ids FILE --count N --base-date DATE
        [--slot-minutes 15] [--chunk 10000] [--by central:bench]
      N central changes in the documented shape (docs/sync.md, as
      tests/api/test_sync_crash.py's central_write_many): ceil(N/2) new
      patients and N/2 bookings, each patient followed by its booking.
      Booking k is with the (k mod D)-th doctor of FILE (bench_loadgen
      setup's ids: open 24/7) at DATE 00:00 UTC + (k div D) slots. The
      documents have the fields `clinicbox central` writes (createdAt etc.,
      whole seconds), so taking them in echoes nothing back. Per chunk: the
      clinic's counter $inc, insert_many of the documents, then of their
      change entries, each carrying its document (`doc`). The clinic is the only one in D's `clinics`. (Big
      chunks: jongodb's every write command costs time in proportion to the
      documents already in the collection, about 4 s at 30,000.)

  copydb --uri URI --src D --dst-uri URI2 --dst D2
      Copies the sync's collections of D into D2 (jongodb has no
      listCollections).

  pull-limit --uri URI --db D [--batch 500] [--samples 20]
      The box's pull reads alone, with pymongo, nothing written: for
      `samples` batches evenly spread over the change log, the find on
      `changes` (clinicId, seq in (cp, cp + 500]) with the documents the
      entries carry, and a find per collection (clinicId, _id $in) only for
      entries without one, as pull.c does. Prints changes/s = changes read / time.

  push-limit --uri URI --prefix P --dump FILE [--batch 100] [--seconds 10]
             [--size-seconds 5]
      The push's writes alone, with pymongo, into scratch databases P...:
      the records of `clinicbox sync --dump` (what a first contact pushes)
      as the box sends them (unordered bulk upserts of $set guarded by
      _sync.box, majority write concern), collection by collection, for at
      most S seconds; then all of them with plain insert_many; then the cost
      of one such upsert into a collection already holding as many documents
      as the dump's largest collection. Scratch databases are dropped where
      the server can (jongodb cannot).

  check --uri URI --db D --dump FILE
      Compares `clinicbox sync --dump` output with the central documents of
      the clinic: per collection, records only on one side and records whose
      fields differ. Prints "RESULT phase=check agree=0|1 ...".

  dropdbs --uri URI --prefix P
      Drops every database whose name starts with P (a real mongod).
"""
import argparse
import asyncio
import datetime
import http.client
import json
import math
import os
import signal
import sqlite3
import sys
import time
import uuid

RECORD_COLLECTIONS = ("clinics", "doctors", "schedules", "patients", "appointments", "offers",
                      "notifications")
SYNC_COLLECTIONS = RECORD_COLLECTIONS + ("changes", "counters", "central", "boxes", "rejections")
EXIT_TIMEOUT = 3


def loopback_only(host):
    if host not in ("127.0.0.1", "localhost"):
        sys.exit(f"sync_peers.py: refusing non-loopback host {host!r}")
    return "127.0.0.1"


def target(s):
    host, _, port = s.rpartition(":")
    return loopback_only(host), int(port)


def mongo(uri):
    import pymongo
    host = uri.split("//", 1)[1].split("/", 1)[0].split("?", 1)[0].rsplit(":", 1)[0]
    loopback_only(host)
    return pymongo.MongoClient(uri, serverSelectionTimeoutMS=10000)


def write_file(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(data)
    os.replace(tmp, path)


def drop_database(client, name):
    """Best effort: jongodb has no dropDatabase."""
    from pymongo.errors import OperationFailure
    try:
        client.drop_database(name)
        return True
    except OperationFailure:
        return False


# ------------------------------------------------------------------ proxy

class Proxy:
    def __init__(self, port, to_port, state_file):
        self.port, self.to_port, self.state_file = port, to_port, state_file
        self.server = None
        self.conns = set()
        self.connections = self.cuts = self.refused_upstream = 0
        self.bytes = {"up": 0, "down": 0}
        self.lock = asyncio.Lock()

    async def pipe(self, r, w, key):
        try:
            while True:
                data = await r.read(262144)
                if not data:
                    break
                self.bytes[key] += len(data)
                w.write(data)
                await w.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            w.close()

    async def handle(self, reader, writer):
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", self.to_port)
        except OSError:
            self.refused_upstream += 1
            writer.transport.abort()
            return
        self.connections += 1
        pair = (writer, uw)
        self.conns.add(pair)
        try:
            await asyncio.gather(self.pipe(reader, uw, "up"), self.pipe(ur, writer, "down"))
        finally:
            self.conns.discard(pair)

    async def up(self):
        async with self.lock:
            if self.server is None:
                self.server = await asyncio.start_server(self.handle, "127.0.0.1", self.port,
                                                         reuse_address=True)
            write_file(self.state_file, "up\n")

    async def cut(self):
        async with self.lock:
            if self.server is not None:
                self.server.close()
                self.server = None
                self.cuts += 1
            for w, uw in list(self.conns):
                w.transport.abort()
                uw.transport.abort()
            write_file(self.state_file, "cut\n")


def cmd_proxy(args):
    async def main():
        p = Proxy(args.port, args.to_port, args.state_file)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, lambda: asyncio.ensure_future(p.cut()))
        loop.add_signal_handler(signal.SIGUSR2, lambda: asyncio.ensure_future(p.up()))
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        if args.cut:
            write_file(args.state_file, "cut\n")
        else:
            await p.up()
        await stop.wait()
        await p.cut()
        t = os.times()
        print(f"RESULT phase=proxy connections={p.connections} cuts={p.cuts} "
              f"bytes_up={p.bytes['up']} bytes_down={p.bytes['down']} "
              f"refused_upstream={p.refused_upstream} cpu_s={t.user + t.system:.2f}", flush=True)
    asyncio.run(main())
    return 0


# ------------------------------------------------------------ the box side

class Box:
    """The box's sync status over HTTP, its checkpoint and journal, its memory."""

    def __init__(self, tgt, data=None, pid=None):
        self.host, self.port = target(tgt)
        self.conn = None
        self.db_path = os.path.join(data, "clinicbox.db") if data else None
        self.db = None
        self.pid = pid
        self.token = os.environ.get("BENCH_API_TOKEN", "")

    def request(self, method, path, body=None):
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                hdr = {"Accept": "application/json"}
                if self.token:
                    hdr["Authorization"] = f"Bearer {self.token}"
                if body is not None:
                    hdr["Content-Type"] = "application/json"
                self.conn.request(method, path, body=body, headers=hdr)
                r = self.conn.getresponse()
                data = r.read()
                if r.status in (401, 403):
                    sys.exit(f"sync_peers.py: {method} {path} answered {r.status}: the API token "
                             f"(BENCH_API_TOKEN{'' if self.token else ' is not set'}) was not "
                             f"accepted: {data[:200]!r}")
                return r.status, data
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def status(self):
        code, body = self.request("GET", "/api/sync/status")
        if code != 200:
            raise RuntimeError(f"/api/sync/status answered {code}: {body[:200]!r}")
        return json.loads(body)

    def kick(self):
        code, body = self.request("POST", "/api/sync/run", b"{}")
        if code != 202:
            raise RuntimeError(f"POST /api/sync/run answered {code}: {body[:200]!r}")

    def journal(self):
        """(pull checkpoint, journal rows waiting, the journal's last row
        number ever given), read in one statement: one snapshot. Nones when
        the database cannot be read."""
        if not self.db_path or not os.path.exists(self.db_path):
            return None, None, None
        try:
            if self.db is None:
                self.db = sqlite3.connect(self.db_path, timeout=5, isolation_level=None)
                self.db.execute("PRAGMA query_only = 1")
            row = self.db.execute(
                "SELECT (SELECT value FROM meta WHERE key = 'sync_pull_checkpoint'), "
                "(SELECT count(*) FROM sync_journal), "
                "(SELECT seq FROM sqlite_sequence WHERE name = 'sync_journal')").fetchone()
            return tuple(int(v) if v is not None else 0 for v in row)
        except (sqlite3.Error, ValueError, TypeError):
            return None, None, None

    def checkpoint(self):
        return self.journal()[0]

    def journal_seq(self):
        return self.journal()[2]

    def mem(self, key):
        if not self.pid:
            return None
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None


def fmt(t):
    return "nan" if t is None else f"{t:.3f}"


def nan(v):
    return "nan" if v is None else v


def snapshot_line(label, st, box):
    return (f"RESULT phase=status label={label} state={st['state']} running={int(st['running'])} "
            f"pending={st['pending_changes']} rounds_ok={st['rounds_ok']} "
            f"rounds_failed={st['rounds_failed']} pushed={st['pushed_total']} "
            f"pulled={st['pulled_total']} conflicts={st['conflicts_total']} "
            f"rejected={st['rejected_total']} drift={st.get('drift_repaired_total', 'nan')} "
            f"change_stream={st.get('change_stream', 'nan')} checkpoint={nan(box.checkpoint())} "
            f"journal_seq={nan(box.journal_seq())} rss_kb={nan(box.mem('VmRSS'))} "
            f"hwm_kb={nan(box.mem('VmHWM'))}")


def cmd_status(args):
    box = Box(args.target, args.data, args.pid)
    started = time.monotonic()
    st = None
    while True:
        try:
            st = box.status()
        except (OSError, http.client.HTTPException, RuntimeError, ValueError):
            st = None
        if st is not None and (
                args.until is None or
                (args.until == "synced" and st["rounds_ok"] >= 1 and st["pending_changes"] == 0
                 and st["state"] == "ok") or
                (args.until == "failing" and st["rounds_failed"] >= 1) or
                (args.until == "pulling" and (box.checkpoint() or 0) > 0)):
            break
        if time.monotonic() - started > args.timeout:
            print(f"sync_peers.py status: not {args.until} within {args.timeout:.0f} s; last "
                  f"status: {st}", file=sys.stderr)
            if st is not None:
                print(snapshot_line(args.label, st, box), flush=True)
            return 1
        time.sleep(0.1)
    print(snapshot_line(args.label, st, box), flush=True)
    return 0


def cmd_watch(args):
    started = time.monotonic()
    box = Box(args.target, args.data, args.pid)
    log = open(args.log, "w") if args.log else None
    first = last = None
    cp0 = cp = seq0 = seq = None
    t_first_pull = t_pulled = t_done = t_first_answer = None
    at_pulled = None   # (rows added, rows waiting) when the last change was taken in
    rows0 = rows = None   # journal rows waiting, from the same snapshot as cp and seq
    t_last = 0.0
    rss_max = pending_max = 0
    polls = 0
    kicked = not args.kick
    deadline = started + args.timeout
    while time.monotonic() < deadline:
        rss = box.mem("VmRSS")
        if rss:
            rss_max = max(rss_max, rss)
        try:
            if not kicked:
                box.kick()
                kicked = True
            st = box.status()
        except (OSError, http.client.HTTPException, RuntimeError, ValueError):
            time.sleep(args.interval)
            continue
        c, n, s = box.journal()
        if n is None:
            n = st["pending_changes"]
        now = time.monotonic() - started
        polls += 1
        if first is None:
            first = st
            t_first_answer = now
        if cp0 is None and c is not None:
            cp0 = c
        if seq0 is None and s is not None:
            seq0 = s
        if rows0 is None:
            rows0 = n
        rows = n
        if c is not None:
            cp = c
        if s is not None:
            seq = s
        last = st
        t_last = now
        pending_max = max(pending_max, n)
        if log:
            log.write(f"{now:.3f} cp={c} journal_seq={s} pending={st['pending_changes']} "
                      f"state={st['state']} running={int(st['running'])} ok={st['rounds_ok']} "
                      f"failed={st['rounds_failed']} pushed={st['pushed_total']} "
                      f"pulled={st['pulled_total']} rss={rss}\n")
        if t_first_pull is None and cp is not None and cp0 is not None and cp > cp0:
            t_first_pull = now
        if t_pulled is None and (args.seq <= 0 or (cp is not None and cp >= args.seq)):
            t_pulled = now
            at_pulled = ((seq - seq0) if seq is not None and seq0 is not None else 0, rows)
        if (t_pulled is not None and st["pending_changes"] == 0 and
                st["rounds_ok"] >= args.rounds):
            t_done = now
            break
        if (args.after_pulled is not None and t_pulled is not None and
                now >= t_pulled + args.after_pulled):
            break
        time.sleep(args.interval)
    if log:
        log.close()
    if last is None:
        print("sync_peers.py watch: /api/sync/status never answered", file=sys.stderr)
        print(f"RESULT phase=watch label={args.label} ok=0", flush=True)
        return 1
    hwm = box.mem("VmHWM")
    added = (seq - seq0) if seq is not None and seq0 is not None else 0
    cleared = added - (rows - rows0)
    if at_pulled is not None:   # what was cleared after the last change was in: pushed
        cleared_pulled = at_pulled[0] - (at_pulled[1] - rows0)
        tail = f"rows_at_pulled={at_pulled[1]} rows_cleared_after_pulled={cleared - cleared_pulled}"
    else:
        tail = "rows_at_pulled=nan rows_cleared_after_pulled=nan"
    pushed = last["pushed_total"] - first["pushed_total"]
    pulled = last["pulled_total"] - first["pulled_total"]
    taken = (cp - cp0) if cp is not None and cp0 is not None else 0
    conflicts = last["conflicts_total"] - first["conflicts_total"]
    rejected = last["rejected_total"] - first["rejected_total"]
    drift = (last["drift_repaired_total"] - first["drift_repaired_total"]
             if "drift_repaired_total" in last else "nan")
    done = "done" if t_done is not None else (
        "stopped as asked" if args.after_pulled is not None and t_pulled is not None
        else "TIMED OUT")
    print(f"  watch ({polls} polls over {t_last:.1f} s, {done}): checkpoint {cp0} -> {cp} "
          f"(target {args.seq}): first central change in at {fmt(t_first_pull)} s, the last at "
          f"{fmt(t_pulled)} s; nothing left to push at {fmt(t_done)} s. Journal: {rows0} "
          f"rows at first, {added} added, {cleared} cleared (pushed or dropped as echoes), "
          f"{rows} left, peak {pending_max}. Rounds completed "
          f"{last['rounds_ok']} (they counted {pulled} taken in, {pushed} pushed, {conflicts} "
          f"conflicts, {rejected} refused, {drift} drift repairs), failed "
          f"{last['rounds_failed']}. VmRSS peak seen "
          f"{rss_max} kB, VmHWM {hwm} kB", flush=True)
    print(f"RESULT phase=watch label={args.label} ok={int(t_done is not None)} "
          f"t_first_answer={fmt(t_first_answer)} t_first_pull={fmt(t_first_pull)} "
          f"t_pulled={fmt(t_pulled)} t_done={fmt(t_done)} t_last={t_last:.3f} cp0={nan(cp0)} "
          f"cp={nan(cp)} seq={args.seq} taken={taken} rows_added={added} "
          f"rows_cleared={cleared} pushed={pushed} pulled={pulled} conflicts={conflicts} "
          f"rejected={rejected} drift={drift} rounds_ok={last['rounds_ok']} "
          f"rounds_failed={last['rounds_failed']} pending_first={rows0} "
          f"pending_max={pending_max} pending_last={rows} "
          f"rss_max_kb={rss_max or 'nan'} hwm_kb={nan(hwm)} {tail} polls={polls}", flush=True)
    if t_done is not None or (args.after_pulled is not None and t_pulled is not None):
        return 0
    return EXIT_TIMEOUT


# ----------------------------------------------------------- central side

def only_clinic(db):
    ids = [d["_id"] for d in db.clinics.find({}, {"_id": 1}).limit(2)]
    if len(ids) != 1:
        sys.exit(f"sync_peers.py: {db.name} holds {len(ids)} clinics, not one")
    return ids[0]


def cmd_write(args):
    import pymongo
    if args.count < 1 or args.count > 999999:
        sys.exit("sync_peers.py write: --count must be 1..999999 (the 6-digit revision counter)")
    client = mongo(args.uri)
    db = client[args.db]
    clinic = only_clinic(db)
    with open(args.ids) as f:
        doctors = [line.split()[1] for line in f if line.startswith("doctor ")]
    if not doctors:
        sys.exit(f"sync_peers.py write: no doctor in {args.ids}")
    base = datetime.datetime.strptime(args.base_date, "%Y-%m-%d").replace(
        tzinfo=datetime.timezone.utc)
    slot = datetime.timedelta(minutes=args.slot_minutes)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ms = int(now.timestamp() * 1000)
    changes = []   # (collection, doc) in the order of their numbers
    k = 0
    for i in range((args.count + 1) // 2):
        pid = str(uuid.uuid4())
        changes.append(("patients", {
            "_id": pid, "name": f"Central patient {i + 1}", "email": None, "phone": None,
            "notifyEmail": False, "notifySms": False, "createdAt": now, "updatedAt": now}))
        if len(changes) == args.count:
            break
        start = base + (k // len(doctors)) * slot
        changes.append(("appointments", {
            "_id": str(uuid.uuid4()), "doctorId": doctors[k % len(doctors)], "patientId": pid,
            "start": start, "end": start + slot, "status": "booked", "reason": None,
            "createdBy": args.by, "createdAt": now, "updatedBy": args.by, "updatedAt": now}))
        k += 1
    last_day = (base + ((k - 1) // len(doctors)) * slot).date() if k else None
    t0 = time.monotonic()
    ctr = 0
    last_seq = 0
    for c0 in range(0, len(changes), args.chunk):
        part = changes[c0:c0 + args.chunk]
        n = len(part)
        last_seq = db.counters.find_one_and_update(
            {"_id": clinic}, {"$inc": {"seq": n}}, upsert=True,
            return_document=pymongo.ReturnDocument.AFTER)["seq"]
        at = datetime.datetime.now(datetime.timezone.utc)
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)
        by_coll = {}
        entries = []
        for j, (coll, doc) in enumerate(part):
            seq = last_seq - n + 1 + j
            rev = f"{ms:013d}-{ctr:06d}-{args.by}"
            ctr += 1
            d = dict(doc, clinicId=clinic, _sync={"rev": rev, "by": args.by, "seq": seq, "at": at})
            by_coll.setdefault(coll, []).append(d)
            entries.append({"_id": f"{clinic}:{seq}", "clinicId": clinic, "seq": seq,
                            "collection": coll, "docId": d["_id"], "rev": rev, "by": args.by,
                            "at": at, "doc": d})
        for coll, ds in by_coll.items():
            db[coll].insert_many(ds)
        db.changes.insert_many(entries)
    secs = time.monotonic() - t0
    npat = sum(1 for c, _ in changes if c == "patients")
    print(f"  central writes: {len(changes)} changes ({npat} new patients, {len(changes) - npat} "
          f"bookings from {args.base_date} to {last_day}) in {secs:.2f} s: "
          f"{len(changes) / secs:.0f} changes/s (counter, documents, change entries; "
          f"{args.chunk} a chunk; pymongo)", flush=True)
    print(f"RESULT phase=write db={db.name} changes={len(changes)} patients={npat} "
          f"bookings={len(changes) - npat} seconds={secs:.3f} rate={len(changes) / secs:.1f} "
          f"last_seq={last_seq} last_day={last_day}", flush=True)
    return 0


def cmd_copydb(args):
    src = mongo(args.uri)[args.src]
    dst = mongo(args.dst_uri)[args.dst]
    n = 0
    for name in SYNC_COLLECTIONS:
        docs = list(src[name].find({}))
        if docs:
            if dst[name].find_one({}) is not None:
                sys.exit(f"sync_peers.py copydb: {args.dst}.{name} is not empty")
            for i in range(0, len(docs), 10000):   # see write
                dst[name].insert_many(docs[i:i + 10000])
            n += len(docs)
    print(f"RESULT phase=copydb src={args.src} dst={args.dst} documents={n}", flush=True)
    return 0


def cmd_pull_limit(args):
    db = mongo(args.uri)[args.db]
    clinic = only_clinic(db)
    top = db.changes.find_one({"clinicId": clinic}, sort=[("seq", -1)])
    if not top:
        sys.exit(f"sync_peers.py pull-limit: no change entries in {args.db}")
    last = int(top["seq"])
    nbatches = max(1, math.ceil(last / args.batch))
    picks = sorted({int(i * nbatches / args.samples) for i in range(args.samples)}) \
        if nbatches > args.samples else list(range(nbatches))
    read = 0
    t_changes = t_docs = 0.0
    for b in picks:
        cp = b * args.batch
        t0 = time.monotonic()
        # as pull.c reads: a range of numbers, the documents carried by the
        # entries (fetched by id only for entries without one)
        entries = list(db.changes.find({"clinicId": clinic,
                                        "seq": {"$gt": cp, "$lte": cp + args.batch}}))
        t1 = time.monotonic()
        by_coll = {}
        for e in entries:
            if "doc" not in e:
                by_coll.setdefault(e["collection"], []).append(e["docId"])
        for coll in RECORD_COLLECTIONS:   # the box's order
            if coll in by_coll:
                list(db[coll].find({"clinicId": clinic, "_id": {"$in": by_coll[coll]}}))
        t2 = time.monotonic()
        read += len(entries)
        t_changes += t1 - t0
        t_docs += t2 - t1
    secs = max(t_changes + t_docs, 1e-9)
    print(f"  the pull's reads alone (pymongo, {len(picks)} of {nbatches} batches of "
          f"{args.batch}, spread over {last} changes): {read} changes in {secs:.2f} s = "
          f"{read / secs:.0f} changes/s ({t_changes / len(picks) * 1000:.0f} ms a batch on "
          f"`changes`, {t_docs / len(picks) * 1000:.0f} ms on the documents)", flush=True)
    print(f"RESULT phase=pulllimit changes={read} batches={len(picks)} seconds={secs:.3f} "
          f"rate={read / secs:.1f} ms_changes={t_changes / len(picks) * 1000:.1f} "
          f"ms_docs={t_docs / len(picks) * 1000:.1f}", flush=True)
    return 0


def load_dump(path):
    from bson import json_util
    opts = json_util.JSONOptions(tz_aware=False)   # naive UTC, as pymongo reads dates
    out = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                d = json_util.loads(line, json_options=opts)
                out.setdefault(d.pop("collection"), {})[d["_id"]] = d
    return out


def cmd_push_limit(args):
    import pymongo
    from pymongo.write_concern import WriteConcern
    client = mongo(args.uri)
    dump = load_dump(args.dump)
    clinic = next(iter(dump.get("clinics", {})), "bench-clinic")
    box = "bench-push-limit"
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)
    wc = WriteConcern(w="majority")

    def op(coll, d, i):
        fields = {k: v for k, v in d.items() if k != "_id"}
        fields["clinicId"] = clinic
        fields["_sync"] = {"rev": f"{int(time.time() * 1000):013d}-{i % 1000000:06d}-{box}",
                           "box": box, "pushedAt": now}
        return pymongo.UpdateOne({"_id": d["_id"], "$or": [{"_sync.box": box}]},
                                 {"$set": fields}, upsert=True)

    names = [args.prefix + s for s in ("limit_upsert", "limit_insert", "limit_size")]
    up_db, ins_db, size_db = (client[n] for n in names)
    total = sum(len(v) for v in dump.values())
    done = 0
    sizes = {}
    last_ms = last_size = None
    t0 = time.monotonic()
    for c in RECORD_COLLECTIONS:
        ds = list(dump.get(c, {}).values())
        coll = up_db.get_collection(c, write_concern=wc)
        for i in range(0, len(ds), args.batch):
            if time.monotonic() - t0 > args.seconds:
                break
            part = ds[i:i + args.batch]
            tb = time.monotonic()
            coll.bulk_write([op(c, d, done + j) for j, d in enumerate(part)], ordered=False)
            last_ms = (time.monotonic() - tb) / len(part) * 1000
            done += len(part)
            sizes[c] = sizes.get(c, 0) + len(part)
            last_size = sizes[c]
    t_up = max(time.monotonic() - t0, 1e-9)
    t0 = time.monotonic()
    for c in RECORD_COLLECTIONS:
        ds = list(dump.get(c, {}).values())
        coll = ins_db.get_collection(c, write_concern=wc)
        for i in range(0, len(ds), 500):
            coll.insert_many([dict(d, clinicId=clinic) for d in ds[i:i + 500]], ordered=False)
    t_ins = max(time.monotonic() - t0, 1e-9)
    # one upsert into a collection as big as the dump's biggest
    big_name, big = max(((c, list(v.values())) for c, v in dump.items()), key=lambda cv: len(cv[1]))
    coll = size_db.get_collection(big_name, write_concern=wc)
    for i in range(0, len(big), 5000):
        coll.insert_many([dict(d, _id=str(uuid.uuid4())) for d in big[i:i + 5000]], ordered=False)
    n_at = 0
    t0 = time.monotonic()
    while n_at < 100 and time.monotonic() - t0 < args.size_seconds:
        part = [dict(d, _id=str(uuid.uuid4())) for d in big[:10]]
        coll.bulk_write([op(big_name, d, n_at + j) for j, d in enumerate(part)], ordered=False)
        n_at += len(part)
    ms_at = (time.monotonic() - t0) / max(n_at, 1) * 1000
    dropped = all([drop_database(client, n) for n in names])
    finished = "all" if done == total else f"{done} of {total} (stopped after {args.seconds:.0f} s)"
    print(f"  the push's writes alone (pymongo into scratch databases, the {total} records of "
          f"`clinicbox sync --dump`): guarded upserts as the box sends them, {finished}: "
          f"{done / t_up:.0f}/s, the last batch {fmt(last_ms)} ms an upsert into a collection "
          f"of {last_size}; plain insert_many of all: {total / t_ins:.0f}/s; one guarded upsert "
          f"into a collection of {len(big)} ({big_name}): {ms_at:.1f} ms"
          f"{'' if dropped else ' (scratch databases left: the server cannot drop them)'}",
          flush=True)
    print(f"RESULT phase=pushlimit records={total} upserted={done} upsert_seconds={t_up:.3f} "
          f"upsert_rate={done / t_up:.1f} last_batch_ms={fmt(last_ms)} last_size={last_size} "
          f"insert_rate={total / t_ins:.1f} at_size={len(big)} at_size_ms={ms_at:.2f} "
          f"at_size_rate={1000 / ms_at:.1f}", flush=True)
    return 0


def cmd_check(args):
    db = mongo(args.uri)[args.db]
    box = load_dump(args.dump)
    clinic = next(iter(box.get("clinics", {})), None) or only_clinic(db)
    agree = True
    parts = []
    examples = []
    for coll in RECORD_COLLECTIONS:
        mine = box.get(coll, {})
        theirs = {d["_id"]: d for d in db[coll].find({"clinicId": clinic})}
        only_box = [i for i in mine if i not in theirs]
        only_central = [i for i in theirs if i not in mine]
        differ = 0
        for i, d in mine.items():
            c = theirs.get(i)
            if c is None:
                continue
            for k, v in d.items():
                if k != "_id" and c.get(k) != v:
                    differ += 1
                    if len(examples) < 3:
                        examples.append(f"{coll} {i} {k}: box {v!r}, central {c.get(k)!r}")
                    break
        if only_box or only_central or differ:
            agree = False
            parts.append(f"{coll}={len(mine)}/{len(theirs)}(box_only={len(only_box)},"
                         f"central_only={len(only_central)},differ={differ})")
        else:
            parts.append(f"{coll}={len(mine)}/{len(theirs)}")
        if only_box and len(examples) < 3:
            examples.append(f"{coll} {only_box[0]} is only on the box")
        if only_central and len(examples) < 3:
            examples.append(f"{coll} {only_central[0]} is only central")
    print(f"  both sides {'agree' if agree else 'DISAGREE'}; records box/central: "
          f"{' '.join(parts)}", flush=True)
    for e in examples:
        print(f"    e.g. {e}", flush=True)
    print(f"RESULT phase=check agree={int(agree)} {' '.join(parts)}", flush=True)
    return 0


def cmd_dropdbs(args):
    from pymongo.errors import PyMongoError
    client = mongo(args.uri)
    try:
        for name in client.list_database_names():
            if name.startswith(args.prefix) and not drop_database(client, name):
                raise RuntimeError(f"cannot drop {name}")
    except (PyMongoError, RuntimeError) as e:
        print(f"sync_peers.py dropdbs: {e}", file=sys.stderr)
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    x = sub.add_parser("proxy")
    x.add_argument("--port", type=int, required=True)
    x.add_argument("--to-port", type=int, required=True)
    x.add_argument("--state-file", required=True)
    x.add_argument("--cut", action="store_true")
    w = sub.add_parser("watch")
    w.add_argument("--target", required=True)
    w.add_argument("--data")
    w.add_argument("--pid", type=int)
    w.add_argument("--seq", type=int, default=0)
    w.add_argument("--rounds", type=int, default=1)
    w.add_argument("--timeout", type=float, default=600)
    w.add_argument("--after-pulled", type=float)
    w.add_argument("--interval", type=float, default=0.1)
    w.add_argument("--label", default="watch")
    w.add_argument("--kick", action="store_true")
    w.add_argument("--log")
    s = sub.add_parser("status")
    s.add_argument("--target", required=True)
    s.add_argument("--data")
    s.add_argument("--pid", type=int)
    s.add_argument("--label", default="status")
    s.add_argument("--until", choices=("synced", "failing", "pulling"))
    s.add_argument("--timeout", type=float, default=60)
    r = sub.add_parser("write")
    r.add_argument("--uri", required=True)
    r.add_argument("--db", required=True)
    r.add_argument("--ids", required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--base-date", required=True)
    r.add_argument("--slot-minutes", type=int, default=15)
    r.add_argument("--chunk", type=int, default=10000)
    r.add_argument("--by", default="central:bench")
    c = sub.add_parser("copydb")
    c.add_argument("--uri", required=True)
    c.add_argument("--src", required=True)
    c.add_argument("--dst-uri", required=True)
    c.add_argument("--dst", required=True)
    pl = sub.add_parser("pull-limit")
    pl.add_argument("--uri", required=True)
    pl.add_argument("--db", required=True)
    pl.add_argument("--batch", type=int, default=500)
    pl.add_argument("--samples", type=int, default=20)
    ph = sub.add_parser("push-limit")
    ph.add_argument("--uri", required=True)
    ph.add_argument("--prefix", default="")
    ph.add_argument("--dump", required=True)
    ph.add_argument("--batch", type=int, default=100)
    ph.add_argument("--seconds", type=float, default=10)
    ph.add_argument("--size-seconds", type=float, default=5)
    k = sub.add_parser("check")
    k.add_argument("--uri", required=True)
    k.add_argument("--db", required=True)
    k.add_argument("--dump", required=True)
    d = sub.add_parser("dropdbs")
    d.add_argument("--uri", required=True)
    d.add_argument("--prefix", required=True)
    args = p.parse_args()
    return {"proxy": cmd_proxy, "watch": cmd_watch, "status": cmd_status, "write": cmd_write,
            "copydb": cmd_copydb, "pull-limit": cmd_pull_limit, "push-limit": cmd_push_limit,
            "check": cmd_check, "dropdbs": cmd_dropdbs}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
