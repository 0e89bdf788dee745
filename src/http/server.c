/*
 * server.c — civetweb set-up, routing and the answer helpers.
 *
 * Every /api request and /metrics goes through dispatch(): it finds the
 * route (404 for an unknown path, 405 with Allow for a known path and wrong
 * method), reads and checks the body (400 for ambiguous framing or a body
 * cut short, 408 past HTTP_BODY_DEADLINE_MS, 415 for a non-JSON content
 * type, 413 past HTTP_MAX_BODY, 400 for malformed JSON or nesting deeper
 * than HTTP_MAX_DEPTH) and the query (400 for control characters in a
 * value), calls the handler and records metrics. A handler that
 * forgets to answer is caught and answered with a 500 in the log, never a
 * hung connection. Every other path is a UI file (static.c). Every answer
 * carries the security headers (headers.c).
 *
 * Connections (docs/security.md "Connection limits"): civetweb gives each
 * connection a worker of its own until it closes. Keep-alive idles end after
 * http_keep_alive_ms, request headers must be in within request_timeout_ms,
 * a body within HTTP_BODY_DEADLINE_MS, and one client address holds at most
 * http_max_connections_per_address connections (src/http/connlimit.c,
 * counted in the init_connection / connection_close callbacks).
 *
 * Threads: civetweb's worker threads (http_threads of them); nothing here is
 * shared but the read-only route table, the atomic metrics and the
 * per-address connection table (which has its own lock).
 */
#include "http/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/monotime.h"
#include "core/timefmt.h"
#include "http/authz.h"
#include "http/body.h"
#include "http/connlimit.h"
#include "http/headers.h"
#include "http/input.h"
#include "http/metrics.h"
#include "http/render.h"
#include "http/router.h"
#include "http/static.h"
#include "http/tls.h"

