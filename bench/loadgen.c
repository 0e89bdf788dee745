/*
 * loadgen.c — a small closed-loop HTTP/1.1 load generator for clinicbox's
 * benchmarks (bench/run.sh drives it).
 *
 * Model: C clients, one pthread each, each with its own keep-alive TCP
 * connection to HOST:PORT on loopback. A client sends one request, reads the
 * whole response (Content-Length, chunked, or read-to-close bodies), records
 * the latency, and sends the next; there is no pipelining and no think time,
 * so the offered load is "as fast as the server answers C clients".
 * A closed connection (Connection: close, EOF, reset) is re-opened and
 * counted.
 *
 * Time line of one `run`: all clients connect, then start together; the
 * first --warmup seconds are not counted; the next --duration seconds are
 * the measured window (a request counts there if it *completes* inside it,
 * and only those requests go into p50/p99). The `book` scenario may then go
 * on in an unmeasured-latency "fill" phase until --fill-to bookings (201s,
 * counted over the whole run) exist or --fill-timeout seconds have passed.
 *
 * Scenarios (what each request is):
 *   fixed  the same request every time: --method, --path, optional --body.
 *   book   POST /api/appointments. Client t books global slot indices
 *          i = t, t + C, t + 2C, ... (disjoint between clients, never reused):
 *          doctor = i mod D, start = base + (i div D) * slot_minutes, with
 *          the ids from `setup`. 201 is a booking; anything else is reported
 *          separately.
 *   slots  GET /api/doctors/{id}/available-slots?from=DAY&to=DAY+1&duration=M
 *          for a random doctor and a random DAY in [base, base + --days).
 *
 * Other commands: `setup` creates the clinic, doctors (open 24/7) and
 * patients and writes their ids to a file; `wait` polls a path until it
 * answers 200; `freeport` prints a free loopback TCP port.
 *
 * Credentials: -H 'Name: value' (repeatable) adds a header to every request
 * of run, setup and wait, e.g. -H 'Authorization: Bearer TOKEN' with an API
 * token from `clinicbox token create`.
 *
 * Output: human-readable lines, plus machine-readable lines starting with
 * "RESULT " (key=value pairs) that run.sh parses.
 *
 * Threads: main + one per client. Shared state is read-only after start
 * except a few atomics (the booking total).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_IDS 4096
#define ID_LEN 128

/* ---------------------------------------------------------------- utils */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        perror("malloc");
        exit(1);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        perror("realloc");
        exit(1);
    }
    return q;
}

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array, in milliseconds. */
static double pct_ms(const uint32_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    size_t rank = (size_t)(p * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1] / 1000.0;
}

/* Parses "YYYY-MM-DD" into seconds since the epoch (UTC midnight). */
static int parse_date(const char *s, int64_t *out)
{
    int y, m, d;
    if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    *out = (int64_t)timegm(&tm);
    return 0;
}

static void fmt_date(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%d", &tm);
}

static void fmt_rfc3339(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ----------------------------------------------------------- HTTP client */

struct conn {
    int fd;
    char *buf;
    size_t cap;
    size_t len; /* bytes held in buf */
    struct sockaddr_in addr;
    long opens; /* successful connects */
};

struct response {
    int status;
    const char *body; /* points into conn.buf, valid until the next request */
    size_t body_len;
};

static void conn_init(struct conn *c, const struct sockaddr_in *addr)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->cap = 16384;
    c->buf = xmalloc(c->cap);
    c->addr = *addr;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static void conn_free(struct conn *c)
{
    conn_close(c);
    free(c->buf);
    c->buf = NULL;
}

static int conn_open(struct conn *c)
{
    conn_close(c);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 15, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)&c->addr, sizeof c->addr) != 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->len = 0;
    c->opens++;
    return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more bytes into c->buf. Returns bytes read, 0 on EOF, -1 on error. */
static ssize_t conn_fill(struct conn *c)
{
    if (c->cap - c->len < 4096) {
        c->cap *= 2;
        c->buf = xrealloc(c->buf, c->cap);
    }
    for (;;) {
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0)
            c->len += (size_t)r;
        return r;
    }
}

