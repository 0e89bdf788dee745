/* messages.c — see messages.h. */
#include "service/messages.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "outbox/gsm7.h"

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

/* An append-only text buffer that never overflows (it truncates). */
struct text {
    char *buf;
    size_t len, used;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    if (t->used >= t->len)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->used += (size_t)n < t->len - t->used ? (size_t)n : t->len - t->used - 1;
}

/* Drops a UTF-8 sequence cut off at the end of s (by a full buffer). */
static void trim_cut_char(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < want)
        s[i - 1] = 0;
}

static bool is_offer(const char *purpose)
{
    return strcmp(purpose, PURPOSE_NO_SHOW_OFFER) == 0 ||
           strcmp(purpose, PURPOSE_RESCHEDULE_OFFER) == 0 ||
           strcmp(purpose, PURPOSE_CONFLICT_OFFER) == 0;
}

static bool is_reminder(const char *purpose)
{
    return strncmp(purpose, PURPOSE_REMINDER_PREFIX, strlen(PURPOSE_REMINDER_PREFIX)) == 0;
}

/* Lists the offer's options, at most max of them (-1: all). */
static void offer_options(struct text *t, const message_facts *f, bool sms, int max)
{
    char opt[40];
    const offer_rec *o = f->offer;
    for (int i = 0; o && i < o->noptions && (max < 0 || i < max); i++) {
        messages_local_time(f->tz, o->options[i].start, opt, sizeof opt);
        put(t, sms ? " %d) %s" : "  %d) %s\n", i + 1, opt);
    }
    if (!o || o->noptions == 0)
        put(t, sms ? " none soon, please call us." : "  (none soon; please call us)\n");
}

void messages_email(const char *purpose, const message_facts *f, char *subject,
                    size_t subject_len, char *body, size_t body_len)
{
    char when[40];
    struct text t = {body, body_len, 0};
    const char *clinic = f->clinic->name, *doctor = f->doctor->name;

    body[0] = 0;
    messages_local_time(f->tz, f->appt->start, when, sizeof when);
    put(&t, "Hello %s,\n\n", f->patient->name);
    if (is_offer(purpose)) {
        bool missed = strcmp(purpose, PURPOSE_NO_SHOW_OFFER) == 0;
        bool taken = strcmp(purpose, PURPOSE_CONFLICT_OFFER) == 0;
        snprintf(subject, subject_len, "%s: %s", clinic,
                 missed ? "we missed you - pick a new time"
                 : taken ? "your time was taken - pick a new time"
                         : "please pick a new appointment time");
        put(&t, "%s your appointment with %s on %s.\nThese times are free:\n",
            missed  ? "We missed you at"
            : taken ? "Someone else already had the time we booked for"
                    : "We need to move",
            doctor, when);
        offer_options(&t, f, false, -1);
        put(&t, "\nPick one here: %s\n", f->link ? f->link : "");
        if (f->offer && f->offer->expires_at) {
            char until[40];
            messages_local_time(f->tz, f->offer->expires_at, until, sizeof until);
            put(&t, "This link works until %s.\n", until);
        }
    } else if (strcmp(purpose, PURPOSE_CONFIRMATION) == 0) {
        snprintf(subject, subject_len, "%s: your appointment on %s", clinic, when);
        put(&t, "Your appointment with %s is booked for %s (%d minutes).\n"
                "The attached calendar entry adds it to your calendar.\n",
            doctor, when, (int)((f->appt->end - f->appt->start) / 60));
    } else if (strcmp(purpose, PURPOSE_CANCELLATION) == 0) {
        snprintf(subject, subject_len, "%s: your appointment on %s is cancelled", clinic, when);
        put(&t, "Your appointment with %s on %s is cancelled.\n", doctor, when);
        if (f->appt->cancel_reason[0])
            put(&t, "Reason: %s\n", f->appt->cancel_reason);
        put(&t, "Please contact us to book a new time.\n");
    } else if (is_reminder(purpose)) {
        snprintf(subject, subject_len, "%s: reminder of your appointment on %s", clinic, when);
        put(&t, "This is a reminder of your appointment with %s on %s.\n"
                "If you cannot come, please let us know so that someone else can have the time.\n",
            doctor, when);
    } else {
        snprintf(subject, subject_len, "%s", clinic);
    }
    put(&t, "\n%s\n", clinic);
    trim_cut_char(subject);
    trim_cut_char(body);
}

