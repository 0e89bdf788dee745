/*
 * tz.c — IANA time zones from TZif files (RFC 8536), thread-safe.
 *
 * Design:
 *  - tz_load() validates the name (a safe relative path), reads
 *    TZ_ZONEINFO_DIR/<name> into memory and hands it to tz_from_tzif().
 *  - tz_from_tzif() parses the v1 data block, or for version >= 2 skips it
 *    and parses the 64-bit block plus the POSIX TZ footer (RFC 8536 section
 *    3.3, including its extensions: hours -167..167 in rule times). Only the
 *    UT offsets of the local time types are kept; designations and the
 *    std/wall and UT/local indicators are not needed for offset arithmetic.
 *  - tz_offset_at(): type 0 before the first transition, binary search over
 *    the transitions, the footer rule from the last one on (or for all
 *    instants when the file has no transitions but has a footer).
 *  - tz_local_to_utc(): every solution t of t + offset(t) == local lies
 *    within +-26 h of `local` (RFC 8536 bounds offsets to that). The offset
 *    is constant between transitions, so probing the offsets at the window
 *    start and at each transition inside the window finds every solution;
 *    the earliest wins (fall-back overlap). With no solution the local time
 *    is in a gap and is resolved with the offset in effect before the gap,
 *    i.e. shifted forward by the gap length.
 *  - tz_get(): a process-wide cache (array of loaded zones) guarded by one
 *    mutex; this is the module's only mutable global state.
 *  - The civil calendar helpers use Howard Hinnant's days_from_civil /
 *    civil_from_days algorithms (proleptic Gregorian).
 */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TZ_ZONEINFO_DIR
#define TZ_ZONEINFO_DIR "/usr/share/zoneinfo"
#endif

enum {
    TZ_FILE_MAX = 1 << 20,       /* largest TZif file we read */
    TZ_HEADER_LEN = 44,          /* RFC 8536 section 3.1 */
    TZ_FOOTER_MAX = 255,         /* longest POSIX TZ footer accepted */
    TZ_OFF_MIN = -89999,         /* RFC 8536: utoff > -25 h ... */
    TZ_OFF_MAX = 93599,          /* ... and < 26 h */
    TZ_WINDOW = 93600,           /* search window for tz_local_to_utc */
    TZ_MAX_PROBES = 64,
    SECS_PER_DAY = 86400,
};

/* Day range of years 1..9999: 0001-01-01 and 9999-12-31 as days since 1970. */
#define TZ_DAYS_MIN INT64_C(-719162)
#define TZ_DAYS_MAX INT64_C(2932896)

/* One transition date of a POSIX TZ rule ("Jn", "n" or "Mm.w.d", "/time"). */
struct tz_rule_date {
    char kind;    /* 'J': Julian 1..365 without Feb 29, 'D': 0..365, 'M' */
    int n;        /* day for 'J' and 'D' */
    int m, w, d;  /* month 1..12, week 1..5 (5 = last), weekday 0..6 (Sun) */
    int32_t secs; /* local time of day, -167 h .. 167 h */
};

/* A parsed POSIX TZ string; offsets are seconds east of UTC. */
struct tz_rule {
    int32_t std_off;
    bool has_dst;
    int32_t dst_off;
    struct tz_rule_date start, end; /* start in std time, end in DST */
};

struct tz {
    char name[TZ_NAME_MAX + 1];
    size_t ntrans;
    int64_t *trans_at;   /* strictly ascending UTC instants */
    uint8_t *trans_type; /* index into type_off for each transition */
    size_t ntypes;
    int32_t *type_off;   /* UT offset of each local time type */
    bool has_rule;       /* footer present and non-empty */
    struct tz_rule rule;
};

/* ---------------------------------------------------------------------------
 * Civil calendar
 */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tz_days_in_month(int y, int mon)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon < 1 || mon > 12)
        return 0;
    return dim[mon - 1] + (mon == 2 && is_leap(y));
}

bool tz_valid_date(int y, int mon, int day)
{
    return y >= 1 && y <= 9999 && day >= 1 && day <= tz_days_in_month(y, mon);
}

int64_t tz_days_from_civil(int y, int mon, int day)
{
    int64_t yy = (int64_t)y - (mon <= 2);
    int64_t era = floor_div(yy, 400);
    int64_t yoe = yy - era * 400;                                  /* [0, 399] */
    int64_t mp = (mon + 9) % 12;                                   /* Mar = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)day - 1;           /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t days, int *y, int *mon, int *day)
{
    if (days < TZ_DAYS_MIN)
        days = TZ_DAYS_MIN;
    if (days > TZ_DAYS_MAX)
        days = TZ_DAYS_MAX;
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                     /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                   /* [0, 11] */
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *mon = (int)m;
    *y = (int)(yoe + era * 400 + (m <= 2));
}

