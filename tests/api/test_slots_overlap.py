"""Issue 9, item 3: a slot that starts before `to` but runs past it must not
overlap a booking that starts at or after `to`. Offers, alternatives and
available slots share the finder, so available slots and a 409's
alternatives are both checked.

Runs on the real clock; the dates are derived from today (the Monday at
least a week ahead), so the test passes on any date. Berlin's DST changes
happen on Sunday nights, never on the Monday/Tuesday used here."""
import datetime as dt
import unittest
from zoneinfo import ZoneInfo

from harness import ServerTest

BERLIN = ZoneInfo("Europe/Berlin")


def monday_ahead(weeks=1):
    """The first Monday at least `weeks` weeks after today (Berlin's date)."""
    today = dt.datetime.now(BERLIN).date()
    d = today + dt.timedelta(days=7 * weeks)
    return d + dt.timedelta(days=(7 - d.weekday()) % 7)


def at(day, hh, mm=0):
    """RFC 3339 for the Berlin wall-clock time hh:mm on `day`."""
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=BERLIN).isoformat()


NIGHT = [{"weekday": 1, "start": "22:00", "end": "24:00"},
         {"weekday": 2, "start": "00:00", "end": "02:00"}]
DAY = [{"weekday": 1, "start": "08:00", "end": "18:00"}]


class SlotsPastToTest(ServerTest):
    def slots(self, doctor, frm, to, duration):
        q = f"/api/doctors/{doctor}/available-slots?from={frm}&to={to}&duration={duration}"
        r = self.server.get(q.replace("+", "%2B"))
        self.assertEqual(r.status, 200, r)
        return [s["start"] for s in r.json["slots"]]

    def book(self, d, p, start, minutes, expect=201):
        r = self.server.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"],
                                                   "start": start, "duration_minutes": minutes})
        self.assertEqual(r.status, expect, r)
        return r

    def test_night_hours_across_midnight(self):
        d, p = self.server.seed(timezone="Europe/Berlin", slot_minutes=15, weekly=NIGHT)
        mon = monday_ahead()
        tue = mon + dt.timedelta(days=1)
        self.book(d, p, at(tue, 0, 0), 15)
        got = self.slots(d["id"], mon.isoformat(), mon.isoformat(), 60)
        # 23:00-00:00 ends as the booking starts; 23:15, 23:30 and 23:45 overlap it
        self.assertEqual(got, [at(mon, 22, 0), at(mon, 22, 15), at(mon, 22, 30),
                               at(mon, 22, 45), at(mon, 23, 0)])
        self.book(d, p, at(mon, 23, 15), 60, expect=409)
        for start in got:  # every offer is bookable
            r = self.book(d, p, start, 60)
            c = self.server.post(f"/api/appointments/{r.json['id']}/cancel", {})
            self.assertEqual(c.status, 200, c)

    def test_daytime(self):
        d, p = self.server.seed(timezone="Europe/Berlin", slot_minutes=15, weekly=DAY)
        mon = monday_ahead()
        self.book(d, p, at(mon, 10, 0), 15)
        got = self.slots(d["id"], at(mon, 9, 0), at(mon, 9, 50), 60)
        self.assertEqual(got, [at(mon, 9, 0)])

    def test_alternatives_do_not_overlap_bookings_past_their_window(self):
        # Alternatives look 14 days ahead of the time asked for. Weeks 0 and 1
        # are fully booked, so they come from the last night of the window,
        # whose end (23:15) a 60-minute slot from 22:30 or 23:00 runs past.
        d, p = self.server.seed(timezone="Europe/Berlin", slot_minutes=15, weekly=NIGHT)
        first = monday_ahead()
        while True:  # three Mondays with no DST change between them (14 real days)
            mon = [first + dt.timedelta(days=7 * w) for w in range(3)]
            if (dt.datetime.fromisoformat(at(mon[0], 23, 15)).utcoffset()
                    == dt.datetime.fromisoformat(at(mon[2], 23, 15)).utcoffset()):
                break
            first += dt.timedelta(days=7)
        for m in mon[:2]:
            self.book(d, p, at(m, 22, 0), 240)
        self.book(d, p, at(mon[2], 23, 30), 15)
        r = self.book(d, p, at(mon[0], 23, 15), 60, expect=409)
        alts = [a["start"] for a in r.json["alternatives"]]
        # 22:00-23:00, then nothing that does not overlap it or 23:30-23:45
        self.assertEqual(alts, [at(mon[2], 22, 0)])


if __name__ == "__main__":
    unittest.main()