/* One wording of an SMS: detail 2 names the clinic in full and the doctor,
 * 1 shortens the clinic's name and leaves the doctor out, 0 is the bare
 * minimum. An offer lists at most max_options options (the link's page
 * shows them all). */
static void sms_wording(const char *purpose, const message_facts *f, int detail,
                        int max_options, char *out, size_t len)
{
    char when[40], clinic[NAME_BUF];
    struct text t = {out, len, 0};
    int cut = detail >= 2 ? (int)sizeof clinic - 1 : detail == 1 ? 20 : 0;

    out[0] = 0;
    memcpy(clinic, f->clinic->name, sizeof clinic);
    if (cut < (int)strlen(clinic)) {
        /* cut on a character boundary */
        while (cut > 0 && ((unsigned char)clinic[cut] & 0xC0) == 0x80)
            cut--;
        clinic[cut] = 0;
        while (cut > 0 && clinic[cut - 1] == ' ')
            clinic[--cut] = 0;
    }
    messages_local_time(f->tz, f->appt->start, when, sizeof when);
    if (clinic[0])
        put(&t, "%s: ", clinic);
    if (is_offer(purpose)) {
        put(&t, "%s %s%s%s. New times:",
            strcmp(purpose, PURPOSE_NO_SHOW_OFFER) == 0    ? "you missed"
            : strcmp(purpose, PURPOSE_CONFLICT_OFFER) == 0 ? "time taken, please rebook"
                                                           : "please rebook",
            when,
            detail >= 2 ? " with " : "", detail >= 2 ? f->doctor->name : "");
        offer_options(&t, f, true, max_options);
        put(&t, " Pick: %s", f->link ? f->link : "");
    } else if (strcmp(purpose, PURPOSE_CONFIRMATION) == 0) {
        put(&t, "booked %s%s%s.", when, detail >= 2 ? " with " : "",
            detail >= 2 ? f->doctor->name : "");
    } else if (strcmp(purpose, PURPOSE_CANCELLATION) == 0) {
        put(&t, "your appointment %s%s%s is cancelled. Please call us to rebook.", when,
            detail >= 2 ? " with " : "", detail >= 2 ? f->doctor->name : "");
    } else if (is_reminder(purpose)) {
        put(&t, "reminder: appointment %s%s%s.%s", when, detail >= 2 ? " with " : "",
            detail >= 2 ? f->doctor->name : "",
            detail >= 1 ? " If you cannot come, please tell us." : "");
    }
}

void messages_sms(const char *purpose, const message_facts *f, char *body, size_t body_len)
{
    char raw[1024];
    int noptions = f->offer && f->offer->noptions > 0 ? f->offer->noptions : 1;
    /* First choice: a GSM-7 text that fits, with as many options and then
     * as much detail as possible; failing that, any text that fits (a name
     * only UCS-2 can carry). Options matter more than names. */
    for (int pass = 0; pass < 2; pass++)
        for (int n = noptions; n >= 1; n--)
            for (int detail = 2; detail >= 0; detail--) {
                sms_wording(purpose, f, detail, n, raw, sizeof raw);
                gsm7_simplify(raw, body, body_len);
                if (gsm7_segments(body) <= SMS_MAX_SEGMENTS &&
                    (pass == 1 || gsm7_septets(body) >= 0))
                    return;
            }
    /* Nothing fits: the shortest wording, with one option. */
    sms_wording(purpose, f, 0, 1, raw, sizeof raw);
    gsm7_simplify(raw, body, body_len);
}
