/*
 * test_messages.c — the words of patient messages (service/messages.c):
 * local times in the clinic's zone across summer and winter time, the email
 * subject and body of each purpose, and the SMS texts, which must fit in two
 * segments (GSM-7 where it can) with the rebooking link intact, even for
 * long or typographic clinic names and doctor names only UCS-2 can carry.
 * Zone data comes from /usr/share/zoneinfo (tz_get).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"
#include "outbox/gsm7.h"
#include "service/messages.h"
#include "store/records.h"
#include "unit.h"

/* 2026-11-30T09:00Z = Mon 30 Nov 10:00 in Berlin (CET, +01:00) */
#define APPT_START ((int64_t)1796029200)

/* ~100 characters: {public_url}/rebook#{43-character token} with a long
 * public_url (real links are 51 characters longer than the public_url) */
static const char LINK[] =
    "https://termine.praxis-am-stadtpark.example.org/rebook#"
    "Qm9va2luZ0xpbmtUb2tlbjQzQ2hhcmFjdGVyc0xvbmc";

static const char *const ALL[] = {"confirmation", "cancellation", "reminder_24h",
                                  "reminder_2h", "reschedule_offer", "no_show_offer"};
#define NALL ((int)(sizeof ALL / sizeof ALL[0]))

static bool is_offer(const char *p)
{
    return strstr(p, "offer") != NULL;
}

struct world {
    clinic_rec clinic;
    patient_rec patient;
    doctor_rec doctor;
    appt_rec appt;
    offer_rec offer;
    message_facts f;
};

/* A clinic in Berlin, a 30-minute appointment and an offer of three times.
 * Heap-allocated: the records are large. */
static struct world *world(void)
{
    struct world *w = calloc(1, sizeof *w);
    if (!w) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    snprintf(w->clinic.name, sizeof w->clinic.name, "Praxis am Park");
    snprintf(w->clinic.timezone, sizeof w->clinic.timezone, "Europe/Berlin");
    snprintf(w->patient.name, sizeof w->patient.name, "Maria Muster");
    snprintf(w->patient.email, sizeof w->patient.email, "maria@example.org");
    snprintf(w->patient.phone, sizeof w->patient.phone, "+4915112345678");
    snprintf(w->doctor.name, sizeof w->doctor.name, "Dr. Anna Schmidt");
    w->appt.start = APPT_START;
    w->appt.end = APPT_START + 30 * 60;
    snprintf(w->appt.status, sizeof w->appt.status, "booked");
    w->offer.options[0].start = 1796198400; /* Wed 02 Dec 09:00 */
    w->offer.options[1].start = 1796304600; /* Thu 03 Dec 14:30 */
    w->offer.options[2].start = 1796368500; /* Fri 04 Dec 08:15 */
    for (int i = 0; i < 3; i++)
        w->offer.options[i].end = w->offer.options[i].start + 30 * 60;
    w->offer.noptions = 3;
    w->offer.expires_at = 1796144400; /* Tue 01 Dec 18:00 */
    w->f.tz = tz_get("Europe/Berlin");
    w->f.clinic = &w->clinic;
    w->f.patient = &w->patient;
    w->f.doctor = &w->doctor;
    w->f.appt = &w->appt;
    w->f.offer = &w->offer;
    w->f.link = LINK;
    w->f.reminder_hours = 24;
    return w;
}

static void facts_for(struct world *w, const char *purpose)
{
    bool offer = is_offer(purpose);
    w->f.offer = offer ? &w->offer : NULL;
    w->f.link = offer ? LINK : NULL;
    w->f.reminder_hours = strcmp(purpose, "reminder_2h") == 0 ? 2 : 24;
}

static bool has(const char *s, const char *part)
{
    return s != NULL && strstr(s, part) != NULL;
}

static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3
                               : (*p & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0)
            return false;
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

