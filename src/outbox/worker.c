/*
 * worker.c — see outbox.h.
 *
 * Each channel thread loops: claim a batch of due messages in one write job
 * (marking them `sending`, or `expired` when their purpose has passed), send
 * them one by one, and record each result in its own write job. When the
 * provider is unreachable the rest of the batch goes back to `queued`
 * without an attempt counted, and the channel pauses for its back-off (new
 * messages do not end the pause): one probe per back-off period, not a
 * storm of connection attempts. Between batches the
 * thread sleeps until the next message is due, at most IDLE_SECONDS, or
 * until outbox_kick() writes to the channel's eventfd.
 *
 * Locking: ob->lock guards the channel status structs and `stopping`; it is
 * never held across I/O or a db_write(). Waiting is poll() on an eventfd (as
 * in the no-show worker), not a condition variable: a kick that comes before
 * the wait is kept by the eventfd's counter, and poll() behaves under
 * libfaketime, which the tests use.
 */
#include "outbox/outbox.h"

#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "outbox/mime.h"
#include "outbox/policy.h"
#include "outbox/smtp.h"
#include "outbox/twilio.h"
#include "service/notify.h"
#include "store/store.h"

#define BATCH 8
#define IDLE_SECONDS 30

struct channel {
    struct outbox *ob;
    const char *name; /* "email" or "sms" */
    pthread_t thread;
    bool started;
    int wake_fd; /* eventfd: new messages, or stop */
    int outage_streak;
    int64_t paused_until; /* the provider was unreachable: no probe before */
    struct outbox_channel_status st; /* guarded by ob->lock */
};

struct outbox {
    app_t *app;
    pthread_mutex_t lock;
    bool stopping;
    struct channel ch[2];
};

static double draw(void)
{
    return (double)randombytes_uniform(1000000) / 1000000.0;
}

/* ---- write jobs ----------------------------------------------------------- */

struct claim_job {
    const char *channel;
    int64_t now;
    notification_due due[BATCH];
    long n;       /* claimed for sending */
    long expired;
};

static int claim_job(db_conn_t *c, void *arg)
{
    struct claim_job *j = arg;
    notification_due all[BATCH];
    long n = store_notification_due(c, j->channel, j->now, all, BATCH);
    j->n = j->expired = 0;
    if (n < 0)
        return -1;
    for (long i = 0; i < n; i++) {
        notification_rec *r = &all[i].n;
        const char *why = policy_purpose_passed(r->purpose, j->now, r->expires_at,
                                                all[i].appt_status, all[i].offer_used);
        if (why) {
            snprintf(r->status, sizeof r->status, "expired");
            snprintf(r->last_error, sizeof r->last_error, "%s", why);
            r->next_attempt_at = 0;
            j->expired++;
        } else {
            snprintf(r->status, sizeof r->status, "sending");
            j->due[j->n++] = all[i];
        }
        r->updated_at = j->now;
        if (store_notification_update(c, r) != STORE_OK)
            return -1;
    }
    return 0;
}

struct result_job {
    notification_rec *r;
    const char *event; /* event type, or NULL */
};

static int result_job(db_conn_t *c, void *arg)
{
    struct result_job *j = arg;
    if (store_notification_update(c, j->r) != STORE_OK)
        return -1;
    if (j->event) {
        char data[400];
        snprintf(data, sizeof data, "{\"notification_id\":\"%s\",\"channel\":\"%s\"}", j->r->id,
                 j->r->channel);
        if (store_event(c, j->r->updated_at, "outbox", "notification", j->r->id, j->event,
                        data) != STORE_OK)
            return -1;
    }
    return 0;
}

struct requeue_job {
    notification_due *due;
    long n;
    int64_t at, now;
};

/* Puts claimed but unattempted messages back, due at `at`. */
static int requeue_job(db_conn_t *c, void *arg)
{
    struct requeue_job *j = arg;
    for (long i = 0; i < j->n; i++) {
        notification_rec *r = &j->due[i].n;
        snprintf(r->status, sizeof r->status, "queued");
        r->next_attempt_at = j->at;
        r->updated_at = j->now;
        if (store_notification_update(c, r) != STORE_OK)
            return -1;
    }
    return 0;
}

static int requeue_sending_job(db_conn_t *c, void *arg)
{
    long *n = arg;
    *n = store_notification_requeue_sending(c, NULL, app_now());
    return *n < 0 ? -1 : 0;
}

