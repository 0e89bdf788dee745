"""Concurrent edits of one record, and ETag / If-Match (docs/design.md, "ETags").

PUT of a patient, doctor or the clinic merges the fields sent into the stored
record. Two PUTs of different fields at the same moment must both survive:
the merge happens inside the write job, not on a copy read before it. Every
such record answers with an ETag (its revision) on GET, POST and PUT; a PUT
(or DELETE of a patient) with If-Match that no longer matches is refused
with 412 and changes nothing.
"""
import json
import threading
import unittest

from central import Central
from harness import Clock, ServerTest
from test_sync_pull import Box, central_cmd

PAIRS = 40
PRECONDITION = "urn:clinicbox:problem:precondition-failed"


def pair(server, path, first, second):
    """PUTs both bodies at once, each from its own thread and connection,
    released together by a barrier. Returns both Responses."""
    barrier = threading.Barrier(2)
    results = [None, None]

    def worker(i, body):
        conn = server.connection(timeout=60)
        try:
            conn.connect()
            barrier.wait()
            results[i] = server.put(path, body, conn=conn)
        except Exception as e:  # reported by the assertions below
            results[i] = e
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i, b)) for i, b in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class ConcurrentEdits(ServerTest):
    def race(self, path, first, second, check):
        lost = []
        for i in range(PAIRS):
            a, b = first(i), second(i)
            ra, rb = pair(self.server, path, a, b)
            self.assertEqual(getattr(ra, "status", ra), 200, ra)
            self.assertEqual(getattr(rb, "status", rb), 200, rb)
            got = self.server.get(path)
            self.assertEqual(got.status, 200, got)
            if not check(got.json, a, b):
                lost.append((i, a, b, got.json))
        self.assertEqual(lost, [], f"{len(lost)} of {PAIRS} pairs lost a change")

    def test_patient_fields_edited_at_once_both_stay(self):
        p = self.server.post("/api/patients", {"name": "Anna Müller"})
        self.assertEqual(p.status, 201, p)
        self.race(f"/api/patients/{p.json['id']}",
                  lambda i: {"name": f"Anna {i}"},
                  lambda i: {"email": f"anna{i}@example.org"},
                  lambda got, a, b: got["name"] == a["name"] and got["email"] == b["email"])

    def test_doctor_fields_edited_at_once_both_stay(self):
        d = self.server.post("/api/doctors", {"name": "Dr. Test"})
        self.assertEqual(d.status, 201, d)
        self.race(f"/api/doctors/{d.json['id']}",
                  lambda i: {"name": f"Dr. Test {i}"},
                  lambda i: {"slot_minutes": 5 * (i % 40 + 1)},
                  lambda got, a, b: got["name"] == a["name"]
                  and got["slot_minutes"] == b["slot_minutes"])

    def test_clinic_fields_edited_at_once_both_stay(self):
        self.race("/api/clinic",
                  lambda i: {"name": f"Praxis {i}"},
                  lambda i: {"offer_hours": i + 1},
                  lambda got, a, b: got["name"] == a["name"]
                  and got["offer_hours"] == b["offer_hours"])


