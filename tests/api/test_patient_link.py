"""The patient's rebooking link (issue 10, item 5): POST /api/offer-link and
POST /api/offer-link/rebook, answered without credentials (auth=False).

The link is {public_url}/rebook#<token>: the token is in the URL fragment,
which browsers never send to a server nor put in Referer, and the page posts
it in a JSON body. A token shows only its own offer (the clinic, the doctor,
the appointment's time, the options) and does only one thing: rebook onto
one of the options, once, before the offer expires, recorded as
`patient-link`. It cannot read or move another offer or patient.

The tokens come from the database (notifications.link_token, where a message
that is still to be sent keeps it: no channel is configured here, so the
offers' messages wait as `queued`), as the patient would have them from the
message; one test takes the link from a real email. The box runs on a faked
clock shared across restarts (harness.Clock; Monday 30 Nov 2026 08:00 in
Berlin); the expiry test restarts it two hours later on the same data.
"""
import re
import unittest
import urllib.parse

from harness import Clock, Server, outbox_env, wait_until
from peers import MailSink

NOW = "2026-11-30 07:00:00"   # Mon 08:00 Berlin
PUBLIC_URL = "https://praxis.example.org"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
VIEW_KEYS = {"clinic", "doctor", "appointment", "options", "expires_at", "used", "rebookable",
             "chosen"}
PATIENTS = [
    {"name": "Rita Linkmann", "email": "rita.linkmann@example.org", "phone": "+4915112345601"},
    {"name": "Bruno Anders", "email": "bruno.anders@example.org", "phone": "+4915112345602"},
]


