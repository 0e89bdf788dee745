/*
 * api.js — the one way the staff UI talks to the box: the JSON API of
 * docs/openapi.yaml, over fetch, with the session cookie.
 *
 * Every change (not GET/HEAD) carries the session's CSRF token in
 * X-CSRF-Token (docs/security.md, "CSRF"). A poll passes `background: true`
 * and is sent with `Clinicbox-Background: 1`, so that an open screen does
 * not keep an idle session alive. A GET may pass the ETag of what it
 * already has (`etag`): the answer is then 304 and `notModified` is true.
 *
 * What a caller gets back is never an exception for an HTTP status: it is
 * { status, ok, json, etag, problem, notModified }. `problem` is the
 * problem+json body of a 4xx/5xx answer (or one made up here when the
 * answer had none). Only a network failure (the box cannot be reached)
 * throws, as an ApiUnreachable; listeners of "clinicbox:reachability" learn
 * of it either way. A 401 on a route that needs a login fires
 * "clinicbox:session-ended": the app shell then asks for the password and
 * comes back to where the user was. A change refused with 403 for its
 * CSRF token is retried once with the token GET /api/session gives then.
 */

let csrfToken = "";
let csrfUser = "";

/* The session's CSRF token (GET /api/session, POST /api/session), and
 * whose session it is. */
/* Counts the sessions this page has had (each login and each end): a 401
 * to a request sent in an earlier one says nothing about the current one
 * (a screen's poll sent with the dead cookie, answered after the login
 * again), so it does not end it. */
let sessionEpoch = 0;

export function setCsrf(token, username) {
  sessionEpoch += 1;
  csrfToken = token || "";
  csrfUser = token ? username || "" : "";
}

/* A 403 from the CSRF check (src/http/authz.c: its detail names the
 * X-CSRF-Token header). */
function isCsrfRefusal(out) {
  return out.status === 403 && !!out.problem && /CSRF/.test(out.problem.detail || "");
}

/* After a login in another tab the cookie names a new session with a new
 * token: read it (GET /api/session) and take it when it is the same user's
 * session. True when the token changed. */
async function renewCsrf() {
  let r;
  try {
    r = await api("GET", "/api/session");
  } catch (e) {
    return false;
  }
  const s = r.ok && r.json;
  if (!s || !s.authenticated || s.kind !== "session" || !s.csrf_token) return false;
  if (csrfUser && s.username !== csrfUser) return false; // someone else's session: do not act as them
  if (s.csrf_token === csrfToken) return false;
  setCsrf(s.csrf_token, s.username);
  return true;
}

export class ApiUnreachable extends Error {
  constructor(cause) {
    super("the box cannot be reached");
    this.cause = cause;
  }
}

function emit(name, detail) {
  window.dispatchEvent(new CustomEvent(name, { detail }));
}

/* Routes that answer 401 as part of their job (a wrong password), not
 * because a session ended. */
const OWN_401 = new Set(["/api/session", "/api/setup", "/api/session/password"]);

/* api("POST", "/api/appointments", { body: {...} }) and so on. A change
 * refused for a stale CSRF token (the user logged in again in another
 * tab) is sent once more with the session's current token. */
export async function api(method, path, opts = {}) {
  const out = await send(method, path, opts);
  if (method !== "GET" && method !== "HEAD" && isCsrfRefusal(out) && (await renewCsrf()))
    return send(method, path, opts);
  return out;
}

async function send(method, path, opts) {
  const headers = { Accept: "application/json, application/problem+json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  if (opts.ifMatch) headers["If-Match"] = opts.ifMatch;
  if (opts.etag) headers["If-None-Match"] = opts.etag;
  if (opts.background) headers["Clinicbox-Background"] = "1";

  const epoch = sessionEpoch;
  let res;
  try {
    res = await window.fetch(path, init);
  } catch (e) {
    emit("clinicbox:reachability", { reachable: false });
    throw new ApiUnreachable(e);
  }
  emit("clinicbox:reachability", { reachable: true });

  const out = {
    status: res.status,
    ok: res.ok,
    notModified: res.status === 304,
    etag: res.headers.get("ETag"),
    json: null,
    problem: null,
  };
  const type = res.headers.get("Content-Type") || "";
  if (res.status !== 204 && res.status !== 304 && type.includes("json")) {
    try {
      out.json = await res.json();
    } catch (e) {
      out.json = null;
    }
  }
  if (res.status >= 400) {
    out.problem = type.includes("problem+json") && out.json
      ? out.json
      : { status: res.status, title: res.statusText || "Error", detail: "" };
    if (res.status === 401 && !OWN_401.has(path.split("?")[0]) && epoch === sessionEpoch)
      emit("clinicbox:session-ended", { path });
  }
  return out;
}

/* The message for a field ("start", "patient_id", ...) in a problem's
 * `errors`, or "" when it names none. */
export function fieldError(problem, field) {
  if (!problem || !Array.isArray(problem.errors)) return "";
  const e = problem.errors.find((x) => x && x.field === field);
  return e ? e.message || problem.detail || "" : "";
}

/* A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? "?" + s : "";
}