const struct route http_routes[] = {
    {"GET", "/api/health", h_health, 0, AUTH_PUBLIC, SCOPE_NONE},
    {"GET", "/metrics", h_metrics, 0, AUTH_ADMIN, SCOPE_NONE},
    {"GET", "/api/clinic", h_clinic_get, 0, AUTH_STAFF, SCOPE_NONE},
    {"PUT", "/api/clinic", h_clinic_put, 2, AUTH_ADMIN, SCOPE_NONE},
    {"POST", "/api/clock/confirm", h_clock_confirm, 1, AUTH_DESK, SCOPE_NONE},
    {"POST", "/api/doctors", h_doctor_create, 2, AUTH_ADMIN, SCOPE_NONE},
    {"GET", "/api/doctors", h_doctor_list, 0, AUTH_STAFF, SCOPE_NONE},
    {"GET", "/api/doctors/{}", h_doctor_get, 0, AUTH_STAFF, SCOPE_NONE},
    {"PUT", "/api/doctors/{}", h_doctor_put, 2, AUTH_ADMIN, SCOPE_NONE},
    {"GET", "/api/doctors/{}/schedule", h_schedule_get, 0, AUTH_STAFF, SCOPE_NONE},
    {"PUT", "/api/doctors/{}/schedule", h_schedule_put, 2, AUTH_ADMIN | AUTH_DOCTOR, SCOPE_DOCTOR},
    {"GET", "/api/doctors/{}/available-slots", h_available_slots, 0, AUTH_STAFF, SCOPE_NONE},
    {"POST", "/api/patients", h_patient_create, 2, AUTH_DESK, SCOPE_NONE},
    {"GET", "/api/patients", h_patient_list, 0, AUTH_DESK, SCOPE_NONE},
    {"GET", "/api/patients/{}", h_patient_get, 0, AUTH_STAFF, SCOPE_PATIENT},
    {"PUT", "/api/patients/{}", h_patient_put, 2, AUTH_DESK, SCOPE_NONE},
    {"DELETE", "/api/patients/{}", h_patient_delete, 0, AUTH_ADMIN, SCOPE_NONE},
    {"POST", "/api/appointments", h_appt_create, 2, AUTH_DESK, SCOPE_NONE},
    {"GET", "/api/appointments", h_appt_list, 0, AUTH_STAFF, SCOPE_NONE},
    {"GET", "/api/appointments/{}", h_appt_get, 0, AUTH_STAFF, SCOPE_APPOINTMENT},
    {"POST", "/api/appointments/{}/check-in", h_appt_check_in, 1, AUTH_STAFF, SCOPE_APPOINTMENT},
    {"POST", "/api/appointments/{}/complete", h_appt_complete, 1, AUTH_STAFF, SCOPE_APPOINTMENT},
    {"POST", "/api/appointments/{}/cancel", h_appt_cancel, 1, AUTH_DESK, SCOPE_NONE},
    {"POST", "/api/appointments/{}/no-show", h_appt_no_show, 1, AUTH_DESK, SCOPE_NONE},
    {"POST", "/api/appointments/{}/reschedule", h_appt_reschedule, 1, AUTH_DESK, SCOPE_NONE},
    {"POST", "/api/appointments/{}/rebook", h_appt_rebook, 2, AUTH_DESK, SCOPE_NONE},
    {"POST", "/api/offer-link", h_offer_link_view, 2, AUTH_PUBLIC, SCOPE_NONE},
    {"POST", "/api/offer-link/rebook", h_offer_link_rebook, 2, AUTH_PUBLIC, SCOPE_NONE},
    {"POST", "/api/offer-link/calendar", h_offer_link_calendar, 2, AUTH_PUBLIC, SCOPE_NONE},
    {"GET", "/api/offers", h_offer_list, 0, AUTH_DESK, SCOPE_NONE},
    {"GET", "/api/notifications", h_notification_list, 0, AUTH_DESK, SCOPE_NONE},
    {"POST", "/api/notifications/{}/retry", h_notification_retry, 1, AUTH_DESK, SCOPE_NONE},
    {"GET", "/api/sync/status", h_sync_status, 0, AUTH_DESK, SCOPE_NONE},
    {"POST", "/api/sync/run", h_sync_run, 1, AUTH_ADMIN, SCOPE_NONE},
    {"GET", "/api/session", h_session_get, 0, AUTH_PUBLIC, SCOPE_NONE},
    {"POST", "/api/session", h_session_login, 2, AUTH_PUBLIC, SCOPE_NONE},
    {"DELETE", "/api/session", h_session_logout, 0, AUTH_STAFF, SCOPE_NONE},
    {"POST", "/api/session/password", h_session_password, 2, AUTH_STAFF, SCOPE_NONE},
    {"POST", "/api/setup", h_setup, 2, AUTH_PUBLIC, SCOPE_NONE},
    {"GET", "/api/users", h_user_list, 0, AUTH_ADMIN, SCOPE_NONE},
    {"POST", "/api/users", h_user_create, 2, AUTH_ADMIN, SCOPE_NONE},
    {"PATCH", "/api/users/{}", h_user_change, 2, AUTH_ADMIN, SCOPE_NONE},
    {"GET", "/api/sessions", h_sessions_list, 0, AUTH_ADMIN, SCOPE_NONE},
    {"DELETE", "/api/sessions/{}", h_sessions_end, 0, AUTH_ADMIN, SCOPE_NONE},
    {"GET", "/api/tokens", h_token_list, 0, AUTH_ADMIN, SCOPE_NONE},
    {"POST", "/api/tokens", h_token_create, 2, AUTH_ADMIN, SCOPE_NONE},
    {"DELETE", "/api/tokens/{}", h_token_revoke, 0, AUTH_ADMIN, SCOPE_NONE},
    {"GET", "/api/audit", h_audit_list, 0, AUTH_ADMIN, SCOPE_NONE},
    {"GET", "/api/events", h_event_list, 0, AUTH_ADMIN, SCOPE_NONE},
    {"GET", "/api/tls", h_tls, 0, AUTH_ADMIN, SCOPE_NONE},
};
const int http_routes_count = sizeof http_routes / sizeof http_routes[0];

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static int route_metric[sizeof http_routes / sizeof http_routes[0]];
static int metric_unmatched;

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

/* Makes civetweb close the connection after this request instead of
 * reading the rest of the body and then the next request from it. civetweb
 * 1.15 has no call for just that: mg_send_http_error() sets its must_close
 * flag first and then writes nothing more once a response is under way
 * (request_state is past "nothing sent"), and a 304 has no body. */
void http_force_close(struct mg_connection *conn)
{
    mg_send_http_error(conn, 304, "%s", "");
}

/* Whether a GET (or HEAD) answer may be conditional (RFC 9110, 13.1.2 and
 * 13.2.2): only a 200 is replaced by a 304. */
static bool conditional_get(const req_t *r, int status)
{
    return status == 200 && r->method &&
           (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0);
}

static bool is_json_type(const char *type)
{
    return type && strncmp(type, "application/json", 16) == 0;
}

