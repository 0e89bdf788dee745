/* h_doctors.c — doctors, their schedules and their free slots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "http/http.h"
#include "http/render.h"
#include "service/booking.h"
#include "service/people.h"
#include "store/store.h"

#define MAX_WEEKLY 100
#define MAX_EXCEPTIONS 1000
#define MAX_SLOT_RANGE_DAYS 62

/* Reads the fields sent into d; returns which (PEOPLE_F_*). */
static unsigned read_doctor_fields(req_t *r, doctor_rec *d, bool create, verr_t *v)
{
    unsigned f = 0;
    static const char *const allowed[] = {"name",       "email",      "phone", "slot_minutes",
                                          "id",         "created_at", "updated_at", NULL};
    long long slot;
    char name[NAME_BUF];
    static const char *const echoed[] = {"id", "created_at", "updated_at", NULL};
    in_only(r->body, allowed, v);
    in_echoed(r->body, echoed, v);
    if (in_name(r->body, "name", create, NAME_MAX_LEN, name, sizeof name, v)) {
        snprintf(d->name, sizeof d->name, "%s", name);
        f |= PEOPLE_F_NAME;
    }
    if (json_object_get(r->body, "email") || create) {
        in_email(r->body, "email", d->email, sizeof d->email, v);
        f |= PEOPLE_F_EMAIL;
    }
    if (json_object_get(r->body, "phone") || create) {
        in_phone(r->body, "phone", d->phone, sizeof d->phone, v);
        f |= PEOPLE_F_PHONE;
    }
    if (in_int(r->body, "slot_minutes", false, 5, 480, &slot, v)) {
        if (slot % 5)
            verr_add(v, 422, "slot_minutes", "must be a multiple of 5");
        d->slot_minutes = (int)slot;
        f |= PEOPLE_F_SLOT_MINUTES;
    }
    return f;
}

static void answer_doctor(req_t *r, int status, const doctor_rec *d)
{
    char etag[ETAG_BUF];
    people_doctor_etag(d, etag);
    http_record_etag(r, etag);
    http_json_etag(r, status, render_doctor(http_clinic_tz(r), d), etag);
}

static void answer_schedule(req_t *r, const schedule_rec *s)
{
    char etag[ETAG_BUF];
    people_schedule_etag(s, etag);
    http_json_etag(r, 200, render_schedule(r->params[0], s), etag);
}

