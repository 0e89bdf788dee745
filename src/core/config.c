/*
 * config.c — table-driven settings: every key has one row that names its
 * environment variable, type, limits and whether it is a secret. Adding a
 * setting means adding a field to struct config and a row here.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The UI's files: the source tree's web/ in a build (CMakeLists.txt), the
 * installed location in a package. */
#ifndef CLINICBOX_WEB_DIR
#define CLINICBOX_WEB_DIR "./web"
#endif

enum kind { K_STR, K_INT, K_BOOL };

struct key {
    const char *name;
    const char *env;
    enum kind kind;
    size_t offset;
    size_t size; /* K_STR: buffer size */
    int min, max; /* K_INT */
    bool secret;
};

#define S(n, sec) {#n, "CLINICBOX_" #n, K_STR, offsetof(struct config, n), sizeof(((struct config *)0)->n), 0, 0, sec}
#define I(n, lo, hi) {#n, "CLINICBOX_" #n, K_INT, offsetof(struct config, n), 0, lo, hi, false}
#define B(n) {#n, "CLINICBOX_" #n, K_BOOL, offsetof(struct config, n), 0, 0, 0, false}

static const struct key keys[] = {
    S(data, false),
    S(listen, false),
    I(grace_minutes, 0, 1440),
    S(timezone, false),
    I(http_threads, 4, 512),
    I(http_keep_alive_ms, 100, 60000),
    I(http_max_connections_per_address, 0, 511),
    I(noshow_interval_seconds, 1, 3600),
    I(clock_max_catchup_hours, 1, 8760),
    S(log_level, false),
    S(smtp_url, false),
    S(smtp_user, false),
    S(smtp_password, true),
    S(smtp_from, false),
    S(twilio_account_sid, false),
    S(twilio_auth_token, true),
    S(twilio_from, false),
    S(twilio_base_url, false),
    S(tls_ca_file, false),
    B(tls),
    S(tls_cert, false),
    S(tls_key, false),
    S(tls_redirect_listen, false),
    I(outbox_max_attempts, 1, 1000),
    I(outbox_max_backoff_seconds, 1, 86400),
    I(outbox_timeout_seconds, 1, 600),
    S(public_url, false),
    S(mongo_uri, true),
    S(clinic_id, false),
    I(sync_interval_seconds, 1, 86400),
    B(sync_indexes),
    S(hostnames, false),
    S(web_dir, false),
    S(backup_dir, false),
    I(backup_keep, 1, 1000),
    I(backup_hour, 0, 23),
};

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->data, sizeof cfg->data, "./clinicbox-data");
    snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1:8080");
    cfg->grace_minutes = 15;
    cfg->http_threads = 128;
    cfg->http_keep_alive_ms = 2000;
    cfg->http_max_connections_per_address = 32;
    cfg->noshow_interval_seconds = 10;
    cfg->clock_max_catchup_hours = 72;
    snprintf(cfg->log_level, sizeof cfg->log_level, "info");
    snprintf(cfg->twilio_base_url, sizeof cfg->twilio_base_url, "https://api.twilio.com");
    cfg->outbox_max_attempts = 12;
    cfg->outbox_max_backoff_seconds = 900;
    cfg->outbox_timeout_seconds = 30;
    cfg->sync_interval_seconds = 30;
    cfg->sync_indexes = true;
    snprintf(cfg->web_dir, sizeof cfg->web_dir, "%s", CLINICBOX_WEB_DIR);
    cfg->tls = true;
    cfg->backup_keep = 7;
    cfg->backup_hour = 2;
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static bool apply(struct config *cfg, const struct key *k, const char *value, const char *where,
                  char *err, size_t errlen)
{
    char *field = (char *)cfg + k->offset;
    if (k->kind == K_STR) {
        if (strlen(value) >= k->size) {
            snprintf(err, errlen, "%s: %s is too long (at most %zu characters)", where, k->name,
                     k->size - 1);
            return false;
        }
        for (const char *p = value; *p; p++)
            if ((unsigned char)*p < 0x20) {
                snprintf(err, errlen, "%s: %s contains a control character", where, k->name);
                return false;
            }
        memcpy(field, value, strlen(value) + 1);
        if (strcmp(k->name, "log_level") == 0 && strcmp(value, "error") && strcmp(value, "warn") &&
            strcmp(value, "info") && strcmp(value, "debug")) {
            snprintf(err, errlen, "%s: log_level must be error, warn, info or debug", where);
            return false;
        }
        return true;
    }
    if (k->kind == K_BOOL) {
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
            snprintf(err, errlen, "%s: %s must be on or off, not \"%s\"", where, k->name, value);
            return false;
        }
        *(bool *)field = strcmp(value, "on") == 0;
        return true;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < k->min || v > k->max) {
        snprintf(err, errlen, "%s: %s must be a whole number from %d to %d, not \"%s\"", where,
                 k->name, k->min, k->max, value);
        return false;
    }
    *(int *)field = (int)v;
    return true;
}

bool config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
    const struct key *k = find_key(key);
    if (!k) {
        snprintf(err, errlen, "unknown setting \"%s\"", key);
        return false;
    }
    return apply(cfg, k, value, "command line", err, errlen);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

bool config_read(struct config *cfg, FILE *f, const char *file, char *err, size_t errlen)
{
    char line[2048], where[600];
    int lineno = 0;

    while (fgets(line, sizeof line, f)) {
        lineno++;
        snprintf(where, sizeof where, "%s:%d", file, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s: line too long", where);
            return false;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s: expected \"key = value\"", where);
            return false;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        const struct key *k = find_key(key);
        if (!k) {
            snprintf(err, errlen, "%s: unknown setting \"%s\"", where, key);
            return false;
        }
        if (!apply(cfg, k, value, where, err, errlen))
            return false;
    }
    return true;
}

static bool load_file(struct config *cfg, const char *file, char *err, size_t errlen)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s: %s", file, strerror(errno));
        return false;
    }
    bool ok = config_read(cfg, f, file, err, errlen);
    fclose(f);
    return ok;
}

bool config_load(struct config *cfg, const char *file, char *err, size_t errlen)
{
    char envname[128];
    if (file && !load_file(cfg, file, err, errlen))
        return false;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t j = 0;
        for (const char *p = keys[i].env; *p && j < sizeof envname - 1; p++)
            envname[j++] = (char)toupper((unsigned char)*p);
        envname[j] = '\0';
        const char *v = getenv(envname);
        if (v && !apply(cfg, &keys[i], v, envname, err, errlen))
            return false;
    }
    return true;
}

bool config_check(const struct config *cfg, char *err, size_t errlen)
{
    /* A cap as high as the thread count would let one address hold every
     * worker: then the cap protects nothing. */
    if (cfg->http_max_connections_per_address >= cfg->http_threads) {
        snprintf(err, errlen,
                 "http_max_connections_per_address (%d) must be less than http_threads (%d), "
                 "or 0 for no cap",
                 cfg->http_max_connections_per_address, cfg->http_threads);
        return false;
    }
    return true;
}

void config_dump(const struct config *cfg)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const struct key *k = &keys[i];
        const char *field = (const char *)cfg + k->offset;
        if (k->kind == K_INT)
            printf("%s = %d\n", k->name, *(const int *)field);
        else if (k->kind == K_BOOL)
            printf("%s = %s\n", k->name, *(const bool *)field ? "on" : "off");
        else if (k->secret && *field)
            printf("%s = (set, hidden)\n", k->name);
        else
            printf("%s = %s\n", k->name, field);
    }
}