/* Every answer but a UI file's (static.c) goes out here: Cache-Control:
 * no-store and the security headers (headers.h). A HEAD request gets the
 * headers without the body.
 *
 * Conditional GET (docs/design.md, "Conditional GET"): a 200 to a GET with
 * a JSON body carries an ETag, the record's own (etag, its revision) or
 * else one made from the body's bytes; when If-None-Match matches it, the
 * answer is a 304 with that ETag and no body instead. no-store stays: the
 * client keeps the answer itself (the UI, for polling), no cache does. */
static void send_raw(req_t *r, int status, const char *type, const char *etag,
                     const char *extra_headers, const char *body, size_t len)
{
    char sec[HTTP_SECURITY_HEADERS_MAX], date[HTTP_DATE_HEADER_MAX], own[ETAG_BUF],
        tag_line[ETAG_BUF + 16] = "";
    http_security_headers(sec, sizeof sec, r->tls);
    http_date_header(date, sizeof date);
    const char *conn_close = r->close ? "Connection: close\r\n" : "";
    if (!extra_headers)
        extra_headers = "";
    if (conditional_get(r, status) && (etag || is_json_type(type))) {
        if (!etag) {
            etag_of_bytes(own, sizeof own, body, len);
            etag = own;
        }
        if (etag_none_match(mg_get_header(r->conn, "If-None-Match"), etag)) {
            r->status = 304;
            mg_printf(r->conn,
                      "HTTP/1.1 304 Not Modified\r\n%sETag: %s\r\nCache-Control: no-store\r\n"
                      "%s%s%s\r\n",
                      date, etag, sec, extra_headers, conn_close);
            if (r->close)
                http_force_close(r->conn);
            return;
        }
    }
    if (etag)
        snprintf(tag_line, sizeof tag_line, "ETag: %s\r\n", etag);
    r->status = status;
    if (status == 204) { /* no content: no Content-Length, no Content-Type */
        mg_printf(r->conn, "HTTP/1.1 204 %s\r\n%sCache-Control: no-store\r\n%s%s%s%s\r\n",
                  reason_phrase(status), date, tag_line, sec, extra_headers, conn_close);
    } else {
        mg_printf(r->conn,
                  "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "%sCache-Control: no-store\r\n%s%s%s\r\n",
                  status, reason_phrase(status), date, type, len, tag_line, sec, extra_headers,
                  conn_close);
        bool head = r->method && strcmp(r->method, "HEAD") == 0;
        if (len && !head)
            mg_write(r->conn, body, len);
    }
    if (r->close)
        http_force_close(r->conn);
}

void http_no_content(req_t *r, const char *extra_headers)
{
    send_raw(r, 204, NULL, NULL, extra_headers, NULL, 0);
}

void http_text(req_t *r, int status, const char *content_type, const char *body, size_t len)
{
    send_raw(r, status, content_type, NULL, NULL, body, len);
}

void http_text_headers(req_t *r, int status, const char *content_type, const char *extra,
                       const char *body, size_t len)
{
    send_raw(r, status, content_type, NULL, extra, body, len);
}

static void send_json(req_t *r, int status, const char *type, const char *etag,
                      const char *extra, json_t *body)
{
    if (status == 201) { /* the new record's id (a user's or token's name), for the audit */
        json_t *id = json_object_get(body, "id");
        if (!id)
            id = json_object_get(json_object_get(body, "appointment"), "id");
        if (!id)
            id = json_object_get(body, "username");
        if (!id)
            id = json_object_get(body, "name");
        if (json_is_string(id))
            snprintf(r->created, sizeof r->created, "%s", json_string_value(id));
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) {
        static const char fallback[] = "{\"title\":\"Service Unavailable\",\"status\":503}";
        send_raw(r, 503, "application/problem+json", NULL, NULL, fallback,
                 sizeof fallback - 1);
        return;
    }
    send_raw(r, status, type, etag, extra, text, strlen(text));
    free(text);
}

void http_json_headers(req_t *r, int status, json_t *body, const char *extra)
{
    send_json(r, status, "application/json", NULL, extra, body);
}

void http_json(req_t *r, int status, json_t *body)
{
    send_json(r, status, "application/json", NULL, NULL, body);
}

void http_json_etag(req_t *r, int status, json_t *body, const char *etag)
{
    send_json(r, status, "application/json", etag, NULL, body);
}