static const char *find_hdr_end(const char *p, size_t n)
{
    if (n < 4)
        return NULL;
    for (size_t i = 0; i + 3 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
            return p + i;
    return NULL;
}

/*
 * Sends one request and reads one full response. Opens the connection if
 * needed; if a kept-alive connection turns out to be closed before any
 * response byte arrives, reconnects and resends once.
 * Returns 0 with *r filled, or -1 on a transport error (connection closed).
 */
static int http_roundtrip(struct conn *c, const char *req, size_t reqlen, struct response *r)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fresh = 0;
        if (c->fd < 0) {
            if (conn_open(c) != 0)
                return -1;
            fresh = 1;
        }
        c->len = 0;
        if (send_all(c->fd, req, reqlen) != 0) {
            conn_close(c);
            if (fresh)
                return -1;
            continue;
        }
        /* headers */
        const char *he = NULL;
        for (;;) {
            he = find_hdr_end(c->buf, c->len);
            if (he)
                break;
            ssize_t n = conn_fill(c);
            if (n <= 0)
                break;
        }
        if (!he) {
            int nothing = c->len == 0;
            conn_close(c);
            if (nothing && !fresh)
                continue; /* stale keep-alive connection: retry once */
            return -1;
        }
        size_t hlen = (size_t)(he - c->buf) + 4;
        c->buf[c->len] = '\0';
        int status = 0;
        if (sscanf(c->buf, "HTTP/%*d.%*d %d", &status) != 1) {
            conn_close(c);
            return -1;
        }
        long long clen = -1;
        int chunked = 0, must_close = 0;
        /* walk header lines */
        const char *line = strstr(c->buf, "\r\n");
        while (line && line + 2 < c->buf + hlen - 2) {
            line += 2;
            const char *eol = strstr(line, "\r\n");
            if (!eol)
                break;
            size_t ll = (size_t)(eol - line);
            if (ll > 15 && strncasecmp(line, "Content-Length:", 15) == 0)
                clen = atoll(line + 15);
            else if (ll > 18 && strncasecmp(line, "Transfer-Encoding:", 18) == 0 &&
                     memmem(line, ll, "chunked", 7))
                chunked = 1;
            else if (ll > 11 && strncasecmp(line, "Connection:", 11) == 0) {
                for (const char *q = line + 11; q + 5 <= eol; q++)
                    if (strncasecmp(q, "close", 5) == 0)
                        must_close = 1;
            }
            line = eol;
        }
        size_t body_off = hlen, body_len = 0;
        if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
            body_len = 0;
        } else if (chunked) {
            size_t pos = hlen, out = hlen;
            for (;;) {
                /* need a full size line at pos */
                char *eol = NULL;
                while (!(eol = memmem(c->buf + pos, c->len - pos, "\r\n", 2))) {
                    if (conn_fill(c) <= 0) {
                        conn_close(c);
                        return -1;
                    }
                }
                size_t csize = strtoul(c->buf + pos, NULL, 16);
                size_t data = (size_t)(eol - c->buf) + 2;
                if (csize == 0) {
                    /* trailer section ends with an empty line */
                    size_t tpos = data;
                    for (;;) {
                        char *te;
                        while (!(te = memmem(c->buf + tpos, c->len - tpos, "\r\n", 2))) {
                            if (conn_fill(c) <= 0) {
                                conn_close(c);
                                return -1;
                            }
                        }
                        size_t tl = (size_t)(te - (c->buf + tpos));
                        tpos += tl + 2;
                        if (tl == 0)
                            break;
                    }
                    break;
                }
                while (c->len < data + csize + 2) {
                    if (conn_fill(c) <= 0) {
                        conn_close(c);
                        return -1;
                    }
                }
                memmove(c->buf + out, c->buf + data, csize);
                out += csize;
                pos = data + csize + 2;
            }
            body_len = out - hlen;
        } else if (clen >= 0) {
            while (c->len < hlen + (size_t)clen) {
                if (conn_fill(c) <= 0) {
                    conn_close(c);
                    return -1;
                }
            }
            body_len = (size_t)clen;
        } else {
            /* read to close */
            for (;;) {
                ssize_t n = conn_fill(c);
                if (n < 0) {
                    conn_close(c);
                    return -1;
                }
                if (n == 0)
                    break;
            }
            body_len = c->len - hlen;
            must_close = 1;
        }
        r->status = status;
        r->body = c->buf + body_off;
        r->body_len = body_len;
        c->buf[body_off + body_len] = '\0';
        if (must_close) {
            /* keep the body readable: close the socket, not the buffer */
            close(c->fd);
            c->fd = -1;
        }
        return 0;
    }
    return -1;
}