class ETags(ServerTest):
    def etag(self, r):
        tag = r.headers.get("ETag")
        self.assertIsNotNone(tag, r)
        self.assertRegex(tag, r'^"[\x21\x23-\x7e]*"$')  # strong, quoted (RFC 9110)
        return tag

    def check_resource(self, path, created, change, other_change):
        """created: the Response of the POST (or a GET) of the record at path."""
        tag = self.etag(created)
        got = self.server.get(path)
        self.assertEqual(got.status, 200, got)
        self.assertEqual(self.etag(got), tag)

        # the current ETag matches: the change is made, and the ETag moves
        r = self.server.put(path, change, headers={"If-Match": tag})
        self.assertEqual(r.status, 200, r)
        new = self.etag(r)
        self.assertNotEqual(new, tag)
        got = self.server.get(path)
        self.assertEqual(self.etag(got), new)
        self.assertEqual(got.json, r.json)

        # a stale one: 412, and nothing changes
        r = self.server.put(path, other_change, headers={"If-Match": tag})
        self.assertProblem(r, 412)
        self.assertEqual(r.json["type"], PRECONDITION)
        after = self.server.get(path)
        self.assertEqual(after.json, got.json)
        self.assertEqual(self.etag(after), new)

        # a weak tag never matches (strong comparison), even with the same value
        r = self.server.put(path, other_change, headers={"If-Match": "W/" + new})
        self.assertProblem(r, 412)

        # one of a list matches
        r = self.server.put(path, other_change, headers={"If-Match": f'"nope", {new}'})
        self.assertEqual(r.status, 200, r)
        newer = self.etag(r)
        self.assertNotEqual(newer, new)

        # "*": any current representation
        r = self.server.put(path, change, headers={"If-Match": "*"})
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(self.etag(r), newer)

        # not an entity-tag: 400, nothing changes
        before = self.server.get(path)
        for bad in ("abc", '"unterminated', '"a" "b"', "W/", ",", "*, \"a\""):
            r = self.server.put(path, other_change, headers={"If-Match": bad})
            self.assertProblem(r, 400)
        self.assertEqual(self.server.get(path).json, before.json)
        self.assertEqual(self.etag(self.server.get(path)), self.etag(before))

    def test_patient(self):
        p = self.server.post("/api/patients", {"name": "Anna Müller"})
        self.assertEqual(p.status, 201, p)
        path = f"/api/patients/{p.json['id']}"
        self.check_resource(path, p, {"name": "Anna Schmidt"}, {"phone": "+4915112345678"})

    def test_doctor(self):
        d = self.server.post("/api/doctors", {"name": "Dr. Test"})
        self.assertEqual(d.status, 201, d)
        self.check_resource(f"/api/doctors/{d.json['id']}", d, {"name": "Dr. Neu"},
                            {"slot_minutes": 20})

    def test_clinic(self):
        self.check_resource("/api/clinic", self.server.get("/api/clinic"), {"name": "Praxis A"},
                            {"offer_hours": 12})

    def test_schedule(self):
        d = self.server.post("/api/doctors", {"name": "Dr. Test"})
        path = f"/api/doctors/{d.json['id']}/schedule"
        week = {"weekly": [{"weekday": 1, "start": "08:00", "end": "12:00"}], "exceptions": []}
        other = {"weekly": [{"weekday": 2, "start": "09:00", "end": "13:00"}], "exceptions": []}
        self.check_resource(path, self.server.get(path), week, other)
        # the doctor's slot length is part of the schedule: its ETag moves too
        tag = self.etag(self.server.get(path))
        r = self.server.put(f"/api/doctors/{d.json['id']}", {"slot_minutes": 30})
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(self.etag(self.server.get(path)), tag)

    def test_patient_delete_if_match(self):
        p = self.server.post("/api/patients", {"name": "Anna Müller"})
        path = f"/api/patients/{p.json['id']}"
        stale = self.etag(p)
        r = self.server.put(path, {"name": "Anna Schmidt"})
        self.assertEqual(r.status, 200, r)
        r = self.server.request("DELETE", path, headers={"If-Match": stale})
        self.assertProblem(r, 412)
        self.assertEqual(self.server.get(path).status, 200)
        r = self.server.request("DELETE", path, headers={"If-Match": self.etag(self.server.get(path))})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.server.get(path).status, 404)

    def test_missing_record_is_404_not_412(self):
        for path in ("/api/patients/00000000-0000-7000-8000-000000000000",
                     "/api/doctors/00000000-0000-7000-8000-000000000000"):
            r = self.server.put(path, {"name": "X"}, headers={"If-Match": '"1"'})
            self.assertProblem(r, 404)

    def test_each_change_has_a_new_etag(self):
        p = self.server.post("/api/patients", {"name": "Anna Müller"})
        path = f"/api/patients/{p.json['id']}"
        seen = {self.etag(p)}
        for i in range(5):
            # even an unchanged value within the same second is a new revision
            r = self.server.put(path, {"name": "Anna Müller"})
            self.assertEqual(r.status, 200, r)
            tag = self.etag(r)
            self.assertNotIn(tag, seen)
            seen.add(tag)

    def test_appointment_etag(self):
        d, p = self.server.seed()
        slots = self.server.get(f"/api/doctors/{d['id']}/available-slots")
        self.assertEqual(slots.status, 200, slots)
        start = slots.json["slots"][0]["start"]
        a = self.server.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"],
                                                   "start": start})
        self.assertEqual(a.status, 201, a)
        path = f"/api/appointments/{a.json['id']}"
        tag = self.etag(a)
        got = self.server.get(path)
        self.assertEqual(self.etag(got), tag)
        r = self.server.post(path + "/cancel", {"reason": "ill"})
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(self.etag(self.server.get(path)), tag)
        self.assertEqual(self.etag(r), self.etag(self.server.get(path)))

    def test_zone_change_moves_record_etags(self):
        """The answers write times with the clinic's UTC offset: a new time
        zone is a new representation, so its strong ETag changes (RFC 9110,
        8.8.1) and a 304 becomes a 200. The record's revision did not
        change: If-Match with the tag read before the change still holds."""
        s = self.server
        self.assertEqual(s.put("/api/clinic", {"timezone": "Europe/Berlin"}).status, 200)
        d, p = s.seed()
        slots = s.get(f"/api/doctors/{d['id']}/available-slots")
        a = s.post("/api/appointments", {"doctor_id": d["id"], "patient_id": p["id"],
                                         "start": slots.json["slots"][0]["start"]})
        self.assertEqual(a.status, 201, a)
        paths = [f"/api/patients/{p['id']}", f"/api/doctors/{d['id']}",
                 f"/api/appointments/{a.json['id']}"]
        before = {}
        for path in paths:
            got = s.get(path)
            before[path] = (self.etag(got), got.json)
            r = s.get(path, headers={"If-None-Match": before[path][0]})
            self.assertEqual(r.status, 304, (path, r))
        self.assertEqual(s.put("/api/clinic", {"timezone": "America/New_York"}).status, 200)
        for path in paths:
            old_tag, old_body = before[path]
            r = s.get(path, headers={"If-None-Match": old_tag})
            self.assertEqual(r.status, 200, (path, r))
            self.assertNotEqual(r.json, old_body)   # the offsets did change
            new_tag = self.etag(r)
            self.assertNotEqual(new_tag, old_tag, path)
            self.assertEqual(s.get(path, headers={"If-None-Match": new_tag}).status, 304, path)
        # If-Match compares the revision: the old tag and the new one both hold
        path = paths[0]
        old_tag, new_tag = before[path][0], self.etag(s.get(path))
        r = s.put(path, {"name": "Anna Schmidt"}, headers={"If-Match": old_tag})
        self.assertEqual(r.status, 200, r)
        r = s.put(path, {"name": "Anna Meier"}, headers={"If-Match": new_tag})
        self.assertProblem(r, 412)   # the first PUT made a new revision
        r = s.put(path, {"name": "Anna Meier"}, headers={"If-Match": self.etag(s.get(path))})
        self.assertEqual(r.status, 200, r)
        doctor = paths[1]
        r = s.put(doctor, {"name": "Dr. Neu"}, headers={"If-Match": before[doctor][0]})
        self.assertEqual(r.status, 200, r)

    def test_if_none_match_on_changes(self):
        """RFC 9110, 13.1.2: on a method other than GET or HEAD, If-None-Match
        that lists the record's current tag, or is * for an existing record,
        is 412 and nothing changes; one that lists only other tags lets the
        change through."""
        s = self.server
        p = s.post("/api/patients", {"name": "Anna Müller"})
        self.assertEqual(p.status, 201, p)
        d = s.post("/api/doctors", {"name": "Dr. Test"})
        self.assertEqual(d.status, 201, d)
        sched = f"/api/doctors/{d.json['id']}/schedule"
        week = {"weekly": [{"weekday": 1, "start": "08:00", "end": "12:00"}], "exceptions": []}
        cases = [(f"/api/patients/{p.json['id']}", {"name": "Anna Schmidt"}),
                 (f"/api/doctors/{d.json['id']}", {"name": "Dr. Neu"}),
                 (sched, week),
                 ("/api/clinic", {"name": "Praxis A"})]
        for path, change in cases:
            before = s.get(path)
            tag = self.etag(before)
            for inm in ("*", tag, "W/" + tag, f'"nope", {tag}'):
                r = s.put(path, change, headers={"If-None-Match": inm})
                self.assertProblem(r, 412)
                self.assertEqual(r.json["type"], PRECONDITION)
                after = s.get(path)
                self.assertEqual((self.etag(after), after.json), (tag, before.json), (path, inm))
            r = s.put(path, change, headers={"If-None-Match": "bogus"})
            self.assertProblem(r, 400)
            r = s.put(path, change, headers={"If-None-Match": '"nope"'})
            self.assertEqual(r.status, 200, (path, r))
            self.assertNotEqual(self.etag(r), tag)
        path = cases[0][0]
        for inm in ("*", self.etag(s.get(path))):
            r = s.request("DELETE", path, headers={"If-None-Match": inm})
            self.assertProblem(r, 412)
            self.assertEqual(s.get(path).status, 200)
        r = s.request("DELETE", path, headers={"If-None-Match": '"nope"'})
        self.assertEqual(r.status, 204, r)
        # a missing record is 404 first, as with If-Match
        r = s.put(path, {"name": "X"}, headers={"If-None-Match": "*"})
        self.assertProblem(r, 404)