int tz_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (ISO 4). */
    return (int)((floor_mod(days, 7) + 3) % 7) + 1;
}

/* ---------------------------------------------------------------------------
 * POSIX TZ footer strings (RFC 8536 section 3.3)
 */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* 1..max_digits decimal digits. */
static bool p_uint(const char **sp, int max_digits, int *out)
{
    const char *s = *sp;
    int v = 0, n = 0;
    while (is_digit(*s) && n < max_digits) {
        v = v * 10 + (*s - '0');
        s++;
        n++;
    }
    if (n == 0 || is_digit(*s))
        return false;
    *out = v;
    *sp = s;
    return true;
}

/* A zone abbreviation: 3+ letters, or <...> of 3+ alphanumerics, '+', '-'. */
static bool p_abbr(const char **sp)
{
    const char *s = *sp;
    int n = 0;
    if (*s == '<') {
        s++;
        while (is_alpha(*s) || is_digit(*s) || *s == '+' || *s == '-') {
            s++;
            n++;
        }
        if (*s != '>')
            return false;
        s++;
    } else {
        while (is_alpha(*s)) {
            s++;
            n++;
        }
    }
    if (n < 3)
        return false;
    *sp = s;
    return true;
}

/* [+-]hh[:mm[:ss]] with hh <= max_hours, as signed seconds. */
static bool p_hms(const char **sp, int max_hours, int32_t *out)
{
    const char *s = *sp;
    int sign = 1, h = 0, m = 0, sec = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!p_uint(&s, 3, &h) || h > max_hours)
        return false;
    if (*s == ':') {
        s++;
        if (!p_uint(&s, 2, &m) || m > 59)
            return false;
        if (*s == ':') {
            s++;
            if (!p_uint(&s, 2, &sec) || sec > 59)
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    *sp = s;
    return true;
}

/* date[/time] where date is Jn, n or Mm.w.d; time defaults to 02:00. */
static bool p_rule_date(const char **sp, struct tz_rule_date *d)
{
    const char *s = *sp;
    memset(d, 0, sizeof *d);
    if (*s == 'J') {
        s++;
        d->kind = 'J';
        if (!p_uint(&s, 3, &d->n) || d->n < 1 || d->n > 365)
            return false;
    } else if (*s == 'M') {
        s++;
        d->kind = 'M';
        if (!p_uint(&s, 2, &d->m) || d->m < 1 || d->m > 12 || *s++ != '.' ||
            !p_uint(&s, 1, &d->w) || d->w < 1 || d->w > 5 || *s++ != '.' ||
            !p_uint(&s, 1, &d->d) || d->d > 6)
            return false;
    } else {
        d->kind = 'D';
        if (!p_uint(&s, 3, &d->n) || d->n > 365)
            return false;
    }
    d->secs = 7200;
    if (*s == '/') {
        s++;
        if (!p_hms(&s, 167, &d->secs))
            return false;
    }
    *sp = s;
    return true;
}

/* std offset [dst [offset] [,start[/time],end[/time]]] */
static bool p_tzstring(const char *s, struct tz_rule *r)
{
    int32_t off;
    memset(r, 0, sizeof *r);
    if (!p_abbr(&s) || !p_hms(&s, 24, &off))
        return false;
    r->std_off = -off; /* POSIX offsets are west of UTC */
    if (*s == '\0')
        return true;
    if (!p_abbr(&s))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!p_hms(&s, 24, &off))
            return false;
        r->dst_off = -off;
    }
    if (*s == '\0') {
        /* No rule given: POSIX leaves it unspecified; use the US rule as
         * glibc does. */
        const char *def = "M3.2.0,M11.1.0";
        return p_rule_date(&def, &r->start) && *def++ == ',' &&
               p_rule_date(&def, &r->end);
    }
    if (*s++ != ',' || !p_rule_date(&s, &r->start) || *s++ != ',' ||
        !p_rule_date(&s, &r->end))
        return false;
    return *s == '\0';
}

/* Days since 1970 of the date `d` in year y. */
static int64_t rule_day(const struct tz_rule_date *d, int y)
{
    int64_t jan1 = tz_days_from_civil(y, 1, 1);
    if (d->kind == 'J')
        return jan1 + d->n - 1 + (is_leap(y) && d->n >= 60);
    if (d->kind == 'D')
        return jan1 + d->n;
    int64_t first = tz_days_from_civil(y, d->m, 1);
    int wday = tz_weekday(first) % 7; /* 0 = Sunday */
    int mday = 1 + (d->d - wday + 7) % 7 + 7 * (d->w - 1);
    while (mday > tz_days_in_month(y, d->m))
        mday -= 7;
    return first + mday - 1;
}