bool http_if_match(req_t *r, etag_cond *out)
{
    if (!etag_cond_parse(mg_get_header(r->conn, "If-Match"), out)) {
        http_problem(r, 400,
                     "If-Match must be * or a list of entity-tags (\"...\" as sent in ETag)",
                     "If-Match", NULL);
        return false;
    }
    /* on a change If-None-Match is a condition of the record too (RFC 9110,
     * 13.1.2); unlike on a GET, a malformed one is refused, not ignored */
    if (!etag_cond_parse_none(mg_get_header(r->conn, "If-None-Match"), out)) {
        http_problem(r, 400,
                     "If-None-Match must be * or a list of entity-tags (\"...\" as sent in ETag)",
                     "If-None-Match", NULL);
        return false;
    }
    return true;
}

void http_record_etag(req_t *r, char *etag)
{
    clinic_rec c;
    app_clinic(r->app, &c);
    etag_add_zone(etag, ETAG_BUF, c.timezone);
}

static const char *problem_slug(int status)
{
    switch (status) {
    case 400: return "bad-request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 405: return "method-not-allowed";
    case 408: return "request-timeout";
    case 409: return "conflict";
    case 410: return "gone";
    case 412: return "precondition-failed";
    case 413: return "body-too-large";
    case 414: return "uri-too-long";
    case 415: return "unsupported-media-type";
    case 422: return "unprocessable";
    case 429: return "too-many-requests";
    case 503: return "unavailable";
    default: return "internal";
    }
}

static json_t *problem_body(int status, const char *detail, const char *field, json_t *errors)
{
    char type[80];
    snprintf(type, sizeof type, "urn:clinicbox:problem:%s", problem_slug(status));
    json_t *p = json_pack("{s:s,s:s,s:i,s:s}", "type", type, "title", reason_phrase(status),
                          "status", status, "detail", detail);
    if (!errors && field && *field)
        errors = json_pack("[{s:s,s:s}]", "field", field, "message", detail);
    if (errors)
        json_object_set_new(p, "errors", errors);
    return p;
}

void http_problem(req_t *r, int status, const char *detail, const char *field, json_t *errors)
{
    send_json(r, status, "application/problem+json", NULL, NULL,
              problem_body(status, detail, field, errors));
}

void http_problem_headers(req_t *r, int status, const char *detail, const char *extra)
{
    send_json(r, status, "application/problem+json", NULL, extra,
              problem_body(status, detail, NULL, NULL));
}

void http_method_not_allowed(req_t *r, const char *allow)
{
    char hdr[96];
    snprintf(hdr, sizeof hdr, "Allow: %s\r\n", allow);
    send_json(r, 405, "application/problem+json", NULL, hdr,
              problem_body(405, "this method is not allowed here", NULL, NULL));
}

void http_svc_problem(req_t *r, const svc_err *e)
{
    json_t *p = problem_body(e->status, e->detail, e->field, NULL);
    if (e->status == SVC_CONFLICT && strcmp(e->field, "start") == 0) {
        clinic_rec clinic;
        app_clinic(r->app, &clinic);
        const tz_t *tz = tz_get(clinic.timezone);
        json_t *alt = json_array();
        for (int i = 0; i < e->nalternatives; i++)
            json_array_append_new(
                alt, json_pack("{s:o,s:o}", "start", render_time(tz, e->alternatives[i].start),
                               "end", render_time(tz, e->alternatives[i].end)));
        json_object_set_new(p, "alternatives", alt);
        json_object_set_new(p, "type", json_string("urn:clinicbox:problem:slot-taken"));
    }
    char extra[40] = "";
    if (e->retry_after > 0)
        snprintf(extra, sizeof extra, "Retry-After: %d\r\n", e->retry_after);
    send_json(r, e->status ? e->status : 503, "application/problem+json", NULL, extra, p);
}

bool http_query(req_t *r, const char *name, char *out, size_t len)
{
    /* A value is never longer than the whole query string. One longer than
     * out is cut to fit: every caller validates the value, and a cut one
     * fails that (too long, not a number, not an id), never passes as absent. */
    if (!r->query || len == 0)
        return false;
    size_t qlen = strlen(r->query);
    char *buf = malloc(qlen + 1);
    if (!buf)
        return false;
    int n = mg_get_var(r->query, qlen, name, buf, qlen + 1);
    if (n >= 0)
        snprintf(out, len, "%s", buf);
    free(buf);
    return n >= 0;
}

/* An answer given before the whole body was read: the connection is closed
 * after it (what is left of the body must not be read as a next request). */