/* ---- sending ------------------------------------------------------------- */

struct senders {
    smtp_sender *smtp;
    twilio_sender *twilio;
};

static void send_email(app_t *app, struct senders *s, const notification_rec *r,
                       const notification_text *t, int64_t now, send_result *out)
{
    clinic_rec clinic;
    char msgid[200], domain[300];
    size_t len;

    app_clinic(app, &clinic);
    if (mime_address(app->cfg.smtp_from, domain, sizeof domain) != 0)
        snprintf(domain, sizeof domain, "clinicbox.invalid");
    const char *at = strrchr(domain, '@');
    /* The same Message-ID on every attempt: a copy sent twice after a
     * crash is recognisably the same message. */
    snprintf(msgid, sizeof msgid, "%s@%s", r->id, at ? at + 1 : "clinicbox.invalid");
    mime_msg m = {
        .from = app->cfg.smtp_from,
        .from_name = clinic.name,
        .to = r->recipient,
        .to_name = r->recipient_name,
        .subject = t->subject ? t->subject : clinic.name,
        .body = t->body,
        .message_id = msgid,
        .date = now,
        .calendar = t->attachment,
        .calendar_name = "appointment.ics",
        .calendar_method = "PUBLISH",
    };
    char *msg = mime_build(&m, &len);
    if (!msg) {
        memset(out, 0, sizeof *out);
        out->outcome = SEND_TRANSIENT;
        snprintf(out->error, sizeof out->error, "could not build the email");
        return;
    }
    smtp_send(s->smtp, r->recipient, msg, len, out);
    if (out->outcome == SEND_OK)
        snprintf(out->provider_id, sizeof out->provider_id, "<%s>", msgid);
    free(msg);
}

/* Sends one claimed message and records the result. Returns the outcome. */
static enum send_outcome deliver(struct channel *ch, struct senders *s, notification_rec *r)
{
    app_t *app = ch->ob->app;
    notification_text t;
    send_result res;
    int64_t now = app_now();
    db_conn_t *c = db_reader(app->db);
    int rc = c ? store_notification_text(c, r->id, &t) : STORE_ERROR;
    if (rc == STORE_OK && !t.body[0]) { /* worded at send time */
        clinic_rec clinic;
        app_clinic(app, &clinic);
        notification_text_free(&t);
        rc = notify_render(c, &clinic, r, now, &t) == 0 ? STORE_OK : STORE_ERROR;
    }
    if (c)
        db_reader_release(app->db, c);
    if (rc == STORE_CONFLICT) {
        /* An offer's message whose token went after it was claimed: the
         * patient used the offer, or it expired, meanwhile. Its link would
         * not work: it expires unsent. */
        snprintf(r->status, sizeof r->status, "expired");
        snprintf(r->last_error, sizeof r->last_error,
                 "the offer was used or expired before it could be sent");
        r->next_attempt_at = 0;
        r->updated_at = app_now();
        struct result_job xj = {r, NULL};
        if (db_write(app->db, result_job, &xj) != 0)
            log_error("outbox", "could not record message %s as expired", r->id);
        pthread_mutex_lock(&ch->ob->lock);
        ch->st.expired++;
        pthread_mutex_unlock(&ch->ob->lock);
        log_info("outbox", "%s message %s (%s) expired unsent: %s", r->channel, r->id,
                 r->purpose, r->last_error);
        return SEND_OK; /* the provider was not involved: go on with the batch */
    }
    if (rc != STORE_OK) {
        memset(&res, 0, sizeof res);
        res.outcome = SEND_TRANSIENT;
        snprintf(res.error, sizeof res.error, "could not read the message from storage");
    } else if (strcmp(ch->name, "email") == 0) {
        send_email(app, s, r, &t, now, &res);
    } else {
        twilio_send(s->twilio, r->recipient, t.body, &res);
    }
    if (rc == STORE_OK)
        notification_text_free(&t);