static int resolve(const char *target, struct sockaddr_in *addr, char *hostport, size_t hpn)
{
    char host[256];
    const char *colon = strrchr(target, ':');
    if (!colon || (size_t)(colon - target) >= sizeof host)
        return -1;
    memcpy(host, target, (size_t)(colon - target));
    host[colon - target] = '\0';
    int port = atoi(colon + 1);
    if (port <= 0 || port > 65535)
        return -1;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr->sin_addr) != 1)
        return -1;
    /* loopback only: this tool never sends traffic off the machine */
    if ((ntohl(addr->sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "loadgen: refusing non-loopback target %s\n", host);
        return -1;
    }
    snprintf(hostport, hpn, "%s:%d", host, port);
    return 0;
}

/* Builds a request; returns its length. `extra` is "" or header lines,
 * each ending in CRLF (the -H options). */
static size_t build_request(char *buf, size_t n, const char *method, const char *path,
                            const char *hostport, const char *extra, const char *body)
{
    int len;
    if (body)
        len = snprintf(buf, n,
                       "%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\n"
                       "Accept: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                       method, path, hostport, extra, strlen(body), body);
    else
        len = snprintf(buf, n,
                       "%s %s HTTP/1.1\r\nHost: %s\r\n%sAccept: application/json\r\n\r\n",
                       method, path, hostport, extra);
    if (len < 0 || (size_t)len >= n) {
        fprintf(stderr, "loadgen: request too long\n");
        exit(1);
    }
    return (size_t)len;
}

/* Finds the first "id":"..." in a JSON text. */
static int json_id(const char *json, char *out, size_t n)
{
    const char *p = strstr(json, "\"id\"");
    if (!p)
        return -1;
    p += 4;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p++ != ':')
        return -1;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p++ != '"')
        return -1;
    size_t i = 0;
    while (*p && *p != '"' && i + 1 < n)
        out[i++] = *p++;
    if (*p != '"')
        return -1;
    out[i] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- options */

enum scenario { SC_FIXED, SC_BOOK, SC_SLOTS };

struct opts {
    const char *target;
    int clients;
    double duration;
    double warmup;
    enum scenario scenario;
    const char *method;
    const char *path;
    const char *body;
    const char *ids_file;
    const char *base_date;
    int slot_minutes;
    int days;
    long fill_to;
    double fill_timeout;
    int doctors;
    int patients;
    const char *out_file;
    double timeout;
    long pid;
    const char *label;
    char *headers; /* the -H headers as "Name: value\r\n" lines; never NULL */
};

static void usage(void)
{
    fprintf(stderr,
            "usage:\n"
            "  bench_loadgen run --target HOST:PORT [--clients 64] [--duration 10] [--warmup 1]\n"
            "        [--label NAME] --scenario fixed [--method GET] [--path /] [--body JSON]\n"
            "      | --scenario book  --ids FILE --base-date YYYY-MM-DD [--slot-minutes 15]\n"
            "                         [--fill-to N] [--fill-timeout SECONDS]\n"
            "      | --scenario slots --ids FILE --base-date YYYY-MM-DD [--days 104]\n"
            "                         [--slot-minutes 15]\n"
            "  bench_loadgen setup --target HOST:PORT --out FILE [--doctors 20] [--patients 64]\n"
            "        [--slot-minutes 15]\n"
            "  bench_loadgen wait --target HOST:PORT [--path /api/health] [--timeout 30] [--pid PID]\n"
            "  bench_loadgen freeport\n"
            "run, setup and wait also take -H 'Name: value' (repeatable): a header sent with\n"
            "every request, e.g. -H 'Authorization: Bearer TOKEN'.\n");
    exit(2);
}

/* Appends one -H header to o->headers. It must be "Name: value" with a
 * token-character name and no CR, LF or NUL, so that it cannot end the
 * header block or smuggle another request. */
