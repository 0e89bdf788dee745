"""Property test of the slot finder (issue 9, item 3), against an oracle.

For random weekly schedules (split hours, hours running past midnight, hours
in DST gaps and overlaps), dated exceptions, random bookings and random
from/to ranges and durations, in several zones and around each zone's next
real DST changes (found with zoneinfo from today's date, so the test runs on
any date on the real clock):

- GET available-slots equals what the oracle below computes, exactly;
- every offered slot can be booked at that moment (201, then cancelled);
- a sample of starts in the range that are not offered cannot be booked.

The oracle follows docs/design.md ("Slots, time zones and DST"), written
independently of src/domain/slots.c with Python's zoneinfo: each local day's
hours become UTC periods (a local time that does not exist moves forward by
the gap: zoneinfo's fold=0; one that exists twice means its first
occurrence: fold=0 too), touching or overlapping periods merge, slots start
at a period's start every slot_minutes of real time (a period longer than 7
days, round-the-clock hours, counts them from the epoch), a slot lies inside
one period, not before now, not overlapping a live booking; a date as `from`
is the start of that day, as `to` its end.

Seeded: a failure prints the seed; CLINICBOX_SLOTS_SEED=<n> replays it.
"""
import datetime as dt
import os
import random
import unittest
import urllib.parse
from zoneinfo import ZoneInfo

from harness import ServerTest

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
SLOT_MINUTES = [5, 10, 15, 15, 20, 30, 30, 45, 60]
# Times of day (minutes) that hit DST changes (01:00-03:00 in these zones),
# midnight and the end of the day more often than chance would.
INTERESTING = [0, 30, 60, 90, 105, 120, 125, 150, 180, 210, 240, 1320, 1380, 1425, 1440]
CASES_PER_FOCUS = 2
QUERIES_PER_CASE = 3
NEGATIVE_SAMPLES = 8


def seed():
    env = os.environ.get("CLINICBOX_SLOTS_SEED")
    return int(env) if env else random.SystemRandom().randrange(2 ** 32)


def dst_changes(zone, after, count=2, days=400):
    """UTC instants of the zone's next `count` offset changes after `after`."""
    out, t = [], after
    step = dt.timedelta(hours=1)
    prev = t.astimezone(zone).utcoffset()
    end = after + dt.timedelta(days=days)
    while t < end and len(out) < count:
        nxt = t + step
        off = nxt.astimezone(zone).utcoffset()
        if off != prev:
            lo, hi = t, nxt  # bisect to the minute
            while hi - lo > dt.timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
            prev = off
        t = nxt
    return out


# ---- the oracle ---------------------------------------------------------------

def local_to_utc(zone, day, minute):
    """Wall-clock minute (0..1440) of `day` -> unix seconds (fold=0)."""
    day = day + dt.timedelta(days=minute // 1440)
    minute %= 1440
    return int(dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60,
                           tzinfo=zone).timestamp())


def hours_of(sched, day):
    exc = [e for e in sched["exceptions"] if e["date"] == day.isoformat()]
    if exc:
        return [(hm(e["start"]), hm(e["end"])) for e in exc if not e.get("closed")]
    return [(hm(w["start"]), hm(w["end"])) for w in sched["weekly"]
            if w["weekday"] == day.isoweekday()]


def periods(zone, sched, first_day, last_day, step):
    """Merged UTC periods of the local days first_day..last_day. A period
    longer than 7 days starts at its first multiple of step (the epoch grid);
    one cut off by first_day or last_day must be that long (so the days given
    must reach more than 7 days beyond the ranges asked about)."""
    v = []
    day = first_day
    while day <= last_day:
        for a, b in hours_of(sched, day):
            s, e = local_to_utc(zone, day, a), local_to_utc(zone, day, b)
            if e > s:
                v.append([s, e])
        day += dt.timedelta(days=1)
    v.sort()
    merged = []
    for s, e in v:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    for p in merged:
        if p[1] - p[0] > 7 * 86400:
            p[0] += -p[0] % step
    return merged