static int body_problem(req_t *r, int status, const char *detail)
{
    r->close = true;
    http_problem(r, status, detail, NULL, NULL);
    return status;
}

/* Refuses ambiguous framing (body.h): civetweb would silently prefer
 * chunked and read only the first Content-Length. */
static int check_framing(req_t *r, const struct mg_request_info *ri)
{
    const char *detail = NULL;
    int status = http_body_framing(ri->http_headers, ri->num_headers, &detail);
    return status ? body_problem(r, status, detail) : 0;
}

/* Bytes asked of one mg_read(). civetweb keeps a read going while bytes
 * keep coming (each within request_timeout_ms) until it has them all, so
 * small pieces bound how long a client that trickles a body can keep one
 * read past the deadline. */
#define HTTP_BODY_PIECE 1

bool http_drain_body(req_t *r)
{
    const struct mg_request_info *ri = mg_get_request_info(r->conn);
    long long left = ri->content_length;
    if (mg_get_header(r->conn, "Transfer-Encoding") || left > HTTP_MAX_BODY)
        return false;
    int64_t deadline = monotime_ms() + HTTP_BODY_DEADLINE_MS;
    char buf[512];
    while (left > 0) {
        /* small pieces, as in read_body(): a trickle cannot stretch a read */
        size_t want = left < (long long)sizeof buf ? (size_t)left : sizeof buf;
        if (want > 64)
            want = 64;
        int n = mg_read(r->conn, buf, want);
        if (n <= 0 || monotime_ms() > deadline)
            return false;
        left -= n;
    }
    return true;
}

/* Reads and parses the body. Returns 0, or the status it answered with.
 * The handler is called only when the whole body arrived: all
 * Content-Length bytes, or a chunked body up to its last (0) chunk. */
static int read_body(req_t *r, const struct mg_request_info *ri, int mode)
{
    long long declared = ri->content_length;
    const char *te = mg_get_header(r->conn, "Transfer-Encoding");
    bool chunked = te && strcasecmp(te, "chunked") == 0;
    char *buf = NULL;
    size_t len = 0;
    char msg[300];

    int framing = check_framing(r, ri);
    if (framing)
        return framing;
    if (declared > HTTP_MAX_BODY) {
        snprintf(msg, sizeof msg, "the body is larger than %d bytes", HTTP_MAX_BODY);
        return body_problem(r, 413, msg);
    }
    if (declared < 0 && !chunked)
        declared = 0; /* neither: no body (civetweb reads none either) */
    /* Room for the declared length, or for the cap + 1 (chunked). */
    size_t cap = chunked ? HTTP_MAX_BODY + 1 : (size_t)declared;
    buf = malloc(cap + 1);
    if (!buf) {
        http_problem(r, 503, "out of memory", NULL, NULL);
        return 503;
    }
    /* civetweb's mg_read() waits up to request_timeout_ms (= the deadline)
     * for data; with Content-Length it returns 0 both at the end and when
     * nothing came in time, and -1 once the client closed: the outcome is
     * judged by the bytes that came. Chunked, it returns 0 only after the
     * last chunk and -1 for a broken or cut chunked body. The deadline is
     * checked after every read. */
    int64_t deadline = monotime_ms() + HTTP_BODY_DEADLINE_MS;
    bool complete = false, broken = false;
    while (!complete && !broken) {
        if (!chunked && len == (size_t)declared) {
            complete = true;
            break;
        }
        size_t want = cap - len;
        /* A small piece: a Content-Length read returns once the piece is in,
         * so a client that trickles bytes cannot keep one read going for
         * long past the deadline. */
        if (want > HTTP_BODY_PIECE)
            want = HTTP_BODY_PIECE;
        int n = mg_read(r->conn, buf + len, want);
        if (n > 0) {
            len += (size_t)n;
            if (chunked && len > HTTP_MAX_BODY) {
                free(buf);
                snprintf(msg, sizeof msg, "the body is larger than %d bytes", HTTP_MAX_BODY);
                return body_problem(r, 413, msg);
            }
        } else if (n == 0 && chunked) {
            complete = true; /* after the last chunk */
        } else if (n < 0) {
            broken = true; /* connection closed or failed, or a broken chunk */
        }
        /* n == 0 with Content-Length: nothing came within request_timeout_ms */
        if (!complete && monotime_ms() >= deadline) {
            free(buf);
            snprintf(msg, sizeof msg, "the body did not arrive within %d seconds",
                     HTTP_BODY_DEADLINE_MS / 1000);
            return body_problem(r, 408, msg);
        }
    }
    if (!complete) {
        free(buf);
        return body_problem(r, 400,
                            chunked ? "the chunked body ended before its last chunk"
                                    : "the body ended before its declared Content-Length");
    }
    int status = http_body_parse(buf, len, mode, mg_get_header(r->conn, "Content-Type"),
                                 &r->body, msg, sizeof msg);
    free(buf);
    if (status)
        http_problem(r, status, msg, NULL, NULL);
    return status;
}

