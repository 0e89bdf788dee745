/* cli.c — see cli.h. */
#include "auth/cli.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/password.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "service/app.h"

#define PASSWORD_MAX 1024

bool auth_cli_take(int *argc, char **argv, struct auth_cli_opts *o)
{
    static const char *const flags[] = {"--username", "--name", "--role", "--doctor"};
    memset(o, 0, sizeof *o);
    if (*argc > 2 && argv[2][0] != '-') {
        o->action = argv[2];
        memmove(&argv[2], &argv[3], sizeof *argv * (size_t)(*argc - 2));
        (*argc)--;
    }
    for (int i = 2; i < *argc;) {
        int f = -1;
        for (int k = 0; k < 4; k++)
            if (strcmp(argv[i], flags[k]) == 0)
                f = k;
        if (f < 0) {
            i++;
            continue;
        }
        if (i + 1 >= *argc) {
            fprintf(stderr, "clinicbox: %s needs a value\n", flags[f]);
            return false;
        }
        const char **slot[] = {&o->username, &o->name, &o->role, &o->doctor};
        *slot[f] = argv[i + 1];
        memmove(&argv[i], &argv[i + 2], sizeof *argv * (size_t)(*argc - i - 1));
        *argc -= 2;
    }
    return true;
}

/* One line of standard input, without its line end. */
static bool read_line(char *out, size_t len)
{
    if (!fgets(out, (int)len, stdin))
        return false;
    size_t n = strcspn(out, "\r\n");
    if (out[n] == '\0' && n == len - 1) {
        fprintf(stderr, "clinicbox: the password is longer than %zu bytes\n", len - 2);
        return false;
    }
    out[n] = '\0';
    return true;
}

/* Asks on the terminal without echo; from standard input when it is not a
 * terminal (a script: one line). */
static bool ask_password(const char *who, char *out, size_t len)
{
    if (!isatty(STDIN_FILENO))
        return read_line(out, len);
    char again[PASSWORD_MAX + 2];
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return false;
    quiet = old;
    quiet.c_lflag &= (tcflag_t)~ECHO;
    fprintf(stderr, "New password for %s: ", who);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    bool ok = read_line(out, len);
    fprintf(stderr, "\nThe same again: ");
    ok = ok && read_line(again, sizeof again);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fprintf(stderr, "\n");
    if (ok && strcmp(out, again) != 0) {
        fprintf(stderr, "clinicbox: the two passwords differ\n");
        ok = false;
    }
    sodium_memzero(again, sizeof again);
    return ok;
}

static void print_user(const user_rec *u, void *arg)
{
    (void)arg;
    char when[40];
    timefmt_format_rfc3339(u->created_at, 0, true, when, sizeof when);
    printf("%-32s %-10s %-8s %s%s%s\n", u->username, auth_role_name(u->role),
           u->disabled ? "disabled" : "active", when, u->doctor_id[0] ? " doctor " : "",
           u->doctor_id);
}

static void print_token(const token_rec *t, void *arg)
{
    (void)arg;
    char when[40], used[40] = "never";
    timefmt_format_rfc3339(t->created_at, 0, true, when, sizeof when);
    if (t->last_used)
        timefmt_format_rfc3339(t->last_used, 0, true, used, sizeof used);
    printf("%-32s %-10s %-8s made %s, last used %s\n", t->name, auth_role_name(t->role),
           t->revoked_at ? "revoked" : "live", when, used);
}

static int fail(const svc_err *e)
{
    fprintf(stderr, "clinicbox: %s%s%s\n", e->field[0] ? e->field : "", e->field[0] ? ": " : "",
            e->detail);
    return 1;
}

static int need(const char *value, const char *flag, const char *usage)
{
    if (value)
        return 0;
    fprintf(stderr, "clinicbox: %s is needed: %s\n", flag, usage);
    return 2;
}