static void add_header(struct opts *o, const char *h)
{
    const char *colon = strchr(h, ':');
    size_t name_len = colon ? (size_t)(colon - h) : 0;
    int ok = name_len > 0 && strpbrk(h, "\r\n") == NULL;
    for (size_t i = 0; ok && i < name_len; i++)
        ok = strchr("!#$%&'*+-.^_`|~", h[i]) != NULL ||
             (h[i] >= '0' && h[i] <= '9') || (h[i] >= 'A' && h[i] <= 'Z') ||
             (h[i] >= 'a' && h[i] <= 'z');
    if (!ok) {
        /* the value is not echoed: it may be a credential */
        fprintf(stderr, "loadgen: -H wants one 'Name: value' line\n");
        usage();
    }
    size_t have = strlen(o->headers), add = strlen(h);
    o->headers = xrealloc(o->headers, have + add + 3);
    memcpy(o->headers + have, h, add);
    memcpy(o->headers + have + add, "\r\n", 3);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->headers = xmalloc(1);
    o->headers[0] = '\0';
    o->clients = 64;
    o->duration = 10;
    o->warmup = 1;
    o->scenario = SC_FIXED;
    o->method = "GET";
    o->path = NULL;
    o->slot_minutes = 15;
    o->days = 104;
    o->fill_to = 0;
    o->fill_timeout = 600;
    o->doctors = 20;
    o->patients = 64;
    o->timeout = 30;
    o->label = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (OPT("--target"))
            o->target = v;
        else if (OPT("--clients"))
            o->clients = atoi(v);
        else if (OPT("--duration"))
            o->duration = atof(v);
        else if (OPT("--warmup"))
            o->warmup = atof(v);
        else if (OPT("--scenario")) {
            if (strcmp(v, "fixed") == 0)
                o->scenario = SC_FIXED;
            else if (strcmp(v, "book") == 0)
                o->scenario = SC_BOOK;
            else if (strcmp(v, "slots") == 0)
                o->scenario = SC_SLOTS;
            else
                usage();
        } else if (OPT("--method"))
            o->method = v;
        else if (OPT("--path"))
            o->path = v;
        else if (OPT("--body"))
            o->body = v;
        else if (OPT("--ids"))
            o->ids_file = v;
        else if (OPT("--base-date"))
            o->base_date = v;
        else if (OPT("--slot-minutes"))
            o->slot_minutes = atoi(v);
        else if (OPT("--days"))
            o->days = atoi(v);
        else if (OPT("--fill-to"))
            o->fill_to = atol(v);
        else if (OPT("--fill-timeout"))
            o->fill_timeout = atof(v);
        else if (OPT("--doctors"))
            o->doctors = atoi(v);
        else if (OPT("--patients"))
            o->patients = atoi(v);
        else if (OPT("--out"))
            o->out_file = v;
        else if (OPT("--timeout"))
            o->timeout = atof(v);
        else if (OPT("--pid"))
            o->pid = atol(v);
        else if (OPT("--label"))
            o->label = v;
        else if (OPT("-H") || OPT("--header"))
            add_header(o, v);
        else {
            fprintf(stderr, "loadgen: bad argument %s\n", a);
            usage();
        }
#undef OPT
    }
    if (!o->target)
        usage();
}

/* ------------------------------------------------------------------ ids */

struct ids {
    int ndoctors, npatients;
    char (*doctors)[ID_LEN];
    char (*patients)[ID_LEN];
};

static void ids_load(const char *file, struct ids *ids)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        exit(1);
    }
    ids->doctors = xmalloc(sizeof *ids->doctors * MAX_IDS);
    ids->patients = xmalloc(sizeof *ids->patients * MAX_IDS);
    ids->ndoctors = ids->npatients = 0;
    char kind[32], id[ID_LEN];
    while (fscanf(f, "%31s %127s", kind, id) == 2) {
        if (strcmp(kind, "doctor") == 0 && ids->ndoctors < MAX_IDS)
            strcpy(ids->doctors[ids->ndoctors++], id);
        else if (strcmp(kind, "patient") == 0 && ids->npatients < MAX_IDS)
            strcpy(ids->patients[ids->npatients++], id);
    }
    fclose(f);
    if (ids->ndoctors == 0 || ids->npatients == 0) {
        fprintf(stderr, "loadgen: %s has no doctors or no patients\n", file);
        exit(1);
    }
}

/* ------------------------------------------------------------------ run */