/* Refuses a query whose values, once decoded, hold a NUL or another
 * control character (one-line rules of input_text_ok()): "%00" would
 * otherwise cut a value short into a valid one. 400 naming the parameter. */
static bool query_ok(req_t *r)
{
    const char *q = r->query;
    if (!q)
        return true;
    size_t qlen = strlen(q);
    char *val = malloc(qlen + 1);
    if (!val) {
        http_problem(r, 503, "out of memory", NULL, NULL);
        return false;
    }
    bool ok = true;
    while (ok && *q) {
        size_t plen = strcspn(q, "&");
        const char *eq = memchr(q, '=', plen);
        if (eq) {
            const char *v = eq + 1;
            int n = mg_url_decode(v, (int)(q + plen - v), val, (int)qlen + 1, 1);
            if (n >= 0 && !input_text_ok(val, (size_t)n, false)) {
                char name[65], msg[160];
                size_t nlen = (size_t)(eq - q) < sizeof name - 1 ? (size_t)(eq - q)
                                                                   : sizeof name - 1;
                for (size_t i = 0; i < nlen; i++) /* as sent: printable ASCII */
                    name[i] = (q[i] > 0x20 && q[i] < 0x7F) ? q[i] : '?';
                name[nlen] = '\0';
                snprintf(msg, sizeof msg,
                         "%s must not contain NUL or other control characters (%%00-%%1F, "
                         "%%7F, U+0080-U+009F)",
                         name);
                http_problem(r, 400, msg, name, NULL);
                ok = false;
            }
        }
        q += plen;
        if (*q == '&')
            q++;
    }
    free(val);
    return ok;
}

void http_req_init(req_t *r, struct mg_connection *conn, app_t *app)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    memset(r, 0, sizeof *r);
    r->conn = conn;
    r->app = app;
    r->method = ri->request_method;
    r->query = ri->query_string;
    r->now = app_now();
    r->tls = ri->is_ssl != 0;
    r->address = ri->remote_addr;
    snprintf(r->actor, sizeof r->actor, "anonymous");
}

/* Whether a request's method is a route's: HEAD is served by every GET
 * route, as the GET without its body (RFC 9110, 9.3.2; send_raw() leaves
 * the body out and keeps the headers, Content-Length included). */
static bool method_matches(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

/* Appends a method to a 405's Allow list ("GET, HEAD, PUT"). */
static void allow_add(char *allow, size_t size, const char *method)
{
    size_t n = strlen(allow);
    if (n + strlen(method) + 3 < size)
        snprintf(allow + n, size - n, "%s%s", n ? ", " : "", method);
}

static int dispatch(struct mg_connection *conn, void *cbdata)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct timespec t0, t1;
    req_t r;
    int metric = metric_unmatched;
    bool path_known = false;
    char allow[64] = "";

    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_req_init(&r, conn, cbdata);

    const struct route *route = NULL;
    for (int i = 0; i < http_routes_count; i++) {
        if (!ri->local_uri_raw ||
            !http_route_match(http_routes[i].pattern, ri->local_uri_raw, r.params,
                              HTTP_MAX_PARAMS))
            continue;
        path_known = true;
        if (method_matches(http_routes[i].method, r.method)) {
            route = &http_routes[i];
            metric = route_metric[i];
            break;
        }
        allow_add(allow, sizeof allow, http_routes[i].method);
        if (strcmp(http_routes[i].method, "GET") == 0)
            allow_add(allow, sizeof allow, "HEAD");
    }
    if (!authz_host_ok(&r)) {
        /* answered */
    } else if (!route && path_known) {
        http_method_not_allowed(&r, allow);
    } else if (!route) {
        http_problem(&r, 404, "no such resource", NULL, NULL);
    } else if (authz_request(&r, route) == 0 && read_body(&r, ri, route->body) == 0 &&
               query_ok(&r)) {
        route->fn(&r);
        if (!r.status) {
            log_error("http", "%s %s: handler gave no answer", r.method, route->pattern);
            http_problem(&r, 500, "internal error", NULL, NULL);
        }
    }
    if (route)
        http_audit(&r, route); /* reads r.body for a login's username */
    json_decref(r.body);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    metrics_request(metric, r.status, secs);
    if (r.status >= 500)
        log_warn("http", "%s %s -> %d", r.method, ri->local_uri, r.status);
    else
        log_debug("http", "%s %s -> %d (%.1f ms)", r.method, ri->local_uri, r.status, secs * 1e3);
    return r.status;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    /* A TLS handshake refused by the connection cap fails: already logged
     * (src/http/connlimit_tls.c). */
    if (connlimit_tls_refusing())
        return 1;
    log_warn("civetweb", "%s", message);
    return 1;
}

