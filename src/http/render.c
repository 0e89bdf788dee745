/* render.c — see render.h. */
#include "http/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "domain/language.h"

json_t *render_time(const tz_t *tz, int64_t t)
{
    char buf[40];
    timefmt_format_rfc3339(t, tz ? tz_offset_at(tz, t) : 0, false, buf, sizeof buf);
    return json_string(buf);
}

json_t *render_stored_text(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        return json_string("");
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static void set_opt(json_t *o, const char *key, const char *s)
{
    if (s && *s)
        json_object_set_new(o, key, json_string(s));
}

static void set_time(json_t *o, const char *key, const tz_t *tz, int64_t t)
{
    if (t)
        json_object_set_new(o, key, render_time(tz, t));
}

json_t *render_clinic(const clinic_rec *c)
{
    const tz_t *tz = tz_get(c->timezone);
    json_t *hours = json_array();
    for (int i = 0; i < c->nreminders; i++)
        json_array_append_new(hours, json_integer(c->reminder_hours[i]));
    return json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:o,s:b,s:s,s:o,s:o}", "id", c->id, "name",
                     c->name, "timezone", c->timezone, "grace_minutes", c->grace_minutes,
                     "reschedule_options", c->reschedule_options, "offer_hours", c->offer_hours,
                     "reminder_hours", hours, "confirmations", c->confirmations, "language",
                     c->language[0] ? c->language : LANGUAGE_DEFAULT, "created_at",
                     render_time(tz, c->created_at), "updated_at",
                     render_time(tz, c->updated_at));
}

json_t *render_doctor(const tz_t *tz, const doctor_rec *d)
{
    json_t *o = json_pack("{s:s,s:s,s:i,s:o,s:o}", "id", d->id, "name", d->name, "slot_minutes",
                          d->slot_minutes, "created_at", render_time(tz, d->created_at), "updated_at",
                          render_time(tz, d->updated_at));
    set_opt(o, "email", d->email);
    set_opt(o, "phone", d->phone);
    return o;
}

json_t *render_schedule(const char *doctor_id, const schedule_rec *s)
{
    json_t *weekly = json_array(), *exc = json_array();
    char a[8], b[8], date[16];
    for (size_t i = 0; i < s->nweekly; i++) {
        timefmt_format_hhmm(s->weekly[i].start_min, a, sizeof a);
        timefmt_format_hhmm(s->weekly[i].end_min, b, sizeof b);
        json_array_append_new(weekly, json_pack("{s:i,s:s,s:s}", "weekday", s->weekly[i].weekday,
                                                "start", a, "end", b));
    }
    for (size_t i = 0; i < s->nexceptions; i++) {
        const sched_exception_t *e = &s->exceptions[i];
        timefmt_format_date(e->y, e->mon, e->day, date, sizeof date);
        if (e->closed) {
            json_array_append_new(exc, json_pack("{s:s,s:b}", "date", date, "closed", 1));
        } else {
            timefmt_format_hhmm(e->start_min, a, sizeof a);
            timefmt_format_hhmm(e->end_min, b, sizeof b);
            json_array_append_new(exc, json_pack("{s:s,s:b,s:s,s:s}", "date", date, "closed", 0,
                                                 "start", a, "end", b));
        }
    }
    return json_pack("{s:s,s:i,s:o,s:o}", "doctor_id", doctor_id, "slot_minutes", s->slot_minutes,
                     "weekly", weekly, "exceptions", exc);
}

json_t *render_patient(const tz_t *tz, const patient_rec *p)
{
    json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:o,s:o}", "id", p->id, "name", p->name,
                          "notify_email", p->notify_email, "notify_sms", p->notify_sms,
                          "created_at", render_time(tz, p->created_at), "updated_at",
                          render_time(tz, p->updated_at));
    set_opt(o, "email", p->email);
    set_opt(o, "phone", p->phone);
    return o;
}

json_t *render_appt(const tz_t *tz, const appt_rec *a)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:i,s:s,s:o,s:s,s:o,s:s}", "id", a->id,
                          "doctor_id", a->doctor_id, "patient_id", a->patient_id, "start",
                          render_time(tz, a->start), "end", render_time(tz, a->end),
                          "duration_minutes", (int)((a->end - a->start) / 60), "status",
                          a->status, "created_at", render_time(tz, a->created_at), "created_by",
                          a->created_by, "updated_at", render_time(tz, a->updated_at),
                          "updated_by", a->updated_by);
    set_opt(o, "reason", a->reason);
    set_opt(o, "cancel_reason", a->cancel_reason);
    set_time(o, "checked_in_at", tz, a->checked_in_at);
    set_time(o, "completed_at", tz, a->completed_at);
    set_time(o, "cancelled_at", tz, a->cancelled_at);
    set_time(o, "no_show_at", tz, a->no_show_at);
    set_opt(o, "rescheduled_from", a->rescheduled_from);
    set_opt(o, "rescheduled_to", a->rescheduled_to);
    set_opt(o, "conflict_reason", a->conflict_reason);
    set_time(o, "reminded_at", tz, a->reminded_at);
    return o;
}

