/*
 * http.h — what a resource handler sees: the request, the parsed body, and
 * the ways to answer. Handlers are thin: parse and validate input (input.h),
 * call a service function, render the result (render.h).
 *
 * Threads: handlers run on civetweb's worker threads, one request each.
 */
#ifndef CLINICBOX_HTTP_H
#define CLINICBOX_HTTP_H

#include <civetweb.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "auth/roles.h"
#include "service/app.h"
#include "core/etag.h"
#include "core/tz.h"
#include "http/input.h"
#include "store/audit.h"
#include "http/router.h"
#include "store/records.h"

#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_MAX_DEPTH 32
#define HTTP_MAX_PARAMS 3
/* The whole request body must be in within this many milliseconds of the
 * handler starting to read it, else 408 (docs/design.md). civetweb's
 * request_timeout_ms is set to the same value, so one stalled read cannot
 * wait much longer. */
#define HTTP_BODY_DEADLINE_MS 5000

typedef struct req {
    struct mg_connection *conn;
    app_t *app;
    const char *method;
    const char *query;
    char params[HTTP_MAX_PARAMS][HTTP_ROUTE_PARAM_LEN]; /* the {} parts of the route */
    json_t *body;                     /* NULL when the request had none */
    char actor[ACTOR_MAX_LEN + 1]; /* who.kind as text: user:NAME, token:NAME, ... */
    principal_t who;                /* anonymous until authz_identify() */
    bool tls;                       /* the connection is HTTPS */
    const char *address;            /* the client's IP address */
    int64_t now;
    int status; /* what was answered */
    bool close; /* answered before the whole body was read: close after it */
    bool host_refused; /* the Host or Origin did not name this box (403) */
    char created[ID_LEN]; /* the id a 201 answer carried, for the audit trail */
    char target[ID_LEN + 16]; /* "kind:ID" a handler of a route without {} acted
                                 on (the patient link), for the audit trail */
} req_t;

typedef void (*handler_fn)(req_t *r);

/* A request as the handlers see it, from civetweb's connection: anonymous
 * until authz_request() says who it is. */
void http_req_init(req_t *r, struct mg_connection *conn, app_t *app);
/* Answers with a JSON body (stolen). A 200 to a GET carries an ETag made
 * from the body's bytes, and is a 304 when If-None-Match matches it
 * (server.c, send_raw). */
void http_json(req_t *r, int status, json_t *body);
/* Answers with a JSON body (stolen) and the record's own ETag header
 * (etag.h), which If-None-Match is compared with on a GET. */
void http_json_etag(req_t *r, int status, json_t *body, const char *etag);
/* Reads the If-Match header into out (out->present false when not sent);
 * answers 400 and returns false when it is malformed. */
bool http_if_match(req_t *r, etag_cond *out);

/* Appends the clinic's time zone mark to a record's tag (etag_add_zone):
 * for the answers that write times in that zone (etag.h). */
void http_record_etag(req_t *r, char *etag);
/* Answers with a JSON body (stolen) and extra header lines ("Name: v\r\n"). */
void http_json_headers(req_t *r, int status, json_t *body, const char *extra);
/* Answers a problem with extra header lines. */
void http_problem_headers(req_t *r, int status, const char *detail, const char *extra);
/* Reads and drops a request body that is not going to be used (an answer
 * refused before it was read), so that the client can finish sending and
 * read the answer, and the connection stays usable: true when it all came
 * within the body deadline. Chunked or over HTTP_MAX_BODY: false at once. */
bool http_drain_body(req_t *r);
/* Answers 204 with extra header lines (or NULL). */
void http_no_content(req_t *r, const char *extra_headers);
/* Answers with plain text. */
void http_text(req_t *r, int status, const char *content_type, const char *body, size_t len);
/* The same with extra header lines ("Name: v\r\n"). */
void http_text_headers(req_t *r, int status, const char *content_type, const char *extra,
                       const char *body, size_t len);
/* Answers application/problem+json. field may be NULL; errors (stolen) may
 * be NULL or an array of {field, message}. */
void http_problem(req_t *r, int status, const char *detail, const char *field, json_t *errors);
/* Answers 405 (problem+json) with an Allow header listing allow ("GET, HEAD"). */
void http_method_not_allowed(req_t *r, const char *allow);
/* Makes civetweb close the connection once this answer is out. */
void http_force_close(struct mg_connection *conn);
/* Answers the problem a service function reported, with its alternatives. */
void http_svc_problem(req_t *r, const svc_err *e);

/* Copies query parameter `name` (URL-decoded, cut to fit); false if absent. */
bool http_query(req_t *r, const char *name, char *out, size_t len);