struct shared {
    const struct opts *o;
    const struct ids *ids;
    char hostport[300];
    struct sockaddr_in addr;
    int64_t base;
    pthread_barrier_t barrier;
    double t_start, t_meas, t_end, t_fill_end;
    atomic_long created; /* 201s of the book scenario, whole run */
    atomic_int stop;
    atomic_int first_bad_printed;
};

struct counts {
    long requests, ok, other, errors;
    long status[6]; /* 1xx..5xx */
};

struct worker {
    int id;
    struct shared *sh;
    pthread_t thread;
    struct conn conn;
    uint64_t rng;
    long k;        /* next booking index of this client */
    uint32_t *lat; /* measured-window latencies, microseconds */
    size_t nlat, caplat;
    struct counts meas, fill;
    double fill_last; /* completion time of this client's last fill request */
    int connect_failed;
};

static int expected_status(const struct opts *o)
{
    return o->scenario == SC_BOOK ? 201 : 200;
}

static size_t make_request(struct worker *w, char *buf, size_t n)
{
    struct shared *sh = w->sh;
    const struct opts *o = sh->o;
    switch (o->scenario) {
    case SC_FIXED:
        return build_request(buf, n, o->method, o->path ? o->path : "/", sh->hostport,
                             o->headers, o->body);
    case SC_BOOK: {
        long i = w->k * o->clients + w->id;
        w->k++;
        int d = (int)(i % sh->ids->ndoctors);
        long slot = i / sh->ids->ndoctors;
        char start[40], body[600];
        fmt_rfc3339(sh->base + (int64_t)slot * o->slot_minutes * 60, start, sizeof start);
        snprintf(body, sizeof body,
                 "{\"doctor_id\":\"%s\",\"patient_id\":\"%s\",\"start\":\"%s\","
                 "\"duration_minutes\":%d}",
                 sh->ids->doctors[d], sh->ids->patients[w->id % sh->ids->npatients], start,
                 o->slot_minutes);
        return build_request(buf, n, "POST", "/api/appointments", sh->hostport, o->headers,
                             body);
    }
    case SC_SLOTS: {
        int d = (int)(rng_next(&w->rng) % (uint64_t)sh->ids->ndoctors);
        int day = (int)(rng_next(&w->rng) % (uint64_t)(o->days > 0 ? o->days : 1));
        char from[16], to[16], path[512];
        fmt_date(sh->base + (int64_t)day * 86400, from, sizeof from);
        fmt_date(sh->base + (int64_t)(day + 1) * 86400, to, sizeof to);
        snprintf(path, sizeof path, "/api/doctors/%s/available-slots?from=%s&to=%s&duration=%d",
                 sh->ids->doctors[d], from, to, o->slot_minutes);
        return build_request(buf, n, "GET", path, sh->hostport, o->headers, NULL);
    }
    }
    return 0;
}

static void count_response(struct counts *c, int ok_status, int rc, const struct response *r)
{
    c->requests++;
    if (rc != 0) {
        c->errors++;
        return;
    }
    if (r->status >= 100 && r->status < 600)
        c->status[r->status / 100]++;
    if (r->status == ok_status)
        c->ok++;
    else
        c->other++;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    const struct opts *o = sh->o;
    char req[4096];
    struct response r;
    int ok_status = expected_status(o);

    if (conn_open(&w->conn) != 0)
        w->connect_failed = 1;
    pthread_barrier_wait(&sh->barrier); /* connected */
    pthread_barrier_wait(&sh->barrier); /* times set */

    int consecutive_errors = 0;
    for (;;) {
        double now = now_s();
        if (atomic_load(&sh->stop))
            break;
        if (now >= sh->t_end) {
            if (o->scenario != SC_BOOK || atomic_load(&sh->created) >= o->fill_to ||
                now >= sh->t_fill_end)
                break;
        }
        size_t len = make_request(w, req, sizeof req);
        double t0 = now_s();
        memset(&r, 0, sizeof r);
        int rc = http_roundtrip(&w->conn, req, len, &r);
        double t1 = now_s();
        if (rc == 0 && o->scenario == SC_BOOK && r.status == 201)
            atomic_fetch_add(&sh->created, 1);
        if (rc == 0 && r.status != ok_status && !atomic_exchange(&sh->first_bad_printed, 1))
            fprintf(stderr, "loadgen: first unexpected answer: %d %.300s\n", r.status, r.body);
        if (t1 >= sh->t_meas && t1 < sh->t_end) {
            count_response(&w->meas, ok_status, rc, &r);
            if (w->nlat == w->caplat) {
                w->caplat = w->caplat ? w->caplat * 2 : 4096;
                w->lat = xrealloc(w->lat, w->caplat * sizeof *w->lat);
            }
            w->lat[w->nlat++] = (uint32_t)((t1 - t0) * 1e6);
        } else if (t1 >= sh->t_end) {
            count_response(&w->fill, ok_status, rc, &r);
            w->fill_last = t1;
        }
        if (rc != 0) {
            if (++consecutive_errors >= 50) {
                fprintf(stderr, "loadgen: client %d: 50 transport errors in a row, stopping\n",
                        w->id);
                break;
            }
            sleep_s(0.01);
        } else {
            consecutive_errors = 0;
        }
    }
    return NULL;
}

