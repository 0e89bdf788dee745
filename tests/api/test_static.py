"""The UI's files (web_dir) through the server's own handler (src/http/
static.c, webpath.c), never civetweb's file serving: GET and HEAD only,
whitelisted names and types, no directory listing, no dot files, no symlink
followed, nothing outside web_dir, and never the database, its WAL or
anything else in the data directory, by any spelling of a path. Every
answer, file or API, carries the security headers (src/http/headers.c);
API answers keep Cache-Control: no-store.

Odd paths go over raw sockets: http.client would refuse or rewrite some.
Static files are public, so every request here is anonymous (auth=False);
they are not API calls, so they are not checked against docs/openapi.yaml.
"""
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server  # noqa: E402

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
       "object-src 'none'")
MAX_FILE = 2 * 1024 * 1024
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")

INDEX = b"<!doctype html><title>Praxis</title><script src=\"/app.js\"></script>\n"
APP_JS = b"export const hello = 'clinicbox';\n"
STYLE = b"body { font-family: sans-serif; }\n"
REBOOK = b"<!doctype html><title>Termin verschieben</title>\n"
INNER = b"// sub/inner.js\n"
# What must never come back: SQLite's file header (the database), and the
# markers of files that exist but are not to be served.
SECRETS = [b"SQLite format 3", b"ENV-MARKER", b"SECRET-DB-MARKER", b"BAK-MARKER",
           b"OUTSIDE-MARKER", b"HIDDEN-MARKER"]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def make_web(web, data):
    """The web directory: servable files, files that must not be served,
    symlinks into the data directory, a subdirectory, a FIFO."""
    write(os.path.join(web, "index.html"), INDEX)
    write(os.path.join(web, "app.js"), APP_JS)
    write(os.path.join(web, "style.css"), STYLE)
    write(os.path.join(web, "rebook.html"), REBOOK)
    write(os.path.join(web, "sub", "inner.js"), INNER)
    write(os.path.join(web, "sub", "index.html"), b"sub index HIDDEN-MARKER\n")
    write(os.path.join(web, ".env"), b"SECRET=ENV-MARKER\n")
    write(os.path.join(web, ".hidden.js"), b"// HIDDEN-MARKER\n")
    write(os.path.join(web, "secret.db"), b"SECRET-DB-MARKER\n")
    write(os.path.join(web, "notes.bak"), b"BAK-MARKER\n")
    write(os.path.join(web, "exactly-max.js"), b"/" * MAX_FILE)
    write(os.path.join(web, "too-big.js"), b"/" * (MAX_FILE + 1))
    db = os.path.join(data, "clinicbox.db")
    os.symlink(db, os.path.join(web, "clinicbox.db"))
    os.symlink(db, os.path.join(web, "db.js"))        # a served type, but a link
    os.symlink(db, os.path.join(web, "db.html"))
    os.symlink(data, os.path.join(web, "data"))        # a link to the directory
    os.symlink(os.path.join(web, "app.js"), os.path.join(web, "alias.js"))  # even inside
    os.mkfifo(os.path.join(web, "pipe.js"))


def data_paths(data, web):
    """Every spelling we can think of for the data directory's files."""
    rel = os.path.relpath(data, web)             # e.g. ".." or "../../tmp/x"
    absd = os.path.abspath(data)
    name = os.path.basename(absd)
    paths = []
    for f in ("clinicbox.db", "clinicbox.db-wal", "clinicbox.db-shm"):
        paths += [
            f"/{f}", f"/../{f}", f"/../../{f}", f"/..%2f{f}", f"/..%2F{f}", f"/%2e%2e/{f}",
            f"/%2E%2E/{f}", f"/%2e%2e%2f{f}", f"/.%2e/{f}", f"/./../{f}", f"/sub/../../{f}",
            f"/sub/%2e%2e/%2e%2e/{f}", f"/..\\{f}", f"/%5c..%5c{f}", f"/..%5c{f}",
            f"/clinicbox-data/{f}", f"/{name}/{f}", f"/data/{f}", f"/{rel}/{f}",
            f"{absd}/{f}", f"/{absd}/{f}", f"/{absd.replace('/', '%2f')}/{f}",
            f"/api/../{f}", f"/api/%2e%2e/{f}", f"/metrics/../../{f}", f"/api/..%2f..%2f{f}",
            f"/index.html%00/../{f}", f"/{f}%00.html", f"/{f}%00", f"/app.js/../../{f}",
            f"/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e{absd}/{f}",
            f"/../../../../../../..{absd}/{f}", f"/{f}.js", f"/{f}/", f"/{f};.js",
        ]
    paths += ["/db.js", "/db.html", "/data/", "/data", "/data/x.js", "/data/index.html",
              "/clinicbox.db", f"/../{name}/", f"/{rel}/"]
    for entry in os.listdir(data):   # the server's log and whatever else is there
        paths += [f"/{entry}", f"/../{entry}", f"/data/{entry}", f"/%2e%2e/{entry}"]
    return paths