def free_starts(per, step, length, busy, lo, hi):
    """Starts t in [lo, hi) on a period's grid, [t, t+length) inside it and
    overlapping no busy interval."""
    out = []
    for ps, pe in per:
        t = ps
        if t < lo:
            t += -(-(lo - t) // step) * step
        while t < hi and t + length <= pe:
            if all(not (bs < t + length and t < be) for bs, be in busy):
                out.append(t)
            t += step
    return sorted(out)


def hm(s):
    h, m = s.split(":")
    return int(h) * 60 + int(m)


def fmt_hm(m):
    return f"{m // 60:02d}:{m % 60:02d}"


def rfc3339(zone, t):
    return dt.datetime.fromtimestamp(t, zone).isoformat()


def unix(s):
    return int(dt.datetime.fromisoformat(s).timestamp())


# ---- random inputs ----------------------------------------------------------------

def random_hours(rng):
    """0-3 non-overlapping (maybe touching) entries of one day, never the
    whole day."""
    while True:
        k = rng.choice([0, 1, 1, 2, 2, 3])
        pts = set()
        while len(pts) < 2 * k:
            pts.add(rng.choice(INTERESTING) if rng.random() < 0.4 else rng.randrange(0, 289) * 5)
        pts = sorted(pts)
        entries = [(pts[2 * i], pts[2 * i + 1]) for i in range(k)]
        if k >= 2 and rng.random() < 0.3:  # make two pieces touch
            entries[1] = (entries[0][1], entries[1][1])
        entries = [(a, b) for a, b in entries if a < b and a < 1440]
        covered = sum(b - a for a, b in entries)
        if covered < 1440:
            return entries


def random_schedule(rng, focus):
    weekly = []
    round_the_clock = rng.random() < 0.15  # broken only by exceptions, if at all
    if round_the_clock:
        weekly = [{"weekday": wd, "start": "00:00", "end": "24:00"} for wd in range(1, 8)]
    for wd in range(1, 1 if round_the_clock else 8):
        weekly += [{"weekday": wd, "start": fmt_hm(a), "end": fmt_hm(b)}
                   for a, b in random_hours(rng)]
    if not round_the_clock and rng.random() < 0.5:  # a night across midnight, as in the issue
        wd = rng.randrange(1, 8)
        nxt = wd % 7 + 1
        weekly = [w for w in weekly if w["weekday"] not in (wd, nxt)]
        weekly += [{"weekday": wd, "start": fmt_hm(rng.choice([1200, 1260, 1320])), "end": "24:00"},
                   {"weekday": nxt, "start": "00:00", "end": fmt_hm(rng.choice([60, 120, 180, 240]))}]
    exceptions = []
    for delta in (-1, 0, 1, 2):
        r = rng.random()
        day = (focus + dt.timedelta(days=delta)).isoformat()
        if r < 0.15:
            exceptions.append({"date": day, "closed": True})
        elif r < 0.4:
            exceptions += [{"date": day, "start": fmt_hm(a), "end": fmt_hm(b)}
                           for a, b in random_hours(rng)]
    return {"weekly": weekly, "exceptions": exceptions}


class SlotsPropertyTest(ServerTest):
    def setUp(self):
        super().setUp()
        self.seed = seed()
        self.rng = random.Random(self.seed)
        p = self.server.post("/api/patients", {"name": "Prop Test"})  # no address: no messages
        self.assertEqual(p.status, 201, p)
        self.patient = p.json["id"]
        self.context = []

    def fail_with(self, what):
        self.fail(f"{what}\nseed {self.seed} (replay with CLINICBOX_SLOTS_SEED={self.seed})\n"
                  + "\n".join(str(c) for c in self.context))

    def book(self, doctor, start, duration):
        body = {"doctor_id": doctor, "patient_id": self.patient, "start": start}
        if duration is not None:
            body["duration_minutes"] = duration
        return self.server.post("/api/appointments", body)

    def cancel(self, appt_id):
        r = self.server.post(f"/api/appointments/{appt_id}/cancel", {})
        if r.status != 200:
            self.fail_with(f"cancel {appt_id}: {r}")

    def test_offered_slots_are_exactly_the_bookable_ones(self):
        now = dt.datetime.now(dt.timezone.utc)
        checked = 0
        for name in ZONES:
            zone = ZoneInfo(name)
            r = self.server.put("/api/clinic", {"name": "Praxis Property", "timezone": name})
            self.assertEqual(r.status, 200, r)
            # Focus on the local dates of the next DST changes at least three
            # days ahead (so nothing is in the past); zones without DST get a
            # random date.
            changes = dst_changes(zone, now + dt.timedelta(days=3))
            focus = [c.astimezone(zone).date() for c in changes] or \
                [(now + dt.timedelta(days=self.rng.randrange(4, 60))).astimezone(zone).date()]
            for f in focus:
                for _ in range(CASES_PER_FOCUS):
                    checked += self.run_case(zone, f)
        print(f"seed {self.seed}: {checked} offered slots checked")

    def run_case(self, zone, focus):
        rng = self.rng
        slot = rng.choice(SLOT_MINUTES)
        sched = random_schedule(rng, focus)
        self.context = [f"zone {zone.key} focus {focus} slot_minutes {slot}", f"schedule {sched}"]
        d = self.server.post("/api/doctors", {"name": "Dr. Property", "slot_minutes": slot})
        self.assertEqual(d.status, 201, d)
        doctor = d.json["id"]
        r = self.server.put(f"/api/doctors/{doctor}/schedule", sched)
        if r.status != 200:
            self.fail_with(f"schedule refused: {r}")

        lo_day, hi_day = focus - dt.timedelta(days=12), focus + dt.timedelta(days=14)
        step = slot * 60
        per = periods(zone, sched, lo_day, hi_day, step)
        window = (local_to_utc(zone, focus - dt.timedelta(days=1), 0),
                  local_to_utc(zone, focus + dt.timedelta(days=2), 1440))

        # Bookings: random bookable starts, booked through the API.
        busy = []
        for _ in range(rng.randrange(0, 7)):
            length = slot * rng.randrange(1, 5) * 60
            cands = free_starts(per, step, length, busy, *window)
            if not cands:
                break
            t = rng.choice(cands)
            r = self.book(doctor, rfc3339(zone, t), length // 60)
            if r.status != 201:
                self.fail_with(f"oracle says {rfc3339(zone, t)} for {length // 60} min is "
                               f"bookable, the server answered {r}")
            busy.append((t, t + length))
        self.context.append(f"bookings {[(rfc3339(zone, a), (b - a) // 60) for a, b in busy]}")

        checked = 0
        for _ in range(QUERIES_PER_CASE):
            checked += self.run_query(zone, focus, doctor, slot, per, busy)
        return checked

    def random_range(self, zone, focus, busy):
        """(from param, to param, from instant, to instant)."""
        rng = self.rng
        day = focus + dt.timedelta(days=rng.randrange(-1, 2))
        if rng.random() < 0.3:  # dates
            to_day = day + dt.timedelta(days=rng.randrange(0, 2))
            return (day.isoformat(), to_day.isoformat(), local_to_utc(zone, day, 0),
                    local_to_utc(zone, to_day, 1440))
        start = local_to_utc(zone, day, 0) + rng.randrange(0, 24 * 60) * 60
        if rng.random() < 0.3:
            start += rng.randrange(1, 300)  # not on any grid
        if busy and rng.random() < 0.5:  # `to` just before or at a booking's start
            b = rng.choice(busy)[0]
            end = b - rng.randrange(0, 13) * 300
            start = min(start, end - 300 * rng.randrange(1, 100))
        else:
            end = start + rng.randrange(1, 36 * 12) * 300
        if rng.random() < 0.2:  # `to` as a date
            to_day = dt.datetime.fromtimestamp(end, zone).date()
            return (rfc3339(zone, start), to_day.isoformat(), start,
                    local_to_utc(zone, to_day, 1440))
        return rfc3339(zone, start), rfc3339(zone, end), start, end

    def run_query(self, zone, focus, doctor, slot, per, busy):
        rng = self.rng
        frm, to, lo, hi = self.random_range(zone, focus, busy)
        duration = rng.choice([None, slot, 2 * slot, rng.randrange(1, 241)])
        rounded = slot if duration is None else -(-duration // slot) * slot
        if rounded > 480:
            return 0
        q = f"from={urllib.parse.quote(frm)}&to={urllib.parse.quote(to)}"
        if duration is not None:
            q += f"&duration={duration}"
        what = f"GET available-slots?{q} (duration rounded {rounded})"
        r = self.server.get(f"/api/doctors/{doctor}/available-slots?{q}")
        if r.status != 200:
            self.fail_with(f"{what}: {r}")
        length = rounded * 60
        got = []
        for s in r.json["slots"]:
            a, b = unix(s["start"]), unix(s["end"])
            if b - a != length:
                self.fail_with(f"{what}: slot {s} is not {rounded} minutes")
            for text, t in ((s["start"], a), (s["end"], b)):
                if dt.datetime.fromisoformat(text).utcoffset() != \
                        dt.datetime.fromtimestamp(t, zone).utcoffset():
                    self.fail_with(f"{what}: {text} is not in the zone's offset")
            got.append(a)
        want = free_starts(per, slot * 60, length, busy, lo, hi)
        if got != want:
            extra = [rfc3339(zone, t) for t in got if t not in want]
            missing = [rfc3339(zone, t) for t in want if t not in got]
            self.fail_with(f"{what}: offered but not bookable by the oracle {extra}; "
                           f"bookable but not offered {missing}")

        # Every offered slot is bookable at that moment.
        for t in got:
            b = self.book(doctor, rfc3339(zone, t), duration)
            if b.status != 201:
                self.fail_with(f"{what}: offered {rfc3339(zone, t)}, booking it answered {b}")
            self.cancel(b.json["id"])
        # And a sample of other starts in the range is not.
        others = [t for t in range(lo - lo % 300 + (300 if lo % 300 else 0), hi, 300)
                  if t not in set(got)]
        for t in rng.sample(others, min(NEGATIVE_SAMPLES, len(others))):
            b = self.book(doctor, rfc3339(zone, t), duration)
            if b.status == 201:
                self.cancel(b.json["id"])
                self.fail_with(f"{what}: {rfc3339(zone, t)} was not offered but could be booked")
            if b.status not in (409, 422):
                self.fail_with(f"{what}: booking {rfc3339(zone, t)} answered {b}")
        return len(got)


if __name__ == "__main__":
    unittest.main()
