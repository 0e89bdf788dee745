#!/usr/bin/python3
"""Writes the seed inputs of tests/fuzz/corpus/<target>/ (seed-*).

The seeds are small real inputs: request bodies as docs/openapi.yaml
describes them, config files as docs/config.md does, RFC 3339 texts, TZif
files from /usr/share/zoneinfo plus a few built here, and BSON documents
shaped as docs/sync.md lists them. Regression inputs (regress-*) are kept
next to them by hand and are not touched. Run with Debian's python3 (it
needs python3-pymongo for `bson`):  /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import datetime
import json
import os
import struct

import bson

HERE = os.path.dirname(os.path.abspath(__file__))
UUID_D = "0192f3a4-5b6c-7d8e-9f01-23456789abcd"
UUID_P = "0192f3a4-5b6c-7d8e-9f01-23456789abce"
UUID_A = "0192f3a4-5b6c-7d8e-9f01-23456789abcf"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- request: mode byte, header lines, empty line, body -----------------
def request(name, mode, body, headers=None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    hs = headers if headers is not None else [
        ("Content-Type", "application/json"), ("Content-Length", str(len(raw)))]
    text = "".join(f"{k}: {v}\r\n" for k, v in hs).encode() + b"\r\n" + raw
    write("request", name, bytes([mode]) + text)


request("clinic-put", 2, {"name": "Praxis Mitte", "timezone": "Europe/Berlin",
                          "grace_minutes": 15, "reschedule_options": 3, "offer_hours": 48,
                          "reminder_hours": [24, 2], "confirmations": True},
        [("Content-Type", "application/json; charset=utf-8"), ("If-Match", '"42"')])
request("doctor-create", 2, {"name": "Dr. Anna Weber", "email": "anna@example.org",
                             "phone": "+4915112345678", "slot_minutes": 20})
request("doctor-put-echo", 2, {"id": UUID_D, "name": "Dr. Weber", "email": "", "phone": None,
                               "created_at": "2026-03-29T09:30:00+02:00",
                               "updated_at": "2026-03-29T09:30:00+02:00"},
        [("Content-Type", "application/json"), ("If-Match", '"12", W/"13"')])
request("patient-create", 2, {"name": "Ærøskøbing Ñandú Zoë", "email": "zoe@example.org",
                              "phone": "+4915112345678", "notify_email": True,
                              "notify_sms": False})
request("appointment-create", 2, {"doctor_id": UUID_D, "patient_id": UUID_P,
                                  "start": "2026-03-29T09:30:00+02:00", "duration_minutes": 30,
                                  "reason": "Check-up\r\nsecond line\tand a tab"})
request("schedule-put", 2, {"weekly": [{"weekday": 1, "start": "09:00", "end": "12:00"},
                                       {"weekday": 1, "start": "13:00", "end": "17:00"}],
                            "exceptions": [{"date": "2026-12-24", "closed": True},
                                           {"date": "2026-12-31", "start": "09:00",
                                            "end": "12:00"}]},
        [("Content-Type", "application/json"), ("If-Match", "*")])
request("cancel", 1, {"reason": "Doctor ill"})
request("reschedule", 1, {"options": 3})
request("rebook-staff", 2, {"start": "2026-12-01T09:00:00Z"})
request("rebook-patient", 2, {"offer_token": "q6v4Zx1rXb2M9pWk3sT7yLh0nC5dF8gJ2eR4uA6iO1w",
                              "option": 2})
request("clock-confirm", 1, b"{}")
request("empty-action", 1, b"", [])
request("chunked", 1, b'{"reason": "x"}',
        [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
request("duplicate-key", 2, b'{"name": "a", "name": "b"}')
request("deep", 2, b'{"a":' * 32 + b"1" + b"}" * 32)
request("escapes", 2, b'{"name": "\\"[{\\\\\\u005b\\u2028x\\ud83d\\ude00"}')
request("not-json-type", 2, b'{"name": "x"}', [("Content-Type", "text/plain")])
# Added after the first long run, whose coverage report showed these paths
# unreached: a JSON body that is not an object; a \u0000 in a string (which
# jansson refuses without JSON_ALLOW_NUL, so input.c's own check for it
# stays unreached: it is a second line of defence).
request("array-body", 2, b"[1, 2]")
request("nul-in-email", 2, {"name": "A", "email": "a\u0000@example.org", "phone": "+49\u0000"})

# ---- router: a path, or "pattern\npath" -----------------------------------
for name, path in [
        ("health", "/api/health"), ("metrics", "/metrics"),
        ("doctor", f"/api/doctors/{UUID_D}"),
        ("schedule", f"/api/doctors/{UUID_D}/schedule"),
        ("slots", f"/api/doctors/{UUID_D}/available-slots"),
        ("check-in", f"/api/appointments/{UUID_A}/check-in"),
        ("rebook", f"/api/appointments/{UUID_A}/rebook"),
        ("retry", "/api/notifications/n_1-x/retry"),
        ("dotdot", "/api/patients/../doctors"),
        ("slash", "/api/patients/a/b"),
        ("long", "/api/patients/" + "a" * 79),
        ("pattern", "/api/{}/x/{}/{}\n/api/a/x/b-c/d_e")]:
    write("router", name, path)

# ---- credentials: "Authorization value\nCookie value" ----------------------
TOK = "q6v4Zx1rXb2M9pWk3sT7yLh0nC5dF8gJ2eR4uA6iO1w"  # 43 base64url characters
for name, text in [
        ("bearer", f"Bearer cbx_{TOK}"),
        ("bearer-spaces", f"bearer   cbx_{TOK} \t"),
        ("bearer-short", "Bearer cbx_abc"),
        ("basic", "Basic dXNlcjpwYXNzd29yZA=="),
        ("cookie", f"\nclinicbox_session={TOK}"),
        ("cookie-tls", f"\ntheme=dark; __Host-clinicbox={TOK}; lang=de"),
        ("cookie-twice", f"\nclinicbox_session=bad; clinicbox_session={TOK}"),
        ("cookie-bad", "\nclinicbox_session=../../etc; x"),
        ("both", f"Bearer cbx_{TOK}\nclinicbox_session={TOK}")]:
    write("credentials", name, text)

# ---- config -------------------------------------------------------------
write("config", "full", """\
# clinicbox settings (docs/config.md)
data = /var/lib/clinicbox
listen = 0.0.0.0:8080
grace_minutes = 15
timezone = Europe/Berlin
http_threads = 72
noshow_interval_seconds = 10
clock_max_catchup_hours = 72
log_level = debug
smtp_url = smtp://mail.example.org:587
smtp_user = praxis
smtp_password = "s3cret # not a comment"
smtp_from = Praxis Mitte <praxis@example.org>
twilio_account_sid = AC0123456789abcdef0123456789abcdef
twilio_auth_token = 0123456789abcdef0123456789abcdef
twilio_from = +4915112345678
twilio_base_url = https://api.twilio.com
tls_ca_file = /etc/ssl/certs/ca-certificates.crt
outbox_max_attempts = 12
outbox_max_backoff_seconds = 900
outbox_timeout_seconds = 30
public_url = https://praxis.example.org
mongo_uri = mongodb://user:pw@central.example/clinicbox?tls=true
clinic_id = praxis-mitte
sync_interval_seconds = 30
""")
write("config", "small", "listen = 127.0.0.1:8080\r\n  grace_minutes=5  # short\n\n")
write("config", "set-flag", "http_threads=8\ndata = \"./data dir\"\n")
write("config", "bad-number", "grace_minutes = 99999\n")
write("config", "no-newline", "log_level = warn")

# ---- rfc3339 --------------------------------------------------------------
for i, s in enumerate(["2026-03-29T09:30:00+02:00", "2026-12-01T09:00:00Z",
                       "2026-03-29t09:30:00.123456z", "1990-12-31T23:59:60Z",
                       "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59",
                       "2024-02-29T12:00:00-00:00", "2026-12-24", "2024-02-29", "09:00",
                       "24:00", "2026-02-30T00:00:00Z"]):
    write("rfc3339", f"{i:02d}", s)

# ---- tzif -------------------------------------------------------------------
for zone in ["UTC", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"]:
    with open(os.path.join("/usr/share/zoneinfo", zone), "rb") as f:
        write("tzif", zone.replace("/", "-"), f.read())


def tzif_header(version, isut, isstd, leap, time, typ, char):
    return b"TZif" + version + b"\0" * 15 + struct.pack(">6I", isut, isstd, leap, time, typ, char)


def footer_only(footer, off=3600):
    """A v2 file with no transitions and one type: the footer says it all."""
    v1 = tzif_header(b"2", 0, 0, 0, 0, 1, 4) + struct.pack(">iBB", off, 0, 0) + b"CET\0"
    return v1 + v1 + b"\n" + footer + b"\n"


write("tzif", "footer-berlin", footer_only(b"CET-1CEST,M3.5.0,M10.5.0/3"))
write("tzif", "footer-nuuk", footer_only(b"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", -7200))
write("tzif", "footer-all-year-dst", footer_only(b"EST5EDT,0/0,J365/25", -18000))
# v1 only: one transition, two types
write("tzif", "v1", tzif_header(b"\0", 0, 0, 0, 1, 2, 8) + struct.pack(">i", 0) + b"\1" +
      struct.pack(">iBB", 0, 0, 0) + struct.pack(">iBB", 3600, 0, 4) + b"UTC\0CET\0")

# ---- docmap: BSON documents as docs/sync.md shows them -------------------------
T = datetime.datetime(2026, 3, 29, 7, 30, tzinfo=datetime.timezone.utc)
SYNC = {"rev": "1774769400000-000001-central", "by": "central:alice", "seq": 7, "at": T}
docs = {
    "clinic": {"_id": "praxis-mitte", "clinicId": "praxis-mitte", "name": "Praxis Mitte",
               "timezone": "Europe/Berlin", "graceMinutes": 15, "rescheduleOptions": 3,
               "offerHours": 72, "reminderHours": [24, 2], "confirmations": True,
               "createdAt": T, "updatedAt": T, "_sync": SYNC},
    "doctor": {"_id": UUID_D, "clinicId": "praxis-mitte", "name": "Dr. Anna Weber",
               "email": "anna@example.org", "phone": "+4915112345678", "slotMinutes": 20,
               "createdAt": T, "updatedAt": T, "deletedAt": None,
               "_sync": {"rev": "1774769400000-000000-box1", "box": "box1", "pushedAt": T}},
    "patient": {"_id": UUID_P, "clinicId": "praxis-mitte", "name": "Ann Lee",
                "email": "ann@example.org", "phone": None, "notifyEmail": True,
                "notifySms": False, "createdAt": T, "updatedAt": T, "_sync": SYNC},
    "patient-tombstone": {"_id": UUID_P, "name": "Ann Lee", "deletedAt": T, "_sync": SYNC},
    "appointment": {"_id": UUID_A, "clinicId": "praxis-mitte", "doctorId": UUID_D,
                    "patientId": UUID_P, "start": T, "end": T + datetime.timedelta(minutes=30),
                    "status": "booked", "reason": "Check-up", "cancelReason": None,
                    "checkedInAt": None, "createdAt": T, "createdBy": "central:alice",
                    "updatedAt": T, "updatedBy": "central:alice", "_sync": SYNC},
    "schedule": {"_id": UUID_D, "doctorId": UUID_D, "slotMinutes": 20,
                 "weekly": [{"weekday": 2, "start": "09:00", "end": "12:00"}],
                 "exceptions": [{"date": "2026-12-24", "closed": True},
                                {"date": "2026-12-31", "closed": False, "start": "09:00",
                                 "end": "12:00"}],
                 "_sync": SYNC},
    "offer": {"_id": UUID_A, "appointmentId": UUID_A,
              "options": [{"start": T, "end": T + datetime.timedelta(minutes=20)}],
              "createdAt": T, "createdBy": "system:offers", "expiresAt": T,
              "usedAt": None, "usedOption": 1.0, "newAppointmentId": None},
}
for name, doc in docs.items():
    write("docmap", name, bson.encode(doc))