/* UTC instants of the rule's DST start and end in year y. */
static int64_t rule_start_utc(const struct tz_rule *r, int y)
{
    return rule_day(&r->start, y) * SECS_PER_DAY + r->start.secs - r->std_off;
}

static int64_t rule_end_utc(const struct tz_rule *r, int y)
{
    return rule_day(&r->end, y) * SECS_PER_DAY + r->end.secs - r->dst_off;
}

static int64_t clamp_instant(int64_t t)
{
    const int64_t lo = TZ_DAYS_MIN * SECS_PER_DAY;
    const int64_t hi = (TZ_DAYS_MAX + 1) * SECS_PER_DAY - 1;
    return t < lo ? lo : t > hi ? hi : t;
}

static int year_of(int64_t t)
{
    int y, m, d;
    tz_civil_from_days(floor_div(t, SECS_PER_DAY), &y, &m, &d);
    return y;
}

/* The latest rule transition at or before t decides; considering the
 * neighbouring years handles rule times beyond 24 h or below 0. On equal
 * instants the later one in year order wins, which makes "all year DST"
 * rules (e.g. "EST5EDT,0/0,J365/25") come out as DST. */
static int32_t rule_offset_at(const struct tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    t = clamp_instant(t);
    int y = year_of(t);
    int32_t off = r->std_off;
    bool found = false;
    int64_t best = 0;
    for (int yy = y - 2; yy <= y + 1; yy++) {
        int64_t s = rule_start_utc(r, yy), e = rule_end_utc(r, yy);
        if (s <= t && (!found || s >= best)) {
            best = s;
            off = r->dst_off;
            found = true;
        }
        if (e <= t && (!found || e >= best)) {
            best = e;
            off = r->std_off;
            found = true;
        }
    }
    return off;
}

/* ---------------------------------------------------------------------------
 * TZif parsing (RFC 8536 section 3)
 */

struct reader {
    const uint8_t *p;
    size_t left;
};

