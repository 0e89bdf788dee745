/*
 * main.c — the clinicbox command: parses the subcommand and its flags,
 * loads the settings and runs it. `serve` starts the storage, the no-show
 * worker and the HTTP server, then waits for SIGINT/SIGTERM in the main
 * thread (signals are blocked in every other thread).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/cli.h"
#include "auth/password.h"
#include "auth/session.h"
#include "core/config.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/sdnotify.h"
#include "core/tz.h"
#include "http/hostcheck.h"
#include "http/http.h"
#include "http/tls.h"
#include "outbox/outbox.h"
#include "service/app.h"
#include "service/backup_cli.h"
#include "service/nightly.h"
#include "service/noshow.h"
#include "service/shutdown.h"
#include "service/watchdog.h"
#include "store/audit.h"
#include "store/datalock.h"
#include "store/store.h"
#include "store/migrate.h"
#include "sync/central.h"
#include "sync/central_tool.h"
#include "sync/docmap.h"
#include "sync/engine.h"
#include "sync/journal.h"
#include "sync/round.h"

static void usage(FILE *f)
{
    fprintf(f,
            "clinicbox %s - an offline-first clinic appointment box\n"
            "\n"
            "Usage: clinicbox COMMAND [OPTIONS]\n"
            "\n"
            "Commands:\n"
            "  serve      Run the server: the JSON API under /api, /metrics and the no-show\n"
            "             worker. Creates the data directory and database on first start.\n"
            "  migrate    Create or upgrade the database in the data directory, then exit.\n"
            "  config     Print the settings in effect (secrets hidden), then exit.\n"
            "  sync --once  One round with the central MongoDB (mongo_uri), then exit:\n"
            "             take in central changes, push this box's, report this box\n"
            "             (the server does the same every sync_interval_seconds).\n"
            "  sync --dump  Print every record as the box would push it (a JSON line\n"
            "             each), to compare with the central database.\n"
            "  audit verify  Check the audit trail's hash chain in the data directory:\n"
            "             exit 0 and its head (seq and hash, worth noting elsewhere) when\n"
            "             intact, 1 naming the first edited, deleted or moved entry.\n"
            "             --expect SEQ:HASH also checks a head noted earlier.\n"
            "  central ...  Write a clinic's records in the central MongoDB so that its\n"
            "             box picks them up (clinicbox central --help).\n"
            "  user add|list|passwd|disable|enable  Staff accounts (--username NAME,\n"
            "             --role admin|front_desk|doctor, --doctor ID for a doctor). The\n"
            "             password is asked on the terminal, or read as one line from\n"
            "             standard input when that is not a terminal.\n"
            "  token create|list|revoke  API tokens for scripts (--name NAME, --role\n"
            "             ROLE); create prints the token once, as its last word.\n"
            "  backup --to FILE|FOLDER  A consistent copy of the database, also while the\n"
            "             server runs, checked with integrity_check; a FOLDER gets a dated\n"
            "             file (docs/backup.md).\n"
            "  restore --from FILE  Put a backup back (refused while a server uses the\n"
            "             data directory, or when FILE is damaged); the database it\n"
            "             replaces is kept beside it.\n"
            "  routes     Print the API's routes and the roles that may call them (JSON).\n"
            "  version    Print the version.\n"
            "  help       Show this help (also --help, -h).\n"
            "\n"
            "Options (serve, migrate, config, sync, user, token, audit, backup, restore):\n"
            "  --config FILE      Read settings from FILE (\"key = value\" lines).\n"
            "  --data DIR         Data directory (default ./clinicbox-data).\n"
            "  --listen ADDR:PORT Address to serve on (default 127.0.0.1:8080), HTTPS\n"
            "                     unless --set tls=off (docs/security.md).\n"
            "  --set KEY=VALUE    Any other setting, as in the config file.\n"
            "\n"
            "Every setting also has an environment variable, CLINICBOX_<KEY> in capitals;\n"
            "flags win over the environment, which wins over the file. See docs/config.md.\n",
            CLINICBOX_VERSION);
}

static bool parse_settings(int argc, char **argv, struct config *cfg)
{
    const char *file = NULL;
    char err[700];
    config_defaults(cfg);
    for (int i = 2; i < argc; i++) /* the file first: flags override it */
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[++i];
    if (!config_load(cfg, file, err, sizeof err)) {
        fprintf(stderr, "clinicbox: %s\n", err);
        return false;
    }
    for (int i = 2; i < argc; i++) {
        const char *key = NULL, *value = NULL;
        char kv[1200];
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            i++;
            continue;
        }
        if ((strcmp(argv[i], "--data") == 0 || strcmp(argv[i], "--listen") == 0) && i + 1 < argc) {
            key = argv[i] + 2;
            value = argv[++i];
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            snprintf(kv, sizeof kv, "%s", argv[++i]);
            char *eq = strchr(kv, '=');
            if (!eq) {
                fprintf(stderr, "clinicbox: --set needs KEY=VALUE, not \"%s\"\n", kv);
                return false;
            }
            *eq = '\0';
            key = kv;
            value = eq + 1;
        } else {
            fprintf(stderr, "clinicbox: unknown option \"%s\" (see clinicbox --help)\n", argv[i]);
            return false;
        }
        if (!config_set(cfg, key, value, err, sizeof err)) {
            fprintf(stderr, "clinicbox: %s\n", err);
            return false;
        }
    }
    if (cfg->timezone[0] && !tz_get(cfg->timezone)) {
        fprintf(stderr, "clinicbox: timezone: unknown time zone \"%s\"\n", cfg->timezone);
        return false;
    }
    if (!config_check(cfg, err, sizeof err)) {
        fprintf(stderr, "clinicbox: %s\n", err);
        return false;
    }
    return true;
}

