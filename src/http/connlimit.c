/*
 * connlimit.c — see connlimit.h.
 *
 * The table is a plain array scanned under a mutex: it never holds more
 * addresses than there are worker threads (a counted connection holds a
 * worker from init_connection to connection_close), at most a few hundred,
 * and a scan is cheaper than the recv() that follows it.
 *
 * Refusing early. civetweb 1.15 calls init_connection on the worker that
 * took the connection, before it waits (up to request_timeout_ms) for the
 * request headers; the callback must return 0 and gets no socket, and
 * mg_get_request_info() answers NULL there (it checks that a request is
 * under way). A connection over the cap that sends nothing, or trickles its
 * headers, would hold a worker all that time, which is what the cap is
 * there to prevent. So:
 *
 * - early_info() reads the connection's mg_request_info (remote_addr and
 *   the ports are filled in before init_connection) where civetweb keeps it
 *   inside its connection object. The place is found, not assumed: the
 *   public mg_set_user_connection_data() writes a marker into that
 *   structure's conn_data, and the structure is where both conn_data holds
 *   the marker and user_data holds the context's user data (civetweb sets it
 *   when the worker starts). Every later connection checks both again, and
 *   connection_close checks the place against mg_get_request_info(). When
 *   any of that fails (a civetweb built otherwise), the cap is applied in
 *   begin_request instead: once a request's headers are in, 503 and close.
 * - connlimit_shut() finds the socket in /proc/self/fd by its two ends: the
 *   peer address and port as civetweb wrote them (getnameinfo with
 *   NI_NUMERICHOST, as civetweb does) and the local port. A TCP connection
 *   is unique by its local and remote address and port; the local address
 *   is the one part not compared, so the only other socket that could match
 *   is one from the same client address and port to another local address
 *   of the box: the same client, whose count this is anyway. The socket is
 *   the calling worker's own, so no other thread closes it meanwhile; and
 *   shutdown() rather than close(), because civetweb closes the descriptor
 *   itself. Its read then sees the end at once and the worker closes the
 *   connection (after any request already read whole: that one is answered
 *   503 by begin_request, into a socket already shut).
 */
#include "http/connlimit.h"

#include <dirent.h>
#include <stddef.h>
#include <time.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/monotime.h"
#include "http/http.h"
#include "http/metrics.h"

#define ADDR_MAX 48 /* civetweb's remote_addr */

struct slot {
    char addr[ADDR_MAX];
    int count; /* 0: free slot */
};

/* How long a connection over the cap waits for one of its address's
 * connections to finish closing before it is refused. A client that makes
 * a new connection for every request (curl in a loop, scripts) closes each
 * one before the next, but the worker that held it may not have run
 * connection_close yet on a busy box: this absorbs that lag, while a worker
 * is held by an over-cap connection for at most this long. */
#define CONNLIMIT_GRACE_MS 50

struct connlimit {
    pthread_mutex_t mu;
    pthread_cond_t freed; /* a counted connection closed */
    int nslots, cap;
    struct slot *slots;
    int64_t last_log_ms;
    bool logged;
    long refused_since;
};

connlimit *connlimit_new(int slots, int cap)
{
    connlimit *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->slots = calloc((size_t)(slots > 0 ? slots : 1), sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->nslots = slots > 0 ? slots : 1;
    t->cap = cap > 0 ? cap : 1;
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->freed, &ca);
    pthread_condattr_destroy(&ca);
    return t;
}

void connlimit_free(connlimit *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->freed);
    free(t->slots);
    free(t);
}

static struct slot *find(connlimit *t, const char *addr)
{
    for (int i = 0; i < t->nslots; i++)
        if (t->slots[i].count > 0 && strcmp(t->slots[i].addr, addr) == 0)
            return &t->slots[i];
    return NULL;
}