/* Registers the handlers from civetweb's init_context callback, which runs
 * before it accepts connections: registered after mg_start() returned, a
 * request that came in between (a client polling /api/health at start-up)
 * was answered with civetweb's own plain-text 404. */
static void register_handlers(const struct mg_context *cctx)
{
    struct mg_context *ctx = (struct mg_context *)cctx; /* the callback's type only */
    void *app = mg_get_user_data(cctx);
    mg_set_request_handler(ctx, "/api", dispatch, app);
    mg_set_request_handler(ctx, "/metrics", dispatch, app);
    /* Everything else: the UI's files. Registered last, so that it is the
     * last of civetweb's prefix matches ("/apix" is still dispatch's 404). */
    mg_set_request_handler(ctx, "/", http_static_handler, app);
}

struct mg_context *http_start(app_t *app)
{
    char threads[16], keep_alive[16];
    static char route_names[sizeof http_routes / sizeof http_routes[0]][80];
    struct mg_callbacks cb;

    for (int i = 0; i < http_routes_count; i++) {
        snprintf(route_names[i], sizeof route_names[i], "%s %s", http_routes[i].method,
                 http_routes[i].pattern);
        route_metric[i] = metrics_route(route_names[i]);
    }
    metric_unmatched = metrics_route("unmatched");
    snprintf(threads, sizeof threads, "%d", app->cfg.http_threads);
    snprintf(keep_alive, sizeof keep_alive, "%d", app->cfg.http_keep_alive_ms);
    if (!http_static_init(app))
        return NULL;
    /* civetweb's own error answers (a malformed request line, headers too
     * large) carry the security headers too. */
    static char security_headers[HTTP_SECURITY_HEADERS_MAX];
    http_security_headers(security_headers, sizeof security_headers, http_tls_enabled(app));
    /* No document_root: civetweb serves no file itself (Debian's 1.15 has
     * CVE-2025-55763 in that path); every path has a handler above, and
     * without a root civetweb would answer 404. Directory listing, CGI and
     * SSI are off as well, should a root ever be set; Debian's build has no
     * Lua or Duktape (mg_check_feature), so there is nothing of theirs to
     * turn off, and civetweb refuses their options. Paths are not decoded
     * (decode_url): the router and webpath.c see "%2F", "%00" and "%2e" as
     * sent. access_control_allow_methods empty: civetweb does not answer
     * CORS preflights itself (with "*" it would allow any origin). Its form
     * handling (mg_handle_form_request, CVE-2025-9648) is never called. */
    const char *options[40] = {"listening_ports", app->cfg.listen,
                               "num_threads", threads,
                               "enable_keep_alive", "yes",
                               /* how long a connection may idle after an
                                * answer, its next request's headers included */
                               "keep_alive_timeout_ms", keep_alive,
                               /* also the limit for a connection's first
                                * request headers to arrive (counted from the
                                * start of waiting for them) and for a write
                                * to make progress */
                               "request_timeout_ms", STRINGIFY(HTTP_BODY_DEADLINE_MS),
                               "tcp_nodelay", "1",
                               "decode_url", "no",
                               "enable_directory_listing", "no",
                               "cgi_pattern", "",
                               "ssi_pattern", "",
                               "access_control_allow_methods", "",
                               "additional_header", security_headers,
                               NULL};
    memset(&cb, 0, sizeof cb);
    cb.log_message = log_message;
    cb.init_context = register_handlers;
    if (app->cfg.http_max_connections_per_address > 0 &&
        !connlimit_install(&cb, app->cfg.http_threads,
                           app->cfg.http_max_connections_per_address)) {
        log_error("http", "out of memory");
        return NULL;
    }
    int nopt = 0;
    while (options[nopt])
        nopt++;
    /* With TLS on, civetweb must have loaded OpenSSL (at run time, by the
     * names libssl.so and libcrypto.so, src/shim/): never plain HTTP instead. */
    unsigned want = app->cfg.tls ? MG_FEATURES_TLS : 0;
    if ((mg_init_library(want) & want) != want) {
        log_error("http", "tls is on but civetweb could not load OpenSSL (as libssl.so and "
                          "libcrypto.so: the shims in clinicbox's lib/clinicbox over libssl3, "
                          "src/shim/): not starting (tls = off serves plain HTTP)");
        mg_exit_library();
        connlimit_uninstall();
        return NULL;
    }
    if (!http_tls_prepare(&app->cfg, app_now(), options, &nopt,
                          (int)(sizeof options / sizeof options[0]))) {
        mg_exit_library();
        connlimit_uninstall();
        return NULL;
    }
    char why[256] = "";
    struct mg_init_data init = {&cb, app, options};
    struct mg_error_data error = {NULL, why, sizeof why};
    struct mg_context *ctx = mg_start2(&init, &error);
    http_tls_forget_key();
    if (!ctx && app->cfg.tls && strstr(why, "SSL")) {
        log_error("http", "cannot start HTTPS on %s: %s (the lines above say why)",
                  app->cfg.listen, why);
    } else if (!ctx) {
        log_error("http", "cannot listen on %s (in use, or not a valid ADDR:PORT?)",
                  app->cfg.listen);
    } else if (!http_tls_redirect_start(&app->cfg)) {
        mg_stop(ctx);
        ctx = NULL;
    }
    if (!ctx) {
        mg_exit_library();
        connlimit_uninstall();
    }
    return ctx;
}

