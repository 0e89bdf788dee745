/*
 * log.c — see log.h. No locks: a single write(2) of a whole line is atomic
 * enough for stderr pipes (lines are capped below PIPE_BUF).
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_min = LOG_INFO;
static int log_journal;

void log_init(enum log_level min_level)
{
    log_min = min_level;
    log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
    static const char *names[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};
    static const int prio[] = {3, 4, 6, 7};
    char line[4000];
    size_t n = 0;
    va_list ap;

    if (level > log_min)
        return;
    if (log_journal) {
        n = (size_t)snprintf(line, sizeof line, "<%d>%s: ", prio[level], component);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
        n += (size_t)snprintf(line + n, sizeof line - n, "%s %s: ", names[level], component);
    }
    va_start(ap, fmt);
    int w = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (w < 0)
        w = 0;
    n += (size_t)w;
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    for (size_t i = 0; i < n; i++) /* one event, one line */
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    ssize_t r = write(STDERR_FILENO, line, n);
    (void)r;
}
