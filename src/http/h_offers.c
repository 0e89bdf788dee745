/*
 * h_offers.c — GET /api/offers: the reschedule offers staff follow up on
 * (the UI's "No-shows and offers" screen), each with its options, whether
 * and how it was used, and the state of its messages. Never the token
 * (only its hash is stored), never the messages' texts or addresses.
 * Thin: validate the query, read on a pooled connection, render.
 */
#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "http/http.h"
#include "http/render.h"
#include "store/store.h"

#define OFFER_LIST_DEFAULT 100
#define OFFER_LIST_MAX 1000
#define OFFER_LIST_NOTES 4 /* an offer has one message per channel */

struct list_ctx {
    db_conn_t *c;
    const tz_t *tz;
    json_t *arr;
};

static int add_offer(const offer_rec *o, void *arg)
{
    struct list_ctx *l = arg;
    notification_rec notes[OFFER_LIST_NOTES];
    int n = store_notification_of_offer(l->c, o->appointment_id, o->id, notes, OFFER_LIST_NOTES);
    if (n < 0)
        return -1;
    json_array_append_new(l->arr, render_offer_listed(l->tz, o, notes, n));
    return 0;
}

void h_offer_list(req_t *r)
{
    char appt[ID_LEN + 4] = "";
    struct offer_filter f = {.limit = OFFER_LIST_DEFAULT};
    bool has;
    long limit = OFFER_LIST_DEFAULT;

    if (http_query(r, "appointment_id", appt, sizeof appt)) {
        if (!ids_valid(appt)) {
            http_problem(r, 400, "appointment_id must be an id", "appointment_id", NULL);
            return;
        }
        f.appointment_id = appt;
    }
    if (!http_query_time(r, "from", false, &f.from, &has) ||
        !http_query_time(r, "to", true, &f.to, &has))
        return;
    if (!http_query_int(r, "limit", 1, OFFER_LIST_MAX, &limit))
        return;
    f.limit = (int)limit;
    /* checked after the checks above: the most basic problem answers */
    if (f.from && f.to && f.to <= f.from) {
        http_problem(r, 422, "to must be after from", "to", NULL);
        return;
    }
    struct list_ctx l = {db_reader(r->app->db), http_clinic_tz(r), json_array()};
    if (!l.c || store_offer_list(l.c, &f, add_offer, &l) != STORE_OK) {
        db_reader_release(r->app->db, l.c);
        json_decref(l.arr);
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
        return;
    }
    db_reader_release(r->app->db, l.c);
    http_json(r, 200, json_pack("{s:o}", "offers", l.arr));
}
