/*
 * reminders.c — see reminders.h. The candidates are found on a reader
 * connection (an index walk, off the writer thread); each is checked again
 * and queued inside one write job, so a reminder is written once even if
 * two sweeps overlap.
 */
#include "service/reminders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "domain/reminder.h"
#include "outbox/outbox.h"
#include "service/messages.h"
#include "service/notify.h"
#include "store/store.h"

#define REMINDER_BATCH 128

struct reminder_job {
    const clinic_rec *clinic;
    int64_t now;
    char (*ids)[ID_LEN];
    long n;
    long queued;
};

static int reminder_job(db_conn_t *c, void *arg)
{
    struct reminder_job *j = arg;
    const clinic_rec *cl = j->clinic;
    appt_rec a;
    char purpose[32];
    bool exists;

    for (long i = 0; i < j->n; i++) {
        int rc = store_appt_get(c, j->ids[i], &a);
        if (rc == STORE_NOT_FOUND)
            continue;
        if (rc != STORE_OK)
            return -1;
        if (strcmp(a.status, "booked") != 0)
            continue;
        int lead = reminder_due(cl->reminder_hours, cl->nreminders, a.start, a.created_at, j->now);
        if (!lead)
            continue;
        snprintf(purpose, sizeof purpose, PURPOSE_REMINDER_PREFIX "%dh", lead);
        if (store_notification_exists(c, a.id, purpose, &exists) != STORE_OK)
            return -1;
        if (exists)
            continue;
        notify_what what = {purpose, NULL, NULL, lead, NULL, NULL, a.start - (int64_t)lead * 3600};
        if (notify_queue(c, cl, &a, &what, j->now, NULL) != 0)
            return -1;
        j->queued++;
    }
    return 0;
}

long svc_reminder_sweep(app_t *app, int64_t now)
{
    clinic_rec clinic;
    int maxlead = 0;
    long total = 0;
    char(*ids)[ID_LEN] = NULL;

    app_clinic(app, &clinic);
    for (int i = 0; i < clinic.nreminders; i++)
        if (clinic.reminder_hours[i] > maxlead)
            maxlead = clinic.reminder_hours[i];
    if (maxlead == 0)
        return 0;
    ids = malloc(sizeof *ids * REMINDER_BATCH);
    if (!ids)
        return -1;
    /* Walk the window in start order; each batch resumes after the last
     * start seen, so appointments that need nothing do not block the rest. */
    int64_t after = now, until = now + (int64_t)maxlead * 3600;
    for (;;) {
        db_conn_t *c = db_reader(app->db);
        long n = c ? store_appt_starting(c, after, until, ids, REMINDER_BATCH) : -1;
        int64_t last_start = 0;
        if (n > 0) {
            appt_rec last;
            if (store_appt_get(c, ids[n - 1], &last) == STORE_OK)
                last_start = last.start;
        }
        if (c)
            db_reader_release(app->db, c);
        if (n < 0) {
            total = -1;
            break;
        }
        if (n == 0)
            break;
        struct reminder_job j = {&clinic, now, ids, n, 0};
        if (db_write(app->db, reminder_job, &j) != 0) {
            total = -1;
            break;
        }
        total += j.queued;
        if (n < REMINDER_BATCH || last_start <= after)
            break;
        /* Appointments sharing last_start are all in this batch unless more
         * than a batch start at one instant; then the next sweep gets them. */
        after = last_start;
    }
    free(ids);
    if (total > 0) {
        outbox_kick(app);
        log_info("reminders", "queued reminders for %ld appointment(s)", total);
    }
    return total;
}
