/*
 * shutdown.c — see shutdown.h. The waiting is poll() on an eventfd with a
 * relative timeout (not a timed join: that takes a wall-clock deadline,
 * which libfaketime moves in the tests).
 */
#include "service/shutdown.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/monotime.h"
#include "outbox/outbox.h"
#include "service/nightly.h"
#include "service/noshow.h"
#include "sync/engine.h"

struct stopper {
    app_t *app;
    int done_fd;
};

static void *stopper_main(void *arg)
{
    struct stopper *s = arg;
    nightly_stop(s->app);
    sync_engine_stop(s->app);
    noshow_stop(s->app);
    outbox_stop(s->app);
    /* done_fd stays open when the caller gave up waiting: it ends the
     * process instead of closing anything */
    uint64_t one = 1;
    if (write(s->done_fd, &one, sizeof one) != sizeof one)
        log_warn("main", "cannot report that the workers stopped");
    return NULL;
}

bool shutdown_workers(app_t *app, int deadline_ms)
{
    static struct stopper s; /* outlives this call when abandoned */
    s.app = app;
    s.done_fd = eventfd(0, EFD_CLOEXEC);
    pthread_t t;
    if (s.done_fd < 0 || pthread_create(&t, NULL, stopper_main, &s) != 0) {
        /* no thread: stop them here, however long it takes */
        nightly_stop(app);
        sync_engine_stop(app);
        noshow_stop(app);
        outbox_stop(app);
        if (s.done_fd >= 0)
            close(s.done_fd);
        return true;
    }
    int64_t end = monotime_ms() + deadline_ms;
    for (;;) {
        int64_t left = end - monotime_ms();
        struct pollfd p = {.fd = s.done_fd, .events = POLLIN};
        int r = poll(&p, 1, left > 0 ? (int)left : 0);
        if (r > 0) {
            pthread_join(t, NULL);
            close(s.done_fd);
            return true;
        }
        if (r == 0 || (r < 0 && errno != EINTR))
            break;
    }
    pthread_detach(t);
    return false;
}
