"""GET /api/events: the box's own event log for admins (issue 13, item 7;
docs/openapi.yaml, docs/sync.md).

- filters: entity and entity_id, type, actor prefix, since/before, and every
  event answered matches all of them;
- newest first, keyset paging: following `next` as `cursor` reads every
  matching event once, also when events are logged between two pages; the
  default page is 50, at most 500;
- bad filter values are 400 problems naming the parameter (out of range 422);
- only admins: front desk and doctor get 403, no credentials 401;
- against a central (jongodb): what the sync did for central writers shows
  up under `actor=central`, a refusal as `sync_refused` with its reason.
"""
import datetime
import unittest
import urllib.parse
import uuid
from zoneinfo import ZoneInfo

from harness import ServerTest, wait_until
from test_sync_pull import SyncedBoxTest, central_raw_write

BERLIN = ZoneInfo("Europe/Berlin")
# The server's clock starts here (libfaketime) and runs on: a Monday, 08:00
# in Berlin, whatever the date.
T0 = "2026-11-30 07:00:00"


def query(**params):
    return "/api/events?" + urllib.parse.urlencode(params) if params else "/api/events"


def page(server, **params):
    r = server.get(query(**params))
    assert r.status == 200, r
    return r.json


def every(server, **params):
    """Every matching event, following `next`."""
    out, cursor = [], None
    while True:
        p = page(server, **params, **({"cursor": cursor} if cursor else {}))
        out += p["events"]
        if p["next"] is None:
            return out
        cursor = p["next"]


