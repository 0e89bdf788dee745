/*
 * config.h — clinicbox settings (see docs/config.md).
 *
 * Precedence, lowest first: built-in defaults, the config file ("key = value"
 * lines, '#' comments), CLINICBOX_* environment variables, command-line flags.
 * Unknown keys and bad values are errors that name the key. Secrets are kept
 * here but never printed (config_dump masks them).
 */
#ifndef CLINICBOX_CONFIG_H
#define CLINICBOX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct config {
    char data[512];
    char listen[128];
    int grace_minutes;
    char timezone[64];
    int http_threads;
    int http_keep_alive_ms;
    int http_max_connections_per_address; /* 0: no cap */
    int noshow_interval_seconds;
    int clock_max_catchup_hours;
    char log_level[8];
    char smtp_url[512], smtp_user[256], smtp_password[256], smtp_from[256];
    char twilio_account_sid[128], twilio_auth_token[128], twilio_from[64];
    char twilio_base_url[512];
    char tls_ca_file[512];
    bool tls;                      /* serve HTTPS (docs/security.md, TLS) */
    char tls_cert[512], tls_key[512];
    char tls_redirect_listen[128];
    int outbox_max_attempts, outbox_max_backoff_seconds, outbox_timeout_seconds;
    char public_url[512];
    char mongo_uri[1024];
    char clinic_id[64];
    int sync_interval_seconds;
    bool sync_indexes; /* create the central indexes (docs/sync.md, "Indexes") */
    char hostnames[1024]; /* more names the box answers to, comma-separated */
    char web_dir[512];
    char backup_dir[512]; /* the nightly backup's folder ("": off) */
    int backup_keep, backup_hour;
};

/* Fills cfg with the defaults. */
void config_defaults(struct config *cfg);

/* Applies a config file, then the environment. Returns false and writes a
 * message naming the file, line and key into err on the first problem. */
bool config_load(struct config *cfg, const char *file, char *err, size_t errlen);

/* Applies the "key = value" lines read from f (config_load's file part;
 * `file` only names it in messages). Same results and messages. */
bool config_read(struct config *cfg, FILE *f, const char *file, char *err, size_t errlen);

/* Sets one key (as from a command-line flag). Same validation as the file. */
bool config_set(struct config *cfg, const char *key, const char *value, char *err,
                size_t errlen);

/* Checks the rules between settings (a per-address connection cap below
 * http_threads). Returns false with a message naming the keys. */
bool config_check(const struct config *cfg, char *err, size_t errlen);

/* Writes every setting as "key = value" with secrets masked, to stdout. */
void config_dump(const struct config *cfg);

#endif