static void add_counts(struct counts *a, const struct counts *b)
{
    a->requests += b->requests;
    a->ok += b->ok;
    a->other += b->other;
    a->errors += b->errors;
    for (int i = 0; i < 6; i++)
        a->status[i] += b->status[i];
}

static int cmd_run(const struct opts *o)
{
    struct shared *sh = xmalloc(sizeof *sh);
    memset(sh, 0, sizeof *sh);
    sh->o = o;
    if (resolve(o->target, &sh->addr, sh->hostport, sizeof sh->hostport) != 0) {
        fprintf(stderr, "loadgen: bad target %s\n", o->target);
        return 2;
    }
    if (o->clients < 1 || o->clients > 4096 || o->duration <= 0)
        usage();
    struct ids ids;
    memset(&ids, 0, sizeof ids);
    if (o->scenario != SC_FIXED) {
        if (!o->ids_file || !o->base_date || parse_date(o->base_date, &sh->base) != 0)
            usage();
        ids_load(o->ids_file, &ids);
        sh->ids = &ids;
    }
    atomic_init(&sh->created, 0);
    atomic_init(&sh->stop, 0);
    atomic_init(&sh->first_bad_printed, 0);
    pthread_barrier_init(&sh->barrier, NULL, (unsigned)o->clients + 1);

    struct worker *ws = xmalloc(sizeof *ws * (size_t)o->clients);
    memset(ws, 0, sizeof *ws * (size_t)o->clients);
    for (int i = 0; i < o->clients; i++) {
        ws[i].id = i;
        ws[i].sh = sh;
        ws[i].rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1) ^ (uint64_t)time(NULL);
        if (ws[i].rng == 0)
            ws[i].rng = 1;
        conn_init(&ws[i].conn, &sh->addr);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        if (pthread_create(&ws[i].thread, &attr, worker_main, &ws[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
        pthread_attr_destroy(&attr);
    }
    pthread_barrier_wait(&sh->barrier);
    int failed = 0;
    for (int i = 0; i < o->clients; i++)
        failed += ws[i].connect_failed;
    if (failed)
        fprintf(stderr, "loadgen: %d of %d clients could not connect at start\n", failed,
                o->clients);
    sh->t_start = now_s();
    sh->t_meas = sh->t_start + o->warmup;
    sh->t_end = sh->t_meas + o->duration;
    sh->t_fill_end = sh->t_end + o->fill_timeout;
    pthread_barrier_wait(&sh->barrier);

    /* bookings that exist when the measured window closes */
    double until_end = sh->t_end - now_s();
    if (until_end > 0)
        sleep_s(until_end);
    long created_at_end = atomic_load(&sh->created);

    for (int i = 0; i < o->clients; i++)
        pthread_join(ws[i].thread, NULL);

    struct counts meas, fill;
    memset(&meas, 0, sizeof meas);
    memset(&fill, 0, sizeof fill);
    size_t nlat = 0;
    long reconnects = 0;
    double fill_last = sh->t_end;
    for (int i = 0; i < o->clients; i++) {
        add_counts(&meas, &ws[i].meas);
        add_counts(&fill, &ws[i].fill);
        nlat += ws[i].nlat;
        if (ws[i].conn.opens > 1)
            reconnects += ws[i].conn.opens - 1;
        if (ws[i].fill_last > fill_last)
            fill_last = ws[i].fill_last;
    }
    uint32_t *lat = xmalloc((nlat ? nlat : 1) * sizeof *lat);
    size_t off = 0;
    for (int i = 0; i < o->clients; i++) {
        if (ws[i].nlat)
            memcpy(lat + off, ws[i].lat, ws[i].nlat * sizeof *lat);
        off += ws[i].nlat;
    }
    qsort(lat, nlat, sizeof *lat, cmp_u32);
    double secs = o->duration;
    double ok_rate = (double)meas.ok / secs;
    double req_rate = (double)meas.requests / secs;
    double p50 = pct_ms(lat, nlat, 0.50), p99 = pct_ms(lat, nlat, 0.99);
    double pmax = nlat ? lat[nlat - 1] / 1000.0 : 0;
    const char *label = o->label ? o->label
                        : o->scenario == SC_BOOK  ? "book"
                        : o->scenario == SC_SLOTS ? "slots"
                                                  : "fixed";

    printf("%s: %d clients, %.0f s warm-up + %.1f s measured, target %s\n", label, o->clients,
           o->warmup, o->duration, sh->hostport);
    printf("  measured: %ld requests (%.1f/s), %ld answered %d (%.1f/s), %ld other statuses, "
           "%ld transport errors\n",
           meas.requests, req_rate, meas.ok, expected_status(o), ok_rate, meas.other,
           meas.errors);
    printf("  statuses: 2xx %ld, 3xx %ld, 4xx %ld, 5xx %ld; reconnects %ld\n", meas.status[2],
           meas.status[3], meas.status[4], meas.status[5], reconnects);
    printf("  latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", p50, p99, pmax);
    printf("RESULT phase=measured label=%s clients=%d seconds=%.3f requests=%ld ok=%ld "
           "other=%ld errors=%ld rps=%.1f ok_rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "s2xx=%ld s4xx=%ld s5xx=%ld reconnects=%ld\n",
           label, o->clients, secs, meas.requests, meas.ok, meas.other, meas.errors, req_rate,
           ok_rate, p50, p99, pmax, meas.status[2], meas.status[4], meas.status[5], reconnects);
    if (o->scenario == SC_BOOK) {
        double fsecs = fill_last - sh->t_end;
        long created = atomic_load(&sh->created);
        printf("  bookings when the measured window closed: %ld (target %ld)\n", created_at_end,
               o->fill_to);
        printf("  fill (requests completing after the measured window): %ld requests, %ld "
               "bookings, %ld other, %ld errors in %.1f s (%.1f bookings/s)\n",
               fill.requests, fill.ok, fill.other, fill.errors, fsecs,
               fsecs > 0 ? (double)fill.ok / fsecs : 0.0);
        printf("  bookings in the whole run (warm-up + measured + fill): %ld\n", created);
        printf("RESULT phase=fill label=%s seconds=%.3f requests=%ld ok=%ld other=%ld "
               "errors=%ld ok_rps=%.1f created_at_end=%ld created_total=%ld\n",
               label, fsecs, fill.requests, fill.ok, fill.other, fill.errors,
               fsecs > 0 ? (double)fill.ok / fsecs : 0.0, created_at_end, created);
    }
    for (int i = 0; i < o->clients; i++) {
        conn_free(&ws[i].conn);
        free(ws[i].lat);
    }
    free(ws);
    free(lat);
    if (ids.doctors) {
        free(ids.doctors);
        free(ids.patients);
    }
    pthread_barrier_destroy(&sh->barrier);
    free(sh);
    return meas.ok > 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- setup */

static int call(struct conn *c, const char *hostport, const char *extra, const char *method,
                const char *path, const char *body, int want, char *id_out)
{
    char req[8192];
    struct response r;
    size_t len = build_request(req, sizeof req, method, path, hostport, extra, body);
    if (http_roundtrip(c, req, len, &r) != 0) {
        fprintf(stderr, "loadgen setup: %s %s: transport error\n", method, path);
        return -1;
    }
    if (r.status != want) {
        fprintf(stderr, "loadgen setup: %s %s: want %d, got %d: %.500s\n", method, path, want,
                r.status, r.body);
        return -1;
    }
    if (id_out && json_id(r.body, id_out, ID_LEN) != 0) {
        fprintf(stderr, "loadgen setup: %s %s: no \"id\" in %.300s\n", method, path, r.body);
        return -1;
    }
    return 0;
}

static int cmd_setup(const struct opts *o)
{
    struct sockaddr_in addr;
    char hostport[300];
    if (resolve(o->target, &addr, hostport, sizeof hostport) != 0 || !o->out_file)
        usage();
    if (o->doctors < 1 || o->doctors > MAX_IDS || o->patients < 1 || o->patients > MAX_IDS)
        usage();
    FILE *f = fopen(o->out_file, "w");
    if (!f) {
        perror(o->out_file);
        return 1;
    }
    struct conn c;
    conn_init(&c, &addr);
    char body[2048], path[512], id[ID_LEN];
    int rc = 1;
    if (call(&c, hostport, o->headers, "PUT", "/api/clinic",
             "{\"name\":\"Bench clinic\",\"timezone\":\"UTC\",\"grace_minutes\":15}", 200,
             NULL) != 0)
        goto out;
    for (int d = 0; d < o->doctors; d++) {
        snprintf(body, sizeof body, "{\"name\":\"Dr %d\",\"slot_minutes\":%d}", d + 1,
                 o->slot_minutes);
        if (call(&c, hostport, o->headers, "POST", "/api/doctors", body, 201, id) != 0)
            goto out;
        fprintf(f, "doctor %s\n", id);
        snprintf(path, sizeof path, "/api/doctors/%s/schedule", id);
        int n = snprintf(body, sizeof body, "{\"weekly\":[");
        for (int wd = 1; wd <= 7; wd++)
            n += snprintf(body + n, sizeof body - (size_t)n,
                          "%s{\"weekday\":%d,\"start\":\"00:00\",\"end\":\"24:00\"}",
                          wd > 1 ? "," : "", wd);
        snprintf(body + n, sizeof body - (size_t)n, "],\"exceptions\":[]}");
        if (call(&c, hostport, o->headers, "PUT", path, body, 200, NULL) != 0)
            goto out;
    }
    for (int p = 0; p < o->patients; p++) {
        snprintf(body, sizeof body,
                 "{\"name\":\"P %d\",\"email\":\"p%d@example.org\",\"phone\":\"+49151%08d\"}",
                 p + 1, p + 1, 10000000 + p);
        if (call(&c, hostport, o->headers, "POST", "/api/patients", body, 201, id) != 0)
            goto out;
        fprintf(f, "patient %s\n", id);
    }
    printf("setup: clinic, %d doctors (open 24/7, %d-minute slots), %d patients -> %s\n",
           o->doctors, o->slot_minutes, o->patients, o->out_file);
    rc = 0;
out:
    if (fclose(f) != 0)
        rc = 1;
    conn_free(&c);
    return rc;
}

/* ----------------------------------------------------------------- misc */

static int cmd_wait(const struct opts *o)
{
    struct sockaddr_in addr;
    char hostport[300], req[1024];
    if (resolve(o->target, &addr, hostport, sizeof hostport) != 0)
        usage();
    size_t len = build_request(req, sizeof req, "GET", o->path ? o->path : "/api/health",
                               hostport, o->headers, NULL);
    double deadline = now_s() + o->timeout;
    struct conn c;
    conn_init(&c, &addr);
    int rc = 1;
    while (now_s() < deadline) {
        struct response r;
        if (o->pid > 0 && kill((pid_t)o->pid, 0) != 0) {
            fprintf(stderr, "loadgen wait: process %ld is gone\n", o->pid);
            break;
        }
        if (http_roundtrip(&c, req, len, &r) == 0 && r.status == 200) {
            rc = 0;
            break;
        }
        conn_close(&c);
        sleep_s(0.1);
    }
    if (rc)
        fprintf(stderr, "loadgen wait: %s did not answer 200 within %.0f s\n", hostport,
                o->timeout);
    conn_free(&c);
    return rc;
}

static int cmd_freeport(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        perror("freeport");
        return 1;
    }
    printf("%d\n", ntohs(a.sin_port));
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "freeport") == 0)
        return cmd_freeport();
    struct opts o;
    parse_opts(argc, argv, &o);
    int rc = 2;
    if (strcmp(argv[1], "run") == 0)
        rc = cmd_run(&o);
    else if (strcmp(argv[1], "setup") == 0)
        rc = cmd_setup(&o);
    else if (strcmp(argv[1], "wait") == 0)
        rc = cmd_wait(&o);
    else
        usage();
    free(o.headers);
    return rc;
}
