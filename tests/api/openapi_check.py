"""Checks an HTTP answer of the server against docs/openapi.yaml.

harness.Server.request() calls check() for every answer it receives, so every
API test also proves that the file describes what the server does:

  - the operation (method + path, `{id}` matching one segment of id
    characters as the server's router does) is in the file; a path the file
    does not have must be answered 404, a method a path does not have 405
    with an `Allow` header that lists the file's methods, both as problems;
  - the status is documented for the operation (or covered by `4XX`/`5XX`
    or `default`);
  - the Content-Type is one documented for that status, and an answer that
    documents no content has no body;
  - the body validates against the schema (JSON Schema 2020-12, which
    OpenAPI 3.1 uses), with `$ref`s resolved inside the file;
  - response headers the file marks as required are present.

Paths outside `/api` and `/metrics` are not API calls (the server's router
does not see them) and are not checked.

The validator is python3-jsonschema (Debian's package; 4.10 in Debian 12 and
newer versions alike); the file is read with python3-yaml. Both are read once
per process, and each schema's validator is built once.
"""
import json
import os
import posixpath
import re
import urllib.parse

import jsonschema
import yaml

SPEC_PATH = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "openapi.yaml"))
BASE_URI = "urn:clinicbox:openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Where the server's router hands over requests (src/http/server.c, http_start).
API_PREFIXES = ("/api", "/metrics")