class SyncedETags(unittest.TestCase):
    """A change that sync applies moves the ETag too (jongodb as central;
    the box and `clinicbox central` share one faked clock)."""

    def test_a_central_edit_moves_the_etag(self):
        central = Central().start()
        self.addCleanup(central.stop)
        clock = Clock("2026-11-30 07:00:00")
        box = Box(self, central, clock)
        s = box.server
        clinic = s.get("/api/clinic").json["id"]
        p = s.post("/api/patients", {"name": "Anna Müller"})
        self.assertEqual(p.status, 201, p)
        path = f"/api/patients/{p.json['id']}"
        box.round()
        tag = s.get(path).headers["ETag"]
        central_cmd(central, clock, "put", "patients", p.json["id"],
                    json.dumps({"name": "Renamed Centrally"}), clinic=clinic)
        box.round()
        got = s.get(path)
        self.assertEqual(got.json["name"], "Renamed Centrally")
        self.assertNotEqual(got.headers["ETag"], tag)
        # the copy read before the sync is stale now
        r = s.put(path, {"email": "anna@example.org"}, headers={"If-Match": tag})
        self.assertEqual(r.status, 412, r)
        self.assertEqual(s.get(path).json, got.json)
        r = s.put(path, {"email": "anna@example.org"}, headers={"If-Match": got.headers["ETag"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["name"], r.json["email"]), ("Renamed Centrally", "anna@example.org"))
        box.server.stop()


if __name__ == "__main__":
    unittest.main()
