/*
 * test_connlimit.c — the per-address connection table (http/connlimit.h):
 * the cap per address, addresses counted apart, release, a full table, the
 * throttled refusal log; and connlimit_shut() on a real loopback socket.
 */
#include "http/connlimit.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_cap_per_address(void)
{
    connlimit *t = connlimit_new(8, 3);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(connlimit_acquire(t, "10.0.0.1"), CONNLIMIT_COUNTED);
    CHECK_EQ_INT(connlimit_acquire(t, "10.0.0.1"), CONNLIMIT_OVER);
    CHECK_EQ_INT(connlimit_count(t, "10.0.0.1"), 3); /* a refusal is not counted */
    /* Another address has its own count. */
    CHECK_EQ_INT(connlimit_acquire(t, "10.0.0.2"), CONNLIMIT_COUNTED);
    CHECK_EQ_INT(connlimit_count(t, "10.0.0.2"), 1);
    /* One closes: one more may open. */
    connlimit_release(t, "10.0.0.1");
    CHECK_EQ_INT(connlimit_count(t, "10.0.0.1"), 2);
    CHECK_EQ_INT(connlimit_acquire(t, "10.0.0.1"), CONNLIMIT_COUNTED);
    CHECK_EQ_INT(connlimit_acquire(t, "10.0.0.1"), CONNLIMIT_OVER);
    connlimit_free(t);
}

static void test_slots_are_reused(void)
{
    connlimit *t = connlimit_new(2, 2);
    CHECK_EQ_INT(connlimit_acquire(t, "::1"), CONNLIMIT_COUNTED);
    CHECK_EQ_INT(connlimit_acquire(t, "192.168.1.20"), CONNLIMIT_COUNTED);
    /* Both slots in use: a third address is let in, uncounted. */
    CHECK_EQ_INT(connlimit_acquire(t, "192.168.1.21"), CONNLIMIT_UNTRACKED);
    CHECK_EQ_INT(connlimit_count(t, "192.168.1.21"), 0);
    /* The last connection of an address frees its slot. */
    connlimit_release(t, "::1");
    CHECK_EQ_INT(connlimit_count(t, "::1"), 0);
    CHECK_EQ_INT(connlimit_acquire(t, "192.168.1.21"), CONNLIMIT_COUNTED);
    CHECK_EQ_INT(connlimit_count(t, "192.168.1.21"), 1);
    /* Releasing an address that is not there changes nothing. */
    connlimit_release(t, "10.9.9.9");
    CHECK_EQ_INT(connlimit_count(t, "192.168.1.20"), 1);
    connlimit_free(t);
}

static void test_refusal_log_is_throttled(void)
{
    connlimit *t = connlimit_new(4, 1);
    long n = -1;
    CHECK(connlimit_note_refusal(t, 1000, 10000, &n));
    CHECK_EQ_INT(n, 1);
    n = -1;
    CHECK(!connlimit_note_refusal(t, 2000, 10000, &n));
    CHECK(!connlimit_note_refusal(t, 10999, 10000, &n));
    CHECK_EQ_INT(n, -1);
    CHECK(connlimit_note_refusal(t, 11000, 10000, &n));
    CHECK_EQ_INT(n, 3); /* the two quiet ones and this one */
    connlimit_free(t);
}

static int port_of(int fd, bool peer)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if ((peer ? getpeername(fd, (struct sockaddr *)&a, &len)
              : getsockname(fd, (struct sockaddr *)&a, &len)) != 0)
        return -1;
    return ntohs(a.sin_port);
}

static void test_shut_finds_the_socket(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int lis = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = sizeof a;
    CHECK(bind(lis, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(lis, 4) == 0);
    CHECK(getsockname(lis, (struct sockaddr *)&a, &len) == 0);
    int cli = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(cli, (struct sockaddr *)&a, sizeof a) == 0);
    int srv = accept(lis, NULL, NULL);
    CHECK(srv >= 0);
    int server_port = port_of(srv, false), client_port = port_of(cli, false);

    /* Not this connection: a wrong client port or a wrong local port. */
    CHECK(!connlimit_shut("127.0.0.1", client_port == 1 ? 2 : 1, server_port));
    CHECK(!connlimit_shut("127.0.0.2", client_port, server_port));
    /* The server's end is shut: the client reads the end at once, and
     * the descriptor is still open (civetweb closes it). */
    CHECK(connlimit_shut("127.0.0.1", client_port, server_port));
    char c;
    CHECK_EQ_INT(recv(cli, &c, 1, 0), 0);
    CHECK_EQ_INT(port_of(srv, false), server_port);
    close(cli);
    close(srv);
    close(lis);
}

int main(void)
{
    RUN(test_cap_per_address);
    RUN(test_slots_are_reused);
    RUN(test_refusal_log_is_throttled);
    RUN(test_shut_finds_the_socket);
    return unit_summary();
}