void h_doctor_create(req_t *r)
{
    doctor_rec d = {.slot_minutes = 15};
    verr_t v;
    svc_err e = {0};
    verr_init(&v);
    read_doctor_fields(r, &d, true, &v);
    if (http_verr_answer(r, &v))
        return;
    if (svc_doctor_create(r->app, &d, r->actor, r->now, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    answer_doctor(r, 201, &d);
}

struct doctor_list {
    json_t *arr;
    const tz_t *tz;
};

static void add_doctor(const doctor_rec *d, void *ctx)
{
    struct doctor_list *l = ctx;
    json_array_append_new(l->arr, render_doctor(l->tz, d));
}

void h_doctor_list(req_t *r)
{
    struct doctor_list l = {json_array(), http_clinic_tz(r)};
    db_conn_t *c = db_reader(r->app->db);
    if (!c || store_doctor_list(c, add_doctor, &l) != STORE_OK) {
        db_reader_release(r->app->db, c);
        json_decref(l.arr);
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
        return;
    }
    db_reader_release(r->app->db, c);
    http_json(r, 200, json_pack("{s:o}", "doctors", l.arr));
}

/* Loads doctor params[0] or answers 404/503. */
static bool load_doctor(req_t *r, doctor_rec *d)
{
    db_conn_t *c = db_reader(r->app->db);
    int rc = c ? store_doctor_get(c, r->params[0], d) : STORE_ERROR;
    db_reader_release(r->app->db, c);
    if (rc == STORE_NOT_FOUND)
        http_problem(r, 404, "doctor not found", NULL, NULL);
    else if (rc != STORE_OK)
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
    return rc == STORE_OK;
}

void h_doctor_get(req_t *r)
{
    doctor_rec d;
    if (load_doctor(r, &d))
        answer_doctor(r, 200, &d);
}

/* A merge: fields left out keep their value. The service reads the stored
 * record, checks If-Match and merges inside its write job. */
void h_doctor_put(req_t *r)
{
    doctor_rec d = {0};
    verr_t v;
    etag_cond ifm;
    svc_err e = {0};
    if (!http_if_match(r, &ifm))
        return;
    verr_init(&v);
    unsigned fields = read_doctor_fields(r, &d, false, &v);
    if (http_verr_answer(r, &v))
        return;
    if (strlen(r->params[0]) >= sizeof d.id) { /* no id is that long */
        http_problem(r, 404, "doctor not found", NULL, NULL);
        return;
    }
    memcpy(d.id, r->params[0], strlen(r->params[0]) + 1);
    if (svc_doctor_update(r->app, &d, fields, &ifm, r->actor, r->now, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    answer_doctor(r, 200, &d);
}

void h_schedule_get(req_t *r)
{
    schedule_rec s;
    db_conn_t *c = db_reader(r->app->db);
    int rc = c ? store_schedule_get(c, r->params[0], &s) : STORE_ERROR;
    db_reader_release(r->app->db, c);
    if (rc == STORE_NOT_FOUND) {
        http_problem(r, 404, "doctor not found", NULL, NULL);
        return;
    }
    if (rc != STORE_OK) {
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
        return;
    }
    answer_schedule(r, &s);
    schedule_rec_free(&s);
}

/* Reads "start" and "end" (HH:MM, 5-minute steps, start < end). */
static bool read_hours(json_t *o, const char *where, int *a, int *b, verr_t *v)
{
    char field[48], s[16], e[16];
    bool ok = true;
    snprintf(field, sizeof field, "%s.start", where);
    json_t *js = json_object_get(o, "start"), *je = json_object_get(o, "end");
    if (!json_is_string(js) || !timefmt_parse_hhmm(json_string_value(js), a) || *a == 1440) {
        verr_add(v, 400, field, "must be a time of day HH:MM");
        ok = false;
    }
    snprintf(field, sizeof field, "%s.end", where);
    if (!json_is_string(je) || !timefmt_parse_hhmm(json_string_value(je), b)) {
        verr_add(v, 400, field, "must be a time of day HH:MM (24:00 for midnight)");
        ok = false;
    }
    if (!ok)
        return false;
    snprintf(s, sizeof s, "%s", json_string_value(js));
    snprintf(e, sizeof e, "%s", json_string_value(je));
    if (*a % 5 || *b % 5) {
        verr_add(v, 422, where, "times must be on 5-minute steps (%s-%s)", s, e);
        return false;
    }
    if (*a >= *b) {
        verr_add(v, 422, where, "start must be before end (%s-%s)", s, e);
        return false;
    }
    return true;
}

static bool only_keys(json_t *o, const char *const *allowed, const char *where, verr_t *v)
{
    const char *key;
    json_t *val;
    bool ok = true;
    json_object_foreach(o, key, val) {
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            known |= strcmp(*a, key) == 0;
        if (!known) {
            char f[80];
            snprintf(f, sizeof f, "%s.%s", where, key);
            verr_add(v, 400, f, "unknown field");
            ok = false;
        }
    }
    return ok;
}

static void parse_schedule(json_t *body, schedule_rec *s, verr_t *v)
{
    static const char *const top[] = {"weekly", "exceptions", "doctor_id", "slot_minutes", NULL};
    static const char *const wk[] = {"weekday", "start", "end", NULL};
    static const char *const ex[] = {"date", "closed", "start", "end", NULL};
    json_t *weekly = json_object_get(body, "weekly"), *exc = json_object_get(body, "exceptions");
    char where[48];
    size_t i;
    json_t *item;

    static const char *const echoed[] = {"doctor_id", NULL};
    json_t *slot = json_object_get(body, "slot_minutes");
    in_only(body, top, v);
    in_echoed(body, echoed, v);
    if (slot && !json_is_integer(slot))
        verr_add(v, 400, "slot_minutes",
                 "is read-only here (set it on the doctor); when sent back it must be a number");
    if (weekly && !json_is_array(weekly))
        verr_add(v, 400, "weekly", "must be an array");
    if (exc && !json_is_array(exc))
        verr_add(v, 400, "exceptions", "must be an array");
    if (v->status)
        return;
    if (json_array_size(weekly) > MAX_WEEKLY)
        verr_add(v, 422, "weekly", "at most %d entries", MAX_WEEKLY);
    if (json_array_size(exc) > MAX_EXCEPTIONS)
        verr_add(v, 422, "exceptions", "at most %d entries", MAX_EXCEPTIONS);
    if (v->status)
        return;
    s->weekly = calloc(json_array_size(weekly) + 1, sizeof *s->weekly);
    s->exceptions = calloc(json_array_size(exc) + 1, sizeof *s->exceptions);
    if (!s->weekly || !s->exceptions) {
        verr_add(v, 422, "weekly", "too large");
        return;
    }
    json_array_foreach(weekly, i, item) {
        sched_weekly_t w;
        snprintf(where, sizeof where, "weekly[%zu]", i);
        if (!json_is_object(item)) {
            verr_add(v, 400, where, "must be an object");
            continue;
        }
        only_keys(item, wk, where, v);
        json_t *wd = json_object_get(item, "weekday");
        if (!json_is_integer(wd) || json_integer_value(wd) < 1 || json_integer_value(wd) > 7) {
            char f[64];
            snprintf(f, sizeof f, "%s.weekday", where);
            verr_add(v, json_is_integer(wd) ? 422 : 400, f, "must be 1 (Monday) to 7 (Sunday)");
            continue;
        }
        w.weekday = (int)json_integer_value(wd);
        if (!read_hours(item, where, &w.start_min, &w.end_min, v))
            continue;
        for (size_t k = 0; k < s->nweekly; k++)
            if (s->weekly[k].weekday == w.weekday && s->weekly[k].start_min < w.end_min &&
                w.start_min < s->weekly[k].end_min)
                verr_add(v, 422, where, "overlaps another entry for weekday %d", w.weekday);
        s->weekly[s->nweekly++] = w;
    }
    json_array_foreach(exc, i, item) {
        sched_exception_t e = {0};
        bool closed = false;
        snprintf(where, sizeof where, "exceptions[%zu]", i);
        if (!json_is_object(item)) {
            verr_add(v, 400, where, "must be an object");
            continue;
        }
        only_keys(item, ex, where, v);
        json_t *date = json_object_get(item, "date"), *cl = json_object_get(item, "closed");
        if (!json_is_string(date) ||
            !timefmt_parse_date(json_string_value(date), &e.y, &e.mon, &e.day)) {
            char f[64];
            snprintf(f, sizeof f, "%s.date", where);
            verr_add(v, 400, f, "must be a real date YYYY-MM-DD");
            continue;
        }
        if (cl && !json_is_boolean(cl)) {
            char f[64];
            snprintf(f, sizeof f, "%s.closed", where);
            verr_add(v, 400, f, "must be true or false");
            continue;
        }
        closed = json_is_true(cl);
        if (closed && (json_object_get(item, "start") || json_object_get(item, "end"))) {
            verr_add(v, 422, where, "a closed day has no start or end");
            continue;
        }
        e.closed = closed;
        if (!closed && !read_hours(item, where, &e.start_min, &e.end_min, v))
            continue;
        for (size_t k = 0; k < s->nexceptions; k++) {
            const sched_exception_t *o = &s->exceptions[k];
            if (o->y != e.y || o->mon != e.mon || o->day != e.day)
                continue;
            if (o->closed || e.closed)
                verr_add(v, 422, where, "a closed day cannot have other entries for that date");
            else if (o->start_min < e.end_min && e.start_min < o->end_min)
                verr_add(v, 422, where, "overlaps another entry for that date");
        }
        s->exceptions[s->nexceptions++] = e;
    }
}

void h_schedule_put(req_t *r)
{
    schedule_rec s = {0}, stored;
    verr_t v;
    etag_cond ifm;
    svc_err e = {0};
    if (!http_if_match(r, &ifm))
        return;
    verr_init(&v);
    parse_schedule(r->body, &s, &v);
    if (http_verr_answer(r, &v)) {
        schedule_rec_free(&s);
        return;
    }
    int rc = svc_schedule_put(r->app, r->params[0], &s, &ifm, r->actor, r->now, &e);
    schedule_rec_free(&s);
    if (rc != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    db_conn_t *c = db_reader(r->app->db);
    rc = c ? store_schedule_get(c, r->params[0], &stored) : STORE_ERROR;
    db_reader_release(r->app->db, c);
    if (rc != STORE_OK) {
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
        return;
    }
    answer_schedule(r, &stored); /* what is stored now, with its ETag */
    schedule_rec_free(&stored);
}

void h_available_slots(req_t *r)
{
    int64_t from = r->now, to;
    bool has_from, has_to;
    interval_t *slots = NULL;
    long n = 0;
    svc_err e = {0};

    if (!http_query_time(r, "from", false, &from, &has_from) ||
        !http_query_time(r, "to", true, &to, &has_to))
        return;
    if (!has_from)
        from = r->now;
    if (!has_to)
        to = from + 7 * 86400;
    long duration = 0;
    if (!http_query_int(r, "duration", 1, SLOTS_MAX_DURATION_MINUTES, &duration))
        return;
    if (to <= from) {
        http_problem(r, 422, "to must be after from", "to", NULL);
        return;
    }
    if (to - from > MAX_SLOT_RANGE_DAYS * 86400) {
        http_problem(r, 422, "from and to may be at most 62 days apart", "to", NULL);
        return;
    }
    if (svc_available(r->app, r->params[0], from, to, (int)duration, r->now, &slots, &n, &e) !=
        SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    size_t len = 0;
    char *text = render_slots_answer(r->params[0], http_clinic_tz(r), slots, n, &len);
    if (text)
        http_text(r, 200, "application/json", text, len);
    else
        http_problem(r, 503, "out of memory", NULL, NULL);
    free(text);
    free(slots);
}