static int run_user(app_t *app, const struct auth_cli_opts *o, int64_t now)
{
    static const char usage[] =
        "clinicbox user add|passwd|disable|enable --username NAME [--role ROLE] [--doctor ID] "
        "| user list";
    char password[PASSWORD_MAX + 2];
    svc_err e = {0};
    user_rec u;
    unsigned role;
    int rc = 0;
    if (strcmp(o->action, "list") == 0)
        return acct_user_list(app, print_user, NULL, &e) ? fail(&e) : 0;
    if ((rc = need(o->username, "--username", usage)))
        return rc;
    if (strcmp(o->action, "add") == 0) {
        if ((rc = need(o->role, "--role", usage)))
            return rc;
        if (acct_role_check(app, o->role, o->doctor, &role, &e))
            return fail(&e);
        if (!ask_password(o->username, password, sizeof password))
            return 1;
        rc = acct_user_add(app, o->username, role, o->doctor, password, false, now, &u, &e);
        sodium_memzero(password, sizeof password);
        if (rc)
            return fail(&e);
        printf("user %s added (%s)\n", u.username, auth_role_name(u.role));
        return 0;
    }
    struct acct_change ch = {.disabled = -1};
    if (strcmp(o->action, "passwd") == 0) {
        if (!ask_password(o->username, password, sizeof password))
            return 1;
        ch.password = password;
    } else if (strcmp(o->action, "disable") == 0 || strcmp(o->action, "enable") == 0) {
        ch.disabled = o->action[0] == 'd';
    } else {
        fprintf(stderr, "clinicbox: unknown action \"%s\": %s\n", o->action, usage);
        return 2;
    }
    int ended = 0;
    rc = acct_user_change(app, o->username, &ch, now, &u, &ended, &e);
    sodium_memzero(password, sizeof password);
    if (rc)
        return fail(&e);
    printf("user %s: %s; %d session(s) ended\n", u.username,
           ch.password ? "password changed" : u.disabled ? "disabled" : "enabled", ended);
    return 0;
}

static int run_token(app_t *app, const struct auth_cli_opts *o, int64_t now)
{
    static const char usage[] =
        "clinicbox token create --name NAME --role ROLE [--doctor ID] | token revoke --name "
        "NAME | token list";
    char token[API_TOKEN_LEN];
    svc_err e = {0};
    token_rec t;
    unsigned role;
    int rc;
    if (strcmp(o->action, "list") == 0)
        return acct_token_list(app, print_token, NULL, &e) ? fail(&e) : 0;
    if ((rc = need(o->name, "--name", usage)))
        return rc;
    if (strcmp(o->action, "create") == 0) {
        if ((rc = need(o->role, "--role", usage)))
            return rc;
        if (acct_role_check(app, o->role, o->doctor, &role, &e) ||
            acct_token_create(app, o->name, role, o->doctor, now, token, &t, &e))
            return fail(&e);
        /* The secret, once, as the last word of the output. */
        printf("API token %s (%s), shown only now: %s\n", t.name, auth_role_name(t.role), token);
        sodium_memzero(token, sizeof token);
        return 0;
    }
    if (strcmp(o->action, "revoke") == 0) {
        if (acct_token_revoke(app, o->name, now, &e))
            return fail(&e);
        printf("API token %s revoked\n", o->name);
        return 0;
    }
    fprintf(stderr, "clinicbox: unknown action \"%s\": %s\n", o->action, usage);
    return 2;
}

int auth_cli_run(const struct config *cfg, const char *cmd, const struct auth_cli_opts *o)
{
    static app_t app;
    char err[700];
    if (!o->action) {
        fprintf(stderr, "clinicbox: %s needs an action (see clinicbox --help)\n", cmd);
        return 2;
    }
    if (!pw_init(PW_DEFAULT_CONCURRENT, PW_DEFAULT_WAIT_MS)) {
        fprintf(stderr, "clinicbox: cannot set up password hashing\n");
        return 1;
    }
    int64_t now = app_now();
    if (!app_open(&app, cfg, now, err, sizeof err)) {
        fprintf(stderr, "clinicbox: %s\n", err);
        return 1;
    }
    int rc = strcmp(cmd, "user") == 0 ? run_user(&app, o, now) : run_token(&app, o, now);
    app_close(&app);
    tz_cache_clear();
    return rc;
}