class EventsTest(ServerTest):
    faketime = T0

    def setUp(self):
        super().setUp()
        self.doctor, self.patient = self.server.seed()

    def book(self, start, patient=None):
        r = self.server.post("/api/appointments", {
            "doctor_id": self.doctor["id"], "patient_id": patient or self.patient["id"],
            "start": start})
        self.assertEqual(r.status, 201, r)
        return r.json

    def test_filters(self):
        s = self.server
        a = self.book("2026-12-01T10:00:00+01:00")
        b = self.book("2026-12-01T11:00:00+01:00")
        self.assertEqual(s.post(f"/api/appointments/{a['id']}/cancel", {"reason": "ill"}).status,
                         200)
        boss = s.login(*s.add_user("boss", "admin"))
        made = boss.request("POST", "/api/patients", body={"name": "Made By Boss"})
        self.assertEqual(made.status, 201, made)

        everything = every(s, limit=500)
        seqs = [e["seq"] for e in everything]
        self.assertEqual(seqs, sorted(seqs, reverse=True))   # newest first
        for e in everything:
            self.assertIsInstance(e["data"], dict)
            at = datetime.datetime.fromisoformat(e["at"])   # in the clinic's zone
            self.assertEqual(at.utcoffset(), at.astimezone(BERLIN).utcoffset(), e)

        # one record's events, newest first
        mine = every(s, entity="appointment", entity_id=a["id"])
        self.assertEqual([e["type"] for e in mine], ["cancelled", "booked"])
        self.assertTrue(all(e["entity_id"] == a["id"] for e in mine))
        self.assertEqual(mine, [e for e in everything if e["entity_id"] == a["id"]])
        # an id alone, without the kind of record, also works
        self.assertEqual(every(s, entity_id=a["id"]), mine)
        # by type
        booked = every(s, type="booked")
        self.assertEqual({e["entity_id"] for e in booked}, {a["id"], b["id"]})
        self.assertEqual(every(s, type="booked", entity="patient"), [])
        # by the actor's beginning
        by_boss = every(s, actor="user:")
        self.assertEqual([(e["actor"], e["entity"], e["type"], e["entity_id"]) for e in by_boss],
                         [("user:boss", "patient", "created", made.json["id"])])
        self.assertEqual(every(s, actor="token:tests"),
                         [e for e in everything if e["actor"] == "token:tests"])
        self.assertEqual(every(s, actor="user:bos"), by_boss)
        self.assertEqual(every(s, actor="user:bossa"), [])

        # since/before split the log at a time: a time at which the clock
        # had moved on since the first events
        first, last = everything[-1], everything[0]
        if first["at"] == last["at"]:
            wait_until(lambda: s.post("/api/patients", {"name": "Later"}).status == 201 and
                       page(s, limit=1)["events"][0]["at"] != first["at"], timeout=30)
            everything = every(s, limit=500)
            last = everything[0]
        self.assertNotEqual(first["at"], last["at"])
        t = last["at"]
        when = datetime.datetime.fromisoformat
        after, before = every(s, since=t), every(s, before=t)
        self.assertTrue(after and before)
        seqs = {e["seq"] for e in after} | {e["seq"] for e in before}
        self.assertEqual(len(seqs), len(after) + len(before))
        self.assertEqual(seqs, {e["seq"] for e in everything})
        self.assertTrue(all(when(e["at"]) >= when(t) for e in after))
        self.assertTrue(all(when(e["at"]) < when(t) for e in before))
        self.assertEqual(every(s, since=first["at"], before=t), before)
        # a date in the clinic's zone: the events of the day before it
        self.assertEqual(every(s, before="2026-11-30"), [])
        self.assertEqual(every(s, since="2026-11-30", limit=500), everything)

    def test_paging(self):
        s = self.server
        for i in range(52):
            self.assertEqual(s.post("/api/patients", {"name": f"Patient {i}"}).status, 201)
        first = page(s)
        self.assertEqual(len(first["events"]), 50)   # the default page
        self.assertEqual(first["next"], first["events"][-1]["seq"])
        everything = page(s, limit=500)
        self.assertIsNone(everything["next"])
        everything = everything["events"]
        self.assertGreater(len(everything), 56)

        # pages of 7, with events logged between two pages: every old event
        # once, none of the new ones, in order
        got, cursor, pages = [], None, 0
        while True:
            p = page(s, limit=7, **({"cursor": cursor} if cursor else {}))
            self.assertLessEqual(len(p["events"]), 7)
            got += p["events"]
            pages += 1
            if pages == 2:
                self.assertEqual(s.post("/api/patients", {"name": "Meanwhile"}).status, 201)
            if p["next"] is None:
                break
            cursor = p["next"]
        self.assertEqual(got, everything)
        self.assertEqual(pages, -(-len(everything) // 7))
        # the new one is on a fresh first page
        self.assertEqual(page(s, limit=1)["events"][0]["type"], "created")
        self.assertGreater(page(s, limit=1)["events"][0]["seq"], everything[0]["seq"])
        # a cursor below every event: an empty last page
        self.assertEqual(page(s, cursor=1), {"events": [], "next": None})
        # the same filters with the cursor: only matching events
        created = every(s, type="created", entity="patient", limit=5)
        self.assertEqual(len(created), 1 + 52 + 1)
        self.assertEqual(len({e["seq"] for e in created}), len(created))

    def test_bad_values(self):
        s = self.server
        for params, status, field in [
            ({"entity": "Appointment"}, 400, "entity"),
            ({"entity": ""}, 400, "entity"),
            ({"entity": "a" * 33}, 400, "entity"),
            ({"type": "sync refused"}, 400, "type"),
            ({"entity_id": ""}, 400, "entity_id"),
            ({"entity_id": "x" * 129}, 400, "entity_id"),
            ({"entity_id": "a\nb"}, 400, "entity_id"),
            ({"actor": ""}, 400, "actor"),
            ({"actor": "central\x01"}, 400, "actor"),
            ({"actor": "c" * 65}, 400, "actor"),
            ({"since": "yesterday"}, 400, "since"),
            ({"before": "2026-13-01"}, 400, "before"),
            ({"cursor": "x"}, 400, "cursor"),
            ({"cursor": "0"}, 422, "cursor"),
            ({"limit": "many"}, 400, "limit"),
            ({"limit": "0"}, 422, "limit"),
            ({"limit": "501"}, 422, "limit"),
            ({"since": "2026-12-01T10:00:00+01:00", "before": "2026-12-01T10:00:00+01:00"}, 422,
             "before"),
        ]:
            with self.subTest(params=params):
                self.assertProblem(s.get(query(**params)), status, field)
        # the largest values allowed
        self.assertEqual(s.get(query(limit=500, entity="a" * 32, entity_id="x" * 128,
                                     actor="c" * 64)).status, 200)

    def test_admins_only(self):
        s = self.server
        desk = s.login(*s.add_user("desk", "front_desk"))
        doc = s.login(*s.add_user("doc", "doctor", doctor=self.doctor["id"]))
        admin = s.login(*s.add_user("boss", "admin"))
        self.assertEqual(desk.get("/api/events").status, 403)
        self.assertEqual(doc.get("/api/events").status, 403)
        r = s.request("GET", "/api/events", auth=False)
        self.assertEqual(r.status, 401)
        self.assertIn("Bearer", r.headers.get("WWW-Authenticate", ""))
        self.assertEqual(admin.get("/api/events").status, 200)


class CentralEventsTest(SyncedBoxTest):
    """What the sync did for central writers, in the box's log."""

    def raw(self, doc_id, fields, by):
        central_raw_write(self.central, self.clock, self.clinic, "appointments", doc_id, fields,
                          by=by)

    def test_central_writes_and_refusals(self):
        start = datetime.datetime(2026, 12, 1, 9, tzinfo=datetime.timezone.utc)
        fields = {"doctorId": self.doctor["id"], "patientId": self.patient["id"], "start": start,
                  "end": start + datetime.timedelta(minutes=30), "status": "booked"}
        kept, refused = str(uuid.uuid4()), str(uuid.uuid4())
        self.raw(kept, fields, by="ann")
        self.raw(refused, dict(fields, doctorId="no-such-doctor"), by="central:bob")
        st = self.box.round()
        self.assertEqual(st["rejected_total"], 1, st)
        self.raw(kept, {"status": "cancelled", "cancelReason": "Doctor ill"}, by="ann")
        self.box.round()

        central = every(self.s, actor="central")
        self.assertTrue(central)
        self.assertTrue(all(e["actor"].startswith("central") for e in central))
        self.assertEqual([(e["type"], e["actor"]) for e in central
                          if e["entity_id"] == kept],
                         [("cancelled", "central:ann"), ("booked", "central:ann")])
        no, = every(self.s, type="sync_refused")
        self.assertEqual((no["actor"], no["entity"], no["entity_id"]),
                         ("central:bob", "appointments", refused))
        self.assertIn("no-such-doctor", no["data"]["why"])
        self.assertEqual(no["data"]["collection"], "appointments")
        self.assertEqual(every(self.s, actor="central:bob"), [no])


if __name__ == "__main__":
    unittest.main()
