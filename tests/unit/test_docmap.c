/*
 * test_docmap.c — reading central documents (sync/docmap.c): dates and
 * numbers at the edges of their types. Both cases were found by
 * tests/fuzz/fuzz_docmap.c (undefined behaviour on a date of INT64_MIN ms
 * and on a double too large for int64_t); their inputs are kept in
 * tests/fuzz/corpus/docmap/regress-*. The clinic's UI language: kept when
 * absent, refused when not one the UI has.
 */
#include <math.h>

#include "sync/docmap.h"
#include "unit.h"

static bool date_of(int64_t ms, int64_t *out)
{
    bson_t d = BSON_INITIALIZER;
    BSON_APPEND_DATE_TIME(&d, "at", ms);
    bool ok = docmap_date(&d, "at", out);
    bson_destroy(&d);
    return ok;
}

static void test_dates_round_down_to_seconds(void)
{
    int64_t t = 42;
    CHECK(date_of(1774769400999, &t));
    CHECK_EQ_INT(t, 1774769400);
    CHECK(date_of(-1, &t));
    CHECK_EQ_INT(t, -1);
    CHECK(date_of(-1000, &t));
    CHECK_EQ_INT(t, -1);
    CHECK(date_of(-1001, &t));
    CHECK_EQ_INT(t, -2);
}

static void test_dates_outside_years_1_to_9999_are_refused(void)
{
    int64_t t;
    CHECK(date_of(-62135596800000, &t)); /* 0001-01-01T00:00:00Z */
    CHECK_EQ_INT(t, -62135596800);
    CHECK(date_of(253402300799999, &t)); /* 9999-12-31T23:59:59.999Z */
    CHECK_EQ_INT(t, 253402300799);
    CHECK(!date_of(-62135596800001, &t));
    CHECK(!date_of(253402300800000, &t));
    CHECK(!date_of(INT64_MIN, &t));
    CHECK(!date_of(INT64_MAX, &t));

    /* a document with such a date is refused with the field named */
    bson_t d = BSON_INITIALIZER;
    appt_rec a;
    struct docmap_err e = {""};
    BSON_APPEND_UTF8(&d, "doctorId", "d");
    BSON_APPEND_UTF8(&d, "patientId", "p");
    BSON_APPEND_DATE_TIME(&d, "start", INT64_MIN);
    CHECK(!docmap_to_appt(&d, &a, &e));
    CHECK_EQ_STR(e.why, "start: not a date");
    bson_destroy(&d);
}

/* slotMinutes sent as a double, as JavaScript writers do. */
static bool slot_minutes(double v, doctor_rec *out, struct docmap_err *e)
{
    bson_t d = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&d, "name", "Dr. X");
    BSON_APPEND_DOUBLE(&d, "slotMinutes", v);
    bool ok = docmap_to_doctor(&d, out, e);
    bson_destroy(&d);
    return ok;
}

static void test_whole_doubles_only(void)
{
    doctor_rec r;
    struct docmap_err e;
    CHECK(slot_minutes(20.0, &r, &e));
    CHECK_EQ_INT(r.slot_minutes, 20);
    CHECK(!slot_minutes(20.5, &r, &e));
    CHECK_EQ_STR(e.why, "slotMinutes: not a whole number");
    CHECK(!slot_minutes(1.5e161, &r, &e));
    CHECK_EQ_STR(e.why, "slotMinutes: not a whole number");
    CHECK(!slot_minutes(9223372036854775808.0, &r, &e)); /* 2^63 */
    CHECK_EQ_STR(e.why, "slotMinutes: not a whole number");
    CHECK(!slot_minutes(-INFINITY, &r, &e));
    CHECK(!slot_minutes(NAN, &r, &e));
    CHECK_EQ_STR(e.why, "slotMinutes: not a whole number");
    CHECK(!slot_minutes(-9223372036854775808.0, &r, &e)); /* -2^63: whole, out of range */
    CHECK_EQ_STR(e.why, "slotMinutes: out of range");
}

/* A central clinic document with the required fields, and language when
 * not NULL, read over the box's clinic (language "de"). */
static bool clinic_language(const char *language, bool as_number, clinic_rec *out,
                            struct docmap_err *e)
{
    bson_t d = BSON_INITIALIZER;
    memset(out, 0, sizeof *out);
    snprintf(out->language, sizeof out->language, "de");
    BSON_APPEND_UTF8(&d, "name", "Praxis");
    BSON_APPEND_UTF8(&d, "timezone", "Europe/Berlin");
    BSON_APPEND_INT32(&d, "rescheduleOptions", 3);
    BSON_APPEND_INT32(&d, "offerHours", 48);
    if (as_number)
        BSON_APPEND_INT32(&d, "language", 1);
    else if (language)
        BSON_APPEND_UTF8(&d, "language", language);
    bool ok = docmap_to_clinic(&d, out, e);
    bson_destroy(&d);
    return ok;
}

static void test_clinic_language(void)
{
    clinic_rec c;
    struct docmap_err e;
    CHECK(clinic_language(NULL, false, &c, &e)); /* absent: the box's stays */
    CHECK_EQ_STR(c.language, "de");
    CHECK(clinic_language("en", false, &c, &e));
    CHECK_EQ_STR(c.language, "en");
    CHECK(clinic_language("auto", false, &c, &e));
    CHECK_EQ_STR(c.language, "auto");
    CHECK(!clinic_language("fr", false, &c, &e));
    CHECK_EQ_STR(e.why, "language: not auto, en or de");
    CHECK(!clinic_language("a-very-long-language", false, &c, &e));
    CHECK_EQ_STR(e.why, "language: not auto, en or de");
    CHECK(!clinic_language(NULL, true, &c, &e));
    CHECK_EQ_STR(e.why, "language: not auto, en or de");
}

int main(void)
{
    RUN(test_dates_round_down_to_seconds);
    RUN(test_dates_outside_years_1_to_9999_are_refused);
    RUN(test_whole_doubles_only);
    RUN(test_clinic_language);
    return unit_summary();
}
