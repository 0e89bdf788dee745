"""Who may call what (issue 10): every route of the route table against
every kind of caller, sessions (fixation, expiry, logout, CSRF, disabled
users), API tokens, the first-run setup, login throttling, Host/Origin
checks and doctors' scope. Against the real binary; clocks moved with
libfaketime's timestamp file, never with a hook in the product."""
import http.client
import json
import os
import subprocess
import tempfile
import time
import unittest

from harness import BIN, FAKETIME_LIB, Server, ServerTest, Session

# What each route allows: the test's own copy of the rules in
# docs/security.md. A route in the binary's table without a line here (or a
# line here without a route) fails test_every_route_has_a_rule.
PUBLIC, ADMIN, DESK, DOCTOR = "public", "admin", "front_desk", "doctor"
STAFF = {ADMIN, DESK, DOCTOR}
EXPECT = {
    "GET /api/health": {PUBLIC},
    "GET /metrics": {ADMIN},
    "GET /api/clinic": STAFF,
    "PUT /api/clinic": {ADMIN},
    "POST /api/clock/confirm": {ADMIN, DESK},
    "POST /api/doctors": {ADMIN},
    "GET /api/doctors": STAFF,
    "GET /api/doctors/{}": STAFF,
    "PUT /api/doctors/{}": {ADMIN},
    "GET /api/doctors/{}/schedule": STAFF,
    "PUT /api/doctors/{}/schedule": {ADMIN, DOCTOR},
    "GET /api/doctors/{}/available-slots": STAFF,
    "POST /api/patients": {ADMIN, DESK},
    "GET /api/patients": {ADMIN, DESK},
    "GET /api/patients/{}": STAFF,
    "PUT /api/patients/{}": {ADMIN, DESK},
    "DELETE /api/patients/{}": {ADMIN},
    "POST /api/appointments": {ADMIN, DESK},
    "GET /api/appointments": STAFF,
    "GET /api/appointments/{}": STAFF,
    "POST /api/appointments/{}/check-in": STAFF,
    "POST /api/appointments/{}/complete": STAFF,
    "POST /api/appointments/{}/cancel": {ADMIN, DESK},
    "POST /api/appointments/{}/no-show": {ADMIN, DESK},
    "POST /api/appointments/{}/reschedule": {ADMIN, DESK},
    "POST /api/appointments/{}/rebook": {ADMIN, DESK},
    "POST /api/offer-link": {PUBLIC},
    "POST /api/offer-link/rebook": {PUBLIC},
    "POST /api/offer-link/calendar": {PUBLIC},
    "GET /api/offers": {ADMIN, DESK},
    "GET /api/notifications": {ADMIN, DESK},
    "POST /api/notifications/{}/retry": {ADMIN, DESK},
    "GET /api/sync/status": {ADMIN, DESK},
    "POST /api/sync/run": {ADMIN},
    "GET /api/session": {PUBLIC},
    "POST /api/session": {PUBLIC},
    "DELETE /api/session": STAFF,
    "POST /api/session/password": STAFF,
    "POST /api/setup": {PUBLIC},
    "GET /api/users": {ADMIN},
    "POST /api/users": {ADMIN},
    "PATCH /api/users/{}": {ADMIN},
    "GET /api/sessions": {ADMIN},
    "DELETE /api/sessions/{}": {ADMIN},
    "GET /api/tokens": {ADMIN},
    "POST /api/tokens": {ADMIN},
    "DELETE /api/tokens/{}": {ADMIN},
    "GET /api/audit": {ADMIN},
    "GET /api/events": {ADMIN},
    "GET /api/tls": {ADMIN},
}


