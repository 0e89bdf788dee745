/*
 * test_merge.c — the field-level merge (sync/merge.h): a field only one
 * side changed keeps that side's value, a field both changed goes to the
 * later edit, and the clinic's settings compare as the box means them (a
 * grace period not set is not set, whatever its number).
 */
#include <string.h>

#include "sync/merge.h"
#include "unit.h"

#define T0 1796112000000LL /* 2026-12-01T08:00:00Z in ms */

static patient_rec patient(const char *name, const char *email, const char *phone)
{
    patient_rec p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.email, sizeof p.email, "%s", email);
    snprintf(p.phone, sizeof p.phone, "%s", phone);
    p.notify_email = p.notify_sms = true;
    return p;
}

static bool box_later_fields; /* what the callback answers */
static int asked;

static bool box_later(int field, void *ctx)
{
    (void)field;
    (void)ctx;
    asked++;
    return box_later_fields;
}

static unsigned merge(const char *collection, const void *base, const void *box, void *central)
{
    const void *bases[] = {base};
    return sync_merge_fields(collection, bases, 1, box, central, box_later, NULL);
}

static void test_different_fields_both_survive(void)
{
    patient_rec base = patient("Ann", "ann@example.org", "+4915100000001");
    patient_rec box = base, central = base;
    snprintf(box.phone, sizeof box.phone, "+4915100000002");
    snprintf(central.email, sizeof central.email, "ann@clinic.example");
    asked = 0;
    unsigned kept = merge("patients", &base, &box, &central);
    CHECK_EQ_STR(central.phone, "+4915100000002");
    CHECK_EQ_STR(central.email, "ann@clinic.example");
    CHECK_EQ_STR(central.name, "Ann");
    CHECK_EQ_INT(kept, 1u << 2); /* phone */
    CHECK_EQ_INT(asked, 0);      /* nothing both changed */
    char names[64];
    sync_merge_names("patients", kept, names, sizeof names);
    CHECK_EQ_STR(names, "phone");
}

static void test_the_same_field_goes_to_the_later_edit(void)
{
    patient_rec base = patient("Ann", "", "+4915100000001");
    for (int later = 0; later < 2; later++) {
        patient_rec box = base, central = base;
        snprintf(box.phone, sizeof box.phone, "+4915100000002");
        box.notify_sms = false;
        snprintf(central.phone, sizeof central.phone, "+4915100000003");
        box_later_fields = later;
        asked = 0;
        unsigned kept = merge("patients", &base, &box, &central);
        CHECK_EQ_STR(central.phone, later ? "+4915100000002" : "+4915100000003");
        CHECK(!central.notify_sms); /* only the box changed it */
        CHECK_EQ_INT(asked, 1);
        CHECK_EQ_INT(kept, (later ? 1u << 2 : 0) | 1u << 4);
    }
    /* the same change on both sides: nothing to decide */
    patient_rec box = base, central = base;
    snprintf(box.name, sizeof box.name, "Anna");
    snprintf(central.name, sizeof central.name, "Anna");
    asked = 0;
    CHECK_EQ_INT(merge("patients", &base, &box, &central), 0);
    CHECK_EQ_INT(asked, 0);
}

/* A push central did not acknowledge may be there: its value is the box's,
 * not a central edit, so a later local edit of the field stays. */
static void test_a_value_the_box_sent_is_not_a_central_edit(void)
{
    patient_rec base = patient("Ann", "ann@example.org", "+4915100000001");
    patient_rec sent = base, box = base, central = base;
    snprintf(sent.phone, sizeof sent.phone, "+4915100000002");
    snprintf(box.phone, sizeof box.phone, "+4915100000003");
    central = sent; /* the push landed; central then edited the email */
    snprintf(central.email, sizeof central.email, "ann@clinic.example");
    const void *bases[] = {&base, &sent};
    box_later_fields = false;
    asked = 0;
    unsigned kept = sync_merge_fields("patients", bases, 2, &box, &central, box_later, NULL);
    CHECK_EQ_STR(central.phone, "+4915100000003");
    CHECK_EQ_STR(central.email, "ann@clinic.example");
    CHECK_EQ_INT(kept, 1u << 2);
    CHECK_EQ_INT(asked, 0);
    /* a central edit over it is one */
    central = sent;
    snprintf(central.phone, sizeof central.phone, "+4915100000004");
    kept = sync_merge_fields("patients", bases, 2, &box, &central, box_later, NULL);
    CHECK_EQ_STR(central.phone, "+4915100000004");
    CHECK_EQ_INT(asked, 1);
    CHECK_EQ_INT(kept, 0);
}

static void test_clinic_settings(void)
{
    clinic_rec base;
    memset(&base, 0, sizeof base);
    snprintf(base.name, sizeof base.name, "Praxis");
    snprintf(base.timezone, sizeof base.timezone, "Europe/Berlin");
    snprintf(base.language, sizeof base.language, "auto");
    base.grace_minutes = 10; /* the configuration's: not set */
    base.offer_hours = 48;
    base.reminder_hours[0] = 24;
    base.nreminders = 1;
    clinic_rec box = base, central = base;
    box.grace_minutes = 15; /* another configuration, still not set */
    box.offer_hours = 72;
    central.reminder_hours[1] = 2;
    central.nreminders = 2;
    central.grace_set = true;
    central.grace_minutes = 5;
    box_later_fields = true;
    asked = 0;
    unsigned kept = merge("clinics", &base, &box, &central);
    CHECK_EQ_INT(central.offer_hours, 72);
    CHECK_EQ_INT(central.nreminders, 2);
    CHECK(central.grace_set);
    CHECK_EQ_INT(central.grace_minutes, 5);
    CHECK_EQ_INT(asked, 0);
    char names[128];
    sync_merge_names("clinics", kept, names, sizeof names);
    CHECK_EQ_STR(names, "offerHours");
}

static void test_box_later_counts_an_unpushed_edit_after_the_known_revision(void)
{
    struct merge_clock mc = {.pending_at = T0, .has_known = true, .known_rev = "x",
                             .box_id = "box-a"};
    mc.known = (hlc_t){T0 + 5000, 0, "central:w1"};
    mc.central = (hlc_t){T0 + 6000, 0, "central:w2"};
    /* an edit older than the known revision counts as just after it: still
     * before a central edit made later */
    CHECK(!sync_merge_box_later(&mc, T0));
    mc.central = (hlc_t){T0 + 5000, 0, "central:w1"}; /* the known one itself */
    CHECK(sync_merge_box_later(&mc, T0));
    mc.central = (hlc_t){T0 + 6000, 0, "central:w2"};
    CHECK(sync_merge_box_later(&mc, T0 + 7000));
    CHECK(!sync_merge_box_later(&mc, T0 + 5500));
    CHECK(!sync_merge_collection("appointments"));
    CHECK(sync_merge_collection("doctors"));
    CHECK_EQ_INT(sync_merge_nfields("doctors"), 4);
    CHECK_EQ_STR(sync_merge_field("doctors", 3), "slotMinutes");
}

int main(void)
{
    RUN(test_different_fields_both_survive);
    RUN(test_the_same_field_goes_to_the_later_edit);
    RUN(test_a_value_the_box_sent_is_not_a_central_edit);
    RUN(test_clinic_settings);
    RUN(test_box_later_counts_an_unpushed_edit_after_the_known_revision);
    return unit_summary();
}