def file_heads(data):
    """The first 32 bytes of every non-empty file in the data directory (the
    database, WAL, log, tokens): none may turn up in an answer."""
    heads = []
    for entry in os.listdir(data):
        path = os.path.join(data, entry)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                head = f.read(32)
            if len(head) >= 8:
                heads.append(head)
    return heads


class Raw:
    """One request over a raw socket, bytes as given."""

    def __init__(self, port):
        self.port = port

    def send(self, request, timeout=10):
        """Sends request (bytes) and reads until the server closes. Returns
        (status or None, headers {lower name: [values]}, body bytes)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(request)
            data = b""
            try:
                while chunk := s.recv(65536):
                    data += chunk
            except ConnectionResetError:
                pass   # closed with part of an over-long request unread
        return parse(data)

    def get(self, path, method="GET", headers=b""):
        if isinstance(path, str):
            path = path.encode("latin-1")
        return self.send(method.encode() + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         + headers + b"Connection: close\r\n\r\n")


def parse(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return None, {}, data
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    return int(lines[0].split()[1]), headers, body


class StaticBase(unittest.TestCase):
    def start(self, web_dir, data=None, expect_start=True):
        server = Server(data=data, args=["--set", f"web_dir={web_dir}"])
        self.addCleanup(server.cleanup)
        if expect_start:
            server.start()
            self.addCleanup(server.stop)
        return server

    def assertSecurityHeaders(self, headers, where=""):
        """headers: an http.client message or a raw {lower: [values]} dict."""
        def one(name):
            if isinstance(headers, dict):
                values = headers.get(name.lower(), [])
                self.assertEqual(len(values), 1, f"{where}: {name} {values}")
                return values[0]
            values = headers.get_all(name) or []
            self.assertEqual(len(values), 1, f"{where}: {name} {values}")
            return values[0]
        self.assertEqual(one("Content-Security-Policy"), CSP, where)
        self.assertIn("frame-ancestors 'none'", one("Content-Security-Policy"), where)
        self.assertEqual(one("X-Content-Type-Options"), "nosniff", where)
        self.assertEqual(one("Referrer-Policy"), "no-referrer", where)
        self.assertEqual(one("X-Frame-Options"), "DENY", where)
        # plain HTTP: no HSTS (a browser would ignore it, and it would be a lie)
        absent = (headers.get("strict-transport-security") if isinstance(headers, dict)
                  else headers.get("Strict-Transport-Security"))
        self.assertFalse(absent, where)

    def assertNothingLeaks(self, status, body, where, data=None):
        """status is a refusal and body holds none of the secrets, nor the
        start of any file in the data directory `data`."""
        self.assertIn(status, (400, 404, 414), f"{where}: {status} {body[:200]!r}")
        for secret in SECRETS + (file_heads(data) if data else []):
            self.assertNotIn(secret, body, where)


class StaticFiles(StaticBase):
    """web_dir is ROOT/web and the data directory is ROOT itself: the
    database, its WAL and the server's log lie right next to web_dir."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="clinicbox-static-")
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        self.web = os.path.join(self.root, "web")
        make_web(self.web, self.root)
        write(os.path.join(self.root, "outside.js"), b"// OUTSIDE-MARKER\n")
        write(os.path.join(self.root, "backup.json"), b'{"x": "OUTSIDE-MARKER"}\n')
        self.server = self.start(self.web, data=self.root)
        self.raw = Raw(self.server.port)

    def get(self, path, **kw):
        return self.server.request(kw.pop("method", "GET"), path, auth=False, check_spec=False,
                                   **kw)

    # -- what is served -----------------------------------------------------------
    def test_index_and_files_with_their_types_and_headers(self):
        for path, body, ctype in [
                ("/", INDEX, "text/html; charset=utf-8"),
                ("/index.html", INDEX, "text/html; charset=utf-8"),
                ("/app.js", APP_JS, "text/javascript; charset=utf-8"),
                ("/style.css", STYLE, "text/css; charset=utf-8"),
                ("/rebook", REBOOK, "text/html; charset=utf-8"),
                ("/rebook.html", REBOOK, "text/html; charset=utf-8"),
                ("/rebook/0b6f1c2e-aaaa-4bbb-8ccc-123456789abc", REBOOK,
                 "text/html; charset=utf-8"),
                ("/sub/inner.js", INNER, "text/javascript; charset=utf-8"),
                ("/%61pp.js", APP_JS, "text/javascript; charset=utf-8")]:
            with self.subTest(path):
                r = self.get(path)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.raw.encode(), body)
                self.assertEqual(r.headers["Content-Type"], ctype)
                self.assertEqual(r.headers["Content-Length"], str(len(body)))
                self.assertEqual(r.headers["Cache-Control"], "no-cache")
                self.assertRegex(r.headers["ETag"], r'^"[0-9a-f]+-[0-9a-f]+"$')
                self.assertSecurityHeaders(r.headers, path)

    def test_if_none_match_is_304_until_the_file_changes(self):
        r = self.get("/app.js")
        etag = r.headers["ETag"]
        for inm in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            with self.subTest(inm):
                r304 = self.get("/app.js", headers={"If-None-Match": inm})
                self.assertEqual(r304.status, 304, r304)
                self.assertEqual(r304.raw, "")
                self.assertEqual(r304.headers["ETag"], etag)
                self.assertEqual(r304.headers["Cache-Control"], "no-cache")
                self.assertSecurityHeaders(r304.headers, "304")
        self.assertEqual(self.get("/app.js", headers={"If-None-Match": '"nope"'}).status, 200)
        # The file changes: the old tag no longer matches.
        write(os.path.join(self.web, "app.js"), APP_JS + b"// v2\n")
        r2 = self.get("/app.js", headers={"If-None-Match": etag})
        self.assertEqual(r2.status, 200, r2)
        self.assertNotEqual(r2.headers["ETag"], etag)
        self.assertTrue(r2.raw.endswith("// v2\n"))

    def test_head_has_the_headers_and_no_body(self):
        get = self.get("/style.css")
        status, headers, body = self.raw.get("/style.css", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(headers["content-length"], [str(len(STYLE))])
        self.assertEqual(headers["etag"], [get.headers["ETag"]])
        self.assertEqual(headers["content-type"], ["text/css; charset=utf-8"])
        self.assertSecurityHeaders(headers, "HEAD")
        # An error answer to HEAD has no body either: the next answer on the
        # same connection is read right.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"HEAD /nope.js HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        first, _, rest = data.partition(b"\r\n\r\n")
        self.assertTrue(first.startswith(b"HTTP/1.1 404 "), data)
        status, _, body = parse(rest)
        self.assertEqual(status, 200, data)
        self.assertEqual(body, APP_JS)

    def test_size_cap(self):
        r = self.get("/exactly-max.js")
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.raw), MAX_FILE)
        r = self.get("/too-big.js")
        self.assertEqual(r.status, 404, r)
        self.assertIn("too-big.js is larger than", self.server.new_log())

    # -- what is not --------------------------------------------------------------
    def test_no_directory_listing(self):
        for path in ("/sub", "/sub/", "/sub//", "//", "/data", "/data/", "/.", "/./"):
            with self.subTest(path):
                status, headers, body = self.raw.get(path)
                self.assertNothingLeaks(status, body, path)
                self.assertNotIn(b"inner.js", body)
                self.assertNotIn(b"Index of", body)
                self.assertEqual(headers["content-type"], ["application/problem+json"])
                self.assertSecurityHeaders(headers, path)

    def test_dot_files_other_types_and_symlinks_are_404(self):
        for path in ("/.env", "/.hidden.js", "/%2eenv", "/secret.db", "/notes.bak",
                     "/clinicbox.db", "/db.js", "/db.html", "/alias.js", "/data/clinicbox.db",
                     "/INDEX.HTML", "/index.htm", "/index.html.bak", "/sub/index", "/nope.js",
                     "/nope", "/sub/nope.js", "/rebook/a/b", "/rebook/x.y", "/data/web/index.html"):
            with self.subTest(path):
                status, headers, body = self.raw.get(path)
                self.assertEqual(status, 404, body)
                self.assertNothingLeaks(status, body, path)
                self.assertSecurityHeaders(headers, path)

    def test_a_fifo_is_refused_at_once(self):
        t0 = time.monotonic()
        status, _, body = self.raw.get("/pipe.js")
        self.assertEqual(status, 404, body)
        self.assertLess(time.monotonic() - t0, 5)

    def test_odd_paths_are_400_or_404_and_never_a_file(self):
        cases = {
            "/..%2fweb%2findex.html": 400, "/a%2fb.js": 400, "/index.html%00": 400,
            "/index.html%00.txt": 400, "/%00": 400, "/app.js%00.html": 400, "/a\\app.js": 400,
            "/%5capp.js": 400, "/%zz": 400, "/%": 400, "/%4": 400, "/a%0aapp.js": 400,
            "/%c3%a4.js": 400,
            "/../outside.js": 404, "/%2e%2e/outside.js": 404, "/sub/../../outside.js": 404,
            "/../backup.json": 404, "/../web/index.html": 404, "/./index.html": 404,
            "/sub/./inner.js": 404, "/sub/../app.js": 404,
        }
        for path, want in cases.items():
            with self.subTest(path):
                status, headers, body = self.raw.get(path)
                self.assertEqual(status, want, body)
                self.assertNothingLeaks(status, body, path)
                self.assertEqual(headers["content-type"], ["application/problem+json"])
        # Raw non-ASCII bytes: civetweb refuses the request line itself.
        status, headers, body = self.raw.get("/\xc3\xa4.js")
        self.assertNothingLeaks(status, body, "raw UTF-8")
        self.assertSecurityHeaders(headers, "raw UTF-8")

    def test_the_data_directory_is_never_reachable(self):
        self.server.seed()   # a database with patients in it, and its WAL
        self.assertTrue(os.path.exists(os.path.join(self.root, "clinicbox.db-wal")))
        for path in data_paths(self.root, self.web):
            with self.subTest(path):
                status, _, body = self.raw.get(path)
                self.assertNothingLeaks(status, body, path, data=self.root)
                self.assertNotIn(b"Anna", body)
        # absolute-form request targets too
        for path in ("/../clinicbox.db", "/clinicbox.db", "/%2e%2e/clinicbox.db"):
            target = f"http://127.0.0.1:{self.server.port}{path}"
            status, _, body = self.raw.get(target)
            self.assertNotEqual(status, 200)
            for secret in SECRETS:
                self.assertNotIn(secret, body, target)

    def test_methods_other_than_get_and_head_are_405(self):
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "MKCOL"):
            with self.subTest(method):
                r = self.get("/", method=method, raw=b"x=1",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
                self.assertEqual(r.status, 405, r)
                self.assertEqual(r.headers["Allow"], "GET, HEAD")
                self.assertEqual(r.headers["Content-Type"], "application/problem+json")
                self.assertEqual(r.json["status"], 405)
                self.assertSecurityHeaders(r.headers, method)
        # Nothing was written into web_dir.
        with open(os.path.join(self.web, "index.html"), "rb") as f:
            self.assertEqual(f.read(), INDEX)
        # civetweb does not answer a CORS preflight on its own.
        status, headers, _ = self.raw.get(
            "/", method="OPTIONS",
            headers=b"Origin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n")
        self.assertEqual(status, 405)
        self.assertNotIn("access-control-allow-origin", headers)

    def test_a_long_path_is_414(self):
        status, headers, body = self.raw.get("/" + "a" * 2000 + ".js")
        self.assertEqual(status, 414, body)
        self.assertEqual(headers["content-type"], ["application/problem+json"])
        self.assertSecurityHeaders(headers, "414")
        # Longer than civetweb reads for a request line: its own error
        # answer, which carries the security headers as well.
        status, headers, body = self.raw.get("/" + "a" * 20000)
        self.assertIn(status, (400, 413, 414, 431), body[:200])
        self.assertSecurityHeaders(headers, "civetweb's own error")
        status, headers, _ = self.raw.send(b"NONSENSE\r\n\r\n")
        self.assertEqual(status, 400)
        self.assertSecurityHeaders(headers, "civetweb's own 400")

    def test_api_answers_keep_no_store_and_carry_the_headers(self):
        r = self.server.get("/api/health", auth=False)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["Cache-Control"], "no-store")
        self.assertSecurityHeaders(r.headers, "/api/health")
        for path in ("/api/nope", "/apix", "/metricsx"):
            r = self.server.get(path, check_spec=path.startswith("/api/"))
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.headers["Content-Type"], "application/problem+json")
            self.assertEqual(r.headers["Cache-Control"], "no-store")
            self.assertSecurityHeaders(r.headers, path)
        # HEAD on the API (RFC 9110, 9.3.2): the GET's status and headers,
        # Content-Length included, and no body.
        got = self.server.get("/api/health", auth=False)
        status, headers, body = self.raw.get("/api/health", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(headers["content-type"], ["application/json"])
        self.assertEqual(headers["content-length"], [str(len(got.raw.encode()))])
        self.assertEqual(headers["cache-control"], ["no-store"])
        self.assertSecurityHeaders(headers, "HEAD /api/health")
        # as the GET needs a login, so does the HEAD: 401, no body
        status, headers, body = self.raw.get("/api/clinic", method="HEAD")
        self.assertEqual(status, 401)
        self.assertEqual(body, b"")
        # a path without a GET has no HEAD either: 405, Allow names its methods
        status, headers, body = self.raw.get("/api/clock/confirm", method="HEAD")
        self.assertEqual(status, 405)
        self.assertEqual(body, b"")
        self.assertEqual(headers["allow"], ["POST"])

    def test_static_requests_are_counted(self):
        self.get("/app.js")
        self.get("/nope.js")
        m = self.server.get("/metrics")
        self.assertEqual(m.status, 200, m)
        for status in (200, 404):
            self.assertRegex(
                m.raw, rf'clinicbox_http_requests_total\{{route="static",status="{status}"\}} [1-9]')


class StaticConfig(StaticBase):
    def test_data_directory_elsewhere(self):
        """The usual layout: the data directory is not near web_dir; links
        into it are still not followed."""
        root = tempfile.mkdtemp(prefix="clinicbox-static-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        data = tempfile.mkdtemp(prefix="clinicbox-test-")
        self.addCleanup(shutil.rmtree, data, ignore_errors=True)
        web = os.path.join(root, "web")
        make_web(web, data)
        server = self.start(web, data=data)
        server.seed()
        raw = Raw(server.port)
        self.assertEqual(raw.get("/app.js")[0], 200)
        for path in data_paths(data, web):
            with self.subTest(path):
                status, _, body = raw.get(path)
                self.assertNothingLeaks(status, body, path, data=data)

    def test_web_dir_holding_the_data_directory_refuses_to_start(self):
        root = tempfile.mkdtemp(prefix="clinicbox-static-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        write(os.path.join(root, "index.html"), INDEX)
        for data in (root, os.path.join(root, "data")):
            with self.subTest(data):
                os.makedirs(data, exist_ok=True)
                server = self.start(root, data=data, expect_start=False)
                server.start(wait=False)
                rc = server.proc.wait(timeout=30)
                server.log.close()
                server.proc = None
                self.assertEqual(rc, 1)
                self.assertIn("holds the data directory", server.read_log())

    def test_missing_or_empty_web_dir_serves_only_the_api(self):
        root = tempfile.mkdtemp(prefix="clinicbox-static-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        for web in (os.path.join(root, "missing"), ""):
            with self.subTest(web=web):
                server = self.start(web)
                r = server.get("/", auth=False, check_spec=False)
                self.assertEqual(r.status, 404, r)
                self.assertSecurityHeaders(r.headers, "/")
                self.assertEqual(server.get("/api/health", auth=False).status, 200)
                if web:
                    self.assertIn("no UI files are served", server.new_log())
                server.stop()

    def test_civetweb_file_serving_and_form_handling_are_not_used(self):
        """Source guard for what no request can show: civetweb's form
        handling (CVE-2025-9648) is never called, and no document_root (its
        file serving, CVE-2025-55763) is ever configured."""
        calls = []
        for dirpath, _, files in os.walk(os.path.abspath(SRC)):
            for f in files:
                if f.endswith((".c", ".h")):
                    with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                        text = fh.read()
                    for pat in (r"mg_handle_form_request\s*\(", r'"document_root"',
                                r'"enable_directory_listing",\s*"yes"', r"mg_send_file\w*\s*\(",
                                r'"cgi_interpreter"'):
                        if re.search(pat, text):
                            calls.append((f, pat))
        self.assertEqual(calls, [])


if __name__ == "__main__":
    unittest.main()