static void test_local_time(void)
{
    const tz_t *tz = tz_get("Europe/Berlin");
    char buf[40];
    CHECK(tz != NULL);
    if (!tz)
        return;
    messages_local_time(tz, 1796029200, buf, sizeof buf); /* 2026-11-30T09:00Z, CET */
    CHECK_EQ_STR(buf, "Mon 30 Nov 10:00");
    messages_local_time(tz, 1782892800, buf, sizeof buf); /* 2026-07-01T08:00Z, CEST */
    CHECK_EQ_STR(buf, "Wed 01 Jul 10:00");
    /* around the changes of 2026 */
    messages_local_time(tz, 1774745940, buf, sizeof buf); /* 2026-03-29T00:59Z */
    CHECK_EQ_STR(buf, "Sun 29 Mar 01:59");
    messages_local_time(tz, 1774746000, buf, sizeof buf); /* 2026-03-29T01:00Z */
    CHECK_EQ_STR(buf, "Sun 29 Mar 03:00");
    messages_local_time(tz, 1792888200, buf, sizeof buf); /* 2026-10-25T00:30Z */
    CHECK_EQ_STR(buf, "Sun 25 Oct 02:30");
    messages_local_time(tz, 1792891800, buf, sizeof buf); /* 2026-10-25T01:30Z */
    CHECK_EQ_STR(buf, "Sun 25 Oct 02:30");
    /* the local date runs ahead of UTC's: a new year */
    messages_local_time(tz, 1798759800, buf, sizeof buf); /* 2026-12-31T23:30Z */
    CHECK_EQ_STR(buf, "Fri 01 Jan 00:30");
    /* a NULL zone is UTC */
    messages_local_time(NULL, 1796029200, buf, sizeof buf);
    CHECK_EQ_STR(buf, "Mon 30 Nov 09:00");
    /* a short buffer is truncated, not overrun */
    char small[6];
    memset(small, 'x', sizeof small);
    messages_local_time(tz, 1796029200, small, sizeof small);
    CHECK_EQ_STR(small, "Mon 3");
}

static void test_email_confirmation(void)
{
    struct world *w = world();
    char subject[400], body[4096];
    facts_for(w, "confirmation");
    messages_email("confirmation", &w->f, subject, sizeof subject, body, sizeof body);
    CHECK(has(subject, "Praxis am Park"));
    CHECK(has(subject, "Mon 30 Nov 10:00"));
    CHECK(has(body, "Hello Maria Muster,"));
    CHECK(has(body, "Dr. Anna Schmidt"));
    CHECK(has(body, "Mon 30 Nov 10:00"));
    CHECK(has(body, "30 minutes"));
    CHECK(has(body, "\nPraxis am Park\n"));
    CHECK(!has(body, "UTC") && !has(body, "09:00"));
    free(w);
}

static void test_email_cancellation(void)
{
    struct world *w = world();
    char subject[400], body[4096];
    facts_for(w, "cancellation");
    snprintf(w->appt.status, sizeof w->appt.status, "cancelled");
    snprintf(w->appt.cancel_reason, sizeof w->appt.cancel_reason,
             "Dr. Schmidt is away at a conference");
    messages_email("cancellation", &w->f, subject, sizeof subject, body, sizeof body);
    CHECK(has(subject, "Praxis am Park"));
    CHECK(has(subject, "Mon 30 Nov 10:00"));
    CHECK(has(subject, "cancelled"));
    CHECK(has(body, "Hello Maria Muster,"));
    CHECK(has(body, "Dr. Anna Schmidt"));
    CHECK(has(body, "Mon 30 Nov 10:00"));
    CHECK(has(body, "cancelled"));
    CHECK(has(body, "Reason: Dr. Schmidt is away at a conference\n"));

    /* no reason: no "Reason:" line */
    w->appt.cancel_reason[0] = 0;
    messages_email("cancellation", &w->f, subject, sizeof subject, body, sizeof body);
    CHECK(!has(body, "Reason:"));
    CHECK(has(body, "Mon 30 Nov 10:00"));
    free(w);
}