/* The route table, for the server (server.c) and the handler files. */
struct route {
    const char *method;
    const char *pattern; /* "/api/doctors/{}/schedule" */
    handler_fn fn;
    int body; /* 0: ignored, 1: optional JSON object, 2: required JSON object */
    unsigned roles;        /* AUTH_* bits (auth/roles.h); 0 denies everyone */
    enum auth_scope scope; /* what a doctor's {} must belong to */
};

extern const struct route http_routes[];
extern const int http_routes_count;

/* Handlers (h_*.c) */
void h_health(req_t *r);
void h_metrics(req_t *r);
void h_clinic_get(req_t *r);
void h_clinic_put(req_t *r);
void h_clock_confirm(req_t *r);
void h_doctor_create(req_t *r);
void h_doctor_list(req_t *r);
void h_doctor_get(req_t *r);
void h_doctor_put(req_t *r);
void h_schedule_get(req_t *r);
void h_schedule_put(req_t *r);
void h_available_slots(req_t *r);
void h_patient_create(req_t *r);
void h_patient_list(req_t *r);
void h_patient_get(req_t *r);
void h_patient_put(req_t *r);
void h_patient_delete(req_t *r);
void h_appt_create(req_t *r);
void h_appt_list(req_t *r);
void h_appt_get(req_t *r);
void h_appt_check_in(req_t *r);
void h_appt_complete(req_t *r);
void h_appt_cancel(req_t *r);
void h_appt_no_show(req_t *r);
void h_appt_reschedule(req_t *r);
void h_appt_rebook(req_t *r);
void h_offer_link_view(req_t *r);
void h_offer_link_rebook(req_t *r);
void h_offer_link_calendar(req_t *r);
void h_notification_list(req_t *r);
void h_offer_list(req_t *r);
void h_notification_retry(req_t *r);
/* The "outbox" object of /api/health, and its lines in /metrics. */
json_t *h_outbox_health(req_t *r, bool *ok);
void h_outbox_metrics(req_t *r, FILE *f);
void h_audit_list(req_t *r);
void h_event_list(req_t *r);
void h_sync_status(req_t *r);
void h_sync_run(req_t *r);
/* The "sync" object of /api/health (and of GET /api/sync/status), and its
 * lines in /metrics. */
json_t *h_sync_json(req_t *r);
void h_sync_metrics(req_t *r, FILE *f);

/* Sessions, users, tokens (h_session.c, h_users.c) */
void h_session_get(req_t *r);
void h_session_login(req_t *r);
void h_session_logout(req_t *r);
void h_session_password(req_t *r);
void h_setup(req_t *r);
void h_user_list(req_t *r);
void h_user_create(req_t *r);
void h_user_change(req_t *r);
void h_sessions_list(req_t *r);
void h_sessions_end(req_t *r);
void h_token_list(req_t *r);
void h_token_create(req_t *r);
void h_token_revoke(req_t *r);
/* The session cookie's name: __Host-clinicbox under TLS (RFC 6265bis). */
const char *http_cookie_name(const req_t *r);
/* The audit trail (audit_hook.c; docs/security.md, "Audit trail").
 * http_audit_describe() decides what of a request is recorded: true for a
 * change or attempted change (any method but GET and HEAD) and for a read
 * of patient data (see the list there), with e->action, e->target and
 * e->detail filled in. Pure; r->conn is not used. */
bool http_audit_describe(const req_t *r, const struct route *route, audit_entry *e);
/* Records the request after its handler answered, when it is to be audited:
 * the acting user, the client's address, the status as outcome. dispatch()
 * calls it for every routed request. */
void http_audit(req_t *r, const struct route *route);
/* Records an event that is not the route's own outcome (the session
 * routes are recorded by name already, see audit_hook.c): who and from
 * where come from r; the strings are cut to fit, non-printable bytes '?'. */
void http_audit_event(req_t *r, const char *action, const char *target, const char *outcome,
                      const char *detail);

/* Starts civetweb on cfg.listen with the routes. NULL (logged) on failure. */
struct mg_context *http_start(app_t *app);
void http_stop(struct mg_context *ctx);

#endif

/* Helpers shared by the handler files (server.c). */
const tz_t *http_clinic_tz(req_t *r);
/* Parses a query time: RFC 3339, or a date YYYY-MM-DD in the clinic's zone
 * (its start; with end_of_day, the start of the next day). Answers 400 and
 * returns false when present but bad; *present says whether it was given. */
bool http_query_time(req_t *r, const char *name, bool end_of_day, int64_t *out, bool *present);
/* Answers 400/422 with the collected field errors if there are any. */
bool http_verr_answer(req_t *r, verr_t *v);
/* For actions whose body is optional but must be an empty object when
 * sent: true when it is; else the 400 has been answered. */
bool http_empty_body(req_t *r);
/* An integer query parameter: leaves *out alone when absent; answers 400 (not
 * a number) or 422 (out of range) and returns false when bad. */
bool http_query_int(req_t *r, const char *name, long min, long max, long *out);