def route_table():
    out = subprocess.run([BIN, "routes"], capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def cookie_attrs(set_cookie):
    parts = [p.strip() for p in set_cookie.split(";")]
    name, _, value = parts[0].partition("=")
    return name, value, {p.split("=")[0].lower(): (p.split("=", 1)[1] if "=" in p else True)
                         for p in parts[1:]}


class RouteMatrixTest(ServerTest):
    def test_every_route_has_a_rule(self):
        table = {f"{r['method']} {r['path']}": set(r["roles"]) for r in route_table()}
        self.assertEqual(sorted(set(table) - set(EXPECT)), [], "routes without a rule in this test")
        self.assertEqual(sorted(set(EXPECT) - set(table)), [], "rules for routes that do not exist")
        for key, roles in table.items():
            self.assertTrue(roles, f"{key} allows no one")
            self.assertEqual(roles, EXPECT[key], key)

    def test_every_route_for_every_caller(self):
        s = self.server
        doctor, patient = s.seed()
        a = s.post("/api/appointments", {"doctor_id": doctor["id"], "patient_id": patient["id"],
                                         "start": _future_slot(), "duration_minutes": 15})
        self.assertEqual(a.status, 201, a)
        ids = {"/api/doctors/{}": doctor["id"], "/api/patients/{}": patient["id"],
               "/api/appointments/{}": a.json["id"], "/api/notifications/{}": "0" * 8,
               "/api/users/{}": "nobody", "/api/sessions/{}": "0" * 8, "/api/tokens/{}": "nobody"}
        logins = {DESK: s.add_user("desk", DESK), DOCTOR: s.add_user("doc", DOCTOR, doctor=doctor["id"]),
                  ADMIN: s.add_user("boss", ADMIN)}
        sessions = {role: s.login(*cred) for role, cred in logins.items()}
        token = s.post("/api/tokens", {"name": "desk-script", "role": DESK}).json["token"]
        callers = {
            "anonymous": (None, lambda m, p, b: s.request(m, p, body=b, auth=False)),
            "patient-link": (None, lambda m, p, b: s.request(
                m, p, body=dict(b or {}, offer_token="x" * 43), auth=False)),
            "token:front_desk": (DESK, lambda m, p, b: s.request(
                m, p, body=b, headers={"Authorization": f"Bearer {token}"})),
        }
        for role in sessions:
            callers[f"session:{role}"] = (role, lambda m, p, b, role=role: sessions[role].request(m, p, body=b))
        for route in route_table():
            key = f"{route['method']} {route['path']}"
            path = route["path"]
            for prefix, rid in ids.items():
                path = path.replace(prefix, prefix.replace("{}", rid))
            body = {} if route["method"] in ("POST", "PUT", "PATCH") else None
            for who, (role, call) in callers.items():
                r = call(route["method"], path, body)
                allowed = PUBLIC in EXPECT[key] or (role and role in EXPECT[key])
                where = f"{who} {key}: {r}"
                if allowed:
                    self.assertNotIn(r.status, (401, 403), where)
                elif role is None:
                    self.assertEqual(r.status, 401, where)
                    self.assertIn("Bearer", r.headers.get("WWW-Authenticate", ""), where)
                else:
                    self.assertEqual(r.status, 403, where)
                if key == "DELETE /api/session" and r.status == 204:   # logged out: again
                    sessions[role] = s.login(*logins[role])


def _future_slot():
    """A 15-minute slot start three days ahead, at 10:00 UTC (in the seed's
    all-week 08:00-18:00 Berlin hours), whatever today is."""
    t = time.gmtime(time.time() + 3 * 86400)
    return time.strftime("%Y-%m-%dT10:00:00Z", t)


class SessionTest(ServerTest):
    def setUp(self):
        super().setUp()
        self.user, self.password = self.server.add_user("anna", "front_desk")

    def login_raw(self, password=None, headers=None, user=None):
        return self.server.post("/api/session", {"username": user or self.user,
                                                 "password": password or self.password},
                                headers=headers, auth=False)

    def test_cookie_flags_and_session_answer(self):
        r = self.login_raw()
        self.assertEqual(r.status, 201, r)
        name, value, attrs = cookie_attrs(r.headers["Set-Cookie"])
        self.assertEqual(name, "clinicbox_session")   # __Host- only under TLS
        self.assertEqual(len(value), 43)
        self.assertIs(attrs.get("httponly"), True)
        self.assertEqual(attrs.get("samesite"), "Strict")
        self.assertEqual(attrs.get("path"), "/")
        self.assertNotIn("max-age", attrs)
        self.assertEqual(r.json["username"], "anna")
        self.assertEqual(r.json["role"], "front_desk")
        self.assertGreaterEqual(len(r.json["csrf_token"]), 22)
        self.assertNotIn(value, r.raw)   # the secret is in the cookie only
        me = self.server.get("/api/session", headers={"Cookie": f"{name}={value}"})
        self.assertEqual(me.json["session_id"], r.json["session_id"])
        self.assertEqual(me.json["csrf_token"], r.json["csrf_token"])

    def test_no_fixation_new_secret_every_login(self):
        planted = "clinicbox_session=" + "A" * 43
        r1 = self.login_raw(headers={"Cookie": planted})
        r2 = self.login_raw(headers={"Cookie": planted})
        v1, v2 = cookie_attrs(r1.headers["Set-Cookie"])[1], cookie_attrs(r2.headers["Set-Cookie"])[1]
        self.assertNotEqual(v1, "A" * 43)
        self.assertNotEqual(v1, v2)
        self.assertNotEqual(r1.json["csrf_token"], r2.json["csrf_token"])
        self.assertEqual(self.server.get("/api/clinic", headers={"Cookie": planted}).status, 401)
        # both sessions live side by side
        for v in (v1, v2):
            self.assertEqual(self.server.get("/api/clinic", headers={"Cookie": f"clinicbox_session={v}"}).status, 200)
        # the secret is stored only as its hash
        with self.server.db() as db:
            stored = [row[0] for row in db.execute("SELECT token_hash FROM sessions")]
        self.assertEqual(len(stored), 2)
        self.assertNotIn(v1, stored)

    def test_logout_then_replay(self):
        sess = self.server.login(self.user, self.password)
        self.assertEqual(sess.get("/api/clinic").status, 200)
        r = sess.delete("/api/session")
        self.assertEqual(r.status, 204, r)
        self.assertIn("Max-Age=0", r.headers["Set-Cookie"])
        again = sess.get("/api/clinic")
        self.assertEqual(again.status, 401)
        self.assertIn("ended", again.json["detail"])
        me = sess.get("/api/session")
        self.assertEqual(me.json, {"authenticated": False, "session_ended": True, "setup_required": True})

    def test_csrf_needed_for_changes_by_cookie(self):
        sess = self.server.login(self.user, self.password)
        before = len(self.server.get("/api/patients").json["patients"])
        for headers in ({}, {"X-CSRF-Token": "wrong" * 8}, {"X-CSRF-Token": sess.csrf[:-1]}):
            r = sess.post("/api/patients", {"name": "Mallory"}, csrf=False, headers=headers)
            self.assertEqual(r.status, 403, r)
            self.assertIn("X-CSRF-Token", r.json["detail"])
        self.assertEqual(len(self.server.get("/api/patients").json["patients"]), before)
        self.assertEqual(sess.post("/api/patients", {"name": "Berta"}).status, 201)
        # GET needs none, and an API token needs none (no cookie, no CSRF)
        self.assertEqual(sess.get("/api/patients").status, 200)
        self.assertEqual(self.server.post("/api/patients", {"name": "Carl"}).status, 201)

    def test_foreign_host_and_origin(self):
        sess = self.server.login(self.user, self.password)
        port = self.server.port
        for h in ({"Host": "evil.example"}, {"Host": f"evil.example:{port}"},
                  {"Origin": "http://evil.example"}, {"Origin": "null"},
                  {"Origin": f"https://127.0.0.1:{port}"}, {"Origin": f"http://127.0.0.1:{port + 1}"}):
            r = sess.post("/api/patients", {"name": "Rebound"}, headers=h)
            self.assertEqual(r.status, 403, (h, r))
            r = self.server.get("/api/health", headers=h, auth=False)
            if "Host" in h:   # a foreign Host is refused for every request
                self.assertEqual(r.status, 403, (h, r))
        ok = sess.post("/api/patients", {"name": "Same Origin"},
                       headers={"Origin": f"http://127.0.0.1:{port}", "Host": f"localhost:{port}"})
        self.assertEqual(ok.status, 403, ok)   # Origin and Host must agree
        ok = sess.post("/api/patients", {"name": "Same Origin"},
                       headers={"Origin": f"http://localhost:{port}", "Host": f"localhost:{port}"})
        self.assertEqual(ok.status, 201, ok)

    def test_an_address_the_box_gets_after_its_start_is_its_own(self):
        """A DHCP lease that comes after the start (or changes) must not make
        the box refuse its own new address: added here to the loopback
        interface while the server runs (root only; CI runs as root)."""
        addr = "127.0.0.77"
        host = {"Host": f"{addr}:{self.server.port}"}
        self.assertEqual(self.server.get("/api/health", headers=host, auth=False).status, 403)
        add = subprocess.run(["ip", "addr", "add", f"{addr}/32", "dev", "lo"], capture_output=True, text=True)
        if add.returncode != 0:
            self.skipTest(f"cannot add an address here: {add.stderr.strip()}")
        self.addCleanup(subprocess.run, ["ip", "addr", "del", f"{addr}/32", "dev", "lo"], capture_output=True)
        self.assertEqual(self.server.get("/api/health", headers=host, auth=False).status, 200)
        subprocess.run(["ip", "addr", "del", f"{addr}/32", "dev", "lo"], check=True, capture_output=True)
        self.assertEqual(self.server.get("/api/health", headers=host, auth=False).status, 403)

    def test_login_throttle_without_lockout(self):
        wrong = [self.login_raw(password="not-the-password") for _ in range(5)]
        self.assertEqual([r.status for r in wrong], [401] * 5)
        unknown = self.login_raw(user="nobody", password="whatever-it-is")
        self.assertEqual(unknown.status, 401)
        self.assertEqual(unknown.json["detail"], wrong[0].json["detail"])   # no user oracle
        # the 6th failure starts the wait (1 s, then 2 s, 4 s, ...); a try
        # during a wait is refused (429) and not counted
        self.assertEqual(self.login_raw(password="not-the-password").status, 401)
        refused = self.login_raw(password="not-the-password")
        self.assertIn(refused.status, (401, 429), refused)
        # two more failures, each once its wait is over: the wait is 4 s or more now,
        # long enough that the next request surely comes within it (a 1 s
        # wait counted in whole seconds can end a moment after it began)
        counted = 0
        while counted < 2:
            r = self.login_raw(password="not-the-password")
            if r.status == 429:
                time.sleep(int(r.headers["Retry-After"]) + 0.05)
                continue
            self.assertEqual(r.status, 401, r)
            counted += 1
        # now even the right password waits
        r = self.login_raw()
        self.assertEqual(r.status, 429, r)
        wait = int(r.headers["Retry-After"])
        self.assertGreaterEqual(wait, 1)
        self.assertLessEqual(wait, 15 * 60)
        time.sleep(wait + 0.2)
        self.assertEqual(self.login_raw().status, 201)   # no permanent lockout
        log = self.server.read_log()
        self.assertIn('login refused for "anna"', log)
        self.assertIn('login refused for "nobody"', log)
        self.assertIn("login of anna", log)
        self.assertNotIn("not-the-password", log)

    def test_burst_of_guesses_is_throttled_too(self):
        """Simultaneous attempts cannot all pass the check while their
        password checks run: each counts when it starts."""
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(16) as pool:
            got = list(pool.map(lambda i: self.login_raw(password=f"guess number {i}").status, range(16)))
        # 503: "busy checking other passwords", the hashing cap. A real
        # clock rarely gives one here; under libfaketime (the suite's
        # year-ahead run) the cap's timed wait returns at once. Either way
        # the password was not checked.
        self.assertEqual(set(got) - {401, 429, 503}, set(), got)
        # 5 free + the one that starts the wait; on a slow machine the burst
        # may outlast the first waits (1 s, then 2 s more): one more each.
        self.assertLessEqual(got.count(401), 8, got)
        self.assertGreaterEqual(got.count(429) + got.count(503), 8, got)

    def test_guesses_from_elsewhere_do_not_lock_the_user_out(self):
        """Guessing anna's password from another address slows that address,
        not anna at her desk (until the account's looser count of 50)."""
        other = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30,
                                           source_address=("127.0.0.2", 0))
        for i in range(8):
            r = self.server.post("/api/session", {"username": self.user, "password": f"guess {i} xx"},
                                 auth=False, conn=other)
            other.close()
        self.assertEqual(r.status, 429, r)
        self.assertEqual(self.login_raw().status, 201)

    def test_odd_user_agent_is_listed(self):
        r = self.login_raw(headers={"User-Agent": "Browser \xff\xfe/1.0 " + "x" * 300})
        self.assertEqual(r.status, 201, r)
        listed = self.server.get("/api/sessions").json
        self.assertEqual(len(listed), 1)
        self.assertTrue(listed[0]["user_agent"].startswith("Browser ??/1.0 xxx"), listed)
        self.assertLess(len(listed[0]["user_agent"]), 200)

    def test_disabled_user_and_new_password_end_sessions(self):
        sess = self.server.login(self.user, self.password)
        self.server.cli("user", "disable", "--username", self.user)
        r = sess.get("/api/clinic")
        self.assertEqual(r.status, 401)
        self.assertEqual(self.login_raw().status, 401)
        self.server.cli("user", "enable", "--username", self.user)
        sess = self.server.login(self.user, self.password)
        self.server.cli("user", "passwd", "--username", self.user, input="a-brand-new-secret\n")
        self.assertEqual(sess.get("/api/clinic").status, 401)
        self.assertEqual(self.login_raw().status, 401)
        sess = self.server.login(self.user, "a-brand-new-secret")
        # an admin disables through the API too
        self.assertEqual(self.server.request("PATCH", f"/api/users/{self.user}", {"disabled": True}).status, 200)
        self.assertEqual(sess.get("/api/clinic").status, 401)

    def test_own_password_change(self):
        sess = self.server.login(self.user, self.password)
        r = sess.post("/api/session/password", {"current_password": "wrong-one!", "new_password": "x" * 12})
        self.assertEqual(r.status, 403, r)
        r = sess.post("/api/session/password", {"current_password": self.password, "new_password": "password1"})
        self.assertEqual(r.status, 422, r)   # a common password
        r = sess.post("/api/session/password", {"current_password": self.password,
                                                "new_password": "sieben Zwerge hinter den Bergen"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(sess.get("/api/clinic").status, 401)
        self.server.login(self.user, "sieben Zwerge hinter den Bergen")

    def test_admin_lists_and_ends_sessions(self):
        sess = self.server.login(self.user, self.password)
        listed = self.server.get("/api/sessions").json
        self.assertEqual([x["username"] for x in listed], ["anna"])
        self.assertEqual(listed[0]["address"], "127.0.0.1")
        self.assertNotIn(sess.cookie.split("=", 1)[1], json.dumps(listed))
        self.assertEqual(self.server.request("DELETE", f"/api/sessions/{listed[0]['id']}").status, 204)
        self.assertEqual(sess.get("/api/clinic").status, 401)
        self.assertEqual(self.server.get("/api/sessions").json, [])

    def test_users_api_and_password_policy(self):
        for pw, status in (("short7!", 422), ("password", 422), ("newbie", 422), ("iloveyou1", 422)):
            r = self.server.post("/api/users", {"username": "newbie", "password": pw, "role": "front_desk"})
            self.assertEqual(r.status, status, (pw, r))
        r = self.server.post("/api/users", {"username": "newbie", "password": "ganz-neu-hier", "role": "front_desk"})
        self.assertEqual(r.status, 201, r)
        self.assertNotIn("password", r.json)
        self.assertEqual(self.server.post("/api/users", {"username": "newbie", "password": "ganz-neu-hier",
                                                         "role": "front_desk"}).status, 409)
        self.assertEqual(self.server.post("/api/users", {"username": "Bad Name", "password": "ganz-neu-hier",
                                                         "role": "front_desk"}).status, 422)
        self.assertEqual(self.server.post("/api/users", {"username": "doc", "password": "ganz-neu-hier",
                                                         "role": "doctor"}).status, 422)   # no doctor_id
        users = self.server.get("/api/users").json
        self.assertEqual([u["username"] for u in users], ["anna", "newbie"])
        with self.server.db() as db:
            h = db.execute("SELECT password_hash FROM users WHERE username='newbie'").fetchone()[0]
        self.assertTrue(h.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), h)

    def test_last_admin_stays(self):
        admin, pw = self.server.add_user("boss", "admin")
        r = self.server.request("PATCH", "/api/users/boss", {"disabled": True})
        self.assertEqual(r.status, 409, r)
        r = self.server.request("PATCH", "/api/users/boss", {"role": "front_desk"})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(self.server.login(admin, pw).get("/api/users").status, 200)


class TokenTest(ServerTest):
    def test_cli_and_api_tokens(self):
        out = self.server.cli("token", "create", "--name", "backup-script", "--role", "front_desk").stdout
        token = out.split()[-1]
        self.assertRegex(token, r"^cbx_[A-Za-z0-9_-]{43}$")
        bearer = {"Authorization": f"Bearer {token}"}
        self.assertEqual(self.server.get("/api/patients", headers=bearer).status, 200)
        self.assertEqual(self.server.get("/api/users", headers=bearer).status, 403)
        listed = self.server.cli("token", "list").stdout
        self.assertIn("backup-script", listed)
        self.assertNotIn(token, listed)
        self.assertNotIn(token[4:], json.dumps(self.server.get("/api/tokens").json))
        self.server.cli("token", "revoke", "--name", "backup-script")
        r = self.server.get("/api/patients", headers=bearer)
        self.assertEqual(r.status, 401)
        self.assertIn("not valid", r.json["detail"])
        # by the API
        made = self.server.post("/api/tokens", {"name": "kiosk", "role": "front_desk"})
        self.assertEqual(made.status, 201, made)
        kiosk = {"Authorization": f"Bearer {made.json['token']}"}
        a = self.server.post("/api/patients", {"name": "Via Token"}, headers=kiosk)
        self.assertEqual(a.status, 201)
        self.assertEqual(self.server.request("DELETE", "/api/tokens/kiosk").status, 204)
        self.assertEqual(self.server.get("/api/patients", headers=kiosk).status, 401)
        self.assertEqual(self.server.request("DELETE", "/api/tokens/kiosk").status, 404)
        self.assertEqual(self.server.post("/api/tokens", {"name": "kiosk", "role": "front_desk"}).status, 409)
        for bad in ("Bearer", "Bearer cbx_short", "Basic dXNlcjpwdw==", f"Bearer {made.json['token']}x"):
            self.assertEqual(self.server.get("/api/clinic", headers={"Authorization": bad}).status, 401, bad)
        revoked = [t for t in self.server.get("/api/tokens").json if t["name"] == "kiosk"][0]
        self.assertIsNotNone(revoked["revoked_at"])


class FirstRunTest(ServerTest):
    def test_setup_only_while_no_admin(self):
        log = self.server.new_log()
        self.assertIn("no admin yet", log)
        self.assertIn("clinicbox user add", log)
        self.assertEqual(self.server.get("/api/clinic", auth=False).status, 401)
        me = self.server.get("/api/session", auth=False).json
        self.assertEqual(me, {"authenticated": False, "session_ended": False, "setup_required": True})
        r = self.server.post("/api/setup", {"username": "chef", "password": "password"}, auth=False)
        self.assertEqual(r.status, 422, r)
        r = self.server.post("/api/setup", {"username": "chef", "password": "der erste Tag"}, auth=False)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["role"], "admin")
        sess = Session(self.server, r.headers["Set-Cookie"].split(";")[0], r.json["csrf_token"])
        self.assertEqual(sess.get("/api/users").status, 200)
        again = self.server.post("/api/setup", {"username": "mallory", "password": "der zweite Tag"}, auth=False)
        self.assertEqual(again.status, 404, again)
        self.assertFalse(self.server.get("/api/session", auth=False).json["setup_required"])

    def test_security_headers_on_every_api_answer(self):
        for r in (self.server.get("/api/clinic"), self.server.get("/api/clinic", auth=False),
                  self.server.get("/api/nothing-here", check_spec=False),
                  self.server.post("/api/session", {"username": "x", "password": "y"}, auth=False)):
            h = r.headers
            self.assertIn("default-src 'self'", h.get("Content-Security-Policy", ""), r)
            self.assertIn("frame-ancestors 'none'", h["Content-Security-Policy"])
            self.assertNotIn("unsafe-inline", h["Content-Security-Policy"])
            self.assertEqual(h.get("X-Content-Type-Options"), "nosniff")
            self.assertEqual(h.get("Referrer-Policy"), "no-referrer")
            self.assertEqual(h.get("Cache-Control"), "no-store")
            self.assertNotIn("Strict-Transport-Security", h)   # plain HTTP: no HSTS promise

    def test_anonymous_health_says_little(self):
        r = self.server.get("/api/health", auth=False)
        self.assertEqual(r.status, 200)
        self.assertEqual(set(r.json), {"status", "version"})
        self.assertGreater(len(self.server.get("/api/health").json), 2)