static void test_email_reminder(void)
{
    struct world *w = world();
    char subject[400], body[4096];
    facts_for(w, "reminder_24h");
    messages_email("reminder_24h", &w->f, subject, sizeof subject, body, sizeof body);
    CHECK(has(subject, "Praxis am Park"));
    CHECK(has(subject, "reminder"));
    CHECK(has(subject, "Mon 30 Nov 10:00"));
    CHECK(has(body, "Hello Maria Muster,"));
    CHECK(has(body, "reminder"));
    CHECK(has(body, "Dr. Anna Schmidt"));
    CHECK(has(body, "Mon 30 Nov 10:00"));

    /* an appointment in summer is written in summer time */
    w->appt.start = 1782892800; /* 2026-07-01T08:00Z */
    w->appt.end = w->appt.start + 1800;
    messages_email("reminder_2h", &w->f, subject, sizeof subject, body, sizeof body);
    CHECK(has(subject, "Wed 01 Jul 10:00"));
    CHECK(has(body, "Wed 01 Jul 10:00"));
    free(w);
}

static void test_email_offers(void)
{
    struct world *w = world();
    char subject[400], body[4096];

    facts_for(w, "reschedule_offer");
    messages_email("reschedule_offer", &w->f, subject, sizeof subject, body, sizeof body);
    CHECK(has(subject, "Praxis am Park"));
    CHECK(has(subject, "new appointment time"));
    CHECK(has(body, "Hello Maria Muster,"));
    CHECK(has(body, "Dr. Anna Schmidt"));
    CHECK(has(body, "Mon 30 Nov 10:00"));
    CHECK(has(body, "\n  1) Wed 02 Dec 09:00\n  2) Thu 03 Dec 14:30\n  3) Fri 04 Dec 08:15\n"));
    CHECK(!has(body, "  4)"));
    CHECK(has(body, LINK));
    CHECK(has(body, "until Tue 01 Dec 18:00"));

    facts_for(w, "no_show_offer");
    messages_email("no_show_offer", &w->f, subject, sizeof subject, body, sizeof body);
    CHECK(has(subject, "Praxis am Park"));
    CHECK(has(subject, "missed you"));
    CHECK(has(body, "missed you"));
    CHECK(has(body, "Dr. Anna Schmidt"));
    CHECK(has(body, "Mon 30 Nov 10:00"));
    CHECK(has(body, "  1) Wed 02 Dec 09:00\n"));
    CHECK(has(body, "  3) Fri 04 Dec 08:15\n"));
    CHECK(has(body, LINK));

    /* no free times: say so */
    w->offer.noptions = 0;
    messages_email("no_show_offer", &w->f, subject, sizeof subject, body, sizeof body);
    CHECK(!has(body, "  1)"));
    CHECK(has(body, "call us"));
    CHECK(has(body, LINK));

    /* no deadline: no "until" */
    w->offer.noptions = 3;
    w->offer.expires_at = 0;
    messages_email("no_show_offer", &w->f, subject, sizeof subject, body, sizeof body);
    CHECK(!has(body, "until"));
    free(w);
}

static void test_email_long_names_stay_utf8(void)
{
    /* A 200-character clinic name in Cyrillic (2 bytes a character) with the
     * 400-byte subject buffer notify.c uses: whatever is cut, the subject
     * and body are still whole UTF-8 characters. */
    struct world *w = world();
    char subject[400], body[4096];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(w->clinic.name + n, sizeof w->clinic.name - n, "Ж");
    facts_for(w, "confirmation");
    messages_email("confirmation", &w->f, subject, sizeof subject, body, sizeof body);
    CHECK(valid_utf8(subject));
    CHECK(valid_utf8(body));
    CHECK(has(body, "Mon 30 Nov 10:00"));
    free(w);
}

/* The SMS for purpose: at most two segments, and the facts that make it
 * useful (the time, the options and the whole link for offers). */