    now = app_now();
    ch->outage_streak = res.outcome == SEND_UNREACHABLE ? ch->outage_streak + 1 : 0;
    struct policy_decision d = policy_after_attempt(
        &res, r->attempts, app->cfg.outbox_max_attempts, app->cfg.outbox_max_backoff_seconds,
        ch->outage_streak, now, draw());
    snprintf(r->status, sizeof r->status, "%s", d.status);
    r->attempts = d.attempts;
    r->next_attempt_at = d.next_attempt_at;
    r->updated_at = now;
    if (res.outcome == SEND_OK) {
        r->sent_at = now;
        r->last_error[0] = 0;
        snprintf(r->provider_id, sizeof r->provider_id, "%s", res.provider_id);
    } else {
        snprintf(r->last_error, sizeof r->last_error, "%s", res.error);
    }
    struct result_job j = {r, res.outcome == SEND_OK         ? "sent"
                              : strcmp(d.status, "dead") == 0 ? "dead"
                                                              : NULL};
    if (db_write(app->db, result_job, &j) != 0)
        log_error("outbox", "could not record the result of message %s (%s); it will be "
                            "sent again after a restart", r->id, d.status);

    pthread_mutex_lock(&ch->ob->lock);
    struct outbox_channel_status *st = &ch->st;
    if (res.outcome == SEND_OK) {
        st->sent++;
        st->last_sent_at = now;
        st->down = false;
        st->down_since = 0;
    } else {
        if (strcmp(d.status, "dead") == 0)
            st->dead++;
        else
            st->failed++;
        snprintf(st->last_error, sizeof st->last_error, "%s", res.error);
        if (res.outcome == SEND_UNREACHABLE && !st->down) {
            st->down = true;
            st->down_since = now;
        } else if (res.outcome != SEND_UNREACHABLE) {
            st->down = false;
        }
    }
    pthread_mutex_unlock(&ch->ob->lock);

    if (res.outcome == SEND_PERMANENT || strcmp(d.status, "dead") == 0)
        log_warn("outbox", "%s message %s (%s) is dead: %s", r->channel, r->id, r->purpose,
                 res.error);
    else if (res.outcome != SEND_OK)
        log_info("outbox", "%s message %s failed (attempt %d), retry in %llds: %s",
                 r->channel, r->id, r->attempts, (long long)(d.next_attempt_at - now),
                 res.error);
    return res.outcome;
}

/* Waits until `until` (wall seconds, at most IDLE_SECONDS), a kick or stop. */
static void wait_until(struct channel *ch, int64_t until)
{
    int64_t secs = until - app_now();
    uint64_t n;
    if (secs > IDLE_SECONDS)
        secs = IDLE_SECONDS;
    if (secs <= 0)
        return;
    struct pollfd p = {.fd = ch->wake_fd, .events = POLLIN};
    if (poll(&p, 1, (int)secs * 1000) > 0 && read(ch->wake_fd, &n, sizeof n) < 0)
        log_debug("outbox", "eventfd read: nothing to read");
}

static bool stopping(struct outbox *ob)
{
    pthread_mutex_lock(&ob->lock);
    bool s = ob->stopping;
    pthread_mutex_unlock(&ob->lock);
    return s;
}

static void wake(struct channel *ch)
{
    uint64_t one = 1;
    if (ch->started && write(ch->wake_fd, &one, sizeof one) < 0)
        log_debug("outbox", "eventfd write failed");
}

