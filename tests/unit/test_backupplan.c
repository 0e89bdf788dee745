/*
 * test_backupplan.c — unit tests for src/domain/backupplan.c and the backup
 * file names of src/store/backup.c (the nightly backup prunes by them). Instants
 * computed with `date -u -d '...' +%s` (Europe/Berlin is UTC+1 in winter,
 * UTC+2 in summer).
 */
#include "domain/backupplan.h"
#include "store/backup.h"
#include "unit.h"

/* 2026-12-07 00:00:00 UTC = 1796601600 */
#define DEC7_UTC 1796601600LL

static void test_due_from_the_hour_once_a_day(void)
{
    const tz_t *utc = tz_get("UTC");
    CHECK(utc != NULL);
    int64_t at1 = DEC7_UTC + 3600, at2 = DEC7_UTC + 2 * 3600;
    CHECK(!backupplan_due(at1, 0, 0, utc, 2));          /* before the hour */
    CHECK(backupplan_due(at2, 0, 0, utc, 2));           /* the hour, none yet */
    CHECK(backupplan_due(at2, at2 - 86400, 0, utc, 2)); /* yesterday's */
    CHECK(!backupplan_due(at2 + 60, at2, 0, utc, 2));   /* done today */
    CHECK(!backupplan_due(DEC7_UTC + 86399, at2, 0, utc, 2));
    CHECK(backupplan_due(DEC7_UTC + 86400 + 7200, at2, 0, utc, 2)); /* the next day */
    /* a box that was off at 02:00 catches up at 10:00 */
    CHECK(backupplan_due(DEC7_UTC + 10 * 3600, at2 - 86400, 0, utc, 2));
    /* a backup by hand at 01:00 does not stand in for the nightly one */
    CHECK(backupplan_due(at2, at1, 0, utc, 2));
}

static void test_failures_wait_before_the_next_try(void)
{
    const tz_t *utc = tz_get("UTC");
    int64_t at2 = DEC7_UTC + 2 * 3600;
    CHECK(!backupplan_due(at2 + 60, 0, at2, utc, 2));
    CHECK(!backupplan_due(at2 + BACKUPPLAN_RETRY_SECONDS - 1, 0, at2, utc, 2));
    CHECK(backupplan_due(at2 + BACKUPPLAN_RETRY_SECONDS, 0, at2, utc, 2));
    /* a clock set back below the failure does not stop backups for good */
    CHECK(backupplan_due(at2 + 30 * 60, 0, at2 + 3600, utc, 2));
}

static void test_the_clinic_day_counts(void)
{
    const tz_t *berlin = tz_get("Europe/Berlin");
    CHECK(berlin != NULL);
    /* 2026-12-06 23:30 UTC is 2026-12-07 00:30 in Berlin: with hour 0 a new
     * Berlin day has begun, although the UTC day has not */
    int64_t t = DEC7_UTC - 1800;
    int64_t yesterday_evening = DEC7_UTC - 6 * 3600; /* 19:00 Berlin on the 6th */
    CHECK(backupplan_due(t, yesterday_evening, 0, berlin, 0));
    CHECK(!backupplan_due(t, yesterday_evening, 0, tz_get("UTC"), 0));
    /* 02:00 Berlin is 01:00 UTC */
    CHECK(!backupplan_due(DEC7_UTC + 3600 - 1, 0, 0, berlin, 2));
    CHECK(backupplan_due(DEC7_UTC + 3600, 0, 0, berlin, 2));
}

static void test_backup_file_names(void)
{
    char name[200];
    backup_file_name("/media/usb", DEC7_UTC + 2 * 3600 + 61, name, sizeof name);
    CHECK_EQ_STR(name, "/media/usb/clinicbox-20261207T020101Z.db");
    CHECK(backup_is_file_name("clinicbox-20261207T020101Z.db"));
    CHECK(!backup_is_file_name("clinicbox-20261207T020101Z.db.partial-42"));
    CHECK(!backup_is_file_name("clinicbox-by-hand.db"));
    CHECK(!backup_is_file_name("clinicbox-2026120xT020101Z.db"));
    CHECK(!backup_is_file_name("clinicbox-20261207T020101Z.dc"));
    CHECK(!backup_is_file_name(""));
}

int main(void)
{
    RUN(test_backup_file_names);
    RUN(test_due_from_the_hour_once_a_day);
    RUN(test_failures_wait_before_the_next_try);
    RUN(test_the_clinic_day_counts);
    return unit_summary();
}