static void check_sms(struct world *w, const char *purpose, char *sms, size_t len)
{
    facts_for(w, purpose);
    messages_sms(purpose, &w->f, sms, len);
    CHECK(sms[0] != 0);
    CHECK(valid_utf8(sms));
    CHECK(gsm7_segments(sms) >= 1 && gsm7_segments(sms) <= SMS_MAX_SEGMENTS);
    CHECK(has(sms, "Mon 30 Nov 10:00"));
    if (is_offer(purpose)) {
        CHECK(has(sms, " 1) Wed 02 Dec 09:00"));
        CHECK(has(sms, " 2) Thu 03 Dec 14:30"));
        CHECK(has(sms, " 3) Fri 04 Dec 08:15"));
        CHECK(has(sms, LINK));
    }
    if (gsm7_segments(sms) > SMS_MAX_SEGMENTS)
        fprintf(stderr, "  %s: %d segments: %s\n", purpose, gsm7_segments(sms), sms);
}

static void test_sms_normal(void)
{
    struct world *w = world();
    char sms[1024];
    CHECK(strlen(LINK) >= 95 && strlen(LINK) <= 105);
    for (int i = 0; i < NALL; i++) {
        check_sms(w, ALL[i], sms, sizeof sms);
        CHECK(gsm7_septets(sms) >= 0);
        /* a normal case has room for the full wording */
        CHECK(has(sms, "Praxis am Park"));
        CHECK(has(sms, "Dr. Anna Schmidt"));
    }
    facts_for(w, "cancellation");
    messages_sms("cancellation", &w->f, sms, sizeof sms);
    CHECK(has(sms, "cancel"));
    facts_for(w, "reminder_24h");
    messages_sms("reminder_24h", &w->f, sms, sizeof sms);
    CHECK(has(sms, "eminder"));
    free(w);
}

static void test_sms_long_clinic_name(void)
{
    struct world *w = world();
    char sms[1024];
    /* 200 characters, the longest name the API takes */
    static const char base[] = "Gemeinschaftspraxis fuer Allgemeinmedizin und Innere Medizin ";
    size_t n = 0;
    while (n < 200)
        w->clinic.name[n] = base[n % (sizeof base - 1)], n++;
    w->clinic.name[200] = 0;
    for (int i = 0; i < NALL; i++) {
        check_sms(w, ALL[i], sms, sizeof sms);
        CHECK(gsm7_septets(sms) >= 0);
        CHECK(has(sms, "Gemeinschaftspraxis")); /* shortened, not dropped */
    }
    free(w);
}

static void test_sms_typographic_clinic_name(void)
{
    struct world *w = world();
    char sms[1024];
    snprintf(w->clinic.name, sizeof w->clinic.name, "Dr. O’Brien’s “Praxis am Park” – Mitte");
    for (int i = 0; i < NALL; i++) {
        check_sms(w, ALL[i], sms, sizeof sms);
        CHECK(gsm7_septets(sms) >= 0);
        CHECK(has(sms, "O'Brien's"));
        CHECK(!has(sms, "’"));
    }

    /* long, so the shortened wording (the name cut at 20 bytes) is used; the
     * 3-byte ’ ends just before the cut, straddles it twice, starts at it */
    for (int shift = 0; shift < 4; shift++) {
        char name[NAME_BUF];
        int n = snprintf(name, sizeof name, "%.*sKinderarztpraxi O’Neill und Partner ", shift,
                         "XXXX");
        while (n < 400) {
            name[n] = "Kinder- und Jugendmedizin "[n % 26];
            n++;
        }
        name[n] = 0;
        CHECK(name[17 + shift] == '\xE2');
        memcpy(w->clinic.name, name, sizeof name);
        for (int i = 0; i < NALL; i++) {
            check_sms(w, ALL[i], sms, sizeof sms);
            CHECK(gsm7_septets(sms) >= 0);
            CHECK(has(sms, "Kinderarztpraxi"));
        }
    }
    free(w);
}

