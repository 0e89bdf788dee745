/*
 * tiny_http.c — the HTTP ceiling for clinicbox: a minimal civetweb server
 * that answers every request with the fixed body {"ok":true}, with
 * Content-Length and keep-alive, configured like clinicbox's
 * src/http/server.c (128 worker threads, enable_keep_alive=yes, tcp_nodelay=1
 * (without it every response waits ~40 ms on Nagle + delayed ACK), 2 s
 * keep-alive and 5 s request timeouts; clinicbox's per-address connection
 * cap is off in the benchmark, whose clients all come from 127.0.0.1). Loading it with bench_loadgen and the
 * same client count as the clinicbox phases gives the rate civetweb itself
 * allows on this machine, with no JSON, routing or storage work.
 *
 * Usage: bench_tiny_http [--listen 127.0.0.1:PORT] [--threads N]
 *                        [--port-file FILE]
 * PORT may be 0: the kernel picks a free port. The bound port is printed on
 * stdout as "PORT n" and, with --port-file, written to FILE once the server
 * accepts connections. Runs until SIGINT/SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const char BODY[] = "{\"ok\":true}";

static int handle_any(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    char len[16];
    snprintf(len, sizeof len, "%zu", sizeof BODY - 1);
    mg_response_header_start(conn, 200);
    mg_response_header_add(conn, "Content-Type", "application/json", -1);
    mg_response_header_add(conn, "Content-Length", len, -1);
    mg_response_header_send(conn);
    mg_write(conn, BODY, sizeof BODY - 1);
    return 200;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    fprintf(stderr, "tiny_http: %s\n", message);
    return 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_tiny_http [--listen 127.0.0.1:PORT] [--threads N] [--port-file FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0";
    const char *threads = "128";
    const char *port_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = argv[++i];
        else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
            port_file = argv[++i];
        else
            usage();
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    mg_init_library(0);
    const char *options[] = {
        "listening_ports", listen,
        "num_threads", threads,
        "enable_keep_alive", "yes",
        "tcp_nodelay", "1",
        "keep_alive_timeout_ms", "2000",
        "request_timeout_ms", "5000",
        NULL,
    };
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.log_message = log_message;
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    if (!ctx) {
        fprintf(stderr, "tiny_http: mg_start failed for %s\n", listen);
        return 1;
    }
    mg_set_request_handler(ctx, "/", handle_any, NULL);

    struct mg_server_port ports[4];
    int n = mg_get_server_ports(ctx, 4, ports);
    if (n < 1) {
        fprintf(stderr, "tiny_http: no listening port\n");
        mg_stop(ctx);
        return 1;
    }
    printf("PORT %d\n", ports[0].port);
    fflush(stdout);
    if (port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", ports[0].port) < 0 || fclose(f) != 0 ||
            rename(tmp, port_file) != 0) {
            perror("tiny_http: port file");
            mg_stop(ctx);
            return 1;
        }
    }

    while (!stop_flag)
        pause();
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
