/*
 * watchdog.c — see watchdog.h. The HTTP check uses libcurl against the
 * box's own address (a wildcard listen address is asked on loopback); the
 * certificate is not verified: the box asks itself, and nothing secret is
 * sent. The write job upserts meta.watchdog_at, a row of its own.
 */
#include "service/watchdog.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sdnotify.h"
#include "store/store.h"

static struct {
    app_t *app;
    pthread_t thread;
    int wake_fd;
    bool running;
    int interval_ms;
    char url[300];
} wd;

/* The URL of /api/health on the box's own listener. */
static bool health_url(const char *scheme, const char *listen, char *out, size_t len)
{
    char host[160];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host)
        return false;
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
    const char *port = colon + 1;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    else if (strcmp(host, "[::]") == 0)
        snprintf(host, sizeof host, "[::1]");
    int n = snprintf(out, len, "%s://%s:%s/api/health", scheme, host, port);
    return n > 0 && (size_t)n < len;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static bool http_answers(char *why, size_t len)
{
    CURL *c = curl_easy_init();
    long status = 0;
    if (!c) {
        snprintf(why, len, "cannot make an HTTP client");
        return false;
    }
    long timeout = wd.interval_ms / 2 > 1000 ? wd.interval_ms / 2 : 1000;
    curl_easy_setopt(c, CURLOPT_URL, wd.url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "clinicbox-watchdog");
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        snprintf(why, len, "%s does not answer: %s", wd.url, curl_easy_strerror(rc));
        return false;
    }
    if (status != 200) {
        snprintf(why, len, "%s answers %ld", wd.url, status);
        return false;
    }
    return true;
}

static int alive_job(db_conn_t *c, void *arg)
{
    (void)arg;
    return store_meta_set_int(c, "watchdog_at", app_now()) == STORE_OK ? 0 : 1;
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    char why[400];
    bool failing = false;
    for (;;) {
        struct pollfd p = {.fd = wd.wake_fd, .events = POLLIN};
        int r = poll(&p, 1, wd.interval_ms);
        if (r > 0 || (r < 0 && errno != EINTR))
            break; /* stop */
        bool ok = db_write(wd.app->db, alive_job, NULL) == 0;
        if (!ok)
            snprintf(why, sizeof why, "the database does not take a write");
        else
            ok = http_answers(why, sizeof why);
        if (ok) {
            sdnotify("WATCHDOG=1");
            if (failing)
                log_info("watchdog", "checks pass again; pinging systemd's watchdog");
        } else {
            log_error("watchdog", "%s: not pinging systemd's watchdog (it restarts the box "
                                  "when this lasts)", why);
        }
        failing = !ok;
    }
    return NULL;
}

bool watchdog_start(app_t *app, const char *scheme, const char *listen)
{
    uint64_t usec = sdnotify_watchdog_usec();
    if (!usec)
        return true;
    if (!health_url(scheme, listen, wd.url, sizeof wd.url)) {
        log_error("watchdog", "cannot make a health URL from listen \"%s\"", listen);
        return false;
    }
    wd.app = app;
    wd.interval_ms = (int)(usec / 2000 > 0 ? usec / 2000 : 1);
    wd.wake_fd = eventfd(0, EFD_CLOEXEC);
    if (wd.wake_fd < 0)
        return false;
    if (pthread_create(&wd.thread, NULL, watchdog_main, NULL) != 0) {
        close(wd.wake_fd);
        return false;
    }
    wd.running = true;
    log_info("watchdog", "systemd's watchdog every %d ms after checking %s and a database write",
             wd.interval_ms, wd.url);
    return true;
}

void watchdog_stop(void)
{
    if (!wd.running)
        return;
    uint64_t one = 1;
    if (write(wd.wake_fd, &one, sizeof one) != sizeof one)
        log_warn("watchdog", "cannot wake the watchdog thread");
    pthread_join(wd.thread, NULL);
    close(wd.wake_fd);
    wd.running = false;
}