static const uint8_t *take(struct reader *r, uint64_t n)
{
    if (n > r->left)
        return NULL;
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= (size_t)n;
    return p;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be_time(const uint8_t *p, size_t time_size)
{
    if (time_size == 4)
        return (int32_t)be32(p);
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_header {
    uint8_t version; /* 0, '2', '3' or '4' */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static bool read_header(struct reader *r, struct tzif_header *h)
{
    const uint8_t *p = take(r, TZ_HEADER_LEN);
    if (!p || memcmp(p, "TZif", 4) != 0)
        return false;
    h->version = p[4];
    if (h->version != 0 && (h->version < '2' || h->version > '4'))
        return false;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return true;
}

static uint64_t block_len(const struct tzif_header *h, size_t time_size)
{
    return (uint64_t)h->timecnt * (time_size + 1) + (uint64_t)h->typecnt * 6 +
           h->charcnt + (uint64_t)h->leapcnt * (time_size + 4) + h->isstdcnt +
           h->isutcnt;
}

/* Parses the data block described by h into tz (arrays allocated here and
 * released by tz_free() on failure). */
static bool read_block(struct reader *r, const struct tzif_header *h,
                       size_t time_size, tz_t *tz)
{
    if (h->typecnt < 1 || h->typecnt > 256 || h->charcnt < 1 ||
        h->leapcnt != 0 || (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        block_len(h, time_size) > r->left)
        return false;

    tz->ntrans = h->timecnt;
    tz->ntypes = h->typecnt;
    tz->trans_at = calloc(tz->ntrans ? tz->ntrans : 1, sizeof *tz->trans_at);
    tz->trans_type = calloc(tz->ntrans ? tz->ntrans : 1, 1);
    tz->type_off = calloc(tz->ntypes, sizeof *tz->type_off);
    if (!tz->trans_at || !tz->trans_type || !tz->type_off)
        return false;

    const uint8_t *times = take(r, (uint64_t)h->timecnt * time_size);
    const uint8_t *idx = take(r, h->timecnt);
    const uint8_t *types = take(r, (uint64_t)h->typecnt * 6);
    for (size_t i = 0; i < tz->ntrans; i++) {
        tz->trans_at[i] = be_time(times + i * time_size, time_size);
        if (i > 0 && tz->trans_at[i] <= tz->trans_at[i - 1])
            return false;
        if (idx[i] >= tz->ntypes)
            return false;
        tz->trans_type[i] = idx[i];
    }
    for (size_t i = 0; i < tz->ntypes; i++) {
        const uint8_t *tt = types + i * 6;
        int32_t off = (int32_t)be32(tt);
        if (off < TZ_OFF_MIN || off > TZ_OFF_MAX || tt[4] > 1 || tt[5] >= h->charcnt)
            return false;
        tz->type_off[i] = off;
    }
    /* Designations, leap-second records (none: rejected above) and the
     * std/wall and UT/local indicators are not used. */
    return take(r, (uint64_t)h->charcnt + (uint64_t)h->leapcnt * (time_size + 4) +
                       h->isstdcnt + h->isutcnt) != NULL;
}

/* "\n" TZ-string "\n" */
static bool read_footer(struct reader *r, tz_t *tz)
{
    char buf[TZ_FOOTER_MAX + 1];
    const uint8_t *nl = take(r, 1);
    if (!nl || *nl != '\n')
        return false;
    const uint8_t *end = memchr(r->p, '\n', r->left);
    if (!end)
        return false;
    size_t n = (size_t)(end - r->p);
    if (n > TZ_FOOTER_MAX || memchr(r->p, '\0', n))
        return false;
    memcpy(buf, r->p, n);
    buf[n] = '\0';
    if (n == 0)
        return true; /* empty footer: no rule */
    tz->has_rule = true;
    return p_tzstring(buf, &tz->rule);
}

tz_t *tz_from_tzif(const char *name, const void *data, size_t len)
{
    struct reader r = {data, len};
    struct tzif_header h;
    size_t time_size = 4;
    tz_t *result = NULL;

    if (!name || strlen(name) > TZ_NAME_MAX || !data)
        return NULL;
    tz_t *tz = calloc(1, sizeof *tz);
    if (!tz)
        return NULL;
    strcpy(tz->name, name);

    if (!read_header(&r, &h))
        goto out;
    if (h.version >= '2') {
        /* Skip the 32-bit block; use the 64-bit one and the footer. */
        if (!take(&r, block_len(&h, 4)) || !read_header(&r, &h) || h.version < '2')
            goto out;
        time_size = 8;
    }
    if (!read_block(&r, &h, time_size, tz))
        goto out;
    if (time_size == 8 && !read_footer(&r, tz))
        goto out;
    result = tz;
    tz = NULL;
out:
    tz_free(tz);
    return result;
}

/* ---------------------------------------------------------------------------
 * Loading
 */

/* '/'-separated non-empty components of [A-Za-z0-9_+-]; this excludes "..",
 * absolute paths and empty names. */
static bool name_is_safe(const char *name)
{
    size_t len = 0;
    bool at_component_start = true;
    if (!name)
        return false;
    for (const char *p = name; *p; p++) {
        if (++len > TZ_NAME_MAX)
            return false;
        if (*p == '/') {
            if (at_component_start)
                return false;
            at_component_start = true;
        } else if (is_alpha(*p) || is_digit(*p) || *p == '_' || *p == '+' ||
                   *p == '-') {
            at_component_start = false;
        } else {
            return false;
        }
    }
    return len > 0 && !at_component_start;
}

/* Reads a whole regular file of at most TZ_FILE_MAX bytes. */
static uint8_t *read_file(const char *path, size_t *len_out)
{
    struct stat st;
    uint8_t *buf = NULL, *result = NULL;
    size_t len = 0;
    /* O_NONBLOCK: never hang opening a FIFO; ignored for regular files. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < TZ_HEADER_LEN ||
        st.st_size > TZ_FILE_MAX)
        goto out;
    buf = malloc((size_t)st.st_size);
    if (!buf)
        goto out;
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        len += (size_t)n;
    }
    *len_out = len;
    result = buf;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return result;
}

tz_t *tz_load(const char *name)
{
    char path[sizeof TZ_ZONEINFO_DIR + 1 + TZ_NAME_MAX];
    size_t len = 0;
    if (!name_is_safe(name))
        return NULL;
    strcpy(path, TZ_ZONEINFO_DIR "/");
    strcat(path, name);
    uint8_t *data = read_file(path, &len);
    if (!data)
        return NULL;
    tz_t *tz = tz_from_tzif(name, data, len);
    free(data);
    return tz;
}

void tz_free(tz_t *tz)
{
    if (!tz)
        return;
    free(tz->trans_at);
    free(tz->trans_type);
    free(tz->type_off);
    free(tz);
}

const char *tz_name(const tz_t *tz)
{
    return tz ? tz->name : "UTC";
}

/* ---------------------------------------------------------------------------
 * Cache
 */

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static tz_t **cache_zones; /* guarded by cache_mu */
static size_t cache_len, cache_cap;

const tz_t *tz_get(const char *name)
{
    tz_t *found = NULL;
    if (!name_is_safe(name))
        return NULL;
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < cache_len; i++) {
        if (strcmp(cache_zones[i]->name, name) == 0) {
            found = cache_zones[i];
            goto out;
        }
    }
    if (cache_len == cache_cap) {
        size_t cap = cache_cap ? cache_cap * 2 : 8;
        tz_t **grown = realloc(cache_zones, cap * sizeof *grown);
        if (!grown)
            goto out;
        cache_zones = grown;
        cache_cap = cap;
    }
    found = tz_load(name);
    if (found)
        cache_zones[cache_len++] = found;
out:
    pthread_mutex_unlock(&cache_mu);
    return found;
}

void tz_cache_clear(void)
{
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < cache_len; i++)
        tz_free(cache_zones[i]);
    free(cache_zones);
    cache_zones = NULL;
    cache_len = cache_cap = 0;
    pthread_mutex_unlock(&cache_mu);
}

/* ---------------------------------------------------------------------------
 * Conversions
 */

int tz_offset_at(const tz_t *tz, int64_t t)
{
    if (!tz)
        return 0;
    if (tz->ntrans == 0)
        return tz->has_rule ? rule_offset_at(&tz->rule, t) : tz->type_off[0];
    if (t < tz->trans_at[0])
        return tz->type_off[0];
    /* The footer governs from the last transition on (as in glibc), which
     * also makes that instant a probe point for tz_local_to_utc() when the
     * footer disagrees with the last type, as in some slim files. */
    if (t >= tz->trans_at[tz->ntrans - 1] && tz->has_rule)
        return rule_offset_at(&tz->rule, t);
    /* Last transition at or before t. */
    size_t lo = 0, hi = tz->ntrans;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans_at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->type_off[tz->trans_type[lo]];
}

/* Instants in (lo, hi] where the offset may change (a superset of the real
 * transitions is fine: callers only use them as probe points). */
static size_t collect_probes(const tz_t *tz, int64_t lo, int64_t hi, int64_t *out,
                             size_t max)
{
    size_t n = 0;
    /* First table transition > lo. */
    size_t a = 0, b = tz->ntrans;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (tz->trans_at[mid] <= lo)
            a = mid + 1;
        else
            b = mid;
    }
    for (size_t i = a; i < tz->ntrans && tz->trans_at[i] <= hi && n < max; i++)
        out[n++] = tz->trans_at[i];
    if (tz->has_rule && tz->rule.has_dst) {
        int y = year_of(clamp_instant(lo));
        for (int yy = y - 1; yy <= y + 1 && n + 2 <= max; yy++) {
            int64_t s = rule_start_utc(&tz->rule, yy), e = rule_end_utc(&tz->rule, yy);
            if (s > lo && s <= hi)
                out[n++] = s;
            if (e > lo && e <= hi)
                out[n++] = e;
        }
    }
    return n;
}

int64_t tz_local_to_utc(const tz_t *tz, int y, int mon, int day, int sec_of_day)
{
    int64_t local = tz_days_from_civil(y, mon, day) * SECS_PER_DAY + sec_of_day;
    int64_t probes[TZ_MAX_PROBES + 1];
    int64_t best = 0;
    bool found = false;

    if (!tz)
        return local;
    probes[0] = local - TZ_WINDOW;
    size_t n = 1 + collect_probes(tz, probes[0], local + TZ_WINDOW, probes + 1,
                                  TZ_MAX_PROBES);

    /* Every solution of t + offset(t) == local uses one of the probed offsets. */
    for (size_t i = 0; i < n; i++) {
        int off = tz_offset_at(tz, probes[i]);
        int64_t t = local - off;
        if (tz_offset_at(tz, t) == off && (!found || t < best)) {
            best = t;
            found = true;
        }
    }
    if (found)
        return best;

    /* A gap: find the transition that skips over `local` and use the offset
     * before it, which moves the time forward by the gap length. */
    for (size_t i = 1; i < n; i++) {
        int before = tz_offset_at(tz, probes[i] - 1);
        int after = tz_offset_at(tz, probes[i]);
        if (probes[i] + before <= local && local < probes[i] + after)
            return local - before;
    }
    return local - tz_offset_at(tz, local); /* not reached with sane data */
}
