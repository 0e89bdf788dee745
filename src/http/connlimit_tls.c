/*
 * connlimit_tls.c — the per-address connection cap (connlimit.c) while a
 * TLS handshake is under way.
 *
 * civetweb 1.15 does the TLS handshake (SSL_accept in its sslize(), retried
 * for up to request_timeout_ms) on the worker that took the connection,
 * before it calls init_connection, where connlimit.c counts connections. A
 * client that opens TCP connections to the TLS port and sends nothing, or
 * trickles its ClientHello, would hold every worker for that long,
 * uncounted. So the handshake is counted too, from its start to its end:
 *
 * - civetweb's init_ssl callback hands over the SSL_CTX once, at start
 *   (after civetweb set its own info callback there, which does nothing).
 *   It gets an info callback of ours and an ex_data index for SSL objects
 *   whose free function is ours.
 * - SSL_CB_HANDSHAKE_START, which OpenSSL's state machine reports as
 *   SSL_accept begins, before it reads anything: the peer address of the
 *   SSL's socket, formatted as civetweb formats remote_addr (getnameinfo,
 *   NI_NUMERICHOST, into as many bytes), is admitted like a connection
 *   (connlimit_admit(), with the same grace). Counted: the SSL's ex_data
 *   keeps the address and that it is held. Over the cap: the socket is shut
 *   (shutdown(2); civetweb closes the descriptor itself), so SSL_accept
 *   reads its end at once and fails, and the worker is free again.
 * - The place is given back exactly once: at SSL_CB_HANDSHAKE_DONE (the
 *   handshake worked; OpenSSL reports it before SSL_accept returns, and
 *   init_connection then counts the connection as any other), or when the
 *   SSL is freed (the handshake failed or timed out), whichever is first.
 * - Only the first HANDSHAKE_START of an SSL counts: civetweb turns
 *   renegotiation off, and TLS 1.3 reports no new START for its
 *   post-handshake messages, but an SSL that already has our ex_data is
 *   left alone whatever comes.
 *
 * A refused handshake fails in SSL_accept, and civetweb logs that as an
 * error ("sslize error" or "SSL syscall error") for every connection: the
 * worker notes that it is refusing (a thread-local flag, set at the refusal
 * and cleared when the SSL is freed, right after civetweb's log line), and
 * the server's log_message callback drops lines while it is set
 * (connlimit_tls_refusing()): the refusal is counted and logged by
 * connlimit.c instead.
 *
 * Threads: an SSL lives on one worker, which runs all of these callbacks
 * for it; the table has its own mutex. The ex_data index is written once by
 * the main thread in mg_start(), before the workers start.
 */
#include "http/connlimit.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "core/log.h"

#define ADDR_MAX sizeof(((struct mg_request_info *)0)->remote_addr)

/* An SSL's ex_data: a counted handshake, or one of the markers below. */
struct handshake {
    bool held; /* its place is still taken */
    char addr[ADDR_MAX];
};

/* The handshake was refused, or not counted (the table was full, or the
 * peer's address could not be read). */
static char refused_mark, untracked_mark;
static int ex_index = -1;
static _Thread_local bool refusing;

bool connlimit_tls_refusing(void)
{
    return refusing;
}

static void give_back(struct handshake *h)
{
    if (h->held) {
        h->held = false;
        connlimit_leave(h->addr);
    }
}

static void on_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                        void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (ptr == &refused_mark) {
        refusing = false;
    } else if (ptr && ptr != &untracked_mark) {
        give_back(ptr);
        free(ptr);
    }
}

static void handshake_start(SSL *ssl)
{
    int fd = SSL_get_fd(ssl);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    char addr[ADDR_MAX];
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&peer, &plen) != 0 ||
        getnameinfo((struct sockaddr *)&peer, plen, addr, sizeof addr, NULL, 0,
                    NI_NUMERICHOST) != 0) {
        /* Not counted now; init_connection counts it after the handshake. */
        SSL_set_ex_data(ssl, ex_index, &untracked_mark);
        return;
    }
    switch (connlimit_admit(addr)) {
    case CONNLIMIT_COUNTED: {
        struct handshake *h = malloc(sizeof *h);
        if (h) {
            h->held = true;
            memcpy(h->addr, addr, sizeof addr);
        }
        if (!h || !SSL_set_ex_data(ssl, ex_index, h)) {
            free(h);
            connlimit_leave(addr);
            SSL_set_ex_data(ssl, ex_index, &untracked_mark);
        }
        return;
    }
    case CONNLIMIT_UNTRACKED:
        SSL_set_ex_data(ssl, ex_index, &untracked_mark);
        return;
    case CONNLIMIT_OVER:
        break;
    }
    /* shutdown() does not fail on a connected socket; should it, the
     * handshake goes on uncounted and init_connection judges it. */
    if (shutdown(fd, SHUT_RDWR) != 0) {
        SSL_set_ex_data(ssl, ex_index, &untracked_mark);
        return;
    }
    if (SSL_set_ex_data(ssl, ex_index, &refused_mark))
        refusing = true;
    connlimit_refused(addr, true, "TLS handshake");
}

static void on_info(const SSL *cssl, int what, int ret)
{
    (void)ret;
    if (what == SSL_CB_HANDSHAKE_START) {
        if (!SSL_is_server(cssl) || SSL_get_ex_data(cssl, ex_index))
            return;
        /* The worker's own SSL, const only in the callback's type. */
        handshake_start((SSL *)cssl);
    } else if (what == SSL_CB_HANDSHAKE_DONE) {
        void *d = SSL_get_ex_data(cssl, ex_index);
        if (d && d != &refused_mark && d != &untracked_mark)
            give_back(d);
    }
}

int connlimit_tls_init_ssl(void *ssl_ctx, void *user_data)
{
    (void)user_data;
    if (ex_index < 0)
        ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, on_ssl_free);
    if (ex_index < 0) {
        log_error("http", "out of memory (SSL_get_ex_new_index)");
        return -1;
    }
    SSL_CTX_set_info_callback(ssl_ctx, on_info);
    return 0;
}