# RFC 3339 date-time with a required offset, checked without the optional
# rfc3339-validator module that jsonschema would otherwise need for it.
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _pointer(*parts):
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class Spec:
    def __init__(self, path=SPEC_PATH):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.routes = []  # (regex, path template, path item)
        for template, item in self.doc.get("paths", {}).items():
            rx = "".join("[A-Za-z0-9_-]+" if re.fullmatch(r"\{[^/{}]+\}", part) else re.escape(part)
                         for part in re.split(r"(\{[^/{}]+\})", template))
            self.routes.append((re.compile(rx + r"\Z"), template, item))
        self.format_checker = jsonschema.FormatChecker()
        self.format_checker.checks("date-time")(lambda v: not isinstance(v, str) or bool(_DATE_TIME.match(v)))
        self._validators = {}
        self._make = self._validator_factory()

    # -- $ref resolution ------------------------------------------------------
    def _validator_factory(self):
        cls = jsonschema.Draft202012Validator
        try:  # jsonschema >= 4.18
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012
            registry = Registry().with_resource(
                BASE_URI, Resource.from_contents(self.doc, default_specification=DRAFT202012))
            return lambda schema: cls(schema, registry=registry, format_checker=self.format_checker)
        except ImportError:  # jsonschema 4.10 (Debian 12)
            resolver = jsonschema.RefResolver(BASE_URI, self.doc)
            return lambda schema: cls(schema, resolver=resolver, format_checker=self.format_checker)

    def deref(self, node, where):
        """Follows a local $ref of a response or header object; returns the
        node and its JSON pointer in the file."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or seen > 10:
                raise AssertionError(f"docs/openapi.yaml: cannot follow $ref {ref!r} at {where}")
            where = ref
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            seen += 1
        return node, where

    def validate(self, where, instance):
        """Validates instance against the schema at JSON pointer `where`;
        returns the validator's message, or None."""
        v = self._validators.get(where)
        if v is None:
            v = self._validators[where] = self._make({"$ref": BASE_URI + where})
        error = jsonschema.exceptions.best_match(v.iter_errors(instance))
        if error is None:
            return None
        at = "".join(f"[{p!r}]" for p in error.absolute_path) or "the body"
        keyword = "/".join(str(p) for p in error.absolute_schema_path)
        return f"{at}: {error.message} (schema {where}, at {keyword})"

    # -- the check ---------------------------------------------------------------
    def find(self, path):
        """(template, path item) the path matches, or (None, None)."""
        for rx, template, item in self.routes:
            if rx.match(path):
                return template, item
        return None, None

    def check(self, method, target, status, headers, body):
        """Raises AssertionError when the answer does not match the file."""
        path = urllib.parse.unquote(urllib.parse.urlsplit(target).path)
        # civetweb removes dot segments before it picks a handler: what then
        # lies outside /api and /metrics never reaches the router.
        if not posixpath.normpath(path).startswith(API_PREFIXES):
            return
        where_msg = f"{method} {target} -> {status}"
        template, item = self.find(path)
        if method.upper() == "HEAD":  # an answer without its body
            body = None
        if item is None:
            self._check_problem(where_msg, status, headers, body, 404)
            return
        op = item.get(method.lower())
        if op is None and method.upper() == "HEAD":
            # every GET answers HEAD too, as the GET without its body (RFC
            # 9110, 9.3.2; the file's info says so): its headers are the GET's
            op = item.get("get")
        if op is None or method.lower() not in METHODS:
            self._check_problem(where_msg, status, headers, body, 405)
            allow = {m.strip() for m in (headers.get("Allow") or "").split(",") if m.strip()}
            documented = {m.upper() for m in item if m in METHODS}
            if "GET" in documented:
                documented.add("HEAD")
            if allow != documented:
                raise AssertionError(f"{where_msg}: Allow {sorted(allow)} is not the file's "
                                     f"methods {sorted(documented)} of {template}")
            return
        base = _pointer("paths", template, method.lower(), "responses")
        responses = op.get("responses", {})
        key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
        if key is None:
            raise AssertionError(f"{where_msg}: status {status} is not documented for "
                                 f"{method} {template} (documented: {', '.join(responses)})")
        resp, rwhere = self.deref(responses[key], base + "/" + key)
        for name, h in (resp.get("headers") or {}).items():
            h, _ = self.deref(h, rwhere)
            if h.get("required") and headers.get(name) is None:
                raise AssertionError(f"{where_msg}: required header {name} is missing")
        content = resp.get("content")
        if body is None:
            return
        if not content:
            if body:
                raise AssertionError(f"{where_msg}: the file documents no body, got {body[:200]!r}")
            return
        ctype = headers.get("Content-Type")
        media = self._media_key(content, ctype)
        if media is None:
            raise AssertionError(f"{where_msg}: Content-Type {ctype!r} is not documented "
                                 f"(documented: {', '.join(content)})")
        schema_at = _pointer(*[p.replace("~1", "/").replace("~0", "~") for p in rwhere[2:].split("/")],
                             "content", media, "schema")
        if "schema" not in content[media]:
            return
        if _is_json(media):
            try:
                instance = json.loads(body)
            except ValueError as e:
                raise AssertionError(f"{where_msg}: the body is not JSON ({e}): {body[:200]!r}")
        else:
            instance = body
        message = self.validate(schema_at, instance)
        if message:
            raise AssertionError(f"{where_msg}: the body does not match docs/openapi.yaml: {message}\n"
                                 f"body: {body[:1000]}")

    @staticmethod
    def _media_key(content, ctype):
        if not ctype:
            return None
        norm = lambda t: ";".join(p.strip() for p in t.lower().split(";"))
        for key in content:
            if norm(key) == norm(ctype):
                return key
        base = norm(ctype).split(";")[0]
        for key in content:
            if norm(key) == base:  # documented without parameters: any parameters
                return key
        return None

    def _check_problem(self, where_msg, status, headers, body, expected):
        if status != expected:
            raise AssertionError(f"{where_msg}: {'no path' if expected == 404 else 'no method'} in "
                                 f"docs/openapi.yaml matches; the server must answer {expected}")
        if headers.get("Content-Type") != "application/problem+json":
            raise AssertionError(f"{where_msg}: Content-Type {headers.get('Content-Type')!r}, "
                                 "not application/problem+json")
        if body is None:
            return
        try:
            instance = json.loads(body)
        except ValueError as e:
            raise AssertionError(f"{where_msg}: the body is not JSON ({e})")
        message = self.validate("#/components/schemas/Problem", instance)
        if message:
            raise AssertionError(f"{where_msg}: not a Problem: {message}")


def _is_json(media):
    base = media.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


_spec = None


def spec():
    global _spec
    if _spec is None:
        _spec = Spec()
    return _spec


def check(method, target, status, headers, body):
    spec().check(method, target, status, headers, body)