class PatientLinkTest(unittest.TestCase):
    def setUp(self):
        self.clock = Clock(NOW).shifted(300)   # mid-slot: see LinkInMessageTest
        self.data = None
        self.server = None

    def tearDown(self):
        if self.server is not None and self.server.proc is not None:
            self.server.stop()

    def boot(self, seconds_later=0, **env):
        """(Re)starts the box on the shared clock, `seconds_later` ahead, on
        the same data directory. Debug logging: every request is logged, so
        that the log can be searched for tokens."""
        if self.server is not None and self.server.proc is not None:
            self.server.stop()
        env = outbox_env(**env)
        env["CLINICBOX_LOG_LEVEL"] = "debug"
        clock = self.clock.shifted(seconds_later) if seconds_later else self.clock
        s = Server(data=self.data, clock=clock, env=env)
        if self.data is None:
            self.addCleanup(s.cleanup)
            self.data = s.data
        self.server = s.start()
        return s

    def seed(self, s):
        """The clinic, one doctor, and an appointment this afternoon for each
        of PATIENTS (the first at 15:00, the second at 16:00)."""
        doctor, _ = s.seed()
        appts = []
        for i, p in enumerate(PATIENTS):
            r = s.post("/api/patients", p)
            self.assertEqual(r.status, 201, r)
            p["id"] = r.json["id"]
            r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": p["id"],
                                             "start": f"2026-11-30T{15 + i}:00:00+01:00"})
            self.assertEqual(r.status, 201, r)
            appts.append(r.json)
        return doctor, appts

    def offer(self, s, appt, options=3):
        """Makes an offer; returns (offer, token)."""
        r = s.post(f"/api/appointments/{appt['id']}/reschedule", {"options": options})
        self.assertEqual(r.status, 201, r)
        db = s.db()
        try:
            tokens = {row[0] for row in db.execute(
                "SELECT link_token FROM notifications WHERE offer_id = ?", (r.json["id"],))}
        finally:
            db.close()
        self.assertEqual(len(tokens), 1, tokens)
        token = tokens.pop()
        self.assertRegex(token, TOKEN)
        return r.json, token

    def view(self, token, **kw):
        return self.server.post("/api/offer-link", {"offer_token": token}, auth=False, **kw)

    def rebook(self, token, option, **kw):
        return self.server.post("/api/offer-link/rebook", {"offer_token": token, "option": option},
                                auth=False, **kw)

    def appointments(self):
        r = self.server.get("/api/appointments?from=2026-11-01&to=2027-01-31")
        self.assertEqual(r.status, 200, r)
        return sorted((a["id"], a["status"], a["start"], a["patient_id"])
                      for a in r.json["appointments"])

    def events(self, entity_id):
        db = self.server.db()
        try:
            return db.execute("SELECT actor, type FROM events WHERE entity_id = ? ORDER BY seq",
                              (entity_id,)).fetchall()
        finally:
            db.close()

    def audit(self):
        """(actor, address, action, target, outcome, detail) of every audit entry."""
        db = self.server.db()
        try:
            return db.execute("SELECT actor, address, action, target, outcome, detail FROM audit_log "
                              "ORDER BY seq").fetchall()
        finally:
            db.close()

    def audit_of_link(self):
        """(actor, address, action, target, outcome, detail) of the link's entries."""
        return [(a[0], a[1], a[2], a[3], a[4], a[5]) for a in self.audit()
                if a[2].startswith("POST /api/offer-link")]

    def assertProblem(self, r, status, field=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json", r)
        if field:
            self.assertIn(field, [e["field"] for e in r.json.get("errors", [])], r)

    def assertRevealsNothingElse(self, raw, doctor, appts, offers=()):
        """No patient's name, phone or email, and no id of any record."""
        for p in PATIENTS:
            for key in ("name", "email", "phone", "id"):
                self.assertNotIn(p[key], raw)
        self.assertNotIn(PATIENTS[0]["name"].split()[1], raw)
        self.assertNotIn(doctor["id"], raw)
        for a in appts:
            self.assertNotIn(a["id"], raw)
        for o in offers:
            self.assertNotIn(o["id"], raw)

    # ------------------------------------------------------------------
    def test_view_shows_only_the_offer(self):
        s = self.boot()
        doctor, appts = self.seed(s)
        offer, token = self.offer(s, appts[0])
        r = self.view(token)
        self.assertEqual(r.status, 200, r)
        v = r.json
        self.assertEqual(set(v), VIEW_KEYS)
        self.assertEqual(v["clinic"], {"name": "Praxis Test", "timezone": "Europe/Berlin",
                                        "language": "auto"})
        self.assertEqual(v["doctor"], {"name": "Dr. Test"})
        self.assertEqual(v["appointment"], {"start": appts[0]["start"], "end": appts[0]["end"],
                                            "status": "booked"})
        self.assertEqual(v["options"], [{"option": i, **o} for i, o in enumerate(offer["options"], 1)])
        self.assertEqual(len(v["options"]), 3)
        for o in v["options"]:
            self.assertEqual(set(o), {"option", "start", "end"})
        self.assertEqual(v["expires_at"], offer["expires_at"])
        self.assertIs(v["used"], False)
        self.assertIs(v["rebookable"], True)
        self.assertIsNone(v["chosen"])
        self.assertRevealsNothingElse(r.raw, doctor, appts, [offer])
        self.assertNotIn(token, r.raw)
        # looking changes nothing
        before = self.appointments()
        self.assertEqual(self.view(token).json, v)
        self.assertEqual(self.appointments(), before)

    def test_a_token_reads_and_moves_only_its_own_offer(self):
        s = self.boot()
        doctor, appts = self.seed(s)
        offer_a, token_a = self.offer(s, appts[0], options=2)
        offer_b, token_b = self.offer(s, appts[1], options=3)
        self.assertNotEqual(token_a, token_b)
        va, vb = self.view(token_a).json, self.view(token_b).json
        self.assertEqual(va["appointment"]["start"], appts[0]["start"])
        self.assertEqual(vb["appointment"]["start"], appts[1]["start"])
        self.assertEqual(len(va["options"]), 2)
        self.assertEqual(len(vb["options"]), 3)
        self.assertNotIn(appts[1]["start"], self.view(token_a).raw)

        # A token altered in one character, or made up, is unknown: 404, with
        # the same answer whether it is near another offer's or not.
        near_b = token_b[:-1] + ("A" if token_b[-1] != "A" else "B")
        made_up = "Q" * 43
        answers = []
        for t in (near_b, made_up):
            r = self.view(t)
            self.assertProblem(r, 404, "offer_token")
            answers.append(r.json)
            r = self.rebook(t, 1)
            self.assertProblem(r, 404, "offer_token")
            answers.append(r.json)
        self.assertEqual(answers[0], answers[2])
        self.assertEqual(answers[1], answers[3])

        # A's token moves A's appointment, and only that.
        before = {a[0]: a for a in self.appointments()}
        r = self.rebook(token_a, 2)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["appointment"]["start"], appts[0]["start"])
        self.assertEqual(r.json["chosen"], {"option": 2, **offer_a["options"][1]})
        self.assertRevealsNothingElse(r.raw, doctor, appts, [offer_a, offer_b])
        after = {a[0]: a for a in self.appointments()}
        self.assertEqual(after[appts[1]["id"]], before[appts[1]["id"]])      # B untouched
        self.assertEqual(after[appts[0]["id"]][1], "rescheduled")
        new = [a for k, a in after.items() if k not in before]
        self.assertEqual(len(new), 1, new)
        self.assertEqual(new[0][3], PATIENTS[0]["id"])                       # A's patient
        self.assertEqual(new[0][2], offer_a["options"][1]["start"])
        # B's offer is as it was, unused, but for the time A just took (the
        # same doctor's free slots were offered to both): its numbers stay
        taken = offer_a["options"][1]["start"]
        self.assertIn(taken, [o["start"] for o in vb["options"]])
        vb_now = dict(vb, options=[o for o in vb["options"] if o["start"] != taken])
        self.assertEqual(self.view(token_b).json, vb_now)
        # the staff route does not take a token, for any appointment
        r = s.post(f"/api/appointments/{appts[1]['id']}/rebook", {"offer_token": token_b, "option": 1})
        self.assertProblem(r, 400, "offer_token")
        self.assertEqual(self.view(token_b).json, vb_now)

    def test_rebook_is_recorded_as_the_link_and_used_up(self):
        s = self.boot()
        doctor, appts = self.seed(s)
        offer, token = self.offer(s, appts[0])
        # neither a header nor credentials make the link someone else: sent
        # with the admin's API token, it is still recorded as the link
        r = self.rebook(token, 2, headers={"X-Clinicbox-User": "dr-mallory", **s.auth_headers()})
        self.assertEqual(r.status, 200, r)
        v = r.json
        self.assertEqual(set(v), VIEW_KEYS)
        self.assertIs(v["used"], True)
        self.assertIs(v["rebookable"], False)
        self.assertEqual(v["options"], [])
        self.assertEqual(v["chosen"], {"option": 2, **offer["options"][1]})
        self.assertEqual(v["appointment"]["status"], "rescheduled")

        old = s.get(f"/api/appointments/{appts[0]['id']}").json
        new = s.get(f"/api/appointments/{old['rescheduled_to']}").json
        self.assertEqual((old["status"], old["updated_by"]), ("rescheduled", "patient-link"))
        self.assertEqual((new["status"], new["start"]), ("booked", offer["options"][1]["start"]))
        self.assertEqual((new["created_by"], new["updated_by"]), ("patient-link", "patient-link"))
        self.assertEqual(new["rescheduled_from"], old["id"])
        # the event log: staff booked and offered; the link did the rest
        self.assertEqual(self.events(old["id"]), [("token:tests", "booked"), ("token:tests", "offer_made"),
                                                  ("patient-link", "rescheduled")])
        self.assertEqual(self.events(new["id"]), [("patient-link", "booked")])

        # single use: another rebook, with any option, is 409 and changes nothing
        before = self.appointments()
        for option in (1, 2, 3):
            self.assertProblem(self.rebook(token, option), 409, "offer_token")
        self.assertEqual(self.appointments(), before)
        # the link still says what happened, and offers nothing more
        r = self.view(token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, v)
        # the offer's messages forgot the token with the rebook
        db = s.db()
        try:
            self.assertEqual(db.execute("SELECT count(*) FROM notifications WHERE link_token = ?",
                                        (token,)).fetchone()[0], 0)
        finally:
            db.close()
        # the audit trail (written just after each answer): what the link
        # did, to which appointment, as the link (not as the API token that
        # came along), and never the token
        rows = wait_until(lambda: len(self.audit_of_link()) >= 5 and self.audit_of_link(), timeout=10)
        target = f"appointment:{old['id']}"
        self.assertEqual([(actor, action, tgt, outcome, detail)
                          for actor, _, action, tgt, outcome, detail in rows or []],
                         [("patient-link", "POST /api/offer-link/rebook", target, "200", f"created {new['id']}")]
                         + [("patient-link", "POST /api/offer-link/rebook", target, "409", "")] * 3
                         + [("patient-link", "POST /api/offer-link", target, "200", "")])
        self.assertFalse([row for row in self.audit() if token[:12] in str(row)])

    def test_expired_offer_is_gone(self):
        s = self.boot()
        doctor, appts = self.seed(s)
        self.assertEqual(s.put("/api/clinic", {"offer_hours": 1}).status, 200)
        offer_used, token_used = self.offer(s, appts[0])
        offer_open, token_open = self.offer(s, appts[1])
        self.assertEqual(self.rebook(token_used, 1).status, 200)
        self.assertEqual(self.view(token_open).status, 200)
        # two hours later, on the same clock: both offers have expired
        self.boot(seconds_later=2 * 3600)
        # (the no-show worker may mark the rebooked 08:xx visit meanwhile: it
        # changes statuses, never makes or moves appointments)
        before = [(a[0], a[2]) for a in self.appointments()]
        for token in (token_open, token_used):
            self.assertProblem(self.view(token), 410, "offer_token")
            for option in (1, 2):
                self.assertProblem(self.rebook(token, option), 410, "offer_token")
        self.assertEqual([(a[0], a[2]) for a in self.appointments()], before)
        r = self.server.get(f"/api/appointments/{appts[1]['id']}")
        self.assertEqual(r.json["status"], "booked", r)
        # an unknown token is still 404, not 410
        self.assertProblem(self.view("Z" * 43), 404, "offer_token")

    def test_options_must_be_the_offers_and_still_free(self):
        s = self.boot()
        doctor, appts = self.seed(s)
        offer, token = self.offer(s, appts[0])
        before = self.appointments()
        for option in (0, 4, 20, 21, -1):
            self.assertProblem(self.rebook(token, option), 422, "option")
        for option in ("1", 1.5, None, True):
            self.assertProblem(self.rebook(token, option), 400, "option")
        self.assertEqual(self.appointments(), before)
        # staff give option 1's time to someone else: the link no longer lists it
        first = offer["options"][0]
        r = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": PATIENTS[1]["id"],
                                         "start": first["start"]})
        self.assertEqual(r.status, 201, r)
        v = self.view(token).json
        self.assertEqual([o["option"] for o in v["options"]], [2, 3])
        self.assertIs(v["rebookable"], True)
        # taking it anyway is a plain 409 about the option, with no other
        # free times of the doctor
        r = self.rebook(token, 1)
        self.assertProblem(r, 409, "option")
        self.assertNotIn("alternatives", r.json)
        self.assertRevealsNothingElse(r.raw, doctor, appts, [offer])
        self.assertIs(self.view(token).json["used"], False)
        # the offer is still usable with a free option
        r = self.rebook(token, 3)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["chosen"]["option"], 3)

    def test_malformed_tokens_are_refused_and_never_logged(self):
        s = self.boot()
        doctor, appts = self.seed(s)
        offer, token = self.offer(s, appts[0])
        bad = {
            "control character": (token[:20] + "\u0001" + token[21:], 400),
            "line feed": (token[:42] + "\n", 400),
            "DEL": (token[:42] + "\u007f", 400),
            "U+2028": (token[:42] + "\u2028", 400),
            "non-ASCII": (token[:42] + "é", 400),
            "space": (token[:42] + " ", 400),
            "too short": (token[:42], 400),
            "too long": (token + "A", 422),
            "far too long": (token * 30, 422),
            "empty": ("", 422),
            "a number": (12345, 400),
            "null": (None, 400),
            "an object": ({"token": token}, 400),
        }
        for label, (value, status) in bad.items():
            with self.subTest(label):
                for path, body in (("/api/offer-link", {"offer_token": value}),
                                   ("/api/offer-link/rebook", {"offer_token": value, "option": 1})):
                    r = s.post(path, body, auth=False)
                    self.assertProblem(r, status, "offer_token")
                    self.assertNotIn(token[:20], r.raw)
        for path in ("/api/offer-link", "/api/offer-link/rebook"):
            self.assertProblem(s.post(path, {}, auth=False), 400, "offer_token")
            self.assertProblem(s.post(path, {"offer_token": token, "appointment_id": appts[0]["id"],
                                             "option": 1}, auth=False), 400, "appointment_id")
        # not a GET, and the token is never read from the query string
        r = s.request("GET", f"/api/offer-link?offer_token={token}", auth=False)
        self.assertEqual(r.status, 405, r)
        # (a JSON NUL inside the string is malformed JSON: 400 before any field)
        r = s.request("POST", "/api/offer-link", raw=b'{"offer_token": "' + token[:42].encode() + b'\\u0000"}',
                      headers={"Content-Type": "application/json"}, auth=False)
        self.assertProblem(r, 400)
        self.assertEqual(s.get(f"/api/appointments/{appts[0]['id']}").json["status"], "booked")
        # the real token, used for real, appears nowhere in the log
        self.assertEqual(self.view(token).status, 200)
        self.assertEqual(self.rebook(token, 1).status, 200)
        self.assertEqual(self.rebook(token, 1).status, 409)
        self.assertTrue(wait_until(lambda: "POST /api/offer-link/rebook -> 409" in s.new_log(),
                                   timeout=10), s.new_log()[-2000:])
        s.stop()
        with open(s.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertIn("POST /api/offer-link -> 200", log)
        self.assertNotIn(token, log)
        self.assertNotIn(token[:16], log)


class LinkInMessageTest(unittest.TestCase):
    def test_the_token_is_only_after_the_hash(self):
        sink = MailSink().start()
        self.addCleanup(sink.stop)
        # 5 minutes into a slot: at NOW itself the first option is the slot
        # that starts that very second, already past when the view comes.
        s = Server(clock=Clock(NOW).shifted(300), env=outbox_env(sink))
        self.addCleanup(s.cleanup)
        s.start()
        doctor, _ = s.seed()
        p = s.post("/api/patients", {"name": "Mia Mail", "email": "mia@example.org",
                                     "notify_sms": False}).json
        a = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": p["id"],
                                         "start": "2026-11-30T15:00:00+01:00"}).json
        r = s.post(f"/api/appointments/{a['id']}/reschedule", {"options": 2})
        self.assertEqual(r.status, 201, r)
        mail = wait_until(lambda: [m for m in sink.messages
                                   if "pick a new" in str(m["message"]["Subject"])], timeout=20)
        self.assertTrue(mail, s.read_log()[-3000:])
        text = mail[0]["message"].get_content()
        links = re.findall(r"https?://\S+", text)
        self.assertEqual(len(links), 1, text)
        link = links[0]
        base, sep, token = link.partition("#")
        self.assertEqual((base, sep), (PUBLIC_URL + "/rebook", "#"), link)
        self.assertRegex(token, TOKEN)
        self.assertNotIn("?", link)
        self.assertNotIn("token=", link)
        self.assertNotIn(a["id"], link)
        self.assertEqual(text.count(token), 1)
        # the link opens the rebooking page, without a login; the browser
        # asks for the path only (the fragment stays with it)
        page = s.request("GET", urllib.parse.urlsplit(link).path, auth=False, check_spec=False)
        self.assertEqual(page.status, 200, page)
        self.assertTrue(page.headers["Content-Type"].startswith("text/html"), page.headers)
        self.assertRegex(page.raw, r'<script [^>]*src="rebook\.js"')
        self.assertIn('name="referrer" content="no-referrer"', page.raw)
        script = s.request("GET", "/rebook.js", auth=False, check_spec=False)
        self.assertEqual(script.status, 200, script)
        for used in ("location.hash", "/api/offer-link", "/api/offer-link/rebook", 'credentials: "omit"'):
            self.assertIn(used, script.raw)
        # what the page does with the fragment: post it
        r = s.post("/api/offer-link", {"offer_token": token}, auth=False)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([o["option"] for o in r.json["options"]], [1, 2])
        # GET /api/notifications never shows it
        listed = s.get(f"/api/notifications?appointment_id={a['id']}")
        self.assertNotIn(token, listed.raw)
        s.stop()


if __name__ == "__main__":
    unittest.main()
