/* reminder.c — see reminder.h. */
#include "domain/reminder.h"

int reminder_due(const int *hours, int n, int64_t start, int64_t booked_at, int64_t now)
{
    int best = 0;
    if (now >= start)
        return 0;
    /* the smallest lead whose window has opened */
    for (int i = 0; i < n; i++) {
        int64_t opens = start - (int64_t)hours[i] * 3600;
        if (hours[i] > 0 && now >= opens && (best == 0 || hours[i] < best))
            best = hours[i];
    }
    if (best && booked_at >= start - (int64_t)best * 3600)
        return 0;
    return best;
}
