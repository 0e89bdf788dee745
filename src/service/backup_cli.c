/*
 * backup_cli.c — see backup_cli.h. What each command prints is what an
 * operator needs to trust the file: where it went, that integrity_check
 * passed, and what it holds.
 */
#include "service/backup_cli.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/timefmt.h"
#include "store/backup.h"
#include "store/datalock.h"

bool backup_cli_take(int *argc, char **argv, struct backup_cli_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 2; i < *argc;) {
        const char **slot = strcmp(argv[i], "--to") == 0     ? &o->to
                            : strcmp(argv[i], "--from") == 0 ? &o->from
                                                             : NULL;
        if (!slot) {
            i++;
            continue;
        }
        if (i + 1 >= *argc) {
            fprintf(stderr, "clinicbox: %s needs a value\n", argv[i]);
            return false;
        }
        *slot = argv[i + 1];
        memmove(&argv[i], &argv[i + 2], sizeof *argv * (size_t)(*argc - i - 1));
        *argc -= 2;
    }
    return true;
}

static void print_summary(const backup_summary *s)
{
    char line[900], when[40];
    backup_describe(s, line, sizeof line);
    printf("holds: %s\n", line);
    if (s->newest_change > 0) {
        timefmt_format_rfc3339(s->newest_change, 0, true, when, sizeof when);
        printf("newest appointment change: %s\n", when);
    }
}

static int run_backup(const struct config *cfg, const char *to)
{
    char db[700], dest[1100], err[1500], when[40];
    struct stat st;
    backup_summary s;
    int64_t now = (int64_t)time(NULL);
    snprintf(db, sizeof db, "%s/clinicbox.db", cfg->data);
    if (stat(to, &st) == 0 && S_ISDIR(st.st_mode))
        backup_file_name(to, now, dest, sizeof dest);
    else
        snprintf(dest, sizeof dest, "%s", to);
    if (!backup_make(db, dest, now, &s, err, sizeof err)) {
        fprintf(stderr, "clinicbox: backup failed: %s\n", err);
        return 1;
    }
    timefmt_format_rfc3339(now, 0, true, when, sizeof when);
    printf("backup of %s written to %s (%lld bytes) as of %s; integrity_check ok\n", db, dest,
           s.bytes, when);
    print_summary(&s);
    return 0;
}

static int run_restore(const struct config *cfg, const char *from)
{
    char err[1500], kept[900], when[40];
    backup_summary s;
    long long held = 0;
    datalock_t *lock = datalock_take(cfg->data, "restore", NULL, err, sizeof err);
    if (!lock) {
        fprintf(stderr, "clinicbox: restore refused: %s; the data directory is unchanged\n", err);
        return 1;
    }
    int64_t now = (int64_t)time(NULL);
    bool ok = backup_restore(cfg->data, from, now, &s, &held, kept, sizeof kept, err, sizeof err);
    datalock_release(lock);
    if (!ok) {
        fprintf(stderr, "clinicbox: restore refused: %s; the data directory is unchanged\n", err);
        return 1;
    }
    if (s.taken_at > 0)
        timefmt_format_rfc3339(s.taken_at, 0, true, when, sizeof when);
    else
        snprintf(when, sizeof when, "an unknown time");
    printf("restored %s (backup taken at %s) into %s/clinicbox.db; integrity_check ok\n", from,
           when, cfg->data);
    print_summary(&s);
    if (kept[0])
        printf("the database it replaced is kept as %s\n", kept);
    printf("%lld message(s) that were waiting are held (Messages, state dead): the old box "
           "may have sent them after the backup\n",
           held);
    printf("sessions ended; the box takes a new sync id at its next round, so changes made "
           "after the backup come back from central (docs/backup.md)\n");
    return 0;
}

int backup_cli_run(const struct config *cfg, const char *cmd, const struct backup_cli_opts *o)
{
    if (strcmp(cmd, "backup") == 0) {
        if (!o->to || o->from) {
            fprintf(stderr, "clinicbox: usage: clinicbox backup --data DIR --to FILE|FOLDER\n");
            return 2;
        }
        return run_backup(cfg, o->to);
    }
    if (!o->from || o->to) {
        fprintf(stderr, "clinicbox: usage: clinicbox restore --data DIR --from FILE\n");
        return 2;
    }
    return run_restore(cfg, o->from);
}
