/*
 * static.c — the UI's files (the web_dir setting) over HTTP, by our own
 * handler, registered for "/": civetweb gives it every path that is not
 * /api or /metrics.
 *
 * civetweb's own file serving is never used (server.c sets no
 * document_root): Debian's civetweb 1.15 has an unfixed heap overflow in
 * its URI/redirect path (CVE-2025-55763), and it would list directories,
 * run CGI and SSI, and serve any file under the root. Here, webpath.c
 * decides from the raw path which file is meant (a whitelist of names and
 * types); the file is opened below web_dir one segment at a time from a
 * directory descriptor with O_NOFOLLOW, so no symlink is followed and no
 * ".." exists to follow; only a regular file of at most STATIC_MAX_FILE
 * bytes is sent. A FIFO is opened non-blocking and then refused, so it
 * cannot hold a worker.
 *
 * GET and HEAD only (405 otherwise). The ETag is the file's size and
 * modification time; If-None-Match answers 304. Cache-Control: no-cache on
 * every file: the UI has no build step that would put hashes in its file
 * names, so the browser revalidates each time and gets a 304 when nothing
 * changed. The security headers are those of every answer (headers.h).
 *
 * Threads: civetweb's workers; nothing here is shared but the metric index,
 * set once before they start.
 */
#include "http/static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "http/headers.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/webpath.h"

static int metric_static;

/* Whether path is dir or lies below it (both resolved, no trailing "/"). */
static bool path_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (strcmp(dir, "/") == 0)
        return true;
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool http_static_init(const app_t *app)
{
    const char *web = app->cfg.web_dir;
    char wreal[PATH_MAX], dreal[PATH_MAX];
    struct stat st;

    metric_static = metrics_route("static");
    if (!*web) {
        log_info("http", "web_dir is empty: no UI files are served");
        return true;
    }
    if (!realpath(web, wreal) || stat(wreal, &st) != 0) {
        log_warn("http", "web_dir %s: %s; no UI files are served until it exists", web,
                 strerror(errno));
        return true;
    }
    if (!S_ISDIR(st.st_mode)) {
        log_warn("http", "web_dir %s is not a directory; no UI files are served", web);
        return true;
    }
    if (realpath(app->cfg.data, dreal) && path_within(dreal, wreal)) {
        log_error("http",
                  "web_dir %s holds the data directory %s: it would put the database next to "
                  "the files served; set web_dir to the UI's own directory",
                  web, app->cfg.data);
        return false;
    }
    return true;
}

/* Opens rel ("index.html", "js/app.js") below root without following a
 * symlink anywhere below root. -1 when there is no such file. */
static int open_below(const char *root, const char *rel)
{
    char name[WEBPATH_NAME_MAX];
    int dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -1;
    snprintf(name, sizeof name, "%s", rel);
    char *seg = name;
    for (char *slash; (slash = strchr(seg, '/')) != NULL; seg = slash + 1) {
        *slash = '\0';
        int sub = openat(dir, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(dir);
        if (sub < 0)
            return -1;
        dir = sub;
    }
    int fd = openat(dir, seg, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    close(dir);
    return fd;
}

static void not_found(req_t *r)
{
    http_problem(r, 404, "no such file", NULL, NULL);
}

/* Sends len bytes of fd. False when the file ended early or failed (it
 * changed while being sent): the connection must then be closed, as the
 * Content-Length promised more. */
static bool send_body(req_t *r, int fd, off_t len)
{
    char buf[16384];
    off_t left = len;
    while (left > 0) {
        ssize_t n = read(fd, buf, left < (off_t)sizeof buf ? (size_t)left : sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        if (mg_write(r->conn, buf, (size_t)n) != (int)n)
            return true; /* the client went away: nothing more to do */
        left -= n;
    }
    return true;
}

static void serve(req_t *r, const char *raw, bool head)
{
    char name[WEBPATH_NAME_MAX], msg[80];
    const char *type = NULL, *why = NULL;

    switch (webpath_resolve(raw, name, sizeof name, &type, &why)) {
    case WEBPATH_BAD:
        http_problem(r, 400, why, NULL, NULL);
        return;
    case WEBPATH_TOO_LONG:
        snprintf(msg, sizeof msg, "the path is longer than %d characters", WEBPATH_MAX_URI);
        http_problem(r, 414, msg, NULL, NULL);
        return;
    case WEBPATH_NOT_FOUND:
        not_found(r);
        return;
    case WEBPATH_OK:
        break;
    }
    if (!r->app->cfg.web_dir[0]) {
        not_found(r);
        return;
    }
    int fd = open_below(r->app->cfg.web_dir, name);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        not_found(r);
        return;
    }
    if (st.st_size > STATIC_MAX_FILE) {
        log_warn("http", "web file %s is larger than %d bytes: not served", name,
                 STATIC_MAX_FILE);
        close(fd);
        not_found(r);
        return;
    }

    char etag[64], sec[HTTP_SECURITY_HEADERS_MAX], date[HTTP_DATE_HEADER_MAX];
    unsigned long long mtime_ns = (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                                  (unsigned long long)st.st_mtim.tv_nsec;
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size, mtime_ns);
    http_security_headers(sec, sizeof sec, r->tls);
    http_date_header(date, sizeof date);
    const char *conn_close = r->close ? "Connection: close\r\n" : "";

    if (webpath_etag_match(mg_get_header(r->conn, "If-None-Match"), etag)) {
        r->status = 304;
        mg_printf(r->conn,
                  "HTTP/1.1 304 Not Modified\r\n%sETag: %s\r\nCache-Control: no-cache\r\n%s%s\r\n",
                  date, etag, sec, conn_close);
    } else {
        r->status = 200;
        mg_printf(r->conn,
                  "HTTP/1.1 200 OK\r\n%sContent-Type: %s\r\nContent-Length: %lld\r\nETag: %s\r\n"
                  "Cache-Control: no-cache\r\n%s%s\r\n",
                  date, type, (long long)st.st_size, etag, sec, conn_close);
        if (!head && !send_body(r, fd, st.st_size)) {
            log_warn("http", "web file %s changed while it was sent", name);
            r->close = true;
        }
    }
    close(fd);
    if (r->close)
        http_force_close(r->conn);
}

int http_static_handler(struct mg_connection *conn, void *cbdata)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct timespec t0, t1;
    req_t r;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_req_init(&r, conn, cbdata);
    /* A body is never read here: close after answering rather than let
     * civetweb read and drop it (a slow one would hold the worker). */
    r.close = ri->content_length > 0 || mg_get_header(conn, "Transfer-Encoding") != NULL;

    bool head = strcmp(r.method, "HEAD") == 0;
    if (!head && strcmp(r.method, "GET") != 0)
        http_method_not_allowed(&r, "GET, HEAD");
    else
        serve(&r, ri->local_uri_raw, head);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    metrics_request(metric_static, r.status, secs);
    log_debug("http", "%s %s -> %d (%.1f ms)", r.method, ri->local_uri, r.status, secs * 1e3);
    return r.status;
}