connlimit_verdict connlimit_acquire(connlimit *t, const char *addr)
{
    connlimit_verdict v = CONNLIMIT_UNTRACKED;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += CONNLIMIT_GRACE_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->mu);
    struct slot *s = find(t, addr);
    while (s && s->count >= t->cap &&
           pthread_cond_timedwait(&t->freed, &t->mu, &until) == 0)
        s = find(t, addr);
    if (s) {
        if (s->count >= t->cap) {
            v = CONNLIMIT_OVER;
        } else {
            s->count++;
            v = CONNLIMIT_COUNTED;
        }
    } else {
        for (int i = 0; i < t->nslots; i++)
            if (t->slots[i].count == 0) {
                s = &t->slots[i];
                break;
            }
        if (s) {
            size_t n = strnlen(addr, ADDR_MAX - 1);
            memcpy(s->addr, addr, n);
            s->addr[n] = '\0';
            s->count = 1;
            v = CONNLIMIT_COUNTED;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return v;
}

void connlimit_release(connlimit *t, const char *addr)
{
    pthread_mutex_lock(&t->mu);
    struct slot *s = find(t, addr);
    if (s) {
        s->count--;
        pthread_cond_broadcast(&t->freed);
    }
    pthread_mutex_unlock(&t->mu);
}

int connlimit_count(connlimit *t, const char *addr)
{
    pthread_mutex_lock(&t->mu);
    struct slot *s = find(t, addr);
    int n = s ? s->count : 0;
    pthread_mutex_unlock(&t->mu);
    return n;
}

bool connlimit_note_refusal(connlimit *t, int64_t now_ms, int64_t interval_ms,
                            long *refused_since)
{
    bool due;
    pthread_mutex_lock(&t->mu);
    t->refused_since++;
    due = !t->logged || now_ms - t->last_log_ms >= interval_ms;
    if (due) {
        *refused_since = t->refused_since;
        t->refused_since = 0;
        t->last_log_ms = now_ms;
        t->logged = true;
    }
    pthread_mutex_unlock(&t->mu);
    return due;
}

static int port_of(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return -1;
}

bool connlimit_shut(const char *addr, int remote_port, int local_port)
{
    DIR *d = opendir("/proc/self/fd");
    bool found = false;
    if (!d)
        return false;
    int self = dirfd(d);
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        char *end = NULL;
        long fd = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end || fd < 0 || fd == self)
            continue;
        struct sockaddr_storage local, peer;
        socklen_t llen = sizeof local, plen = sizeof peer;
        char host[NI_MAXHOST];
        /* getsockname() fails with ENOTSOCK on anything but a socket. */
        if (getsockname((int)fd, (struct sockaddr *)&local, &llen) != 0 ||
            port_of(&local) != local_port ||
            getpeername((int)fd, (struct sockaddr *)&peer, &plen) != 0 ||
            port_of(&peer) != remote_port ||
            getnameinfo((struct sockaddr *)&peer, plen, host, sizeof host, NULL, 0,
                        NI_NUMERICHOST) != 0 ||
            strcmp(host, addr) != 0)
            continue;
        found = shutdown((int)fd, SHUT_RDWR) == 0;
    }
    closedir(d);
    return found;
}

/* -- civetweb callbacks ------------------------------------------------------- */

static connlimit *table;
/* conn_data of a connection: how it was let in (NULL: not yet judged). */
static char counted, untracked, refused;
/* Where civetweb keeps a connection's mg_request_info, as an offset into
 * its connection object: -1 not yet found, -2 not usable (early_info()). */
static long info_offset = -1;

/* A refused connection is logged at most this often (an attack would
 * otherwise write a line per connection). */
#define REFUSAL_LOG_MS 10000
/* How far into civetweb's connection object to look for mg_request_info
 * (1.15 keeps it at 16 bytes, after three ints). */
#define INFO_SEARCH_MAX 1024

static bool info_at(const struct mg_connection *conn, long off, const void *marker,
                    const void *user_data)
{
    const char *ri = (const char *)conn + off;
    void *cd, *ud;
    memcpy(&cd, ri + offsetof(struct mg_request_info, conn_data), sizeof cd);
    memcpy(&ud, ri + offsetof(struct mg_request_info, user_data), sizeof ud);
    return cd == marker && ud == user_data;
}

