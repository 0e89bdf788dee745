/*
 * fuzz_docmap.c — libFuzzer target: reading central documents into the
 * box's records (sync/docmap.c), as the pull does with what the central
 * MongoDB sends (sync/apply.c), and the revision text in _sync.rev (hlc.c).
 *
 * Input: one BSON document. Bytes that libbson does not accept as a
 * document (bson_init_static + bson_validate) are dropped, as a driver
 * would drop them; every well-formed document goes through every reader:
 * _id, _sync.rev (hlc_parse), _sync.by, the tombstone mark, and the
 * clinic, doctor, patient, appointment and schedule mappings.
 *
 * Checks: what a mapping accepts fits its record (texts NUL-terminated in
 * their buffers, numbers in their ranges); a refusal names a reason.
 */
#include <bson/bson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "sync/docmap.h"
#include "sync/hlc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_OK(s) (memchr((s), '\0', sizeof(s)) != NULL)

static void refused(const struct docmap_err *e)
{
    if (!e->why[0] || !TEXT_OK(e->why))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bson_t doc;
    size_t bad_offset;
    if (!bson_init_static(&doc, data, size) ||
        !bson_validate(&doc, BSON_VALIDATE_NONE, &bad_offset))
        return 0;

    char id[ID_LEN + 8], rev_text[96], by[48];
    int64_t when;
    hlc_t rev;
    if (docmap_text(&doc, "_id", id, sizeof id) && !TEXT_OK(id))
        abort();
    if (docmap_text(&doc, "_sync.rev", rev_text, sizeof rev_text) && hlc_parse(rev_text, &rev)) {
        char back[HLC_TEXT_MAX];
        hlc_format(&rev, back);
        if (!TEXT_OK(rev.node))
            abort();
    }
    docmap_text(&doc, "_sync.by", by, sizeof by);
    docmap_date(&doc, "createdAt", &when);
    docmap_deleted(&doc);

    struct docmap_err e;
    memset(&e, 0, sizeof e);
    clinic_rec clinic;
    memset(&clinic, 0, sizeof clinic);
    snprintf(clinic.id, sizeof clinic.id, "c1");
    snprintf(clinic.name, sizeof clinic.name, "Praxis");
    snprintf(clinic.timezone, sizeof clinic.timezone, "UTC");
    clinic.reschedule_options = 3;
    clinic.offer_hours = 48;
    if (docmap_to_clinic(&doc, &clinic, &e)) {
        if (!TEXT_OK(clinic.name) || !TEXT_OK(clinic.timezone) || !clinic.name[0] ||
            clinic.nreminders < 0 || clinic.nreminders > CLINIC_MAX_REMINDERS ||
            clinic.reschedule_options < 1 || clinic.reschedule_options > 20 ||
            clinic.offer_hours < 1 || clinic.offer_hours > 720)
            abort();
    } else {
        refused(&e);
    }

    memset(&e, 0, sizeof e);
    doctor_rec d;
    if (docmap_to_doctor(&doc, &d, &e)) {
        if (!TEXT_OK(d.id) || !TEXT_OK(d.name) || !TEXT_OK(d.email) || !TEXT_OK(d.phone) ||
            d.slot_minutes < 5 || d.slot_minutes > 480 || d.slot_minutes % 5)
            abort();
    } else {
        refused(&e);
    }

    memset(&e, 0, sizeof e);
    patient_rec p;
    if (docmap_to_patient(&doc, &p, &e)) {
        if (!TEXT_OK(p.id) || !TEXT_OK(p.name) || !TEXT_OK(p.email) || !TEXT_OK(p.phone))
            abort();
    } else {
        refused(&e);
    }

    memset(&e, 0, sizeof e);
    appt_rec a;
    if (docmap_to_appt(&doc, &a, &e)) {
        if (!TEXT_OK(a.id) || !TEXT_OK(a.doctor_id) || !TEXT_OK(a.patient_id) ||
            !TEXT_OK(a.status) || !TEXT_OK(a.reason) || !TEXT_OK(a.cancel_reason) ||
            !TEXT_OK(a.created_by) || !TEXT_OK(a.updated_by) || a.end <= a.start)
            abort();
    } else {
        refused(&e);
    }

    memset(&e, 0, sizeof e);
    schedule_rec s;
    if (docmap_to_schedule(&doc, &s, &e)) {
        for (size_t i = 0; i < s.nweekly; i++)
            if (s.weekly[i].weekday < 1 || s.weekly[i].weekday > 7 ||
                s.weekly[i].start_min < 0 || s.weekly[i].start_min >= s.weekly[i].end_min ||
                s.weekly[i].end_min > 1440)
                abort();
        for (size_t i = 0; i < s.nexceptions; i++)
            if (!s.exceptions[i].closed &&
                (s.exceptions[i].start_min < 0 ||
                 s.exceptions[i].start_min >= s.exceptions[i].end_min ||
                 s.exceptions[i].end_min > 1440))
                abort();
    } else {
        refused(&e);
    }
    schedule_rec_free(&s);
    return 0;
}