class DoctorScopeTest(ServerTest):
    def test_doctor_sees_and_changes_only_their_own(self):
        s = self.server
        mine, patient = s.seed()
        other = s.post("/api/doctors", {"name": "Dr. Other", "slot_minutes": 15}).json
        week = {"weekly": [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(1, 8)], "exceptions": []}
        self.assertEqual(s.put(f"/api/doctors/{other['id']}/schedule", week).status, 200)
        stranger = s.post("/api/patients", {"name": "Nur Andere"}).json
        at = _future_slot()
        a_mine = s.post("/api/appointments", {"doctor_id": mine["id"], "patient_id": patient["id"],
                                              "start": at, "duration_minutes": 15}).json
        a_other = s.post("/api/appointments", {"doctor_id": other["id"], "patient_id": stranger["id"],
                                               "start": at, "duration_minutes": 15}).json
        doc = s.login(*s.add_user("weiss", "doctor", doctor=mine["id"]))
        self.assertEqual(doc.put(f"/api/doctors/{mine['id']}/schedule", week).status, 200)
        self.assertEqual(doc.put(f"/api/doctors/{other['id']}/schedule", week).status, 403)
        listed = doc.get("/api/appointments").json["appointments"]
        self.assertEqual([x["id"] for x in listed], [a_mine["id"]])
        self.assertEqual(doc.get(f"/api/appointments?doctor_id={other['id']}").status, 403)
        self.assertEqual(doc.get(f"/api/appointments/{a_other['id']}").status, 403)
        self.assertEqual(doc.post(f"/api/appointments/{a_other['id']}/check-in").status, 403)
        self.assertEqual(doc.get(f"/api/patients/{stranger['id']}").status, 403)
        self.assertEqual(doc.get(f"/api/patients/{patient['id']}").status, 200)
        r = doc.post(f"/api/appointments/{a_mine['id']}/check-in")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["updated_by"], "user:weiss")
        self.assertEqual(doc.post(f"/api/appointments/{a_mine['id']}/cancel").status, 403)