static enum log_level level_of(const char *s)
{
    if (strcmp(s, "error") == 0)
        return LOG_ERROR;
    if (strcmp(s, "warn") == 0)
        return LOG_WARN;
    if (strcmp(s, "debug") == 0)
        return LOG_DEBUG;
    return LOG_INFO;
}

/* How long a stop waits for the background workers (docs/packaging.md). */
#define STOP_DEADLINE_MS 3000

static int cmd_serve(const struct config *cfg, bool serve)
{
    static app_t app;
    char err[700];
    sigset_t set;
    int sig = 0, rc = 1;
    struct mg_context *http = NULL;
    bool mongoc_ready = false;

    /* Block the signals here so that every thread started below inherits
     * the mask and only sigwait() in this thread sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* libmongoc's global state and log handler before any thread starts. */
    /* One data directory, one server: before the database is opened (a
     * second process would otherwise migrate it under the first). */
    datalock_t *lock = datalock_take(cfg->data, serve ? "serve" : "migrate",
                                     serve ? cfg->listen : NULL, err, sizeof err);
    if (!lock) {
        log_error("main", "%s", err);
        return 1;
    }
    if (serve) {
        central_global_init();
        mongoc_ready = true;
    }

    if (!app_open(&app, cfg, app_now(), err, sizeof err)) {
        log_error("main", "%s", err);
        if (mongoc_ready)
            central_global_cleanup();
        datalock_release(lock);
        return 1;
    }
    if (!serve) {
        log_info("main", "database %s is at schema version %d", db_path(app.db), migrate_latest());
        app_close(&app);
        datalock_release(lock);
        return 0;
    }
    if (!pw_init(PW_DEFAULT_CONCURRENT, PW_DEFAULT_WAIT_MS)) {
        log_error("main", "cannot set up password hashing");
        goto out;
    }
    session_module_init();
    hostcheck_init(cfg);
    /* Changes are journaled for the central sync whenever a mongo_uri is
     * set (a later `clinicbox sync --once` pushes them). */
    if (!sync_journal_enable(&app, cfg->mongo_uri[0] != 0)) {
        log_error("main", "cannot set up the sync journal");
        goto out;
    }
    /* The outbox first: the no-show worker and the HTTP threads wake it. */
    if (!outbox_start(&app)) {
        log_error("main", "cannot start the outbox workers");
        goto out;
    }
    if (!noshow_start(&app)) {
        log_error("main", "cannot start the no-show worker");
        goto out;
    }
    if (!sync_engine_start(&app)) {
        log_error("main", "cannot start the sync thread");
        goto out;
    }
    if (!nightly_start(&app)) {
        log_error("main", "cannot start the nightly backup");
        goto out;
    }
    http = http_start(&app);
    if (!http)
        goto out;
    const tlscert_info *cert = http_tls_info();
    const char *scheme = cert ? "https" : "http";
    log_info("main", "clinicbox %s serving on %s://%s with data in %s%s%s", CLINICBOX_VERSION,
             scheme, cfg->listen, db_path(app.db),
             cert ? "; certificate SHA-256 fingerprint " : "",
             cert ? cert->fingerprint_sha256 : "");
    char ready[400];
    snprintf(ready, sizeof ready, "READY=1\nSTATUS=serving on %s://%s", scheme, cfg->listen);
    sdnotify(ready);
    if (!watchdog_start(&app, scheme, cfg->listen))
        goto out;
    if (acct_setup_open(&app))
        log_warn("main",
                 "no admin yet: create the first one with `clinicbox user add --data %s "
                 "--username NAME --role admin`, or open %s://%s/ for the first-run setup",
                 cfg->data, scheme, cfg->listen);
    sigwait(&set, &sig);
    log_info("main", "received signal %d, shutting down", sig);
    sdnotify("STOPPING=1");
    rc = 0;
out:
    /* In-flight requests first (civetweb finishes them; a request body has
     * its own deadline), then the workers within STOP_DEADLINE_MS, then the
     * WAL into the database file, then the database closed. */
    watchdog_stop();
    http_stop(http);
    if (!shutdown_workers(&app, STOP_DEADLINE_MS)) {
        log_warn("main", "a worker is still inside a network call after %d ms; stopping without "
                         "it (every acknowledged change is on disk; its work is redone at the "
                         "next start)", STOP_DEADLINE_MS);
        db_checkpoint(app.db);
        log_info("main", "stopped");
        _exit(rc);
    }
    db_checkpoint(app.db);
    if (mongoc_ready)
        central_global_cleanup();
    app_close(&app);
    session_module_free();
    hostcheck_free();
    tz_cache_clear();
    datalock_release(lock);
    log_info("main", "stopped");
    return rc;
}

