/*
 * h_offer_link.c — the patient's rebooking link, answered without a login:
 * POST /api/offer-link shows the offer, POST /api/offer-link/rebook takes
 * one of its options, POST /api/offer-link/calendar gives the appointment
 * it made as a calendar file (.ics). The token comes in the JSON body (never in a URL,
 * which lands in logs and Referer headers) and is neither logged nor sent
 * back. Everything an answer can show is written here, in render_view; the
 * rules are in service/offerlink.c (docs/security.md, "Patient links").
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/metrics.h"
#include "http/render.h"
#include "service/notify.h"
#include "service/offerlink.h"

static json_t *render_option(const tz_t *tz, const struct offer_link_option *o)
{
    return json_pack("{s:i,s:o,s:o}", "option", o->number, "start", render_time(tz, o->t.start),
                     "end", render_time(tz, o->t.end));
}

static json_t *render_view(const struct offer_link_view *v)
{
    const tz_t *tz = tz_get(v->clinic_timezone);
    json_t *options = json_array();
    for (int i = 0; i < v->noptions; i++)
        json_array_append_new(options, render_option(tz, &v->options[i]));
    return json_pack(
        "{s:{s:s,s:s,s:s},s:{s:s},s:{s:o,s:o,s:s},s:o,s:o,s:b,s:b,s:o}", "clinic", "name",
        v->clinic_name, "timezone", v->clinic_timezone, "language", v->clinic_language,
        "doctor", "name", v->doctor_name,
        "appointment", "start", render_time(tz, v->appt.start), "end", render_time(tz, v->appt.end),
        "status", v->appt_status, "options", options, "expires_at", render_time(tz, v->expires_at),
        "used", v->used, "rebookable", v->rebookable, "chosen",
        v->chosen.number ? render_option(tz, &v->chosen) : json_null());
}

/* The link acts as itself, whatever credentials came along; the audit trail
 * names the appointment it read or moved (never the token). */
static void as_link(req_t *r, const struct offer_link_view *v)
{
    snprintf(r->actor, sizeof r->actor, "%s", OFFER_LINK_ACTOR);
    if (v && v->appointment_id[0])
        snprintf(r->target, sizeof r->target, "appointment:%s", v->appointment_id);
    if (v && v->new_appointment_id[0])
        snprintf(r->created, sizeof r->created, "%s", v->new_appointment_id);
}

/* The token from the body: a string of a token's form (400 otherwise, 422
 * when too long or empty). Its value never goes into an answer. */
static void read_token(req_t *r, char *token, size_t len, verr_t *v)
{
    if (in_string(r->body, "offer_token", true, TOKEN_LEN - 1, token, len, v) &&
        !ids_token_form(token))
        verr_add(v, 400, "offer_token",
                 "must be the %d letters, digits, - and _ after # in the link", TOKEN_LEN - 1);
}

void h_offer_link_view(req_t *r)
{
    static const char *const allowed[] = {"offer_token", NULL};
    char token[TOKEN_LEN * 4];
    struct offer_link_view view = {0};
    verr_t v;
    svc_err e = {0};
    as_link(r, NULL);
    verr_init(&v);
    in_only(r->body, allowed, &v);
    read_token(r, token, sizeof token, &v);
    if (http_verr_answer(r, &v))
        return;
    int rc = svc_offer_link_view(r->app, token, r->now, &view, &e);
    sodium_memzero(token, sizeof token);
    as_link(r, &view);
    if (rc != SVC_OK)
        http_svc_problem(r, &e);
    else
        http_json(r, 200, render_view(&view));
}

void h_offer_link_calendar(req_t *r)
{
    static const char *const allowed[] = {"offer_token", NULL};
    char token[TOKEN_LEN * 4];
    struct offer_link_view view = {0};
    char *ics = NULL;
    verr_t v;
    svc_err e = {0};
    as_link(r, NULL);
    verr_init(&v);
    in_only(r->body, allowed, &v);
    read_token(r, token, sizeof token, &v);
    if (http_verr_answer(r, &v))
        return;
    int rc = svc_offer_link_calendar(r->app, token, r->now, &ics, &view, &e);
    sodium_memzero(token, sizeof token);
    as_link(r, &view);
    if (rc != SVC_OK)
        http_svc_problem(r, &e);
    else
        http_text_headers(r, 200, "text/calendar; charset=utf-8; method=" NOTIFY_CALENDAR_METHOD,
                          "Content-Disposition: attachment; filename=\"appointment.ics\"\r\n",
                          ics, strlen(ics));
    free(ics);
}

void h_offer_link_rebook(req_t *r)
{
    static const char *const allowed[] = {"offer_token", "option", NULL};
    char token[TOKEN_LEN * 4];
    struct offer_link_view view = {0};
    long long option = 0;
    verr_t v;
    svc_err e = {0};
    as_link(r, NULL);
    verr_init(&v);
    in_only(r->body, allowed, &v);
    read_token(r, token, sizeof token, &v);
    in_int(r->body, "option", true, 1, OFFER_MAX_OPTIONS, &option, &v);
    if (http_verr_answer(r, &v))
        return;
    int rc = svc_offer_link_rebook(r->app, token, (int)option, r->now, &view, &e);
    sodium_memzero(token, sizeof token);
    as_link(r, &view);
    if (rc != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    metrics_booking();
    http_json(r, 200, render_view(&view));
}