static void test_sms_ucs2_doctor_name(void)
{
    /* Ł, Ż, ó and ć are outside GSM-7 (ò is in it, ó is not). messages.h:
     * "the first [wording] that fits in two GSM-7 segments (306 septets) is
     * used" and the less detailed wordings leave the doctor out, so the text
     * is GSM-7 (one segment where the full wording needs UCS-2 and two). */
    struct world *w = world();
    char sms[1024];
    snprintf(w->doctor.name, sizeof w->doctor.name, "Dr. Łukasz Żółć");
    for (int i = 0; i < NALL; i++) {
        check_sms(w, ALL[i], sms, sizeof sms);
        int septets = gsm7_septets(sms);
        CHECK(septets >= 0);
        if (septets < 0)
            fprintf(stderr, "  %s: UCS-2, %d segment(s): %s\n", ALL[i], gsm7_segments(sms),
                    sms);
        CHECK(has(sms, "Praxis am Park"));
    }
    free(w);
}

static void test_sms_ucs2_clinic_name(void)
{
    /* A clinic name only UCS-2 can carry: still at most two segments, with
     * the time, the options and the whole link. */
    struct world *w = world();
    char sms[1024];
    snprintf(w->clinic.name, sizeof w->clinic.name,
             "Przychodnia Lekarska Łódź-Śródmieście im. Józefa Piłsudskiego");
    for (int i = 0; i < NALL; i++)
        check_sms(w, ALL[i], sms, sizeof sms);
    free(w);
}

static void test_sms_no_options(void)
{
    struct world *w = world();
    char sms[1024];
    w->offer.noptions = 0;
    for (int i = 0; i < NALL; i++) {
        if (!is_offer(ALL[i]))
            continue;
        facts_for(w, ALL[i]);
        messages_sms(ALL[i], &w->f, sms, sizeof sms);
        CHECK(gsm7_segments(sms) <= SMS_MAX_SEGMENTS);
        CHECK(gsm7_septets(sms) >= 0);
        CHECK(!has(sms, " 1)"));
        CHECK(has(sms, "call us"));
        CHECK(has(sms, LINK));
    }
    free(w);
}

static void test_sms_many_options(void)
{
    /* The API lets a clinic offer up to OFFER_MAX_OPTIONS (20) times
     * (reschedule_options). messages.h promises at most two segments; the
     * link is what matters, the options it lists are also on its page. */
    struct world *w = world();
    char sms[1024];
    static const int counts[] = {3, 6, 8, 9, OFFER_MAX_OPTIONS};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int n = counts[c];
        w->offer.noptions = n;
        for (int i = 0; i < n; i++) {
            w->offer.options[i].start = 1796198400 + (int64_t)i * 3600;
            w->offer.options[i].end = w->offer.options[i].start + 1800;
        }
        for (int i = 0; i < NALL; i++) {
            if (!is_offer(ALL[i]))
                continue;
            facts_for(w, ALL[i]);
            messages_sms(ALL[i], &w->f, sms, sizeof sms);
            CHECK(gsm7_septets(sms) >= 0);
            CHECK(has(sms, LINK));
            CHECK(has(sms, " 1) Wed 02 Dec 09:00"));
            int seg = gsm7_segments(sms);
            CHECK(seg <= SMS_MAX_SEGMENTS);
            if (seg > SMS_MAX_SEGMENTS)
                fprintf(stderr, "  %s with %d options: %d septets, %d segments\n", ALL[i], n,
                        gsm7_septets(sms), seg);
        }
    }
    free(w);
}

int main(void)
{
    if (!tz_get("Europe/Berlin")) {
        fprintf(stderr, "Europe/Berlin is not in /usr/share/zoneinfo\n");
        return 1;
    }
    RUN(test_local_time);
    RUN(test_email_confirmation);
    RUN(test_email_cancellation);
    RUN(test_email_reminder);
    RUN(test_email_offers);
    RUN(test_email_long_names_stay_utf8);
    RUN(test_sms_normal);
    RUN(test_sms_long_clinic_name);
    RUN(test_sms_typographic_clinic_name);
    RUN(test_sms_ucs2_doctor_name);
    RUN(test_sms_ucs2_clinic_name);
    RUN(test_sms_no_options);
    RUN(test_sms_many_options);
    int rc = unit_summary();
    tz_cache_clear();
    return rc;
}
