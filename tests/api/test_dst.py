"""Slots and bookings over the API on DST days, in the clinic's zone:
Berlin's spring-forward day has no 02:00, New York's fall-back day has two
01:00s. Hours are 00:00-05:00 on Sundays."""
import unittest

from harness import ServerTest

SUNDAY_NIGHT = [{"weekday": 7, "start": "00:00", "end": "05:00"}]


class DstTest(ServerTest):
    faketime = "2027-01-04 12:00:00"

    def slots(self, doctor, day, duration=None):
        q = f"/api/doctors/{doctor}/available-slots?from={day}&to={day}"
        if duration:
            q += f"&duration={duration}"
        r = self.server.get(q)
        self.assertEqual(r.status, 200, r)
        return [(s["start"], s["end"]) for s in r.json["slots"]]

    def test_berlin_spring_forward(self):
        d, p = self.server.seed(timezone="Europe/Berlin", slot_minutes=60, weekly=SUNDAY_NIGHT)
        got = self.slots(d["id"], "2027-03-28")
        self.assertEqual(got, [
            ("2027-03-28T00:00:00+01:00", "2027-03-28T01:00:00+01:00"),
            ("2027-03-28T01:00:00+01:00", "2027-03-28T03:00:00+02:00"),
            ("2027-03-28T03:00:00+02:00", "2027-03-28T04:00:00+02:00"),
            ("2027-03-28T04:00:00+02:00", "2027-03-28T05:00:00+02:00")])
        # a two-hour visit from 01:00 ends at 04:00 summer time
        r = self.server.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"],
                                                   "start": "2027-03-28T01:00:00+01:00",
                                                   "duration_minutes": 120})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["end"], "2027-03-28T04:00:00+02:00")
        # 03:00 summer time is inside the two-hour visit
        r = self.server.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"],
                                                   "start": "2027-03-28T03:00:00+02:00"})
        self.assertEqual(r.status, 409, r)
        # 02:30 does not exist that night; written with +01:00 it is 03:30 summer time,
        # which is not on the hour grid
        r = self.server.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"],
                                                   "start": "2027-03-28T02:30:00+01:00"})
        self.assertEqual(r.status, 422, r)
        self.assertEqual(self.slots(d["id"], "2027-03-28"),
                         [("2027-03-28T00:00:00+01:00", "2027-03-28T01:00:00+01:00"),
                          ("2027-03-28T04:00:00+02:00", "2027-03-28T05:00:00+02:00")])

    def test_new_york_fall_back(self):
        d, p = self.server.seed(timezone="America/New_York", slot_minutes=30, weekly=SUNDAY_NIGHT)
        got = self.slots(d["id"], "2027-11-07")
        starts = [s for s, _ in got]
        self.assertEqual(len(got), 12)  # five hours of wall clock are six real hours
        self.assertIn("2027-11-07T01:30:00-04:00", starts)
        self.assertIn("2027-11-07T01:30:00-05:00", starts)
        self.assertEqual(got[-1][1], "2027-11-07T05:00:00-05:00")
        # both 01:30s can be booked, an hour apart
        for start in ("2027-11-07T01:30:00-04:00", "2027-11-07T01:30:00-05:00"):
            r = self.server.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"],
                                                       "start": start})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["start"], start)
        self.assertEqual(len(self.slots(d["id"], "2027-11-07")), 10)


if __name__ == "__main__":
    unittest.main()