void http_stop(struct mg_context *ctx)
{
    if (!ctx)
        return;
    http_tls_stop();
    mg_stop(ctx);
    mg_exit_library();
    connlimit_uninstall();
}

const tz_t *http_clinic_tz(req_t *r)
{
    clinic_rec c;
    app_clinic(r->app, &c);
    const tz_t *tz = tz_get(c.timezone);
    return tz ? tz : tz_get("UTC");
}

bool http_query_time(req_t *r, const char *name, bool end_of_day, int64_t *out, bool *present)
{
    char v[80], msg[200];
    int y, m, d;
    *present = http_query(r, name, v, sizeof v);
    if (!*present)
        return true;
    if (timefmt_parse_rfc3339(v, out))
        return true;
    if (timefmt_parse_date(v, &y, &m, &d)) {
        const tz_t *tz = http_clinic_tz(r);
        *out = tz_local_to_utc(tz, y, m, d, end_of_day ? 86400 : 0);
        return true;
    }
    snprintf(msg, sizeof msg, "%s must be a date (YYYY-MM-DD) or an RFC 3339 date-time", name);
    http_problem(r, 400, msg, name, NULL);
    return false;
}

bool http_verr_answer(req_t *r, verr_t *v)
{
    if (!v->status) {
        verr_free(v);
        return false;
    }
    json_t *first = json_array_get(v->errors, 0);
    const char *field = json_string_value(json_object_get(first, "field"));
    const char *message = json_string_value(json_object_get(first, "message"));
    char detail[400];
    snprintf(detail, sizeof detail, "%s %s%s", field ? field : "", message ? message : "",
             json_array_size(v->errors) > 1 ? " (and more, see errors)" : "");
    http_problem(r, v->status, detail, NULL, v->errors);
    v->errors = NULL;
    return true;
}

bool http_query_int(req_t *r, const char *name, long min, long max, long *out)
{
    char v[32], msg[160];
    if (!http_query(r, name, v, sizeof v))
        return true;
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno) {
        snprintf(msg, sizeof msg, "%s must be a whole number", name);
        http_problem(r, 400, msg, name, NULL);
        return false;
    }
    if (x < min || x > max) {
        snprintf(msg, sizeof msg, "%s must be from %ld to %ld", name, min, max);
        http_problem(r, 422, msg, name, NULL);
        return false;
    }
    *out = x;
    return true;
}

bool http_empty_body(req_t *r)
{
    static const char *const none[] = {NULL};
    verr_t v;
    verr_init(&v);
    if (r->body)
        in_only(r->body, none, &v);
    return !http_verr_answer(r, &v);
}
