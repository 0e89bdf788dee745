/*
 * backupplan.c — see backupplan.h.
 */
#include "domain/backupplan.h"

/* Days since 1970-01-01 in the zone's local time (floor, also before 1970). */
static int64_t local_day(int64_t t, const tz_t *zone, int64_t *sec_of_day)
{
    int64_t local = t + (zone ? tz_offset_at(zone, t) : 0);
    int64_t day = local / 86400 - (local % 86400 < 0);
    if (sec_of_day)
        *sec_of_day = local - day * 86400;
    return day;
}

bool backupplan_due(int64_t now, int64_t last_ok, int64_t last_failed, const tz_t *zone, int hour)
{
    int64_t sec;
    int64_t today = local_day(now, zone, &sec);
    if (sec < (int64_t)hour * 3600)
        return false;
    /* made at or after today's hour: done for today (a backup made before
     * the hour, by hand or yesterday's late one, does not count) */
    if (last_ok > 0) {
        int64_t ok_sec;
        int64_t ok_day = local_day(last_ok, zone, &ok_sec);
        if (ok_day > today || (ok_day == today && ok_sec >= (int64_t)hour * 3600))
            return false;
    }
    if (last_failed > last_ok && now - last_failed < BACKUPPLAN_RETRY_SECONDS && now >= last_failed)
        return false;
    return true;
}
