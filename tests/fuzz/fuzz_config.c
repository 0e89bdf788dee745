/*
 * fuzz_config.c — libFuzzer target: the config file parser (config_read in
 * src/core/config.c, what `clinicbox serve --config FILE` reads) and
 * config_set (`--set KEY=VALUE`).
 *
 * Input: the file's bytes, read through fmemopen() as config_load reads the
 * file through fopen(). The first line, split at its first '=', is also
 * handed to config_set as one --set flag.
 *
 * Checks: whatever the file, every text setting stays NUL-terminated inside
 * its buffer and every number setting inside its documented range
 * (docs/config.md); a refusal always comes with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_OK(cfg, f) (memchr((cfg)->f, '\0', sizeof (cfg)->f) != NULL)
#define RANGE_OK(cfg, f, lo, hi) ((cfg)->f >= (lo) && (cfg)->f <= (hi))

static void check(const struct config *c)
{
    if (!TEXT_OK(c, data) || !TEXT_OK(c, listen) || !TEXT_OK(c, timezone) ||
        !TEXT_OK(c, log_level) || !TEXT_OK(c, smtp_url) || !TEXT_OK(c, smtp_user) ||
        !TEXT_OK(c, smtp_password) || !TEXT_OK(c, smtp_from) ||
        !TEXT_OK(c, twilio_account_sid) || !TEXT_OK(c, twilio_auth_token) ||
        !TEXT_OK(c, twilio_from) || !TEXT_OK(c, twilio_base_url) ||
        !TEXT_OK(c, tls_ca_file) || !TEXT_OK(c, public_url) || !TEXT_OK(c, mongo_uri) ||
        !TEXT_OK(c, clinic_id))
        abort();
    if (!RANGE_OK(c, grace_minutes, 0, 1440) || !RANGE_OK(c, http_threads, 4, 512) ||
        !RANGE_OK(c, noshow_interval_seconds, 1, 3600) ||
        !RANGE_OK(c, clock_max_catchup_hours, 1, 8760) ||
        !RANGE_OK(c, outbox_max_attempts, 1, 1000) ||
        !RANGE_OK(c, outbox_max_backoff_seconds, 1, 86400) ||
        !RANGE_OK(c, outbox_timeout_seconds, 1, 600) ||
        !RANGE_OK(c, sync_interval_seconds, 1, 86400))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config cfg;
    char err[1024];

    config_defaults(&cfg);
    if (size > 0) {
        /* fmemopen() on a copy: it may not be handed a const buffer. */
        char *copy = malloc(size);
        memcpy(copy, data, size);
        FILE *f = fmemopen(copy, size, "r");
        if (f) {
            err[0] = '\0';
            if (!config_read(&cfg, f, "fuzz.conf", err, sizeof err) && !err[0])
                abort();
            fclose(f);
        }
        free(copy);
    }
    check(&cfg);

    /* The first line as a --set KEY=VALUE (main.c splits at the first '='). */
    char kv[1024];
    size_t n = 0;
    while (n < size && n < sizeof kv - 1 && data[n] != '\n' && data[n] != '\0') {
        kv[n] = (char)data[n];
        n++;
    }
    kv[n] = '\0';
    char *eq = strchr(kv, '=');
    if (eq) {
        *eq = '\0';
        err[0] = '\0';
        if (!config_set(&cfg, kv, eq + 1, err, sizeof err) && !err[0])
            abort();
        check(&cfg);
    }
    return 0;
}
