/* messages.c — see messages.h. */
#include "service/messages.h"

#include <stdio.h>
#include <string.h>

void messages_local_time(const tz_t *tz, int64_t t, char *buf, size_t len)
{
    static const char *wd[] = {"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *mo[] = {"", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t local = t + tz_offset_at(tz, t);
    int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int64_t sod = local - days * 86400;
    int y, m, d;
    tz_civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%s %02d %s %02d:%02d", wd[tz_weekday(days)], d, mo[m],
             (int)(sod / 3600), (int)(sod % 3600 / 60));
}

void messages_offer(const tz_t *tz, const clinic_rec *clinic, const patient_rec *p,
                    const doctor_rec *d, const appt_rec *a, const offer_rec *o,
                    const char *purpose, const char *link, bool sms, char *subject,
                    size_t subject_len, char *body, size_t body_len)
{
    char when[40], opt[40];
    size_t n = 0;
    bool missed = strcmp(purpose, "no_show_offer") == 0;

    messages_local_time(tz, a->start, when, sizeof when);
    snprintf(subject, subject_len, "%s: %s", clinic->name,
             missed ? "we missed you - pick a new time" : "please pick a new appointment time");
    if (sms)
        n += (size_t)snprintf(body + n, body_len - n, "%s: %s %s. New times:", clinic->name,
                              missed ? "you missed" : "please rebook", when);
    else
        n += (size_t)snprintf(body + n, body_len - n,
                              "Hello %s,\n\n%s your appointment with %s on %s.\n"
                              "These times are free:\n",
                              p->name, missed ? "We missed you at" : "We need to move", d->name,
                              when);
    for (int i = 0; i < o->noptions && n < body_len; i++) {
        messages_local_time(tz, o->options[i].start, opt, sizeof opt);
        n += (size_t)snprintf(body + n, body_len - n, sms ? " %d) %s" : "  %d) %s\n", i + 1, opt);
    }
    if (n < body_len) {
        if (o->noptions == 0)
            n += (size_t)snprintf(body + n, body_len - n,
                                  sms ? " none soon, please call us." : "  (none soon; please call us)\n");
        if (n < body_len)
            snprintf(body + n, body_len - n, sms ? " Pick: %s" : "\nPick one here: %s\n", link);
    }
}
