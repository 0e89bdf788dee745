/*
 * h_events.c — GET /api/events: admins read the box's own event log
 * (store_event_page), what happened to each record and who did it: bookings
 * and their life cycle, offers, messages, and what the central sync applied,
 * refused (`sync_refused`) or turned into a conflict. Newest first; filters
 * by record, type, actor prefix (`central` for every central writer) and
 * time. A page ends with `next`, the cursor of the following page (the same
 * filters with `cursor=next`), null when no older event matches: keyset
 * paging by seq, so events appended while a client pages never repeat or
 * shift an entry. Built like GET /api/audit (h_audit.c), which it shares
 * the store's paging (rows_page) and the text rendering with.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "http/render.h"
#include "store/store.h"

#define EVENT_PAGE_DEFAULT 50
#define EVENT_PAGE_MAX 500
#define EVENT_NAME_MAX 32 /* entity, type */
#define EVENT_ID_MAX 128  /* entity_id */

struct page {
    json_t *arr;
    const tz_t *tz;
    int64_t last;
};

static void add_event(const event_rec *e, void *arg)
{
    struct page *p = arg;
    json_t *data = json_loads(e->data, 0, NULL);
    if (!json_is_object(data)) { /* not written by the box: shown as it is */
        json_decref(data);
        data = json_pack("{s:o}", "text", render_stored_text(e->data));
    }
    json_array_append_new(
        p->arr, json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "seq", (json_int_t)e->seq, "at",
                          render_time(p->tz, e->at), "actor", render_stored_text(e->actor),
                          "entity", render_stored_text(e->entity), "entity_id",
                          render_stored_text(e->entity_id), "type",
                          render_stored_text(e->type), "data", data));
    p->last = e->seq;
}

/* A text filter: absent leaves *set alone; present it must be 1 to max
 * characters, lowercase letters, digits and _ when name_like, else any but
 * control characters. 400 naming the parameter otherwise. */
static bool query_text(req_t *r, const char *name, size_t max, bool name_like, char *out,
                       size_t len, const char **set)
{
    char msg[160];
    if (!http_query(r, name, out, len)) /* len > max + 1: a longer one is seen */
        return true;
    size_t n = strlen(out);
    bool ok = n >= 1 && n <= max;
    for (const unsigned char *c = (const unsigned char *)out; ok && *c; c++)
        ok = name_like ? (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'
                       : *c >= 0x20 && *c != 0x7f;
    if (!ok) {
        snprintf(msg, sizeof msg, "%s must be %zu characters at most%s, not empty", name, max,
                 name_like ? " of a-z, 0-9 and _" : " without control characters");
        http_problem(r, 400, msg, name, NULL);
        return false;
    }
    *set = out;
    return true;
}

void h_event_list(req_t *r)
{
    char entity[EVENT_NAME_MAX + 2], type[EVENT_NAME_MAX + 2], entity_id[EVENT_ID_MAX + 2],
        actor[ACTOR_MAX_LEN + 2];
    long cursor = 0, limit = EVENT_PAGE_DEFAULT;
    struct event_filter f = {0};
    if (!query_text(r, "entity", EVENT_NAME_MAX, true, entity, sizeof entity, &f.entity) ||
        !query_text(r, "entity_id", EVENT_ID_MAX, false, entity_id, sizeof entity_id,
                    &f.entity_id) ||
        !query_text(r, "type", EVENT_NAME_MAX, true, type, sizeof type, &f.type) ||
        !query_text(r, "actor", ACTOR_MAX_LEN, false, actor, sizeof actor, &f.actor_prefix) ||
        !http_query_time(r, "since", false, &f.since, &f.has_since) ||
        !http_query_time(r, "before", false, &f.before, &f.has_before) ||
        !http_query_int(r, "cursor", 1, LONG_MAX, &cursor) ||
        !http_query_int(r, "limit", 1, EVENT_PAGE_MAX, &limit))
        return;
    if (f.has_since && f.has_before && f.before <= f.since) {
        http_problem(r, 422, "before must be after since", "before", NULL);
        return;
    }
    f.cursor = cursor;
    f.limit = (int)limit;
    struct page p = {json_array(), http_clinic_tz(r), 0};
    bool more = false;
    db_conn_t *c = db_reader(r->app->db);
    bool ok = c && store_event_page(c, &f, add_event, &p, &more) == STORE_OK;
    db_reader_release(r->app->db, c);
    if (!ok || !p.arr) {
        json_decref(p.arr);
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
        return;
    }
    http_json(r, 200,
              json_pack("{s:o,s:o}", "events", p.arr, "next",
                        more ? json_integer((json_int_t)p.last) : json_null()));
}