/* clinicbox routes: the route table as JSON lines, for docs and tests. */
static int cmd_routes(void)
{
    static const char *const scopes[] = {"", "doctor", "appointment", "patient"};
    for (int i = 0; i < http_routes_count; i++) {
        const struct route *rt = &http_routes[i];
        printf("{\"method\":\"%s\",\"path\":\"%s\",\"roles\":[", rt->method, rt->pattern);
        const char *sep = "";
        if (rt->roles & AUTH_PUBLIC) {
            printf("\"public\"");
            sep = ",";
        }
        for (unsigned b = AUTH_ADMIN; b <= AUTH_DOCTOR; b <<= 1)
            if (rt->roles & b) {
                printf("%s\"%s\"", sep, auth_role_name(b));
                sep = ",";
            }
        printf("],\"doctor_scope\":\"%s\"}\n", scopes[rt->scope]);
    }
    return 0;
}

static void copy_entry(const audit_entry *e, void *arg)
{
    *(audit_entry *)arg = *e;
}

/* clinicbox audit verify: walks the audit trail's hash chain (store/audit.h)
 * and, with --expect SEQ:HASH, checks that entry SEQ still has the hash an
 * operator noted. Exit 0 intact, 1 broken, 2 when it cannot be checked. */
static int cmd_audit_verify(const struct config *cfg, const char *expect)
{
    char path[1100], err[700], want[AUDIT_HASH_HEX] = "";
    long long want_seq = 0;
    audit_report rep;
    audit_entry at = {0};
    bool found = false, more;
    if (expect && (sscanf(expect, "%lld:%64[0-9a-f]", &want_seq, want) != 2 ||
                   strlen(want) != 64 || want_seq < 1)) {
        fprintf(stderr, "clinicbox: --expect needs SEQ:HASH as printed by audit verify\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/clinicbox.db", cfg->data);
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "clinicbox: no database at %s\n", path);
        return 2;
    }
    db_t *db = db_open(cfg->data, err, sizeof err);
    if (!db) {
        log_error("main", "%s", err);
        return 2;
    }
    db_conn_t *c = db_reader(db);
    int v = c ? audit_verify(c, &rep) : AUDIT_UNREADABLE;
    if (v == AUDIT_INTACT && expect &&
        store_audit_page(c, want_seq - 1, 1, copy_entry, &at, &more) == STORE_OK)
        found = at.seq == want_seq;
    db_reader_release(db, c);
    db_close(db);
    if (v == AUDIT_UNREADABLE) {
        fprintf(stderr, "clinicbox: cannot read the audit trail in %s\n", path);
        return 2;
    }
    if (v == AUDIT_BROKEN) {
        if (rep.bad_seq)
            printf("audit trail broken at entry %lld: %s\n", (long long)rep.bad_seq, rep.why);
        if (rep.triggers_missing)
            printf("audit trail unprotected: the triggers that refuse UPDATE and DELETE on "
                   "audit_log are missing or altered\n");
        return 1;
    }
    printf("%lld entries, chain intact\nhead: seq %lld hash %s\n", rep.entries,
           (long long)rep.head_seq, rep.head_hash);
    if (expect && (!found || strcmp(at.hash, want) != 0)) {
        printf("audit trail broken at entry %lld: %s\n", want_seq,
               found ? "its hash is not the one expected: the trail was rewritten from this "
                       "entry or an earlier one"
                     : "it is missing: the newest entries were cut off");
        return 1;
    }
    if (expect)
        printf("entry %lld has the expected hash\n", want_seq);
    return 0;
}