json_t *render_slots(const tz_t *tz, const interval_t *v, long n)
{
    json_t *arr = json_array();
    for (long i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:o,s:o}", "start", render_time(tz, v[i].start),
                                             "end", render_time(tz, v[i].end)));
    return arr;
}

json_t *render_offer(const tz_t *tz, const struct offer_result *r)
{
    const offer_rec *o = &r->offer;
    json_t *notes = json_array();
    for (int i = 0; i < r->nnotes; i++) {
        json_t *n = json_pack("{s:s,s:s,s:s}", "id", r->notes[i].id, "channel",
                              r->notes[i].channel, "status", r->notes[i].status);
        set_opt(n, "reason", r->notes[i].last_error);
        json_array_append_new(notes, n);
    }
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o}", "id", o->id, "appointment_id",
                     o->appointment_id, "options", render_slots(tz, o->options, o->noptions),
                     "created_at", render_time(tz, o->created_at), "expires_at",
                     render_time(tz, o->expires_at), "notifications", notes);
}

json_t *render_offer_listed(const tz_t *tz, const offer_rec *o, const notification_rec *notes,
                            int n)
{
    json_t *options = json_array(), *msgs = json_array();
    for (int i = 0; i < o->noptions; i++)
        json_array_append_new(options, json_pack("{s:i,s:o,s:o}", "option", i + 1, "start",
                                                 render_time(tz, o->options[i].start), "end",
                                                 render_time(tz, o->options[i].end)));
    for (int i = 0; i < n; i++) {
        json_t *m = json_pack("{s:s,s:s,s:s,s:i,s:o}", "id", notes[i].id, "channel",
                              notes[i].channel, "status", notes[i].status, "attempts",
                              notes[i].attempts, "last_error",
                              notes[i].last_error[0] ? json_string(notes[i].last_error)
                                                     : json_null());
        set_time(m, "sent_at", tz, notes[i].sent_at);
        json_array_append_new(msgs, m);
    }
    bool used = o->used_at != 0;
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", o->id,
                     "appointment_id", o->appointment_id, "purpose",
                     n ? json_string(notes[0].purpose) : json_null(), "created_at",
                     render_time(tz, o->created_at), "expires_at",
                     render_time(tz, o->expires_at), "options", options, "used_at",
                     used ? render_time(tz, o->used_at) : json_null(), "used_option",
                     used && o->used_option ? json_integer(o->used_option) : json_null(),
                     "new_appointment_id",
                     used && o->new_appointment_id[0] ? json_string(o->new_appointment_id)
                                                      : json_null(),
                     "notifications", msgs);
}

static char *append(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

char *render_slots_answer(const char *doctor_id, const tz_t *tz, const interval_t *v, long n,
                          size_t *len)
{
    /* Every piece is a fixed format or an id/zone name of plain characters,
     * so nothing needs escaping. */
    size_t cap = 160 + strlen(doctor_id) + strlen(tz_name(tz)) + (size_t)(n > 0 ? n : 0) * 72;
    char *buf = malloc(cap), *p = buf;
    char a[40], b[40];
    if (!buf)
        return NULL;
    p += snprintf(p, cap, "{\"doctor_id\":\"%s\",\"timezone\":\"%s\",\"slots\":[", doctor_id,
                  tz_name(tz));
    for (long i = 0; i < n; i++) {
        timefmt_format_rfc3339(v[i].start, tz_offset_at(tz, v[i].start), false, a, sizeof a);
        timefmt_format_rfc3339(v[i].end, tz_offset_at(tz, v[i].end), false, b, sizeof b);
        p = append(p, i ? ",{\"start\":\"" : "{\"start\":\"");
        p = append(p, a);
        p = append(p, "\",\"end\":\"");
        p = append(p, b);
        p = append(p, "\"}");
    }
    p += snprintf(p, cap - (size_t)(p - buf), "]}");
    *len = (size_t)(p - buf);
    return buf;
}

static json_t *opt_string(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *opt_time(const tz_t *tz, int64_t t)
{
    return t ? render_time(tz, t) : json_null();
}

json_t *render_notification(const tz_t *tz, const notification_rec *n)
{
    return json_pack("{s:s,s:o,s:s,s:o,s:s,s:s,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", n->id,
                     "appointment_id", opt_string(n->appointment_id), "channel", n->channel,
                     "recipient", opt_string(n->recipient), "purpose", n->purpose, "status",
                     n->status, "attempts", n->attempts, "last_error", opt_string(n->last_error),
                     "next_attempt_at",
                     opt_time(tz, strcmp(n->status, "queued") == 0 ||
                                          strcmp(n->status, "failed") == 0
                                      ? n->next_attempt_at
                                      : 0),
                     "sent_at", opt_time(tz, n->sent_at), "provider_id",
                     opt_string(n->provider_id), "expires_at", opt_time(tz, n->expires_at),
                     "created_at", render_time(tz, n->created_at), "updated_at",
                     render_time(tz, n->updated_at));
}