static void *channel_main(void *arg)
{
    struct channel *ch = arg;
    struct outbox *ob = ch->ob;
    app_t *app = ob->app;
    struct senders s = {NULL, NULL};
    bool email = strcmp(ch->name, "email") == 0;

    if (email)
        s.smtp = smtp_new(&app->cfg);
    else
        s.twilio = twilio_new(&app->cfg);
    if (!s.smtp && !s.twilio) {
        log_error("outbox", "cannot start the %s sender: out of memory", ch->name);
        return NULL;
    }
    while (!stopping(ob)) {
        int64_t now = app_now();
        if (ch->paused_until > now + app->cfg.outbox_max_backoff_seconds + 1)
            ch->paused_until = now + app->cfg.outbox_max_backoff_seconds; /* clock went back */
        if (now < ch->paused_until) {
            /* Kicks wake us, but new messages must not start a new probe
             * of a provider that is down: that is what the pause is for. */
            wait_until(ch, ch->paused_until);
            continue;
        }
        struct claim_job j = {.channel = ch->name, .now = app_now()};
        if (db_write(app->db, claim_job, &j) != 0) {
            wait_until(ch, app_now() + 5);
            continue;
        }
        if (j.expired) {
            pthread_mutex_lock(&ob->lock);
            ch->st.expired += (unsigned long long)j.expired;
            pthread_mutex_unlock(&ob->lock);
            log_info("outbox", "%ld %s message(s) expired unsent", j.expired, ch->name);
        }
        if (j.n == 0) {
            int64_t next = 0;
            db_conn_t *c = db_reader(app->db);
            if (!c || store_notification_next_due(c, ch->name, &next) != STORE_OK)
                next = app_now() + 5;
            if (c)
                db_reader_release(app->db, c);
            wait_until(ch, next ? next : app_now() + IDLE_SECONDS);
            continue;
        }
        for (long i = 0; i < j.n; i++) {
            enum send_outcome o = deliver(ch, &s, &j.due[i].n);
            if (o == SEND_UNREACHABLE)
                ch->paused_until = j.due[i].n.next_attempt_at;
            if (o == SEND_UNREACHABLE || (i + 1 < j.n && stopping(ob))) {
                /* The rest were not tried: back to queued, due with the
                 * probe's retry (or now, when stopping). */
                struct requeue_job rq = {&j.due[i + 1], j.n - i - 1,
                                         o == SEND_UNREACHABLE ? j.due[i].n.next_attempt_at
                                                               : app_now(),
                                         app_now()};
                if (rq.n > 0 && db_write(app->db, requeue_job, &rq) != 0)
                    log_error("outbox", "could not queue %ld %s message(s) again", rq.n,
                              ch->name);
                break;
            }
        }
    }
    smtp_free(s.smtp);
    twilio_free(s.twilio);
    return NULL;
}

/* ---- life cycle ------------------------------------------------------------ */

bool outbox_start(app_t *app)
{
    struct outbox *ob = calloc(1, sizeof *ob);
    long requeued = 0;
    if (!ob)
        return false;
    ob->app = app;
    pthread_mutex_init(&ob->lock, NULL);
    ob->ch[0].name = "email";
    ob->ch[1].name = "sms";
    ob->ch[0].st.configured = app->cfg.smtp_url[0] != 0;
    ob->ch[1].st.configured = app->cfg.twilio_account_sid[0] && app->cfg.twilio_auth_token[0] &&
                              app->cfg.twilio_from[0];
    app->outbox = ob;

    if (db_write(app->db, requeue_sending_job, &requeued) != 0)
        log_error("outbox", "could not queue again the messages left in sending");
    else if (requeued > 0)
        log_warn("outbox", "%ld message(s) were being sent when the box stopped; sending them "
                           "again (a patient may get one of them twice)", requeued);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < 2; i++) {
        struct channel *ch = &ob->ch[i];
        ch->ob = ob;
        if (!ch->st.configured) {
            log_info("outbox", "%s is not configured; %s messages stay queued", ch->name,
                     ch->name);
            continue;
        }
        ch->wake_fd = eventfd(0, EFD_CLOEXEC);
        if (ch->wake_fd < 0)
            return false;
        if (pthread_create(&ch->thread, NULL, channel_main, ch) != 0) {
            close(ch->wake_fd);
            return false;
        }
        ch->started = true;
    }
    return true;
}

void outbox_kick(app_t *app)
{
    struct outbox *ob = app->outbox;
    if (!ob)
        return;
    for (int i = 0; i < 2; i++)
        wake(&ob->ch[i]);
}

void outbox_stop(app_t *app)
{
    struct outbox *ob = app->outbox;
    if (!ob)
        return;
    pthread_mutex_lock(&ob->lock);
    ob->stopping = true;
    pthread_mutex_unlock(&ob->lock);
    for (int i = 0; i < 2; i++) {
        struct channel *ch = &ob->ch[i];
        if (!ch->started)
            continue;
        wake(ch);
        pthread_join(ch->thread, NULL);
        close(ch->wake_fd);
    }
    curl_global_cleanup();
    pthread_mutex_destroy(&ob->lock);
    app->outbox = NULL;
    free(ob);
}

void outbox_status(app_t *app, const char *channel, struct outbox_channel_status *out)
{
    struct outbox *ob = app->outbox;
    memset(out, 0, sizeof *out);
    if (!ob)
        return;
    pthread_mutex_lock(&ob->lock);
    *out = ob->ch[strcmp(channel, "sms") == 0].st;
    pthread_mutex_unlock(&ob->lock);
}