/* clinicbox audit verify [--expect SEQ:HASH] and the settings' flags. */
static int cmd_audit(int argc, char **argv)
{
    struct config cfg;
    const char *expect = NULL;
    int n = 2; /* argv without "verify" and --expect's pair */
    if (argc < 3 || strcmp(argv[2], "verify") != 0) {
        fprintf(stderr, "clinicbox: usage: clinicbox audit verify --data DIR "
                        "[--expect SEQ:HASH]\n");
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc)
            expect = argv[++i];
        else
            argv[n++] = argv[i];
    }
    if (!parse_settings(n, argv, &cfg))
        return 2;
    log_init(level_of(cfg.log_level));
    if (!ids_init()) {
        log_error("main", "cannot initialise libsodium");
        return 2;
    }
    return cmd_audit_verify(&cfg, expect);
}

/* clinicbox sync --once: one round, a line saying how it went. */
static int cmd_sync_once(const struct config *cfg)
{
    static app_t app;
    char err[1200];
    int rc = 1;
    if (!app_open(&app, cfg, app_now(), err, sizeof err)) {
        log_error("main", "%s", err);
        return 1;
    }
    central_global_init();
    if (sync_round(&app, err, sizeof err)) {
        char safe[1100];
        central_redact_uri(cfg->mongo_uri, safe, sizeof safe);
        log_info("sync", "round done with %s", safe);
        rc = 0;
    } else {
        log_error("sync", "%s", err);
    }
    central_global_cleanup();
    app_close(&app);
    tz_cache_clear();
    return rc;
}

/* clinicbox sync --dump: every record as the box would push it. */
static int cmd_sync_dump(const struct config *cfg)
{
    static app_t app;
    char err[1200];
    if (!app_open(&app, cfg, app_now(), err, sizeof err)) {
        log_error("main", "%s", err);
        return 1;
    }
    db_conn_t *c = db_reader(app.db);
    int rc = c && docmap_dump(c, stdout) == 0 ? 0 : 1;
    db_reader_release(app.db, c);
    app_close(&app);
    tz_cache_clear();
    return rc;
}

/* Logging and libsodium for a command that works on the data directory. */
static bool init_tool(const struct config *cfg)
{
    log_init(level_of(cfg->log_level));
    if (!ids_init()) {
        fprintf(stderr, "clinicbox: cannot initialise libsodium\n");
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    struct config cfg;
    const char *cmd = argc > 1 ? argv[1] : "help";

    central_process_start();

    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("clinicbox %s\n", CLINICBOX_VERSION);
        return 0;
    }
    if (strcmp(cmd, "central") == 0)
        return central_tool_main(argc - 2, argv + 2);
    if (strcmp(cmd, "routes") == 0)
        return cmd_routes();
    if (strcmp(cmd, "user") == 0 || strcmp(cmd, "token") == 0) {
        struct auth_cli_opts o;
        if (!auth_cli_take(&argc, argv, &o) || !parse_settings(argc, argv, &cfg))
            return 2;
        return init_tool(&cfg) ? auth_cli_run(&cfg, cmd, &o) : 1;
    }
    if (strcmp(cmd, "audit") == 0)
        return cmd_audit(argc, argv);
    if (strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0) {
        struct backup_cli_opts o;
        if (!backup_cli_take(&argc, argv, &o) || !parse_settings(argc, argv, &cfg))
            return 2;
        return init_tool(&cfg) ? backup_cli_run(&cfg, cmd, &o) : 1;
    }
    bool once = false, dump = false;
    if (strcmp(cmd, "sync") == 0) {
        /* --once or --dump: the server runs its rounds itself. */
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--once") == 0 || strcmp(argv[i], "--dump") == 0) {
                once = argv[i][2] == 'o';
                dump = !once;
                memmove(&argv[i], &argv[i + 1], sizeof *argv * (size_t)(argc - i));
                argc--;
                break;
            }
        if (!once && !dump) {
            fprintf(stderr, "clinicbox: sync needs --once or --dump (see clinicbox --help)\n");
            return 2;
        }
    }
    if (strcmp(cmd, "serve") && strcmp(cmd, "migrate") && strcmp(cmd, "config") && !once &&
        !dump) {
        fprintf(stderr, "clinicbox: unknown command \"%s\"\n\n", cmd);
        usage(stderr);
        return 2;
    }
    if (!parse_settings(argc, argv, &cfg))
        return 2;
    if (strcmp(cmd, "config") == 0) {
        config_dump(&cfg);
        return 0;
    }
    /* Under load glibc kept handing freed memory back to the kernel
     * (madvise + TLB shootdowns on every core, 8% of the CPU in the booking
     * benchmark). Keep a few MiB per arena instead, and few arenas. */
    mallopt(M_ARENA_MAX, 4);
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
    log_init(level_of(cfg.log_level));
    if (!ids_init()) {
        log_error("main", "cannot initialise libsodium");
        return 1;
    }
    if (once)
        return cmd_sync_once(&cfg);
    if (dump)
        return cmd_sync_dump(&cfg);
    return cmd_serve(&cfg, strcmp(cmd, "serve") == 0);
}
