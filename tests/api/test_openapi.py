"""docs/openapi.yaml and the server agree on the route set.

Three views of the routes are compared:
  - the spec: the `paths:` section of docs/openapi.yaml (python3-yaml);
  - the route table at the top of src/http/server.c;
  - the running binary: every spec operation is routed (it does not answer
    405, nor 404 "no such resource"), and a method no route has answers 405
    with an Allow header that lists exactly the spec's methods for that path.

Path parameters are filled with made-up UUIDs, so a 404 about the doctor,
patient or appointment not being found is expected and fine. (Every answer is
also checked against the file by the harness: tests/api/openapi_check.py.)"""
import os
import re
import unittest

import yaml

from harness import Server

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC = os.path.join(ROOT, "docs", "openapi.yaml")
SERVER_C = os.path.join(ROOT, "src", "http", "server.c")

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
NOT_FOUND_DETAILS = {"doctor not found", "patient not found", "appointment not found",
                     "notification not found", "user not found", "session not found", "token not found"}
MADE_UP_IDS = ["0192f3a4-5b6c-7d8e-9f01-23456789abcd", "0192f3a4-5b6c-7d8e-9f01-23456789abce",
               "0192f3a4-5b6c-7d8e-9f01-23456789abcf"]


def normalize(path):
    """'/api/doctors/{id}/schedule' and '/api/doctors/{}/schedule' -> the same key."""
    return re.sub(r"\{[^/{}]*\}", "{}", path)


def spec_operations(path=SPEC):
    """{(METHOD, path as written in the spec)} from the `paths:` section."""
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m in METHODS}


def table_routes(path=SERVER_C):
    """{(METHOD, pattern)} from `const struct route http_routes[] = {...};`."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"http_routes\[\]\s*=\s*\{(.*?)\n\};", text, re.S)
    if not m:
        raise AssertionError("route table not found in src/http/server.c")
    routes = set(re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"', m.group(1)))
    if not routes:
        raise AssertionError("no routes parsed from src/http/server.c")
    return routes


def fill(path):
    ids = iter(MADE_UP_IDS)
    return re.sub(r"\{[^/{}]*\}", lambda _: next(ids), path)


class SpecMatchesRouteTable(unittest.TestCase):
    """Static: the spec and src/http/server.c list the same operations."""

    def setUp(self):
        self.spec = {(m, normalize(p)) for m, p in spec_operations()}
        self.table = {(m, normalize(p)) for m, p in table_routes()}

    def test_reader_found_the_spec(self):
        self.assertGreaterEqual(len(self.spec), 10, self.spec)

    def test_every_routed_operation_is_in_the_spec(self):
        missing = sorted(self.table - self.spec)
        self.assertEqual(missing, [], "routed by server.c but not in docs/openapi.yaml")

    def test_every_spec_operation_is_in_the_route_table(self):
        extra = sorted(self.spec - self.table)
        self.assertEqual(extra, [], "in docs/openapi.yaml but not routed by server.c")


class SpecMatchesServer(unittest.TestCase):
    """Dynamic: the running binary routes what the spec lists."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.ops = sorted(spec_operations())

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.cleanup()

    def send(self, method, path):
        # Body-taking methods get an empty object: enough to get past routing
        # (a handler may then answer 400/404/422, which is fine here).
        body = {} if method in ("POST", "PUT", "PATCH") else None
        return self.server.request(method, path, body=body)

    def test_unknown_path_is_not_routed(self):
        """The signal the other tests rely on."""
        r = self.server.get("/api/no-such-thing")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json["detail"], "no such resource", r)

    def test_every_spec_operation_is_routed(self):
        for method, path in self.ops:
            url = fill(path)
            with self.subTest(op=f"{method} {path}"):
                r = self.send(method, url)
                self.assertNotEqual(r.status, 405, f"{method} {url}: {r}")
                self.assertLess(r.status, 500, f"{method} {url}: {r}")
                if r.status == 404:
                    detail = (r.json or {}).get("detail")
                    self.assertNotEqual(detail, "no such resource", f"{method} {url}: not routed")
                    self.assertIn(detail, NOT_FOUND_DETAILS, f"{method} {url}: {r}")

    def test_allow_lists_exactly_the_spec_methods(self):
        by_path = {}
        for method, path in self.ops:
            by_path.setdefault(path, set()).add(method)
        for path, methods in sorted(by_path.items()):
            url = fill(path)
            with self.subTest(path=path):
                other = next(m for m in ("DELETE", "PATCH", "PUT", "POST", "GET") if m not in methods)
                r = self.server.request(other, url)
                self.assertEqual(r.status, 405, f"{other} {url}: {r}")
                allow = {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}
                # and HEAD wherever there is a GET (RFC 9110, 9.3.2)
                self.assertEqual(allow, methods | ({"HEAD"} if "GET" in methods else set()),
                                 f"Allow of {path}")


if __name__ == "__main__":
    unittest.main()