static void info_unusable(const char *why)
{
    long expected = __atomic_load_n(&info_offset, __ATOMIC_RELAXED);
    if (expected == -2 || !__atomic_compare_exchange_n(&info_offset, &expected, -2, false,
                                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    log_error("http",
              "%s: http_max_connections_per_address is applied only once a request's headers "
              "are in (a connection that sends none holds a worker up to request_timeout_ms)",
              why);
}

/* The mg_request_info of a connection in init_connection, or NULL. */
static const struct mg_request_info *early_info(const struct mg_connection *conn)
{
    static const char marker = 0;
    long off = __atomic_load_n(&info_offset, __ATOMIC_RELAXED);
    const void *user_data = mg_get_user_data(mg_get_context(conn));
    if (off == -2 || !user_data)
        return NULL;
    mg_set_user_connection_data(conn, (void *)&marker);
    if (off == -1) {
        for (long o = 0; o <= INFO_SEARCH_MAX && off == -1; o += (long)sizeof(void *))
            if (info_at(conn, o, &marker, user_data))
                off = o;
        if (off == -1) {
            mg_set_user_connection_data(conn, NULL);
            info_unusable("cannot find a new connection's address in civetweb");
            return NULL;
        }
        __atomic_store_n(&info_offset, off, __ATOMIC_RELAXED);
    } else if (!info_at(conn, off, &marker, user_data)) {
        mg_set_user_connection_data(conn, NULL);
        info_unusable("a new connection's address is no longer where civetweb kept it");
        return NULL;
    }
    mg_set_user_connection_data(conn, NULL);
    const struct mg_request_info *ri =
        (const struct mg_request_info *)(const void *)((const char *)conn + off);
    if (!memchr(ri->remote_addr, '\0', sizeof ri->remote_addr) || !ri->remote_addr[0])
        return NULL;
    return ri;
}

connlimit_verdict connlimit_admit(const char *addr)
{
    connlimit_verdict v = connlimit_acquire(table, addr);
    if (v == CONNLIMIT_COUNTED)
        metrics_connection(1);
    return v;
}

void connlimit_leave(const char *addr)
{
    connlimit_release(table, addr);
    metrics_connection(-1);
}

void connlimit_refused(const char *addr, bool shut, const char *what)
{
    metrics_connection_refused();
    long since = 0;
    if (connlimit_note_refusal(table, monotime_ms(), REFUSAL_LOG_MS, &since))
        log_warn("http",
                 "refused a %s from %s: it has %d open, the most allowed "
                 "(http_max_connections_per_address)%s; %ld refused since the last such line",
                 what, addr, connlimit_count(table, addr), shut ? "" : ", answered 503", since);
}

static void *judge(const struct mg_request_info *ri, bool early)
{
    switch (connlimit_admit(ri->remote_addr)) {
    case CONNLIMIT_COUNTED:
        return &counted;
    case CONNLIMIT_UNTRACKED:
        return &untracked;
    case CONNLIMIT_OVER:
        break;
    }
    /* Over the cap: shut the socket now, so that this worker is free again
     * at once instead of waiting for headers that may never come. */
    bool shut = early && connlimit_shut(ri->remote_addr, ri->remote_port, ri->server_port);
    connlimit_refused(ri->remote_addr, shut, "connection");
    return &refused;
}

static int on_init_connection(const struct mg_connection *conn, void **conn_data)
{
    const struct mg_request_info *ri = early_info(conn);
    *conn_data = ri ? judge(ri, true) : NULL; /* NULL: judged in begin_request */
    return 0;
}

static void on_connection_close(const struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    long off = __atomic_load_n(&info_offset, __ATOMIC_RELAXED);
    if (ri && off >= 0 && (const char *)ri != (const char *)conn + off)
        info_unusable("civetweb keeps a connection's address elsewhere than found");
    if (mg_get_user_connection_data(conn) != &counted)
        return;
    /* civetweb's TLS path can close without init_connection (a failed
     * handshake), but then conn_data is NULL: it resets it after every
     * connection_close. */
    if (ri)
        connlimit_leave(ri->remote_addr);
}

/* A connection not judged early is judged at its first request; a refused
 * one is answered 503 and closed, its body unread. */
static int on_begin_request(struct mg_connection *conn)
{
    void *d = mg_get_user_connection_data(conn);
    if (!d) {
        d = judge(mg_get_request_info(conn), false);
        mg_set_user_connection_data(conn, d);
    }
    if (d != &refused)
        return 0;
    req_t r;
    memset(&r, 0, sizeof r);
    r.conn = conn;
    r.close = true;
    http_problem(&r, 503, "too many connections from this address; try again shortly", NULL,
                 NULL);
    return 503;
}

bool connlimit_install(struct mg_callbacks *cb, int threads, int cap)
{
    table = connlimit_new(threads, cap);
    if (!table)
        return false;
    cb->init_connection = on_init_connection;
    cb->connection_close = on_connection_close;
    cb->begin_request = on_begin_request;
    cb->init_ssl = connlimit_tls_init_ssl; /* called only when TLS is on */
    return true;
}

void connlimit_uninstall(void)
{
    connlimit_free(table);
    table = NULL;
}
