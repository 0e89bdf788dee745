/*
 * h_audit.c — GET /api/audit: admins page through the audit trail
 * (store/audit.h), oldest first. `after` is the last seq the client has
 * (0 or absent: from the start); the answer's `next` is the value to pass
 * as `after` for the following page, null when this page reaches the end.
 * Oldest first because the trail only grows at its end: a page once read
 * never changes, and following `next` until null reads every entry once.
 * `latest` (seq and hash of the newest entry) tells where the end is and is
 * the hash an operator notes to check the trail later (docs/security.md).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"
#include "http/http.h"
#include "http/render.h"
#include "store/store.h"

#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX 1000

/* `at` (milliseconds) in the clinic's time with its offset, and the
 * milliseconds: "2026-12-01T09:30:00.123+01:00". */
static json_t *render_ms(const tz_t *tz, int64_t ms)
{
    int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    char base[TIMEFMT_RFC3339_LEN], out[TIMEFMT_RFC3339_LEN + 8];
    timefmt_format_rfc3339(s, tz_offset_at(tz, s), false, base, sizeof base);
    /* "YYYY-MM-DDTHH:MM:SS" is 19 characters; the offset follows. */
    snprintf(out, sizeof out, "%.19s.%03d%s", base, (int)(ms - s * 1000), base + 19);
    return json_string(out);
}

struct page {
    json_t *arr;
    const tz_t *tz;
    int64_t last;
};

static void add_entry(const audit_entry *e, void *arg)
{
    struct page *p = arg;
    json_array_append_new(
        p->arr,
        json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:s}", "seq", (json_int_t)e->seq, "at",
                  render_ms(p->tz, e->at), "actor", render_stored_text(e->actor), "address",
                  render_stored_text(e->address), "action", render_stored_text(e->action),
                  "target", render_stored_text(e->target), "outcome",
                  render_stored_text(e->outcome), "detail", render_stored_text(e->detail),
                  "prev_hash", e->prev_hash, "hash", e->hash));
    p->last = e->seq;
}

void h_audit_list(req_t *r)
{
    long after = 0, limit = AUDIT_PAGE_DEFAULT;
    if (!http_query_int(r, "after", 0, LONG_MAX, &after) ||
        !http_query_int(r, "limit", 1, AUDIT_PAGE_MAX, &limit))
        return;
    struct page p = {json_array(), http_clinic_tz(r), 0};
    int64_t head = 0;
    char head_hash[AUDIT_HASH_HEX];
    bool more = false;
    db_conn_t *c = db_reader(r->app->db);
    bool ok = c && store_audit_page(c, after, (int)limit, add_entry, &p, &more) == STORE_OK &&
              store_audit_head(c, &head, head_hash) == STORE_OK;
    db_reader_release(r->app->db, c);
    if (!ok || !p.arr) {
        json_decref(p.arr);
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
        return;
    }
    json_t *latest = head ? json_pack("{s:I,s:s}", "seq", (json_int_t)head, "hash", head_hash)
                          : json_null();
    http_json(r, 200,
              json_pack("{s:o,s:o,s:o}", "entries", p.arr, "next",
                        more ? json_integer((json_int_t)p.last) : json_null(), "latest",
                        latest));
}