class ExpiryTest(unittest.TestCase):
    """Idle (15 min) and absolute (12 h) limits, on a faked clock the test
    moves by rewriting libfaketime's timestamp file (the server keeps
    running; its monotonic clock stays real)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="clinicbox-ft-")
        self.stamp = os.path.join(self.dir, "faketime")
        self.t0 = int(time.time())
        self.at(0)
        self.server = Server(env={"FAKETIME_TIMESTAMP_FILE": self.stamp, "FAKETIME_NO_CACHE": "1",
                                  "LD_PRELOAD": FAKETIME_LIB})
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.cred = self.server.add_user("anna", "front_desk")

    def tearDown(self):
        self.server.stop()

    def at(self, seconds):
        with open(self.stamp, "w") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.t0 + seconds)))

    def test_idle_limit(self):
        sess = self.server.login(*self.cred)
        self.at(14 * 60)
        self.assertEqual(sess.get("/api/clinic").status, 200)   # and last_seen moves on
        self.at(28 * 60)
        self.assertEqual(sess.get("/api/clinic").status, 200)
        self.at(28 * 60 + 15 * 60)
        r = sess.get("/api/clinic")
        self.assertEqual(r.status, 401)
        self.assertIn("expired", r.json["detail"])
        self.assertTrue(sess.get("/api/session").json["session_ended"])

    def test_clock_going_back_ends_the_session(self):
        sess = self.server.login(*self.cred)
        self.at(-3600)   # the wall clock is set an hour back
        r = sess.get("/api/clinic")
        self.assertEqual(r.status, 401, r)
        self.assertIn("expired", r.json["detail"])

    def test_absolute_limit(self):
        sess = self.server.login(*self.cred)
        t = 0
        while t + 14 * 60 < 12 * 3600:
            t += 14 * 60
            self.at(t)
            self.assertEqual(sess.get("/api/clinic").status, 200, t)
        self.at(12 * 3600)
        r = sess.get("/api/clinic")
        self.assertEqual(r.status, 401, r)
        self.assertIn("expired", r.json["detail"])


if __name__ == "__main__":
    unittest.main()
