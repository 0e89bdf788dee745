/*
 * log.h — leveled logging to stderr for people and journald.
 *
 * One line per event: "2026-11-24T01:02:03Z INFO  http: message". When stderr
 * is connected to journald (JOURNAL_STREAM is set) each line starts with the
 * syslog priority prefix "<6>" instead, because journald adds its own time
 * stamp. Thread-safe: each line is written with one write(2).
 */
#ifndef CLINICBOX_LOG_H
#define CLINICBOX_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_init(enum log_level min_level);
void log_msg(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(comp, ...) log_msg(LOG_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...) log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) log_msg(LOG_DEBUG, comp, __VA_ARGS__)

#endif
